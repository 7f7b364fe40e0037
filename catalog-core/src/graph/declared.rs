//! What teams declare: Backstage entities, dependencies, team contacts.
//!
//! Every rule keeps the latest by (time, event key), so any arrival order and any replay give
//! the same graph:
//! - an entity `kind:name` is its latest descriptor; a component's descriptor is the latest
//!   of its `component:` and `resource:` entities;
//! - a dependency `from -> to` is decided per pair by the later of the API's latest word on
//!   the pair (declared or removed) and `from`'s descriptor (it lists `to` in `dependsOn`, or
//!   consumes an API `to` provides; else it says "no"); at equal times the API wins. A
//!   component never depends on itself;
//! - team contacts are those of the latest `team.contacts` event or group/user descriptor.
//!
//! The effective dependencies are petgraph `DependsOn` edges, maintained by the delta of
//! each change: a descriptor refreshes its own component's edges, and a change of the APIs a
//! component provides refreshes only the pairs (consumer, that component), never every
//! dependency of every consumer. An index of the `DependsOn` edges by pair makes each pair's
//! check O(1), so a catalog where thousands consume one API folds in linear time.

use super::{Catalog, Edge, Node};
use crate::entity::{Contacts, Entity, EntityKind};
use chrono::{DateTime, Utc};
use petgraph::stable_graph::{EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction as PgDirection;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

pub(super) type Rank = (DateTime<Utc>, Arc<str>);
/// An application's API declarations: rank -> (members, owner).
pub(super) type AppDecls = BTreeMap<Rank, (BTreeSet<String>, Option<String>)>;

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(super) struct Declared {
    /// `kind:name` -> the latest descriptor.
    #[serde(with = "crate::graph::snapshot::as_json")]
    entities: HashMap<String, (Rank, Arc<Entity>)>,
    /// component -> the system each of its descriptors named, by rank (application history).
    pub(super) systems: HashMap<String, BTreeMap<Rank, Option<String>>>,
    /// (from, to) -> the API's latest word: (rank, present).
    api_deps: HashMap<(String, String), (Rank, bool)>,
    api_from: HashMap<String, BTreeSet<String>>,
    /// API -> components whose descriptor provides / consumes it now.
    providers: HashMap<String, BTreeSet<String>>,
    consumers: HashMap<String, BTreeSet<String>>,
    /// application -> every API declaration: rank -> (members, owner).
    pub(super) app_decls: HashMap<String, AppDecls>,
    /// application -> components whose descriptor names it as their system now.
    pub(super) system_members: HashMap<String, BTreeSet<String>>,
    /// component -> applications it ever belonged to (their versions depend on its versions).
    pub(super) component_apps: HashMap<String, BTreeSet<String>>,
    /// Component version node -> the application versions including it.
    pub(super) cv_app_versions:
        HashMap<petgraph::stable_graph::NodeIndex, Vec<(petgraph::stable_graph::NodeIndex, u32)>>,
    /// Applications whose members or versions must be recomputed.
    pub(super) dirty_apps: BTreeSet<String>,
    /// application -> every component that was ever a member (by a descriptor's system or a
    /// declaration): the candidates of its version history.
    #[serde(default)]
    pub(super) app_members_ever: HashMap<String, BTreeSet<String>>,
    /// (from, to) component nodes -> their `DependsOn` edge.
    #[serde(default)]
    dep_edges: HashMap<(NodeIndex, NodeIndex), EdgeIndex>,
}

impl Declared {
    /// A component's current descriptor: the latest of its component and resource entities.
    pub(super) fn component_entity(&self, name: &str) -> Option<&(Rank, Arc<Entity>)> {
        let c = self.entities.get(&format!("component:{name}"));
        let r = self.entities.get(&format!("resource:{name}"));
        match (c, r) {
            (Some(c), Some(r)) => Some(if r.0 > c.0 { r } else { c }),
            (a, b) => a.or(b),
        }
    }

    pub(super) fn entity(&self, kind: EntityKind, name: &str) -> Option<&(Rank, Arc<Entity>)> {
        let reference = Entity::new(kind, name).reference();
        self.entities.get(&reference)
    }

    /// A component got a new version: the applications it belongs to get a new version too.
    pub(super) fn component_changed(&mut self, component: &str) {
        if let Some(apps) = self.component_apps.get(component) {
            self.dirty_apps.extend(apps.iter().cloned());
        }
    }

    pub(super) fn note_membership(&mut self, app: &str, component: &str) {
        let new = self
            .component_apps
            .entry(component.to_string())
            .or_default()
            .insert(app.to_string());
        if new {
            self.app_members_ever
                .entry(app.to_string())
                .or_default()
                .insert(component.to_string());
        }
        self.dirty_apps.insert(app.to_string());
    }
}

fn rank(t: DateTime<Utc>, key: &str) -> Rank {
    (t, Arc::from(key))
}

impl Catalog {
    pub(super) fn entity_declared(&mut self, e: &Entity, t: DateTime<Utc>, key: &str) {
        let r = rank(t, key);
        let reference = e.reference();
        let is_component = matches!(e.kind, EntityKind::Component | EntityKind::Resource);
        if is_component {
            // History is kept whatever the order, so application versions see every change.
            self.declared
                .systems
                .entry(e.name.clone())
                .or_default()
                .insert(r.clone(), e.system.clone());
            if let Some(app) = &e.system {
                self.ensure_application(app);
                self.declared.note_membership(app, &e.name);
            }
        }
        if self
            .declared
            .entities
            .get(&reference)
            .is_some_and(|(cur, _)| *cur >= r)
        {
            return;
        }
        let before = if is_component {
            self.declared.component_entity(&e.name).cloned()
        } else {
            None
        };
        self.declared
            .entities
            .insert(reference, (r.clone(), Arc::new(e.clone())));
        match e.kind {
            EntityKind::Component | EntityKind::Resource => {
                self.ensure_component(&e.name);
                if let Some(owner) = &e.owner {
                    self.set_owner(&e.name, owner, true, t);
                }
                let after = self.declared.component_entity(&e.name).cloned();
                self.component_descriptor_changed(&e.name, before, after);
            }
            EntityKind::System => {
                self.ensure_application(&e.name);
                if let Some(owner) = &e.owner {
                    self.ensure_team(owner);
                }
                self.declared.dirty_apps.insert(e.name.clone());
            }
            EntityKind::Group | EntityKind::User => {
                let team = self.ensure_team(&e.name);
                if let Some(parent) = &e.parent {
                    self.ensure_team(parent);
                }
                if let Some(Node::Team(node)) = self.graph.node_weight_mut(team) {
                    node.parent.clone_from(&e.parent);
                    node.title.clone_from(&e.title);
                }
                self.set_contacts(&e.name, &e.contacts, t, key);
            }
            EntityKind::Api | EntityKind::Domain => {
                if let Some(owner) = &e.owner {
                    self.ensure_team(owner);
                }
            }
        }
    }

    /// A component's effective descriptor changed from `before` to `after`: move its API
    /// roles and system membership, and refresh the dependencies that can change.
    fn component_descriptor_changed(
        &mut self,
        name: &str,
        before: Option<(Rank, Arc<Entity>)>,
        after: Option<(Rank, Arc<Entity>)>,
    ) {
        let roles = |e: &Option<(Rank, Arc<Entity>)>| {
            e.as_ref()
                .map(|(_, e)| {
                    (
                        e.provides_apis.clone(),
                        e.consumes_apis.clone(),
                        e.system.clone(),
                    )
                })
                .unwrap_or_default()
        };
        let (old_p, old_c, old_s) = roles(&before);
        let (new_p, new_c, new_s) = roles(&after);
        for api in &old_p {
            if let Some(s) = self.declared.providers.get_mut(api) {
                s.remove(name);
            }
        }
        for api in &old_c {
            if let Some(s) = self.declared.consumers.get_mut(api) {
                s.remove(name);
            }
        }
        for api in &new_p {
            self.declared
                .providers
                .entry(api.clone())
                .or_default()
                .insert(name.to_string());
        }
        for api in &new_c {
            self.declared
                .consumers
                .entry(api.clone())
                .or_default()
                .insert(name.to_string());
        }
        // Consumers of an API whose providers changed: only the pair (consumer, this
        // component) can change, whatever else the consumer depends on.
        let changed: BTreeSet<&String> = old_p
            .iter()
            .chain(&new_p)
            .filter(|a| old_p.contains(a) != new_p.contains(a))
            .collect();
        let mut pairs: BTreeSet<String> = BTreeSet::new();
        for api in changed {
            if let Some(cs) = self.declared.consumers.get(api) {
                pairs.extend(cs.iter().filter(|c| c.as_str() != name).cloned());
            }
        }
        if old_s != new_s {
            for app in old_s.iter().chain(&new_s) {
                self.declared.dirty_apps.insert(app.clone());
            }
            if let Some(app) = &old_s {
                if let Some(m) = self.declared.system_members.get_mut(app) {
                    m.remove(name);
                }
            }
            if let Some(app) = &new_s {
                self.declared
                    .system_members
                    .entry(app.clone())
                    .or_default()
                    .insert(name.to_string());
            }
        }
        self.refresh_dependencies(name);
        for consumer in pairs {
            self.refresh_pair(&consumer, name);
        }
    }

    pub(super) fn dependency_event(
        &mut self,
        from: &str,
        to: &str,
        present: bool,
        t: DateTime<Utc>,
        key: &str,
    ) {
        let r = rank(t, key);
        let pair = (from.to_string(), to.to_string());
        if self
            .declared
            .api_deps
            .get(&pair)
            .is_some_and(|(cur, _)| *cur >= r)
        {
            return;
        }
        self.declared.api_deps.insert(pair, (r, present));
        self.declared
            .api_from
            .entry(from.to_string())
            .or_default()
            .insert(to.to_string());
        self.ensure_component(from);
        self.ensure_component(to);
        self.refresh_pair(from, to);
    }

    /// What `from` depends on now, by the rules above.
    fn effective_dependencies(&self, from: &str) -> BTreeSet<String> {
        let d = &self.declared;
        let entity = d.component_entity(from);
        // What the descriptor lists, as one set: a candidate's check is then a lookup, not a
        // scan of the descriptor's lists.
        let listed: HashSet<&str> = entity
            .map(|(_, e)| {
                e.depends_on
                    .iter()
                    .chain(
                        e.consumes_apis
                            .iter()
                            .filter_map(|api| d.providers.get(api))
                            .flatten(),
                    )
                    .map(String::as_str)
                    .collect()
            })
            .unwrap_or_default();
        let mut candidates: BTreeSet<&str> = listed.iter().copied().collect();
        if let Some(tos) = d.api_from.get(from) {
            candidates.extend(tos.iter().map(String::as_str));
        }
        let entity_time = entity.map(|(r, _)| r.0);
        candidates
            .into_iter()
            .filter(|to| *to != from)
            .filter(|to| self.decide(from, to, entity_time, listed.contains(to)))
            .map(str::to_string)
            .collect()
    }

    /// Whether `from -> to` holds, given `from`'s descriptor time and whether it lists `to`:
    /// the later of the API's word and the descriptor wins; at equal times the API.
    fn decide(
        &self,
        from: &str,
        to: &str,
        entity_time: Option<DateTime<Utc>>,
        listed: bool,
    ) -> bool {
        let api = self
            .declared
            .api_deps
            .get(&(from.to_string(), to.to_string()));
        match (api, entity_time) {
            (Some(((ta, _), a)), Some(te)) => {
                if *ta >= te {
                    *a
                } else {
                    listed
                }
            }
            (Some((_, a)), None) => *a,
            (None, Some(_)) => listed,
            (None, None) => false,
        }
    }

    /// Makes `from`'s `DependsOn` edges equal to its effective dependencies.
    fn refresh_dependencies(&mut self, from: &str) {
        let want = self.effective_dependencies(from);
        let f = match self.components.get(from) {
            Some(f) => *f,
            None if want.is_empty() => return,
            None => self.ensure_component(from),
        };
        let have: Vec<(EdgeIndex, NodeIndex, String)> = self
            .graph
            .edges_directed(f, PgDirection::Outgoing)
            .filter(|e| *e.weight() == Edge::DependsOn)
            .filter_map(|e| match self.graph.node_weight(e.target()) {
                Some(Node::Component(c)) => Some((e.id(), e.target(), c.name.clone())),
                _ => None,
            })
            .collect();
        let mut kept: BTreeSet<String> = BTreeSet::new();
        for (id, t, to) in have {
            if want.contains(&to) {
                kept.insert(to);
            } else {
                self.graph.remove_edge(id);
                self.declared.dep_edges.remove(&(f, t));
            }
        }
        for to in want.difference(&kept) {
            let t = self.ensure_component(to);
            let id = self.graph.add_edge(f, t, Edge::DependsOn);
            self.declared.dep_edges.insert((f, t), id);
        }
    }

    /// Makes the one pair `from -> to` right (what changed could not affect `from`'s others).
    fn refresh_pair(&mut self, from: &str, to: &str) {
        if from == to {
            return;
        }
        let d = &self.declared;
        let entity = d.component_entity(from);
        let listed = entity.is_some_and(|(_, e)| {
            e.depends_on.iter().any(|x| x == to)
                || e.consumes_apis
                    .iter()
                    .any(|api| d.providers.get(api).is_some_and(|ps| ps.contains(to)))
        });
        let want = self.decide(from, to, entity.map(|(r, _)| r.0), listed);
        let pair = match (self.components.get(from), self.components.get(to)) {
            (Some(f), Some(t)) => Some((*f, *t)),
            _ => None,
        };
        let have = pair.and_then(|p| self.declared.dep_edges.get(&p).copied());
        match (want, have) {
            (true, None) => {
                let f = self.ensure_component(from);
                let t = self.ensure_component(to);
                let id = self.graph.add_edge(f, t, Edge::DependsOn);
                self.declared.dep_edges.insert((f, t), id);
            }
            (false, Some(id)) => {
                self.graph.remove_edge(id);
                if let Some(p) = pair {
                    self.declared.dep_edges.remove(&p);
                }
            }
            _ => {}
        }
    }

    pub(super) fn set_contacts(
        &mut self,
        team: &str,
        contacts: &Contacts,
        t: DateTime<Utc>,
        key: &str,
    ) {
        let r = rank(t, key);
        let idx = self.ensure_team(team);
        if let Some(Node::Team(node)) = self.graph.node_weight_mut(idx) {
            if node.contacts_rank.as_ref().is_some_and(|cur| *cur >= r) {
                return;
            }
            node.contacts = contacts.clone();
            node.contacts_rank = Some(r);
        }
    }

    /// The component names `name` depends on now (declared), sorted.
    pub fn dependencies_of(&self, name: &str) -> Vec<String> {
        self.neighbours(name, PgDirection::Outgoing)
    }

    /// The components that depend on `name` now, sorted.
    pub fn dependents_of(&self, name: &str) -> Vec<String> {
        self.neighbours(name, PgDirection::Incoming)
    }

    fn neighbours(&self, name: &str, dir: PgDirection) -> Vec<String> {
        let Some(c) = self.components.get(name) else {
            return Vec::new();
        };
        let mut out: Vec<String> = self
            .graph
            .edges_directed(*c, dir)
            .filter(|e| *e.weight() == Edge::DependsOn)
            .filter_map(|e| {
                let other = if dir == PgDirection::Outgoing {
                    e.target()
                } else {
                    e.source()
                };
                match self.graph.node_weight(other) {
                    Some(Node::Component(c)) => Some(c.name.clone()),
                    _ => None,
                }
            })
            .collect();
        out.sort();
        out
    }

    /// At most how many dependency edges importing `entities` would add: every pair of a
    /// consumer and a provider of one API where either side is in the import, plus the
    /// `dependsOn` lists. Hooks refuse an import over their limit before it is recorded, so a
    /// descriptor set cannot make the graph quadratic in one request.
    pub fn declared_edges_estimate<'a>(
        &self,
        entities: impl IntoIterator<Item = &'a Entity>,
    ) -> u64 {
        let d = &self.declared;
        let components: Vec<&Entity> = entities
            .into_iter()
            .filter(|e| matches!(e.kind, EntityKind::Component | EntityKind::Resource))
            .collect();
        let named: HashSet<&str> = components.iter().map(|e| e.name.as_str()).collect();
        // API -> (consumers, providers) named by the import.
        let mut roles: HashMap<&str, (HashSet<&str>, HashSet<&str>)> = HashMap::new();
        let mut edges: u64 = 0;
        for e in &components {
            edges = edges.saturating_add(e.depends_on.len() as u64);
            for api in &e.consumes_apis {
                roles.entry(api).or_default().0.insert(&e.name);
            }
            for api in &e.provides_apis {
                roles.entry(api).or_default().1.insert(&e.name);
            }
        }
        // Those the graph has and the import does not redeclare keep their roles.
        let kept = |set: Option<&BTreeSet<String>>| {
            set.map_or(0, |s| {
                s.iter().filter(|n| !named.contains(n.as_str())).count()
            }) as u64
        };
        for (api, (consumers, providers)) in roles {
            let (ck, pk) = (kept(d.consumers.get(api)), kept(d.providers.get(api)));
            let c = ck + consumers.len() as u64;
            let p = pk + providers.len() as u64;
            edges = edges.saturating_add(c.saturating_mul(p) - ck * pk);
        }
        edges
    }

    /// A component's descriptor, when one was imported.
    pub fn component_descriptor(&self, name: &str) -> Option<Entity> {
        self.declared
            .component_entity(name)
            .map(|(_, e)| e.as_ref().clone())
    }

    /// Checks that every component's `DependsOn` edges are its effective dependencies.
    pub(super) fn verify_declared(&self) -> Result<(), String> {
        for (name, idx) in &self.components {
            let have: BTreeSet<String> = self.dependencies_of(name).into_iter().collect();
            let want = self.effective_dependencies(name);
            if have != want {
                return Err(format!(
                    "{name} depends on {have:?} but the declarations say {want:?}"
                ));
            }
            let dup = self
                .graph
                .edges_directed(*idx, PgDirection::Outgoing)
                .filter(|e| *e.weight() == Edge::DependsOn)
                .count();
            if dup != have.len() {
                return Err(format!("{name} has duplicate dependency edges"));
            }
        }
        let edges = self
            .graph
            .edge_indices()
            .filter(|e| self.graph.edge_weight(*e) == Some(&Edge::DependsOn))
            .count();
        if edges != self.declared.dep_edges.len() {
            return Err(format!(
                "{edges} dependency edges but {} indexed",
                self.declared.dep_edges.len()
            ));
        }
        for ((f, t), id) in &self.declared.dep_edges {
            if self.graph.edge_endpoints(*id) != Some((*f, *t)) {
                return Err(format!("dependency index entry {f:?}->{t:?} is stale"));
            }
        }
        Ok(())
    }
}
