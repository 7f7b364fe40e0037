//! `blastRadius`: everything a package, image, component or component version reaches, in
//! one request. The walk runs once per query; each group's page is materialized on demand.

use super::graph;
use super::inventory::Deployment;
use super::packages::package_target;
use super::paging::{CountedConnection, Window};
use super::types::{Application, ApplicationVersion, Component, ComponentVersion, Team};
use crate::errors::ApiError;
use async_graphql::{Context, InputObject, Object, SimpleObject};
use catalog_core::graph::{BlastGroup, BlastRadius as CoreRadius, BlastTarget, BlastThing};

/// What to start from: exactly one of `purl` (with an optional `vers` range when the purl
/// has no version), `image`, `component`, `component` + `version`, or `vulnerability`.
#[derive(InputObject, Default)]
pub struct BlastTargetInput {
    /// A package (`pkg:maven/org.apache.logging.log4j/log4j-core`: every version) or a
    /// package version (`...@2.14.1`).
    pub purl: Option<String>,
    /// A `vers:` range of the versionless `purl`, e.g. `vers:maven/>=2.0.0|<2.15.0`.
    pub vers: Option<String>,
    /// An image digest.
    pub image: Option<String>,
    /// A component; with `version`, that component version.
    pub component: Option<String>,
    pub version: Option<String>,
    /// A vulnerability by id or alias (`CVE-2021-44228`): the package versions its ranges
    /// contain and everything they reach, except images where a VEX statement says the match
    /// is not affected (or fixed).
    pub vulnerability: Option<String>,
}

fn target(of: &BlastTargetInput) -> async_graphql::Result<BlastTarget> {
    let given = [
        of.purl.is_some(),
        of.image.is_some(),
        of.component.is_some(),
        of.vulnerability.is_some(),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    if given != 1 {
        return Err(ApiError::bad(
            "of",
            "give exactly one of purl (optionally with vers), image, component (optionally with version), or vulnerability",
        )
        .graphql());
    }
    if of.vers.is_some() && of.purl.is_none() {
        return Err(ApiError::bad("of.vers", "a range needs a versionless purl").graphql());
    }
    if of.version.is_some() && of.component.is_none() {
        return Err(ApiError::bad("of.version", "a version needs a component").graphql());
    }
    if let Some(p) = &of.purl {
        let (purl, range) = package_target("of.purl", p, "of.vers", of.vers.as_deref())?;
        return Ok(BlastTarget::Package { purl, range });
    }
    if let Some(id) = &of.vulnerability {
        let id = id.trim();
        if id.is_empty() || id.len() > 200 {
            return Err(ApiError::bad("of.vulnerability", "1-200 characters").graphql());
        }
        return Ok(BlastTarget::Vulnerability(id.to_string()));
    }
    if let Some(d) = &of.image {
        if !catalog_ingest::item::valid_digest(d) {
            return Err(ApiError::bad(
                "of.image",
                format!("{d:?} is not a digest (sha256:<64 hex>)"),
            )
            .graphql());
        }
        return Ok(BlastTarget::Image(d.clone()));
    }
    let component = of.component.clone().unwrap_or_default();
    Ok(match &of.version {
        Some(v) => BlastTarget::ComponentVersion {
            component,
            version: v.clone(),
        },
        None => BlastTarget::Component(component),
    })
}

/// One hop of an explanation.
#[derive(SimpleObject, Clone)]
pub struct PathStep {
    /// `package`, `image`, `componentVersion`, `component`, `application`,
    /// `applicationVersion`, `deployment` or `team`.
    pub kind: String,
    pub name: String,
}

/// Deployments affected in one place.
#[derive(SimpleObject)]
pub struct LocationCount {
    pub environment: Option<String>,
    pub cluster: String,
    pub namespace: String,
    pub deployments: i32,
}

#[derive(SimpleObject)]
pub struct BlastTotals {
    pub images: i32,
    pub component_versions: i32,
    pub components: i32,
    pub applications: i32,
    pub application_versions: i32,
    pub deployments: i32,
    /// Teams to notify.
    pub owners: i32,
    pub clusters: i32,
    pub environments: i32,
    /// Where the affected deployments are, by environment, cluster and namespace.
    pub by_location: Vec<LocationCount>,
}

/// One affected thing: which one is set depends on the group it was listed in.
pub struct BlastItem(catalog_core::graph::BlastItem);

#[Object]
impl BlastItem {
    /// Hops from the target.
    async fn depth(&self) -> i32 {
        self.0.depth as i32
    }

    /// One shortest path explaining why: the target first, this item last.
    async fn path(&self) -> Vec<PathStep> {
        self.0
            .path
            .iter()
            .map(|s| PathStep {
                kind: s.kind.to_string(),
                name: s.name.clone(),
            })
            .collect()
    }

    /// A short name for the item (digest, `component@version`, cluster/namespace/workload...).
    async fn name(&self) -> String {
        self.0
            .path
            .last()
            .map(|s| s.name.clone())
            .unwrap_or_default()
    }

    async fn image_digest(&self) -> Option<&str> {
        match &self.0.thing {
            BlastThing::Image { digest, .. } => Some(digest),
            _ => None,
        }
    }

    /// For images of a package target: how deep in the image's SBOM the package sits.
    async fn package_depth(&self) -> Option<i32> {
        match &self.0.thing {
            BlastThing::Image { package_depth, .. } => package_depth.map(|d| d as i32),
            _ => None,
        }
    }

    async fn component_version(&self) -> Option<ComponentVersion> {
        match &self.0.thing {
            BlastThing::ComponentVersion(v) => Some(ComponentVersion(v.clone())),
            _ => None,
        }
    }

    async fn component(&self) -> Option<Component> {
        match &self.0.thing {
            BlastThing::Component { component, .. } => Some(Component(component.clone())),
            _ => None,
        }
    }

    /// For components: true when reached because it depends on an affected component.
    async fn dependent(&self) -> Option<bool> {
        match &self.0.thing {
            BlastThing::Component { dependent, .. } => Some(*dependent),
            _ => None,
        }
    }

    async fn application(&self) -> Option<Application> {
        match &self.0.thing {
            BlastThing::Application(a) => Some(Application(a.clone())),
            _ => None,
        }
    }

    async fn application_version(&self) -> Option<ApplicationVersion> {
        match &self.0.thing {
            BlastThing::ApplicationVersion(a) => Some(ApplicationVersion(a.clone())),
            _ => None,
        }
    }

    async fn deployment(&self) -> Option<Deployment> {
        match &self.0.thing {
            BlastThing::Deployment(d) => Some(Deployment::from(d.clone())),
            _ => None,
        }
    }

    /// For owners: the team, with its contacts.
    async fn team(&self) -> Option<Team> {
        match &self.0.thing {
            BlastThing::Owner(t) => Some(Team(t.clone())),
            _ => None,
        }
    }
}

pub struct BlastRadius(CoreRadius);

impl BlastRadius {
    fn page(
        &self,
        ctx: &Context<'_>,
        group: BlastGroup,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CountedConnection<BlastItem>> {
        let w = Window::new(format!("blast:{group:?}"), first, after)?;
        let page = graph(ctx)?.blast_page(&self.0, group, w.first, w.offset);
        let items = page.items.into_iter().map(BlastItem).collect();
        Ok(w.connection(items, page.has_next, self.0.total(group)))
    }
}

#[Object]
impl BlastRadius {
    /// How many of each are affected, and where the deployments are: read this first.
    async fn totals(&self) -> BlastTotals {
        let t = self.0.totals();
        let clusters: std::collections::BTreeSet<&String> =
            t.by_location.keys().map(|(_, c, _)| c).collect();
        let environments: std::collections::BTreeSet<&String> = t
            .by_location
            .keys()
            .filter_map(|(e, _, _)| e.as_ref())
            .collect();
        BlastTotals {
            images: t.images as i32,
            component_versions: t.component_versions as i32,
            components: t.components as i32,
            applications: t.applications as i32,
            application_versions: t.application_versions as i32,
            deployments: t.deployments as i32,
            owners: t.owners as i32,
            clusters: clusters.len() as i32,
            environments: environments.len() as i32,
            by_location: t
                .by_location
                .iter()
                .map(|((e, c, n), k)| LocationCount {
                    environment: e.clone(),
                    cluster: c.clone(),
                    namespace: n.clone(),
                    deployments: *k as i32,
                })
                .collect(),
        }
    }

    /// The depth bound it was computed with (null: unbounded).
    async fn max_depth(&self) -> Option<i32> {
        self.0.max_depth.map(|d| d as i32)
    }

    /// Affected images, nearest first.
    #[graphql(complexity = "1 + super::listed(first) * child_complexity")]
    async fn images(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CountedConnection<BlastItem>> {
        self.page(ctx, BlastGroup::Images, first, after)
    }

    #[graphql(complexity = "1 + super::listed(first) * child_complexity")]
    async fn component_versions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CountedConnection<BlastItem>> {
        self.page(ctx, BlastGroup::ComponentVersions, first, after)
    }

    /// Affected components, including those that depend on one (`dependent: true`).
    #[graphql(complexity = "1 + super::listed(first) * child_complexity")]
    async fn components(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CountedConnection<BlastItem>> {
        self.page(ctx, BlastGroup::Components, first, after)
    }

    #[graphql(complexity = "1 + super::listed(first) * child_complexity")]
    async fn applications(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CountedConnection<BlastItem>> {
        self.page(ctx, BlastGroup::Applications, first, after)
    }

    #[graphql(complexity = "1 + super::listed(first) * child_complexity")]
    async fn application_versions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CountedConnection<BlastItem>> {
        self.page(ctx, BlastGroup::ApplicationVersions, first, after)
    }

    /// Live deployments running something affected.
    #[graphql(complexity = "1 + super::listed(first) * child_complexity")]
    async fn deployments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CountedConnection<BlastItem>> {
        self.page(ctx, BlastGroup::Deployments, first, after)
    }

    /// Teams to page, with contacts.
    #[graphql(complexity = "1 + super::listed(first) * child_complexity")]
    async fn owners(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CountedConnection<BlastItem>> {
        self.page(ctx, BlastGroup::Owners, first, after)
    }
}

#[derive(Default)]
pub struct BlastQuery;

#[Object]
impl BlastQuery {
    /// The reverse closure of a package (a version, every version, or a `vers:` range), an
    /// image, a component or a component version: images, component versions, components
    /// (and their dependents through `dependsOn`), applications and their versions, live
    /// deployments and owners, each with its depth and one shortest path. Totals first,
    /// connections after. Null when the catalog has never seen the target.
    async fn blast_radius(
        &self,
        ctx: &Context<'_>,
        of: BlastTargetInput,
        #[graphql(desc = "At most this many hops from the target (default: unbounded).")]
        max_depth: Option<i32>,
    ) -> async_graphql::Result<Option<BlastRadius>> {
        let t = target(&of)?;
        let max_depth = match max_depth {
            Some(d) if d < 0 => {
                return Err(
                    ApiError::bad("maxDepth", format!("must be 0 or more, got {d}")).graphql(),
                )
            }
            d => d.map(|d| d as u32),
        };
        Ok(graph(ctx)?.blast_radius(&t, max_depth).map(BlastRadius))
    }
}
