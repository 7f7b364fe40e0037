//! The SBOM parsers against documents made by real producers (cyclonedx-py, cyclonedx-npm,
//! sbom4python: see fixtures/sbom/README.md and scripts/sbom-producers.sh) and small
//! hand-written ones for the edges. Expectations were checked by hand against the files (and,
//! for the npm depths, against an independent breadth-first search in Python).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use catalog_core::sbom::{Sbom, SbomPackage};
use catalog_ingest::item::FieldError;
use catalog_ingest::sbom::parse;
use serde_json::json;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/fixtures/sbom/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn parse_fixture(name: &str) -> Sbom {
    parse(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn parse_json(v: serde_json::Value) -> Result<Sbom, FieldError> {
    parse(&serde_json::to_vec(&v).unwrap())
}

fn err(v: serde_json::Value) -> FieldError {
    match parse_json(v) {
        Ok(s) => panic!("expected an error, parsed {s:?}"),
        Err(e) => e,
    }
}

/// The only package with this name (and version, when given).
fn pkg<'a>(sbom: &'a Sbom, name: &str, version: Option<&str>) -> &'a SbomPackage {
    let found: Vec<&SbomPackage> = sbom
        .packages
        .iter()
        .filter(|p| p.name == name && version.is_none_or(|v| p.version.as_deref() == Some(v)))
        .collect();
    assert_eq!(found.len(), 1, "{name} {version:?}: {found:?}");
    found[0]
}

fn index_of(sbom: &Sbom, name: &str, version: Option<&str>) -> u32 {
    let p = pkg(sbom, name, version);
    sbom.packages
        .iter()
        .position(|q| std::ptr::eq(p, q))
        .unwrap() as u32
}

fn names_of(sbom: &Sbom, indices: &[u32]) -> Vec<String> {
    let mut v: Vec<String> = indices
        .iter()
        .map(|&i| sbom.packages[i as usize].name.clone())
        .collect();
    v.sort();
    v
}

fn cdx(components: serde_json::Value) -> serde_json::Value {
    json!({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": components})
}

const HEX_A: &str = "2547c06940b09903fc68aef8c282c5e15c96d907c52d055210927f3a76d41cbf";

// ---------------------------------------------------------------------------------------------
// Real producers.

#[test]
fn cyclonedx_py_environment() {
    let s = parse_fixture("python.cdx.json");
    assert_eq!(s.format, "CycloneDX");
    assert_eq!(s.spec_version, "1.5");
    assert_eq!(s.subject, None, "an application, not an image");
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    assert_eq!(s.packages.len(), 12);

    let django = pkg(&s, "Django", Some("4.2.7"));
    assert_eq!(django.purl.as_deref(), Some("pkg:pypi/django@4.2.7"));
    assert_eq!(django.depth, Some(1), "a direct dependency of the project");
    assert_eq!(
        django.licenses,
        vec!["BSD-3-Clause", "License :: OSI Approved :: BSD License"]
    );
    assert_eq!(
        names_of(&s, &django.depends_on),
        vec!["asgiref", "sqlparse"]
    );

    let asgiref = pkg(&s, "asgiref", None);
    assert_eq!(asgiref.version.as_deref(), Some("3.13.0"));
    assert_eq!(asgiref.purl.as_deref(), Some("pkg:pypi/asgiref@3.13.0"));
    assert_eq!(asgiref.depth, Some(2), "through Django");
    assert_eq!(pkg(&s, "sqlparse", None).depth, Some(2));

    let requests = pkg(&s, "requests", Some("2.31.0"));
    assert!(requests.is_direct());
    assert_eq!(
        names_of(&s, &requests.depends_on),
        vec!["certifi", "charset-normalizer", "idna", "urllib3"]
    );
    for transitive in ["urllib3", "idna", "certifi", "charset-normalizer"] {
        let p = pkg(&s, transitive, None);
        assert_eq!(p.depth, Some(2), "{transitive}");
        assert!(!p.is_direct());
    }
    assert_eq!(pkg(&s, "urllib3", None).licenses, vec!["MIT"]);

    // djangorestframework is direct and depends on Django, itself direct (shortest path wins).
    let drf = pkg(&s, "djangorestframework", Some("3.14.0"));
    assert_eq!(drf.depth, Some(1));
    assert_eq!(names_of(&s, &drf.depends_on), vec!["Django", "pytz"]);
    assert_eq!(pkg(&s, "pytz", None).depth, Some(2));

    // pip and setuptools are in the environment but nothing the project needs.
    assert_eq!(pkg(&s, "pip", None).depth, None);
    assert_eq!(pkg(&s, "setuptools", None).depth, None);
    assert!(s.packages.iter().all(|p| p.hashes.is_empty()));
}

#[test]
fn cyclonedx_npm() {
    let s = parse_fixture("npm.cdx.json");
    assert_eq!(
        (s.format.as_str(), s.spec_version.as_str()),
        ("CycloneDX", "1.6")
    );
    assert_eq!(s.subject, None);
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    assert_eq!(
        s.packages.len(),
        83,
        "82 top-level components and one nested"
    );

    let express = pkg(&s, "express", Some("4.18.2"));
    assert_eq!(express.purl.as_deref(), Some("pkg:npm/express@4.18.2"));
    assert_eq!(express.depth, Some(1));
    assert_eq!(express.licenses, vec!["MIT"]);
    assert_eq!(express.depends_on.len(), 31);

    // The scoped package: group `@babel` + name `code-frame`, purl with the `@` encoded.
    let frame = pkg(&s, "@babel/code-frame", Some("7.22.13"));
    assert_eq!(
        frame.purl.as_deref(),
        Some("pkg:npm/%40babel/code-frame@7.22.13")
    );
    assert_eq!(frame.depth, Some(1));
    assert_eq!(
        names_of(&s, &frame.depends_on),
        vec!["@babel/highlight", "chalk"]
    );
    assert_eq!(pkg(&s, "@babel/highlight", None).depth, Some(2));
    assert_eq!(
        pkg(&s, "@babel/helper-validator-identifier", None).depth,
        Some(3)
    );

    // The deepest: express -> qs -> side-channel -> side-channel-map -> get-intrinsic ->
    // get-proto -> dunder-proto.
    for (name, depth) in [
        ("qs", 2),
        ("side-channel", 3),
        ("side-channel-map", 4),
        ("get-intrinsic", 5),
        ("get-proto", 6),
        ("dunder-proto", 7),
    ] {
        assert_eq!(pkg(&s, name, None).depth, Some(depth), "{name}");
    }
    assert_eq!(
        s.packages.iter().filter_map(|p| p.depth).max(),
        Some(7),
        "no deeper path"
    );
    assert!(s.packages.iter().all(|p| p.depth.is_some()));

    // Two versions of ms: 2.0.0 at the top (debug's), 2.1.3 nested under send (its own copy).
    let ms_old = index_of(&s, "ms", Some("2.0.0"));
    let ms_new = index_of(&s, "ms", Some("2.1.3"));
    assert_eq!(s.packages[ms_new as usize].depth, Some(3));
    assert_eq!(s.packages[ms_old as usize].depth, Some(3));
    assert!(pkg(&s, "send", None).depends_on.contains(&ms_new));
    assert!(pkg(&s, "debug", None).depends_on.contains(&ms_old));
    assert_eq!(pkg(&s, "inherits", None).licenses, vec!["ISC"]);
}

#[test]
fn sbom4python_spdx() {
    let s = parse_fixture("python.spdx.json");
    assert_eq!(
        (s.format.as_str(), s.spec_version.as_str()),
        ("SPDX", "2.3")
    );
    assert_eq!(s.subject, None);
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    // djangorestframework is what the document DESCRIBES: the subject, not a package.
    let names: Vec<&str> = s.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, vec!["django", "asgiref", "sqlparse", "pytz"]);

    let django = pkg(&s, "django", Some("4.2.7"));
    assert_eq!(django.purl.as_deref(), Some("pkg:pypi/django@4.2.7"));
    assert_eq!(django.depth, Some(1));
    assert_eq!(
        django.licenses,
        vec!["BSD-3-Clause"],
        "concluded = declared, once"
    );
    assert_eq!(
        names_of(&s, &django.depends_on),
        vec!["asgiref", "sqlparse"]
    );

    let asgiref = pkg(&s, "asgiref", Some("3.13.0"));
    assert_eq!(asgiref.purl.as_deref(), Some("pkg:pypi/asgiref@3.13.0"));
    assert_eq!(asgiref.depth, Some(2));
    let sqlparse = pkg(&s, "sqlparse", Some("0.6.1"));
    assert_eq!(sqlparse.depth, Some(2));
    assert!(sqlparse.licenses.is_empty(), "NOASSERTION is no license");
    let pytz = pkg(&s, "pytz", Some("2026.6"));
    assert_eq!(pytz.depth, Some(1));
    assert_eq!(pytz.licenses, vec!["MIT"]);
    assert_eq!(pytz.purl.as_deref(), Some("pkg:pypi/pytz@2026.6"));
}

// ---------------------------------------------------------------------------------------------
// Hand-written documents.

#[test]
fn nested_components_without_a_dependency_graph() {
    let s = parse_fixture("nested-1.4.cdx.json");
    assert_eq!(s.spec_version, "1.4");
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    let got: Vec<(&str, Option<u32>)> = s
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.depth))
        .collect();
    assert_eq!(
        got,
        vec![
            ("Flask", Some(1)),
            ("Werkzeug", Some(2)),
            ("MarkupSafe", Some(3)),
            ("itsdangerous", Some(2)),
            ("com.google.guava/guava", Some(1)),
        ]
    );
    assert!(s.packages.iter().all(|p| p.depends_on.is_empty()));

    let flask = &s.packages[0];
    assert_eq!(flask.purl.as_deref(), Some("pkg:pypi/flask@3.0.0"));
    assert_eq!(flask.licenses, vec!["BSD-3-Clause"]);
    assert_eq!(
        flask.hashes.get("sha-256").map(String::as_str),
        Some("b87aa5270772708aeaed24ad65681618c398f238e7b3bed393af852738243377"),
        "uppercase hex in the document, lowercase here"
    );
    assert_eq!(
        flask.hashes.get("md5").map(String::as_str),
        Some("319c3206a7f10c17c3b9116d4a957646")
    );
    assert_eq!(
        s.packages[1].licenses,
        vec!["BSD License"],
        "a license name"
    );
    assert_eq!(
        s.packages[2].purl.as_deref(),
        Some("pkg:pypi/markupsafe@2.1.3")
    );
    assert_eq!(
        s.packages[2].hashes.keys().collect::<Vec<_>>(),
        vec!["sha-1"]
    );
    let guava = &s.packages[4];
    assert_eq!(
        guava.purl.as_deref(),
        Some("pkg:maven/com.google.guava/guava@32.1.3-jre?type=jar")
    );
    assert_eq!(guava.licenses, vec!["Apache-2.0 OR MIT"], "an expression");
    assert_eq!(
        guava.hashes.keys().collect::<Vec<_>>(),
        vec!["sha-512", "sha3-256"]
    );
}

#[test]
fn a_dependency_cycle_terminates_with_shortest_depths() {
    let s = parse_fixture("cycle.cdx.json");
    assert!(
        s.warnings.is_empty(),
        "cycles are not a problem: {:?}",
        s.warnings
    );
    let depths: Vec<Option<u32>> = s.packages.iter().map(|p| p.depth).collect();
    // root -> a -> b -> c, b -> a, c -> a, c -> c; d -> a but nothing reaches d.
    assert_eq!(depths, vec![Some(1), Some(2), Some(3), None]);
    let deps: Vec<Vec<u32>> = s.packages.iter().map(|p| p.depends_on.clone()).collect();
    assert_eq!(
        deps,
        vec![vec![1], vec![2, 0], vec![0], vec![0]],
        "self-loop dropped"
    );
}

#[test]
fn cyclonedx_versions_later_minors_and_other_majors() {
    // 1.7 is read like the others.
    let s = parse_fixture("spec-1.7.cdx.json");
    assert_eq!(s.spec_version, "1.7");
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    assert_eq!(
        pkg(&s, "left-pad", None).purl.as_deref(),
        Some("pkg:npm/left-pad@1.3.0")
    );
    for v in ["1.4", "1.5", "1.6", "1.7"] {
        let s = parse_json(json!({"bomFormat": "CycloneDX", "specVersion": v})).unwrap();
        assert_eq!(s.spec_version, v);
        assert!(s.packages.is_empty());
        assert!(s.warnings.is_empty(), "{v}: {:?}", s.warnings);
    }
    // A later minor version is read as 1.7, and the receipt says so; the version stated is
    // the one kept.
    for v in ["1.8", "1.12"] {
        let s = parse_json(json!({"bomFormat": "CycloneDX", "specVersion": v,
            "components": [{"name": "a", "version": "1", "purl": "pkg:npm/a@1"}]}))
        .unwrap();
        assert_eq!(s.spec_version, v);
        assert_eq!(s.packages[0].purl.as_deref(), Some("pkg:npm/a@1"));
        assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
        assert!(
            s.warnings[0].starts_with(&format!("specVersion: CycloneDX {v} is newer"))
                && s.warnings[0].contains("read as 1.7"),
            "{:?}",
            s.warnings
        );
    }
    // Another major version, an old one, or no version number at all: refused, naming it.
    for (v, words) in [
        ("2.0", "unknown CycloneDX major version 2"),
        ("0.9", "unknown CycloneDX major version 0"),
        ("1.3", "too old"),
        ("1.2", "too old"),
        ("1.7.1", "unknown CycloneDX version"),
        ("1.x", "unknown CycloneDX version"),
        ("+1.8", "unknown CycloneDX version"),
        ("", "unknown CycloneDX version"),
    ] {
        let e = err(json!({"bomFormat": "CycloneDX", "specVersion": v, "components": []}));
        assert_eq!(e.field, "specVersion", "{v}");
        assert!(e.reason.contains(words), "{v}: {e}");
        assert!(e.reason.contains("1.4, 1.5, 1.6 and 1.7"), "{v}: {e}");
    }
    let e = err(json!({"bomFormat": "CycloneDX", "components": []}));
    assert_eq!(e.to_string(), "specVersion: missing");
    let e = err(json!({"bomFormat": "CycloneDX", "specVersion": 1.7}));
    assert_eq!(
        e.to_string(),
        "specVersion: expected a string, found a number"
    );
}

/// Depth -> how many packages are that deep (None: not reached).
fn depth_histogram(s: &Sbom) -> Vec<(Option<u32>, usize)> {
    let mut h = std::collections::BTreeMap::new();
    for p in &s.packages {
        *h.entry(p.depth).or_insert(0) += 1;
    }
    h.into_iter().collect()
}

/// The cdxgen depths below were computed apart from the parser, by a breadth-first search in
/// Python over each file (from `metadata.component`'s bom-ref over `dependencies`; from the
/// SpdxDocument's `rootElement` over `dependsOn` relationships).
const CDXGEN_DEPTHS: [(Option<u32>, usize); 7] = [
    (Some(1), 2),
    (Some(2), 33),
    (Some(3), 23),
    (Some(4), 9),
    (Some(5), 3),
    (Some(6), 12),
    (Some(7), 1),
];

#[test]
fn cdxgen_cyclonedx_1_7() {
    let s = parse_fixture("cdxgen-1.7.cdx.json");
    assert_eq!(
        (s.format.as_str(), s.spec_version.as_str()),
        ("CycloneDX", "1.7")
    );
    assert_eq!(s.subject, None, "an npm project, not an image");
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    assert_eq!(s.packages.len(), 83);
    assert_eq!(depth_histogram(&s), CDXGEN_DEPTHS);

    let express = pkg(&s, "express", Some("4.18.2"));
    assert_eq!(express.purl.as_deref(), Some("pkg:npm/express@4.18.2"));
    assert_eq!(express.depth, Some(1));
    assert_eq!(express.depends_on.len(), 31);
    assert_eq!(express.licenses, vec!["MIT"]);
    // cdxgen gives the package-lock integrity as a SHA-512 hash.
    assert_eq!(
        express.hashes.get("sha-512").map(String::len),
        Some(128),
        "{:?}",
        express.hashes
    );
    let frame = pkg(&s, "@babel/code-frame", Some("7.22.13"));
    assert_eq!(
        frame.purl.as_deref(),
        Some("pkg:npm/%40babel/code-frame@7.22.13")
    );
    assert!(frame.is_direct());
    assert_eq!(pkg(&s, "dunder-proto", None).depth, Some(7));
    assert_eq!(pkg(&s, "ms", Some("2.1.3")).depth, Some(3));
}

#[test]
fn cdxgen_spdx_3_reads_like_its_cyclonedx_twin() {
    let s = parse_fixture("cdxgen.spdx3.json");
    assert_eq!(
        (s.format.as_str(), s.spec_version.as_str()),
        ("SPDX", "3.0.1")
    );
    assert_eq!(s.subject, None);
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    // The root element (catalog-sample-npm) is the subject, not a package.
    assert_eq!(s.packages.len(), 83);
    assert!(s.packages.iter().all(|p| p.name != "catalog-sample-npm"));
    assert_eq!(depth_histogram(&s), CDXGEN_DEPTHS);
    // cdxgen's SPDX names a scoped package without its scope; its purl has it.
    let frame = pkg(&s, "code-frame", Some("7.22.13"));
    assert_eq!(
        frame.purl.as_deref(),
        Some("pkg:npm/%40babel/code-frame@7.22.13")
    );
    assert_eq!(frame.depth, Some(1));
    let express = pkg(&s, "express", Some("4.18.2"));
    assert_eq!(express.hashes.get("sha-512").map(String::len), Some(128));

    // The same project by the same producer in the other format: the same purls, each as
    // deep and depending on the same purls.
    let c = parse_fixture("cdxgen-1.7.cdx.json");
    type Row = (Option<u32>, Vec<String>);
    let by_purl = |s: &Sbom| -> std::collections::BTreeMap<String, Row> {
        s.packages
            .iter()
            .map(|p| {
                let mut deps: Vec<String> = p
                    .depends_on
                    .iter()
                    .map(|&i| s.packages[i as usize].purl.clone().unwrap())
                    .collect();
                deps.sort();
                (p.purl.clone().unwrap(), (p.depth, deps))
            })
            .collect()
    };
    let (spdx, cyclonedx) = (by_purl(&s), by_purl(&c));
    assert_eq!(spdx.len(), 83, "one package per purl");
    assert_eq!(spdx, cyclonedx);
}

#[test]
fn cyclonedx_1_7_external_components_are_not_contained() {
    let doc = json!({
        "bomFormat": "CycloneDX", "specVersion": "1.7",
        "metadata": {"component": {"bom-ref": "app", "type": "application", "name": "app"}},
        "components": [
            {"bom-ref": "lib", "name": "lib", "version": "1.0.0", "purl": "pkg:npm/lib@1.0.0"},
            {"bom-ref": "ssl", "name": "openssl", "isExternal": true,
             "versionRange": "vers:generic/>=3.0.0|<4", "purl": "pkg:generic/openssl"},
            {"bom-ref": "z", "name": "zlib", "version": "1.3", "purl": "pkg:generic/zlib@1.3"}
        ],
        "dependencies": [
            {"ref": "app", "dependsOn": ["lib", "ssl"]},
            {"ref": "lib", "dependsOn": ["ssl"]},
            {"ref": "ssl", "dependsOn": ["z"]}
        ]
    });
    let s = parse_json(doc.clone()).unwrap();
    let names: Vec<&str> = s.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["lib", "zlib"]);
    assert_eq!(s.packages[0].depth, Some(1));
    assert!(
        s.packages[0].depends_on.is_empty(),
        "no edge to what is not there"
    );
    assert_eq!(
        s.packages[1].depth,
        Some(2),
        "reached through the external one"
    );
    assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
    assert!(
        s.warnings[0].starts_with("components[1] (openssl@vers:generic/>=3.0.0|<4): external"),
        "{:?}",
        s.warnings
    );
    // isExternal: false is an ordinary component.
    let mut inside = doc.clone();
    inside["components"][1]["isExternal"] = json!(false);
    let s = parse_json(inside).unwrap();
    assert_eq!(s.packages.len(), 3);
    let mut bad = doc;
    bad["components"][1]["isExternal"] = json!("yes");
    assert_eq!(
        err(bad).to_string(),
        "components[1].isExternal: expected a boolean, found a string"
    );
}

#[test]
fn an_invalid_purl_is_a_warning_and_no_purl() {
    let s = parse_fixture("invalid-purl.cdx.json");
    assert_eq!(s.packages.len(), 14);
    assert_eq!(s.packages[12].purl, None);
    assert_eq!(
        s.packages[12].depth,
        Some(1),
        "still a package, still direct"
    );
    assert_eq!(
        s.packages[11].purl.as_deref(),
        Some("pkg:golang/example.com/lib11@v1.11.0")
    );
    assert_eq!(
        s.warnings,
        vec![
            "components[12] (lib12@1.12.0): purl \"pkg:/nope@1.12.0\": \"pkg:/nope@1.12.0\" has \
             no name: expected pkg:type/name",
            "components[13] (lib13@1.13.0): duplicate bom-ref \"pkg3\"; the first one is kept",
            "dependencies[0].dependsOn[13]: unknown bom-ref \"ghost\"",
        ]
    );
    // The duplicate keeps the first: the edge to pkg3 is components[3]'s.
    assert_eq!(s.packages[3].depth, Some(1));
    assert_eq!(s.packages[13].depth, None);
    // A container whose version is its digest.
    assert_eq!(
        s.subject.as_deref(),
        Some(format!("sha256:{HEX_A}").as_str())
    );
}

#[test]
fn truncated_and_malformed_json() {
    let e = parse(&fixture("truncated.cdx.json")).unwrap_err();
    assert_eq!(e.field, "body");
    assert!(
        e.reason.contains("EOF while parsing") && e.reason.contains("line 48 column 9"),
        "{e}"
    );
    let e = parse(b"{\"bomFormat\": \"CycloneDX\",\n  \"specVersion\": 1.5,,}").unwrap_err();
    assert_eq!(e.field, "body");
    assert!(e.reason.contains("line 2 column"), "{e}");
    let e = parse(b"not json").unwrap_err();
    assert_eq!(e.field, "body");
    assert!(e.reason.starts_with("not valid JSON: "), "{e}");
    assert!(e.reason.contains("line 1 column 2"), "{e}");
    let e = parse(b"").unwrap_err();
    assert_eq!(e.field, "body");

    let e = parse(b"[1, 2]").unwrap_err();
    assert_eq!(
        e.to_string(),
        "body: expected a JSON object, found an array"
    );
    let e = parse(b"\"CycloneDX\"").unwrap_err();
    assert_eq!(
        e.to_string(),
        "body: expected a JSON object, found a string"
    );
}

#[test]
fn unknown_formats() {
    let e = err(json!({"bomFormat": "SWID", "specVersion": "1.5"}));
    assert_eq!(e.field, "bomFormat");
    assert!(e.reason.contains("\"SWID\""), "{e}");
    let e = err(json!({"name": "something", "components": []}));
    assert_eq!(e.field, "bomFormat");
    assert!(e.reason.starts_with("unknown format"), "{e}");
    let e = err(json!({"bomFormat": 7}));
    assert_eq!(
        e.to_string(),
        "bomFormat: expected a string, found a number"
    );
}

#[test]
fn missing_and_ill_typed_cyclonedx_fields_are_named() {
    let ok = json!({"type": "library", "name": "ok", "version": "1"});
    let mut five = vec![ok.clone(); 5];
    five[4] = json!({"type": "library", "version": "1"});
    let e = err(cdx(json!(five)));
    assert_eq!(e.to_string(), "components[4].name: missing");

    let e = err(cdx(
        json!([ok.clone(), {"name": "x", "components": [{"name": 5}]}]),
    ));
    assert_eq!(
        e.to_string(),
        "components[1].components[0].name: expected a string, found a number"
    );
    let e = err(cdx(json!([{"name": "x", "version": {"major": 1}}])));
    assert_eq!(
        e.to_string(),
        "components[0].version: expected a string, found an object"
    );
    let e = err(cdx(json!([{"name": "x", "hashes": [{"alg": "SHA-256"}]}])));
    assert_eq!(e.to_string(), "components[0].hashes[0].content: missing");
    let e = err(cdx(
        json!([{"name": "x", "licenses": [{"license": {"id": 3}}]}]),
    ));
    assert_eq!(
        e.to_string(),
        "components[0].licenses[0].license.id: expected a string, found a number"
    );
    let e = err(cdx(json!({"name": "x"})));
    assert_eq!(
        e.to_string(),
        "components: expected an array, found an object"
    );
    let e = err(cdx(json!([ok.clone(), "x"])));
    assert_eq!(
        e.to_string(),
        "components[1]: expected an object, found a string"
    );
    let e = err(json!({"bomFormat": "CycloneDX", "specVersion": "1.6",
        "metadata": {"component": {"type": "container"}}}));
    assert_eq!(e.to_string(), "metadata.component.name: missing");
    let e = err(json!({"bomFormat": "CycloneDX", "specVersion": "1.6",
        "dependencies": [{"ref": "a", "dependsOn": ["b", 3]}]}));
    assert_eq!(
        e.to_string(),
        "dependencies[0].dependsOn[1]: expected a string, found a number"
    );
    let e = err(json!({"bomFormat": "CycloneDX", "specVersion": "1.6",
        "dependencies": [{"dependsOn": []}]}));
    assert_eq!(e.to_string(), "dependencies[0].ref: missing");

    // Null is absence for an optional field; fields of other formats do not matter.
    let s = parse_json(
        json!({"bomFormat": "CycloneDX", "specVersion": "1.5", "packages": 3,
        "components": [{"name": "x", "version": null, "purl": null, "x-custom": [1]}]}),
    )
    .unwrap();
    assert_eq!(s.packages[0].version, None);
}

#[test]
fn missing_and_ill_typed_spdx_fields_are_named() {
    let p = |name: serde_json::Value| json!({"SPDXID": "SPDXRef-x", "name": name});
    let e = err(json!({"spdxVersion": "SPDX-2.3",
        "packages": [p(json!("a")), p(json!("b")), p(json!(42))]}));
    assert_eq!(
        e.to_string(),
        "packages[2].name: expected a string, found a number"
    );
    let e = err(json!({"spdxVersion": "SPDX-2.3", "packages": [{"SPDXID": "SPDXRef-a"}]}));
    assert_eq!(e.to_string(), "packages[0].name: missing");
    let e = err(json!({"spdxVersion": "SPDX-2.3", "packages": [{"name": "a",
        "SPDXID": "SPDXRef-a", "externalRefs": [{"referenceType": "purl"}]}]}));
    assert_eq!(
        e.to_string(),
        "packages[0].externalRefs[0].referenceLocator: missing"
    );
    let e = err(json!({"spdxVersion": "SPDX-2.3", "packages": [{"name": "a",
        "SPDXID": "SPDXRef-a", "checksums": [{"algorithm": "SHA256", "checksumValue": false}]}]}));
    assert_eq!(
        e.to_string(),
        "packages[0].checksums[0].checksumValue: expected a string, found a boolean"
    );
    let e = err(json!({"spdxVersion": "SPDX-2.3", "relationships": [
        {"spdxElementId": "a", "relatedSpdxElement": "b", "relationshipType": "DEPENDS_ON"},
        {"spdxElementId": "a", "relatedSpdxElement": "b"}]}));
    assert_eq!(e.to_string(), "relationships[1].relationshipType: missing");
    let e = err(json!({"spdxVersion": "SPDX-2.3", "documentDescribes": ["a", 1]}));
    assert_eq!(
        e.to_string(),
        "documentDescribes[1]: expected a string, found a number"
    );

    let e = err(json!({"spdxVersion": "SPDX-2.1", "packages": []}));
    assert_eq!(e.field, "spdxVersion");
    assert!(e.reason.contains("SPDX-2.3"), "{e}");
    let e = err(json!({"spdxVersion": 2.3}));
    assert_eq!(
        e.to_string(),
        "spdxVersion: expected a string, found a number"
    );
    let s = parse_json(json!({"spdxVersion": "SPDX-2.2", "packages": []})).unwrap();
    assert_eq!(s.spec_version, "2.2");
}

#[test]
fn spdx_describing_a_container_image() {
    let s = parse_fixture("container.spdx.json");
    assert_eq!(
        s.subject.as_deref(),
        Some("sha256:7d0d35a084dbb203966802c86d98162deaeda49d82494afde6d7a75fda6da3c5"),
        "from the image's pkg:oci purl"
    );
    // The file relationship is skipped quietly; the unknown element is named.
    assert_eq!(
        s.warnings,
        vec!["relationships[7].relatedSpdxElement: unknown element \"SPDXRef-ghost\""]
    );
    let names: Vec<&str> = s.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        vec!["busybox", "musl", "libssl3", "libcrypto3", "scanner-plugin"],
        "the image itself is the subject"
    );

    let busybox = pkg(&s, "busybox", None);
    assert_eq!(busybox.depth, Some(1), "image CONTAINS busybox");
    assert_eq!(
        busybox.purl.as_deref(),
        Some("pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64&distro=alpine-3.19")
    );
    assert_eq!(busybox.licenses, vec!["GPL-2.0-only"]);
    assert_eq!(
        busybox.hashes.get("sha-256").map(String::as_str),
        Some("9d75f0d7c398df565d7ac04c6819b62d6d8f9560f5eb4672596ecd8f7e96ae91")
    );
    assert_eq!(
        busybox.hashes.get("sha-1").map(String::as_str),
        Some("2f106f27fa1f28a8a4e02aeb10d73b78f9c9b24a")
    );
    // musl DEPENDENCY_OF busybox: busybox -> musl.
    assert_eq!(names_of(&s, &busybox.depends_on), vec!["musl"]);
    let musl = pkg(&s, "musl", None);
    assert_eq!(musl.depth, Some(2));
    assert_eq!(
        musl.licenses,
        vec!["MIT"],
        "NOASSERTION skipped, declared kept"
    );
    let ssl = pkg(&s, "libssl3", None);
    assert_eq!(ssl.depth, Some(1));
    assert_eq!(ssl.licenses, vec!["Apache-2.0"], "NONE skipped");
    // libcrypto3 RUNTIME_DEPENDENCY_OF libssl3, libssl3 DEPENDS_ON musl.
    assert_eq!(names_of(&s, &ssl.depends_on), vec!["libcrypto3", "musl"]);
    assert_eq!(pkg(&s, "libcrypto3", None).depth, Some(2));
    let plugin = pkg(&s, "scanner-plugin", None);
    assert_eq!((plugin.depth, plugin.purl.as_deref()), (None, None));
}

#[test]
fn spdx_subjects_and_edges() {
    let pkg_json = |id: &str, extra: serde_json::Value| {
        let mut p = json!({"SPDXID": id, "name": id.trim_start_matches("SPDXRef-")});
        if let (Some(p), Some(e)) = (p.as_object_mut(), extra.as_object()) {
            p.extend(e.clone());
        }
        p
    };
    // documentDescribes; versionInfo as the digest; BUILD_DEPENDENCY_OF and CONTAINED_BY.
    let s = parse_json(json!({
        "spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT",
        "documentDescribes": ["SPDXRef-img"],
        "packages": [
            pkg_json("SPDXRef-img", json!({"versionInfo": format!("sha256:{HEX_A}")})),
            pkg_json("SPDXRef-a", json!({})),
            pkg_json("SPDXRef-b", json!({})),
            pkg_json("SPDXRef-c", json!({})),
        ],
        "relationships": [
            {"spdxElementId": "SPDXRef-a", "relationshipType": "CONTAINED_BY", "relatedSpdxElement": "SPDXRef-img"},
            {"spdxElementId": "SPDXRef-b", "relationshipType": "BUILD_DEPENDENCY_OF", "relatedSpdxElement": "SPDXRef-a"},
            {"spdxElementId": "SPDXRef-c", "relationshipType": "DEPENDENCY_MANIFEST_OF", "relatedSpdxElement": "SPDXRef-a"},
            {"spdxElementId": "SPDXRef-c", "relationshipType": "DEPENDS_ON", "relatedSpdxElement": "DocumentRef-other:SPDXRef-x"},
        ]
    }))
    .unwrap();
    assert_eq!(s.subject, Some(format!("sha256:{HEX_A}")));
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    let got: Vec<(&str, Option<u32>)> = s
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.depth))
        .collect();
    assert_eq!(got, vec![("a", Some(1)), ("b", Some(2)), ("c", None)]);
    assert_eq!(s.packages[0].depends_on, vec![1]);

    // DESCRIBED_BY; a described CONTAINER with a SHA256 checksum.
    let s = parse_json(json!({
        "spdxVersion": "SPDX-2.3",
        "packages": [
            pkg_json("SPDXRef-img", json!({"primaryPackagePurpose": "CONTAINER", "versionInfo": "latest",
                "checksums": [{"algorithm": "SHA256", "checksumValue": HEX_A.to_uppercase()}]})),
            pkg_json("SPDXRef-a", json!({})),
        ],
        "relationships": [
            {"spdxElementId": "SPDXRef-img", "relationshipType": "DESCRIBED_BY", "relatedSpdxElement": "SPDXRef-DOCUMENT"},
            {"spdxElementId": "SPDXRef-img", "relationshipType": "DEPENDS_ON", "relatedSpdxElement": "SPDXRef-a"},
        ]
    }))
    .unwrap();
    assert_eq!(s.subject, Some(format!("sha256:{HEX_A}")));
    assert_eq!(s.packages.len(), 1);
    assert_eq!(s.packages[0].depth, Some(1));

    // Describing nothing: every package is a package, and how deep is unknown.
    let s = parse_json(json!({
        "spdxVersion": "SPDX-2.3",
        "packages": [pkg_json("SPDXRef-a", json!({})), pkg_json("SPDXRef-b", json!({}))],
        "relationships": [{"spdxElementId": "SPDXRef-a", "relationshipType": "DEPENDS_ON", "relatedSpdxElement": "SPDXRef-b"}]
    }))
    .unwrap();
    assert_eq!(s.subject, None);
    assert_eq!(s.packages.len(), 2);
    assert!(s.packages.iter().all(|p| p.depth.is_none()));
    assert_eq!(s.packages[0].depends_on, vec![1]);

    // A purl that does not parse, and one under another category.
    let s = parse_json(json!({
        "spdxVersion": "SPDX-2.3",
        "packages": [
            pkg_json("SPDXRef-a", json!({"versionInfo": "1.0", "externalRefs": [
                {"referenceCategory": "PACKAGE_MANAGER", "referenceType": "purl", "referenceLocator": "npm/a@1.0"}]})),
            pkg_json("SPDXRef-b", json!({"externalRefs": [
                {"referenceCategory": "SECURITY", "referenceType": "purl", "referenceLocator": "pkg:npm/b@1"}]})),
        ]
    }))
    .unwrap();
    assert_eq!(s.packages[0].purl, None);
    assert_eq!(s.packages[1].purl, None);
    assert_eq!(s.warnings.len(), 1);
    assert!(
        s.warnings[0].starts_with("packages[0] (a@1.0): purl \"npm/a@1.0\": "),
        "{:?}",
        s.warnings
    );
}

#[test]
fn cyclonedx_subject_digests() {
    let doc = |component: serde_json::Value| {
        json!({"bomFormat": "CycloneDX", "specVersion": "1.6",
            "metadata": {"component": component},
            "components": [{"name": "x"}]})
    };
    // A pkg:oci purl whose version is the digest.
    let s = parse_json(doc(json!({"type": "container", "name": "web",
        "purl": format!("pkg:oci/web@sha256%3A{HEX_A}?repository_url=ghcr.io/acme/web")})))
    .unwrap();
    assert_eq!(s.subject, Some(format!("sha256:{HEX_A}")));
    // A container's SHA-256 hash.
    let s = parse_json(doc(
        json!({"type": "container", "name": "web", "version": "1.0",
        "hashes": [{"alg": "SHA-256", "content": HEX_A}]}),
    ))
    .unwrap();
    assert_eq!(s.subject, Some(format!("sha256:{HEX_A}")));
    // ...but not an application's.
    let s = parse_json(doc(json!({"type": "application", "name": "web",
        "hashes": [{"alg": "SHA-256", "content": HEX_A}]})))
    .unwrap();
    assert_eq!(s.subject, None);
    // Something that is not a digest: a warning, no subject.
    let s = parse_json(doc(
        json!({"type": "container", "name": "web", "version": "sha256:abc"}),
    ))
    .unwrap();
    assert_eq!(s.subject, None);
    assert_eq!(
        s.warnings,
        vec![
            "metadata.component: version \"sha256:abc\" is not a sha256 digest (64 lowercase \
             hex digits)"
        ]
    );
    // The subject is never a package.
    assert_eq!(s.packages.len(), 1);
    assert_eq!(s.packages[0].depth, Some(1));
}

#[test]
fn cyclonedx_graph_edge_cases() {
    // A graph that does not start at the subject: depths unknown, and said so.
    let s = parse_json(json!({"bomFormat": "CycloneDX", "specVersion": "1.5",
        "metadata": {"component": {"name": "app", "bom-ref": "app"}},
        "components": [{"name": "a", "bom-ref": "a"}, {"name": "b", "bom-ref": "b"}],
        "dependencies": [{"ref": "a", "dependsOn": ["b"]}, {"ref": "nobody", "dependsOn": ["a"]}]}))
    .unwrap();
    assert!(s.packages.iter().all(|p| p.depth.is_none()));
    assert_eq!(s.packages[0].depends_on, vec![1]);
    assert_eq!(
        s.warnings,
        vec![
            "dependencies[1].ref: unknown bom-ref \"nobody\"",
            "dependencies: the graph does not start at the subject (metadata.component has no \
             entry); how deep each package is stays unknown",
        ]
    );
    // A hash that is not hex is dropped with a warning.
    let s = parse_json(cdx(json!([{"name": "x", "version": "1",
        "hashes": [{"alg": "SHA-256", "content": "zz"}, {"alg": "sha1", "content": "AB"}]}])))
    .unwrap();
    assert_eq!(
        s.warnings,
        vec!["components[0].hashes[0] (x@1): SHA-256 \"zz\" is not hex"]
    );
    assert_eq!(
        s.packages[0].hashes.iter().collect::<Vec<_>>(),
        vec![(&"sha-1".to_string(), &"ab".to_string())]
    );
    // A byte-order mark is not an error.
    let mut b = b"\xEF\xBB\xBF".to_vec();
    b.extend_from_slice(&fixture("cycle.cdx.json"));
    assert_eq!(parse(&b).unwrap().packages.len(), 4);
}

// ---------------------------------------------------------------------------------------------
// Attestations.

#[test]
fn dsse_envelope_with_an_in_toto_statement() {
    let s = parse_fixture("attestation.dsse.json");
    assert_eq!(
        (s.format.as_str(), s.spec_version.as_str()),
        ("CycloneDX", "1.5")
    );
    assert_eq!(
        s.subject.as_deref(),
        Some("sha256:4de30ab465f0a95feb3bd28ca91faf978b75b2f9642a62a368e804783fd2b884"),
        "the statement's subject, though the SBOM's metadata names no digest"
    );
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    let openssl = pkg(&s, "openssl", None);
    assert_eq!(openssl.depth, Some(1));
    assert_eq!(openssl.licenses, vec!["Apache-2.0"]);
    assert_eq!(
        openssl.purl.as_deref(),
        Some("pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12")
    );
    let libc = pkg(&s, "libc6", None);
    assert_eq!(libc.depth, Some(2));
    assert_eq!(
        libc.purl.as_deref(),
        Some("pkg:deb/debian/libc6@2.36-9%2Bdeb12u3?arch=amd64&distro=debian-12")
    );
}

fn envelope(statement: &serde_json::Value) -> serde_json::Value {
    use base64::Engine as _;
    let payload =
        base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(statement).unwrap());
    json!({"payloadType": "application/vnd.in-toto+json", "payload": payload, "signatures": []})
}

#[test]
fn bare_in_toto_statement_with_spdx() {
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://spdx.dev/Document",
        "subject": [{"name": "ghcr.io/acme/api", "digest": {"sha256": HEX_A}}],
        "predicate": {
            "spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT",
            "documentDescribes": ["SPDXRef-app"],
            "packages": [
                {"SPDXID": "SPDXRef-app", "name": "api"},
                {"SPDXID": "SPDXRef-lib", "name": "lib", "versionInfo": "2.0.0"}
            ],
            "relationships": [{"spdxElementId": "SPDXRef-app", "relationshipType": "DEPENDS_ON",
                "relatedSpdxElement": "SPDXRef-lib"}]
        }
    });
    let s = parse_json(statement.clone()).unwrap();
    assert_eq!(s.format, "SPDX");
    assert_eq!(s.subject, Some(format!("sha256:{HEX_A}")));
    assert_eq!(s.packages.len(), 1);
    assert_eq!(s.packages[0].depth, Some(1));
    // The same, enveloped.
    assert_eq!(parse_json(envelope(&statement)).unwrap(), s);
}

#[test]
fn attestation_errors_name_the_field() {
    let statement = |predicate_type: &str, predicate: serde_json::Value| {
        json!({"_type": "https://in-toto.io/Statement/v1", "predicateType": predicate_type,
            "subject": [{"name": "x", "digest": {"sha256": HEX_A}}], "predicate": predicate})
    };
    let bad_cdx = cdx(json!([{"name": "ok"}, {"version": "1"}]));
    let e = err(statement("https://cyclonedx.org/bom", bad_cdx.clone()));
    assert_eq!(e.to_string(), "predicate.components[1].name: missing");
    let e = err(envelope(&statement("https://cyclonedx.org/bom", bad_cdx)));
    assert_eq!(
        e.to_string(),
        "payload.predicate.components[1].name: missing"
    );

    let e = err(statement("https://slsa.dev/provenance/v1", json!({})));
    assert_eq!(e.field, "predicateType");
    assert!(e.reason.contains("is not an SBOM"), "{e}");

    let mut st = statement("https://cyclonedx.org/bom", cdx(json!([])));
    st["subject"][0]["digest"]["sha256"] = json!("ABC");
    let e = err(st.clone());
    assert_eq!(e.field, "subject[0].digest.sha256");
    let e = err(envelope(&st));
    assert_eq!(e.field, "payload.subject[0].digest.sha256");
    st["subject"][0]["digest"]["sha256"] = json!(12);
    let e = err(st);
    assert_eq!(
        e.to_string(),
        "subject[0].digest.sha256: expected a string, found a number"
    );

    let e = err(
        json!({"_type": "https://example.com/Statement", "predicateType":
        "https://cyclonedx.org/bom", "predicate": cdx(json!([]))}),
    );
    assert_eq!(e.field, "_type");
    let e = err(json!({"_type": "https://in-toto.io/Statement/v1",
        "predicateType": "https://cyclonedx.org/bom"}));
    assert_eq!(e.to_string(), "predicate: missing");
    // A statement as a predicate, an envelope in an envelope.
    let inner = statement("https://cyclonedx.org/bom", cdx(json!([])));
    let e = err(statement("https://cyclonedx.org/bom", inner.clone()));
    assert_eq!(e.field, "predicate");
    let e = err(envelope(&envelope(&inner)));
    assert_eq!(e.field, "payload");

    let e =
        err(json!({"payloadType": "application/vnd.in-toto+json", "payload": "%%% not base64"}));
    assert_eq!(e.to_string(), "payload: not base64");
    let e = err(json!({"payloadType": "application/vnd.in-toto+json", "payload": "bm90IGpzb24="}));
    assert_eq!(e.field, "payload");
    assert!(e.reason.contains("not valid JSON"), "{e}");

    // Without a subject digest the SBOM's own metadata still counts.
    let mut st = statement(
        "https://cyclonedx.org/bom/v1.5",
        json!({"bomFormat": "CycloneDX", "specVersion": "1.5",
            "metadata": {"component": {"type": "container", "name": "x",
                "version": format!("sha256:{}", "b".repeat(64))}}}),
    );
    st.as_object_mut().unwrap().remove("subject");
    let s = parse_json(st).unwrap();
    assert_eq!(s.subject, Some(format!("sha256:{}", "b".repeat(64))));
}

// ---------------------------------------------------------------------------------------------
// SPDX 3.0 JSON-LD.

#[test]
fn spdx3_container_image() {
    let s = parse_fixture("container.spdx3.json");
    assert_eq!(
        (s.format.as_str(), s.spec_version.as_str()),
        ("SPDX", "3.0.1")
    );
    // The document's root is the SBOM element (named by its full IRI, the document uses the
    // compact one), whose root is the image: its purl's digest is the subject.
    assert_eq!(
        s.subject.as_deref(),
        Some("sha256:7d0d35a084dbb203966802c86d98162deaeda49d82494afde6d7a75fda6da3c5")
    );
    let names: Vec<&str> = s.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["busybox", "libssl3", "zlib", "ca-certificates"]);

    let busybox = pkg(&s, "busybox", None);
    assert_eq!(
        busybox.purl.as_deref(),
        Some("pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64"),
        "the packageUrl external identifier, not the CPE"
    );
    assert_eq!(busybox.depth, Some(1), "the image contains it");
    assert_eq!(busybox.licenses, vec!["GPL-2.0-only"]);
    assert_eq!(
        busybox.hashes.get("sha-256").map(String::as_str),
        Some("9d75f0d7c398df565d7ac04c6819b62d6d8f9560f5eb4672596ecd8f7e96ae91")
    );
    assert!(
        busybox.hashes.contains_key("blake2b-256"),
        "{:?}",
        busybox.hashes
    );
    assert_eq!(
        busybox.hashes.len(),
        2,
        "the sha1 that is not hex is dropped"
    );
    assert_eq!(
        names_of(&s, &busybox.depends_on),
        vec!["zlib"],
        "hasOptionalDependency; a file and NoAssertionElement are no packages"
    );

    let ssl = pkg(&s, "libssl3", None);
    assert_eq!(ssl.purl.as_deref(), Some("pkg:apk/alpine/libssl3@3.1.4-r5"));
    assert_eq!(ssl.depth, Some(1));
    assert_eq!(
        ssl.licenses,
        vec!["Apache-2.0"],
        "a listed license by IRI; NoAssertion is none"
    );
    assert_eq!(
        names_of(&s, &ssl.depends_on),
        vec!["zlib"],
        "the known `to` of a relationship whose other `to` dangles is kept"
    );
    assert_eq!(pkg(&s, "zlib", None).depth, Some(2));
    assert_eq!(
        pkg(&s, "ca-certificates", None).depth,
        None,
        "a package's `describes` is not the document's"
    );

    // Dangling ends are warnings naming where they are; the imported element, the file and
    // SPDX's individuals are not.
    assert_eq!(
        s.warnings,
        vec![
            "@graph[11].to[2]: unknown element \"ex:gone\"".to_string(),
            "@graph[15].from: unknown element \"ex:missing-pkg\"".to_string(),
            "@graph[4].verifiedUsing[2] (busybox@1.36.1-r15): sha1 \"not hex!\" is not hex"
                .to_string(),
        ]
    );
}

fn spdx3(graph: serde_json::Value) -> serde_json::Value {
    json!({"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": graph})
}

#[test]
fn spdx3_subjects_depths_and_versions() {
    let p = |id: &str| json!({"type": "software_Package", "spdxId": id, "name": id});
    let r = |from: &str, to: &[&str], ty: &str| json!({"type": "Relationship", "from": from, "to": to, "relationshipType": ty});
    // The document describes the app (a `describes` from the SpdxDocument, no rootElement);
    // app -> a -> b, and c is reached by nothing.
    let s = parse_json(json!({
        "@context": "https://spdx.org/rdf/3.0.0/spdx-context.jsonld",
        "@graph": [
            {"type": "SpdxDocument", "spdxId": "urn:doc"},
            p("urn:app"), p("urn:a"), p("urn:b"), p("urn:c"),
            r("urn:doc", &["urn:app"], "describes"),
            r("urn:app", &["urn:a"], "dependsOn"),
            r("urn:a", &["urn:b"], "contains"),
            r("urn:b", &["urn:a"], "dependsOn"),
        ]
    }))
    .unwrap();
    assert_eq!(s.spec_version, "3.0.0");
    let depths: Vec<(&str, Option<u32>)> = s
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.depth))
        .collect();
    assert_eq!(
        depths,
        [("urn:a", Some(1)), ("urn:b", Some(2)), ("urn:c", None)]
    );
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);

    // Nothing described: every package is one, depths unknown, edges kept.
    let s = parse_json(spdx3(json!([
        p("urn:a"),
        p("urn:b"),
        r("urn:a", &["urn:b"], "dependsOn"),
        r("urn:a", &["urn:b"], "hasStaticLink"),
    ])))
    .unwrap();
    assert_eq!(s.packages.len(), 2);
    assert!(s.packages.iter().all(|p| p.depth.is_none()));
    assert_eq!(s.packages[0].depends_on, vec![1]);

    // An SPDX 3 document as an in-toto statement's predicate.
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "predicateType": "https://spdx.dev/Document/v3.0",
        "subject": [{"name": "img", "digest": {"sha256": HEX_A}}],
        "predicate": spdx3(json!([p("urn:a")])),
    });
    let s = parse_json(statement).unwrap();
    assert_eq!(s.spec_version, "3.0.1");
    assert_eq!(s.subject.as_deref(), Some(&*format!("sha256:{HEX_A}")));
}

#[test]
fn malformed_spdx3_is_refused_naming_the_field() {
    let ctx = "https://spdx.org/rdf/3.0.1/spdx-context.jsonld";
    let pkg = json!({"type": "software_Package", "spdxId": "urn:a", "name": "a"});
    for (doc, want) in [
        (
            json!({"@context": ctx}),
            "@graph: missing: an SPDX 3 document is a JSON-LD @graph of elements",
        ),
        (
            json!({"@context": ctx, "@graph": {"type": "SpdxDocument"}}),
            "@graph: expected an array, found an object",
        ),
        (
            spdx3(json!([pkg, "urn:b"])),
            "@graph[1]: expected an object, found a string",
        ),
        (
            spdx3(json!([pkg, {"spdxId": "urn:b", "name": "b"}])),
            "@graph[1].type: missing",
        ),
        (
            spdx3(json!([pkg, {"type": "software_Package", "spdxId": "urn:b", "name": 5}])),
            "@graph[1].name: expected a string, found a number",
        ),
        (
            spdx3(json!([pkg, {"type": "software_Package", "spdxId": "urn:b"}])),
            "@graph[1].name: missing",
        ),
        (
            spdx3(json!([pkg, {"type": "Relationship", "from": "urn:a", "to": "urn:a",
                              "relationshipType": "dependsOn"}])),
            "@graph[1].to: expected an array, found a string",
        ),
        (
            spdx3(json!([pkg, {"type": "Relationship", "to": ["urn:a"],
                              "relationshipType": "dependsOn"}])),
            "@graph[1].from: missing",
        ),
        (
            spdx3(json!([pkg, {"type": "Relationship", "from": "urn:a", "to": ["urn:a"]}])),
            "@graph[1].relationshipType: missing",
        ),
        (
            spdx3(json!([{"type": "software_Package", "spdxId": "urn:a", "name": "a",
                          "verifiedUsing": [{"type": "Hash", "algorithm": "sha256"}]}])),
            "@graph[0].verifiedUsing[0].hashValue: missing",
        ),
        (
            spdx3(json!([{"type": "software_Package", "spdxId": "urn:a", "name": "a",
                          "externalIdentifier": [{"externalIdentifierType": 1}]}])),
            "@graph[0].externalIdentifier[0].externalIdentifierType: expected a string, found a number",
        ),
        (
            json!({"@context": "https://spdx.org/rdf/3.1.0/spdx-context.jsonld", "@graph": []}),
            "@context: unsupported SPDX version 3.1.0: supported are SPDX 3.0.0 and 3.0.1 \
             (https://spdx.org/rdf/3.0.1/spdx-context.jsonld)",
        ),
        (
            json!({"@context": "https://schema.org/", "@graph": []}),
            "@context: not an SPDX 3 context: supported are SPDX 3.0.0 and 3.0.1 \
             (https://spdx.org/rdf/3.0.1/spdx-context.jsonld)",
        ),
        (
            json!({"@context": 3, "@graph": []}),
            "@context: expected a string or an array, found a number",
        ),
    ] {
        assert_eq!(err(doc.clone()).to_string(), want, "{doc}");
    }
    // Inside an attestation the path starts at the statement.
    let e = err(json!({
        "_type": "https://in-toto.io/Statement/v1",
        "predicateType": "https://spdx.dev/Document/v3.0",
        "predicate": spdx3(json!([{"type": "software_Package", "name": "a"}])),
    }));
    assert_eq!(e.to_string(), "predicate.@graph[0].spdxId: missing");
}
