//! What deploy tools tell us: a workload's state at a moment, and image references as
//! Kubernetes and registries spell them. Plain values: the rules that fold them into an
//! inventory live in `graph::inventory`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The state a deploy tool reported for a workload. `Removed` ends the deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentStatus {
    Progressing,
    Healthy,
    Degraded,
    Failed,
    RolledBack,
    Removed,
}

impl DeploymentStatus {
    pub const ALL: [DeploymentStatus; 6] = [
        DeploymentStatus::Progressing,
        DeploymentStatus::Healthy,
        DeploymentStatus::Degraded,
        DeploymentStatus::Failed,
        DeploymentStatus::RolledBack,
        DeploymentStatus::Removed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentStatus::Progressing => "progressing",
            DeploymentStatus::Healthy => "healthy",
            DeploymentStatus::Degraded => "degraded",
            DeploymentStatus::Failed => "failed",
            DeploymentStatus::RolledBack => "rolled_back",
            DeploymentStatus::Removed => "removed",
        }
    }

    pub fn parse(s: &str) -> Option<DeploymentStatus> {
        let norm = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        DeploymentStatus::ALL
            .into_iter()
            .find(|k| k.as_str() == norm)
    }

    /// Counts against the change failure rate (DORA).
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            DeploymentStatus::Degraded | DeploymentStatus::Failed | DeploymentStatus::RolledBack
        )
    }
}

/// A workload's state as a deploy tool saw it at the event's `occurred_at`. Each report
/// stands alone (no "previous state" in it), so any arrival order folds to the same history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentObserved {
    pub cluster: String,
    pub namespace: String,
    pub workload: String,
    /// The environment the sender puts the cluster in; configuration may override it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    pub status: DeploymentStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    /// What runs in the workload (one per container, or one named component version).
    /// Empty for `Removed`.
    #[serde(default)]
    pub runs: Vec<Run>,
    /// The git revision the tool deployed (Argo's sync revision, Flux's source revision).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// A link back to the deploy tool (pipeline run, Argo application).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// One thing running in a workload: an image reference, a named component version, or both.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Run {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The share of the workload's traffic it receives, in percent (0 to 100), when the
    /// sender knows it: canary weights, or a blue/green color's 100 (live) or 0 (idle).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic: Option<u8>,
    /// Its part in a progressive rollout: what the rollout moves away from, or towards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub track: Option<Track>,
}

/// A run's part in a canary rollout. A workload that runs a `stable` and a `canary` version
/// is one deployment, of the canary: promoting it to 100% continues that deployment, and a
/// return to the stable version alone is its recovery, not another deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Track {
    Stable,
    Canary,
}

impl Track {
    pub fn as_str(self) -> &'static str {
        match self {
            Track::Stable => "stable",
            Track::Canary => "canary",
        }
    }

    pub fn parse(s: &str) -> Option<Track> {
        [Track::Stable, Track::Canary]
            .into_iter()
            .find(|t| t.as_str() == s.trim().to_ascii_lowercase())
    }
}

/// A full view of one cluster's workloads (a `kubectl get pods -A -o json` snapshot): every
/// workload it holds is observed, and every workload of the cluster missing from it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterSnapshot {
    pub cluster: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// Observations of the workloads present (their `cluster` equals the snapshot's).
    pub workloads: Vec<DeploymentObserved>,
}

/// An image reference, normalised the way container runtimes resolve it
/// (`nginx` is `docker.io/library/nginx`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ImageRef {
    pub registry: String,
    pub repository: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

impl ImageRef {
    /// Parses `[registry/]repository[:tag][@digest]` as distribution/reference's
    /// `ParseNormalizedNamed` does (`nginx` is `docker.io/library/nginx`, `index.docker.io/x` is
    /// `docker.io/x`, an uppercase repository is an error), then names the registry as the
    /// catalog does ([`crate::identity::canonical_registry`]: lowercase, Docker Hub's API hosts
    /// as `docker.io`), so one image has one identity however it is written.
    pub fn parse(reference: &str) -> Result<ImageRef, String> {
        let r = reference.trim();
        if r.is_empty() {
            return Err("empty image reference".into());
        }
        if r.chars().any(char::is_whitespace) {
            return Err(format!(
                "`{r}` is not an image reference (contains whitespace)"
            ));
        }
        // Say which part is wrong before the grammar says only "invalid reference format".
        let (name_tag, digest) = match r.split_once('@') {
            Some((n, d)) => (n, Some(d)),
            None => (r, None),
        };
        if let Some(d) = digest.filter(|d| !crate::reference::valid_digest(d)) {
            return Err(format!("`{d}` is not a digest (expected sha256:<64 hex>)"));
        }
        let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
        if let Some(i) = name_tag[last_slash..].rfind(':') {
            let t = &name_tag[last_slash + i + 1..];
            if !crate::reference::valid_tag(t) {
                return Err(format!("`{t}` is not a valid tag"));
            }
        }
        let parsed = crate::reference::parse_normalized(r)
            .map_err(|e| format!("`{r}` is not an image reference: {e}"))?;
        let registry = crate::identity::canonical_registry(&parsed.domain)
            .map_err(|e| format!("`{r}`: {e}"))?;
        // `registry-1.docker.io/nginx` is Docker Hub's `library/nginx` too.
        let repository = if registry == crate::identity::DOCKER_HUB && !parsed.path.contains('/') {
            format!("library/{}", parsed.path)
        } else {
            parsed.path
        };
        Ok(ImageRef {
            registry,
            repository,
            tag: parsed.tag,
            digest: parsed.digest,
        })
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}
