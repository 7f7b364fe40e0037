//! The Store: the only code that speaks SQL.
//!
//! It holds what must be durable and nothing it does not read: the inbox (`inbox.rs`), the
//! event log (`events.rs`, the audit trail and the only source of truth), bearer tokens
//! (`tokens.rs`) and graph snapshots (`snapshots.rs`). Every domain rule lives in
//! catalog-core; the store never interprets an event beyond the columns it indexes it by.
//!
//! On SQLite the inbox lives in a file of its own beside the log (`<db>.inbox`): SQLite has one
//! write lock per file, and a registry's acknowledgement (an inbox append) must not queue
//! behind the worker's commits to the log. See [`Store::inbox_path`].
//!
//! One `DbConnection` (diesel's `MultiConnection` over PostgreSQL and SQLite) backs a pool.
//! Portable reads go through it directly. Writes that need each dialect's upsert, `RETURNING`
//! or transaction flavour (SQLite takes the write lock up front with `BEGIN IMMEDIATE`) are
//! written once in a per-file macro and compiled for both concrete connections.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::r2d2::{ManageConnection, Pool, PooledConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::time::Duration;

mod events;
mod fair_lock;
mod inbox;
mod listen;
mod outbox;
mod snapshots;
mod tokens;

pub use events::{EventIndex, RawEvent};
pub use inbox::{InboxItem, InboxState, NewInboxItem};
pub use listen::EventListener;
pub use outbox::{Leader, NewOutboxRow, OutboxBatch, OutboxRow, OutboxState};
pub use snapshots::{SnapshotMeta, SnapshotWrite};
pub use tokens::Token;

use fair_lock::{FairGuard, FairLock};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// The channel a commit to the event log notifies on PostgreSQL (`LISTEN catalog_events`).
pub const EVENTS_CHANNEL: &str = "catalog_events";

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("migrations failed: {0}")]
    Migrate(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A write reached a store opened read-only (a replica on a hot standby).
    #[error("this catalog is a read-only replica: writes go to a catalog on the primary database")]
    ReadOnly,
    /// The database's schema is older than this binary and the store may not migrate it.
    #[error("the database schema is behind this catalog ({0}): run `catalog migrate` against the primary")]
    SchemaBehind(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    pub fn of_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// How a store is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Migrates on open and takes writes.
    ReadWrite,
    /// Never writes: no migrations (the schema must already be current), and every write
    /// method answers [`StoreError::ReadOnly`]. For replicas on a PostgreSQL hot standby.
    ReadOnly,
}

/// Opens the right inner connection for a URL (diesel's own `establish` would try each in
/// turn) and sets SQLite's pragmas on every new connection.
#[derive(Debug, Clone)]
struct Manager {
    url: String,
    backend: Backend,
    access: Access,
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        use diesel::connection::SimpleConnection;
        match self.backend {
            Backend::Postgres => {
                // libpq's message may quote the URL whole; it is logged (r2d2) and answered.
                let mut c = diesel::PgConnection::establish(&self.url).map_err(|e| {
                    diesel::r2d2::Error::ConnectionError(diesel::ConnectionError::BadConnection(
                        catalog_core::redact::redact_password_in(&e.to_string(), &self.url),
                    ))
                })?;
                if self.access == Access::ReadOnly {
                    // A standby refuses writes anyway; a read-only store on a primary must too.
                    c.batch_execute("SET default_transaction_read_only = on")
                        .map_err(diesel::r2d2::Error::QueryError)?;
                }
                Ok(DbConnection::Postgresql(c))
            }
            Backend::Sqlite => {
                let path = self.url.strip_prefix("sqlite://").unwrap_or(&self.url);
                let mut c = diesel::SqliteConnection::establish(path)
                    .map_err(diesel::r2d2::Error::ConnectionError)?;
                // busy_timeout first: even switching to WAL must wait for a busy writer.
                // WAL lets readers run beside the writer; synchronous=FULL makes every commit
                // durable before we acknowledge it (group commit keeps that cheap).
                let pragmas = match self.access {
                    Access::ReadWrite => {
                        "PRAGMA busy_timeout = 15000; PRAGMA journal_mode = WAL; \
                         PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"
                    }
                    Access::ReadOnly => "PRAGMA busy_timeout = 15000; PRAGMA query_only = ON;",
                };
                c.batch_execute(pragmas)
                    .map_err(diesel::r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(c))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), Self::Error> {
        use diesel::r2d2::R2D2Connection;
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        use diesel::r2d2::R2D2Connection;
        conn.is_broken()
    }
}

/// The catalog's persistent store.
#[derive(Clone)]
pub struct Store {
    pool: Pool<Manager>,
    backend: Backend,
    access: Access,
    url: std::sync::Arc<str>,
    /// Queues this process's SQLite writers (PostgreSQL locks rows, not the database).
    writes: std::sync::Arc<FairLock>,
    /// SQLite's inbox file, with its own pool and writer queue: its own lock domain. `None`
    /// on PostgreSQL (rows are locked, not files), where the inbox is a table of the database.
    inbox: Option<InboxDb>,
}

/// The inbox's own SQLite file.
#[derive(Clone)]
struct InboxDb {
    pool: Pool<Manager>,
    writes: std::sync::Arc<FairLock>,
}

/// How durable a write must be before it returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// On disk before returning: what is acknowledged to a sender or a user.
    Immediate,
    /// Derived from something that stays durable elsewhere: on SQLite the commit is not
    /// fsynced on its own, unless it removes inbox items kept in the inbox's own file (that
    /// removal is a second commit, and must never outlive the events; see `inbox.rs`).
    Deferred,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .field("access", &self.access)
            .finish()
    }
}

impl Store {
    /// Opens (creating a SQLite file if needed) and migrates. `url` is `postgres://...` /
    /// `postgresql://...`, or a SQLite path (optionally `sqlite://path`).
    pub fn open(url: &str, pool_size: u32) -> StoreResult<Store> {
        Store::open_with(url, pool_size, Access::ReadWrite)
    }

    /// Opens with the given access. A read-only store runs no migration: it checks that the
    /// database's schema is current and fails with [`StoreError::SchemaBehind`] otherwise.
    pub fn open_with(url: &str, pool_size: u32, access: Access) -> StoreResult<Store> {
        let backend = Backend::of_url(url);
        let pool = Pool::builder()
            .max_size(pool_size.max(2))
            .connection_timeout(Duration::from_secs(15))
            .build(Manager {
                url: url.to_string(),
                backend,
                access,
            })
            .map_err(|e| StoreError::Connect(e.to_string()))?;
        let mut store = Store {
            pool,
            backend,
            access,
            url: std::sync::Arc::from(url),
            writes: std::sync::Arc::default(),
            inbox: None,
        };
        match access {
            Access::ReadWrite => {
                store.migrate()?;
            }
            Access::ReadOnly => store.check_schema()?,
        }
        if let Some(path) = Store::inbox_path(url) {
            // A read-only store reads an inbox file only where one exists (opening creates).
            if access == Access::ReadWrite || std::path::Path::new(&path).exists() {
                store.inbox = Some(inbox::open(&path, pool_size, access)?);
                if access == Access::ReadWrite {
                    store.inbox_adopt_legacy()?;
                }
            }
        }
        Ok(store)
    }

    /// Where a SQLite catalog keeps its inbox: `<database file>.inbox` (with its own `-wal`
    /// and `-shm`), so that appending to it never waits for SQLite's write lock on the log.
    /// Back both files up together. `None` on PostgreSQL.
    pub fn inbox_path(url: &str) -> Option<String> {
        match Backend::of_url(url) {
            Backend::Postgres => None,
            Backend::Sqlite => {
                let path = url.strip_prefix("sqlite://").unwrap_or(url);
                Some(format!("{path}.inbox"))
            }
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn access(&self) -> Access {
        self.access
    }

    /// The URL the store was opened with (for a connection of one's own, e.g. `LISTEN`).
    /// Holds credentials: never log it unredacted.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A connection for writing: on SQLite, first a turn in this process's writer queue.
    fn writer(&self) -> StoreResult<(Option<FairGuard<'_>>, PooledConnection<Manager>)> {
        if self.access == Access::ReadOnly {
            return Err(StoreError::ReadOnly);
        }
        let turn = (self.backend == Backend::Sqlite).then(|| self.writes.lock());
        Ok((turn, self.conn()?))
    }

    fn conn(&self) -> StoreResult<PooledConnection<Manager>> {
        self.pool
            .get()
            .map_err(|e| StoreError::Connect(e.to_string()))
    }

    /// A connection for writing the inbox: its own file's writer queue on SQLite.
    fn inbox_writer(&self) -> StoreResult<(Option<FairGuard<'_>>, PooledConnection<Manager>)> {
        match &self.inbox {
            None => self.writer(),
            Some(db) => {
                if self.access == Access::ReadOnly {
                    return Err(StoreError::ReadOnly);
                }
                let turn = db.writes.lock();
                let conn = db
                    .pool
                    .get()
                    .map_err(|e| StoreError::Connect(e.to_string()))?;
                Ok((Some(turn), conn))
            }
        }
    }

    /// A connection for reading the inbox.
    fn inbox_conn(&self) -> StoreResult<PooledConnection<Manager>> {
        match &self.inbox {
            None => self.conn(),
            Some(db) => db
                .pool
                .get()
                .map_err(|e| StoreError::Connect(e.to_string())),
        }
    }

    /// Is the inbox in a file of its own (SQLite)? Then recording events and removing the
    /// inbox items they came from are two commits, in that order.
    fn inbox_apart(&self) -> bool {
        self.inbox.is_some()
    }

    /// Runs pending migrations; returns how many ran.
    pub fn migrate(&self) -> StoreResult<usize> {
        if self.access == Access::ReadOnly {
            return Err(StoreError::ReadOnly);
        }
        let mut conn = self.conn()?;
        let ran = match &mut *conn {
            DbConnection::Postgresql(c) => c.run_pending_migrations(PG_MIGRATIONS).map(|v| v.len()),
            DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
        };
        ran.map_err(|e| StoreError::Migrate(e.to_string()))
    }

    /// Fails unless every migration this binary knows has run. Reads the migrations table
    /// itself: diesel's own check creates that table first, which a read-only database
    /// refuses even when it exists.
    fn check_schema(&self) -> StoreResult<()> {
        use diesel::migration::MigrationSource;
        #[derive(QueryableByName)]
        struct Applied {
            #[diesel(sql_type = diesel::sql_types::Text)]
            version: String,
        }
        let known: Vec<String> = match self.backend {
            Backend::Postgres => MigrationSource::<diesel::pg::Pg>::migrations(&PG_MIGRATIONS)
                .map(|ms| ms.iter().map(|m| m.name().version().to_string()).collect()),
            Backend::Sqlite => {
                MigrationSource::<diesel::sqlite::Sqlite>::migrations(&SQLITE_MIGRATIONS)
                    .map(|ms| ms.iter().map(|m| m.name().version().to_string()).collect())
            }
        }
        .map_err(|e| StoreError::Migrate(e.to_string()))?;
        let mut conn = self.conn()?;
        let applied: Vec<Applied> =
            diesel::sql_query("SELECT version FROM __diesel_schema_migrations")
                .load(&mut *conn)
                .map_err(|e| StoreError::SchemaBehind(format!("no migrations have run: {e}")))?;
        let applied: std::collections::BTreeSet<String> =
            applied.into_iter().map(|a| a.version).collect();
        let missing: Vec<&String> = known.iter().filter(|v| !applied.contains(*v)).collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(StoreError::SchemaBehind(format!(
                "{} migration(s) not run, the first {}",
                missing.len(),
                missing[0]
            )))
        }
    }

    /// Is the database answering?
    pub fn ping(&self) -> StoreResult<()> {
        use diesel::r2d2::R2D2Connection;
        Ok(self.conn()?.ping()?)
    }

    /// Is this PostgreSQL server a hot standby (in recovery)? Always false on SQLite.
    pub fn in_recovery(&self) -> StoreResult<bool> {
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Bool)]
            r: bool,
        }
        let mut conn = self.conn()?;
        match &mut *conn {
            DbConnection::Postgresql(c) => {
                let row: Row =
                    diesel::sql_query("SELECT pg_is_in_recovery() AS r").get_result(c)?;
                Ok(row.r)
            }
            DbConnection::Sqlite(_) => Ok(false),
        }
    }
}

/// Microseconds since the epoch (every time column), as a time.
pub(crate) fn time(us: i64) -> DateTime<Utc> {
    crate::time::from_micros(us)
}
