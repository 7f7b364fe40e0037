//! Bulk loading of the event log: many events appended in large transactions, with none of
//! the write path's per-event work. It owns only the `events` table; it must not touch the
//! current-state tables (the write path's `record` keeps those in step).

use super::{DbConnection, Store, StoreError, StoreResult};
use crate::schema::events;
use crate::time::to_micros;
use catalog_core::event::NewEvent;
use chrono::Utc;
use diesel::prelude::*;

/// Rows per statement and per transaction (SQLite caps bind parameters per statement:
/// 7 columns x 1,000 rows stays well inside its limit).
const CHUNK: usize = 1000;

/// An `events` row about to be inserted.
#[derive(Insertable)]
#[diesel(table_name = events)]
struct EventInsert<'a> {
    key: &'a str,
    kind: &'static str,
    payload: String,
    source: &'a str,
    actor: &'a str,
    occurred_at: i64,
    recorded_at: i64,
}

impl Store {
    /// Appends to the log without updating current-state tables: for restoring a log or
    /// loading a benchmark; the graph rebuilds from the log.
    ///
    /// Events keep their order (sequence numbers follow the slice), are idempotent on their
    /// key like [`Store::record`], and go in transactions of 1,000. Returns how many were new.
    /// The current-state tables (and so the SQL readers) do not see them.
    pub fn import_log(&self, events: &[NewEvent]) -> StoreResult<usize> {
        let now = to_micros(Utc::now());
        let (_turn, mut conn) = self.writer()?;
        let mut inserted = 0;
        for chunk in events.chunks(CHUNK) {
            let rows = chunk
                .iter()
                .map(|e| {
                    Ok(EventInsert {
                        key: &e.key,
                        kind: e.event.kind().as_str(),
                        payload: serde_json::to_string(&e.event).map_err(|err| {
                            StoreError::Query(diesel::result::Error::SerializationError(Box::new(
                                err,
                            )))
                        })?,
                        source: &e.source,
                        actor: &e.actor,
                        occurred_at: to_micros(e.occurred_at),
                        recorded_at: now,
                    })
                })
                .collect::<StoreResult<Vec<_>>>()?;
            // One transaction per chunk, skipping keys already in the log: `ON CONFLICT DO
            // NOTHING` on PostgreSQL, `INSERT OR IGNORE` on SQLite (diesel batches the latter
            // only).
            inserted += match &mut *conn {
                DbConnection::Postgresql(c) => c.transaction(|c| {
                    diesel::insert_into(events::table)
                        .values(&rows)
                        .on_conflict(events::key)
                        .do_nothing()
                        .execute(c)
                }),
                DbConnection::Sqlite(c) => c.immediate_transaction(|c| {
                    diesel::insert_or_ignore_into(events::table)
                        .values(&rows)
                        .execute(c)
                }),
            }?;
        }
        Ok(inserted)
    }
}
