//! The enrichment worker: claims inbox items, fetches what the registry knows about each new
//! image (once per digest: digests are immutable), turns items into domain events, and
//! records a whole batch in one transaction. Failures retry with exponential backoff; an item
//! that keeps failing is parked with its error (visible in GraphQL, retryable by an admin).
//!
//! It needs no graph: what it must know about a digest (registered before, and with which
//! manifest facts; has an SBOM) it asks the event log, once per batch. In `catalog serve` it
//! also hands what it recorded straight to this process's graph.

use crate::hooks::sbom as sbom_hook;
use crate::hooks::vex as vex_hook;
use crate::item::{Delete, InboxBody, Push, TagPush};
use crate::metrics::Metrics;
use crate::registry::{artifact_tag_subject, FoundDocument, Registries};
use crate::sync::GraphSync;
use catalog_core::event::{Event, ImageRegistered, NewEvent};
use catalog_core::identity;
use catalog_core::model::ImageContent;
use catalog_core::Catalog;
use catalog_schema::{from_micros, to_micros, Durability, InboxItem, Store};
use std::collections::{BTreeMap, BTreeSet};

/// Inbox items per recording transaction. Each is fsynced (the inbox removal that follows is
/// another file's commit; see catalog-schema's inbox.rs); on SQLite the transaction holds the
/// log's write lock, which registry acknowledgements no longer need (the inbox has its own
/// file), so it is sized for throughput: `bench-ingest` was queryable in 2.8–3.0 s at 64,
/// 3.7–4.3 s at 8 and 16 (20,000 notifications).
const RECORD_CHUNK: usize = 64;
use chrono::Utc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tracing::Instrument;

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Items claimed (and committed) together.
    pub batch: i64,
    /// How long a claim holds before another worker may take the item. Short on purpose:
    /// a crashed worker's items come back quickly, and an item processed twice (a slow
    /// worker overtaken) changes nothing, since every event has a natural key.
    pub lease: Duration,
    /// Attempts before an item is parked.
    pub max_attempts: i32,
    /// First retry delay; doubles per attempt, capped at 5 minutes.
    pub retry_base: Duration,
    /// How often to look for due retries and other processes' work when not woken.
    pub poll: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            batch: 512,
            lease: Duration::from_secs(15),
            max_attempts: 8,
            retry_base: Duration::from_secs(2),
            poll: Duration::from_secs(1),
        }
    }
}

pub struct Worker {
    pub store: Store,
    pub registries: Arc<Registries>,
    /// This process's graph, when it has one (`catalog serve`; not `catalog worker`).
    pub sync: Option<Arc<GraphSync>>,
    pub metrics: Arc<Metrics>,
    pub wake: Arc<Notify>,
    pub config: WorkerConfig,
}

impl Worker {
    /// Runs until the task is dropped.
    pub async fn run(self: Arc<Self>) {
        loop {
            match self.process_once().await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "worker pass failed"),
            }
            // Woken by this process's hooks; the poll finds due retries and items other
            // processes' hooks appended.
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.config.poll) => {}
            }
        }
    }

    /// Claims and processes one batch; returns how many items it claimed.
    pub async fn process_once(&self) -> anyhow::Result<usize> {
        let store = self.store.clone();
        let (lease, batch) = (self.config.lease, self.config.batch);
        let items = tokio::task::spawn_blocking(move || {
            store.inbox_claim(to_micros(Utc::now()), lease, batch)
        })
        .await??;
        if items.is_empty() {
            return Ok(0);
        }
        let n = items.len();
        let mut good: Vec<(Option<i64>, Vec<NewEvent>)> = Vec::new();
        let mut received: Vec<i64> = Vec::new();
        // Each body read once, off the async threads (an SBOM item is hundreds of KB).
        let parsed: Vec<(InboxItem, Result<InboxBody, String>)> =
            tokio::task::spawn_blocking(move || {
                items
                    .into_iter()
                    .map(|mut item| {
                        let body = serde_json::from_str::<InboxBody>(&item.body)
                            .map_err(|e| format!("unreadable inbox item: {e}"));
                        item.body = String::new();
                        (item, body)
                    })
                    .collect()
            })
            .await?;
        // Tag-only notifications become pushes of what the tag names now.
        let mut parsed_resolved = Vec::with_capacity(parsed.len());
        for (item, body) in parsed {
            let body = match body {
                Ok(InboxBody::TagPush(t)) => self.resolve(t).await.map(InboxBody::Push),
                other => other,
            };
            parsed_resolved.push((item, body));
        }
        let parsed = parsed_resolved;
        let mut known = self
            .known_images(parsed.iter().filter_map(|(_, b)| match b {
                Ok(InboxBody::Push(p)) => Some(p.digest.clone()),
                _ => None,
            }))
            .await?;
        for (item, body) in parsed {
            let span = tracing::info_span!("inbox_item", id = item.id, source = %item.source, attempt = item.attempts);
            match self
                .events_for(body, &mut known)
                .instrument(span.clone())
                .await
            {
                Ok(events) => {
                    received.push(item.received_at);
                    good.push((Some(item.id), events));
                }
                Err(e) => {
                    let _g = span.enter();
                    self.fail(&item, &e.to_string()).await;
                }
            }
        }
        // Transactions of RECORD_CHUNK items: each reaches the graph as it commits, and the
        // hooks that append events (deployments) share the log's write lock with them.
        let store = self.store.clone();
        let sync = self.sync.clone();
        let recorded = tokio::task::spawn_blocking(move || {
            let mut n = 0;
            for chunk in good.chunks(RECORD_CHUNK) {
                let events = store.record_with(chunk, Durability::Deferred)?;
                n += events.len();
                // Each chunk reaches this process's graph as soon as it commits (the tailer
                // applies it; the worker goes on with the next).
                if let Some(sync) = &sync {
                    sync.submit(events);
                }
            }
            Ok::<_, catalog_schema::StoreError>(n)
        })
        .await??;
        self.metrics
            .events_recorded
            .fetch_add(recorded as u64, Ordering::Relaxed);
        let now = Utc::now();
        for r in received {
            let d = (now - from_micros(r)).to_std().unwrap_or_default();
            self.metrics.worker_latency.observe(d);
        }
        self.metrics
            .worker_items
            .fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }

    async fn fail(&self, item: &InboxItem, error: &str) {
        let park = item.attempts >= self.config.max_attempts;
        let factor = 2u32.saturating_pow((item.attempts - 1).clamp(0, 16) as u32);
        let delay = (self.config.retry_base * factor).min(Duration::from_secs(300));
        let retry_at = to_micros(Utc::now()) + delay.as_micros() as i64;
        self.metrics.worker_failures.fetch_add(1, Ordering::Relaxed);
        if park {
            self.metrics.worker_parked.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                id = item.id,
                attempts = item.attempts,
                error,
                "inbox item parked"
            );
        } else {
            tracing::info!(id = item.id, attempts = item.attempts, retry_in = ?delay, error, "inbox item failed; will retry");
        }
        let store = self.store.clone();
        let (id, error) = (item.id, error.to_string());
        let r =
            tokio::task::spawn_blocking(move || store.inbox_fail(id, &error, retry_at, park)).await;
        if !matches!(r, Ok(Ok(()))) {
            tracing::error!(
                id,
                "could not record an inbox failure; the lease will expire and retry it"
            );
        }
    }

    /// What the log knows of the digests a batch pushes: one read per batch.
    async fn known_images(&self, digests: impl Iterator<Item = String>) -> anyhow::Result<Known> {
        let digests: BTreeSet<String> = digests.collect();
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            let list: Vec<&str> = digests.iter().map(String::as_str).collect();
            let registered = store.image_registrations(&list)?;
            let with_sbom = store.images_with_sbom(&list)?;
            Ok::<_, catalog_schema::StoreError>(Known {
                facts: registered
                    .into_iter()
                    .map(|(d, r)| {
                        (
                            d,
                            ImageContent {
                                media_type: r.media_type,
                                size: r.size,
                                platforms: r.platforms,
                                labels: r.labels,
                                created: r.created,
                            },
                        )
                    })
                    .collect(),
                sbom_sought: with_sbom,
            })
        })
        .await?
        .map_err(anyhow::Error::from)
    }

    async fn events_for(
        &self,
        body: Result<InboxBody, String>,
        known: &mut Known,
    ) -> anyhow::Result<Vec<NewEvent>> {
        Ok(match body.map_err(anyhow::Error::msg)? {
            InboxBody::Push(mut p) => {
                if p.idless {
                    let tag = p.tag.clone().unwrap_or_default();
                    match self
                        .by_state(&p.registry, &p.repository, &p.key, |tags| {
                            tags.get(&tag) != Some(&p.digest)
                        })
                        .await?
                    {
                        Some(key) => p.key = key,
                        None => return Ok(Vec::new()),
                    }
                }
                if let Some(subject) = p.tag.as_deref().and_then(artifact_tag_subject) {
                    // An SBOM (or signature) about an image, not an image.
                    let tag = p.tag.as_deref().unwrap_or_default();
                    let docs = self
                        .registries
                        .sboms_at_tag(&p.registry, &p.repository, tag)
                        .await?;
                    return Ok(sbom_events(&p, &subject, docs));
                }
                // A digest seen before had its SBOMs looked for then.
                let discover = !known.facts.contains_key(&p.digest)
                    && known.sbom_sought.insert(p.digest.clone());
                let facts = self.facts(&p, known).await?;
                let mut events = Vec::new();
                if discover {
                    match self
                        .registries
                        .find_sboms(&p.registry, &p.repository, &p.digest)
                        .await
                    {
                        Ok(docs) => events = sbom_events(&p, &p.digest, docs),
                        // The image stands without it; the SBOM's own push (or the next
                        // reconcile) brings it.
                        Err(e) => {
                            tracing::warn!(digest = %p.digest, error = %e, "SBOM discovery failed")
                        }
                    }
                }
                events.insert(0, push_event(p, facts));
                events
            }
            InboxBody::Delete(mut d) => {
                if d.idless {
                    let (tag, digest) = (d.tag.clone(), d.digest.clone());
                    let changes = move |tags: &BTreeMap<String, String>| match (&digest, &tag) {
                        (Some(digest), _) => tags.values().any(|v| v == digest),
                        (None, Some(tag)) => tags.contains_key(tag),
                        (None, None) => false,
                    };
                    match self
                        .by_state(&d.registry, &d.repository, &d.key, changes)
                        .await?
                    {
                        Some(key) => d.key = key,
                        None => return Ok(Vec::new()),
                    }
                }
                vec![delete_event(d)]
            }
            InboxBody::Record(r) => vec![r.into_event()],
            // Resolved before (process_once); one that is still here failed to resolve.
            InboxBody::TagPush(t) => {
                anyhow::bail!("tag {}:{} was not resolved", t.repository, t.tag)
            }
        })
    }

    /// For an id-less sender's event: `None` where it would change nothing in the repository's
    /// tags (`changes` says, given tag → digest as the log has them), else its key qualified by
    /// the repository's last event. A resend then records nothing at any time, and a tag moved
    /// back to a digest it named before is a new event, as its key differs from the first's.
    /// Two copies in one batch see the same state and share one key, which the log keeps once.
    async fn by_state(
        &self,
        registry: &str,
        repository: &str,
        key: &str,
        changes: impl FnOnce(&BTreeMap<String, String>) -> bool,
    ) -> anyhow::Result<Option<String>> {
        let store = self.store.clone();
        let (registry, repository) = (registry.to_string(), repository.to_string());
        let (tags, last) = tokio::task::spawn_blocking(move || {
            let events = store.repository_events(&registry, &repository)?;
            let mut c = Catalog::new();
            c.apply_all(&events);
            let last = events.last().map_or(0, |e| e.seq);
            Ok::<_, catalog_schema::StoreError>((c.repository_tags(&registry, &repository), last))
        })
        .await??;
        if !changes(&tags) {
            self.metrics
                .worker_unchanged
                .fetch_add(1, Ordering::Relaxed);
            return Ok(None);
        }
        Ok(Some(format!("{key}#{last}")))
    }

    /// The push a tag-only notification is: the digest the registry resolves the tag to now.
    async fn resolve(&self, t: TagPush) -> Result<Push, String> {
        let digest = self
            .registries
            .resolve_tag(&t.registry, &t.repository, &t.tag)
            .await
            .map_err(|e| {
                format!(
                    "cannot resolve {}:{} on {}: {e}",
                    t.repository, t.tag, t.registry
                )
            })?;
        self.metrics
            .registry_fetches
            .fetch_add(1, Ordering::Relaxed);
        Ok(t.resolved(digest))
    }

    /// What the registry says about an image: as the log recorded it when the digest was
    /// seen before, else fetched (once per batch per digest).
    async fn facts(&self, p: &Push, known: &mut Known) -> anyhow::Result<ImageContent> {
        if let Some(f) = known.facts.get(&p.digest) {
            return Ok(f.clone());
        }
        let f = self
            .registries
            .fetch_image(&p.registry, &p.repository, &p.digest)
            .await?;
        self.metrics
            .registry_fetches
            .fetch_add(1, Ordering::Relaxed);
        known.facts.insert(p.digest.clone(), f.clone());
        Ok(f)
    }
}

/// What a batch knows of the digests it pushes, from the log and from its own fetches.
struct Known {
    /// Manifest facts of digests registered before (or fetched by this batch).
    facts: BTreeMap<String, ImageContent>,
    /// Digests whose SBOMs were looked for already (attached, or by this batch).
    sbom_sought: BTreeSet<String>,
}

/// The event a push becomes, with component and version derived by the core's rules.
pub fn push_event(p: Push, f: ImageContent) -> NewEvent {
    let component = identity::component_name(&p.repository, &f.labels);
    let version = identity::version_of(p.tag.as_deref(), &f.labels);
    NewEvent {
        key: p.key,
        occurred_at: p.occurred_at,
        source: p.source,
        actor: p.actor,
        event: Event::ImageRegistered(ImageRegistered {
            registry: p.registry,
            repository: p.repository,
            digest: p.digest,
            tag: p.tag,
            media_type: f.media_type,
            size: p.size.unwrap_or(f.size),
            platforms: f.platforms,
            labels: f.labels,
            created: f.created,
            component,
            version,
            tag_resolved: p.tag_resolved,
        }),
    }
}

/// The events attaching documents found in a registry to their subject. A document that does
/// not parse is logged and skipped: retrying would not change it.
fn sbom_events(p: &Push, subject: &str, docs: Vec<FoundDocument>) -> Vec<NewEvent> {
    let mut out = Vec::new();
    for d in docs {
        if let Some(vex) = vex_hook::vex_document(&d.bytes) {
            match vex_hook::parse(&vex, Some(subject), d.via, p.occurred_at, &p.actor) {
                Ok(parsed) => {
                    for w in &parsed.warnings {
                        tracing::info!(location = %d.location, warning = %w, "VEX in the registry");
                    }
                    if let InboxBody::Record(r) = parsed.item {
                        out.push(r.into_event());
                    }
                }
                Err(e) => {
                    tracing::warn!(location = %d.location, error = %e, "VEX in the registry does not parse; skipped")
                }
            }
            continue;
        }
        match sbom_hook::attach(&d.bytes, Some(subject), d.via) {
            Ok(e) => out.push(NewEvent {
                key: sbom_hook::key(&e.image, &e.document_digest),
                occurred_at: p.occurred_at,
                source: p.source.clone(),
                actor: p.actor.clone(),
                event: Event::SbomAttached(e),
            }),
            Err(e) => {
                tracing::warn!(location = %d.location, error = %e, "SBOM in the registry does not parse; skipped")
            }
        }
    }
    out
}

fn delete_event(d: Delete) -> NewEvent {
    let event = match (d.digest, d.tag) {
        (Some(digest), _) => Event::ManifestDeleted {
            registry: d.registry,
            repository: d.repository,
            digest,
        },
        (None, tag) => Event::TagDeleted {
            registry: d.registry,
            repository: d.repository,
            tag: tag.unwrap_or_default(),
        },
    };
    NewEvent {
        key: d.key,
        occurred_at: d.occurred_at,
        source: d.source,
        actor: d.actor,
        event,
    }
}
