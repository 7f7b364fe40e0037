#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Policy benchmark: `deploymentCheck` (building the policy input from the graph, then
//! evaluating the Rego policy set with regorus) over the large synthetic catalog of
//! `bench-graph`, with 20 policies, against baselines in the same run: the input alone, no
//! policy in force, and the README's two example policies.
//!
//! ```text
//! cargo run --release -p catalog-tests --bin bench-policy -- [--size large|small] [--seed 42] [--checks 2000]
//! ```
//!
//! The catalog is the one `bench-graph` folds (5,000 components, 100,000 images, 30M BOM
//! edges at `--size large`), plus one critical advisory on the package planted in 10% of the
//! images, approvals for a fifth of the versions, and staging deployments. Proposals are
//! drawn from the live deployments (to prod), so inputs carry real histories.

use anyhow::{anyhow, bail, Context, Result};
use catalog_api::policy::{input, Policies, Proposal};
use catalog_core::event::{Event, RecordedEvent};
use catalog_core::governance::{Approval, Decision};
use catalog_core::Catalog;
use catalog_tests::bench::{percentile, Rng};
use catalog_tests::registry::TempDir;
use catalog_tests::synthetic::{chunks, Log, Size, Workload, CLUSTERS, LARGE, LOG_PAGE, SMALL};
use chrono::Utc;
use std::path::Path;
use std::time::{Duration, Instant};

const USAGE: &str = "usage: bench-policy [--size large|small] [--seed 42] [--checks 2000]";
/// The issue's aim for `deploymentCheck` with 20 policies.
const AIM_P99: Duration = Duration::from_millis(5);

struct Args {
    size: Size,
    seed: u64,
    checks: usize,
}

fn parse_args() -> Result<Args> {
    let mut a = Args {
        size: LARGE,
        seed: 42,
        checks: 2000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| anyhow!("{flag} needs a value; {USAGE}"))
        };
        match flag.as_str() {
            "--size" => {
                a.size = match value()?.as_str() {
                    "large" => LARGE,
                    "small" => SMALL,
                    other => bail!("--size {other:?}: large or small"),
                }
            }
            "--seed" => a.seed = value()?.parse().context("--seed")?,
            "--checks" => a.checks = value()?.parse().context("--checks")?,
            _ => bail!("{USAGE}"),
        }
    }
    Ok(a)
}

/// Log4Shell, critical (CVSS 3.1 10.0), on the package planted in 10% of the images.
const ADVISORY: &str = r#"{
  "id": "GHSA-jfh8-c2jp-5v3q", "modified": "2024-01-01T00:00:00Z", "aliases": ["CVE-2021-44228"],
  "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"}],
  "affected": [{"package": {"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.0-beta9"}, {"fixed": "2.15.0"}]}]}]
}"#;

/// 18 policies besides the README's two, of the shapes platform teams write: per-team
/// approval and freeze rules, package and vulnerability bans, history and ownership checks.
fn generated_policies() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for i in 0..6 {
        out.push((
            format!("team-{i:02}.rego"),
            format!(
                r#"package catalog.team{i}

import rego.v1

deny contains msg if {{
	input.owner.team == "team-{i:03}"
	input.deployment.environment == "prod"
	count([a | some a in input.approvals; a.environment == "prod"; a.decision == "approved"]) < 2
	msg := "team-{i:03} needs two approvals for prod"
}}
"#
            ),
        ));
    }
    for (i, package) in [
        "log4j-core",
        "lodash",
        "jackson-databind",
        "openssl",
        "commons-text",
        "spring-core",
    ]
    .iter()
    .enumerate()
    {
        out.push((
            format!("ban-{i:02}.rego"),
            format!(
                r#"package catalog.ban{i}

import rego.v1

deny contains msg if {{
	some v in input.vulnerabilities
	contains(v.package, "{package}")
	v.score >= 7
	msg := sprintf("%s: %s scores %v", [v.package, v.id, v.score])
}}
"#
            ),
        ));
    }
    for i in 0..6 {
        out.push((
            format!("history-{i:02}.rego"),
            format!(
                r#"package catalog.history{i}

import rego.v1

deny contains msg if {{
	input.deployment.environment == "prod"
	failed := [h | some h in input.history; h.status == "failed"]
	count(failed) > {i}
	msg := sprintf("%d failed deployments of this version", [count(failed)])
}}

deny contains msg if {{
	input.deployment.cluster == "blocked-{i}"
	msg := "cluster blocked-{i} takes no deployments"
}}
"#
            ),
        ));
    }
    out
}

fn write_set(dir: &Path, files: &[(String, String)]) {
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

fn policies(dir: &Path) -> Result<Policies> {
    let p = Policies::new(Some(dir.to_path_buf()), Duration::from_millis(250));
    let mut seen = None;
    p.refresh(None, true, &mut seen);
    if let Some(e) = p.last_error() {
        bail!("{}: {}", e.file, e.message);
    }
    Ok(p)
}

fn main() -> Result<()> {
    let a = parse_args()?;
    let size = a.size;
    eprintln!("generating the {} catalog (seed {})", size.name, a.seed);
    let w = Workload::generate(size, a.seed)?;
    let log = Log::new(&w)?;
    let now = Utc::now();
    let mut catalog = Catalog::new();
    let t = Instant::now();
    for r in chunks(0..log.len(), LOG_PAGE) {
        catalog.apply_all(&log.recorded(r, now));
    }
    let mut seq = catalog.last_seq();
    let mut extra = |event: Event, actor: &str| {
        seq += 1;
        RecordedEvent {
            seq,
            key: format!("bench-policy:{seq}"),
            occurred_at: now,
            recorded_at: now,
            source: "bench".into(),
            actor: actor.into(),
            event,
        }
    };
    let mut more = vec![extra(
        Event::VulnerabilityPublished(Box::new(serde_json::from_str(ADVISORY)?)),
        "osv",
    )];
    let mut rng = Rng::new(a.seed);
    for image in 0..size.images() {
        if rng.below(5) == 0 {
            more.push(extra(
                Event::ApprovalRecorded(Approval {
                    component: w.component_of(image).name.clone(),
                    version: w.tag(image),
                    environment: "prod".into(),
                    decision: Decision::Approved,
                    approver: format!("approver-{}", rng.below(20)),
                    comment: None,
                }),
                "api",
            ));
        }
    }
    catalog.apply_all(&more);
    eprintln!(
        "folded {} events in {:.1}s ({} BOM edges)",
        catalog.last_seq(),
        t.elapsed().as_secs_f64(),
        w.edges()
    );

    // Proposals: live deployments, sent to prod by a pipeline.
    let proposals: Vec<Proposal> = (0..a.checks)
        .map(|_| {
            let d = &w.deployments[rng.below(w.deployments.len())];
            let image = d.component * size.versions + d.version;
            let component = w.components[d.component].name.clone();
            Proposal {
                environment: Some("prod".into()),
                cluster: CLUSTERS[rng.below(3)].0.to_string(),
                namespace: "shop".into(),
                workload: component.rsplit('/').next().unwrap_or("w").to_string(),
                version: w.tag(image),
                component,
                actor: "ci-bot".into(),
            }
        })
        .collect();

    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/policies");
    let readme_dir = TempDir::new("bench-policy-2")?;
    let twenty_dir = TempDir::new("bench-policy-20")?;
    let mut two = Vec::new();
    for f in ["prod-promotion.rego", "provenance.rego"] {
        two.push((f.to_string(), std::fs::read_to_string(shipped.join(f))?));
    }
    write_set(readme_dir.path(), &two);
    let mut twenty = two.clone();
    twenty.extend(generated_policies());
    write_set(twenty_dir.path(), &twenty);
    let none = Policies::new(None, Duration::from_millis(250));
    let sets = [
        ("no policy in force [baseline]", none, 0),
        ("the README's 2 policies", policies(readme_dir.path())?, 2),
        ("20 policies", policies(twenty_dir.path())?, 20),
    ];

    // The input alone (a baseline: what every check pays before any policy runs).
    let mut input_times = Vec::with_capacity(proposals.len());
    let mut denied_critical = 0;
    for p in &proposals {
        let t = Instant::now();
        let i = input(&catalog, p, now);
        input_times.push(t.elapsed());
        if i["vulnerabilities"]
            .as_array()
            .is_some_and(|v| !v.is_empty())
        {
            denied_critical += 1;
        }
    }
    input_times.sort();
    let mut rows = vec![(
        "input from the graph only [baseline]".to_string(),
        0usize,
        input_times.clone(),
        proposals.len(),
    )];
    let mut allowed_counts = Vec::new();
    for (name, set, n) in &sets {
        // Warm-up, then every proposal once.
        for p in proposals.iter().take(50) {
            set.evaluate(&input(&catalog, p, now));
        }
        let mut times = Vec::with_capacity(proposals.len());
        let mut allowed = 0;
        for p in &proposals {
            let t = Instant::now();
            let v = set.evaluate(&input(&catalog, p, now));
            times.push(t.elapsed());
            if v.allowed {
                allowed += 1;
            }
            if v.reasons
                .iter()
                .any(|r| r.message.contains("evaluation failed"))
            {
                bail!("{name}: {:?}", v.reasons);
            }
        }
        times.sort();
        allowed_counts.push((name.to_string(), allowed));
        rows.push((
            format!("deploymentCheck in-process, {name}"),
            *n,
            times,
            proposals.len(),
        ));
    }
    println!(
        "\n## bench-policy ({}; {} checks; {} BOM edges; {} versions have a critical advisory in their input)\n",
        size.name,
        proposals.len(),
        w.edges(),
        denied_critical
    );
    println!("| measure | policies | p50 ms | p99 ms | max ms | checks/s |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, n, times, count) in &rows {
        let total: Duration = times.iter().sum();
        println!(
            "| {name} | {n} | {:.3} | {:.3} | {:.3} | {:.0} |",
            ms(percentile(times, 0.50)),
            ms(percentile(times, 0.99)),
            ms(*times.last().unwrap_or(&Duration::ZERO)),
            *count as f64 / total.as_secs_f64().max(1e-9)
        );
    }
    let p99 = percentile(&rows.last().unwrap().2, 0.99);
    println!(
        "\naim: deploymentCheck with 20 policies p99 <= {} ms: {} ({:.3} ms)",
        AIM_P99.as_millis(),
        if p99 <= AIM_P99 { "met" } else { "MISSED" },
        ms(p99)
    );
    for (name, allowed) in allowed_counts {
        println!("{name}: {allowed} of {} allowed", proposals.len());
    }
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
