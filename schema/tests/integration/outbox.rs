//! The notification outbox's promises: a batch and its cursor commit together and a batch
//! enqueued twice adds nothing; a lane claims only its endpoint's due rows, once per lease;
//! a failure is retried when due or parked; a parked row comes back only when retried.

use super::TestDb;
use catalog_schema::{NewOutboxRow, OutboxBatch, OutboxState, Store};
use std::time::Duration;

fn row(key: &str, endpoint: &str, due: i64) -> NewOutboxRow {
    NewOutboxRow {
        key: key.into(),
        endpoint: endpoint.into(),
        body: format!("{{\"key\":\"{key}\"}}"),
        created_at: 1,
        next_attempt_at: due,
    }
}

pub(crate) fn enqueue_once_claim_per_lane_fail_park_and_retry(store: &Store, _db: &TestDb) {
    assert_eq!(store.outbox_cursor("notify").unwrap(), None);
    let batch = OutboxBatch {
        rows: vec![
            row("a>hook", "hook", 10),
            row("b>hook", "hook", 10),
            row("a>pd", "pd", 10),
        ],
        opened: vec![("vuln:X:prod:t".into(), "{}".into())],
        closed: Vec::new(),
    };
    assert_eq!(store.outbox_enqueue("notify", 7, &batch).unwrap(), 3);
    // The same page again (a crash before the cursor moved): nothing new.
    assert_eq!(store.outbox_enqueue("notify", 7, &batch).unwrap(), 0);
    assert_eq!(store.outbox_cursor("notify").unwrap(), Some(7));
    assert_eq!(
        store.outbox_incidents().unwrap(),
        vec![("vuln:X:prod:t".to_string(), "{}".to_string())]
    );

    // Not due yet; then each lane gets its own rows, once per lease.
    let lease = Duration::from_secs(30);
    assert!(store.outbox_claim("hook", 9, lease, 10).unwrap().is_empty());
    let hook = store.outbox_claim("hook", 10, lease, 10).unwrap();
    assert_eq!(
        hook.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(),
        ["a>hook", "b>hook"]
    );
    assert!(hook.iter().all(|r| r.attempts == 1));
    assert!(
        store
            .outbox_claim("hook", 11, lease, 10)
            .unwrap()
            .is_empty(),
        "leased"
    );
    assert_eq!(store.outbox_claim("pd", 11, lease, 10).unwrap().len(), 1);
    // Both hook rows are leased: claimable when the lease runs out, not at once.
    assert_eq!(
        store.outbox_next_due("hook", 11).unwrap(),
        Some(10 + lease.as_micros() as i64)
    );

    // One delivered, one failed (retried at 100), the pd row parked.
    let pd_id = store.outbox_rows(None, Some("pd"), 10, None).unwrap()[0].id;
    store.outbox_delivered(&[hook[0].id], 50).unwrap();
    store
        .outbox_fail(&[
            (hook[1].id, "HTTP 500".into(), 100, false),
            (pd_id, "HTTP 400".into(), 0, true),
        ])
        .unwrap();
    assert_eq!(
        store.outbox_next_due("hook", 60).unwrap(),
        Some(100),
        "its retry"
    );
    assert!(
        store
            .outbox_claim("hook", 99, lease, 10)
            .unwrap()
            .is_empty(),
        "not due"
    );
    let again = store.outbox_claim("hook", 100, lease, 10).unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(
        (again[0].attempts, again[0].last_error.as_deref()),
        (2, Some("HTTP 500"))
    );
    assert!(
        store
            .outbox_claim("pd", 1_000, lease, 10)
            .unwrap()
            .is_empty(),
        "parked"
    );
    assert_eq!(
        store.outbox_state_of("a>hook").unwrap(),
        Some((OutboxState::Delivered, 10))
    );
    let mut counts = store.outbox_counts().unwrap();
    counts.sort();
    assert_eq!(
        counts,
        vec![
            ("hook".to_string(), "delivered".to_string(), 1),
            ("hook".to_string(), "pending".to_string(), 1),
            ("pd".to_string(), "parked".to_string(), 1),
        ]
    );
    let parked = store
        .outbox_rows(Some(OutboxState::Parked), None, 10, None)
        .unwrap();
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].last_error.as_deref(), Some("HTTP 400"));

    // Delivered rows go after their retention; pending and parked ones stay.
    assert_eq!(store.outbox_prune(50).unwrap(), 0, "delivered at 50: kept");
    assert_eq!(store.outbox_prune(51).unwrap(), 1);
    assert_eq!(store.outbox_state_of("a>hook").unwrap(), None);
    assert_eq!(store.outbox_rows(None, None, 10, None).unwrap().len(), 2);
    // Retry: only a parked row, attempts reset, due at once.
    assert_eq!(
        store.outbox_retry(hook[0].id, 2_000).unwrap(),
        None,
        "not parked (delivered, and pruned)"
    );
    assert_eq!(
        store.outbox_retry(pd_id, 2_000).unwrap(),
        Some("pd".to_string())
    );
    let back = store.outbox_claim("pd", 2_000, lease, 10).unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].attempts, 1);

    // A lease of a killed process: released at once on the sole node.
    assert!(store
        .outbox_claim("pd", 2_001, lease, 10)
        .unwrap()
        .is_empty());
    assert_eq!(store.outbox_release_leases().unwrap(), 2);
    assert_eq!(store.outbox_claim("pd", 2_001, lease, 10).unwrap().len(), 1);

    // Closing an incident, newest rows first with keyset paging.
    let close = OutboxBatch {
        rows: vec![row("c>hook", "hook", 3_000)],
        opened: Vec::new(),
        closed: vec!["vuln:X:prod:t".into()],
    };
    assert_eq!(store.outbox_enqueue("notify", 9, &close).unwrap(), 1);
    assert!(store.outbox_incidents().unwrap().is_empty());
    let newest = store.outbox_rows(None, None, 2, None).unwrap();
    assert_eq!(
        newest.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(),
        ["c>hook", "a>pd"]
    );
    let older = store
        .outbox_rows(None, None, 10, Some(newest[1].id))
        .unwrap();
    assert_eq!(
        older.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(),
        ["b>hook"]
    );
}

/// One leader at a time among stores of one database (PostgreSQL's advisory lock; SQLite
/// is one node, which always leads).
pub(crate) fn one_leader_at_a_time(store: &Store, db: &TestDb) {
    let other = Store::open(&db.url, 2).unwrap();
    let first = store.try_lead("notify").unwrap();
    assert!(first.is_some());
    let postgres = store.backend() == catalog_schema::Backend::Postgres;
    assert_eq!(other.try_lead("notify").unwrap().is_none(), postgres);
    assert!(other.try_lead("something else").unwrap().is_some());
    drop(first);
    let mut second = other.try_lead("notify").unwrap().expect("taken over");
    assert!(second.holds());
    if postgres {
        // The network ends the leader's session: it no longer holds, and another leads.
        use diesel::{Connection, RunQueryDsl};
        let mut c = diesel::PgConnection::establish(&db.url).unwrap();
        diesel::sql_query(
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' \
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        )
        .execute(&mut c)
        .unwrap();
        assert!(!second.holds(), "the lock went with its session");
        assert!(store.try_lead("notify").unwrap().is_some());
    }
}
