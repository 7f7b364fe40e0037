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
use catalog_core::graph::{BlastGroup, BlastTarget, BlastThing, BlastTotals};
use catalog_core::purl::Purl;
use catalog_core::Catalog;
use catalog_schema::Store;
use catalog_tests::baseline::{Baseline, BlastOf};
use catalog_tests::bench::{loadavg, percentile};
use catalog_tests::registry::TempDir;
use catalog_tests::server::PgDatabase;
use catalog_tests::synthetic::*;
use chrono::Utc;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::hint::black_box;
use std::io::{BufWriter, Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The server's allocator, so in-process timings and memory are the server's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str =
    "usage: bench-graph [--size small|large] [--seed 42] [--no-pg] [--no-http] [--core-only]";

/// Items materialized per blast radius group (the GraphQL connection's first page).
const PAGE: usize = 50;
/// SBOM events folded per `apply_all` in-process: small, so the memory they take while
/// folding stays out of the resident-set measurement.
const SBOM_FOLD_CHUNK: usize = 200;
/// The deep component's dependents must reach at least this depth.
const MIN_DEEP_LEVELS: u32 = 8;
/// Wall-clock budget per PostgreSQL series (at least 3 runs whatever it takes).
const SQL_BUDGET: Duration = Duration::from_secs(30);
/// Aims (large size).
const AIM_Q1_P50: Duration = Duration::from_millis(2);
const AIM_Q1_VS_SQL: f64 = 100.0;
const AIM_Q2_P50: Duration = Duration::from_millis(15);
const AIM_HTTP_Q1_P50: Duration = Duration::from_millis(3);
const AIM_BYTES_PER_EDGE: f64 = 40.0;
/// A full replay of the log (no snapshot), in-process or as the server's start-up.
const AIM_REPLAY: Duration = Duration::from_secs(30);
/// The server's start-up from a snapshot, spawn to /readyz.
const AIM_FROM_SNAPSHOT: Duration = Duration::from_secs(10);

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
            "Q2" => verdict(large, "p50 <= 15 ms", s.total.p(0.5) <= AIM_Q2_P50),
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
                HttpSeries::Done(t) => {
                    let aim = match q.label {
                        "Q1" => verdict(large, "p50 <= 3 ms", t.p(0.5) <= AIM_HTTP_Q1_P50),
                        _ => String::new(),
                    };
                    rows.push(Row::latency(
                        format!("HTTP {}: GraphQL blastRadius totals", q.label),
                        &t,
                        "totals equal the graph's".to_string(),
                        aim,
                    ))
                }
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
