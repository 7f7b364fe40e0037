//! VEX on the hand-built catalog of `packages.rs`: log4j-core 2.14.1 is in cart (direct), api
//! (three deep) and a loose image, and Log4Shell (GHSA id, CVE alias) matches all three. Each
//! statement must change exactly the pairs it names, the latest statement must hold whatever
//! the arrival order, and an expired suppression must count again.

use super::packages::{history, API, CART, LOG4J, LOOSE};
use super::rec;
use super::snapshot::{splits, through_snapshot};
use catalog_core::event::{Event, RecordedEvent};
use catalog_core::vex::{VexDocument, VexProduct, VexStatement, VexStatus};
use catalog_core::Catalog;
use chrono::{Duration, TimeZone, Utc};

const GHSA: &str = "GHSA-jfh8-c2jp-5v3q";
const CVE: &str = "CVE-2021-44228";

fn statement(vuln: &str, product: VexProduct, status: VexStatus, min: u32) -> VexStatement {
    VexStatement {
        vulnerability: vuln.into(),
        aliases: Vec::new(),
        products: vec![product],
        subcomponents: Vec::new(),
        status,
        justification: (status == VexStatus::NotAffected)
            .then(|| "vulnerable_code_not_in_execute_path".to_string()),
        impact: None,
        action: None,
        timestamp: Utc
            .with_ymd_and_hms(2026, 11, 23, 9, min, 0)
            .single()
            .unwrap(),
        until: None,
    }
}

fn vex(seq: i64, s: VexStatement) -> RecordedEvent {
    rec(
        seq,
        30,
        Event::VexRecorded(Box::new(VexDocument {
            id: format!("doc-{seq}"),
            format: "openvex".into(),
            via: "upload".into(),
            author: "security@vendor.example".into(),
            statements: vec![s],
        })),
    )
}

fn image(d: &str) -> VexProduct {
    VexProduct::Image { digest: d.into() }
}

fn catalog(extra: Vec<RecordedEvent>) -> Catalog {
    let mut c = Catalog::new();
    c.apply_all(&history());
    c.apply_all(&extra);
    c
}

/// (counted images, suppressed images, deployments, owners) of Log4Shell, asked by its CVE.
fn report(c: &Catalog) -> (Vec<String>, Vec<String>, usize, Vec<String>) {
    let r = c.vulnerability_report(CVE).unwrap();
    let mut images: Vec<String> = r.images.iter().map(|i| i.image.clone()).collect();
    images.sort();
    (
        images,
        r.suppressed.iter().map(|s| s.image.clone()).collect(),
        r.deployments.len(),
        r.owners,
    )
}

fn suppressed_in(c: &Catalog, digest: &str) -> bool {
    let m = c.image_vulnerabilities(digest);
    assert_eq!(m.len(), 1, "{digest}: {m:?}");
    m[0].vex.as_ref().is_some_and(|v| v.suppressed)
}

fn sorted(v: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

#[test]
fn not_affected_for_one_image_suppresses_exactly_that_image() {
    let c = catalog(vec![vex(
        10,
        statement(CVE, image(CART), VexStatus::NotAffected, 1),
    )]);
    let (images, suppressed, deployments, owners) = report(&c);
    assert_eq!(images, sorted(&[API, LOOSE]));
    assert_eq!(suppressed, [CART]);
    assert_eq!(deployments, 1, "only api's, in staging-1");
    assert_eq!(owners, ["platform"]);
    let r = c.vulnerability_report(GHSA).unwrap();
    let v = &r.suppressed[0].vex;
    assert_eq!(v.status, "not_affected");
    assert_eq!(
        v.justification.as_deref(),
        Some("vulnerable_code_not_in_execute_path")
    );
    assert_eq!(v.author, "security@vendor.example");
    assert_eq!(r.suppressed[0].component_versions[0].component, "shop/cart");
    assert!(suppressed_in(&c, CART));
    assert!(
        !suppressed_in(&c, API),
        "a statement about cart says nothing of api"
    );
    assert!(!suppressed_in(&c, LOOSE));
    // Cart is all prod-eu-1 runs: the cluster's match is suppressed; staging-1 runs api too.
    assert!(c.cluster_vulnerabilities("prod-eu-1")[0]
        .vex
        .as_ref()
        .is_some_and(|v| v.suppressed));
    assert!(c.cluster_vulnerabilities("staging-1")[0].vex.is_none());
    // A statement about another vulnerability changes nothing here.
    let other = catalog(vec![vex(
        10,
        statement("CVE-2099-0001", image(CART), VexStatus::NotAffected, 1),
    )]);
    assert_eq!(report(&other).0, sorted(&[API, CART, LOOSE]));
}

#[test]
fn the_latest_statement_holds_whatever_the_arrival_order() {
    let not_affected = vex(10, statement(GHSA, image(CART), VexStatus::NotAffected, 1));
    let affected = {
        let mut s = statement(CVE, image(CART), VexStatus::Affected, 2);
        s.action = Some("upgrade to 2.17.1".into());
        vex(11, s)
    };
    for order in [
        vec![not_affected.clone(), affected.clone()],
        vec![affected.clone(), not_affected.clone()],
    ] {
        let c = catalog(order);
        assert_eq!(report(&c).0, sorted(&[API, CART, LOOSE]));
        let m = &c.image_vulnerabilities(CART)[0];
        let v = m.vex.as_ref().unwrap();
        assert_eq!((v.status.as_str(), v.suppressed), ("affected", false));
        assert_eq!(v.action.as_deref(), Some("upgrade to 2.17.1"));
    }
    // And a later not_affected suppresses again.
    let c = catalog(vec![
        not_affected,
        affected,
        vex(12, statement(CVE, image(CART), VexStatus::NotAffected, 3)),
    ]);
    assert_eq!(report(&c).1, [CART]);
}

#[test]
fn a_suppression_counts_again_after_its_until() {
    let mut past = statement(CVE, image(API), VexStatus::NotAffected, 1);
    past.until = Some(Utc::now() - Duration::minutes(1));
    let mut future = statement(CVE, image(LOOSE), VexStatus::NotAffected, 1);
    future.until = Some(Utc::now() + Duration::hours(1));
    let c = catalog(vec![vex(10, past), vex(11, future)]);
    let (images, suppressed, _, _) = report(&c);
    assert_eq!(images, sorted(&[API, CART]));
    assert_eq!(suppressed, [LOOSE]);
    let v = c.image_vulnerabilities(API)[0].vex.clone().unwrap();
    assert!(v.expired && !v.suppressed, "{v:?}");
}

#[test]
fn products_and_subcomponents_scope_a_statement() {
    // About the package version itself: every image carrying it.
    let pkg = catalog(vec![vex(
        10,
        statement(
            CVE,
            VexProduct::Package {
                purl: format!("{LOG4J}@2.14.1"),
            },
            VexStatus::NotAffected,
            1,
        ),
    )]);
    assert_eq!(report(&pkg).0, Vec::<String>::new());
    assert_eq!(report(&pkg).1.len(), 3);
    // About another version of the package: nothing.
    let other_version = catalog(vec![vex(
        10,
        statement(
            CVE,
            VexProduct::Package {
                purl: format!("{LOG4J}@2.17.1"),
            },
            VexStatus::NotAffected,
            1,
        ),
    )]);
    assert_eq!(report(&other_version).1.len(), 0);
    // About the component version built from cart: cart.
    let cv = catalog(vec![vex(
        10,
        statement(
            CVE,
            VexProduct::ComponentVersion {
                component: "shop/cart".into(),
                version: "1.0.0".into(),
            },
            VexStatus::Fixed,
            1,
        ),
    )]);
    assert_eq!(report(&cv).1, [CART]);
    // Api, narrowed to a subcomponent that is not log4j: nothing; narrowed to log4j: api.
    let mut jackson = statement(CVE, image(API), VexStatus::NotAffected, 1);
    jackson.subcomponents =
        vec!["pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.13.0".into()];
    let mut log4j = statement(CVE, image(API), VexStatus::NotAffected, 1);
    log4j.subcomponents = vec![format!("{LOG4J}@2.14.1")];
    assert_eq!(report(&catalog(vec![vex(10, jackson)])).1.len(), 0);
    assert_eq!(report(&catalog(vec![vex(10, log4j)])).1, [API]);
    // Qualifiers are not part of a package version's identity.
    let mut qualified = statement(CVE, image(CART), VexStatus::NotAffected, 1);
    qualified.subcomponents = vec![format!("{LOG4J}@2.14.1?type=jar&classifier=x")];
    assert_eq!(report(&catalog(vec![vex(10, qualified)])).1, [CART]);
    // Under investigation is shown, and counts.
    let c = catalog(vec![vex(
        10,
        statement(CVE, image(CART), VexStatus::UnderInvestigation, 1),
    )]);
    assert_eq!(report(&c).1.len(), 0);
    assert_eq!(
        c.image_vulnerabilities(CART)[0]
            .vex
            .as_ref()
            .unwrap()
            .status,
        "under_investigation"
    );
}

#[test]
fn a_statement_before_its_product_applies_when_the_product_appears() {
    let mut events = vec![vex(
        1,
        statement(CVE, image(CART), VexStatus::NotAffected, 1),
    )];
    events.extend(history().into_iter().map(|mut e| {
        e.seq += 1;
        e
    }));
    let mut c = Catalog::new();
    c.apply_all(&events);
    assert_eq!(report(&c).1, [CART]);
    // And through a snapshot at any point, and replays, the same.
    for split in splits(events.len()) {
        let c = through_snapshot(&events, split);
        assert_eq!(report(&c).1, [CART], "snapshot after {split}");
    }
    c.apply_all(&events);
    assert_eq!(report(&c).1, [CART]);
    assert_eq!(c.vex_statement_count(), 1);
}

#[test]
fn a_vulnerabilitys_blast_radius_leaves_out_suppressed_images() {
    use catalog_core::graph::{BlastGroup, BlastTarget};
    let of = BlastTarget::Vulnerability(CVE.into());
    let plain = catalog(vec![]);
    let r = plain.blast_radius(&of, None).unwrap();
    assert_eq!(r.total(BlastGroup::Images), 3);
    assert_eq!(r.total(BlastGroup::Deployments), 3);
    let c = catalog(vec![vex(
        10,
        statement(CVE, image(CART), VexStatus::NotAffected, 1),
    )]);
    let r = c.blast_radius(&of, None).unwrap();
    assert_eq!(r.total(BlastGroup::Images), 2, "cart is out");
    assert_eq!(r.total(BlastGroup::Deployments), 1, "only api's");
    assert_eq!(r.total(BlastGroup::Owners), 1);
    // The package's own blast radius is about the package, not the vulnerability: unchanged.
    let pkg = BlastTarget::Package {
        purl: catalog_core::purl::Purl::parse(&format!("{LOG4J}@2.14.1")).unwrap(),
        range: None,
    };
    assert_eq!(
        c.blast_radius(&pkg, None)
            .unwrap()
            .total(BlastGroup::Images),
        3
    );
    assert!(c
        .blast_radius(&BlastTarget::Vulnerability("CVE-1999-0".into()), None)
        .is_none());
}
