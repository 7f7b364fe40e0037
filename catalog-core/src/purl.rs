//! Package identity: the package URL (purl, https://github.com/package-url/purl-spec), parsed
//! and normalised per type, so that `pkg:pypi/Django_Rest@1.0` and `pkg:pypi/django-rest@1.0`
//! are one package version. Qualifiers (`?arch=amd64`) and subpath are kept but are not part
//! of the identity: a Package is `pkg:type/namespace/name`, a PackageVersion adds `@version`.
//!
//! Held to the official purl-spec test suite (`tests/fixtures/purl-spec`, run by
//! `catalog-core/tests/integration/purl_spec.rs`); the per-type rules below are the registered
//! type definitions of the same commit.

use std::collections::BTreeMap;
use std::fmt;

/// A parsed, normalised purl.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Purl {
    pub ty: String,
    pub namespace: Option<String>,
    pub name: String,
    pub version: Option<String>,
    pub qualifiers: BTreeMap<String, String>,
    pub subpath: Option<String>,
}

/// Why a string is not a purl.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PurlError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, PurlError> {
    Err(PurlError(msg.into()))
}

/// `%XX` escapes decoded; `None` for a malformed escape or bytes that are not UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let v = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())?;
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn decode(s: &str, what: &str) -> Result<String, PurlError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match hex {
                Some(v) => out.push(v),
                None => return err(format!("{what}: bad percent-encoding in {s:?}")),
            }
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| PurlError(format!("{what}: not UTF-8 once decoded")))
}

/// Percent-encodes all but the spec's permitted characters (alphanumerics, `.-_~`, and `:`,
/// which is never encoded). Separators are added by the caller, never encoded here.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~' | b':') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Whether a type's namespace must, must not, or may be given.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Namespace {
    Required,
    Prohibited,
    Optional,
}

/// One registered type's rules (purl-spec `types/*-definition.json` and its tests).
struct TypeRule {
    namespace: Namespace,
    /// Case-insensitive namespace: lowercased.
    lower_namespace: bool,
    /// Case-insensitive name: lowercased.
    lower_name: bool,
    /// Case-insensitive version (hex digests, PyPI): lowercased.
    lower_version: bool,
    /// Qualifiers without which the purl is not one of this type.
    required_qualifiers: &'static [&'static str],
    /// The name is a path whose `/` are separators, not encoded (git: `host/owner/repo`).
    name_is_path: bool,
}

const fn rule(namespace: Namespace, lower_namespace: bool, lower_name: bool) -> TypeRule {
    TypeRule {
        namespace,
        lower_namespace,
        lower_name,
        lower_version: false,
        required_qualifiers: &[],
        name_is_path: false,
    }
}

/// The rules of a type; unregistered types get the core grammar only.
fn type_rule(ty: &str) -> TypeRule {
    use Namespace::*;
    match ty {
        "alpm" | "apk" | "bitbucket" | "composer" | "deb" | "github" | "qpkg" => {
            rule(Required, true, true)
        }
        // The definition says case-sensitive; the suite's tests lowercase (and win).
        "git" => TypeRule {
            name_is_path: true,
            ..rule(Required, true, true)
        },
        "rpm" => rule(Required, true, false),
        "vscode-extension" => TypeRule {
            lower_version: true,
            ..rule(Required, true, true)
        },
        "maven" | "swift" => rule(Required, false, false),
        // The definition requires a namespace, but Go's standard library is `pkg:golang/stdlib`
        // in syft's SBOMs and OSV's records; no suite case refuses a bare golang name.
        "golang" => rule(Optional, false, false),
        "huggingface" => TypeRule {
            lower_version: true,
            ..rule(Required, false, false)
        },
        "brew" | "hex" | "luarocks" => rule(Optional, true, true),
        "yocto" => rule(Optional, true, false),
        "bitnami" | "chrome-extension" | "otp" | "pub" => rule(Prohibited, false, true),
        "pypi" | "oci" => TypeRule {
            lower_version: true,
            ..rule(Prohibited, false, true)
        },
        "julia" => TypeRule {
            required_qualifiers: &["uuid"],
            ..rule(Prohibited, false, false)
        },
        "swid" => TypeRule {
            required_qualifiers: &["tag_id"],
            ..rule(Optional, false, false)
        },
        "bazel" | "cargo" | "cocoapods" | "conda" | "cran" | "gem" | "mlflow" | "nuget"
        | "opam" | "vcpkg" | "hackage" => rule(Prohibited, false, false),
        // conan, cpan, docker, generic, npm and unregistered types.
        _ => rule(Optional, false, false),
    }
}

fn valid_type(ty: &str) -> bool {
    ty.starts_with(|c: char| c.is_ascii_alphabetic())
        && ty
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'-'))
}

fn valid_qualifier_key(k: &str) -> bool {
    k.starts_with(|c: char| c.is_ascii_alphabetic())
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// Splits a slash-separated path into its non-empty segments.
fn segments(s: &str) -> impl Iterator<Item = &str> {
    s.split('/').filter(|p| !p.is_empty())
}

impl Purl {
    /// Parses and normalises, as the specification's "how to parse" says (right to left:
    /// subpath, qualifiers, scheme, type, version, name, namespace). The error says which part
    /// is wrong.
    pub fn parse(input: &str) -> Result<Purl, PurlError> {
        let s = input.trim();
        let (rest, subpath) = match s.rsplit_once('#') {
            Some((r, sp)) => {
                let mut parts = Vec::new();
                for seg in segments(sp) {
                    let seg = decode(seg, "subpath")?;
                    if seg.contains('/') {
                        return err(format!("subpath segment {seg:?} contains `/`"));
                    }
                    parts.push(seg);
                }
                (r, Some(parts.join("/")))
            }
            None => (s, None),
        };
        let (rest, raw_qualifiers) = match rest.rsplit_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let mut qualifiers = BTreeMap::new();
        for pair in raw_qualifiers.into_iter().flat_map(|q| q.split('&')) {
            if pair.is_empty() {
                continue;
            }
            let Some((k, v)) = pair.split_once('=') else {
                return err(format!("qualifier {pair:?} has no `=`"));
            };
            let v = decode(v, "qualifier")?;
            if qualifiers.insert(k.to_ascii_lowercase(), v).is_some() {
                return err(format!("qualifier key {k:?} is given twice"));
            }
        }
        let Some((scheme, rest)) = rest.split_once(':') else {
            return err(format!("{s:?} is not a purl: it must start with `pkg:`"));
        };
        if !scheme.eq_ignore_ascii_case("pkg") {
            return err(format!("{s:?} is not a purl: it must start with `pkg:`"));
        }
        let rest = rest.trim_start_matches('/');
        let Some((ty, rest)) = rest.split_once('/') else {
            return err(format!("{s:?} has no name: expected pkg:type/name"));
        };
        let (rest, version) = match rest.rsplit_once('@') {
            // An `@` followed by a `/` is an npm scope (`pkg:npm/@scope/name`), not a version.
            Some((r, v)) if !v.contains('/') => (r, Some(decode(v, "version")?)),
            _ => (rest, None),
        };
        // Trailing slashes are not significant, except right before `@version`, where they
        // leave the name empty (`pkg:swift/github.com/Alamofire/@5.4.3` is refused).
        let rest = if version.is_none() {
            rest.trim_end_matches('/')
        } else {
            rest
        };
        let (namespace, name) = if type_rule(&ty.to_ascii_lowercase()).name_is_path {
            // git: the namespace is the host, the name the repository path on it.
            match rest.split_once('/') {
                Some((ns, n)) => (Some(ns), n),
                None => (None, rest),
            }
        } else {
            match rest.rsplit_once('/') {
                Some((ns, n)) => (Some(ns), n),
                None => (None, rest),
            }
        };
        let name = segments(name)
            .map(|seg| decode(seg, "name"))
            .collect::<Result<Vec<_>, _>>()?
            .join("/");
        let namespace = match namespace {
            Some(ns) => {
                let mut parts = Vec::new();
                for seg in segments(ns) {
                    let seg = decode(seg, "namespace")?;
                    if seg.contains('/') {
                        return err(format!("namespace segment {seg:?} contains `/`"));
                    }
                    parts.push(seg);
                }
                Some(parts.join("/"))
            }
            None => None,
        };
        Purl::from_parts(
            ty,
            namespace.as_deref(),
            &name,
            version.as_deref(),
            qualifiers,
            subpath.as_deref(),
        )
        .map_err(|e| PurlError(format!("{s:?}: {e}")))
    }

    /// Builds a purl from decoded components, with the same checks and normalisation as
    /// [`Purl::parse`]: `Purl::from_parts(..)?.to_string()` is the canonical string.
    pub fn from_parts(
        ty: &str,
        namespace: Option<&str>,
        name: &str,
        version: Option<&str>,
        qualifiers: BTreeMap<String, String>,
        subpath: Option<&str>,
    ) -> Result<Purl, PurlError> {
        let ty = ty.to_ascii_lowercase();
        if ty.is_empty() {
            return err("the type is missing");
        }
        if !valid_type(&ty) {
            return err(format!(
                "type {ty:?} is not valid (a letter, then letters, digits, `.+-`)"
            ));
        }
        let name = name.trim_matches('/');
        if name.is_empty() {
            return err("no name");
        }
        let namespace = namespace
            .map(|ns| segments(ns).collect::<Vec<_>>().join("/"))
            .filter(|ns| !ns.is_empty());
        let mut q = BTreeMap::new();
        for (k, v) in qualifiers {
            let k = k.to_ascii_lowercase();
            if !valid_qualifier_key(&k) {
                return err(format!(
                    "qualifier key {k:?} is not valid (a letter, then letters, digits, `.-_`)"
                ));
            }
            if !v.is_empty() {
                q.insert(k, v);
            }
        }
        let subpath = subpath
            .map(|sp| {
                segments(sp)
                    .filter(|p| *p != "." && *p != "..")
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .filter(|sp| !sp.is_empty());
        let mut p = Purl {
            ty,
            namespace,
            name: name.to_string(),
            version: version.filter(|v| !v.is_empty()).map(str::to_string),
            qualifiers: q,
            subpath,
        };
        p.normalise()?;
        Ok(p)
    }

    /// The per-type rules of the specification that make equal packages equal, and refuse
    /// what a type forbids.
    fn normalise(&mut self) -> Result<(), PurlError> {
        let rule = type_rule(&self.ty);
        match (rule.namespace, &self.namespace) {
            (Namespace::Required, None) => {
                return err(format!("{} purls need a namespace", self.ty));
            }
            (Namespace::Prohibited, Some(ns)) => {
                return err(format!(
                    "{} purls have no namespace, but {ns:?} was given",
                    self.ty
                ));
            }
            _ => {}
        }
        if let Some(missing) = rule
            .required_qualifiers
            .iter()
            .find(|k| !self.qualifiers.contains_key(**k))
        {
            return err(format!("{} purls need the {missing:?} qualifier", self.ty));
        }
        if rule.lower_namespace {
            self.namespace = self.namespace.as_deref().map(str::to_lowercase);
        }
        if rule.lower_name {
            self.name = self.name.to_lowercase();
        }
        if rule.lower_version {
            self.version = self.version.as_deref().map(str::to_lowercase);
        }
        match self.ty.as_str() {
            // The specification: `_` is `-`. PEP 503 (what pip and PyPI compare by) goes further,
            // and so do we: runs of `-_.` are one `-`.
            "pypi" => self.name = pep503(&self.name),
            // Databricks' MLflow registry is case-insensitive; Azure ML's is not.
            "mlflow"
                if self
                    .qualifiers
                    .get("repository_url")
                    .is_some_and(|u| u.contains("azuredatabricks.net")) =>
            {
                self.name = self.name.to_lowercase();
            }
            // A CPAN distribution name, never a module name (`URI::PackageURL`).
            "cpan" if self.name.contains("::") => {
                return err(format!(
                    "cpan name {:?} is a module name; a purl names the distribution (`URI-PackageURL`)",
                    self.name
                ));
            }
            "chrome-extension" => {
                // The extension id: 32 letters `a`..`p`; versions are 1-4 dot-separated numbers.
                if self.name.len() != 32 || !self.name.bytes().all(|b| (b'a'..=b'p').contains(&b)) {
                    return err(format!(
                        "chrome-extension name {:?} is not an extension id (32 letters a-p)",
                        self.name
                    ));
                }
                if let Some(v) = &self.version {
                    let parts: Vec<&str> = v.split('.').collect();
                    if parts.len() > 4
                        || !parts
                            .iter()
                            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                    {
                        return err(format!(
                            "chrome-extension version {v:?} is not 1 to 4 dot-separated numbers"
                        ));
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// `pkg:type/namespace/name`: the Package, any version.
    pub fn package(&self) -> String {
        let mut s = format!("pkg:{}/", self.ty);
        if let Some(ns) = &self.namespace {
            for seg in segments(ns) {
                s.push_str(&encode(seg));
                s.push('/');
            }
        }
        if type_rule(&self.ty).name_is_path {
            let segs: Vec<String> = segments(&self.name).map(encode).collect();
            s.push_str(&segs.join("/"));
        } else {
            s.push_str(&encode(&self.name));
        }
        s
    }

    /// `pkg:type/namespace/name@version`: the PackageVersion (qualifiers left out), or the
    /// package when there is no version.
    pub fn package_version(&self) -> String {
        match &self.version {
            Some(v) => format!("{}@{}", self.package(), encode(v)),
            None => self.package(),
        }
    }
}

/// A PyPI project name as PEP 503 compares it: lowercase, runs of `-_.` as one `-`.
fn pep503(name: &str) -> String {
    let mut out = String::new();
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

impl fmt::Display for Purl {
    /// The canonical form, qualifiers sorted and subpath included.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.package_version())?;
        for (i, (k, v)) in self.qualifiers.iter().enumerate() {
            write!(f, "{}{k}={}", if i == 0 { '?' } else { '&' }, encode(v))?;
        }
        if let Some(sp) = &self.subpath {
            let segs: Vec<String> = segments(sp).map(encode).collect();
            write!(f, "#{}", segs.join("/"))?;
        }
        Ok(())
    }
}
