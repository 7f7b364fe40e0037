//! A bill of materials as the catalog keeps it, whatever format it arrived in (CycloneDX or
//! SPDX): the packages an image contains, each identified by its purl where it has one, with
//! licenses, hashes and how deep in the dependency tree it sits. Parsing the formats lives in
//! `catalog-ingest`; this module owns only the shape every format is normalised to.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A parsed SBOM document, normalised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sbom {
    /// `CycloneDX` or `SPDX`.
    pub format: String,
    /// The format's spec version as the document states it (`1.5`, `2.3`).
    pub spec_version: String,
    /// The image digest the document says it describes, when its own metadata names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Every package but the document's own subject, in document order.
    pub packages: Vec<SbomPackage>,
    /// Per-component problems that did not stop the import (an invalid purl, a dependency
    /// naming an unknown ref), each naming the component: the first [`MAX_WARNINGS`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Warnings past the first [`MAX_WARNINGS`], counted but not kept: a hostile document
    /// can have millions, and each would be stored, answered and kept in memory.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub warnings_omitted: u64,
}

/// How many warnings a document keeps in full (in its event, the upload's answer, the graph).
pub const MAX_WARNINGS: usize = 100;

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Sbom {
    /// Every warning the document had, kept or not.
    pub fn warnings_total(&self) -> u64 {
        self.warnings.len() as u64 + self.warnings_omitted
    }

    /// Adds a warning, or only counts it once [`MAX_WARNINGS`] are kept.
    pub fn warn(&mut self, warning: impl FnOnce() -> String) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(warning());
        } else {
            self.warnings_omitted += 1;
        }
    }
}

/// Warnings as a parser collects them: the first [`MAX_WARNINGS`] built and kept, the rest
/// only counted (their text is never formatted).
#[derive(Debug, Default)]
pub struct Warnings {
    kept: Vec<String>,
    omitted: u64,
}

impl Warnings {
    pub fn push(&mut self, warning: impl FnOnce() -> String) {
        if self.kept.len() < MAX_WARNINGS {
            self.kept.push(warning());
        } else {
            self.omitted += 1;
        }
    }

    /// The kept warnings and how many were omitted.
    pub fn into_parts(self) -> (Vec<String>, u64) {
        (self.kept, self.omitted)
    }
}

/// One package of an SBOM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SbomPackage {
    /// The canonical purl ([`crate::purl::Purl`]'s `Display`, qualifiers kept), or `None` when
    /// the document gives none or an invalid one (then a warning says which).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// SPDX license ids or expressions, or names where the document gives no id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
    /// Algorithm (lowercase, as `sha-256`, `sha-1`, `md5`) -> lowercase hex.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub hashes: BTreeMap<String, String>,
    /// 1 for a direct dependency of the subject, 2+ for transitive ones (the shortest path),
    /// `None` when the document does not say how the package is reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depth: Option<u32>,
    /// Indices into [`Sbom::packages`] this package depends on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<u32>,
}

impl SbomPackage {
    /// True when the package is a direct dependency of the subject.
    pub fn is_direct(&self) -> bool {
        self.depth == Some(1)
    }
}
