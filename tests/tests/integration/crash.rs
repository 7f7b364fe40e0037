//! Crash safety: SIGKILL the server while notifications stream in, restart it on the same
//! database, and find every notification that got a 2xx in the event log.

use catalog_tests::server::INGEST_TOKEN;
use catalog_tests::{CatalogServer, ServerOpts};
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CT: &str = "application/vnd.docker.distribution.events.v1+json";

/// Deletes need no registry fetch, so every acknowledged one must become an event.
fn delete_notification(id: &str, n: u64) -> Vec<u8> {
    let digest = format!("sha256:{n:064x}");
    serde_json::to_vec(&json!({"events": [{
        "id": id,
        "timestamp": "2026-11-22T09:28:38.827295516Z",
        "action": "delete",
        "target": {"digest": digest, "repository": "crash/test"},
        "request": {"host": "127.0.0.1:5000", "useragent": "crash-test"},
        "actor": {},
        "source": {"addr": "vm:5000", "instanceID": "crash"}
    }]}))
    .unwrap()
}

#[test]
fn sigkill_loses_no_acknowledged_notification() {
    sigkill_while_streaming(ServerOpts::default());
}

#[test]
fn sigkill_loses_no_acknowledged_notification_on_postgres() {
    let db = catalog_tests::server::PgDatabase::create().unwrap();
    sigkill_while_streaming(ServerOpts {
        database_url: Some(db.url.clone()),
        ..ServerOpts::default()
    });
}

fn sigkill_while_streaming(opts: ServerOpts) {
    let mut server = CatalogServer::start(opts).unwrap();
    let url = server.url("/hooks/distribution");
    let acked: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = (0..4u64)
        .map(|t| {
            let (url, acked, stop) = (url.clone(), acked.clone(), stop.clone());
            std::thread::spawn(move || {
                let http = reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(5))
                    .build()
                    .unwrap();
                let started = Instant::now();
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(20) {
                    i += 1;
                    let id = format!("crash-{t}-{i}");
                    let r = http
                        .post(&url)
                        .header("content-type", CT)
                        .bearer_auth(INGEST_TOKEN)
                        .body(delete_notification(&id, t * 1_000_000 + i))
                        .send();
                    match r {
                        Ok(r) if r.status().is_success() => {
                            acked.lock().unwrap().insert(format!("distribution:{id}"));
                        }
                        Ok(_) => {}
                        Err(_) => break, // the server is gone
                    }
                }
            })
        })
        .collect();
    // Let the stream run, then kill -9 mid-flight.
    while acked.lock().unwrap().len() < 300 {
        std::thread::sleep(Duration::from_millis(10));
    }
    server.kill();
    stop.store(true, Ordering::Relaxed);
    for s in senders {
        s.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 300);

    let server = server.restart().unwrap();
    server
        .wait_for("the inbox to drain", Duration::from_secs(60), || {
            Ok((server.pending()? == 0).then_some(()))
        })
        .unwrap();
    let mut keys = BTreeSet::new();
    let mut after: Option<String> = None;
    loop {
        let d = server
            .query(
                "query($after: String) { events(kind: \"manifest.deleted\", first: 500, after: $after) { edges { cursor node { key } } pageInfo { hasNextPage } } }",
                json!({"after": after}),
            )
            .unwrap();
        let edges = d["events"]["edges"].as_array().unwrap();
        for e in edges {
            keys.insert(e["node"]["key"].as_str().unwrap().to_string());
        }
        if !d["events"]["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = edges
            .last()
            .map(|e| e["cursor"].as_str().unwrap().to_string());
    }
    let lost: Vec<&String> = acked.difference(&keys).collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged notifications lost, e.g. {:?}",
        lost.len(),
        acked.len(),
        &lost[..lost.len().min(5)]
    );
}
