//! Deployment and inventory benchmark: a synthetic history of deployments across clusters,
//! folded into the in-memory inventory, recorded into SQLite (and PostgreSQL when it is
//! reachable) and ingested over HTTP by the real `catalog` binary; then `inventory(cluster, at)`
//! and `whereIs(component)` latency in-process, over GraphQL, and against the baseline the
//! harness computes with SQL alone (`Baseline::inventory_sql`, over tables it builds from the
//! same events) for the same (cluster, moment) pairs.
//!
//! ```text
//! cargo build --release --workspace && \
//!   cargo run --release -p catalog-tests --bin bench-deploy -- [--components 1000] \
//!     [--clusters 20] [--events 200000] [--queries 2000] [--http-batch 200] [--concurrency 8]
//! ```
//!
//! The history is deterministic (a seeded xorshift): every run, and every backend in a run,
//! sees the same events. The in-process and SQL events are made by the hook's own parser from
//! the very bodies posted over HTTP, so all three hold the same data; answers are compared
//! before their latencies are.
//!
//! Where an answer's time goes is measured piece by piece: the core call, the server's own
//! GraphQL schema executed in this process (no HTTP), the response's serialization, and an
//! empty query over HTTP (the floor).

use actix_web::web::Bytes;
use anyhow::{anyhow, bail, Context, Result};
use catalog_api::graphql::{build_query_schema, AppCtx};
use catalog_core::event::{NewEvent, RecordedEvent};
use catalog_core::{Catalog, InventoryScope, WhereIs};
use catalog_ingest::hooks::{deployments, HookContext};
use catalog_ingest::inbox::InboxWriter;
use catalog_ingest::registry::Registries;
use catalog_ingest::sync::GraphSync;
use catalog_ingest::{InboxBody, Metrics, SharedCatalog};
use catalog_schema::{Durability, Store};
use catalog_tests::baseline::Baseline;
use catalog_tests::bench::{catalog_pid, cpu_time, loadavg, metric, percentile, Rng};
use catalog_tests::registry::TempDir;
use catalog_tests::server::{PgDatabase, INGEST_TOKEN};
use catalog_tests::{CatalogServer, ServerOpts};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{json, Value};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

const ENVIRONMENTS: [&str; 4] = ["prod", "staging", "qa", "dev"];
/// Services per team: `team{i / 20}/svc{i}`.
const PER_TEAM: usize = 20;
const DAY_MICROS: i64 = 86_400_000_000;
const HISTORY_DAYS: i64 = 30;
/// The history starts here (UTC); it ends 30 days later, before "now".
const HISTORY_START: &str = "2026-09-01T00:00:00Z";
/// Events per `record_with` call when loading a store directly.
const STORE_BATCH: usize = 500;
/// The worker records this many inbox items per transaction (catalog-ingest worker.rs).
const WORKER_CHUNK: usize = 8;
/// Pairs whose answers are compared name by name across in-process, SQL and HTTP.
const CHECKED: usize = 50;
/// How often `eventCount` is polled while requests are sent (a count(*) on the log: not free);
/// ten times as often once all are acknowledged.
const POLL: Duration = Duration::from_millis(100);
const RECORDED_TIMEOUT: Duration = Duration::from_secs(900);
/// Aims from the issue.
const AIM_INVENTORY_HTTP_P50: Duration = Duration::from_millis(5);
const AIM_INGEST_PER_S: f64 = 5_000.0;

const USAGE: &str = "usage: bench-deploy [--components 1000] [--clusters 20] [--events 200000] \
[--queries 2000] [--http-batch 200] [--concurrency 8] [--single 5000] [--single-concurrency 32] \
[--spread 8] [--worker-chunk-events 20000] [--seed 42] [--no-pg] [--no-http] [--no-restart] \
    [--policy-cost DIR]";

struct Args {
    components: usize,
    clusters: usize,
    events: usize,
    queries: usize,
    http_batch: usize,
    concurrency: usize,
    /// Events of the history (its last ones, in delivery order) posted one per request.
    single: usize,
    single_concurrency: usize,
    /// Clusters each component runs in.
    spread: usize,
    /// Events recorded WORKER_CHUNK per transaction into a second SQLite store.
    worker_chunk_events: usize,
    seed: u64,
    pg: bool,
    http: bool,
    restart: bool,
    /// `--policy-cost DIR`: only measure what judging every deployment with the policies of
    /// DIR costs the HTTP ingest, against the same run without policies.
    policy_cost: Option<std::path::PathBuf>,
}

fn parse_args() -> Result<Args> {
    let mut a = Args {
        components: 1000,
        clusters: 20,
        events: 200_000,
        queries: 2000,
        http_batch: 200,
        concurrency: 8,
        single: 5000,
        single_concurrency: 32,
        spread: 8,
        worker_chunk_events: 20_000,
        seed: 42,
        pg: true,
        http: true,
        restart: true,
        policy_cost: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| -> Result<usize> {
            let v = it.next().ok_or_else(|| anyhow!("{name} needs a value"))?;
            v.parse()
                .with_context(|| format!("{name} {v:?}: expected a non-negative integer"))
        };
        match flag.as_str() {
            "--components" => a.components = value("--components")?,
            "--clusters" => a.clusters = value("--clusters")?,
            "--events" => a.events = value("--events")?,
            "--queries" => a.queries = value("--queries")?,
            "--http-batch" => a.http_batch = value("--http-batch")?,
            "--concurrency" => a.concurrency = value("--concurrency")?,
            "--single" => a.single = value("--single")?,
            "--single-concurrency" => a.single_concurrency = value("--single-concurrency")?,
            "--spread" => a.spread = value("--spread")?,
            "--worker-chunk-events" => a.worker_chunk_events = value("--worker-chunk-events")?,
            "--seed" => a.seed = value("--seed")? as u64,
            "--no-pg" => a.pg = false,
            "--no-http" => a.http = false,
            "--policy-cost" => {
                a.policy_cost = Some(
                    it.next()
                        .ok_or_else(|| anyhow!("--policy-cost needs a directory"))?
                        .into(),
                )
            }
            "--no-restart" => a.restart = false,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?}; {USAGE}"),
        }
    }
    if a.components == 0
        || a.clusters == 0
        || a.events < 2
        || a.queries == 0
        || a.http_batch == 0
        || a.concurrency == 0
        || a.single_concurrency == 0
        || a.spread == 0
    {
        bail!("sizes must be at least 1 (--events at least 2); {USAGE}");
    }
    if a.http_batch > deployments::MAX_ENTRIES {
        bail!(
            "--http-batch {}: the hook takes at most {} deployments per request",
            a.http_batch,
            deployments::MAX_ENTRIES
        );
    }
    // Keep most of the history for the batched row.
    a.single = a.single.min(a.events / 2);
    a.spread = a.spread.min(a.clusters);
    a.worker_chunk_events = a.worker_chunk_events.min(a.events);
    Ok(a)
}

// ---------------------------------------------------------------------------------------------
// The synthetic history

struct Cluster {
    name: String,
    environment: &'static str,
}

struct Component {
    /// `team{k}/svc{i}`: the component name and the image repository path.
    name: String,
    namespace: String,
    workload: String,
    /// Reported as an image reference (else as component + version).
    by_image: bool,
}

/// One entry of `POST /hooks/deployments`, as CI pipelines send it.
#[derive(Serialize)]
struct Entry {
    id: String,
    cluster: String,
    namespace: String,
    workload: String,
    environment: &'static str,
    status: &'static str,
    at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    component: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<String>,
    replicas: u32,
}

#[derive(Serialize)]
struct Envelope<'a> {
    deployments: &'a [Entry],
}

/// A workload's release train while the history is generated.
#[derive(Default, Clone)]
struct Train {
    minor: u32,
    patch: u32,
    previous: Option<(u32, u32)>,
    live: bool,
}

struct History {
    clusters: Vec<Cluster>,
    components: Vec<Component>,
    workloads: usize,
    /// In delivery order.
    entries: Vec<Entry>,
    /// Events delivered out of time order (swapped with a neighbour).
    out_of_order: usize,
    start: i64,
    end: i64,
}

fn generate(a: &Args) -> Result<History> {
    let mut rng = Rng::new(a.seed);
    let clusters: Vec<Cluster> = (0..a.clusters)
        .map(|j| {
            let environment = ENVIRONMENTS[j % ENVIRONMENTS.len()];
            Cluster {
                name: format!("{environment}-{}", j / ENVIRONMENTS.len() + 1),
                environment,
            }
        })
        .collect();
    let components: Vec<Component> = (0..a.components)
        .map(|i| {
            let team = format!("team{}", i / PER_TEAM);
            Component {
                name: format!("{team}/svc{i}"),
                workload: format!("svc{i}"),
                namespace: team,
                by_image: i % 2 == 0,
            }
        })
        .collect();
    // Each component runs in `spread` distinct clusters (a partial Fisher-Yates shuffle).
    let mut workloads: Vec<(usize, usize)> = Vec::with_capacity(a.components * a.spread);
    let mut order: Vec<usize> = (0..a.clusters).collect();
    for c in 0..a.components {
        for k in 0..a.spread {
            let j = k + rng.below(a.clusters - k);
            order.swap(k, j);
            workloads.push((c, order[k]));
        }
    }
    let start = DateTime::parse_from_rfc3339(HISTORY_START)?
        .with_timezone(&Utc)
        .timestamp_micros();
    let span = HISTORY_DAYS * DAY_MICROS;
    let step = span / a.events as i64;
    if step < 2_000 {
        bail!(
            "--events {}: too many for {HISTORY_DAYS} days at millisecond resolution",
            a.events
        );
    }
    let mut trains = vec![Train::default(); workloads.len()];
    let mut entries = Vec::with_capacity(a.events);
    for i in 0..a.events {
        // Strictly increasing, millisecond resolution.
        let t = (start + i as i64 * step + rng.below((step / 2) as usize) as i64) / 1000 * 1000;
        let w = rng.below(workloads.len());
        let (c, k) = workloads[w];
        let (comp, cluster) = (&components[c], &clusters[k]);
        let train = &mut trains[w];
        let r = rng.unit();
        let status = if train.live && r < 0.01 {
            train.live = false;
            "removed"
        } else if !train.live {
            // (Re)deployed: the next patch.
            train.live = true;
            train.previous = Some((train.minor, train.patch));
            train.patch += 1;
            "healthy"
        } else if r < 0.04 && train.previous.is_some() {
            // Back to what ran before.
            let cur = (train.minor, train.patch);
            if let Some((m, p)) = train.previous.replace(cur) {
                (train.minor, train.patch) = (m, p);
            }
            "rolled_back"
        } else {
            let v = rng.unit();
            if v < 0.70 {
                train.previous = Some((train.minor, train.patch));
                train.patch += 1;
            } else if v < 0.80 {
                train.previous = Some((train.minor, train.patch));
                train.minor += 1;
                train.patch = 0;
            } // else: a status report on what runs
            let s = rng.unit();
            if s < 0.88 {
                "healthy"
            } else if s < 0.95 {
                "progressing"
            } else {
                "failed"
            }
        };
        let version = format!("1.{}.{}", train.minor, train.patch);
        let (component, image, version) = if comp.by_image {
            (
                None,
                Some(format!("registry.bench/{}:{version}", comp.name)),
                None,
            )
        } else {
            (Some(comp.name.clone()), None, Some(version))
        };
        entries.push(Entry {
            id: format!("bench-{}-{i}", a.seed),
            cluster: cluster.name.clone(),
            namespace: comp.namespace.clone(),
            workload: comp.workload.clone(),
            environment: cluster.environment,
            status,
            at: rfc3339(t),
            component,
            version,
            image,
            replicas: 1 + (i % 3) as u32,
        });
    }
    // ~5% out of order: swap ~2.5% of positions with the next one.
    let mut out_of_order = 0;
    let mut i = 0;
    while i + 1 < entries.len() {
        if rng.unit() < 0.025 {
            entries.swap(i, i + 1);
            out_of_order += 2;
            i += 2;
        } else {
            i += 1;
        }
    }
    Ok(History {
        clusters,
        components,
        workloads: workloads.len(),
        entries,
        out_of_order,
        start,
        end: start + span,
    })
}

fn rfc3339(micros: i64) -> String {
    DateTime::from_timestamp_micros(micros)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The request bodies: the first `entries.len() - single` entries in batches, then the rest
/// one per request.
fn bodies(entries: &[Entry], batch: usize, single: usize) -> Result<(Vec<Bytes>, Vec<Bytes>)> {
    let split = entries.len() - single;
    let batched = entries[..split]
        .chunks(batch)
        .map(|c| {
            Ok(Bytes::from(serde_json::to_vec(&Envelope {
                deployments: c,
            })?))
        })
        .collect::<Result<_>>()?;
    let singles = entries[split..]
        .iter()
        .map(|e| Ok(Bytes::from(serde_json::to_vec(e)?)))
        .collect::<Result<_>>()?;
    Ok((batched, singles))
}

/// The events the hook makes of the bodies, with the hook's own parser.
fn events_of(bodies: &[Bytes]) -> Result<Vec<NewEvent>> {
    let ctx = HookContext::new(Utc::now(), "bench");
    let mut out = Vec::new();
    for b in bodies {
        let parsed = deployments::parse(b, &ctx).map_err(|e| anyhow!("hook parser: {e}"))?;
        for item in parsed.items {
            match item {
                InboxBody::Record(r) => out.push(r.into_event()),
                _ => bail!("the deployment hook made a non-record item"),
            }
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Measuring

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

/// Latencies of one kind of call, and how many items each answer held.
#[derive(Default)]
struct Timings {
    latencies: Vec<Duration>,
    items: Vec<usize>,
}

impl Timings {
    fn push(&mut self, d: Duration, items: usize) {
        self.latencies.push(d);
        self.items.push(items);
    }

    fn finish(mut self) -> Timings {
        self.latencies.sort();
        self
    }

    fn p(&self, q: f64) -> Duration {
        percentile(&self.latencies, q)
    }

    fn mean_items(&self) -> f64 {
        self.items.iter().sum::<usize>() as f64 / self.items.len().max(1) as f64
    }

    /// Sequential calls per second.
    fn rate(&self) -> f64 {
        let total: Duration = self.latencies.iter().sum();
        self.latencies.len() as f64 / total.as_secs_f64().max(1e-9)
    }
}

struct Row {
    name: String,
    n: usize,
    p50: Option<Duration>,
    p99: Option<Duration>,
    throughput: String,
    items: Option<f64>,
}

impl Row {
    fn latency(name: &str, t: &Timings, unit: &str) -> Row {
        Row {
            name: name.to_string(),
            n: t.latencies.len(),
            p50: Some(t.p(0.50)),
            p99: Some(t.p(0.99)),
            throughput: format!("{:.0} {unit}/s", t.rate()),
            items: Some(t.mean_items()),
        }
    }

    fn rate(name: &str, n: usize, wall: Duration, unit: &str) -> Row {
        Row {
            name: name.to_string(),
            n,
            p50: None,
            p99: None,
            throughput: format!("{:.0} {unit}/s", n as f64 / wall.as_secs_f64().max(1e-9)),
            items: None,
        }
    }

    fn print(&self) {
        let opt = |d: Option<Duration>| d.map_or("-".to_string(), ms);
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            self.name,
            self.n,
            opt(self.p50),
            opt(self.p99),
            self.throughput,
            self.items.map_or("-".to_string(), |i| format!("{i:.1}")),
        );
    }
}

type Names = Vec<(String, String)>;

fn sorted(mut v: Names) -> Names {
    v.sort();
    v
}

// ---------------------------------------------------------------------------------------------
// In-process

struct InProcess {
    fold_wall: Duration,
    inventory: Timings,
    /// serde_json of the core's answer (items = bytes): what plain JSON costs.
    json: Timings,
    where_is: Timings,
    /// (namespace, workload) of the first CHECKED inventory answers.
    checked: Vec<Names>,
}

fn in_process(
    events: &[NewEvent],
    h: &History,
    pairs: &[(usize, i64)],
    wanted: &[usize],
) -> Result<(Catalog, InProcess)> {
    let now = Utc::now();
    let recorded: Vec<RecordedEvent> = events
        .iter()
        .enumerate()
        .map(|(i, e)| RecordedEvent {
            seq: i as i64 + 1,
            key: e.key.clone(),
            occurred_at: e.occurred_at,
            recorded_at: now,
            source: e.source.clone(),
            actor: e.actor.clone(),
            event: e.event.clone(),
        })
        .collect();
    let mut catalog = Catalog::new();
    let t = Instant::now();
    for r in &recorded {
        catalog.apply(r);
    }
    let fold_wall = t.elapsed();
    drop(recorded);
    catalog
        .verify()
        .map_err(|e| anyhow!("graph invariants: {e}"))?;

    let scopes: Vec<InventoryScope> = h
        .clusters
        .iter()
        .map(|c| InventoryScope {
            cluster: Some(c.name.clone()),
            ..InventoryScope::default()
        })
        .collect();
    let mut inventory = Timings::default();
    let mut json = Timings::default();
    let mut checked = Vec::new();
    for (q, (c, at)) in pairs.iter().enumerate() {
        let at = DateTime::from_timestamp_micros(*at).ok_or_else(|| anyhow!("bad time {at}"))?;
        let t = Instant::now();
        let items = black_box(catalog.inventory(&scopes[*c], Some(at)));
        inventory.push(t.elapsed(), items.len());
        let t = Instant::now();
        let bytes = black_box(serde_json::to_vec(&items)?);
        json.push(t.elapsed(), bytes.len());
        if q < CHECKED {
            checked.push(sorted(
                items
                    .into_iter()
                    .map(|d| (d.namespace, d.workload))
                    .collect(),
            ));
        }
    }
    let whats: Vec<WhereIs> = wanted
        .iter()
        .map(|i| WhereIs::Component(h.components[*i].name.clone()))
        .collect();
    let mut where_is = Timings::default();
    for w in &whats {
        let t = Instant::now();
        let items = black_box(catalog.where_is(w, None));
        where_is.push(t.elapsed(), items.len());
    }
    Ok((
        catalog,
        InProcess {
            fold_wall,
            inventory: inventory.finish(),
            json: json.finish(),
            where_is: where_is.finish(),
            checked,
        },
    ))
}

// ---------------------------------------------------------------------------------------------
// GraphQL without HTTP

/// The server's own schema, executed in this process on the graph folded above: where the
/// time between the core call and the HTTP answer goes.
struct GraphqlInProcess {
    /// `schema.execute` (parse, validate, resolve; items = deployments).
    execute: Timings,
    /// The response to JSON bytes directly (items = bytes).
    serialize: Timings,
    /// The response to a `serde_json::Value`, then to bytes, as server.rs does (items = bytes).
    via_value: Timings,
}

fn graphql_in_process(
    catalog: Catalog,
    store: &Store,
    h: &History,
    pairs: &[(usize, i64)],
    graph: &InProcess,
) -> Result<GraphqlInProcess> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let shared: SharedCatalog = Arc::new(RwLock::new(catalog));
    let ctx = AppCtx {
        store: store.clone(),
        catalog: shared.clone(),
        sync: Arc::new(GraphSync::new(store.clone(), shared)),
        inbox: rt.block_on(async {
            InboxWriter::start(
                store.clone(),
                Arc::new(tokio::sync::Notify::new()),
                Arc::new(Metrics::default()),
            )
        }),
        registries: Arc::new(Registries::new(&[])),
        read_only: None,
        policies: Arc::new(catalog_api::policy::Policies::new(
            None,
            std::time::Duration::from_millis(250),
        )),
        notify: Default::default(),
    };
    // The schema HTTP queries run on (no extension: see `build_query_schema`).
    let schema = build_query_schema(Some(ctx));
    let mut execute = Timings::default();
    let mut serialize = Timings::default();
    let mut via_value = Timings::default();
    for (q, (c, at)) in pairs.iter().enumerate() {
        // Arguments inline (JSON string literals are GraphQL string literals).
        let query = format!(
            "{{ inventory(cluster: {}, at: {}, first: 500) {INVENTORY_FIELDS} }}",
            json!(h.clusters[*c].name),
            json!(rfc3339(*at))
        );
        let t = Instant::now();
        let resp = rt.block_on(schema.execute(query.as_str()));
        let d = t.elapsed();
        if !resp.is_ok() {
            bail!("in-process GraphQL failed: {:?}", resp.errors);
        }
        let t = Instant::now();
        let bytes = black_box(serde_json::to_vec(&resp)?);
        serialize.push(t.elapsed(), bytes.len());
        // server.rs turns the response into a serde_json::Value (to look at its errors), then
        // writes that.
        let t = Instant::now();
        let v = black_box(serde_json::to_value(&resp)?);
        let b = black_box(serde_json::to_vec(&v)?);
        via_value.push(t.elapsed(), b.len());
        // The first page of 500; its totalCount is the whole answer's size.
        let n = v["data"]["inventory"]["totalCount"]
            .as_u64()
            .map_or(0, |n| n as usize);
        if n != graph.inventory.items[q] {
            bail!(
                "in-process GraphQL inventory: {n} items, the core call {}",
                graph.inventory.items[q]
            );
        }
        execute.push(d, n);
    }
    Ok(GraphqlInProcess {
        execute: execute.finish(),
        serialize: serialize.finish(),
        via_value: via_value.finish(),
    })
}

// ---------------------------------------------------------------------------------------------
// SQL baseline

struct Sql {
    load_wall: Duration,
    inventory: Timings,
}

/// Records every event into the store's log (STORE_BATCH per call, Deferred; the time of
/// that is reported) and into the baseline's tables, then times `inventory_sql` for the
/// pairs and checks the first answers against the graph's.
fn sql_baseline(
    store: &Store,
    baseline: &mut Baseline,
    batch: &[(Option<i64>, Vec<NewEvent>)],
    h: &History,
    pairs: &[(usize, i64)],
    graph: &InProcess,
) -> Result<Sql> {
    let mut load_wall = Duration::ZERO;
    let mut n = 0;
    for chunk in batch.chunks(STORE_BATCH) {
        let t = Instant::now();
        let recorded = store.record_with(chunk, Durability::Deferred)?;
        load_wall += t.elapsed();
        n += recorded.len();
        baseline.record(&recorded)?;
    }
    if n != batch.len() {
        bail!("the store recorded {n} new events of {}", batch.len());
    }
    baseline.analyze()?;
    let mut inventory = Timings::default();
    for (q, (c, at)) in pairs.iter().enumerate() {
        let cluster = &h.clusters[*c].name;
        let t = Instant::now();
        let rows = black_box(baseline.inventory_sql(cluster, *at)?);
        inventory.push(t.elapsed(), rows.len());
        if let Some(want) = graph.checked.get(q) {
            let got = sorted(
                rows.into_iter()
                    .map(|r| (r.namespace, r.workload))
                    .collect(),
            );
            if &got != want {
                bail!(
                    "{} inventory_sql({cluster}, {}) disagrees with the graph: {} rows against {}; \
                     first difference: {:?}",
                    baseline.backend(),
                    rfc3339(*at),
                    got.len(),
                    want.len(),
                    got.iter().zip(want).find(|(a, b)| a != b)
                );
            }
        } else if rows.len() != graph.inventory.items[q] {
            bail!(
                "{} inventory_sql({cluster}, {}): {} rows, the graph {}",
                baseline.backend(),
                rfc3339(*at),
                rows.len(),
                graph.inventory.items[q]
            );
        }
    }
    Ok(Sql {
        load_wall,
        inventory: inventory.finish(),
    })
}

// ---------------------------------------------------------------------------------------------
// Over HTTP

struct Posted {
    wall: Duration,
    latencies: Vec<Duration>,
}

/// Posts every body with `concurrency` requests in flight; fails on the first non-202.
async fn post_all(
    http: &reqwest::Client,
    url: &str,
    bodies: Arc<Vec<Bytes>>,
    concurrency: usize,
) -> Result<Posted> {
    let next = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency.min(bodies.len()) {
        let (http, url, bodies, next, stop) = (
            http.clone(),
            url.to_string(),
            bodies.clone(),
            next.clone(),
            stop.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut failure: Option<String> = None;
            while !stop.load(Ordering::Relaxed) {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= bodies.len() {
                    break;
                }
                let t = Instant::now();
                let r = http
                    .post(&url)
                    .header("content-type", "application/json")
                    .bearer_auth(INGEST_TOKEN)
                    .body(bodies[i].clone())
                    .send()
                    .await;
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
                lat.push(t.elapsed());
                if let Err(e) = outcome {
                    failure = Some(e);
                    stop.store(true, Ordering::Relaxed);
                }
            }
            (lat, failure)
        }));
    }
    let mut latencies = Vec::with_capacity(bodies.len());
    let mut failures = Vec::new();
    for t in tasks {
        let (l, f) = t.await?;
        latencies.extend(l);
        failures.extend(f);
    }
    let wall = started.elapsed();
    if let Some(f) = failures.first() {
        bail!("{} request(s) failed; first: {f}", failures.len());
    }
    latencies.sort();
    Ok(Posted { wall, latencies })
}

/// POSTs a GraphQL request; returns the time until the whole body arrived, and the body
/// (parsed after the clock stops: the client's JSON parsing is not the server's latency).
async fn graphql_timed(
    http: &reqwest::Client,
    url: &str,
    body: &Bytes,
) -> Result<(Duration, Value)> {
    let t = Instant::now();
    let r = http
        .post(url)
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await?;
    let status = r.status().as_u16();
    let bytes = r.bytes().await?;
    let d = t.elapsed();
    let v: Value = serde_json::from_slice(&bytes)
        .with_context(|| format!("not JSON: {}", String::from_utf8_lossy(&bytes)))?;
    if status != 200 || v.get("errors").is_some() {
        bail!("query failed ({status}): {v}");
    }
    Ok((d, v["data"].clone()))
}

/// Every node of the connection `field`, 500 at a time by cursor (`query` takes `$after`):
/// the summed time of the pages, the nodes, and the bytes of every page's `data`.
async fn all_pages(
    http: &reqwest::Client,
    url: &str,
    query: &str,
    vars: &Value,
    field: &str,
) -> Result<(Duration, Vec<Value>, usize)> {
    let (mut took, mut nodes, mut bytes) = (Duration::ZERO, Vec::new(), 0);
    let mut after = Value::Null;
    loop {
        let mut v = vars.clone();
        v["after"] = after;
        let (d, data) = graphql_timed(http, url, &gql_body(query, v)?).await?;
        took += d;
        bytes += serde_json::to_vec(&data)?.len();
        let c = &data[field];
        nodes.extend(c["nodes"].as_array().cloned().unwrap_or_default());
        if c["pageInfo"]["hasNextPage"] != true {
            return Ok((took, nodes, bytes));
        }
        after = c["pageInfo"]["endCursor"].clone();
    }
}

fn gql_body(query: &str, variables: Value) -> Result<Bytes> {
    Ok(Bytes::from(serde_json::to_vec(
        &json!({"query": query, "variables": variables}),
    )?))
}

async fn event_count(http: &reqwest::Client, url: &str) -> Result<i64> {
    let (_, d) = graphql_timed(http, url, &gql_body("{ eventCount }", json!({}))?).await?;
    d["eventCount"]
        .as_i64()
        .ok_or_else(|| anyhow!("eventCount missing: {d}"))
}

/// When every event of a phase was recorded, and how the log grew meanwhile.
struct Recorded {
    /// Since the phase's first request.
    at: Duration,
    /// (since the first request, events in the log) at each poll.
    samples: Vec<(Duration, i64)>,
}

/// Polls `eventCount` (while the requests are still being sent, too) until it reaches `n`.
async fn wait_recorded(
    http: reqwest::Client,
    url: String,
    started: Instant,
    n: i64,
    posted: Arc<AtomicBool>,
) -> Result<Recorded> {
    let deadline = Instant::now() + RECORDED_TIMEOUT;
    let mut samples = Vec::new();
    loop {
        let c = event_count(&http, &url).await?;
        samples.push((started.elapsed(), c));
        if c >= n {
            return Ok(Recorded {
                at: started.elapsed(),
                samples,
            });
        }
        if Instant::now() > deadline {
            bail!("{c} of {n} events recorded after {RECORDED_TIMEOUT:?}");
        }
        // Finer once every request is acknowledged: only the worker is left to time.
        let poll = if posted.load(Ordering::Relaxed) {
            POLL / 10
        } else {
            POLL
        };
        tokio::time::sleep(poll).await;
    }
}

/// Posts a phase's bodies while polling the log; returns the acks and when all was recorded.
async fn ingest(
    http: &reqwest::Client,
    hook: &str,
    gql: &str,
    bodies: Vec<Bytes>,
    concurrency: usize,
    target: i64,
) -> Result<(Posted, Recorded)> {
    let started = Instant::now();
    let done = Arc::new(AtomicBool::new(false));
    let waiter = tokio::spawn(wait_recorded(
        http.clone(),
        gql.to_string(),
        started,
        target,
        done.clone(),
    ));
    let posted = post_all(http, hook, Arc::new(bodies), concurrency).await;
    done.store(true, Ordering::Relaxed);
    let recorded = match posted {
        Ok(_) => waiter.await??,
        Err(_) => {
            waiter.abort();
            Recorded {
                at: Duration::ZERO,
                samples: Vec::new(),
            }
        }
    };
    Ok((posted?, recorded))
}

/// Events recorded per second in each fifth of a phase's events: does ingest slow down as the
/// log grows?
fn rate_by_fifth(r: &Recorded, base: i64, n: usize) -> String {
    let mut out = Vec::new();
    let mut from = (Duration::ZERO, base);
    for k in 1..=5 {
        let goal = base + (n * k / 5) as i64;
        let Some(to) = r.samples.iter().find(|s| s.1 >= goal) else {
            break;
        };
        let dt = to.0.saturating_sub(from.0).as_secs_f64();
        if dt > 0.0 {
            out.push(format!("{:.0}", (to.1 - from.1) as f64 / dt));
        } else {
            out.push("-".to_string());
        }
        from = *to;
    }
    out.join(" / ")
}

/// The selection the issue asks for, as a page of the connection.
const INVENTORY_FIELDS: &str = "{ totalCount pageInfo { hasNextPage endCursor } \
nodes { cluster namespace workload since status runs { component version digest } } }";
/// `inventory(cluster, at)` 500 at a time: the benchmark walks every page.
fn inventory_query(fields: &str) -> String {
    format!(
        "query($cluster: String, $at: DateTime, $after: String) {{ inventory(cluster: $cluster, at: $at, first: 500, after: $after) {fields} }}"
    )
}
const WHERE_IS_Q: &str = "query($component: String, $after: String) { \
whereIs(component: $component, first: 500, after: $after) { pageInfo { hasNextPage endCursor } \
nodes { cluster namespace workload runs { version digest owner } } } }";

struct Http {
    batched: Posted,
    batched_recorded: Recorded,
    batched_events: usize,
    single: Posted,
    single_recorded: Recorded,
    single_events: usize,
    floor: Timings,
    inventory: Timings,
    inventory_names: Timings,
    where_is: Timings,
    /// Time to restart (until ready) and the inventory timings after it.
    restarted: Option<(Duration, Timings)>,
    inventory_bytes: f64,
    server_cpu: Option<Duration>,
    metrics: String,
    log: String,
}

/// The HTTP batched ingest into a fresh `catalog`, without and then with `--policy-dir dir`:
/// deployments recorded per second (until every one is in the graph), and with policies how
/// long the judge took to catch up and how many violations it recorded.
fn policy_cost(a: &Args, dir: &std::path::Path, batched: Vec<Bytes>) -> Result<()> {
    let events: usize = a.events - a.single;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let count = |http: reqwest::Client, gql: String, kind: &'static str| async move {
        let q = format!("{{ events(kind: \"{kind}\", first: 1) {{ totalCount }} }}");
        let v: serde_json::Value = http
            .post(&gql)
            .json(&serde_json::json!({ "query": q }))
            .send()
            .await?
            .json()
            .await?;
        v["data"]["events"]["totalCount"]
            .as_i64()
            .ok_or_else(|| anyhow!("no count: {v}"))
    };
    let mut rows = Vec::new();
    // Three rounds, each the baseline and then the same with policies: one run of each is
    // within the noise of this machine (the baseline alone varies by 10%).
    for with in [false, true, false, true, false, true] {
        let mut extra = vec!["--reconcile-interval".to_string(), "0".to_string()];
        if with {
            extra.extend(["--policy-dir".to_string(), dir.display().to_string()]);
        }
        let server = CatalogServer::start(ServerOpts {
            extra_args: extra,
            ..ServerOpts::default()
        })?;
        let http = reqwest::Client::builder()
            .http1_only()
            .no_proxy()
            .timeout(Duration::from_secs(120))
            .build()?;
        let (gql, hook) = (server.url("/graphql"), server.url("/hooks/deployments"));
        let bodies = Arc::new(batched.clone());
        let (recorded, judged, violations) = rt.block_on(async {
            let t = Instant::now();
            post_all(&http, &hook, bodies, a.concurrency).await?;
            loop {
                if count(http.clone(), gql.clone(), "deployment.observed").await? >= events as i64 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let recorded = t.elapsed();
            // The judge runs behind the graph: wait until its count stops moving.
            let mut last = -1;
            let mut still = 0;
            while with && still < 10 {
                let n = count(http.clone(), gql.clone(), "policy.violation").await?;
                still = if n == last { still + 1 } else { 0 };
                last = n;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let judged = t.elapsed().saturating_sub(Duration::from_millis(1000));
            anyhow::Ok((recorded, judged, last.max(0)))
        })?;
        eprintln!(
            "policy cost: {} policies: {events} deployments recorded in {:.2}s",
            if with { "with" } else { "without" },
            recorded.as_secs_f64()
        );
        rows.push((with, recorded, judged, violations));
        drop(server);
    }
    let rate = |d: Duration| events as f64 / d.as_secs_f64();
    println!("\n## bench-deploy --policy-cost {} ({events} deployments over HTTP, {} per request, {} in flight)\n", dir.display(), a.http_batch, a.concurrency);
    println!("| run | recorded s | deployments/s | judged s | violations |");
    println!("|---|---:|---:|---:|---:|");
    for (with, recorded, judged, violations) in &rows {
        println!(
            "| {} | {:.2} | {:.0} | {} | {} |",
            if *with {
                "policies in force, every deployment judged"
            } else {
                "no policy [baseline]"
            },
            recorded.as_secs_f64(),
            rate(*recorded),
            if *with {
                format!("{:.2}", judged.as_secs_f64())
            } else {
                "-".into()
            },
            if *with {
                violations.to_string()
            } else {
                "-".into()
            },
        );
    }
    let mut costs: Vec<f64> = rows
        .chunks(2)
        .map(|r| 100.0 * (1.0 - rate(r[1].1) / rate(r[0].1)))
        .collect();
    let each = costs
        .iter()
        .map(|c| format!("{c:.1}%"))
        .collect::<Vec<_>>()
        .join(", ");
    costs.sort_by(f64::total_cmp);
    let median = costs[costs.len() / 2];
    let sum = |with: bool| -> f64 {
        rows.iter()
            .filter(|r| r.0 == with)
            .map(|r| r.1.as_secs_f64())
            .sum()
    };
    println!(
        "\ncost of judging: {median:.1}% fewer deployments/s, the median of the rounds ({each}); \
         {:.1}% over all rounds (aim <= 10%)",
        100.0 * (1.0 - sum(false) / sum(true))
    );
    Ok(())
}

fn over_http(
    a: &Args,
    h: &History,
    batched: Vec<Bytes>,
    singles: Vec<Bytes>,
    pairs: &[(usize, i64)],
    wanted: &[usize],
    graph: &InProcess,
) -> Result<Http> {
    let mut server = CatalogServer::start(ServerOpts {
        extra_args: vec!["--reconcile-interval".into(), "0".into()],
        ..ServerOpts::default()
    })?;
    let pid = catalog_pid(server.port);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let http = reqwest::Client::builder()
        .http1_only()
        .no_proxy()
        .pool_max_idle_per_host(a.concurrency.max(a.single_concurrency))
        .timeout(Duration::from_secs(120))
        .build()?;
    let gql = server.url("/graphql");
    let hook = server.url("/hooks/deployments");
    let batched_events = a.events - a.single;
    let single_events = a.single;
    let cpu0 = pid.as_deref().and_then(cpu_time);

    let r = rt.block_on(async {
        if event_count(&http, &gql).await? != 0 {
            bail!("the catalog has events before the benchmark started");
        }
        eprintln!(
            "http: posting {batched_events} events in {} requests of {}, {} in flight",
            batched.len(),
            a.http_batch,
            a.concurrency
        );
        let b = ingest(
            &http,
            &hook,
            &gql,
            batched,
            a.concurrency,
            batched_events as i64,
        )
        .await?;
        eprintln!(
            "http: posting {single_events} events one per request, {} in flight",
            a.single_concurrency
        );
        let s = ingest(
            &http,
            &hook,
            &gql,
            singles,
            a.single_concurrency,
            a.events as i64,
        )
        .await?;
        anyhow::Ok((b, s))
    })?;
    let ((batched, batched_recorded), (single, single_recorded)) = r;
    let server_cpu = pid
        .as_deref()
        .and_then(cpu_time)
        .zip(cpu0)
        .map(|(b, a)| b.saturating_sub(a));

    let timed = rt.block_on(async {
        let names_q =
            inventory_query("{ totalCount pageInfo { hasNextPage endCursor } nodes { workload } }");
        let inv_body = |q: &str, c: usize, at: i64| {
            gql_body(q, json!({"cluster": h.clusters[c].name, "at": rfc3339(at)}))
        };
        // The graph applies a chunk right after committing it: wait for the last one.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (c, at) = pairs[pairs.len() - 1];
            let (_, d) = graphql_timed(&http, &gql, &inv_body(&names_q, c, at)?).await?;
            let n = d["inventory"]["totalCount"]
                .as_u64()
                .map_or(0, |n| n as usize);
            if n == graph.inventory.items[pairs.len() - 1] {
                break;
            }
            if Instant::now() > deadline {
                bail!(
                    "HTTP inventory holds {n} items, in-process {}",
                    graph.inventory.items[pairs.len() - 1]
                );
            }
            tokio::time::sleep(POLL).await;
        }
        eprintln!(
            "http: {} GraphQL queries of each kind, one at a time",
            pairs.len()
        );
        let mut floor = Timings::default();
        let floor_body = gql_body("{ __typename }", json!({}))?;
        for _ in pairs {
            let (d, _) = graphql_timed(&http, &gql, &floor_body).await?;
            floor.push(d, 0);
        }
        let (inventory, bytes) = http_inventory(&http, &gql, h, pairs, graph).await?;
        let mut names = Timings::default();
        for (c, at) in pairs {
            let vars = json!({"cluster": h.clusters[*c].name, "at": rfc3339(*at)});
            let (d, nodes, _) = all_pages(&http, &gql, &names_q, &vars, "inventory").await?;
            names.push(d, nodes.len());
        }
        let mut where_is = Timings::default();
        for (q, i) in wanted.iter().enumerate() {
            let vars = json!({"component": h.components[*i].name});
            let (d, nodes, _) = all_pages(&http, &gql, WHERE_IS_Q, &vars, "whereIs").await?;
            let n = nodes.len();
            if n != graph.where_is.items[q] {
                bail!(
                    "HTTP whereIs({}): {n} items, in-process {}",
                    h.components[*i].name,
                    graph.where_is.items[q]
                );
            }
            where_is.push(d, n);
        }
        anyhow::Ok((floor, inventory, names, where_is, bytes))
    })?;
    let (floor, inventory, inventory_names, where_is, bytes) = timed;
    let metrics = reqwest::blocking::Client::new()
        .get(server.url("/metrics"))
        .send()?
        .text()?;
    let mut log = server.log();
    // The same queries against a fresh process that rebuilt its graph from the store at
    // start-up (as a restarted or new replica does), rather than folding it event by event
    // between inbox commits and SQLite work.
    let restarted = if a.restart {
        eprintln!("http: restarting the catalog (graph rebuilt from the store), same queries");
        let t = Instant::now();
        server = server.restart()?;
        let ready = t.elapsed();
        let (timings, _) = rt.block_on(http_inventory(&http, &gql, h, pairs, graph))?;
        log = server.log();
        Some((ready, timings))
    } else {
        None
    };
    server.kill();
    Ok(Http {
        batched,
        batched_recorded,
        batched_events,
        single,
        single_recorded,
        single_events,
        floor: floor.finish(),
        inventory,
        restarted,
        inventory_names: inventory_names.finish(),
        where_is: where_is.finish(),
        inventory_bytes: bytes as f64 / pairs.len() as f64,
        server_cpu,
        metrics,
        log,
    })
}

/// `inventory(cluster, at)` over HTTP for every pair, checked against the in-process answers;
/// returns the timings and the total bytes of `data`.
async fn http_inventory(
    http: &reqwest::Client,
    gql: &str,
    h: &History,
    pairs: &[(usize, i64)],
    graph: &InProcess,
) -> Result<(Timings, usize)> {
    let inventory_q = inventory_query(INVENTORY_FIELDS);
    let mut inventory = Timings::default();
    let mut bytes = 0usize;
    for (q, (c, at)) in pairs.iter().enumerate() {
        let vars = json!({"cluster": h.clusters[*c].name, "at": rfc3339(*at)});
        let (d, items, b) = all_pages(http, gql, &inventory_q, &vars, "inventory").await?;
        bytes += b;
        inventory.push(d, items.len());
        if let Some(want) = graph.checked.get(q) {
            let got = sorted(
                items
                    .iter()
                    .map(|i| {
                        (
                            i["namespace"].as_str().unwrap_or_default().to_string(),
                            i["workload"].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect(),
            );
            if &got != want {
                bail!(
                    "HTTP inventory({}, {}) disagrees with in-process: {} items against {}",
                    h.clusters[*c].name,
                    rfc3339(*at),
                    got.len(),
                    want.len()
                );
            }
        } else if items.len() != graph.inventory.items[q] {
            bail!(
                "HTTP inventory({}, {}): {} items, in-process {}",
                h.clusters[*c].name,
                rfc3339(*at),
                items.len(),
                graph.inventory.items[q]
            );
        }
    }
    Ok((inventory.finish(), bytes))
}

// ---------------------------------------------------------------------------------------------

fn main() -> Result<()> {
    let a = parse_args()?;
    let total = Instant::now();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let load_before = loadavg();
    if a.http {
        // Fail now rather than after the in-process and SQL phases (the check is made once).
        catalog_tests::server::binary()?;
    }

    let t = Instant::now();
    let h = generate(&a)?;
    let (batched, singles) = bodies(&h.entries, a.http_batch, a.single)?;
    let mut events = events_of(&batched)?;
    events.extend(events_of(&singles)?);
    if events.len() != a.events {
        bail!(
            "the hook parser made {} events of {}",
            events.len(),
            a.events
        );
    }
    let body_bytes: usize = batched.iter().chain(&singles).map(|b| b.len()).sum();
    eprintln!(
        "setup: {} events ({} workloads, {} out of order, {:.0} bytes per event as JSON) \
         generated and parsed in {:.1}s",
        a.events,
        h.workloads,
        h.out_of_order,
        body_bytes as f64 / a.events as f64,
        t.elapsed().as_secs_f64()
    );

    if let Some(dir) = &a.policy_cost {
        return policy_cost(&a, dir, batched);
    }

    // The same (cluster, moment) pairs and components everywhere.
    let mut rng = Rng::new(a.seed ^ 0x5eed);
    let pairs: Vec<(usize, i64)> = (0..a.queries)
        .map(|_| {
            let c = rng.below(h.clusters.len());
            let at = h.start + (rng.unit() * (h.end - h.start) as f64) as i64;
            (c, at)
        })
        .collect();
    let wanted: Vec<usize> = (0..a.queries)
        .map(|_| rng.below(h.components.len()))
        .collect();

    // --- in-process
    eprintln!("in-process: folding {} events", a.events);
    let (catalog, graph) = in_process(&events, &h, &pairs, &wanted)?;

    let batch: Vec<(Option<i64>, Vec<NewEvent>)> =
        events.into_iter().map(|e| (None, vec![e])).collect();

    // --- SQL baselines
    let dir = TempDir::new("bench-deploy")?;
    eprintln!(
        "sqlite: recording {} events, {STORE_BATCH} per call",
        a.events
    );
    let (sqlite, gql) = {
        let store = Store::open(&dir.path().join("store.db").display().to_string(), 4)?;
        let mut baseline = Baseline::create(&dir.path().join("baseline.db").display().to_string())?;
        let sqlite = sql_baseline(&store, &mut baseline, &batch, &h, &pairs, &graph)?;
        eprintln!("in-process: GraphQL inventory without HTTP");
        let gql = graphql_in_process(catalog, &store, &h, &pairs, &graph)?;
        (sqlite, gql)
    };
    eprintln!(
        "sqlite: recording {} events, {WORKER_CHUNK} per call (the worker's chunk)",
        a.worker_chunk_events
    );
    let worker_chunk_wall = {
        let store = Store::open(&dir.path().join("store-8.db").display().to_string(), 4)?;
        let t = Instant::now();
        for chunk in batch[..a.worker_chunk_events].chunks(WORKER_CHUNK) {
            store.record_with(chunk, Durability::Deferred)?;
        }
        t.elapsed()
    };
    let pg = if a.pg {
        match PgDatabase::create() {
            Ok(db) => {
                eprintln!("postgres: recording {} events into {}", a.events, db.name);
                let store = Store::open(&db.url, 4)?;
                let tables = PgDatabase::create()?;
                let mut baseline = Baseline::create(&tables.url)?;
                let r = sql_baseline(&store, &mut baseline, &batch, &h, &pairs, &graph)?;
                drop(baseline);
                drop(tables);
                drop(store);
                drop(db);
                Ok(r)
            }
            Err(e) => Err(format!("{e:#}")),
        }
    } else {
        Err("--no-pg".to_string())
    };
    drop(batch);

    // --- over HTTP
    let http = if a.http {
        Some(over_http(
            &a, &h, batched, singles, &pairs, &wanted, &graph,
        )?)
    } else {
        None
    };

    // --- report
    let mut rows = vec![
        Row::rate(
            "in-process: fold events into Catalog (apply)",
            a.events,
            graph.fold_wall,
            "events",
        ),
        Row::latency(
            "in-process: inventory(cluster, at)",
            &graph.inventory,
            "queries",
        ),
        Row::latency(
            "in-process: serde_json::to_vec(inventory answer) [avg items = bytes]",
            &graph.json,
            "answers",
        ),
        Row::latency(
            "in-process: GraphQL schema.execute(inventory), no HTTP",
            &gql.execute,
            "queries",
        ),
        Row::latency(
            "in-process: GraphQL response to JSON [avg items = bytes]",
            &gql.serialize,
            "answers",
        ),
        Row::latency(
            "in-process: GraphQL response to Value, then JSON (as server.rs) [avg items = bytes]",
            &gql.via_value,
            "answers",
        ),
        Row::latency(
            "in-process: where_is(component), now",
            &graph.where_is,
            "queries",
        ),
        Row::rate(
            &format!("SQLite: record_with Deferred, {STORE_BATCH} events/call"),
            a.events,
            sqlite.load_wall,
            "events",
        ),
        Row::rate(
            &format!("SQLite: record_with Deferred, {WORKER_CHUNK} events/call (worker chunk)"),
            a.worker_chunk_events,
            worker_chunk_wall,
            "events",
        ),
        Row::latency(
            "SQLite: inventory_sql(cluster, at) [baseline]",
            &sqlite.inventory,
            "queries",
        ),
    ];
    if let Ok(pg) = &pg {
        rows.push(Row::rate(
            &format!("PostgreSQL: record_with, {STORE_BATCH} events/call"),
            a.events,
            pg.load_wall,
            "events",
        ));
        rows.push(Row::latency(
            "PostgreSQL: inventory_sql(cluster, at) [baseline]",
            &pg.inventory,
            "queries",
        ));
    }
    if let Some(x) = &http {
        let mut ingest = |name: String, p: &Posted, n: usize, recorded: Duration| {
            rows.push(Row {
                name,
                n,
                p50: Some(percentile(&p.latencies, 0.50)),
                p99: Some(percentile(&p.latencies, 0.99)),
                throughput: format!(
                    "{:.0} events/s recorded ({:.0} acked)",
                    n as f64 / recorded.as_secs_f64(),
                    n as f64 / p.wall.as_secs_f64()
                ),
                items: None,
            });
        };
        ingest(
            format!(
                "HTTP: POST /hooks/deployments, {} per request, {} in flight (ack latency)",
                a.http_batch, a.concurrency
            ),
            &x.batched,
            x.batched_events,
            x.batched_recorded.at,
        );
        ingest(
            format!(
                "HTTP: POST /hooks/deployments, 1 per request, {} in flight (ack latency)",
                a.single_concurrency
            ),
            &x.single,
            x.single_events,
            x.single_recorded.at,
        );
        rows.push(Row::latency(
            "HTTP: GraphQL `{ __typename }` [HTTP floor]",
            &x.floor,
            "queries",
        ));
        rows.push(Row::latency(
            "HTTP: GraphQL inventory(cluster, at)",
            &x.inventory,
            "queries",
        ));
        if let Some((ready, t)) = &x.restarted {
            rows.push(Row::latency(
                &format!(
                    "HTTP: GraphQL inventory(cluster, at) after a restart (graph rebuilt from the store, ready in {:.1}s)",
                    ready.as_secs_f64()
                ),
                t,
                "queries",
            ));
        }
        rows.push(Row::latency(
            "HTTP: GraphQL inventory(cluster, at) { workload } only",
            &x.inventory_names,
            "queries",
        ));
        rows.push(Row::latency(
            "HTTP: GraphQL whereIs(component)",
            &x.where_is,
            "queries",
        ));
    }

    println!();
    println!(
        "bench-deploy: {} components, {} clusters ({} environments), {} workloads, {} events over {HISTORY_DAYS} days \
         ({} delivered out of order), {} queries",
        a.components,
        a.clusters,
        ENVIRONMENTS.len().min(a.clusters),
        h.workloads,
        a.events,
        h.out_of_order,
        a.queries
    );
    println!();
    println!("| measurement | n | p50 ms | p99 ms | throughput | avg items |");
    println!("|---|---:|---:|---:|---:|---:|");
    for r in &rows {
        r.print();
    }
    println!();
    let ratio =
        |base: &Timings, x: &Timings| base.p(0.5).as_secs_f64() / x.p(0.5).as_secs_f64().max(1e-9);
    println!(
        "inventory p50: in-process is {:.0}x faster than SQLite inventory_sql{}",
        ratio(&sqlite.inventory, &graph.inventory),
        pg.as_ref().map_or(String::new(), |p| format!(
            ", {:.0}x faster than PostgreSQL inventory_sql",
            ratio(&p.inventory, &graph.inventory)
        ))
    );
    if let Some(x) = &http {
        let (total, floor) = (x.inventory.p(0.5), x.floor.p(0.5));
        let (core, exec, ser, via) = (
            graph.inventory.p(0.5),
            gql.execute.p(0.5),
            gql.serialize.p(0.5),
            gql.via_value.p(0.5),
        );
        println!(
            "where the inventory time goes (p50s, ~{:.0} deployments, {:.0} bytes of JSON per answer): \
             over HTTP {} ms = HTTP + GraphQL floor (`{{ __typename }}`) {} ms \
             + GraphQL execute {} ms (core call {} ms, async-graphql resolving ~{} ms) \
             + response to JSON the way server.rs writes it (to_value, then bytes) {} ms (directly: {} ms) \
             + the rest (body transfer, scheduling on {} cores) ~{} ms. \
             Selecting only `workload`: {} ms over HTTP",
            x.inventory.mean_items(),
            x.inventory_bytes,
            ms(total),
            ms(floor),
            ms(exec),
            ms(core),
            ms(exec.saturating_sub(core)),
            ms(via),
            ms(ser),
            cores,
            ms(total.saturating_sub(floor + exec + via)),
            ms(x.inventory_names.p(0.5)),
        );
        println!(
            "the SQL baselines take {} ms (SQLite){} for the same answer without any HTTP or JSON",
            ms(sqlite.inventory.p(0.5)),
            pg.as_ref().map_or(String::new(), |p| format!(
                " and {} ms (PostgreSQL)",
                ms(p.inventory.p(0.5))
            )),
        );
    }
    if let Err(e) = &pg {
        println!("PostgreSQL baseline skipped: {e}");
    }
    println!(
        "answers checked: (namespace, workload) of the first {CHECKED} inventory pairs equal across in-process, \
         SQLite{}{}; item counts equal for all {} pairs{}",
        if pg.is_ok() { ", PostgreSQL" } else { "" },
        if http.is_some() { " and HTTP" } else { "" },
        a.queries,
        if http.is_some() { " (and whereIs counts, in-process vs HTTP)" } else { "" }
    );
    match &http {
        Some(x) => {
            let inv = x.inventory.p(0.5);
            let ingest = x.batched_events as f64 / x.batched_recorded.at.as_secs_f64();
            let single = x.single_events as f64 / x.single_recorded.at.as_secs_f64();
            let met = |ok: bool| if ok { "MET" } else { "MISSED" };
            println!(
                "aims: inventory over HTTP p50 <= {} ms: {} ms, {}; ingest >= {AIM_INGEST_PER_S:.0} events/s: \
                 {ingest:.0} events/s batched, {} ({single:.0} events/s one per request, {})",
                ms(AIM_INVENTORY_HTTP_P50),
                ms(inv),
                met(inv <= AIM_INVENTORY_HTTP_P50),
                met(ingest >= AIM_INGEST_PER_S),
                met(single >= AIM_INGEST_PER_S),
            );
            println!(
                "catalog process CPU during ingest: {}s over {:.1}s of ingest wall time",
                x.server_cpu
                    .map_or("?".to_string(), |d| format!("{:.1}", d.as_secs_f64())),
                (x.batched_recorded.at + x.single_recorded.at).as_secs_f64()
            );
            println!(
                "recorded events/s per fifth of the events: batched {}; one per request {}; acks done after \
                 {:.1}s and {:.1}s, all recorded after {:.1}s and {:.1}s",
                rate_by_fifth(&x.batched_recorded, 0, x.batched_events),
                rate_by_fifth(&x.single_recorded, x.batched_events as i64, x.single_events),
                x.batched.wall.as_secs_f64(),
                x.single.wall.as_secs_f64(),
                x.batched_recorded.at.as_secs_f64(),
                x.single_recorded.at.as_secs_f64(),
            );
            let m = |n: &str| metric(&x.metrics, n);
            if let (Some(items), Some(commits), Some(recorded)) = (
                m("catalog_hook_items_total"),
                m("catalog_inbox_commits_total"),
                m("catalog_events_recorded_total"),
            ) {
                println!(
                    "catalog /metrics: {items:.0} hook items, {commits:.0} inbox commits ({:.1} items each), \
                     {recorded:.0} events recorded; mean hook ack {} ms, mean worker item latency {} ms",
                    items / commits.max(1.0),
                    m("catalog_hook_ack_seconds_sum")
                        .zip(m("catalog_hook_ack_seconds_count"))
                        .map_or("?".to_string(), |(s, c)| format!("{:.2}", s * 1000.0 / c.max(1.0))),
                    m("catalog_worker_item_seconds_sum")
                        .zip(m("catalog_worker_item_seconds_count"))
                        .map_or("?".to_string(), |(s, c)| format!("{:.1}", s * 1000.0 / c.max(1.0))),
                );
            }
            let warn = x.log.lines().filter(|l| l.contains("WARN")).count();
            let error = x.log.lines().filter(|l| l.contains("ERROR")).count();
            println!(
                "catalog log: {} lines, {warn} WARN, {error} ERROR",
                x.log.lines().count()
            );
            for l in x
                .log
                .lines()
                .filter(|l| l.contains("WARN") || l.contains("ERROR"))
                .take(5)
            {
                println!("  {l}");
            }
        }
        None => println!("aims: not measured (--no-http)"),
    }
    println!(
        "cores: {cores} (client, catalog server and databases share them); \
         load average (1 min) {load_before} before, {} after; total run time {:.1}s",
        loadavg(),
        total.elapsed().as_secs_f64()
    );
    Ok(())
}
