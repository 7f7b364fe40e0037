//! `/hooks/<registry>`: push notifications of every registry that is not CNCF Distribution
//! (Harbor, GHCR, ECR, ACR, GAR, Quay, Artifactory, Nexus, Docker Hub, Zot). One handler for
//! all of them: authenticate, size-limit, check the content type, parse with the sender's
//! own parser (catalog_ingest::hooks::registries::<sender>), append to the inbox, 202. What
//! differs per sender is only its parser and how it proves who it is.
//!
//! Proof, in this order:
//! - the sender's own signature, where it has one and its secret is configured (GitHub's
//!   `X-Hub-Signature-256`, Nexus's `X-Nexus-Webhook-Signature`, Artifactory's
//!   `X-JFrog-Event-Auth`): checked over the raw body before it is parsed;
//! - else a token with the ingest scope: `Authorization: Bearer <token>`, or HTTP Basic with
//!   the token as the password (SNS subscriptions and Pub/Sub push endpoints can carry Basic
//!   credentials in their URL, not headers), or `?token=<token>` for senders that can set
//!   neither (Docker Hub, Quay). Request logs carry the path only, never the query.

use super::{read_body, respond};
use crate::auth::{Caller, Scope};
use crate::errors::ApiError;
use crate::server::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use catalog_ingest::hooks::registries::{self as formats, Outcome, Request};
use chrono::Utc;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// The senders, each with its route `/hooks/<name>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    Harbor,
    Ghcr,
    Ecr,
    Acr,
    Gar,
    Quay,
    DockerHub,
    Artifactory,
    Nexus,
    Zot,
}

impl Sender {
    pub const ALL: [Sender; 10] = [
        Sender::Harbor,
        Sender::Ghcr,
        Sender::Ecr,
        Sender::Acr,
        Sender::Gar,
        Sender::Quay,
        Sender::DockerHub,
        Sender::Artifactory,
        Sender::Nexus,
        Sender::Zot,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Sender::Harbor => "harbor",
            Sender::Ghcr => "ghcr",
            Sender::Ecr => "ecr",
            Sender::Acr => "acr",
            Sender::Gar => "gar",
            Sender::Quay => "quay",
            Sender::DockerHub => "dockerhub",
            Sender::Artifactory => "artifactory",
            Sender::Nexus => "nexus",
            Sender::Zot => "zot",
        }
    }

    fn content_types(self) -> &'static [&'static str] {
        match self {
            Sender::Harbor => &formats::harbor::CONTENT_TYPES,
            Sender::Ghcr => &formats::ghcr::CONTENT_TYPES,
            Sender::Ecr => &formats::ecr::CONTENT_TYPES,
            Sender::Acr => &formats::acr::CONTENT_TYPES,
            Sender::Gar => &formats::gar::CONTENT_TYPES,
            Sender::Quay => &formats::quay::CONTENT_TYPES,
            Sender::DockerHub => &formats::dockerhub::CONTENT_TYPES,
            Sender::Artifactory => &formats::artifactory::CONTENT_TYPES,
            Sender::Nexus => &formats::nexus::CONTENT_TYPES,
            Sender::Zot => &formats::zot::CONTENT_TYPES,
        }
    }

    fn parse(self, req: &Request, body: &[u8]) -> Result<Outcome, ApiError> {
        Ok(match self {
            Sender::Harbor => formats::harbor::parse(req, body)?,
            Sender::Ghcr => formats::ghcr::parse(req, body)?,
            Sender::Ecr => formats::ecr::parse(req, body)?,
            Sender::Acr => formats::acr::parse(req, body)?,
            Sender::Gar => formats::gar::parse(req, body)?,
            Sender::Quay => formats::quay::parse(req, body)?,
            Sender::DockerHub => formats::dockerhub::parse(req, body)?,
            Sender::Artifactory => formats::artifactory::parse(req, body)?,
            Sender::Nexus => formats::nexus::parse(req, body)?,
            Sender::Zot => formats::zot::parse(req, body)?,
        })
    }

    /// The header carrying the sender's own proof, and the flag holding its secret.
    fn signature_scheme(self) -> Option<(&'static str, &'static str)> {
        match self {
            Sender::Ghcr => Some(("x-hub-signature-256", "--ghcr-hmac-secret")),
            Sender::Artifactory => Some(("x-jfrog-event-auth", "--artifactory-secret")),
            Sender::Nexus => Some(("x-nexus-webhook-signature", "--nexus-hmac-secret")),
            _ => None,
        }
    }

    /// The sender's own proof, checked over the raw body, when the request carries one:
    /// Some(Ok) when it holds, Some(Err(why)) when it does not (or no secret is configured to
    /// check it with), None when the request carries no such proof (a token must then do).
    fn signature(self, st: &AppState, req: &Request, body: &[u8]) -> Option<Result<(), String>> {
        let (header, flag) = self.signature_scheme()?;
        req.header(header)?;
        let secrets = &st.registry_hooks;
        let secret = match self {
            Sender::Ghcr => secrets.ghcr_secret.as_deref(),
            Sender::Artifactory => secrets.artifactory_secret.as_deref(),
            Sender::Nexus => secrets.nexus_secret.as_deref(),
            _ => None,
        };
        let Some(secret) = secret else {
            return Some(Err(format!(
                "the request is signed ({header}) but no secret is configured to check it: start \
                 the catalog with {flag}"
            )));
        };
        Some(match self {
            Sender::Ghcr => formats::ghcr::verify(secret, req, body),
            Sender::Artifactory => formats::artifactory::verify(secret, req, body),
            Sender::Nexus => formats::nexus::verify(secret, req, body),
            _ => Ok(()),
        })
    }
}

/// Secrets and settings of the registry hooks, from `serve`'s flags.
#[derive(Default)]
pub struct RegistryHooks {
    pub ghcr_secret: Option<Vec<u8>>,
    pub artifactory_secret: Option<Vec<u8>>,
    pub nexus_secret: Option<Vec<u8>>,
    /// SNS topics whose deliveries `/hooks/ecr` accepts, and whose subscriptions it confirms.
    pub sns_topics: Vec<String>,
    /// Where subscriptions are confirmed (default: the topic's own regional endpoint).
    pub sns_endpoint: Option<String>,
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    for sender in Sender::ALL {
        cfg.route(
            &format!("/hooks/{}", sender.name()),
            web::post().to(move |req, payload, st| handle(sender, req, payload, st)),
        );
    }
}

#[tracing::instrument(skip_all, fields(hook = sender.name()))]
async fn handle(
    sender: Sender,
    req: HttpRequest,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> HttpResponse {
    let started = Instant::now();
    let outcome = accept(sender, &req, payload, &st).await;
    respond(sender.name(), &st, started, outcome)
}

/// The token a request carries: a bearer token, Basic credentials' password, or `?token=`.
fn presented_token(req: &HttpRequest) -> Option<String> {
    if let Some(h) = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
    {
        if let Some(b) = crate::auth::credentials(h, "Basic") {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()?;
            let text = String::from_utf8(decoded).ok()?;
            return text.split_once(':').map(|(_, pw)| pw.to_string());
        }
        return crate::auth::credentials(h, "Bearer").map(str::to_string);
    }
    web::Query::<BTreeMap<String, String>>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.get("token").cloned())
}

fn headers_of(req: &HttpRequest) -> BTreeMap<String, String> {
    req.headers()
        .iter()
        .filter_map(|(k, v)| {
            Some((
                k.as_str().to_ascii_lowercase(),
                v.to_str().ok()?.to_string(),
            ))
        })
        .collect()
}

fn content_type(req: &HttpRequest) -> String {
    req.headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

async fn accept(
    sender: Sender,
    req: &HttpRequest,
    payload: web::Payload,
    st: &AppState,
) -> Result<HttpResponse, ApiError> {
    let ct = content_type(req);
    if !sender.content_types().contains(&ct.as_str()) {
        return Err(ApiError::UnsupportedMediaType(format!(
            "content type {:?} is not accepted by /hooks/{}; send one of: {}",
            if ct.is_empty() { "(none)" } else { ct.as_str() },
            sender.name(),
            sender.content_types().join(", ")
        )));
    }
    let q = web::Query::<BTreeMap<String, String>>::from_query(req.query_string())
        .map_err(|e| ApiError::bad("query", e.to_string()))?;
    let registry = q.get("registry").cloned();
    if let Some(r) = &registry {
        if !formats::valid_host(r) {
            return Err(ApiError::bad(
                "registry",
                format!("{r:?} is not a registry host"),
            ));
        }
    }
    // A token is checked before the body is read; a signature needs the body.
    let token_caller = match presented_token(req) {
        Some(t) => Some(st.auth.caller_from(Some(&format!("Bearer {t}"))).await?),
        None => None,
    };
    let body = read_body(req, payload, st.max_body, "--max-body-bytes").await?;
    let headers = headers_of(req);
    let request = Request {
        headers: &headers,
        content_type: &ct,
        received_at: Utc::now(),
        registry: registry.as_deref(),
    };
    match sender.signature(st, &request, &body) {
        Some(Ok(())) => {}
        Some(Err(why)) => return Err(ApiError::Unauthenticated(why)),
        None => token_caller
            .unwrap_or(Caller::Anonymous)
            .require(Scope::Ingest)?,
    }
    if sender == Sender::Ecr {
        if let Some(topic) = formats::ecr::sns_topic(&request, &body) {
            sns_topic_allowed(st, &topic)?;
        }
    }
    match sender.parse(&request, &body)? {
        Outcome::Ping => Ok(HttpResponse::Ok().json(json!({"pong": true}))),
        Outcome::SnsConfirm { topic_arn, token } => {
            sns_topic_allowed(st, &topic_arn)?;
            confirm_subscription(st, &topic_arn, &token).await?;
            Ok(HttpResponse::Ok().json(json!({"confirmed": topic_arn})))
        }
        Outcome::Items(parsed) => {
            st.ctx.inbox.append(sender.name(), &parsed.items).await?;
            st.metrics
                .hook_items
                .fetch_add(parsed.items.len() as u64, Ordering::Relaxed);
            Ok(HttpResponse::Accepted()
                .json(json!({"accepted": parsed.items.len(), "ignored": parsed.ignored})))
        }
    }
}

/// Only configured topics are heard: anyone can subscribe an endpoint to a topic of their own.
fn sns_topic_allowed(st: &AppState, topic: &str) -> Result<(), ApiError> {
    if st.registry_hooks.sns_topics.iter().any(|t| t == topic) {
        return Ok(());
    }
    Err(ApiError::Forbidden(format!(
        "SNS topic {topic:?} is not configured: start the catalog with --sns-topic {topic}"
    )))
}

/// Confirms an SNS subscription by calling the topic's own regional endpoint (or
/// `--sns-endpoint`), never the `SubscribeURL` a payload names.
async fn confirm_subscription(st: &AppState, topic: &str, token: &str) -> Result<(), ApiError> {
    let endpoint = match &st.registry_hooks.sns_endpoint {
        Some(e) => e.trim_end_matches('/').to_string(),
        None => formats::ecr::sns_endpoint(topic).ok_or_else(|| {
            ApiError::bad("TopicArn", format!("{topic:?} is not an SNS topic ARN"))
        })?,
    };
    let url = reqwest::Url::parse_with_params(
        &format!("{endpoint}/"),
        &[
            ("Action", "ConfirmSubscription"),
            ("TopicArn", topic),
            ("Token", token),
        ],
    )
    .map_err(|e| ApiError::Internal(format!("SNS endpoint {endpoint:?}: {e}")))?;
    let resp = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| ApiError::Internal(format!("HTTP client: {e}")))?
        .get(url)
        .send()
        .await
        .map_err(|e| {
            ApiError::Unavailable(format!(
                "confirming the subscription at {endpoint} failed: {e}"
            ))
        })?;
    if !resp.status().is_success() {
        return Err(ApiError::Unavailable(format!(
            "{endpoint} refused to confirm the subscription to {topic}: HTTP {}",
            resp.status()
        )));
    }
    tracing::info!(topic, "SNS subscription confirmed");
    Ok(())
}
