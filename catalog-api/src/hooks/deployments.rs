//! The deployment hooks: `/hooks/deployments` (generic JSON and the CLI), `/hooks/argocd`,
//! `/hooks/flux` and `/hooks/kubernetes`. One path for all four: authenticate (Flux may sign
//! instead), check the content type and size, read `?cluster=`, `?environment=`, `?at=`, parse
//! and validate the whole body, append to the inbox, 202. Nothing is written unless all of
//! the request is valid.

use super::{read_body, require_content_type, respond};
use crate::auth::{Caller, Scope};
use crate::errors::ApiError;
use crate::server::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use catalog_ingest::hooks::{argocd, config, deployments, flux, kubernetes, HookContext, Parsed};
use catalog_ingest::item::FieldError;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use std::sync::atomic::Ordering;
use std::time::Instant;

#[derive(Deserialize)]
struct HookQuery {
    cluster: Option<String>,
    environment: Option<String>,
    at: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Generic,
    ArgoCd,
    Flux,
    Kubernetes,
    /// `/hooks/config`: environment configuration, through the same checks.
    Config,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Generic => "deployments",
            Format::ArgoCd => "argocd",
            Format::Flux => "flux",
            Format::Kubernetes => "kubernetes",
            Format::Config => "config",
        }
    }

    fn parse(self, body: &[u8], ctx: &HookContext<'_>) -> Result<Parsed, FieldError> {
        match self {
            Format::Generic => deployments::parse(body, ctx),
            Format::ArgoCd => argocd::parse(body, ctx),
            Format::Flux => flux::parse(body, ctx),
            Format::Kubernetes => kubernetes::parse(body, ctx),
            Format::Config => config::parse(body, ctx),
        }
    }
}

pub async fn generic(
    req: HttpRequest,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> HttpResponse {
    handle(Format::Generic, req, payload, st).await
}

pub async fn argocd(
    req: HttpRequest,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> HttpResponse {
    handle(Format::ArgoCd, req, payload, st).await
}

pub async fn flux(
    req: HttpRequest,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> HttpResponse {
    handle(Format::Flux, req, payload, st).await
}

pub async fn configuration(
    req: HttpRequest,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> HttpResponse {
    handle(Format::Config, req, payload, st).await
}

pub async fn kubernetes(
    req: HttpRequest,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> HttpResponse {
    handle(Format::Kubernetes, req, payload, st).await
}

#[tracing::instrument(skip_all, fields(hook = format.name()))]
async fn handle(
    format: Format,
    req: HttpRequest,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> HttpResponse {
    let started = Instant::now();
    let outcome = accept(format, &req, payload, &st).await;
    respond(format.name(), &st, started, outcome)
}

async fn accept(
    format: Format,
    req: &HttpRequest,
    payload: web::Payload,
    st: &AppState,
) -> Result<HttpResponse, ApiError> {
    // Flux's generic-hmac provider signs the body instead of sending a token: with a
    // secret configured, a signed request is checked by its signature (after reading it).
    let signed = format == Format::Flux
        && st.flux_secret.is_some()
        && req.headers().contains_key(flux::SIGNATURE_HEADER);
    let caller = st.auth.caller(req).await?;
    if !signed {
        if let (Format::Flux, Some(_), Caller::Anonymous) = (format, &st.flux_secret, &caller) {
            return Err(ApiError::Unauthenticated(format!(
                "{} (or send `Authorization: Bearer <token>` with the ingest scope)",
                flux::SignatureError::Missing
            )));
        }
        caller.require(Scope::Ingest)?;
    }
    require_content_type(req, &["application/json"])?;
    let q = web::Query::<HookQuery>::from_query(req.query_string())
        .map_err(|e| ApiError::bad("query", e.to_string()))?;
    let at = match &q.at {
        Some(s) => Some(
            DateTime::parse_from_rfc3339(s)
                .map(|d| d.with_timezone(&Utc))
                .map_err(|e| ApiError::bad("at", format!("?at={s:?} is not RFC 3339: {e}")))?,
        ),
        None => None,
    };
    let (limit, flag) = if format == Format::Kubernetes {
        (st.max_snapshot, "--max-snapshot-bytes")
    } else {
        (st.max_body, "--max-body-bytes")
    };
    let body = read_body(req, payload, limit, flag).await?;
    let actor = if signed {
        if let Some(secret) = &st.flux_secret {
            let header = req
                .headers()
                .get(flux::SIGNATURE_HEADER)
                .and_then(|v| v.to_str().ok());
            flux::verify_signature(&body, header, secret)
                .map_err(|e| ApiError::Unauthenticated(e.to_string()))?;
        }
        "flux-hmac".to_string()
    } else {
        caller.name()
    };
    let ctx = HookContext {
        received_at: Utc::now(),
        actor: &actor,
        cluster: q.cluster.as_deref(),
        environment: q.environment.as_deref(),
        at,
    };
    let parsed = format.parse(&body, &ctx)?;
    st.ctx.inbox.append(format.name(), &parsed.items).await?;
    st.metrics
        .hook_items
        .fetch_add(parsed.items.len() as u64, Ordering::Relaxed);
    Ok(HttpResponse::Accepted()
        .json(json!({"accepted": parsed.items.len(), "ignored": parsed.ignored})))
}
