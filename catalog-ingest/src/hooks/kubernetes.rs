//! A cluster snapshot (`POST /hooks/kubernetes?cluster=NAME`): the output of
//! `kubectl get pods -A -o json`, folded into one `cluster.snapshot` record that observes every
//! workload present (so every workload of the cluster missing from it has ended). Pods are
//! grouped by the workload that owns them; finished pods (phase `Succeeded`) are left out.
//!
//! A pod list does not name its cluster, so `?cluster=` is required.
//!
//! Argo Rollouts: the list may also hold `Rollout` objects (`kubectl get
//! pods,rollouts.argoproj.io -A -o json`). A rollout's pods (labelled
//! `rollouts-pod-template-hash`) are then one workload, named after it, whose runs carry their
//! part and traffic share: for a canary, the stable and canary ReplicaSets' hashes and weights
//! from `status.canary.weights` (with traffic routing), else `status.stableRS` and
//! `status.currentPodHash` with shares by pod count, as a basic canary approximates them; for
//! blue/green, the active selector's pods take 100% and the preview's 0%. Pods of any other
//! ReplicaSet of the rollout (scaling down after a promotion) are left out. An aborted rollout
//! (`status.abort`) is `rolled_back`: traffic is back on the stable version. The fields are
//! those of argo-rollouts v1.9 (`fixtures/kubernetes/ROLLOUTS.md`).

use super::json::{parse_body, Obj};
use super::{parse_image, sha256_hex, HookContext, Parsed};
use crate::item::FieldError;
use catalog_core::deployment::{
    ClusterSnapshot, DeploymentObserved, DeploymentStatus, ImageRef, Run, Track,
};
use catalog_core::identity::valid_digest;
use catalog_core::Event;
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub const SOURCE: &str = "kubernetes";

/// Container waiting reasons that mean the workload is broken, not merely starting.
const BROKEN_WAITING: [&str; 5] = [
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "CreateContainerConfigError",
    "CreateContainerError",
];

/// What the pods of one workload add up to.
#[derive(Default)]
struct Workload {
    pods: usize,
    any_failed: bool,
    any_broken: bool,
    not_ready: bool,
    /// (container, image as the spec names it, the pod's Argo Rollouts template hash) ->
    /// digests the runtime resolved it to (`None` when a pod has not pulled it yet).
    images: BTreeMap<(String, ImageRef, Option<String>), BTreeSet<Option<String>>>,
    /// Pods per Argo Rollouts template hash.
    by_hash: BTreeMap<String, usize>,
}

/// What an Argo Rollouts `Rollout` says about its ReplicaSets.
#[derive(Debug, Default)]
struct Rollout {
    aborted: bool,
    degraded: bool,
    /// Template hash and traffic share (`None`: from pod counts) of the stable side...
    stable: Option<(String, Option<u8>)>,
    /// ...and of the canary (or blue/green preview), when it differs from the stable one.
    canary: Option<(String, Option<u8>)>,
}

const ROLLOUT_HASH: &str = "rollouts-pod-template-hash";

/// Parses a pod list into one `cluster.snapshot` record.
pub fn parse(body: &[u8], ctx: &HookContext<'_>) -> Result<Parsed, FieldError> {
    let cluster = ctx.cluster()?.ok_or_else(|| {
        FieldError::new(
            "cluster",
            "missing: pass ?cluster=NAME (a pod list does not name its cluster)",
        )
    })?;
    let environment = ctx.environment()?;
    let v = parse_body(body)?;
    let list = Obj::new(&v, "")?;
    if list.arr("items")?.is_none() {
        return Err(FieldError::new(
            "items",
            "missing: expected the output of `kubectl get pods -A -o json`",
        ));
    }
    let mut workloads: BTreeMap<(String, String), Workload> = BTreeMap::new();
    let mut rollouts: HashMap<(String, String), Rollout> = HashMap::new();
    for pod in list.objs("items")? {
        match pod.str("kind")? {
            None | Some("Pod") => {}
            Some("Rollout") if pod.str("apiVersion")?.is_some_and(|v| v.starts_with("argoproj.io/")) => {
                let meta = required(pod.obj("metadata")?, &pod, "metadata")?;
                let name = required(meta.name("name")?, &meta, "name")?;
                let namespace = required(meta.name("namespace")?, &meta, "namespace")?;
                rollouts.insert((namespace.to_string(), name.to_string()), rollout(&pod)?);
                continue;
            }
            Some(kind) => {
                return Err(FieldError::new(
                    pod.field("kind"),
                    format!(
                        "{kind:?}: expected a Pod, or an argoproj.io Rollout (kubectl get pods,rollouts.argoproj.io)"
                    ),
                ))
            }
        }
        let meta = required(pod.obj("metadata")?, &pod, "metadata")?;
        let name = required(meta.name("name")?, &meta, "name")?;
        let namespace = required(meta.name("namespace")?, &meta, "namespace")?;
        let spec = required(pod.obj("spec")?, &pod, "spec")?;
        let empty = serde_json::Value::Object(Default::default());
        let status = match pod.obj("status")? {
            Some(s) => s,
            None => Obj::new(&empty, pod.field("status"))?,
        };
        let phase = status.str("phase")?;
        if phase == Some("Succeeded") {
            continue;
        }
        let workload = workload_name(&meta, name)?;
        let hash = match meta.obj("labels")? {
            Some(labels) => labels.str(ROLLOUT_HASH)?.map(str::to_string),
            None => None,
        };

        let mut digests: HashMap<&str, String> = HashMap::new();
        let mut broken = false;
        for field in ["containerStatuses", "initContainerStatuses"] {
            for cs in status.objs(field)? {
                let container = cs.req_str("name")?;
                if let Some(d) = cs.str("imageID")?.and_then(image_id_digest) {
                    digests.insert(container, d);
                }
                let waiting = match cs.obj("state")? {
                    Some(state) => state.obj("waiting")?,
                    None => None,
                };
                if let Some(w) = waiting {
                    broken |= w
                        .str("reason")?
                        .is_some_and(|r| BROKEN_WAITING.contains(&r));
                }
            }
        }
        let mut ready = false;
        for c in status.objs("conditions")? {
            if c.str("type")? == Some("Ready") {
                ready = c.str("status")? == Some("True");
            }
        }

        let w = workloads
            .entry((namespace.to_string(), workload))
            .or_default();
        w.pods += 1;
        w.any_failed |= phase == Some("Failed");
        w.any_broken |= broken;
        w.not_ready |= phase != Some("Running") || !ready;
        if let Some(h) = &hash {
            *w.by_hash.entry(h.clone()).or_default() += 1;
        }
        if !spec.has("containers") {
            return Err(FieldError::new(spec.field("containers"), "missing"));
        }
        for field in ["containers", "initContainers"] {
            for c in spec.objs(field)? {
                let container = required(c.name("name")?, &c, "name")?;
                let image = parse_image(c.req_str("image")?, c.field("image"))?;
                let digest = match image.digest {
                    Some(_) => None,
                    None => digests.get(container).cloned(),
                };
                w.images
                    .entry((container.to_string(), image, hash.clone()))
                    .or_default()
                    .insert(digest);
            }
        }
    }

    let workloads = workloads
        .into_iter()
        .map(|((namespace, workload), w)| {
            let rollout = rollouts.get(&(namespace.clone(), workload.clone()));
            let status = if rollout.is_some_and(|r| r.aborted) {
                DeploymentStatus::RolledBack
            } else if w.any_failed {
                DeploymentStatus::Failed
            } else if w.any_broken || rollout.is_some_and(|r| r.degraded) {
                DeploymentStatus::Degraded
            } else if w.not_ready || rollout.is_some_and(|r| r.canary.is_some()) {
                DeploymentStatus::Progressing
            } else {
                DeploymentStatus::Healthy
            };
            DeploymentObserved {
                cluster: cluster.to_string(),
                namespace,
                workload,
                environment: environment.map(str::to_string),
                status,
                replicas: Some(i32::try_from(w.pods).unwrap_or(i32::MAX)),
                runs: runs(w.images, rollout, &w.by_hash),
                revision: None,
                url: None,
            }
        })
        .collect();
    let snapshot = ClusterSnapshot {
        cluster: cluster.to_string(),
        environment: environment.map(str::to_string),
        workloads,
    };
    let key = format!("{SOURCE}:{cluster}:{}", sha256_hex(&[body]));
    Ok(Parsed {
        items: vec![ctx.record(
            key,
            ctx.default_time(),
            SOURCE,
            Event::ClusterSnapshot(snapshot),
        )],
        ignored: 0,
    })
}

fn required<T>(v: Option<T>, parent: &Obj<'_>, name: &str) -> Result<T, FieldError> {
    v.ok_or_else(|| FieldError::new(parent.field(name), "missing"))
}

/// One run per container and image; a pod that has not pulled its image yet adds nothing when
/// another pod tells the digest the same reference resolved to. A rollout's runs carry their
/// track and share; those of its other ReplicaSets are left out.
fn runs(
    images: BTreeMap<(String, ImageRef, Option<String>), BTreeSet<Option<String>>>,
    rollout: Option<&Rollout>,
    pods: &BTreeMap<String, usize>,
) -> Vec<Run> {
    let mut out = Vec::new();
    for ((container, image, hash), digests) in images {
        let (track, traffic) = match (rollout, &hash) {
            (Some(r), Some(h)) => match share(r, h, pods) {
                Some(s) => s,
                None => continue,
            },
            _ => (None, None),
        };
        let resolved: Vec<String> = digests.into_iter().flatten().collect();
        let refs = if resolved.is_empty() {
            vec![image]
        } else {
            resolved
                .into_iter()
                .map(|d| ImageRef {
                    digest: Some(d),
                    ..image.clone()
                })
                .collect()
        };
        for image in refs {
            let run = Run {
                container: Some(container.clone()),
                image: Some(image),
                component: None,
                version: None,
                traffic,
                track,
            };
            // Two ReplicaSets of one image (a pod template changed, the image did not) are
            // one run when no rollout tells them apart.
            if !out.contains(&run) {
                out.push(run);
            }
        }
    }
    out
}

/// The track and traffic share of a rollout's pods with template hash `hash`; `None` for a
/// ReplicaSet the rollout no longer routes to.
fn share(
    r: &Rollout,
    hash: &str,
    pods: &BTreeMap<String, usize>,
) -> Option<(Option<Track>, Option<u8>)> {
    let count = |h: &str| pods.get(h).copied().unwrap_or(0);
    let by_pods = |h: &str| {
        let all = r
            .stable
            .iter()
            .chain(&r.canary)
            .map(|(h, _)| count(h))
            .sum::<usize>();
        u8::try_from((count(h) * 100 + all / 2) / all.max(1)).ok()
    };
    match (&r.stable, &r.canary) {
        (Some((s, w)), _) if s == hash => Some((Some(Track::Stable), w.or_else(|| by_pods(s)))),
        (_, Some((c, w))) if c == hash => Some((Some(Track::Canary), w.or_else(|| by_pods(c)))),
        _ => None,
    }
}

/// Reads an Argo Rollouts `Rollout`'s status.
fn rollout(o: &Obj<'_>) -> Result<Rollout, FieldError> {
    let empty = serde_json::Value::Object(Default::default());
    let status = match o.obj("status")? {
        Some(s) => s,
        None => Obj::new(&empty, o.field("status"))?,
    };
    let mut r = Rollout {
        aborted: status.bool("abort")? == Some(true),
        degraded: status.str("phase")? == Some("Degraded"),
        ..Rollout::default()
    };
    let side = |w: Option<Obj<'_>>| -> Result<Option<(String, Option<u8>)>, FieldError> {
        let Some(w) = w else { return Ok(None) };
        let weight = w.percent("weight")?;
        Ok(w.str("podTemplateHash")?.map(|h| (h.to_string(), weight)))
    };
    let blue_green = match status.obj("blueGreen")? {
        Some(bg) => bg
            .str("activeSelector")?
            .map(|a| (a, bg.str("previewSelector"))),
        None => None,
    };
    if let Some((active, preview)) = blue_green {
        r.stable = Some((active.to_string(), Some(100)));
        r.canary = preview?
            .filter(|p| *p != active)
            .map(|p| (p.to_string(), Some(0)));
        return Ok(r);
    }
    let weights = match status.obj("canary")? {
        Some(c) => c.obj("weights")?,
        None => None,
    };
    let (stable, canary) = match weights {
        Some(w) => (side(w.obj("stable")?)?, side(w.obj("canary")?)?),
        None => (
            status.str("stableRS")?.map(|h| (h.to_string(), None)),
            status.str("currentPodHash")?.map(|h| (h.to_string(), None)),
        ),
    };
    r.canary = canary.filter(|(c, _)| stable.as_ref().is_none_or(|(s, _)| s != c));
    r.stable = stable.map(|(h, w)| (h, if r.canary.is_none() { Some(100) } else { w }));
    Ok(r)
}

/// The workload a pod belongs to, from its controller (else first) owner: a ReplicaSet's
/// Deployment, a StatefulSet, DaemonSet, Job ...; a pod without an owner, or a static pod
/// (owned by its Node), is its own workload.
fn workload_name(meta: &Obj<'_>, pod: &str) -> Result<String, FieldError> {
    let owners = meta.objs("ownerReferences")?;
    let mut owner = owners.first();
    for o in &owners {
        if o.bool("controller")? == Some(true) {
            owner = Some(o);
            break;
        }
    }
    let Some(owner) = owner else {
        return Ok(pod.to_string());
    };
    let kind = owner.req_str("kind")?;
    let name = required(owner.name("name")?, owner, "name")?;
    Ok(match kind {
        "ReplicaSet" => {
            let hash = match meta.obj("labels")? {
                Some(labels) => match labels.str("pod-template-hash")? {
                    Some(h) => Some(h),
                    None => labels.str(ROLLOUT_HASH)?,
                },
                None => None,
            };
            let by_hash = hash
                .and_then(|h| name.strip_suffix(h))
                .and_then(|n| n.strip_suffix('-'));
            by_hash
                .or_else(|| name.rsplit_once('-').map(|(d, _)| d))
                .filter(|d| !d.is_empty())
                .unwrap_or(name)
                .to_string()
        }
        "Node" => pod.to_string(),
        _ => name.to_string(),
    })
}

/// The digest in a container status's `imageID`: `docker-pullable://repo@sha256:<hex>`,
/// `docker.io/library/nginx@sha256:<hex>` (containerd), or a bare `sha256:<hex>` (an image
/// config id, still a digest). `None` when the container has not pulled yet (`""`).
fn image_id_digest(id: &str) -> Option<String> {
    let id = id.split_once("://").map_or(id, |(_, rest)| rest);
    let d = id.rsplit_once('@').map_or(id, |(_, d)| d);
    valid_digest(d).then(|| d.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hooks::testing::{ctx, image_run, record, time, RECEIVED};
    use serde_json::{json, Value};

    const PODS: &str = include_str!("../../fixtures/kubernetes/pods.json");

    fn prod() -> HookContext<'static> {
        let mut c = ctx();
        c.cluster = Some("prod-eu-1");
        c.environment = Some("prod");
        c
    }

    fn snapshot(p: &Parsed) -> &ClusterSnapshot {
        assert_eq!(p.items.len(), 1);
        match &record(&p.items[0]).event {
            Event::ClusterSnapshot(s) => s,
            other => panic!("not a snapshot: {other:?}"),
        }
    }

    fn workload(
        namespace: &str,
        name: &str,
        status: DeploymentStatus,
        replicas: i32,
        runs: &[(&str, &str)],
    ) -> DeploymentObserved {
        DeploymentObserved {
            cluster: "prod-eu-1".into(),
            namespace: namespace.into(),
            workload: name.into(),
            environment: Some("prod".into()),
            status,
            replicas: Some(replicas),
            runs: runs.iter().map(|(c, i)| image_run(Some(c), i)).collect(),
            revision: None,
            url: None,
        }
    }

    /// The fixture, changed by `f`, as a body.
    fn edited(f: impl FnOnce(&mut Value)) -> Vec<u8> {
        let mut v: Value = serde_json::from_str(PODS).unwrap();
        f(&mut v);
        serde_json::to_vec(&v).unwrap()
    }

    fn err(body: &[u8]) -> String {
        parse(body, &prod()).unwrap_err().field
    }

    #[test]
    fn a_pod_list_is_one_snapshot_of_workloads() {
        use DeploymentStatus::*;
        let p = parse(PODS.as_bytes(), &prod()).unwrap();
        let r = record(&p.items[0]);
        assert_eq!(r.source, "kubernetes");
        assert_eq!(r.actor, "ci-token");
        assert_eq!(r.occurred_at, time(RECEIVED));
        assert_eq!(
            snapshot(&p),
            &ClusterSnapshot {
                cluster: "prod-eu-1".into(),
                environment: Some("prod".into()),
                workloads: vec![
                    // A bare pod is its own workload; its imageID is an image config id.
                    workload("default", "debug-shell", Healthy, 1, &[(
                        "debug-shell",
                        "busybox:1.36@sha256:373251627872b67afc0732b1920e354446f9395006148d22c6bdd3e4f537a26c",
                    )]),
                    // A static pod, owned by its Node.
                    workload("kube-system", "kube-apiserver-node-a1", Healthy, 1, &[(
                        "kube-apiserver",
                        "registry.k8s.io/kube-apiserver:v1.30.4@sha256:468adbee8dc5266ce334f43695bb0fca235ab7655daa1b914de4658a6ce85e2d",
                    )]),
                    // A DaemonSet on two nodes.
                    workload("kube-system", "kube-proxy", Healthy, 2, &[(
                        "kube-proxy",
                        "registry.k8s.io/kube-proxy:v1.30.4@sha256:6e8efc1e177a1e89f1c6b78a83e2931f9fb2dc17425cb661c946a3237130b8a6",
                    )]),
                    // A Deployment halfway through a rolling update: both versions, init
                    // containers included; one new pod still initialising.
                    workload("payments", "cart", Progressing, 4, &[
                        ("cart", "ghcr.io/acme/cart:1.4.1@sha256:eaafd9c89bffb0dd42416e444e0809d5d67260bdfcfd9fc9f0b0f09bdb3a1186"),
                        ("cart", "ghcr.io/acme/cart:1.4.2@sha256:a2c2166211ed6540e42d4f80c43d2902686d3f8c335468f70f01f36e6fa92b23"),
                        ("envoy", "envoyproxy/envoy:v1.31.2@sha256:8075b6532a66a2b873e1c17368210c95014b3bcb93f0e7fc9880d4bfd2808ae7"),
                        ("migrate", "ghcr.io/acme/cart-migrate:1.4.1@sha256:70d3afde6a4ade0fa8fd7ce71ea375140d32d9e23f991ccbd7d2c88de355bde8"),
                        ("migrate", "ghcr.io/acme/cart-migrate:1.4.2@sha256:140f7fae96bfbf4d4b5120e943ec3b47e88911e8fca6a74d8806a7de09baad44"),
                    ]),
                    // A StatefulSet on a docker node (docker-pullable:// imageIDs).
                    workload("payments", "postgres", Healthy, 2, &[(
                        "postgres",
                        "postgres:16.4@sha256:96d71e7844cd87255fe8cd99e2f2fa95579cde47435ef6d970b3339093b661b2",
                    )]),
                    // CrashLoopBackOff.
                    workload("shop", "checkout", Degraded, 1, &[(
                        "checkout",
                        "ghcr.io/acme/checkout:2.0.0@sha256:ccb7d7e512c618aa3fe08740692c99355fc99bf639d1b7550cb73098690aa583",
                    )]),
                    // The finished Job's pod (batch/nightly-report-...) is left out.
                ],
            }
        );
        // The key is the cluster and the body's hash.
        assert_eq!(
            r.key,
            format!("kubernetes:prod-eu-1:{}", sha256_hex(&[PODS.as_bytes()]))
        );
    }

    #[test]
    fn query_parameters() {
        let mut c = prod();
        c.at = Some(time("2026-11-20T10:00:00Z"));
        c.environment = None;
        let p = parse(PODS.as_bytes(), &c).unwrap();
        assert_eq!(
            record(&p.items[0]).occurred_at,
            time("2026-11-20T10:00:00Z")
        );
        let s = snapshot(&p);
        assert_eq!(s.environment, None);
        assert!(s.workloads.iter().all(|w| w.environment.is_none()));

        let e = parse(PODS.as_bytes(), &ctx()).unwrap_err();
        assert_eq!(e.field, "cluster");
        assert_eq!(
            e.reason,
            "missing: pass ?cluster=NAME (a pod list does not name its cluster)"
        );
    }

    #[test]
    fn an_empty_list_is_an_empty_cluster() {
        let body =
            br#"{"apiVersion":"v1","items":[],"kind":"List","metadata":{"resourceVersion":""}}"#;
        let p = parse(body, &prod()).unwrap();
        assert!(snapshot(&p).workloads.is_empty());
    }

    #[test]
    fn replays_keep_their_keys_and_different_snapshots_differ() {
        let a = parse(PODS.as_bytes(), &prod()).unwrap();
        let mut later = prod();
        later.received_at = time("2026-11-22T00:00:00Z");
        let b = parse(PODS.as_bytes(), &later).unwrap();
        assert_eq!(a.items[0].key(), b.items[0].key());
        let changed = PODS.replace("\"restartCount\": 7", "\"restartCount\": 8");
        let c = parse(changed.as_bytes(), &prod()).unwrap();
        assert_ne!(a.items[0].key(), c.items[0].key());
        let mut other = prod();
        other.cluster = Some("prod-eu-2");
        let d = parse(PODS.as_bytes(), &other).unwrap();
        assert_ne!(a.items[0].key(), d.items[0].key());
    }

    #[test]
    fn a_failed_pod_fails_its_workload() {
        let body = edited(|v| v["items"][0]["status"]["phase"] = json!("Failed"));
        let p = parse(&body, &prod()).unwrap();
        let cart = snapshot(&p)
            .workloads
            .iter()
            .find(|w| w.workload == "cart")
            .unwrap();
        assert_eq!(cart.status, DeploymentStatus::Failed);
    }

    #[test]
    fn image_pull_errors_degrade() {
        let body = edited(|v| {
            v["items"][3]["status"]["containerStatuses"][0]["state"] =
                json!({"waiting": {"reason": "ImagePullBackOff"}});
        });
        let p = parse(&body, &prod()).unwrap();
        let cart = snapshot(&p)
            .workloads
            .iter()
            .find(|w| w.workload == "cart")
            .unwrap();
        assert_eq!(cart.status, DeploymentStatus::Degraded);
    }

    #[test]
    fn workload_names_from_owners() {
        let name = |pod: Value| {
            let meta = Obj::new(&pod, "items[0].metadata").unwrap();
            workload_name(&meta, pod["name"].as_str().unwrap()).unwrap()
        };
        let rs = |owner: &str| json!({"kind": "ReplicaSet", "name": owner, "controller": true});
        assert_eq!(
            name(
                json!({"name": "cart-7d9f8b6c5d-4xk2n", "labels": {"pod-template-hash": "7d9f8b6c5d"},
                "ownerReferences": [rs("cart-7d9f8b6c5d")]})
            ),
            "cart"
        );
        // Without the label: the last segment goes.
        assert_eq!(
            name(
                json!({"name": "web-api-5b8c9d7f4-tq9vm", "ownerReferences": [rs("web-api-5b8c9d7f4")]})
            ),
            "web-api"
        );
        assert_eq!(
            name(json!({"name": "x-1", "ownerReferences": [rs("solo")]})),
            "solo"
        );
        // The controller wins over the first owner.
        assert_eq!(
            name(json!({"name": "db-0", "ownerReferences": [
                {"kind": "ConfigMap", "name": "db-config"},
                {"kind": "StatefulSet", "name": "db", "controller": true}]})),
            "db"
        );
        // Else the first owner.
        assert_eq!(
            name(json!({"name": "node-exporter-abc", "ownerReferences": [
                {"kind": "DaemonSet", "name": "node-exporter", "controller": false}]})),
            "node-exporter"
        );
        assert_eq!(
            name(
                json!({"name": "etl-28890000-x", "ownerReferences": [{"kind": "Job", "name": "etl-28890000"}]})
            ),
            "etl-28890000"
        );
        assert_eq!(
            name(
                json!({"name": "etcd-node-a1", "ownerReferences": [{"kind": "Node", "name": "node-a1"}]})
            ),
            "etcd-node-a1"
        );
        assert_eq!(name(json!({"name": "debug"})), "debug");
    }

    #[test]
    fn image_ids() {
        let d = "sha256:96d71e7844cd87255fe8cd99e2f2fa95579cde47435ef6d970b3339093b661b2";
        for id in [
            format!("docker-pullable://postgres@{d}"),
            format!("docker.io/library/postgres@{d}"),
            format!("localhost:5000/shop/cart@{d}"),
            d.to_string(),
            format!("docker://{d}"),
        ] {
            assert_eq!(image_id_digest(&id).as_deref(), Some(d), "{id}");
        }
        for id in [
            "",
            "docker-pullable://postgres",
            "sha256:abc",
            "postgres:16.4",
        ] {
            assert_eq!(image_id_digest(id), None, "{id}");
        }
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(err(b"{\"items\": ["), "body");
        assert_eq!(err(b"[]"), "body");
        assert_eq!(err(b"{\"kind\": \"List\"}"), "items");
        assert_eq!(err(b"{\"items\": {}}"), "items");
        assert_eq!(err(b"{\"items\": [1]}"), "items[0]");
        assert_eq!(
            err(&edited(
                |v| v["items"][0]["spec"]["containers"][1]["image"] = json!("Envoy:latest")
            )),
            "items[0].spec.containers[1].image"
        );
        assert_eq!(
            err(&edited(
                |v| v["items"][2]["spec"]["initContainers"][0]["image"] = json!("")
            )),
            "items[2].spec.initContainers[0].image"
        );
        assert_eq!(
            err(&edited(|v| v["items"][2]["metadata"]["name"] = Value::Null)),
            "items[2].metadata.name"
        );
        assert_eq!(
            err(&edited(
                |v| v["items"][5]["metadata"]["namespace"] = json!(5)
            )),
            "items[5].metadata.namespace"
        );
        assert_eq!(
            err(&edited(|v| v["items"][0]["kind"] = json!("Deployment"))),
            "items[0].kind"
        );
        assert_eq!(
            err(&edited(|v| v["items"][1]["spec"]
                .as_object_mut()
                .unwrap()
                .remove("containers")
                .map(drop)
                .unwrap())),
            "items[1].spec.containers"
        );
        assert_eq!(
            err(&edited(
                |v| v["items"][1]["status"]["conditions"] = json!("Ready")
            )),
            "items[1].status.conditions"
        );
        assert_eq!(
            err(&edited(
                |v| v["items"][1]["metadata"]["ownerReferences"][0]["controller"] = json!("yes")
            )),
            "items[1].metadata.ownerReferences[0].controller"
        );
        let mut c = prod();
        c.cluster = Some("");
        assert_eq!(parse(PODS.as_bytes(), &c).unwrap_err().field, "cluster");
    }

    /// (workload, status, [(version tag, track, traffic)]) of each workload of a fixture.
    type Share = (String, Option<Track>, Option<u8>);

    fn rollout_view(fixture: &str) -> Vec<(String, DeploymentStatus, Vec<Share>)> {
        let p = parse(fixture.as_bytes(), &prod()).unwrap();
        snapshot(&p)
            .workloads
            .iter()
            .map(|w| {
                let runs = w
                    .runs
                    .iter()
                    .map(|r| {
                        let img = r.image.as_ref().unwrap();
                        assert!(img.digest.is_some(), "{img}: the pod's imageID names it");
                        (img.tag.clone().unwrap(), r.track, r.traffic)
                    })
                    .collect();
                (w.workload.clone(), w.status, runs)
            })
            .collect()
    }

    #[test]
    fn an_argo_rollout_is_one_workload_with_its_tracks_and_traffic() {
        use DeploymentStatus::*;
        use Track::{Canary, Stable};
        let k = |f: &str| format!("{}/fixtures/kubernetes/{f}", env!("CARGO_MANIFEST_DIR"));
        let read = |f: &str| std::fs::read_to_string(k(f)).unwrap();
        let run = |v: &str, t: Track, p: u8| (v.to_string(), Some(t), Some(p));
        let cart = |status, runs| vec![("cart".to_string(), status, runs)];
        assert_eq!(
            rollout_view(&read("rollout-canary-10.json")),
            cart(
                Progressing,
                vec![run("1.0.0", Stable, 90), run("1.1.0", Canary, 10)]
            )
        );
        assert_eq!(
            rollout_view(&read("rollout-canary-50.json")),
            cart(
                Progressing,
                vec![run("1.0.0", Stable, 50), run("1.1.0", Canary, 50)]
            )
        );
        // Promoted: both weights name the new hash; it is the stable side at 100%.
        assert_eq!(
            rollout_view(&read("rollout-canary-promoted.json")),
            cart(Healthy, vec![run("1.1.0", Stable, 100)])
        );
        // Aborted: traffic is back on 1.1.0; the canary's pod is still there, at 0%.
        assert_eq!(
            rollout_view(&read("rollout-canary-aborted.json")),
            cart(
                RolledBack,
                vec![run("1.1.0", Stable, 100), run("1.2.0", Canary, 0)]
            )
        );
        // Blue/green: the preview takes no traffic until promoted; then the old pods, still
        // scaling down, are left out.
        let checkout = |status, runs| vec![("checkout".to_string(), status, runs)];
        assert_eq!(
            rollout_view(&read("rollout-bluegreen-preview.json")),
            checkout(
                Progressing,
                vec![run("2.0.0", Stable, 100), run("2.1.0", Canary, 0)]
            )
        );
        assert_eq!(
            rollout_view(&read("rollout-bluegreen-promoted.json")),
            checkout(Healthy, vec![run("2.1.0", Stable, 100)])
        );

        // Without traffic routing, a basic canary's shares are its pods' (4 stable, 1 canary).
        let mut v: Value = serde_json::from_str(&read("rollout-canary-10.json")).unwrap();
        let n = v["items"].as_array().unwrap().len();
        v["items"][n - 1]["status"]["canary"] = json!({});
        assert_eq!(
            rollout_view(&v.to_string()),
            cart(
                Progressing,
                vec![run("1.0.0", Stable, 80), run("1.1.0", Canary, 20)]
            )
        );
        // A bad weight is named.
        v["items"][n - 1]["status"]["canary"] =
            json!({"weights": {"canary": {"podTemplateHash": "5b8d6c7f8d", "weight": 150}}});
        assert_eq!(
            parse(v.to_string().as_bytes(), &prod()).unwrap_err().field,
            format!("items[{}].status.canary.weights.canary.weight", n - 1)
        );
        // Another group's Rollout is not Argo's.
        v["items"][n - 1]["apiVersion"] = json!("example.com/v1");
        assert_eq!(
            parse(v.to_string().as_bytes(), &prod()).unwrap_err().field,
            format!("items[{}].kind", n - 1)
        );
    }

    #[test]
    fn two_replica_sets_of_one_image_without_their_rollout_are_one_run() {
        let k = format!(
            "{}/fixtures/kubernetes/rollout-canary-10.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let mut v: Value = serde_json::from_str(&std::fs::read_to_string(k).unwrap()).unwrap();
        let items = v["items"].as_array_mut().unwrap();
        items.retain(|i| i["kind"] == "Pod");
        // The canary's template changed, its image did not (a new environment variable, say).
        let digest = format!("registry.example.com/shop/cart@sha256:{}", "e".repeat(64));
        for i in items.iter_mut() {
            i["spec"]["containers"][0]["image"] = json!("registry.example.com/shop/cart:1.0.0");
            i["status"]["containerStatuses"][0]["imageID"] = json!(digest);
        }
        let p = parse(v.to_string().as_bytes(), &prod()).unwrap();
        let w = &snapshot(&p).workloads;
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].runs.len(), 1, "{:?}", w[0].runs);
        assert_eq!(w[0].replicas, Some(5));
    }
}
