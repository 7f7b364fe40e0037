//! Bills of materials end to end: SBOMs found in a real registry (cosign's tag convention and
//! the OCI referrers tag schema) with no upload; SBOMs made by real producers (cyclonedx-py,
//! cyclonedx-npm, sbom4python, and cdxgen's CycloneDX 1.7 and SPDX 3.0.1) imported with
//! `catalog import sbom`, then found by search and by `package(purl)`; OSV records imported with `catalog import osv` and matched; bad input
//! refused whole, naming the field.

use catalog_tests::capture::Capture;
use catalog_tests::registry::{http_request, push, ImageSpec, Layout, Registry, TempDir};
use catalog_tests::server::{binary, free_port, CATALOG_TOKEN, INGEST_TOKEN};
use catalog_tests::{CatalogServer, ServerOpts};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const EMPTY: &str = "application/vnd.oci.empty.v1+json";
const CYCLONEDX: &str = "application/vnd.cyclonedx+json";
const SPDX: &str = "application/spdx+json";

fn fixture(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../catalog-ingest/fixtures/sbom")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

pub(crate) fn sha256(b: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(b)))
}

/// Uploads a blob through the registry's HTTP API (POST, then PUT with the digest).
pub(crate) fn upload_blob(host: &str, repo: &str, bytes: &[u8]) -> String {
    let digest = sha256(bytes);
    let r = http_request(
        "POST",
        host,
        &format!("/v2/{repo}/blobs/uploads/"),
        &[],
        b"",
    )
    .unwrap();
    assert_eq!(r.status, 202, "blob upload start: {}", r.text());
    let location = r.header("Location").unwrap().to_string();
    let path = location
        .split_once(host)
        .map_or(location.as_str(), |(_, p)| p)
        .to_string();
    let sep = if path.contains('?') { '&' } else { '?' };
    let r = http_request(
        "PUT",
        host,
        &format!("{path}{sep}digest={digest}"),
        &[("Content-Type", "application/octet-stream")],
        bytes,
    )
    .unwrap();
    assert_eq!(r.status, 201, "blob upload: {}", r.text());
    digest
}

pub(crate) fn put_manifest(
    host: &str,
    repo: &str,
    reference: &str,
    media_type: &str,
    body: &[u8],
) -> String {
    let r = http_request(
        "PUT",
        host,
        &format!("/v2/{repo}/manifests/{reference}"),
        &[("Content-Type", media_type)],
        body,
    )
    .unwrap();
    assert_eq!(r.status, 201, "manifest {reference}: {}", r.text());
    sha256(body)
}

/// The subject descriptor of an image already in the registry.
pub(crate) fn descriptor(host: &str, repo: &str, digest: &str) -> Value {
    let r = http_request(
        "GET",
        host,
        &format!("/v2/{repo}/manifests/{digest}"),
        &[("Accept", OCI_MANIFEST)],
        b"",
    )
    .unwrap();
    assert_eq!(r.status, 200);
    json!({"mediaType": OCI_MANIFEST, "digest": digest, "size": r.body.len()})
}

/// An OCI artifact holding one SBOM, about `subject`; pushed by digest, or under `tag`.
/// Returns (manifest digest, manifest size).
pub(crate) fn push_sbom_artifact(
    host: &str,
    repo: &str,
    subject: &Value,
    sbom: &[u8],
    artifact_type: &str,
    tag: Option<&str>,
) -> (String, usize) {
    let empty = upload_blob(host, repo, b"{}");
    let layer = upload_blob(host, repo, sbom);
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": {"mediaType": EMPTY, "digest": empty, "size": 2},
        "layers": [{"mediaType": artifact_type, "digest": layer, "size": sbom.len()}],
        "subject": subject,
    });
    let body = serde_json::to_vec(&manifest).unwrap();
    let digest = sha256(&body);
    put_manifest(host, repo, tag.unwrap_or(&digest), OCI_MANIFEST, &body);
    (digest, body.len())
}

const IMAGE_SBOM: &str = r#"query($d: String!) {
  image(digest: $d) {
    digest
    sbom { format specVersion via packageCount directCount }
    packages(first: 500) { totalCount nodes { purl name version depth direct } }
    componentVersions { component version }
  }
}"#;

fn image_sbom(server: &CatalogServer, digest: &str) -> Option<Value> {
    let d = server.query(IMAGE_SBOM, json!({"d": digest})).ok()?;
    let img = d["image"].clone();
    (!img["sbom"].is_null()).then_some(img)
}

fn purls(image: &Value) -> Vec<String> {
    image["packages"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["purl"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn registry_sboms_are_found_without_any_upload() {
    let catalog_port = free_port().unwrap();
    let hook = format!("http://127.0.0.1:{catalog_port}/hooks/distribution");
    let capture = Capture::start().unwrap();
    let registry =
        Registry::start(&[(&hook, INGEST_TOKEN), (&capture.url(), INGEST_TOKEN)]).unwrap();
    let host = registry.host();
    let server = CatalogServer::start(ServerOpts {
        port: Some(catalog_port),
        registries: vec![format!("http://{host}")],
        ..ServerOpts::default()
    })
    .unwrap();

    // 1. An image, then its SBOM under cosign's `sha256-<hex>.sbom` tag: the artifact's
    //    push notification brings the SBOM to the image.
    let layout = Layout::new().unwrap();
    layout
        .build(
            "v1",
            &ImageSpec::new("cart 1.0.0").label("dev.catalog.owner", "team-checkout"),
        )
        .unwrap();
    let cart = push(&layout, "v1", &host, "shop/cart", "1.0.0").unwrap();
    server
        .wait_for("cart 1.0.0", Duration::from_secs(30), || {
            let d = server.query(
                "query($d:String!){ image(digest:$d){ componentVersions { version } } }",
                json!({"d": cart}),
            )?;
            Ok((!d["image"].is_null()).then_some(()))
        })
        .unwrap();
    let subject = descriptor(&host, "shop/cart", &cart);
    let hex = cart.trim_start_matches("sha256:");
    let (artifact, _) = push_sbom_artifact(
        &host,
        "shop/cart",
        &subject,
        &fixture("python.cdx.json"),
        CYCLONEDX,
        Some(&format!("sha256-{hex}.sbom")),
    );
    let img = server
        .wait_for(
            "cart's SBOM from the registry",
            Duration::from_secs(30),
            || Ok(image_sbom(&server, &cart)),
        )
        .unwrap();
    assert_eq!(img["sbom"]["via"], "tag");
    assert_eq!(img["sbom"]["format"], "CycloneDX");
    assert_eq!(img["sbom"]["specVersion"], "1.5");
    let got = purls(&img);
    assert!(
        got.contains(&"pkg:pypi/django@4.2.7".to_string()),
        "{got:?}"
    );
    assert!(
        got.contains(&"pkg:pypi/requests@2.31.0".to_string()),
        "{got:?}"
    );
    // The artifact is not an image or a component of its own.
    let d = server
        .query(
            "query($d:String!){ image(digest:$d){ digest } components(first: 50){ edges { node { name } } } }",
            json!({"d": artifact}),
        )
        .unwrap();
    assert!(d["image"].is_null(), "{d}");
    let names: Vec<&str> = d["components"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["shop/cart"]);

    // package(purl) reaches the component version and its owner through the image.
    let d = server
        .query(
            r#"{ package(purl: "pkg:pypi/Django@4.2.7") {
                 versions { version }
                 images { nodes { digest componentVersions { component version } owners } }
                 owners { nodes { name } } } }"#,
            json!({}),
        )
        .unwrap();
    let p = &d["package"];
    assert_eq!(p["versions"][0]["version"], "4.2.7");
    assert_eq!(p["images"]["nodes"][0]["digest"], cart.as_str());
    assert_eq!(
        p["images"]["nodes"][0]["componentVersions"][0]["component"],
        "shop/cart"
    );
    assert_eq!(p["owners"]["nodes"][0]["name"], "team-checkout");

    // 2. Discovery at push: an SPDX SBOM already in the registry (an artifact pushed by
    //    digest, listed in the OCI referrers tag schema index) before the image is pushed;
    //    only the image's notification is delivered to the catalog.
    let quiet = Registry::start(&[(&capture.url(), INGEST_TOKEN)]).unwrap();
    let qhost = quiet.host();
    let server2 = CatalogServer::start(ServerOpts {
        registries: vec![format!("http://{qhost}")],
        ..ServerOpts::default()
    })
    .unwrap();
    layout
        .build(
            "v2",
            &ImageSpec::new("api 2.0.0").label("dev.catalog.owner", "team-api"),
        )
        .unwrap();
    let api = push(&layout, "v2", &qhost, "shop/api", "2.0.0").unwrap();
    let subject = descriptor(&qhost, "shop/api", &api);
    let spdx = fixture("python.spdx.json");
    let (art, size) = push_sbom_artifact(&qhost, "shop/api", &subject, &spdx, SPDX, None);
    let index = json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": art, "size": size, "artifactType": SPDX}],
    });
    let hex = api.trim_start_matches("sha256:");
    put_manifest(
        &qhost,
        "shop/api",
        &format!("sha256-{hex}"),
        OCI_INDEX,
        &serde_json::to_vec(&index).unwrap(),
    );
    // Forward the image's own push notification (the one naming tag 2.0.0) to the catalog.
    let names_image_push = |b: &[u8]| {
        serde_json::from_slice::<Value>(b).is_ok_and(|v| {
            v["events"].as_array().is_some_and(|evs| {
                evs.iter().any(|e| {
                    e["action"] == "push"
                        && e["target"]["repository"] == "shop/api"
                        && e["target"]["tag"] == "2.0.0"
                })
            })
        })
    };
    let image_push: Vec<Vec<u8>> = server2
        .wait_for(
            "the registry's notification of the image push",
            Duration::from_secs(30),
            || {
                let found: Vec<Vec<u8>> = capture
                    .bodies()
                    .into_iter()
                    .map(|(_, b)| b)
                    .filter(|b| names_image_push(b))
                    .collect();
                Ok((!found.is_empty()).then_some(found))
            },
        )
        .unwrap();
    for body in image_push {
        let (st, text) = server2
            .post(
                "/hooks/distribution",
                "application/vnd.docker.distribution.events.v1+json",
                Some(INGEST_TOKEN),
                body,
            )
            .unwrap();
        assert_eq!(st, 202, "{text}");
    }
    let img = server2
        .wait_for("api's SBOM found at push", Duration::from_secs(30), || {
            Ok(image_sbom(&server2, &api))
        })
        .unwrap();
    assert_eq!(img["sbom"]["via"], "referrers");
    assert_eq!(img["sbom"]["format"], "SPDX");
    assert_eq!(img["componentVersions"][0]["component"], "shop/api");
    assert!(purls(&img).contains(&"pkg:pypi/django@4.2.7".to_string()));
    drop(registry);
    drop(quiet);
}

/// The token `catalog import <kind>` needs: descriptors and advisories are catalog state.
fn token_for_import(args: &[&str]) -> &'static str {
    match args.first() {
        Some(&"backstage") | Some(&"osv") => CATALOG_TOKEN,
        _ => INGEST_TOKEN,
    }
}

/// Runs `catalog import ...`; returns (exit code, stdout, stderr).
fn import(server: &CatalogServer, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(binary().unwrap())
        .arg("import")
        .args(args)
        .args([
            "--server",
            &server.url(""),
            "--token",
            token_for_import(args),
        ])
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

/// The SBOMs of `scripts/sbom-producers.sh`, made now by the real producers.
fn produce_sboms(out: &Path) -> Vec<PathBuf> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/sbom-producers.sh");
    let st = Command::new("bash")
        .arg(&script)
        .arg(out)
        .status()
        .unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
    assert!(
        st.success(),
        "{} failed: it needs python3 with venv, npm, and access to PyPI and npm the first time",
        script.display()
    );
    [
        "python.cdx.json",
        "npm.cdx.json",
        "python.spdx.json",
        "cdxgen-1.7.cdx.json",
        "cdxgen.spdx3.json",
    ]
    .iter()
    .map(|f| out.join(f))
    .collect()
}

const DJANGO_OSV: &str = r#"{
  "id": "GHSA-xxj9-f6rv-m3x4",
  "modified": "2024-02-15T00:00:00Z",
  "published": "2024-02-06T00:00:00Z",
  "aliases": ["CVE-2024-24680"],
  "summary": "Django denial-of-service in intcomma template filter",
  "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}],
  "affected": [{
    "package": {"ecosystem": "PyPI", "name": "Django"},
    "ranges": [{"type": "ECOSYSTEM", "events": [
      {"introduced": "3.2"}, {"fixed": "3.2.24"},
      {"introduced": "4.0"}, {"fixed": "4.2.10"},
      {"introduced": "5.0"}, {"fixed": "5.0.2"}]}]
  }]
}"#;

const EXPRESS_OSV: &str = r#"{
  "id": "GHSA-rv95-896h-c2vc",
  "modified": "2024-03-26T00:00:00Z",
  "aliases": ["CVE-2024-29041"],
  "summary": "Express.js Open Redirect in malformed URLs",
  "affected": [{
    "package": {"ecosystem": "npm", "name": "express"},
    "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "4.19.2"}]}]
  }]
}"#;

const PACKAGE: &str = r#"query($p: String!, $r: String) {
  package(purl: $p, range: $r) {
    package { purl name versionCount }
    versions { version licenses vulnerabilities { id fixed } }
    totals { images deployments owners }
    images(first: 500) { totalCount nodes { digest depth direct deployments { cluster namespace } } }
  }
}"#;

#[test]
fn real_producer_sboms_and_osv_records_import_and_answer() {
    let server = CatalogServer::start(ServerOpts::default()).unwrap();
    let work = TempDir::new("sbom-producers").unwrap();
    let files = produce_sboms(work.path());
    let digests: Vec<String> = files
        .iter()
        .map(|f| sha256(f.to_string_lossy().as_bytes()))
        .collect();
    for (f, d) in files.iter().zip(&digests) {
        let (code, out, err) = import(&server, &["sbom", &f.to_string_lossy(), "--image", d]);
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.contains(&format!("to {d}")), "{out}");
    }
    // The python image runs in prod (a CI pipeline said so).
    let (py_cdx, npm_cdx, py_spdx) = (&digests[0], &digests[1], &digests[2]);
    let (cdxgen_cdx, cdxgen_spdx3) = (&digests[3], &digests[4]);
    let out = Command::new(binary().unwrap())
        .args([
            "deploy",
            "--server",
            &server.url(""),
            "--token",
            INGEST_TOKEN,
        ])
        .args([
            "--cluster",
            "prod-eu-1",
            "--namespace",
            "shop",
            "--environment",
            "prod",
        ])
        .args(["--image", &format!("registry.test/shop/py@{py_cdx}")])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    server
        .wait_for("five SBOMs", Duration::from_secs(30), || {
            let n = digests
                .iter()
                .filter(|d| image_sbom(&server, d).is_some())
                .count();
            Ok((n == 5).then_some(()))
        })
        .unwrap();

    // cdxgen's two documents of the sample npm project: every package with the purl and the
    // depth the document gives it, read here from the JSON apart from the catalog's parser.
    for (file, digest, format, version) in [
        (&files[3], cdxgen_cdx, "CycloneDX", "1.7"),
        (&files[4], cdxgen_spdx3, "SPDX", "3.0.1"),
    ] {
        let doc: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
        let want = if format == "SPDX" {
            spdx3_depths(&doc)
        } else {
            cyclonedx_depths(&doc)
        };
        assert!(want.len() > 50, "{}: {}", file.display(), want.len());
        let img = image_sbom(&server, digest).unwrap();
        assert_eq!(img["sbom"]["format"], format);
        assert_eq!(img["sbom"]["specVersion"], version);
        assert_eq!(
            img["sbom"]["packageCount"],
            want.len(),
            "{}",
            file.display()
        );
        let direct = want.values().filter(|d| **d == Some(1)).count();
        assert_eq!(img["sbom"]["directCount"], direct, "{}", file.display());
        let got: BTreeMap<String, Option<u64>> = img["packages"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["purl"].as_str().unwrap().to_string(), p["depth"].as_u64()))
            .collect();
        assert_eq!(got, want, "{}", file.display());
    }
    // Found by package(purl) in both, as deep as each says, and by search.
    let d = server
        .query(PACKAGE, json!({"p": "pkg:npm/dunder-proto@1.0.1"}))
        .unwrap();
    let mut deep: Vec<(String, Option<u64>)> = d["package"]["images"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["digest"].as_str().unwrap().to_string(),
                i["depth"].as_u64(),
            )
        })
        .filter(|(i, _)| i == cdxgen_cdx || i == cdxgen_spdx3)
        .collect();
    deep.sort();
    let mut want = vec![
        (cdxgen_cdx.to_string(), Some(7)),
        (cdxgen_spdx3.to_string(), Some(7)),
    ];
    want.sort();
    assert_eq!(deep, want, "{d}");
    let hits = server
        .query(r#"{ search(text: "dunder-pro") { id } }"#, json!({}))
        .unwrap()["search"]
        .clone();
    assert_eq!(hits[0]["id"], "pkg:npm/dunder-proto", "{hits}");

    // Search finds packages from each producer.
    let hits = server
        .query(
            r#"{ search(text: "django") { kind id detail } }"#,
            json!({}),
        )
        .unwrap()["search"]
        .clone();
    assert_eq!(hits[0]["kind"], "PACKAGE", "{hits}");
    assert_eq!(hits[0]["id"], "pkg:pypi/django", "{hits}");
    let hits = server
        .query(r#"{ search(text: "@babel/code") { id } }"#, json!({}))
        .unwrap()["search"]
        .clone();
    assert_eq!(hits[0]["id"], "pkg:npm/%40babel/code-frame", "{hits}");
    let hits = server
        .query(r#"{ search(text: "pkg:npm/expr") { id } }"#, json!({}))
        .unwrap()["search"]
        .clone();
    assert_eq!(hits[0]["id"], "pkg:npm/express", "{hits}");

    // Django 4.2.7 is in both Python SBOMs (CycloneDX and SPDX), directly.
    let d = server
        .query(PACKAGE, json!({"p": "pkg:pypi/Django"}))
        .unwrap();
    let p = &d["package"];
    assert_eq!(p["package"]["purl"], "pkg:pypi/django");
    assert_eq!(p["versions"][0]["version"], "4.2.7");
    let mut imgs: Vec<&str> = p["images"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["digest"].as_str().unwrap())
        .collect();
    imgs.sort();
    let mut want = vec![py_cdx.as_str(), py_spdx.as_str()];
    want.sort();
    assert_eq!(imgs, want);
    assert_eq!(p["totals"]["deployments"], 1);
    assert_eq!(p["images"]["totalCount"], 2);
    // The report's lists, a page at a time: every item once, in order, counted.
    const PAGE: &str = "totalCount pageInfo { hasNextPage hasPreviousPage endCursor }";
    for (field, sel) in [
        ("images", "digest direct"),
        ("deployments", "cluster namespace workload"),
        ("owners", "name"),
    ] {
        let q = format!("query($first: Int, $after: String) {{ package(purl: \"pkg:pypi/Django\") {{ {field}(first: $first, after: $after) {{ {PAGE} nodes {{ {sel} }} }} }} }}");
        let all = server
            .paged(&q, json!({}), &format!("/package/{field}"), 1, None)
            .unwrap();
        if field == "images" {
            assert_eq!(all.len(), 2);
        }
    }
    // urllib3 comes through requests: transitive in the CycloneDX dependency graph.
    let d = server
        .query(PACKAGE, json!({"p": "pkg:pypi/urllib3@2.8.0"}))
        .unwrap();
    let img = d["package"]["images"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["digest"] == py_cdx.as_str())
        .cloned()
        .unwrap();
    assert_eq!(img["direct"], false, "{img}");
    // npm: express directly, with the right version; a vers: range in npm's scheme.
    let d = server
        .query(
            PACKAGE,
            json!({"p": "pkg:npm/express", "r": "vers:npm/>=4.0.0|<4.19.2"}),
        )
        .unwrap();
    assert_eq!(d["package"]["versions"][0]["version"], "4.18.2");
    assert_eq!(d["package"]["images"]["nodes"][0]["direct"], true);
    let d = server
        .query(
            PACKAGE,
            json!({"p": "pkg:npm/express", "r": "vers:npm/>=4.19.2"}),
        )
        .unwrap();
    assert!(d["package"]["images"]["nodes"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(d["package"]["images"]["totalCount"], 0);

    // OSV records from a directory: matched locally.
    let osv = work.path().join("osv");
    std::fs::create_dir_all(osv.join("pypi")).unwrap();
    std::fs::write(osv.join("pypi/GHSA-xxj9-f6rv-m3x4.json"), DJANGO_OSV).unwrap();
    std::fs::write(osv.join("GHSA-rv95-896h-c2vc.json"), EXPRESS_OSV).unwrap();
    let (code, out, err) = import(&server, &["osv", &osv.to_string_lossy()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("imported 2 OSV records"), "{out}");
    let report = server
        .wait_for("the Django advisory", Duration::from_secs(30), || {
            let d = server.query(
                r#"{ vulnerability(id: "CVE-2024-24680") {
                     id summary totals { images deployments clusters }
                     packageVersions { purl } deployments { nodes { cluster } } } }"#,
                json!({}),
            )?;
            Ok((!d["vulnerability"].is_null()).then(|| d["vulnerability"].clone()))
        })
        .unwrap();
    assert_eq!(report["id"], "GHSA-xxj9-f6rv-m3x4");
    assert_eq!(
        report["packageVersions"][0]["purl"],
        "pkg:pypi/django@4.2.7"
    );
    assert_eq!(report["totals"]["images"], 2);
    assert_eq!(report["totals"]["deployments"], 1);
    assert_eq!(report["deployments"]["nodes"][0]["cluster"], "prod-eu-1");
    for (field, sel) in [
        ("images", "digest"),
        ("deployments", "cluster workload"),
        ("owners", "name"),
        ("suppressed", "digest"),
    ] {
        let q = format!("query($first: Int, $after: String) {{ vulnerability(id: \"CVE-2024-24680\") {{ {field}(first: $first, after: $after) {{ totalCount pageInfo {{ hasNextPage hasPreviousPage endCursor }} nodes {{ {sel} }} }} }} }}");
        let all = server
            .paged(&q, json!({}), &format!("/vulnerability/{field}"), 1, None)
            .unwrap();
        if field == "images" {
            assert_eq!(all.len(), 2);
        }
    }
    let v = server
        .query(
            r#"{ vulnerabilities(cluster: "prod-eu-1") { totalCount nodes { id packageVersion fixed } } }"#,
            json!({}),
        )
        .unwrap();
    let nodes = &v["vulnerabilities"]["nodes"];
    assert_eq!(nodes[0]["id"], "GHSA-xxj9-f6rv-m3x4", "{v}");
    assert_eq!(nodes[0]["fixed"], json!(["3.2.24", "4.2.10", "5.0.2"]));
    let v = server
        .query(
            "query($d:String!){ vulnerabilities(image: $d) { nodes { id } } }",
            json!({"d": npm_cdx}),
        )
        .unwrap();
    assert_eq!(
        v["vulnerabilities"]["nodes"][0]["id"], "GHSA-rv95-896h-c2vc",
        "{v}"
    );
    // Paged one at a time, the cluster's list is the same, each match once.
    server
        .paged(
            r#"query($first: Int, $after: String) { vulnerabilities(cluster: "prod-eu-1", first: $first, after: $after) {
                 totalCount pageInfo { hasNextPage hasPreviousPage endCursor } nodes { id packageVersion } } }"#,
            json!({}),
            "/vulnerabilities",
            1,
            None,
        )
        .unwrap();

    // Re-importing the same records (now as a zip, as osv.dev publishes them) and the same
    // SBOM changes nothing.
    let before = server.event_count().unwrap();
    let zip = work.path().join("osv.zip");
    let st = Command::new("python3")
        .args([
            "-c",
            "import shutil, sys; shutil.make_archive(sys.argv[1][:-4], 'zip', sys.argv[2])",
        ])
        .arg(&zip)
        .arg(&osv)
        .status()
        .unwrap();
    assert!(st.success());
    let (code, out, err) = import(&server, &["osv", &zip.to_string_lossy()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("imported 2 OSV records"), "{out}");
    let (code, _, err) = import(
        &server,
        &["sbom", &files[0].to_string_lossy(), "--image", py_cdx],
    );
    assert_eq!(code, 0, "{err}");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(server.event_count().unwrap(), before);

    // VEX takes both Django images out of the counts: they move to `suppressed`, which pages
    // like the other lists.
    for d in [py_cdx, py_spdx] {
        let (st, v) = server
            .graphql_as(
                Some(CATALOG_TOKEN),
                r#"mutation($d: String!) { recordVexStatement(vulnerability: "GHSA-xxj9-f6rv-m3x4", image: $d,
                     status: NOT_AFFECTED, justification: "vulnerable_code_not_in_execute_path") }"#,
                json!({"d": d}),
            )
            .unwrap();
        assert_eq!(st, 200, "{v}");
        assert!(v.get("errors").is_none(), "{v}");
    }
    server
        .wait_for("both images suppressed", Duration::from_secs(30), || {
            let d = server.query(
                r#"{ vulnerability(id: "CVE-2024-24680") { suppressed { totalCount } images { totalCount } } }"#,
                json!({}),
            )?;
            let r = &d["vulnerability"];
            Ok((r["suppressed"]["totalCount"] == 2 && r["images"]["totalCount"] == 0).then_some(()))
        })
        .unwrap();
    let suppressed = server
        .paged(
            "query($first: Int, $after: String) { vulnerability(id: \"CVE-2024-24680\") { suppressed(first: $first, after: $after) { totalCount pageInfo { hasNextPage hasPreviousPage endCursor } nodes { digest vex { status author } } } } }",
            json!({}),
            "/vulnerability/suppressed",
            1,
            None,
        )
        .unwrap();
    let mut digests: Vec<&str> = suppressed
        .iter()
        .map(|s| s["digest"].as_str().unwrap())
        .collect();
    digests.sort();
    let mut want = vec![py_cdx.as_str(), py_spdx.as_str()];
    want.sort();
    assert_eq!(digests, want);
    assert!(suppressed
        .iter()
        .all(|s| s["vex"]["status"] == "not_affected"));
}

/// Shortest distances from `roots` over `adj`, in a document's own ids.
fn bfs_ids(adj: &HashMap<String, Vec<String>>, roots: &[String]) -> HashMap<String, u64> {
    let mut dist: HashMap<String, u64> = roots.iter().map(|r| (r.clone(), 0)).collect();
    let mut queue: VecDeque<String> = roots.iter().cloned().collect();
    while let Some(n) = queue.pop_front() {
        let next = dist[&n] + 1;
        for m in adj.get(&n).into_iter().flatten() {
            if !dist.contains_key(m) {
                dist.insert(m.clone(), next);
                queue.push_back(m.clone());
            }
        }
    }
    dist
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// purl -> depth of a CycloneDX document's components (cdxgen's are not nested), from
/// `metadata.component` over `dependencies`.
fn cyclonedx_depths(doc: &Value) -> BTreeMap<String, Option<u64>> {
    let root = doc["metadata"]["component"]["bom-ref"].as_str().unwrap();
    let adj: HashMap<String, Vec<String>> = doc["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["ref"].as_str().unwrap().to_string(),
                strings(&d["dependsOn"]),
            )
        })
        .collect();
    let dist = bfs_ids(&adj, &[root.to_string()]);
    doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert!(c["components"].is_null(), "nested: {c}");
            let r = c["bom-ref"].as_str().unwrap();
            (
                c["purl"].as_str().unwrap().to_string(),
                dist.get(r).copied(),
            )
        })
        .collect()
}

/// purl -> depth of an SPDX 3 document's packages but its root elements, from the
/// SpdxDocument's `rootElement` over `dependsOn` and `contains` relationships.
fn spdx3_depths(doc: &Value) -> BTreeMap<String, Option<u64>> {
    let graph = doc["@graph"].as_array().unwrap();
    let of_type = |t: &'static str| graph.iter().filter(move |e| e["type"] == t);
    let roots = strings(&of_type("SpdxDocument").next().unwrap()["rootElement"]);
    let mut adj: HashMap<String, Vec<String>> = HashMap::new();
    for r in of_type("Relationship")
        .filter(|r| r["relationshipType"] == "dependsOn" || r["relationshipType"] == "contains")
    {
        adj.entry(r["from"].as_str().unwrap().to_string())
            .or_default()
            .extend(strings(&r["to"]));
    }
    let dist = bfs_ids(&adj, &roots);
    of_type("software_Package")
        .filter(|p| !roots.iter().any(|r| p["spdxId"] == r.as_str()))
        .map(|p| {
            let id = p["spdxId"].as_str().unwrap();
            let purl = p["software_packageUrl"].as_str().unwrap().to_string();
            (purl, dist.get(id).copied())
        })
        .collect()
}

fn error_of(body: &str) -> Value {
    let v: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body}"));
    v["error"].clone()
}

#[test]
fn bad_sboms_are_refused_whole_and_bad_osv_records_one_by_one() {
    let server = CatalogServer::start(ServerOpts {
        extra_args: vec!["--max-sbom-bytes".into(), "8388608".into()],
        ..ServerOpts::default()
    })
    .unwrap();
    let image = sha256(b"an image");
    let path = format!("/hooks/sbom?image={image}");
    let post = |path: &str, body: Vec<u8>| {
        server
            .post(path, "application/json", Some(INGEST_TOKEN), body)
            .unwrap()
    };
    let before = server.event_count().unwrap();

    let (st, body) = post(&path, fixture("truncated.cdx.json"));
    assert_eq!(st, 400, "{body}");
    assert_eq!(error_of(&body)["field"], "body");
    // Another major version of CycloneDX: refused, naming specVersion.
    let spec_2 = String::from_utf8(fixture("spec-1.7.cdx.json"))
        .unwrap()
        .replace("\"1.7\"", "\"2.0\"");
    let (st, body) = post(&path, spec_2.into_bytes());
    assert_eq!(st, 400, "{body}");
    assert_eq!(error_of(&body)["field"], "specVersion");
    assert!(
        error_of(&body)["message"]
            .as_str()
            .unwrap()
            .contains("major version 2"),
        "{body}"
    );
    let (st, body) = post("/hooks/sbom", fixture("nested-1.4.cdx.json"));
    assert_eq!(st, 400, "no image named anywhere: {body}");
    assert_eq!(error_of(&body)["field"], "image");
    let (st, body) = post("/hooks/sbom?image=latest", fixture("nested-1.4.cdx.json"));
    assert_eq!(st, 400, "{body}");
    assert_eq!(error_of(&body)["field"], "image");
    let (st, body) = server
        .post(
            &path,
            "text/plain",
            Some(INGEST_TOKEN),
            fixture("nested-1.4.cdx.json"),
        )
        .unwrap();
    assert_eq!(st, 415, "{body}");
    let (st, _) = server
        .post(
            &path,
            "application/json",
            None,
            fixture("nested-1.4.cdx.json"),
        )
        .unwrap();
    assert_eq!(st, 401);
    // Over the limit (8 MiB here; 32 MiB by default): refused from its Content-Length.
    let mut big = b"{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\",\"pad\":\"".to_vec();
    big.resize(100 * 1024 * 1024, b'x');
    big.extend_from_slice(b"\"}");
    let (st, body) = post(&path, big);
    assert_eq!(st, 413, "{body}");
    assert!(body.contains("--max-sbom-bytes"), "{body}");
    assert_eq!(
        server.event_count().unwrap(),
        before,
        "nothing half-written"
    );
    // OSV: a record whose range version does not parse in its scheme, alone, is refused,
    // naming its id and field, and writes nothing.
    let osv = |body: String| {
        server
            .post(
                "/hooks/osv",
                "application/json",
                Some(CATALOG_TOKEN),
                body.into_bytes(),
            )
            .unwrap()
    };
    let bad_semver = EXPRESS_OSV
        .replace("GHSA-rv95-896h-c2vc", "GHSA-bad1-semver")
        .replace(r#"{"fixed": "4.19.2"}"#, r#"{"fixed": "not a version"}"#);
    let bad_pypi = EXPRESS_OSV
        .replace("GHSA-rv95-896h-c2vc", "GHSA-bad2-pypi")
        .replace(r#""ecosystem": "npm""#, r#""ecosystem": "PyPI""#)
        .replace(r#""type": "SEMVER""#, r#""type": "ECOSYSTEM""#)
        .replace(r#"{"fixed": "4.19.2"}"#, r#"{"fixed": "1.0+a+b"}"#);
    let (st, body) = osv(bad_semver.clone());
    assert_eq!(st, 400, "{body}");
    assert_eq!(
        error_of(&body)["field"],
        "affected[0].ranges[0].events[1].fixed",
        "{body}"
    );
    let msg = error_of(&body)["message"].as_str().unwrap().to_string();
    assert!(
        msg.contains("GHSA-bad1-semver") && msg.contains("\"not a version\""),
        "{body}"
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(server.event_count().unwrap(), before, "nothing written");
    // In a batch, the bad records are refused one by one and the good one is kept.
    let (st, body) = osv(format!(
        "[{bad_semver}, {EXPRESS_OSV}, {{\"modified\": \"2024-01-01T00:00:00Z\"}}, {bad_pypi}]"
    ));
    assert_eq!(st, 202, "{body}");
    let receipt: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(receipt["accepted"], 1, "{body}");
    assert_eq!(
        receipt["refused"],
        json!([
            {"record": "[0]", "id": "GHSA-bad1-semver",
             "field": "affected[0].ranges[0].events[1].fixed",
             "reason": "\"not a version\" is not a version: a SEMVER range needs SemVer 2.0"},
            {"record": "[2]", "field": "id", "reason": "missing"},
            {"record": "[3]", "id": "GHSA-bad2-pypi",
             "field": "affected[0].ranges[0].events[1].fixed",
             "reason": "\"1.0+a+b\" is not a version: the \"PyPI\" ecosystem's versions are PEP 440"},
        ]),
        "{body}"
    );
    server
        .wait_for("the good record", Duration::from_secs(20), || {
            let d = server.query(
                r#"{ a: vulnerability(id: "GHSA-rv95-896h-c2vc") { id }
                     b: vulnerability(id: "GHSA-bad1-semver") { id } }"#,
                json!({}),
            )?;
            Ok(d["a"]["id"].is_string().then_some(d))
        })
        .map(|d| assert!(d["b"].is_null(), "a refused record was kept: {d}"))
        .unwrap();
    assert_eq!(server.event_count().unwrap(), before + 1);

    // An invalid purl is a per-component warning; a dependency cycle terminates.
    let (st, body) = post(&path, fixture("invalid-purl.cdx.json"));
    assert_eq!(st, 202, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert!(
        v["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("purl")),
        "{body}"
    );
    // CycloneDX 1.7 is read; a later minor version (1.8) too, as 1.7, with a warning in the
    // receipt.
    for (version, warned) in [("1.7", false), ("1.8", true)] {
        let doc = String::from_utf8(fixture("spec-1.7.cdx.json"))
            .unwrap()
            .replace("\"1.7\"", &format!("\"{version}\""));
        let digest = sha256(version.as_bytes());
        let (st, body) = post(&format!("/hooks/sbom?image={digest}"), doc.into_bytes());
        assert_eq!(st, 202, "{version}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        let warnings = v["warnings"].as_array().cloned().unwrap_or_default();
        assert_eq!(
            warnings.iter().any(|w| {
                let w = w.as_str().unwrap();
                w.starts_with("specVersion:") && w.contains("read as 1.7")
            }),
            warned,
            "{version}: {body}"
        );
        let img = server
            .wait_for("a CycloneDX 1.x SBOM", Duration::from_secs(20), || {
                Ok(image_sbom(&server, &digest))
            })
            .unwrap();
        assert_eq!(img["sbom"]["specVersion"], version);
        assert_eq!(purls(&img), ["pkg:npm/left-pad@1.3.0"]);
    }
    let cyclic = sha256(b"cyclic");
    let (st, body) = post(
        &format!("/hooks/sbom?image={cyclic}"),
        fixture("cycle.cdx.json"),
    );
    assert_eq!(st, 202, "{body}");
    // GraphQL: a bad purl, a bad range, a range in another ecosystem's scheme, a range with a
    // versioned purl and a bad digest each name their argument; an unknown package is null.
    for (query, field) in [
        (
            r#"{ package(purl: "log4j") { totals { images } } }"#,
            "purl",
        ),
        (
            r#"{ package(purl: "pkg:maven/log4j-core") { totals { images } } }"#,
            "purl",
        ),
        (
            r#"{ package(purl: "pkg:npm/x", range: ">=1.0") { totals { images } } }"#,
            "range",
        ),
        (
            r#"{ package(purl: "pkg:npm/x", range: "vers:npm/>=1|<") { totals { images } } }"#,
            "range",
        ),
        (
            r#"{ package(purl: "pkg:npm/x", range: "vers:pypi/>=1") { totals { images } } }"#,
            "range",
        ),
        (
            r#"{ package(purl: "pkg:npm/x@1", range: "vers:npm/>=1") { totals { images } } }"#,
            "range",
        ),
        (
            r#"{ vulnerabilities(image: "latest") { nodes { id } } }"#,
            "image",
        ),
        (
            r#"{ vulnerabilities(component: "shop/cart") { nodes { id } } }"#,
            "version",
        ),
        (r#"{ search(text: "x", first: 0) { id } }"#, "first"),
    ] {
        let (st, v) = server.graphql_as(None, query, json!({})).unwrap();
        assert_eq!(st, 200, "{v}");
        assert_eq!(
            v["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{query}: {v}"
        );
        assert_eq!(v["errors"][0]["extensions"]["field"], field, "{query}: {v}");
    }
    let d = server
        .query(
            r#"{ package(purl: "pkg:npm/never-seen") { totals { images } } }"#,
            json!({}),
        )
        .unwrap();
    assert!(d["package"].is_null(), "{d}");

    let bad_purl = server
        .wait_for("the SBOM with a bad purl", Duration::from_secs(20), || {
            Ok(image_sbom(&server, &image))
        })
        .unwrap();
    let (_, v) = server
        .graphql_as(
            None,
            "query($d: String!) { image(digest: $d) { packages(after: \"x\") { pageInfo { endCursor } } } }",
            json!({"d": image}),
        )
        .unwrap();
    assert_eq!(v["errors"][0]["extensions"]["field"], "after", "{v}");
    let lib12 = bad_purl["packages"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "lib12")
        .cloned()
        .unwrap();
    assert!(lib12["purl"].is_null(), "kept by name and version: {lib12}");
    assert_eq!(lib12["version"], "1.12.0");
    assert_eq!(bad_purl["sbom"]["packageCount"], 14);
    // Paging 3 at a time by cursor returns every package exactly once, in SBOM order.
    let all: Vec<Value> = bad_purl["packages"]["nodes"].as_array().unwrap().clone();
    assert_eq!(bad_purl["packages"]["totalCount"], 14);
    let mut paged = Vec::new();
    let mut after = Value::Null;
    let mut pages = 0;
    loop {
        let d = server
            .query(
                "query($d: String!, $a: String) { image(digest: $d) { packages(first: 3, after: $a) {
                   totalCount nodes { purl name version depth direct }
                   pageInfo { hasNextPage hasPreviousPage endCursor } } } }",
                json!({"d": image, "a": after}),
            )
            .unwrap();
        let c = &d["image"]["packages"];
        assert_eq!(c["totalCount"], 14, "{c}");
        assert_eq!(c["pageInfo"]["hasPreviousPage"], pages > 0, "{c}");
        paged.extend(c["nodes"].as_array().unwrap().iter().cloned());
        pages += 1;
        if c["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = c["pageInfo"]["endCursor"].clone();
        assert!(after.is_string(), "{c}");
    }
    assert_eq!(pages, 5);
    assert_eq!(paged, all);
    // A cursor is refused by a list it does not belong to (the direct-only list here).
    let (_, v) = server
        .graphql_as(
            None,
            "query($d: String!, $a: String) { image(digest: $d) { packages(direct: true, after: $a) { totalCount } } }",
            json!({"d": image, "a": after}),
        )
        .unwrap();
    assert_eq!(v["errors"][0]["extensions"]["field"], "after", "{v}");
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("not a cursor of this connection"),
        "{v}"
    );
    let cycle = server
        .wait_for("the cyclic SBOM", Duration::from_secs(20), || {
            Ok(image_sbom(&server, &cyclic))
        })
        .unwrap();
    let depths: Vec<(String, Value)> = cycle["packages"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap().to_string(), p["depth"].clone()))
        .collect();
    assert_eq!(
        depths,
        [
            ("a".to_string(), json!(1)),
            ("b".to_string(), json!(2)),
            ("c".to_string(), json!(3)),
            ("d".to_string(), Value::Null),
        ],
        "shortest paths from the subject; d is not reachable from it"
    );
}
