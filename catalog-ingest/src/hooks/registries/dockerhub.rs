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
use catalog_core::identity::DOCKER_HUB;
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
    /// Seconds; old examples wrote it as a float (`1.417566161e+09`). Read as any JSON value
    /// so that a wrong type is reported under its own name, not as the body's.
    pushed_at: Option<serde_json::Value>,
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
        .or_else(|| secs.as_f64().map(|f| f as i64))
        .and_then(|s| Utc.timestamp_opt(s, 0).single())
        .ok_or_else(|| {
            FieldError::new(
                "push_data.pushed_at",
                format!("{secs} is not a time (Unix seconds)"),
            )
        })?;
    // `?registry=registry-1.docker.io` is named docker.io by `finish`, as every host is.
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
    finish("dockerhub", req, vec![notice], 0).map(Outcome::Items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hooks::registries::testing::{fixture, fixture_text, headers, parsed, request};
    use crate::item::{InboxBody, TagPush};

    fn run_at(registry: Option<&str>, body: &[u8]) -> Result<Outcome, FieldError> {
        let h = headers(&[]);
        let mut r = request(&h, "application/json", None);
        r.registry = registry;
        parse(&r, body)
    }

    fn run(body: &[u8]) -> Result<Outcome, FieldError> {
        run_at(None, body)
    }

    fn tag_push(o: Outcome) -> TagPush {
        match parsed(o).0.as_slice() {
            [InboxBody::TagPush(t)] => t.clone(),
            other => panic!("not one tag push: {other:?}"),
        }
    }

    #[test]
    fn each_fixture_is_a_tag_push_on_docker_io() {
        for (f, repository, tag, secs, pusher) in [
            (
                "dockerhub-push.json",
                "svendowideit/testhook",
                "latest",
                1417566161,
                "trustedbuilder",
            ),
            (
                "dockerhub-push-captured-2017.json",
                "yupeek/maiev",
                "scaler_docker-1.0.2",
                1496845658,
                "yupeek",
            ),
        ] {
            let t = tag_push(run(&fixture(f)).unwrap());
            assert_eq!(t.registry, "docker.io", "{f}");
            assert_eq!(t.repository, repository, "{f}");
            assert_eq!(t.tag, tag, "{f}");
            assert_eq!(t.occurred_at.timestamp(), secs, "{f}");
            assert_eq!(t.actor, pusher, "{f}");
            assert_eq!(t.source, "dockerhub", "{f}");
            assert!(t.key.starts_with("dockerhub:"), "{f}");
        }
    }

    #[test]
    fn a_redelivery_is_one_event_and_a_later_push_another() {
        let body = fixture_text("dockerhub-push.json");
        let key = |b: &str| tag_push(run(b.as_bytes()).unwrap()).key;
        assert_eq!(key(&body), key(&body));
        assert_ne!(key(&body), key(&body.replace("1417566161", "1417566162")));
        // Old examples wrote the time as a float.
        let float = body.replace("1417566161", "1.417566161e+09");
        assert_eq!(key(&body), key(&float));
    }

    #[test]
    fn docker_hub_api_hosts_are_docker_io() {
        let body = fixture("dockerhub-push.json");
        for host in ["registry-1.docker.io", "index.docker.io", "docker.io"] {
            assert_eq!(
                tag_push(run_at(Some(host), &body).unwrap()).registry,
                "docker.io"
            );
        }
        let mirror = tag_push(run_at(Some("hub.example.com:5000"), &body).unwrap());
        assert_eq!(mirror.registry, "hub.example.com:5000");
    }

    #[test]
    fn bad_input_names_the_field() {
        assert_eq!(run(b"{").unwrap_err().field, "body");
        let text = fixture_text("dockerhub-push.json");
        for (from, to, field) in [
            ("\"tag\": \"latest\"", "\"tag\": \"-x\"", "push_data.tag"),
            (
                "\"tag\": \"latest\"",
                "\"tags\": \"latest\"",
                "push_data.tag",
            ),
            ("1417566161", "\"yesterday\"", "push_data.pushed_at"),
            ("1417566161", "1e300", "push_data.pushed_at"),
            (
                "\"repo_name\": \"svendowideit/testhook\"",
                "\"repo_name\": \"Svendowideit/testhook\"",
                "repository.repo_name",
            ),
            ("\"repo_name\"", "\"name_of_repo\"", "repository.repo_name"),
        ] {
            let e = run(text.replace(from, to).as_bytes()).unwrap_err();
            assert_eq!(e.field, field, "{to}");
        }
        let e = run_at(Some("not a host"), text.as_bytes()).unwrap_err();
        assert_eq!(e.field, "push_data.registry");
    }
}
