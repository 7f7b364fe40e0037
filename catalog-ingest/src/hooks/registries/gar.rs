//! Google Artifact Registry (`/hooks/gar`): the Pub/Sub push envelope
//! `{"message":{"data","messageId","publishTime",..},"subscription"}` of a message from the
//! project's `gcr` topic. `data` (standard base64) is Artifact Registry's JSON: `action`
//! (`INSERT`, `DELETE`; anything else is ignored) and a `digest` and/or `tag`, each a full
//! image reference (`us-west1-docker.pkg.dev/project/repo/image@sha256:…`, `…/image:1.1`),
//! from which the host, repository, digest and tag are read. An insert with a digest only (a
//! push by digest) is ignored, as [`finish`] does for every sender.
//!
//! The key is `gar:<messageId>` (Pub/Sub delivers at least once and keeps the id), the time is
//! `publishTime`. There is no actor. Pub/Sub's optional OIDC token (a JWT signed by Google)
//! would need Google's keys to check; the catalog does not fetch them.

use super::{finish, ignored_one, json, rfc3339, Action, Notice, Outcome, Request};
use crate::item::FieldError;
use base64::Engine;
use catalog_core::deployment::ImageRef;
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

pub fn parse(req: &Request, body: &[u8]) -> Result<Outcome, FieldError> {
    let env: Envelope = json(body)?;
    let m = env
        .message
        .ok_or_else(|| FieldError::new("message", "missing"))?;
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
    let data: Data = serde_json::from_slice(&data)
        .map_err(|e| FieldError::new("message.data", format!("invalid JSON: {e}")))?;
    let action = match data.action.as_deref() {
        Some("INSERT") => Action::Push,
        Some("DELETE") => Action::Delete,
        Some(_) => return Ok(Outcome::Items(ignored_one())),
        None => return Err(FieldError::new("message.data.action", "missing")),
    };
    let by_digest = data
        .digest
        .map(|r| reference("message.data.digest", &r, true))
        .transpose()?;
    let by_tag = data
        .tag
        .map(|r| reference("message.data.tag", &r, false))
        .transpose()?;
    let image = match (&by_digest, &by_tag) {
        (Some(d), Some(t)) if (&d.registry, &d.repository) != (&t.registry, &t.repository) => {
            return Err(FieldError::new(
                "message.data.tag",
                "names another image than message.data.digest",
            ))
        }
        (Some(i), _) | (None, Some(i)) => i,
        (None, None) => {
            return Err(FieldError::new(
                "message.data.digest",
                "missing: the message names neither a digest nor a tag",
            ))
        }
    };
    let notice = Notice {
        at: "message.data".into(),
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
