//! Every GraphQL operation in README.md and ui/js validates against the served schema and
//! answers without errors, against the seeded shop of the dashboard suite
//! (`tests/browser/operations.mjs`, plain node, graphql-js and graphql-ws).

use crate::ui::{prerequisites, run_browser, seed_shop};
use catalog_tests::registry::{push, TempDir};
use catalog_tests::server::{ADMIN_TOKEN, INGEST_TOKEN};
use serde_json::json;

#[test]
fn every_readme_and_dashboard_operation_validates_and_answers() {
    let dir_browser = prerequisites();
    let shop = seed_shop();
    let host = shop.registry.host();
    // The README registers tag 1.3.0 of shop/cart on 127.0.0.1:5000: here it is this
    // registry's, and it exists.
    push(&shop.layout, "shop-cart-1.2.0", &host, "shop/cart", "1.3.0").unwrap();
    let cart = &shop.seed["versions"][0];
    let (version, digest) = (
        cart["version"].as_str().unwrap(),
        cart["digest"].as_str().unwrap(),
    );
    let dir = TempDir::new("operations").unwrap();
    let seed = dir.path().join("seed.json");
    std::fs::write(
        &seed,
        json!({
            "catalog": shop.server.url(""),
            "root": dir_browser.join("../.."),
            "adminToken": ADMIN_TOKEN,
            "ingestToken": INGEST_TOKEN,
            "component": "shop/cart",
            "version": version,
            "digest": digest,
            "reference": format!("{host}/shop/cart:{version}@{digest}"),
            "log4j": shop.seed["log4j"],
            "vuln": shop.seed["vuln"],
            "team": shop.seed["team"],
            "application": shop.seed["application"],
            "cluster": "prod-eu-1",
            "substitutions": {
                "127.0.0.1:5000": host,
                "\"sha256:...\"": format!("\"{digest}\""),
                // The README's example version (approvals and planned releases need one the
                // catalog knows).
                "version: \"1.4.2\"": format!("version: \"{version}\""),
            },
        })
        .to_string(),
    )
    .unwrap();
    let run = run_browser(&dir_browser, "operations.mjs", &[("SEED", &seed)]);
    assert!(
        run.ok,
        "node operations.mjs failed ({}):\n{}\n--- catalog log:\n{}",
        run.status,
        run.output,
        shop.server.log()
    );
}
