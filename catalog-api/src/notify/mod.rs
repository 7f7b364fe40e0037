//! Notifications through a durable outbox (see [`produce`] for what notifies, and
//! [`schema`'s outbox](catalog_schema::OutboxRow) for how rows are kept).
//!
//! A producer thread follows the log and enqueues; one lane per endpoint delivers. A lane
//! claims its endpoint's due rows, sends them (a few at a time), and records each answer:
//! 2xx is delivered; a connection failure, a timeout, 408, 429 and 5xx are retried with
//! exponential backoff (429's `Retry-After` is honoured); other 4xx, and a row out of
//! attempts, are parked with the error, visible in GraphQL and on the dashboard, until
//! someone retries them. A failing endpoint's lane waits alone: the others go on.

pub mod cli;
pub mod config;
mod deliver;
pub mod produce;
pub mod render;

use crate::graphql::AppCtx;
use config::NotifyConfig;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::Notify;

/// The configured endpoints and the handles that wake their lanes.
#[derive(Default)]
pub struct Notifier {
    pub config: NotifyConfig,
    /// The dashboard's public URL, for links in messages.
    pub link_base: Option<String>,
    /// How long delivered rows are kept (0: for ever).
    pub retain: std::time::Duration,
    wake: HashMap<String, Arc<Notify>>,
}

impl Notifier {
    pub fn new(
        config: NotifyConfig,
        link_base: Option<String>,
        retain: std::time::Duration,
    ) -> Notifier {
        let wake = config
            .endpoints
            .iter()
            .map(|e| (e.name.clone(), Arc::new(Notify::new())))
            .collect();
        Notifier {
            config,
            link_base,
            retain,
            wake,
        }
    }

    /// Tells `endpoint`'s lane that rows wait.
    pub fn wake(&self, endpoint: &str) {
        if let Some(w) = self.wake.get(endpoint) {
            w.notify_one();
        }
    }
}

/// Starts the producer (a thread of its own, woken by the graph's changes) and a lane per
/// endpoint on the calling runtime. `sole`: this process is the only node (SQLite), so rows
/// a killed predecessor had claimed go out again at once.
pub fn spawn(ctx: AppCtx, sole: bool) -> anyhow::Result<()> {
    let notifier = ctx.notify.clone();
    if sole {
        ctx.store.outbox_release_leases()?;
    }
    let client = reqwest::Client::builder()
        .timeout(notifier.config.retry.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    for e in &notifier.config.endpoints {
        let Some(wake) = notifier.wake.get(&e.name).cloned() else {
            continue;
        };
        tokio::spawn(deliver::lane(
            ctx.store.clone(),
            notifier.clone(),
            e.name.clone(),
            client.clone(),
            wake,
        ));
    }
    let woken = crate::judge::wake_on_changes(&ctx);
    std::thread::Builder::new()
        .name("notify-producer".into())
        .spawn(move || run(&ctx, notifier, &woken))?;
    Ok(())
}

/// How often the producer checks it still leads, and prunes old delivered rows.
const CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(30);
const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);
/// How often a node that does not produce asks whether it may.
const ELECT_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

fn run(ctx: &AppCtx, notifier: Arc<Notifier>, woken: &std::sync::mpsc::Receiver<()>) {
    use std::sync::mpsc::RecvTimeoutError;
    let mut pruned: Option<std::time::Instant> = None;
    'elect: loop {
        // One producer among the nodes of a PostgreSQL catalog (the others take over when
        // it dies): two would each open the same incident under keys of their own pages.
        let mut leader = loop {
            match ctx.store.try_lead("catalog notification producer") {
                Ok(Some(l)) => {
                    tracing::info!("this node produces the notifications");
                    break l;
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "cannot tell whether this node produces notifications")
                }
            }
            // Every few seconds, not on every commit: a follower adds no query to ingest.
            let asked = std::time::Instant::now();
            while asked.elapsed() < ELECT_EVERY {
                let left = ELECT_EVERY.saturating_sub(asked.elapsed());
                if let Err(RecvTimeoutError::Disconnected) = woken.recv_timeout(left) {
                    return;
                }
            }
        };
        // From what the database says (another node may have produced meanwhile).
        let mut producer = loop {
            match produce::Producer::resume(ctx, notifier.clone()) {
                Ok(p) => break p,
                Err(e) => {
                    tracing::error!(error = %e, "the notification producer cannot start; trying again");
                    if let Err(RecvTimeoutError::Disconnected) =
                        woken.recv_timeout(std::time::Duration::from_secs(5))
                    {
                        return;
                    }
                }
            }
        };
        let mut checked = std::time::Instant::now();
        loop {
            loop {
                match producer.step(ctx) {
                    Ok(true) => continue,
                    Ok(false) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot enqueue notifications; retried on the next change");
                        break;
                    }
                }
            }
            if pruned.is_none_or(|p| p.elapsed() >= PRUNE_EVERY) {
                pruned = Some(std::time::Instant::now());
                prune(ctx, notifier.retain);
            }
            // A change wakes it; so does the check's period, to retry after an error.
            match woken.recv_timeout(CHECK_EVERY) {
                Ok(()) | Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            // A session lost to the network lost the lock with it: another node may lead.
            if checked.elapsed() >= CHECK_EVERY {
                checked = std::time::Instant::now();
                if !leader.holds() {
                    tracing::warn!("this node lost its lead of the notifications; electing again");
                    continue 'elect;
                }
            }
        }
    }
}

/// Removes delivered rows older than `retain` (0: keep them all).
fn prune(ctx: &AppCtx, retain: std::time::Duration) {
    if retain.is_zero() {
        return;
    }
    let before = chrono::Utc::now()
        - chrono::TimeDelta::from_std(retain).unwrap_or(chrono::TimeDelta::days(30));
    match ctx.store.outbox_prune(catalog_schema::to_micros(before)) {
        Ok(0) => {}
        Ok(n) => tracing::info!(rows = n, "pruned delivered notifications"),
        Err(e) => tracing::warn!(error = %e, "cannot prune delivered notifications"),
    }
}
