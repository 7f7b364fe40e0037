//! Deployments end to end with real parts: an image pushed to the real registry, a deployment
//! recorded by `catalog deploy`, and `whereIs` answering with digest, cluster, namespace and
//! owner; a live subscription; every deployment hook fed a realistic payload; bad input and
//! bad signatures refused with nothing written; a cluster snapshot replacing the cluster's view.

use catalog_tests::registry::{push, ImageSpec, Layout, Registry};
use catalog_tests::server::{binary, free_port, INGEST_TOKEN};
use catalog_tests::{CatalogServer, ServerOpts};
use chrono::DurationRound;
use serde_json::{json, Value};
use std::process::Command;
use std::time::{Duration, Instant};

const WHERE_IS: &str = r#"query($c: String, $v: String, $i: String, $at: DateTime, $first: Int, $after: String) {
  whereIs(component: $c, version: $v, image: $i, at: $at, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
    nodes { environment cluster namespace workload since until status source actor revision url
      runs { reference digest component version owner known ownerTeam { name } } }
  }
}"#;

const INVENTORY: &str = r#"query($e: String, $c: String, $n: String, $at: DateTime, $first: Int, $after: String) {
  inventory(environment: $e, cluster: $c, namespace: $n, at: $at, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
    nodes { environment cluster namespace workload since until status replicas source
      runs { container reference digest component version known } }
  }
}"#;

/// The pipeline's `catalog deploy` of shop/cart 1.0.0 to prod (replayed later with the same id).
const PROD_DEPLOY: &[&str] = &[
    "--cluster",
    "prod-eu-1",
    "--namespace",
    "payments",
    "--component",
    "shop/cart",
    "--version",
    "1.0.0",
    "--environment",
    "prod",
    "--revision",
    "aaaa1111",
    "--url",
    "https://ci.example.com/run/42",
    "--id",
    "pipeline-42",
];

fn fixture(path: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../catalog-ingest/fixtures")
        .join(path);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Runs `catalog <command...> --server URL --token T <args...>`; returns (exit code,
/// stdout, stderr).
pub(super) fn catalog_cli(
    server_url: &str,
    token: &str,
    command: &[&str],
    args: &[&str],
) -> (i32, String, String) {
    let out = Command::new(binary().unwrap())
        .args(command)
        .args(["--server", server_url, "--token", token])
        .args(args)
        .env_remove("CATALOG_TOKEN")
        .env_remove("CATALOG_SERVER")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `catalog deploy` against a server.
fn deploy(server_url: &str, token: &str, args: &[&str]) -> (i32, String, String) {
    catalog_cli(server_url, token, &["deploy"], args)
}

/// The first 500 (every one in these tests) of a connection's nodes.
fn nodes_of(server: &CatalogServer, query: &str, mut vars: Value, field: &str) -> Vec<Value> {
    vars["first"] = json!(500);
    server.query(query, vars).unwrap()[field]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn where_is(server: &CatalogServer, vars: Value) -> Vec<Value> {
    nodes_of(server, WHERE_IS, vars, "whereIs")
}

fn inventory(server: &CatalogServer, vars: Value) -> Vec<Value> {
    nodes_of(server, INVENTORY, vars, "inventory")
}

/// A `graphql-transport-ws` subscription over a real WebSocket.
pub(crate) struct Subscription {
    ws: tungstenite::WebSocket<std::net::TcpStream>,
}

impl Subscription {
    pub(crate) fn open(port: u16, query: &str) -> Subscription {
        use tungstenite::client::IntoClientRequest;
        let mut req = format!("ws://127.0.0.1:{port}/graphql")
            .into_client_request()
            .unwrap();
        req.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        let stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let (mut ws, resp) = tungstenite::client(req, stream).unwrap();
        assert_eq!(resp.status().as_u16(), 101);
        ws.send(tungstenite::Message::text(
            json!({"type": "connection_init", "payload": {}}).to_string(),
        ))
        .unwrap();
        let mut s = Subscription { ws };
        assert_eq!(s.next_json()["type"], "connection_ack");
        s.ws.send(tungstenite::Message::text(
            json!({"id": "1", "type": "subscribe", "payload": {"query": query}}).to_string(),
        ))
        .unwrap();
        s
    }

    pub(crate) fn next_json(&mut self) -> Value {
        loop {
            match self.ws.read().unwrap() {
                tungstenite::Message::Text(t) => {
                    let v: Value = serde_json::from_str(t.as_str()).unwrap();
                    if v["type"] == "ping" {
                        self.ws
                            .send(tungstenite::Message::text(
                                json!({"type": "pong"}).to_string(),
                            ))
                            .unwrap();
                        continue;
                    }
                    return v;
                }
                tungstenite::Message::Ping(_) | tungstenite::Message::Pong(_) => continue,
                other => panic!("unexpected WebSocket message: {other:?}"),
            }
        }
    }
}

#[test]
fn catalog_deploy_then_where_is_answers_with_digest_cluster_namespace_and_owner() {
    let port = free_port().unwrap();
    let hook = format!("http://127.0.0.1:{port}/hooks/distribution");
    let registry = Registry::start(&[(&hook, INGEST_TOKEN)]).unwrap();
    let host = registry.host();
    let server = CatalogServer::start(ServerOpts {
        port: Some(port),
        registries: vec![format!("http://{host}")],
        ..ServerOpts::default()
    })
    .unwrap();
    let url = server.url("");

    let layout = Layout::new().unwrap();
    layout
        .build(
            "v1",
            &ImageSpec::new("cart 1.0.0")
                .label("org.opencontainers.image.revision", "aaaa1111")
                .label("org.opencontainers.image.created", "2026-11-20T10:00:00Z")
                .label("dev.catalog.owner", "team-checkout"),
        )
        .unwrap();
    let d1 = push(&layout, "v1", &host, "shop/cart", "1.0.0").unwrap();
    server
        .wait_for("shop/cart 1.0.0", Duration::from_secs(30), || {
            let v = server.query(
                "{ component(name: \"shop/cart\") { version(version: \"1.0.0\") { digest } } }",
                json!({}),
            )?;
            Ok((v["component"]["version"]["digest"] == d1.as_str()).then_some(()))
        })
        .unwrap();

    // A live dashboard subscribes before anything is deployed.
    let mut sub = Subscription::open(
        port,
        "subscription { deploymentChanged(cluster: \"prod-eu-1\") { cluster namespace workload status deployment { runs { version digest owner } } } }",
    );

    // Deployed by component and version, then by image reference (the tag resolves).
    let (code, out, err) = deploy(&url, INGEST_TOKEN, PROD_DEPLOY);
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");
    assert!(out.contains("recorded"), "{out}");
    let image_ref = format!("{host}/shop/cart:1.0.0");
    let (code, out, err) = deploy(
        &url,
        INGEST_TOKEN,
        &[
            "--cluster",
            "staging-1",
            "--namespace",
            "shop",
            "--image",
            &image_ref,
            "--workload",
            "cart",
        ],
    );
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");

    let found = server
        .wait_for(
            "whereIs shop/cart in two clusters",
            Duration::from_secs(30),
            || {
                let w = where_is(&server, json!({"c": "shop/cart"}));
                Ok((w.len() == 2).then_some(w))
            },
        )
        .unwrap();
    let prod = found.iter().find(|d| d["cluster"] == "prod-eu-1").unwrap();
    assert_eq!(prod["cluster"], "prod-eu-1");
    assert_eq!(prod["namespace"], "payments");
    assert_eq!(prod["workload"], "cart");
    assert_eq!(prod["environment"], "prod");
    assert_eq!(prod["status"], "HEALTHY");
    assert_eq!(prod["source"], "cli");
    assert_eq!(prod["actor"], "flag:ingest");
    assert_eq!(prod["revision"], "aaaa1111");
    assert_eq!(prod["url"], "https://ci.example.com/run/42");
    assert_eq!(prod["runs"][0]["digest"], d1.as_str());
    assert_eq!(prod["runs"][0]["version"], "1.0.0");
    assert_eq!(prod["runs"][0]["owner"], "team-checkout");
    assert_eq!(prod["runs"][0]["ownerTeam"]["name"], "team-checkout");
    assert_eq!(prod["runs"][0]["known"], true);
    let staging = found.iter().find(|d| d["cluster"] == "staging-1").unwrap();
    assert_eq!(staging["cluster"], "staging-1");
    assert_eq!(staging["runs"][0]["reference"], image_ref.as_str());
    assert_eq!(
        staging["runs"][0]["digest"],
        d1.as_str(),
        "the tag resolved to its digest"
    );
    assert_eq!(staging["runs"][0]["owner"], "team-checkout");
    // By image digest and by version, too.
    assert_eq!(where_is(&server, json!({"i": d1})).len(), 2);
    assert_eq!(
        where_is(&server, json!({"c": "shop/cart", "v": "1.0.0"})).len(),
        2
    );
    assert!(where_is(&server, json!({"c": "shop/cart", "v": "9.9.9"})).is_empty());
    // One at a time, the same two, each once.
    let paged = server
        .paged(WHERE_IS, json!({"c": "shop/cart"}), "/whereIs", 1, None)
        .unwrap();
    assert_eq!(paged.len(), 2);

    // The subscription saw the prod deployment, with the owner to page.
    let msg = sub.next_json();
    assert_eq!(msg["type"], "next", "{msg}");
    let change = &msg["payload"]["data"]["deploymentChanged"];
    assert_eq!(change["cluster"], "prod-eu-1");
    assert_eq!(change["workload"], "cart");
    assert_eq!(change["status"], "HEALTHY");
    assert_eq!(change["deployment"]["runs"][0]["digest"], d1.as_str());
    assert_eq!(change["deployment"]["runs"][0]["owner"], "team-checkout");

    // Replays change nothing: the same --id again is the same deployment.
    let before = server.event_count().unwrap();
    let (code, _, err) = deploy(&url, INGEST_TOKEN, PROD_DEPLOY);
    assert_eq!(code, 0, "{err}");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(server.pending().unwrap(), 0);
    assert_eq!(server.event_count().unwrap(), before);

    // Exit codes a pipeline can branch on.
    let (code, _, err) = deploy(
        &url,
        "wrong-token-123",
        &[
            "--cluster",
            "c",
            "--namespace",
            "n",
            "--component",
            "x",
            "--version",
            "1",
        ],
    );
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("401"), "{err}");
    let (code, _, err) = deploy(
        &url,
        INGEST_TOKEN,
        &[
            "--cluster",
            "c",
            "--namespace",
            "n",
            "--component",
            "x",
            "--version",
            "1",
            "--status",
            "exploded",
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("status"), "names the field: {err}");
    let dead = format!("http://127.0.0.1:{}", free_port().unwrap());
    let t = Instant::now();
    let (code, _, err) = deploy(
        &dead,
        INGEST_TOKEN,
        &[
            "--cluster",
            "c",
            "--namespace",
            "n",
            "--component",
            "x",
            "--version",
            "1",
            "--timeout",
            "1s",
        ],
    );
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("cannot reach"), "{err}");
    assert!(t.elapsed() < Duration::from_secs(15));
    // Clap refuses a version without a component before anything is sent.
    let (code, _, _) = deploy(
        &url,
        INGEST_TOKEN,
        &["--cluster", "c", "--namespace", "n", "--version", "1"],
    );
    assert_eq!(code, 2);
    drop(registry);
}

fn post_json(
    server: &CatalogServer,
    path: &str,
    token: Option<&str>,
    body: Vec<u8>,
) -> (u16, Value) {
    let (status, text) = server.post(path, "application/json", token, body).unwrap();
    let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, v)
}

fn sign(secret: &str, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

const FLUX_SECRET: &str = "flux-shared-secret";

#[test]
fn every_hook_records_real_payloads_and_refuses_bad_ones_with_nothing_written() {
    let server = CatalogServer::start(ServerOpts {
        extra_args: vec![
            "--flux-hmac-secret".into(),
            FLUX_SECRET.into(),
            "--cluster-environment".into(),
            "staging-1=staging".into(),
        ],
        ..ServerOpts::default()
    })
    .unwrap();
    let http = reqwest::blocking::Client::new();

    // --- Refused, nothing written. ---
    let before = server.event_count().unwrap();
    // (path, token, body, status, field the error names)
    type Case<'a> = (&'a str, Option<&'a str>, Vec<u8>, u16, &'a str);
    let refused: Vec<Case> = vec![
        ("/hooks/deployments", Some(INGEST_TOKEN), b"{\"cluster\": \"c\", ".to_vec(), 400, "body"),
        ("/hooks/deployments", Some(INGEST_TOKEN), br#"{"cluster":"c","component":"x","version":"1"}"#.to_vec(), 400, "namespace"),
        ("/hooks/deployments", Some(INGEST_TOKEN), br#"{"cluster":"c","namespace":"n","image":"UPPER/Case:1"}"#.to_vec(), 400, "image"),
        ("/hooks/deployments", Some(INGEST_TOKEN), br#"{"deployments":[{"cluster":"c","namespace":"n","component":"x"},{"cluster":"c","namespace":"n","component":"y","replicas":"three"}]}"#.to_vec(), 400, "deployments[1].replicas"),
        ("/hooks/deployments", None, br#"{"cluster":"c","namespace":"n","component":"x"}"#.to_vec(), 401, ""),
        ("/hooks/argocd", Some(INGEST_TOKEN), br#"{"app":"cart","destination":{"namespace":"n","server":"https://kubernetes.default.svc"},"images":["ghcr.io/acme/cart:1.0@sha256:nothex"]}"#.to_vec(), 400, "images[0]"),
        ("/hooks/kubernetes", Some(INGEST_TOKEN), fixture("kubernetes/pods.json"), 400, "cluster"),
        ("/hooks/flux", None, fixture("flux/helmrelease-upgrade-succeeded.json"), 401, ""),
    ];
    for (path, token, body, status, field) in refused {
        let (got, v) = post_json(&server, path, token, body);
        assert_eq!(got, status, "{path}: {v}");
        if !field.is_empty() {
            assert_eq!(v["error"]["field"], field, "{path}: {v}");
        }
    }
    // A Flux body whose signature does not match: 401, whatever the token.
    let flux_body = fixture("flux/helmrelease-upgrade-succeeded.json");
    let r = http
        .post(server.url("/hooks/flux"))
        .header("content-type", "application/json")
        .header("X-Signature", sign("another-secret", &flux_body))
        .body(flux_body.clone())
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert!(r.text().unwrap().contains("does not match"));
    // Wrong content type.
    let (got, _) = server
        .post(
            "/hooks/argocd",
            "text/plain",
            Some(INGEST_TOKEN),
            fixture("argocd/on-deployed.json"),
        )
        .unwrap();
    assert_eq!(got, 415);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(server.pending().unwrap(), 0, "nothing reached the inbox");
    assert_eq!(
        server.event_count().unwrap(),
        before,
        "nothing was recorded"
    );

    // --- Accepted: each sender's real payload. ---
    let r = http
        .post(server.url("/hooks/flux"))
        .header("content-type", "application/json")
        .header("X-Signature", sign(FLUX_SECRET, &flux_body))
        .body(flux_body)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 202, "{}", r.text().unwrap_or_default());
    let (got, v) = post_json(
        &server,
        "/hooks/argocd?cluster=prod-eu-1",
        Some(INGEST_TOKEN),
        fixture("argocd/on-deployed.json"),
    );
    assert_eq!(got, 202, "{v}");
    assert_eq!(v["accepted"], 1);
    let (got, v) = post_json(
        &server,
        "/hooks/deployments",
        Some(INGEST_TOKEN),
        fixture("deployments/batch.json"),
    );
    assert_eq!(got, 202, "{v}");
    let (got, v) = post_json(
        &server,
        "/hooks/kubernetes?cluster=staging-1",
        Some(INGEST_TOKEN),
        fixture("kubernetes/pods.json"),
    );
    assert_eq!(got, 202, "{v}");
    assert_eq!(v["accepted"], 1, "one snapshot");

    // Argo's images are unknown to the catalog: recorded anyway, linked when registered.
    let prod = server
        .wait_for(
            "argo deployment in prod-eu-1",
            Duration::from_secs(30),
            || {
                let inv = inventory(&server, json!({"c": "prod-eu-1", "n": "payments"}));
                Ok(inv.iter().find(|d| d["source"] == "argocd").cloned())
            },
        )
        .unwrap();
    assert_eq!(prod["workload"], "cart");
    assert_eq!(prod["environment"], "prod");
    let refs: Vec<&str> = prod["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reference"].as_str().unwrap())
        .collect();
    assert!(refs.contains(&"ghcr.io/acme/cart:1.4.2"), "{refs:?}");
    assert!(prod["runs"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["known"] == false));
    assert_eq!(
        prod["runs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["reference"] == "ghcr.io/acme/cart:1.4.2")
            .unwrap()["component"],
        "acme/cart"
    );

    // The snapshot: staging-1 (mapped to staging by configuration) with its workloads.
    let snap = server
        .wait_for("the staging-1 snapshot", Duration::from_secs(30), || {
            let inv = inventory(&server, json!({"c": "staging-1"}));
            Ok((!inv.is_empty()).then_some(inv))
        })
        .unwrap();
    let names: Vec<String> = snap
        .iter()
        .map(|d| {
            format!(
                "{}/{}",
                d["namespace"].as_str().unwrap(),
                d["workload"].as_str().unwrap()
            )
        })
        .collect();
    for w in [
        "payments/cart",
        "payments/postgres",
        "shop/checkout",
        "kube-system/kube-proxy",
    ] {
        assert!(names.contains(&w.to_string()), "{w} in {names:?}");
    }
    assert!(
        !names.iter().any(|n| n.contains("nightly-report")),
        "a finished job is not running: {names:?}"
    );
    assert!(snap
        .iter()
        .all(|d| d["environment"] == "staging" && d["source"] == "kubernetes"));
    let cart = snap.iter().find(|d| d["workload"] == "cart").unwrap();
    let versions: Vec<&str> = cart["runs"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["version"].as_str())
        .collect();
    assert!(
        versions.contains(&"1.4.1") && versions.contains(&"1.4.2"),
        "mid-rollout: {versions:?}"
    );

    // A newer snapshot replaces the cluster's view; the old one stays visible in the past,
    // and a live subscriber hears of the workloads it ended.
    let mut sub = Subscription::open(
        server.port,
        "subscription { deploymentChanged(environment: \"staging\") { cluster namespace workload status deployment { workload } } }",
    );
    let after_first = chrono::Utc::now();
    std::thread::sleep(Duration::from_millis(20));
    let only_checkout = json!({"apiVersion": "v1", "kind": "List", "items": [{
        "metadata": {"name": "checkout-6f7c9d8b77-jd8s2", "namespace": "shop",
            "labels": {"pod-template-hash": "6f7c9d8b77"},
            "ownerReferences": [{"kind": "ReplicaSet", "name": "checkout-6f7c9d8b77", "controller": true}]},
        "spec": {"containers": [{"name": "checkout", "image": "ghcr.io/acme/checkout:2.0.0"}]},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": "checkout", "ready": true, "image": "ghcr.io/acme/checkout:2.0.0",
                "imageID": format!("ghcr.io/acme/checkout@sha256:{}", "c".repeat(64))}]}
    }]});
    let (got, v) = post_json(
        &server,
        "/hooks/kubernetes?cluster=staging-1",
        Some(INGEST_TOKEN),
        only_checkout.to_string().into_bytes(),
    );
    assert_eq!(got, 202, "{v}");
    server
        .wait_for("the second snapshot", Duration::from_secs(30), || {
            let inv = inventory(&server, json!({"c": "staging-1"}));
            Ok((inv.len() == 1 && inv[0]["workload"] == "checkout").then_some(()))
        })
        .unwrap();
    let mut heard = Vec::new();
    while !heard.iter().any(|c: &Value| c["workload"] == "postgres") {
        let msg = sub.next_json();
        assert_eq!(msg["type"], "next", "{msg}");
        heard.push(msg["payload"]["data"]["deploymentChanged"].clone());
    }
    let postgres = heard.iter().find(|c| c["workload"] == "postgres").unwrap();
    assert_eq!(postgres["status"], "REMOVED");
    assert!(postgres["deployment"].is_null(), "{postgres}");
    assert_eq!(postgres["cluster"], "staging-1");
    let past = inventory(
        &server,
        json!({"c": "staging-1", "at": after_first.to_rfc3339()}),
    );
    assert_eq!(
        past.len(),
        snap.len(),
        "as it was before the second snapshot"
    );
    let gone = past.iter().find(|d| d["workload"] == "postgres").unwrap();
    assert!(
        gone["until"].is_string(),
        "postgres ended with the second snapshot: {gone}"
    );

    // Environments and clusters.
    let envs = server
        .query(
            "{ environments { name clusters } clusters { name environment workloads } }",
            json!({}),
        )
        .unwrap();
    let env_names: Vec<&str> = envs["environments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert!(
        env_names.contains(&"prod") && env_names.contains(&"staging"),
        "{envs}"
    );
    let staging = envs["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "staging-1")
        .unwrap();
    assert_eq!(staging["workloads"], 1);

    // Replaying every accepted payload changes nothing.
    let settled = server.event_count().unwrap();
    let (got, _) = post_json(
        &server,
        "/hooks/argocd?cluster=prod-eu-1",
        Some(INGEST_TOKEN),
        fixture("argocd/on-deployed.json"),
    );
    assert_eq!(got, 202);
    let (got, _) = post_json(
        &server,
        "/hooks/kubernetes?cluster=staging-1",
        Some(INGEST_TOKEN),
        only_checkout.to_string().into_bytes(),
    );
    assert_eq!(got, 202);
    server
        .wait_for("replays processed", Duration::from_secs(30), || {
            Ok((server.pending()? == 0).then_some(()))
        })
        .unwrap();
    assert_eq!(server.event_count().unwrap(), settled);

    // GraphQL input errors name the argument.
    let (status, v) = server
        .graphql_as(
            None,
            "{ whereIs(image: \"latest\") { nodes { cluster } } }",
            json!({}),
        )
        .unwrap();
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{v}"
    );
    assert_eq!(v["errors"][0]["extensions"]["field"], "image", "{v}");
    let (_, v) = server
        .graphql_as(
            None,
            "{ deployments(after: \"not-a-cursor\") { edges { node { id } } } }",
            json!({}),
        )
        .unwrap();
    assert_eq!(v["errors"][0]["extensions"]["field"], "after", "{v}");
    // History pages through every deployment of staging-1 once (each page checked against
    // the whole, totalCount included), newest first.
    let seen = server
        .paged(
            "query($first: Int, $after: String) { deployments(cluster: \"staging-1\", first: $first, after: $after) { totalCount pageInfo { hasNextPage hasPreviousPage endCursor } nodes { id since } } }",
            json!({}),
            "/deployments",
            2,
            None,
        )
        .unwrap();
    let ids: std::collections::BTreeSet<&str> =
        seen.iter().map(|d| d["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), seen.len(), "no deployment twice: {seen:?}");
    assert!(
        seen.windows(2)
            .all(|w| w[0]["since"].as_str() >= w[1]["since"].as_str()),
        "newest first: {seen:?}"
    );
    assert_eq!(
        seen.len(),
        snap.len(),
        "one deployment per workload of the first snapshot (checkout runs on unchanged in the second): {seen:?}"
    );
    // The inventory, the difference between environments and the event log, a page at a time.
    let foreign = server
        .query(
            "{ deployments(first: 1) { pageInfo { endCursor } } }",
            json!({}),
        )
        .unwrap()["deployments"]["pageInfo"]["endCursor"]
        .as_str()
        .map(str::to_string);
    let inv = server
        .paged(INVENTORY, json!({}), "/inventory", 1, foreign.as_deref())
        .unwrap();
    assert!(inv.len() >= 2, "{inv:?}");
    let diff = server
        .paged(
            "query($first: Int, $after: String) { inventoryDiff(from: {environment: \"staging\"}, to: {environment: \"prod\"}, first: $first, after: $after) { totalCount pageInfo { hasNextPage hasPreviousPage endCursor } nodes { component change } } }",
            json!({}),
            "/inventoryDiff",
            1,
            foreign.as_deref(),
        )
        .unwrap();
    assert!(!diff.is_empty());
    let events = server
        .paged(
            "query($first: Int, $after: String) { events(first: $first, after: $after) { totalCount pageInfo { hasNextPage hasPreviousPage endCursor } nodes { seq } } }",
            json!({}),
            "/events",
            7,
            foreign.as_deref(),
        )
        .unwrap();
    assert_eq!(events.len() as i64, server.event_count().unwrap());
    // Backwards from the newest: the last page first, each page in log order.
    let mut back: Vec<Value> = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let d = server
            .query(
                "query($b: String) { events(last: 7, before: $b) { totalCount pageInfo { hasPreviousPage startCursor } nodes { seq } } }",
                json!({"b": before}),
            )
            .unwrap();
        let c = &d["events"];
        assert_eq!(c["totalCount"], json!(events.len()));
        let nodes = c["nodes"].as_array().unwrap().clone();
        back.splice(0..0, nodes);
        if c["pageInfo"]["hasPreviousPage"] != true {
            break;
        }
        before = c["pageInfo"]["startCursor"].as_str().map(str::to_string);
    }
    assert_eq!(back, events, "backward pages concatenate to the log");
    let (_, v) = server
        .graphql_as(
            None,
            "{ events(last: 3, before: \"12\") { nodes { seq } } }",
            json!({}),
        )
        .unwrap();
    assert_eq!(v["errors"][0]["extensions"]["field"], "before", "{v}");
    let (_, v) = server
        .graphql_as(
            None,
            "{ events(first: 3, last: 3) { nodes { seq } } }",
            json!({}),
        )
        .unwrap();
    assert_eq!(
        v["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{v}"
    );
}

/// `catalogChanged` (the dashboard's live feed): a deployment posted to the generic hook
/// reaches a subscriber with the things it touched and a one-line summary; a filter on
/// other kinds keeps it out; an unknown kind is refused, naming the argument.
#[test]
fn catalog_changed_streams_applied_events_with_subjects() {
    let server = CatalogServer::start(ServerOpts::default()).unwrap();
    let mut bad = Subscription::open(
        server.port,
        "subscription { catalogChanged(kinds: [\"image.pushed\"]) { seq } }",
    );
    let refused = bad.next_json();
    let error = &refused["payload"]["errors"][0];
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{refused}");
    assert_eq!(error["extensions"]["field"], "kinds", "{refused}");
    assert!(
        error["message"].as_str().unwrap().contains("image.pushed"),
        "{refused}"
    );

    let mut only_images = Subscription::open(
        server.port,
        "subscription { catalogChanged(kinds: [\"image.registered\"]) { kind summary } }",
    );
    let mut all = Subscription::open(
        server.port,
        "subscription { catalogChanged { seq at kind subjects summary } }",
    );
    // Subscriptions start listening once the server has read the subscribe message.
    std::thread::sleep(Duration::from_millis(300));
    let (status, body) = server
        .post(
            "/hooks/deployments",
            "application/json",
            Some(INGEST_TOKEN),
            json!({"cluster": "prod-eu-1", "namespace": "payments", "workload": "cart",
                   "environment": "prod", "status": "healthy", "source": "api",
                   "images": ["registry.example.com/shop/cart:1.0.0"]})
            .to_string()
            .into_bytes(),
        )
        .unwrap();
    assert_eq!(status, 202, "{body}");
    let next = all.next_json();
    assert_eq!(next["type"], "next", "{next}");
    let change = &next["payload"]["data"]["catalogChanged"];
    assert_eq!(change["kind"], "deployment.observed");
    let subjects: Vec<&str> = change["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s.as_str())
        .collect();
    for s in [
        "cluster:prod-eu-1",
        "namespace:prod-eu-1/payments",
        "workload:prod-eu-1/payments/cart",
    ] {
        assert!(subjects.contains(&s), "{s} missing from {subjects:?}");
    }
    let summary = change["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("prod-eu-1/payments/cart") && summary.contains("healthy"),
        "{summary}"
    );
    assert!(change["seq"].as_i64().unwrap() > 0);

    // The image-only subscriber heard nothing: its next message would block, so check
    // with a short read timeout.
    only_images
        .ws
        .get_mut()
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    assert!(
        only_images.ws.read().is_err(),
        "a deployment reached a subscriber of image.registered only"
    );
}

/// One image has one identity however its Docker Hub name is written: `index.docker.io/nginx`
/// and `docker.io/library/nginx` are one reference and one component (distribution/reference's
/// normalisation), and a registry host that is not one is a 400 naming the field.
#[test]
fn docker_hub_spellings_are_one_image_and_bad_hosts_are_refused_by_field() {
    let server = CatalogServer::start(ServerOpts::default()).unwrap();
    for (ns, image) in [
        ("a", "index.docker.io/nginx:1.25"),
        ("b", "docker.io/library/nginx:1.25"),
        ("c", "nginx:1.25"),
    ] {
        let body = json!({"cluster": "hub-1", "namespace": ns, "workload": "web", "image": image});
        let (got, v) = post_json(
            &server,
            "/hooks/deployments",
            Some(INGEST_TOKEN),
            body.to_string().into_bytes(),
        );
        assert_eq!(got, 202, "{image}: {v}");
    }
    let rows = server
        .wait_for("three workloads", Duration::from_secs(20), || {
            let rows = inventory(&server, json!({"c": "hub-1"}));
            Ok((rows.len() == 3).then_some(rows))
        })
        .unwrap();
    let runs: Vec<(Value, Value)> = rows
        .iter()
        .map(|w| {
            let r = &w["runs"][0];
            (r["reference"].clone(), r["component"].clone())
        })
        .collect();
    assert_eq!(runs[0].0, json!("docker.io/library/nginx:1.25"), "{rows:?}");
    assert!(
        runs.iter().all(|r| *r == runs[0]),
        "one reference and one component: {runs:?}"
    );

    // An invalid registry host, in a notification body and in `?registry=`.
    let before = server.event_count().unwrap();
    let push = json!({"events": [{
        "id": "bad-host-1",
        "timestamp": "2026-11-22T09:10:04Z",
        "action": "push",
        "target": {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "size": 431,
            "digest": "sha256:5c051d0a0c19b6688625ea0840c75f36cec1b88550c0dceff22bb146138164a0",
            "repository": "shop/cart",
            "tag": "1.0.0"
        },
        "request": {"host": "foo..bar"},
        "actor": {}
    }]});
    let ct = "application/vnd.docker.distribution.events.v1+json";
    let (st, body) = server
        .post(
            "/hooks/distribution",
            ct,
            Some(INGEST_TOKEN),
            push.to_string().into_bytes(),
        )
        .unwrap();
    assert_eq!(st, 400, "{body}");
    let e: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(e["error"]["field"], "events[0].request.host", "{body}");
    assert!(
        e["error"]["message"].as_str().unwrap().contains("foo..bar"),
        "{body}"
    );
    let mut fine = push.clone();
    fine["events"][0]["request"]["host"] = json!("localhost:5000");
    let (st, body) = server
        .post(
            "/hooks/distribution?registry=foo..bar",
            ct,
            Some(INGEST_TOKEN),
            fine.to_string().into_bytes(),
        )
        .unwrap();
    assert_eq!(st, 400, "{body}");
    let e: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(e["error"]["field"], "registry", "{body}");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        server.event_count().unwrap(),
        before,
        "nothing was recorded"
    );
}

const CANARY_INVENTORY: &str = r#"query($c: String, $at: DateTime) {
  inventory(cluster: $c, at: $at, first: 50) {
    nodes { workload since status runs { version trafficPercent track } } } }"#;

const CANARY_DORA: &str = r#"query($e: String, $from: DateTime!, $to: DateTime!) {
  dora(component: "shop/cart", environment: $e, from: $from, to: $to) {
    deployments failedDeployments changeFailureRate timeToRestoreMedianSeconds
    meanTimeToFailureSeconds } }"#;

/// Prod's cart at a moment: (since, status, [(version, share, track)]).
fn canary_view(server: &CatalogServer, cluster: &str, at: &str) -> (String, String, Vec<Value>) {
    let nodes = server
        .query(CANARY_INVENTORY, json!({"c": cluster, "at": at}))
        .unwrap()["inventory"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(nodes.len(), 1, "{cluster} at {at}: {nodes:?}");
    let d = &nodes[0];
    let mut runs: Vec<Value> = d["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| json!([r["version"], r["trafficPercent"], r["track"]]))
        .collect();
    runs.sort_by_key(|r| r.to_string());
    (
        d["since"].as_str().unwrap().to_string(),
        d["status"].as_str().unwrap().to_string(),
        runs,
    )
}

#[test]
fn a_canary_from_the_cli_and_from_argo_rollouts_is_one_deployment_and_an_abort_a_recovery() {
    let server = CatalogServer::start(ServerOpts::default()).unwrap();
    let url = server.url("");
    let t0 = (chrono::Utc::now() - chrono::Duration::hours(3))
        .duration_trunc(chrono::Duration::minutes(1))
        .unwrap();
    let at = |m: i64| {
        (t0 + chrono::Duration::minutes(m)).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
    };

    // The pipeline: 1.0.0; a canary of 1.1.0 at 10% and 50%, promoted; a canary of 1.2.0 at
    // 10% that fails at 0% and is gone a minute later.
    let steps: [(i64, &str, &[&str]); 7] = [
        (0, "1.0.0", &[]),
        (
            10,
            "1.1.0",
            &[
                "--traffic",
                "10",
                "--stable-version",
                "1.0.0",
                "--status",
                "progressing",
            ],
        ),
        (
            20,
            "1.1.0",
            &[
                "--traffic",
                "50",
                "--stable-version",
                "1.0.0",
                "--status",
                "progressing",
            ],
        ),
        (30, "1.1.0", &[]),
        (
            40,
            "1.2.0",
            &[
                "--traffic",
                "10",
                "--stable-version",
                "1.1.0",
                "--status",
                "progressing",
            ],
        ),
        (
            45,
            "1.2.0",
            &[
                "--traffic",
                "0",
                "--stable-version",
                "1.1.0",
                "--status",
                "failed",
            ],
        ),
        (46, "1.1.0", &[]),
    ];
    for (m, version, extra) in steps {
        let when = at(m);
        let mut args = vec![
            "--cluster",
            "prod-eu-1",
            "--namespace",
            "shop",
            "--environment",
            "prod",
            "--component",
            "shop/cart",
            "--version",
            version,
            "--at",
            &when,
        ];
        args.extend_from_slice(extra);
        let (code, out, err) = deploy(&url, INGEST_TOKEN, &args);
        assert_eq!(code, 0, "{m}: stdout {out}\nstderr {err}");
    }
    // A share out of range is refused by the CLI, naming the flag.
    let (code, _, err) = deploy(
        &url,
        INGEST_TOKEN,
        &[
            "--cluster",
            "prod-eu-1",
            "--namespace",
            "shop",
            "--component",
            "shop/cart",
            "--version",
            "9.9.9",
            "--traffic",
            "101",
            "--stable-version",
            "1.0.0",
        ],
    );
    assert_ne!(code, 0);
    assert!(err.contains("--traffic"), "{err}");

    server
        .wait_for("the seven reports", Duration::from_secs(30), || {
            let v = canary_view(&server, "prod-eu-1", &at(50));
            Ok((v.0 == at(46)).then_some(()))
        })
        .unwrap();
    // (minute, start minute of the deployment then, status, [(version, share, track)]).
    type View<'a> = (
        i64,
        i64,
        &'a str,
        &'a [(&'a str, Option<u8>, Option<&'a str>)],
    );
    let expect = |cluster: &str, views: &[View<'_>]| {
        for (m, since, status, runs) in views {
            let runs: Vec<Value> = runs.iter().map(|(v, p, t)| json!([v, p, t])).collect();
            assert_eq!(
                canary_view(&server, cluster, &at(*m)),
                (at(*since), status.to_string(), runs),
                "{cluster} at minute {m}"
            );
        }
    };
    // 10% and 50% are one deployment, begun at 10; promoted, it goes on.
    expect(
        "prod-eu-1",
        &[
            (5, 0, "HEALTHY", &[("1.0.0", None, None)]),
            (
                15,
                10,
                "PROGRESSING",
                &[
                    ("1.0.0", Some(90), Some("STABLE")),
                    ("1.1.0", Some(10), Some("CANARY")),
                ],
            ),
            (
                25,
                10,
                "PROGRESSING",
                &[
                    ("1.0.0", Some(50), Some("STABLE")),
                    ("1.1.0", Some(50), Some("CANARY")),
                ],
            ),
            (35, 10, "HEALTHY", &[("1.1.0", None, None)]),
        ],
    );
    let where_count =
        |v: &str, m: i64| where_is(&server, json!({"c": "shop/cart", "v": v, "at": at(m)})).len();
    assert_eq!(
        [5, 15, 25, 35].map(|m| where_count("1.0.0", m)),
        [1, 1, 1, 0]
    );
    assert_eq!(
        [35, 42, 45, 47].map(|m| where_count("1.2.0", m)),
        [0, 1, 1, 0]
    );

    // DORA over the hour: 1.0.0, the 1.1.0 canary and the 1.2.0 canary; the last failed at
    // 45 and was restored at 46; cart ran all 60 minutes, down one.
    let dora = |e: &str| {
        server
            .query(CANARY_DORA, json!({"e": e, "from": at(0), "to": at(60)}))
            .unwrap()["dora"]
            .clone()
    };
    assert_eq!(
        dora("prod"),
        json!({
            "deployments": 3, "failedDeployments": 1, "changeFailureRate": 1.0 / 3.0,
            "timeToRestoreMedianSeconds": 60.0, "meanTimeToFailureSeconds": 59.0 * 60.0,
        })
    );

    // Argo Rollouts, through cluster snapshots of pods and rollouts: 10%, 50%, promoted, a
    // second canary aborted (its pod still up at 0%), then its pod gone.
    let snapshot = |m: i64, body: Vec<u8>| {
        let (status, v) = post_json(
            &server,
            &format!(
                "/hooks/kubernetes?cluster=argo-1&environment=canary-lab&at={}",
                at(m).replace("+00:00", "Z")
            ),
            Some(INGEST_TOKEN),
            body,
        );
        assert_eq!(status, 202, "{m}: {v}");
    };
    snapshot(0, fixture("kubernetes/rollout-canary-10.json"));
    snapshot(10, fixture("kubernetes/rollout-canary-50.json"));
    snapshot(20, fixture("kubernetes/rollout-canary-promoted.json"));
    snapshot(30, fixture("kubernetes/rollout-canary-aborted.json"));
    let mut gone: Value =
        serde_json::from_slice(&fixture("kubernetes/rollout-canary-aborted.json")).unwrap();
    gone["items"]
        .as_array_mut()
        .unwrap()
        .retain(|i| i["metadata"]["labels"]["app.kubernetes.io/version"] != "1.2.0");
    snapshot(31, serde_json::to_vec(&gone).unwrap());
    server
        .wait_for("the five snapshots", Duration::from_secs(30), || {
            Ok((canary_view(&server, "argo-1", &at(40)).0 == at(31)).then_some(()))
        })
        .unwrap();
    expect(
        "argo-1",
        &[
            (
                5,
                0,
                "PROGRESSING",
                &[
                    ("1.0.0", Some(90), Some("STABLE")),
                    ("1.1.0", Some(10), Some("CANARY")),
                ],
            ),
            (25, 0, "HEALTHY", &[("1.1.0", Some(100), Some("STABLE"))]),
            (
                30,
                30,
                "ROLLED_BACK",
                &[
                    ("1.1.0", Some(100), Some("STABLE")),
                    ("1.2.0", Some(0), Some("CANARY")),
                ],
            ),
        ],
    );
    // Two deployments (the 1.1.0 canary, the 1.2.0 canary); the abort is a failure, restored
    // when 1.1.0 serves alone. Cart ran from 0 to 60, down from 30 to 31.
    assert_eq!(
        dora("canary-lab"),
        json!({
            "deployments": 2, "failedDeployments": 1, "changeFailureRate": 0.5,
            "timeToRestoreMedianSeconds": 60.0, "meanTimeToFailureSeconds": 59.0 * 60.0,
        })
    );
}

/// Runs `catalog config <sub> <args...>` against a server with the ingest token.
fn config_cli(server_url: &str, args: &[&str]) -> (i32, String, String) {
    catalog_cli(server_url, INGEST_TOKEN, &["config", args[0]], &args[1..])
}

const ENV_DIFF: &str = r#"query {
  inventoryDiff(from: {environment: "staging"}, to: {environment: "prod"}) {
    totalCount nodes { component fromVersions toVersions change }
    configuration { key fromValue toValue } } }"#;

#[test]
fn environments_differ_in_versions_and_configuration_and_secrets_are_refused_with_nothing_written()
{
    let server = CatalogServer::start(ServerOpts::default()).unwrap();
    let url = server.url("");
    for (cluster, env, version) in [
        ("staging-1", "staging", "1.1.0"),
        ("prod-eu-1", "prod", "1.0.0"),
    ] {
        let (code, out, err) = deploy(
            &url,
            INGEST_TOKEN,
            &[
                "--cluster",
                cluster,
                "--namespace",
                "shop",
                "--environment",
                env,
                "--component",
                "shop/cart",
                "--version",
                version,
            ],
        );
        assert_eq!(code, 0, "{out}{err}");
    }
    // Both environments from files: staging's .env, prod's YAML; they share TIMEOUT and
    // differ in LOG_LEVEL and in FEATURE_X (prod lacks it).
    let dir = catalog_tests::registry::TempDir::new("config").unwrap();
    let env_file = dir.path().join("staging.env");
    std::fs::write(
        &env_file,
        "# staging\nLOG_LEVEL=debug\nexport TIMEOUT=30\nFEATURE_X=\"on\"\n",
    )
    .unwrap();
    let yaml_file = dir.path().join("prod.yaml");
    std::fs::write(&yaml_file, "LOG_LEVEL: info\nTIMEOUT: 30\n").unwrap();
    let (code, out, err) = config_cli(
        &url,
        &[
            "import",
            "--environment",
            "staging",
            env_file.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("3 value(s) for environment staging"), "{out}");
    let (code, out, err) = config_cli(
        &url,
        &[
            "import",
            "--environment",
            "prod",
            yaml_file.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{out}{err}");

    let diff = server
        .wait_for(
            "staging and prod configured",
            Duration::from_secs(30),
            || {
                let d = server.query(ENV_DIFF, json!({}))?["inventoryDiff"].clone();
                Ok((d["configuration"].as_array().map_or(0, Vec::len) == 2).then_some(d))
            },
        )
        .unwrap();
    assert_eq!(
        diff,
        json!({
            "totalCount": 1,
            "nodes": [{"component": "shop/cart", "fromVersions": ["1.1.0"], "toVersions": ["1.0.0"], "change": "VERSIONS_DIFFER"}],
            "configuration": [
                {"key": "FEATURE_X", "fromValue": "on", "toValue": null},
                {"key": "LOG_LEVEL", "fromValue": "debug", "toValue": "info"},
            ],
        })
    );

    // A secret-looking value is refused by the hook and by the CLI, naming the key; nothing
    // of the request is recorded, not even its good values.
    let before = server
        .query("{ events(first: 500) { totalCount } }", json!({}))
        .unwrap();
    let (status, v) = post_json(
        &server,
        "/hooks/config",
        Some(INGEST_TOKEN),
        br#"{"environment":"prod","values":{"LOG_LEVEL":"trace","STRIPE_KEY":"sk_live_4eC39HqLyjWDarjtT1zdp7dc"}}"#.to_vec(),
    );
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["error"]["field"], "values.STRIPE_KEY", "{v}");
    assert!(
        v["error"]["reason"]
            .as_str()
            .unwrap()
            .contains("looks like a secret"),
        "{v}"
    );
    assert!(
        !v.to_string().contains("4eC39HqLyjWDarjtT1zdp7dc"),
        "the error does not echo the secret: {v}"
    );
    let (code, _, err) = config_cli(
        &url,
        &[
            "set",
            "--environment",
            "prod",
            "LOG_LEVEL=trace",
            "DB_PASSWORD=hunter2",
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("values.DB_PASSWORD"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
    // Bad input is refused too.
    for (body, field) in [
        (r#"{"environment":"prod","values":{"A":[1]}}"#, "values.A"),
        (
            r#"{"environment":"prod","cluster":"c","values":{"A":"1"}}"#,
            "environment",
        ),
        (r#"{"environment":"prod","values":{"A":"1"}"#, "body"),
    ] {
        let (status, v) = post_json(
            &server,
            "/hooks/config",
            Some(INGEST_TOKEN),
            body.as_bytes().to_vec(),
        );
        assert_eq!(
            (status, v["error"]["field"].as_str()),
            (400, Some(field)),
            "{body}: {v}"
        );
    }
    let (status, _) = post_json(
        &server,
        "/hooks/config",
        None,
        br#"{"environment":"prod","values":{"A":"1"}}"#.to_vec(),
    );
    assert_eq!(status, 401);
    std::thread::sleep(Duration::from_millis(500));
    let after = server
        .query("{ events(first: 500) { totalCount } }", json!({}))
        .unwrap();
    assert_eq!(before, after, "nothing was written");

    // prod-eu-1's own value overrides prod's; history keeps every setting.
    let (code, out, err) = config_cli(&url, &["set", "--cluster", "prod-eu-1", "TIMEOUT=45"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = config_cli(
        &url,
        &[
            "set",
            "--environment",
            "prod",
            "--unset",
            "TIMEOUT",
            "LOG_LEVEL=warn",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let values = server
        .wait_for("the cluster's configuration", Duration::from_secs(30), || {
            let v = server.query(
                r#"{ configuration(cluster: "prod-eu-1") { nodes { key value level scope setBy } } }"#,
                json!({}),
            )?["configuration"]["nodes"].clone();
            Ok((v.to_string().contains("warn")).then_some(v))
        })
        .unwrap();
    assert_eq!(
        values,
        json!([
            {"key": "LOG_LEVEL", "value": "warn", "level": "environment", "scope": "prod", "setBy": "flag:ingest"},
            {"key": "TIMEOUT", "value": "45", "level": "cluster", "scope": "prod-eu-1", "setBy": "flag:ingest"},
        ])
    );
    let history = server
        .query(
            r#"{ configurationHistory(environment: "prod", key: "TIMEOUT") { nodes { key value } } }"#,
            json!({}),
        )
        .unwrap();
    assert_eq!(
        history["configurationHistory"]["nodes"],
        json!([{"key": "TIMEOUT", "value": "30"}, {"key": "TIMEOUT", "value": null}])
    );
}
