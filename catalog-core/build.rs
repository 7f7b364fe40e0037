//! The rules fingerprint: a hash of this crate's sources and manifest. A graph snapshot is a
//! cache of folding the log under one version of the rules; one written by a catalog whose
//! rules (or snapshot layout) differ in any way is not trusted, and the log is replayed
//! instead. Conservative on purpose: a comment change costs one replay after an upgrade.

use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// FNV-1a, 64 bits: stable across compilers and platforms (std's hasher is not promised to be).
fn fnv(h: &mut u64, bytes: &[u8]) {
    for b in bytes {
        *h ^= u64::from(*b);
        *h = h.wrapping_mul(0x0100_0000_01b3);
    }
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let mut paths = Vec::new();
    files(&root.join("src"), &mut paths);
    paths.push(root.join("Cargo.toml"));
    paths.sort();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in &paths {
        let rel = p.strip_prefix(&root).unwrap_or(p);
        fnv(&mut h, rel.to_string_lossy().as_bytes());
        fnv(&mut h, &[0]);
        fnv(&mut h, &std::fs::read(p).unwrap_or_default());
        fnv(&mut h, &[0]);
    }
    println!("cargo:rustc-env=CATALOG_RULES_FINGERPRINT={h:016x}");
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=Cargo.toml");
}
