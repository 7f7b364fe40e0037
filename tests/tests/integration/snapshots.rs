//! Graph snapshots of a running catalog: a restart from one answers as a full replay does (and
//! the graph it restores passes the core's own invariant checks); a damaged one (flipped
//! bytes, truncated, a future format) is logged and the log replayed instead; a write killed
//! half-way leaves the previous snapshot usable.

use catalog_core::Catalog;
use catalog_ingest::sync::GraphSync;
use catalog_schema::{Access, Store};
use catalog_tests::mixed::{backstage, battery, deployments, post, sbom, Request};
use catalog_tests::server::PgDatabase;
use catalog_tests::{CatalogServer, ServerOpts};
use diesel::prelude::*;
use serde_json::Value;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Posts requests to a catalog's hooks; returns how many events they carry.
fn send(server: &CatalogServer, requests: &[Request]) -> usize {
    let http = reqwest::blocking::Client::new();
    let base = server.url("");
    let mut n = 0;
    for r in requests {
        assert_eq!(post(&http, &base, r).unwrap(), 202);
        n += match r {
            Request::Deployments { keys, .. } => keys.len(),
            Request::Sbom { .. } => 1,
            Request::Backstage { .. } => catalog_tests::mixed::DOCS_PER_POST,
            Request::Distribution { keys, .. } => keys.len(),
        };
    }
    n
}

fn wait_events(server: &CatalogServer, n: usize) {
    server
        .wait_for("every event in the log", Duration::from_secs(120), || {
            Ok((server.event_count()? == n as i64).then_some(()))
        })
        .unwrap();
    server.wait_graph_current().unwrap();
}

/// Waits for the server's log to say `what` after byte `from` of it; returns the log after.
fn wait_log(server: &CatalogServer, from: usize, what: &str) -> String {
    server
        .wait_for(
            &format!("{what:?} in the log"),
            Duration::from_secs(60),
            || {
                let log = server.log();
                let tail = log.get(from..).unwrap_or_default().to_string();
                Ok(tail.contains(what).then_some(tail))
            },
        )
        .unwrap()
}

fn answers(server: &CatalogServer) -> Vec<Value> {
    battery()
        .into_iter()
        .map(|(q, v)| server.query(&q, v).unwrap())
        .collect()
}

/// What a restored graph answers in-process, compared with a full replay of the same log.
fn core_answers(c: &Catalog) -> String {
    let mut out = Vec::new();
    for cl in 0..catalog_tests::mixed::CLUSTERS {
        let scope = catalog_core::InventoryScope {
            cluster: Some(format!("c-{cl}")),
            ..Default::default()
        };
        out.push(format!("{:?}", c.inventory(&scope, None)));
    }
    out.push(format!("{:?}", c.search("svc", &[], 50)));
    out.push(format!("{:?}", c.component("shop/svc-3")));
    let log4j = catalog_core::purl::Purl::parse(catalog_tests::mixed::LOG4J).unwrap();
    out.push(format!("{:?}", c.package_report(&log4j, None)));
    out.push(format!(
        "{:?}",
        c.dependency_map("shop/svc-5", catalog_core::graph::Direction::Reverse, 3)
    ));
    out.join("\n")
}

/// Rewrites every part 0 of the complete snapshots in a SQLite file with `f`.
fn damage(db: &str, f: impl Fn(&mut Vec<u8>, &mut i64)) {
    let mut c = diesel::SqliteConnection::establish(db).unwrap();
    #[derive(QueryableByName)]
    struct Snap {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        bytes: i64,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        parts: i32,
    }
    #[derive(QueryableByName)]
    struct Part {
        #[diesel(sql_type = diesel::sql_types::Binary)]
        data: Vec<u8>,
    }
    let snaps: Vec<Snap> =
        diesel::sql_query("SELECT id, bytes, parts FROM graph_snapshots WHERE complete")
            .load(&mut c)
            .unwrap();
    assert!(!snaps.is_empty(), "there is a snapshot to damage");
    for s in snaps {
        assert_eq!(s.parts, 1, "these snapshots are small: one part");
        let part: Part = diesel::sql_query(format!(
            "SELECT data FROM graph_snapshot_parts WHERE snapshot = {} AND part = 0",
            s.id
        ))
        .get_result(&mut c)
        .unwrap();
        let (mut data, mut bytes) = (part.data, s.bytes);
        f(&mut data, &mut bytes);
        diesel::sql_query(format!(
            "UPDATE graph_snapshot_parts SET data = x'{}' WHERE snapshot = {} AND part = 0",
            hex::encode(&data),
            s.id
        ))
        .execute(&mut c)
        .unwrap();
        diesel::sql_query(format!(
            "UPDATE graph_snapshots SET bytes = {bytes} WHERE id = {}",
            s.id
        ))
        .execute(&mut c)
        .unwrap();
    }
}

#[test]
fn a_restart_from_a_snapshot_answers_as_a_full_replay_does_and_a_damaged_one_is_replayed() {
    let mut server = CatalogServer::start(ServerOpts {
        extra_args: vec![
            "--snapshot-every-events".into(),
            "500".into(),
            "--snapshot-every".into(),
            "0".into(),
        ],
        ..ServerOpts::default()
    })
    .unwrap();
    let db = server.dir.path().join("catalog.db").display().to_string();
    let mut requests: Vec<Request> = (0..20).map(deployments).collect();
    requests.extend((0..100).map(sbom));
    requests.extend((0..2).map(backstage));
    let n = send(&server, &requests);
    wait_events(&server, n);
    wait_log(&server, 0, "graph snapshot written");
    let want = answers(&server);

    // Restart: from the newest snapshot, and the log's tail after it.
    let mark = server.log().len();
    server = server.restart().unwrap();
    let tail = wait_log(&server, mark, "graph loaded from a snapshot");
    assert!(!tail.contains("unusable"), "{tail}");
    assert_eq!(
        answers(&server),
        want,
        "answers after a restart from a snapshot"
    );

    // In-process: the restored graph passes the core's invariants and answers as a full
    // replay of the same log does.
    {
        let store = Store::open_with(&db, 2, Access::ReadOnly).unwrap();
        let restored = Arc::new(RwLock::new(Catalog::new()));
        let sync = GraphSync::new(store.clone(), restored.clone());
        let report = sync.load().unwrap();
        assert!(report.snapshot.is_some(), "{report:?}");
        let restored = restored.read().unwrap();
        restored.verify().unwrap();
        let mut full = Catalog::new();
        let mut after = 0;
        loop {
            let page = store.events_page(1000, after, None).unwrap();
            let Some(last) = page.last() else { break };
            after = last.seq;
            full.apply_all(&page);
        }
        full.verify().unwrap();
        assert_eq!(full.last_seq(), restored.last_seq());
        assert_eq!(core_answers(&restored), core_answers(&full));
    }

    // Damaged snapshots: each kind of damage is refused with a warning, and the full replay
    // answers the same. (Each start-up that replays writes a fresh snapshot to damage next.)
    type Damage = fn(&mut Vec<u8>, &mut i64);
    let future = catalog_core::graph::SNAPSHOT_FORMAT + 1;
    let damages: [(&str, String, Damage); 3] = [
        ("flipped bytes", "checksum does not match".into(), |d, _| {
            let mid = d.len() / 2;
            d[mid] ^= 0xff;
        }),
        ("truncated", "snapshot truncated".into(), |d, bytes| {
            d.truncate(d.len() - 100);
            *bytes -= 100;
        }),
        (
            "a future format",
            format!("snapshot format {future}, this catalog reads"),
            |d, _| {
                d[8..12].copy_from_slice(&(catalog_core::graph::SNAPSHOT_FORMAT + 1).to_le_bytes());
            },
        ),
    ];
    for (what, why, f) in damages {
        server.kill();
        damage(&db, f);
        let mark = server.log().len();
        server = server.restart().unwrap();
        let tail = wait_log(&server, mark, "graph rebuilt from the event log");
        assert!(
            tail.contains("graph snapshot unusable") && tail.contains(why.as_str()),
            "{what}: no warning saying {why:?} in the log:\n{tail}"
        );
        assert!(!tail.contains("panicked"), "{tail}");
        assert_eq!(answers(&server), want, "answers after a replay past {what}");
        // The replay wrote a new snapshot (for the next round to damage).
        wait_log(&server, mark, "graph snapshot written");
    }
}

/// On PostgreSQL a test session locks the parts table, so the snapshot writer is held right
/// after its header row: killed there, it leaves an incomplete snapshot, which a restart
/// ignores for the previous one.
#[test]
fn a_snapshot_write_killed_half_way_leaves_the_previous_one_usable() {
    let pg = PgDatabase::create().unwrap();
    let mut server = CatalogServer::start(ServerOpts {
        database_url: Some(pg.url.clone()),
        extra_args: vec![
            "--snapshot-every-events".into(),
            "200".into(),
            "--snapshot-every".into(),
            "0".into(),
        ],
        ..ServerOpts::default()
    })
    .unwrap();
    let first: Vec<Request> = (0..5).map(deployments).collect();
    let n1 = send(&server, &first);
    wait_events(&server, n1);
    wait_log(&server, 0, "graph snapshot written");
    let count = |c: &mut PgConnection, sql: &str| -> i64 {
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query(sql).get_result::<N>(c).unwrap().n
    };
    let mut lock = PgConnection::establish(&pg.url).unwrap();
    diesel::sql_query("BEGIN").execute(&mut lock).unwrap();
    diesel::sql_query("LOCK TABLE graph_snapshot_parts IN ACCESS EXCLUSIVE MODE")
        .execute(&mut lock)
        .unwrap();
    let mark = server.log().len();
    let more: Vec<Request> = (5..8).map(deployments).collect();
    let n2 = n1 + send(&server, &more);
    wait_events(&server, n2);
    let want = answers(&server);
    // The writer has its header row in and waits on the lock for its first part.
    wait_log(&server, mark, "writing a graph snapshot");
    let mut probe = PgConnection::establish(&pg.url).unwrap();
    let t = Instant::now();
    while count(
        &mut probe,
        "SELECT COUNT(*) AS n FROM graph_snapshots WHERE NOT complete",
    ) == 0
    {
        assert!(t.elapsed() < Duration::from_secs(30), "no snapshot header");
        std::thread::sleep(Duration::from_millis(20));
    }
    server.kill();
    diesel::sql_query("ROLLBACK").execute(&mut lock).unwrap();
    drop(lock);
    assert!(
        count(
            &mut probe,
            "SELECT COUNT(*) AS n FROM graph_snapshots WHERE complete"
        ) >= 1,
        "the previous snapshot is there"
    );

    let mark = server.log().len();
    server = server.restart().unwrap();
    let tail = wait_log(&server, mark, "graph loaded from a snapshot");
    assert!(!tail.contains("unusable"), "{tail}");
    assert_eq!(answers(&server), want);
    // The next snapshot prunes what the killed writer left.
    wait_log(&server, mark, "graph snapshot written");
    assert_eq!(
        count(
            &mut probe,
            "SELECT COUNT(*) AS n FROM graph_snapshots WHERE NOT complete"
        ),
        0
    );
}
