//! A YAML stream read into small value trees, one document at a time, within bounds.
//!
//! The parser is granit-parser (pure Rust, no `unsafe`, fuzzed for panics), pulled one event
//! at a time, so a limit stops the work where it is: collections nested deeper than
//! [`MAX_NESTING`] (serde_yaml and its forks, on libyaml, load a whole document before their
//! depth limit applies, and libyaml takes time quadratic in flow nesting: 256 KiB of `{a: `
//! took 29 s in release), more than [`MAX_DOCUMENTS`] documents, and
//! aliases expanding the stream past [`MAX_VALUES`] values or [`MAX_SCALAR_BYTES`] bytes of text
//! (an alias is charged the full size of what it repeats, before it is copied).
//!
//! Scalars follow YAML 1.2's core schema, as Backstage's own parser does: plain `123` is a
//! number, `true` a boolean, `~`, `null` and nothing are null, a quoted scalar is a string.
//! Merge keys (`<<: *defaults`) are applied, explicit keys winning. Duplicate keys and keys
//! that are not scalars are errors.

use super::{DescriptorError, Document, MAX_DOCUMENTS, MAX_NESTING, MAX_SCALAR_BYTES, MAX_VALUES};
use granit_parser::{ErrorKind, Event, Marker, Parser, ScalarStyle, ScanError, StrInput, Tag};
use std::collections::{BTreeMap, HashMap};

/// A mapping's entries by key (keys are scalars, kept as written).
pub(super) type Mapping = BTreeMap<String, Node>;

/// A YAML value, as far as descriptors need one.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Node {
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Mapping),
    /// A value with a tag outside the core schema (`!Ref x`), which nothing here reads; the
    /// tag as written.
    Tagged(String),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Scalar {
    pub text: String,
    pub kind: ScalarKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ScalarKind {
    Str,
    Null,
    Bool,
    Number,
}

impl Node {
    fn null() -> Node {
        Node::Scalar(Scalar {
            text: String::new(),
            kind: ScalarKind::Null,
        })
    }

    pub(super) fn is_null(&self) -> bool {
        matches!(self, Node::Scalar(s) if s.kind == ScalarKind::Null)
    }

    /// The text of a string (not of a number, boolean or null).
    pub(super) fn as_str(&self) -> Option<&str> {
        match self {
            Node::Scalar(s) if s.kind == ScalarKind::Str => Some(&s.text),
            _ => None,
        }
    }

    pub(super) fn as_map(&self) -> Option<&Mapping> {
        match self {
            Node::Map(m) => Some(m),
            _ => None,
        }
    }

    /// What it is, for messages: `a string`, `a list`, `a value tagged !Ref`.
    pub(super) fn describe(&self) -> String {
        match self {
            Node::Scalar(s) => match s.kind {
                ScalarKind::Str => "a string",
                ScalarKind::Null => "null",
                ScalarKind::Bool => "a boolean",
                ScalarKind::Number => "a number",
            }
            .to_string(),
            Node::Seq(_) => "a list".to_string(),
            Node::Map(_) => "a mapping".to_string(),
            Node::Tagged(tag) => format!("a value tagged {tag}"),
        }
    }
}

/// The documents of one stream, read on demand.
pub(super) struct Stream<'a> {
    parser: Parser<'a, StrInput<'a>>,
    /// Documents begun so far.
    index: usize,
    /// The stream's budget spent so far: values, and bytes of scalar text.
    values: usize,
    bytes: usize,
}

/// A key read, waiting for its value.
enum Key {
    Name(String, Marker),
    /// `<<`: the value is merged.
    Merge(Marker),
}

enum Open {
    Seq(Vec<Node>),
    Map {
        entries: Mapping,
        key: Option<Key>,
        merges: Vec<(Node, Marker)>,
    },
}

/// A collection being read.
struct Frame {
    open: Open,
    anchor: usize,
    /// A tag outside the core schema makes the collection a [`Node::Tagged`].
    tag: Option<String>,
    at: Marker,
    /// The budget spent when it began: its expanded size is what was spent since.
    spent: (usize, usize),
}

impl<'a> Stream<'a> {
    pub(super) fn new(text: &'a str) -> Stream<'a> {
        let mut options = granit_parser::options! {
            flow_nesting_limit: MAX_NESTING,
            block_nesting_limit: MAX_NESTING,
        };
        // Comments are still checked, just not collected.
        options.set_emit_comments(false);
        Stream {
            parser: Parser::new_from_str_with_options(text, options),
            index: 0,
            values: 0,
            bytes: 0,
        }
    }

    /// The next document and its 1-based index (empty documents included), or `None` at the
    /// end of the stream.
    pub(super) fn next_document(&mut self) -> Result<Option<(usize, Node)>, DescriptorError> {
        loop {
            // Between documents, an error belongs to the one that would come next.
            let Some((event, _)) = self.event(self.index + 1)? else {
                return Ok(None);
            };
            match event {
                Event::DocumentStart(..) => {
                    self.index += 1;
                    if self.index > MAX_DOCUMENTS {
                        return Err(DescriptorError::TooManyDocuments {
                            limit: MAX_DOCUMENTS,
                        });
                    }
                    let node = self.read_document()?;
                    return Ok(Some((self.index, node)));
                }
                Event::StreamEnd => return Ok(None),
                _ => {}
            }
        }
    }

    fn event(&mut self, index: usize) -> Result<Option<(Event<'a>, Marker)>, DescriptorError> {
        match self.parser.next_event() {
            None => Ok(None),
            Some(Ok((event, span))) => Ok(Some((event, span.start))),
            Some(Err(e)) => Err(scan_error(index, &e)),
        }
    }

    fn error(&self, message: impl Into<String>, at: &Marker) -> DescriptorError {
        yaml_error(self.index, message.into(), at)
    }

    fn spend(&mut self, values: usize, bytes: usize) -> Result<(), DescriptorError> {
        self.values = self.values.saturating_add(values);
        self.bytes = self.bytes.saturating_add(bytes);
        let exceeded = if self.values > MAX_VALUES {
            Some((MAX_VALUES, "values"))
        } else if self.bytes > MAX_SCALAR_BYTES {
            Some((MAX_SCALAR_BYTES, "bytes of text"))
        } else {
            None
        };
        match exceeded {
            Some((limit, what)) => Err(DescriptorError::TooLarge {
                document: Document {
                    index: self.index,
                    entity: None,
                },
                limit,
                what,
            }),
            None => Ok(()),
        }
    }

    /// Reads events up to the end of the current document.
    fn read_document(&mut self) -> Result<Node, DescriptorError> {
        // Anchored nodes of this document, with their expanded sizes.
        let mut anchors: HashMap<usize, (Node, usize, usize)> = HashMap::new();
        let mut stack: Vec<Frame> = Vec::new();
        let mut root: Option<Node> = None;
        loop {
            let Some((event, at)) = self.event(self.index)? else {
                return Err(self.error("unexpected end of the event stream", &Marker::default()));
            };
            let spent = (self.values, self.bytes);
            let (node, anchor, merge_key) = match event {
                Event::DocumentEnd => {
                    return Ok(root.unwrap_or_else(Node::null));
                }
                Event::Scalar(text, style, anchor, tag) => {
                    self.spend(1, text.len())?;
                    let merge_key = matches!(style, ScalarStyle::Plain) && text == "<<";
                    (resolve(&text, style, tag.as_deref()), anchor, merge_key)
                }
                Event::SequenceStart(_, anchor, tag) => {
                    self.spend(1, 0)?;
                    stack.push(Frame {
                        open: Open::Seq(Vec::new()),
                        anchor,
                        tag: tag.as_deref().and_then(foreign_tag),
                        at,
                        spent,
                    });
                    continue;
                }
                Event::MappingStart(_, anchor, tag) => {
                    self.spend(1, 0)?;
                    stack.push(Frame {
                        open: Open::Map {
                            entries: Mapping::new(),
                            key: None,
                            merges: Vec::new(),
                        },
                        anchor,
                        tag: tag.as_deref().and_then(foreign_tag),
                        at,
                        spent,
                    });
                    continue;
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let Some(frame) = stack.pop() else {
                        return Err(self.error("a collection ends that never began", &at));
                    };
                    let node = self.close(frame.open, frame.tag)?;
                    let size = (self.values - frame.spent.0, self.bytes - frame.spent.1);
                    if frame.anchor != 0 {
                        anchors.insert(frame.anchor, (node.clone(), size.0, size.1));
                    }
                    self.attach(&mut stack, &mut root, node, false, &frame.at)?;
                    continue;
                }
                Event::Alias(id) => {
                    let Some((node, values, bytes)) = anchors.get(&id) else {
                        return Err(self.error("unknown anchor", &at));
                    };
                    // Charged its expanded size before it is copied.
                    self.spend(*values, *bytes)?;
                    (node.clone(), 0, false)
                }
                Event::StreamStart | Event::StreamEnd | Event::DocumentStart(..) => {
                    return Err(self.error("unexpected event inside a document", &at));
                }
                // Comments, anchor names: presentation only.
                _ => continue,
            };
            if anchor != 0 {
                let size = (self.values - spent.0, self.bytes - spent.1);
                anchors.insert(anchor, (node.clone(), size.0, size.1));
            }
            self.attach(&mut stack, &mut root, node, merge_key, &at)?;
        }
    }

    /// Puts a finished node where it belongs: the root, a list's next item, a mapping's key
    /// or value.
    fn attach(
        &self,
        stack: &mut [Frame],
        root: &mut Option<Node>,
        node: Node,
        merge_key: bool,
        at: &Marker,
    ) -> Result<(), DescriptorError> {
        let Some(frame) = stack.last_mut() else {
            *root = Some(node);
            return Ok(());
        };
        match &mut frame.open {
            Open::Seq(items) => items.push(node),
            Open::Map {
                entries,
                key,
                merges,
            } => match key.take() {
                None if merge_key => *key = Some(Key::Merge(*at)),
                None => match node {
                    Node::Scalar(s) => *key = Some(Key::Name(s.text, *at)),
                    other => {
                        return Err(self.error(
                            format!("a mapping key must be a scalar, not {}", other.describe()),
                            at,
                        ))
                    }
                },
                Some(Key::Merge(key_at)) => merges.push((node, key_at)),
                Some(Key::Name(name, key_at)) => {
                    if entries.contains_key(&name) {
                        return Err(self.error(format!("duplicate key {name:?}"), &key_at));
                    }
                    entries.insert(name, node);
                }
            },
        }
        Ok(())
    }

    fn close(&self, open: Open, tag: Option<String>) -> Result<Node, DescriptorError> {
        let node = match open {
            Open::Seq(items) => Node::Seq(items),
            Open::Map {
                mut entries,
                merges,
                ..
            } => {
                for (merged, at) in merges {
                    let maps = match merged {
                        Node::Map(m) => vec![m],
                        Node::Seq(items) => items
                            .into_iter()
                            .map(|item| match item {
                                Node::Map(m) => Ok(m),
                                other => Err(other),
                            })
                            .collect::<Result<Vec<_>, _>>()
                            .map_err(|other| self.merge_error(&other, &at))?,
                        other => return Err(self.merge_error(&other, &at)),
                    };
                    // Explicit keys win, then the first merged mapping that has the key.
                    for map in maps {
                        for (k, v) in map {
                            entries.entry(k).or_insert(v);
                        }
                    }
                }
                Node::Map(entries)
            }
        };
        Ok(match tag {
            Some(tag) => Node::Tagged(tag),
            None => node,
        })
    }

    fn merge_error(&self, found: &Node, at: &Marker) -> DescriptorError {
        self.error(
            format!(
                "a merge key (<<) takes a mapping or a list of mappings, not {}",
                found.describe()
            ),
            at,
        )
    }
}

fn yaml_error(index: usize, message: String, at: &Marker) -> DescriptorError {
    let (line, column) = (at.line(), at.col() + 1);
    DescriptorError::Yaml {
        document: Document {
            index,
            entity: None,
        },
        message: format!("{message} at line {line} column {column}"),
        line: Some(line),
        column: Some(column),
    }
}

fn scan_error(index: usize, e: &ScanError) -> DescriptorError {
    let message = match e.kind() {
        ErrorKind::RecursionLimitExceeded => {
            format!("collections nested more than {MAX_NESTING} deep")
        }
        _ => e.info(),
    };
    yaml_error(index, message, e.marker())
}

/// A collection's tag, unless it is the core schema's own (`!!map`, `!!seq`).
fn foreign_tag(tag: &Tag) -> Option<String> {
    match tag.core_suffix() {
        Some("map" | "seq") => None,
        _ => Some(tag.to_string()),
    }
}

/// A scalar resolved by YAML 1.2's core schema.
fn resolve(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Node {
    let kind = match tag {
        Some(tag) => match tag.core_suffix() {
            Some("str") => ScalarKind::Str,
            Some("null") => ScalarKind::Null,
            Some("bool") => ScalarKind::Bool,
            Some("int" | "float") => ScalarKind::Number,
            // The non-specific tag `!` makes a string.
            _ if tag.handle().is_empty() && tag.suffix() == "!" => ScalarKind::Str,
            _ => return Node::Tagged(tag.to_string()),
        },
        None if !matches!(style, ScalarStyle::Plain) => ScalarKind::Str,
        None => plain_kind(text),
    };
    Node::Scalar(Scalar {
        text: text.to_string(),
        kind,
    })
}

fn plain_kind(s: &str) -> ScalarKind {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => ScalarKind::Null,
        "true" | "True" | "TRUE" | "false" | "False" | "FALSE" => ScalarKind::Bool,
        ".nan" | ".NaN" | ".NAN" => ScalarKind::Number,
        _ if is_int(s) || is_float(s) => ScalarKind::Number,
        _ => ScalarKind::Str,
    }
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `[-+]?[0-9]+`, `0o[0-7]+`, `0x[0-9a-fA-F]+`.
fn is_int(s: &str) -> bool {
    let unsigned = s.strip_prefix(['-', '+']).unwrap_or(s);
    digits(unsigned)
        || s.strip_prefix("0o")
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| (b'0'..=b'7').contains(&b)))
        || s.strip_prefix("0x")
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?` and `[-+]?\.(inf|Inf|INF)`.
fn is_float(s: &str) -> bool {
    let unsigned = s.strip_prefix(['-', '+']).unwrap_or(s);
    if matches!(unsigned, ".inf" | ".Inf" | ".INF") {
        return true;
    }
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (unsigned, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", fraction)) => digits(fraction),
        Some((whole, fraction)) => digits(whole) && (fraction.is_empty() || digits(fraction)),
        None => digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    mantissa_ok && exponent_ok
}
