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
