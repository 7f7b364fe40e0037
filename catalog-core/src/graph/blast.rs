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

/// The marks of one kind of walk node: 8 bytes each and all-zero while unseen, so a query's
/// arrays come zeroed from the allocator instead of being filled (a query used to fill
/// 8 MB of 16-byte marks at the large size). A seen mark holds depth + 1 (bits 35..64), its
/// parent's kind (bits 32..35) and index (bits 0..32). An application version is never a
/// parent (it has no hops), so every parent fits.
#[derive(Debug, Clone)]
struct Marks(Vec<u64>);

const DEPTH_SHIFT: u32 = 35;
const MAX_DEPTH: u32 = (1 << (64 - DEPTH_SHIFT)) - 2;

impl Marks {
    fn new(n: usize) -> Marks {
        Marks(vec![0; n])
    }

    fn get(&self, i: usize) -> Option<Mark> {
        let v = *self.0.get(i)?;
        if v == 0 {
            return None;
        }
        let at = v as u32;
        let parent = match (v >> 32) & 7 {
            1 => Walk::Pv(at),
            2 => Walk::SbomImage(at),
            3 => Walk::G(NodeIndex::new(at as usize)),
            4 => Walk::Whole(NodeIndex::new(at as usize)),
            5 => Walk::Deployment(at),
            _ => Walk::None,
        };
        Some(Mark {
            depth: (v >> DEPTH_SHIFT) as u32 - 1,
            parent,
        })
    }

    /// Marks `i` with `m` unless it is marked already; true when it was not.
    fn set(&mut self, i: usize, m: Mark) -> bool {
        let Some(slot) = self.0.get_mut(i) else {
            return false;
        };
        if *slot != 0 {
            return false;
        }
        let (kind, at): (u64, u32) = match m.parent {
            Walk::Pv(pv) => (1, pv),
            Walk::SbomImage(i) => (2, i),
            Walk::G(n) => (3, n.index() as u32),
            Walk::Whole(n) => (4, n.index() as u32),
            Walk::Deployment(i) => (5, i),
            Walk::None | Walk::AppVersion(..) => (0, 0),
        };
        *slot = (u64::from(m.depth.min(MAX_DEPTH)) + 1) << DEPTH_SHIFT | kind << 32 | u64::from(at);
        true
    }

    fn depth(&self, i: usize) -> u32 {
        self.get(i).map_or(0, |m| m.depth)
    }
}

/// Live deployments now, indexed by what they run, and the walk's hops in flat arrays.
/// Derived from the inventory and the graph; rebuilt on first use after an event that can
/// change either (see `Catalog::fold`).
#[derive(Debug, Default)]
pub(super) struct LiveIndex {
    deployments: Vec<model::Deployment>,
    /// Per deployment: the id of its (environment, cluster, namespace) in `locations`, so
    /// totals count by location without comparing strings.
    location: Vec<u32>,
    locations: Vec<(Option<String>, String, String)>,
    /// Live deployments by petgraph node index (compressed rows: `dep_start[n]..dep_start[n+1]`
    /// of `dep_of`).
    dep_start: Vec<u32>,
    dep_of: Vec<u32>,
    by_digest: HashMap<String, Vec<u32>>,
    /// The walk's next hops from each graph node, in the order petgraph lists the edges
    /// (compressed rows of `hops`; the high bit marks a dependent, also reached as a whole).
    kind: Vec<NodeKind>,
    hop_start: Vec<u32>,
    hops: Vec<u32>,
    /// Application versions including each component version (compressed rows).
    app_start: Vec<u32>,
    app_versions: Vec<(NodeIndex, u32)>,
}

/// A dependent component: reached as a node and as a whole.
const DEPENDENT: u32 = 1 << 31;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NodeKind {
    Vacant,
    Image,
    Version,
    Component,
    Application,
    Team,
}

impl NodeKind {
    fn group(self) -> Option<BlastGroup> {
        match self {
            NodeKind::Image => Some(BlastGroup::Images),
            NodeKind::Version => Some(BlastGroup::ComponentVersions),
            NodeKind::Component => Some(BlastGroup::Components),
            NodeKind::Application => Some(BlastGroup::Applications),
            NodeKind::Team => Some(BlastGroup::Owners),
            NodeKind::Vacant => None,
        }
    }
}

/// Rows `start[i]..start[i + 1]` of `items` (empty past the end).
fn row<'a, T>(start: &[u32], items: &'a [T], i: usize) -> &'a [T] {
    match (start.get(i), start.get(i + 1)) {
        (Some(a), Some(b)) => items.get(*a as usize..*b as usize).unwrap_or(&[]),
        _ => &[],
    }
}

/// Compressed rows from (row, item) pairs, keeping each row's items in the order given.
fn compress<T: Copy>(rows: usize, pairs: &[(u32, T)]) -> (Vec<u32>, Vec<T>) {
    let mut start = vec![0u32; rows + 1];
    for (r, _) in pairs {
        if let Some(s) = start.get_mut(*r as usize + 1) {
            *s += 1;
        }
    }
    for i in 0..rows {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut items: Vec<Option<T>> = vec![None; pairs.len()];
    for (r, t) in pairs {
        if let Some(at) = fill.get_mut(*r as usize) {
            if let Some(slot) = items.get_mut(*at as usize) {
                *slot = Some(*t);
            }
            *at += 1;
        }
    }
    (start, items.into_iter().flatten().collect())
}

impl LiveIndex {
    fn deployments_at(&self, n: NodeIndex) -> &[u32] {
        row(&self.dep_start, &self.dep_of, n.index())
    }

    fn hops(&self, n: NodeIndex) -> &[u32] {
        row(&self.hop_start, &self.hops, n.index())
    }

    fn app_versions_of(&self, n: NodeIndex) -> &[(NodeIndex, u32)] {
        row(&self.app_start, &self.app_versions, n.index())
    }

    fn kind(&self, n: NodeIndex) -> NodeKind {
        self.kind
            .get(n.index())
            .copied()
            .unwrap_or(NodeKind::Vacant)
    }
}

/// A computed blast radius: ids and marks, materialized page by page with
/// [`Catalog::blast_page`]. Valid for the catalog it came from.
#[derive(Debug, Clone)]
pub struct BlastRadius {
    roots: Vec<Walk>,
    groups: Groups,
    graph_marks: Arc<Marks>,
    whole_marks: Arc<Marks>,
    sbom_marks: Arc<Marks>,
    dep_marks: Arc<Marks>,
    app_marks: Arc<AppMarks>,
    live: Arc<LiveIndex>,
    pub max_depth: Option<u32>,
}

/// The items reached, per group ([`BlastGroup`] as an index), in the order the walk met them.
type Groups = [Vec<Walk>; 7];
type AppMarks = hashbrown::HashMap<(NodeIndex, u32), Mark>;

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
        self.groups[g as usize].len()
    }

    pub fn totals(&self) -> BlastTotals {
        // Counted by location id, then named: thousands of deployments share a handful of
        // namespaces.
        let mut counts = vec![0usize; self.live.locations.len()];
        for w in &self.groups[BlastGroup::Deployments as usize] {
            if let Walk::Deployment(i) = w {
                if let Some(c) = self
                    .live
                    .location
                    .get(*i as usize)
                    .and_then(|l| counts.get_mut(*l as usize))
                {
                    *c += 1;
                }
            }
        }
        let by_location = counts
            .iter()
            .zip(&self.live.locations)
            .filter(|(k, _)| **k > 0)
            .map(|(k, l)| (l.clone(), *k))
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
    graph_marks: Marks,
    /// Components affected as a whole (the target or a dependent).
    whole_marks: Marks,
    sbom_marks: Marks,
    dep_marks: Marks,
    app_marks: AppMarks,
    groups: Groups,
    queue: std::collections::VecDeque<Walk>,
    /// For a vulnerability target: the record, whose VEX-suppressed (image, package version)
    /// pairs are not walked, and the time expiries are judged at.
    vuln: Option<(&'a crate::osv::Vulnerability, chrono::DateTime<chrono::Utc>)>,
}

impl<'a> Walker<'a> {
    fn visit(&mut self, w: Walk, depth: u32, parent: Walk) -> bool {
        let m = Mark { depth, parent };
        let fresh = match w {
            Walk::SbomImage(i) => self.sbom_marks.set(i as usize, m),
            Walk::G(n) => self.graph_marks.set(n.index(), m),
            Walk::Whole(n) => self.whole_marks.set(n.index(), m),
            Walk::Deployment(i) => self.dep_marks.set(i as usize, m),
            Walk::AppVersion(a, n) => {
                if self.app_marks.contains_key(&(a, n)) {
                    return false;
                }
                self.app_marks.insert((a, n), m);
                self.groups[BlastGroup::ApplicationVersions as usize].push(w);
                return false;
            }
            Walk::Pv(_) | Walk::None => return false,
        };
        if !fresh {
            return false;
        }
        let group = match w {
            Walk::SbomImage(_) => Some(BlastGroup::Images),
            Walk::Deployment(_) => Some(BlastGroup::Deployments),
            Walk::G(n) => self.live.kind(n).group(),
            _ => None,
        };
        if depth > 0 {
            if let Some(g) = group {
                self.groups[g as usize].push(w);
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
        let live = self.live;
        for d in live.deployments_at(n) {
            self.push(Walk::Deployment(*d), depth, parent);
        }
    }

    fn expand(&mut self, w: Walk, depth: u32) {
        let next = depth + 1;
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
            Walk::G(n) => {
                let live = self.live;
                for h in live.hops(n) {
                    let m = NodeIndex::new((h & !DEPENDENT) as usize);
                    self.push(Walk::G(m), next, w);
                    if h & DEPENDENT != 0 {
                        self.push(Walk::Whole(m), next, w);
                    }
                }
                match live.kind(n) {
                    NodeKind::Image => self.deployments_of(n, next, w),
                    NodeKind::Version => {
                        for (a, num) in live.app_versions_of(n) {
                            self.push(Walk::AppVersion(*a, *num), next, w);
                        }
                        self.deployments_of(n, next, w);
                    }
                    _ => {}
                }
            }
            Walk::Whole(n) => self.deployments_of(n, next, w),
            Walk::AppVersion(..) | Walk::Deployment(_) | Walk::None => {}
        }
    }
}

impl Catalog {
    /// The live deployment index and the walk's hops, built on first use after a change.
    fn live_index(&self) -> &Arc<LiveIndex> {
        self.live.get_or_init(|| {
            let deployments = self.inventory(&super::InventoryScope::default(), None);
            let bound = self.graph.node_bound();
            let mut at_node: Vec<(u32, u32)> = Vec::new();
            let mut by_digest: HashMap<String, Vec<u32>> = HashMap::new();
            let mut location = Vec::with_capacity(deployments.len());
            let mut locations = Vec::new();
            let mut location_ids: HashMap<(&Option<String>, &String, &String), u32> =
                HashMap::new();
            for (i, d) in deployments.iter().enumerate() {
                let i = i as u32;
                let key = (&d.environment, &d.cluster, &d.namespace);
                let l = *location_ids.entry(key).or_insert_with(|| {
                    locations.push((
                        d.environment.clone(),
                        d.cluster.clone(),
                        d.namespace.clone(),
                    ));
                    locations.len() as u32 - 1
                });
                location.push(l);
                let mut add = |n: NodeIndex| at_node.push((n.index() as u32, i));
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
            drop(location_ids);
            // One deployment is listed once per node, however many of its runs lead there.
            at_node.sort_unstable();
            at_node.dedup();
            let (dep_start, dep_of) = compress(bound, &at_node);

            let g = &self.graph;
            let mut kind = vec![NodeKind::Vacant; bound];
            let mut hops: Vec<(u32, u32)> = Vec::new();
            let mut apps: Vec<(u32, (NodeIndex, u32))> = Vec::new();
            for n in g.node_indices() {
                let from = n.index() as u32;
                let mut hop = |m: NodeIndex, dependent: bool| {
                    let m = m.index() as u32 | if dependent { DEPENDENT } else { 0 };
                    hops.push((from, m));
                };
                let k = match g.node_weight(n) {
                    Some(Node::Image(_)) => {
                        for e in g.edges_directed(n, PgDirection::Incoming) {
                            if *e.weight() == Edge::BuiltFrom {
                                hop(e.source(), false);
                            }
                        }
                        NodeKind::Image
                    }
                    Some(Node::Version(_)) => {
                        for e in g.edges_directed(n, PgDirection::Outgoing) {
                            if *e.weight() == Edge::VersionOf {
                                hop(e.target(), false);
                            }
                        }
                        for av in self.declared_app_versions(n).into_iter().flatten() {
                            apps.push((from, *av));
                        }
                        NodeKind::Version
                    }
                    Some(Node::Component(_)) => {
                        for e in g.edges_directed(n, PgDirection::Incoming) {
                            match e.weight() {
                                Edge::DependsOn => hop(e.source(), true),
                                Edge::Includes => hop(e.source(), false),
                                _ => {}
                            }
                        }
                        for e in g.edges_directed(n, PgDirection::Outgoing) {
                            if *e.weight() == Edge::OwnedBy {
                                hop(e.target(), false);
                            }
                        }
                        NodeKind::Component
                    }
                    Some(Node::Application(_)) => {
                        for e in g.edges_directed(n, PgDirection::Outgoing) {
                            if *e.weight() == Edge::OwnedBy {
                                hop(e.target(), false);
                            }
                        }
                        NodeKind::Application
                    }
                    Some(Node::Team(_)) => NodeKind::Team,
                    None => NodeKind::Vacant,
                };
                if let Some(slot) = kind.get_mut(n.index()) {
                    *slot = k;
                }
            }
            let (hop_start, hops) = compress(bound, &hops);
            let (app_start, app_versions) = compress(bound, &apps);
            Arc::new(LiveIndex {
                deployments,
                location,
                locations,
                dep_start,
                dep_of,
                by_digest,
                kind,
                hop_start,
                hops,
                app_start,
                app_versions,
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
            graph_marks: Marks::new(bound),
            whole_marks: Marks::new(bound),
            sbom_marks: Marks::new(self.packages.digests.len()),
            dep_marks: Marks::new(live.deployments.len()),
            app_marks: AppMarks::default(),
            groups: Default::default(),
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
        let all = r.groups[group as usize].as_slice();
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
        match w {
            Walk::G(n) => r.graph_marks.get(n.index()),
            Walk::Whole(n) => r.whole_marks.get(n.index()),
            Walk::SbomImage(i) => r.sbom_marks.get(i as usize),
            Walk::Deployment(i) => r.dep_marks.get(i as usize),
            Walk::AppVersion(a, n) => r.app_marks.get(&(a, n)).copied(),
            Walk::Pv(_) | Walk::None => None,
        }
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
                    dependent: r.whole_marks.get(n.index()).is_some_and(|m| m.depth > 0),
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
            Walk::G(n) => self.graph_marks.depth(n.index()),
            Walk::Whole(n) => self.whole_marks.depth(n.index()),
            Walk::SbomImage(i) => self.sbom_marks.depth(i as usize),
            Walk::Deployment(i) => self.dep_marks.depth(i as usize),
            Walk::AppVersion(a, n) => self.app_marks.get(&(a, n)).map_or(0, |m| m.depth),
            Walk::None => 0,
        }
    }
}
