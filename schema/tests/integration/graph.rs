//! The service-level graph in the store: descriptor entities, ownership ranks, team contacts,
//! dependencies (API declarations against descriptors, provided/consumed APIs) and
//! applications, each the same rows whatever the arrival order and however often replayed;
//! and the blast radius answered by one recursive SQL statement, equal to a naive walk over
//! the same rows.

use super::packages::{pkg, sbom};
use super::{new_event, owner_set, push, record_each, Kind, TestDb};
use catalog_core::entity::{Contacts, Entity, EntityKind};
use catalog_core::event::{Event, NewEvent};
use catalog_core::identity::labels;
use catalog_schema::{BlastOf, BlastSql, GraphRows, OwnerRow, Store};
use diesel::prelude::*;
use diesel::sql_types::Text;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

// ===================================================================================
// Event builders
// ===================================================================================

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

// ===================================================================================
// Order-insensitivity: the rows of every table these rules write
// ===================================================================================

/// Every column of the tables the graph rules write (and the ones they touch).
const TABLES: [(&str, &str); 9] = [
    (
        "entities",
        "reference, kind, name, event_key, declared_at, payload",
    ),
    ("entity_apis", "entity, api, role"),
    (
        "dependency_declarations",
        "from_component, to_component, present, since, event_key",
    ),
    ("dependencies", "from_component, to_component"),
    (
        "applications",
        "name, owner, owner_at, owner_key, declared_at, event_key",
    ),
    ("application_members", "application, component, via"),
    (
        "teams",
        "name, email, chat, pager, created_at, contacts_at, contacts_key",
    ),
    ("ownership", "component, team, via_rank, since"),
    ("components", "name, created_at"),
];

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

type Snapshot = BTreeMap<&'static str, Vec<String>>;

/// Every row of [`TABLES`], each as one line of text, sorted.
fn snapshot(db: &TestDb) -> Snapshot {
    TABLES
        .iter()
        .map(|(table, cols)| {
            let line = cols
                .split(", ")
                .map(|c| format!("COALESCE(CAST({c} AS TEXT), '-')"))
                .collect::<Vec<_>>()
                .join(" || '|' || ");
            let sql = format!("SELECT {line} AS line FROM {table}");
            let rows: Vec<Line> = match db.kind {
                Kind::Sqlite => diesel::sql_query(&sql).load(&mut db.sqlite_conn()),
                Kind::Postgres => diesel::sql_query(&sql).load(&mut db.pg_conn()),
            }
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
            let mut lines: Vec<String> = rows.into_iter().map(|r| r.line).collect();
            lines.sort();
            (*table, lines)
        })
        .collect()
}

/// Records `events` one by one in the given order on `store`, in reverse order on a second
/// database, and interleaved in a single batch on a third; replays everything on all three.
/// Every table must hold the same rows each time, and `check` must pass on each store.
fn same_rows_in_any_order(
    store: &Store,
    db: &TestDb,
    events: &[NewEvent],
    check: impl Fn(&str, &Store),
) -> Snapshot {
    record_each(store, events);
    check("given order", store);
    let want = snapshot(db);

    let reversed: Vec<NewEvent> = events.iter().rev().cloned().collect();
    let rev_db = db.sibling();
    let rev = rev_db.open();
    record_each(&rev, &reversed);
    check("reverse order", &rev);
    assert_eq!(snapshot(&rev_db), want, "reverse order");

    // Odd positions first, then even ones, all in one transaction.
    let interleaved: Vec<NewEvent> = events
        .iter()
        .skip(1)
        .step_by(2)
        .chain(events.iter().step_by(2))
        .cloned()
        .collect();
    let one_db = db.sibling();
    let one = one_db.open();
    assert_eq!(
        one.record(&[(None, interleaved)]).unwrap().len(),
        events.len()
    );
    check("one batch", &one);
    assert_eq!(snapshot(&one_db), want, "interleaved, one batch");

    for (s, d) in [(store, db), (&rev, &rev_db), (&one, &one_db)] {
        assert!(s.record(&[(None, events.to_vec())]).unwrap().is_empty());
        for e in &reversed {
            assert!(s.record(&[(None, vec![e.clone()])]).unwrap().is_empty());
        }
        assert_eq!(snapshot(d), want, "after replays");
        check("after replays", s);
    }
    want
}

// ===================================================================================
// 1. Ownership: label < declared (api, backstage); the later of two declared ones wins
// ===================================================================================

const CART: &str = "shop/cart";
const WEB: &str = "shop/web";
const DB: &str = "shop/db";
const QUEUE: &str = "shop/queue";

fn ownership_events() -> Vec<NewEvent> {
    vec![
        push(
            1,
            CART,
            Some("1.0.0"),
            "sha256:c1",
            &[(labels::OWNER, "label-team")],
        ),
        entity(
            2,
            Entity {
                owner: Some("team-a".into()),
                ..component(CART)
            },
        ),
        // A later label never beats a declared owner.
        push(
            5,
            CART,
            Some("1.1.0"),
            "sha256:c2",
            &[(labels::OWNER, "label-late")],
        ),
        owner_set(3, CART, "api-team", "api"),
        // The latest declared owner wins, whether from the API or a descriptor.
        entity(
            4,
            Entity {
                owner: Some("team-b".into()),
                ..component(CART)
            },
        ),
        owner_set(0, CART, "api-old", "api"),
        // Labels only: the later label wins.
        push(
            1,
            WEB,
            Some("1.0.0"),
            "sha256:w1",
            &[(labels::OWNER, "web-label")],
        ),
        owner_set(2, WEB, "web-label-2", "label"),
        // `via: backstage` is declared too.
        owner_set(2, DB, "dba", "label"),
        owner_set(3, DB, "dba-declared", "backstage"),
        owner_set(4, DB, "dba-late-label", "label"),
        // A Resource owns like a Component.
        entity(
            2,
            Entity {
                owner: Some("infra".into()),
                ..Entity::new(EntityKind::Resource, QUEUE)
            },
        ),
        push(
            3,
            QUEUE,
            Some("1.0.0"),
            "sha256:q1",
            &[(labels::OWNER, "label-q")],
        ),
        // Any entity's owner is a team.
        entity(
            1,
            Entity {
                owner: Some("api-owners".into()),
                ..Entity::new(EntityKind::Api, "orders")
            },
        ),
    ]
}

pub(super) fn entity_ownership_ranks(store: &Store, db: &TestDb) {
    let snap = same_rows_in_any_order(store, db, &ownership_events(), |order, s| {
        let owners: Vec<Option<String>> = [CART, WEB, DB, QUEUE]
            .iter()
            .map(|c| s.owner_of(c).unwrap())
            .collect();
        assert_eq!(
            owners,
            [
                Some("team-b".to_string()),
                Some("web-label-2".to_string()),
                Some("dba-declared".to_string()),
                Some("infra".to_string()),
            ],
            "{order}"
        );
        assert_eq!(
            s.team_contacts("api-owners").unwrap(),
            Some((None, None, None))
        );
        assert_eq!(s.team_contacts("nobody").unwrap(), None);
    });
    assert_eq!(
        snap["ownership"]
            .iter()
            .map(|l| l.split('|').take(3).collect::<Vec<_>>().join("|"))
            .collect::<Vec<_>>(),
        [
            "shop/cart|team-b|1",
            "shop/db|dba-declared|1",
            "shop/queue|infra|1",
            "shop/web|web-label-2|0",
        ]
    );
    assert_eq!(
        snap["entities"].len(),
        3,
        "component:shop/cart once, its latest"
    );
    assert!(snap["entities"][1].starts_with("component:shop/cart|component|shop/cart|"));
    assert!(snap["entities"][1].contains("team-b"));
}

// ===================================================================================
// 2. Team contacts: the latest of team.contacts and the Group/User descriptor, whole
// ===================================================================================

pub(super) fn contacts_events() -> Vec<NewEvent> {
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

pub(super) fn contacts_latest_wins(store: &Store, db: &TestDb) {
    same_rows_in_any_order(store, db, &contacts_events(), |order, s| {
        let got: Vec<_> = ["payments", "alice", "ops", "sre", "nobody"]
            .iter()
            .map(|t| s.team_contacts(t).unwrap())
            .collect();
        let some = |s: &str| Some(s.to_string());
        assert_eq!(
            got,
            [
                Some((some("g@x"), None, None)),
                Some((None, some("@alice"), None)),
                Some((None, some("#ops"), None)),
                Some((None, None, None)),
                None,
            ],
            "{order}"
        );
    });
}

// ===================================================================================
// 3. Dependencies: API declarations against the `from` descriptor, APIs, self-edges
// ===================================================================================

pub(super) fn dependency_events() -> Vec<NewEvent> {
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

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

pub(super) fn dependency_rules(store: &Store, db: &TestDb) {
    let snap = same_rows_in_any_order(store, db, &dependency_events(), |order, s| {
        assert_eq!(
            s.dependencies().unwrap(),
            pairs(&[("a", "e"), ("a", "x"), ("e", "p"), ("f", "g")]),
            "{order}"
        );
    });
    assert_eq!(
        snap["entity_apis"],
        [
            "e|orders|consumes",
            "p|orders|provides",
            "s|self-api|consumes",
            "s|self-api|provides",
        ]
    );
    assert_eq!(snap["dependency_declarations"].len(), 7);
    // Every named component has a row: descriptors, their targets, declared pairs.
    let components: BTreeSet<&str> = snap["components"]
        .iter()
        .map(|l| l.split('|').next().unwrap())
        .collect();
    for c in [
        "a", "b", "c", "d", "e", "x", "p", "q", "s", "f", "g", "h", "i",
    ] {
        assert!(components.contains(c), "component {c}: {components:?}");
    }
}

// ===================================================================================
// 4. Applications: the latest API declaration's members plus descriptors' systems
// ===================================================================================

pub(super) fn application_events() -> Vec<NewEvent> {
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

pub(super) fn applications_union(store: &Store, db: &TestDb) {
    let snap = same_rows_in_any_order(store, db, &application_events(), |order, s| {
        assert_eq!(
            s.application_members().unwrap(),
            pairs(&[
                ("billing", "shop/pay"),
                ("shop", "shop/cart"),
                ("shop", "shop/ledger"),
                ("shop", "shop/search"),
            ]),
            "{order}"
        );
        assert_eq!(
            s.graph_rows().unwrap().application_owners,
            [
                ("billing".to_string(), Some("billing-team".to_string())),
                ("shop".to_string(), Some("shop-team".to_string())),
            ],
            "{order}"
        );
    });
    assert_eq!(
        snap["application_members"],
        [
            "billing|shop/pay|backstage",
            "shop|shop/cart|api",
            "shop|shop/cart|backstage",
            "shop|shop/ledger|backstage",
            "shop|shop/search|api",
        ]
    );
    assert!(snap["teams"].iter().any(|l| l.starts_with("old-owner|")));
}

/// Every kind of graph event, for the log tests.
pub(super) fn events() -> Vec<NewEvent> {
    let mut all = dependency_events();
    all.extend(contacts_events());
    all.extend(application_events());
    all
}

// ===================================================================================
// 5. Blast radius by SQL alone
// ===================================================================================

const IMG1: &str = "sha256:1111000000000000000000000000000000000000000000000000000000000001";
const IMG2: &str = "sha256:2222000000000000000000000000000000000000000000000000000000000002";
const IMG3: &str = "sha256:3333000000000000000000000000000000000000000000000000000000000003";
const LOG4J: &str = "pkg:maven/org.apache.logging.log4j/log4j-core";

/// cart (built from IMG1, log4j 2.14.1) and api (IMG2, log4j 2.17.1); front depends on cart
/// and mobile, edge on front, mobile on edge (a cycle front -> mobile -> edge -> front, the
/// last edge from the API); cart depends on db (forward: never in a reverse closure).
fn blast_events() -> Vec<NewEvent> {
    vec![
        push(1, CART, Some("1.0.0"), IMG1, &[(labels::OWNER, "checkout")]),
        push(1, "shop/api", Some("2.0.0"), IMG2, &[]),
        push(1, "shop/other", Some("1.0.0"), IMG3, &[]),
        sbom(
            2,
            IMG1,
            "sha256:d1",
            vec![
                pkg(&format!("{LOG4J}@2.14.1?type=jar"), 3),
                pkg(&format!("{LOG4J}@2.14.1"), 1),
            ],
        ),
        sbom(
            2,
            IMG2,
            "sha256:d2",
            vec![pkg(&format!("{LOG4J}@2.17.1"), 2)],
        ),
        sbom(2, IMG3, "sha256:d3", vec![pkg("pkg:npm/left-pad@1.0.0", 1)]),
        entity(
            3,
            Entity {
                owner: Some("web-team".into()),
                depends_on: names(&[CART, "shop/mobile"]),
                system: Some("shop".into()),
                ..component("shop/front")
            },
        ),
        entity(
            3,
            Entity {
                depends_on: names(&["shop/front"]),
                system: Some("ops".into()),
                ..component("shop/edge")
            },
        ),
        dependency(4, "shop/mobile", "shop/edge", true),
        entity(
            3,
            Entity {
                depends_on: names(&[DB]),
                ..component(CART)
            },
        ),
        contacts(3, "web-team", reach(Some("web@x"), None, Some("pd-web"))),
        application(3, "shop", &["shop/front"], Some("shop-team")),
        entity(
            3,
            Entity {
                owner: Some("ops-team".into()),
                ..Entity::new(EntityKind::System, "ops")
            },
        ),
    ]
}

/// The same question answered by a breadth-first walk over the rows, in Rust.
fn naive_blast(rows: &GraphRows, of: &BlastOf, max: i32) -> BlastSql {
    let mut out = BlastSql::default();
    let mut seeds: Vec<(String, i32)> = Vec::new();
    let versions: BTreeSet<&str> = match of {
        BlastOf::PackageVersion(pv) => [pv.as_str()].into_iter().collect(),
        BlastOf::Package(p) => rows
            .package_versions
            .iter()
            .filter(|(_, package)| package == p)
            .map(|(pv, _)| pv.as_str())
            .collect(),
        BlastOf::Component(_) => BTreeSet::new(),
    };
    let mut images: BTreeMap<&str, Option<i32>> = BTreeMap::new();
    for (image, pv, depth) in &rows.image_packages {
        if versions.contains(pv.as_str()) {
            let d = images.entry(image).or_insert(*depth);
            *d = match (*d, *depth) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
    }
    if max >= 1 {
        out.images = images.iter().map(|(i, d)| (i.to_string(), *d)).collect();
    }
    if max >= 2 {
        for (c, v, digest) in &rows.component_versions {
            if images.contains_key(digest.as_str()) {
                out.component_versions.push((c.clone(), v.clone()));
                if max >= 3 {
                    seeds.push((c.clone(), 3));
                }
            }
        }
    }
    if let BlastOf::Component(name) = of {
        if rows.components.contains(name) && max >= 0 {
            seeds.push((name.clone(), 0));
        }
    }
    let mut depth: BTreeMap<String, i32> = BTreeMap::new();
    let mut queue: VecDeque<(String, i32)> = VecDeque::new();
    for (c, d) in seeds {
        if !depth.contains_key(&c) {
            depth.insert(c.clone(), d);
            queue.push_back((c, d));
        }
    }
    while let Some((c, d)) = queue.pop_front() {
        if d >= max {
            continue;
        }
        for (from, _) in rows.dependencies.iter().filter(|(_, to)| *to == c) {
            if !depth.contains_key(from) {
                depth.insert(from.clone(), d + 1);
                queue.push_back((from.clone(), d + 1));
            }
        }
    }
    out.components = depth.iter().map(|(c, d)| (c.clone(), *d)).collect();
    let apps: BTreeSet<String> = rows
        .application_members
        .iter()
        .filter(|(_, c)| depth.contains_key(c))
        .map(|(a, _)| a.clone())
        .collect();
    let mut owners: BTreeSet<&str> = rows
        .ownership
        .iter()
        .filter(|(c, _)| depth.contains_key(c))
        .map(|(_, t)| t.as_str())
        .collect();
    owners.extend(
        rows.application_owners
            .iter()
            .filter(|(a, _)| apps.contains(a))
            .filter_map(|(_, o)| o.as_deref()),
    );
    out.applications = apps.into_iter().collect();
    out.owners = owners
        .into_iter()
        .map(|team| {
            rows.teams
                .iter()
                .find(|t| t.team == team)
                .cloned()
                .unwrap_or_else(|| OwnerRow {
                    team: team.to_string(),
                    email: None,
                    chat: None,
                    pager: None,
                })
        })
        .collect();
    out.component_versions.sort();
    out
}

fn depths(list: &[(&str, i32)]) -> Vec<(String, i32)> {
    list.iter().map(|(c, d)| (c.to_string(), *d)).collect()
}

fn owner(team: &str, email: Option<&str>, pager: Option<&str>) -> OwnerRow {
    OwnerRow {
        team: team.into(),
        email: email.map(str::to_string),
        chat: None,
        pager: pager.map(str::to_string),
    }
}

fn strings(list: &[&str]) -> Vec<String> {
    names(list)
}

/// The hand-checked answers, on whichever store holds the blast catalog.
fn blast_answers(order: &str, s: &Store) {
    let package = BlastOf::Package(LOG4J.into());
    let all = s.blast_radius_sql(package.clone(), 100).unwrap();
    assert_eq!(
        all,
        BlastSql {
            images: vec![(IMG1.into(), Some(1)), (IMG2.into(), Some(2))],
            component_versions: pairs(&[("shop/api", "2.0.0"), (CART, "1.0.0")]),
            components: depths(&[
                ("shop/api", 3),
                (CART, 3),
                ("shop/edge", 5),
                ("shop/front", 4),
                ("shop/mobile", 6),
            ]),
            applications: strings(&["ops", "shop"]),
            owners: vec![
                owner("checkout", None, None),
                owner("ops-team", None, None),
                owner("shop-team", None, None),
                owner("web-team", Some("web@x"), Some("pd-web")),
            ],
        },
        "{order}"
    );
    // No depth bound but the cycle: the walk still ends.
    assert_eq!(s.blast_radius_sql(package.clone(), i32::MAX).unwrap(), all);

    // max_depth cuts every section at its hop.
    let four = s.blast_radius_sql(package.clone(), 4).unwrap();
    assert_eq!(
        four.components,
        depths(&[("shop/api", 3), (CART, 3), ("shop/front", 4)])
    );
    assert_eq!(four.applications, strings(&["shop"]));
    assert_eq!(
        four.owners
            .iter()
            .map(|o| o.team.as_str())
            .collect::<Vec<_>>(),
        ["checkout", "shop-team", "web-team"]
    );
    let two = s.blast_radius_sql(package.clone(), 2).unwrap();
    assert_eq!(two.images, all.images);
    assert_eq!(two.component_versions, all.component_versions);
    assert!(two.components.is_empty() && two.applications.is_empty() && two.owners.is_empty());
    assert_eq!(
        s.blast_radius_sql(package.clone(), 0).unwrap(),
        BlastSql::default()
    );

    // One version; a non-canonical spelling of the purl finds the same.
    let one = s
        .blast_radius_sql(BlastOf::PackageVersion(format!("{LOG4J}@2.14.1")), 100)
        .unwrap();
    assert_eq!(one.images, [(IMG1.to_string(), Some(1))]);
    assert_eq!(one.component_versions, pairs(&[(CART, "1.0.0")]));
    assert_eq!(
        one.components,
        depths(&[
            (CART, 3),
            ("shop/edge", 5),
            ("shop/front", 4),
            ("shop/mobile", 6)
        ])
    );
    assert_eq!(
        s.blast_radius_sql(
            BlastOf::PackageVersion(format!("{LOG4J}@2.14.1?type=jar")),
            100
        )
        .unwrap(),
        one
    );

    // A component is hop 0; dependents count from it, through the cycle and out.
    let cart = s
        .blast_radius_sql(BlastOf::Component(CART.into()), 100)
        .unwrap();
    assert!(cart.images.is_empty() && cart.component_versions.is_empty());
    assert_eq!(
        cart.components,
        depths(&[
            (CART, 0),
            ("shop/edge", 2),
            ("shop/front", 1),
            ("shop/mobile", 3)
        ])
    );
    assert_eq!(
        s.blast_radius_sql(BlastOf::Component(CART.into()), 1)
            .unwrap()
            .components,
        depths(&[(CART, 0), ("shop/front", 1)])
    );
    let edge = s
        .blast_radius_sql(BlastOf::Component("shop/edge".into()), 100)
        .unwrap();
    assert_eq!(
        edge.components,
        depths(&[("shop/edge", 0), ("shop/front", 2), ("shop/mobile", 1)])
    );
    assert_eq!(edge.applications, strings(&["ops", "shop"]));
    assert_eq!(
        s.blast_radius_sql(BlastOf::Component("nope".into()), 100)
            .unwrap(),
        BlastSql::default()
    );
    assert_eq!(
        s.blast_radius_sql(BlastOf::Component(DB.into()), 100)
            .unwrap()
            .components,
        depths(&[
            (CART, 1),
            (DB, 0),
            ("shop/edge", 3),
            ("shop/front", 2),
            ("shop/mobile", 4)
        ])
    );
}

pub(super) fn blast_radius_by_sql(store: &Store, db: &TestDb) {
    same_rows_in_any_order(store, db, &blast_events(), |order, s| {
        blast_answers(order, s);
        // Every question at every depth agrees with a naive walk over the same rows.
        let rows = s.graph_rows().unwrap();
        let questions = [
            BlastOf::Package(LOG4J.into()),
            BlastOf::PackageVersion(format!("{LOG4J}@2.17.1")),
            BlastOf::Package("pkg:npm/left-pad".into()),
            BlastOf::Component(CART.into()),
            BlastOf::Component("shop/mobile".into()),
            BlastOf::Component(DB.into()),
        ];
        for of in &questions {
            for max in [-1, 0, 1, 2, 3, 4, 5, 6, 7, 50, 70, i32::MAX] {
                assert_eq!(
                    s.blast_radius_sql(of.clone(), max).unwrap(),
                    naive_blast(&rows, of, max),
                    "{order}: {of:?} to depth {max}"
                );
            }
        }
    });
}
