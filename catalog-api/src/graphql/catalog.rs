//! Components, versions, images and teams: reads from the graph; `setOwner` and
//! `registerImage` write through the inbox/event log like every other source.

use super::paging::{CountedConnection, KeyWindow};
use super::types::{Component, Image, Team};
use super::{app, graph, name_ok, record_now, require};
use crate::auth::Scope;
use crate::errors::ApiError;
use async_graphql::{Context, Enum, Object, SimpleObject};
use catalog_core::event::{Event, NewEvent};
use catalog_core::identity::canonical_registry;
use catalog_core::purl::Purl;
use catalog_core::vex::{
    VexDocument, VexProduct, VexStatement, VexStatus as CoreVexStatus, JUSTIFICATIONS,
};
use catalog_ingest::item::{valid_digest, valid_repository, valid_tag, InboxBody, Push};
use chrono::{DateTime, Utc};

#[derive(Default)]
pub struct CatalogQuery;

#[Object]
impl CatalogQuery {
    /// Components by name prefix (optionally only those a team owns), by name, Relay-paginated.
    #[graphql(complexity = "1 + super::listed(first) * child_complexity")]
    async fn components(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] prefix: String,
        owner: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CountedConnection<Component>> {
        let w = KeyWindow::new("components", first, after)?;
        let c = graph(ctx)?;
        let page = c.components(&prefix, owner.as_deref(), w.size + 1, w.key.as_deref());
        let total = c.component_count(&prefix, owner.as_deref());
        let items = page
            .items
            .into_iter()
            .map(|i| (i.name.clone(), Component(i)))
            .collect();
        Ok(w.connection(items, total))
    }

    /// A component by its exact name.
    async fn component(
        &self,
        ctx: &Context<'_>,
        name: String,
    ) -> async_graphql::Result<Option<Component>> {
        let c = graph(ctx)?;
        Ok(c.component(&name).map(Component))
    }

    /// An image by digest (`sha256:...`).
    async fn image(
        &self,
        ctx: &Context<'_>,
        digest: String,
    ) -> async_graphql::Result<Option<Image>> {
        let c = graph(ctx)?;
        Ok(c.image(&digest).map(Image))
    }

    /// Teams, by name, Relay-paginated.
    #[graphql(complexity = "1 + super::listed(first) * child_complexity")]
    async fn teams(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CountedConnection<Team>> {
        let w = KeyWindow::new("teams", first, after)?;
        let c = graph(ctx)?;
        let page = c.teams(w.size + 1, w.key.as_deref());
        let items = page
            .items
            .into_iter()
            .map(|t| (t.name.clone(), Team(t)))
            .collect();
        Ok(w.connection(items, c.team_count()))
    }

    /// A team by its exact name, with the components it owns.
    async fn team(&self, ctx: &Context<'_>, name: String) -> async_graphql::Result<Option<Team>> {
        let c = graph(ctx)?;
        Ok(c.team(&name).map(Team))
    }
}

#[derive(Default)]
pub struct CatalogMutation;

#[derive(SimpleObject)]
pub struct RegisterImagePayload {
    /// The digest the tag resolved to (or the one given).
    pub digest: String,
    /// The natural key of the registration: sending the same one again changes nothing.
    pub key: String,
}

#[Object]
impl CatalogMutation {
    /// Makes a team the owner of a component (catalog scope). An explicit owner beats the
    /// image label `dev.catalog.owner` from then on.
    async fn set_owner(
        &self,
        ctx: &Context<'_>,
        component: String,
        team: String,
    ) -> async_graphql::Result<Component> {
        let caller = require(ctx, Scope::Catalog)?;
        name_ok("component", &component)?;
        name_ok("team", &team)?;
        let a = app(ctx)?;
        let now = Utc::now();
        let ev = NewEvent {
            key: format!("api:owner:{component}:{team}:{}", now.timestamp_micros()),
            occurred_at: now,
            source: "api".into(),
            actor: caller.name(),
            event: Event::OwnerSet {
                component: component.trim().to_string(),
                team: team.trim().to_string(),
                via: "api".into(),
            },
        };
        record_now(a, ev).await?;
        let c = graph(ctx)?;
        c.component(component.trim()).map(Component).ok_or_else(|| {
            ApiError::Internal("owner recorded but component missing".into()).graphql()
        })
    }

    /// Registers an image pushed to a registry that cannot send webhooks (ingest scope).
    /// Without `digest`, the tag is resolved against the registry now. The image is enriched
    /// and recorded by the worker, like a notification.
    async fn register_image(
        &self,
        ctx: &Context<'_>,
        registry: String,
        repository: String,
        tag: String,
        digest: Option<String>,
    ) -> async_graphql::Result<RegisterImagePayload> {
        let caller = require(ctx, Scope::Ingest)?;
        let a = app(ctx)?;
        // `index.docker.io` and `Docker.io` are `docker.io`, as the configured hosts are named.
        let registry = canonical_registry(&registry)
            .map_err(|e| ApiError::bad("registry", e.to_string()).graphql())?;
        if !a.registries.is_configured(&registry) {
            return Err(ApiError::bad(
                "registry",
                format!(
                    "{registry:?} is not configured (start with --registry http[s]://{registry})"
                ),
            )
            .graphql());
        }
        if !valid_repository(&repository) {
            return Err(ApiError::bad(
                "repository",
                format!("{repository:?} is not a repository name"),
            )
            .graphql());
        }
        if !valid_tag(&tag) {
            return Err(ApiError::bad("tag", format!("{tag:?} is not a valid tag")).graphql());
        }
        let digest = match digest {
            Some(d) if !valid_digest(&d) => {
                return Err(
                    ApiError::bad("digest", format!("{d:?} is not a sha256/sha512 digest"))
                        .graphql(),
                )
            }
            Some(d) => d,
            None => a
                .registries
                .resolve_tag(&registry, &repository, &tag)
                .await
                .map_err(|e| {
                    ApiError::bad(
                        "tag",
                        format!("cannot resolve {repository}:{tag} on {registry}: {e}"),
                    )
                    .graphql()
                })?,
        };
        let since = a
            .catalog
            .read()
            .ok()
            .and_then(|c| c.tag_since(&registry, &repository, &tag))
            .map_or(0, |s| s.timestamp_micros());
        let key = format!("api:{registry}/{repository}:{tag}@{digest}^{since}");
        let item = InboxBody::Push(Push {
            key: key.clone(),
            registry,
            repository,
            digest: digest.clone(),
            tag: Some(tag),
            media_type: None,
            size: None,
            occurred_at: Utc::now(),
            source: "api".into(),
            actor: caller.name(),
            tag_resolved: false,
            idless: false,
        });
        a.inbox
            .append("api", &[item])
            .await
            .map_err(|e| ApiError::from(e).graphql())?;
        Ok(RegisterImagePayload { digest, key })
    }

    /// Records a team's own VEX statement (catalog scope) about exactly one product: `image`
    /// (a digest), `component` with `version`, or `purl` (a package, with or without its
    /// version), optionally narrowed to `subcomponents` (purls inside it). `notAffected` needs
    /// a `justification` (an OpenVEX one) or an `impact`; a suppression may end at `until`.
    /// It supersedes earlier statements about the same product and vulnerability. Returns the
    /// statement's document id.
    #[allow(clippy::too_many_arguments)]
    async fn record_vex_statement(
        &self,
        ctx: &Context<'_>,
        vulnerability: String,
        image: Option<String>,
        component: Option<String>,
        version: Option<String>,
        purl: Option<String>,
        #[graphql(default)] subcomponents: Vec<String>,
        status: VexStatus,
        justification: Option<String>,
        impact: Option<String>,
        action: Option<String>,
        until: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<String> {
        let caller = require(ctx, Scope::Catalog)?;
        let vulnerability = name_ok("vulnerability", &vulnerability)?;
        let product = match (image, component, version, purl) {
            (Some(d), None, None, None) => {
                if !valid_digest(d.trim()) {
                    return Err(ApiError::bad("image", "not a digest (sha256:<64 hex>)").graphql());
                }
                VexProduct::Image {
                    digest: d.trim().to_string(),
                }
            }
            (None, Some(c), Some(v), None) => VexProduct::ComponentVersion {
                component: name_ok("component", &c)?,
                version: name_ok("version", &v)?,
            },
            (None, None, None, Some(p)) => VexProduct::Package {
                purl: Purl::parse(p.trim())
                    .map_err(|e| ApiError::bad("purl", e.to_string()).graphql())?
                    .to_string(),
            },
            _ => {
                return Err(ApiError::bad(
                    "image",
                    "give exactly one product: `image`, `component` with `version`, or `purl`",
                )
                .graphql())
            }
        };
        let mut subs = Vec::with_capacity(subcomponents.len());
        for (i, s) in subcomponents.iter().enumerate() {
            let p = Purl::parse(s.trim()).map_err(|e| {
                ApiError::bad(format!("subcomponents[{i}]"), e.to_string()).graphql()
            })?;
            subs.push(p.to_string());
        }
        let text = |field: &str, v: Option<String>| -> async_graphql::Result<Option<String>> {
            match v.as_deref().map(str::trim) {
                None | Some("") => Ok(None),
                Some(t) if t.len() > 2000 || t.chars().any(char::is_control) => {
                    Err(ApiError::bad(field, "must be at most 2000 printable characters").graphql())
                }
                Some(t) => Ok(Some(t.to_string())),
            }
        };
        let now = Utc::now();
        let statement = VexStatement {
            vulnerability,
            aliases: Vec::new(),
            products: vec![product],
            subcomponents: subs,
            status: status.into(),
            justification: text("justification", justification)?,
            impact: text("impact", impact)?,
            action: text("action", action)?,
            timestamp: now,
            until,
        };
        if let Some(j) = &statement.justification {
            if !JUSTIFICATIONS.contains(&j.as_str()) {
                return Err(ApiError::bad(
                    "justification",
                    format!("one of {}", JUSTIFICATIONS.join(", ")),
                )
                .graphql());
            }
        }
        if statement.status == CoreVexStatus::NotAffected
            && statement.justification.is_none()
            && statement.impact.is_none()
        {
            return Err(ApiError::bad(
                "justification",
                "NOT_AFFECTED needs a justification or an impact",
            )
            .graphql());
        }
        if let Some(u) = until {
            if !statement.status.suppresses() {
                return Err(ApiError::bad(
                    "until",
                    "only a suppression (NOT_AFFECTED, FIXED) expires",
                )
                .graphql());
            }
            if u <= now {
                return Err(ApiError::bad("until", "must be in the future").graphql());
            }
        }
        // Unique per call: each call is a statement of its own.
        let id = format!(
            "api:{}:{}",
            caller.name(),
            now.timestamp_nanos_opt().unwrap_or_default()
        );
        let ev = NewEvent {
            key: format!("vex:{id}"),
            occurred_at: now,
            source: "api".into(),
            actor: caller.name(),
            event: Event::VexRecorded(Box::new(VexDocument {
                id: id.clone(),
                format: "api".into(),
                via: "api".into(),
                author: caller.name(),
                statements: vec![statement],
            })),
        };
        let a = app(ctx)?;
        record_now(a, ev).await?;
        Ok(id)
    }
}

/// A VEX status.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum VexStatus {
    /// Not affected: needs a justification or an impact; suppresses the match.
    NotAffected,
    /// Affected: the match counts.
    Affected,
    /// Fixed in this product: suppresses the match.
    Fixed,
    /// Being looked at: the match counts.
    UnderInvestigation,
}

impl From<VexStatus> for CoreVexStatus {
    fn from(s: VexStatus) -> CoreVexStatus {
        match s {
            VexStatus::NotAffected => CoreVexStatus::NotAffected,
            VexStatus::Affected => CoreVexStatus::Affected,
            VexStatus::Fixed => CoreVexStatus::Fixed,
            VexStatus::UnderInvestigation => CoreVexStatus::UnderInvestigation,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(name_ok("team", "payments").is_ok());
        assert!(name_ok("team", " ").is_err());
        assert!(name_ok("team", "a\nb").is_err());
    }
}
