//! What an inbox row holds: one validated intake item, normalised across sources, as JSON.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InboxBody {
    /// A manifest pushed with a tag: to be enriched from the registry, then registered.
    Push(Push),
    /// A tag pushed, with no digest in the notification (Quay, Docker Hub, Nexus): the worker
    /// resolves the tag through the registry, then handles it as a [`Push`].
    TagPush(TagPush),
    /// A manifest deleted by digest, or a tag deleted.
    Delete(Delete),
    /// An event complete at intake (deployments need no enrichment): recorded as it is.
    Record(Record),
}

/// Read without buffering the body when `type` comes first (as written): an SBOM item is
/// hundreds of KB (see [`catalog_core::tagged`]).
impl<'de> Deserialize<'de> for InboxBody {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<InboxBody, D::Error> {
        catalog_core::tagged::deserialize_tagged(d)
    }
}

impl catalog_core::tagged::TaggedEnum for InboxBody {
    const TAG: &'static str = "type";
    const VARIANTS: &'static [&'static str] = &["push", "tag_push", "delete", "record"];

    fn variant<'de, D: serde::Deserializer<'de>>(tag: &str, d: D) -> Result<InboxBody, D::Error> {
        Ok(match tag {
            "push" => InboxBody::Push(Deserialize::deserialize(d)?),
            "tag_push" => InboxBody::TagPush(Deserialize::deserialize(d)?),
            "delete" => InboxBody::Delete(Deserialize::deserialize(d)?),
            "record" => InboxBody::Record(Deserialize::deserialize(d)?),
            other => return Err(serde::de::Error::unknown_variant(other, Self::VARIANTS)),
        })
    }
}

/// A domain event made by a hook's parser, waiting in the inbox to be recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub key: String,
    pub occurred_at: DateTime<Utc>,
    pub source: String,
    pub actor: String,
    pub event: catalog_core::Event,
}

impl Record {
    pub fn into_event(self) -> catalog_core::event::NewEvent {
        catalog_core::event::NewEvent {
            key: self.key,
            occurred_at: self.occurred_at,
            source: self.source,
            actor: self.actor,
            event: self.event,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Push {
    /// The natural key of the event this becomes (e.g. `distribution:<event id>`).
    pub key: String,
    /// Where to fetch it: a configured registry's host (`127.0.0.1:5000`, `ghcr.io`).
    pub registry: String,
    pub repository: String,
    pub digest: String,
    pub tag: Option<String>,
    pub media_type: Option<String>,
    pub size: Option<i64>,
    pub occurred_at: DateTime<Utc>,
    pub source: String,
    pub actor: String,
    /// The digest came from resolving the tag (a [`TagPush`]), not from the notification.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tag_resolved: bool,
    /// The sender gives its events no id (Quay, Artifactory): the key names the change, and
    /// the worker records it only where it changes the repository (see `Worker::by_state`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub idless: bool,
}

/// A tag push whose notification names no digest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TagPush {
    pub key: String,
    pub registry: String,
    pub repository: String,
    pub tag: String,
    pub occurred_at: DateTime<Utc>,
    pub source: String,
    pub actor: String,
    /// The sender gives its events no id (Quay, Artifactory): the key names the change, and
    /// the worker records it only where it changes the repository (see `Worker::by_state`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub idless: bool,
}

impl TagPush {
    /// The push it is, once the registry said which digest the tag names. The key gains the
    /// digest: a sender's retry (or one with no id, as Quay's) that finds the tag unchanged is
    /// the same event, and one that finds it moved is a new one.
    pub fn resolved(self, digest: String) -> Push {
        Push {
            key: format!("{}@{digest}", self.key),
            registry: self.registry,
            repository: self.repository,
            digest,
            tag: Some(self.tag),
            media_type: None,
            size: None,
            occurred_at: self.occurred_at,
            source: self.source,
            actor: self.actor,
            tag_resolved: true,
            idless: self.idless,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delete {
    pub key: String,
    pub registry: String,
    pub repository: String,
    /// Exactly one of digest and tag is set.
    pub digest: Option<String>,
    pub tag: Option<String>,
    pub occurred_at: DateTime<Utc>,
    pub source: String,
    pub actor: String,
    /// The sender gives its events no id (Quay, Artifactory): the key names the change, and
    /// the worker records it only where it changes the repository (see `Worker::by_state`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub idless: bool,
}

impl InboxBody {
    pub fn key(&self) -> &str {
        match self {
            InboxBody::Push(p) => &p.key,
            InboxBody::TagPush(p) => &p.key,
            InboxBody::Delete(d) => &d.key,
            InboxBody::Record(r) => &r.key,
        }
    }
}

/// A validation failure of an intake payload: which field, and why. Becomes a 400.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

pub use catalog_core::identity::{valid_digest, valid_repository, valid_tag};

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn bodies() -> Vec<InboxBody> {
        let at = Utc.with_ymd_and_hms(2026, 12, 6, 9, 0, 0).single().unwrap();
        vec![
            InboxBody::Push(Push {
                key: "distribution:1".into(),
                registry: "r".into(),
                repository: "shop/cart".into(),
                digest: "sha256:a".into(),
                tag: Some("1.0.0".into()),
                media_type: None,
                size: Some(3),
                occurred_at: at,
                source: "distribution".into(),
                actor: "registry".into(),
                tag_resolved: false,
                idless: false,
            }),
            InboxBody::Delete(Delete {
                key: "distribution:2".into(),
                registry: "r".into(),
                repository: "shop/cart".into(),
                digest: None,
                tag: Some("1.0.0".into()),
                occurred_at: at,
                source: "distribution".into(),
                actor: "registry".into(),
                idless: false,
            }),
            InboxBody::Record(Record {
                key: "api:owner".into(),
                occurred_at: at,
                source: "api".into(),
                actor: "admin".into(),
                event: catalog_core::Event::OwnerSet {
                    component: "shop/cart".into(),
                    team: "payments".into(),
                    via: "api".into(),
                },
            }),
        ]
    }

    #[test]
    fn bodies_read_back_with_their_type_first_or_anywhere() {
        for b in bodies() {
            let first = serde_json::to_string(&b).unwrap();
            assert!(first.starts_with("{\"type\":"), "{first}");
            assert_eq!(serde_json::from_str::<InboxBody>(&first).unwrap(), b);
            // Sorted keys: `type` after the others.
            let sorted = serde_json::to_string(&serde_json::to_value(&b).unwrap()).unwrap();
            assert!(!sorted.starts_with("{\"type\":"), "{sorted}");
            assert_eq!(serde_json::from_str::<InboxBody>(&sorted).unwrap(), b);
        }
        let e = serde_json::from_str::<InboxBody>(r#"{"type":"nope"}"#).unwrap_err();
        assert!(e.to_string().contains("unknown variant `nope`"), "{e}");
    }
}
