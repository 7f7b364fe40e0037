//! Keeps the in-memory graph in step with the event log: every serving process (and every
//! replica) starts from the newest usable snapshot, replays the log's tail, then applies
//! committed events in sequence order as it tails the log, so writes from this process,
//! another process, or a mutation all reach the graph the same way.
//!
//! The log is ordered by commit (see the store's `events.rs`): a number missing below a
//! visible one is never coming, so a tailer applies what it reads and never waits on a hole.

use crate::SharedCatalog;
use catalog_core::{Catalog, RecordedEvent};
use catalog_schema::{RawEvent, SnapshotMeta, Store, StoreResult};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

/// Events per read while tailing: an SBOM event is ~100 KB, so a page stays near 100 MB.
const PAGE: i64 = 1000;
/// Events per read during a replay: smaller, since pages are parsed ahead of the fold and
/// two are in flight.
const REPLAY_PAGE: i64 = 256;

pub struct GraphSync {
    store: Store,
    catalog: SharedCatalog,
    /// Cluster environments from configuration, given again to a restored catalog.
    environments: HashMap<String, String>,
    /// Serialises appliers.
    tail: Mutex<()>,
    /// Set while a snapshot is taken: appliers then leave the tail in the log rather than
    /// wait for the write lock (a waiting writer holds up every reader queued behind it, and
    /// queries must not stall for a snapshot). The snapshotter catches up when done.
    frozen: AtomicBool,
    /// Batches this process committed, waiting for the tailer to apply them (so a hook's
    /// group commit or the worker never waits for a graph lock), and its wake-up.
    pending: Mutex<Vec<Vec<RecordedEvent>>>,
    submitted: Condvar,
    changes: broadcast::Sender<Arc<[RecordedEvent]>>,
}

/// How a start-up brought the graph up to date.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    /// The snapshot it started from, and how long reading and decoding it took.
    pub snapshot: Option<(SnapshotMeta, Duration)>,
    /// Snapshots that could not be used, each with why (newest first).
    pub rejected: Vec<String>,
    /// Events replayed after the snapshot (all of them without one).
    pub replayed: usize,
}

impl GraphSync {
    pub fn new(store: Store, catalog: SharedCatalog) -> GraphSync {
        GraphSync::with_environments(store, catalog, HashMap::new())
    }

    /// With the configured cluster environments (`--cluster-environment`).
    pub fn with_environments(
        store: Store,
        catalog: SharedCatalog,
        environments: HashMap<String, String>,
    ) -> GraphSync {
        if let Ok(mut c) = catalog.write() {
            c.set_cluster_environments(environments.clone());
        }
        let (changes, _) = broadcast::channel(1024);
        GraphSync {
            store,
            catalog,
            environments,
            tail: Mutex::new(()),
            frozen: AtomicBool::new(false),
            pending: Mutex::new(Vec::new()),
            submitted: Condvar::new(),
            changes,
        }
    }

    pub fn catalog(&self) -> &SharedCatalog {
        &self.catalog
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Receives the events that reached the graph, batch by batch, once they are visible to
    /// readers (live dashboards subscribe through GraphQL). A slow receiver skips batches
    /// (`Lagged`) rather than holding anything up.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<[RecordedEvent]>> {
        self.changes.subscribe()
    }

    fn publish(&self, events: &[RecordedEvent]) {
        if !events.is_empty() && self.changes.receiver_count() > 0 {
            let _ = self.changes.send(Arc::from(events.to_vec()));
        }
    }

    pub fn last_seq(&self) -> i64 {
        self.catalog.read().map(|c| c.last_seq()).unwrap_or(0)
    }

    /// Start-up: the newest snapshot that decodes (a damaged, truncated or foreign one is
    /// logged and skipped), then the log after it. Blocking.
    pub fn load(&self) -> StoreResult<LoadReport> {
        let mut report = LoadReport::default();
        for meta in self.store.snapshots()? {
            let t = Instant::now();
            let restored = self
                .store
                .snapshot_read(&meta)
                .map_err(|e| e.to_string())
                .and_then(|bytes| Catalog::from_snapshot(&bytes).map_err(|e| e.to_string()));
            match restored {
                Ok(mut c) => {
                    c.set_cluster_environments(self.environments.clone());
                    if let Ok(mut g) = self.catalog.write() {
                        *g = c;
                    }
                    report.snapshot = Some((meta, t.elapsed()));
                    break;
                }
                Err(why) => {
                    tracing::warn!(snapshot = meta.id, seq = meta.seq, error = %why, "graph snapshot unusable; trying an older one, else replaying the log");
                    report
                        .rejected
                        .push(format!("snapshot {} (seq {}): {why}", meta.id, meta.seq));
                }
            }
        }
        report.replayed = self.replay()?;
        Ok(report)
    }

    /// Applies everything after the graph's position, reading and parsing pages on another
    /// thread while this one folds (the two halves of a replay take about as long as each
    /// other, and this machine has two cores). Blocking.
    pub fn replay(&self) -> StoreResult<usize> {
        let Ok(_tail) = self.tail.lock() else {
            return Ok(0);
        };
        let (tx, rx) = std::sync::mpsc::sync_channel::<StoreResult<Vec<RecordedEvent>>>(2);
        let store = self.store.clone();
        let mut after = self.last_seq();
        let reader = std::thread::Builder::new()
            .name("replay-reader".into())
            .spawn(move || loop {
                let page = store.events_raw(REPLAY_PAGE, after).and_then(|raw| {
                    if let Some(last) = raw.last() {
                        after = last.seq;
                    }
                    raw.into_iter()
                        .map(RawEvent::parse)
                        .collect::<StoreResult<Vec<_>>>()
                });
                let done = matches!(&page, Ok(p) if p.is_empty()) || page.is_err();
                if tx.send(page).is_err() || done {
                    break;
                }
            })
            .map_err(|e| {
                catalog_schema::StoreError::Connect(format!("cannot start a reader: {e}"))
            })?;
        let mut applied = 0;
        let mut failed = None;
        for page in rx {
            match page {
                Ok(page) if page.is_empty() => break,
                Ok(page) => {
                    if let Ok(mut c) = self.catalog.write() {
                        c.apply_all(&page);
                    }
                    self.publish(&page);
                    applied += page.len();
                }
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        let _ = reader.join();
        match failed {
            Some(e) => Err(e),
            None => Ok(applied),
        }
    }

    /// Hands events this process just committed to the tailer, which applies them without
    /// reading them back (see [`GraphSync::apply_recorded`]). Never blocks on the graph.
    pub fn submit(&self, recorded: Vec<RecordedEvent>) {
        if recorded.is_empty() {
            return;
        }
        if let Ok(mut p) = self.pending.lock() {
            p.push(recorded);
            self.submitted.notify_one();
        }
    }

    /// Are submitted events waiting?
    pub fn has_pending(&self) -> bool {
        self.pending.lock().map(|p| !p.is_empty()).unwrap_or(false)
    }

    /// Waits up to `timeout` for submitted events.
    pub fn wait_pending(&self, timeout: Duration) {
        if let Ok(p) = self.pending.lock() {
            if p.is_empty() {
                let _ = self.submitted.wait_timeout(p, timeout);
            }
        }
    }

    /// Applies every submitted batch; returns how many events reached the graph. Blocking.
    pub fn drain(&self) -> StoreResult<usize> {
        let batches = match self.pending.lock() {
            Ok(mut p) => std::mem::take(&mut *p),
            Err(_) => return Ok(0),
        };
        let mut n = 0;
        for b in batches {
            n += self.apply_recorded(&b)?;
        }
        Ok(n)
    }

    /// Applies events this process just committed, without reading them back, when they
    /// continue the graph's sequence exactly; otherwise (another writer got in between, or a
    /// replay burned a number) falls back to [`GraphSync::sync`]. Blocking.
    pub fn apply_recorded(&self, recorded: &[RecordedEvent]) -> StoreResult<usize> {
        if recorded.is_empty() || self.frozen.load(Ordering::Acquire) {
            return Ok(0);
        }
        {
            let Ok(_tail) = self.tail.lock() else {
                return Ok(0);
            };
            if let Ok(mut c) = self.catalog.write() {
                let contiguous = recorded
                    .iter()
                    .enumerate()
                    .all(|(i, e)| e.seq == c.last_seq() + 1 + i as i64);
                if contiguous {
                    c.apply_all(recorded);
                    drop(c);
                    self.publish(recorded);
                    return Ok(recorded.len());
                }
            }
        }
        self.sync()
    }

    /// Applies every committed event the graph has not seen; returns how many. Blocking.
    pub fn sync(&self) -> StoreResult<usize> {
        if self.frozen.load(Ordering::Acquire) {
            return Ok(0);
        }
        let Ok(_tail) = self.tail.lock() else {
            return Ok(0);
        };
        let mut applied = 0;
        loop {
            let page = self.store.events_page(PAGE, self.last_seq(), None)?;
            if page.is_empty() {
                break;
            }
            if let Ok(mut c) = self.catalog.write() {
                c.apply_all(&page);
            }
            self.publish(&page);
            applied += page.len();
            if (page.len() as i64) < PAGE {
                break;
            }
        }
        Ok(applied)
    }

    /// Runs `f` on the graph as of one log position, with appliers held off (they leave the
    /// tail in the log) so no writer queues for the lock while `f` reads; then catches up.
    pub fn frozen<R>(&self, f: impl FnOnce(&Catalog) -> R) -> Option<R> {
        let out = {
            let _tail = self.tail.lock().ok()?;
            self.frozen.store(true, Ordering::Release);
            let c = self.catalog.read().ok();
            c.map(|c| f(&c))
        };
        self.frozen.store(false, Ordering::Release);
        if let Err(e) = self.sync() {
            tracing::warn!(error = %e, "catching up after a snapshot failed; the tailer retries");
        }
        out
    }
}
