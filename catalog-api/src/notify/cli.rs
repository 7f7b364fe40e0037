//! `catalog notify`: rules and the outbox of a running catalog, through its GraphQL API.

use crate::client::{self, Failure, Target};
use crate::config::{NotifyCommand, NotifyTarget, RuleCommand};
use serde_json::{json, Value};
use std::process::ExitCode;

const SET: &str = "mutation($team: String, $environment: String, $endpoints: [String!]!, \
    $on: [NotificationTrigger!]!, $minSeverity: NotificationSeverity) { \
    setNotificationRule(team: $team, environment: $environment, endpoints: $endpoints, \
    on: $on, minSeverity: $minSeverity) { team environment endpoints on minSeverity } }";
const REMOVE: &str = "mutation($team: String, $environment: String) { \
    removeNotificationRule(team: $team, environment: $environment) }";
const RULES: &str =
    "{ notificationRules { team environment endpoints on minSeverity setAt setBy } }";
const OUTBOX: &str = "query($state: OutboxEntryState, $endpoint: String, $first: Int) { \
    notificationOutbox(state: $state, endpoint: $endpoint, first: $first) { \
    id key endpoint state attempts lastError createdAt title } }";
const RETRY: &str = "mutation($id: Int!) { retryNotification(id: $id) { id endpoint state } }";

pub fn run(cmd: NotifyCommand) -> ExitCode {
    client::run(async move {
        match cmd {
            NotifyCommand::Rule(RuleCommand::Set {
                target,
                scope,
                endpoints,
                on,
                min_severity,
            }) => {
                let on: Vec<String> = on.iter().map(|t| t.to_uppercase()).collect();
                let vars = json!({
                    "team": scope.team, "environment": scope.environment, "endpoints": endpoints,
                    "on": on, "minSeverity": min_severity.map(|s| s.to_uppercase()),
                });
                let d = gql(&target, SET, vars, "the rule").await?;
                Ok(format!(
                    "rule set: {}",
                    rule_line(&d["setNotificationRule"])
                ))
            }
            NotifyCommand::Rule(RuleCommand::Remove { target, scope }) => {
                let vars = json!({"team": scope.team, "environment": scope.environment});
                let d = gql(&target, REMOVE, vars, "the rule").await?;
                Ok(if d["removeNotificationRule"] == json!(true) {
                    "rule removed".into()
                } else {
                    "no such rule".into()
                })
            }
            NotifyCommand::Rules { target } => {
                let d = gql(&target, RULES, json!({}), "the rules").await?;
                let rules = d["notificationRules"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                Ok(rules.iter().map(rule_line).collect::<Vec<_>>().join("\n"))
            }
            NotifyCommand::Outbox {
                target,
                state,
                endpoint,
                first,
            } => {
                let vars = json!({
                    "state": state.map(|s| s.to_uppercase()), "endpoint": endpoint, "first": first,
                });
                let d = gql(&target, OUTBOX, vars, "the outbox").await?;
                let rows = d["notificationOutbox"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                Ok(rows
                    .iter()
                    .map(|r| {
                        format!(
                            "{}\t{}\t{}\t{} attempt(s)\t{}\t{}",
                            r["id"],
                            s(&r["state"]).to_lowercase(),
                            s(&r["endpoint"]),
                            r["attempts"],
                            s(&r["title"]),
                            s(&r["lastError"]),
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n"))
            }
            NotifyCommand::Retry { target, id } => {
                let d = gql(&target, RETRY, json!({"id": id}), "the retry").await?;
                let r = &d["retryNotification"];
                Ok(format!(
                    "notification {} to {} is {}",
                    r["id"],
                    s(&r["endpoint"]),
                    s(&r["state"]).to_lowercase()
                ))
            }
        }
    })
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

fn rule_line(r: &Value) -> String {
    let list = |v: &Value| {
        v.as_array()
            .map(|a| a.iter().map(s).collect::<Vec<_>>().join(","))
            .unwrap_or_default()
    };
    format!(
        "team={} environment={} on={} endpoints={}{}",
        r["team"].as_str().unwrap_or("*"),
        r["environment"].as_str().unwrap_or("*"),
        list(&r["on"]).to_lowercase(),
        list(&r["endpoints"]),
        r["minSeverity"]
            .as_str()
            .map(|m| format!(" min-severity={}", m.to_lowercase()))
            .unwrap_or_default()
    )
}

async fn gql(t: &NotifyTarget, query: &str, vars: Value, what: &str) -> Result<Value, Failure> {
    Target {
        server: &t.server,
        token: t.token.as_ref(),
        timeout: t.timeout,
    }
    .graphql(query, vars, what)
    .await
}
