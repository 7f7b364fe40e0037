//! SBOMs and vulnerabilities in the store: the newest SBOM of an image (by time, then key)
//! is its current one whatever the arrival order, its package rows replace the old ones in
//! the same transaction, replays change nothing, and the SQL answer to "which images contain
//! this package" equals the graph's.

use super::{new_event, record_each, TestDb};
use catalog_core::event::{Event, NewEvent, SbomAttached};
use catalog_core::osv::Vulnerability;
use catalog_core::purl::Purl;
use catalog_core::sbom::{Sbom, SbomPackage};
use catalog_core::Catalog;
use catalog_schema::Store;

const A: &str = "sha256:aaaa000000000000000000000000000000000000000000000000000000000001";
const B: &str = "sha256:bbbb000000000000000000000000000000000000000000000000000000000002";
const LOG4J: &str = "pkg:maven/org.apache.logging.log4j/log4j-core";

pub(super) fn pkg(purl: &str, depth: u32) -> SbomPackage {
    let p = Purl::parse(purl).unwrap();
    SbomPackage {
        purl: Some(p.to_string()),
        name: p.name.clone(),
        version: p.version.clone(),
        licenses: Vec::new(),
        hashes: Default::default(),
        depth: Some(depth),
        depends_on: Vec::new(),
    }
}

pub(super) fn sbom(min: u32, image: &str, doc: &str, packages: Vec<SbomPackage>) -> NewEvent {
    new_event(
        format!("sbom:{image}:{doc}"),
        min,
        Event::SbomAttached(SbomAttached {
            image: image.into(),
            document_digest: doc.into(),
            via: "upload".into(),
            sbom: Sbom {
                format: "SPDX".into(),
                spec_version: "2.3".into(),
                subject: None,
                packages,
                warnings: Vec::new(),
            },
        }),
    )
}

pub(super) fn events() -> Vec<NewEvent> {
    let osv = br#"{"id":"GHSA-1","modified":"2024-01-01T00:00:00Z",
        "affected":[{"package":{"ecosystem":"Maven","name":"org.apache.logging.log4j:log4j-core"},
        "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"2.0"},{"fixed":"2.15.0"}]}]}]}"#;
    vec![
        sbom(
            1,
            A,
            "sha256:d1",
            vec![
                pkg(&format!("{LOG4J}@2.14.1"), 1),
                pkg("pkg:pypi/Django_Rest@1.0", 2),
                // The same version twice (two jars): one row, the shallower depth.
                pkg(&format!("{LOG4J}@2.14.1?type=jar"), 3),
            ],
        ),
        sbom(2, B, "sha256:d2", vec![pkg(&format!("{LOG4J}@2.17.1"), 2)]),
        // A's SBOM again, newer: log4j upgraded.
        sbom(5, A, "sha256:d3", vec![pkg(&format!("{LOG4J}@2.17.1"), 1)]),
        // An older SBOM of B arriving after the newer one: it must not win.
        sbom(0, B, "sha256:d0", vec![pkg("pkg:npm/left-pad@1.0.0", 1)]),
        new_event(
            "osv:GHSA-1".into(),
            6,
            Event::VulnerabilityPublished(Box::new(Vulnerability::parse(osv).unwrap())),
        ),
    ]
}

fn sql_images(store: &Store) -> Vec<(String, String, Option<i32>)> {
    store
        .package_images_sql(LOG4J)
        .unwrap()
        .into_iter()
        .map(|r| (r.image, r.package_version, r.depth))
        .collect()
}

pub(super) fn sboms_replace_atomically_and_match_the_graph(store: &Store, db: &TestDb) {
    let evs = events();
    // In order, then (on a second store) in reverse: the same state.
    let recorded = record_each(store, &evs);
    assert_eq!(recorded.len(), evs.len());
    let counts = store.state_counts().unwrap();
    assert_eq!(counts["image_sboms"], 2);
    assert_eq!(counts["vulnerabilities"], 1);
    assert_eq!(
        store.image_packages(A).unwrap(),
        [(format!("{LOG4J}@2.17.1"), Some(1))],
        "the newer SBOM replaced every row of the old one"
    );
    assert_eq!(
        store.image_packages(B).unwrap(),
        [(format!("{LOG4J}@2.17.1"), Some(2))],
        "the older SBOM arriving late did not replace the newer one"
    );
    let want = vec![
        (A.to_string(), format!("{LOG4J}@2.17.1"), Some(1)),
        (B.to_string(), format!("{LOG4J}@2.17.1"), Some(2)),
    ];
    assert_eq!(sql_images(store), want);

    // Replays change nothing.
    let batch = vec![(None, evs.clone())];
    assert!(store.record(&batch).unwrap().is_empty());
    assert_eq!(store.state_counts().unwrap(), counts);

    // The graph folded from the log says the same.
    let mut c = Catalog::new();
    for e in store.events_page(100, 0, None).unwrap() {
        c.apply(&e);
    }
    let report = c
        .package_report(&Purl::parse(LOG4J).unwrap(), None)
        .unwrap();
    let graph: Vec<(String, String, Option<i32>)> = report
        .images
        .iter()
        .map(|i| {
            (
                i.image.clone(),
                i.package_versions[0].clone(),
                i.depth.map(|d| d as i32),
            )
        })
        .collect();
    assert_eq!(graph, want);

    // Reverse arrival order on a fresh schema of the same kind: the same rows.
    let other_db = TestDb::new(db.kind);
    let other = other_db.open();
    let rev: Vec<NewEvent> = evs.iter().rev().cloned().collect();
    record_each(&other, &rev);
    assert_eq!(sql_images(&other), want);
    assert_eq!(other.state_counts().unwrap(), counts);
}
