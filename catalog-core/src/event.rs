//! Domain events: the only way state changes. The store appends them (idempotent on a natural
//! key) and the graph folds them; replaying any of them changes nothing.

use crate::deployment::{ClusterSnapshot, DeploymentObserved};
use crate::entity::{Contacts, Entity};
use crate::model::Platform;
use crate::sbom::Sbom;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A change to the catalog. Serialized as the event log's `payload`, tagged by `kind` (read
/// back by [`crate::tagged`], which does not buffer the object when the tag comes first).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind")]
pub enum Event {
    /// A manifest (or index) was pushed to a repository, optionally with a tag, and enriched
    /// with what its config says.
    #[serde(rename = "image.registered")]
    ImageRegistered(ImageRegistered),
    /// A tag was removed from a repository.
    #[serde(rename = "tag.deleted")]
    TagDeleted {
        registry: String,
        repository: String,
        tag: String,
    },
    /// A manifest was deleted from a repository by digest (its tags go with it).
    #[serde(rename = "manifest.deleted")]
    ManifestDeleted {
        registry: String,
        repository: String,
        digest: String,
    },
    /// A component was given an owner.
    #[serde(rename = "owner.set")]
    OwnerSet {
        component: String,
        team: String,
        /// `label` (from an image), `api` (the setOwner mutation) or `backstage`; a declared
        /// owner (api, backstage) beats a label, and the later of two declared ones wins.
        via: String,
    },
    /// A deploy tool reported a workload's state (Argo CD, Flux, the CLI, the generic hook).
    #[serde(rename = "deployment.observed")]
    DeploymentObserved(DeploymentObserved),
    /// A full view of one cluster's workloads; workloads missing from it ended.
    #[serde(rename = "cluster.snapshot")]
    ClusterSnapshot(ClusterSnapshot),
    /// An image's bill of materials; the latest attached (by time, then key) replaces the rest.
    #[serde(rename = "sbom.attached")]
    SbomAttached(SbomAttached),
    /// An OSV vulnerability record; the newest (by `modified`) of an id replaces the rest.
    #[serde(rename = "vulnerability.published")]
    VulnerabilityPublished(Box<crate::osv::Vulnerability>),
    /// A Backstage descriptor entity; the latest (by time, then key) of a `kind:name` wins.
    #[serde(rename = "entity.declared")]
    EntityDeclared(Box<Entity>),
    /// `from` depends on `to` at run time (the declareDependency mutation).
    #[serde(rename = "dependency.declared")]
    DependencyDeclared { from: String, to: String },
    /// `from` no longer depends on `to` (the removeDependency mutation). Per pair, the latest
    /// of a declaration, a removal and the `from` descriptor's own list decides.
    #[serde(rename = "dependency.removed")]
    DependencyRemoved { from: String, to: String },
    /// How to reach a team (the setTeamContacts mutation); the latest of this and the team's
    /// descriptor wins.
    #[serde(rename = "team.contacts")]
    TeamContacts { team: String, contacts: Contacts },
    /// An application and its member components (the declareApplication mutation); the latest
    /// declaration replaces the members it declared. Backstage systems add their components.
    #[serde(rename = "application.declared")]
    ApplicationDeclared {
        application: String,
        components: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        owner: Option<String>,
    },
    /// VEX statements (a document, or a team's own statement); per product, vulnerability and
    /// subcomponent, the latest statement (by its timestamp, then log order) holds.
    #[serde(rename = "vex.recorded")]
    VexRecorded(Box<crate::vex::VexDocument>),
    /// Someone approved or rejected a component version for an environment (the approve and
    /// reject mutations, `catalog approve`).
    #[serde(rename = "approval.recorded")]
    ApprovalRecorded(crate::governance::Approval),
    /// A policy set was put in force (loaded from `--policy-dir`); the newest holds.
    #[serde(rename = "policy.loaded")]
    PolicySetLoaded(Box<crate::governance::PolicySet>),
    /// A release window, freeze or planned release was scheduled (or changed: same id).
    #[serde(rename = "calendar.entry")]
    CalendarEntryRecorded(crate::governance::CalendarEntry),
    /// A calendar entry was removed.
    #[serde(rename = "calendar.removed")]
    CalendarEntryRemoved { id: String },
    /// An observed deployment the policies in force deny: it went out against policy.
    #[serde(rename = "policy.violation")]
    PolicyViolated(Box<crate::governance::Violation>),
    /// The policy judge judged every deployment recorded up to a sequence number: where it
    /// resumes after a restart, and the audit's record of what was judged under which set.
    #[serde(rename = "policy.judged")]
    PolicyJudged(crate::governance::Judged),
    /// Configuration values set (or removed) in an environment, cluster or namespace
    /// (`/hooks/config`, `catalog config`); per scope and key, the latest holds.
    #[serde(rename = "config.set")]
    ConfigSet(crate::configuration::ConfigSet),
    /// A notification rule set (or removed) for a team, an environment, or both.
    #[serde(rename = "notify.rule")]
    NotificationRuleSet(crate::notify::NotificationRule),
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Event, D::Error> {
        crate::tagged::deserialize_tagged(d)
    }
}

/// The fields of the event kinds that are not a type of their own.
mod fields {
    use super::*;

    #[derive(Deserialize)]
    pub struct Tag {
        pub registry: String,
        pub repository: String,
        pub tag: String,
    }

    #[derive(Deserialize)]
    pub struct Manifest {
        pub registry: String,
        pub repository: String,
        pub digest: String,
    }

    #[derive(Deserialize)]
    pub struct Owner {
        pub component: String,
        pub team: String,
        pub via: String,
    }

    #[derive(Deserialize)]
    pub struct CalendarRemoved {
        pub id: String,
    }

    #[derive(Deserialize)]
    pub struct Dependency {
        pub from: String,
        pub to: String,
    }

    #[derive(Deserialize)]
    pub struct TeamContacts {
        pub team: String,
        pub contacts: Contacts,
    }

    #[derive(Deserialize)]
    pub struct Application {
        pub application: String,
        pub components: Vec<String>,
        #[serde(default)]
        pub owner: Option<String>,
    }
}

impl crate::tagged::TaggedEnum for Event {
    const TAG: &'static str = "kind";
    const VARIANTS: &'static [&'static str] = &[
        "image.registered",
        "tag.deleted",
        "manifest.deleted",
        "owner.set",
        "deployment.observed",
        "cluster.snapshot",
        "sbom.attached",
        "vulnerability.published",
        "entity.declared",
        "dependency.declared",
        "dependency.removed",
        "team.contacts",
        "application.declared",
        "vex.recorded",
        "approval.recorded",
        "policy.loaded",
        "calendar.entry",
        "calendar.removed",
        "policy.violation",
        "policy.judged",
        "config.set",
        "notify.rule",
    ];

    fn variant<'de, D: serde::Deserializer<'de>>(tag: &str, d: D) -> Result<Event, D::Error> {
        Ok(match EventKind::parse(tag) {
            Some(EventKind::ImageRegistered) => {
                Event::ImageRegistered(Deserialize::deserialize(d)?)
            }
            Some(EventKind::TagDeleted) => {
                let f = fields::Tag::deserialize(d)?;
                Event::TagDeleted {
                    registry: f.registry,
                    repository: f.repository,
                    tag: f.tag,
                }
            }
            Some(EventKind::ManifestDeleted) => {
                let f = fields::Manifest::deserialize(d)?;
                Event::ManifestDeleted {
                    registry: f.registry,
                    repository: f.repository,
                    digest: f.digest,
                }
            }
            Some(EventKind::OwnerSet) => {
                let f = fields::Owner::deserialize(d)?;
                Event::OwnerSet {
                    component: f.component,
                    team: f.team,
                    via: f.via,
                }
            }
            Some(EventKind::DeploymentObserved) => {
                Event::DeploymentObserved(Deserialize::deserialize(d)?)
            }
            Some(EventKind::ClusterSnapshot) => {
                Event::ClusterSnapshot(Deserialize::deserialize(d)?)
            }
            Some(EventKind::SbomAttached) => Event::SbomAttached(Deserialize::deserialize(d)?),
            Some(EventKind::VulnerabilityPublished) => {
                Event::VulnerabilityPublished(Deserialize::deserialize(d)?)
            }
            Some(EventKind::EntityDeclared) => Event::EntityDeclared(Deserialize::deserialize(d)?),
            Some(EventKind::DependencyDeclared) => {
                let f = fields::Dependency::deserialize(d)?;
                Event::DependencyDeclared {
                    from: f.from,
                    to: f.to,
                }
            }
            Some(EventKind::DependencyRemoved) => {
                let f = fields::Dependency::deserialize(d)?;
                Event::DependencyRemoved {
                    from: f.from,
                    to: f.to,
                }
            }
            Some(EventKind::TeamContacts) => {
                let f = fields::TeamContacts::deserialize(d)?;
                Event::TeamContacts {
                    team: f.team,
                    contacts: f.contacts,
                }
            }
            Some(EventKind::VexRecorded) => Event::VexRecorded(Deserialize::deserialize(d)?),
            Some(EventKind::ApprovalRecorded) => {
                Event::ApprovalRecorded(Deserialize::deserialize(d)?)
            }
            Some(EventKind::PolicySetLoaded) => {
                Event::PolicySetLoaded(Deserialize::deserialize(d)?)
            }
            Some(EventKind::CalendarEntryRecorded) => {
                Event::CalendarEntryRecorded(Deserialize::deserialize(d)?)
            }
            Some(EventKind::PolicyViolated) => Event::PolicyViolated(Deserialize::deserialize(d)?),
            Some(EventKind::PolicyJudged) => Event::PolicyJudged(Deserialize::deserialize(d)?),
            Some(EventKind::ConfigSet) => Event::ConfigSet(Deserialize::deserialize(d)?),
            Some(EventKind::NotificationRuleSet) => {
                Event::NotificationRuleSet(Deserialize::deserialize(d)?)
            }
            Some(EventKind::CalendarEntryRemoved) => {
                let f = fields::CalendarRemoved::deserialize(d)?;
                Event::CalendarEntryRemoved { id: f.id }
            }
            Some(EventKind::ApplicationDeclared) => {
                let f = fields::Application::deserialize(d)?;
                Event::ApplicationDeclared {
                    application: f.application,
                    components: f.components,
                    owner: f.owner,
                }
            }
            None => return Err(serde::de::Error::unknown_variant(tag, Self::VARIANTS)),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageRegistered {
    pub registry: String,
    pub repository: String,
    pub digest: String,
    pub tag: Option<String>,
    pub media_type: String,
    pub size: i64,
    pub platforms: Vec<Platform>,
    pub labels: BTreeMap<String, String>,
    pub created: Option<DateTime<Utc>>,
    /// Derived with [`crate::identity`] when the event was made, so a rule change never
    /// rewrites history.
    pub component: String,
    pub version: Option<String>,
    /// The notification named only a tag (Quay, Docker Hub, Nexus): the digest is what the
    /// registry resolved the tag to when the worker processed it, which races with a later
    /// push of the same tag.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tag_resolved: bool,
}

/// An SBOM document attached to an image. The key is `sbom:<image>:<document digest>`, so the
/// same document for the same image twice is one event, whoever delivered it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SbomAttached {
    /// The subject image's digest.
    pub image: String,
    /// `sha256:` of the document's bytes as received.
    pub document_digest: String,
    /// `upload` (the hook or `catalog import sbom`), `referrers` (the OCI referrers API) or
    /// `tag` (the cosign `sha256-<hex>.sbom` / `.att` tag convention).
    pub via: String,
    pub sbom: Sbom,
}

/// The kinds, as stored in the event log's `kind` column and filtered on in GraphQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    ImageRegistered,
    TagDeleted,
    ManifestDeleted,
    OwnerSet,
    DeploymentObserved,
    ClusterSnapshot,
    SbomAttached,
    VulnerabilityPublished,
    EntityDeclared,
    DependencyDeclared,
    DependencyRemoved,
    TeamContacts,
    ApplicationDeclared,
    VexRecorded,
    ApprovalRecorded,
    PolicySetLoaded,
    CalendarEntryRecorded,
    CalendarEntryRemoved,
    PolicyViolated,
    PolicyJudged,
    ConfigSet,
    NotificationRuleSet,
}

impl EventKind {
    pub const ALL: [EventKind; 22] = [
        EventKind::ImageRegistered,
        EventKind::TagDeleted,
        EventKind::ManifestDeleted,
        EventKind::OwnerSet,
        EventKind::DeploymentObserved,
        EventKind::ClusterSnapshot,
        EventKind::SbomAttached,
        EventKind::VulnerabilityPublished,
        EventKind::EntityDeclared,
        EventKind::DependencyDeclared,
        EventKind::DependencyRemoved,
        EventKind::TeamContacts,
        EventKind::ApplicationDeclared,
        EventKind::VexRecorded,
        EventKind::ApprovalRecorded,
        EventKind::PolicySetLoaded,
        EventKind::CalendarEntryRecorded,
        EventKind::CalendarEntryRemoved,
        EventKind::PolicyViolated,
        EventKind::PolicyJudged,
        EventKind::ConfigSet,
        EventKind::NotificationRuleSet,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::ImageRegistered => "image.registered",
            EventKind::TagDeleted => "tag.deleted",
            EventKind::ManifestDeleted => "manifest.deleted",
            EventKind::OwnerSet => "owner.set",
            EventKind::DeploymentObserved => "deployment.observed",
            EventKind::ClusterSnapshot => "cluster.snapshot",
            EventKind::SbomAttached => "sbom.attached",
            EventKind::VulnerabilityPublished => "vulnerability.published",
            EventKind::EntityDeclared => "entity.declared",
            EventKind::DependencyDeclared => "dependency.declared",
            EventKind::DependencyRemoved => "dependency.removed",
            EventKind::TeamContacts => "team.contacts",
            EventKind::ApplicationDeclared => "application.declared",
            EventKind::VexRecorded => "vex.recorded",
            EventKind::ApprovalRecorded => "approval.recorded",
            EventKind::PolicySetLoaded => "policy.loaded",
            EventKind::CalendarEntryRecorded => "calendar.entry",
            EventKind::CalendarEntryRemoved => "calendar.removed",
            EventKind::PolicyViolated => "policy.violation",
            EventKind::PolicyJudged => "policy.judged",
            EventKind::ConfigSet => "config.set",
            EventKind::NotificationRuleSet => "notify.rule",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl Event {
    pub fn kind(&self) -> EventKind {
        match self {
            Event::ImageRegistered(_) => EventKind::ImageRegistered,
            Event::TagDeleted { .. } => EventKind::TagDeleted,
            Event::ManifestDeleted { .. } => EventKind::ManifestDeleted,
            Event::OwnerSet { .. } => EventKind::OwnerSet,
            Event::DeploymentObserved(_) => EventKind::DeploymentObserved,
            Event::ClusterSnapshot(_) => EventKind::ClusterSnapshot,
            Event::SbomAttached(_) => EventKind::SbomAttached,
            Event::VulnerabilityPublished(_) => EventKind::VulnerabilityPublished,
            Event::EntityDeclared(_) => EventKind::EntityDeclared,
            Event::DependencyDeclared { .. } => EventKind::DependencyDeclared,
            Event::DependencyRemoved { .. } => EventKind::DependencyRemoved,
            Event::TeamContacts { .. } => EventKind::TeamContacts,
            Event::ApplicationDeclared { .. } => EventKind::ApplicationDeclared,
            Event::VexRecorded(_) => EventKind::VexRecorded,
            Event::ApprovalRecorded(_) => EventKind::ApprovalRecorded,
            Event::PolicySetLoaded(_) => EventKind::PolicySetLoaded,
            Event::CalendarEntryRecorded(_) => EventKind::CalendarEntryRecorded,
            Event::CalendarEntryRemoved { .. } => EventKind::CalendarEntryRemoved,
            Event::PolicyViolated(_) => EventKind::PolicyViolated,
            Event::PolicyJudged(_) => EventKind::PolicyJudged,
            Event::ConfigSet(_) => EventKind::ConfigSet,
            Event::NotificationRuleSet(_) => EventKind::NotificationRuleSet,
        }
    }
}

/// An event as the log holds it: a sequence number, the natural key that makes it idempotent,
/// when it happened at the source, and who/what reported it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedEvent {
    pub seq: i64,
    pub key: String,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    /// `distribution`, `reconcile`, `api`, ...
    pub source: String,
    /// The user agent / token name / registry instance that caused it.
    pub actor: String,
    pub event: Event,
}

/// An event about to be recorded: everything but the sequence number and recording time.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub key: String,
    pub occurred_at: DateTime<Utc>,
    pub source: String,
    pub actor: String,
    pub event: Event,
}
