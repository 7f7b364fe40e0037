//! Webhook payload formats, one file per sender. Each parses and validates synchronously and
//! returns inbox items or a [`crate::item::FieldError`] naming the field. Parsers are pure:
//! no I/O, no clock (the receive time comes in through [`HookContext`]).
//!
//! Deployment hooks (`deployments`, `argocd`, `flux`, `kubernetes`) share [`HookContext`]: the
//! hook's query parameters and who sent it. `?cluster=` overrides what a payload says (the URL
//! a sender is configured with is the operator's word); `?environment=` and `?at=` only fill in
//! what the payload leaves out.

pub mod argocd;
pub mod backstage;
pub mod config;
pub mod deployments;
pub mod distribution;
pub(crate) mod duplicate_keys;
pub mod flux;
pub(crate) mod json;
pub mod kubernetes;
pub mod osv;
pub mod registries;
pub mod sbom;
pub mod vex;

use crate::item::{FieldError, InboxBody, Record};
use catalog_core::deployment::ImageRef;
use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};

/// What one request yields: the items to store and how many events were ignored.
#[derive(Debug, Default)]
pub struct Parsed {
    pub items: Vec<InboxBody>,
    pub ignored: usize,
}

/// Who sent a deployment hook request, when, and its query parameters.
#[derive(Debug, Clone, Copy)]
pub struct HookContext<'a> {
    /// When the request arrived: the event time when neither the payload nor `?at=` gives one.
    pub received_at: DateTime<Utc>,
    /// The authenticated token's name (or `flux-hmac` when the HMAC authenticated it).
    pub actor: &'a str,
    /// `?cluster=`: overrides the payload's cluster.
    pub cluster: Option<&'a str>,
    /// `?environment=`: used when the payload names none.
    pub environment: Option<&'a str>,
    /// `?at=` (RFC 3339): used when the payload has no time of its own.
    pub at: Option<DateTime<Utc>>,
}

impl<'a> HookContext<'a> {
    /// A context with no query parameters.
    pub fn new(received_at: DateTime<Utc>, actor: &'a str) -> HookContext<'a> {
        HookContext {
            received_at,
            actor,
            cluster: None,
            environment: None,
            at: None,
        }
    }

    /// `?cluster=`, checked.
    fn cluster(&self) -> Result<Option<&'a str>, FieldError> {
        query_name("cluster", self.cluster)
    }

    /// `?environment=`, checked.
    fn environment(&self) -> Result<Option<&'a str>, FieldError> {
        query_name("environment", self.environment)
    }

    /// The event time when the payload has none: `?at=`, else the receive time.
    fn default_time(&self) -> DateTime<Utc> {
        self.at.unwrap_or(self.received_at)
    }

    fn record(
        &self,
        key: String,
        occurred_at: DateTime<Utc>,
        source: &str,
        event: catalog_core::Event,
    ) -> InboxBody {
        InboxBody::Record(Record {
            key,
            occurred_at,
            source: source.to_string(),
            actor: self.actor.to_string(),
            event,
        })
    }
}

fn query_name<'a>(param: &str, v: Option<&'a str>) -> Result<Option<&'a str>, FieldError> {
    match v {
        Some(s) if !valid_name(s) => Err(FieldError::new(
            param,
            format!("?{param}={s:?} is not a valid name (1-253 characters, no whitespace)"),
        )),
        v => Ok(v),
    }
}

/// A cluster, namespace, workload or environment name: non-empty, at most 253 characters (a
/// Kubernetes DNS subdomain), no whitespace or control characters.
pub fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars().count() <= 253
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Lowercase hex SHA-256, for keys built from content.
fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    hex::encode(h.finalize())
}

/// A time as it appears in keys: RFC 3339 in UTC, so `+00:00` and `Z` spellings agree.
fn key_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn parse_image(s: &str, field: String) -> Result<ImageRef, FieldError> {
    ImageRef::parse(s).map_err(|e| FieldError::new(field, e))
}

/// An optional `url` field: a link back to the deploy tool, http(s) only (it is shown as a link).
fn url<'a>(o: &json::Obj<'a>) -> Result<Option<&'a str>, FieldError> {
    match o.str("url")? {
        Some(u)
            if !(u.starts_with("https://") || u.starts_with("http://"))
                || u.len() > 2048
                || u.chars().any(|c| c.is_whitespace() || c.is_control()) =>
        {
            Err(FieldError::new(
                o.field("url"),
                format!("{u:?} is not an http(s) URL"),
            ))
        }
        u => Ok(u),
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Helpers the hook tests share.

    use super::HookContext;
    use crate::item::{InboxBody, Record};
    use catalog_core::deployment::{DeploymentObserved, ImageRef, Run};
    use catalog_core::Event;
    use chrono::{DateTime, Utc};

    pub(crate) const RECEIVED: &str = "2026-11-21T08:00:00Z";

    pub(crate) fn time(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    /// No query parameters, received at [`RECEIVED`] from the token `ci-token`.
    pub(crate) fn ctx() -> HookContext<'static> {
        HookContext::new(time(RECEIVED), "ci-token")
    }

    pub(crate) fn record(item: &InboxBody) -> &Record {
        match item {
            InboxBody::Record(r) => r,
            other => panic!("not a record: {other:?}"),
        }
    }

    pub(crate) fn observed(item: &InboxBody) -> &DeploymentObserved {
        match &record(item).event {
            Event::DeploymentObserved(o) => o,
            other => panic!("not a deployment.observed: {other:?}"),
        }
    }

    pub(crate) fn image(s: &str) -> ImageRef {
        ImageRef::parse(s).unwrap()
    }

    pub(crate) fn image_run(container: Option<&str>, reference: &str) -> Run {
        Run {
            container: container.map(str::to_string),
            image: Some(image(reference)),
            component: None,
            version: None,
            traffic: None,
            track: None,
        }
    }

    pub(crate) fn component_run(component: &str, version: Option<&str>) -> Run {
        Run {
            container: None,
            image: None,
            component: Some(component.to_string()),
            version: version.map(str::to_string),
            traffic: None,
            track: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(valid_name("prod-eu-1"));
        assert!(valid_name("shop/cart"));
        assert!(valid_name(&"a".repeat(253)));
        assert!(!valid_name(&"a".repeat(254)));
        assert!(!valid_name(""));
        assert!(!valid_name("prod eu"));
        assert!(!valid_name("prod\teu"));
        assert!(!valid_name("prod\u{7}"));
    }

    #[test]
    fn query_parameters_are_checked() {
        let mut ctx = testing::ctx();
        ctx.cluster = Some("prod eu");
        assert_eq!(ctx.cluster().unwrap_err().field, "cluster");
        ctx.environment = Some("");
        assert_eq!(ctx.environment().unwrap_err().field, "environment");
    }

    #[test]
    fn key_times_are_utc() {
        let t = DateTime::parse_from_rfc3339("2026-11-20T11:00:00+01:00")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(key_time(t), "2026-11-20T10:00:00Z");
    }
}
