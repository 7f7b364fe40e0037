//! `/healthz` (the process answers), `/readyz` (database reachable and graph loaded),
//! `/metrics` (Prometheus text; read access, or the `--metrics-token`).

use crate::auth::{self, Scope};
use crate::errors::ApiError;
use crate::server::{require_known, AppState};
use actix_web::{web, HttpRequest, HttpResponse};
use catalog_ingest::metrics::Gauges;
use serde_json::json;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok\n")
}

pub async fn readyz(st: web::Data<AppState>) -> HttpResponse {
    let store = st.ctx.store.clone();
    let db = web::block(move || store.ping()).await;
    let db_ok = matches!(db, Ok(Ok(())));
    let graph_ok = st.ready.load(Ordering::Acquire);
    let body = json!({"database": db_ok, "graph": graph_ok});
    if db_ok && graph_ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// /metrics tells what the catalog holds and who sends to it: it is read access, open only
/// while reads are open and no `--metrics-token` is set.
async fn metrics_access(req: &HttpRequest, st: &AppState) -> Result<(), ApiError> {
    let bearer = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        });
    if let (Some(want), Some(secret)) = (&st.metrics_token, bearer) {
        if auth::hash(secret.trim()) == *want {
            return Ok(());
        }
    }
    let caller = require_known(st.auth.caller(req).await?)?;
    if st.require_read || st.metrics_token.is_some() {
        caller.require(Scope::Read).map_err(|e| match e {
            ApiError::Unauthenticated(m) => {
                ApiError::Unauthenticated(format!("{m} (or the --metrics-token)"))
            }
            other => other,
        })?;
    }
    Ok(())
}

pub async fn metrics(req: HttpRequest, st: web::Data<AppState>) -> HttpResponse {
    if let Err(e) = metrics_access(&req, &st).await {
        return e.response();
    }
    let store = st.ctx.store.clone();
    let (pending, parked) = web::block(move || store.inbox_depth())
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or((-1, -1));
    let store = st.ctx.store.clone();
    let outbox = web::block(move || store.outbox_counts())
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let mut g = Gauges {
        inbox_pending: pending,
        inbox_parked: parked,
        ..Gauges::default()
    };
    if let Ok(c) = st.ctx.catalog.read() {
        g.graph_nodes = c.node_count();
        g.graph_edges = c.edge_count();
        g.graph_seq = c.last_seq();
    }
    let mut text = st.metrics.render(&g);
    let _ = write!(
        text,
        "# HELP catalog_websockets_open GraphQL WebSockets open now.\n\
         # TYPE catalog_websockets_open gauge\n\
         catalog_websockets_open {}\n\
         # HELP catalog_websockets_refused_total WebSocket upgrades refused for a cap (total or per client).\n\
         # TYPE catalog_websockets_refused_total counter\n\
         catalog_websockets_refused_total {}\n",
        st.ws.open(),
        st.ws.refused()
    );
    // Per configured endpoint (names only: URLs and keys are secrets) and state, so an alert
    // can fire on parked notifications.
    let _ = writeln!(
        text,
        "# HELP catalog_notifications Notifications in the outbox, per endpoint and state.\n\
         # TYPE catalog_notifications gauge"
    );
    for e in &st.ctx.notify.config.endpoints {
        for state in catalog_schema::OutboxState::ALL.map(|s| s.as_str()) {
            let n: i64 = outbox
                .iter()
                .filter(|(name, s, _)| *name == e.name && s == state)
                .map(|(_, _, n)| *n)
                .sum();
            let _ = writeln!(
                text,
                "catalog_notifications{{endpoint=\"{}\",state=\"{state}\"}} {n}",
                e.name
            );
        }
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(text)
}
