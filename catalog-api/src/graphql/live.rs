//! `catalogChanged`: every committed event as the graph applies it, reduced to what a live
//! dashboard needs to decide whether its view is stale (kind, the things it touched, one
//! line for a feed). Dashboards re-query what they show; the event itself stays in the log.

use super::app;
use async_graphql::{Context, SimpleObject, Subscription};
use catalog_core::event::{Event, RecordedEvent};
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};

/// One change the catalog applied.
#[derive(SimpleObject, Clone)]
pub struct CatalogChange {
    /// The event's sequence number in the log.
    pub seq: i64,
    /// When it happened at its source.
    pub at: DateTime<Utc>,
    /// The event kind, e.g. `image.registered` or `deployment.observed`.
    pub kind: String,
    /// What it touched, each as `kind:name`: `component:shop/cart`, `image:sha256:...`,
    /// `cluster:prod-eu-1`, `namespace:prod-eu-1/payments`, `team:...`, `package:pkg:...`,
    /// `application:...`.
    pub subjects: Vec<String>,
    /// One line for a feed, e.g. `shop/cart 1.2.0 pushed to registry/shop/cart:1.2.0`.
    pub summary: String,
}

#[derive(Default)]
pub struct LiveSubscription;

#[Subscription]
impl LiveSubscription {
    /// Every change as the catalog applies it (optionally only some event kinds), for
    /// dashboards that refresh what they show. A client too slow to keep up skips changes
    /// rather than slowing ingest; re-query after reconnecting.
    async fn catalog_changed(
        &self,
        ctx: &Context<'_>,
        kinds: Option<Vec<String>>,
    ) -> async_graphql::Result<impl Stream<Item = CatalogChange>> {
        if let Some(ks) = &kinds {
            if let Some(bad) = ks
                .iter()
                .find(|k| catalog_core::event::EventKind::parse(k).is_none())
            {
                return Err(crate::errors::ApiError::bad(
                    "kinds",
                    format!("{bad:?} is not an event kind (e.g. image.registered)"),
                )
                .graphql());
            }
        }
        let mut batches = applied(app(ctx)?);
        Ok(async_stream::stream! {
            while let Some(batch) = batches.next().await {
                for e in batch.iter() {
                    let kind = e.event.kind().as_str();
                    if kinds.as_ref().is_some_and(|ks| !ks.iter().any(|k| k == kind)) {
                        continue;
                    }
                    let (subjects, summary) = describe(&e.event);
                    yield CatalogChange {
                        seq: e.seq,
                        at: e.occurred_at,
                        kind: kind.to_string(),
                        subjects,
                        summary,
                    };
                }
            }
        })
    }
}

/// Batches of events as the graph applies them. A subscriber too slow to keep up skips the
/// batches it missed (the dashboard re-queries) rather than holding ingest back.
pub(super) fn applied(
    app: &super::AppCtx,
) -> std::pin::Pin<Box<dyn Stream<Item = std::sync::Arc<[RecordedEvent]>> + Send>> {
    let mut rx = app.sync.subscribe();
    Box::pin(async_stream::stream! {
        loop {
            match rx.recv().await {
                Ok(b) => yield b,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    })
}

/// The things an event touches and a one-line summary of it.
pub(super) fn describe(e: &Event) -> (Vec<String>, String) {
    match e {
        Event::ImageRegistered(i) => {
            let mut s = vec![
                format!("component:{}", i.component),
                format!("image:{}", i.digest),
            ];
            if let Some(v) = &i.version {
                s.push(format!("version:{}@{v}", i.component));
            }
            let at = match &i.tag {
                Some(t) => format!("{}/{}:{t}", i.registry, i.repository),
                None => format!("{}/{}@{}", i.registry, i.repository, i.digest),
            };
            let what = match &i.version {
                Some(v) => format!("{} {v}", i.component),
                None => i.component.clone(),
            };
            (s, format!("{what} pushed to {at}"))
        }
        Event::TagDeleted {
            registry,
            repository,
            tag,
        } => (
            vec![format!("repository:{registry}/{repository}")],
            format!("tag {registry}/{repository}:{tag} deleted"),
        ),
        Event::ManifestDeleted {
            registry,
            repository,
            digest,
        } => (
            vec![
                format!("repository:{registry}/{repository}"),
                format!("image:{digest}"),
            ],
            format!("{registry}/{repository}@{digest} deleted"),
        ),
        Event::OwnerSet {
            component, team, ..
        } => (
            vec![format!("component:{component}"), format!("team:{team}")],
            format!("{component} now owned by {team}"),
        ),
        Event::DeploymentObserved(d) => {
            let mut s = vec![
                format!("cluster:{}", d.cluster),
                format!("namespace:{}/{}", d.cluster, d.namespace),
                format!("workload:{}/{}/{}", d.cluster, d.namespace, d.workload),
            ];
            let mut running = Vec::new();
            for r in &d.runs {
                if let Some(c) = &r.component {
                    s.push(format!("component:{c}"));
                    running.push(match &r.version {
                        Some(v) => format!("{c} {v}"),
                        None => c.clone(),
                    });
                }
            }
            let what = if running.is_empty() {
                String::new()
            } else {
                format!(" runs {}", running.join(", "))
            };
            (
                s,
                format!(
                    "{}/{}/{}{what} ({})",
                    d.cluster,
                    d.namespace,
                    d.workload,
                    d.status.as_str()
                ),
            )
        }
        Event::ClusterSnapshot(c) => (
            vec![format!("cluster:{}", c.cluster)],
            format!("{}: snapshot of {} workloads", c.cluster, c.workloads.len()),
        ),
        Event::SbomAttached(s) => (
            vec![format!("image:{}", s.image)],
            format!("SBOM attached to {}", s.image),
        ),
        Event::VulnerabilityPublished(v) => (
            vec![format!("vulnerability:{}", v.id)],
            format!("vulnerability {} published", v.id),
        ),
        Event::EntityDeclared(en) => (
            vec![format!("entity:{}", en.name)],
            format!("descriptor of {} declared", en.name),
        ),
        Event::DependencyDeclared { from, to } => (
            vec![format!("component:{from}"), format!("component:{to}")],
            format!("{from} depends on {to}"),
        ),
        Event::DependencyRemoved { from, to } => (
            vec![format!("component:{from}"), format!("component:{to}")],
            format!("{from} no longer depends on {to}"),
        ),
        Event::TeamContacts { team, .. } => (
            vec![format!("team:{team}")],
            format!("contacts of {team} set"),
        ),
        Event::ApplicationDeclared { application, .. } => (
            vec![format!("application:{application}")],
            format!("application {application} declared"),
        ),
        Event::ApprovalRecorded(a) => (
            vec![
                format!("component:{}", a.component),
                format!("version:{}@{}", a.component, a.version),
            ],
            format!(
                "{} {} {} for {} by {}",
                a.component,
                a.version,
                a.decision.as_str(),
                a.environment,
                a.approver
            ),
        ),
        Event::CalendarEntryRecorded(e) => (
            vec![format!("environment:{}", e.environment)],
            format!(
                "{} {}: {} ({} to {})",
                crate::calendar::category(e.category),
                e.environment,
                e.summary,
                e.start.to_rfc3339(),
                e.end.to_rfc3339()
            ),
        ),
        Event::PolicyViolated(v) => (
            vec![
                format!("component:{}", v.component),
                format!("version:{}@{}", v.component, v.version),
            ],
            format!(
                "{} {} went out to {}/{}/{} against policy ({} reason(s))",
                v.component,
                v.version,
                v.cluster,
                v.namespace,
                v.workload,
                v.reasons.len()
            ),
        ),
        Event::CalendarEntryRemoved { id } => (
            vec![format!("calendar:{id}")],
            format!("calendar entry {id} removed"),
        ),
        Event::PolicySetLoaded(p) => (
            vec![format!("policies:{}", p.digest)],
            format!(
                "policy set {} put in force ({} file(s))",
                p.digest,
                p.files.len()
            ),
        ),
        Event::PolicyJudged(j) => (
            vec![format!("policies:{}", j.policy_set)],
            format!(
                "policy set {} judged {} deployment(s) through #{}: {} against policy",
                j.policy_set, j.deployments, j.through, j.violations
            ),
        ),
        Event::ConfigSet(c) => {
            let set = c.values.values().filter(|v| v.is_some()).count();
            let removed = c.values.len() - set;
            let subject = match &c.scope {
                catalog_core::configuration::ConfigScope::Environment(e) => {
                    format!("environment:{e}")
                }
                catalog_core::configuration::ConfigScope::Cluster(cl)
                | catalog_core::configuration::ConfigScope::Namespace { cluster: cl, .. } => {
                    format!("cluster:{cl}")
                }
            };
            (
                vec![subject],
                format!(
                    "configuration of {}: {set} value(s) set, {removed} removed ({})",
                    c.scope,
                    c.values.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            )
        }
        Event::NotificationRuleSet(r) => {
            let team = r.team.as_deref().unwrap_or("any team");
            let env = r.environment.as_deref().unwrap_or("any environment");
            let what = if r.removed {
                "removed".to_string()
            } else {
                format!(
                    "{} to {}",
                    r.on.iter()
                        .map(|t| t.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    r.endpoints.join(", ")
                )
            };
            (
                r.team.iter().map(|t| format!("team:{t}")).collect(),
                format!("notification rule of {team} in {env}: {what}"),
            )
        }
        Event::VexRecorded(d) => {
            let mut s: Vec<String> = Vec::new();
            for st in &d.statements {
                s.push(format!("vulnerability:{}", st.vulnerability));
                s.extend(st.products.iter().map(|p| p.key()));
            }
            s.sort();
            s.dedup();
            (
                s,
                format!("VEX from {}: {} statement(s)", d.author, d.statements.len()),
            )
        }
    }
}
