//! Read models handed out by the [`crate::Catalog`]: plain values, detached from the graph.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One platform entry of an image: a single-platform manifest, or one entry of an index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// The platform-specific manifest digest (equal to the image digest for a single manifest).
    pub digest: String,
}

impl Platform {
    /// `os/architecture[/variant]`, the way `docker` and `skopeo` spell it.
    pub fn name(&self) -> String {
        match &self.variant {
            Some(v) => format!("{}/{}/{}", self.os, self.architecture, v),
            None => format!("{}/{}", self.os, self.architecture),
        }
    }
}

/// What a digest's manifest and config say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageContent {
    pub media_type: String,
    pub size: i64,
    pub platforms: Vec<Platform>,
    pub labels: BTreeMap<String, String>,
    pub created: Option<DateTime<Utc>>,
}

/// An image, identified by its manifest (or index) digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    pub digest: String,
    pub media_type: String,
    pub size: i64,
    pub platforms: Vec<Platform>,
    pub labels: BTreeMap<String, String>,
    pub created: Option<DateTime<Utc>>,
    /// Repositories (`registry/repository`) holding this digest, with the tags pointing at it.
    pub repositories: Vec<ImageRepository>,
    /// False for a digest known only from an SBOM attached to it (no registry has reported
    /// it yet): then its manifest details are empty.
    pub registered: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRepository {
    pub registry: String,
    pub repository: String,
    pub tags: Vec<String>,
    pub pushed_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// A logical service, e.g. `shop/cart`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Component {
    pub name: String,
    pub owner: Option<String>,
    pub version_count: usize,
    pub latest_version: Option<String>,
}

/// A version of a component, pointing at one image digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentVersion {
    pub component: String,
    pub version: String,
    pub digest: String,
    pub registry: String,
    pub repository: String,
    /// Tags of the repository currently pointing at `digest`.
    pub tags: Vec<String>,
    pub revision: Option<String>,
    pub source: Option<String>,
    pub created: Option<DateTime<Utc>>,
    pub pushed_at: DateTime<Utc>,
    /// The actor of the push that recorded it (a registry user, a token's name).
    pub recorded_by: String,
    pub deleted_at: Option<DateTime<Utc>>,
    pub platforms: Vec<Platform>,
}

/// A team that owns components, and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub name: String,
    pub components: Vec<String>,
    pub contacts: crate::entity::Contacts,
    /// The parent team (a Backstage group's `spec.parent`).
    pub parent: Option<String>,
    pub title: Option<String>,
}

/// A logical set of components (a Backstage System, or declared through the API).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Application {
    pub name: String,
    pub owner: Option<String>,
    pub description: Option<String>,
    /// Member components now, by name.
    pub components: Vec<String>,
    /// How many versions it has had (the latest is this number).
    pub version_count: usize,
}

/// The set of member component versions an application had from `created_at`: a new one
/// whenever a member gets a new version or the members change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationVersion {
    pub application: String,
    /// 1, 2, 3, ... in time order.
    pub number: u32,
    pub created_at: DateTime<Utc>,
    /// `(component, version)` by component name.
    pub members: Vec<(String, String)>,
}

/// A workload running something over `[since, until)`: one deployment, as the inventory and
/// the history show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    pub environment: Option<String>,
    pub cluster: String,
    pub namespace: String,
    pub workload: String,
    pub since: DateTime<Utc>,
    /// When it stopped running (replaced, removed, or missing from a cluster snapshot).
    pub until: Option<DateTime<Utc>>,
    /// The status as of the moment asked about (the last one for history).
    pub status: crate::deployment::DeploymentStatus,
    /// When the deploy tool last reported on it (as of the moment asked about).
    pub reported_at: DateTime<Utc>,
    pub replicas: Option<i32>,
    pub runs: Vec<RunningImage>,
    /// argocd, flux, cli, kubernetes, api: who reported the deployment.
    pub source: String,
    pub actor: String,
    pub revision: Option<String>,
    pub url: Option<String>,
    /// Opaque and stable: the natural key of the event that started it.
    pub id: String,
}

/// Something an observer (a cluster snapshot, Argo CD, Flux) showed running in a workload
/// that no pipeline recorded putting there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drift {
    pub environment: Option<String>,
    pub cluster: String,
    pub namespace: String,
    pub workload: String,
    pub component: Option<String>,
    pub version: Option<String>,
    pub digest: Option<String>,
    pub reference: Option<String>,
    /// The observer that showed it.
    pub source: String,
    pub actor: String,
    pub since: DateTime<Utc>,
    /// When it stopped running there (a flag stays in history).
    pub until: Option<DateTime<Utc>>,
}

/// One thing running in a deployment, resolved against what the catalog knows now: an image
/// the catalog had not seen when it was deployed is linked once it is registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunningImage {
    pub container: Option<String>,
    /// The reference as the deploy tool gave it (`registry/repo:tag[@digest]`).
    pub reference: Option<String>,
    pub digest: Option<String>,
    pub component: Option<String>,
    pub version: Option<String>,
    pub owner: Option<String>,
    /// True when the catalog knows the image (by digest, or the tag's digest then).
    pub known: bool,
    /// Its share of the workload's traffic in percent, when reported (canary, blue/green).
    pub traffic: Option<u8>,
    pub track: Option<crate::deployment::Track>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cluster {
    pub name: String,
    pub environment: Option<String>,
    /// Workloads running now.
    pub workloads: usize,
    pub last_seen: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Environment {
    pub name: String,
    pub clusters: Vec<String>,
}

/// How one component differs between two scopes (environments, clusters or namespaces).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentDifference {
    pub component: String,
    /// Versions (or digests / references where no version is known) running in each scope.
    pub from_versions: Vec<String>,
    pub to_versions: Vec<String>,
    pub change: DifferenceKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DifferenceKind {
    OnlyInFrom,
    OnlyInTo,
    VersionsDiffer,
}

/// DORA's four keys for one component in one environment over a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DoraMetrics {
    pub component: String,
    pub environment: Option<String>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub deployments: usize,
    pub deployments_per_day: f64,
    /// Image (or version) creation to deployment, over the deployments whose creation is known.
    pub lead_time_median_seconds: Option<f64>,
    pub lead_time_p90_seconds: Option<f64>,
    pub failed_deployments: usize,
    pub change_failure_rate: Option<f64>,
    /// First failure to the next healthy report of the same workload.
    pub time_to_restore_median_seconds: Option<f64>,
    pub restored: usize,
    /// Mean time to failure: the time the component ran in scope during the window, less
    /// the time from each failure to its restore, divided by the failed deployments.
    pub mean_time_to_failure_seconds: Option<f64>,
}

/// A package, any version: `pkg:type/namespace/name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    /// The versionless canonical purl: the package's identity.
    pub purl: String,
    pub ty: String,
    pub namespace: Option<String>,
    pub name: String,
    /// How many versions the catalog has seen in any SBOM.
    pub version_count: usize,
    /// How many images contain any version of it now.
    pub image_count: usize,
}

/// One version of a package, as SBOMs name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageVersion {
    /// `pkg:type/namespace/name@version`, qualifiers left out.
    pub purl: String,
    /// The package's versionless purl.
    pub package: String,
    pub version: String,
    pub licenses: Vec<String>,
    /// Algorithm -> hex, as the SBOMs gave them.
    pub hashes: BTreeMap<String, String>,
    /// Images whose current SBOM lists it.
    pub image_count: usize,
}

/// An image's current SBOM, without its packages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageSbom {
    pub image: String,
    /// `CycloneDX` or `SPDX`.
    pub format: String,
    pub spec_version: String,
    pub document_digest: String,
    /// `upload`, `referrers` or `tag`.
    pub via: String,
    /// When it was attached (the event time): a later SBOM for the image replaces it.
    pub attached_at: DateTime<Utc>,
    pub packages: usize,
    pub direct: usize,
    pub warnings: Vec<String>,
}

/// One entry of an image's bill of materials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BomPackage {
    /// The purl as the SBOM gave it, canonicalised (qualifiers kept); `None` for a component
    /// the SBOM named without a (valid) purl.
    pub purl: Option<String>,
    /// The PackageVersion's purl (no qualifiers), when there is a purl.
    pub package_version: Option<String>,
    pub name: String,
    pub version: Option<String>,
    /// 1 direct, 2+ transitive, `None` when the SBOM does not say.
    pub depth: Option<u32>,
    pub licenses: Vec<String>,
    pub hashes: BTreeMap<String, String>,
}

/// How one image contains a package: which versions, how deep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackageInImage {
    pub image: String,
    /// The matched versions' purls in this image (usually one).
    pub package_versions: Vec<String>,
    /// The shallowest depth at which the image's SBOM lists it (1 = direct).
    pub depth: Option<u32>,
    pub component_versions: Vec<ComponentVersion>,
    /// What runs this image now.
    pub deployments: Vec<Deployment>,
    /// Owners of the component versions built from it.
    pub owners: Vec<String>,
}

/// Everything a package (some or all of its versions) reaches: the images containing it, the
/// component versions built from them, where those run now, and whom to call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackageReport {
    pub package: Package,
    /// The versions that matched (all, one, or those in a `vers:` range), newest first.
    pub versions: Vec<PackageVersion>,
    /// Images containing a matched version, direct ones first, then by digest.
    pub images: Vec<PackageInImage>,
    /// Every live deployment of those images, by environment, cluster, namespace, workload.
    pub deployments: Vec<Deployment>,
    /// Teams owning an affected component version, sorted.
    pub owners: Vec<String>,
}

/// A vulnerability record affecting one package version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VulnerabilityMatch {
    pub id: String,
    pub aliases: Vec<String>,
    pub summary: Option<String>,
    /// Severity scores as the record gives them (CVSS vectors).
    pub severity: Vec<String>,
    pub package_version: String,
    pub package: String,
    pub version: String,
    /// Versions the record names as fixing it.
    pub fixed: Vec<String>,
    /// The VEX statement that holds for this match, if any; `suppressed` says whether it
    /// takes the match out of the counts.
    pub vex: Option<VexVerdict>,
}

/// What a VEX statement says about one match, and who said it when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VexVerdict {
    /// `not_affected`, `affected`, `fixed` or `under_investigation`.
    pub status: String,
    pub justification: Option<String>,
    pub impact: Option<String>,
    pub action: Option<String>,
    pub author: String,
    /// The document's id (or `api:...` for a team's own statement).
    pub document: String,
    /// The product the statement was about (`image:sha256:...`, `version:shop/cart@1.2`,
    /// `package:pkg:...`).
    pub product: String,
    pub stated_at: DateTime<Utc>,
    pub until: Option<DateTime<Utc>>,
    /// The suppression's `until` has passed: the match counts again.
    pub expired: bool,
    /// `not_affected` or `fixed`, not expired: the match is out of the counts.
    pub suppressed: bool,
}

/// An image a vulnerability's ranges reach, taken out of the counts by VEX.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuppressedImage {
    pub image: String,
    pub package_versions: Vec<String>,
    pub component_versions: Vec<ComponentVersion>,
    pub vex: VexVerdict,
}

/// A vulnerability and everything in the catalog it affects now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VulnerabilityReport {
    pub vulnerability: crate::osv::Vulnerability,
    /// Package versions the catalog has that its ranges contain.
    pub package_versions: Vec<PackageVersion>,
    pub images: Vec<PackageInImage>,
    pub deployments: Vec<Deployment>,
    pub owners: Vec<String>,
    /// Images whose every match of it is suppressed by VEX: not in the lists above.
    pub suppressed: Vec<SuppressedImage>,
}
