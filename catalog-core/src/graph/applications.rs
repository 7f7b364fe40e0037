//! Applications and their numbered versions.
//!
//! An application's members are those its latest API declaration lists plus the components
//! whose descriptor names it as their system. Its versions are a pure function of history, as
//! DeployHub keeps them: walking every moment a member changed or a member got a new version,
//! in time order, a new application version is cut whenever the set of (member, its latest
//! version then) differs from the previous one. So every application version has an exact
//! bill of materials, and no arrival order changes the numbering once the history is in.

use super::declared::AppDecls;
use super::{Catalog, Edge, Node, VersionNode};
use crate::identity::compare_versions;
use crate::model;
use chrono::{DateTime, Utc};
use petgraph::stable_graph::NodeIndex;
use petgraph::visit::EdgeRef;
use petgraph::Direction as PgDirection;
use std::collections::{BTreeSet, HashMap};

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct AppNode {
    pub(super) name: String,
    pub(super) owner: Option<String>,
    pub(super) description: Option<String>,
    pub(super) versions: Vec<AppVersion>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(super) struct AppVersion {
    pub(super) created_at: DateTime<Utc>,
    /// Component version nodes, by component name.
    pub(super) members: Vec<NodeIndex>,
}

impl Catalog {
    pub(super) fn ensure_application(&mut self, name: &str) -> NodeIndex {
        if let Some(i) = self.applications.get(name) {
            return *i;
        }
        self.search
            .add(super::search::SearchKind::Application, name);
        let i = self.graph.add_node(Node::Application(AppNode {
            name: name.to_string(),
            owner: None,
            description: None,
            versions: Vec::new(),
        }));
        self.applications.insert(name.to_string(), i);
        i
    }

    pub(super) fn application_declared(
        &mut self,
        name: &str,
        components: &[String],
        owner: Option<&str>,
        t: DateTime<Utc>,
        key: &str,
    ) {
        self.ensure_application(name);
        let members: BTreeSet<String> = components.iter().cloned().collect();
        for c in &members {
            self.ensure_component(c);
            self.declared.note_membership(name, c);
        }
        if let Some(o) = owner {
            self.ensure_team(o);
        }
        self.declared
            .app_decls
            .entry(name.to_string())
            .or_default()
            .insert((t, key.into()), (members, owner.map(str::to_string)));
        self.declared.dirty_apps.insert(name.to_string());
    }

    /// Members, owner and versions of every application touched since the last settle.
    pub(super) fn settle_applications(&mut self) {
        let dirty = std::mem::take(&mut self.declared.dirty_apps);
        for name in dirty {
            self.settle_application(&name);
        }
    }

    fn settle_application(&mut self, name: &str) {
        let app = self.ensure_application(name);
        // Members now.
        let mut members: BTreeSet<String> = self
            .declared
            .app_decls
            .get(name)
            .and_then(|d| d.values().next_back())
            .map(|(m, _)| m.clone())
            .unwrap_or_default();
        if let Some(m) = self.declared.system_members.get(name) {
            members.extend(m.iter().cloned());
        }
        let have: Vec<(petgraph::stable_graph::EdgeIndex, NodeIndex)> = self
            .graph
            .edges_directed(app, PgDirection::Outgoing)
            .filter(|e| matches!(e.weight(), Edge::Includes | Edge::OwnedBy))
            .map(|e| (e.id(), e.target()))
            .collect();
        for (id, _) in have {
            self.graph.remove_edge(id);
        }
        for m in &members {
            let c = self.ensure_component(m);
            self.graph.add_edge(app, c, Edge::Includes);
        }
        // Owner: the later of the system descriptor's and the latest declaration naming one.
        let by_entity = self
            .declared
            .entity(crate::entity::EntityKind::System, name)
            .and_then(|(r, e)| e.owner.clone().map(|o| (r.clone(), o)));
        let by_api = self.declared.app_decls.get(name).and_then(|d| {
            d.iter()
                .rev()
                .find_map(|(r, (_, o))| o.clone().map(|o| (r.clone(), o)))
        });
        let owner = match (by_entity, by_api) {
            (Some(a), Some(b)) => Some(if b.0 >= a.0 { b.1 } else { a.1 }),
            (a, b) => a.or(b).map(|x| x.1),
        };
        if let Some(o) = &owner {
            let t = self.ensure_team(o);
            self.graph.add_edge(app, t, Edge::OwnedBy);
        }
        let description = self
            .declared
            .entity(crate::entity::EntityKind::System, name)
            .and_then(|(_, e)| e.description.clone());
        let versions = self.application_history(name);
        let index = &mut self.declared.cv_app_versions;
        if let Some(Node::Application(node)) = self.graph.node_weight(app) {
            for v in &node.versions {
                for m in &v.members {
                    if let Some(list) = index.get_mut(m) {
                        list.retain(|(a, _)| *a != app);
                        if list.is_empty() {
                            index.remove(m);
                        }
                    }
                }
            }
        }
        for (i, v) in versions.iter().enumerate() {
            for m in &v.members {
                index.entry(*m).or_default().push((app, i as u32 + 1));
            }
        }
        if let Some(Node::Application(node)) = self.graph.node_weight_mut(app) {
            node.owner = owner;
            node.description = description;
            node.versions = versions;
        }
    }

    /// The application versions including a component version node.
    pub(super) fn declared_app_versions(&self, cv: NodeIndex) -> Option<&Vec<(NodeIndex, u32)>> {
        self.declared.cv_app_versions.get(&cv)
    }

    /// The application's versions from its whole history (see the module doc).
    fn application_history(&self, name: &str) -> Vec<AppVersion> {
        let d = &self.declared;
        let decls: Option<&AppDecls> = d.app_decls.get(name);
        // Every component that was ever a member (by a declaration or a descriptor's system).
        let candidates: BTreeSet<&String> = d
            .app_members_ever
            .get(name)
            .map(|m| m.iter().collect())
            .unwrap_or_default();
        let mut moments: BTreeSet<DateTime<Utc>> = BTreeSet::new();
        if let Some(ds) = decls {
            moments.extend(ds.keys().map(|r| r.0));
        }
        type Pushes<'a> = Vec<(DateTime<Utc>, NodeIndex, &'a VersionNode)>;
        let mut pushes: HashMap<&String, Pushes> = HashMap::new();
        for c in &candidates {
            if let Some(hist) = d.systems.get(*c) {
                moments.extend(hist.keys().map(|r| r.0));
            }
            let Some(ci) = self.components.get(*c) else {
                continue;
            };
            let mut vs: Vec<(DateTime<Utc>, NodeIndex, &VersionNode)> = self
                .graph
                .edges_directed(*ci, PgDirection::Incoming)
                .filter(|e| *e.weight() == Edge::VersionOf)
                .filter_map(|e| match self.graph.node_weight(e.source()) {
                    Some(Node::Version(v)) => Some((v.pushed_at, e.source(), v)),
                    _ => None,
                })
                .collect();
            vs.sort_by(|a, b| {
                a.0.cmp(&b.0)
                    .then(compare_versions(&a.2.version, &b.2.version))
            });
            moments.extend(vs.iter().map(|v| v.0));
            pushes.insert(*c, vs);
        }
        let mut out: Vec<AppVersion> = Vec::new();
        for t in moments {
            let mut members: BTreeSet<&String> = decls
                .and_then(|ds| ds.iter().rev().find(|(r, _)| r.0 <= t))
                .map(|(_, (m, _))| m.iter().collect())
                .unwrap_or_default();
            for c in &candidates {
                let in_system = d
                    .systems
                    .get(*c)
                    .and_then(|h| h.iter().rev().find(|(r, _)| r.0 <= t))
                    .is_some_and(|(_, s)| s.as_deref() == Some(name));
                if in_system {
                    members.insert(c);
                }
            }
            let bom: Vec<NodeIndex> = members
                .iter()
                .filter_map(|c| {
                    pushes
                        .get(*c)
                        .and_then(|vs| vs.iter().rev().find(|v| v.0 <= t))
                        .map(|v| v.1)
                })
                .collect();
            if bom.is_empty() || out.last().is_some_and(|v| v.members == bom) {
                continue;
            }
            out.push(AppVersion {
                created_at: t,
                members: bom,
            });
        }
        out
    }

    fn app_node(&self, name: &str) -> Option<&AppNode> {
        match self
            .applications
            .get(name)
            .and_then(|i| self.graph.node_weight(*i))
        {
            Some(Node::Application(a)) => Some(a),
            _ => None,
        }
    }

    pub(super) fn app_model(&self, a: &AppNode) -> model::Application {
        model::Application {
            name: a.name.clone(),
            owner: a.owner.clone(),
            description: a.description.clone(),
            components: self.application_members(&a.name),
            version_count: a.versions.len(),
        }
    }

    fn application_members(&self, name: &str) -> Vec<String> {
        let Some(i) = self.applications.get(name) else {
            return Vec::new();
        };
        let mut out: Vec<String> = self
            .graph
            .edges_directed(*i, PgDirection::Outgoing)
            .filter(|e| *e.weight() == Edge::Includes)
            .filter_map(|e| match self.graph.node_weight(e.target()) {
                Some(Node::Component(c)) => Some(c.name.clone()),
                _ => None,
            })
            .collect();
        out.sort();
        out
    }

    /// Every application, by name.
    pub fn applications(&self) -> Vec<model::Application> {
        self.applications
            .keys()
            .filter_map(|n| self.app_node(n).map(|a| self.app_model(a)))
            .collect()
    }

    pub fn application(&self, name: &str) -> Option<model::Application> {
        self.app_node(name).map(|a| self.app_model(a))
    }

    pub(super) fn app_version_model(
        &self,
        a: &AppNode,
        number: u32,
    ) -> Option<model::ApplicationVersion> {
        let v = a.versions.get(number.checked_sub(1)? as usize)?;
        Some(model::ApplicationVersion {
            application: a.name.clone(),
            number,
            created_at: v.created_at,
            members: v
                .members
                .iter()
                .filter_map(|m| match self.graph.node_weight(*m) {
                    Some(Node::Version(v)) => Some((v.component.clone(), v.version.clone())),
                    _ => None,
                })
                .collect(),
        })
    }

    /// An application's versions, newest first.
    pub fn application_versions(&self, name: &str) -> Vec<model::ApplicationVersion> {
        let Some(a) = self.app_node(name) else {
            return Vec::new();
        };
        (1..=a.versions.len() as u32)
            .rev()
            .filter_map(|n| self.app_version_model(a, n))
            .collect()
    }

    /// One application version; `None` for an unknown application or number.
    pub fn application_version(
        &self,
        name: &str,
        number: u32,
    ) -> Option<model::ApplicationVersion> {
        self.app_node(name)
            .and_then(|a| self.app_version_model(a, number))
    }

    /// The applications a component belongs to now.
    pub fn applications_of(&self, component: &str) -> Vec<String> {
        let Some(c) = self.components.get(component) else {
            return Vec::new();
        };
        let mut out: Vec<String> = self
            .graph
            .edges_directed(*c, PgDirection::Incoming)
            .filter(|e| *e.weight() == Edge::Includes)
            .filter_map(|e| match self.graph.node_weight(e.source()) {
                Some(Node::Application(a)) => Some(a.name.clone()),
                _ => None,
            })
            .collect();
        out.sort();
        out
    }

    pub(super) fn verify_applications(&self) -> Result<(), String> {
        if !self.declared.dirty_apps.is_empty() {
            return Err("applications left unsettled".into());
        }
        for (name, idx) in &self.applications {
            let Some(Node::Application(a)) = self.graph.node_weight(*idx) else {
                return Err(format!("application {name} is not an application node"));
            };
            if a.versions != self.application_history(name) {
                return Err(format!("application {name}: versions are stale"));
            }
            for w in a.versions.windows(2) {
                if w[0].created_at >= w[1].created_at || w[0].members == w[1].members {
                    return Err(format!("application {name}: versions out of order"));
                }
            }
        }
        Ok(())
    }
}
