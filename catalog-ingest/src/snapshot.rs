//! Writes graph snapshots in the background, every N events and/or T minutes, so a start-up
//! (or a new replica) loads one and replays only the log's tail.
//!
//! The graph is encoded while appliers are held off (queries keep reading; the worker keeps
//! recording into the log, whose tail the graph applies as soon as the encoding is done),
//! then written to the store part by part. Hooks never wait for any of it. Where several
//! writable replicas share a PostgreSQL database, the store lets one write at a time and
//! each skips a snapshot another has just written.

use crate::metrics::Metrics;
use crate::sync::GraphSync;
use catalog_schema::{SnapshotMeta, SnapshotWrite, Store};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// When to write a snapshot. Zero disables a trigger; both zero disables snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotPolicy {
    /// After this many events past the newest snapshot.
    pub every_events: i64,
    /// After this long, when any event arrived since the newest snapshot.
    pub every: Duration,
}

impl SnapshotPolicy {
    pub fn enabled(&self) -> bool {
        self.every_events > 0 || !self.every.is_zero()
    }
}

/// The newest snapshot this process knows of.
#[derive(Debug, Clone, Copy)]
struct Newest {
    seq: i64,
    /// When it was written, or when this process started without one.
    at: Instant,
}

pub struct Snapshotter {
    store: Store,
    sync: Arc<GraphSync>,
    metrics: Arc<Metrics>,
    policy: SnapshotPolicy,
    newest: Mutex<Newest>,
}

/// A written snapshot and what it cost.
#[derive(Debug, Clone)]
pub struct Written {
    pub meta: SnapshotMeta,
    /// Encoding the graph (appliers held off meanwhile).
    pub encode: Duration,
    /// Writing it to the store.
    pub store: Duration,
}

impl Snapshotter {
    /// `loaded` is the snapshot this process started from (`None`: it replayed the whole log,
    /// so the newest snapshot in the store, if any, was unusable, and a new one is due as soon
    /// as the policy says so).
    pub fn new(
        store: Store,
        sync: Arc<GraphSync>,
        metrics: Arc<Metrics>,
        policy: SnapshotPolicy,
        loaded: Option<&SnapshotMeta>,
    ) -> Snapshotter {
        let now = Instant::now();
        let newest = match loaded {
            Some(m) => {
                let age = (chrono::Utc::now() - m.created_at)
                    .to_std()
                    .unwrap_or_default();
                Newest {
                    seq: m.seq,
                    at: now.checked_sub(age).unwrap_or(now),
                }
            }
            None => Newest { seq: 0, at: now },
        };
        Snapshotter {
            store,
            sync,
            metrics,
            policy,
            newest: Mutex::new(newest),
        }
    }

    fn newest(&self) -> Newest {
        self.newest.lock().map(|n| *n).unwrap_or(Newest {
            seq: 0,
            at: Instant::now(),
        })
    }

    fn set_newest(&self, seq: i64) {
        if let Ok(mut n) = self.newest.lock() {
            *n = Newest {
                seq,
                at: Instant::now(),
            };
        }
    }

    /// Is a snapshot due by the policy?
    pub fn due(&self) -> bool {
        let n = self.newest();
        let behind = self.sync.last_seq() - n.seq;
        behind > 0
            && ((self.policy.every_events > 0 && behind >= self.policy.every_events)
                || (!self.policy.every.is_zero() && n.at.elapsed() >= self.policy.every))
    }

    /// Writes a snapshot of the graph now (unless the store's newest already covers it, or
    /// another replica is writing one). Blocking.
    pub fn write(&self) -> anyhow::Result<Option<Written>> {
        // Another replica may have written one since we last looked (one written before this
        // process started, and newer than what it loaded, did not load: it does not count).
        if let Some(m) = self.store.snapshots()?.first() {
            let since_start = self.newest().at.elapsed();
            let age = (chrono::Utc::now() - m.created_at)
                .to_std()
                .unwrap_or_default();
            if m.seq > self.newest().seq && age < since_start {
                self.set_newest(m.seq);
            }
        }
        if self.sync.last_seq() <= self.newest().seq {
            return Ok(None);
        }
        let t = Instant::now();
        let encoded = self
            .sync
            .frozen(|c| c.snapshot().map(|bytes| (c.last_seq(), bytes)))
            .ok_or_else(|| anyhow::anyhow!("the graph lock is poisoned"))??;
        let (seq, bytes) = encoded;
        let encode = t.elapsed();
        tracing::info!(seq, bytes = bytes.len(), encode = ?encode, "writing a graph snapshot");
        let t = Instant::now();
        let written = self.store.snapshot_write(seq, &bytes)?;
        let store_took = t.elapsed();
        drop(bytes);
        match written {
            SnapshotWrite::Busy => {
                tracing::info!("another replica is writing a graph snapshot; skipping this one");
                // Its snapshot will be newer than ours: look again next time.
                self.set_newest(seq);
                Ok(None)
            }
            SnapshotWrite::Written(meta) => {
                self.set_newest(meta.seq);
                self.metrics
                    .snapshots_written
                    .fetch_add(1, Ordering::Relaxed);
                self.metrics
                    .snapshot_seq
                    .store(meta.seq.max(0) as u64, Ordering::Relaxed);
                self.metrics
                    .snapshot_bytes
                    .store(meta.bytes.max(0) as u64, Ordering::Relaxed);
                self.metrics
                    .snapshot_write_micros
                    .store((encode + store_took).as_micros() as u64, Ordering::Relaxed);
                tracing::info!(
                    seq = meta.seq,
                    bytes = meta.bytes,
                    encode = ?encode,
                    store = ?store_took,
                    "graph snapshot written"
                );
                Ok(Some(Written {
                    meta,
                    encode,
                    store: store_took,
                }))
            }
        }
    }

    /// Checks the policy every few seconds and writes when due, until the task is dropped.
    pub async fn run(self: Arc<Self>) {
        if !self.policy.enabled() {
            return;
        }
        // Checking costs two integer reads; writing is what the policy bounds.
        let check = if self.policy.every.is_zero() {
            Duration::from_secs(1)
        } else {
            self.policy.every.min(Duration::from_secs(1))
        };
        loop {
            tokio::time::sleep(check).await;
            if !self.due() {
                continue;
            }
            let me = self.clone();
            match tokio::task::spawn_blocking(move || me.write()).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "graph snapshot failed; the previous one stands")
                }
                Err(e) => tracing::error!(error = %e, "graph snapshot task failed"),
            }
        }
    }
}
