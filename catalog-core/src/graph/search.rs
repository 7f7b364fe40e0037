//! The one search box: a prefix index over every name an incident responder might type.
//!
//! Each thing is indexed under its whole name and under every suffix that starts after a
//! separator (`shop/cart-api` under `shop/cart-api`, `cart-api` and `api`; a package also under
//! its bare name, a digest also under its hex), lowercased. A query is one ordered range scan
//! of a `BTreeMap` from the typed prefix, bounded by [`MAX_TERMS`], then ranked; nothing ever
//! walks every entry.

use super::Catalog;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// What a search hit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SearchKind {
    Component,
    Package,
    Image,
    Team,
    Cluster,
    Vulnerability,
    Application,
}

impl SearchKind {
    pub const ALL: [SearchKind; 7] = [
        SearchKind::Component,
        SearchKind::Package,
        SearchKind::Image,
        SearchKind::Team,
        SearchKind::Cluster,
        SearchKind::Vulnerability,
        SearchKind::Application,
    ];

    /// A small bias between kinds at equal match quality: the things responders look for
    /// first (services, teams, clusters) before packages, images and advisories.
    fn bias(self) -> i64 {
        match self {
            SearchKind::Component => 40,
            SearchKind::Application => 38,
            SearchKind::Team => 35,
            SearchKind::Cluster => 30,
            SearchKind::Package => 20,
            SearchKind::Vulnerability => 15,
            SearchKind::Image => 10,
        }
    }
}

/// How many index terms one query may visit: enough for any prefix a person types, and a
/// bound on the work a one-letter query can cause.
pub const MAX_TERMS: usize = 4096;

#[derive(Debug, Default, Deserialize)]
#[serde(from = "SearchWire")]
pub(super) struct SearchIndex {
    terms: BTreeMap<Box<str>, Vec<(SearchKind, Arc<str>)>>,
    /// Everything indexed, so adding a thing twice costs one lookup.
    known: HashSet<(SearchKind, Arc<str>)>,
}

/// The index as a snapshot holds it: each thing once, terms pointing at things by number, so
/// a restored index shares one string per thing (as a folded one does) and the snapshot
/// stores it once.
#[derive(Deserialize)]
struct SearchWire {
    /// (kind, id, added: indexed under its own name; false for what only an alias names)
    things: Vec<(SearchKind, Box<str>, bool)>,
    terms: Vec<(Box<str>, Vec<u32>)>,
}

/// [`SearchWire`], borrowed from the index being written.
#[derive(Serialize)]
struct SearchWireRef<'a> {
    things: Vec<(SearchKind, &'a str, bool)>,
    terms: Vec<(&'a str, Vec<u32>)>,
}

impl Serialize for SearchIndex {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut number: HashMap<(SearchKind, &str), u32> = HashMap::new();
        let mut things = Vec::with_capacity(self.known.len());
        let mut terms = Vec::with_capacity(self.terms.len());
        for (k, id) in &self.known {
            number.insert((*k, id), things.len() as u32);
            things.push((*k, &**id, true));
        }
        for (term, hits) in &self.terms {
            let refs = hits
                .iter()
                .map(|(k, id)| {
                    *number.entry((*k, id)).or_insert_with(|| {
                        things.push((*k, &**id, false));
                        (things.len() - 1) as u32
                    })
                })
                .collect();
            terms.push((&**term, refs));
        }
        SearchWireRef { things, terms }.serialize(s)
    }
}

impl From<SearchWire> for SearchIndex {
    fn from(w: SearchWire) -> SearchIndex {
        let things: Vec<(SearchKind, Arc<str>)> = w
            .things
            .iter()
            .map(|(k, id, _)| (*k, Arc::from(&**id)))
            .collect();
        let known = w
            .things
            .iter()
            .zip(&things)
            .filter(|((_, _, added), _)| *added)
            .map(|(_, t)| t.clone())
            .collect();
        let terms = w
            .terms
            .into_iter()
            .map(|(term, refs)| {
                let hits = refs
                    .into_iter()
                    .filter_map(|i| things.get(i as usize).cloned())
                    .collect();
                (term, hits)
            })
            .collect();
        SearchIndex { terms, known }
    }
}

const SEPARATORS: &[char] = &['/', '-', '_', '.', ':', '@', ' '];

/// `%40babel` -> `@babel`: people type what they see, not the purl's encoding.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = (b[i] == b'%')
            .then(|| s.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(v) => {
                out.push(v);
                i += 3;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

fn terms_of(kind: SearchKind, id: &str) -> Vec<String> {
    let lower = id.to_lowercase();
    let mut out = terms_of_text(kind, &lower);
    if kind == SearchKind::Package && lower.contains('%') {
        out.extend(terms_of_text(kind, &percent_decode(&lower)));
        out.sort();
        out.dedup();
    }
    out
}

fn terms_of_text(kind: SearchKind, lower: &str) -> Vec<String> {
    let lower = lower.to_string();
    let mut out = vec![lower.clone()];
    let body: &str = match kind {
        SearchKind::Package => {
            // `pkg:maven/org.apache.logging.log4j/log4j-core`: also under `log4j-core`,
            // `org.apache.logging.log4j/log4j-core` and the name's parts.
            let rest = lower.strip_prefix("pkg:").unwrap_or(&lower);
            let path = rest.split_once('/').map_or(rest, |(_, p)| p);
            out.push(path.to_string());
            path.rsplit('/').next().unwrap_or(path)
        }
        SearchKind::Image => lower.split_once(':').map_or(lower.as_str(), |(_, h)| h),
        _ => lower.as_str(),
    };
    out.push(body.to_string());
    if kind != SearchKind::Image {
        for (i, c) in body.char_indices() {
            if SEPARATORS.contains(&c) {
                let rest = &body[i + c.len_utf8()..];
                if !rest.is_empty() {
                    out.push(rest.to_string());
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

impl SearchIndex {
    /// Indexes a thing (once; adding it again is a no-op).
    pub(super) fn add(&mut self, kind: SearchKind, id: &str) {
        let id: Arc<str> = Arc::from(id);
        if !self.known.insert((kind, id.clone())) {
            return;
        }
        for t in terms_of(kind, &id) {
            self.terms
                .entry(t.into_boxed_str())
                .or_default()
                .push((kind, id.clone()));
        }
    }

    /// Indexes `id` also under another name (a vulnerability under its CVE alias).
    pub(super) fn add_alias(&mut self, kind: SearchKind, id: &str, alias: &str) {
        let id: Arc<str> = Arc::from(id);
        for t in terms_of(kind, alias) {
            let hits = self.terms.entry(t.into_boxed_str()).or_default();
            if !hits.iter().any(|(k, i)| *k == kind && *i == id) {
                hits.push((kind, id.clone()));
            }
        }
    }

    /// Candidates for `text` (lowercased), each with its best match quality.
    fn candidates(&self, text: &str, kinds: &[SearchKind]) -> HashMap<(SearchKind, Arc<str>), i64> {
        let mut best: HashMap<(SearchKind, Arc<str>), i64> = HashMap::new();
        let from = (std::ops::Bound::Included(text), std::ops::Bound::Unbounded);
        for (term, hits) in self.terms.range::<str, _>(from).take(MAX_TERMS) {
            if !term.starts_with(text) {
                break;
            }
            for (kind, id) in hits {
                if !kinds.contains(kind) {
                    continue;
                }
                let whole = id.eq_ignore_ascii_case(term);
                // Exact beats prefix; a match of the whole name beats a match of a part;
                // the less left untyped, the better.
                let quality = if **term == *text {
                    if whole {
                        1000
                    } else {
                        900
                    }
                } else if whole {
                    700
                } else {
                    500
                } - (term.len() - text.len()).min(200) as i64;
                let e = best.entry((*kind, id.clone())).or_insert(i64::MIN);
                *e = (*e).max(quality);
            }
        }
        best
    }
}

/// One ranked search result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    pub kind: SearchKind,
    /// What identifies it: a component or team or cluster name, a versionless purl, a
    /// digest, a vulnerability id.
    pub id: String,
    /// A line saying what it is (`3 versions, in 41 images`, `shop/cart 1.4.2`).
    pub detail: Option<String>,
    pub score: i64,
}

impl Catalog {
    /// One ranked query over components, packages (name or purl prefix), images (digest
    /// prefix), teams, clusters and vulnerabilities (id or alias).
    pub fn search(&self, text: &str, kinds: &[SearchKind], first: usize) -> Vec<SearchHit> {
        let mut q = text.trim().to_lowercase();
        if q.is_empty() || first == 0 {
            return Vec::new();
        }
        let kinds: Vec<SearchKind> = if kinds.is_empty() {
            SearchKind::ALL.to_vec()
        } else {
            kinds.to_vec()
        };
        if q.starts_with("pkg:") {
            // A pasted purl: its package, whatever version or qualifiers it carries.
            if let Some(cut) = q.find(['@', '?', '#']).filter(|i| q[..*i].contains('/')) {
                q.truncate(cut);
            }
        }
        let candidates = self.search.candidates(&q, &kinds);
        let mut hits: Vec<SearchHit> = candidates
            .into_iter()
            .map(|((kind, id), quality)| {
                let (detail, popularity) = self.search_detail(kind, &id);
                SearchHit {
                    kind,
                    id: id.to_string(),
                    detail,
                    score: quality * 100 + kind.bias() * 10 + popularity,
                }
            })
            .collect();
        hits.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
        hits.truncate(first);
        hits
    }

    /// A line describing a hit, and a popularity (0..=9) that breaks ties between equally
    /// good matches: the package in more images, the component with more versions.
    fn search_detail(&self, kind: SearchKind, id: &str) -> (Option<String>, i64) {
        fn pop(n: usize) -> i64 {
            (usize::BITS - n.leading_zeros()).min(9) as i64
        }
        match kind {
            // What `component(id)` would say of its versions and owner, without building it:
            // a short prefix matches every component.
            SearchKind::Component => match self.components.get(id) {
                Some(n) => {
                    let count = self.live_version_count(*n);
                    let mut d = format!("{count} versions");
                    if let Some(o) = self.owner_of(*n) {
                        d.push_str(&format!(", owned by {o}"));
                    }
                    (Some(d), pop(count))
                }
                None => (None, 0),
            },
            SearchKind::Package => match self.package(id) {
                Some(p) => (
                    Some(format!(
                        "{} versions, in {} images",
                        p.version_count, p.image_count
                    )),
                    pop(p.image_count),
                ),
                None => (None, 0),
            },
            SearchKind::Image => {
                let versions = self.versions_built_from(id);
                let d = versions
                    .iter()
                    .map(|v| format!("{} {}", v.component, v.version))
                    .collect::<Vec<_>>()
                    .join(", ");
                ((!d.is_empty()).then_some(d), pop(versions.len()))
            }
            SearchKind::Team => match self.team(id) {
                Some(t) => (
                    Some(format!("{} components", t.components.len())),
                    pop(t.components.len()),
                ),
                None => (None, 0),
            },
            SearchKind::Cluster => (
                self.cluster_environment(id)
                    .map(|e| format!("environment {e}")),
                0,
            ),
            SearchKind::Vulnerability => (self.vulnerability_summary(id), 0),
            SearchKind::Application => match self.application(id) {
                Some(a) => (
                    Some(format!(
                        "{} components, version {}",
                        a.components.len(),
                        a.version_count
                    )),
                    pop(a.components.len()),
                ),
                None => (None, 0),
            },
        }
    }
}
