//! The durable inbox writer: one thread, one connection, group commit.
//!
//! Hooks hand their validated items here and wait; the writer drains whatever is queued,
//! appends it all in one transaction (one fsync for many requests), then answers each.
//! A 2xx therefore always means "on disk".

use crate::item::InboxBody;
use crate::metrics::Metrics;
use catalog_schema::{to_micros, NewInboxItem, Store};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Notify};

struct Request {
    items: Vec<NewInboxItem>,
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
    tx: mpsc::Sender<Request>,
}

/// Upper bound of items in one commit.
const MAX_BATCH_ITEMS: usize = 4096;

impl InboxWriter {
    /// Starts the writer thread. `wake` is notified after each commit (the worker waits on it).
    pub fn start(store: Store, wake: Arc<Notify>, metrics: Arc<Metrics>) -> InboxWriter {
        let (tx, mut rx) = mpsc::channel::<Request>(8192);
        std::thread::Builder::new()
            .name("inbox-writer".into())
            .spawn(move || {
                while let Some(first) = rx.blocking_recv() {
                    let mut batch = vec![first];
                    let mut n = batch[0].items.len();
                    while n < MAX_BATCH_ITEMS {
                        match rx.try_recv() {
                            Ok(r) => {
                                n += r.items.len();
                                batch.push(r);
                            }
                            Err(_) => break,
                        }
                    }
                    let items: Vec<NewInboxItem> =
                        batch.iter().flat_map(|r| r.items.iter().cloned()).collect();
                    let result = store.inbox_append(&items).map_err(|e| e.to_string());
                    if let Err(e) = &result {
                        tracing::error!(error = %e, requests = batch.len(), "inbox commit failed");
                    }
                    metrics
                        .inbox_commits
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    for r in batch {
                        let _ = r.done.send(result.clone());
                    }
                    wake.notify_one();
                }
            })
            .map(|_| ())
            .unwrap_or_else(|e| tracing::error!(error = %e, "cannot start the inbox writer"));
        InboxWriter { tx }
    }

    /// Appends items durably; returns when they are committed.
    pub async fn append(&self, source: &str, bodies: &[InboxBody]) -> Result<(), InboxError> {
        if bodies.is_empty() {
            return Ok(());
        }
        let now = to_micros(chrono::Utc::now());
        let items = bodies
            .iter()
            .map(|b| {
                Ok(NewInboxItem {
                    source: source.to_string(),
                    body: serde_json::to_string(b)
                        .map_err(|e| InboxError::Encode(e.to_string()))?,
                    received_at: now,
                    next_attempt_at: now,
                })
            })
            .collect::<Result<Vec<_>, InboxError>>()?;
        let (done, wait) = oneshot::channel();
        self.tx
            .send(Request { items, done })
            .await
            .map_err(|_| InboxError::Closed)?;
        wait.await
            .map_err(|_| InboxError::Closed)?
            .map_err(InboxError::Write)
    }
}
