//! The official purl-spec test suite (`tests/fixtures/purl-spec`, copied unchanged from
//! package-url/purl-spec), every case of it: `parse` (string -> decoded components),
//! `build` (components -> canonical string), `validate` (string -> canonical string), and every
//! case that must be refused (`expected_failure`).
//!
//! A case the catalog answers differently on purpose is listed in [`DELIBERATE`], by case id
//! with the reason; the test fails when the set of disagreements is not exactly that table, so
//! it can neither grow silently nor keep an entry that no longer applies.

use catalog_core::purl::Purl;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Deliberate differences from the suite: (case id as `file#index`, description, reason).
/// The same list is in README.md's section on purls.
const DELIBERATE: &[(&str, &str, &str)] = &[
    (
        "types/gem-test.json#1",
        "Ruby gems can use qualifiers",
        "the suite contradicts itself: gem-test.json#0 wants the same input \
         (`?Platform=java`) accepted and its key lowercased, as the spec's how-to-parse says \
         (`the key is the lowercase left side`); SBOM producers write such keys, so the \
         catalog accepts and lowercases them",
    ),
    (
        "types/rpm-test.json#1",
        "rpm often use qualifiers",
        "the suite contradicts itself: rpm-test.json#0 wants the same input \
         (`?Arch=i386&Distro=fedora-25`) accepted and its keys lowercased; as gem-test.json#1",
    ),
];

struct Case {
    id: String,
    description: String,
    test_type: String,
    input: Value,
    expected_output: Value,
    expected_failure: bool,
}

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/purl-spec/tests")
}

fn load() -> Vec<Case> {
    let mut files = Vec::new();
    for sub in ["spec", "types"] {
        let dir = suite_dir().join(sub);
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|x| x == "json") {
                files.push((
                    format!("{sub}/{}", path.file_name().unwrap().to_string_lossy()),
                    path,
                ));
            }
        }
    }
    files.sort();
    let mut cases = Vec::new();
    for (name, path) in files {
        let doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        for (i, t) in doc["tests"].as_array().unwrap().iter().enumerate() {
            cases.push(Case {
                id: format!("{name}#{i}"),
                description: t["description"].as_str().unwrap().to_string(),
                test_type: t["test_type"].as_str().unwrap().to_string(),
                input: t["input"].clone(),
                expected_output: t.get("expected_output").cloned().unwrap_or(Value::Null),
                expected_failure: t["expected_failure"].as_bool().unwrap_or(false),
            });
        }
    }
    cases
}

fn opt(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

/// The components of a parsed purl in the suite's JSON shape (no qualifiers is `null`).
fn components(p: &Purl) -> Value {
    let q = (!p.qualifiers.is_empty()).then(|| {
        p.qualifiers
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect::<serde_json::Map<_, _>>()
    });
    serde_json::json!({
        "type": p.ty,
        "namespace": p.namespace,
        "name": p.name,
        "version": p.version,
        "qualifiers": q,
        "subpath": p.subpath,
    })
}

fn build(input: &Value) -> Result<Purl, String> {
    let qualifiers: BTreeMap<String, String> = match &input["qualifiers"] {
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect(),
        _ => BTreeMap::new(),
    };
    Purl::from_parts(
        input["type"].as_str().unwrap_or_default(),
        opt(&input["namespace"]).as_deref(),
        input["name"].as_str().unwrap_or_default(),
        opt(&input["version"]).as_deref(),
        qualifiers,
        opt(&input["subpath"]).as_deref(),
    )
    .map_err(|e| e.to_string())
}

/// `Ok` when the catalog agrees with the case, else what it did instead.
fn run(case: &Case) -> Result<(), String> {
    let got: Result<Value, String> = match case.test_type.as_str() {
        "parse" => Purl::parse(case.input.as_str().unwrap_or_default())
            .map(|p| components(&p))
            .map_err(|e| e.to_string()),
        "validate" => Purl::parse(case.input.as_str().unwrap_or_default())
            .map(|p| Value::String(p.to_string()))
            .map_err(|e| e.to_string()),
        "build" => build(&case.input).map(|p| Value::String(p.to_string())),
        other => return Err(format!("unknown test_type {other:?}")),
    };
    match (case.expected_failure, got) {
        (true, Err(_)) => Ok(()),
        (true, Ok(v)) => Err(format!("accepted, gave {v}")),
        (false, Err(e)) => Err(format!("refused: {e}")),
        (false, Ok(v)) if v == normalise_expected(&case.expected_output) => Ok(()),
        (false, Ok(v)) => Err(format!("gave {v}, expected {}", case.expected_output)),
    }
}

/// The suite writes "no qualifiers" as `null` or `{}`; both mean the same.
fn normalise_expected(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(q) = v.get_mut("qualifiers") {
        if q.as_object().is_some_and(|m| m.is_empty()) {
            *q = Value::Null;
        }
    }
    v
}

#[test]
fn purl_spec_suite_passes() {
    let cases = load();
    // The suite at the pinned commit has 586 cases; fewer means the fixture did not load.
    assert!(cases.len() >= 586, "only {} cases loaded", cases.len());
    for ty in ["parse", "build", "validate"] {
        assert!(cases.iter().any(|c| c.test_type == ty), "no {ty} case");
    }
    assert!(cases.iter().any(|c| c.expected_failure));

    let mut disagreements = BTreeMap::new();
    for case in &cases {
        if let Err(why) = run(case) {
            disagreements.insert(case.id.clone(), (case.description.clone(), why));
        }
    }
    let deliberate: BTreeMap<&str, &str> = DELIBERATE.iter().map(|(id, d, _)| (*id, *d)).collect();
    let mut report = Vec::new();
    for (id, (desc, why)) in &disagreements {
        match deliberate.get(id.as_str()) {
            Some(d) if d == desc => {}
            Some(d) => report.push(format!(
                "{id}: DELIBERATE names {d:?} but the case is {desc:?} (the suite changed?)"
            )),
            None => report.push(format!("{id} ({desc}): {why}")),
        }
    }
    for id in deliberate.keys() {
        if !disagreements.contains_key(*id) {
            report.push(format!(
                "{id}: listed as DELIBERATE but now passes; remove it"
            ));
        }
    }
    assert!(
        report.is_empty(),
        "{} of {} purl-spec cases disagree:\n{}",
        report.len(),
        cases.len(),
        report.join("\n")
    );
}

#[test]
fn the_harness_notices_a_wrong_answer() {
    // A case whose expected output is wrong must be reported, or the suite proves nothing.
    let case = Case {
        id: "self#0".into(),
        description: "wrong on purpose".into(),
        test_type: "validate".into(),
        input: Value::String("pkg:rpm/Fedora/curl@7.50.3".into()),
        expected_output: Value::String("pkg:rpm/Fedora/curl@7.50.3".into()),
        expected_failure: false,
    };
    assert!(run(&case).is_err());
    let refused = Case {
        expected_failure: true,
        input: Value::String("pkg:rpm/fedora/curl".into()),
        ..case
    };
    assert!(
        run(&refused).is_err(),
        "an accepted must-fail case is reported"
    );
}
