//! Reconcile: a registry keeps undelivered notifications only in memory, so a periodic pass
//! walks each configured registry (`_catalog`, then `tags/list` and the manifest digest of
//! each tag) and queues what the catalog missed: tags it lacks or holds at another digest,
//! and tags it holds that the registry no longer has.
//!
//! Where `_catalog` is refused (GHCR, Docker Hub, ECR, Quay answer 401/403/404), the pass
//! walks the repositories the log knows on that registry instead: it finds no new
//! repository there, but tags deleted from a registry that sends no delete event go.
//!
//! Idempotent: an observation's key names the tag state it corrects (the time that state was
//! set), so two passes, or two replicas, that see the same difference queue the same key.
//!
//! It needs no graph: the tags the catalog holds for a repository are what catalog-core's
//! own rules make of that repository's events, which the log hands over by repository.

use crate::inbox::InboxWriter;
use crate::item::{Delete, InboxBody, Push};
use crate::metrics::Metrics;
use crate::registry::Registries;
use catalog_core::Catalog;
use catalog_schema::Store;
use chrono::Utc;
use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub repositories: usize,
    pub tags: usize,
    pub queued: usize,
}

pub struct Reconciler {
    pub registries: Arc<Registries>,
    pub store: Store,
    pub inbox: InboxWriter,
    pub metrics: Arc<Metrics>,
}

impl Reconciler {
    /// Runs a pass over every registry now, then every `interval`.
    pub async fn run(self: Arc<Self>, interval: Duration) {
        loop {
            for host in self.registries.hosts() {
                match self.reconcile(&host).await {
                    Ok(r) => {
                        tracing::info!(registry = %host, repositories = r.repositories, tags = r.tags, queued = r.queued, "reconciled")
                    }
                    Err(e) => {
                        tracing::warn!(registry = %host, error = %e, "reconcile failed; next pass will retry")
                    }
                }
            }
            tokio::time::sleep(interval).await;
        }
    }

    /// One pass over one registry.
    #[tracing::instrument(skip_all, fields(registry = %host))]
    pub async fn reconcile(&self, host: &str) -> anyhow::Result<Report> {
        self.metrics.reconcile_runs.fetch_add(1, Ordering::Relaxed);
        let mut report = Report::default();
        let listed = match self.registries.repositories(host).await {
            Ok(l) => Some(l),
            Err(e) if e.is_refusal() => {
                tracing::debug!(registry = %host, error = %e, "_catalog refused; walking the repositories the catalog knows");
                None
            }
            Err(e) => return Err(e.into()),
        };
        let known = self
            .blocking({
                let host = host.to_string();
                move |s| s.repositories(&host)
            })
            .await?;
        let repos: BTreeSet<String> = listed.iter().flatten().cloned().chain(known).collect();
        let mut items = Vec::new();
        for repo in &repos {
            report.repositories += 1;
            // A repository `_catalog` no longer lists is gone; without `_catalog`, ask it.
            let tags = if listed.as_ref().is_none_or(|l| l.contains(repo)) {
                match self.registries.tags(host, repo).await {
                    Ok(t) => t,
                    // A repository whose every manifest was deleted answers NAME_UNKNOWN.
                    Err(e) if e.is_name_unknown() => Vec::new(),
                    Err(e) => return Err(e.into()),
                }
            } else {
                Vec::new()
            };
            // The repository as the log says it is, folded by the core's rules.
            let events = self
                .blocking({
                    let (host, repo) = (host.to_string(), repo.clone());
                    move |s| s.repository_events(&host, &repo)
                })
                .await?;
            let mut c = Catalog::new();
            c.apply_all(&events);
            let (have, since) = {
                let have = c.repository_tags(host, repo);
                let since: Vec<(String, i64)> = have
                    .keys()
                    .chain(tags.iter())
                    .map(|t| {
                        (
                            t.clone(),
                            c.tag_since(host, repo, t)
                                .map_or(0, |s| s.timestamp_micros()),
                        )
                    })
                    .collect();
                (
                    have,
                    since
                        .into_iter()
                        .collect::<std::collections::HashMap<_, _>>(),
                )
            };
            let now = Utc::now();
            for tag in &tags {
                report.tags += 1;
                // Artifact tags (signatures, SBOMs) are not image tags: an SBOM is taken once
                // its subject has one; signatures never.
                if let Some(subject) = crate::registry::artifact_tag_subject(tag) {
                    let done = tag.ends_with(".sig")
                        || self
                            .blocking(move |s| s.images_with_sbom(&[subject.as_str()]))
                            .await?
                            .len()
                            == 1;
                    if done {
                        continue;
                    }
                }
                let digest = self.registries.resolve_tag(host, repo, tag).await?;
                if have.get(tag) == Some(&digest) {
                    continue;
                }
                let s = since.get(tag).copied().unwrap_or(0);
                items.push(InboxBody::Push(Push {
                    key: format!("reconcile:{host}/{repo}:{tag}@{digest}^{s}"),
                    registry: host.to_string(),
                    repository: repo.clone(),
                    digest,
                    tag: Some(tag.clone()),
                    media_type: None,
                    size: None,
                    occurred_at: now,
                    source: "reconcile".into(),
                    actor: "reconcile".into(),
                    tag_resolved: false,
                    idless: false,
                }));
            }
            for (tag, digest) in &have {
                if tags.contains(tag) {
                    continue;
                }
                let s = since.get(tag).copied().unwrap_or(0);
                items.push(InboxBody::Delete(Delete {
                    key: format!("reconcile:{host}/{repo}:{tag}-{digest}^{s}"),
                    registry: host.to_string(),
                    repository: repo.clone(),
                    digest: None,
                    tag: Some(tag.clone()),
                    occurred_at: now,
                    source: "reconcile".into(),
                    actor: "reconcile".into(),
                    idless: false,
                }));
            }
        }
        report.queued = items.len();
        self.metrics
            .reconcile_registered
            .fetch_add(items.len() as u64, Ordering::Relaxed);
        self.inbox.append("reconcile", &items).await?;
        Ok(report)
    }

    /// A store read off the async threads.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> catalog_schema::StoreResult<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let store = self.store.clone();
        Ok(tokio::task::spawn_blocking(move || f(&store)).await??)
    }
}
