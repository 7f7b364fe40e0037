//! Bills of materials of any root (an application version, a component version, an image),
//! the difference of two, and the dependency map of a component.

use super::{Catalog, Edge, Node};
use crate::model;
use crate::purl::Purl;
use petgraph::stable_graph::NodeIndex;
use petgraph::visit::EdgeRef;
use petgraph::Direction as PgDirection;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Which way a walk follows `dependsOn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// What the component depends on.
    Forward,
    /// What depends on the component.
    Reverse,
}

/// What a BOM is of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BomRoot {
    ApplicationVersion { application: String, number: u32 },
    ComponentVersion { component: String, version: String },
    Image(String),
}

/// Everything a root is made of.
#[derive(Debug, Clone, PartialEq)]
pub struct Bom {
    pub component_versions: Vec<model::ComponentVersion>,
    /// Image digests, sorted.
    pub images: Vec<String>,
    /// Package versions across the images, one entry per (package, version), sorted by
    /// package then version; the shallowest depth any image lists it at.
    pub packages: Vec<model::BomPackage>,
}

/// A difference in one component or package between two BOMs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// A component name, or a package (versionless purl, else its name).
    pub name: String,
    /// Versions in the first BOM (none for a package listed without one).
    pub from: Vec<String>,
    /// Versions in the second.
    pub to: Vec<String>,
    /// Decided by presence in each BOM, not by the version lists: a package listed without
    /// a version is still present.
    present: (bool, bool),
}

impl Change {
    pub fn kind(&self) -> &'static str {
        match self.present {
            (false, _) => "added",
            (_, false) => "removed",
            _ => "changed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BomDiff {
    pub components: Vec<Change>,
    pub packages: Vec<Change>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DependencyNode {
    pub component: String,
    /// Hops from the component asked about (0 for it).
    pub layer: u32,
    pub owner: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DependencyEdge {
    /// The dependent.
    pub from: String,
    /// What it depends on.
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DependencyMap {
    /// By layer, then name.
    pub nodes: Vec<DependencyNode>,
    /// Every `dependsOn` edge between two nodes of the map (cycles included), sorted.
    pub edges: Vec<DependencyEdge>,
}

impl Catalog {
    /// The BOM of a root; `None` when the root is unknown.
    pub fn bom(&self, root: &BomRoot) -> Option<Bom> {
        let (versions, images): (Vec<NodeIndex>, Vec<String>) = match root {
            BomRoot::ApplicationVersion {
                application,
                number,
            } => {
                let a = self.applications.get(application)?;
                let Some(Node::Application(app)) = self.graph.node_weight(*a) else {
                    return None;
                };
                let v = app.versions.get(number.checked_sub(1)? as usize)?;
                let images = v
                    .members
                    .iter()
                    .filter_map(|m| match self.graph.node_weight(*m) {
                        Some(Node::Version(v)) => Some(v.digest.clone()),
                        _ => None,
                    })
                    .collect();
                (v.members.clone(), images)
            }
            BomRoot::ComponentVersion { component, version } => {
                let n = self.versions.get(&(component.clone(), version.clone()))?;
                let Some(Node::Version(v)) = self.graph.node_weight(*n) else {
                    return None;
                };
                (vec![*n], vec![v.digest.clone()])
            }
            BomRoot::Image(d) => {
                let versions = match self.images.get(d) {
                    Some(n) => self
                        .graph
                        .edges_directed(*n, PgDirection::Incoming)
                        .filter(|e| *e.weight() == Edge::BuiltFrom)
                        .map(|e| e.source())
                        .collect(),
                    None if self.has_sbom(d) => Vec::new(),
                    None => return None,
                };
                (versions, vec![d.clone()])
            }
        };
        let mut component_versions: Vec<model::ComponentVersion> = versions
            .iter()
            .filter_map(|n| match self.graph.node_weight(*n) {
                Some(Node::Version(v)) => Some(self.version_model(v)),
                _ => None,
            })
            .collect();
        component_versions
            .sort_by(|a, b| (&a.component, &a.version).cmp(&(&b.component, &b.version)));
        let images: BTreeSet<String> = images.into_iter().collect();
        let mut packages: BTreeMap<(String, Option<String>), model::BomPackage> = BTreeMap::new();
        for img in &images {
            // An index's SBOM may be attached to its platform manifests.
            let mut digests = vec![img.clone()];
            if !self.has_sbom(img) {
                digests.extend(self.platforms_of(img).into_iter().map(|p| p.digest));
            }
            for d in digests {
                for p in self.all_image_packages(&d) {
                    let key = (package_key(&p), p.version.clone());
                    match packages.get_mut(&key) {
                        Some(cur) => {
                            cur.depth = match (cur.depth, p.depth) {
                                (Some(a), Some(b)) => Some(a.min(b)),
                                (a, b) => a.or(b),
                            };
                        }
                        None => {
                            packages.insert(key, p);
                        }
                    }
                }
            }
        }
        Some(Bom {
            component_versions,
            images: images.into_iter().collect(),
            packages: packages.into_values().collect(),
        })
    }

    /// What changed from `from` to `to`: components (by name) and packages (by package)
    /// added, removed, or at other versions. `None` when either root is unknown.
    pub fn diff(&self, from: &BomRoot, to: &BomRoot) -> Option<BomDiff> {
        let a = self.bom(from)?;
        let b = self.bom(to)?;
        let comps = |bom: &Bom| {
            let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for v in &bom.component_versions {
                m.entry(v.component.clone())
                    .or_default()
                    .insert(v.version.clone());
            }
            m
        };
        let pkgs = |bom: &Bom| {
            let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for p in &bom.packages {
                let e = m.entry(package_key(p)).or_default();
                if let Some(v) = &p.version {
                    e.insert(v.clone());
                }
            }
            m
        };
        Some(BomDiff {
            components: changes(comps(&a), comps(&b)),
            packages: changes(pkgs(&a), pkgs(&b)),
        })
    }

    /// The components `component` depends on (forward) or that depend on it (reverse), up to
    /// `depth` hops, with a layer each, ready to draw. `None` for an unknown component.
    pub fn dependency_map(
        &self,
        component: &str,
        direction: Direction,
        depth: u32,
    ) -> Option<DependencyMap> {
        let start = *self.components.get(component)?;
        let dir = match direction {
            Direction::Forward => PgDirection::Outgoing,
            Direction::Reverse => PgDirection::Incoming,
        };
        let mut layer: BTreeMap<NodeIndex, u32> = BTreeMap::new();
        layer.insert(start, 0);
        let mut queue = VecDeque::from([start]);
        while let Some(n) = queue.pop_front() {
            let l = layer.get(&n).copied().unwrap_or(0);
            if l >= depth {
                continue;
            }
            for e in self.graph.edges_directed(n, dir) {
                if *e.weight() != Edge::DependsOn {
                    continue;
                }
                let m = if dir == PgDirection::Outgoing {
                    e.target()
                } else {
                    e.source()
                };
                if let std::collections::btree_map::Entry::Vacant(v) = layer.entry(m) {
                    v.insert(l + 1);
                    queue.push_back(m);
                }
            }
        }
        let name = |n: NodeIndex| match self.graph.node_weight(n) {
            Some(Node::Component(c)) => Some(c.name.clone()),
            _ => None,
        };
        let mut nodes: Vec<DependencyNode> = layer
            .iter()
            .filter_map(|(n, l)| {
                Some(DependencyNode {
                    component: name(*n)?,
                    layer: *l,
                    owner: self.owner_of(*n),
                })
            })
            .collect();
        nodes.sort_by(|a, b| (a.layer, &a.component).cmp(&(b.layer, &b.component)));
        let mut edges: Vec<DependencyEdge> = Vec::new();
        for n in layer.keys() {
            for e in self.graph.edges_directed(*n, PgDirection::Outgoing) {
                if *e.weight() == Edge::DependsOn && layer.contains_key(&e.target()) {
                    if let (Some(from), Some(to)) = (name(e.source()), name(e.target())) {
                        edges.push(DependencyEdge { from, to });
                    }
                }
            }
        }
        edges.sort_by(|a, b| (&a.from, &a.to).cmp(&(&b.from, &b.to)));
        Some(DependencyMap { nodes, edges })
    }
}

/// A package's identity in a BOM: its versionless purl, else its name.
fn package_key(p: &model::BomPackage) -> String {
    p.purl
        .as_deref()
        .and_then(|s| Purl::parse(s).ok())
        .map(|p| p.package())
        .unwrap_or_else(|| p.name.clone())
}

fn changes(
    a: BTreeMap<String, BTreeSet<String>>,
    b: BTreeMap<String, BTreeSet<String>>,
) -> Vec<Change> {
    let names: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    names
        .into_iter()
        .filter_map(|n| {
            let from = a.get(n);
            let to = b.get(n);
            if from == to {
                return None;
            }
            Some(Change {
                name: n.clone(),
                from: from
                    .map(|s| s.iter().cloned().collect())
                    .unwrap_or_default(),
                to: to.map(|s| s.iter().cloned().collect()).unwrap_or_default(),
                present: (from.is_some(), to.is_some()),
            })
        })
        .collect()
}
