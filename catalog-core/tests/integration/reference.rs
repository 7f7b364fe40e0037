//! Image references against github.com/distribution/reference's own test tables
//! (`tests/fixtures/distribution-reference/cases.json`, with the upstream commit): every case of
//! every table is run against `catalog_core::reference`.
//!
//! A case the catalog answers differently on purpose is in [`DELIBERATE`] by table and input,
//! with the reason; the test fails unless the disagreements are exactly that list.

use catalog_core::reference::{self, AnyReference};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// (table, input, reason). The same list is in README.md's section on image references.
const DELIBERATE: &[(&str, &str, &str)] = &[(
    "parse",
    "validname@sha512:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "upstream's test binary does not link crypto/sha512, so go-digest calls sha512 \
     unsupported there; registries (distribution itself) link it and accept sha512 content \
     digests, and so does the catalog",
)];

fn cases() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/distribution-reference/cases.json");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap()
}

fn s(v: &Value, k: &str) -> String {
    v[k].as_str().unwrap_or_default().to_string()
}

fn opt(o: &Option<String>) -> String {
    o.clone().unwrap_or_default()
}

/// Runs one table's case: `Ok` when the catalog agrees, else what it did instead.
fn run(table: &str, c: &Value) -> Result<(), String> {
    match table {
        "parse" => {
            let got = reference::parse(c["input"].as_str().unwrap());
            match (c.get("error").and_then(Value::as_str), got) {
                (Some(want), Err(e)) if e.kind() == want => Ok(()),
                (Some(want), Err(e)) => Err(format!("error {} ({e}), expected {want}", e.kind())),
                (Some(want), Ok(r)) => Err(format!("accepted as {r}, expected {want}")),
                (None, Err(e)) => Err(format!("refused: {e}")),
                (None, Ok(r)) => {
                    let got = [
                        r.to_string(),
                        r.name(),
                        r.domain.clone(),
                        opt(&r.tag),
                        opt(&r.digest),
                    ];
                    let want = [
                        s(c, "input"),
                        s(c, "repository"),
                        s(c, "domain"),
                        s(c, "tag"),
                        s(c, "digest"),
                    ];
                    (got == want)
                        .then_some(())
                        .ok_or(format!("gave {got:?}, expected {want:?}"))
                }
            }
        }
        "normalized_valid" => reference::parse_normalized(c.as_str().unwrap())
            .map(|_| ())
            .map_err(|e| format!("refused: {e}")),
        "normalized_invalid" => match reference::parse_normalized(c.as_str().unwrap()) {
            Ok(r) => Err(format!("accepted as {r}")),
            Err(_) => Ok(()),
        },
        "repository_info" => {
            let mut inputs = vec![s(c, "familiar"), s(c, "full")];
            if !s(c, "ambiguous").is_empty() {
                inputs.push(s(c, "ambiguous"));
            }
            let want = [s(c, "familiar"), s(c, "full"), s(c, "domain"), s(c, "path")];
            for input in inputs {
                let r = reference::parse_normalized(&input)
                    .map_err(|e| format!("{input}: refused: {e}"))?;
                let got = [r.familiar_name(), r.to_string(), r.domain, r.path];
                if got != want {
                    return Err(format!("{input}: gave {got:?}, expected {want:?}"));
                }
            }
            Ok(())
        }
        "split_hostname" => {
            let r = reference::parse_normalized(&s(c, "input")).map_err(|e| e.to_string())?;
            let (got, want) = ([r.domain, r.path], [s(c, "domain"), s(c, "path")]);
            (got == want)
                .then_some(())
                .ok_or(format!("gave {got:?}, expected {want:?}"))
        }
        "docker_ref" => {
            let r = reference::parse_docker_ref(&s(c, "input")).map_err(|e| e.to_string())?;
            let want = s(c, "expected");
            // Its output must itself be a valid reference, as upstream checks.
            reference::parse(&r.to_string()).map_err(|e| e.to_string())?;
            (r.to_string() == want)
                .then_some(())
                .ok_or(format!("gave {r}, expected {want}"))
        }
        "any_reference" => {
            let r = reference::parse_any(&s(c, "reference")).map_err(|e| e.to_string())?;
            let want = s(c, "equivalent");
            let ok = match &r {
                AnyReference::Digest(d) => *d == want,
                // Upstream also checks the result equals Parse(equivalent).
                AnyReference::Named(n) => reference::parse(&want).as_ref() == Ok(n),
            };
            ok.then_some(()).ok_or(format!("gave {r}, expected {want}"))
        }
        "domain_regexp" => {
            let want = c["match"].as_bool().unwrap();
            let got = reference::valid_domain(&s(c, "input"));
            (got == want)
                .then_some(())
                .ok_or(format!("valid_domain gave {got}"))
        }
        "name_regexp" | "reference_regexp" => {
            // The grammar alone (no length or digest-algorithm checks, as the regexp has none).
            let input = s(c, "input");
            let want = c["match"].as_bool().unwrap();
            // A name never has a tag or digest: such a match is no name.
            let got = reference::grammar_match(&input)
                .filter(|m| table == "reference_regexp" || (m.2.is_empty() && m.3.is_empty()));
            match (want, got) {
                (false, None) => Ok(()),
                (false, Some(m)) => Err(format!("matched as {m:?}")),
                (true, None) => Err("did not match".into()),
                (true, Some((domain, path, tag, digest))) => {
                    let got_subs: Vec<String> = if table == "name_regexp" {
                        if !tag.is_empty() || !digest.is_empty() {
                            return Err(format!("a name with tag {tag:?} digest {digest:?}"));
                        }
                        vec![domain, path]
                    } else {
                        let name = if domain.is_empty() {
                            path
                        } else {
                            format!("{domain}/{path}")
                        };
                        vec![name, tag, digest]
                    };
                    match c.get("subs").and_then(Value::as_array) {
                        Some(subs) => {
                            let want_subs: Vec<String> = subs
                                .iter()
                                .map(|v| v.as_str().unwrap_or_default().to_string())
                                .collect();
                            (got_subs == want_subs)
                                .then_some(())
                                .ok_or(format!("gave {got_subs:?}, expected {want_subs:?}"))
                        }
                        None => Ok(()),
                    }
                }
            }
        }
        other => Err(format!("unknown table {other}")),
    }
}

const TABLES: &[&str] = &[
    "parse",
    "normalized_valid",
    "normalized_invalid",
    "repository_info",
    "split_hostname",
    "docker_ref",
    "any_reference",
    "domain_regexp",
    "name_regexp",
    "reference_regexp",
];

fn label(c: &Value) -> String {
    match c {
        Value::String(s) => s.clone(),
        _ => ["input", "reference", "full"]
            .iter()
            .find_map(|k| c[*k].as_str())
            .unwrap_or_default()
            .to_string(),
    }
}

#[test]
fn distribution_reference_cases_pass() {
    let all = cases();
    assert_eq!(all["commit"].as_str().map(str::len), Some(40));
    let mut total = 0;
    let mut disagreements = BTreeMap::new();
    for table in TABLES {
        let rows = all[*table]
            .as_array()
            .unwrap_or_else(|| panic!("table {table} missing"));
        assert!(!rows.is_empty(), "table {table} is empty");
        for c in rows {
            total += 1;
            if let Err(why) = run(table, c) {
                disagreements.insert((table.to_string(), label(c)), why);
            }
        }
    }
    // 48 + 35 + 27 + 20 + 11 + 11 + 14 + 30 + 63 + 12 cases at the pinned commit.
    assert_eq!(total, 271, "the fixture did not load whole");
    let deliberate: BTreeMap<(String, String), &str> = DELIBERATE
        .iter()
        .map(|(t, i, why)| ((t.to_string(), i.to_string()), *why))
        .collect();
    let mut report = Vec::new();
    for (key, why) in &disagreements {
        if !deliberate.contains_key(key) {
            report.push(format!("{} {:?}: {why}", key.0, key.1));
        }
    }
    for key in deliberate.keys() {
        if !disagreements.contains_key(key) {
            report.push(format!(
                "{key:?} is listed as DELIBERATE but now agrees; remove it"
            ));
        }
    }
    assert!(
        report.is_empty(),
        "{} of {total} distribution/reference cases disagree:\n{}",
        report.len(),
        report.join("\n")
    );
}

#[test]
fn the_harness_notices_a_wrong_answer() {
    let wrong = serde_json::json!({"input": "foo..bar/x", "match": true});
    assert!(run("domain_regexp", &wrong).is_err());
    let wrong = serde_json::json!({"input": "docker.io/foo", "domain": "docker.io", "path": "foo"});
    assert!(run("split_hostname", &wrong).is_err());
}

#[test]
fn hosts_and_docker_hub_names() {
    assert_eq!(
        reference::normalize_registry("index.docker.io").unwrap(),
        "docker.io"
    );
    assert_eq!(
        reference::normalize_registry("GHCR.io:443").unwrap(),
        "ghcr.io:443"
    );
    assert_eq!(
        reference::normalize_registry("[::1]:5000").unwrap(),
        "[::1]:5000"
    );
    let e = reference::normalize_registry("foo..bar").unwrap_err();
    assert_eq!(e.kind(), "invalid_host");
    assert!(e.to_string().contains("foo..bar"), "{e}");
    let a = reference::parse_normalized("index.docker.io/nginx:1.25").unwrap();
    let b = reference::parse_normalized("docker.io/library/nginx:1.25").unwrap();
    assert_eq!(a, b);
    assert_eq!(a.to_string(), "docker.io/library/nginx:1.25");
    assert_eq!(
        reference::parse_normalized("docker.io/Library/nginx")
            .unwrap_err()
            .kind(),
        "name_contains_uppercase"
    );
    let long = format!("example.com/{}", "a".repeat(256));
    assert_eq!(
        reference::parse_normalized(&long).unwrap_err().kind(),
        "name_too_long"
    );
}
