//! Refusing JSON bodies that repeat a key in one object. serde_json keeps the last value of a
//! repeated key, so `{"cluster":"c","cluster":"d"}` would silently be recorded under `d`, and
//! two readers of the same body (a proxy, a signature check, us) could disagree on what it
//! says. Every hook body is checked here before it is parsed.
//!
//! The check walks the body once with serde_json's deserializer and builds no `Value` tree:
//! keys are borrowed from the body when they have no escapes, and the path to the duplicate is
//! only assembled, on the way out, when one is found. Syntax errors are not reported here: the
//! parser that runs next names them in its own words.

use crate::item::FieldError;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;

/// `Err` naming the first repeated key and its path (`events[0].target.digest`), prefixed by
/// `at` when the body sits inside another field (an SNS message, a base64 payload).
pub(crate) fn reject_duplicate_keys(body: &[u8], at: &str) -> Result<(), FieldError> {
    let trail = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(body);
    let walk = Walk { trail: &trail };
    if walk.deserialize(&mut de).is_ok() {
        return Ok(());
    }
    match trail.into_inner() {
        Some(segments) => {
            // Innermost first: the repeated key itself, then its parents.
            let key = match segments.first() {
                Some(Seg::Key(k)) => k.clone(),
                _ => String::new(),
            };
            let mut path = at.to_string();
            for seg in segments.into_iter().rev() {
                match seg {
                    Seg::Key(k) if path.is_empty() => path = k,
                    Seg::Key(k) => {
                        path.push('.');
                        path.push_str(&k);
                    }
                    Seg::Index(i) => path.push_str(&format!("[{i}]")),
                }
            }
            Err(FieldError::new(
                path,
                format!("duplicate key {key:?}: each key may appear once per object"),
            ))
        }
        // Not JSON: the parser reports it.
        None => Ok(()),
    }
}

/// A step of the path to the duplicate, collected innermost first.
enum Seg {
    Key(String),
    Index(usize),
}

/// `None` until a duplicate is found; then the path to it, innermost first.
type Trail = RefCell<Option<Vec<Seg>>>;

fn push(trail: &Trail, seg: Seg) {
    if let Some(t) = trail.borrow_mut().as_mut() {
        t.push(seg);
    }
}

/// Objects with more keys than this switch from a linear scan to a hash set.
const FEW_KEYS: usize = 16;

#[derive(Clone, Copy)]
struct Walk<'t> {
    trail: &'t Trail,
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        loop {
            match seq.next_element_seed(self) {
                Ok(Some(())) => i += 1,
                Ok(None) => return Ok(()),
                Err(e) => {
                    push(self.trail, Seg::Index(i));
                    return Err(e);
                }
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut few: Vec<Cow<'de, str>> = Vec::new();
        let mut many: HashSet<Cow<'de, str>> = HashSet::new();
        while let Some(key) = map.next_key_seed(Key)? {
            let seen = if many.is_empty() {
                few.contains(&key)
            } else {
                many.contains(&key)
            };
            if seen {
                *self.trail.borrow_mut() = Some(vec![Seg::Key(key.into_owned())]);
                return Err(de::Error::custom("duplicate key"));
            }
            if let Err(e) = map.next_value_seed(self) {
                push(self.trail, Seg::Key(key.into_owned()));
                return Err(e);
            }
            if many.is_empty() && few.len() < FEW_KEYS {
                few.push(key);
            } else {
                many.extend(few.drain(..));
                many.insert(key);
            }
        }
        Ok(())
    }
}

/// A key, borrowed from the body unless it had escapes.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(s))
    }

    fn visit_str<E>(self, s: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(body: &str) -> Result<(), FieldError> {
        reject_duplicate_keys(body.as_bytes(), "")
    }

    #[test]
    fn a_repeated_top_level_key_is_named() {
        let e = check(r#"{"cluster":"c","cluster":"d"}"#).unwrap_err();
        assert_eq!(e.field, "cluster");
        assert!(e.reason.contains("duplicate key \"cluster\""), "{e}");
    }

    #[test]
    fn the_path_to_a_nested_duplicate_is_named() {
        let body = r#"{"events":[{"target":{"digest":"a"}},
            {"target":{"repository":"r","digest":"sha256:1","digest":"sha256:2"}}]}"#;
        let e = check(body).unwrap_err();
        assert_eq!(e.field, "events[1].target.digest");
        let e = reject_duplicate_keys(br#"[{"a":1},{"a":{"b":[0,{"c":1,"c":2}]}}]"#, "Message")
            .unwrap_err();
        assert_eq!(e.field, "Message[1].a.b[1].c");
    }

    #[test]
    fn escaped_spellings_of_one_key_are_the_same_key() {
        let e = check(r#"{"ab":1,"a\u0062":2}"#).unwrap_err();
        assert_eq!(e.field, "ab");
    }

    #[test]
    fn a_duplicate_among_many_keys_is_found() {
        let mut body = String::from("{");
        for i in 0..100 {
            body.push_str(&format!("\"k{i}\":{i},"));
        }
        body.push_str("\"k57\":0}");
        assert_eq!(check(&body).unwrap_err().field, "k57");
    }

    #[test]
    fn the_same_key_in_sibling_objects_is_fine() {
        check(r#"{"a":{"x":1},"b":{"x":2},"c":[{"x":1},{"x":1}],"x":null}"#).unwrap();
        check(r#"[1, 2.5, -3, true, false, null, "s", [], {}]"#).unwrap();
    }

    #[test]
    fn invalid_json_is_left_to_the_parser() {
        check("{not json").unwrap();
        check("").unwrap();
    }

    /// One pass, no tree: a 32 MiB SBOM-sized body is checked in one go (no timing assertion:
    /// a slow walk shows up in the test run's time, not as a flake).
    #[test]
    fn a_large_body_is_checked_in_one_pass() {
        let component = r#"{"type":"library","name":"left-pad","version":"1.3.0","purl":"pkg:npm/left-pad@1.3.0","hashes":[{"alg":"SHA-256","content":"0123456789abcdef"}]},"#;
        let n = (32 << 20) / component.len() + 1;
        let mut body = String::with_capacity(n * component.len() + 64);
        body.push_str(r#"{"bomFormat":"CycloneDX","components":["#);
        for _ in 0..n {
            body.push_str(component);
        }
        body.push_str(r#"{"name":"last","name":"again"}]}"#);
        assert!(body.len() >= 32 << 20);
        let e = check(&body).unwrap_err();
        assert_eq!(e.field, format!("components[{n}].name"));
    }
}
