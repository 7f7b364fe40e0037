//! Image references (`nginx:1.25`, `ghcr.io/x/y@sha256:...`, `[::1]:5000/a/b`) parsed and
//! normalised exactly as github.com/distribution/reference does: its grammar (`regexp.go`),
//! `Parse`, `ParseNormalizedNamed` (Docker Hub's `docker.io` domain and `library/` prefix,
//! `index.docker.io` as `docker.io`), `ParseDockerRef` and `ParseAnyReference`.
//!
//! Held to that library's own test tables (`tests/fixtures/distribution-reference/cases.json`,
//! run by `catalog-core/tests/integration/reference.rs`). The one place an image reference or a
//! registry host is judged: hooks, the CLI and the API call these, never their own rules.

use std::fmt;

/// Docker Hub as image references name it (`nginx` is `docker.io/library/nginx`).
pub const DEFAULT_DOMAIN: &str = "docker.io";
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
const OFFICIAL_REPO_PREFIX: &str = "library/";
const DEFAULT_TAG: &str = "latest";
/// The longest repository path (the name without its domain) distribution accepts.
pub const NAME_TOTAL_LENGTH_MAX: usize = 255;

/// Why a string is not an image reference. `kind()` names the upstream error it stands for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("repository name must have at least one component")]
    NameEmpty,
    #[error("invalid reference format: `{0}`")]
    InvalidFormat(String),
    #[error("invalid reference format: repository name `{0}` must be lowercase")]
    NameContainsUppercase(String),
    #[error(
        "repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters (it has {0})"
    )]
    NameTooLong(usize),
    #[error("invalid repository name `{0}`: cannot specify 64-byte hexadecimal strings")]
    HexIdentifier(String),
    #[error("digest `{0}` has the wrong length for its algorithm")]
    DigestInvalidLength(String),
    #[error("digest `{0}`: unsupported algorithm (sha256, sha384 or sha512)")]
    DigestUnsupported(String),
    #[error("digest `{0}` is not lowercase hex")]
    DigestInvalidFormat(String),
    #[error("`{0}` is not a registry host (a DNS name, IPv4 address or [IPv6] address, and an optional :port)")]
    InvalidHost(String),
}

impl ReferenceError {
    /// The upstream error this is, in snake_case (`invalid_format`, `name_too_long`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            ReferenceError::NameEmpty => "name_empty",
            ReferenceError::InvalidFormat(_) => "invalid_format",
            ReferenceError::NameContainsUppercase(_) => "name_contains_uppercase",
            ReferenceError::NameTooLong(_) => "name_too_long",
            ReferenceError::HexIdentifier(_) => "hex_identifier",
            ReferenceError::DigestInvalidLength(_) => "digest_invalid_length",
            ReferenceError::DigestUnsupported(_) => "digest_unsupported",
            ReferenceError::DigestInvalidFormat(_) => "digest_invalid_format",
            ReferenceError::InvalidHost(_) => "invalid_host",
        }
    }
}

/// A parsed reference: `domain/path[:tag][@digest]`. `domain` is empty only from [`parse`]
/// of a name without one; [`parse_normalized`] always fills it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    pub domain: String,
    pub path: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl Reference {
    /// `domain/path` (or `path` without a domain): upstream's `Name()`.
    pub fn name(&self) -> String {
        if self.domain.is_empty() {
            self.path.clone()
        } else {
            format!("{}/{}", self.domain, self.path)
        }
    }

    /// The short form people type: `docker.io/library/nginx` is `nginx`, `docker.io/a/b` is
    /// `a/b` (upstream's `FamiliarName`).
    pub fn familiar_name(&self) -> String {
        if self.domain != DEFAULT_DOMAIN {
            return self.name();
        }
        match self.path.strip_prefix(OFFICIAL_REPO_PREFIX) {
            Some(rest) if !rest.contains('/') => rest.to_string(),
            _ => self.path.clone(),
        }
    }
}

impl fmt::Display for Reference {
    /// Upstream's `String()`: `name[:tag][@digest]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

// ----- the grammar (regexp.go), by hand -----

fn is_alnum_lower(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// `pathComponent`: `[a-z0-9]+` runs joined by `.`, `_`, `__` or any number of `-`.
fn valid_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    if !b.first().is_some_and(|&x| is_alnum_lower(x))
        || !b.last().is_some_and(|&x| is_alnum_lower(x))
    {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if is_alnum_lower(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !is_alnum_lower(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = matches!(sep, "." | "_" | "__") || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// `remoteName`: path components separated by single `/` (`library/nginx`).
pub fn valid_path(p: &str) -> bool {
    !p.is_empty() && p.split('/').all(valid_path_component)
}

/// `domainNameComponent`: `[a-zA-Z0-9]`, or alphanumerics around `-`.
fn valid_domain_component(c: &str) -> bool {
    let b = c.as_bytes();
    b.first().is_some_and(u8::is_ascii_alphanumeric)
        && b.last().is_some_and(u8::is_ascii_alphanumeric)
        && b.iter().all(|&x| x.is_ascii_alphanumeric() || x == b'-')
}

/// `domainAndPort`: a DNS name or IPv4 address (`a.b.c`), or an IPv6 address in brackets
/// without a zone, then an optional `:port`. `foo..bar`, `-a.com` and `a.com:http` are not.
pub fn valid_domain(d: &str) -> bool {
    let (host, port) = if let Some(rest) = d.strip_prefix('[') {
        let Some((addr, after)) = rest.split_once(']') else {
            return false;
        };
        if addr.is_empty() || !addr.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return false;
        }
        match after {
            "" => return true,
            p => match p.strip_prefix(':') {
                Some(port) => ("", port),
                None => return false,
            },
        }
    } else {
        match d.split_once(':') {
            Some((h, p)) => (h, p),
            None => (d, ""),
        }
    };
    let port_ok = (port.is_empty() && !d.ends_with(':'))
        || (!port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()));
    let host_ok = d.starts_with('[') || host.split('.').all(valid_domain_component);
    port_ok && host_ok
}

/// The tag grammar: `[\w][\w.-]{0,127}`.
pub fn valid_tag(t: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    !t.is_empty()
        && t.len() <= 128
        && t.bytes().next().is_some_and(word)
        && t.bytes().all(|b| word(b) || b == b'.' || b == b'-')
}

/// `digestPat`: `algorithm:hex` with at least 32 hex digits, the algorithm's grammar only.
fn digest_shape(d: &str) -> bool {
    let Some((alg, hex)) = d.split_once(':') else {
        return false;
    };
    let alg_ok = alg.split(['-', '_', '+', '.']).all(|part| {
        part.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
            && part.bytes().all(|b| b.is_ascii_alphanumeric())
    });
    alg_ok && hex.len() >= 32 && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// go-digest's `Parse`: a supported algorithm and its exact lowercase-hex length.
fn check_digest(d: &str) -> Result<(), ReferenceError> {
    let (alg, hex) = d
        .split_once(':')
        .ok_or_else(|| ReferenceError::InvalidFormat(d.to_string()))?;
    let len = match alg {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return Err(ReferenceError::DigestUnsupported(d.to_string())),
    };
    if hex.len() != len {
        return Err(ReferenceError::DigestInvalidLength(d.to_string()));
    }
    if !hex
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(ReferenceError::DigestInvalidFormat(d.to_string()));
    }
    Ok(())
}

/// A well-formed, supported digest (`sha256:<64 lowercase hex>`, sha384, sha512).
pub fn valid_digest(d: &str) -> bool {
    digest_shape(d) && check_digest(d).is_ok()
}

/// `^[a-f0-9]{64}$`: an image id, never a repository name.
fn is_identifier(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The anchored reference grammar: (domain, path, tag, digest), or `None` when it does not
/// match. `domain` is empty when the name has none.
fn match_reference(s: &str) -> Option<(&str, &str, Option<&str>, Option<&str>)> {
    let (name_tag, digest) = match s.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (s, None),
    };
    if digest.is_some_and(|d| !digest_shape(d)) {
        return None;
    }
    // A tag has neither `/` nor `:`, a path no `:`: the tag follows a `:` after the last `/`.
    let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match name_tag[last_slash..].rfind(':') {
        Some(i) => (
            &name_tag[..last_slash + i],
            Some(&name_tag[last_slash + i + 1..]),
        ),
        None => (name_tag, None),
    };
    if tag.is_some_and(|t| !valid_tag(t)) {
        return None;
    }
    let (domain, path) = match name.split_once('/') {
        Some((d, p)) if valid_domain(d) && valid_path(p) => (d, p),
        _ if valid_path(name) => ("", name),
        _ => return None,
    };
    Some((domain, path, tag, digest))
}

/// Upstream's `Parse`: the reference exactly as written, no Docker Hub defaults.
pub fn parse(s: &str) -> Result<Reference, ReferenceError> {
    if s.is_empty() {
        return Err(ReferenceError::NameEmpty);
    }
    let Some((domain, path, tag, digest)) = match_reference(s) else {
        let lower = s.to_lowercase();
        if lower != s && match_reference(&lower).is_some() {
            return Err(ReferenceError::NameContainsUppercase(s.to_string()));
        }
        return Err(ReferenceError::InvalidFormat(s.to_string()));
    };
    if path.len() > NAME_TOTAL_LENGTH_MAX {
        return Err(ReferenceError::NameTooLong(path.len()));
    }
    if let Some(d) = digest {
        check_digest(d)?;
    }
    Ok(Reference {
        domain: domain.to_string(),
        path: path.to_string(),
        tag: tag.map(str::to_string),
        digest: digest.map(str::to_string),
    })
}

/// Upstream's `splitDockerDomain`: the first component is a domain when it is `localhost`,
/// has a `.` or `:`, or has an uppercase letter; else the name is on Docker Hub.
fn split_docker_domain(name: &str) -> (String, String) {
    let (domain, remote) = match name.split_once('/') {
        None => (DEFAULT_DOMAIN, name.to_string()),
        Some((d, r)) if d == "localhost" => (d, r.to_string()),
        Some((d, r)) if d == LEGACY_DEFAULT_DOMAIN => (DEFAULT_DOMAIN, r.to_string()),
        Some((d, r)) if d.contains(['.', ':']) || d.to_lowercase() != d => (d, r.to_string()),
        Some(_) => (DEFAULT_DOMAIN, name.to_string()),
    };
    let remote = if domain == DEFAULT_DOMAIN && !remote.contains('/') {
        format!("{OFFICIAL_REPO_PREFIX}{remote}")
    } else {
        remote
    };
    (domain.to_string(), remote)
}

/// Upstream's `ParseNormalizedNamed`: `nginx` is `docker.io/library/nginx`,
/// `index.docker.io/x/y` is `docker.io/x/y`; an uppercase path is an error, not lowercased.
pub fn parse_normalized(s: &str) -> Result<Reference, ReferenceError> {
    if is_identifier(s) {
        return Err(ReferenceError::HexIdentifier(s.to_string()));
    }
    let (domain, remainder) = split_docker_domain(s);
    let remote = remainder.split(':').next().unwrap_or_default();
    if remote.to_lowercase() != remote {
        return Err(ReferenceError::NameContainsUppercase(remote.to_string()));
    }
    parse(&format!("{domain}/{remainder}"))
}

/// Upstream's `ParseDockerRef`: normalised, `:latest` when neither tag nor digest is given,
/// and the tag dropped when a digest pins the image.
pub fn parse_docker_ref(s: &str) -> Result<Reference, ReferenceError> {
    let mut r = parse_normalized(s)?;
    if r.digest.is_some() {
        r.tag = None;
    } else if r.tag.is_none() {
        r.tag = Some(DEFAULT_TAG.to_string());
    }
    Ok(r)
}

/// What `ParseAnyReference` gives: a bare digest (or 64-hex image id) or a normalised name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnyReference {
    Digest(String),
    Named(Reference),
}

impl fmt::Display for AnyReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnyReference::Digest(d) => f.write_str(d),
            AnyReference::Named(r) => r.fmt(f),
        }
    }
}

/// Upstream's `ParseAnyReference`: a 64-hex id is `sha256:<id>`, a digest is itself, anything
/// else is [`parse_normalized`].
pub fn parse_any(s: &str) -> Result<AnyReference, ReferenceError> {
    if is_identifier(s) {
        return Ok(AnyReference::Digest(format!("sha256:{s}")));
    }
    if digest_shape(s) && check_digest(s).is_ok() {
        return Ok(AnyReference::Digest(s.to_string()));
    }
    parse_normalized(s).map(AnyReference::Named)
}

/// A registry host as the catalog names it: checked against the domain grammar, lowercased
/// (DNS names are case-insensitive), and Docker Hub's API hosts (`registry-1.docker.io`,
/// `index.docker.io`, `registry.hub.docker.com`) named `docker.io` as image references name it.
pub fn normalize_registry(host: &str) -> Result<String, ReferenceError> {
    if !valid_domain(host) {
        return Err(ReferenceError::InvalidHost(host.to_string()));
    }
    let host = host.to_ascii_lowercase();
    Ok(match host.as_str() {
        "registry-1.docker.io" | LEGACY_DEFAULT_DOMAIN | "registry.hub.docker.com" => {
            DEFAULT_DOMAIN.to_string()
        }
        _ => host,
    })
}

/// The anchored reference grammar alone (upstream's `ReferenceRegexp`/`anchoredNameRegexp`,
/// without the length and digest-algorithm checks `Parse` adds): (domain, path, tag, digest),
/// empty strings for absent parts.
pub fn grammar_match(s: &str) -> Option<(String, String, String, String)> {
    match_reference(s).map(|(d, p, t, g)| {
        (
            d.to_string(),
            p.to_string(),
            t.unwrap_or_default().to_string(),
            g.unwrap_or_default().to_string(),
        )
    })
}
