//! The outside world coming in: webhook payload formats (parsed and validated synchronously),
//! the durable inbox writer (group commit), the OCI registry client, the enrichment worker and
//! the reconcile loop. No HTTP server types here: catalog-api is the shell around this.

pub mod backstage;
pub mod credentials;
pub mod hooks;
pub mod inbox;
pub mod item;
pub mod metrics;
pub mod reconcile;
pub mod registry;
pub mod sbom;
pub mod snapshot;
pub mod sync;
pub mod tail;
pub mod worker;

pub use item::InboxBody;
pub use metrics::Metrics;

use catalog_core::Catalog;
use std::sync::{Arc, RwLock};

/// The in-memory graph, shared between the worker (writer) and the API (readers).
pub type SharedCatalog = Arc<RwLock<Catalog>>;
