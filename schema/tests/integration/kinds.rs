//! One event of every kind (and several of most), for the tests that must see the whole
//! vocabulary go through the log: pages, kind filters, keys, snapshots of a graph folded
//! from them.

use super::new_event;
use catalog_core::deployment::{
    ClusterSnapshot, DeploymentObserved, DeploymentStatus as S, ImageRef, Run,
};
use catalog_core::entity::{Contacts, Entity, EntityKind};
use catalog_core::event::{Event, NewEvent, SbomAttached};
use catalog_core::osv::Vulnerability;
use catalog_core::purl::Purl;
use catalog_core::sbom::{Sbom, SbomPackage};
use catalog_core::vex::{VexDocument, VexProduct, VexStatement, VexStatus};

const A: &str = "sha256:aaaa000000000000000000000000000000000000000000000000000000000001";
const B: &str = "sha256:bbbb000000000000000000000000000000000000000000000000000000000002";
const LOG4J: &str = "pkg:maven/org.apache.logging.log4j/log4j-core";

/// Deployments and snapshots, SBOMs and a vulnerability, descriptors, dependencies,
/// contacts and applications.
pub(super) fn events() -> Vec<NewEvent> {
    let mut all = deployment_events();
    all.extend(sbom_events());
    all.extend(dependency_events());
    all.extend(contacts_events());
    all.extend(application_events());
    all.extend(governance_events());
    all
}

/// An approval, a rejection, and a policy set put in force.
fn governance_events() -> Vec<NewEvent> {
    use catalog_core::governance::{Approval, Decision, PolicyFile, PolicySet};
    let decide = |min: u32, who: &str, decision: Decision| {
        new_event(
            format!("approval:shop/cart@1.0.0:prod:{who}:{min}"),
            min,
            Event::ApprovalRecorded(Approval {
                component: "shop/cart".into(),
                version: "1.0.0".into(),
                environment: "prod".into(),
                decision,
                approver: who.into(),
                comment: Some("looked at the diff".into()),
            }),
        )
    };
    let files = vec![PolicyFile {
        file: "prod.rego".into(),
        digest: "sha256:00".into(),
        package: "data.catalog.prod".into(),
        source: "package catalog.prod\n".into(),
    }];
    let set = PolicySet {
        digest: PolicySet::digest_of(&files),
        files,
    };
    let window = catalog_core::governance::CalendarEntry {
        id: "prod-window-1".into(),
        environment: "prod".into(),
        category: catalog_core::governance::CalendarKind::Window,
        start: super::at(20),
        end: super::at(25),
        summary: "Tuesday release window".into(),
        component: None,
        version: None,
    };
    let violation = catalog_core::governance::Violation {
        deployment: "cli:1".into(),
        environment: Some("prod".into()),
        cluster: "prod-eu-1".into(),
        namespace: "shop".into(),
        workload: "cart".into(),
        component: "shop/cart".into(),
        version: "1.0.0".into(),
        deployer: "ci".into(),
        policy_set: "sha256:00".into(),
        reasons: vec![catalog_core::governance::ViolationReason {
            policy: "catalog.prod".into(),
            message: "needs an approval".into(),
        }],
    };
    vec![
        new_event(
            "policy.judged:sha256:00:10".into(),
            11,
            Event::PolicyJudged(catalog_core::governance::Judged {
                through: 10,
                policy_set: "sha256:00".into(),
                deployments: 1,
                violations: 1,
            }),
        ),
        new_event(
            "violation:cli:1".into(),
            10,
            Event::PolicyViolated(Box::new(violation)),
        ),
        new_event(
            "calendar:prod-window-1:1".into(),
            8,
            Event::CalendarEntryRecorded(window),
        ),
        new_event(
            "calendar.removed:prod-window-1:2".into(),
            9,
            Event::CalendarEntryRemoved {
                id: "prod-window-1".into(),
            },
        ),
        decide(5, "alice", Decision::Approved),
        decide(6, "bob", Decision::Rejected),
        new_event(
            format!("policy.loaded:1:{}", set.digest),
            7,
            Event::PolicySetLoaded(Box::new(set)),
        ),
        new_event(
            "config:prod-1".into(),
            12,
            Event::ConfigSet(catalog_core::configuration::ConfigSet {
                scope: catalog_core::configuration::ConfigScope::Namespace {
                    cluster: "prod-eu-1".into(),
                    namespace: "shop".into(),
                },
                values: [
                    ("LOG_LEVEL".to_string(), Some("info".to_string())),
                    ("OLD_FLAG".to_string(), None),
                ]
                .into(),
            }),
        ),
        new_event(
            "notify.rule:payments:prod:1".into(),
            13,
            Event::NotificationRuleSet(catalog_core::notify::NotificationRule {
                team: Some("payments".into()),
                environment: Some("prod".into()),
                endpoints: vec!["pd-payments".into()],
                on: vec![catalog_core::notify::Trigger::Vulnerability],
                min_severity: Some(catalog_core::notify::Severity::High),
                removed: false,
            }),
        ),
    ]
}

fn observed(cluster: &str, workload: &str, status: S, tag: Option<&str>) -> DeploymentObserved {
    DeploymentObserved {
        cluster: cluster.into(),
        namespace: "shop".into(),
        workload: workload.into(),
        environment: Some(
            if cluster.starts_with("prod") {
                "prod"
            } else {
                "staging"
            }
            .into(),
        ),
        status,
        replicas: Some(3),
        runs: tag
            .map(|t| {
                vec![Run {
                    container: Some(workload.into()),
                    image: Some(
                        ImageRef::parse(&format!("registry.test/shop/{workload}:{t}")).unwrap(),
                    ),
                    component: None,
                    version: None,
                    traffic: None,
                    track: None,
                }]
            })
            .unwrap_or_default(),
        revision: None,
        url: None,
    }
}

fn deploy(
    n: u32,
    min: u32,
    cluster: &str,
    workload: &str,
    status: S,
    tag: Option<&str>,
) -> NewEvent {
    new_event(
        format!("deploy:{n}"),
        min,
        Event::DeploymentObserved(observed(cluster, workload, status, tag)),
    )
}

fn deployment_events() -> Vec<NewEvent> {
    vec![
        deploy(1, 1, "prod-1", "cart", S::Healthy, Some("1.0.0")),
        deploy(2, 2, "staging-1", "cart", S::Healthy, Some("1.1.0")),
        deploy(3, 3, "prod-1", "cart", S::Failed, Some("1.1.0")),
        deploy(4, 4, "prod-1", "cart", S::RolledBack, Some("1.0.0")),
        deploy(5, 5, "staging-1", "api", S::Healthy, Some("2.0.0")),
        new_event(
            "snapshot:6".into(),
            6,
            Event::ClusterSnapshot(ClusterSnapshot {
                cluster: "staging-1".into(),
                environment: None,
                workloads: vec![observed("staging-1", "cart", S::Healthy, Some("1.1.0"))],
            }),
        ),
        deploy(7, 7, "prod-1", "cart", S::Removed, None),
        deploy(8, 8, "prod-1", "api", S::Healthy, Some("2.0.0")),
    ]
}

fn pkg(purl: &str, depth: u32) -> SbomPackage {
    let p = Purl::parse(purl).unwrap();
    SbomPackage {
        purl: Some(p.to_string()),
        name: p.name.clone(),
        version: p.version.clone(),
        licenses: Vec::new(),
        hashes: Default::default(),
        depth: Some(depth),
        depends_on: Vec::new(),
    }
}

pub(super) fn sbom(min: u32, image: &str, doc: &str, packages: Vec<SbomPackage>) -> NewEvent {
    new_event(
        format!("sbom:{image}:{doc}"),
        min,
        Event::SbomAttached(SbomAttached {
            image: image.into(),
            document_digest: doc.into(),
            via: "upload".into(),
            sbom: Sbom {
                format: "SPDX".into(),
                spec_version: "2.3".into(),
                subject: None,
                packages,
                warnings: Vec::new(),
                warnings_omitted: 0,
            },
        }),
    )
}

fn sbom_events() -> Vec<NewEvent> {
    let osv = br#"{"id":"GHSA-1","modified":"2024-01-01T00:00:00Z",
        "affected":[{"package":{"ecosystem":"Maven","name":"org.apache.logging.log4j:log4j-core"},
        "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"2.0"},{"fixed":"2.15.0"}]}]}]}"#;
    vec![
        sbom(
            1,
            A,
            "sha256:d1",
            vec![
                pkg(&format!("{LOG4J}@2.14.1"), 1),
                pkg("pkg:pypi/Django_Rest@1.0", 2),
                // The same version twice (two jars): one row, the shallower depth.
                pkg(&format!("{LOG4J}@2.14.1?type=jar"), 3),
            ],
        ),
        sbom(2, B, "sha256:d2", vec![pkg(&format!("{LOG4J}@2.17.1"), 2)]),
        // A's SBOM again, newer: log4j upgraded.
        sbom(5, A, "sha256:d3", vec![pkg(&format!("{LOG4J}@2.17.1"), 1)]),
        // An older SBOM of B arriving after the newer one: it must not win.
        sbom(0, B, "sha256:d0", vec![pkg("pkg:npm/left-pad@1.0.0", 1)]),
        new_event(
            "osv:GHSA-1".into(),
            6,
            Event::VulnerabilityPublished(Box::new(Vulnerability::parse(osv).unwrap())),
        ),
        // B's vendor says it is not affected.
        new_event(
            "vex:doc-1".into(),
            7,
            Event::VexRecorded(Box::new(VexDocument {
                id: "doc-1".into(),
                format: "openvex".into(),
                via: "upload".into(),
                author: "security@vendor.example".into(),
                statements: vec![VexStatement {
                    vulnerability: "GHSA-1".into(),
                    aliases: Vec::new(),
                    products: vec![VexProduct::Image { digest: B.into() }],
                    subcomponents: Vec::new(),
                    status: VexStatus::NotAffected,
                    justification: Some("vulnerable_code_not_in_execute_path".into()),
                    impact: None,
                    action: None,
                    timestamp: super::at(7),
                    until: None,
                }],
            })),
        ),
    ]
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn component(name: &str) -> Entity {
    Entity::new(EntityKind::Component, name)
}

fn entity(min: u32, e: Entity) -> NewEvent {
    new_event(
        format!("entity:{}:{min}", e.reference()),
        min,
        Event::EntityDeclared(Box::new(e)),
    )
}

fn dependency(min: u32, from: &str, to: &str, present: bool) -> NewEvent {
    let (from, to) = (from.to_string(), to.to_string());
    if present {
        new_event(
            format!("dependency:declared:{from}:{to}:{min}"),
            min,
            Event::DependencyDeclared { from, to },
        )
    } else {
        new_event(
            format!("dependency:removed:{from}:{to}:{min}"),
            min,
            Event::DependencyRemoved { from, to },
        )
    }
}

fn reach(email: Option<&str>, chat: Option<&str>, pager: Option<&str>) -> Contacts {
    Contacts {
        email: email.map(str::to_string),
        chat: chat.map(str::to_string),
        pager: pager.map(str::to_string),
    }
}

fn contacts(min: u32, team: &str, c: Contacts) -> NewEvent {
    new_event(
        format!("contacts:{team}:{min}"),
        min,
        Event::TeamContacts {
            team: team.into(),
            contacts: c,
        },
    )
}

fn group(min: u32, kind: EntityKind, name: &str, c: Contacts) -> NewEvent {
    entity(
        min,
        Entity {
            contacts: c,
            ..Entity::new(kind, name)
        },
    )
}

fn application(min: u32, name: &str, members: &[&str], owner: Option<&str>) -> NewEvent {
    new_event(
        format!("application:{name}:{min}"),
        min,
        Event::ApplicationDeclared {
            application: name.into(),
            components: names(members),
            owner: owner.map(str::to_string),
        },
    )
}

fn contacts_events() -> Vec<NewEvent> {
    vec![
        contacts(1, "payments", reach(Some("pay@x"), Some("#pay"), None)),
        group(
            3,
            EntityKind::Group,
            "payments",
            reach(Some("g@x"), None, None),
        ),
        contacts(2, "payments", reach(None, None, Some("pd-pay"))),
        group(
            1,
            EntityKind::User,
            "alice",
            reach(Some("alice@x"), None, None),
        ),
        contacts(2, "alice", reach(None, Some("@alice"), None)),
        // Same time: the greater key wins (`entity:...` > `contacts:...`).
        contacts(5, "ops", reach(Some("ops@x"), None, None)),
        group(5, EntityKind::Group, "ops", reach(None, Some("#ops"), None)),
        // A later descriptor without contacts clears them.
        contacts(4, "sre", reach(Some("sre@x"), None, Some("pd-sre"))),
        group(6, EntityKind::Group, "sre", Contacts::default()),
    ]
}

fn dependency_events() -> Vec<NewEvent> {
    vec![
        entity(
            1,
            Entity {
                depends_on: names(&["b", "c"]),
                ..component("a")
            },
        ),
        dependency(2, "a", "d", true),
        // Re-declared without c and d: the descriptor is later than the API's d.
        entity(
            3,
            Entity {
                depends_on: names(&["b", "x"]),
                ..component("a")
            },
        ),
        // A removal newer than the descriptor wins; so does a later declaration.
        dependency(4, "a", "b", false),
        dependency(5, "a", "e", true),
        // Consumers depend on the providers of what they consume; the provider's descriptor
        // arrives after the consumer's here, and before it in reverse.
        entity(
            5,
            Entity {
                consumes_apis: names(&["orders"]),
                ..component("e")
            },
        ),
        // An API removal older than the consumer's descriptor loses to it.
        dependency(4, "e", "p", false),
        entity(
            6,
            Entity {
                provides_apis: names(&["orders"]),
                ..component("p")
            },
        ),
        entity(
            1,
            Entity {
                provides_apis: names(&["orders"]),
                ..component("q")
            },
        ),
        // q stops providing it.
        entity(7, component("q")),
        // Never a self-dependency, however declared.
        entity(
            2,
            Entity {
                depends_on: names(&["s"]),
                provides_apis: names(&["self-api"]),
                consumes_apis: names(&["self-api"]),
                ..component("s")
            },
        ),
        dependency(3, "s", "s", true),
        // Ties between the API and the descriptor go to the API.
        entity(2, component("f")),
        dependency(2, "f", "g", true),
        entity(
            3,
            Entity {
                depends_on: names(&["i"]),
                ..component("h")
            },
        ),
        dependency(3, "h", "i", false),
    ]
}

fn application_events() -> Vec<NewEvent> {
    vec![
        application(1, "shop", &["shop/cart", "shop/web"], Some("checkout")),
        // Replaces the API members; names no owner, so the owner stands.
        application(3, "shop", &["shop/cart", "shop/search"], None),
        // Older: changes nothing.
        application(0, "shop", &["legacy"], Some("old-owner")),
        entity(
            2,
            Entity {
                system: Some("shop".into()),
                ..component("shop/pay")
            },
        ),
        // pay moves to billing.
        entity(
            4,
            Entity {
                system: Some("billing".into()),
                ..component("shop/pay")
            },
        ),
        entity(
            2,
            Entity {
                system: Some("shop".into()),
                ..component("shop/ledger")
            },
        ),
        // A member both ways is one member.
        entity(
            2,
            Entity {
                system: Some("shop".into()),
                ..component("shop/cart")
            },
        ),
        entity(
            2,
            Entity {
                owner: Some("shop-team".into()),
                ..Entity::new(EntityKind::System, "shop")
            },
        ),
        entity(
            1,
            Entity {
                owner: Some("billing-team".into()),
                ..Entity::new(EntityKind::System, "billing")
            },
        ),
    ]
}
