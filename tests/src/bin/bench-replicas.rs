//! Replica freshness: how long after a commit on the primary the change is visible in a
//! `catalog serve --no-worker` replica on the primary (woken by `NOTIFY`) and in a
//! `catalog serve --read-only` replica on a streaming hot standby (which polls, 100 ms by
//! default), against a baseline in the same run: a standby replica polling once a second, as
//! every process tailed the log before (and a `--no-worker` replica never did).
//!
//! ```text
//! cargo build --release --workspace && \
//!   cargo run --release -p catalog-tests --bin bench-replicas -- [--events 1000] [--gap-ms 20]
//! ```
//!
//! The benchmark starts its own PostgreSQL primary and standby (`/usr/lib/postgresql/15/bin`,
//! as the `postgres` user), the three replicas, and a writer in this process that records
//! deployments one commit at a time through the store, as a worker does. Each replica is
//! watched through its own `catalogChanged` subscription (a dashboard's view): the latency of
//! an event is the time from its commit returning to its arrival on the socket.

use anyhow::{anyhow, bail, Context, Result};
use catalog_core::deployment::{DeploymentObserved, DeploymentStatus};
use catalog_core::event::{Event, NewEvent};
use catalog_schema::Store;
use catalog_tests::bench::{loadavg, percentile};
use catalog_tests::pg::PgPair;
use catalog_tests::{CatalogServer, ServerOpts};
use chrono::Utc;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const USAGE: &str = "usage: bench-replicas [--events 1000] [--gap-ms 20]";
const AIM_P99: Duration = Duration::from_millis(250);

struct Args {
    events: usize,
    gap: Duration,
}

fn parse_args() -> Result<Args> {
    let mut a = Args {
        events: 1000,
        gap: Duration::from_millis(20),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| -> Result<u64> {
            let v = it
                .next()
                .ok_or_else(|| anyhow!("{name} needs a value; {USAGE}"))?;
            v.parse()
                .with_context(|| format!("{name} {v:?}: expected a number; {USAGE}"))
        };
        match flag.as_str() {
            "--events" => a.events = value("--events")? as usize,
            "--gap-ms" => a.gap = Duration::from_millis(value("--gap-ms")?),
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?}; {USAGE}"),
        }
    }
    Ok(a)
}

/// A `catalogChanged` subscription; a thread stamps each event's arrival by its seq.
struct Watch {
    arrivals: Arc<Mutex<HashMap<i64, Instant>>>,
}

fn watch(port: u16) -> Result<Watch> {
    use tungstenite::client::IntoClientRequest;
    let mut req = format!("ws://127.0.0.1:{port}/graphql").into_client_request()?;
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse()?);
    let stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.set_nodelay(true)?;
    let (mut ws, _) = tungstenite::client(req, stream).map_err(|e| anyhow!("{e}"))?;
    let send = |ws: &mut tungstenite::WebSocket<std::net::TcpStream>, v: Value| {
        ws.send(tungstenite::Message::text(v.to_string()))
    };
    send(&mut ws, json!({"type": "connection_init", "payload": {}}))?;
    loop {
        if let tungstenite::Message::Text(t) = ws.read()? {
            let v: Value = serde_json::from_str(t.as_str())?;
            if v["type"] == "connection_ack" {
                break;
            }
        }
    }
    send(
        &mut ws,
        json!({"id": "1", "type": "subscribe", "payload": {"query": "subscription { catalogChanged(kinds: [\"deployment.observed\"]) { seq } }"}}),
    )?;
    let arrivals: Arc<Mutex<HashMap<i64, Instant>>> = Arc::default();
    let a = arrivals.clone();
    std::thread::spawn(move || loop {
        let Ok(msg) = ws.read() else { return };
        let now = Instant::now();
        if let tungstenite::Message::Text(t) = msg {
            let Ok(v) = serde_json::from_str::<Value>(t.as_str()) else {
                continue;
            };
            if v["type"] == "ping" {
                let _ = ws.send(tungstenite::Message::text(
                    json!({"type": "pong"}).to_string(),
                ));
            }
            if let Some(seq) = v["payload"]["data"]["catalogChanged"]["seq"].as_i64() {
                if let Ok(mut m) = a.lock() {
                    m.insert(seq, now);
                }
            }
        }
    });
    Ok(Watch { arrivals })
}

fn deployment(i: usize) -> NewEvent {
    let now = Utc::now();
    NewEvent {
        key: format!(
            "bench-replicas:{i}:{}",
            now.timestamp_nanos_opt().unwrap_or(0)
        ),
        occurred_at: now,
        source: "bench".into(),
        actor: "bench-replicas".into(),
        event: Event::DeploymentObserved(DeploymentObserved {
            cluster: format!("c-{}", i % 4),
            namespace: "bench".into(),
            workload: format!("w-{i}"),
            environment: Some("prod".into()),
            status: DeploymentStatus::Healthy,
            replicas: Some(1),
            runs: Vec::new(),
            revision: None,
            url: None,
        }),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e3)
}

fn main() -> Result<()> {
    let a = parse_args()?;
    let _ = rustls::crypto::ring::default_provider().install_default();
    catalog_tests::server::binary()?;
    let load_before = loadavg();
    let total = Instant::now();
    eprintln!("postgres: starting a primary and a streaming hot standby");
    let t = Instant::now();
    let pair = PgPair::start()?;
    pair.primary.psql("postgres", "CREATE DATABASE catalog")?;
    let pg_up = t.elapsed();
    let (primary, standby) = (pair.primary.url("catalog"), pair.standby.url("catalog"));
    let serve = |url: &str, extra: &[&str]| {
        CatalogServer::start(ServerOpts {
            database_url: Some(url.to_string()),
            extra_args: extra.iter().map(|s| s.to_string()).collect(),
            ..ServerOpts::default()
        })
    };
    let on_primary = serve(&primary, &["--no-worker", "--reconcile-interval", "0"])?;
    pair.wait_caught_up(Duration::from_secs(30))?;
    let on_standby = serve(&standby, &["--read-only"])?;
    let baseline = serve(&standby, &["--read-only", "--tail-poll", "1s"])?;
    let replicas = [
        (
            "--no-worker replica on the primary (LISTEN/NOTIFY)",
            watch(on_primary.port)?,
        ),
        (
            "--read-only replica on the hot standby (polls every 100 ms)",
            watch(on_standby.port)?,
        ),
        (
            "[baseline] --read-only replica on the standby polling every 1 s",
            watch(baseline.port)?,
        ),
    ];
    std::thread::sleep(Duration::from_millis(300));

    eprintln!(
        "writer: {} deployments, one commit each, {} ms apart",
        a.events,
        a.gap.as_millis()
    );
    let store = Store::open(&primary, 2)?;
    let mut committed: HashMap<i64, Instant> = HashMap::new();
    for i in 0..a.events {
        let rec = store.record(&[(None, vec![deployment(i)])])?;
        let at = Instant::now();
        for e in rec {
            committed.insert(e.seq, at);
        }
        std::thread::sleep(a.gap);
    }
    // Let the slowest replica catch up.
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline
        && replicas
            .iter()
            .any(|(_, w)| w.arrivals.lock().map_or(0, |m| m.len()) < committed.len())
    {
        std::thread::sleep(Duration::from_millis(50));
    }

    println!();
    println!(
        "bench-replicas: {} commits, {} ms apart, on a PostgreSQL 15 primary with a streaming hot \
         standby (started in {:.1} s); latency from a commit returning to its catalogChanged \
         event arriving on each replica's WebSocket",
        committed.len(),
        a.gap.as_millis(),
        pg_up.as_secs_f64()
    );
    println!();
    println!("| replica | seen | p50 ms | p99 ms | max ms | aim |");
    println!("|---|---:|---:|---:|---:|---|");
    let mut missed = false;
    for (name, w) in &replicas {
        let arrivals = w.arrivals.lock().map_err(|_| anyhow!("poisoned"))?;
        let mut lat: Vec<Duration> = committed
            .iter()
            .filter_map(|(seq, c)| arrivals.get(seq).map(|a| a.saturating_duration_since(*c)))
            .collect();
        lat.sort();
        let seen = lat.len();
        if seen < committed.len() {
            missed = true;
        }
        let p99 = percentile(&lat, 0.99);
        let aim = if name.starts_with("[baseline]") {
            String::new()
        } else if p99 <= AIM_P99 {
            "p99 <= 250 ms: MET".to_string()
        } else {
            "p99 <= 250 ms: MISSED".to_string()
        };
        println!(
            "| {name} | {seen}/{} | {} | {} | {} | {aim} |",
            committed.len(),
            ms(percentile(&lat, 0.5)),
            ms(p99),
            ms(lat.last().copied().unwrap_or_default())
        );
    }
    println!();
    println!(
        "cores: {} (PostgreSQL x2, three catalogs and this writer share them); load average (1 min) \
         {load_before} before, {} after; total run time {:.1}s",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        loadavg(),
        total.elapsed().as_secs_f64()
    );
    drop(replicas);
    drop((on_primary, on_standby, baseline));
    if missed {
        bail!("a replica did not see every commit");
    }
    Ok(())
}
