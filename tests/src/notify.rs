//! Distribution notifications for benchmarks: images pushed to a real registry, and the
//! notification docker-registry 2.8 would send for each push.

use crate::registry::{http_request, push, ImageSpec, Layout, Registry, MANIFEST_ACCEPT};
use anyhow::{bail, Result};
use serde::Serialize;
use serde_json::{json, Value};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// What a pushed image looks like from a notification's point of view.
pub struct Pushed {
    pub repository: String,
    pub digest: String,
    pub size: usize,
    pub references: Vec<Value>,
}

/// Builds `k` labelled images (`bench/app-<i>`, owner label `team-<i % 3>`) with umoci and
/// pushes them with skopeo.
pub fn build_and_push(registry: &Registry, k: usize) -> Result<Vec<Pushed>> {
    let layout = Layout::new()?;
    let host = registry.host();
    let mut out = Vec::new();
    for k in 0..k {
        let repository = format!("bench/app-{k}");
        let spec = ImageSpec::new(&format!("bench app {k}"))
            .label(
                "org.opencontainers.image.source",
                &format!("https://git.example.com/bench/app-{k}"),
            )
            .label(
                "org.opencontainers.image.revision",
                &format!("{:040x}", 0xbe4c_0000u64 + k as u64),
            )
            .label("org.opencontainers.image.version", "0.0.1")
            .label("org.opencontainers.image.created", "2026-11-20T10:00:00Z")
            .label("dev.catalog.owner", &format!("team-{}", k % 3));
        let tag = format!("app-{k}");
        layout.build(&tag, &spec)?;
        let digest = push(&layout, &tag, &host, &repository, "0.0.1")?;
        let r = http_request(
            "GET",
            &host,
            &format!("/v2/{repository}/manifests/{digest}"),
            &[("Accept", MANIFEST_ACCEPT)],
            b"",
        )?;
        if r.status != 200 {
            bail!("GET manifest {repository}@{digest}: HTTP {}", r.status);
        }
        let m = r.json()?;
        let mut references = vec![m["config"].clone()];
        references.extend(m["layers"].as_array().cloned().unwrap_or_default());
        let references = references
            .into_iter()
            .map(|d| json!({"mediaType": d["mediaType"], "size": d["size"], "digest": d["digest"]}))
            .collect();
        out.push(Pushed {
            repository,
            digest,
            size: r.body.len(),
            references,
        });
    }
    Ok(out)
}

/// A uuid-shaped id, unique per (run, i, salt).
pub fn uuidish(run: u64, i: u64, salt: u64) -> String {
    let a = run ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (a >> 32) as u32,
        (a >> 16) as u16,
        a & 0xfff,
        (i >> 48) & 0xfff,
        i & 0xffff_ffff_ffff
    )
}

/// The notification for push `i`: the shape docker-registry 2.8 sends (see the fixture
/// `distribution-2.8/example-manifest-push-1.0.0.http`), indented the way Go's MarshalIndent does.
pub fn notification(run: u64, i: usize, img: &Pushed, registry_host: &str) -> Result<Vec<u8>> {
    let body = json!({"events": [{
        "id": uuidish(run, i as u64, 1),
        "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
        "action": "push",
        "target": {
            "mediaType": OCI_MANIFEST,
            "size": img.size,
            "digest": img.digest,
            "length": img.size,
            "repository": img.repository,
            "url": format!("http://{registry_host}/v2/{}/manifests/{}", img.repository, img.digest),
            "tag": format!("1.0.{i}"),
            "references": img.references,
        },
        "request": {
            "id": uuidish(run, i as u64, 2),
            "addr": format!("127.0.0.1:{}", 30000 + i % 30000),
            "host": registry_host,
            "method": "PUT",
            "useragent": "skopeo/1.9.3",
        },
        "actor": {},
        "source": {"addr": "bench:5000", "instanceID": uuidish(run, 0, 3)},
    }]});
    let mut buf = Vec::with_capacity(2048);
    let mut ser = serde_json::Serializer::with_formatter(
        &mut buf,
        serde_json::ser::PrettyFormatter::with_indent(b"   "),
    );
    body.serialize(&mut ser)?;
    Ok(buf)
}
