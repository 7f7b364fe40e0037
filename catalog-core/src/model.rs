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
