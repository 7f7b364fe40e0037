//! The in-memory catalog: a materialized view of the event log.
//!
//! petgraph stays private; callers see names, digests and plain read models. Nodes are
//! components, component versions, images and teams; edges are `version_of`, `built_from` and
//! `owned_by`. Repository tags are kept beside the graph (they are labels on a digest, not
//! things). Every rule that decides whether an event changes state lives in `apply`, and it is
//! order-insensitive: an older event never overwrites newer state.

use crate::event::{Event, ImageRegistered, RecordedEvent};
use crate::identity::{compare_versions, labels};
use crate::model::{self, Platform};
use chrono::{DateTime, Utc};
use petgraph::stable_graph::{NodeIndex, StableDiGraph};
use petgraph::visit::EdgeRef;
use petgraph::Direction as PgDirection;
use std::collections::{BTreeMap, BTreeSet, HashMap};

mod applications;
mod blast;
mod bom;
mod declared;
mod drift;
mod inventory;
mod packages;
mod search;
mod snapshot;
mod vex;
mod vulns;
pub use blast::{
    BlastGroup, BlastItem, BlastRadius, BlastTarget, BlastThing, BlastTotals, PathStep,
};
pub use bom::{
    Bom, BomDiff, BomRoot, Change, DependencyEdge, DependencyMap, DependencyNode, Direction,
};
pub use drift::OBSERVERS;
pub use inventory::{
    valid_deployment_cursor, ConfigDifference, DeploymentFilter, InventoryScope, WhereIs,
};
pub use search::{SearchHit, SearchKind};
pub use snapshot::{SnapshotError, SnapshotInfo, SNAPSHOT_FORMAT};

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
enum Node {
    Component(ComponentNode),
    Version(VersionNode),
    Image(ImageNode),
    Team(TeamNode),
    Application(applications::AppNode),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
enum Edge {
    /// ComponentVersion -> Component
    VersionOf,
    /// ComponentVersion -> Image
    BuiltFrom,
    /// Component -> Team, Application -> Team
    OwnedBy,
    /// Component -> Component (a declared run-time dependency)
    DependsOn,
    /// Application -> Component (a member now)
    Includes,
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
struct TeamNode {
    name: String,
    #[serde(with = "crate::graph::snapshot::as_json")]
    contacts: crate::entity::Contacts,
    /// The (time, key) of the event that set `contacts`: the latest wins.
    contacts_rank: Option<(DateTime<Utc>, std::sync::Arc<str>)>,
    parent: Option<String>,
    title: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct ComponentNode {
    name: String,
    /// (declared beats label, then later beats earlier)
    owner_rank: Option<(bool, DateTime<Utc>)>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct VersionNode {
    component: String,
    version: String,
    digest: String,
    registry: String,
    repository: String,
    revision: Option<String>,
    source: Option<String>,
    created: Option<DateTime<Utc>>,
    pushed_at: DateTime<Utc>,
    /// Who pushed it (the first push's actor): separation of duties compares approvers with it.
    recorded_by: String,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct ImageNode {
    digest: String,
    media_type: String,
    size: i64,
    #[serde(with = "crate::graph::snapshot::as_json")]
    platforms: Vec<Platform>,
    labels: BTreeMap<String, String>,
    created: Option<DateTime<Utc>>,
}

/// A tag's state; `digest: None` is a tombstone, so a late push older than the delete loses.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct TagState {
    digest: Option<String>,
    since: DateTime<Utc>,
}

/// A digest in a repository: first and last push, last delete. Whether it is deleted, and
/// whether a tag pointing at it still stands, is derived from these maxima and minima at read
/// time, so no arrival order can leave a different answer.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
struct RepoImage {
    first_pushed: Option<DateTime<Utc>>,
    last_pushed: Option<DateTime<Utc>>,
    last_deleted: Option<DateTime<Utc>>,
}

impl RepoImage {
    fn deleted_at(&self) -> Option<DateTime<Utc>> {
        self.last_deleted
            .filter(|d| self.last_pushed.is_none_or(|p| *d >= p))
    }

    /// A tag set at `since` survives unless the manifest was deleted at or after it
    /// (deleting a manifest removes its tags; re-pushing by digest does not restore them).
    fn keeps_tag_since(&self, since: DateTime<Utc>) -> bool {
        self.last_deleted.is_none_or(|d| d < since)
    }
}

/// A (registry, repository) key borrowed for a lookup: hashed as the owned pair is, so
/// reading a repository's state allocates nothing.
#[derive(Hash)]
struct RepoKey<'a>(&'a str, &'a str);

impl hashbrown::Equivalent<(String, String)> for RepoKey<'_> {
    fn equivalent(&self, key: &(String, String)) -> bool {
        self.0 == key.0 && self.1 == key.1
    }
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
struct RepoState {
    tags: BTreeMap<String, TagState>,
    digests: HashMap<String, RepoImage>,
    /// digest -> tags whose state points at it (liveness still checked when read), so a
    /// version's tags cost the tags of its digest, not every tag of the repository.
    tags_of: HashMap<String, BTreeSet<String>>,
    /// Every observation of every tag, by time (`None`: deleted), so a deployment that names
    /// an image by tag resolves to what the tag meant when it was deployed.
    tag_history: HashMap<String, BTreeMap<DateTime<Utc>, Option<String>>>,
}

impl RepoState {
    /// Moves `tag` to `new` if `new` is not older than what it holds.
    fn set_tag(&mut self, tag: &str, new: TagState) {
        self.tag_history
            .entry(tag.to_string())
            .or_default()
            .entry(new.since)
            .and_modify(|d| {
                // Two observations at the same instant: keep the larger, whatever the order.
                if new.digest > *d {
                    d.clone_from(&new.digest);
                }
            })
            .or_insert_with(|| new.digest.clone());
        if let Some(cur) = self.tags.get(tag) {
            if cur.since > new.since {
                return;
            }
            if let Some(old) = &cur.digest {
                if let Some(set) = self.tags_of.get_mut(old) {
                    set.remove(tag);
                }
            }
        }
        if let Some(d) = &new.digest {
            self.tags_of
                .entry(d.clone())
                .or_default()
                .insert(tag.to_string());
        }
        self.tags.insert(tag.to_string(), new);
    }
}

/// One page of a keyset-paginated list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next: bool,
}

/// The catalog's current state, built by folding events.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Catalog {
    graph: StableDiGraph<Node, Edge>,
    components: BTreeMap<String, NodeIndex>,
    versions: HashMap<(String, String), NodeIndex>,
    images: HashMap<String, NodeIndex>,
    teams: BTreeMap<String, NodeIndex>,
    repos: hashbrown::HashMap<(String, String), RepoState>,
    /// Digest -> the repositories (any registry) holding it: derived from `repos` (which only
    /// ever gains digests), rebuilt when a snapshot is restored. Asking where an image runs
    /// scanned every repository before; a package report asks that once per image.
    #[serde(skip)]
    repos_of: HashMap<String, BTreeSet<String>>,
    /// Per-platform manifest digest -> the index digest holding it (Kubernetes reports either).
    platform_parent: HashMap<String, String>,
    inventory: inventory::Inventory,
    packages: packages::Packages,
    vulns: vulns::Vulns,
    vex: vex::Vex,
    search: search::SearchIndex,
    declared: declared::Declared,
    applications: BTreeMap<String, NodeIndex>,
    /// Approvals and policy sets (JSON in a snapshot: optional fields are skipped).
    #[serde(with = "crate::graph::snapshot::as_json")]
    governance: crate::governance::Governance,
    /// Configuration values per environment, cluster and namespace, with their history.
    configuration: crate::configuration::Configuration,
    /// Who hears which notifications.
    #[serde(with = "crate::graph::snapshot::as_json")]
    notification_rules: crate::notify::Rules,
    /// Live deployments indexed for blast radius; derived, rebuilt on first use after a change.
    #[serde(skip)]
    live: std::sync::OnceLock<std::sync::Arc<blast::LiveIndex>>,
    /// Live (not deleted) versions per component node; derived, rebuilt on first use after an
    /// event that can register, delete or re-own something (deployments, SBOMs, advisories and
    /// VEX cannot). Search ranks every matching component by it.
    #[serde(skip)]
    live_versions: std::sync::OnceLock<Vec<u32>>,
    last_seq: i64,
}

impl Catalog {
    pub fn new() -> Catalog {
        Catalog::default()
    }

    /// The highest event sequence number folded in so far.
    pub fn last_seq(&self) -> i64 {
        self.last_seq
    }

    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// Folds one recorded event in. Events at or below `last_seq` were seen already and are
    /// ignored, so tailing the log and applying in-process may overlap safely.
    pub fn apply(&mut self, rec: &RecordedEvent) {
        self.fold(rec);
        self.settle();
    }

    /// Folds many events, then brings derived state (application versions) up to date once.
    pub fn apply_all<'a>(&mut self, recs: impl IntoIterator<Item = &'a RecordedEvent>) {
        for rec in recs {
            self.fold(rec);
        }
        self.settle();
    }

    /// Recomputes what folding left stale: members and versions of the applications touched.
    fn settle(&mut self) {
        self.settle_applications();
    }

    fn fold(&mut self, rec: &RecordedEvent) {
        if rec.seq != 0 && rec.seq <= self.last_seq {
            return;
        }
        if !matches!(
            rec.event,
            Event::SbomAttached(_)
                | Event::VulnerabilityPublished(_)
                | Event::VexRecorded(_)
                | Event::ApprovalRecorded(_)
                | Event::PolicySetLoaded(_)
                | Event::CalendarEntryRecorded(_)
                | Event::CalendarEntryRemoved { .. }
                | Event::PolicyViolated(_)
                | Event::PolicyJudged(_)
                | Event::ConfigSet(_)
                | Event::NotificationRuleSet(_)
        ) {
            // What runs where, and what it resolves to, may have changed.
            self.live = std::sync::OnceLock::new();
            if !matches!(
                rec.event,
                Event::DeploymentObserved(_) | Event::ClusterSnapshot(_)
            ) {
                self.live_versions = std::sync::OnceLock::new();
            }
        }
        self.last_seq = self.last_seq.max(rec.seq);
        let t = rec.occurred_at;
        match &rec.event {
            Event::ImageRegistered(e) => self.image_registered(e, t, &rec.actor),
            Event::TagDeleted {
                registry,
                repository,
                tag,
            } => {
                self.repo(registry, repository).set_tag(
                    tag,
                    TagState {
                        digest: None,
                        since: t,
                    },
                );
            }
            Event::ManifestDeleted {
                registry,
                repository,
                digest,
            } => self.manifest_deleted(registry, repository, digest, t),
            Event::OwnerSet {
                component,
                team,
                via,
            } => self.set_owner(component, team, via != "label", t),
            Event::DeploymentObserved(d) => {
                self.search.add(SearchKind::Cluster, &d.cluster);
                self.inventory.observe(rec, d)
            }
            Event::ClusterSnapshot(s) => {
                self.search.add(SearchKind::Cluster, &s.cluster);
                self.inventory.snapshot(rec, s)
            }
            Event::SbomAttached(s) => self.sbom_attached(s, t, &rec.key),
            Event::VulnerabilityPublished(v) => self.vulnerability_published(v, t, &rec.key),
            Event::VexRecorded(d) => self.vex_recorded(d, rec.seq),
            Event::EntityDeclared(e) => self.entity_declared(e, t, &rec.key),
            Event::DependencyDeclared { from, to } => {
                self.dependency_event(from, to, true, t, &rec.key)
            }
            Event::DependencyRemoved { from, to } => {
                self.dependency_event(from, to, false, t, &rec.key)
            }
            Event::TeamContacts { team, contacts } => {
                self.set_contacts(team, contacts, t, &rec.key)
            }
            Event::ApplicationDeclared {
                application,
                components,
                owner,
            } => self.application_declared(application, components, owner.as_deref(), t, &rec.key),
            Event::ApprovalRecorded(a) => self.governance.approval(a, t, &rec.key),
            Event::PolicySetLoaded(p) => self.governance.policy_set(p, t, rec.seq, &rec.actor),
            Event::CalendarEntryRecorded(e) => self.governance.calendar_entry(e, t, &rec.actor),
            Event::CalendarEntryRemoved { id } => self.governance.calendar_removed(id),
            Event::PolicyViolated(v) => self.governance.violation(v, t, &rec.key),
            Event::PolicyJudged(j) => self.governance.judged(j),
            Event::ConfigSet(c) => self.configuration.record(c, t, &rec.key, &rec.actor),
            Event::NotificationRuleSet(r) => self.notification_rules.record(r, t, &rec.actor),
        }
    }

    /// The notification rules in force.
    pub fn notification_rules(&self) -> &crate::notify::Rules {
        &self.notification_rules
    }

    /// Approvals and policy sets.
    pub fn governance(&self) -> &crate::governance::Governance {
        &self.governance
    }

    /// Rebuilds `repos_of` from `repos` (after a snapshot is restored).
    fn index_repos(&mut self) {
        self.repos_of = self.repos_by_digest();
    }

    fn repos_by_digest(&self) -> HashMap<String, BTreeSet<String>> {
        let mut of: HashMap<String, BTreeSet<String>> = HashMap::new();
        for ((_, repository), r) in &self.repos {
            for d in r.digests.keys() {
                of.entry(d.clone()).or_default().insert(repository.clone());
            }
        }
        of
    }

    /// Records in `repos_of` that `repository` holds (an entry for) `digest`.
    fn note_repo_digest(&mut self, repository: &str, digest: &str) {
        if !self
            .repos_of
            .get(digest)
            .is_some_and(|r| r.contains(repository))
        {
            self.repos_of
                .entry(digest.to_string())
                .or_default()
                .insert(repository.to_string());
        }
    }

    fn repo(&mut self, registry: &str, repository: &str) -> &mut RepoState {
        self.repos
            .entry((registry.to_string(), repository.to_string()))
            .or_default()
    }

    fn image_registered(&mut self, e: &ImageRegistered, t: DateTime<Utc>, actor: &str) {
        let image = self.ensure_image(e);
        self.note_repo_digest(&e.repository, &e.digest);
        let repo = self.repo(&e.registry, &e.repository);
        let ri = repo.digests.entry(e.digest.clone()).or_default();
        ri.first_pushed = Some(ri.first_pushed.map_or(t, |p| p.min(t)));
        ri.last_pushed = Some(ri.last_pushed.map_or(t, |p| p.max(t)));
        if let Some(tag) = &e.tag {
            repo.set_tag(
                tag,
                TagState {
                    digest: Some(e.digest.clone()),
                    since: t,
                },
            );
        }
        let component = self.ensure_component(&e.component);
        if let Some(version) = &e.version {
            self.upsert_version(e, version, component, image, (t, actor));
        }
        if let Some(owner) = e.labels.get(labels::OWNER).map(|s| s.trim()) {
            if !owner.is_empty() {
                self.set_owner(&e.component, owner, false, t);
            }
        }
    }

    fn upsert_version(
        &mut self,
        e: &ImageRegistered,
        version: &str,
        component: NodeIndex,
        image: NodeIndex,
        (t, actor): (DateTime<Utc>, &str),
    ) {
        self.declared.component_changed(&e.component);
        let key = (e.component.clone(), version.to_string());
        let node = VersionNode {
            component: e.component.clone(),
            version: version.to_string(),
            digest: e.digest.clone(),
            registry: e.registry.clone(),
            repository: e.repository.clone(),
            revision: e.labels.get(labels::REVISION).cloned(),
            source: e.labels.get(labels::SOURCE).cloned(),
            created: e.created,
            pushed_at: t,
            recorded_by: actor.to_string(),
        };
        match self.versions.get(&key).copied() {
            None => {
                let idx = self.graph.add_node(Node::Version(node));
                self.graph.add_edge(idx, component, Edge::VersionOf);
                self.graph.add_edge(idx, image, Edge::BuiltFrom);
                self.versions.insert(key, idx);
            }
            Some(idx) => {
                let Some(Node::Version(cur)) = self.graph.node_weight_mut(idx) else {
                    return;
                };
                if cur.digest == node.digest {
                    // The same image again (another tag, a replay, a reconcile): keep the
                    // first push time.
                    if t < cur.pushed_at {
                        cur.pushed_at = t;
                        cur.recorded_by = actor.to_string();
                    }
                } else if cur.pushed_at <= t {
                    // The version was re-pushed with new content: it now points at the new image.
                    *cur = node;
                    let old: Vec<_> = self
                        .graph
                        .edges_directed(idx, PgDirection::Outgoing)
                        .filter(|er| *er.weight() == Edge::BuiltFrom)
                        .map(|er| er.id())
                        .collect();
                    for id in old {
                        self.graph.remove_edge(id);
                    }
                    self.graph.add_edge(idx, image, Edge::BuiltFrom);
                }
            }
        }
    }

    fn manifest_deleted(
        &mut self,
        registry: &str,
        repository: &str,
        digest: &str,
        t: DateTime<Utc>,
    ) {
        self.note_repo_digest(repository, digest);
        let ri = self
            .repo(registry, repository)
            .digests
            .entry(digest.to_string())
            .or_default();
        ri.last_deleted = Some(ri.last_deleted.map_or(t, |d| d.max(t)));
    }

    fn set_owner(&mut self, component: &str, team: &str, api: bool, t: DateTime<Utc>) {
        let c = self.ensure_component(component);
        // The team exists once named, whether or not this assignment wins (order-insensitive).
        let team = self.ensure_team(team);
        let rank = (api, t);
        let Some(Node::Component(node)) = self.graph.node_weight_mut(c) else {
            return;
        };
        if node.owner_rank.is_some_and(|cur| cur > rank) {
            return;
        }
        node.owner_rank = Some(rank);
        let old: Vec<_> = self
            .graph
            .edges_directed(c, PgDirection::Outgoing)
            .filter(|er| *er.weight() == Edge::OwnedBy)
            .map(|er| er.id())
            .collect();
        for id in old {
            self.graph.remove_edge(id);
        }
        self.graph.add_edge(c, team, Edge::OwnedBy);
    }

    fn ensure_component(&mut self, name: &str) -> NodeIndex {
        if let Some(i) = self.components.get(name) {
            return *i;
        }
        self.search.add(SearchKind::Component, name);
        let i = self.graph.add_node(Node::Component(ComponentNode {
            name: name.to_string(),
            owner_rank: None,
        }));
        self.components.insert(name.to_string(), i);
        i
    }

    fn ensure_team(&mut self, name: &str) -> NodeIndex {
        if let Some(i) = self.teams.get(name) {
            return *i;
        }
        self.search.add(SearchKind::Team, name);
        let i = self.graph.add_node(Node::Team(TeamNode {
            name: name.to_string(),
            ..TeamNode::default()
        }));
        self.teams.insert(name.to_string(), i);
        i
    }

    fn ensure_image(&mut self, e: &ImageRegistered) -> NodeIndex {
        if let Some(i) = self.images.get(&e.digest) {
            // Content-addressed: what a digest says never changes, but a first sighting by
            // a tag delete may have left the details empty.
            if let Some(Node::Image(img)) = self.graph.node_weight_mut(*i) {
                if img.platforms.is_empty() && !e.platforms.is_empty() {
                    img.platforms = e.platforms.clone();
                    for p in &e.platforms {
                        if p.digest != e.digest {
                            self.platform_parent
                                .insert(p.digest.clone(), e.digest.clone());
                        }
                    }
                }
            }
            return *i;
        }
        self.search.add(SearchKind::Image, &e.digest);
        let i = self.graph.add_node(Node::Image(ImageNode {
            digest: e.digest.clone(),
            media_type: e.media_type.clone(),
            size: e.size,
            platforms: e.platforms.clone(),
            labels: e.labels.clone(),
            created: e.created,
        }));
        self.images.insert(e.digest.clone(), i);
        self.packages.set_node(&e.digest, i);
        for p in &e.platforms {
            if p.digest != e.digest {
                self.platform_parent
                    .insert(p.digest.clone(), e.digest.clone());
            }
        }
        i
    }

    // ----- queries -----

    fn owner_of(&self, c: NodeIndex) -> Option<String> {
        self.graph
            .edges_directed(c, PgDirection::Outgoing)
            .find(|er| *er.weight() == Edge::OwnedBy)
            .and_then(|er| match self.graph.node_weight(er.target()) {
                Some(Node::Team(t)) => Some(t.name.clone()),
                _ => None,
            })
    }

    fn version_nodes(&self, c: NodeIndex) -> impl Iterator<Item = &VersionNode> {
        self.graph
            .edges_directed(c, PgDirection::Incoming)
            .filter(|er| *er.weight() == Edge::VersionOf)
            .filter_map(|er| match self.graph.node_weight(er.source()) {
                Some(Node::Version(v)) => Some(v),
                _ => None,
            })
    }

    fn component_at(&self, c: NodeIndex) -> Option<model::Component> {
        let Some(Node::Component(node)) = self.graph.node_weight(c) else {
            return None;
        };
        let live: Vec<&VersionNode> = self
            .version_nodes(c)
            .filter(|v| {
                self.deleted_at(&v.registry, &v.repository, &v.digest)
                    .is_none()
            })
            .collect();
        Some(model::Component {
            name: node.name.clone(),
            owner: self.owner_of(c),
            version_count: live.len(),
            latest_version: live
                .iter()
                .max_by(|a, b| compare_versions(&a.version, &b.version))
                .map(|v| v.version.clone()),
        })
    }

    /// How many versions of component `c` are not deleted (`component_at`'s `version_count`),
    /// from a table built once per change.
    fn live_version_count(&self, c: NodeIndex) -> usize {
        use petgraph::visit::NodeIndexable;
        let table = self.live_versions.get_or_init(|| {
            let mut t = vec![0u32; self.graph.node_bound()];
            for n in self.components.values() {
                if let Some(slot) = t.get_mut(n.index()) {
                    *slot = self
                        .version_nodes(*n)
                        .filter(|v| {
                            self.deleted_at(&v.registry, &v.repository, &v.digest)
                                .is_none()
                        })
                        .count() as u32;
                }
            }
            t
        });
        table.get(c.index()).map_or(0, |n| *n as usize)
    }

    /// Components by name prefix (and optionally owner), ordered by name, after a cursor.
    pub fn components(
        &self,
        prefix: &str,
        owner: Option<&str>,
        first: usize,
        after: Option<&str>,
    ) -> Page<model::Component> {
        let mut items = Vec::new();
        let mut has_next = false;
        let names: Box<dyn Iterator<Item = (&String, &NodeIndex)>> = match after {
            Some(a) if a >= prefix => Box::new(
                self.components
                    .range::<str, _>((std::ops::Bound::Excluded(a), std::ops::Bound::Unbounded)),
            ),
            _ => Box::new(self.components.range::<str, _>((
                std::ops::Bound::Included(prefix),
                std::ops::Bound::Unbounded,
            ))),
        };
        for (name, idx) in names {
            if !name.starts_with(prefix) {
                break;
            }
            if let Some(o) = owner {
                if self.owner_of(*idx).as_deref() != Some(o) {
                    continue;
                }
            }
            if items.len() == first {
                has_next = true;
                break;
            }
            if let Some(c) = self.component_at(*idx) {
                items.push(c);
            }
        }
        Page { items, has_next }
    }

    /// How many components [`Catalog::components`] pages through for `prefix` and `owner`.
    pub fn component_count(&self, prefix: &str, owner: Option<&str>) -> usize {
        self.components
            .range::<str, _>((
                std::ops::Bound::Included(prefix),
                std::ops::Bound::Unbounded,
            ))
            .take_while(|(name, _)| name.starts_with(prefix))
            .filter(|(_, idx)| owner.is_none_or(|o| self.owner_of(**idx).as_deref() == Some(o)))
            .count()
    }

    pub fn component(&self, name: &str) -> Option<model::Component> {
        self.components
            .get(name)
            .and_then(|i| self.component_at(*i))
    }

    /// The tags of a repository that stand now, `tag -> digest`.
    fn live_tags<'a>(
        &'a self,
        registry: &str,
        repository: &str,
    ) -> impl Iterator<Item = (&'a String, &'a String)> + 'a {
        self.repos
            .get(&RepoKey(registry, repository))
            .into_iter()
            .flat_map(|r| {
                r.tags.iter().filter_map(move |(tag, s)| {
                    let d = s.digest.as_ref()?;
                    let stands = r
                        .digests
                        .get(d)
                        .is_none_or(|ri| ri.keeps_tag_since(s.since));
                    stands.then_some((tag, d))
                })
            })
    }

    fn tags_for(&self, registry: &str, repository: &str, digest: &str) -> Vec<String> {
        let Some(r) = self.repos.get(&RepoKey(registry, repository)) else {
            return Vec::new();
        };
        let Some(tags) = r.tags_of.get(digest) else {
            return Vec::new();
        };
        let stands = r.digests.get(digest);
        tags.iter()
            .filter(|t| {
                r.tags.get(t.as_str()).is_some_and(|s| {
                    s.digest.as_deref() == Some(digest)
                        && stands.is_none_or(|ri| ri.keeps_tag_since(s.since))
                })
            })
            .cloned()
            .collect()
    }

    fn deleted_at(&self, registry: &str, repository: &str, digest: &str) -> Option<DateTime<Utc>> {
        self.repos
            .get(&RepoKey(registry, repository))
            .and_then(|r| r.digests.get(digest))
            .and_then(RepoImage::deleted_at)
    }

    fn platforms_of(&self, digest: &str) -> Vec<Platform> {
        match self
            .images
            .get(digest)
            .and_then(|i| self.graph.node_weight(*i))
        {
            Some(Node::Image(img)) => img.platforms.clone(),
            _ => Vec::new(),
        }
    }

    /// A component's versions, newest first (semver order where versions parse).
    pub fn versions(&self, component: &str, include_deleted: bool) -> Vec<model::ComponentVersion> {
        let Some(c) = self.components.get(component) else {
            return Vec::new();
        };
        let mut out: Vec<model::ComponentVersion> = self
            .version_nodes(*c)
            .filter(|v| {
                include_deleted
                    || self
                        .deleted_at(&v.registry, &v.repository, &v.digest)
                        .is_none()
            })
            .map(|v| self.version_model(v))
            .collect();
        out.sort_by(|a, b| compare_versions(&b.version, &a.version));
        out
    }

    pub fn version(&self, component: &str, version: &str) -> Option<model::ComponentVersion> {
        let idx = self
            .versions
            .get(&(component.to_string(), version.to_string()))?;
        match self.graph.node_weight(*idx) {
            Some(Node::Version(v)) => Some(self.version_model(v)),
            _ => None,
        }
    }

    fn version_model(&self, v: &VersionNode) -> model::ComponentVersion {
        model::ComponentVersion {
            component: v.component.clone(),
            version: v.version.clone(),
            digest: v.digest.clone(),
            registry: v.registry.clone(),
            repository: v.repository.clone(),
            tags: self.tags_for(&v.registry, &v.repository, &v.digest),
            revision: v.revision.clone(),
            source: v.source.clone(),
            created: v.created,
            pushed_at: v.pushed_at,
            recorded_by: v.recorded_by.clone(),
            deleted_at: self.deleted_at(&v.registry, &v.repository, &v.digest),
            platforms: self.platforms_of(&v.digest),
        }
    }

    /// What an image's manifest and config say (content-addressed, so never stale), without
    /// the per-repository view [`Catalog::image`] builds.
    pub fn image_content(&self, digest: &str) -> Option<model::ImageContent> {
        match self
            .images
            .get(digest)
            .and_then(|i| self.graph.node_weight(*i))
        {
            Some(Node::Image(img)) => Some(model::ImageContent {
                media_type: img.media_type.clone(),
                size: img.size,
                platforms: img.platforms.clone(),
                labels: img.labels.clone(),
                created: img.created,
            }),
            _ => None,
        }
    }

    /// An image by digest, with every repository holding it and the tags there.
    pub fn image(&self, digest: &str) -> Option<model::Image> {
        let Some(Node::Image(img)) = self
            .images
            .get(digest)
            .and_then(|i| self.graph.node_weight(*i))
        else {
            // An SBOM may name an image before any registry reports it.
            return self.has_sbom(digest).then(|| model::Image {
                digest: digest.to_string(),
                media_type: String::new(),
                size: 0,
                platforms: Vec::new(),
                labels: BTreeMap::new(),
                created: None,
                repositories: Vec::new(),
                registered: false,
            });
        };
        let mut repositories: Vec<model::ImageRepository> = self
            .repos
            .iter()
            .filter_map(|((registry, repository), r)| {
                r.digests.get(digest).and_then(|ri| {
                    Some(model::ImageRepository {
                        registry: registry.clone(),
                        repository: repository.clone(),
                        tags: self.tags_for(registry, repository, digest),
                        pushed_at: ri.first_pushed?,
                        deleted_at: ri.deleted_at(),
                    })
                })
            })
            .collect();
        repositories
            .sort_by(|a, b| (&a.registry, &a.repository).cmp(&(&b.registry, &b.repository)));
        Some(model::Image {
            digest: img.digest.clone(),
            media_type: img.media_type.clone(),
            size: img.size,
            platforms: img.platforms.clone(),
            labels: img.labels.clone(),
            created: img.created,
            repositories,
            registered: true,
        })
    }

    /// The component versions built from an image.
    pub fn image_versions(&self, digest: &str) -> Vec<model::ComponentVersion> {
        let Some(i) = self.images.get(digest) else {
            return Vec::new();
        };
        let mut out: Vec<model::ComponentVersion> = self
            .graph
            .edges_directed(*i, PgDirection::Incoming)
            .filter(|er| *er.weight() == Edge::BuiltFrom)
            .filter_map(|er| match self.graph.node_weight(er.source()) {
                Some(Node::Version(v)) => Some(self.version_model(v)),
                _ => None,
            })
            .collect();
        out.sort_by(|a, b| (&a.component, &a.version).cmp(&(&b.component, &b.version)));
        out
    }

    /// What a repository's tags point at now (`tag -> digest`); the reconcile loop diffs
    /// the registry against this.
    pub fn repository_tags(&self, registry: &str, repository: &str) -> BTreeMap<String, String> {
        self.live_tags(registry, repository)
            .map(|(t, d)| (t.clone(), d.clone()))
            .collect()
    }

    /// Repositories of a registry the catalog has seen.
    pub fn repositories(&self, registry: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .repos
            .keys()
            .filter(|(r, _)| r == registry)
            .map(|(_, repo)| repo.clone())
            .collect();
        v.sort();
        v
    }

    /// When a tag's current state was set (the reconcile loop keys its observations by it).
    pub fn tag_since(&self, registry: &str, repository: &str, tag: &str) -> Option<DateTime<Utc>> {
        self.repos
            .get(&RepoKey(registry, repository))
            .and_then(|r| r.tags.get(tag))
            .map(|s| s.since)
    }

    /// True when the image's manifest and config were fetched before (digests are immutable,
    /// so the worker never fetches them again).
    pub fn knows_image(&self, digest: &str) -> bool {
        self.images.contains_key(digest)
    }

    fn team_at(&self, idx: NodeIndex) -> Option<model::Team> {
        let Some(Node::Team(team)) = self.graph.node_weight(idx) else {
            return None;
        };
        let mut components: Vec<String> = self
            .graph
            .edges_directed(idx, PgDirection::Incoming)
            .filter(|er| *er.weight() == Edge::OwnedBy)
            .filter_map(|er| match self.graph.node_weight(er.source()) {
                Some(Node::Component(c)) => Some(c.name.clone()),
                _ => None,
            })
            .collect();
        components.sort();
        Some(model::Team {
            name: team.name.clone(),
            components,
            contacts: team.contacts.clone(),
            parent: team.parent.clone(),
            title: team.title.clone(),
        })
    }

    pub fn teams(&self, first: usize, after: Option<&str>) -> Page<model::Team> {
        let iter: Box<dyn Iterator<Item = (&String, &NodeIndex)>> = match after {
            Some(a) => Box::new(
                self.teams
                    .range::<str, _>((std::ops::Bound::Excluded(a), std::ops::Bound::Unbounded)),
            ),
            None => Box::new(self.teams.iter()),
        };
        let mut items = Vec::new();
        let mut has_next = false;
        for (_, idx) in iter {
            if items.len() == first {
                has_next = true;
                break;
            }
            if let Some(t) = self.team_at(*idx) {
                items.push(t);
            }
        }
        Page { items, has_next }
    }

    pub fn team_count(&self) -> usize {
        self.teams.len()
    }

    pub fn team(&self, name: &str) -> Option<model::Team> {
        self.teams.get(name).and_then(|i| self.team_at(*i))
    }

    /// Checks the graph's invariants; tests call it after every fold.
    #[doc(hidden)]
    pub fn verify(&self) -> Result<(), String> {
        if self.repos_by_digest() != self.repos_of {
            return Err("the digest -> repositories index differs from the repositories".into());
        }
        for ((registry, repo), r) in &self.repos {
            for (tag, st) in &r.tags {
                if let Some(d) = &st.digest {
                    if !r.tags_of.get(d).is_some_and(|set| set.contains(tag)) {
                        return Err(format!(
                            "{registry}/{repo}:{tag} missing from the digest index"
                        ));
                    }
                }
            }
            for (d, set) in &r.tags_of {
                for tag in set {
                    if r.tags.get(tag).and_then(|s| s.digest.as_ref()) != Some(d) {
                        return Err(format!(
                            "{registry}/{repo}:{tag} indexed under a stale digest"
                        ));
                    }
                }
            }
        }
        for idx in self.graph.node_indices() {
            let out = |w: Edge| {
                self.graph
                    .edges_directed(idx, PgDirection::Outgoing)
                    .filter(|e| *e.weight() == w)
                    .count()
            };
            match &self.graph[idx] {
                Node::Version(v) => {
                    if out(Edge::VersionOf) != 1 || out(Edge::BuiltFrom) != 1 {
                        return Err(format!(
                            "version {}@{} lacks its edges",
                            v.component, v.version
                        ));
                    }
                    let built = self
                        .graph
                        .edges_directed(idx, PgDirection::Outgoing)
                        .find(|e| *e.weight() == Edge::BuiltFrom)
                        .map(|e| e.target());
                    match built.map(|b| &self.graph[b]) {
                        Some(Node::Image(i)) if i.digest == v.digest => {}
                        _ => {
                            return Err(format!("version {} points at the wrong image", v.version))
                        }
                    }
                }
                Node::Component(c) => {
                    if out(Edge::OwnedBy) > 1 {
                        return Err(format!("component {} has two owners", c.name));
                    }
                }
                Node::Image(_) | Node::Team(_) | Node::Application(_) => {}
            }
            for e in self.graph.edges_directed(idx, PgDirection::Outgoing) {
                let ok = matches!(
                    (e.weight(), &self.graph[idx], &self.graph[e.target()]),
                    (Edge::VersionOf, Node::Version(_), Node::Component(_))
                        | (Edge::BuiltFrom, Node::Version(_), Node::Image(_))
                        | (
                            Edge::OwnedBy,
                            Node::Component(_) | Node::Application(_),
                            Node::Team(_)
                        )
                        | (Edge::DependsOn, Node::Component(_), Node::Component(_))
                        | (Edge::Includes, Node::Application(_), Node::Component(_))
                );
                if !ok || (e.weight() == &Edge::DependsOn && e.target() == idx) {
                    return Err(format!(
                        "edge {:?} from {idx:?} joins the wrong kinds",
                        e.weight()
                    ));
                }
            }
        }
        self.verify_declared()?;
        self.verify_applications()?;
        self.verify_inventory()?;
        self.verify_packages()
    }
}
