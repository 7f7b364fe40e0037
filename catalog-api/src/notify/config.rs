//! The server's notification endpoints (`--notify-config FILE`, YAML or JSON): where the
//! catalog may send, and the secrets to send with. The catalog posts to these URLs and no
//! others; URLs and secrets never reach a log, an error, GraphQL or `/metrics` (a Slack or
//! Teams incoming-webhook URL is itself a secret, so it may come from a file too).
//!
//! ```yaml
//! retry: {attempts: 8, first: 2s, max: 5m}
//! endpoints:
//!   - {name: ops, kind: webhook, url: "https://hooks.example.com/catalog", secret_file: /etc/catalog/ops.key}
//!   - {name: chat, kind: slack, url_file: /etc/catalog/slack.url}
//!   - {name: pd-payments, kind: pagerduty, routing_key_file: /etc/catalog/pd-payments.key}
//!   - {name: og, kind: opsgenie, api_key_file: /etc/catalog/og.key}
//! ```

use anyhow::{anyhow, bail, Context as _};
use serde::Deserialize;
use std::path::Path;
use std::time::Duration;

/// How an endpoint wants its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// The notification as JSON, signed per Standard Webhooks (HMAC-SHA256).
    Webhook,
    /// A Slack incoming webhook (Block Kit).
    Slack,
    /// A Microsoft Teams incoming webhook (an Adaptive Card message).
    Teams,
    /// PagerDuty Events API v2: `trigger`, and `resolve` with the same `dedup_key`.
    Pagerduty,
    /// Opsgenie's Alert API: create, and close by alias.
    Opsgenie,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Webhook => "webhook",
            Kind::Slack => "slack",
            Kind::Teams => "teams",
            Kind::Pagerduty => "pagerduty",
            Kind::Opsgenie => "opsgenie",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    retry: Option<RetryFile>,
    endpoints: Vec<EndpointFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RetryFile {
    /// A number (YAML scalars may read as strings).
    attempts: Option<serde_json::Value>,
    first: Option<String>,
    max: Option<String>,
    timeout: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EndpointFile {
    name: String,
    kind: Kind,
    url: Option<String>,
    url_file: Option<String>,
    secret_file: Option<String>,
    routing_key_file: Option<String>,
    api_key_file: Option<String>,
    /// PagerDuty: a YAML or JSON map of team to routing key; the team's own key wins over
    /// `routing_key_file`.
    routing_keys_file: Option<String>,
}

/// One endpoint. `Debug` shows no URL and no secret.
pub struct Endpoint {
    pub name: String,
    pub kind: Kind,
    pub url: String,
    /// The webhook's signing key, PagerDuty's routing key, or Opsgenie's API key.
    pub secret: Option<Vec<u8>>,
    /// PagerDuty: each team's own routing key.
    pub team_secrets: std::collections::HashMap<String, Vec<u8>>,
}

impl Endpoint {
    /// The key to send a notification about `team` with: the team's own, else the
    /// endpoint's.
    pub fn secret_for(&self, team: Option<&str>) -> Option<&[u8]> {
        team.and_then(|t| self.team_secrets.get(t))
            .or(self.secret.as_ref())
            .map(Vec::as_slice)
    }
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Endpoint({} {})", self.name, self.kind.as_str())
    }
}

/// Retries: `attempts` in all before a row is parked, the first delay doubling up to `max`.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    pub attempts: i32,
    pub first: Duration,
    pub max: Duration,
    /// How long one delivery may take.
    pub timeout: Duration,
}

impl Default for Retry {
    fn default() -> Retry {
        Retry {
            attempts: 8,
            first: Duration::from_secs(2),
            max: Duration::from_secs(300),
            timeout: Duration::from_secs(10),
        }
    }
}

impl Retry {
    /// The delay before the attempt after `attempts` failed ones.
    pub fn delay(&self, attempts: i32) -> Duration {
        let n = attempts.clamp(1, 30) as u32 - 1;
        self.first
            .checked_mul(1u32 << n.min(20))
            .unwrap_or(self.max)
            .min(self.max)
    }
}

#[derive(Debug, Default)]
pub struct NotifyConfig {
    pub endpoints: Vec<Endpoint>,
    pub retry: Retry,
}

impl NotifyConfig {
    pub fn endpoint(&self, name: &str) -> Option<&Endpoint> {
        self.endpoints.iter().find(|e| e.name == name)
    }

    /// Reads the file; errors name the file and the field, never a secret.
    pub fn load(path: &Path) -> anyhow::Result<NotifyConfig> {
        let shown = path.display();
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the notification configuration {shown}"))?;
        let value = catalog_ingest::backstage::yaml_value(&text)
            .map_err(|e| anyhow!("{shown}: not YAML or JSON: {e}"))?;
        let file: File = serde_json::from_value(value).map_err(|e| anyhow!("{shown}: {e}"))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut out = NotifyConfig::default();
        if let Some(r) = file.retry {
            let d = |v: Option<String>, field: &str, dflt: Duration| -> anyhow::Result<Duration> {
                match v {
                    Some(s) => crate::config::parse_duration(&s)
                        .map_err(|e| anyhow!("{shown}: retry.{field}: {e}")),
                    None => Ok(dflt),
                }
            };
            let dflt = Retry::default();
            let attempts = match &r.attempts {
                None => dflt.attempts,
                Some(v) => v
                    .as_i64()
                    .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                    .and_then(|n| i32::try_from(n).ok())
                    .ok_or_else(|| anyhow!("{shown}: retry.attempts: a whole number"))?,
            };
            out.retry = Retry {
                attempts,
                first: d(r.first, "first", dflt.first)?,
                max: d(r.max, "max", dflt.max)?,
                timeout: d(r.timeout, "timeout", dflt.timeout)?,
            };
            if out.retry.attempts < 1 {
                bail!("{shown}: retry.attempts: at least 1");
            }
            if out.retry.first.is_zero() || out.retry.timeout.is_zero() {
                bail!("{shown}: retry.first and retry.timeout must be more than zero");
            }
        }
        for (i, e) in file.endpoints.into_iter().enumerate() {
            let at = format!("{shown}: endpoints[{i}]");
            if e.name.is_empty()
                || e.name.len() > 64
                || !e
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                bail!("{at}.name: 1 to 64 letters, digits, '-', '_' or '.'");
            }
            if out.endpoint(&e.name).is_some() {
                bail!("{at}.name: {:?} is named twice", e.name);
            }
            let read = |field: &str, p: &str| -> anyhow::Result<String> {
                let p = dir.join(p);
                let s = std::fs::read_to_string(&p)
                    .with_context(|| format!("{at}.{field}: cannot read {}", p.display()))?;
                let s = s.trim().to_string();
                if s.is_empty() {
                    bail!("{at}.{field}: {} is empty", p.display());
                }
                Ok(s)
            };
            let url = match (&e.url, &e.url_file, e.kind) {
                (Some(_), Some(_), _) => bail!("{at}: give url or url_file, not both"),
                (Some(u), None, _) => u.clone(),
                (None, Some(f), _) => read("url_file", f)?,
                (None, None, Kind::Pagerduty) => "https://events.pagerduty.com/v2/enqueue".into(),
                (None, None, Kind::Opsgenie) => "https://api.opsgenie.com".into(),
                (None, None, _) => {
                    bail!("{at}: url or url_file is required for {}", e.kind.as_str())
                }
            };
            let parsed = reqwest::Url::parse(&url).map_err(|_| {
                anyhow!("{at}: the URL does not parse (not shown: it may hold a secret)")
            })?;
            if !matches!(parsed.scheme(), "http" | "https") {
                bail!("{at}: the URL must be http or https");
            }
            let (field, file) = match e.kind {
                Kind::Webhook => ("secret_file", &e.secret_file),
                Kind::Pagerduty => ("routing_key_file", &e.routing_key_file),
                Kind::Opsgenie => ("api_key_file", &e.api_key_file),
                Kind::Slack | Kind::Teams => ("", &None),
            };
            let others = [
                ("secret_file", &e.secret_file),
                ("routing_key_file", &e.routing_key_file),
                ("api_key_file", &e.api_key_file),
            ];
            if let Some((f, _)) = others.iter().find(|(f, v)| *f != field && v.is_some()) {
                bail!("{at}.{f}: not used by a {} endpoint", e.kind.as_str());
            }
            let mut team_secrets = std::collections::HashMap::new();
            if let Some(f) = &e.routing_keys_file {
                if e.kind != Kind::Pagerduty {
                    bail!(
                        "{at}.routing_keys_file: not used by a {} endpoint",
                        e.kind.as_str()
                    );
                }
                let text = read("routing_keys_file", f)?;
                let map = catalog_ingest::backstage::yaml_value(&text)
                    .ok()
                    .and_then(|v| v.as_object().cloned())
                    .ok_or_else(|| {
                        anyhow!("{at}.routing_keys_file: a YAML or JSON map of team to routing key")
                    })?;
                for (team, key) in map {
                    let key = key.as_str().map(str::trim).unwrap_or_default();
                    if key.is_empty() {
                        bail!("{at}.routing_keys_file: the key of team {team:?} is not a string");
                    }
                    team_secrets.insert(team, key.as_bytes().to_vec());
                }
            }
            let secret = match file {
                Some(f) => Some(secret_bytes(e.kind, &read(field, f)?)?),
                None if field.is_empty() || !team_secrets.is_empty() => None,
                None => bail!("{at}.{field}: required for a {} endpoint", e.kind.as_str()),
            };
            out.endpoints.push(Endpoint {
                name: e.name,
                kind: e.kind,
                url,
                secret,
                team_secrets,
            });
        }
        Ok(out)
    }
}

/// A Standard Webhooks secret is `whsec_` and base64; anything else is used as written.
fn secret_bytes(kind: Kind, s: &str) -> anyhow::Result<Vec<u8>> {
    use base64::Engine as _;
    match (kind, s.strip_prefix("whsec_")) {
        (Kind::Webhook, Some(b)) => base64::engine::general_purpose::STANDARD
            .decode(b)
            .map_err(|_| anyhow!("a whsec_ signing secret must be base64 after the prefix")),
        _ => Ok(s.as_bytes().to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).expect("write");
        p
    }

    #[test]
    fn endpoints_read_their_secrets_from_files_and_errors_never_show_them() {
        let dir = std::env::temp_dir().join(format!("notify-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        write(&dir, "ops.key", "whsec_c2VjcmV0\n");
        write(
            &dir,
            "slack.url",
            "https://hooks.slack.com/services/T0/B0/XXXXSECRET\n",
        );
        write(&dir, "pd.key", "R0UT1NGKEY\n");
        write(
            &dir,
            "pd-teams.yaml",
            "payments: PAYMENTSKEY\nshop: SHOPKEY\n",
        );
        let ok = write(
            &dir,
            "ok.yaml",
            "retry: {attempts: 3, first: 100ms, max: 1s}\nendpoints:\n  - {name: ops, kind: webhook, url: 'http://127.0.0.1:9/h', secret_file: ops.key}\n  - {name: chat, kind: slack, url_file: slack.url}\n  - {name: pd, kind: pagerduty, routing_key_file: pd.key}\n  - {name: pd-teams, kind: pagerduty, routing_keys_file: pd-teams.yaml}\n",
        );
        let c = NotifyConfig::load(&ok).expect("loads");
        assert_eq!(c.endpoints.len(), 4);
        let teams = c.endpoint("pd-teams").expect("pd-teams");
        assert_eq!(
            teams.secret_for(Some("payments")),
            Some(&b"PAYMENTSKEY"[..])
        );
        assert_eq!(
            teams.secret_for(Some("nobody")),
            None,
            "no key of its own, no default"
        );
        let pd = c.endpoint("pd").expect("pd");
        assert_eq!(pd.secret_for(Some("payments")), Some(&b"R0UT1NGKEY"[..]));
        assert_eq!(
            c.endpoint("ops").and_then(|e| e.secret.clone()),
            Some(b"secret".to_vec())
        );
        assert_eq!(
            c.endpoint("pd").map(|e| e.url.as_str()),
            Some("https://events.pagerduty.com/v2/enqueue")
        );
        assert_eq!(c.retry.attempts, 3);
        assert_eq!(c.retry.delay(1), Duration::from_millis(100));
        assert_eq!(c.retry.delay(3), Duration::from_millis(400));
        assert_eq!(c.retry.delay(9), Duration::from_secs(1));
        assert!(!format!("{:?}", c.endpoints).contains("SECRET"));
        let cases = [
            ("endpoints:\n  - {name: a, kind: webhook, url: 'http://x/'}\n", "endpoints[0].secret_file: required for a webhook endpoint"),
            ("endpoints:\n  - {name: a, kind: slack}\n", "endpoints[0]: url or url_file is required for slack"),
            ("endpoints:\n  - {name: a, kind: carrier-pigeon, url: 'http://x/'}\n", "unknown variant `carrier-pigeon`"),
            ("endpoints:\n  - {name: a, kind: slack, url: 'ftp://user:hunter2@x/'}\n", "endpoints[0]: the URL must be http or https"),
            ("endpoints:\n  - {name: a, kind: slack, url: 'http://x/', routing_key_file: pd.key}\n", "endpoints[0].routing_key_file: not used by a slack endpoint"),
            ("endpoints:\n  - {name: a, kind: slack, url: 'http://x/'}\n  - {name: a, kind: teams, url: 'http://y/'}\n", "endpoints[1].name: \"a\" is named twice"),
            ("endpoints:\n  - {name: 'a b', kind: slack, url: 'http://x/'}\n", "endpoints[0].name: 1 to 64"),
            ("retry: {attempts: 0}\nendpoints: []\n", "retry.attempts: at least 1"),
            ("endpoints: []\nsurprise: 1\n", "unknown field `surprise`"),
        ];
        for (text, want) in cases {
            let p = write(&dir, "bad.yaml", text);
            let e = format!("{:#}", NotifyConfig::load(&p).expect_err(text));
            assert!(e.contains(want), "{text}: {e}");
            assert!(!e.contains("hunter2"), "{e}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
