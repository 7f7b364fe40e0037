//! Tails the event log in every serving process, worker or not, so each replica sees every
//! commit: on a PostgreSQL primary a commit wakes it (`LISTEN`/`NOTIFY`), with a slow poll
//! as the fallback; on a hot standby (which refuses `LISTEN`) and on SQLite it polls. What
//! this process commits itself (hooks, the worker) is handed over in memory and applied at
//! once, without reading it back.
//!
//! One thread of its own: the waits and reads are blocking, and a graph fold must not take
//! an async worker thread from request handling.

use crate::sync::GraphSync;
use catalog_schema::{EventListener, Store};
use std::sync::Arc;
use std::time::Duration;

/// How often a tailer that cannot be woken by commits reads the log (a hot standby).
pub const STANDBY_POLL: Duration = Duration::from_millis(100);
/// How often a tailer that can be woken reads the log anyway, in case a notification was
/// lost with a broken connection.
pub const FALLBACK_POLL: Duration = Duration::from_secs(1);

/// Starts the tailer thread. `poll` overrides the default interval of the mode it finds.
pub fn spawn(sync: Arc<GraphSync>, poll: Option<Duration>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("log-tailer".into())
        .spawn(move || run(&sync, poll))
        .map(|_| ())
}

fn listener(store: &Store) -> Option<EventListener> {
    match store.listen() {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(error = %e, "cannot LISTEN for commits; polling the log instead");
            None
        }
    }
}

fn run(sync: &GraphSync, poll: Option<Duration>) {
    let store = sync.store().clone();
    let mut listen = listener(&store);
    let standby = store.in_recovery().unwrap_or(false);
    let mode = match (&listen, standby) {
        (Some(_), _) => "woken by commits (LISTEN)",
        (None, true) => "polling a hot standby",
        (None, false) => "polling",
    };
    tracing::info!(mode, "tailing the event log");
    loop {
        let interval = poll.unwrap_or(match (&listen, standby) {
            (Some(_), _) => FALLBACK_POLL,
            (None, true) => STANDBY_POLL,
            (None, false) => FALLBACK_POLL,
        });
        match listen.as_mut() {
            Some(l) => {
                if let Err(e) = l.wait(interval, || sync.has_pending()) {
                    tracing::warn!(error = %e, "the commit listener's connection broke; reconnecting");
                    std::thread::sleep(Duration::from_secs(1));
                    listen = listener(&store);
                }
            }
            None => sync.wait_pending(interval),
        }
        if let Err(e) = sync.drain() {
            tracing::warn!(error = %e, "applying this process's own commits failed; reading the log");
        }
        if let Err(e) = sync.sync() {
            tracing::warn!(error = %e, "reading the event log failed; retrying");
        }
    }
}
