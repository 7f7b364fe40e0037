//! The event log (the audit trail) and the inbox (what is waiting or parked), from the store.

use super::{app, blocking, page_size, require};
use crate::auth::Scope;
use crate::errors::ApiError;
use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, Enum, Json, Object, SimpleObject, ID};
use catalog_core::event::{EventKind, RecordedEvent};
use catalog_schema::{from_micros, InboxItem as Row, InboxState as StoreInboxState};
use chrono::{DateTime, Utc};

/// One entry of the event log: what changed, when, from which source, reported by whom.
pub struct Event(RecordedEvent);

#[Object]
impl Event {
    /// Position in the log; strictly increasing.
    async fn seq(&self) -> String {
        self.0.seq.to_string()
    }
    /// The natural key that makes the event idempotent (e.g. `distribution:<event id>`).
    async fn key(&self) -> &str {
        &self.0.key
    }
    /// `image.registered`, `tag.deleted`, `manifest.deleted`, `owner.set`.
    async fn kind(&self) -> &str {
        self.0.event.kind().as_str()
    }
    /// When it happened at the source.
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
    /// When the catalog recorded it.
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.recorded_at
    }
    /// `distribution`, `reconcile`, `api`.
    async fn source(&self) -> &str {
        &self.0.source
    }
    /// The user agent, token name or process that caused it.
    async fn actor(&self) -> &str {
        &self.0.actor
    }
    /// What it touched, each as `kind:name` (as `catalogChanged` reports them).
    async fn subjects(&self) -> Vec<String> {
        super::live::describe(&self.0.event).0
    }
    /// One line for a feed, e.g. `shop/cart 1.2.0 pushed to registry/shop/cart:1.2.0`.
    async fn summary(&self) -> String {
        super::live::describe(&self.0.event).1
    }
    /// The event itself, as recorded.
    async fn payload(&self) -> Json<serde_json::Value> {
        Json(serde_json::to_value(&self.0.event).unwrap_or_default())
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum InboxState {
    /// Waiting to be processed (including failed items waiting for their retry).
    Pending,
    /// Failed too often; kept with its error until an admin retries it.
    Parked,
}

/// An item received but not yet turned into events.
#[derive(SimpleObject)]
pub struct InboxItem {
    pub id: ID,
    pub source: String,
    /// The validated item as received.
    pub body: Json<serde_json::Value>,
    pub received_at: DateTime<Utc>,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub state: InboxState,
}

impl From<Row> for InboxItem {
    fn from(r: Row) -> InboxItem {
        InboxItem {
            id: ID(r.id.to_string()),
            source: r.source,
            body: Json(serde_json::from_str(&r.body).unwrap_or(serde_json::Value::String(r.body))),
            received_at: from_micros(r.received_at),
            attempts: r.attempts,
            next_attempt_at: from_micros(r.next_attempt_at),
            last_error: r.last_error,
            state: if r.state == "parked" {
                InboxState::Parked
            } else {
                InboxState::Pending
            },
        }
    }
}

fn cursor(field: &str, after: Option<String>) -> async_graphql::Result<i64> {
    match after {
        None => Ok(0),
        Some(a) => a.parse::<i64>().map_err(|_| {
            ApiError::bad(field, format!("{a:?} is not a cursor from this list")).graphql()
        }),
    }
}

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The event log, oldest first, optionally of one kind: the audit trail.
    #[graphql(complexity = "1 + super::listed(first) * child_complexity")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        kind: Option<String>,
    ) -> async_graphql::Result<Connection<String, Event, EmptyFields, EmptyFields>> {
        let first = page_size(first)? as i64;
        let after_seq = cursor("after", after)?;
        let kind = match &kind {
            Some(k) => Some(EventKind::parse(k).ok_or_else(|| {
                let known: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
                ApiError::bad(
                    "kind",
                    format!("unknown kind {k:?}; one of {}", known.join(", ")),
                )
                .graphql()
            })?),
            None => None,
        };
        let store = app(ctx)?.store.clone();
        let mut rows = blocking(move || store.events_page(first + 1, after_seq, kind)).await?;
        let has_next = rows.len() as i64 > first;
        rows.truncate(first as usize);
        let mut conn = Connection::new(after_seq > 0, has_next);
        conn.edges.extend(
            rows.into_iter()
                .map(|e| Edge::new(e.seq.to_string(), Event(e))),
        );
        Ok(conn)
    }

    /// Total events in the log.
    async fn event_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        let store = app(ctx)?.store.clone();
        blocking(move || store.event_count()).await
    }

    /// Inbox items in a state (parked by default), oldest first.
    #[graphql(complexity = "1 + super::listed(first) * child_complexity")]
    async fn inbox(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "InboxState::Parked")] state: InboxState,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, InboxItem, EmptyFields, EmptyFields>> {
        let first = page_size(first)? as i64;
        let after_id = cursor("after", after)?;
        let st = match state {
            InboxState::Pending => StoreInboxState::Pending,
            InboxState::Parked => StoreInboxState::Parked,
        };
        let store = app(ctx)?.store.clone();
        let mut rows = blocking(move || store.inbox_items(st, first + 1, after_id)).await?;
        let has_next = rows.len() as i64 > first;
        rows.truncate(first as usize);
        let mut conn = Connection::new(after_id > 0, has_next);
        conn.edges.extend(
            rows.into_iter()
                .map(|r| Edge::new(r.id.to_string(), InboxItem::from(r))),
        );
        Ok(conn)
    }
}

#[derive(Default)]
pub struct AuditMutation;

#[Object]
impl AuditMutation {
    /// Puts a parked inbox item back in the queue (admin scope). False when no parked item
    /// has that id.
    async fn retry_inbox_item(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<bool> {
        require(ctx, Scope::Admin)?;
        let id: i64 = id
            .parse()
            .map_err(|_| ApiError::bad("id", "not an inbox item id").graphql())?;
        let a = app(ctx)?;
        let store = a.store.clone();
        let ok = blocking(move || store.inbox_retry(id, Utc::now().timestamp_micros())).await?;
        Ok(ok)
    }
}
