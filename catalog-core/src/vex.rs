//! VEX: statements that a product is, or is not, affected by a vulnerability (OpenVEX,
//! CycloneDX VEX, or a team's own statement through the API), as the event log records them.
//!
//! A statement names products (an image digest, a component version, or a package purl,
//! optionally narrowed to subcomponents), a vulnerability (an id, with aliases), a status and,
//! for `not_affected`, a justification or an impact statement. The graph keeps the latest
//! statement per (product, vulnerability, subcomponent) and applies it to exactly the matches
//! it names (see `graph::vex`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A VEX status, as OpenVEX and CISA's minimum requirements name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VexStatus {
    NotAffected,
    Affected,
    Fixed,
    UnderInvestigation,
}

impl VexStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            VexStatus::NotAffected => "not_affected",
            VexStatus::Affected => "affected",
            VexStatus::Fixed => "fixed",
            VexStatus::UnderInvestigation => "under_investigation",
        }
    }

    /// `not_affected` and `fixed` say the product is not exposed: the match is suppressed.
    pub fn suppresses(self) -> bool {
        matches!(self, VexStatus::NotAffected | VexStatus::Fixed)
    }

    pub fn parse(s: &str) -> Option<VexStatus> {
        Some(match s {
            "not_affected" => VexStatus::NotAffected,
            "affected" => VexStatus::Affected,
            "fixed" => VexStatus::Fixed,
            "under_investigation" => VexStatus::UnderInvestigation,
            _ => return None,
        })
    }
}

/// The OpenVEX justifications for `not_affected` (CISA's five).
pub const JUSTIFICATIONS: [&str; 5] = [
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
];

/// What a statement is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum VexProduct {
    /// An image (manifest or index) by digest.
    Image { digest: String },
    /// A component version, as the catalog names them.
    ComponentVersion { component: String, version: String },
    /// A package: a purl with a version (that version) or without (every version).
    Package { purl: String },
}

impl VexProduct {
    /// The key the graph files statements under.
    pub fn key(&self) -> String {
        match self {
            VexProduct::Image { digest } => format!("image:{digest}"),
            VexProduct::ComponentVersion { component, version } => {
                format!("version:{component}@{version}")
            }
            VexProduct::Package { purl } => format!("package:{purl}"),
        }
    }
}

/// One statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VexStatement {
    /// The vulnerability's id as the statement names it (`CVE-2021-44228`, `GHSA-...`).
    pub vulnerability: String,
    /// Other names of the same vulnerability the statement gives.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    pub products: Vec<VexProduct>,
    /// Package purls inside the products the statement is limited to (OpenVEX
    /// `subcomponents`, the CycloneDX `affects` ref of a component); empty is all of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subcomponents: Vec<String>,
    pub status: VexStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// When the statement was made: a later one supersedes an earlier one.
    pub timestamp: DateTime<Utc>,
    /// A suppression's expiry (a team's own statement through the API or CLI): after it the
    /// match counts again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
}

/// A VEX document as recorded: its statements, who made them, and how it arrived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VexDocument {
    /// The document's own id (OpenVEX `@id`, CycloneDX `serialNumber`), else `sha256:` of its
    /// bytes; the API's statements have `api:<uuid>`.
    pub id: String,
    /// `openvex`, `cyclonedx` or `api`.
    pub format: String,
    /// `upload`, `referrers`, `tag` or `api`.
    pub via: String,
    /// The document's author (OpenVEX `author`, CycloneDX `metadata` authors or supplier), or
    /// the token's name.
    pub author: String,
    pub statements: Vec<VexStatement>,
}
