//! Environment configuration (`POST /hooks/config`, and `catalog config set`/`import`): the
//! non-secret values of an environment, a cluster or a namespace of a cluster.
//!
//! ```json
//! {"environment": "prod", "values": {"LOG_LEVEL": "info", "FEATURE_X": true, "OLD": null}}
//! ```
//!
//! One request is one `config.set` record, or nothing: a bad key, a value that is not a
//! string, number or boolean, or a value that looks like a secret
//! ([`catalog_core::configuration::looks_secret`]) refuses the whole request, naming the key.
//! `null` removes a key. `?environment=` and `?cluster=` name the scope when the body does not.

use super::json::{kind, parse_body, Obj};
use super::{sha256_hex, HookContext, Parsed};
use crate::item::FieldError;
use catalog_core::configuration::{invalid_key, looks_secret, ConfigScope, ConfigSet, MAX_VALUE};
use catalog_core::Event;
use serde_json::Value;
use std::collections::BTreeMap;

pub const SOURCE: &str = "config";

/// The most keys one request may set.
pub const MAX_KEYS: usize = 1000;

/// Parses a configuration payload into one `config.set` record.
pub fn parse(body: &[u8], ctx: &HookContext<'_>) -> Result<Parsed, FieldError> {
    let v = parse_body(body)?;
    let o = Obj::new(&v, "")?;
    let environment = match o.name("environment")? {
        Some(e) => Some(e),
        None => ctx.environment()?,
    };
    let cluster = match o.name("cluster")? {
        Some(c) => Some(c),
        None => ctx.cluster()?,
    };
    let namespace = o.name("namespace")?;
    let scope = match (environment, cluster, namespace) {
        (Some(e), None, None) => ConfigScope::Environment(e.to_string()),
        (None, Some(c), None) => ConfigScope::Cluster(c.to_string()),
        (None, Some(c), Some(n)) => ConfigScope::Namespace {
            cluster: c.to_string(),
            namespace: n.to_string(),
        },
        (None, None, Some(_)) => {
            return Err(FieldError::new(
                "cluster",
                "missing: a namespace is a namespace of a cluster",
            ))
        }
        (None, None, None) => {
            return Err(FieldError::new(
                "environment",
                "missing: name an environment, a cluster, or a cluster and a namespace",
            ))
        }
        (Some(_), Some(_), _) | (Some(_), None, Some(_)) => {
            return Err(FieldError::new(
                "environment",
                "name an environment or a cluster (with its namespace), not both: a cluster's \
                 environment applies to it anyway",
            ))
        }
    };
    let map = match o.value("values") {
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(FieldError::new(
                "values",
                format!("expected an object of keys and values, got {}", kind(other)),
            ))
        }
        None => return Err(FieldError::new("values", "missing")),
    };
    if map.is_empty() {
        return Err(FieldError::new("values", "empty: set at least one key"));
    }
    if map.len() > MAX_KEYS {
        return Err(FieldError::new(
            "values",
            format!("{} keys: at most {MAX_KEYS} per request", map.len()),
        ));
    }
    let mut values = BTreeMap::new();
    for (k, v) in map {
        let field = format!("values.{k}");
        if let Some(why) = invalid_key(k) {
            return Err(FieldError::new(field, why));
        }
        let value = match v {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            other => {
                return Err(FieldError::new(
                    field,
                    format!(
                        "expected a string, number, boolean or null, got {}",
                        kind(other)
                    ),
                ))
            }
        };
        if let Some(s) = &value {
            if s.len() > MAX_VALUE {
                return Err(FieldError::new(
                    field,
                    format!("{} bytes: at most {MAX_VALUE}", s.len()),
                ));
            }
            if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
                return Err(FieldError::new(field, "contains control characters"));
            }
            if let Some(why) = looks_secret(k, s) {
                return Err(FieldError::new(
                    field,
                    format!(
                        "refused, it looks like a secret: {why}. The catalog records \
                         non-secret configuration only; keep secrets in a secret store \
                         (nothing was recorded)"
                    ),
                ));
            }
        }
        values.insert(k.clone(), value);
    }
    let at = o.time("at")?.unwrap_or_else(|| ctx.default_time());
    let set = ConfigSet { scope, values };
    let key = match o.name("id")? {
        Some(id) => format!("config:{id}"),
        None => {
            let json = serde_json::to_vec(&set)
                .map_err(|e| FieldError::new("id", format!("cannot derive a key: {e}")))?;
            format!(
                "config:{}",
                sha256_hex(&[&json, b"\n", super::key_time(at).as_bytes()])
            )
        }
    };
    Ok(Parsed {
        items: vec![ctx.record(key, at, SOURCE, Event::ConfigSet(set))],
        ignored: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hooks::testing::{ctx, record};

    fn set(body: &str) -> ConfigSet {
        let p = parse(body.as_bytes(), &ctx()).unwrap();
        match &record(&p.items[0]).event {
            Event::ConfigSet(s) => s.clone(),
            other => panic!("not config: {other:?}"),
        }
    }

    fn err(body: &str) -> FieldError {
        parse(body.as_bytes(), &ctx()).unwrap_err()
    }

    #[test]
    fn values_of_a_scope_are_one_record() {
        let s = set(
            r#"{"environment":"prod","values":{"LOG_LEVEL":"info","RETRIES":3,"FEATURE_X":true,"OLD":null}}"#,
        );
        assert_eq!(s.scope, ConfigScope::Environment("prod".into()));
        assert_eq!(
            s.values,
            BTreeMap::from([
                ("FEATURE_X".to_string(), Some("true".to_string())),
                ("LOG_LEVEL".to_string(), Some("info".to_string())),
                ("OLD".to_string(), None),
                ("RETRIES".to_string(), Some("3".to_string())),
            ])
        );
        let s = set(r#"{"cluster":"prod-eu-1","namespace":"shop","values":{"A":"1"}}"#);
        assert_eq!(
            s.scope,
            ConfigScope::Namespace {
                cluster: "prod-eu-1".into(),
                namespace: "shop".into()
            }
        );
        // The query names the scope when the body does not.
        let mut c = ctx();
        c.environment = Some("staging");
        let p = parse(br#"{"values":{"A":"1"}}"#, &c).unwrap();
        match &record(&p.items[0]).event {
            Event::ConfigSet(s) => assert_eq!(s.scope, ConfigScope::Environment("staging".into())),
            other => panic!("{other:?}"),
        }
        // The same body at the same time is the same record; an id makes retries one.
        let a = parse(
            br#"{"environment":"e","values":{"A":"1"},"at":"2026-12-01T00:00:00Z"}"#,
            &ctx(),
        )
        .unwrap();
        let b = parse(
            br#"{"values":{"A":"1"},"environment":"e","at":"2026-12-01T00:00:00Z"}"#,
            &ctx(),
        )
        .unwrap();
        assert_eq!(record(&a.items[0]).key, record(&b.items[0]).key);
        let i = parse(
            br#"{"environment":"e","values":{"A":"1"},"id":"r-1"}"#,
            &ctx(),
        )
        .unwrap();
        assert_eq!(record(&i.items[0]).key, "config:r-1");
    }

    #[test]
    fn bad_input_and_secrets_are_refused_naming_the_key() {
        let cases = [
            (r#"{"values":{"A":"1"}}"#, "environment", "missing"),
            (
                r#"{"environment":"e","cluster":"c","values":{"A":"1"}}"#,
                "environment",
                "not both",
            ),
            (
                r#"{"namespace":"n","values":{"A":"1"}}"#,
                "cluster",
                "of a cluster",
            ),
            (r#"{"environment":"e"}"#, "values", "missing"),
            (r#"{"environment":"e","values":{}}"#, "values", "empty"),
            (
                r#"{"environment":"e","values":["A"]}"#,
                "values",
                "expected an object",
            ),
            (
                r#"{"environment":"e","values":{"1A":"x"}}"#,
                "values.1A",
                "not a configuration key",
            ),
            (
                r#"{"environment":"e","values":{"A":{"b":1}}}"#,
                "values.A",
                "expected a string",
            ),
            (
                r#"{"environment":"e","values":{"A":"ok","DB_PASSWORD":"hunter2"}}"#,
                "values.DB_PASSWORD",
                "looks like a secret",
            ),
            (
                r#"{"environment":"e","values":{"CI":"ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ012345"}}"#,
                "values.CI",
                "credential",
            ),
            (
                r#"{"environment":"e","values":{"K":"q8Jz2Lr0Xv7Nw4Tb9Ym1Kc6Hd3Fs5Ge"}}"#,
                "values.K",
                "random-looking",
            ),
            (
                r#"{"environment":"e","values":{"A":"1"},"at":"yesterday"}"#,
                "at",
                "RFC 3339",
            ),
        ];
        for (body, field, why) in cases {
            let e = err(body);
            assert_eq!(e.field, field, "{body}");
            assert!(e.reason.contains(why), "{body}: {}", e.reason);
        }
        let long = format!(
            r#"{{"environment":"e","values":{{"A":"{}"}}}}"#,
            "a ".repeat(MAX_VALUE)
        );
        assert_eq!(err(&long).field, "values.A");
    }
}
