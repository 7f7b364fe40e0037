//! Reading untyped JSON with field paths, so that every error names the field it is about
//! (`deployments[2].images[0].image`), which serde's derive cannot do. `null` reads as absent:
//! templated senders (Argo CD's `toJson`) write `null` for what they do not know.

use super::duplicate_keys::reject_duplicate_keys;
use super::valid_name;
use crate::item::FieldError;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

pub(crate) fn parse_body(body: &[u8]) -> Result<Value, FieldError> {
    reject_duplicate_keys(body, "")?;
    serde_json::from_slice(body).map_err(|e| FieldError::new("body", format!("invalid JSON: {e}")))
}

/// What a JSON value is, for "expected X, got Y" messages.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `path.name`, or `name` at the top level.
pub(crate) fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// A JSON object and where it sits in the request.
pub(crate) struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

impl<'a> Obj<'a> {
    /// `v` as an object; `path` is where it sits (empty for the request body).
    pub(crate) fn new(v: &'a Value, path: impl Into<String>) -> Result<Obj<'a>, FieldError> {
        let path = path.into();
        match v {
            Value::Object(map) => Ok(Obj { map, path }),
            other => Err(FieldError::new(
                if path.is_empty() { "body" } else { &path },
                format!("expected an object, got {}", kind(other)),
            )),
        }
    }

    pub(crate) fn field(&self, name: &str) -> String {
        join(&self.path, name)
    }

    /// The raw value; `None` when absent or `null`.
    pub(crate) fn value(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.value(name).is_some()
    }

    /// The keys present, in order (serde_json keeps them sorted).
    pub(crate) fn keys(&self) -> impl Iterator<Item = &'a str> {
        self.map.keys().map(String::as_str)
    }

    fn wrong(&self, name: &str, expected: &str, got: &Value) -> FieldError {
        FieldError::new(
            self.field(name),
            format!("expected {expected}, got {}", kind(got)),
        )
    }

    /// A string; `None` when absent, `null` or empty.
    pub(crate) fn str(&self, name: &str) -> Result<Option<&'a str>, FieldError> {
        match self.value(name) {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(v) => Err(self.wrong(name, "a string", v)),
        }
    }

    pub(crate) fn req_str(&self, name: &str) -> Result<&'a str, FieldError> {
        self.str(name)?
            .ok_or_else(|| FieldError::new(self.field(name), "missing"))
    }

    /// A string that must be a [`valid_name`].
    pub(crate) fn name(&self, name: &str) -> Result<Option<&'a str>, FieldError> {
        match self.str(name)? {
            Some(s) if !valid_name(s) => Err(FieldError::new(
                self.field(name),
                format!("{s:?} is not a valid name (1-253 characters, no whitespace)"),
            )),
            s => Ok(s),
        }
    }

    pub(crate) fn obj(&self, name: &str) -> Result<Option<Obj<'a>>, FieldError> {
        self.value(name)
            .map(|v| Obj::new(v, self.field(name)))
            .transpose()
    }

    pub(crate) fn arr(&self, name: &str) -> Result<Option<&'a [Value]>, FieldError> {
        match self.value(name) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(v) => Err(self.wrong(name, "an array", v)),
        }
    }

    pub(crate) fn bool(&self, name: &str) -> Result<Option<bool>, FieldError> {
        match self.value(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(v) => Err(self.wrong(name, "a boolean", v)),
        }
    }

    /// A percentage: an integer from 0 to 100.
    pub(crate) fn percent(&self, name: &str) -> Result<Option<u8>, FieldError> {
        match self.value(name) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .filter(|n| *n <= 100)
                .and_then(|n| u8::try_from(n).ok())
                .map(Some)
                .ok_or_else(|| {
                    FieldError::new(
                        self.field(name),
                        format!("expected a percentage (an integer from 0 to 100), got {v}"),
                    )
                }),
        }
    }

    /// An RFC 3339 timestamp.
    pub(crate) fn time(&self, name: &str) -> Result<Option<DateTime<Utc>>, FieldError> {
        self.str(name)?
            .map(|s| {
                DateTime::parse_from_rfc3339(s)
                    .map(|d| d.with_timezone(&Utc))
                    .map_err(|e| {
                        FieldError::new(self.field(name), format!("{s:?} is not RFC 3339: {e}"))
                    })
            })
            .transpose()
    }

    /// The objects of an array field, each with its path (`name[i]`).
    pub(crate) fn objs(&self, name: &str) -> Result<Vec<Obj<'a>>, FieldError> {
        let field = self.field(name);
        self.arr(name)?
            .unwrap_or_default()
            .iter()
            .enumerate()
            .map(|(i, v)| Obj::new(v, format!("{field}[{i}]")))
            .collect()
    }
}
