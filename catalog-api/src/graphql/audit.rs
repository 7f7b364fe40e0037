//! The event log (the audit trail) and the inbox (what is waiting or parked), from the store.

use super::paging::{CountedConnection, KeyWindow};
use super::{app, blocking, require};
use crate::auth::Scope;
use crate::errors::ApiError;
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

/// A sequence number or inbox id out of a keyed cursor (the machinery made it; a key that
/// is not a number was never handed out).
fn number(arg: &str, key: Option<&str>) -> async_graphql::Result<Option<i64>> {
    key.map(|k| {
        k.parse::<i64>()
            .map_err(|_| ApiError::bad(arg, "is not a cursor of this connection").graphql())
    })
    .transpose()
}

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The event log, oldest first, optionally of one kind: the audit trail. Page forwards
    /// with `first`/`after`, or backwards from the newest with `last`/`before` (a page is in
    /// log order either way).
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "1 + super::listed(first.or(last)) * child_complexity")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        kind: Option<String>,
    ) -> async_graphql::Result<CountedConnection<Event>> {
        let w = KeyWindow::either_way("events", first, after, last, before)?;
        let arg = if w.backwards { "before" } else { "after" };
        let from = number(arg, w.key.as_deref())?;
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
        let (size, backwards) = (w.size as i64 + 1, w.backwards);
        let (rows, total) = blocking(move || {
            let rows = if backwards {
                store.events_page_before(size, from, kind)?
            } else {
                store.events_page(size, from.unwrap_or(0), kind)?
            };
            Ok((rows, store.events_count(kind)?))
        })
        .await?;
        let items = rows
            .into_iter()
            .map(|e| (e.seq.to_string(), Event(e)))
            .collect();
        Ok(w.connection(items, usize::try_from(total).unwrap_or(0)))
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
    ) -> async_graphql::Result<CountedConnection<InboxItem>> {
        let w = KeyWindow::new("inbox", first, after)?;
        let after_id = number("after", w.key.as_deref())?.unwrap_or(0);
        let st = match state {
            InboxState::Pending => StoreInboxState::Pending,
            InboxState::Parked => StoreInboxState::Parked,
        };
        let store = app(ctx)?.store.clone();
        let size = w.size as i64 + 1;
        let (rows, (pending, parked)) =
            blocking(move || Ok((store.inbox_items(st, size, after_id)?, store.inbox_depth()?)))
                .await?;
        let total = match state {
            InboxState::Pending => pending,
            InboxState::Parked => parked,
        };
        let items = rows
            .into_iter()
            .map(|r| (r.id.to_string(), InboxItem::from(r)))
            .collect();
        Ok(w.connection(items, usize::try_from(total).unwrap_or(0)))
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
