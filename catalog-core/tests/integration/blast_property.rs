//! Blast radius against a naive recomputation: random small catalogs (images, SBOMs,
//! component versions, declared dependencies with cycles, owners, applications, live
//! deployments), folded in a random order with replays, must give exactly the sets and depths
//! that a plain breadth-first walk over the catalog's "tables" gives.
//!
//! [`naive_blast`] reads only row vectors, so the store's tables can be checked against it
//! the same way.

use super::graph::{
    application, apply_checked, component, depends, deploy, digest, entity, ev, package, register,
    run_named, run_ref, sbom_of, Rng,
};
use catalog_core::event::{Event, RecordedEvent};
use catalog_core::graph::{BlastGroup, BlastTarget, BlastThing};
use catalog_core::purl::Purl;
use catalog_core::versioning::VersRange;
use catalog_core::Catalog;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

// ----- the naive walk -----

/// A live deployment as resolved: (`cluster/namespace/workload`, image digest, component,
/// version).
pub type DeploymentRow = (String, Option<String>, Option<String>, Option<String>);

/// What the catalog knows, as rows. Every name is the catalog's (component names, image
/// digests, `pkg:type/ns/name@version` purls without qualifiers, team and application names).
#[derive(Debug, Clone, Copy)]
pub struct Tables<'a> {
    /// (package version purl, image digest, shallowest SBOM depth): the images whose current
    /// SBOM lists the version.
    pub contains: &'a [(String, String, Option<u32>)],
    /// (component, version, image digest): component versions and what they are built from.
    pub built_from: &'a [(String, String, String)],
    /// (from, to): `from` depends on `to` now.
    pub depends_on: &'a [(String, String)],
    /// (component, team): its owner now.
    pub component_owner: &'a [(String, String)],
    /// (application, component): members now.
    pub app_members: &'a [(String, String)],
    /// (application, team): its owner now.
    pub app_owner: &'a [(String, String)],
    /// (application, version number, component, version): application version members.
    pub app_version_members: &'a [(String, u32, String, String)],
    /// What each live deployment runs (a workload running several things has several rows).
    pub deployments: &'a [DeploymentRow],
}

/// A thing of the naive walk. `Whole` is a component affected as a whole (the target, or a
/// dependent of an affected component): it reaches every deployment of the component.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Thing {
    Package(String),
    Image(String),
    Version(String, String),
    Component(String),
    Whole(String),
    Application(String),
    AppVersion(String, u32),
    Team(String),
    Deployment(String),
}

pub enum NaiveTarget {
    /// The package versions (purls) a package target matches.
    PackageVersions(Vec<String>),
    Image(String),
    Component(String),
    ComponentVersion(String, String),
}

/// Everything affected, with its depth (hops from the target; the target itself left out).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NaiveBlast {
    /// digest -> (depth, shallowest SBOM depth of a target package version in it)
    pub images: BTreeMap<String, (u32, Option<u32>)>,
    pub component_versions: BTreeMap<(String, String), u32>,
    /// component -> (depth, it depends on something affected)
    pub components: BTreeMap<String, (u32, bool)>,
    pub applications: BTreeMap<String, u32>,
    pub application_versions: BTreeMap<(String, u32), u32>,
    pub deployments: BTreeMap<String, u32>,
    pub owners: BTreeMap<String, u32>,
}

/// The reverse edges of the blast radius, one hop each, straight from the rows: package
/// version -> image -> component version -> component -> dependent (and the dependent as a
/// whole) / application / owner; component version -> application version; application ->
/// owner; image, component version and whole component -> the deployments running them.
pub fn naive_edges(t: &Tables) -> BTreeSet<(Thing, Thing)> {
    use Thing::*;
    let mut e = BTreeSet::new();
    for (pv, img, _) in t.contains {
        e.insert((Package(pv.clone()), Image(img.clone())));
    }
    for (c, v, img) in t.built_from {
        e.insert((Image(img.clone()), Version(c.clone(), v.clone())));
        e.insert((Version(c.clone(), v.clone()), Component(c.clone())));
    }
    for (from, to) in t.depends_on {
        e.insert((Component(to.clone()), Component(from.clone())));
        e.insert((Component(to.clone()), Whole(from.clone())));
    }
    for (c, team) in t.component_owner {
        e.insert((Component(c.clone()), Team(team.clone())));
    }
    for (a, c) in t.app_members {
        e.insert((Component(c.clone()), Application(a.clone())));
    }
    for (a, team) in t.app_owner {
        e.insert((Application(a.clone()), Team(team.clone())));
    }
    for (a, n, c, v) in t.app_version_members {
        e.insert((Version(c.clone(), v.clone()), AppVersion(a.clone(), *n)));
    }
    for (d, img, c, v) in t.deployments {
        if let Some(img) = img {
            e.insert((Image(img.clone()), Deployment(d.clone())));
        }
        if let (Some(c), Some(v)) = (c, v) {
            e.insert((Version(c.clone(), v.clone()), Deployment(d.clone())));
        }
        if let Some(c) = c {
            e.insert((Whole(c.clone()), Deployment(d.clone())));
        }
    }
    e
}

/// The blast radius of `target` within `max_depth` hops, by a level-by-level breadth-first
/// walk over [`naive_edges`]: each thing at the depth it is first reached.
pub fn naive_blast(t: &Tables, target: &NaiveTarget, max_depth: Option<u32>) -> NaiveBlast {
    use Thing::*;
    let mut adj: BTreeMap<Thing, Vec<Thing>> = BTreeMap::new();
    for (a, b) in naive_edges(t) {
        adj.entry(a).or_default().push(b);
    }
    let roots: Vec<Thing> = match target {
        NaiveTarget::PackageVersions(pvs) => pvs.iter().cloned().map(Package).collect(),
        NaiveTarget::Image(d) => vec![Image(d.clone())],
        NaiveTarget::Component(c) => vec![Component(c.clone()), Whole(c.clone())],
        NaiveTarget::ComponentVersion(c, v) => vec![Version(c.clone(), v.clone())],
    };
    let max = max_depth.unwrap_or(u32::MAX);
    let mut depth: BTreeMap<Thing, u32> = roots.iter().map(|r| (r.clone(), 0)).collect();
    let mut level = roots;
    let mut d = 0;
    while !level.is_empty() && d < max {
        let mut next = Vec::new();
        for n in &level {
            for m in adj.get(n).into_iter().flatten() {
                if !depth.contains_key(m) {
                    depth.insert(m.clone(), d + 1);
                    next.push(m.clone());
                }
            }
        }
        level = next;
        d += 1;
    }
    let targets: BTreeSet<&String> = match target {
        NaiveTarget::PackageVersions(pvs) => pvs.iter().collect(),
        _ => BTreeSet::new(),
    };
    let mut out = NaiveBlast::default();
    for (thing, d) in &depth {
        if *d == 0 {
            continue;
        }
        match thing {
            Package(_) | Whole(_) => {}
            Image(img) => {
                let pd = t
                    .contains
                    .iter()
                    .filter(|(pv, i, _)| i == img && targets.contains(pv))
                    .filter_map(|r| r.2)
                    .min();
                out.images.insert(img.clone(), (*d, pd));
            }
            Version(c, v) => {
                out.component_versions.insert((c.clone(), v.clone()), *d);
            }
            Component(c) => {
                let whole = depth.get(&Whole(c.clone())).is_some_and(|w| *w > 0);
                out.components.insert(c.clone(), (*d, whole));
            }
            Application(a) => {
                out.applications.insert(a.clone(), *d);
            }
            AppVersion(a, n) => {
                out.application_versions.insert((a.clone(), *n), *d);
            }
            Team(team) => {
                out.owners.insert(team.clone(), *d);
            }
            Deployment(x) => {
                out.deployments.insert(x.clone(), *d);
            }
        }
    }
    out
}

// ----- random catalogs -----

const PACKAGES: usize = 3;
const PACKAGE_VERSIONS: usize = 3;

fn comp(i: usize) -> String {
    format!("svc/c{i}")
}
fn team(i: usize) -> String {
    format!("team{i}")
}
fn app(i: usize) -> String {
    format!("app{i}")
}
fn pv(p: usize, v: usize) -> String {
    format!("pkg:npm/p{p}@1.{v}.0")
}
fn image(i: usize) -> String {
    digest(100 + i as u64)
}

type SbomEntry = (usize, usize, Option<u32>);

/// Each item's path as naive things, and its depth.
type Paths = Vec<(Vec<Thing>, u32)>;

#[derive(Debug, Clone)]
struct EntitySpec {
    owner: Option<usize>,
    system: Option<usize>,
    depends_on: Vec<usize>,
}

#[derive(Debug, Clone)]
enum DeploySpec {
    /// A named component version (an index into the component versions).
    Version(usize),
    /// A component without a version.
    Component(usize),
    /// An image by digest (registered or known only by its SBOM).
    Digest(usize),
}

#[derive(Debug, Clone)]
enum TargetSpec {
    PackageVersion(usize, usize),
    Package(usize),
    /// Versions from `1.<lo>.0` on.
    PackageFrom(usize, usize),
    Image(usize),
    Component(usize),
    Version(usize),
}

#[derive(Debug, Clone)]
struct Spec {
    components: usize,
    /// Per image, its SBOM: (package, version, depth) entries.
    sboms: Vec<Option<Vec<SbomEntry>>>,
    /// (component, image): component versions, numbered per component.
    versions: Vec<(usize, usize)>,
    /// Per component, a descriptor.
    entities: Vec<Option<EntitySpec>>,
    declared: Vec<(usize, usize)>,
    removed: Vec<(usize, usize)>,
    /// (component, team) through the API (later than descriptors: it wins).
    owners: Vec<(usize, usize)>,
    /// Per application, its declared members and owner.
    apps: Vec<(Vec<usize>, Option<usize>)>,
    deployments: Vec<DeploySpec>,
    target: TargetSpec,
    max_depth: Option<u32>,
    seed: u64,
}

fn spec() -> impl Strategy<Value = Spec> {
    let entity = option::of((
        option::of(0..3usize),
        option::of(0..3usize),
        vec(0..6usize, 0..3),
    ))
    .prop_map(|e| {
        e.map(|(owner, system, depends_on)| EntitySpec {
            owner,
            system,
            depends_on,
        })
    });
    let deploy = prop_oneof![
        (0..8usize).prop_map(DeploySpec::Version),
        (0..6usize).prop_map(DeploySpec::Component),
        (0..6usize).prop_map(DeploySpec::Digest),
    ];
    let target = prop_oneof![
        (0..PACKAGES, 0..PACKAGE_VERSIONS).prop_map(|(p, v)| TargetSpec::PackageVersion(p, v)),
        (0..PACKAGES).prop_map(TargetSpec::Package),
        (0..PACKAGES, 0..PACKAGE_VERSIONS).prop_map(|(p, v)| TargetSpec::PackageFrom(p, v)),
        (0..6usize).prop_map(TargetSpec::Image),
        (0..6usize).prop_map(TargetSpec::Component),
        (0..8usize).prop_map(TargetSpec::Version),
    ];
    let sbom_entry = (
        0..PACKAGES,
        0..PACKAGE_VERSIONS,
        option::weighted(0.9, 1..4u32),
    );
    (
        (
            2..=5usize,
            vec(option::weighted(0.8, vec(sbom_entry, 0..4)), 1..=5),
            vec((0..6usize, 0..6usize), 0..7),
            vec(entity, 0..6),
        ),
        (
            vec((0..6usize, 0..6usize), 0..6),
            vec((0..6usize, 0..6usize), 0..3),
            vec((0..6usize, 0..3usize), 0..3),
            vec((vec(0..6usize, 0..4), option::of(0..3usize)), 0..3),
        ),
        (
            vec(deploy, 0..5),
            target,
            prop_oneof![Just(None), (0..7u32).prop_map(Some)],
            any::<u64>(),
        ),
    )
        .prop_map(
            |(
                (components, sboms, versions, entities),
                (declared, removed, owners, apps),
                (deployments, target, max_depth, seed),
            )| Spec {
                components,
                sboms,
                versions,
                entities,
                declared,
                removed,
                owners,
                apps,
                deployments,
                target,
                max_depth,
                seed,
            },
        )
}

/// A spec made concrete: its events, the tables they should fold to, and the target.
struct Built {
    events: Vec<RecordedEvent>,
    contains: Vec<(String, String, Option<u32>)>,
    built_from: Vec<(String, String, String)>,
    depends_on: Vec<(String, String)>,
    component_owner: Vec<(String, String)>,
    app_members: Vec<(String, String)>,
    app_owner: Vec<(String, String)>,
    app_version_members: Vec<(String, u32, String, String)>,
    deployments: Vec<DeploymentRow>,
    target: BlastTarget,
    /// `None` when the catalog should not know the target.
    naive_target: Option<NaiveTarget>,
}

impl Built {
    fn tables(&self) -> Tables<'_> {
        Tables {
            contains: &self.contains,
            built_from: &self.built_from,
            depends_on: &self.depends_on,
            component_owner: &self.component_owner,
            app_members: &self.app_members,
            app_owner: &self.app_owner,
            app_version_members: &self.app_version_members,
            deployments: &self.deployments,
        }
    }
}

fn build(s: &Spec) -> Built {
    let n = s.components;
    let images = s.sboms.len();
    let mut events = Vec::new();
    let mut known: BTreeSet<String> = BTreeSet::new();

    // SBOMs; an entry listed twice keeps its shallowest depth.
    let mut contains: BTreeMap<(String, String), Option<u32>> = BTreeMap::new();
    for (i, entries) in s.sboms.iter().enumerate() {
        let Some(entries) = entries else { continue };
        let purls: Vec<(String, Option<u32>)> =
            entries.iter().map(|(p, v, d)| (pv(*p, *v), *d)).collect();
        events.push(sbom_of(
            5,
            &image(i),
            purls.iter().map(|(p, d)| package(p, *d)).collect(),
        ));
        for (purl, d) in purls {
            contains
                .entry((purl, image(i)))
                .and_modify(|cur| {
                    *cur = match (*cur, d) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    }
                })
                .or_insert(d);
        }
    }

    // Component versions, pushed one a minute.
    let mut built_from: Vec<(String, String, String)> = Vec::new();
    let mut pushes: Vec<(i64, String, String)> = Vec::new();
    let mut per_component: BTreeMap<usize, usize> = BTreeMap::new();
    for (k, (c, i)) in s.versions.iter().enumerate() {
        let (c, i) = (c % n, i % images);
        let count = per_component.entry(c).or_default();
        let version = format!("2.{count}.0");
        *count += 1;
        let min = 10 + k as i64;
        events.push(register(min, &comp(c), &version, &image(i)));
        built_from.push((comp(c), version.clone(), image(i)));
        pushes.push((min, comp(c), version));
        known.insert(comp(c));
    }

    // Descriptors (minute 1), API declarations (2), removals (3).
    let mut deps: BTreeSet<(String, String)> = BTreeSet::new();
    let mut owner: BTreeMap<String, String> = BTreeMap::new();
    let mut system_members: BTreeSet<(String, String)> = BTreeSet::new();
    for (c, e) in s.entities.iter().enumerate().take(n) {
        let Some(e) = e else { continue };
        let to: Vec<String> = e.depends_on.iter().map(|t| comp(t % n)).collect();
        let refs: Vec<&str> = to.iter().map(String::as_str).collect();
        let owner_name = e.owner.map(team);
        let system = e.system.map(app);
        events.push(entity(
            1,
            component(&comp(c), owner_name.as_deref(), system.as_deref(), &refs),
        ));
        known.insert(comp(c));
        for t in to {
            known.insert(t.clone());
            deps.insert((comp(c), t));
        }
        if let Some(o) = owner_name {
            owner.insert(comp(c), o);
        }
        if let Some(a) = system {
            system_members.insert((a, comp(c)));
        }
    }
    for (from, to) in &s.declared {
        let (from, to) = (comp(from % n), comp(to % n));
        events.push(depends(2, &from, &to, true));
        known.extend([from.clone(), to.clone()]);
        deps.insert((from, to));
    }
    for (from, to) in &s.removed {
        let (from, to) = (comp(from % n), comp(to % n));
        events.push(depends(3, &from, &to, false));
        known.extend([from.clone(), to.clone()]);
        deps.remove(&(from, to));
    }
    let depends_on: Vec<(String, String)> = deps.into_iter().filter(|(f, t)| f != t).collect();

    // Owners through the API: one per component (two at the same instant would tie).
    let mut api_owned: BTreeSet<String> = BTreeSet::new();
    for (c, t) in &s.owners {
        let c = comp(c % n);
        if !api_owned.insert(c.clone()) {
            continue;
        }
        events.push(ev(
            2,
            format!("owner:{c}"),
            Event::OwnerSet {
                component: c.clone(),
                team: team(*t),
                via: "api".into(),
            },
        ));
        known.insert(c.clone());
        owner.insert(c, team(*t));
    }

    // Applications: declared ones plus Backstage systems; membership never changes after the
    // first minute, so a version is cut at each push that changes what the members run.
    let mut members: BTreeSet<(String, String)> = system_members;
    let mut app_owner = Vec::new();
    for (a, (cs, o)) in s.apps.iter().enumerate() {
        let cs: Vec<String> = cs.iter().map(|c| comp(c % n)).collect();
        let refs: Vec<&str> = cs.iter().map(String::as_str).collect();
        let o = o.map(team);
        events.push(application(1, &app(a), &refs, o.as_deref()));
        for c in cs {
            known.insert(c.clone());
            members.insert((app(a), c));
        }
        if let Some(o) = o {
            app_owner.push((app(a), o));
        }
    }
    let mut app_version_members = Vec::new();
    let apps: BTreeSet<&String> = members.iter().map(|(a, _)| a).collect();
    for a in apps {
        let of_app: BTreeSet<&String> = members
            .iter()
            .filter(|(x, _)| x == a)
            .map(|(_, c)| c)
            .collect();
        let mut last: Vec<(String, String)> = Vec::new();
        let mut number = 0;
        for (t, _, _) in pushes.iter().filter(|(_, c, _)| of_app.contains(c)) {
            let bom: Vec<(String, String)> = of_app
                .iter()
                .filter_map(|c| {
                    pushes
                        .iter()
                        .filter(|(pt, pc, _)| pc == *c && pt <= t)
                        .max_by_key(|(pt, _, _)| *pt)
                        .map(|(_, pc, pv)| (pc.clone(), pv.clone()))
                })
                .collect();
            if !bom.is_empty() && bom != last {
                number += 1;
                for (c, v) in &bom {
                    app_version_members.push((a.clone(), number, c.clone(), v.clone()));
                }
                last = bom;
            }
        }
    }

    // Live deployments, one a minute, each running one thing.
    let mut deployments = Vec::new();
    for (k, d) in s.deployments.iter().enumerate() {
        let at = format!("k{}/ns/w{k}", k % 2);
        let min = 50 + k as i64;
        match d {
            DeploySpec::Version(v) => {
                if built_from.is_empty() {
                    continue;
                }
                let (c, v, img) = &built_from[v % built_from.len()];
                events.push(deploy(min, &at, run_named(c, Some(v))));
                deployments.push((at, Some(img.clone()), Some(c.clone()), Some(v.clone())));
            }
            DeploySpec::Component(c) => {
                let c = comp(c % n);
                events.push(deploy(min, &at, run_named(&c, None)));
                deployments.push((at, None, Some(c), None));
            }
            DeploySpec::Digest(i) => {
                let img = image(i % images);
                // By digest, the catalog resolves the version built from it in the repository
                // named (the first by component and version).
                let mut cvs: Vec<&(String, String, String)> =
                    built_from.iter().filter(|(_, _, d)| *d == img).collect();
                cvs.sort();
                let (repo, c, v) = match cvs.first() {
                    Some((c, v, _)) => (c.clone(), Some(c.clone()), Some(v.clone())),
                    None => ("loose/x".to_string(), Some("loose/x".to_string()), None),
                };
                events.push(deploy(min, &at, run_ref(&format!("{repo}@{img}"))));
                deployments.push((at, Some(img), c, v));
            }
        }
    }

    let seen_packages: BTreeSet<String> = contains
        .keys()
        .map(|(purl, _)| Purl::parse(purl).unwrap().package())
        .collect();
    let versions_of = |p: usize, from: usize| -> Vec<String> {
        let all: BTreeSet<&String> = contains.keys().map(|(purl, _)| purl).collect();
        (from..PACKAGE_VERSIONS)
            .map(|v| pv(p, v))
            .filter(|x| all.contains(x))
            .collect()
    };
    let package_known = |p: usize| seen_packages.contains(&format!("pkg:npm/p{p}"));
    let (target, naive_target) = match &s.target {
        TargetSpec::PackageVersion(p, v) => (
            BlastTarget::Package {
                purl: Purl::parse(&pv(*p, *v)).unwrap(),
                range: None,
            },
            package_known(*p).then(|| NaiveTarget::PackageVersions(vec![pv(*p, *v)])),
        ),
        TargetSpec::Package(p) => (
            BlastTarget::Package {
                purl: Purl::parse(&format!("pkg:npm/p{p}")).unwrap(),
                range: None,
            },
            package_known(*p).then(|| NaiveTarget::PackageVersions(versions_of(*p, 0))),
        ),
        TargetSpec::PackageFrom(p, lo) => (
            BlastTarget::Package {
                purl: Purl::parse(&format!("pkg:npm/p{p}")).unwrap(),
                range: Some(VersRange::parse(&format!("vers:npm/>=1.{lo}.0")).unwrap()),
            },
            package_known(*p).then(|| NaiveTarget::PackageVersions(versions_of(*p, *lo))),
        ),
        TargetSpec::Image(i) => {
            let img = image(i % images);
            let exists =
                s.sboms[i % images].is_some() || built_from.iter().any(|(_, _, d)| *d == img);
            (
                BlastTarget::Image(img.clone()),
                exists.then_some(NaiveTarget::Image(img)),
            )
        }
        TargetSpec::Component(c) => {
            let c = comp(c % n);
            (
                BlastTarget::Component(c.clone()),
                known.contains(&c).then_some(NaiveTarget::Component(c)),
            )
        }
        TargetSpec::Version(k) if !built_from.is_empty() => {
            let (c, v, _) = built_from[k % built_from.len()].clone();
            (
                BlastTarget::ComponentVersion {
                    component: c.clone(),
                    version: v.clone(),
                },
                Some(NaiveTarget::ComponentVersion(c, v)),
            )
        }
        TargetSpec::Version(_) => (
            BlastTarget::ComponentVersion {
                component: comp(0),
                version: "9.9.9".into(),
            },
            None,
        ),
    };

    Built {
        events,
        contains: contains
            .into_iter()
            .map(|((purl, img), d)| (purl, img, d))
            .collect(),
        built_from,
        depends_on,
        component_owner: owner.into_iter().collect(),
        app_members: members.into_iter().collect(),
        app_owner,
        app_version_members,
        deployments,
        target,
        naive_target,
    }
}

/// The catalog's blast radius in the naive shape, and every item's path as naive things.
fn from_catalog(
    c: &Catalog,
    target: &BlastTarget,
    max_depth: Option<u32>,
) -> Option<(NaiveBlast, Paths)> {
    let r = c.blast_radius(target, max_depth)?;
    let mut out = NaiveBlast::default();
    let mut paths = Vec::new();
    for g in BlastGroup::ALL {
        let page = c.blast_page(&r, g, usize::MAX, 0);
        assert!(!page.has_next);
        for item in page.items {
            let d = item.depth;
            let fresh = match item.thing {
                BlastThing::Image {
                    digest,
                    package_depth,
                    ..
                } => out.images.insert(digest, (d, package_depth)).is_none(),
                BlastThing::ComponentVersion(v) => out
                    .component_versions
                    .insert((v.component, v.version), d)
                    .is_none(),
                BlastThing::Component {
                    component,
                    dependent,
                } => out
                    .components
                    .insert(component.name, (d, dependent))
                    .is_none(),
                BlastThing::Application(a) => out.applications.insert(a.name, d).is_none(),
                BlastThing::ApplicationVersion(v) => out
                    .application_versions
                    .insert((v.application, v.number), d)
                    .is_none(),
                BlastThing::Deployment(x) => out
                    .deployments
                    .insert(format!("{}/{}/{}", x.cluster, x.namespace, x.workload), d)
                    .is_none(),
                BlastThing::Owner(t) => out.owners.insert(t.name, d).is_none(),
            };
            assert!(fresh, "an item twice in {g:?}");
            let path = item
                .path
                .iter()
                .map(|s| match s.kind {
                    "package" => Thing::Package(s.name.clone()),
                    "image" => Thing::Image(s.name.clone()),
                    "componentVersion" => {
                        let (c, v) = s.name.rsplit_once('@').unwrap();
                        Thing::Version(c.into(), v.into())
                    }
                    "component" => Thing::Component(s.name.clone()),
                    "application" => Thing::Application(s.name.clone()),
                    "applicationVersion" => {
                        let (a, n) = s.name.rsplit_once('#').unwrap();
                        Thing::AppVersion(a.into(), n.parse().unwrap())
                    }
                    "deployment" => Thing::Deployment(s.name.clone()),
                    "team" => Thing::Team(s.name.clone()),
                    other => panic!("unknown path step {other}"),
                })
                .collect();
            paths.push((path, d));
        }
    }
    let t = r.totals();
    assert_eq!(t.images, out.images.len());
    assert_eq!(t.component_versions, out.component_versions.len());
    assert_eq!(t.components, out.components.len());
    assert_eq!(t.applications, out.applications.len());
    assert_eq!(t.application_versions, out.application_versions.len());
    assert_eq!(t.deployments, out.deployments.len());
    assert_eq!(t.owners, out.owners.len());
    assert_eq!(t.by_location.values().sum::<usize>(), t.deployments);
    Some((out, paths))
}

/// A path step names a component the same way whether it is the component or the component
/// as a whole.
fn collapse(t: &Thing) -> Thing {
    match t {
        Thing::Whole(c) => Thing::Component(c.clone()),
        other => other.clone(),
    }
}

fn check(s: &Spec) -> Result<(), TestCaseError> {
    let b = build(s);
    let mut order = b.events.clone();
    let mut rng = Rng(s.seed | 1);
    rng.shuffle(&mut order);
    let replays: Vec<RecordedEvent> = order
        .iter()
        .filter(|_| rng.below(4) == 0)
        .cloned()
        .collect();
    order.extend(replays);
    let mut c = Catalog::new();
    for e in &order {
        apply_checked(&mut c, e);
    }

    // The fold made the tables the naive walk reads.
    let mut deps: Vec<(String, String)> = Vec::new();
    for comp in c.components("", None, usize::MAX, None).items {
        let from = comp.name;
        deps.extend(
            c.dependencies_of(&from)
                .into_iter()
                .map(|t| (from.clone(), t)),
        );
    }
    deps.sort();
    let mut want_deps = b.depends_on.clone();
    want_deps.sort();
    prop_assert_eq!(deps, want_deps);
    let mut avs: Vec<(String, u32, String, String)> = Vec::new();
    for a in c.applications() {
        for v in c.application_versions(&a.name) {
            for (comp, ver) in v.members {
                avs.push((a.name.clone(), v.number, comp, ver));
            }
        }
    }
    avs.sort();
    let mut want_avs = b.app_version_members.clone();
    want_avs.sort();
    prop_assert_eq!(avs, want_avs);

    let got = from_catalog(&c, &b.target, s.max_depth);
    let Some(naive_target) = &b.naive_target else {
        prop_assert!(got.is_none(), "{:?} should be unknown", b.target);
        return Ok(());
    };
    let Some((got, paths)) = got else {
        return Err(TestCaseError::fail(format!(
            "{:?} should be known",
            b.target
        )));
    };
    let tables = b.tables();
    let want = naive_blast(&tables, naive_target, s.max_depth);
    prop_assert_eq!(&got, &want);

    // Every path is a shortest walk over the naive edges from a root to its item.
    let edges: BTreeSet<(Thing, Thing)> = naive_edges(&tables)
        .iter()
        .map(|(a, b)| (collapse(a), collapse(b)))
        .collect();
    let roots: BTreeSet<Thing> = match naive_target {
        NaiveTarget::PackageVersions(pvs) => pvs.iter().cloned().map(Thing::Package).collect(),
        NaiveTarget::Image(d) => [Thing::Image(d.clone())].into(),
        NaiveTarget::Component(x) => [Thing::Component(x.clone())].into(),
        NaiveTarget::ComponentVersion(x, v) => [Thing::Version(x.clone(), v.clone())].into(),
    };
    for (path, depth) in paths {
        prop_assert_eq!(path.len(), depth as usize + 1, "{:?}", path);
        prop_assert!(roots.contains(&path[0]), "{:?} starts elsewhere", path);
        for w in path.windows(2) {
            prop_assert!(
                edges.contains(&(w[0].clone(), w[1].clone())),
                "{:?} -> {:?} is no edge",
                w[0],
                w[1]
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn blast_radius_equals_a_naive_walk_over_the_tables(s in spec()) {
        check(&s)?;
    }
}

#[test]
fn the_naive_walk_on_a_known_catalog() {
    // cart 1.0.0 (image 1) has p@1; checkout depends on cart and runs a version without it;
    // shop holds both.
    let s = |x: &str| x.to_string();
    let contains = [(s("pkg:npm/p@1"), s("img1"), Some(2))];
    let built_from = [
        (s("cart"), s("1.0.0"), s("img1")),
        (s("checkout"), s("2.0.0"), s("img2")),
    ];
    let depends_on = [(s("checkout"), s("cart"))];
    let component_owner = [(s("cart"), s("payments"))];
    let app_members = [(s("shop"), s("cart")), (s("shop"), s("checkout"))];
    let app_owner = [(s("shop"), s("web"))];
    let app_version_members = [(s("shop"), 1, s("cart"), s("1.0.0"))];
    let deployments = [
        (
            s("k/ns/cart"),
            Some(s("img1")),
            Some(s("cart")),
            Some(s("1.0.0")),
        ),
        (
            s("k/ns/checkout"),
            Some(s("img2")),
            Some(s("checkout")),
            Some(s("2.0.0")),
        ),
    ];
    let t = Tables {
        contains: &contains,
        built_from: &built_from,
        depends_on: &depends_on,
        component_owner: &component_owner,
        app_members: &app_members,
        app_owner: &app_owner,
        app_version_members: &app_version_members,
        deployments: &deployments,
    };
    let b = naive_blast(
        &t,
        &NaiveTarget::PackageVersions(vec![s("pkg:npm/p@1")]),
        None,
    );
    assert_eq!(b.images, BTreeMap::from([(s("img1"), (1, Some(2)))]));
    assert_eq!(
        b.components,
        BTreeMap::from([(s("cart"), (3, false)), (s("checkout"), (4, true))])
    );
    assert_eq!(
        b.deployments,
        BTreeMap::from([(s("k/ns/cart"), 2), (s("k/ns/checkout"), 5)])
    );
    assert_eq!(
        b.application_versions,
        BTreeMap::from([((s("shop"), 1), 3)])
    );
    assert_eq!(b.applications, BTreeMap::from([(s("shop"), 4)]));
    assert_eq!(
        b.owners,
        BTreeMap::from([(s("payments"), 4), (s("web"), 5)])
    );
    let b = naive_blast(
        &t,
        &NaiveTarget::PackageVersions(vec![s("pkg:npm/p@1")]),
        Some(0),
    );
    assert_eq!(b, NaiveBlast::default());
}
