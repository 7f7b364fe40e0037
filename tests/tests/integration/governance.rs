//! Release governance end to end, with real parts: an image pushed to the real registry, its
//! SBOM, a critical advisory, a Rego policy set loaded from a directory, `catalog deploy
//! --check` (exit 5, then 0) as the events that satisfy the policy arrive, approvals with
//! separation of duties, a policy set that does not compile (refused with file and line, the
//! set in force stays), and a policy that runs too long (stopped by the budget, and denying).

use catalog_tests::registry::{push, ImageSpec, Layout, TempDir};
use catalog_tests::server::{binary, ADMIN_TOKEN, CATALOG_TOKEN, INGEST_TOKEN};
use catalog_tests::{CatalogServer, ServerOpts};
use chrono::{SecondsFormat, TimeDelta, Utc};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);

/// The README's example: prod needs the same version healthy in staging for an hour, an
/// approval for prod by someone other than the deployer, and no unsuppressed critical
/// vulnerability.
const PROD_POLICY: &str = include_str!("../../../docs/policies/prod-promotion.rego");

/// Runs only for the `slow` environment: 25 million iterations, far past a 300 ms budget.
const SLOW_POLICY: &str = r#"package catalog.slow

import rego.v1

deny contains msg if {
	input.deployment.environment == "slow"
	n := count([1 | some i in numbers.range(1, 5000); some j in numbers.range(1, 5000)])
	n > 0
	msg := "never reached"
}
"#;

pub(super) const LOG4J: &str = "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1";

/// Log4Shell with its CVSS 3.1 vector (10.0, critical).
pub(super) const LOG4SHELL: &str = r#"{
  "id": "GHSA-jfh8-c2jp-5v3q",
  "modified": "2024-01-01T00:00:00Z",
  "aliases": ["CVE-2021-44228"],
  "summary": "Remote code injection in Log4j",
  "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"}],
  "affected": [{
    "package": {"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.0-beta9"}, {"fixed": "2.15.0"}]}]
  }]
}"#;

const CHECK: &str = r#"query($e: String) {
  deploymentCheck(component: "shop/cart", version: "1.0.0", cluster: "prod-eu-1",
                  namespace: "shop", environment: $e) {
    allowed reasons { policy message } policySet input } }"#;

const POLICIES: &str = r#"{ policies {
  inForce { digest files { file package digest } actor }
  history { digest }
  lastError { file message } } }"#;

/// Runs the `catalog` binary; returns (exit code, stdout, stderr).
fn catalog(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(binary().unwrap())
        .args(args)
        .env_remove("CATALOG_TOKEN")
        .env_remove("CATALOG_SERVER")
        .env_remove("CATALOG_DATABASE_URL")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `catalog deploy` of shop/cart 1.0.0 to `cluster`/shop in `environment`, as `token`, with
/// `extra` flags (`--check`, `--at`, `--id`).
fn deploy_cart(
    server: &CatalogServer,
    token: &str,
    cluster: &str,
    environment: &str,
    extra: &[&str],
) -> (i32, String, String) {
    let url = server.url("");
    let mut args = vec![
        "deploy",
        "--server",
        &url,
        "--token",
        token,
        "--cluster",
        cluster,
        "--namespace",
        "shop",
        "--component",
        "shop/cart",
        "--version",
        "1.0.0",
        "--environment",
        environment,
    ];
    args.extend_from_slice(extra);
    catalog(&args)
}

/// `catalog deploy --check` of shop/cart 1.0.0 to prod, as `token`.
fn check_prod(server: &CatalogServer, token: &str) -> (i32, String, String) {
    deploy_cart(server, token, "prod-eu-1", "prod", &["--check"])
}

/// A stored token with `scopes`, named `name`; returns its secret.
fn token(server: &CatalogServer, name: &str, scopes: &str) -> String {
    let db = server.dir.path().join("catalog.db").display().to_string();
    let (code, out, err) = catalog(&[
        "token",
        "create",
        "--database-url",
        &db,
        "--name",
        name,
        "--scope",
        scopes,
    ]);
    assert_eq!(code, 0, "{err}");
    out.trim().to_string()
}

fn write(dir: &Path, file: &str, text: &str) {
    // Written aside and renamed, so the poller never reads half a file.
    let tmp = dir.join(format!(".{file}.tmp"));
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, dir.join(file)).unwrap();
}

fn reasons(v: &Value) -> Vec<String> {
    let mut r: Vec<String> = v["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}: {}",
                r["policy"].as_str().unwrap(),
                r["message"].as_str().unwrap()
            )
        })
        .collect();
    r.sort();
    r
}

/// POSTs `body` to `path` as `token`; the catalog must accept it (202).
/// POSTs to a hook, which must take it (202).
pub(super) fn accepted(
    server: &CatalogServer,
    path: &str,
    content_type: &str,
    token: &str,
    body: Vec<u8>,
) {
    let (st, b) = server.post(path, content_type, Some(token), body).unwrap();
    assert_eq!(st, 202, "{path}: {b}");
}

/// The events of the log but the judge's `policy.judged` cursors (recorded every few seconds
/// of judging, whenever the judge gets there).
fn events_but_cursors(server: &CatalogServer) -> i64 {
    let r = server
        .query(
            r#"{ events(kind: "policy.judged", first: 1) { totalCount } }"#,
            json!({}),
        )
        .unwrap();
    server.event_count().unwrap() - r["events"]["totalCount"].as_i64().unwrap()
}

/// Pushes shop/cart `tags` (an image each) to the registry; returns their digests once the
/// catalog has registered every one.
fn push_cart(
    registry: &catalog_tests::registry::Registry,
    server: &CatalogServer,
    tags: &[&str],
) -> Vec<String> {
    let layout = Layout::new().unwrap();
    let mut digests = Vec::new();
    for tag in tags {
        layout
            .build(tag, &ImageSpec::new(&format!("cart {tag}")))
            .unwrap();
        digests.push(push(&layout, tag, &registry.host(), "shop/cart", tag).unwrap());
    }
    server
        .wait_for("the versions registered", WAIT, || {
            let r = server.query(
                r#"{ component(name: "shop/cart") { versions(first: 50) { totalCount } } }"#,
                json!({}),
            )?;
            Ok((r["component"]["versions"]["totalCount"] == tags.len()).then_some(()))
        })
        .unwrap();
    digests
}

#[test]
fn a_rego_policy_gates_prod_as_the_events_arrive() {
    let policies = TempDir::new("policies").unwrap();
    write(policies.path(), "prod.rego", PROD_POLICY);
    write(policies.path(), "slow.rego", SLOW_POLICY);
    let dir = policies.path().display().to_string();
    let (registry, server) = CatalogServer::with_registry(ServerOpts {
        extra_args: [
            "--policy-dir",
            &dir,
            "--policy-poll",
            "200ms",
            "--policy-budget",
            "300ms",
        ]
        .map(String::from)
        .to_vec(),
        ..Default::default()
    })
    .unwrap();

    // The set in force is the directory's, recorded once with its files' packages.
    let p = server.query(POLICIES, json!({})).unwrap()["policies"].clone();
    let first_set = p["inForce"]["digest"].as_str().unwrap().to_string();
    assert_eq!(
        p["inForce"]["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["file"].as_str().unwrap(), f["package"].as_str().unwrap()))
            .collect::<Vec<_>>(),
        [("prod.rego", "catalog.prod"), ("slow.rego", "catalog.slow")]
    );
    assert!(p["lastError"].is_null(), "{p}");

    // shop/cart 1.0.0: a real image, its SBOM (log4j-core 2.14.1), and Log4Shell.
    let layout = Layout::new().unwrap();
    layout.build("cart", &ImageSpec::new("cart")).unwrap();
    let digest = push(&layout, "cart", &registry.host(), "shop/cart", "1.0.0").unwrap();
    server
        .wait_for("the version registered", WAIT, || {
            let r = server.query(
                r#"{ component(name: "shop/cart") { versions(first: 5) { nodes { version } } } }"#,
                json!({}),
            )?;
            Ok((r["component"]["versions"]["nodes"][0]["version"] == "1.0.0").then_some(()))
        })
        .unwrap();
    let bom = json!({"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
        "components": [{"type": "library", "bom-ref": LOG4J, "name": "log4j-core",
                        "version": "2.14.1", "purl": LOG4J}]});
    accepted(
        &server,
        &format!("/hooks/sbom?image={digest}"),
        "application/vnd.cyclonedx+json",
        INGEST_TOKEN,
        bom.to_string().into_bytes(),
    );
    accepted(
        &server,
        "/hooks/osv",
        "application/json",
        CATALOG_TOKEN,
        LOG4SHELL.as_bytes().to_vec(),
    );
    server.wait_graph_current().unwrap();

    // 1. Nothing is satisfied yet: three reasons; the CLI exits 5 and records nothing.
    let events_before = events_but_cursors(&server);
    let v = server.query(CHECK, json!({"e": "prod"})).unwrap()["deploymentCheck"].clone();
    assert_eq!(v["allowed"], false);
    assert_eq!(v["policySet"], first_set.as_str());
    assert_eq!(
        reasons(&v),
        [
            "catalog.prod: needs an approval for prod by someone other than the deployer and the image's pusher",
            "catalog.prod: shop/cart 1.0.0 has not been healthy in staging for 1 h",
            "catalog.prod: unsuppressed critical vulnerability GHSA-jfh8-c2jp-5v3q in pkg:maven/org.apache.logging.log4j/log4j-core",
        ]
    );
    let input: Value = serde_json::from_str(v["input"].as_str().unwrap()).unwrap();
    assert_eq!(input["vulnerabilities"][0]["level"], "critical", "{input}");
    assert_eq!(input["vulnerabilities"][0]["score"], 10.0);
    assert_eq!(input["sbom"]["packages"], 1);
    assert_eq!(input["image"]["digest"], digest.as_str());
    // Who pushed it (Distribution names the client when the registry has no users), which
    // the policy keeps apart from approvers, as GraphQL shows it.
    let pusher = input["image"]["recorded_by"].as_str().unwrap().to_string();
    assert!(pusher.starts_with("skopeo/"), "{input}");
    let shown = server
        .query(
            r#"{ component(name: "shop/cart") { version(version: "1.0.0") { recordedBy } } }"#,
            json!({}),
        )
        .unwrap();
    assert_eq!(shown["component"]["version"]["recordedBy"], pusher.as_str());
    let deployer = token(&server, "ci-bot", "ingest,approve");
    let (code, out, err) = check_prod(&server, &deployer);
    assert_eq!(code, 5, "{out}{err}");
    assert!(
        err.contains("denied: shop/cart@1.0.0 to prod-eu-1/shop"),
        "{err}"
    );
    assert!(err.contains("has not been healthy in staging"), "{err}");
    // Other environments are not prod's business.
    let v = server.query(CHECK, json!({"e": "staging"})).unwrap()["deploymentCheck"].clone();
    assert_eq!(v["allowed"], true, "{v}");

    // 2. Healthy in staging since two hours ago (the pipeline recorded it then).
    let two_hours_ago =
        (Utc::now() - TimeDelta::hours(2)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let url = server.url("");
    let (code, _, err) = deploy_cart(
        &server,
        &deployer,
        "staging-1",
        "staging",
        &["--at", &two_hours_ago, "--id", "staging-deploy-1"],
    );
    assert_eq!(code, 0, "{err}");
    server.wait_graph_current().unwrap();

    // 3. The deployer approving its own deployment does not count; another person does.
    let (code, out, err) = catalog(&[
        "approve",
        "--server",
        &url,
        "--token",
        &deployer,
        "--component",
        "shop/cart",
        "--version",
        "1.0.0",
        "--environment",
        "prod",
        "--comment",
        "lgtm (mine)",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("approved: shop/cart@1.0.0 for prod by ci-bot"),
        "{out}"
    );
    server.wait_graph_current().unwrap();
    let (code, _, err) = check_prod(&server, &deployer);
    assert_eq!(code, 5, "{err}");
    assert!(!err.contains("healthy in staging"), "{err}");
    assert!(
        err.contains("needs an approval for prod by someone other"),
        "{err}"
    );
    // Deploying anyway (without --check) is recorded, and judged after the fact: the
    // violation is recorded with the policy set's reasons, once.
    let (code, _, err) = deploy_cart(
        &server,
        &deployer,
        "prod-eu-1",
        "prod",
        &["--id", "prod-deploy-1"],
    );
    assert_eq!(code, 0, "{err}");
    let violations = server
        .wait_for("the violation recorded", WAIT, || {
            let v = server.query(
                r#"{ policyViolations(environment: "prod") { cluster workload component version
                     deployer deployment policySet reasons { policy message } } }"#,
                json!({}),
            )?["policyViolations"]
                .clone();
            Ok((v.as_array().is_some_and(|a| !a.is_empty())).then_some(v))
        })
        .unwrap();
    assert_eq!(
        violations,
        json!([{"cluster": "prod-eu-1", "workload": "cart", "component": "shop/cart",
        "version": "1.0.0", "deployer": "ci-bot", "deployment": "deployments:prod-deploy-1",
        "policySet": first_set,
        "reasons": [
            {"policy": "catalog.prod", "message": "needs an approval for prod by someone other than the deployer and the image's pusher"},
            {"policy": "catalog.prod", "message": "unsuppressed critical vulnerability GHSA-jfh8-c2jp-5v3q in pkg:maven/org.apache.logging.log4j/log4j-core"},
        ]}])
    );
    let by_component = server
        .query(
            r#"{ policyViolations(component: "shop/cart") { deployment } none: policyViolations(environment: "staging") { deployment } }"#,
            json!({}),
        )
        .unwrap();
    assert_eq!(
        by_component["policyViolations"].as_array().unwrap().len(),
        1
    );
    assert_eq!(by_component["none"], json!([]));
    let alice = token(&server, "alice", "approve");
    let (st, v) = server
        .graphql_as(
            Some(&alice),
            r#"mutation { approve(component: "shop/cart", version: "1.0.0", environment: "prod",
                 comment: "reviewed the change") { approver decision environment } }"#,
            json!({}),
        )
        .unwrap();
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        v["data"]["approve"],
        json!({"approver": "alice", "decision": "approved", "environment": "prod"})
    );
    server.wait_graph_current().unwrap();
    let (code, _, err) = check_prod(&server, &deployer);
    assert_eq!(code, 5, "{err}");
    assert!(!err.contains("needs an approval"), "{err}");
    assert!(
        err.contains("unsuppressed critical vulnerability GHSA-jfh8-c2jp-5v3q"),
        "{err}"
    );

    // 4. The owning team states the image is not affected: nothing denies any more.
    let (st, v) = server
        .graphql_as(
            Some(CATALOG_TOKEN),
            r#"mutation($d: String!) { recordVexStatement(vulnerability: "CVE-2021-44228",
                 image: $d, status: NOT_AFFECTED, justification: "vulnerable_code_not_in_execute_path") }"#,
            json!({"d": digest}),
        )
        .unwrap();
    assert_eq!(st, 200, "{v}");
    assert!(v["errors"].is_null(), "{v}");
    server.wait_graph_current().unwrap();
    let (code, out, err) = check_prod(&server, &deployer);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!(
            "allowed: shop/cart@1.0.0 to prod-eu-1/shop (policy set {first_set})"
        )),
        "{out}"
    );
    // The checks recorded nothing; the two deploys, the violation, the two approvals and
    // the statement did.
    assert_eq!(events_but_cursors(&server), events_before + 6);
    let a = server
        .query(
            r#"{ approvals(component: "shop/cart", version: "1.0.0", environment: "prod") { approver decision comment } }"#,
            json!({}),
        )
        .unwrap();
    assert_eq!(
        a["approvals"],
        json!([
            {"approver": "ci-bot", "decision": "approved", "comment": "lgtm (mine)"},
            {"approver": "alice", "decision": "approved", "comment": "reviewed the change"},
        ])
    );

    // 5. Bad input: an unknown version, a missing scope.
    let (st, v) = server
        .graphql_as(
            Some(&alice),
            r#"mutation { approve(component: "shop/cart", version: "9.9.9", environment: "prod") { approver } }"#,
            json!({}),
        )
        .unwrap();
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        v["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{v}"
    );
    assert_eq!(v["errors"][0]["extensions"]["field"], "version", "{v}");
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("9.9.9"),
        "{v}"
    );
    for t in [INGEST_TOKEN, CATALOG_TOKEN] {
        let (st, v) = server
            .graphql_as(
                Some(t),
                r#"mutation { reject(component: "shop/cart", version: "1.0.0", environment: "prod") { approver } }"#,
                json!({}),
            )
            .unwrap();
        assert_eq!(st, 403, "{v}");
        assert!(
            v["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("approve scope"),
            "{v}"
        );
    }
    // Admin implies approve.
    let (st, v) = server
        .graphql_as(
            Some(ADMIN_TOKEN),
            r#"mutation { reject(component: "shop/cart", version: "1.0.0", environment: "qa") { decision } }"#,
            json!({}),
        )
        .unwrap();
    assert_eq!(
        (st, &v["data"]["reject"]["decision"]),
        (200, &json!("rejected")),
        "{v}"
    );

    // 6. A policy that runs too long is stopped by the budget, and denies.
    let v = server.query(CHECK, json!({"e": "slow"})).unwrap()["deploymentCheck"].clone();
    assert_eq!(v["allowed"], false, "{v}");
    let r = reasons(&v);
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(
        r[0].starts_with("catalog.slow: evaluation failed, so the deployment is denied:"),
        "{r:?}"
    );
    assert!(r[0].contains("execution exceeded time limit"), "{r:?}");

    // 7. A file that does not compile is refused with its file and line; the set in force
    // stays, and still judges.
    write(
        policies.path(),
        "broken.rego",
        "package catalog.broken\n\nimport rego.v1\n\ndeny contains msg if {\n\tmsg := \n}\n",
    );
    let p = server
        .wait_for("the broken set refused", WAIT, || {
            let p = server.query(POLICIES, json!({}))?["policies"].clone();
            Ok((!p["lastError"].is_null()).then_some(p))
        })
        .unwrap();
    assert_eq!(p["lastError"]["file"], "broken.rego", "{p}");
    let message = p["lastError"]["message"].as_str().unwrap();
    assert!(message.contains("broken.rego:6:9"), "{message}");
    assert_eq!(p["inForce"]["digest"], first_set.as_str());
    let v = server.query(CHECK, json!({"e": "prod"})).unwrap()["deploymentCheck"].clone();
    assert_eq!(
        (v["allowed"].clone(), v["policySet"].clone()),
        (json!(true), json!(first_set))
    );

    // 8. Fixed: the new set is put in force and recorded; the history keeps the first.
    write(
        policies.path(),
        "broken.rego",
        "package catalog.broken\n\nimport rego.v1\n\ndeny contains \"frozen\" if input.deployment.environment == \"prod\"\n",
    );
    let p = server
        .wait_for("the fixed set in force", WAIT, || {
            let p = server.query(POLICIES, json!({}))?["policies"].clone();
            Ok((p["inForce"]["digest"] != first_set.as_str()).then_some(p))
        })
        .unwrap();
    assert!(p["lastError"].is_null(), "{p}");
    let second_set = p["inForce"]["digest"].as_str().unwrap().to_string();
    assert_eq!(
        p["history"],
        json!([{"digest": second_set}, {"digest": first_set}])
    );
    let v = server.query(CHECK, json!({"e": "prod"})).unwrap()["deploymentCheck"].clone();
    assert_eq!(reasons(&v), ["catalog.broken: frozen"]);

    // 9. A restart on the same directory records nothing new and judges the same.
    let loaded = |s: &CatalogServer| {
        s.query(
            r#"{ events(kind: "policy.loaded", first: 10) { totalCount } }"#,
            json!({}),
        )
        .unwrap()["events"]["totalCount"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(loaded(&server), 2);
    let server = server.restart().unwrap();
    assert_eq!(loaded(&server), 2);
    let v = server.query(CHECK, json!({"e": "prod"})).unwrap()["deploymentCheck"].clone();
    assert_eq!(reasons(&v), ["catalog.broken: frozen"]);
    assert_eq!(v["policySet"], second_set.as_str());
    drop(registry);
}

/// A kubectl-shaped pod list (`kubectl get pods -o json`) of `cluster`'s shop namespace:
/// the cart Deployment's pod of ReplicaSet `hash`, running `image` (`digest`).
fn pods(host: &str, hash: &str, tag: &str, digest: &str) -> Vec<u8> {
    json!({"apiVersion": "v1", "kind": "List", "items": [{
        "metadata": {"name": format!("cart-{hash}-jd8s2"), "namespace": "shop",
            "labels": {"pod-template-hash": hash},
            "ownerReferences": [{"kind": "ReplicaSet", "name": format!("cart-{hash}"), "controller": true}]},
        "spec": {"containers": [{"name": "cart", "image": format!("{host}/shop/cart:{tag}")}]},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": "cart", "ready": true,
                "image": format!("{host}/shop/cart:{tag}"),
                "imageID": format!("{host}/shop/cart@{digest}")}]}
    }]})
    .to_string()
    .into_bytes()
}

const DRIFT: &str = r#"query($c: String, $e: String, $comp: String) {
  drift(cluster: $c, environment: $e, component: $comp) {
    environment cluster namespace workload component version digest source until } }"#;

#[test]
fn a_snapshot_showing_an_unrecorded_version_raises_drift_that_stays_in_history() {
    let (registry, server) = CatalogServer::with_registry(ServerOpts::default()).unwrap();
    let host = registry.host();
    let digests = push_cart(&registry, &server, &["1.0.0", "1.0.1"]);
    // The pipeline deploys 1.0.0 to prod-eu-1/shop/cart and records it.
    let (code, _, err) = deploy_cart(&server, INGEST_TOKEN, "prod-eu-1", "prod", &[]);
    assert_eq!(code, 0, "{err}");
    // Each snapshot is a new view of the cluster (a rollout makes a new ReplicaSet); the
    // same body twice would be one snapshot, replayed.
    let snapshot = |hash: &str, tag: &str, digest: &str| {
        accepted(
            &server,
            "/hooks/kubernetes?cluster=prod-eu-1",
            "application/json",
            INGEST_TOKEN,
            pods(&host, hash, tag, digest),
        );
        server.wait_graph_current().unwrap();
    };
    let drift = |vars: Value| -> Vec<Value> {
        server.query(DRIFT, vars).unwrap()["drift"]
            .as_array()
            .unwrap()
            .clone()
    };
    // The cluster shows what the pipeline recorded: no drift.
    snapshot("6f7c9d8b77", "1.0.0", &digests[0]);
    assert_eq!(drift(json!({"c": "prod-eu-1"})), Vec::<Value>::new());
    // Someone ran 1.0.1 by hand: the next snapshot shows it, and nobody recorded it.
    snapshot("7a8b9c0d11", "1.0.1", &digests[1]);
    let flags = drift(json!({"c": "prod-eu-1"}));
    assert_eq!(
        flags,
        [
            json!({"environment": "prod", "cluster": "prod-eu-1", "namespace": "shop",
                "workload": "cart", "component": "shop/cart", "version": "1.0.1",
                "digest": digests[1], "source": "kubernetes", "until": null})
        ]
    );
    assert_eq!(drift(json!({"e": "prod", "comp": "shop/cart"})), flags);
    assert_eq!(drift(json!({"e": "staging"})), Vec::<Value>::new());
    assert_eq!(drift(json!({"comp": "shop/web"})), Vec::<Value>::new());
    // Rolled back to the recorded version: the flag stays, with when it ended.
    snapshot("5e6f7a8b99", "1.0.0", &digests[0]);
    let flags = drift(json!({"c": "prod-eu-1"}));
    assert_eq!(flags.len(), 1, "{flags:?}");
    assert_eq!(flags[0]["version"], "1.0.1");
    assert!(flags[0]["until"].is_string(), "{flags:?}");
}

/// Denies shop/cart anywhere without an approval; in namespace `burst` it also works through
/// a million iterations first (without building a collection), so a burst of deployments
/// keeps the judge busy.
const JUDGE_POLICY: &str = r#"package catalog.judge

import rego.v1

deny contains msg if {
	input.deployment.component == "shop/cart"
	count(input.approvals) == 0
	msg := sprintf("%s %s in %s/%s has no approval", [input.deployment.component, input.deployment.version, input.deployment.cluster, input.deployment.workload])
}

deny contains "never" if {
	input.deployment.namespace == "burst"
	not busy
}

busy if {
	every i in numbers.range(1, 1000) {
		every j in numbers.range(1, 1000) {
			i + j > 0
		}
	}
}
"#;

const VIOLATIONS: &str =
    r#"{ policyViolations { deployment cluster namespace workload version } }"#;

#[test]
fn each_deployment_is_judged_once_snapshots_too_and_a_crash_loses_no_judgement() {
    let policies = TempDir::new("policies").unwrap();
    write(policies.path(), "judge.rego", JUDGE_POLICY);
    let dir = policies.path().display().to_string();
    let (registry, server) = CatalogServer::with_registry(ServerOpts {
        extra_args: ["--policy-dir", &dir, "--policy-budget", "30s"]
            .map(String::from)
            .to_vec(),
        ..Default::default()
    })
    .unwrap();
    let host = registry.host();
    let digests = push_cart(&registry, &server, &["1.0.0", "1.0.1"]);
    let violations = |server: &CatalogServer| -> Vec<Value> {
        server.query(VIOLATIONS, json!({})).unwrap()["policyViolations"]
            .as_array()
            .unwrap()
            .clone()
    };
    let wait_violations = |server: &CatalogServer, n: usize| -> Vec<Value> {
        server
            .wait_for(&format!("{n} violation(s)"), WAIT, || {
                let v = server.query(VIOLATIONS, json!({}))?["policyViolations"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                Ok((v.len() >= n).then_some(v))
            })
            .unwrap()
    };
    let deploy = |server: &CatalogServer, id: &str, ns: &str, workload: &str, version: &str| {
        let body = json!({"id": id, "cluster": "prod-eu-1", "namespace": ns,
            "workload": workload, "component": "shop/cart", "version": version});
        accepted(
            server,
            "/hooks/deployments",
            "application/json",
            INGEST_TOKEN,
            body.to_string().into_bytes(),
        );
    };

    // 1. A kubectl snapshot's workload is judged like a report; the violation names it.
    accepted(
        &server,
        "/hooks/kubernetes?cluster=snap-1",
        "application/json",
        INGEST_TOKEN,
        pods(&host, "6f7c9d8b77", "1.0.0", &digests[0]),
    );
    let v = wait_violations(&server, 1);
    assert_eq!(
        (&v[0]["cluster"], &v[0]["workload"], &v[0]["version"]),
        (&json!("snap-1"), &json!("cart"), &json!("1.0.0")),
        "{v:?}"
    );
    // 2. A report that starts a deployment is judged; status reports on it are not judged
    // again, and a new version is a new deployment. A later deployment is judged after the
    // earlier ones (the judge follows the log), so its violation means they were judged.
    deploy(&server, "d1", "shop", "cart", "1.0.0");
    accepted(
        &server,
        "/hooks/kubernetes?cluster=snap-1",
        "application/json",
        INGEST_TOKEN,
        pods(&host, "7a8b9c0d11", "1.0.0", &digests[0]),
    );
    deploy(&server, "d2", "shop", "cart", "1.0.0");
    deploy(&server, "d3", "shop", "cart", "1.0.1");
    let v = wait_violations(&server, 3);
    let mut judged: Vec<String> = v
        .iter()
        .map(|v| format!("{} {}", v["deployment"].as_str().unwrap(), v["version"]))
        .collect();
    judged.sort();
    assert_eq!(judged.len(), 3, "{judged:?}");
    assert!(judged[0].starts_with("deployments:d1 "), "{judged:?}");
    assert!(judged[1].starts_with("deployments:d3 "), "{judged:?}");

    // 3. A burst the judge lags behind (each judgement takes a while), then SIGKILL: the
    // restarted catalog resumes where the judge got to, and judges every one, once.
    let burst: Vec<Value> = (0..12)
        .map(|i| {
            json!({"id": format!("b{i}"), "cluster": "prod-eu-1", "namespace": "burst",
                "workload": format!("w{i}"), "component": "shop/cart", "version": "1.0.1"})
        })
        .collect();
    accepted(
        &server,
        "/hooks/deployments",
        "application/json",
        INGEST_TOKEN,
        json!({"deployments": burst}).to_string().into_bytes(),
    );
    server.wait_graph_current().unwrap();
    let before_crash = violations(&server).len();
    assert!(
        before_crash < 15,
        "the judge should still be busy: {before_crash}"
    );
    let server = server.restart().unwrap();
    let v = wait_violations(&server, 15);
    let mut keys: Vec<String> = v
        .iter()
        .map(|v| format!("{}/{}", v["deployment"], v["workload"]))
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 15, "each judged once: {keys:?}");
    // Where the judge got to is in the log, and nothing more is found after it.
    let cursor = server
        .wait_for("the judge's cursor recorded", WAIT, || {
            let r = server.query(
                r#"{ events(kind: "policy.judged", last: 1) { nodes { summary } } }"#,
                json!({}),
            )?;
            Ok(r["events"]["nodes"][0]["summary"]
                .as_str()
                .map(String::from))
        })
        .unwrap();
    assert!(cursor.contains("judged"), "{cursor}");
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(violations(&server).len(), 15);
}

/// Python's `icalendar` (PyPI), the reference parser the feed is read with.
const ICALENDAR: &str = "icalendar==6.1.0";

fn icalendar_python() -> std::path::PathBuf {
    catalog_tests::python::venv_python("icalendar-venv", ICALENDAR)
}

/// The feed as Python's icalendar reads it.
fn parse_ics(ics: &str) -> Value {
    const SCRIPT: &str = r#"
import json, sys, icalendar
cal = icalendar.Calendar.from_ical(sys.stdin.read())
events = []
for ev in cal.walk("VEVENT"):
    events.append({
        "uid": str(ev["UID"]),
        "summary": str(ev["SUMMARY"]),
        "start": ev.decoded("DTSTART").isoformat(),
        "end": ev.decoded("DTEND").isoformat(),
        "categories": [str(c) for c in ev.get("CATEGORIES").cats],
        "dtstamp": "DTSTAMP" in ev,
    })
print(json.dumps({"version": str(cal["VERSION"]), "prodid": "PRODID" in cal, "events": events}))
"#;
    let out = catalog_tests::python::run_with_stdin(
        &icalendar_python(),
        &["-c".as_ref(), SCRIPT.as_ref()],
        ics.as_bytes(),
    );
    assert!(
        out.status.success(),
        "icalendar refused the feed: {}\n{ics}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Prod deploys only inside a release window (once prod has any) and never in a freeze.
const CALENDAR_POLICY: &str = r#"package catalog.calendar

import rego.v1

prod if input.deployment.environment == "prod"

deny contains "prod is frozen" if {
	prod
	input.calendar.in_freeze
}

deny contains "outside prod's release windows" if {
	prod
	input.calendar.windows_defined
	not input.calendar.in_window
}
"#;

const SCHEDULE: &str = r#"mutation($start: DateTime!, $end: DateTime!, $summary: String!, $freeze: Boolean = false, $id: String) {
  scheduleReleaseWindow(environment: "prod", start: $start, end: $end, summary: $summary,
                        freeze: $freeze, id: $id) { id kind start end summary actor } }"#;

#[test]
fn release_calendars_are_an_icalendar_feed_and_policies_see_them() {
    let policies = TempDir::new("policies").unwrap();
    write(policies.path(), "calendar.rego", CALENDAR_POLICY);
    let dir = policies.path().display().to_string();
    let (registry, server) = CatalogServer::with_registry(ServerOpts {
        extra_args: ["--policy-dir", &dir].map(String::from).to_vec(),
        ..Default::default()
    })
    .unwrap();
    let layout = Layout::new().unwrap();
    layout.build("cart", &ImageSpec::new("cart")).unwrap();
    push(&layout, "cart", &registry.host(), "shop/cart", "1.0.0").unwrap();
    server
        .wait_for("the version registered", WAIT, || {
            let r = server.query(
                r#"{ component(name: "shop/cart") { versions(first: 5) { totalCount } } }"#,
                json!({}),
            )?;
            Ok((r["component"]["versions"]["totalCount"] == 1).then_some(()))
        })
        .unwrap();
    let rm = token(&server, "release-manager", "approve");
    let verdict = || -> Vec<String> {
        let v = server.query(CHECK, json!({"e": "prod"})).unwrap()["deploymentCheck"].clone();
        reasons(&v)
    };
    let schedule = |vars: Value| -> Value {
        let (st, v) = server.graphql_as(Some(&rm), SCHEDULE, vars).unwrap();
        assert_eq!(st, 200, "{v}");
        assert!(v["errors"].is_null(), "{v}");
        v["data"]["scheduleReleaseWindow"].clone()
    };
    // Whole seconds: the feed carries no fractions.
    let now = chrono::DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
    let t = |hours: i64| (now + TimeDelta::hours(hours)).to_rfc3339_opts(SecondsFormat::Secs, true);

    // No calendar: nothing to say.
    assert_eq!(verdict(), Vec::<String>::new());
    // A window tomorrow: now is outside prod's windows.
    schedule(json!({"start": t(24), "end": t(26), "summary": "Tuesday window"}));
    assert_eq!(
        verdict(),
        ["catalog.calendar: outside prod's release windows"]
    );
    // A window now: allowed.
    let window =
        schedule(json!({"start": t(-1), "end": t(1), "summary": "hotfix window", "id": "hotfix"}));
    assert_eq!(window["kind"], "release-window");
    assert_eq!(window["actor"], "release-manager");
    assert_eq!(verdict(), Vec::<String>::new());
    // A freeze now, its summary full of the characters iCalendar escapes: denied.
    let freeze = schedule(json!({"start": t(-2), "end": t(48), "freeze": true,
        "summary": "Year-end freeze; payments, checkout \\ all"}));
    assert_eq!(freeze["kind"], "freeze");
    assert_eq!(verdict(), ["catalog.calendar: prod is frozen"]);
    // A planned release of a version the catalog knows.
    let (st, v) = server
        .graphql_as(
            Some(&rm),
            r#"mutation($s: DateTime!) { planRelease(environment: "prod", component: "shop/cart",
                 version: "1.0.0", start: $s) { id kind summary end } }"#,
            json!({"s": t(30)}),
        )
        .unwrap();
    assert_eq!(st, 200, "{v}");
    let planned = v["data"]["planRelease"].clone();
    assert_eq!(planned["summary"], "release shop/cart 1.0.0");
    let instant = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    assert_eq!(instant(&planned["end"]), instant(&json!(t(31))));

    // The feed, read by Python's icalendar, holds exactly the calendar GraphQL lists.
    let listed = server
        .query(
            r#"{ calendar(environment: "prod") { id kind start end summary } }"#,
            json!({}),
        )
        .unwrap()["calendar"]
        .clone();
    assert_eq!(listed.as_array().unwrap().len(), 4, "{listed}");
    let resp = reqwest::blocking::get(server.url("/calendar/prod.ics")).unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/calendar"));
    let ics = resp.text().unwrap();
    let parsed = parse_ics(&ics);
    assert_eq!(parsed["version"], "2.0");
    assert_eq!(parsed["prodid"], true);
    let want: Vec<Value> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let time = |k: &str| {
                chrono::DateTime::parse_from_rfc3339(e[k].as_str().unwrap())
                    .unwrap()
                    .to_rfc3339()
            };
            json!({"uid": format!("{}@catalog", e["id"].as_str().unwrap()),
                   "summary": e["summary"], "start": time("start"), "end": time("end"),
                   "categories": [e["kind"]], "dtstamp": true})
        })
        .collect();
    let mut got = parsed["events"].as_array().unwrap().clone();
    got.sort_by_key(|e| e["uid"].as_str().unwrap().to_string());
    let mut want = want;
    want.sort_by_key(|e| e["uid"].as_str().unwrap().to_string());
    assert_eq!(got, want);
    assert!(
        got.iter()
            .any(|e| e["summary"] == "Year-end freeze; payments, checkout \\ all"),
        "{got:?}"
    );
    // Another environment's feed is empty, and still a calendar.
    let other = reqwest::blocking::get(server.url("/calendar/staging.ics"))
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(parse_ics(&other)["events"], json!([]));

    // The freeze lifted: allowed again, and the feed no longer has it.
    let (st, v) = server
        .graphql_as(
            Some(&rm),
            "mutation($id: String!) { removeCalendarEntry(id: $id) }",
            json!({"id": freeze["id"]}),
        )
        .unwrap();
    assert_eq!(
        (st, &v["data"]["removeCalendarEntry"]),
        (200, &json!(true)),
        "{v}"
    );
    assert_eq!(verdict(), Vec::<String>::new());
    let ics = reqwest::blocking::get(server.url("/calendar/prod.ics"))
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(parse_ics(&ics)["events"].as_array().unwrap().len(), 3);

    // Bad input, each refused by field; a token without the approve scope gets 403.
    for (vars, field) in [
        (
            json!({"start": t(2), "end": t(1), "summary": "backwards"}),
            "end",
        ),
        (
            json!({"start": t(1), "end": t(10_000), "summary": "too long"}),
            "end",
        ),
        (
            json!({"start": t(1), "end": t(2), "summary": "line\nbreak"}),
            "summary",
        ),
        (
            json!({"start": t(1), "end": t(2), "summary": "ok", "id": "no spaces"}),
            "id",
        ),
    ] {
        let (st, v) = server.graphql_as(Some(&rm), SCHEDULE, vars).unwrap();
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["errors"][0]["extensions"]["field"], field, "{v}");
    }
    let (st, v) = server
        .graphql_as(
            Some(&rm),
            r#"mutation($s: DateTime!) { planRelease(environment: "prod", component: "shop/cart",
                 version: "9.9.9", start: $s) { id } }"#,
            json!({"s": t(30)}),
        )
        .unwrap();
    assert_eq!(
        (st, &v["errors"][0]["extensions"]["field"]),
        (200, &json!("version")),
        "{v}"
    );
    let (st, v) = server
        .graphql_as(
            Some(CATALOG_TOKEN),
            SCHEDULE,
            json!({"start": t(1), "end": t(2), "summary": "sneaky"}),
        )
        .unwrap();
    assert_eq!(st, 403, "{v}");
    assert_eq!(
        server
            .query(r#"{ calendar(environment: "prod") { id } }"#, json!({}))
            .unwrap()["calendar"]
            .as_array()
            .unwrap()
            .len(),
        3,
        "nothing refused was written"
    );
}

/// The dashboard's Releases view, in Chromium (`tests/browser/releases.mjs`): the policy set
/// in force and a refused one, a calendar whose summary is hostile markup, a deployment that
/// went out against policy, and drift.
#[test]
fn the_dashboard_shows_policies_calendar_violations_and_drift() {
    let browser = super::ui::prerequisites();
    let policies = TempDir::new("policies").unwrap();
    write(policies.path(), "prod-promotion.rego", PROD_POLICY);
    let dir = policies.path().display().to_string();
    let (registry, server) = CatalogServer::with_registry(ServerOpts {
        extra_args: ["--policy-dir", &dir, "--policy-poll", "200ms"]
            .map(String::from)
            .to_vec(),
        ..Default::default()
    })
    .unwrap();
    let host = registry.host();
    let digests = push_cart(&registry, &server, &["1.0.0", "1.0.1"]);
    let rm = token(&server, "release-manager", "approve");
    let now = Utc::now();
    for (start, end, summary, freeze) in [
        (
            now - TimeDelta::hours(1),
            now + TimeDelta::hours(1),
            "<img src=x onerror=window.pwned=1>",
            false,
        ),
        (
            now + TimeDelta::days(7),
            now + TimeDelta::days(9),
            "Year-end freeze",
            true,
        ),
    ] {
        let (st, v) = server
            .graphql_as(
                Some(&rm),
                SCHEDULE,
                json!({"start": start.to_rfc3339(), "end": end.to_rfc3339(),
                       "summary": summary, "freeze": freeze}),
            )
            .unwrap();
        assert!(st == 200 && v["errors"].is_null(), "{v}");
    }
    // An approval for staging, its comment hostile markup.
    let (st, v) = server
        .graphql_as(
            Some(&rm),
            r#"mutation { approve(component: "shop/cart", version: "1.0.0", environment: "staging",
                 comment: "<b>looks fine</b>") { approver } }"#,
            json!({}),
        )
        .unwrap();
    assert!(st == 200 && v["errors"].is_null(), "{v}");
    // A deployment that goes out against policy (no approval, not proven in staging).
    let deployer = token(&server, "ci-bot", "ingest");
    let (code, _, err) = deploy_cart(&server, &deployer, "prod-eu-1", "prod", &[]);
    assert_eq!(code, 0, "{err}");
    server
        .wait_for("the violation recorded", WAIT, || {
            let v = server.query("{ policyViolations { version } }", json!({}))?;
            Ok((v["policyViolations"]
                .as_array()
                .is_some_and(|a| a.len() == 1))
            .then_some(()))
        })
        .unwrap();
    // Drift: the cluster runs 1.0.1, which no pipeline recorded.
    accepted(
        &server,
        "/hooks/kubernetes?cluster=prod-eu-1",
        "application/json",
        INGEST_TOKEN,
        pods(&host, "7a8b9c0d11", "1.0.1", &digests[1]),
    );
    // A newer policy set that does not compile.
    write(
        policies.path(),
        "broken.rego",
        "package catalog.broken\n\nimport rego.v1\n\ndeny contains msg if {\n\tmsg := \n}\n",
    );
    server
        .wait_for("drift and the refusal", WAIT, || {
            let d = server.query(
                "{ drift { version } policies { lastError { file } } policyViolations { version } }",
                json!({}),
            )?;
            // The snapshot's 1.0.1 is judged too: a second violation.
            Ok((d["drift"].as_array().is_some_and(|a| a.len() == 1)
                && d["policyViolations"].as_array().is_some_and(|a| a.len() == 2)
                && !d["policies"]["lastError"].is_null())
            .then_some(()))
        })
        .unwrap();
    let dir = TempDir::new("releases-browser").unwrap();
    let seed = dir.path().join("seed.json");
    std::fs::write(&seed, json!({"catalog": server.url("")}).to_string()).unwrap();
    let run = super::ui::run_browser(&browser, "releases.mjs", &[("SEED", &seed)]);
    assert!(
        run.ok,
        "node releases.mjs failed ({}):\n{}\n--- catalog log:\n{}",
        run.status,
        run.output,
        server.log()
    );
}
