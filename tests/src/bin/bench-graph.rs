//! Graph benchmark: the blast radius of a package version and of a component on a seeded
//! synthetic catalog, answered by the graph core in this process, by the real `catalog`
//! binary over GraphQL, and by PostgreSQL alone (a recursive CTE over current-state tables
//! the harness builds from the same data: `catalog_tests::baseline`); plus what the graph
//! costs: fold time, bytes per BOM edge, the full replay of the log (in-process, and the
//! server's start-up with no snapshot), a snapshot's size, write and read-back times, and the
//! server's start-up from it.
//!
//! ```text
//! cargo build --release --workspace && \
//!   cargo run --release -p catalog-tests --bin bench-graph -- [--size small|large] [--seed 42] \
//!     [--no-pg] [--no-http]
//! ```
//!
//! `small` (the default, for CI: well under a minute with PostgreSQL) is 2,000 images of 50
//! packages drawn from 4,000 package versions, 200 components, 400 live deployments; `large`
//! is 100,000 images of 300 packages drawn from 200,000 (a Zipf-like skew: a few packages in
//! nearly every image, a long tail), 5,000 components of 20 versions, 250 applications and
//! 20,000 live deployments over 6 clusters. The workload is deterministic (a seeded xorshift).
//!
//! The three questions: Q1 a package version planted in exactly 10% of the images, Q2 one
//! planted in all of them (neither is ever drawn by the skew), Q3 a component at the root of
//! a tree of declared dependents at least 8 levels deep. Every answer is checked against what
//! was planted and across the three ways of asking; a mismatch fails the run.
//!
//! The events are generated, never parsed: domain events as the worker would record them,
//! with SBOM events made from a compact (package version id, depth) table on the fly, so the
//! large size never holds 30M SBOM entries as objects. The server does not get them over
//! HTTP (100,000 SBOMs would take hours): the log is written into its SQLite file with
//! `Store::import_log` before it starts: its first start-up replays the log (snapshots off),
//! its second starts from the snapshot this benchmark wrote.

use anyhow::{anyhow, bail, Context, Result};
use catalog_core::deployment::{DeploymentObserved, DeploymentStatus, ImageRef, Run};
use catalog_core::entity::Contacts;
use catalog_core::event::{Event, ImageRegistered, NewEvent, RecordedEvent, SbomAttached};
use catalog_core::graph::{BlastGroup, BlastTarget, BlastThing, BlastTotals};
use catalog_core::purl::Purl;
use catalog_core::sbom::{Sbom, SbomPackage};
use catalog_core::Catalog;
use catalog_schema::Store;
use catalog_tests::baseline::{Baseline, BlastOf};
use catalog_tests::bench::{loadavg, percentile, Rng};
use catalog_tests::registry::TempDir;
use catalog_tests::server::{free_port, PgDatabase, ADMIN_TOKEN, INGEST_TOKEN};
use chrono::{DateTime, Duration as TimeDelta, Utc};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::hint::black_box;
use std::io::{BufWriter, Read, Write};
use std::ops::Range;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The server's allocator, so in-process timings and memory are the server's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str =
    "usage: bench-graph [--size small|large] [--seed 42] [--no-pg] [--no-http] [--core-only]";

const REGISTRY: &str = "bench.local";
/// Q1: in exactly 10% of the images.
const PLANTED_TEN: &str = "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1";
/// Q2: in every image.
const PLANTED_ALL: &str = "pkg:npm/lodash@4.17.21";
/// Zipf exponent of the package skew: rank r is drawn with weight 1 / (r + 1)^s.
const ZIPF_S: f64 = 1.0;
/// Versions per package in the pool.
const VERSIONS_PER_PACKAGE: usize = 4;
/// Items materialized per blast radius group (the GraphQL connection's first page).
const PAGE: usize = 50;
/// Events per `events_page` read and per `import_log` call (the server's own page).
const LOG_PAGE: usize = 1000;
/// SBOM events folded per `apply_all` in-process: small, so the memory they take while
/// folding stays out of the resident-set measurement.
const SBOM_FOLD_CHUNK: usize = 200;
/// The deep component's dependents must reach at least this depth.
const MIN_DEEP_LEVELS: u32 = 8;
/// Wall-clock budget per PostgreSQL series (at least 3 runs whatever it takes).
const SQL_BUDGET: Duration = Duration::from_secs(30);
const READY_TIMEOUT: Duration = Duration::from_secs(1800);
const CLUSTERS: [(&str, &str); 6] = [
    ("prod-eu-1", "prod"),
    ("prod-us-1", "prod"),
    ("prod-ap-1", "prod"),
    ("staging-eu-1", "staging"),
    ("staging-us-1", "staging"),
    ("staging-ap-1", "staging"),
];
/// Aims (large size).
const AIM_Q1_P50: Duration = Duration::from_millis(2);
const AIM_Q1_VS_SQL: f64 = 100.0;
const AIM_Q2_P50: Duration = Duration::from_millis(300);
const AIM_BYTES_PER_EDGE: f64 = 40.0;
/// A full replay of the log (no snapshot), in-process or as the server's start-up.
const AIM_REPLAY: Duration = Duration::from_secs(30);
/// The server's start-up from a snapshot, spawn to /readyz.
const AIM_FROM_SNAPSHOT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy)]
struct Size {
    name: &'static str,
    components: usize,
    /// Versions (= images) per component.
    versions: usize,
    /// Packages in each image's SBOM.
    packages: usize,
    /// Package versions the skew draws from.
    pool: usize,
    teams: usize,
    applications: usize,
    members: usize,
    deployments: usize,
    /// Dependency layers: a component depends on components of the layer below.
    layers: usize,
    /// In-process runs of Q1, Q2, Q3 (after a warm-up).
    runs: [usize; 3],
    http_runs: usize,
}

const SMALL: Size = Size {
    name: "small",
    components: 200,
    versions: 10,
    packages: 50,
    pool: 4_000,
    teams: 20,
    applications: 10,
    members: 20,
    deployments: 400,
    layers: 12,
    runs: [200, 200, 200],
    http_runs: 100,
};

const LARGE: Size = Size {
    name: "large",
    components: 5_000,
    versions: 20,
    packages: 300,
    pool: 200_000,
    teams: 200,
    applications: 250,
    members: 20,
    deployments: 20_000,
    layers: 12,
    runs: [200, 20, 200],
    http_runs: 100,
};

impl Size {
    fn images(&self) -> usize {
        self.components * self.versions
    }

    fn large(&self) -> bool {
        self.name == "large"
    }
}

struct Args {
    size: Size,
    seed: u64,
    pg: bool,
    http: bool,
    /// Only the in-process part: fold, memory and the three questions (no store, replay,
    /// snapshot, PostgreSQL or HTTP): the quick loop for work on the core.
    core_only: bool,
}

fn parse_args() -> Result<Args> {
    let mut a = Args {
        size: SMALL,
        seed: 42,
        pg: true,
        http: true,
        core_only: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--size" => {
                a.size = match it.next().as_deref() {
                    Some("small") => SMALL,
                    Some("large") => LARGE,
                    other => bail!("--size {other:?}: expected small or large; {USAGE}"),
                }
            }
            "--seed" => {
                let v = it.next().ok_or_else(|| anyhow!("--seed needs a value"))?;
                a.seed = v
                    .parse()
                    .with_context(|| format!("--seed {v:?}: expected a non-negative integer"))?;
            }
            "--no-pg" => a.pg = false,
            "--no-http" => a.http = false,
            "--core-only" => a.core_only = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?}; {USAGE}"),
        }
    }
    Ok(a)
}

// ---------------------------------------------------------------------------------------------
// The workload

/// A package version: its canonical purl, and the name and version an SBOM lists.
struct Pv {
    purl: String,
    package: String,
    name: String,
    version: String,
}

fn pv(purl: &str) -> Result<Pv> {
    let p = Purl::parse(purl).map_err(|e| anyhow!("{purl}: {e:?}"))?;
    // The graph and the baseline key package versions by the canonical purl: so must we.
    if p.package_version() != purl {
        bail!(
            "{purl} is not canonical (the catalog spells it {})",
            p.package_version()
        );
    }
    if !matches!(p.ty.as_str(), "maven" | "npm") {
        bail!("unexpected purl type {}", p.ty);
    }
    Ok(Pv {
        purl: purl.to_string(),
        package: p.package(),
        name: p.name.clone(),
        version: p.version.clone().unwrap_or_default(),
    })
}

/// The j-th package version of the pool: packages of VERSIONS_PER_PACKAGE versions, a third
/// maven, the rest npm.
fn pool_purl(j: usize) -> String {
    let p = j / VERSIONS_PER_PACKAGE;
    let v = format!("{}.{}.{}", 1 + p % 5, j % VERSIONS_PER_PACKAGE, p % 10);
    match p % 3 {
        0 => format!("pkg:maven/org.bench.g{}/lib-{p}@{v}", p % 50),
        _ => format!("pkg:npm/pkg-{p}@{v}"),
    }
}

/// Draws pool indexes with a Zipf-like skew: rank r (a random permutation of the pool) with
/// weight 1 / (r + 1)^s.
struct Zipf {
    cdf: Vec<f64>,
    perm: Vec<u32>,
}

impl Zipf {
    fn new(n: usize, rng: &mut Rng) -> Zipf {
        let mut cdf = Vec::with_capacity(n);
        let mut total = 0.0;
        for r in 0..n {
            total += 1.0 / ((r + 1) as f64).powf(ZIPF_S);
            cdf.push(total);
        }
        let mut perm: Vec<u32> = (0..n as u32).collect();
        rng.shuffle(&mut perm);
        Zipf { cdf, perm }
    }

    fn draw(&self, rng: &mut Rng) -> u32 {
        let total = self.cdf.last().copied().unwrap_or(1.0);
        let u = rng.unit() * total;
        let r = self
            .cdf
            .partition_point(|c| *c < u)
            .min(self.perm.len() - 1);
        self.perm[r]
    }
}

struct Component {
    name: String,
    team: usize,
}

struct Application {
    name: String,
    members: Vec<usize>,
    owner: Option<usize>,
}

struct Deployment {
    cluster: usize,
    component: usize,
    version: usize,
}

struct Workload {
    size: Size,
    seed: u64,
    /// The pool, then PLANTED_TEN, then PLANTED_ALL (never drawn by the skew).
    pvs: Vec<Pv>,
    components: Vec<Component>,
    /// Image i is version i % versions of component i / versions.
    digests: Vec<String>,
    /// Image i's SBOM: package version ids and depths at [i * packages, (i + 1) * packages).
    boms: Vec<u32>,
    depths: Vec<u8>,
    in_ten: Vec<bool>,
    /// (from, to): `from` depends on `to`.
    dependencies: Vec<(usize, usize)>,
    deep: usize,
    applications: Vec<Application>,
    deployments: Vec<Deployment>,
    /// Distinct package versions the skew used.
    distinct: usize,
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

impl Workload {
    fn generate(size: Size, seed: u64) -> Result<Workload> {
        let mut rng = Rng::new(seed);
        let mut pvs = Vec::with_capacity(size.pool + 2);
        for j in 0..size.pool {
            pvs.push(pv(&pool_purl(j))?);
        }
        let ten = pvs.len() as u32;
        pvs.push(pv(PLANTED_TEN)?);
        let all = pvs.len() as u32;
        pvs.push(pv(PLANTED_ALL)?);

        let components: Vec<Component> = (0..size.components)
            .map(|m| {
                let team = rng.below(size.teams);
                Component {
                    name: format!("team-{team}/comp-{m}"),
                    team,
                }
            })
            .collect();
        let images = size.images();
        let digests: Vec<String> = (0..images)
            .map(|i| {
                format!(
                    "sha256:{}",
                    sha256_hex(format!("bench-graph {seed} image {i}").as_bytes())
                )
            })
            .collect();

        // Exactly 10% of the images get PLANTED_TEN; every image gets PLANTED_ALL.
        let mut order: Vec<usize> = (0..images).collect();
        rng.shuffle(&mut order);
        let mut in_ten = vec![false; images];
        for i in &order[..images / 10] {
            in_ten[*i] = true;
        }
        let zipf = Zipf::new(size.pool, &mut rng);
        let n = size.packages;
        let mut boms = Vec::with_capacity(images * n);
        let mut depths = Vec::with_capacity(images * n);
        // Which image last drew a pool entry: distinct draws per image in O(1).
        let mut drawn_by = vec![u32::MAX; size.pool];
        let mut used = vec![false; size.pool];
        for (i, ten_here) in in_ten.iter().enumerate() {
            let start = boms.len();
            boms.push(all);
            if *ten_here {
                boms.push(ten);
            }
            while boms.len() - start < n {
                let j = zipf.draw(&mut rng);
                if drawn_by[j as usize] != i as u32 {
                    drawn_by[j as usize] = i as u32;
                    used[j as usize] = true;
                    boms.push(j);
                }
            }
            // The planted ones somewhere in the document, not always first.
            let k = start + rng.below(n);
            boms.swap(start, k);
            for _ in 0..n {
                depths.push(if rng.below(5) == 0 {
                    1
                } else {
                    2 + rng.below(3) as u8
                });
            }
        }
        drop(drawn_by);
        let distinct = used.iter().filter(|u| **u).count();

        // Declared dependencies: layers, each component depending on ~2 of the layer below,
        // so a path from layer k down to layer 0 is exactly k hops. The deep component is the
        // first of layer 0, with a chain of dependents through every layer on top of that.
        let layer_of = |m: usize| m * size.layers / size.components;
        let layer_start = |l: usize| (l * size.components).div_ceil(size.layers);
        let mut deps: BTreeSet<(usize, usize)> = BTreeSet::new();
        for m in 0..size.components {
            let l = layer_of(m);
            if l == 0 {
                continue;
            }
            let (lo, hi) = (layer_start(l - 1), layer_start(l));
            for _ in 0..rng.below(5) {
                deps.insert((m, lo + rng.below(hi - lo)));
            }
        }
        let deep = 0;
        let chain: Vec<usize> = (0..size.layers).map(layer_start).collect();
        for w in chain.windows(2) {
            deps.insert((w[1], w[0]));
        }
        // A few cycles: three edges reversed, and one through the deep chain.
        let plain: Vec<(usize, usize)> = deps.iter().copied().collect();
        for _ in 0..3 {
            let (from, to) = plain[rng.below(plain.len())];
            deps.insert((to, from));
        }
        if chain.len() > 6 {
            deps.insert((chain[3], chain[6]));
        }

        let applications: Vec<Application> = (0..size.applications)
            .map(|a| {
                let mut members = BTreeSet::new();
                while members.len() < size.members.min(size.components) {
                    members.insert(rng.below(size.components));
                }
                Application {
                    name: format!("app-{a}"),
                    members: members.into_iter().collect(),
                    // Every other application names an owner.
                    owner: matches!(a % 2, 0).then(|| rng.below(size.teams)),
                }
            })
            .collect();

        // Live deployments: distinct (component, cluster) slots, each running one of the
        // component's three newest versions.
        let mut slots: Vec<(usize, usize)> = (0..size.components)
            .flat_map(|m| (0..CLUSTERS.len()).map(move |c| (m, c)))
            .collect();
        rng.shuffle(&mut slots);
        if slots.len() < size.deployments {
            bail!(
                "{} deployments do not fit {} slots",
                size.deployments,
                slots.len()
            );
        }
        let deployments = slots[..size.deployments]
            .iter()
            .map(|(m, c)| Deployment {
                cluster: *c,
                component: *m,
                version: size.versions - 1 - rng.below(size.versions.min(3)),
            })
            .collect();

        Ok(Workload {
            size,
            seed,
            pvs,
            components,
            digests,
            boms,
            depths,
            in_ten,
            dependencies: deps.into_iter().collect(),
            deep,
            applications,
            deployments,
            distinct,
        })
    }

    fn tag(&self, image: usize) -> String {
        format!("1.{}.0", image % self.size.versions)
    }

    fn component_of(&self, image: usize) -> &Component {
        &self.components[image / self.size.versions]
    }

    fn bom(&self, image: usize) -> Range<usize> {
        image * self.size.packages..(image + 1) * self.size.packages
    }

    fn edges(&self) -> usize {
        self.boms.len()
    }

    fn ten_count(&self) -> usize {
        self.in_ten.iter().filter(|t| **t).count()
    }
}

/// The event log: the small events in memory, then one `sbom.attached` per image made on
/// demand (their SBOM entries would not fit in memory as objects at the large size).
///
/// Order: team contacts, owners, dependencies, image registrations, applications, live
/// deployments, then the SBOMs (so the memory they add to the graph is measured alone).
struct Log<'a> {
    w: &'a Workload,
    head: Vec<NewEvent>,
    start: DateTime<Utc>,
}

impl<'a> Log<'a> {
    fn new(w: &'a Workload) -> Result<Log<'a>> {
        let start = DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z")?.with_timezone(&Utc);
        let mut log = Log {
            w,
            head: Vec::new(),
            start,
        };
        let push = |log: &mut Log, key: String, source: &str, event: Event| {
            let at = log.at(log.head.len());
            log.head.push(NewEvent {
                key,
                occurred_at: at,
                source: source.to_string(),
                actor: "bench-graph".to_string(),
                event,
            });
        };
        for t in 0..w.size.teams {
            let team = format!("team-{t}");
            push(
                &mut log,
                format!("contacts:{team}"),
                "api",
                Event::TeamContacts {
                    contacts: Contacts {
                        email: Some(format!("{team}@bench.local")),
                        chat: Some(format!("#{team}")),
                        pager: Some(format!("pd-{team}")),
                    },
                    team,
                },
            );
        }
        for c in &w.components {
            push(
                &mut log,
                format!("owner:{}", c.name),
                "api",
                Event::OwnerSet {
                    component: c.name.clone(),
                    team: format!("team-{}", c.team),
                    via: "api".to_string(),
                },
            );
        }
        for (from, to) in &w.dependencies {
            let (from, to) = (&w.components[*from].name, &w.components[*to].name);
            push(
                &mut log,
                format!("dependency:{from}->{to}"),
                "api",
                Event::DependencyDeclared {
                    from: from.clone(),
                    to: to.clone(),
                },
            );
        }
        for (i, digest) in w.digests.iter().enumerate() {
            let c = w.component_of(i);
            let tag = w.tag(i);
            let created = log.at(log.head.len());
            push(
                &mut log,
                format!("image:{REGISTRY}/{}:{tag}@{digest}", c.name),
                "distribution",
                Event::ImageRegistered(ImageRegistered {
                    registry: REGISTRY.to_string(),
                    repository: c.name.clone(),
                    digest: digest.clone(),
                    tag: Some(tag.clone()),
                    media_type: "application/vnd.oci.image.manifest.v1+json".to_string(),
                    size: 1_000_000 + i as i64,
                    platforms: Vec::new(),
                    labels: BTreeMap::new(),
                    created: Some(created),
                    component: c.name.clone(),
                    version: Some(tag),
                    tag_resolved: false,
                }),
            );
        }
        for a in &w.applications {
            push(
                &mut log,
                format!("application:{}", a.name),
                "api",
                Event::ApplicationDeclared {
                    application: a.name.clone(),
                    components: a
                        .members
                        .iter()
                        .map(|m| w.components[*m].name.clone())
                        .collect(),
                    owner: a.owner.map(|t| format!("team-{t}")),
                },
            );
        }
        for d in &w.deployments {
            let (cluster, env) = CLUSTERS[d.cluster];
            let c = &w.components[d.component];
            let image = d.component * w.size.versions + d.version;
            let workload = c.name.rsplit('/').next().unwrap_or(&c.name).to_string();
            let namespace = format!("team-{}", c.team);
            push(
                &mut log,
                format!("deploy:{cluster}/{namespace}/{workload}"),
                "argocd",
                Event::DeploymentObserved(DeploymentObserved {
                    cluster: cluster.to_string(),
                    namespace,
                    workload,
                    environment: Some(env.to_string()),
                    status: DeploymentStatus::Healthy,
                    replicas: Some(2),
                    runs: vec![Run {
                        container: Some("app".to_string()),
                        image: Some(ImageRef {
                            registry: REGISTRY.to_string(),
                            repository: c.name.clone(),
                            tag: Some(w.tag(image)),
                            digest: Some(w.digests[image].clone()),
                        }),
                        component: None,
                        version: None,
                    }],
                    revision: None,
                    url: None,
                }),
            );
        }
        Ok(log)
    }

    /// When the event at position `p` happened: one second apart, in log order.
    fn at(&self, p: usize) -> DateTime<Utc> {
        self.start + TimeDelta::seconds(p as i64)
    }

    fn len(&self) -> usize {
        self.head.len() + self.w.digests.len()
    }

    /// Where the SBOM events start.
    fn sboms_from(&self) -> usize {
        self.head.len()
    }

    /// The digest of image `image`'s SBOM document, and the event's key.
    fn sbom_document(&self, image: usize) -> (String, String) {
        let doc = format!(
            "sha256:{}",
            sha256_hex(format!("bench-graph {} sbom {image}", self.w.seed).as_bytes())
        );
        let key = format!("sbom:{}:{doc}", self.w.digests[image]);
        (doc, key)
    }

    fn sbom(&self, image: usize) -> NewEvent {
        let w = self.w;
        let digest = &w.digests[image];
        let (doc, key) = self.sbom_document(image);
        let packages = w
            .bom(image)
            .map(|k| {
                let p = &w.pvs[w.boms[k] as usize];
                SbomPackage {
                    purl: Some(p.purl.clone()),
                    name: p.name.clone(),
                    version: Some(p.version.clone()),
                    licenses: Vec::new(),
                    hashes: BTreeMap::new(),
                    depth: Some(u32::from(w.depths[k])),
                    depends_on: Vec::new(),
                }
            })
            .collect();
        NewEvent {
            key,
            occurred_at: self.at(self.head.len() + image),
            source: "sbom".to_string(),
            actor: "bench-graph".to_string(),
            event: Event::SbomAttached(SbomAttached {
                image: digest.clone(),
                document_digest: doc,
                via: "upload".to_string(),
                sbom: Sbom {
                    format: "CycloneDX".to_string(),
                    spec_version: "1.5".to_string(),
                    subject: Some(digest.clone()),
                    packages,
                    warnings: Vec::new(),
                    warnings_omitted: 0,
                },
            }),
        }
    }

    /// The events at positions `r`.
    fn events(&self, r: Range<usize>) -> Vec<NewEvent> {
        r.map(|p| match self.head.get(p) {
            Some(e) => e.clone(),
            None => self.sbom(p - self.head.len()),
        })
        .collect()
    }

    /// The events at positions `r` as the log records them (seq = position + 1).
    fn recorded(&self, r: Range<usize>, now: DateTime<Utc>) -> Vec<RecordedEvent> {
        let first = r.start;
        self.events(r)
            .into_iter()
            .enumerate()
            .map(|(k, e)| RecordedEvent {
                seq: (first + k) as i64 + 1,
                key: e.key,
                occurred_at: e.occurred_at,
                recorded_at: now,
                source: e.source,
                actor: e.actor,
                event: e.event,
            })
            .collect()
    }
}

/// [start, end) in steps of `step`.
fn chunks(r: Range<usize>, step: usize) -> impl Iterator<Item = Range<usize>> {
    (r.start..r.end)
        .step_by(step.max(1))
        .map(move |s| s..(s + step).min(r.end))
}

// ---------------------------------------------------------------------------------------------
// Measuring

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

#[derive(Default, Clone)]
struct Timings {
    latencies: Vec<Duration>,
}

impl Timings {
    fn push(&mut self, d: Duration) {
        self.latencies.push(d);
    }

    fn finish(mut self) -> Timings {
        self.latencies.sort();
        self
    }

    fn p(&self, q: f64) -> Duration {
        percentile(&self.latencies, q)
    }

    fn n(&self) -> usize {
        self.latencies.len()
    }
}

struct Row {
    name: String,
    n: Option<usize>,
    p50: Option<Duration>,
    p99: Option<Duration>,
    result: String,
    aim: String,
}

impl Row {
    fn latency(name: String, t: &Timings, result: String, aim: String) -> Row {
        Row {
            name,
            n: Some(t.n()),
            p50: Some(t.p(0.5)),
            p99: Some(t.p(0.99)),
            result,
            aim,
        }
    }

    fn once(name: String, result: String, aim: String) -> Row {
        Row {
            name,
            n: None,
            p50: None,
            p99: None,
            result,
            aim,
        }
    }

    fn print(&self) {
        let opt = |d: Option<Duration>| d.map_or("-".to_string(), ms);
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            self.name,
            self.n.map_or("-".to_string(), |n| n.to_string()),
            opt(self.p50),
            opt(self.p99),
            self.result,
            self.aim
        );
    }
}

/// "MET"/"MISSED" against an aim at the large size; the aim alone at the small one.
fn verdict(large: bool, aim: &str, met: bool) -> String {
    if !large {
        format!("{aim} (large size)")
    } else if met {
        format!("{aim}: MET")
    } else {
        format!("{aim}: MISSED")
    }
}

fn rss_kib(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("?".to_string(), |k| format!("{:.0} MiB", k as f64 / 1024.0))
}

fn per_s(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(1e-9)
}

/// What a blast radius answered: enough to compare across the ways of asking.
#[derive(Debug, Clone, PartialEq)]
struct Answer {
    images: usize,
    component_versions: usize,
    components: BTreeSet<String>,
    applications: usize,
    owners: usize,
    deployments: usize,
}

impl Answer {
    fn of(totals: &BlastTotals, components: BTreeSet<String>) -> Answer {
        Answer {
            images: totals.images,
            component_versions: totals.component_versions,
            components,
            applications: totals.applications,
            owners: totals.owners,
            deployments: totals.deployments,
        }
    }

    fn brief(&self) -> String {
        format!(
            "{} images, {} component versions, {} components, {} applications, {} owners, {} deployments",
            self.images,
            self.component_versions,
            self.components.len(),
            self.applications,
            self.owners,
            self.deployments
        )
    }
}

/// Mismatches, reported after the table; any fails the run.
#[derive(Default)]
struct Mismatches(Vec<String>);

impl Mismatches {
    fn check(&mut self, what: &str, field: &str, got: usize, want: usize) {
        if got != want {
            let m = format!("{what}: {field} {got}, the graph says {want}");
            eprintln!("MISMATCH {m}");
            self.0.push(m);
        }
    }

    /// Compares every question's answers from another catalog with the first one's,
    /// deployments included.
    fn compare_all(&mut self, what: &str, questions: &[Question], got: &[Answer], want: &[Answer]) {
        for ((q, got), want) in questions.iter().zip(got).zip(want) {
            let what = format!("{what} {}", q.label);
            self.compare(&what, got, want);
            self.check(&what, "deployments", got.deployments, want.deployments);
        }
    }

    /// Compares everything but deployments (the SQL baseline has no inventory).
    fn compare(&mut self, what: &str, got: &Answer, want: &Answer) {
        self.check(what, "images", got.images, want.images);
        self.check(
            what,
            "component versions",
            got.component_versions,
            want.component_versions,
        );
        self.check(
            what,
            "components",
            got.components.len(),
            want.components.len(),
        );
        if got.components != want.components {
            let missing: Vec<&String> = want
                .components
                .difference(&got.components)
                .take(3)
                .collect();
            let extra: Vec<&String> = got
                .components
                .difference(&want.components)
                .take(3)
                .collect();
            let m = format!("{what}: component sets differ; missing {missing:?}, extra {extra:?}");
            eprintln!("MISMATCH {m}");
            self.0.push(m);
        }
        self.check(what, "applications", got.applications, want.applications);
        self.check(what, "owners", got.owners, want.owners);
    }
}

// ---------------------------------------------------------------------------------------------
// In-process

struct Question {
    label: &'static str,
    what: String,
    target: BlastTarget,
    runs: usize,
}

struct InProcessSeries {
    total: Timings,
    walk: Timings,
    pages: Timings,
    answer: Answer,
    /// The deepest component reached (hops from the target).
    deepest: u32,
}

fn blast_in_process(c: &Catalog, q: &Question) -> Result<InProcessSeries> {
    let warmup = (q.runs / 10).clamp(2, 20);
    let (mut total, mut walk, mut pages) =
        (Timings::default(), Timings::default(), Timings::default());
    for k in 0..warmup + q.runs {
        let t0 = Instant::now();
        let r = c
            .blast_radius(&q.target, None)
            .ok_or_else(|| anyhow!("{}: the graph does not know {}", q.label, q.what))?;
        let t1 = Instant::now();
        black_box(r.totals());
        for g in BlastGroup::ALL {
            black_box(c.blast_page(&r, g, PAGE, 0));
        }
        let t2 = Instant::now();
        if k >= warmup {
            total.push(t2 - t0);
            walk.push(t1 - t0);
            pages.push(t2 - t1);
        }
    }
    let r = c
        .blast_radius(&q.target, None)
        .ok_or_else(|| anyhow!("{}: the graph does not know {}", q.label, q.what))?;
    let totals = r.totals();
    let all = c.blast_page(&r, BlastGroup::Components, totals.components, 0);
    let mut deepest = 0;
    let mut components = BTreeSet::new();
    for item in all.items {
        if let BlastThing::Component { component, .. } = item.thing {
            deepest = deepest.max(item.depth);
            components.insert(component.name);
        }
    }
    Ok(InProcessSeries {
        total: total.finish(),
        walk: walk.finish(),
        pages: pages.finish(),
        answer: Answer::of(&totals, components),
        deepest,
    })
}

/// Q1..Q3 once each, for checking another catalog against the first.
fn answers(c: &Catalog, qs: &[Question]) -> Result<Vec<Answer>> {
    qs.iter()
        .map(|q| {
            let r = c
                .blast_radius(&q.target, None)
                .ok_or_else(|| anyhow!("{}: the graph does not know {}", q.label, q.what))?;
            let totals = r.totals();
            let components = c
                .blast_page(&r, BlastGroup::Components, totals.components, 0)
                .items
                .into_iter()
                .filter_map(|i| match i.thing {
                    BlastThing::Component { component, .. } => Some(component.name),
                    _ => None,
                })
                .collect();
            Ok(Answer::of(&totals, components))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

/// A second, lighter PostgreSQL baseline next to `Baseline::blast_radius_sql` (which returns
/// every row of every group, as an API would page through them): the same closure reduced to
/// counts and the component names, so the comparison does not hinge on moving rows. Images
/// listing the package version, the component versions built from them, their components
/// and every component depending on those (transitively through `dependencies`; `UNION`
/// ends on cycles), the applications including any of those, and the owners of the
/// components and the applications. A component target starts the walk at the component
/// itself (not counted among the components, as the graph does not count it). Deployments
/// are the graph's alone (no inventory in these tables).
const SQL_BLAST: &str = "WITH RECURSIVE \
  imgs AS (SELECT DISTINCT ip.image FROM image_packages ip WHERE ip.package_version = $1 AND $2 = 'package'), \
  cvs AS (SELECT cv.component, cv.version FROM component_versions cv JOIN imgs ON cv.digest = imgs.image), \
  comps(name) AS ( \
      SELECT component FROM cvs \
      UNION SELECT $1::text WHERE $2 = 'component' \
      UNION SELECT d.from_component FROM dependencies d JOIN comps ON d.to_component = comps.name), \
  apps AS (SELECT DISTINCT m.application FROM application_members m JOIN comps ON m.component = comps.name), \
  owners AS ( \
      SELECT o.team FROM ownership o JOIN comps ON o.component = comps.name \
      UNION SELECT a.owner FROM applications a JOIN apps ON a.name = apps.application \
          WHERE a.owner IS NOT NULL) \
  SELECT 'images' AS kind, count(*) AS n, NULL::text AS name FROM imgs \
  UNION ALL SELECT 'componentVersions', count(*), NULL FROM cvs \
  UNION ALL SELECT 'applications', count(*), NULL FROM apps \
  UNION ALL SELECT 'owners', count(*), NULL FROM owners \
  UNION ALL SELECT 'component', 1, name FROM comps WHERE $2 = 'package' OR name <> $1";

#[derive(diesel::QueryableByName)]
struct SqlRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    kind: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    name: Option<String>,
}

#[derive(diesel::QueryableByName)]
struct Def {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    def: String,
}

fn sql_answer(rows: Vec<SqlRow>) -> Answer {
    let mut a = Answer {
        images: 0,
        component_versions: 0,
        components: BTreeSet::new(),
        applications: 0,
        owners: 0,
        deployments: 0,
    };
    for r in rows {
        let n = r.n as usize;
        match r.kind.as_str() {
            "images" => a.images = n,
            "componentVersions" => a.component_versions = n,
            "applications" => a.applications = n,
            "owners" => a.owners = n,
            _ => {
                a.components.extend(r.name);
            }
        }
    }
    a
}

/// (target, kind) bind values of a question for SQL_BLAST.
fn sql_target(q: &Question) -> (String, &'static str) {
    match &q.target {
        BlastTarget::Component(c) => (c.clone(), "component"),
        _ => (q.what.clone(), "package"),
    }
}

fn sql_blast(c: &mut diesel::PgConnection, q: &Question) -> Result<Answer> {
    use diesel::sql_types::Text;
    use diesel::RunQueryDsl;
    let (target, kind) = sql_target(q);
    let rows: Vec<SqlRow> = diesel::sql_query(SQL_BLAST)
        .bind::<Text, _>(target)
        .bind::<Text, _>(kind)
        .load(c)?;
    Ok(sql_answer(rows))
}

/// CSV field: quoted only when it must be; `None` is an unquoted empty field (NULL).
fn csv(out: &mut dyn Write, fields: &[Option<&str>]) -> std::io::Result<()> {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        match f {
            None => {}
            Some(s) if s.is_empty() || s.contains([',', '"', '\n', '\r']) => {
                write!(out, "\"{}\"", s.replace('"', "\"\""))?;
            }
            Some(s) => out.write_all(s.as_bytes())?,
        }
    }
    out.write_all(b"\n")
}

/// `\copy table (columns) FROM STDIN` through psql, fed by `write`; returns the rows written.
fn copy_in(
    url: &str,
    table: &str,
    columns: &str,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<usize>,
) -> Result<usize> {
    let mut child = Command::new("psql")
        .arg(url)
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-c"])
        .arg(format!(
            "\\copy {table} ({columns}) FROM STDIN WITH (FORMAT csv)"
        ))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot run psql (apt-get install postgresql-client)")?;
    let stdin = child
        .stdin
        .take()
        .ok_or_else(|| anyhow!("psql has no stdin"))?;
    let mut w = BufWriter::with_capacity(1 << 20, stdin);
    let written = write(&mut w).and_then(|n| w.flush().map(|()| n));
    drop(w);
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        e.read_to_string(&mut err)?;
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("psql \\copy {table}: {status}: {}", err.trim());
    }
    written.with_context(|| format!("writing {table} to psql"))
}

/// Bulk-loads the baseline's current-state tables, the way a write path keeping them would
/// have filled them for these events. `image_packages` (tens of millions of rows at the
/// large size) loses its indexes for the load and gets them back after, as pg_restore does.
fn pg_load(url: &str, w: &Workload, log: &Log) -> Result<(Duration, Duration, usize)> {
    use diesel::{Connection, RunQueryDsl};
    let t = Instant::now();
    let mut rows = 0;
    let micros = |p: usize| log.at(p).timestamp_micros().to_string();
    let team_at = micros(0);
    rows += copy_in(url, "teams", "name, email, chat, pager", |o| {
        for t in 0..w.size.teams {
            let team = format!("team-{t}");
            csv(
                o,
                &[
                    Some(&team),
                    Some(&format!("{team}@bench.local")),
                    Some(&format!("#{team}")),
                    Some(&format!("pd-{team}")),
                ],
            )?;
        }
        Ok(w.size.teams)
    })?;
    rows += copy_in(url, "components", "name", |o| {
        for c in &w.components {
            csv(o, &[Some(&c.name)])?;
        }
        Ok(w.components.len())
    })?;
    rows += copy_in(url, "ownership", "component, team, via_rank, since", |o| {
        for c in &w.components {
            csv(
                o,
                &[
                    Some(&c.name),
                    Some(&format!("team-{}", c.team)),
                    Some("1"),
                    Some(&team_at),
                ],
            )?;
        }
        Ok(w.components.len())
    })?;
    rows += copy_in(url, "dependencies", "from_component, to_component", |o| {
        for (from, to) in &w.dependencies {
            csv(
                o,
                &[
                    Some(&w.components[*from].name),
                    Some(&w.components[*to].name),
                ],
            )?;
        }
        Ok(w.dependencies.len())
    })?;
    rows += copy_in(
        url,
        "component_versions",
        "component, version, digest, pushed_at",
        |o| {
            for (i, d) in w.digests.iter().enumerate() {
                let c = w.component_of(i);
                let at = micros(i);
                let tag = w.tag(i);
                csv(o, &[Some(&c.name), Some(&tag), Some(d), Some(&at)])?;
            }
            Ok(w.digests.len())
        },
    )?;
    rows += copy_in(url, "applications", "name, owner", |o| {
        for a in &w.applications {
            let owner = a.owner.map(|t| format!("team-{t}"));
            csv(o, &[Some(&a.name), owner.as_deref()])?;
        }
        Ok(w.applications.len())
    })?;
    rows += copy_in(
        url,
        "application_members",
        "application, component, via",
        |o| {
            let mut n = 0;
            for a in &w.applications {
                for m in &a.members {
                    csv(
                        o,
                        &[Some(&a.name), Some(&w.components[*m].name), Some("api")],
                    )?;
                    n += 1;
                }
            }
            Ok(n)
        },
    )?;
    // Packages and versions the SBOMs name.
    let mut named = vec![false; w.pvs.len()];
    for pv in &w.boms {
        named[*pv as usize] = true;
    }
    rows += copy_in(url, "package_versions", "purl, package, version", |o| {
        let mut n = 0;
        for (p, _) in w.pvs.iter().zip(&named).filter(|(_, n)| **n) {
            csv(o, &[Some(&p.purl), Some(&p.package), Some(&p.version)])?;
            n += 1;
        }
        Ok(n)
    })?;
    rows += copy_in(url, "image_sboms", "image, event_key, attached_at", |o| {
        for i in 0..w.digests.len() {
            let (_, key) = log.sbom_document(i);
            csv(
                o,
                &[
                    Some(&w.digests[i]),
                    Some(&key),
                    Some(&micros(log.sboms_from() + i)),
                ],
            )?;
        }
        Ok(w.digests.len())
    })?;

    // The big one: without its indexes while loading.
    let mut c = diesel::PgConnection::establish(url)?;
    let constraints: Vec<Def> = diesel::sql_query(
        "SELECT conname::text AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint \
         WHERE conrelid = 'image_packages'::regclass AND contype IN ('p', 'u')",
    )
    .load(&mut c)?;
    let indexes: Vec<Def> = diesel::sql_query(
        "SELECT i.indexname::text AS name, i.indexdef AS def FROM pg_indexes i \
         WHERE i.tablename = 'image_packages' AND NOT EXISTS (SELECT 1 FROM pg_constraint k \
         WHERE k.conrelid = 'image_packages'::regclass AND k.conname = i.indexname)",
    )
    .load(&mut c)?;
    for k in &constraints {
        diesel::sql_query(format!(
            "ALTER TABLE image_packages DROP CONSTRAINT \"{}\"",
            k.name
        ))
        .execute(&mut c)?;
    }
    for i in &indexes {
        diesel::sql_query(format!("DROP INDEX \"{}\"", i.name)).execute(&mut c)?;
    }
    let t_ip = Instant::now();
    rows += copy_in(
        url,
        "image_packages",
        "image, package_version, depth",
        |o| {
            let mut depth = String::new();
            for (i, d) in w.digests.iter().enumerate() {
                for k in w.bom(i) {
                    depth.clear();
                    depth.push_str(&w.depths[k].to_string());
                    csv(
                        o,
                        &[Some(d), Some(&w.pvs[w.boms[k] as usize].purl), Some(&depth)],
                    )?;
                }
            }
            Ok(w.edges())
        },
    )?;
    let copied = t_ip.elapsed();
    eprintln!(
        "postgres: image_packages: {} rows copied in {:.1}s; rebuilding {} constraint(s) and {} index(es)",
        w.edges(),
        copied.as_secs_f64(),
        constraints.len(),
        indexes.len()
    );
    diesel::sql_query("SET maintenance_work_mem = '1GB'").execute(&mut c)?;
    for k in &constraints {
        diesel::sql_query(format!(
            "ALTER TABLE image_packages ADD CONSTRAINT \"{}\" {}",
            k.name, k.def
        ))
        .execute(&mut c)?;
    }
    for i in &indexes {
        diesel::sql_query(i.def.clone()).execute(&mut c)?;
    }
    let loaded = t.elapsed();
    let t = Instant::now();
    diesel::sql_query("ANALYZE").execute(&mut c)?;
    let analyzed = t.elapsed();
    Ok((loaded, analyzed, rows))
}

struct SqlSeries {
    timings: Timings,
    answer: Answer,
}

/// One warm-up call (whose answer is kept), then up to `runs` timed ones within SQL_BUDGET.
fn sql_series(runs: usize, mut ask: impl FnMut() -> Result<Answer>) -> Result<SqlSeries> {
    let answer = ask()?;
    let mut timings = Timings::default();
    let started = Instant::now();
    for k in 0..runs {
        if k >= 3 && started.elapsed() > SQL_BUDGET {
            break;
        }
        let t = Instant::now();
        black_box(ask()?);
        timings.push(t.elapsed());
    }
    Ok(SqlSeries {
        timings: timings.finish(),
        answer,
    })
}

/// `Baseline::blast_radius_sql`'s answer to a question, unbounded in depth. Its component
/// list includes a component target itself (hop 0); the graph's does not.
fn baseline_blast(baseline: &mut Baseline, q: &Question) -> Result<Answer> {
    let of = match &q.target {
        BlastTarget::Component(c) => BlastOf::Component(c.clone()),
        _ => BlastOf::PackageVersion(q.what.clone()),
    };
    let r = baseline.blast_radius_sql(&of, i32::MAX)?;
    let mut components: BTreeSet<String> = r.components.into_iter().map(|(c, _)| c).collect();
    if let BlastTarget::Component(c) = &q.target {
        components.remove(c);
    }
    let owners: BTreeSet<String> = r.owners.into_iter().map(|o| o.team).collect();
    Ok(Answer {
        images: r.images.len(),
        component_versions: r.component_versions.len(),
        components,
        applications: r.applications.len(),
        owners: owners.len(),
        deployments: 0,
    })
}

// ---------------------------------------------------------------------------------------------
// Over HTTP

/// The `catalog serve` this benchmark started; killed (by its own handle) when dropped.
struct Server {
    child: Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl Server {
    /// Starts `catalog serve` on an existing SQLite file and waits for `/readyz`; returns the
    /// time from spawn to ready (the start-up rebuild of the graph from the log).
    fn start(
        db: &std::path::Path,
        dir: &std::path::Path,
        extra: &[&str],
    ) -> Result<(Server, Duration)> {
        let port = free_port()?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("server.log"))?;
        let t = Instant::now();
        let child = Command::new(catalog_tests::server::binary()?)
            .arg("serve")
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .arg("--database-url")
            .arg(db)
            .args(["--ingest-token", INGEST_TOKEN, "--admin-token", ADMIN_TOKEN])
            .args(["--reconcile-interval", "0"])
            .args(extra)
            .env("CATALOG_LOG", "info")
            .env_remove("CATALOG_DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("cannot start catalog")?;
        let mut s = Server {
            child,
            port,
            dir: dir.to_path_buf(),
        };
        let http = reqwest::blocking::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(5))
            .build()?;
        loop {
            if let Some(st) = s.child.try_wait()? {
                bail!(
                    "catalog exited with {st} before it was ready; log:\n{}",
                    s.log()
                );
            }
            if let Ok(r) = http.get(s.url("/readyz")).send() {
                if r.status().is_success() {
                    return Ok((s, t.elapsed()));
                }
            }
            if t.elapsed() > READY_TIMEOUT {
                bail!(
                    "catalog not ready after {READY_TIMEOUT:?}; log:\n{}",
                    s.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const GQL_PACKAGE: &str = "query($p:String!){ blastRadius(of:{purl:$p}) { totals { images componentVersions components deployments owners } } }";
const GQL_COMPONENT: &str = "query($c:String!){ blastRadius(of:{component:$c}) { totals { images componentVersions components deployments owners } } }";

/// What an HTTP series came to: timings, or why there are none (`n/a`).
enum HttpSeries {
    Done(Timings),
    Unavailable(String),
}

fn http_series(
    http: &reqwest::blocking::Client,
    url: &str,
    q: &Question,
    want: &Answer,
    runs: usize,
    bad: &mut Mismatches,
) -> Result<HttpSeries> {
    let body = match &q.target {
        BlastTarget::Component(c) => json!({"query": GQL_COMPONENT, "variables": {"c": c}}),
        _ => json!({"query": GQL_PACKAGE, "variables": {"p": q.what}}),
    };
    let body = serde_json::to_vec(&body)?;
    let ask = |http: &reqwest::blocking::Client| -> Result<(Duration, Value)> {
        let t = Instant::now();
        let r = http
            .post(url)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()?;
        let status = r.status().as_u16();
        let bytes = r.bytes()?;
        let d = t.elapsed();
        let v: Value = serde_json::from_slice(&bytes).with_context(|| {
            format!(
                "HTTP {status}, not JSON: {}",
                String::from_utf8_lossy(&bytes)
            )
        })?;
        Ok((d, v))
    };
    let (_, v) = ask(http)?;
    if let Some(errors) = v.get("errors") {
        // The API is being written: tolerate a schema without blastRadius.
        let first = errors[0]["message"].as_str().unwrap_or("?").to_string();
        return Ok(HttpSeries::Unavailable(first));
    }
    let totals = &v["data"]["blastRadius"]["totals"];
    let n = |k: &str| totals[k].as_u64().map_or(usize::MAX, |x| x as usize);
    let what = format!("HTTP {}", q.label);
    bad.check(&what, "images", n("images"), want.images);
    bad.check(
        &what,
        "component versions",
        n("componentVersions"),
        want.component_versions,
    );
    bad.check(&what, "components", n("components"), want.components.len());
    bad.check(&what, "deployments", n("deployments"), want.deployments);
    bad.check(&what, "owners", n("owners"), want.owners);
    let mut t = Timings::default();
    for k in 0..10 + runs {
        let (d, v) = ask(http)?;
        if v.get("errors").is_some() {
            bail!("{what}: {v}");
        }
        if k >= 10 {
            t.push(d);
        }
    }
    Ok(HttpSeries::Done(t.finish()))
}

// ---------------------------------------------------------------------------------------------

fn main() -> Result<()> {
    let a = parse_args()?;
    let size = a.size;
    let large = size.large();
    let total = Instant::now();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let load_before = loadavg();
    let _ = rustls::crypto::ring::default_provider().install_default();
    if a.http && !a.core_only {
        // Fail now rather than after generating the workload.
        catalog_tests::server::binary()?;
    }
    let mut bad = Mismatches::default();
    let mut rows: Vec<Row> = Vec::new();

    // --- the workload (not timed)
    let t = Instant::now();
    let w = Workload::generate(size, a.seed)?;
    let log = Log::new(&w)?;
    let ten_images = w.ten_count();
    let setup = format!(
        "setup ({}, seed {}): {} images x {} packages ({} BOM edges) drawn from {} package versions \
         ({} used; Zipf s={ZIPF_S}), {} components x {} versions, {} teams, {} declared dependencies \
         ({} layers), {} applications x {} components, {} live deployments over {} clusters; \
         {} events ({} before the SBOMs)",
        size.name,
        a.seed,
        size.images(),
        size.packages,
        w.edges(),
        size.pool,
        w.distinct,
        size.components,
        size.versions,
        size.teams,
        w.dependencies.len(),
        size.layers,
        size.applications,
        size.members,
        size.deployments,
        CLUSTERS.len(),
        log.len(),
        log.sboms_from()
    );
    eprintln!("{setup}; generated in {:.1}s", t.elapsed().as_secs_f64());

    let questions = [
        Question {
            label: "Q1",
            what: PLANTED_TEN.to_string(),
            target: BlastTarget::Package {
                purl: Purl::parse(PLANTED_TEN).map_err(|e| anyhow!("{e:?}"))?,
                range: None,
            },
            runs: size.runs[0],
        },
        Question {
            label: "Q2",
            what: PLANTED_ALL.to_string(),
            target: BlastTarget::Package {
                purl: Purl::parse(PLANTED_ALL).map_err(|e| anyhow!("{e:?}"))?,
                range: None,
            },
            runs: size.runs[1],
        },
        Question {
            label: "Q3",
            what: w.components[w.deep].name.clone(),
            target: BlastTarget::Component(w.components[w.deep].name.clone()),
            runs: size.runs[2],
        },
    ];
    let describe = [
        format!("package version in 10% of images ({ten_images})"),
        format!("package version in 100% of images ({})", size.images()),
        "component with >= 8 levels of dependents".to_string(),
    ];

    // --- in-process: fold, memory, blast radius
    eprintln!("in-process: folding {} events", log.len());
    let now = Utc::now();
    let mut catalog = Catalog::new();
    let mut fold = Duration::ZERO;
    for r in chunks(0..log.sboms_from(), LOG_PAGE) {
        let recs = log.recorded(r, now);
        let t = Instant::now();
        catalog.apply_all(&recs);
        fold += t.elapsed();
    }
    let rss_before = rss_kib("self");
    let mut fold_sboms = Duration::ZERO;
    for r in chunks(log.sboms_from()..log.len(), SBOM_FOLD_CHUNK) {
        let recs = log.recorded(r, now);
        let t = Instant::now();
        catalog.apply_all(&recs);
        fold_sboms += t.elapsed();
    }
    let rss_after = rss_kib("self");
    fold += fold_sboms;
    let (index_bytes, index_edges) = catalog.bom_index_bytes();
    let (nodes, graph_edges) = (catalog.node_count(), catalog.edge_count());
    eprintln!(
        "in-process: folded in {:.2}s ({:.2}s of it the SBOMs); {nodes} nodes, {graph_edges} edges, \
         {index_edges} BOM edges",
        fold.as_secs_f64(),
        fold_sboms.as_secs_f64()
    );
    if index_edges != w.edges() {
        bad.check("in-process", "BOM edges", index_edges, w.edges());
    }
    let verify = if large {
        "skipped at the large size".to_string()
    } else {
        let t = Instant::now();
        catalog
            .verify()
            .map_err(|e| anyhow!("graph invariants: {e}"))?;
        format!("ok in {:.2}s", t.elapsed().as_secs_f64())
    };
    let mut series = Vec::new();
    for (q, d) in questions.iter().zip(&describe) {
        eprintln!("in-process: {} ({d}), {} runs", q.label, q.runs);
        series.push(blast_in_process(&catalog, q)?);
    }
    drop(catalog);
    // What was planted.
    let planted = [(ten_images, "Q1 planted"), (size.images(), "Q2 planted")];
    for (s, (n, what)) in series.iter().zip(planted) {
        bad.check(what, "images", s.answer.images, n);
        bad.check(what, "component versions", s.answer.component_versions, n);
    }
    bad.check(
        "Q3",
        "depth of the deepest dependent below the minimum",
        series[2].deepest.min(MIN_DEEP_LEVELS) as usize,
        MIN_DEEP_LEVELS as usize,
    );
    let want: Vec<Answer> = series.iter().map(|s| s.answer.clone()).collect();

    rows.push(Row::once(
        format!("in-process: fold {} events (apply_all)", log.len()),
        format!(
            "{:.2} s ({:.0} events/s); the {} SBOMs {:.2} s ({:.1}M BOM edges/s); {nodes} nodes, \
             {graph_edges} edges, {index_edges} BOM edges",
            fold.as_secs_f64(),
            per_s(log.len(), fold),
            size.images(),
            fold_sboms.as_secs_f64(),
            per_s(index_edges, fold_sboms) / 1e6
        ),
        String::new(),
    ));
    let bytes_per_edge = index_bytes as f64 / index_edges.max(1) as f64;
    let rss_per_edge = rss_before
        .zip(rss_after)
        .map(|(b, a)| a.saturating_sub(b) as f64 * 1024.0 / index_edges.max(1) as f64);
    rows.push(Row::once(
        "memory per BOM edge: Catalog::bom_index_bytes".to_string(),
        format!(
            "{bytes_per_edge:.1} B/edge ({:.0} MiB / {index_edges})",
            index_bytes as f64 / 1048576.0
        ),
        verdict(large, "<= 40 B", bytes_per_edge <= AIM_BYTES_PER_EDGE),
    ));
    rows.push(Row::once(
        "memory per BOM edge: process RSS growth while folding the SBOMs".to_string(),
        format!(
            "{} B/edge ({} -> {}; mimalloc; includes the package/entry tables)",
            rss_per_edge.map_or("?".to_string(), |b| format!("{b:.1}")),
            mib(rss_before),
            mib(rss_after)
        ),
        verdict(
            large,
            "<= 40 B",
            rss_per_edge.is_some_and(|b| b <= AIM_BYTES_PER_EDGE),
        ),
    ));
    for ((q, s), d) in questions.iter().zip(&series).zip(&describe) {
        let aim = match q.label {
            "Q1" => verdict(large, "p50 <= 2 ms", s.total.p(0.5) <= AIM_Q1_P50),
            "Q2" => verdict(large, "p50 <= 300 ms", s.total.p(0.5) <= AIM_Q2_P50),
            _ => String::new(),
        };
        rows.push(Row::latency(
            format!(
                "in-process {}: blast_radius + totals + first {PAGE} of each group; {d}",
                q.label
            ),
            &s.total,
            format!(
                "walk p50 {} ms, pages p50 {} ms; {}{}",
                ms(s.walk.p(0.5)),
                ms(s.pages.p(0.5)),
                s.answer.brief(),
                if q.label == "Q3" {
                    format!("; deepest dependent {} hops", s.deepest)
                } else {
                    String::new()
                }
            ),
            aim,
        ));
    }

    if a.core_only {
        return print_report(&Report {
            setup: &setup,
            rows: &rows,
            notes: &[
                format!("graph invariants (Catalog::verify): {verify}"),
                "--core-only: no store, replay, snapshot, PostgreSQL or HTTP".to_string(),
            ],
            cores,
            load_before: &load_before,
            total,
            bad: &bad,
        });
    }

    // --- the event log into a fresh SQLite store, and the graph rebuilt from it
    let dir = TempDir::new("bench-graph")?;
    let db = dir.path().join("catalog.db");
    let db_url = db
        .to_str()
        .ok_or_else(|| anyhow!("database path is not UTF-8"))?
        .to_string();
    eprintln!("sqlite: import_log of {} events into {db_url}", log.len());
    let store = Store::open(&db_url, 2)?;
    let mut import = Duration::ZERO;
    let mut imported = 0;
    for r in chunks(0..log.len(), LOG_PAGE) {
        let events = log.events(r);
        let t = Instant::now();
        imported += store.import_log(&events)?;
        import += t.elapsed();
    }
    if imported != log.len() {
        bail!("import_log took {imported} events of {}", log.len());
    }
    let db_bytes = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0)
        + std::fs::metadata(dir.path().join("catalog.db-wal"))
            .map(|m| m.len())
            .unwrap_or(0);
    rows.push(Row::once(
        format!("SQLite: Store::import_log, {LOG_PAGE} events per transaction"),
        format!(
            "{:.2} s ({:.0} events/s); {:.0} MB on disk",
            import.as_secs_f64(),
            per_s(imported, import),
            db_bytes as f64 / 1e6
        ),
        String::new(),
    ));
    // --- the server's start-up with no snapshot: a full replay of the log (snapshots off)
    if a.http && !a.core_only {
        eprintln!("http: catalog serve on the imported log, no snapshot (a full replay)");
        let (server, ready) = Server::start(
            &db,
            dir.path(),
            &["--snapshot-every-events", "0", "--snapshot-every", "0"],
        )?;
        let rss = rss_kib(&server.child.id().to_string());
        rows.push(Row::once(
            "HTTP: catalog serve start-up with no snapshot, spawn to /readyz (full replay)"
                .to_string(),
            format!(
                "{:.2} s ({:.0} events/s); RSS {} when ready",
                ready.as_secs_f64(),
                per_s(log.len(), ready),
                mib(rss)
            ),
            verdict(large, "<= 30 s", ready <= AIM_REPLAY),
        ));
        drop(server);
    }

    // --- in-process: the same replay, as start-up does it (GraphSync::load: pages read and
    // parsed on one thread while the other folds), and on one thread as it was done before
    eprintln!("replay: GraphSync::load, no snapshot");
    let shared = std::sync::Arc::new(std::sync::RwLock::new(Catalog::new()));
    let sync = catalog_ingest::sync::GraphSync::new(store.clone(), shared.clone());
    let t = Instant::now();
    let report = sync.load()?;
    let replay = t.elapsed();
    if report.replayed != log.len() || report.snapshot.is_some() {
        bail!(
            "replayed {} events of {} ({report:?})",
            report.replayed,
            log.len()
        );
    }
    let rebuilt = std::mem::take(&mut *shared.write().map_err(|_| anyhow!("poisoned"))?);
    drop(sync);
    bad.compare_all(
        "replayed from the store",
        &questions,
        &answers(&rebuilt, &questions)?,
        &want,
    );
    rows.push(Row::once(
        format!(
            "full replay in-process: GraphSync::load, no snapshot, {} events",
            log.len()
        ),
        format!(
            "{:.2} s ({:.0} events/s, {:.2}M BOM edges/s)",
            replay.as_secs_f64(),
            per_s(log.len(), replay),
            per_s(w.edges(), replay) / 1e6
        ),
        verdict(large, "<= 30 s", replay <= AIM_REPLAY),
    ));
    eprintln!("replay [baseline]: events_page({LOG_PAGE}) + apply_all per page, one thread");
    let mut serial = Catalog::new();
    let (mut read, mut apply) = (Duration::ZERO, Duration::ZERO);
    let mut after = 0;
    let t = Instant::now();
    loop {
        let r = Instant::now();
        let page = store.events_page(LOG_PAGE as i64, after, None)?;
        read += r.elapsed();
        let Some(last) = page.last() else { break };
        after = last.seq;
        let r = Instant::now();
        serial.apply_all(&page);
        apply += r.elapsed();
    }
    let serial_took = t.elapsed();
    drop(serial);
    rows.push(Row::once(
        format!("[baseline] replay on one thread: events_page({LOG_PAGE}) + apply_all"),
        format!(
            "{:.2} s: read + JSON {:.2} s, fold {:.2} s (the pipeline is {:.1}x faster)",
            serial_took.as_secs_f64(),
            read.as_secs_f64(),
            apply.as_secs_f64(),
            serial_took.as_secs_f64() / replay.as_secs_f64().max(1e-9)
        ),
        String::new(),
    ));

    // --- snapshots: encode, store, read back and decode
    eprintln!("snapshot: encode, write, read back, decode");
    let breakdown = rebuilt.snapshot_breakdown();
    let t = Instant::now();
    let bytes = rebuilt.snapshot().map_err(|e| anyhow!("{e}"))?;
    let encode = t.elapsed();
    let t = Instant::now();
    let meta = match store.snapshot_write(rebuilt.last_seq(), &bytes)? {
        catalog_schema::SnapshotWrite::Written(m) => m,
        catalog_schema::SnapshotWrite::Busy => bail!("the snapshot writer's lock is taken"),
    };
    let write = t.elapsed();
    let snapshot_bytes = bytes.len();
    drop(bytes);
    drop(rebuilt);
    let rss_before_decode = rss_kib("self");
    let t = Instant::now();
    let read_back = store.snapshot_read(&meta)?;
    let restored = Catalog::from_snapshot(&read_back).map_err(|e| anyhow!("{e}"))?;
    let decode = t.elapsed();
    drop(read_back);
    let rss_after_decode = rss_kib("self");
    bad.compare_all(
        "restored from a snapshot",
        &questions,
        &answers(&restored, &questions)?,
        &want,
    );
    drop(restored);
    drop(store);
    rows.push(Row::once(
        "snapshot: size".to_string(),
        format!(
            "{:.1} MB, {:.2} B per BOM edge ({} parts): {}",
            snapshot_bytes as f64 / 1e6,
            snapshot_bytes as f64 / w.edges().max(1) as f64,
            meta.parts,
            breakdown
                .iter()
                .map(|(what, n)| format!("{what} {:.1} MB", *n as f64 / 1e6))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        String::new(),
    ));
    rows.push(Row::once(
        "snapshot: write (encode under the graph's read lock, then the store, in parts)"
            .to_string(),
        format!(
            "encode {:.2} s, store {:.2} s",
            encode.as_secs_f64(),
            write.as_secs_f64()
        ),
        String::new(),
    ));
    rows.push(Row::once(
        "snapshot: read back + verify checksum + decode, in-process".to_string(),
        format!(
            "{:.2} s; RSS {} -> {} (this process holds the workload too)",
            decode.as_secs_f64(),
            mib(rss_before_decode),
            mib(rss_after_decode)
        ),
        String::new(),
    ));

    // --- PostgreSQL: the same data in the baseline's current-state tables, a recursive CTE
    let pg_note = if a.pg {
        match PgDatabase::create() {
            Ok(pgdb) => {
                use diesel::Connection;
                eprintln!(
                    "postgres: migrating {} and bulk-loading the tables",
                    pgdb.name
                );
                // The harness's own tables (the store keeps none such).
                drop(Baseline::create(&pgdb.url)?);
                let (loaded, analyzed, n) = pg_load(&pgdb.url, &w, &log)?;
                rows.push(Row::once(
                    format!("PostgreSQL: COPY {n} rows into the baseline's tables"),
                    format!(
                        "{:.1} s (image_packages indexes rebuilt after), ANALYZE {:.1} s",
                        loaded.as_secs_f64(),
                        analyzed.as_secs_f64()
                    ),
                    String::new(),
                ));
                let mut baseline = Baseline::connect(&pgdb.url)?;
                let mut c = diesel::PgConnection::establish(&pgdb.url)?;
                let runs = if large { 20 } else { 50 };
                for (k, (q, d)) in questions.iter().zip(&describe).enumerate() {
                    eprintln!(
                        "postgres: {} ({d}), up to {runs} runs of each query",
                        q.label
                    );
                    let graph = series[k].total.p(0.5);
                    let speedup =
                        |t: &Timings| t.p(0.5).as_secs_f64() / graph.as_secs_f64().max(1e-9);
                    let s = sql_series(runs, || baseline_blast(&mut baseline, q))?;
                    bad.compare(
                        &format!("PostgreSQL blast_radius_sql {}", q.label),
                        &s.answer,
                        &want[k],
                    );
                    rows.push(Row::latency(
                        format!(
                            "PostgreSQL {}: Baseline::blast_radius_sql, every row [baseline]",
                            q.label
                        ),
                        &s.timings,
                        format!("the graph is {:.0}x faster (p50)", speedup(&s.timings)),
                        if k == 0 {
                            verdict(
                                large,
                                "graph >= 100x faster",
                                speedup(&s.timings) >= AIM_Q1_VS_SQL,
                            )
                        } else {
                            String::new()
                        },
                    ));
                    let s = sql_series(runs, || sql_blast(&mut c, q))?;
                    bad.compare(
                        &format!("PostgreSQL counts-only CTE {}", q.label),
                        &s.answer,
                        &want[k],
                    );
                    rows.push(Row::latency(
                        format!(
                            "PostgreSQL {}: recursive CTE, counts + component names only",
                            q.label
                        ),
                        &s.timings,
                        format!("the graph is {:.0}x faster (p50)", speedup(&s.timings)),
                        String::new(),
                    ));
                }
                drop(baseline);
                drop(c);
                drop(pgdb);
                "PostgreSQL: answers compared with the graph's (images, component versions, the \
                 component set, applications, owners)"
                    .to_string()
            }
            Err(e) => format!("PostgreSQL baseline skipped: {e:#}"),
        }
    } else {
        "PostgreSQL baseline skipped: --no-pg".to_string()
    };

    // --- over HTTP: the real binary on the SQLite file, rebuilding at start-up
    let http_note = if a.http {
        eprintln!("http: catalog serve on the same file, from the snapshot");
        let (server, ready) = Server::start(&db, dir.path(), &[])?;
        let pid = server.child.id().to_string();
        let rss_server = rss_kib(&pid);
        let from_snapshot = server.log().contains("graph loaded from a snapshot");
        rows.push(Row::once(
            "HTTP: catalog serve start-up from the snapshot, spawn to /readyz".to_string(),
            format!(
                "{:.2} s; RSS {} when ready{}",
                ready.as_secs_f64(),
                mib(rss_server),
                if from_snapshot {
                    ""
                } else {
                    " (NOT from the snapshot: see the server log)"
                }
            ),
            verdict(
                large,
                "<= 10 s",
                from_snapshot && ready <= AIM_FROM_SNAPSHOT,
            ),
        ));
        let http = reqwest::blocking::Client::builder()
            .http1_only()
            .no_proxy()
            .timeout(Duration::from_secs(300))
            .build()?;
        let url = server.url("/graphql");
        let mut unavailable = None;
        for ((q, d), want) in questions.iter().zip(&describe).zip(&want) {
            eprintln!("http: {} ({d}), {} requests", q.label, size.http_runs);
            match http_series(&http, &url, q, want, size.http_runs, &mut bad)? {
                HttpSeries::Done(t) => rows.push(Row::latency(
                    format!("HTTP {}: GraphQL blastRadius totals", q.label),
                    &t,
                    "totals equal the graph's".to_string(),
                    String::new(),
                )),
                HttpSeries::Unavailable(why) => {
                    rows.push(Row::once(
                        format!("HTTP {}: GraphQL blastRadius totals", q.label),
                        "n/a".to_string(),
                        String::new(),
                    ));
                    unavailable = Some(why);
                }
            }
        }
        let rss_after = rss_kib(&pid);
        rows.push(Row::once(
            "HTTP: the server started from the snapshot, RSS after the queries".to_string(),
            format!("{} ({} when ready)", mib(rss_after), mib(rss_server)),
            String::new(),
        ));
        let log_text = server.log();
        drop(server);
        let errors = log_text.lines().filter(|l| l.contains("ERROR")).count();
        match unavailable {
            Some(why) => format!("HTTP blastRadius n/a: the server answered {why:?}; server log: {errors} ERROR lines"),
            None => format!("HTTP: totals equal the graph's; server log: {errors} ERROR lines"),
        }
    } else {
        "HTTP skipped: --no-http".to_string()
    };
    drop(dir);
    print_report(&Report {
        setup: &setup,
        rows: &rows,
        notes: &[
            format!("graph invariants (Catalog::verify): {verify}"),
            pg_note,
            http_note,
        ],
        cores,
        load_before: &load_before,
        total,
        bad: &bad,
    })
}

struct Report<'a> {
    setup: &'a str,
    rows: &'a [Row],
    notes: &'a [String],
    cores: usize,
    load_before: &'a str,
    total: Instant,
    bad: &'a Mismatches,
}

/// Prints the table and the notes; exits 1 when an answer disagreed.
fn print_report(r: &Report) -> Result<()> {
    println!();
    println!("bench-graph {}", r.setup);
    println!();
    println!("| measurement | n | p50 ms | p99 ms | result | aim |");
    println!("|---|---:|---:|---:|---|---|");
    for row in r.rows {
        row.print();
    }
    println!();
    for n in r.notes {
        println!("{n}");
    }
    println!(
        "cores: {} (this process, the catalog server and PostgreSQL share them); load average \
         (1 min) {} before, {} after; total run time {:.1}s",
        r.cores,
        r.load_before,
        loadavg(),
        r.total.elapsed().as_secs_f64()
    );
    if !r.bad.0.is_empty() {
        println!();
        println!("MISMATCH: {} answer(s) disagree:", r.bad.0.len());
        for m in &r.bad.0 {
            println!("  - {m}");
        }
        std::process::exit(1);
    }
    Ok(())
}
