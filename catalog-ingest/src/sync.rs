//! Keeps the in-memory graph in step with the event log: every process (and every replica)
//! applies committed events in sequence order by tailing the log, so writes from this
//! process, another worker, or a mutation all reach the graph the same way.

use crate::SharedCatalog;
use catalog_core::RecordedEvent;
use catalog_schema::{Store, StoreResult};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

/// How long a hole in the sequence may stay open before we step over it. PostgreSQL hands
/// out identity values before commit (and an `ON CONFLICT DO NOTHING` burns one), so a hole
/// is either a transaction still committing or a value that will never appear.
const GAP_PATIENCE: Duration = Duration::from_secs(2);
/// Events per read: an SBOM event is ~100 KB, so a page stays near 100 MB at most.
const PAGE: i64 = 1000;

pub struct GraphSync {
    store: Store,
    catalog: SharedCatalog,
    /// Serialises tailers; holds when the current hole was first seen.
    state: Mutex<Option<Instant>>,
    changes: broadcast::Sender<Arc<[RecordedEvent]>>,
}

impl GraphSync {
    pub fn new(store: Store, catalog: SharedCatalog) -> GraphSync {
        let (changes, _) = broadcast::channel(1024);
        GraphSync {
            store,
            catalog,
            state: Mutex::new(None),
            changes,
        }
    }

    pub fn catalog(&self) -> &SharedCatalog {
        &self.catalog
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

    fn last_seq(&self) -> i64 {
        self.catalog.read().map(|c| c.last_seq()).unwrap_or(0)
    }

    /// Applies events this process just committed, without reading them back, when they
    /// continue the graph's sequence exactly; otherwise (another writer got in between)
    /// falls back to [`GraphSync::sync`]. Blocking.
    pub fn apply_recorded(&self, recorded: &[RecordedEvent]) -> StoreResult<usize> {
        {
            let Ok(_tail) = self.state.lock() else {
                return Ok(0);
            };
            if let Ok(mut c) = self.catalog.write() {
                let contiguous = recorded
                    .iter()
                    .enumerate()
                    .all(|(i, e)| e.seq == c.last_seq() + 1 + i as i64);
                if contiguous {
                    for e in recorded {
                        c.apply(e);
                    }
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
        let Ok(mut gap) = self.state.lock() else {
            return Ok(0);
        };
        let mut applied = 0;
        loop {
            let last = self.last_seq();
            let page = self.store.events_page(PAGE, last, None)?;
            if page.is_empty() {
                *gap = None;
                break;
            }
            // Apply the contiguous run; stop at a hole unless it has been open too long.
            let mut take = 0;
            let mut expect = last + 1;
            for e in &page {
                if e.seq != expect {
                    let first_seen = *gap.get_or_insert_with(Instant::now);
                    if first_seen.elapsed() < GAP_PATIENCE && take == 0 {
                        break;
                    }
                    if take > 0 {
                        break;
                    }
                }
                take += 1;
                expect = e.seq + 1;
            }
            if take == 0 {
                break;
            }
            *gap = None;
            if let Ok(mut c) = self.catalog.write() {
                for e in &page[..take] {
                    c.apply(e);
                }
            }
            self.publish(&page[..take]);
            applied += take;
            if (page.len() as i64) < PAGE && take == page.len() {
                break;
            }
        }
        Ok(applied)
    }
}
