//! GraphQL object types over the core's read models.

use super::graph;
use super::packages::{bom_page, image_vulnerabilities, BomPackage, ImageSbom, VulnerabilityMatch};
use super::paging::{CountedConnection, Window};
use async_graphql::{Context, Object, SimpleObject};
use catalog_core::model;
use chrono::{DateTime, Utc};

#[derive(SimpleObject, Clone)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
    /// The platform-specific manifest digest.
    pub digest: String,
    /// `os/architecture[/variant]`.
    pub name: String,
}

impl From<&model::Platform> for Platform {
    fn from(p: &model::Platform) -> Platform {
        Platform {
            os: p.os.clone(),
            architecture: p.architecture.clone(),
            variant: p.variant.clone(),
            digest: p.digest.clone(),
            name: p.name(),
        }
    }
}

#[derive(SimpleObject, Clone)]
pub struct Label {
    pub name: String,
    pub value: String,
}

/// A logical service, e.g. `shop/cart`.
pub struct Component(pub model::Component);

#[Object]
impl Component {
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The team that owns it (from the `dev.catalog.owner` label or `setOwner`).
    async fn owner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Team>> {
        let Some(o) = &self.0.owner else {
            return Ok(None);
        };
        let c = graph(ctx)?;
        Ok(c.team(o).map(Team))
    }

    /// The components it depends on now (declared in Backstage or with `declareDependency`).
    async fn dependencies(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Component>> {
        let c = graph(ctx)?;
        Ok(c.dependencies_of(&self.0.name)
            .iter()
            .filter_map(|n| c.component(n))
            .map(Component)
            .collect())
    }

    /// The components that depend on it now.
    async fn dependents(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Component>> {
        let c = graph(ctx)?;
        Ok(c.dependents_of(&self.0.name)
            .iter()
            .filter_map(|n| c.component(n))
            .map(Component)
            .collect())
    }

    /// The applications it belongs to now.
    async fn applications(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Application>> {
        let c = graph(ctx)?;
        Ok(c.applications_of(&self.0.name)
            .iter()
            .filter_map(|n| c.application(n))
            .map(Application)
            .collect())
    }

    /// The highest live version (semver order where versions parse).
    async fn latest_version(&self) -> Option<&str> {
        self.0.latest_version.as_deref()
    }

    /// How many live (not deleted) versions it has.
    async fn version_count(&self) -> i32 {
        self.0.version_count as i32
    }

    /// Versions, newest first; deleted ones only when asked.
    #[graphql(complexity = "1 + super::listed(first) * child_complexity")]
    async fn versions(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] include_deleted: bool,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CountedConnection<ComponentVersion>> {
        let list = if include_deleted {
            "versions:all"
        } else {
            "versions"
        };
        let w = Window::new(list, first, after)?;
        let c = graph(ctx)?;
        Ok(w.cut(
            c.versions(&self.0.name, include_deleted)
                .into_iter()
                .map(ComponentVersion)
                .collect(),
        ))
    }

    /// One version by its exact name (deleted or not).
    async fn version(
        &self,
        ctx: &Context<'_>,
        version: String,
    ) -> async_graphql::Result<Option<ComponentVersion>> {
        let c = graph(ctx)?;
        Ok(c.version(&self.0.name, &version).map(ComponentVersion))
    }
}

/// A version of a component: one image digest, the commit it was built from, where it lives.
pub struct ComponentVersion(pub model::ComponentVersion);

#[Object]
impl ComponentVersion {
    async fn component(&self) -> &str {
        &self.0.component
    }
    async fn version(&self) -> &str {
        &self.0.version
    }
    async fn digest(&self) -> &str {
        &self.0.digest
    }
    async fn registry(&self) -> &str {
        &self.0.registry
    }
    async fn repository(&self) -> &str {
        &self.0.repository
    }
    /// Tags of the repository pointing at this digest now.
    async fn tags(&self) -> &[String] {
        &self.0.tags
    }
    /// `org.opencontainers.image.revision`: the commit it was built from.
    async fn revision(&self) -> Option<&str> {
        self.0.revision.as_deref()
    }
    /// `org.opencontainers.image.source`: the source repository URL.
    async fn source(&self) -> Option<&str> {
        self.0.source.as_deref()
    }
    /// `org.opencontainers.image.created`, else the config's `created`.
    async fn created(&self) -> Option<DateTime<Utc>> {
        self.0.created
    }
    /// When the registry first reported it.
    async fn pushed_at(&self) -> DateTime<Utc> {
        self.0.pushed_at
    }
    /// Who pushed it first (the registry's actor, or the token that recorded it): policies
    /// see it as `input.image.recorded_by`, to keep approvers apart from it.
    async fn recorded_by(&self) -> &str {
        &self.0.recorded_by
    }
    /// When its manifest was deleted from the registry, if it was.
    async fn deleted_at(&self) -> Option<DateTime<Utc>> {
        self.0.deleted_at
    }
    async fn platforms(&self) -> Vec<Platform> {
        self.0.platforms.iter().map(Platform::from).collect()
    }
    async fn image(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Image>> {
        let c = graph(ctx)?;
        Ok(c.image(&self.0.digest).map(Image))
    }
    /// The packages of its image's SBOM (only direct dependencies when `direct`).
    #[graphql(complexity = "1 + super::listed(first) * child_complexity")]
    async fn packages(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] direct: bool,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CountedConnection<BomPackage>> {
        bom_page(ctx, &self.0.digest, direct, first, after)
    }
    /// Vulnerability records affecting its image's packages. VEX-suppressed matches are left out unless
    /// `includeSuppressed`; each says so in `suppressed`, with its statement in `vex`.
    async fn vulnerabilities(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] include_suppressed: bool,
    ) -> async_graphql::Result<Vec<VulnerabilityMatch>> {
        image_vulnerabilities(ctx, &self.0.digest, include_suppressed)
    }
}

/// An image (a manifest or a multi-platform index), by digest.
pub struct Image(pub model::Image);

#[derive(SimpleObject)]
pub struct ImageRepository {
    pub registry: String,
    pub repository: String,
    pub tags: Vec<String>,
    pub pushed_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

#[Object]
impl Image {
    async fn digest(&self) -> &str {
        &self.0.digest
    }
    /// Empty for an image known only from its SBOM (see `registered`).
    async fn media_type(&self) -> &str {
        &self.0.media_type
    }
    /// False while the image is known only from an SBOM attached to it: no registry has
    /// reported it yet, so its manifest details are empty.
    async fn registered(&self) -> bool {
        self.0.registered
    }
    /// Size of the manifest or index in bytes.
    async fn size(&self) -> i64 {
        self.0.size
    }
    /// One entry per platform (one for a single-platform image).
    async fn platforms(&self) -> Vec<Platform> {
        self.0.platforms.iter().map(Platform::from).collect()
    }
    /// The config's labels (for an index, those of its linux/amd64 image, else the first).
    async fn labels(&self) -> Vec<Label> {
        self.0
            .labels
            .iter()
            .map(|(k, v)| Label {
                name: k.clone(),
                value: v.clone(),
            })
            .collect()
    }
    async fn created(&self) -> Option<DateTime<Utc>> {
        self.0.created
    }
    async fn repositories(&self) -> Vec<ImageRepository> {
        self.0
            .repositories
            .iter()
            .map(|r| ImageRepository {
                registry: r.registry.clone(),
                repository: r.repository.clone(),
                tags: r.tags.clone(),
                pushed_at: r.pushed_at,
                deleted_at: r.deleted_at,
            })
            .collect()
    }
    /// Its current SBOM (null when it has none).
    async fn sbom(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ImageSbom>> {
        let c = graph(ctx)?;
        Ok(c.image_sbom(&self.0.digest).map(ImageSbom::from))
    }
    /// The packages of its SBOM in document order (only direct dependencies when `direct`).
    #[graphql(complexity = "1 + super::listed(first) * child_complexity")]
    async fn packages(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] direct: bool,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CountedConnection<BomPackage>> {
        bom_page(ctx, &self.0.digest, direct, first, after)
    }
    /// Vulnerability records affecting its packages. VEX-suppressed matches are left out unless
    /// `includeSuppressed`; each says so in `suppressed`, with its statement in `vex`.
    async fn vulnerabilities(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] include_suppressed: bool,
    ) -> async_graphql::Result<Vec<VulnerabilityMatch>> {
        image_vulnerabilities(ctx, &self.0.digest, include_suppressed)
    }
    /// Component versions built from this image.
    async fn component_versions(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<ComponentVersion>> {
        let c = graph(ctx)?;
        Ok(c.image_versions(&self.0.digest)
            .into_iter()
            .map(ComponentVersion)
            .collect())
    }
}

/// A team owning components.
pub struct Team(pub model::Team);

#[Object]
impl Team {
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Whom to reach: email, chat channel, pager target (from a Backstage group or user, or
    /// `setTeamContacts`).
    async fn contacts(&self) -> Contacts {
        Contacts {
            email: self.0.contacts.email.clone(),
            chat: self.0.contacts.chat.clone(),
            pager: self.0.contacts.pager.clone(),
        }
    }

    /// The parent team (a Backstage group's `spec.parent`).
    async fn parent(&self) -> Option<&str> {
        self.0.parent.as_deref()
    }

    async fn title(&self) -> Option<&str> {
        self.0.title.as_deref()
    }

    /// The components it owns, by name.
    #[graphql(complexity = "1 + super::listed(first) * child_complexity")]
    async fn components(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CountedConnection<Component>> {
        let w = Window::new("team:components", first, after)?;
        let c = graph(ctx)?;
        // Only the page's components are built; the names are already in order.
        Ok(w.cut_by(&self.0.components, |n| c.component(n).map(Component)))
    }
}

/// How to reach a team.
#[derive(SimpleObject, Clone)]
pub struct Contacts {
    pub email: Option<String>,
    pub chat: Option<String>,
    pub pager: Option<String>,
}

/// A logical set of components (a Backstage System, or declared with `declareApplication`).
pub struct Application(pub model::Application);

#[Object]
impl Application {
    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    async fn owner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Team>> {
        let Some(o) = &self.0.owner else {
            return Ok(None);
        };
        Ok(graph(ctx)?.team(o).map(Team))
    }

    /// Member components now.
    async fn components(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Component>> {
        let c = graph(ctx)?;
        Ok(self
            .0
            .components
            .iter()
            .filter_map(|n| c.component(n))
            .map(Component)
            .collect())
    }

    /// How many versions it has had; the latest has this number.
    async fn version_count(&self) -> i32 {
        self.0.version_count as i32
    }

    /// Versions, newest first.
    #[graphql(complexity = "1 + super::listed(first) * child_complexity")]
    async fn versions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CountedConnection<ApplicationVersion>> {
        let w = Window::new("applicationVersions", first, after)?;
        let c = graph(ctx)?;
        // Version n is the n-th: newest first, the page is numbers count-offset down.
        let count = self.0.version_count;
        let newest = count.saturating_sub(w.offset);
        let oldest = newest.saturating_sub(w.first);
        let items = (oldest + 1..=newest)
            .rev()
            .filter_map(|n| c.application_version(&self.0.name, n as u32))
            .map(ApplicationVersion)
            .collect();
        Ok(w.connection(items, oldest > 0, count))
    }

    /// One version by number; null when there is no such version.
    async fn version(
        &self,
        ctx: &Context<'_>,
        number: i32,
    ) -> async_graphql::Result<Option<ApplicationVersion>> {
        let Ok(n) = u32::try_from(number) else {
            return Ok(None);
        };
        Ok(graph(ctx)?
            .application_version(&self.0.name, n)
            .map(ApplicationVersion))
    }
}

/// The member component versions an application had from `createdAt`.
pub struct ApplicationVersion(pub model::ApplicationVersion);

#[Object]
impl ApplicationVersion {
    async fn application(&self) -> &str {
        &self.0.application
    }

    async fn number(&self) -> i32 {
        self.0.number as i32
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// Its members, by component name.
    async fn members(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ComponentVersion>> {
        let c = graph(ctx)?;
        Ok(self
            .0
            .members
            .iter()
            .filter_map(|(comp, v)| c.version(comp, v))
            .map(ComponentVersion)
            .collect())
    }
}
