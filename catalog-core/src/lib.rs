//! The catalog's domain and graph.
//!
//! Pure by design: no I/O, no async, no web or database types. Everything here is a function of
//! the events it is given, so the graph can always be rebuilt from the store's event log, and
//! the same code answers in-process, over HTTP, and in benchmarks.

pub mod configuration;
pub mod deployment;
pub mod entity;
pub mod event;
pub mod governance;
pub mod graph;
pub mod identity;
pub mod model;
pub mod notify;
pub mod osv;
pub mod purl;
pub mod redact;
pub mod reference;
pub mod sbom;
pub mod tagged;
pub mod versioning;
pub mod vex;

pub use event::{Event, EventKind, RecordedEvent};
pub use graph::{Catalog, DeploymentFilter, InventoryScope, Page, WhereIs};
pub use model::{Component, ComponentVersion, Image, Platform, Team};
