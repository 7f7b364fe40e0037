//! Scale-out on real parts: a PostgreSQL primary and a streaming hot standby the test starts
//! itself; an API replica on the primary without a worker (A), a read-only replica on the
//! standby (B), two `catalog worker` processes (one SIGKILLed mid-run), a real registry.
//!
//! 10,000 mixed events go in through A's hooks: deployments, SBOMs and Backstage descriptors
//! (complete at intake: appended by the hook's group commit), registry notifications of
//! deletes and registrations from skopeo pushes to the registry (through the inbox and the
//! workers). Every acknowledged one is in the log exactly once, both replicas answer a battery
//! of queries identically, and B refuses writes with 503 and writes nothing.

use catalog_tests::mixed::DOCS_PER_POST;
use catalog_tests::mixed::{backstage, battery, deletes, deployments, post, sbom, Request};
use catalog_tests::mixed::{BACKSTAGE_POSTS, DELETES_PER_REQUEST, DEPLOYS_PER_REQUEST};
use catalog_tests::pg::PgPair;
use catalog_tests::registry::{push, ImageSpec, Layout, Registry};
use catalog_tests::server::{free_port, ADMIN_TOKEN, INGEST_TOKEN};
use catalog_tests::{CatalogServer, CatalogWorker, ServerOpts};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const DEPLOY_REQUESTS: usize = 80;
const DELETE_REQUESTS: usize = 100;
const SBOMS: usize = 420;
const PUSHES: usize = 20;

#[test]
fn replicas_on_a_primary_and_a_hot_standby_answer_alike() {
    let pair = PgPair::start().unwrap();
    pair.primary
        .psql("postgres", "CREATE DATABASE catalog")
        .unwrap();
    let (primary, standby) = (pair.primary.url("catalog"), pair.standby.url("catalog"));

    // The registry notifies replica A.
    let a_port = free_port().unwrap();
    let hook = format!("http://127.0.0.1:{a_port}/hooks/distribution");
    let registry = Registry::start(&[(&hook, INGEST_TOKEN)]).unwrap();
    let host = registry.host();
    let reg = format!("http://{host}");
    let a = CatalogServer::start(ServerOpts {
        port: Some(a_port),
        database_url: Some(primary.clone()),
        registries: vec![reg.clone()],
        extra_args: vec![
            "--no-worker".into(),
            "--reconcile-interval".into(),
            "0".into(),
        ],
        ..ServerOpts::default()
    })
    .unwrap();
    // A migrated the primary; the standby replays it before B opens it.
    pair.wait_caught_up(Duration::from_secs(30)).unwrap();
    let b = CatalogServer::start(ServerOpts {
        database_url: Some(standby),
        extra_args: vec!["--read-only".into(), "--primary-url".into(), a.url("")],
        ..ServerOpts::default()
    })
    .unwrap();
    let worker_args = [
        "--registry",
        reg.as_str(),
        "--reconcile-interval",
        "0",
        "--worker-batch",
        "32",
        "--worker-lease",
        "3s",
        "--retry-base",
        "1s",
    ];
    let mut w1 = CatalogWorker::start(&primary, &worker_args).unwrap();
    let w2 = CatalogWorker::start(&primary, &worker_args).unwrap();

    // First the deletes (through the inbox), with w2 stopped: w1 claims them, and is killed
    // holding leases; w2, resumed, takes its items over when the leases run out.
    w2.signal("STOP").unwrap();
    let http = reqwest::blocking::Client::new();
    let mut keys_acked: BTreeSet<String> = BTreeSet::new();
    for r in (0..DELETE_REQUESTS).map(deletes) {
        assert_eq!(post(&http, &a.url(""), &r).unwrap(), 202);
        if let Request::Distribution { keys, .. } = r {
            keys_acked.extend(keys);
        }
    }
    let leased = || -> usize {
        pair.primary
            .psql(
                "catalog",
                "SELECT count(*) FROM inbox WHERE lease_until > \
                 (extract(epoch FROM clock_timestamp()) * 1000000)::bigint",
            )
            .unwrap()
            .parse()
            .unwrap()
    };
    let t = Instant::now();
    while leased() == 0 {
        assert!(t.elapsed() < Duration::from_secs(30), "w1 claims nothing");
        std::thread::sleep(Duration::from_millis(5));
    }
    w1.kill();
    let orphaned = leased();
    assert!(
        orphaned > 0,
        "w1 died holding no lease: nothing to take over"
    );
    w2.signal("CONT").unwrap();

    // Requests, interleaved round-robin by kind.
    let mut queues: Vec<Vec<Request>> = vec![
        (0..DEPLOY_REQUESTS).map(deployments).collect(),
        (0..SBOMS).map(sbom).collect(),
        (0..BACKSTAGE_POSTS).map(backstage).collect(),
    ];
    for q in &mut queues {
        q.reverse();
    }
    let mut requests = Vec::new();
    while queues.iter().any(|q| !q.is_empty()) {
        for q in &mut queues {
            if let Some(r) = q.pop() {
                requests.push(r);
            }
        }
    }
    let total_requests = requests.len();
    let requests = Arc::new(Mutex::new(requests));
    let acked = Arc::new(AtomicUsize::new(0));
    let keys: Arc<Mutex<BTreeSet<String>>> = Arc::new(Mutex::new(keys_acked));
    let base = a.url("");
    let senders: Vec<_> = (0..4)
        .map(|_| {
            let (requests, acked, keys, base) =
                (requests.clone(), acked.clone(), keys.clone(), base.clone());
            std::thread::spawn(move || {
                let http = reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(30))
                    .build()
                    .unwrap();
                loop {
                    let Some(r) = requests.lock().unwrap().pop() else {
                        return;
                    };
                    let status = post(&http, &base, &r).unwrap();
                    assert_eq!(status, 202, "hook refused a valid request");
                    match r {
                        Request::Deployments { keys: k, .. } => keys.lock().unwrap().extend(k),
                        Request::Sbom { key, .. } => {
                            keys.lock().unwrap().insert(key);
                        }
                        Request::Backstage { .. } => {}
                        Request::Distribution { keys: k, .. } => keys.lock().unwrap().extend(k),
                    }
                    acked.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();

    // Meanwhile, real pushes: 4 images, 5 tags each.
    let layout = Layout::new().unwrap();
    let mut pushed = BTreeMap::new();
    for i in 0..PUSHES / 5 {
        let tag = format!("img{i}");
        layout
            .build(
                &tag,
                &ImageSpec::new(&format!("svc {i}"))
                    .label("dev.catalog.owner", &format!("team-{i}"))
                    .label("org.opencontainers.image.revision", &format!("{i:040x}")),
            )
            .unwrap();
        for t in 0..5 {
            let d = push(
                &layout,
                &tag,
                &host,
                &format!("shop/pushed-{i}"),
                &format!("1.{t}.0"),
            )
            .unwrap();
            pushed.insert(format!("shop/pushed-{i}:1.{t}.0"), d);
        }
    }
    for s in senders {
        s.join().unwrap();
    }
    assert_eq!(acked.load(Ordering::Relaxed), total_requests);
    assert_eq!(pushed.len(), PUSHES);

    let expected = DEPLOY_REQUESTS * DEPLOYS_PER_REQUEST
        + DELETE_REQUESTS * DELETES_PER_REQUEST
        + SBOMS
        + BACKSTAGE_POSTS * DOCS_PER_POST
        + PUSHES;
    assert_eq!(expected, 10_000, "the test sends 10,000 events");
    let count = |s: &CatalogServer| -> anyhow::Result<Option<()>> {
        let n = s.event_count()?;
        anyhow::ensure!(n <= expected as i64, "{n} events, more than {expected}");
        Ok((n == expected as i64).then_some(()))
    };
    let t = Instant::now();
    a.wait_for("every event on A", Duration::from_secs(240), || count(&a))
        .unwrap_or_else(|e| panic!("{e}\nworker 2:\n{}", w2.log()));
    let on_a = t.elapsed();
    b.wait_for("every event on B", Duration::from_secs(60), || count(&b))
        .unwrap();
    assert_eq!(a.pending().unwrap(), 0, "the inbox drained");
    eprintln!(
        "replicas: {expected} events recorded {on_a:?} after the last ack; {orphaned} inbox \
         items were leased to the killed worker"
    );

    // Every acknowledged key is in the log exactly once (the log's keys are unique, so: all
    // of them there, and nothing else).
    let mut log_keys = Vec::new();
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    let mut after: Option<String> = None;
    loop {
        let d = a
            .query(
                "query($a: String) { events(first: 500, after: $a) { edges { cursor node { key kind } } pageInfo { hasNextPage endCursor } } }",
                json!({"a": after}),
            )
            .unwrap();
        for e in d["events"]["edges"].as_array().unwrap() {
            log_keys.push(e["node"]["key"].as_str().unwrap().to_string());
            *kinds
                .entry(e["node"]["kind"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        if d["events"]["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = d["events"]["pageInfo"]["endCursor"]
            .as_str()
            .map(str::to_string);
    }
    let unique: BTreeSet<&String> = log_keys.iter().collect();
    assert_eq!(unique.len(), log_keys.len(), "a key recorded twice");
    assert_eq!(log_keys.len(), expected);
    let acked_keys = keys.lock().unwrap();
    let missing: Vec<&String> = acked_keys
        .iter()
        .filter(|k| !unique.contains(k))
        .take(5)
        .collect();
    assert!(
        missing.is_empty(),
        "acknowledged but not in the log: {missing:?}"
    );
    assert_eq!(
        kinds["deployment.observed"],
        DEPLOY_REQUESTS * DEPLOYS_PER_REQUEST
    );
    assert_eq!(kinds["sbom.attached"], SBOMS);
    assert_eq!(kinds["entity.declared"], BACKSTAGE_POSTS * DOCS_PER_POST);
    assert_eq!(kinds["image.registered"], PUSHES);
    assert_eq!(
        kinds["manifest.deleted"],
        DELETE_REQUESTS * DELETES_PER_REQUEST,
        "every delete, through the inbox and the workers (one killed holding leases)"
    );

    // Both replicas answer alike (B is at the same log position: its eventCount matched).
    for (q, vars) in battery() {
        let (x, y) = (
            a.query(&q, vars.clone()).unwrap(),
            b.query(&q, vars).unwrap(),
        );
        assert_eq!(x, y, "the replicas differ on {q}");
    }
    let blast = a
        .query(battery()[1].0.as_str(), battery()[1].1.clone())
        .unwrap();
    assert!(
        blast["blastRadius"]["totals"]["images"].as_u64().unwrap() > 0,
        "the battery asks something with an answer: {blast}"
    );
    let cart = a
        .query(
            "query($c: String!) { component(name: $c) { versionCount owner { name } } }",
            json!({"c": "shop/pushed-2"}),
        )
        .unwrap();
    assert_eq!(cart["component"]["versionCount"], 5, "{cart}");
    assert_eq!(cart["component"]["owner"]["name"], "team-2");

    // B refuses writes, naming where they go, and writes nothing.
    let (status, body) = b
        .post(
            "/hooks/deployments",
            "application/json",
            Some(INGEST_TOKEN),
            br#"{"cluster":"c-0","namespace":"x","component":"shop/x","version":"1"}"#.to_vec(),
        )
        .unwrap();
    assert_eq!(status, 503, "{body}");
    assert!(
        body.contains("read-only") && body.contains(&a.url("")),
        "{body}"
    );
    let (status, v) = b
        .graphql_as(
            Some(ADMIN_TOKEN),
            "mutation { setOwner(component: \"shop/svc-1\", team: \"intruder\") { name } }",
            json!({}),
        )
        .unwrap();
    assert_eq!(status, 503, "{v}");
    assert_eq!(v["errors"][0]["extensions"]["code"], "READ_ONLY", "{v}");
    assert!(v.get("data").is_none_or(Value::is_null), "{v}");
    // Queries still work there, and nothing was written anywhere.
    assert_eq!(b.event_count().unwrap(), expected as i64);
    assert_eq!(a.event_count().unwrap(), expected as i64);

    // Live subscriptions work on the read-only replica: a deployment posted to A arrives on a
    // catalogChanged socket of B.
    let mut live = super::deployments::Subscription::open(
        b.port,
        "subscription { catalogChanged(kinds: [\"deployment.observed\"]) { seq kind subjects } }",
    );
    std::thread::sleep(Duration::from_millis(200));
    let (status, body) = a
        .post(
            "/hooks/deployments",
            "application/json",
            Some(INGEST_TOKEN),
            br#"{"id":"live-1","cluster":"c-0","namespace":"live","workload":"w-live","component":"shop/svc-1","version":"9.9.9"}"#
                .to_vec(),
        )
        .unwrap();
    assert_eq!(status, 202, "{body}");
    let msg = live.next_json();
    let change = &msg["payload"]["data"]["catalogChanged"];
    assert_eq!(change["kind"], "deployment.observed", "{msg}");
    assert!(
        change["subjects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s.as_str().is_some_and(|s| s.contains("w-live"))),
        "{msg}"
    );
    drop(w2);
}
