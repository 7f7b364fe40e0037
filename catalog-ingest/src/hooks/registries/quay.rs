//! Quay and Red Hat Quay (`/hooks/quay`): the "Repository Push" notification. Its body is
//! `repository`, `docker_url` (whose host is the registry) and `updated_tags` (an array; very
//! old Quay sent an object keyed by tag). It names no digest, so each tag becomes a `TagPush`
//! that the worker resolves through the registry. A body without `updated_tags` is another
//! Quay event sent to this URL (`build_*`, `vulnerability_found`, mirror, expiry, quota) and
//! is ignored. Quay sends no delete event.
//!
//! Quay sends no event id, no time and no actor: the time is the receive time, the actor
//! `quay`. Nothing in the body tells a retry from a second push of the same tag, so the key
//! is derived from the host, repository, tag and the receive time (to the nanosecond): each
//! delivery is its own event. A retry is then recorded twice, which is harmless, because the
//! worker resolves the tag to the digest it names when it runs: the retry registers the same
//! image again (or a newer one), never an older one. The other choice, one key per tag within
//! a time window, would swallow a second push of `latest` inside the window until reconcile.

use super::{
    derived_key, finish, host_of, ignored_one, json, renamed, valid_host, Action, Notice, Outcome,
    Request,
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
    if let Some(h) = registry.as_deref().filter(|h| !valid_host(h)) {
        return Err(FieldError::new(
            "docker_url",
            format!("{h:?} is not a registry host"),
        ));
    }
    let received = req
        .received_at
        .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
    let notices = tags
        .into_iter()
        .enumerate()
        .map(|(i, tag)| Notice {
            at: at(i),
            action: Action::Push,
            key: derived_key(
                "quay",
                &[
                    registry.as_deref().unwrap_or(""),
                    &repository,
                    &tag,
                    &received,
                ],
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
    finish("quay", req, notices, 0)
        .map(Outcome::Items)
        .map_err(|e| renamed(e, &[("tag", "")]))
}
