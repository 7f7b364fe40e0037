//! SPDX JSON, 2.3 (and 2.2, whose JSON is the same for what is read here).
//!
//! The subject is what the document DESCRIBES (`documentDescribes[]`, `SPDXRef-DOCUMENT
//! DESCRIBES x`, `x DESCRIBED_BY SPDXRef-DOCUMENT`); described packages are not packages,
//! unless the document describes no package, when every package is one (and depths are
//! unknown). Dependency edges, from the depender to the dependency: `A DEPENDS_ON B`,
//! `A CONTAINS B`, `B CONTAINED_BY A`, `B DEPENDENCY_OF A` and the `B *_DEPENDENCY_OF A` kinds
//! (DEV_, BUILD_, RUNTIME_, OPTIONAL_, PROVIDED_, TEST_). Relationships with files, snippets,
//! other documents (`DocumentRef-...`) or NOASSERTION/NONE are not package edges and are
//! skipped; one naming an element the document does not have is a warning.

use super::{
    as_object, at, at_most, described_layout, hash_alg, hash_hex, label, licenses, opt_array,
    opt_str, opt_str_array, purl_or_warn, req_str, subject_digest, Edges, ParseError, Stop, Str,
};
use crate::item::FieldError;
use catalog_core::sbom::{Sbom, SbomPackage, Warnings};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};

#[derive(Deserialize)]
pub(super) struct Package<'a> {
    #[serde(rename = "SPDXID", borrow)]
    id: Str<'a>,
    #[serde(borrow)]
    name: Str<'a>,
    #[serde(rename = "versionInfo", borrow)]
    version_info: Option<Str<'a>>,
    #[serde(rename = "externalRefs", borrow)]
    external_refs: Option<Vec<ExternalRef<'a>>>,
    #[serde(rename = "licenseConcluded", borrow)]
    license_concluded: Option<Str<'a>>,
    #[serde(rename = "licenseDeclared", borrow)]
    license_declared: Option<Str<'a>>,
    #[serde(borrow)]
    checksums: Option<Vec<Checksum<'a>>>,
    #[serde(rename = "primaryPackagePurpose", borrow)]
    purpose: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct ExternalRef<'a> {
    #[serde(rename = "referenceCategory", borrow)]
    category: Option<Str<'a>>,
    #[serde(rename = "referenceType", borrow)]
    ty: Str<'a>,
    #[serde(rename = "referenceLocator", borrow)]
    locator: Str<'a>,
}

#[derive(Deserialize)]
struct Checksum<'a> {
    #[serde(borrow)]
    algorithm: Str<'a>,
    #[serde(rename = "checksumValue", borrow)]
    value: Str<'a>,
}

#[derive(Deserialize)]
pub(super) struct Relationship<'a> {
    #[serde(rename = "spdxElementId", borrow)]
    element: Str<'a>,
    #[serde(rename = "relatedSpdxElement", borrow)]
    related: Str<'a>,
    #[serde(rename = "relationshipType", borrow)]
    ty: Str<'a>,
}

/// A file or snippet: only its id is read (so that relationships with it are not warnings).
#[derive(Deserialize)]
pub(super) struct Element<'a> {
    #[serde(rename = "SPDXID", borrow)]
    id: Option<Str<'a>>,
}

/// The SPDX fields of a document.
pub(super) struct Doc<'a> {
    pub spdx_version: Option<Str<'a>>,
    pub spdx_id: Option<Str<'a>>,
    pub document_describes: Option<Vec<Str<'a>>>,
    pub packages: Option<Vec<Package<'a>>>,
    pub relationships: Option<Vec<Relationship<'a>>>,
    pub files: Option<Vec<Element<'a>>>,
    pub snippets: Option<Vec<Element<'a>>>,
}

/// How a relationship type reads as a dependency edge.
enum Edge {
    /// `A type B`: A depends on (contains) B.
    Forward,
    /// `B type A`: A depends on (contains) B.
    Backward,
}

fn edge(ty: &str) -> Option<Edge> {
    match ty {
        "DEPENDS_ON" | "CONTAINS" => Some(Edge::Forward),
        "CONTAINED_BY" => Some(Edge::Backward),
        t if t == "DEPENDENCY_OF" || t.ends_with("_DEPENDENCY_OF") => Some(Edge::Backward),
        _ => None,
    }
}

fn spec_version(v: Option<&str>, base: &str) -> Result<String, FieldError> {
    match v {
        Some("SPDX-2.3") => Ok("2.3".to_string()),
        Some("SPDX-2.2") => Ok("2.2".to_string()),
        Some(v) => Err(FieldError::new(
            at(base, "spdxVersion"),
            format!("unsupported SPDX version {v:?}: supported are SPDX-2.3 and SPDX-2.2"),
        )),
        None => Err(FieldError::new(at(base, "spdxVersion"), "missing")),
    }
}

pub(super) fn build(doc: Doc<'_>, base: &str, stop: Stop<'_>) -> Result<Sbom, ParseError> {
    let spec_version = spec_version(doc.spdx_version.as_deref(), base)?;
    let doc_id = doc.spdx_id.as_deref().unwrap_or("SPDXRef-DOCUMENT");
    let mut warnings = Warnings::default();
    let pkgs: &[Package<'_>] = doc.packages.as_deref().unwrap_or_default();
    let n = pkgs.len();

    let mut ids: HashMap<&str, usize> = HashMap::with_capacity(n);
    for (i, p) in pkgs.iter().enumerate() {
        match ids.entry(&p.id) {
            Entry::Vacant(e) => {
                e.insert(i);
            }
            Entry::Occupied(_) => warnings.push(|| {
                format!(
                    "{}: duplicate SPDXID {:?}; the first one is kept",
                    label(
                        &at(base, &format!("packages[{i}]")),
                        &p.name,
                        p.version_info.as_deref()
                    ),
                    &*p.id
                )
            }),
        }
    }
    let others: HashSet<&str> = doc
        .files
        .iter()
        .flatten()
        .chain(doc.snippets.iter().flatten())
        .filter_map(|e| e.id.as_deref())
        .collect();
    // Not a package, and not to be warned about.
    let known_other = |id: &str| {
        id == doc_id
            || others.contains(id)
            || id.starts_with("DocumentRef-")
            || id == "NOASSERTION"
            || id == "NONE"
    };

    let mut described = vec![false; n];
    for (k, d) in doc.document_describes.iter().flatten().enumerate() {
        match ids.get(&**d) {
            Some(&i) => described[i] = true,
            None if known_other(d) => {}
            None => warnings.push(|| {
                format!(
                    "{}: unknown element {:?}",
                    at(base, &format!("documentDescribes[{k}]")),
                    &**d
                )
            }),
        }
    }
    let mut edges = Edges::new(n);
    for (k, r) in doc.relationships.iter().flatten().enumerate() {
        if k % 4096 == 4095 {
            stop.check()?;
        }
        let resolve = |field: &str, id: &str, warnings: &mut Warnings| match ids.get(id) {
            Some(&i) => Some(i),
            None => {
                if !known_other(id) {
                    warnings.push(|| {
                        format!(
                            "{}: unknown element {id:?}",
                            at(base, &format!("relationships[{k}].{field}"))
                        )
                    });
                }
                None
            }
        };
        match &*r.ty {
            "DESCRIBES" if &*r.element == doc_id => {
                if let Some(i) = resolve("relatedSpdxElement", &r.related, &mut warnings) {
                    described[i] = true;
                }
            }
            "DESCRIBED_BY" if &*r.related == doc_id => {
                if let Some(i) = resolve("spdxElementId", &r.element, &mut warnings) {
                    described[i] = true;
                }
            }
            ty => {
                let Some(dir) = edge(ty) else { continue };
                let a = resolve("spdxElementId", &r.element, &mut warnings);
                let b = resolve("relatedSpdxElement", &r.related, &mut warnings);
                if let (Some(a), Some(b)) = (a, b) {
                    match dir {
                        Edge::Forward => edges.add(a, b),
                        Edge::Backward => edges.add(b, a),
                    }
                }
            }
        }
    }

    let adj = edges.adj;
    let (dist, out, next) = described_layout(&adj, &described);

    let mut packages = Vec::with_capacity(next as usize);
    let mut digest = None;
    for (i, p) in pkgs.iter().enumerate() {
        stop.check()?;
        let version = p.version_info.as_deref().filter(|v| !v.is_empty());
        let path = || at(base, &format!("packages[{i}]"));
        at_most(
            p.checksums.as_ref().map_or(0, Vec::len),
            super::MAX_HASHES,
            || at(&path(), "checksums"),
        )?;
        let purl = p
            .external_refs
            .iter()
            .flatten()
            .find(|r| {
                &*r.ty == "purl"
                    && r.category
                        .as_deref()
                        .is_none_or(|c| c == "PACKAGE-MANAGER" || c == "PACKAGE_MANAGER")
            })
            .and_then(|r| {
                purl_or_warn(
                    &r.locator,
                    || label(&path(), &p.name, version),
                    &mut warnings,
                )
            });
        let mut hashes = BTreeMap::new();
        for (k, c) in p.checksums.iter().flatten().enumerate() {
            match hash_hex(&c.value) {
                Some(hex) => {
                    hashes.entry(hash_alg(&c.algorithm)).or_insert(hex);
                }
                None => warnings.push(|| {
                    format!(
                        "{}: {} {:?} is not hex",
                        label(&format!("{}.checksums[{k}]", path()), &p.name, version),
                        &*c.algorithm,
                        &*c.value
                    )
                }),
            }
        }
        if described[i] {
            if digest.is_none() {
                digest = subject_digest(
                    &path(),
                    purl.as_ref(),
                    version,
                    p.purpose.as_deref() == Some("CONTAINER"),
                    hashes.get("sha-256").map(String::as_str),
                    &mut warnings,
                );
            }
            continue;
        }
        let licenses = licenses(
            [&p.license_concluded, &p.license_declared]
                .into_iter()
                .flatten()
                .map(|l| &**l)
                .filter(|l| !matches!(*l, "NOASSERTION" | "NONE")),
        );
        packages.push(SbomPackage {
            purl: purl.map(|u| u.to_string()),
            name: p.name.to_string(),
            version: version.map(str::to_string),
            licenses,
            hashes,
            depth: dist[i],
            depends_on: adj[i].iter().filter_map(|&t| out[t as usize]).collect(),
        });
    }

    let (warnings, warnings_omitted) = warnings.into_parts();
    Ok(Sbom {
        format: "SPDX".to_string(),
        spec_version,
        subject: digest,
        packages,
        warnings,
        warnings_omitted,
    })
}

// ---------------------------------------------------------------------------------------------
// The slow path: the same fields, checked one by one.

pub(super) fn check(obj: &Map<String, Value>, base: &str) -> Result<(), FieldError> {
    opt_str(obj, base, "spdxVersion")?;
    opt_str(obj, base, "SPDXID")?;
    opt_str_array(obj, base, "documentDescribes")?;
    for (i, p) in opt_array(obj, base, "packages")?.iter().enumerate() {
        let path = at(base, &format!("packages[{i}]"));
        let p = as_object(p, &path)?;
        req_str(p, &path, "SPDXID")?;
        req_str(p, &path, "name")?;
        for key in [
            "versionInfo",
            "licenseConcluded",
            "licenseDeclared",
            "primaryPackagePurpose",
        ] {
            opt_str(p, &path, key)?;
        }
        for (k, r) in opt_array(p, &path, "externalRefs")?.iter().enumerate() {
            let rpath = at(&path, &format!("externalRefs[{k}]"));
            let r = as_object(r, &rpath)?;
            opt_str(r, &rpath, "referenceCategory")?;
            req_str(r, &rpath, "referenceType")?;
            req_str(r, &rpath, "referenceLocator")?;
        }
        for (k, c) in opt_array(p, &path, "checksums")?.iter().enumerate() {
            let cpath = at(&path, &format!("checksums[{k}]"));
            let c = as_object(c, &cpath)?;
            req_str(c, &cpath, "algorithm")?;
            req_str(c, &cpath, "checksumValue")?;
        }
    }
    for (k, r) in opt_array(obj, base, "relationships")?.iter().enumerate() {
        let path = at(base, &format!("relationships[{k}]"));
        let r = as_object(r, &path)?;
        req_str(r, &path, "spdxElementId")?;
        req_str(r, &path, "relatedSpdxElement")?;
        req_str(r, &path, "relationshipType")?;
    }
    for key in ["files", "snippets"] {
        for (k, e) in opt_array(obj, base, key)?.iter().enumerate() {
            let path = at(base, &format!("{key}[{k}]"));
            opt_str(as_object(e, &path)?, &path, "SPDXID")?;
        }
    }
    Ok(())
}
