//! VEX statements applied to vulnerability matches, exactly scoped.
//!
//! A match is a vulnerability record, a package version, and (where the question has one) the
//! image that carries it. The statements that can speak for it are those filed under:
//! - a name of the vulnerability: the record's id or one of its aliases, or a name the
//!   statement gives as an alias of it;
//! - a product the match is in: the image (or the index a platform image belongs to), a
//!   component version built from it, the package version's purl, or its package's;
//! - a subcomponent: none (the whole product), the package version's purl, or its package's.
//!
//! The latest of them by the statement's timestamp (then log order) decides. A statement about
//! one product and one vulnerability therefore changes exactly that pair, never every image
//! with the same CVE. `not_affected` and `fixed` suppress the match until an `until`, if any.

use super::packages::PvEntry;
use super::Catalog;
use crate::model;
use crate::osv::Vulnerability;
use crate::purl::Purl;
use crate::vex::{VexDocument, VexProduct, VexStatus};
use chrono::{DateTime, Utc};
use std::collections::{BTreeSet, HashMap, HashSet};

/// The statement holding for one (product, vulnerability, subcomponent).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Held {
    /// (statement time, log sequence): the later holds.
    rank: (DateTime<Utc>, i64),
    status: VexStatus,
    justification: Option<String>,
    impact: Option<String>,
    action: Option<String>,
    author: String,
    document: String,
    product: String,
    until: Option<DateTime<Utc>>,
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(super) struct Vex {
    /// (product key, vulnerability name, subcomponent purl or "") -> the statement holding.
    held: HashMap<(String, String, String), Held>,
    /// Vulnerability name -> the other names statements gave it (a CVE for a GHSA).
    aliases: HashMap<String, BTreeSet<String>>,
    /// The vulnerability names some statement is filed under: a match of any other
    /// vulnerability needs no lookup at all (a blast radius asks once per edge it walks).
    named: HashSet<String>,
    /// How many statements were recorded (superseded ones included).
    recorded: u64,
}

/// A purl as the package index names package versions (qualifiers and subpath are not part
/// of the identity: `...log4j-core@2.14.1?type=jar` is `...log4j-core@2.14.1`), or as given.
fn canonical(purl: &str) -> String {
    Purl::parse(purl).map_or_else(|_| purl.to_string(), |p| p.package_version())
}

impl Vex {
    pub(super) fn is_empty(&self) -> bool {
        self.held.is_empty()
    }
}

impl Catalog {
    pub(super) fn vex_recorded(&mut self, doc: &VexDocument, seq: i64) {
        for s in &doc.statements {
            self.vex.recorded += 1;
            let held = |product: String| Held {
                rank: (s.timestamp, seq),
                status: s.status,
                justification: s.justification.clone(),
                impact: s.impact.clone(),
                action: s.action.clone(),
                author: doc.author.clone(),
                document: doc.id.clone(),
                product,
                until: s.until,
            };
            let subs: Vec<String> = if s.subcomponents.is_empty() {
                vec![String::new()]
            } else {
                s.subcomponents.iter().map(|p| canonical(p)).collect()
            };
            self.vex.named.insert(s.vulnerability.clone());
            for product in &s.products {
                let product = match product {
                    VexProduct::Package { purl } => VexProduct::Package {
                        purl: canonical(purl),
                    },
                    other => other.clone(),
                };
                let key = product.key();
                for sub in &subs {
                    let k = (key.clone(), s.vulnerability.clone(), sub.clone());
                    let h = held(key.clone());
                    match self.vex.held.get(&k) {
                        Some(cur) if cur.rank >= h.rank => {}
                        _ => {
                            self.vex.held.insert(k, h);
                        }
                    }
                }
            }
            for a in &s.aliases {
                self.vex
                    .aliases
                    .entry(a.clone())
                    .or_default()
                    .insert(s.vulnerability.clone());
                self.vex
                    .aliases
                    .entry(s.vulnerability.clone())
                    .or_default()
                    .insert(a.clone());
            }
        }
    }

    /// How many VEX statements were recorded.
    pub fn vex_statement_count(&self) -> u64 {
        self.vex.recorded
    }

    /// The statement that holds for a match, if any: `image` is the image the match is in
    /// (`None` for a package version asked about on its own).
    pub(super) fn vex_for(
        &self,
        image: Option<&str>,
        pv: &PvEntry,
        v: &Vulnerability,
        now: DateTime<Utc>,
    ) -> Option<model::VexVerdict> {
        if self.vex.held.is_empty() {
            return None;
        }
        let mut names: BTreeSet<&str> = BTreeSet::new();
        names.insert(&v.id);
        names.extend(v.aliases.iter().map(String::as_str));
        for n in names.clone() {
            if let Some(more) = self.vex.aliases.get(n) {
                names.extend(more.iter().map(String::as_str));
            }
        }
        if !names.iter().any(|n| self.vex.named.contains(*n)) {
            return None;
        }
        let mut products: Vec<String> = vec![
            VexProduct::Package {
                purl: pv.purl.to_string(),
            }
            .key(),
            VexProduct::Package {
                purl: pv.package.to_string(),
            }
            .key(),
        ];
        if let Some(d) = image {
            products.push(VexProduct::Image { digest: d.into() }.key());
            if let Some(parent) = self.platform_parent.get(d) {
                products.push(
                    VexProduct::Image {
                        digest: parent.clone(),
                    }
                    .key(),
                );
            }
            for cv in self.versions_built_from(d) {
                products.push(
                    VexProduct::ComponentVersion {
                        component: cv.component,
                        version: cv.version,
                    }
                    .key(),
                );
            }
        }
        let subs = [String::new(), pv.purl.to_string(), pv.package.to_string()];
        let mut best: Option<&Held> = None;
        for p in &products {
            for n in &names {
                for s in &subs {
                    let k = (p.clone(), (*n).to_string(), s.clone());
                    if let Some(h) = self.vex.held.get(&k) {
                        if best.is_none_or(|b| h.rank > b.rank) {
                            best = Some(h);
                        }
                    }
                }
            }
        }
        best.map(|h| {
            let expired = h.until.is_some_and(|u| u <= now);
            model::VexVerdict {
                status: h.status.as_str().to_string(),
                justification: h.justification.clone(),
                impact: h.impact.clone(),
                action: h.action.clone(),
                author: h.author.clone(),
                document: h.document.clone(),
                product: h.product.clone(),
                stated_at: h.rank.0,
                until: h.until,
                expired,
                suppressed: h.status.suppresses() && !expired,
            }
        })
    }
}
