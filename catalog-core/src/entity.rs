//! Ownership and dependencies as teams already declare them: a Backstage descriptor entity,
//! normalised to the catalog's names. Parsing `catalog-info.yaml` lives in `catalog-ingest`;
//! this module owns only the shape every descriptor is reduced to, and the naming rule.
//!
//! Naming: an entity `kind:namespace/name` is the catalog thing `name` in the `default`
//! namespace and `namespace/name` elsewhere, so `component:shop/cart` is the component
//! `shop/cart` that images of the repository `shop/cart` register as.

use serde::{Deserialize, Serialize};

/// The Backstage kinds the catalog reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntityKind {
    Component,
    Api,
    System,
    Domain,
    Group,
    User,
    Resource,
}

impl EntityKind {
    pub const ALL: [EntityKind; 7] = [
        EntityKind::Component,
        EntityKind::Api,
        EntityKind::System,
        EntityKind::Domain,
        EntityKind::Group,
        EntityKind::User,
        EntityKind::Resource,
    ];

    /// The Backstage spelling (`Component`, `API`, ...).
    pub fn backstage(self) -> &'static str {
        match self {
            EntityKind::Component => "Component",
            EntityKind::Api => "API",
            EntityKind::System => "System",
            EntityKind::Domain => "Domain",
            EntityKind::Group => "Group",
            EntityKind::User => "User",
            EntityKind::Resource => "Resource",
        }
    }

    /// Case-insensitive, as entity refs are (`component`, `API`, `group`).
    pub fn parse(s: &str) -> Option<EntityKind> {
        EntityKind::ALL
            .into_iter()
            .find(|k| k.backstage().eq_ignore_ascii_case(s))
    }
}

/// How to reach the people behind a team.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contacts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// A chat channel (Slack, Teams, Matrix), as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat: Option<String>,
    /// A pager target (PagerDuty service, Opsgenie team), as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pager: Option<String>,
}

impl Contacts {
    pub fn is_empty(&self) -> bool {
        self.email.is_none() && self.chat.is_none() && self.pager.is_none()
    }
}

/// One descriptor entity, its references already turned into catalog names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entity {
    /// Serialized as `entity_kind`: the event log tags events by `kind` already.
    #[serde(rename = "entity_kind")]
    pub kind: EntityKind,
    /// The catalog name ([`catalog_name`]).
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `spec.type` (`service`, `website`, `openapi`, `database`, `team`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<String>,
    /// `spec.owner` as a team name (groups and users both own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// `spec.system` as an application name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// `spec.domain` (systems) or the domain a system belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// `spec.dependsOn`: components and resources, as component names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    /// `spec.providesApis`, as API names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub provides_apis: Vec<String>,
    /// `spec.consumesApis`, as API names. A consumer depends on every provider of the API.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consumes_apis: Vec<String>,
    /// Groups and users: how to reach them.
    #[serde(default, skip_serializing_if = "Contacts::is_empty")]
    pub contacts: Contacts,
    /// Groups: `spec.parent` as a team name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Users: `spec.memberOf`; groups: `spec.members`. Team or user names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
    /// Where the descriptor came from (a file path or a URL), for the audit log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

impl Entity {
    /// An entity of `kind` named `name` with nothing else declared.
    pub fn new(kind: EntityKind, name: impl Into<String>) -> Entity {
        Entity {
            kind,
            name: name.into(),
            title: None,
            description: None,
            spec_type: None,
            lifecycle: None,
            owner: None,
            system: None,
            domain: None,
            depends_on: Vec::new(),
            provides_apis: Vec::new(),
            consumes_apis: Vec::new(),
            contacts: Contacts::default(),
            parent: None,
            members: Vec::new(),
            location: None,
        }
    }

    /// The entity's own reference, `kind:name` (lowercase kind), unique in the catalog.
    pub fn reference(&self) -> String {
        format!(
            "{}:{}",
            self.kind.backstage().to_ascii_lowercase(),
            self.name
        )
    }
}

/// The catalog name of an entity in `namespace` named `name`: `name` in the `default`
/// namespace, `namespace/name` elsewhere.
pub fn catalog_name(namespace: &str, name: &str) -> String {
    if namespace.is_empty() || namespace.eq_ignore_ascii_case("default") {
        name.to_string()
    } else {
        format!("{namespace}/{name}")
    }
}
