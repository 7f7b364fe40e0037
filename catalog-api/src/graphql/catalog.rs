//! Components, versions, images and teams: reads from the graph; `setOwner` and
//! `registerImage` write through the inbox/event log like every other source.

use super::types::{Component, Image, Team};
use super::{app, blocking, graph, name_ok, page_size, require};
use crate::auth::Scope;
use crate::errors::ApiError;
use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, Object, SimpleObject};
use catalog_core::event::{Event, NewEvent};
use catalog_core::identity::canonical_registry;
use catalog_ingest::item::{valid_digest, valid_repository, valid_tag, InboxBody, Push};
use chrono::Utc;

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
    ) -> async_graphql::Result<Connection<String, Component, EmptyFields, EmptyFields>> {
        let first = page_size(first)?;
        let c = graph(ctx)?;
        let page = c.components(&prefix, owner.as_deref(), first, after.as_deref());
        let mut conn = Connection::new(after.is_some(), page.has_next);
        conn.edges.extend(
            page.items
                .into_iter()
                .map(|i| Edge::new(i.name.clone(), Component(i))),
        );
        Ok(conn)
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
    ) -> async_graphql::Result<Connection<String, Team, EmptyFields, EmptyFields>> {
        let first = page_size(first)?;
        let c = graph(ctx)?;
        let page = c.teams(first, after.as_deref());
        let mut conn = Connection::new(after.is_some(), page.has_next);
        conn.edges.extend(
            page.items
                .into_iter()
                .map(|t| Edge::new(t.name.clone(), Team(t))),
        );
        Ok(conn)
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
        let (store, sync) = (a.store.clone(), a.sync.clone());
        blocking(move || {
            store.record(&[(None, vec![ev])])?;
            sync.sync()
        })
        .await?;
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
