//! Bills of materials, packages, search and vulnerabilities on a hand-built catalog whose
//! answers are known: two images (one deployed in two clusters), their SBOMs, an OSV record.
//! The answers must not depend on arrival order or replays.

use super::rec;
use catalog_core::deployment::{DeploymentObserved, DeploymentStatus, ImageRef, Run};
use catalog_core::event::{Event, ImageRegistered, RecordedEvent, SbomAttached};
use catalog_core::graph::SearchKind;
use catalog_core::identity::labels;
use catalog_core::osv::Vulnerability;
use catalog_core::purl::Purl;
use catalog_core::sbom::{Sbom, SbomPackage};
use catalog_core::versioning::VersRange;
use catalog_core::{Catalog, Platform};
use std::collections::BTreeMap;

pub(super) const CART: &str =
    "sha256:c000000000000000000000000000000000000000000000000000000000000001";
pub(super) const API: &str =
    "sha256:a000000000000000000000000000000000000000000000000000000000000002";
/// An image nobody registered: only its SBOM is known.
pub(super) const LOOSE: &str =
    "sha256:f000000000000000000000000000000000000000000000000000000000000003";
pub(super) const LOG4J: &str = "pkg:maven/org.apache.logging.log4j/log4j-core";

fn register(seq: i64, min: u32, repo: &str, tag: &str, digest: &str, owner: &str) -> RecordedEvent {
    let labels: BTreeMap<String, String> = [(labels::OWNER.to_string(), owner.to_string())].into();
    rec(
        seq,
        min,
        Event::ImageRegistered(ImageRegistered {
            registry: "r".into(),
            repository: repo.into(),
            digest: digest.into(),
            tag: Some(tag.into()),
            media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            size: 1,
            platforms: vec![Platform {
                os: "linux".into(),
                architecture: "amd64".into(),
                variant: None,
                digest: digest.into(),
            }],
            labels,
            created: None,
            component: repo.into(),
            version: Some(tag.into()),
            tag_resolved: false,
        }),
    )
}

fn pkg(purl: Option<&str>, name: &str, version: &str, depth: Option<u32>) -> SbomPackage {
    SbomPackage {
        purl: purl.map(|p| Purl::parse(p).unwrap().to_string()),
        name: name.into(),
        version: Some(version.into()),
        licenses: vec!["Apache-2.0".into()],
        hashes: BTreeMap::new(),
        depth,
        depends_on: Vec::new(),
    }
}

fn sbom(seq: i64, min: u32, image: &str, doc: &str, packages: Vec<SbomPackage>) -> RecordedEvent {
    let mut e = rec(
        seq,
        min,
        Event::SbomAttached(SbomAttached {
            image: image.into(),
            document_digest: doc.into(),
            via: "upload".into(),
            sbom: Sbom {
                format: "CycloneDX".into(),
                spec_version: "1.5".into(),
                subject: None,
                packages,
                warnings: Vec::new(),
                warnings_omitted: 0,
            },
        }),
    );
    e.key = format!("sbom:{image}:{doc}");
    e
}

fn deploy(seq: i64, min: u32, cluster: &str, workload: &str, reference: &str) -> RecordedEvent {
    let mut image = ImageRef::parse(&format!("r.test/{reference}")).unwrap();
    image.registry = "r".into();
    rec(
        seq,
        min,
        Event::DeploymentObserved(DeploymentObserved {
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
            status: DeploymentStatus::Healthy,
            replicas: Some(2),
            runs: vec![Run {
                container: None,
                image: Some(image),
                component: None,
                version: None,
                traffic: None,
                track: None,
            }],
            revision: None,
            url: None,
        }),
    )
}

const LOG4SHELL: &str = r#"{
  "id": "GHSA-jfh8-c2jp-5v3q",
  "modified": "2024-01-01T00:00:00Z",
  "aliases": ["CVE-2021-44228"],
  "summary": "Remote code injection in Log4j",
  "affected": [{
    "package": {"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.0-beta9"}, {"fixed": "2.15.0"}]}]
  }]
}"#;

/// The history: cart 1.0.0 (team checkout) and api 2.0.0 (team platform) registered; cart's
/// SBOM has log4j 2.14.1 directly, jackson transitively, a pypi package spelled unusually,
/// and a component without a purl; api's has log4j 2.17.1 directly and 2.14.1 three deep; a
/// loose image's SBOM has log4j 2.14.1. Cart runs in prod-eu-1 and staging-1, api in
/// staging-1. Then the OSV record.
pub(super) fn history() -> Vec<RecordedEvent> {
    vec![
        register(1, 1, "shop/cart", "1.0.0", CART, "checkout"),
        register(2, 2, "shop/api", "2.0.0", API, "platform"),
        sbom(
            3,
            3,
            CART,
            "sha256:doc1",
            vec![
                pkg(
                    Some(&format!("{LOG4J}@2.14.1")),
                    "log4j-core",
                    "2.14.1",
                    Some(1),
                ),
                pkg(
                    Some("pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.13.0"),
                    "jackson-databind",
                    "2.13.0",
                    Some(2),
                ),
                pkg(
                    Some("pkg:pypi/Django_Rest@1.0"),
                    "Django_Rest",
                    "1.0",
                    Some(1),
                ),
                pkg(None, "vendored-thing", "0.1", None),
            ],
        ),
        sbom(
            4,
            4,
            API,
            "sha256:doc2",
            vec![
                pkg(
                    Some(&format!("{LOG4J}@2.17.1")),
                    "log4j-core",
                    "2.17.1",
                    Some(1),
                ),
                pkg(
                    Some(&format!("{LOG4J}@2.14.1?type=jar")),
                    "log4j-core",
                    "2.14.1",
                    Some(3),
                ),
            ],
        ),
        sbom(
            5,
            5,
            LOOSE,
            "sha256:doc3",
            vec![pkg(
                Some(&format!("{LOG4J}@2.14.1")),
                "log4j-core",
                "2.14.1",
                Some(2),
            )],
        ),
        deploy(6, 6, "prod-eu-1", "cart", "shop/cart:1.0.0"),
        deploy(7, 7, "staging-1", "cart", "shop/cart:1.0.0"),
        deploy(8, 8, "staging-1", "api", "shop/api:2.0.0"),
        rec(
            9,
            9,
            Event::VulnerabilityPublished(Box::new(
                Vulnerability::parse(LOG4SHELL.as_bytes()).unwrap(),
            )),
        ),
    ]
}

fn fold(events: &[RecordedEvent]) -> Catalog {
    let mut c = Catalog::new();
    for e in events {
        let mut e = e.clone();
        e.seq = 0; // arrival order, not log order, is under test
        c.apply(&e);
        c.verify().unwrap();
    }
    c
}

fn check(c: &Catalog) {
    // Every version of log4j: three images, direct dependents first.
    let any = c
        .package_report(&Purl::parse(LOG4J).unwrap(), None)
        .unwrap();
    assert_eq!(any.package.purl, LOG4J);
    assert_eq!(any.package.version_count, 2);
    assert_eq!(any.package.image_count, 3);
    let versions: Vec<&str> = any.versions.iter().map(|v| v.version.as_str()).collect();
    assert_eq!(versions, ["2.17.1", "2.14.1"]);
    let images: Vec<(&str, Option<u32>)> = any
        .images
        .iter()
        .map(|i| (i.image.as_str(), i.depth))
        .collect();
    assert_eq!(images, [(API, Some(1)), (CART, Some(1)), (LOOSE, Some(2))]);
    assert_eq!(any.owners, ["checkout", "platform"]);
    let places: Vec<(&str, &str)> = any
        .deployments
        .iter()
        .map(|d| (d.cluster.as_str(), d.workload.as_str()))
        .collect();
    assert_eq!(
        places,
        [
            ("prod-eu-1", "cart"),
            ("staging-1", "api"),
            ("staging-1", "cart")
        ]
    );

    // One version: 2.14.1 is in cart directly, api three deep (qualifiers do not split it).
    let one = c
        .package_report(&Purl::parse(&format!("{LOG4J}@2.14.1")).unwrap(), None)
        .unwrap();
    let images: Vec<(&str, Option<u32>)> = one
        .images
        .iter()
        .map(|i| (i.image.as_str(), i.depth))
        .collect();
    assert_eq!(images, [(CART, Some(1)), (LOOSE, Some(2)), (API, Some(3))]);
    let cart = &one.images[0];
    assert_eq!(cart.component_versions[0].component, "shop/cart");
    assert_eq!(cart.component_versions[0].version, "1.0.0");
    assert_eq!(cart.deployments.len(), 2);
    assert!(
        one.images[1].component_versions.is_empty(),
        "nobody registered it"
    );

    // A vers: range in the package's own scheme: 2.14.1 is in, 2.17.1 out.
    let range = VersRange::parse("vers:maven/>=2.0.0|<2.15.0").unwrap();
    let ranged = c
        .package_report(&Purl::parse(LOG4J).unwrap(), Some(&range))
        .unwrap();
    let versions: Vec<&str> = ranged.versions.iter().map(|v| v.version.as_str()).collect();
    assert_eq!(versions, ["2.14.1"]);
    assert_eq!(ranged.images.len(), 3);
    let none = VersRange::parse("vers:maven/>=3.0.0").unwrap();
    let empty = c
        .package_report(&Purl::parse(LOG4J).unwrap(), Some(&none))
        .unwrap();
    assert!(empty.versions.is_empty() && empty.images.is_empty());

    // PyPI names normalise: the SBOM said Django_Rest.
    assert!(c.package("pkg:pypi/django-rest").is_some());
    assert!(c.package("pkg:pypi/DJANGO.rest").is_some());
    assert!(c.package("pkg:npm/left-pad").is_none());

    // The image's BOM keeps the component without a purl, and direct ones filter.
    let bom = c.image_packages(CART, false, 50, 0);
    assert_eq!(bom.items.len(), 4);
    assert_eq!(bom.items[3].name, "vendored-thing");
    assert_eq!(bom.items[3].purl, None);
    let direct = c.image_packages(CART, true, 50, 0);
    let names: Vec<&str> = direct.items.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["log4j-core", "Django_Rest"]);
    let page = c.image_packages(CART, false, 3, 0);
    assert!(page.has_next);
    assert_eq!(c.image_packages(CART, false, 3, 3).items.len(), 1);
    let s = c.image_sbom(CART).unwrap();
    assert_eq!((s.packages, s.direct), (4, 2));

    // Search: a package by name, a component by a part of its name, an image by a digest
    // prefix, a vulnerability by alias, a pasted purl with a version.
    let hits = c.search("log4j", &[], 10);
    assert_eq!(hits[0].kind, SearchKind::Package);
    assert_eq!(hits[0].id, LOG4J);
    assert_eq!(c.search("cart", &[], 10)[0].id, "shop/cart");
    assert_eq!(c.search("cart", &[], 10)[0].kind, SearchKind::Component);
    let by_digest = c.search("sha256:a0000", &[SearchKind::Image], 10);
    assert_eq!(by_digest.len(), 1);
    assert_eq!(by_digest[0].id, API);
    assert_eq!(c.search("a00000000", &[], 10)[0].id, API);
    assert_eq!(
        c.search("cve-2021-44228", &[], 5)[0].id,
        "GHSA-jfh8-c2jp-5v3q"
    );
    assert_eq!(c.search(&format!("{LOG4J}@2.14.1"), &[], 5)[0].id, LOG4J);
    assert_eq!(c.search("pkg:maven/org.apache", &[], 5)[0].id, LOG4J);
    assert_eq!(c.search("prod-eu", &[], 5)[0].kind, SearchKind::Cluster);
    assert_eq!(c.search("checkout", &[], 5)[0].kind, SearchKind::Team);
    assert!(c.search("log4j", &[SearchKind::Team], 5).is_empty());
    assert!(c.search("", &[], 5).is_empty());

    // Vulnerabilities: log4shell hits 2.14.1 (cart, api transitively, the loose image),
    // not 2.17.1.
    let cart_v = c.image_vulnerabilities(CART);
    assert_eq!(cart_v.len(), 1);
    assert_eq!(cart_v[0].version, "2.14.1");
    assert_eq!(cart_v[0].fixed, ["2.15.0"]);
    let api_v = c.version_vulnerabilities("shop/api", "2.0.0");
    assert_eq!(api_v.len(), 1, "2.14.1 three deep counts, 2.17.1 does not");
    assert_eq!(c.cluster_vulnerabilities("prod-eu-1").len(), 1);
    assert!(c.cluster_vulnerabilities("nowhere").is_empty());
    let report = c.vulnerability_report("CVE-2021-44228").unwrap();
    assert_eq!(report.vulnerability.id, "GHSA-jfh8-c2jp-5v3q");
    assert_eq!(report.package_versions.len(), 1);
    assert_eq!(report.images.len(), 3);
    assert_eq!(report.deployments.len(), 3);
    assert_eq!(report.owners, ["checkout", "platform"]);
    assert_eq!(
        c.package_version_vulnerabilities(&format!("{LOG4J}@2.17.1"))
            .len(),
        0
    );
}

#[test]
fn packages_are_found_with_their_images_deployments_and_owners() {
    check(&fold(&history()));
}

/// An entry listed identically by many SBOMs is kept once, however many images list it.
#[test]
fn identical_entries_are_interned_once() {
    let entries = |n: u32| -> Vec<SbomPackage> {
        (0..n)
            .map(|j| {
                pkg(
                    Some(&format!("pkg:npm/p{j}@1.0.0")),
                    &format!("p{j}"),
                    "1.0.0",
                    Some(1),
                )
            })
            .collect()
    };
    let interned = |images: u32| -> usize {
        let mut c = Catalog::new();
        for i in 0..images {
            c.apply(&sbom(
                i as i64 + 1,
                1,
                &format!("sha256:{i:064x}"),
                &format!("sha256:doc{i}"),
                entries(50),
            ));
        }
        c.verify().unwrap();
        c.snapshot_breakdown()
            .into_iter()
            .find(|(what, _)| *what == "interned SBOM entries")
            .map(|(_, n)| n)
            .unwrap()
    };
    assert_eq!(interned(1), interned(100));
}

#[test]
fn a_snapshot_at_any_point_gives_the_same_answers() {
    let events = history();
    for split in super::snapshot::splits(events.len()) {
        check(&super::snapshot::through_snapshot(&events, split));
    }
}

#[test]
fn any_arrival_order_and_replays_give_the_same_answers() {
    let events = history();
    // A deterministic shuffle per round (no rand dependency): rotate and interleave.
    for round in 0..events.len() * 2 {
        let mut order: Vec<RecordedEvent> = events.clone();
        order.rotate_left(round % events.len());
        if round >= events.len() {
            order.reverse();
        }
        let mut with_replays = order.clone();
        with_replays.extend(order.iter().step_by(2).cloned());
        check(&fold(&with_replays));
    }
}

#[test]
fn a_newer_sbom_replaces_the_old_one_and_an_older_one_does_not() {
    let mut events = history();
    // 10: cart's SBOM again, without log4j (upgraded away).
    events.push(sbom(
        10,
        20,
        CART,
        "sha256:doc4",
        vec![pkg(
            Some(&format!("{LOG4J}@2.17.1")),
            "log4j-core",
            "2.17.1",
            Some(1),
        )],
    ));
    // 11: an SBOM of cart older than both, arriving last.
    events.push(sbom(
        11,
        2,
        CART,
        "sha256:doc0",
        vec![pkg(
            Some("pkg:npm/left-pad@1.0.0"),
            "left-pad",
            "1.0.0",
            Some(1),
        )],
    ));
    for order in [events.clone(), events.iter().rev().cloned().collect()] {
        let c = fold(&order);
        let one = c
            .package_report(&Purl::parse(&format!("{LOG4J}@2.14.1")).unwrap(), None)
            .unwrap();
        let images: Vec<&str> = one.images.iter().map(|i| i.image.as_str()).collect();
        assert_eq!(images, [LOOSE, API], "cart no longer has 2.14.1");
        assert!(c.image_vulnerabilities(CART).is_empty());
        assert_eq!(c.image_sbom(CART).unwrap().document_digest, "sha256:doc4");
        assert_eq!(c.image_packages(CART, false, 10, 0).items.len(), 1);
        // left-pad's package is known (it was seen) but in no image now.
        assert_eq!(
            c.package("pkg:npm/left-pad").map(|p| p.image_count),
            Some(0)
        );
    }
}

#[test]
fn a_modified_vulnerability_record_replaces_the_older_one() {
    let mut events = history();
    let newer = LOG4SHELL
        .replace("2024-01-01", "2025-01-01")
        .replace("\"fixed\": \"2.15.0\"", "\"fixed\": \"2.14.0\"");
    let mut e = rec(
        10,
        10,
        Event::VulnerabilityPublished(Box::new(Vulnerability::parse(newer.as_bytes()).unwrap())),
    );
    e.key = "osv:newer".into();
    events.push(e);
    for order in [events.clone(), events.iter().rev().cloned().collect()] {
        let c = fold(&order);
        assert!(
            c.image_vulnerabilities(CART).is_empty(),
            "the newer record says 2.14.0 fixed it"
        );
        assert_eq!(c.vulnerability_count(), 1);
    }
}
