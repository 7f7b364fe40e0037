//! A real registry push becomes versions, digests, revision, source and owner in GraphQL;
//! deletes are reflected; replays change nothing; a push missed while the catalog was down
//! appears through reconcile; a multi-platform index lists its platforms.

use catalog_tests::capture::Capture;
use catalog_tests::gateway::NoCatalogGateway;
use catalog_tests::registry::{delete_manifest, push, ImageSpec, Layout, Registry};
use catalog_tests::server::{free_port, INGEST_TOKEN};
use catalog_tests::{CatalogServer, ServerOpts};
use serde_json::{json, Value};
use std::time::Duration;

const COMPONENT: &str = r#"query($name: String!) {
  component(name: $name) {
    name latestVersion owner { name components { nodes { name } } }
    versions(includeDeleted: true, first: 500) { nodes {
      version digest tags revision source created pushedAt deletedAt
      platforms { os architecture name digest }
    } }
  }
}"#;

fn spec(version: &str, revision: &str) -> ImageSpec {
    ImageSpec::new(&format!("cart {version}"))
        .label(
            "org.opencontainers.image.source",
            "https://git.example.com/shop/cart",
        )
        .label("org.opencontainers.image.revision", revision)
        .label("org.opencontainers.image.version", version)
        .label("org.opencontainers.image.created", "2026-11-20T10:00:00Z")
        .label("dev.catalog.owner", "team-checkout")
}

fn versions(server: &CatalogServer, name: &str) -> anyhow::Result<Vec<Value>> {
    let d = server.query(COMPONENT, json!({"name": name}))?;
    Ok(d["component"]["versions"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default())
}

fn live<'a>(vs: &'a [Value], version: &str) -> Option<&'a Value> {
    vs.iter()
        .find(|v| v["version"] == version && v["deletedAt"].is_null())
}

#[test]
fn registry_push_to_graphql_then_delete_replay_reconcile() {
    let capture = Capture::start().unwrap();
    let catalog_port = free_port().unwrap();
    let hook = format!("http://127.0.0.1:{catalog_port}/hooks/distribution");
    let mut registry =
        Registry::start(&[(&hook, INGEST_TOKEN), (&capture.url(), INGEST_TOKEN)]).unwrap();
    let server = CatalogServer::start(ServerOpts {
        port: Some(catalog_port),
        registries: vec![format!("http://{}", registry.host())],
        ..ServerOpts::default()
    })
    .unwrap();
    let host = registry.host();

    // Two labelled images, three tags.
    let layout = Layout::new().unwrap();
    layout.build("v1", &spec("1.0.0", "aaaa1111")).unwrap();
    layout.build("v2", &spec("1.1.0", "bbbb2222")).unwrap();
    let d1 = push(&layout, "v1", &host, "shop/cart", "1.0.0").unwrap();
    let d2 = push(&layout, "v2", &host, "shop/cart", "1.1.0").unwrap();
    let d2b = push(&layout, "v2", &host, "shop/cart", "latest").unwrap();
    assert_eq!(d2, d2b);
    assert_ne!(d1, d2);

    let vs = server
        .wait_for(
            "both versions of shop/cart",
            Duration::from_secs(30),
            || {
                let vs = versions(&server, "shop/cart")?;
                let ready = live(&vs, "1.0.0").is_some()
                    && live(&vs, "1.1.0")
                        .is_some_and(|v| v["tags"].as_array().is_some_and(|t| t.len() == 2));
                Ok(ready.then_some(vs))
            },
        )
        .unwrap();
    let v1 = live(&vs, "1.0.0").unwrap();
    let v2 = live(&vs, "1.1.0").unwrap();
    assert_eq!(v1["digest"], d1.as_str());
    assert_eq!(v2["digest"], d2.as_str());
    assert_eq!(v1["revision"], "aaaa1111");
    assert_eq!(v2["revision"], "bbbb2222");
    assert_eq!(v1["source"], "https://git.example.com/shop/cart");
    assert_eq!(v1["created"], "2026-11-20T10:00:00+00:00");
    assert_eq!(v2["tags"], json!(["1.1.0", "latest"]));
    assert_eq!(v1["platforms"][0]["name"], "linux/amd64");
    assert_eq!(vs[0]["version"], "1.1.0", "newest first");
    let c = server
        .query(COMPONENT, json!({"name": "shop/cart"}))
        .unwrap();
    assert_eq!(c["component"]["owner"]["name"], "team-checkout");
    assert_eq!(c["component"]["latestVersion"], "1.1.0");
    assert_eq!(
        c["component"]["owner"]["components"]["nodes"],
        json!([{"name": "shop/cart"}])
    );
    // The image by digest, and search by prefix and owner.
    let img = server
        .query(
            "query($d: String!) { image(digest: $d) { mediaType repositories { repository tags } componentVersions { version } labels { name value } } }",
            json!({"d": d2}),
        )
        .unwrap();
    assert_eq!(
        img["image"]["repositories"][0]["tags"],
        json!(["1.1.0", "latest"])
    );
    assert_eq!(
        img["image"]["componentVersions"],
        json!([{"version": "1.1.0"}])
    );
    let list = server
        .query("{ components(prefix: \"shop/\", owner: \"team-checkout\") { edges { node { name } } } }", json!({}))
        .unwrap();
    assert_eq!(
        list["components"]["edges"],
        json!([{"node": {"name": "shop/cart"}}])
    );

    // A multi-platform index lists its platforms.
    layout
        .build_index(
            "multi",
            &[
                ImageSpec::new("multi amd64").label("dev.catalog.owner", "team-web"),
                ImageSpec::new("multi arm64").platform("linux", "arm64"),
            ],
        )
        .unwrap();
    let di = push(&layout, "multi", &host, "shop/web", "2.0.0").unwrap();
    let web = server
        .wait_for("shop/web 2.0.0", Duration::from_secs(30), || {
            let vs = versions(&server, "shop/web")?;
            Ok(live(&vs, "2.0.0").cloned())
        })
        .unwrap();
    assert_eq!(web["digest"], di.as_str());
    let names: Vec<&str> = web["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["linux/amd64", "linux/arm64"]);

    // A delete by digest is reflected: 1.0.0 is gone from the live list, kept in history.
    delete_manifest(&host, "shop/cart", &d1).unwrap();
    server
        .wait_for("1.0.0 deleted", Duration::from_secs(30), || {
            let vs = versions(&server, "shop/cart")?;
            Ok(vs
                .iter()
                .find(|v| v["version"] == "1.0.0" && !v["deletedAt"].is_null())
                .cloned())
        })
        .unwrap();
    let live_list = server
        .query(
            "{ component(name: \"shop/cart\") { versionCount versions { totalCount nodes { version } } } }",
            json!({}),
        )
        .unwrap();
    assert_eq!(
        live_list["component"]["versions"],
        json!({"totalCount": 1, "nodes": [{"version": "1.1.0"}]})
    );

    // The same notifications sent again change nothing. First the registry's own deliveries
    // must all be in: it posts to the capture and to the catalog separately (retrying after a
    // 2 s timeout, 1 s backoff), so the capture can hold one the catalog has not received yet;
    // replaying that one would be its first delivery, not a replay. Settled means: the inbox
    // drained, and the catalog's distribution acks, the capture and the log unchanged for 3 s.
    let acks = |server: &CatalogServer| -> anyhow::Result<String> {
        let m = reqwest::blocking::get(server.url("/metrics"))?.text()?;
        Ok(m.lines()
            .filter(|l| l.starts_with("catalog_hook_requests_total{hook=\"distribution\""))
            .collect::<Vec<_>>()
            .join(","))
    };
    let mut last = (String::new(), 0, -1);
    let mut since = std::time::Instant::now();
    server
        .wait_for("the deliveries to settle", Duration::from_secs(60), || {
            std::thread::sleep(Duration::from_millis(250));
            if server.pending()? != 0 {
                since = std::time::Instant::now();
                return Ok(None);
            }
            let now = (
                acks(&server)?,
                capture.bodies().len(),
                server.event_count()?,
            );
            if now != last {
                last = now;
                since = std::time::Instant::now();
                return Ok(None);
            }
            Ok((since.elapsed() >= Duration::from_secs(3)).then_some(()))
        })
        .unwrap();
    let before = server.event_count().unwrap();
    let before_versions = versions(&server, "shop/cart").unwrap();
    let sent = capture.bodies();
    assert!(
        sent.len() >= 4,
        "the registry sent {} notifications",
        sent.len()
    );
    for (ct, body) in &sent {
        let (status, text) = server
            .post("/hooks/distribution", ct, Some(INGEST_TOKEN), body.clone())
            .unwrap();
        assert_eq!(status, 202, "{text}");
    }
    server
        .wait_for(
            "the replayed inbox to drain",
            Duration::from_secs(30),
            || Ok((server.pending()? == 0).then_some(())),
        )
        .unwrap();
    assert_eq!(
        server.event_count().unwrap(),
        before,
        "a replay recorded new events"
    );
    assert_eq!(versions(&server, "shop/cart").unwrap(), before_versions);

    // Stopped catalog; a push it never hears of (the registry's in-memory retry queue is lost
    // with a registry restart); after restart, reconcile finds it.
    let mut server = server;
    server.kill();
    layout.build("v3", &spec("1.2.0", "cccc3333")).unwrap();
    let d3 = push(&layout, "v3", &host, "shop/cart", "1.2.0").unwrap();
    registry.stop();
    let registry2 = Registry::start_with(registry.port(), registry.storage(), &[]).unwrap();
    let server = server.restart().unwrap();
    let v3 = server
        .wait_for("1.2.0 through reconcile", Duration::from_secs(30), || {
            let vs = versions(&server, "shop/cart")?;
            Ok(live(&vs, "1.2.0").cloned())
        })
        .unwrap();
    assert_eq!(v3["digest"], d3.as_str());
    assert_eq!(v3["revision"], "cccc3333");
    let ev = server
        .query(
            "{ events(kind: \"image.registered\", first: 100) { edges { node { source key } } } }",
            json!({}),
        )
        .unwrap();
    let sources: Vec<&str> = ev["events"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources.last(), Some(&"reconcile"), "{sources:?}");
    // Reconcile is idempotent: a second pass (another restart) queues nothing new.
    let count = server.event_count().unwrap();
    let server = server.restart().unwrap();
    server
        .wait_for("the reconcile pass", Duration::from_secs(30), || {
            let m = reqwest::blocking::get(server.url("/metrics"))?.text()?;
            Ok(m.lines()
                .any(|l| l == "catalog_reconcile_runs_total 1")
                .then_some(()))
        })
        .unwrap();
    server
        .wait_for("the inbox to drain", Duration::from_secs(30), || {
            Ok((server.pending()? == 0).then_some(()))
        })
        .unwrap();
    assert_eq!(server.event_count().unwrap(), count);
    drop(registry2);
}

/// GHCR, Docker Hub, Quay and ECR serve no `_catalog` and (most) send no delete event: a
/// reconcile pass walks the repositories the catalog knows there, so a tag deleted from
/// such a registry goes within one reconcile interval.
#[test]
fn reconcile_without_catalog_walks_known_repositories() {
    // No notifications at all: what the catalog learns of deletes, it learns by reconcile.
    let registry = Registry::start(&[]).unwrap();
    let gateway = NoCatalogGateway::start(&registry.host()).unwrap();
    let host = gateway.host();
    let layout = Layout::new().unwrap();
    layout.build("v1", &spec("1.0.0", "aaaa1111")).unwrap();
    layout.build("v2", &spec("2.0.0", "bbbb2222")).unwrap();
    let d1 = push(&layout, "v1", &registry.host(), "shop/ghost", "1.0.0").unwrap();
    let d2 = push(&layout, "v2", &registry.host(), "shop/ghost", "2.0.0").unwrap();

    let server = CatalogServer::start(ServerOpts {
        registries: vec![format!("http://{host}")],
        extra_args: vec!["--reconcile-interval".into(), "1s".into()],
        ..ServerOpts::default()
    })
    .unwrap();
    // How the catalog comes to know the repository here: registerImage (a CI step would).
    for tag in ["1.0.0", "2.0.0"] {
        let (status, body) = server
            .graphql_as(
                Some(INGEST_TOKEN),
                "mutation($r: String!, $t: String!) { registerImage(registry: $r, repository: \"shop/ghost\", tag: $t) { digest } }",
                json!({"r": host, "t": tag}),
            )
            .unwrap();
        assert!(status == 200 && body.get("errors").is_none(), "{body}");
    }
    for (version, digest) in [("1.0.0", &d1), ("2.0.0", &d2)] {
        let v = server
            .wait_for(version, Duration::from_secs(30), || {
                Ok(live(&versions(&server, "shop/ghost")?, version).cloned())
            })
            .unwrap();
        assert_eq!(v["digest"], digest.as_str());
    }

    // Deleting the manifest removes its tag; the catalog hears nothing of it but reconcile.
    delete_manifest(&registry.host(), "shop/ghost", &d1).unwrap();
    let tags_of = |version: &str| -> anyhow::Result<Option<Value>> {
        let vs = versions(&server, "shop/ghost")?;
        Ok(vs
            .iter()
            .find(|v| v["version"] == version)
            .map(|v| v["tags"].clone()))
    };
    server
        .wait_for(
            "tag 1.0.0 gone by reconcile",
            Duration::from_secs(30),
            || Ok(tags_of("1.0.0")?.filter(|t| t == &json!([]))),
        )
        .unwrap();
    assert_eq!(tags_of("2.0.0").unwrap(), Some(json!(["2.0.0"])));
    let ev = server
        .query(
            "{ events(kind: \"tag.deleted\", first: 10) { edges { node { source } } } }",
            json!({}),
        )
        .unwrap();
    assert_eq!(
        ev["events"]["edges"],
        json!([{"node": {"source": "reconcile"}}]),
        "{ev}"
    );
    assert!(
        gateway.refused() > 0,
        "the catalog never asked for _catalog"
    );
    assert!(
        !server.log().contains("reconcile failed"),
        "{}",
        server.log()
    );
}
