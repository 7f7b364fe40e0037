//! `/hooks/*`: authenticate, size-limit, check the content type, parse and validate
//! synchronously, append to the durable inbox, answer 202. Nothing is written unless the
//! whole request is valid.

pub mod backstage;
pub mod deployments;
pub mod distribution;
pub mod registries;
pub mod sbom;

use crate::errors::ApiError;
use crate::server::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;

/// Reads the body up to `limit` bytes (set by the flag `flag`); a larger one is refused
/// without reading it all.
pub async fn read_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
    flag: &str,
) -> Result<web::Bytes, ApiError> {
    let too_large = |n: usize| {
        ApiError::PayloadTooLarge(format!(
            "body is {n} bytes or more; the limit is {limit} bytes ({flag})"
        ))
    };
    if let Some(n) = req
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
    {
        if n > limit {
            return Err(too_large(n));
        }
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::bad("body", format!("could not read the body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large(body.len() + chunk.len()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Checks the request's media type (parameters such as charset ignored) against `allowed`.
pub fn require_content_type(req: &HttpRequest, allowed: &[&str]) -> Result<(), ApiError> {
    let ct = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if allowed.iter().any(|a| *a == essence) {
        return Ok(());
    }
    Err(ApiError::UnsupportedMediaType(format!(
        "content type {:?} is not accepted here; send one of: {}",
        if ct.is_empty() { "(none)" } else { ct },
        allowed.join(", ")
    )))
}

/// Turns a hook's outcome into its response, with the metrics and log every hook keeps:
/// acknowledgement latency for accepted requests, a log line for refused ones, and the
/// per-hook status counter.
pub fn respond(
    hook: &str,
    st: &AppState,
    started: std::time::Instant,
    outcome: Result<HttpResponse, ApiError>,
) -> HttpResponse {
    let resp = match outcome {
        Ok(r) => {
            st.metrics.hook_ack_latency.observe(started.elapsed());
            r
        }
        Err(e) => {
            tracing::info!(status = e.status().as_u16(), error = %e, "hook refused");
            e.response()
        }
    };
    st.metrics.hook_request(hook, resp.status().as_u16());
    resp
}
