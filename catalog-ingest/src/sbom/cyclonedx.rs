//! CycloneDX JSON, spec versions 1.4 to 1.7; a later 1.x is read as 1.7 with a warning (a
//! minor version only adds fields), another major version is refused.
//!
//! 1.7 adds external components (`isExternal: true`, with a `versionRange` instead of a
//! `version`): expected from the environment, not bundled. They stay in the dependency graph,
//! so what is reached through them keeps its depth, but they are not packages the subject
//! contains: each is left out with a warning.
//!
//! The subject is `metadata.component`; the packages are `components[]` and, recursively, the
//! components nested in them (pre-order: a component, then what it contains). Depth comes from
//! `dependencies[]` by breadth-first search from the subject's `bom-ref`; a document without a
//! dependency graph gets its nesting instead (top-level components 1, nested ones their
//! parent's depth + 1). A group (`@babel`, a Maven groupId) is part of the name:
//! `@babel/code-frame`.

use super::{
    as_object, at, at_most, bfs, hash_alg, hash_hex, label, licenses, opt_array, opt_bool,
    opt_object, opt_str, opt_str_array, purl_or_warn, req_str, subject_digest, Edges, ParseError,
    Stop, Str,
};
use crate::item::FieldError;
use catalog_core::sbom::{Sbom, SbomPackage, Warnings};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};

const SUPPORTED: &str = "1.4, 1.5, 1.6 and 1.7";
/// The latest minor version known: a later 1.x is read as this one.
const LATEST_MINOR: u32 = 7;

#[derive(Deserialize)]
pub(super) struct Metadata<'a> {
    #[serde(borrow)]
    component: Option<Component<'a>>,
}

#[derive(Deserialize)]
pub(super) struct Component<'a> {
    #[serde(rename = "bom-ref", borrow)]
    bom_ref: Option<Str<'a>>,
    #[serde(rename = "type", borrow)]
    ty: Option<Str<'a>>,
    #[serde(borrow)]
    name: Str<'a>,
    #[serde(borrow)]
    group: Option<Str<'a>>,
    #[serde(borrow)]
    version: Option<Str<'a>>,
    #[serde(borrow)]
    purl: Option<Str<'a>>,
    #[serde(borrow)]
    licenses: Option<Vec<LicenseChoice<'a>>>,
    #[serde(borrow)]
    hashes: Option<Vec<Hash<'a>>>,
    #[serde(borrow)]
    components: Option<Vec<Component<'a>>>,
    /// 1.7: provided by the environment, not part of the subject.
    #[serde(rename = "isExternal")]
    is_external: Option<bool>,
    /// 1.7: the accepted versions (a vers range) of an external component.
    #[serde(rename = "versionRange", borrow)]
    version_range: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct LicenseChoice<'a> {
    #[serde(borrow)]
    license: Option<License<'a>>,
    #[serde(borrow)]
    expression: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct License<'a> {
    #[serde(borrow)]
    id: Option<Str<'a>>,
    #[serde(borrow)]
    name: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct Hash<'a> {
    #[serde(borrow)]
    alg: Str<'a>,
    #[serde(borrow)]
    content: Str<'a>,
}

#[derive(Deserialize)]
pub(super) struct Dependency<'a> {
    #[serde(rename = "ref", borrow)]
    dep_ref: Str<'a>,
    #[serde(rename = "dependsOn", borrow)]
    depends_on: Option<Vec<Str<'a>>>,
}

/// The CycloneDX fields of a document.
pub(super) struct Doc<'a> {
    pub spec_version: Option<Str<'a>>,
    pub metadata: Option<Metadata<'a>>,
    pub components: Option<Vec<Component<'a>>>,
    pub dependencies: Option<Vec<Dependency<'a>>>,
}

/// A component in document order, with where it sits.
struct Flat<'d, 'a> {
    c: &'d Component<'a>,
    parent: Option<usize>,
    index: usize,
}

fn flatten<'d, 'a>(list: &'d [Component<'a>], parent: Option<usize>, out: &mut Vec<Flat<'d, 'a>>) {
    for (index, c) in list.iter().enumerate() {
        out.push(Flat { c, parent, index });
        if let Some(children) = &c.components {
            let me = out.len() - 1;
            flatten(children, Some(me), out);
        }
    }
}

/// `components[3].components[0]`: the path of a flattened component.
fn path_of(flat: &[Flat<'_, '_>], i: usize, base: &str) -> String {
    let mut chain = vec![flat[i].index];
    let mut p = flat[i].parent;
    while let Some(j) = p {
        chain.push(flat[j].index);
        p = flat[j].parent;
    }
    let mut path = at(base, "components");
    for (k, idx) in chain.iter().rev().enumerate() {
        if k > 0 {
            path.push_str(".components");
        }
        path.push_str(&format!("[{idx}]"));
    }
    path
}

fn full_name(c: &Component<'_>) -> String {
    match c.group.as_deref().filter(|g| !g.is_empty()) {
        Some(g) => format!("{g}/{}", &*c.name),
        None => c.name.to_string(),
    }
}

/// The spec version as the document states it; a later minor version than [`LATEST_MINOR`] is
/// read as that one, with a warning.
fn spec_version(
    v: Option<&str>,
    base: &str,
    warnings: &mut Warnings,
) -> Result<String, FieldError> {
    let field = || at(base, "specVersion");
    let Some(v) = v else {
        return Err(FieldError::new(field(), "missing"));
    };
    let number = |s: &str| {
        (!s.is_empty() && s.len() <= 9 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    let Some((major, minor)) = v
        .split_once('.')
        .and_then(|(a, b)| Some((number(a)?, number(b)?)))
    else {
        return Err(FieldError::new(
            field(),
            format!("unknown CycloneDX version {v:?}: supported are {SUPPORTED}"),
        ));
    };
    match (major, minor) {
        (1, 4..=LATEST_MINOR) => {}
        (1, m) if m > LATEST_MINOR => warnings.push(|| {
            format!(
                "{}: CycloneDX {v} is newer than the latest version known here (1.{LATEST_MINOR}) \
                 and was read as 1.{LATEST_MINOR}: what it added is not read",
                field()
            )
        }),
        (1, _) => {
            return Err(FieldError::new(
                field(),
                format!("CycloneDX {v} is too old: supported are {SUPPORTED}"),
            ))
        }
        _ => {
            return Err(FieldError::new(
                field(),
                format!(
                    "unknown CycloneDX major version {major} ({v:?}): supported are {SUPPORTED} \
                     (a later 1.x is read as 1.{LATEST_MINOR})"
                ),
            ))
        }
    }
    Ok(v.to_string())
}

pub(super) fn build(doc: Doc<'_>, base: &str, stop: Stop<'_>) -> Result<Sbom, ParseError> {
    let mut warnings = Warnings::default();
    let spec_version = spec_version(doc.spec_version.as_deref(), base, &mut warnings)?;

    let mut flat = Vec::new();
    if let Some(list) = &doc.components {
        flat.reserve(list.len());
        flatten(list, None, &mut flat);
    }
    let n = flat.len();

    let mut packages: Vec<SbomPackage> = Vec::with_capacity(n);
    for (i, f) in flat.iter().enumerate() {
        stop.check()?;
        let c = f.c;
        let path = || path_of(&flat, i, base);
        at_most(
            c.licenses.as_ref().map_or(0, Vec::len),
            super::MAX_LICENSES,
            || at(&path(), "licenses"),
        )?;
        at_most(
            c.hashes.as_ref().map_or(0, Vec::len),
            super::MAX_HASHES,
            || at(&path(), "hashes"),
        )?;
        let name = full_name(c);
        let version = c.version.as_deref().filter(|v| !v.is_empty());
        if c.is_external == Some(true) {
            warnings.push(|| {
                format!(
                    "{}: external (isExternal), expected from the environment rather than \
                     contained: not recorded as a package",
                    label(
                        &path_of(&flat, i, base),
                        &name,
                        version.or(c.version_range.as_deref())
                    )
                )
            });
        }
        let purl = c.purl.as_deref().and_then(|raw| {
            purl_or_warn(
                raw,
                || label(&path_of(&flat, i, base), &name, version),
                &mut warnings,
            )
        });
        let licenses = licenses(
            c.licenses
                .iter()
                .flatten()
                .filter_map(|l| match &l.license {
                    Some(lic) => lic.id.as_deref().or(lic.name.as_deref()),
                    None => l.expression.as_deref(),
                }),
        );
        let mut hashes = BTreeMap::new();
        for (k, h) in c.hashes.iter().flatten().enumerate() {
            match hash_hex(&h.content) {
                Some(hex) => {
                    hashes.entry(hash_alg(&h.alg)).or_insert(hex);
                }
                None => warnings.push(|| {
                    format!(
                        "{}: {} {:?} is not hex",
                        label(
                            &format!("{}.hashes[{k}]", path_of(&flat, i, base)),
                            &name,
                            version
                        ),
                        &*h.alg,
                        &*h.content
                    )
                }),
            }
        }
        packages.push(SbomPackage {
            purl: purl.map(|p| p.to_string()),
            name,
            version: version.map(str::to_string),
            licenses,
            hashes,
            depth: None,
            depends_on: Vec::new(),
        });
    }

    // The subject.
    let subject = doc.metadata.as_ref().and_then(|m| m.component.as_ref());
    let mut digest = None;
    if let Some(s) = subject {
        let what = at(base, "metadata.component");
        let purl = s
            .purl
            .as_deref()
            .and_then(|raw| purl_or_warn(raw, || what.clone(), &mut warnings));
        let sha256 = s
            .hashes
            .iter()
            .flatten()
            .find(|h| hash_alg(&h.alg) == "sha-256")
            .and_then(|h| hash_hex(&h.content));
        digest = subject_digest(
            &what,
            purl.as_ref(),
            s.version.as_deref(),
            s.ty.as_deref() == Some("container"),
            sha256.as_deref(),
            &mut warnings,
        );
    }

    // The dependency graph: node n is the subject.
    let mut by_ref: HashMap<&str, usize> = HashMap::with_capacity(n + 1);
    let subject_ref = subject.and_then(|s| s.bom_ref.as_deref());
    if let Some(r) = subject_ref {
        by_ref.insert(r, n);
    }
    for (i, f) in flat.iter().enumerate() {
        if let Some(r) = f.c.bom_ref.as_deref() {
            match by_ref.entry(r) {
                Entry::Vacant(e) => {
                    e.insert(i);
                }
                Entry::Occupied(_) => warnings.push(|| {
                    format!(
                        "{}: duplicate bom-ref {r:?}; the first one is kept",
                        label(
                            &path_of(&flat, i, base),
                            &packages[i].name,
                            packages[i].version.as_deref()
                        )
                    )
                }),
            }
        }
    }
    let mut edges = Edges::new(n + 1);
    let mut subject_in_graph = false;
    let mut any_edge = false;
    for (k, d) in doc.dependencies.iter().flatten().enumerate() {
        stop.check()?;
        let Some(&from) = by_ref.get(&*d.dep_ref) else {
            warnings.push(|| {
                format!(
                    "{}: unknown bom-ref {:?}",
                    at(base, &format!("dependencies[{k}].ref")),
                    &*d.dep_ref
                )
            });
            continue;
        };
        subject_in_graph |= from == n;
        for (j, t) in d.depends_on.iter().flatten().enumerate() {
            if j % 4096 == 4095 {
                stop.check()?;
            }
            match by_ref.get(&**t) {
                Some(&to) => {
                    any_edge = true;
                    edges.add(from, to);
                }
                None => warnings.push(|| {
                    format!(
                        "{}: unknown bom-ref {:?}",
                        at(base, &format!("dependencies[{k}].dependsOn[{j}]")),
                        &**t
                    )
                }),
            }
        }
    }
    let adj = edges.adj;

    if subject_in_graph {
        let dist = bfs(&adj, &[n]);
        for (p, d) in packages.iter_mut().zip(dist) {
            p.depth = d;
        }
    } else if !any_edge {
        // No graph: the nesting says how deep a component is.
        for i in 0..n {
            packages[i].depth = match flat[i].parent {
                None => Some(1),
                Some(j) => packages[j].depth.map(|d| d + 1),
            };
        }
    } else {
        warnings.push(|| {
            format!(
                "{}: the graph does not start at the subject (metadata.component{}); how \
                 deep each package is stays unknown",
                at(base, "dependencies"),
                if subject.is_none() {
                    " is missing"
                } else if subject_ref.is_none() {
                    " has no bom-ref"
                } else {
                    " has no entry"
                }
            )
        });
    }
    // Package i of the document is output package out[i]: external components are not
    // packages, but paths through them counted above.
    let mut out: Vec<Option<u32>> = vec![None; n];
    let mut next = 0u32;
    for (o, f) in out.iter_mut().zip(&flat) {
        if f.c.is_external != Some(true) {
            *o = Some(next);
            next += 1;
        }
    }
    for (p, edges) in packages.iter_mut().zip(&adj) {
        p.depends_on = edges
            .iter()
            .filter_map(|&t| out.get(t as usize).copied().flatten())
            .collect();
    }
    if next as usize != n {
        packages = packages
            .into_iter()
            .zip(&out)
            .filter_map(|(p, o)| o.map(|_| p))
            .collect();
    }

    let (warnings, warnings_omitted) = warnings.into_parts();
    Ok(Sbom {
        format: "CycloneDX".to_string(),
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
    opt_str(obj, base, "specVersion")?;
    if let Some(m) = opt_object(obj, base, "metadata")? {
        let path = at(base, "metadata");
        if let Some(c) = m.get("component").filter(|v| !v.is_null()) {
            check_component(c, &at(&path, "component"))?;
        }
    }
    check_components(obj, base)?;
    for (k, d) in opt_array(obj, base, "dependencies")?.iter().enumerate() {
        let path = at(base, &format!("dependencies[{k}]"));
        let d = as_object(d, &path)?;
        req_str(d, &path, "ref")?;
        opt_str_array(d, &path, "dependsOn")?;
    }
    Ok(())
}

fn check_components(obj: &Map<String, Value>, path: &str) -> Result<(), FieldError> {
    for (i, c) in opt_array(obj, path, "components")?.iter().enumerate() {
        check_component(c, &at(path, &format!("components[{i}]")))?;
    }
    Ok(())
}

fn check_component(c: &Value, path: &str) -> Result<(), FieldError> {
    let c = as_object(c, path)?;
    for key in [
        "bom-ref",
        "type",
        "group",
        "version",
        "purl",
        "versionRange",
    ] {
        opt_str(c, path, key)?;
    }
    opt_bool(c, path, "isExternal")?;
    req_str(c, path, "name")?;
    for (k, l) in opt_array(c, path, "licenses")?.iter().enumerate() {
        let lpath = at(path, &format!("licenses[{k}]"));
        let l = as_object(l, &lpath)?;
        opt_str(l, &lpath, "expression")?;
        if let Some(lic) = opt_object(l, &lpath, "license")? {
            let lpath = at(&lpath, "license");
            opt_str(lic, &lpath, "id")?;
            opt_str(lic, &lpath, "name")?;
        }
    }
    for (k, h) in opt_array(c, path, "hashes")?.iter().enumerate() {
        let hpath = at(path, &format!("hashes[{k}]"));
        let h = as_object(h, &hpath)?;
        req_str(h, &hpath, "alg")?;
        req_str(h, &hpath, "content")?;
    }
    check_components(c, path)
}
