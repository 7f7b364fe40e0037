//! Drift: a workload observed running something that no pipeline recorded putting there.
//!
//! Two kinds of source report deployments. Pipelines record what they deploy (`catalog
//! deploy`, the generic `/hooks/deployments`, the API). Observers report what they see
//! running: a cluster's own view (`kubernetes` snapshots) and GitOps controllers (`argocd`,
//! `flux`), which apply whatever a repository says, pipeline or not. What an observer shows
//! running in a workload, that no pipeline report put in that workload (same image, or same
//! component version) before it was seen, or within [`RECORD_GRACE`] after (a pipeline
//! records once its rollout is done, and a snapshot may arrive first), is an unrecorded
//! change. Every report counts, not only those that started a deployment: a pipeline that
//! reports on what an observer already showed still records it. Computed from the deployment
//! history, so a flag stays in history after the workload moves on, and a pipeline recording
//! the same thing later does not erase it.

use super::{Catalog, InventoryScope};
use crate::model;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// How long after an observer first shows something a pipeline's record of it still counts.
pub const RECORD_GRACE: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// Sources that observe what runs rather than record what a pipeline deployed.
pub const OBSERVERS: [&str; 3] = ["kubernetes", "argocd", "flux"];

/// The identities of a thing that runs: its image digest, its component version, and the
/// reference as given (a pipeline may name a version an observer shows as an image).
fn identities(r: &model::RunningImage) -> Vec<String> {
    let mut out = Vec::with_capacity(3);
    if let Some(d) = &r.digest {
        out.push(format!("digest:{d}"));
    }
    if let (Some(c), Some(v)) = (&r.component, &r.version) {
        out.push(format!("version:{c}@{v}"));
    }
    if out.is_empty() {
        if let Some(x) = &r.reference {
            out.push(format!("reference:{x}"));
        }
    }
    out
}

impl Catalog {
    /// Unrecorded changes in `scope`, optionally only those of `component`: per deployment
    /// and thing it ran, in history order (newest deployment first).
    pub fn drift(&self, scope: &InventoryScope, component: Option<&str>) -> Vec<model::Drift> {
        let history = self.observed_history(scope);
        // Per workload and identity: the first time a pipeline reported it there.
        let mut recorded: HashMap<(usize, String), DateTime<Utc>> = HashMap::new();
        for d in &history {
            for o in &d.observations {
                if OBSERVERS.contains(&o.source.as_str()) {
                    continue;
                }
                for r in &o.runs {
                    for k in identities(r) {
                        let e = recorded.entry((d.workload, k)).or_insert(o.at);
                        *e = (*e).min(o.at);
                    }
                }
            }
        }
        let mut out = Vec::new();
        for d in &history {
            // Each thing an observer showed in this deployment, once, at its first showing.
            let mut flagged: Vec<Vec<String>> = Vec::new();
            for o in &d.observations {
                if !OBSERVERS.contains(&o.source.as_str()) {
                    continue;
                }
                for r in &o.runs {
                    if component.is_some_and(|c| r.component.as_deref() != Some(c)) {
                        continue;
                    }
                    let ids = identities(r);
                    if ids.is_empty() || flagged.contains(&ids) {
                        continue;
                    }
                    let deadline = o.at + RECORD_GRACE;
                    let put_there = ids.iter().any(|k| {
                        recorded
                            .get(&(d.workload, k.clone()))
                            .is_some_and(|t| *t <= deadline)
                    });
                    flagged.push(ids);
                    if put_there {
                        continue;
                    }
                    let dep = &d.deployment;
                    out.push(model::Drift {
                        environment: dep.environment.clone(),
                        cluster: dep.cluster.clone(),
                        namespace: dep.namespace.clone(),
                        workload: dep.workload.clone(),
                        component: r.component.clone(),
                        version: r.version.clone(),
                        digest: r.digest.clone(),
                        reference: r.reference.clone(),
                        source: o.source.clone(),
                        actor: o.actor.clone(),
                        since: o.at,
                        until: dep.until,
                    });
                }
            }
        }
        out.sort_by_key(|d| std::cmp::Reverse(d.since));
        out
    }
}
