//! The client side of the `catalog` commands that talk to a running catalog (`deploy`,
//! `import`): one POST with retries of what is worth retrying, and exit codes a pipeline can
//! branch on.

use crate::config::Secret;
use serde_json::Value;
use std::time::{Duration, Instant};

/// Recorded (or already recorded: the same thing twice is one record).
pub const OK: u8 = 0;
/// The catalog refused the input (4xx other than auth): the message says which field.
pub const REFUSED: u8 = 2;
/// The token is missing, unknown or lacks the scope.
pub const AUTH: u8 = 3;
/// The catalog could not be reached, or kept failing, until the timeout.
pub const UNAVAILABLE: u8 = 4;
/// `catalog deploy --check`: a policy denies the deployment.
pub const DENIED: u8 = 5;

/// A failed POST: the exit code and what to tell the user.
pub type Failure = (u8, String);

/// Where and as whom to send.
pub struct Target<'a> {
    pub server: &'a str,
    pub token: Option<&'a Secret>,
    /// Give up retrying after this long.
    pub timeout: Duration,
}

impl Target<'_> {
    /// POSTs `body` to `path` (with its query), retrying connection failures, 408, 429 and
    /// 5xx with backoff until the timeout. Returns the 2xx answer's JSON (or `null`).
    pub async fn post(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
        what: &str,
    ) -> Result<Value, Failure> {
        let url = format!("{}{path}", self.server.trim_end_matches('/'));
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| (UNAVAILABLE, format!("cannot build an HTTP client: {e}")))?;
        let started = Instant::now();
        let mut delay = Duration::from_millis(250);
        loop {
            let mut req = client
                .post(&url)
                .header("content-type", content_type)
                .body(body.clone());
            if let Some(t) = self.token {
                req = req.bearer_auth(&t.0);
            }
            let outcome = match req.send().await {
                Ok(resp) => {
                    let status = resp.status();
                    let text = resp.text().await.unwrap_or_default();
                    let json = serde_json::from_str::<Value>(&text).ok();
                    let detail = json
                        .as_ref()
                        .and_then(|v| v.pointer("/error/message"))
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .unwrap_or(text);
                    match status.as_u16() {
                        200..=299 => return Ok(json.unwrap_or(Value::Null)),
                        401 | 403 => {
                            return Err((
                                AUTH,
                                format!("{url} refused the token ({status}): {detail}"),
                            ))
                        }
                        408 | 429 | 500..=599 => format!("{url} answered {status}: {detail}"),
                        _ => {
                            return Err((
                                REFUSED,
                                format!("{url} refused the {what} ({status}): {detail}"),
                            ))
                        }
                    }
                }
                Err(e) => format!("cannot reach {url}: {e}"),
            };
            if started.elapsed() + delay > self.timeout {
                return Err((
                    UNAVAILABLE,
                    format!("{outcome} (gave up after {:?})", self.timeout),
                ));
            }
            eprintln!("retrying in {delay:?}: {outcome}");
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    }
}

impl Target<'_> {
    /// Runs a GraphQL operation; returns its `data`. An error in the answer is the input's
    /// fault (REFUSED) unless it says the token lacks a scope (AUTH).
    pub async fn graphql(
        &self,
        query: &str,
        variables: Value,
        what: &str,
    ) -> Result<Value, Failure> {
        let body = serde_json::json!({"query": query, "variables": variables});
        let answer = self
            .post(
                "/graphql",
                "application/json",
                body.to_string().into_bytes(),
                what,
            )
            .await?;
        if let Some(errors) = answer.get("errors").and_then(Value::as_array) {
            if let Some(e) = errors.first() {
                let message = e
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("the catalog refused it");
                let code = e.pointer("/extensions/code").and_then(Value::as_str);
                let field = e.pointer("/extensions/field").and_then(Value::as_str);
                let text = match field {
                    Some(f) => format!("{what} refused: {f}: {message}"),
                    None => format!("{what} refused: {message}"),
                };
                let exit = match code {
                    Some("UNAUTHENTICATED") | Some("FORBIDDEN") => AUTH,
                    Some("UNAVAILABLE") | Some("INTERNAL") => UNAVAILABLE,
                    _ => REFUSED,
                };
                return Err((exit, text));
            }
        }
        Ok(answer.get("data").cloned().unwrap_or(Value::Null))
    }
}

/// Runs a client command on a small runtime and turns its outcome into an exit code.
pub fn run(
    f: impl std::future::Future<Output = Result<String, Failure>>,
) -> std::process::ExitCode {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            return std::process::ExitCode::from(UNAVAILABLE);
        }
    };
    match rt.block_on(f) {
        Ok(message) => {
            println!("{message}");
            std::process::ExitCode::from(OK)
        }
        Err((code, message)) => {
            eprintln!("error: {message}");
            std::process::ExitCode::from(code)
        }
    }
}
