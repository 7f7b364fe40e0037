//! What an inbox row holds: one validated intake item, normalised across sources, as JSON.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InboxBody {
    /// A manifest pushed with a tag: to be enriched from the registry, then registered.
    Push(Push),
    /// A manifest deleted by digest, or a tag deleted.
    Delete(Delete),
    /// An event complete at intake (deployments need no enrichment): recorded as it is.
    Record(Record),
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
}

impl InboxBody {
    pub fn key(&self) -> &str {
        match self {
            InboxBody::Push(p) => &p.key,
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

/// `sha256:<64 hex>` (or another algorithm with its own hex length): what OCI calls a digest.
pub fn valid_digest(d: &str) -> bool {
    let Some((alg, hex)) = d.split_once(':') else {
        return false;
    };
    let len_ok = match alg {
        "sha256" => hex.len() == 64,
        "sha512" => hex.len() == 128,
        _ => false,
    };
    len_ok
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The OCI distribution spec's repository name grammar (lowercase path components).
pub fn valid_repository(r: &str) -> bool {
    !r.is_empty()
        && r.len() <= 255
        && r.split('/').all(|c| {
            !c.is_empty()
                && c.bytes()
                    .next()
                    .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                && c.bytes()
                    .last()
                    .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                && c.bytes().all(|b| {
                    b.is_ascii_lowercase()
                        || b.is_ascii_digit()
                        || b == b'.'
                        || b == b'_'
                        || b == b'-'
                })
        })
}

/// The OCI tag grammar: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
pub fn valid_tag(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 128
        && t.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
}
