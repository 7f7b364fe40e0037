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

pub use catalog_core::identity::{valid_digest, valid_repository, valid_tag};
