//! The graph core end to end: images pushed to a real registry, SBOMs uploaded, Backstage
//! descriptors imported with `catalog import backstage`, a deployment recorded; then the blast
//! radius of log4j-core over HTTP reaches the images, the component versions, the components
//! depending on them through declared and API-derived dependencies, the application, the
//! deployment and the owners with their contacts. Mutations change the answer; bad input is
//! refused whole, naming the document and field.

use catalog_tests::registry::{push, ImageSpec, Layout, TempDir};
use catalog_tests::sbom::cyclonedx as sbom;
use catalog_tests::server::{binary, ADMIN_TOKEN, CATALOG_TOKEN, INGEST_TOKEN};
use catalog_tests::{CatalogServer, ServerOpts};
use serde_json::{json, Value};
use std::process::Command;
use std::time::Duration;

const LOG4J: &str = "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1";

const DESCRIPTORS: &str = include_str!("../../fixtures/shop-catalog-info.yaml");

/// The token `catalog import <kind>` needs: descriptors and advisories are catalog state.
fn token_for_import(args: &[&str]) -> &'static str {
    match args.first() {
        Some(&"backstage") | Some(&"osv") => CATALOG_TOKEN,
        _ => INGEST_TOKEN,
    }
}

fn import(server: &CatalogServer, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(binary().unwrap())
        .arg("import")
        .args(args)
        .args([
            "--server",
            &server.url(""),
            "--token",
            token_for_import(args),
        ])
        .env_remove("CATALOG_TOKEN")
        .env_remove("CATALOG_SERVER")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const BLAST: &str = r#"query($p: String!, $d: Int) {
  blastRadius(of: {purl: $p}, maxDepth: $d) {
    totals { images componentVersions components applications applicationVersions deployments owners clusters }
    components(first: 50) { totalCount nodes { name depth dependent path { kind name } } }
    applications(first: 50) { nodes { name } }
    deployments(first: 50) { nodes { deployment { cluster namespace workload } } }
    owners(first: 50) { nodes { team { name contacts { email chat pager } } } }
  }
}"#;

fn names(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_string())
        .collect();
    out.sort();
    out
}

#[test]
fn backstage_descriptors_and_blast_radius_over_http() {
    let (registry, server) = CatalogServer::with_registry(ServerOpts::default()).unwrap();
    let host = registry.host();

    // Images, pushed for real; SBOMs uploaded for two of them.
    let layout = Layout::new().unwrap();
    layout.build("cart", &ImageSpec::new("cart 1.0.0")).unwrap();
    layout
        .build("checkout", &ImageSpec::new("checkout 1.0.0"))
        .unwrap();
    let cart = push(&layout, "cart", &host, "shop/cart", "1.0.0").unwrap();
    let checkout = push(&layout, "checkout", &host, "shop/checkout", "1.0.0").unwrap();
    for d in [&cart, &checkout] {
        server
            .wait_for("images registered", Duration::from_secs(30), || {
                let v = server.query(
                    "query($d:String!){ image(digest:$d){ componentVersions { version } } }",
                    json!({"d": d}),
                )?;
                Ok((!v["image"].is_null()).then_some(()))
            })
            .unwrap();
    }
    let (st, body) = server
        .post(
            &format!("/hooks/sbom?image={cart}"),
            "application/vnd.cyclonedx+json",
            Some(INGEST_TOKEN),
            sbom(&[LOG4J, "pkg:maven/org.slf4j/slf4j-api@1.7.36"]),
        )
        .unwrap();
    assert_eq!(st, 202, "{body}");
    let (st, body) = server
        .post(
            &format!("/hooks/sbom?image={checkout}"),
            "application/vnd.cyclonedx+json",
            Some(INGEST_TOKEN),
            sbom(&["pkg:maven/org.slf4j/slf4j-api@1.7.36"]),
        )
        .unwrap();
    assert_eq!(st, 202, "{body}");

    // Descriptors from a directory, with the CLI.
    let dir = TempDir::new("backstage").unwrap();
    std::fs::write(dir.path().join("catalog-info.yaml"), DESCRIPTORS).unwrap();
    let (code, out, err) = import(&server, &["backstage", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("imported 7 entities from 1 files"), "{out}");

    // A deployment of cart 1.0.0.
    let (st, body) = server
        .post(
            "/hooks/deployments",
            "application/json",
            Some(INGEST_TOKEN),
            serde_json::to_vec(&json!({
                "cluster": "prod-eu-1", "environment": "prod", "namespace": "payments",
                "workload": "cart", "status": "healthy",
                "images": [{"container": "cart", "image": format!("{host}/shop/cart:1.0.0@{cart}")}]
            }))
            .unwrap(),
        )
        .unwrap();
    assert_eq!(st, 202, "{body}");

    let radius = server
        .wait_for("everything folded", Duration::from_secs(30), || {
            let d = server.query(BLAST, json!({"p": LOG4J}))?;
            let r = d["blastRadius"].clone();
            let ready = r["totals"]["deployments"] == 1
                && r["totals"]["components"] == 3
                && r["totals"]["owners"] == 2;
            Ok(ready.then_some(r))
        })
        .unwrap();
    let t = &radius["totals"];
    assert_eq!(t["images"], 1, "{radius}");
    assert_eq!(t["componentVersions"], 1);
    assert_eq!(t["applications"], 1);
    assert_eq!(t["applicationVersions"], 1);
    assert_eq!(t["clusters"], 1);
    // cart (through its version), checkout (dependsOn cart), frontend (consumes checkout-api).
    assert_eq!(
        names(&radius["components"]),
        vec!["shop/cart", "shop/checkout", "shop/frontend"]
    );
    let frontend = radius["components"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "shop/frontend")
        .unwrap();
    assert_eq!(frontend["dependent"], true);
    assert_eq!(frontend["depth"], 5);
    let path: Vec<&str> = frontend["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        path,
        vec![
            "package",
            "image",
            "componentVersion",
            "component",
            "component",
            "component"
        ]
    );
    assert_eq!(names(&radius["applications"]), vec!["shop/shop"]);
    let dep = &radius["deployments"]["nodes"][0]["deployment"];
    assert_eq!(dep["cluster"], "prod-eu-1");
    assert_eq!(dep["workload"], "cart");
    let owners = radius["owners"]["nodes"].as_array().unwrap();
    let payments = owners
        .iter()
        .find(|o| o["team"]["name"] == "team-payments")
        .unwrap();
    assert_eq!(
        payments["team"]["contacts"],
        json!({"email": "payments@example.com", "chat": "#payments-oncall", "pager": "PXYZ123"})
    );

    // Paging a group one at a time by cursor returns every item exactly once, in order.
    let whole: Vec<Value> = radius["components"]["nodes"].as_array().unwrap().clone();
    let mut paged = Vec::new();
    let mut after = Value::Null;
    loop {
        let d = server
            .query(
                r#"query($p: String!, $a: String) { blastRadius(of: {purl: $p}) {
                     components(first: 1, after: $a) { totalCount
                       nodes { name depth dependent path { kind name } }
                       edges { cursor } pageInfo { hasNextPage endCursor } } } }"#,
                json!({"p": LOG4J, "a": after}),
            )
            .unwrap();
        let c = &d["blastRadius"]["components"];
        assert_eq!(c["totalCount"], 3, "{c}");
        assert_eq!(c["edges"][0]["cursor"], c["pageInfo"]["endCursor"], "{c}");
        paged.extend(c["nodes"].as_array().unwrap().iter().cloned());
        if c["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = c["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(paged, whole);
    // Another group's cursor, or a made-up one, is a named error.
    for bad in [after, json!("1"), json!("not a cursor")] {
        let (_, v) = server
            .graphql_as(
                None,
                r#"query($p: String!, $a: String) { blastRadius(of: {purl: $p}) { owners(after: $a) { totalCount } } }"#,
                json!({"p": LOG4J, "a": bad}),
            )
            .unwrap();
        assert_eq!(v["errors"][0]["extensions"]["field"], "after", "{v}");
        assert_eq!(
            v["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{v}"
        );
    }

    // maxDepth bounds the walk: 4 hops reach cart and checkout, not frontend.
    let d = server.query(BLAST, json!({"p": LOG4J, "d": 4})).unwrap();
    assert_eq!(
        names(&d["blastRadius"]["components"]),
        vec!["shop/cart", "shop/checkout"]
    );

    // Re-importing the same descriptors changes nothing.
    let before = server.event_count().unwrap();
    let (code, out, err) = import(&server, &["backstage", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(server.event_count().unwrap(), before);

    // Mutations: removing frontend -> checkout takes frontend out of the radius; declaring
    // an application and contacts shows at once.
    let (st, v) = server
        .graphql_as(
            Some(ADMIN_TOKEN),
            r#"mutation { removeDependency(from: "shop/frontend", to: "shop/checkout") { name dependencies { name } } }"#,
            json!({}),
        )
        .unwrap();
    assert_eq!(st, 200);
    assert!(v.get("errors").is_none(), "{v}");
    assert_eq!(v["data"]["removeDependency"]["name"], "shop/frontend");
    // The answer may trail the mutation by the sequence-gap patience when a replay above
    // left a hole in the log's sequence numbers.
    let d = server
        .wait_for("the removal folded", Duration::from_secs(30), || {
            let d = server.query(BLAST, json!({"p": LOG4J}))?;
            Ok((d["blastRadius"]["totals"]["components"] == 2).then_some(d))
        })
        .unwrap();
    assert_eq!(
        names(&d["blastRadius"]["components"]),
        vec!["shop/cart", "shop/checkout"]
    );
    let (_, v) = server
        .graphql_as(
            Some(ADMIN_TOKEN),
            r#"mutation { setTeamContacts(team: "team-web", email: "web-oncall@example.com", pager: "PWEB") { contacts { email chat pager } } }"#,
            json!({}),
        )
        .unwrap();
    assert_eq!(
        v["data"]["setTeamContacts"]["contacts"],
        json!({"email": "web-oncall@example.com", "chat": null, "pager": "PWEB"}),
        "{v}"
    );
    let (_, v) = server
        .graphql_as(
            Some(ADMIN_TOKEN),
            r#"mutation { declareApplication(name: "payments", components: ["shop/cart", "shop/checkout"], owner: "team-payments") { name components { name } versionCount versions { nodes { number members { component version } } } } }"#,
            json!({}),
        )
        .unwrap();
    let a = &v["data"]["declareApplication"];
    assert_eq!(a["versionCount"], 1, "{v}");
    assert_eq!(
        a["versions"]["nodes"][0]["members"],
        json!([{"component": "shop/cart", "version": "1.0.0"}, {"component": "shop/checkout", "version": "1.0.0"}])
    );
    // The BOM of that application version, and a diff against one of its images.
    let d = server
        .query(
            r#"{ bom(of: {application: "payments", number: 1}) { images { nodes } packages { totalCount nodes { packageVersion } } }
                 diff(from: {component: "shop/checkout", version: "1.0.0"}, to: {component: "shop/cart", version: "1.0.0"}) {
                   components { nodes { name kind from to } } packages { nodes { name kind } } } }"#,
            json!({}),
        )
        .unwrap();
    assert_eq!(d["bom"]["images"]["nodes"].as_array().unwrap().len(), 2);
    assert_eq!(d["bom"]["packages"]["nodes"].as_array().unwrap().len(), 2);
    assert_eq!(
        d["diff"]["packages"]["nodes"],
        json!([{"name": "pkg:maven/org.apache.logging.log4j/log4j-core", "kind": "ADDED"}])
    );
    assert_eq!(
        d["diff"]["components"]["nodes"].as_array().unwrap().len(),
        2
    );
    // Each of those lists a page at a time: every item once, in order, counted.
    const PAGE: &str = "totalCount pageInfo { hasNextPage hasPreviousPage endCursor }";
    let of_app = r#"of: {application: "payments", number: 1}"#;
    let diff_of = r#"from: {component: "shop/checkout", version: "1.0.0"}, to: {component: "shop/cart", version: "1.0.0"}"#;
    for (query, at) in [
        (format!("query($first: Int, $after: String) {{ bom({of_app}) {{ componentVersions(first: $first, after: $after) {{ {PAGE} nodes {{ component version }} }} }} }}"), "/bom/componentVersions"),
        (format!("query($first: Int, $after: String) {{ bom({of_app}) {{ images(first: $first, after: $after) {{ {PAGE} nodes }} }} }}"), "/bom/images"),
        (format!("query($first: Int, $after: String) {{ diff({diff_of}) {{ components(first: $first, after: $after) {{ {PAGE} nodes {{ name kind }} }} }} }}"), "/diff/components"),
        (format!("query($first: Int, $after: String) {{ components(first: $first, after: $after) {{ {PAGE} nodes {{ name }} }} }}"), "/components"),
        (format!("query($first: Int, $after: String) {{ components(prefix: \"shop/\", first: $first, after: $after) {{ {PAGE} nodes {{ name }} }} }}"), "/components"),
        (format!("query($first: Int, $after: String) {{ teams(first: $first, after: $after) {{ {PAGE} nodes {{ name }} }} }}"), "/teams"),
    ] {
        let all = server.paged(&query, json!({}), at, 1, None).unwrap();
        assert!(all.len() >= 2, "{at}: {all:?}");
    }
    // A team's components and a component's versions, against the lists they page.
    let team = server
        .query(
            r#"{ team(name: "team-payments") { components(first: 500) { nodes { name } } } }"#,
            json!({}),
        )
        .unwrap();
    let owned = server
        .paged(
            &format!("query($first: Int, $after: String) {{ team(name: \"team-payments\") {{ components(first: $first, after: $after) {{ {PAGE} nodes {{ name }} }} }} }}"),
            json!({}),
            "/team/components",
            1,
            None,
        )
        .unwrap();
    assert_eq!(json!(owned), team["team"]["components"]["nodes"]);
    let versions = server
        .paged(
            &format!("query($first: Int, $after: String) {{ component(name: \"shop/cart\") {{ versions(includeDeleted: true, first: $first, after: $after) {{ {PAGE} nodes {{ version }} }} }} }}"),
            json!({}),
            "/component/versions",
            1,
            None,
        )
        .unwrap();
    assert_eq!(versions, vec![json!({"version": "1.0.0"})]);
    let m = server
        .query(
            r#"{ dependencyMap(component: "shop/cart", direction: REVERSE, depth: 5) { nodes { component layer } edges { from to } } }"#,
            json!({}),
        )
        .unwrap();
    assert_eq!(
        m["dependencyMap"]["edges"],
        json!([{"from": "shop/checkout", "to": "shop/cart"}])
    );

    // Bad input is refused whole and names the document and field; nothing is recorded.
    let before = server.event_count().unwrap();
    let bad = DESCRIPTORS.replace(
        "  owner: group:default/team-web\n  system: shop\n  consumesApis",
        "  system: shop\n  consumesApis",
    );
    let (st, body) = server
        .post(
            "/hooks/backstage",
            "application/yaml",
            Some(CATALOG_TOKEN),
            bad.into_bytes(),
        )
        .unwrap();
    assert_eq!(st, 400, "{body}");
    assert!(
        body.contains("document 7") && body.contains("spec.owner"),
        "{body}"
    );
    let (st, body) = server
        .post(
            "/hooks/backstage",
            "application/yaml",
            Some(CATALOG_TOKEN),
            b"kind: Component\nmetadata: [unclosed".to_vec(),
        )
        .unwrap();
    assert_eq!(st, 400, "{body}");
    assert!(body.contains("document 1"), "{body}");
    let (st, _) = server
        .post(
            "/hooks/backstage",
            "application/json",
            Some(CATALOG_TOKEN),
            DESCRIPTORS.into(),
        )
        .unwrap();
    assert_eq!(st, 415);
    let (st, _) = server
        .post(
            "/hooks/backstage",
            "application/yaml",
            None,
            DESCRIPTORS.into(),
        )
        .unwrap();
    assert_eq!(st, 401);
    let (st, v) = server
        .graphql_as(
            None,
            r#"{ blastRadius(of: {purl: "pkg:maven/a/b", image: "sha256:00"}) { maxDepth } }"#,
            json!({}),
        )
        .unwrap();
    assert_eq!(st, 200);
    assert_eq!(
        v["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{v}"
    );
    assert_eq!(v["errors"][0]["extensions"]["field"], "of", "{v}");
    let (_, v) = server
        .graphql_as(
            None,
            r#"{ blastRadius(of: {purl: "pkg:maven/a/b", vers: "vers:npm/>=1"}) { maxDepth } }"#,
            json!({}),
        )
        .unwrap();
    assert_eq!(v["errors"][0]["extensions"]["field"], "of.vers", "{v}");
    let (_, v) = server
        .graphql_as(
            None,
            r#"mutation { declareDependency(from: "a", to: "b") { name } }"#,
            json!({}),
        )
        .unwrap();
    assert_eq!(
        v["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{v}"
    );
    let d = server
        .query(
            r#"{ blastRadius(of: {component: "no/such"}) { maxDepth } }"#,
            json!({}),
        )
        .unwrap();
    assert!(d["blastRadius"].is_null());
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(server.event_count().unwrap(), before);
}
