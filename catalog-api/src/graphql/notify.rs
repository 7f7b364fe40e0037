//! Notifications: the rules (who hears what), the endpoints the server has (names and kinds
//! only: URLs and keys are secrets), and the outbox (what was sent, what waits, what is
//! parked), with a retry for what is parked.

use super::{app, blocking, graph, name_ok, record_now, require};
use crate::auth::Scope;
use crate::errors::ApiError;
use async_graphql::{Context, Enum, Object, SimpleObject};
use catalog_core::event::{Event, NewEvent};
use catalog_core::notify::{NotificationRule as CoreRule, Severity, Trigger};
use catalog_schema::{OutboxRow, OutboxState};
use chrono::{DateTime, Utc};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "catalog_core::notify::Trigger")]
pub enum NotificationTrigger {
    /// A vulnerability (or a VEX `affected` statement) matches something running.
    Vulnerability,
    /// A deployment went out against policy.
    Violation,
    /// An observer shows something running that no pipeline recorded.
    Drift,
    /// A deployment failed or was rolled back.
    Failure,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "catalog_core::notify::Severity")]
pub enum NotificationSeverity {
    None,
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum OutboxEntryState {
    /// Waiting for its first attempt or a retry.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Out of attempts, or refused for good (a 4xx): waits for someone to retry it.
    Parked,
}

impl From<OutboxEntryState> for OutboxState {
    fn from(s: OutboxEntryState) -> OutboxState {
        match s {
            OutboxEntryState::Pending => OutboxState::Pending,
            OutboxEntryState::Delivered => OutboxState::Delivered,
            OutboxEntryState::Parked => OutboxState::Parked,
        }
    }
}

/// Which endpoints hear which triggers, for a team, an environment, or both.
#[derive(SimpleObject)]
pub struct NotificationRule {
    /// Null: any team (the route of teams without a matching rule of their own).
    team: Option<String>,
    /// Null: any environment.
    environment: Option<String>,
    endpoints: Vec<String>,
    on: Vec<NotificationTrigger>,
    /// Vulnerabilities below this are not notified.
    min_severity: Option<NotificationSeverity>,
    set_at: DateTime<Utc>,
    set_by: String,
}

/// An endpoint the server may notify, and its outbox.
#[derive(SimpleObject)]
pub struct NotificationEndpoint {
    name: String,
    /// webhook, slack, teams, pagerduty or opsgenie.
    kind: String,
    pending: i64,
    delivered: i64,
    parked: i64,
}

/// One notification to one endpoint.
#[derive(SimpleObject)]
pub struct OutboxEntry {
    id: i64,
    /// The idempotency key a receiver dedups by (the same on every attempt).
    key: String,
    endpoint: String,
    state: OutboxEntryState,
    attempts: i32,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    next_attempt_at: Option<DateTime<Utc>>,
    delivered_at: Option<DateTime<Utc>>,
    trigger: Option<NotificationTrigger>,
    /// TRIGGER or RESOLVE.
    action: String,
    /// The incident a trigger and its resolve share.
    dedup_key: Option<String>,
    title: String,
    summary: String,
    severity: Option<NotificationSeverity>,
    environment: Option<String>,
    team: Option<String>,
    /// Workloads affected, in all.
    affected_total: i32,
}

fn entry(r: OutboxRow) -> OutboxEntry {
    let n: Option<catalog_core::notify::Notification> = serde_json::from_str(&r.body).ok();
    let state = match r.state.as_str() {
        "delivered" => OutboxEntryState::Delivered,
        "parked" => OutboxEntryState::Parked,
        _ => OutboxEntryState::Pending,
    };
    OutboxEntry {
        id: r.id,
        key: n.as_ref().map_or_else(|| r.key.clone(), |n| n.key.clone()),
        endpoint: r.endpoint,
        state,
        attempts: r.attempts,
        last_error: r.last_error,
        created_at: catalog_schema::from_micros(r.created_at),
        next_attempt_at: (state == OutboxEntryState::Pending)
            .then(|| catalog_schema::from_micros(r.next_attempt_at)),
        delivered_at: r.delivered_at.map(catalog_schema::from_micros),
        trigger: n.as_ref().map(|n| n.trigger.into()),
        action: n
            .as_ref()
            .map_or("TRIGGER", |n| match n.action {
                catalog_core::notify::Action::Trigger => "TRIGGER",
                catalog_core::notify::Action::Resolve => "RESOLVE",
            })
            .to_string(),
        dedup_key: n.as_ref().map(|n| n.dedup_key.clone()),
        title: n.as_ref().map(|n| n.title.clone()).unwrap_or_default(),
        summary: n.as_ref().map(|n| n.summary.clone()).unwrap_or_default(),
        severity: n.as_ref().map(|n| n.severity.into()),
        environment: n.as_ref().and_then(|n| n.environment.clone()),
        team: n.as_ref().and_then(|n| n.team.clone()),
        affected_total: n
            .as_ref()
            .map_or(0, |n| n.affected_total.min(i32::MAX as usize) as i32),
    }
}

fn rule_of(r: &catalog_core::notify::RuleInForce) -> NotificationRule {
    NotificationRule {
        team: r.rule.team.clone(),
        environment: r.rule.environment.clone(),
        endpoints: r.rule.endpoints.clone(),
        on: r.rule.on.iter().map(|t| (*t).into()).collect(),
        min_severity: r.rule.min_severity.map(Into::into),
        set_at: r.set_at,
        set_by: r.set_by.clone(),
    }
}

#[derive(Default)]
pub struct NotifyQuery;

#[Object]
impl NotifyQuery {
    /// The notification rules in force, by team then environment.
    async fn notification_rules(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<NotificationRule>> {
        let g = graph(ctx)?;
        Ok(g.notification_rules().all().map(rule_of).collect())
    }

    /// The endpoints this server may notify (configured with `--notify-config`), with their
    /// outbox's counts. URLs and keys are never shown.
    async fn notification_endpoints(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<NotificationEndpoint>> {
        let a = app(ctx)?;
        let store = a.store.clone();
        let counts = blocking(move || store.outbox_counts()).await?;
        let count = |name: &str, state: &str| {
            counts
                .iter()
                .filter(|(e, s, _)| e == name && s == state)
                .map(|(_, _, n)| *n)
                .sum()
        };
        Ok(a.notify
            .config
            .endpoints
            .iter()
            .map(|e| NotificationEndpoint {
                name: e.name.clone(),
                kind: e.kind.as_str().to_string(),
                pending: count(&e.name, "pending"),
                delivered: count(&e.name, "delivered"),
                parked: count(&e.name, "parked"),
            })
            .collect())
    }

    /// The outbox, newest first: `first` entries (at most 500) with an id below `before`,
    /// optionally of one state and one endpoint.
    async fn notification_outbox(
        &self,
        ctx: &Context<'_>,
        state: Option<OutboxEntryState>,
        endpoint: Option<String>,
        first: Option<i32>,
        before: Option<i64>,
    ) -> async_graphql::Result<Vec<OutboxEntry>> {
        let first = super::page_size(first)? as i64;
        let store = app(ctx)?.store.clone();
        let rows = blocking(move || {
            store.outbox_rows(state.map(Into::into), endpoint.as_deref(), first, before)
        })
        .await?;
        Ok(rows.into_iter().map(entry).collect())
    }
}

#[derive(Default)]
pub struct NotifyMutation;

fn check_endpoints(ctx: &Context<'_>, endpoints: &[String]) -> async_graphql::Result<()> {
    let a = app(ctx)?;
    if endpoints.is_empty() {
        return Err(ApiError::bad("endpoints", "name at least one endpoint").graphql());
    }
    for e in endpoints {
        if a.notify.config.endpoint(e).is_none() {
            let known: Vec<&str> = a
                .notify
                .config
                .endpoints
                .iter()
                .map(|e| e.name.as_str())
                .collect();
            return Err(ApiError::bad(
                "endpoints",
                format!(
                    "{e:?} is not a configured endpoint (configured: {})",
                    if known.is_empty() {
                        "none; see --notify-config".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            )
            .graphql());
        }
    }
    Ok(())
}

#[Object]
impl NotifyMutation {
    /// Sets the rule of `team` (any team when null) in `environment` (any when null): which
    /// endpoints hear which triggers (catalog scope). It replaces that rule, if any.
    #[allow(clippy::too_many_arguments)]
    async fn set_notification_rule(
        &self,
        ctx: &Context<'_>,
        team: Option<String>,
        environment: Option<String>,
        endpoints: Vec<String>,
        on: Vec<NotificationTrigger>,
        min_severity: Option<NotificationSeverity>,
    ) -> async_graphql::Result<NotificationRule> {
        let caller = require(ctx, Scope::Catalog)?;
        let team = team.map(|t| name_ok("team", &t)).transpose()?;
        let environment = environment
            .map(|e| name_ok("environment", &e))
            .transpose()?;
        check_endpoints(ctx, &endpoints)?;
        if on.is_empty() {
            return Err(ApiError::bad("on", "name at least one trigger").graphql());
        }
        let mut on: Vec<Trigger> = on.into_iter().map(Into::into).collect();
        on.sort();
        on.dedup();
        let mut endpoints = endpoints;
        endpoints.sort();
        endpoints.dedup();
        let rule = CoreRule {
            team,
            environment,
            endpoints,
            on,
            min_severity: min_severity.map(Into::<Severity>::into),
            removed: false,
        };
        self.record(ctx, caller, rule.clone()).await?;
        // As the graph has it now (who set it, when), as `notificationRules` answers.
        let g = graph(ctx)?;
        let found = g
            .notification_rules()
            .all()
            .find(|r| r.rule.team == rule.team && r.rule.environment == rule.environment)
            .map(rule_of);
        found
            .ok_or_else(|| ApiError::Internal("the rule just set is not in force".into()).graphql())
    }

    /// Removes the rule of `team` in `environment` (catalog scope); true when there was one.
    async fn remove_notification_rule(
        &self,
        ctx: &Context<'_>,
        team: Option<String>,
        environment: Option<String>,
    ) -> async_graphql::Result<bool> {
        let caller = require(ctx, Scope::Catalog)?;
        let team = team.map(|t| name_ok("team", &t)).transpose()?;
        let environment = environment
            .map(|e| name_ok("environment", &e))
            .transpose()?;
        let existed = graph(ctx)?
            .notification_rules()
            .all()
            .any(|r| r.rule.team == team && r.rule.environment == environment);
        if existed {
            let rule = CoreRule {
                team,
                environment,
                endpoints: Vec::new(),
                on: Vec::new(),
                min_severity: None,
                removed: true,
            };
            self.record(ctx, caller, rule).await?;
        }
        Ok(existed)
    }

    /// Puts a parked notification back in its endpoint's lane, attempts reset (admin scope).
    async fn retry_notification(
        &self,
        ctx: &Context<'_>,
        id: i64,
    ) -> async_graphql::Result<OutboxEntry> {
        require(ctx, Scope::Admin)?;
        let a = app(ctx)?;
        let store = a.store.clone();
        let now = catalog_schema::to_micros(Utc::now());
        let Some(endpoint) = blocking(move || store.outbox_retry(id, now)).await? else {
            return Err(
                ApiError::bad("id", format!("no parked notification has id {id}")).graphql(),
            );
        };
        a.notify.wake(&endpoint);
        let store = a.store.clone();
        let row =
            blocking(move || store.outbox_rows(None, Some(&endpoint), 1, Some(id + 1))).await?;
        row.into_iter()
            .next()
            .filter(|r| r.id == id)
            .map(entry)
            .ok_or_else(|| ApiError::Internal("the retried notification is gone".into()).graphql())
    }
}

impl NotifyMutation {
    async fn record(
        &self,
        ctx: &Context<'_>,
        caller: crate::auth::Caller,
        rule: CoreRule,
    ) -> async_graphql::Result<()> {
        let now = Utc::now();
        let ev = NewEvent {
            key: format!(
                "notify.rule:{}:{}:{}",
                rule.team.as_deref().unwrap_or("*"),
                rule.environment.as_deref().unwrap_or("*"),
                now.timestamp_nanos_opt().unwrap_or_default()
            ),
            occurred_at: now,
            source: "api".into(),
            actor: caller.name(),
            event: Event::NotificationRuleSet(rule),
        };
        record_now(app(ctx)?, ev).await
    }
}
