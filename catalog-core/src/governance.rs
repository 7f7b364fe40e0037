//! Release governance: approvals of what may go where, and the policy sets that judge
//! deployments. Both are events in the log; the graph keeps the approvals per version and
//! the history of policy sets (the newest is the one in force).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Approve or reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Approved,
    Rejected,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approved => "approved",
            Decision::Rejected => "rejected",
        }
    }
}

/// Someone approved (or rejected) a component version for an environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub component: String,
    pub version: String,
    pub environment: String,
    pub decision: Decision,
    /// Who decided (the token's name): separation of duties compares it with the deployer.
    pub approver: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// One Rego file of a policy set, as loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyFile {
    /// The file's name within the policy directory.
    pub file: String,
    /// `sha256:` of its text.
    pub digest: String,
    /// The Rego package it declares (`data.<package>`).
    pub package: String,
    /// The text, so the log alone says what was in force (and a restart can fall back to it).
    pub source: String,
}

/// A policy set the catalog put in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicySet {
    /// `sha256:` over the files' names and digests.
    pub digest: String,
    pub files: Vec<PolicyFile>,
}

/// What a calendar entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CalendarKind {
    /// A release window: when deployments to the environment are expected.
    Window,
    /// A freeze: when they are not.
    Freeze,
    /// A planned release of a component version.
    Release,
}

/// A release window, freeze or planned release of an environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarEntry {
    /// Stable: a later entry with the same id replaces it.
    pub id: String,
    pub environment: String,
    /// Not `kind`: the event carrying an entry is tagged by `kind`.
    pub category: CalendarKind,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// A calendar entry as the graph keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarRecord {
    pub entry: CalendarEntry,
    /// When it was recorded, and by whom.
    pub at: DateTime<Utc>,
    pub actor: String,
}

/// Where `at` falls in an environment's calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CalendarStatus {
    /// Does the environment have release windows at all? (If not, `in_window` is false and
    /// a policy decides what that means.)
    pub windows_defined: bool,
    pub in_window: bool,
    pub in_freeze: bool,
    /// The entries `at` falls in.
    pub current: Vec<CalendarEntry>,
}

/// Why a policy denied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViolationReason {
    pub policy: String,
    pub message: String,
}

/// An observed deployment the policies in force would have denied: what went out against
/// policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// The key of the deployment event judged.
    pub deployment: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    pub cluster: String,
    pub namespace: String,
    pub workload: String,
    pub component: String,
    pub version: String,
    /// Who deployed (the deployment event's actor).
    pub deployer: String,
    /// The digest of the policy set that judged.
    pub policy_set: String,
    pub reasons: Vec<ViolationReason>,
}

/// How far the policy judge got: every deployment recorded up to sequence number `through`
/// was judged by the policy set `policy_set` (the last `policy.judged` event holds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Judged {
    pub through: i64,
    pub policy_set: String,
    /// Deployments judged since the previous `policy.judged` event, and how many of them
    /// went out against policy.
    pub deployments: u64,
    pub violations: u64,
}

/// A violation as the graph keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViolationRecord {
    pub violation: Violation,
    pub at: DateTime<Utc>,
    pub key: String,
}

/// An approval as the graph keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRecord {
    pub approval: Approval,
    pub at: DateTime<Utc>,
    pub key: String,
}

/// A policy set as the graph keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicySetRecord {
    pub set: PolicySet,
    pub at: DateTime<Utc>,
    pub seq: i64,
    pub actor: String,
}

/// Approvals per component and version, in log order; the policy sets in log order. A
/// snapshot stores it as JSON (the graph's field), since optional fields are skipped.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Governance {
    approvals: BTreeMap<String, BTreeMap<String, Vec<ApprovalRecord>>>,
    policy_sets: Vec<PolicySetRecord>,
    /// Calendar entries by id.
    #[serde(default)]
    calendar: BTreeMap<String, CalendarRecord>,
    /// Violations in log order.
    #[serde(default)]
    violations: Vec<ViolationRecord>,
    /// Their keys, so a replay is found without a scan: one entry per violation, rebuilt from
    /// `violations` after a snapshot is read.
    #[serde(skip)]
    violation_keys: std::collections::HashSet<String>,
    /// The sequence number the policy judge got to (the highest `policy.judged` says).
    #[serde(default)]
    judged_through: i64,
}

impl Governance {
    pub(crate) fn approval(&mut self, a: &Approval, at: DateTime<Utc>, key: &str) {
        let list = self
            .approvals
            .entry(a.component.clone())
            .or_default()
            .entry(a.version.clone())
            .or_default();
        if list.iter().any(|r| r.key == key) {
            return;
        }
        list.push(ApprovalRecord {
            approval: a.clone(),
            at,
            key: key.to_string(),
        });
    }

    pub(crate) fn policy_set(&mut self, set: &PolicySet, at: DateTime<Utc>, seq: i64, actor: &str) {
        self.policy_sets.push(PolicySetRecord {
            set: set.clone(),
            at,
            seq,
            actor: actor.to_string(),
        });
    }

    pub(crate) fn calendar_entry(&mut self, e: &CalendarEntry, at: DateTime<Utc>, actor: &str) {
        self.calendar.insert(
            e.id.clone(),
            CalendarRecord {
                entry: e.clone(),
                at,
                actor: actor.to_string(),
            },
        );
    }

    pub(crate) fn violation(&mut self, v: &Violation, at: DateTime<Utc>, key: &str) {
        if self.violation_keys.len() != self.violations.len() {
            self.violation_keys = self.violations.iter().map(|r| r.key.clone()).collect();
        }
        if !self.violation_keys.insert(key.to_string()) {
            return;
        }
        self.violations.push(ViolationRecord {
            violation: v.clone(),
            at,
            key: key.to_string(),
        });
    }

    pub(crate) fn judged(&mut self, j: &Judged) {
        self.judged_through = self.judged_through.max(j.through);
    }

    /// The sequence number up to which every deployment was judged (0: never).
    pub fn judged_through(&self) -> i64 {
        self.judged_through
    }

    /// Violations, newest first, of `environment` and `component` when given.
    pub fn violations(
        &self,
        environment: Option<&str>,
        component: Option<&str>,
    ) -> Vec<&ViolationRecord> {
        self.violations
            .iter()
            .rev()
            .filter(|r| environment.is_none_or(|e| r.violation.environment.as_deref() == Some(e)))
            .filter(|r| component.is_none_or(|c| r.violation.component == c))
            .collect()
    }

    pub(crate) fn calendar_removed(&mut self, id: &str) {
        self.calendar.remove(id);
    }

    /// Calendar entries by start (then id), of `environment` (all when `None`), overlapping
    /// `[from, to)` when given.
    pub fn calendar(
        &self,
        environment: Option<&str>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Vec<&CalendarRecord> {
        let mut out: Vec<&CalendarRecord> = self
            .calendar
            .values()
            .filter(|r| environment.is_none_or(|e| r.entry.environment == e))
            .filter(|r| from.is_none_or(|f| r.entry.end > f))
            .filter(|r| to.is_none_or(|t| r.entry.start < t))
            .collect();
        out.sort_by(|a, b| (a.entry.start, &a.entry.id).cmp(&(b.entry.start, &b.entry.id)));
        out
    }

    /// One calendar entry by id.
    pub fn calendar_entry_by_id(&self, id: &str) -> Option<&CalendarRecord> {
        self.calendar.get(id)
    }

    /// Where `at` falls in `environment`'s calendar.
    pub fn calendar_status(&self, environment: &str, at: DateTime<Utc>) -> CalendarStatus {
        let mut s = CalendarStatus {
            windows_defined: false,
            in_window: false,
            in_freeze: false,
            current: Vec::new(),
        };
        for r in self.calendar(Some(environment), None, None) {
            let e = &r.entry;
            if e.category == CalendarKind::Window {
                s.windows_defined = true;
            }
            if e.start <= at && at < e.end {
                match e.category {
                    CalendarKind::Window => s.in_window = true,
                    CalendarKind::Freeze => s.in_freeze = true,
                    CalendarKind::Release => {}
                }
                s.current.push(e.clone());
            }
        }
        s
    }

    /// The decisions on a version, oldest first; `environment` narrows them.
    pub fn approvals(
        &self,
        component: &str,
        version: &str,
        environment: Option<&str>,
    ) -> Vec<ApprovalRecord> {
        self.approvals
            .get(component)
            .and_then(|v| v.get(version))
            .map(|l| {
                l.iter()
                    .filter(|r| environment.is_none_or(|e| r.approval.environment == e))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The policy set in force (the newest recorded).
    pub fn policy_set_in_force(&self) -> Option<&PolicySetRecord> {
        self.policy_sets.last()
    }

    /// Every policy set ever put in force, oldest first.
    pub fn policy_sets(&self) -> &[PolicySetRecord] {
        &self.policy_sets
    }
}

impl PolicySet {
    /// The set's digest: over the files' names and digests, in name order.
    pub fn digest_of(files: &[PolicyFile]) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        let mut sorted: Vec<&PolicyFile> = files.iter().collect();
        sorted.sort_by(|a, b| a.file.cmp(&b.file));
        for f in sorted {
            h.update(f.file.as_bytes());
            h.update([0]);
            h.update(f.digest.as_bytes());
            h.update([0]);
        }
        format!("sha256:{:x}", h.finalize())
    }
}
