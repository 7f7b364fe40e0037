//! Azure Container Registry webhooks (`/hooks/acr`), `application/json`.
//!
//! Read: `id` (the key, `acr:<id>`), `timestamp` (RFC 3339, the time), `action` (`push`,
//! `delete`), `target.{repository,tag,digest,mediaType,size}` and `request.host` (the
//! registry, `myregistry.azurecr.io`). Every other action (`chart_push`, `chart_delete`,
//! `quarantine`, the portal's ping) is ignored. ACR deletes manifests and repositories, never
//! a tag alone, so a delete names the digest; a repository deleted as a whole names neither
//! and is ignored (reconcile sees its tags gone). Payloads name no actor: the actor is `acr`.
//! ACR signs nothing: the API authenticates the custom header the webhook was given.

use super::{finish, json, rfc3339, Action, Notice, Outcome, Request};
use crate::item::FieldError;
use serde::Deserialize;

pub const CONTENT_TYPES: [&str; 1] = ["application/json"];

#[derive(Deserialize)]
struct Event {
    id: Option<String>,
    timestamp: Option<String>,
    action: Option<String>,
    target: Option<Target>,
    request: Option<EventRequest>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Target {
    media_type: Option<String>,
    size: Option<i64>,
    digest: Option<String>,
    repository: Option<String>,
    tag: Option<String>,
}

#[derive(Deserialize)]
struct EventRequest {
    host: Option<String>,
}

pub fn parse(req: &Request, body: &[u8]) -> Result<Outcome, FieldError> {
    let e: Event = json(body)?;
    let action = match e.action.as_deref() {
        Some("push") => Action::Push,
        Some("delete") => Action::Delete,
        Some(_) => return Ok(Outcome::ignored(1)),
        None => return Err(FieldError::new("action", "missing")),
    };
    let id =
        e.id.filter(|i| !i.trim().is_empty())
            .ok_or_else(|| FieldError::new("id", "missing"))?;
    let time = e
        .timestamp
        .ok_or_else(|| FieldError::new("timestamp", "missing"))?;
    let occurred_at = rfc3339("timestamp", &time)?;
    let target = e
        .target
        .ok_or_else(|| FieldError::new("target", "missing"))?;
    let repository = target
        .repository
        .ok_or_else(|| FieldError::new("target.repository", "missing"))?;
    let digest = target.digest.filter(|d| !d.is_empty());
    let tag = target.tag.filter(|t| !t.is_empty());
    if action == Action::Delete && digest.is_none() && tag.is_none() {
        return Ok(Outcome::ignored(1));
    }
    let host = e.request.and_then(|r| r.host).filter(|h| !h.is_empty());
    if host.is_none() && req.registry.is_none() {
        return Err(FieldError::new(
            "request.host",
            "missing: add ?registry=HOST to the hook's URL",
        ));
    }
    let notice = Notice {
        at: "target".into(),
        action,
        key: format!("acr:{id}"),
        registry: host.as_deref().and_then(super::host_of),
        repository,
        tag,
        digest,
        media_type: target.media_type.filter(|m| !m.is_empty()),
        size: target.size,
        occurred_at,
        actor: "acr".into(),
    };
    finish("acr", req, vec![notice], 0).map(Outcome::Items)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{fixture, fixture_text, headers, items, request};
    use super::*;
    use crate::item::InboxBody;
    use chrono::{TimeZone, Utc};

    fn run(body: &[u8]) -> Result<Outcome, FieldError> {
        let h = headers(&[]);
        parse(&request(&h, "application/json", None), body)
    }

    const DIGEST: &str = "sha256:80f0d5c8786bb9e621a45ece0db56d11cdc624ad20da9fe62e9d25490f331d7d";

    #[test]
    fn a_push_names_everything_but_the_actor() {
        let (items, ignored) = items(run(&fixture("acr-push.json")).unwrap());
        assert_eq!(ignored, 0);
        let [InboxBody::Push(p)] = items.as_slice() else {
            panic!("{items:?}")
        };
        assert_eq!(p.registry, "myregistry.azurecr.io");
        assert_eq!(p.repository, "hello-world");
        assert_eq!(p.tag.as_deref(), Some("v1"));
        assert_eq!(p.digest, DIGEST);
        assert_eq!(
            p.media_type.as_deref(),
            Some("application/vnd.docker.distribution.manifest.v2+json")
        );
        assert_eq!(p.size, Some(524));
        assert_eq!(p.key, "acr:cb8c3971-9adc-488b-bdd8-43cbb4974ff5");
        assert_eq!(p.actor, "acr");
        assert_eq!(p.source, "acr");
        assert_eq!(
            p.occurred_at,
            Utc.with_ymd_and_hms(2017, 11, 17, 16, 52, 1).unwrap()
                + chrono::Duration::nanoseconds(343_145_347)
        );
    }

    #[test]
    fn a_delete_names_the_digest() {
        let (items, _) = items(run(&fixture("acr-delete.json")).unwrap());
        let [InboxBody::Delete(d)] = items.as_slice() else {
            panic!("{items:?}")
        };
        assert_eq!(d.registry, "myregistry.azurecr.io");
        assert_eq!(d.repository, "hello-world");
        assert_eq!(d.digest.as_deref(), Some(DIGEST));
        assert_eq!(d.tag, None);
        assert_eq!(d.key, "acr:afc359ce-df7f-4e32-bdde-1ff8aa80927b");
    }

    #[test]
    fn a_resent_event_has_the_same_key() {
        let a = items(run(&fixture("acr-push.json")).unwrap()).0;
        let b = items(run(&fixture("acr-push.json")).unwrap()).0;
        assert_eq!(a[0].key(), b[0].key());
    }

    #[test]
    fn charts_quarantine_ping_and_repository_deletes_are_ignored() {
        let push = fixture_text("acr-push.json");
        for action in ["chart_push", "chart_delete", "quarantine", "ping"] {
            let body = push.replace("\"push\"", &format!("{action:?}"));
            assert_eq!(
                items(run(body.as_bytes()).unwrap()),
                (vec![], 1),
                "{action}"
            );
        }
        let repo_deleted =
            fixture_text("acr-delete.json").replace(&format!("\"digest\": \"{DIGEST}\","), "");
        assert_eq!(items(run(repo_deleted.as_bytes()).unwrap()), (vec![], 1));
    }

    #[test]
    fn bad_input_names_the_field() {
        let push = fixture_text("acr-push.json");
        let e = |b: &str| run(b.as_bytes()).unwrap_err().field;
        assert_eq!(e("{"), "body");
        assert_eq!(
            e(&push.replace("sha256:80f0d5c8", "sha256:xxxxd5c8")),
            "target.digest"
        );
        assert_eq!(e(&push.replace("\"v1\"", "\"-v1\"")), "target.tag");
        assert_eq!(
            e(&push.replace("\"hello-world\"", "\"Hello-World\"")),
            "target.repository"
        );
        assert_eq!(
            e(&push.replace("2017-11-17T16", "17.11.2017 16")),
            "timestamp"
        );
        assert_eq!(e(&push.replace("\"action\": \"push\",", "")), "action");
        assert_eq!(
            e(&push.replace("\"id\": \"cb8c3971-9adc-488b-bdd8-43cbb4974ff5\",", "")),
            "id"
        );
        assert_eq!(
            e(&push.replace("\"host\": \"myregistry.azurecr.io\",", "")),
            "request.host"
        );
    }

    #[test]
    fn the_configured_registry_wins() {
        let h = headers(&[]);
        let req = request(&h, "application/json", Some("mirror.example:5000"));
        let (items, _) = items(parse(&req, &fixture("acr-push.json")).unwrap());
        let [InboxBody::Push(p)] = items.as_slice() else {
            panic!("{items:?}")
        };
        assert_eq!(p.registry, "mirror.example:5000");
    }
}
