//! Approvals and policy sets folded from the log: approvals kept per version in log order,
//! narrowed by environment, a replayed key counted once; policy sets kept as a history whose
//! newest is in force; both survive a snapshot at any point of the history.

use super::rec;
use catalog_core::event::{Event, RecordedEvent};
use catalog_core::governance::{Approval, Decision, PolicyFile, PolicySet};
use catalog_core::Catalog;

pub(crate) fn approval(seq: i64, env: &str, who: &str, decision: Decision) -> RecordedEvent {
    rec(
        seq,
        seq as u32,
        Event::ApprovalRecorded(Approval {
            component: "shop/cart".into(),
            version: "1.0.0".into(),
            environment: env.into(),
            decision,
            approver: who.into(),
            comment: (who == "alice").then(|| "reviewed".to_string()),
        }),
    )
}

pub(crate) fn policy_set(seq: i64, text: &str) -> RecordedEvent {
    let files = vec![PolicyFile {
        file: "prod.rego".into(),
        digest: format!("sha256:{}", text.len()),
        package: "data.catalog.prod".into(),
        source: text.into(),
    }];
    rec(
        seq,
        seq as u32,
        Event::PolicySetLoaded(Box::new(PolicySet {
            digest: PolicySet::digest_of(&files),
            files,
        })),
    )
}

pub(crate) fn history() -> Vec<RecordedEvent> {
    vec![
        policy_set(1, "package catalog.prod\ndeny contains 1 if false"),
        approval(2, "prod", "ci-bot", Decision::Approved),
        approval(3, "staging", "alice", Decision::Approved),
        approval(4, "prod", "alice", Decision::Rejected),
        policy_set(5, "package catalog.prod\ndeny contains \"frozen\" if false"),
        approval(6, "prod", "alice", Decision::Approved),
    ]
}

/// Prod's approvals as (approver, environment, decision), the policy sets' digests, and the
/// digest of the one in force.
type Answers = (
    Vec<(String, String, &'static str)>,
    Vec<String>,
    Option<String>,
);

fn answers(c: &Catalog) -> Answers {
    let g = c.governance();
    let prod = g
        .approvals("shop/cart", "1.0.0", Some("prod"))
        .into_iter()
        .map(|r| {
            (
                r.approval.approver,
                r.approval.environment,
                r.approval.decision.as_str(),
            )
        })
        .collect();
    let sets = g
        .policy_sets()
        .iter()
        .map(|s| s.set.digest.clone())
        .collect();
    (
        prod,
        sets,
        g.policy_set_in_force().map(|s| s.set.digest.clone()),
    )
}

#[test]
fn approvals_and_policy_sets_fold_in_log_order() {
    let events = history();
    let mut c = Catalog::new();
    c.apply_all(&events);
    let (prod, sets, in_force) = answers(&c);
    assert_eq!(
        prod,
        [
            ("ci-bot".to_string(), "prod".to_string(), "approved"),
            ("alice".to_string(), "prod".to_string(), "rejected"),
            ("alice".to_string(), "prod".to_string(), "approved"),
        ]
    );
    assert_eq!(
        c.governance().approvals("shop/cart", "1.0.0", None).len(),
        4
    );
    assert!(c
        .governance()
        .approvals("shop/cart", "2.0.0", None)
        .is_empty());
    assert_eq!(sets.len(), 2);
    assert_ne!(sets[0], sets[1]);
    assert_eq!(in_force.as_deref(), Some(sets[1].as_str()));
    // An approval recorded again under its key (an at-least-once source) counts once.
    let mut again = events[5].clone();
    again.seq = 0;
    c.apply(&again);
    assert_eq!(answers(&c).0.len(), 3);
}

#[test]
fn approvals_and_policy_sets_survive_a_snapshot_anywhere() {
    let events = history();
    let mut whole = Catalog::new();
    whole.apply_all(&events);
    for split in super::snapshot::splits(events.len()) {
        let restored = super::snapshot::through_snapshot(&events, split);
        assert_eq!(answers(&restored), answers(&whole), "split at {split}");
    }
}
