//! Backstage descriptors coming in: a `catalog-info.yaml` stream of YAML documents, each one
//! entity (<https://backstage.io/docs/features/software-catalog/descriptor-format>), reduced to
//! [`catalog_core::entity::Entity`] with every reference turned into a catalog name.
//!
//! What is read: the kinds Component, API, System, Domain, Group, User and Resource
//! (case-insensitive) at apiVersion `backstage.io/v1alpha1` or `backstage.io/v1beta1`; one of
//! them at another `backstage.io/` version is an error. Any other kind (Location, Template, at
//! whatever `backstage.io/` version: old templates are `v1beta2`) and any other apiVersion
//! (`scaffolder.backstage.io/v1beta3`) are skipped with a warning. A Location's `spec.targets`
//! are not followed: this module never reads anything but its input.
//!
//! References follow Backstage's `parseEntityRef`: `[kind:][namespace/]name`, the kind defaulting
//! by field (`spec.owner` a group, `spec.system` a system, ...; `spec.dependsOn` has no default
//! and must say `component:` or `resource:`), the namespace defaulting to the referring entity's.
//! Names follow Backstage's rule for `metadata.name` (1 to 63 of `[A-Za-z0-9-_.]`, starting and
//! ending with a letter or digit); namespaces are held to the same rule, more lenient than
//! Backstage's DNS label.
//!
//! All or nothing: the first error refuses the whole stream, naming the document (1-based,
//! empty documents counted) and the field (`document 3 (component "shop/cart"): spec.owner:
//! required`). Bounded in time and memory whatever the input (see `backstage/yaml.rs`): at most
//! [`MAX_DOCUMENTS`] documents, collections nested at most [`MAX_NESTING`] deep, and YAML
//! aliases (which repeat what they point to) may not make a stream expand past [`MAX_VALUES`]
//! values or [`MAX_SCALAR_BYTES`] bytes of text, so an alias bomb is refused in milliseconds.

mod yaml;

use catalog_core::entity::{catalog_name, Contacts, Entity, EntityKind};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::fmt;
use yaml::{Mapping, Node};

/// The most documents one stream may hold (empty ones included).
pub const MAX_DOCUMENTS: usize = 10_000;
/// The most YAML values (scalars, lists, mappings) a stream may expand to, aliases counted each
/// time they are used. About 100 per entity is typical.
pub const MAX_VALUES: usize = 1_000_000;
/// The most bytes of scalar text a stream may expand to, aliases counted each time they are used.
pub const MAX_SCALAR_BYTES: usize = 64 << 20;
/// The deepest lists and mappings may nest (a descriptor needs about 5).
pub const MAX_NESTING: usize = 64;

const API_VERSIONS: [&str; 2] = ["backstage.io/v1alpha1", "backstage.io/v1beta1"];

/// The entities of a stream, in document order, and what was skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    pub entities: Vec<Entity>,
    /// One line per skipped document, naming it (`document 1 (location "all"): ...`).
    pub warnings: Vec<String>,
}

/// Which document of the stream something is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// 1-based position in the stream; empty documents count.
    pub index: usize,
    /// The entity as far as it is known: `component "shop/cart"`.
    pub entity: Option<String>,
}

impl fmt::Display for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "document {}", self.index)?;
        if let Some(entity) = &self.entity {
            write!(f, " ({entity})")?;
        }
        Ok(())
    }
}

/// Why a stream was refused. Every message names the document, and the field when there is one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DescriptorError {
    /// Not YAML, or not YAML this reads: a syntax error, an unknown alias, a duplicate key, a
    /// key that is not a scalar, nesting deeper than [`MAX_NESTING`]. `line` and `column` are
    /// 1-based, in the whole stream, and end `message` too.
    #[error("{document}: invalid YAML: {message}")]
    Yaml {
        document: Document,
        message: String,
        line: Option<usize>,
        column: Option<usize>,
    },
    /// A field is missing, of the wrong type, or not a valid name, reference or version.
    #[error("{document}: {field}: {reason}")]
    Field {
        document: Document,
        field: String,
        reason: String,
    },
    #[error(
        "{document}: expected a mapping with apiVersion, kind, metadata and spec, found {found}"
    )]
    NotMapping { document: Document, found: String },
    /// The same kind and catalog name twice in one stream.
    #[error("{document}: {reference} is declared twice, in documents {first} and {}", document.index)]
    Duplicate {
        document: Document,
        first: usize,
        reference: String,
    },
    #[error("more than {limit} documents in one stream; split it")]
    TooManyDocuments { limit: usize },
    #[error(
        "{document}: the stream expands to more than {limit} {what} \
         (YAML aliases count each time they are used); refused"
    )]
    TooLarge {
        document: Document,
        limit: usize,
        what: &'static str,
    },
}

/// Parses a stream of Backstage descriptors. `location` (a file path or URL) is recorded on
/// every entity. Nothing is returned unless every document is valid.
pub fn parse(text: &str, location: Option<&str>) -> Result<Parsed, DescriptorError> {
    let mut stream = yaml::Stream::new(text);
    let mut parsed = Parsed::default();
    let mut seen: HashMap<(EntityKind, String), usize> = HashMap::new();
    while let Some((index, node)) = stream.next_document()? {
        let Some(entity) = read_document(index, &node, location, &mut parsed.warnings)? else {
            continue;
        };
        let key = (entity.kind, entity.name.clone());
        if let Some(&first) = seen.get(&key) {
            return Err(DescriptorError::Duplicate {
                document: Document {
                    index,
                    entity: Some(describe_entity(entity.kind, &entity.name)),
                },
                first,
                reference: entity.reference(),
            });
        }
        seen.insert(key, index);
        parsed.entities.push(entity);
    }
    Ok(parsed)
}

/// The natural idempotency key of the event declaring `e`:
/// `backstage:<kind:name>:<first 16 hex digits of the SHA-256 of its JSON>`. Equal entities
/// (location included) have equal keys; any change to a field changes it.
pub fn event_key(e: &Entity) -> String {
    // Serializing a struct of strings, lists and options cannot fail.
    let json = serde_json::to_vec(e).unwrap_or_default();
    let digest = Sha256::digest(&json);
    format!("backstage:{}:{}", e.reference(), hex::encode(&digest[..8]))
}

// ===================================================================================
// One document
// ===================================================================================

/// The entity of one document, or `None` (with a warning) when it is skipped.
fn read_document(
    index: usize,
    node: &Node,
    location: Option<&str>,
    warnings: &mut Vec<String>,
) -> Result<Option<Entity>, DescriptorError> {
    let map = match node {
        Node::Map(map) => map,
        empty if empty.is_null() => return Ok(None),
        other => {
            return Err(DescriptorError::NotMapping {
                document: Document {
                    index,
                    entity: None,
                },
                found: other.describe(),
            })
        }
    };
    let mut doc = Doc {
        document: Document {
            index,
            entity: sketch(map),
        },
    };

    let api_version = doc.required_str(map, "apiVersion", "apiVersion")?;
    let kind_text = doc.required_str(map, "kind", "kind")?;
    if !api_version.starts_with("backstage.io/") {
        warnings.push(format!(
            "{}: skipped: apiVersion {api_version:?} (kind {}) is not Backstage's software \
             catalog (backstage.io/...)",
            doc.document,
            shown(kind_text)
        ));
        return Ok(None);
    }
    // Kinds not read are skipped whatever their version: old scaffolder templates are
    // `backstage.io/v1beta2`.
    let Some(kind) = EntityKind::parse(kind_text) else {
        let why = if kind_text.eq_ignore_ascii_case("location") {
            "its spec.targets are not followed; import those files themselves".to_string()
        } else {
            format!(
                "the catalog reads {}",
                EntityKind::ALL.map(EntityKind::backstage).join(", ")
            )
        };
        warnings.push(format!(
            "{}: skipped: kind {}: {why}",
            doc.document,
            shown(kind_text)
        ));
        return Ok(None);
    };
    if !API_VERSIONS.contains(&api_version) {
        return Err(doc.err(
            "apiVersion",
            format!(
                "{api_version:?} is not a version this catalog reads ({})",
                API_VERSIONS.join(", ")
            ),
        ));
    }

    let metadata = doc.required_mapping(map, "metadata", "metadata")?;
    let name = doc.required_str(metadata, "name", "metadata.name")?;
    check_name(name).map_err(|reason| doc.err("metadata.name", reason))?;
    let namespace = doc
        .opt_str(metadata, "namespace", "metadata.namespace")?
        .unwrap_or("default");
    check_name(namespace).map_err(|reason| doc.err("metadata.namespace", reason))?;
    let mut entity = Entity::new(kind, catalog_name(namespace, name));
    doc.document.entity = Some(describe_entity(kind, &entity.name));
    entity.title = doc.opt_string(metadata, "title", "metadata.title")?;
    entity.description = doc.opt_string(metadata, "description", "metadata.description")?;
    let annotations = doc.opt_mapping(metadata, "annotations", "metadata.annotations")?;
    let empty = Mapping::new();
    let spec = doc.opt_mapping(map, "spec", "spec")?.unwrap_or(&empty);
    let refs = Refs {
        doc: &doc,
        spec,
        namespace,
    };

    entity.spec_type = doc.opt_string(spec, "type", "spec.type")?;
    entity.lifecycle = doc.opt_string(spec, "lifecycle", "spec.lifecycle")?;
    let needs_type = matches!(
        kind,
        EntityKind::Component | EntityKind::Api | EntityKind::Group | EntityKind::Resource
    );
    if needs_type && entity.spec_type.is_none() {
        return Err(doc.err("spec.type", "required"));
    }
    if matches!(kind, EntityKind::Component | EntityKind::Api) && entity.lifecycle.is_none() {
        return Err(doc.err("spec.lifecycle", "required"));
    }
    match kind {
        EntityKind::Component
        | EntityKind::Api
        | EntityKind::System
        | EntityKind::Domain
        | EntityKind::Resource => {
            entity.owner = Some(refs.required_one("owner", &OWNER)?);
        }
        EntityKind::Group | EntityKind::User => {}
    }
    match kind {
        EntityKind::Component => {
            entity.system = refs.one("system", &SYSTEM)?;
            entity.depends_on = refs.list("dependsOn", &DEPENDS_ON)?;
            entity.provides_apis = refs.list("providesApis", &API)?;
            entity.consumes_apis = refs.list("consumesApis", &API)?;
        }
        EntityKind::Api => {
            // Present is enough: a definition can be big, and is not kept. A `$text`
            // substitution ({$text: ./openapi.yaml}) counts.
            let definition = present(spec.get("definition"));
            if definition.is_none_or(|d| d.as_str().is_some_and(|s| s.trim().is_empty())) {
                return Err(doc.err("spec.definition", "required"));
            }
            entity.system = refs.one("system", &SYSTEM)?;
        }
        EntityKind::Resource => {
            entity.system = refs.one("system", &SYSTEM)?;
            entity.depends_on = refs.list("dependsOn", &DEPENDS_ON)?;
        }
        EntityKind::System => {
            entity.domain = refs.one("domain", &DOMAIN)?;
        }
        EntityKind::Domain => {}
        EntityKind::Group => {
            // Backstage requires spec.children; they are the other side of spec.parent.
            entity.parent = refs.one("parent", &PARENT)?;
            entity.members = refs.list("members", &MEMBERS)?;
            entity.contacts = doc.contacts(spec, annotations)?;
        }
        EntityKind::User => {
            entity.members = refs.list("memberOf", &MEMBER_OF)?;
            entity.contacts = doc.contacts(spec, annotations)?;
        }
    }
    entity.location = location.map(str::to_string);
    Ok(Some(entity))
}

/// `component "shop/cart"`.
fn describe_entity(kind: EntityKind, name: &str) -> String {
    format!("{} {name:?}", kind.backstage().to_ascii_lowercase())
}

/// The entity as written, before anything is checked, for the first errors' context.
fn sketch(map: &Mapping) -> Option<String> {
    let metadata = map.get("metadata").and_then(Node::as_map);
    let name = metadata
        .and_then(|m| m.get("name"))
        .and_then(Node::as_str)
        .filter(|name| !name.trim().is_empty())?;
    let namespace = metadata
        .and_then(|m| m.get("namespace"))
        .and_then(Node::as_str)
        .unwrap_or("default");
    let name = catalog_name(namespace, name);
    Some(match map.get("kind").and_then(Node::as_str) {
        Some(kind) => format!("{} {name:?}", shown(&kind.to_ascii_lowercase())),
        None => format!("{name:?}"),
    })
}

/// A kind as written when it looks like one (Backstage: `[a-zA-Z][a-zA-Z0-9]*`), quoted
/// otherwise, so that no input text reaches a message unescaped.
fn shown(kind: &str) -> String {
    let mut chars = kind.chars();
    let plain = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric());
    if plain {
        kind.to_string()
    } else {
        format!("{kind:?}")
    }
}

/// Backstage's `metadata.name` rule: 1 to 63 of `[A-Za-z0-9-_.]`, beginning and ending with
/// `[A-Za-z0-9]`.
fn check_name(name: &str) -> Result<(), String> {
    let bytes = name.as_bytes();
    let edges_ok = bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric);
    let chars_ok = bytes
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if bytes.len() > 63 {
        Err(format!(
            "{name:?} is {} characters long; at most 63 are allowed",
            name.chars().count()
        ))
    } else if edges_ok && chars_ok {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not a valid name: letters, digits, '-', '_' and '.', beginning and \
             ending with a letter or digit"
        ))
    }
}

/// The value, unless it is absent or null.
fn present(v: Option<&Node>) -> Option<&Node> {
    v.filter(|v| !v.is_null())
}

/// The document being read, for errors.
struct Doc {
    document: Document,
}

impl Doc {
    fn err(&self, field: impl Into<String>, reason: impl Into<String>) -> DescriptorError {
        DescriptorError::Field {
            document: self.document.clone(),
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// A string, trimmed; absent, null and blank are `None`.
    fn text<'a>(
        &self,
        v: Option<&'a Node>,
        path: &str,
    ) -> Result<Option<&'a str>, DescriptorError> {
        match present(v) {
            None => Ok(None),
            Some(v) => match v.as_str() {
                Some(s) => Ok(Some(s.trim()).filter(|s| !s.is_empty())),
                None => Err(self.err(path, format!("expected a string, found {}", v.describe()))),
            },
        }
    }

    fn opt_str<'a>(
        &self,
        map: &'a Mapping,
        key: &str,
        path: &str,
    ) -> Result<Option<&'a str>, DescriptorError> {
        self.text(map.get(key), path)
    }

    fn opt_string(
        &self,
        map: &Mapping,
        key: &str,
        path: &str,
    ) -> Result<Option<String>, DescriptorError> {
        Ok(self.opt_str(map, key, path)?.map(str::to_string))
    }

    fn required_str<'a>(
        &self,
        map: &'a Mapping,
        key: &str,
        path: &str,
    ) -> Result<&'a str, DescriptorError> {
        self.opt_str(map, key, path)?
            .ok_or_else(|| self.err(path, "required"))
    }

    fn opt_mapping<'a>(
        &self,
        map: &'a Mapping,
        key: &str,
        path: &str,
    ) -> Result<Option<&'a Mapping>, DescriptorError> {
        match present(map.get(key)) {
            None => Ok(None),
            Some(Node::Map(m)) => Ok(Some(m)),
            Some(other) => Err(self.err(
                path,
                format!("expected a mapping, found {}", other.describe()),
            )),
        }
    }

    fn required_mapping<'a>(
        &self,
        map: &'a Mapping,
        key: &str,
        path: &str,
    ) -> Result<&'a Mapping, DescriptorError> {
        self.opt_mapping(map, key, path)?
            .ok_or_else(|| self.err(path, "required"))
    }

    /// The first of `keys` among the annotations with a non-blank value.
    fn annotation(
        &self,
        annotations: Option<&Mapping>,
        keys: &[&str],
    ) -> Result<Option<String>, DescriptorError> {
        let Some(annotations) = annotations else {
            return Ok(None);
        };
        for key in keys {
            let path = format!("metadata.annotations[{key:?}]");
            if let Some(v) = self.text(annotations.get(*key), &path)? {
                return Ok(Some(v.to_string()));
            }
        }
        Ok(None)
    }

    /// A group's or user's contacts: `spec.profile.email` and the chat and pager annotations.
    fn contacts(
        &self,
        spec: &Mapping,
        annotations: Option<&Mapping>,
    ) -> Result<Contacts, DescriptorError> {
        let profile = self.opt_mapping(spec, "profile", "spec.profile")?;
        let email = match profile {
            Some(p) => self.opt_string(p, "email", "spec.profile.email")?,
            None => None,
        };
        let email = match email {
            Some(email) => Some(email),
            None => self.annotation(annotations, &["catalog.dev/email"])?,
        };
        let chat = self.annotation(
            annotations,
            &[
                "catalog.dev/chat",
                "slack.com/channel",
                "slack.com/channel-id",
                "microsoft.com/teams-channel",
            ],
        )?;
        let pager = self.annotation(
            annotations,
            &[
                "catalog.dev/pager",
                "pagerduty.com/service-id",
                "pagerduty.com/escalation-policy",
                "opsgenie.com/team",
            ],
        )?;
        Ok(Contacts { email, chat, pager })
    }
}

// ===================================================================================
// Entity references
// ===================================================================================

/// What a reference field may point at.
struct RefRule {
    /// Whether the reference must name its kind (`spec.dependsOn`); otherwise the field's own
    /// kind is the default (which only decides what the name means, so it is not kept).
    kind_required: bool,
    allowed: &'static [EntityKind],
    /// Said when the kind is wrong: "an owner is a group or a user".
    expect: &'static str,
}

const OWNER: RefRule = RefRule {
    kind_required: false,
    allowed: &[EntityKind::Group, EntityKind::User],
    expect: "an owner is a group or a user",
};
const SYSTEM: RefRule = RefRule {
    kind_required: false,
    allowed: &[EntityKind::System],
    expect: "expected a system",
};
const DOMAIN: RefRule = RefRule {
    kind_required: false,
    allowed: &[EntityKind::Domain],
    expect: "expected a domain",
};
const DEPENDS_ON: RefRule = RefRule {
    kind_required: true,
    allowed: &[EntityKind::Component, EntityKind::Resource],
    expect: "a dependency is a component or a resource",
};
const API: RefRule = RefRule {
    kind_required: false,
    allowed: &[EntityKind::Api],
    expect: "expected an API",
};
const PARENT: RefRule = RefRule {
    kind_required: false,
    allowed: &[EntityKind::Group],
    expect: "a parent is a group",
};
const MEMBERS: RefRule = RefRule {
    kind_required: false,
    allowed: &[EntityKind::User],
    expect: "a member is a user",
};
const MEMBER_OF: RefRule = RefRule {
    kind_required: false,
    allowed: &[EntityKind::Group],
    expect: "a user is a member of groups",
};

/// Reads the reference fields of one entity's spec.
struct Refs<'a> {
    doc: &'a Doc,
    spec: &'a Mapping,
    /// The referring entity's namespace: the default of its references.
    namespace: &'a str,
}

impl Refs<'_> {
    fn one(&self, key: &str, rule: &RefRule) -> Result<Option<String>, DescriptorError> {
        let path = format!("spec.{key}");
        match self.doc.text(self.spec.get(key), &path)? {
            Some(text) => self.resolve(text, &path, rule).map(Some),
            None => Ok(None),
        }
    }

    fn required_one(&self, key: &str, rule: &RefRule) -> Result<String, DescriptorError> {
        self.one(key, rule)?
            .ok_or_else(|| self.doc.err(format!("spec.{key}"), "required"))
    }

    /// A list of references, deduplicated, in order.
    fn list(&self, key: &str, rule: &RefRule) -> Result<Vec<String>, DescriptorError> {
        let items = match present(self.spec.get(key)) {
            None => return Ok(Vec::new()),
            Some(Node::Seq(items)) => items,
            Some(other) => {
                return Err(self.doc.err(
                    format!("spec.{key}"),
                    format!(
                        "expected a list of entity references, found {}",
                        other.describe()
                    ),
                ))
            }
        };
        let mut names: Vec<String> = Vec::with_capacity(items.len());
        let mut seen: HashSet<String> = HashSet::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let path = format!("spec.{key}[{i}]");
            let Some(text) = self.doc.text(Some(item), &path)? else {
                return Err(self.doc.err(path, "empty entity reference"));
            };
            let name = self.resolve(text, &path, rule)?;
            if seen.insert(name.clone()) {
                names.push(name);
            }
        }
        Ok(names)
    }

    /// `[kind:][namespace/]name` to a catalog name, as Backstage's `parseEntityRef` reads it.
    fn resolve(&self, text: &str, path: &str, rule: &RefRule) -> Result<String, DescriptorError> {
        let malformed = || {
            self.doc.err(
                path,
                format!("{text:?} is not an entity reference [kind:][namespace/]name"),
            )
        };
        let (kind, rest) = match text.split_once(':') {
            Some((kind, rest)) => (Some(kind), rest),
            None => (None, text),
        };
        let (namespace, name) = match rest.split_once('/') {
            Some((namespace, name)) => (Some(namespace), name),
            None => (None, rest),
        };
        let parts = [kind, namespace, Some(name)];
        if parts
            .iter()
            .flatten()
            .any(|p| p.is_empty() || p.contains([':', '/']))
        {
            return Err(malformed());
        }
        match kind {
            Some(k) if !EntityKind::parse(k).is_some_and(|kind| rule.allowed.contains(&kind)) => {
                return Err(self.doc.err(
                    path,
                    format!(
                        "{text:?} is of kind {}; {}",
                        shown(&k.to_ascii_lowercase()),
                        rule.expect
                    ),
                ));
            }
            None if rule.kind_required => {
                // Suggest the fix when the rest is a valid reference.
                let kinds: Vec<String> = rule
                    .allowed
                    .iter()
                    .map(|k| k.backstage().to_ascii_lowercase())
                    .collect();
                let fix = if namespace
                    .map_or(Ok(()), check_name)
                    .and(check_name(name))
                    .is_ok()
                {
                    let written: Vec<String> =
                        kinds.iter().map(|k| format!("{k}:{text}")).collect();
                    format!("write {}", written.join(" or "))
                } else {
                    format!("it must begin with {}", kinds.join(": or ") + ":")
                };
                return Err(self.doc.err(path, format!("{text:?} has no kind; {fix}")));
            }
            _ => {}
        }
        check_name(name).map_err(|reason| self.doc.err(path, reason))?;
        let namespace = namespace.unwrap_or(self.namespace);
        check_name(namespace).map_err(|reason| self.doc.err(path, reason))?;
        Ok(catalog_name(namespace, name))
    }
}

/// The first document of a YAML stream as JSON, read with the same limits as descriptors:
/// for files of plain values (`catalog config import values.yaml`). An empty stream is `null`.
pub fn yaml_value(text: &str) -> Result<serde_json::Value, String> {
    fn json(n: &Node) -> Result<serde_json::Value, String> {
        use serde_json::Value;
        Ok(match n {
            Node::Scalar(s) => match s.kind {
                yaml::ScalarKind::Null => Value::Null,
                yaml::ScalarKind::Bool => {
                    Value::Bool(matches!(s.text.as_str(), "true" | "True" | "TRUE"))
                }
                // Kept as written (`0x1F`, `1e3`, `007`): configuration is text.
                yaml::ScalarKind::Number | yaml::ScalarKind::Str => Value::String(s.text.clone()),
            },
            Node::Seq(items) => Value::Array(items.iter().map(json).collect::<Result<_, _>>()?),
            Node::Map(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| Ok((k.clone(), json(v)?)))
                    .collect::<Result<_, String>>()?,
            ),
            Node::Tagged(tag) => return Err(format!("a value tagged {tag} is not plain YAML")),
        })
    }
    let mut stream = yaml::Stream::new(text);
    match stream.next_document().map_err(|e| e.to_string())? {
        Some((_, node)) => json(&node),
        None => Ok(serde_json::Value::Null),
    }
}
