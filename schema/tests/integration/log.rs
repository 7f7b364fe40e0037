//! The event log's promises beyond idempotence: readers never see a hole fill in (commit
//! order is sequence order), the index columns answer a worker's questions, bulk imports,
//! concurrent claims, commit notifications, migrations of an existing log, and a read-only
//! store that writes nothing.

use super::{manifest_deleted, push, small_batch, tag_deleted, Kind, TestDb, CART, REG, SEC, WEB};
use catalog_core::event::{Event, NewEvent, RecordedEvent};
use catalog_schema::{Access, InboxState, NewInboxItem, Store, StoreError};
use diesel::prelude::*;
use diesel::SqliteConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

fn sbom_event(min: u32, image: &str, doc: &str) -> NewEvent {
    super::kinds::sbom(min, image, doc, Vec::new())
}

/// Writers in four processes' worth of stores append concurrently while a reader tails the
/// log the way a replica does (everything after the highest number it has seen). With
/// appends in commit order, everything the reader ever read, concatenated, is the whole log:
/// no event can commit below a number the reader already passed.
pub(crate) fn readers_never_see_a_hole_fill_in(store: &Store, db: &TestDb) {
    const WRITERS: usize = 4;
    const PER_WRITER: usize = 120;
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (url, done) = (db.url.clone(), done.clone());
        std::thread::spawn(move || {
            let s = Store::open(&url, 2).unwrap();
            let mut seen: Vec<RecordedEvent> = Vec::new();
            let mut last = 0;
            loop {
                let finished = done.load(Ordering::Acquire);
                let page = s.events_page(1000, last, None).unwrap();
                for e in &page {
                    assert!(e.seq > last, "read {} after {last}", e.seq);
                    last = e.seq;
                }
                seen.extend(page);
                if finished {
                    // One more read after every writer finished, then stop.
                    let rest = s.events_page(100_000, last, None).unwrap();
                    seen.extend(rest);
                    return seen;
                }
            }
        })
    };
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let url = db.url.clone();
            std::thread::spawn(move || {
                let s = Store::open(&url, 2).unwrap();
                let mut n = 0;
                let mut k = 0u32;
                while n < PER_WRITER {
                    // Batches of 1..=3, and now and then a replay (which records nothing).
                    let size = 1 + (k as usize % 3);
                    let batch: Vec<NewEvent> = (0..size)
                        .map(|i| {
                            push(
                                (k % 50) + 1,
                                &format!("shop/w{w}"),
                                Some(&format!("1.{k}.{i}")),
                                &format!("sha256:{w:02}{k:06}{i:02}"),
                                &[],
                            )
                        })
                        .collect();
                    n += s.record(&[(None, batch.clone())]).unwrap().len();
                    if k.is_multiple_of(7) {
                        assert!(s.record(&[(None, batch)]).unwrap().is_empty());
                    }
                    k += 1;
                    if k.is_multiple_of(5) {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
                n
            })
        })
        .collect();
    let written: usize = writers.into_iter().map(|w| w.join().unwrap()).sum();
    done.store(true, Ordering::Release);
    let seen = reader.join().unwrap();
    let log = store.events_page(100_000, 0, None).unwrap();
    assert_eq!(log.len(), written);
    let seen_keys: Vec<&str> = seen.iter().map(|e| e.key.as_str()).collect();
    let log_keys: Vec<&str> = log.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(
        seen_keys.len(),
        log_keys.len(),
        "the tailing reader missed {} events that committed below a number it had passed",
        log_keys.len() - seen_keys.len().min(log_keys.len())
    );
    assert_eq!(seen_keys, log_keys);
}

/// What the worker and reconcile ask instead of holding a graph.
pub(crate) fn the_log_answers_what_a_worker_asks(store: &Store, _db: &TestDb) {
    let (a, b, c) = ("sha256:a", "sha256:b", "sha256:c");
    let events = vec![
        push(1, CART, Some("1.0.0"), a, &[("k", "first")]),
        // The same digest again later (another tag): the first registration's facts stand.
        push(2, CART, Some("latest"), a, &[("k", "second")]),
        push(3, WEB, Some("2.0.0"), b, &[]),
        sbom_event(4, a, "sha256:doc-a"),
        tag_deleted(5, CART, "latest"),
        manifest_deleted(6, WEB, b),
        sbom_event(7, c, "sha256:doc-c"),
    ];
    store.record(&[(None, events)]).unwrap();
    store.record(&[(None, super::kinds::events())]).unwrap();

    let facts = store
        .image_registrations(&[a, b, c, "sha256:none"])
        .unwrap();
    assert_eq!(facts.keys().collect::<Vec<_>>(), [a, b]);
    assert_eq!(facts[a].labels["k"], "first", "the first registration");
    assert_eq!(facts[a].repository, CART);
    assert_eq!(
        store.images_with_sbom(&[a, b, c, "sha256:none"]).unwrap(),
        [a, c]
            .iter()
            .map(|s| s.to_string())
            .collect::<BTreeSet<_>>()
    );
    assert!(store.image_registrations(&[]).unwrap().is_empty());
    assert!(store.images_with_sbom(&[]).unwrap().is_empty());
    assert_eq!(
        store.repositories(REG).unwrap(),
        [CART.to_string(), WEB.to_string()]
    );
    assert!(store.repositories("other.registry").unwrap().is_empty());
    let cart: Vec<String> = store
        .repository_events(REG, CART)
        .unwrap()
        .into_iter()
        .map(|e| e.event.kind().as_str().to_string())
        .collect();
    assert_eq!(
        cart,
        ["image.registered", "image.registered", "tag.deleted"],
        "a repository's pushes and deletes, in log order, nothing else"
    );
    let web = store.repository_events(REG, WEB).unwrap();
    assert_eq!(web.len(), 2);
    assert!(matches!(web[1].event, Event::ManifestDeleted { .. }));
}

/// A log written before the index columns existed gets them filled by the migration; the
/// migration also reverts and reapplies cleanly.
pub(crate) fn migrating_a_log_indexes_what_it_holds(_store: &Store, db: &TestDb) {
    let old = db.sibling();
    let insert = |kind: &str, key: &str, payload: String| {
        format!(
            "INSERT INTO events (key, kind, payload, source, actor, occurred_at, recorded_at) \
             VALUES ('{key}', '{kind}', '{}', 'test', 'test', 1, 1)",
            payload.replace('\'', "''")
        )
    };
    let events = [
        push(1, CART, Some("1.0.0"), "sha256:a", &[]),
        sbom_event(2, "sha256:a", "sha256:doc"),
        tag_deleted(3, CART, "1.0.0"),
        manifest_deleted(4, WEB, "sha256:b"),
    ];
    let rows: Vec<String> = events
        .iter()
        .map(|e| {
            insert(
                e.event.kind().as_str(),
                &e.key,
                serde_json::to_string(&e.event).unwrap(),
            )
        })
        .collect();
    // The schema as it was before the store dropped its state tables: five migrations.
    match old.kind {
        Kind::Sqlite => {
            let mut c = old.sqlite_conn();
            for _ in 0..5 {
                c.run_next_migration(SQLITE_MIGRATIONS).unwrap();
            }
            for r in &rows {
                diesel::sql_query(r).execute(&mut c).unwrap();
            }
        }
        Kind::Postgres => {
            let mut c = old.pg_conn();
            for _ in 0..5 {
                c.run_next_migration(PG_MIGRATIONS).unwrap();
            }
            for r in &rows {
                diesel::sql_query(r).execute(&mut c).unwrap();
            }
        }
    }
    let check = |s: &Store| {
        assert_eq!(
            s.image_registrations(&["sha256:a"]).unwrap().len(),
            1,
            "backfilled image column"
        );
        assert_eq!(s.images_with_sbom(&["sha256:a"]).unwrap().len(), 1);
        assert_eq!(s.repositories(REG).unwrap(), [CART, WEB]);
        assert_eq!(s.repository_events(REG, CART).unwrap().len(), 2);
        assert_eq!(s.event_count().unwrap(), 4);
    };
    let s = old.open();
    check(&s);
    drop(s);
    // Down and up again.
    match old.kind {
        Kind::Sqlite => {
            let mut c = old.sqlite_conn();
            c.revert_last_migration(SQLITE_MIGRATIONS).unwrap();
        }
        Kind::Postgres => {
            let mut c = old.pg_conn();
            c.revert_last_migration(PG_MIGRATIONS).unwrap();
        }
    }
    let s = old.open();
    check(&s);
}

pub(crate) fn import_log_appends_in_order_once(store: &Store, _db: &TestDb) {
    let mut base = small_batch();
    base.extend(super::kinds::events());
    assert_eq!(store.import_log(&base).unwrap(), base.len());
    assert_eq!(
        store.import_log(&base).unwrap(),
        0,
        "a second import adds nothing"
    );
    let log = store.events_page(10_000, 0, None).unwrap();
    assert_eq!(
        log.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(),
        base.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(),
        "sequence numbers follow the slice"
    );
    // And `record` after an import skips what was imported.
    assert!(store.record(&[(None, base.clone())]).unwrap().is_empty());
    assert_eq!(store.last_seq().unwrap(), log.last().unwrap().seq);
}

/// Four workers (each its own store, as separate processes) claim from one inbox at once:
/// every item is handed out exactly once.
pub(crate) fn concurrent_claims_hand_each_item_out_once(store: &Store, db: &TestDb) {
    let t0: i64 = 1_800_000_000 * SEC;
    let items: Vec<NewInboxItem> = (0..300)
        .map(|i| NewInboxItem {
            source: "test".into(),
            body: format!("{{\"n\":{i}}}"),
            received_at: t0,
            next_attempt_at: t0,
        })
        .collect();
    store.inbox_append(&items).unwrap();
    let claimers: Vec<_> = (0..4)
        .map(|_| {
            let url = db.url.clone();
            std::thread::spawn(move || {
                let s = Store::open(&url, 2).unwrap();
                let mut got = Vec::new();
                loop {
                    let c = s.inbox_claim(t0, Duration::from_secs(60), 7).unwrap();
                    if c.is_empty() {
                        return got;
                    }
                    got.extend(c.into_iter().map(|i| i.id));
                }
            })
        })
        .collect();
    let mut all: Vec<i64> = claimers
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    let n = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), n, "an item was handed out twice");
    assert_eq!(n, 300, "every item was handed out");
}

/// On PostgreSQL a commit to the log wakes a listener within milliseconds; nothing else
/// does. SQLite has no listener (one process: it polls).
pub(crate) fn a_commit_wakes_a_listener(store: &Store, db: &TestDb) {
    let listener = store.listen().unwrap();
    let Some(mut l) = listener else {
        assert_eq!(db.kind, Kind::Sqlite, "PostgreSQL must listen");
        return;
    };
    assert_eq!(db.kind, Kind::Postgres);
    assert!(
        !l.wait(Duration::from_millis(50), || false).unwrap(),
        "nothing committed"
    );
    // Inbox writes and replays are not log commits.
    store
        .inbox_append(&[NewInboxItem {
            source: "t".into(),
            body: "{}".into(),
            received_at: 0,
            next_attempt_at: 0,
        }])
        .unwrap();
    assert!(!l.wait(Duration::from_millis(50), || false).unwrap());
    let writer = {
        let url = db.url.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            let s = Store::open(&url, 2).unwrap();
            let t = Instant::now();
            s.record(&[(None, small_batch())]).unwrap();
            t
        })
    };
    assert!(
        l.wait(Duration::from_secs(10), || false).unwrap(),
        "the commit woke it"
    );
    let committed = writer.join().unwrap();
    let woke = committed.elapsed();
    assert!(
        woke < Duration::from_secs(5),
        "woken {woke:?} after the commit"
    );
    // A replay commits nothing new: no notification.
    store.record(&[(None, small_batch())]).unwrap();
    assert!(!l.wait(Duration::from_millis(100), || false).unwrap());
}

/// A replica's store on a standby: reads work, every write is refused before it reaches the
/// database, and nothing changes.
pub(crate) fn a_read_only_store_refuses_every_write(store: &Store, db: &TestDb) {
    store.record(&[(None, small_batch())]).unwrap();
    store.token_create("ci", "h-ci", &["read".into()]).unwrap();
    let ro = Store::open_with(&db.url, 2, Access::ReadOnly).unwrap();
    assert_eq!(ro.access(), Access::ReadOnly);
    assert_eq!(ro.event_count().unwrap(), small_batch().len() as i64);
    assert_eq!(
        ro.events_page(100, 0, None).unwrap().len(),
        small_batch().len()
    );
    assert!(ro.token_lookup("h-ci").unwrap().is_some());
    assert!(ro.snapshots().unwrap().is_empty());
    assert_eq!(ro.inbox_depth().unwrap(), (0, 0));
    ro.ping().unwrap();
    let read_only = |r: Result<(), StoreError>, what: &str| match r {
        Err(StoreError::ReadOnly) => {}
        other => panic!("{what}: {other:?}"),
    };
    let item = NewInboxItem {
        source: "t".into(),
        body: "{}".into(),
        received_at: 0,
        next_attempt_at: 0,
    };
    read_only(
        ro.record(&[(None, vec![push(9, CART, Some("9.0.0"), "sha256:z", &[])])])
            .map(|_| ()),
        "record",
    );
    read_only(ro.import_log(&small_batch()).map(|_| ()), "import_log");
    read_only(ro.inbox_append(&[item]), "inbox_append");
    read_only(
        ro.inbox_claim(0, Duration::from_secs(1), 1).map(|_| ()),
        "inbox_claim",
    );
    read_only(ro.inbox_fail(1, "x", 0, true), "inbox_fail");
    read_only(ro.inbox_retry(1, 0).map(|_| ()), "inbox_retry");
    read_only(
        ro.inbox_release_leases().map(|_| ()),
        "inbox_release_leases",
    );
    read_only(ro.token_create("x", "h-x", &[]).map(|_| ()), "token_create");
    read_only(ro.token_delete("ci").map(|_| ()), "token_delete");
    read_only(ro.snapshot_write(1, b"bytes").map(|_| ()), "snapshot_write");
    read_only(ro.migrate().map(|_| ()), "migrate");
    assert_eq!(store.event_count().unwrap(), small_batch().len() as i64);
    assert_eq!(store.token_count().unwrap(), 1);
    assert_eq!(store.inbox_depth().unwrap(), (0, 0));

    // A database whose schema is not current is refused, never migrated.
    let blank = db.sibling();
    if blank.kind == Kind::Sqlite {
        // The file must exist for a read-only open to find no migrations in it.
        drop(blank.sqlite_conn());
    }
    match Store::open_with(&blank.url, 2, Access::ReadOnly) {
        Err(StoreError::SchemaBehind(_)) => {}
        other => panic!("a blank database opened read-only: {other:?}"),
    }
}

fn inbox_item(body: &str) -> NewInboxItem {
    NewInboxItem {
        source: "distribution".into(),
        body: body.into(),
        received_at: 1,
        next_attempt_at: 1,
    }
}

/// SQLite: the inbox is a file of its own, so appending to it (a registry's acknowledgement)
/// goes through while another connection holds the log's write lock. Were they one file, the
/// append would wait out the busy timeout and fail with "database is locked".
#[test]
fn sqlite_inbox_appends_while_the_log_is_write_locked() {
    let db = TestDb::new(Kind::Sqlite);
    let store = db.open();
    let inbox_file = Store::inbox_path(&db.url).unwrap();
    assert!(std::path::Path::new(&inbox_file).exists(), "{inbox_file}");
    let mut holder = db.sqlite_conn();
    diesel::sql_query("BEGIN IMMEDIATE")
        .execute(&mut holder)
        .unwrap();
    store.inbox_append(&[inbox_item("{\"n\":1}")]).unwrap();
    // Everything else the worker does with the inbox does not need the log's lock either.
    let claimed = store.inbox_claim(2, Duration::from_secs(60), 10).unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(store.inbox_depth().unwrap(), (1, 0));
    diesel::sql_query("COMMIT").execute(&mut holder).unwrap();
    // The item is in the inbox file, not in the log's file.
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let count = |c: &mut SqliteConnection| {
        diesel::sql_query("SELECT count(*) AS n FROM inbox")
            .get_result::<N>(c)
            .unwrap()
            .n
    };
    assert_eq!(count(&mut db.sqlite_conn()), 0);
    assert_eq!(
        count(&mut SqliteConnection::establish(&inbox_file).unwrap()),
        1
    );
    // Recording the item's events removes it from the inbox file.
    store
        .record(&[(Some(claimed[0].id), small_batch())])
        .unwrap();
    assert_eq!(store.inbox_depth().unwrap(), (0, 0));
    assert_eq!(
        count(&mut SqliteConnection::establish(&inbox_file).unwrap()),
        0
    );
}

/// SQLite: what an older catalog left in the log database's inbox table moves to the inbox
/// file on open, ids and states kept, each item once, even when an earlier move was cut
/// short after copying (the copy is there, the original not yet removed).
#[test]
fn sqlite_inbox_left_in_the_log_file_moves_to_the_inbox_file_once() {
    let db = TestDb::new(Kind::Sqlite);
    drop(db.open());
    let inbox_file = Store::inbox_path(&db.url).unwrap();
    let legacy = "INSERT INTO inbox (id, source, body, received_at, attempts, next_attempt_at, \
                  lease_until, last_error, state) VALUES ";
    let mut main = db.sqlite_conn();
    diesel::sql_query(format!(
        "{legacy} (7, 'harbor', 'a', 1, 0, 1, NULL, NULL, 'pending'), \
         (9, 'ghcr', 'b', 2, 5, 2, NULL, 'registry said 404', 'parked')"
    ))
    .execute(&mut main)
    .unwrap();
    // A move that copied item 7 and died before removing the originals.
    diesel::sql_query(format!(
        "{legacy} (7, 'harbor', 'a', 1, 0, 1, NULL, NULL, 'pending')"
    ))
    .execute(&mut SqliteConnection::establish(&inbox_file).unwrap())
    .unwrap();
    drop(main);
    let store = db.open();
    let pending = store.inbox_items(InboxState::Pending, 10, 0).unwrap();
    let parked = store.inbox_items(InboxState::Parked, 10, 0).unwrap();
    assert_eq!(
        pending
            .iter()
            .map(|i| (i.id, i.body.as_str()))
            .collect::<Vec<_>>(),
        [(7, "a")]
    );
    assert_eq!(
        parked
            .iter()
            .map(|i| (i.id, i.attempts, i.last_error.as_deref()))
            .collect::<Vec<_>>(),
        [(9, 5, Some("registry said 404"))]
    );
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let left: N = diesel::sql_query("SELECT count(*) AS n FROM inbox")
        .get_result(&mut db.sqlite_conn())
        .unwrap();
    assert_eq!(left.n, 0, "the log's file keeps no inbox item");
    // New items are numbered after the adopted ones.
    store.inbox_append(&[inbox_item("c")]).unwrap();
    let all = store.inbox_items(InboxState::Pending, 10, 0).unwrap();
    assert!(all.last().unwrap().id > 9, "{all:?}");
}
