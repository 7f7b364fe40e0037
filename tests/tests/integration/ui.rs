//! The dashboard in a real browser: a `catalog serve` seeded only through its own hooks
//! (registry notifications of real skopeo pushes, Backstage descriptors, CycloneDX SBOMs, an
//! OSV record, deployments at explicit past times), a second one holding a 1,991-component
//! dependency graph for the performance checks, then `tests/browser/dashboard.mjs`
//! (playwright-core driving Debian's /usr/bin/chromium) against both. What the script asserts
//! comes from a seed file written here from what the catalog answered, never from guesses.

use catalog_tests::capture::Capture;
use catalog_tests::registry::{push, require_tool, ImageSpec, Layout, Registry, TempDir};
use catalog_tests::sbom::cyclonedx as sbom;
use catalog_tests::server::{free_port, ADMIN_TOKEN, CATALOG_TOKEN, INGEST_TOKEN};
use catalog_tests::{CatalogServer, ServerOpts};
use chrono::{DateTime, DurationRound, SecondsFormat, TimeDelta, Utc};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const BROWSER_TIMEOUT: Duration = Duration::from_secs(6 * 60);
const SEED_TIMEOUT: Duration = Duration::from_secs(60);
/// Patience for the outbox: one delivery, and one refused attempt before a row is parked.
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(10);

const LOG4J: &str = "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1";
const LOG4J_FIXED: &str = "pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1";
const SLF4J: &str = "pkg:maven/org.slf4j/slf4j-api@1.7.36";
const JACKSON: &str = "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.13.0";
const CVE: &str = "CVE-2021-44228";
const GHSA: &str = "GHSA-jfh8-c2jp-5v3q";

/// The same shop as the graph suite's: frontend reaches checkout through the API it consumes.
const DESCRIPTORS: &str = include_str!("../../fixtures/shop-catalog-info.yaml");

const LOG4J_OSV: &str = r#"{
  "id": "GHSA-jfh8-c2jp-5v3q",
  "modified": "2024-03-15T00:00:00Z",
  "published": "2021-12-10T00:00:00Z",
  "aliases": ["CVE-2021-44228"],
  "summary": "Remote code injection in Log4j",
  "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"}],
  "affected": [{
    "package": {"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.0-beta9"}, {"fixed": "2.15.0"}]}]
  }]
}"#;

/// An image of the shop: repository, tag, and the packages its SBOM names (none: no SBOM).
struct ShopImage {
    repo: &'static str,
    version: &'static str,
    packages: &'static [&'static str],
}

const IMAGES: [ShopImage; 4] = [
    ShopImage {
        repo: "shop/cart",
        version: "1.0.0",
        packages: &[LOG4J, SLF4J],
    },
    ShopImage {
        repo: "shop/cart",
        version: "1.1.0",
        packages: &[LOG4J_FIXED, SLF4J],
    },
    ShopImage {
        repo: "shop/checkout",
        version: "2.0.0",
        packages: &[JACKSON, SLF4J],
    },
    ShopImage {
        repo: "shop/frontend",
        version: "3.0.0",
        packages: &[],
    },
];

/// What ran where: (environment, cluster, namespace, workload, index in [`IMAGES`], since
/// how many hours before now, replicas). The staging cart moved from 1.0.0 to 1.1.0 at T-1h.
const DEPLOYMENTS: [(&str, &str, &str, &str, usize, i64, u32); 6] = [
    ("prod", "prod-eu-1", "payments", "cart", 0, 3, 3),
    ("prod", "prod-eu-1", "payments", "checkout", 2, 3, 3),
    ("prod", "prod-eu-1", "web", "frontend", 3, 3, 3),
    ("staging", "staging-eu-1", "payments", "cart", 0, 3, 1),
    ("staging", "staging-eu-1", "payments", "cart", 1, 1, 1),
    ("staging", "staging-eu-1", "web", "frontend", 3, 3, 1),
];

/// Where cart 1.1.0 is a canary at 25% of the traffic, beside 1.0.0.
const CANARY_CLUSTER: &str = "canary-eu-1";

/// The image the browser script pushes itself, to watch the dashboard update live.
const LIVE: ShopImage = ShopImage {
    repo: "shop/cart",
    version: "1.2.0",
    packages: &[],
};

/// A workload whose name is markup (names may hold anything but whitespace): the failed
/// deployment's notification carries it in its title and summary, which must stay text.
const MARKUP_WORKLOAD: &str = "<img/src=x/onerror=alert(1)>";

/// Perf graph layers below `perf/root`: 10 + 40 + 140 + 300 + 600 + 900 = 1,990 components.
const PERF_LAYERS: [usize; 6] = [10, 40, 140, 300, 600, 900];
const PERF_TEAMS: usize = 10;

fn workspace() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::canonicalize(&root).unwrap_or(root)
}

fn target_dir() -> PathBuf {
    std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| workspace().join("target"))
}

/// Everything the browser run needs, checked before anything starts: never a skip.
pub(crate) fn prerequisites() -> PathBuf {
    assert!(
        Path::new(CHROMIUM).is_file(),
        "{CHROMIUM} is missing: install Debian's chromium: apt-get install chromium chromium-driver, \
         or run bash scripts/test-all.sh"
    );
    if let Err(e) = require_tool("node", "nodejs npm") {
        panic!("{e} (or run bash scripts/test-all.sh)");
    }
    let browser = workspace().join("tests/browser");
    assert!(
        browser.join("node_modules/playwright-core").is_dir(),
        "{} is missing: run: npm ci --prefix tests/browser",
        browser.join("node_modules/playwright-core").display()
    );
    browser
}

fn image_spec(img: &ShopImage) -> ImageSpec {
    let name = img.repo.rsplit('/').next().unwrap_or(img.repo);
    ImageSpec::new(&format!("{} {}", img.repo, img.version))
        .label("org.opencontainers.image.revision", &revision(img))
        .label(
            "org.opencontainers.image.source",
            &format!("https://git.example.com/shop/{name}"),
        )
        .label("org.opencontainers.image.version", img.version)
        .label("org.opencontainers.image.title", name)
}

/// A stable 40-hex "commit" per image.
fn revision(img: &ShopImage) -> String {
    let h = Sha256::digest(format!("{}@{}", img.repo, img.version).as_bytes());
    hex::encode(h)[..40].to_string()
}

/// The scope each hook needs (README): descriptors and advisories are catalog state.
fn hook_token(path: &str) -> &'static str {
    if path.starts_with("/hooks/backstage") || path.starts_with("/hooks/osv") {
        CATALOG_TOKEN
    } else {
        INGEST_TOKEN
    }
}

fn post_ok(server: &CatalogServer, path: &str, content_type: &str, body: Vec<u8>) -> Value {
    let (st, text) = server
        .post(path, content_type, Some(hook_token(path)), body)
        .unwrap();
    assert_eq!(st, 202, "POST {path}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// One deployment of the generic hook, observed at `at` (None: when the catalog receives it).
fn deployment(
    env: &str,
    cluster: &str,
    namespace: &str,
    workload: &str,
    image: String,
    at: Option<DateTime<Utc>>,
    replicas: u32,
) -> Value {
    let mut d = json!({
        "environment": env, "cluster": cluster, "namespace": namespace, "workload": workload,
        "status": "healthy", "replicas": replicas, "source": "api",
        "images": [{"container": workload, "image": image}]
    });
    if let Some(at) = at {
        d["at"] = json!(rfc3339(at));
    }
    d
}

/// The names of the nodes of a blast connection, sorted.
fn item_names(page: &Value) -> Vec<String> {
    let mut out: Vec<String> = page["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["name"].as_str().map(str::to_string))
        .collect();
    out.sort();
    out
}

/// "cluster/namespace/workload" of every deployment in a blast connection.
fn deployment_keys(page: &Value) -> Vec<String> {
    let mut out: Vec<String> = page["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let d = &i["deployment"];
            format!(
                "{}/{}/{}",
                d["cluster"].as_str().unwrap(),
                d["namespace"].as_str().unwrap(),
                d["workload"].as_str().unwrap()
            )
        })
        .collect();
    out.sort();
    out
}

fn inventory_version(server: &CatalogServer, cluster: &str, at: Option<&str>) -> Option<String> {
    let d = server
        .query(
            r#"query($c: String, $at: DateTime) { inventory(cluster: $c, at: $at, first: 500) {
                 nodes { namespace workload runs { component version } } } }"#,
            json!({"c": cluster, "at": at}),
        )
        .ok()?;
    d["inventory"]["nodes"]
        .as_array()?
        .iter()
        .find(|x| x["namespace"] == "payments" && x["workload"] == "cart")?["runs"][0]["version"]
        .as_str()
        .map(str::to_string)
}

/// Waits until the inbox is empty, then until `f` answers the same twice in a row: the
/// worker has folded everything that was acknowledged.
fn settled(server: &CatalogServer, what: &str, mut f: impl FnMut() -> Value) -> Value {
    server
        .wait_for(&format!("{what}: inbox drained"), SEED_TIMEOUT, || {
            Ok((server.pending()? == 0).then_some(()))
        })
        .unwrap();
    let mut last = f();
    server
        .wait_for(&format!("{what}: settled"), SEED_TIMEOUT, || {
            std::thread::sleep(Duration::from_millis(200));
            let now = f();
            let same = now == last;
            last = now.clone();
            Ok(same.then_some(now))
        })
        .unwrap()
}

/// The main catalog, its registry, the layout holding the unpushed live image, and the
/// seed facts learnt from it.
pub(crate) struct Shop {
    pub(crate) server: CatalogServer,
    pub(crate) registry: Registry,
    pub(crate) layout: Layout,
    _scratch: TempDir,
    /// The notification configuration and its webhook secret.
    _notify: TempDir,
    pub(crate) seed: Value,
}

/// `--notify-config` in a directory of its own: `ops`, a webhook answered 200 by
/// `capture`, and `chat`, a Slack endpoint on a port nothing listens on.
fn notify_config(capture: &Capture, closed: u16) -> TempDir {
    let dir = TempDir::new("ui-notify").unwrap();
    std::fs::write(dir.path().join("ops.key"), "whsec_c2VjcmV0").unwrap();
    // One attempt: the dead endpoint's row is parked at its first refusal.
    let yaml = format!(
        "retry: {{attempts: 1, first: 100ms, max: 1s, timeout: 2s}}\n\
         endpoints:\n\
         \x20 - {{name: ops, kind: webhook, url: \"http://127.0.0.1:{}/hook\", secret_file: ops.key}}\n\
         \x20 - {{name: chat, kind: slack, url: \"http://127.0.0.1:{closed}/\"}}\n",
        capture.port
    );
    std::fs::write(dir.path().join("notify.yaml"), yaml).unwrap();
    dir
}

const OUTBOX: &str = r#"{ notificationEndpoints { name kind pending delivered parked }
    notificationOutbox(first: 100) { id endpoint state attempts lastError deliveredAt title summary } }"#;

/// Sets the default route (any team, any environment) to both endpoints, then reports a
/// failed deployment and waits until its notification is delivered to `ops` and parked
/// at `chat` and nothing is pending: what the Notifications view will show.
fn seed_notifications(server: &CatalogServer, capture: &Capture) -> Value {
    let (st, v) = server
        .graphql_as(
            Some(CATALOG_TOKEN),
            r#"mutation { setNotificationRule(endpoints: ["ops", "chat"],
                 on: [FAILURE, VIOLATION, DRIFT, VULNERABILITY]) { team environment endpoints on } }"#,
            json!({}),
        )
        .unwrap();
    assert!(st == 200 && v.get("errors").is_none(), "{st} {v}");
    // A digest without a tag: no version, so the title names the workload.
    let image = format!(
        "registry.example.com/ops/probe@sha256:{}",
        hex::encode(Sha256::digest(b"notify probe"))
    );
    let mut failed = deployment("prod", "prod-eu-1", "ops", MARKUP_WORKLOAD, image, None, 1);
    failed["status"] = json!("failed");
    post_ok(
        server,
        "/hooks/deployments",
        "application/json",
        serde_json::to_vec(&failed).unwrap(),
    );
    let ours = |r: &&Value| {
        r["summary"]
            .as_str()
            .is_some_and(|s| s.contains(MARKUP_WORKLOAD))
    };
    let d = server
        .wait_for(
            "the failed deployment delivered to ops and parked at chat",
            NOTIFY_TIMEOUT,
            || {
                let d = server.query(OUTBOX, json!({}))?;
                let rows = d["notificationOutbox"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                let is = |endpoint: &str, state: &str| {
                    rows.iter()
                        .filter(ours)
                        .any(|r| r["endpoint"] == endpoint && r["state"] == state)
                };
                let idle = d["notificationEndpoints"]
                    .as_array()
                    .is_some_and(|a| a.iter().all(|e| e["pending"] == 0));
                Ok((is("ops", "DELIVERED") && is("chat", "PARKED") && idle).then_some(d))
            },
        )
        .unwrap_or_else(|e| panic!("{e}\n--- outbox: {:?}", server.query(OUTBOX, json!({}))));
    let rows = d["notificationOutbox"].as_array().unwrap();
    let row = |endpoint: &str| {
        rows.iter()
            .filter(ours)
            .find(|r| r["endpoint"] == endpoint)
            .unwrap()
            .clone()
    };
    let (delivered, parked) = (row("ops"), row("chat"));
    let title = delivered["title"].as_str().unwrap().to_string();
    assert!(title.contains(MARKUP_WORKLOAD), "{delivered}");
    assert!(parked["lastError"].is_string(), "{parked}");
    // The webhook really received it.
    let got: Vec<Value> = capture
        .bodies()
        .iter()
        .filter_map(|(_, b)| serde_json::from_slice(b).ok())
        .collect();
    assert!(got.iter().any(|b| b["title"] == title.as_str()), "{got:?}");
    json!({
        "endpoints": d["notificationEndpoints"],
        "markup": MARKUP_WORKLOAD,
        "title": title,
        "summary": delivered["summary"],
        "delivered": delivered,
        "parked": parked,
        "parkedIds": rows.iter().filter(|r| r["state"] == "PARKED").map(|r| r["id"].clone()).collect::<Vec<_>>(),
    })
}

pub(crate) fn seed_shop() -> Shop {
    let capture = Capture::start().unwrap();
    // A port nothing listens on: free_port binds it, reads it and lets it go.
    let closed = free_port().unwrap();
    let notify = notify_config(&capture, closed);
    let (registry, server) = CatalogServer::with_registry(ServerOpts {
        // Configuration names each cluster's environment; the events say the same.
        extra_args: vec![
            "--cluster-environment".into(),
            "prod-eu-1=prod,staging-eu-1=staging".into(),
            "--notify-config".into(),
            notify.path().join("notify.yaml").display().to_string(),
        ],
        ..ServerOpts::default()
    })
    .unwrap();
    let host = registry.host();
    assert!(
        closed != server.port && !host.ends_with(&format!(":{closed}")),
        "the closed port {closed} was taken again"
    );

    // Ownership, the application and declared dependencies.
    let receipt = post_ok(
        &server,
        "/hooks/backstage",
        "application/yaml",
        DESCRIPTORS.into(),
    );
    assert_eq!(receipt["accepted"], 7, "{receipt}");

    // Real images, really pushed: the registry's notifications register them.
    let layout = Layout::new().unwrap();
    let mut digests = Vec::new();
    for img in &IMAGES {
        let tag = format!("{}-{}", img.repo.replace('/', "-"), img.version);
        layout.build(&tag, &image_spec(img)).unwrap();
        digests.push(push(&layout, &tag, &host, img.repo, img.version).unwrap());
    }
    for (img, digest) in IMAGES.iter().zip(&digests) {
        server
            .wait_for(
                &format!("{}:{} registered", img.repo, img.version),
                SEED_TIMEOUT,
                || {
                    let v = server.query(
                        "query($c: String!, $v: String!) { component(name: $c) { version(version: $v) { digest revision } } }",
                        json!({"c": img.repo, "v": img.version}),
                    )?;
                    let cv = &v["component"]["version"];
                    Ok((cv["digest"] == digest.as_str() && cv["revision"] == revision(img).as_str())
                        .then_some(()))
                },
            )
            .unwrap();
    }
    // Built for the browser script, which pushes it while it watches.
    let live_tag = "shop-cart-1.2.0";
    let live_digest = layout.build(live_tag, &image_spec(&LIVE)).unwrap();

    // SBOMs of the images, and the advisory that matches one of them.
    for (img, digest) in IMAGES.iter().zip(&digests) {
        if !img.packages.is_empty() {
            post_ok(
                &server,
                &format!("/hooks/sbom?image={digest}"),
                "application/vnd.cyclonedx+json",
                sbom(img.packages),
            );
        }
    }
    post_ok(&server, "/hooks/osv", "application/json", LOG4J_OSV.into());

    // T is now, to the minute.
    let now = Utc::now().duration_trunc(TimeDelta::minutes(1)).unwrap();
    let hours = |h: i64| now - TimeDelta::hours(h);
    let reference = |i: usize| {
        format!(
            "{host}/{}:{}@{}",
            IMAGES[i].repo, IMAGES[i].version, digests[i]
        )
    };
    // A canary of cart 1.1.0 at 25%, the stable 1.0.0 taking the rest.
    let mut canary_step = deployment(
        "prod",
        CANARY_CLUSTER,
        "payments",
        "cart",
        reference(1),
        Some(hours(1)),
        4,
    );
    canary_step["traffic"] = json!(25);
    canary_step["status"] = json!("progressing");
    canary_step["stable"] = json!({"image": reference(0)});
    let deployments: Vec<Value> = DEPLOYMENTS
        .iter()
        .map(
            |&(env, cluster, namespace, workload, image, ago, replicas)| {
                let at = Some(hours(ago));
                deployment(
                    env,
                    cluster,
                    namespace,
                    workload,
                    reference(image),
                    at,
                    replicas,
                )
            },
        )
        .chain([canary_step])
        .collect();
    post_ok(
        &server,
        "/hooks/deployments",
        "application/json",
        serde_json::to_vec(&json!({ "deployments": deployments })).unwrap(),
    );

    // Configuration: staging and prod share TIMEOUT and differ in two keys, one of them a
    // value that is markup (shown as text) and one that prod lacks.
    for (env, values) in [
        (
            "staging",
            json!({"TIMEOUT": "30", "BANNER": "<img src=x onerror=alert(1)>", "FEATURE_X": "on"}),
        ),
        ("prod", json!({"TIMEOUT": "30", "BANNER": "Welcome"})),
    ] {
        post_ok(
            &server,
            "/hooks/config",
            "application/json",
            serde_json::to_vec(&json!({"environment": env, "values": values})).unwrap(),
        );
    }

    // The catalog answers what the dashboard will show.
    let past = rfc3339(hours(2));
    let (past_version, now_version) = server
        .wait_for("the staging cart, then and now", SEED_TIMEOUT, || {
            let then = inventory_version(&server, "staging-eu-1", Some(&past));
            let now = inventory_version(&server, "staging-eu-1", None);
            Ok(match (then, now) {
                (Some(a), Some(b)) if a == "1.0.0" && b == "1.1.0" => Some((a, b)),
                _ => None,
            })
        })
        .unwrap();
    server
        .wait_for("the log4j advisory matched", SEED_TIMEOUT, || {
            let d = server.query(
                r#"query($id: String!) { vulnerability(id: $id) { id packageVersions { purl } } }"#,
                json!({"id": CVE}),
            )?;
            let v = &d["vulnerability"];
            let purls: Vec<&str> = v["packageVersions"]
                .as_array()
                .map(|a| a.iter().filter_map(|p| p["purl"].as_str()).collect())
                .unwrap_or_default();
            Ok((v["id"] == GHSA && purls == [LOG4J]).then_some(()))
        })
        .unwrap();
    let blast = settled(&server, "the log4j blast radius", || {
        server
            .query(
                r#"query($p: String!) { blastRadius(of: {purl: $p}) {
                     totals { images componentVersions components applications applicationVersions deployments owners clusters environments }
                     components(first: 50) { nodes { name } }
                     applications(first: 50) { nodes { name } }
                     deployments(first: 50) { nodes { deployment { cluster namespace workload } } }
                     owners(first: 50) { nodes { team { name } } }
                   } }"#,
                json!({"p": LOG4J}),
            )
            .map(|d| d["blastRadius"].clone())
            .unwrap_or(Value::Null)
    });
    let totals = &blast["totals"];
    assert!(
        totals["deployments"].as_i64().unwrap_or(0) >= 2,
        "log4j 2.14.1 reaches at least two live deployments: {blast}"
    );
    let owners: Vec<&str> = blast["owners"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["team"]["name"].as_str())
        .collect();
    assert!(owners.contains(&"team-payments"), "{blast}");
    let affected = deployment_keys(&blast["deployments"]);
    assert!(
        affected.contains(&"prod-eu-1/payments/cart".to_string()),
        "{affected:?}"
    );

    // The facts of shop/cart and its owner, as the catalog tells them.
    let d = server
        .query(
            r#"{ component(name: "shop/cart") {
                   owner { name contacts { email chat pager } }
                   applications { name }
                   versions { nodes { version digest revision source } } }
                 images: components(prefix: "shop/") { nodes { name versions { nodes { version digest revision source } } } } }"#,
            json!({}),
        )
        .unwrap();
    let cart = &d["component"];
    let mut versions = cart["versions"]["nodes"].as_array().unwrap().clone();
    versions.sort_by(|a, b| a["version"].as_str().cmp(&b["version"].as_str()));
    assert_eq!(
        versions
            .iter()
            .map(|v| v["version"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["1.0.0", "1.1.0"]
    );
    for (v, digest) in versions.iter().zip(&digests) {
        assert_eq!(v["digest"], digest.as_str(), "{v}");
    }
    let owner = &cart["owner"];
    assert_eq!(owner["name"], "team-payments", "{cart}");
    let applications = cart["applications"].as_array().unwrap();
    assert_eq!(applications.len(), 1, "{cart}");
    let mut images: Vec<Value> = d["images"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| {
            c["versions"]["nodes"].as_array().unwrap().iter().map(|v| {
                let mut v = v.clone();
                v["component"] = c["name"].clone();
                v
            })
        })
        .collect();
    images.sort_by_key(|v| (v["component"].to_string(), v["version"].to_string()));
    assert_eq!(images.len(), 4, "{d}");

    // The live step: the browser script runs this push, then posts this deployment.
    // skopeo gets a home of its own, as the harness's pushes do: no stray registry config.
    let scratch = TempDir::new("ui-skopeo").unwrap();
    let skopeo_home = scratch.path().to_path_buf();
    let push_argv = vec![
        "skopeo".to_string(),
        "--insecure-policy".into(),
        "copy".into(),
        "--all".into(),
        "--preserve-digests".into(),
        "--remove-signatures".into(),
        "--dest-tls-verify=false".into(),
        "--retry-times".into(),
        "2".into(),
        format!("oci:{}:{live_tag}", layout.path().display()),
        format!("docker://{host}/{}:{}", LIVE.repo, LIVE.version),
    ];
    let canary = deployment(
        "prod",
        "prod-eu-1",
        "web",
        "frontend-canary",
        reference(3),
        None,
        1,
    );

    // The configuration differences as the diff table shows them (key, staging, prod).
    let config_diff = server
        .wait_for("staging and prod configured", SEED_TIMEOUT, || {
            let d = server.query(
                r#"{ inventoryDiff(from: {environment: "staging"}, to: {environment: "prod"}) { configuration { key fromValue toValue } } }"#,
                json!({}),
            )?;
            let rows: Vec<Value> = d["inventoryDiff"]["configuration"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|c| {
                    let text = |v: &Value| v.as_str().unwrap_or("not set").to_string();
                    json!([c["key"], text(&c["fromValue"]), text(&c["toValue"])])
                })
                .collect();
            Ok((rows.len() == 2).then_some(rows))
        })
        .unwrap();

    // Last, once the rest has settled: the producer notifies what the log says after a rule
    // exists, so the rule goes in before the failure it must report.
    let notifications = seed_notifications(&server, &capture);

    let seed = json!({
        "configDiff": config_diff,
        "notifications": notifications,
        "url": server.url(""),
        "ingestToken": INGEST_TOKEN,
        "adminToken": ADMIN_TOKEN,
        "registry": host,
        "log4j": LOG4J,
        "log4jFixed": LOG4J_FIXED,
        "vuln": CVE,
        "vulnId": GHSA,
        "component": "shop/cart",
        "versions": versions,
        "images": images,
        "team": owner["name"],
        "email": owner["contacts"]["email"],
        "chat": owner["contacts"]["chat"],
        "pager": owner["contacts"]["pager"],
        "application": applications[0]["name"],
        "past": past,
        "pastCluster": "staging-eu-1",
        "pastVersion": past_version,
        "nowVersion": now_version,
        "canary": {"cluster": CANARY_CLUSTER, "canary": IMAGES[1].version, "stable": IMAGES[0].version, "share": 25},
        "affectedDeployments": affected,
        "blast": {
            "totals": totals,
            "components": item_names(&blast["components"]),
            "applications": item_names(&blast["applications"]),
            "owners": owners,
        },
        "live": {
            "push": push_argv,
            "env": {"HOME": skopeo_home, "XDG_RUNTIME_DIR": skopeo_home},
            "component": LIVE.repo,
            "version": LIVE.version,
            "digest": live_digest,
            "revision": revision(&LIVE),
            "deploy": {
                "path": "/hooks/deployments",
                "contentType": "application/json",
                "body": canary,
            },
        },
    });
    Shop {
        server,
        registry,
        layout,
        _scratch: scratch,
        _notify: notify,
        seed,
    }
}

/// The descriptors of the perf graph: 10 teams, `perf/root`, then [`PERF_LAYERS`] of
/// components each depending on one or two of the layer before.
fn perf_descriptors() -> (String, usize) {
    let mut docs = Vec::new();
    for t in 0..PERF_TEAMS {
        docs.push(format!(
            "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: perf-team-{t}\n\
             spec:\n  type: team\n  profile:\n    email: perf-team-{t}@example.com\n  children: []\n"
        ));
    }
    let component = |name: &str, team: usize, depends: &[String]| {
        let mut d = format!(
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n  namespace: perf\n\
             spec:\n  type: service\n  lifecycle: production\n  owner: group:default/perf-team-{team}\n"
        );
        if !depends.is_empty() {
            d.push_str("  dependsOn:\n");
            for dep in depends {
                d.push_str(&format!("    - component:{dep}\n"));
            }
        }
        d
    };
    docs.push(component("root", 0, &[]));
    let mut previous = vec!["root".to_string()];
    let mut n = 0;
    for size in PERF_LAYERS {
        let mut layer = Vec::with_capacity(size);
        for i in 0..size {
            n += 1;
            let name = format!("svc-{n:04}");
            let mut depends = vec![previous[i % previous.len()].clone()];
            let second = &previous[(i * 7 + 3) % previous.len()];
            if i % 2 == 1 && !depends.contains(second) {
                depends.push(second.clone());
            }
            docs.push(component(&name, n % PERF_TEAMS, &depends));
            layer.push(name);
        }
        previous = layer;
    }
    (docs.join("---\n"), n)
}

fn seed_perf() -> (CatalogServer, Value) {
    let server = CatalogServer::start(ServerOpts::default()).unwrap();
    let (yaml, below_root) = perf_descriptors();
    assert_eq!(below_root, 1990);
    let receipt = post_ok(&server, "/hooks/backstage", "application/yaml", yaml.into());
    assert_eq!(
        receipt["accepted"],
        PERF_TEAMS + 1 + below_root,
        "{receipt}"
    );
    let query = r#"{ blastRadius(of: {component: "perf/root"}) { totals { components owners } }
                     dependencyMap(component: "perf/root", direction: REVERSE, depth: 20) { nodes { component } } }"#;
    server
        .wait_for("the perf graph folded", SEED_TIMEOUT, || {
            let d = server.query(query, json!({}))?;
            let n = d["dependencyMap"]["nodes"].as_array().map_or(0, Vec::len);
            Ok((n >= below_root).then_some(()))
        })
        .unwrap();
    let d = settled(&server, "the perf blast radius", || {
        server.query(query, json!({})).unwrap_or(Value::Null)
    });
    let totals = &d["blastRadius"]["totals"];
    let components = totals["components"].as_u64().unwrap();
    assert!(
        components == below_root as u64 || components == below_root as u64 + 1,
        "{d}"
    );
    assert_eq!(totals["owners"], PERF_TEAMS, "{d}");
    let perf = json!({
        "component": "perf/root",
        "components": components,
        "owners": totals["owners"],
        "dependencyMapNodes": d["dependencyMap"]["nodes"].as_array().map_or(0, Vec::len),
        "layers": PERF_LAYERS,
        "teams": (0..PERF_TEAMS).map(|t| format!("perf-team-{t}")).collect::<Vec<_>>(),
    });
    (server, perf)
}

/// What the browser script printed and how it ended.
pub(crate) struct BrowserRun {
    pub(crate) ok: bool,
    pub(crate) status: String,
    pub(crate) output: String,
    pub(crate) elapsed: Duration,
}

/// Runs `node <script>` in `dir` (its own process group, killed whole on timeout and after
/// it exits, so no Chromium outlives it), echoing its lines as they come.
pub(crate) fn run_browser(dir: &Path, script: &str, env: &[(&str, &Path)]) -> BrowserRun {
    let t = Instant::now();
    let mut cmd = Command::new("node");
    cmd.arg(script)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start node {script}: {e}"));
    let output = Arc::new(Mutex::new(String::new()));
    let echo = |stream: Box<dyn Read + Send>, tag: &'static str| {
        let output = output.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                println!("[{tag}] {line}");
                let mut o = output.lock().unwrap();
                o.push_str(&format!("[{tag}] {line}\n"));
            }
        })
    };
    let readers = [
        echo(Box::new(child.stdout.take().unwrap()), "browser"),
        echo(Box::new(child.stderr.take().unwrap()), "browser:err"),
    ];
    let kill_group = |pid: u32| {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{pid}")])
            .stderr(Stdio::null())
            .status();
    };
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st.to_string();
        }
        if t.elapsed() > BROWSER_TIMEOUT {
            kill_group(child.id());
            let _ = child.wait();
            break format!("killed after {BROWSER_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let ok = status == "exit status: 0";
    kill_group(child.id());
    for r in readers {
        let _ = r.join();
    }
    let output = output.lock().unwrap().clone();
    BrowserRun {
        ok,
        status,
        output,
        elapsed: t.elapsed(),
    }
}

/// The last `lines` lines of a log, without its terminal colours.
fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    let text = all[all.len().saturating_sub(lines)..].join("\n");
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters, then a final byte in '@'..='~'.
            chars.find(|&b| ('@'..='~').contains(&b) && b != '[');
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn dashboard_in_chromium() {
    let browser = prerequisites();
    let script =
        std::env::var("CATALOG_BROWSER_SCRIPT").unwrap_or_else(|_| "dashboard.mjs".to_string());
    assert!(
        browser.join(&script).is_file(),
        "{} is missing (CATALOG_BROWSER_SCRIPT names another script in tests/browser)",
        browser.join(&script).display()
    );

    let t = Instant::now();
    let shop = seed_shop();
    let shop_took = t.elapsed();
    let t = Instant::now();
    let (perf_server, perf) = seed_perf();
    let perf_took = t.elapsed();
    println!("seeded: shop in {shop_took:.1?}, perf graph in {perf_took:.1?}");

    let mut seed = shop.seed.clone();
    seed["perfUrl"] = json!(perf_server.url(""));
    seed["perf"] = perf;
    let dir = TempDir::new("ui-seed").unwrap();
    let seed_path = dir.path().join("seed.json");
    std::fs::write(&seed_path, serde_json::to_vec_pretty(&seed).unwrap()).unwrap();
    println!(
        "seed ({}):\n{}",
        seed_path.display(),
        serde_json::to_string_pretty(&seed).unwrap()
    );
    let screenshots = target_dir().join("ui-screenshots");
    std::fs::create_dir_all(&screenshots).unwrap();

    let run = run_browser(
        &browser,
        &script,
        &[("SEED", &seed_path), ("SCREENSHOT_DIR", &screenshots)],
    );
    println!(
        "node {script}: {} in {:.1?}; screenshots in {}",
        run.status,
        run.elapsed,
        screenshots.display()
    );
    assert!(
        run.ok,
        "node {script} failed ({}):\n{}\n--- catalog log (tail):\n{}\n--- perf catalog log (tail):\n{}",
        run.status,
        run.output,
        tail(&shop.server.log(), 60),
        tail(&perf_server.log(), 20)
    );
}

/// Every dashboard view is a deep link answered with the shell (under a same-origin-only
/// Content-Security-Policy); its modules are served with their types; anything else is a 404.
#[test]
fn deep_links_answer_with_the_shell_and_assets_with_their_types() {
    let server = CatalogServer::start(ServerOpts::default()).unwrap();
    let http = reqwest::blocking::Client::new();
    let shell = http.get(server.url("/")).send().unwrap().text().unwrap();
    assert!(shell.contains("/ui/js/main.js"), "{shell}");
    for path in [
        "/",
        "/components/shop/cart?version=1.0.0",
        "/blast?purl=pkg%3Amaven%2Fx%2Fy%401",
        "/inventory?cluster=prod-eu-1&at=2026-01-01T00:00:00Z",
        "/applications/shop%2Fshop?v=2",
        "/teams/team-web",
        "/images/sha256%3Aabc",
        "/vulnerabilities/CVE-2021-44228",
        "/search?q=log4j",
        "/notifications?state=parked&before=10",
    ] {
        let r = http.get(server.url(path)).send().unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path}");
        let csp = r
            .headers()
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(
            csp.contains("default-src 'self'") && csp.contains("connect-src 'self'"),
            "{path}: {csp}"
        );
        assert_eq!(r.text().unwrap(), shell, "{path} answers the shell");
    }
    for (path, ty) in [
        ("/ui/js/main.js", "text/javascript"),
        ("/ui/js/views/blast.js", "text/javascript"),
        ("/ui/app.css", "text/css"),
        ("/ui/map.css", "text/css"),
    ] {
        let r = http.get(server.url(path)).send().unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path}");
        let ct = r.headers()["content-type"].to_str().unwrap().to_string();
        assert!(ct.starts_with(ty), "{path}: {ct}");
    }
    for path in ["/ui/js/nope.js", "/nope", "/components-x"] {
        let r = http.get(server.url(path)).send().unwrap();
        assert_eq!(r.status().as_u16(), 404, "{path}");
    }
}
