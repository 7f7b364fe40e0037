#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Backstage benchmark: a synthetic catalog of a large organisation (50,000 entities: Groups,
//! Users, Systems, APIs, Components; a few APIs consumed by thousands) imported over HTTP
//! while a registry keeps sending push notifications.
//!
//! ```text
//! cargo build --release --workspace && \
//!   cargo run --release -p catalog-tests --bin bench-backstage -- [--entities 50000] [--peers 500]
//! ```
//!
//! It reports, against a baseline taken in the same run (the same notification stream with
//! no import running):
//! - the time from the first POST until the whole catalog is visible in GraphQL;
//! - the ack p50/p99 of the registry stream during the import;
//! - the time to fold the whole log again, in-process and by restarting `catalog serve`;
//! - N components that all provide and consume one API (N² edges), until visible.
//!
//! Real parts: Debian's docker-registry, images built with umoci and pushed with skopeo, the
//! built `catalog` binary (target/release/catalog when this is built in release).

use anyhow::{anyhow, bail, Result};
use catalog_core::Catalog;
use catalog_schema::Store;
use catalog_tests::backstage::{provide_and_consume_all, stream, synthetic_catalog, Synthetic};
use catalog_tests::bench::{loadavg, percentile};
use catalog_tests::notify::{build_and_push, notification, Pushed};
use catalog_tests::registry::Registry;
use catalog_tests::server::{CATALOG_TOKEN, INGEST_TOKEN};
use catalog_tests::{CatalogServer, ServerOpts};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::thread;
use std::time::{Duration, Instant};

const CT: &str = "application/vnd.docker.distribution.events.v1+json";
/// The import goes in requests of this many documents (the hook's limit is 10,000).
const CHUNK: usize = 10_000;
/// Notifications in flight, and the pause between one's ack and the next (a steady stream,
/// not a flood: the question is whether an import delays it).
const STREAM_CONCURRENCY: usize = 4;
const STREAM_PAUSE: Duration = Duration::from_millis(10);
const BASELINE_FOR: Duration = Duration::from_secs(5);
const AIM_VISIBLE: Duration = Duration::from_secs(10);
const VISIBLE_TIMEOUT: Duration = Duration::from_secs(900);

struct Args {
    entities: usize,
    peers: usize,
}

const USAGE: &str = "usage: bench-backstage [--entities 50000] [--peers 500]";

fn parse_args() -> Result<Args> {
    let mut a = Args {
        entities: 50_000,
        peers: 500,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| -> Result<usize> {
            let v = it.next().ok_or_else(|| anyhow!("{name} needs a value"))?;
            v.parse()
                .map_err(|_| anyhow!("{name} {v:?}: expected a positive integer"))
        };
        match flag.as_str() {
            "--entities" => a.entities = value("--entities")?,
            "--peers" => a.peers = value("--peers")?,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?}; {USAGE}"),
        }
    }
    if a.entities < 100 || a.peers < 2 {
        bail!("--entities must be at least 100 and --peers at least 2");
    }
    Ok(a)
}

/// A registry's notification stream: `STREAM_CONCURRENCY` posters, each acked before its next.
struct Stream {
    stop: Arc<AtomicBool>,
    threads: Vec<thread::JoinHandle<Vec<Duration>>>,
}

impl Stream {
    fn start(url: String, images: Arc<Vec<Pushed>>, host: String, salt: u64) -> Stream {
        let stop = Arc::new(AtomicBool::new(false));
        let next = Arc::new(AtomicUsize::new(0));
        let threads = (0..STREAM_CONCURRENCY)
            .map(|_| {
                let (url, images, host, stop, next) = (
                    url.clone(),
                    images.clone(),
                    host.clone(),
                    stop.clone(),
                    next.clone(),
                );
                thread::spawn(move || {
                    let http = reqwest::blocking::Client::new();
                    let mut acks = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let body = notification(salt, i, &images[i % images.len()], &host)
                            .expect("notification");
                        let t = Instant::now();
                        let r = http
                            .post(&url)
                            .header("content-type", CT)
                            .bearer_auth(INGEST_TOKEN)
                            .body(body)
                            .send()
                            .expect("post");
                        let status = r.status().as_u16();
                        assert_eq!(status, 202, "{}", r.text().unwrap_or_default());
                        acks.push(t.elapsed());
                        thread::sleep(STREAM_PAUSE);
                    }
                    acks
                })
            })
            .collect();
        Stream { stop, threads }
    }

    fn stop(self) -> Vec<Duration> {
        self.stop.store(true, Ordering::Relaxed);
        let mut all: Vec<Duration> = self
            .threads
            .into_iter()
            .flat_map(|t| t.join().expect("stream thread"))
            .collect();
        all.sort();
        all
    }
}

fn graphql(server: &CatalogServer, query: &str, vars: Value) -> Result<Value> {
    server.query(query, vars)
}

fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether the whole synthetic catalog is in the graph: the auth provider's dependents and the
/// last component's dependencies (it is imported last) are what the generator says.
fn catalog_visible(server: &CatalogServer, cat: &Synthetic) -> Result<bool> {
    let v = graphql(
        server,
        "query($last: String!) { auth: component(name: \"svc-00000\") { dependents { name } } \
         last: component(name: $last) { dependencies { name } } }",
        json!({"last": cat.last_component}),
    )?;
    Ok(names(&v["auth"]["dependents"]).len() == cat.auth_dependents
        && names(&v["last"]["dependencies"]) == cat.last_dependencies)
}

fn wait(what: &str, mut f: impl FnMut() -> Result<bool>) -> Result<()> {
    let t = Instant::now();
    let mut last = String::new();
    while t.elapsed() < VISIBLE_TIMEOUT {
        match f() {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(e) => last = e.to_string(),
        }
        thread::sleep(Duration::from_millis(20));
    }
    bail!("{what}: not visible after {VISIBLE_TIMEOUT:?} (last error: {last})")
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos() as u64;

    // --- setup (not timed)
    let registry = Registry::start(&[])?;
    let images = Arc::new(build_and_push(&registry, 4)?);
    let host = registry.host();
    let server = CatalogServer::start(ServerOpts {
        registries: vec![format!("http://{host}")],
        extra_args: vec!["--reconcile-interval".into(), "0".into()],
        ..ServerOpts::default()
    })?;
    let cat = synthetic_catalog(args.entities, 7);
    let bodies: Vec<String> = cat.docs.chunks(CHUNK).map(stream).collect();
    eprintln!(
        "setup: {} entities ({} dependency edges, {} depend on auth's provider) in {} requests of {:.1} MB; load {}",
        cat.docs.len(),
        cat.edges,
        cat.auth_dependents,
        bodies.len(),
        bodies.iter().map(String::len).sum::<usize>() as f64 / 1e6,
        loadavg()
    );
    let hook = server.url("/hooks/distribution");

    // --- baseline: the notification stream alone
    let s = Stream::start(hook.clone(), images.clone(), host.clone(), run);
    thread::sleep(BASELINE_FOR);
    let baseline = s.stop();

    // --- the import, with the stream running
    let s = Stream::start(hook.clone(), images.clone(), host.clone(), run ^ 1);
    thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    let mut posted = Vec::new();
    for (i, body) in bodies.iter().enumerate() {
        let t = Instant::now();
        let (st, text) = server.post(
            "/hooks/backstage",
            "application/yaml",
            Some(CATALOG_TOKEN),
            body.clone().into_bytes(),
        )?;
        if st != 202 {
            bail!("import request {i}: HTTP {st}: {text}");
        }
        posted.push(t.elapsed());
    }
    let acked = started.elapsed();
    wait("the synthetic catalog", || catalog_visible(&server, &cat))?;
    let visible = started.elapsed();
    let during = s.stop();
    eprintln!(
        "import: {} requests acked in {} (slowest {}), visible after {}",
        posted.len(),
        secs(acked),
        secs(posted.iter().max().copied().unwrap_or_default()),
        secs(visible)
    );

    // --- N peers that all provide and consume one API
    let peers = stream(&provide_and_consume_all(args.peers, "mesh"));
    let t = Instant::now();
    let (st, text) = server.post(
        "/hooks/backstage",
        "application/yaml",
        Some(CATALOG_TOKEN),
        peers.into_bytes(),
    )?;
    if st != 202 {
        bail!("peers: HTTP {st}: {text}");
    }
    let last_peer = format!("mesh-peer-{:05}", args.peers - 1);
    wait("the peers", || {
        let v = graphql(
            &server,
            "query($n: String!) { component(name: $n) { dependents { name } } }",
            json!({"n": last_peer}),
        )?;
        Ok(names(&v["component"]["dependents"]).len() == args.peers - 1)
    })?;
    let peers_visible = t.elapsed();

    // --- replay: in-process from the store, then a restart of the server
    let db = server.dir.path().join("catalog.db");
    let store = Store::open(&db.display().to_string(), 2)?;
    let shared = Arc::new(RwLock::new(Catalog::new()));
    let sync = catalog_ingest::sync::GraphSync::new(store.clone(), shared.clone());
    let t = Instant::now();
    let report = sync.load()?;
    let replay = t.elapsed();
    let events = report.replayed;
    drop(sync);
    drop(store);
    let t = Instant::now();
    let server = server.restart()?;
    wait("the catalog after a restart", || {
        catalog_visible(&server, &cat)
    })?;
    let restart = t.elapsed();
    drop(server);
    drop(registry);

    let row = |name: &str, base: String, now: String, aim: String| {
        println!("| {name} | {base} | {now} | {aim} |");
    };
    println!();
    println!(
        "bench-backstage: {} entities, {} dependency edges; {} peers; {} cores; load {}",
        cat.docs.len(),
        cat.edges,
        args.peers,
        thread::available_parallelism().map_or(1, |n| n.get()),
        loadavg()
    );
    println!();
    println!("| figure | baseline: stream alone | with the import | aim |");
    println!("|---|---:|---:|---|");
    let (b50, b99) = (percentile(&baseline, 0.5), percentile(&baseline, 0.99));
    let (d50, d99) = (percentile(&during, 0.5), percentile(&during, 0.99));
    row(
        "registry acks (count)",
        baseline.len().to_string(),
        during.len().to_string(),
        String::new(),
    );
    row("registry ack p50", ms(b50), ms(d50), String::new());
    row(
        "registry ack p99",
        ms(b99),
        ms(d99),
        format!(
            "within 2x: {}",
            if d99 <= b99 * 2 { "MET" } else { "missed" }
        ),
    );
    row(
        "registry ack max",
        ms(baseline.last().copied().unwrap_or_default()),
        ms(during.last().copied().unwrap_or_default()),
        "< 2 s (registries time out)".into(),
    );
    row(
        &format!("{} entities: first POST to visible", cat.docs.len()),
        "-".into(),
        secs(visible),
        format!(
            "<= 10 s: {}",
            if visible <= AIM_VISIBLE {
                "MET"
            } else {
                "missed"
            }
        ),
    );
    row(
        &format!("replay in-process (GraphSync::load, {events} events)"),
        "-".into(),
        secs(replay),
        "seconds".into(),
    );
    row(
        "restart of catalog serve to the same answers",
        "-".into(),
        secs(restart),
        "seconds".into(),
    );
    row(
        &format!(
            "{} components providing and consuming one API ({} edges): to visible",
            args.peers,
            args.peers * (args.peers - 1)
        ),
        "-".into(),
        secs(peers_visible),
        "seconds".into(),
    );
    Ok(())
}
