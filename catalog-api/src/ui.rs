//! The embedded UI: every file under `ui/` compiled into the binary (no CDN, no files to
//! deploy; `build.rs` lists them). The dashboard is a single page: its deep links
//! (`/components/shop/cart`, `/blast?purl=...`) all answer with `index.html`.

use actix_web::{web, HttpResponse};

pub(crate) struct Asset {
    pub(crate) path: &'static str,
    content_type: &'static str,
    pub(crate) body: &'static [u8],
}

pub(crate) const ASSETS: &[Asset] = include!(concat!(env!("OUT_DIR"), "/ui_assets.rs"));

/// The dashboard talks to this origin only: the browser refuses anything else, so a stray
/// font or script URL fails loudly instead of leaking requests off an air-gapped network.
const DASHBOARD_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// GraphiQL is third-party code that renders whatever the schema describes: it may load
/// nothing from elsewhere, run no inline script, and be framed by no page (clickjacking a
/// token typed into it). Its CSS carries fonts and icons as `data:` URIs.
const GRAPHIQL_CSP: &str =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     font-src 'self' data:; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The first path segments that are dashboard views (deep links served `index.html`).
pub const VIEWS: &[&str] = &[
    "search",
    "components",
    "blast",
    "inventory",
    "applications",
    "teams",
    "images",
    "vulnerabilities",
    "releases",
    "notifications",
];

fn serve(path: &str) -> HttpResponse {
    match ASSETS.iter().find(|a| a.path == path) {
        Some(a) => {
            let mut r = HttpResponse::Ok();
            r.content_type(a.content_type)
                .insert_header(("X-Content-Type-Options", "nosniff"));
            let csp = match a.path {
                "index.html" => Some(DASHBOARD_CSP),
                "graphiql/index.html" => Some(GRAPHIQL_CSP),
                _ => None,
            };
            if let Some(csp) = csp {
                // Deep links must always get the current shell.
                r.insert_header(("Cache-Control", "no-cache"))
                    .insert_header(("Content-Security-Policy", csp))
                    .insert_header(("X-Frame-Options", "DENY"));
            } else {
                r.insert_header(("Cache-Control", "public, max-age=300"));
            }
            r.body(a.body)
        }
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

/// `GET /graphql`: the offline GraphiQL page (also at `/ui/graphiql/index.html`, with the
/// same policy).
pub async fn graphiql() -> HttpResponse {
    serve("graphiql/index.html")
}
