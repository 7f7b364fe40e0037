//! `catalog deploy`: records a deployment from a CI pipeline through the running catalog's
//! `/hooks/deployments`. A thin client: the server validates; this maps its answer to an
//! exit code a pipeline can branch on, and retries what is worth retrying.

use crate::config::DeployArgs;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Recorded (or already recorded: the same id twice is one deployment).
pub const OK: u8 = 0;
/// The catalog refused the input (4xx other than auth): the message says which field.
pub const REFUSED: u8 = 2;
/// The token is missing, unknown or lacks the ingest scope.
pub const AUTH: u8 = 3;
/// The catalog could not be reached, or kept failing, until the timeout.
pub const UNAVAILABLE: u8 = 4;

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
    let (code, message) = rt.block_on(post(&a, &body));
    if code == OK {
        println!("{message}");
    } else {
        eprintln!("error: {message}");
    }
    ExitCode::from(code)
}

async fn post(a: &DeployArgs, body: &Value) -> (u8, String) {
    let url = format!("{}/hooks/deployments", a.server.trim_end_matches('/'));
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
    {
        Ok(c) => c,
        Err(e) => return (UNAVAILABLE, format!("cannot build an HTTP client: {e}")),
    };
    let started = Instant::now();
    let mut delay = Duration::from_millis(250);
    loop {
        let mut req = client.post(&url).json(body);
        if let Some(t) = &a.token {
            req = req.bearer_auth(&t.0);
        }
        let outcome = match req.send().await {
            Ok(resp) => {
                let status = resp.status();
                let text = resp.text().await.unwrap_or_default();
                let detail = serde_json::from_str::<Value>(&text)
                    .ok()
                    .and_then(|v| {
                        v.pointer("/error/message")
                            .and_then(|e| e.as_str())
                            .map(str::to_string)
                    })
                    .unwrap_or(text);
                match status.as_u16() {
                    200..=299 => {
                        return (
                            OK,
                            format!(
                                "recorded: {} in {}/{} ({})",
                                a.component
                                    .as_deref()
                                    .map(|c| format!("{c}@{}", a.version.as_deref().unwrap_or("")))
                                    .or_else(|| a.image.clone())
                                    .unwrap_or_else(|| a.status.clone()),
                                a.cluster,
                                a.namespace,
                                body["id"].as_str().unwrap_or("")
                            ),
                        )
                    }
                    401 | 403 => {
                        return (
                            AUTH,
                            format!("{url} refused the token ({status}): {detail}"),
                        )
                    }
                    408 | 429 | 500..=599 => format!("{url} answered {status}: {detail}"),
                    _ => {
                        return (
                            REFUSED,
                            format!("{url} refused the deployment ({status}): {detail}"),
                        )
                    }
                }
            }
            Err(e) => format!("cannot reach {url}: {e}"),
        };
        if started.elapsed() + delay > a.timeout {
            return (
                UNAVAILABLE,
                format!("{outcome} (gave up after {:?})", a.timeout),
            );
        }
        eprintln!("retrying in {delay:?}: {outcome}");
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}
