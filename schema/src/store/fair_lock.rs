//! A first-come, first-served lock for SQLite writes.
//!
//! SQLite has one write lock per file. Left to itself, a writer that finds it taken sleeps in
//! the busy handler (up to 100 ms a nap), and a busy worker re-takes the lock between batches
//! before the sleeper wakes: webhook acknowledgements stalled for seconds behind the worker.
//! Queueing writers here, in arrival order, makes SQLite's lock uncontended.

use std::sync::{Condvar, Mutex};

#[derive(Debug, Default)]
pub struct FairLock {
    /// (next ticket to hand out, ticket being served)
    state: Mutex<(u64, u64)>,
    turn: Condvar,
}

pub struct FairGuard<'a> {
    lock: &'a FairLock,
}

impl FairLock {
    pub fn lock(&self) -> FairGuard<'_> {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let ticket = s.0;
        s.0 += 1;
        while s.1 != ticket {
            s = self.turn.wait(s).unwrap_or_else(|p| p.into_inner());
        }
        FairGuard { lock: self }
    }
}

impl Drop for FairGuard<'_> {
    fn drop(&mut self) {
        let mut s = self.lock.state.lock().unwrap_or_else(|p| p.into_inner());
        s.1 += 1;
        drop(s);
        self.lock.turn.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn serves_in_arrival_order_and_excludes() {
        let lock = Arc::new(FairLock::default());
        let order = Arc::new(Mutex::new(Vec::new()));
        let first = lock.lock();
        let mut threads = Vec::new();
        for i in 0..4 {
            let (l, order) = (lock.clone(), order.clone());
            threads.push(std::thread::spawn(move || {
                let _g = l.lock();
                order.lock().unwrap().push(i);
            }));
            // Let thread i take its ticket before thread i+1 starts.
            while lock.state.lock().unwrap().0 < i as u64 + 2 {
                std::thread::yield_now();
            }
        }
        assert!(
            order.lock().unwrap().is_empty(),
            "nobody runs while the lock is held"
        );
        drop(first);
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3]);
    }
}
