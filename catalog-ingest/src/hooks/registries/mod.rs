//! Push notifications of registries other than CNCF Distribution, one file per sender.
//!
//! Each file maps its sender's payload to [`Notice`]s: where the host, repository, tag, digest,
//! action, time, event id and actor are in that payload, and nothing else. [`finish`] then
//! checks every notice the same way for every sender and turns it into the items the
//! distribution hook makes: a `Push` (the sender named a digest), a `TagPush` (only a tag: the
//! worker resolves it through the registry) or a `Delete`. The inbox, the worker, enrichment
//! and the graph are therefore one path for every registry.
//!
//! Parsers are pure: no I/O and no clock (the receive time comes in [`Request`]). How a
//! request is authenticated (a bearer token, or the sender's own signature) is the API's
//! business; the signature checks themselves are here, next to the formats they belong to.

pub mod acr;
pub mod artifactory;
pub mod dockerhub;
pub mod ecr;
pub mod gar;
pub mod ghcr;
pub mod harbor;
pub mod nexus;
pub mod quay;
pub mod zot;

#[cfg(test)]
mod testing;

use crate::item::TagPush;
use crate::item::{valid_digest, valid_repository, valid_tag, Delete, FieldError, InboxBody, Push};
use catalog_core::identity::canonical_registry;
use chrono::{DateTime, TimeZone, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

pub use super::Parsed;

/// What a registry hook's parser is given besides the body.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The request's headers, names in lower case.
    pub headers: &'a BTreeMap<String, String>,
    /// The media type's essence, lower case (`application/json`).
    pub content_type: &'a str,
    pub received_at: DateTime<Utc>,
    /// `?registry=HOST`: the configured registry the notifications come from. It wins over
    /// what a payload says, and is needed where a payload names no host (Docker Hub, Nexus).
    pub registry: Option<&'a str>,
}

impl Request<'_> {
    /// A header's value (`name` in lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

/// What a request to a registry hook comes to.
#[derive(Debug)]
pub enum Outcome {
    /// Items to store (possibly none: every event was one the catalog ignores).
    Items(Parsed),
    /// A sender's liveness check (GitHub's `ping`): answered 200, nothing stored.
    Ping,
    /// An SNS subscription handshake: the API confirms it (for a configured topic only) by
    /// calling the topic's own region endpoint, never a URL from the payload.
    SnsConfirm { topic_arn: String, token: String },
}

impl Outcome {
    /// Nothing to store: `n` events the catalog does not care about (counted, never an error).
    pub fn ignored(n: usize) -> Outcome {
        Outcome::Items(Parsed {
            items: Vec::new(),
            ignored: n,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Push,
    Delete,
}

/// One sender's event, with its fields as the sender gave them ([`finish`] checks them).
#[derive(Debug, Clone)]
pub struct Notice {
    /// Where in the body this event is (`event_data.resources[0]`), for error messages.
    pub at: String,
    pub action: Action,
    /// The idempotency key: `<sender>:<event id>`, or [`derived_key`] where there is no id.
    pub key: String,
    /// The registry host the payload names, if any (`?registry=` wins).
    pub registry: Option<String>,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
    pub media_type: Option<String>,
    pub size: Option<i64>,
    pub occurred_at: DateTime<Utc>,
    pub actor: String,
}

/// A key for a sender that gives its events no id: a hash of what identifies the event. Two
/// identical events (same action, image and time) are then one, as they should be.
pub fn derived_key(source: &str, parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    format!("{source}:{}", &hex::encode(h.finalize())[..32])
}

/// Checks notices and makes them items. A push with a digest and a tag is a `Push`; with a
/// tag only, a `TagPush`; with a digest only (a per-platform child of an index, a replication
/// by digest) it is ignored, as the distribution hook does: the tagged push covers it, and
/// reconcile finds tags created later. A delete names a digest (which wins) or a tag.
pub fn finish(
    source: &str,
    req: &Request,
    notices: Vec<Notice>,
    mut ignored: usize,
) -> Result<Parsed, FieldError> {
    let mut items = Vec::with_capacity(notices.len());
    for n in notices {
        let field = |f: &str| {
            if n.at.is_empty() {
                f.to_string()
            } else {
                format!("{}.{f}", n.at)
            }
        };
        let registry = req
            .registry
            .map(str::to_string)
            .or(n.registry.clone())
            .filter(|h| !h.is_empty())
            .ok_or_else(|| {
                FieldError::new(
                    field("registry"),
                    "this payload names no registry host: add ?registry=HOST to the hook's URL",
                )
            })?;
        let registry = canonical_registry(&registry)
            .map_err(|e| FieldError::new(field("registry"), e.to_string()))?;
        check_repository(&field("repository"), &n.repository)?;
        let digest = n.digest.filter(|d| !d.is_empty());
        if let Some(d) = &digest {
            check_digest(&field("digest"), d)?;
        }
        // Some senders put the digest in the tag field for a push by digest (Harbor).
        let tag = n
            .tag
            .filter(|t| !t.is_empty() && !t.starts_with("sha256:") && !t.starts_with("sha512:"));
        if let Some(t) = &tag {
            check_tag(&field("tag"), t)?;
        }
        let item = match (n.action, digest, tag) {
            (Action::Push, Some(digest), Some(tag)) => InboxBody::Push(Push {
                key: n.key,
                registry,
                repository: n.repository,
                digest,
                tag: Some(tag),
                media_type: n.media_type,
                size: n.size,
                occurred_at: n.occurred_at,
                source: source.to_string(),
                actor: n.actor,
                tag_resolved: false,
                idless: false,
            }),
            (Action::Push, None, Some(tag)) => InboxBody::TagPush(TagPush {
                key: n.key,
                registry,
                repository: n.repository,
                tag,
                occurred_at: n.occurred_at,
                source: source.to_string(),
                actor: n.actor,
                idless: false,
            }),
            (Action::Push, Some(_), None) => {
                ignored += 1;
                continue;
            }
            (_, None, None) => {
                return Err(FieldError::new(
                    field("digest"),
                    "missing: the event names neither a digest nor a tag",
                ))
            }
            (Action::Delete, digest, tag) => InboxBody::Delete(Delete {
                key: n.key,
                registry,
                repository: n.repository,
                tag: if digest.is_some() { None } else { tag },
                digest,
                occurred_at: n.occurred_at,
                source: source.to_string(),
                actor: n.actor,
                idless: false,
            }),
        };
        items.push(item);
    }
    Ok(Parsed { items, ignored })
}

/// [`finish`] for a sender that gives its events no id (Quay, Artifactory): its items are
/// marked so the worker records each only where it changes the repository. A key derived from
/// the event alone would otherwise swallow a tag moved back to a digest it named before, and
/// one with the receipt time would record every resend again.
pub fn finish_idless(
    source: &str,
    req: &Request,
    notices: Vec<Notice>,
    ignored: usize,
) -> Result<Parsed, FieldError> {
    let mut parsed = finish(source, req, notices, ignored)?;
    for item in &mut parsed.items {
        match item {
            InboxBody::Push(p) => p.idless = true,
            InboxBody::TagPush(t) => t.idless = true,
            InboxBody::Delete(d) => d.idless = true,
            InboxBody::Record(_) => {}
        }
    }
    Ok(parsed)
}

/// One event the catalog does not care about (a pull, a scan, an unknown action): counted,
/// nothing stored.
pub fn ignored_one() -> Parsed {
    Parsed {
        items: Vec::new(),
        ignored: 1,
    }
}

/// `e` with the sender's own name for a field that [`finish`] reports by its generic name
/// (`detail.digest` becomes `detail.image-digest`), so that a 400 names what is in the payload.
/// An empty name drops the last segment (`updated_tags[0].tag` becomes `updated_tags[0]`).
pub fn renamed(mut e: FieldError, names: &[(&str, &str)]) -> FieldError {
    let (head, last) = match e.field.rsplit_once('.') {
        Some((h, l)) => (h, l),
        None => ("", e.field.as_str()),
    };
    if let Some((_, to)) = names.iter().find(|(from, _)| *from == last) {
        e.field = match (head, *to) {
            ("", to) => to.to_string(),
            (head, "") => head.to_string(),
            (head, to) => format!("{head}.{to}"),
        };
    }
    e
}

/// [`finish`]'s checks, for a parser whose field is not `<at>.repository` (`data.repo_key`).
pub fn check_repository(field: &str, r: &str) -> Result<(), FieldError> {
    if valid_repository(r) {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            format!("{r:?} is not a repository name"),
        ))
    }
}

/// [`finish`]'s digest check, for a parser whose field is not `<at>.digest` (`data.sha256`).
pub fn check_digest(field: &str, d: &str) -> Result<(), FieldError> {
    if valid_digest(d) {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            format!("{d:?} is not a sha256/sha512 digest"),
        ))
    }
}

/// [`finish`]'s tag check, for a parser whose field is not `<at>.tag` (`component.version`).
pub fn check_tag(field: &str, t: &str) -> Result<(), FieldError> {
    if valid_tag(t) {
        Ok(())
    } else {
        Err(FieldError::new(field, format!("{t:?} is not a valid tag")))
    }
}

/// `host[:port]`: a DNS name, IPv4 address or `[IPv6]` address and an optional port, as
/// distribution/reference's domain grammar says ([`catalog_core::reference::valid_domain`]).
pub fn valid_host(h: &str) -> bool {
    catalog_core::reference::valid_domain(h)
}

/// The host of `host[:port]/path...` or `scheme://host[:port]/path...`.
pub fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// Unix seconds as a time, or an error naming the field.
pub fn unix_seconds(field: &str, secs: i64) -> Result<DateTime<Utc>, FieldError> {
    Utc.timestamp_opt(secs, 0)
        .single()
        .ok_or_else(|| FieldError::new(field, format!("{secs} is not a time (Unix seconds)")))
}

/// An RFC 3339 time, or an error naming the field.
pub fn rfc3339(field: &str, s: &str) -> Result<DateTime<Utc>, FieldError> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| FieldError::new(field, format!("{s:?} is not RFC 3339: {e}")))
}

/// Parses JSON, naming the body in the error.
pub fn json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, FieldError> {
    super::duplicate_keys::reject_duplicate_keys(body, "")?;
    serde_json::from_slice(body).map_err(|e| FieldError::new("body", format!("invalid JSON: {e}")))
}

/// Whether `signature` (lower- or upper-case hex) is HMAC-SHA256(secret, body). Constant time.
pub fn hmac_sha256_matches(secret: &[u8], body: &[u8], signature_hex: &str) -> bool {
    let Ok(sig) = hex::decode(signature_hex.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    !secret.is_empty() && mac.verify_slice(&sig).is_ok()
}

/// Whether `signature` (hex) is HMAC-SHA1(secret, body). Constant time.
pub fn hmac_sha1_matches(secret: &[u8], body: &[u8], signature_hex: &str) -> bool {
    let Ok(sig) = hex::decode(signature_hex.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    !secret.is_empty() && mac.verify_slice(&sig).is_ok()
}

/// Whether a presented secret equals the configured one, in time independent of where they
/// differ (their SHA-256 hashes are compared).
pub fn secret_matches(configured: &[u8], presented: &[u8]) -> bool {
    !configured.is_empty() && Sha256::digest(configured) == Sha256::digest(presented)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_documented_test_vector() {
        // docs.github.com, "Validating webhook deliveries".
        let secret = b"It's a Secret to Everybody";
        let sig = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert!(hmac_sha256_matches(secret, b"Hello, World!", sig));
        assert!(!hmac_sha256_matches(secret, b"Hello, World?", sig));
        assert!(!hmac_sha256_matches(b"", b"Hello, World!", sig));
        assert!(!hmac_sha256_matches(secret, b"Hello, World!", "zz"));
    }

    #[test]
    fn renamed_fields() {
        let e = |f: &str| FieldError::new(f, "r");
        let names = [("digest", "image-digest"), ("tag", "")];
        assert_eq!(
            renamed(e("detail.digest"), &names).field,
            "detail.image-digest"
        );
        assert_eq!(renamed(e("digest"), &names).field, "image-digest");
        assert_eq!(
            renamed(e("updated_tags[1].tag"), &names).field,
            "updated_tags[1]"
        );
        assert_eq!(
            renamed(e("detail.repository"), &names).field,
            "detail.repository"
        );
    }

    #[test]
    fn hosts() {
        for ok in [
            "ghcr.io",
            "127.0.0.1:5000",
            "my-registry.azurecr.io",
            "localhost",
            "[::1]:5000",
            "Reg.Example",
        ] {
            assert!(valid_host(ok), "{ok}");
        }
        for bad in [
            "",
            "foo..bar",
            "-a.io",
            "a.io:",
            "a.io:http",
            "[::1",
            "a b",
            "a.io/x",
        ] {
            assert!(!valid_host(bad), "{bad}");
        }
        assert_eq!(
            host_of("https://Reg.example:5000/v2/x").as_deref(),
            Some("reg.example:5000")
        );
        assert_eq!(
            host_of("localhost/harbor/alpine@sha256:1").as_deref(),
            Some("localhost")
        );
    }
}
