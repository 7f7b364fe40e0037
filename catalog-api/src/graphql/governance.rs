//! Release governance: the policy gate (`deploymentCheck`), the policy sets in force, and
//! approvals (`approve`, `reject`: the approve scope).

use super::{app, blocking, graph, require};
use crate::auth::{Caller, Scope};
use crate::errors::ApiError;
use crate::policy::{self, Proposal};
use async_graphql::{Context, Object, SimpleObject};
use catalog_core::event::{Event, NewEvent};
use catalog_core::governance::{Approval as CoreApproval, Decision};
use chrono::{DateTime, Utc};

/// Why a policy denies.
#[derive(SimpleObject)]
pub struct PolicyReason {
    /// The policy (its Rego package, e.g. `catalog.prod`).
    policy: String,
    message: String,
}

/// A policy verdict on a proposed deployment.
#[derive(SimpleObject)]
pub struct DeploymentCheck {
    /// True when no policy denies (and when no policy set is in force).
    allowed: bool,
    reasons: Vec<PolicyReason>,
    /// The digest of the policy set that judged.
    policy_set: Option<String>,
    /// The input the policies saw, as JSON text (for writing and debugging policies).
    input: String,
}

/// One file of a policy set.
#[derive(SimpleObject)]
pub struct PolicyFileInfo {
    file: String,
    /// The Rego package, without `data.`.
    package: String,
    digest: String,
}

/// A policy set that was in force.
#[derive(SimpleObject)]
pub struct PolicySetInfo {
    digest: String,
    files: Vec<PolicyFileInfo>,
    /// When it was put in force, and by which process.
    loaded_at: DateTime<Utc>,
    actor: String,
}

/// Why the newest set read from the policy directory was refused.
#[derive(SimpleObject)]
pub struct PolicyLoadError {
    file: String,
    /// The compiler's message, with the line and column.
    message: String,
}

/// The policy sets.
#[derive(SimpleObject)]
pub struct Policies {
    /// The set in force (the newest recorded).
    in_force: Option<PolicySetInfo>,
    /// Every set that was in force, newest first.
    history: Vec<PolicySetInfo>,
    /// Why the directory's newest set was refused (the set in force stayed).
    last_error: Option<PolicyLoadError>,
}

/// An approval or rejection of a component version for an environment.
#[derive(SimpleObject)]
pub struct ApprovalInfo {
    component: String,
    version: String,
    environment: String,
    /// `approved` or `rejected`.
    decision: String,
    approver: String,
    comment: Option<String>,
    at: DateTime<Utc>,
}

/// Something an observer (a `kubernetes` snapshot, Argo CD, Flux) showed running in a
/// workload that no pipeline (`catalog deploy`, `/hooks/deployments`, the API) recorded
/// putting there: an unrecorded change.
#[derive(SimpleObject)]
pub struct DriftFlag {
    environment: Option<String>,
    cluster: String,
    namespace: String,
    workload: String,
    component: Option<String>,
    version: Option<String>,
    digest: Option<String>,
    reference: Option<String>,
    /// The observer that showed it: kubernetes, argocd or flux.
    source: String,
    actor: String,
    since: DateTime<Utc>,
    /// When it stopped running there (null: it still runs).
    until: Option<DateTime<Utc>>,
}

#[derive(Default)]
pub struct GovernanceQuery;

#[Object]
impl GovernanceQuery {
    /// Asks the policies in force whether `component` `version` may be deployed to
    /// `cluster`/`namespace` (the workload defaults to the component's last path segment,
    /// the environment to the cluster's, the actor to the caller's token name). Records
    /// nothing: a pipeline asks this before deploying.
    #[allow(clippy::too_many_arguments)]
    async fn deployment_check(
        &self,
        ctx: &Context<'_>,
        component: String,
        version: String,
        cluster: String,
        namespace: String,
        workload: Option<String>,
        environment: Option<String>,
        actor: Option<String>,
    ) -> async_graphql::Result<DeploymentCheck> {
        let caller = ctx.data::<Caller>().cloned().unwrap_or_default();
        let workload = workload.unwrap_or_else(|| {
            component
                .rsplit('/')
                .next()
                .unwrap_or(&component)
                .to_string()
        });
        let proposal = Proposal {
            environment,
            cluster,
            namespace,
            workload,
            component,
            version,
            actor: actor.unwrap_or_else(|| caller.name()),
        };
        let input = {
            let g = graph(ctx)?;
            policy::input(&g, &proposal, Utc::now())
        };
        let verdict = app(ctx)?.policies.evaluate(&input);
        Ok(DeploymentCheck {
            allowed: verdict.allowed,
            reasons: verdict
                .reasons
                .into_iter()
                .map(|r| PolicyReason {
                    policy: r.policy,
                    message: r.message,
                })
                .collect(),
            policy_set: verdict.policy_set,
            input: input.to_string(),
        })
    }

    /// The policy set in force, those before it, and why the directory's newest was refused.
    async fn policies(&self, ctx: &Context<'_>) -> async_graphql::Result<Policies> {
        let info = |r: &catalog_core::governance::PolicySetRecord| PolicySetInfo {
            digest: r.set.digest.clone(),
            files: r
                .set
                .files
                .iter()
                .map(|f| PolicyFileInfo {
                    file: f.file.clone(),
                    package: f
                        .package
                        .strip_prefix("data.")
                        .unwrap_or(&f.package)
                        .to_string(),
                    digest: f.digest.clone(),
                })
                .collect(),
            loaded_at: r.at,
            actor: r.actor.clone(),
        };
        let (in_force, history) = {
            let g = graph(ctx)?;
            let gov = g.governance();
            (
                gov.policy_set_in_force().map(info),
                gov.policy_sets().iter().rev().map(info).collect(),
            )
        };
        Ok(Policies {
            in_force,
            history,
            last_error: app(ctx)?.policies.last_error().map(|e| PolicyLoadError {
                file: e.file,
                message: e.message,
            }),
        })
    }

    /// Unrecorded changes, newest first, in an environment, cluster or namespace (all when
    /// none is given), optionally only those of `component`. Flags stay after the workload
    /// moves on (`until`).
    async fn drift(
        &self,
        ctx: &Context<'_>,
        environment: Option<String>,
        cluster: Option<String>,
        namespace: Option<String>,
        component: Option<String>,
    ) -> async_graphql::Result<Vec<DriftFlag>> {
        let g = graph(ctx)?;
        let scope = catalog_core::graph::InventoryScope {
            environment,
            cluster,
            namespace,
        };
        Ok(g.drift(&scope, component.as_deref())
            .into_iter()
            .map(|d| DriftFlag {
                environment: d.environment,
                cluster: d.cluster,
                namespace: d.namespace,
                workload: d.workload,
                component: d.component,
                version: d.version,
                digest: d.digest,
                reference: d.reference,
                source: d.source,
                actor: d.actor,
                since: d.since,
                until: d.until,
            })
            .collect())
    }

    /// Approvals and rejections of a component version, oldest first (`environment` narrows).
    async fn approvals(
        &self,
        ctx: &Context<'_>,
        component: String,
        version: String,
        environment: Option<String>,
    ) -> async_graphql::Result<Vec<ApprovalInfo>> {
        let g = graph(ctx)?;
        Ok(g.governance()
            .approvals(&component, &version, environment.as_deref())
            .into_iter()
            .map(|r| ApprovalInfo {
                component: r.approval.component,
                version: r.approval.version,
                environment: r.approval.environment,
                decision: r.approval.decision.as_str().to_string(),
                approver: r.approval.approver,
                comment: r.approval.comment,
                at: r.at,
            })
            .collect())
    }
}

#[derive(Default)]
pub struct GovernanceMutation;

#[Object]
impl GovernanceMutation {
    /// Approves `component` `version` for `environment` (approve scope). The approver is the
    /// token's name, which policies compare with the deployer (separation of duties).
    async fn approve(
        &self,
        ctx: &Context<'_>,
        component: String,
        version: String,
        environment: String,
        comment: Option<String>,
    ) -> async_graphql::Result<ApprovalInfo> {
        decide(
            ctx,
            component,
            version,
            environment,
            comment,
            Decision::Approved,
        )
        .await
    }

    /// Rejects `component` `version` for `environment` (approve scope).
    async fn reject(
        &self,
        ctx: &Context<'_>,
        component: String,
        version: String,
        environment: String,
        comment: Option<String>,
    ) -> async_graphql::Result<ApprovalInfo> {
        decide(
            ctx,
            component,
            version,
            environment,
            comment,
            Decision::Rejected,
        )
        .await
    }
}

async fn decide(
    ctx: &Context<'_>,
    component: String,
    version: String,
    environment: String,
    comment: Option<String>,
    decision: Decision,
) -> async_graphql::Result<ApprovalInfo> {
    let caller = require(ctx, Scope::Approve)?;
    let (component, version, environment) = (
        component.trim().to_string(),
        version.trim().to_string(),
        environment.trim().to_string(),
    );
    if environment.is_empty()
        || environment.len() > 253
        || environment.chars().any(char::is_control)
    {
        return Err(
            ApiError::bad("environment", "must be 1 to 253 printable characters").graphql(),
        );
    }
    let comment = match comment.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(t) if t.len() > 2000 || t.chars().any(char::is_control) => {
            return Err(
                ApiError::bad("comment", "must be at most 2000 printable characters").graphql(),
            )
        }
        Some(t) => Some(t.to_string()),
    };
    {
        let g = graph(ctx)?;
        if g.component(&component).is_none() {
            return Err(ApiError::bad(
                "component",
                format!("no component {component:?} is in the catalog"),
            )
            .graphql());
        }
        if g.version(&component, &version).is_none() {
            return Err(ApiError::bad(
                "version",
                format!("{component} has no version {version:?} in the catalog"),
            )
            .graphql());
        }
    }
    let now = Utc::now();
    let approval = CoreApproval {
        component: component.clone(),
        version: version.clone(),
        environment: environment.clone(),
        decision,
        approver: caller.name(),
        comment: comment.clone(),
    };
    let ev = NewEvent {
        // Unique per call: each decision is one of its own.
        key: format!(
            "approval:{component}@{version}:{environment}:{}:{}",
            caller.name(),
            now.timestamp_nanos_opt().unwrap_or_default()
        ),
        occurred_at: now,
        source: "api".into(),
        actor: caller.name(),
        event: Event::ApprovalRecorded(approval),
    };
    let a = app(ctx)?;
    let (store, sync) = (a.store.clone(), a.sync.clone());
    blocking(move || {
        store.record(&[(None, vec![ev])])?;
        sync.sync()
    })
    .await?;
    Ok(ApprovalInfo {
        component,
        version,
        environment,
        decision: decision.as_str().to_string(),
        approver: caller.name(),
        comment,
        at: now,
    })
}
