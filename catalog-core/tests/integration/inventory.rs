//! The inventory's time travel: a hand-computed history across two clusters, asked at several
//! moments, must give the same answers whatever order (and however often) events arrive.

use super::{at, push, rec};
use catalog_core::configuration::{ConfigScope, ConfigSet};
use catalog_core::deployment::{
    ClusterSnapshot, DeploymentObserved, DeploymentStatus as S, ImageRef, Run, Track,
};
use catalog_core::event::{Event, RecordedEvent};
use catalog_core::model::DifferenceKind;
use catalog_core::{Catalog, DeploymentFilter, InventoryScope, WhereIs};
use std::collections::HashMap;

/// `shop/cart:1.0.0` in registry `r` (the registry the `push` helper uses).
fn image(reference: &str) -> Run {
    let mut r = ImageRef::parse(&format!("r.test/{reference}")).unwrap();
    r.registry = "r".into();
    Run {
        container: None,
        image: Some(r),
        component: None,
        version: None,
        traffic: None,
        track: None,
    }
}

fn observed(
    cluster: &str,
    ns: &str,
    workload: &str,
    status: S,
    runs: Vec<Run>,
) -> DeploymentObserved {
    DeploymentObserved {
        cluster: cluster.into(),
        namespace: ns.into(),
        workload: workload.into(),
        environment: None,
        status,
        replicas: Some(2),
        runs,
        revision: None,
        url: None,
    }
}

fn deploy(
    seq: i64,
    min: u32,
    cluster: &str,
    workload: &str,
    status: S,
    reference: Option<&str>,
) -> RecordedEvent {
    let runs = reference.map(|r| vec![image(r)]).unwrap_or_default();
    let mut e = rec(
        seq,
        0,
        Event::DeploymentObserved(observed(cluster, "shop", workload, status, runs)),
    );
    e.key = format!("d{seq}");
    e.occurred_at = at_min(min);
    e
}

const CART: &str = "shop/cart";
const API: &str = "shop/api";

/// prod-eu-1 and staging-1, workloads cart and api (namespace shop):
/// - 10 prod cart 1.0.0 healthy; 20 staging cart 1.1.0; 30 prod cart 1.1.0 progressing;
///   40 prod cart 1.1.0 failed; 50 prod cart rolled back to 1.0.0; 60 staging api 2.0.0;
///   70 staging snapshot lists only cart 1.1.0 (api ends); 80 prod cart removed;
///   90 prod api 2.0.0; 100 staging api 2.1.0 comes back.
pub(super) fn sequence() -> Vec<RecordedEvent> {
    let mut snap = rec(
        7,
        0,
        Event::ClusterSnapshot(ClusterSnapshot {
            cluster: "staging-1".into(),
            environment: Some("staging".into()),
            workloads: vec![observed(
                "staging-1",
                "shop",
                "cart",
                S::Healthy,
                vec![Run {
                    container: Some("cart".into()),
                    ..image(&format!("{CART}:1.1.0@sha256:{}", "b".repeat(64)))
                }],
            )],
        }),
    );
    snap.key = "snap7".into();
    snap.occurred_at = at_min(70);
    let mut first = deploy(
        1,
        10,
        "prod-eu-1",
        "cart",
        S::Healthy,
        Some(&format!("{CART}:1.0.0")),
    );
    if let Event::DeploymentObserved(d) = &mut first.event {
        d.environment = Some("prod".into());
    }
    vec![
        first,
        deploy(
            2,
            20,
            "staging-1",
            "cart",
            S::Healthy,
            Some(&format!("{CART}:1.1.0")),
        ),
        deploy(
            3,
            30,
            "prod-eu-1",
            "cart",
            S::Progressing,
            Some(&format!("{CART}:1.1.0")),
        ),
        deploy(
            4,
            40,
            "prod-eu-1",
            "cart",
            S::Failed,
            Some(&format!("{CART}:1.1.0")),
        ),
        deploy(
            5,
            50,
            "prod-eu-1",
            "cart",
            S::RolledBack,
            Some(&format!("{CART}:1.0.0")),
        ),
        deploy(
            6,
            60,
            "staging-1",
            "api",
            S::Healthy,
            Some(&format!("{API}:2.0.0")),
        ),
        snap,
        deploy(8, 80, "prod-eu-1", "cart", S::Removed, None),
        deploy(
            9,
            90,
            "prod-eu-1",
            "api",
            S::Healthy,
            Some(&format!("{API}:2.0.0")),
        ),
        deploy(
            10,
            100,
            "staging-1",
            "api",
            S::Healthy,
            Some(&format!("{API}:2.1.0")),
        ),
    ]
}

fn at_min(m: u32) -> chrono::DateTime<chrono::Utc> {
    at(0) + chrono::Duration::minutes(i64::from(m))
}

/// (workload, version, status, since minute) of a cluster at a minute.
fn view(c: &Catalog, cluster: &str, m: u32) -> Vec<(String, String, String, i64)> {
    c.inventory(
        &InventoryScope {
            cluster: Some(cluster.into()),
            ..Default::default()
        },
        Some(at_min(m)),
    )
    .into_iter()
    .map(|d| {
        (
            d.workload,
            d.runs[0].version.clone().unwrap_or_default(),
            d.status.as_str().to_string(),
            (d.since - at(0)).num_minutes(),
        )
    })
    .collect()
}

fn row(w: &str, v: &str, s: &str, since: i64) -> (String, String, String, i64) {
    (w.into(), v.into(), s.into(), since)
}

/// Times are minutes after 09:00.
fn expectations(c: &Catalog) {
    let prod = |m| view(c, "prod-eu-1", m);
    let staging = |m| view(c, "staging-1", m);
    assert_eq!(prod(5), vec![]);
    assert_eq!(prod(10), vec![row("cart", "1.0.0", "healthy", 10)]);
    assert_eq!(prod(29), vec![row("cart", "1.0.0", "healthy", 10)]);
    assert_eq!(prod(30), vec![row("cart", "1.1.0", "progressing", 30)]);
    assert_eq!(prod(45), vec![row("cart", "1.1.0", "failed", 30)]);
    assert_eq!(prod(55), vec![row("cart", "1.0.0", "rolled_back", 50)]);
    assert_eq!(prod(85), vec![]);
    assert_eq!(prod(95), vec![row("api", "2.0.0", "healthy", 90)]);
    assert_eq!(staging(25), vec![row("cart", "1.1.0", "healthy", 20)]);
    assert_eq!(
        staging(65),
        vec![
            row("api", "2.0.0", "healthy", 60),
            row("cart", "1.1.0", "healthy", 20)
        ]
    );
    // The snapshot at 70 lists cart (same version: the deployment goes on) but not api.
    assert_eq!(staging(75), vec![row("cart", "1.1.0", "healthy", 20)]);
    assert_eq!(
        staging(105),
        vec![
            row("api", "2.1.0", "healthy", 100),
            row("cart", "1.1.0", "healthy", 20)
        ]
    );

    // History of prod's cart, newest first, with until.
    let hist = c.deployments(
        &DeploymentFilter {
            scope: InventoryScope {
                cluster: Some("prod-eu-1".into()),
                ..Default::default()
            },
            workload: Some("cart".into()),
            component: None,
        },
        10,
        None,
    );
    let spans: Vec<(i64, Option<i64>, String)> = hist
        .items
        .iter()
        .map(|d| {
            (
                (d.since - at(0)).num_minutes(),
                d.until.map(|u| (u - at(0)).num_minutes()),
                d.status.as_str().to_string(),
            )
        })
        .collect();
    assert_eq!(
        spans,
        vec![
            (50, Some(80), "rolled_back".to_string()),
            (30, Some(50), "failed".to_string()),
            (10, Some(30), "healthy".to_string()),
        ]
    );
    // Staging's api ended with the snapshot.
    let api = c.deployments(
        &DeploymentFilter {
            workload: Some("api".into()),
            scope: InventoryScope {
                cluster: Some("staging-1".into()),
                ..Default::default()
            },
            component: None,
        },
        10,
        None,
    );
    let spans: Vec<(i64, Option<i64>)> = api
        .items
        .iter()
        .map(|d| {
            (
                (d.since - at(0)).num_minutes(),
                d.until.map(|u| (u - at(0)).num_minutes()),
            )
        })
        .collect();
    assert_eq!(spans, vec![(100, None), (60, Some(70))]);

    // Where is cart at 45 and now.
    let cart_at = |m| -> Vec<(String, String)> {
        c.where_is(&WhereIs::Component("shop/cart".into()), Some(at_min(m)))
            .into_iter()
            .map(|d| (d.cluster, d.runs[0].version.clone().unwrap_or_default()))
            .collect()
    };
    assert_eq!(
        cart_at(45),
        vec![
            ("prod-eu-1".into(), "1.1.0".into()),
            ("staging-1".into(), "1.1.0".into())
        ]
    );
    assert_eq!(cart_at(200), vec![("staging-1".into(), "1.1.0".into())]);

    // Environments: prod from an event; staging from the snapshot.
    let envs: Vec<(String, Vec<String>)> = c
        .environments()
        .into_iter()
        .map(|e| (e.name, e.clusters))
        .collect();
    assert_eq!(
        envs,
        vec![
            ("prod".into(), vec!["prod-eu-1".into()]),
            ("staging".into(), vec!["staging-1".into()])
        ]
    );

    // Staging against prod at 65: cart 1.1.0 vs 1.0.0, api only in staging.
    let diff = c.inventory_diff(
        &InventoryScope {
            environment: Some("staging".into()),
            ..Default::default()
        },
        &InventoryScope {
            environment: Some("prod".into()),
            ..Default::default()
        },
        Some(at_min(65)),
    );
    let d: Vec<(String, Vec<String>, Vec<String>, DifferenceKind)> = diff
        .into_iter()
        .map(|d| (d.component, d.from_versions, d.to_versions, d.change))
        .collect();
    assert_eq!(
        d,
        vec![
            (
                "shop/api".into(),
                vec!["2.0.0".into()],
                vec![],
                DifferenceKind::OnlyInFrom
            ),
            (
                "shop/cart".into(),
                vec!["1.1.0".into()],
                vec!["1.0.0".into()],
                DifferenceKind::VersionsDiffer
            ),
        ]
    );

    // DORA for cart in prod over the hour: 3 deployments (10, 30, 50); the one at 30 failed
    // (at 40) and was restored by the rollback at 50.
    let m = c.dora("shop/cart", Some("prod"), at_min(0), at_min(60));
    assert_eq!(m.deployments, 3);
    assert_eq!(m.failed_deployments, 1);
    assert_eq!(m.change_failure_rate, Some(1.0 / 3.0));
    assert_eq!(m.time_to_restore_median_seconds, Some(600.0));
    assert_eq!(m.deployments_per_day, 3.0 * 24.0);
    // MTTF: cart ran in prod from 10 to the window's end at 60 (50 min), down from the
    // failure at 40 to the rollback at 50: 40 min of operation per failure.
    assert_eq!(m.mean_time_to_failure_seconds, Some(2400.0));
    // A window that ends before it is restored: down from 40 to its end at 45.
    let m = c.dora("shop/cart", Some("prod"), at_min(0), at_min(45));
    assert_eq!(m.mean_time_to_failure_seconds, Some(30.0 * 60.0));
    // No failure, no MTTF; and staging's failure-free hour has none.
    let m = c.dora("shop/cart", Some("prod"), at_min(0), at_min(30));
    assert_eq!(
        (m.failed_deployments, m.mean_time_to_failure_seconds),
        (0, None)
    );
    assert_eq!(
        c.dora("shop/cart", Some("staging"), at_min(0), at_min(60))
            .mean_time_to_failure_seconds,
        None
    );
}

/// A deterministic shuffle (xorshift), so a failure names its seed.
fn shuffled(events: &[RecordedEvent], seed: u64) -> Vec<RecordedEvent> {
    let mut v = events.to_vec();
    let mut x = seed.max(1);
    for i in (1..v.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.swap(i, (x % (i as u64 + 1)) as usize);
    }
    v
}

fn fold_rebased(events: &[RecordedEvent]) -> Catalog {
    let mut c = Catalog::new();
    for e in events {
        let mut e = e.clone();
        e.seq = 0;
        c.apply(&e);
        c.verify().unwrap();
    }
    c
}

#[test]
fn inventory_at_any_moment_matches_the_hand_computed_history() {
    let events = sequence();
    expectations(&fold_rebased(&events));
}

#[test]
fn any_arrival_order_and_any_replay_give_the_same_answers() {
    let events = sequence();
    for seed in 1..=60u64 {
        let mut order = shuffled(&events, seed);
        // Replays: the first three again, at the end.
        order.extend(order[..3].to_vec());
        let c = fold_rebased(&order);
        expectations(&c);
    }
}

#[test]
fn a_snapshot_at_any_point_gives_the_same_answers() {
    let events: Vec<RecordedEvent> = sequence()
        .into_iter()
        .enumerate()
        .map(|(i, mut e)| {
            e.seq = i as i64 + 1;
            e
        })
        .collect();
    for split in super::snapshot::splits(events.len()) {
        let mut c = super::snapshot::through_snapshot(&events, split);
        expectations(&c);
        // Configuration is not the log's: a restored catalog takes it as a fresh one does.
        c.set_cluster_environments(HashMap::from([("staging-1".to_string(), "qa".to_string())]));
        let names: Vec<String> = c.environments().into_iter().map(|e| e.name).collect();
        assert_eq!(names, vec!["prod".to_string(), "qa".to_string()]);
    }
}

#[test]
fn an_image_deployed_before_it_is_registered_is_linked_when_it_is() {
    let mut c = Catalog::new();
    let d = format!("sha256:{}", "a".repeat(64));
    let ev = deploy(1, 5, "prod", "cart", S::Healthy, Some("shop/cart:1.0.0"));
    c.apply(&ev);
    let now = c.where_is(&WhereIs::Component("shop/cart".into()), None);
    assert_eq!(now.len(), 1);
    assert!(!now[0].runs[0].known, "not registered yet");
    assert_eq!(now[0].runs[0].digest, None);
    assert_eq!(now[0].runs[0].version.as_deref(), Some("1.0.0"));
    // The push is registered later (it happened earlier, at minute 1).
    let mut p = push(
        2,
        1,
        "1.0.0",
        &d,
        &[(catalog_core::identity::labels::OWNER, "checkout")],
    );
    p.key = "p2".into();
    c.apply(&p);
    c.verify().unwrap();
    let now = c.where_is(&WhereIs::Component("shop/cart".into()), None);
    assert_eq!(now[0].runs[0].digest.as_deref(), Some(d.as_str()));
    assert!(now[0].runs[0].known);
    assert_eq!(now[0].runs[0].owner.as_deref(), Some("checkout"));
    assert_eq!(c.where_is(&WhereIs::Image(d.clone()), None).len(), 1);
}

#[test]
fn a_moving_tag_resolves_to_what_it_meant_when_deployed() {
    let mut c = Catalog::new();
    let (a, b) = (
        format!("sha256:{}", "a".repeat(64)),
        format!("sha256:{}", "b".repeat(64)),
    );
    c.apply(&push(1, 1, "latest", &a, &[]));
    c.apply(&deploy(
        2,
        2,
        "prod",
        "cart",
        S::Healthy,
        Some("shop/cart:latest"),
    ));
    c.apply(&push(3, 3, "latest", &b, &[]));
    let d = c.where_is(&WhereIs::Image(a.clone()), None);
    assert_eq!(
        d.len(),
        1,
        "the workload still runs what `latest` was at minute 2"
    );
    assert!(c.where_is(&WhereIs::Image(b), None).is_empty());
    c.verify().unwrap();
}

#[test]
fn configuration_maps_clusters_to_environments() {
    let mut c = fold_rebased(&sequence());
    c.set_cluster_environments(HashMap::from([("staging-1".to_string(), "qa".to_string())]));
    let names: Vec<String> = c.environments().into_iter().map(|e| e.name).collect();
    assert_eq!(names, vec!["prod".to_string(), "qa".to_string()]);
    let qa = c.inventory(
        &InventoryScope {
            environment: Some("qa".into()),
            ..Default::default()
        },
        None,
    );
    assert_eq!(qa.len(), 2);
}

#[test]
fn an_inventory_page_is_the_same_slice_of_the_whole_inventory() {
    let c = fold_rebased(&sequence());
    let scopes = [
        InventoryScope::default(),
        InventoryScope {
            cluster: Some("prod-eu-1".into()),
            ..Default::default()
        },
        InventoryScope {
            cluster: Some("nowhere".into()),
            ..Default::default()
        },
    ];
    let mut pages = 0;
    for scope in &scopes {
        for at in [
            None,
            Some(at_min(0)),
            Some(at_min(5)),
            Some(at_min(30)),
            Some(at_min(1000)),
        ] {
            let all = c.inventory(scope, at);
            for offset in 0..=all.len() + 1 {
                for first in [0, 1, 2, 3, 50] {
                    let (total, page) = c.inventory_page(scope, at, offset, first);
                    assert_eq!(total, all.len(), "{scope:?} {at:?}");
                    let want: Vec<_> = all.iter().skip(offset).take(first).cloned().collect();
                    assert_eq!(page, want, "{scope:?} {at:?} {offset} {first}");
                    pages += usize::from(!page.is_empty());
                }
            }
        }
    }
    assert!(
        pages > 20,
        "the history has deployments to page through: {pages}"
    );
}

/// A random history of one repository's versions deployed by tag, by digest and by name
/// across two clusters, with removals and snapshots.
fn random_history(seed: u64) -> Vec<RecordedEvent> {
    let mut x = seed.max(1);
    let mut next = |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let digest = |k: u64| format!("sha256:{}", &format!("{k:x}").repeat(64)[..64]);
    let mut out: Vec<RecordedEvent> = (0..4u64)
        .map(|k| {
            push(
                k as i64 + 1,
                k as u32,
                &format!("1.0.{k}"),
                &digest(k + 1),
                &[],
            )
        })
        .collect();
    for i in 0..60u32 {
        let seq = 10 + i64::from(i);
        let cluster = ["prod-1", "staging-1"][next(2) as usize];
        if next(12) == 0 {
            // A snapshot listing one workload of the cluster (the others end).
            let w = ["cart", "api", "web"][next(3) as usize];
            let mut e = rec(
                seq,
                0,
                Event::ClusterSnapshot(ClusterSnapshot {
                    cluster: cluster.into(),
                    environment: None,
                    workloads: vec![observed(
                        cluster,
                        "shop",
                        w,
                        S::Healthy,
                        vec![image(&format!("{CART}:1.0.{}", next(4)))],
                    )],
                }),
            );
            e.key = format!("snap{seq}");
            e.occurred_at = at_min(10 + i);
            out.push(e);
            continue;
        }
        let k = next(4);
        let run = match next(4) {
            0 => image(&format!("{CART}:1.0.{k}")),
            1 => image(&format!("{CART}@{}", digest(k + 1))),
            2 => Run {
                container: None,
                image: None,
                component: Some(CART.into()),
                version: Some(format!("1.0.{k}")),
                traffic: None,
                track: None,
            },
            _ => Run {
                container: None,
                image: None,
                component: Some(API.into()),
                version: Some(format!("2.0.{k}")),
                traffic: None,
                track: None,
            },
        };
        let status = [
            S::Healthy,
            S::Progressing,
            S::Failed,
            S::Healthy,
            S::Removed,
        ][next(5) as usize];
        let runs = if status == S::Removed {
            Vec::new()
        } else {
            vec![run]
        };
        let w = ["cart", "api", "web"][next(3) as usize];
        let mut e = rec(
            seq,
            0,
            Event::DeploymentObserved(observed(cluster, "shop", w, status, runs)),
        );
        e.key = format!("d{seq}");
        e.occurred_at = at_min(10 + i);
        out.push(e);
    }
    out
}

#[test]
fn a_versions_history_is_the_components_history_narrowed_to_it() {
    for seed in 1..=40u64 {
        let events = random_history(seed);
        let c = fold_rebased(&shuffled(&events, seed));
        let mut versions: Vec<(String, String)> = (0..4)
            .map(|k| (CART.to_string(), format!("1.0.{k}")))
            .chain((0..4).map(|k| (API.to_string(), format!("2.0.{k}"))))
            .collect();
        versions.push((CART.into(), "9.9.9".into()));
        for (component, version) in versions {
            let filter = DeploymentFilter {
                component: Some(component.clone()),
                ..Default::default()
            };
            let mut want: Vec<String> = c
                .deployments(&filter, usize::MAX, None)
                .items
                .into_iter()
                .filter(|d| {
                    d.runs.iter().any(|r| {
                        r.component.as_deref() == Some(component.as_str())
                            && r.version.as_deref() == Some(version.as_str())
                    })
                })
                .map(|d| d.id)
                .collect();
            want.sort();
            let mut got: Vec<String> = c
                .version_history(&component, &version)
                .into_iter()
                .map(|d| d.id)
                .collect();
            got.sort();
            assert_eq!(got, want, "seed {seed}: {component} {version}");
        }
        // A report starts a deployment exactly when the history has one starting at it.
        let starts: std::collections::HashSet<String> = c
            .deployments(&DeploymentFilter::default(), usize::MAX, None)
            .items
            .into_iter()
            .map(|d| d.id)
            .collect();
        let mut started = 0;
        for e in &events {
            let observed: Vec<(&str, &DeploymentObserved)> = match &e.event {
                Event::DeploymentObserved(d) => vec![(d.cluster.as_str(), d)],
                Event::ClusterSnapshot(s) => s
                    .workloads
                    .iter()
                    .map(|w| (s.cluster.as_str(), w))
                    .collect(),
                _ => continue,
            };
            for (cluster, d) in observed {
                let id = format!("{cluster}/{}/{}#{}", d.namespace, d.workload, e.key);
                let got = c.deployment_started_by(
                    (cluster, &d.namespace, &d.workload),
                    e.occurred_at,
                    &e.key,
                );
                assert_eq!(
                    got.as_ref().map(|d| d.id.clone()),
                    starts.get(&id).cloned(),
                    "seed {seed}: {id}"
                );
                started += usize::from(got.is_some());
            }
        }
        assert!(
            started > 5,
            "seed {seed}: the history must start deployments ({started})"
        );
    }
}

/// A run of `cart` at `version` on a canary's `track` with `traffic` percent.
fn share(version: &str, track: Option<Track>, traffic: Option<u8>) -> Run {
    Run {
        traffic,
        track,
        ..image(&format!("{CART}:{version}"))
    }
}

/// prod cart, minutes after 09:00: 10 1.0.0; a canary of 1.1.0 at 10% (20) and 50% (30),
/// promoted (40); a canary of 1.2.0 at 10% (50), aborted (55: degraded, at 0%) and gone
/// (56: the stable 1.1.0 alone). Without `degraded_report`, the abort shows only as the
/// stable version alone at 55.
fn canary_history(degraded_report: bool) -> Vec<RecordedEvent> {
    use Track::{Canary, Stable};
    let report = |seq: i64, min: u32, status: S, runs: Vec<Run>| {
        let mut e = deploy(seq, min, "prod-eu-1", "cart", status, None);
        if let Event::DeploymentObserved(d) = &mut e.event {
            d.runs = runs;
            d.environment = Some("prod".into());
        }
        e
    };
    let mut v = vec![
        report(1, 10, S::Healthy, vec![share("1.0.0", None, None)]),
        report(
            2,
            20,
            S::Progressing,
            vec![
                share("1.0.0", Some(Stable), Some(90)),
                share("1.1.0", Some(Canary), Some(10)),
            ],
        ),
        report(
            3,
            30,
            S::Progressing,
            vec![
                share("1.0.0", Some(Stable), Some(50)),
                share("1.1.0", Some(Canary), Some(50)),
            ],
        ),
        // Argo Rollouts reports a promoted canary as the stable side at 100%.
        report(
            4,
            40,
            S::Healthy,
            vec![share("1.1.0", Some(Stable), Some(100))],
        ),
        report(
            5,
            50,
            S::Progressing,
            vec![
                share("1.1.0", Some(Stable), Some(90)),
                share("1.2.0", Some(Canary), Some(10)),
            ],
        ),
    ];
    if degraded_report {
        v.push(report(
            6,
            55,
            S::Degraded,
            vec![
                share("1.1.0", Some(Stable), Some(100)),
                share("1.2.0", Some(Canary), Some(0)),
            ],
        ));
        v.push(report(
            7,
            56,
            S::Healthy,
            vec![share("1.1.0", Some(Stable), Some(100))],
        ));
    } else {
        v.push(report(7, 55, S::Healthy, vec![share("1.1.0", None, None)]));
    }
    v
}

/// (version, track, traffic) of prod's cart at a minute, and its deployment's start minute.
/// A run as the canary test compares it: (version, track, traffic).
type Share = (String, Option<Track>, Option<u8>);

fn shares(c: &Catalog, m: u32) -> (Vec<Share>, i64) {
    let scope = InventoryScope {
        cluster: Some("prod-eu-1".into()),
        ..Default::default()
    };
    let d = c
        .inventory(&scope, Some(at_min(m)))
        .into_iter()
        .find(|d| d.workload == "cart")
        .expect("cart runs");
    let mut runs: Vec<_> = d
        .runs
        .iter()
        .map(|r| (r.version.clone().unwrap_or_default(), r.track, r.traffic))
        .collect();
    runs.sort();
    (runs, (d.since - at(0)).num_minutes())
}

fn canary_expectations(c: &Catalog, degraded_report: bool) {
    use Track::{Canary, Stable};
    let s = |v: &str, t: Option<Track>, p: Option<u8>| (v.to_string(), t, p);
    assert_eq!(shares(c, 15), (vec![s("1.0.0", None, None)], 10));
    assert_eq!(
        shares(c, 25),
        (
            vec![
                s("1.0.0", Some(Stable), Some(90)),
                s("1.1.0", Some(Canary), Some(10))
            ],
            20
        )
    );
    assert_eq!(
        shares(c, 35),
        (
            vec![
                s("1.0.0", Some(Stable), Some(50)),
                s("1.1.0", Some(Canary), Some(50))
            ],
            20
        )
    );
    // Promoted: the deployment that began at 10% goes on.
    assert_eq!(
        shares(c, 45),
        (vec![s("1.1.0", Some(Stable), Some(100))], 20)
    );
    assert_eq!(
        shares(c, 52).0,
        vec![
            s("1.1.0", Some(Stable), Some(90)),
            s("1.2.0", Some(Canary), Some(10))
        ]
    );
    // Where 1.0.0 runs: during the canary of 1.1.0 (at 90%), not after its promotion.
    let where_is = |v: &str, m: u32| {
        c.where_is(
            &WhereIs::Version {
                component: CART.into(),
                version: v.into(),
            },
            Some(at_min(m)),
        )
        .len()
    };
    assert_eq!([15, 25, 35, 45].map(|m| where_is("1.0.0", m)), [1, 1, 1, 0]);
    assert_eq!(
        [15, 25, 45, 52, 58].map(|m| where_is("1.2.0", m)),
        [0, 0, 0, 1, 0]
    );
    assert_eq!([15, 25, 58].map(|m| where_is("1.1.0", m)), [0, 1, 1]);

    // DORA over the hour: 1.0.0, the 1.1.0 canary (one, however many steps) and the 1.2.0
    // canary are deployments; 1.1.0 serving alone again after the abort is its recovery.
    let m = c.dora(CART, Some("prod"), at_min(0), at_min(60));
    assert_eq!(m.deployments, 3);
    assert_eq!(m.failed_deployments, 1);
    assert_eq!(m.change_failure_rate, Some(1.0 / 3.0));
    assert_eq!(m.restored, 1);
    if degraded_report {
        // Failed at 55, restored at 56; cart ran from 10 to 60, down one minute.
        assert_eq!(m.time_to_restore_median_seconds, Some(60.0));
        assert_eq!(m.mean_time_to_failure_seconds, Some(49.0 * 60.0));
    } else {
        // The abort is seen when the stable version serves alone: failure and restore at 55.
        assert_eq!(m.time_to_restore_median_seconds, Some(0.0));
        assert_eq!(m.mean_time_to_failure_seconds, Some(50.0 * 60.0));
    }
    // Before the second canary: two deployments, no failure.
    let m = c.dora(CART, Some("prod"), at_min(0), at_min(50));
    assert_eq!((m.deployments, m.failed_deployments), (2, 0));
}

#[test]
fn a_canary_is_one_deployment_and_an_aborted_one_a_recovered_failure() {
    for degraded_report in [true, false] {
        let events = canary_history(degraded_report);
        canary_expectations(&fold_rebased(&events), degraded_report);
        for seed in 1..=20u64 {
            let mut order = shuffled(&events, seed);
            order.extend(order[..2].to_vec());
            canary_expectations(&fold_rebased(&order), degraded_report);
        }
    }
}

fn config(
    seq: i64,
    min: u32,
    scope: ConfigScope,
    values: &[(&str, Option<&str>)],
) -> RecordedEvent {
    let mut e = rec(
        seq,
        0,
        Event::ConfigSet(ConfigSet {
            scope,
            values: values
                .iter()
                .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
                .collect(),
        }),
    );
    e.key = format!("c{seq}");
    e.occurred_at = at_min(min);
    e
}

/// prod and staging set the same three keys at 10 (staging logs at debug); prod-eu-1 sets a
/// longer timeout at 20; prod logs at warn and drops the feature flag at 30.
pub(super) fn config_history() -> Vec<RecordedEvent> {
    let env = |e: &str| ConfigScope::Environment(e.into());
    vec![
        config(
            1,
            10,
            env("prod"),
            &[
                ("LOG_LEVEL", Some("info")),
                ("TIMEOUT", Some("30")),
                ("FEATURE_X", Some("on")),
            ],
        ),
        config(
            2,
            10,
            env("staging"),
            &[
                ("LOG_LEVEL", Some("debug")),
                ("TIMEOUT", Some("30")),
                ("FEATURE_X", Some("on")),
            ],
        ),
        config(
            3,
            20,
            ConfigScope::Cluster("prod-eu-1".into()),
            &[("TIMEOUT", Some("45"))],
        ),
        config(
            4,
            30,
            env("prod"),
            &[("LOG_LEVEL", Some("warn")), ("FEATURE_X", None)],
        ),
    ]
}

fn config_expectations(c: &mut Catalog) {
    c.set_cluster_environments(HashMap::from([(
        "prod-eu-1".to_string(),
        "prod".to_string(),
    )]));
    let env = |e: &str| InventoryScope {
        environment: Some(e.into()),
        ..Default::default()
    };
    let cluster = InventoryScope {
        cluster: Some("prod-eu-1".into()),
        ..Default::default()
    };
    let values = |s: &InventoryScope, m: Option<u32>| -> Vec<(String, String)> {
        c.configuration(s, m.map(at_min))
            .into_values()
            .map(|v| (v.key, v.value))
            .collect()
    };
    let kv = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    assert_eq!(values(&env("prod"), Some(5)), kv(&[]));
    assert_eq!(
        values(&env("prod"), Some(15)),
        kv(&[
            ("FEATURE_X", "on"),
            ("LOG_LEVEL", "info"),
            ("TIMEOUT", "30")
        ])
    );
    // The cluster's own value overrides its environment's.
    assert_eq!(
        values(&cluster, Some(25)),
        kv(&[
            ("FEATURE_X", "on"),
            ("LOG_LEVEL", "info"),
            ("TIMEOUT", "45")
        ])
    );
    assert_eq!(
        values(&env("prod"), None),
        kv(&[("LOG_LEVEL", "warn"), ("TIMEOUT", "30")])
    );
    let diff = |a: &InventoryScope,
                b: &InventoryScope,
                m: Option<u32>|
     -> Vec<(String, Option<String>, Option<String>)> {
        c.configuration_diff(a, b, m.map(at_min))
            .into_iter()
            .map(|d| (d.key, d.from, d.to))
            .collect()
    };
    let s = |v: &str| Some(v.to_string());
    assert_eq!(
        diff(&env("staging"), &env("prod"), None),
        vec![
            ("FEATURE_X".into(), s("on"), None),
            ("LOG_LEVEL".into(), s("debug"), s("warn")),
        ]
    );
    assert_eq!(
        diff(&env("staging"), &cluster, Some(25)),
        vec![
            ("LOG_LEVEL".into(), s("debug"), s("info")),
            ("TIMEOUT".into(), s("30"), s("45")),
        ]
    );
    let history: Vec<(Option<String>, i64)> = c
        .configuration_history(&ConfigScope::Environment("prod".into()), Some("FEATURE_X"))
        .into_iter()
        .map(|h| (h.value, (h.at - at(0)).num_minutes()))
        .collect();
    assert_eq!(history, vec![(s("on"), 10), (None, 30)]);
}

#[test]
fn configuration_layers_its_scopes_keeps_history_and_diffs_any_two() {
    let events = config_history();
    config_expectations(&mut fold_rebased(&events));
    for seed in 1..=20u64 {
        let mut order = shuffled(&events, seed);
        order.extend(order[..2].to_vec());
        config_expectations(&mut fold_rebased(&order));
    }
    let numbered: Vec<RecordedEvent> = events
        .into_iter()
        .enumerate()
        .map(|(i, mut e)| {
            e.seq = i as i64 + 1;
            e
        })
        .collect();
    for split in super::snapshot::splits(numbered.len()) {
        config_expectations(&mut super::snapshot::through_snapshot(&numbered, split));
    }
}
