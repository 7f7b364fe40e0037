//! Bills of materials, packages, vulnerabilities and the one search box.

use super::inventory::Deployment;
use super::paging::{CountedConnection, Window};
use super::types::{ComponentVersion, Team};
use super::{graph, page_size};
use crate::errors::ApiError;
use async_graphql::{ComplexObject, Context, Enum, Object, SimpleObject};
use catalog_core::graph::SearchKind as CoreKind;
use catalog_core::model;
use catalog_core::purl::Purl;
use catalog_core::versioning::{Scheme, VersRange};
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;

/// What a search hit is.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum SearchKind {
    Component,
    Package,
    Image,
    Team,
    Cluster,
    Vulnerability,
    Application,
}

impl From<SearchKind> for CoreKind {
    fn from(k: SearchKind) -> CoreKind {
        match k {
            SearchKind::Component => CoreKind::Component,
            SearchKind::Package => CoreKind::Package,
            SearchKind::Image => CoreKind::Image,
            SearchKind::Team => CoreKind::Team,
            SearchKind::Cluster => CoreKind::Cluster,
            SearchKind::Vulnerability => CoreKind::Vulnerability,
            SearchKind::Application => CoreKind::Application,
        }
    }
}

impl From<CoreKind> for SearchKind {
    fn from(k: CoreKind) -> SearchKind {
        match k {
            CoreKind::Component => SearchKind::Component,
            CoreKind::Package => SearchKind::Package,
            CoreKind::Image => SearchKind::Image,
            CoreKind::Team => SearchKind::Team,
            CoreKind::Cluster => SearchKind::Cluster,
            CoreKind::Vulnerability => SearchKind::Vulnerability,
            CoreKind::Application => SearchKind::Application,
        }
    }
}

/// One ranked search result.
#[derive(SimpleObject)]
pub struct SearchHit {
    pub kind: SearchKind,
    /// A component, team or cluster name; a versionless purl; a digest; a vulnerability id.
    pub id: String,
    /// What it is, in a line (`3 versions, in 41 images`).
    pub detail: Option<String>,
    /// Higher is better; comparable within one answer.
    pub score: i64,
}

/// A hash of a package version's content.
#[derive(SimpleObject)]
pub struct Hash {
    pub algorithm: String,
    pub value: String,
}

/// A package, any version (`pkg:type/namespace/name`).
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Package {
    /// The versionless canonical purl.
    pub purl: String,
    #[graphql(name = "type")]
    pub ty: String,
    pub namespace: Option<String>,
    pub name: String,
    pub version_count: i32,
    /// Images whose current SBOM lists any version of it.
    pub image_count: i32,
}

#[ComplexObject]
impl Package {
    /// Every version the catalog has seen, newest first.
    async fn versions(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<PackageVersion>> {
        let c = graph(ctx)?;
        Ok(c.package_versions(&self.purl)
            .into_iter()
            .map(PackageVersion::from)
            .collect())
    }
}

impl From<model::Package> for Package {
    fn from(p: model::Package) -> Package {
        Package {
            purl: p.purl,
            ty: p.ty,
            namespace: p.namespace,
            name: p.name,
            version_count: p.version_count as i32,
            image_count: p.image_count as i32,
        }
    }
}

/// One version of a package.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct PackageVersion {
    /// `pkg:type/namespace/name@version`.
    pub purl: String,
    /// The package's versionless purl.
    pub package: String,
    pub version: String,
    pub licenses: Vec<String>,
    pub hashes: Vec<Hash>,
    pub image_count: i32,
}

#[ComplexObject]
impl PackageVersion {
    /// Vulnerability records whose ranges contain this version.
    async fn vulnerabilities(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<VulnerabilityMatch>> {
        let c = graph(ctx)?;
        Ok(c.package_version_vulnerabilities(&self.purl)
            .into_iter()
            .map(VulnerabilityMatch::from)
            .collect())
    }
}

pub fn hashes(h: std::collections::BTreeMap<String, String>) -> Vec<Hash> {
    h.into_iter()
        .map(|(algorithm, value)| Hash { algorithm, value })
        .collect()
}

impl From<model::PackageVersion> for PackageVersion {
    fn from(v: model::PackageVersion) -> PackageVersion {
        PackageVersion {
            purl: v.purl,
            package: v.package,
            version: v.version,
            licenses: v.licenses,
            hashes: hashes(v.hashes),
            image_count: v.image_count as i32,
        }
    }
}

/// An image's current SBOM.
#[derive(SimpleObject)]
pub struct ImageSbom {
    /// `CycloneDX` or `SPDX`.
    pub format: String,
    pub spec_version: String,
    /// `sha256:` of the document as received.
    pub document_digest: String,
    /// `upload`, `referrers` (the OCI referrers API or its tag schema) or `tag` (cosign).
    pub via: String,
    pub attached_at: DateTime<Utc>,
    pub package_count: i32,
    pub direct_count: i32,
    /// Per-component problems found when it was imported.
    pub warnings: Vec<String>,
}

impl From<model::ImageSbom> for ImageSbom {
    fn from(s: model::ImageSbom) -> ImageSbom {
        ImageSbom {
            format: s.format,
            spec_version: s.spec_version,
            document_digest: s.document_digest,
            via: s.via,
            attached_at: s.attached_at,
            package_count: s.packages as i32,
            direct_count: s.direct as i32,
            warnings: s.warnings,
        }
    }
}

/// One entry of an image's bill of materials.
#[derive(SimpleObject)]
pub struct BomPackage {
    /// The purl as the SBOM gave it (canonical, qualifiers kept); null when it gave none.
    pub purl: Option<String>,
    /// The package version's purl (no qualifiers).
    pub package_version: Option<String>,
    pub name: String,
    pub version: Option<String>,
    /// 1 for a direct dependency, 2+ for transitive ones; null when the SBOM does not say.
    pub depth: Option<i32>,
    pub direct: bool,
    pub licenses: Vec<String>,
    pub hashes: Vec<Hash>,
}

impl From<model::BomPackage> for BomPackage {
    fn from(p: model::BomPackage) -> BomPackage {
        BomPackage {
            direct: p.depth == Some(1),
            purl: p.purl,
            package_version: p.package_version,
            name: p.name,
            version: p.version,
            depth: p.depth.map(|d| d as i32),
            licenses: p.licenses,
            hashes: hashes(p.hashes),
        }
    }
}

/// The packages of an image in SBOM order, a connection (only direct ones when `direct`).
pub fn bom_page(
    ctx: &Context<'_>,
    digest: &str,
    direct: bool,
    first: Option<i32>,
    after: Option<String>,
) -> async_graphql::Result<CountedConnection<BomPackage>> {
    let w = Window::new(if direct { "bom:direct" } else { "bom" }, first, after)?;
    let c = graph(ctx)?;
    let total = c
        .image_sbom(digest)
        .map_or(0, |s| if direct { s.direct } else { s.packages });
    let page = c.image_packages(digest, direct, w.first, w.offset);
    let items = page.items.into_iter().map(BomPackage::from).collect();
    Ok(w.connection(items, page.has_next, total))
}

/// The vulnerability records affecting an image's packages.
pub fn image_vulnerabilities(
    ctx: &Context<'_>,
    digest: &str,
    include_suppressed: bool,
) -> async_graphql::Result<Vec<VulnerabilityMatch>> {
    let c = graph(ctx)?;
    Ok(c.image_vulnerabilities(digest)
        .into_iter()
        .map(VulnerabilityMatch::from)
        .filter(|m| include_suppressed || !m.suppressed)
        .collect())
}

/// How one image contains the package asked about.
#[derive(SimpleObject)]
pub struct PackageInImage {
    pub digest: String,
    /// The matching versions' purls in this image.
    pub package_versions: Vec<String>,
    /// The shallowest depth its SBOM lists the package at (1: a direct dependency).
    pub depth: Option<i32>,
    pub direct: bool,
    pub component_versions: Vec<ComponentVersion>,
    /// What runs this image now.
    pub deployments: Vec<Deployment>,
    /// Owners of the component versions built from it (team names).
    pub owners: Vec<String>,
}

impl From<model::PackageInImage> for PackageInImage {
    fn from(i: model::PackageInImage) -> PackageInImage {
        PackageInImage {
            digest: i.image,
            package_versions: i.package_versions,
            depth: i.depth.map(|d| d as i32),
            direct: i.depth == Some(1),
            component_versions: i
                .component_versions
                .into_iter()
                .map(ComponentVersion)
                .collect(),
            deployments: i.deployments.into_iter().map(Deployment::from).collect(),
            owners: i.owners,
        }
    }
}

/// Counts first, for the responder who needs the size of it before the list.
#[derive(SimpleObject)]
pub struct ReachTotals {
    pub images: i32,
    pub component_versions: i32,
    pub deployments: i32,
    pub clusters: i32,
    pub owners: i32,
}

fn totals(
    images: &[model::PackageInImage],
    deployments: &[model::Deployment],
    owners: usize,
) -> ReachTotals {
    let cvs: BTreeSet<(&str, &str)> = images
        .iter()
        .flat_map(|i| i.component_versions.iter())
        .map(|v| (v.component.as_str(), v.version.as_str()))
        .collect();
    let clusters: BTreeSet<&str> = deployments.iter().map(|d| d.cluster.as_str()).collect();
    ReachTotals {
        images: images.len() as i32,
        component_versions: cvs.len() as i32,
        deployments: deployments.len() as i32,
        clusters: clusters.len() as i32,
        owners: owners as i32,
    }
}

/// What a package or a vulnerability reaches, kept whole for one request and paged: its
/// fields are the reports' own (flattened into each).
pub struct Reach {
    images: Vec<model::PackageInImage>,
    deployments: Vec<model::Deployment>,
    owners: Vec<String>,
}

#[Object]
impl Reach {
    /// Images containing an affected (or the matched) package version: direct dependents
    /// first.
    #[graphql(complexity = "1 + super::listed(first) * child_complexity")]
    async fn images(
        &self,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CountedConnection<PackageInImage>> {
        Ok(Window::new("reach:images", first, after)?.cut_with(&self.images, PackageInImage::from))
    }

    /// Every live deployment of those images.
    #[graphql(complexity = "1 + super::listed(first) * child_complexity")]
    async fn deployments(
        &self,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CountedConnection<Deployment>> {
        Ok(Window::new("reach:deployments", first, after)?
            .cut_with(&self.deployments, Deployment::from))
    }

    /// The teams to call.
    #[graphql(complexity = "1 + super::listed(first) * child_complexity")]
    async fn owners(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CountedConnection<Team>> {
        let w = Window::new("reach:owners", first, after)?;
        let c = graph(ctx)?;
        Ok(w.cut_by(&self.owners, |n| c.team(n).map(Team)))
    }
}

/// Where a package is: the images containing it, their component versions, what runs them
/// now, and whom to call.
#[derive(SimpleObject)]
pub struct PackageReport {
    pub package: Package,
    /// The versions that matched, newest first.
    pub versions: Vec<PackageVersion>,
    pub totals: ReachTotals,
    #[graphql(flatten)]
    pub reach: Reach,
}

/// A vulnerability record affecting one package version.
#[derive(SimpleObject)]
pub struct VulnerabilityMatch {
    pub id: String,
    pub aliases: Vec<String>,
    pub summary: Option<String>,
    /// Severity scores as the record gives them (CVSS vectors).
    pub severity: Vec<String>,
    pub package_version: String,
    pub package: String,
    pub version: String,
    /// Versions the record says fix it.
    pub fixed: Vec<String>,
    /// A VEX statement takes this match out of the counts (`vex` says who said so, and why).
    pub suppressed: bool,
    /// The VEX statement holding for this match, if any.
    pub vex: Option<VexVerdict>,
}

impl From<model::VulnerabilityMatch> for VulnerabilityMatch {
    fn from(m: model::VulnerabilityMatch) -> VulnerabilityMatch {
        VulnerabilityMatch {
            id: m.id,
            aliases: m.aliases,
            summary: m.summary,
            severity: m.severity,
            package_version: m.package_version,
            package: m.package,
            version: m.version,
            fixed: m.fixed,
            suppressed: m.vex.as_ref().is_some_and(|v| v.suppressed),
            vex: m.vex.map(VexVerdict::from),
        }
    }
}

/// What a VEX statement says about a match, who said it, and when.
#[derive(SimpleObject)]
pub struct VexVerdict {
    /// `not_affected`, `affected`, `fixed` or `under_investigation`.
    pub status: String,
    /// Why it is not affected (`vulnerable_code_not_in_execute_path`, ...).
    pub justification: Option<String>,
    /// The impact statement: how the product is (not) affected, in the author's words.
    pub impact: Option<String>,
    /// What to do about it (`affected`: the action statement; CycloneDX: the responses).
    pub action: Option<String>,
    /// The statement's author (the document's, or the token's name).
    pub author: String,
    /// The VEX document's id.
    pub document: String,
    /// What the statement was about (`image:sha256:...`, `version:shop/cart@1.2.0`,
    /// `package:pkg:...`).
    pub product: String,
    /// When the statement was made; a later one about the same match supersedes it.
    pub stated_at: DateTime<Utc>,
    /// When a suppression ends.
    pub until: Option<DateTime<Utc>>,
    /// Its `until` has passed: the match counts again.
    pub expired: bool,
    /// It takes the match out of the counts.
    pub suppressed: bool,
}

impl From<model::VexVerdict> for VexVerdict {
    fn from(v: model::VexVerdict) -> VexVerdict {
        VexVerdict {
            status: v.status,
            justification: v.justification,
            impact: v.impact,
            action: v.action,
            author: v.author,
            document: v.document,
            product: v.product,
            stated_at: v.stated_at,
            until: v.until,
            expired: v.expired,
            suppressed: v.suppressed,
        }
    }
}

/// An image a vulnerability reaches, out of the counts by VEX.
#[derive(SimpleObject)]
pub struct SuppressedImage {
    /// The image's digest.
    pub digest: String,
    /// The affected package versions (purls) it contains, each suppressed there.
    pub package_versions: Vec<String>,
    /// The component versions built from it.
    pub component_versions: Vec<ComponentVersion>,
    /// The statement that suppresses it (the first, when several package versions match).
    pub vex: VexVerdict,
}

/// A package a vulnerability record names, with its affected ranges as written.
#[derive(SimpleObject)]
pub struct AffectedPackage {
    pub ecosystem: String,
    pub name: String,
    /// The versionless purl the catalog matches it by (null for ecosystems it cannot map).
    pub purl: Option<String>,
    /// Ranges, e.g. `introduced 2.0-beta9, fixed 2.15.0`.
    pub ranges: Vec<String>,
    /// Versions the record enumerates.
    pub versions: Vec<String>,
}

/// A vulnerability and everything in the catalog it affects now.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct VulnerabilityReport {
    pub id: String,
    pub aliases: Vec<String>,
    pub summary: Option<String>,
    pub details: Option<String>,
    pub severity: Vec<String>,
    pub published: Option<DateTime<Utc>>,
    pub modified: Option<DateTime<Utc>>,
    /// Set when the record was withdrawn: it then affects nothing.
    pub withdrawn: Option<DateTime<Utc>>,
    pub references: Vec<String>,
    pub affected: Vec<AffectedPackage>,
    /// Package versions the catalog has that it affects.
    pub package_versions: Vec<PackageVersion>,
    pub totals: ReachTotals,
    #[graphql(flatten)]
    pub reach: Reach,
    #[graphql(skip)]
    pub suppressed: Vec<model::SuppressedImage>,
}

#[ComplexObject]
impl VulnerabilityReport {
    /// Images its ranges reach where VEX statements say they are not affected (or fixed):
    /// not in `images`, `deployments`, `owners` or `totals`.
    #[graphql(complexity = "1 + super::listed(first) * child_complexity")]
    async fn suppressed(
        &self,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CountedConnection<SuppressedImage>> {
        Ok(
            Window::new("reach:suppressed", first, after)?.cut_with(&self.suppressed, |s| {
                SuppressedImage {
                    digest: s.image,
                    package_versions: s.package_versions,
                    component_versions: s
                        .component_versions
                        .into_iter()
                        .map(ComponentVersion)
                        .collect(),
                    vex: s.vex.into(),
                }
            }),
        )
    }
}

/// A purl and an optional `vers:` range, checked together; errors name the argument. A range
/// needs a versionless purl and the package type's own version scheme.
pub fn package_target(
    purl_field: &str,
    purl: &str,
    range_field: &str,
    range: Option<&str>,
) -> async_graphql::Result<(Purl, Option<VersRange>)> {
    let p = parse_purl(purl_field, purl)?;
    let Some(r) = range else {
        return Ok((p, None));
    };
    if p.version.is_some() {
        return Err(ApiError::bad(
            range_field,
            format!(
                "give a versionless purl with a range (the purl names version {})",
                p.version.as_deref().unwrap_or("")
            ),
        )
        .graphql());
    }
    let r = VersRange::parse(r).map_err(|e| ApiError::bad(range_field, e.to_string()).graphql())?;
    let want = Scheme::for_purl_type(&p.ty);
    if r.scheme != want && r.scheme != Scheme::Generic {
        return Err(ApiError::bad(
            range_field,
            format!(
                "vers:{} versions do not compare like {} package versions; use vers:{}/...",
                r.scheme_name, p.ty, p.ty
            ),
        )
        .graphql());
    }
    Ok((p, Some(r)))
}

/// A purl argument, checked; its error names the argument.
fn parse_purl(field: &str, s: &str) -> async_graphql::Result<Purl> {
    Purl::parse(s).map_err(|e| ApiError::bad(field, e.to_string()).graphql())
}

#[derive(Default)]
pub struct PackageQuery;

#[Object]
impl PackageQuery {
    /// One search box: components, packages (by name or purl prefix), images (by digest
    /// prefix), teams, clusters and vulnerabilities (by id or alias), ranked best first.
    #[graphql(complexity = "1 + super::listed(Some(first)) * child_complexity")]
    async fn search(
        &self,
        ctx: &Context<'_>,
        text: String,
        #[graphql(desc = "Only these kinds (default: all).")] kinds: Option<Vec<SearchKind>>,
        #[graphql(default = 20)] first: i32,
    ) -> async_graphql::Result<Vec<SearchHit>> {
        let first = page_size(Some(first))?;
        if text.len() > 1024 {
            return Err(ApiError::bad("text", "at most 1024 characters").graphql());
        }
        let kinds: Vec<CoreKind> = kinds
            .unwrap_or_default()
            .into_iter()
            .map(CoreKind::from)
            .collect();
        let hits = graph(ctx)?.search(&text, &kinds, first);
        Ok(hits
            .into_iter()
            .map(|h| SearchHit {
                kind: h.kind.into(),
                id: h.id,
                detail: h.detail,
                score: h.score,
            })
            .collect())
    }

    /// Where a package is. `purl` with a version: that version; without: every version, or
    /// those in `range` (a `vers:` range such as `vers:maven/>=2.0.0|<2.15.0`, compared in the
    /// package type's own version scheme). Null when no SBOM names the package.
    async fn package(
        &self,
        ctx: &Context<'_>,
        purl: String,
        range: Option<String>,
    ) -> async_graphql::Result<Option<PackageReport>> {
        let (p, range) = package_target("purl", &purl, "range", range.as_deref())?;
        let report = graph(ctx)?.package_report(&p, range.as_ref());
        let Some(r) = report else {
            return Ok(None);
        };
        let t = totals(&r.images, &r.deployments, r.owners.len());
        Ok(Some(PackageReport {
            package: r.package.into(),
            versions: r.versions.into_iter().map(PackageVersion::from).collect(),
            totals: t,
            reach: Reach {
                images: r.images,
                deployments: r.deployments,
                owners: r.owners,
            },
        }))
    }

    /// A vulnerability by id or alias (a CVE id finds the advisory carrying it), with
    /// everything it affects running now. Null when no imported record has that id.
    async fn vulnerability(
        &self,
        ctx: &Context<'_>,
        id: String,
    ) -> async_graphql::Result<Option<VulnerabilityReport>> {
        let report = graph(ctx)?.vulnerability_report(id.trim());
        let Some(r) = report else {
            return Ok(None);
        };
        let v = r.vulnerability;
        let t = totals(&r.images, &r.deployments, r.owners.len());
        Ok(Some(VulnerabilityReport {
            id: v.id,
            aliases: v.aliases,
            summary: v.summary,
            details: v.details,
            severity: v.severity.into_iter().map(|s| s.score).collect(),
            published: v.published,
            modified: v.modified,
            withdrawn: v.withdrawn,
            references: v.references.into_iter().map(|r| r.url).collect(),
            affected: v
                .affected
                .into_iter()
                .map(|a| AffectedPackage {
                    ecosystem: a
                        .package
                        .as_ref()
                        .map(|p| p.ecosystem.clone())
                        .unwrap_or_default(),
                    name: a
                        .package
                        .as_ref()
                        .map(|p| p.name.clone())
                        .unwrap_or_default(),
                    purl: a.package.as_ref().and_then(|p| p.package_key()),
                    ranges: a
                        .ranges
                        .iter()
                        .map(|r| {
                            r.events
                                .iter()
                                .map(|e| {
                                    [
                                        ("introduced", &e.introduced),
                                        ("fixed", &e.fixed),
                                        ("last_affected", &e.last_affected),
                                        ("limit", &e.limit),
                                    ]
                                    .into_iter()
                                    .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k} {v}")))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                                })
                                .collect::<Vec<_>>()
                                .join(", ")
                        })
                        .collect(),
                    versions: a.versions,
                })
                .collect(),
            package_versions: r
                .package_versions
                .into_iter()
                .map(PackageVersion::from)
                .collect(),
            totals: t,
            reach: Reach {
                images: r.images,
                deployments: r.deployments,
                owners: r.owners,
            },
            suppressed: r.suppressed,
        }))
    }

    /// Vulnerabilities of an image (by digest), a component version (`component` and
    /// `version`), or everything running in a cluster now. Give exactly one. A connection:
    /// a cluster's list can be long.
    #[graphql(complexity = "1 + super::listed(first) * child_complexity")]
    #[allow(clippy::too_many_arguments)]
    async fn vulnerabilities(
        &self,
        ctx: &Context<'_>,
        image: Option<String>,
        component: Option<String>,
        version: Option<String>,
        cluster: Option<String>,
        #[graphql(
            default = false,
            desc = "Also the matches VEX statements suppress (each says so in `suppressed`)."
        )]
        include_suppressed: bool,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CountedConnection<VulnerabilityMatch>> {
        let window = Window::new("vulnerabilities", first, after)?;
        let c = graph(ctx)?;
        let found = match (image, component, version, cluster) {
            (Some(d), None, None, None) => {
                if !catalog_core::identity::valid_digest(&d) {
                    return Err(ApiError::bad(
                        "image",
                        format!("{d:?} is not a digest (sha256:<64 hex>)"),
                    )
                    .graphql());
                }
                c.image_vulnerabilities(&d)
            }
            (None, Some(comp), Some(v), None) => c.version_vulnerabilities(&comp, &v),
            (None, None, None, Some(cl)) => c.cluster_vulnerabilities(&cl),
            (None, Some(_), None, None) => {
                return Err(ApiError::bad("version", "needs `component` and `version`").graphql())
            }
            _ => {
                return Err(ApiError::bad(
                    "image",
                    "give exactly one of `image`, `component` with `version`, or `cluster`",
                )
                .graphql())
            }
        };
        Ok(window.cut(
            found
                .into_iter()
                .map(VulnerabilityMatch::from)
                .filter(|m| include_suppressed || !m.suppressed)
                .collect(),
        ))
    }
}
