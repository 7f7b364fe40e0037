//! The durable inbox: what a hook acknowledged and a worker has not yet turned into events.
//!
//! Workers claim items with leases. A claim holds an item until its lease runs out, so a
//! killed worker's items come back to the others; an item processed twice (a slow worker
//! overtaken) records nothing twice, since every event has a natural key. On PostgreSQL a
//! claim skips rows another worker is claiming (`FOR UPDATE SKIP LOCKED`) instead of
//! queueing behind it.

//!
//! On SQLite the inbox is a file of its own (`<db>.inbox`, see [`Store::inbox_path`]): SQLite
//! has one write lock per file, and with the inbox in the log's file every acknowledgement
//! queued behind the worker's commits. Apart, an acknowledgement waits only for other
//! acknowledgements (group-committed together). The worker then records events and removes
//! the items they came from in two commits, in that order: events first, durable (fsynced);
//! then the removal, not fsynced. A crash between the two leaves an item whose events are
//! already in the log, and processing it again records nothing (every event has a natural
//! key), so nothing acknowledged is lost and a replay changes nothing.

use super::{
    Access, Backend, DbConnection, FairLock, InboxDb, Manager, Store, StoreError, StoreResult,
};
use crate::schema::inbox;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::Pool;
use std::time::Duration;

/// The inbox file's schema: the log database's `inbox` table and claim index, as the
/// migrations left them (`2026-11-22-000001_init`, `..._000003_inbox_claim_order`).
const SQLITE_INBOX_DDL: &str = "CREATE TABLE IF NOT EXISTS inbox ( \
        id INTEGER PRIMARY KEY AUTOINCREMENT, \
        source TEXT NOT NULL, \
        body TEXT NOT NULL, \
        received_at BIGINT NOT NULL, \
        attempts INTEGER NOT NULL DEFAULT 0, \
        next_attempt_at BIGINT NOT NULL, \
        lease_until BIGINT, \
        last_error TEXT, \
        state TEXT NOT NULL DEFAULT 'pending'); \
    CREATE INDEX IF NOT EXISTS inbox_claim ON inbox (state, id);";

/// Opens (creating if needed) SQLite's inbox file.
pub(super) fn open(path: &str, pool_size: u32, access: Access) -> StoreResult<InboxDb> {
    let pool = Pool::builder()
        .max_size(pool_size.clamp(2, 4))
        .connection_timeout(Duration::from_secs(15))
        .build(Manager {
            url: path.to_string(),
            backend: Backend::Sqlite,
            access,
        })
        .map_err(|e| StoreError::Connect(format!("the inbox file {path}: {e}")))?;
    if access == Access::ReadWrite {
        let mut c = pool
            .get()
            .map_err(|e| StoreError::Connect(format!("the inbox file {path}: {e}")))?;
        c.batch_execute(SQLITE_INBOX_DDL)?;
    }
    Ok(InboxDb {
        pool,
        writes: std::sync::Arc::new(FairLock::default()),
    })
}

/// A row of the durable inbox.
#[derive(Debug, Clone, PartialEq, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = inbox)]
pub struct InboxItem {
    pub id: i64,
    pub source: String,
    pub body: String,
    pub received_at: i64,
    pub attempts: i32,
    pub next_attempt_at: i64,
    pub lease_until: Option<i64>,
    pub last_error: Option<String>,
    pub state: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboxState {
    Pending,
    Parked,
}

impl InboxState {
    pub fn as_str(self) -> &'static str {
        match self {
            InboxState::Pending => "pending",
            InboxState::Parked => "parked",
        }
    }
}

/// An item to append to the inbox.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = inbox)]
pub struct NewInboxItem {
    pub source: String,
    pub body: String,
    pub received_at: i64,
    pub next_attempt_at: i64,
}

/// PostgreSQL's claim: one statement, skipping rows another claimer holds.
const PG_CLAIM: &str = "UPDATE inbox SET lease_until = $1, attempts = attempts + 1 \
    WHERE id IN (SELECT id FROM inbox WHERE state = 'pending' AND next_attempt_at <= $2 \
        AND (lease_until IS NULL OR lease_until < $2) ORDER BY id LIMIT $3 \
        FOR UPDATE SKIP LOCKED) \
    RETURNING id, source, body, received_at, attempts, next_attempt_at, lease_until, \
        last_error, state";

impl Store {
    /// Moves what an older catalog left in the log database's `inbox` table to the inbox file,
    /// ids kept: copied (durably, skipping ids already copied), then removed from the log's
    /// file. A crash between the two copies nothing twice on the next start.
    pub(super) fn inbox_adopt_legacy(&self) -> StoreResult<usize> {
        let Some(db) = &self.inbox else {
            return Ok(0);
        };
        let legacy: Vec<InboxItem> = inbox::table
            .order(inbox::id.asc())
            .select(InboxItem::as_select())
            .load(&mut *self.conn()?)?;
        if legacy.is_empty() {
            return Ok(0);
        }
        {
            let _turn = db.writes.lock();
            let mut conn = db
                .pool
                .get()
                .map_err(|e| StoreError::Connect(e.to_string()))?;
            let DbConnection::Sqlite(c) = &mut *conn else {
                return Err(StoreError::Corrupt("the inbox file is not SQLite".into()));
            };
            c.immediate_transaction(|c| {
                for chunk in legacy.chunks(500) {
                    diesel::insert_or_ignore_into(inbox::table)
                        .values(chunk)
                        .execute(c)?;
                }
                Ok::<_, diesel::result::Error>(())
            })?;
        }
        let ids: Vec<i64> = legacy.iter().map(|i| i.id).collect();
        let (_turn, mut conn) = self.writer()?;
        for chunk in ids.chunks(1000) {
            diesel::delete(inbox::table.filter(inbox::id.eq_any(chunk))).execute(&mut *conn)?;
        }
        Ok(ids.len())
    }

    /// Removes items whose events are recorded (the worker's second commit, when the inbox
    /// is a file of its own). Not fsynced: should a crash undo it, the items are processed
    /// again and record nothing new.
    pub(super) fn inbox_remove(&self, ids: &[i64]) -> StoreResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let (_turn, mut conn) = self.inbox_writer()?;
        let relax = matches!(&*conn, DbConnection::Sqlite(_));
        if relax {
            conn.batch_execute("PRAGMA synchronous = NORMAL")?;
        }
        let removed = conn.transaction(|c| {
            for chunk in ids.chunks(1000) {
                diesel::delete(inbox::table.filter(inbox::id.eq_any(chunk))).execute(c)?;
            }
            Ok::<_, diesel::result::Error>(())
        });
        if relax {
            conn.batch_execute("PRAGMA synchronous = FULL")?;
        }
        Ok(removed?)
    }

    /// Appends items durably, all or none, in one transaction (the hook's group commit).
    pub fn inbox_append(&self, items: &[NewInboxItem]) -> StoreResult<()> {
        if items.is_empty() {
            return Ok(());
        }
        let (_turn, mut conn) = self.inbox_writer()?;
        // Chunked: SQLite caps bind parameters per statement.
        macro_rules! append {
            ($c:expr) => {{
                for chunk in items.chunks(1000) {
                    diesel::insert_into(inbox::table)
                        .values(chunk)
                        .execute($c)?;
                }
                Ok::<_, diesel::result::Error>(())
            }};
        }
        match &mut *conn {
            DbConnection::Sqlite(c) => c.immediate_transaction(|c| append!(c))?,
            DbConnection::Postgresql(c) => c.transaction(|c| append!(c))?,
        }
        Ok(())
    }

    /// Leases up to `limit` ready items for `lease`; another worker will not see them until
    /// the lease runs out (a crashed worker's items come back). Oldest first.
    pub fn inbox_claim(
        &self,
        now: i64,
        lease: Duration,
        limit: i64,
    ) -> StoreResult<Vec<InboxItem>> {
        let (_turn, mut conn) = self.inbox_writer()?;
        let until = now + lease.as_micros() as i64;
        match &mut *conn {
            DbConnection::Postgresql(c) => {
                use diesel::sql_types::BigInt;
                let mut items: Vec<InboxItem> = diesel::sql_query(PG_CLAIM)
                    .bind::<BigInt, _>(until)
                    .bind::<BigInt, _>(now)
                    .bind::<BigInt, _>(limit)
                    .load(c)?;
                items.sort_by_key(|i| i.id);
                Ok(items)
            }
            // One writer at a time: select then update cannot race another claimer.
            DbConnection::Sqlite(c) => Ok(c.immediate_transaction(|c| {
                let ids: Vec<i64> = inbox::table
                    .filter(inbox::state.eq(InboxState::Pending.as_str()))
                    .filter(inbox::next_attempt_at.le(now))
                    .filter(inbox::lease_until.is_null().or(inbox::lease_until.lt(now)))
                    .order(inbox::id.asc())
                    .limit(limit)
                    .select(inbox::id)
                    .load(c)?;
                if ids.is_empty() {
                    return Ok::<_, diesel::result::Error>(Vec::new());
                }
                let mut items: Vec<InboxItem> =
                    diesel::update(inbox::table.filter(inbox::id.eq_any(&ids)))
                        .set((
                            inbox::lease_until.eq(until),
                            inbox::attempts.eq(inbox::attempts + 1),
                        ))
                        .returning(InboxItem::as_returning())
                        .get_results(c)?;
                items.sort_by_key(|i| i.id);
                Ok(items)
            })?),
        }
    }

    /// Frees every lease. Only for a process that knows it is the sole worker (SQLite is one
    /// node): items a killed process had claimed come back at once instead of after the lease.
    pub fn inbox_release_leases(&self) -> StoreResult<usize> {
        let (_turn, mut conn) = self.inbox_writer()?;
        Ok(
            diesel::update(inbox::table.filter(inbox::lease_until.is_not_null()))
                .set(inbox::lease_until.eq(None::<i64>))
                .execute(&mut *conn)?,
        )
    }

    /// Records a failed attempt: retried at `retry_at`, or parked (kept with its error, never
    /// retried automatically) when `park`.
    pub fn inbox_fail(&self, id: i64, error: &str, retry_at: i64, park: bool) -> StoreResult<()> {
        let (_turn, mut conn) = self.inbox_writer()?;
        let state = if park {
            InboxState::Parked
        } else {
            InboxState::Pending
        };
        diesel::update(inbox::table.find(id))
            .set((
                inbox::last_error.eq(error),
                inbox::next_attempt_at.eq(retry_at),
                inbox::lease_until.eq(None::<i64>),
                inbox::state.eq(state.as_str()),
            ))
            .execute(&mut *conn)?;
        Ok(())
    }

    /// Puts a parked item back in the queue.
    pub fn inbox_retry(&self, id: i64, now: i64) -> StoreResult<bool> {
        let (_turn, mut conn) = self.inbox_writer()?;
        let n = diesel::update(
            inbox::table
                .find(id)
                .filter(inbox::state.eq(InboxState::Parked.as_str())),
        )
        .set((
            inbox::state.eq(InboxState::Pending.as_str()),
            inbox::attempts.eq(0),
            inbox::next_attempt_at.eq(now),
            inbox::lease_until.eq(None::<i64>),
        ))
        .execute(&mut *conn)?;
        Ok(n > 0)
    }

    /// Items in a state, oldest first, after an id (keyset pagination).
    pub fn inbox_items(
        &self,
        state: InboxState,
        first: i64,
        after: i64,
    ) -> StoreResult<Vec<InboxItem>> {
        let mut conn = self.inbox_conn()?;
        Ok(inbox::table
            .filter(inbox::state.eq(state.as_str()))
            .filter(inbox::id.gt(after))
            .order(inbox::id.asc())
            .limit(first)
            .select(InboxItem::as_select())
            .load(&mut *conn)?)
    }

    /// (pending, parked) counts.
    pub fn inbox_depth(&self) -> StoreResult<(i64, i64)> {
        let mut conn = self.inbox_conn()?;
        let count = |conn: &mut DbConnection, s: InboxState| -> QueryResult<i64> {
            inbox::table
                .filter(inbox::state.eq(s.as_str()))
                .count()
                .get_result(conn)
        };
        Ok((
            count(&mut conn, InboxState::Pending)?,
            count(&mut conn, InboxState::Parked)?,
        ))
    }
}
