//! Quay and Red Hat Quay (`/hooks/quay`): the "Repository Push" notification. Its body is
//! `repository`, `docker_url` (whose host is the registry) and `updated_tags` (an array; very
//! old Quay sent an object keyed by tag). It names no digest, so each tag becomes a `TagPush`
//! that the worker resolves through the registry. A body without `updated_tags` is another
//! Quay event sent to this URL (`build_*`, `vulnerability_found`, mirror, expiry, quota) and
//! is ignored. Quay sends no delete event.
//!
//! Quay sends no event id, no time and no actor: the time is the receive time, the actor
//! `quay`. Nothing in the body tells a retry from a second push of the same tag, so the key is
//! derived from the host, repository and tag, and the worker completes it with the digest the
//! tag resolves to (`TagPush::resolved`). The items are id-less ([`super::finish_idless`]): the
//! worker records a push only where the tag does not name that digest already, so a retry,
//! or a push that changed nothing, records nothing, and a tag moved back to a digest it named
//! before is recorded.

use super::{
    derived_key, finish_idless, host_of, ignored_one, json, renamed, valid_host, Action, Notice,
    Outcome, Request,
};
use crate::item::{valid_repository, FieldError};
use serde::Deserialize;
use std::collections::BTreeMap;

pub const CONTENT_TYPES: [&str; 1] = ["application/json"];

#[derive(Deserialize)]
struct Push {
    repository: Option<String>,
    docker_url: Option<String>,
    updated_tags: Option<Tags>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Tags {
    List(Vec<String>),
    /// Quay before v2 manifests: `{tag: image id}`.
    ByTag(BTreeMap<String, serde_json::Value>),
}

pub fn parse(req: &Request, body: &[u8]) -> Result<Outcome, FieldError> {
    let p: Push = json(body)?;
    let repository = p
        .repository
        .ok_or_else(|| FieldError::new("repository", "missing"))?;
    // Checked here because `finish` would name them under each tag.
    if !valid_repository(&repository) {
        return Err(FieldError::new(
            "repository",
            format!("{repository:?} is not a repository name"),
        ));
    }
    let (tags, at): (Vec<String>, fn(usize) -> String) = match p.updated_tags {
        None => return Ok(Outcome::Items(ignored_one())),
        Some(Tags::List(t)) => (t, |i| format!("updated_tags[{i}]")),
        Some(Tags::ByTag(t)) => (t.into_keys().collect(), |_| "updated_tags".into()),
    };
    if tags.is_empty() {
        return Ok(Outcome::Items(ignored_one()));
    }
    let registry = p.docker_url.as_deref().and_then(host_of);
    if registry.is_none() && req.registry.is_none() {
        return Err(FieldError::new(
            "docker_url",
            "missing: it names the registry host (or add ?registry=HOST to the hook's URL)",
        ));
    }
    if let Some(h) = registry.as_deref().filter(|h| !valid_host(h)) {
        return Err(FieldError::new(
            "docker_url",
            format!("{h:?} is not a registry host"),
        ));
    }
    let notices = tags
        .into_iter()
        .enumerate()
        .map(|(i, tag)| Notice {
            at: at(i),
            action: Action::Push,
            key: derived_key(
                "quay",
                &[registry.as_deref().unwrap_or(""), &repository, &tag],
            ),
            registry: registry.clone(),
            repository: repository.clone(),
            tag: Some(tag),
            digest: None,
            media_type: None,
            size: None,
            occurred_at: req.received_at,
            actor: "quay".into(),
        })
        .collect();
    finish_idless("quay", req, notices, 0)
        .map(Outcome::Items)
        .map_err(|e| renamed(e, &[("tag", "")]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hooks::registries::testing::{
        fixture, fixture_text, headers, parsed, received_at, request,
    };
    use crate::item::{InboxBody, TagPush};

    fn run(body: &[u8]) -> Result<Outcome, FieldError> {
        let h = headers(&[]);
        parse(&request(&h, "application/json", None), body)
    }

    fn tag_pushes(o: Outcome) -> Vec<TagPush> {
        parsed(o)
            .0
            .into_iter()
            .map(|i| match i {
                InboxBody::TagPush(t) => t,
                other => panic!("not a tag push: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn each_fixture_is_a_tag_push_on_its_host() {
        for (f, repository) in [
            ("quay-repo-push.json", "dgangaia/test"),
            ("quay-repo-push-quayio-guide.json", "mynamespace/repository"),
        ] {
            let [t] = tag_pushes(run(&fixture(f)).unwrap()).try_into().unwrap();
            assert_eq!(t.registry, "quay.io", "{f}");
            assert_eq!(t.repository, repository, "{f}");
            assert_eq!(t.tag, "latest", "{f}");
            assert_eq!(t.actor, "quay", "{f}");
            assert_eq!(t.source, "quay", "{f}");
            assert_eq!(t.occurred_at, received_at(), "{f}");
            assert!(t.key.starts_with("quay:"), "{f}");
        }
    }

    #[test]
    fn a_redelivery_is_one_event_and_a_new_digest_another() {
        let body = fixture("quay-repo-push.json");
        let h = headers(&[]);
        let at = |secs| {
            let mut r = request(&h, "application/json", None);
            r.received_at = received_at() + chrono::Duration::milliseconds(secs);
            tag_pushes(parse(&r, &body).unwrap()).remove(0)
        };
        assert_eq!(at(0).key, at(1000).key, "a retry later is the same notice");
        let d = |n: u8| format!("sha256:{}", hex::encode([n; 32]));
        assert_eq!(at(0).resolved(d(1)).key, at(5).resolved(d(1)).key);
        assert_ne!(at(0).resolved(d(1)).key, at(0).resolved(d(2)).key);
    }

    #[test]
    fn every_tag_is_its_own_push_in_both_shapes() {
        // The "Test notification" button's tags, and Quay's old object form.
        let list = fixture_text("quay-repo-push.json").replace("\"latest\"", "\"latest\", \"foo\"");
        let object = fixture_text("quay-repo-push.json").replace(
            "[\n    \"latest\"\n  ]",
            "{\"latest\": \"b1f0a5\", \"foo\": \"b1f0a5\"}",
        );
        for body in [list, object] {
            let pushes = tag_pushes(run(body.as_bytes()).unwrap());
            let mut tags: Vec<&str> = pushes.iter().map(|t| t.tag.as_str()).collect();
            tags.sort();
            assert_eq!(tags, ["foo", "latest"], "{body}");
            assert_ne!(pushes[0].key, pushes[1].key);
        }
    }

    #[test]
    fn other_quay_events_are_counted() {
        // A build event has no `updated_tags`; an empty push names nothing.
        let build = br#"{"repository":"dgangaia/test","docker_url":"quay.io/dgangaia/test","build_id":"296ec063","docker_tags":["latest"]}"#;
        let empty = fixture_text("quay-repo-push.json").replace("\"latest\"", "");
        for body in [build.to_vec(), empty.into_bytes()] {
            let (items, ignored) = parsed(run(&body).unwrap());
            assert!(items.is_empty());
            assert_eq!(ignored, 1);
        }
    }

    #[test]
    fn registry_override_and_bad_input() {
        let body = fixture("quay-repo-push.json");
        let h = headers(&[]);
        let mut r = request(&h, "application/json", None);
        r.registry = Some("quay.example.com");
        let [t] = tag_pushes(parse(&r, &body).unwrap()).try_into().unwrap();
        assert_eq!(t.registry, "quay.example.com");

        assert_eq!(run(b"{").unwrap_err().field, "body");
        let text = fixture_text("quay-repo-push.json");
        for (from, to, field) in [
            ("\"latest\"", "\"latest\", \"-x\"", "updated_tags[1]"),
            ("\"dgangaia/test\",", "\"DG/Test\",", "repository"),
            ("\"repository\": \"dgangaia/test\",", "", "repository"),
            (
                "\"quay.io/dgangaia/test\"",
                "\"qu ay/dgangaia/test\"",
                "docker_url",
            ),
        ] {
            let e = run(text.replace(from, to).as_bytes()).unwrap_err();
            assert_eq!(e.field, field, "{to}");
        }
        let no_host = text.replace("\"docker_url\": \"quay.io/dgangaia/test\",", "");
        assert_eq!(run(no_host.as_bytes()).unwrap_err().field, "docker_url");
        r.registry = Some("quay.example.com");
        assert_eq!(tag_pushes(parse(&r, no_host.as_bytes()).unwrap()).len(), 1);
    }
}
