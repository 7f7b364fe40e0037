//! What a hostile SBOM costs the server: bodies at the size limit built to hit the parser's
//! worst cases (200k+ licenses on one component, millions of unknown `dependsOn` refs) must
//! finish in seconds with a small answer, a bounded memory peak and a small database, and a
//! SIGTERM must not wait for a long parse.

use catalog_tests::server::INGEST_TOKEN;
use catalog_tests::{CatalogServer, ServerOpts};
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// `--max-sbom-bytes`' default.
const LIMIT: usize = 32 * 1024 * 1024;

fn image(n: u8) -> String {
    format!("sha256:{}", format!("{n:02x}").repeat(32))
}

/// A CycloneDX document of just under `LIMIT` bytes of distinct licenses: `per` on each
/// component (the last one fewer), as many components as fit. Returns it, the number of
/// licenses and of components.
fn licence_heavy(per: usize) -> (Vec<u8>, usize, usize) {
    let mut s = String::with_capacity(LIMIT);
    s.push_str(r#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":["#);
    let (mut n, mut components) = (0, 0);
    while s.len() < LIMIT - 4096 {
        if components > 0 {
            s.push(',');
        }
        let _ = write!(
            s,
            r#"{{"name":"heavy{components}","version":"1","purl":"pkg:npm/heavy{components}@1","licenses":["#
        );
        components += 1;
        for k in 0..per {
            if s.len() >= LIMIT - 4096 {
                break;
            }
            if k > 0 {
                s.push(',');
            }
            let _ = write!(s, r#"{{"license":{{"id":"LicenseRef-{k}"}}}}"#);
            n += 1;
        }
        s.push_str("]}");
    }
    s.push_str("]}");
    (s.into_bytes(), n, components)
}

/// A CycloneDX document of just under `LIMIT` bytes whose one dependency entry names
/// millions of refs no component has.
fn unknown_refs() -> (Vec<u8>, usize) {
    let mut s = String::with_capacity(LIMIT);
    s.push_str(
        r#"{"bomFormat":"CycloneDX","specVersion":"1.5","metadata":{"component":{"bom-ref":"root","name":"app"}},"components":[{"bom-ref":"a","name":"a","version":"1","purl":"pkg:npm/a@1"}],"dependencies":[{"ref":"root","dependsOn":["a""#,
    );
    let mut n = 0;
    while s.len() < LIMIT - 1024 {
        let _ = write!(s, r#","x{n:x}""#);
        n += 1;
    }
    s.push_str("]}]}");
    (s.into_bytes(), n)
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap()
}

/// POSTs an SBOM; returns the status, the body and how long it took.
fn upload(server: &CatalogServer, image: &str, body: Vec<u8>) -> (u16, String, Duration) {
    let t = Instant::now();
    let r = client()
        .post(server.url(&format!("/hooks/sbom?image={image}")))
        .header("content-type", "application/vnd.cyclonedx+json")
        .bearer_auth(INGEST_TOKEN)
        .body(body)
        .send()
        .unwrap();
    let status = r.status().as_u16();
    (status, r.text().unwrap(), t.elapsed())
}

/// Waits until the worker has attached the SBOM to its image; returns its package count.
fn recorded(server: &CatalogServer, image: &str) -> i64 {
    server
        .wait_for("the SBOM attached", Duration::from_secs(60), || {
            let d = server.query(
                "query($d: String!) { image(digest: $d) { sbom { packageCount } } }",
                json!({"d": image}),
            )?;
            Ok(d["image"]["sbom"]["packageCount"].as_i64())
        })
        .unwrap()
}

fn database_bytes(server: &CatalogServer) -> u64 {
    ["catalog.db", "catalog.db-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(server.dir.path().join(f)).ok())
        .map(|m| m.len())
        .sum()
}

#[test]
fn a_32_mib_sbom_of_licenses_or_unknown_refs_costs_seconds_and_a_small_answer() {
    let server = CatalogServer::start(ServerOpts::default()).unwrap();

    // 200k+ licenses on one component: refused, naming the array and the limit.
    let (body, licenses, _) = licence_heavy(usize::MAX);
    assert!(body.len() <= LIMIT && licenses > 200_000, "{licenses}");
    let (st, answer, took) = upload(&server, &image(1), body);
    eprintln!(
        "{licenses} licenses on one component: {st} in {took:?}, {} B answer",
        answer.len()
    );
    assert_eq!(st, 400, "{answer}");
    assert!(took < Duration::from_secs(60), "{took:?}");
    let e: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(e["error"]["field"], "components[0].licenses", "{e}");
    assert!(
        e["error"]["reason"]
            .as_str()
            .unwrap()
            .contains(&format!("{licenses} entries; at most 1000")),
        "{e}"
    );

    // As many across components, 1,000 each: recorded, each license once.
    let (body, licenses, components) = licence_heavy(1000);
    assert!(body.len() <= LIMIT && licenses > 200_000, "{licenses}");
    let (st, answer, took) = upload(&server, &image(1), body);
    eprintln!(
        "{licenses} licenses on {components} components: {st} in {took:?}, {} B answer",
        answer.len()
    );
    assert_eq!(st, 202, "{answer}");
    assert!(took < Duration::from_secs(60), "{took:?}");
    assert!(answer.len() < 64 * 1024, "{} B", answer.len());
    assert_eq!(recorded(&server, &image(1)), components as i64);
    let d = server
        .query(
            "{ package(purl: \"pkg:npm/heavy7\") { versions { licenses } } }",
            json!({}),
        )
        .unwrap();
    let kept = d["package"]["versions"][0]["licenses"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(kept, 1000, "every distinct license is kept, once");

    let (body, refs) = unknown_refs();
    assert!(body.len() <= LIMIT && refs > 3_000_000, "{refs}");
    let (st, answer, took) = upload(&server, &image(2), body);
    eprintln!(
        "{refs} unknown dependsOn refs: {st} in {took:?}, {} B answer",
        answer.len()
    );
    assert_eq!(st, 202, "{answer}");
    assert!(took < Duration::from_secs(60), "{took:?}");
    assert!(answer.len() < 64 * 1024, "{} B", answer.len());
    let a: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(a["warnings"].as_array().map(Vec::len), Some(100), "{a}");
    assert_eq!(a["warningsTotal"], json!(refs));
    assert_eq!(a["warningsOmitted"], json!(refs - 100));
    let first = a["warnings"][0].as_str().unwrap();
    assert!(
        first.contains("dependencies[0].dependsOn[1]") && first.contains("unknown bom-ref"),
        "each kept warning names its element: {first}"
    );
    assert_eq!(recorded(&server, &image(2)), 1);
    let d = server
        .query(
            "query($d: String!) { image(digest: $d) { sbom { warnings } } }",
            json!({"d": image(2)}),
        )
        .unwrap();
    assert_eq!(
        d["image"]["sbom"]["warnings"].as_array().map(Vec::len),
        Some(100),
        "the stored event keeps the first 100 warnings only"
    );

    let peak = server.peak_rss().unwrap();
    let db = database_bytes(&server);
    eprintln!(
        "server peak RSS {} MiB, database {} MiB",
        peak >> 20,
        db >> 20
    );
    assert!(peak < 1024 << 20, "peak RSS {} MiB", peak >> 20);
    assert!(db < 128 << 20, "database {} MiB", db >> 20);
}

#[test]
fn sigterm_during_a_long_parse_stops_the_server_promptly() {
    let mut server = CatalogServer::start(ServerOpts::default()).unwrap();
    // The longest parse of the lot: every component's licenses deduplicated and stored.
    let (body, _, _) = licence_heavy(1000);
    let url = server.url(&format!("/hooks/sbom?image={}", image(3)));
    let sender = std::thread::spawn(move || {
        // The answer does not matter (503, or the connection closing): the exit does.
        let _ = client()
            .post(url)
            .header("content-type", "application/vnd.cyclonedx+json")
            .bearer_auth(INGEST_TOKEN)
            .body(body)
            .send();
    });
    // Long enough for the body to arrive and the parse to start.
    std::thread::sleep(Duration::from_millis(1000));
    let t = Instant::now();
    server.signal("TERM").unwrap();
    let exited = server.wait_exit(Duration::from_secs(15)).unwrap();
    let took = t.elapsed();
    eprintln!("SIGTERM to exit: {took:?} ({exited:?})");
    assert!(
        exited.is_some(),
        "still running 15 s after SIGTERM; log:\n{}",
        server.log()
    );
    let _ = sender.join();
}
