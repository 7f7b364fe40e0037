//! Test harness for end-to-end suites and benchmarks against real parts: the built `catalog`
//! binary (spawned, killed, restarted), Debian's docker-registry, umoci and skopeo, and
//! PostgreSQL. Nothing here is a mock.

#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod backstage;
pub mod baseline;
pub mod bench;
pub mod capture;
pub mod gateway;
pub mod mixed;
pub mod notify;
pub mod pg;
pub mod python;
pub mod receiver;
pub mod registry;
pub mod sbom;
pub mod senders;
pub mod server;
pub mod synthetic;

pub use server::{CatalogServer, CatalogWorker, ServerOpts};
