//! Blast radius: everything that a package, an image, a component or a component version
//! reaches in reverse, in one breadth-first walk over dense ids.
//!
//! The walk never allocates per visited thing beyond its mark: marks live in flat arrays
//! indexed by petgraph node, by SBOM image id and by live deployment, each holding the depth
//! and the predecessor, so one shortest path per item can be rebuilt when a page is read.
//! Items are materialized (names, models) only for the page asked for; totals are counts.
//!
//! The reverse edges walked, each one hop:
//! - package version -> images whose current SBOM lists it (the compact index);
//! - an image known only by an SBOM -> the registered index holding that platform manifest;
//! - image -> component versions built from it, and live deployments running it;
//! - component version -> its component, application versions including it, live
//!   deployments running it;
//! - component -> components that depend on it (`dependsOn`), applications including it, its
//!   owner; and each dependent *as a whole*;
//! - a component as a whole (the target, or one depending on an affected component, however
//!   else it was reached) -> every live deployment of it, whichever version runs. It is a node
//!   of its own, so being reached through an affected version first never hides that it is a
//!   dependent too, and a deployment's path explains why it is there;
//! - application -> its owner.

use super::packages::{unpack_depth, ImgId, PvId};
use super::{Catalog, Edge, Node, Page};
use crate::model;
use crate::purl::Purl;
use crate::versioning::VersRange;
use petgraph::stable_graph::NodeIndex;
use petgraph::visit::{EdgeRef, NodeIndexable};
use petgraph::Direction as PgDirection;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// What a blast radius starts from.
#[derive(Debug, Clone, PartialEq)]
pub enum BlastTarget {
    /// A package: the purl's version, or every version (within `range` when given).
    Package {
        purl: Purl,
        range: Option<VersRange>,
    },
    Image(String),
    Component(String),
    ComponentVersion {
        component: String,
        version: String,
    },
    /// A vulnerability (id or alias): the package versions its ranges contain, then what
    /// they reach, except the images where a VEX statement suppresses the match.
    Vulnerability(String),
}

/// The groups a blast radius is reported in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BlastGroup {
    Images,
    ComponentVersions,
    Components,
    Applications,
    ApplicationVersions,
    Deployments,
    Owners,
}

impl BlastGroup {
    pub const ALL: [BlastGroup; 7] = [
        BlastGroup::Images,
        BlastGroup::ComponentVersions,
        BlastGroup::Components,
        BlastGroup::Applications,
        BlastGroup::ApplicationVersions,
        BlastGroup::Deployments,
        BlastGroup::Owners,
    ];
}

/// One hop of an explanation: what kind of thing, and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathStep {
    /// `package`, `image`, `componentVersion`, `component`, `application`,
    /// `applicationVersion`, `deployment` or `team`.
    pub kind: &'static str,
    pub name: String,
}

/// One affected thing, materialized.
#[derive(Debug, Clone, PartialEq)]
pub enum BlastThing {
    Image {
        digest: String,
        /// How deep in the image's SBOM the package sits (package targets only).
        package_depth: Option<u32>,
        registered: bool,
    },
    ComponentVersion(model::ComponentVersion),
    Component {
        component: model::Component,
        /// True when reached through `dependsOn` (it depends on something affected).
        dependent: bool,
    },
    Application(model::Application),
    ApplicationVersion(model::ApplicationVersion),
    Deployment(model::Deployment),
    Owner(model::Team),
}

#[derive(Debug, Clone, PartialEq)]
pub struct BlastItem {
    /// Hops from the target.
    pub depth: u32,
    /// The target first, this item last: one shortest path.
    pub path: Vec<PathStep>,
    pub thing: BlastThing,
}

/// A node of the walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Walk {
    None,
    Pv(PvId),
    /// An image known only from an SBOM.
    SbomImage(ImgId),
    G(NodeIndex),
    /// A component affected as a whole (the target, or a dependent).
    Whole(NodeIndex),
    /// (application node, version number)
    AppVersion(NodeIndex, u32),
    Deployment(u32),
}

#[derive(Debug, Clone, Copy)]
struct Mark {
    depth: u32,
    parent: Walk,
}

const UNSEEN: Mark = Mark {
    depth: u32::MAX,
    parent: Walk::None,
};

/// Live deployments now, indexed by what they run. Derived from the inventory; rebuilt on
/// first use after an event that can change it.
#[derive(Debug, Default)]
pub(super) struct LiveIndex {
    deployments: Vec<model::Deployment>,
    by_node: HashMap<NodeIndex, Vec<u32>>,
    by_digest: HashMap<String, Vec<u32>>,
}

/// A computed blast radius: ids and marks, materialized page by page with
/// [`Catalog::blast_page`]. Valid for the catalog it came from.
#[derive(Debug, Clone)]
pub struct BlastRadius {
    roots: Vec<Walk>,
    groups: BTreeMap<BlastGroup, Vec<Walk>>,
    graph_marks: Arc<Vec<Mark>>,
    whole_marks: Arc<Vec<Mark>>,
    sbom_marks: Arc<Vec<Mark>>,
    dep_marks: Arc<Vec<Mark>>,
    app_marks: Arc<HashMap<(NodeIndex, u32), Mark>>,
    live: Arc<LiveIndex>,
    pub max_depth: Option<u32>,
}

/// How many of each, and where the deployments are.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BlastTotals {
    pub images: usize,
    pub component_versions: usize,
    pub components: usize,
    pub applications: usize,
    pub application_versions: usize,
    pub deployments: usize,
    pub owners: usize,
    /// (environment, cluster, namespace) -> deployments there.
    pub by_location: BTreeMap<(Option<String>, String, String), usize>,
}

impl BlastRadius {
    pub fn total(&self, g: BlastGroup) -> usize {
        self.groups.get(&g).map_or(0, Vec::len)
    }

    pub fn totals(&self) -> BlastTotals {
        // Counted under borrowed keys; each location's names are cloned once, not once per
        // deployment (thousands of deployments share a handful of namespaces).
        let mut counts: BTreeMap<(&Option<String>, &String, &String), usize> = BTreeMap::new();
        for w in self
            .groups
            .get(&BlastGroup::Deployments)
            .into_iter()
            .flatten()
        {
            if let Walk::Deployment(i) = w {
                if let Some(d) = self.live.deployments.get(*i as usize) {
                    *counts
                        .entry((&d.environment, &d.cluster, &d.namespace))
                        .or_insert(0) += 1;
                }
            }
        }
        let by_location = counts
            .into_iter()
            .map(|((e, c, n), k)| ((e.clone(), c.clone(), n.clone()), k))
            .collect();
        BlastTotals {
            images: self.total(BlastGroup::Images),
            component_versions: self.total(BlastGroup::ComponentVersions),
            components: self.total(BlastGroup::Components),
            applications: self.total(BlastGroup::Applications),
            application_versions: self.total(BlastGroup::ApplicationVersions),
            deployments: self.total(BlastGroup::Deployments),
            owners: self.total(BlastGroup::Owners),
            by_location,
        }
    }
}

struct Walker<'a> {
    c: &'a Catalog,
    live: &'a LiveIndex,
    max_depth: u32,
    graph_marks: Vec<Mark>,
    /// Components affected as a whole (the target or a dependent).
    whole_marks: Vec<Mark>,
    sbom_marks: Vec<Mark>,
    dep_marks: Vec<Mark>,
    app_marks: HashMap<(NodeIndex, u32), Mark>,
    groups: BTreeMap<BlastGroup, Vec<Walk>>,
    queue: std::collections::VecDeque<Walk>,
    /// For a vulnerability target: the record, whose VEX-suppressed (image, package version)
    /// pairs are not walked, and the time expiries are judged at.
    vuln: Option<(&'a crate::osv::Vulnerability, chrono::DateTime<chrono::Utc>)>,
}

impl<'a> Walker<'a> {
    fn visit(&mut self, w: Walk, depth: u32, parent: Walk) -> bool {
        let slot = match w {
            Walk::SbomImage(i) => self.sbom_marks.get_mut(i as usize),
            Walk::G(n) => self.graph_marks.get_mut(n.index()),
            Walk::Whole(n) => self.whole_marks.get_mut(n.index()),
            Walk::Deployment(i) => self.dep_marks.get_mut(i as usize),
            Walk::AppVersion(a, n) => {
                if self.app_marks.contains_key(&(a, n)) {
                    return false;
                }
                self.app_marks.insert((a, n), Mark { depth, parent });
                self.groups
                    .entry(BlastGroup::ApplicationVersions)
                    .or_default()
                    .push(w);
                return false;
            }
            Walk::Pv(_) | Walk::None => return false,
        };
        let Some(slot) = slot else { return false };
        if slot.depth != u32::MAX {
            return false;
        }
        *slot = Mark { depth, parent };
        let group = match w {
            Walk::SbomImage(_) => Some(BlastGroup::Images),
            Walk::Deployment(_) => Some(BlastGroup::Deployments),
            Walk::G(n) => match self.c.graph.node_weight(n) {
                Some(Node::Image(_)) => Some(BlastGroup::Images),
                Some(Node::Version(_)) => Some(BlastGroup::ComponentVersions),
                Some(Node::Component(_)) => Some(BlastGroup::Components),
                Some(Node::Application(_)) => Some(BlastGroup::Applications),
                Some(Node::Team(_)) => Some(BlastGroup::Owners),
                None => None,
            },
            _ => None,
        };
        if depth > 0 {
            if let Some(g) = group {
                self.groups.entry(g).or_default().push(w);
            }
        }
        true
    }

    fn push(&mut self, w: Walk, depth: u32, parent: Walk) {
        if self.visit(w, depth, parent) && depth < self.max_depth {
            self.queue.push_back(w);
        }
    }

    fn deployments_of(&mut self, n: NodeIndex, depth: u32, parent: Walk) {
        if let Some(ds) = self.live.by_node.get(&n) {
            for d in ds {
                self.push(Walk::Deployment(*d), depth, parent);
            }
        }
    }

    fn expand(&mut self, w: Walk, depth: u32) {
        let next = depth + 1;
        let g = &self.c.graph;
        match w {
            Walk::Pv(pv) => {
                let Some(v) = self.c.packages.versions.get(pv as usize) else {
                    return;
                };
                for img in &v.images {
                    if let Some((vuln, now)) = self.vuln {
                        let digest = self.c.packages.digests.get(*img as usize);
                        if digest
                            .and_then(|d| self.c.vex_for(Some(d), v, vuln, now))
                            .is_some_and(|x| x.suppressed)
                        {
                            continue;
                        }
                    }
                    let target = match self.c.packages.nodes.get(*img as usize) {
                        Some(Some(n)) => Walk::G(*n),
                        _ => Walk::SbomImage(*img),
                    };
                    self.push(target, next, w);
                }
            }
            Walk::SbomImage(img) => {
                let Some(digest) = self.c.packages.digests.get(img as usize) else {
                    return;
                };
                if let Some(parent) = self
                    .c
                    .platform_parent
                    .get(digest.as_ref())
                    .and_then(|p| self.c.images.get(p))
                {
                    self.push(Walk::G(*parent), next, w);
                }
                if let Some(ds) = self.live.by_digest.get(digest.as_ref()) {
                    for d in ds {
                        self.push(Walk::Deployment(*d), next, w);
                    }
                }
            }
            Walk::G(n) => match g.node_weight(n) {
                Some(Node::Image(_)) => {
                    let versions: Vec<NodeIndex> = g
                        .edges_directed(n, PgDirection::Incoming)
                        .filter(|e| *e.weight() == Edge::BuiltFrom)
                        .map(|e| e.source())
                        .collect();
                    for v in versions {
                        self.push(Walk::G(v), next, w);
                    }
                    self.deployments_of(n, next, w);
                }
                Some(Node::Version(_)) => {
                    let comps: Vec<NodeIndex> = g
                        .edges_directed(n, PgDirection::Outgoing)
                        .filter(|e| *e.weight() == Edge::VersionOf)
                        .map(|e| e.target())
                        .collect();
                    for c in comps {
                        self.push(Walk::G(c), next, w);
                    }
                    if let Some(avs) = self.c.declared_app_versions(n) {
                        for (a, num) in avs {
                            self.push(Walk::AppVersion(*a, *num), next, w);
                        }
                    }
                    self.deployments_of(n, next, w);
                }
                Some(Node::Component(_)) => {
                    let mut out: Vec<(NodeIndex, bool)> = Vec::new();
                    for e in g.edges_directed(n, PgDirection::Incoming) {
                        match e.weight() {
                            Edge::DependsOn => out.push((e.source(), true)),
                            Edge::Includes => out.push((e.source(), false)),
                            _ => {}
                        }
                    }
                    for e in g.edges_directed(n, PgDirection::Outgoing) {
                        if *e.weight() == Edge::OwnedBy {
                            out.push((e.target(), false));
                        }
                    }
                    for (m, dependent) in out {
                        self.push(Walk::G(m), next, w);
                        if dependent {
                            self.push(Walk::Whole(m), next, w);
                        }
                    }
                }
                Some(Node::Application(_)) => {
                    let owners: Vec<NodeIndex> = g
                        .edges_directed(n, PgDirection::Outgoing)
                        .filter(|e| *e.weight() == Edge::OwnedBy)
                        .map(|e| e.target())
                        .collect();
                    for t in owners {
                        self.push(Walk::G(t), next, w);
                    }
                }
                Some(Node::Team(_)) | None => {}
            },
            Walk::Whole(n) => self.deployments_of(n, next, w),
            Walk::AppVersion(..) | Walk::Deployment(_) | Walk::None => {}
        }
    }
}

impl Catalog {
    /// The live deployment index, built on first use after a change.
    fn live_index(&self) -> &Arc<LiveIndex> {
        self.live.get_or_init(|| {
            let deployments = self.inventory(&super::InventoryScope::default(), None);
            let mut by_node: HashMap<NodeIndex, Vec<u32>> = HashMap::new();
            let mut by_digest: HashMap<String, Vec<u32>> = HashMap::new();
            for (i, d) in deployments.iter().enumerate() {
                let i = i as u32;
                let mut add = |n: NodeIndex| {
                    let v = by_node.entry(n).or_default();
                    if v.last() != Some(&i) {
                        v.push(i);
                    }
                };
                for r in &d.runs {
                    if let Some(dg) = &r.digest {
                        match self.images.get(dg) {
                            Some(n) => add(*n),
                            None => {
                                let v = by_digest.entry(dg.clone()).or_default();
                                if v.last() != Some(&i) {
                                    v.push(i);
                                }
                            }
                        }
                    }
                    if let (Some(c), Some(v)) = (&r.component, &r.version) {
                        if let Some(n) = self.versions.get(&(c.clone(), v.clone())) {
                            add(*n);
                        }
                    }
                    if let Some(n) = r.component.as_ref().and_then(|c| self.components.get(c)) {
                        add(*n);
                    }
                }
            }
            Arc::new(LiveIndex {
                deployments,
                by_node,
                by_digest,
            })
        })
    }

    /// The reverse closure of `of`, up to `max_depth` hops (unbounded when `None`). `None`
    /// when the catalog has never seen the target.
    pub fn blast_radius(&self, of: &BlastTarget, max_depth: Option<u32>) -> Option<BlastRadius> {
        let roots = self.blast_roots(of)?;
        let live = self.live_arc();
        let bound = self.graph.node_bound();
        let mut w = Walker {
            c: self,
            live: &live,
            max_depth: max_depth.unwrap_or(u32::MAX),
            graph_marks: vec![UNSEEN; bound],
            whole_marks: vec![UNSEEN; bound],
            sbom_marks: vec![UNSEEN; self.packages.digests.len()],
            dep_marks: vec![UNSEEN; live.deployments.len()],
            app_marks: HashMap::new(),
            groups: BTreeMap::new(),
            queue: std::collections::VecDeque::new(),
            vuln: match of {
                BlastTarget::Vulnerability(id) => self
                    .vulnerability_record(id)
                    .map(|v| (v, chrono::Utc::now())),
                _ => None,
            },
        };
        for r in &roots {
            match r {
                // A package version is no item: its images are the first hop, if any is asked.
                Walk::Pv(_) if w.max_depth > 0 => w.queue.push_back(*r),
                Walk::Pv(_) => {}
                Walk::G(n) if matches!(of, BlastTarget::Component(_)) => {
                    w.push(*r, 0, Walk::None);
                    w.push(Walk::Whole(*n), 0, Walk::None);
                }
                _ => w.push(*r, 0, Walk::None),
            }
        }
        while let Some(n) = w.queue.pop_front() {
            let depth = w.depth_of(n);
            w.expand(n, depth);
        }
        let Walker {
            graph_marks,
            whole_marks,
            sbom_marks,
            dep_marks,
            app_marks,
            groups,
            ..
        } = w;
        Some(BlastRadius {
            roots,
            groups,
            graph_marks: Arc::new(graph_marks),
            whole_marks: Arc::new(whole_marks),
            sbom_marks: Arc::new(sbom_marks),
            dep_marks: Arc::new(dep_marks),
            app_marks: Arc::new(app_marks),
            live,
            max_depth,
        })
    }

    fn live_arc(&self) -> Arc<LiveIndex> {
        self.live_index().clone()
    }

    fn blast_roots(&self, of: &BlastTarget) -> Option<Vec<Walk>> {
        match of {
            BlastTarget::Package { purl, range } => {
                let entry = self.packages.packages.get(purl.package().as_str())?;
                let ids: Vec<PvId> = entry
                    .versions
                    .iter()
                    .filter(|(v, _)| match (&purl.version, range) {
                        (Some(want), _) => *v == want,
                        (None, Some(r)) => r.contains(v),
                        (None, None) => true,
                    })
                    .map(|(_, id)| *id)
                    .collect();
                Some(ids.into_iter().map(Walk::Pv).collect())
            }
            BlastTarget::Image(d) => match self.images.get(d) {
                Some(n) => Some(vec![Walk::G(*n)]),
                None => self.packages.image_id(d).map(|i| vec![Walk::SbomImage(i)]),
            },
            BlastTarget::Component(c) => self.components.get(c).map(|n| vec![Walk::G(*n)]),
            BlastTarget::Vulnerability(id) => Some(
                self.vulnerable_package_versions(id)?
                    .into_iter()
                    .map(Walk::Pv)
                    .collect(),
            ),
            BlastTarget::ComponentVersion { component, version } => self
                .versions
                .get(&(component.clone(), version.clone()))
                .map(|n| vec![Walk::G(*n)]),
        }
    }

    /// One page of a group, materialized, after an offset.
    pub fn blast_page(
        &self,
        r: &BlastRadius,
        group: BlastGroup,
        first: usize,
        after: usize,
    ) -> Page<BlastItem> {
        let all = r.groups.get(&group).map(Vec::as_slice).unwrap_or(&[]);
        let items = all
            .iter()
            .skip(after)
            .take(first)
            .filter_map(|w| self.blast_item(r, *w))
            .collect();
        Page {
            items,
            has_next: all.len() > after.saturating_add(first),
        }
    }

    fn mark_of(&self, r: &BlastRadius, w: Walk) -> Option<Mark> {
        let m = match w {
            Walk::G(n) => r.graph_marks.get(n.index()).copied(),
            Walk::Whole(n) => r.whole_marks.get(n.index()).copied(),
            Walk::SbomImage(i) => r.sbom_marks.get(i as usize).copied(),
            Walk::Deployment(i) => r.dep_marks.get(i as usize).copied(),
            Walk::AppVersion(a, n) => r.app_marks.get(&(a, n)).copied(),
            Walk::Pv(_) | Walk::None => None,
        }?;
        (m.depth != u32::MAX).then_some(m)
    }

    fn blast_item(&self, r: &BlastRadius, w: Walk) -> Option<BlastItem> {
        let mark = self.mark_of(r, w)?;
        let mut path = Vec::new();
        let mut cur = w;
        while cur != Walk::None && path.len() <= mark.depth as usize + 1 {
            path.push(self.step(r, cur));
            cur = match cur {
                Walk::Pv(_) => Walk::None,
                other => self.mark_of(r, other).map_or(Walk::None, |m| m.parent),
            };
        }
        path.reverse();
        let thing = match w {
            Walk::SbomImage(i) => {
                let digest = self.packages.digests.get(i as usize)?.to_string();
                BlastThing::Image {
                    package_depth: self.package_depth(r, i),
                    registered: false,
                    digest,
                }
            }
            Walk::G(n) => match self.graph.node_weight(n)? {
                Node::Image(img) => BlastThing::Image {
                    digest: img.digest.clone(),
                    package_depth: self
                        .packages
                        .image_id(&img.digest)
                        .and_then(|i| self.package_depth(r, i)),
                    registered: true,
                },
                Node::Version(v) => BlastThing::ComponentVersion(self.version_model(v)),
                Node::Component(_) => BlastThing::Component {
                    component: self.component_at(n)?,
                    // It depends on something affected (the target is no item).
                    dependent: r
                        .whole_marks
                        .get(n.index())
                        .is_some_and(|m| m.depth != u32::MAX && m.depth > 0),
                },
                Node::Application(a) => BlastThing::Application(self.app_model(a)),
                Node::Team(_) => BlastThing::Owner(self.team_at(n)?),
            },
            Walk::AppVersion(a, num) => match self.graph.node_weight(a)? {
                Node::Application(app) => {
                    BlastThing::ApplicationVersion(self.app_version_model(app, num)?)
                }
                _ => return None,
            },
            Walk::Deployment(i) => {
                BlastThing::Deployment(r.live.deployments.get(i as usize)?.clone())
            }
            Walk::Whole(_) | Walk::Pv(_) | Walk::None => return None,
        };
        Some(BlastItem {
            depth: mark.depth,
            path,
            thing,
        })
    }

    /// The shallowest SBOM depth of any target package version in image `i`.
    fn package_depth(&self, r: &BlastRadius, i: ImgId) -> Option<u32> {
        r.roots
            .iter()
            .filter_map(|w| match w {
                Walk::Pv(pv) => self.packages.versions.get(*pv as usize),
                _ => None,
            })
            .filter_map(|v| {
                v.images
                    .binary_search(&i)
                    .ok()
                    .and_then(|at| unpack_depth(v.depths[at]))
            })
            .min()
    }

    fn step(&self, r: &BlastRadius, w: Walk) -> PathStep {
        let (kind, name) = match w {
            Walk::Pv(pv) => (
                "package",
                self.packages
                    .versions
                    .get(pv as usize)
                    .map(|v| v.purl())
                    .unwrap_or_default(),
            ),
            Walk::SbomImage(i) => (
                "image",
                self.packages
                    .digests
                    .get(i as usize)
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
            ),
            Walk::G(n) | Walk::Whole(n) => match self.graph.node_weight(n) {
                Some(Node::Image(img)) => ("image", img.digest.clone()),
                Some(Node::Version(v)) => {
                    ("componentVersion", format!("{}@{}", v.component, v.version))
                }
                Some(Node::Component(c)) => ("component", c.name.clone()),
                Some(Node::Application(a)) => ("application", a.name.clone()),
                Some(Node::Team(t)) => ("team", t.name.clone()),
                None => ("unknown", String::new()),
            },
            Walk::AppVersion(a, num) => (
                "applicationVersion",
                match self.graph.node_weight(a) {
                    Some(Node::Application(app)) => format!("{}#{num}", app.name),
                    _ => format!("#{num}"),
                },
            ),
            Walk::Deployment(i) => (
                "deployment",
                r.live
                    .deployments
                    .get(i as usize)
                    .map(|d| format!("{}/{}/{}", d.cluster, d.namespace, d.workload))
                    .unwrap_or_default(),
            ),
            Walk::None => ("unknown", String::new()),
        };
        PathStep { kind, name }
    }
}

impl Walker<'_> {
    fn depth_of(&self, w: Walk) -> u32 {
        match w {
            Walk::Pv(_) => 0,
            Walk::G(n) => self.graph_marks[n.index()].depth,
            Walk::Whole(n) => self.whole_marks[n.index()].depth,
            Walk::SbomImage(i) => self.sbom_marks[i as usize].depth,
            Walk::Deployment(i) => self.dep_marks[i as usize].depth,
            Walk::AppVersion(a, n) => self.app_marks.get(&(a, n)).map_or(0, |m| m.depth),
            Walk::None => 0,
        }
    }
}
