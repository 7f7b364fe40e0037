//! The producer: follows the log and turns what it finds into notifications in the outbox.
//!
//! - **What notifies.** A vulnerability, or a VEX statement, that makes something running
//!   affected; a deployment, snapshot or SBOM that puts an affected image to work; a policy
//!   violation; drift an observer shows; a deployment reported failed or rolled back.
//! - **Incidents.** A vulnerability opens one incident per (vulnerability, environment,
//!   owning team) while something of that team's runs affected there; when nothing does any
//!   more (redeployed, removed, suppressed by VEX, withdrawn) the incident is resolved, to the
//!   endpoints that heard the trigger, with the same `dedup_key`.
//! - **Exactly where it left off.** The rows a page of the log causes, the incidents they
//!   open and close and the new cursor commit together. A notification's key is a function of
//!   the log (the event that caused it), so a page processed twice enqueues nothing twice,
//!   and a receiver sees one key per logical notification however often it is delivered.
//!   On a first start the producer begins at the log's end: history is not notified.

use super::Notifier;
use crate::graphql::AppCtx;
use catalog_core::deployment::DeploymentStatus;
use catalog_core::event::{Event, EventKind, RecordedEvent};
use catalog_core::model;
use catalog_core::notify::{Action, Affected, Notification, Severity, Trigger, MAX_AFFECTED};
use catalog_core::{Catalog, InventoryScope};
use catalog_schema::{NewOutboxRow, OutboxBatch};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The producer's cursor's name in the outbox's cursor table.
pub const CURSOR: &str = "notify";
/// Events read at a time.
const PAGE: i64 = 500;
/// How often, at most, the cursor is written while no rule listens.
const IDLE_CURSOR_EVERY: std::time::Duration = std::time::Duration::from_secs(5);
const KINDS: [EventKind; 6] = [
    EventKind::VulnerabilityPublished,
    EventKind::VexRecorded,
    EventKind::SbomAttached,
    EventKind::DeploymentObserved,
    EventKind::ClusterSnapshot,
    EventKind::PolicyViolated,
];

/// An open incident: the trigger that opened it, and who heard it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Incident {
    pub vulnerability: String,
    pub notification: Notification,
    pub endpoints: Vec<String>,
}

pub struct Producer {
    after: i64,
    /// When the cursor was last written.
    saved_at: std::time::Instant,
    incidents: BTreeMap<String, Incident>,
    notifier: Arc<Notifier>,
}

impl Producer {
    pub fn resume(ctx: &AppCtx, notifier: Arc<Notifier>) -> anyhow::Result<Producer> {
        let after = match ctx.store.outbox_cursor(CURSOR)? {
            Some(a) => a,
            None => ctx
                .catalog
                .read()
                .map_err(|_| anyhow::anyhow!("graph lock poisoned"))?
                .last_seq(),
        };
        let mut incidents = BTreeMap::new();
        for (key, body) in ctx.store.outbox_incidents()? {
            match serde_json::from_str::<Incident>(&body) {
                Ok(i) => {
                    incidents.insert(key, i);
                }
                Err(e) => {
                    tracing::warn!(incident = %key, error = %e, "an open incident does not read back; it is not resolved")
                }
            }
        }
        Ok(Producer {
            after,
            saved_at: std::time::Instant::now(),
            incidents,
            notifier,
        })
    }

    /// Turns the next page of the log into notifications; true when more may wait.
    pub fn step(&mut self, ctx: &AppCtx) -> anyhow::Result<bool> {
        let applied = ctx
            .catalog
            .read()
            .map_err(|_| anyhow::anyhow!("graph lock poisoned"))?
            .last_seq();
        let page: Vec<RecordedEvent> = ctx
            .store
            .events_page_of(PAGE, self.after, &KINDS)?
            .into_iter()
            .filter(|e| e.seq <= applied)
            .collect();
        let Some(last) = page.last().map(|e| e.seq) else {
            return Ok(false);
        };
        let (out, opened, closed) = {
            let g = ctx
                .catalog
                .read()
                .map_err(|_| anyhow::anyhow!("graph lock poisoned"))?;
            if g.notification_rules().is_empty() && self.incidents.is_empty() {
                // Nobody listens and nothing is open: the page costs nothing but its read,
                // and where the producer got to is written now and then, so a restart
                // after a rule is set does not notify what came before it.
                drop(g);
                self.after = last;
                if self.saved_at.elapsed() >= IDLE_CURSOR_EVERY {
                    ctx.store
                        .outbox_enqueue(CURSOR, last, &OutboxBatch::default())?;
                    self.saved_at = std::time::Instant::now();
                }
                return Ok(page.len() as i64 == PAGE);
            }
            let mut b = Builder {
                g: &g,
                link: self.notifier.link_base.as_deref(),
                incidents: &self.incidents,
                out: Vec::new(),
                opened: BTreeMap::new(),
                closed: BTreeSet::new(),
            };
            b.page(&page);
            (b.out, b.opened, b.closed)
        };
        let now = catalog_schema::to_micros(chrono::Utc::now());
        let mut batch = OutboxBatch::default();
        let mut lanes: BTreeSet<String> = BTreeSet::new();
        for (n, endpoints) in &out {
            let body = serde_json::to_string(n)?;
            for e in endpoints {
                lanes.insert(e.clone());
                batch.rows.push(NewOutboxRow {
                    key: format!("{}>{e}", n.key),
                    endpoint: e.clone(),
                    body: body.clone(),
                    created_at: now,
                    next_attempt_at: now,
                });
            }
        }
        for (k, i) in &opened {
            batch.opened.push((k.clone(), serde_json::to_string(i)?));
        }
        batch.closed = closed.iter().cloned().collect();
        ctx.store.outbox_enqueue(CURSOR, last, &batch)?;
        self.after = last;
        self.saved_at = std::time::Instant::now();
        for k in closed {
            self.incidents.remove(&k);
        }
        self.incidents.extend(opened);
        for l in lanes {
            self.notifier.wake(&l);
        }
        Ok(page.len() as i64 == PAGE)
    }
}

/// What a page changed that can end an open incident: everything (VEX, an SBOM), clusters
/// (snapshots) or workloads (reports).
#[derive(Default)]
struct Moved {
    /// The first event of the page that changed something.
    first: Option<i64>,
    all: bool,
    clusters: BTreeSet<String>,
    workloads: BTreeSet<(String, String, String)>,
}

impl Moved {
    fn everything(&mut self, seq: i64) {
        self.first.get_or_insert(seq);
        self.all = true;
    }

    fn cluster(&mut self, seq: i64, cluster: &str) {
        self.first.get_or_insert(seq);
        self.clusters.insert(cluster.to_string());
    }

    fn workload(&mut self, seq: i64, cluster: &str, namespace: &str, workload: &str) {
        self.first.get_or_insert(seq);
        self.workloads
            .insert((cluster.into(), namespace.into(), workload.into()));
    }

    /// Whether the incident's workloads (all of them, when the message lists them all) are
    /// among what changed.
    fn touches(&self, i: &Incident) -> bool {
        let n = &i.notification;
        self.all
            || n.affected_total > n.affected.len()
            || n.affected.iter().any(|a| {
                self.clusters.contains(&a.cluster)
                    || self.workloads.contains(&(
                        a.cluster.clone(),
                        a.namespace.clone(),
                        a.workload.clone(),
                    ))
            })
    }
}

struct Builder<'a> {
    g: &'a Catalog,
    link: Option<&'a str>,
    incidents: &'a BTreeMap<String, Incident>,
    out: Vec<(Notification, Vec<String>)>,
    opened: BTreeMap<String, Incident>,
    closed: BTreeSet<String>,
}

fn status_word(s: DeploymentStatus) -> &'static str {
    match s {
        DeploymentStatus::RolledBack => "was rolled back",
        _ => "failed",
    }
}

impl Builder<'_> {
    fn page(&mut self, page: &[RecordedEvent]) {
        // Vulnerabilities to look at again, with the first event of the page that named one.
        let mut vulns: BTreeMap<String, i64> = BTreeMap::new();
        // What changed, so only the open incidents it can have ended are looked at again.
        let mut moved = Moved::default();
        let g = self.g;
        let name = |vulns: &mut BTreeMap<String, i64>, id: &str, seq: i64| {
            if let Some(v) = g.vulnerability_record(id) {
                vulns.entry(v.id.clone()).or_insert(seq);
            }
        };
        for e in page {
            match &e.event {
                Event::VulnerabilityPublished(v) => name(&mut vulns, &v.id, e.seq),
                Event::VexRecorded(d) => {
                    for s in &d.statements {
                        name(&mut vulns, &s.vulnerability, e.seq);
                    }
                    moved.everything(e.seq);
                }
                Event::SbomAttached(s) => {
                    // A new SBOM may also drop a package: open incidents are looked at again.
                    moved.everything(e.seq);
                    for m in self.g.image_vulnerabilities(&s.image) {
                        name(&mut vulns, &m.id, e.seq);
                    }
                }
                Event::DeploymentObserved(d) => {
                    moved.workload(e.seq, &d.cluster, &d.namespace, &d.workload);
                    let now = self.workload(&d.cluster, &d.namespace, &d.workload);
                    for m in now.iter().flat_map(|w| self.running_vulns(w)) {
                        name(&mut vulns, &m, e.seq);
                    }
                    if matches!(
                        d.status,
                        DeploymentStatus::Failed | DeploymentStatus::RolledBack
                    ) {
                        self.failure(e, d, now.as_ref());
                    }
                    if catalog_core::graph::OBSERVERS.contains(&e.source.as_str()) {
                        self.drift(e, &d.cluster, Some(&d.namespace), Some(&d.workload));
                    }
                }
                Event::ClusterSnapshot(s) => {
                    moved.cluster(e.seq, &s.cluster);
                    let scope = InventoryScope {
                        cluster: Some(s.cluster.clone()),
                        ..Default::default()
                    };
                    let running = self.g.inventory(&scope, None);
                    let mut seen = BTreeSet::new();
                    for w in &running {
                        for d in w.runs.iter().filter_map(|r| r.digest.as_ref()) {
                            if seen.insert(d.clone()) {
                                for m in self.g.image_vulnerabilities(d) {
                                    name(&mut vulns, &m.id, e.seq);
                                }
                            }
                        }
                    }
                    self.drift(e, &s.cluster, None, None);
                }
                Event::PolicyViolated(v) => self.violation(e, v),
                _ => {}
            }
        }
        // What runs changed: an open incident there may be over.
        if let Some(seq) = moved.first {
            for i in self.incidents.values().filter(|i| moved.touches(i)) {
                vulns.entry(i.vulnerability.clone()).or_insert(seq);
            }
        }
        for (id, seq) in vulns {
            self.vulnerability(&id, seq);
        }
    }

    fn workload(
        &self,
        cluster: &str,
        namespace: &str,
        workload: &str,
    ) -> Option<model::Deployment> {
        // One workload's own entry: a namespace of thousands is not listed for each report.
        self.g.workload(cluster, namespace, workload)
    }

    fn running_vulns(&self, d: &model::Deployment) -> Vec<String> {
        d.runs
            .iter()
            .filter_map(|r| r.digest.as_ref())
            .flat_map(|digest| self.g.image_vulnerabilities(digest))
            .map(|m| m.id)
            .collect()
    }

    fn environment(&self, given: Option<&String>, cluster: &str) -> Option<String> {
        given
            .cloned()
            .or_else(|| self.g.cluster_environment(cluster))
    }

    fn owner(&self, component: &str) -> Option<String> {
        self.g.component(component).and_then(|c| c.owner)
    }

    fn link(&self, path: &str) -> Option<String> {
        self.link
            .map(|b| format!("{}{path}", b.trim_end_matches('/')))
    }

    /// Queues `n` for the endpoints the rules route it to (none: nobody hears it).
    fn send(&mut self, mut n: Notification) -> Option<Vec<String>> {
        let endpoints = self.g.notification_rules().route(
            n.trigger,
            n.team.as_deref(),
            n.environment.as_deref(),
            n.severity,
        );
        if endpoints.is_empty() {
            return None;
        }
        if let Some(t) = n.team.as_deref().and_then(|t| self.g.team(t)) {
            n.contacts = t.contacts;
        }
        self.out.push((n, endpoints.clone()));
        Some(endpoints)
    }

    #[allow(clippy::too_many_arguments)]
    fn notification(
        &self,
        key: String,
        trigger: Trigger,
        severity: Severity,
        title: String,
        summary: String,
        environment: Option<String>,
        team: Option<String>,
        affected: Vec<Affected>,
        link: Option<String>,
        at: chrono::DateTime<chrono::Utc>,
        details: serde_json::Value,
    ) -> Notification {
        let mut components: Vec<String> = affected
            .iter()
            .filter_map(|a| a.component.clone())
            .collect();
        components.sort();
        components.dedup();
        let total = affected.len();
        Notification {
            dedup_key: key.clone(),
            key,
            action: Action::Trigger,
            trigger,
            severity,
            title,
            summary,
            environment,
            team,
            contacts: Default::default(),
            affected: affected.into_iter().take(MAX_AFFECTED).collect(),
            affected_total: total,
            components,
            link,
            occurred_at: at,
            details,
        }
    }

    fn affected_of(&self, d: &model::Deployment, env: Option<String>) -> Vec<Affected> {
        let mut out: Vec<Affected> = d
            .runs
            .iter()
            .map(|r| Affected {
                environment: env.clone(),
                cluster: d.cluster.clone(),
                namespace: d.namespace.clone(),
                workload: d.workload.clone(),
                component: r.component.clone(),
                version: r.version.clone(),
            })
            .collect();
        out.dedup();
        out
    }

    fn failure(
        &mut self,
        e: &RecordedEvent,
        d: &catalog_core::deployment::DeploymentObserved,
        now: Option<&model::Deployment>,
    ) {
        let env = self.environment(d.environment.as_ref(), &d.cluster);
        let affected = match now {
            Some(w) => self.affected_of(w, env.clone()),
            None => vec![Affected {
                environment: env.clone(),
                cluster: d.cluster.clone(),
                namespace: d.namespace.clone(),
                workload: d.workload.clone(),
                component: d.runs.iter().find_map(|r| r.component.clone()),
                version: d.runs.iter().find_map(|r| r.version.clone()),
            }],
        };
        let component = affected.iter().find_map(|a| a.component.clone());
        let team = component.as_deref().and_then(|c| self.owner(c));
        let what = match (&component, affected.iter().find_map(|a| a.version.clone())) {
            (Some(c), Some(v)) => format!("{c} {v}"),
            _ => d.workload.clone(),
        };
        let place = format!("{}/{}/{}", d.cluster, d.namespace, d.workload);
        let title = format!(
            "Deployment of {what} {} in {}",
            status_word(d.status),
            env.as_deref().unwrap_or(&d.cluster)
        );
        let summary = format!(
            "{place} reported {} by {} ({}).",
            d.status.as_str(),
            e.actor,
            e.source
        );
        let link = self.link(&format!(
            "/inventory?cluster={}&namespace={}",
            d.cluster, d.namespace
        ));
        let n = self.notification(
            format!("failure:{}", e.key),
            Trigger::Failure,
            Severity::High,
            title,
            summary,
            env,
            team,
            affected,
            link,
            e.occurred_at,
            json!({"status": d.status.as_str(), "deployment": e.key, "url": d.url}),
        );
        self.send(n);
    }

    fn violation(&mut self, e: &RecordedEvent, v: &catalog_core::governance::Violation) {
        let env = self.environment(v.environment.as_ref(), &v.cluster);
        let affected = vec![Affected {
            environment: env.clone(),
            cluster: v.cluster.clone(),
            namespace: v.namespace.clone(),
            workload: v.workload.clone(),
            component: Some(v.component.clone()),
            version: Some(v.version.clone()),
        }];
        let reasons: Vec<String> = v
            .reasons
            .iter()
            .map(|r| format!("{}: {}", r.policy, r.message))
            .collect();
        let n = self.notification(
            format!("violation:{}", e.key),
            Trigger::Violation,
            Severity::High,
            format!(
                "{} {} went out against policy in {}",
                v.component,
                v.version,
                env.as_deref().unwrap_or(&v.cluster)
            ),
            format!(
                "Deployed by {} to {}/{}/{}. {}",
                v.deployer,
                v.cluster,
                v.namespace,
                v.workload,
                reasons.join("; ")
            ),
            env,
            self.owner(&v.component),
            affected,
            self.link("/releases"),
            e.occurred_at,
            json!({"reasons": v.reasons, "policy_set": v.policy_set, "deployment": v.deployment}),
        );
        self.send(n);
    }

    /// Drift flagged now in a cluster (or one workload): each flag once.
    fn drift(
        &mut self,
        e: &RecordedEvent,
        cluster: &str,
        namespace: Option<&str>,
        workload: Option<&str>,
    ) {
        let scope = InventoryScope {
            cluster: Some(cluster.to_string()),
            namespace: namespace.map(str::to_string),
            ..Default::default()
        };
        for f in self.g.drift(&scope, None) {
            if f.until.is_some() || workload.is_some_and(|w| w != f.workload) {
                continue;
            }
            let env = self.environment(f.environment.as_ref(), &f.cluster);
            let what = match (&f.component, &f.version, &f.digest, &f.reference) {
                (Some(c), Some(v), _, _) => format!("{c} {v}"),
                (_, _, Some(d), _) => d.clone(),
                (_, _, _, Some(r)) => r.clone(),
                _ => "something".into(),
            };
            let place = format!("{}/{}/{}", f.cluster, f.namespace, f.workload);
            let key = format!("drift:{place}:{what}:{}", f.since.timestamp_micros());
            let n = self.notification(
                key,
                Trigger::Drift,
                Severity::Medium,
                format!("Drift in {}: {what} runs unrecorded", env.as_deref().unwrap_or(&f.cluster)),
                format!(
                    "{} ({}) shows {what} running in {place}, and no pipeline recorded deploying it.",
                    f.source, f.actor
                ),
                env.clone(),
                f.component.as_deref().and_then(|c| self.owner(c)),
                vec![Affected {
                    environment: env,
                    cluster: f.cluster.clone(),
                    namespace: f.namespace.clone(),
                    workload: f.workload.clone(),
                    component: f.component.clone(),
                    version: f.version.clone(),
                }],
                self.link("/releases"),
                e.occurred_at,
                json!({"source": f.source, "digest": f.digest, "reference": f.reference}),
            );
            self.send(n);
        }
    }

    /// Opens the incidents of `id` that are new, and resolves those that are over.
    fn vulnerability(&mut self, id: &str, seq: i64) {
        let Some(record) = self.g.vulnerability_record(id).cloned() else {
            return;
        };
        let vectors: Vec<String> = record.severity.iter().map(|s| s.score.clone()).collect();
        let severity = crate::policy::severity(&vectors)
            .0
            .map_or(Severity::None, Severity::of_score);
        let mut groups: BTreeMap<(Option<String>, Option<String>), Vec<Affected>> = BTreeMap::new();
        if let Some(report) = self.g.vulnerability_report(id) {
            for d in &report.deployments {
                let env = self.environment(d.environment.as_ref(), &d.cluster);
                let mut teams: Vec<Option<String>> = d
                    .runs
                    .iter()
                    .filter_map(|r| r.component.as_deref())
                    .map(|c| self.owner(c))
                    .collect();
                teams.sort();
                teams.dedup();
                if teams.is_empty() {
                    teams.push(None);
                }
                for t in teams {
                    groups
                        .entry((env.clone(), t))
                        .or_default()
                        .extend(self.affected_of(d, env.clone()));
                }
            }
        }
        let mut current = BTreeSet::new();
        for ((env, team), affected) in groups {
            let dedup = format!(
                "vuln:{id}:{}:{}",
                env.as_deref().unwrap_or("-"),
                team.as_deref().unwrap_or("-")
            );
            current.insert(dedup.clone());
            if self.opened.contains_key(&dedup) {
                continue;
            }
            if let Some(open) = self.incidents.get(&dedup) {
                // Still open. What it affects is kept current (nothing is sent): a later
                // change to any of its workloads is what looks at it again.
                let listed: Vec<Affected> = affected.iter().take(MAX_AFFECTED).cloned().collect();
                let n = &open.notification;
                if n.affected != listed || n.affected_total != affected.len() {
                    let mut now = open.clone();
                    now.notification.affected = listed;
                    now.notification.affected_total = affected.len();
                    self.opened.insert(dedup, now);
                }
                continue;
            }
            let title = format!(
                "{id} ({}) affects {} workload(s){} in {}",
                severity.as_str(),
                affected.len(),
                team.as_deref()
                    .map(|t| format!(" of {t}"))
                    .unwrap_or_default(),
                env.as_deref().unwrap_or("an unassigned cluster"),
            );
            let shown: Vec<String> = affected
                .iter()
                .take(10)
                .map(|a| {
                    format!(
                        "{}/{}/{} ({} {})",
                        a.cluster,
                        a.namespace,
                        a.workload,
                        a.component.as_deref().unwrap_or("?"),
                        a.version.as_deref().unwrap_or("?")
                    )
                })
                .collect();
            let more = affected.len().saturating_sub(shown.len());
            let summary = format!(
                "{}{}Running: {}{}.",
                record.summary.as_deref().unwrap_or(""),
                if record.summary.is_some() { ". " } else { "" },
                shown.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                },
            );
            let mut n = self.notification(
                format!("{dedup}:trigger:{seq}"),
                Trigger::Vulnerability,
                severity,
                title,
                summary,
                env,
                team,
                affected,
                self.link(&format!("/vulnerabilities/{id}")),
                chrono::Utc::now(),
                json!({"id": id, "aliases": record.aliases, "severity": vectors}),
            );
            n.dedup_key = dedup.clone();
            if let Some(endpoints) = self.send(n.clone()) {
                self.opened.insert(
                    dedup,
                    Incident {
                        vulnerability: id.to_string(),
                        notification: self.out.last().map_or(n, |(n, _)| n.clone()),
                        endpoints,
                    },
                );
            }
        }
        let over: Vec<(String, Incident)> = self
            .incidents
            .iter()
            .filter(|(k, i)| {
                i.vulnerability == id && !current.contains(*k) && !self.closed.contains(*k)
            })
            .map(|(k, i)| (k.clone(), i.clone()))
            .collect();
        for (k, i) in over {
            let t = &i.notification;
            let n = Notification {
                key: format!("{}:resolve", t.key),
                dedup_key: t.dedup_key.clone(),
                action: Action::Resolve,
                title: format!(
                    "Resolved: {id} no longer affects anything{} runs in {}",
                    t.team
                        .as_deref()
                        .map(|t| format!(" {t}"))
                        .unwrap_or_default(),
                    t.environment.as_deref().unwrap_or("an unassigned cluster"),
                ),
                summary: format!("Nothing affected by {id} runs there any more."),
                affected: Vec::new(),
                affected_total: 0,
                occurred_at: chrono::Utc::now(),
                ..t.clone()
            };
            self.out.push((n, i.endpoints.clone()));
            self.closed.insert(k);
        }
    }
}
