//! Harbor 2.x webhooks (`/hooks/harbor`): the Default format (`application/json`) and the
//! CloudEvents format (`application/cloudevents+json`, structured mode), told apart by the
//! content type.
//!
//! `PUSH_ARTIFACT` / `harbor.artifact.pushed` and `DELETE_ARTIFACT` / `harbor.artifact.deleted`
//! are read; every other type (pulls, scans, quotas, replication) is ignored. `resources`
//! holds one artifact; its `tag` is the digest when it was pushed by digest. The host is the
//! prefix of `resource_url` (Harbor's external endpoint). The Default format has no event id:
//! the key is derived from type, repository, digest, tag and time, so two identical pushes in
//! one second are one event. The CloudEvents `id` stays the same across Harbor's retries.

use super::{
    derived_key, finish, host_of, json, rfc3339, unix_seconds, Action, Notice, Outcome, Request,
};
use crate::item::FieldError;
use serde::Deserialize;

pub const CONTENT_TYPES: [&str; 2] = ["application/json", "application/cloudevents+json"];

#[derive(Deserialize)]
struct Default {
    #[serde(rename = "type")]
    kind: Option<String>,
    occur_at: Option<i64>,
    operator: Option<String>,
    event_data: Option<Data>,
}

#[derive(Deserialize)]
struct CloudEvent {
    specversion: Option<String>,
    id: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    time: Option<String>,
    operator: Option<String>,
    data: Option<Data>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(default)]
    resources: Vec<Resource>,
    repository: Option<Repository>,
}

#[derive(Deserialize)]
struct Resource {
    digest: Option<String>,
    tag: Option<String>,
    resource_url: Option<String>,
}

#[derive(Deserialize)]
struct Repository {
    repo_full_name: Option<String>,
}

pub fn parse(req: &Request, body: &[u8]) -> Result<Outcome, FieldError> {
    let (action, key, occurred_at, operator, data, prefix) =
        if req.content_type == "application/cloudevents+json" {
            let ce: CloudEvent = json(body)?;
            if ce.specversion.as_deref() != Some("1.0") {
                return Err(FieldError::new(
                    "specversion",
                    "a CloudEvent of spec version 1.0 is expected",
                ));
            }
            let action = match ce.kind.as_deref() {
                Some("harbor.artifact.pushed") => Action::Push,
                Some("harbor.artifact.deleted") => Action::Delete,
                Some(_) => return Ok(Outcome::ignored(1)),
                None => return Err(FieldError::new("type", "missing")),
            };
            let id = ce
                .id
                .filter(|i| !i.trim().is_empty())
                .ok_or_else(|| FieldError::new("id", "missing"))?;
            let time = ce.time.ok_or_else(|| FieldError::new("time", "missing"))?;
            let at = rfc3339("time", &time)?;
            (action, Some(id), at, ce.operator, ce.data, "data")
        } else {
            let d: Default = json(body)?;
            let action = match d.kind.as_deref() {
                Some("PUSH_ARTIFACT") => Action::Push,
                Some("DELETE_ARTIFACT") => Action::Delete,
                Some(_) => return Ok(Outcome::ignored(1)),
                None => return Err(FieldError::new("type", "missing")),
            };
            let secs = d
                .occur_at
                .ok_or_else(|| FieldError::new("occur_at", "missing"))?;
            let at = unix_seconds("occur_at", secs)?;
            (action, None, at, d.operator, d.event_data, "event_data")
        };
    let data = data.ok_or_else(|| FieldError::new(prefix, "missing"))?;
    let repository = data
        .repository
        .and_then(|r| r.repo_full_name)
        .ok_or_else(|| FieldError::new(format!("{prefix}.repository.repo_full_name"), "missing"))?;
    if data.resources.is_empty() {
        return Err(FieldError::new(format!("{prefix}.resources"), "empty"));
    }
    let kind = match action {
        Action::Push => "push",
        Action::Delete => "delete",
    };
    let mut notices = Vec::new();
    for (i, r) in data.resources.into_iter().enumerate() {
        let at = format!("{prefix}.resources[{i}]");
        let key = match &id_or(&key, i) {
            Some(k) => format!("harbor:{k}"),
            None => derived_key(
                "harbor",
                &[
                    kind,
                    &repository,
                    r.digest.as_deref().unwrap_or(""),
                    r.tag.as_deref().unwrap_or(""),
                    &occurred_at.timestamp().to_string(),
                ],
            ),
        };
        notices.push(Notice {
            registry: r.resource_url.as_deref().and_then(host_of),
            at,
            action,
            key,
            repository: repository.clone(),
            tag: r.tag,
            digest: r.digest,
            media_type: None,
            size: None,
            occurred_at,
            actor: operator
                .clone()
                .filter(|o| !o.is_empty())
                .unwrap_or_else(|| "harbor".into()),
        });
    }
    finish("harbor", req, notices, 0).map(Outcome::Items)
}

/// The CloudEvent id (with the resource's index past the first, should there be several).
fn id_or(id: &Option<String>, i: usize) -> Option<String> {
    id.as_ref().map(|id| {
        if i == 0 {
            id.clone()
        } else {
            format!("{id}#{i}")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::InboxBody;
    use chrono::{TimeZone, Utc};
    use std::collections::BTreeMap;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/../tests/fixtures/registries/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn run(ct: &str, body: &[u8]) -> Result<Outcome, FieldError> {
        let headers = BTreeMap::new();
        let req = Request {
            headers: &headers,
            content_type: ct,
            received_at: Utc.with_ymd_and_hms(2026, 12, 6, 0, 0, 0).unwrap(),
            registry: None,
        };
        parse(&req, body)
    }

    fn items(o: Outcome) -> (Vec<InboxBody>, usize) {
        match o {
            Outcome::Items(p) => (p.items, p.ignored),
            other => panic!("not items: {other:?}"),
        }
    }

    #[test]
    fn tagged_push_is_a_push() {
        let (items, _) = items(
            run(
                "application/json",
                &fixture("harbor-push-artifact-tagged.json"),
            )
            .unwrap(),
        );
        let [InboxBody::Push(p)] = items.as_slice() else {
            panic!("{items:?}")
        };
        assert_eq!(p.tag.as_deref(), Some("latest"));
        assert!(p.key.starts_with("harbor:"));
        assert!(p.digest.starts_with("sha256:"));
    }

    #[test]
    fn push_by_digest_is_ignored_in_both_formats() {
        for (ct, f) in [
            ("application/json", "harbor-push-artifact.json"),
            (
                "application/cloudevents+json",
                "harbor-cloudevents-push.json",
            ),
        ] {
            let (items, ignored) = items(run(ct, &fixture(f)).unwrap());
            assert!(items.is_empty(), "{f}");
            assert_eq!(ignored, 1, "{f}");
        }
    }

    #[test]
    fn deletes_name_the_digest_and_registry() {
        for (ct, f) in [
            ("application/json", "harbor-delete-artifact.json"),
            (
                "application/cloudevents+json",
                "harbor-cloudevents-delete.json",
            ),
        ] {
            let (items, _) = items(run(ct, &fixture(f)).unwrap());
            let [InboxBody::Delete(d)] = items.as_slice() else {
                panic!("{f}: {items:?}")
            };
            assert_eq!(d.registry, "localhost", "{f}");
            assert_eq!(d.repository, "harbor/alpine", "{f}");
            assert!(d.digest.is_some() && d.tag.is_none(), "{f}");
        }
    }

    #[test]
    fn the_same_event_twice_has_one_key() {
        let a = items(
            run(
                "application/json",
                &fixture("harbor-push-artifact-tagged.json"),
            )
            .unwrap(),
        )
        .0;
        let b = items(
            run(
                "application/json",
                &fixture("harbor-push-artifact-tagged.json"),
            )
            .unwrap(),
        )
        .0;
        assert_eq!(a[0].key(), b[0].key());
    }

    #[test]
    fn bad_input_names_the_field() {
        let body = String::from_utf8(fixture("harbor-delete-artifact.json")).unwrap();
        let bad = body.replace("sha256:2bb501e6", "sha256:xxxx");
        assert_eq!(
            run("application/json", bad.as_bytes()).unwrap_err().field,
            "event_data.resources[0].digest"
        );
        let bad = body.replace("\"occur_at\": 1680502598,", "");
        assert_eq!(
            run("application/json", bad.as_bytes()).unwrap_err().field,
            "occur_at"
        );
        assert_eq!(run("application/json", b"{").unwrap_err().field, "body");
        let pull = body.replace("DELETE_ARTIFACT", "PULL_ARTIFACT");
        assert_eq!(
            items(run("application/json", pull.as_bytes()).unwrap()).1,
            1
        );
    }
}
