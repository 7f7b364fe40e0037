//! The Store, checked against both backends: every test body is written once, taking a `&Store`
//! (and the database it lives in), and `both!` runs it on a fresh SQLite file and on a fresh
//! PostgreSQL database. Nothing is shared between tests, so they run in parallel.
//!
//! The store holds the inbox, the event log, tokens and graph snapshots; every domain rule is
//! catalog-core's (tested there). What is tested here is what the store itself promises:
//! idempotent appends in commit order, leases, lookups by the log's index columns,
//! snapshots that are only ever read whole, and a read-only store that writes nothing.
//!
//! PostgreSQL must be running (trust auth, user `postgres`); the admin URL comes from
//! `CATALOG_TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`). When it is not
//! reachable the PostgreSQL tests fail, they never skip.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use catalog_core::event::{Event, ImageRegistered, NewEvent, RecordedEvent};
use catalog_core::identity::{self, labels};
use catalog_core::Platform;
use catalog_schema::{Backend, InboxItem, InboxState, NewInboxItem, Store, Token};
use chrono::{DateTime, TimeZone, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Integer, Text};
use diesel::{PgConnection, SqliteConnection};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

// ===================================================================================
// Harness: one fresh database per test, removed when the test ends (even on failure).
// ===================================================================================

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sqlite,
    Postgres,
}

const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique_suffix() -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{}_{n}_{nanos}", std::process::id())
}

fn pg_admin_url() -> String {
    std::env::var("CATALOG_TEST_PG_URL")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_PG_URL.to_string())
}

/// The admin URL with its database name replaced.
fn pg_url_for(admin: &str, database: &str) -> String {
    let (base, query) = match admin.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (admin, None),
    };
    let host_start = base.find("://").map_or(0, |i| i + 3);
    let without_db = match base[host_start..].find('/') {
        Some(i) => &base[..host_start + i],
        None => base,
    };
    match query {
        Some(q) => format!("{without_db}/{database}?{q}"),
        None => format!("{without_db}/{database}"),
    }
}

fn pg_admin_conn(admin: &str) -> PgConnection {
    PgConnection::establish(admin).unwrap_or_else(|e| {
        panic!(
            "PostgreSQL not reachable at {admin}: start it with \
             `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` \
             or set CATALOG_TEST_PG_URL ({e})"
        )
    })
}

/// A database that exists for one test. Dropping it removes it (the SQLite directory, or the
/// PostgreSQL database `WITH (FORCE)`), so a failing test cleans up too.
struct TestDb {
    kind: Kind,
    url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(PathBuf),
    PgDatabase { admin: String, name: String },
}

impl TestDb {
    fn new(kind: Kind) -> TestDb {
        match kind {
            Kind::Sqlite => {
                let dir =
                    std::env::temp_dir().join(format!("catalog_schema_test_{}", unique_suffix()));
                std::fs::create_dir_all(&dir).unwrap();
                let url = dir.join("catalog.db").to_string_lossy().into_owned();
                TestDb {
                    kind,
                    url,
                    cleanup: Cleanup::Dir(dir),
                }
            }
            Kind::Postgres => {
                let admin = pg_admin_url();
                let name = format!("catalog_test_{}", unique_suffix());
                let mut conn = pg_admin_conn(&admin);
                diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
                    .execute(&mut conn)
                    .unwrap_or_else(|e| panic!("CREATE DATABASE {name} at {admin}: {e}"));
                TestDb {
                    kind,
                    url: pg_url_for(&admin, &name),
                    cleanup: Cleanup::PgDatabase { admin, name },
                }
            }
        }
    }

    fn open(&self) -> Store {
        let store =
            Store::open(&self.url, 4).unwrap_or_else(|e| panic!("Store::open({}): {e}", self.url));
        let want = match self.kind {
            Kind::Sqlite => Backend::Sqlite,
            Kind::Postgres => Backend::Postgres,
        };
        assert_eq!(
            store.backend(),
            want,
            "Store::open({}) picked the wrong backend",
            self.url
        );
        store
    }

    /// A fresh database of the same backend (for tests that need several).
    fn sibling(&self) -> TestDb {
        TestDb::new(self.kind)
    }

    fn sqlite_conn(&self) -> SqliteConnection {
        SqliteConnection::establish(&self.url).unwrap_or_else(|e| panic!("open {}: {e}", self.url))
    }

    fn pg_conn(&self) -> PgConnection {
        PgConnection::establish(&self.url).unwrap_or_else(|e| panic!("connect {}: {e}", self.url))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Never panic here: this also runs while a failed test unwinds.
        match &self.cleanup {
            Cleanup::Dir(dir) => {
                if let Err(e) = std::fs::remove_dir_all(dir) {
                    eprintln!("warning: cannot remove {}: {e}", dir.display());
                }
            }
            Cleanup::PgDatabase { admin, name } => {
                let dropped = PgConnection::establish(admin)
                    .map_err(|e| e.to_string())
                    .and_then(|mut c| {
                        diesel::sql_query(format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .execute(&mut c)
                        .map_err(|e| e.to_string())
                    });
                if let Err(e) = dropped {
                    eprintln!("warning: cannot drop database {name}: {e}");
                }
            }
        }
    }
}

/// Runs one test body on a fresh database of `kind`. The store is dropped before the database.
fn run(kind: Kind, body: fn(&Store, &TestDb)) {
    let db = TestDb::new(kind);
    let store = db.open();
    body(&store, &db);
    drop(store);
}

macro_rules! both {
    ($name:ident, $body:ident) => {
        mod $name {
            #[test]
            fn sqlite() {
                super::run(super::Kind::Sqlite, super::$body);
            }

            #[test]
            fn postgres() {
                super::run(super::Kind::Postgres, super::$body);
            }
        }
    };
}

both!(migrations, migrations_are_idempotent_and_match_the_schema);
both!(migration_backfill, migrating_a_log_indexes_what_it_holds);
both!(record_idempotent, record_is_idempotent);
both!(commit_order, readers_never_see_a_hole_fill_in);
both!(event_index, the_log_answers_what_a_worker_asks);
both!(import, import_log_appends_in_order_once);
both!(inbox, inbox_lease_fail_park_retry_and_record);
both!(inbox_concurrent, concurrent_claims_hand_each_item_out_once);
both!(events_page, events_page_paginates_filters_and_finds_by_key);
both!(tokens, tokens_create_lookup_count_delete);
both!(listen, a_commit_wakes_a_listener);
both!(read_only, a_read_only_store_refuses_every_write);
both!(snapshot_round_trip, snapshots_round_trip_in_parts);
both!(snapshot_incomplete, an_incomplete_snapshot_is_never_read);
both!(snapshot_prune, snapshots_keep_the_newest_two);
both!(
    outbox_lanes,
    enqueue_once_claim_per_lane_fail_park_and_retry
);
use log::{
    a_commit_wakes_a_listener, a_read_only_store_refuses_every_write,
    concurrent_claims_hand_each_item_out_once, import_log_appends_in_order_once,
    migrating_a_log_indexes_what_it_holds, readers_never_see_a_hole_fill_in,
    the_log_answers_what_a_worker_asks,
};
both!(outbox_leader, one_leader_at_a_time);
use outbox::{enqueue_once_claim_per_lane_fail_park_and_retry, one_leader_at_a_time};
use snapshots::{
    an_incomplete_snapshot_is_never_read, snapshots_keep_the_newest_two,
    snapshots_round_trip_in_parts,
};

#[path = "integration/kinds.rs"]
mod kinds;
#[path = "integration/log.rs"]
mod log;
#[path = "integration/outbox.rs"]
mod outbox;
#[path = "integration/snapshots.rs"]
mod snapshots;

// ===================================================================================
// Event builders
// ===================================================================================

const REG: &str = "registry.test";
const CART: &str = "shop/cart";
const WEB: &str = "shop/web";

fn at(min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, min, 0)
        .single()
        .unwrap()
}

fn new_event(key: String, min: u32, event: Event) -> NewEvent {
    NewEvent {
        key,
        occurred_at: at(min),
        source: "test".into(),
        actor: "integration".into(),
        event,
    }
}

/// A push of `digest` to `repository` (optionally tagged), as the ingest worker would make it.
fn push(
    min: u32,
    repository: &str,
    tag: Option<&str>,
    digest: &str,
    labels_: &[(&str, &str)],
) -> NewEvent {
    let labels: BTreeMap<String, String> = labels_
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let component = identity::component_name(repository, &labels);
    let version = identity::version_of(tag, &labels);
    new_event(
        format!("push:{repository}:{}:{digest}:{min}", tag.unwrap_or("-")),
        min,
        Event::ImageRegistered(ImageRegistered {
            registry: REG.into(),
            repository: repository.into(),
            digest: digest.into(),
            tag: tag.map(str::to_string),
            media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            size: 431,
            platforms: vec![Platform {
                os: "linux".into(),
                architecture: "amd64".into(),
                variant: None,
                digest: digest.into(),
            }],
            labels,
            created: Some(at(0)),
            component,
            version,
            tag_resolved: false,
        }),
    )
}

fn tag_deleted(min: u32, repository: &str, tag: &str) -> NewEvent {
    new_event(
        format!("tag-delete:{repository}:{tag}:{min}"),
        min,
        Event::TagDeleted {
            registry: REG.into(),
            repository: repository.into(),
            tag: tag.into(),
        },
    )
}

fn manifest_deleted(min: u32, repository: &str, digest: &str) -> NewEvent {
    new_event(
        format!("manifest-delete:{repository}:{digest}:{min}"),
        min,
        Event::ManifestDeleted {
            registry: REG.into(),
            repository: repository.into(),
            digest: digest.into(),
        },
    )
}

fn owner_set(min: u32, component: &str, team: &str, via: &str) -> NewEvent {
    new_event(
        format!("owner:{component}:{team}:{via}:{min}"),
        min,
        Event::OwnerSet {
            component: component.into(),
            team: team.into(),
            via: via.into(),
        },
    )
}

// ===================================================================================
// 1. Migrations, and the diesel schema against what the migrations create
// ===================================================================================

/// A column as declared in `src/schema.rs`: name, SQL type (`BigInt`, `Text`, ...), nullable.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct DeclaredColumn {
    name: String,
    ty: String,
    nullable: bool,
}

/// Reads `src/schema.rs` itself, so a table or column added there is checked without this file
/// changing (and `dsl_tables` below fails to cover a table it does not list).
fn parse_schema_rs() -> BTreeMap<String, Vec<DeclaredColumn>> {
    let src = include_str!("../src/schema.rs");
    let mut tables = BTreeMap::new();
    let mut expect_header = false;
    let mut current: Option<(String, Vec<DeclaredColumn>)> = None;
    for line in src.lines().map(str::trim) {
        if line.starts_with("diesel::table!") {
            expect_header = true;
            continue;
        }
        if expect_header && line.ends_with('{') {
            let name = line.split([' ', '(']).next().unwrap().to_string();
            current = Some((name, Vec::new()));
            expect_header = false;
            continue;
        }
        let Some((_, cols)) = current.as_mut() else {
            continue;
        };
        if line == "}" {
            let (name, cols) = current.take().unwrap();
            tables.insert(name, cols);
        } else if let Some((name, ty)) = line.split_once("->") {
            let ty = ty.trim().trim_end_matches(',').trim();
            let (ty, nullable) = match ty
                .strip_prefix("Nullable<")
                .and_then(|t| t.strip_suffix('>'))
            {
                Some(inner) => (inner, true),
                None => (ty, false),
            };
            cols.push(DeclaredColumn {
                name: name.trim().to_string(),
                ty: ty.to_string(),
                nullable,
            });
        }
    }
    assert!(current.is_none(), "unterminated table! block in schema.rs");
    assert!(!tables.is_empty(), "no table! blocks found in schema.rs");
    tables
}

/// Column names from the SELECT list diesel generates for `table.select(all_columns)`.
fn select_list_names(sql: &str) -> Vec<String> {
    let list = sql
        .strip_prefix("SELECT ")
        .and_then(|s| s.split(" FROM ").next())
        .unwrap_or_else(|| panic!("unexpected SQL: {sql}"));
    list.split(", ")
        .map(|c| {
            c.rsplit('.')
                .next()
                .unwrap()
                .trim_matches(['`', '"'])
                .to_string()
        })
        .collect()
}

/// Loads every column of a table with LIMIT 0 through the diesel DSL (the database rejects an
/// unknown column), and returns the table's name and the column names diesel selected.
macro_rules! dsl_table {
    ($conn:expr, $DB:ty, $t:ident, $row:ty) => {{
        catalog_schema::schema::$t::table
            .select(catalog_schema::schema::$t::all_columns)
            .limit(0)
            .load::<$row>($conn)
            .unwrap_or_else(|e| panic!("loading every column of {} failed: {e}", stringify!($t)));
        let all = catalog_schema::schema::$t::table.select(catalog_schema::schema::$t::all_columns);
        let sql = diesel::debug_query::<$DB, _>(&all).to_string();
        (stringify!($t), select_list_names(&sql))
    }};
}

macro_rules! dsl_tables {
    ($conn:expr, $DB:ty) => {
        vec![
            dsl_table!(
                $conn,
                $DB,
                events,
                (
                    i64,
                    String,
                    String,
                    String,
                    String,
                    String,
                    i64,
                    i64,
                    Option<String>,
                    Option<String>,
                    Option<String>
                )
            ),
            dsl_table!(
                $conn,
                $DB,
                inbox,
                (
                    i64,
                    String,
                    String,
                    i64,
                    i32,
                    i64,
                    Option<i64>,
                    Option<String>,
                    String
                )
            ),
            dsl_table!($conn, $DB, tokens, (String, String, String, i64)),
            dsl_table!($conn, $DB, graph_snapshots, (i64, i64, i64, i32, i64, bool)),
            dsl_table!($conn, $DB, graph_snapshot_parts, (i64, i32, Vec<u8>)),
            dsl_table!(
                $conn,
                $DB,
                outbox,
                (
                    i64,
                    String,
                    String,
                    String,
                    i64,
                    i32,
                    i64,
                    Option<i64>,
                    Option<String>,
                    String,
                    Option<i64>
                )
            ),
            dsl_table!($conn, $DB, outbox_cursor, (String, i64)),
            dsl_table!($conn, $DB, outbox_incidents, (String, String, i64)),
        ]
    };
}

/// A column as the database reports it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct DbColumn {
    name: String,
    decl_type: String,
    nullable: bool,
}

#[derive(QueryableByName)]
struct NameRow {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct SqliteColumnRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    decl_type: String,
    #[diesel(sql_type = Integer)]
    not_null: i32,
    #[diesel(sql_type = Integer)]
    pk: i32,
}

#[derive(QueryableByName)]
struct PgColumnRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    decl_type: String,
    #[diesel(sql_type = Bool)]
    nullable: bool,
}

/// What the database holds: the DSL's view, tables, columns, and applied migrations.
struct Introspection {
    dsl: Vec<(&'static str, Vec<String>)>,
    tables: BTreeSet<String>,
    columns: BTreeMap<String, Vec<DbColumn>>,
    migrations_applied: i64,
}

const MIGRATIONS_TABLE: &str = "__diesel_schema_migrations";

fn introspect_sqlite(db: &TestDb) -> Introspection {
    let mut c = db.sqlite_conn();
    let c = &mut c;
    let dsl = dsl_tables!(c, diesel::sqlite::Sqlite);
    let tables: BTreeSet<String> = diesel::sql_query(format!(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name <> '{MIGRATIONS_TABLE}'"
    ))
    .load::<NameRow>(c)
    .unwrap()
    .into_iter()
    .map(|r| r.name)
    .collect();
    let mut columns = BTreeMap::new();
    for t in &tables {
        let rows: Vec<SqliteColumnRow> = diesel::sql_query(format!(
            "SELECT name, type AS decl_type, \"notnull\" AS not_null, pk FROM pragma_table_info('{t}')"
        ))
        .load(c)
        .unwrap();
        let cols = rows
            .into_iter()
            .map(|r| DbColumn {
                name: r.name,
                decl_type: r.decl_type.to_ascii_uppercase(),
                // A primary-key column cannot hold NULL (all of ours are INTEGER PRIMARY KEY
                // or declared NOT NULL).
                nullable: r.not_null == 0 && r.pk == 0,
            })
            .collect();
        columns.insert(t.clone(), cols);
    }
    let migrations_applied =
        diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {MIGRATIONS_TABLE}"))
            .get_result::<CountRow>(c)
            .unwrap()
            .n;
    Introspection {
        dsl,
        tables,
        columns,
        migrations_applied,
    }
}

fn introspect_pg(db: &TestDb) -> Introspection {
    let mut c = db.pg_conn();
    let c = &mut c;
    let dsl = dsl_tables!(c, diesel::pg::Pg);
    let tables: BTreeSet<String> = diesel::sql_query(
        "SELECT table_name::text AS name FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> $1",
    )
    .bind::<Text, _>(MIGRATIONS_TABLE)
    .load::<NameRow>(c)
    .unwrap()
    .into_iter()
    .map(|r| r.name)
    .collect();
    let mut columns = BTreeMap::new();
    for t in &tables {
        let rows: Vec<PgColumnRow> = diesel::sql_query(
            "SELECT column_name::text AS name, data_type::text AS decl_type, \
             (is_nullable = 'YES') AS nullable \
             FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 \
             ORDER BY ordinal_position",
        )
        .bind::<Text, _>(t)
        .load(c)
        .unwrap();
        let cols = rows
            .into_iter()
            .map(|r| DbColumn {
                name: r.name,
                decl_type: r.decl_type.to_ascii_lowercase(),
                nullable: r.nullable,
            })
            .collect();
        columns.insert(t.clone(), cols);
    }
    let migrations_applied =
        diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {MIGRATIONS_TABLE}"))
            .get_result::<CountRow>(c)
            .unwrap()
            .n;
    Introspection {
        dsl,
        tables,
        columns,
        migrations_applied,
    }
}

/// Does a diesel SQL type fit the column type the migration declared?
fn type_fits(kind: Kind, diesel_ty: &str, db_ty: &str) -> bool {
    match (kind, diesel_ty) {
        (Kind::Postgres, "BigInt") => db_ty == "bigint",
        (Kind::Postgres, "Integer") => db_ty == "integer",
        (Kind::Postgres, "Text") => db_ty == "text",
        (Kind::Postgres, "Bool") => db_ty == "boolean",
        (Kind::Postgres, "Binary") => db_ty == "bytea",
        // SQLite: INTEGER PRIMARY KEY is the 64-bit rowid.
        (Kind::Sqlite, "BigInt") => db_ty == "BIGINT" || db_ty == "INTEGER",
        (Kind::Sqlite, "Integer") => db_ty == "INTEGER",
        (Kind::Sqlite, "Text") => db_ty == "TEXT",
        // SQLite has no boolean type: diesel's Bool is stored as 0/1.
        (Kind::Sqlite, "Bool") => db_ty == "INTEGER" || db_ty == "BOOLEAN",
        (Kind::Sqlite, "Binary") => db_ty == "BLOB",
        _ => false,
    }
}

fn migration_dirs(backend: &str) -> BTreeSet<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap())
        .filter(|e| e.path().join("up.sql").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

fn migrations_are_idempotent_and_match_the_schema(store: &Store, db: &TestDb) {
    // Store::open migrated already: nothing is left to run, on this store or a second one.
    assert_eq!(
        store.migrate().unwrap(),
        0,
        "second migrate must run nothing"
    );
    let again = db.open();
    assert_eq!(again.migrate().unwrap(), 0, "reopening must run nothing");
    again.ping().unwrap();
    drop(again);
    assert_eq!(store.migrate().unwrap(), 0);

    // Both dialects carry the same migrations, and all of them ran.
    let sqlite_dirs = migration_dirs("sqlite");
    let pg_dirs = migration_dirs("postgres");
    assert_eq!(sqlite_dirs, pg_dirs, "the two dialects' migrations differ");
    assert!(!sqlite_dirs.is_empty());

    let found = match db.kind {
        Kind::Sqlite => introspect_sqlite(db),
        Kind::Postgres => introspect_pg(db),
    };
    assert_eq!(
        found.migrations_applied,
        sqlite_dirs.len() as i64,
        "applied migrations"
    );

    let declared = parse_schema_rs();
    let declared_tables: BTreeSet<String> = declared.keys().cloned().collect();

    // The DSL check covers every table of schema.rs, and reads each one's columns in order.
    let dsl_tables: BTreeSet<String> = found.dsl.iter().map(|(t, _)| t.to_string()).collect();
    assert_eq!(
        dsl_tables, declared_tables,
        "tables loaded through the DSL vs schema.rs"
    );
    for (table, names) in &found.dsl {
        let want: Vec<String> = declared[*table].iter().map(|c| c.name.clone()).collect();
        assert_eq!(
            names, &want,
            "{table}: diesel's SELECT list vs schema.rs as parsed"
        );
    }

    // The database has exactly the tables schema.rs declares...
    assert_eq!(
        found.tables, declared_tables,
        "tables in the database vs schema.rs"
    );

    // ...and each has exactly the declared columns, of a fitting type and nullability.
    let mut problems = Vec::new();
    for (table, cols) in &declared {
        let in_db = &found.columns[table];
        let db_names: BTreeSet<&str> = in_db.iter().map(|c| c.name.as_str()).collect();
        let schema_names: BTreeSet<&str> = cols.iter().map(|c| c.name.as_str()).collect();
        for extra in db_names.difference(&schema_names) {
            problems.push(format!(
                "{table}.{extra}: in the database, not in schema.rs"
            ));
        }
        for missing in schema_names.difference(&db_names) {
            problems.push(format!(
                "{table}.{missing}: in schema.rs, not in the database"
            ));
        }
        for col in cols {
            let Some(dbc) = in_db.iter().find(|c| c.name == col.name) else {
                continue;
            };
            if !type_fits(db.kind, &col.ty, &dbc.decl_type) {
                problems.push(format!(
                    "{table}.{}: schema.rs says {} but the database says {}",
                    col.name, col.ty, dbc.decl_type
                ));
            }
            if col.nullable != dbc.nullable {
                problems.push(format!(
                    "{table}.{}: schema.rs nullable={} but the database nullable={}",
                    col.name, col.nullable, dbc.nullable
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "schema.rs drifts from the migrations:\n{}",
        problems.join("\n")
    );
}

// ===================================================================================
// 2. record is idempotent
// ===================================================================================

fn small_batch() -> Vec<NewEvent> {
    vec![
        push(
            1,
            CART,
            Some("1.0.0"),
            "sha256:a",
            &[(labels::OWNER, "checkout"), (labels::REVISION, "r1")],
        ),
        push(
            2,
            CART,
            Some("latest"),
            "sha256:a",
            &[(labels::OWNER, "checkout")],
        ),
        push(
            3,
            CART,
            Some("1.1.0"),
            "sha256:b",
            &[(labels::SOURCE, "https://git/cart")],
        ),
        manifest_deleted(4, CART, "sha256:a"),
        tag_deleted(5, CART, "1.1.0"),
        owner_set(6, CART, "payments", "api"),
    ]
}

fn record_is_idempotent(store: &Store, _db: &TestDb) {
    let batch = small_batch();
    let first = store.record(&[(None, batch.clone())]).unwrap();
    assert_eq!(
        first.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(),
        batch.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(),
        "every new event is returned, in order"
    );
    assert!(
        first.windows(2).all(|w| w[0].seq < w[1].seq),
        "seqs increase"
    );
    for (got, sent) in first.iter().zip(&batch) {
        assert_eq!(got.event, sent.event);
        assert_eq!(got.occurred_at, sent.occurred_at);
    }
    assert_eq!(store.event_count().unwrap(), batch.len() as i64);

    // The same batch again: nothing new, nothing changed.
    let second = store.record(&[(None, batch.clone())]).unwrap();
    assert!(second.is_empty(), "a replay returned {second:?}");
    // Again one event per call, and the whole batch twice within one call.
    for e in &batch {
        assert!(store.record(&[(None, vec![e.clone()])]).unwrap().is_empty());
    }
    assert!(store
        .record(&[(None, batch.clone()), (None, batch.clone())])
        .unwrap()
        .is_empty());
    assert_eq!(store.event_count().unwrap(), batch.len() as i64);
    assert_eq!(store.events_page(100, 0, None).unwrap(), first);

    // A batch mixing old and new events returns only the new one, and a duplicate key inside
    // one call is recorded once.
    let extra = push(7, CART, Some("1.2.0"), "sha256:c", &[]);
    let mut mixed = batch.clone();
    mixed.push(extra.clone());
    mixed.push(extra.clone());
    let got = store.record(&[(None, mixed)]).unwrap();
    assert_eq!(
        got.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(),
        [extra.key.as_str()]
    );
    assert_eq!(store.event_count().unwrap(), batch.len() as i64 + 1);
}

// ===================================================================================
// 3. The inbox
// ===================================================================================

const SEC: i64 = 1_000_000;

fn ids(items: &[InboxItem]) -> Vec<i64> {
    let mut v: Vec<i64> = items.iter().map(|i| i.id).collect();
    v.sort();
    v
}

fn inbox_lease_fail_park_retry_and_record(store: &Store, _db: &TestDb) {
    let t0: i64 = 1_800_000_000 * SEC;
    let lease = Duration::from_secs(30);
    assert_eq!(store.inbox_depth().unwrap(), (0, 0));
    assert!(store.inbox_claim(t0, lease, 10).unwrap().is_empty());
    store.inbox_append(&[]).unwrap();

    let items: Vec<NewInboxItem> = (0..5)
        .map(|i| NewInboxItem {
            source: "distribution".into(),
            body: format!("{{\"n\":{i}}}"),
            received_at: t0,
            next_attempt_at: t0,
        })
        .collect();
    store.inbox_append(&items).unwrap();
    assert_eq!(store.inbox_depth().unwrap(), (5, 0));

    let all = store.inbox_items(InboxState::Pending, 100, 0).unwrap();
    assert_eq!(all.len(), 5);
    assert_eq!(
        all.iter().map(|i| i.body.as_str()).collect::<Vec<_>>(),
        items.iter().map(|i| i.body.as_str()).collect::<Vec<_>>(),
        "oldest first"
    );
    assert!(all
        .iter()
        .all(|i| i.attempts == 0 && i.lease_until.is_none() && i.state == "pending"));
    let all_ids: Vec<i64> = all.iter().map(|i| i.id).collect();
    // Keyset pagination.
    let page1 = store.inbox_items(InboxState::Pending, 2, 0).unwrap();
    let page2 = store
        .inbox_items(InboxState::Pending, 2, page1[1].id)
        .unwrap();
    assert_eq!(ids(&page1), all_ids[..2]);
    assert_eq!(ids(&page2), all_ids[2..4]);
    assert!(store
        .inbox_items(InboxState::Parked, 100, 0)
        .unwrap()
        .is_empty());

    // Not ready before next_attempt_at.
    assert!(store.inbox_claim(t0 - 1, lease, 10).unwrap().is_empty());

    // A claim takes at most `limit`, oldest first, and counts the attempt.
    let c1 = store.inbox_claim(t0, lease, 3).unwrap();
    assert_eq!(ids(&c1), all_ids[..3]);
    let until = t0 + 30 * SEC;
    assert!(
        c1.iter()
            .all(|i| i.attempts == 1 && i.lease_until == Some(until)),
        "{c1:?}"
    );
    // Leased items are not handed out again at the same time (nor do they use up the
    // limit); the rest are.
    let c2 = store.inbox_claim(t0, lease, 2).unwrap();
    assert_eq!(ids(&c2), all_ids[3..]);
    assert!(store.inbox_claim(t0, lease, 10).unwrap().is_empty());
    assert!(
        store.inbox_claim(until, lease, 10).unwrap().is_empty(),
        "lease still holds at its end"
    );
    // Leased items are still pending (depth counts them).
    assert_eq!(store.inbox_depth().unwrap(), (5, 0));

    // After the lease runs out they come back, one more attempt each.
    let t1 = until + 1;
    let c3 = store.inbox_claim(t1, lease, 10).unwrap();
    assert_eq!(ids(&c3), all_ids);
    assert!(c3.iter().all(|i| i.attempts == 2), "{c3:?}");

    // A failure with a retry time hides the item until then.
    let (a, b, c, d, e) = (all_ids[0], all_ids[1], all_ids[2], all_ids[3], all_ids[4]);
    let retry_at = t1 + 100 * SEC;
    store
        .inbox_fail(a, "registry timeout", retry_at, false)
        .unwrap();
    let failed = store
        .inbox_items(InboxState::Pending, 100, 0)
        .unwrap()
        .into_iter()
        .find(|i| i.id == a)
        .unwrap();
    assert_eq!(failed.last_error.as_deref(), Some("registry timeout"));
    assert_eq!(failed.next_attempt_at, retry_at);
    assert_eq!(failed.lease_until, None);
    let t2 = t1 + 50 * SEC; // the others' lease has run out, `a` is not due yet
    let c4 = store.inbox_claim(t2, lease, 10).unwrap();
    assert_eq!(ids(&c4), vec![b, c, d, e]);
    assert!(store.inbox_claim(t2, lease, 10).unwrap().is_empty());
    // Just before retry_at the others' second lease has run out too, but `a` is still hidden.
    let c5 = store.inbox_claim(retry_at - 1, lease, 10).unwrap();
    assert_eq!(ids(&c5), vec![b, c, d, e]);
    let c5a = store.inbox_claim(retry_at, lease, 10).unwrap();
    assert_eq!(ids(&c5a), vec![a]);
    assert_eq!(c5a[0].attempts, 3);
    assert_eq!(
        c5a[0].last_error.as_deref(),
        Some("registry timeout"),
        "kept until it succeeds"
    );

    // Parking keeps the item with its error and never hands it out again.
    store.inbox_fail(b, "bad body", retry_at, true).unwrap();
    assert_eq!(store.inbox_depth().unwrap(), (4, 1));
    let parked = store.inbox_items(InboxState::Parked, 100, 0).unwrap();
    assert_eq!(ids(&parked), vec![b]);
    assert_eq!(parked[0].last_error.as_deref(), Some("bad body"));
    assert_eq!(parked[0].state, "parked");
    assert!(!ids(&store.inbox_items(InboxState::Pending, 100, 0).unwrap()).contains(&b));
    let far = retry_at + 10_000 * SEC;
    let c6 = store.inbox_claim(far, lease, 10).unwrap();
    assert_eq!(ids(&c6), vec![a, c, d, e], "a parked item is not claimed");

    // Retry puts it back once; a second retry (or one of a pending item) does nothing.
    assert!(store.inbox_retry(b, far).unwrap());
    assert!(!store.inbox_retry(b, far).unwrap());
    assert!(!store.inbox_retry(a, far).unwrap());
    assert!(!store.inbox_retry(i64::MAX, far).unwrap());
    assert_eq!(store.inbox_depth().unwrap(), (5, 0));
    assert!(store
        .inbox_items(InboxState::Parked, 100, 0)
        .unwrap()
        .is_empty());
    let c7 = store.inbox_claim(far, lease, 10).unwrap();
    assert_eq!(ids(&c7), vec![b], "the others are leased; b is ready again");
    assert_eq!(c7[0].attempts, 1, "retry resets attempts");

    // Recording an item's events removes it in the same transaction.
    let ev = push(1, CART, Some("1.0.0"), "sha256:a", &[]);
    let rec = store.record(&[(Some(c), vec![ev.clone()])]).unwrap();
    assert_eq!(rec.len(), 1);
    assert_eq!(store.inbox_depth().unwrap(), (4, 0));
    assert!(!ids(&store.inbox_items(InboxState::Pending, 100, 0).unwrap()).contains(&c));
    // An item whose events were recorded already (a redelivery) is removed too, and nothing
    // is recorded twice; so is an item that produced no events.
    let rec = store
        .record(&[(Some(d), vec![ev.clone()]), (Some(e), vec![])])
        .unwrap();
    assert!(rec.is_empty());
    assert_eq!(store.inbox_depth().unwrap(), (2, 0));
    assert_eq!(store.event_count().unwrap(), 1);
    assert_eq!(
        ids(&store.inbox_items(InboxState::Pending, 100, 0).unwrap()),
        vec![a, b]
    );
}

// ===================================================================================
// 6. events_page and event_by_key
// ===================================================================================

fn events_page_paginates_filters_and_finds_by_key(store: &Store, _db: &TestDb) {
    assert!(store.events_page(10, 0, None).unwrap().is_empty());
    assert_eq!(store.event_count().unwrap(), 0);

    // Every kind of event, deployments, snapshots, SBOMs and vulnerabilities included.
    let mut base = small_batch();
    base.extend(kinds::events());
    let recorded = store
        .record(&[(None, base[..9].to_vec()), (None, base[9..].to_vec())])
        .unwrap();
    assert_eq!(recorded.len(), base.len());
    assert_eq!(store.event_count().unwrap(), base.len() as i64);

    // All of it, page by page.
    let mut paged = Vec::new();
    let mut after = 0;
    let mut pages = 0;
    loop {
        let page = store.events_page(5, after, None).unwrap();
        assert!(page.len() <= 5);
        let Some(last) = page.last() else { break };
        after = last.seq;
        pages += 1;
        paged.extend(page);
    }
    assert_eq!(pages, base.len().div_ceil(5));
    assert_eq!(paged, recorded, "pages concatenate to the log, as recorded");
    assert!(paged.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(store.events_page(100, 0, None).unwrap(), recorded);
    assert!(store.events_page(0, 0, None).unwrap().is_empty());
    assert!(store
        .events_page(10, recorded.last().unwrap().seq, None)
        .unwrap()
        .is_empty());
    // `after` is exclusive.
    let mid = &recorded[7];
    assert_eq!(
        store.events_page(2, mid.seq, None).unwrap(),
        recorded[8..10].to_vec()
    );

    // Kind filter, alone and with a cursor.
    let mut total = 0;
    for kind in catalog_core::EventKind::ALL {
        let want: Vec<RecordedEvent> = recorded
            .iter()
            .filter(|e| e.event.kind() == kind)
            .cloned()
            .collect();
        assert!(!want.is_empty(), "the history has {}", kind.as_str());
        let got = store.events_page(100, 0, Some(kind)).unwrap();
        assert_eq!(got, want, "kind {}", kind.as_str());
        total += got.len();
        let rest = store.events_page(100, want[0].seq, Some(kind)).unwrap();
        assert_eq!(
            rest,
            want[1..].to_vec(),
            "kind {} after its first",
            kind.as_str()
        );
        let one = store.events_page(1, 0, Some(kind)).unwrap();
        assert_eq!(one, want[..1].to_vec());
        assert_eq!(store.events_count(Some(kind)).unwrap(), want.len() as i64);
        let newest = store.events_page_before(1, None, Some(kind)).unwrap();
        assert_eq!(
            newest,
            want[want.len() - 1..].to_vec(),
            "kind {}",
            kind.as_str()
        );
    }
    assert_eq!(total, recorded.len());
    assert_eq!(store.events_count(None).unwrap(), recorded.len() as i64);

    // Backwards from the end, page by page: the same log, newest page first.
    let mut back = Vec::new();
    let mut before = None;
    loop {
        let page = store.events_page_before(4, before, None).unwrap();
        assert!(page.len() <= 4);
        assert!(
            page.windows(2).all(|w| w[0].seq < w[1].seq),
            "a page is in log order"
        );
        let Some(first) = page.first() else { break };
        before = Some(first.seq);
        back.splice(0..0, page);
    }
    assert_eq!(back, recorded, "backward pages concatenate to the log");
    // `before` is exclusive.
    assert_eq!(
        store.events_page_before(2, Some(mid.seq), None).unwrap(),
        recorded[5..7].to_vec()
    );

    // By key.
    for e in &recorded {
        assert_eq!(store.event_by_key(&e.key).unwrap().as_ref(), Some(e));
    }
    for (sent, got) in base.iter().zip(&recorded) {
        assert_eq!(got.key, sent.key);
        assert_eq!(got.event, sent.event);
        assert_eq!(got.occurred_at, sent.occurred_at);
        assert_eq!(got.source, sent.source);
        assert_eq!(got.actor, sent.actor);
    }
    assert_eq!(store.event_by_key("no-such-key").unwrap(), None);
}

// ===================================================================================
// 7. Tokens
// ===================================================================================

fn tokens_create_lookup_count_delete(store: &Store, _db: &TestDb) {
    assert_eq!(store.token_count().unwrap(), 0);
    assert_eq!(store.token_lookup("h-ci").unwrap(), None);

    let scopes = vec!["read".to_string(), "ingest".to_string()];
    assert!(store.token_create("ci", "h-ci", &scopes).unwrap());
    assert!(store
        .token_create("admin", "h-admin", &["admin".to_string()])
        .unwrap());
    assert_eq!(store.token_count().unwrap(), 2);

    assert_eq!(
        store.token_lookup("h-ci").unwrap(),
        Some(Token {
            name: "ci".into(),
            scopes: scopes.clone(),
        })
    );
    assert_eq!(
        store.token_lookup("h-admin").unwrap(),
        Some(Token {
            name: "admin".into(),
            scopes: vec!["admin".into()],
        })
    );
    assert_eq!(
        store.token_lookup("ci").unwrap(),
        None,
        "looked up by hash, not name"
    );

    // A duplicate name is refused and changes nothing; so is a duplicate hash.
    assert!(!store
        .token_create("ci", "h-other", &["admin".to_string()])
        .unwrap());
    assert!(!store
        .token_create("ci-2", "h-ci", &["admin".to_string()])
        .unwrap());
    assert_eq!(store.token_count().unwrap(), 2);
    assert_eq!(store.token_lookup("h-other").unwrap(), None);
    assert_eq!(store.token_lookup("h-ci").unwrap().unwrap().scopes, scopes);

    assert!(store.token_delete("ci").unwrap());
    assert!(!store.token_delete("ci").unwrap());
    assert!(!store.token_delete("nobody").unwrap());
    assert_eq!(store.token_lookup("h-ci").unwrap(), None);
    assert_eq!(store.token_count().unwrap(), 1);
    // The name is free again.
    assert!(store
        .token_create("ci", "h-ci-2", &["read".to_string()])
        .unwrap());
    assert_eq!(store.token_lookup("h-ci-2").unwrap().unwrap().name, "ci");
    assert_eq!(store.token_count().unwrap(), 2);
}
