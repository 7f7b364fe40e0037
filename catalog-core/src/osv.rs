//! OSV vulnerability records (https://ossf.github.io/osv-schema/): the types, read straight from
//! OSV JSON and stored back as JSON without loss, and local matching: which package a record
//! names (as the catalog's purl package key) and whether a version of it is affected, evaluated
//! per the schema's algorithm with the ecosystem's own version ordering.

use crate::purl::Purl;
use crate::versioning::Scheme;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use std::cmp::Ordering;

/// `null` reads as the default, as a missing field does: producers write both.
fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// One OSV record. Fields the catalog does not use (`database_specific`, `credits`, ...) are
/// ignored on read.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Vulnerability {
    #[serde(default, deserialize_with = "nullable")]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<DateTime<Utc>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub severity: Vec<Severity>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub affected: Vec<Affected>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub references: Vec<Reference>,
}

/// A severity score, e.g. `CVSS_V3` with its vector string.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Severity {
    #[serde(rename = "type", default, deserialize_with = "nullable")]
    pub kind: String,
    #[serde(default, deserialize_with = "nullable")]
    pub score: String,
}

/// A link about the vulnerability (`ADVISORY`, `FIX`, `WEB`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Reference {
    #[serde(rename = "type", default, deserialize_with = "nullable")]
    pub kind: String,
    #[serde(default, deserialize_with = "nullable")]
    pub url: String,
}

/// The versions of one package a record affects.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Affected {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<OsvPackage>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub ranges: Vec<OsvRange>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub versions: Vec<String>,
}

/// The affected package, named within its ecosystem.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OsvPackage {
    #[serde(default, deserialize_with = "nullable")]
    pub ecosystem: String,
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
}

/// A range of affected versions: `SEMVER`, `ECOSYSTEM` or `GIT`, as a timeline of events.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OsvRange {
    #[serde(rename = "type", default, deserialize_with = "nullable")]
    pub kind: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub events: Vec<RangeEvent>,
}

/// One event of a range; a valid event has exactly one field set.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RangeEvent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduced: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_affected: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

/// Why bytes are not a usable OSV record; the message starts with the field's path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct OsvError(pub String);

const RANGE_TYPES: [&str; 3] = ["SEMVER", "ECOSYSTEM", "GIT"];
const EVENT_KEYS: [&str; 4] = ["introduced", "fixed", "last_affected", "limit"];

fn osv_err<T>(path: &str, reason: impl std::fmt::Display) -> Result<T, OsvError> {
    Err(OsvError(format!("{path}: {reason}")))
}

/// A field read as `T`, absent or `null` as the default; a type error names the field.
fn field<T: DeserializeOwned + Default>(
    obj: &Map<String, Value>,
    key: &str,
) -> Result<T, OsvError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(T::default()),
        Some(v) => T::deserialize(v).or_else(|e| osv_err(key, e)),
    }
}

/// An array field read element by element, so a type error names the element.
fn list<T: DeserializeOwned>(obj: &Map<String, Value>, key: &str) -> Result<Vec<T>, OsvError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| T::deserialize(v).or_else(|e| osv_err(&format!("{key}[{i}]"), e)))
            .collect(),
        Some(_) => osv_err(key, "not an array"),
    }
}

fn array_at<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'a [Value], OsvError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => osv_err(&format!("{path}.{key}"), "not an array"),
    }
}

/// The scheme an OSV range's versions are written in, and its name for errors: `SEMVER`
/// ranges are SemVer 2.0; `ECOSYSTEM` ranges are the package's ecosystem's own scheme; `GIT`
/// ranges name commits (not read here).
fn range_scheme(kind: &str, ecosystem: &str) -> Option<(Scheme, String)> {
    let name = |s: Scheme| match s {
        Scheme::Semver => "SemVer 2.0",
        Scheme::Npm => "npm (node-semver)",
        Scheme::Pypi => "PEP 440",
        Scheme::Maven => "Maven",
        Scheme::Go => "Go module",
        Scheme::Debian => "dpkg",
        Scheme::Alpine => "apk",
        Scheme::Generic => "generic",
    };
    match kind {
        "SEMVER" => Some((Scheme::Semver, "a SEMVER range needs SemVer 2.0".into())),
        "ECOSYSTEM" => {
            let s = Scheme::for_osv_ecosystem(ecosystem);
            Some((
                s,
                format!("the {ecosystem:?} ecosystem's versions are {}", name(s)),
            ))
        }
        _ => None,
    }
}

/// The rules serde cannot express: known range types, one key per event, and event versions
/// that the range's scheme can read. A range whose versions cannot be read would match nothing,
/// silently; the record is refused instead, naming the event.
fn check_affected(value: &Value, path: &str) -> Result<(), OsvError> {
    let Value::Object(affected) = value else {
        return osv_err(path, "not an object");
    };
    let ecosystem = affected
        .get("package")
        .and_then(|p| p.get("ecosystem"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    for (j, range) in array_at(affected, "ranges", path)?.iter().enumerate() {
        let rpath = format!("{path}.ranges[{j}]");
        let Value::Object(range) = range else {
            return osv_err(&rpath, "not an object");
        };
        let kind = match range.get("type") {
            None | Some(Value::Null) => return osv_err(&format!("{rpath}.type"), "missing"),
            Some(Value::String(t)) if RANGE_TYPES.contains(&t.as_str()) => t.as_str(),
            Some(Value::String(t)) => {
                return osv_err(
                    &format!("{rpath}.type"),
                    format!("unknown range type {t:?} (expected SEMVER, ECOSYSTEM or GIT)"),
                )
            }
            Some(_) => return osv_err(&format!("{rpath}.type"), "not a string"),
        };
        let scheme = range_scheme(kind, ecosystem);
        for (k, event) in array_at(range, "events", &rpath)?.iter().enumerate() {
            let epath = format!("{rpath}.events[{k}]");
            let Value::Object(event) = event else {
                return osv_err(&epath, "not an object");
            };
            let present: Vec<&str> = EVENT_KEYS
                .iter()
                .copied()
                .filter(|key| event.get(*key).is_some_and(|v| !v.is_null()))
                .collect();
            let [key] = present.as_slice() else {
                return osv_err(
                    &epath,
                    "an event needs exactly one of introduced, fixed, last_affected, limit",
                );
            };
            let Some(version) = event.get(*key).and_then(Value::as_str) else {
                return osv_err(&format!("{epath}.{key}"), "not a string");
            };
            // `introduced: "0"` is before every version, and a limit of `*` is infinity.
            let special =
                (*key == "introduced" && version == "0") || (*key == "limit" && version == "*");
            if let Some((scheme, what)) = scheme.as_ref().filter(|_| !special) {
                if !scheme.is_valid(version) {
                    return osv_err(
                        &format!("{epath}.{key}"),
                        format!("{version:?} is not a version: {what}"),
                    );
                }
            }
        }
    }
    Ok(())
}

impl Vulnerability {
    /// Reads and validates one OSV JSON record: a non-empty `id`, known range types, exactly
    /// one field per event, and field types. The error names the field and the reason.
    pub fn parse(json: &[u8]) -> Result<Vulnerability, OsvError> {
        let root: Value =
            serde_json::from_slice(json).map_err(|e| OsvError(format!("not valid JSON: {e}")))?;
        Vulnerability::from_value(&root)
    }

    /// [`Vulnerability::parse`] of a record already read as JSON (one element of a batch).
    pub fn from_value(root: &Value) -> Result<Vulnerability, OsvError> {
        let Value::Object(obj) = root else {
            return osv_err("(record)", "not a JSON object");
        };
        let id = match obj.get("id") {
            None | Some(Value::Null) => return osv_err("id", "missing"),
            Some(Value::String(s)) if s.trim().is_empty() => return osv_err("id", "empty"),
            Some(Value::String(s)) => s.clone(),
            Some(_) => return osv_err("id", "not a string"),
        };
        match obj.get("affected") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for (i, a) in items.iter().enumerate() {
                    check_affected(a, &format!("affected[{i}]"))?;
                }
            }
            Some(_) => return osv_err("affected", "not an array"),
        }
        Ok(Vulnerability {
            id,
            modified: field(obj, "modified")?,
            published: field(obj, "published")?,
            withdrawn: field(obj, "withdrawn")?,
            aliases: list(obj, "aliases")?,
            summary: field(obj, "summary")?,
            details: field(obj, "details")?,
            severity: list(obj, "severity")?,
            affected: list(obj, "affected")?,
            references: list(obj, "references")?,
        })
    }
}

/// Percent-encodes one purl path segment, so names with `@`, `#`, `?`, `/` survive parsing.
fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn segments(path: &str) -> String {
    path.split('/').map(segment).collect::<Vec<_>>().join("/")
}

impl OsvPackage {
    /// The versionless purl of this package, in the form [`Purl::package`] gives, so it joins
    /// with the catalog's package keys. The record's own `purl` wins when it parses; otherwise
    /// it is built from ecosystem and name. `None` for ecosystems without a purl type here.
    pub fn package_key(&self) -> Option<String> {
        if let Some(p) = self.purl.as_deref().and_then(|p| Purl::parse(p).ok()) {
            return Some(p.package());
        }
        let name = self.name.trim();
        if name.is_empty() {
            return None;
        }
        let eco = self.ecosystem.as_str();
        let base = eco.split(':').next().unwrap_or_default();
        let purl = match base {
            // `@scope/name` keeps its slash: the scope is the namespace.
            "npm" => format!("pkg:npm/{}", segments(name)),
            "PyPI" => format!("pkg:pypi/{}", segment(name)),
            "Maven" => {
                let (group, artifact) = name.split_once(':')?;
                format!("pkg:maven/{}/{}", segment(group), segment(artifact))
            }
            // The module path's last element is the name, the rest the namespace.
            "Go" => format!("pkg:golang/{}", segments(name)),
            "crates.io" => format!("pkg:cargo/{}", segment(name)),
            "RubyGems" => format!("pkg:gem/{}", segment(name)),
            "NuGet" => format!("pkg:nuget/{}", segment(name)),
            "Packagist" => format!("pkg:composer/{}", segments(name)),
            "Debian" => format!("pkg:deb/debian/{}", segment(name)),
            "Alpine" => format!("pkg:apk/alpine/{}", segment(name)),
            "Ubuntu" => format!("pkg:deb/ubuntu/{}", segment(name)),
            _ => return None,
        };
        Purl::parse(&purl).ok().map(|p| p.package())
    }
}

/// An event's position in the sorted timeline: `introduced: "0"` is before every version.
#[derive(Clone, Copy)]
enum At<'a> {
    Zero,
    Version(&'a str),
}

impl Affected {
    /// Whether `version` of this package is affected: listed in `versions` (as written, or
    /// equal in the ecosystem's ordering) or inside a `SEMVER`/`ECOSYSTEM` range, evaluated
    /// per the schema's algorithm. A version the ecosystem's scheme cannot read is never
    /// inside a range, nor is any version of a range whose own versions cannot be read.
    pub fn affects(&self, version: &str) -> bool {
        let version = version.trim();
        if version.is_empty() {
            return false;
        }
        let ecosystem = self
            .package
            .as_ref()
            .map_or(Scheme::Generic, |p| Scheme::for_osv_ecosystem(&p.ecosystem));
        // An exact listing is the record's own word, so it counts even where the scheme
        // cannot read the version.
        if self
            .versions
            .iter()
            .any(|v| v == version || ecosystem.compare(v, version) == Some(Ordering::Equal))
        {
            return true;
        }
        self.ranges.iter().any(|range| {
            let scheme = match range.kind.as_str() {
                "SEMVER" => Scheme::Semver,
                "ECOSYSTEM" => ecosystem,
                // GIT ranges order commits by the repository's history, which is not here;
                // such records also list the affected versions, matched above.
                _ => return false,
            };
            in_range(scheme, range, version).unwrap_or(false)
        })
    }
}

/// The schema's `IncludedInRanges` for one range; `None` when a version cannot be read.
fn in_range(scheme: Scheme, range: &OsvRange, v: &str) -> Option<bool> {
    if !scheme.is_valid(v) {
        return None;
    }
    let limits: Vec<&str> = range
        .events
        .iter()
        .filter_map(|e| e.limit.as_deref())
        .collect();
    if !limits.is_empty() {
        // `*` is infinity; with limits, a version must be below one of them.
        let mut below = false;
        for l in limits {
            if l.contains('*') || scheme.compare(v, l)? == Ordering::Less {
                below = true;
            }
        }
        if !below {
            return Some(false);
        }
    }
    let mut events: Vec<(At<'_>, &RangeEvent)> = Vec::new();
    for e in &range.events {
        let at = match (&e.introduced, &e.fixed, &e.last_affected) {
            (Some(i), _, _) if i == "0" => At::Zero,
            (Some(x), _, _) | (None, Some(x), _) | (None, None, Some(x)) => {
                if !scheme.is_valid(x) {
                    return None;
                }
                At::Version(x)
            }
            (None, None, None) => continue,
        };
        events.push((at, e));
    }
    let order = |a: At<'_>, b: At<'_>| match (a, b) {
        (At::Zero, At::Zero) => Ordering::Equal,
        (At::Zero, At::Version(_)) => Ordering::Less,
        (At::Version(_), At::Zero) => Ordering::Greater,
        (At::Version(x), At::Version(y)) => scheme.compare(x, y).unwrap_or(Ordering::Equal),
    };
    events.sort_by(|a, b| order(a.0, b.0));
    let vs = At::Version(v);
    let mut vulnerable = false;
    for (at, e) in events {
        let o = order(vs, at);
        if e.introduced.is_some() {
            if o != Ordering::Less {
                vulnerable = true;
            }
        } else if e.fixed.is_some() {
            if o != Ordering::Less {
                vulnerable = false;
            }
        } else if e.last_affected.is_some() && o == Ordering::Greater {
            vulnerable = false;
        }
    }
    Some(vulnerable)
}
