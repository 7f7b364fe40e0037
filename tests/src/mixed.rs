//! A mixed workload for the suites that need many events of every common kind going in
//! through the hooks: deployments in batches, CycloneDX SBOMs, Backstage descriptors,
//! registry notifications of deletes (which go through the inbox and a worker); and a battery
//! of queries whose answers two catalogs must agree on.

use crate::server::{CATALOG_TOKEN, INGEST_TOKEN};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub const DEPLOYS_PER_REQUEST: usize = 100;
/// Delete notifications per request to `/hooks/distribution`.
pub const DELETES_PER_REQUEST: usize = 10;
pub const BACKSTAGE_POSTS: usize = 5;
/// Per Backstage post: a group, a system, 10 APIs and 100 components.
pub const DOCS_PER_POST: usize = 112;
pub const LOG4J: &str = "pkg:maven/org.apache.logging.log4j/log4j-core";
pub const CLUSTERS: usize = 6;

/// One hook request to send, and what it must leave in the log.
pub enum Request {
    Deployments {
        body: Vec<u8>,
        keys: Vec<String>,
    },
    Sbom {
        image: String,
        body: Vec<u8>,
        key: String,
    },
    Backstage {
        body: Vec<u8>,
    },
    /// Registry notifications (manifest deletes): they need no registry fetch, so a worker
    /// records every one.
    Distribution {
        body: Vec<u8>,
        keys: Vec<String>,
    },
}

/// Request `r` of delete notifications, from a registry no test configures (a delete needs
/// none).
pub fn deletes(r: usize) -> Request {
    let mut events = Vec::new();
    let mut keys = Vec::new();
    for i in 0..DELETES_PER_REQUEST {
        let n = r * DELETES_PER_REQUEST + i;
        let id = format!("delete-{n}");
        keys.push(format!("distribution:{id}"));
        events.push(json!({
            "id": id,
            "timestamp": "2026-12-01T09:28:38.827295516Z",
            "action": "delete",
            "target": {"digest": format!("sha256:{:064x}", 1_000_000 + n), "repository": format!("old/repo-{}", n % 20)},
            "request": {"host": "registry.old.example:5000", "useragent": "test"},
            "actor": {},
            "source": {"addr": "old:5000", "instanceID": "old"}
        }));
    }
    Request::Distribution {
        body: serde_json::to_vec(&json!({ "events": events })).unwrap(),
        keys,
    }
}

pub fn deployments(r: usize) -> Request {
    let mut list = Vec::new();
    let mut keys = Vec::new();
    for i in 0..DEPLOYS_PER_REQUEST {
        let n = r * DEPLOYS_PER_REQUEST + i;
        let id = format!("run-{n}");
        keys.push(format!("deployments:{id}"));
        let svc = n % 100;
        list.push(json!({
            "id": id,
            "cluster": format!("c-{}", n % CLUSTERS),
            "environment": if n % CLUSTERS < 3 { "prod" } else { "staging" },
            "namespace": format!("ns-{}", n % 4),
            "workload": format!("w-{}", n % 40),
            "component": format!("shop/svc-{svc}"),
            "version": format!("1.{}.0", (n / 40) % 7),
            "image": format!("registry.example.com/shop/svc-{svc}:1.{}.0@sha256:{:064x}", (n / 40) % 7, svc * 7 + (n / 40) % 7),
            "status": if n.is_multiple_of(13) { "degraded" } else { "healthy" },
            "replicas": 1 + n % 5,
            "at": format!("2026-12-01T{:02}:{:02}:{:02}Z", (n / 3600) % 24, (n / 60) % 60, n % 60),
        }));
    }
    Request::Deployments {
        body: serde_json::to_vec(&json!({ "deployments": list })).unwrap(),
        keys,
    }
}

pub fn sbom(i: usize) -> Request {
    // The images the deployments run, and a few more; log4j in every fifth.
    let image = format!("sha256:{:064x}", i);
    let mut purls = vec![
        format!("pkg:npm/lodash@4.17.{}", i % 21),
        format!("pkg:pypi/requests@2.{}.0", i % 30),
        format!("pkg:golang/github.com/gorilla/mux@v1.8.{}", i % 3),
    ];
    if i.is_multiple_of(5) {
        purls.push(format!("{LOG4J}@2.{}.1", 12 + i % 6));
    }
    let refs: Vec<&str> = purls.iter().map(String::as_str).collect();
    let body = crate::sbom::cyclonedx(&refs);
    let key = format!("sbom:{image}:sha256:{}", hex::encode(Sha256::digest(&body)));
    Request::Sbom { image, body, key }
}

pub fn backstage(p: usize) -> Request {
    let mut docs = vec![
        format!(
            "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-{p}\n  annotations:\n    pagerduty.com/service-id: P{p}\nspec:\n  type: team\n  profile:\n    email: team-{p}@example.com\n  children: []\n"
        ),
        format!(
            "apiVersion: backstage.io/v1alpha1\nkind: System\nmetadata:\n  name: sys-{p}\n  namespace: shop\nspec:\n  owner: group:default/team-{p}\n"
        ),
    ];
    for a in 0..10 {
        docs.push(format!(
            "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: api-{p}-{a}\n  namespace: shop\nspec:\n  type: openapi\n  lifecycle: production\n  owner: group:default/team-{p}\n  definition: x\n"
        ));
    }
    for c in 0..100 {
        let n = p * 100 + c;
        // Components svc-0..svc-99 are declared five times over (by the five posts, each a
        // later descriptor of the same component); the last post's win.
        let svc = n % 100;
        docs.push(format!(
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: svc-{svc}\n  namespace: shop\n  description: revision {p}\nspec:\n  type: service\n  lifecycle: production\n  owner: group:default/team-{p}\n  system: sys-{p}\n  providesApis:\n    - api-{p}-{}\n  consumesApis:\n    - api-{p}-{}\n  dependsOn:\n    - component:svc-{}\n",
            c % 10,
            (c + 1) % 10,
            (svc + 1) % 100
        ));
    }
    assert_eq!(docs.len(), DOCS_PER_POST);
    Request::Backstage {
        body: docs.join("---\n").into_bytes(),
    }
}

/// Every query of the battery, asked of both replicas.
pub fn battery() -> Vec<(String, Value)> {
    let mut qs = vec![
        ("{ eventCount }".to_string(), json!({})),
        (
            "query($p: String!) { blastRadius(of: {purl: $p}) { totals { images componentVersions components applications deployments owners clusters } owners(first: 50) { totalCount nodes { name depth } } } }".to_string(),
            json!({"p": LOG4J}),
        ),
        (
            "query($c: String!) { component(name: $c) { name owner { name contacts { email pager } } dependencies { name } dependents { name } applications { name } latestVersion versionCount } }".to_string(),
            json!({"c": "shop/svc-7"}),
        ),
        (
            "query($t: String!) { search(text: $t, first: 50) { kind id detail score } }".to_string(),
            json!({"t": "svc-1"}),
        ),
        (
            "{ components(prefix: \"shop/\", first: 200) { edges { node { name latestVersion versionCount owner { name } } } } }".to_string(),
            json!({}),
        ),
    ];
    for c in 0..CLUSTERS {
        qs.push((
            "query($c: String!) { inventory(cluster: $c, first: 500) { totalCount nodes { id namespace workload since status replicas runs { reference digest component version owner known } } } }".to_string(),
            json!({"c": format!("c-{c}")}),
        ));
    }
    qs
}

pub fn post(http: &reqwest::blocking::Client, base: &str, r: &Request) -> reqwest::Result<u16> {
    let (path, ct, body) = match r {
        Request::Deployments { body, .. } => {
            ("/hooks/deployments".to_string(), "application/json", body)
        }
        Request::Sbom { image, body, .. } => (
            format!("/hooks/sbom?image={image}"),
            "application/vnd.cyclonedx+json",
            body,
        ),
        Request::Backstage { body } => ("/hooks/backstage".to_string(), "application/yaml", body),
        Request::Distribution { body, .. } => (
            "/hooks/distribution".to_string(),
            "application/vnd.docker.distribution.events.v1+json",
            body,
        ),
    };
    // Descriptors are catalog state (a catalog-scope token); the rest is ingest.
    let token = match r {
        Request::Backstage { .. } => CATALOG_TOKEN,
        _ => INGEST_TOKEN,
    };
    http.post(format!("{base}{path}"))
        .header("content-type", ct)
        .bearer_auth(token)
        .body(body.clone())
        .send()
        .map(|r| r.status().as_u16())
}
