//! Every registry's notification format, end to end against a real registry: each sender's
//! real fixture (../shared/fixtures/registries/) is rewritten to name an image that is really
//! in Debian's docker-registry (host, repository, tag, digest), posted to its hook with the
//! sender's own authentication, and GraphQL then shows the component version with digest,
//! revision, source and owner, exactly as for a Distribution notification. Replays change
//! nothing; bad signatures, content types, sizes and JSON are refused and write nothing.

use catalog_tests::registry::{push, ImageSpec, Layout, Registry};
use catalog_tests::server::INGEST_TOKEN;
use catalog_tests::{CatalogServer, ServerOpts};
use serde_json::{json, Value};
use std::time::Duration;

const VERSION: &str = r#"query($name: String!) {
  component(name: $name) {
    owner { name }
    versions { version digest revision source tags }
  }
}"#;

/// An image pushed for one format: `<format>/app:1.0.0`.
struct Img {
    host: String,
    repository: String,
    tag: String,
    digest: String,
}

/// What a sender posts: its path, content type, headers and body.
struct Delivery {
    path: String,
    content_type: &'static str,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../../shared/fixtures/registries/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Sets the value at a path of object keys and array indexes.
fn set(v: &mut Value, path: &[&str], new: Value) {
    let mut cur = v;
    for p in path {
        cur = match p.parse::<usize>() {
            Ok(i) => &mut cur[i],
            Err(_) => &mut cur[*p],
        };
    }
    *cur = new;
}

fn bearer() -> Vec<(String, String)> {
    vec![("authorization".into(), format!("Bearer {INGEST_TOKEN}"))]
}

fn harbor(img: &Img, cloudevents: bool) -> Delivery {
    let (file, data) = if cloudevents {
        ("harbor-cloudevents-push.json", "data")
    } else {
        ("harbor-push-artifact-tagged.json", "event_data")
    };
    let mut v = fixture(file);
    set(
        &mut v,
        &[data, "resources", "0", "digest"],
        json!(img.digest),
    );
    set(&mut v, &[data, "resources", "0", "tag"], json!(img.tag));
    set(
        &mut v,
        &[data, "resources", "0", "resource_url"],
        json!(format!("{}/{}:{}", img.host, img.repository, img.tag)),
    );
    set(
        &mut v,
        &[data, "repository", "repo_full_name"],
        json!(img.repository),
    );
    Delivery {
        path: "/hooks/harbor".into(),
        content_type: if cloudevents {
            "application/cloudevents+json"
        } else {
            "application/json"
        },
        headers: bearer(),
        body: serde_json::to_vec(&v).unwrap(),
    }
}

/// The formats under test: a name (its repository namespace) and how to deliver an image.
fn formats() -> Vec<(&'static str, fn(&Img) -> Delivery)> {
    vec![
        ("harbor", |i| harbor(i, false)),
        ("harbor-ce", |i| harbor(i, true)),
    ]
}

fn post(server: &CatalogServer, d: &Delivery) -> (u16, String) {
    let http = reqwest::blocking::Client::new();
    let mut r = http
        .post(server.url(&d.path))
        .header("content-type", d.content_type)
        .body(d.body.clone());
    for (k, v) in &d.headers {
        r = r.header(k.as_str(), v.as_str());
    }
    let resp = r.send().unwrap();
    (resp.status().as_u16(), resp.text().unwrap_or_default())
}

#[test]
fn every_format_registers_the_pushed_image_with_its_labels() {
    let registry = Registry::start(&[]).unwrap();
    let host = registry.host();
    let server = CatalogServer::start(ServerOpts {
        registries: vec![format!("http://{host}")],
        extra_args: vec!["--reconcile-interval".into(), "0".into()],
        ..ServerOpts::default()
    })
    .unwrap();
    let layout = Layout::new().unwrap();
    let formats = formats();
    let mut pushed = Vec::new();
    for (name, _) in &formats {
        let spec = ImageSpec::new(&format!("{name} app"))
            .label(
                "org.opencontainers.image.source",
                &format!("https://git.example.com/{name}/app"),
            )
            .label("org.opencontainers.image.revision", &format!("rev-{name}"))
            .label("org.opencontainers.image.version", "1.0.0")
            .label("dev.catalog.owner", &format!("team-{name}"));
        layout.build(name, &spec).unwrap();
        let repository = format!("{name}/app");
        let digest = push(&layout, name, &host, &repository, "1.0.0").unwrap();
        pushed.push(Img {
            host: host.clone(),
            repository,
            tag: "1.0.0".into(),
            digest,
        });
    }
    for ((name, deliver), img) in formats.iter().zip(&pushed) {
        let d = deliver(img);
        let (st, body) = post(&server, &d);
        assert_eq!(st, 202, "{name}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["accepted"], 1, "{name}: {body}");
        let version = server
            .wait_for(
                &format!("{name}'s version"),
                Duration::from_secs(30),
                || {
                    let d = server.query(VERSION, json!({"name": img.repository}))?;
                    Ok(d["component"]["versions"]
                        .as_array()
                        .and_then(|vs| vs.iter().find(|v| v["version"] == "1.0.0").cloned())
                        .map(|v| (v, d["component"]["owner"]["name"].clone())))
                },
            )
            .unwrap();
        let (v, owner) = version;
        assert_eq!(v["digest"], json!(img.digest), "{name}");
        assert_eq!(v["revision"], json!(format!("rev-{name}")), "{name}");
        assert_eq!(
            v["source"],
            json!(format!("https://git.example.com/{name}/app")),
            "{name}"
        );
        assert_eq!(owner, json!(format!("team-{name}")), "{name}");
        // The same delivery again changes nothing.
        let before = server.event_count().unwrap();
        let (st, body) = post(&server, &d);
        assert_eq!(st, 202, "{name}: {body}");
        std::thread::sleep(Duration::from_millis(300));
        server
            .wait_for("the inbox drained", Duration::from_secs(30), || {
                Ok((server.pending()? == 0).then_some(()))
            })
            .unwrap();
        assert_eq!(
            server.event_count().unwrap(),
            before,
            "{name}: a replay recorded"
        );
    }
}

#[test]
fn bad_deliveries_are_refused_and_write_nothing() {
    let registry = Registry::start(&[]).unwrap();
    let host = registry.host();
    let server = CatalogServer::start(ServerOpts {
        registries: vec![format!("http://{host}")],
        extra_args: vec!["--reconcile-interval".into(), "0".into()],
        ..ServerOpts::default()
    })
    .unwrap();
    let img = Img {
        host: host.clone(),
        repository: "bad/app".into(),
        tag: "1.0.0".into(),
        digest: format!("sha256:{}", "ab".repeat(32)),
    };
    for (name, deliver) in formats() {
        let good = deliver(&img);
        // No token, a wrong token.
        let mut d = deliver(&img);
        d.headers.retain(|(k, _)| k != "authorization");
        let (st, body) = post(&server, &d);
        assert_eq!(st, 401, "{name} without proof: {body}");
        let mut d = deliver(&img);
        d.headers = vec![("authorization".into(), "Bearer not-a-token".into())];
        let (st, body) = post(&server, &d);
        assert_eq!(st, 401, "{name} with a wrong token: {body}");
        // Wrong content type.
        let mut d = deliver(&img);
        d.content_type = "text/html";
        let (st, body) = post(&server, &d);
        assert_eq!(st, 415, "{name}: {body}");
        // Malformed JSON names the body.
        let mut d = deliver(&img);
        d.body = b"{\"type\": ".to_vec();
        let (st, body) = post(&server, &d);
        assert_eq!(st, 400, "{name}: {body}");
        assert!(body.contains("body"), "{name}: {body}");
        // Oversized.
        let mut d = deliver(&img);
        d.body = vec![b' '; 2 * 1024 * 1024];
        let (st, body) = post(&server, &d);
        assert_eq!(st, 413, "{name}: {body}");
        // An invalid digest names its field.
        let bad = String::from_utf8(good.body.clone())
            .unwrap()
            .replace(&img.digest, "sha256:xxxx");
        let mut d = deliver(&img);
        d.body = bad.into_bytes();
        let (st, body) = post(&server, &d);
        assert_eq!(st, 400, "{name}: {body}");
        assert!(body.contains("digest"), "{name}: {body}");
    }
    assert_eq!(server.event_count().unwrap(), 0);
    assert_eq!(server.pending().unwrap(), 0);
}
