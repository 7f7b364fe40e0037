//! Embeds every file under `ui/` into the binary: writes `$OUT_DIR/ui_assets.rs`, one
//! `include_bytes!` per file with its content type, so a new UI module is served without
//! anyone remembering to list it. Browser tests and their node_modules are not in `ui/`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let ui = manifest.join("../ui");
    println!("cargo:rerun-if-changed={}", ui.display());
    let mut files = Vec::new();
    walk(&ui, &ui, &mut files);
    files.sort();
    let mut out = String::from("&[\n");
    for rel in &files {
        let abs = ui.join(rel);
        println!("cargo:rerun-if-changed={}", abs.display());
        let ct = content_type(rel);
        let _ = writeln!(
            out,
            "    Asset {{ path: {rel:?}, content_type: {ct:?}, body: include_bytes!({:?}) }},",
            abs.display().to_string()
        );
    }
    out.push(']');
    let dest = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("ui_assets.rs");
    if let Err(e) = std::fs::write(&dest, out) {
        panic!("cannot write {}: {e}", dest.display());
    }
}

fn walk(root: &Path, dir: &Path, files: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        // Directories are watched too, so adding a file re-runs this script.
        if p.is_dir() {
            println!("cargo:rerun-if-changed={}", p.display());
            walk(root, &p, files);
        } else if let Ok(rel) = p.strip_prefix(root) {
            let rel = rel.to_string_lossy().replace('\\', "/");
            if !rel.ends_with(".md") {
                files.push(rel);
            }
        }
    }
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" => "application/json",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}
