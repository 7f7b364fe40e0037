//! Snapshots: a catalog restored from one answers exactly as the catalog it was taken of, and
//! keeps folding the log's tail the same way; damaged bytes of any kind are refused, never
//! read, never a panic.

use catalog_core::event::RecordedEvent;
use catalog_core::graph::{SnapshotError, SnapshotInfo, SNAPSHOT_FORMAT};
use catalog_core::Catalog;

/// Folds `events[..split]`, takes a snapshot, restores it, folds the rest into the restored
/// catalog: a start-up from a snapshot taken at `split`.
pub(super) fn through_snapshot(events: &[RecordedEvent], split: usize) -> Catalog {
    let mut head = Catalog::new();
    head.apply_all(&events[..split]);
    let bytes = head.snapshot().expect("snapshot");
    let info = SnapshotInfo::read(&bytes).expect("header");
    assert_eq!(info.seq, head.last_seq());
    assert_eq!(info.format, SNAPSHOT_FORMAT);
    let mut restored = Catalog::from_snapshot(&bytes).expect("restore");
    assert_eq!(restored.last_seq(), head.last_seq());
    restored.verify().expect("restored invariants");
    restored.apply_all(&events[split..]);
    restored.verify().expect("invariants after the tail");
    restored
}

/// Every split point of a history: at the start, inside, at the end.
pub(super) fn splits(n: usize) -> Vec<usize> {
    let mut v = vec![0, 1, n / 3, n / 2, n.saturating_sub(1), n];
    v.retain(|s| *s <= n);
    v.sort();
    v.dedup();
    v
}

/// The shop and store of the graph suite, snapshotted.
fn shop_bytes() -> (Catalog, Vec<u8>) {
    let events: Vec<RecordedEvent> = super::graph::shop()
        .into_iter()
        .chain(super::graph::store())
        .collect();
    let mut c = Catalog::new();
    c.apply_all(&events);
    let bytes = c.snapshot().unwrap();
    (c, bytes)
}

#[test]
fn an_empty_catalog_round_trips() {
    let c = Catalog::new();
    let bytes = c.snapshot().unwrap();
    let r = Catalog::from_snapshot(&bytes).unwrap();
    assert_eq!(r.last_seq(), 0);
    assert_eq!(r.node_count(), 0);
    r.verify().unwrap();
}

#[test]
fn every_damaged_byte_is_refused() {
    let (c, bytes) = shop_bytes();
    assert!(Catalog::from_snapshot(&bytes).is_ok());
    // Every byte of the header and a spread of the payload, each flipped alone.
    let step = (bytes.len() / 2000).max(1);
    let positions = (0..64).chain((64..bytes.len()).step_by(step));
    for at in positions {
        let mut bad = bytes.clone();
        bad[at] ^= 0x5a;
        match Catalog::from_snapshot(&bad) {
            Err(_) => {}
            Ok(_) => panic!("a flipped byte at {at} of {} was accepted", bytes.len()),
        }
    }
    // Payload damage is caught by the checksum, before anything is decoded.
    let mut bad = bytes.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert_eq!(
        Catalog::from_snapshot(&bad).unwrap_err(),
        SnapshotError::Checksum
    );
    assert!(c.node_count() > 0);
}

#[test]
fn truncated_or_padded_snapshots_are_refused() {
    let (_, bytes) = shop_bytes();
    for len in [0, 7, 8, 40, 67, 68, 69, bytes.len() / 2, bytes.len() - 1] {
        let err = Catalog::from_snapshot(&bytes[..len]).unwrap_err();
        assert!(
            matches!(
                err,
                SnapshotError::NotASnapshot(_) | SnapshotError::Truncated { .. }
            ),
            "{len} bytes: {err}"
        );
    }
    let mut long = bytes.clone();
    long.extend_from_slice(b"more");
    assert_eq!(
        Catalog::from_snapshot(&long).unwrap_err(),
        SnapshotError::TrailingBytes(4)
    );
}

#[test]
fn another_format_or_other_rules_are_refused() {
    let (_, bytes) = shop_bytes();
    let mut future = bytes.clone();
    future[8..12].copy_from_slice(&(SNAPSHOT_FORMAT + 1).to_le_bytes());
    assert_eq!(
        Catalog::from_snapshot(&future).unwrap_err(),
        SnapshotError::Format {
            found: SNAPSHOT_FORMAT + 1
        }
    );
    let mut rules = bytes.clone();
    rules[12] ^= 0xff;
    assert!(matches!(
        Catalog::from_snapshot(&rules).unwrap_err(),
        SnapshotError::Rules { .. }
    ));
    let mut magic = bytes;
    magic[0] = b'X';
    assert!(matches!(
        Catalog::from_snapshot(&magic).unwrap_err(),
        SnapshotError::NotASnapshot(_)
    ));
}
