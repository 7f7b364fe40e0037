#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Ingest benchmark: how fast the catalog acknowledges Distribution notifications, and how
//! long until all of them are queryable, against a floor (a bare actix-web handler doing one
//! INSERT per request into the same SQLite file with the same pragmas).
//!
//! ```text
//! cargo build --release --workspace && \
//!   cargo run --release -p catalog-tests --bin bench-ingest -- [--n 20000] [--concurrency 32]
//! ```
//!
//! Real parts only: Debian's docker-registry, images built with umoci and pushed with skopeo,
//! the built `catalog` binary (target/release/catalog when this is built in release).

use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::{anyhow, bail, Context, Result};
use catalog_tests::bench::{catalog_pid, cpu_time, loadavg, metric, percentile};
use catalog_tests::notify::{build_and_push, notification};
use catalog_tests::registry::Registry;
use catalog_tests::senders::{formats, serve_args, Img};
use catalog_tests::server::{free_port, INGEST_TOKEN};
use catalog_tests::{CatalogServer, ServerOpts};
use diesel::connection::SimpleConnection;
use diesel::{Connection, RunQueryDsl, SqliteConnection};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Bytes = web::Bytes;

const CT: &str = "application/vnd.docker.distribution.events.v1+json";
/// Images (and repositories) the notifications point at.
const K: usize = 8;
/// Formats whose notifications name tags only.
const TAG_ONLY: [&str; 3] = ["quay", "dockerhub", "nexus"];
const POLL: Duration = Duration::from_millis(20);
const QUERYABLE_TIMEOUT: Duration = Duration::from_secs(600);
/// The catalog's SQLite pragmas (schema/src/store/mod.rs); busy_timeout first, so that opening
/// while another connection checkpoints waits instead of failing with "database is locked".
const PRAGMAS: &str =
    "PRAGMA busy_timeout = 15000; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;";

struct Args {
    n: usize,
    concurrency: usize,
    /// Sample the catalog's /metrics every 250 ms during phase A and print a timeline next to
    /// the client's ack latencies (for finding bottlenecks; adds a little load).
    timeline: bool,
    /// Other registries' formats measured in the same run, after Distribution's.
    formats: Vec<String>,
}

const USAGE: &str = "usage: bench-ingest [--n 20000] [--concurrency 32] [--timeline] \
                     [--format harbor,ghcr,ecr] (any of: harbor, harbor-ce, ghcr, ecr, ecr-sns, acr, \
                     gar, artifactory, zot; none: distribution only)";

fn parse_args() -> Result<Args> {
    let mut a = Args {
        n: 20_000,
        concurrency: 32,
        timeline: false,
        formats: ["harbor", "ghcr", "ecr"].map(String::from).to_vec(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| -> Result<usize> {
            let v = it.next().ok_or_else(|| anyhow!("{name} needs a value"))?;
            v.parse()
                .with_context(|| format!("{name} {v:?}: expected a positive integer"))
        };
        match flag.as_str() {
            "--n" => a.n = value("--n")?,
            "--concurrency" => a.concurrency = value("--concurrency")?,
            "--timeline" => a.timeline = true,
            "--format" => {
                let v = it.next().ok_or_else(|| anyhow!("--format needs a value"))?;
                a.formats = v
                    .split(',')
                    .map(str::trim)
                    .filter(|f| !f.is_empty() && *f != "none" && *f != "distribution")
                    .map(String::from)
                    .collect();
                let known: Vec<&str> = formats().iter().map(|(n, _)| *n).collect();
                for f in &a.formats {
                    // Quay, Docker Hub and Nexus name tags only: the worker would resolve
                    // tags the benchmark never pushed.
                    if !known.contains(&f.as_str()) || TAG_ONLY.contains(&f.as_str()) {
                        bail!("--format: {f:?} is not a format with digests; {USAGE}");
                    }
                }
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?}; {USAGE}"),
        }
    }
    if a.n == 0 || a.concurrency == 0 {
        bail!("--n and --concurrency must be at least 1");
    }
    Ok(a)
}

// ---------------------------------------------------------------------------------------------
// Posting

struct Posted {
    wall: Duration,
    /// Per-request latency, sorted.
    latencies: Vec<Duration>,
    /// (when the response arrived, since the start of posting; latency), in no order.
    completions: Vec<(Duration, Duration)>,
}

/// One request to post: where, with which content type and headers, and the body.
struct Prepared {
    url: String,
    content_type: &'static str,
    headers: Vec<(String, String)>,
    body: Bytes,
}

impl Prepared {
    /// A Distribution notification with the ingest token.
    fn distribution(url: &str, body: Bytes) -> Prepared {
        Prepared {
            url: url.to_string(),
            content_type: CT,
            headers: vec![("authorization".into(), format!("Bearer {INGEST_TOKEN}"))],
            body,
        }
    }
}

/// Posts every request with `concurrency` in flight; fails on the first non-202.
async fn post_all(
    http: &reqwest::Client,
    bodies: Arc<Vec<Prepared>>,
    concurrency: usize,
) -> Result<Posted> {
    let next = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency.min(bodies.len()) {
        let (http, bodies, next, stop) = (http.clone(), bodies.clone(), next.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(bodies.len() / concurrency + 1);
            let mut failures: Vec<String> = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= bodies.len() {
                    break;
                }
                let p = &bodies[i];
                let t = Instant::now();
                let mut req = http
                    .post(&p.url)
                    .header("content-type", p.content_type)
                    .body(p.body.clone());
                for (k, v) in &p.headers {
                    req = req.header(k.as_str(), v.as_str());
                }
                let r = req.send().await;
                let outcome = match r {
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        let text = resp.text().await.unwrap_or_default();
                        (status == 202)
                            .then_some(())
                            .ok_or(format!("request {i}: HTTP {status}: {text}"))
                    }
                    Err(e) => Err(format!("request {i}: {e}")),
                };
                lat.push((started.elapsed(), t.elapsed()));
                if let Err(e) = outcome {
                    failures.push(e);
                    stop.store(true, Ordering::Relaxed);
                }
            }
            (lat, failures)
        }));
    }
    let mut completions = Vec::with_capacity(bodies.len());
    let mut failures = Vec::new();
    for t in tasks {
        let (l, f) = t.await?;
        completions.extend(l);
        failures.extend(f);
    }
    let mut latencies: Vec<Duration> = completions.iter().map(|c| c.1).collect();
    let wall = started.elapsed();
    if !failures.is_empty() {
        bail!(
            "{} request(s) failed (aborted after {} sent); first: {}",
            failures.len(),
            completions.len(),
            failures[0]
        );
    }
    latencies.sort();
    Ok(Posted {
        wall,
        latencies,
        completions,
    })
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

// ---------------------------------------------------------------------------------------------
// Catalog phase

struct Queryable {
    /// From the start of posting.
    at: Duration,
    /// (time from start of posting, events in the log) samples while waiting.
    samples: Vec<(Duration, i64)>,
}

async fn graphql(http: &reqwest::Client, url: &str, query: &str) -> Result<Value> {
    let r = http
        .post(url)
        .header("content-type", "application/json")
        .body(json!({"query": query}).to_string())
        .send()
        .await?;
    let status = r.status().as_u16();
    let v: Value = r.json().await?;
    if status != 200 || v.get("errors").is_some() {
        bail!("query failed ({status}): {v}");
    }
    Ok(v["data"].clone())
}

/// Polls until every event is in the log, the inbox is empty, the graph has every version,
/// and the last version pushed to bench/app-0 resolves to its digest.
async fn wait_queryable(
    http: &reqwest::Client,
    url: &str,
    started: Instant,
    n: usize,
    spot_version: &str,
    spot_digest: &str,
) -> Result<Queryable> {
    let mut q = format!(
        "{{ eventCount inbox(state: PENDING, first: 1) {{ edges {{ node {{ id }} }} }} \
         spot: component(name: \"bench/app-0\") {{ version(version: \"{spot_version}\") {{ digest }} }}"
    );
    for k in 0..K {
        q.push_str(&format!(
            " c{k}: component(name: \"bench/app-{k}\") {{ versionCount }}"
        ));
    }
    q.push_str(" }");
    let mut samples = Vec::new();
    let mut last_sample = Duration::ZERO;
    let mut last_err = String::new();
    let deadline = Instant::now() + QUERYABLE_TIMEOUT;
    loop {
        match graphql(http, url, &q).await {
            Ok(d) => {
                let events = d["eventCount"].as_i64().unwrap_or(-1);
                let at = started.elapsed();
                if samples.is_empty() || at - last_sample >= Duration::from_millis(500) {
                    samples.push((at, events));
                    last_sample = at;
                }
                let pending_empty = d["inbox"]["edges"].as_array().is_some_and(Vec::is_empty);
                let spot_ok = d["spot"]["version"]["digest"].as_str() == Some(spot_digest);
                let versions: i64 = (0..K)
                    .map(|k| d[format!("c{k}")]["versionCount"].as_i64().unwrap_or(0))
                    .sum();
                if events == n as i64 && pending_empty && spot_ok && versions == n as i64 {
                    samples.push((at, events));
                    return Ok(Queryable { at, samples });
                }
            }
            Err(e) => last_err = format!("{e:#}"),
        }
        if Instant::now() > deadline {
            bail!("not all {n} notifications queryable after {QUERYABLE_TIMEOUT:?} (last error: {last_err})");
        }
        tokio::time::sleep(POLL).await;
    }
}

/// One reading of the catalog's /metrics.
struct Sample {
    at: Duration,
    hook_items: f64,
    commits: f64,
    events: f64,
    depth: f64,
}

async fn sample_metrics(
    http: reqwest::Client,
    url: String,
    started: Instant,
    stop: Arc<AtomicBool>,
) -> Vec<Sample> {
    let mut out = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        if let Ok(r) = http.get(&url).send().await {
            if let Ok(text) = r.text().await {
                out.push(Sample {
                    at: started.elapsed(),
                    hook_items: metric(&text, "catalog_hook_items_total").unwrap_or(f64::NAN),
                    commits: metric(&text, "catalog_inbox_commits_total").unwrap_or(f64::NAN),
                    events: metric(&text, "catalog_events_recorded_total").unwrap_or(f64::NAN),
                    depth: metric(&text, "catalog_inbox_depth").unwrap_or(f64::NAN),
                });
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    out
}

/// Per sampling interval: what the client saw (acks, worst ack latency) beside what the
/// catalog did (items acked, inbox commits, events recorded, inbox depth).
fn print_timeline(samples: &[Sample], completions: &[(Duration, Duration)]) {
    println!();
    println!("timeline (catalog /metrics every 250 ms; client acks by arrival time):");
    println!("| t s | client acks | client max ack ms | hook items | inbox commits | events recorded | inbox depth |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    let mut prev: Option<&Sample> = None;
    for s in samples {
        let from = prev.map_or(Duration::ZERO, |p| p.at);
        let acks: Vec<Duration> = completions
            .iter()
            .filter(|(done, _)| *done > from && *done <= s.at)
            .map(|c| c.1)
            .collect();
        let d = |f: fn(&Sample) -> f64| prev.map_or(f(s), |p| f(s) - f(p));
        println!(
            "| {:.2} | {} | {} | {:.0} | {:.0} | {:.0} | {:.0} |",
            s.at.as_secs_f64(),
            acks.len(),
            acks.iter().max().map_or("-".to_string(), |m| ms(*m)),
            d(|x| x.hook_items),
            d(|x| x.commits),
            d(|x| x.events),
            s.depth,
        );
        prev = Some(s);
    }
}

// ---------------------------------------------------------------------------------------------
// Floor: a bare handler, one INSERT (its own transaction) per request, same SQLite file

fn open_floor(db: &Path) -> Result<SqliteConnection> {
    let path = db
        .to_str()
        .ok_or_else(|| anyhow!("database path is not UTF-8"))?;
    let mut c = SqliteConnection::establish(path)?;
    c.batch_execute(PRAGMAS)?;
    Ok(c)
}

async fn floor_hook(body: Bytes, conn: web::Data<Mutex<SqliteConnection>>) -> HttpResponse {
    let Ok(text) = String::from_utf8(body.to_vec()) else {
        return HttpResponse::BadRequest().finish();
    };
    let r = web::block(move || {
        let mut c = conn
            .lock()
            .map_err(|_| diesel::result::Error::BrokenTransactionManager)?;
        diesel::sql_query("INSERT INTO bench_floor (body) VALUES (?)")
            .bind::<diesel::sql_types::Text, _>(text)
            .execute(&mut *c)
    })
    .await;
    match r {
        Ok(Ok(_)) => HttpResponse::Accepted().json(json!({"accepted": 1, "ignored": 0})),
        Ok(Err(e)) => HttpResponse::InternalServerError().body(e.to_string()),
        Err(e) => HttpResponse::InternalServerError().body(e.to_string()),
    }
}

struct Floor {
    port: u16,
    handle: actix_web::dev::ServerHandle,
    thread: std::thread::JoinHandle<std::io::Result<()>>,
}

/// Starts the floor server on its own actix System thread; `workers` HTTP workers, each with
/// its own connection.
fn start_floor(db: PathBuf, workers: usize) -> Result<Floor> {
    let port = free_port()?;
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("floor".into())
        .spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    let conn = open_floor(&db).expect("floor: cannot open the database");
                    App::new()
                        .app_data(web::Data::new(Mutex::new(conn)))
                        .route("/hook", web::post().to(floor_hook))
                })
                .workers(workers)
                .backlog(4096)
                .disable_signals()
                .bind(("127.0.0.1", port))?
                .run();
                let _ = tx.send(server.handle());
                server.await
            })
        })?;
    let handle = rx
        .recv_timeout(Duration::from_secs(30))
        .map_err(|_| anyhow!("the floor server did not start"))?;
    Ok(Floor {
        port,
        handle,
        thread,
    })
}

// ---------------------------------------------------------------------------------------------
// What else ran on the machine

fn secs(d: Option<Duration>) -> String {
    d.map_or("?".to_string(), |d| format!("{:.1}", d.as_secs_f64()))
}

// ---------------------------------------------------------------------------------------------

struct Row {
    name: String,
    n: usize,
    posted: Posted,
    queryable: Option<Duration>,
}

impl Row {
    fn rate(&self) -> f64 {
        self.n as f64 / self.posted.wall.as_secs_f64()
    }

    fn print(&self) {
        let l = &self.posted.latencies;
        println!(
            "| {} | {} | {:.0} | {} | {} | {} | {} | {} |",
            self.name,
            self.n,
            self.rate(),
            ms(percentile(l, 0.50)),
            ms(percentile(l, 0.90)),
            ms(percentile(l, 0.99)),
            ms(l.last().copied().unwrap_or_default()),
            self.queryable
                .map_or("n/a".to_string(), |d| format!("{:.2}", d.as_secs_f64())),
        );
    }
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let total = Instant::now();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos() as u64;

    // --- setup (not timed): real registry, K labelled images pushed with skopeo
    let t = Instant::now();
    let registry = Registry::start(&[])?;
    let images = build_and_push(&registry, K)?;
    let host = registry.host();
    eprintln!(
        "setup: registry on {host}, {K} images built and pushed in {:.1}s",
        t.elapsed().as_secs_f64()
    );

    let mut server = CatalogServer::start(ServerOpts {
        registries: vec![format!("http://{host}")],
        extra_args: serve_args(),
        ..ServerOpts::default()
    })?;
    let db = server.dir.path().join("catalog.db");
    if server.event_count()? != 0 {
        bail!("the catalog has events before the benchmark started");
    }

    let t = Instant::now();
    let bodies: Vec<Bytes> = (0..args.n)
        .map(|i| notification(run, i, &images[i % K], &host).map(Bytes::from))
        .collect::<Result<_>>()?;
    let body_bytes: usize = bodies.iter().map(|b| b.len()).sum();
    let hook_url = server.url("/hooks/distribution");
    let bodies: Arc<Vec<Prepared>> = Arc::new(
        bodies
            .iter()
            .map(|b| Prepared::distribution(&hook_url, b.clone()))
            .collect(),
    );
    let last0 = (args.n - 1) / K * K; // the last i with i % K == 0
    eprintln!(
        "setup: {} notifications serialized ({:.0} bytes each on average) in {:.2}s",
        args.n,
        body_bytes as f64 / args.n as f64,
        t.elapsed().as_secs_f64()
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let http = reqwest::Client::builder()
        .http1_only()
        .no_proxy()
        .pool_max_idle_per_host(args.concurrency)
        .timeout(Duration::from_secs(120))
        .build()?;

    // --- phase A: the catalog
    let pid = catalog_pid(server.port);
    let load_before = loadavg();
    let (cat_cpu0, self_cpu0) = (pid.as_deref().and_then(cpu_time), cpu_time("self"));
    eprintln!(
        "phase A: posting {} notifications to the catalog, {} in flight",
        args.n, args.concurrency
    );
    let (catalog_posted, queryable, samples) = rt.block_on(async {
        let started = Instant::now();
        let stop = Arc::new(AtomicBool::new(false));
        let sampler = args.timeline.then(|| {
            let (http, url, stop) = (http.clone(), server.url("/metrics"), stop.clone());
            tokio::spawn(sample_metrics(http, url, started, stop))
        });
        let posted = post_all(&http, bodies.clone(), args.concurrency).await?;
        let q = wait_queryable(
            &http,
            &server.url("/graphql"),
            started,
            args.n,
            &format!("1.0.{last0}"),
            &images[0].digest,
        )
        .await?;
        stop.store(true, Ordering::Relaxed);
        let samples = match sampler {
            Some(s) => s.await?,
            None => Vec::new(),
        };
        anyhow::Ok((posted, q, samples))
    })?;
    let metrics = {
        let r = reqwest::blocking::Client::new()
            .get(server.url("/metrics"))
            .send()?;
        r.text()?
    };
    let cat_cpu = pid
        .as_deref()
        .and_then(cpu_time)
        .zip(cat_cpu0)
        .map(|(b, a)| b.saturating_sub(a));
    let self_cpu1 = cpu_time("self");
    let client_cpu_a = self_cpu1.zip(self_cpu0).map(|(b, a)| b.saturating_sub(a));
    let load_after_a = loadavg();
    let log = server.log();

    // --- phase A2: other registries' formats, the same images, one after another
    let mut format_rows = Vec::new();
    for name in &args.formats {
        let deliver = formats()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, d)| d)
            .ok_or_else(|| anyhow!("unknown format {name}"))?;
        let prepared: Vec<Prepared> = (0..args.n)
            .map(|i| {
                let img = &images[i % K];
                let d = deliver(&Img {
                    host: host.clone(),
                    repository: img.repository.clone(),
                    tag: format!("1.0.{i}"),
                    digest: img.digest.clone(),
                    salt: format!("{run}/{name}/{i}"),
                });
                Prepared {
                    url: server.url(&d.path),
                    content_type: d.content_type,
                    headers: d.headers,
                    body: Bytes::from(d.body),
                }
            })
            .collect();
        eprintln!(
            "phase A2: posting {} {name} notifications, {} in flight",
            args.n, args.concurrency
        );
        let posted = rt.block_on(post_all(&http, Arc::new(prepared), args.concurrency))?;
        format_rows.push((name.clone(), posted));
        // Let the worker drain before the next format, so each is measured alone.
        server.wait_for("the inbox drained", QUERYABLE_TIMEOUT, || {
            Ok((server.pending()? == 0).then_some(()))
        })?;
    }
    server.kill();

    // --- phase B: the floor, same SQLite file, same pragmas
    {
        let mut c = open_floor(&db)?;
        c.batch_execute(
            "CREATE TABLE IF NOT EXISTS bench_floor (id INTEGER PRIMARY KEY, body TEXT NOT NULL);",
        )?;
    }
    let floor = start_floor(db.clone(), cores)?;
    eprintln!(
        "phase B: posting {} notifications to the floor, {} in flight",
        args.n, args.concurrency
    );
    let floor_url = format!("http://127.0.0.1:{}/hook", floor.port);
    let floor_bodies: Arc<Vec<Prepared>> = Arc::new(
        bodies
            .iter()
            .map(|p| Prepared::distribution(&floor_url, p.body.clone()))
            .collect(),
    );
    let floor_posted = rt.block_on(post_all(&http, floor_bodies, args.concurrency))?;
    let floor_cpu = cpu_time("self")
        .zip(self_cpu1)
        .map(|(b, a)| b.saturating_sub(a));
    let load_after_b = loadavg();
    rt.block_on(floor.handle.stop(true));
    floor
        .thread
        .join()
        .map_err(|_| anyhow!("the floor thread panicked"))??;
    let floor_rows: i64 = {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut c = open_floor(&db)?;
        diesel::sql_query("SELECT count(*) AS n FROM bench_floor")
            .get_result::<Count>(&mut c)?
            .n
    };
    if floor_rows != args.n as i64 {
        bail!(
            "the floor table holds {floor_rows} rows, expected {}",
            args.n
        );
    }

    // --- report
    let catalog = Row {
        name: "catalog (hook → inbox group commit → worker → graph)".into(),
        n: args.n,
        posted: catalog_posted,
        queryable: Some(queryable.at),
    };
    let floor = Row {
        name: "floor (bare handler: one INSERT per request, same SQLite file)".into(),
        n: args.n,
        posted: floor_posted,
        queryable: None,
    };
    println!();
    println!(
        "| run | notifications | acked/s | p50 ms | p90 ms | p99 ms | max ms | all queryable s |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    catalog.print();
    let format_rows: Vec<Row> = format_rows
        .into_iter()
        .map(|(name, posted)| Row {
            name: format!("catalog, /hooks/{name} (same images, same run)"),
            n: args.n,
            posted,
            queryable: None,
        })
        .collect();
    for r in &format_rows {
        r.print();
    }
    floor.print();
    println!();
    println!(
        "catalog / floor throughput ratio: {:.2}",
        catalog.rate() / floor.rate()
    );
    println!(
        "cores: {cores}; N = {}; concurrency = {}; K = {K} images; HTTP workers: {cores} (catalog and floor); \
         client and servers share the same {cores} cores",
        args.n, args.concurrency
    );
    let mean = |r: &Row| {
        r.posted.latencies.iter().sum::<Duration>() / r.posted.latencies.len().max(1) as u32
    };
    println!(
        "mean ack latency: catalog {} ms, floor {} ms",
        ms(mean(&catalog)),
        ms(mean(&floor))
    );
    println!(
        "posting wall time: catalog {:.2}s, floor {:.2}s; average body {:.0} bytes",
        catalog.posted.wall.as_secs_f64(),
        floor.posted.wall.as_secs_f64(),
        body_bytes as f64 / args.n as f64
    );
    println!(
        "CPU: catalog process {}s during phase A (posting + until queryable); this process \
         (client) {}s during phase A; this process (client + floor server) {}s during phase B",
        secs(cat_cpu),
        secs(client_cpu_a),
        secs(floor_cpu)
    );
    println!(
        "load average (1 min): {load_before} before phase A, {load_after_a} after phase A, \
         {load_after_b} after phase B (above {cores} means other work shared the cores)"
    );
    println!(
        "all queryable = eventCount == N, no PENDING inbox item, sum of versionCount over the {K} components == N, \
         and bench/app-0 version 1.0.{last0} resolves to {}",
        images[0].digest
    );
    let at_end = queryable.samples.first().map_or(-1, |s| s.1);
    println!(
        "events in the log when the last ack arrived: {at_end} of {}; queryable {:.2}s after the last ack",
        args.n,
        (queryable.at.saturating_sub(catalog.posted.wall)).as_secs_f64()
    );
    let timeline: Vec<String> = queryable
        .samples
        .iter()
        .map(|(t, e)| format!("{:.1}s:{e}", t.as_secs_f64()))
        .collect();
    println!(
        "event log while draining (time since start of posting: events): {}",
        timeline.join(" ")
    );
    println!();
    println!("catalog /metrics:");
    let wanted = [
        "catalog_inbox_commits_total",
        "catalog_registry_fetches_total",
        "catalog_hook_items_total",
        "catalog_hook_ack_seconds_sum",
        "catalog_hook_ack_seconds_count",
        "catalog_events_recorded_total",
        "catalog_worker_items_total",
        "catalog_worker_failures_total",
    ];
    for line in metrics.lines() {
        if wanted
            .iter()
            .any(|w| line.starts_with(&format!("{w} ")) || line.starts_with(&format!("{w}{{")))
        {
            println!("  {line}");
        }
    }
    let commits = metrics
        .lines()
        .find_map(|l| l.strip_prefix("catalog_inbox_commits_total "))
        .and_then(|v| v.trim().parse::<f64>().ok());
    if let Some(c) = commits.filter(|c| *c > 0.0) {
        println!(
            "  => {:.1} notifications per inbox commit on average",
            args.n as f64 / c
        );
    }
    let warn = log.lines().filter(|l| l.contains("WARN")).count();
    let error = log.lines().filter(|l| l.contains("ERROR")).count();
    println!(
        "catalog log: {} lines, {warn} WARN, {error} ERROR",
        log.lines().count()
    );
    for l in log
        .lines()
        .filter(|l| l.contains("WARN") || l.contains("ERROR"))
        .take(5)
    {
        println!("  {l}");
    }
    if args.timeline {
        print_timeline(&samples, &catalog.posted.completions);
    }
    println!(
        "total benchmark run time: {:.1}s",
        total.elapsed().as_secs_f64()
    );
    drop(registry);
    Ok(())
}
