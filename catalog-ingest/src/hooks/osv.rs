//! `/hooks/osv` (what `catalog import osv` sends): OSV vulnerability records, one object, an
//! array of them, or `{"vulnerabilities": [...]}`. Every record is validated before any is
//! stored; a bad one refuses the request, naming its index and field.

use crate::item::{FieldError, InboxBody, Record};
use catalog_core::osv::Vulnerability;
use catalog_core::Event;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

/// The natural key of a record: a record re-published unchanged is one event; a modified one
/// is a new event that replaces it.
pub fn key(v: &Vulnerability) -> String {
    match v.modified {
        Some(m) => format!(
            "osv:{}:{}",
            v.id,
            m.to_rfc3339_opts(SecondsFormat::AutoSi, true)
        ),
        None => format!("osv:{}", v.id),
    }
}

fn record(v: Vulnerability, received_at: DateTime<Utc>, actor: &str) -> InboxBody {
    InboxBody::Record(Record {
        key: key(&v),
        occurred_at: v.modified.unwrap_or(received_at),
        source: "osv".to_string(),
        actor: actor.to_string(),
        event: Event::VulnerabilityPublished(Box::new(v)),
    })
}

/// Parses a request body into one inbox item per record.
pub fn parse(
    body: &[u8],
    received_at: DateTime<Utc>,
    actor: &str,
) -> Result<Vec<InboxBody>, FieldError> {
    super::duplicate_keys::reject_duplicate_keys(body, "")?;
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| FieldError::new("body", format!("not JSON: {e}")))?;
    let (list, prefix): (Vec<Value>, &str) = match v {
        Value::Array(a) => (a, ""),
        Value::Object(mut o) => match o.remove("vulnerabilities") {
            Some(Value::Array(a)) => (a, "vulnerabilities"),
            Some(_) => {
                return Err(FieldError::new(
                    "vulnerabilities",
                    "expected an array of OSV records",
                ))
            }
            None => (vec![Value::Object(o)], "-"),
        },
        _ => {
            return Err(FieldError::new(
                "body",
                "expected an OSV record, an array of them, or {\"vulnerabilities\": [...]}",
            ))
        }
    };
    if list.is_empty() {
        return Err(FieldError::new("body", "no OSV records in the request"));
    }
    let mut out = Vec::with_capacity(list.len());
    for (i, rec) in list.into_iter().enumerate() {
        let vuln = Vulnerability::from_value(&rec).map_err(|e| {
            let at = match prefix {
                "-" => String::new(),
                "" => format!("[{i}]"),
                p => format!("{p}[{i}]"),
            };
            let msg = e.to_string();
            match msg.split_once(": ") {
                Some((field, reason)) if !at.is_empty() => {
                    FieldError::new(format!("{at}.{field}"), reason)
                }
                Some((field, reason)) => FieldError::new(field, reason),
                None => FieldError::new(if at.is_empty() { "body".into() } else { at }, msg),
            }
        })?;
        out.push(record(vuln, received_at, actor));
    }
    Ok(out)
}
