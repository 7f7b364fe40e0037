//! A lane: one endpoint's deliveries.

use super::config::{Endpoint, Retry};
use super::render::render;
use super::Notifier;
use catalog_core::notify::{Action, Notification};
use catalog_schema::{OutboxRow, OutboxState, Store};
use futures_util::StreamExt as _;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Rows claimed at a time, and sent at once.
const CLAIM: i64 = 32;
const IN_FLIGHT: usize = 8;
/// How often an idle lane looks for rows another node enqueued.
const IDLE: Duration = Duration::from_secs(2);

/// What became of one attempt.
enum Outcome {
    Delivered,
    /// Retry at this time (microseconds), or park.
    Failed {
        error: String,
        retry_at: i64,
        park: bool,
    },
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> catalog_schema::StoreResult<T> + Send + 'static,
) -> anyhow::Result<T> {
    Ok(tokio::task::spawn_blocking(f).await??)
}

pub async fn lane(
    store: Store,
    notifier: Arc<Notifier>,
    name: String,
    client: reqwest::Client,
    wake: Arc<Notify>,
) {
    let Some(endpoint) = notifier.config.endpoint(&name) else {
        return;
    };
    let retry = notifier.config.retry;
    // Long enough for a claimed batch to be sent: a lease that ran out lets another node
    // send a row again (harmless, its key is the same, but noisy).
    let lease = retry.timeout * (CLAIM as u32).div_ceil(IN_FLIGHT as u32) + Duration::from_secs(30);
    loop {
        let now = now_micros();
        let (s, n) = (store.clone(), name.clone());
        let rows = match blocking(move || s.outbox_claim(&n, now, lease, CLAIM)).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(endpoint = %name, error = %e, "cannot claim notifications");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if rows.is_empty() {
            let (s, n) = (store.clone(), name.clone());
            // Not before a lease another node holds runs out: no spinning on its rows.
            let now = now_micros();
            let due = blocking(move || s.outbox_next_due(&n, now))
                .await
                .ok()
                .flatten();
            let wait = due.map_or(IDLE, |d| {
                Duration::from_micros((d - now_micros()).max(0) as u64).min(IDLE)
            });
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
            continue;
        }
        let results: Vec<(i64, Outcome)> = futures_util::stream::iter(rows)
            .map(|r| {
                let (client, store) = (client.clone(), store.clone());
                async move {
                    let o = attempt(&client, &store, endpoint, &retry, &r).await;
                    (r.id, o)
                }
            })
            .buffer_unordered(IN_FLIGHT)
            .collect()
            .await;
        let mut delivered = Vec::new();
        let mut failed = Vec::new();
        for (id, o) in results {
            match o {
                Outcome::Delivered => delivered.push(id),
                Outcome::Failed {
                    error,
                    retry_at,
                    park,
                } => {
                    tracing::warn!(endpoint = %name, row = id, park, error = %error, "a notification was not delivered");
                    failed.push((id, error, retry_at, park));
                }
            }
        }
        let s = store.clone();
        let at = now_micros();
        if let Err(e) = blocking(move || {
            s.outbox_delivered(&delivered, at)?;
            s.outbox_fail(&failed)
        })
        .await
        {
            tracing::warn!(endpoint = %name, error = %e, "cannot record deliveries; they may be sent again");
        }
    }
}

fn now_micros() -> i64 {
    catalog_schema::to_micros(chrono::Utc::now())
}

async fn attempt(
    client: &reqwest::Client,
    store: &Store,
    e: &Endpoint,
    retry: &Retry,
    row: &OutboxRow,
) -> Outcome {
    let fail = |error: String, park: bool, after: Option<Duration>| {
        let out_of_attempts = row.attempts >= retry.attempts;
        let delay = after
            .unwrap_or_else(|| retry.delay(row.attempts))
            .min(retry.max);
        Outcome::Failed {
            error: if out_of_attempts && !park {
                format!("{error} (after {} attempt(s))", row.attempts)
            } else {
                error
            },
            retry_at: now_micros() + delay.as_micros() as i64,
            park: park || out_of_attempts,
        }
    };
    let n: Notification = match serde_json::from_str(&row.body) {
        Ok(n) => n,
        Err(err) => {
            return fail(
                format!("the notification does not read back: {err}"),
                true,
                None,
            )
        }
    };
    // A resolve goes after its trigger, never before it.
    if n.action == Action::Resolve {
        let trigger = row.key.replacen(":resolve>", ">", 1);
        let s = store.clone();
        match blocking(move || s.outbox_state_of(&trigger)).await {
            Ok(Some((OutboxState::Delivered, _))) | Ok(None) => {}
            Ok(Some((OutboxState::Parked, _))) => {
                return fail(
                    "its trigger is parked: retry the trigger first".into(),
                    true,
                    None,
                )
            }
            Ok(Some((OutboxState::Pending, due))) => {
                return Outcome::Failed {
                    error: "waits for its trigger".into(),
                    retry_at: due.max(now_micros()) + 100_000,
                    park: false,
                }
            }
            Err(err) => {
                return fail(
                    format!("cannot read its trigger's state: {err}"),
                    false,
                    None,
                )
            }
        }
    }
    if e.kind == super::config::Kind::Pagerduty && e.secret_for(n.team.as_deref()).is_none() {
        return fail(
            format!(
                "no routing key for team {:?}: add it to routing_keys_file, or give routing_key_file",
                n.team.as_deref().unwrap_or("(none)")
            ),
            true,
            None,
        );
    }
    let r = render(&n, e, chrono::Utc::now().timestamp());
    let mut req = client
        .post(&r.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(
            reqwest::header::USER_AGENT,
            concat!("catalog/", env!("CARGO_PKG_VERSION")),
        );
    for (k, v) in r.headers {
        req = req.header(k, v);
    }
    match req.body(r.body).send().await {
        // The error without its URL: a Slack or Teams URL is a secret.
        Err(err) => fail(
            format!("cannot reach the endpoint: {}", err.without_url()),
            false,
            None,
        ),
        Ok(resp) => {
            let status = resp.status();
            if status.is_success() {
                return Outcome::Delivered;
            }
            let after = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let text = resp.text().await.unwrap_or_default();
            let said: String = text.chars().filter(|c| !c.is_control()).take(200).collect();
            let error = format!("HTTP {}: {said}", status.as_u16());
            let transient = status.is_server_error()
                || status == reqwest::StatusCode::TOO_MANY_REQUESTS
                || status == reqwest::StatusCode::REQUEST_TIMEOUT;
            fail(
                error,
                !transient,
                if status.as_u16() == 429 { after } else { None },
            )
        }
    }
}
