//! Snapshots: the whole catalog (the compact package index included) as bytes, tagged with
//! the log position it covers, so a start-up loads it and replays only the log's tail.
//!
//! Layout, little-endian:
//!
//! ```text
//! magic "CATSNAP\n" | format u32 | rules u64 | seq i64 | payload length u64 | SHA-256 of the
//! payload (32 bytes) | payload (postcard)
//! ```
//!
//! - `format` is this container's version ([`SNAPSHOT_FORMAT`]).
//! - `rules` fingerprints catalog-core's sources (see `build.rs`): a snapshot is a cache of
//!   folding the log under one version of the rules, and a catalog whose rules differ in any
//!   way replays the log instead of trusting it.
//! - Anything unexpected (another format or rules, a short or long payload, a checksum that
//!   does not match, a payload that does not decode) is an error; the caller falls back to a
//!   full replay. Decoding checks the checksum before it reads the payload, so damaged bytes
//!   never reach the decoder.
//!
//! Derived indexes that are cheap to rebuild (interned-entry and digest lookups) and
//! configuration (environments of clusters) are not stored.

use super::Catalog;
use sha2::{Digest, Sha256};

/// The container format this build writes and reads.
pub const SNAPSHOT_FORMAT: u32 = 5;
const MAGIC: &[u8; 8] = b"CATSNAP\n";
const HEADER: usize = 8 + 4 + 8 + 8 + 8 + 32;

/// The fingerprint of the rules this build folds events by.
fn rules() -> u64 {
    u64::from_str_radix(env!("CATALOG_RULES_FINGERPRINT"), 16).unwrap_or(0)
}

/// Why a snapshot cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    #[error("not a catalog snapshot ({0})")]
    NotASnapshot(&'static str),
    #[error("snapshot format {found}, this catalog reads format {SNAPSHOT_FORMAT}")]
    Format { found: u32 },
    #[error("snapshot written under other rules (fingerprint {found:016x}, this catalog's is {ours:016x})")]
    Rules { found: u64, ours: u64 },
    #[error("snapshot truncated: {have} payload bytes of {want}")]
    Truncated { have: u64, want: u64 },
    #[error("snapshot has {0} bytes past its payload")]
    TrailingBytes(u64),
    #[error("snapshot checksum does not match its payload")]
    Checksum,
    #[error("snapshot payload does not decode: {0}")]
    Decode(String),
    #[error("snapshot says log position {header}, its graph {graph}")]
    Seq { header: i64, graph: i64 },
    #[error("cannot encode a snapshot: {0}")]
    Encode(String),
}

/// What a snapshot's header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotInfo {
    pub format: u32,
    pub rules: u64,
    /// The log position it covers.
    pub seq: i64,
    pub payload_bytes: u64,
}

fn read_u32(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

fn read_u64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

impl SnapshotInfo {
    /// Reads a header (without checking the payload).
    pub fn read(bytes: &[u8]) -> Result<SnapshotInfo, SnapshotError> {
        if bytes.len() < HEADER {
            return Err(SnapshotError::NotASnapshot("shorter than its header"));
        }
        if &bytes[..8] != MAGIC {
            return Err(SnapshotError::NotASnapshot("bad magic"));
        }
        Ok(SnapshotInfo {
            format: read_u32(bytes, 8),
            rules: read_u64(bytes, 12),
            seq: read_u64(bytes, 20) as i64,
            payload_bytes: read_u64(bytes, 28),
        })
    }
}

impl Catalog {
    /// The catalog as snapshot bytes, covering the log up to [`Catalog::last_seq`].
    pub fn snapshot(&self) -> Result<Vec<u8>, SnapshotError> {
        // The header's bytes stay zero until the payload behind them is written.
        let mut out = postcard::to_extend(self, vec![0u8; HEADER])
            .map_err(|e| SnapshotError::Encode(e.to_string()))?;
        let payload_len = (out.len() - HEADER) as u64;
        let sum: [u8; 32] = Sha256::digest(&out[HEADER..]).into();
        out[..8].copy_from_slice(MAGIC);
        out[8..12].copy_from_slice(&SNAPSHOT_FORMAT.to_le_bytes());
        out[12..20].copy_from_slice(&rules().to_le_bytes());
        out[20..28].copy_from_slice(&self.last_seq.to_le_bytes());
        out[28..36].copy_from_slice(&payload_len.to_le_bytes());
        out[36..HEADER].copy_from_slice(&sum);
        Ok(out)
    }

    /// Encoded bytes per part of the catalog, for a benchmark's account of where a
    /// snapshot's size goes.
    #[doc(hidden)]
    pub fn snapshot_breakdown(&self) -> Vec<(&'static str, usize)> {
        fn size<T: serde::Serialize>(v: &T) -> usize {
            postcard::to_stdvec(v).map_or(0, |b| b.len())
        }
        let mut parts = vec![
            ("graph", size(&self.graph)),
            ("indexes of nodes by name", {
                size(&self.components)
                    + size(&self.versions)
                    + size(&self.images)
                    + size(&self.teams)
                    + size(&self.applications)
            }),
            ("repositories and tags", size(&self.repos)),
            ("inventory", size(&self.inventory)),
            ("vulnerabilities", size(&self.vulns)),
            ("vex", size(&self.vex)),
            ("search index", size(&self.search)),
            ("declared (descriptors)", size(&self.declared)),
        ];
        parts.extend(self.packages.breakdown());
        parts
    }

    /// A catalog restored from snapshot bytes, exactly as it was when written (configured
    /// cluster environments aside: set them again). Any damage is an error, never a panic.
    pub fn from_snapshot(bytes: &[u8]) -> Result<Catalog, SnapshotError> {
        let info = SnapshotInfo::read(bytes)?;
        if info.format != SNAPSHOT_FORMAT {
            return Err(SnapshotError::Format { found: info.format });
        }
        if info.rules != rules() {
            return Err(SnapshotError::Rules {
                found: info.rules,
                ours: rules(),
            });
        }
        let have = (bytes.len() - HEADER) as u64;
        if have < info.payload_bytes {
            return Err(SnapshotError::Truncated {
                have,
                want: info.payload_bytes,
            });
        }
        if have > info.payload_bytes {
            return Err(SnapshotError::TrailingBytes(have - info.payload_bytes));
        }
        let payload = &bytes[HEADER..];
        let sum: [u8; 32] = Sha256::digest(payload).into();
        if sum[..] != bytes[36..HEADER] {
            return Err(SnapshotError::Checksum);
        }
        let mut c: Catalog =
            postcard::from_bytes(payload).map_err(|e| SnapshotError::Decode(e.to_string()))?;
        if c.last_seq != info.seq {
            return Err(SnapshotError::Seq {
                header: info.seq,
                graph: c.last_seq,
            });
        }
        c.packages.reindex();
        c.index_repos();
        Ok(c)
    }
}

/// Serde glue for the domain types whose serde shape is their JSON one (fields skipped when
/// empty, which a positional format like postcard cannot express): stored as JSON text.
pub(crate) mod as_json {
    use serde::de::DeserializeOwned;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        let text = serde_json::to_string(v).map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }

    pub fn deserialize<'de, T: DeserializeOwned, D: Deserializer<'de>>(
        d: D,
    ) -> Result<T, D::Error> {
        let text = String::deserialize(d)?;
        serde_json::from_str(&text).map_err(serde::de::Error::custom)
    }
}
