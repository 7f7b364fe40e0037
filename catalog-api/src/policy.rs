//! Policies as code, in Rego, evaluated in-process with regorus.
//!
//! A policy set is the `*.rego` files of `--policy-dir`. Each file declares a package with a
//! `deny` rule: a set of messages (strings, or objects with `msg`). A proposed deployment is
//! allowed when every package's `deny` is empty. The input every policy sees is built by
//! [`input`] from the graph: the proposal, its image, SBOM summary, unsuppressed
//! vulnerabilities (with CVSS severity), approvals, where the same version already ran and
//! for how long, and the owner.
//!
//! Loading is all or nothing: a file that does not compile (or declares no `deny`) refuses the
//! whole new set with its file and line, and the set in force stays. The directory is polled
//! (every `--policy-poll`, comparing the files' digests); each set put in force is recorded as
//! a `policy.loaded` event, with its sources, so the log says what was in force when. On
//! start, if the directory's set does not compile, the last recorded set is put back.
//!
//! Evaluation has a wall-clock budget (`--policy-budget`); a policy that exceeds it, or fails,
//! denies (fail closed) with a reason naming it.

use catalog_core::governance::{PolicyFile, PolicySet};
use catalog_core::Catalog;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// A deployment as proposed (or observed): what would run where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Proposal {
    pub environment: Option<String>,
    pub cluster: String,
    pub namespace: String,
    pub workload: String,
    pub component: String,
    pub version: String,
    /// Who deploys (the token's name, or `--actor`).
    pub actor: String,
}

/// Why a deployment is denied: the policy (its package) and the message; the same record a
/// violation keeps.
pub use catalog_core::governance::ViolationReason as Reason;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub allowed: bool,
    pub reasons: Vec<Reason>,
    /// The digest of the policy set that judged (none in force: allowed, no reasons).
    pub policy_set: Option<String>,
}

/// A set that compiled, ready to evaluate.
struct Loaded {
    engine: regorus::Engine,
    /// Distinct packages (`data.x.y`), each with a `deny` rule.
    packages: Vec<String>,
    set: PolicySet,
}

/// Why a set was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct LoadError {
    pub file: String,
    pub message: String,
}

pub struct Policies {
    dir: Option<PathBuf>,
    budget: Duration,
    active: RwLock<Option<Arc<Loaded>>>,
    last_error: Mutex<Option<LoadError>>,
}

impl Policies {
    pub fn new(dir: Option<PathBuf>, budget: Duration) -> Policies {
        Policies {
            dir,
            budget,
            active: RwLock::new(None),
            last_error: Mutex::new(None),
        }
    }

    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The digest of the set in force.
    pub fn in_force(&self) -> Option<String> {
        self.active
            .read()
            .ok()
            .and_then(|a| a.as_ref().map(|l| l.set.digest.clone()))
    }

    /// Why the newest set read from the directory was refused (cleared by a good one).
    pub fn last_error(&self) -> Option<LoadError> {
        self.last_error.lock().ok().and_then(|e| e.clone())
    }

    fn set_error(&self, e: Option<LoadError>) {
        if let Ok(mut g) = self.last_error.lock() {
            *g = e;
        }
    }

    /// Reads the directory's set. `Ok(None)` when there is no directory.
    pub fn read_dir(&self) -> Result<Option<PolicySet>, LoadError> {
        let Some(dir) = &self.dir else {
            return Ok(None);
        };
        read_set(dir).map(Some)
    }

    /// Compiles `set` and puts it in force; returns it with each file's package. On failure
    /// the set in force stays.
    fn put_in_force(&self, set: PolicySet) -> Result<PolicySet, LoadError> {
        let loaded = compile(set, self.budget)?;
        let set = loaded.set.clone();
        if let Ok(mut a) = self.active.write() {
            *a = Some(Arc::new(loaded));
        }
        Ok(set)
    }

    /// Brings the set in force up to date, and returns a set to record when the directory's
    /// newest compiled and differs from `recorded` (the graph's set in force). `seen` is the
    /// digest of the directory's set last tried, so a refused set is reported once, not on
    /// every poll. Without a directory (or on a replica, `from_dir` false) the recorded set
    /// is followed. When the directory's set is refused and nothing is in force yet, the
    /// recorded set is put back.
    pub fn refresh(
        &self,
        recorded: Option<&PolicySet>,
        from_dir: bool,
        seen: &mut Option<String>,
    ) -> Option<PolicySet> {
        let follow_recorded = |p: &Policies| {
            if let Some(r) = recorded {
                if p.in_force().as_deref() != Some(r.digest.as_str()) {
                    if let Err(e) = p.put_in_force(r.clone()) {
                        tracing::error!(file = %e.file, error = %e.message, "the recorded policy set does not compile");
                    }
                }
            }
        };
        if !from_dir || self.dir.is_none() {
            follow_recorded(self);
            return None;
        }
        let set = match self.read_dir() {
            Ok(Some(set)) => set,
            Ok(None) => return None,
            Err(e) => {
                if seen.as_deref() != Some("unreadable") {
                    tracing::error!(file = %e.file, error = %e.message, "policy directory refused");
                    *seen = Some("unreadable".into());
                    self.set_error(Some(e));
                }
                if self.in_force().is_none() {
                    follow_recorded(self);
                }
                return None;
            }
        };
        if seen.as_deref() == Some(set.digest.as_str()) {
            return None;
        }
        *seen = Some(set.digest.clone());
        match self.put_in_force(set) {
            Ok(set) => {
                self.set_error(None);
                tracing::info!(digest = %set.digest, files = set.files.len(), "policy set in force");
                (recorded.map(|r| r.digest.as_str()) != Some(set.digest.as_str())).then_some(set)
            }
            Err(e) => {
                tracing::error!(file = %e.file, error = %e.message, "policy set refused; the set in force stays");
                self.set_error(Some(e));
                if self.in_force().is_none() {
                    follow_recorded(self);
                }
                None
            }
        }
    }

    /// Judges `input` (see [`input`]) with the set in force.
    pub fn evaluate(&self, input: &Value) -> Verdict {
        let loaded = self.active.read().ok().and_then(|a| a.clone());
        let Some(loaded) = loaded else {
            return Verdict {
                allowed: true,
                reasons: Vec::new(),
                policy_set: None,
            };
        };
        let mut reasons = Vec::new();
        let input_value = regorus::Value::from_json_str(&input.to_string());
        let mut engine = loaded.engine.clone();
        match input_value {
            Ok(v) => engine.set_input(v),
            Err(e) => reasons.push(Reason {
                policy: "catalog".into(),
                message: format!("the policy input could not be built: {e}"),
            }),
        }
        if reasons.is_empty() {
            for package in &loaded.packages {
                match deny_messages(&mut engine, package) {
                    Ok(messages) => reasons.extend(messages.into_iter().map(|message| Reason {
                        policy: policy_name(package),
                        message,
                    })),
                    Err(e) => reasons.push(Reason {
                        policy: policy_name(package),
                        message: format!("evaluation failed, so the deployment is denied: {e}"),
                    }),
                }
            }
        }
        Verdict {
            allowed: reasons.is_empty(),
            reasons,
            policy_set: Some(loaded.set.digest.clone()),
        }
    }
}

/// `data.catalog.prod` → `catalog.prod`.
fn policy_name(package: &str) -> String {
    package.strip_prefix("data.").unwrap_or(package).to_string()
}

fn deny_messages(engine: &mut regorus::Engine, package: &str) -> Result<Vec<String>, String> {
    let v = engine
        .eval_rule(format!("{package}.deny"))
        .map_err(|e| first_line(&e.to_string()))?;
    if v == regorus::Value::Undefined {
        return Ok(Vec::new());
    }
    let json: Value = serde_json::from_str(&v.to_json_str().map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let items = match json {
        Value::Array(items) => items,
        Value::Null => Vec::new(),
        other => vec![other],
    };
    let mut out: Vec<String> = items
        .into_iter()
        .map(|m| match m {
            Value::String(s) => s,
            Value::Object(o) => match o.get("msg").or_else(|| o.get("message")) {
                Some(Value::String(s)) => s.clone(),
                _ => Value::Object(o).to_string(),
            },
            other => other.to_string(),
        })
        .collect();
    out.sort();
    Ok(out)
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).trim().to_string()
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// The `*.rego` files of `dir`, in name order (not compiled yet: the package is filled in
/// by [`compile`]).
fn read_set(dir: &Path) -> Result<PolicySet, LoadError> {
    let refuse = |file: &str, message: String| LoadError {
        file: file.to_string(),
        message,
    };
    let entries = std::fs::read_dir(dir)
        .map_err(|e| refuse(&dir.display().to_string(), format!("cannot read: {e}")))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| refuse(&dir.display().to_string(), e.to_string()))?;
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("rego") || !path.is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let bytes = std::fs::read(&path).map_err(|e| refuse(&name, format!("cannot read: {e}")))?;
        let source =
            String::from_utf8(bytes).map_err(|_| refuse(&name, "is not UTF-8 text".to_string()))?;
        files.push(PolicyFile {
            digest: sha256(source.as_bytes()),
            file: name,
            package: String::new(),
            source,
        });
    }
    files.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(PolicySet {
        digest: PolicySet::digest_of(&files),
        files,
    })
}

/// Compiles a set: every file parses, and every package has a `deny` rule that evaluates on
/// an empty input.
fn compile(mut set: PolicySet, budget: Duration) -> Result<Loaded, LoadError> {
    let mut engine = regorus::Engine::new();
    engine.set_execution_timer_config(regorus::utils::limits::ExecutionTimerConfig {
        limit: budget,
        check_interval: NonZeroU32::MIN,
    });
    let mut packages: Vec<String> = Vec::new();
    for f in &mut set.files {
        let package = engine
            .add_policy(f.file.clone(), f.source.clone())
            .map_err(|e| LoadError {
                file: f.file.clone(),
                message: e.to_string().trim().to_string(),
            })?;
        f.package = package.clone();
        if !packages.contains(&package) {
            packages.push(package);
        }
    }
    let mut probe = engine.clone();
    probe.set_input(regorus::Value::new_object());
    for package in &packages {
        if let Err(e) = probe.eval_rule(format!("{package}.deny")) {
            let file = set
                .files
                .iter()
                .find(|f| &f.package == package)
                .map_or_else(String::new, |f| f.file.clone());
            return Err(LoadError {
                file,
                message: format!(
                    "package {} must define a `deny` rule (a set of messages) that evaluates: {}",
                    policy_name(package),
                    first_line(&e.to_string())
                ),
            });
        }
    }
    Ok(Loaded {
        engine,
        packages,
        set,
    })
}

/// A CVSS vector's base score and severity (`critical`, `high`, ...), the highest of several.
pub(crate) fn severity(vectors: &[String]) -> (Option<f64>, Option<String>) {
    let mut best: Option<(f64, String)> = None;
    for v in vectors {
        if let Ok(c) = v.parse::<cvss::Cvss>() {
            let s = c.score();
            if best.as_ref().is_none_or(|(b, _)| s > *b) {
                best = Some((s, c.severity().to_string()));
            }
        }
    }
    match best {
        Some((s, l)) => (Some(s), Some(l)),
        None => (None, None),
    }
}

/// The input policies see for a proposal, at `now`.
pub fn input(c: &Catalog, p: &Proposal, now: DateTime<Utc>) -> Value {
    let environment = p
        .environment
        .clone()
        .or_else(|| c.cluster_environment(&p.cluster));
    let version = c.version(&p.component, &p.version);
    let image = version.as_ref().map(|v| {
        json!({
            "digest": v.digest,
            "registry": v.registry,
            "repository": v.repository,
            "tags": v.tags,
            "revision": v.revision,
            "pushed_at": v.pushed_at,
            "recorded_by": v.recorded_by,
            "deleted": v.deleted_at.is_some(),
        })
    });
    let sbom = version.as_ref().map(|v| match c.image_sbom(&v.digest) {
        Some(s) => json!({"present": true, "packages": s.packages, "format": s.format}),
        None => json!({"present": false, "packages": 0}),
    });
    let vulnerabilities: Vec<Value> = c
        .version_vulnerabilities(&p.component, &p.version)
        .into_iter()
        .filter(|m| m.vex.as_ref().is_none_or(|v| !v.suppressed))
        .map(|m| {
            let (score, level) = severity(&m.severity);
            json!({
                "id": m.id,
                "aliases": m.aliases,
                "package": m.package,
                "version": m.version,
                "severity": m.severity,
                "score": score,
                "level": level,
                "fixed": m.fixed,
            })
        })
        .collect();
    let approvals: Vec<Value> = c
        .governance()
        .approvals(&p.component, &p.version, None)
        .into_iter()
        .map(|r| {
            json!({
                "environment": r.approval.environment,
                "approver": r.approval.approver,
                "decision": r.approval.decision.as_str(),
                "comment": r.approval.comment,
                "at": r.at,
            })
        })
        .collect();
    // Where this version ran.
    let mut ran: Vec<Value> = Vec::new();
    let mut healthy_by_env: serde_json::Map<String, Value> = serde_json::Map::new();
    for d in c.version_history(&p.component, &p.version) {
        let end = d.until.unwrap_or(now);
        let seconds = (end - d.since).num_seconds().max(0);
        let healthy = d.status == catalog_core::deployment::DeploymentStatus::Healthy;
        if healthy {
            if let Some(env) = &d.environment {
                let best = healthy_by_env.get(env).and_then(Value::as_i64).unwrap_or(0);
                healthy_by_env.insert(env.clone(), json!(best.max(seconds)));
            }
        }
        ran.push(json!({
            "environment": d.environment,
            "cluster": d.cluster,
            "namespace": d.namespace,
            "workload": d.workload,
            "since": d.since,
            "until": d.until,
            "running": d.until.is_none(),
            "status": d.status.as_str(),
            "seconds": seconds,
            "actor": d.actor,
        }));
    }
    let calendar = environment.as_deref().map(|env| {
        let s = c.governance().calendar_status(env, now);
        let planned: Vec<Value> = c
            .governance()
            .calendar(Some(env), None, None)
            .into_iter()
            .filter(|r| {
                r.entry.component.as_deref() == Some(p.component.as_str())
                    && r.entry.version.as_deref() == Some(p.version.as_str())
            })
            .map(
                |r| json!({"start": r.entry.start, "end": r.entry.end, "summary": r.entry.summary}),
            )
            .collect();
        json!({
            "windows_defined": s.windows_defined,
            "in_window": s.in_window,
            "in_freeze": s.in_freeze,
            "current": s.current.iter().map(|e| json!({
                "kind": crate::calendar::category(e.category),
                "summary": e.summary,
                "start": e.start,
                "end": e.end,
            })).collect::<Vec<_>>(),
            "planned": planned,
        })
    });
    let owner = c.component(&p.component).and_then(|comp| comp.owner);
    let contacts = owner
        .as_deref()
        .and_then(|t| c.team(t))
        .map(|t| serde_json::to_value(&t.contacts).unwrap_or(Value::Null));
    json!({
        "now": now,
        "deployment": {
            "environment": environment,
            "cluster": p.cluster,
            "namespace": p.namespace,
            "workload": p.workload,
            "component": p.component,
            "version": p.version,
            "actor": p.actor,
        },
        "known_version": version.is_some(),
        "image": image,
        "sbom": sbom,
        "vulnerabilities": vulnerabilities,
        "approvals": approvals,
        "history": ran,
        "healthy_seconds": healthy_by_env,
        "owner": {"team": owner, "contacts": contacts},
        "calendar": calendar,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn docs() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/policies")
    }

    fn loaded() -> Policies {
        let p = Policies::new(Some(docs()), Duration::from_millis(500));
        let mut seen = None;
        let set = p.refresh(None, true, &mut seen);
        assert!(p.last_error().is_none(), "{:?}", p.last_error());
        assert!(set.is_some(), "a set to record");
        p
    }

    /// An input that every shipped policy allows for prod, deployed by `ci`.
    fn good() -> Value {
        json!({
            "deployment": {"environment": "prod", "cluster": "prod-1", "namespace": "shop",
                           "workload": "cart", "component": "shop/cart", "version": "1.0.0",
                           "actor": "ci"},
            "known_version": true,
            "image": {"digest": "sha256:00", "recorded_by": "release-bot"},
            "sbom": {"present": true, "packages": 3},
            "vulnerabilities": [{"id": "GHSA-low", "package": "pkg:npm/x", "level": "low"}],
            "approvals": [{"environment": "prod", "approver": "alice", "decision": "approved"}],
            "healthy_seconds": {"staging": 7200},
            "owner": {"team": "checkout"},
        })
    }

    fn messages(v: &Verdict) -> Vec<String> {
        v.reasons
            .iter()
            .map(|r| format!("{}: {}", r.policy, r.message))
            .collect()
    }

    #[test]
    fn the_shipped_policies_compile_and_are_the_readme_s() {
        let readme = std::fs::read_to_string(docs().join("../../README.md")).unwrap();
        let set = read_set(&docs()).unwrap();
        assert_eq!(set.files.len(), 2);
        for f in &set.files {
            assert!(
                readme.contains(&format!("```rego\n{}```", f.source)),
                "README does not show {} as it is",
                f.file
            );
        }
        let p = loaded();
        assert_eq!(p.in_force(), Some(set.digest));
    }

    #[test]
    fn each_rule_of_the_shipped_policies_denies_what_it_says_and_nothing_else() {
        let p = loaded();
        let v = p.evaluate(&good());
        assert!(v.allowed, "{:?}", messages(&v));
        assert!(v.policy_set.is_some());
        let cases: Vec<(&str, Value, &str)> = vec![
            ("/healthy_seconds", json!({"staging": 3599}), "catalog.prod: shop/cart 1.0.0 has not been healthy in staging for 1 h"),
            ("/approvals", json!([{"environment": "prod", "approver": "ci", "decision": "approved"}]), "catalog.prod: needs an approval for prod by someone other than the deployer and the image's pusher"),
            // Separation of duties from the recorder: the one who pushed the image.
            ("/approvals", json!([{"environment": "prod", "approver": "release-bot", "decision": "approved"}]), "catalog.prod: needs an approval for prod by someone other than the deployer and the image's pusher"),
            ("/vulnerabilities", json!([{"id": "GHSA-c", "package": "pkg:npm/x", "level": "critical"}]), "catalog.prod: unsuppressed critical vulnerability GHSA-c in pkg:npm/x"),
            ("/known_version", json!(false), "catalog.provenance: shop/cart 1.0.0 is not in the catalog: push it to a configured registry first"),
            ("/sbom", json!({"present": false, "packages": 0}), "catalog.provenance: shop/cart 1.0.0 has no SBOM"),
            ("/owner", json!({"team": null}), "catalog.provenance: shop/cart has no owning team"),
        ];
        for (pointer, value, want) in cases {
            let mut input = good();
            *input.pointer_mut(pointer).unwrap() = value;
            let v = p.evaluate(&input);
            assert!(!v.allowed, "{pointer}");
            assert_eq!(messages(&v), [want], "{pointer}");
        }
        // A rejection for the environment denies even with an approval beside it.
        let mut input = good();
        input["approvals"]
            .as_array_mut()
            .unwrap()
            .push(json!({"environment": "prod", "approver": "bob", "decision": "rejected"}));
        assert_eq!(
            messages(&p.evaluate(&input)),
            ["catalog.provenance: rejected for prod by bob"]
        );
        // Dev is nobody's business.
        let mut input = good();
        input["deployment"]["environment"] = json!("dev");
        input["known_version"] = json!(false);
        input["healthy_seconds"] = json!({});
        assert!(p.evaluate(&input).allowed);
    }

    #[test]
    fn a_set_that_does_not_compile_is_refused_and_the_set_in_force_stays() {
        let dir = std::env::temp_dir().join(format!("catalog-policy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("a.rego"),
            "package a\nimport rego.v1\ndeny contains \"no\" if input.x\n",
        )
        .unwrap();
        let p = Policies::new(Some(dir.clone()), Duration::from_millis(500));
        let mut seen = None;
        let first = p.refresh(None, true, &mut seen).unwrap();
        // Unchanged: nothing to record.
        assert!(p.refresh(Some(&first), true, &mut seen).is_none());
        std::fs::write(
            dir.join("b.rego"),
            "package b\nimport rego.v1\ndeny contains x if {\n  x := \n}\n",
        )
        .unwrap();
        assert!(p.refresh(Some(&first), true, &mut seen).is_none());
        let e = p.last_error().unwrap();
        assert_eq!(e.file, "b.rego");
        assert!(e.message.contains("b.rego:4:"), "{}", e.message);
        assert_eq!(p.in_force(), Some(first.digest.clone()));
        assert_eq!(messages(&p.evaluate(&json!({"x": true}))), ["a: no"]);
        // A package without `deny` is refused too, naming it.
        std::fs::write(dir.join("b.rego"), "package b\nallow := true\n").unwrap();
        assert!(p.refresh(Some(&first), true, &mut seen).is_none());
        let e = p.last_error().unwrap();
        assert_eq!(e.file, "b.rego");
        assert!(
            e.message.contains("package b must define a `deny` rule"),
            "{}",
            e.message
        );
        // A new process whose directory is broken puts the recorded set back.
        let fresh = Policies::new(Some(dir.clone()), Duration::from_millis(500));
        let mut seen = None;
        assert!(fresh.refresh(Some(&first), true, &mut seen).is_none());
        assert_eq!(fresh.in_force(), Some(first.digest.clone()));
        assert!(fresh.last_error().is_some());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
