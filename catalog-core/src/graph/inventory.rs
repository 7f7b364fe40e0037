//! The inventory: what runs where, now and at any moment in the past.
//!
//! Each workload (cluster, namespace, name) keeps every observation a deploy tool made of it,
//! ordered by (time, event key), and each cluster keeps the times of its full snapshots. The
//! state at a moment is a pure function of those sets, so no arrival order and no replay can
//! change an answer:
//! - the workload's last observation at or before the moment says what runs, unless it is
//!   `removed`, or a cluster snapshot taken after it (and not later than the moment) did not
//!   list the workload (a snapshot that lists it adds an observation at its own time);
//! - a deployment is a run of consecutive observations with the same identity (what runs,
//!   compared by version tag, else digest), unbroken by a removal or a snapshot gap. Its start
//!   keys are maintained as observations arrive: whether an observation starts a deployment
//!   depends only on its predecessor and the snapshots between them.
//!
//! What an image reference means (digest, component, version, owner) is resolved when read,
//! against the catalog as it is then: an image deployed before the catalog saw it is linked as
//! soon as it is registered, and a tag resolves to what it pointed at when it was deployed.

use super::{Catalog, Node, Page};
use crate::deployment::{ClusterSnapshot, DeploymentObserved, DeploymentStatus, Run, Track};
use crate::event::RecordedEvent;
use crate::identity::is_version_tag;
use crate::model;
use chrono::{DateTime, Utc};
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::ops::Bound;
use std::sync::Arc;

type Micros = i64;
/// Orders observations by time, then by event key, so equal times fold the same way whatever
/// the arrival order.
type ObsKey = (Micros, Arc<str>);
type WorkloadId = u32;

fn micros(t: DateTime<Utc>) -> Micros {
    t.timestamp_micros()
}

fn time(m: Micros) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(m).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The smallest key at time `t` (the empty key sorts first).
fn at_start(t: Micros) -> ObsKey {
    (t, Arc::from(""))
}

/// Which workloads to look at: all of an environment, a cluster, a namespace (in one cluster,
/// or in every cluster when no cluster is given), or everything when all are `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InventoryScope {
    pub environment: Option<String>,
    pub cluster: Option<String>,
    pub namespace: Option<String>,
}

/// What `where_is` looks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WhereIs {
    Component(String),
    Version {
        component: String,
        version: String,
    },
    /// An image digest (an index or one of its platform manifests).
    Image(String),
}

/// Filters of the deployment history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeploymentFilter {
    pub scope: InventoryScope,
    pub workload: Option<String>,
    pub component: Option<String>,
}

/// One report on a workload (see [`Catalog::observed_history`]).
pub(super) struct Observation {
    pub at: DateTime<Utc>,
    pub source: String,
    pub actor: String,
    pub runs: Vec<model::RunningImage>,
}

/// A deployment and the reports that made it up.
pub(super) struct ObservedDeployment {
    pub workload: usize,
    pub deployment: model::Deployment,
    pub observations: Vec<Observation>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Obs {
    status: DeploymentStatus,
    replicas: Option<i32>,
    #[serde(with = "crate::graph::snapshot::as_json")]
    runs: Arc<[Run]>,
    revision: Option<String>,
    url: Option<String>,
    source: Arc<str>,
    actor: Arc<str>,
    /// What runs, hashed: equal identities continue one deployment.
    ident: u64,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Workload {
    cluster: Arc<str>,
    namespace: String,
    name: String,
    timeline: BTreeMap<ObsKey, Obs>,
    /// Keys of the observations that start a deployment (or a removal).
    starts: BTreeSet<ObsKey>,
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct ClusterState {
    /// The environment the latest event named (time, name); configuration overrides it.
    environment: Option<(Micros, String)>,
    snapshots: BTreeSet<ObsKey>,
    workloads: BTreeMap<(String, String), WorkloadId>,
    last_seen: Micros,
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(super) struct Inventory {
    clusters: BTreeMap<String, ClusterState>,
    workloads: Vec<Workload>,
    ids: HashMap<(Arc<str>, String, String), WorkloadId>,
    /// Explicit component names and image repository paths -> workloads that ever ran them.
    by_name: HashMap<String, BTreeSet<WorkloadId>>,
    by_digest: HashMap<String, BTreeSet<WorkloadId>>,
    /// Every deployment start, for the history across workloads.
    starts: BTreeSet<(Micros, Arc<str>, WorkloadId)>,
    /// cluster -> environment, from configuration (not the log's: never in a snapshot).
    #[serde(skip)]
    configured: HashMap<String, String>,
}

fn run_ident(run: &Run) -> String {
    match &run.image {
        Some(img) => {
            let repo = format!("{}/{}", img.registry, img.repository);
            // A version tag names what runs (and Argo reports tags where Kubernetes adds
            // digests); a moving tag does not, so its digest does when known.
            match (
                img.tag.as_deref().filter(|t| is_version_tag(t)),
                &img.digest,
            ) {
                (Some(t), _) => format!("{repo}:{t}"),
                (None, Some(d)) => format!("{repo}@{d}"),
                (None, None) => format!("{repo}:{}", img.tag.as_deref().unwrap_or("latest")),
            }
        }
        None => format!(
            "{}@{}",
            run.component.as_deref().unwrap_or(""),
            run.version.as_deref().unwrap_or("")
        ),
    }
}

/// What a report deploys: its runs, less the stable side of a canary rollout (the version
/// the rollout moves away from), so 10%, 50% and 100% of one canary are one deployment.
fn target(runs: &[Run]) -> impl Iterator<Item = &Run> {
    let canary = runs.iter().any(|r| r.track != Some(Track::Stable));
    runs.iter()
        .filter(move |r| !canary || r.track != Some(Track::Stable))
}

fn ident(status: DeploymentStatus, runs: &[Run]) -> u64 {
    idents(status, target(runs))
}

/// The identity of a canary's stable side (`None` without one): a report whose identity
/// equals it returns to the stable version, the canary's recovery.
fn stable_ident(runs: &[Run]) -> Option<u64> {
    let stable = || runs.iter().filter(|r| r.track == Some(Track::Stable));
    let canary = runs.iter().any(|r| r.track != Some(Track::Stable));
    (canary && stable().next().is_some()).then(|| idents(DeploymentStatus::Healthy, stable()))
}

fn idents<'a>(status: DeploymentStatus, runs: impl Iterator<Item = &'a Run>) -> u64 {
    let mut ids: Vec<String> = runs.map(run_ident).collect();
    ids.sort();
    ids.dedup();
    let mut h = DefaultHasher::new();
    (status == DeploymentStatus::Removed).hash(&mut h);
    ids.hash(&mut h);
    h.finish()
}

impl Inventory {
    pub(super) fn configure(&mut self, environments: HashMap<String, String>) {
        self.configured = environments;
    }

    fn environment_of(&self, cluster: &str) -> Option<String> {
        self.configured.get(cluster).cloned().or_else(|| {
            self.clusters
                .get(cluster)
                .and_then(|c| c.environment.as_ref())
                .map(|(_, e)| e.clone())
        })
    }

    fn cluster_mut(&mut self, name: &str, env: Option<&str>, t: Micros) -> &mut ClusterState {
        let c = self.clusters.entry(name.to_string()).or_default();
        c.last_seen = c.last_seen.max(t);
        if let Some(env) = env.map(str::trim).filter(|e| !e.is_empty()) {
            let cand = (t, env.to_string());
            if c.environment.as_ref().is_none_or(|cur| *cur < cand) {
                c.environment = Some(cand);
            }
        }
        c
    }

    fn workload_id(&mut self, cluster: &str, namespace: &str, name: &str) -> WorkloadId {
        let key = (Arc::from(cluster), namespace.to_string(), name.to_string());
        if let Some(id) = self.ids.get(&key) {
            return *id;
        }
        let id = self.workloads.len() as WorkloadId;
        self.workloads.push(Workload {
            cluster: key.0.clone(),
            namespace: namespace.to_string(),
            name: name.to_string(),
            timeline: BTreeMap::new(),
            starts: BTreeSet::new(),
        });
        self.clusters
            .entry(cluster.to_string())
            .or_default()
            .workloads
            .insert((namespace.to_string(), name.to_string()), id);
        self.ids.insert(key, id);
        id
    }

    pub(super) fn observe(&mut self, rec: &RecordedEvent, d: &DeploymentObserved) {
        let t = micros(rec.occurred_at);
        self.cluster_mut(&d.cluster, d.environment.as_deref(), t);
        let key: ObsKey = (t, Arc::from(rec.key.as_str()));
        self.insert(rec, &d.cluster, d, key);
    }

    pub(super) fn snapshot(&mut self, rec: &RecordedEvent, s: &ClusterSnapshot) {
        let t = micros(rec.occurred_at);
        let key: ObsKey = (t, Arc::from(rec.key.as_str()));
        let cluster = self.cluster_mut(&s.cluster, s.environment.as_deref(), t);
        if !cluster.snapshots.insert(key.clone()) {
            return; // a replay
        }
        let mut present = HashSet::new();
        for w in &s.workloads {
            present.insert((w.namespace.clone(), w.workload.clone()));
            self.insert(rec, &s.cluster, w, key.clone());
        }
        // Workloads it does not list ended at `t`: the observation after it (if any) now
        // starts a new deployment.
        let absent: Vec<WorkloadId> = self
            .clusters
            .get(&s.cluster)
            .map(|c| {
                c.workloads
                    .iter()
                    .filter(|(k, _)| !present.contains(*k))
                    .map(|(_, id)| *id)
                    .collect()
            })
            .unwrap_or_default();
        for id in absent {
            let next = self.workloads[id as usize]
                .timeline
                .range(at_start(t + 1)..)
                .next()
                .map(|(k, _)| k.clone());
            if let Some(k) = next {
                self.restart(id, &k);
            }
        }
    }

    fn insert(&mut self, rec: &RecordedEvent, cluster: &str, d: &DeploymentObserved, key: ObsKey) {
        let id = self.workload_id(cluster, &d.namespace, &d.workload);
        if self.workloads[id as usize].timeline.contains_key(&key) {
            return; // a replay
        }
        for run in &d.runs {
            if let Some(c) = &run.component {
                self.by_name.entry(c.clone()).or_default().insert(id);
            }
            if let Some(img) = &run.image {
                self.by_name
                    .entry(img.repository.clone())
                    .or_default()
                    .insert(id);
                if let Some(dg) = &img.digest {
                    self.by_digest.entry(dg.clone()).or_default().insert(id);
                }
            }
        }
        let obs = Obs {
            status: d.status,
            replicas: d.replicas,
            runs: d.runs.clone().into(),
            revision: d.revision.clone(),
            url: d.url.clone(),
            source: Arc::from(rec.source.as_str()),
            actor: Arc::from(rec.actor.as_str()),
            ident: ident(d.status, &d.runs),
        };
        let w = &mut self.workloads[id as usize];
        w.timeline.insert(key.clone(), obs);
        let next = w
            .timeline
            .range((Bound::Excluded(&key), Bound::Unbounded))
            .next()
            .map(|(k, _)| k.clone());
        self.restart(id, &key);
        if let Some(n) = next {
            self.restart(id, &n);
        }
    }

    /// Recomputes whether the observation at `key` starts a deployment: it does unless its
    /// predecessor runs the same thing, is not a removal, and no snapshot between them
    /// missed the workload.
    fn restart(&mut self, id: WorkloadId, key: &ObsKey) {
        let w = &self.workloads[id as usize];
        let Some(cur) = w.timeline.get(key) else {
            return;
        };
        let starts = match w.timeline.range(..key.clone()).next_back() {
            None => true,
            Some((pk, prev)) => {
                prev.status == DeploymentStatus::Removed
                    || cur.status == DeploymentStatus::Removed
                    || prev.ident != cur.ident
                    || self
                        .clusters
                        .get(&*w.cluster)
                        .and_then(|c| c.snapshots.range(at_start(pk.0 + 1)..).next())
                        .is_some_and(|s| s.0 < key.0)
            }
        };
        let w = &mut self.workloads[id as usize];
        let entry = (key.0, key.1.clone(), id);
        if starts {
            w.starts.insert(key.clone());
            self.starts.insert(entry);
        } else {
            w.starts.remove(key);
            self.starts.remove(&entry);
        }
    }

    /// The first snapshot of the workload's cluster strictly after `t`: if no observation of
    /// the workload comes before it, the workload ended then.
    fn snapshot_after(&self, w: &Workload, t: Micros) -> Option<Micros> {
        self.clusters
            .get(&*w.cluster)
            .and_then(|c| c.snapshots.range(at_start(t + 1)..).next())
            .map(|s| s.0)
    }

    /// The observation saying what runs at `t`, if the workload is live then.
    fn state_at(&self, id: WorkloadId, t: Micros) -> Option<(&ObsKey, &Obs)> {
        let w = &self.workloads[id as usize];
        let (k, o) = w
            .timeline
            .range(..at_start(t.saturating_add(1)))
            .next_back()?;
        if o.status == DeploymentStatus::Removed {
            return None;
        }
        if self.snapshot_after(w, k.0).is_some_and(|s| s <= t) {
            return None;
        }
        Some((k, o))
    }

    /// The deployment containing observation `k`: its start and its end.
    fn interval(&self, id: WorkloadId, k: &ObsKey) -> Option<(&ObsKey, Option<Micros>)> {
        let w = &self.workloads[id as usize];
        let start = w.starts.range(..=k.clone()).next_back()?;
        let next = w
            .starts
            .range((Bound::Excluded(start), Bound::Unbounded))
            .next();
        let last = match next {
            Some(n) => w.timeline.range(start.clone()..n.clone()).next_back(),
            None => w.timeline.range(start.clone()..).next_back(),
        }?;
        let gap = self.snapshot_after(w, last.0 .0);
        let until = match (gap, next) {
            (Some(g), Some(n)) => Some(g.min(n.0)),
            (Some(g), None) => Some(g),
            (None, Some(n)) => Some(n.0),
            (None, None) => None,
        };
        Some((start, until))
    }

    /// True when the deployment starting at `start` is a canary's stable version left
    /// running alone (the canary aborted): the report before it ran that version as the
    /// stable side of a canary, and nothing ended the workload between them.
    fn recovers_canary(&self, w: &Workload, start: &ObsKey) -> bool {
        let Some(cur) = w.timeline.get(start) else {
            return false;
        };
        let Some((pk, prev)) = w.timeline.range(..start.clone()).next_back() else {
            return false;
        };
        cur.status != DeploymentStatus::Removed
            && prev.status != DeploymentStatus::Removed
            && stable_ident(&prev.runs) == Some(cur.ident)
            && self.snapshot_after(w, pk.0).is_none_or(|s| s >= start.0)
    }

    fn scope_workloads(&self, scope: &InventoryScope) -> Vec<WorkloadId> {
        let mut out = Vec::new();
        for (name, c) in &self.clusters {
            if scope.cluster.as_ref().is_some_and(|s| s != name) {
                continue;
            }
            if let Some(env) = &scope.environment {
                if self.environment_of(name).as_ref() != Some(env) {
                    continue;
                }
            }
            match &scope.namespace {
                Some(ns) => out.extend(
                    c.workloads
                        .range((ns.clone(), String::new())..)
                        .take_while(|((n, _), _)| n == ns)
                        .map(|(_, id)| *id),
                ),
                None => out.extend(c.workloads.values().copied()),
            }
        }
        out
    }

    fn in_scope(&self, id: WorkloadId, scope: &InventoryScope) -> bool {
        let w = &self.workloads[id as usize];
        scope.cluster.as_ref().is_none_or(|c| **c == *w.cluster)
            && scope.namespace.as_ref().is_none_or(|n| *n == w.namespace)
            && scope
                .environment
                .as_ref()
                .is_none_or(|e| self.environment_of(&w.cluster).as_ref() == Some(e))
    }
}

fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * (sorted.len() - 1) as f64).round() as usize;
    sorted.get(rank.min(sorted.len() - 1)).copied()
}

impl Catalog {
    /// Maps clusters to environments (configuration beats what events say).
    pub fn set_cluster_environments(&mut self, environments: HashMap<String, String>) {
        self.inventory.configure(environments);
        // The blast radius's live index holds each deployment's environment.
        self.live = std::sync::OnceLock::new();
    }

    fn tag_at(&self, registry: &str, repository: &str, tag: &str, t: Micros) -> Option<String> {
        let history = self
            .repos
            .get(&super::RepoKey(registry, repository))?
            .tag_history
            .get(tag)?;
        let t = time(t);
        // What the tag meant then; deployed "before" the push (clocks differ): its first value.
        history
            .range(..=t)
            .next_back()
            .or_else(|| history.iter().next())
            .and_then(|(_, d)| d.clone())
    }

    fn resolve(&self, run: &Run, t: Micros, revision: Option<&str>) -> model::RunningImage {
        let mut digest = run.image.as_ref().and_then(|i| i.digest.clone());
        if let Some(d) = &digest {
            if let Some(parent) = self.platform_parent.get(d) {
                digest = Some(parent.clone());
            }
        }
        if digest.is_none() {
            if let Some(img) = &run.image {
                if let Some(tag) = &img.tag {
                    digest = self.tag_at(&img.registry, &img.repository, tag, t);
                }
            }
        }
        let mut component = None;
        let mut version = None;
        if let (Some(c), Some(v)) = (&run.component, &run.version) {
            component = Some(c.clone());
            version = Some(v.clone());
            if digest.is_none() {
                if let Some(Node::Version(vn)) = self
                    .versions
                    .get(&(c.clone(), v.clone()))
                    .and_then(|i| self.graph.node_weight(*i))
                {
                    digest = Some(vn.digest.clone());
                }
            }
        } else if let Some(d) = &digest {
            let versions = self.image_version_nodes(d);
            let repo = run.image.as_ref().map(|i| i.repository.as_str());
            let pick = versions
                .iter()
                .find(|v| run.component.as_deref() == Some(v.component.as_str()))
                .or_else(|| {
                    versions
                        .iter()
                        .find(|v| Some(v.repository.as_str()) == repo)
                })
                .or_else(|| versions.first());
            if let Some(v) = pick {
                component = Some(v.component.clone());
                version = Some(v.version.clone());
            }
        }
        if component.is_none() {
            component = run
                .component
                .clone()
                .or_else(|| run.image.as_ref().map(|i| i.repository.clone()));
            version = run.version.clone().or_else(|| {
                run.image
                    .as_ref()
                    .and_then(|i| i.tag.clone())
                    .filter(|t| is_version_tag(t))
            });
        }
        // A named component without a version: the one built from the deployed revision.
        if let (Some(c), None, Some(rev)) = (&component, &version, revision) {
            if let Some(ci) = self.components.get(c) {
                if let Some(v) = self.version_nodes(*ci).find(|v| {
                    v.revision.as_deref().is_some_and(|r| {
                        !rev.is_empty() && (r.starts_with(rev) || rev.starts_with(r))
                    })
                }) {
                    version = Some(v.version.clone());
                    digest = digest.or_else(|| Some(v.digest.clone()));
                }
            }
        }
        let known = digest.as_ref().is_some_and(|d| self.images.contains_key(d));
        let owner = component
            .as_ref()
            .and_then(|c| self.components.get(c))
            .and_then(|i| self.owner_of(*i));
        model::RunningImage {
            container: run.container.clone(),
            reference: run.image.as_ref().map(|i| i.to_string()),
            digest,
            component,
            version,
            owner,
            known,
            traffic: run.traffic,
            track: run.track,
        }
    }

    fn image_version_nodes(&self, digest: &str) -> Vec<&super::VersionNode> {
        use petgraph::visit::EdgeRef;
        let Some(i) = self.images.get(digest) else {
            return Vec::new();
        };
        let mut v: Vec<&super::VersionNode> = self
            .graph
            .edges_directed(*i, petgraph::Direction::Incoming)
            .filter(|er| *er.weight() == super::Edge::BuiltFrom)
            .filter_map(|er| match self.graph.node_weight(er.source()) {
                Some(Node::Version(v)) => Some(v),
                _ => None,
            })
            .collect();
        v.sort_by(|a, b| (&a.component, &a.version).cmp(&(&b.component, &b.version)));
        v
    }

    /// The deployment observation `k` of workload `id` belongs to, as of observation `o`.
    fn deployment_model(&self, id: WorkloadId, k: &ObsKey, o: &Obs) -> Option<model::Deployment> {
        let inv = &self.inventory;
        let w = &inv.workloads[id as usize];
        let (start, until) = inv.interval(id, k)?;
        let first = w.timeline.get(start)?;
        Some(model::Deployment {
            environment: inv.environment_of(&w.cluster),
            cluster: w.cluster.to_string(),
            namespace: w.namespace.clone(),
            workload: w.name.clone(),
            since: time(start.0),
            until: until.map(time),
            status: o.status,
            reported_at: time(k.0),
            replicas: o.replicas,
            runs: o
                .runs
                .iter()
                .map(|r| self.resolve(r, k.0, o.revision.as_deref()))
                .collect(),
            source: first.source.to_string(),
            actor: first.actor.to_string(),
            revision: o.revision.clone(),
            url: o.url.clone().or_else(|| first.url.clone()),
            id: format!("{}/{}/{}#{}", w.cluster, w.namespace, w.name, start.1),
        })
    }

    /// Every deployment in `scope`, as [`Catalog::deployments`] gives it, each with the
    /// observations that made it up, oldest first: when, which source and actor, and what
    /// ran (resolved). Grouped by workload (the `usize`: one number per workload).
    pub(super) fn observed_history(&self, scope: &InventoryScope) -> Vec<ObservedDeployment> {
        let inv = &self.inventory;
        let mut out = Vec::new();
        for id in inv.scope_workloads(scope) {
            let w = &inv.workloads[id as usize];
            for start in &w.starts {
                let Some(entry) = self.history_entry(id, start) else {
                    continue;
                };
                let next = w
                    .starts
                    .range((Bound::Excluded(start), Bound::Unbounded))
                    .next();
                let range: Vec<(&ObsKey, &Obs)> = match next {
                    Some(n) => w.timeline.range(start.clone()..n.clone()).collect(),
                    None => w.timeline.range(start.clone()..).collect(),
                };
                let observations = range
                    .into_iter()
                    .map(|(k, o)| Observation {
                        at: time(k.0),
                        source: o.source.to_string(),
                        actor: o.actor.to_string(),
                        runs: o
                            .runs
                            .iter()
                            .map(|r| self.resolve(r, k.0, o.revision.as_deref()))
                            .collect(),
                    })
                    .collect();
                out.push(ObservedDeployment {
                    workload: id as usize,
                    deployment: entry,
                    observations,
                });
            }
        }
        out
    }

    /// The deployment live in a workload at `at` (now when `None`).
    fn live(&self, id: WorkloadId, at: Micros) -> Option<model::Deployment> {
        let (k, o) = self.inventory.state_at(id, at)?;
        self.deployment_model(id, k, o)
    }

    /// What runs in a scope at `at` (now when `None`), by cluster, namespace and workload.
    pub fn inventory(
        &self,
        scope: &InventoryScope,
        at: Option<DateTime<Utc>>,
    ) -> Vec<model::Deployment> {
        let t = at.map_or(Micros::MAX, micros);
        self.inventory
            .scope_workloads(scope)
            .into_iter()
            .filter_map(|id| self.live(id, t))
            .collect()
    }

    /// One page of [`Catalog::inventory`] (`first` after `offset`, in the same order) and how
    /// many there are in all: every workload's state at `at` is looked up, but only the
    /// page's deployments are built (runs resolved, strings copied).
    pub fn inventory_page(
        &self,
        scope: &InventoryScope,
        at: Option<DateTime<Utc>>,
        offset: usize,
        first: usize,
    ) -> (usize, Vec<model::Deployment>) {
        let t = at.map_or(Micros::MAX, micros);
        let inv = &self.inventory;
        let live: Vec<(WorkloadId, &ObsKey, &Obs)> = inv
            .scope_workloads(scope)
            .into_iter()
            .filter_map(|id| {
                let (k, o) = inv.state_at(id, t)?;
                // What `deployment_model` needs before it builds anything.
                let (start, _) = inv.interval(id, k)?;
                inv.workloads.get(id as usize)?.timeline.get(start)?;
                Some((id, k, o))
            })
            .collect();
        let page = live
            .iter()
            .skip(offset)
            .take(first)
            .filter_map(|(id, k, o)| self.deployment_model(*id, k, o))
            .collect();
        (live.len(), page)
    }

    /// Where a component, a version or an image runs at `at` (now when `None`).
    pub fn where_is(&self, what: &WhereIs, at: Option<DateTime<Utc>>) -> Vec<model::Deployment> {
        let t = at.map_or(Micros::MAX, micros);
        let inv = &self.inventory;
        let mut candidates: BTreeSet<WorkloadId> = BTreeSet::new();
        let add_name = |n: &str, c: &mut BTreeSet<WorkloadId>| {
            if let Some(s) = inv.by_name.get(n) {
                c.extend(s.iter().copied());
            }
        };
        let component = match what {
            WhereIs::Component(c) | WhereIs::Version { component: c, .. } => Some(c.as_str()),
            WhereIs::Image(_) => None,
        };
        let mut digests: Vec<String> = Vec::new();
        if let Some(c) = component {
            add_name(c, &mut candidates);
            if let Some(ci) = self.components.get(c) {
                for v in self.version_nodes(*ci) {
                    add_name(&v.repository, &mut candidates);
                    digests.push(v.digest.clone());
                }
            }
        }
        if let WhereIs::Image(d) = what {
            let d = self.platform_parent.get(d).unwrap_or(d);
            digests.push(d.clone());
            if let Some(Node::Image(img)) =
                self.images.get(d).and_then(|i| self.graph.node_weight(*i))
            {
                digests.extend(img.platforms.iter().map(|p| p.digest.clone()));
            }
            for repo in self.repos_of.get(d).into_iter().flatten() {
                add_name(repo, &mut candidates);
            }
        }
        for d in &digests {
            if let Some(s) = inv.by_digest.get(d) {
                candidates.extend(s.iter().copied());
            }
        }
        let wanted_digest = match what {
            WhereIs::Image(d) => Some(self.platform_parent.get(d).unwrap_or(d).as_str()),
            _ => None,
        };
        let mut out: Vec<model::Deployment> = candidates
            .into_iter()
            .filter_map(|id| self.live(id, t))
            .filter(|dep| {
                dep.runs.iter().any(|r| match what {
                    WhereIs::Component(c) => r.component.as_deref() == Some(c.as_str()),
                    WhereIs::Version { component, version } => {
                        r.component.as_deref() == Some(component.as_str())
                            && r.version.as_deref() == Some(version.as_str())
                    }
                    WhereIs::Image(_) => r.digest.as_deref() == wanted_digest,
                })
            })
            .collect();
        out.sort_by(|a, b| {
            (&a.environment, &a.cluster, &a.namespace, &a.workload).cmp(&(
                &b.environment,
                &b.cluster,
                &b.namespace,
                &b.workload,
            ))
        });
        out
    }

    /// Deployment history, newest first, after an opaque cursor (the `id` of the last one
    /// seen). Each deployment as it ended (or stands now).
    pub fn deployments(
        &self,
        filter: &DeploymentFilter,
        first: usize,
        after: Option<&str>,
    ) -> Page<model::Deployment> {
        let inv = &self.inventory;
        let cursor: Option<(Micros, Arc<str>, WorkloadId)> = after.and_then(decode_cursor);
        let matches = |id: WorkloadId| {
            inv.in_scope(id, &filter.scope)
                && filter
                    .workload
                    .as_ref()
                    .is_none_or(|w| *w == inv.workloads[id as usize].name)
        };
        let mut items = Vec::new();
        let mut has_next = false;
        let mut push = |start: &(Micros, Arc<str>, WorkloadId), items: &mut Vec<_>| -> bool {
            let (t, key, id) = start;
            if !matches(*id) {
                return true;
            }
            let Some(dep) = self.history_entry(*id, &(*t, key.clone())) else {
                return true;
            };
            if let Some(c) = &filter.component {
                if !dep.runs.iter().any(|r| r.component.as_ref() == Some(c)) {
                    return true;
                }
            }
            if items.len() == first {
                has_next = true;
                return false;
            }
            items.push((encode_cursor(start), dep));
            true
        };
        match &filter.component {
            // A component narrows the workloads to look at first.
            Some(c) => {
                let mut starts: Vec<(Micros, Arc<str>, WorkloadId)> = Vec::new();
                let mut names = vec![c.clone()];
                if let Some(ci) = self.components.get(c) {
                    names.extend(self.version_nodes(*ci).map(|v| v.repository.clone()));
                }
                let mut ids = BTreeSet::new();
                for n in &names {
                    if let Some(s) = inv.by_name.get(n) {
                        ids.extend(s.iter().copied());
                    }
                }
                if let Some(ci) = self.components.get(c) {
                    for v in self.version_nodes(*ci) {
                        if let Some(s) = inv.by_digest.get(&v.digest) {
                            ids.extend(s.iter().copied());
                        }
                    }
                }
                for id in ids {
                    starts.extend(
                        inv.workloads[id as usize]
                            .starts
                            .iter()
                            .map(|(t, k)| (*t, k.clone(), id)),
                    );
                }
                starts.sort();
                for s in starts.iter().rev() {
                    if cursor.as_ref().is_some_and(|c| s >= c) {
                        continue;
                    }
                    if !push(s, &mut items) {
                        break;
                    }
                }
            }
            None => {
                let range = match &cursor {
                    Some(c) => inv.starts.range(..c.clone()),
                    None => inv.starts.range(..),
                };
                for s in range.rev() {
                    if !push(s, &mut items) {
                        break;
                    }
                }
            }
        }
        Page {
            items: items.into_iter().map(|(_, d)| d).collect(),
            has_next,
        }
    }

    /// How many deployments [`Catalog::deployments`] pages through for `filter`: a walk of
    /// the whole filtered history, for a caller that asks for the count.
    pub fn deployment_count(&self, filter: &DeploymentFilter) -> usize {
        self.deployments(filter, usize::MAX, None).items.len()
    }

    /// One deployment of the history, as it ended: `None` for a removal.
    fn history_entry(&self, id: WorkloadId, start: &ObsKey) -> Option<model::Deployment> {
        let w = &self.inventory.workloads[id as usize];
        let first = w.timeline.get(start)?;
        if first.status == DeploymentStatus::Removed {
            return None;
        }
        let next = w
            .starts
            .range((Bound::Excluded(start), Bound::Unbounded))
            .next();
        let (lk, lo) = match next {
            Some(n) => w.timeline.range(start.clone()..n.clone()).next_back(),
            None => w.timeline.range(start.clone()..).next_back(),
        }?;
        self.deployment_model(id, lk, lo)
    }

    /// The deployment that observation (`at`, `key`) of a workload started, as it stands now;
    /// `None` when that observation only reported on a deployment already running (or is a
    /// removal, or unknown). What the policy judge judges: each deployment once.
    pub fn deployment_started_by(
        &self,
        (cluster, namespace, workload): (&str, &str, &str),
        at: DateTime<Utc>,
        key: &str,
    ) -> Option<model::Deployment> {
        let inv = &self.inventory;
        let id = *inv.ids.get(&(
            Arc::from(cluster),
            namespace.to_string(),
            workload.to_string(),
        ))?;
        let k: ObsKey = (micros(at), Arc::from(key));
        let w = &inv.workloads[id as usize];
        if !w.starts.contains(&k) {
            return None;
        }
        let o = w.timeline.get(&k)?;
        if o.status == DeploymentStatus::Removed {
            return None;
        }
        self.deployment_model(id, &k, o)
    }

    /// Every deployment that ran `component` at `version`, oldest first, each as it ended
    /// (or stands now). Only the workloads that ever named the component, its version's
    /// repository or digest are looked at, and a deployment is built only when its first
    /// report resolves to the version: the policy input's history, at the cost of the
    /// version's deployments rather than the component's whole history.
    pub fn version_history(&self, component: &str, version: &str) -> Vec<model::Deployment> {
        let inv = &self.inventory;
        let mut ids: BTreeSet<WorkloadId> = BTreeSet::new();
        let mut add = |m: &HashMap<String, BTreeSet<WorkloadId>>, k: &str| {
            if let Some(s) = m.get(k) {
                ids.extend(s.iter().copied());
            }
        };
        add(&inv.by_name, component);
        if let Some(Node::Version(v)) = self
            .versions
            .get(&(component.to_string(), version.to_string()))
            .and_then(|i| self.graph.node_weight(*i))
        {
            add(&inv.by_name, &v.repository);
            add(&inv.by_digest, &v.digest);
        }
        let mut out = Vec::new();
        for id in ids {
            let w = &inv.workloads[id as usize];
            for start in &w.starts {
                let Some(first) = w.timeline.get(start) else {
                    continue;
                };
                let runs_it = first.runs.iter().any(|r| {
                    let m = self.resolve(r, start.0, first.revision.as_deref());
                    m.component.as_deref() == Some(component)
                        && m.version.as_deref() == Some(version)
                });
                if runs_it {
                    out.extend(self.history_entry(id, start));
                }
            }
        }
        out.sort_by(|a, b| (a.since, &a.id).cmp(&(b.since, &b.id)));
        out
    }

    /// The cursor of a deployment returned by [`Catalog::deployments`].
    pub fn deployment_cursor(&self, d: &model::Deployment) -> Option<String> {
        let inv = &self.inventory;
        let id = *inv.ids.get(&(
            Arc::from(d.cluster.as_str()),
            d.namespace.clone(),
            d.workload.clone(),
        ))?;
        let key = d.id.rsplit_once('#').map(|(_, k)| k)?;
        Some(encode_cursor(&(micros(d.since), Arc::from(key), id)))
    }

    /// The deployment live now in one workload (what a subscription sends when it changes).
    pub fn workload(
        &self,
        cluster: &str,
        namespace: &str,
        workload: &str,
    ) -> Option<model::Deployment> {
        let id = *self.inventory.ids.get(&(
            Arc::from(cluster),
            namespace.to_string(),
            workload.to_string(),
        ))?;
        self.live(id, Micros::MAX)
    }

    pub fn clusters(&self) -> Vec<model::Cluster> {
        self.inventory
            .clusters
            .iter()
            .map(|(name, c)| model::Cluster {
                name: name.clone(),
                environment: self.inventory.environment_of(name),
                workloads: c
                    .workloads
                    .values()
                    .filter(|id| self.inventory.state_at(**id, Micros::MAX).is_some())
                    .count(),
                last_seen: time(c.last_seen),
            })
            .collect()
    }

    /// The environment a cluster is in (configuration, else what events said).
    pub fn cluster_environment(&self, cluster: &str) -> Option<String> {
        self.inventory.environment_of(cluster)
    }

    pub fn environments(&self) -> Vec<model::Environment> {
        let mut envs: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for name in self.inventory.clusters.keys() {
            if let Some(e) = self.inventory.environment_of(name) {
                envs.entry(e).or_default().push(name.clone());
            }
        }
        for (c, e) in &self.inventory.configured {
            let list = envs.entry(e.clone()).or_default();
            if !list.contains(c) {
                list.push(c.clone());
                list.sort();
            }
        }
        envs.into_iter()
            .map(|(name, clusters)| model::Environment { name, clusters })
            .collect()
    }

    /// What runs differently in two scopes at `at`, component by component (components
    /// running the same versions in both are left out).
    pub fn inventory_diff(
        &self,
        from: &InventoryScope,
        to: &InventoryScope,
        at: Option<DateTime<Utc>>,
    ) -> Vec<model::ComponentDifference> {
        let versions = |scope: &InventoryScope| {
            let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for d in self.inventory(scope, at) {
                for r in d.runs {
                    let Some(c) = r.component else { continue };
                    let v = r
                        .version
                        .or(r.digest)
                        .or(r.reference)
                        .unwrap_or_else(|| "unknown".into());
                    m.entry(c).or_default().insert(v);
                }
            }
            m
        };
        let (a, b) = (versions(from), versions(to));
        let names: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        let sorted = |s: Option<&BTreeSet<String>>| -> Vec<String> {
            let mut v: Vec<String> = s.map(|s| s.iter().cloned().collect()).unwrap_or_default();
            v.sort_by(|x, y| crate::identity::compare_versions(x, y));
            v
        };
        names
            .into_iter()
            .filter_map(|c| {
                let (fa, tb) = (a.get(c), b.get(c));
                let change = match (fa, tb) {
                    (Some(_), None) => model::DifferenceKind::OnlyInFrom,
                    (None, Some(_)) => model::DifferenceKind::OnlyInTo,
                    (Some(x), Some(y)) if x != y => model::DifferenceKind::VersionsDiffer,
                    _ => return None,
                };
                Some(model::ComponentDifference {
                    component: c.clone(),
                    from_versions: sorted(fa),
                    to_versions: sorted(tb),
                    change,
                })
            })
            .collect()
    }

    /// DORA metrics for a component over `[from, to)`, in one environment or everywhere.
    pub fn dora(
        &self,
        component: &str,
        environment: Option<&str>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> model::DoraMetrics {
        let inv = &self.inventory;
        let (f, tt) = (micros(from), micros(to));
        let filter = DeploymentFilter {
            scope: InventoryScope {
                environment: environment.map(str::to_string),
                ..InventoryScope::default()
            },
            workload: None,
            component: Some(component.to_string()),
        };
        let mut deployments = 0usize;
        let mut failed = 0usize;
        let mut lead: Vec<f64> = Vec::new();
        let mut restore: Vec<f64> = Vec::new();
        // When the component ran in scope, and when it was down (a failure to its restore),
        // within the window: MTTF's operating time is the first less the second.
        let end_of_window = tt.min(micros(Utc::now()));
        let mut running: Vec<(Micros, Micros)> = Vec::new();
        let mut down: Vec<(Micros, Micros)> = Vec::new();
        let clip = |a: Micros, b: Micros| (a.max(f), b.min(end_of_window));
        let mut after: Option<String> = None;
        loop {
            let page = self.deployments(&filter, 500, after.as_deref());
            for d in &page.items {
                let since = micros(d.since);
                running.push(clip(since, d.until.map_or(Micros::MAX, micros)));
                if since < f || since >= tt {
                    continue;
                }
                let Some(id) = inv.ids.get(&(
                    Arc::from(d.cluster.as_str()),
                    d.namespace.clone(),
                    d.workload.clone(),
                )) else {
                    continue;
                };
                let w = &inv.workloads[*id as usize];
                let start = (
                    since,
                    Arc::<str>::from(d.id.rsplit_once('#').map_or("", |x| x.1)),
                );
                let end = d.until.map_or(Micros::MAX, micros);
                if inv.recovers_canary(w, &start) {
                    continue; // the stable version, running on: not a deployment
                }
                deployments += 1;
                if let Some(created) = d
                    .runs
                    .iter()
                    .filter(|r| r.component.as_deref() == Some(component))
                    .find_map(|r| self.created_of(r))
                {
                    lead.push((d.since - created).num_milliseconds() as f64 / 1000.0);
                }
                let own = w.timeline.range(start.clone()..at_start(end));
                let next = w.timeline.range(at_start(end)..).next();
                // Failed while it ran; or a canary rolled back (at 0%, still reported); or
                // ended by a rollback, or by the canary's return to its stable version. The
                // restore is the first healthy or rolled-back report after the failure, or
                // that return itself, since the stable version serving again is the restore.
                // (time of failure, whether the report at that time can be the restore)
                let failure = own
                    .clone()
                    .find(|(_, o)| {
                        matches!(
                            o.status,
                            DeploymentStatus::Failed | DeploymentStatus::Degraded
                        ) || (o.status == DeploymentStatus::RolledBack
                            && o.runs.iter().any(|r| r.track == Some(Track::Canary)))
                    })
                    .map(|(k, _)| (k.0, false))
                    .or_else(|| {
                        // (A canary's own rollback is its failure, not this one's.)
                        next.filter(|(_, o)| {
                            o.status == DeploymentStatus::RolledBack
                                && !o.runs.iter().any(|r| r.track == Some(Track::Canary))
                        })
                        .map(|(k, _)| (k.0, false))
                    })
                    .or_else(|| {
                        let (nk, _) = next?;
                        inv.recovers_canary(w, nk).then_some((nk.0, true))
                    });
                if let Some((ft, inclusive)) = failure {
                    failed += 1;
                    let from = if inclusive { ft } else { ft + 1 };
                    let restored = w.timeline.range(at_start(from)..).find(|(_, o)| {
                        matches!(
                            o.status,
                            DeploymentStatus::Healthy | DeploymentStatus::RolledBack
                        )
                    });
                    if let Some((rk, _)) = restored {
                        restore.push((rk.0 - ft) as f64 / 1e6);
                    }
                    down.push(clip(ft, restored.map_or(Micros::MAX, |(rk, _)| rk.0)));
                }
            }
            if !page.has_next {
                break;
            }
            match page.items.last().and_then(|d| self.deployment_cursor(d)) {
                Some(c) => after = Some(c),
                None => break,
            }
        }
        lead.sort_by(f64::total_cmp);
        restore.sort_by(f64::total_cmp);
        let operating = covered(&mut running) - covered(&mut down);
        let days = ((tt - f) as f64 / 86_400e6).max(1.0 / 24.0);
        model::DoraMetrics {
            component: component.to_string(),
            environment: environment.map(str::to_string),
            from,
            to,
            deployments,
            deployments_per_day: deployments as f64 / days,
            lead_time_median_seconds: percentile(&lead, 0.5),
            lead_time_p90_seconds: percentile(&lead, 0.9),
            failed_deployments: failed,
            change_failure_rate: (deployments > 0).then(|| failed as f64 / deployments as f64),
            time_to_restore_median_seconds: percentile(&restore, 0.5),
            restored: restore.len(),
            mean_time_to_failure_seconds: (failed > 0)
                .then(|| operating.max(0) as f64 / 1e6 / failed as f64),
        }
    }
}

/// How much time the union of `intervals` covers (empty ones ignored).
fn covered(intervals: &mut [(Micros, Micros)]) -> Micros {
    intervals.sort_unstable();
    let mut total = 0;
    let mut reach = Micros::MIN;
    for &(a, b) in intervals.iter() {
        let a = a.max(reach);
        if b > a {
            total += b - a;
            reach = b;
        }
    }
    total
}

impl Catalog {
    /// When what runs was made: the image's `created`, else the version's first push.
    fn created_of(&self, r: &model::RunningImage) -> Option<DateTime<Utc>> {
        if let Some(Node::Image(img)) = r
            .digest
            .as_ref()
            .and_then(|d| self.images.get(d))
            .and_then(|i| self.graph.node_weight(*i))
        {
            if let Some(c) = img.created {
                return Some(c);
            }
        }
        let (c, v) = (r.component.as_ref()?, r.version.as_ref()?);
        match self
            .versions
            .get(&(c.clone(), v.clone()))
            .and_then(|i| self.graph.node_weight(*i))
        {
            Some(Node::Version(vn)) => vn.created.or(Some(vn.pushed_at)),
            _ => None,
        }
    }

    /// Checks the inventory's derived indexes against a recomputation (tests).
    pub(super) fn verify_inventory(&self) -> Result<(), String> {
        let inv = &self.inventory;
        let mut all = 0usize;
        for (id, w) in inv.workloads.iter().enumerate() {
            let mut prev: Option<(&ObsKey, &Obs)> = None;
            for (k, o) in &w.timeline {
                let expect = match prev {
                    None => true,
                    Some((pk, p)) => {
                        p.status == DeploymentStatus::Removed
                            || o.status == DeploymentStatus::Removed
                            || p.ident != o.ident
                            || inv.snapshot_after(w, pk.0).is_some_and(|s| s < k.0)
                    }
                };
                if expect != w.starts.contains(k) {
                    return Err(format!(
                        "{}/{}/{}: start flag wrong at {:?}",
                        w.cluster, w.namespace, w.name, k
                    ));
                }
                if expect && !inv.starts.contains(&(k.0, k.1.clone(), id as WorkloadId)) {
                    return Err(format!("{}: start missing from the global index", w.name));
                }
                prev = Some((k, o));
            }
            all += w.starts.len();
        }
        if all != inv.starts.len() {
            return Err(format!(
                "global start index holds {} entries, workloads {all}",
                inv.starts.len()
            ));
        }
        Ok(())
    }
}

fn encode_cursor(s: &(Micros, Arc<str>, WorkloadId)) -> String {
    format!("{}:{}:{}", s.0, s.2, s.1)
}

/// True when `c` is a cursor [`Catalog::deployments`] handed out (else it is bad input).
pub fn valid_deployment_cursor(c: &str) -> bool {
    decode_cursor(c).is_some()
}

fn decode_cursor(c: &str) -> Option<(Micros, Arc<str>, WorkloadId)> {
    let mut it = c.splitn(3, ':');
    let t = it.next()?.parse().ok()?;
    let id = it.next()?.parse().ok()?;
    let key = it.next()?;
    Some((t, Arc::from(key), id))
}

/// A configuration key whose value differs between two scopes (`None`: not set there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigDifference {
    pub key: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

impl Catalog {
    /// The configuration scopes that apply to an inventory scope, broadest first: a cluster's
    /// environment, the cluster, its namespace; an environment alone is its own values.
    pub fn configuration_layers(
        &self,
        scope: &InventoryScope,
    ) -> Vec<crate::configuration::ConfigScope> {
        use crate::configuration::ConfigScope as S;
        let mut out = Vec::new();
        let env = scope.environment.clone().or_else(|| {
            scope
                .cluster
                .as_deref()
                .and_then(|c| self.inventory.environment_of(c))
        });
        out.extend(env.map(S::Environment));
        if let Some(c) = &scope.cluster {
            out.push(S::Cluster(c.clone()));
            if let Some(n) = &scope.namespace {
                out.push(S::Namespace {
                    cluster: c.clone(),
                    namespace: n.clone(),
                });
            }
        }
        out
    }

    /// The configuration in force in a scope at `at` (now when `None`), by key.
    pub fn configuration(
        &self,
        scope: &InventoryScope,
        at: Option<DateTime<Utc>>,
    ) -> BTreeMap<String, crate::configuration::ConfigValue> {
        self.configuration
            .layered(&self.configuration_layers(scope), at)
    }

    /// Every setting made in one configuration scope (of one key, or all), oldest first.
    pub fn configuration_history(
        &self,
        scope: &crate::configuration::ConfigScope,
        key: Option<&str>,
    ) -> Vec<crate::configuration::ConfigChange> {
        self.configuration.history(scope, key)
    }

    /// The configuration keys whose values differ between two scopes at `at`.
    pub fn configuration_diff(
        &self,
        from: &InventoryScope,
        to: &InventoryScope,
        at: Option<DateTime<Utc>>,
    ) -> Vec<ConfigDifference> {
        let (a, b) = (self.configuration(from, at), self.configuration(to, at));
        let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        keys.into_iter()
            .filter_map(|k| {
                let (x, y) = (
                    a.get(k).map(|v| v.value.clone()),
                    b.get(k).map(|v| v.value.clone()),
                );
                (x != y).then(|| ConfigDifference {
                    key: k.clone(),
                    from: x,
                    to: y,
                })
            })
            .collect()
    }
}
