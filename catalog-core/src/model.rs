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
    pub deleted_at: Option<DateTime<Utc>>,
    pub platforms: Vec<Platform>,
}

/// A team that owns components.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub name: String,
    pub components: Vec<String>,
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
}
