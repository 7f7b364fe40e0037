//! `catalog deploy`: records a deployment from a CI pipeline through the running catalog's
//! `/hooks/deployments`. A thin client: the server validates; this maps its answer to an
//! exit code a pipeline can branch on, and retries what is worth retrying.

use crate::client::{self, Target};
pub use crate::client::{AUTH, OK, REFUSED, UNAVAILABLE};
use crate::config::{ApproveArgs, DeployArgs};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::process::ExitCode;

/// The JSON body for `/hooks/deployments`, with a stable id so retries are one deployment.
pub fn body(a: &DeployArgs, now: DateTime<Utc>) -> Result<Value, String> {
    let at = match &a.at {
        Some(s) => DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .map_err(|e| format!("--at: {s:?} is not an RFC 3339 time: {e}"))?,
        None => now,
    };
    let mut b = json!({
        "cluster": a.cluster,
        "namespace": a.namespace,
        "status": a.status,
        "at": at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "source": "cli",
    });
    let fields = [
        ("component", &a.component),
        ("version", &a.version),
        ("image", &a.image),
        ("workload", &a.workload),
        ("environment", &a.environment),
        ("revision", &a.revision),
        ("url", &a.url),
    ];
    for (k, v) in fields {
        if let Some(v) = v {
            b[k] = json!(v);
        }
    }
    if let Some(r) = a.replicas {
        b["replicas"] = json!(r);
    }
    if let Some(t) = a.traffic {
        b["traffic"] = json!(t);
    }
    if a.stable_version.is_some() || a.stable_image.is_some() {
        let mut stable = json!({});
        if let Some(v) = &a.stable_version {
            stable["version"] = json!(v);
        }
        if let Some(i) = &a.stable_image {
            stable["image"] = json!(i);
        }
        b["stable"] = stable;
    }
    let id = match &a.id {
        Some(id) => id.clone(),
        None => {
            use sha2::{Digest, Sha256};
            format!(
                "cli:{}",
                hex::encode(Sha256::digest(b.to_string().as_bytes()))
            )
        }
    };
    b["id"] = json!(id);
    Ok(b)
}

pub fn run(a: DeployArgs) -> ExitCode {
    if a.check {
        return check(a);
    }
    let body = match body(&a, Utc::now()) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(REFUSED);
        }
    };
    client::run(async {
        let target = Target {
            server: &a.server,
            token: a.token.as_ref(),
            timeout: a.timeout,
        };
        target
            .post(
                "/hooks/deployments",
                "application/json",
                body.to_string().into_bytes(),
                "deployment",
            )
            .await?;
        Ok(format!(
            "recorded: {} in {}/{} ({})",
            a.component
                .as_deref()
                .map(|c| format!("{c}@{}", a.version.as_deref().unwrap_or("")))
                .or_else(|| a.image.clone())
                .unwrap_or_else(|| a.status.clone()),
            a.cluster,
            a.namespace,
            body["id"].as_str().unwrap_or("")
        ))
    })
}

const CHECK: &str = "query($component: String!, $version: String!, $cluster: String!, \
    $namespace: String!, $workload: String, $environment: String) { \
    deploymentCheck(component: $component, version: $version, cluster: $cluster, \
    namespace: $namespace, workload: $workload, environment: $environment) { \
    allowed reasons { policy message } policySet } }";

/// `catalog deploy --check`: asks the policies in force; exit 0 allowed, 5 denied.
fn check(a: DeployArgs) -> ExitCode {
    let (Some(component), Some(version)) = (&a.component, &a.version) else {
        eprintln!("error: --check needs --component and --version");
        return ExitCode::from(REFUSED);
    };
    let variables = json!({
        "component": component,
        "version": version,
        "cluster": a.cluster,
        "namespace": a.namespace,
        "workload": a.workload,
        "environment": a.environment,
    });
    let target = Target {
        server: &a.server,
        token: a.token.as_ref(),
        timeout: a.timeout,
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            return ExitCode::from(UNAVAILABLE);
        }
    };
    let answer = rt.block_on(target.graphql(CHECK, variables, "the check"));
    let data = match answer {
        Ok(d) => d,
        Err((code, message)) => {
            eprintln!("error: {message}");
            return ExitCode::from(code);
        }
    };
    let verdict = &data["deploymentCheck"];
    let set = verdict["policySet"].as_str().unwrap_or("none in force");
    let what = format!("{component}@{version} to {}/{}", a.cluster, a.namespace);
    if verdict["allowed"].as_bool() == Some(true) {
        println!("allowed: {what} (policy set {set})");
        return ExitCode::from(OK);
    }
    eprintln!("denied: {what} (policy set {set})");
    for r in verdict["reasons"].as_array().into_iter().flatten() {
        eprintln!(
            "  {}: {}",
            r["policy"].as_str().unwrap_or("?"),
            r["message"].as_str().unwrap_or("?")
        );
    }
    ExitCode::from(crate::client::DENIED)
}

const DECIDE: &str = "mutation($component: String!, $version: String!, $environment: String!, \
    $comment: String, $reject: Boolean!) { \
    approve(component: $component, version: $version, environment: $environment, \
    comment: $comment) @skip(if: $reject) { approver decision } \
    reject(component: $component, version: $version, environment: $environment, \
    comment: $comment) @include(if: $reject) { approver decision } }";

/// `catalog approve`: records an approval (or rejection) through the API.
pub fn approve(a: ApproveArgs) -> ExitCode {
    client::run(async {
        let target = Target {
            server: &a.server,
            token: a.token.as_ref(),
            timeout: a.timeout,
        };
        let data = target
            .graphql(
                DECIDE,
                json!({
                    "component": a.component,
                    "version": a.version,
                    "environment": a.environment,
                    "comment": a.comment,
                    "reject": a.reject,
                }),
                "the approval",
            )
            .await?;
        let d = if a.reject {
            &data["reject"]
        } else {
            &data["approve"]
        };
        Ok(format!(
            "{}: {}@{} for {} by {}",
            d["decision"].as_str().unwrap_or("recorded"),
            a.component,
            a.version,
            a.environment,
            d["approver"].as_str().unwrap_or("?")
        ))
    })
}
