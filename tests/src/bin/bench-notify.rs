#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Notification benchmark: how long from an advisory's acknowledgement to the receiver, and
//! how fast the outbox drains 1,000 matches at once, against a baseline in the same run.
//!
//! ```text
//! cargo run --release -p catalog-tests --bin bench-notify -- [--matches 1000] [--single 100]
//! ```
//!
//! A real registry and the release `catalog` (SQLite): one image of `payments`, its SBOM
//! naming `--matches` × 2 + `--single` packages, running in prod. Each advisory (OSV, with
//! a critical CVSS vector) affects one package, so each is one incident and one signed
//! webhook to a receiver the benchmark runs (answering 200 at once).
//! - **direct POSTs [baseline]**: the same number of signed bodies POSTed to the receiver
//!   by one client, 8 in flight: the floor of the transport.
//! - **burst**: `--matches` advisories POSTed at once (8 in flight); each notification's
//!   latency runs from its advisory's 202 to the receiver.
//! - **burst beside a failing endpoint**: the same, with every notification also routed
//!   to an endpoint that answers 500 (retried, then parked): its lane must not slow this one.
//! - **one at a time**: `--single` advisories, each sent when the last one's notification
//!   arrived: the latency of a lone match.
//! - **deploy storm**: 2,000 deployments of other workloads (nothing vulnerable), before any
//!   incident is open [baseline] and with the bursts' incidents open: what looking at open
//!   incidents again costs ingest (recorded and applied, as GraphQL shows).

use anyhow::{anyhow, bail, Context, Result};
use catalog_tests::bench::percentile;
use catalog_tests::receiver::{Answer, Receiver};
use catalog_tests::registry::{push, ImageSpec, Layout, TempDir};
use catalog_tests::server::{CATALOG_TOKEN, INGEST_TOKEN};
use catalog_tests::{CatalogServer, ServerOpts};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const USAGE: &str = "usage: bench-notify [--matches 1000] [--single 100]";
const AIM_P99: Duration = Duration::from_secs(1);
const IN_FLIGHT: usize = 8;
/// Deployments in a deploy storm.
const STORM: usize = 2000;

fn package(i: usize) -> String {
    format!("pkg:npm/bench-notify-{i}@1.0.0")
}

fn advisory(i: usize) -> Vec<u8> {
    json!({
        "id": format!("BENCH-{i}"),
        "modified": "2026-01-01T00:00:00Z",
        "summary": format!("bench advisory {i}"),
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"}],
        "affected": [{"package": {"ecosystem": "npm", "name": format!("bench-notify-{i}")},
                      "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "2.0.0"}]}]}]
    })
    .to_string()
    .into_bytes()
}

struct Row {
    run: String,
    n: usize,
    took: Duration,
    latencies: Vec<Duration>,
}

/// POSTs `bodies` (index, body) with `IN_FLIGHT` threads; returns when each was acknowledged.
fn post_all(
    url: &str,
    token: Option<&str>,
    bodies: Vec<(usize, Vec<u8>)>,
) -> Result<HashMap<usize, Instant>> {
    let client = reqwest::blocking::Client::new();
    let work = Arc::new(Mutex::new(bodies));
    let acked = Arc::new(Mutex::new(HashMap::new()));
    std::thread::scope(|s| -> Result<()> {
        let mut hs = Vec::new();
        for _ in 0..IN_FLIGHT {
            let (work, acked, client) = (work.clone(), acked.clone(), client.clone());
            hs.push(s.spawn(move || -> Result<()> {
                loop {
                    let Some((i, body)) = work.lock().unwrap().pop() else {
                        return Ok(());
                    };
                    let mut r = client
                        .post(url)
                        .header("content-type", "application/json")
                        .body(body);
                    if let Some(t) = token {
                        r = r.bearer_auth(t);
                    }
                    let st = r.send()?.status();
                    if !st.is_success() {
                        bail!("POST {url}: HTTP {st}");
                    }
                    acked.lock().unwrap().insert(i, Instant::now());
                }
            }));
        }
        for h in hs {
            h.join().map_err(|_| anyhow!("a poster panicked"))??;
        }
        Ok(())
    })?;
    Ok(Arc::try_unwrap(acked)
        .map_err(|_| anyhow!("acked"))?
        .into_inner()?)
}

/// Latencies from each advisory's acknowledgement to its notification at `path`.
fn latencies(
    receiver: &Receiver,
    path: &str,
    acked: &HashMap<usize, Instant>,
    from: usize,
) -> Vec<Duration> {
    let mut out: Vec<Duration> = receiver
        .at(path)
        .iter()
        .filter_map(|r| {
            let id = r.json()["details"]["id"]
                .as_str()?
                .strip_prefix("BENCH-")?
                .parse::<usize>()
                .ok()?;
            let sent = acked.get(&id)?;
            (id >= from).then(|| r.at.saturating_duration_since(*sent))
        })
        .collect();
    out.sort();
    out
}

fn main() -> Result<()> {
    let mut matches = 1000usize;
    let mut single = 100usize;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let v = it
            .next()
            .ok_or_else(|| anyhow!("{flag} needs a value; {USAGE}"))?;
        match flag.as_str() {
            "--matches" => matches = v.parse().context("--matches")?,
            "--single" => single = v.parse().context("--single")?,
            _ => bail!("{USAGE}"),
        }
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let receiver = Receiver::start()?;
    receiver.answer("/dead", Answer::Status(500));
    let dir = TempDir::new("bench-notify")?;
    std::fs::write(
        dir.path().join("hook.key"),
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    )?;
    let cfg = dir.path().join("notify.yaml");
    std::fs::write(
        &cfg,
        format!(
            "retry: {{attempts: 3, first: 200ms, max: 1s, timeout: 3s}}\nendpoints:\n  - {{name: hook, kind: webhook, url: '{}', secret_file: hook.key}}\n  - {{name: dead, kind: webhook, url: '{}', secret_file: hook.key}}\n",
            receiver.url("/hook"),
            receiver.url("/dead")
        ),
    )?;
    let (registry, server) = CatalogServer::with_registry(ServerOpts {
        extra_args: vec!["--notify-config".into(), cfg.display().to_string()],
        ..Default::default()
    })?;
    let layout = Layout::new()?;
    layout.build(
        "app",
        &ImageSpec::new("bench notify").label("dev.catalog.owner", "payments"),
    )?;
    let digest = push(&layout, "app", &registry.host(), "bench/app", "1.0.0")?;
    server.wait_for("the image", Duration::from_secs(60), || {
        let r = server.query(
            "query($d: String!) { image(digest: $d) { digest } }",
            json!({"d": digest}),
        )?;
        Ok(r["image"]["digest"].is_string().then_some(()))
    })?;
    let total = matches * 2 + single;
    let components: Vec<_> = (0..total)
        .map(|i| json!({"type": "library", "bom-ref": package(i), "name": format!("bench-notify-{i}"), "version": "1.0.0", "purl": package(i)}))
        .collect();
    let sbom = json!({"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": components});
    let (st, body) = server.post(
        &format!("/hooks/sbom?image={digest}"),
        "application/vnd.cyclonedx+json",
        Some(INGEST_TOKEN),
        sbom.to_string().into_bytes(),
    )?;
    if st != 202 {
        bail!("SBOM: {st} {body}");
    }
    let deployment = json!({"environment": "prod", "cluster": "prod-1", "namespace": "pay", "workload": "app",
        "status": "healthy", "source": "api", "images": [{"image": format!("{}/bench/app@{digest}", registry.host())}]});
    let (st, body) = server.post(
        "/hooks/deployments",
        "application/json",
        Some(INGEST_TOKEN),
        deployment.to_string().into_bytes(),
    )?;
    if st != 202 {
        bail!("deployment: {st} {body}");
    }
    let rule = |endpoints: &[&str]| -> Result<()> {
        let (st, v) = server.graphql_as(
            Some(CATALOG_TOKEN),
            "mutation($e: [String!]!) { setNotificationRule(endpoints: $e, on: [VULNERABILITY]) { endpoints } }",
            json!({"e": endpoints}),
        )?;
        if st != 200 || v.get("errors").is_some() {
            bail!("rule: {v}");
        }
        Ok(())
    };
    rule(&["hook"])?;
    server.wait_for("the SBOM and the deployment", Duration::from_secs(120), || {
        let r = server.query("query($d: String!) { whereIs(image: $d) { nodes { cluster } } image(digest: $d) { packages(first: 1) { totalCount } } }", json!({"d": digest}))?;
        Ok((r["whereIs"]["nodes"].as_array().map_or(0, Vec::len) == 1
            && r["image"]["packages"]["totalCount"].as_u64() == Some(total as u64))
        .then_some(()))
    })?;
    let osv_url = server.url("/hooks/osv");
    let mut rows = Vec::new();

    // Baseline: the same number of signed bodies, straight to the receiver.
    let bodies: Vec<(usize, Vec<u8>)> = (0..matches)
        .map(|i| {
            (
                i,
                json!({"key": format!("direct-{i}"), "details": {"id": format!("BENCH-{i}")}})
                    .to_string()
                    .into_bytes(),
            )
        })
        .collect();
    let t = Instant::now();
    post_all(&receiver.url("/direct"), None, bodies)?;
    let took = t.elapsed();
    rows.push(Row {
        run: "direct POSTs to the receiver, 8 in flight [baseline]".into(),
        n: matches,
        took,
        latencies: Vec::new(),
    });

    // A deploy storm (other workloads, nothing vulnerable): what the producer costs ingest,
    // with and without open incidents to look at again.
    let storm = |round: &str, name: &str| -> Result<Row> {
        let cluster = format!("storm-{round}");
        let bodies = (0..STORM)
            .map(|i| {
                let d = json!({"environment": "prod", "cluster": cluster, "namespace": "pay",
                    "workload": format!("w{i}"), "status": "healthy", "source": "api",
                    "images": [{"image": "example.com/other:1"}]});
                (i, d.to_string().into_bytes())
            })
            .collect();
        let t = Instant::now();
        post_all(
            &server.url("/hooks/deployments"),
            Some(INGEST_TOKEN),
            bodies,
        )?;
        server.wait_for("the storm applied", Duration::from_secs(300), || {
            let r = server.query(
                "query($c: String!) { inventory(cluster: $c, first: 1) { totalCount } }",
                json!({"c": cluster}),
            )?;
            Ok((r["inventory"]["totalCount"].as_u64() == Some(STORM as u64)).then_some(()))
        })?;
        Ok(Row {
            run: name.into(),
            n: STORM,
            took: t.elapsed(),
            latencies: Vec::new(),
        })
    };
    rows.push(storm(
        "before",
        "deploy storm: deployments recorded and applied, no incident open [baseline]",
    )?);

    // A burst of advisories.
    let burst = |from: usize, path: &str, name: &str| -> Result<Row> {
        let before = receiver.at(path).len();
        let t = Instant::now();
        let acked = post_all(
            &osv_url,
            Some(CATALOG_TOKEN),
            (from..from + matches).map(|i| (i, advisory(i))).collect(),
        )?;
        receiver.wait(path, before + matches, Duration::from_secs(300))?;
        let took = t.elapsed();
        Ok(Row {
            run: name.into(),
            n: matches,
            took,
            latencies: latencies(&receiver, path, &acked, from),
        })
    };
    rows.push(burst(
        0,
        "/hook",
        &format!("outbox: {matches} advisories at once, one endpoint"),
    )?);
    rule(&["hook", "dead"])?;
    rows.push(burst(
        matches,
        "/hook",
        "outbox: the same, beside an endpoint answering 500",
    )?);
    rule(&["hook"])?;
    rows.push(storm(
        "after",
        &format!("deploy storm: the same, {} incidents open", matches * 2),
    )?);

    // One at a time.
    let mut lone = Vec::new();
    let t = Instant::now();
    for i in matches * 2..total {
        let before = receiver.at("/hook").len();
        let acked = post_all(&osv_url, Some(CATALOG_TOKEN), vec![(i, advisory(i))])?;
        receiver.wait("/hook", before + 1, Duration::from_secs(30))?;
        lone.extend(latencies(&receiver, "/hook", &acked, i));
    }
    lone.sort();
    rows.push(Row {
        run: "outbox: one advisory at a time".into(),
        n: single,
        took: t.elapsed(),
        latencies: lone,
    });

    let parked = server.query(
        "{ notificationEndpoints { name delivered parked pending } }",
        json!({}),
    )?;
    println!("\n| run | items | took s | per s | latency p50 ms | p99 ms | max ms |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        let (p50, p99, max) = if r.latencies.is_empty() {
            ("-".to_string(), "-".to_string(), "-".to_string())
        } else {
            let ms = |d: Duration| format!("{:.1}", d.as_secs_f64() * 1000.0);
            (
                ms(percentile(&r.latencies, 0.5)),
                ms(percentile(&r.latencies, 0.99)),
                ms(*r.latencies.last().unwrap()),
            )
        };
        println!(
            "| {} | {} | {:.2} | {:.0} | {p50} | {p99} | {max} |",
            r.run,
            r.n,
            r.took.as_secs_f64(),
            r.n as f64 / r.took.as_secs_f64()
        );
    }
    println!(
        "\nendpoints after the run: {}",
        parked["notificationEndpoints"]
    );
    let worst = rows
        .iter()
        .filter_map(|r| r.latencies.last())
        .max()
        .copied()
        .unwrap_or_default();
    let p99s: Vec<Duration> = rows
        .iter()
        .filter(|r| !r.latencies.is_empty())
        .map(|r| percentile(&r.latencies, 0.99))
        .collect();
    println!(
        "aim: p99 <= {AIM_P99:?} from the matching event to the receiver: {} (worst p99 {:?}, worst single {worst:?})",
        if p99s.iter().all(|p| *p <= AIM_P99) { "met" } else { "NOT met" },
        p99s.iter().max().copied().unwrap_or_default()
    );
    drop(server);
    Ok(())
}
