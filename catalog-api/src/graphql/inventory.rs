//! Deployments and inventory: what runs where, now or `at` any past moment; history; the
//! difference between two environments; DORA metrics; and a live stream of changes.

use super::paging::{CountedConnection, KeyWindow, Window};
use super::types::{ComponentVersion, Image, Team};
use super::{app, graph};
use crate::errors::ApiError;
use async_graphql::{
    ComplexObject, Context, Enum, InputObject, Object, SimpleObject, Subscription,
};
use catalog_core::deployment::DeploymentStatus as CoreStatus;
use catalog_core::event::Event;
use catalog_core::{model, DeploymentFilter, InventoryScope, WhereIs};
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum DeploymentStatus {
    Progressing,
    Healthy,
    Degraded,
    Failed,
    RolledBack,
    Removed,
}

impl From<CoreStatus> for DeploymentStatus {
    fn from(s: CoreStatus) -> Self {
        match s {
            CoreStatus::Progressing => DeploymentStatus::Progressing,
            CoreStatus::Healthy => DeploymentStatus::Healthy,
            CoreStatus::Degraded => DeploymentStatus::Degraded,
            CoreStatus::Failed => DeploymentStatus::Failed,
            CoreStatus::RolledBack => DeploymentStatus::RolledBack,
            CoreStatus::Removed => DeploymentStatus::Removed,
        }
    }
}

/// A workload running something over `[since, until)`.
#[derive(SimpleObject, Clone)]
pub struct Deployment {
    /// Stable: `cluster/namespace/workload#<key of the event that started it>`.
    pub id: String,
    pub environment: Option<String>,
    pub cluster: String,
    pub namespace: String,
    pub workload: String,
    pub since: DateTime<Utc>,
    /// When it stopped running: replaced, removed, or missing from a cluster snapshot.
    pub until: Option<DateTime<Utc>>,
    /// As of the moment asked about (the last one for history).
    pub status: DeploymentStatus,
    /// When the deploy tool last reported on it (as of the moment asked about).
    pub reported_at: DateTime<Utc>,
    pub replicas: Option<i32>,
    /// What runs in it, resolved against the catalog as it is now.
    pub runs: Vec<RunningImage>,
    /// argocd, flux, cli, kubernetes or api.
    pub source: String,
    /// The token (or sender) that reported it.
    pub actor: String,
    /// The git revision the deploy tool deployed.
    pub revision: Option<String>,
    /// A link back to the deploy tool.
    pub url: Option<String>,
}

impl From<model::Deployment> for Deployment {
    fn from(d: model::Deployment) -> Self {
        Deployment {
            id: d.id,
            environment: d.environment,
            cluster: d.cluster,
            namespace: d.namespace,
            workload: d.workload,
            since: d.since,
            until: d.until,
            status: d.status.into(),
            reported_at: d.reported_at,
            replicas: d.replicas,
            runs: d.runs.into_iter().map(RunningImage).collect(),
            source: d.source,
            actor: d.actor,
            revision: d.revision,
            url: d.url,
        }
    }
}

/// A run's part in a canary rollout (or a blue/green rollout's active and preview sides).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum RunTrack {
    /// What the rollout moves away from (blue/green: the active side).
    Stable,
    /// What the rollout moves to (blue/green: the preview).
    Canary,
}

/// One thing running in a deployment. An image the catalog had not seen when it was deployed
/// is linked once it is registered (`known` turns true).
#[derive(Clone)]
pub struct RunningImage(model::RunningImage);

#[Object]
impl RunningImage {
    async fn container(&self) -> Option<&str> {
        self.0.container.as_deref()
    }
    /// The reference as the deploy tool gave it.
    async fn reference(&self) -> Option<&str> {
        self.0.reference.as_deref()
    }
    /// The digest: as reported, else what the tag pointed at when it was deployed.
    async fn digest(&self) -> Option<&str> {
        self.0.digest.as_deref()
    }
    async fn component(&self) -> Option<&str> {
        self.0.component.as_deref()
    }
    async fn version(&self) -> Option<&str> {
        self.0.version.as_deref()
    }
    /// The owning team's name (see `ownerTeam` for the team itself).
    async fn owner(&self) -> Option<&str> {
        self.0.owner.as_deref()
    }
    /// True when the catalog knows the image.
    async fn known(&self) -> bool {
        self.0.known
    }
    /// Its share of the workload's traffic in percent, when the deploy tool reported one
    /// (canary weights; a blue/green color's 100 or 0).
    async fn traffic_percent(&self) -> Option<i32> {
        self.0.traffic.map(i32::from)
    }
    /// Stable or canary, in a progressive rollout.
    async fn track(&self) -> Option<RunTrack> {
        self.0.track.map(|t| match t {
            catalog_core::deployment::Track::Stable => RunTrack::Stable,
            catalog_core::deployment::Track::Canary => RunTrack::Canary,
        })
    }
    async fn owner_team(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Team>> {
        let Some(o) = &self.0.owner else {
            return Ok(None);
        };
        Ok(graph(ctx)?.team(o).map(Team))
    }
    async fn component_version(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<ComponentVersion>> {
        let (Some(c), Some(v)) = (&self.0.component, &self.0.version) else {
            return Ok(None);
        };
        Ok(graph(ctx)?.version(c, v).map(ComponentVersion))
    }
    async fn image(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Image>> {
        let Some(d) = &self.0.digest else {
            return Ok(None);
        };
        Ok(graph(ctx)?.image(d).map(Image))
    }
}

#[derive(SimpleObject)]
pub struct Cluster {
    pub name: String,
    pub environment: Option<String>,
    /// Workloads running now.
    pub workloads: i32,
    pub last_seen: DateTime<Utc>,
}

#[derive(SimpleObject)]
pub struct Environment {
    pub name: String,
    pub clusters: Vec<String>,
}

/// Environment, cluster and/or namespace; all empty means everywhere.
#[derive(InputObject, Clone, Default)]
pub struct ScopeInput {
    pub environment: Option<String>,
    pub cluster: Option<String>,
    pub namespace: Option<String>,
}

impl From<ScopeInput> for InventoryScope {
    fn from(s: ScopeInput) -> Self {
        InventoryScope {
            environment: s.environment,
            cluster: s.cluster,
            namespace: s.namespace,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum DifferenceKind {
    /// Runs in `from` only.
    OnlyInFrom,
    /// Runs in `to` only.
    OnlyInTo,
    /// Runs in both, in different versions.
    VersionsDiffer,
}

/// A configuration key whose value differs between the two scopes.
#[derive(SimpleObject)]
pub struct ConfigDifference {
    pub key: String,
    /// Its value in `from`; null when not set there.
    pub from_value: Option<String>,
    /// Its value in `to`; null when not set there.
    pub to_value: Option<String>,
}

/// What the diff's connection holds besides its page of components.
#[derive(SimpleObject)]
pub struct DiffFields {
    /// How many components differ (every page together).
    pub total_count: i32,
    /// The configuration keys whose values differ, all of them (not paged), by key.
    pub configuration: Vec<ConfigDifference>,
}

pub type DiffConnection = async_graphql::connection::Connection<
    async_graphql::connection::OpaqueCursor<super::paging::At>,
    ComponentDifference,
    DiffFields,
    async_graphql::connection::EmptyFields,
>;

/// A value in force, and the scope that set it.
#[derive(SimpleObject)]
pub struct ConfigValue {
    pub key: String,
    pub value: String,
    /// `environment`, `cluster` or `namespace`: the layer the value comes from.
    pub level: String,
    /// The environment, cluster or `cluster/namespace` that set it.
    pub scope: String,
    pub set_at: DateTime<Utc>,
    pub set_by: String,
}

/// One setting of a key (a null value: removed).
#[derive(SimpleObject)]
pub struct ConfigChange {
    pub key: String,
    pub value: Option<String>,
    pub at: DateTime<Utc>,
    pub actor: String,
}

fn scope_name(s: &catalog_core::configuration::ConfigScope) -> String {
    use catalog_core::configuration::ConfigScope as S;
    match s {
        S::Environment(n) | S::Cluster(n) => n.clone(),
        S::Namespace { cluster, namespace } => format!("{cluster}/{namespace}"),
    }
}

#[derive(SimpleObject)]
pub struct ComponentDifference {
    pub component: String,
    pub from_versions: Vec<String>,
    pub to_versions: Vec<String>,
    pub change: DifferenceKind,
}

/// DORA's four keys for one component in one environment over a window.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct DoraMetrics {
    pub component: String,
    pub environment: Option<String>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Deployments started in the window (a new version in a workload).
    pub deployments: i32,
    pub deployments_per_day: f64,
    /// From the image's creation (else the version's first push) to its deployment.
    pub lead_time_median_seconds: Option<f64>,
    pub lead_time_p90_seconds: Option<f64>,
    /// Deployments that failed or degraded, or were rolled back by the next one.
    pub failed_deployments: i32,
    pub change_failure_rate: Option<f64>,
    /// From a failure to the workload's next healthy (or rolled-back) report.
    pub time_to_restore_median_seconds: Option<f64>,
    pub restored: i32,
    /// Mean time to failure: how long the component ran in scope during the window (any
    /// workload), less the time from each failure to its restore, per failed deployment.
    /// Null without a failure.
    pub mean_time_to_failure_seconds: Option<f64>,
}

#[ComplexObject]
impl DoraMetrics {
    /// Hours, for people: the median lead time.
    async fn lead_time_median_hours(&self) -> Option<f64> {
        self.lead_time_median_seconds.map(|s| s / 3600.0)
    }
}

/// A change to one workload, as it reached the catalog.
#[derive(SimpleObject)]
pub struct DeploymentChange {
    /// The event's sequence number in the log.
    pub seq: i64,
    /// When it happened at the source.
    pub at: DateTime<Utc>,
    pub cluster: String,
    pub namespace: String,
    pub workload: String,
    /// What the event reported.
    pub status: DeploymentStatus,
    /// What runs there now (null when the workload no longer runs).
    pub deployment: Option<Deployment>,
}

fn parse_digest(field: &str, d: &str) -> async_graphql::Result<String> {
    if catalog_core::identity::valid_digest(d) {
        Ok(d.to_string())
    } else {
        Err(ApiError::bad(field, format!("{d:?} is not a digest (sha256:<64 hex>)")).graphql())
    }
}

#[derive(Default)]
pub struct InventoryQuery;

#[Object]
impl InventoryQuery {
    /// What runs in an environment, cluster or namespace (all empty: everywhere), now or as it
    /// was `at` a past moment; by cluster, namespace and workload.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "1 + super::listed(first) * child_complexity")]
    async fn inventory(
        &self,
        ctx: &Context<'_>,
        environment: Option<String>,
        cluster: Option<String>,
        namespace: Option<String>,
        at: Option<DateTime<Utc>>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CountedConnection<Deployment>> {
        let w = Window::new("inventory", first, after)?;
        let scope = InventoryScope {
            environment,
            cluster,
            namespace,
        };
        // Only the page is built: a cluster holds thousands of workloads, a page 50.
        let (total, page) = graph(ctx)?.inventory_page(&scope, at, w.offset, w.first);
        let has_next = total > w.offset + page.len();
        Ok(w.connection(
            page.into_iter().map(Deployment::from).collect(),
            has_next,
            total,
        ))
    }

    /// Where a component, a component version, or an image (by digest, an index or one of
    /// its platform manifests) runs, now or `at` a past moment. Give `component` (with an
    /// optional `version`) or `image`.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "1 + super::listed(first) * child_complexity")]
    async fn where_is(
        &self,
        ctx: &Context<'_>,
        component: Option<String>,
        version: Option<String>,
        image: Option<String>,
        at: Option<DateTime<Utc>>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CountedConnection<Deployment>> {
        let w = Window::new("whereIs", first, after)?;
        let what = match (component, version, image) {
            (Some(c), None, None) => WhereIs::Component(c),
            (Some(component), Some(version), None) => WhereIs::Version { component, version },
            (None, None, Some(d)) => WhereIs::Image(parse_digest("image", &d)?),
            (None, Some(_), _) => {
                return Err(ApiError::bad("version", "needs `component`").graphql())
            }
            (None, None, None) => {
                return Err(ApiError::bad(
                    "component",
                    "give `component` (and `version`) or `image`",
                )
                .graphql())
            }
            (Some(_), _, Some(_)) => {
                return Err(
                    ApiError::bad("image", "give either `component` or `image`, not both")
                        .graphql(),
                )
            }
        };
        let items = graph(ctx)?.where_is(&what, at);
        Ok(w.cut(items.into_iter().map(Deployment::from).collect()))
    }

    /// Deployment history, newest first, Relay-paginated; each deployment as it ended (or
    /// stands now).
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "1 + super::listed(first) * child_complexity")]
    async fn deployments(
        &self,
        ctx: &Context<'_>,
        environment: Option<String>,
        cluster: Option<String>,
        namespace: Option<String>,
        workload: Option<String>,
        component: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CountedConnection<Deployment>> {
        let w = KeyWindow::new("deployments", first, after)?;
        if w.key
            .as_deref()
            .is_some_and(|k| !catalog_core::graph::valid_deployment_cursor(k))
        {
            return Err(ApiError::bad("after", "is not a cursor of this connection").graphql());
        }
        let filter = DeploymentFilter {
            scope: InventoryScope {
                environment,
                cluster,
                namespace,
            },
            workload,
            component,
        };
        // The count walks the whole filtered history: only when asked for.
        let counted = ctx.look_ahead().field("totalCount").exists();
        let c = graph(ctx)?;
        let page = c.deployments(&filter, w.size + 1, w.key.as_deref());
        let total = if counted {
            c.deployment_count(&filter)
        } else {
            0
        };
        let items = page
            .items
            .into_iter()
            .map(|d| {
                (
                    c.deployment_cursor(&d).unwrap_or_default(),
                    Deployment::from(d),
                )
            })
            .collect();
        Ok(w.connection(items, total))
    }

    /// Environments and their clusters (configuration, else what events said).
    async fn environments(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Environment>> {
        Ok(graph(ctx)?
            .environments()
            .into_iter()
            .map(|e| Environment {
                name: e.name,
                clusters: e.clusters,
            })
            .collect())
    }

    /// Every cluster the catalog has heard of.
    async fn clusters(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Cluster>> {
        Ok(graph(ctx)?
            .clusters()
            .into_iter()
            .map(|c| Cluster {
                name: c.name,
                environment: c.environment,
                workloads: c.workloads as i32,
                last_seen: c.last_seen,
            })
            .collect())
    }

    /// What runs differently in two scopes (e.g. staging against prod), component by
    /// component, now or `at` a moment; components running the same versions are left out.
    #[graphql(complexity = "1 + super::listed(first) * child_complexity")]
    async fn inventory_diff(
        &self,
        ctx: &Context<'_>,
        from: ScopeInput,
        to: ScopeInput,
        at: Option<DateTime<Utc>>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<DiffConnection> {
        let w = Window::new("inventoryDiff", first, after)?;
        let g = graph(ctx)?;
        let (from, to): (InventoryScope, InventoryScope) = (from.into(), to.into());
        let configuration = g
            .configuration_diff(&from, &to, at)
            .into_iter()
            .map(|d| ConfigDifference {
                key: d.key,
                from_value: d.from,
                to_value: d.to,
            })
            .collect();
        let diff = g.inventory_diff(&from, &to, at);
        drop(g);
        let page = w.cut(
            diff.into_iter()
                .map(|d| ComponentDifference {
                    component: d.component,
                    from_versions: d.from_versions,
                    to_versions: d.to_versions,
                    change: match d.change {
                        model::DifferenceKind::OnlyInFrom => DifferenceKind::OnlyInFrom,
                        model::DifferenceKind::OnlyInTo => DifferenceKind::OnlyInTo,
                        model::DifferenceKind::VersionsDiffer => DifferenceKind::VersionsDiffer,
                    },
                })
                .collect(),
        );
        let mut out = DiffConnection::with_additional_fields(
            page.has_previous_page,
            page.has_next_page,
            DiffFields {
                total_count: page.additional_fields.total_count,
                configuration,
            },
        );
        out.edges = page.edges;
        Ok(out)
    }

    /// The configuration in force in a scope, now or `at` a moment: an environment's values;
    /// for a cluster, its environment's overridden by its own; for a namespace (with its
    /// cluster), those overridden by the namespace's. By key.
    #[graphql(complexity = "1 + super::listed(first) * child_complexity")]
    #[allow(clippy::too_many_arguments)]
    async fn configuration(
        &self,
        ctx: &Context<'_>,
        environment: Option<String>,
        cluster: Option<String>,
        namespace: Option<String>,
        at: Option<DateTime<Utc>>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CountedConnection<ConfigValue>> {
        let w = Window::new("configuration", first, after)?;
        if environment.is_none() && cluster.is_none() {
            return Err(ApiError::bad("environment", "name an environment or a cluster").graphql());
        }
        let scope = InventoryScope {
            environment,
            cluster,
            namespace,
        };
        let values = graph(ctx)?.configuration(&scope, at);
        Ok(w.cut(
            values
                .into_values()
                .map(|v| ConfigValue {
                    key: v.key,
                    value: v.value,
                    level: v.scope.level().to_string(),
                    scope: scope_name(&v.scope),
                    set_at: v.at,
                    set_by: v.actor,
                })
                .collect(),
        ))
    }

    /// Every setting made in exactly one scope (an environment, a cluster, or a cluster's
    /// namespace), of one key or all, oldest first.
    #[graphql(complexity = "1 + super::listed(first) * child_complexity")]
    #[allow(clippy::too_many_arguments)]
    async fn configuration_history(
        &self,
        ctx: &Context<'_>,
        environment: Option<String>,
        cluster: Option<String>,
        namespace: Option<String>,
        key: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CountedConnection<ConfigChange>> {
        use catalog_core::configuration::ConfigScope as S;
        let w = Window::new("configurationHistory", first, after)?;
        let scope = match (environment, cluster, namespace) {
            (Some(e), None, None) => S::Environment(e),
            (None, Some(c), None) => S::Cluster(c),
            (None, Some(cluster), Some(namespace)) => S::Namespace { cluster, namespace },
            _ => {
                return Err(ApiError::bad(
                    "environment",
                    "name an environment, a cluster, or a cluster and a namespace",
                )
                .graphql())
            }
        };
        let history = graph(ctx)?.configuration_history(&scope, key.as_deref());
        Ok(w.cut(
            history
                .into_iter()
                .map(|h| ConfigChange {
                    key: h.key,
                    value: h.value,
                    at: h.at,
                    actor: h.actor,
                })
                .collect(),
        ))
    }

    /// DORA metrics of a component over `[from, to)`, in one environment or everywhere.
    async fn dora(
        &self,
        ctx: &Context<'_>,
        component: String,
        environment: Option<String>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> async_graphql::Result<DoraMetrics> {
        if to <= from {
            return Err(ApiError::bad("to", "must be after `from`").graphql());
        }
        let m = graph(ctx)?.dora(&component, environment.as_deref(), from, to);
        Ok(DoraMetrics {
            component: m.component,
            environment: m.environment,
            from: m.from,
            to: m.to,
            deployments: m.deployments as i32,
            deployments_per_day: m.deployments_per_day,
            lead_time_median_seconds: m.lead_time_median_seconds,
            lead_time_p90_seconds: m.lead_time_p90_seconds,
            failed_deployments: m.failed_deployments as i32,
            change_failure_rate: m.change_failure_rate,
            time_to_restore_median_seconds: m.time_to_restore_median_seconds,
            restored: m.restored as i32,
            mean_time_to_failure_seconds: m.mean_time_to_failure_seconds,
        })
    }
}

#[derive(Default)]
pub struct InventorySubscription;

#[Subscription]
impl InventorySubscription {
    /// Deployment changes as they reach the catalog, optionally only those of an
    /// environment, cluster or namespace. A client too slow to keep up skips changes rather
    /// than slowing ingest; re-query `inventory` after reconnecting.
    async fn deployment_changed(
        &self,
        ctx: &Context<'_>,
        environment: Option<String>,
        cluster: Option<String>,
        namespace: Option<String>,
    ) -> async_graphql::Result<impl Stream<Item = DeploymentChange>> {
        let app = app(ctx)?.clone();
        let mut batches = super::live::applied(&app);
        let scope = InventoryScope {
            environment,
            cluster,
            namespace,
        };
        Ok(async_stream::stream! {
            while let Some(batch) = batches.next().await {
                let mut out = Vec::new();
                if let Ok(c) = app.catalog.read() {
                    for e in batch.iter() {
                        for (cluster, namespace, workload, status) in changes_of(&c, e) {
                            let env = c.cluster_environment(&cluster);
                            let in_scope = scope.cluster.as_ref().is_none_or(|x| *x == cluster)
                                && scope.namespace.as_ref().is_none_or(|x| *x == namespace)
                                && scope
                                    .environment
                                    .as_ref()
                                    .is_none_or(|x| Some(x) == env.as_ref());
                            if !in_scope {
                                continue;
                            }
                            out.push(DeploymentChange {
                                seq: e.seq,
                                at: e.occurred_at,
                                deployment: c
                                    .workload(&cluster, &namespace, &workload)
                                    .map(Deployment::from),
                                cluster,
                                namespace,
                                workload,
                                status: status.into(),
                            });
                        }
                    }
                }
                for change in out {
                    yield change;
                }
            }
        })
    }
}

/// The workloads an event changes: (cluster, namespace, workload, reported status). A
/// snapshot changes those it lists and ends those of its cluster it does not.
fn changes_of(
    c: &catalog_core::Catalog,
    e: &catalog_core::RecordedEvent,
) -> Vec<(String, String, String, CoreStatus)> {
    match &e.event {
        Event::DeploymentObserved(d) => vec![(
            d.cluster.clone(),
            d.namespace.clone(),
            d.workload.clone(),
            d.status,
        )],
        Event::ClusterSnapshot(s) => {
            let listed: std::collections::HashSet<(&str, &str)> = s
                .workloads
                .iter()
                .map(|w| (w.namespace.as_str(), w.workload.as_str()))
                .collect();
            let scope = InventoryScope {
                cluster: Some(s.cluster.clone()),
                ..InventoryScope::default()
            };
            let before = e.occurred_at - chrono::Duration::microseconds(1);
            let ended = c
                .inventory(&scope, Some(before))
                .into_iter()
                .filter(|d| !listed.contains(&(d.namespace.as_str(), d.workload.as_str())))
                .map(|d| (d.cluster, d.namespace, d.workload, CoreStatus::Removed));
            s.workloads
                .iter()
                .map(|w| {
                    (
                        s.cluster.clone(),
                        w.namespace.clone(),
                        w.workload.clone(),
                        w.status,
                    )
                })
                .chain(ended)
                .collect()
        }
        _ => Vec::new(),
    }
}
