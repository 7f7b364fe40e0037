//! The generic deployment hook (`POST /hooks/deployments`): what CI pipelines, scripts and
//! `catalog deploy` send. One deployment object, or `{"deployments": [...]}` with up to
//! [`MAX_ENTRIES`]. Each becomes one `deployment.observed` record; one bad entry rejects the
//! whole request, so nothing is half-written. Unknown fields are ignored.
//!
//! Progressive delivery: `traffic` (0-100) is the share of the workload's traffic what it
//! names receives. With `stable` (`{"version", "image"}`, of the same component), the report
//! is a canary step: what it names is the canary at `traffic`%, and the stable version takes
//! the rest. Without, it is the workload's share, as a blue/green color's 100 (live) or 0
//! (idle).

use super::json::{kind, parse_body, Obj};
use super::{key_time, parse_image, sha256_hex, url, valid_name, HookContext, Parsed};
use crate::item::{FieldError, InboxBody};
use catalog_core::deployment::{DeploymentObserved, DeploymentStatus, ImageRef, Run, Track};
use catalog_core::Event;
use serde_json::Value;

/// The most deployments one request may carry.
pub const MAX_ENTRIES: usize = 1000;

/// The `source` recorded when the payload names none.
pub const DEFAULT_SOURCE: &str = "api";

/// Sources that belong to the other deployment hooks; a generic payload may not claim them.
const RESERVED_SOURCES: [&str; 3] = ["argocd", "flux", "kubernetes"];

/// Parses a generic deployment payload into `deployment.observed` records.
pub fn parse(body: &[u8], ctx: &HookContext<'_>) -> Result<Parsed, FieldError> {
    let v = parse_body(body)?;
    let top = Obj::new(&v, "")?;
    let mut out = Parsed::default();
    // `{"deployments": ...}` is the envelope whenever the key is there, even as `null`, so a
    // misspelt envelope fails on `deployments` rather than on a missing `namespace`.
    match &v {
        Value::Object(map) if map.contains_key("deployments") => {
            let entries = match &map["deployments"] {
                Value::Array(a) => a,
                other => {
                    return Err(FieldError::new(
                        "deployments",
                        format!("expected an array, got {}", kind(other)),
                    ))
                }
            };
            if entries.len() > MAX_ENTRIES {
                return Err(FieldError::new(
                    "deployments",
                    format!(
                        "{} entries: at most {MAX_ENTRIES} per request",
                        entries.len()
                    ),
                ));
            }
            for (i, e) in entries.iter().enumerate() {
                let o = Obj::new(e, format!("deployments[{i}]"))?;
                out.items.push(entry(&o, ctx)?);
            }
        }
        _ => out.items.push(entry(&top, ctx)?),
    }
    Ok(out)
}

fn entry(o: &Obj<'_>, ctx: &HookContext<'_>) -> Result<InboxBody, FieldError> {
    let id = o.name("id")?;
    let source = match o.str("source")? {
        None => DEFAULT_SOURCE,
        Some(s) if RESERVED_SOURCES.contains(&s) => {
            return Err(FieldError::new(
                o.field("source"),
                format!("{s:?} is reserved for the /hooks/{s} hook"),
            ))
        }
        Some(s) if valid_source(s) => s,
        Some(s) => {
            let why = "lowercase letters, digits, '.', '_' and '-'; at most 63";
            return Err(FieldError::new(
                o.field("source"),
                format!("{s:?} is not a source name ({why})"),
            ));
        }
    };
    let cluster = match ctx.cluster()? {
        Some(c) => c,
        None => o
            .name("cluster")?
            .ok_or_else(|| FieldError::new(o.field("cluster"), "missing (or pass ?cluster=)"))?,
    };
    let namespace = o
        .name("namespace")?
        .ok_or_else(|| FieldError::new(o.field("namespace"), "missing"))?;
    let environment = match o.name("environment")? {
        Some(e) => Some(e),
        None => ctx.environment()?,
    };
    let status = match o.str("status")? {
        None => DeploymentStatus::Healthy,
        Some(s) => DeploymentStatus::parse(s).ok_or_else(|| {
            FieldError::new(
                o.field("status"),
                format!(
                    "{s:?} is not a status: expected one of {}",
                    allowed_statuses()
                ),
            )
        })?,
    };
    let replicas = match o.value("replicas") {
        None => None,
        Some(v) => Some(
            v.as_u64()
                .and_then(|n| i32::try_from(n).ok())
                .ok_or_else(|| {
                    FieldError::new(
                        o.field("replicas"),
                        format!("expected a non-negative integer, got {v}"),
                    )
                })?,
        ),
    };
    let at = o.time("at")?.unwrap_or_else(|| ctx.default_time());
    let component = o.name("component")?;
    let version = o.name("version")?;
    let revision = o.name("revision")?;
    let url = url(o)?;
    let images = images(o)?;

    if version.is_some() && component.is_none() && images.is_empty() {
        return Err(FieldError::new(
            o.field("version"),
            "a version needs a component (or an image) to be a version of",
        ));
    }
    if status != DeploymentStatus::Removed && component.is_none() && images.is_empty() {
        return Err(FieldError::new(
            o.field("component"),
            "missing: name a component (with its version) or an image, or both",
        ));
    }
    let workload = match o.name("workload")? {
        Some(w) => w.to_string(),
        None => component
            .and_then(last_segment)
            .or_else(|| {
                images
                    .first()
                    .and_then(|(_, img)| last_segment(&img.repository))
            })
            .map(str::to_string)
            .ok_or_else(|| {
                FieldError::new(
                    o.field("workload"),
                    "missing (and no component or image to name it after)",
                )
            })?,
    };

    // A component (and version) describes the first image; without images it stands alone.
    let mut runs: Vec<Run> = if images.is_empty() {
        component
            .map(|c| Run {
                container: None,
                image: None,
                component: Some(c.to_string()),
                version: version.map(str::to_string),
                traffic: None,
                track: None,
            })
            .into_iter()
            .collect()
    } else {
        images
            .into_iter()
            .enumerate()
            .map(|(i, (container, image))| Run {
                container,
                image: Some(image),
                component: component.filter(|_| i == 0).map(str::to_string),
                version: version.filter(|_| i == 0).map(str::to_string),
                traffic: None,
                track: None,
            })
            .collect()
    };
    let traffic = o.percent("traffic")?;
    if let Some(st) = o.obj("stable")? {
        let Some(canary_share) = traffic else {
            return Err(FieldError::new(
                o.field("traffic"),
                "missing: a canary step (with `stable`) needs the canary's share, 0 to 100",
            ));
        };
        let stable_version = st.name("version")?;
        let stable_image = match st.str("image")? {
            Some(s) => Some(parse_image(s, st.field("image"))?),
            None => None,
        };
        if stable_version.is_none() && stable_image.is_none() {
            return Err(FieldError::new(
                st.field("version"),
                "missing: name the stable version, its image, or both",
            ));
        }
        if stable_version.is_some() && component.is_none() {
            return Err(FieldError::new(
                o.field("component"),
                "missing: a stable version is a version of the canary's component",
            ));
        }
        for r in &mut runs {
            r.track = Some(Track::Canary);
            r.traffic = Some(canary_share);
        }
        runs.push(Run {
            container: None,
            image: stable_image,
            component: stable_version.and(component).map(str::to_string),
            version: stable_version.map(str::to_string),
            traffic: Some(100 - canary_share),
            track: Some(Track::Stable),
        });
    } else if let Some(share) = traffic {
        for r in &mut runs {
            r.traffic = Some(share);
        }
    }
    if status == DeploymentStatus::Removed {
        runs.clear();
    }

    let observed = DeploymentObserved {
        cluster: cluster.to_string(),
        namespace: namespace.to_string(),
        workload,
        environment: environment.map(str::to_string),
        status,
        replicas,
        runs,
        revision: revision.map(str::to_string),
        url: url.map(str::to_string),
    };
    let key = match id {
        Some(id) => format!("deployments:{id}"),
        None => {
            let json = serde_json::to_vec(&observed)
                .map_err(|e| FieldError::new(o.field("id"), format!("cannot derive a key: {e}")))?;
            format!(
                "deployments:{}",
                sha256_hex(&[&json, b"\n", key_time(at).as_bytes()])
            )
        }
    };
    Ok(ctx.record(key, at, source, Event::DeploymentObserved(observed)))
}

/// `image` (one reference) then `images` (references, or `{"container", "image"}` objects).
fn images(o: &Obj<'_>) -> Result<Vec<(Option<String>, ImageRef)>, FieldError> {
    let mut out = Vec::new();
    if let Some(s) = o.str("image")? {
        out.push((None, parse_image(s, o.field("image"))?));
    }
    let field = o.field("images");
    for (i, item) in o.arr("images")?.unwrap_or_default().iter().enumerate() {
        let at = format!("{field}[{i}]");
        match item {
            Value::String(s) => out.push((None, parse_image(s, at)?)),
            Value::Object(_) => {
                let e = Obj::new(item, at)?;
                let image = parse_image(e.req_str("image")?, e.field("image"))?;
                out.push((e.name("container")?.map(str::to_string), image));
            }
            other => {
                return Err(FieldError::new(
                    at,
                    format!(
                        "expected an image reference or {{\"container\", \"image\"}}, got {}",
                        kind(other)
                    ),
                ))
            }
        }
    }
    Ok(out)
}

fn allowed_statuses() -> String {
    DeploymentStatus::ALL
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join("|")
}

fn last_segment(path: &str) -> Option<&str> {
    path.rsplit('/').next().filter(|s| valid_name(s))
}

fn valid_source(s: &str) -> bool {
    s.len() <= 63
        && s.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && s.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hooks::testing::{component_run, ctx, image, image_run, observed, record, time};
    use crate::item::Record;

    const SINGLE: &str = include_str!("../../fixtures/deployments/single.json");
    const BATCH: &str = include_str!("../../fixtures/deployments/batch.json");

    fn err(body: &str) -> FieldError {
        parse(body.as_bytes(), &ctx()).unwrap_err()
    }

    fn keys(p: &Parsed) -> Vec<&str> {
        p.items.iter().map(|i| i.key()).collect()
    }

    #[test]
    fn one_object_is_one_record() {
        let p = parse(SINGLE.as_bytes(), &ctx()).unwrap();
        assert_eq!(p.ignored, 0);
        assert_eq!(
            p.items,
            vec![InboxBody::Record(Record {
                key: "deployments:gha-run-8812734-attempt-1".into(),
                occurred_at: time("2026-11-20T10:04:31Z"),
                source: "cli".into(),
                actor: "ci-token".into(),
                event: Event::DeploymentObserved(DeploymentObserved {
                    cluster: "prod-eu-1".into(),
                    namespace: "payments".into(),
                    workload: "cart".into(),
                    environment: Some("prod".into()),
                    status: DeploymentStatus::Healthy,
                    replicas: Some(3),
                    runs: vec![Run {
                        container: None,
                        image: Some(image("ghcr.io/acme/cart:1.4.2@sha256:5c051d0a0c19b6688625ea0840c75f36cec1b88550c0dceff22bb146138164a0")),
                        component: Some("shop/cart".into()),
                        version: Some("1.4.2".into()),
                     traffic: None, track: None,}],
                    revision: Some("9f2c4e1b7a3d5f6e8c0b2a4d6f8e0c2b4a6d8f0e".into()),
                    url: Some("https://github.com/acme/shop/actions/runs/8812734".into()),
                }),
            })]
        );
    }

    #[test]
    fn a_batch_is_one_record_per_entry() {
        let p = parse(BATCH.as_bytes(), &ctx()).unwrap();
        assert_eq!(p.items.len(), 4);
        for item in &p.items {
            let r = record(item);
            assert_eq!(r.source, "api");
            assert_eq!(r.actor, "ci-token");
            let hash = r.key.strip_prefix("deployments:").unwrap();
            assert_eq!(hash.len(), 64);
            assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()));
        }

        // Several images and a component: the component describes the first.
        assert_eq!(
            record(&p.items[0]).occurred_at,
            time("2026-11-20T10:01:00Z")
        );
        assert_eq!(
            observed(&p.items[0]),
            &DeploymentObserved {
                cluster: "prod-eu-1".into(),
                namespace: "payments".into(),
                workload: "cart".into(),
                environment: Some("prod".into()),
                status: DeploymentStatus::Progressing,
                replicas: Some(4),
                runs: vec![
                    Run {
                        container: Some("cart".into()),
                        image: Some(image("ghcr.io/acme/cart:1.4.2")),
                        component: Some("shop/cart".into()),
                        version: Some("1.4.2".into()),
                        traffic: None,
                        track: None,
                    },
                    image_run(Some("envoy"), "docker.io/envoyproxy/envoy:v1.31.2"),
                ],
                revision: None,
                url: None,
            }
        );

        // A component alone names the workload after its last path segment; times to UTC.
        assert_eq!(
            record(&p.items[1]).occurred_at,
            time("2026-11-20T09:01:05Z")
        );
        assert_eq!(
            observed(&p.items[1]),
            &DeploymentObserved {
                cluster: "prod-eu-1".into(),
                namespace: "search".into(),
                workload: "indexer".into(),
                environment: None,
                status: DeploymentStatus::Healthy,
                replicas: None,
                runs: vec![component_run("search/indexer", Some("2026.11.3"))],
                revision: None,
                url: None,
            }
        );

        // A removal needs nothing running.
        let removed = observed(&p.items[2]);
        assert_eq!(removed.status, DeploymentStatus::Removed);
        assert_eq!(removed.workload, "reports");
        assert!(removed.runs.is_empty());

        // Plain image strings; the workload is named after the first image; no `at`: the
        // receive time.
        assert_eq!(
            record(&p.items[3]).occurred_at,
            time(crate::hooks::testing::RECEIVED)
        );
        assert_eq!(
            observed(&p.items[3]),
            &DeploymentObserved {
                cluster: "staging-eu-1".into(),
                namespace: "tools".into(),
                workload: "nginx".into(),
                environment: None,
                status: DeploymentStatus::RolledBack,
                replicas: None,
                runs: vec![
                    image_run(None, "docker.io/library/nginx:1.27-alpine"),
                    image_run(None, "localhost:5000/tools/debug@sha256:2e7d2c03a9507ae265ecf5b5356885a53393a2029d241394997265a1a25aefc6"),
                ],
                revision: None,
                url: None,
            }
        );
    }

    #[test]
    fn query_parameters_override_and_fill_in() {
        let mut c = ctx();
        c.cluster = Some("prod-eu-2");
        c.environment = Some("production");
        c.at = Some(time("2026-11-20T12:00:00Z"));
        let p = parse(BATCH.as_bytes(), &c).unwrap();
        // ?cluster= overrides the payload's.
        assert!(p.items.iter().all(|i| observed(i).cluster == "prod-eu-2"));
        // ?environment= fills in, never overrides.
        assert_eq!(observed(&p.items[0]).environment.as_deref(), Some("prod"));
        assert_eq!(
            observed(&p.items[1]).environment.as_deref(),
            Some("production")
        );
        // ?at= fills in, never overrides.
        assert_eq!(
            record(&p.items[0]).occurred_at,
            time("2026-11-20T10:01:00Z")
        );
        assert_eq!(
            record(&p.items[3]).occurred_at,
            time("2026-11-20T12:00:00Z")
        );

        // Without a cluster in the payload, ?cluster= is enough.
        let body = r#"{"namespace":"payments","component":"shop/cart","version":"1.4.2"}"#;
        let p = parse(body.as_bytes(), &c).unwrap();
        assert_eq!(observed(&p.items[0]).cluster, "prod-eu-2");
        assert_eq!(err(body).field, "cluster");
    }

    #[test]
    fn replays_keep_their_keys_and_different_events_differ() {
        let a = parse(BATCH.as_bytes(), &ctx()).unwrap();
        let b = parse(BATCH.as_bytes(), &ctx()).unwrap();
        assert_eq!(keys(&a), keys(&b));
        let mut distinct = keys(&a);
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 4);

        // An explicit `at` makes a replay received later the same event ...
        let mut later = ctx();
        later.received_at = time("2026-11-22T08:00:00Z");
        let c = parse(BATCH.as_bytes(), &later).unwrap();
        assert_eq!(keys(&a)[..3], keys(&c)[..3]);
        // ... and without one (nor an id) each delivery is its own observation.
        assert_ne!(keys(&a)[3], keys(&c)[3]);
        // With ?at= it is the same again.
        let mut pinned = ctx();
        pinned.at = Some(time("2026-11-20T12:00:00Z"));
        later.at = pinned.at;
        assert_eq!(
            keys(&parse(BATCH.as_bytes(), &pinned).unwrap()),
            keys(&parse(BATCH.as_bytes(), &later).unwrap())
        );

        // Another version, status or time is another event.
        for changed in [
            BATCH.replace("\"2026.11.3\"", "\"2026.11.4\""),
            BATCH.replace("\"progressing\"", "\"healthy\""),
            BATCH.replace("10:01:00Z", "10:01:01Z"),
        ] {
            let d = parse(changed.as_bytes(), &ctx()).unwrap();
            assert_ne!(keys(&a), keys(&d), "{changed}");
        }

        // An id is the key, whatever the content.
        let same_id = SINGLE.replace("\"1.4.2\",", "\"1.4.3\",");
        assert_eq!(
            keys(&parse(same_id.as_bytes(), &ctx()).unwrap()),
            ["deployments:gha-run-8812734-attempt-1"]
        );
    }

    #[test]
    fn statuses_parse_leniently_and_errors_list_them() {
        for (given, want) in [
            ("rolled_back", DeploymentStatus::RolledBack),
            ("Rolled-Back", DeploymentStatus::RolledBack),
            ("FAILED", DeploymentStatus::Failed),
            ("degraded", DeploymentStatus::Degraded),
        ] {
            let body = SINGLE.replace("\"healthy\"", &format!("{given:?}"));
            let p = parse(body.as_bytes(), &ctx()).unwrap();
            assert_eq!(observed(&p.items[0]).status, want);
        }
        let e = err(&SINGLE.replace("\"healthy\"", "\"deployed\""));
        assert_eq!(e.field, "status");
        assert_eq!(
            e.reason,
            "\"deployed\" is not a status: expected one of progressing|healthy|degraded|failed|rolled_back|removed"
        );
    }

    #[test]
    fn errors_name_the_field() {
        let single = |from: &str, to: &str| {
            assert!(SINGLE.contains(from), "{from}");
            err(&SINGLE.replace(from, to)).field
        };
        let batch = |from: &str, to: &str| {
            assert!(BATCH.contains(from), "{from}");
            err(&BATCH.replacen(from, to, 1)).field
        };
        assert_eq!(err("{\"cluster\": ").field, "body");
        assert_eq!(err("[1, 2]").field, "body");
        assert_eq!(err("\"deploy\"").field, "body");
        // Missing required fields.
        assert_eq!(single("\"namespace\": \"payments\",", ""), "namespace");
        assert_eq!(single("\"cluster\": \"prod-eu-1\",", ""), "cluster");
        assert_eq!(
            batch("\"namespace\": \"search\",", ""),
            "deployments[1].namespace"
        );
        // Wrong types.
        assert_eq!(single("\"prod-eu-1\"", "5"), "cluster");
        assert_eq!(single("\"replicas\": 3", "\"replicas\": \"3\""), "replicas");
        assert_eq!(single("\"replicas\": 3", "\"replicas\": -1"), "replicas");
        assert_eq!(single("\"replicas\": 3", "\"replicas\": 1.5"), "replicas");
        assert_eq!(
            single("\"status\": \"healthy\"", "\"status\": true"),
            "status"
        );
        assert_eq!(single("\"image\": ", "\"images\": "), "images");
        assert_eq!(
            batch("\"nginx:1.27-alpine\"", "7"),
            "deployments[3].images[0]"
        );
        assert_eq!(
            batch("{\"container\": \"envoy\", ", "{\"container\": 1, "),
            "deployments[0].images[1].container"
        );
        assert_eq!(
            batch("\"deployments\": [", "\"deployments\": {\"a\": ["),
            "body"
        );
        assert_eq!(err("{\"deployments\": {}}").field, "deployments");
        assert_eq!(err("{\"deployments\": null}").field, "deployments");
        assert_eq!(err("{\"deployments\": [3]}").field, "deployments[0]");
        // Bad values.
        assert_eq!(
            single("ghcr.io/acme/cart:1.4.2@", "ghcr.io/Acme/cart:1.4.2@"),
            "image"
        );
        assert_eq!(single("@sha256:5c05", "@sha256:XX05"), "image");
        assert_eq!(
            batch("ghcr.io/acme/cart:1.4.2\"}", "ghcr.io/acme/cart:-bad\"}"),
            "deployments[0].images[0].image"
        );
        assert_eq!(
            batch(
                "{\"container\": \"cart\", \"image\": \"ghcr.io/acme/cart:1.4.2\"}",
                "{\"container\": \"cart\"}"
            ),
            "deployments[0].images[0].image"
        );
        assert_eq!(single("2026-11-20T10:04:31Z", "2026-11-20 10:04"), "at");
        assert_eq!(
            single(
                "\"namespace\": \"payments\"",
                "\"namespace\": \"pay ments\""
            ),
            "namespace"
        );
        assert_eq!(
            single("\"id\": \"gha-run-8812734-attempt-1\"", "\"id\": \"run 1\""),
            "id"
        );
        assert_eq!(
            single("\"source\": \"cli\"", "\"source\": \"CLI tool\""),
            "source"
        );
        assert_eq!(
            single("\"source\": \"cli\"", "\"source\": \"argocd\""),
            "source"
        );
        assert_eq!(single("https://github.com", "ftp://github.com"), "url");
        // Rules between fields.
        let bare = r#"{"cluster":"c","namespace":"n"}"#;
        assert_eq!(err(bare).field, "component");
        assert_eq!(
            err(r#"{"cluster":"c","namespace":"n","version":"1"}"#).field,
            "version"
        );
        assert_eq!(
            err(r#"{"cluster":"c","namespace":"n","status":"removed"}"#).field,
            "workload"
        );
        assert_eq!(
            err(r#"{"cluster":"c","namespace":"n","component":"shop/"}"#).field,
            "workload"
        );
        // A version with an image and no component describes the image.
        let p = parse(
            br#"{"cluster":"c","namespace":"n","image":"nginx:1.27","version":"1.27.3"}"#,
            &ctx(),
        )
        .unwrap();
        assert_eq!(
            observed(&p.items[0]).runs[0].version.as_deref(),
            Some("1.27.3")
        );
        assert_eq!(observed(&p.items[0]).workload, "nginx");
        // A bad query parameter.
        let mut c = ctx();
        c.cluster = Some("prod eu");
        assert_eq!(parse(SINGLE.as_bytes(), &c).unwrap_err().field, "cluster");
    }

    #[test]
    fn at_most_a_thousand_entries() {
        let entry = r#"{"cluster":"c","namespace":"n","component":"x"}"#;
        let body = |n: usize| format!("{{\"deployments\": [{}]}}", vec![entry; n].join(","));
        assert_eq!(
            parse(body(MAX_ENTRIES).as_bytes(), &ctx())
                .unwrap()
                .items
                .len(),
            MAX_ENTRIES
        );
        let e = parse(body(MAX_ENTRIES + 1).as_bytes(), &ctx()).unwrap_err();
        assert_eq!(e.field, "deployments");
        assert_eq!(e.reason, "1001 entries: at most 1000 per request");
        assert!(parse(b"{\"deployments\": []}", &ctx())
            .unwrap()
            .items
            .is_empty());
    }

    #[test]
    fn one_bad_entry_rejects_the_request() {
        let body = BATCH.replace("\"status\": \"removed\"", "\"status\": \"gone\"");
        assert_eq!(err(&body).field, "deployments[2].status");
    }

    #[test]
    fn unknown_fields_and_nulls_are_ignored() {
        let body = r#"{"cluster":"c","namespace":"n","component":"x","environment":null,"extra":{"a":1},"images":null}"#;
        let p = parse(body.as_bytes(), &ctx()).unwrap();
        assert_eq!(observed(&p.items[0]).runs, vec![component_run("x", None)]);
    }

    #[test]
    fn a_canary_step_names_both_tracks_and_a_share_stands_alone() {
        let step = r#"{"cluster":"prod-eu-1","namespace":"shop","component":"shop/cart",
            "version":"1.1.0","image":"r.example/shop/cart:1.1.0","traffic":10,
            "status":"progressing","stable":{"version":"1.0.0","image":"r.example/shop/cart:1.0.0"}}"#;
        let p = parse(step.as_bytes(), &ctx()).unwrap();
        let d = observed(&p.items[0]);
        assert_eq!(d.workload, "cart");
        assert_eq!(
            d.runs,
            vec![
                Run {
                    traffic: Some(10),
                    track: Some(Track::Canary),
                    ..Run {
                        component: Some("shop/cart".into()),
                        version: Some("1.1.0".into()),
                        ..image_run(None, "r.example/shop/cart:1.1.0")
                    }
                },
                Run {
                    traffic: Some(90),
                    track: Some(Track::Stable),
                    ..Run {
                        component: Some("shop/cart".into()),
                        version: Some("1.0.0".into()),
                        ..image_run(None, "r.example/shop/cart:1.0.0")
                    }
                },
            ]
        );
        // A blue/green color: the share alone, no track.
        let idle = r#"{"cluster":"c","namespace":"shop","workload":"cart-green",
            "component":"shop/cart","version":"1.1.0","traffic":0}"#;
        let p = parse(idle.as_bytes(), &ctx()).unwrap();
        assert_eq!(
            observed(&p.items[0]).runs,
            vec![Run {
                traffic: Some(0),
                ..component_run("shop/cart", Some("1.1.0"))
            }]
        );

        let with = |edit: &str| {
            format!(
                r#"{{"cluster":"c","namespace":"n","component":"shop/cart","version":"1.1.0",{edit}}}"#
            )
        };
        let cases = [
            (with(r#""traffic":101"#), "traffic", "from 0 to 100"),
            (with(r#""traffic":"10%""#), "traffic", "from 0 to 100"),
            (with(r#""stable":{"version":"1.0.0"}"#), "traffic", "the canary's share"),
            (with(r#""traffic":5,"stable":{}"#), "stable.version", "name the stable version"),
            (with(r#""traffic":5,"stable":{"image":"r.example/x:-1"}"#), "stable.image", ""),
            (with(r#""traffic":5,"stable":"1.0.0""#), "stable", "expected an object"),
            (
                r#"{"cluster":"c","namespace":"n","image":"r.example/x:2","traffic":5,"stable":{"version":"1"}}"#.to_string(),
                "component",
                "a stable version is a version of the canary's component",
            ),
        ];
        for (body, field, why) in cases {
            let e = err(&body);
            assert_eq!(e.field, field, "{body}");
            assert!(e.reason.contains(why), "{body}: {}", e.reason);
        }
    }
}
