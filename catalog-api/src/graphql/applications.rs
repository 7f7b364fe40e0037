//! Applications, declared dependencies and team contacts: `applications`, `dependencyMap`,
//! `bom`, `diff`, and the mutations that declare what Backstage descriptors do not.

use super::packages::BomPackage;
use super::paging::{CountedConnection, Window};
use super::types::{Application, Component, ComponentVersion, Team};
use super::{app, graph, name_ok, record_now, require};
use crate::auth::{Caller, Scope};
use crate::errors::ApiError;
use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};
use catalog_core::entity::Contacts;
use catalog_core::event::{Event, NewEvent};
use catalog_core::graph::{BomRoot, Direction};
use catalog_core::model;
use chrono::Utc;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum DependencyDirection {
    /// What the component depends on.
    Forward,
    /// What depends on the component.
    Reverse,
}

#[derive(SimpleObject)]
pub struct DependencyNode {
    pub component: String,
    /// Hops from the component asked about (0 for it): the column to draw it in.
    pub layer: i32,
    pub owner: Option<String>,
}

#[derive(SimpleObject)]
pub struct DependencyEdge {
    /// The dependent.
    pub from: String,
    /// What it depends on.
    pub to: String,
}

#[derive(SimpleObject)]
pub struct DependencyMap {
    pub nodes: Vec<DependencyNode>,
    pub edges: Vec<DependencyEdge>,
}

/// What a BOM is of: exactly one of `application` + `number`, `component` + `version`, or
/// `image`.
#[derive(InputObject, Default)]
pub struct BomRootInput {
    pub application: Option<String>,
    pub number: Option<i32>,
    pub component: Option<String>,
    pub version: Option<String>,
    pub image: Option<String>,
}

fn bom_root(field: &str, r: &BomRootInput) -> async_graphql::Result<BomRoot> {
    let bad = |reason: &str| Err(ApiError::bad(field, reason).graphql());
    match (&r.application, &r.component, &r.image) {
        (Some(a), None, None) => {
            if r.version.is_some() {
                return bad("version belongs with component, not application");
            }
            match r.number.map(u32::try_from) {
                Some(Ok(n)) if n >= 1 => Ok(BomRoot::ApplicationVersion {
                    application: a.clone(),
                    number: n,
                }),
                _ => bad("an application needs a version number of 1 or more"),
            }
        }
        (None, Some(c), None) => match (&r.version, r.number) {
            (Some(v), None) => Ok(BomRoot::ComponentVersion {
                component: c.clone(),
                version: v.clone(),
            }),
            _ => bad("a component needs its version (and no number)"),
        },
        (None, None, Some(d)) => {
            if r.version.is_some() || r.number.is_some() {
                return bad("an image takes no version or number");
            }
            if !catalog_ingest::item::valid_digest(d) {
                return bad("image is not a digest (sha256:<64 hex>)");
            }
            Ok(BomRoot::Image(d.clone()))
        }
        _ => {
            bad("give exactly one of application (with number), component (with version), or image")
        }
    }
}

/// Everything a root is made of.
pub struct Bom {
    pub component_versions: Vec<model::ComponentVersion>,
    pub images: Vec<String>,
    pub packages: Vec<model::BomPackage>,
}

#[Object]
impl Bom {
    /// The component versions it is made of.
    #[graphql(complexity = "1 + super::listed(first) * child_complexity")]
    async fn component_versions(
        &self,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CountedConnection<ComponentVersion>> {
        Ok(Window::new("bom:componentVersions", first, after)?
            .cut_with(&self.component_versions, ComponentVersion))
    }

    /// The digests of their images.
    #[graphql(complexity = "1 + super::listed(first) * child_complexity")]
    async fn images(
        &self,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CountedConnection<String>> {
        Ok(Window::new("bom:images", first, after)?.cut_with(&self.images, |d| d))
    }

    /// One entry per package version across the images, by package then version.
    #[graphql(complexity = "1 + super::listed(first) * child_complexity")]
    async fn packages(
        &self,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CountedConnection<BomPackage>> {
        let w = Window::new("bom:root", first, after)?;
        let total = self.packages.len();
        let items: Vec<BomPackage> = self
            .packages
            .iter()
            .skip(w.offset)
            .take(w.first)
            .cloned()
            .map(BomPackage::from)
            .collect();
        let has_next = total > w.offset + items.len();
        Ok(w.connection(items, has_next, total))
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

/// A component or package that differs.
#[derive(SimpleObject)]
pub struct Change {
    /// A component name, or a package (its versionless purl, else its name).
    pub name: String,
    pub kind: ChangeKind,
    /// Versions before (empty when added).
    pub from: Vec<String>,
    /// Versions after (empty when removed).
    pub to: Vec<String>,
}

pub struct BomDiff {
    components: Vec<catalog_core::graph::Change>,
    packages: Vec<catalog_core::graph::Change>,
}

#[Object]
impl BomDiff {
    /// Components added, removed or changed, by name.
    #[graphql(complexity = "1 + super::listed(first) * child_complexity")]
    async fn components(
        &self,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CountedConnection<Change>> {
        Ok(Window::new("diff:components", first, after)?.cut_with(&self.components, change))
    }

    /// Packages added, removed or changed, by name.
    #[graphql(complexity = "1 + super::listed(first) * child_complexity")]
    async fn packages(
        &self,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CountedConnection<Change>> {
        Ok(Window::new("diff:packages", first, after)?.cut_with(&self.packages, change))
    }
}

fn change(c: catalog_core::graph::Change) -> Change {
    Change {
        kind: match c.kind() {
            "added" => ChangeKind::Added,
            "removed" => ChangeKind::Removed,
            _ => ChangeKind::Changed,
        },
        name: c.name,
        from: c.from,
        to: c.to,
    }
}

#[derive(Default)]
pub struct ApplicationQuery;

#[Object]
impl ApplicationQuery {
    /// Every application, by name.
    async fn applications(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Application>> {
        Ok(graph(ctx)?
            .applications()
            .into_iter()
            .map(Application)
            .collect())
    }

    async fn application(
        &self,
        ctx: &Context<'_>,
        name: String,
    ) -> async_graphql::Result<Option<Application>> {
        Ok(graph(ctx)?.application(&name).map(Application))
    }

    /// The components a component depends on (FORWARD) or that depend on it (REVERSE), up to
    /// `depth` hops (1-20), each with its layer, and every edge between them. Null for an
    /// unknown component.
    async fn dependency_map(
        &self,
        ctx: &Context<'_>,
        component: String,
        #[graphql(default_with = "DependencyDirection::Forward")] direction: DependencyDirection,
        #[graphql(default = 3)] depth: i32,
    ) -> async_graphql::Result<Option<DependencyMap>> {
        if !(1..=20).contains(&depth) {
            return Err(
                ApiError::bad("depth", format!("must be between 1 and 20, got {depth}")).graphql(),
            );
        }
        let dir = match direction {
            DependencyDirection::Forward => Direction::Forward,
            DependencyDirection::Reverse => Direction::Reverse,
        };
        let m = graph(ctx)?.dependency_map(&component, dir, depth as u32);
        Ok(m.map(|m| DependencyMap {
            nodes: m
                .nodes
                .into_iter()
                .map(|n| DependencyNode {
                    component: n.component,
                    layer: n.layer as i32,
                    owner: n.owner,
                })
                .collect(),
            edges: m
                .edges
                .into_iter()
                .map(|e| DependencyEdge {
                    from: e.from,
                    to: e.to,
                })
                .collect(),
        }))
    }

    /// The bill of materials of an application version, a component version or an image.
    /// Null when the root is unknown.
    async fn bom(&self, ctx: &Context<'_>, of: BomRootInput) -> async_graphql::Result<Option<Bom>> {
        let root = bom_root("of", &of)?;
        let b = graph(ctx)?.bom(&root);
        Ok(b.map(|b| Bom {
            component_versions: b.component_versions,
            images: b.images,
            packages: b.packages,
        }))
    }

    /// What changed between two BOM roots (two application versions, or any two roots).
    /// Null when either is unknown.
    async fn diff(
        &self,
        ctx: &Context<'_>,
        from: BomRootInput,
        to: BomRootInput,
    ) -> async_graphql::Result<Option<BomDiff>> {
        let a = bom_root("from", &from)?;
        let b = bom_root("to", &to)?;
        Ok(graph(ctx)?.diff(&a, &b).map(|d| BomDiff {
            components: d.components,
            packages: d.packages,
        }))
    }
}

#[derive(Default)]
pub struct ApplicationMutation;

fn contact_ok(field: &str, v: Option<String>) -> async_graphql::Result<Option<String>> {
    match v.map(|s| s.trim().to_string()) {
        Some(s) if s.is_empty() => Ok(None),
        Some(s) if s.len() > 500 || s.chars().any(char::is_control) => {
            Err(ApiError::bad(field, "must be at most 500 printable characters").graphql())
        }
        other => Ok(other),
    }
}

/// Records one API event and waits until the graph has it.
async fn record(
    ctx: &Context<'_>,
    caller: &Caller,
    key: String,
    event: Event,
) -> async_graphql::Result<()> {
    let a = app(ctx)?;
    let ev = NewEvent {
        key,
        occurred_at: Utc::now(),
        source: "api".into(),
        actor: caller.name(),
        event,
    };
    record_now(a, ev).await?;
    Ok(())
}

fn stamp() -> i64 {
    Utc::now().timestamp_micros()
}

#[Object]
impl ApplicationMutation {
    /// Declares that `from` depends on `to` at run time (catalog scope). The later of this and
    /// `from`'s Backstage descriptor decides.
    async fn declare_dependency(
        &self,
        ctx: &Context<'_>,
        from: String,
        to: String,
    ) -> async_graphql::Result<Component> {
        self.dependency(ctx, from, to, true).await
    }

    /// Removes a dependency, whoever declared it (catalog scope), until a later descriptor or
    /// declaration says otherwise.
    async fn remove_dependency(
        &self,
        ctx: &Context<'_>,
        from: String,
        to: String,
    ) -> async_graphql::Result<Component> {
        self.dependency(ctx, from, to, false).await
    }

    /// Sets how to reach a team (catalog scope); absent fields are cleared.
    async fn set_team_contacts(
        &self,
        ctx: &Context<'_>,
        team: String,
        email: Option<String>,
        chat: Option<String>,
        pager: Option<String>,
    ) -> async_graphql::Result<Team> {
        let caller = require(ctx, Scope::Catalog)?;
        let team = name_ok("team", &team)?;
        let contacts = Contacts {
            email: contact_ok("email", email)?,
            chat: contact_ok("chat", chat)?,
            pager: contact_ok("pager", pager)?,
        };
        if let Some(e) = &contacts.email {
            if !e.contains('@') {
                return Err(
                    ApiError::bad("email", format!("{e:?} is not an email address")).graphql(),
                );
            }
        }
        let key = format!("api:contacts:{team}:{}", stamp());
        record(
            ctx,
            &caller,
            key,
            Event::TeamContacts {
                team: team.clone(),
                contacts,
            },
        )
        .await?;
        graph(ctx)?.team(&team).map(Team).ok_or_else(|| {
            ApiError::Internal("contacts recorded but team missing".into()).graphql()
        })
    }

    /// Declares an application and its member components (catalog scope); replaces the members
    /// an earlier declaration listed. Components whose Backstage descriptor names the
    /// application as their system stay members.
    async fn declare_application(
        &self,
        ctx: &Context<'_>,
        name: String,
        components: Vec<String>,
        owner: Option<String>,
    ) -> async_graphql::Result<Application> {
        let caller = require(ctx, Scope::Catalog)?;
        let name = name_ok("name", &name)?;
        if components.len() > 10_000 {
            return Err(ApiError::bad("components", "at most 10,000 components").graphql());
        }
        let mut members = Vec::with_capacity(components.len());
        for (i, c) in components.iter().enumerate() {
            members.push(name_ok(&format!("components[{i}]"), c)?);
        }
        let owner = owner.map(|o| name_ok("owner", &o)).transpose()?;
        let key = format!("api:application:{name}:{}", stamp());
        record(
            ctx,
            &caller,
            key,
            Event::ApplicationDeclared {
                application: name.clone(),
                components: members,
                owner,
            },
        )
        .await?;
        graph(ctx)?
            .application(&name)
            .map(Application)
            .ok_or_else(|| ApiError::Internal("application recorded but missing".into()).graphql())
    }
}

impl ApplicationMutation {
    async fn dependency(
        &self,
        ctx: &Context<'_>,
        from: String,
        to: String,
        present: bool,
    ) -> async_graphql::Result<Component> {
        let caller = require(ctx, Scope::Catalog)?;
        let from = name_ok("from", &from)?;
        let to = name_ok("to", &to)?;
        if from == to {
            return Err(ApiError::bad("to", "a component cannot depend on itself").graphql());
        }
        let verb = if present { "declared" } else { "removed" };
        let key = format!("api:dependency:{verb}:{from}:{to}:{}", stamp());
        let event = if present {
            Event::DependencyDeclared {
                from: from.clone(),
                to,
            }
        } else {
            Event::DependencyRemoved {
                from: from.clone(),
                to,
            }
        };
        record(ctx, &caller, key, event).await?;
        graph(ctx)?.component(&from).map(Component).ok_or_else(|| {
            ApiError::Internal("dependency recorded but component missing".into()).graphql()
        })
    }
}
