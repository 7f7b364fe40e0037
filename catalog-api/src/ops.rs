//! `/healthz` (the process answers), `/readyz` (database reachable and graph loaded),
//! `/metrics` (Prometheus text).

use crate::server::AppState;
use actix_web::{web, HttpResponse};
use catalog_ingest::metrics::Gauges;
use serde_json::json;
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

pub async fn metrics(st: web::Data<AppState>) -> HttpResponse {
    let store = st.ctx.store.clone();
    let (pending, parked) = web::block(move || store.inbox_depth())
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or((-1, -1));
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
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(st.metrics.render(&g))
}
