//! SPDX 3.0 (3.0.0 and 3.0.1) in its JSON-LD serialization: a `@context` naming the SPDX
//! context (`https://spdx.org/rdf/3.0.1/spdx-context.jsonld`) and a `@graph` of elements.
//!
//! Read into the same model as SPDX 2.3, by the same rules:
//! - packages are `software_Package` elements (and its subclasses `ai_AIPackage`,
//!   `dataset_DatasetPackage`); the purl is `software_packageUrl`, else an
//!   `externalIdentifier` of type `packageUrl`; hashes are `verifiedUsing` entries;
//! - the subject is what the document is about: the `SpdxDocument`'s `rootElement` (through a
//!   `software_Sbom`/`Bom` root to that one's `rootElement`), and what the document or an SBOM
//!   element `describes`. Described packages are not packages, unless nothing is described, when
//!   every package is one (and depths are unknown);
//! - dependency edges run from `from` to each `to` of `dependsOn`, `contains`,
//!   `hasOptionalDependency` and `hasProvidedDependency` relationships (SPDX 3 has no inverse
//!   types: `DEPENDENCY_OF` and the like became these); `LifecycleScopedRelationship`s count
//!   whatever their scope, as 2.3's `DEV_DEPENDENCY_OF` does;
//! - licenses come from `hasConcludedLicense` then `hasDeclaredLicense` relationships to
//!   `simplelicensing_LicenseExpression` elements, listed licenses (`expandedlicensing_*`, or an
//!   IRI under `https://spdx.org/licenses/` that needs no element of its own);
//!   NoAssertion/None licenses are no license.
//!
//! An element named by a relationship or a `rootElement` that is neither in the graph nor
//! imported (`SpdxDocument.import`) is a warning, and the rest of the relationship is kept.
//! Compact IRIs (`prefix:local`) are expanded with the prefixes the `@context` defines, so
//! that the compact and the full form of an id are one element. Everything else JSON-LD allows
//! (other contexts, nested elements, `@type` as a full IRI) is not read: SPDX's own
//! serialization does not use it.

use super::{
    as_object, at, at_most, described_layout, hash_alg, hash_hex, label, licenses, opt_array,
    opt_str, opt_str_array, purl_or_warn, subject_digest, Edges, ParseError, Stop, Str,
};
use crate::item::FieldError;
use catalog_core::sbom::{Sbom, SbomPackage, Warnings};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};

const CONTEXT_PREFIX: &str = "https://spdx.org/rdf/";
const CONTEXT_SUFFIX: &str = "/spdx-context.jsonld";
const SUPPORTED: &str = "3.0.0 and 3.0.1";
/// Listed licenses are referred to by IRI, without an element in the document.
const LICENSE_LIST: &str = "https://spdx.org/licenses/";

/// One element of `@graph`: the fields of every class read here, all optional (which ones a
/// class needs is checked when it is read).
#[derive(Deserialize)]
pub(super) struct Node<'a> {
    #[serde(rename = "type", alias = "@type", borrow)]
    ty: Option<Str<'a>>,
    #[serde(rename = "spdxId", alias = "@id", borrow)]
    id: Option<Str<'a>>,
    #[serde(borrow)]
    name: Option<Str<'a>>,
    #[serde(rename = "software_packageVersion", borrow)]
    version: Option<Str<'a>>,
    #[serde(rename = "software_packageUrl", borrow)]
    package_url: Option<Str<'a>>,
    #[serde(rename = "software_primaryPurpose", borrow)]
    purpose: Option<Str<'a>>,
    #[serde(rename = "externalIdentifier", borrow)]
    external_identifier: Option<Vec<ExternalIdentifier<'a>>>,
    #[serde(rename = "verifiedUsing", borrow)]
    verified_using: Option<Vec<IntegrityMethod<'a>>>,
    #[serde(borrow)]
    from: Option<Str<'a>>,
    #[serde(borrow)]
    to: Option<Vec<Str<'a>>>,
    #[serde(rename = "relationshipType", borrow)]
    relationship_type: Option<Str<'a>>,
    #[serde(rename = "rootElement", borrow)]
    root_element: Option<Vec<Str<'a>>>,
    #[serde(rename = "simplelicensing_licenseExpression", borrow)]
    license_expression: Option<Str<'a>>,
    #[serde(borrow)]
    import: Option<Vec<ExternalMap<'a>>>,
}

#[derive(Deserialize)]
struct ExternalIdentifier<'a> {
    #[serde(rename = "externalIdentifierType", borrow)]
    ty: Option<Str<'a>>,
    #[serde(borrow)]
    identifier: Option<Str<'a>>,
}

/// A `Hash` (or a `PackageVerificationCode`, which has the same two fields).
#[derive(Deserialize)]
struct IntegrityMethod<'a> {
    #[serde(borrow)]
    algorithm: Option<Str<'a>>,
    #[serde(rename = "hashValue", borrow)]
    hash_value: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct ExternalMap<'a> {
    #[serde(rename = "externalSpdxId", borrow)]
    external_spdx_id: Option<Str<'a>>,
}

/// The SPDX 3 fields of a document.
pub(super) struct Doc<'a> {
    pub context: Option<Value>,
    pub graph: Option<Vec<Node<'a>>>,
}

/// What an element is, as far as this parser cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Package,
    Document,
    /// A `software_Sbom` or `Bom`: its root elements are the document's subject.
    Bom,
    Relationship,
    License,
    Other,
}

fn class(ty: &str) -> Class {
    match ty {
        "software_Package" | "ai_AIPackage" | "dataset_DatasetPackage" => Class::Package,
        "SpdxDocument" => Class::Document,
        "software_Sbom" | "Bom" => Class::Bom,
        "simplelicensing_LicenseExpression"
        | "expandedlicensing_ListedLicense"
        | "expandedlicensing_CustomLicense" => Class::License,
        t if t.ends_with("Relationship") => Class::Relationship,
        _ => Class::Other,
    }
}

/// A relationship type read as a dependency edge from `from` to each `to`.
fn is_edge(ty: &str) -> bool {
    matches!(
        ty,
        "dependsOn" | "contains" | "hasOptionalDependency" | "hasProvidedDependency"
    )
}

/// The individuals SPDX 3 defines (no element in any document) that mean "no element" or "no
/// license", compact or as full IRIs.
fn is_none_individual(id: &str) -> bool {
    let local = id.rsplit(['/', '_']).next().unwrap_or(id);
    matches!(
        local,
        "NoAssertionElement" | "NoneElement" | "NoAssertionLicense" | "NoneLicense"
    )
}

/// The spec version the `@context` names; anything else there is refused, naming it.
fn spec_version(context: Option<&Value>, base: &str) -> Result<String, FieldError> {
    let field = || at(base, "@context");
    let urls: Vec<&str> = match context {
        None | Some(Value::Null) => return Err(FieldError::new(field(), "missing")),
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        Some(v) => {
            return Err(FieldError::new(
                field(),
                format!(
                    "expected a string or an array, found {}",
                    crate::hooks::json::kind(v)
                ),
            ))
        }
    };
    let mut other = None;
    for url in urls {
        match url
            .strip_prefix(CONTEXT_PREFIX)
            .and_then(|u| u.strip_suffix(CONTEXT_SUFFIX))
        {
            Some(v @ ("3.0.0" | "3.0.1")) => return Ok(v.to_string()),
            Some(v) => other = Some(format!("unsupported SPDX version {v}")),
            None => {}
        }
    }
    Err(FieldError::new(
        field(),
        format!(
            "{}: supported are SPDX {SUPPORTED} ({CONTEXT_PREFIX}3.0.1{CONTEXT_SUFFIX})",
            other.as_deref().unwrap_or("not an SPDX 3 context")
        ),
    ))
}

/// The prefixes a `@context` array's objects define (`{"ex": "https://example.org/doc#"}`).
fn prefixes(context: Option<&Value>) -> HashMap<&str, &str> {
    let mut out = HashMap::new();
    if let Some(Value::Array(items)) = context {
        for obj in items.iter().filter_map(Value::as_object) {
            for (k, v) in obj {
                if let Some(v) = v.as_str() {
                    out.insert(k.as_str(), v);
                }
            }
        }
    }
    out
}

/// An id with its compact-IRI prefix expanded, borrowed when there is nothing to expand.
fn expand<'s>(id: &'s str, prefixes: &HashMap<&str, &str>) -> Cow<'s, str> {
    if !prefixes.is_empty() {
        if let Some((p, local)) = id.split_once(':') {
            if !local.starts_with("//") {
                if let Some(iri) = prefixes.get(p) {
                    return Cow::Owned(format!("{iri}{local}"));
                }
            }
        }
    }
    Cow::Borrowed(id)
}

fn required<'s>(v: &'s Option<Str<'_>>, path: &str, key: &str) -> Result<&'s str, FieldError> {
    v.as_deref()
        .ok_or_else(|| FieldError::new(at(path, key), "missing"))
}

pub(super) fn build(doc: Doc<'_>, base: &str, stop: Stop<'_>) -> Result<Sbom, ParseError> {
    let spec_version = spec_version(doc.context.as_ref(), base)?;
    let Some(graph) = doc.graph.as_deref() else {
        return Err(FieldError::new(
            at(base, "@graph"),
            "missing: an SPDX 3 document is a JSON-LD @graph of elements",
        )
        .into());
    };
    let prefixes = prefixes(doc.context.as_ref());
    let path_of = |k: usize| at(base, &format!("@graph[{k}]"));
    let mut warnings = Warnings::default();

    // Every element's class, ids to elements, and the packages among them.
    let mut classes = Vec::with_capacity(graph.len());
    let mut ids: HashMap<Cow<'_, str>, usize> = HashMap::with_capacity(graph.len());
    let mut package_of: Vec<Option<usize>> = vec![None; graph.len()];
    let mut pkgs: Vec<usize> = Vec::new();
    let mut imported: HashSet<Cow<'_, str>> = HashSet::new();
    for (k, node) in graph.iter().enumerate() {
        if k % 4096 == 4095 {
            stop.check()?;
        }
        let c = class(required(&node.ty, &path_of(k), "type")?);
        classes.push(c);
        if c == Class::Package {
            required(&node.id, &path_of(k), "spdxId")?;
            package_of[k] = Some(pkgs.len());
            pkgs.push(k);
        }
        if let Some(id) = node.id.as_deref() {
            match ids.entry(expand(id, &prefixes)) {
                Entry::Vacant(e) => {
                    e.insert(k);
                }
                Entry::Occupied(_) => {
                    if c == Class::Package {
                        // The first one stands for the id; this one is a package all the same.
                        warnings.push(|| {
                            format!(
                                "{}: duplicate spdxId {id:?}; relationships name the first one",
                                label(
                                    &path_of(k),
                                    node.name.as_deref().unwrap_or(""),
                                    node.version.as_deref()
                                )
                            )
                        });
                    }
                }
            }
        }
        if c == Class::Document {
            for m in node.import.iter().flatten() {
                if let Some(id) = m.external_spdx_id.as_deref() {
                    imported.insert(expand(id, &prefixes));
                }
            }
        }
    }
    let n = pkgs.len();

    // An id named somewhere: its element, or None (with a warning when it is not imported or
    // one of SPDX's individuals).
    let resolve = |id: &str, field: &dyn Fn() -> String, warnings: &mut Warnings| {
        let full = expand(id, &prefixes);
        match ids.get(&full) {
            Some(&k) => Some(k),
            None => {
                if !imported.contains(&full) && !is_none_individual(&full) {
                    warnings.push(|| format!("{}: unknown element {id:?}", field()));
                }
                None
            }
        }
    };

    // The subject: root elements and what the document describes.
    let mut described = vec![false; n];
    for (k, node) in graph.iter().enumerate() {
        if classes[k] != Class::Document {
            continue;
        }
        for (j, root) in node.root_element.iter().flatten().enumerate() {
            let field = || at(&path_of(k), &format!("rootElement[{j}]"));
            let Some(r) = resolve(root, &field, &mut warnings) else {
                continue;
            };
            match classes[r] {
                Class::Package => {
                    if let Some(i) = package_of[r] {
                        described[i] = true;
                    }
                }
                Class::Bom => {
                    for (m, inner) in graph[r].root_element.iter().flatten().enumerate() {
                        let field = || at(&path_of(r), &format!("rootElement[{m}]"));
                        if let Some(i) =
                            resolve(inner, &field, &mut warnings).and_then(|x| package_of[x])
                        {
                            described[i] = true;
                        }
                    }
                }
                _ => {}
            }
        }
    }

    let mut edges = Edges::new(n);
    let mut concluded: Vec<Vec<Cow<'_, str>>> = vec![Vec::new(); n];
    let mut declared: Vec<Vec<Cow<'_, str>>> = vec![Vec::new(); n];
    for (k, node) in graph.iter().enumerate() {
        if k % 4096 == 4095 {
            stop.check()?;
        }
        if classes[k] != Class::Relationship {
            continue;
        }
        let path = path_of(k);
        let ty = required(&node.relationship_type, &path, "relationshipType")?;
        let from_id = required(&node.from, &path, "from")?;
        let to = node.to.as_deref().unwrap_or_default();
        let licenses_of = match ty {
            "hasConcludedLicense" => Some(&mut concluded),
            "hasDeclaredLicense" => Some(&mut declared),
            _ => None,
        };
        if ty != "describes" && !is_edge(ty) && licenses_of.is_none() {
            continue;
        }
        let from = resolve(from_id, &|| at(&path, "from"), &mut warnings);
        if let Some(licenses_of) = licenses_of {
            let Some(i) = from.and_then(|f| package_of[f]) else {
                continue;
            };
            for (j, t) in to.iter().enumerate() {
                if let Some(listed) = t.strip_prefix(LICENSE_LIST) {
                    licenses_of[i].push(Cow::Borrowed(listed));
                    continue;
                }
                let field = || at(&path, &format!("to[{j}]"));
                let Some(l) = resolve(t, &field, &mut warnings) else {
                    continue;
                };
                if let Some(text) = license_text(&graph[l], classes[l], &prefixes) {
                    licenses_of[i].push(text);
                }
            }
            continue;
        }
        if ty == "describes" {
            // Only the document or an SBOM describes the subject; a package describing
            // another says nothing about what the image is.
            if !from.is_some_and(|f| matches!(classes[f], Class::Document | Class::Bom)) {
                continue;
            }
            for (j, t) in to.iter().enumerate() {
                let field = || at(&path, &format!("to[{j}]"));
                if let Some(i) = resolve(t, &field, &mut warnings).and_then(|x| package_of[x]) {
                    described[i] = true;
                }
            }
            continue;
        }
        let a = from.and_then(|f| package_of[f]);
        for (j, t) in to.iter().enumerate() {
            if j % 4096 == 4095 {
                stop.check()?;
            }
            let field = || at(&path, &format!("to[{j}]"));
            let b = resolve(t, &field, &mut warnings).and_then(|x| package_of[x]);
            if let (Some(a), Some(b)) = (a, b) {
                edges.add(a, b);
            }
        }
    }

    let adj = edges.adj;
    let (dist, out, next) = described_layout(&adj, &described);

    let mut packages = Vec::with_capacity(next as usize);
    let mut digest = None;
    for (i, &k) in pkgs.iter().enumerate() {
        stop.check()?;
        let p = &graph[k];
        let path = || path_of(k);
        let name = required(&p.name, &path(), "name")?;
        let version = p.version.as_deref().filter(|v| !v.is_empty());
        at_most(
            p.verified_using.as_ref().map_or(0, Vec::len),
            super::MAX_HASHES,
            || at(&path(), "verifiedUsing"),
        )?;
        let mut raw_purl = p.package_url.as_deref();
        for (j, e) in p.external_identifier.iter().flatten().enumerate() {
            let epath = || at(&path(), &format!("externalIdentifier[{j}]"));
            if required(&e.ty, &epath(), "externalIdentifierType")? == "packageUrl" {
                let id = required(&e.identifier, &epath(), "identifier")?;
                raw_purl = raw_purl.or(Some(id));
            }
        }
        let purl = raw_purl
            .and_then(|raw| purl_or_warn(raw, || label(&path(), name, version), &mut warnings));
        let mut hashes = BTreeMap::new();
        for (j, h) in p.verified_using.iter().flatten().enumerate() {
            let hpath = || at(&path(), &format!("verifiedUsing[{j}]"));
            let alg = required(&h.algorithm, &hpath(), "algorithm")?;
            let value = required(&h.hash_value, &hpath(), "hashValue")?;
            match hash_hex(value) {
                Some(hex) => {
                    hashes.entry(hash_alg(alg)).or_insert(hex);
                }
                None => warnings.push(|| {
                    format!(
                        "{}: {alg} {value:?} is not hex",
                        label(&hpath(), name, version)
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
                    p.purpose.as_deref() == Some("container"),
                    hashes.get("sha-256").map(String::as_str),
                    &mut warnings,
                );
            }
            continue;
        }
        at_most(
            concluded[i].len() + declared[i].len(),
            super::MAX_LICENSES,
            || format!("{}: hasConcludedLicense and hasDeclaredLicense", path()),
        )?;
        let licenses = licenses(
            concluded[i]
                .iter()
                .chain(&declared[i])
                .map(|l| &**l)
                .filter(|l| !matches!(*l, "NOASSERTION" | "NONE")),
        );
        packages.push(SbomPackage {
            purl: purl.map(|u| u.to_string()),
            name: name.to_string(),
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

/// A license element as text: a license expression's expression, a listed license's id (the
/// end of its IRI), or a license's name.
fn license_text<'d>(
    node: &'d Node<'_>,
    class: Class,
    prefixes: &HashMap<&str, &str>,
) -> Option<Cow<'d, str>> {
    if class != Class::License {
        return None;
    }
    if let Some(e) = node.license_expression.as_deref() {
        return Some(Cow::Borrowed(e));
    }
    let listed = node
        .id
        .as_deref()
        .map(|id| expand(id, prefixes))
        .and_then(|id| match id {
            Cow::Borrowed(s) => s.strip_prefix(LICENSE_LIST).map(Cow::Borrowed),
            Cow::Owned(s) => s
                .strip_prefix(LICENSE_LIST)
                .map(|l| Cow::Owned(l.to_string())),
        });
    listed.or_else(|| node.name.as_deref().map(Cow::Borrowed))
}

// ---------------------------------------------------------------------------------------------
// The slow path: the same fields, checked one by one.

pub(super) fn check(obj: &Map<String, Value>, base: &str) -> Result<(), FieldError> {
    spec_version(obj.get("@context"), base)?;
    let graph = match obj.get("@graph") {
        None | Some(Value::Null) => {
            return Err(FieldError::new(
                at(base, "@graph"),
                "missing: an SPDX 3 document is a JSON-LD @graph of elements",
            ))
        }
        Some(_) => opt_array(obj, base, "@graph")?,
    };
    for (k, e) in graph.iter().enumerate() {
        let path = at(base, &format!("@graph[{k}]"));
        let e = as_object(e, &path)?;
        for key in [
            "type",
            "@type",
            "spdxId",
            "@id",
            "name",
            "software_packageVersion",
            "software_packageUrl",
            "software_primaryPurpose",
            "from",
            "relationshipType",
            "simplelicensing_licenseExpression",
        ] {
            opt_str(e, &path, key)?;
        }
        opt_str_array(e, &path, "to")?;
        opt_str_array(e, &path, "rootElement")?;
        for (key, fields) in [
            (
                "externalIdentifier",
                &["externalIdentifierType", "identifier"][..],
            ),
            ("verifiedUsing", &["algorithm", "hashValue"][..]),
            ("import", &["externalSpdxId"][..]),
        ] {
            for (j, x) in opt_array(e, &path, key)?.iter().enumerate() {
                let xpath = at(&path, &format!("{key}[{j}]"));
                let x = as_object(x, &xpath)?;
                for f in fields {
                    opt_str(x, &xpath, f)?;
                }
            }
        }
    }
    Ok(())
}
