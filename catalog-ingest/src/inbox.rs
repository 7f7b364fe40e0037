//! The intake writers: group commit of everything the hooks accepted.
//!
//! Hooks hand their validated items here and wait; a writer drains whatever is queued and
//! commits it all in one transaction (one fsync for many requests), then answers each. A 2xx
//! therefore always means "on disk". What still needs a registry (pushes, deletes) goes to
//! the inbox for a worker; what is complete at intake (deployments, SBOMs, descriptors,
//! advisories) is appended to the event log and handed to this process's graph: a worker would
//! only have copied it over, writing it a second time.
//!
//! Two writers, so that a registry's acknowledgement never waits for the log: one commits
//! requests of inbox items only (on SQLite to the inbox's own file, its own write lock), the
//! other requests with events for the log (which share the log's lock with the worker).

use crate::item::InboxBody;
use crate::metrics::Metrics;
use crate::sync::GraphSync;
use catalog_core::event::NewEvent;
use catalog_schema::{to_micros, NewInboxItem, Store};
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use tokio::sync::{mpsc, oneshot, Notify};

struct Request {
    items: Vec<NewInboxItem>,
    events: Vec<NewEvent>,
    done: oneshot::Sender<Result<(), String>>,
}

#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    #[error("the inbox is not accepting writes (shutting down)")]
    Closed,
    #[error("the inbox write failed: {0}")]
    Write(String),
    #[error("cannot encode an inbox item: {0}")]
    Encode(String),
}

#[derive(Clone)]
pub struct InboxWriter {
    /// Requests of inbox items only (registry notifications): their own writer, since on
    /// SQLite the inbox is a file of its own and needs no turn at the log's write lock.
    items: mpsc::Sender<Request>,
    /// Requests with events for the log (deployments, SBOMs, imports).
    log: mpsc::Sender<Request>,
    /// This process's graph, once it has one: what the writer appends to the log goes there.
    graph: Arc<OnceLock<Arc<GraphSync>>>,
}

/// Upper bound of items in one commit.
const MAX_BATCH_ITEMS: usize = 4096;
/// The most items and events one request puts in one commit (larger ones go in parts).
const MAX_PART: usize = 100;

impl InboxWriter {
    /// Starts the writer threads. `wake` is notified after a commit that added inbox items
    /// (the worker waits on it).
    pub fn start(store: Store, wake: Arc<Notify>, metrics: Arc<Metrics>) -> InboxWriter {
        let graph: Arc<OnceLock<Arc<GraphSync>>> = Arc::default();
        let spawn = |name: &str| {
            let (tx, rx) = mpsc::channel::<Request>(8192);
            let (store, wake, metrics, sink) =
                (store.clone(), wake.clone(), metrics.clone(), graph.clone());
            std::thread::Builder::new()
                .name(name.into())
                .spawn(move || write(rx, &store, &metrics, &sink, &wake))
                .map(|_| ())
                .unwrap_or_else(
                    |e| tracing::error!(error = %e, name, "cannot start an inbox writer"),
                );
            tx
        };
        let items = spawn("inbox-writer");
        let log = spawn("intake-log-writer");
        InboxWriter { items, log, graph }
    }

    /// Gives the writer this process's graph: events it appends are applied there at once
    /// (another process's graph sees them through the log).
    pub fn attach(&self, graph: Arc<GraphSync>) {
        let _ = self.graph.set(graph);
    }

    /// Commits items durably (to the inbox, or as events when complete); returns when they
    /// are on disk.
    pub async fn append(&self, source: &str, bodies: &[InboxBody]) -> Result<(), InboxError> {
        if bodies.is_empty() {
            return Ok(());
        }
        let now = to_micros(chrono::Utc::now());
        let mut items = Vec::new();
        let mut events = Vec::new();
        for b in bodies {
            match b {
                InboxBody::Record(r) => events.push(r.clone().into_event()),
                other => items.push(NewInboxItem {
                    source: source.to_string(),
                    body: serde_json::to_string(other)
                        .map_err(|e| InboxError::Encode(e.to_string()))?,
                    received_at: now,
                    next_attempt_at: now,
                }),
            }
        }
        // A large request (a Backstage catalog, a Kubernetes snapshot) goes in parts, each
        // committed before the next is queued: other hooks' requests join the commit after
        // the current part, so their acknowledgement waits for one part, never a whole import.
        // The caller is answered after the last part. Should the process die between parts, a
        // prefix is on disk; the unacknowledged request is retried and its keys make that
        // idempotent.
        let mut items = items.into_iter().peekable();
        let mut events = events.into_iter().peekable();
        while items.peek().is_some() || events.peek().is_some() {
            let part_items: Vec<NewInboxItem> = items.by_ref().take(MAX_PART).collect();
            let part_events: Vec<NewEvent> =
                events.by_ref().take(MAX_PART - part_items.len()).collect();
            self.commit(part_items, part_events).await?;
        }
        Ok(())
    }

    async fn commit(
        &self,
        items: Vec<NewInboxItem>,
        events: Vec<NewEvent>,
    ) -> Result<(), InboxError> {
        let (done, wait) = oneshot::channel();
        let queue = if events.is_empty() {
            &self.items
        } else {
            &self.log
        };
        queue
            .send(Request {
                items,
                events,
                done,
            })
            .await
            .map_err(|_| InboxError::Closed)?;
        wait.await
            .map_err(|_| InboxError::Closed)?
            .map_err(InboxError::Write)
    }
}

/// A writer thread: drains what queued, commits it as one group, answers, repeats.
fn write(
    mut rx: mpsc::Receiver<Request>,
    store: &Store,
    metrics: &Metrics,
    sink: &OnceLock<Arc<GraphSync>>,
    wake: &Notify,
) {
    while let Some(first) = rx.blocking_recv() {
        let mut batch = vec![first];
        let mut n = batch[0].items.len() + batch[0].events.len();
        while n < MAX_BATCH_ITEMS {
            match rx.try_recv() {
                Ok(r) => {
                    n += r.items.len() + r.events.len();
                    batch.push(r);
                }
                Err(_) => break,
            }
        }
        // Parts of a large request commit after everything small that queued with them: a
        // notification's ack never waits for an import's part.
        let (small, large): (Vec<Request>, Vec<Request>) = batch
            .into_iter()
            .partition(|r| r.items.len() + r.events.len() < MAX_PART);
        for group in [small, large] {
            if !group.is_empty() {
                commit(store, metrics, sink, wake, group);
            }
        }
    }
}

/// One group commit: the requests' items and events in one transaction, then each answered.
fn commit(
    store: &Store,
    metrics: &Metrics,
    sink: &OnceLock<Arc<GraphSync>>,
    wake: &Notify,
    batch: Vec<Request>,
) {
    let items: Vec<NewInboxItem> = batch.iter().flat_map(|r| r.items.iter().cloned()).collect();
    let events: Vec<NewEvent> = batch
        .iter()
        .flat_map(|r| r.events.iter().cloned())
        .collect();
    let result = store.intake(&items, &events).map_err(|e| e.to_string());
    metrics.inbox_commits.fetch_add(1, Ordering::Relaxed);
    let result = match result {
        Ok(recorded) => {
            metrics
                .events_recorded
                .fetch_add(recorded.len() as u64, Ordering::Relaxed);
            if let Some(g) = sink.get() {
                g.submit(recorded);
            }
            Ok(())
        }
        Err(e) => {
            tracing::error!(error = %e, requests = batch.len(), "intake commit failed");
            Err(e)
        }
    };
    for r in batch {
        let _ = r.done.send(result.clone());
    }
    if !items.is_empty() {
        wake.notify_one();
    }
}
