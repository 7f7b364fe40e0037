//! The synthetic catalog of `bench-graph` and `bench-load`: a seeded workload (images with
//! SBOMs drawn from a Zipf-skewed package pool, components, owners, declared dependencies,
//! applications, live deployments) and its event log, generated on demand.

use crate::bench::Rng;
use crate::server::{free_port, ADMIN_TOKEN, INGEST_TOKEN};
use anyhow::Context;
use anyhow::{anyhow, bail, Result};
use catalog_core::deployment::{DeploymentObserved, DeploymentStatus, ImageRef, Run};
use catalog_core::entity::Contacts;
use catalog_core::event::{Event, ImageRegistered, NewEvent, RecordedEvent, SbomAttached};
use catalog_core::purl::Purl;
use catalog_core::sbom::{Sbom, SbomPackage};
use chrono::{DateTime, Duration as TimeDelta, Utc};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to rebuild its graph from the large log.
pub const READY_TIMEOUT: Duration = Duration::from_secs(1800);

pub const REGISTRY: &str = "bench.local";
/// Q1: in exactly 10% of the images.
pub const PLANTED_TEN: &str = "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1";
/// Q2: in every image.
pub const PLANTED_ALL: &str = "pkg:npm/lodash@4.17.21";
/// Zipf exponent of the package skew: rank r is drawn with weight 1 / (r + 1)^s.
pub const ZIPF_S: f64 = 1.0;
/// Versions per package in the pool.
pub const VERSIONS_PER_PACKAGE: usize = 4;
/// Events per `events_page` read and per `import_log` call (the server's own page).
pub const LOG_PAGE: usize = 1000;
pub const CLUSTERS: [(&str, &str); 6] = [
    ("prod-eu-1", "prod"),
    ("prod-us-1", "prod"),
    ("prod-ap-1", "prod"),
    ("staging-eu-1", "staging"),
    ("staging-us-1", "staging"),
    ("staging-ap-1", "staging"),
];

#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub name: &'static str,
    pub components: usize,
    /// Versions (= images) per component.
    pub versions: usize,
    /// Packages in each image's SBOM.
    pub packages: usize,
    /// Package versions the skew draws from.
    pub pool: usize,
    pub teams: usize,
    pub applications: usize,
    pub members: usize,
    pub deployments: usize,
    /// Dependency layers: a component depends on components of the layer below.
    pub layers: usize,
    /// In-process runs of Q1, Q2, Q3 (after a warm-up).
    pub runs: [usize; 3],
    pub http_runs: usize,
}

pub const SMALL: Size = Size {
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

pub const LARGE: Size = Size {
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
    pub fn images(&self) -> usize {
        self.components * self.versions
    }

    pub fn large(&self) -> bool {
        self.name == "large"
    }
}

/// A package version: its canonical purl, and the name and version an SBOM lists.
pub struct Pv {
    pub purl: String,
    pub package: String,
    pub name: String,
    pub version: String,
}

pub fn pv(purl: &str) -> Result<Pv> {
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
pub fn pool_purl(j: usize) -> String {
    let p = j / VERSIONS_PER_PACKAGE;
    let v = format!("{}.{}.{}", 1 + p % 5, j % VERSIONS_PER_PACKAGE, p % 10);
    match p % 3 {
        0 => format!("pkg:maven/org.bench.g{}/lib-{p}@{v}", p % 50),
        _ => format!("pkg:npm/pkg-{p}@{v}"),
    }
}

/// Draws pool indexes with a Zipf-like skew: rank r (a random permutation of the pool) with
/// weight 1 / (r + 1)^s.
pub struct Zipf {
    pub cdf: Vec<f64>,
    pub perm: Vec<u32>,
}

impl Zipf {
    pub fn new(n: usize, rng: &mut Rng) -> Zipf {
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

    pub fn draw(&self, rng: &mut Rng) -> u32 {
        let total = self.cdf.last().copied().unwrap_or(1.0);
        let u = rng.unit() * total;
        let r = self
            .cdf
            .partition_point(|c| *c < u)
            .min(self.perm.len() - 1);
        self.perm[r]
    }
}

pub struct Component {
    pub name: String,
    pub team: usize,
}

pub struct Application {
    pub name: String,
    pub members: Vec<usize>,
    pub owner: Option<usize>,
}

pub struct Deployment {
    pub cluster: usize,
    pub component: usize,
    pub version: usize,
}

pub struct Workload {
    pub size: Size,
    pub seed: u64,
    /// The pool, then PLANTED_TEN, then PLANTED_ALL (never drawn by the skew).
    pub pvs: Vec<Pv>,
    pub components: Vec<Component>,
    /// Image i is version i % versions of component i / versions.
    pub digests: Vec<String>,
    /// Image i's SBOM: package version ids and depths at [i * packages, (i + 1) * packages).
    pub boms: Vec<u32>,
    pub depths: Vec<u8>,
    pub in_ten: Vec<bool>,
    /// (from, to): `from` depends on `to`.
    pub dependencies: Vec<(usize, usize)>,
    pub deep: usize,
    pub applications: Vec<Application>,
    pub deployments: Vec<Deployment>,
    /// Distinct package versions the skew used.
    pub distinct: usize,
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

impl Workload {
    pub fn generate(size: Size, seed: u64) -> Result<Workload> {
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

    pub fn tag(&self, image: usize) -> String {
        format!("1.{}.0", image % self.size.versions)
    }

    pub fn component_of(&self, image: usize) -> &Component {
        &self.components[image / self.size.versions]
    }

    pub fn bom(&self, image: usize) -> Range<usize> {
        image * self.size.packages..(image + 1) * self.size.packages
    }

    pub fn edges(&self) -> usize {
        self.boms.len()
    }

    pub fn ten_count(&self) -> usize {
        self.in_ten.iter().filter(|t| **t).count()
    }
}

/// The event log: the small events in memory, then one `sbom.attached` per image made on
/// demand (their SBOM entries would not fit in memory as objects at the large size).
///
/// Order: team contacts, owners, dependencies, image registrations, applications, live
/// deployments, then the SBOMs (so the memory they add to the graph is measured alone).
pub struct Log<'a> {
    pub w: &'a Workload,
    pub head: Vec<NewEvent>,
    pub start: DateTime<Utc>,
}

impl<'a> Log<'a> {
    pub fn new(w: &'a Workload) -> Result<Log<'a>> {
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
                        traffic: None,
                        track: None,
                    }],
                    revision: None,
                    url: None,
                }),
            );
        }
        Ok(log)
    }

    /// When the event at position `p` happened: one second apart, in log order.
    pub fn at(&self, p: usize) -> DateTime<Utc> {
        self.start + TimeDelta::seconds(p as i64)
    }

    pub fn len(&self) -> usize {
        self.head.len() + self.w.digests.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Where the SBOM events start.
    pub fn sboms_from(&self) -> usize {
        self.head.len()
    }

    /// The digest of image `image`'s SBOM document, and the event's key.
    pub fn sbom_document(&self, image: usize) -> (String, String) {
        let doc = format!(
            "sha256:{}",
            sha256_hex(format!("bench-graph {} sbom {image}", self.w.seed).as_bytes())
        );
        let key = format!("sbom:{}:{doc}", self.w.digests[image]);
        (doc, key)
    }

    pub fn sbom(&self, image: usize) -> NewEvent {
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
    pub fn events(&self, r: Range<usize>) -> Vec<NewEvent> {
        r.map(|p| match self.head.get(p) {
            Some(e) => e.clone(),
            None => self.sbom(p - self.head.len()),
        })
        .collect()
    }

    /// The events at positions `r` as the log records them (seq = position + 1).
    pub fn recorded(&self, r: Range<usize>, now: DateTime<Utc>) -> Vec<RecordedEvent> {
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
pub fn chunks(r: Range<usize>, step: usize) -> impl Iterator<Item = Range<usize>> {
    (r.start..r.end)
        .step_by(step.max(1))
        .map(move |s| s..(s + step).min(r.end))
}

/// `catalog serve` on an existing SQLite file (the log imported with `Store::import_log`).
pub struct Server {
    pub child: Child,
    pub port: u16,
    dir: std::path::PathBuf,
}

impl Server {
    /// Starts `catalog serve` on an existing SQLite file and waits for `/readyz`; returns the
    /// time from spawn to ready (the start-up rebuild of the graph from the log).
    pub fn start(
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
        let child = Command::new(crate::server::binary()?)
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

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
