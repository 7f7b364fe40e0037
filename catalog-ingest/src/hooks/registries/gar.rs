//! Google Artifact Registry (`/hooks/gar`): the Pub/Sub push envelope
//! `{"message":{"data","messageId","publishTime",..},"subscription"}` of a message from the
//! project's `gcr` topic. `data` (standard base64) is Artifact Registry's JSON: `action`
//! (`INSERT`, `DELETE`; anything else is ignored) and a `digest` and/or `tag`, each a full
//! image reference (`us-west1-docker.pkg.dev/project/repo/image@sha256:…`, `…/image:1.1`),
//! from which the host, repository, digest and tag are read. An insert with a digest only (a
//! push by digest) is ignored, as [`finish`] does for every sender.
//!
//! The key is `gar:<messageId>` (Pub/Sub delivers at least once and keeps the id), the time is
//! `publishTime`. A subscription with "no wrapper" sends the data as the body, and with "write
//! metadata" the id and time as `x-goog-pubsub-message-id` / `-publish-time` headers. There is no actor. Pub/Sub's optional OIDC token (a JWT signed by Google)
//! would need Google's keys to check; the catalog does not fetch them.

use super::{finish, ignored_one, json, rfc3339, Action, Notice, Outcome, Request};
use crate::item::FieldError;
use base64::Engine;
use catalog_core::deployment::ImageRef;
use chrono::{DateTime, Utc};
use serde::Deserialize;

pub const CONTENT_TYPES: [&str; 1] = ["application/json"];

#[derive(Deserialize)]
struct Envelope {
    message: Option<Message>,
}

/// Pub/Sub sends both spellings of the id and the time; serde aliases would call that a
/// duplicate field, so both are read.
#[derive(Deserialize)]
struct Message {
    data: Option<String>,
    #[serde(rename = "messageId")]
    message_id: Option<String>,
    #[serde(rename = "message_id")]
    message_id_snake: Option<String>,
    #[serde(rename = "publishTime")]
    publish_time: Option<String>,
    #[serde(rename = "publish_time")]
    publish_time_snake: Option<String>,
}

#[derive(Deserialize)]
struct Data {
    action: Option<String>,
    digest: Option<String>,
    tag: Option<String>,
}

/// With "no wrapper" and "write metadata", the body is the data and these headers say the rest.
const ID_HEADER: &str = "x-goog-pubsub-message-id";
const TIME_HEADER: &str = "x-goog-pubsub-publish-time";

pub fn parse(req: &Request, body: &[u8]) -> Result<Outcome, FieldError> {
    let env: Envelope = json(body)?;
    let Some(m) = env.message else {
        let Some(id) = req.header(ID_HEADER).filter(|i| !i.trim().is_empty()) else {
            return Err(FieldError::new("message", "missing"));
        };
        let time = req
            .header(TIME_HEADER)
            .ok_or_else(|| FieldError::new(TIME_HEADER, "missing"))?;
        let occurred_at = rfc3339(TIME_HEADER, time)?;
        return message(req, id, occurred_at, body, "");
    };
    let id = m
        .message_id
        .or(m.message_id_snake)
        .filter(|i| !i.trim().is_empty())
        .ok_or_else(|| FieldError::new("message.messageId", "missing"))?;
    let time = m
        .publish_time
        .or(m.publish_time_snake)
        .ok_or_else(|| FieldError::new("message.publishTime", "missing"))?;
    let occurred_at = rfc3339("message.publishTime", &time)?;
    let data = m
        .data
        .ok_or_else(|| FieldError::new("message.data", "missing"))?;
    let data = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|e| FieldError::new("message.data", format!("not base64: {e}")))?;
    message(req, &id, occurred_at, &data, "message.data")
}

/// One Artifact Registry message; `at` is where its JSON is (`message.data`, or `""`: the body).
fn message(
    req: &Request,
    id: &str,
    occurred_at: DateTime<Utc>,
    data: &[u8],
    at: &str,
) -> Result<Outcome, FieldError> {
    let f = |name: &str| {
        if at.is_empty() {
            name.to_string()
        } else {
            format!("{at}.{name}")
        }
    };
    super::super::duplicate_keys::reject_duplicate_keys(data, at)?;
    let data: Data = serde_json::from_slice(data).map_err(|e| {
        FieldError::new(
            if at.is_empty() { "body" } else { at },
            format!("invalid JSON: {e}"),
        )
    })?;
    let action = match data.action.as_deref() {
        Some("INSERT") => Action::Push,
        Some("DELETE") => Action::Delete,
        Some(_) => return Ok(Outcome::Items(ignored_one())),
        None => return Err(FieldError::new(f("action"), "missing")),
    };
    let by_digest = data
        .digest
        .map(|r| reference(&f("digest"), &r, true))
        .transpose()?;
    let by_tag = data
        .tag
        .map(|r| reference(&f("tag"), &r, false))
        .transpose()?;
    let image = match (&by_digest, &by_tag) {
        (Some(d), Some(t)) if (&d.registry, &d.repository) != (&t.registry, &t.repository) => {
            return Err(FieldError::new(
                f("tag"),
                format!("names another image than {}", f("digest")),
            ))
        }
        (Some(i), _) | (None, Some(i)) => i,
        (None, None) => {
            return Err(FieldError::new(
                f("digest"),
                "missing: the message names neither a digest nor a tag",
            ))
        }
    };
    let notice = Notice {
        at: at.to_string(),
        action,
        key: format!("gar:{id}"),
        registry: Some(image.registry.clone()),
        repository: image.repository.clone(),
        tag: by_tag.as_ref().and_then(|t| t.tag.clone()),
        digest: by_digest.as_ref().and_then(|d| d.digest.clone()),
        media_type: None,
        size: None,
        occurred_at,
        actor: "gar".into(),
    };
    finish("gar", req, vec![notice], 0).map(Outcome::Items)
}

/// A full image reference, which names a digest (`digest`) or a tag (`tag`), as its field says.
fn reference(field: &str, r: &str, digest: bool) -> Result<ImageRef, FieldError> {
    let i = ImageRef::parse(r).map_err(|e| FieldError::new(field, e))?;
    match (digest, &i.digest, &i.tag) {
        (true, Some(_), _) | (false, None, Some(_)) => Ok(i),
        (true, None, _) => Err(FieldError::new(
            field,
            format!("{r:?} names no digest (expected HOST/PROJECT/REPO/IMAGE@sha256:…)"),
        )),
        (false, _, _) => Err(FieldError::new(
            field,
            format!("{r:?} names no tag (expected HOST/PROJECT/REPO/IMAGE:TAG)"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hooks::registries::testing::{fixture_text, headers, parsed, request};
    use crate::item::InboxBody;
    use chrono::{TimeZone, Utc};
    use serde_json::json;

    const TRUNCATED: &str = "sha256:6ec128e26cd5...";
    const FULL: &str = "sha256:6ec128e26cd5aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    /// Pub/Sub's push envelope around `data`, as documented (both spellings of id and time).
    fn envelope(data: &str, id: &str) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "message": {
                "attributes": {},
                "data": base64::engine::general_purpose::STANDARD.encode(data),
                "messageId": id,
                "message_id": id,
                "publishTime": "2021-02-26T19:13:55.749Z",
                "publish_time": "2021-02-26T19:13:55.749Z",
            },
            "subscription": "projects/my-project/subscriptions/catalog",
        }))
        .unwrap()
    }

    fn run(body: &[u8]) -> Result<Outcome, FieldError> {
        let h = headers(&[("User-Agent", "APIs-Google")]);
        parse(&request(&h, "application/json", None), body)
    }

    fn fixed(name: &str) -> String {
        fixture_text(name).replace(TRUNCATED, FULL)
    }

    #[test]
    fn the_documented_truncated_digests_are_refused_by_name() {
        for f in [
            "gar-pubsub-insert-digest.json",
            "gar-pubsub-insert-tag.json",
        ] {
            let e = run(&envelope(&fixture_text(f), "1")).unwrap_err();
            assert_eq!(e.field, "message.data.digest", "{f}");
            assert!(e.reason.contains("is not a digest"), "{f}: {}", e.reason);
        }
    }

    #[test]
    fn a_tag_delete_names_host_repository_and_tag() {
        let body = envelope(
            &fixture_text("gar-pubsub-delete-tag.json"),
            "2070443601311540",
        );
        let (items, _) = parsed(run(&body).unwrap());
        let [InboxBody::Delete(d)] = items.as_slice() else {
            panic!("{items:?}")
        };
        assert_eq!(d.registry, "us-west1-docker.pkg.dev");
        assert_eq!(d.repository, "my-project/my-repo/hello-world");
        assert_eq!((d.tag.as_deref(), d.digest.as_deref()), (Some("1.1"), None));
        assert_eq!(d.key, "gar:2070443601311540");
        assert_eq!(d.actor, "gar");
        assert_eq!(
            d.occurred_at,
            Utc.with_ymd_and_hms(2021, 2, 26, 19, 13, 55).unwrap()
                + chrono::Duration::milliseconds(749)
        );
        // A redelivery is the same event.
        assert_eq!(items, parsed(run(&body).unwrap()).0);
    }

    #[test]
    fn an_insert_with_a_tag_is_a_push_and_by_digest_is_ignored() {
        let (items, _) = parsed(run(&envelope(&fixed("gar-pubsub-insert-tag.json"), "7")).unwrap());
        let [InboxBody::Push(p)] = items.as_slice() else {
            panic!("{items:?}")
        };
        assert_eq!(p.registry, "us-west1-docker.pkg.dev");
        assert_eq!(p.repository, "my-project/my-repo/hello-world");
        assert_eq!(p.tag.as_deref(), Some("1.1"));
        assert_eq!(p.digest, FULL);
        assert_eq!(p.key, "gar:7");
        let (items, ignored) =
            parsed(run(&envelope(&fixed("gar-pubsub-insert-digest.json"), "8")).unwrap());
        assert!(items.is_empty());
        assert_eq!(ignored, 1);
        // A delete by digest removes the manifest.
        let delete = fixed("gar-pubsub-insert-digest.json").replace("INSERT", "DELETE");
        let (items, _) = parsed(run(&envelope(&delete, "9")).unwrap());
        let [InboxBody::Delete(d)] = items.as_slice() else {
            panic!("{items:?}")
        };
        assert_eq!(d.digest.as_deref(), Some(FULL));
    }

    #[test]
    fn a_subscription_without_wrapper_sends_the_data_and_headers() {
        let data = fixture_text("gar-pubsub-delete-tag.json");
        let wrapped = parsed(run(&envelope(&data, "2070443601311540")).unwrap()).0;
        let h = headers(&[
            ("x-goog-pubsub-message-id", "2070443601311540"),
            ("x-goog-pubsub-publish-time", "2021-02-26T19:13:55.749Z"),
            (
                "x-goog-pubsub-subscription-name",
                "projects/my-project/subscriptions/catalog",
            ),
        ]);
        let bare = parse(&request(&h, "application/json", None), data.as_bytes()).unwrap();
        assert_eq!(parsed(bare).0, wrapped);
        let e = parse(
            &request(&h, "application/json", None),
            fixture_text("gar-pubsub-insert-tag.json").as_bytes(),
        )
        .unwrap_err();
        assert_eq!(e.field, "digest");
        let no_time = headers(&[("x-goog-pubsub-message-id", "1")]);
        let e = parse(
            &request(&no_time, "application/json", None),
            data.as_bytes(),
        )
        .unwrap_err();
        assert_eq!(e.field, "x-goog-pubsub-publish-time");
    }

    #[test]
    fn unknown_actions_are_counted() {
        let body = fixture_text("gar-pubsub-delete-tag.json").replace("DELETE", "UPDATE");
        let (items, ignored) = parsed(run(&envelope(&body, "1")).unwrap());
        assert!(items.is_empty());
        assert_eq!(ignored, 1);
    }

    #[test]
    fn bad_input_names_the_field() {
        assert_eq!(run(b"{").unwrap_err().field, "body");
        assert_eq!(run(b"{}").unwrap_err().field, "message");
        let no_id = br#"{"message":{"data":"e30=","publishTime":"2021-02-26T19:13:55Z"}}"#;
        assert_eq!(run(no_id).unwrap_err().field, "message.messageId");
        let not_b64 =
            br#"{"message":{"data":"%%%","messageId":"1","publishTime":"2021-02-26T19:13:55Z"}}"#;
        assert_eq!(run(not_b64).unwrap_err().field, "message.data");
        assert_eq!(run(&envelope("{", "1")).unwrap_err().field, "message.data");
        let other_image = fixed("gar-pubsub-insert-tag.json").replace(":1.1", "-other:1.1");
        assert_eq!(
            run(&envelope(&other_image, "1")).unwrap_err().field,
            "message.data.tag"
        );
        let no_tag = fixture_text("gar-pubsub-delete-tag.json").replace(":1.1", "");
        assert_eq!(
            run(&envelope(&no_tag, "1")).unwrap_err().field,
            "message.data.tag"
        );
        let bad_repo = fixture_text("gar-pubsub-delete-tag.json").replace("my-repo", "My Repo");
        assert_eq!(
            run(&envelope(&bad_repo, "1")).unwrap_err().field,
            "message.data.tag"
        );
        assert_eq!(
            run(&envelope(r#"{"action":"INSERT"}"#, "1"))
                .unwrap_err()
                .field,
            "message.data.digest"
        );
    }
}
