//! Environment configuration: non-secret values per environment, cluster or namespace, with
//! their history, and the rule that refuses what looks like a secret.
//!
//! A scope's value of a key at a moment is the latest setting (by time, then event key) at or
//! before it, so any arrival order and any replay fold to the same history. What applies to a
//! namespace is its environment's values, overridden by its cluster's, overridden by its own.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Where values apply: an environment, a cluster, or a namespace of a cluster.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfigScope {
    Environment(String),
    Cluster(String),
    Namespace { cluster: String, namespace: String },
}

impl ConfigScope {
    pub fn level(&self) -> &'static str {
        match self {
            ConfigScope::Environment(_) => "environment",
            ConfigScope::Cluster(_) => "cluster",
            ConfigScope::Namespace { .. } => "namespace",
        }
    }
}

impl std::fmt::Display for ConfigScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigScope::Environment(e) => write!(f, "environment {e}"),
            ConfigScope::Cluster(c) => write!(f, "cluster {c}"),
            ConfigScope::Namespace { cluster, namespace } => {
                write!(f, "namespace {cluster}/{namespace}")
            }
        }
    }
}

/// Values set (`Some`) or removed (`None`) in one scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigSet {
    pub scope: ConfigScope,
    pub values: BTreeMap<String, Option<String>>,
}

/// One setting of a key in a scope, as history shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigChange {
    pub scope: ConfigScope,
    pub key: String,
    /// `None`: removed.
    pub value: Option<String>,
    pub at: DateTime<Utc>,
    pub actor: String,
}

/// A value in force, and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigValue {
    pub key: String,
    pub value: String,
    pub scope: ConfigScope,
    pub at: DateTime<Utc>,
    pub actor: String,
}

type At = (i64, Arc<str>);

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Setting {
    value: Option<String>,
    actor: Arc<str>,
}

/// Every setting of every key in every scope.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Configuration {
    history: BTreeMap<ConfigScope, BTreeMap<String, BTreeMap<At, Setting>>>,
}

impl Configuration {
    pub(crate) fn record(&mut self, c: &ConfigSet, t: DateTime<Utc>, key: &str, actor: &str) {
        let at: At = (t.timestamp_micros(), Arc::from(key));
        let actor: Arc<str> = Arc::from(actor);
        let scope = self.history.entry(c.scope.clone()).or_default();
        for (k, v) in &c.values {
            scope.entry(k.clone()).or_default().insert(
                at.clone(),
                Setting {
                    value: v.clone(),
                    actor: actor.clone(),
                },
            );
        }
    }

    /// The values set in exactly `scope` at `at` (now when `None`).
    pub fn values(&self, scope: &ConfigScope, at: Option<DateTime<Utc>>) -> Vec<ConfigValue> {
        let t = at.map_or(i64::MAX, |a| a.timestamp_micros());
        let Some(keys) = self.history.get(scope) else {
            return Vec::new();
        };
        keys.iter()
            .filter_map(|(k, h)| {
                let (when, s) = h
                    .range(..(t.saturating_add(1), Arc::from("")))
                    .next_back()?;
                Some(ConfigValue {
                    key: k.clone(),
                    value: s.value.clone()?,
                    scope: scope.clone(),
                    at: time(when.0),
                    actor: s.actor.to_string(),
                })
            })
            .collect()
    }

    /// What applies in the layers given, the later overriding the earlier, by key.
    pub fn layered(
        &self,
        layers: &[ConfigScope],
        at: Option<DateTime<Utc>>,
    ) -> BTreeMap<String, ConfigValue> {
        let mut out = BTreeMap::new();
        for l in layers {
            for v in self.values(l, at) {
                out.insert(v.key.clone(), v);
            }
        }
        out
    }

    /// Every setting in `scope` (of `key`, or of all keys), oldest first.
    pub fn history(&self, scope: &ConfigScope, key: Option<&str>) -> Vec<ConfigChange> {
        let Some(keys) = self.history.get(scope) else {
            return Vec::new();
        };
        let mut out: Vec<ConfigChange> = keys
            .iter()
            .filter(|(k, _)| key.is_none_or(|want| want == k.as_str()))
            .flat_map(|(k, h)| {
                h.iter().map(|(when, s)| ConfigChange {
                    scope: scope.clone(),
                    key: k.clone(),
                    value: s.value.clone(),
                    at: time(when.0),
                    actor: s.actor.to_string(),
                })
            })
            .collect();
        out.sort_by(|a, b| (a.at, &a.key).cmp(&(b.at, &b.key)));
        out
    }
}

fn time(m: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(m).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The most characters a key may have.
pub const MAX_KEY: usize = 128;
/// The most bytes a value may have.
pub const MAX_VALUE: usize = 4096;

/// `None` when `key` is a configuration key (`[A-Za-z_][A-Za-z0-9_.-]*`, at most
/// [`MAX_KEY`]), else why not.
pub fn invalid_key(key: &str) -> Option<String> {
    let mut chars = key.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !first_ok || key.len() > MAX_KEY {
        return Some(format!(
            "{key:?} is not a configuration key (a letter or '_', then letters, digits, '_', '.' \
             or '-'; at most {MAX_KEY})"
        ));
    }
    chars
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        .then_some(())
        .map_or_else(
            || {
                Some(format!(
                    "{key:?} is not a configuration key (letters, digits, '_', '.' or '-')"
                ))
            },
            |()| None,
        )
}

/// Key names that hold secrets, by their last word (`DB_PASSWORD`, `github.token`).
const SECRET_WORDS: [&str; 12] = [
    "PASSWORD",
    "PASSWD",
    "PWD",
    "SECRET",
    "TOKEN",
    "APIKEY",
    "API_KEY",
    "PRIVATE_KEY",
    "ACCESS_KEY",
    "CREDENTIALS",
    "CREDENTIAL",
    "AUTH",
];

/// Prefixes of well-known credentials: GitHub, GitLab, Slack, AWS, Google, Stripe, OpenAI,
/// npm, PyPI, Docker Hub, SendGrid, PEM keys.
const SECRET_PREFIXES: [&str; 20] = [
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "glpat-",
    "xoxb-",
    "xoxp-",
    "xoxa-",
    "AKIA",
    "ASIA",
    "AIza",
    "sk_live_",
    "rk_live_",
    "sk-",
    "npm_",
    "pypi-",
    "dckr_pat_",
    "SG.",
];

/// Why `value` (of `key`) looks like a secret, or `None`. The catalog records configuration
/// people compare across environments; secrets belong in a secret store. Three tests:
/// - the key's last word names a secret (`*_PASSWORD`, `*_TOKEN`, `*_SECRET`, `*_API_KEY`...);
/// - the value starts with a well-known credential prefix (`ghp_`, `AKIA`, `xoxb-`,
///   `-----BEGIN ... PRIVATE KEY`), is a JWT, or is a URL with a password;
/// - the value holds a long random-looking token: at least 20 characters of the base64
///   alphabet with Shannon entropy of at least 4.5 bits per character, or at least 32 hex
///   digits with at least 3.0 (the limits detect-secrets uses). A 40-digit git revision and a
///   `sha256:` digest are not secrets and pass.
pub fn looks_secret(key: &str, value: &str) -> Option<String> {
    let upper = key.to_ascii_uppercase().replace(['.', '-'], "_");
    for w in SECRET_WORDS {
        if upper == w || upper.ends_with(&format!("_{w}")) {
            return Some(format!("the key's name says it holds a secret (*{w})"));
        }
    }
    let v = value.trim();
    if let Some(p) = SECRET_PREFIXES
        .iter()
        .find(|p| v.starts_with(**p) && v.len() >= p.len() + 8)
    {
        return Some(format!("the value starts like a credential ({p}...)"));
    }
    if v.contains("-----BEGIN") && v.contains("PRIVATE KEY") {
        return Some("the value is a private key".into());
    }
    if is_jwt(v) {
        return Some("the value is a JSON Web Token".into());
    }
    if let Some(rest) = v.split_once("://").map(|(_, r)| r) {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if let Some((userinfo, _)) = authority.rsplit_once('@') {
            if userinfo.split_once(':').is_some_and(|(_, p)| !p.is_empty()) {
                return Some("the value is a URL with a password".into());
            }
        }
    }
    for token in v.split(|c: char| !(c.is_ascii_alphanumeric() || "+/=_-".contains(c))) {
        let digest = value.contains(&format!("sha256:{token}"))
            || value.contains(&format!("sha512:{token}"));
        if token.len() >= 32 && token.bytes().all(|b| b.is_ascii_hexdigit()) {
            if token.len() != 40 && !digest && entropy(token) >= 3.0 {
                return Some(format!(
                    "the value holds a random-looking hex string of {} digits",
                    token.len()
                ));
            }
            continue;
        }
        if token.len() >= 20 && entropy(token) >= 4.5 {
            return Some(format!(
                "the value holds a random-looking string of {} characters",
                token.len()
            ));
        }
    }
    None
}

fn is_jwt(v: &str) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    parts.len() == 3
        && v.starts_with("eyJ")
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Shannon entropy in bits per character.
fn entropy(s: &str) -> f64 {
    let mut counts = [0usize; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|c| **c > 0)
        .map(|c| {
            let p = *c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_named_and_ordinary_values_pass() {
        let refused = [
            ("DB_PASSWORD", "hunter2"),
            ("github.token", "x"),
            ("STRIPE_SECRET", "abc"),
            ("PAYMENTS_API_KEY", "k"),
            ("AWS_ACCESS_KEY", "k"),
            ("CI", "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"),
            ("SLACK", "xoxb-1234567890-abcdefghij"),
            ("AWS", "AKIAIOSFODNN7EXAMPLE"),
            ("TLS", "-----BEGIN RSA PRIVATE KEY-----\nMIIE..."),
            (
                "SESSION",
                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            ),
            (
                "DATABASE_URL",
                "postgres://app:s3cr3t@db.internal:5432/shop",
            ),
            ("SIGNING", "q8Jz2Lr0Xv7Nw4Tb9Ym1Kc6Hd3Fs5Ge"),
            (
                "HMAC",
                "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08c3",
            ),
        ];
        for (k, v) in refused {
            assert!(looks_secret(k, v).is_some(), "{k}={v} should be refused");
        }
        let passed = [
            ("LOG_LEVEL", "info"),
            ("FEATURE_CHECKOUT_V2", "true"),
            ("GIT_REVISION", "9f2c4e1b7a3d5f6e8c0b2a4d6f8e0c2b4a6d8f0e"),
            (
                "BASE_IMAGE",
                "registry.example.com/base@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            ),
            ("DATABASE_URL", "postgres://app@db.internal:5432/shop"),
            ("UPSTREAM", "https://payments.internal.example.com/v2/charges"),
            ("TOKEN_TTL_SECONDS", "3600"),
            ("CACHE_KEY_PREFIX", "cart:"),
            ("GREETING", "Welcome back to the shop, have a nice day"),
            ("REPLICA_ZONES", "europe-west1-b,europe-west1-c,europe-west1-d"),
        ];
        for (k, v) in passed {
            assert_eq!(looks_secret(k, v), None, "{k}={v} should pass");
        }
    }

    #[test]
    fn keys_are_checked() {
        assert_eq!(invalid_key("LOG_LEVEL"), None);
        assert_eq!(invalid_key("payments.timeout-ms"), None);
        assert!(invalid_key("").is_some());
        assert!(invalid_key("1X").is_some());
        assert!(invalid_key("A B").is_some());
        assert!(invalid_key(&"K".repeat(MAX_KEY + 1)).is_some());
    }
}
