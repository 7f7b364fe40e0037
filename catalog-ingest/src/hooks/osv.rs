//! `/hooks/osv` (what `catalog import osv` sends): OSV vulnerability records, one object, an
//! array of them, or `{"vulnerabilities": [...]}`. Every record is validated before any is
//! stored. A bad record (a missing id, an unknown range type, a range version its scheme
//! cannot read) is refused on its own, named by index, id and field; the batch's other
//! records are kept. A body that is not such a document, or has no good record, is refused.

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

/// A record refused on its own: where it is in the batch, its id if it has one, the field and
/// why.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Refused {
    /// `[3]`, `vulnerabilities[3]`, or empty for a body that is one record.
    pub record: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The field's path from the record (`affected[0].ranges[0].events[1].fixed`).
    pub field: String,
    pub reason: String,
}

impl Refused {
    /// The refusal as one field error: the field's path from the body, with the id.
    pub fn field_error(&self) -> FieldError {
        let field = match (self.record.is_empty(), self.field.is_empty()) {
            (true, _) => self.field.clone(),
            (false, true) => self.record.clone(),
            (false, false) => format!("{}.{}", self.record, self.field),
        };
        match &self.id {
            Some(id) => FieldError::new(field, format!("{} (record {id})", self.reason)),
            None => FieldError::new(field, self.reason.clone()),
        }
    }
}

/// The items of the good records, and the refusals of the others.
#[derive(Debug)]
pub struct Parsed {
    pub items: Vec<InboxBody>,
    pub refused: Vec<Refused>,
}

/// Parses a request body into one inbox item per good record. Errors are the body's (not JSON,
/// duplicate keys, not a record or list of them, no records), or, when no record is good, the
/// first record's refusal.
pub fn parse(body: &[u8], received_at: DateTime<Utc>, actor: &str) -> Result<Parsed, FieldError> {
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
    let mut out = Parsed {
        items: Vec::with_capacity(list.len()),
        refused: Vec::new(),
    };
    for (i, rec) in list.into_iter().enumerate() {
        match Vulnerability::from_value(&rec) {
            Ok(vuln) => out.items.push(record(vuln, received_at, actor)),
            Err(e) => {
                let record = match prefix {
                    "-" => String::new(),
                    "" => format!("[{i}]"),
                    p => format!("{p}[{i}]"),
                };
                let msg = e.to_string();
                let (field, reason) = match msg.split_once(": ") {
                    Some((field, reason)) => (field.to_string(), reason.to_string()),
                    None => (String::new(), msg),
                };
                // `(record)` is the record itself (not an object).
                let field = if field == "(record)" {
                    String::new()
                } else {
                    field
                };
                let id = rec
                    .get("id")
                    .and_then(Value::as_str)
                    .filter(|s| !s.trim().is_empty())
                    .map(str::to_string);
                out.refused.push(Refused {
                    record,
                    id,
                    field,
                    reason,
                });
            }
        }
    }
    if out.items.is_empty() {
        if let Some(first) = out.refused.first() {
            let mut e = first.field_error();
            if out.refused.len() > 1 {
                e.reason = format!(
                    "{} (and {} more records refused; none was good)",
                    e.reason,
                    out.refused.len() - 1
                );
            }
            return Err(e);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"id": "GHSA-good", "affected": [{"package": {"ecosystem": "npm", "name": "a"},
        "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.0.0"}]}]}]}"#;

    fn bad(id: &str) -> String {
        GOOD.replace("GHSA-good", id).replace("1.0.0", "soon")
    }

    #[test]
    fn a_bad_record_is_refused_alone_and_the_rest_kept() {
        let body = format!(r#"{{"vulnerabilities": [{}, {GOOD}, 7]}}"#, bad("GHSA-bad"));
        let p = parse(body.as_bytes(), Utc::now(), "t").unwrap();
        assert_eq!(p.items.len(), 1);
        assert_eq!(p.items[0].key(), "osv:GHSA-good");
        assert_eq!(
            p.refused,
            [
                Refused {
                    record: "vulnerabilities[0]".into(),
                    id: Some("GHSA-bad".into()),
                    field: "affected[0].ranges[0].events[1].fixed".into(),
                    reason: "\"soon\" is not a version: a SEMVER range needs SemVer 2.0".into(),
                },
                Refused {
                    record: "vulnerabilities[2]".into(),
                    id: None,
                    field: String::new(),
                    reason: "not a JSON object".into(),
                },
            ]
        );
    }

    #[test]
    fn with_no_good_record_the_request_is_refused_naming_the_first() {
        let e = parse(bad("GHSA-bad").as_bytes(), Utc::now(), "t").unwrap_err();
        assert_eq!(e.field, "affected[0].ranges[0].events[1].fixed");
        assert!(e.reason.contains("(record GHSA-bad)"), "{e}");
        let body = format!("[{}, {}]", bad("GHSA-b1"), bad("GHSA-b2"));
        let e = parse(body.as_bytes(), Utc::now(), "t").unwrap_err();
        assert_eq!(e.field, "[0].affected[0].ranges[0].events[1].fixed");
        assert!(
            e.reason
                .ends_with("(and 1 more records refused; none was good)"),
            "{e}"
        );
        // The body's own faults refuse it whole.
        let e = parse(b"[]", Utc::now(), "t").unwrap_err();
        assert_eq!(e.field, "body");
        let dup = format!(r#"[{GOOD}, {{"id": "a", "id": "b"}}]"#);
        assert!(parse(dup.as_bytes(), Utc::now(), "t").is_err());
    }
}
