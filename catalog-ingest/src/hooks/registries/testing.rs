//! What the parsers' unit tests share: the fixtures (`tests/fixtures/registries/`), a
//! request with given headers, and the items of an outcome.

use super::{Outcome, Request};
use crate::item::InboxBody;
use chrono::{DateTime, TimeZone, Utc};
use std::collections::BTreeMap;

pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../tests/fixtures/registries/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn fixture_text(name: &str) -> String {
    String::from_utf8(fixture(name)).unwrap()
}

/// Header names as the API hands them over: lower case.
pub fn headers(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
        .collect()
}

pub fn received_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 6, 9, 30, 0).unwrap()
}

pub fn request<'a>(
    headers: &'a BTreeMap<String, String>,
    content_type: &'a str,
    registry: Option<&'a str>,
) -> Request<'a> {
    Request {
        headers,
        content_type,
        received_at: received_at(),
        registry,
    }
}

/// The items and the ignored count, or a panic when the outcome is something else.
pub fn items(o: Outcome) -> (Vec<InboxBody>, usize) {
    match o {
        Outcome::Items(p) => (p.items, p.ignored),
        other => panic!("not items: {other:?}"),
    }
}

/// [`items`], by the name some parsers' tests use.
pub fn parsed(o: Outcome) -> (Vec<InboxBody>, usize) {
    items(o)
}
