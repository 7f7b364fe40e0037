//! SBOM documents coming in: CycloneDX JSON (1.4 to 1.7, a later 1.x read as 1.7), SPDX JSON
//! (2.3, and 2.2) and SPDX 3.0 JSON-LD (3.0.0, 3.0.1, told by its `@context`),
//! bare or wrapped in an in-toto attestation (a Statement, or the DSSE envelope holding one that
//! cosign's `.att` tags carry), normalised to [`catalog_core::sbom::Sbom`].
//!
//! What is normalised, whatever the format:
//! - purls are parsed with [`Purl::parse`] and kept in canonical form; an invalid one becomes
//!   `purl: None` and a warning naming the component (`components[12] (name@version): purl
//!   "...": reason`);
//! - hash algorithms are lowercase with a dash (`sha-256`, `sha-1`, `sha-512`, `md5`,
//!   `sha3-256`) and the values lowercase hex;
//! - `depth` is the shortest path from the document's subject over the dependency edges (a
//!   breadth-first search, so cycles are harmless): 1 for a direct dependency;
//! - the subject (the image or application the document is about) is not itself a package;
//!   its image digest, when the document names one, is [`Sbom::subject`] (for an attestation,
//!   the statement's `subject[0].digest.sha256`).
//!
//! Errors are a [`FieldError`] naming the field (`components[4].name: missing`,
//! `packages[2].name: expected a string, found a number`, `body: ... at line 3 column 7`);
//! inside an attestation the path starts at the statement (`predicate.components[4].name`) or
//! at the envelope (`payload.predicate.components[4].name`), and so do warnings.
//!
//! Costs are linear in the body, whatever it holds: licenses and edges are deduplicated with
//! sets (one component may list 200k licenses), warnings past [`MAX_WARNINGS`] are only
//! counted (a document may have millions of unknown refs), per-component arrays are capped
//! ([`MAX_LICENSES`], [`MAX_HASHES`]: a 400 naming the field and the limit), and
//! [`parse_until`] stops between components when the server shuts down.
//!
//! Speed: documents are deserialized once into typed structs borrowing the input's strings;
//! only a document that fails to deserialize is parsed again as a `serde_json::Value` and walked
//! to name the field that is wrong. Measured in release (CPU time per parse, on a shared 2-core
//! VM): the cyclonedx-npm fixture (83 components, 126 KB) 0.13 ms with the
//! server's allocator (mimalloc), 0.155 ms with the system's; a synthetic CycloneDX document of
//! 500 components (300 KB pretty-printed, each with a purl, a license, a hash and two
//! dependencies) 0.62 ms with mimalloc, 0.83 ms with the system's. About half of that is
//! serde_json reading strings, a quarter `Purl::parse` and its canonical form.

mod cyclonedx;
mod spdx;
mod spdx3;

use crate::item::FieldError;
use base64::Engine as _;
use catalog_core::purl::Purl;
pub use catalog_core::sbom::MAX_WARNINGS;
use catalog_core::sbom::{Sbom, Warnings};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::{HashSet, VecDeque};
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, Ordering};

/// Parses a CycloneDX or SPDX JSON document, or an in-toto attestation (DSSE envelope or bare
/// Statement) wrapping one, into the normalised [`Sbom`].
pub fn parse(bytes: &[u8]) -> Result<Sbom, FieldError> {
    parse_until(bytes, &AtomicBool::new(false)).map_err(|e| match e {
        ParseError::Invalid(f) => f,
        // Nothing sets a flag nobody else holds.
        ParseError::Stopped => FieldError::new("body", "the parse was stopped"),
    })
}

/// [`parse`], giving up with [`ParseError::Stopped`] soon after `stop` is set (the server
/// shutting down): a large document is not parsed to the end for nobody.
pub fn parse_until(bytes: &[u8], stop: &AtomicBool) -> Result<Sbom, ParseError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    parse_at(bytes, "", Allow::Any, Stop(stop))
}

/// The most licenses one component may list. Real ones list a handful; 200k on one component
/// parsed fine once deduplication was linear, but every answer naming the package then
/// carried them all (a GraphQL page of it took a gigabyte to build).
pub const MAX_LICENSES: usize = 1_000;
/// The most hashes (checksums) one component may list: one per algorithm is all there is.
pub const MAX_HASHES: usize = 100;

/// Refuses a per-component array longer than `max`, naming it and the limit.
pub(crate) fn at_most(
    len: usize,
    max: usize,
    path: impl FnOnce() -> String,
) -> Result<(), FieldError> {
    if len > max {
        return Err(FieldError::new(
            path(),
            format!("{len} entries; at most {max} are accepted per component"),
        ));
    }
    Ok(())
}

/// Why a document gave no [`Sbom`].
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error("the parse was stopped: the server is shutting down")]
    Stopped,
}

/// The flag a long parse checks between components.
#[derive(Clone, Copy)]
pub(crate) struct Stop<'s>(&'s AtomicBool);

impl Stop<'_> {
    pub(crate) fn check(self) -> Result<(), ParseError> {
        if self.0.load(Ordering::Relaxed) {
            return Err(ParseError::Stopped);
        }
        Ok(())
    }
}

/// A JSON string, borrowed from the input when it has no escapes.
#[derive(Deserialize)]
#[serde(transparent)]
pub(crate) struct Str<'a>(#[serde(borrow)] Cow<'a, str>);

impl Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

/// Every top-level field any of the accepted documents has, so that one pass over the input
/// both tells what it is and deserializes it. Fields of the other formats are dropped before
/// the slow path deserializes again, so they cannot fail a document they do not belong to.
#[derive(Deserialize)]
struct Top<'a> {
    // CycloneDX
    #[serde(rename = "bomFormat", borrow)]
    bom_format: Option<Str<'a>>,
    #[serde(rename = "specVersion", borrow)]
    spec_version: Option<Str<'a>>,
    #[serde(borrow)]
    metadata: Option<cyclonedx::Metadata<'a>>,
    #[serde(borrow)]
    components: Option<Vec<cyclonedx::Component<'a>>>,
    #[serde(borrow)]
    dependencies: Option<Vec<cyclonedx::Dependency<'a>>>,
    // SPDX
    #[serde(rename = "spdxVersion", borrow)]
    spdx_version: Option<Str<'a>>,
    #[serde(rename = "SPDXID", borrow)]
    spdx_id: Option<Str<'a>>,
    #[serde(rename = "documentDescribes", borrow)]
    document_describes: Option<Vec<Str<'a>>>,
    #[serde(borrow)]
    packages: Option<Vec<spdx::Package<'a>>>,
    #[serde(borrow)]
    relationships: Option<Vec<spdx::Relationship<'a>>>,
    #[serde(borrow)]
    files: Option<Vec<spdx::Element<'a>>>,
    #[serde(borrow)]
    snippets: Option<Vec<spdx::Element<'a>>>,
    // SPDX 3 (JSON-LD)
    #[serde(rename = "@context")]
    context: Option<Value>,
    #[serde(rename = "@graph", borrow)]
    graph: Option<Vec<spdx3::Node<'a>>>,
    // DSSE envelope (its payloadType is not checked: the payload says what it is)
    #[serde(borrow)]
    payload: Option<Str<'a>>,
    // in-toto Statement
    #[serde(rename = "_type", borrow)]
    statement_type: Option<Str<'a>>,
    #[serde(rename = "predicateType", borrow)]
    predicate_type: Option<Str<'a>>,
    #[serde(borrow)]
    subject: Option<Vec<StatementSubject<'a>>>,
    #[serde(borrow)]
    predicate: Option<Box<Top<'a>>>,
}

const CYCLONEDX_KEYS: &[&str] = &[
    "bomFormat",
    "specVersion",
    "metadata",
    "components",
    "dependencies",
];
const SPDX_KEYS: &[&str] = &[
    "spdxVersion",
    "SPDXID",
    "documentDescribes",
    "packages",
    "relationships",
    "files",
    "snippets",
];
const SPDX3_KEYS: &[&str] = &["@context", "@graph"];
const DSSE_KEYS: &[&str] = &["payload"];
const STATEMENT_KEYS: &[&str] = &["_type", "predicateType", "subject", "predicate"];

#[derive(Deserialize)]
struct StatementSubject<'a> {
    #[serde(borrow)]
    digest: Option<StatementDigest<'a>>,
}

#[derive(Deserialize)]
struct StatementDigest<'a> {
    #[serde(borrow)]
    sha256: Option<Str<'a>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Dsse,
    Statement,
    CycloneDx,
    Spdx,
    Spdx3,
}

/// What may appear where: anything at the top, no envelope inside an envelope, and only an
/// SBOM as a statement's predicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Allow {
    Any,
    InEnvelope,
    Predicate,
}

fn parse_at(bytes: &[u8], base: &str, allow: Allow, stop: Stop<'_>) -> Result<Sbom, ParseError> {
    stop.check()?;
    crate::hooks::duplicate_keys::reject_duplicate_keys(bytes, base)?;
    stop.check()?;
    match serde_json::from_slice::<Top>(bytes) {
        Ok(top) => build(top, base, allow, stop),
        Err(typed) => slow_path(bytes, typed, base, allow, stop),
    }
}

/// The document did not deserialize: walk it as a `Value` to say which field is wrong.
fn slow_path(
    bytes: &[u8],
    typed: serde_json::Error,
    base: &str,
    allow: Allow,
    stop: Stop<'_>,
) -> Result<Sbom, ParseError> {
    let what = if base.is_empty() { "body" } else { base };
    let mut value: Value = serde_json::from_slice(bytes).map_err(|e| {
        let reason = if base.is_empty() {
            format!("not valid JSON: {e}")
        } else {
            format!("the decoded payload is not valid JSON: {e}")
        };
        FieldError::new(what, reason)
    })?;
    stop.check()?;
    check_value(&mut value, base, allow)?;
    // Every field the typed structs read has been checked; what fails now is something the
    // checks do not know about: say what serde said, with its line and column.
    match Top::deserialize(&value) {
        Ok(top) => build(top, base, allow, stop),
        Err(_) => Err(FieldError::new(what, typed.to_string()).into()),
    }
}

fn kind_of(
    payload: bool,
    statement: bool,
    bom_format: Option<&str>,
    spdx: bool,
    json_ld: bool,
    base: &str,
    allow: Allow,
) -> Result<Kind, FieldError> {
    let kind = if payload {
        Kind::Dsse
    } else if statement {
        Kind::Statement
    } else if let Some(f) = bom_format {
        if f != "CycloneDX" {
            return Err(FieldError::new(
                at(base, "bomFormat"),
                format!("unknown format {f:?}: expected \"CycloneDX\" (or an SPDX document)"),
            ));
        }
        Kind::CycloneDx
    } else if spdx {
        Kind::Spdx
    } else if json_ld {
        Kind::Spdx3
    } else {
        return Err(FieldError::new(
            at(base, "bomFormat"),
            "unknown format: neither a CycloneDX document (bomFormat), an SPDX 2 document \
             (spdxVersion), an SPDX 3 document (@context) nor an in-toto attestation \
             (payload, _type)",
        ));
    };
    match (allow, kind) {
        (Allow::InEnvelope, Kind::Dsse) => Err(FieldError::new(
            base,
            "the payload is itself a DSSE envelope; expected an in-toto Statement",
        )),
        (Allow::Predicate, Kind::Dsse | Kind::Statement) => Err(FieldError::new(
            base,
            "expected a CycloneDX or SPDX document as the predicate",
        )),
        _ => Ok(kind),
    }
}

fn build(top: Top<'_>, base: &str, allow: Allow, stop: Stop<'_>) -> Result<Sbom, ParseError> {
    let kind = kind_of(
        top.payload.is_some(),
        top.statement_type.is_some() || top.predicate_type.is_some(),
        top.bom_format.as_deref(),
        top.spdx_version.is_some(),
        top.context.as_ref().is_some_and(|c| !c.is_null()),
        base,
        allow,
    )?;
    match kind {
        Kind::Dsse => {
            let payload = top.payload.as_deref().unwrap_or_default();
            let decoded = decode_base64(payload)
                .ok_or_else(|| FieldError::new(at(base, "payload"), "not base64"))?;
            parse_at(&decoded, &at(base, "payload"), Allow::InEnvelope, stop)
        }
        Kind::Statement => statement(top, base, stop),
        Kind::CycloneDx => cyclonedx::build(
            cyclonedx::Doc {
                spec_version: top.spec_version,
                metadata: top.metadata,
                components: top.components,
                dependencies: top.dependencies,
            },
            base,
            stop,
        ),
        Kind::Spdx => spdx::build(
            spdx::Doc {
                spdx_version: top.spdx_version,
                spdx_id: top.spdx_id,
                document_describes: top.document_describes,
                packages: top.packages,
                relationships: top.relationships,
                files: top.files,
                snippets: top.snippets,
            },
            base,
            stop,
        ),
        Kind::Spdx3 => spdx3::build(
            spdx3::Doc {
                context: top.context,
                graph: top.graph,
            },
            base,
            stop,
        ),
    }
}

fn decode_base64(s: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(s).ok())
}

const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/";
const CYCLONEDX_PREDICATE: &str = "https://cyclonedx.org/bom";
const SPDX_PREDICATE: &str = "https://spdx.dev/Document";

/// An in-toto Statement (v0.1 or v1) whose predicate is an SBOM.
fn statement(top: Top<'_>, base: &str, stop: Stop<'_>) -> Result<Sbom, ParseError> {
    let digest = statement_subject(&top, base)?;
    let Some(predicate) = top.predicate else {
        return Err(FieldError::new(at(base, "predicate"), "missing").into());
    };
    let mut sbom = build(*predicate, &at(base, "predicate"), Allow::Predicate, stop)?;
    if digest.is_some() {
        sbom.subject = digest;
    }
    Ok(sbom)
}

/// A statement's types checked, and the image digest its subject names.
fn statement_subject(top: &Top<'_>, base: &str) -> Result<Option<String>, FieldError> {
    match top.statement_type.as_deref() {
        None => return Err(FieldError::new(at(base, "_type"), "missing")),
        Some(t) if !t.starts_with(STATEMENT_TYPE) => {
            return Err(FieldError::new(
                at(base, "_type"),
                format!("{t:?} is not an in-toto Statement ({STATEMENT_TYPE}v1)"),
            ))
        }
        Some(_) => {}
    }
    match top.predicate_type.as_deref() {
        None => return Err(FieldError::new(at(base, "predicateType"), "missing")),
        Some(t) if !t.starts_with(CYCLONEDX_PREDICATE) && !t.starts_with(SPDX_PREDICATE) => {
            return Err(FieldError::new(
                at(base, "predicateType"),
                format!("{t:?} is not an SBOM: expected {CYCLONEDX_PREDICATE} or {SPDX_PREDICATE}"),
            ))
        }
        Some(_) => {}
    }
    let digest = match top
        .subject
        .as_ref()
        .and_then(|s| s.first())
        .and_then(|s| s.digest.as_ref())
        .and_then(|d| d.sha256.as_deref())
    {
        Some(hex) => Some(sha256_digest(hex).ok_or_else(|| {
            FieldError::new(
                at(base, "subject[0].digest.sha256"),
                format!("{hex:?} is not a sha256 digest (64 lowercase hex digits)"),
            )
        })?),
        None => None,
    };
    Ok(digest)
}

// ---------------------------------------------------------------------------------------------
// The slow path's checks: every field the typed structs read, with its path.

fn check_value(value: &mut Value, base: &str, allow: Allow) -> Result<(), FieldError> {
    let what = if base.is_empty() { "body" } else { base };
    let Some(obj) = value.as_object_mut() else {
        return Err(FieldError::new(
            what,
            format!(
                "expected a JSON object, found {}",
                crate::hooks::json::kind(value)
            ),
        ));
    };
    let present = |k: &str| obj.get(k).is_some_and(|v| !v.is_null());
    let kind = kind_of(
        present("payload"),
        present("_type") || present("predicateType"),
        opt_str(obj, base, "bomFormat")?,
        present("spdxVersion"),
        present("@context"),
        base,
        allow,
    )?;
    let keys = match kind {
        Kind::Dsse => {
            opt_str(obj, base, "payload")?;
            DSSE_KEYS
        }
        Kind::Statement => {
            opt_str(obj, base, "_type")?;
            opt_str(obj, base, "predicateType")?;
            for (i, s) in opt_array(obj, base, "subject")?.iter().enumerate() {
                let path = at(base, &format!("subject[{i}]"));
                let s = as_object(s, &path)?;
                if let Some(d) = opt_object(s, &path, "digest")? {
                    opt_str(d, &at(&path, "digest"), "sha256")?;
                }
            }
            STATEMENT_KEYS
        }
        Kind::CycloneDx => {
            cyclonedx::check(obj, base)?;
            CYCLONEDX_KEYS
        }
        Kind::Spdx => {
            spdx::check(obj, base)?;
            SPDX_KEYS
        }
        Kind::Spdx3 => {
            spdx3::check(obj, base)?;
            SPDX3_KEYS
        }
    };
    obj.retain(|k, _| keys.contains(&k.as_str()));
    if kind == Kind::Statement {
        if let Some(p) = obj.get_mut("predicate").filter(|p| !p.is_null()) {
            check_value(p, &at(base, "predicate"), Allow::Predicate)?;
        }
    }
    Ok(())
}

/// `base.key`, or `key` at the top; `base[3]` for an index.
pub(crate) fn at(base: &str, key: &str) -> String {
    if base.is_empty() {
        key.to_string()
    } else if key.starts_with('[') {
        format!("{base}{key}")
    } else {
        format!("{base}.{key}")
    }
}

fn expected(path: String, what: &str, found: &Value) -> FieldError {
    FieldError::new(
        path,
        format!("expected {what}, found {}", crate::hooks::json::kind(found)),
    )
}

/// An optional string field (absent and null are `None`).
pub(crate) fn opt_str<'v>(
    obj: &'v Map<String, Value>,
    path: &str,
    key: &str,
) -> Result<Option<&'v str>, FieldError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(v) => Err(expected(at(path, key), "a string", v)),
    }
}

/// An optional boolean field (absent and null are `None`).
pub(crate) fn opt_bool(
    obj: &Map<String, Value>,
    path: &str,
    key: &str,
) -> Result<Option<bool>, FieldError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(v) => Err(expected(at(path, key), "a boolean", v)),
    }
}

/// A required string field.
pub(crate) fn req_str<'v>(
    obj: &'v Map<String, Value>,
    path: &str,
    key: &str,
) -> Result<&'v str, FieldError> {
    match obj.get(key) {
        None => Err(FieldError::new(at(path, key), "missing")),
        Some(Value::String(s)) => Ok(s),
        Some(v) => Err(expected(at(path, key), "a string", v)),
    }
}

/// An optional array field, empty when absent or null.
pub(crate) fn opt_array<'v>(
    obj: &'v Map<String, Value>,
    path: &str,
    key: &str,
) -> Result<&'v [Value], FieldError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(v) => Err(expected(at(path, key), "an array", v)),
    }
}

/// An optional array of strings.
pub(crate) fn opt_str_array(
    obj: &Map<String, Value>,
    path: &str,
    key: &str,
) -> Result<(), FieldError> {
    for (i, v) in opt_array(obj, path, key)?.iter().enumerate() {
        if !v.is_string() {
            return Err(expected(at(path, &format!("{key}[{i}]")), "a string", v));
        }
    }
    Ok(())
}

/// An optional object field.
pub(crate) fn opt_object<'v>(
    obj: &'v Map<String, Value>,
    path: &str,
    key: &str,
) -> Result<Option<&'v Map<String, Value>>, FieldError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(v) => Err(expected(at(path, key), "an object", v)),
    }
}

pub(crate) fn as_object<'v>(
    v: &'v Value,
    path: &str,
) -> Result<&'v Map<String, Value>, FieldError> {
    v.as_object()
        .ok_or_else(|| expected(path.to_string(), "an object", v))
}

// ---------------------------------------------------------------------------------------------
// Normalisation shared by the formats.

/// `path (name@version)`, how warnings name a component.
pub(crate) fn label(path: &str, name: &str, version: Option<&str>) -> String {
    match version {
        Some(v) => format!("{path} ({name}@{v})"),
        None => format!("{path} ({name})"),
    }
}

/// Parses a purl; an invalid one is a warning naming the component (`label` makes its name,
/// only when needed) and `None`. An empty string is no purl.
pub(crate) fn purl_or_warn(
    raw: &str,
    label: impl FnOnce() -> String,
    warnings: &mut Warnings,
) -> Option<Purl> {
    if raw.trim().is_empty() {
        return None;
    }
    match Purl::parse(raw) {
        Ok(p) => Some(p),
        Err(e) => {
            warnings.push(|| format!("{}: purl {raw:?}: {e}", label()));
            None
        }
    }
}

/// A hash algorithm's name, lowercase with a dash: `SHA256`, `SHA-256` -> `sha-256`; `SHA1` ->
/// `sha-1`; `MD5` -> `md5`; `SHA3_256`, `SHA3-256` -> `sha3-256`; `BLAKE2b-256`, `blake2b256`
/// -> `blake2b-256`.
pub(crate) fn hash_alg(alg: &str) -> String {
    let s: String = alg
        .trim()
        .chars()
        .map(|c| {
            if c == '_' {
                '-'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect();
    let digits = |bits: &str| !bits.is_empty() && bits.bytes().all(|b| b.is_ascii_digit());
    if let Some(bits) = s.strip_prefix("sha").filter(|b| digits(b)) {
        return format!("sha-{bits}");
    }
    // SPDX 3 writes `blake2b256` where CycloneDX writes `BLAKE2b-256`.
    if let Some(bits) = s.strip_prefix("blake2b").filter(|b| digits(b)) {
        return format!("blake2b-{bits}");
    }
    s
}

/// A hash value as lowercase hex, or `None` when it is not hex.
pub(crate) fn hash_hex(value: &str) -> Option<String> {
    let v = value.trim();
    (!v.is_empty() && v.bytes().all(|b| b.is_ascii_hexdigit())).then(|| v.to_ascii_lowercase())
}

/// `sha256:<hex>` when `hex` is 64 lowercase hex digits.
pub(crate) fn sha256_digest(hex: &str) -> Option<String> {
    (hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .then(|| format!("sha256:{hex}"))
}

/// The image digest a document's subject names: its purl's version when the purl is an image
/// (`pkg:oci/name@sha256%3A<hex>`), else its version when that is `sha256:<hex>`, else, for a
/// container, its SHA-256 hash. Something that looks like a digest but is not a valid one is a
/// warning.
pub(crate) fn subject_digest(
    what: &str,
    purl: Option<&Purl>,
    version: Option<&str>,
    container: bool,
    sha256: Option<&str>,
    warnings: &mut Warnings,
) -> Option<String> {
    let mut candidates: Vec<(&str, &str)> = Vec::with_capacity(3);
    if let Some(v) = purl
        .filter(|p| p.ty == "oci" || p.ty == "docker")
        .and_then(|p| p.version.as_deref())
    {
        candidates.push(("purl version", v));
    }
    if let Some(v) = version {
        candidates.push(("version", v));
    }
    for (field, v) in candidates {
        if let Some(hex) = v.strip_prefix("sha256:") {
            match sha256_digest(hex) {
                Some(d) => return Some(d),
                None => warnings.push(|| {
                    format!(
                        "{what}: {field} {v:?} is not a sha256 digest (64 lowercase hex digits)"
                    )
                }),
            }
        }
    }
    if container {
        if let Some(hex) = sha256 {
            match sha256_digest(hex) {
                Some(d) => return Some(d),
                None => warnings.push(|| {
                    format!("{what}: SHA-256 {hex:?} is not a sha256 digest (64 hex digits)")
                }),
            }
        }
    }
    None
}

/// Shortest distances from `sources` (distance 0) over `adj`; `None` for what is not reached.
/// Every node is visited at most once, so cycles end the search like any other edge.
/// An SPDX document's layout (2.3 and 3.0 alike): each element's depth from the described
/// ones, and which output package each element is (described elements are the subject, not
/// packages), with the number of packages.
pub(crate) fn described_layout(
    adj: &[Vec<u32>],
    described: &[bool],
) -> (Vec<Option<u32>>, Vec<Option<u32>>, u32) {
    let n = described.len();
    let sources: Vec<usize> = (0..n).filter(|&i| described[i]).collect();
    let dist = if sources.is_empty() {
        vec![None; n]
    } else {
        bfs(adj, &sources)
    };
    let mut out: Vec<Option<u32>> = vec![None; n];
    let mut next = 0u32;
    for (i, o) in out.iter_mut().enumerate() {
        if !described[i] {
            *o = Some(next);
            next += 1;
        }
    }
    (dist, out, next)
}

pub(crate) fn bfs(adj: &[Vec<u32>], sources: &[usize]) -> Vec<Option<u32>> {
    let mut dist: Vec<Option<u32>> = vec![None; adj.len()];
    let mut queue = VecDeque::with_capacity(adj.len());
    for &s in sources {
        if s < adj.len() && dist[s].is_none() {
            dist[s] = Some(0);
            queue.push_back(s);
        }
    }
    while let Some(n) = queue.pop_front() {
        let next = dist[n].map_or(0, |d| d + 1);
        for &m in &adj[n] {
            let m = m as usize;
            if m < adj.len() && dist[m].is_none() {
                dist[m] = Some(next);
                queue.push_back(m);
            }
        }
    }
    dist
}

/// A dependency graph's adjacency lists, each edge once (and no self-loop), in the order
/// first seen. A set says what is there already: a node may have millions of edges, and a
/// scan of its list per edge made a 32 MiB document run for minutes.
pub(crate) struct Edges {
    pub adj: Vec<Vec<u32>>,
    seen: HashSet<(u32, u32)>,
}

impl Edges {
    pub(crate) fn new(nodes: usize) -> Edges {
        Edges {
            adj: vec![Vec::new(); nodes],
            seen: HashSet::new(),
        }
    }

    pub(crate) fn add(&mut self, from: usize, to: usize) {
        let (f, t) = (from as u32, to as u32);
        if from != to && self.seen.insert((f, t)) {
            self.adj[from].push(t);
        }
    }
}

/// The licenses, trimmed, without empty ones or repeats, in document order. A set, not a
/// scan per license: one component may list 200k.
pub(crate) fn licenses<'s>(raw: impl IntoIterator<Item = &'s str>) -> Vec<String> {
    let mut seen = HashSet::new();
    raw.into_iter()
        .map(str::trim)
        .filter(|l| !l.is_empty() && seen.insert(*l))
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_algorithms_are_normalised() {
        for (raw, want) in [
            ("SHA-256", "sha-256"),
            ("SHA256", "sha-256"),
            ("sha256", "sha-256"),
            ("SHA1", "sha-1"),
            ("SHA-1", "sha-1"),
            ("SHA-512", "sha-512"),
            ("SHA384", "sha-384"),
            ("MD5", "md5"),
            ("SHA3-256", "sha3-256"),
            ("SHA3_512", "sha3-512"),
            ("BLAKE2b-256", "blake2b-256"),
            ("blake2b512", "blake2b-512"),
            ("sha3_384", "sha3-384"),
            ("Streebog-256", "streebog-256"),
            ("BLAKE3", "blake3"),
        ] {
            assert_eq!(hash_alg(raw), want, "{raw}");
        }
        assert_eq!(hash_hex("ABCdef01").as_deref(), Some("abcdef01"));
        assert_eq!(hash_hex("not hex"), None);
    }

    #[test]
    fn bfs_terminates_on_cycles() {
        // 0 -> 1 -> 2 -> 1, 3 unreachable, 2 -> 0
        let adj = vec![vec![1], vec![2], vec![1, 0], vec![]];
        assert_eq!(bfs(&adj, &[0]), vec![Some(0), Some(1), Some(2), None]);
    }

    #[test]
    fn strings_are_borrowed_from_the_input() {
        #[derive(Deserialize)]
        struct X<'a> {
            #[serde(borrow)]
            a: Option<Str<'a>>,
            #[serde(borrow)]
            v: Vec<Str<'a>>,
        }
        let x: X = serde_json::from_str(r#"{"a":"abc","v":["x","y\\n"]}"#).unwrap();
        assert!(matches!(x.a.unwrap().0, Cow::Borrowed("abc")));
        assert!(matches!(x.v[0].0, Cow::Borrowed("x")));
        // An escape needs an owned copy.
        assert!(matches!(&x.v[1].0, Cow::Owned(s) if s == "y\\n"));
    }

    #[test]
    fn licenses_and_edges_are_kept_once_in_order() {
        assert_eq!(
            licenses([" MIT", "", "Apache-2.0", "MIT ", "MIT"]),
            vec!["MIT".to_string(), "Apache-2.0".to_string()]
        );
        let mut e = Edges::new(3);
        for (f, t) in [(0, 2), (0, 1), (0, 2), (1, 1), (2, 0)] {
            e.add(f, t);
        }
        assert_eq!(e.adj, vec![vec![2, 1], vec![], vec![0]]);
    }

    #[test]
    fn a_set_flag_stops_the_parse() {
        let doc = br#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"name":"a"}]}"#;
        assert!(parse_until(doc, &AtomicBool::new(false)).is_ok());
        assert!(matches!(
            parse_until(doc, &AtomicBool::new(true)),
            Err(ParseError::Stopped)
        ));
    }

    #[test]
    fn paths_join() {
        assert_eq!(at("", "components"), "components");
        assert_eq!(at("predicate", "components"), "predicate.components");
        assert_eq!(at("components", "[3]"), "components[3]");
    }
}
