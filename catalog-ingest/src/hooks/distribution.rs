//! CNCF Distribution (Docker registry) notifications: the `{"events": [...]}` envelope, sent as
//! `application/vnd.docker.distribution.events.v1+json` (2.x) or `...v2+json` (3.x).
//!
//! Manifest pushes with a tag become `Push` items; manifest/tag deletes become `Delete` items;
//! blob events, pulls, mounts and untagged manifest pushes (the per-platform children of an
//! index, which the index's enrichment covers) are ignored. One bad event rejects the whole
//! envelope, so nothing is half-written.

use crate::item::{valid_digest, valid_repository, valid_tag, Delete, FieldError, InboxBody, Push};
use catalog_core::identity::canonical_registry;
use chrono::{DateTime, Utc};
use serde::Deserialize;

pub const CONTENT_TYPES: [&str; 3] = [
    "application/vnd.docker.distribution.events.v1+json",
    "application/vnd.docker.distribution.events.v2+json",
    "application/json",
];

/// Manifest media types: what a push of one of these registers.
pub const MANIFEST_TYPES: [&str; 4] = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

#[derive(Deserialize)]
struct Envelope {
    events: Option<Vec<serde_json::Value>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawEvent {
    id: Option<String>,
    timestamp: Option<String>,
    action: Option<String>,
    target: RawTarget,
    request: RawRequest,
    actor: RawActor,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct RawTarget {
    media_type: Option<String>,
    size: Option<i64>,
    digest: Option<String>,
    repository: Option<String>,
    url: Option<String>,
    tag: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawRequest {
    host: Option<String>,
    useragent: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawActor {
    name: Option<String>,
}

pub use super::Parsed;

/// Parses and validates an envelope. `registry` overrides the registry host the events name
/// (the hook's `?registry=` parameter).
pub fn parse(body: &[u8], registry: Option<&str>) -> Result<Parsed, FieldError> {
    super::duplicate_keys::reject_duplicate_keys(body, "")?;
    let env: Envelope = serde_json::from_slice(body)
        .map_err(|e| FieldError::new("body", format!("invalid JSON: {e}")))?;
    let events = env
        .events
        .ok_or_else(|| FieldError::new("events", "missing: expected {\"events\": [...]}"))?;
    let mut out = Parsed::default();
    for (i, raw) in events.into_iter().enumerate() {
        let at = |f: &str| format!("events[{i}].{f}");
        let ev: RawEvent = serde_json::from_value(raw)
            .map_err(|e| FieldError::new(format!("events[{i}]"), format!("not an event: {e}")))?;
        let action = ev
            .action
            .as_deref()
            .ok_or_else(|| FieldError::new(at("action"), "missing"))?;
        let id = ev
            .id
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| FieldError::new(at("id"), "missing"))?;
        let occurred_at = ev
            .timestamp
            .as_deref()
            .ok_or_else(|| FieldError::new(at("timestamp"), "missing"))
            .and_then(|t| {
                DateTime::parse_from_rfc3339(t)
                    .map(|d| d.with_timezone(&Utc))
                    .map_err(|e| FieldError::new(at("timestamp"), format!("not RFC 3339: {e}")))
            })?;
        let is_manifest = ev
            .target
            .media_type
            .as_deref()
            .is_some_and(|m| MANIFEST_TYPES.contains(&m));
        match action {
            "push" if is_manifest => {}
            "delete" => {}
            _ => {
                out.ignored += 1;
                continue;
            }
        }
        let repository = ev
            .target
            .repository
            .as_deref()
            .ok_or_else(|| FieldError::new(at("target.repository"), "missing"))?;
        if !valid_repository(repository) {
            return Err(FieldError::new(
                at("target.repository"),
                format!("{repository:?} is not a repository name"),
            ));
        }
        let digest = match ev.target.digest.as_deref() {
            Some(d) if !valid_digest(d) => {
                return Err(FieldError::new(
                    at("target.digest"),
                    format!("{d:?} is not a sha256/sha512 digest"),
                ))
            }
            d => d,
        };
        let tag = match ev.target.tag.as_deref() {
            Some(t) if !valid_tag(t) => {
                return Err(FieldError::new(
                    at("target.tag"),
                    format!("{t:?} is not a valid tag"),
                ))
            }
            t => t,
        };
        let (host_field, host) = registry
            .map(|r| ("registry".to_string(), r.to_string()))
            .or_else(|| {
                let h = ev.request.host.clone().filter(|h| !h.is_empty())?;
                Some((at("request.host"), h))
            })
            .or_else(|| {
                let h = ev.target.url.as_deref().and_then(url_host)?;
                Some((at("target.url"), h))
            })
            .ok_or_else(|| {
                FieldError::new(
                    at("request.host"),
                    "missing (and no target.url or ?registry= to name the registry)",
                )
            })?;
        let host =
            canonical_registry(&host).map_err(|e| FieldError::new(host_field, e.to_string()))?;
        let actor = ev
            .actor
            .name
            .filter(|n| !n.is_empty())
            .or(ev.request.useragent)
            .unwrap_or_else(|| "registry".to_string());
        let key = format!("distribution:{id}");
        if action == "push" {
            let digest = digest.ok_or_else(|| {
                FieldError::new(
                    at("target.digest"),
                    "missing: a manifest push must name its digest",
                )
            })?;
            let Some(tag) = tag else {
                out.ignored += 1;
                continue;
            };
            out.items.push(InboxBody::Push(Push {
                key,
                registry: host,
                repository: repository.to_string(),
                digest: digest.to_string(),
                tag: Some(tag.to_string()),
                media_type: ev.target.media_type,
                size: ev.target.size,
                occurred_at,
                source: "distribution".into(),
                actor,
                tag_resolved: false,
                idless: false,
            }));
        } else {
            if digest.is_none() && tag.is_none() {
                return Err(FieldError::new(
                    at("target"),
                    "a delete must name a digest or a tag",
                ));
            }
            out.items.push(InboxBody::Delete(Delete {
                key,
                registry: host,
                repository: repository.to_string(),
                // A delete by digest may carry the tag it was reached by; the digest wins.
                digest: digest.map(str::to_string),
                tag: if digest.is_some() {
                    None
                } else {
                    tag.map(str::to_string)
                },
                occurred_at,
                source: "distribution".into(),
                actor,
                idless: false,
            }));
        }
    }
    Ok(out)
}

fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let host = rest.split('/').next()?;
    (!host.is_empty()).then(|| host.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUSH: &str = r#"{"events":[{"id":"dde78a4e","timestamp":"2026-11-22T09:10:04.832757767Z","action":"push",
        "target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":431,
        "digest":"sha256:5c051d0a0c19b6688625ea0840c75f36cec1b88550c0dceff22bb146138164a0","repository":"shop/cart",
        "url":"http://localhost:5000/v2/shop/cart/manifests/sha256:5c05","tag":"1.0.0"},
        "request":{"host":"localhost:5000","useragent":"skopeo/1.9.3"},"actor":{}}]}"#;

    #[test]
    fn manifest_push_with_tag_is_an_item() {
        let p = parse(PUSH.as_bytes(), None).unwrap();
        assert_eq!(p.items.len(), 1);
        let InboxBody::Push(push) = &p.items[0] else {
            panic!("not a push")
        };
        assert_eq!(push.registry, "localhost:5000");
        assert_eq!(push.tag.as_deref(), Some("1.0.0"));
        assert_eq!(push.key, "distribution:dde78a4e");
        assert_eq!(push.actor, "skopeo/1.9.3");
        let p = parse(PUSH.as_bytes(), Some("reg.example")).unwrap();
        assert_eq!(p.items[0].key(), "distribution:dde78a4e");
        let InboxBody::Push(push) = &p.items[0] else {
            panic!("not a push")
        };
        assert_eq!(push.registry, "reg.example");
    }

    #[test]
    fn errors_name_the_field() {
        let no_digest = PUSH.replace(r#""digest":"sha256:5c051d0a0c19b6688625ea0840c75f36cec1b88550c0dceff22bb146138164a0","#, "");
        assert_eq!(
            parse(no_digest.as_bytes(), None).unwrap_err().field,
            "events[0].target.digest"
        );
        let bad_time = PUSH.replace("2026-11-22T09:10:04.832757767Z", "yesterday");
        assert_eq!(
            parse(bad_time.as_bytes(), None).unwrap_err().field,
            "events[0].timestamp"
        );
        let bad_repo = PUSH.replace("shop/cart\"", "Shop//Cart\"");
        assert_eq!(
            parse(bad_repo.as_bytes(), None).unwrap_err().field,
            "events[0].target.repository"
        );
        assert_eq!(parse(b"{\"events\": 3}", None).unwrap_err().field, "body");
        assert_eq!(parse(b"{}", None).unwrap_err().field, "events");
        assert_eq!(parse(b"{\"events\": [", None).unwrap_err().field, "body");
    }

    #[test]
    fn pulls_blobs_and_untagged_pushes_are_ignored() {
        let pull = PUSH.replace("\"push\"", "\"pull\"");
        let blob = PUSH.replace(
            "application/vnd.oci.image.manifest.v1+json",
            "application/octet-stream",
        );
        let untagged = PUSH.replace(r#","tag":"1.0.0""#, "");
        for body in [pull, blob, untagged] {
            let p = parse(body.as_bytes(), None).unwrap();
            assert!(p.items.is_empty());
            assert_eq!(p.ignored, 1);
        }
    }
}
