//! The Store: the only code that speaks SQL.
//!
//! One `DbConnection` (diesel's `MultiConnection` over PostgreSQL and SQLite) backs a pool.
//! Portable reads go through it directly. Writes need each dialect's upsert, `RETURNING` and
//! transaction flavour (SQLite takes the write lock up front with `BEGIN IMMEDIATE`), so the
//! write path is written once in `write_path!` and compiled for both concrete connections.

use crate::schema::{events, inbox, tag_history, tokens};
use crate::time::{from_micros, to_micros};
use catalog_core::event::{Event, NewEvent, RecordedEvent};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::r2d2::{ManageConnection, Pool, PooledConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::collections::BTreeMap;
use std::time::Duration;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

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
}

/// Opens the right inner connection for a URL (diesel's own `establish` would try each in
/// turn) and sets SQLite's pragmas on every new connection.
#[derive(Debug, Clone)]
struct Manager {
    url: String,
    backend: Backend,
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        use diesel::connection::SimpleConnection;
        match self.backend {
            Backend::Postgres => diesel::PgConnection::establish(&self.url)
                .map(DbConnection::Postgresql)
                .map_err(diesel::r2d2::Error::ConnectionError),
            Backend::Sqlite => {
                let path = self.url.strip_prefix("sqlite://").unwrap_or(&self.url);
                let mut c = diesel::SqliteConnection::establish(path)
                    .map_err(diesel::r2d2::Error::ConnectionError)?;
                // busy_timeout first: even switching to WAL must wait for a busy writer.
                // WAL lets readers run beside the writer; synchronous=FULL makes every commit
                // durable before we acknowledge it (group commit keeps that cheap).
                c.batch_execute(
                    "PRAGMA busy_timeout = 15000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
                )
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

/// A row of the durable inbox.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
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

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = events)]
struct EventRow {
    seq: i64,
    key: String,
    #[allow(dead_code)]
    kind: String,
    payload: String,
    source: String,
    actor: String,
    occurred_at: i64,
    recorded_at: i64,
}

impl EventRow {
    fn into_recorded(self) -> StoreResult<RecordedEvent> {
        let event: Event = serde_json::from_str(&self.payload)
            .map_err(|e| StoreError::Corrupt(format!("event {}: {e}", self.seq)))?;
        Ok(RecordedEvent {
            seq: self.seq,
            key: self.key,
            occurred_at: from_micros(self.occurred_at),
            recorded_at: from_micros(self.recorded_at),
            source: self.source,
            actor: self.actor,
            event,
        })
    }
}

/// One observation of a tag, from `tag_history`.
#[derive(Debug, Clone, PartialEq)]
pub struct TagObservation {
    pub digest: Option<String>,
    pub at: DateTime<Utc>,
    pub seq: i64,
}

/// One image containing a version of a package, as [`Store::package_images_sql`] returns it:
/// with the component version built from it and that component's owner, where known.
#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct PackageImageRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub image: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub package_version: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Integer>)]
    pub depth: Option<i32>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub component: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub version: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub owner: Option<String>,
}

/// One workload's observation, as [`Store::inventory_sql`] returns it.
#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct ObservationRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub namespace: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub workload: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub status: String,
    /// JSON array of runs.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub runs: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub at: i64,
}

/// A bearer token's identity (the secret itself is never stored).
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub name: String,
    pub scopes: Vec<String>,
}

mod bulk;
mod fair_lock;
mod graph_sql;
mod write_path;

pub use graph_sql::{BlastOf, BlastSql, GraphRows, OwnerRow};

use fair_lock::{FairGuard, FairLock};

/// The catalog's persistent store.
#[derive(Clone)]
pub struct Store {
    pool: Pool<Manager>,
    backend: Backend,
    /// Queues this process's SQLite writers (PostgreSQL locks rows, not the database).
    writes: std::sync::Arc<FairLock>,
}

/// How durable a write must be before it returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// On disk before returning: what is acknowledged to a sender or a user.
    Immediate,
    /// Derived from something already durable (the inbox): on SQLite the commit is not
    /// fsynced on its own. A power loss can only roll it back together with the inbox
    /// deletion in the same transaction, so the item is simply processed again.
    Deferred,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish()
    }
}

macro_rules! with_conn {
    ($conn:expr, $c:ident => $body:expr) => {
        match &mut *$conn {
            DbConnection::Postgresql($c) => {
                use write_path::pg as wp;
                let _ = &wp::NAME;
                $body
            }
            DbConnection::Sqlite($c) => {
                use write_path::sqlite as wp;
                let _ = &wp::NAME;
                $body
            }
        }
    };
}

impl Store {
    /// Opens (creating a SQLite file if needed) and migrates. `url` is `postgres://...` /
    /// `postgresql://...`, or a SQLite path (optionally `sqlite://path`).
    pub fn open(url: &str, pool_size: u32) -> StoreResult<Store> {
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        };
        let pool = Pool::builder()
            .max_size(pool_size.max(2))
            .connection_timeout(Duration::from_secs(15))
            .build(Manager {
                url: url.to_string(),
                backend,
            })
            .map_err(|e| StoreError::Connect(e.to_string()))?;
        let store = Store {
            pool,
            backend,
            writes: std::sync::Arc::default(),
        };
        store.migrate()?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A connection for writing: on SQLite, first a turn in this process's writer queue.
    fn writer(&self) -> StoreResult<(Option<FairGuard<'_>>, PooledConnection<Manager>)> {
        let turn = (self.backend == Backend::Sqlite).then(|| self.writes.lock());
        Ok((turn, self.conn()?))
    }

    fn conn(&self) -> StoreResult<PooledConnection<Manager>> {
        self.pool
            .get()
            .map_err(|e| StoreError::Connect(e.to_string()))
    }

    /// Runs pending migrations; returns how many ran.
    pub fn migrate(&self) -> StoreResult<usize> {
        let mut conn = self.conn()?;
        let ran = match &mut *conn {
            DbConnection::Postgresql(c) => c.run_pending_migrations(PG_MIGRATIONS).map(|v| v.len()),
            DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
        };
        ran.map_err(|e| StoreError::Migrate(e.to_string()))
    }

    /// Is the database answering?
    pub fn ping(&self) -> StoreResult<()> {
        use diesel::r2d2::R2D2Connection;
        Ok(self.conn()?.ping()?)
    }

    // ----- inbox -----

    /// Appends items durably, all or none, in one transaction (the hook's group commit).
    pub fn inbox_append(&self, items: &[NewInboxItem]) -> StoreResult<()> {
        if items.is_empty() {
            return Ok(());
        }
        let (_turn, mut conn) = self.writer()?;
        with_conn!(conn, c => wp::inbox_append(c, items))?;
        Ok(())
    }

    /// Leases up to `limit` ready items for `lease`; another worker will not see them until
    /// the lease runs out (a crashed worker's items come back).
    pub fn inbox_claim(
        &self,
        now: i64,
        lease: Duration,
        limit: i64,
    ) -> StoreResult<Vec<InboxItem>> {
        let (_turn, mut conn) = self.writer()?;
        let until = now + lease.as_micros() as i64;
        Ok(with_conn!(conn, c => wp::inbox_claim(c, now, until, limit))?)
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
        Ok(with_conn!(conn, c => wp::inbox_fail(c, id, error, retry_at, park))?)
    }

    /// Puts a parked item back in the queue.
    pub fn inbox_retry(&self, id: i64, now: i64) -> StoreResult<bool> {
        let (_turn, mut conn) = self.writer()?;
        Ok(with_conn!(conn, c => wp::inbox_retry(c, id, now))? > 0)
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
        let count = |conn: &mut DbConnection, s: &str| -> QueryResult<i64> {
            inbox::table
                .filter(inbox::state.eq(s))
                .count()
                .get_result(conn)
        };
        Ok((count(&mut conn, "pending")?, count(&mut conn, "parked")?))
    }

    // ----- events -----

    /// Appends events (idempotent on their key), updates the current-state tables, and
    /// removes the inbox items they came from, in ONE transaction. Returns only the events
    /// that were new; a replay returns nothing and changes nothing.
    pub fn record(
        &self,
        batch: &[(Option<i64>, Vec<NewEvent>)],
    ) -> StoreResult<Vec<RecordedEvent>> {
        self.record_with(batch, Durability::Immediate)
    }

    /// [`Store::record`] with a chosen durability (the worker records `Deferred`: its input
    /// is the durable inbox, and it should not hold SQLite's lock through an fsync per batch).
    pub fn record_with(
        &self,
        batch: &[(Option<i64>, Vec<NewEvent>)],
        durability: Durability,
    ) -> StoreResult<Vec<RecordedEvent>> {
        use diesel::connection::SimpleConnection;
        let now = to_micros(Utc::now());
        let (_turn, mut conn) = self.writer()?;
        let relax = durability == Durability::Deferred && self.backend == Backend::Sqlite;
        if relax {
            conn.batch_execute("PRAGMA synchronous = NORMAL")?;
        }
        let rows = with_conn!(conn, c => wp::record(c, batch, now));
        if relax {
            conn.batch_execute("PRAGMA synchronous = FULL")?;
        }
        Ok(rows?)
    }

    /// Up to `first` events of the log in sequence order after `after`, optionally of one
    /// kind (callers that page ask for one more to learn whether a next page exists).
    pub fn events_page(
        &self,
        first: i64,
        after: i64,
        kind: Option<&str>,
    ) -> StoreResult<Vec<RecordedEvent>> {
        let mut conn = self.conn()?;
        let mut q = events::table
            .filter(events::seq.gt(after))
            .order(events::seq.asc())
            .limit(first)
            .select(EventRow::as_select())
            .into_boxed();
        if let Some(k) = kind {
            q = q.filter(events::kind.eq(k.to_string()));
        }
        q.load::<EventRow>(&mut *conn)?
            .into_iter()
            .map(EventRow::into_recorded)
            .collect()
    }

    pub fn event_count(&self) -> StoreResult<i64> {
        let mut conn = self.conn()?;
        Ok(events::table.count().get_result(&mut *conn)?)
    }

    pub fn event_by_key(&self, key: &str) -> StoreResult<Option<RecordedEvent>> {
        let mut conn = self.conn()?;
        events::table
            .filter(events::key.eq(key))
            .select(EventRow::as_select())
            .first::<EventRow>(&mut *conn)
            .optional()?
            .map(EventRow::into_recorded)
            .transpose()
    }

    // ----- current state (SQL view of what the graph holds) -----

    /// A repository's live tags, `tag -> digest`.
    pub fn current_tags(
        &self,
        registry: &str,
        repository: &str,
    ) -> StoreResult<BTreeMap<String, String>> {
        let mut conn = self.conn()?;
        Ok(with_conn!(conn, c => wp::current_tags(c, registry, repository))?)
    }

    /// Every observation of a tag, by time.
    pub fn tag_history(
        &self,
        registry: &str,
        repository: &str,
        tag: &str,
    ) -> StoreResult<Vec<TagObservation>> {
        let mut conn = self.conn()?;
        let rows: Vec<(Option<String>, i64, i64)> = tag_history::table
            .filter(tag_history::registry.eq(registry))
            .filter(tag_history::repository.eq(repository))
            .filter(tag_history::tag.eq(tag))
            .order((tag_history::at.asc(), tag_history::seq.asc()))
            .select((tag_history::digest, tag_history::at, tag_history::seq))
            .load(&mut *conn)?;
        Ok(rows
            .into_iter()
            .map(|(digest, at, seq)| TagObservation {
                digest,
                at: from_micros(at),
                seq,
            })
            .collect())
    }

    /// Counts of the current-state tables, by name (tests compare them with the graph).
    pub fn state_counts(&self) -> StoreResult<BTreeMap<&'static str, i64>> {
        let mut conn = self.conn()?;
        Ok(with_conn!(conn, c => wp::state_counts(c))?)
    }

    /// A component's (version, digest, deleted) rows, as the state tables hold them.
    pub fn versions_of(&self, component: &str) -> StoreResult<Vec<(String, String, bool)>> {
        let mut conn = self.conn()?;
        Ok(with_conn!(conn, c => wp::versions_of(c, component))?)
    }

    /// The owner of a component, as the state tables hold it.
    pub fn owner_of(&self, component: &str) -> StoreResult<Option<String>> {
        let mut conn = self.conn()?;
        Ok(with_conn!(conn, c => wp::owner_of(c, component))?)
    }

    // ----- deployments -----

    /// What runs in a cluster at `at` (micros), computed by SQL alone from the observation
    /// and snapshot tables: each workload's latest observation at or before `at`, unless it
    /// is a removal or a later snapshot (not after `at`) left the workload out. The same
    /// rule the in-memory inventory folds; benchmarks use it as the baseline.
    pub fn inventory_sql(&self, cluster: &str, at: i64) -> StoreResult<Vec<ObservationRow>> {
        const SQL: &str = "SELECT o.namespace, o.workload, o.status, o.runs, o.at \
            FROM deployment_observations o \
            WHERE o.cluster = $1 AND o.at <= $2 AND o.status <> 'removed' \
            AND NOT EXISTS (SELECT 1 FROM deployment_observations n \
                WHERE n.cluster = o.cluster AND n.namespace = o.namespace \
                AND n.workload = o.workload AND n.at <= $2 \
                AND (n.at > o.at OR (n.at = o.at AND n.event_key > o.event_key))) \
            AND NOT EXISTS (SELECT 1 FROM cluster_snapshots s \
                WHERE s.cluster = o.cluster AND s.at > o.at AND s.at <= $2) \
            ORDER BY o.namespace, o.workload";
        use diesel::sql_types::{BigInt, Text};
        let mut conn = self.conn()?;
        Ok(match &mut *conn {
            DbConnection::Postgresql(c) => diesel::sql_query(SQL)
                .bind::<Text, _>(cluster)
                .bind::<BigInt, _>(at)
                .load(c)?,
            // SQLite numbers its parameters the same way with `?NNN`.
            DbConnection::Sqlite(c) => diesel::sql_query(SQL.replace('$', "?"))
                .bind::<Text, _>(cluster)
                .bind::<BigInt, _>(at)
                .load(c)?,
        })
    }

    /// The images whose current SBOM lists any version of `package` (a versionless purl),
    /// with the component versions built from them and their owners, by SQL alone from the
    /// state tables: what `package(purl)` answers from the graph, less the live deployments.
    /// Benchmarks use it as the baseline.
    pub fn package_images_sql(&self, package: &str) -> StoreResult<Vec<PackageImageRow>> {
        const SQL: &str = "SELECT ip.image, ip.package_version, ip.depth, \
                cv.component, cv.version, o.team AS owner \
            FROM package_versions pv \
            JOIN image_packages ip ON ip.package_version = pv.purl \
            LEFT JOIN component_versions cv ON cv.digest = ip.image \
            LEFT JOIN ownership o ON o.component = cv.component \
            WHERE pv.package = $1 \
            ORDER BY ip.image, ip.package_version, cv.component, cv.version";
        use diesel::sql_types::Text;
        let mut conn = self.conn()?;
        Ok(match &mut *conn {
            DbConnection::Postgresql(c) => {
                diesel::sql_query(SQL).bind::<Text, _>(package).load(c)?
            }
            DbConnection::Sqlite(c) => diesel::sql_query(SQL.replace('$', "?"))
                .bind::<Text, _>(package)
                .load(c)?,
        })
    }

    /// (package version, depth) rows of an image's current SBOM, as the state tables hold them.
    pub fn image_packages(&self, image: &str) -> StoreResult<Vec<(String, Option<i32>)>> {
        use crate::schema::image_packages as ip;
        let mut conn = self.conn()?;
        Ok(ip::table
            .filter(ip::image.eq(image))
            .order(ip::package_version.asc())
            .select((ip::package_version, ip::depth))
            .load(&mut *conn)?)
    }

    /// (name, environment) of every cluster the store has seen.
    pub fn clusters(&self) -> StoreResult<Vec<(String, Option<String>)>> {
        use crate::schema::clusters;
        let mut conn = self.conn()?;
        Ok(clusters::table
            .order(clusters::name.asc())
            .select((clusters::name, clusters::environment))
            .load(&mut *conn)?)
    }

    // ----- tokens -----

    pub fn token_create(&self, name: &str, hash: &str, scopes: &[String]) -> StoreResult<bool> {
        let (_turn, mut conn) = self.writer()?;
        let row = (
            tokens::name.eq(name),
            tokens::hash.eq(hash),
            tokens::scopes.eq(scopes.join(",")),
            tokens::created_at.eq(to_micros(Utc::now())),
        );
        Ok(with_conn!(conn, c => diesel::insert_into(tokens::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(c))?
            > 0)
    }

    pub fn token_lookup(&self, hash: &str) -> StoreResult<Option<Token>> {
        let mut conn = self.conn()?;
        let row: Option<(String, String)> = tokens::table
            .filter(tokens::hash.eq(hash))
            .select((tokens::name, tokens::scopes))
            .first(&mut *conn)
            .optional()?;
        Ok(row.map(|(name, scopes)| Token {
            name,
            scopes: scopes
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        }))
    }

    pub fn token_count(&self) -> StoreResult<i64> {
        let mut conn = self.conn()?;
        Ok(tokens::table.count().get_result(&mut *conn)?)
    }

    pub fn token_delete(&self, name: &str) -> StoreResult<bool> {
        let (_turn, mut conn) = self.writer()?;
        Ok(diesel::delete(tokens::table.filter(tokens::name.eq(name))).execute(&mut *conn)? > 0)
    }
}
