//! Operations surface: health, readiness, Prometheus metrics, the embedded UI and GraphiQL
//! (offline), and `--help` documenting every flag with its variable.

use catalog_tests::server::{binary, INGEST_TOKEN};
use catalog_tests::{CatalogServer, ServerOpts};

#[test]
fn health_ready_metrics_and_ui() {
    let s = CatalogServer::start(ServerOpts::default()).unwrap();
    let get = |p: &str| {
        let r = reqwest::blocking::get(s.url(p)).unwrap();
        let ct = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (r.status().as_u16(), ct, r.text().unwrap())
    };
    assert_eq!(get("/healthz").0, 200);
    let (st, _, body) = get("/readyz");
    assert_eq!(st, 200);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap(),
        serde_json::json!({"database": true, "graph": true})
    );

    let (st, _) = s
        .post(
            "/hooks/distribution",
            "text/plain",
            Some(INGEST_TOKEN),
            b"{}".to_vec(),
        )
        .unwrap();
    assert_eq!(st, 415);
    let (st, ct, m) = get("/metrics");
    assert_eq!(st, 200);
    assert!(ct.starts_with("text/plain"));
    for name in [
        "catalog_hook_requests_total{hook=\"distribution\",status=\"415\"} 1",
        "catalog_inbox_depth 0",
        "catalog_worker_item_seconds_count",
        "catalog_graph_nodes 0",
        "catalog_hook_ack_seconds_bucket",
    ] {
        assert!(m.contains(name), "{name} missing from /metrics:\n{m}");
    }

    let (st, ct, html) = get("/");
    assert_eq!((st, ct.starts_with("text/html")), (200, true));
    assert!(html.contains("/ui/app.js"));
    // GraphiQL is served from the binary; every asset it loads is local.
    let (st, _, page) = get("/graphql");
    assert_eq!(st, 200);
    for asset in [
        "graphiql.min.js",
        "graphiql.min.css",
        "react.production.min.js",
        "react-dom.production.min.js",
    ] {
        assert!(
            page.contains(&format!("/ui/graphiql/{asset}")),
            "{asset} not referenced"
        );
        assert_eq!(get(&format!("/ui/graphiql/{asset}")).0, 200, "{asset}");
    }
    for remote in [
        "<script src=\"http",
        "<link rel=\"stylesheet\" href=\"http",
        "unpkg.com",
        "jsdelivr",
    ] {
        assert!(!page.contains(remote), "GraphiQL page loads {remote}");
    }
    assert_eq!(get("/ui/nope.js").0, 404);
}

#[test]
fn serve_help_documents_every_flag_and_variable() {
    let out = std::process::Command::new(binary().unwrap())
        .args(["serve", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    let flags: Vec<&str> = help
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("--"))
        .map(|l| l.split([' ', '<']).next().unwrap())
        .filter(|f| *f != "help")
        .collect();
    assert!(flags.len() >= 15, "{flags:?}");
    // Each flag's paragraph names its CATALOG_ variable.
    let paragraphs: Vec<&str> = help.split("\n      --").skip(1).collect();
    for p in paragraphs {
        let flag = p.split([' ', '<', '\n']).next().unwrap();
        if flag == "help" {
            continue;
        }
        let flat = p.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            flat.contains("[env: CATALOG_"),
            "--{flag} does not document its variable:\n{p}"
        );
    }
}
