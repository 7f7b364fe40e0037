//! Notifications end to end, with a receiver the test runs and a real registry, catalog and
//! SQLite file:
//! - an advisory that starts matching what payments runs in prod pages payments once on each
//!   of its endpoints (a signed webhook, Slack, PagerDuty), each body checked by a reference:
//!   Standard Webhooks' library verifies the signature, jsonschema validates PagerDuty's and
//!   Slack's bodies against their documented formats;
//! - staging's match takes the default route, to an endpoint that answers 500 forever: it is
//!   parked after its attempts, visible in GraphQL and `catalog notify outbox`, and the
//!   others were delivered at their first attempt meanwhile;
//! - once nothing affected runs in prod, PagerDuty gets a `resolve` with the trigger's
//!   `dedup_key`;
//! - a delivery cut by SIGKILL is sent again after the restart under the same key, and the
//!   receiver sees one logical notification.

use super::deployments::catalog_cli;
use super::governance::{accepted, LOG4J, LOG4SHELL};
use catalog_tests::receiver::{Answer, Receiver};
use catalog_tests::registry::{push, ImageSpec, Layout, TempDir};
use catalog_tests::server::{ADMIN_TOKEN, CATALOG_TOKEN, INGEST_TOKEN};
use catalog_tests::{CatalogServer, ServerOpts};
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(60);
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// PagerDuty integration keys are 32 characters.
const ROUTING_KEY: &str = "R0UT1NGKEY0123456789abcdef012345";
const GHSA: &str = "GHSA-jfh8-c2jp-5v3q";

/// Writes the endpoint configuration (and its secret files) into `dir`.
fn config(dir: &Path, receiver: &Receiver, attempts: u32) -> String {
    std::fs::write(dir.join("hook.key"), format!("{SECRET}\n")).unwrap();
    // Each team's own PagerDuty service: its integration key, by team.
    std::fs::write(
        dir.join("pd-teams.yaml"),
        format!("payments: {ROUTING_KEY}\n"),
    )
    .unwrap();
    std::fs::write(dir.join("slack.url"), receiver.url("/slack")).unwrap();
    let path = dir.join("notify.yaml");
    std::fs::write(
        &path,
        format!(
            "retry: {{attempts: {attempts}, first: 200ms, max: 1s, timeout: 3s}}\n\
             endpoints:\n\
             \x20 - {{name: hook, kind: webhook, url: '{}', secret_file: hook.key}}\n\
             \x20 - {{name: slack, kind: slack, url_file: slack.url}}\n\
             \x20 - {{name: pd, kind: pagerduty, url: '{}', routing_keys_file: pd-teams.yaml}}\n\
             \x20 - {{name: dead, kind: webhook, url: '{}', secret_file: hook.key}}\n",
            receiver.url("/hook"),
            receiver.url("/pd"),
            receiver.url("/dead"),
        ),
    )
    .unwrap();
    path.display().to_string()
}

fn gql(server: &CatalogServer, token: &str, q: &str, vars: Value) -> Value {
    let (st, v) = server.graphql_as(Some(token), q, vars).unwrap();
    assert_eq!(st, 200, "{v}");
    v
}

const RULE: &str = "mutation($team: String, $environment: String, $endpoints: [String!]!, \
    $on: [NotificationTrigger!]!, $min: NotificationSeverity) { setNotificationRule(team: $team, \
    environment: $environment, endpoints: $endpoints, on: $on, minSeverity: $min) { endpoints } }";

/// Sets the any-team, any-environment rule (catalog scope).
fn rule(server: &CatalogServer, endpoints: &[&str], on: &[&str]) {
    let v = gql(
        server,
        CATALOG_TOKEN,
        RULE,
        json!({"endpoints": endpoints, "on": on}),
    );
    assert!(v["errors"].is_null(), "{v}");
}

const OUTBOX: &str = "query($state: OutboxEntryState, $endpoint: String) { \
    notificationOutbox(state: $state, endpoint: $endpoint) { id key endpoint state attempts \
    lastError action dedupKey team environment } }";

fn deploy(server: &CatalogServer, env: &str, cluster: &str, image: Option<&str>) {
    let mut d = json!({
        "environment": env, "cluster": cluster, "namespace": "shop", "workload": "cart",
        "status": "healthy", "source": "api",
    });
    match image {
        Some(i) => d["images"] = json!([{"container": "cart", "image": i}]),
        None => d["status"] = json!("removed"),
    }
    post_deployment(server, &d);
}

fn post_deployment(server: &CatalogServer, d: &Value) {
    accepted(
        server,
        "/hooks/deployments",
        "application/json",
        INGEST_TOKEN,
        d.to_string().into_bytes(),
    );
}

/// Checks the webhooks' signatures with Standard Webhooks' own library, and PagerDuty's and
/// Slack's bodies against their documented schemas.
fn verify_with_references(
    webhooks: &[catalog_tests::receiver::Received],
    pd: &[Value],
    slack: &[Value],
) {
    let python = catalog_tests::python::venv_python(
        "notify-refs",
        "standardwebhooks==1.3.0 jsonschema==4.26.0",
    );
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/notify");
    let job = json!({
        "secret": SECRET,
        "webhooks": webhooks.iter().map(|w| json!({
            "headers": w.headers,
            "body": String::from_utf8_lossy(&w.body),
        })).collect::<Vec<_>>(),
        "pagerduty": pd,
        "slack": slack,
        "schemas": {
            "pagerduty": fixtures.join("pagerduty-events-v2.schema.json"),
            "slack": fixtures.join("slack-incoming-webhook.schema.json"),
        },
    });
    let script = fixtures.join("verify.py");
    let out = catalog_tests::python::run_with_stdin(
        &python,
        &[script.as_os_str()],
        job.to_string().as_bytes(),
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "the references refuse: {said}");
    let checks = webhooks.len() + pd.len() + slack.len();
    assert_eq!(said.lines().count(), checks, "{said}");
}

#[test]
fn an_advisory_matching_prod_pages_its_owner_once_and_resolves_when_nothing_affected_runs() {
    let receiver = Receiver::start().unwrap();
    receiver.answer("/dead", Answer::Status(500));
    receiver.answer("/pd", Answer::Status(202));
    let dir = TempDir::new("notify-config").unwrap();
    let cfg = config(dir.path(), &receiver, 3);
    let (registry, server) = CatalogServer::with_registry(ServerOpts {
        extra_args: vec![
            "--notify-config".into(),
            cfg,
            "--public-url".into(),
            "http://catalog.example:8080".into(),
        ],
        ..Default::default()
    })
    .unwrap();
    let host = registry.host();
    let layout = Layout::new().unwrap();
    layout
        .build(
            "cart",
            &ImageSpec::new("cart").label("dev.catalog.owner", "payments"),
        )
        .unwrap();
    let digest = push(&layout, "cart", &host, "shop/cart", "1.0.0").unwrap();
    server
        .wait_for("the image registered", WAIT, || {
            let r = server.query(
                "query($d: String!) { image(digest: $d) { digest } }",
                json!({"d": digest}),
            )?;
            Ok(r["image"]["digest"].is_string().then_some(()))
        })
        .unwrap();
    let sbom = json!({
        "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
        "components": [{"type": "library", "bom-ref": LOG4J, "name": "log4j-core",
                        "version": "2.14.1", "purl": LOG4J}]
    });
    accepted(
        &server,
        &format!("/hooks/sbom?image={digest}"),
        "application/vnd.cyclonedx+json",
        INGEST_TOKEN,
        sbom.to_string().into_bytes(),
    );
    gql(
        &server,
        CATALOG_TOKEN,
        "mutation { setTeamContacts(team: \"payments\", email: \"payments@example.com\", pager: \"PPAYMNT\") { name } }",
        json!({}),
    );

    // Rules: an unknown endpoint is refused, naming the field; nothing is recorded.
    let v = gql(
        &server,
        CATALOG_TOKEN,
        RULE,
        json!({"endpoints": ["nowhere"], "on": ["FAILURE"]}),
    );
    let err = v["errors"][0].to_string();
    assert!(
        err.contains("endpoints") && err.contains("\\\"nowhere\\\" is not a configured endpoint"),
        "{v}"
    );
    let v = gql(
        &server,
        CATALOG_TOKEN,
        RULE,
        json!({"endpoints": ["hook"], "on": ["FAILURE"]}).clone(),
    );
    assert!(v["errors"].is_null(), "{v}");
    let (st, v) = server
        .graphql_as(
            Some(INGEST_TOKEN),
            RULE,
            json!({"endpoints": ["hook"], "on": ["FAILURE"]}),
        )
        .unwrap();
    assert_eq!(st, 403, "the catalog scope sets rules: {v}");
    // Payments hears prod's high and critical advisories on three endpoints (set with the
    // CLI); everything else takes the default route, to the endpoint that always fails.
    let (code, out, err) = catalog_cli(
        &server.url(""),
        CATALOG_TOKEN,
        &["notify", "rule", "set"],
        &[
            "--team",
            "payments",
            "--environment",
            "prod",
            "--endpoint",
            "hook,slack,pd",
            "--on",
            "vulnerability",
            "--min-severity",
            "high",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("team=payments environment=prod on=vulnerability endpoints=hook,pd,slack min-severity=high"), "{out}");
    rule(&server, &["dead"], &["VULNERABILITY", "FAILURE"]);

    let image = format!("{host}/shop/cart@{digest}");
    deploy(&server, "prod", "prod-eu-1", Some(&image));
    deploy(&server, "staging", "staging-1", Some(&image));
    server
        .wait_for("both deployments", WAIT, || {
            let r = server.query(
                "query($d: String!) { whereIs(image: $d) { nodes { cluster } } }",
                json!({"d": digest}),
            )?;
            Ok((r["whereIs"]["nodes"].as_array().map_or(0, Vec::len) == 2).then_some(()))
        })
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(receiver.at("/hook").is_empty(), "nothing is vulnerable yet");

    // The advisory.
    let t0 = Instant::now();
    accepted(
        &server,
        "/hooks/osv",
        "application/json",
        CATALOG_TOKEN,
        LOG4SHELL.as_bytes().to_vec(),
    );
    let hook = receiver.wait("/hook", 1, WAIT).unwrap();
    let pd = receiver.wait("/pd", 1, WAIT).unwrap();
    let slack = receiver.wait("/slack", 1, WAIT).unwrap();
    eprintln!(
        "advisory to receiver: webhook {:?}, pagerduty {:?}, slack {:?}",
        hook[0].at - t0,
        pd[0].at - t0,
        slack[0].at - t0
    );
    // Staging's match goes to `dead`: three attempts, then parked.
    server
        .wait_for("the dead endpoint's row parked", WAIT, || {
            let v = gql(&server, CATALOG_TOKEN, OUTBOX, json!({"state": "PARKED"}));
            Ok((v["data"]["notificationOutbox"]
                .as_array()
                .map_or(0, Vec::len)
                == 1)
                .then_some(v))
        })
        .map(|v| {
            let row = &v["data"]["notificationOutbox"][0];
            assert_eq!(row["endpoint"], "dead", "{v}");
            assert_eq!(row["attempts"], 3, "{v}");
            assert_eq!(row["environment"], "staging", "{v}");
            assert!(
                row["lastError"].as_str().unwrap().starts_with("HTTP 500"),
                "{v}"
            );
        })
        .unwrap();
    assert_eq!(receiver.at("/dead").len(), 3);
    // One logical notification each, delivered at the first attempt while `dead` failed.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(receiver.at("/hook").len(), 1);
    assert_eq!(receiver.at("/pd").len(), 1);
    assert_eq!(receiver.at("/slack").len(), 1);
    let v = gql(
        &server,
        CATALOG_TOKEN,
        OUTBOX,
        json!({"state": "DELIVERED"}),
    );
    let delivered = v["data"]["notificationOutbox"].as_array().unwrap();
    assert_eq!(delivered.len(), 3, "{v}");
    assert!(delivered.iter().all(|r| r["attempts"] == 1), "{v}");

    // What was said: the webhook, signed; its headers and body.
    let w = &hook[0];
    let n = w.json();
    let dedup = format!("vuln:{GHSA}:prod:payments");
    assert_eq!(w.headers["webhook-id"], n["key"].as_str().unwrap());
    assert_eq!(w.headers["idempotency-key"], n["key"].as_str().unwrap());
    assert_eq!(n["dedup_key"], dedup);
    assert_eq!(n["action"], "trigger");
    assert_eq!(n["trigger"], "vulnerability");
    assert_eq!(n["severity"], "critical");
    assert_eq!(n["environment"], "prod");
    assert_eq!(n["team"], "payments");
    assert_eq!(
        n["contacts"],
        json!({"email": "payments@example.com", "pager": "PPAYMNT"})
    );
    assert_eq!(n["affected_total"], 1);
    assert_eq!(
        n["affected"],
        json!([{"environment": "prod", "cluster": "prod-eu-1", "namespace": "shop",
                "workload": "cart", "component": "shop/cart", "version": "1.0.0"}])
    );
    assert_eq!(
        n["link"],
        format!("http://catalog.example:8080/vulnerabilities/{GHSA}")
    );
    let p = pd[0].json();
    assert_eq!(p["event_action"], "trigger");
    assert_eq!(p["routing_key"], ROUTING_KEY);
    assert_eq!(p["dedup_key"], dedup);
    assert_eq!(p["payload"]["severity"], "critical");
    assert_eq!(p["payload"]["source"], "prod");
    assert_eq!(p["payload"]["component"], "shop/cart");
    assert_eq!(p["payload"]["group"], "payments");
    let s = slack[0].json();
    assert!(s["text"].as_str().unwrap().starts_with(GHSA), "{s}");

    // A second prod cluster runs it too: the incident is open already, nothing is sent.
    // Removing the first leaves the second affected: still nothing.
    deploy(&server, "prod", "prod-eu-2", Some(&image));
    deploy(&server, "prod", "prod-eu-1", None);
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(receiver.at("/pd").len(), 1, "prod-eu-2 still runs it");
    assert_eq!(receiver.at("/hook").len(), 1);
    // Nothing affected runs in prod any more: PagerDuty resolves the incident it opened.
    deploy(&server, "prod", "prod-eu-2", None);
    let pd = receiver.wait("/pd", 2, WAIT).unwrap();
    let r = pd[1].json();
    assert_eq!(
        r,
        json!({"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": dedup})
    );
    let hook = receiver.wait("/hook", 2, WAIT).unwrap();
    assert_eq!(hook[1].json()["action"], "resolve");
    assert_eq!(hook[1].json()["dedup_key"], dedup);
    assert_ne!(hook[1].headers["webhook-id"], hook[0].headers["webhook-id"]);
    let slack = receiver.wait("/slack", 2, WAIT).unwrap();
    verify_with_references(
        &hook,
        &pd.iter().map(|r| r.json()).collect::<Vec<_>>(),
        &slack.iter().map(|r| r.json()).collect::<Vec<_>>(),
    );

    // The parked row: shown by the CLI, retried by an admin, parked again (it still fails).
    let (code, out, err) = catalog_cli(
        &server.url(""),
        CATALOG_TOKEN,
        &["notify", "outbox"],
        &["--state", "parked"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(
        out.contains("\tparked\tdead\t3 attempt(s)\t") && out.contains("HTTP 500"),
        "{out}"
    );
    let id: i64 = out.split('\t').next().unwrap().trim().parse().unwrap();
    let retry = |token| {
        catalog_cli(
            &server.url(""),
            token,
            &["notify", "retry"],
            &[&id.to_string()],
        )
    };
    let (code, _, err) = retry(CATALOG_TOKEN);
    assert_eq!(code, 3, "the admin scope retries: {err}");
    let (code, out, err) = retry(ADMIN_TOKEN);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("to dead is pending"), "{out}");
    receiver.wait("/dead", 6, WAIT).unwrap();
    // Replays change nothing: the same advisory again sends nothing.
    let (st, _) = server
        .post(
            "/hooks/osv",
            "application/json",
            Some(CATALOG_TOKEN),
            LOG4SHELL.as_bytes().to_vec(),
        )
        .unwrap();
    assert_eq!(st, 202);
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(receiver.at("/hook").len(), 2);
    assert_eq!(receiver.at("/pd").len(), 2);
    // /metrics counts them per endpoint and state (an alert can fire on parked ones).
    let m = reqwest::blocking::get(server.url("/metrics"))
        .unwrap()
        .text()
        .unwrap();
    for line in [
        "catalog_notifications{endpoint=\"pd\",state=\"delivered\"} 2",
        "catalog_notifications{endpoint=\"hook\",state=\"delivered\"} 2",
        "catalog_notifications{endpoint=\"dead\",state=\"parked\"} 1",
    ] {
        assert!(m.contains(line), "{line} missing from /metrics:\n{m}");
    }
    assert!(!m.contains(ROUTING_KEY) && !m.contains("/slack"));
    // Secrets stayed out of the log.
    let log = server.log();
    assert!(
        !log.contains(ROUTING_KEY) && !log.contains("MfKQ9r8G") && !log.contains("/slack"),
        "{log}"
    );
}

#[test]
fn a_delivery_cut_by_sigkill_is_sent_again_under_the_same_key() {
    let receiver = Receiver::start().unwrap();
    receiver.answer("/hook", Answer::HoldFirst { then: 200 });
    let dir = TempDir::new("notify-config").unwrap();
    let cfg = config(dir.path(), &receiver, 5);
    let mut server = CatalogServer::start(ServerOpts {
        extra_args: vec!["--notify-config".into(), cfg],
        ..Default::default()
    })
    .unwrap();
    rule(&server, &["hook"], &["FAILURE"]);
    let d = json!({
        "environment": "prod", "cluster": "prod-eu-1", "namespace": "shop", "workload": "cart",
        "status": "failed", "source": "api", "component": "shop/cart", "version": "2.0.0",
    });
    post_deployment(&server, &d);
    // The receiver holds the first delivery; the catalog dies with it in flight.
    let first = receiver.wait("/hook", 1, WAIT).unwrap();
    server.kill();
    server = server.restart().unwrap();
    let both = receiver.wait("/hook", 2, WAIT).unwrap();
    assert_eq!(both[0].headers["webhook-id"], both[1].headers["webhook-id"]);
    assert_eq!(first[0].json()["key"], both[1].json()["key"]);
    let n = both[1].json();
    assert_eq!(n["trigger"], "failure");
    assert!(
        n["title"]
            .as_str()
            .unwrap()
            .contains("shop/cart 2.0.0 failed in prod"),
        "{n}"
    );
    let keys: std::collections::BTreeSet<String> = both
        .iter()
        .map(|r| r.headers["webhook-id"].clone())
        .collect();
    assert_eq!(keys.len(), 1, "one logical notification");
    // The receiver answered; the row is marked delivered right after.
    let v = server
        .wait_for("the row delivered", WAIT, || {
            let v = gql(&server, CATALOG_TOKEN, OUTBOX, json!({}));
            Ok((v["data"]["notificationOutbox"][0]["state"] == "DELIVERED").then_some(v))
        })
        .unwrap();
    let rows = v["data"]["notificationOutbox"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{v}");
    assert_eq!(rows[0]["attempts"], 2, "one attempt cut, one answered: {v}");
    // Another restart sends nothing again.
    let server = server.restart().unwrap();
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(receiver.at("/hook").len(), 2);
    drop(server);
}

#[test]
fn a_violation_and_drift_notify_once_each_and_a_repeated_snapshot_adds_nothing() {
    let receiver = Receiver::start().unwrap();
    let dir = TempDir::new("notify-config").unwrap();
    let cfg = config(dir.path(), &receiver, 3);
    let policies = TempDir::new("policies").unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::copy(
        root.join("docs/policies/provenance.rego"),
        policies.path().join("provenance.rego"),
    )
    .unwrap();
    let server = CatalogServer::start(ServerOpts {
        extra_args: vec![
            "--notify-config".into(),
            cfg,
            "--policy-dir".into(),
            policies.path().display().to_string(),
        ],
        ..Default::default()
    })
    .unwrap();
    rule(&server, &["hook"], &["VIOLATION", "DRIFT"]);

    // A pipeline deploys a version the catalog does not know: provenance denies it.
    let d = json!({
        "environment": "prod", "cluster": "prod-eu-1", "namespace": "shop", "workload": "ghost",
        "status": "healthy", "source": "api", "component": "shop/ghost", "version": "9.9.9",
    });
    post_deployment(&server, &d);
    let got = receiver.wait("/hook", 1, WAIT).unwrap();
    let v = got[0].json();
    assert_eq!(v["trigger"], "violation", "{v}");
    assert_eq!(v["environment"], "prod");
    assert!(
        v["title"]
            .as_str()
            .unwrap()
            .contains("shop/ghost 9.9.9 went out against policy in prod"),
        "{v}"
    );
    assert!(
        v["summary"]
            .as_str()
            .unwrap()
            .contains("is not in the catalog"),
        "{v}"
    );

    // A cluster's own pod list shows workloads no pipeline recorded: drift, one per thing.
    let pods = std::fs::read(root.join("catalog-ingest/fixtures/kubernetes/pods.json")).unwrap();
    let snapshot = |pods: Vec<u8>| {
        let path = "/hooks/kubernetes?cluster=prod-us-1&environment=prod";
        accepted(&server, path, "application/json", INGEST_TOKEN, pods);
    };
    snapshot(pods.clone());
    let drift = server
        .wait_for("drift notified", WAIT, || {
            let n = receiver
                .at("/hook")
                .iter()
                .filter(|r| r.json()["trigger"] == "drift")
                .count();
            Ok((n > 0).then_some(n))
        })
        .unwrap();
    std::thread::sleep(Duration::from_millis(800));
    let all = receiver.at("/hook");
    let drifts: Vec<Value> = all
        .iter()
        .map(|r| r.json())
        .filter(|v| v["trigger"] == "drift")
        .collect();
    assert!(drifts.len() >= drift);
    let keys: std::collections::BTreeSet<&str> =
        drifts.iter().map(|v| v["key"].as_str().unwrap()).collect();
    assert_eq!(keys.len(), drifts.len(), "each flag once");
    assert!(drifts
        .iter()
        .all(|v| v["environment"] == "prod" && v["affected"][0]["cluster"] == "prod-us-1"));
    assert!(
        drifts
            .iter()
            .any(|v| v["title"].as_str().unwrap().contains("runs unrecorded")),
        "{drifts:?}"
    );
    // The same pod list again: the same flags, nothing new.
    snapshot(pods);
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(receiver.at("/hook").len(), all.len());
}

/// Two catalogs on one PostgreSQL database: both lanes deliver, each notification once; one
/// node produces, and when it dies the other takes over.
#[test]
fn two_postgres_nodes_deliver_each_notification_once_and_a_survivor_takes_over() {
    let db = catalog_tests::server::PgDatabase::create().unwrap();
    let receiver = Receiver::start().unwrap();
    let dir = TempDir::new("notify-config").unwrap();
    let cfg = config(dir.path(), &receiver, 3);
    let opts = ServerOpts {
        database_url: Some(db.url.clone()),
        extra_args: vec!["--notify-config".into(), cfg],
        ..Default::default()
    };
    let mut nodes = vec![
        CatalogServer::start(opts.clone()).unwrap(),
        CatalogServer::start(opts).unwrap(),
    ];
    rule(&nodes[0], &["hook"], &["FAILURE"]);
    let failed = |node: &CatalogServer, i: usize| {
        post_deployment(
            node,
            &json!({
                "environment": "prod", "cluster": "prod-eu-1", "namespace": "shop",
                "workload": format!("w{i}"), "status": "failed", "source": "api",
                "component": "shop/cart", "version": format!("1.0.{i}"),
            }),
        );
    };
    // Both nodes have the rule before anything fails.
    nodes[1]
        .wait_for("the rule on the second node", WAIT, || {
            let v = nodes[1].query("{ notificationRules { endpoints } }", json!({}))?;
            Ok((v["notificationRules"].as_array().map_or(0, Vec::len) == 1).then_some(()))
        })
        .unwrap();
    for i in 0..40 {
        failed(&nodes[i % 2], i);
    }
    receiver.wait("/hook", 40, WAIT).unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    let unique = |n: usize| {
        let got = receiver.at("/hook");
        let keys: std::collections::BTreeSet<String> = got
            .iter()
            .map(|r| r.headers["webhook-id"].clone())
            .collect();
        assert_eq!((got.len(), keys.len()), (n, n), "each notification once");
    };
    unique(40);
    // The producing node dies; the survivor takes over within its retry (5 s).
    let leader = nodes
        .iter()
        .position(|n| n.log().contains("this node produces the notifications"))
        .expect("one node produces");
    assert!(
        !nodes[1 - leader]
            .log()
            .contains("this node produces the notifications"),
        "only one"
    );
    nodes[leader].kill();
    let survivor = nodes.remove(1 - leader);
    for i in 40..45 {
        failed(&survivor, i);
    }
    receiver.wait("/hook", 45, WAIT).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    unique(45);
    assert!(survivor
        .log()
        .contains("this node produces the notifications"));
}
