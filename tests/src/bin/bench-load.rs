//! Mixed read load: N concurrent clients replay the questions dashboards and incident
//! responders ask, for a fixed time, against the real `catalog` binary serving the large
//! synthetic catalog of `bench-graph` (30M BOM edges at `--size large`).
//!
//! ```text
//! cargo build --release --workspace && \
//!   cargo run --release -p catalog-tests --bin bench-load -- [--size large|small] [--seed 42] \
//!     [--clients 10,50] [--secs 60]
//! ```
//!
//! The questions, drawn per request from a seeded mix:
//! - search as you type (30%): `search(text, first: 10)` with a growing prefix of a component
//!   name (`t`, `te`, ..., `team-12/comp-3`);
//! - `package(purl)` (15%): a package version from the skewed pool, its totals and first 20
//!   images;
//! - `blastRadius` totals (20%): a package version from the pool, or the one planted in 10% of
//!   the images;
//! - `inventory(cluster, first: 50)` (20%): a cluster's first page of live deployments;
//! - `component(name)` (15%): owner, latest version, dependencies and dependents.
//!
//! The baseline in the same run is the floor: `{ __typename }` over the same connections at
//! the same concurrency (what HTTP, routing, auth and GraphQL parsing cost with no work). The
//! anchor is Trustify's published nightly scale run: about 600 req/s at p95 41 ms with 10
//! users. The aim at 10 clients: at least 3x that throughput at a lower p95, on these 2 cores
//! with this client sharing them.
//!
//! Every answer is checked: HTTP 200, no GraphQL `errors`, `data` present; and before the load
//! the planted package's blast radius must equal what was planted. A failure exits 1.

use anyhow::{anyhow, bail, Context, Result};
use catalog_schema::Store;
use catalog_tests::bench::{catalog_pid, cpu_time, loadavg, percentile, Rng};
use catalog_tests::registry::TempDir;
use catalog_tests::synthetic::{
    chunks, pool_purl, Log, Server, Size, Workload, CLUSTERS, LARGE, LOG_PAGE, PLANTED_TEN, SMALL,
};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

const USAGE: &str =
    "usage: bench-load [--size large|small] [--seed 42] [--clients 10,50] [--secs 60]";

/// Trustify's published nightly scale run, 10 users.
const ANCHOR_RPS: f64 = 600.0;
const ANCHOR_P95: Duration = Duration::from_millis(41);

struct Args {
    size: Size,
    seed: u64,
    clients: Vec<usize>,
    secs: u64,
}

fn parse_args() -> Result<Args> {
    let mut a = Args {
        size: LARGE,
        seed: 42,
        clients: vec![10, 50],
        secs: 60,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| anyhow!("{name} needs a value"));
        match flag.as_str() {
            "--size" => {
                a.size = match value("--size")?.as_str() {
                    "small" => SMALL,
                    "large" => LARGE,
                    other => bail!("--size {other:?}: expected small or large; {USAGE}"),
                }
            }
            "--seed" => {
                let v = value("--seed")?;
                a.seed = v
                    .parse()
                    .with_context(|| format!("--seed {v:?}: expected a non-negative integer"))?;
            }
            "--clients" => {
                let v = value("--clients")?;
                a.clients = v
                    .split(',')
                    .map(|n| match n.trim().parse::<usize>() {
                        Ok(n) if n > 0 => Ok(n),
                        _ => Err(anyhow!(
                            "--clients {v:?}: expected positive counts, as 10,50"
                        )),
                    })
                    .collect::<Result<_>>()?;
            }
            "--secs" => {
                let v = value("--secs")?;
                a.secs = match v.parse::<u64>() {
                    Ok(n) if n > 0 => n,
                    _ => bail!("--secs {v:?}: expected a positive number of seconds"),
                };
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?}; {USAGE}"),
        }
    }
    Ok(a)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Search,
    Package,
    Blast,
    Inventory,
    Component,
    Floor,
}

impl Kind {
    const MIX: [(Kind, u32); 5] = [
        (Kind::Search, 30),
        (Kind::Package, 15),
        (Kind::Blast, 20),
        (Kind::Inventory, 20),
        (Kind::Component, 15),
    ];

    fn label(self) -> &'static str {
        match self {
            Kind::Search => "search as you type",
            Kind::Package => "package(purl)",
            Kind::Blast => "blastRadius totals",
            Kind::Inventory => "inventory(cluster, first: 50)",
            Kind::Component => "component(name)",
            Kind::Floor => "[floor] { __typename }",
        }
    }
}

const Q_SEARCH: &str =
    "query($t: String!) { search(text: $t, first: 10) { kind id detail score } }";
const Q_PACKAGE: &str = "query($p: String!) { package(purl: $p) { package { purl versionCount imageCount } totals { images componentVersions deployments clusters owners } images(first: 20) { totalCount } } }";
const Q_BLAST: &str = "query($p: String!) { blastRadius(of: {purl: $p}) { totals { images componentVersions components applications deployments owners } } }";
const Q_INVENTORY: &str = "query($c: String!) { inventory(cluster: $c, first: 50) { totalCount nodes { id namespace workload since status replicas runs { reference digest component version owner known } } } }";
const Q_COMPONENT: &str = "query($c: String!) { component(name: $c) { name owner { name } latestVersion versionCount dependencies { name } dependents { name } } }";
const Q_FLOOR: &str = "{ __typename }";

/// What the clients ask, drawn from the workload's own names.
struct Questions {
    components: Vec<String>,
    pool: usize,
}

impl Questions {
    fn draw(&self, rng: &mut Rng, floor: bool) -> (Kind, Value) {
        if floor {
            return (Kind::Floor, json!({ "query": Q_FLOOR }));
        }
        let total: u32 = Kind::MIX.iter().map(|(_, w)| w).sum();
        let mut pick = rng.below(total as usize) as u32;
        let mut kind = Kind::Search;
        for (k, w) in Kind::MIX {
            if pick < w {
                kind = k;
                break;
            }
            pick -= w;
        }
        let component = &self.components[rng.below(self.components.len())];
        // The skew's head is where responders look most; draw the pool's rank squared.
        let u = rng.unit();
        let pv = pool_purl(((u * u) * self.pool as f64) as usize % self.pool.max(1));
        let body = match kind {
            Kind::Search => {
                let n = 1 + rng.below(component.len());
                let prefix: String = component.chars().take(n).collect();
                json!({ "query": Q_SEARCH, "variables": { "t": prefix } })
            }
            Kind::Package => json!({ "query": Q_PACKAGE, "variables": { "p": pv } }),
            Kind::Blast => {
                let p = if rng.below(10) == 0 {
                    PLANTED_TEN.to_string()
                } else {
                    pv
                };
                json!({ "query": Q_BLAST, "variables": { "p": p } })
            }
            Kind::Inventory => {
                let c = CLUSTERS[rng.below(CLUSTERS.len())].0;
                json!({ "query": Q_INVENTORY, "variables": { "c": c } })
            }
            Kind::Component => json!({ "query": Q_COMPONENT, "variables": { "c": component } }),
            Kind::Floor => json!({ "query": Q_FLOOR }),
        };
        (kind, body)
    }
}

/// One phase: `clients` concurrent clients for `secs`; each sample is (kind, latency).
struct Phase {
    clients: usize,
    floor: bool,
    elapsed: Duration,
    samples: Vec<(Kind, Duration)>,
    failures: Vec<String>,
    server_cpu: Option<Duration>,
    client_cpu: Option<Duration>,
}

async fn client(
    http: reqwest::Client,
    url: String,
    q: Arc<Questions>,
    seed: u64,
    floor: bool,
    until: Instant,
) -> (Vec<(Kind, Duration)>, Vec<String>) {
    let mut rng = Rng::new(seed);
    let mut samples = Vec::new();
    let mut failures = Vec::new();
    while Instant::now() < until {
        let (kind, body) = q.draw(&mut rng, floor);
        let t = Instant::now();
        let r = http.post(&url).json(&body).send().await;
        let answer = match r {
            Ok(r) => {
                let status = r.status().as_u16();
                match r.json::<Value>().await {
                    Ok(v)
                        if status == 200 && v.get("errors").is_none() && v["data"].is_object() =>
                    {
                        Ok(())
                    }
                    Ok(v) => Err(format!("{}: HTTP {status}: {v}", kind.label())),
                    Err(e) => Err(format!("{}: HTTP {status}: {e}", kind.label())),
                }
            }
            Err(e) => Err(format!("{}: {e}", kind.label())),
        };
        let took = t.elapsed();
        match answer {
            Ok(()) => samples.push((kind, took)),
            Err(e) => {
                if failures.len() < 5 {
                    failures.push(format!("{e} (asked {body})"));
                }
            }
        }
    }
    (samples, failures)
}

/// Runs `clients` clients (seeds `seed`, `2 * seed`, ...) until `until`; each one's samples and
/// failures, or why its task failed.
#[allow(clippy::too_many_arguments)]
async fn clients_until(
    http: &reqwest::Client,
    url: &str,
    q: &Arc<Questions>,
    clients: usize,
    seed: u64,
    floor: bool,
    until: Instant,
) -> Vec<Result<(Vec<(Kind, Duration)>, Vec<String>), tokio::task::JoinError>> {
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            tokio::spawn(client(
                http.clone(),
                url.to_string(),
                q.clone(),
                (c as u64 + 1) * seed,
                floor,
                until,
            ))
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await);
    }
    out
}

fn run_phase(
    url: &str,
    q: &Arc<Questions>,
    clients: usize,
    secs: u64,
    floor: bool,
    pid: Option<&str>,
) -> Result<Phase> {
    // One thread for every client: the load generator takes as little of the 2 cores as it can.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let http = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(clients)
        .timeout(Duration::from_secs(30))
        .build()?;
    // Warm the connections and the server's caches, unmeasured.
    let warm_until = Instant::now() + Duration::from_secs(2);
    let _ = rt.block_on(clients_until(
        &http, url, q, clients, 1_000, floor, warm_until,
    ));
    let server_cpu0 = pid.and_then(cpu_time);
    let client_cpu0 = cpu_time("self");
    let t0 = Instant::now();
    let until = t0 + Duration::from_secs(secs);
    let results = rt.block_on(clients_until(&http, url, q, clients, 7_919, floor, until));
    let elapsed = t0.elapsed();
    let mut samples = Vec::new();
    let mut failures = Vec::new();
    for r in results {
        let (s, f) = r.map_err(|e| anyhow!("a client task failed: {e}"))?;
        samples.extend(s);
        failures.extend(f);
    }
    Ok(Phase {
        clients,
        floor,
        elapsed,
        samples,
        failures,
        server_cpu: pid
            .and_then(cpu_time)
            .zip(server_cpu0)
            .map(|(b, a)| b.saturating_sub(a)),
        client_cpu: cpu_time("self")
            .zip(client_cpu0)
            .map(|(b, a)| b.saturating_sub(a)),
    })
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

struct Line {
    n: usize,
    rps: f64,
    p50: Duration,
    p95: Duration,
    p99: Duration,
}

fn line(mut lat: Vec<Duration>, elapsed: Duration) -> Line {
    lat.sort_unstable();
    Line {
        n: lat.len(),
        rps: lat.len() as f64 / elapsed.as_secs_f64().max(1e-9),
        p50: percentile(&lat, 0.50),
        p95: percentile(&lat, 0.95),
        p99: percentile(&lat, 0.99),
    }
}

fn main() -> Result<()> {
    let a = parse_args()?;
    let total = Instant::now();
    let load_before = loadavg();
    let _ = rustls::crypto::ring::default_provider().install_default();
    catalog_tests::server::binary()?;

    // --- the catalog: the same seeded workload as bench-graph, its log in a SQLite file
    let t = Instant::now();
    let w = Workload::generate(a.size, a.seed)?;
    let log = Log::new(&w)?;
    let ten_images = w.ten_count();
    eprintln!(
        "setup ({}, seed {}): {} images x {} packages ({} BOM edges), {} components, {} events; \
         generated in {:.1}s",
        a.size.name,
        a.seed,
        a.size.images(),
        a.size.packages,
        w.edges(),
        a.size.components,
        log.len(),
        t.elapsed().as_secs_f64()
    );
    let dir = TempDir::new("bench-load")?;
    let db = dir.path().join("catalog.db");
    let db_url = db
        .to_str()
        .ok_or_else(|| anyhow!("database path is not UTF-8"))?
        .to_string();
    let t = Instant::now();
    {
        let store = Store::open(&db_url, 2)?;
        let mut imported = 0;
        for r in chunks(0..log.len(), LOG_PAGE) {
            imported += store.import_log(&log.events(r))?;
        }
        if imported != log.len() {
            bail!("import_log took {imported} events of {}", log.len());
        }
    }
    eprintln!(
        "sqlite: {} events imported in {:.1}s",
        log.len(),
        t.elapsed().as_secs_f64()
    );
    let questions = Arc::new(Questions {
        components: w.components.iter().map(|c| c.name.clone()).collect(),
        pool: a.size.pool,
    });
    drop(log);
    drop(w);

    let (server, ready) = Server::start(&db, dir.path(), &["--snapshot-every", "0"])?;
    eprintln!(
        "catalog serve ready in {:.1}s (a full replay of the log)",
        ready.as_secs_f64()
    );
    let url = server.url("/graphql");
    let pid = catalog_pid(server.port);

    // --- the planted answer, before any load
    let check: Value = reqwest::blocking::Client::builder()
        .no_proxy()
        .build()?
        .post(&url)
        .json(&json!({ "query": Q_BLAST, "variables": { "p": PLANTED_TEN } }))
        .send()?
        .json()?;
    let images = check["data"]["blastRadius"]["totals"]["images"].as_u64();
    if images != Some(ten_images as u64) {
        bail!("the planted package's blast radius is {check}, not {ten_images} images");
    }

    // --- the phases: the floor and the mix at each concurrency
    let mut phases = Vec::new();
    for &clients in &a.clients {
        let floor_secs = (a.secs / 6).max(5);
        eprintln!("load: {clients} clients, the floor for {floor_secs}s");
        phases.push(run_phase(
            &url,
            &questions,
            clients,
            floor_secs,
            true,
            pid.as_deref(),
        )?);
        eprintln!("load: {clients} clients, the mix for {}s", a.secs);
        phases.push(run_phase(
            &url,
            &questions,
            clients,
            a.secs,
            false,
            pid.as_deref(),
        )?);
    }
    let server_log = server.log();
    drop(server);

    // --- report
    println!();
    println!(
        "bench-load ({}, seed {}): {} images x {} packages, {} components; mixed reads for {}s \
         per concurrency; catalog ready in {:.1}s",
        a.size.name,
        a.seed,
        a.size.images(),
        a.size.packages,
        a.size.components,
        a.secs,
        ready.as_secs_f64()
    );
    println!();
    println!("| clients | query | requests | req/s | p50 ms | p95 ms | p99 ms |");
    println!("|---:|---|---:|---:|---:|---:|---:|");
    let mut failures = Vec::new();
    let mut verdicts = Vec::new();
    for p in &phases {
        failures.extend(p.failures.iter().cloned());
        if p.floor {
            let l = line(p.samples.iter().map(|s| s.1).collect(), p.elapsed);
            println!(
                "| {} | {} | {} | {:.0} | {} | {} | {} |",
                p.clients,
                Kind::Floor.label(),
                l.n,
                l.rps,
                ms(l.p50),
                ms(l.p95),
                ms(l.p99)
            );
            continue;
        }
        for (k, _) in Kind::MIX {
            let l = line(
                p.samples.iter().filter(|s| s.0 == k).map(|s| s.1).collect(),
                p.elapsed,
            );
            println!(
                "| {} | {} | {} | {:.0} | {} | {} | {} |",
                p.clients,
                k.label(),
                l.n,
                l.rps,
                ms(l.p50),
                ms(l.p95),
                ms(l.p99)
            );
        }
        let all = line(p.samples.iter().map(|s| s.1).collect(), p.elapsed);
        println!(
            "| {} | **all** (server CPU {}, client CPU {} of {:.0} s) | {} | **{:.0}** | {} | **{}** | {} |",
            p.clients,
            p.server_cpu
                .map_or("?".to_string(), |d| format!("{:.0} s", d.as_secs_f64())),
            p.client_cpu
                .map_or("?".to_string(), |d| format!("{:.0} s", d.as_secs_f64())),
            p.elapsed.as_secs_f64(),
            all.n,
            all.rps,
            ms(all.p50),
            ms(all.p95),
            ms(all.p99)
        );
        if p.clients == 10 {
            let met = all.rps >= 3.0 * ANCHOR_RPS && all.p95 < ANCHOR_P95;
            verdicts.push(format!(
                "aim at 10 clients (>= {:.0} req/s, p95 < {} ms; Trustify's nightly: ~{ANCHOR_RPS:.0} req/s at p95 {} ms): {:.0} req/s, p95 {} ms: {}",
                3.0 * ANCHOR_RPS,
                ANCHOR_P95.as_millis(),
                ANCHOR_P95.as_millis(),
                all.rps,
                ms(all.p95),
                if met { "MET" } else { "MISSED" }
            ));
        }
    }
    println!();
    for v in &verdicts {
        println!("{v}");
    }
    let errors = server_log.lines().filter(|l| l.contains("ERROR")).count();
    println!(
        "answers: the planted blast radius equals what was planted; {} failed requests; server \
         log: {errors} ERROR lines",
        failures.len()
    );
    println!(
        "cores: {} (the catalog and this client share them; the client runs every connection on \
         one thread); load average (1 min) {load_before} before, {} after; total run time {:.0}s",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        loadavg(),
        total.elapsed().as_secs_f64()
    );
    if !failures.is_empty() {
        println!();
        println!("FAILED requests (first few):");
        for f in failures.iter().take(10) {
            println!("  - {f}");
        }
        std::process::exit(1);
    }
    Ok(())
}
