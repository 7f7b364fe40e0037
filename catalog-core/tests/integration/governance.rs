//! Approvals and policy sets folded from the log: approvals kept per version in log order,
//! narrowed by environment, a replayed key counted once; policy sets kept as a history whose
//! newest is in force; both survive a snapshot at any point of the history.

use super::rec;
use catalog_core::event::{Event, RecordedEvent};
use catalog_core::governance::{
    Approval, CalendarEntry, CalendarKind, Decision, PolicyFile, PolicySet,
};
use catalog_core::Catalog;
use chrono::{DateTime, Utc};

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

pub(crate) fn calendar(
    seq: i64,
    id: &str,
    kind: CalendarKind,
    from: u32,
    to: u32,
) -> RecordedEvent {
    rec(
        seq,
        seq as u32,
        Event::CalendarEntryRecorded(CalendarEntry {
            id: id.into(),
            environment: "prod".into(),
            category: kind,
            start: super::at(from),
            end: super::at(to),
            summary: format!("{id} summary"),
            component: None,
            version: None,
        }),
    )
}

pub(crate) fn violation(seq: i64, deployment: &str) -> RecordedEvent {
    use catalog_core::governance::{Violation, ViolationReason};
    let mut r = rec(
        seq,
        seq as u32,
        Event::PolicyViolated(Box::new(Violation {
            deployment: deployment.into(),
            environment: Some("prod".into()),
            cluster: "prod-1".into(),
            namespace: "shop".into(),
            workload: "cart".into(),
            component: "shop/cart".into(),
            version: "1.0.0".into(),
            deployer: "ci-bot".into(),
            policy_set: "sha256:00".into(),
            reasons: vec![ViolationReason {
                policy: "catalog.prod".into(),
                message: "needs an approval".into(),
            }],
        })),
    );
    r.key = format!("violation:{deployment}");
    r
}

pub(crate) fn history() -> Vec<RecordedEvent> {
    vec![
        policy_set(1, "package catalog.prod\ndeny contains 1 if false"),
        approval(2, "prod", "ci-bot", Decision::Approved),
        approval(3, "staging", "alice", Decision::Approved),
        approval(4, "prod", "alice", Decision::Rejected),
        policy_set(5, "package catalog.prod\ndeny contains \"frozen\" if false"),
        approval(6, "prod", "alice", Decision::Approved),
        calendar(7, "w1", CalendarKind::Window, 30, 45),
        calendar(8, "f1", CalendarKind::Freeze, 35, 40),
        calendar(9, "gone", CalendarKind::Window, 0, 10),
        rec(10, 10, Event::CalendarEntryRemoved { id: "gone".into() }),
        // The same id again replaces the entry.
        calendar(11, "w1", CalendarKind::Window, 30, 50),
        violation(12, "deploy-1"),
        violation(13, "deploy-2"),
        judged(14, 13),
        // A cursor older than the newest moves nothing back.
        judged(15, 9),
    ]
}

pub(crate) fn judged(seq: i64, through: i64) -> RecordedEvent {
    let mut r = rec(
        seq,
        seq as u32,
        Event::PolicyJudged(catalog_core::governance::Judged {
            through,
            policy_set: "sha256:00".into(),
            deployments: 2,
            violations: 2,
        }),
    );
    r.key = format!("policy.judged:sha256:00:{through}");
    r
}

/// Prod's approvals as (approver, environment, decision), the policy sets' digests, the
/// digest of the one in force, the calendar (id, start, end), and where the judge got to.
type Answers = (
    Vec<(String, String, &'static str)>,
    Vec<String>,
    Option<String>,
    Vec<(String, DateTime<Utc>, DateTime<Utc>)>,
    i64,
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
        g.calendar(None, None, None)
            .into_iter()
            .map(|r| (r.entry.id.clone(), r.entry.start, r.entry.end))
            .collect(),
        g.judged_through(),
    )
}

#[test]
fn approvals_and_policy_sets_fold_in_log_order() {
    let events = history();
    let mut c = Catalog::new();
    c.apply_all(&events);
    let (prod, sets, in_force, cal, judged) = answers(&c);
    assert_eq!(judged, 13);
    // Violations, newest first, narrowed; a replayed key counted once.
    let v = c.governance().violations(Some("prod"), Some("shop/cart"));
    assert_eq!(
        v.iter()
            .map(|r| r.violation.deployment.as_str())
            .collect::<Vec<_>>(),
        ["deploy-2", "deploy-1"]
    );
    assert!(c.governance().violations(Some("staging"), None).is_empty());
    assert!(c.governance().violations(None, Some("shop/web")).is_empty());
    let mut replay = violation(0, "deploy-1");
    replay.seq = 0;
    c.apply(&replay);
    assert_eq!(c.governance().violations(None, None).len(), 2);
    // Calendar: the removed entry is gone, the re-scheduled one replaced, by start.
    use super::at;
    assert_eq!(
        cal,
        [
            ("w1".to_string(), at(30), at(50)),
            ("f1".to_string(), at(35), at(40)),
        ]
    );
    let g = c.governance();
    let s = g.calendar_status("prod", at(37));
    assert!(s.windows_defined && s.in_window && s.in_freeze, "{s:?}");
    let s = g.calendar_status("prod", at(47));
    assert!(s.in_window && !s.in_freeze, "{s:?}");
    let s = g.calendar_status("prod", at(50));
    assert!(s.windows_defined && !s.in_window, "end is exclusive: {s:?}");
    assert!(!g.calendar_status("staging", at(37)).windows_defined);
    assert_eq!(g.calendar(Some("prod"), Some(at(40)), None).len(), 1);
    assert_eq!(g.calendar(Some("prod"), None, Some(at(30))).len(), 0);
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

/// `source` saw (or recorded) shop/cart `version` running in prod-1/shop/cart at minute `min`.
fn seen(seq: i64, min: u32, source: &str, version: &str) -> RecordedEvent {
    use catalog_core::deployment::{DeploymentObserved, DeploymentStatus, Run};
    let mut r = rec(
        seq,
        min,
        Event::DeploymentObserved(DeploymentObserved {
            cluster: "prod-1".into(),
            namespace: "shop".into(),
            workload: "cart".into(),
            environment: Some("prod".into()),
            status: DeploymentStatus::Healthy,
            replicas: Some(2),
            runs: vec![Run {
                container: None,
                image: None,
                component: Some("shop/cart".into()),
                version: Some(version.into()),
                traffic: None,
                track: None,
            }],
            revision: None,
            url: None,
        }),
    );
    r.source = source.into();
    r
}

fn drifted(c: &Catalog) -> Vec<(String, String, bool)> {
    c.drift(&Default::default(), None)
        .into_iter()
        .map(|d| (d.version.unwrap_or_default(), d.source, d.until.is_some()))
        .collect()
}

#[test]
fn drift_is_what_observers_show_that_no_pipeline_recorded_in_time() {
    let mut c = Catalog::new();
    // The pipeline records 1.0.0; the cluster then shows it: nothing drifted.
    c.apply_all(&[
        seen(1, 0, "cli", "1.0.0"),
        seen(2, 1, "kubernetes", "1.0.0"),
    ]);
    assert!(drifted(&c).is_empty());
    // Argo CD applies 1.0.1 from a repository no pipeline touched.
    c.apply(&seen(3, 10, "argocd", "1.0.1"));
    assert_eq!(
        drifted(&c),
        [("1.0.1".to_string(), "argocd".to_string(), false)]
    );
    // The pipeline records it 2 minutes later (inside the grace): not drift after all.
    c.apply(&seen(4, 12, "cli", "1.0.1"));
    assert!(drifted(&c).is_empty(), "{:?}", drifted(&c));
    // 1.0.2 appears in a snapshot, and a record of it 10 minutes later does not erase that.
    c.apply(&seen(5, 30, "kubernetes", "1.0.2"));
    c.apply(&seen(6, 40, "cli", "1.0.2"));
    let flag = |ended: bool| [("1.0.2".to_string(), "kubernetes".to_string(), ended)];
    assert_eq!(drifted(&c), flag(false));
    // The pipeline rolls back to 1.0.0: the flag stays, with when 1.0.2 stopped.
    c.apply(&seen(7, 50, "cli", "1.0.0"));
    assert_eq!(drifted(&c), flag(true));
    // Narrowed by component and by scope.
    assert_eq!(c.drift(&Default::default(), Some("shop/web")).len(), 0);
    let staging = catalog_core::graph::InventoryScope {
        environment: Some("staging".into()),
        ..Default::default()
    };
    assert_eq!(c.drift(&staging, None).len(), 0);
}
