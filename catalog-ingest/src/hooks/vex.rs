//! `/hooks/vex` (what `catalog import vex` sends, and what discovery finds attached to an
//! image): OpenVEX documents (v0.2.0, and v0.0.1's string forms) and CycloneDX VEX (a
//! CycloneDX document whose `vulnerabilities[]` carry an `analysis`).
//!
//! Products are read as the catalog names things:
//! - `sha256:<hex>`, `pkg:oci/...@sha256:...` and `pkg:docker/...@sha256:...` are an image;
//! - any other purl is a package (with its version: that version; without: every version);
//! - OpenVEX `identifiers.purl` and `hashes.sha-256` stand in for an `@id` that is neither.
//!
//! A product named some other way (a CPE, a URL) cannot be matched: it is dropped with a
//! warning, and a statement left without products is dropped with one. A malformed document
//! (no statements, an unknown status, `not_affected` without a justification or impact
//! statement, `affected` without an action statement, a bad timestamp) is refused, naming the
//! field. A statement about a product the catalog does not know yet is kept: it applies when
//! the product appears.

use super::duplicate_keys::reject_duplicate_keys;
use crate::item::{FieldError, InboxBody, Record};
use catalog_core::purl::Purl;
use catalog_core::vex::{VexDocument, VexProduct, VexStatement, VexStatus, JUSTIFICATIONS};
use catalog_core::Event;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// A parsed document, ready for the inbox, and what was dropped from it.
#[derive(Debug)]
pub struct Parsed {
    pub item: InboxBody,
    pub statements: usize,
    pub warnings: Vec<String>,
}

fn bad<T>(field: impl Into<String>, reason: impl Into<String>) -> Result<T, FieldError> {
    Err(FieldError::new(field, reason))
}

fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn is_digest(s: &str) -> bool {
    s.strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// What a product identifier names, if the catalog can tell.
pub fn product_of(id: &str) -> Option<VexProduct> {
    let id = id.trim();
    if is_digest(id) {
        return Some(VexProduct::Image {
            digest: id.to_ascii_lowercase(),
        });
    }
    let p = Purl::parse(id).ok()?;
    if matches!(p.ty.as_str(), "oci" | "docker") {
        return match p.version.as_deref() {
            Some(v) if is_digest(v) => Some(VexProduct::Image {
                digest: v.to_ascii_lowercase(),
            }),
            _ => None,
        };
    }
    Some(VexProduct::Package {
        purl: p.to_string(),
    })
}

fn time(v: Option<&Value>, field: &str) -> Result<Option<DateTime<Utc>>, FieldError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => DateTime::parse_from_rfc3339(s)
            .map(|t| Some(t.with_timezone(&Utc)))
            .or_else(|e| bad(field, format!("{s:?} is not an RFC 3339 time: {e}"))),
        Some(_) => bad(field, "not a string"),
    }
}

fn text(obj: &Map<String, Value>, key: &str, path: &str) -> Result<Option<String>, FieldError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => bad(format!("{path}{key}"), "not a string"),
    }
}

fn array<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'a [Value], FieldError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => bad(format!("{path}{key}"), "not an array"),
    }
}

/// The checks both formats share: what each status requires.
fn check_statement(s: &VexStatement, at: &str, cyclonedx: bool) -> Result<(), FieldError> {
    if s.status == VexStatus::NotAffected && s.justification.is_none() && s.impact.is_none() {
        return bad(
            format!("{at}justification"),
            "not_affected needs a justification or an impact statement",
        );
    }
    if let (false, Some(j)) = (cyclonedx, &s.justification) {
        if !JUSTIFICATIONS.contains(&j.as_str()) {
            return bad(
                format!("{at}justification"),
                format!(
                    "{j:?} is not an OpenVEX justification ({})",
                    JUSTIFICATIONS.join(", ")
                ),
            );
        }
    }
    if s.until.is_some() && !s.status.suppresses() {
        return bad(
            format!("{at}until"),
            "only a suppression (not_affected, fixed) expires",
        );
    }
    Ok(())
}

/// An OpenVEX document.
fn openvex(root: &Map<String, Value>) -> Result<Doc, FieldError> {
    let id = text(root, "@id", "")?;
    let author = text(root, "author", "")?.ok_or_else(|| FieldError::new("author", "missing"))?;
    let doc_time = time(root.get("timestamp"), "timestamp")?
        .ok_or_else(|| FieldError::new("timestamp", "missing"))?;
    let list = match root.get("statements") {
        Some(Value::Array(a)) if !a.is_empty() => a,
        Some(Value::Array(_)) => return bad("statements", "empty"),
        None | Some(Value::Null) => return bad("statements", "missing"),
        Some(_) => return bad("statements", "not an array"),
    };
    let mut statements = Vec::new();
    let mut warnings = Vec::new();
    for (i, st) in list.iter().enumerate() {
        let at = format!("statements[{i}].");
        let Value::Object(st) = st else {
            return bad(format!("statements[{i}]"), "not an object");
        };
        let (vulnerability, aliases) = match st.get("vulnerability") {
            Some(Value::String(s)) if !s.trim().is_empty() => (s.clone(), Vec::new()),
            Some(Value::Object(v)) => {
                let name = text(v, "name", &format!("{at}vulnerability."))?
                    .or(text(v, "@id", &format!("{at}vulnerability."))?)
                    .ok_or_else(|| FieldError::new(format!("{at}vulnerability.name"), "missing"))?;
                let aliases = array(v, "aliases", &format!("{at}vulnerability."))?
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect();
                (name, aliases)
            }
            None | Some(Value::Null) => return bad(format!("{at}vulnerability"), "missing"),
            Some(_) => return bad(format!("{at}vulnerability"), "not a name or an object"),
        };
        let status = match st.get("status") {
            Some(Value::String(s)) => VexStatus::parse(s).ok_or_else(|| {
                FieldError::new(
                    format!("{at}status"),
                    format!(
                        "{s:?} is not one of not_affected, affected, fixed, under_investigation"
                    ),
                )
            })?,
            None | Some(Value::Null) => return bad(format!("{at}status"), "missing"),
            Some(_) => return bad(format!("{at}status"), "not a string"),
        };
        let products_v = array(st, "products", &at)?;
        if products_v.is_empty() {
            return bad(
                format!("{at}products"),
                "missing: a statement names its products",
            );
        }
        let mut products = Vec::new();
        let mut subcomponents = Vec::new();
        for (j, p) in products_v.iter().enumerate() {
            let pat = format!("{at}products[{j}]");
            let (names, subs): (Vec<String>, &[Value]) = match p {
                Value::String(s) => (vec![s.clone()], &[]),
                Value::Object(o) => {
                    let mut names: Vec<String> = Vec::new();
                    names.extend(text(o, "@id", &format!("{pat}."))?);
                    if let Some(Value::Object(ids)) = o.get("identifiers") {
                        names.extend(ids.get("purl").and_then(Value::as_str).map(str::to_string));
                    }
                    if let Some(Value::Object(h)) = o.get("hashes") {
                        names.extend(
                            h.get("sha-256")
                                .and_then(Value::as_str)
                                .map(|x| format!("sha256:{x}")),
                        );
                    }
                    (names, array(o, "subcomponents", &format!("{pat}."))?)
                }
                _ => return bad(pat, "not a product"),
            };
            match names.iter().find_map(|n| product_of(n)) {
                Some(product) => products.push(product),
                None => {
                    warnings.push(format!(
                    "{pat}: {} names no image, package or component the catalog can match; dropped",
                    names.first().map_or("(nothing)".to_string(), |n| format!("{n:?}"))
                ))
                }
            }
            for (k, s) in subs.iter().enumerate() {
                let sid = match s {
                    Value::String(s) => Some(s.as_str()),
                    Value::Object(o) => o.get("@id").and_then(Value::as_str),
                    _ => None,
                };
                match sid.and_then(|s| Purl::parse(s).ok()) {
                    Some(p) => subcomponents.push(p.to_string()),
                    None => warnings.push(format!("{pat}.subcomponents[{k}]: not a purl; dropped")),
                }
            }
        }
        let s = VexStatement {
            vulnerability,
            aliases,
            products,
            subcomponents,
            status,
            justification: text(st, "justification", &at)?,
            impact: text(st, "impact_statement", &at)?,
            action: text(st, "action_statement", &at)?,
            timestamp: time(st.get("timestamp"), &format!("{at}timestamp"))?.unwrap_or(doc_time),
            until: None,
        };
        check_statement(&s, &at, false)?;
        if s.status == VexStatus::Affected && s.action.is_none() {
            return bad(
                format!("{at}action_statement"),
                "affected needs an action statement",
            );
        }
        if s.products.is_empty() {
            warnings.push(format!(
                "statements[{i}]: no product left to apply to; dropped"
            ));
            continue;
        }
        statements.push(s);
    }
    Ok(Doc {
        id,
        format: "openvex",
        author,
        statements,
        warnings,
    })
}

/// CycloneDX's analysis states in VEX terms.
fn cdx_status(state: &str) -> Option<VexStatus> {
    Some(match state {
        "not_affected" | "false_positive" => VexStatus::NotAffected,
        "resolved" | "resolved_with_pedigree" => VexStatus::Fixed,
        "exploitable" => VexStatus::Affected,
        "in_triage" => VexStatus::UnderInvestigation,
        _ => return None,
    })
}

/// A CycloneDX document's VEX: each `vulnerabilities[]` entry with an `analysis`, about the
/// components its `affects` refs name, inside the subject image when there is one.
fn cyclonedx(
    root: &Map<String, Value>,
    subject: Option<&str>,
    received_at: DateTime<Utc>,
) -> Result<Doc, FieldError> {
    let id = text(root, "serialNumber", "")?;
    let meta = root.get("metadata").and_then(Value::as_object);
    let doc_time =
        time(meta.and_then(|m| m.get("timestamp")), "metadata.timestamp")?.unwrap_or(received_at);
    let author = meta
        .and_then(|m| {
            m.get("authors")
                .and_then(Value::as_array)
                .and_then(|a| a.first())
                .and_then(|a| a.get("name"))
                .or_else(|| m.get("supplier").and_then(|s| s.get("name")))
                .or_else(|| m.get("manufacturer").and_then(|s| s.get("name")))
        })
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    // bom-ref -> purl, from the document's own components (nested ones too).
    let mut refs: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    fn walk(list: &[Value], refs: &mut std::collections::HashMap<String, String>) {
        for c in list {
            if let (Some(r), Some(p)) = (
                c.get("bom-ref").and_then(Value::as_str),
                c.get("purl").and_then(Value::as_str),
            ) {
                refs.insert(r.to_string(), p.to_string());
            }
            if let Some(Value::Array(sub)) = c.get("components") {
                walk(sub, refs);
            }
        }
    }
    if let Some(Value::Array(cs)) = root.get("components") {
        walk(cs, &mut refs);
    }
    let meta_component = meta.and_then(|m| m.get("component"));
    if let Some(c) = meta_component {
        walk(std::slice::from_ref(c), &mut refs);
    }
    // The product: the subject image (the upload's `?image=`, or what discovery found it
    // attached to), else the metadata component if it names an image.
    let subject = subject.map(str::to_string).or_else(|| {
        meta_component
            .and_then(|c| c.get("purl"))
            .and_then(Value::as_str)
            .and_then(product_of)
            .and_then(|p| match p {
                VexProduct::Image { digest } => Some(digest),
                _ => None,
            })
    });
    let list = array(root, "vulnerabilities", "")?;
    let mut statements = Vec::new();
    let mut warnings = Vec::new();
    for (i, v) in list.iter().enumerate() {
        let at = format!("vulnerabilities[{i}].");
        let Value::Object(v) = v else {
            return bad(format!("vulnerabilities[{i}]"), "not an object");
        };
        let Some(Value::Object(analysis)) = v.get("analysis") else {
            continue;
        };
        let aat = format!("{at}analysis.");
        let vulnerability =
            text(v, "id", &at)?.ok_or_else(|| FieldError::new(format!("{at}id"), "missing"))?;
        let state = text(analysis, "state", &aat)?
            .ok_or_else(|| FieldError::new(format!("{aat}state"), "missing"))?;
        let status = cdx_status(&state).ok_or_else(|| {
            FieldError::new(
                format!("{aat}state"),
                format!("{state:?} is not a CycloneDX analysis state"),
            )
        })?;
        let aliases = array(v, "references", &at)?
            .iter()
            .filter_map(|r| r.get("id").and_then(Value::as_str))
            .map(str::to_string)
            .collect();
        let mut subcomponents = Vec::new();
        let mut direct = Vec::new();
        for (j, a) in array(v, "affects", &at)?.iter().enumerate() {
            let Some(r) = a.get("ref").and_then(Value::as_str) else {
                return bad(format!("{at}affects[{j}].ref"), "missing");
            };
            // A BOM-Link (`urn:cdx:<serial>/<version>#<bom-ref>`) points into another BOM:
            // its bom-ref is read as a purl when it is one (cdxgen's are).
            let local = r.rsplit_once('#').map_or(r, |(_, f)| f);
            let purl = refs.get(local).cloned().or_else(|| {
                let decoded = catalog_core::purl::percent_decode(local)?;
                Purl::parse(&decoded).ok().map(|p| p.to_string())
            });
            match purl.as_deref().and_then(product_of) {
                Some(VexProduct::Image { digest }) => direct.push(VexProduct::Image { digest }),
                Some(VexProduct::Package { purl }) => subcomponents.push(purl),
                _ => warnings.push(format!(
                    "{at}affects[{j}]: {r:?} names no component with a purl; dropped"
                )),
            }
        }
        let mut products = direct;
        match &subject {
            Some(d) if !subcomponents.is_empty() => {
                products.push(VexProduct::Image { digest: d.clone() })
            }
            // Without an image, the statement is about the packages themselves.
            _ => {
                products.extend(
                    subcomponents
                        .drain(..)
                        .map(|purl| VexProduct::Package { purl }),
                );
            }
        }
        let justification = text(analysis, "justification", &aat)?
            .or_else(|| (state == "false_positive").then(|| "false_positive".to_string()));
        let responses: Vec<String> = array(analysis, "response", &aat)?
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
        let timestamp = time(analysis.get("lastUpdated"), &format!("{aat}lastUpdated"))?
            .or(time(
                analysis.get("firstIssued"),
                &format!("{aat}firstIssued"),
            )?)
            .unwrap_or(doc_time);
        let s = VexStatement {
            vulnerability,
            aliases,
            products,
            subcomponents,
            status,
            justification,
            impact: text(analysis, "detail", &aat)?,
            action: (!responses.is_empty()).then(|| responses.join(", ")),
            timestamp,
            until: None,
        };
        check_statement(&s, &aat, true)?;
        if s.products.is_empty() {
            warnings.push(format!(
                "vulnerabilities[{i}]: no product left to apply to; dropped"
            ));
            continue;
        }
        statements.push(s);
    }
    if statements.is_empty() && warnings.is_empty() {
        return bad(
            "vulnerabilities",
            "no entry with an analysis: this is not a VEX",
        );
    }
    Ok(Doc {
        id,
        format: "cyclonedx",
        author,
        statements,
        warnings,
    })
}

struct Doc {
    id: Option<String>,
    format: &'static str,
    author: String,
    statements: Vec<VexStatement>,
    warnings: Vec<String>,
}

/// Whether a JSON document is VEX this reads (OpenVEX, or CycloneDX with analyses), without
/// parsing it: how discovery tells a VEX from an SBOM.
pub fn is_vex(root: &Value) -> bool {
    let openvex = root
        .get("@context")
        .and_then(Value::as_str)
        .is_some_and(|c| c.starts_with("https://openvex.dev/ns"));
    let cdx_vex = root.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX")
        && root
            .get("vulnerabilities")
            .and_then(Value::as_array)
            .is_some_and(|vs| vs.iter().any(|v| v.get("analysis").is_some()));
    openvex || cdx_vex
}

/// The VEX document in bytes found in a registry, if they hold one: the document itself
/// (OpenVEX, CycloneDX VEX), or an in-toto statement whose predicate is OpenVEX, bare or in
/// a DSSE envelope (`cosign attest --type openvex`).
pub fn vex_document(bytes: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine;
    // Most documents found are SBOMs, megabytes each, parsed right after as SBOMs: a scan for
    // the marks a VEX must carry saves parsing them twice.
    let has = |mark: &[u8]| bytes.windows(mark.len()).any(|w| w == mark);
    if !has(b"openvex.dev/ns") && !has(b"\"analysis\"") && !has(b"\"payloadType\"") {
        return None;
    }
    let root: Value = serde_json::from_slice(bytes).ok()?;
    if is_vex(&root) {
        return Some(bytes.to_vec());
    }
    let statement = match root.get("payload").and_then(Value::as_str) {
        Some(p) if root.get("payloadType").is_some() => {
            let raw = base64::engine::general_purpose::STANDARD.decode(p).ok()?;
            serde_json::from_slice::<Value>(&raw).ok()?
        }
        _ => root,
    };
    let openvex = statement
        .get("predicateType")
        .and_then(Value::as_str)
        .is_some_and(|t| t.starts_with("https://openvex.dev/ns"));
    let predicate = statement.get("predicate")?;
    (openvex && is_vex(predicate)).then(|| serde_json::to_vec(predicate).ok())?
}

/// Parses a VEX document into one inbox item. `subject` is the image a CycloneDX VEX is about
/// when the document does not say (the upload's `?image=`, or the image it is attached to).
pub fn parse(
    body: &[u8],
    subject: Option<&str>,
    via: &str,
    received_at: DateTime<Utc>,
    actor: &str,
) -> Result<Parsed, FieldError> {
    reject_duplicate_keys(body, "")?;
    let root: Value = serde_json::from_slice(body)
        .map_err(|e| FieldError::new("body", format!("not JSON: {e}")))?;
    let Value::Object(obj) = &root else {
        return bad(
            "body",
            "expected an OpenVEX or CycloneDX VEX document (a JSON object)",
        );
    };
    if let Some(s) = subject {
        if !is_digest(s) {
            return bad("image", format!("{s:?} is not a digest (sha256:<64 hex>)"));
        }
    }
    let doc = if obj
        .get("@context")
        .and_then(Value::as_str)
        .is_some_and(|c| c.starts_with("https://openvex.dev/ns"))
    {
        openvex(obj)?
    } else if obj.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
        cyclonedx(obj, subject, received_at)?
    } else {
        return bad(
            "body",
            "neither OpenVEX (@context https://openvex.dev/ns/...) nor CycloneDX (bomFormat)",
        );
    };
    let digest = digest_of(body);
    let statements = doc.statements.len();
    let key = match subject {
        Some(s) => format!("vex:{digest}:{s}"),
        None => format!("vex:{digest}"),
    };
    let author = if doc.author.is_empty() {
        actor.to_string()
    } else {
        doc.author
    };
    let occurred_at = doc
        .statements
        .iter()
        .map(|s| s.timestamp)
        .max()
        .unwrap_or(received_at);
    let item = InboxBody::Record(Record {
        key,
        occurred_at,
        source: "vex".into(),
        actor: actor.to_string(),
        event: Event::VexRecorded(Box::new(VexDocument {
            id: doc.id.unwrap_or(digest),
            format: doc.format.into(),
            via: via.into(),
            author,
            statements: doc.statements,
        })),
    });
    Ok(Parsed {
        item,
        statements,
        warnings: doc.warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const IMG: &str = "sha256:c000000000000000000000000000000000000000000000000000000000000001";

    /// The OpenVEX specification's example (v0.2.0), with a real image digest.
    fn openvex_doc() -> String {
        format!(
            r#"{{
  "@context": "https://openvex.dev/ns/v0.2.0",
  "@id": "https://openvex.dev/docs/example/vex-9fb3463de1b57",
  "author": "Wolfi J Inkinson",
  "role": "Document Creator",
  "timestamp": "2023-01-08T18:02:03.647787998-06:00",
  "version": 1,
  "statements": [
    {{
      "vulnerability": {{"name": "CVE-2021-44228", "aliases": ["GHSA-jfh8-c2jp-5v3q"]}},
      "products": [
        {{"@id": "pkg:oci/shop-cart@{}?repository_url=ghcr.io/acme/shop-cart",
          "subcomponents": [{{"@id": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"}}]}}
      ],
      "status": "not_affected",
      "justification": "vulnerable_code_not_in_execute_path",
      "impact_statement": "JNDI lookups are disabled"
    }},
    {{
      "vulnerability": "CVE-2023-0001",
      "timestamp": "2023-02-01T00:00:00Z",
      "products": ["pkg:npm/lodash@4.17.20", "cpe:2.3:a:acme:thing:1.0"],
      "status": "affected",
      "action_statement": "upgrade"
    }}
  ]
}}"#,
            IMG.replace(':', "%3A")
        )
    }

    fn doc_of(p: &Parsed) -> &VexDocument {
        match &p.item {
            InboxBody::Record(r) => match &r.event {
                Event::VexRecorded(d) => d,
                e => panic!("{e:?}"),
            },
            i => panic!("{i:?}"),
        }
    }

    #[test]
    fn openvex_statements_name_images_packages_and_subcomponents() {
        let p = parse(openvex_doc().as_bytes(), None, "upload", Utc::now(), "t").unwrap();
        let d = doc_of(&p);
        assert_eq!(d.id, "https://openvex.dev/docs/example/vex-9fb3463de1b57");
        assert_eq!(d.author, "Wolfi J Inkinson");
        assert_eq!(d.statements.len(), 2);
        let s = &d.statements[0];
        assert_eq!(s.products, [VexProduct::Image { digest: IMG.into() }]);
        assert_eq!(
            s.subcomponents,
            ["pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"]
        );
        assert_eq!(s.aliases, ["GHSA-jfh8-c2jp-5v3q"]);
        assert_eq!(s.status, VexStatus::NotAffected);
        assert_eq!(s.impact.as_deref(), Some("JNDI lookups are disabled"));
        // The document's time, where the statement has none.
        assert_eq!(
            s.timestamp.to_rfc3339(),
            "2023-01-09T00:02:03.647787998+00:00"
        );
        let s = &d.statements[1];
        assert_eq!(
            s.products,
            [VexProduct::Package {
                purl: "pkg:npm/lodash@4.17.20".into()
            }]
        );
        assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
        assert!(
            p.warnings[0].contains("statements[1].products[1]"),
            "{:?}",
            p.warnings
        );
        // The same bytes are the same event.
        let again = parse(openvex_doc().as_bytes(), None, "upload", Utc::now(), "t").unwrap();
        assert_eq!(again.item.key(), p.item.key());
    }

    #[test]
    fn malformed_openvex_is_refused_naming_the_field() {
        let doc = openvex_doc();
        for (from, to, field) in [
            (
                r#""status": "not_affected""#,
                r#""status": "maybe""#,
                "statements[0].status",
            ),
            (
                r#""justification": "vulnerable_code_not_in_execute_path",
      "impact_statement": "JNDI lookups are disabled""#,
                r#""justification": null"#,
                "statements[0].justification",
            ),
            (
                r#""justification": "vulnerable_code_not_in_execute_path""#,
                r#""justification": "trust me""#,
                "statements[0].justification",
            ),
            (
                r#""action_statement": "upgrade""#,
                r#""x": 1"#,
                "statements[1].action_statement",
            ),
            (
                r#""timestamp": "2023-02-01T00:00:00Z""#,
                r#""timestamp": "yesterday""#,
                "statements[1].timestamp",
            ),
            (r#""author": "Wolfi J Inkinson","#, "", "author"),
            (
                r#""vulnerability": "CVE-2023-0001","#,
                "",
                "statements[1].vulnerability",
            ),
        ] {
            assert!(doc.contains(from), "{from}");
            let bad = doc.replace(from, to);
            let e = parse(bad.as_bytes(), None, "upload", Utc::now(), "t").unwrap_err();
            assert_eq!(e.field, field, "{e}");
        }
        let e = parse(
            b"{\"bomFormat\": \"SPDX\"}",
            None,
            "upload",
            Utc::now(),
            "t",
        )
        .unwrap_err();
        assert_eq!(e.field, "body");
        let e = parse(
            openvex_doc().as_bytes(),
            Some("latest"),
            "upload",
            Utc::now(),
            "t",
        )
        .unwrap_err();
        assert_eq!(e.field, "image");
    }

    /// CycloneDX 1.5's VEX example shape: a BOM-Link to the SBOM's component, an analysis.
    #[test]
    fn cyclonedx_vex_is_about_the_subject_images_components() {
        let doc = r#"{
  "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
  "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
  "metadata": {"timestamp": "2024-01-01T00:00:00Z", "authors": [{"name": "Product Security"}]},
  "vulnerabilities": [
    {
      "id": "CVE-2021-44228",
      "source": {"name": "NVD"},
      "references": [{"id": "GHSA-jfh8-c2jp-5v3q", "source": {"name": "GitHub"}}],
      "analysis": {
        "state": "not_affected",
        "justification": "code_not_reachable",
        "detail": "JNDI is disabled",
        "lastUpdated": "2024-02-01T00:00:00Z"
      },
      "affects": [{"ref": "urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar"}]
    },
    {"id": "CVE-2099-1", "ratings": []}
  ]
}"#;
        let p = parse(doc.as_bytes(), Some(IMG), "upload", Utc::now(), "t").unwrap();
        let d = doc_of(&p);
        assert_eq!(d.format, "cyclonedx");
        assert_eq!(d.author, "Product Security");
        assert_eq!(d.id, "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79");
        assert_eq!(
            d.statements.len(),
            1,
            "the entry without an analysis is not VEX"
        );
        let s = &d.statements[0];
        assert_eq!(s.products, [VexProduct::Image { digest: IMG.into() }]);
        assert_eq!(
            s.subcomponents,
            ["pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar"]
        );
        assert_eq!(s.justification.as_deref(), Some("code_not_reachable"));
        assert_eq!(s.aliases, ["GHSA-jfh8-c2jp-5v3q"]);
        assert_eq!(s.timestamp.to_rfc3339(), "2024-02-01T00:00:00+00:00");
        // Without a subject, the statement is about the package itself.
        let p = parse(doc.as_bytes(), None, "upload", Utc::now(), "t").unwrap();
        assert!(matches!(
            &doc_of(&p).statements[0].products[0],
            VexProduct::Package { purl } if purl.starts_with("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1")
        ));
        assert!(is_vex(&serde_json::from_str(doc).unwrap()));
        let bad = doc.replace("\"not_affected\"", "\"fine\"");
        let e = parse(bad.as_bytes(), Some(IMG), "upload", Utc::now(), "t").unwrap_err();
        assert_eq!(e.field, "vulnerabilities[0].analysis.state");
        let sbom = r#"{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": []}"#;
        assert!(!is_vex(&serde_json::from_str(sbom).unwrap()));
        let e = parse(sbom.as_bytes(), Some(IMG), "upload", Utc::now(), "t").unwrap_err();
        assert_eq!(e.field, "vulnerabilities");
    }

    #[test]
    fn vex_is_found_bare_or_in_an_attestation_and_an_sbom_is_not_vex() {
        use base64::Engine;
        let doc = openvex_doc();
        assert_eq!(
            vex_document(doc.as_bytes()).as_deref(),
            Some(doc.as_bytes())
        );
        let statement = serde_json::json!({
            "_type": "https://in-toto.io/Statement/v1",
            "predicateType": "https://openvex.dev/ns/v0.2.0",
            "subject": [{"name": "cart", "digest": {"sha256": IMG.trim_start_matches("sha256:")}}],
            "predicate": serde_json::from_str::<Value>(&doc).unwrap(),
        });
        let envelope = serde_json::json!({
            "payloadType": "application/vnd.in-toto+json",
            "payload": base64::engine::general_purpose::STANDARD
                .encode(serde_json::to_vec(&statement).unwrap()),
            "signatures": [],
        });
        let found = vex_document(&serde_json::to_vec(&envelope).unwrap()).unwrap();
        let p = parse(&found, Some(IMG), "tag", Utc::now(), "t").unwrap();
        assert_eq!(p.statements, 2);
        let sbom = br#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": []}"#;
        assert!(vex_document(sbom).is_none());
        let spdx_attestation = serde_json::json!({
            "payloadType": "application/vnd.in-toto+json",
            "payload": base64::engine::general_purpose::STANDARD.encode(
                br#"{"predicateType": "https://spdx.dev/Document", "predicate": {}}"#),
        });
        assert!(vex_document(&serde_json::to_vec(&spdx_attestation).unwrap()).is_none());
    }
}
