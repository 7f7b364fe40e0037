//! Events as JSON: every kind reads back as written, whether its `kind` tag comes first (as
//! the catalog writes it: read without buffering) or anywhere else; a missing or unknown tag
//! is an error that says so.

use catalog_core::event::{Event, EventKind, RecordedEvent};
use catalog_core::vex::{VexDocument, VexProduct, VexStatement, VexStatus};
use std::collections::BTreeSet;

fn every_kind() -> Vec<RecordedEvent> {
    let mut all = super::graph::shop();
    all.extend(super::graph::store());
    all.extend(super::packages::history());
    all.extend(super::inventory::sequence());
    all.extend(super::inventory::config_history());
    all.extend(super::history());
    all.extend(super::governance::history());
    all.push(super::rec(
        900,
        50,
        Event::DependencyRemoved {
            from: "shop/web".into(),
            to: "shop/cart".into(),
        },
    ));
    all.push(super::rec(
        902,
        52,
        Event::NotificationRuleSet(catalog_core::notify::NotificationRule {
            team: Some("payments".into()),
            environment: None,
            endpoints: vec!["pd-payments".into(), "slack".into()],
            on: catalog_core::notify::Trigger::ALL.to_vec(),
            min_severity: Some(catalog_core::notify::Severity::Critical),
            removed: false,
        }),
    ));
    // Every optional field of a statement set, so each reads back.
    let at = super::rec(
        0,
        51,
        Event::DependencyRemoved {
            from: String::new(),
            to: String::new(),
        },
    )
    .occurred_at;
    all.push(super::rec(
        901,
        51,
        Event::VexRecorded(Box::new(VexDocument {
            id: "https://vendor.example/vex/1".into(),
            format: "openvex".into(),
            via: "upload".into(),
            author: "security@vendor.example".into(),
            statements: vec![VexStatement {
                vulnerability: "CVE-2021-44228".into(),
                aliases: vec!["GHSA-jfh8-c2jp-5v3q".into()],
                products: vec![
                    VexProduct::Image {
                        digest: "sha256:c0".into(),
                    },
                    VexProduct::ComponentVersion {
                        component: "shop/cart".into(),
                        version: "1.0.0".into(),
                    },
                    VexProduct::Package {
                        purl: "pkg:npm/lodash@4.17.20".into(),
                    },
                ],
                subcomponents: vec!["pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1".into()],
                status: VexStatus::NotAffected,
                justification: Some("vulnerable_code_not_in_execute_path".into()),
                impact: Some("JNDI is off".into()),
                action: Some("none".into()),
                timestamp: at,
                until: Some(at),
            }],
        })),
    ));
    all
}

#[test]
fn every_kind_reads_back_with_its_tag_first_or_anywhere() {
    let events = every_kind();
    let kinds: BTreeSet<&str> = events.iter().map(|e| e.event.kind().as_str()).collect();
    let all: BTreeSet<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(kinds, all, "the fixtures hold every kind");
    let mut tag_later = 0;
    for e in &events {
        let first = serde_json::to_string(&e.event).unwrap();
        assert!(
            first.starts_with("{\"kind\":"),
            "written tag first: {first}"
        );
        assert_eq!(serde_json::from_str::<Event>(&first).unwrap(), e.event);
        // Through a `Value` the keys come back sorted: for most kinds the tag is no longer
        // first (the buffered path).
        let sorted = serde_json::to_string(&serde_json::to_value(&e.event).unwrap()).unwrap();
        if !sorted.starts_with("{\"kind\":") {
            tag_later += 1;
        }
        assert_eq!(
            serde_json::from_str::<Event>(&sorted).unwrap(),
            e.event,
            "{sorted}"
        );
        // And from a `Value`, as a deserializer of its own.
        let v = serde_json::to_value(&e.event).unwrap();
        assert_eq!(serde_json::from_value::<Event>(v).unwrap(), e.event);
    }
    assert!(tag_later > 0, "the tag-later path was exercised");
}

#[test]
fn a_missing_or_unknown_tag_is_an_error_saying_so() {
    let missing = serde_json::from_str::<Event>(r#"{"from":"a","to":"b"}"#).unwrap_err();
    assert!(
        missing.to_string().contains("missing field `kind`"),
        "{missing}"
    );
    let unknown =
        serde_json::from_str::<Event>(r#"{"kind":"no.such","from":"a","to":"b"}"#).unwrap_err();
    assert!(
        unknown.to_string().contains("unknown variant `no.such`")
            && unknown.to_string().contains("dependency.declared"),
        "{unknown}"
    );
    let later =
        serde_json::from_str::<Event>(r#"{"from":"a","to":"b","kind":"no.such"}"#).unwrap_err();
    assert!(later.to_string().contains("unknown variant"), "{later}");
    let bad =
        serde_json::from_str::<Event>(r#"{"kind":"dependency.declared","from":"a"}"#).unwrap_err();
    assert!(bad.to_string().contains("missing field `to`"), "{bad}");
    assert!(serde_json::from_str::<Event>("[]").is_err());
    assert!(serde_json::from_str::<Event>(r#"{"kind":7}"#).is_err());
}
