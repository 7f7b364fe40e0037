//! A registry that requires HTTP Basic auth (htpasswd): with its credentials configured
//! (`--registry http://user:$VAR@host`, the password read from the environment) the worker
//! fetches manifest and config and the push becomes a version; the password never reaches the
//! log. A catalog without the credentials retries the same notification, then parks it with the
//! registry's refusal, and records nothing. Reconcile authenticates as well.

use catalog_tests::capture::Capture;
use catalog_tests::registry::{
    basic_auth, http_request, push_with_creds, ImageSpec, Layout, Registry, MANIFEST_ACCEPT,
};
use catalog_tests::server::{free_port, INGEST_TOKEN};
use catalog_tests::{CatalogServer, ServerOpts};
use serde_json::{json, Value};
use std::time::Duration;

const USER: &str = "bot";
/// Distinctive, so a leak into the log cannot hide behind a common word.
const PASSWORD: &str = "pw-e2e-Q7vX2kLm9";
const PASSWORD_VAR: &str = "CATALOG_TEST_REG_PW";

const VERSIONS: &str = r#"query($name: String!) {
  component(name: $name) { versions(first: 500) { nodes { version digest revision } } }
}"#;
const PARKED: &str = "{ inbox(state: PARKED) { edges { node { id attempts lastError body } } } }";

/// Captured notification bodies carrying a tagged manifest push of `repo:tag`.
fn manifest_pushes(capture: &Capture, repo: &str, tag: &str) -> Vec<(String, Vec<u8>)> {
    capture
        .bodies()
        .into_iter()
        .filter(|(_, body)| {
            let v: Value = serde_json::from_slice(body).unwrap_or_default();
            v["events"].as_array().is_some_and(|evs| {
                evs.iter().any(|e| {
                    e["action"] == "push"
                        && e["target"]["repository"] == repo
                        && e["target"]["tag"] == tag
                        && e["target"]["mediaType"]
                            .as_str()
                            .is_some_and(|m| m.contains("manifest"))
                })
            })
        })
        .collect()
}

#[test]
fn registry_credentials_authenticate_and_their_absence_parks_visibly() {
    let capture = Capture::start().unwrap();
    let catalog_port = free_port().unwrap();
    let hook = format!("http://127.0.0.1:{catalog_port}/hooks/distribution");
    let registry = Registry::start_auth(
        &[(&hook, INGEST_TOKEN), (&capture.url(), INGEST_TOKEN)],
        USER,
        PASSWORD,
    )
    .unwrap();
    let host = registry.host();

    // The registry really refuses anonymous reads.
    let anon = http_request("GET", &host, "/v2/", &[], b"").unwrap();
    assert_eq!(anon.status, 401);
    assert!(
        anon.header("WWW-Authenticate")
            .is_some_and(|h| h.starts_with("Basic")),
        "{:?}",
        anon.headers
    );

    // The password reaches the catalog through its environment only.
    let server = CatalogServer::start(ServerOpts {
        port: Some(catalog_port),
        registries: vec![format!("http://{USER}:${PASSWORD_VAR}@{host}")],
        env: vec![(PASSWORD_VAR.to_string(), PASSWORD.to_string())],
        ..ServerOpts::default()
    })
    .unwrap();

    let layout = Layout::new().unwrap();
    layout
        .build(
            "v1",
            &ImageSpec::new("secure app 1.0.0")
                .label("org.opencontainers.image.revision", "5ec0de01")
                .label("org.opencontainers.image.version", "1.0.0")
                .label("dev.catalog.owner", "team-security"),
        )
        .unwrap();
    let digest = push_with_creds(
        &layout,
        "v1",
        &host,
        "secure/app",
        "1.0.0",
        Some((USER, PASSWORD)),
    )
    .unwrap();

    // Digest and revision label in GraphQL: the worker fetched manifest and config with Basic auth.
    let version = server
        .wait_for("secure/app 1.0.0", Duration::from_secs(30), || {
            let d = server.query(VERSIONS, json!({"name": "secure/app"}))?;
            Ok(d["component"]["versions"]["nodes"]
                .as_array()
                .and_then(|vs| vs.iter().find(|v| v["version"] == "1.0.0"))
                .cloned())
        })
        .unwrap();
    assert_eq!(
        version,
        json!({"version": "1.0.0", "digest": digest, "revision": "5ec0de01"})
    );
    assert!(server.event_count().unwrap() > 0);
    let parked = server.query(PARKED, json!({})).unwrap();
    assert_eq!(parked["inbox"]["edges"], json!([]), "{parked}");

    // What the registry says to a read of that manifest without credentials, and with them.
    let path = format!("/v2/secure/app/manifests/{digest}");
    let refused = http_request("GET", &host, &path, &[("Accept", MANIFEST_ACCEPT)], b"").unwrap();
    assert_eq!(refused.status, 401);
    assert!(
        refused.text().contains("UNAUTHORIZED"),
        "{}",
        refused.text()
    );
    let auth = basic_auth(USER, PASSWORD);
    let allowed = http_request(
        "GET",
        &host,
        &path,
        &[("Accept", MANIFEST_ACCEPT), ("Authorization", &auth)],
        b"",
    )
    .unwrap();
    assert_eq!(allowed.status, 200);

    // The same notification, to a catalog configured for this registry without credentials.
    let sent = server
        .wait_for(
            "the capture endpoint to receive the push",
            Duration::from_secs(30),
            || {
                let b = manifest_pushes(&capture, "secure/app", "1.0.0");
                Ok((!b.is_empty()).then_some(b))
            },
        )
        .unwrap();
    let unauthenticated = CatalogServer::start(ServerOpts {
        registries: vec![format!("http://{host}")],
        extra_args: [
            "--max-attempts",
            "2",
            "--retry-base",
            "100ms",
            "--reconcile-interval",
            "0",
        ]
        .map(String::from)
        .to_vec(),
        ..ServerOpts::default()
    })
    .unwrap();
    for (ct, body) in &sent {
        let (status, text) = unauthenticated
            .post("/hooks/distribution", ct, Some(INGEST_TOKEN), body.clone())
            .unwrap();
        assert_eq!(status, 202, "{text}");
    }
    let item = unauthenticated
        .wait_for(
            "the unauthenticated item to be parked",
            Duration::from_secs(20),
            || {
                let d = unauthenticated.query(PARKED, json!({}))?;
                Ok(d["inbox"]["edges"]
                    .as_array()
                    .and_then(|e| e.first())
                    .map(|e| e["node"].clone()))
            },
        )
        .unwrap();
    let all_parked = unauthenticated.query(PARKED, json!({})).unwrap();
    assert_eq!(
        all_parked["inbox"]["edges"].as_array().map(Vec::len),
        Some(1),
        "{all_parked}"
    );
    assert_eq!(item["attempts"], 2, "{item}");
    assert_eq!(item["body"]["repository"], "secure/app", "{item}");
    assert_eq!(item["body"]["digest"], digest.as_str(), "{item}");
    // oci-client drops the registry's 401 body; the catalog names the refusal and the fix.
    let error = item["lastError"].as_str().unwrap_or_default();
    assert!(
        error.starts_with(&format!(
            "registry {host} refused the credentials (HTTP 401"
        )),
        "{item}"
    );
    assert!(
        error.contains("--registry http[s]://user:$PASSWORD_VAR@"),
        "{item}"
    );
    assert!(
        error.contains(&format!("http://{host}/v2/secure/app/manifests/{digest}")),
        "{item}"
    );
    assert_eq!(unauthenticated.pending().unwrap(), 0);
    assert_eq!(unauthenticated.event_count().unwrap(), 0);
    let none = unauthenticated
        .query(VERSIONS, json!({"name": "secure/app"}))
        .unwrap();
    assert!(none["component"].is_null(), "{none}");

    // Reconcile reads with the credentials too (_catalog, tags/list, manifest HEAD): a catalog on
    // a fresh database that no registry notifies finds the version on its first pass.
    let reconciling = CatalogServer::start(ServerOpts {
        registries: vec![format!("http://{USER}:${PASSWORD_VAR}@{host}")],
        env: vec![(PASSWORD_VAR.to_string(), PASSWORD.to_string())],
        ..ServerOpts::default()
    })
    .unwrap();
    let found = reconciling
        .wait_for(
            "secure/app 1.0.0 through reconcile",
            Duration::from_secs(30),
            || {
                let d = reconciling.query(VERSIONS, json!({"name": "secure/app"}))?;
                Ok(d["component"]["versions"]["nodes"]
                    .as_array()
                    .and_then(|vs| vs.iter().find(|v| v["version"] == "1.0.0"))
                    .cloned())
            },
        )
        .unwrap();
    assert_eq!(found, version);
    let parked = reconciling.query(PARKED, json!({})).unwrap();
    assert_eq!(parked["inbox"]["edges"], json!([]), "{parked}");
    assert!(!reconciling.log().contains(PASSWORD));

    // The authenticated catalog logged the registry, redacted, and never the password.
    let log = server.log();
    assert!(log.contains(&format!("{USER}:***@{host}")), "{log}");
    assert!(
        !log.contains(PASSWORD),
        "the password is in the log:\n{log}"
    );
    assert!(!unauthenticated.log().contains(PASSWORD));
    drop(registry);
}
