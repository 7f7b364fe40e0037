//! The embedded UI: static files compiled into the binary (no CDN, no files to deploy).

use actix_web::{web, HttpResponse};

struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($path:literal, $ct:literal) => {
        Asset {
            path: $path,
            content_type: $ct,
            body: include_bytes!(concat!("../../ui/", $path)),
        }
    };
}

const ASSETS: &[Asset] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("app.js", "text/javascript; charset=utf-8"),
    asset!("graphiql/index.html", "text/html; charset=utf-8"),
    asset!("graphiql/graphiql.min.js", "text/javascript; charset=utf-8"),
    asset!("graphiql/graphiql.min.css", "text/css; charset=utf-8"),
    asset!(
        "graphiql/react.production.min.js",
        "text/javascript; charset=utf-8"
    ),
    asset!(
        "graphiql/react-dom.production.min.js",
        "text/javascript; charset=utf-8"
    ),
];

fn serve(path: &str) -> HttpResponse {
    match ASSETS.iter().find(|a| a.path == path) {
        Some(a) => HttpResponse::Ok()
            .content_type(a.content_type)
            .insert_header(("Cache-Control", "public, max-age=300"))
            .body(a.body),
        None => HttpResponse::NotFound()
            .content_type("text/plain")
            .body("no such file\n"),
    }
}

pub async fn index() -> HttpResponse {
    serve("index.html")
}

pub async fn asset(path: web::Path<String>) -> HttpResponse {
    serve(&path)
}

/// `GET /graphql`: the offline GraphiQL page.
pub async fn graphiql() -> HttpResponse {
    serve("graphiql/index.html")
}
