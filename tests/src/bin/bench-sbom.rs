//! SBOM benchmark: CycloneDX 1.5 documents (500 components each, drawn with a Zipf-like skew
//! from a pool of ~20,000 package versions across maven, npm, pypi, golang and deb) posted to
//! `/hooks/sbom` of the real `catalog` binary; then "which images contain log4j-core" over
//! GraphQL, against the same question answered in-process from the graph and by SQL alone
//! (`Baseline::package_images_sql`, over tables the harness builds from the events the server
//! recorded) in SQLite and in PostgreSQL.
//!
//! ```text
//! cargo build --release --workspace && \
//!   cargo run --release -p catalog-tests --bin bench-sbom -- [--sboms 1000] [--components 500] \
//!     [--concurrency 8] [--iterations 200] [--seed 42] [--no-pg] [--no-restart]
//! ```
//!
//! `BENCH_SBOMS=100` (or `--sboms 100`) makes a quick smoke run. The workload is deterministic
//! (a seeded xorshift): `pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1` is planted in
//! every 10th document (10%), `@2.17.1` in another 5%, at depth 1, 2 or 3 in turn.
//!
//! The same documents are also written as CycloneDX 1.7 and as SPDX 3.0.1 JSON-LD, parsed on
//! one thread and posted to a fresh catalog each; a table puts their SBOMs/s beside the
//! CycloneDX 1.5 figures of the same run.
//!
//! Floors measured in the same run: the server's own parser (`catalog_ingest::sbom::parse`)
//! on one thread, and serde_json merely scanning the same bytes; `{ __typename }` over HTTP.

use actix_web::web::Bytes;
use anyhow::{anyhow, bail, Context, Result};
use catalog_core::event::{NewEvent, RecordedEvent};
use catalog_core::purl::Purl;
use catalog_core::{Catalog, Event};
use catalog_ingest::hooks::sbom as sbom_hook;
use catalog_schema::{Durability, Store};
use catalog_tests::baseline::Baseline;
use catalog_tests::bench::{catalog_pid, cpu_time, loadavg, metric, percentile, Rng};
use catalog_tests::registry::TempDir;
use catalog_tests::server::{PgDatabase, INGEST_TOKEN};
use catalog_tests::synthetic::{Zipf, ZIPF_S};
use catalog_tests::{CatalogServer, ServerOpts};
use chrono::Utc;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const MARKER: &str = "pkg:maven/org.apache.logging.log4j/log4j-core";
const MARKER_OLD: &str = "2.14.1";
const MARKER_NEW: &str = "2.17.1";
const RANGE: &str = "vers:maven/>=2.0.0|<2.15.0";
/// Package versions the documents draw from.
const POOL: usize = 20_000;
/// Direct dependencies of each image.
const DIRECT: usize = 30;
/// Share of the non-direct components at depth 2 (the rest at depth 3).
const DEPTH2_PERCENT: usize = 35;
/// Events per `Store::record` call when loading a store directly (the worker's chunk).
const CHUNK: usize = 8;
/// Calls before each timed series.
const WARMUP: usize = 20;
const POLL: Duration = Duration::from_millis(100);
const RECORDED_TIMEOUT: Duration = Duration::from_secs(900);
/// Aims from the issue.
const AIM_SBOMS_PER_S: f64 = 100.0;
const DEPENDENCY_TRACK_COMPONENTS_PER_S: f64 = 3_500.0;

const USAGE: &str = "usage: bench-sbom [--sboms 1000] [--components 500] [--concurrency 8] \
[--iterations 200] [--seed 42] [--no-pg] [--no-restart]   (env BENCH_SBOMS sets the default of --sboms)";

struct Args {
    sboms: usize,
    components: usize,
    concurrency: usize,
    iterations: usize,
    seed: u64,
    pg: bool,
    restart: bool,
}

fn parse_args() -> Result<Args> {
    let sboms = match std::env::var("BENCH_SBOMS") {
        Ok(v) => v
            .parse()
            .with_context(|| format!("BENCH_SBOMS={v:?}: expected a positive integer"))?,
        Err(_) => 1000,
    };
    let mut a = Args {
        sboms,
        components: 500,
        concurrency: 8,
        iterations: 200,
        seed: 42,
        pg: true,
        restart: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| -> Result<usize> {
            let v = it.next().ok_or_else(|| anyhow!("{name} needs a value"))?;
            v.parse()
                .with_context(|| format!("{name} {v:?}: expected a non-negative integer"))
        };
        match flag.as_str() {
            "--sboms" => a.sboms = value("--sboms")?,
            "--components" => a.components = value("--components")?,
            "--concurrency" => a.concurrency = value("--concurrency")?,
            "--iterations" => a.iterations = value("--iterations")?,
            "--seed" => a.seed = value("--seed")? as u64,
            "--no-pg" => a.pg = false,
            "--no-restart" => a.restart = false,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?}; {USAGE}"),
        }
    }
    if a.sboms < 20 || a.components < DIRECT + 10 || a.concurrency == 0 || a.iterations == 0 {
        bail!(
            "--sboms must be at least 20, --components at least {}, the others at least 1; {USAGE}",
            DIRECT + 10
        );
    }
    if a.components > POOL / 4 {
        bail!("--components at most {}", POOL / 4);
    }
    Ok(a)
}

// ---------------------------------------------------------------------------------------------
// The workload

const WORDS: [&str; 48] = [
    "core",
    "commons",
    "http",
    "json",
    "xml",
    "log",
    "util",
    "net",
    "io",
    "crypto",
    "auth",
    "cache",
    "config",
    "data",
    "event",
    "fast",
    "graph",
    "grpc",
    "jwt",
    "kafka",
    "lang",
    "math",
    "metrics",
    "mock",
    "orm",
    "parser",
    "pool",
    "proto",
    "queue",
    "redis",
    "rest",
    "retry",
    "rpc",
    "schema",
    "sdk",
    "security",
    "serde",
    "sql",
    "stream",
    "sync",
    "test",
    "text",
    "time",
    "trace",
    "uuid",
    "validator",
    "web",
    "yaml",
];
const ORGS: [&str; 10] = [
    "acme",
    "example",
    "fasterxml",
    "eclipse",
    "springframework",
    "netflix",
    "square",
    "google",
    "jboss",
    "hibernate",
];
const SCOPES: [&str; 8] = [
    "babel", "types", "aws-sdk", "angular", "nestjs", "vue", "emotion", "octokit",
];
const LICENSES: [&str; 7] = [
    "Apache-2.0",
    "MIT",
    "BSD-3-Clause",
    "ISC",
    "MPL-2.0",
    "BSD-2-Clause",
    "EPL-2.0",
];
const DEB_LICENSES: [&str; 3] = ["GPL-2.0-only", "LGPL-2.1-or-later", "GPL-3.0-or-later"];

/// One package version of the pool, ready to be written into a document.
struct Pkg {
    purl: String,
    group: Option<String>,
    name: String,
    version: String,
    license: &'static str,
    sha256: String,
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Two words for the k-th package of an ecosystem (unique per k).
fn words(k: usize, sep: &str) -> String {
    let n = WORDS.len();
    let base = format!("{}{sep}{}", WORDS[k % n], WORDS[(k / n) % n]);
    match k / (n * n) {
        0 => base,
        g => format!("{base}{g}"),
    }
}

fn pkg(
    purl: String,
    group: Option<String>,
    name: String,
    version: String,
    license: &'static str,
) -> Pkg {
    let sha256 = sha256_hex(purl.as_bytes());
    Pkg {
        purl,
        group,
        name,
        version,
        license,
        sha256,
    }
}

/// ~20,000 package versions: packages of 1 to 6 versions, 30% maven, 30% npm, 15% pypi, 10%
/// golang, 15% deb.
fn make_pool(rng: &mut Rng) -> Vec<Pkg> {
    let mut out = Vec::with_capacity(POOL + 8);
    let mut per_eco = [0usize; 5];
    let mut p = 0usize;
    while out.len() < POOL {
        let eco = match p % 20 {
            0..=5 => 0,
            6..=11 => 1,
            12..=14 => 2,
            15..=16 => 3,
            _ => 4,
        };
        let k = per_eco[eco];
        per_eco[eco] += 1;
        p += 1;
        let versions = 1 + rng.below(6);
        let (mut major, mut minor, mut patch) = (rng.below(6), rng.below(20), rng.below(12));
        let license = LICENSES[rng.below(LICENSES.len())];
        for _ in 0..versions {
            let v = format!("{major}.{minor}.{patch}");
            out.push(match eco {
                0 => {
                    let group = format!(
                        "org.{}.{}",
                        ORGS[k % ORGS.len()],
                        WORDS[(k / 7) % WORDS.len()]
                    );
                    let name = words(k, "-");
                    pkg(
                        format!("pkg:maven/{group}/{name}@{v}"),
                        Some(group),
                        name,
                        v,
                        license,
                    )
                }
                1 if k % 3 == 0 => {
                    let scope = SCOPES[k % SCOPES.len()];
                    let name = words(k, "-");
                    pkg(
                        format!("pkg:npm/%40{scope}/{name}@{v}"),
                        Some(format!("@{scope}")),
                        name,
                        v,
                        license,
                    )
                }
                1 => {
                    let name = words(k, "-");
                    pkg(format!("pkg:npm/{name}@{v}"), None, name, v, license)
                }
                2 => {
                    let name = words(k, "-");
                    pkg(format!("pkg:pypi/{name}@{v}"), None, name, v, license)
                }
                3 => {
                    let org = ORGS[k % ORGS.len()];
                    let repo = words(k, "-");
                    let name = format!("github.com/{org}/{repo}");
                    let v = format!("v{v}");
                    pkg(format!("pkg:golang/{name}@{v}"), None, name, v, license)
                }
                _ => {
                    let name = format!("lib{}{}", words(k, ""), major.max(1));
                    let v = format!(
                        "{major}.{minor}.{patch}-{}~deb12u{}",
                        1 + k % 3,
                        1 + patch % 4
                    );
                    let arch = if k % 5 == 0 { "all" } else { "amd64" };
                    pkg(
                        format!("pkg:deb/debian/{name}@{v}?arch={arch}"),
                        None,
                        name,
                        v,
                        DEB_LICENSES[k % DEB_LICENSES.len()],
                    )
                }
            });
            // The next version: mostly a patch, sometimes a minor, rarely a major.
            match rng.below(10) {
                0 => (major, minor, patch) = (major + 1, 0, 0),
                1..=3 => (minor, patch) = (minor + 1, 0),
                _ => patch += 1 + rng.below(3),
            }
        }
    }
    out.truncate(POOL);
    out
}

fn marker(version: &str) -> Pkg {
    pkg(
        format!("{MARKER}@{version}"),
        Some("org.apache.logging.log4j".to_string()),
        "log4j-core".to_string(),
        version.to_string(),
        "Apache-2.0",
    )
}

/// Which marker (if any) document `i` carries, and at which depth (1, 2 or 3).
fn planted(i: usize) -> Option<(&'static str, usize)> {
    let depth = 1 + (i / 10) % 3;
    if i.is_multiple_of(10) {
        Some((MARKER_OLD, depth))
    } else if i % 20 == 5 {
        Some((MARKER_NEW, depth))
    } else {
        None
    }
}

fn image_digest(seed: u64, i: usize) -> String {
    format!(
        "sha256:{}",
        sha256_hex(format!("bench-sbom image {seed} {i}").as_bytes())
    )
}

fn component_json(p: &Pkg) -> Value {
    let mut c = json!({
        "type": "library",
        "bom-ref": p.purl,
        "name": p.name,
        "version": p.version,
        "purl": p.purl,
        "licenses": [{"license": {"id": p.license}}],
        "hashes": [{"alg": "SHA-256", "content": p.sha256}],
    });
    if let (Some(g), Some(o)) = (&p.group, c.as_object_mut()) {
        o.insert("group".to_string(), json!(g));
    }
    c
}

/// What documents are drawn from.
struct Source {
    pool: Vec<Pkg>,
    zipf: Zipf,
    markers: [Pkg; 2],
}

/// Document `i`: `components` entries (the marker among them when planted), the subject
/// depending on DIRECT of them, those on the depth-2 ones, those on the rest.
fn document(
    i: usize,
    digest: &str,
    components: usize,
    src: &Source,
    rng: &mut Rng,
    used: &mut HashSet<usize>,
) -> Result<Bodies> {
    let plant = planted(i);
    let want = components - usize::from(plant.is_some());
    let mut seen = HashSet::with_capacity(want * 2);
    let mut chosen: Vec<&Pkg> = Vec::with_capacity(components);
    while chosen.len() < want {
        let k = src.zipf.draw(rng) as usize;
        if seen.insert(k) {
            chosen.push(&src.pool[k]);
            used.insert(k);
        }
    }
    rng.shuffle(&mut chosen);
    let d2_end = DIRECT + (components - DIRECT) * DEPTH2_PERCENT / 100;
    if let Some((version, depth)) = plant {
        let m = if version == MARKER_OLD {
            &src.markers[0]
        } else {
            &src.markers[1]
        };
        let at = match depth {
            1 => rng.below(DIRECT),
            2 => DIRECT + rng.below(d2_end - DIRECT),
            _ => d2_end + rng.below(components - d2_end),
        };
        chosen.insert(at, m);
    }
    // Parents: depth 2 hang off a direct component, depth 3 off a depth-2 one; a fifth of
    // the depth-3 ones have a second depth-2 parent.
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); components];
    for (j, _) in chosen.iter().enumerate().skip(DIRECT) {
        if j < d2_end {
            children[rng.below(DIRECT)].push(j);
        } else {
            let a = DIRECT + rng.below(d2_end - DIRECT);
            children[a].push(j);
            if rng.below(5) == 0 {
                let b = DIRECT + rng.below(d2_end - DIRECT);
                if b != a {
                    children[b].push(j);
                }
            }
        }
    }
    let mut dependencies = Vec::with_capacity(components + 1);
    dependencies.push(json!({
        "ref": "image",
        "dependsOn": chosen[..DIRECT].iter().map(|p| p.purl.as_str()).collect::<Vec<_>>(),
    }));
    for (j, p) in chosen.iter().enumerate() {
        dependencies.push(json!({
            "ref": p.purl,
            "dependsOn": children[j].iter().map(|c| chosen[*c].purl.as_str()).collect::<Vec<_>>(),
        }));
    }
    Ok(Bodies {
        cdx15: cyclonedx(i, digest, "1.5", &chosen, &dependencies)?,
        cdx17: cyclonedx(i, digest, "1.7", &chosen, &dependencies)?,
        spdx3: spdx3(i, digest, &chosen, &children)?,
    })
}

/// One drawn document in each format measured: the same components and edges.
struct Bodies {
    cdx15: Bytes,
    cdx17: Bytes,
    spdx3: Bytes,
}

fn cyclonedx(
    i: usize,
    digest: &str,
    spec_version: &str,
    chosen: &[&Pkg],
    dependencies: &[Value],
) -> Result<Bytes> {
    let serial = sha256_hex(format!("serial {digest}").as_bytes());
    let doc = json!({
        "bomFormat": "CycloneDX",
        "specVersion": spec_version,
        "serialNumber": format!(
            "urn:uuid:{}-{}-{}-{}-{}",
            &serial[0..8], &serial[8..12], &serial[12..16], &serial[16..20], &serial[20..32]
        ),
        "version": 1,
        "metadata": {
            "timestamp": "2026-11-20T10:00:00Z",
            "tools": {"components": [{"type": "application", "name": "bench-sbom", "version": "1.0.0"}]},
            "component": {
                "type": "container",
                "bom-ref": "image",
                "name": format!("registry.example.com/team{}/app{i}", i % 12),
                "version": digest,
            },
        },
        "components": chosen.iter().map(|p| component_json(p)).collect::<Vec<_>>(),
        "dependencies": dependencies,
    });
    Ok(Bytes::from(serde_json::to_vec(&doc)?))
}

/// The same document as SPDX 3.0.1 JSON-LD, shaped as producers write it: one element per
/// package (purl, SHA-256), the image as the document's root element, one `dependsOn`
/// relationship per package with dependencies, and licenses as `hasDeclaredLicense`
/// relationships to one license-expression element per license.
fn spdx3(i: usize, digest: &str, chosen: &[&Pkg], children: &[Vec<usize>]) -> Result<Bytes> {
    let ns = format!("urn:bench-sbom:{}", &digest["sha256:".len()..]);
    let id = |local: &str| format!("{ns}#{local}");
    let mut graph = Vec::with_capacity(chosen.len() * 3 + 4);
    graph.push(json!({
        "type": "CreationInfo", "@id": "_:creationinfo", "specVersion": "3.0.1",
        "created": "2026-11-20T10:00:00Z", "createdBy": ["urn:bench-sbom:tool"],
    }));
    graph.push(json!({
        "type": "SpdxDocument", "spdxId": id("document"), "creationInfo": "_:creationinfo",
        "rootElement": [id("image")], "profileConformance": ["core", "software", "simpleLicensing"],
    }));
    graph.push(json!({
        "type": "software_Package", "spdxId": id("image"), "creationInfo": "_:creationinfo",
        "name": format!("registry.example.com/team{}/app{i}", i % 12),
        "software_packageVersion": digest, "software_primaryPurpose": "container",
    }));
    let mut licenses: BTreeMap<&str, String> = BTreeMap::new();
    for (j, p) in chosen.iter().enumerate() {
        let name = match &p.group {
            Some(g) => format!("{g}/{}", p.name),
            None => p.name.clone(),
        };
        graph.push(json!({
            "type": "software_Package", "spdxId": id(&format!("pkg-{j}")),
            "creationInfo": "_:creationinfo", "name": name,
            "software_packageVersion": p.version, "software_packageUrl": p.purl,
            "verifiedUsing": [{"type": "Hash", "algorithm": "sha256", "hashValue": p.sha256}],
        }));
        let lic = licenses
            .entry(p.license)
            .or_insert_with(|| id(&format!("license-{}", p.license)))
            .clone();
        graph.push(json!({
            "type": "Relationship", "spdxId": id(&format!("rel-lic-{j}")),
            "creationInfo": "_:creationinfo", "from": id(&format!("pkg-{j}")), "to": [lic],
            "relationshipType": "hasDeclaredLicense",
        }));
    }
    for (license, lid) in &licenses {
        graph.push(json!({
            "type": "simplelicensing_LicenseExpression", "spdxId": lid,
            "creationInfo": "_:creationinfo", "simplelicensing_licenseExpression": license,
        }));
    }
    graph.push(json!({
        "type": "Relationship", "spdxId": id("rel-image"), "creationInfo": "_:creationinfo",
        "from": id("image"), "relationshipType": "dependsOn",
        "to": (0..DIRECT).map(|j| id(&format!("pkg-{j}"))).collect::<Vec<_>>(),
    }));
    for (j, c) in children.iter().enumerate().filter(|(_, c)| !c.is_empty()) {
        graph.push(json!({
            "type": "Relationship", "spdxId": id(&format!("rel-{j}")),
            "creationInfo": "_:creationinfo", "from": id(&format!("pkg-{j}")),
            "relationshipType": "dependsOn",
            "to": c.iter().map(|k| id(&format!("pkg-{k}"))).collect::<Vec<_>>(),
        }));
    }
    let doc =
        json!({"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": graph});
    Ok(Bytes::from(serde_json::to_vec(&doc)?))
}

struct Workload {
    bodies: Vec<Bytes>,
    /// The same documents as CycloneDX 1.7 and as SPDX 3.0.1.
    cdx17: Vec<Bytes>,
    spdx3: Vec<Bytes>,
    digests: Vec<String>,
    /// Images planted with 2.14.1, and with 2.17.1.
    old: BTreeSet<String>,
    new: BTreeSet<String>,
    /// Distinct package versions over all documents.
    distinct: usize,
}

fn generate(a: &Args) -> Result<Workload> {
    let mut rng = Rng::new(a.seed);
    let pool = make_pool(&mut rng);
    let zipf = Zipf::new(pool.len(), &mut rng);
    let src = Source {
        pool,
        zipf,
        markers: [marker(MARKER_OLD), marker(MARKER_NEW)],
    };
    let mut bodies = Vec::with_capacity(a.sboms);
    let mut cdx17 = Vec::with_capacity(a.sboms);
    let mut spdx3 = Vec::with_capacity(a.sboms);
    let mut digests = Vec::with_capacity(a.sboms);
    let (mut old, mut new) = (BTreeSet::new(), BTreeSet::new());
    // How skewed it came out: distinct package versions used.
    let mut used = HashSet::new();
    for i in 0..a.sboms {
        let digest = image_digest(a.seed, i);
        let b = document(i, &digest, a.components, &src, &mut rng, &mut used)?;
        bodies.push(b.cdx15);
        cdx17.push(b.cdx17);
        spdx3.push(b.spdx3);
        match planted(i) {
            Some((MARKER_OLD, _)) => old.insert(digest.clone()),
            Some(_) => new.insert(digest.clone()),
            None => false,
        };
        digests.push(digest);
    }
    Ok(Workload {
        bodies,
        cdx17,
        spdx3,
        digests,
        old,
        new,
        distinct: used.len(),
    })
}

// ---------------------------------------------------------------------------------------------
// Measuring

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

#[derive(Default)]
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

    fn total(&self) -> Duration {
        self.latencies.iter().sum()
    }

    /// Sequential calls per second.
    fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.total().as_secs_f64().max(1e-9)
    }
}

struct Row {
    name: String,
    p50: Option<Duration>,
    p99: Option<Duration>,
    throughput: String,
}

impl Row {
    fn latency(name: String, t: &Timings, unit: &str) -> Row {
        Row {
            name: format!("{name} (n={})", t.latencies.len()),
            p50: Some(t.p(0.50)),
            p99: Some(t.p(0.99)),
            throughput: format!("{:.0} {unit}/s", t.rate()),
        }
    }

    fn print(&self) {
        let opt = |d: Option<Duration>| d.map_or("-".to_string(), ms);
        println!(
            "| {} | {} | {} | {} |",
            self.name,
            opt(self.p50),
            opt(self.p99),
            self.throughput
        );
    }
}

fn per_s(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(1e-9)
}

/// Per image: the matched package versions and the shallowest depth.
type Answer = BTreeMap<String, (BTreeSet<String>, Option<i64>)>;

fn graph_answer(r: &catalog_core::model::PackageReport) -> Answer {
    r.images
        .iter()
        .map(|i| {
            (
                i.image.clone(),
                (
                    i.package_versions.iter().cloned().collect(),
                    i.depth.map(i64::from),
                ),
            )
        })
        .collect()
}

fn sql_answer(rows: &[catalog_tests::baseline::PackageImageRow]) -> Answer {
    let mut out: Answer = BTreeMap::new();
    for r in rows {
        let e = out
            .entry(r.image.clone())
            .or_insert_with(|| (BTreeSet::new(), r.depth.map(i64::from)));
        e.0.insert(r.package_version.clone());
        e.1 = match (e.1, r.depth.map(i64::from)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    out
}

fn compare(what: &str, got: &Answer, want: &Answer) -> Result<()> {
    if got != want {
        let missing: Vec<&String> = want.keys().filter(|k| !got.contains_key(*k)).collect();
        let extra: Vec<&String> = got.keys().filter(|k| !want.contains_key(*k)).collect();
        let differ = want
            .iter()
            .find(|(k, v)| got.get(*k).is_some_and(|g| g != *v));
        bail!(
            "{what} disagrees with the graph: {} images against {}; missing {:?}, extra {:?}, first differing {:?}",
            got.len(),
            want.len(),
            missing.iter().take(3).collect::<Vec<_>>(),
            extra.iter().take(3).collect::<Vec<_>>(),
            differ.map(|(k, v)| (k, v, got.get(k)))
        );
    }
    Ok(())
}

fn rss_mib(pid: Option<&str>) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

fn mib(x: Option<f64>) -> String {
    x.map_or("?".to_string(), |m| format!("{m:.0} MiB"))
}

/// The server's parser on one thread over `bodies`, each checked: every component a package,
/// no warning, the planted marker as deep as planted.
fn parse_floor(bodies: &[Bytes], components: usize) -> Result<Timings> {
    let mut parse = Timings::default();
    for (i, b) in bodies.iter().enumerate() {
        let t = Instant::now();
        let sbom =
            black_box(catalog_ingest::sbom::parse(b)).map_err(|e| anyhow!("document {i}: {e}"))?;
        parse.push(t.elapsed());
        if sbom.packages.len() != components || !sbom.warnings.is_empty() {
            bail!(
                "document {i}: {} packages (expected {components}), warnings {:?}",
                sbom.packages.len(),
                sbom.warnings.iter().take(3).collect::<Vec<_>>()
            );
        }
        if let Some((version, depth)) = planted(i) {
            let want = format!("{MARKER}@{version}");
            let got = sbom
                .packages
                .iter()
                .find(|p| p.purl.as_deref() == Some(want.as_str()))
                .and_then(|p| p.depth);
            if got != Some(depth as u32) {
                bail!("document {i}: {want} at depth {got:?}, planted at {depth}");
            }
        }
    }
    Ok(parse.finish())
}

/// Another format's documents posted to a fresh catalog the way the CycloneDX 1.5 ones are:
/// `concurrency` in flight, until every one is recorded and visible in GraphQL.
fn record_format(
    a: &Args,
    bodies: &[Bytes],
    digests: &[String],
    want: (i64, i64, i64),
) -> Result<(Posted, Recorded)> {
    let server = CatalogServer::start(ServerOpts {
        extra_args: vec!["--reconcile-interval".into(), "0".into()],
        ..ServerOpts::default()
    })?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let http = reqwest::Client::builder()
        .http1_only()
        .no_proxy()
        .pool_max_idle_per_host(a.concurrency)
        .timeout(Duration::from_secs(300))
        .build()?;
    let (gql, base) = (server.url("/graphql"), server.url(""));
    let bodies = Arc::new(bodies.to_vec());
    let digests = Arc::new(digests.to_vec());
    let out = rt.block_on(async {
        let started = Instant::now();
        let done = Arc::new(AtomicBool::new(false));
        let waiter = tokio::spawn(wait_recorded(
            http.clone(),
            gql.clone(),
            started,
            want,
            done.clone(),
        ));
        let posted = post_all(&http, &base, bodies, digests, a.concurrency).await;
        done.store(true, Ordering::Relaxed);
        let posted = match posted {
            Ok(p) => p,
            Err(e) => {
                waiter.abort();
                return Err(e);
            }
        };
        let recorded = waiter.await??;
        anyhow::Ok((posted, recorded))
    })?;
    if out.0.packages != a.sboms * a.components {
        bail!(
            "the hook reported {} packages in all, expected {}",
            out.0.packages,
            a.sboms * a.components
        );
    }
    drop(server);
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Over HTTP

struct Posted {
    wall: Duration,
    latencies: Vec<Duration>,
    /// Sum of the `packages` the hook reported.
    packages: usize,
    warnings: usize,
}

/// Posts every document to its image with `concurrency` requests in flight; fails on the
/// first non-202.
async fn post_all(
    http: &reqwest::Client,
    base: &str,
    bodies: Arc<Vec<Bytes>>,
    digests: Arc<Vec<String>>,
    concurrency: usize,
) -> Result<Posted> {
    let next = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency.min(bodies.len()) {
        let (http, base, bodies, digests, next, stop) = (
            http.clone(),
            base.to_string(),
            bodies.clone(),
            digests.clone(),
            next.clone(),
            stop.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let (mut packages, mut warnings) = (0usize, 0usize);
            let mut failure: Option<String> = None;
            while !stop.load(Ordering::Relaxed) {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= bodies.len() {
                    break;
                }
                let t = Instant::now();
                let r = http
                    .post(format!("{base}/hooks/sbom?image={}", digests[i]))
                    .header("content-type", "application/json")
                    .bearer_auth(INGEST_TOKEN)
                    .body(bodies[i].clone())
                    .send()
                    .await;
                let outcome = match r {
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        let text = resp.text().await.unwrap_or_default();
                        if status == 202 {
                            let v: Value = serde_json::from_str(&text).unwrap_or_default();
                            packages += v["packages"].as_u64().unwrap_or(0) as usize;
                            warnings += v["warnings"].as_array().map_or(0, Vec::len);
                            Ok(())
                        } else {
                            Err(format!("request {i}: HTTP {status}: {text}"))
                        }
                    }
                    Err(e) => Err(format!("request {i}: {e}")),
                };
                lat.push(t.elapsed());
                if let Err(e) = outcome {
                    failure = Some(e);
                    stop.store(true, Ordering::Relaxed);
                }
            }
            (lat, packages, warnings, failure)
        }));
    }
    let mut posted = Posted {
        wall: Duration::ZERO,
        latencies: Vec::with_capacity(bodies.len()),
        packages: 0,
        warnings: 0,
    };
    let mut failures = Vec::new();
    for t in tasks {
        let (l, p, w, f) = t.await?;
        posted.latencies.extend(l);
        posted.packages += p;
        posted.warnings += w;
        failures.extend(f);
    }
    posted.wall = started.elapsed();
    if let Some(f) = failures.first() {
        bail!("{} request(s) failed; first: {f}", failures.len());
    }
    posted.latencies.sort();
    Ok(posted)
}

fn gql_body(query: &str, variables: Value) -> Result<Bytes> {
    Ok(Bytes::from(serde_json::to_vec(
        &json!({"query": query, "variables": variables}),
    )?))
}

/// POSTs a GraphQL request; returns the time until the whole body arrived, its size, and
/// `data` (parsed after the clock stops).
async fn graphql_timed(
    http: &reqwest::Client,
    url: &str,
    body: &Bytes,
) -> Result<(Duration, usize, Value)> {
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
    Ok((d, bytes.len(), v["data"].clone()))
}

const PACKAGE_Q: &str = "query($purl: String!, $range: String) { package(purl: $purl, range: $range) { \
totals { images componentVersions deployments owners } \
images(first: 500) { totalCount nodes { digest depth direct componentVersions { component version } \
deployments { cluster namespace workload } owners } } \
owners(first: 500) { nodes { name } } } }";
const SEARCH_Q: &str = "query($text: String!) { search(text: $text) { kind id detail score } }";
const PROGRESS_Q: &str = "query($old: String!, $any: String!) { eventCount \
old: package(purl: $old) { totals { images } } any: package(purl: $any) { totals { images } } }";

/// When every document was recorded and visible, and how the log grew meanwhile.
struct Recorded {
    at: Duration,
    samples: Vec<(Duration, i64)>,
}

/// Polls (while the documents are still being posted, too) until `eventCount` is `n` and the
/// graph shows the planted images.
async fn wait_recorded(
    http: reqwest::Client,
    url: String,
    started: Instant,
    want: (i64, i64, i64),
    posted: Arc<AtomicBool>,
) -> Result<Recorded> {
    let deadline = Instant::now() + RECORDED_TIMEOUT;
    let body = gql_body(
        PROGRESS_Q,
        json!({"old": format!("{MARKER}@{MARKER_OLD}"), "any": MARKER}),
    )?;
    let mut samples = Vec::new();
    loop {
        let (_, _, d) = graphql_timed(&http, &url, &body).await?;
        let events = d["eventCount"].as_i64().unwrap_or(-1);
        let old = d["old"]["totals"]["images"].as_i64().unwrap_or(0);
        let any = d["any"]["totals"]["images"].as_i64().unwrap_or(0);
        samples.push((started.elapsed(), events));
        if (events, old, any) == want {
            return Ok(Recorded {
                at: started.elapsed(),
                samples,
            });
        }
        if Instant::now() > deadline {
            bail!(
                "after {RECORDED_TIMEOUT:?}: eventCount {events}, log4j-core@{MARKER_OLD} in {old} images, \
                 any version in {any}; expected {want:?}"
            );
        }
        let poll = if posted.load(Ordering::Relaxed) {
            POLL / 10
        } else {
            POLL
        };
        tokio::time::sleep(poll).await;
    }
}

/// `iterations` timed calls after WARMUP untimed ones; `check` sees every answer.
async fn timed_series(
    http: &reqwest::Client,
    url: &str,
    body: &Bytes,
    iterations: usize,
    mut check: impl FnMut(&Value) -> Result<()>,
) -> Result<(Timings, usize)> {
    let mut t = Timings::default();
    let mut bytes = 0;
    for k in 0..WARMUP + iterations {
        let (d, n, data) = graphql_timed(http, url, body).await?;
        check(&data)?;
        if k >= WARMUP {
            t.push(d);
            bytes = n;
        }
    }
    Ok((t.finish(), bytes))
}

/// The digests of the first page of images (500) and how many images there are in all.
fn digests_of(data: &Value) -> (BTreeSet<String>, u64) {
    let images = &data["package"]["images"];
    let page = images["nodes"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|i| i["digest"].as_str().map(str::to_string))
        .collect();
    (page, images["totalCount"].as_u64().unwrap_or(0))
}

struct HttpQueries {
    floor: Timings,
    old: Timings,
    old_bytes: usize,
    range: Timings,
    search: Timings,
}

async fn http_queries(
    http: &reqwest::Client,
    url: &str,
    iterations: usize,
    w: &Workload,
    only_old: bool,
) -> Result<HttpQueries> {
    let floor_body = gql_body("{ __typename }", json!({}))?;
    let old_body = gql_body(PACKAGE_Q, json!({"purl": format!("{MARKER}@{MARKER_OLD}")}))?;
    let range_body = gql_body(PACKAGE_Q, json!({"purl": MARKER, "range": RANGE}))?;
    let search_body = gql_body(SEARCH_Q, json!({"text": "log4j"}))?;
    let planted_old = |what: &'static str| {
        move |d: &Value| {
            let (page, total) = digests_of(d);
            if total != w.old.len() as u64
                || page.len() != w.old.len().min(500)
                || !page.is_subset(&w.old)
            {
                bail!(
                    "{what}: {total} images ({} on the page), {} planted with log4j-core@{MARKER_OLD}",
                    page.len(),
                    w.old.len()
                );
            }
            Ok(())
        }
    };
    let (old, old_bytes) = timed_series(
        http,
        url,
        &old_body,
        iterations,
        planted_old("package(@2.14.1)"),
    )
    .await?;
    if only_old {
        return Ok(HttpQueries {
            floor: Timings::default(),
            old,
            old_bytes,
            range: Timings::default(),
            search: Timings::default(),
        });
    }
    let (floor, _) = timed_series(http, url, &floor_body, iterations, |_| Ok(())).await?;
    let (range, _) = timed_series(
        http,
        url,
        &range_body,
        iterations,
        planted_old("package(range)"),
    )
    .await?;
    let (search, _) = timed_series(http, url, &search_body, iterations, |d| {
        let hit = d["search"]
            .as_array()
            .is_some_and(|h| h.iter().any(|x| x["id"].as_str() == Some(MARKER)));
        if !hit {
            bail!("search(\"log4j\") does not find {MARKER}: {d}");
        }
        Ok(())
    })
    .await?;
    Ok(HttpQueries {
        floor,
        old,
        old_bytes,
        range,
        search,
    })
}

// ---------------------------------------------------------------------------------------------

fn main() -> Result<()> {
    let a = parse_args()?;
    let total = Instant::now();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let load_before = loadavg();
    // Fail now rather than after generating the workload.
    catalog_tests::server::binary()?;

    // --- the workload (not timed)
    let t = Instant::now();
    let w = generate(&a)?;
    let n = a.sboms;
    let comps = n * a.components;
    let body_bytes: usize = w.bodies.iter().map(|b| b.len()).sum();
    eprintln!(
        "setup: {n} CycloneDX 1.5 documents of {} components ({:.0} KB each on average, {} distinct package \
         versions used of a pool of {POOL}; log4j-core@{MARKER_OLD} in {}, @{MARKER_NEW} in {}) generated in {:.1}s",
        a.components,
        body_bytes as f64 / n as f64 / 1024.0,
        w.distinct,
        w.old.len(),
        w.new.len(),
        t.elapsed().as_secs_f64()
    );

    // --- floors: parsing alone, one thread
    let mut scan = Timings::default();
    for b in &w.bodies {
        let t = Instant::now();
        black_box(serde_json::from_slice::<serde::de::IgnoredAny>(b)?);
        scan.push(t.elapsed());
    }
    let scan = scan.finish();
    let parse = parse_floor(&w.bodies, a.components)?;
    eprintln!(
        "floor: parsed {n} documents in {:.2}s on one thread",
        parse.total().as_secs_f64()
    );

    // --- ingest over HTTP
    let mut server = CatalogServer::start(ServerOpts {
        extra_args: vec!["--reconcile-interval".into(), "0".into()],
        ..ServerOpts::default()
    })?;
    let db_path = server.dir.path().join("catalog.db");
    let pid = catalog_pid(server.port);
    let rss_start = rss_mib(pid.as_deref());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let http = reqwest::Client::builder()
        .http1_only()
        .no_proxy()
        .pool_max_idle_per_host(a.concurrency)
        .timeout(Duration::from_secs(300))
        .build()?;
    let gql = server.url("/graphql");
    let base = server.url("");
    let cpu0 = pid.as_deref().and_then(cpu_time);
    let self_cpu0 = cpu_time("self");
    let bodies = Arc::new(w.bodies.clone());
    let digests = Arc::new(w.digests.clone());
    let want = (
        n as i64,
        w.old.len() as i64,
        (w.old.len() + w.new.len()) as i64,
    );
    eprintln!(
        "http: posting {n} documents to /hooks/sbom, {} in flight, from {}",
        a.concurrency,
        Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    );
    let (posted, recorded) = rt.block_on(async {
        let (_, _, d) = graphql_timed(&http, &gql, &gql_body("{ eventCount }", json!({}))?).await?;
        if d["eventCount"].as_i64() != Some(0) {
            bail!("the catalog has events before the benchmark started: {d}");
        }
        let started = Instant::now();
        let done = Arc::new(AtomicBool::new(false));
        let waiter = tokio::spawn(wait_recorded(
            http.clone(),
            gql.clone(),
            started,
            want,
            done.clone(),
        ));
        let posted = post_all(&http, &base, bodies, digests, a.concurrency).await;
        done.store(true, Ordering::Relaxed);
        let posted = match posted {
            Ok(p) => p,
            Err(e) => {
                waiter.abort();
                return Err(e);
            }
        };
        let recorded = waiter.await??;
        anyhow::Ok((posted, recorded))
    })?;
    let ingest_cpu = pid
        .as_deref()
        .and_then(cpu_time)
        .zip(cpu0)
        .map(|(b, a)| b.saturating_sub(a));
    let client_cpu = cpu_time("self")
        .zip(self_cpu0)
        .map(|(b, a)| b.saturating_sub(a));
    let rss_ingest = rss_mib(pid.as_deref());
    if posted.packages != comps {
        bail!(
            "the hook reported {} packages in all, expected {comps}",
            posted.packages
        );
    }
    eprintln!(
        "http: all acknowledged after {:.1}s, all recorded and visible after {:.1}s",
        posted.wall.as_secs_f64(),
        recorded.at.as_secs_f64()
    );

    // --- queries over HTTP
    eprintln!(
        "http: {} GraphQL queries of each kind after {WARMUP} warm-up, one at a time",
        a.iterations
    );
    let q = rt.block_on(http_queries(&http, &gql, a.iterations, &w, false))?;
    let metrics = reqwest::blocking::Client::new()
        .get(server.url("/metrics"))
        .send()?
        .text()?;
    let rss_queries = rss_mib(pid.as_deref());

    let any = Purl::parse(MARKER).map_err(|e| anyhow!("{MARKER}: {e}"))?;
    let old_purl = Purl::parse(&format!("{MARKER}@{MARKER_OLD}")).map_err(|e| anyhow!("{e}"))?;
    let db = db_path
        .to_str()
        .ok_or_else(|| anyhow!("database path is not UTF-8"))?
        .to_string();
    eprintln!(
        "sqlite: opening the server's file alongside the running server at {}",
        Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    );
    let sqlite = Store::open(&db, 2)?;

    // --- the graph in this process, folded from the events the server recorded
    eprintln!("in-process: reading back {n} events and folding them into a Catalog");
    let t = Instant::now();
    let mut events: Vec<RecordedEvent> = Vec::with_capacity(n);
    let mut after = 0;
    loop {
        let page = sqlite.events_page(100, after, None)?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        events.extend(page);
    }
    let read_back = t.elapsed();
    let recorded_events = sqlite.event_count()?;
    drop(sqlite);
    if events.len() != n {
        bail!("read back {} events, expected {n}", events.len());
    }

    // --- the SQL baseline: tables built from the same events, in a SQLite file of its own
    eprintln!("sqlite: building the baseline tables from the {n} recorded events");
    let baseline_dir = TempDir::new("bench-sbom-baseline")?;
    let mut baseline = Baseline::create(
        &baseline_dir
            .path()
            .join("baseline.db")
            .display()
            .to_string(),
    )?;
    for chunk in events.chunks(100) {
        baseline.record(chunk)?;
    }
    baseline.analyze()?;
    let mut sqlite_t = Timings::default();
    let mut sqlite_answer = Answer::new();
    for k in 0..WARMUP + a.iterations {
        let t = Instant::now();
        let rows = black_box(baseline.package_images_sql(MARKER)?);
        let d = t.elapsed();
        if k >= WARMUP {
            sqlite_t.push(d);
        }
        if k == 0 {
            sqlite_answer = sql_answer(&rows);
        }
    }
    let sqlite_t = sqlite_t.finish();
    drop(baseline);
    let mut catalog = Catalog::new();
    let t = Instant::now();
    for e in &events {
        catalog.apply(e);
    }
    let fold = t.elapsed();
    drop(events);
    catalog
        .verify()
        .map_err(|e| anyhow!("graph invariants: {e}"))?;
    let mut graph_any = Timings::default();
    let mut graph_old = Timings::default();
    let mut graph_answer_any = Answer::new();
    for k in 0..WARMUP + a.iterations {
        let t = Instant::now();
        let r = black_box(catalog.package_report(&any, None));
        let d = t.elapsed();
        let t = Instant::now();
        let r_old = black_box(catalog.package_report(&old_purl, None));
        let d_old = t.elapsed();
        if k >= WARMUP {
            graph_any.push(d);
            graph_old.push(d_old);
        }
        if k == 0 {
            let r = r.ok_or_else(|| anyhow!("the graph does not know {MARKER}"))?;
            graph_answer_any = graph_answer(&r);
            let r_old = r_old.ok_or_else(|| anyhow!("the graph does not know @{MARKER_OLD}"))?;
            let got: BTreeSet<String> = r_old.images.iter().map(|i| i.image.clone()).collect();
            if got != w.old {
                bail!(
                    "in-process package_report(@{MARKER_OLD}): {} images, {} planted",
                    got.len(),
                    w.old.len()
                );
            }
        }
    }
    let graph_any = graph_any.finish();
    let graph_old = graph_old.finish();
    drop(catalog);
    let planted_any: BTreeSet<String> = w.old.union(&w.new).cloned().collect();
    let graph_images: BTreeSet<String> = graph_answer_any.keys().cloned().collect();
    if graph_images != planted_any {
        bail!(
            "the graph finds log4j-core in {} images, {} were planted",
            graph_images.len(),
            planted_any.len()
        );
    }
    compare(
        "SQLite package_images_sql",
        &sqlite_answer,
        &graph_answer_any,
    )?;

    // --- a restart: the graph rebuilt from the store
    let restarted = if a.restart {
        eprintln!("http: restarting the catalog (graph rebuilt from the store)");
        let t = Instant::now();
        server = server.restart()?;
        let ready = t.elapsed();
        let pid = catalog_pid(server.port);
        let q = rt.block_on(http_queries(&http, &gql, a.iterations, &w, true))?;
        Some((ready, q.old, rss_mib(pid.as_deref())))
    } else {
        None
    };
    let log = server.log();
    server.kill();

    // --- the same documents made into events by the hook's own code, recorded straight into
    // the store: into a fresh SQLite file (the worker's chunk and durability), and PostgreSQL
    let now = Utc::now();
    let mut batch: Vec<(Option<i64>, Vec<NewEvent>)> = Vec::with_capacity(n);
    for (b, d) in w.bodies.iter().zip(&w.digests) {
        let e =
            sbom_hook::attach(b, Some(d), sbom_hook::UPLOAD).map_err(|e| anyhow!("{d}: {e}"))?;
        batch.push((
            None,
            vec![NewEvent {
                key: sbom_hook::key(&e.image, &e.document_digest),
                occurred_at: now,
                source: "sbom".to_string(),
                actor: "bench".to_string(),
                event: Event::SbomAttached(e),
            }],
        ));
    }
    eprintln!("sqlite: recording {n} SBOM events into a fresh file, {CHUNK} per call");
    let sqlite_load = {
        let dir = TempDir::new("bench-sbom")?;
        let store = Store::open(&dir.path().join("store.db").display().to_string(), 2)?;
        let t = Instant::now();
        let mut recorded = 0;
        for chunk in batch.chunks(CHUNK) {
            recorded += store.record_with(chunk, Durability::Deferred)?.len();
        }
        let load = t.elapsed();
        if recorded != n {
            bail!("SQLite recorded {recorded} events of {n}");
        }
        load
    };
    let pg = if a.pg {
        match PgDatabase::create() {
            Ok(pgdb) => {
                eprintln!("postgres: recording {n} SBOM events into {}", pgdb.name);
                let store = Store::open(&pgdb.url, 4)?;
                let tables = PgDatabase::create()?;
                let mut baseline = Baseline::create(&tables.url)?;
                let mut load = Duration::ZERO;
                let mut recorded_pg = 0;
                for chunk in batch.chunks(CHUNK) {
                    let t = Instant::now();
                    let recorded = store.record(chunk)?;
                    load += t.elapsed();
                    recorded_pg += recorded.len();
                    baseline.record(&recorded)?;
                }
                if recorded_pg != n {
                    bail!("PostgreSQL recorded {recorded_pg} events of {n}");
                }
                let series = |baseline: &mut Baseline| -> Result<(Timings, Answer)> {
                    let mut t = Timings::default();
                    let mut answer = Answer::new();
                    for k in 0..WARMUP + a.iterations {
                        let s = Instant::now();
                        let rows = black_box(baseline.package_images_sql(MARKER)?);
                        let d = s.elapsed();
                        if k >= WARMUP {
                            t.push(d);
                        }
                        if k == 0 {
                            answer = sql_answer(&rows);
                        }
                    }
                    Ok((t.finish(), answer))
                };
                let (fresh, answer) = series(&mut baseline)?;
                compare("PostgreSQL package_images_sql", &answer, &graph_answer_any)?;
                baseline.analyze()?;
                let (analyzed, answer) = series(&mut baseline)?;
                compare("PostgreSQL package_images_sql", &answer, &graph_answer_any)?;
                drop(baseline);
                drop(tables);
                drop(store);
                drop(pgdb);
                Ok((load, fresh, analyzed))
            }
            Err(e) => Err(format!("{e:#}")),
        }
    } else {
        Err("--no-pg".to_string())
    };
    drop(batch);

    // --- the same documents as CycloneDX 1.7 and SPDX 3.0.1: parse floor and HTTP ingest
    let mut formats = Vec::new();
    for (label, bodies) in [
        ("CycloneDX 1.7", &w.cdx17),
        ("SPDX 3.0.1 JSON-LD", &w.spdx3),
    ] {
        let kb = bodies.iter().map(|b| b.len()).sum::<usize>() as f64 / n as f64 / 1024.0;
        let floor = parse_floor(bodies, a.components)?;
        eprintln!("http: posting {n} {label} documents to a fresh catalog");
        let (p, r) = record_format(&a, bodies, &w.digests, want)?;
        formats.push((label, kb, floor.rate(), per_s(n, r.at), per_s(n, p.wall)));
    }

    // --- report
    let rec = recorded.at;
    let mut rows = vec![
        Row {
            name: format!("floor: serde_json scan only (IgnoredAny), 1 thread (n={n})"),
            p50: Some(scan.p(0.5)),
            p99: Some(scan.p(0.99)),
            throughput: format!(
                "{:.0} SBOMs/s ({:.0} components/s)",
                scan.rate(),
                scan.rate() * a.components as f64
            ),
        },
        Row {
            name: format!("floor: catalog_ingest::sbom::parse, 1 thread (n={n})"),
            p50: Some(parse.p(0.5)),
            p99: Some(parse.p(0.99)),
            throughput: format!(
                "{:.0} SBOMs/s ({:.0} components/s)",
                parse.rate(),
                parse.rate() * a.components as f64
            ),
        },
        Row {
            name: format!(
                "HTTP: POST /hooks/sbom, {} in flight: ack latency; recorded = acked and visible in GraphQL (n={n})",
                a.concurrency
            ),
            p50: Some(percentile(&posted.latencies, 0.5)),
            p99: Some(percentile(&posted.latencies, 0.99)),
            throughput: format!(
                "{:.1} SBOMs/s recorded ({:.0} components/s); {:.1} SBOMs/s acked",
                per_s(n, rec),
                per_s(comps, rec),
                per_s(n, posted.wall)
            ),
        },
        Row::latency(
            "HTTP: GraphQL `{ __typename }` [HTTP floor]".to_string(),
            &q.floor,
            "queries",
        ),
        Row::latency(
            format!(
                "HTTP: GraphQL package(\"...log4j-core@{MARKER_OLD}\") full selection, {} images, {} bytes",
                w.old.len(),
                q.old_bytes
            ),
            &q.old,
            "queries",
        ),
        Row::latency(
            format!("HTTP: GraphQL package(\"...log4j-core\", range: \"{RANGE}\") full selection"),
            &q.range,
            "queries",
        ),
        Row::latency(
            "HTTP: GraphQL search(text: \"log4j\")".to_string(),
            &q.search,
            "queries",
        ),
    ];
    if let Some((ready, t, _)) = &restarted {
        rows.push(Row::latency(
            format!(
                "HTTP: GraphQL package(\"...@{MARKER_OLD}\") after a restart (ready in {:.2}s)",
                ready.as_secs_f64()
            ),
            t,
            "queries",
        ));
    }
    rows.push(Row {
        name: format!("in-process: read back {n} events (Store::events_page, SQLite)"),
        p50: None,
        p99: None,
        throughput: format!("{:.0} SBOMs/s", per_s(n, read_back)),
    });
    rows.push(Row {
        name: format!("in-process: fold {n} SbomAttached events into Catalog (apply)"),
        p50: None,
        p99: None,
        throughput: format!(
            "{:.0} SBOMs/s ({:.0} components/s)",
            per_s(n, fold),
            per_s(comps, fold)
        ),
    });
    rows.push(Row::latency(
        format!(
            "in-process: package_report(\"...log4j-core\"), any version, {} images",
            planted_any.len()
        ),
        &graph_any,
        "queries",
    ));
    rows.push(Row::latency(
        format!("in-process: package_report(\"...log4j-core@{MARKER_OLD}\")"),
        &graph_old,
        "queries",
    ));
    rows.push(Row::latency(
        "SQLite: package_images_sql(\"...log4j-core\") on tables built from the recorded events [baseline]".to_string(),
        &sqlite_t,
        "queries",
    ));
    rows.push(Row {
        name: format!(
            "SQLite (fresh file): Store::record_with Deferred, {CHUNK} SBOM events per call (n={n})"
        ),
        p50: None,
        p99: None,
        throughput: format!(
            "{:.1} SBOMs/s ({:.0} components/s)",
            per_s(n, sqlite_load),
            per_s(comps, sqlite_load)
        ),
    });
    if let Ok((load, fresh, analyzed)) = &pg {
        rows.push(Row {
            name: format!("PostgreSQL: Store::record, {CHUNK} SBOM events per call (n={n})"),
            p50: None,
            p99: None,
            throughput: format!(
                "{:.1} SBOMs/s ({:.0} components/s)",
                per_s(n, *load),
                per_s(comps, *load)
            ),
        });
        rows.push(Row::latency(
            "PostgreSQL: package_images_sql(\"...log4j-core\") [baseline], freshly loaded"
                .to_string(),
            fresh,
            "queries",
        ));
        rows.push(Row::latency(
            "PostgreSQL: package_images_sql(\"...log4j-core\") [baseline], after ANALYZE"
                .to_string(),
            analyzed,
            "queries",
        ));
    }

    println!();
    println!(
        "bench-sbom: {n} CycloneDX 1.5 SBOMs x {} components ({:.0} KB each, {:.1} MB in all); {} distinct \
         package versions used (pool {POOL}, Zipf s={ZIPF_S}); log4j-core@{MARKER_OLD} in {} images, \
         @{MARKER_NEW} in {}",
        a.components,
        body_bytes as f64 / n as f64 / 1024.0,
        body_bytes as f64 / 1e6,
        w.distinct,
        w.old.len(),
        w.new.len()
    );
    println!();
    println!("| measurement | p50 ms | p99 ms | throughput |");
    println!("|---|---:|---:|---:|");
    for r in &rows {
        r.print();
    }
    println!();
    println!(
        "formats: the same {n} documents ({} components each) in each format, parsed on one thread and \
         posted to a fresh catalog ({} in flight) until all are recorded and visible",
        a.components, a.concurrency
    );
    println!();
    println!("| format | KB each | parse, 1 thread | HTTP recorded | HTTP acked |");
    println!("|---|---:|---:|---:|---:|");
    let cdx15 = (
        "CycloneDX 1.5",
        body_bytes as f64 / n as f64 / 1024.0,
        parse.rate(),
        per_s(n, rec),
        per_s(n, posted.wall),
    );
    for (label, kb, parsed, recorded, acked) in std::iter::once(cdx15).chain(formats) {
        println!(
            "| {label} | {kb:.0} | {parsed:.0} SBOMs/s | {recorded:.1} SBOMs/s | {acked:.1} SBOMs/s |"
        );
    }
    println!();
    println!(
        "answers equal: images containing log4j-core (any version), their matched versions and shallowest \
         depth: graph == SQLite SQL{} ({} images); HTTP package(@{MARKER_OLD}) and package(range) == the {} \
         planted images; search finds the package",
        if pg.is_ok() { " == PostgreSQL SQL" } else { "" },
        planted_any.len(),
        w.old.len()
    );
    if let Err(e) = &pg {
        println!("PostgreSQL baseline skipped: {e}");
    }
    let sboms_s = per_s(n, rec);
    let comps_s = per_s(comps, rec);
    println!(
        "aim: >= {AIM_SBOMS_PER_S:.0} SBOMs/s ({:.0} components/s) on SQLite; Dependency-Track publishes \
         ~{DEPENDENCY_TRACK_COMPONENTS_PER_S:.0} components/s. Measured: {sboms_s:.1} SBOMs/s ({comps_s:.0} \
         components/s) recorded end to end: {}",
        AIM_SBOMS_PER_S * 500.0,
        if sboms_s >= AIM_SBOMS_PER_S {
            "MET"
        } else {
            "MISSED"
        }
    );
    println!(
        "ingest: first POST to last ack {:.2}s, to all recorded and visible {:.2}s; hook reported {} packages \
         and {} warnings; events recorded: {recorded_events}",
        posted.wall.as_secs_f64(),
        rec.as_secs_f64(),
        posted.packages,
        posted.warnings
    );
    let timeline: Vec<String> = recorded
        .samples
        .iter()
        .step_by((recorded.samples.len() / 12).max(1))
        .map(|(t, e)| format!("{:.1}s:{e}", t.as_secs_f64()))
        .collect();
    println!(
        "event log while ingesting (time: events): {}",
        timeline.join(" ")
    );
    println!(
        "CPU: catalog process {}s over {:.1}s of ingest ({:.2} cores busy); this process (client) {}s; \
         parse floor {:.2}s for the same documents on one thread",
        ingest_cpu.map_or("?".to_string(), |d| format!("{:.1}", d.as_secs_f64())),
        rec.as_secs_f64(),
        ingest_cpu.map_or(0.0, |d| d.as_secs_f64() / rec.as_secs_f64().max(1e-9)),
        client_cpu.map_or("?".to_string(), |d| format!("{:.1}", d.as_secs_f64())),
        parse.total().as_secs_f64()
    );
    println!(
        "catalog RSS: {} at start, {} after ingest, {} after the queries{}",
        mib(rss_start),
        mib(rss_ingest),
        mib(rss_queries),
        restarted
            .as_ref()
            .map_or(String::new(), |(_, _, r)| format!(
                ", {} after a restart (graph rebuilt from the store)",
                mib(*r)
            ))
    );
    let m = |name: &str| metric(&metrics, name);
    if let (Some(items), Some(commits), Some(events)) = (
        m("catalog_hook_items_total"),
        m("catalog_inbox_commits_total"),
        m("catalog_events_recorded_total"),
    ) {
        println!(
            "catalog /metrics: {items:.0} hook items, {commits:.0} inbox commits ({:.1} items each), {events:.0} \
             events recorded; mean hook ack {} ms, mean worker item latency {} ms",
            items / commits.max(1.0),
            m("catalog_hook_ack_seconds_sum")
                .zip(m("catalog_hook_ack_seconds_count"))
                .map_or("?".to_string(), |(s, c)| format!("{:.2}", s * 1000.0 / c.max(1.0))),
            m("catalog_worker_item_seconds_sum")
                .zip(m("catalog_worker_item_seconds_count"))
                .map_or("?".to_string(), |(s, c)| format!("{:.1}", s * 1000.0 / c.max(1.0))),
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
    println!(
        "cores: {cores} (client, catalog server and databases share them); load average (1 min) {load_before} \
         before, {} after; total run time {:.1}s",
        loadavg(),
        total.elapsed().as_secs_f64()
    );
    Ok(())
}
