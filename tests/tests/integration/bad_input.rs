//! Bad input gets a precise 4xx and writes nothing: malformed JSON, wrong content type,
//! missing/invalid/under-scoped tokens, oversized bodies, an event without a digest; and the
//! GraphQL equivalents (mutations without a token, wrong scope, limits).

use catalog_tests::server::{ADMIN_TOKEN, INGEST_TOKEN};
use catalog_tests::{CatalogServer, ServerOpts};
use serde_json::{json, Value};

const CT: &str = "application/vnd.docker.distribution.events.v1+json";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/fixtures/distribution-2.8/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let raw = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    // The fixtures are captured HTTP requests: the body follows the blank line.
    raw.split_once("\r\n\r\n")
        .or_else(|| raw.split_once("\n\n"))
        .map(|(_, b)| b.as_bytes().to_vec())
        .unwrap()
}

fn error(body: &str) -> Value {
    serde_json::from_str::<Value>(body).unwrap_or_else(|_| panic!("not JSON: {body}"))["error"]
        .clone()
}

fn nothing_written(s: &CatalogServer) {
    assert_eq!(s.event_count().unwrap(), 0);
    assert_eq!(s.pending().unwrap(), 0);
}

#[test]
fn hooks_refuse_bad_input_and_write_nothing() {
    let s = CatalogServer::start(ServerOpts {
        extra_args: vec!["--max-body-bytes".into(), "8192".into()],
        ..ServerOpts::default()
    })
    .unwrap();
    let push = fixture("example-manifest-push-1.0.0.http");

    // No token, a malformed header, an unknown token.
    let (st, body) = s
        .post("/hooks/distribution", CT, None, push.clone())
        .unwrap();
    assert_eq!(st, 401, "{body}");
    assert!(error(&body)["message"]
        .as_str()
        .unwrap()
        .contains("ingest scope"));
    let (st, _) = s
        .post(
            "/hooks/distribution",
            CT,
            Some("not-a-real-token"),
            push.clone(),
        )
        .unwrap();
    assert_eq!(st, 401);

    // A token without the ingest scope: 403.
    let out = std::process::Command::new(catalog_tests::server::binary().unwrap())
        .args([
            "token",
            "create",
            "--name",
            "reader",
            "--scope",
            "read",
            "--database-url",
        ])
        .arg(s.dir.path().join("catalog.db"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reader = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let (st, body) = s
        .post("/hooks/distribution", CT, Some(&reader), push.clone())
        .unwrap();
    assert_eq!(st, 403, "{body}");
    assert_eq!(error(&body)["code"], "FORBIDDEN");

    // Wrong content type.
    let (st, body) = s
        .post(
            "/hooks/distribution",
            "text/plain",
            Some(INGEST_TOKEN),
            push.clone(),
        )
        .unwrap();
    assert_eq!(st, 415, "{body}");
    assert!(error(&body)["message"]
        .as_str()
        .unwrap()
        .contains("events.v1+json"));

    // Malformed JSON, truncated.
    let (st, body) = s
        .post(
            "/hooks/distribution",
            CT,
            Some(INGEST_TOKEN),
            push[..push.len() / 2].to_vec(),
        )
        .unwrap();
    assert_eq!(st, 400, "{body}");
    assert_eq!(error(&body)["field"], "body");

    // Oversized.
    let big = format!("{{\"events\": [], \"pad\": \"{}\"}}", "x".repeat(20_000)).into_bytes();
    let (st, body) = s
        .post("/hooks/distribution", CT, Some(INGEST_TOKEN), big)
        .unwrap();
    assert_eq!(st, 413, "{body}");
    assert!(error(&body)["message"].as_str().unwrap().contains("8192"));

    // A manifest push without a digest, after a valid one in the same envelope: the whole
    // envelope is refused, naming the field, and the valid event is not written either.
    let mut env: Value = serde_json::from_slice(&push).unwrap();
    let mut bad = env["events"][0].clone();
    bad["id"] = json!("another-id");
    bad["target"].as_object_mut().unwrap().remove("digest");
    env["events"].as_array_mut().unwrap().push(bad);
    let (st, body) = s
        .post(
            "/hooks/distribution",
            CT,
            Some(INGEST_TOKEN),
            serde_json::to_vec(&env).unwrap(),
        )
        .unwrap();
    assert_eq!(st, 400, "{body}");
    assert_eq!(error(&body)["field"], "events[1].target.digest");

    // A bad timestamp and a delete naming nothing.
    let mut env: Value = serde_json::from_slice(&push).unwrap();
    env["events"][0]["timestamp"] = json!("last tuesday");
    let (st, body) = s
        .post(
            "/hooks/distribution",
            CT,
            Some(INGEST_TOKEN),
            serde_json::to_vec(&env).unwrap(),
        )
        .unwrap();
    assert_eq!(
        (st, error(&body)["field"].clone()),
        (400, json!("events[0].timestamp"))
    );
    let del: Value = json!({"events": [{"id": "x", "timestamp": "2026-11-22T09:28:38Z", "action": "delete",
        "target": {"repository": "shop/web"}, "request": {"host": "127.0.0.1:5000"}}]});
    let (st, body) = s
        .post(
            "/hooks/distribution",
            CT,
            Some(INGEST_TOKEN),
            serde_json::to_vec(&del).unwrap(),
        )
        .unwrap();
    assert_eq!(
        (st, error(&body)["field"].clone()),
        (400, json!("events[0].target"))
    );

    nothing_written(&s);

    // And the real thing is accepted; blob events are ignored, not stored.
    let (st, body) = s
        .post("/hooks/distribution", CT, Some(INGEST_TOKEN), push)
        .unwrap();
    assert_eq!((st, body.as_str()), (202, r#"{"accepted":1,"ignored":0}"#));
    let (st, body) = s
        .post(
            "/hooks/distribution",
            CT,
            Some(INGEST_TOKEN),
            fixture("example-blob-push.http"),
        )
        .unwrap();
    assert_eq!((st, body.as_str()), (202, r#"{"accepted":0,"ignored":1}"#));
    assert!(!s.log().contains("panicked"));
}

#[test]
fn graphql_refuses_unauthenticated_mutations_and_bad_queries() {
    let s = CatalogServer::start(ServerOpts::default()).unwrap();
    let set_owner = r#"mutation { setOwner(component: "shop/cart", team: "payments") { name owner { name } } }"#;

    let (st, v) = s.graphql_as(None, set_owner, json!({})).unwrap();
    assert_eq!(st, 401, "{v}");
    assert_eq!(v["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    let (st, v) = s
        .graphql_as(Some("wrong-token-123"), set_owner, json!({}))
        .unwrap();
    assert_eq!(st, 401, "{v}");
    let (st, v) = s
        .graphql_as(Some(INGEST_TOKEN), set_owner, json!({}))
        .unwrap();
    assert_eq!(st, 403, "{v}");
    assert_eq!(v["errors"][0]["extensions"]["code"], "FORBIDDEN");
    assert_eq!(s.event_count().unwrap(), 0);

    let (st, v) = s
        .graphql_as(Some(ADMIN_TOKEN), set_owner, json!({}))
        .unwrap();
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["data"]["setOwner"]["owner"]["name"], "payments");
    let ev = s
        .query(
            "{ events(kind: \"owner.set\") { edges { node { kind actor source payload } } } }",
            json!({}),
        )
        .unwrap();
    let node = &ev["events"]["edges"][0]["node"];
    assert_eq!(
        (node["actor"].as_str(), node["source"].as_str()),
        (Some("flag:admin"), Some("api"))
    );
    assert_eq!(node["payload"]["team"], "payments");

    // registerImage needs the ingest scope and a configured registry.
    let reg = r#"mutation { registerImage(registry: "nowhere:5000", repository: "shop/cart", tag: "1.0.0") { digest } }"#;
    assert_eq!(s.graphql_as(None, reg, json!({})).unwrap().0, 401);
    let (st, v) = s.graphql_as(Some(INGEST_TOKEN), reg, json!({})).unwrap();
    assert_eq!(st, 200);
    assert_eq!(v["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(v["errors"][0]["extensions"]["field"], "registry");

    // Bad arguments name the argument; unknown fields and over-deep queries are refused.
    let (_, v) = s
        .graphql_as(
            None,
            "{ components(first: 100000) { edges { cursor } } }",
            json!({}),
        )
        .unwrap();
    assert_eq!(v["errors"][0]["extensions"]["field"], "first");
    let (_, v) = s
        .graphql_as(
            None,
            "{ events(kind: \"nope\") { edges { cursor } } }",
            json!({}),
        )
        .unwrap();
    assert_eq!(v["errors"][0]["extensions"]["field"], "kind");
    let (_, v) = s.graphql_as(None, "{ nope }", json!({})).unwrap();
    assert_eq!(
        v["errors"][0]["extensions"]["code"],
        "GRAPHQL_VALIDATION_FAILED"
    );
    // teams > edges > node, then components > nodes > owner three times: 13 levels.
    let deep = "{ teams { edges { node { components { nodes { owner { components { nodes { owner { components { nodes { owner { name } } } } } } } } } } } } }";
    let (_, v) = s.graphql_as(None, deep, json!({})).unwrap();
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("nested too deep"),
        "{v}"
    );

    // Malformed GraphQL transport: bad JSON, wrong content type.
    let (st, body) = s
        .post(
            "/graphql",
            "application/json",
            None,
            b"{\"query\": ".to_vec(),
        )
        .unwrap();
    assert_eq!(st, 400, "{body}");
    let (st, _) = s
        .post("/graphql", "text/plain", None, b"{}".to_vec())
        .unwrap();
    assert_eq!(st, 415);
    assert!(!s.log().contains("panicked"));
}

#[test]
fn first_start_without_tokens_is_closed_and_writes_an_admin_token() {
    let dir = catalog_tests::registry::TempDir::new("catalog-bootstrap").unwrap();
    let db = dir.path().join("fresh.db");
    let port = catalog_tests::server::free_port().unwrap();
    let mut child = std::process::Command::new(catalog_tests::server::binary().unwrap())
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--database-url",
        ])
        .arg(&db)
        .env_remove("CATALOG_INGEST_TOKEN")
        .env_remove("CATALOG_ADMIN_TOKEN")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let http = reqwest::blocking::Client::new();
    let url = format!("http://127.0.0.1:{port}");
    let mut ready = false;
    for _ in 0..300 {
        if http
            .get(format!("{url}/readyz"))
            .send()
            .is_ok_and(|r| r.status().is_success())
        {
            ready = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(ready, "server did not start");
    let token_file = dir.path().join("catalog-admin.token");
    let token = std::fs::read_to_string(&token_file)
        .unwrap()
        .trim()
        .to_string();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&token_file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let q = json!({"query": "mutation { setOwner(component: \"a\", team: \"b\") { name } }"});
    let r = http.post(format!("{url}/graphql")).json(&q).send().unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = http
        .post(format!("{url}/hooks/distribution"))
        .header("content-type", CT)
        .body("{\"events\":[]}")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = http
        .post(format!("{url}/graphql"))
        .bearer_auth(&token)
        .json(&q)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let _ = child.kill();
    let _ = child.wait();
}
