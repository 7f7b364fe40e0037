//! Waiting for commits to the event log: on PostgreSQL, `LISTEN catalog_events` on a
//! connection of its own (every append sends `NOTIFY` at commit).
//!
//! diesel exposes libpq's notification queue but not its socket, and this workspace forbids
//! `unsafe` (which `poll(2)` on `PQsocket` would need), so [`EventListener::wait`] checks the
//! socket every few milliseconds with `PQconsumeInput`: a non-blocking read of what the
//! server already pushed, no query and no round trip. A notification is therefore seen
//! within [`CHECK_EVERY`] of the commit.

use super::{Backend, Store, StoreError, StoreResult, EVENTS_CHANNEL};
use diesel::connection::SimpleConnection;
use diesel::Connection;
use std::time::{Duration, Instant};

/// How often a waiting listener looks at its socket.
pub const CHECK_EVERY: Duration = Duration::from_millis(5);

/// A connection listening for commits to the event log.
pub struct EventListener {
    conn: diesel::PgConnection,
}

impl std::fmt::Debug for EventListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventListener")
    }
}

impl Store {
    /// A listener for commits, where the database can send them: PostgreSQL, not in
    /// recovery (a hot standby refuses `LISTEN`). `None` elsewhere: poll instead.
    pub fn listen(&self) -> StoreResult<Option<EventListener>> {
        if self.backend() != Backend::Postgres || self.in_recovery()? {
            return Ok(None);
        }
        let mut conn = diesel::PgConnection::establish(self.url())
            .map_err(|e| StoreError::Connect(e.to_string()))?;
        conn.batch_execute(&format!("LISTEN {EVENTS_CHANNEL}"))?;
        Ok(Some(EventListener { conn }))
    }
}

impl EventListener {
    /// Waits up to `timeout` for a commit, or until `wake` says there is other work; true
    /// when a commit (or more) was notified. An error means the connection is gone: make a
    /// new listener.
    pub fn wait(&mut self, timeout: Duration, wake: impl Fn() -> bool) -> StoreResult<bool> {
        let deadline = Instant::now() + timeout;
        loop {
            let mut got = false;
            for n in self.conn.notifications_iter() {
                n?;
                got = true;
            }
            if got {
                return Ok(true);
            }
            let now = Instant::now();
            if now >= deadline || wake() {
                return Ok(false);
            }
            std::thread::sleep(CHECK_EVERY.min(deadline - now));
        }
    }
}
