//! `/hooks/sbom` and `catalog import sbom`: an SBOM document (CycloneDX or SPDX JSON, or an
//! in-toto attestation wrapping one) for an image. The image is `?image=` when given, else the
//! digest the document's own metadata names; one of the two must say which image it is.
//!
//! The whole document is parsed and normalised here, before anything is stored, so a bad
//! document is refused whole with the field that is wrong.

use super::sha256_hex;
use crate::item::{FieldError, InboxBody, Record};
use crate::sbom::{self, ParseError};
use catalog_core::event::{Event, SbomAttached};
use catalog_core::identity::valid_digest;
use chrono::{DateTime, Utc};
use std::sync::atomic::AtomicBool;

/// `via` for a document someone sent us (as opposed to one found in a registry).
pub const UPLOAD: &str = "upload";

/// The natural key of an SBOM event: the same document for the same image is one event,
/// whichever way it arrived.
pub fn key(image: &str, document_digest: &str) -> String {
    format!("sbom:{image}:{document_digest}")
}

/// `sha256:<hex>` of a document's bytes.
pub fn document_digest(body: &[u8]) -> String {
    format!("sha256:{}", sha256_hex(&[body]))
}

/// Parses a document into the event that attaches it to its image.
pub fn attach(body: &[u8], image: Option<&str>, via: &str) -> Result<SbomAttached, FieldError> {
    attach_until(body, image, via, &AtomicBool::new(false)).map_err(|e| match e {
        ParseError::Invalid(f) => f,
        ParseError::Stopped => FieldError::new("body", e.to_string()),
    })
}

/// [`attach`], giving up soon after `stop` is set (see [`sbom::parse_until`]).
pub fn attach_until(
    body: &[u8],
    image: Option<&str>,
    via: &str,
    stop: &AtomicBool,
) -> Result<SbomAttached, ParseError> {
    if let Some(d) = image {
        if !valid_digest(d) {
            return Err(FieldError::new(
                "image",
                format!("{d:?} is not a digest (sha256:<64 hex>)"),
            )
            .into());
        }
    }
    let mut doc = sbom::parse_until(body, stop)?;
    let image = match (image, doc.subject.as_deref()) {
        (Some(q), Some(s)) if q != s => {
            let q = q.to_string();
            let s = s.to_string();
            doc.warn(|| {
                format!("the document names image {s}, but it was attached to {q} as asked")
            });
            q
        }
        (Some(q), _) => q.to_string(),
        (None, Some(s)) => s.to_string(),
        (None, None) => {
            return Err(FieldError::new(
                "image",
                "say which image this SBOM describes: ?image=sha256:<hex> (or `--image` on \
                 the command line); the document's metadata names none",
            )
            .into())
        }
    };
    Ok(SbomAttached {
        image,
        document_digest: document_digest(body),
        via: via.to_string(),
        sbom: doc,
    })
}

/// What an accepted upload is, for the sender's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    pub key: String,
    pub image: String,
    pub packages: usize,
    /// The first [`sbom::MAX_WARNINGS`] warnings.
    pub warnings: Vec<String>,
    /// Every warning, kept or not.
    pub warnings_total: u64,
    /// Those past the first [`sbom::MAX_WARNINGS`], counted only.
    pub warnings_omitted: u64,
}

/// The inbox item for an uploaded document, and its receipt; gives up soon after `stop` is
/// set.
pub fn parse(
    body: &[u8],
    image: Option<&str>,
    received_at: DateTime<Utc>,
    actor: &str,
    stop: &AtomicBool,
) -> Result<(InboxBody, Receipt), ParseError> {
    let e = attach_until(body, image, UPLOAD, stop)?;
    let receipt = Receipt {
        key: key(&e.image, &e.document_digest),
        image: e.image.clone(),
        packages: e.sbom.packages.len(),
        warnings: e.sbom.warnings.clone(),
        warnings_total: e.sbom.warnings_total(),
        warnings_omitted: e.sbom.warnings_omitted,
    };
    Ok((
        InboxBody::Record(Record {
            key: receipt.key.clone(),
            occurred_at: received_at,
            source: "sbom".to_string(),
            actor: actor.to_string(),
            event: Event::SbomAttached(e),
        }),
        receipt,
    ))
}
