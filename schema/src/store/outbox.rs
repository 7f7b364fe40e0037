//! The notification outbox: what the catalog must tell someone, held until the receiver
//! answered 2xx.
//!
//! - **Enqueued with where the producer got to.** The rows a stretch of the log caused, the
//!   incidents they open and close, and the producer's new cursor are one transaction. Each
//!   row's key is unique, so a producer that runs the same stretch again (a crash before the
//!   commit, a second node) enqueues nothing twice.
//! - **Claimed per endpoint (a lane)** with a lease, as the inbox is: a killed process's rows
//!   come back when their lease runs out (at once on a single SQLite node, see
//!   [`Store::outbox_release_leases`]). A failing endpoint's rows wait in its own lane.
//! - **Delivered rows stay**, with when: the dashboard shows what went out, and the key keeps
//!   a replay from sending it again.

use super::{Store, StoreResult};
use crate::schema::{outbox, outbox_cursor, outbox_incidents};
use diesel::prelude::*;
use std::time::Duration;

/// A row of the outbox.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: i64,
    pub key: String,
    pub endpoint: String,
    /// The notification (neutral JSON, rendered per endpoint kind when delivered).
    pub body: String,
    pub created_at: i64,
    pub attempts: i32,
    pub next_attempt_at: i64,
    pub lease_until: Option<i64>,
    pub last_error: Option<String>,
    pub state: String,
    pub delivered_at: Option<i64>,
}

/// A row to enqueue.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = outbox)]
pub struct NewOutboxRow {
    pub key: String,
    pub endpoint: String,
    pub body: String,
    pub created_at: i64,
    pub next_attempt_at: i64,
}

/// What a stretch of the log changed: rows to send, incidents opened (key, body) and closed.
#[derive(Debug, Default)]
pub struct OutboxBatch {
    pub rows: Vec<NewOutboxRow>,
    pub opened: Vec<(String, String)>,
    pub closed: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxState {
    Pending,
    Delivered,
    Parked,
}

impl OutboxState {
    pub const ALL: [OutboxState; 3] = [
        OutboxState::Pending,
        OutboxState::Delivered,
        OutboxState::Parked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Delivered => "delivered",
            OutboxState::Parked => "parked",
        }
    }
}

impl Store {
    /// Where the producer `name` got to in the log (`None` before its first batch).
    pub fn outbox_cursor(&self, name: &str) -> StoreResult<Option<i64>> {
        Ok(outbox_cursor::table
            .find(name)
            .select(outbox_cursor::through)
            .first(&mut *self.conn()?)
            .optional()?)
    }

    /// Enqueues `batch` and moves the producer's cursor to `through`, in one transaction.
    /// Rows whose key is already there are skipped. Returns how many rows were new.
    pub fn outbox_enqueue(
        &self,
        name: &str,
        through: i64,
        batch: &OutboxBatch,
    ) -> StoreResult<usize> {
        let (_turn, mut conn) = self.writer()?;
        macro_rules! write {
            ($c:expr) => {{
                let mut new = 0;
                // One statement per row: SQLite takes no batch insert with ON CONFLICT.
                for row in &batch.rows {
                    new += diesel::insert_into(outbox::table)
                        .values(row)
                        .on_conflict(outbox::key)
                        .do_nothing()
                        .execute($c)?;
                }
                for (key, body) in &batch.opened {
                    diesel::insert_into(outbox_incidents::table)
                        .values((
                            outbox_incidents::key.eq(key),
                            outbox_incidents::body.eq(body),
                            outbox_incidents::opened_at.eq(crate::to_micros(chrono::Utc::now())),
                        ))
                        .on_conflict(outbox_incidents::key)
                        .do_update()
                        .set(outbox_incidents::body.eq(body))
                        .execute($c)?;
                }
                for chunk in batch.closed.chunks(500) {
                    diesel::delete(
                        outbox_incidents::table.filter(outbox_incidents::key.eq_any(chunk)),
                    )
                    .execute($c)?;
                }
                diesel::insert_into(outbox_cursor::table)
                    .values((
                        outbox_cursor::name.eq(name),
                        outbox_cursor::through.eq(through),
                    ))
                    .on_conflict(outbox_cursor::name)
                    .do_update()
                    .set(outbox_cursor::through.eq(through))
                    .execute($c)?;
                Ok::<_, diesel::result::Error>(new)
            }};
        }
        Ok(match &mut *conn {
            super::DbConnection::Sqlite(c) => c.immediate_transaction(|c| write!(c))?,
            super::DbConnection::Postgresql(c) => c.transaction(|c| write!(c))?,
        })
    }

    /// The incidents open now: (key, body of the trigger that opened it).
    pub fn outbox_incidents(&self) -> StoreResult<Vec<(String, String)>> {
        Ok(outbox_incidents::table
            .order(outbox_incidents::key.asc())
            .select((outbox_incidents::key, outbox_incidents::body))
            .load(&mut *self.conn()?)?)
    }

    /// Leases up to `limit` of `endpoint`'s ready rows, oldest first.
    pub fn outbox_claim(
        &self,
        endpoint: &str,
        now: i64,
        lease: Duration,
        limit: i64,
    ) -> StoreResult<Vec<OutboxRow>> {
        let (_turn, mut conn) = self.writer()?;
        let until = now + lease.as_micros() as i64;
        macro_rules! claim {
            ($c:expr) => {{
                let ids: Vec<i64> = outbox::table
                    .filter(outbox::endpoint.eq(endpoint))
                    .filter(outbox::state.eq(OutboxState::Pending.as_str()))
                    .filter(outbox::next_attempt_at.le(now))
                    .filter(
                        outbox::lease_until
                            .is_null()
                            .or(outbox::lease_until.lt(now)),
                    )
                    .order(outbox::id.asc())
                    .limit(limit)
                    .select(outbox::id)
                    .load($c)?;
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                // The lease is checked again: on PostgreSQL another node may have claimed a
                // row since the select (the update waits for its lock, then re-reads).
                diesel::update(
                    outbox::table.filter(outbox::id.eq_any(&ids)).filter(
                        outbox::lease_until
                            .is_null()
                            .or(outbox::lease_until.lt(now)),
                    ),
                )
                .set((
                    outbox::lease_until.eq(until),
                    outbox::attempts.eq(outbox::attempts + 1),
                ))
                .returning(OutboxRow::as_returning())
                .get_results::<OutboxRow>($c)
            }};
        }
        let mut rows = match &mut *conn {
            super::DbConnection::Sqlite(c) => c.immediate_transaction(|c| claim!(c))?,
            super::DbConnection::Postgresql(c) => c.transaction(|c| claim!(c))?,
        };
        rows.sort_by_key(|r| r.id);
        Ok(rows)
    }

    /// Frees every lease: for the sole node (SQLite), whose killed predecessor's rows then
    /// go out at once instead of after their lease.
    pub fn outbox_release_leases(&self) -> StoreResult<usize> {
        let (_turn, mut conn) = self.writer()?;
        Ok(diesel::update(
            outbox::table
                .filter(outbox::state.eq(OutboxState::Pending.as_str()))
                .filter(outbox::lease_until.is_not_null()),
        )
        .set(outbox::lease_until.eq(None::<i64>))
        .execute(&mut *conn)?)
    }

    /// Marks rows delivered (the receiver answered 2xx).
    pub fn outbox_delivered(&self, ids: &[i64], now: i64) -> StoreResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let (_turn, mut conn) = self.writer()?;
        conn.transaction(|c| {
            for chunk in ids.chunks(500) {
                diesel::update(outbox::table.filter(outbox::id.eq_any(chunk)))
                    .set((
                        outbox::state.eq(OutboxState::Delivered.as_str()),
                        outbox::delivered_at.eq(now),
                        outbox::lease_until.eq(None::<i64>),
                        outbox::last_error.eq(None::<String>),
                    ))
                    .execute(c)?;
            }
            Ok::<_, diesel::result::Error>(())
        })?;
        Ok(())
    }

    /// Records failed attempts: each retried at its time, or parked (kept with its error,
    /// retried only when someone asks) when `park`.
    pub fn outbox_fail(&self, failures: &[(i64, String, i64, bool)]) -> StoreResult<()> {
        if failures.is_empty() {
            return Ok(());
        }
        let (_turn, mut conn) = self.writer()?;
        conn.transaction(|c| {
            for (id, error, retry_at, park) in failures {
                let state = if *park {
                    OutboxState::Parked
                } else {
                    OutboxState::Pending
                };
                diesel::update(outbox::table.find(id))
                    .set((
                        outbox::last_error.eq(error),
                        outbox::next_attempt_at.eq(retry_at),
                        outbox::lease_until.eq(None::<i64>),
                        outbox::state.eq(state.as_str()),
                    ))
                    .execute(c)?;
            }
            Ok::<_, diesel::result::Error>(())
        })?;
        Ok(())
    }

    /// Puts a parked row back in its lane, attempts reset; returns its endpoint, or `None`
    /// when no parked row has that id.
    pub fn outbox_retry(&self, id: i64, now: i64) -> StoreResult<Option<String>> {
        let (_turn, mut conn) = self.writer()?;
        let endpoint: Option<String> = diesel::update(
            outbox::table
                .find(id)
                .filter(outbox::state.eq(OutboxState::Parked.as_str())),
        )
        .set((
            outbox::state.eq(OutboxState::Pending.as_str()),
            outbox::attempts.eq(0),
            outbox::next_attempt_at.eq(now),
            outbox::lease_until.eq(None::<i64>),
        ))
        .returning(outbox::endpoint)
        .get_result(&mut *conn)
        .optional()?;
        Ok(endpoint)
    }

    /// Rows newest first, before an id (keyset pagination), optionally of one state and
    /// one endpoint.
    pub fn outbox_rows(
        &self,
        state: Option<OutboxState>,
        endpoint: Option<&str>,
        first: i64,
        before: Option<i64>,
    ) -> StoreResult<Vec<OutboxRow>> {
        let mut q = outbox::table.into_boxed();
        if let Some(s) = state {
            q = q.filter(outbox::state.eq(s.as_str()));
        }
        if let Some(e) = endpoint {
            q = q.filter(outbox::endpoint.eq(e.to_string()));
        }
        if let Some(b) = before {
            q = q.filter(outbox::id.lt(b));
        }
        Ok(q.order(outbox::id.desc())
            .limit(first)
            .select(OutboxRow::as_select())
            .load(&mut *self.conn()?)?)
    }

    /// Rows per (endpoint, state).
    pub fn outbox_counts(&self) -> StoreResult<Vec<(String, String, i64)>> {
        Ok(outbox::table
            .group_by((outbox::endpoint, outbox::state))
            .select((outbox::endpoint, outbox::state, diesel::dsl::count_star()))
            .load(&mut *self.conn()?)?)
    }

    /// When `endpoint`'s next pending row can be claimed (microseconds), if it has one: its
    /// next attempt, or for a row another lane holds, the end of that lease.
    pub fn outbox_next_due(&self, endpoint: &str, now: i64) -> StoreResult<Option<i64>> {
        let mut conn = self.conn()?;
        let pending = || {
            outbox::table
                .filter(outbox::endpoint.eq(endpoint))
                .filter(outbox::state.eq(OutboxState::Pending.as_str()))
        };
        let free: Option<i64> = pending()
            .filter(
                outbox::lease_until
                    .is_null()
                    .or(outbox::lease_until.lt(now)),
            )
            .select(diesel::dsl::min(outbox::next_attempt_at))
            .first(&mut *conn)?;
        let leased: Option<i64> = pending()
            .filter(outbox::lease_until.ge(now))
            .select(diesel::dsl::min(outbox::lease_until))
            .first(&mut *conn)?;
        Ok(match (free, leased) {
            (Some(f), Some(l)) => Some(f.min(l)),
            (f, l) => f.or(l),
        })
    }
}

impl Store {
    /// A row's state and when it is next due, by key.
    pub fn outbox_state_of(&self, key: &str) -> StoreResult<Option<(OutboxState, i64)>> {
        let row: Option<(String, i64)> = outbox::table
            .filter(outbox::key.eq(key))
            .select((outbox::state, outbox::next_attempt_at))
            .first(&mut *self.conn()?)
            .optional()?;
        Ok(row.map(|(s, due)| {
            let state = OutboxState::ALL
                .into_iter()
                .find(|x| x.as_str() == s)
                .unwrap_or(OutboxState::Pending);
            (state, due)
        }))
    }
}

/// The right to be the one process that does something (the notification producer): held
/// until dropped, or until the process dies.
pub struct Leader {
    /// PostgreSQL: the session holding the advisory lock. SQLite has one node: nothing to hold.
    session: Option<diesel::r2d2::PooledConnection<super::Manager>>,
}

impl Drop for Leader {
    /// Gives the lock up before the session goes back to the pool (it lives on there).
    fn drop(&mut self) {
        if let Some(conn) = self.session.as_mut() {
            if let super::DbConnection::Postgresql(c) = &mut **conn {
                use diesel::connection::SimpleConnection;
                let _ = c.batch_execute("SELECT pg_advisory_unlock_all()");
            }
        }
    }
}

#[derive(diesel::QueryableByName)]
struct Got {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    got: bool,
}

impl Leader {
    /// Whether the lock is still held: its session still answers (a session the network
    /// ended took the lock with it).
    pub fn holds(&mut self) -> bool {
        let Some(conn) = self.session.as_mut() else {
            return true;
        };
        use diesel::connection::SimpleConnection;
        conn.batch_execute("SELECT 1").is_ok()
    }
}

impl Store {
    /// Removes delivered rows delivered before `before` (microseconds); returns how many.
    pub fn outbox_prune(&self, before: i64) -> StoreResult<usize> {
        let (_turn, mut conn) = self.writer()?;
        Ok(diesel::delete(
            outbox::table
                .filter(outbox::state.eq(OutboxState::Delivered.as_str()))
                .filter(outbox::delivered_at.lt(before)),
        )
        .execute(&mut *conn)?)
    }

    /// Tries to become the one process that does `what` (a PostgreSQL session-level advisory
    /// lock, keyed by `what`'s hash, on a connection the leader keeps): `None` when another
    /// process is. On SQLite there is one node, which always leads.
    pub fn try_lead(&self, what: &str) -> StoreResult<Option<Leader>> {
        let mut conn = self.conn()?;
        let super::DbConnection::Postgresql(c) = &mut *conn else {
            return Ok(Some(Leader { session: None }));
        };
        // A stable 63-bit key from the name (FNV-1a).
        let key = what.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        }) >> 1;
        let got: Got = diesel::sql_query("SELECT pg_try_advisory_lock($1) AS got")
            .bind::<diesel::sql_types::BigInt, _>(key as i64)
            .get_result(c)?;
        Ok(got.got.then_some(Leader {
            session: Some(conn),
        }))
    }
}
