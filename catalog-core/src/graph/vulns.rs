//! Vulnerabilities (OSV records) matched locally against the packages the catalog knows.
//!
//! Records are indexed by the versionless purl of each package they affect; a package
//! version's vulnerabilities are the records under its package whose ranges contain its
//! version, compared in the ecosystem's own scheme ([`crate::versioning`]). Matching happens
//! when asked, so importing a record or an SBOM never rewrites the other.

use super::packages::PvEntry;
use super::search::SearchKind;
use super::Catalog;
use crate::model;
use crate::osv::Vulnerability;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap};

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Record {
    /// (modified, else the event time; then the event key): the newest record of an id wins.
    rank: (DateTime<Utc>, String),
    #[serde(with = "crate::graph::snapshot::as_json")]
    vuln: Vulnerability,
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(super) struct Vulns {
    records: BTreeMap<String, Record>,
    /// Versionless purl -> ids of the records affecting it.
    by_package: HashMap<String, BTreeSet<String>>,
    /// Alias (e.g. a CVE id) -> the ids carrying it.
    aliases: HashMap<String, BTreeSet<String>>,
}

fn package_keys(v: &Vulnerability) -> BTreeSet<String> {
    v.affected
        .iter()
        .filter_map(|a| a.package.as_ref().and_then(|p| p.package_key()))
        .collect()
}

impl Catalog {
    pub(super) fn vulnerability_published(
        &mut self,
        v: &Vulnerability,
        t: DateTime<Utc>,
        key: &str,
    ) {
        let rank = (v.modified.unwrap_or(t), key.to_string());
        if let Some(cur) = self.vulns.records.get(&v.id) {
            if cur.rank >= rank {
                return;
            }
            for k in package_keys(&cur.vuln) {
                if let Some(set) = self.vulns.by_package.get_mut(&k) {
                    set.remove(&v.id);
                }
            }
        }
        for k in package_keys(v) {
            self.vulns
                .by_package
                .entry(k)
                .or_default()
                .insert(v.id.clone());
        }
        self.search.add(SearchKind::Vulnerability, &v.id);
        for a in &v.aliases {
            self.vulns
                .aliases
                .entry(a.clone())
                .or_default()
                .insert(v.id.clone());
            self.search.add_alias(SearchKind::Vulnerability, &v.id, a);
        }
        self.vulns.records.insert(
            v.id.clone(),
            Record {
                rank,
                vuln: v.clone(),
            },
        );
    }

    /// How many vulnerability records are loaded.
    pub fn vulnerability_count(&self) -> usize {
        self.vulns.records.len()
    }

    /// A record by its id or by an alias (a CVE id finds the GHSA record carrying it).
    pub fn vulnerability_record(&self, id: &str) -> Option<&Vulnerability> {
        if let Some(r) = self.vulns.records.get(id) {
            return Some(&r.vuln);
        }
        let ids = self.vulns.aliases.get(id)?;
        ids.iter()
            .find_map(|i| self.vulns.records.get(i))
            .map(|r| &r.vuln)
    }

    pub(super) fn vulnerability_summary(&self, id: &str) -> Option<String> {
        self.vulnerability_record(id)
            .and_then(|v| v.summary.clone())
    }

    /// The records affecting one package version, with the versions that fix each.
    fn pv_matches(&self, pv: &PvEntry) -> Vec<(&Vulnerability, Vec<String>)> {
        let Some(ids) = self.vulns.by_package.get(pv.package.as_ref()) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for id in ids {
            let Some(r) = self.vulns.records.get(id) else {
                continue;
            };
            if r.vuln.withdrawn.is_some() {
                continue;
            }
            let hits: Vec<_> = r
                .vuln
                .affected
                .iter()
                .filter(|a| {
                    a.package
                        .as_ref()
                        .and_then(|p| p.package_key())
                        .is_some_and(|k| *k == *pv.package)
                        && a.affects(&pv.version)
                })
                .collect();
            if hits.is_empty() {
                continue;
            }
            let mut fixed: BTreeSet<String> = BTreeSet::new();
            for a in hits {
                for range in &a.ranges {
                    fixed.extend(range.events.iter().filter_map(|e| e.fixed.clone()));
                }
            }
            out.push((&r.vuln, fixed.into_iter().collect()));
        }
        out
    }

    /// The matches of these package versions, each with the VEX statement holding for it in
    /// `image` (or, without one, for the package version itself).
    fn matches_of(
        &self,
        image: Option<&str>,
        pvs: impl Iterator<Item = u32>,
    ) -> Vec<model::VulnerabilityMatch> {
        let now = Utc::now();
        let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
        let mut out = Vec::new();
        for id in pvs {
            let Some(pv) = self.packages.versions.get(id as usize) else {
                continue;
            };
            for (v, fixed) in self.pv_matches(pv) {
                if !seen.insert((v.id.clone(), pv.purl())) {
                    continue;
                }
                out.push(model::VulnerabilityMatch {
                    id: v.id.clone(),
                    aliases: v.aliases.clone(),
                    summary: v.summary.clone(),
                    severity: v.severity.iter().map(|s| s.score.clone()).collect(),
                    package_version: pv.purl(),
                    package: pv.package.to_string(),
                    version: pv.version.clone(),
                    fixed,
                    vex: self.vex_for(image, pv, v, now),
                });
            }
        }
        out.sort_by(|a, b| (&a.id, &a.package_version).cmp(&(&b.id, &b.package_version)));
        out
    }

    /// Vulnerabilities of one package version (a purl with a version).
    pub fn package_version_vulnerabilities(&self, purl: &str) -> Vec<model::VulnerabilityMatch> {
        let Ok(p) = crate::purl::Purl::parse(purl) else {
            return Vec::new();
        };
        let id = p.version.as_ref().and_then(|v| {
            self.packages
                .packages
                .get(p.package().as_str())
                .and_then(|e| e.versions.get(v))
                .copied()
        });
        self.matches_of(None, id.into_iter())
    }

    /// Vulnerabilities of an image's packages (its current SBOM).
    pub fn image_vulnerabilities(&self, digest: &str) -> Vec<model::VulnerabilityMatch> {
        let mut digest = digest;
        if !self.has_sbom(digest) {
            if let Some(p) = self.platform_parent.get(digest) {
                digest = p;
            }
        }
        self.matches_of(Some(digest), self.image_pvs(digest))
    }

    /// Vulnerabilities of a component version: those of the image it was built from.
    pub fn version_vulnerabilities(
        &self,
        component: &str,
        version: &str,
    ) -> Vec<model::VulnerabilityMatch> {
        match self.version(component, version) {
            Some(v) => self.image_vulnerabilities(&v.digest),
            None => Vec::new(),
        }
    }

    /// Vulnerabilities of everything running in a cluster now, each with the images that
    /// carry it there.
    pub fn cluster_vulnerabilities(&self, cluster: &str) -> Vec<model::VulnerabilityMatch> {
        let scope = super::InventoryScope {
            cluster: Some(cluster.to_string()),
            ..Default::default()
        };
        let mut digests: BTreeSet<String> = BTreeSet::new();
        for d in self.inventory(&scope, None) {
            digests.extend(d.runs.into_iter().filter_map(|r| r.digest));
        }
        // Per image, so each match has the statements of its own image; a match counts in
        // the cluster if any image carries it unsuppressed.
        let mut merged: BTreeMap<(String, String), model::VulnerabilityMatch> = BTreeMap::new();
        for d in &digests {
            for m in self.image_vulnerabilities(d) {
                let k = (m.id.clone(), m.package_version.clone());
                let suppressed =
                    |m: &model::VulnerabilityMatch| m.vex.as_ref().is_some_and(|v| v.suppressed);
                match merged.get(&k) {
                    Some(cur) if !suppressed(cur) || suppressed(&m) => {}
                    _ => {
                        merged.insert(k, m);
                    }
                }
            }
        }
        merged.into_values().collect()
    }

    /// A vulnerability (by id or alias) and everything it affects: the package versions the
    /// catalog has in its ranges, the images containing them, their component versions, what
    /// runs them now and whom to call.
    /// The package versions the catalog has that a record's ranges contain (none when it
    /// was withdrawn); `None` when no record has that id or alias.
    pub(super) fn vulnerable_package_versions(&self, id: &str) -> Option<Vec<u32>> {
        let v = self.vulnerability_record(id)?;
        let mut out: Vec<u32> = Vec::new();
        if v.withdrawn.is_none() {
            for a in &v.affected {
                let Some(key) = a.package.as_ref().and_then(|p| p.package_key()) else {
                    continue;
                };
                let Some(p) = self.packages.packages.get(key.as_str()) else {
                    continue;
                };
                for (version, pv) in &p.versions {
                    if a.affects(version) && !out.contains(pv) {
                        out.push(*pv);
                    }
                }
            }
        }
        Some(out)
    }

    pub fn vulnerability_report(&self, id: &str) -> Option<model::VulnerabilityReport> {
        let v = self.vulnerability_record(id)?;
        let affected: Vec<&PvEntry> = self
            .vulnerable_package_versions(id)?
            .into_iter()
            .filter_map(|pv| self.packages.versions.get(pv as usize))
            .collect();
        // An image is out of the counts when VEX suppresses every match of it there.
        let now = Utc::now();
        let mut suppressed: BTreeMap<String, (Vec<String>, model::VexVerdict)> = BTreeMap::new();
        let mut counted: BTreeSet<String> = BTreeSet::new();
        if !self.vex.is_empty() {
            for pv in &affected {
                for img in &pv.images {
                    let Some(d) = self.packages.digests.get(*img as usize) else {
                        continue;
                    };
                    match self.vex_for(Some(d), pv, v, now) {
                        Some(verdict) if verdict.suppressed => {
                            let e = suppressed
                                .entry(d.to_string())
                                .or_insert_with(|| (Vec::new(), verdict));
                            e.0.push(pv.purl());
                        }
                        _ => {
                            counted.insert(d.to_string());
                        }
                    }
                }
            }
            suppressed.retain(|d, _| !counted.contains(d));
        }
        let reach = self.reach_where(&affected, |d| !suppressed.contains_key(d));
        Some(model::VulnerabilityReport {
            vulnerability: v.clone(),
            package_versions: affected
                .iter()
                .map(|pv| self.package_version_model(pv))
                .collect(),
            images: reach.images,
            deployments: reach.deployments,
            owners: reach.owners,
            suppressed: suppressed
                .into_iter()
                .map(|(image, (package_versions, vex))| model::SuppressedImage {
                    component_versions: self.versions_built_from(&image),
                    image,
                    package_versions,
                    vex,
                })
                .collect(),
        })
    }
}
