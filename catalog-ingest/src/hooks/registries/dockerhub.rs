//! Docker Hub (`/hooks/dockerhub`): a repository webhook's push notification. Read:
//! `repository.repo_name`, `push_data.tag`, `push_data.pushed_at` (Unix seconds, the time) and
//! `push_data.pusher` (the actor); the rest (`callback_url`, a legacy field, the repository's
//! description, stars) is not. Docker Hub sends no digest, so a push is a `TagPush` that the
//! worker resolves through the registry, and it sends no delete event.
//!
//! The body names no host: the registry is `docker.io`, as image references (and so
//! deployments) name Docker Hub; `--registry https://registry-1.docker.io` and a `?registry=`
//! naming one of Docker Hub's API hosts mean the same (see
//! [`catalog_core::identity::canonical_registry`]). There is no event id: the key is derived
//! from repository, tag and `pushed_at`, so a redelivery is the same event and only two pushes
//! of one tag within one second are one.

use super::{derived_key, finish, json, Action, Notice, Outcome, Request};
use crate::item::{valid_repository, FieldError};
use catalog_core::identity::{canonical_registry, DOCKER_HUB};
use chrono::{TimeZone, Utc};
use serde::Deserialize;

pub const CONTENT_TYPES: [&str; 1] = ["application/json"];

#[derive(Deserialize)]
struct Hook {
    push_data: Option<PushData>,
    repository: Option<Repository>,
}

#[derive(Deserialize)]
struct PushData {
    tag: Option<String>,
    /// Seconds; old examples wrote it as a float (`1.417566161e+09`).
    pushed_at: Option<serde_json::Number>,
    pusher: Option<String>,
}

#[derive(Deserialize)]
struct Repository {
    repo_name: Option<String>,
}

pub fn parse(req: &Request, body: &[u8]) -> Result<Outcome, FieldError> {
    let h: Hook = json(body)?;
    let repository = h
        .repository
        .and_then(|r| r.repo_name)
        .ok_or_else(|| FieldError::new("repository.repo_name", "missing"))?;
    // Checked here because `finish` would name it under `push_data`.
    if !valid_repository(&repository) {
        return Err(FieldError::new(
            "repository.repo_name",
            format!("{repository:?} is not a repository name"),
        ));
    }
    let p = h
        .push_data
        .ok_or_else(|| FieldError::new("push_data", "missing"))?;
    let tag = p
        .tag
        .filter(|t| !t.is_empty())
        .ok_or_else(|| FieldError::new("push_data.tag", "missing"))?;
    let secs = p
        .pushed_at
        .ok_or_else(|| FieldError::new("push_data.pushed_at", "missing"))?;
    let occurred_at = secs
        .as_i64()
        .or_else(|| secs.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
        .and_then(|s| Utc.timestamp_opt(s, 0).single())
        .ok_or_else(|| {
            FieldError::new(
                "push_data.pushed_at",
                format!("{secs} is not a time (Unix seconds)"),
            )
        })?;
    let registry = req.registry.map(canonical_registry);
    let req = Request { registry, ..*req };
    let notice = Notice {
        at: "push_data".into(),
        action: Action::Push,
        key: derived_key(
            "dockerhub",
            &[&repository, &tag, &occurred_at.timestamp().to_string()],
        ),
        registry: Some(DOCKER_HUB.into()),
        repository,
        tag: Some(tag),
        digest: None,
        media_type: None,
        size: None,
        occurred_at,
        actor: p
            .pusher
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "dockerhub".into()),
    };
    finish("dockerhub", &req, vec![notice], 0).map(Outcome::Items)
}
