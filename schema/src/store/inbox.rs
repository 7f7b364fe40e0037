//! The durable inbox: what a hook acknowledged and a worker has not yet turned into events.
//!
//! Workers claim items with leases. A claim holds an item until its lease runs out, so a
//! killed worker's items come back to the others; an item processed twice (a slow worker
//! overtaken) records nothing twice, since every event has a natural key. On PostgreSQL a
//! claim skips rows another worker is claiming (`FOR UPDATE SKIP LOCKED`) instead of
//! queueing behind it.

use super::{DbConnection, Store, StoreResult};
use crate::schema::inbox;
use diesel::prelude::*;
use std::time::Duration;

/// A row of the durable inbox.
#[derive(Debug, Clone, PartialEq, Queryable, QueryableByName, Selectable)]
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
    /// Appends items durably, all or none, in one transaction (the hook's group commit).
    pub fn inbox_append(&self, items: &[NewInboxItem]) -> StoreResult<()> {
        if items.is_empty() {
            return Ok(());
        }
        let (_turn, mut conn) = self.writer()?;
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
        let (_turn, mut conn) = self.writer()?;
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
        let (_turn, mut conn) = self.writer()?;
        Ok(
            diesel::update(inbox::table.filter(inbox::lease_until.is_not_null()))
                .set(inbox::lease_until.eq(None::<i64>))
                .execute(&mut *conn)?,
        )
    }

    /// Records a failed attempt: retried at `retry_at`, or parked (kept with its error, never
    /// retried automatically) when `park`.
    pub fn inbox_fail(&self, id: i64, error: &str, retry_at: i64, park: bool) -> StoreResult<()> {
        let (_turn, mut conn) = self.writer()?;
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
        let (_turn, mut conn) = self.writer()?;
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
        let mut conn = self.conn()?;
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
        let mut conn = self.conn()?;
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
