//! `/hooks/sbom` (an SBOM document for an image) and `/hooks/osv` (OSV vulnerability
//! records): authenticate (ingest scope for SBOMs; catalog scope for advisories, which decide
//! what matches), check the content type and size (`--max-sbom-bytes`),
//! parse and validate the whole document, append to the inbox, 202.

use super::{read_body, require_content_type, respond};
use crate::auth::Scope;
use crate::errors::ApiError;
use crate::server::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use catalog_ingest::hooks::{osv as osv_hook, sbom as sbom_hook, vex as vex_hook};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;
use std::sync::atomic::Ordering;
use std::time::Instant;

pub(super) const LIMIT_FLAG: &str = "--max-sbom-bytes";

/// The media types an SBOM upload may carry (plain JSON, or the formats' own types).
const SBOM_TYPES: [&str; 4] = [
    "application/json",
    "application/vnd.cyclonedx+json",
    "application/spdx+json",
    "application/vnd.in-toto+json",
];

#[derive(Deserialize)]
struct SbomQuery {
    image: Option<String>,
}

#[tracing::instrument(skip_all, fields(hook = "sbom"))]
pub async fn sbom(
    req: HttpRequest,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> HttpResponse {
    let started = Instant::now();
    let outcome = accept_sbom(&req, payload, &st).await;
    respond("sbom", &st, started, outcome)
}

/// A document upload about an image (an SBOM, a VEX): the caller has `scope`, the content
/// type is one of `types`, `?image=` is read, and the body is within `--max-sbom-bytes`.
async fn upload(
    req: &HttpRequest,
    payload: web::Payload,
    st: &AppState,
    scope: Scope,
    types: &[&str],
) -> Result<(crate::auth::Caller, SbomQuery, web::Bytes), ApiError> {
    let caller = st.auth.caller(req).await?;
    caller.require(scope)?;
    require_content_type(req, types)?;
    let q = web::Query::<SbomQuery>::from_query(req.query_string())
        .map_err(|e| ApiError::bad("query", e.to_string()))?
        .into_inner();
    let body = read_body(req, payload, st.max_sbom, LIMIT_FLAG).await?;
    Ok((caller, q, body))
}

async fn accept_sbom(
    req: &HttpRequest,
    payload: web::Payload,
    st: &AppState,
) -> Result<HttpResponse, ApiError> {
    let (caller, q, body) = upload(req, payload, st, Scope::Ingest, &SBOM_TYPES).await?;
    let actor = caller.name();
    // Parsing a large document is CPU work: off the I/O threads, and given up when the
    // server stops (a SIGTERM must not wait for a 32 MiB parse).
    let image = q.image.clone();
    let stopping = st.stopping.clone();
    let parsed = web::block(move || {
        sbom_hook::parse(&body, image.as_deref(), Utc::now(), &actor, &stopping)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("SBOM parser stopped: {e}")))??;
    let (item, receipt) = parsed;
    st.ctx
        .inbox
        .append("sbom", std::slice::from_ref(&item))
        .await?;
    st.metrics.hook_items.fetch_add(1, Ordering::Relaxed);
    Ok(HttpResponse::Accepted().json(json!({
        "accepted": 1,
        "key": receipt.key,
        "image": receipt.image,
        "packages": receipt.packages,
        "warnings": receipt.warnings,
        "warningsTotal": receipt.warnings_total,
        "warningsOmitted": receipt.warnings_omitted,
    })))
}

#[tracing::instrument(skip_all, fields(hook = "osv"))]
pub async fn osv(req: HttpRequest, payload: web::Payload, st: web::Data<AppState>) -> HttpResponse {
    let started = Instant::now();
    let outcome = accept_osv(&req, payload, &st).await;
    respond("osv", &st, started, outcome)
}

async fn accept_osv(
    req: &HttpRequest,
    payload: web::Payload,
    st: &AppState,
) -> Result<HttpResponse, ApiError> {
    let caller = st.auth.caller(req).await?;
    caller.require(Scope::Catalog)?;
    require_content_type(req, &["application/json"])?;
    let body = read_body(req, payload, st.max_sbom, LIMIT_FLAG).await?;
    let actor = caller.name();
    let parsed = web::block(move || osv_hook::parse(&body, Utc::now(), &actor))
        .await
        .map_err(|e| ApiError::Internal(format!("OSV parser stopped: {e}")))??;
    st.ctx.inbox.append("osv", &parsed.items).await?;
    st.metrics
        .hook_items
        .fetch_add(parsed.items.len() as u64, Ordering::Relaxed);
    // The good records are kept; each bad one is named, so its sender can mend it.
    Ok(HttpResponse::Accepted().json(json!({
        "accepted": parsed.items.len(),
        "refused": parsed.refused,
    })))
}

/// The media types a VEX upload may carry.
const VEX_TYPES: [&str; 4] = [
    "application/json",
    "application/ld+json",
    "application/vnd.cyclonedx+json",
    "application/openvex+json",
];

#[tracing::instrument(skip_all, fields(hook = "vex"))]
pub async fn vex(req: HttpRequest, payload: web::Payload, st: web::Data<AppState>) -> HttpResponse {
    let started = Instant::now();
    let outcome = accept_vex(&req, payload, &st).await;
    respond("vex", &st, started, outcome)
}

/// VEX decides what counts as exposed, as advisories do: the catalog scope.
async fn accept_vex(
    req: &HttpRequest,
    payload: web::Payload,
    st: &AppState,
) -> Result<HttpResponse, ApiError> {
    let (caller, q, body) = upload(req, payload, st, Scope::Catalog, &VEX_TYPES).await?;
    let actor = caller.name();
    let image = q.image.clone();
    let parsed =
        web::block(move || vex_hook::parse(&body, image.as_deref(), "upload", Utc::now(), &actor))
            .await
            .map_err(|e| ApiError::Internal(format!("VEX parser stopped: {e}")))??;
    st.ctx
        .inbox
        .append("vex", std::slice::from_ref(&parsed.item))
        .await?;
    st.metrics.hook_items.fetch_add(1, Ordering::Relaxed);
    Ok(HttpResponse::Accepted().json(json!({
        "accepted": 1,
        "key": parsed.item.key(),
        "statements": parsed.statements,
        "warnings": parsed.warnings,
    })))
}
