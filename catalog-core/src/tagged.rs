//! Internally tagged enums (`{"kind": "...", ...fields}`) read without buffering.
//!
//! serde's derived reader for an internally tagged enum buffers the whole object into a
//! generic tree first (the tag may come last), then reads the variant from the tree: for a
//! 500-package SBOM event, that doubles the cost of reading it, on every inbox item and every
//! replayed event. Everything this catalog writes puts the tag first (serde writes it first),
//! so [`deserialize_tagged`] reads the tag and hands the rest of the object straight to the
//! variant's own reader; an object whose tag comes later is still read, through a
//! `serde_json::Value`.

use serde::de::{self, Deserializer, MapAccess, Visitor};
use std::borrow::Cow;
use std::marker::PhantomData;

/// An enum read by [`deserialize_tagged`].
pub trait TaggedEnum: Sized {
    /// The tag's field name, e.g. `kind`.
    const TAG: &'static str;
    /// Every tag value, for error messages.
    const VARIANTS: &'static [&'static str];
    /// Reads the variant named `tag` from `fields` (the object without its tag).
    fn variant<'de, D: Deserializer<'de>>(tag: &str, fields: D) -> Result<Self, D::Error>;
}

/// The body of a `Deserialize` impl for a [`TaggedEnum`].
pub fn deserialize_tagged<'de, D: Deserializer<'de>, T: TaggedEnum>(d: D) -> Result<T, D::Error> {
    d.deserialize_map(TaggedVisitor::<T>(PhantomData))
}

struct TaggedVisitor<T>(PhantomData<T>);

impl<'de, T: TaggedEnum> Visitor<'de> for TaggedVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "an object with a {:?} field", T::TAG)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let Some(first) = map.next_key::<Cow<'de, str>>()? else {
            return Err(de::Error::missing_field(T::TAG));
        };
        if first == T::TAG {
            let tag: Cow<'de, str> = map.next_value()?;
            return T::variant(&tag, de::value::MapAccessDeserializer::new(map));
        }
        // The tag somewhere later: gather the object, then read it.
        let mut obj = serde_json::Map::new();
        obj.insert(first.into_owned(), map.next_value()?);
        while let Some((k, v)) = map.next_entry::<String, serde_json::Value>()? {
            obj.insert(k, v);
        }
        let tag = match obj.remove(T::TAG) {
            Some(serde_json::Value::String(t)) => t,
            Some(_) => return Err(de::Error::custom(format!("{}: not a string", T::TAG))),
            None => return Err(de::Error::missing_field(T::TAG)),
        };
        T::variant(&tag, serde_json::Value::Object(obj)).map_err(de::Error::custom)
    }
}
