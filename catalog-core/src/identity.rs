//! How an image push becomes a component and a version: the rules users rely on, in one place.

use std::collections::BTreeMap;

/// OCI annotation/label keys the catalog reads from an image config.
pub mod labels {
    pub const VERSION: &str = "org.opencontainers.image.version";
    pub const REVISION: &str = "org.opencontainers.image.revision";
    pub const SOURCE: &str = "org.opencontainers.image.source";
    pub const CREATED: &str = "org.opencontainers.image.created";
    pub const AUTHORS: &str = "org.opencontainers.image.authors";
    pub const TITLE: &str = "org.opencontainers.image.title";
    pub const VENDOR: &str = "org.opencontainers.image.vendor";
    /// The team owning the component (ours; documented in the README).
    pub const OWNER: &str = "dev.catalog.owner";
    /// Overrides the component name, which is otherwise the repository path.
    pub const COMPONENT: &str = "dev.catalog.component";
}

/// Docker Hub as image references name it (`nginx` is `docker.io/library/nginx`).
pub const DOCKER_HUB: &str = crate::reference::DEFAULT_DOMAIN;

/// A registry host as the catalog names it. Docker Hub answers the registry API at
/// `registry-1.docker.io` (and `index.docker.io`), but image references, and so deployments,
/// say `docker.io`: one name lets a Docker Hub push, `--registry https://registry-1.docker.io`
/// and a pod running `nginx` meet. Hosts are lowercased (DNS is case-insensitive). A host that
/// is not one (`foo..bar`) is an error: see [`crate::reference::normalize_registry`].
pub use crate::reference::normalize_registry as canonical_registry;

// ----- OCI name grammar: what a digest, a repository and a tag may be -----
// One rule, distribution/reference's (`crate::reference`); these names are the ones the rest
// of the workspace calls.

/// `sha256:<64 hex>`, `sha384:<96 hex>` or `sha512:<128 hex>`, lowercase.
pub use crate::reference::valid_digest;

/// A repository path (`library/nginx`): lowercase components joined by `.`, `_`, `__` or
/// dashes, separated by `/`, at most 255 characters.
pub fn valid_repository(r: &str) -> bool {
    r.len() <= crate::reference::NAME_TOTAL_LENGTH_MAX && crate::reference::valid_path(r)
}

/// The tag grammar: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
pub use crate::reference::valid_tag;

/// True when a tag names a version: `1`, `1.2.3`, `v2.0.0-rc.1`, `2024.05.1+build.7`.
/// Moving tags such as `latest`, `main` or `sha-abc123` are not versions.
pub fn is_version_tag(tag: &str) -> bool {
    let t = tag.strip_prefix('v').unwrap_or(tag);
    let core_end = t.find(['-', '+']).unwrap_or(t.len());
    let (core, rest) = t.split_at(core_end);
    let parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return false;
    }
    if !parts
        .iter()
        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    // A bare number is a version only with a dot or a suffix ("7" could be a build counter,
    // but "7.1" or "7-alpine" are versions people tag by).
    if parts.len() == 1 && rest.is_empty() && !tag.starts_with('v') {
        return parts[0].len() <= 4;
    }
    rest.len() <= 1
        || rest[1..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'+' || b == b'_')
}

/// The component an image belongs to: the `dev.catalog.component` label, else the repository path.
pub fn component_name(repository: &str, labels: &BTreeMap<String, String>) -> String {
    labels
        .get(labels::COMPONENT)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .unwrap_or(repository)
        .to_string()
}

/// The version an image push gives its component: the tag when it is a version, else the
/// `org.opencontainers.image.version` label, else none (the image is recorded, no version made).
pub fn version_of(tag: Option<&str>, labels: &BTreeMap<String, String>) -> Option<String> {
    if let Some(t) = tag.filter(|t| is_version_tag(t)) {
        return Some(t.to_string());
    }
    labels
        .get(labels::VERSION)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Orders versions newest first: semver when both parse (a leading `v` ignored), else by text.
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    fn parse(s: &str) -> Option<semver::Version> {
        let s = s.strip_prefix('v').unwrap_or(s);
        semver::Version::parse(s).ok().or_else(|| {
            // "1.2" -> "1.2.0", "1" -> "1.0.0"
            let dots = s
                .split(['-', '+'])
                .next()
                .map_or(0, |c| c.matches('.').count());
            let padded = match dots {
                0 => format!("{s}.0.0"),
                1 => format!("{s}.0"),
                _ => return None,
            };
            semver::Version::parse(&padded).ok()
        })
    }
    match (parse(a), parse(b)) {
        (Some(x), Some(y)) => x.cmp(&y).then_with(|| a.cmp(b)),
        _ => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_tags() {
        for t in [
            "1.0.0",
            "v1.2",
            "2.0.0-rc.1",
            "1.2.3+build.5",
            "7.1",
            "2024.05.1",
            "v3",
        ] {
            assert!(is_version_tag(t), "{t} should be a version");
        }
        for t in [
            "latest",
            "main",
            "sha-abc123",
            "",
            "1..2",
            "v",
            "1.2.3.4.5",
            "20240501123456",
        ] {
            assert!(!is_version_tag(t), "{t} should not be a version");
        }
    }

    #[test]
    fn version_falls_back_to_label() {
        let mut labels = BTreeMap::new();
        assert_eq!(version_of(Some("latest"), &labels), None);
        labels.insert(labels::VERSION.to_string(), "1.4.0".to_string());
        assert_eq!(
            version_of(Some("latest"), &labels).as_deref(),
            Some("1.4.0")
        );
        assert_eq!(version_of(Some("1.5.0"), &labels).as_deref(), Some("1.5.0"));
        assert_eq!(version_of(None, &labels).as_deref(), Some("1.4.0"));
    }

    #[test]
    fn component_from_label_or_repository() {
        let mut labels = BTreeMap::new();
        assert_eq!(component_name("shop/cart", &labels), "shop/cart");
        labels.insert(labels::COMPONENT.to_string(), "cart".to_string());
        assert_eq!(component_name("shop/cart", &labels), "cart");
    }

    #[test]
    fn semver_ordering() {
        use std::cmp::Ordering::*;
        assert_eq!(compare_versions("1.10.0", "1.9.0"), Greater);
        assert_eq!(compare_versions("v1.2", "1.1.9"), Greater);
        assert_eq!(compare_versions("2.0.0-rc.1", "2.0.0"), Less);
    }
}
