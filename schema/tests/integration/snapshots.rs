//! Graph snapshots in the store: bytes in, the same bytes out, whatever their size; only a
//! complete snapshot is ever read; a missing part is an error, not a short read; the newest
//! two are kept; on PostgreSQL one writer at a time.

use super::{Kind, TestDb};
use catalog_schema::{SnapshotWrite, Store, StoreError};
use diesel::prelude::*;

/// Bytes that do not repeat in 4 MiB parts (a part boundary in the wrong place shows).
fn bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.max(1);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn written(w: SnapshotWrite) -> catalog_schema::SnapshotMeta {
    match w {
        SnapshotWrite::Written(m) => m,
        SnapshotWrite::Busy => panic!("no other writer holds the lock"),
    }
}

fn exec(db: &TestDb, sql: &str) {
    match db.kind {
        Kind::Sqlite => {
            diesel::sql_query(sql)
                .execute(&mut db.sqlite_conn())
                .unwrap();
        }
        Kind::Postgres => {
            diesel::sql_query(sql).execute(&mut db.pg_conn()).unwrap();
        }
    }
}

fn count(db: &TestDb, sql: &str) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    match db.kind {
        Kind::Sqlite => {
            diesel::sql_query(sql)
                .get_result::<N>(&mut db.sqlite_conn())
                .unwrap()
                .n
        }
        Kind::Postgres => {
            diesel::sql_query(sql)
                .get_result::<N>(&mut db.pg_conn())
                .unwrap()
                .n
        }
    }
}

pub(crate) fn snapshots_round_trip_in_parts(store: &Store, db: &TestDb) {
    assert!(store.snapshots().unwrap().is_empty());
    let big = bytes(9 * 1024 * 1024 + 17, 7);
    let m = written(store.snapshot_write(42, &big).unwrap());
    assert_eq!((m.seq, m.bytes, m.parts), (42, big.len() as i64, 3));
    assert_eq!(store.snapshots().unwrap(), vec![m.clone()]);
    assert!(
        store.snapshot_read(&m).unwrap() == big,
        "the same bytes back"
    );

    // Empty and one-part snapshots; the newest (by log position) comes first.
    let empty = written(store.snapshot_write(50, b"").unwrap());
    assert_eq!((empty.bytes, empty.parts), (0, 1));
    assert!(store.snapshot_read(&empty).unwrap().is_empty());
    let small = bytes(1000, 3);
    let s = written(store.snapshot_write(45, &small).unwrap());
    let listed: Vec<i64> = store.snapshots().unwrap().iter().map(|m| m.seq).collect();
    assert_eq!(listed, vec![50, 45], "newest two, by log position");
    assert_eq!(store.snapshot_read(&s).unwrap(), small);

    // One writer at a time on PostgreSQL: another session holding the writer's lock makes a
    // write skip its turn (and write nothing).
    if db.kind == Kind::Postgres {
        let mut other = db.pg_conn();
        diesel::sql_query("SELECT pg_advisory_lock(7243311451)")
            .execute(&mut other)
            .unwrap();
        assert_eq!(store.snapshot_write(60, b"x").unwrap(), SnapshotWrite::Busy);
        diesel::sql_query("SELECT pg_advisory_unlock(7243311451)")
            .execute(&mut other)
            .unwrap();
        assert_eq!(store.snapshots().unwrap()[0].seq, 50);
        written(store.snapshot_write(60, b"x").unwrap());
    }
}

/// A writer killed half-way leaves a header and some parts, never marked complete: it is
/// not listed, and the next write prunes it. A complete snapshot that lost a part is an
/// error when read, not a short read.
pub(crate) fn an_incomplete_snapshot_is_never_read(store: &Store, db: &TestDb) {
    let good = written(store.snapshot_write(10, &bytes(5000, 1)).unwrap());
    exec(
        db,
        "INSERT INTO graph_snapshots (seq, bytes, parts, created_at, complete) \
         VALUES (99, 8388608, 2, 0, FALSE)",
    );
    let abandoned = count(db, "SELECT MAX(id) AS n FROM graph_snapshots");
    exec(
        db,
        &format!(
            "INSERT INTO graph_snapshot_parts (snapshot, part, data) VALUES ({abandoned}, 0, {})",
            if db.kind == Kind::Sqlite {
                "x'00'"
            } else {
                "'\\x00'::bytea"
            }
        ),
    );
    assert_eq!(
        store.snapshots().unwrap(),
        vec![good.clone()],
        "only complete snapshots are listed"
    );
    // The next write prunes the abandoned one, parts and all.
    written(store.snapshot_write(20, &bytes(100, 2)).unwrap());
    assert_eq!(
        count(
            db,
            &format!("SELECT COUNT(*) AS n FROM graph_snapshots WHERE id = {abandoned}")
        ),
        0
    );
    assert_eq!(
        count(
            db,
            &format!("SELECT COUNT(*) AS n FROM graph_snapshot_parts WHERE snapshot = {abandoned}")
        ),
        0
    );
    // A part gone from a complete snapshot.
    let two = written(
        store
            .snapshot_write(30, &bytes(5 * 1024 * 1024, 3))
            .unwrap(),
    );
    exec(
        db,
        &format!(
            "DELETE FROM graph_snapshot_parts WHERE snapshot = {} AND part = 1",
            two.id
        ),
    );
    match store.snapshot_read(&two) {
        Err(StoreError::Corrupt(m)) => assert!(m.contains("lacks part 1"), "{m}"),
        other => panic!("a snapshot missing a part read as {other:?}"),
    }
}

pub(crate) fn snapshots_keep_the_newest_two(store: &Store, db: &TestDb) {
    for seq in 1..=5 {
        written(
            store
                .snapshot_write(seq * 100, &bytes(4 * 1024 * 1024 + 1, seq as u64))
                .unwrap(),
        );
    }
    let kept = store.snapshots().unwrap();
    assert_eq!(
        kept.iter().map(|m| m.seq).collect::<Vec<_>>(),
        vec![500, 400]
    );
    assert_eq!(count(db, "SELECT COUNT(*) AS n FROM graph_snapshots"), 2);
    assert_eq!(
        count(db, "SELECT COUNT(*) AS n FROM graph_snapshot_parts"),
        4,
        "two parts each, of the two kept"
    );
    for m in &kept {
        assert_eq!(
            store.snapshot_read(m).unwrap(),
            bytes(4 * 1024 * 1024 + 1, (m.seq / 100) as u64)
        );
    }
}
