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
    assert!(
        html.contains("/ui/js/main.js"),
        "the dashboard shell loads its entry module"
    );
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

#[test]
fn failing_items_retry_then_park_visibly_and_an_admin_can_retry_them() {
    let s = CatalogServer::start(ServerOpts {
        extra_args: ["--max-attempts", "2", "--retry-base", "100ms"]
            .map(String::from)
            .to_vec(),
        ..ServerOpts::default()
    })
    .unwrap();
    // A push from a registry the catalog was not told about: accepted (nothing is lost),
    // retried, then parked with its reason.
    let body = serde_json::json!({"events": [{
        "id": "park-1", "timestamp": "2026-11-22T09:10:04Z", "action": "push",
        "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 431,
            "digest": format!("sha256:{}", "ab".repeat(32)), "repository": "shop/cart", "tag": "1.0.0"},
        "request": {"host": "unknown-registry.example:5000", "useragent": "skopeo/1.9.3"}, "actor": {}}]});
    let (st, _) = s
        .post(
            "/hooks/distribution",
            "application/vnd.docker.distribution.events.v2+json",
            Some(INGEST_TOKEN),
            serde_json::to_vec(&body).unwrap(),
        )
        .unwrap();
    assert_eq!(st, 202, "the v2 content type is accepted");
    let q = "{ inbox(state: PARKED) { edges { node { id attempts lastError body } } } }";
    let parked = s
        .wait_for(
            "the item to be parked",
            std::time::Duration::from_secs(20),
            || {
                let d = s.query(q, serde_json::json!({}))?;
                Ok(d["inbox"]["edges"]
                    .as_array()
                    .and_then(|e| e.first())
                    .map(|e| e["node"].clone()))
            },
        )
        .unwrap();
    assert_eq!(parked["attempts"], 2);
    assert!(
        parked["lastError"]
            .as_str()
            .unwrap()
            .contains("unknown-registry.example:5000 is not configured"),
        "{parked}"
    );
    assert_eq!(parked["body"]["key"], "distribution:park-1");
    assert_eq!(s.event_count().unwrap(), 0);
    // The parked list is a connection like every other: counted, paged, its cursors its own.
    let listed = s
        .paged(
            "query($first: Int, $after: String) { inbox(state: PARKED, first: $first, after: $after) { totalCount pageInfo { hasNextPage hasPreviousPage endCursor } nodes { id } } }",
            serde_json::json!({}),
            "/inbox",
            1,
            None,
        )
        .unwrap();
    assert_eq!(listed, [serde_json::json!({"id": parked["id"]})]);

    let retry = format!(
        "mutation {{ retryInboxItem(id: \"{}\") }}",
        parked["id"].as_str().unwrap()
    );
    assert_eq!(
        s.graphql_as(Some(INGEST_TOKEN), &retry, serde_json::json!({}))
            .unwrap()
            .0,
        403
    );
    let (st, v) = s
        .graphql_as(
            Some(catalog_tests::server::ADMIN_TOKEN),
            &retry,
            serde_json::json!({}),
        )
        .unwrap();
    assert_eq!(
        (st, v["data"]["retryInboxItem"].as_bool()),
        (200, Some(true))
    );
    // Back in the queue with a fresh attempt count; it fails again and is parked again.
    s.wait_for(
        "the item to be parked again",
        std::time::Duration::from_secs(20),
        || {
            let d = s.query(q, serde_json::json!({}))?;
            let again = d["inbox"]["edges"][0]["node"]["attempts"] == 2
                && s.query("{ eventCount }", serde_json::json!({}))?["eventCount"] == 0;
            Ok(again.then_some(()))
        },
    )
    .unwrap();
    let m = reqwest::blocking::get(s.url("/metrics"))
        .unwrap()
        .text()
        .unwrap();
    assert!(m.contains("catalog_worker_parked_total 2"), "{m}");
    assert!(m.contains("catalog_inbox_parked 1"), "{m}");
}
