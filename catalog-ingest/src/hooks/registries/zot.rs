//! zot's `events` extension (`/hooks/zot`): CloudEvents 1.0 in binary mode, as zot's HTTP sink
//! sends them (attributes in `Ce-*` headers, the body is the event's data, `application/json`),
//! and in structured mode (`application/cloudevents+json`), as a CloudEvents broker may
//! forward them.
//!
//! Read: `Ce-Id` (the key, `zot:<id>`), `Ce-Type` (`zotregistry.image.updated` is a push,
//! `zotregistry.image.deleted` a delete; `repository.created`, `lint_failed`, `scanned` and
//! anything else are ignored), `Ce-Time` (else the receipt time), and from the data `name`
//! (the repository), `reference` (a tag, or the digest for a push or delete by digest),
//! `digest`, `mediaType` (else the manifest's own), `manifest` (the raw manifest as a JSON
//! *string*; its length is the size) and `actor.name`. zot deletes a tag alone when the
//! reference is a tag, so such a delete names the tag, not the digest. zot names no host in
//! its events: the hook's URL needs `?registry=`. zot signs nothing; the API checks the
//! `Authorization` header the sink was configured with.

use super::{check_digest, check_repository, check_tag, finish, json, rfc3339};
use super::{Action, Notice, Outcome, Request};
use crate::item::FieldError;
use serde::Deserialize;

pub const CONTENT_TYPES: [&str; 2] = ["application/json", "application/cloudevents+json"];

/// A structured-mode event: the attributes and the data in one JSON object.
#[derive(Deserialize)]
struct Envelope {
    specversion: Option<String>,
    id: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    time: Option<String>,
    data: Option<Data>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Data {
    name: Option<String>,
    reference: Option<String>,
    digest: Option<String>,
    media_type: Option<String>,
    manifest: Option<String>,
    actor: Option<Actor>,
}

#[derive(Deserialize)]
struct Actor {
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ManifestMediaType {
    media_type: Option<String>,
}

/// The CloudEvent attributes the catalog reads, and the field each is named by in errors.
struct Attributes {
    specversion: (Option<String>, &'static str),
    id: (Option<String>, &'static str),
    kind: (Option<String>, &'static str),
    time: (Option<String>, &'static str),
}

pub fn parse(req: &Request, body: &[u8]) -> Result<Outcome, FieldError> {
    let (attrs, data, prefix) = if req.content_type == "application/cloudevents+json" {
        let e: Envelope = json(body)?;
        let attrs = Attributes {
            specversion: (e.specversion, "specversion"),
            id: (e.id, "id"),
            kind: (e.kind, "type"),
            time: (e.time, "time"),
        };
        (attrs, e.data, "data.")
    } else {
        let h = |n: &str| req.header(n).map(str::to_string);
        let attrs = Attributes {
            specversion: (h("ce-specversion"), "Ce-Specversion"),
            id: (h("ce-id"), "Ce-Id"),
            kind: (h("ce-type"), "Ce-Type"),
            time: (h("ce-time"), "Ce-Time"),
        };
        (attrs, None, "")
    };
    let (specversion, field) = attrs.specversion;
    match specversion.as_deref() {
        Some("1.0") => {}
        Some(v) => {
            return Err(FieldError::new(
                field,
                format!("{v:?}: a CloudEvent of spec version 1.0 is expected"),
            ))
        }
        None => return Err(FieldError::new(
            field,
            "missing: zot sends CloudEvents in binary mode, with the attributes in Ce-* headers",
        )),
    }
    let (kind, field) = attrs.kind;
    let action = match kind.as_deref() {
        Some("zotregistry.image.updated") => Action::Push,
        Some("zotregistry.image.deleted") => Action::Delete,
        Some(_) => return Ok(Outcome::ignored(1)),
        None => return Err(FieldError::new(field, "missing")),
    };
    let (id, field) = attrs.id;
    let id = id
        .filter(|i| !i.trim().is_empty())
        .ok_or_else(|| FieldError::new(field, "missing"))?;
    let occurred_at = match attrs.time {
        (Some(t), field) => rfc3339(field, &t)?,
        (None, _) => req.received_at,
    };
    let data = match data {
        Some(d) => d,
        None if prefix.is_empty() => json(body)?,
        None => return Err(FieldError::new("data", "missing")),
    };
    let f = |name: &str| format!("{prefix}{name}");

    let repository = data
        .name
        .ok_or_else(|| FieldError::new(f("name"), "missing"))?;
    check_repository(&f("name"), &repository)?;
    let mut digest = data.digest.filter(|d| !d.is_empty());
    if let Some(d) = &digest {
        check_digest(&f("digest"), d)?;
    }
    let reference = data.reference.filter(|r| !r.is_empty());
    let tag = match reference {
        Some(r) if r.contains(':') => {
            check_digest(&f("reference"), &r)?;
            digest = digest.or(Some(r));
            None
        }
        Some(t) => {
            check_tag(&f("reference"), &t)?;
            Some(t)
        }
        None => None,
    };
    let manifest = data.manifest.filter(|m| !m.is_empty());
    let media_type = data.media_type.filter(|m| !m.is_empty()).or_else(|| {
        manifest
            .as_deref()
            .and_then(|m| serde_json::from_str::<ManifestMediaType>(m).ok())
            .and_then(|m| m.media_type)
    });
    let notice = Notice {
        at: prefix.trim_end_matches('.').to_string(),
        action,
        key: format!("zot:{id}"),
        registry: None,
        repository,
        // A delete by tag removed the tag only: the manifest may live on under other tags.
        digest: if action == Action::Delete && tag.is_some() {
            None
        } else {
            digest
        },
        tag,
        media_type,
        size: manifest.as_ref().and_then(|m| i64::try_from(m.len()).ok()),
        occurred_at,
        actor: data
            .actor
            .and_then(|a| a.name)
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "zot".into()),
    };
    finish("zot", req, vec![notice], 0).map(Outcome::Items)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{headers, items, received_at, request};
    use super::*;
    use crate::item::InboxBody;
    use chrono::{TimeZone, Utc};
    use serde_json::{json, Value};

    const DIGEST: &str = "sha256:4a1c4f5fbd0ebd3f0f35ef5e8b1e0b5b3d6c3f8bb3cc39a4e0a3b8bde1b4f3e2";
    const ID: &str = "2b3c5f0e-7f6a-4d0e-9a51-0d5c6e1f2a3b";

    /// What zot's `ImageUpdated` / `ImageDeleted` put in an event's data
    /// (`pkg/extensions/events/events.go`): no example was published, so it is built here.
    fn data(reference: &str, with_manifest: bool) -> Value {
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": DIGEST, "size": 2},
            "layers": []
        })
        .to_string();
        let mut d = json!({
            "name": "shop/cart",
            "reference": reference,
            "digest": DIGEST,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "actor": {"name": "alice"},
            "request": {"addr": "10.0.0.7:51234", "method": "PUT", "useragent": "skopeo/1.13.3"}
        });
        if with_manifest {
            d["manifest"] = Value::String(manifest);
        }
        d
    }

    fn binary(kind: &str, body: &Value, registry: Option<&str>) -> Result<Outcome, FieldError> {
        let h = headers(&[
            ("Ce-Specversion", "1.0"),
            ("Ce-Id", ID),
            ("Ce-Source", "zotregistry.dev"),
            ("Ce-Type", kind),
            ("Ce-Time", "2026-12-06T09:00:00.123456789Z"),
        ]);
        parse(
            &request(&h, "application/json", registry),
            body.to_string().as_bytes(),
        )
    }

    const UPDATED: &str = "zotregistry.image.updated";
    const DELETED: &str = "zotregistry.image.deleted";

    #[test]
    fn an_updated_tag_is_a_push() {
        let d = data("1.0.0", true);
        let (items, ignored) = items(binary(UPDATED, &d, Some("zot.example:5000")).unwrap());
        assert_eq!(ignored, 0);
        let [InboxBody::Push(p)] = items.as_slice() else {
            panic!("{items:?}")
        };
        assert_eq!(p.registry, "zot.example:5000");
        assert_eq!(p.repository, "shop/cart");
        assert_eq!(p.tag.as_deref(), Some("1.0.0"));
        assert_eq!(p.digest, DIGEST);
        assert_eq!(
            p.media_type.as_deref(),
            Some("application/vnd.oci.image.manifest.v1+json")
        );
        let manifest_len = d["manifest"].as_str().unwrap().len() as i64;
        assert_eq!(p.size, Some(manifest_len));
        assert_eq!(p.key, format!("zot:{ID}"));
        assert_eq!(p.actor, "alice");
        assert_eq!(p.source, "zot");
        assert_eq!(
            p.occurred_at,
            Utc.with_ymd_and_hms(2026, 12, 6, 9, 0, 0).unwrap()
                + chrono::Duration::nanoseconds(123_456_789)
        );
    }

    #[test]
    fn the_media_type_falls_back_to_the_manifests_own() {
        let mut d = data("1.0.0", true);
        d.as_object_mut().unwrap().remove("mediaType");
        let (items, _) = items(binary(UPDATED, &d, Some("zot.example")).unwrap());
        let [InboxBody::Push(p)] = items.as_slice() else {
            panic!("{items:?}")
        };
        assert_eq!(
            p.media_type.as_deref(),
            Some("application/vnd.oci.image.manifest.v1+json")
        );
    }

    #[test]
    fn a_push_by_digest_is_ignored() {
        let (items, ignored) =
            items(binary(UPDATED, &data(DIGEST, true), Some("zot.example")).unwrap());
        assert!(items.is_empty());
        assert_eq!(ignored, 1);
    }

    #[test]
    fn a_delete_by_tag_names_the_tag_and_by_digest_the_digest() {
        let (got, _) = items(binary(DELETED, &data("1.0.0", false), Some("zot.example")).unwrap());
        let [InboxBody::Delete(d)] = got.as_slice() else {
            panic!("{got:?}")
        };
        assert_eq!(
            (d.tag.as_deref(), d.digest.as_deref()),
            (Some("1.0.0"), None)
        );
        assert_eq!(d.repository, "shop/cart");
        assert_eq!(d.actor, "alice");
        let (got, _) = items(binary(DELETED, &data(DIGEST, false), Some("zot.example")).unwrap());
        let [InboxBody::Delete(d)] = got.as_slice() else {
            panic!("{got:?}")
        };
        assert_eq!(
            (d.tag.as_deref(), d.digest.as_deref()),
            (None, Some(DIGEST))
        );
        // The reference is the digest, should `digest` be left out.
        let mut by_digest = data(DIGEST, false);
        by_digest.as_object_mut().unwrap().remove("digest");
        let (got, _) = items(binary(DELETED, &by_digest, Some("zot.example")).unwrap());
        let [InboxBody::Delete(d)] = got.as_slice() else {
            panic!("{got:?}")
        };
        assert_eq!(d.digest.as_deref(), Some(DIGEST));
    }

    #[test]
    fn other_types_are_ignored() {
        for kind in [
            "zotregistry.repository.created",
            "zotregistry.image.lint_failed",
            "zotregistry.image.scanned",
        ] {
            let r = binary(kind, &json!({"name": "shop/cart"}), None).unwrap();
            assert_eq!(items(r), (vec![], 1), "{kind}");
        }
    }

    #[test]
    fn structured_mode_is_the_same_event() {
        let envelope = json!({
            "specversion": "1.0",
            "id": ID,
            "source": "zotregistry.dev",
            "type": UPDATED,
            "datacontenttype": "application/json",
            "data": data("1.0.0", true)
        });
        let h = headers(&[]);
        let req = request(&h, "application/cloudevents+json", Some("zot.example"));
        let (a, _) = items(parse(&req, envelope.to_string().as_bytes()).unwrap());
        let (b, _) = items(binary(UPDATED, &data("1.0.0", true), Some("zot.example")).unwrap());
        assert_eq!(a[0].key(), b[0].key());
        let InboxBody::Push(p) = &a[0] else {
            panic!("{a:?}")
        };
        // No `time` attribute: the receipt time.
        assert_eq!(p.occurred_at, received_at());
        let mut bad = envelope.clone();
        bad["data"]["digest"] = json!("sha256:1234");
        let e = parse(&req, bad.to_string().as_bytes()).unwrap_err();
        assert_eq!(e.field, "data.digest");
    }

    #[test]
    fn the_same_event_twice_has_one_key() {
        let d = data("1.0.0", true);
        let a = items(binary(UPDATED, &d, Some("zot.example")).unwrap()).0;
        let b = items(binary(UPDATED, &d, Some("zot.example")).unwrap()).0;
        assert_eq!(a, b);
    }

    #[test]
    fn bad_input_names_the_field() {
        let field = |r: Result<Outcome, FieldError>| r.unwrap_err().field;
        let reg = Some("zot.example");
        assert_eq!(
            field(binary(UPDATED, &data("1.0.0", true), None)),
            "registry"
        );
        let mut d = data("1.0.0", true);
        d["digest"] = json!("sha256:abc");
        assert_eq!(field(binary(UPDATED, &d, reg)), "digest");
        assert_eq!(field(binary(UPDATED, &data("-x", true), reg)), "reference");
        let mut d = data("1.0.0", true);
        d["name"] = json!("Shop/Cart");
        assert_eq!(field(binary(UPDATED, &d, reg)), "name");
        // The manifest is a string in zot's events: an object is not what zot sends.
        let mut d = data("1.0.0", true);
        d["manifest"] = json!({"schemaVersion": 2});
        assert_eq!(field(binary(UPDATED, &d, reg)), "body");

        let h = headers(&[("Ce-Specversion", "1.0"), ("Ce-Type", UPDATED)]);
        let req = request(&h, "application/json", reg);
        let body = data("1.0.0", true).to_string();
        assert_eq!(field(parse(&req, body.as_bytes())), "Ce-Id");
        let h = headers(&[("Ce-Id", ID), ("Ce-Type", UPDATED)]);
        let req = request(&h, "application/json", reg);
        assert_eq!(field(parse(&req, body.as_bytes())), "Ce-Specversion");
        let h = headers(&[
            ("Ce-Specversion", "1.0"),
            ("Ce-Id", ID),
            ("Ce-Type", UPDATED),
        ]);
        let req = request(&h, "application/json", reg);
        assert_eq!(field(parse(&req, b"{")), "body");
        let h = headers(&[
            ("Ce-Specversion", "1.0"),
            ("Ce-Id", ID),
            ("Ce-Type", UPDATED),
            ("Ce-Time", "yesterday"),
        ]);
        let req = request(&h, "application/json", reg);
        assert_eq!(field(parse(&req, body.as_bytes())), "Ce-Time");
    }
}
