//! The reference GraphQL clients from npm (graphql-js, graphql-http, graphql-ws), unmodified,
//! against a real `catalog serve`: introspection, the GraphQL-over-HTTP audits, and a
//! subscription (`tests/browser/graphql-clients.mjs`, plain node, no browser).

use crate::ui::run_browser;
use catalog_tests::registry::TempDir;
use catalog_tests::server::INGEST_TOKEN;
use catalog_tests::{CatalogServer, ServerOpts};
use serde_json::json;

#[test]
fn graphql_js_graphql_http_and_graphql_ws_work_unmodified() {
    let dir_browser = crate::ui::prerequisites();
    for pkg in ["graphql", "graphql-http", "graphql-ws", "ws"] {
        assert!(
            dir_browser.join("node_modules").join(pkg).is_dir(),
            "tests/browser/node_modules/{pkg} is missing: run: npm ci --prefix tests/browser"
        );
    }
    let root = dir_browser.join("../..");
    let server = CatalogServer::start(ServerOpts::default()).unwrap();
    let dir = TempDir::new("graphql-clients").unwrap();
    let seed = dir.path().join("seed.json");
    std::fs::write(
        &seed,
        json!({
            "catalog": server.url(""),
            "ingestToken": INGEST_TOKEN,
            "sdl": root.join("schema/catalog.graphql"),
        })
        .to_string(),
    )
    .unwrap();
    let run = run_browser(&dir_browser, "graphql-clients.mjs", &[("SEED", &seed)]);
    assert!(
        run.ok,
        "node graphql-clients.mjs failed ({}):\n{}\n--- catalog log:\n{}",
        run.status,
        run.output,
        server.log()
    );
}
