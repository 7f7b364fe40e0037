//! Strict input: a JSON body that repeats a key is refused by every kind of hook (hand-read,
//! serde-typed, registry, SBOM, OSV) with the key's path, the `Authorization` scheme is read
//! case-insensitively, and `catalog import osv` refuses a zip entry larger than its cap
//! whatever size the archive declares.

use catalog_tests::registry::TempDir;
use catalog_tests::server::{ADMIN_TOKEN, CATALOG_TOKEN, INGEST_TOKEN};
use catalog_tests::{CatalogServer, ServerOpts};
use serde_json::Value;

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

#[test]
fn a_repeated_key_in_any_hook_body_is_refused_naming_it() {
    let s = CatalogServer::start(ServerOpts::default()).unwrap();
    let sbom = format!("/hooks/sbom?image={DIGEST}");
    // (path, content type, token, body, the field the error names)
    let cases: [(&str, &str, &str, &str, &str); 6] = [
        (
            "/hooks/deployments",
            "application/json",
            INGEST_TOKEN,
            r#"{"cluster":"c","cluster":"d","namespace":"n","component":"x"}"#,
            "cluster",
        ),
        (
            "/hooks/distribution",
            "application/vnd.docker.distribution.events.v1+json",
            INGEST_TOKEN,
            r#"{"events":[{"action":"push","target":{"repository":"a/b","digest":"sha256:1","digest":"sha256:2"}}]}"#,
            "events[0].target.digest",
        ),
        (
            "/hooks/harbor",
            "application/json",
            INGEST_TOKEN,
            r#"{"type":"PUSH_ARTIFACT","event_data":{"resources":[]},"type":"DELETE_ARTIFACT"}"#,
            "type",
        ),
        (
            &sbom,
            "application/vnd.cyclonedx+json",
            INGEST_TOKEN,
            r#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"type":"library","name":"a","purl":"pkg:npm/a@1","purl":"pkg:npm/b@1"}]}"#,
            "components[0].purl",
        ),
        (
            "/hooks/osv",
            "application/json",
            ADMIN_TOKEN,
            r#"[{"id":"GHSA-1","id":"GHSA-2","modified":"2026-01-01T00:00:00Z"}]"#,
            "[0].id",
        ),
        (
            "/hooks/kubernetes?cluster=c",
            "application/json",
            INGEST_TOKEN,
            r#"{"kind":"PodList","items":[],"kind":"List"}"#,
            "kind",
        ),
    ];
    for (path, ct, token, body, field) in cases {
        let (st, text) = s.post(path, ct, Some(token), body.into()).unwrap();
        assert_eq!(st, 400, "{path}: {text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["error"]["field"], field, "{path}: {text}");
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("duplicate key"),
            "{path}: {text}"
        );
    }
    assert_eq!(s.event_count().unwrap(), 0);
    assert_eq!(s.pending().unwrap(), 0);
}

#[test]
fn the_bearer_scheme_is_case_insensitive() {
    let s = CatalogServer::start(ServerOpts::default()).unwrap();
    let http = reqwest::blocking::Client::new();
    let body = r#"{"cluster":"c","namespace":"n","component":"cart","version":"1.0.0"}"#;
    for scheme in ["BEARER", "bearer", "bEaReR"] {
        for path in ["/hooks/deployments", "/hooks/harbor"] {
            let r = http
                .post(s.url(path))
                .header("content-type", "application/json")
                .header("authorization", format!("{scheme} {INGEST_TOKEN}"))
                .body(if path == "/hooks/deployments" {
                    body
                } else {
                    // A Harbor event it does not act on: accepted, nothing to record.
                    r#"{"type":"SCANNING_COMPLETED","event_data":{}}"#
                })
                .send()
                .unwrap();
            let st = r.status().as_u16();
            assert!(
                (200..300).contains(&st),
                "{scheme} on {path}: {st} {}",
                r.text().unwrap()
            );
        }
    }
    // A scheme that is not Bearer is still refused.
    let r = http
        .post(s.url("/hooks/deployments"))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearerx {INGEST_TOKEN}"))
        .body(body)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
}

/// A stored zip with one entry, `name` holding `data`, whose headers declare `declared`
/// bytes uncompressed (what a zip bomb lies about). Built by hand: the point is the lie.
fn zip_declaring(name: &str, data: &[u8], declared: u32) -> Vec<u8> {
    let n = name.len() as u16;
    let len = data.len() as u32;
    let mut z = Vec::new();
    // Local file header: version, flags, method 0 (stored), time, date, CRC, sizes, name.
    z.extend(0x0403_4b50u32.to_le_bytes());
    z.extend([20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    z.extend(0u32.to_le_bytes());
    z.extend(len.to_le_bytes());
    z.extend(declared.to_le_bytes());
    z.extend(n.to_le_bytes());
    z.extend(0u16.to_le_bytes());
    z.extend(name.as_bytes());
    z.extend(data);
    let central = z.len() as u32;
    // Central directory entry.
    z.extend(0x0201_4b50u32.to_le_bytes());
    z.extend([20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    z.extend(0u32.to_le_bytes());
    z.extend(len.to_le_bytes());
    z.extend(declared.to_le_bytes());
    z.extend(n.to_le_bytes());
    z.extend([0, 0, 0, 0, 0, 0, 0, 0]);
    z.extend(0u32.to_le_bytes());
    z.extend(0u32.to_le_bytes());
    z.extend(name.as_bytes());
    let size = z.len() as u32 - central;
    // End of central directory.
    z.extend(0x0605_4b50u32.to_le_bytes());
    z.extend([0, 0, 0, 0, 1, 0, 1, 0]);
    z.extend(size.to_le_bytes());
    z.extend(central.to_le_bytes());
    z.extend(0u16.to_le_bytes());
    z
}

#[test]
fn an_osv_zip_entry_declaring_a_huge_size_is_refused_naming_it_and_the_limit() {
    let dir = TempDir::new("bomb").unwrap();
    let path = dir.path().join("bomb.zip");
    let record = br#"{"id":"GHSA-1","modified":"2026-01-01T00:00:00Z"}"#;
    std::fs::write(&path, zip_declaring("GHSA-1.json", record, 0xFFFF_FFF0)).unwrap();
    let out = std::process::Command::new(catalog_tests::server::binary().unwrap())
        .args(["import", "osv"])
        .arg(&path)
        // Never reached: the archive is refused before anything is sent.
        .args(["--server", "http://127.0.0.1:9", "--token", ADMIN_TOKEN])
        .env_remove("CATALOG_TOKEN")
        .env_remove("CATALOG_SERVER")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("bomb.zip!GHSA-1.json"), "{err}");
    assert!(
        err.contains("the limit for one entry is 33554432 bytes"),
        "{err}"
    );
}

/// `catalog import osv` of a directory where one record's range does not parse: the others are
/// imported, the bad one is named with its id, file and field, and the exit code says so.
#[test]
fn an_osv_import_keeps_the_good_records_and_names_the_bad_one() {
    let s = CatalogServer::start(ServerOpts::default()).unwrap();
    let dir = TempDir::new("osv-mixed").unwrap();
    let record = |id: &str, fixed: &str| {
        format!(
            r#"{{"id": "{id}", "modified": "2026-01-01T00:00:00Z", "affected": [
                {{"package": {{"ecosystem": "Maven", "name": "org.example:lib"}},
                  "ranges": [{{"type": "SEMVER", "events": [{{"introduced": "0"}}, {{"fixed": "{fixed}"}}]}}]}}]}}"#
        )
    };
    std::fs::write(dir.path().join("a.json"), record("GHSA-good-1", "2.0.0")).unwrap();
    std::fs::write(dir.path().join("b.json"), record("GHSA-bad-1", "2.0.0.RC1")).unwrap();
    std::fs::write(dir.path().join("c.json"), record("GHSA-good-2", "3.1.0")).unwrap();
    let out = std::process::Command::new(catalog_tests::server::binary().unwrap())
        .args(["import", "osv"])
        .arg(dir.path())
        .args(["--server", &s.url(""), "--token", CATALOG_TOKEN])
        .env_remove("CATALOG_TOKEN")
        .env_remove("CATALOG_SERVER")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("imported 2 OSV records"), "{err}");
    let bad = format!(
        r#"GHSA-bad-1 in {}: affected[0].ranges[0].events[1].fixed: "2.0.0.RC1" is not a version"#,
        dir.path().join("b.json").display()
    );
    assert!(err.contains(&bad), "{err}");
    let d = s
        .wait_for(
            "the good records",
            std::time::Duration::from_secs(20),
            || {
                let d = s.query(
                    r#"{ a: vulnerability(id: "GHSA-good-1") { id }
                     b: vulnerability(id: "GHSA-bad-1") { id }
                     c: vulnerability(id: "GHSA-good-2") { id } }"#,
                    serde_json::json!({}),
                )?;
                Ok((d["a"]["id"].is_string() && d["c"]["id"].is_string()).then_some(d))
            },
        )
        .unwrap();
    assert!(d["b"].is_null(), "{d}");
}
