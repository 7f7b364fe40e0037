//! Release governance: the policy gate (`deploymentCheck`), the policy sets in force, and
//! approvals (`approve`, `reject`: the approve scope).

use super::{app, graph, record_now, require};
use crate::auth::{Caller, Scope};
use crate::errors::ApiError;
use crate::policy::{self, Proposal};
use async_graphql::{Context, Object, SimpleObject};
use catalog_core::event::{Event, NewEvent};
use catalog_core::governance::{
    Approval as CoreApproval, CalendarEntry as CoreEntry, CalendarKind, Decision,
};
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

/// A release window, freeze or planned release of an environment.
#[derive(SimpleObject)]
pub struct CalendarEntry {
    /// Stable id (the feed's UID); scheduling again with it replaces the entry.
    id: String,
    environment: String,
    /// `release-window`, `freeze` or `planned-release`.
    kind: String,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    summary: String,
    component: Option<String>,
    version: Option<String>,
    /// Who scheduled it, and when.
    actor: String,
    recorded_at: DateTime<Utc>,
}

fn entry(r: &catalog_core::governance::CalendarRecord) -> CalendarEntry {
    CalendarEntry {
        id: r.entry.id.clone(),
        environment: r.entry.environment.clone(),
        kind: crate::calendar::category(r.entry.category).to_string(),
        start: r.entry.start,
        end: r.entry.end,
        summary: r.entry.summary.clone(),
        component: r.entry.component.clone(),
        version: r.entry.version.clone(),
        actor: r.actor.clone(),
        recorded_at: r.at,
    }
}

/// An observed deployment the policies in force denied: it went out against policy.
#[derive(SimpleObject)]
pub struct PolicyViolation {
    environment: Option<String>,
    cluster: String,
    namespace: String,
    workload: String,
    component: String,
    version: String,
    /// Who deployed it.
    deployer: String,
    /// The key of the deployment event judged.
    deployment: String,
    policy_set: String,
    reasons: Vec<PolicyReason>,
    /// When the deployment happened.
    at: DateTime<Utc>,
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

    /// Deployments that went out against policy, newest first (every observed deployment is
    /// judged by the set in force when it is recorded), of `environment` and `component`
    /// when given, at most `first` (100).
    async fn policy_violations(
        &self,
        ctx: &Context<'_>,
        environment: Option<String>,
        component: Option<String>,
        #[graphql(default = 100)] first: i32,
    ) -> async_graphql::Result<Vec<PolicyViolation>> {
        if !(0..=1000).contains(&first) {
            return Err(ApiError::bad("first", "must be between 0 and 1000").graphql());
        }
        let g = graph(ctx)?;
        Ok(g.governance()
            .violations(environment.as_deref(), component.as_deref())
            .into_iter()
            .take(first as usize)
            .map(|r| {
                let v = &r.violation;
                PolicyViolation {
                    environment: v.environment.clone(),
                    cluster: v.cluster.clone(),
                    namespace: v.namespace.clone(),
                    workload: v.workload.clone(),
                    component: v.component.clone(),
                    version: v.version.clone(),
                    deployer: v.deployer.clone(),
                    deployment: v.deployment.clone(),
                    policy_set: v.policy_set.clone(),
                    reasons: v
                        .reasons
                        .iter()
                        .map(|x| PolicyReason {
                            policy: x.policy.clone(),
                            message: x.message.clone(),
                        })
                        .collect(),
                    at: r.at,
                }
            })
            .collect())
    }

    /// Release windows, freezes and planned releases by start, of `environment` (all when
    /// omitted), overlapping `from`..`to` when given. The same, as a feed any calendar
    /// application subscribes to: `/calendar/<environment>.ics`.
    async fn calendar(
        &self,
        ctx: &Context<'_>,
        environment: Option<String>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<Vec<CalendarEntry>> {
        let g = graph(ctx)?;
        Ok(g.governance()
            .calendar(environment.as_deref(), from, to)
            .into_iter()
            .map(entry)
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

    /// Schedules a release window (or, with `freeze`, a freeze) of `environment` from `start`
    /// to `end` (approve scope). Giving the `id` of an existing entry replaces it.
    #[allow(clippy::too_many_arguments)]
    async fn schedule_release_window(
        &self,
        ctx: &Context<'_>,
        environment: String,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        summary: String,
        #[graphql(default)] freeze: bool,
        id: Option<String>,
    ) -> async_graphql::Result<CalendarEntry> {
        let kind = if freeze {
            CalendarKind::Freeze
        } else {
            CalendarKind::Window
        };
        schedule(ctx, id, environment, kind, start, end, summary, None, None).await
    }

    /// Plans a release of `component` `version` to `environment` at `start` (until `end`,
    /// default an hour later) (approve scope). The version must be in the catalog.
    #[allow(clippy::too_many_arguments)]
    async fn plan_release(
        &self,
        ctx: &Context<'_>,
        environment: String,
        component: String,
        version: String,
        start: DateTime<Utc>,
        end: Option<DateTime<Utc>>,
        summary: Option<String>,
        id: Option<String>,
    ) -> async_graphql::Result<CalendarEntry> {
        let end = end.unwrap_or(start + chrono::TimeDelta::hours(1));
        let summary = summary.unwrap_or_else(|| format!("release {component} {version}"));
        let (c, v) = (component.trim().to_string(), version.trim().to_string());
        schedule(
            ctx,
            id,
            environment,
            CalendarKind::Release,
            start,
            end,
            summary,
            Some(c),
            Some(v),
        )
        .await
    }

    /// Removes a calendar entry (approve scope); false when there is none with that id.
    async fn remove_calendar_entry(
        &self,
        ctx: &Context<'_>,
        id: String,
    ) -> async_graphql::Result<bool> {
        let caller = require(ctx, Scope::Approve)?;
        if graph(ctx)?.governance().calendar_entry_by_id(&id).is_none() {
            return Ok(false);
        }
        let now = Utc::now();
        let ev = NewEvent {
            key: format!(
                "calendar.removed:{id}:{}",
                now.timestamp_nanos_opt().unwrap_or_default()
            ),
            occurred_at: now,
            source: "api".into(),
            actor: caller.name(),
            event: Event::CalendarEntryRemoved { id },
        };
        let a = app(ctx)?;
        record_now(a, ev).await?;
        Ok(true)
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

const MAX_CALENDAR_SPAN: chrono::TimeDelta = chrono::TimeDelta::days(366);

fn printable(field: &str, v: &str, max: usize) -> async_graphql::Result<String> {
    let t = v.trim();
    if t.is_empty() || t.len() > max || t.chars().any(char::is_control) {
        return Err(
            ApiError::bad(field, format!("must be 1 to {max} printable characters")).graphql(),
        );
    }
    Ok(t.to_string())
}

/// Validates and records a calendar entry.
#[allow(clippy::too_many_arguments)]
async fn schedule(
    ctx: &Context<'_>,
    id: Option<String>,
    environment: String,
    kind: CalendarKind,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    summary: String,
    component: Option<String>,
    version: Option<String>,
) -> async_graphql::Result<CalendarEntry> {
    let caller = require(ctx, Scope::Approve)?;
    let environment = printable("environment", &environment, 253)?;
    let summary = printable("summary", &summary, 200)?;
    if end <= start {
        return Err(ApiError::bad("end", "must be after start").graphql());
    }
    if end - start > MAX_CALENDAR_SPAN {
        return Err(ApiError::bad("end", "an entry spans at most 366 days").graphql());
    }
    let id = match id {
        Some(i) => {
            let i = printable("id", &i, 128)?;
            if !i
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                return Err(
                    ApiError::bad("id", "letters, digits, '-', '_' and '.' only").graphql(),
                );
            }
            i
        }
        None => format!(
            "{}-{}",
            crate::calendar::category(kind),
            Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ),
    };
    if let (Some(c), Some(v)) = (&component, &version) {
        let g = graph(ctx)?;
        if g.version(c, v).is_none() {
            return Err(ApiError::bad(
                "version",
                format!("{c} has no version {v:?} in the catalog"),
            )
            .graphql());
        }
    }
    let now = Utc::now();
    let e = CoreEntry {
        id: id.clone(),
        environment,
        category: kind,
        start,
        end,
        summary,
        component,
        version,
    };
    let ev = NewEvent {
        key: format!(
            "calendar:{id}:{}",
            now.timestamp_nanos_opt().unwrap_or_default()
        ),
        occurred_at: now,
        source: "api".into(),
        actor: caller.name(),
        event: Event::CalendarEntryRecorded(e),
    };
    let a = app(ctx)?;
    record_now(a, ev).await?;
    let g = graph(ctx)?;
    g.governance()
        .calendar_entry_by_id(&id)
        .map(entry)
        .ok_or_else(|| ApiError::Internal("a recorded calendar entry is missing".into()).graphql())
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
    let (component, version) = (component.trim().to_string(), version.trim().to_string());
    let environment = printable("environment", &environment, 253)?;
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
    record_now(a, ev).await?;
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
