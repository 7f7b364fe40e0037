//! The policy judge: every deployment recorded is judged after the fact by the policy set in
//! force, and what the policies deny is recorded as a `policy.violation` event (what went out
//! against policy).
//!
//! - **What it judges.** A deployment once, where it starts: the `deployment.observed` report
//!   (or the `cluster.snapshot` entry) that put a new version on a workload. Status reports on
//!   what already runs are not judged again. A snapshot's workloads are judged like reports.
//! - **With what.** The graph as it is when the judge gets there, and the set in force then.
//!   A violation's key names the deployment event, the workload for a snapshot, what runs and
//!   the set, so a replay, a restart that judges again or a second writer records nothing
//!   twice.
//! - **Where it resumes.** It follows the log by sequence number, woken by the graph's changes,
//!   so a burst it falls behind in is judged late, never skipped. Every few seconds of work it
//!   records how far it got as a `policy.judged` event (with how many deployments it judged and
//!   how many went out against policy), and a restart resumes from there: a deployment
//!   recorded while the judge lagged, or by another writer while this one was down, is still
//!   judged. A restart starts no earlier than the set in force was put in force.
//! - **At what cost.** It lets a burst land first: it starts once the log has been still for
//!   100 ms (or after 10 s of a steady stream). It runs on a thread of its own at the lowest CPU priority (nice 19,
//!   `SCHED_BATCH`): ingest and queries go first, and the judge takes what CPU is left. It
//!   holds the graph's read lock only while it builds the inputs of a few deployments, and
//!   evaluates outside it. Recording, which holds the log's writer turn, runs on a helper
//!   thread at normal priority, so no writer waits on a thread the scheduler makes wait.

use crate::graphql::AppCtx;
use crate::policy::Proposal;
use catalog_core::event::{Event, EventKind, NewEvent, RecordedEvent};
use catalog_core::governance::{Judged, Violation};
use serde_json::Value;
use std::time::{Duration, Instant};

/// Deployment events the judge reads from the log at a time.
const PAGE: i64 = 500;
/// Deployments whose inputs are built under one hold of the graph's read lock.
const CHUNK: usize = 4;
/// How long the log must be still before the judge starts on what arrived (a burst's ingest
/// goes first), and how long at most it waits for that.
const QUIET: Duration = Duration::from_millis(100);
const MAX_DEFER: Duration = Duration::from_secs(10);
/// How often, at most, the judge records where it got to.
const CURSOR_EVERY: Duration = Duration::from_secs(5);

/// Starts the judge on a thread of its own, woken through a channel by a task of the calling
/// runtime that follows the graph's changes; it stops when that feed closes.
pub fn spawn(ctx: AppCtx) -> std::io::Result<()> {
    let woken = wake_on_changes(&ctx);
    let helper = Helper::start()?;
    std::thread::Builder::new()
        .name("policy-judge".into())
        .spawn(move || {
            if let Err(e) = lower_priority() {
                tracing::warn!(error = %e, "the policy judge runs at normal priority");
            }
            run(&ctx, &woken, helper);
        })
        .map(|_| ())
}

/// A channel that a task of the calling runtime signals whenever the graph changes; it
/// disconnects when the change feed closes (the catalog stops). One pending wake-up is
/// enough: a follower of the log reads everything new when it wakes.
pub fn wake_on_changes(ctx: &AppCtx) -> std::sync::mpsc::Receiver<()> {
    use tokio::sync::broadcast::error::RecvError;
    let (wake, woken) = std::sync::mpsc::sync_channel::<()>(1);
    let mut changes = ctx.sync.subscribe();
    tokio::spawn(async move {
        loop {
            match changes.recv().await {
                Ok(_) | Err(RecvError::Lagged(_)) => {
                    if let Err(std::sync::mpsc::TrySendError::Disconnected(())) = wake.try_send(())
                    {
                        return;
                    }
                }
                Err(RecvError::Closed) => return,
            }
        }
    });
    woken
}

/// Nice 19 under `SCHED_BATCH`: the calling thread only takes CPU nothing else wants.
pub fn lower_priority() -> Result<(), String> {
    #[cfg(unix)]
    {
        use thread_priority::unix::{
            set_thread_priority_and_policy, thread_native_id, NormalThreadSchedulePolicy,
            ThreadSchedulePolicy,
        };
        set_thread_priority_and_policy(
            thread_native_id(),
            thread_priority::ThreadPriority::Min,
            ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Batch),
        )
        .map_err(|e| format!("{e:?}"))
    }
    #[cfg(not(unix))]
    {
        Ok(())
    }
}

fn run(ctx: &AppCtx, woken: &std::sync::mpsc::Receiver<()>, helper: Helper) {
    use std::sync::mpsc::RecvTimeoutError;
    let mut judge = match Judge::resume(ctx, helper) {
        Ok(j) => j,
        Err(e) => {
            tracing::error!(error = %e, "the policy judge cannot start: deployments are not judged");
            return;
        }
    };
    // What was recorded before the start (and after where the judge got to) first.
    let mut woke = true;
    loop {
        if woke {
            // Let a burst land first: judge once the log has been quiet for `QUIET`, or once
            // `MAX_DEFER` has passed, so a steady stream is judged too.
            let deadline = Instant::now() + MAX_DEFER;
            let mut wait = true;
            loop {
                if wait && !quiet(woken, deadline) {
                    let _ = judge.save(ctx, true);
                    return;
                }
                match judge.step(ctx) {
                    // More to judge: without waiting, unless the log moved meanwhile.
                    Ok(true) => wait = woken.try_recv().is_ok() && Instant::now() < deadline,
                    Ok(false) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot judge deployments; retried on the next change");
                        break;
                    }
                }
            }
        }
        if let Err(e) = judge.save(ctx, false) {
            tracing::warn!(error = %e, "cannot record where the policy judge got to");
        }
        woke = match woken.recv_timeout(CURSOR_EVERY) {
            Ok(()) => true,
            Err(RecvTimeoutError::Timeout) => false,
            Err(RecvTimeoutError::Disconnected) => {
                if let Err(e) = judge.save(ctx, true) {
                    tracing::warn!(error = %e, "cannot record where the policy judge got to");
                }
                return;
            }
        };
    }
}

/// Waits until no change arrived for `QUIET`, or until `deadline`; false when the change
/// feed closed (the catalog stops).
fn quiet(woken: &std::sync::mpsc::Receiver<()>, deadline: Instant) -> bool {
    use std::sync::mpsc::RecvTimeoutError;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        match woken.recv_timeout(QUIET.min(left)) {
            Ok(()) => {}
            Err(RecvTimeoutError::Timeout) => return true,
            Err(RecvTimeoutError::Disconnected) => return false,
        }
    }
}

/// Where the judge is, and what it judged since it last recorded that.
struct Judge {
    /// Every deployment event up to this sequence number was judged (or recorded while no
    /// policy set was in force).
    after: i64,
    /// The `through` of the last `policy.judged` event.
    saved: i64,
    saved_at: Instant,
    /// The set that judged since then, how many deployments, how many against policy.
    set: Option<String>,
    deployments: u64,
    violations: u64,
    helper: Helper,
}

impl Judge {
    fn resume(ctx: &AppCtx, helper: Helper) -> anyhow::Result<Judge> {
        let g = ctx
            .catalog
            .read()
            .map_err(|_| anyhow::anyhow!("graph lock poisoned"))?;
        let gov = g.governance();
        let judged = gov.judged_through();
        // Never judge what was recorded before the set in force was: the judge starts at the
        // newest of where it got to and where the set came in (the log's end on a first start).
        let from_set = gov
            .policy_set_in_force()
            .map_or_else(|| g.last_seq(), |r| r.seq);
        let after = if judged > 0 {
            judged.max(from_set)
        } else {
            from_set
        };
        Ok(Judge {
            after,
            saved: judged,
            saved_at: Instant::now(),
            set: None,
            deployments: 0,
            violations: 0,
            helper,
        })
    }

    /// Judges the next page of deployments the graph has applied; true when more may wait.
    fn step(&mut self, ctx: &AppCtx) -> anyhow::Result<bool> {
        let applied = ctx
            .catalog
            .read()
            .map_err(|_| anyhow::anyhow!("graph lock poisoned"))?
            .last_seq();
        let Some(set) = ctx.policies.in_force() else {
            // Nothing judges: what was recorded meanwhile stays unjudged.
            self.after = self.after.max(applied);
            return Ok(false);
        };
        if self.set.as_ref().is_some_and(|s| *s != set) {
            // A new set: what the old one judged is recorded as its own.
            self.save(ctx, true)?;
        }
        self.set = Some(set);
        let page: Vec<RecordedEvent> = ctx
            .store
            .events_page_of(
                PAGE,
                self.after,
                &[EventKind::DeploymentObserved, EventKind::ClusterSnapshot],
            )?
            .into_iter()
            .filter(|e| e.seq <= applied)
            .collect();
        let Some(last) = page.last().map(|e| e.seq) else {
            return Ok(false);
        };
        // Inputs are built here, at low priority, a few per hold of the graph's read lock (a
        // hold is a fraction of a millisecond, so a writer seldom waits on a preempted
        // judge). Violations are recorded by the helper at normal priority: the log's writer
        // turn is never held by a thread the scheduler makes wait.
        let (judged, inputs) = build_inputs(ctx, &page)?;
        let mut found = Vec::new();
        for j in inputs {
            found.extend(violation(
                ctx,
                &page[j.rec],
                j.snapshot,
                j.proposal,
                &j.input,
            ));
        }
        self.violations += found.len() as u64;
        self.deployments += judged;
        if !found.is_empty() {
            let c = ctx.clone();
            self.helper.run(move || record(&c, found))??;
        }
        self.after = last;
        Ok(page.len() as i64 == PAGE)
    }

    /// Records where the judge got to, when it moved and `CURSOR_EVERY` passed (or `now`).
    fn save(&mut self, ctx: &AppCtx, now: bool) -> anyhow::Result<()> {
        let Some(set) = self.set.clone() else {
            return Ok(());
        };
        if self.after <= self.saved || (!now && self.saved_at.elapsed() < CURSOR_EVERY) {
            return Ok(());
        }
        let ev = NewEvent {
            key: format!("policy.judged:{set}:{}", self.after),
            occurred_at: chrono::Utc::now(),
            source: "policy".into(),
            actor: "catalog".into(),
            event: Event::PolicyJudged(Judged {
                through: self.after,
                policy_set: set,
                deployments: self.deployments,
                violations: self.violations,
            }),
        };
        let c = ctx.clone();
        self.helper.run(move || record(&c, vec![ev]))??;
        self.saved = self.after;
        self.saved_at = Instant::now();
        self.deployments = 0;
        self.violations = 0;
        Ok(())
    }
}

fn record(ctx: &AppCtx, events: Vec<NewEvent>) -> anyhow::Result<()> {
    ctx.store.record(&[(None, events)])?;
    ctx.sync.sync()?;
    Ok(())
}

/// One workload one event reported on.
struct Case<'a> {
    /// The event's index in the page.
    rec: usize,
    cluster: &'a str,
    namespace: &'a str,
    workload: &'a str,
    /// From a snapshot: one event, many workloads, so the violation key names the workload.
    snapshot: bool,
}

/// A component version a deployment started running, and the input its policies see.
struct Judging {
    rec: usize,
    snapshot: bool,
    proposal: Proposal,
    input: Value,
}

fn cases(page: &[RecordedEvent]) -> Vec<Case<'_>> {
    let mut out = Vec::new();
    for (rec, e) in page.iter().enumerate() {
        match &e.event {
            Event::DeploymentObserved(d) => out.push(Case {
                rec,
                cluster: &d.cluster,
                namespace: &d.namespace,
                workload: &d.workload,
                snapshot: false,
            }),
            Event::ClusterSnapshot(s) => out.extend(s.workloads.iter().map(|w| Case {
                rec,
                cluster: &s.cluster,
                namespace: &w.namespace,
                workload: &w.workload,
                snapshot: true,
            })),
            _ => {}
        }
    }
    out
}

/// The inputs of every deployment the page's events started (a few per hold of the graph's
/// read lock), and how many deployments that is.
fn build_inputs(ctx: &AppCtx, page: &[RecordedEvent]) -> anyhow::Result<(u64, Vec<Judging>)> {
    let mut out = Vec::new();
    let mut started = 0u64;
    for chunk in cases(page).chunks(CHUNK) {
        let g = ctx
            .catalog
            .read()
            .map_err(|_| anyhow::anyhow!("graph lock poisoned"))?;
        let now = chrono::Utc::now();
        for case in chunk {
            let rec = &page[case.rec];
            let Some(d) = g.deployment_started_by(
                (case.cluster, case.namespace, case.workload),
                rec.occurred_at,
                &rec.key,
            ) else {
                continue;
            };
            started += 1;
            let mut seen = std::collections::BTreeSet::new();
            // A canary deploys its canary: the stable side was judged when it was deployed.
            let stable = Some(catalog_core::deployment::Track::Stable);
            let canary = d.runs.iter().any(|r| r.track != stable);
            for r in d.runs {
                if canary && r.track == stable {
                    continue;
                }
                let (Some(component), Some(version)) = (r.component, r.version) else {
                    continue;
                };
                if !seen.insert((component.clone(), version.clone())) {
                    continue;
                }
                let proposal = Proposal {
                    environment: d.environment.clone(),
                    cluster: case.cluster.to_string(),
                    namespace: case.namespace.to_string(),
                    workload: case.workload.to_string(),
                    component,
                    version,
                    actor: d.actor.clone(),
                };
                let input = crate::policy::input(&g, &proposal, now);
                out.push(Judging {
                    rec: case.rec,
                    snapshot: case.snapshot,
                    proposal,
                    input,
                });
            }
        }
    }
    Ok((started, out))
}

fn violation(
    ctx: &AppCtx,
    rec: &RecordedEvent,
    snapshot: bool,
    p: Proposal,
    input: &Value,
) -> Option<NewEvent> {
    let verdict = ctx.policies.evaluate(input);
    let (false, Some(set)) = (verdict.allowed, verdict.policy_set) else {
        return None;
    };
    let what = format!("{}@{}", p.component, p.version);
    let key = if snapshot {
        format!(
            "violation:{}:{}/{}/{}:{what}:{set}",
            rec.key, p.cluster, p.namespace, p.workload
        )
    } else {
        format!("violation:{}:{what}:{set}", rec.key)
    };
    Some(NewEvent {
        key,
        occurred_at: rec.occurred_at,
        source: "policy".into(),
        actor: "catalog".into(),
        event: Event::PolicyViolated(Box::new(Violation {
            deployment: rec.key.clone(),
            environment: p.environment,
            cluster: p.cluster,
            namespace: p.namespace,
            workload: p.workload,
            component: p.component,
            version: p.version,
            deployer: p.actor,
            policy_set: set,
            reasons: verdict.reasons,
        })),
    })
}

/// A thread at normal priority that runs what the judge must not do at its own: hold the
/// log's writer turn while the scheduler makes it wait.
struct Helper {
    jobs: std::sync::mpsc::Sender<Box<dyn FnOnce() + Send>>,
}

impl Helper {
    /// Starts the helper (before the judge lowers its own priority: threads inherit it).
    fn start() -> std::io::Result<Helper> {
        let (jobs, rx) = std::sync::mpsc::channel::<Box<dyn FnOnce() + Send>>();
        std::thread::Builder::new()
            .name("policy-judge-io".into())
            .spawn(move || {
                for job in rx {
                    job();
                }
            })?;
        Ok(Helper { jobs })
    }

    /// Runs `f` on the helper and waits for its answer.
    fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> anyhow::Result<T> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.jobs
            .send(Box::new(move || {
                let _ = tx.send(f());
            }))
            .map_err(|_| anyhow::anyhow!("the policy judge's helper thread stopped"))?;
        rx.recv()
            .map_err(|_| anyhow::anyhow!("the policy judge's helper thread stopped"))
    }
}

#[cfg(test)]
mod tests {
    /// The judge's thread really runs at nice 19 (Linux: field 19 of its `stat`).
    #[cfg(target_os = "linux")]
    #[test]
    fn the_judge_thread_runs_at_the_lowest_priority() {
        let nice = std::thread::spawn(|| {
            super::lower_priority().expect("lowering a thread's priority needs no privilege");
            let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("stat");
            // Fields after the command name (which may hold spaces) start after ") ".
            let rest = stat.rsplit_once(") ").expect("stat format").1;
            rest.split(' ').nth(16).expect("nice field").to_string()
        })
        .join()
        .expect("thread");
        assert_eq!(nice, "19");
        // The caller's own thread is untouched.
        let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("stat");
        let rest = stat.rsplit_once(") ").expect("stat format").1;
        assert_ne!(rest.split(' ').nth(16), Some("19"));
    }
}
