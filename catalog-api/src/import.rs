//! `catalog import`: files into a running catalog, through its hooks (the same validation,
//! the same durable inbox, the same idempotent keys as any other sender).
//!
//! - `import sbom FILE --image DIGEST`: one SBOM document to `/hooks/sbom`.
//! - `import osv PATH`: OSV records from a file, a directory (recursively, `*.json`) or a
//!   `.zip` (as osv.dev publishes them per ecosystem), to `/hooks/osv` in batches.
//! - `import backstage PATH...`: Backstage descriptor files (or directories of `*.yaml`), one
//!   request per file to `/hooks/backstage`, so a refusal names the file.

use crate::client::{self, Failure, Target, REFUSED};
use crate::config::{ImportCommand, ImportTarget};
use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Most bytes of OSV records sent in one request (under the server's default limit).
const BATCH_BYTES: usize = 4 * 1024 * 1024;
/// An OSV zip entry larger than this is refused: no record is near it, and the server would
/// refuse it anyway (`--max-sbom-bytes` defaults to the same).
const ENTRY_BYTES: usize = 32 * 1024 * 1024;
/// All entries of one archive together, since they are held in memory until sent.
const TOTAL_BYTES: usize = 2 * 1024 * 1024 * 1024;

pub fn run(cmd: ImportCommand) -> ExitCode {
    match cmd {
        ImportCommand::Sbom {
            target,
            file,
            image,
        } => client::run(sbom(target, file, image)),
        ImportCommand::Osv { target, path } => client::run(osv(target, path)),
        ImportCommand::Vex {
            target,
            file,
            image,
        } => client::run(vex(target, file, image)),
        ImportCommand::Backstage { target, paths } => client::run(backstage(target, paths)),
    }
}

fn target(t: &ImportTarget) -> Target<'_> {
    Target {
        server: &t.server,
        token: t.token.as_ref(),
        timeout: t.timeout,
    }
}

async fn sbom(t: ImportTarget, file: PathBuf, image: Option<String>) -> Result<String, Failure> {
    let body = std::fs::read(&file)
        .map_err(|e| (REFUSED, format!("cannot read {}: {e}", file.display())))?;
    let path = match &image {
        Some(d) => format!("/hooks/sbom?image={}", d.replace(':', "%3A")),
        None => "/hooks/sbom".to_string(),
    };
    let answer = target(&t)
        .post(&path, "application/json", body, "SBOM")
        .await?;
    let mut msg = format!(
        "attached {} packages to {} ({})",
        answer["packages"].as_u64().unwrap_or(0),
        answer["image"].as_str().unwrap_or("?"),
        file.display()
    );
    for w in answer["warnings"].as_array().into_iter().flatten() {
        msg.push_str(&format!("\nwarning: {}", w.as_str().unwrap_or("")));
    }
    Ok(msg)
}

async fn vex(t: ImportTarget, file: PathBuf, image: Option<String>) -> Result<String, Failure> {
    let body = std::fs::read(&file)
        .map_err(|e| (REFUSED, format!("cannot read {}: {e}", file.display())))?;
    let path = match &image {
        Some(d) => format!("/hooks/vex?image={}", d.replace(':', "%3A")),
        None => "/hooks/vex".to_string(),
    };
    let answer = target(&t)
        .post(&path, "application/json", body, "VEX")
        .await?;
    let mut msg = format!(
        "recorded {} VEX statements ({})",
        answer["statements"].as_u64().unwrap_or(0),
        file.display()
    );
    for w in answer["warnings"].as_array().into_iter().flatten() {
        msg.push_str(&format!("\nwarning: {}", w.as_str().unwrap_or("")));
    }
    Ok(msg)
}

async fn backstage(t: ImportTarget, paths: Vec<PathBuf>) -> Result<String, Failure> {
    let mut files = Vec::new();
    for p in &paths {
        if p.is_dir() {
            files_with(p, &["yaml", "yml"], &mut files)
                .map_err(|e| (REFUSED, format!("cannot read {}: {e}", p.display())))?;
        } else {
            files.push(p.clone());
        }
    }
    if files.is_empty() {
        return Err((
            REFUSED,
            "no descriptor files (*.yaml, *.yml) found".to_string(),
        ));
    }
    let target = target(&t);
    let (mut entities, mut warnings) = (0, Vec::new());
    for f in &files {
        let body =
            std::fs::read(f).map_err(|e| (REFUSED, format!("cannot read {}: {e}", f.display())))?;
        let location = f.display().to_string();
        let path = format!("/hooks/backstage?location={}", encode(&location));
        let answer = target
            .post(&path, "application/yaml", body, "descriptors")
            .await
            .map_err(|(code, msg)| (code, format!("{}: {msg}", f.display())))?;
        entities += answer["accepted"].as_u64().unwrap_or(0);
        for w in answer["warnings"].as_array().into_iter().flatten() {
            warnings.push(format!("{}: {}", f.display(), w.as_str().unwrap_or("")));
        }
    }
    let mut msg = format!("imported {entities} entities from {} files", files.len());
    for w in warnings {
        msg.push_str(&format!("\nwarning: {w}"));
    }
    Ok(msg)
}

/// Percent-encodes a query value (everything but unreserved characters).
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Every `*.json` under a directory, sorted (so a run is repeatable).
fn json_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    files_with(dir, &["json"], out)
}

/// Every file under a directory with one of `extensions`, sorted.
fn files_with(dir: &Path, extensions: &[&str], out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files_with(&p, extensions, out)?;
        } else if p
            .extension()
            .is_some_and(|e| extensions.iter().any(|x| e == *x))
        {
            out.push(p);
        }
    }
    Ok(())
}

/// The records at `path`, each as (where it came from, its JSON).
fn osv_records(path: &Path) -> Result<Vec<(String, Vec<u8>)>, String> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()));
    let mut out = Vec::new();
    if path.is_dir() {
        let mut files = Vec::new();
        json_files(path, &mut files).map_err(|e| format!("cannot list {}: {e}", path.display()))?;
        for f in files {
            out.push((f.display().to_string(), read(&f)?));
        }
    } else if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
    {
        let file = std::fs::File::open(path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        let mut zip = zip::ZipArchive::new(file)
            .map_err(|e| format!("{} is not a readable zip: {e}", path.display()))?;
        let mut total = 0;
        for i in 0..zip.len() {
            let mut f = zip
                .by_index(i)
                .map_err(|e| format!("{}: entry {i}: {e}", path.display()))?;
            if !f.is_file() || !f.name().ends_with(".json") {
                continue;
            }
            let name = format!("{}!{}", path.display(), f.name());
            // The declared size is what the archive claims, not what it holds: it only
            // refuses early, and the read itself is capped.
            if f.size() > ENTRY_BYTES as u64 {
                return Err(over_entry_cap(&name, f.size()));
            }
            let buf = read_capped(&mut f, ENTRY_BYTES).map_err(|e| match e {
                Capped::Over => over_entry_cap(&name, ENTRY_BYTES as u64 + 1),
                Capped::Io(e) => format!("{name}: {e}"),
            })?;
            total += buf.len();
            if total > TOTAL_BYTES {
                return Err(format!(
                    "{}: the entries hold more than {TOTAL_BYTES} bytes uncompressed (the limit \
                     for one archive); split it",
                    path.display()
                ));
            }
            out.push((name, buf));
        }
    } else {
        out.push((path.display().to_string(), read(path)?));
    }
    Ok(out)
}

fn over_entry_cap(name: &str, size: u64) -> String {
    format!(
        "{name} is {size} bytes or more uncompressed; the limit for one entry is {ENTRY_BYTES} \
         bytes (the server's default OSV body limit)"
    )
}

enum Capped {
    Over,
    Io(std::io::Error),
}

/// All of `r` when it holds at most `limit` bytes; the buffer grows with what is read, never
/// with what a header claims.
fn read_capped(r: &mut impl Read, limit: usize) -> Result<Vec<u8>, Capped> {
    let mut buf = Vec::new();
    r.take(limit as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(Capped::Io)?;
    if buf.len() > limit {
        return Err(Capped::Over);
    }
    Ok(buf)
}

async fn osv(t: ImportTarget, path: PathBuf) -> Result<String, Failure> {
    let records = osv_records(&path).map_err(|e| (REFUSED, e))?;
    if records.is_empty() {
        return Err((
            REFUSED,
            format!("no OSV records (*.json) in {}", path.display()),
        ));
    }
    // Each file is checked to be JSON here, so a refused batch can name the file; the server
    // validates the records themselves.
    let mut batch: Vec<Value> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut size = 0;
    let mut sent = 0;
    let mut refused: Vec<String> = Vec::new();
    let target = target(&t);
    let total = records.len();
    for (i, (name, bytes)) in records.into_iter().enumerate() {
        let v: Value = serde_json::from_slice(&bytes)
            .map_err(|e| (REFUSED, format!("{name} is not JSON: {e}")))?;
        size += bytes.len();
        match v {
            Value::Array(list) => {
                names.extend(std::iter::repeat_n(name, list.len()));
                batch.extend(list);
            }
            other => {
                batch.push(other);
                names.push(name);
            }
        }
        if size >= BATCH_BYTES || i + 1 == total {
            let body = serde_json::to_vec(&batch)
                .map_err(|e| (REFUSED, format!("cannot encode a batch: {e}")))?;
            let receipt = target
                .post("/hooks/osv", "application/json", body, "OSV records")
                .await
                .map_err(|(code, msg)| (code, name_record(msg, &names)))?;
            let batch_refused = receipt["refused"].as_array().map_or(&[][..], Vec::as_slice);
            for r in batch_refused {
                refused.push(refusal_line(r, &names));
            }
            sent += batch.len() - batch_refused.len();
            batch.clear();
            names.clear();
            size = 0;
        }
    }
    if !refused.is_empty() {
        // The good records are in; the exit code says that some were not.
        return Err((
            REFUSED,
            format!(
                "imported {sent} OSV records from {}; refused {}:\n{}",
                path.display(),
                refused.len(),
                refused.join("\n")
            ),
        ));
    }
    Ok(format!(
        "imported {sent} OSV records from {}",
        path.display()
    ))
}

/// One refused record of a receipt, as a line: its id, file, field and reason.
fn refusal_line(r: &Value, names: &[String]) -> String {
    let text = |k: &str| r[k].as_str().unwrap_or_default();
    let file = text("record")
        .rsplit_once('[')
        .and_then(|(_, n)| n.trim_end_matches(']').parse::<usize>().ok())
        .and_then(|i| names.get(i))
        .map_or(String::new(), |f| format!(" in {f}"));
    let id = match text("id") {
        "" => "a record without an id".to_string(),
        id => id.to_string(),
    };
    format!("  {id}{file}: {}: {}", text("field"), text("reason"))
}

/// Adds the file name to a refusal that names a record by its index in the batch (`[3].id`).
fn name_record(msg: String, names: &[String]) -> String {
    let idx = msg
        .split_once('[')
        .and_then(|(_, r)| r.split_once(']'))
        .and_then(|(n, _)| n.parse::<usize>().ok());
    match idx.and_then(|i| names.get(i)) {
        Some(file) => format!("{msg} (in {file})"),
        None => msg,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_is_capped_whatever_the_source_holds() {
        let limit = 1024;
        let ok = read_capped(&mut std::io::repeat(b' ').take(limit as u64), limit);
        assert!(matches!(ok, Ok(b) if b.len() == limit));
        // An endless source: refused after limit + 1 bytes, not read to the end.
        let over = read_capped(&mut std::io::repeat(b' '), limit);
        assert!(matches!(over, Err(Capped::Over)));
    }
}
