//! The fold's rules, checked as a user sees them: versions, tags, deletes, owners, and that
//! arrival order and replays do not change the outcome.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use catalog_core::event::{Event, ImageRegistered, RecordedEvent};
use catalog_core::identity::labels;
use catalog_core::{Catalog, Platform};
use chrono::{DateTime, TimeZone, Utc};
use std::collections::BTreeMap;

fn at(min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, min, 0)
        .single()
        .unwrap()
}

fn push(seq: i64, min: u32, tag: &str, digest: &str, labels_: &[(&str, &str)]) -> RecordedEvent {
    let labels: BTreeMap<String, String> = labels_
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let version = catalog_core::identity::version_of(Some(tag), &labels);
    RecordedEvent {
        seq,
        key: format!("k{seq}"),
        occurred_at: at(min),
        recorded_at: at(min),
        source: "test".into(),
        actor: "test".into(),
        event: Event::ImageRegistered(ImageRegistered {
            registry: "r".into(),
            repository: "shop/cart".into(),
            digest: digest.into(),
            tag: Some(tag.into()),
            media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            size: 431,
            platforms: vec![Platform {
                os: "linux".into(),
                architecture: "amd64".into(),
                variant: None,
                digest: digest.into(),
            }],
            labels,
            created: None,
            component: "shop/cart".into(),
            version,
            tag_resolved: false,
        }),
    }
}

pub(crate) fn rec(seq: i64, min: u32, event: Event) -> RecordedEvent {
    RecordedEvent {
        seq,
        key: format!("k{seq}"),
        occurred_at: at(min),
        recorded_at: at(min),
        source: "test".into(),
        actor: "test".into(),
        event,
    }
}

pub(crate) fn history() -> Vec<RecordedEvent> {
    vec![
        push(
            1,
            1,
            "1.0.0",
            "sha256:a",
            &[(labels::REVISION, "r1"), (labels::OWNER, "checkout")],
        ),
        push(2, 2, "1.1.0", "sha256:b", &[(labels::REVISION, "r2")]),
        push(3, 3, "latest", "sha256:b", &[(labels::VERSION, "1.1.0")]),
        rec(
            4,
            4,
            Event::OwnerSet {
                component: "shop/cart".into(),
                team: "payments".into(),
                via: "api".into(),
            },
        ),
        // A later label must not beat the explicit owner.
        push(5, 5, "1.2.0", "sha256:c", &[(labels::OWNER, "checkout")]),
        rec(
            6,
            6,
            Event::ManifestDeleted {
                registry: "r".into(),
                repository: "shop/cart".into(),
                digest: "sha256:a".into(),
            },
        ),
        rec(
            7,
            7,
            Event::TagDeleted {
                registry: "r".into(),
                repository: "shop/cart".into(),
                tag: "1.2.0".into(),
            },
        ),
    ]
}

fn summary(c: &Catalog) -> String {
    let comp = c.component("shop/cart").unwrap();
    let versions: Vec<String> = c
        .versions("shop/cart", true)
        .iter()
        .map(|v| {
            format!(
                "{}={} tags={:?} deleted={}",
                v.version,
                v.digest,
                v.tags,
                v.deleted_at.is_some()
            )
        })
        .collect();
    format!(
        "owner={:?} latest={:?} {:?}",
        comp.owner, comp.latest_version, versions
    )
}

#[test]
fn fold_gives_versions_tags_owner_and_deletes() {
    let mut c = Catalog::new();
    for e in history() {
        c.apply(&e);
        c.verify().unwrap();
    }
    let comp = c.component("shop/cart").unwrap();
    assert_eq!(comp.owner.as_deref(), Some("payments"));
    assert_eq!(comp.latest_version.as_deref(), Some("1.2.0"));
    assert_eq!(comp.version_count, 2, "1.0.0 was deleted");
    let vs = c.versions("shop/cart", false);
    assert_eq!(
        vs.iter().map(|v| v.version.as_str()).collect::<Vec<_>>(),
        ["1.2.0", "1.1.0"]
    );
    assert_eq!(vs[1].tags, ["1.1.0", "latest"]);
    assert!(vs[0].tags.is_empty(), "tag 1.2.0 was deleted");
    let all = c.versions("shop/cart", true);
    assert_eq!(all.len(), 3);
    assert!(all[2].deleted_at.is_some());
    assert_eq!(all[2].revision.as_deref(), Some("r1"));
    assert_eq!(c.team("payments").unwrap().components, ["shop/cart"]);
    assert!(c.team("checkout").unwrap().components.is_empty());
    assert_eq!(c.repository_tags("r", "shop/cart").len(), 2);
}

#[test]
fn any_arrival_order_gives_the_same_state() {
    let mut expected = Catalog::new();
    for e in history() {
        expected.apply(&e);
    }
    let want = summary(&expected);
    // Every rotation and the reverse, with sequence numbers reassigned in arrival order
    // (as the store would) so nothing is skipped as already seen.
    let base = history();
    let mut orders: Vec<Vec<RecordedEvent>> = (0..base.len())
        .map(|r| {
            let mut v = base.clone();
            v.rotate_left(r);
            v
        })
        .collect();
    orders.push(base.iter().rev().cloned().collect());
    for order in orders {
        let mut c = Catalog::new();
        for (i, mut e) in order.into_iter().enumerate() {
            e.seq = i as i64 + 1;
            c.apply(&e);
            c.verify().unwrap();
        }
        assert_eq!(summary(&c), want);
    }
}

#[test]
fn a_snapshot_at_any_point_gives_the_same_state() {
    let events = history();
    let want = summary(&{
        let mut c = Catalog::new();
        c.apply_all(&events);
        c
    });
    for split in snapshot::splits(events.len()) {
        let c = snapshot::through_snapshot(&events, split);
        assert_eq!(summary(&c), want, "snapshot after {split} events");
        assert_eq!(c.repository_tags("r", "shop/cart").len(), 2);
    }
}

#[test]
fn replays_change_nothing() {
    let mut c = Catalog::new();
    for e in history() {
        c.apply(&e);
    }
    let before = (summary(&c), c.node_count(), c.edge_count());
    for e in history() {
        c.apply(&e);
    }
    // Replays as new sequence numbers (a re-sent notification recorded under a new key would
    // be such a case) still change nothing.
    for (i, mut e) in history().into_iter().enumerate() {
        e.seq = 100 + i as i64;
        c.apply(&e);
    }
    assert_eq!((summary(&c), c.node_count(), c.edge_count()), before);
}

#[test]
fn prefix_search_and_pagination() {
    let mut c = Catalog::new();
    for (i, name) in ["shop/cart", "shop/web", "shop/api", "bank/ledger"]
        .iter()
        .enumerate()
    {
        let mut e = push(i as i64 + 1, 1, "1.0.0", &format!("sha256:{i}"), &[]);
        if let Event::ImageRegistered(r) = &mut e.event {
            r.component = name.to_string();
            r.repository = name.to_string();
        }
        c.apply(&e);
    }
    let p = c.components("shop/", None, 2, None);
    assert_eq!(
        p.items.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["shop/api", "shop/cart"]
    );
    assert!(p.has_next);
    let p2 = c.components("shop/", None, 2, Some("shop/cart"));
    assert_eq!(
        p2.items.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["shop/web"]
    );
    assert!(!p2.has_next);
    assert!(c.components("zzz", None, 10, None).items.is_empty());
}

#[path = "integration/blast_property.rs"]
mod blast_property;
#[path = "integration/governance.rs"]
mod governance;
#[path = "integration/graph.rs"]
mod graph;
#[path = "integration/inventory.rs"]
mod inventory;

#[path = "integration/osv.rs"]
mod osv;
#[path = "integration/packages.rs"]
mod packages;
#[path = "integration/purl.rs"]
mod purl;
#[path = "integration/purl_spec.rs"]
mod purl_spec;
#[path = "integration/reference.rs"]
mod reference;
#[path = "integration/snapshot.rs"]
mod snapshot;
#[path = "integration/tagged.rs"]
mod tagged;
#[path = "integration/versioning.rs"]
mod versioning;
#[path = "integration/vex.rs"]
mod vex;

/// A component's search line (versions, owner) follows every push, delete and owner change,
/// asked after each event, so a table of live versions built for one answer is never reused
/// after the catalog changed.
#[test]
fn a_component_search_line_follows_pushes_deletes_and_owners() {
    let mut c = Catalog::new();
    let mut lines = std::collections::BTreeSet::new();
    for e in history() {
        c.apply(&e);
        let Some(comp) = c.component("shop/cart") else {
            continue;
        };
        let mut want = format!("{} versions", comp.version_count);
        if let Some(o) = &comp.owner {
            want.push_str(&format!(", owned by {o}"));
        }
        let hit = c
            .search("cart", &[catalog_core::graph::SearchKind::Component], 10)
            .into_iter()
            .find(|h| h.id == "shop/cart")
            .expect("the component is found");
        assert_eq!(
            hit.detail.as_deref(),
            Some(want.as_str()),
            "after {}",
            e.key
        );
        lines.insert(want);
    }
    assert!(lines.len() >= 3, "the history changes the line: {lines:?}");
}
