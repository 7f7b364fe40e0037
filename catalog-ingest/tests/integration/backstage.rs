//! The Backstage descriptor parser against Backstage's own example entities (see
//! fixtures/backstage/README.md), a hand-written shop in its own namespace, one bad file per
//! kind of error, and hand-written edges: references, required fields, names, YAML features,
//! and inputs built to exhaust memory or time.

use catalog_core::entity::{Contacts, Entity, EntityKind};
use catalog_ingest::backstage::{
    event_key, parse, DescriptorError, Document, Parsed, MAX_DOCUMENTS, MAX_SCALAR_BYTES,
    MAX_VALUES,
};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

fn fixture(name: &str) -> String {
    let path = format!("{}/fixtures/backstage/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn location(name: &str) -> String {
    format!("fixtures/backstage/{name}")
}

fn parse_fixture(name: &str) -> Parsed {
    parse(&fixture(name), Some(&location(name))).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn parse_ok(text: &str) -> Parsed {
    parse(text, None).unwrap_or_else(|e| panic!("{e}\n--- in ---\n{text}"))
}

fn err(text: &str) -> DescriptorError {
    match parse(text, None) {
        Ok(p) => panic!("expected an error, parsed {p:?}\n--- from ---\n{text}"),
        Err(e) => e,
    }
}

fn msg(text: &str) -> String {
    err(text).to_string()
}

fn counts(p: &Parsed) -> BTreeMap<EntityKind, usize> {
    let mut counts = BTreeMap::new();
    for e in &p.entities {
        *counts.entry(e.kind).or_default() += 1;
    }
    counts
}

fn find<'a>(p: &'a Parsed, kind: EntityKind, name: &str) -> &'a Entity {
    let found: Vec<&Entity> = p
        .entities
        .iter()
        .filter(|e| e.kind == kind && e.name == name)
        .collect();
    assert_eq!(found.len(), 1, "{kind:?} {name}: {found:?}");
    found[0]
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn some(s: &str) -> Option<String> {
    Some(s.to_string())
}

/// One document of `kind` named `name`, with `spec` lines (indented by two).
fn doc(kind: &str, name: &str, spec: &str) -> String {
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: {kind}\nmetadata:\n  name: {name}\nspec:\n{spec}"
    )
}

/// A valid component named cart, with more spec lines.
fn component(more_spec: &str) -> String {
    doc(
        "Component",
        "cart",
        &format!("  type: service\n  lifecycle: production\n  owner: team-a\n{more_spec}"),
    )
}

// ===================================================================================
// Real descriptors: Backstage's examples
// ===================================================================================

#[test]
fn backstage_examples_give_every_kind_and_skip_location_and_template() {
    let p = parse_fixture("examples.yaml");
    assert_eq!(
        counts(&p),
        BTreeMap::from([
            (EntityKind::Component, 14),
            (EntityKind::Api, 5),
            (EntityKind::System, 3),
            (EntityKind::Domain, 3),
            (EntityKind::Resource, 1),
        ])
    );
    assert_eq!(
        p.warnings,
        strings(&[
            "document 1 (location \"example-components\"): skipped: kind Location: its \
             spec.targets are not followed; import those files themselves",
            "document 28 (template \"pull-request\"): skipped: kind Template: the catalog \
             reads Component, API, System, Domain, Group, User, Resource",
        ])
    );
    let loc = location("examples.yaml");
    assert!(p
        .entities
        .iter()
        .all(|e| e.location.as_deref() == Some(loc.as_str())));

    // dependsOn a resource; tags, links and annotations ignored.
    let artist_lookup = find(&p, EntityKind::Component, "artist-lookup");
    let mut want = Entity::new(EntityKind::Component, "artist-lookup");
    want.description = some("Artist Lookup");
    want.spec_type = some("service");
    want.lifecycle = some("experimental");
    want.owner = some("team-a");
    want.system = some("artist-engagement-portal");
    want.depends_on = strings(&["artists-db"]);
    want.location = Some(loc.clone());
    assert_eq!(artist_lookup, &want);

    let petstore = find(&p, EntityKind::Component, "petstore");
    assert_eq!(petstore.owner.as_deref(), Some("sre"));
    assert_eq!(
        petstore.provides_apis,
        strings(&["petstore", "streetlights", "playback-order"])
    );
    assert_eq!(petstore.consumes_apis, strings(&["searcher"]));
    let search = find(&p, EntityKind::Component, "wayback-search");
    assert_eq!(search.provides_apis, strings(&["wayback-search"]));
    assert_eq!(search.consumes_apis, strings(&["wayback-archive"]));
    // subcomponentOf is not read.
    let ingestion = find(&p, EntityKind::Component, "wayback-archive-ingestion");
    assert_eq!(ingestion.owner.as_deref(), Some("team-d"));
    assert!(ingestion.depends_on.is_empty() && ingestion.system.is_none());
    // `user:guest` and `default/team-a` owners.
    assert_eq!(
        find(&p, EntityKind::Component, "playback-order")
            .owner
            .as_deref(),
        Some("guest")
    );
    let other_ns = find(&p, EntityKind::Component, "alternative/different-namespace");
    assert_eq!(other_ns.owner.as_deref(), Some("team-a"));

    // APIs: inline and $text definitions are present, and not kept.
    for name in [
        "wayback-archive",
        "wayback-search",
        "spotify",
        "hello-world",
        "petstore",
    ] {
        let api = find(&p, EntityKind::Api, name);
        assert!(api.spec_type.is_some() && api.lifecycle.is_some() && api.owner.is_some());
    }
    assert_eq!(
        find(&p, EntityKind::Api, "hello-world")
            .lifecycle
            .as_deref(),
        Some("deprecated")
    );

    // Systems: domain, an optional type, a user owner.
    let portal = find(&p, EntityKind::System, "artist-engagement-portal");
    assert_eq!(portal.title.as_deref(), Some("Artist Engagement Portal"));
    assert_eq!(portal.domain.as_deref(), Some("artists"));
    assert_eq!(portal.owner.as_deref(), Some("team-a"));
    let audio = find(&p, EntityKind::System, "audio-playback");
    assert_eq!(audio.spec_type.as_deref(), Some("feature-set"));
    assert_eq!(audio.domain.as_deref(), Some("playback"));
    assert_eq!(
        find(&p, EntityKind::System, "podcast").owner.as_deref(),
        Some("team-b")
    );
    assert_eq!(
        find(&p, EntityKind::Domain, "playback").owner.as_deref(),
        Some("frank.tiernan")
    );
    let db = find(&p, EntityKind::Resource, "artists-db");
    assert_eq!(db.spec_type.as_deref(), Some("database"));
    assert_eq!(db.system.as_deref(), Some("artist-engagement-portal"));
    assert_eq!(db.lifecycle, None);
}

#[test]
fn backstage_org_gives_groups_users_and_contacts() {
    let p = parse_fixture("acme-org.yaml");
    assert_eq!(
        counts(&p),
        BTreeMap::from([(EntityKind::Group, 8), (EntityKind::User, 17)])
    );
    assert_eq!(
        p.warnings,
        strings(&[
            "document 2 (location \"example-groups\"): skipped: kind Location: its \
             spec.targets are not followed; import those files themselves"
        ])
    );
    let parents: BTreeMap<&str, Option<&str>> = p
        .entities
        .iter()
        .filter(|e| e.kind == EntityKind::Group)
        .map(|e| (e.name.as_str(), e.parent.as_deref()))
        .collect();
    assert_eq!(
        parents,
        BTreeMap::from([
            ("acme-corp", None),
            ("infrastructure", Some("acme-corp")),
            ("backstage", Some("infrastructure")),
            ("boxoffice", Some("infrastructure")),
            ("team-a", Some("backstage")),
            ("team-b", Some("backstage")),
            ("team-c", Some("boxoffice")),
            ("team-d", Some("boxoffice")),
        ])
    );
    let contacts = |name: &str| find(&p, EntityKind::Group, name).contacts.clone();
    let c = |email: Option<&str>, chat: Option<&str>, pager: Option<&str>| Contacts {
        email: email.map(str::to_string),
        chat: chat.map(str::to_string),
        pager: pager.map(str::to_string),
    };
    assert_eq!(
        contacts("team-a"),
        c(Some("team-a@example.com"), Some("team-a"), Some("PT4KHLK")),
        "profile.email, slack.com/channel, pagerduty.com/service-id"
    );
    assert_eq!(
        contacts("team-b"),
        c(
            Some("team-b@example.com"),
            Some("C024BE91L"),
            Some("PEP0TB2")
        ),
        "slack.com/channel-id, pagerduty.com/escalation-policy"
    );
    assert_eq!(
        contacts("team-c"),
        c(
            Some("team-c@example.com"),
            Some("Team C / General"),
            Some("team-c")
        ),
        "catalog.dev/email without a profile, microsoft.com/teams-channel, opsgenie.com/team"
    );
    assert_eq!(
        contacts("team-d"),
        c(
            Some("team-d@example.com"),
            Some("#team-d"),
            Some("pagerduty:PTEAMD4")
        ),
        "profile.email beats catalog.dev/email; catalog.dev/chat and /pager beat the others"
    );
    assert_eq!(
        contacts("acme-corp"),
        c(Some("info@example.com"), None, None)
    );
    assert!(contacts("infrastructure").is_empty());
    // Groups list no members here: users say what they are members of.
    assert!(p
        .entities
        .iter()
        .filter(|e| e.kind == EntityKind::Group)
        .all(|e| e.members.is_empty()));

    let mut nigel = Entity::new(EntityKind::User, "nigel.manning");
    nigel.contacts = c(Some("nigel-manning@example.com"), None, Some("PNIGEL1"));
    nigel.members = strings(&["team-a"]);
    nigel.location = Some(location("acme-org.yaml"));
    assert_eq!(find(&p, EntityKind::User, "nigel.manning"), &nigel);
    // Two guests, told apart by namespace; `group:default/team-a` is team-a.
    assert_eq!(
        find(&p, EntityKind::User, "guest").members,
        strings(&["team-a"])
    );
    let dev_guest = find(&p, EntityKind::User, "development/guest");
    assert_eq!(dev_guest.members, strings(&["team-a"]));
    assert_eq!(
        dev_guest.contacts.email.as_deref(),
        Some("guest@example.com")
    );
    let per_team: BTreeMap<&str, usize> = p
        .entities
        .iter()
        .filter(|e| e.kind == EntityKind::User)
        .fold(BTreeMap::new(), |mut m, e| {
            *m.entry(e.members[0].as_str()).or_default() += 1;
            m
        });
    assert_eq!(
        per_team,
        BTreeMap::from([("team-a", 5), ("team-b", 5), ("team-c", 5), ("team-d", 2)])
    );
}

// ===================================================================================
// The shop: a namespace of its own, exactly
// ===================================================================================

fn shop_entity(kind: EntityKind, name: &str, f: impl FnOnce(&mut Entity)) -> Entity {
    let mut e = Entity::new(kind, name);
    e.location = Some(location("shop.yaml"));
    f(&mut e);
    e
}

fn shop_expected() -> Vec<Entity> {
    use EntityKind::*;
    vec![
        shop_entity(Domain, "commerce", |e| {
            e.title = some("Commerce");
            e.description = some("Everything that takes money.");
            e.owner = some("shop/team-payments");
        }),
        shop_entity(System, "shop/shop", |e| {
            e.title = some("Web shop");
            e.owner = some("shop/team-payments");
            e.domain = some("commerce");
        }),
        shop_entity(Component, "shop/checkout", |e| {
            e.title = some("Checkout");
            e.description = some("Turns a cart into an order.");
            e.spec_type = some("service");
            e.lifecycle = some("production");
            e.owner = some("shop/team-checkout");
            e.system = some("shop/shop");
            e.depends_on = strings(&["shop/cart"]);
            e.consumes_apis = strings(&["shop/payments-api"]);
        }),
        shop_entity(Component, "shop/cart", |e| {
            e.title = some("Shopping cart");
            e.spec_type = some("service");
            e.lifecycle = some("production");
            e.owner = some("shop/team-checkout");
            e.system = some("shop/shop");
            e.depends_on = strings(&["shop/inventory"]);
        }),
        shop_entity(Component, "shop/inventory", |e| {
            e.spec_type = some("service");
            e.lifecycle = some("experimental");
            e.owner = some("shop/team-checkout");
            e.system = some("shop/shop");
            e.depends_on = strings(&["shop/inventory-db"]);
        }),
        shop_entity(Resource, "shop/inventory-db", |e| {
            e.description = some("PostgreSQL holding stock levels.");
            e.spec_type = some("database");
            e.owner = some("shop/team-checkout");
            e.system = some("shop/shop");
        }),
        shop_entity(Component, "shop/payments", |e| {
            e.spec_type = some("service");
            e.lifecycle = some("production");
            e.owner = some("shop/team-payments");
            e.system = some("shop/shop");
            e.provides_apis = strings(&["shop/payments-api"]);
        }),
        shop_entity(Api, "shop/payments-api", |e| {
            e.description = some("Charge and refund.");
            e.spec_type = some("openapi");
            e.lifecycle = some("production");
            e.owner = some("shop/team-payments");
            e.system = some("shop/shop");
        }),
        shop_entity(Group, "shop/team-payments", |e| {
            e.title = some("Payments team");
            e.spec_type = some("team");
            e.contacts = Contacts {
                email: some("payments@shop.example"),
                chat: some("shop-payments"),
                pager: some("PSHOPPAY"),
            };
            e.parent = some("engineering");
            e.members = strings(&["shop/alice", "shop/bob"]);
        }),
        shop_entity(Group, "shop/team-checkout", |e| {
            e.spec_type = some("team");
            // Trimmed; the blank catalog.dev/chat falls through to slack.com/channel-id.
            e.contacts = Contacts {
                email: some("checkout@shop.example"),
                chat: some("C0CHECKOUT"),
                pager: some("checkout"),
            };
            e.parent = some("shop/team-payments");
        }),
        shop_entity(User, "shop/alice", |e| {
            e.contacts = Contacts {
                email: some("alice@shop.example"),
                chat: None,
                pager: None,
            };
            e.members = strings(&["shop/team-payments", "shop/team-checkout"]);
        }),
    ]
}

#[test]
fn shop_gives_exactly_these_entities() {
    let p = parse_fixture("shop.yaml");
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    let want = shop_expected();
    for (got, want) in p.entities.iter().zip(&want) {
        assert_eq!(got, want);
    }
    assert_eq!(p.entities.len(), want.len());

    // The chain of dependencies, followed by catalog name.
    let mut chain = vec!["shop/checkout".to_string()];
    while let Some(next) = p
        .entities
        .iter()
        .find(|e| Some(&e.name) == chain.last())
        .and_then(|e| e.depends_on.first())
    {
        chain.push(next.clone());
    }
    assert_eq!(
        chain,
        strings(&[
            "shop/checkout",
            "shop/cart",
            "shop/inventory",
            "shop/inventory-db"
        ])
    );
}

#[test]
fn empty_documents_count_in_the_numbering() {
    // The shop's empty fourth document: the cart is document 5.
    let text = fixture("shop.yaml").replace(
        "  owner: team-checkout\n  system: shop\n  dependsOn: [component:inventory]",
        "  system: shop\n  dependsOn: [component:inventory]",
    );
    assert_eq!(
        msg(&text),
        "document 5 (component \"shop/cart\"): spec.owner: required"
    );
}

#[test]
fn without_a_location_entities_have_none() {
    let p = parse(&fixture("shop.yaml"), None).unwrap();
    assert!(p.entities.iter().all(|e| e.location.is_none()));
    assert_eq!(p.entities.len(), shop_expected().len());
}

// ===================================================================================
// Bad files: the first error, naming the document and the field
// ===================================================================================

#[test]
fn bad_fixtures_name_the_document_and_the_field() {
    let cases = [
        (
            "bad/missing-owner.yaml",
            "document 3 (component \"shop/cart\"): spec.owner: required",
        ),
        (
            "bad/depends-on-without-kind.yaml",
            "document 2 (component \"checkout\"): spec.dependsOn[1]: \"cart\" has no kind; \
             write component:cart or resource:cart",
        ),
        (
            "bad/bad-name.yaml",
            "document 1 (component \"Cart Service\"): metadata.name: \"Cart Service\" is not a \
             valid name: letters, digits, '-', '_' and '.', beginning and ending with a letter \
             or digit",
        ),
        (
            "bad/wrong-api-version.yaml",
            "document 2 (component \"cart\"): apiVersion: \"backstage.io/v2\" is not a version \
             this catalog reads (backstage.io/v1alpha1, backstage.io/v1beta1)",
        ),
        (
            "bad/syntax-error.yaml",
            "document 2: invalid YAML: illegal placement of ':' indicator at line 21 column 15",
        ),
        (
            "bad/duplicate-entity.yaml",
            "document 3 (component \"shop/cart\"): component:shop/cart is declared twice, in \
             documents 1 and 3",
        ),
    ];
    for (name, want) in cases {
        let e = parse(&fixture(name), Some(&location(name)))
            .err()
            .unwrap_or_else(|| panic!("{name} parsed"));
        assert_eq!(e.to_string(), want, "{name}");
    }
}

#[test]
fn bad_fixtures_errors_are_structured() {
    let e = parse(&fixture("bad/syntax-error.yaml"), None).unwrap_err();
    let DescriptorError::Yaml {
        document,
        line,
        column,
        ..
    } = e
    else {
        panic!("{e:?}")
    };
    assert_eq!(
        document,
        Document {
            index: 2,
            entity: None
        }
    );
    assert_eq!((line, column), (Some(21), Some(15)));

    let e = parse(&fixture("bad/missing-owner.yaml"), None).unwrap_err();
    assert_eq!(
        e,
        DescriptorError::Field {
            document: Document {
                index: 3,
                entity: Some("component \"shop/cart\"".into())
            },
            field: "spec.owner".into(),
            reason: "required".into(),
        }
    );
    let e = parse(&fixture("bad/duplicate-entity.yaml"), None).unwrap_err();
    assert!(
        matches!(&e, DescriptorError::Duplicate { document, first: 1, reference }
            if document.index == 3 && reference == "component:shop/cart"),
        "{e:?}"
    );
}

#[test]
fn nothing_is_half_imported_the_first_error_wins() {
    // Documents 2 and 3 are both wrong; only the first error is told.
    let text = format!(
        "{}\n---\n{}\n---\n{}",
        component(""),
        doc(
            "Component",
            "a",
            "  type: service\n  lifecycle: production\n"
        ),
        doc("Component", "b", "  type: service\n"),
    );
    assert_eq!(
        msg(&text),
        "document 2 (component \"a\"): spec.owner: required"
    );
}

// ===================================================================================
// Skipped documents
// ===================================================================================

#[test]
fn other_kinds_and_api_versions_are_skipped_with_a_warning() {
    let text = "\
# plugins/scaffolder-backend/sample-templates/notifications-demo/template.yaml (cut)
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: notifications-demo
spec:
  owner: backstage/techdocs-core
  type: service
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: cart
  namespace: shop
---
apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: shop
spec:
  targets: [./cart/catalog-info.yaml, ./checkout/catalog-info.yaml]
---
apiVersion: backstage.io/v1alpha1
kind: Resource
metadata:
  name: cart-db
spec:
  type: database
  owner: team-a
---
apiVersion: backstage.io/v1beta2
kind: MyKind
metadata:
  name: x
";
    let p = parse_ok(text);
    assert_eq!(p.entities.len(), 1);
    assert_eq!(p.entities[0].reference(), "resource:cart-db");
    assert_eq!(
        p.warnings,
        strings(&[
            "document 1 (template \"notifications-demo\"): skipped: apiVersion \
             \"scaffolder.backstage.io/v1beta3\" (kind Template) is not Backstage's software \
             catalog (backstage.io/...)",
            "document 2 (deployment \"shop/cart\"): skipped: apiVersion \"apps/v1\" (kind \
             Deployment) is not Backstage's software catalog (backstage.io/...)",
            "document 3 (location \"shop\"): skipped: kind Location: its spec.targets are not \
             followed; import those files themselves",
            "document 5 (mykind \"x\"): skipped: kind MyKind: the catalog reads Component, API, \
             System, Domain, Group, User, Resource",
        ])
    );
}

#[test]
fn kinds_that_are_not_names_are_quoted_in_messages() {
    let text = "apiVersion: backstage.io/v1alpha1\nkind: \"Evil\\nkind\"\nmetadata:\n  name: x\n";
    assert_eq!(
        parse_ok(text).warnings,
        strings(&[
            "document 1 (\"evil\\nkind\" \"x\"): skipped: kind \"Evil\\nkind\": the catalog reads \
             Component, API, System, Domain, Group, User, Resource"
        ])
    );
}

#[test]
fn empty_streams_give_nothing() {
    for text in [
        "",
        "\n",
        "# only a comment\n",
        "---\n",
        "---\n...\n",
        "---\n---\n---\n",
    ] {
        assert_eq!(parse_ok(text), Parsed::default(), "{text:?}");
    }
    // A byte-order mark is allowed.
    let p = parse_ok(&format!("\u{feff}{}", component("")));
    assert_eq!(p.entities.len(), 1);
}

// ===================================================================================
// Entity references
// ===================================================================================

#[test]
fn references_default_kind_and_namespace_by_field() {
    let text = "\
apiVersion: backstage.io/v1alpha1
kind: component
metadata:
  name: checkout
  namespace: shop
spec:
  type: service
  lifecycle: production
  owner: User:default/bob
  system: System:other/shop
  dependsOn:
    - component:cart
    - Component:cart
    - resource:cart
    - component:shop/cart
    - RESOURCE:default/orders-db
    - component:Shop/Cart
  providesApis: [api:checkout-api, checkout-api, API:default/public-api]
  consumesApis: [payments-api]
";
    let p = parse_ok(text);
    let e = &p.entities[0];
    assert_eq!(e.kind, EntityKind::Component);
    assert_eq!(e.name, "shop/checkout");
    assert_eq!(e.owner.as_deref(), Some("bob"));
    assert_eq!(e.system.as_deref(), Some("other/shop"));
    // Deduplicated by catalog name, in order; names keep their case.
    assert_eq!(
        e.depends_on,
        strings(&["shop/cart", "orders-db", "Shop/Cart"])
    );
    assert_eq!(
        e.provides_apis,
        strings(&["shop/checkout-api", "public-api"])
    );
    assert_eq!(e.consumes_apis, strings(&["shop/payments-api"]));
}

#[test]
fn kinds_are_case_insensitive() {
    let text = format!(
        "{}\n---\n{}\n---\n{}",
        doc(
            "api",
            "a",
            "  type: grpc\n  lifecycle: production\n  owner: team-a\n  definition: x\n"
        ),
        doc("GROUP", "g", "  type: team\n"),
        doc("uSeR", "u", "  memberOf: [g]\n"),
    );
    let kinds: Vec<EntityKind> = parse_ok(&text).entities.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        vec![EntityKind::Api, EntityKind::Group, EntityKind::User]
    );
}

#[test]
fn a_reference_of_the_wrong_kind_names_the_field() {
    let cases = [
        (
            component("").replace("owner: team-a", "owner: component:x"),
            "spec.owner: \"component:x\" is of kind component; an owner is a group or a user",
        ),
        (
            component("").replace("owner: team-a", "owner: location:x"),
            "spec.owner: \"location:x\" is of kind location; an owner is a group or a user",
        ),
        (
            component("  system: domain:x\n"),
            "spec.system: \"domain:x\" is of kind domain; expected a system",
        ),
        (
            component("  dependsOn: [component:a, api:b]\n"),
            "spec.dependsOn[1]: \"api:b\" is of kind api; a dependency is a component or a resource",
        ),
        (
            // Backstage's own www-artist at 39a595cd said this.
            component("  consumesApis: ['component:artist-lookup']\n"),
            "spec.consumesApis[0]: \"component:artist-lookup\" is of kind component; expected an API",
        ),
        (
            component("  providesApis: [a, system:b]\n"),
            "spec.providesApis[1]: \"system:b\" is of kind system; expected an API",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(
            msg(&text),
            format!("document 1 (component \"cart\"): {want}")
        );
    }
    let group = |more: &str| doc("Group", "g", &format!("  type: team\n{more}"));
    assert_eq!(
        msg(&group("  parent: user:x\n")),
        "document 1 (group \"g\"): spec.parent: \"user:x\" is of kind user; a parent is a group"
    );
    assert_eq!(
        msg(&group("  members: [a, group:b]\n")),
        "document 1 (group \"g\"): spec.members[1]: \"group:b\" is of kind group; a member is a user"
    );
    assert_eq!(
        msg(&doc("User", "u", "  memberOf: [user:x]\n")),
        "document 1 (user \"u\"): spec.memberOf[0]: \"user:x\" is of kind user; a user is a member \
         of groups"
    );
    assert_eq!(
        msg(&doc("System", "s", "  owner: a\n  domain: system:x\n")),
        "document 1 (system \"s\"): spec.domain: \"system:x\" is of kind system; expected a domain"
    );
    // A resource's dependsOn needs a kind too.
    assert_eq!(
        msg(&doc(
            "Resource",
            "r",
            "  type: database\n  owner: a\n  dependsOn: [other-db]\n"
        )),
        "document 1 (resource \"r\"): spec.dependsOn[0]: \"other-db\" has no kind; write \
         component:other-db or resource:other-db"
    );
}

#[test]
fn long_lists_are_read_in_linear_time() {
    // 200,000 dependencies, each twice: deduplicating by comparing every pair would take
    // minutes.
    let deps: Vec<String> = (0..200_000)
        .flat_map(|i| [format!("component:c{i}"), format!("Component:default/c{i}")])
        .collect();
    let text = component(&format!("  dependsOn: [{}]\n", deps.join(", ")));
    let started = Instant::now();
    let p = parse_ok(&text);
    assert_eq!(p.entities[0].depends_on.len(), 200_000);
    assert_eq!(p.entities[0].depends_on[199_999], "c199999");
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn malformed_references_are_refused() {
    for (owner, reason) in [
        (
            "\"group:\"",
            "\"group:\" is not an entity reference [kind:][namespace/]name",
        ),
        (
            "a:b:c",
            "\"a:b:c\" is not an entity reference [kind:][namespace/]name",
        ),
        (
            "/x",
            "\"/x\" is not an entity reference [kind:][namespace/]name",
        ),
        (
            "ns/",
            "\"ns/\" is not an entity reference [kind:][namespace/]name",
        ),
        (
            "a/b/c",
            "\"a/b/c\" is not an entity reference [kind:][namespace/]name",
        ),
        (
            "team a",
            "\"team a\" is not a valid name: letters, digits, '-', '_' and '.', beginning and \
             ending with a letter or digit",
        ),
        (
            "\"bad ns/team\"",
            "\"bad ns\" is not a valid name: letters, digits, '-', '_' and '.', beginning and \
             ending with a letter or digit",
        ),
        ("[a, b]", "expected a string, found a list"),
        ("42", "expected a string, found a number"),
        (
            "!Ref team-a",
            "expected a string, found a value tagged !Ref",
        ),
        ("\"  \"", "required"),
        ("~", "required"),
    ] {
        let text = component("").replace("owner: team-a", &format!("owner: {owner}"));
        assert_eq!(
            msg(&text),
            format!("document 1 (component \"cart\"): spec.owner: {reason}"),
            "owner: {owner}"
        );
    }
    assert_eq!(
        msg(&component("  dependsOn: component:a\n")),
        "document 1 (component \"cart\"): spec.dependsOn: expected a list of entity \
         references, found a string"
    );
    assert_eq!(
        msg(&component("  dependsOn: [component:a, ~]\n")),
        "document 1 (component \"cart\"): spec.dependsOn[1]: empty entity reference"
    );
    // No fix is suggested for what would not be a reference with a kind either.
    assert_eq!(
        msg(&component("  dependsOn: [\"bad name\"]\n")),
        "document 1 (component \"cart\"): spec.dependsOn[0]: \"bad name\" has no kind; it \
         must begin with component: or resource:"
    );
    // Null lists are empty lists.
    let p = parse_ok(&component("  dependsOn: ~\n  providesApis:\n"));
    assert!(p.entities[0].depends_on.is_empty() && p.entities[0].provides_apis.is_empty());
}

// ===================================================================================
// Required fields, names, structure
// ===================================================================================

#[test]
fn required_fields_per_kind() {
    let api_spec = "  type: openapi\n  lifecycle: production\n  owner: a\n  definition: x\n";
    let empty_definition = api_spec.replace("definition: x", "definition: ''");
    let null_definition = api_spec.replace("definition: x", "definition: ~");
    let cases = [
        (
            "Component",
            "  lifecycle: production\n  owner: a\n",
            "spec.type",
        ),
        (
            "Component",
            "  type: service\n  owner: a\n",
            "spec.lifecycle",
        ),
        (
            "Component",
            "  type: service\n  lifecycle: production\n",
            "spec.owner",
        ),
        (
            "API",
            "  lifecycle: production\n  owner: a\n  definition: x\n",
            "spec.type",
        ),
        (
            "API",
            "  type: openapi\n  owner: a\n  definition: x\n",
            "spec.lifecycle",
        ),
        (
            "API",
            "  type: openapi\n  lifecycle: production\n  definition: x\n",
            "spec.owner",
        ),
        (
            "API",
            "  type: openapi\n  lifecycle: production\n  owner: a\n",
            "spec.definition",
        ),
        ("API", empty_definition.as_str(), "spec.definition"),
        ("API", null_definition.as_str(), "spec.definition"),
        ("System", "  domain: d\n", "spec.owner"),
        ("Domain", "  type: area\n", "spec.owner"),
        ("Group", "  children: []\n", "spec.type"),
        ("Resource", "  owner: a\n", "spec.type"),
        ("Resource", "  type: database\n", "spec.owner"),
    ];
    for (kind, spec, field) in cases {
        let text = doc(kind, "x", spec);
        assert_eq!(
            msg(&text),
            format!(
                "document 1 ({} \"x\"): {field}: required",
                kind.to_ascii_lowercase()
            ),
            "{text}"
        );
    }
    // A spec missing altogether is an empty one.
    assert_eq!(
        msg("apiVersion: backstage.io/v1alpha1\nkind: Domain\nmetadata:\n  name: d\n"),
        "document 1 (domain \"d\"): spec.owner: required"
    );

    // Enough: a $text definition, a group without children (no warning), a resource without a
    // lifecycle, a user without a spec.
    let text = [
        doc(
            "API",
            "a",
            &api_spec.replace("definition: x", "definition: {$text: ./openapi.yaml}"),
        ),
        doc("Group", "g", "  type: team\n"),
        doc("Resource", "r", "  type: database\n  owner: a\n"),
        "apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata:\n  name: u\n".to_string(),
    ]
    .join("---\n");
    let p = parse_ok(&text);
    assert!(p.warnings.is_empty());
    assert_eq!(p.entities[3], Entity::new(EntityKind::User, "u"));
    assert_eq!(p.entities.len(), 4);
}

#[test]
fn names_follow_backstages_rule() {
    let long = "x".repeat(63);
    for name in [
        "a",
        "A1",
        "0cart",
        "my.service_v2",
        "a--b",
        "a_.b",
        long.as_str(),
    ] {
        let p = parse_ok(&doc("Group", name, "  type: team\n"));
        assert_eq!(p.entities[0].name, name);
    }
    let too_long = "x".repeat(64);
    assert_eq!(
        msg(&doc("Group", &too_long, "  type: team\n")),
        format!(
            "document 1 (group \"{too_long}\"): metadata.name: \"{too_long}\" is 64 characters \
             long; at most 63 are allowed"
        )
    );
    for name in [
        "-a", "a-", ".a", "a_", "\"a b\"", "café", "a/b", "\"a:b\"", "\"*\"",
    ] {
        let e = err(&doc("Group", name, "  type: team\n"));
        let DescriptorError::Field { field, reason, .. } = &e else {
            panic!("{name}: {e:?}")
        };
        assert_eq!(field, "metadata.name", "{name}");
        assert!(reason.contains("is not a valid name"), "{name}: {reason}");
    }
    assert_eq!(
        msg(&doc("Group", "\"\"", "  type: team\n")),
        "document 1: metadata.name: required"
    );
    // Namespaces: the same rule (more lenient than Backstage's lowercase DNS label).
    let in_ns = |ns: &str| {
        format!(
            "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: g\n  namespace: \
             {ns}\nspec:\n  type: team\n"
        )
    };
    assert_eq!(
        parse_ok(&in_ns("Shop_Team")).entities[0].name,
        "Shop_Team/g"
    );
    assert_eq!(parse_ok(&in_ns("default")).entities[0].name, "g");
    assert_eq!(parse_ok(&in_ns("Default")).entities[0].name, "g");
    assert_eq!(
        msg(&in_ns("\"shop team\"")),
        "document 1 (group \"shop team/g\"): metadata.namespace: \"shop team\" is not a valid \
         name: letters, digits, '-', '_' and '.', beginning and ending with a letter or digit"
    );
}

#[test]
fn a_document_of_the_wrong_shape_names_what_it_found() {
    assert_eq!(
        msg(&format!("{}---\n- a\n- b\n", component(""))),
        "document 2: expected a mapping with apiVersion, kind, metadata and spec, found a list"
    );
    assert_eq!(
        msg("just words\n"),
        "document 1: expected a mapping with apiVersion, kind, metadata and spec, found a string"
    );
    let base = component("");
    let cases = [
        (base.replace("apiVersion: backstage.io/v1alpha1\n", ""), "document 1 (component \"cart\"): apiVersion: required"),
        (base.replace("kind: Component\n", ""), "document 1 (\"cart\"): kind: required"),
        (base.replace("kind: Component", "kind: [Component]"), "document 1 (\"cart\"): kind: expected a string, found a list"),
        (base.replace("metadata:\n  name: cart\n", ""), "document 1: metadata: required"),
        (base.replace("metadata:\n  name: cart\n", "metadata: cart\n"), "document 1: metadata: expected a mapping, found a string"),
        (base.replace("name: cart", "name: 123"), "document 1: metadata.name: expected a string, found a number"),
        (base.replace("name: cart", "name: cart\n  title: [a]"), "document 1 (component \"cart\"): metadata.title: expected a string, found a list"),
        (base.replace("name: cart", "name: cart\n  description: true"), "document 1 (component \"cart\"): metadata.description: expected a string, found a boolean"),
        (base.replace("name: cart", "name: cart\n  annotations: [a]"), "document 1 (component \"cart\"): metadata.annotations: expected a mapping, found a list"),
        (format!("{}spec: [a]\n", base.split("spec:").next().unwrap()), "document 1 (component \"cart\"): spec: expected a mapping, found a list"),
        (base.replace("type: service", "type: 7"), "document 1 (component \"cart\"): spec.type: expected a string, found a number"),
    ];
    for (text, want) in cases {
        assert_eq!(msg(&text), want, "{text}");
    }
    let group = |more: &str| doc("Group", "g", &format!("  type: team\n{more}"));
    assert_eq!(
        msg(&group("  profile: team@example.com\n")),
        "document 1 (group \"g\"): spec.profile: expected a mapping, found a string"
    );
    assert_eq!(
        msg(&group("  profile: {email: 1}\n")),
        "document 1 (group \"g\"): spec.profile.email: expected a string, found a number"
    );
    let annotated = group("").replace(
        "name: g",
        "name: g\n  annotations:\n    slack.com/channel: 42\n    other.io/x: [ignored]",
    );
    assert_eq!(
        msg(&annotated),
        "document 1 (group \"g\"): metadata.annotations[\"slack.com/channel\"]: expected a \
         string, found a number"
    );
}

#[test]
fn duplicates_are_the_same_kind_and_catalog_name() {
    let in_ns = |ns: &str| {
        format!(
            "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: g\n  namespace: \
             {ns}\nspec:\n  type: team\n"
        )
    };
    let g = doc("Group", "g", "  type: team\n");
    assert_eq!(
        msg(&format!("{g}---\n{}", in_ns("default"))),
        "document 2 (group \"g\"): group:g is declared twice, in documents 1 and 2"
    );
    assert_eq!(
        msg(&format!("{g}---\n---\n{}", in_ns("Default"))),
        "document 3 (group \"g\"): group:g is declared twice, in documents 1 and 3"
    );
    // Other kinds or namespaces are other entities.
    let text = format!(
        "{g}---\n{}---\n{}---\n{}",
        in_ns("shop"),
        doc("User", "g", "  memberOf: [g]\n"),
        doc("Domain", "g", "  owner: g\n")
    );
    assert_eq!(parse_ok(&text).entities.len(), 4);
}

// ===================================================================================
// YAML: anchors, merge keys, duplicate keys, limits
// ===================================================================================

#[test]
fn anchors_and_merge_keys_work() {
    let text = "\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: cart
  annotations: &contacts
    slack.com/channel: shop
x-defaults: &defaults
  type: service
  lifecycle: production
  owner: team-a
  dependsOn: &deps [component:db, resource:cache]
spec:
  <<: *defaults
  lifecycle: experimental
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: checkout
spec:
  <<: [{type: service, owner: team-b}, {lifecycle: production, owner: ignored}]
  dependsOn: [component:cart]
";
    let p = parse_ok(text);
    let cart = &p.entities[0];
    assert_eq!(cart.spec_type.as_deref(), Some("service"));
    assert_eq!(
        cart.lifecycle.as_deref(),
        Some("experimental"),
        "own keys win"
    );
    assert_eq!(cart.owner.as_deref(), Some("team-a"));
    assert_eq!(cart.depends_on, strings(&["db", "cache"]));
    let checkout = &p.entities[1];
    assert_eq!(
        checkout.owner.as_deref(),
        Some("team-b"),
        "the first merged wins"
    );
    assert_eq!(checkout.lifecycle.as_deref(), Some("production"));
    assert_eq!(
        msg(&component("  <<: 3\n")),
        "document 1: invalid YAML: a merge key (<<) takes a mapping or a list of mappings, not \
         a number at line 9 column 3"
    );
    assert_eq!(
        msg(&component("  <<: [{a: 1}, [b]]\n")),
        "document 1: invalid YAML: a merge key (<<) takes a mapping or a list of mappings, not \
         a list at line 9 column 3"
    );
    // A quoted "<<" is an ordinary key.
    let p = parse_ok(&component("  \"<<\": 3\n"));
    assert_eq!(p.entities[0].spec_type.as_deref(), Some("service"));
}

#[test]
fn scalars_follow_the_yaml_1_2_core_schema() {
    // What Backstage's own parser (YAML 1.2) reads as a string is a string here.
    for title in [
        "yes",
        "no",
        "on",
        "0x",
        "1.2.3",
        "2024-01-31",
        "'123'",
        "\"true\"",
        "!!str 42",
        "! 42",
    ] {
        let p = parse_ok(
            &component("").replace("name: cart", &format!("name: cart\n  title: {title}")),
        );
        assert!(p.entities[0].title.is_some(), "{title}");
    }
    for (title, found) in [
        ("123", "a number"),
        ("-0.5e3", "a number"),
        ("0o17", "a number"),
        ("0x1F", "a number"),
        (".inf", "a number"),
        ("0123", "a number"),
        ("True", "a boolean"),
        ("!!int '7'", "a number"),
        ("!Sub x", "a value tagged !Sub"),
        ("!!binary aGk=", "a value tagged tag:yaml.org,2002:binary"),
    ] {
        let text = component("").replace("name: cart", &format!("name: cart\n  title: {title}"));
        assert_eq!(
            msg(&text),
            format!(
                "document 1 (component \"cart\"): metadata.title: expected a string, found {found}"
            ),
            "{title}"
        );
    }
    // Null, however written, is absent.
    for title in ["~", "null", "NULL", "", "!!null ''"] {
        let p = parse_ok(
            &component("").replace("name: cart", &format!("name: cart\n  title: {title}")),
        );
        assert_eq!(p.entities[0].title, None, "{title:?}");
    }
}

#[test]
fn keys_are_scalars_and_anchors_cannot_contain_themselves() {
    assert_eq!(
        msg(&component("  ? [a, b]\n  : c\n")),
        "document 1: invalid YAML: a mapping key must be a scalar, not a list at line 9 column 5"
    );
    // An alias to the collection it is inside of is unknown there (no infinite expansion).
    let e = err("a: &loop [1, *loop]\n");
    assert!(
        matches!(&e, DescriptorError::Yaml { message, .. } if message.contains("unknown anchor")),
        "{e:?}"
    );
    // Aliases and numbers as keys are fine, kept as written: `*k` is the key "1" again.
    let p = parse_ok(&format!(
        "{}x-keys: {{&k 1: a, 2: b}}\nx-more: {{*k : c}}\n",
        component("")
    ));
    assert_eq!(p.entities.len(), 1);
    assert_eq!(
        msg(&format!("{}x-keys: {{&k 1: a, *k : b}}\n", component(""))),
        "document 1: invalid YAML: duplicate key \"1\" at line 9 column 19"
    );
}

#[test]
fn nesting_is_limited_to_64() {
    // 60 levels in a field nothing reads are fine.
    let nested = format!("{}{}", "[".repeat(60), "]".repeat(60));
    assert_eq!(
        parse_ok(&format!("{}x-deep: {nested}\n", component("")))
            .entities
            .len(),
        1
    );
    let e = err(&format!("{}x-deep: {}\n", component(""), "[".repeat(65)));
    assert_eq!(
        e.to_string(),
        "document 1: invalid YAML: collections nested more than 64 deep at line 9 column 73"
    );
}

#[test]
fn yaml_errors_name_the_document_and_line() {
    assert_eq!(
        msg(&format!(
            "{}---\n{}",
            component(""),
            doc("Group", "g", "  type: team\n  type: department\n")
        )),
        "document 2: invalid YAML: duplicate key \"type\" at line 16 column 3"
    );
    // An unknown alias stops everything.
    assert_eq!(
        msg(&format!("a: *nowhere\n---\n{}", component(""))),
        "document 1: invalid YAML: while parsing node, found unknown anchor at line 1 column 4"
    );
    assert_eq!(
        msg(&format!("{}---\nkey: \"unclosed\n", component(""))),
        "document 2: invalid YAML: unclosed quote at line 10 column 6"
    );
    // Tabs are not indentation.
    let e = err("apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n\tname: g\n");
    assert!(
        matches!(&e, DescriptorError::Yaml { document, line: Some(4), .. } if document.index == 1),
        "{e:?}"
    );
}

#[test]
fn deep_nesting_is_refused_at_once() {
    // libyaml-based parsers (serde_yaml and its forks) take time quadratic in the depth of flow
    // nesting: 256 KiB of `{a: ` took 29 s in release. Here the parser stops at depth 65.
    let mut indented = String::new();
    for depth in 0..100 {
        indented.push_str(&format!("{}a:\n", " ".repeat(depth)));
    }
    assert_eq!(
        msg(&indented),
        "document 1: invalid YAML: collections nested more than 64 deep at line 65 column 65"
    );
    for open in ["[", "{a: ", "- ", "[{a: "] {
        let text = open.repeat(200_000);
        let started = Instant::now();
        let e = err(&text);
        assert!(
            matches!(&e, DescriptorError::Yaml { document, message, .. }
                if document.index == 1 && message.starts_with("collections nested more than 64 deep")),
            "{open:?}: {e:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(5), "{open:?}");
    }
}

fn billion_laughs() -> String {
    let mut s = String::from("l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for level in 1..10 {
        let refs = vec![format!("*l{}", level - 1); 9].join(", ");
        s.push_str(&format!("l{level}: &l{level} [{refs}]\n"));
    }
    s
}

#[test]
fn a_nested_alias_bomb_is_refused_quickly() {
    // 9^10 values when expanded, from 500 bytes; refused once a million have been charged
    // (each alias is charged its full size before it is copied).
    let text = billion_laughs();
    assert!(text.len() < 1000);
    let started = Instant::now();
    assert_eq!(
        err(&text),
        DescriptorError::TooLarge {
            document: Document {
                index: 1,
                entity: None
            },
            limit: MAX_VALUES,
            what: "values",
        }
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_wide_alias_bomb_is_refused_by_the_budget() {
    // A thousand aliases of a thousand-item list: 1,001,000 values from 6 KB. (A guard that
    // counts alias uses, like serde_yaml's 100 per event, lets this through.)
    let items = vec!["x"; 1000].join(",");
    let aliases = vec!["*a"; 1000].join(",");
    let text = format!("a: &a [{items}]\nb: [{aliases}]\n");
    assert!(text.len() < 7000);
    let started = Instant::now();
    let e = err(&text);
    assert_eq!(
        e,
        DescriptorError::TooLarge {
            document: Document {
                index: 1,
                entity: None
            },
            limit: MAX_VALUES,
            what: "values",
        }
    );
    assert_eq!(
        e.to_string(),
        "document 1: the stream expands to more than 1000000 values (YAML aliases count each \
         time they are used); refused"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn a_long_string_used_many_times_is_refused_by_the_budget_of_the_whole_stream() {
    // 1 MiB of text used 40 times by a group's unread field: 41 MiB per document, within the
    // limit alone; the second such document takes the stream past 64 MiB.
    let long = "x".repeat(1 << 20);
    let group = |name: &str| {
        format!(
            "{}x-blob: &blob \"{long}\"\nx-copies: [{}]\n",
            doc("Group", name, "  type: team\n"),
            vec!["*blob"; 40].join(",")
        )
    };
    let started = Instant::now();
    // Alone, a document is within the budget.
    assert_eq!(parse_ok(&group("a")).entities.len(), 1);
    let e = err(&format!("{}---\n{}", group("a"), group("b")));
    assert_eq!(
        e,
        DescriptorError::TooLarge {
            document: Document {
                index: 2,
                entity: None
            },
            limit: MAX_SCALAR_BYTES,
            what: "bytes of text",
        }
    );
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn at_most_ten_thousand_documents() {
    assert_eq!(MAX_DOCUMENTS, 10_000);
    let group = doc("Group", "g", "  type: team\n");
    // Each `---` starts a document: 10,000 of them, the last one a group, are fine.
    let p = parse_ok(&format!("{}{group}", "---\n".repeat(MAX_DOCUMENTS)));
    assert_eq!(p.entities.len(), 1);
    let e = err(&format!("{}{group}", "---\n".repeat(MAX_DOCUMENTS + 1)));
    assert_eq!(
        e,
        DescriptorError::TooManyDocuments {
            limit: MAX_DOCUMENTS
        }
    );
    assert_eq!(
        e.to_string(),
        "more than 10000 documents in one stream; split it"
    );
}

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn mangled_descriptors_never_panic() {
    const SPECIAL: &[u8] = b":-[]{}&*!|>?%@#'\"\t\n ,~<";
    let mut rng = Rng(0x5eed_cafe_f00d_0001);
    for (name, mutations) in [
        ("shop.yaml", 1500),
        ("acme-org.yaml", 150),
        ("examples.yaml", 60),
        ("bad/syntax-error.yaml", 300),
        ("bad/duplicate-entity.yaml", 300),
    ] {
        let text = fixture(name);
        let bytes = text.as_bytes();
        // Every truncation point of the small files, some of the big ones.
        let step = (bytes.len() / 300).max(1);
        for cut in (0..bytes.len()).step_by(step) {
            let _ = parse(&String::from_utf8_lossy(&bytes[..cut]), None);
        }
        for _ in 0..mutations {
            let mut mangled = bytes.to_vec();
            for _ in 0..=rng.below(3) {
                let at = rng.below(mangled.len());
                match rng.below(3) {
                    0 => mangled[at] = SPECIAL[rng.below(SPECIAL.len())],
                    1 => mangled.insert(at, SPECIAL[rng.below(SPECIAL.len())]),
                    _ => {
                        mangled.remove(at);
                    }
                }
            }
            let _ = parse(&String::from_utf8_lossy(&mangled), None);
        }
    }
}

// ===================================================================================
// Event keys and JSON
// ===================================================================================

fn all_fixture_entities() -> Vec<Entity> {
    ["examples.yaml", "acme-org.yaml", "shop.yaml"]
        .into_iter()
        .flat_map(|name| parse_fixture(name).entities)
        .collect()
}

/// One field of an entity changed.
type Change = fn(&mut Entity);

#[test]
fn event_keys_are_stable_and_follow_the_content() {
    let a = parse_fixture("shop.yaml");
    let b = parse_fixture("shop.yaml");
    let keys: Vec<String> = a.entities.iter().map(event_key).collect();
    assert_eq!(keys, b.entities.iter().map(event_key).collect::<Vec<_>>());

    // backstage:<reference>:<first 16 hex digits of the SHA-256 of the JSON>
    for e in &a.entities {
        let digest = hex::encode(Sha256::digest(serde_json::to_vec(e).unwrap()));
        assert_eq!(
            event_key(e),
            format!("backstage:{}:{}", e.reference(), &digest[..16])
        );
    }
    let cart = find(&a, EntityKind::Component, "shop/cart");
    let key = event_key(cart);
    let hash = key.strip_prefix("backstage:component:shop/cart:").unwrap();
    assert_eq!(hash.len(), 16);
    assert!(hash
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));

    // Any change of any field changes the key, and no two changes collide.
    let changes: [(&str, Change); 18] = [
        ("kind", |e| e.kind = EntityKind::Resource),
        ("name", |e| e.name = "shop/basket".into()),
        ("title", |e| e.title = None),
        ("description", |e| e.description = some("Holds items.")),
        ("spec_type", |e| e.spec_type = some("website")),
        ("lifecycle", |e| e.lifecycle = some("deprecated")),
        ("owner", |e| e.owner = some("shop/team-payments")),
        ("system", |e| e.system = None),
        ("domain", |e| e.domain = some("commerce")),
        ("depends_on", |e| e.depends_on.push("shop/pricing".into())),
        ("provides_apis", |e| {
            e.provides_apis.push("shop/cart-api".into())
        }),
        ("consumes_apis", |e| {
            e.consumes_apis.push("shop/payments-api".into())
        }),
        ("contacts.email", |e| {
            e.contacts.email = some("cart@shop.example")
        }),
        ("contacts.chat", |e| e.contacts.chat = some("#cart")),
        ("contacts.pager", |e| e.contacts.pager = some("PCART")),
        ("parent", |e| e.parent = some("shop/team-checkout")),
        ("members", |e| e.members.push("shop/alice".into())),
        ("location", |e| {
            e.location = some("elsewhere/catalog-info.yaml")
        }),
    ];
    let mut seen = vec![key.clone()];
    for (field, change) in &changes {
        let mut changed = cart.clone();
        change(&mut changed);
        assert_ne!(&changed, cart, "{field}");
        let k = event_key(&changed);
        assert!(!seen.contains(&k), "{field}: {k}");
        seen.push(k);
        // Changing it back gives the key back.
        let mut again = cart.clone();
        change(&mut again);
        assert_eq!(event_key(&again), event_key(&changed), "{field}");
    }

    // Every entity of every fixture has its own key.
    let all = all_fixture_entities();
    let mut keys: Vec<String> = all.iter().map(event_key).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), all.len());
}

#[test]
fn entity_json_round_trips() {
    let all = all_fixture_entities();
    assert_eq!(all.len(), 26 + 25 + 11);
    for e in &all {
        let json = serde_json::to_string(e).unwrap();
        let back: Entity = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, e, "{json}");
    }
    // The canonical JSON the event key hashes: empty fields left out, in declaration order,
    // the kind as `entity_kind`. A change here changes every entity's event key.
    let shop = parse_fixture("shop.yaml");
    assert_eq!(
        serde_json::to_string(find(&shop, EntityKind::Group, "shop/team-payments")).unwrap(),
        r#"{"entity_kind":"group","name":"shop/team-payments","title":"Payments team","spec_type":"team","contacts":{"email":"payments@shop.example","chat":"shop-payments","pager":"PSHOPPAY"},"parent":"engineering","members":["shop/alice","shop/bob"],"location":"fixtures/backstage/shop.yaml"}"#
    );
}
