//! A notification as each kind of endpoint wants it. Pure: the request to send (URL,
//! headers, body), so every format is tested without a network.
//!
//! - **webhook**: the notification's JSON, signed as Standard Webhooks sign
//!   (<https://www.standardwebhooks.com>): `webhook-id` is the notification's key (the same
//!   on every retry, so a receiver dedups by it), `webhook-timestamp` the Unix time of this
//!   attempt, and `webhook-signature` `v1,` and the base64 HMAC-SHA256, keyed with the
//!   endpoint's secret, of `{webhook-id}.{webhook-timestamp}.{body}`.
//! - **slack**: Block Kit (`text` for notifications, a header, a section, the facts).
//! - **teams**: a message with one Adaptive Card (1.4) attachment.
//! - **pagerduty**: Events API v2: `trigger` with the routing key, the notification's
//!   `dedup_key`, a payload (summary, source, severity, timestamp, component, group, class,
//!   custom details) and a link; `resolve` with the same `dedup_key`.
//! - **opsgenie**: Alert API v2: create (`alias` the `dedup_key`, responders the team), and
//!   close by alias.

use super::config::{Endpoint, Kind};
use catalog_core::notify::{Action, Notification, Severity};
use serde_json::{json, Value};

/// One HTTP request to make.
pub struct Request {
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

/// The request delivering `n` to `e`, signed at `now` (Unix seconds).
pub fn render(n: &Notification, e: &Endpoint, now: i64) -> Request {
    let secret = match e.kind {
        // PagerDuty routes by key: the team's own, when it has one.
        Kind::Pagerduty => e.secret_for(n.team.as_deref()),
        _ => e.secret.as_deref(),
    }
    .unwrap_or_default();
    let json_body = |v: &Value| serde_json::to_vec(v).unwrap_or_default();
    match e.kind {
        Kind::Webhook => {
            let body = serde_json::to_vec(n).unwrap_or_default();
            let signature = sign(secret, &n.key, now, &body);
            Request {
                url: e.url.clone(),
                headers: vec![
                    ("webhook-id", n.key.clone()),
                    ("webhook-timestamp", now.to_string()),
                    ("webhook-signature", format!("v1,{signature}")),
                    ("idempotency-key", n.key.clone()),
                ],
                body,
            }
        }
        Kind::Slack => Request {
            url: e.url.clone(),
            headers: Vec::new(),
            body: json_body(&slack(n)),
        },
        Kind::Teams => Request {
            url: e.url.clone(),
            headers: Vec::new(),
            body: json_body(&teams(n)),
        },
        Kind::Pagerduty => Request {
            url: e.url.clone(),
            headers: Vec::new(),
            body: json_body(&pagerduty(n, &String::from_utf8_lossy(secret))),
        },
        Kind::Opsgenie => {
            let base = e.url.trim_end_matches('/');
            let auth = (
                "authorization",
                format!("GenieKey {}", String::from_utf8_lossy(secret)),
            );
            match n.action {
                Action::Trigger => Request {
                    url: format!("{base}/v2/alerts"),
                    headers: vec![auth],
                    body: json_body(&opsgenie(n)),
                },
                Action::Resolve => Request {
                    url: close_url(base, &alias(n)),
                    headers: vec![auth],
                    body: json_body(&json!({"source": "catalog", "note": n.summary})),
                },
            }
        }
    }
}

/// Standard Webhooks' signature: base64(HMAC-SHA256(secret, "{id}.{timestamp}.{body}")).
pub fn sign(secret: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    use base64::Engine as _;
    use hmac::{Hmac, Mac};
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// At most `max` characters, with an ellipsis when cut.
fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Slack's mrkdwn treats `&`, `<` and `>` as markup: data is escaped, never a link or mention.
fn mrkdwn(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn facts(n: &Notification) -> Vec<(&'static str, String)> {
    let mut out = vec![("Severity", n.severity.as_str().to_string())];
    if let Some(e) = &n.environment {
        out.push(("Environment", e.clone()));
    }
    if let Some(t) = &n.team {
        out.push(("Team", t.clone()));
    }
    let c = &n.contacts;
    let contacts: Vec<&str> = [&c.email, &c.chat, &c.pager]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    if !contacts.is_empty() {
        out.push(("Contacts", contacts.join(", ")));
    }
    if n.affected_total > 0 {
        out.push(("Workloads", n.affected_total.to_string()));
    }
    out
}

fn slack(n: &Notification) -> Value {
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": cut(&n.title, 150)}}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": cut(&mrkdwn(&n.summary), 3000)}}),
    ];
    let fields: Vec<Value> = facts(n)
        .into_iter()
        .take(10)
        .map(|(k, v)| json!({"type": "mrkdwn", "text": cut(&format!("*{k}*\n{}", mrkdwn(&v)), 2000)}))
        .collect();
    blocks.push(json!({"type": "section", "fields": fields}));
    if let Some(link) = &n.link {
        blocks.push(json!({"type": "actions", "elements": [{
            "type": "button",
            "text": {"type": "plain_text", "text": "Open in the catalog"},
            "url": cut(link, 3000),
        }]}));
    }
    json!({"text": cut(&n.title, 3000), "blocks": blocks})
}

fn teams(n: &Notification) -> Value {
    let facts: Vec<Value> = facts(n)
        .into_iter()
        .map(|(k, v)| json!({"title": k, "value": v}))
        .collect();
    let mut card = json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "text": n.title, "weight": "Bolder", "size": "Medium", "wrap": true},
            {"type": "TextBlock", "text": n.summary, "wrap": true},
            {"type": "FactSet", "facts": facts},
        ],
    });
    if let Some(link) = &n.link {
        card["actions"] =
            json!([{"type": "Action.OpenUrl", "title": "Open in the catalog", "url": link}]);
    }
    json!({"type": "message", "attachments": [{
        "contentType": "application/vnd.microsoft.card.adaptive",
        "contentUrl": null,
        "content": card,
    }]})
}

fn pagerduty_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::None => "info",
    }
}

fn pagerduty(n: &Notification, routing_key: &str) -> Value {
    match n.action {
        Action::Resolve => json!({
            "routing_key": routing_key,
            "event_action": "resolve",
            "dedup_key": cut(&n.dedup_key, 255),
        }),
        Action::Trigger => {
            let mut v = json!({
                "routing_key": routing_key,
                "event_action": "trigger",
                "dedup_key": cut(&n.dedup_key, 255),
                "payload": {
                    "summary": cut(&n.title, 1024),
                    "source": n.environment.clone().unwrap_or_else(|| "catalog".into()),
                    "severity": pagerduty_severity(n.severity),
                    "timestamp": n.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    "component": n.components.first().cloned().unwrap_or_default(),
                    "group": n.team.clone().unwrap_or_default(),
                    "class": n.trigger.as_str(),
                    "custom_details": details(n),
                },
                "client": "catalog",
            });
            if let Some(link) = &n.link {
                v["links"] = json!([{"href": link, "text": "Open in the catalog"}]);
                v["client_url"] = json!(link);
            }
            v
        }
    }
}

fn details(n: &Notification) -> Value {
    json!({
        "summary": n.summary,
        "environment": n.environment,
        "team": n.team,
        "contacts": n.contacts,
        "workloads": n.affected,
        "workloads_total": n.affected_total,
        "components": n.components,
        "details": n.details,
        "key": n.key,
    })
}

fn alias(n: &Notification) -> String {
    cut(&n.dedup_key, 512)
}

fn opsgenie_priority(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "P1",
        Severity::High => "P2",
        Severity::Medium => "P3",
        Severity::Low => "P4",
        Severity::None => "P5",
    }
}

fn opsgenie(n: &Notification) -> Value {
    let mut details = serde_json::Map::new();
    for (k, v) in facts(n) {
        details.insert(k.to_lowercase(), json!(cut(&v, 8000)));
    }
    if let Some(l) = &n.link {
        details.insert("link".into(), json!(l));
    }
    let mut v = json!({
        "message": cut(&n.title, 130),
        "alias": alias(n),
        "description": cut(&n.summary, 15000),
        "details": details,
        "tags": [n.trigger.as_str()],
        "source": "catalog",
        "priority": opsgenie_priority(n.severity),
    });
    if let Some(t) = &n.team {
        v["responders"] = json!([{"name": t, "type": "team"}]);
    }
    if let Some(c) = n.components.first() {
        v["entity"] = json!(cut(c, 512));
    }
    v
}

/// `{base}/v2/alerts/{alias}/close?identifierType=alias`, the alias one path segment
/// (percent-encoded by the URL parser the client uses).
fn close_url(base: &str, alias: &str) -> String {
    match reqwest::Url::parse(base) {
        Ok(mut u) => {
            if let Ok(mut p) = u.path_segments_mut() {
                p.pop_if_empty().extend(["v2", "alerts", alias, "close"]);
            }
            u.set_query(Some("identifierType=alias"));
            u.to_string()
        }
        // The configuration refuses a URL that does not parse: not reached.
        Err(_) => base.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use catalog_core::notify::{Affected, Trigger};

    fn sample(action: Action) -> Notification {
        Notification {
            key: "vuln:GHSA-1:prod:payments:trigger:7".into(),
            dedup_key: "vuln:GHSA-1:prod:payments".into(),
            action,
            trigger: Trigger::Vulnerability,
            severity: Severity::Critical,
            title: "GHSA-1 <critical> runs in prod".into(),
            summary: "a & b <!channel>".into(),
            environment: Some("prod".into()),
            team: Some("payments".into()),
            contacts: catalog_core::entity::Contacts {
                email: Some("pay@example.com".into()),
                chat: None,
                pager: Some("PD123".into()),
            },
            affected: vec![Affected {
                environment: Some("prod".into()),
                cluster: "prod-eu-1".into(),
                namespace: "pay".into(),
                workload: "api".into(),
                component: Some("pay/api".into()),
                version: Some("1.0".into()),
            }],
            affected_total: 1,
            components: vec!["pay/api".into()],
            link: Some("http://catalog.example/vulnerabilities/GHSA-1".into()),
            occurred_at: chrono::Utc::now(),
            details: json!({"id": "GHSA-1"}),
        }
    }

    fn endpoint(kind: Kind, secret: &[u8]) -> Endpoint {
        Endpoint {
            name: "e".into(),
            kind,
            url: "http://127.0.0.1:1/x".into(),
            secret: Some(secret.to_vec()),
            team_secrets: [("payments".to_string(), b"PAYMENTS".to_vec())].into(),
        }
    }

    /// Standard Webhooks' own example (its specification's test vector).
    #[test]
    fn the_signature_is_standard_webhooks() {
        use base64::Engine as _;
        let secret = base64::engine::general_purpose::STANDARD
            .decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .expect("base64");
        let sig = sign(
            &secret,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn slack_escapes_data_and_pagerduty_resolves_what_it_triggered() {
        let n = sample(Action::Trigger);
        let s: Value =
            serde_json::from_slice(&render(&n, &endpoint(Kind::Slack, b""), 0).body).expect("json");
        assert_eq!(s["blocks"][1]["text"]["text"], "a &amp; b &lt;!channel&gt;");
        let t: Value =
            serde_json::from_slice(&render(&n, &endpoint(Kind::Pagerduty, b"KEY"), 0).body)
                .expect("json");
        assert_eq!(t["event_action"], "trigger");
        assert_eq!(t["routing_key"], "PAYMENTS", "the team's own key");
        assert_eq!(t["payload"]["severity"], "critical");
        let mut other = sample(Action::Resolve);
        other.team = Some("shop".into());
        let r: Value =
            serde_json::from_slice(&render(&other, &endpoint(Kind::Pagerduty, b"KEY"), 0).body)
                .expect("json");
        assert_eq!(
            r["routing_key"], "KEY",
            "the endpoint's key for a team without one"
        );
        assert_eq!(r["event_action"], "resolve");
        assert_eq!(r["dedup_key"], t["dedup_key"]);
        let teams: Value =
            serde_json::from_slice(&render(&n, &endpoint(Kind::Teams, b""), 0).body).expect("json");
        let a = &teams["attachments"][0];
        assert_eq!(a["contentType"], "application/vnd.microsoft.card.adaptive");
        assert_eq!(a["content"]["type"], "AdaptiveCard");
        assert_eq!(a["content"]["body"][0]["text"], n.title);
        assert_eq!(
            a["content"]["actions"][0]["url"],
            "http://catalog.example/vulnerabilities/GHSA-1"
        );
        let create = render(&n, &endpoint(Kind::Opsgenie, b"K"), 0);
        assert_eq!(create.url, "http://127.0.0.1:1/x/v2/alerts");
        let c: Value = serde_json::from_slice(&create.body).expect("json");
        assert_eq!(c["alias"], "vuln:GHSA-1:prod:payments");
        assert_eq!(c["priority"], "P1");
        assert_eq!(
            c["responders"],
            json!([{"name": "payments", "type": "team"}])
        );
        assert!(c["message"].as_str().expect("message").chars().count() <= 130);
        let o = render(&sample(Action::Resolve), &endpoint(Kind::Opsgenie, b"K"), 0);
        // The alias is one path segment: `:` may stand in one, `/`, `?` and space may not.
        assert_eq!(
            o.url,
            "http://127.0.0.1:1/x/v2/alerts/vuln:GHSA-1:prod:payments/close?identifierType=alias"
        );
        assert_eq!(
            close_url("https://api.opsgenie.com/", "vuln:X:prod/eu:a team?"),
            "https://api.opsgenie.com/v2/alerts/vuln:X:prod%2Feu:a%20team%3F/close?identifierType=alias"
        );
        assert_eq!(o.headers, vec![("authorization", "GenieKey K".to_string())]);
    }
}
