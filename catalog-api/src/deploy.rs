//! `catalog deploy`: records a deployment from a CI pipeline through the running catalog's
//! `/hooks/deployments`. A thin client: the server validates; this maps its answer to an
//! exit code a pipeline can branch on, and retries what is worth retrying.

use crate::client::{self, Target};
pub use crate::client::{AUTH, OK, REFUSED, UNAVAILABLE};
use crate::config::DeployArgs;
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
