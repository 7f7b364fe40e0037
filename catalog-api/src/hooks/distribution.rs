//! `POST /hooks/distribution`: CNCF Distribution / Docker registry notifications.
//! Optional `?registry=HOST` names the configured registry the events come from (else the
//! events' own `request.host`).

use super::{read_body, require_content_type, respond};
use crate::auth::Scope;
use crate::errors::ApiError;
use crate::server::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use catalog_ingest::hooks::distribution;
use serde::Deserialize;
use serde_json::json;
use std::sync::atomic::Ordering;
use std::time::Instant;

#[derive(Deserialize)]
struct HookQuery {
    registry: Option<String>,
}

#[tracing::instrument(skip_all, fields(hook = "distribution"))]
pub async fn handle(
    req: HttpRequest,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> HttpResponse {
    let started = Instant::now();
    let outcome = accept(&req, payload, &st).await;
    respond("distribution", &st, started, outcome)
}

async fn accept(
    req: &HttpRequest,
    payload: web::Payload,
    st: &AppState,
) -> Result<HttpResponse, ApiError> {
    st.auth.caller(req).await?.require(Scope::Ingest)?;
    require_content_type(req, &distribution::CONTENT_TYPES)?;
    let q = web::Query::<HookQuery>::from_query(req.query_string())
        .map_err(|e| ApiError::bad("query", e.to_string()))?;
    let body = read_body(req, payload, st.max_body, "--max-body-bytes").await?;
    let parsed = distribution::parse(&body, q.registry.as_deref())?;
    st.ctx.inbox.append("distribution", &parsed.items).await?;
    st.metrics
        .hook_items
        .fetch_add(parsed.items.len() as u64, Ordering::Relaxed);
    Ok(HttpResponse::Accepted()
        .json(json!({"accepted": parsed.items.len(), "ignored": parsed.ignored})))
}
