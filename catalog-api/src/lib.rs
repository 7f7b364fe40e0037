//! The catalog's HTTP shell: actix-web routes for GraphQL, webhooks, operations and the
//! embedded UI, around transport-agnostic GraphQL resolvers and the ingest machinery.

pub mod auth;
pub mod calendar;
pub mod client;
pub mod config;
pub mod configure;
pub mod deploy;
pub mod errors;
pub mod graphql;
pub mod hooks;
pub mod import;
pub mod judge;
pub mod notify;
pub mod ops;
pub mod origin;
pub mod policy;
pub mod secret_file;
pub mod server;
pub mod ui;
pub mod ws;
