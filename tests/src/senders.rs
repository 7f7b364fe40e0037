//! What each registry sends: the real fixtures of `../shared/fixtures/registries/` (copied to `tests/fixtures/registries/`), rewritten
//! to name an image that is really in a registry, with the sender's headers and proof. Shared
//! by the registries suite and `bench-ingest --format`.

use crate::server::INGEST_TOKEN;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// An image pushed for one format: `<format>/app:1.0.0`.
pub struct Img {
    pub host: String,
    pub repository: String,
    pub tag: String,
    pub digest: String,
    /// Makes the delivery's ids unique (a benchmark sends many of one image).
    pub salt: String,
}

/// What a sender posts: its path, content type, headers and body.
pub struct Delivery {
    pub path: String,
    pub content_type: &'static str,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

pub fn fixture(name: &str) -> Value {
    let path = format!("{}/fixtures/registries/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Sets the value at a path of object keys and array indexes.
pub fn set(v: &mut Value, path: &[&str], new: Value) {
    let mut cur = v;
    for p in path {
        cur = match p.parse::<usize>() {
            Ok(i) => &mut cur[i],
            Err(_) => &mut cur[*p],
        };
    }
    *cur = new;
}

pub fn bearer() -> Vec<(String, String)> {
    vec![("authorization".into(), format!("Bearer {INGEST_TOKEN}"))]
}

pub fn harbor(img: &Img, cloudevents: bool) -> Delivery {
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

pub const GHCR_SECRET: &str = "ghcr-webhook-secret";
pub const NEXUS_SECRET: &str = "nexus-webhook-secret";
pub const ARTIFACTORY_SECRET: &str = "artifactory-webhook-secret";
/// The `serve` flags that let every sender's delivery through: the signing secrets and the
/// SNS topic above, with reconcile off.
pub fn serve_args() -> Vec<String> {
    [
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
    .to_vec()
}

pub const SNS_TOPIC: &str = "arn:aws:sns:us-west-2:123456789012:ecr-pushes";

pub fn hmac_hex<M: Mac + hmac::digest::KeyInit>(secret: &str, body: &[u8]) -> String {
    let mut mac = <M as Mac>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// A delivery id unique to this run and image.
pub fn id(img: &Img, salt: &str) -> String {
    let h =
        Sha256::digest(format!("{}{}{salt}{}", img.repository, img.digest, img.salt).as_bytes());
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

pub fn ghcr(img: &Img) -> Delivery {
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

pub fn ecr(img: &Img) -> Delivery {
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
pub fn ecr_sns(img: &Img) -> Delivery {
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

pub fn acr(img: &Img) -> Delivery {
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

pub fn gar(img: &Img) -> Delivery {
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

pub fn quay(img: &Img) -> Delivery {
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

pub fn dockerhub(img: &Img) -> Delivery {
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

pub fn artifactory(img: &Img) -> Delivery {
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

pub fn nexus(img: &Img) -> Delivery {
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

pub fn zot(img: &Img) -> Delivery {
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
pub type Deliver = fn(&Img) -> Delivery;

pub fn formats() -> Vec<(&'static str, Deliver)> {
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
