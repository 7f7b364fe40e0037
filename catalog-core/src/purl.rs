//! Package identity: the package URL (purl, https://github.com/package-url/purl-spec), parsed
//! and normalised per type, so that `pkg:pypi/Django_Rest@1.0` and `pkg:pypi/django-rest@1.0`
//! are one package version. Qualifiers (`?arch=amd64`) and subpath are kept but are not part
//! of the identity: a Package is `pkg:type/namespace/name`, a PackageVersion adds `@version`.

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

fn encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        let plain = b.is_ascii_alphanumeric()
            || matches!(b, b'.' | b'-' | b'_' | b'~' | b':')
            || (keep_slash && b == b'/');
        if plain {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Purl {
    /// Parses and normalises. The error says which part is wrong.
    pub fn parse(input: &str) -> Result<Purl, PurlError> {
        let s = input.trim();
        let Some(rest) = s
            .get(..4)
            .filter(|p| p.eq_ignore_ascii_case("pkg:"))
            .map(|_| &s[4..])
        else {
            return err(format!("{s:?} is not a purl: it must start with `pkg:`"));
        };
        let rest = rest.trim_start_matches('/');
        // Right to left, as the specification parses: #subpath, ?qualifiers, @version.
        let (rest, subpath) = match rest.split_once('#') {
            Some((r, sp)) => {
                let parts: Vec<String> = sp
                    .split('/')
                    .filter(|p| !p.is_empty() && *p != "." && *p != "..")
                    .map(|p| decode(p, "subpath"))
                    .collect::<Result<_, _>>()?;
                (r, (!parts.is_empty()).then(|| parts.join("/")))
            }
            None => (rest, None),
        };
        let (rest, qualifiers) = match rest.split_once('?') {
            Some((r, q)) => {
                let mut m = BTreeMap::new();
                for pair in q.split('&').filter(|p| !p.is_empty()) {
                    let Some((k, v)) = pair.split_once('=') else {
                        return err(format!("qualifier {pair:?} has no `=`"));
                    };
                    let k = k.to_ascii_lowercase();
                    if k.is_empty()
                        || !k
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
                    {
                        return err(format!("qualifier key {k:?} is not valid"));
                    }
                    let v = decode(v, "qualifier")?;
                    if !v.is_empty() {
                        m.insert(k, v);
                    }
                }
                (r, m)
            }
            None => (rest, BTreeMap::new()),
        };
        let (rest, version) = match rest.rsplit_once('@') {
            // An `@` in the first segment is an npm scope (`pkg:npm/@scope/name`), not a version.
            Some((r, v)) if r.contains('/') && !v.contains('/') => (r, Some(decode(v, "version")?)),
            _ => (rest, None),
        };
        let version = version.filter(|v| !v.is_empty());
        let (ty, path) = match rest.split_once('/') {
            Some((t, p)) => (t.to_ascii_lowercase(), p.trim_matches('/')),
            None => return err(format!("{s:?} has no name: expected pkg:type/name")),
        };
        if ty.is_empty()
            || !ty.starts_with(|c: char| c.is_ascii_alphabetic())
            || !ty
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'-'))
        {
            return err(format!("type {ty:?} is not valid (letters, digits, `.+-`)"));
        }
        let mut segments: Vec<String> = path
            .split('/')
            .filter(|p| !p.is_empty())
            .map(|p| decode(p, "name"))
            .collect::<Result<_, _>>()?;
        let Some(name) = segments.pop().filter(|n| !n.is_empty()) else {
            return err(format!("{s:?} has no name"));
        };
        let namespace = (!segments.is_empty()).then(|| segments.join("/"));
        let mut p = Purl {
            ty,
            namespace,
            name,
            version,
            qualifiers,
            subpath,
        };
        p.normalise()?;
        Ok(p)
    }

    /// The per-type rules of the specification that make equal packages equal.
    fn normalise(&mut self) -> Result<(), PurlError> {
        let lower_ns = |p: &mut Purl| {
            if let Some(ns) = &mut p.namespace {
                *ns = ns.to_ascii_lowercase();
            }
        };
        match self.ty.as_str() {
            "pypi" => {
                // PEP 503: case-insensitive, runs of `-_.` are one `-`.
                let mut out = String::new();
                let mut sep = false;
                for c in self.name.chars() {
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
                self.name = out;
            }
            // Case-insensitive registries: lowercase namespace and name.
            "npm" | "github" | "bitbucket" | "composer" | "hex" | "pub" | "apk" | "deb"
            | "alpm" => {
                lower_ns(self);
                self.name = self.name.to_ascii_lowercase();
            }
            "maven" if self.namespace.is_none() => {
                return err("maven purls need a namespace (the groupId)");
            }
            // golang, cargo, gem, nuget, rpm, generic, oci, ...: case-sensitive, kept as given.
            _ => {}
        }
        Ok(())
    }

    /// `pkg:type/namespace/name`: the Package, any version.
    pub fn package(&self) -> String {
        let mut s = format!("pkg:{}/", self.ty);
        if let Some(ns) = &self.namespace {
            s.push_str(&encode(ns, true));
            s.push('/');
        }
        s.push_str(&encode(&self.name, false));
        s
    }

    /// `pkg:type/namespace/name@version`: the PackageVersion (qualifiers left out), or the
    /// package when there is no version.
    pub fn package_version(&self) -> String {
        match &self.version {
            Some(v) => format!("{}@{}", self.package(), encode(v, false)),
            None => self.package(),
        }
    }
}

impl fmt::Display for Purl {
    /// The canonical form, qualifiers sorted and subpath included.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.package_version())?;
        if !self.qualifiers.is_empty() {
            let q: Vec<String> = self
                .qualifiers
                .iter()
                .map(|(k, v)| format!("{k}={}", encode(v, true)))
                .collect();
            write!(f, "?{}", q.join("&"))?;
        }
        if let Some(sp) = &self.subpath {
            write!(f, "#{}", encode(sp, true))?;
        }
        Ok(())
    }
}
