//! Packages and bills of materials: which images contain which package versions.
//!
//! The package -> image edges are many (hundreds per image), so they are not petgraph edges:
//! package versions live in a dense table (`PvId` indexes it) with a per-version reverse map to
//! the images containing it, and each image keeps its current SBOM with a parallel list of
//! version ids. Replacing an image's SBOM removes exactly the old edges and adds the new.

use super::{Catalog, Page};
use crate::event::SbomAttached;
use crate::model;
use crate::purl::Purl;
use crate::sbom::Sbom;
use crate::versioning::VersRange;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

pub(super) type PvId = u32;

#[derive(Debug)]
pub(super) struct PackageEntry {
    pub(super) purl: Purl,
    /// version -> id
    pub(super) versions: BTreeMap<String, PvId>,
}

#[derive(Debug)]
pub(super) struct PvEntry {
    pub(super) package: Arc<str>,
    /// `pkg:type/ns/name@version`, canonical.
    pub(super) purl: Arc<str>,
    pub(super) version: String,
    pub(super) licenses: BTreeSet<String>,
    pub(super) hashes: BTreeMap<String, String>,
    /// image digest -> the shallowest depth its SBOM lists this version at.
    pub(super) images: HashMap<Arc<str>, Option<u32>>,
}

impl PvEntry {
    pub(super) fn purl(&self) -> String {
        self.purl.to_string()
    }
}

#[derive(Debug)]
pub(super) struct ImageBom {
    rank: (DateTime<Utc>, String),
    document_digest: String,
    via: String,
    sbom: Sbom,
    /// Parallel to `sbom.packages`: the version each names, when it has a purl.
    pvs: Vec<Option<PvId>>,
}

/// What a set of package versions reaches (see [`Catalog::reach`]).
pub(super) struct Reach {
    pub(super) images: Vec<model::PackageInImage>,
    pub(super) deployments: Vec<model::Deployment>,
    pub(super) owners: Vec<String>,
}

#[derive(Debug, Default)]
pub(super) struct Packages {
    /// Versionless canonical purl -> package.
    pub(super) packages: BTreeMap<Arc<str>, PackageEntry>,
    pub(super) versions: Vec<PvEntry>,
    boms: HashMap<Arc<str>, ImageBom>,
}

impl Packages {
    fn version_id(&mut self, p: &Purl, version: &str) -> (PvId, bool) {
        let key = p.package();
        let mut new_package = false;
        let entry = match self.packages.get_mut(key.as_str()) {
            Some(e) => e,
            None => {
                new_package = true;
                let mut bare = p.clone();
                bare.version = None;
                bare.qualifiers.clear();
                bare.subpath = None;
                self.packages
                    .entry(Arc::from(key.as_str()))
                    .or_insert(PackageEntry {
                        purl: bare,
                        versions: BTreeMap::new(),
                    })
            }
        };
        if let Some(id) = entry.versions.get(version) {
            return (*id, new_package);
        }
        let id = self.versions.len() as PvId;
        entry.versions.insert(version.to_string(), id);
        let package = self
            .packages
            .get_key_value(key.as_str())
            .map(|(k, _)| k.clone())
            .unwrap_or_else(|| Arc::from(key.as_str()));
        let mut pv = p.clone();
        pv.version = Some(version.to_string());
        self.versions.push(PvEntry {
            package,
            purl: Arc::from(pv.package_version().as_str()),
            version: version.to_string(),
            licenses: BTreeSet::new(),
            hashes: BTreeMap::new(),
            images: HashMap::new(),
        });
        (id, new_package)
    }
}

impl Catalog {
    pub(super) fn sbom_attached(&mut self, e: &SbomAttached, t: DateTime<Utc>, key: &str) {
        let rank = (t, key.to_string());
        let image: Arc<str> = match self.packages.boms.get_key_value(e.image.as_str()) {
            Some((k, bom)) => {
                if bom.rank >= rank {
                    // An older (or the same) SBOM: the current one stands. Its packages are
                    // still known, as they would be had it arrived first.
                    self.know_packages(e);
                    return;
                }
                k.clone()
            }
            None => Arc::from(e.image.as_str()),
        };
        if let Some(old) = self.packages.boms.remove(&image) {
            for pv in old.pvs.into_iter().flatten() {
                if let Some(v) = self.packages.versions.get_mut(pv as usize) {
                    v.images.remove(&image);
                }
            }
        }
        let mut pvs = Vec::with_capacity(e.sbom.packages.len());
        for p in &e.sbom.packages {
            let id = self.intern_package(p);
            if let Some(v) = id.and_then(|id| self.packages.versions.get_mut(id as usize)) {
                let d = v.images.entry(image.clone()).or_insert(p.depth);
                *d = match (*d, p.depth) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
            pvs.push(id);
        }
        self.search
            .add(super::search::SearchKind::Image, image.as_ref());
        self.packages.boms.insert(
            image,
            ImageBom {
                rank,
                document_digest: e.document_digest.clone(),
                via: e.via.clone(),
                sbom: e.sbom.clone(),
                pvs,
            },
        );
    }

    /// Makes the packages of an SBOM known (searchable, with their versions) without
    /// linking them to its image.
    fn know_packages(&mut self, e: &SbomAttached) {
        for p in &e.sbom.packages {
            self.intern_package(p);
        }
    }

    /// The version id of an SBOM entry with a purl (created on first sight, its licenses and
    /// hashes merged in); `None` for an entry without a purl or a version.
    fn intern_package(&mut self, p: &crate::sbom::SbomPackage) -> Option<PvId> {
        let purl = p.purl.as_deref().and_then(|s| Purl::parse(s).ok())?;
        let version = purl.version.clone().or_else(|| p.version.clone())?;
        let (id, new_package) = self.packages.version_id(&purl, &version);
        if new_package {
            self.search
                .add(super::search::SearchKind::Package, &purl.package());
        }
        if let Some(v) = self.packages.versions.get_mut(id as usize) {
            v.licenses.extend(p.licenses.iter().cloned());
            for (alg, h) in &p.hashes {
                v.hashes.entry(alg.clone()).or_insert_with(|| h.clone());
            }
        }
        Some(id)
    }

    fn package_model(&self, key: &str, p: &PackageEntry) -> model::Package {
        let mut images: BTreeSet<&Arc<str>> = BTreeSet::new();
        for id in p.versions.values() {
            if let Some(v) = self.packages.versions.get(*id as usize) {
                images.extend(v.images.keys());
            }
        }
        model::Package {
            purl: key.to_string(),
            ty: p.purl.ty.clone(),
            namespace: p.purl.namespace.clone(),
            name: p.purl.name.clone(),
            version_count: p.versions.len(),
            image_count: images.len(),
        }
    }

    pub(super) fn package_version_model(&self, v: &PvEntry) -> model::PackageVersion {
        model::PackageVersion {
            purl: v.purl(),
            package: v.package.to_string(),
            version: v.version.clone(),
            licenses: v.licenses.iter().cloned().collect(),
            hashes: v.hashes.clone(),
            image_count: v.images.len(),
        }
    }

    /// The version ids of a package that match: every version when neither a version nor a
    /// range is given, the purl's version, or those inside the `vers:` range (compared in the
    /// package type's own version scheme).
    fn matching_versions(
        &self,
        p: &PackageEntry,
        purl: &Purl,
        range: Option<&VersRange>,
    ) -> Vec<PvId> {
        p.versions
            .iter()
            .filter(|(version, _)| match (&purl.version, range) {
                (Some(want), _) => *version == want,
                (None, Some(r)) => r.contains(version),
                (None, None) => true,
            })
            .map(|(_, id)| *id)
            .collect()
    }

    /// Where a package is: images containing it (directly or transitively), the component
    /// versions built from them, where those run now, and their owners. `purl` may carry a
    /// version (that one) or not (any, or those in `range`). `None` when the catalog has never
    /// seen the package.
    pub fn package_report(
        &self,
        purl: &Purl,
        range: Option<&VersRange>,
    ) -> Option<model::PackageReport> {
        let key = purl.package();
        let entry = self.packages.packages.get(key.as_str())?;
        let ids = self.matching_versions(entry, purl, range);
        let versions = self.newest_first(&entry.purl.ty, ids.iter().copied());
        let reach = self.reach(&versions);
        Some(model::PackageReport {
            package: self.package_model(&key, entry),
            versions: versions
                .into_iter()
                .map(|v| self.package_version_model(v))
                .collect(),
            images: reach.images,
            deployments: reach.deployments,
            owners: reach.owners,
        })
    }

    /// What a set of package versions reaches: the images containing any of them (with the
    /// versions and shallowest depth per image), the component versions built from those,
    /// where they run now, and the owners.
    pub(super) fn reach(&self, versions: &[&PvEntry]) -> Reach {
        // image -> (matched versions, shallowest depth)
        let mut by_image: BTreeMap<&Arc<str>, (Vec<String>, Option<u32>)> = BTreeMap::new();
        for v in versions {
            for (img, depth) in &v.images {
                let e = by_image.entry(img).or_insert((Vec::new(), *depth));
                e.0.push(v.purl());
                e.1 = match (e.1, *depth) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
        }
        let mut images = Vec::with_capacity(by_image.len());
        let mut deployments: BTreeMap<(Option<String>, String, String, String), model::Deployment> =
            BTreeMap::new();
        let mut owners: BTreeSet<String> = BTreeSet::new();
        for (img, (package_versions, depth)) in by_image {
            let component_versions = self.versions_built_from(img);
            let mut image_owners: BTreeSet<String> = BTreeSet::new();
            for cv in &component_versions {
                if let Some(o) = self
                    .components
                    .get(&cv.component)
                    .and_then(|c| self.owner_of(*c))
                {
                    image_owners.insert(o);
                }
            }
            let live = self.where_is(&super::WhereIs::Image(img.to_string()), None);
            for d in &live {
                for r in &d.runs {
                    if let Some(o) = &r.owner {
                        image_owners.insert(o.clone());
                    }
                }
                deployments
                    .entry((
                        d.environment.clone(),
                        d.cluster.clone(),
                        d.namespace.clone(),
                        d.workload.clone(),
                    ))
                    .or_insert_with(|| d.clone());
            }
            owners.extend(image_owners.iter().cloned());
            images.push(model::PackageInImage {
                image: img.to_string(),
                package_versions,
                depth,
                component_versions,
                deployments: live,
                owners: image_owners.into_iter().collect(),
            });
        }
        // Direct first (depth 1), then deeper, unknown last; by digest within a depth.
        images.sort_by(|a, b| {
            (a.depth.unwrap_or(u32::MAX), &a.image).cmp(&(b.depth.unwrap_or(u32::MAX), &b.image))
        });
        Reach {
            images,
            deployments: deployments.into_values().collect(),
            owners: owners.into_iter().collect(),
        }
    }

    /// The component versions built from an image, or from the index holding it when the
    /// digest is one platform's manifest.
    pub(super) fn versions_built_from(&self, digest: &str) -> Vec<model::ComponentVersion> {
        let mut out = self.image_versions(digest);
        if out.is_empty() {
            if let Some(parent) = self.platform_parent.get(digest) {
                out = self.image_versions(parent);
            }
        }
        out
    }

    /// Package versions, newest first in the package type's own version order (as text where
    /// a version does not parse in it).
    fn newest_first(&self, ty: &str, ids: impl Iterator<Item = PvId>) -> Vec<&PvEntry> {
        let scheme = crate::versioning::Scheme::for_purl_type(ty);
        let mut out: Vec<&PvEntry> = ids
            .filter_map(|id| self.packages.versions.get(id as usize))
            .collect();
        out.sort_by(|a, b| {
            scheme
                .compare(&b.version, &a.version)
                .unwrap_or_else(|| b.version.cmp(&a.version))
        });
        out
    }

    /// A package by its versionless purl.
    pub fn package(&self, key: &str) -> Option<model::Package> {
        let p = Purl::parse(key).ok()?;
        let key = p.package();
        self.packages
            .packages
            .get(key.as_str())
            .map(|e| self.package_model(&key, e))
    }

    /// A package's versions, newest first.
    pub fn package_versions(&self, key: &str) -> Vec<model::PackageVersion> {
        let Some(p) = Purl::parse(key).ok() else {
            return Vec::new();
        };
        let Some(e) = self.packages.packages.get(p.package().as_str()) else {
            return Vec::new();
        };
        self.newest_first(&e.purl.ty, e.versions.values().copied())
            .into_iter()
            .map(|v| self.package_version_model(v))
            .collect()
    }

    /// An image's current SBOM (without its packages).
    pub fn image_sbom(&self, digest: &str) -> Option<model::ImageSbom> {
        let b = self.packages.boms.get(digest)?;
        Some(model::ImageSbom {
            image: digest.to_string(),
            format: b.sbom.format.clone(),
            spec_version: b.sbom.spec_version.clone(),
            document_digest: b.document_digest.clone(),
            via: b.via.clone(),
            attached_at: b.rank.0,
            packages: b.sbom.packages.len(),
            direct: b.sbom.packages.iter().filter(|p| p.is_direct()).count(),
            warnings: b.sbom.warnings.clone(),
        })
    }

    /// True when the image has an SBOM (the worker then does not look for one again).
    pub fn has_sbom(&self, digest: &str) -> bool {
        self.packages.boms.contains_key(digest)
    }

    /// An image's packages in SBOM order (only direct ones when asked), after an offset cursor.
    pub fn image_packages(
        &self,
        digest: &str,
        direct_only: bool,
        first: usize,
        after: usize,
    ) -> Page<model::BomPackage> {
        let Some(b) = self.packages.boms.get(digest) else {
            return Page {
                items: Vec::new(),
                has_next: false,
            };
        };
        let mut it = b
            .sbom
            .packages
            .iter()
            .zip(&b.pvs)
            .filter(|(p, _)| !direct_only || p.is_direct())
            .skip(after);
        let mut items = Vec::new();
        for (p, pv) in it.by_ref().take(first) {
            items.push(model::BomPackage {
                purl: p.purl.clone(),
                package_version: pv
                    .and_then(|id| self.packages.versions.get(id as usize))
                    .map(PvEntry::purl),
                name: p.name.clone(),
                version: p.version.clone(),
                depth: p.depth,
                licenses: p.licenses.clone(),
                hashes: p.hashes.clone(),
            });
        }
        Page {
            items,
            has_next: it.next().is_some(),
        }
    }

    /// The package versions of an image's SBOM, as ids (for vulnerability matching).
    pub(super) fn image_pvs(&self, digest: &str) -> impl Iterator<Item = PvId> + '_ {
        self.packages
            .boms
            .get(digest)
            .into_iter()
            .flat_map(|b| b.pvs.iter().flatten().copied())
    }

    pub(super) fn verify_packages(&self) -> Result<(), String> {
        for (img, b) in &self.packages.boms {
            if b.pvs.len() != b.sbom.packages.len() {
                return Err(format!("{img}: SBOM and version ids differ in length"));
            }
            for pv in b.pvs.iter().flatten() {
                let ok = self
                    .packages
                    .versions
                    .get(*pv as usize)
                    .is_some_and(|v| v.images.contains_key(img));
                if !ok {
                    return Err(format!("{img}: version {pv} lacks its reverse edge"));
                }
            }
        }
        for (i, v) in self.packages.versions.iter().enumerate() {
            for img in v.images.keys() {
                let ok = self
                    .packages
                    .boms
                    .get(img)
                    .is_some_and(|b| b.pvs.contains(&Some(i as PvId)));
                if !ok {
                    return Err(format!(
                        "{}@{} points at {img} whose SBOM lacks it",
                        v.package, v.version
                    ));
                }
            }
        }
        Ok(())
    }
}
