//! VEX end to end, against a real registry and a real catalog: an image whose SBOM names
//! log4j-core 2.14.1 is matched by Log4Shell; an OpenVEX `not_affected` statement takes it
//! out of `vulnerability`, `vulnerabilities` and the image's list, which show it as
//! suppressed with the justification; a later `affected` statement brings it back; a team's
//! own suppression with an expiry counts again after it; the same statement as a CycloneDX VEX
//! attached to the image in the registry is discovered and gives the same answers. Malformed
//! VEX is refused naming the field, and writes nothing.

use super::sbom::{descriptor, push_sbom_artifact};
use super::ui::{prerequisites, run_browser};
use catalog_tests::registry::{push, ImageSpec, Layout, TempDir};
use catalog_tests::server::{CATALOG_TOKEN, INGEST_TOKEN};
use catalog_tests::{CatalogServer, ServerOpts};
use chrono::{Duration as TimeDelta, SecondsFormat, Utc};
use serde_json::{json, Value};
use std::time::Duration;

const CVE: &str = "CVE-2021-44228";
const GHSA: &str = "GHSA-jfh8-c2jp-5v3q";
const LOG4J: &str = "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1";
// Generous: on a loaded machine a registry read can fail and the worker retries it with
// backoff (`--retry-base 2s`, doubling: 2 s, 4 s, 8 s, 16 s); the waits end as soon as the answer is there.
const WAIT: Duration = Duration::from_secs(90);

const LOG4SHELL: &str = r#"{
  "id": "GHSA-jfh8-c2jp-5v3q",
  "modified": "2024-01-01T00:00:00Z",
  "aliases": ["CVE-2021-44228"],
  "summary": "Remote code injection in Log4j",
  "affected": [{
    "package": {"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.0-beta9"}, {"fixed": "2.15.0"}]}]
  }]
}"#;

fn sbom() -> Vec<u8> {
    serde_json::to_vec(&json!({
        "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
        "components": [{"type": "library", "bom-ref": LOG4J, "name": "log4j-core",
                        "version": "2.14.1", "purl": LOG4J}]
    }))
    .unwrap()
}

fn openvex(digest: &str, status: &str, extra: Value, at: &str) -> Vec<u8> {
    let mut statement = json!({
        "vulnerability": {"name": CVE},
        "products": [{"@id": format!("pkg:oci/cart@{}", digest.replace(':', "%3A")),
                      "subcomponents": [{"@id": LOG4J}]}],
        "status": status,
    });
    for (k, v) in extra.as_object().unwrap() {
        statement[k] = v.clone();
    }
    serde_json::to_vec(&json!({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": format!("https://vendor.example/vex/{status}"),
        "author": "Vendor Security <security@vendor.example>",
        "timestamp": at,
        "version": 1,
        "statements": [statement],
    }))
    .unwrap()
}

const REPORT: &str = r#"query($id: String!, $d: String!) {
  vulnerability(id: $id) {
    totals { images }
    images(first: 50) { nodes { digest } }
    suppressed(first: 50) { nodes { digest packageVersions vex { status justification author statedAt } } }
  }
  image(digest: $d) {
    vulnerabilities { id }
    all: vulnerabilities(includeSuppressed: true) { id suppressed vex { status justification expired } }
  }
}"#;

fn report(server: &CatalogServer, digest: &str) -> Value {
    server
        .query(REPORT, json!({"id": CVE, "d": digest}))
        .unwrap_or(Value::Null)
}

fn counted(r: &Value) -> i64 {
    r["vulnerability"]["totals"]["images"]
        .as_i64()
        .unwrap_or(-1)
}

fn post(server: &CatalogServer, path: &str, body: Vec<u8>) -> (u16, Value) {
    let (st, text) = server
        .post(path, "application/json", Some(CATALOG_TOKEN), body)
        .unwrap();
    (st, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn wait(server: &CatalogServer, what: &str, digest: &str, f: impl Fn(&Value) -> bool) -> Value {
    server
        .wait_for(what, WAIT, || {
            let r = report(server, digest);
            Ok(f(&r).then_some(r))
        })
        .unwrap()
}

#[test]
fn vex_statements_suppress_exactly_their_matches_and_are_found_in_the_registry() {
    let (registry, server) = CatalogServer::with_registry(ServerOpts::default()).unwrap();
    let host = registry.host();
    let layout = Layout::new().unwrap();
    let mut digests = Vec::new();
    for (name, repo) in [("cart", "shop/cart"), ("api", "shop/api")] {
        layout.build(name, &ImageSpec::new(name)).unwrap();
        digests.push(push(&layout, name, &host, repo, "1.0.0").unwrap());
    }
    let (cart, api) = (digests[0].clone(), digests[1].clone());
    for d in &digests {
        server
            .wait_for("the image registered", WAIT, || {
                let r = server.query(
                    "query($d: String!) { image(digest: $d) { digest } }",
                    json!({"d": d}),
                )?;
                Ok(r["image"]["digest"].is_string().then_some(()))
            })
            .unwrap();
        let (st, body) = server
            .post(
                &format!("/hooks/sbom?image={d}"),
                "application/vnd.cyclonedx+json",
                Some(INGEST_TOKEN),
                sbom(),
            )
            .unwrap();
        assert_eq!(st, 202, "{body}");
    }
    let (st, body) = post(&server, "/hooks/osv", LOG4SHELL.as_bytes().to_vec());
    assert_eq!(st, 202, "{body}");
    wait(&server, "both images matched", &cart, |r| counted(r) == 2);

    // Malformed VEX: refused, naming the field; nothing is written.
    let before = server.event_count().unwrap();
    let bad = openvex(&cart, "not_affected", json!({}), "2026-01-01T00:00:00Z");
    let (st, body) = post(&server, "/hooks/vex", bad);
    assert_eq!(st, 400, "{body}");
    assert_eq!(
        body["error"]["field"], "statements[0].justification",
        "{body}"
    );
    let bad = openvex(&cart, "fine", json!({}), "2026-01-01T00:00:00Z");
    let (st, body) = post(&server, "/hooks/vex", bad);
    assert_eq!(st, 400, "{body}");
    assert_eq!(body["error"]["field"], "statements[0].status", "{body}");
    let (st, _) = server
        .post(
            "/hooks/vex",
            "application/json",
            Some(INGEST_TOKEN),
            openvex(
                &cart,
                "under_investigation",
                json!({}),
                "2026-01-01T00:00:00Z",
            ),
        )
        .unwrap();
    assert_eq!(st, 403, "VEX decides what counts: the catalog scope");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(server.event_count().unwrap(), before, "nothing written");

    // 1. The vendor says cart is not affected: cart leaves the counts, api stays.
    let not_affected = openvex(
        &cart,
        "not_affected",
        json!({"justification": "vulnerable_code_not_in_execute_path",
               "impact_statement": "<img src=x onerror=window.pwned=1>"}),
        "2026-01-01T00:00:00Z",
    );
    let (st, body) = post(&server, "/hooks/vex", not_affected.clone());
    assert_eq!(st, 202, "{body}");
    assert_eq!(body["statements"], 1, "{body}");
    let r = wait(&server, "cart suppressed", &cart, |r| counted(r) == 1);
    assert_eq!(
        r["vulnerability"]["images"]["nodes"],
        json!([{"digest": api}])
    );
    let s = &r["vulnerability"]["suppressed"]["nodes"][0];
    assert_eq!(s["digest"], cart.as_str());
    assert_eq!(s["packageVersions"], json!([LOG4J]));
    assert_eq!(s["vex"]["status"], "not_affected");
    assert_eq!(
        s["vex"]["justification"],
        "vulnerable_code_not_in_execute_path"
    );
    assert_eq!(
        s["vex"]["author"],
        "Vendor Security <security@vendor.example>"
    );
    assert_eq!(s["vex"]["statedAt"], "2026-01-01T00:00:00+00:00");
    assert_eq!(r["image"]["vulnerabilities"], json!([]));
    assert_eq!(r["image"]["all"][0]["id"], GHSA);
    assert_eq!(r["image"]["all"][0]["suppressed"], true);
    let b = server
        .query(
            r#"{ blastRadius(of: {vulnerability: "CVE-2021-44228"}) { totals { images } } }"#,
            json!({}),
        )
        .unwrap();
    assert_eq!(b["blastRadius"]["totals"]["images"], 1, "{b}");
    // Exactly scoped: api's match is untouched.
    let a = report(&server, &api);
    assert_eq!(a["image"]["vulnerabilities"], json!([{"id": GHSA}]));
    // The dashboard shows it so, in Chromium.
    let browser = prerequisites();
    let dir = TempDir::new("vex-browser").unwrap();
    let seed = dir.path().join("seed.json");
    std::fs::write(
        &seed,
        json!({"catalog": server.url(""), "cve": CVE, "ghsa": GHSA, "cart": cart, "api": api})
            .to_string(),
    )
    .unwrap();
    let run = run_browser(&browser, "vex.mjs", &[("SEED", &seed)]);
    assert!(
        run.ok,
        "node vex.mjs failed ({}):\n{}\n--- catalog log:\n{}",
        run.status,
        run.output,
        server.log()
    );
    // The same document again changes nothing.
    let before = server.event_count().unwrap();
    let (st, _) = post(&server, "/hooks/vex", not_affected);
    assert_eq!(st, 202);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(server.event_count().unwrap(), before, "a replay recorded");

    // 2. A later `affected` statement brings it back.
    let affected = openvex(
        &cart,
        "affected",
        json!({"action_statement": "upgrade log4j-core to 2.17.1"}),
        "2026-02-01T00:00:00Z",
    );
    let (st, body) = post(&server, "/hooks/vex", affected);
    assert_eq!(st, 202, "{body}");
    let r = wait(&server, "cart counted again", &cart, |r| counted(r) == 2);
    assert_eq!(r["image"]["all"][0]["vex"]["status"], "affected");
    assert_eq!(r["vulnerability"]["suppressed"]["nodes"], json!([]));

    // 3. The owning team suppresses api's match until a few seconds from now.
    let until = (Utc::now() + TimeDelta::seconds(4)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let (st, v) = server
        .graphql_as(
            Some(CATALOG_TOKEN),
            r#"mutation($d: String!, $u: DateTime!) {
                 recordVexStatement(vulnerability: "CVE-2021-44228", image: $d, status: NOT_AFFECTED,
                   justification: "inline_mitigations_already_exist", until: $u) }"#,
            json!({"d": api, "u": until}),
        )
        .unwrap();
    assert_eq!(st, 200, "{v}");
    assert!(v["errors"].is_null(), "{v}");
    let r = wait(&server, "api suppressed", &api, |r| counted(r) == 1);
    assert_eq!(
        r["vulnerability"]["suppressed"]["nodes"][0]["digest"],
        api.as_str()
    );
    let r = wait(&server, "api's suppression expired", &api, |r| {
        counted(r) == 2
    });
    assert_eq!(r["image"]["all"][0]["vex"]["expired"], true);
    assert_eq!(r["image"]["vulnerabilities"], json!([{"id": GHSA}]));
    // An expiry in the past, or on a status that does not suppress, is refused by field.
    for (status, until, field) in [
        ("NOT_AFFECTED", "2020-01-01T00:00:00Z", "until"),
        ("AFFECTED", "2099-01-01T00:00:00Z", "until"),
    ] {
        let (_, v) = server
            .graphql_as(
                Some(CATALOG_TOKEN),
                r#"mutation($d: String!, $s: VexStatus!, $u: DateTime!) {
                     recordVexStatement(vulnerability: "CVE-2021-44228", image: $d, status: $s,
                       justification: "inline_mitigations_already_exist", until: $u) }"#,
                json!({"d": api, "s": status, "u": until}),
            )
            .unwrap();
        assert_eq!(v["errors"][0]["extensions"]["field"], field, "{v}");
    }

    // 4. The same not_affected statement as a CycloneDX VEX attached to api in the registry
    //    (cosign's `sha256-<hex>.vex` tag): discovered at its push, no upload.
    // Stated now: later than the team's expired suppression, which it supersedes.
    let stated = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
    let cdx = serde_json::to_vec(&json!({
        "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        "metadata": {"timestamp": stated, "authors": [{"name": "Platform team"}]},
        "vulnerabilities": [{
            "id": CVE,
            "analysis": {"state": "not_affected", "justification": "code_not_reachable",
                         "detail": "JNDI lookups are disabled"},
            "affects": [{"ref": format!("urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#{LOG4J}")}]
        }]
    }))
    .unwrap();
    let subject = descriptor(&host, "shop/api", &api);
    let hex = api.trim_start_matches("sha256:");
    push_sbom_artifact(
        &host,
        "shop/api",
        &subject,
        &cdx,
        "application/vnd.cyclonedx+json",
        Some(&format!("sha256-{hex}.vex")),
    );
    let r = wait(&server, "api suppressed from the registry", &api, |r| {
        counted(r) == 1
    });
    let s = &r["vulnerability"]["suppressed"]["nodes"][0];
    assert_eq!(s["digest"], api.as_str());
    assert_eq!(s["vex"]["justification"], "code_not_reachable");
    assert_eq!(s["vex"]["author"], "Platform team");
    // The VEX artifact is no image, and api's SBOM is still the uploaded one.
    let d = server
        .query(
            "query($d: String!) { image(digest: $d) { sbom { packageCount } } }",
            json!({"d": api}),
        )
        .unwrap();
    assert_eq!(d["image"]["sbom"]["packageCount"], 1, "{d}");
}
