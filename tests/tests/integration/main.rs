//! End-to-end suites against real parts: the built binary, Debian's docker-registry, umoci,
//! skopeo, real HTTP. One test binary (faster links), one module per story.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bad_input;
mod crash;
mod declared;
mod deployments;
mod governance;
mod graph;
mod graphql_clients;
mod notify;
mod operations;
mod ops;
mod registries;
mod registry_auth;
mod registry_credentials;
mod registry_flow;
mod replicas;
mod sbom;
mod sbom_costs;
mod secrets;
mod snapshots;
mod strict;
mod transport;
mod ui;
mod versions;
mod vex;
