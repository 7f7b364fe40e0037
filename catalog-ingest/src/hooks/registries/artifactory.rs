//! JFrog Artifactory webhooks (`/hooks/artifactory`), `application/json`: the `docker`
//! domain's `pushed` ("Docker Tag was Pushed") and `deleted` ("Docker Tag was Deleted").
//! `promoted`, the other domains (`artifact`, `build`, ...) and anything else are ignored.
//!
//! Read: `jpd_origin` (the platform URL, whose host is the registry host), `data.repo_key`,
//! `data.image_name`, `data.tag`, `data.sha256` (the manifest digest, without `sha256:`),
//! `data.size` (the manifest's) and `source` (the actor, `jfrog/<user>`).
//!
//! The repository is `<repo_key>/<image_name>`, the name Docker uses with Artifactory's
//! "Repository Path" access method (`docker pull example.jfrog.io/docker-local/shop/cart`),
//! which JFrog Cloud always offers and self-hosted Artifactory uses without a reverse proxy.
//! Remote repositories report their cache, `<key>-cache`, but are pulled as `<key>`, so the
//! suffix is dropped (no repository key may end in `-cache`). With the subdomain or port
//! methods the names differ; `?registry=` then still sets only the host.
//!
//! A deleted tag is removed, not its digest: the manifest may live on under other tags (and
//! the documented example's `sha256` is a placeholder, so a delete's digest is not read).
//! Payloads carry neither an event id nor a time: the time is the receipt time, and the key
//! is derived from the event type, repository, tag and digest. The items are marked id-less
//! ([`super::finish_idless`]): the worker records a push only where the tag does not name that
//! digest already, and a delete only where the tag exists, so a resend at any later time
//! changes nothing, while a tag moved back to a digest it named before is recorded.

use super::hmac_sha256_matches;
use super::{check_digest, check_repository, check_tag, derived_key, finish_idless};
use super::{json, secret_matches, Action, Notice, Outcome, Request};
use crate::item::FieldError;
use serde::Deserialize;

pub const CONTENT_TYPES: [&str; 1] = ["application/json"];

/// Checks `X-JFrog-Event-Auth`, before parsing: by default Artifactory sends the secret
/// itself; with "use secret for payload signing" it sends hex HMAC-SHA256(secret, body), the
/// form Kargo verifies. Both are compared in constant time.
pub fn verify(secret: &[u8], req: &Request, body: &[u8]) -> Result<(), String> {
    let auth = req.header("x-jfrog-event-auth").ok_or(
        "X-JFrog-Event-Auth is missing: give the webhook the secret the catalog was given",
    )?;
    if secret_matches(secret, auth.as_bytes()) || hmac_sha256_matches(secret, body, auth) {
        Ok(())
    } else {
        Err("X-JFrog-Event-Auth is neither the secret nor the HMAC-SHA256 of the body".into())
    }
}

#[derive(Deserialize)]
struct Event {
    domain: Option<String>,
    event_type: Option<String>,
    data: Option<Data>,
    jpd_origin: Option<String>,
    source: Option<String>,
}

#[derive(Deserialize)]
struct Data {
    repo_key: Option<String>,
    image_name: Option<String>,
    tag: Option<String>,
    sha256: Option<String>,
    size: Option<i64>,
}

pub fn parse(req: &Request, body: &[u8]) -> Result<Outcome, FieldError> {
    let e: Event = json(body)?;
    let domain = e
        .domain
        .ok_or_else(|| FieldError::new("domain", "missing"))?;
    let action = match (domain.as_str(), e.event_type.as_deref()) {
        ("docker", Some("pushed")) => Action::Push,
        ("docker", Some("deleted")) => Action::Delete,
        (_, Some(_)) => return Ok(Outcome::ignored(1)),
        (_, None) => return Err(FieldError::new("event_type", "missing")),
    };
    let host = e.jpd_origin.filter(|h| !h.is_empty());
    if host.is_none() && req.registry.is_none() {
        return Err(FieldError::new(
            "jpd_origin",
            "missing: add ?registry=HOST to the hook's URL",
        ));
    }
    let data = e.data.ok_or_else(|| FieldError::new("data", "missing"))?;
    let repo_key = data
        .repo_key
        .ok_or_else(|| FieldError::new("data.repo_key", "missing"))?;
    let repo_key = repo_key
        .strip_suffix("-cache")
        .unwrap_or(&repo_key)
        .to_string();
    check_repository("data.repo_key", &repo_key)?;
    let image = data
        .image_name
        .ok_or_else(|| FieldError::new("data.image_name", "missing"))?;
    check_repository("data.image_name", &image)?;
    let repository = format!("{repo_key}/{image}");
    let tag = data.tag.filter(|t| !t.is_empty());
    if let Some(t) = &tag {
        check_tag("data.tag", t)?;
    }
    let digest = match action {
        Action::Push => match data.sha256.filter(|s| !s.is_empty()) {
            Some(hex) => {
                let d = format!("sha256:{hex}");
                check_digest("data.sha256", &d)?;
                Some(d)
            }
            None => None,
        },
        Action::Delete => None,
    };
    let kind = match action {
        Action::Push => "pushed",
        Action::Delete => "deleted",
    };
    let key = derived_key(
        "artifactory",
        &[
            kind,
            &repository,
            tag.as_deref().unwrap_or(""),
            digest.as_deref().unwrap_or(""),
        ],
    );
    let notice = Notice {
        at: "data".into(),
        action,
        key,
        registry: host.as_deref().and_then(super::host_of),
        repository,
        tag,
        digest,
        media_type: None,
        size: data.size.filter(|s| *s > 0),
        occurred_at: req.received_at,
        actor: e
            .source
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "artifactory".into()),
    };
    finish_idless("artifactory", req, vec![notice], 0).map(Outcome::Items)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{fixture, fixture_text, headers, items, received_at, request};
    use super::*;
    use crate::item::InboxBody;
    use std::collections::BTreeMap;

    fn run(body: &[u8]) -> Result<Outcome, FieldError> {
        let h = headers(&[]);
        parse(&request(&h, "application/json", None), body)
    }

    #[test]
    fn a_pushed_tag_is_a_push_under_the_remote_repositorys_key() {
        let (items, ignored) = items(run(&fixture("jfrog-docker-pushed.json")).unwrap());
        assert_eq!(ignored, 0);
        let [InboxBody::Push(p)] = items.as_slice() else {
            panic!("{items:?}")
        };
        assert_eq!(p.registry, "example.jfrog.io");
        assert_eq!(p.repository, "docker-remote/library/ubuntu");
        assert_eq!(p.tag.as_deref(), Some("latest"));
        assert_eq!(
            p.digest,
            "sha256:35c4a2c15539c6c1e4e5fa4e554dac323ad0107d8eb5c582d6ff386b383b7dce"
        );
        assert_eq!(p.media_type, None);
        assert_eq!(p.size, Some(1206));
        assert!(p.key.starts_with("artifactory:"), "{}", p.key);
        assert_eq!(p.actor, "jfrog/user@example.com");
        assert_eq!(p.source, "artifactory");
        assert_eq!(p.occurred_at, received_at());
    }

    #[test]
    fn a_local_repository_keeps_its_key() {
        let body =
            fixture_text("jfrog-docker-pushed.json").replace("docker-remote-cache", "docker-local");
        let (items, _) = items(run(body.as_bytes()).unwrap());
        let [InboxBody::Push(p)] = items.as_slice() else {
            panic!("{items:?}")
        };
        assert_eq!(p.repository, "docker-local/library/ubuntu");
    }

    #[test]
    fn a_deleted_tag_is_a_delete_of_the_tag() {
        // As in JFrog's "Docker Tag was Deleted" example: a placeholder instead of a digest.
        let body = fixture_text("jfrog-docker-pushed.json")
            .replace("\"pushed\"", "\"deleted\"")
            .replace(
                "35c4a2c15539c6c1e4e5fa4e554dac323ad0107d8eb5c582d6ff386b383b7dce",
                "sample_checksum",
            );
        let (items, _) = items(run(body.as_bytes()).unwrap());
        let [InboxBody::Delete(d)] = items.as_slice() else {
            panic!("{items:?}")
        };
        assert_eq!(d.registry, "example.jfrog.io");
        assert_eq!(d.repository, "docker-remote/library/ubuntu");
        assert_eq!(
            (d.tag.as_deref(), d.digest.as_deref()),
            (Some("latest"), None)
        );
        let pushed = items_of(&fixture("jfrog-docker-pushed.json"));
        assert_ne!(d.key, pushed[0].key());
    }

    fn items_of(body: &[u8]) -> Vec<InboxBody> {
        items(run(body).unwrap()).0
    }

    #[test]
    fn a_resend_at_any_time_has_the_same_key_and_is_left_to_the_worker() {
        let body = fixture("jfrog-docker-pushed.json");
        assert_eq!(items_of(&body)[0].key(), items_of(&body)[0].key());
        let h = headers(&[]);
        let mut later = request(&h, "application/json", None);
        later.received_at = received_at() + chrono::Duration::seconds(3600);
        let (b, _) = items(parse(&later, &body).unwrap());
        assert_eq!(items_of(&body)[0].key(), b[0].key());
        // Whether it changes anything is the worker's question (`Worker::by_state`).
        assert!(matches!(&b[0], InboxBody::Push(p) if p.idless), "{b:?}");
    }

    #[test]
    fn other_domains_and_promotions_are_ignored() {
        let pushed = fixture_text("jfrog-docker-pushed.json");
        let promoted = pushed.replace("\"pushed\"", "\"promoted\"");
        assert_eq!(items(run(promoted.as_bytes()).unwrap()), (vec![], 1));
        let artifact = pushed
            .replace("\"docker\"", "\"artifact\"")
            .replace("\"pushed\"", "\"deployed\"");
        assert_eq!(items(run(artifact.as_bytes()).unwrap()), (vec![], 1));
    }

    #[test]
    fn bad_input_names_the_field() {
        let pushed = fixture_text("jfrog-docker-pushed.json");
        let e = |b: &str| run(b.as_bytes()).unwrap_err().field;
        assert_eq!(e("{"), "body");
        assert_eq!(e(&pushed.replace("35c4a2c1", "35c4a2c")), "data.sha256");
        assert_eq!(
            e(&pushed.replace("\"sha256\":\"", "\"sha256\":\"sha256:")),
            "data.sha256"
        );
        assert_eq!(e(&pushed.replace("\"latest\"", "\".latest\"")), "data.tag");
        assert_eq!(
            e(&pushed.replace("\"library/ubuntu\"", "\"Library/Ubuntu\"")),
            "data.image_name"
        );
        assert_eq!(
            e(&pushed.replace("\"jpd_origin\": \"https://example.jfrog.io\",", "")),
            "jpd_origin"
        );
        assert_eq!(e(&pushed.replace("\"domain\": \"docker\",", "")), "domain");
    }

    fn auth(value: &str) -> BTreeMap<String, String> {
        headers(&[("X-JFrog-Event-Auth", value)])
    }

    #[test]
    fn the_secret_or_its_hmac_of_the_body_authenticates() {
        // Wikipedia's HMAC-SHA256 example: key "key", the quick brown fox.
        let body = b"The quick brown fox jumps over the lazy dog";
        let mac = "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8";
        let h = auth(mac);
        let req = request(&h, "application/json", None);
        assert_eq!(verify(b"key", &req, body), Ok(()));
        assert!(verify(b"key", &req, b"The quick brown fox jumps over the lazy cat").is_err());
        assert!(verify(b"another key", &req, body).is_err());

        let h = auth("s3cret-token");
        let req = request(&h, "application/json", None);
        assert_eq!(verify(b"s3cret-token", &req, body), Ok(()));
        let e = verify(b"s3cret-tokeN", &req, body).unwrap_err();
        assert!(!e.contains("s3cret"), "the secret leaks: {e}");

        let h = headers(&[]);
        assert!(verify(b"key", &request(&h, "application/json", None), body)
            .unwrap_err()
            .contains("missing"));
    }
}
