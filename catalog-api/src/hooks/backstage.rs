//! `/hooks/backstage` (what `catalog import backstage` sends): Backstage descriptors,
//! authenticated (catalog scope: descriptors set owners and contacts), size-limited like SBOMs (`--max-sbom-bytes`), validated as a
//! whole stream, appended to the inbox, 202.

use super::sbom::LIMIT_FLAG;
use super::{read_body, require_content_type, respond};
use crate::auth::Scope;
use crate::errors::ApiError;
use crate::server::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use catalog_core::Event;
use catalog_ingest::hooks::backstage as backstage_hook;
use catalog_ingest::item::InboxBody;
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// The media types a descriptor stream may carry.
const YAML_TYPES: [&str; 5] = [
    "application/yaml",
    "application/x-yaml",
    "text/yaml",
    "text/x-yaml",
    "text/plain",
];

#[derive(Deserialize)]
struct BackstageQuery {
    location: Option<String>,
}

#[tracing::instrument(skip_all, fields(hook = "backstage"))]
pub async fn backstage(
    req: HttpRequest,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> HttpResponse {
    let started = Instant::now();
    let outcome = accept_backstage(&req, payload, &st).await;
    respond("backstage", &st, started, outcome)
}

async fn accept_backstage(
    req: &HttpRequest,
    payload: web::Payload,
    st: &AppState,
) -> Result<HttpResponse, ApiError> {
    let caller = st.auth.caller(req).await?;
    caller.require(Scope::Catalog)?;
    require_content_type(req, &YAML_TYPES)?;
    let q = web::Query::<BackstageQuery>::from_query(req.query_string())
        .map_err(|e| ApiError::bad("query", e.to_string()))?;
    if q.location.as_ref().is_some_and(|l| l.len() > 1000) {
        return Err(ApiError::bad("location", "at most 1000 characters"));
    }
    let body = read_body(req, payload, st.max_sbom, LIMIT_FLAG).await?;
    let actor = caller.name();
    let location = q.location.clone();
    let (items, receipt) =
        web::block(move || backstage_hook::parse(&body, location.as_deref(), Utc::now(), &actor))
            .await
            .map_err(|e| ApiError::Internal(format!("descriptor parser stopped: {e}")))??;
    check_edges(st, &items)?;
    st.ctx.inbox.append("backstage", &items).await?;
    st.metrics
        .hook_items
        .fetch_add(items.len() as u64, Ordering::Relaxed);
    Ok(HttpResponse::Accepted().json(json!({
        "accepted": receipt.entities,
        "warnings": receipt.warnings,
    })))
}

/// Refuses an import that would add more dependency edges than `--max-declared-edges`, before
/// anything is recorded (replaying it would cost the same again on every start).
fn check_edges(st: &AppState, items: &[InboxBody]) -> Result<(), ApiError> {
    let entities = items.iter().filter_map(|i| match i {
        InboxBody::Record(r) => match &r.event {
            Event::EntityDeclared(e) => Some(e.as_ref()),
            _ => None,
        },
        _ => None,
    });
    let edges = st
        .ctx
        .catalog
        .read()
        .map_err(|_| ApiError::Internal("the graph lock is poisoned".into()))?
        .declared_edges_estimate(entities);
    if edges > st.max_declared_edges {
        return Err(ApiError::PayloadTooLarge(format!(
            "these descriptors would add up to {edges} dependency edges (each consumer of an API \
             depends on every provider of it); the limit is {} (--max-declared-edges): split the \
             API, or raise the limit",
            st.max_declared_edges
        )));
    }
    Ok(())
}
