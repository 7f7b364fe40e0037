//! Sonatype Nexus Repository 3 webhooks (`/hooks/nexus`), `application/json`: repository
//! component events (`X-Nexus-Webhook-Id: rm:repository:component`) of Docker components.
//!
//! A Docker component is one tag of one image: `component.name` is the image path (the
//! repository), `component.version` the tag. `CREATED` and `UPDATED` are tag pushes, `DELETED`
//! a tag delete; none names a digest, so the worker resolves pushed tags through the registry.
//! A version that is a digest (a manifest pushed by digest) is treated as one. Other formats
//! (npm, Maven, ...), asset events (one per stored file: manifests and blobs), audit events and
//! unknown actions are ignored.
//!
//! Nexus names no host: a Docker repository is reached through its own connector
//! (`nexus.example:8082`) or path, so the hook's URL says which with `?registry=`, one
//! webhook per Docker repository. `repositoryName` is Nexus's name for that repository and is
//! not part of the image's name. The key is the `X-Nexus-Webhook-Delivery` header; the time
//! is `timestamp` (`2016-11-10T23:57:49.664+0000`, not RFC 3339); the actor is the user part
//! of `initiator` (`admin/127.0.0.1`).

use super::{check_digest, check_repository, check_tag, finish, hmac_sha1_matches, json};
use super::{Action, Notice, Outcome, Request};
use crate::item::FieldError;
use chrono::{DateTime, Utc};
use serde::Deserialize;

pub const CONTENT_TYPES: [&str; 1] = ["application/json"];

/// Checks `X-Nexus-Webhook-Signature` (hex HMAC-SHA1 of the raw body), before parsing.
pub fn verify(secret: &[u8], req: &Request, body: &[u8]) -> Result<(), String> {
    let sig = req.header("x-nexus-webhook-signature").ok_or(
        "X-Nexus-Webhook-Signature is missing: give the webhook the secret key the catalog was given",
    )?;
    if hmac_sha1_matches(secret, body, sig) {
        Ok(())
    } else {
        Err("X-Nexus-Webhook-Signature does not match the body".into())
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Event {
    timestamp: Option<String>,
    initiator: Option<String>,
    action: Option<String>,
    component: Option<Component>,
}

#[derive(Deserialize)]
struct Component {
    format: Option<String>,
    name: Option<String>,
    version: Option<String>,
}

pub fn parse(req: &Request, body: &[u8]) -> Result<Outcome, FieldError> {
    // Without the header (a proxy that drops it), the body tells: only component events
    // have a `component`.
    if req
        .header("x-nexus-webhook-id")
        .is_some_and(|id| id != "rm:repository:component")
    {
        return Ok(Outcome::ignored(1));
    }
    let e: Event = json(body)?;
    let Some(component) = e.component else {
        return Ok(Outcome::ignored(1));
    };
    if component.format.as_deref() != Some("docker") {
        return Ok(Outcome::ignored(1));
    }
    let action = match e.action.as_deref() {
        Some("CREATED" | "UPDATED") => Action::Push,
        Some("DELETED") => Action::Delete,
        Some(_) => return Ok(Outcome::ignored(1)),
        None => return Err(FieldError::new("action", "missing")),
    };
    let delivery = req
        .header("x-nexus-webhook-delivery")
        .filter(|d| !d.trim().is_empty())
        .ok_or_else(|| {
            FieldError::new(
                "X-Nexus-Webhook-Delivery",
                "missing: Nexus sends one id per delivery, the event's key",
            )
        })?;
    let time = e
        .timestamp
        .ok_or_else(|| FieldError::new("timestamp", "missing"))?;
    let occurred_at = nexus_time("timestamp", &time)?;
    let repository = component
        .name
        .ok_or_else(|| FieldError::new("component.name", "missing"))?;
    check_repository("component.name", &repository)?;
    let version = component
        .version
        .filter(|v| !v.is_empty())
        .ok_or_else(|| FieldError::new("component.version", "missing"))?;
    let (tag, digest) = if version.contains(':') {
        check_digest("component.version", &version)?;
        (None, Some(version))
    } else {
        check_tag("component.version", &version)?;
        (Some(version), None)
    };
    let notice = Notice {
        at: "component".into(),
        action,
        key: format!("nexus:{delivery}"),
        registry: None,
        repository,
        tag,
        digest,
        media_type: None,
        size: None,
        occurred_at,
        actor: e
            .initiator
            .as_deref()
            .and_then(|i| i.split('/').next())
            .filter(|u| !u.is_empty())
            .unwrap_or("nexus")
            .to_string(),
    };
    if req.registry.is_none() {
        return Err(FieldError::new(
            "registry",
            "Nexus names no registry host: add ?registry=HOST (the Docker repository's connector) to the hook's URL",
        ));
    }
    finish("nexus", req, vec![notice], 0).map(Outcome::Items)
}

/// Nexus's `2016-11-10T23:57:49.664+0000` (no colon in the offset), or RFC 3339.
fn nexus_time(field: &str, s: &str) -> Result<DateTime<Utc>, FieldError> {
    DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.3f%z")
        .or_else(|_| DateTime::parse_from_rfc3339(s))
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| {
            FieldError::new(
                field,
                format!("{s:?} is not a time like 2016-11-10T23:57:49.664+0000: {e}"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::super::testing::{fixture, fixture_text, headers, items, request};
    use super::*;
    use crate::item::InboxBody;
    use chrono::TimeZone;

    const DELIVERY: &str = "7f4a6dde-5c68-4999-bcc0-a62f3fb8ae48";

    fn run_with(hook_id: &str, registry: Option<&str>, body: &[u8]) -> Result<Outcome, FieldError> {
        let h = headers(&[
            ("X-Nexus-Webhook-Id", hook_id),
            ("X-Nexus-Webhook-Delivery", DELIVERY),
        ]);
        parse(&request(&h, "application/json", registry), body)
    }

    fn run(body: &[u8]) -> Result<Outcome, FieldError> {
        run_with("rm:repository:component", Some("nexus.example:8082"), body)
    }

    /// The documented component event, for a Docker image (no Docker example was published;
    /// the mapping follows Nexus's component model: name = image, version = tag).
    fn docker(action: &str, version: &str) -> String {
        fixture_text("nexus-repository-component.json")
            .replace("\"npm-proxy\"", "\"docker-hosted\"")
            .replace("\"npm\"", "\"docker\"")
            .replace("\"angular2\"", "\"shop/cart\"")
            .replace("\"group\":\"types\"", "\"group\":null")
            .replace("\"0.0.2\"", &format!("{version:?}"))
            .replace("\"CREATED\"", &format!("{action:?}"))
            .replace("anonymous/127.0.0.1", "ci-bot/10.0.0.9")
    }

    #[test]
    fn a_created_docker_component_is_a_tag_push() {
        for action in ["CREATED", "UPDATED"] {
            let (items, ignored) = items(run(docker(action, "1.0.0").as_bytes()).unwrap());
            assert_eq!(ignored, 0);
            let [InboxBody::TagPush(p)] = items.as_slice() else {
                panic!("{action}: {items:?}")
            };
            assert_eq!(p.registry, "nexus.example:8082");
            assert_eq!(p.repository, "shop/cart");
            assert_eq!(p.tag, "1.0.0");
            assert_eq!(p.key, format!("nexus:{DELIVERY}"));
            assert_eq!(p.actor, "ci-bot");
            assert_eq!(p.source, "nexus");
            assert_eq!(
                p.occurred_at,
                Utc.with_ymd_and_hms(2016, 11, 14, 19, 32, 13).unwrap()
                    + chrono::Duration::milliseconds(515)
            );
        }
    }

    #[test]
    fn a_deleted_docker_component_deletes_its_tag_or_digest() {
        let (got, _) = items(run(docker("DELETED", "1.0.0").as_bytes()).unwrap());
        let [InboxBody::Delete(d)] = got.as_slice() else {
            panic!("{got:?}")
        };
        assert_eq!(
            (d.tag.as_deref(), d.digest.as_deref()),
            (Some("1.0.0"), None)
        );
        let digest = "sha256:35c4a2c15539c6c1e4e5fa4e554dac323ad0107d8eb5c582d6ff386b383b7dce";
        let (got, _) = items(run(docker("DELETED", digest).as_bytes()).unwrap());
        let [InboxBody::Delete(d)] = got.as_slice() else {
            panic!("{got:?}")
        };
        assert_eq!(
            (d.tag.as_deref(), d.digest.as_deref()),
            (None, Some(digest))
        );
        // A push by digest is covered by the tagged push.
        let (got, ignored) = items(run(docker("CREATED", digest).as_bytes()).unwrap());
        assert!(got.is_empty());
        assert_eq!(ignored, 1);
    }

    #[test]
    fn npm_assets_audits_and_unknown_actions_are_ignored() {
        let npm = fixture("nexus-repository-component.json");
        assert_eq!(items(run(&npm).unwrap()), (vec![], 1));
        let asset = fixture("nexus-repository-asset.json");
        assert_eq!(
            items(run_with("rm:repository:asset", None, &asset).unwrap()),
            (vec![], 1)
        );
        // Without the header, the body says it is no component event.
        let h = headers(&[("X-Nexus-Webhook-Delivery", DELIVERY)]);
        assert_eq!(
            items(parse(&request(&h, "application/json", None), &asset).unwrap()),
            (vec![], 1)
        );
        assert_eq!(
            items(run_with("rm:audit", None, b"{\"audit\":{}}").unwrap()),
            (vec![], 1)
        );
        let purged = docker("PURGED", "1.0.0");
        assert_eq!(items(run(purged.as_bytes()).unwrap()), (vec![], 1));
    }

    #[test]
    fn a_redelivery_has_the_same_key() {
        let body = docker("CREATED", "1.0.0");
        let a = items(run(body.as_bytes()).unwrap()).0;
        let b = items(run(body.as_bytes()).unwrap()).0;
        assert_eq!(a, b);
    }

    #[test]
    fn bad_input_names_the_field() {
        let e = |r: Result<Outcome, FieldError>| r.unwrap_err().field;
        let body = docker("CREATED", "1.0.0");
        assert_eq!(e(run(b"{")), "body");
        assert_eq!(
            e(run_with("rm:repository:component", None, body.as_bytes())),
            "registry"
        );
        let h = headers(&[("X-Nexus-Webhook-Id", "rm:repository:component")]);
        assert_eq!(
            e(parse(
                &request(&h, "application/json", Some("nexus.example")),
                body.as_bytes()
            )),
            "X-Nexus-Webhook-Delivery"
        );
        assert_eq!(
            e(run(docker("CREATED", "-1").as_bytes())),
            "component.version"
        );
        assert_eq!(
            e(run(docker("CREATED", "sha256:35c4").as_bytes())),
            "component.version"
        );
        assert_eq!(
            e(run(body
                .replace("\"shop/cart\"", "\"Shop/Cart\"")
                .as_bytes())),
            "component.name"
        );
        assert_eq!(
            e(run(body.replace(".515+0000", "+00:00 UTC").as_bytes())),
            "timestamp"
        );
        assert_eq!(
            e(run(body.replace("\"action\":\"CREATED\",", "").as_bytes())),
            "action"
        );
    }

    #[test]
    fn times() {
        let t = |s| nexus_time("t", s).unwrap();
        assert_eq!(
            t("2016-11-10T23:57:49.664+0000"),
            Utc.with_ymd_and_hms(2016, 11, 10, 23, 57, 49).unwrap()
                + chrono::Duration::milliseconds(664)
        );
        assert_eq!(
            t("2016-11-11T00:57:49.664+0100"),
            t("2016-11-10T23:57:49.664+0000")
        );
        assert_eq!(
            t("2016-11-10T23:57:49.664Z"),
            t("2016-11-10T23:57:49.664+0000")
        );
    }

    #[test]
    fn signatures() {
        // Wikipedia's HMAC-SHA1 example: key "key", the quick brown fox.
        let body = b"The quick brown fox jumps over the lazy dog";
        let h = headers(&[(
            "X-Nexus-Webhook-Signature",
            "de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9",
        )]);
        let req = request(&h, "application/json", None);
        assert_eq!(verify(b"key", &req, body), Ok(()));
        assert_eq!(
            verify(b"key", &req, b"The quick brown fox jumps over the lazy cat").unwrap_err(),
            "X-Nexus-Webhook-Signature does not match the body"
        );
        assert!(verify(b"other", &req, body).is_err());
        let h = headers(&[]);
        assert!(verify(b"key", &request(&h, "application/json", None), body)
            .unwrap_err()
            .contains("missing"));
    }
}
