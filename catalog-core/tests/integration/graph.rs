//! Declared dependencies, applications, blast radius, bills of materials and dependency maps
//! on hand-built catalogs whose answers are known, folded in many orders and replayed.
//!
//! The shop: log4j-core 2.14.1 is in three images (SBOM depths 1, 2, 3) built as
//! `shop/cart 1.0.0`, `shop/cart 1.1.0` and `shop/search 2.0.0`; `shop/cart 2.0.0` has 2.17.1
//! instead. `shop/edge -> shop/frontend -> shop/checkout -> shop/cart` are declared three ways
//! (an API call, a consumed API, a descriptor's `dependsOn`). The System `shop` holds cart,
//! checkout and frontend; `search-app` (declared through the API) holds search and edge.
//! Teams `payments` and `discovery` own them. Cart 1.0.0 runs in prod-eu-1, cart 2.0.0 and
//! search 2.0.0 in prod-us-1, frontend in prod-eu-1.

use catalog_core::deployment::{DeploymentObserved, DeploymentStatus, ImageRef, Run};
use catalog_core::entity::{Contacts, Entity, EntityKind};
use catalog_core::event::{Event, ImageRegistered, RecordedEvent, SbomAttached};
use catalog_core::graph::{
    BlastGroup, BlastItem, BlastRadius, BlastTarget, BlastThing, BomRoot, DependencyMap, Direction,
};
use catalog_core::purl::Purl;
use catalog_core::sbom::{Sbom, SbomPackage};
use catalog_core::versioning::VersRange;
use catalog_core::{Catalog, Platform};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use std::collections::{BTreeMap, HashMap};

// ----- event builders, shared with `blast_property` -----

pub(super) fn time(min: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0)
        .single()
        .unwrap()
        + TimeDelta::minutes(min)
}

/// An event at `min` minutes, in arrival order (seq 0: never skipped as already seen).
pub(super) fn ev(min: i64, key: impl Into<String>, event: Event) -> RecordedEvent {
    RecordedEvent {
        seq: 0,
        key: key.into(),
        occurred_at: time(min),
        recorded_at: time(min),
        source: "test".into(),
        actor: "test".into(),
        event,
    }
}

/// A digest whose last hex digits are `n`, printed as `img<n>` by [`short`].
pub(super) fn digest(n: u64) -> String {
    format!("sha256:{n:064x}")
}

pub(super) fn short(d: &str) -> String {
    match d
        .get(d.len().saturating_sub(16)..)
        .and_then(|h| u64::from_str_radix(h, 16).ok())
    {
        Some(n) if d.starts_with("sha256:000") => format!("img{n}"),
        _ => d.to_string(),
    }
}

/// `component version` pushed to repository `component` (tag = version) in registry `r`.
pub(super) fn register(min: i64, component: &str, version: &str, image: &str) -> RecordedEvent {
    ev(
        min,
        format!("push:{component}:{version}:{image}@{min}"),
        Event::ImageRegistered(ImageRegistered {
            registry: "r".into(),
            repository: component.into(),
            digest: image.into(),
            tag: Some(version.into()),
            media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            size: 1,
            platforms: vec![Platform {
                os: "linux".into(),
                architecture: "amd64".into(),
                variant: None,
                digest: image.into(),
            }],
            labels: BTreeMap::new(),
            created: None,
            component: component.into(),
            version: Some(version.into()),
            tag_resolved: false,
        }),
    )
}

/// An SBOM entry for a purl with a version.
pub(super) fn package(purl: &str, depth: Option<u32>) -> SbomPackage {
    let p = Purl::parse(purl).unwrap();
    SbomPackage {
        purl: Some(p.to_string()),
        name: p.name.clone(),
        version: p.version.clone(),
        licenses: Vec::new(),
        hashes: BTreeMap::new(),
        depth,
        depends_on: Vec::new(),
    }
}

/// An SBOM of `image` listing `(purl with version, depth)`s.
pub(super) fn sbom(min: i64, image: &str, packages: &[(&str, u32)]) -> RecordedEvent {
    sbom_of(
        min,
        image,
        packages.iter().map(|(p, d)| package(p, Some(*d))).collect(),
    )
}

pub(super) fn sbom_of(min: i64, image: &str, packages: Vec<SbomPackage>) -> RecordedEvent {
    let doc = format!("sha256:doc-{}-{min}", short(image));
    ev(
        min,
        format!("sbom:{image}:{doc}"),
        Event::SbomAttached(SbomAttached {
            image: image.into(),
            document_digest: doc,
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
    )
}

pub(super) fn entity(min: i64, e: Entity) -> RecordedEvent {
    ev(
        min,
        format!("entity:{}@{min}", e.reference()),
        Event::EntityDeclared(Box::new(e)),
    )
}

/// A Component descriptor.
pub(super) fn component(
    name: &str,
    owner: Option<&str>,
    system: Option<&str>,
    depends_on: &[&str],
) -> Entity {
    let mut e = Entity::new(EntityKind::Component, name);
    e.owner = owner.map(str::to_string);
    e.system = system.map(str::to_string);
    e.depends_on = depends_on.iter().map(|s| s.to_string()).collect();
    e
}

/// `dependency.declared` (`present`) or `dependency.removed`.
pub(super) fn depends(min: i64, from: &str, to: &str, present: bool) -> RecordedEvent {
    let (from, to) = (from.to_string(), to.to_string());
    let key = format!("dep:{from}->{to}:{present}@{min}");
    let event = if present {
        Event::DependencyDeclared { from, to }
    } else {
        Event::DependencyRemoved { from, to }
    };
    ev(min, key, event)
}

pub(super) fn contacts(email: &str, chat: &str, pager: &str) -> Contacts {
    Contacts {
        email: Some(email.into()),
        chat: Some(chat.into()),
        pager: Some(pager.into()),
    }
}

pub(super) fn team_contacts(min: i64, team: &str, c: Contacts) -> RecordedEvent {
    ev(
        min,
        format!("contacts:{team}@{min}"),
        Event::TeamContacts {
            team: team.into(),
            contacts: c,
        },
    )
}

pub(super) fn application(
    min: i64,
    name: &str,
    components: &[&str],
    owner: Option<&str>,
) -> RecordedEvent {
    ev(
        min,
        format!("app:{name}@{min}"),
        Event::ApplicationDeclared {
            application: name.into(),
            components: components.iter().map(|s| s.to_string()).collect(),
            owner: owner.map(str::to_string),
        },
    )
}

/// A healthy workload `cluster/namespace/workload` in environment `prod` running `run`.
pub(super) fn deploy(min: i64, at: &str, run: Run) -> RecordedEvent {
    let parts: Vec<&str> = at.splitn(3, '/').collect();
    ev(
        min,
        format!("deploy:{at}@{min}"),
        Event::DeploymentObserved(DeploymentObserved {
            cluster: parts[0].into(),
            namespace: parts[1].into(),
            workload: parts[2].into(),
            environment: Some("prod".into()),
            status: DeploymentStatus::Healthy,
            replicas: Some(1),
            runs: vec![run],
            revision: None,
            url: None,
        }),
    )
}

/// An image reference in registry `r` (`shop/cart:1.0.0`, `x@sha256:...`).
pub(super) fn run_ref(reference: &str) -> Run {
    let mut image = ImageRef::parse(&format!("r.test/{reference}")).unwrap();
    image.registry = "r".into();
    Run {
        container: None,
        image: Some(image),
        component: None,
        version: None,
        traffic: None,
        track: None,
    }
}

/// A named component version (or a component alone), no image reference.
pub(super) fn run_named(component: &str, version: Option<&str>) -> Run {
    Run {
        container: None,
        image: None,
        component: Some(component.into()),
        version: version.map(str::to_string),
        traffic: None,
        track: None,
    }
}

/// Folds one event and checks the invariants.
pub(super) fn apply_checked(c: &mut Catalog, e: &RecordedEvent) {
    c.apply(e);
    if let Err(msg) = c.verify() {
        panic!("after {}: {msg}", e.key);
    }
}

pub(super) fn fold(events: &[RecordedEvent]) -> Catalog {
    let mut c = Catalog::new();
    for e in events {
        apply_checked(&mut c, e);
    }
    c
}

/// xorshift64: deterministic shuffles without a dependency.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        let mut x = self.0.max(1);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub(super) fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub(super) fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

// ----- reading answers -----

/// One blast item as `name d<depth>` (and what else the group says), for exact comparisons.
pub(super) fn describe(item: &BlastItem) -> String {
    let d = item.depth;
    match &item.thing {
        BlastThing::Image {
            digest,
            package_depth,
            registered,
        } => format!(
            "{} d{d} pd{}{}",
            short(digest),
            package_depth.map_or("-".to_string(), |p| p.to_string()),
            if *registered { "" } else { " sbom-only" }
        ),
        BlastThing::ComponentVersion(v) => format!("{}@{} d{d}", v.component, v.version),
        BlastThing::Component {
            component,
            dependent,
        } => format!(
            "{} d{d}{}",
            component.name,
            if *dependent { " dependent" } else { "" }
        ),
        BlastThing::Application(a) => format!("{} d{d}", a.name),
        BlastThing::ApplicationVersion(v) => format!("{}#{} d{d}", v.application, v.number),
        BlastThing::Deployment(x) => format!("{}/{}/{} d{d}", x.cluster, x.namespace, x.workload),
        BlastThing::Owner(t) => format!("{} d{d}", t.name),
    }
}

pub(super) fn all_items(c: &Catalog, r: &BlastRadius, g: BlastGroup) -> Vec<BlastItem> {
    let page = c.blast_page(r, g, usize::MAX, 0);
    assert!(!page.has_next);
    assert_eq!(page.items.len(), r.total(g));
    page.items
}

/// A group, described and sorted.
pub(super) fn group(c: &Catalog, r: &BlastRadius, g: BlastGroup) -> Vec<String> {
    let mut v: Vec<String> = all_items(c, r, g).iter().map(describe).collect();
    v.sort();
    v
}

/// Every group, and the totals: what must not depend on arrival order.
fn blast_answer(c: &Catalog, target: &BlastTarget, max_depth: Option<u32>) -> String {
    let Some(r) = c.blast_radius(target, max_depth) else {
        return "none".into();
    };
    let groups: Vec<(BlastGroup, Vec<String>)> = BlastGroup::ALL
        .into_iter()
        .map(|g| (g, group(c, &r, g)))
        .collect();
    format!("{:?} {groups:?}", r.totals())
}

fn log4j(version: Option<&str>) -> BlastTarget {
    let purl = match version {
        Some(v) => format!("{LOG4J}@{v}"),
        None => LOG4J.to_string(),
    };
    BlastTarget::Package {
        purl: Purl::parse(&purl).unwrap(),
        range: None,
    }
}

fn path_of(item: &BlastItem) -> Vec<(&'static str, String)> {
    item.path.iter().map(|s| (s.kind, s.name.clone())).collect()
}

fn dep_map(m: &DependencyMap) -> (Vec<String>, Vec<String>) {
    (
        m.nodes
            .iter()
            .map(|n| {
                format!(
                    "{}:{}:{}",
                    n.layer,
                    n.component,
                    n.owner.as_deref().unwrap_or("-")
                )
            })
            .collect(),
        m.edges
            .iter()
            .map(|e| format!("{}->{}", e.from, e.to))
            .collect(),
    )
}

// ----- the shop -----

const LOG4J: &str = "pkg:maven/org.apache.logging.log4j/log4j-core";
const CART: &str = "shop/cart";
const CHECKOUT: &str = "shop/checkout";
const FRONTEND: &str = "shop/frontend";
const EDGE: &str = "shop/edge";
const SEARCH: &str = "shop/search";

fn img(n: u64) -> String {
    digest(n)
}

pub(super) fn shop() -> Vec<RecordedEvent> {
    let mut payments = Entity::new(EntityKind::Group, "payments");
    payments.contacts = contacts("payments@shop.test", "#payments", "payments-oncall");
    let mut discovery = Entity::new(EntityKind::Group, "discovery");
    // Replaced by the later team.contacts event.
    discovery.contacts.email = Some("old@shop.test".into());
    let mut system = Entity::new(EntityKind::System, "shop");
    system.owner = Some("payments".into());
    system.description = Some("The web shop".into());
    let cart = component(CART, Some("payments"), Some("shop"), &[]);
    let mut checkout = component(CHECKOUT, Some("payments"), Some("shop"), &[CART]);
    checkout.provides_apis = vec!["checkout-api".into()];
    let mut frontend = component(FRONTEND, Some("discovery"), Some("shop"), &[]);
    frontend.consumes_apis = vec!["checkout-api".into()];
    let search = component(SEARCH, Some("discovery"), None, &[]);
    vec![
        entity(1, payments),
        entity(2, discovery),
        entity(3, system),
        entity(4, cart),
        entity(5, checkout),
        entity(6, frontend),
        entity(7, search),
        team_contacts(
            8,
            "discovery",
            contacts("discovery@shop.test", "#discovery", "discovery-oncall"),
        ),
        register(10, CART, "1.0.0", &img(1)),
        sbom(
            11,
            &img(1),
            &[
                (&format!("{LOG4J}@2.14.1"), 1),
                ("pkg:maven/org.slf4j/slf4j-api@1.7.30", 2),
            ],
        ),
        register(12, SEARCH, "2.0.0", &img(3)),
        sbom(
            13,
            &img(3),
            &[
                ("pkg:maven/org.elasticsearch/elasticsearch@7.10.0", 1),
                ("pkg:maven/org.apache.logging.log4j/log4j-api@2.14.1", 2),
                (&format!("{LOG4J}@2.14.1"), 3),
            ],
        ),
        application(14, "search-app", &[SEARCH, EDGE], Some("discovery")),
        depends(15, EDGE, FRONTEND, true),
        register(20, CART, "1.1.0", &img(2)),
        sbom(
            21,
            &img(2),
            &[
                ("pkg:maven/com.example/logging-wrapper@1.0", 1),
                (&format!("{LOG4J}@2.14.1"), 2),
            ],
        ),
        register(30, CART, "2.0.0", &img(4)),
        sbom(
            31,
            &img(4),
            &[
                (&format!("{LOG4J}@2.17.1"), 1),
                ("pkg:maven/org.slf4j/slf4j-api@1.7.36", 2),
            ],
        ),
        deploy(40, "prod-eu-1/payments/cart", run_ref("shop/cart:1.0.0")),
        deploy(41, "prod-us-1/search/search", run_ref("shop/search:2.0.0")),
        deploy(42, "prod-eu-1/web/frontend", run_ref("shop/frontend:3.0.0")),
        deploy(43, "prod-us-1/payments/cart", run_ref("shop/cart:2.0.0")),
    ]
}

#[test]
fn the_shop_declares_dependencies_applications_and_teams() {
    let c = fold(&shop());
    assert_eq!(c.dependencies_of(EDGE), [FRONTEND]);
    assert_eq!(
        c.dependencies_of(FRONTEND),
        [CHECKOUT],
        "through checkout-api"
    );
    assert_eq!(c.dependencies_of(CHECKOUT), [CART]);
    assert!(c.dependencies_of(CART).is_empty());
    assert_eq!(c.dependents_of(CART), [CHECKOUT]);

    let shop = c.application("shop").unwrap();
    assert_eq!(shop.owner.as_deref(), Some("payments"));
    assert_eq!(shop.description.as_deref(), Some("The web shop"));
    assert_eq!(shop.components, [CART, CHECKOUT, FRONTEND]);
    assert_eq!(shop.version_count, 3);
    let search = c.application("search-app").unwrap();
    assert_eq!(search.owner.as_deref(), Some("discovery"));
    assert_eq!(search.components, [EDGE, SEARCH]);
    assert_eq!(search.version_count, 1);
    assert_eq!(c.applications_of(CART), ["shop"]);
    assert_eq!(c.applications_of(EDGE), ["search-app"]);

    let versions: Vec<_> = c
        .application_versions("shop")
        .into_iter()
        .map(|v| (v.number, v.created_at, v.members))
        .collect();
    let m = |v: &str| vec![(CART.to_string(), v.to_string())];
    assert_eq!(
        versions,
        [
            (3, time(30), m("2.0.0")),
            (2, time(20), m("1.1.0")),
            (1, time(10), m("1.0.0"))
        ],
        "checkout and frontend have no versions, so only cart's pushes cut versions"
    );
    let s1 = c.application_version("search-app", 1).unwrap();
    assert_eq!(
        (s1.created_at, s1.members),
        (time(14), vec![(SEARCH.to_string(), "2.0.0".to_string())]),
        "search 2.0.0 was pushed before the application was declared"
    );
    assert!(c.application_version("search-app", 2).is_none());
    assert!(c.application_version("search-app", 0).is_none());

    let payments = c.team("payments").unwrap();
    assert_eq!(
        payments.contacts,
        contacts("payments@shop.test", "#payments", "payments-oncall")
    );
    assert_eq!(payments.components, [CART, CHECKOUT]);
    let discovery = c.team("discovery").unwrap();
    assert_eq!(
        discovery.contacts,
        contacts("discovery@shop.test", "#discovery", "discovery-oncall"),
        "the later team.contacts beats the group's descriptor"
    );
    assert_eq!(discovery.components, [FRONTEND, SEARCH]);
    assert_eq!(c.component(EDGE).unwrap().owner, None);
}

#[test]
fn blast_radius_of_a_package_version() {
    let c = fold(&shop());
    let r = c.blast_radius(&log4j(Some("2.14.1")), None).unwrap();
    let t = r.totals();
    assert_eq!(
        (
            t.images,
            t.component_versions,
            t.components,
            t.applications,
            t.application_versions,
            t.deployments,
            t.owners
        ),
        (3, 3, 5, 2, 3, 3, 2)
    );
    let env = Some("prod".to_string());
    let loc = |cluster: &str, ns: &str| (env.clone(), cluster.to_string(), ns.to_string());
    assert_eq!(
        t.by_location,
        BTreeMap::from([
            (loc("prod-eu-1", "payments"), 1),
            (loc("prod-eu-1", "web"), 1),
            (loc("prod-us-1", "search"), 1),
        ])
    );
    // package -> image (1) -> component version (2) -> component (3) -> dependents (4, 5, 6).
    assert_eq!(
        group(&c, &r, BlastGroup::Images),
        ["img1 d1 pd1", "img2 d1 pd2", "img3 d1 pd3"]
    );
    assert_eq!(
        group(&c, &r, BlastGroup::ComponentVersions),
        [
            "shop/cart@1.0.0 d2",
            "shop/cart@1.1.0 d2",
            "shop/search@2.0.0 d2"
        ]
    );
    assert_eq!(
        group(&c, &r, BlastGroup::Components),
        [
            "shop/cart d3",
            "shop/checkout d4 dependent",
            "shop/edge d6 dependent",
            "shop/frontend d5 dependent",
            "shop/search d3",
        ]
    );
    assert_eq!(
        group(&c, &r, BlastGroup::Applications),
        ["search-app d4", "shop d4"]
    );
    assert_eq!(
        group(&c, &r, BlastGroup::ApplicationVersions),
        ["search-app#1 d3", "shop#1 d3", "shop#2 d3"],
        "shop#3 has cart 2.0.0 only"
    );
    // Cart 2.0.0's deployment is not affected: cart is reached through its affected versions,
    // not as a whole. Frontend depends on something affected, so all of it is.
    assert_eq!(
        group(&c, &r, BlastGroup::Deployments),
        [
            "prod-eu-1/payments/cart d2",
            "prod-eu-1/web/frontend d6",
            "prod-us-1/search/search d2"
        ]
    );
    assert_eq!(
        group(&c, &r, BlastGroup::Owners),
        ["discovery d4", "payments d4"]
    );
    let owners: BTreeMap<String, Contacts> = all_items(&c, &r, BlastGroup::Owners)
        .into_iter()
        .filter_map(|i| match i.thing {
            BlastThing::Owner(t) => Some((t.name, t.contacts)),
            _ => None,
        })
        .collect();
    assert_eq!(
        owners,
        BTreeMap::from([
            (
                "discovery".to_string(),
                contacts("discovery@shop.test", "#discovery", "discovery-oncall")
            ),
            (
                "payments".to_string(),
                contacts("payments@shop.test", "#payments", "payments-oncall")
            ),
        ])
    );
    for item in all_items(&c, &r, BlastGroup::Images) {
        assert!(matches!(
            item.thing,
            BlastThing::Image {
                registered: true,
                ..
            }
        ));
    }

    // One shortest path per item: edge through the first image, cart, checkout, frontend.
    let edge = all_items(&c, &r, BlastGroup::Components)
        .into_iter()
        .find(|i| matches!(&i.thing, BlastThing::Component { component, .. } if component.name == EDGE))
        .unwrap();
    assert_eq!(
        path_of(&edge),
        [
            ("package", format!("{LOG4J}@2.14.1")),
            ("image", img(1)),
            ("componentVersion", "shop/cart@1.0.0".to_string()),
            ("component", CART.to_string()),
            ("component", CHECKOUT.to_string()),
            ("component", FRONTEND.to_string()),
            ("component", EDGE.to_string()),
        ]
    );
    // Every path starts at the package, ends at its item, and is as long as the item is deep.
    for g in BlastGroup::ALL {
        for item in all_items(&c, &r, g) {
            assert_eq!(
                item.path.len(),
                item.depth as usize + 1,
                "{}",
                describe(&item)
            );
            assert_eq!(item.path[0].kind, "package");
        }
    }
    let frontend_dep = all_items(&c, &r, BlastGroup::Deployments)
        .into_iter()
        .find(|i| describe(i).starts_with("prod-eu-1/web"))
        .unwrap();
    assert_eq!(
        frontend_dep.path.last().map(|s| (s.kind, s.name.as_str())),
        Some(("deployment", "prod-eu-1/web/frontend"))
    );
    assert_eq!(frontend_dep.path[5].name, FRONTEND);
}

#[test]
fn blast_radius_honours_max_depth() {
    let c = fold(&shop());
    let r = c.blast_radius(&log4j(Some("2.14.1")), Some(4)).unwrap();
    assert_eq!(r.max_depth, Some(4));
    assert_eq!(
        group(&c, &r, BlastGroup::Components),
        [
            "shop/cart d3",
            "shop/checkout d4 dependent",
            "shop/search d3"
        ]
    );
    assert_eq!(
        group(&c, &r, BlastGroup::Deployments),
        ["prod-eu-1/payments/cart d2", "prod-us-1/search/search d2"]
    );
    assert_eq!(
        group(&c, &r, BlastGroup::Applications),
        ["search-app d4", "shop d4"]
    );
    assert_eq!(
        group(&c, &r, BlastGroup::Owners),
        ["discovery d4", "payments d4"]
    );
    let t = r.totals();
    assert_eq!(
        (t.images, t.component_versions, t.application_versions),
        (3, 3, 3)
    );

    let r = c.blast_radius(&log4j(Some("2.14.1")), Some(1)).unwrap();
    let t = r.totals();
    assert_eq!((t.images, t.component_versions, t.components), (3, 0, 0));

    // Depth 0 is the target alone, and a package is no item of its own radius.
    let r = c.blast_radius(&log4j(Some("2.14.1")), Some(0)).unwrap();
    assert_eq!(r.totals(), Default::default());
}

#[test]
fn blast_radius_of_ranges_and_every_version() {
    let c = fold(&shop());
    let exact = blast_answer(&c, &log4j(Some("2.14.1")), None);
    let ranged = BlastTarget::Package {
        purl: Purl::parse(LOG4J).unwrap(),
        range: Some(VersRange::parse("vers:maven/>=2.0.0|<2.15.0").unwrap()),
    };
    assert_eq!(
        blast_answer(&c, &ranged, None),
        exact,
        "2.17.1 is out of range"
    );

    let any = c.blast_radius(&log4j(None), None).unwrap();
    assert_eq!(
        group(&c, &any, BlastGroup::Images),
        ["img1 d1 pd1", "img2 d1 pd2", "img3 d1 pd3", "img4 d1 pd1"]
    );
    assert_eq!(
        group(&c, &any, BlastGroup::ComponentVersions),
        [
            "shop/cart@1.0.0 d2",
            "shop/cart@1.1.0 d2",
            "shop/cart@2.0.0 d2",
            "shop/search@2.0.0 d2"
        ]
    );
    assert_eq!(
        group(&c, &any, BlastGroup::ApplicationVersions),
        ["search-app#1 d3", "shop#1 d3", "shop#2 d3", "shop#3 d3"]
    );
    assert_eq!(
        group(&c, &any, BlastGroup::Deployments),
        [
            "prod-eu-1/payments/cart d2",
            "prod-eu-1/web/frontend d6",
            "prod-us-1/payments/cart d2",
            "prod-us-1/search/search d2"
        ]
    );

    let nothing = BlastTarget::Package {
        purl: Purl::parse(LOG4J).unwrap(),
        range: Some(VersRange::parse("vers:maven/>=3.0.0").unwrap()),
    };
    assert_eq!(
        c.blast_radius(&nothing, None).unwrap().totals(),
        Default::default()
    );
    // A known package at a version no SBOM lists: an empty radius, not "unknown".
    assert_eq!(
        c.blast_radius(&log4j(Some("9.9.9")), None)
            .unwrap()
            .totals(),
        Default::default()
    );
    let unknown = BlastTarget::Package {
        purl: Purl::parse("pkg:npm/left-pad@1.0.0").unwrap(),
        range: None,
    };
    assert!(c.blast_radius(&unknown, None).is_none());
}

#[test]
fn blast_radius_of_components_versions_and_images() {
    let c = fold(&shop());

    // A component is affected as a whole: every deployment of it, whichever version.
    let r = c
        .blast_radius(&BlastTarget::Component(CART.into()), None)
        .unwrap();
    assert!(group(&c, &r, BlastGroup::Images).is_empty());
    assert!(group(&c, &r, BlastGroup::ComponentVersions).is_empty());
    assert!(group(&c, &r, BlastGroup::ApplicationVersions).is_empty());
    assert_eq!(
        group(&c, &r, BlastGroup::Components),
        [
            "shop/checkout d1 dependent",
            "shop/edge d3 dependent",
            "shop/frontend d2 dependent"
        ],
        "the target is no item of its own radius"
    );
    assert_eq!(
        group(&c, &r, BlastGroup::Applications),
        ["search-app d4", "shop d1"]
    );
    assert_eq!(
        group(&c, &r, BlastGroup::Deployments),
        [
            "prod-eu-1/payments/cart d1",
            "prod-eu-1/web/frontend d3",
            "prod-us-1/payments/cart d1"
        ]
    );
    assert_eq!(
        group(&c, &r, BlastGroup::Owners),
        ["discovery d3", "payments d1"]
    );

    // A component version: its component (not as a whole), the application versions holding it.
    let r = c
        .blast_radius(
            &BlastTarget::ComponentVersion {
                component: CART.into(),
                version: "1.1.0".into(),
            },
            None,
        )
        .unwrap();
    assert_eq!(
        group(&c, &r, BlastGroup::Components),
        [
            "shop/cart d1",
            "shop/checkout d2 dependent",
            "shop/edge d4 dependent",
            "shop/frontend d3 dependent"
        ]
    );
    assert_eq!(
        group(&c, &r, BlastGroup::ApplicationVersions),
        ["shop#2 d1"]
    );
    assert_eq!(
        group(&c, &r, BlastGroup::Applications),
        ["search-app d5", "shop d2"]
    );
    assert_eq!(
        group(&c, &r, BlastGroup::Deployments),
        ["prod-eu-1/web/frontend d4"],
        "nothing runs cart 1.1.0"
    );
    assert_eq!(
        group(&c, &r, BlastGroup::Owners),
        ["discovery d4", "payments d2"]
    );

    // An image: what is built from it and what runs it.
    let r = c.blast_radius(&BlastTarget::Image(img(3)), None).unwrap();
    assert!(group(&c, &r, BlastGroup::Images).is_empty());
    assert_eq!(
        group(&c, &r, BlastGroup::ComponentVersions),
        ["shop/search@2.0.0 d1"]
    );
    assert_eq!(group(&c, &r, BlastGroup::Components), ["shop/search d2"]);
    assert_eq!(
        group(&c, &r, BlastGroup::ApplicationVersions),
        ["search-app#1 d2"]
    );
    assert_eq!(group(&c, &r, BlastGroup::Applications), ["search-app d3"]);
    assert_eq!(
        group(&c, &r, BlastGroup::Deployments),
        ["prod-us-1/search/search d1"]
    );
    assert_eq!(group(&c, &r, BlastGroup::Owners), ["discovery d3"]);
    let cv = &all_items(&c, &r, BlastGroup::ComponentVersions)[0];
    assert_eq!(
        path_of(cv),
        [
            ("image", img(3)),
            ("componentVersion", "shop/search@2.0.0".to_string())
        ]
    );

    // Unknown targets.
    assert!(c
        .blast_radius(&BlastTarget::Component("shop/nope".into()), None)
        .is_none());
    assert!(c
        .blast_radius(
            &BlastTarget::ComponentVersion {
                component: CART.into(),
                version: "9.9.9".into()
            },
            None
        )
        .is_none());
    assert!(c.blast_radius(&BlastTarget::Image(img(99)), None).is_none());
}

#[test]
fn blast_totals_follow_configured_environments() {
    let mut c = fold(&shop());
    let target = BlastTarget::Component(CART.into());
    let places = |c: &Catalog| -> Vec<String> {
        let r = c.blast_radius(&target, None).unwrap();
        r.totals()
            .by_location
            .iter()
            .map(|((env, cluster, ns), n)| format!("{env:?} {cluster}/{ns} {n}"))
            .collect()
    };
    assert_eq!(
        places(&c),
        [
            r#"Some("prod") prod-eu-1/payments 1"#,
            r#"Some("prod") prod-eu-1/web 1"#,
            r#"Some("prod") prod-us-1/payments 1"#,
        ]
    );
    // Configuration beats what events said, also in a radius asked before it changed.
    c.set_cluster_environments([("prod-eu-1".to_string(), "eu".to_string())].into());
    assert_eq!(
        places(&c),
        [
            r#"Some("eu") prod-eu-1/payments 1"#,
            r#"Some("eu") prod-eu-1/web 1"#,
            r#"Some("prod") prod-us-1/payments 1"#,
        ]
    );
}

#[test]
fn blast_pages_cover_a_group_once() {
    let c = fold(&shop());
    let r = c.blast_radius(&log4j(Some("2.14.1")), None).unwrap();
    let all = all_items(&c, &r, BlastGroup::Components);
    assert_eq!(all.len(), 5);
    // Breadth first: never deeper before shallower.
    assert!(all.windows(2).all(|w| w[0].depth <= w[1].depth));
    let mut paged = Vec::new();
    let mut after = 0;
    let mut pages = Vec::new();
    loop {
        let p = c.blast_page(&r, BlastGroup::Components, 2, after);
        pages.push((p.items.len(), p.has_next));
        after += p.items.len();
        paged.extend(p.items);
        if !p.has_next {
            break;
        }
    }
    assert_eq!(pages, [(2, true), (2, true), (1, false)]);
    assert_eq!(paged, all);
    let past = c.blast_page(&r, BlastGroup::Components, 2, 5);
    assert!(past.items.is_empty() && !past.has_next);
    let none = c.blast_page(&r, BlastGroup::Components, 0, 0);
    assert!(none.items.is_empty() && none.has_next);
    let exact = c.blast_page(&r, BlastGroup::Images, 3, 0);
    assert_eq!((exact.items.len(), exact.has_next), (3, false));
}

#[test]
fn dependency_maps_of_the_shop() {
    let c = fold(&shop());
    let m = c.dependency_map(EDGE, Direction::Forward, 10).unwrap();
    assert_eq!(
        dep_map(&m),
        (
            vec![
                "0:shop/edge:-".to_string(),
                "1:shop/frontend:discovery".to_string(),
                "2:shop/checkout:payments".to_string(),
                "3:shop/cart:payments".to_string(),
            ],
            vec![
                "shop/checkout->shop/cart".to_string(),
                "shop/edge->shop/frontend".to_string(),
                "shop/frontend->shop/checkout".to_string(),
            ]
        )
    );
    let m = c.dependency_map(CART, Direction::Reverse, 2).unwrap();
    assert_eq!(
        dep_map(&m),
        (
            vec![
                "0:shop/cart:payments".to_string(),
                "1:shop/checkout:payments".to_string(),
                "2:shop/frontend:discovery".to_string(),
            ],
            vec![
                "shop/checkout->shop/cart".to_string(),
                "shop/frontend->shop/checkout".to_string(),
            ]
        )
    );
    let m = c.dependency_map(EDGE, Direction::Forward, 0).unwrap();
    assert_eq!(dep_map(&m), (vec!["0:shop/edge:-".to_string()], vec![]));
    assert!(c
        .dependency_map(EDGE, Direction::Reverse, 5)
        .unwrap()
        .edges
        .is_empty());
    assert!(c
        .dependency_map("shop/nope", Direction::Forward, 5)
        .is_none());
}

#[test]
fn boms_of_the_shop() {
    let c = fold(&shop());
    let pk = |b: &catalog_core::graph::Bom| -> Vec<String> {
        b.packages
            .iter()
            .map(|p| {
                format!(
                    "{}@{} d{}",
                    p.name,
                    p.version.as_deref().unwrap_or("-"),
                    p.depth.unwrap_or(0)
                )
            })
            .collect()
    };
    let cvs = |b: &catalog_core::graph::Bom| -> Vec<String> {
        b.component_versions
            .iter()
            .map(|v| format!("{}@{}", v.component, v.version))
            .collect()
    };
    let b = c
        .bom(&BomRoot::ComponentVersion {
            component: CART.into(),
            version: "1.0.0".into(),
        })
        .unwrap();
    assert_eq!(cvs(&b), ["shop/cart@1.0.0"]);
    assert_eq!(b.images, [img(1)]);
    assert_eq!(pk(&b), ["log4j-core@2.14.1 d1", "slf4j-api@1.7.30 d2"]);
    let b = c.bom(&BomRoot::Image(img(3))).unwrap();
    assert_eq!(cvs(&b), ["shop/search@2.0.0"]);
    assert_eq!(
        pk(&b),
        [
            "log4j-api@2.14.1 d2",
            "log4j-core@2.14.1 d3",
            "elasticsearch@7.10.0 d1"
        ],
        "by package purl: org.apache... before org.elasticsearch"
    );
    let b = c
        .bom(&BomRoot::ApplicationVersion {
            application: "shop".into(),
            number: 3,
        })
        .unwrap();
    assert_eq!(cvs(&b), ["shop/cart@2.0.0"]);
    assert_eq!(b.images, [img(4)]);
    let d = c
        .diff(
            &BomRoot::ApplicationVersion {
                application: "shop".into(),
                number: 1,
            },
            &BomRoot::ApplicationVersion {
                application: "shop".into(),
                number: 3,
            },
        )
        .unwrap();
    let changes = |cs: &[catalog_core::graph::Change]| -> Vec<String> {
        cs.iter()
            .map(|c| format!("{} {} {:?}->{:?}", c.kind(), c.name, c.from, c.to))
            .collect()
    };
    assert_eq!(
        changes(&d.components),
        [r#"changed shop/cart ["1.0.0"]->["2.0.0"]"#]
    );
    assert_eq!(
        changes(&d.packages),
        [
            r#"changed pkg:maven/org.apache.logging.log4j/log4j-core ["2.14.1"]->["2.17.1"]"#,
            r#"changed pkg:maven/org.slf4j/slf4j-api ["1.7.30"]->["1.7.36"]"#,
        ]
    );
    assert!(c.bom(&BomRoot::Image(img(99))).is_none());
    assert!(c
        .bom(&BomRoot::ApplicationVersion {
            application: "shop".into(),
            number: 4
        })
        .is_none());
    assert!(c
        .diff(
            &BomRoot::Image(img(1)),
            &BomRoot::ApplicationVersion {
                application: "nope".into(),
                number: 1
            }
        )
        .is_none());
}

// ----- a component reached through its own affected version is still a dependent -----

#[test]
fn a_dependent_reached_through_its_own_version_is_still_affected_as_a_whole() {
    // checkout depends on cart; both cart 1.0.0 and checkout 1.0.0 contain log4j, checkout
    // 2.0.0 (which runs) does not. Checkout depends on something affected, so the deployment
    // of checkout 2.0.0 is affected, exactly as when checkout 1.0.0 had no log4j at all.
    let history = |checkout_has_it: bool| {
        let mut checkout_pkgs = vec![("pkg:npm/other@1.0.0", 1)];
        if checkout_has_it {
            checkout_pkgs.push(("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", 2));
        }
        vec![
            entity(1, component(CHECKOUT, None, None, &[CART])),
            register(2, CART, "1.0.0", &img(1)),
            sbom(3, &img(1), &[(&format!("{LOG4J}@2.14.1"), 1)]),
            register(4, CHECKOUT, "1.0.0", &img(2)),
            sbom(5, &img(2), &checkout_pkgs),
            register(6, CHECKOUT, "2.0.0", &img(3)),
            sbom(7, &img(3), &[("pkg:npm/other@2.0.0", 1)]),
            deploy(8, "k/ns/checkout", run_named(CHECKOUT, Some("2.0.0"))),
            deploy(9, "k/ns/cart", run_named(CART, Some("1.0.0"))),
        ]
    };
    let c = fold(&history(true));
    let r = c.blast_radius(&log4j(Some("2.14.1")), None).unwrap();
    assert_eq!(
        group(&c, &r, BlastGroup::Components),
        ["shop/cart d3", "shop/checkout d3 dependent"]
    );
    // One hop after checkout as a dependent (cart d3 -> checkout d4), and the path says so.
    assert_eq!(
        group(&c, &r, BlastGroup::Deployments),
        ["k/ns/cart d2", "k/ns/checkout d5"]
    );
    let checkout = all_items(&c, &r, BlastGroup::Deployments)
        .into_iter()
        .find(|i| describe(i).starts_with("k/ns/checkout"))
        .unwrap();
    assert_eq!(
        path_of(&checkout),
        [
            ("package", format!("{LOG4J}@2.14.1")),
            ("image", img(1)),
            ("componentVersion", "shop/cart@1.0.0".to_string()),
            ("component", CART.to_string()),
            ("component", CHECKOUT.to_string()),
            ("deployment", "k/ns/checkout".to_string()),
        ]
    );

    let c = fold(&history(false));
    let r = c.blast_radius(&log4j(Some("2.14.1")), None).unwrap();
    assert_eq!(
        group(&c, &r, BlastGroup::Components),
        ["shop/cart d3", "shop/checkout d4 dependent"]
    );
    assert_eq!(
        group(&c, &r, BlastGroup::Deployments),
        ["k/ns/cart d2", "k/ns/checkout d5"]
    );
}

// ----- cycles -----

fn cycle() -> Vec<RecordedEvent> {
    vec![
        entity(1, component("a", Some("ta"), None, &["b"])),
        depends(2, "b", "c", true),
        entity(3, component("c", None, None, &["a"])),
        register(4, "a", "1.0.0", &img(1)),
        deploy(5, "k/ns/a", run_named("a", Some("1.0.0"))),
        deploy(6, "k/ns/b", run_named("b", None)),
    ]
}

#[test]
fn cycles_terminate() {
    let c = fold(&cycle());
    let r = c
        .blast_radius(&BlastTarget::Component("a".into()), None)
        .unwrap();
    assert_eq!(
        group(&c, &r, BlastGroup::Components),
        ["b d2 dependent", "c d1 dependent"]
    );
    assert_eq!(
        group(&c, &r, BlastGroup::Deployments),
        ["k/ns/a d1", "k/ns/b d3"]
    );
    assert_eq!(group(&c, &r, BlastGroup::Owners), ["ta d1"]);
    let r = c
        .blast_radius(
            &BlastTarget::ComponentVersion {
                component: "a".into(),
                version: "1.0.0".into(),
            },
            None,
        )
        .unwrap();
    // a is found again as b's dependent: it depends on what it affects, so it is affected
    // as a whole too (any deployment of a, whichever version, is reached).
    assert_eq!(
        group(&c, &r, BlastGroup::Components),
        ["a d1 dependent", "b d3 dependent", "c d2 dependent"]
    );
    assert_eq!(
        group(&c, &r, BlastGroup::Deployments),
        ["k/ns/a d1", "k/ns/b d4"]
    );
    let r = c
        .blast_radius(&BlastTarget::Image(img(1)), Some(3))
        .unwrap();
    assert_eq!(
        group(&c, &r, BlastGroup::Components),
        ["a d2", "c d3 dependent"]
    );

    let all = vec!["a->b".to_string(), "b->c".to_string(), "c->a".to_string()];
    let m = c.dependency_map("a", Direction::Forward, 10).unwrap();
    assert_eq!(
        dep_map(&m),
        (
            vec![
                "0:a:ta".to_string(),
                "1:b:-".to_string(),
                "2:c:-".to_string()
            ],
            all.clone()
        )
    );
    let m = c.dependency_map("a", Direction::Reverse, 10).unwrap();
    assert_eq!(
        dep_map(&m),
        (
            vec![
                "0:a:ta".to_string(),
                "1:c:-".to_string(),
                "2:b:-".to_string()
            ],
            all
        )
    );
    let m = c.dependency_map("a", Direction::Forward, 1).unwrap();
    assert_eq!(
        dep_map(&m),
        (
            vec!["0:a:ta".to_string(), "1:b:-".to_string()],
            vec!["a->b".to_string()]
        )
    );
    let m = c.dependency_map("a", Direction::Reverse, 1).unwrap();
    assert_eq!(
        dep_map(&m),
        (
            vec!["0:a:ta".to_string(), "1:c:-".to_string()],
            vec!["c->a".to_string()]
        )
    );
}

// ----- dependency rules -----

#[test]
fn dependency_rules() {
    let mut c = Catalog::new();
    // A descriptor lists y and itself: a component never depends on itself.
    apply_checked(&mut c, &entity(10, component("x", None, None, &["y", "x"])));
    apply_checked(&mut c, &depends(10, "x", "x", true));
    assert_eq!(c.dependencies_of("x"), ["y"]);
    // An API removal newer than the descriptor wins ...
    apply_checked(&mut c, &depends(11, "x", "y", false));
    assert!(c.dependencies_of("x").is_empty());
    // ... an older one does not ...
    apply_checked(&mut c, &depends(9, "x", "y", false));
    assert!(c.dependencies_of("x").is_empty());
    // ... and a later descriptor listing it again re-adds it.
    apply_checked(&mut c, &entity(12, component("x", None, None, &["y"])));
    assert_eq!(c.dependencies_of("x"), ["y"]);
    // A declaration older than the descriptor, which does not list z, loses to it.
    apply_checked(&mut c, &depends(11, "x", "z", true));
    assert_eq!(c.dependencies_of("x"), ["y"]);
    // At equal times the API wins.
    apply_checked(&mut c, &depends(12, "x", "w", true));
    assert_eq!(c.dependencies_of("x"), ["w", "y"]);
    // A newer declaration wins over the descriptor.
    apply_checked(&mut c, &depends(13, "x", "z", true));
    assert_eq!(c.dependencies_of("x"), ["w", "y", "z"]);
    assert_eq!(c.dependents_of("z"), ["x"]);

    // A consumer declared before any provider: the provider's arrival makes the edge, its
    // departure removes it.
    let mut consumer = component("fe", None, None, &[]);
    consumer.consumes_apis = vec!["pay-api".into()];
    apply_checked(&mut c, &entity(20, consumer));
    assert!(c.dependencies_of("fe").is_empty());
    let mut provider = component("pay", None, None, &[]);
    provider.provides_apis = vec!["pay-api".into()];
    apply_checked(&mut c, &entity(21, provider.clone()));
    assert_eq!(c.dependencies_of("fe"), ["pay"]);
    let mut provider2 = component("pay2", None, None, &[]);
    provider2.provides_apis = vec!["pay-api".into()];
    apply_checked(&mut c, &entity(22, provider2));
    assert_eq!(c.dependencies_of("fe"), ["pay", "pay2"], "every provider");
    apply_checked(&mut c, &depends(23, "fe", "pay2", false));
    assert_eq!(c.dependencies_of("fe"), ["pay"]);
    provider.provides_apis.clear();
    apply_checked(&mut c, &entity(24, provider));
    assert!(c.dependencies_of("fe").is_empty());
    assert!(c.dependents_of("pay").is_empty());
}

#[test]
fn dependency_rules_do_not_depend_on_arrival_order() {
    let mut consumer = component("fe", None, None, &[]);
    consumer.consumes_apis = vec!["pay-api".into()];
    let mut provider = component("pay", None, None, &[]);
    provider.provides_apis = vec!["pay-api".into()];
    let events = vec![
        entity(10, component("x", None, None, &["y", "x"])),
        depends(11, "x", "y", false),
        depends(10, "x", "v", true),
        entity(12, component("x", None, None, &["y"])),
        depends(12, "x", "w", true),
        depends(11, "x", "z", true),
        entity(20, consumer),
        entity(21, provider),
        depends(2, "fe", "pay", false),
    ];
    let answer = |c: &Catalog| {
        ["x", "fe", "pay", "y"]
            .map(|n| (c.dependencies_of(n), c.dependents_of(n)))
            .to_vec()
    };
    let want = answer(&fold(&events));
    assert_eq!(want[0].0, ["w", "y"]);
    assert_eq!(
        want[1].0,
        ["pay"],
        "the removal is older than fe's descriptor"
    );
    let mut rng = Rng(7);
    for _ in 0..20 {
        let mut order = events.clone();
        rng.shuffle(&mut order);
        assert_eq!(answer(&fold(&order)), want);
    }
}

/// The dependency rules, computed from scratch from the events: the reference the graph's
/// incremental maintenance is checked against.
fn reference_dependencies(
    events: &[RecordedEvent],
    names: &[String],
) -> Vec<(String, Vec<String>)> {
    type Rank = (DateTime<Utc>, String);
    let mut latest: HashMap<String, (Rank, Entity)> = HashMap::new();
    let mut words: HashMap<(String, String), (Rank, bool)> = HashMap::new();
    for e in events {
        let rank = (e.occurred_at, e.key.clone());
        match &e.event {
            Event::EntityDeclared(en) if latest.get(&en.name).is_none_or(|(r, _)| *r < rank) => {
                latest.insert(en.name.clone(), (rank, en.as_ref().clone()));
            }
            Event::DependencyDeclared { from, to } | Event::DependencyRemoved { from, to } => {
                let present = matches!(e.event, Event::DependencyDeclared { .. });
                let pair = (from.clone(), to.clone());
                if words.get(&pair).is_none_or(|(r, _)| *r < rank) {
                    words.insert(pair, (rank, present));
                }
            }
            _ => {}
        }
    }
    names
        .iter()
        .map(|from| {
            let deps = names
                .iter()
                .filter(|to| *to != from)
                .filter(|to| {
                    let entity = latest.get(from);
                    let listed = entity.is_some_and(|(_, e)| {
                        e.depends_on.contains(to)
                            || e.consumes_apis.iter().any(|api| {
                                latest
                                    .get(*to)
                                    .is_some_and(|(_, p)| p.provides_apis.contains(api))
                            })
                    });
                    match (words.get(&(from.clone(), (*to).clone())), entity) {
                        (Some(((ta, _), a)), Some(((te, _), _))) => {
                            if ta >= te {
                                *a
                            } else {
                                listed
                            }
                        }
                        (Some((_, a)), None) => *a,
                        (None, Some(_)) => listed,
                        (None, None) => false,
                    }
                })
                .cloned()
                .collect();
            (from.clone(), deps)
        })
        .collect()
}

#[test]
fn incremental_dependencies_agree_with_the_rules_computed_from_scratch() {
    let names: Vec<String> = (0..8).map(|i| format!("c{i}")).collect();
    let apis = ["a0", "a1", "a2"];
    let mut rng = Rng(42);
    for round in 0..40 {
        let mut events = Vec::new();
        for i in 0..40 {
            let min = 1 + rng.below(20) as i64;
            let from = &names[rng.below(names.len())];
            if rng.below(3) == 0 {
                let to = &names[rng.below(names.len())];
                let present = rng.below(2) == 0;
                let key = format!("dep:{from}->{to}:{present}#{round}.{i}");
                let event = if present {
                    Event::DependencyDeclared {
                        from: from.clone(),
                        to: to.clone(),
                    }
                } else {
                    Event::DependencyRemoved {
                        from: from.clone(),
                        to: to.clone(),
                    }
                };
                events.push(ev(min, key, event));
            } else {
                let mut e = component(from, None, None, &[]);
                let pick = |rng: &mut Rng| -> Vec<String> {
                    apis.iter()
                        .filter(|_| rng.below(3) == 0)
                        .map(|a| a.to_string())
                        .collect()
                };
                e.provides_apis = pick(&mut rng);
                e.consumes_apis = pick(&mut rng);
                if rng.below(3) == 0 {
                    e.depends_on = vec![names[rng.below(names.len())].clone()];
                }
                events.push(ev(
                    min,
                    format!("entity:{from}#{round}.{i}"),
                    Event::EntityDeclared(Box::new(e)),
                ));
            }
        }
        let want = reference_dependencies(&events, &names);
        for _ in 0..3 {
            rng.shuffle(&mut events);
            let c = fold(&events);
            let got: Vec<(String, Vec<String>)> = names
                .iter()
                .map(|n| (n.clone(), c.dependencies_of(n)))
                .collect();
            assert_eq!(got, want, "round {round}");
        }
    }
}

#[test]
fn thousands_consuming_one_api_fold_pair_by_pair() {
    // N components that all provide and consume one API: each depends on every other. Folding
    // them one by one used to recompute every consumer per provider (cubic); pair by pair it
    // is the N² edges it must make.
    let n = 400;
    let mut c = Catalog::new();
    let events: Vec<RecordedEvent> = (0..n)
        .map(|i| {
            let mut e = component(&format!("svc-{i:04}"), None, None, &[]);
            e.provides_apis = vec!["auth".into()];
            e.consumes_apis = vec!["auth".into()];
            entity(i as i64, e)
        })
        .collect();
    let estimate = c.declared_edges_estimate(events.iter().filter_map(|e| match &e.event {
        Event::EntityDeclared(e) => Some(e.as_ref()),
        _ => None,
    }));
    assert_eq!(
        estimate,
        (n * n) as u64,
        "every consumer-provider pair, self included"
    );
    c.apply_all(&events);
    c.verify().unwrap();
    assert_eq!(c.dependencies_of("svc-0000").len(), n - 1);
    assert_eq!(c.dependents_of("svc-0399").len(), n - 1);
    // One provider leaving removes exactly its pairs.
    let mut e = component("svc-0007", None, None, &[]);
    e.consumes_apis = vec!["auth".into()];
    c.apply(&entity(n as i64 + 1, e));
    c.verify().unwrap();
    assert!(c.dependents_of("svc-0007").is_empty());
    assert_eq!(c.dependencies_of("svc-0007").len(), n - 1);
    assert_eq!(c.dependencies_of("svc-0000").len(), n - 2);
    // Once in the graph, only new pairs count towards an import's estimate.
    let mut again = component("svc-0001", None, None, &[]);
    again.provides_apis = vec!["auth".into()];
    again.consumes_apis = vec!["auth".into()];
    let mut newcomer = component("svc-new", None, None, &[]);
    newcomer.consumes_apis = vec!["auth".into()];
    let providers_now = (n - 1) as u64;
    assert_eq!(
        c.declared_edges_estimate([&again, &newcomer]),
        // (consumers n + 1) x (providers n - 1) less the pairs kept from before ((n-1) x (n-2))
        (n as u64 + 1) * providers_now - (n as u64 - 1) * (providers_now - 1)
    );
}

// ----- application versions -----

const A: &str = "svc/a";
const B: &str = "svc/b";
const C: &str = "svc/c";
const D: &str = "svc/d";

pub(super) fn store() -> Vec<RecordedEvent> {
    vec![
        application(1, "store", &[A, B], Some("team-x")),
        register(2, A, "1.0.0", &img(11)),
        sbom(
            2,
            &img(11),
            &[("pkg:npm/libx@1.0.0", 1), ("pkg:npm/liby@2.0.0", 2)],
        ),
        register(3, B, "1.0.0", &img(21)),
        sbom(3, &img(21), &[("pkg:npm/libz@1.0.0", 1)]),
        register(4, A, "1.1.0", &img(12)),
        sbom(
            4,
            &img(12),
            &[
                ("pkg:npm/libx@1.1.0", 1),
                ("pkg:npm/liby@2.0.0", 3),
                ("pkg:npm/libw@1.0.0", 2),
            ],
        ),
        // c is no member yet.
        register(5, C, "1.0.0", &img(31)),
        sbom(
            5,
            &img(31),
            &[("pkg:npm/libq@1.0.0", 1), ("pkg:npm/liby@2.0.0", 1)],
        ),
        // Membership changes: b leaves, c joins.
        application(6, "store", &[A, C], None),
        // b is no member any more.
        register(7, B, "2.0.0", &img(22)),
        register(8, D, "1.0.0", &img(41)),
        // d joins through its descriptor, then leaves.
        entity(9, component(D, None, Some("store"), &[])),
        entity(10, component(D, None, None, &[])),
    ]
}

fn app_versions(c: &Catalog, app: &str) -> Vec<String> {
    let mut v: Vec<String> = c
        .application_versions(app)
        .into_iter()
        .map(|v| {
            let members: Vec<String> = v.members.iter().map(|(c, v)| format!("{c}@{v}")).collect();
            format!(
                "#{} t{} {}",
                v.number,
                (v.created_at - time(0)).num_minutes(),
                members.join(",")
            )
        })
        .collect();
    v.reverse();
    v
}

#[test]
fn application_versions_follow_member_pushes_and_membership() {
    let c = fold(&store());
    assert_eq!(
        app_versions(&c, "store"),
        [
            "#1 t2 svc/a@1.0.0",
            "#2 t3 svc/a@1.0.0,svc/b@1.0.0",
            "#3 t4 svc/a@1.1.0,svc/b@1.0.0",
            "#4 t6 svc/a@1.1.0,svc/c@1.0.0",
            "#5 t9 svc/a@1.1.0,svc/c@1.0.0,svc/d@1.0.0",
            "#6 t10 svc/a@1.1.0,svc/c@1.0.0",
        ]
    );
    let app = c.application("store").unwrap();
    assert_eq!(app.components, [A, C]);
    assert_eq!(
        app.owner.as_deref(),
        Some("team-x"),
        "the latest declaration naming one"
    );
    assert_eq!(app.version_count, 6);
}

#[test]
fn boms_and_diffs_of_application_versions() {
    let c = fold(&store());
    let av = |n: u32| BomRoot::ApplicationVersion {
        application: "store".into(),
        number: n,
    };
    let b = c.bom(&av(4)).unwrap();
    let cvs: Vec<String> = b
        .component_versions
        .iter()
        .map(|v| format!("{}@{}", v.component, v.version))
        .collect();
    assert_eq!(cvs, ["svc/a@1.1.0", "svc/c@1.0.0"]);
    assert_eq!(b.images, [img(12), img(31)]);
    let pkgs: Vec<String> = b
        .packages
        .iter()
        .map(|p| {
            format!(
                "{} d{}",
                p.package_version.as_deref().unwrap_or("-"),
                p.depth.unwrap_or(0)
            )
        })
        .collect();
    assert_eq!(
        pkgs,
        [
            "pkg:npm/libq@1.0.0 d1",
            "pkg:npm/libw@1.0.0 d2",
            "pkg:npm/libx@1.1.0 d1",
            "pkg:npm/liby@2.0.0 d1",
        ],
        "one entry per package version, at its shallowest"
    );
    // d 1.0.0 has no SBOM: its image is in the BOM, no packages.
    let b5 = c.bom(&av(5)).unwrap();
    assert_eq!(b5.images, [img(12), img(31), img(41)]);
    assert_eq!(b5.packages, b.packages);

    let changes = |cs: &[catalog_core::graph::Change]| -> Vec<String> {
        cs.iter()
            .map(|c| format!("{} {} {:?}->{:?}", c.kind(), c.name, c.from, c.to))
            .collect()
    };
    let d = c.diff(&av(2), &av(4)).unwrap();
    assert_eq!(
        changes(&d.components),
        [
            r#"changed svc/a ["1.0.0"]->["1.1.0"]"#,
            r#"removed svc/b ["1.0.0"]->[]"#,
            r#"added svc/c []->["1.0.0"]"#,
        ]
    );
    assert_eq!(
        changes(&d.packages),
        [
            r#"added pkg:npm/libq []->["1.0.0"]"#,
            r#"added pkg:npm/libw []->["1.0.0"]"#,
            r#"changed pkg:npm/libx ["1.0.0"]->["1.1.0"]"#,
            r#"removed pkg:npm/libz ["1.0.0"]->[]"#,
        ],
        "liby is in both"
    );
    let d = c.diff(&av(4), &av(5)).unwrap();
    assert_eq!(changes(&d.components), [r#"added svc/d []->["1.0.0"]"#]);
    assert!(d.packages.is_empty());
    assert_eq!(c.diff(&av(4), &av(6)).unwrap(), Default::default());
    // Any two roots compare: an image against a component version.
    let d = c
        .diff(
            &BomRoot::Image(img(11)),
            &BomRoot::ComponentVersion {
                component: A.into(),
                version: "1.1.0".into(),
            },
        )
        .unwrap();
    assert_eq!(
        changes(&d.components),
        [r#"changed svc/a ["1.0.0"]->["1.1.0"]"#]
    );
    assert!(c.bom(&av(7)).is_none() && c.bom(&av(0)).is_none());
}

#[test]
fn blast_radius_reaches_the_application_versions_a_component_left() {
    let c = fold(&store());
    let libz = BlastTarget::Package {
        purl: Purl::parse("pkg:npm/libz@1.0.0").unwrap(),
        range: None,
    };
    let r = c.blast_radius(&libz, None).unwrap();
    assert_eq!(
        group(&c, &r, BlastGroup::ApplicationVersions),
        ["store#2 d3", "store#3 d3"]
    );
    assert!(
        group(&c, &r, BlastGroup::Applications).is_empty(),
        "b is no member of store now"
    );
    let liby = BlastTarget::Package {
        purl: Purl::parse("pkg:npm/liby@2.0.0").unwrap(),
        range: None,
    };
    let r = c.blast_radius(&liby, None).unwrap();
    assert_eq!(
        group(&c, &r, BlastGroup::Images),
        ["img11 d1 pd2", "img12 d1 pd3", "img31 d1 pd1"]
    );
    assert_eq!(
        group(&c, &r, BlastGroup::ApplicationVersions),
        [
            "store#1 d3",
            "store#2 d3",
            "store#3 d3",
            "store#4 d3",
            "store#5 d3",
            "store#6 d3"
        ]
    );
    assert_eq!(group(&c, &r, BlastGroup::Applications), ["store d4"]);
    assert_eq!(group(&c, &r, BlastGroup::Owners), ["team-x d5"]);
}

// ----- arrival order and replays -----

/// Everything asked of the shop and the store, as one string.
fn answers(c: &Catalog) -> String {
    let mut out = Vec::new();
    let targets = [
        log4j(Some("2.14.1")),
        log4j(None),
        BlastTarget::Package {
            purl: Purl::parse(LOG4J).unwrap(),
            range: Some(VersRange::parse("vers:maven/>=2.0.0|<2.15.0").unwrap()),
        },
        BlastTarget::Package {
            purl: Purl::parse("pkg:npm/liby@2.0.0").unwrap(),
            range: None,
        },
        BlastTarget::Component(CART.into()),
        BlastTarget::Component(A.into()),
        BlastTarget::ComponentVersion {
            component: CART.into(),
            version: "1.1.0".into(),
        },
        BlastTarget::Image(img(3)),
        BlastTarget::Image(img(12)),
    ];
    for t in &targets {
        for depth in [None, Some(4), Some(2)] {
            out.push(blast_answer(c, t, depth));
        }
    }
    for app in ["shop", "search-app", "store"] {
        out.push(format!("{:?}", c.application(app)));
        out.push(app_versions(c, app).join(";"));
    }
    for (name, dir) in [
        (EDGE, Direction::Forward),
        (CART, Direction::Reverse),
        (FRONTEND, Direction::Reverse),
    ] {
        for depth in [1, 10] {
            out.push(format!(
                "{:?}",
                c.dependency_map(name, dir, depth).map(|m| dep_map(&m))
            ));
        }
    }
    for t in ["payments", "discovery", "team-x"] {
        out.push(format!("{:?}", c.team(t)));
    }
    let av = |app: &str, n: u32| BomRoot::ApplicationVersion {
        application: app.into(),
        number: n,
    };
    out.push(format!("{:?}", c.diff(&av("store", 2), &av("store", 4))));
    out.push(format!("{:?}", c.diff(&av("shop", 1), &av("shop", 3))));
    out.join("\n")
}

#[test]
fn any_arrival_order_and_replays_give_the_same_answers() {
    let events: Vec<RecordedEvent> = shop().into_iter().chain(store()).collect();
    let want = answers(&fold(&events));
    let mut rng = Rng(0x5eed_cafe);
    for round in 0..20 {
        let mut order = events.clone();
        rng.shuffle(&mut order);
        // Replays: some events again, in another order, after the first fold of them.
        let mut replays: Vec<RecordedEvent> = order
            .iter()
            .filter(|_| rng.below(3) == 0)
            .cloned()
            .collect();
        rng.shuffle(&mut replays);
        order.extend(replays);
        let c = fold(&order);
        let got = answers(&c);
        if got != want {
            let diff: Vec<(&str, &str)> = want
                .lines()
                .zip(got.lines())
                .filter(|(a, b)| a != b)
                .collect();
            panic!("round {round}: answers differ: {diff:#?}");
        }
        // Folded at once (settled once) the answers are the same too.
        let mut at_once = Catalog::new();
        at_once.apply_all(&order);
        at_once.verify().unwrap();
        assert_eq!(answers(&at_once), want, "round {round}, apply_all");
    }
}

#[test]
fn a_snapshot_at_any_point_gives_the_same_answers() {
    let events: Vec<RecordedEvent> = shop().into_iter().chain(store()).collect();
    let want = answers(&fold(&events));
    for split in super::snapshot::splits(events.len()) {
        let c = super::snapshot::through_snapshot(&events, split);
        assert_eq!(answers(&c), want, "snapshot after {split} events");
    }
}

/// A package listed without a version is present all the same: dropping it is a removal,
/// adding it an addition.
#[test]
fn diff_of_a_package_without_version_says_removed_or_added() {
    let (a, b) = (digest(901), digest(902));
    let bare = SbomPackage {
        purl: None,
        name: "vendored-lib".into(),
        version: None,
        licenses: Vec::new(),
        hashes: BTreeMap::new(),
        depth: Some(1),
        depends_on: Vec::new(),
    };
    let mut c = Catalog::new();
    for e in [
        sbom_of(
            1,
            &a,
            vec![bare, package("pkg:npm/left-pad@1.3.0", Some(1))],
        ),
        sbom_of(2, &b, vec![package("pkg:npm/left-pad@1.3.0", Some(1))]),
    ] {
        apply_checked(&mut c, &e);
    }
    let kinds = |from: &str, to: &str| -> Vec<(String, &'static str)> {
        c.diff(&BomRoot::Image(from.into()), &BomRoot::Image(to.into()))
            .unwrap()
            .packages
            .iter()
            .map(|ch| (ch.name.clone(), ch.kind()))
            .collect()
    };
    assert_eq!(kinds(&a, &b), vec![("vendored-lib".to_string(), "removed")]);
    assert_eq!(kinds(&b, &a), vec![("vendored-lib".to_string(), "added")]);
}
