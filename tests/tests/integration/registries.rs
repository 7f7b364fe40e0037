//! Every registry's notification format, end to end against a real registry: each sender's
//! real fixture (../shared/fixtures/registries/) is rewritten to name an image that is really
//! in Debian's docker-registry (host, repository, tag, digest), posted to its hook with the
//! sender's own authentication, and GraphQL then shows the component version with digest,
//! revision, source and owner, exactly as for a Distribution notification. Replays change
//! nothing; bad signatures, content types, sizes and JSON are refused and write nothing.

use base64::Engine;
use catalog_tests::registry::{push, ImageSpec, Layout, Registry};
use catalog_tests::senders::{bearer, formats, serve_args, Delivery, Img, SNS_TOPIC};
use catalog_tests::server::INGEST_TOKEN;
use catalog_tests::{CatalogServer, ServerOpts};
use serde_json::{json, Value};
use std::time::Duration;

const VERSION: &str = r#"query($name: String!) {
  component(name: $name) {
    owner { name }
    versions(first: 500) { nodes { version digest revision source tags } }
  }
}"#;

fn serve(host: &str, extra: &[&str]) -> CatalogServer {
    let mut args = serve_args();
    args.extend(extra.iter().map(|s| s.to_string()));
    CatalogServer::start(ServerOpts {
        registries: vec![format!("http://{host}")],
        extra_args: args,
        ..ServerOpts::default()
    })
    .unwrap()
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
    let server = serve(&host, &[]);
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
            salt: String::new(),
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
                    Ok(d["component"]["versions"]["nodes"]
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

/// The delivery without any proof: no token (header or URL), no signature.
fn unproven(mut d: Delivery) -> Delivery {
    d.headers.retain(|(k, _)| {
        !matches!(
            k.as_str(),
            "authorization"
                | "x-hub-signature-256"
                | "x-jfrog-event-auth"
                | "x-nexus-webhook-signature"
        )
    });
    let (path, query) = d.path.split_once('?').unwrap_or((&d.path, ""));
    let query: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("token="))
        .collect();
    d.path = if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", query.join("&"))
    };
    d
}

/// The delivery with an ingest token instead of its own proof (every hook takes one).
fn with_token(d: Delivery) -> Delivery {
    let mut d = unproven(d);
    d.headers.extend(bearer());
    d
}

#[test]
fn bad_deliveries_are_refused_and_write_nothing() {
    let registry = Registry::start(&[]).unwrap();
    let host = registry.host();
    let server = serve(&host, &[]);
    let img = Img {
        host: host.clone(),
        repository: "bad/app".into(),
        tag: "1.0.0".into(),
        digest: format!("sha256:{}", "ab".repeat(32)),
        salt: String::new(),
    };
    let bad_digest = Img {
        host: host.clone(),
        repository: img.repository.clone(),
        tag: img.tag.clone(),
        digest: "sha256:xxxx".into(),
        salt: String::new(),
    };
    let signed = ["ghcr", "artifactory", "nexus"];
    let tag_only = ["quay", "dockerhub", "nexus"];
    for (name, deliver) in formats() {
        // No proof at all; a wrong token.
        let (st, body) = post(&server, &unproven(deliver(&img)));
        assert_eq!(st, 401, "{name} without proof: {body}");
        let mut d = unproven(deliver(&img));
        d.headers
            .push(("authorization".into(), "Bearer not-a-token".into()));
        let (st, body) = post(&server, &d);
        assert_eq!(st, 401, "{name} with a wrong token: {body}");
        // A signed body changed after signing.
        if signed.contains(&name) {
            let mut d = deliver(&img);
            d.body = String::from_utf8(d.body)
                .unwrap()
                .replace("1.0.0", "6.6.6")
                .into_bytes();
            let (st, body) = post(&server, &d);
            assert_eq!(st, 401, "{name} tampered: {body}");
        }
        // Wrong content type.
        let mut d = deliver(&img);
        d.content_type = "text/html";
        let (st, body) = post(&server, &d);
        assert_eq!(st, 415, "{name}: {body}");
        // Malformed JSON names the body.
        let mut d = with_token(deliver(&img));
        d.body = b"{\"type\": ".to_vec();
        let (st, body) = post(&server, &d);
        assert_eq!(st, 400, "{name}: {body}");
        assert!(
            body.contains("body") || body.contains("Message"),
            "{name}: {body}"
        );
        // Oversized.
        let mut d = deliver(&img);
        d.body = vec![b' '; 2 * 1024 * 1024];
        let (st, body) = post(&server, &d);
        assert_eq!(st, 413, "{name}: {body}");
        // An invalid digest names its field.
        if !tag_only.contains(&name) {
            let (st, body) = post(&server, &with_token(deliver(&bad_digest)));
            assert_eq!(st, 400, "{name}: {body}");
            assert!(
                body.contains("digest") || body.contains("sha256"),
                "{name}: {body}"
            );
        }
    }
    assert_eq!(server.event_count().unwrap(), 0);
    assert_eq!(server.pending().unwrap(), 0);
}

#[test]
fn sns_subscriptions_are_confirmed_for_configured_topics_only() {
    let capture = catalog_tests::capture::Capture::start().unwrap();
    let registry = Registry::start(&[]).unwrap();
    let server = serve(&registry.host(), &["--sns-endpoint", &capture.url()]);
    let confirmation = |topic: &str| {
        let body = json!({
            "Type": "SubscriptionConfirmation",
            "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
            "Token": "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a",
            "TopicArn": topic,
            "Message": "You have chosen to subscribe to the topic. To confirm, visit the SubscribeURL.",
            // A payload names a URL; the catalog must never fetch it.
            "SubscribeURL": "http://169.254.169.254/latest/meta-data/",
            "Timestamp": "2026-12-06T10:00:00.000Z",
            "SignatureVersion": "1",
            "Signature": "EXAMPLE",
            "SigningCertURL": "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-example.pem"
        });
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("sns:{INGEST_TOKEN}"));
        Delivery {
            path: "/hooks/ecr".into(),
            content_type: "text/plain",
            headers: vec![
                ("authorization".into(), format!("Basic {basic}")),
                (
                    "x-amz-sns-message-type".into(),
                    "SubscriptionConfirmation".into(),
                ),
                ("x-amz-sns-topic-arn".into(), topic.into()),
            ],
            body: serde_json::to_vec(&body).unwrap(),
        }
    };
    let (st, body) = post(
        &server,
        &confirmation("arn:aws:sns:us-west-2:999999999999:someone-elses"),
    );
    assert_eq!(st, 403, "{body}");
    assert!(body.contains("--sns-topic"), "{body}");
    assert!(
        capture.requests().is_empty(),
        "nothing confirmed for an unknown topic"
    );
    let (st, body) = post(&server, &confirmation(SNS_TOPIC));
    assert_eq!(st, 200, "{body}");
    let calls = capture.requests();
    assert_eq!(calls.len(), 1, "{calls:?}");
    let target = &calls[0];
    assert!(
        target.contains("Action=ConfirmSubscription") && target.contains("Token=2336412f"),
        "{target}"
    );
    assert_eq!(server.event_count().unwrap(), 0);
}

/// `catalog_worker_unchanged_total` from /metrics.
fn unchanged(server: &CatalogServer) -> u64 {
    let m = reqwest::blocking::get(server.url("/metrics"))
        .unwrap()
        .text()
        .unwrap();
    m.lines()
        .find_map(|l| l.strip_prefix("catalog_worker_unchanged_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("catalog_worker_unchanged_total missing:\n{m}"))
}

/// Quay and Artifactory give their events no id and no time. A resend seconds later records
/// nothing; a tag moved to another digest, and back to the first, is recorded each time.
#[test]
fn senders_without_event_ids_record_changes_not_resends() {
    let registry = Registry::start(&[]).unwrap();
    let host = registry.host();
    let server = serve(&host, &[]);
    let layout = Layout::new().unwrap();
    type Sender = fn(&Img) -> Delivery;
    let senders: [(&str, Sender); 2] = [
        ("quay", catalog_tests::senders::quay),
        ("artifactory", catalog_tests::senders::artifactory),
    ];
    for (name, deliver) in senders {
        let repository = format!("{name}/moving");
        // Two images under one tag: `1.0.0` first, then `2.0.0`, then `1.0.0` again.
        let mut digests = Vec::new();
        for version in ["1.0.0", "2.0.0"] {
            let image = format!("{name}-{version}");
            let spec = ImageSpec::new(&image).label("org.opencontainers.image.version", version);
            layout.build(&image, &spec).unwrap();
            digests.push((image, version));
        }
        let tagged = |version: &str| -> Value {
            let d = server.query(VERSION, json!({"name": repository})).unwrap();
            d["component"]["versions"]["nodes"]
                .as_array()
                .and_then(|vs| vs.iter().find(|v| v["version"] == version).cloned())
                .map(|v| v["tags"].clone())
                .unwrap_or(Value::Null)
        };
        let send = |image: &str, version: &str| -> (Delivery, String) {
            let digest = push(&layout, image, &host, &repository, "latest").unwrap();
            let img = Img {
                host: host.clone(),
                repository: repository.clone(),
                tag: "latest".into(),
                digest: digest.clone(),
                salt: String::new(),
            };
            let d = deliver(&img);
            let (st, body) = post(&server, &d);
            assert_eq!(st, 202, "{name}: {body}");
            server
                .wait_for(
                    &format!("{name}: latest on {version}"),
                    Duration::from_secs(30),
                    || Ok((tagged(version) == json!(["latest"])).then_some(())),
                )
                .unwrap();
            (d, digest)
        };
        let (first, _) = send(&digests[0].0, digests[0].1);
        let before = server.event_count().unwrap();
        let skipped = unchanged(&server);
        // A resend in a later second, as a retry after a timeout would be.
        std::thread::sleep(Duration::from_millis(1100));
        let (st, body) = post(&server, &first);
        assert_eq!(st, 202, "{name}: {body}");
        server
            .wait_for("the resend processed", Duration::from_secs(30), || {
                Ok((unchanged(&server) > skipped).then_some(()))
            })
            .unwrap();
        assert_eq!(
            server.event_count().unwrap(),
            before,
            "{name}: a resend recorded"
        );
        send(&digests[1].0, digests[1].1);
        assert_eq!(tagged("1.0.0"), json!([]), "{name}: latest moved away");
        let moved = server.event_count().unwrap();
        assert!(moved > before, "{name}: the move was not recorded");
        // Back to the first digest: the same push as the first delivery, a new change.
        send(&digests[0].0, digests[0].1);
        assert_eq!(tagged("2.0.0"), json!([]), "{name}: latest moved back");
        assert!(
            server.event_count().unwrap() > moved,
            "{name}: the move back was not recorded"
        );
    }
}
