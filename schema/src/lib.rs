//! Every contract of the catalog: the diesel migrations (SQLite and PostgreSQL), the diesel
//! schema, row models, and the [`Store`], the only code that speaks SQL. `catalog.graphql`,
//! the committed GraphQL SDL, lives beside this crate's sources.

pub mod schema;
mod store;
mod time;

pub use store::{
    Access, Backend, DbConnection, Durability, EventIndex, EventListener, InboxItem, InboxState,
    Leader, NewInboxItem, NewOutboxRow, OutboxBatch, OutboxRow, OutboxState, RawEvent,
    SnapshotMeta, SnapshotWrite, Store, StoreError, StoreResult, Token, EVENTS_CHANNEL,
};
pub use time::{from_micros, to_micros};

/// The committed GraphQL SDL; catalog-api's test fails when the running schema drifts from it.
pub const GRAPHQL_SDL: &str = include_str!("../catalog.graphql");
