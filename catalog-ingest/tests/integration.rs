//! catalog-ingest's integration tests, one binary (faster links): the SBOM parsers and the
//! Backstage descriptor parser against real documents and hand-written edges, each suite in
//! its own module under `integration/`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "integration/backstage.rs"]
mod backstage;
#[path = "integration/sbom.rs"]
mod sbom;
