//! Flux notification-controller events (`POST /hooks/flux`), from a Provider of type
//! `generic` or `generic-hmac`. One event per request; a Kustomization's or HelmRelease's
//! reconcile outcome becomes one `deployment.observed` record. Events that say nothing about
//! a deployment's state (an unknown `info` reason, or an object that is not deployed, such as a
//! GitRepository) are ignored: counted, nothing written.
//!
//! [`verify_signature`] checks the `X-Signature` header the `generic-hmac` provider sends.

use super::json::{parse_body, Obj};
use super::{key_time, HookContext, Parsed};
use crate::item::FieldError;
use catalog_core::deployment::{DeploymentObserved, DeploymentStatus, Run};
use catalog_core::Event;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::{Sha224, Sha256, Sha384, Sha512};

pub const SOURCE: &str = "flux";

/// The header the `generic-hmac` provider signs with: `X-Signature: sha256=<hex HMAC>`.
pub const SIGNATURE_HEADER: &str = "X-Signature";

/// Kinds whose events are not deployments: sources, image automation, notification objects.
const NOT_DEPLOYED: [&str; 12] = [
    "GitRepository",
    "OCIRepository",
    "HelmRepository",
    "HelmChart",
    "Bucket",
    "ExternalArtifact",
    "ImageRepository",
    "ImagePolicy",
    "ImageUpdateAutomation",
    "Receiver",
    "Alert",
    "Provider",
];

/// Why a Flux request's signature was refused. Each is a 401.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing X-Signature header (a Provider of type generic-hmac sends one)")]
    Missing,
    #[error("malformed X-Signature header: expected <algorithm>=<hex HMAC of the body>")]
    Malformed,
    #[error("unsupported X-Signature algorithm {0:?}: expected sha224, sha256, sha384 or sha512")]
    UnsupportedAlgorithm(String),
    #[error("X-Signature does not match the body (a different secret, or an altered body)")]
    Mismatch,
}

/// Verifies `X-Signature: <algorithm>=<hex>`, the HMAC of the raw body keyed with the
/// Provider secret's `token`, in constant time. The algorithms are those Flux documents for
/// verifiers (it sends `sha256`). An empty secret never verifies.
pub fn verify_signature(
    body: &[u8],
    header: Option<&str>,
    secret: &[u8],
) -> Result<(), SignatureError> {
    let header = header
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or(SignatureError::Missing)?;
    let (alg, sig) = header.split_once('=').ok_or(SignatureError::Malformed)?;
    let sig = hex::decode(sig.trim()).map_err(|_| SignatureError::Malformed)?;
    if sig.is_empty() {
        return Err(SignatureError::Malformed);
    }
    match alg.trim().to_ascii_lowercase().as_str() {
        "sha224" => verify::<Hmac<Sha224>>(body, &sig, secret),
        "sha256" => verify::<Hmac<Sha256>>(body, &sig, secret),
        "sha384" => verify::<Hmac<Sha384>>(body, &sig, secret),
        "sha512" => verify::<Hmac<Sha512>>(body, &sig, secret),
        _ => Err(SignatureError::UnsupportedAlgorithm(alg.trim().to_string())),
    }
}

fn verify<M: Mac + KeyInit>(body: &[u8], sig: &[u8], secret: &[u8]) -> Result<(), SignatureError> {
    if secret.is_empty() {
        return Err(SignatureError::Mismatch);
    }
    let mut mac = <M as Mac>::new_from_slice(secret).map_err(|_| SignatureError::Mismatch)?;
    mac.update(body);
    mac.verify_slice(sig).map_err(|_| SignatureError::Mismatch)
}

/// Parses one notification-controller event.
pub fn parse(body: &[u8], ctx: &HookContext<'_>) -> Result<Parsed, FieldError> {
    let v = parse_body(body)?;
    let o = Obj::new(&v, "")?;
    let obj = o
        .obj("involvedObject")?
        .ok_or_else(|| FieldError::new("involvedObject", "missing"))?;
    let kind = obj.req_str("kind")?;
    let name = obj
        .name("name")?
        .ok_or_else(|| FieldError::new("involvedObject.name", "missing"))?;
    let namespace = obj
        .name("namespace")?
        .ok_or_else(|| FieldError::new("involvedObject.namespace", "missing"))?;
    let reason = o.req_str("reason")?;
    let severity = o.str("severity")?;
    let timestamp = o
        .time("timestamp")?
        .ok_or_else(|| FieldError::new("timestamp", "missing"))?;
    let empty = serde_json::Value::Object(Default::default());
    let meta = match o.obj("metadata")? {
        Some(m) => m,
        None => Obj::new(&empty, "metadata")?,
    };
    let cluster = match ctx.cluster()? {
        Some(c) => c,
        None => meta.name("cluster")?.ok_or_else(|| {
            FieldError::new(
                "metadata.cluster",
                "missing: add ?cluster=NAME to the Provider's address, or set \
                 spec.eventMetadata.cluster on the Alert",
            )
        })?,
    };
    let environment = match meta.name("environment")? {
        Some(e) => Some(e),
        None => ctx.environment()?,
    };
    let raw_revision = revision(&meta, obj.str("apiVersion")?)?;
    let component = meta.name("component")?.unwrap_or(name);
    let version = meta.name("version")?;

    let status = match reason_status(reason) {
        _ if NOT_DEPLOYED.contains(&kind) => None,
        Some(s) => Some(s),
        None if severity == Some("error") => Some(DeploymentStatus::Failed),
        None => None,
    };
    let Some(status) = status else {
        return Ok(Parsed {
            items: Vec::new(),
            ignored: 1,
        });
    };

    let (label, commit) = raw_revision.map_or((None, None), split_revision);
    // A HelmRelease's revision is its chart version (`1.4.2`, or `1.4.2@sha256:...` from an
    // OCI chart); a Kustomization's is its source's git revision.
    let is_helm = kind == "HelmRelease";
    let version = version.or(if is_helm { label } else { None });
    let revision = match (&commit, is_helm) {
        (Some(c), _) => Some(c.clone()),
        (None, false) => raw_revision.map(str::to_string),
        (None, true) => None,
    };
    let object = match obj.str("uid")? {
        Some(uid) => uid.to_string(),
        None => format!("{kind}/{namespace}/{name}"),
    };
    let key = format!(
        "flux:{object}:{reason}:{}:{}",
        commit.as_deref().or(raw_revision).unwrap_or_default(),
        key_time(timestamp)
    );
    let observed = DeploymentObserved {
        cluster: cluster.to_string(),
        namespace: namespace.to_string(),
        workload: name.to_string(),
        environment: environment.map(str::to_string),
        status,
        replicas: None,
        runs: vec![Run {
            container: None,
            image: None,
            component: Some(component.to_string()),
            version: version.map(str::to_string),
            traffic: None,
            track: None,
        }],
        revision,
        url: None,
    };
    Ok(Parsed {
        items: vec![ctx.record(key, timestamp, SOURCE, Event::DeploymentObserved(observed))],
        ignored: 0,
    })
}

/// The reasons Flux's kustomize- and helm-controller report, as deployment states. `None`:
/// the reason says nothing about the deployment by itself (severity decides).
pub fn reason_status(reason: &str) -> Option<DeploymentStatus> {
    use DeploymentStatus::*;
    Some(match reason {
        "ReconciliationSucceeded" | "UpgradeSucceeded" | "InstallSucceeded" | "TestSucceeded" => {
            Healthy
        }
        "Progressing" | "DependencyNotReady" | "ProgressingWithRetry" => Progressing,
        "HealthCheckFailed" => Degraded,
        "ReconciliationFailed"
        | "UpgradeFailed"
        | "InstallFailed"
        | "BuildFailed"
        | "ArtifactFailed"
        | "ValidationFailed"
        | "TestFailed" => Failed,
        "RollbackSucceeded" => RolledBack,
        "UninstallSucceeded" | "Deleted" => Removed,
        _ => return None,
    })
}

/// The event's revision: `metadata.revision`, else Flux's API-group-prefixed key
/// (`kustomize.toolkit.fluxcd.io/revision`), else any `<group>/revision`.
fn revision<'a>(meta: &Obj<'a>, api_version: Option<&str>) -> Result<Option<&'a str>, FieldError> {
    if let Some(r) = meta.name("revision")? {
        return Ok(Some(r));
    }
    if let Some(group) = api_version.and_then(|a| a.split_once('/')).map(|(g, _)| g) {
        if let Some(r) = meta.name(&format!("{group}/revision"))? {
            return Ok(Some(r));
        }
    }
    for key in meta.keys() {
        if key.ends_with("/revision") {
            if let Some(r) = meta.name(key)? {
                return Ok(Some(r));
            }
        }
    }
    Ok(None)
}

/// Splits a Flux revision into its label (branch, tag, chart version) and its commit or
/// digest: `main@sha1:<hex>` (Flux 2.1+) and `main/<hex>` (before) give `<hex>`, as do
/// `sha1:<hex>` and a bare hex; `<tag>@sha256:<hex>` (OCI) keeps `sha256:<hex>`.
pub fn split_revision(raw: &str) -> (Option<&str>, Option<String>) {
    if let Some((label, d)) = raw.rsplit_once('@') {
        if let Some(c) = commit(d) {
            return (Some(label).filter(|l| !l.is_empty()), Some(c));
        }
    }
    if let Some(c) = commit(raw) {
        return (None, Some(c));
    }
    if let Some((label, h)) = raw.rsplit_once('/') {
        if is_hex(h, 40) || is_hex(h, 64) {
            return (Some(label).filter(|l| !l.is_empty()), Some(h.to_string()));
        }
    }
    (Some(raw), None)
}

fn commit(d: &str) -> Option<String> {
    if let Some(h) = d.strip_prefix("sha1:") {
        return is_hex(h, 40).then(|| h.to_string());
    }
    if d.strip_prefix("sha256:").is_some_and(|h| is_hex(h, 64)) {
        return Some(d.to_string());
    }
    (is_hex(d, 40) || is_hex(d, 64)).then(|| d.to_string())
}

/// `len` lowercase hex digits: a full SHA-1 (40) or SHA-256 (64).
fn is_hex(h: &str, len: usize) -> bool {
    h.len() == len
        && h.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hooks::testing::{component_run, ctx, observed, record, time};
    use crate::item::{InboxBody, Record};

    const HELM_UPGRADED: &str =
        include_str!("../../fixtures/flux/helmrelease-upgrade-succeeded.json");
    const HELM_FAILED: &str = include_str!("../../fixtures/flux/helmrelease-upgrade-failed.json");
    const KUSTOMIZATION: &str = include_str!("../../fixtures/flux/kustomization-succeeded.json");
    const KUSTOMIZATION_LEGACY: &str =
        include_str!("../../fixtures/flux/kustomization-legacy-revision.json");
    const GIT_ARTIFACT: &str = include_str!("../../fixtures/flux/gitrepository-new-artifact.json");

    /// The generic provider's body as the brief shows it: plain `metadata.revision`.
    const PLAIN_METADATA: &str = r#"{"involvedObject":{"kind":"HelmRelease","namespace":"payments","name":"cart","uid":"7c2a9e4b-1f3d-4c8a-9b6e-2d5f8a1c3e70","apiVersion":"helm.toolkit.fluxcd.io/v2","resourceVersion":"123"},
 "severity":"info","timestamp":"2026-11-20T10:00:00Z","message":"Helm upgrade succeeded for release payments/cart.v5 with chart cart@1.4.2",
 "reason":"UpgradeSucceeded","metadata":{"revision":"1.4.2","cluster":"prod-eu-1","environment":"prod"},
 "reportingController":"helm-controller","reportingInstance":"helm-controller-6b8f7d9c5-x2k8p"}"#;

    const SECRET: &[u8] = b"flux-hmac-s3cr3t";

    fn one(body: &str) -> Parsed {
        parse(body.as_bytes(), &ctx()).unwrap()
    }

    fn cart(status: DeploymentStatus, version: &str) -> DeploymentObserved {
        DeploymentObserved {
            cluster: "prod-eu-1".into(),
            namespace: "payments".into(),
            workload: "cart".into(),
            environment: Some("prod".into()),
            status,
            replicas: None,
            runs: vec![component_run("cart", Some(version))],
            revision: None,
            url: None,
        }
    }

    #[test]
    fn helm_release_upgraded() {
        let p = one(HELM_UPGRADED);
        assert_eq!(p.ignored, 0);
        assert_eq!(
            p.items,
            vec![InboxBody::Record(Record {
                key: "flux:7c2a9e4b-1f3d-4c8a-9b6e-2d5f8a1c3e70:UpgradeSucceeded:1.4.2:2026-11-20T10:00:00Z".into(),
                occurred_at: time("2026-11-20T10:00:00Z"),
                source: "flux".into(),
                actor: "ci-token".into(),
                event: Event::DeploymentObserved(cart(DeploymentStatus::Healthy, "1.4.2")),
            })]
        );
        // `metadata.revision` without the API group reads the same.
        assert_eq!(one(PLAIN_METADATA).items, p.items);
    }

    #[test]
    fn helm_release_failed() {
        let p = one(HELM_FAILED);
        assert_eq!(
            observed(&p.items[0]),
            &cart(DeploymentStatus::Failed, "1.5.0")
        );
        assert_eq!(
            p.items[0].key(),
            "flux:7c2a9e4b-1f3d-4c8a-9b6e-2d5f8a1c3e70:UpgradeFailed:1.5.0:2026-11-20T12:31:47Z"
        );
    }

    #[test]
    fn kustomization_with_a_flux_2_1_revision() {
        let p = one(KUSTOMIZATION);
        assert_eq!(
            p.items[0].key(),
            "flux:0f6b2d4e-8a1c-4e3b-a5d7-9c2e4f6a8b10:ReconciliationSucceeded:802723078affd3eb2a3898630261ab3ca5d6dd40:2026-11-20T10:02:13Z"
        );
        assert_eq!(
            observed(&p.items[0]),
            &DeploymentObserved {
                cluster: "prod-eu-1".into(),
                namespace: "flux-system".into(),
                workload: "apps".into(),
                environment: Some("prod".into()),
                status: DeploymentStatus::Healthy,
                replicas: None,
                runs: vec![component_run("apps", None)],
                revision: Some("802723078affd3eb2a3898630261ab3ca5d6dd40".into()),
                url: None,
            }
        );
    }

    #[test]
    fn kustomization_with_a_legacy_revision_and_query_cluster() {
        // No eventMetadata: the cluster must come from the Provider's address.
        let e = parse(KUSTOMIZATION_LEGACY.as_bytes(), &ctx()).unwrap_err();
        assert_eq!(e.field, "metadata.cluster");
        assert!(
            e.reason.contains("?cluster=") && e.reason.contains("eventMetadata"),
            "{e}"
        );

        let mut c = ctx();
        c.cluster = Some("prod-eu-1");
        c.environment = Some("prod");
        let p = parse(KUSTOMIZATION_LEGACY.as_bytes(), &c).unwrap();
        assert_eq!(
            record(&p.items[0]).occurred_at,
            time("2022-10-28T07:26:19Z")
        );
        assert_eq!(
            observed(&p.items[0]),
            &DeploymentObserved {
                cluster: "prod-eu-1".into(),
                namespace: "apps".into(),
                workload: "webapp".into(),
                environment: Some("prod".into()),
                status: DeploymentStatus::Progressing,
                replicas: None,
                runs: vec![component_run("webapp", None)],
                revision: Some("731f7eaddfb6af01cb2173e18f0f75b0ba780ef1".into()),
                url: None,
            }
        );
        // ?cluster= overrides eventMetadata.
        let p = parse(HELM_UPGRADED.as_bytes(), &{
            let mut c = ctx();
            c.cluster = Some("prod-eu-2");
            c
        })
        .unwrap();
        assert_eq!(observed(&p.items[0]).cluster, "prod-eu-2");
    }

    #[test]
    fn component_and_version_from_metadata() {
        let body = KUSTOMIZATION.replace(
            "\"cluster\":\"prod-eu-1\"",
            "\"cluster\":\"prod-eu-1\",\"component\":\"shop/cart\",\"version\":\"1.4.2\"",
        );
        assert_eq!(
            observed(&one(&body).items[0]).runs,
            vec![component_run("shop/cart", Some("1.4.2"))]
        );
        // An OCI chart's revision: the version before the digest, the digest as revision.
        let oci = HELM_UPGRADED.replace(
            "\"1.4.2\"",
            "\"1.4.2@sha256:5c051d0a0c19b6688625ea0840c75f36cec1b88550c0dceff22bb146138164a0\"",
        );
        let o = observed(&one(&oci).items[0]).clone();
        assert_eq!(o.runs, vec![component_run("cart", Some("1.4.2"))]);
        assert_eq!(
            o.revision.as_deref(),
            Some("sha256:5c051d0a0c19b6688625ea0840c75f36cec1b88550c0dceff22bb146138164a0")
        );
    }

    #[test]
    fn events_that_are_not_deployment_states_are_ignored() {
        let p = one(GIT_ARTIFACT);
        assert!(p.items.is_empty());
        assert_eq!(p.ignored, 1);
        // Even a failure of a source is not a deployment's.
        let failed = GIT_ARTIFACT
            .replace("\"info\"", "\"error\"")
            .replace("NewArtifact", "GitOperationFailed");
        assert_eq!(one(&failed).ignored, 1);
        // An unknown reason: info is ignored, error is a failure.
        let unknown = KUSTOMIZATION.replace("ReconciliationSucceeded", "ArtifactInStorage");
        assert_eq!(one(&unknown).ignored, 1);
        let unknown_error = unknown.replace("\"info\"", "\"error\"");
        let p = one(&unknown_error);
        assert_eq!(p.ignored, 0);
        assert_eq!(observed(&p.items[0]).status, DeploymentStatus::Failed);
    }

    #[test]
    fn reasons() {
        use DeploymentStatus::*;
        for (reason, want) in [
            ("ReconciliationSucceeded", Some(Healthy)),
            ("UpgradeSucceeded", Some(Healthy)),
            ("InstallSucceeded", Some(Healthy)),
            ("TestSucceeded", Some(Healthy)),
            ("Progressing", Some(Progressing)),
            ("DependencyNotReady", Some(Progressing)),
            ("ProgressingWithRetry", Some(Progressing)),
            ("HealthCheckFailed", Some(Degraded)),
            ("ReconciliationFailed", Some(Failed)),
            ("UpgradeFailed", Some(Failed)),
            ("InstallFailed", Some(Failed)),
            ("BuildFailed", Some(Failed)),
            ("ArtifactFailed", Some(Failed)),
            ("ValidationFailed", Some(Failed)),
            ("TestFailed", Some(Failed)),
            ("RollbackSucceeded", Some(RolledBack)),
            ("UninstallSucceeded", Some(Removed)),
            ("Deleted", Some(Removed)),
            ("NewArtifact", None),
        ] {
            assert_eq!(reason_status(reason), want, "{reason}");
        }
    }

    #[test]
    fn revisions() {
        let sha1 = "802723078affd3eb2a3898630261ab3ca5d6dd40";
        let sha256 = "5c051d0a0c19b6688625ea0840c75f36cec1b88550c0dceff22bb146138164a0";
        for (raw, want) in [
            (
                format!("main@sha1:{sha1}"),
                (Some("main"), Some(sha1.to_string())),
            ),
            (
                format!("release/v2@sha1:{sha1}"),
                (Some("release/v2"), Some(sha1.to_string())),
            ),
            (
                format!("main/{sha1}"),
                (Some("main"), Some(sha1.to_string())),
            ),
            (format!("sha1:{sha1}"), (None, Some(sha1.to_string()))),
            (sha1.to_string(), (None, Some(sha1.to_string()))),
            (
                format!("v1.2.0@sha256:{sha256}"),
                (Some("v1.2.0"), Some(format!("sha256:{sha256}"))),
            ),
            (
                format!("sha256:{sha256}"),
                (None, Some(format!("sha256:{sha256}"))),
            ),
        ] {
            let (label, commit) = split_revision(&raw);
            assert_eq!((label, commit), (want.0, want.1), "{raw}");
        }
        for raw in ["1.4.2", "1.4.2+3f2a1b", "main/abc123", "sha1:abc"] {
            assert_eq!(split_revision(raw), (Some(raw), None), "{raw}");
        }
    }

    #[test]
    fn replays_keep_their_keys_and_different_events_differ() {
        let key = |b: &str| one(b).items[0].key().to_string();
        assert_eq!(key(HELM_UPGRADED), key(HELM_UPGRADED));
        let keys = [key(HELM_UPGRADED), key(HELM_FAILED), key(KUSTOMIZATION)];
        assert!(keys[0] != keys[1] && keys[1] != keys[2] && keys[0] != keys[2]);
        // Without a uid, the object's kind/namespace/name stand in.
        let no_uid = HELM_UPGRADED.replace("\"uid\":\"7c2a9e4b-1f3d-4c8a-9b6e-2d5f8a1c3e70\",", "");
        assert_eq!(
            key(&no_uid),
            "flux:HelmRelease/payments/cart:UpgradeSucceeded:1.4.2:2026-11-20T10:00:00Z"
        );
        // Both revision spellings of one commit are one event.
        let old = KUSTOMIZATION.replace("main@sha1:", "main/");
        assert_eq!(key(KUSTOMIZATION), key(&old));
        let later = HELM_UPGRADED.replace("10:00:00Z", "10:00:01Z");
        assert_ne!(key(HELM_UPGRADED), key(&later));
    }

    #[test]
    fn errors_name_the_field() {
        let err = |from: &str, to: &str| {
            assert!(HELM_UPGRADED.contains(from), "{from}");
            parse(HELM_UPGRADED.replace(from, to).as_bytes(), &ctx())
                .unwrap_err()
                .field
        };
        assert_eq!(parse(b"{", &ctx()).unwrap_err().field, "body");
        assert_eq!(parse(b"[]", &ctx()).unwrap_err().field, "body");
        assert_eq!(parse(b"{}", &ctx()).unwrap_err().field, "involvedObject");
        assert_eq!(
            err("\"involvedObject\":{", "\"involvedObject\":[],\"x\":{"),
            "involvedObject"
        );
        assert_eq!(err("\"name\":\"cart\",", ""), "involvedObject.name");
        assert_eq!(
            err("\"namespace\":\"payments\",", ""),
            "involvedObject.namespace"
        );
        assert_eq!(err("\"kind\":\"HelmRelease\",", ""), "involvedObject.kind");
        assert_eq!(
            err("\"name\":\"cart\"", "\"name\":42"),
            "involvedObject.name"
        );
        assert_eq!(err("\"reason\":\"UpgradeSucceeded\",", ""), "reason");
        assert_eq!(
            err("\"timestamp\":\"2026-11-20T10:00:00Z\",", ""),
            "timestamp"
        );
        assert_eq!(
            err("2026-11-20T10:00:00Z", "2026-11-20T10:00:00"),
            "timestamp"
        );
        assert_eq!(
            err("\"cluster\":\"prod-eu-1\"", "\"cluster\":1"),
            "metadata.cluster"
        );
        assert_eq!(
            err("\"cluster\":\"prod-eu-1\"", "\"cluster\":\"prod eu 1\""),
            "metadata.cluster"
        );
        assert_eq!(err("\"cluster\":\"prod-eu-1\",", ""), "metadata.cluster");
        assert_eq!(
            err("\"metadata\":{", "\"metadata\":\"x\",\"m\":{"),
            "metadata"
        );
        assert_eq!(
            err(
                "\"helm.toolkit.fluxcd.io/revision\":\"1.4.2\"",
                "\"helm.toolkit.fluxcd.io/revision\":1"
            ),
            "metadata.helm.toolkit.fluxcd.io/revision"
        );
    }

    #[test]
    fn signatures() {
        let body = HELM_UPGRADED.as_bytes();
        // Computed independently (Python's hmac module) over the fixture's bytes.
        for header in [
            "sha256=5864c9b908e1387da3cc267698ceb24a22e9ceb7ab4eb56328359d04a85c8fbf",
            "sha224=5a566d007bcd4087199e5f3df44fb0f6a8afc2f82b12c15cd23a425c",
            "sha384=0e3b78022b04ca3cef1dd226aa459f1fd5cd7efff10ba750d3ba1958260293bf8cbbdb1685391e56081fd4f7a97f3b7e",
            "sha512=9cede386794c75e180c466d069be0008aebefb4d81493f74d6689b4be189dcbdabbd99b0cd5db9a4890e3c70f26fa490cbcc20ffbe06004a6f0178bdbfc028d7",
            "SHA256=5864C9B908E1387DA3CC267698CEB24A22E9CEB7AB4EB56328359D04A85C8FBF",
        ] {
            assert_eq!(verify_signature(body, Some(header), SECRET), Ok(()), "{header}");
        }
        let good = "sha256=5864c9b908e1387da3cc267698ceb24a22e9ceb7ab4eb56328359d04a85c8fbf";
        use SignatureError::*;
        assert_eq!(verify_signature(body, None, SECRET), Err(Missing));
        assert_eq!(verify_signature(body, Some("  "), SECRET), Err(Missing));
        assert_eq!(
            verify_signature(body, Some("5864c9b908e1"), SECRET),
            Err(Malformed)
        );
        assert_eq!(
            verify_signature(body, Some("sha256=not-hex"), SECRET),
            Err(Malformed)
        );
        assert_eq!(
            verify_signature(body, Some("sha256="), SECRET),
            Err(Malformed)
        );
        assert_eq!(
            verify_signature(
                body,
                Some("sha1=9ddbddd8fd0d9196ec3f43d9a2ae3d2cdd7cd9cd"),
                SECRET
            ),
            Err(UnsupportedAlgorithm("sha1".into()))
        );
        assert_eq!(
            verify_signature(body, Some("md5=00ff"), SECRET),
            Err(UnsupportedAlgorithm("md5".into()))
        );
        assert_eq!(
            verify_signature(body, Some(good), b"another-secret"),
            Err(Mismatch)
        );
        assert_eq!(verify_signature(b"{}", Some(good), SECRET), Err(Mismatch));
        assert_eq!(
            verify_signature(body, Some(&good[..good.len() - 2]), SECRET),
            Err(Mismatch)
        );
        assert_eq!(verify_signature(body, Some(good), b""), Err(Mismatch));
        // Each refusal says something different.
        let messages: Vec<String> = [
            Missing,
            Malformed,
            UnsupportedAlgorithm("md5".into()),
            Mismatch,
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        let mut distinct = messages.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 4, "{messages:?}");
    }
}
