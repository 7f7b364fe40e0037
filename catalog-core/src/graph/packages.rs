//! Packages and bills of materials: which images contain which package versions.
//!
//! The package -> image edges are many (tens of millions at 100,000 images), so they are not
//! petgraph edges but a compact index of dense ids, about 10 bytes an edge:
//! - every image digest an SBOM names gets an `ImgId`; every package version a `PvId`;
//! - forward: each image's current BOM is a boxed slice of interned entry ids (4 bytes) and a
//!   parallel slice of depths (1 byte), in document order. An entry (purl as written, name,
//!   version, licenses, hashes) is interned once however many images list it;
//! - reverse: each package version keeps the sorted ids of the images containing it (4 bytes)
//!   and the shallowest depth in each (1 byte).
//!
//! Replacing an image's SBOM removes exactly the old edges and adds the new.

use super::{Catalog, Page};
use crate::event::SbomAttached;
use crate::model;
use crate::purl::Purl;
use crate::sbom::SbomPackage;
use crate::versioning::VersRange;
use chrono::{DateTime, Utc};
use hashbrown::HashTable;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

pub(super) type PvId = u32;
/// A digest named by an SBOM (registered or not), dense from 0.
pub(super) type ImgId = u32;

/// Depths are kept in one byte: 0 for unknown, saturating at 255.
fn pack_depth(d: Option<u32>) -> u8 {
    d.map_or(0, |d| d.clamp(1, 255) as u8)
}

pub(super) fn unpack_depth(d: u8) -> Option<u32> {
    (d != 0).then_some(u32::from(d))
}

/// The shallower of two packed depths (unknown loses to any known one).
fn min_depth(a: u8, b: u8) -> u8 {
    match (a, b) {
        (0, x) | (x, 0) => x,
        (a, b) => a.min(b),
    }
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct PackageEntry {
    pub(super) purl: Purl,
    /// version -> id
    pub(super) versions: BTreeMap<String, PvId>,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct PvEntry {
    pub(super) package: Arc<str>,
    /// `pkg:type/ns/name@version`, canonical.
    pub(super) purl: Arc<str>,
    pub(super) version: String,
    pub(super) licenses: BTreeSet<String>,
    pub(super) hashes: BTreeMap<String, String>,
    /// The images whose current SBOM lists this version, ascending.
    pub(super) images: Vec<ImgId>,
    /// Parallel to `images`: the shallowest packed depth it is listed at there.
    pub(super) depths: Vec<u8>,
}

impl PvEntry {
    pub(super) fn purl(&self) -> String {
        self.purl.to_string()
    }
}

/// One SBOM entry as written, shared by every image whose SBOM lists it identically.
#[derive(Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct BomItem {
    pv: Option<PvId>,
    purl: Option<Box<str>>,
    name: Box<str>,
    version: Option<Box<str>>,
    licenses: Box<[String]>,
    hashes: Box<[(String, String)]>,
}

impl BomItem {
    fn hash(&self, seed: &impl std::hash::BuildHasher) -> u64 {
        item_hash(
            seed,
            self.purl.as_deref(),
            &self.name,
            self.version.as_deref(),
            &self.licenses,
            self.hashes.iter().map(|(a, h)| (a.as_str(), h.as_str())),
        )
    }

    /// Is this the entry `p` would intern to?
    fn is(&self, p: &SbomPackage) -> bool {
        self.purl.as_deref() == p.purl.as_deref()
            && *self.name == *p.name
            && self.version.as_deref() == p.version.as_deref()
            && *self.licenses == *p.licenses
            && self.hashes.len() == p.hashes.len()
            && self
                .hashes
                .iter()
                .zip(&p.hashes)
                .all(|((a, h), (b, g))| a == b && h == g)
    }
}

/// The content hash of an SBOM entry (the version id is a function of the rest).
fn item_hash<'a>(
    seed: &impl std::hash::BuildHasher,
    purl: Option<&str>,
    name: &str,
    version: Option<&str>,
    licenses: &[String],
    hashes: impl Iterator<Item = (&'a str, &'a str)>,
) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = seed.build_hasher();
    purl.hash(&mut h);
    name.hash(&mut h);
    version.hash(&mut h);
    licenses.hash(&mut h);
    for (a, x) in hashes {
        a.hash(&mut h);
        x.hash(&mut h);
    }
    h.finish()
}

/// What a purl string of an SBOM entry resolves to.
#[derive(Debug, Clone, Copy)]
enum PurlSlot {
    /// Not a purl: the entry is kept by name.
    Invalid,
    /// A purl without a version: the entry's own version completes it.
    Unversioned,
    Version(PvId),
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct ImageBom {
    rank: (DateTime<Utc>, Box<str>),
    document_digest: Box<str>,
    via: Box<str>,
    format: Box<str>,
    spec_version: Box<str>,
    warnings: Box<[String]>,
    /// Interned entries in document order, and their packed depths.
    items: Box<[u32]>,
    depths: Box<[u8]>,
}

/// What a set of package versions reaches (see [`Catalog::reach`]).
pub(super) struct Reach {
    pub(super) images: Vec<model::PackageInImage>,
    pub(super) deployments: Vec<model::Deployment>,
    pub(super) owners: Vec<String>,
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(super) struct Packages {
    /// Versionless canonical purl -> package.
    pub(super) packages: BTreeMap<Arc<str>, PackageEntry>,
    pub(super) versions: Vec<PvEntry>,
    items: Vec<BomItem>,
    /// `items` by content hash ([`item_hash`]), so an entry seen before is found without
    /// building it (rebuilt when a snapshot is restored).
    #[serde(skip)]
    item_ids: HashTable<(u64, u32)>,
    /// The seed of [`item_hash`], the same for every entry of this index.
    #[serde(skip)]
    item_seed: hashbrown::DefaultHashBuilder,
    /// Purls as SBOM events write them -> what they resolve to: each distinct string is
    /// parsed once (a cache; empty after a snapshot is restored).
    #[serde(skip)]
    purls: hashbrown::HashMap<Box<str>, PurlSlot>,
    /// ImgId -> digest, and back.
    pub(super) digests: Vec<Arc<str>>,
    #[serde(skip)]
    pub(super) image_ids: HashMap<Arc<str>, ImgId>,
    /// ImgId -> its current BOM.
    boms: Vec<Option<ImageBom>>,
    /// ImgId -> the registered image's node, once a registry reported it.
    pub(super) nodes: Vec<Option<petgraph::stable_graph::NodeIndex>>,
}

impl Packages {
    /// Encoded bytes per part, for [`Catalog::snapshot_breakdown`].
    pub(super) fn breakdown(&self) -> Vec<(&'static str, usize)> {
        fn size<T: serde::Serialize>(v: &T) -> usize {
            postcard::to_stdvec(v).map_or(0, |b| b.len())
        }
        vec![
            ("packages", size(&self.packages)),
            ("package versions with their images", size(&self.versions)),
            ("interned SBOM entries", size(&self.items)),
            ("image BOMs", size(&self.boms)),
            ("digests and nodes", size(&self.digests) + size(&self.nodes)),
        ]
    }

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
            images: Vec::new(),
            depths: Vec::new(),
        });
        (id, new_package)
    }

    pub(super) fn image_id(&self, digest: &str) -> Option<ImgId> {
        self.image_ids.get(digest).copied()
    }

    fn ensure_image_id(&mut self, digest: &str) -> (ImgId, bool) {
        if let Some(i) = self.image_ids.get(digest) {
            return (*i, false);
        }
        let i = self.digests.len() as ImgId;
        let d: Arc<str> = Arc::from(digest);
        self.digests.push(d.clone());
        self.image_ids.insert(d, i);
        self.boms.push(None);
        self.nodes.push(None);
        (i, true)
    }

    /// Records that the image `digest` is registered as `node`.
    pub(super) fn set_node(&mut self, digest: &str, node: petgraph::stable_graph::NodeIndex) {
        if let Some(i) = self.image_ids.get(digest) {
            if let Some(slot) = self.nodes.get_mut(*i as usize) {
                *slot = Some(node);
            }
        }
    }

    fn bom(&self, img: ImgId) -> Option<&ImageBom> {
        self.boms.get(img as usize).and_then(Option::as_ref)
    }

    /// The id of an entry interned before with exactly this content.
    fn find_item(&self, p: &SbomPackage) -> Option<u32> {
        let h = item_hash(
            &self.item_seed,
            p.purl.as_deref(),
            &p.name,
            p.version.as_deref(),
            &p.licenses,
            p.hashes.iter().map(|(a, h)| (a.as_str(), h.as_str())),
        );
        self.item_ids
            .find(h, |(eh, i)| {
                *eh == h && self.items.get(*i as usize).is_some_and(|it| it.is(p))
            })
            .map(|(_, i)| *i)
    }

    fn intern_item(&mut self, item: BomItem) -> u32 {
        let i = self.items.len() as u32;
        let h = item.hash(&self.item_seed);
        self.item_ids.insert_unique(h, (h, i), |e| e.0);
        self.items.push(item);
        i
    }

    /// Rebuilds what a snapshot does not store: the lookups of entries and digests, and one
    /// shared string per package for its versions.
    pub(super) fn reindex(&mut self) {
        let mut ids = HashTable::with_capacity(self.items.len());
        for (i, it) in self.items.iter().enumerate() {
            let h = it.hash(&self.item_seed);
            ids.insert_unique(h, (h, i as u32), |e: &(u64, u32)| e.0);
        }
        self.item_ids = ids;
        self.image_ids = self
            .digests
            .iter()
            .enumerate()
            .map(|(i, d)| (d.clone(), i as ImgId))
            .collect();
        for v in &mut self.versions {
            if let Some((k, _)) = self.packages.get_key_value(&*v.package) {
                v.package = k.clone();
            }
        }
    }

    /// Links version `pv` to image `img` at `depth` (keeping the shallowest).
    fn link(&mut self, pv: PvId, img: ImgId, depth: u8) {
        let Some(v) = self.versions.get_mut(pv as usize) else {
            return;
        };
        // Images get ids as their first SBOM arrives, so a replay links in ascending order:
        // an append, not a search.
        if v.images.last().is_none_or(|last| *last < img) {
            v.images.push(img);
            v.depths.push(depth);
            return;
        }
        match v.images.binary_search(&img) {
            Ok(at) => v.depths[at] = min_depth(v.depths[at], depth),
            Err(at) => {
                v.images.insert(at, img);
                v.depths.insert(at, depth);
            }
        }
    }

    fn unlink(&mut self, pv: PvId, img: ImgId) {
        let Some(v) = self.versions.get_mut(pv as usize) else {
            return;
        };
        if let Ok(at) = v.images.binary_search(&img) {
            v.images.remove(at);
            v.depths.remove(at);
        }
    }

    /// The package versions an image's current BOM lists (with repeats when it lists one
    /// twice).
    pub(super) fn image_pv_ids(&self, img: ImgId) -> impl Iterator<Item = PvId> + '_ {
        self.bom(img)
            .into_iter()
            .flat_map(|b| b.items.iter())
            .filter_map(|i| self.items.get(*i as usize).and_then(|it| it.pv))
    }

    /// Bytes held by the package -> image index (both directions, the interned entries and
    /// the per-image headers), for the benchmark's bytes-per-edge figure.
    pub(super) fn index_bytes(&self) -> (usize, usize) {
        use std::mem::size_of;
        let mut bytes = 0usize;
        let mut edges = 0usize;
        for v in &self.versions {
            bytes += size_of::<PvEntry>()
                + v.images.capacity() * size_of::<ImgId>()
                + v.depths.capacity()
                + v.purl.len()
                + v.version.capacity();
        }
        for b in self.boms.iter().flatten() {
            edges += b.items.len();
            bytes += size_of::<ImageBom>() + b.items.len() * 5;
        }
        bytes += self.boms.capacity() * size_of::<Option<ImageBom>>();
        for it in &self.items {
            bytes += size_of::<BomItem>()
                + 2 * size_of::<usize>()
                + it.purl.as_ref().map_or(0, |p| p.len())
                + it.name.len()
                + it.version.as_ref().map_or(0, |p| p.len())
                + it.licenses.iter().map(|l| l.capacity() + 24).sum::<usize>()
                + it.hashes
                    .iter()
                    .map(|(a, h)| a.capacity() + h.capacity() + 48)
                    .sum::<usize>()
                + 24;
        }
        bytes += self.digests.len() * (71 + 16 + 16 + 8);
        (bytes, edges)
    }
}

impl Catalog {
    pub(super) fn sbom_attached(&mut self, e: &SbomAttached, t: DateTime<Utc>, key: &str) {
        let rank: (DateTime<Utc>, Box<str>) = (t, Box::from(key));
        let (img, new_image) = self.packages.ensure_image_id(&e.image);
        if new_image {
            self.search
                .add(super::search::SearchKind::Image, e.image.as_str());
            if let Some(n) = self.images.get(&e.image) {
                self.packages.set_node(&e.image, *n);
            }
        }
        if let Some(bom) = self.packages.bom(img) {
            if bom.rank >= rank {
                // An older (or the same) SBOM: the current one stands. Its packages are
                // still known, as they would be had it arrived first.
                self.know_packages(e);
                return;
            }
        }
        if let Some(old) = self
            .packages
            .boms
            .get_mut(img as usize)
            .and_then(Option::take)
        {
            for i in old.items.iter() {
                if let Some(pv) = self.packages.items.get(*i as usize).and_then(|it| it.pv) {
                    self.packages.unlink(pv, img);
                }
            }
        }
        let mut items = Vec::with_capacity(e.sbom.packages.len());
        let mut depths = Vec::with_capacity(e.sbom.packages.len());
        for p in &e.sbom.packages {
            let depth = pack_depth(p.depth);
            // An entry listed identically before (most are: a few packages are in nearly
            // every image) has its version known and its licenses and hashes merged already.
            if let Some(i) = self.packages.find_item(p) {
                if let Some(pv) = self.packages.items.get(i as usize).and_then(|it| it.pv) {
                    self.packages.link(pv, img, depth);
                }
                items.push(i);
                depths.push(depth);
                continue;
            }
            let pv = self.intern_package(p);
            if let Some(pv) = pv {
                self.packages.link(pv, img, depth);
            }
            let item = BomItem {
                pv,
                purl: p.purl.as_deref().map(Box::from),
                name: Box::from(p.name.as_str()),
                version: p.version.as_deref().map(Box::from),
                licenses: p.licenses.clone().into_boxed_slice(),
                hashes: p
                    .hashes
                    .iter()
                    .map(|(a, h)| (a.clone(), h.clone()))
                    .collect(),
            };
            items.push(self.packages.intern_item(item));
            depths.push(depth);
        }
        if let Some(slot) = self.packages.boms.get_mut(img as usize) {
            *slot = Some(ImageBom {
                rank,
                document_digest: Box::from(e.document_digest.as_str()),
                via: Box::from(e.via.as_str()),
                format: Box::from(e.sbom.format.as_str()),
                spec_version: Box::from(e.sbom.spec_version.as_str()),
                warnings: e.sbom.warnings.clone().into_boxed_slice(),
                items: items.into_boxed_slice(),
                depths: depths.into_boxed_slice(),
            });
        }
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
    fn intern_package(&mut self, p: &SbomPackage) -> Option<PvId> {
        let raw = p.purl.as_deref()?;
        let id = match self.packages.purls.get(raw) {
            Some(PurlSlot::Invalid) => return None,
            Some(PurlSlot::Version(id)) => *id,
            Some(PurlSlot::Unversioned) | None => {
                // Each distinct purl is parsed once; one without a version takes the entry's.
                let purl = Purl::parse(raw).ok();
                let slot = match &purl {
                    None => PurlSlot::Invalid,
                    Some(u) if u.version.is_none() => PurlSlot::Unversioned,
                    Some(u) => {
                        let version = u.version.clone().unwrap_or_default();
                        PurlSlot::Version(self.version_id(u, &version))
                    }
                };
                self.packages.purls.insert(Box::from(raw), slot);
                match (slot, purl) {
                    (PurlSlot::Version(id), _) => id,
                    (PurlSlot::Unversioned, Some(u)) => {
                        let version = p.version.clone()?;
                        self.version_id(&u, &version)
                    }
                    _ => return None,
                }
            }
        };
        if let Some(v) = self.packages.versions.get_mut(id as usize) {
            v.licenses.extend(p.licenses.iter().cloned());
            for (alg, h) in &p.hashes {
                v.hashes.entry(alg.clone()).or_insert_with(|| h.clone());
            }
        }
        Some(id)
    }

    /// A package version's id, created (and its package made searchable) on first sight.
    fn version_id(&mut self, purl: &Purl, version: &str) -> PvId {
        let (id, new_package) = self.packages.version_id(purl, version);
        if new_package {
            self.search
                .add(super::search::SearchKind::Package, &purl.package());
        }
        id
    }

    fn package_model(&self, key: &str, p: &PackageEntry) -> model::Package {
        let mut images: BTreeSet<ImgId> = BTreeSet::new();
        for id in p.versions.values() {
            if let Some(v) = self.packages.versions.get(*id as usize) {
                images.extend(v.images.iter().copied());
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
        self.reach_where(versions, |_| true)
    }

    /// [`Catalog::reach`] through the images `keep` says yes to.
    pub(super) fn reach_where(&self, versions: &[&PvEntry], keep: impl Fn(&str) -> bool) -> Reach {
        // image -> (matched versions, shallowest depth)
        let mut by_image: BTreeMap<&Arc<str>, (Vec<String>, u8)> = BTreeMap::new();
        for v in versions {
            for (img, depth) in v.images.iter().zip(&v.depths) {
                let Some(d) = self.packages.digests.get(*img as usize) else {
                    continue;
                };
                if !keep(d) {
                    continue;
                }
                let e = by_image.entry(d).or_insert((Vec::new(), *depth));
                e.0.push(v.purl());
                e.1 = min_depth(e.1, *depth);
            }
        }
        let mut images = Vec::with_capacity(by_image.len());
        let mut deployments: BTreeMap<(Option<String>, String, String, String), model::Deployment> =
            BTreeMap::new();
        let mut owners: BTreeSet<String> = BTreeSet::new();
        for (img, (package_versions, depth)) in by_image {
            let depth = unpack_depth(depth);
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

    fn bom_of(&self, digest: &str) -> Option<&ImageBom> {
        self.packages
            .image_id(digest)
            .and_then(|i| self.packages.bom(i))
    }

    /// An image's current SBOM (without its packages).
    pub fn image_sbom(&self, digest: &str) -> Option<model::ImageSbom> {
        let b = self.bom_of(digest)?;
        Some(model::ImageSbom {
            image: digest.to_string(),
            format: b.format.to_string(),
            spec_version: b.spec_version.to_string(),
            document_digest: b.document_digest.to_string(),
            via: b.via.to_string(),
            attached_at: b.rank.0,
            packages: b.items.len(),
            direct: b.depths.iter().filter(|d| **d == 1).count(),
            warnings: b.warnings.to_vec(),
        })
    }

    /// True when the image has an SBOM (the worker then does not look for one again).
    pub fn has_sbom(&self, digest: &str) -> bool {
        self.bom_of(digest).is_some()
    }

    /// An image's packages in SBOM order (only direct ones when asked), after an offset cursor.
    pub fn image_packages(
        &self,
        digest: &str,
        direct_only: bool,
        first: usize,
        after: usize,
    ) -> Page<model::BomPackage> {
        let Some(b) = self.bom_of(digest) else {
            return Page {
                items: Vec::new(),
                has_next: false,
            };
        };
        let mut it = b
            .items
            .iter()
            .zip(b.depths.iter())
            .filter(|(_, d)| !direct_only || **d == 1)
            .skip(after);
        let mut items = Vec::new();
        for (i, d) in it.by_ref().take(first) {
            let Some(p) = self.packages.items.get(*i as usize) else {
                continue;
            };
            items.push(self.bom_package(p, *d));
        }
        Page {
            items,
            has_next: it.next().is_some(),
        }
    }

    fn bom_package(&self, p: &BomItem, depth: u8) -> model::BomPackage {
        model::BomPackage {
            purl: p.purl.as_deref().map(str::to_string),
            package_version: p
                .pv
                .and_then(|id| self.packages.versions.get(id as usize))
                .map(PvEntry::purl),
            name: p.name.to_string(),
            version: p.version.as_deref().map(str::to_string),
            depth: unpack_depth(depth),
            licenses: p.licenses.to_vec(),
            hashes: p.hashes.iter().cloned().collect(),
        }
    }

    /// Every package of an image's BOM (for BOM and diff queries).
    pub(super) fn all_image_packages(&self, digest: &str) -> Vec<model::BomPackage> {
        let Some(b) = self.bom_of(digest) else {
            return Vec::new();
        };
        b.items
            .iter()
            .zip(b.depths.iter())
            .filter_map(|(i, d)| {
                self.packages
                    .items
                    .get(*i as usize)
                    .map(|p| self.bom_package(p, *d))
            })
            .collect()
    }

    /// The package versions of an image's SBOM, as ids (for vulnerability matching).
    pub(super) fn image_pvs(&self, digest: &str) -> impl Iterator<Item = PvId> + '_ {
        self.packages
            .image_id(digest)
            .into_iter()
            .flat_map(|i| self.packages.image_pv_ids(i))
    }

    /// Bytes of the package -> image index and its edge count.
    pub fn bom_index_bytes(&self) -> (usize, usize) {
        self.packages.index_bytes()
    }

    pub(super) fn verify_packages(&self) -> Result<(), String> {
        let p = &self.packages;
        if p.digests.len() != p.boms.len()
            || p.digests.len() != p.image_ids.len()
            || p.digests.len() != p.nodes.len()
        {
            return Err("image id tables differ in length".into());
        }
        for (d, n) in p.digests.iter().zip(&p.nodes) {
            if self.images.get(d.as_ref()) != n.as_ref() {
                return Err(format!("{d}: image node link is stale"));
            }
        }
        for (img, b) in p.boms.iter().enumerate() {
            let Some(b) = b else { continue };
            if b.items.len() != b.depths.len() {
                return Err(format!("image {img}: entries and depths differ in length"));
            }
            for (i, d) in b.items.iter().zip(b.depths.iter()) {
                let Some(pv) = p.items.get(*i as usize).map(|it| it.pv) else {
                    return Err(format!("image {img}: entry {i} missing"));
                };
                let Some(pv) = pv else { continue };
                let linked = p.versions.get(pv as usize).and_then(|v| {
                    v.images
                        .binary_search(&(img as ImgId))
                        .ok()
                        .map(|at| v.depths[at])
                });
                match linked {
                    Some(ld) if ld == min_depth(ld, *d) => {}
                    _ => return Err(format!("image {img}: version {pv} lacks its reverse edge")),
                }
            }
        }
        for (i, v) in p.versions.iter().enumerate() {
            if v.images.len() != v.depths.len() || !v.images.windows(2).all(|w| w[0] < w[1]) {
                return Err(format!(
                    "{}@{}: reverse list unsorted",
                    v.package, v.version
                ));
            }
            for img in &v.images {
                let listed = p.bom(*img).is_some_and(|b| p_lists(p, b, i as PvId));
                if !listed {
                    return Err(format!(
                        "{}@{} points at image {img} whose SBOM lacks it",
                        v.package, v.version
                    ));
                }
            }
        }
        Ok(())
    }
}

fn p_lists(p: &Packages, b: &ImageBom, pv: PvId) -> bool {
    b.items
        .iter()
        .any(|i| p.items.get(*i as usize).is_some_and(|it| it.pv == Some(pv)))
}
