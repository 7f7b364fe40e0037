//! `catalog config`: environment configuration into a running catalog, through
//! `/hooks/config` (which validates, and refuses what looks like a secret, naming the key).
//! Values come from the command line (`set KEY=VALUE`) or a file (`import`): a `.env` file
//! or YAML, nested mappings flattened to `a.b` keys. Nothing is sent unless the whole file
//! reads.

use crate::client::{self, Failure, Target, REFUSED};
use crate::config::{ConfigCommand, ConfigTarget};
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use std::process::ExitCode;

pub fn run(cmd: ConfigCommand) -> ExitCode {
    let (target, values) = match cmd {
        ConfigCommand::Set {
            target,
            pairs,
            unset,
        } => (target, from_pairs(&pairs, &unset)),
        ConfigCommand::Import {
            target,
            file,
            format,
        } => {
            let read = std::fs::read_to_string(&file)
                .map_err(|e| format!("cannot read {}: {e}", file.display()));
            let yaml = match format.as_deref() {
                Some(f) => f == "yaml",
                None => file.extension().is_some_and(|e| e == "yaml" || e == "yml"),
            };
            let values = read.and_then(|text| {
                if yaml {
                    from_yaml(&text)
                } else {
                    from_env(&text)
                }
                .map_err(|e| format!("{}: {e}", file.display()))
            });
            (target, values)
        }
    };
    let body = values.and_then(|v| body(&target, v, Utc::now()));
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(REFUSED);
        }
    };
    client::run(send(target, body))
}

async fn send(t: ConfigTarget, body: Value) -> Result<String, Failure> {
    let n = body["values"].as_object().map_or(0, Map::len);
    Target {
        server: &t.server,
        token: t.token.as_ref(),
        timeout: t.timeout,
    }
    .post(
        "/hooks/config",
        "application/json",
        body.to_string().into_bytes(),
        "configuration",
    )
    .await?;
    let scope = match (&t.environment, &t.cluster, &t.namespace) {
        (Some(e), _, _) => format!("environment {e}"),
        (None, Some(c), Some(n)) => format!("namespace {c}/{n}"),
        (None, Some(c), None) => format!("cluster {c}"),
        (None, None, _) => String::new(),
    };
    Ok(format!("recorded: {n} value(s) for {scope}"))
}

/// The body for `/hooks/config`, with a stable id so the CLI's own retries are one record.
pub fn body(
    t: &ConfigTarget,
    values: Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<Value, String> {
    if values.is_empty() {
        return Err("no values to set".into());
    }
    let at = match &t.at {
        Some(s) => DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .map_err(|e| format!("--at: {s:?} is not an RFC 3339 time: {e}"))?,
        None => now,
    };
    let mut b = json!({
        "values": values,
        "at": at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    });
    for (k, v) in [
        ("environment", &t.environment),
        ("cluster", &t.cluster),
        ("namespace", &t.namespace),
    ] {
        if let Some(v) = v {
            b[k] = json!(v);
        }
    }
    use sha2::{Digest, Sha256};
    b["id"] = json!(format!(
        "cli:{}",
        hex::encode(Sha256::digest(b.to_string().as_bytes()))
    ));
    Ok(b)
}

fn from_pairs(pairs: &[String], unset: &[String]) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for p in pairs {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| format!("{p:?} is not KEY=VALUE"))?;
        out.insert(k.to_string(), Value::String(v.to_string()));
    }
    for k in unset {
        out.insert(k.clone(), Value::Null);
    }
    Ok(out)
}

/// A `.env` file: `KEY=VALUE` lines (`export KEY=VALUE` too), blank lines and `#` comments;
/// a value in double quotes takes `\n`, `\"` and `\\` escapes, one in single quotes is
/// literal, an unquoted one ends at ` #`. The first bad line is named.
pub fn from_env(text: &str) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let Some((k, v)) = line.split_once('=') else {
            return Err(format!("line {}: expected KEY=VALUE, got {line:?}", i + 1));
        };
        let k = k.trim();
        let v = v.trim();
        let value = if let Some(rest) = v.strip_prefix('"') {
            let mut s = String::new();
            let mut chars = rest.chars();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '"' => {
                        closed = true;
                        break;
                    }
                    '\\' => match chars.next() {
                        Some('n') => s.push('\n'),
                        Some('t') => s.push('\t'),
                        Some(o) => s.push(o),
                        None => break,
                    },
                    c => s.push(c),
                }
            }
            if !closed {
                return Err(format!("line {}: {k}: unclosed double quote", i + 1));
            }
            s
        } else if let Some(rest) = v.strip_prefix('\'') {
            match rest.split_once('\'') {
                Some((s, _)) => s.to_string(),
                None => return Err(format!("line {}: {k}: unclosed single quote", i + 1)),
            }
        } else {
            v.split_once(" #")
                .map_or(v, |(a, _)| a)
                .trim_end()
                .to_string()
        };
        out.insert(k.to_string(), Value::String(value));
    }
    Ok(out)
}

/// A YAML mapping; nested mappings become `parent.child` keys; a list is refused (name it).
pub fn from_yaml(text: &str) -> Result<Map<String, Value>, String> {
    let v = catalog_ingest::backstage::yaml_value(text)?;
    let Value::Object(top) = v else {
        return Err("expected a mapping of keys and values".into());
    };
    let mut out = Map::new();
    fn flatten(
        prefix: &str,
        m: &Map<String, Value>,
        out: &mut Map<String, Value>,
    ) -> Result<(), String> {
        for (k, v) in m {
            let key = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                Value::Object(inner) => flatten(&key, inner, out)?,
                Value::Array(_) => {
                    return Err(format!("{key}: a list is not a configuration value"))
                }
                other => {
                    out.insert(key, other.clone());
                }
            }
        }
        Ok(())
    }
    flatten("", &top, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_files_read_as_shells_and_docker_read_them() {
        let text = "# shop\nLOG_LEVEL=info\nexport TIMEOUT = 30\nGREETING=\"hello \\\"you\\\"\\n\"\nRAW='a $b # c'\nFLAG=on # inline comment\n\nEMPTY=\n";
        let m = from_env(text).unwrap();
        let get = |k: &str| m[k].as_str().unwrap().to_string();
        assert_eq!(get("LOG_LEVEL"), "info");
        assert_eq!(get("TIMEOUT"), "30");
        assert_eq!(get("GREETING"), "hello \"you\"\n");
        assert_eq!(get("RAW"), "a $b # c");
        assert_eq!(get("FLAG"), "on");
        assert_eq!(get("EMPTY"), "");
        assert_eq!(m.len(), 6);
        assert!(from_env("A=1\nnot a pair\n")
            .unwrap_err()
            .contains("line 2"));
        assert!(from_env("A=\"open\n").unwrap_err().contains("unclosed"));
    }

    #[test]
    fn yaml_mappings_flatten_and_lists_are_refused() {
        let m =
            from_yaml("log_level: info\npayments:\n  timeout_ms: 2500\n  retry: true\nold: null\n")
                .unwrap();
        assert_eq!(m["log_level"], "info");
        assert_eq!(m["payments.timeout_ms"], "2500");
        assert_eq!(m["payments.retry"], true);
        assert_eq!(m["old"], Value::Null);
        assert!(from_yaml("zones: [a, b]\n").unwrap_err().contains("zones"));
        assert!(from_yaml("- a\n").is_err());
    }
}
