//! Every registry's notification format, end to end against a real registry: each sender's
//! real fixture (../shared/fixtures/registries/) is rewritten to name an image that is really
//! in Debian's docker-registry (host, repository, tag, digest), posted to its hook with the
//! sender's own authentication, and GraphQL then shows the component version with digest,
//! revision, source and owner, exactly as for a Distribution notification. Replays change
//! nothing; bad signatures, content types, sizes and JSON are refused and write nothing.

use base64::Engine;
use catalog_tests::registry::{push, ImageSpec, Layout, Registry};
use catalog_tests::server::INGEST_TOKEN;
use catalog_tests::{CatalogServer, ServerOpts};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
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

const GHCR_SECRET: &str = "ghcr-webhook-secret";
const NEXUS_SECRET: &str = "nexus-webhook-secret";
const ARTIFACTORY_SECRET: &str = "artifactory-webhook-secret";
const SNS_TOPIC: &str = "arn:aws:sns:us-west-2:123456789012:ecr-pushes";

fn hmac_hex<M: Mac + hmac::digest::KeyInit>(secret: &str, body: &[u8]) -> String {
    let mut mac = <M as Mac>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// A delivery id unique to this run and image.
fn id(img: &Img, salt: &str) -> String {
    let h = Sha256::digest(format!("{}{}{salt}", img.repository, img.digest).as_bytes());
    let x = hex::encode(h);
    format!(
        "{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

fn ghcr(img: &Img) -> Delivery {
    let mut v = fixture("ghcr-package-published.json");
    let pv = ["package", "package_version"];
    set(
        &mut v,
        &[pv[0], pv[1], "package_url"],
        json!(format!("{}/{}:{}", img.host, img.repository, img.tag)),
    );
    set(
        &mut v,
        &[pv[0], pv[1], "container_metadata", "tag"],
        json!({"name": img.tag, "digest": img.digest}),
    );
    set(
        &mut v,
        &[pv[0], pv[1], "container_metadata", "manifest"],
        json!({"digest": img.digest}),
    );
    let body = serde_json::to_vec(&v).unwrap();
    let sig = format!("sha256={}", hmac_hex::<Hmac<Sha256>>(GHCR_SECRET, &body));
    Delivery {
        path: "/hooks/ghcr".into(),
        content_type: "application/json",
        headers: vec![
            ("x-github-event".into(), "package".into()),
            ("x-github-delivery".into(), id(img, "ghcr")),
            ("x-hub-signature-256".into(), sig),
        ],
        body,
    }
}

fn ecr(img: &Img) -> Delivery {
    let mut v = fixture("ecr-eventbridge-push.json");
    set(&mut v, &["id"], json!(id(img, "ecr")));
    set(
        &mut v,
        &["detail", "repository-name"],
        json!(img.repository),
    );
    set(&mut v, &["detail", "image-digest"], json!(img.digest));
    set(&mut v, &["detail", "image-tag"], json!(img.tag));
    Delivery {
        // An EventBridge API destination; the host is the configured registry's.
        path: format!("/hooks/ecr?registry={}", img.host),
        content_type: "application/json",
        headers: bearer(),
        body: serde_json::to_vec(&v).unwrap(),
    }
}

/// The same EventBridge event through an SNS topic: Basic credentials from the
/// subscription's URL, the event as the `Message` string.
fn ecr_sns(img: &Img) -> Delivery {
    let mut event = fixture("ecr-eventbridge-push.json");
    set(&mut event, &["id"], json!(id(img, "ecr-sns")));
    set(
        &mut event,
        &["detail", "repository-name"],
        json!(img.repository),
    );
    set(&mut event, &["detail", "image-digest"], json!(img.digest));
    set(&mut event, &["detail", "image-tag"], json!(img.tag));
    let envelope = json!({
        "Type": "Notification",
        "MessageId": id(img, "sns-message"),
        "TopicArn": SNS_TOPIC,
        "Message": event.to_string(),
        "Timestamp": "2026-12-06T10:00:00.000Z",
        "SignatureVersion": "1",
        "Signature": "EXAMPLE",
        "SigningCertURL": "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-example.pem",
        "UnsubscribeURL": "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe"
    });
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("sns:{INGEST_TOKEN}"));
    Delivery {
        path: format!("/hooks/ecr?registry={}", img.host),
        content_type: "text/plain",
        headers: vec![
            ("authorization".into(), format!("Basic {basic}")),
            ("x-amz-sns-message-type".into(), "Notification".into()),
            ("x-amz-sns-topic-arn".into(), SNS_TOPIC.into()),
        ],
        body: serde_json::to_vec(&envelope).unwrap(),
    }
}

fn acr(img: &Img) -> Delivery {
    let mut v = fixture("acr-push.json");
    set(&mut v, &["id"], json!(id(img, "acr")));
    set(&mut v, &["target", "digest"], json!(img.digest));
    set(&mut v, &["target", "repository"], json!(img.repository));
    set(&mut v, &["target", "tag"], json!(img.tag));
    set(&mut v, &["target", "size"], Value::Null);
    set(&mut v, &["target", "length"], Value::Null);
    set(&mut v, &["request", "host"], json!(img.host));
    Delivery {
        path: "/hooks/acr".into(),
        content_type: "application/json",
        headers: bearer(),
        body: serde_json::to_vec(&v).unwrap(),
    }
}

fn gar(img: &Img) -> Delivery {
    let mut data = fixture("gar-pubsub-insert-tag.json");
    let reference = format!("{}/{}", img.host, img.repository);
    set(
        &mut data,
        &["digest"],
        json!(format!("{reference}@{}", img.digest)),
    );
    set(
        &mut data,
        &["tag"],
        json!(format!("{reference}:{}", img.tag)),
    );
    let envelope = json!({
        "message": {
            "data": base64::engine::general_purpose::STANDARD.encode(data.to_string()),
            "attributes": {},
            "messageId": id(img, "gar"),
            "publishTime": "2026-12-06T10:00:00.000Z"
        },
        "subscription": "projects/p/subscriptions/catalog"
    });
    Delivery {
        // A Pub/Sub push endpoint cannot set headers: the token is in the URL.
        path: format!("/hooks/gar?token={INGEST_TOKEN}"),
        content_type: "application/json",
        headers: vec![],
        body: serde_json::to_vec(&envelope).unwrap(),
    }
}

fn quay(img: &Img) -> Delivery {
    let mut v = fixture("quay-repo-push.json");
    set(&mut v, &["repository"], json!(img.repository));
    set(
        &mut v,
        &["docker_url"],
        json!(format!("{}/{}", img.host, img.repository)),
    );
    set(&mut v, &["updated_tags"], json!([img.tag]));
    Delivery {
        path: format!("/hooks/quay?token={INGEST_TOKEN}"),
        content_type: "application/json",
        headers: vec![],
        body: serde_json::to_vec(&v).unwrap(),
    }
}

fn dockerhub(img: &Img) -> Delivery {
    let mut v = fixture("dockerhub-push.json");
    set(&mut v, &["repository", "repo_name"], json!(img.repository));
    set(&mut v, &["push_data", "tag"], json!(img.tag));
    Delivery {
        path: format!(
            "/hooks/dockerhub?registry={}&token={INGEST_TOKEN}",
            img.host
        ),
        content_type: "application/json",
        headers: vec![],
        body: serde_json::to_vec(&v).unwrap(),
    }
}

fn artifactory(img: &Img) -> Delivery {
    let mut v = fixture("jfrog-docker-pushed.json");
    let (key, image) = img.repository.split_once('/').unwrap();
    set(&mut v, &["data", "repo_key"], json!(key));
    set(&mut v, &["data", "image_name"], json!(image));
    set(&mut v, &["data", "tag"], json!(img.tag));
    set(
        &mut v,
        &["data", "sha256"],
        json!(img.digest.trim_start_matches("sha256:")),
    );
    set(&mut v, &["data", "size"], Value::Null);
    set(
        &mut v,
        &["jpd_origin"],
        json!(format!("http://{}", img.host)),
    );
    let body = serde_json::to_vec(&v).unwrap();
    // "Use secret for payload signing": the HMAC-SHA256 of the body.
    let sig = hmac_hex::<Hmac<Sha256>>(ARTIFACTORY_SECRET, &body);
    Delivery {
        path: "/hooks/artifactory".into(),
        content_type: "application/json",
        headers: vec![("x-jfrog-event-auth".into(), sig)],
        body,
    }
}

fn nexus(img: &Img) -> Delivery {
    let mut v = fixture("nexus-repository-component.json");
    set(&mut v, &["component", "format"], json!("docker"));
    set(&mut v, &["component", "name"], json!(img.repository));
    set(&mut v, &["component", "group"], Value::Null);
    set(&mut v, &["component", "version"], json!(img.tag));
    let body = serde_json::to_vec(&v).unwrap();
    let sig = hmac_hex::<Hmac<sha1::Sha1>>(NEXUS_SECRET, &body);
    Delivery {
        path: format!("/hooks/nexus?registry={}", img.host),
        content_type: "application/json",
        headers: vec![
            (
                "x-nexus-webhook-id".into(),
                "rm:repository:component".into(),
            ),
            ("x-nexus-webhook-delivery".into(), id(img, "nexus")),
            ("x-nexus-webhook-signature".into(), sig),
        ],
        body,
    }
}

fn zot(img: &Img) -> Delivery {
    // No captured zot event exists; this is the binary-mode CloudEvent zot's source builds.
    let body = json!({
        "name": img.repository,
        "reference": img.tag,
        "digest": img.digest,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "manifest": "{}"
    });
    let mut headers = bearer();
    headers.extend([
        ("ce-specversion".to_string(), "1.0".to_string()),
        ("ce-id".into(), id(img, "zot")),
        ("ce-source".into(), "zotregistry.dev".into()),
        ("ce-type".into(), "zotregistry.image.updated".into()),
        ("ce-time".into(), "2026-12-06T10:00:00Z".into()),
    ]);
    Delivery {
        path: format!("/hooks/zot?registry={}", img.host),
        content_type: "application/json",
        headers,
        body: serde_json::to_vec(&body).unwrap(),
    }
}

/// The formats under test: a name (its repository namespace) and how to deliver an image.
/// How a sender delivers an image.
type Deliver = fn(&Img) -> Delivery;

fn formats() -> Vec<(&'static str, Deliver)> {
    vec![
        ("harbor", |i| harbor(i, false)),
        ("harbor-ce", |i| harbor(i, true)),
        ("ghcr", ghcr),
        ("ecr", ecr),
        ("ecr-sns", ecr_sns),
        ("acr", acr),
        ("gar", gar),
        ("quay", quay),
        ("dockerhub", dockerhub),
        ("artifactory", artifactory),
        ("nexus", nexus),
        ("zot", zot),
    ]
}

fn serve(host: &str, extra: &[&str]) -> CatalogServer {
    let mut args: Vec<String> = [
        "--reconcile-interval",
        "0",
        "--ghcr-hmac-secret",
        GHCR_SECRET,
        "--nexus-hmac-secret",
        NEXUS_SECRET,
        "--artifactory-secret",
        ARTIFACTORY_SECRET,
        "--sns-topic",
        SNS_TOPIC,
    ]
    .map(String::from)
    .to_vec();
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
    };
    let bad_digest = Img {
        digest: "sha256:xxxx".into(),
        ..Img {
            host: host.clone(),
            repository: img.repository.clone(),
            tag: img.tag.clone(),
            digest: String::new(),
        }
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
