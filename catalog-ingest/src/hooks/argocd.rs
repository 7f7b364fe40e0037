//! Argo CD notifications (`POST /hooks/argocd`). Argo CD has no payload of its own: we ship
//! the `catalog-deployment` template (README, "Recording deployments"; the fixture
//! `fixtures/argocd/argocd-notifications-cm.yaml`) and parse what it renders. The template uses
//! `toJson`, so whatever the Application lacks arrives as `null` and reads as absent.
//!
//! One request is one Application: one `deployment.observed` record.

use super::json::{kind, parse_body, Obj};
use super::{key_time, parse_image, sha256_hex, url, valid_name, HookContext, Parsed};
use crate::item::FieldError;
use catalog_core::deployment::{DeploymentObserved, DeploymentStatus, Run};
use catalog_core::Event;

pub const SOURCE: &str = "argocd";

/// The triggers the shipped ConfigMap defines, accepted in an optional `"trigger"` field.
pub const TRIGGERS: [&str; 3] = ["on-deployed", "on-sync-failed", "on-health-degraded"];

/// The API server address Argo CD gives the cluster it runs in.
const IN_CLUSTER_SERVER: &str = "https://kubernetes.default.svc";

/// Parses a rendered `catalog-deployment` template.
pub fn parse(body: &[u8], ctx: &HookContext<'_>) -> Result<Parsed, FieldError> {
    let v = parse_body(body)?;
    let o = Obj::new(&v, "")?;
    let app = o
        .name("app")?
        .ok_or_else(|| FieldError::new("app", "missing: the Application's name"))?;
    let dest = o
        .obj("destination")?
        .ok_or_else(|| FieldError::new("destination", "missing"))?;
    let namespace = dest
        .name("namespace")?
        .ok_or_else(|| FieldError::new("destination.namespace", "missing"))?;
    let cluster = cluster(&dest, ctx)?;
    let environment = match o.name("environment")? {
        Some(e) => Some(e),
        None => ctx.environment()?,
    };
    let trigger = match o.str("trigger")? {
        Some(t) if !TRIGGERS.contains(&t) => {
            return Err(FieldError::new(
                "trigger",
                format!(
                    "{t:?} is not a trigger: expected one of {}",
                    TRIGGERS.join("|")
                ),
            ))
        }
        t => t,
    };
    let health = o.str("health")?;
    let phase = o.str("phase")?;
    let status = status(trigger, health, phase);
    let revision = o.name("revision")?;
    let url = url(&o)?;
    let finished_at = o.time("finishedAt")?;
    let occurred_at = finished_at.unwrap_or_else(|| ctx.default_time());
    let mut runs = Vec::new();
    for (i, img) in o.arr("images")?.unwrap_or_default().iter().enumerate() {
        let field = format!("images[{i}]");
        let s = img.as_str().ok_or_else(|| {
            FieldError::new(
                field.clone(),
                format!("expected an image reference, got {}", kind(img)),
            )
        })?;
        runs.push(Run {
            container: None,
            image: Some(parse_image(s, field)?),
            component: None,
            version: None,
            traffic: None,
            track: None,
        });
    }

    // Without finishedAt (no sync has run yet), two reports differ only by their content.
    let when = match finished_at {
        Some(t) => key_time(t),
        None => sha256_hex(&[body]),
    };
    let key = format!(
        "argocd:{app}:{cluster}:{}:{}:{when}",
        revision.unwrap_or_default(),
        status.as_str()
    );
    let observed = DeploymentObserved {
        cluster,
        namespace: namespace.to_string(),
        workload: app.to_string(),
        environment: environment.map(str::to_string),
        status,
        replicas: None,
        runs,
        revision: revision.map(str::to_string),
        url: url.map(str::to_string),
    };
    Ok(Parsed {
        items: vec![ctx.record(
            key,
            occurred_at,
            SOURCE,
            Event::DeploymentObserved(observed),
        )],
        ignored: 0,
    })
}

/// `?cluster=`, else the destination's name, else its server address (`in-cluster` for the
/// cluster Argo CD runs in, the host[:port] otherwise).
fn cluster(dest: &Obj<'_>, ctx: &HookContext<'_>) -> Result<String, FieldError> {
    if let Some(c) = ctx.cluster()? {
        return Ok(c.to_string());
    }
    if let Some(name) = dest.name("name")? {
        return Ok(name.to_string());
    }
    let Some(server) = dest.str("server")? else {
        return Err(FieldError::new(
            "destination",
            "names no cluster: neither destination.name nor destination.server is set (or pass ?cluster=)",
        ));
    };
    if server.trim_end_matches('/') == IN_CLUSTER_SERVER {
        return Ok("in-cluster".to_string());
    }
    server
        .split_once("://")
        .and_then(|(_, rest)| rest.split(['/', '?', '#']).next())
        .map(|host| host.rsplit('@').next().unwrap_or(host))
        .filter(|host| valid_name(host))
        .map(str::to_string)
        .ok_or_else(|| {
            FieldError::new(
                "destination.server",
                format!("{server:?} is not a URL with a host"),
            )
        })
}

/// Failure beats degradation beats progress: a failed sync is failed whatever the health.
fn status(trigger: Option<&str>, health: Option<&str>, phase: Option<&str>) -> DeploymentStatus {
    if trigger == Some("on-sync-failed") || matches!(phase, Some("Error" | "Failed")) {
        return DeploymentStatus::Failed;
    }
    if trigger == Some("on-health-degraded") || health == Some("Degraded") {
        return DeploymentStatus::Degraded;
    }
    if phase == Some("Running") {
        return DeploymentStatus::Progressing;
    }
    match health {
        Some("Healthy") => DeploymentStatus::Healthy,
        // Progressing, Suspended, Missing (not created yet), Unknown, or none.
        _ => DeploymentStatus::Progressing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hooks::testing::{ctx, image_run, observed, record, time, RECEIVED};
    use crate::item::{InboxBody, Record};
    use serde_json::{json, Value};

    const CONFIGMAP: &str = include_str!("../../fixtures/argocd/argocd-notifications-cm.yaml");
    const DEPLOYED: &str = include_str!("../../fixtures/argocd/on-deployed.json");
    const SYNC_FAILED: &str = include_str!("../../fixtures/argocd/on-sync-failed.json");
    const DEGRADED: &str = include_str!("../../fixtures/argocd/on-health-degraded.json");
    const README: &str = include_str!("../../../README.md");

    /// The webhook body of the `catalog-deployment` template, as Argo CD reads it.
    fn template_body() -> String {
        let mut lines = CONFIGMAP.lines().skip_while(|l| *l != "        body: |");
        lines.next().unwrap();
        let body: String = lines
            .take_while(|l| l.starts_with("          "))
            .map(|l| format!("{}\n", &l[10..]))
            .collect();
        assert!(body.starts_with("{\n") && body.ends_with("}\n"), "{body}");
        body
    }

    /// Renders the template as Argo CD's `toJson` (Go's json.Marshal) would.
    fn render(app: &[(&str, Value)]) -> String {
        let mut out = String::new();
        let mut rest = template_body();
        while let Some(start) = rest.find("{{toJson ") {
            let end = rest[start..].find("}}").unwrap() + start;
            let expr = &rest[start + "{{toJson ".len()..end];
            let value = app
                .iter()
                .find(|(e, _)| *e == expr)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("no sample value for {expr}"));
            out.push_str(&rest[..start]);
            out.push_str(&serde_json::to_string(&value).unwrap());
            rest = rest[end + 2..].to_string();
        }
        out + &rest
    }

    fn app(
        name: &str,
        environment: Value,
        destination: [Value; 3],
        sync: [&str; 4],
        images: Value,
    ) -> Vec<(&'static str, Value)> {
        let [server, dest_name, namespace] = destination;
        let [revision, health, phase, finished_at] = sync;
        vec![
            (".app.metadata.name", json!(name)),
            (
                ".app.spec.project",
                json!(if name == "search" { "default" } else { "shop" }),
            ),
            ("(index .app.metadata.labels \"environment\")", environment),
            (".app.spec.destination.server", server),
            (".app.spec.destination.name", dest_name),
            (".app.spec.destination.namespace", namespace),
            (".app.status.sync.revision", json!(revision)),
            (".app.status.health.status", json!(health)),
            (".app.status.operationState.phase", json!(phase)),
            (".app.status.operationState.finishedAt", json!(finished_at)),
            (".app.status.summary.images", images),
        ]
    }

    #[test]
    fn fixtures_are_the_shipped_template_rendered() {
        let deployed = app(
            "cart",
            json!("prod"),
            [
                json!("https://kubernetes.default.svc"),
                Value::Null,
                json!("payments"),
            ],
            [
                "9f2c4e1b7a3d5f6e8c0b2a4d6f8e0c2b4a6d8f0e",
                "Healthy",
                "Succeeded",
                "2026-11-20T10:04:31Z",
            ],
            json!(["ghcr.io/acme/cart-migrate:1.4.2", "ghcr.io/acme/cart:1.4.2"]),
        );
        let failed = app(
            "checkout",
            json!("staging"),
            [Value::Null, json!("staging-eu-1"), json!("shop")],
            [
                "3b1d9a7c5e2f4a6b8d0c1e3f5a7b9d2c4e6f8a0b",
                "Healthy",
                "Failed",
                "2026-11-20T11:15:02Z",
            ],
            json!(["ghcr.io/acme/checkout:2.0.0"]),
        );
        let degraded = app(
            "search",
            Value::Null,
            [json!("https://prod-us-2.k8s.example.com:6443"), Value::Null, json!("search")],
            ["c0ffee4b7a3d5f6e8c0b2a4d6f8e0c2b4a6d8f11", "Degraded", "Succeeded", "2026-11-19T22:40:10Z"],
            json!([
                "docker.io/opensearchproject/opensearch:2.17.1",
                "ghcr.io/acme/search-api:3.2.0@sha256:1f2e3d4c5b6a79880716253443526170f0e1d2c3b4a59687766554433221100f"
            ]),
        );
        assert_eq!(render(&deployed), DEPLOYED);
        assert_eq!(render(&failed), SYNC_FAILED);
        assert_eq!(render(&degraded), DEGRADED);
    }

    #[test]
    fn the_readme_ships_the_tested_configmap() {
        assert!(
            README.contains(CONFIGMAP),
            "README.md must hold fixtures/argocd/argocd-notifications-cm.yaml verbatim"
        );
    }

    #[test]
    fn on_deployed() {
        let p = parse(DEPLOYED.as_bytes(), &ctx()).unwrap();
        assert_eq!(
            p.items,
            vec![InboxBody::Record(Record {
                key: "argocd:cart:in-cluster:9f2c4e1b7a3d5f6e8c0b2a4d6f8e0c2b4a6d8f0e:healthy:2026-11-20T10:04:31Z".into(),
                occurred_at: time("2026-11-20T10:04:31Z"),
                source: "argocd".into(),
                actor: "ci-token".into(),
                event: Event::DeploymentObserved(DeploymentObserved {
                    cluster: "in-cluster".into(),
                    namespace: "payments".into(),
                    workload: "cart".into(),
                    environment: Some("prod".into()),
                    status: DeploymentStatus::Healthy,
                    replicas: None,
                    runs: vec![
                        image_run(None, "ghcr.io/acme/cart-migrate:1.4.2"),
                        image_run(None, "ghcr.io/acme/cart:1.4.2"),
                    ],
                    revision: Some("9f2c4e1b7a3d5f6e8c0b2a4d6f8e0c2b4a6d8f0e".into()),
                    url: None,
                }),
            })]
        );
    }

    #[test]
    fn on_sync_failed() {
        let p = parse(SYNC_FAILED.as_bytes(), &ctx()).unwrap();
        let r = record(&p.items[0]);
        assert_eq!(
            r.key,
            "argocd:checkout:staging-eu-1:3b1d9a7c5e2f4a6b8d0c1e3f5a7b9d2c4e6f8a0b:failed:2026-11-20T11:15:02Z"
        );
        assert_eq!(
            observed(&p.items[0]),
            &DeploymentObserved {
                cluster: "staging-eu-1".into(),
                namespace: "shop".into(),
                workload: "checkout".into(),
                environment: Some("staging".into()),
                status: DeploymentStatus::Failed,
                replicas: None,
                runs: vec![image_run(None, "ghcr.io/acme/checkout:2.0.0")],
                revision: Some("3b1d9a7c5e2f4a6b8d0c1e3f5a7b9d2c4e6f8a0b".into()),
                url: None,
            }
        );
    }

    #[test]
    fn on_health_degraded() {
        let mut c = ctx();
        c.environment = Some("prod");
        let p = parse(DEGRADED.as_bytes(), &c).unwrap();
        assert_eq!(
            record(&p.items[0]).occurred_at,
            time("2026-11-19T22:40:10Z")
        );
        assert_eq!(
            observed(&p.items[0]),
            &DeploymentObserved {
                cluster: "prod-us-2.k8s.example.com:6443".into(),
                namespace: "search".into(),
                workload: "search".into(),
                environment: Some("prod".into()),
                status: DeploymentStatus::Degraded,
                replicas: None,
                runs: vec![
                    image_run(None, "docker.io/opensearchproject/opensearch:2.17.1"),
                    image_run(None, "ghcr.io/acme/search-api:3.2.0@sha256:1f2e3d4c5b6a79880716253443526170f0e1d2c3b4a59687766554433221100f"),
                ],
                revision: Some("c0ffee4b7a3d5f6e8c0b2a4d6f8e0c2b4a6d8f11".into()),
                url: None,
            }
        );
        // Without ?environment= and without the label: none.
        let p = parse(DEGRADED.as_bytes(), &ctx()).unwrap();
        assert_eq!(observed(&p.items[0]).environment, None);
    }

    #[test]
    fn query_cluster_overrides_the_destination() {
        let mut c = ctx();
        c.cluster = Some("prod-eu-1");
        for body in [DEPLOYED, SYNC_FAILED, DEGRADED] {
            let p = parse(body.as_bytes(), &c).unwrap();
            assert_eq!(observed(&p.items[0]).cluster, "prod-eu-1");
            assert!(p.items[0].key().contains(":prod-eu-1:"));
        }
        // An empty destination.name falls through to the server.
        let body = DEGRADED.replace("\"name\": null", "\"name\": \"\"");
        let p = parse(body.as_bytes(), &ctx()).unwrap();
        assert_eq!(
            observed(&p.items[0]).cluster,
            "prod-us-2.k8s.example.com:6443"
        );
        let body = DEPLOYED.replace(
            "https://kubernetes.default.svc\"",
            "https://kubernetes.default.svc/\"",
        );
        let p = parse(body.as_bytes(), &ctx()).unwrap();
        assert_eq!(observed(&p.items[0]).cluster, "in-cluster");
    }

    #[test]
    fn status_from_trigger_phase_and_health() {
        use DeploymentStatus::*;
        for (trigger, health, phase, want) in [
            (None, Some("Healthy"), Some("Succeeded"), Healthy),
            (
                Some("on-deployed"),
                Some("Healthy"),
                Some("Succeeded"),
                Healthy,
            ),
            (
                Some("on-sync-failed"),
                Some("Healthy"),
                Some("Succeeded"),
                Failed,
            ),
            (None, Some("Healthy"), Some("Failed"), Failed),
            (None, Some("Degraded"), Some("Error"), Failed),
            (
                Some("on-health-degraded"),
                Some("Healthy"),
                Some("Succeeded"),
                Degraded,
            ),
            (None, Some("Degraded"), Some("Succeeded"), Degraded),
            (None, Some("Healthy"), Some("Running"), Progressing),
            (None, Some("Progressing"), Some("Succeeded"), Progressing),
            (None, Some("Suspended"), None, Progressing),
            (None, Some("Missing"), None, Progressing),
            (None, Some("Unknown"), None, Progressing),
            (None, None, None, Progressing),
        ] {
            assert_eq!(
                status(trigger, health, phase),
                want,
                "{trigger:?} {health:?} {phase:?}"
            );
        }
        let body = DEPLOYED.replacen("{\n", "{\n  \"trigger\": \"on-sync-failed\",\n", 1);
        let p = parse(body.as_bytes(), &ctx()).unwrap();
        assert_eq!(observed(&p.items[0]).status, Failed);
        assert!(p.items[0].key().contains(":failed:"));
    }

    #[test]
    fn nulls_read_as_absent() {
        let body = r#"{"app":"cart","project":null,"environment":null,
            "destination":{"server":"https://kubernetes.default.svc","name":null,"namespace":"payments"},
            "revision":null,"health":null,"phase":null,"finishedAt":null,"images":null}"#;
        let p = parse(body.as_bytes(), &ctx()).unwrap();
        let r = record(&p.items[0]);
        assert_eq!(r.occurred_at, time(RECEIVED));
        assert_eq!(
            r.key,
            format!(
                "argocd:cart:in-cluster::progressing:{}",
                sha256_hex(&[body.as_bytes()])
            )
        );
        let o = observed(&p.items[0]);
        assert_eq!(o.status, DeploymentStatus::Progressing);
        assert!(o.runs.is_empty());
        assert_eq!(o.revision, None);
        let mut c = ctx();
        c.at = Some(time("2026-11-20T09:00:00Z"));
        let p = parse(body.as_bytes(), &c).unwrap();
        assert_eq!(
            record(&p.items[0]).occurred_at,
            time("2026-11-20T09:00:00Z")
        );
    }

    #[test]
    fn replays_keep_their_keys_and_different_events_differ() {
        let key = |b: &str| {
            parse(b.as_bytes(), &ctx()).unwrap().items[0]
                .key()
                .to_string()
        };
        assert_eq!(key(DEPLOYED), key(DEPLOYED));
        let mut later = ctx();
        later.received_at = time("2026-11-22T00:00:00Z");
        assert_eq!(
            key(DEPLOYED),
            parse(DEPLOYED.as_bytes(), &later).unwrap().items[0].key()
        );
        // The same sync turning degraded is another event.
        let degraded = DEPLOYED.replace("\"Healthy\"", "\"Degraded\"");
        assert_ne!(key(DEPLOYED), key(&degraded));
        let next = DEPLOYED.replace("9f2c4e1b", "0a1b2c3d");
        assert_ne!(key(DEPLOYED), key(&next));
    }

    #[test]
    fn errors_name_the_field() {
        let err = |from: &str, to: &str| {
            assert!(DEPLOYED.contains(from), "{from}");
            parse(DEPLOYED.replace(from, to).as_bytes(), &ctx())
                .unwrap_err()
                .field
        };
        assert_eq!(parse(b"{\"app\": ", &ctx()).unwrap_err().field, "body");
        assert_eq!(parse(b"[]", &ctx()).unwrap_err().field, "body");
        assert_eq!(err("\"app\": \"cart\"", "\"app\": null"), "app");
        assert_eq!(err("\"app\": \"cart\"", "\"app\": 7"), "app");
        assert_eq!(
            err("\"namespace\": \"payments\"", "\"namespace\": null"),
            "destination.namespace"
        );
        assert_eq!(
            err("\"destination\": {", "\"destination\": 1, \"x\": {"),
            "destination"
        );
        assert_eq!(
            err(
                "\"server\": \"https://kubernetes.default.svc\"",
                "\"server\": null"
            ),
            "destination"
        );
        assert_eq!(
            err(
                "\"server\": \"https://kubernetes.default.svc\"",
                "\"server\": \"kubernetes\""
            ),
            "destination.server"
        );
        assert_eq!(err("\"health\": \"Healthy\"", "\"health\": 1"), "health");
        assert_eq!(
            err("ghcr.io/acme/cart:1.4.2\"", "ghcr.io/acme/Cart:1.4.2\""),
            "images[1]"
        );
        assert_eq!(
            err("\"ghcr.io/acme/cart-migrate:1.4.2\"", "{}"),
            "images[0]"
        );
        assert_eq!(err("\"images\": [", "\"images\": {\"a\": ["), "body");
        assert_eq!(
            err(
                "\"images\": [\"ghcr.io/acme/cart-migrate:1.4.2\",\"ghcr.io/acme/cart:1.4.2\"]",
                "\"images\": \"ghcr.io/acme/cart:1.4.2\""
            ),
            "images"
        );
        assert_eq!(err("2026-11-20T10:04:31Z", "20 Nov 2026"), "finishedAt");
        assert_eq!(
            err(
                "\"app\": \"cart\",",
                "\"app\": \"cart\", \"trigger\": \"on-created\","
            ),
            "trigger"
        );
        assert_eq!(
            err("\"environment\": \"prod\"", "\"environment\": \"pr od\""),
            "environment"
        );
    }
}
