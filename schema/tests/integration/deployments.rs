//! Deployments in the store: observations and snapshots recorded once (replays change
//! nothing), and the SQL view of "what ran where at `t`" equal to the graph's, at every
//! moment, whatever the arrival order.

use super::{at, new_event, record_each, TestDb};
use catalog_core::deployment::{
    ClusterSnapshot, DeploymentObserved, DeploymentStatus as S, ImageRef, Run,
};
use catalog_core::event::{Event, NewEvent};
use catalog_core::{Catalog, InventoryScope};
use catalog_schema::{to_micros, Store};

fn observed(cluster: &str, workload: &str, status: S, tag: Option<&str>) -> DeploymentObserved {
    DeploymentObserved {
        cluster: cluster.into(),
        namespace: "shop".into(),
        workload: workload.into(),
        environment: Some(
            if cluster.starts_with("prod") {
                "prod"
            } else {
                "staging"
            }
            .into(),
        ),
        status,
        replicas: Some(3),
        runs: tag
            .map(|t| {
                vec![Run {
                    container: Some(workload.into()),
                    image: Some(
                        ImageRef::parse(&format!("registry.test/shop/{workload}:{t}")).unwrap(),
                    ),
                    component: None,
                    version: None,
                }]
            })
            .unwrap_or_default(),
        revision: None,
        url: None,
    }
}

fn deploy(
    n: u32,
    min: u32,
    cluster: &str,
    workload: &str,
    status: S,
    tag: Option<&str>,
) -> NewEvent {
    new_event(
        format!("deploy:{n}"),
        min,
        Event::DeploymentObserved(observed(cluster, workload, status, tag)),
    )
}

pub(super) fn events() -> Vec<NewEvent> {
    vec![
        deploy(1, 1, "prod-1", "cart", S::Healthy, Some("1.0.0")),
        deploy(2, 2, "staging-1", "cart", S::Healthy, Some("1.1.0")),
        deploy(3, 3, "prod-1", "cart", S::Failed, Some("1.1.0")),
        deploy(4, 4, "prod-1", "cart", S::RolledBack, Some("1.0.0")),
        deploy(5, 5, "staging-1", "api", S::Healthy, Some("2.0.0")),
        new_event(
            "snapshot:6".into(),
            6,
            Event::ClusterSnapshot(ClusterSnapshot {
                cluster: "staging-1".into(),
                environment: None,
                workloads: vec![observed("staging-1", "cart", S::Healthy, Some("1.1.0"))],
            }),
        ),
        deploy(7, 7, "prod-1", "cart", S::Removed, None),
        deploy(8, 8, "prod-1", "api", S::Healthy, Some("2.0.0")),
    ]
}

/// (namespace/workload, status) per cluster at minute `m`, from SQL.
fn sql_view(store: &Store, cluster: &str, m: u32) -> Vec<(String, String)> {
    store
        .inventory_sql(cluster, to_micros(at(m)))
        .unwrap()
        .into_iter()
        .map(|r| (format!("{}/{}", r.namespace, r.workload), r.status))
        .collect()
}

fn graph_view(c: &Catalog, cluster: &str, m: u32) -> Vec<(String, String)> {
    c.inventory(
        &InventoryScope {
            cluster: Some(cluster.into()),
            ..Default::default()
        },
        Some(at(m)),
    )
    .into_iter()
    .map(|d| {
        (
            format!("{}/{}", d.namespace, d.workload),
            d.status.as_str().to_string(),
        )
    })
    .collect()
}

pub(super) fn observations_and_snapshots_match_the_graph_at_every_moment(
    store: &Store,
    _db: &TestDb,
) {
    let mut evs = events();
    // Out of order: the later half first.
    evs.rotate_left(4);
    let recorded = record_each(store, &evs);
    assert_eq!(recorded.len(), evs.len());
    let counts = store.state_counts().unwrap();
    assert_eq!(
        counts["deployment_observations"], 8,
        "7 reports + 1 workload in the snapshot"
    );
    assert_eq!(counts["cluster_snapshots"], 1);
    assert_eq!(counts["clusters"], 2);
    // Replays change nothing.
    let batch: Vec<(Option<i64>, Vec<NewEvent>)> = vec![(None, evs.clone())];
    assert!(store.record(&batch).unwrap().is_empty());
    assert_eq!(store.state_counts().unwrap(), counts);

    let mut c = Catalog::new();
    for e in store.events_page(100, 0, None).unwrap() {
        c.apply(&e);
    }
    c.verify().unwrap();
    for m in 0..10 {
        for cluster in ["prod-1", "staging-1"] {
            assert_eq!(
                sql_view(store, cluster, m),
                graph_view(&c, cluster, m),
                "{cluster} at minute {m}"
            );
        }
    }
    // Spot checks against the hand-computed history.
    assert_eq!(
        sql_view(store, "prod-1", 3),
        vec![("shop/cart".into(), "failed".into())]
    );
    assert_eq!(sql_view(store, "prod-1", 7), vec![]);
    assert_eq!(
        sql_view(store, "staging-1", 5),
        vec![
            ("shop/api".into(), "healthy".into()),
            ("shop/cart".into(), "healthy".into())
        ]
    );
    assert_eq!(
        sql_view(store, "staging-1", 6),
        vec![("shop/cart".into(), "healthy".into())]
    );
    let clusters = store.clusters().unwrap();
    assert_eq!(
        clusters,
        vec![
            ("prod-1".to_string(), Some("prod".to_string())),
            ("staging-1".to_string(), Some("staging".to_string()))
        ]
    );
}
