//! Graph snapshots: the in-memory graph as of a log position, as opaque bytes (catalog-core
//! owns the format, its version and checksum). Stored in the database, so a replica on a
//! fresh machine boots from the database alone.
//!
//! A snapshot is written as a header row, then its parts, each in its own short transaction
//! (SQLite has one write lock, and webhook acknowledgements queue behind whoever holds it),
//! then marked complete. Readers only see complete snapshots, so a writer killed half-way
//! leaves the previous snapshot usable; the next write prunes what it left. On PostgreSQL
//! one writer at a time holds an advisory lock; another replica that finds it taken skips
//! its turn.

use super::{time, DbConnection, Store, StoreError, StoreResult};
use crate::schema::{graph_snapshot_parts as parts, graph_snapshots as snaps};
use crate::time::to_micros;
use chrono::{DateTime, Utc};
use diesel::prelude::*;

/// Bytes per part: large enough that a snapshot is a few hundred rows, small enough that
/// one part's transaction holds SQLite's write lock for milliseconds.
const PART_BYTES: usize = 4 << 20;
/// Complete snapshots kept: the newest, and the one before it in case the newest proves
/// unreadable.
const KEEP: usize = 2;
/// The session lock of the one snapshot writer on PostgreSQL (an arbitrary constant).
const WRITER_LOCK: i64 = 7_243_311_451;

/// A complete snapshot's description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotMeta {
    pub id: i64,
    /// The log position it covers: every event up to and including it is folded in.
    pub seq: i64,
    pub bytes: i64,
    pub parts: i32,
    pub created_at: DateTime<Utc>,
}

/// What a snapshot write came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotWrite {
    Written(SnapshotMeta),
    /// Another process holds the writer's lock: it is writing one now.
    Busy,
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    locked: bool,
}

impl Store {
    /// Writes a snapshot of the graph as of `seq`, then prunes all but the newest [`KEEP`]
    /// complete snapshots (and any a killed writer left incomplete).
    pub fn snapshot_write(&self, seq: i64, data: &[u8]) -> StoreResult<SnapshotWrite> {
        let n_parts = data.len().div_ceil(PART_BYTES).max(1);
        let parts_i32 = i32::try_from(n_parts)
            .map_err(|_| StoreError::Corrupt(format!("snapshot of {} bytes", data.len())))?;
        let bytes = i64::try_from(data.len())
            .map_err(|_| StoreError::Corrupt(format!("snapshot of {} bytes", data.len())))?;
        let now = to_micros(Utc::now());
        let header = (
            snaps::seq.eq(seq),
            snaps::bytes.eq(bytes),
            snaps::parts.eq(parts_i32),
            snaps::created_at.eq(now),
            snaps::complete.eq(false),
        );
        let chunks = || {
            data.chunks(PART_BYTES)
                .chain((data.is_empty()).then_some(&[][..]))
        };
        match self.backend() {
            super::Backend::Postgres => {
                // One connection throughout: it holds the writer's session lock.
                let (_turn, mut conn) = self.writer()?;
                let c = &mut *conn;
                let got: Locked = diesel::sql_query(format!(
                    "SELECT pg_try_advisory_lock({WRITER_LOCK}) AS locked"
                ))
                .get_result(c)?;
                if !got.locked {
                    return Ok(SnapshotWrite::Busy);
                }
                let written = (|| -> QueryResult<SnapshotMeta> {
                    let id: i64 = diesel::insert_into(snaps::table)
                        .values(header)
                        .returning(snaps::id)
                        .get_result(c)?;
                    for (i, part) in chunks().enumerate() {
                        diesel::insert_into(parts::table)
                            .values((
                                parts::snapshot.eq(id),
                                parts::part.eq(i as i32),
                                parts::data.eq(part),
                            ))
                            .execute(c)?;
                    }
                    diesel::update(snaps::table.find(id))
                        .set(snaps::complete.eq(true))
                        .execute(c)?;
                    prune(c, id)?;
                    Ok(meta(id, seq, bytes, parts_i32, now))
                })();
                let unlocked = diesel::sql_query(format!(
                    "SELECT pg_advisory_unlock({WRITER_LOCK}) AS locked"
                ))
                .get_result::<Locked>(c);
                let written = written?;
                unlocked?;
                Ok(SnapshotWrite::Written(written))
            }
            super::Backend::Sqlite => {
                // A turn of the write lock per step, so hooks get theirs in between.
                let id: i64 = {
                    let (_turn, mut conn) = self.writer()?;
                    diesel::insert_into(snaps::table)
                        .values(header)
                        .returning(snaps::id)
                        .get_result(&mut *conn)?
                };
                for (i, part) in chunks().enumerate() {
                    let (_turn, mut conn) = self.writer()?;
                    diesel::insert_into(parts::table)
                        .values((
                            parts::snapshot.eq(id),
                            parts::part.eq(i as i32),
                            parts::data.eq(part),
                        ))
                        .execute(&mut *conn)?;
                }
                let (_turn, mut conn) = self.writer()?;
                let marked = diesel::update(snaps::table.find(id))
                    .set(snaps::complete.eq(true))
                    .execute(&mut *conn)?;
                if marked == 0 {
                    return Err(StoreError::Corrupt(format!(
                        "snapshot {id} was pruned while it was being written"
                    )));
                }
                prune(&mut conn, id)?;
                Ok(SnapshotWrite::Written(meta(id, seq, bytes, parts_i32, now)))
            }
        }
    }

    /// Complete snapshots, newest (highest log position) first.
    pub fn snapshots(&self) -> StoreResult<Vec<SnapshotMeta>> {
        let mut conn = self.conn()?;
        let rows: Vec<(i64, i64, i64, i32, i64)> = snaps::table
            .filter(snaps::complete.eq(true))
            .order((snaps::seq.desc(), snaps::id.desc()))
            .select((
                snaps::id,
                snaps::seq,
                snaps::bytes,
                snaps::parts,
                snaps::created_at,
            ))
            .load(&mut *conn)?;
        Ok(rows
            .into_iter()
            .map(|(id, seq, bytes, parts, at)| meta(id, seq, bytes, parts, at))
            .collect())
    }

    /// A snapshot's bytes, its parts concatenated. Fails with [`StoreError::Corrupt`] when a
    /// part is missing or the length is not what the header says; what the bytes say is
    /// catalog-core's to check.
    pub fn snapshot_read(&self, s: &SnapshotMeta) -> StoreResult<Vec<u8>> {
        let mut conn = self.conn()?;
        let mut out = Vec::with_capacity(usize::try_from(s.bytes).unwrap_or(0));
        // Part by part: one result holding every part would double the peak memory.
        for i in 0..s.parts {
            let part: Option<Vec<u8>> = parts::table
                .filter(parts::snapshot.eq(s.id))
                .filter(parts::part.eq(i))
                .select(parts::data)
                .first(&mut *conn)
                .optional()?;
            match part {
                Some(p) => out.extend_from_slice(&p),
                None => {
                    return Err(StoreError::Corrupt(format!(
                        "snapshot {} lacks part {i} of {}",
                        s.id, s.parts
                    )))
                }
            }
        }
        if out.len() as i64 != s.bytes {
            return Err(StoreError::Corrupt(format!(
                "snapshot {} has {} bytes, its header says {}",
                s.id,
                out.len(),
                s.bytes
            )));
        }
        Ok(out)
    }
}

fn meta(id: i64, seq: i64, bytes: i64, parts: i32, created_at: i64) -> SnapshotMeta {
    SnapshotMeta {
        id,
        seq,
        bytes,
        parts,
        created_at: time(created_at),
    }
}

/// Keeps the newest KEEP complete snapshots (by id, the order they completed in, at or below
/// `newest`) and drops everything older, complete or abandoned by a killed writer.
fn prune(c: &mut DbConnection, newest: i64) -> QueryResult<()> {
    let kept: Vec<i64> = snaps::table
        .filter(snaps::complete.eq(true))
        .filter(snaps::id.le(newest))
        .order(snaps::id.desc())
        .limit(KEEP as i64)
        .select(snaps::id)
        .load(c)?;
    let Some(oldest_kept) = kept.last().copied() else {
        return Ok(());
    };
    let doomed = snaps::table
        .filter(
            snaps::id
                .lt(oldest_kept)
                .or(snaps::complete.eq(false).and(snaps::id.lt(newest))),
        )
        .select(snaps::id);
    diesel::delete(parts::table.filter(parts::snapshot.eq_any(doomed))).execute(c)?;
    diesel::delete(
        snaps::table.filter(
            snaps::id
                .lt(oldest_kept)
                .or(snaps::complete.eq(false).and(snaps::id.lt(newest))),
        ),
    )
    .execute(c)?;
    Ok(())
}
