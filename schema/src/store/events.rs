//! The event log: append-only, idempotent on each event's natural key, the audit trail and
//! the only source of truth.
//!
//! **Commit order is sequence order.** On PostgreSQL an identity value is handed out at
//! insert, long before commit, so two writers could commit 11 before 10, and a reader that
//! saw 11 could not tell whether 10 was still coming (it used to wait a while for it).
//! Appends therefore take one transaction-scoped advisory lock before they draw a sequence
//! number and hold it to commit (PostgreSQL makes a commit visible before it releases the
//! transaction's locks). Any number below a visible one is then settled: committed and
//! visible, or never coming (a rolled-back append, or a replay's burned value). A reader
//! never waits on a hole, on the primary or on a hot standby (which replays commits in the
//! same order). SQLite has one writer, so it is true there by construction.
//!
//! A commit on PostgreSQL also sends `NOTIFY catalog_events` (delivered at commit), which
//! wakes the graph tailers of every replica on the primary.

use super::{
    time, DbConnection, Durability, NewInboxItem, Store, StoreError, StoreResult, EVENTS_CHANNEL,
};
use crate::schema::{events, inbox};
use crate::time::to_micros;
use catalog_core::event::{Event, ImageRegistered, NewEvent, RecordedEvent};
use catalog_core::EventKind;
use chrono::Utc;
use diesel::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

/// The lock every append takes on PostgreSQL (an arbitrary constant, ours alone).
const ORDER_LOCK: &str = "SELECT pg_advisory_xact_lock(7243311450)";

/// Rows per statement and per transaction of a bulk import (SQLite caps bind parameters per
/// statement: 10 columns x 1,000 rows stays well inside its limit).
const IMPORT_CHUNK: usize = 1000;

/// An event row as stored, its payload not yet parsed: a replay reads these and parses them
/// on other threads while it folds.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = events)]
pub struct RawEvent {
    pub seq: i64,
    pub key: String,
    pub kind: String,
    pub payload: String,
    pub source: String,
    pub actor: String,
    pub occurred_at: i64,
    pub recorded_at: i64,
}

impl RawEvent {
    pub fn parse(self) -> StoreResult<RecordedEvent> {
        let event: Event = serde_json::from_str(&self.payload)
            .map_err(|e| StoreError::Corrupt(format!("event {}: {e}", self.seq)))?;
        Ok(RecordedEvent {
            seq: self.seq,
            key: self.key,
            occurred_at: time(self.occurred_at),
            recorded_at: time(self.recorded_at),
            source: self.source,
            actor: self.actor,
            event,
        })
    }
}

/// The columns an event is indexed by, so a worker can ask the log what it would otherwise
/// need the whole graph for: the image it is about, and the repository.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventIndex<'a> {
    pub image: Option<&'a str>,
    pub registry: Option<&'a str>,
    pub repository: Option<&'a str>,
}

impl<'a> EventIndex<'a> {
    pub fn of(e: &'a Event) -> EventIndex<'a> {
        match e {
            Event::ImageRegistered(r) => EventIndex {
                image: Some(&r.digest),
                registry: Some(&r.registry),
                repository: Some(&r.repository),
            },
            Event::ManifestDeleted {
                registry,
                repository,
                digest,
            } => EventIndex {
                image: Some(digest),
                registry: Some(registry),
                repository: Some(repository),
            },
            Event::TagDeleted {
                registry,
                repository,
                ..
            } => EventIndex {
                image: None,
                registry: Some(registry),
                repository: Some(repository),
            },
            Event::SbomAttached(s) => EventIndex {
                image: Some(&s.image),
                ..EventIndex::default()
            },
            _ => EventIndex::default(),
        }
    }
}

/// An `events` row about to be inserted.
#[derive(Insertable)]
#[diesel(table_name = events)]
struct EventInsert<'a> {
    key: &'a str,
    kind: &'static str,
    payload: String,
    source: &'a str,
    actor: &'a str,
    occurred_at: i64,
    recorded_at: i64,
    image: Option<&'a str>,
    registry: Option<&'a str>,
    repository: Option<&'a str>,
}

impl<'a> EventInsert<'a> {
    fn of(e: &'a NewEvent, now: i64) -> Result<EventInsert<'a>, diesel::result::Error> {
        let payload = serde_json::to_string(&e.event)
            .map_err(|err| diesel::result::Error::SerializationError(Box::new(err)))?;
        let ix = EventIndex::of(&e.event);
        Ok(EventInsert {
            key: &e.key,
            kind: e.event.kind().as_str(),
            payload,
            source: &e.source,
            actor: &e.actor,
            occurred_at: to_micros(e.occurred_at),
            recorded_at: now,
            image: ix.image,
            registry: ix.registry,
            repository: ix.repository,
        })
    }
}

/// Events about to be appended, each with its row, serialized before the write lock is taken:
/// an SBOM event's JSON is hundreds of KB, and on SQLite every webhook acknowledgement waits
/// for the lock.
struct Batch<'a> {
    events: Vec<&'a NewEvent>,
    rows: Vec<EventInsert<'a>>,
}

impl<'a> Batch<'a> {
    fn of(events: impl Iterator<Item = &'a NewEvent>, now: i64) -> StoreResult<Batch<'a>> {
        let events: Vec<&NewEvent> = events.collect();
        let rows = events
            .iter()
            .map(|e| EventInsert::of(e, now))
            .collect::<QueryResult<Vec<_>>>()?;
        Ok(Batch { events, rows })
    }
}

/// Rows per multi-row insert (10 binds a row: far under either dialect's cap).
const INSERT_CHUNK: usize = 500;

macro_rules! append_path {
    (
        $name:ident,
        $Conn:ty,
        $tx:ident,
        postgres: $pg:expr,
        insert_new: |$ic:ident, $rows:ident| $insert_new:expr,
        insert_returning: |$rc:ident, $rrows:ident| $insert_returning:expr
    ) => {
        mod $name {
            use super::*;
            type C = $Conn;

            /// Appends the batch's new events and deletes the inbox items they came from, in
            /// ONE transaction. Returns the events that were new.
            pub(super) fn record(
                c: &mut C,
                inbox_done: &[i64],
                batch: Batch<'_>,
                now: i64,
            ) -> QueryResult<Vec<RecordedEvent>> {
                c.$tx(|c| {
                    let out = append_all(c, batch, now)?;
                    for chunk in inbox_done.chunks(1000) {
                        diesel::delete(inbox::table.filter(inbox::id.eq_any(chunk))).execute(c)?;
                    }
                    Ok(out)
                })
            }

            /// Appends the inbox items a hook accepted and the events complete at intake, in
            /// ONE transaction (the hook's group commit). Returns the events that were new.
            pub(super) fn intake(
                c: &mut C,
                inbox_items: &[NewInboxItem],
                batch: Batch<'_>,
                now: i64,
            ) -> QueryResult<Vec<RecordedEvent>> {
                c.$tx(|c| {
                    // Chunked: SQLite caps bind parameters per statement.
                    for chunk in inbox_items.chunks(1000) {
                        diesel::insert_into(inbox::table).values(chunk).execute(c)?;
                    }
                    append_all(c, batch, now)
                })
            }

            /// Appends every event whose key is new, in the batch's order, under the order
            /// lock (PostgreSQL), and notifies the tailers. Returns the events appended.
            fn append_all(
                c: &mut C,
                batch: Batch<'_>,
                now: i64,
            ) -> QueryResult<Vec<RecordedEvent>> {
                if batch.events.is_empty() {
                    return Ok(Vec::new());
                }
                if $pg {
                    diesel::sql_query(ORDER_LOCK).execute(c)?;
                }
                // A key twice in one call is one event: the first.
                let mut firsts = std::collections::HashSet::new();
                let mut take: Vec<bool> = batch
                    .events
                    .iter()
                    .map(|e| firsts.insert(e.key.as_str()))
                    .collect();
                // A replay is the common duplicate: on PostgreSQL answer it with one read,
                // since `ON CONFLICT DO NOTHING` burns an identity value (a harmless hole, now
                // that holes are settled, but one a reader has to step over). Under the order
                // lock no other append of the same key can slip in between. SQLite's rowid
                // burns nothing, so the insert alone decides there.
                if $pg {
                    let keys: Vec<&str> = batch.events.iter().map(|e| e.key.as_str()).collect();
                    let mut seen = std::collections::HashSet::new();
                    for chunk in keys.chunks(1000) {
                        let found: Vec<String> = events::table
                            .filter(events::key.eq_any(chunk))
                            .select(events::key)
                            .load(c)?;
                        seen.extend(found);
                    }
                    for (t, e) in take.iter_mut().zip(&batch.events) {
                        *t = *t && !seen.contains(&e.key);
                    }
                }
                let (events, rows): (Vec<&NewEvent>, Vec<EventInsert<'_>>) = batch
                    .events
                    .into_iter()
                    .zip(batch.rows)
                    .zip(take)
                    .filter(|(_, t)| *t)
                    .map(|(pair, _)| pair)
                    .unzip();
                let mut seqs: std::collections::HashMap<String, i64> =
                    std::collections::HashMap::with_capacity(rows.len());
                for chunk in rows.chunks(INSERT_CHUNK) {
                    let got: Vec<(i64, String)> = {
                        let ($rc, $rrows) = (&mut *c, chunk);
                        $insert_returning
                    }?;
                    seqs.extend(got.into_iter().map(|(seq, key)| (key, seq)));
                }
                let mut out: Vec<RecordedEvent> = events
                    .into_iter()
                    .filter_map(|e| {
                        seqs.get(&e.key).map(|seq| RecordedEvent {
                            seq: *seq,
                            key: e.key.clone(),
                            occurred_at: e.occurred_at,
                            recorded_at: time(now),
                            source: e.source.clone(),
                            actor: e.actor.clone(),
                            event: e.event.clone(),
                        })
                    })
                    .collect();
                out.sort_by_key(|e| e.seq);
                if $pg {
                    if let Some(last) = out.last() {
                        notify(c, last.seq)?;
                    }
                }
                Ok(out)
            }

            /// Tells the tailers of every replica on the primary that the log grew (a
            /// notification is delivered at commit, never for a rolled-back transaction).
            fn notify(c: &mut C, seq: i64) -> QueryResult<()> {
                diesel::sql_query(format!("NOTIFY {EVENTS_CHANNEL}, '{seq}'")).execute(c)?;
                Ok(())
            }

            /// Appends in transactions of IMPORT_CHUNK, skipping keys already in the log.
            pub(super) fn import(c: &mut C, rows: &[EventInsert<'_>]) -> QueryResult<usize> {
                let mut inserted = 0;
                for rows in rows.chunks(IMPORT_CHUNK) {
                    inserted += c.$tx(|c| {
                        if $pg {
                            diesel::sql_query(ORDER_LOCK).execute(c)?;
                        }
                        let n = {
                            let ($ic, $rows) = (&mut *c, rows);
                            $insert_new
                        }?;
                        if $pg && n > 0 {
                            let last: Option<i64> = events::table
                                .select(diesel::dsl::max(events::seq))
                                .first(c)?;
                            notify(c, last.unwrap_or_default())?;
                        }
                        Ok::<_, diesel::result::Error>(n)
                    })?;
                }
                Ok(inserted)
            }
        }
    };
}

// Many rows in one statement, skipping keys already in the log: `ON CONFLICT DO NOTHING` on
// PostgreSQL, `INSERT OR IGNORE` on SQLite (diesel batches only the latter there).
append_path!(
    pg,
    diesel::PgConnection,
    transaction,
    postgres: true,
    insert_new: |c, rows| diesel::insert_into(events::table)
        .values(rows)
        .on_conflict(events::key)
        .do_nothing()
        .execute(c),
    insert_returning: |c, rows| diesel::insert_into(events::table)
        .values(rows)
        .on_conflict(events::key)
        .do_nothing()
        .returning((events::seq, events::key))
        .get_results::<(i64, String)>(c)
);
append_path!(
    sqlite,
    diesel::SqliteConnection,
    immediate_transaction,
    postgres: false,
    insert_new: |c, rows| diesel::insert_or_ignore_into(events::table)
        .values(rows)
        .execute(c),
    // One statement a row (SQLite batches only `INSERT OR IGNORE`, which returns nothing):
    // in-process, a statement costs microseconds.
    insert_returning: |c, rows| {
        let mut got = Vec::with_capacity(rows.len());
        for row in rows {
            got.extend(
                diesel::insert_into(events::table)
                    .values(row)
                    .on_conflict(events::key)
                    .do_nothing()
                    .returning((events::seq, events::key))
                    .get_result::<(i64, String)>(c)
                    .optional()?,
            );
        }
        Ok::<_, diesel::result::Error>(got)
    }
);

impl Store {
    /// Appends events (idempotent on their key) and removes the inbox items they came from,
    /// in ONE transaction. Returns only the events that were new; a replay returns nothing
    /// and changes nothing.
    pub fn record(
        &self,
        batch: &[(Option<i64>, Vec<NewEvent>)],
    ) -> StoreResult<Vec<RecordedEvent>> {
        self.record_with(batch, Durability::Immediate)
    }

    /// [`Store::record`] with a chosen durability. `Deferred` is for loading from a source
    /// that stays durable elsewhere (a benchmark's generator): on SQLite its commit is not
    /// fsynced. When the inbox is a file of its own (SQLite), the events are committed first,
    /// then the items removed ([`Store::inbox_remove`]); with items to remove the events'
    /// commit is always durable, since a removal must never outlive the events it stands for.
    pub fn record_with(
        &self,
        batch: &[(Option<i64>, Vec<NewEvent>)],
        durability: Durability,
    ) -> StoreResult<Vec<RecordedEvent>> {
        use diesel::connection::SimpleConnection;
        let now = to_micros(Utc::now());
        let done: Vec<i64> = batch.iter().filter_map(|(id, _)| *id).collect();
        let events = Batch::of(batch.iter().flat_map(|(_, events)| events), now)?;
        let apart = self.inbox_apart();
        let recorded = {
            let (_turn, mut conn) = self.writer()?;
            match &mut *conn {
                DbConnection::Postgresql(c) => pg::record(c, &done, events, now)?,
                DbConnection::Sqlite(c) => {
                    // Removals in the inbox's own file must never outlive these events.
                    let removes_apart = apart && !done.is_empty();
                    let relax = durability == Durability::Deferred && !removes_apart;
                    if relax {
                        c.batch_execute("PRAGMA synchronous = NORMAL")?;
                    }
                    let here: &[i64] = if apart { &[] } else { &done };
                    let rows = sqlite::record(c, here, events, now);
                    if relax {
                        c.batch_execute("PRAGMA synchronous = FULL")?;
                    }
                    rows?
                }
            }
        };
        if apart {
            self.inbox_remove(&done)?;
        }
        Ok(recorded)
    }

    /// A hook's group commit: inbox items (to be enriched by a worker) and events complete at
    /// intake (appended to the log at once), durable when it returns. Returns the events that
    /// were new. All or none on PostgreSQL; on SQLite, where the inbox is a file of its own,
    /// the items commit first and then the events: should the second fail, the caller is told
    /// so and retries, and the items it sends again are processed idempotently.
    pub fn intake(
        &self,
        inbox_items: &[NewInboxItem],
        events: &[NewEvent],
    ) -> StoreResult<Vec<RecordedEvent>> {
        if inbox_items.is_empty() && events.is_empty() {
            return Ok(Vec::new());
        }
        let now = to_micros(Utc::now());
        let events = Batch::of(events.iter(), now)?;
        let inbox_items = if self.inbox_apart() {
            self.inbox_append(inbox_items)?;
            if events.events.is_empty() {
                return Ok(Vec::new());
            }
            &[]
        } else {
            inbox_items
        };
        let (_turn, mut conn) = self.writer()?;
        Ok(match &mut *conn {
            DbConnection::Postgresql(c) => pg::intake(c, inbox_items, events, now)?,
            DbConnection::Sqlite(c) => sqlite::intake(c, inbox_items, events, now)?,
        })
    }

    /// Appends to the log in large transactions, for restoring a log or loading a benchmark.
    /// Events keep their order (sequence numbers follow the slice) and are idempotent on their
    /// key like [`Store::record`]. Returns how many were new.
    pub fn import_log(&self, events: &[NewEvent]) -> StoreResult<usize> {
        let now = to_micros(Utc::now());
        let rows = events
            .iter()
            .map(|e| EventInsert::of(e, now))
            .collect::<QueryResult<Vec<_>>>()?;
        let (_turn, mut conn) = self.writer()?;
        Ok(match &mut *conn {
            DbConnection::Postgresql(c) => pg::import(c, &rows)?,
            DbConnection::Sqlite(c) => sqlite::import(c, &rows)?,
        })
    }

    /// Up to `first` events of the log in sequence order after `after`, optionally of one
    /// kind (callers that page ask for one more to learn whether a next page exists).
    pub fn events_page(
        &self,
        first: i64,
        after: i64,
        kind: Option<EventKind>,
    ) -> StoreResult<Vec<RecordedEvent>> {
        let mut conn = self.conn()?;
        let mut q = events::table
            .filter(events::seq.gt(after))
            .order(events::seq.asc())
            .limit(first)
            .select(RawEvent::as_select())
            .into_boxed();
        if let Some(k) = kind {
            q = q.filter(events::kind.eq(k.as_str()));
        }
        q.load::<RawEvent>(&mut *conn)?
            .into_iter()
            .map(RawEvent::parse)
            .collect()
    }

    /// Up to `first` events after `after` of any of `kinds`, in sequence order.
    pub fn events_page_of(
        &self,
        first: i64,
        after: i64,
        kinds: &[EventKind],
    ) -> StoreResult<Vec<RecordedEvent>> {
        let mut conn = self.conn()?;
        events::table
            .filter(events::seq.gt(after))
            .filter(events::kind.eq_any(kinds.iter().map(|k| k.as_str())))
            .order(events::seq.asc())
            .limit(first)
            .select(RawEvent::as_select())
            .load::<RawEvent>(&mut *conn)?
            .into_iter()
            .map(RawEvent::parse)
            .collect()
    }

    /// Up to `last` events of the log before `before` (the newest when `None`), optionally
    /// of one kind, in sequence order: the end of the log, paging backwards.
    pub fn events_page_before(
        &self,
        last: i64,
        before: Option<i64>,
        kind: Option<EventKind>,
    ) -> StoreResult<Vec<RecordedEvent>> {
        let mut conn = self.conn()?;
        let mut q = events::table
            .order(events::seq.desc())
            .limit(last)
            .select(RawEvent::as_select())
            .into_boxed();
        if let Some(b) = before {
            q = q.filter(events::seq.lt(b));
        }
        if let Some(k) = kind {
            q = q.filter(events::kind.eq(k.as_str()));
        }
        let mut page = q
            .load::<RawEvent>(&mut *conn)?
            .into_iter()
            .map(RawEvent::parse)
            .collect::<StoreResult<Vec<_>>>()?;
        page.reverse();
        Ok(page)
    }

    /// How many events the log has of one kind (of every kind when `None`).
    pub fn events_count(&self, kind: Option<EventKind>) -> StoreResult<i64> {
        let mut conn = self.conn()?;
        let mut q = events::table.count().into_boxed();
        if let Some(k) = kind {
            q = q.filter(events::kind.eq(k.as_str()));
        }
        Ok(q.get_result(&mut *conn)?)
    }

    /// Up to `first` events after `after`, unparsed (see [`RawEvent`]).
    pub fn events_raw(&self, first: i64, after: i64) -> StoreResult<Vec<RawEvent>> {
        let mut conn = self.conn()?;
        Ok(events::table
            .filter(events::seq.gt(after))
            .order(events::seq.asc())
            .limit(first)
            .select(RawEvent::as_select())
            .load(&mut *conn)?)
    }

    pub fn event_count(&self) -> StoreResult<i64> {
        let mut conn = self.conn()?;
        Ok(events::table.count().get_result(&mut *conn)?)
    }

    /// The highest sequence number in the log (0 when empty).
    pub fn last_seq(&self) -> StoreResult<i64> {
        let mut conn = self.conn()?;
        let max: Option<i64> = events::table
            .select(diesel::dsl::max(events::seq))
            .first(&mut *conn)?;
        Ok(max.unwrap_or(0))
    }

    pub fn event_by_key(&self, key: &str) -> StoreResult<Option<RecordedEvent>> {
        let mut conn = self.conn()?;
        events::table
            .filter(events::key.eq(key))
            .select(RawEvent::as_select())
            .first::<RawEvent>(&mut *conn)
            .optional()?
            .map(RawEvent::parse)
            .transpose()
    }

    /// The first registration of each of these digests the log holds (what the registry said
    /// about the image then: digests are content addresses, so it never changes).
    pub fn image_registrations(
        &self,
        digests: &[&str],
    ) -> StoreResult<BTreeMap<String, ImageRegistered>> {
        let mut out = BTreeMap::new();
        if digests.is_empty() {
            return Ok(out);
        }
        let mut conn = self.conn()?;
        for chunk in digests.chunks(500) {
            // In log order: the first row of a digest wins.
            let rows: Vec<(i64, String)> = events::table
                .filter(events::image.eq_any(chunk))
                .filter(events::kind.eq(EventKind::ImageRegistered.as_str()))
                .order(events::seq.asc())
                .select((events::seq, events::payload))
                .load(&mut *conn)?;
            for (seq, payload) in rows {
                let event: Event = serde_json::from_str(&payload)
                    .map_err(|e| StoreError::Corrupt(format!("event {seq}: {e}")))?;
                if let Event::ImageRegistered(r) = event {
                    out.entry(r.digest.clone()).or_insert(r);
                }
            }
        }
        Ok(out)
    }

    /// Which of these digests have had an SBOM attached.
    pub fn images_with_sbom(&self, digests: &[&str]) -> StoreResult<BTreeSet<String>> {
        let mut out = BTreeSet::new();
        let mut conn = self.conn()?;
        for chunk in digests.chunks(500) {
            let found: Vec<Option<String>> = events::table
                .filter(events::image.eq_any(chunk))
                .filter(events::kind.eq(EventKind::SbomAttached.as_str()))
                .select(events::image)
                .distinct()
                .load(&mut *conn)?;
            out.extend(found.into_iter().flatten());
        }
        Ok(out)
    }

    /// Repositories of a registry the log has heard of, sorted.
    pub fn repositories(&self, registry: &str) -> StoreResult<Vec<String>> {
        let mut conn = self.conn()?;
        let found: Vec<Option<String>> = events::table
            .filter(events::registry.eq(registry))
            .select(events::repository)
            .distinct()
            .order(events::repository.asc())
            .load(&mut *conn)?;
        Ok(found.into_iter().flatten().collect())
    }

    /// Every push, tag delete and manifest delete of one repository, in log order: what
    /// reconcile folds (with catalog-core's rules) to learn the tags the catalog holds.
    pub fn repository_events(
        &self,
        registry: &str,
        repository: &str,
    ) -> StoreResult<Vec<RecordedEvent>> {
        let mut conn = self.conn()?;
        events::table
            .filter(events::registry.eq(registry))
            .filter(events::repository.eq(repository))
            .order(events::seq.asc())
            .select(RawEvent::as_select())
            .load::<RawEvent>(&mut *conn)?
            .into_iter()
            .map(RawEvent::parse)
            .collect()
    }
}
