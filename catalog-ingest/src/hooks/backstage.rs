//! `/hooks/backstage` (what `catalog import backstage` sends): a stream of Backstage
//! descriptors (`catalog-info.yaml`). The whole stream is validated before anything is
//! stored; each entity becomes one `entity.declared` event whose key is a hash of its
//! content, so importing the same file again changes nothing.

use crate::backstage;
use crate::item::{FieldError, InboxBody, Record};
use catalog_core::Event;
use chrono::{DateTime, Utc};

/// What an accepted stream held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub entities: usize,
    /// Documents skipped (other kinds, other apiVersions), each naming the document.
    pub warnings: Vec<String>,
}

/// Parses a request body into one inbox item per entity.
pub fn parse(
    body: &[u8],
    location: Option<&str>,
    received_at: DateTime<Utc>,
    actor: &str,
) -> Result<(Vec<InboxBody>, Receipt), FieldError> {
    let text = std::str::from_utf8(body).map_err(|e| {
        FieldError::new(
            "body",
            format!(
                "not UTF-8 text (byte {}): descriptors are YAML",
                e.valid_up_to()
            ),
        )
    })?;
    let parsed =
        backstage::parse(text, location).map_err(|e| FieldError::new("body", e.to_string()))?;
    if parsed.entities.is_empty() {
        let mut reason = "no Backstage entities (Component, API, System, Domain, Group, User, Resource) in the stream".to_string();
        if let Some(w) = parsed.warnings.first() {
            reason.push_str(&format!("; {w}"));
        }
        return Err(FieldError::new("body", reason));
    }
    let receipt = Receipt {
        entities: parsed.entities.len(),
        warnings: parsed.warnings,
    };
    let items = parsed
        .entities
        .into_iter()
        .map(|e| {
            InboxBody::Record(Record {
                key: backstage::event_key(&e),
                occurred_at: received_at,
                source: "backstage".to_string(),
                actor: actor.to_string(),
                event: Event::EntityDeclared(Box::new(e)),
            })
        })
        .collect();
    Ok((items, receipt))
}
