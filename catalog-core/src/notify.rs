//! Notifications: who is told what, and the message they are told.
//!
//! - **Rules** say which endpoints hear which triggers, per team, per environment, or both
//!   (`notify.rule` events, so the log keeps who changed routing when). A notification about
//!   a team in an environment goes to the endpoints of the team's rules that match it; when
//!   the team has none, to those of the rules for any team (the default route). An
//!   environment-specific rule and an any-environment rule both match.
//! - **Notifications** are the neutral message (what, where, how bad, whom it concerns, the
//!   blast radius, a link), rendered per endpoint kind when delivered. Their `key` is the
//!   idempotency key a receiver dedups by; `dedup_key` names the incident a trigger and its
//!   resolve share (PagerDuty's `dedup_key`, Opsgenie's alias).

use crate::entity::Contacts;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What happened that someone may want to hear about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// A vulnerability (or a VEX `affected` statement) matches something running.
    Vulnerability,
    /// A deployment went out against policy.
    Violation,
    /// An observer shows something running that no pipeline recorded.
    Drift,
    /// A deployment failed or was rolled back.
    Failure,
}

impl Trigger {
    pub const ALL: [Trigger; 4] = [
        Trigger::Vulnerability,
        Trigger::Violation,
        Trigger::Drift,
        Trigger::Failure,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Vulnerability => "vulnerability",
            Trigger::Violation => "violation",
            Trigger::Drift => "drift",
            Trigger::Failure => "failure",
        }
    }
}

/// How bad, in CVSS's words (a failure or violation is `high`, drift `medium`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    None,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// CVSS's qualitative rating of a base score.
    pub fn of_score(score: f64) -> Severity {
        match score {
            s if s >= 9.0 => Severity::Critical,
            s if s >= 7.0 => Severity::High,
            s if s >= 4.0 => Severity::Medium,
            s if s > 0.0 => Severity::Low,
            _ => Severity::None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::None => "none",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// Which endpoints hear which triggers, for a team, an environment, or both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationRule {
    /// `None`: any team (the default route for teams without a rule of their own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// `None`: any environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// Endpoint names, as the server's notification configuration names them.
    #[serde(default)]
    pub endpoints: Vec<String>,
    #[serde(default)]
    pub on: Vec<Trigger>,
    /// Vulnerabilities below this are not notified (others carry their own severity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_severity: Option<Severity>,
    /// The rule of this team and environment is removed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub removed: bool,
}

/// A rule in force, with who set it when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleInForce {
    pub rule: NotificationRule,
    pub set_at: DateTime<Utc>,
    pub set_by: String,
}

/// The rules in force, one per (team, environment), in that order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rules {
    rules: Vec<RuleInForce>,
}

impl Rules {
    pub fn record(&mut self, rule: &NotificationRule, at: DateTime<Utc>, actor: &str) {
        let k = (&rule.team, &rule.environment);
        let at_k = self
            .rules
            .binary_search_by(|r| (&r.rule.team, &r.rule.environment).cmp(&k));
        match (at_k, rule.removed) {
            (Ok(i), true) => {
                self.rules.remove(i);
            }
            (Err(_), true) => {}
            (found, false) => {
                let r = RuleInForce {
                    rule: rule.clone(),
                    set_at: at,
                    set_by: actor.to_string(),
                };
                match found {
                    Ok(i) => self.rules[i] = r,
                    Err(i) => self.rules.insert(i, r),
                }
            }
        }
    }

    pub fn all(&self) -> impl Iterator<Item = &RuleInForce> {
        self.rules.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The endpoints that hear `trigger` about `team` in `environment` at `severity`: the
    /// team's own matching rules, or when it has none, the any-team rules.
    pub fn route(
        &self,
        trigger: Trigger,
        team: Option<&str>,
        environment: Option<&str>,
        severity: Severity,
    ) -> Vec<String> {
        let matches = |r: &NotificationRule| {
            r.on.contains(&trigger)
                && r.environment
                    .as_deref()
                    .is_none_or(|e| Some(e) == environment)
                && r.min_severity.is_none_or(|m| severity >= m)
        };
        let pick = |of_team: Option<&str>| -> Vec<String> {
            let mut out: Vec<String> = self
                .rules
                .iter()
                .filter(|r| r.rule.team.as_deref() == of_team && matches(&r.rule))
                .flat_map(|r| r.rule.endpoints.iter().cloned())
                .collect();
            out.sort();
            out.dedup();
            out
        };
        let own = match team {
            Some(t) => pick(Some(t)),
            None => Vec::new(),
        };
        if own.is_empty() {
            pick(None)
        } else {
            own
        }
    }
}

/// Whether a notification opens an incident or says it is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Trigger,
    Resolve,
}

/// A workload a notification is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Affected {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    pub cluster: String,
    pub namespace: String,
    pub workload: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// The neutral message: rendered per endpoint kind (signed JSON, Slack, Teams, PagerDuty,
/// Opsgenie) when delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// What a receiver dedups by: one logical notification, however often delivered.
    pub key: String,
    /// The incident a trigger and its resolve share.
    pub dedup_key: String,
    pub action: Action,
    pub trigger: Trigger,
    pub severity: Severity,
    /// One line, plain text.
    pub title: String,
    /// A few lines, plain text.
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    #[serde(default)]
    pub contacts: Contacts,
    /// The blast radius in this environment for this team: the workloads (at most
    /// [`MAX_AFFECTED`]) and how many in all, and the components.
    #[serde(default)]
    pub affected: Vec<Affected>,
    #[serde(default)]
    pub affected_total: usize,
    #[serde(default)]
    pub components: Vec<String>,
    /// The dashboard's page about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    pub occurred_at: DateTime<Utc>,
    /// What the trigger carries (a vulnerability's id and aliases, a violation's reasons).
    #[serde(default)]
    pub details: serde_json::Value,
}

/// Workloads listed in one notification; `affected_total` counts them all.
pub const MAX_AFFECTED: usize = 50;

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(
        team: Option<&str>,
        env: Option<&str>,
        endpoints: &[&str],
        on: &[Trigger],
    ) -> NotificationRule {
        NotificationRule {
            team: team.map(str::to_string),
            environment: env.map(str::to_string),
            endpoints: endpoints.iter().map(|s| s.to_string()).collect(),
            on: on.to_vec(),
            min_severity: None,
            removed: false,
        }
    }

    #[test]
    fn a_team_rule_takes_its_team_and_others_take_the_default_route() {
        let mut r = Rules::default();
        let t = Utc::now();
        r.record(&rule(None, None, &["ops"], &Trigger::ALL), t, "a");
        r.record(
            &rule(
                Some("payments"),
                Some("prod"),
                &["pd-payments"],
                &[Trigger::Vulnerability],
            ),
            t,
            "a",
        );
        let mut high = rule(
            Some("payments"),
            None,
            &["slack-payments"],
            &[Trigger::Vulnerability],
        );
        high.min_severity = Some(Severity::High);
        r.record(&high, t, "a");
        let v = Trigger::Vulnerability;
        let cases = [
            (
                v,
                Some("payments"),
                Some("prod"),
                Severity::Critical,
                vec!["pd-payments", "slack-payments"],
            ),
            (
                v,
                Some("payments"),
                Some("prod"),
                Severity::Medium,
                vec!["pd-payments"],
            ),
            (
                v,
                Some("payments"),
                Some("staging"),
                Severity::Critical,
                vec!["slack-payments"],
            ),
            // The team's rules do not match: the default route.
            (
                v,
                Some("payments"),
                Some("staging"),
                Severity::Low,
                vec!["ops"],
            ),
            (
                Trigger::Failure,
                Some("payments"),
                Some("prod"),
                Severity::High,
                vec!["ops"],
            ),
            (v, Some("shop"), Some("prod"), Severity::Low, vec!["ops"]),
            (v, None, None, Severity::Low, vec!["ops"]),
        ];
        for (trigger, team, env, sev, want) in cases {
            assert_eq!(
                r.route(trigger, team, env, sev),
                want,
                "{trigger:?} {team:?} {env:?} {sev:?}"
            );
        }
        let mut gone = rule(None, None, &[], &[]);
        gone.removed = true;
        r.record(&gone, t, "a");
        assert!(r
            .route(Trigger::Failure, Some("shop"), Some("prod"), Severity::High)
            .is_empty());
        assert_eq!(r.all().count(), 2);
    }

    #[test]
    fn severity_follows_cvss_ratings() {
        for (score, want) in [
            (0.0, Severity::None),
            (0.1, Severity::Low),
            (3.9, Severity::Low),
            (4.0, Severity::Medium),
            (6.9, Severity::Medium),
            (7.0, Severity::High),
            (8.9, Severity::High),
            (9.0, Severity::Critical),
            (10.0, Severity::Critical),
        ] {
            assert_eq!(Severity::of_score(score), want, "{score}");
        }
    }
}
