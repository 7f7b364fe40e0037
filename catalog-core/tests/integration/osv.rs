//! OSV records as advisory databases publish them: read, validated with field paths, stored and
//! read back unchanged, keyed by the catalog's purl package, and matched against versions on
//! both sides of every range boundary (each case checked by hand against the ecosystem's order).

use catalog_core::osv::{Affected, OsvPackage, Vulnerability};

fn parse(json: &str) -> Vulnerability {
    Vulnerability::parse(json.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
}

fn parse_err(json: &str) -> String {
    match Vulnerability::parse(json.as_bytes()) {
        Ok(v) => panic!("parsed: {v:?}"),
        Err(e) => e.to_string(),
    }
}

fn check(a: &Affected, cases: &[(&str, bool)]) {
    for (v, want) in cases {
        assert_eq!(a.affects(v), *want, "{v}");
    }
}

const LOG4SHELL: &str = r#"{
  "schema_version": "1.4.0",
  "id": "GHSA-jfh8-c2jp-5v3q",
  "modified": "2024-03-15T05:41:51.532Z",
  "published": "2021-12-10T00:40:56Z",
  "aliases": ["CVE-2021-44228"],
  "summary": "Remote code injection in Log4j",
  "details": "Apache Log4j2 JNDI features do not protect against attacker controlled LDAP.",
  "severity": [
    {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"}
  ],
  "affected": [
    {
      "package": {"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core"},
      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.13.0"}, {"fixed": "2.15.0"}]}],
      "database_specific": {"last_known_affected_version_range": "<= 2.14.1"}
    },
    {
      "package": {"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core"},
      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.0-beta9"}, {"fixed": "2.3.1"}]}]
    },
    {
      "package": {"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core"},
      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.4"}, {"fixed": "2.12.2"}]}]
    },
    {
      "package": {"ecosystem": "Maven", "name": "org.ops4j.pax.logging:pax-logging-log4j2"},
      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.8.0"}, {"fixed": "1.9.2"}, {"introduced": "1.10.0"}, {"fixed": "1.10.8"}, {"introduced": "1.11.0"}, {"fixed": "1.11.10"}]}]
    }
  ],
  "references": [
    {"type": "ADVISORY", "url": "https://nvd.nist.gov/vuln/detail/CVE-2021-44228"},
    {"type": "WEB", "url": "https://logging.apache.org/log4j/2.x/security.html"}
  ],
  "database_specific": {"cwe_ids": ["CWE-502"], "severity": "CRITICAL", "github_reviewed": true}
}"#;

#[test]
fn log4shell_maven_ranges() {
    let v = parse(LOG4SHELL);
    assert_eq!(v.id, "GHSA-jfh8-c2jp-5v3q");
    assert_eq!(v.aliases, ["CVE-2021-44228"]);
    assert_eq!(v.summary.as_deref(), Some("Remote code injection in Log4j"));
    assert_eq!(v.severity[0].kind, "CVSS_V3");
    assert_eq!(v.references.len(), 2);
    assert_eq!(v.references[0].kind, "ADVISORY");
    assert_eq!(
        v.published.map(|t| t.to_rfc3339()).as_deref(),
        Some("2021-12-10T00:40:56+00:00")
    );
    assert_eq!(v.affected.len(), 4);
    for a in &v.affected[..3] {
        assert_eq!(
            a.package
                .as_ref()
                .and_then(OsvPackage::package_key)
                .as_deref(),
            Some("pkg:maven/org.apache.logging.log4j/log4j-core")
        );
    }
    check(
        &v.affected[0],
        &[
            ("2.12.4", false),
            ("2.13.0-rc1", false),
            ("2.13.0", true),
            ("2.13", true), // == 2.13.0 in Maven
            ("2.14.1", true),
            ("2.15.0-rc1", true),
            ("2.15.0", false),
            ("2.16.0", false),
        ],
    );
    check(
        &v.affected[1],
        &[
            ("2.0-beta8", false),
            ("2.0-beta9", true),
            ("2.0-rc1", true),
            ("2.0", true),
            ("2.3", true),
            ("2.3.0", true),
            ("2.3.1", false),
            ("2.4", false),
            ("1.2.17", false),
        ],
    );
    check(
        &v.affected[2],
        &[
            ("2.3.2", false),
            ("2.4", true),
            ("2.12.1", true),
            ("2.12.2", false),
            ("2.13.0", false),
        ],
    );
    // Several intervals in one range.
    check(
        &v.affected[3],
        &[
            ("1.7.9", false),
            ("1.8.0", true),
            ("1.9.1", true),
            ("1.9.2", false),
            ("1.9.9", false),
            ("1.10.0", true),
            ("1.10.7", true),
            ("1.10.8", false),
            ("1.11.9", true),
            ("1.11.10", false),
            ("1.12.0", false),
        ],
    );
}

#[test]
fn pypi_introduced_zero_and_enumerated_versions() {
    let v = parse(
        r#"{
      "id": "PYSEC-2014-22",
      "modified": "2021-07-05T00:01:24.062537Z",
      "published": "2014-04-17T14:55:00Z",
      "aliases": ["CVE-2014-1932"],
      "details": "The (1) JpegImagePlugin.py ... in Python Imaging Library (PIL) ...",
      "affected": [
        {
          "package": {"ecosystem": "PyPI", "name": "Pillow_SIMD", "purl": null},
          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0.0rc1"}]}],
          "versions": ["1.0", "1.7.8", "2.0.0b1"]
        },
        {
          "package": {"ecosystem": "PyPI", "name": "pillow-simd"},
          "versions": ["3.1.0", "3.1.1"]
        }
      ]
    }"#,
    );
    let a = &v.affected[0];
    assert_eq!(
        a.package
            .as_ref()
            .and_then(OsvPackage::package_key)
            .as_deref(),
        Some("pkg:pypi/pillow-simd")
    );
    check(
        a,
        &[
            ("0.0.1", true),
            ("0.dev0", true), // "0" is before everything, dev releases included
            ("1.0", true),
            ("1.0.0", true),
            ("1.9", true),
            ("2.0.0b2", true),
            ("2.0.0rc1.dev1", true), // before rc1
            ("2.0.0rc1", false),
            ("2.0.0", false),
            ("2.0.0.post1", false),
            ("3.0", false),
            ("not.a.version", false),
            ("", false),
        ],
    );
    // Only enumerated versions: exact, or equal in PEP 440.
    check(
        &v.affected[1],
        &[
            ("3.1.0", true),
            ("3.1", true),
            ("v3.1.1", true),
            ("3.1.2", false),
            ("3.0.9", false),
        ],
    );
}

#[test]
fn npm_last_affected_is_inclusive() {
    let v = parse(
        r#"{
      "id": "GHSA-crh6-fp67-6883",
      "modified": "2023-01-09T05:03:39Z",
      "published": "2022-10-11T12:00:26Z",
      "aliases": ["CVE-2022-39353"],
      "summary": "xmldom allows multiple root nodes in a DOM",
      "affected": [
        {
          "package": {"ecosystem": "npm", "name": "@xmldom/xmldom"},
          "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"last_affected": "0.8.3"}]}]
        },
        {
          "package": {"ecosystem": "npm", "name": "xmldom"},
          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0.1"}, {"last_affected": "0.6.0"}]}]
        }
      ]
    }"#,
    );
    let scoped = &v.affected[0];
    assert_eq!(
        scoped
            .package
            .as_ref()
            .and_then(OsvPackage::package_key)
            .as_deref(),
        Some("pkg:npm/%40xmldom/xmldom")
    );
    check(
        scoped,
        &[
            ("0.0.1", true),
            ("0.8.3-rc.1", true),
            ("0.8.3", true),
            ("v0.8.3", true),
            ("0.8.4-beta.1", false),
            ("0.8.4", false),
            ("0.9.0", false),
        ],
    );
    // ECOSYSTEM for npm reads loosely: "0.1" is 0.1.0.
    let plain = &v.affected[1];
    assert_eq!(
        plain
            .package
            .as_ref()
            .and_then(OsvPackage::package_key)
            .as_deref(),
        Some("pkg:npm/xmldom")
    );
    check(
        plain,
        &[
            ("0.0.9", false),
            ("0.1.0", true),
            ("0.6", true),
            ("0.6.0", true),
            ("0.6.1", false),
        ],
    );
}

#[test]
fn go_semver_range_and_pseudo_versions() {
    let v = parse(
        r#"{
      "id": "GO-2023-2402",
      "modified": "2024-05-20T16:03:47Z",
      "published": "2023-12-18T21:41:35Z",
      "aliases": ["CVE-2023-48795", "GHSA-45x7-px36-x8w8"],
      "summary": "Man-in-the-middle attacker can compromise integrity of secure channel in golang.org/x/crypto",
      "affected": [
        {
          "package": {"name": "golang.org/x/crypto", "ecosystem": "Go"},
          "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "0.17.0"}]}],
          "ecosystem_specific": {"imports": [{"path": "golang.org/x/crypto/ssh", "symbols": ["Dial"]}]}
        },
        {
          "package": {"name": "github.com/example/Thing/v2", "ecosystem": "Go"},
          "ranges": [{"type": "SEMVER", "events": [{"introduced": "2.1.0"}, {"fixed": "2.3.4"}]}]
        }
      ]
    }"#,
    );
    let a = &v.affected[0];
    assert_eq!(
        a.package
            .as_ref()
            .and_then(OsvPackage::package_key)
            .as_deref(),
        Some("pkg:golang/golang.org/x/crypto")
    );
    check(
        a,
        &[
            ("v0.0.0-20191109021931-daa7c04131f5", true),
            ("v0.16.0", true),
            ("0.16.0", true),
            ("v0.17.0-rc.1", true),
            ("v0.17.0", false),
            ("v0.17.1-0.20231220000000-123456789abc", false),
            ("v0.18.0", false),
            ("master", false),
        ],
    );
    let b = &v.affected[1];
    assert_eq!(
        b.package
            .as_ref()
            .and_then(OsvPackage::package_key)
            .as_deref(),
        Some("pkg:golang/github.com/example/Thing/v2")
    );
    check(
        b,
        &[
            ("v2.0.9", false),
            ("v2.1.0", true),
            ("v2.3.3", true),
            ("v2.3.4-0.20240101000000-abcdefabcdef", true),
            ("v2.3.4", false),
            ("v2.3.4+incompatible", false),
        ],
    );
}

#[test]
fn debian_release_ecosystem_with_epochs() {
    let v = parse(
        r#"{
      "id": "DSA-5724-1",
      "modified": "2024-07-01T12:00:00Z",
      "published": "2024-07-01T00:00:00Z",
      "aliases": ["CVE-2024-6387"],
      "summary": "openssh - security update",
      "affected": [
        {
          "package": {"ecosystem": "Debian:12", "name": "openssh"},
          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:9.2p1-2+deb12u3"}]}]
        },
        {
          "package": {"ecosystem": "Debian:12", "name": "libfoo"},
          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:2.3-4+deb12u1"}]}]
        }
      ]
    }"#,
    );
    let a = &v.affected[0];
    assert_eq!(
        a.package
            .as_ref()
            .and_then(OsvPackage::package_key)
            .as_deref(),
        Some("pkg:deb/debian/openssh")
    );
    check(
        a,
        &[
            ("1:9.2p1-2", true),
            ("1:9.2p1-2+deb12u2", true),
            ("1:9.2p1-2+deb12u3~bpo1", true), // ~ sorts before the end
            ("1:9.2p1-2+deb12u3", false),
            ("1:9.2p1-2+deb12u4", false),
            ("1:9.3p1-1", false),
            ("9.9p1-1", true), // no epoch is epoch 0
            ("bad version", false),
        ],
    );
    check(
        &v.affected[1],
        &[
            ("1:2.3-4", true),
            ("1:2.3-4+deb12u1", false),
            ("1:2.3-3", true),
            ("1:2.3-4+deb11u9", true), // 11 < 12
            ("1:2.3~rc1-1", true),
            ("1:2.3-5", false),
            ("2.3-99", true),
            ("2:0.1-1", false),
        ],
    );
}

#[test]
fn alpine_release_ecosystem() {
    let v = parse(
        r#"{
      "id": "ALPINE-CVE-2023-5678",
      "modified": "2023-11-10T00:00:00Z",
      "affected": [
        {
          "package": {"ecosystem": "Alpine:v3.18", "name": "openssl"},
          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.1.4-r1"}]}]
        }
      ]
    }"#,
    );
    let a = &v.affected[0];
    assert_eq!(
        a.package
            .as_ref()
            .and_then(OsvPackage::package_key)
            .as_deref(),
        Some("pkg:apk/alpine/openssl")
    );
    check(
        a,
        &[
            ("3.1.3-r0", true),
            ("3.1.4_rc1-r0", true),
            ("3.1.4-r0", true),
            ("3.1.4-r1", false),
            ("3.1.4-r2", false),
            ("3.1.4_p1-r0", false),
            ("3.1.4a-r0", false),
            ("3.1.5-r0", false),
            ("1.1.1w-r0", true),
            ("3.1.4-rX", false),
        ],
    );
}

#[test]
fn limits_git_ranges_and_unreadable_bounds() {
    let v = parse(
        r#"{
      "id": "OSV-2024-1",
      "affected": [
        {
          "package": {"ecosystem": "PyPI", "name": "example"},
          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"limit": "2.0"}]}]
        },
        {
          "package": {"ecosystem": "PyPI", "name": "example"},
          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.0"}, {"limit": "*"}]}]
        },
        {
          "package": {"ecosystem": "OSS-Fuzz", "name": "libexample"},
          "ranges": [{"type": "GIT", "repo": "https://github.com/example/libexample",
                      "events": [{"introduced": "8f3b2a"}, {"fixed": "9c1d4e"}]}],
          "versions": ["v1.2.0"]
        }
      ]
    }"#,
    );
    check(
        &v.affected[0],
        &[
            ("0.1", true),
            ("1.9.9", true),
            ("2.0", false),
            ("2.1", false),
        ],
    );
    check(
        &v.affected[1],
        &[("0.9", false), ("1.0", true), ("99.0", true)],
    );
    // GIT ranges need the repository; only the enumerated versions match.
    check(
        &v.affected[2],
        &[("v1.2.0", true), ("v1.2.1", false), ("8f3b2a", false)],
    );
    assert_eq!(
        v.affected[2]
            .package
            .as_ref()
            .and_then(OsvPackage::package_key),
        None
    );
}

/// A range's versions must read in its scheme: SemVer 2.0 for `SEMVER`, the ecosystem's for
/// `ECOSYSTEM`. Otherwise the range would silently match nothing, so the record is refused,
/// naming the event. `introduced: "0"`, a `*` limit and GIT commits are not versions.
#[test]
fn range_versions_must_parse_in_their_scheme() {
    let record = |eco: &str, kind: &str, events: &str| {
        format!(
            r#"{{"id": "X", "affected": [{{"package": {{"ecosystem": "{eco}", "name": "p"}},
                "ranges": [{{"type": "{kind}", "events": {events}}}]}}]}}"#
        )
    };
    for (eco, kind, events, error) in [
        (
            "npm",
            "SEMVER",
            r#"[{"introduced": "not a version"}]"#,
            r#"events[0].introduced: "not a version" is not a version: a SEMVER range needs SemVer 2.0"#,
        ),
        (
            "npm",
            "ECOSYSTEM",
            r#"[{"introduced": "0"}, {"fixed": "next"}]"#,
            r#"events[1].fixed: "next" is not a version: the "npm" ecosystem's versions are npm (node-semver)"#,
        ),
        (
            "PyPI",
            "ECOSYSTEM",
            r#"[{"introduced": "1.0"}, {"last_affected": "1.0+a+b"}]"#,
            r#"events[1].last_affected: "1.0+a+b" is not a version: the "PyPI" ecosystem's versions are PEP 440"#,
        ),
        (
            "Debian:12",
            "ECOSYSTEM",
            r#"[{"introduced": "0"}, {"fixed": "1:"}]"#,
            r#"events[1].fixed: "1:" is not a version: the "Debian:12" ecosystem's versions are dpkg"#,
        ),
        (
            "crates.io",
            "SEMVER",
            r#"[{"introduced": "0"}, {"limit": "2"}]"#,
            r#"events[1].limit: "2" is not a version: a SEMVER range needs SemVer 2.0"#,
        ),
    ] {
        assert_eq!(
            parse_err(&record(eco, kind, events)),
            format!("affected[0].ranges[0].{error}"),
            "{eco} {kind} {events}"
        );
    }
    for (eco, kind, events) in [
        (
            "npm",
            "SEMVER",
            r#"[{"introduced": "0"}, {"fixed": "1.2.3-rc.1"}]"#,
        ),
        (
            "PyPI",
            "ECOSYSTEM",
            r#"[{"introduced": "0"}, {"limit": "*"}]"#,
        ),
        ("PyPI", "ECOSYSTEM", r#"[{"introduced": "1.0.post."}]"#),
        ("Maven", "ECOSYSTEM", r#"[{"introduced": "5.0.0.M1"}]"#),
        (
            "Go",
            "SEMVER",
            r#"[{"introduced": "0"}, {"fixed": "0.0.0-20210101-abcdef"}]"#,
        ),
        (
            "OSS-Fuzz",
            "GIT",
            r#"[{"introduced": "8f3b2a"}, {"fixed": "9c1d4e"}]"#,
        ),
        (
            "SomeNewEcosystem",
            "ECOSYSTEM",
            r#"[{"introduced": "r17"}]"#,
        ),
    ] {
        parse(&record(eco, kind, events));
    }
}

#[test]
fn package_keys_per_ecosystem() {
    let key = |eco: &str, name: &str| {
        OsvPackage {
            ecosystem: eco.into(),
            name: name.into(),
            purl: None,
        }
        .package_key()
    };
    assert_eq!(
        key("npm", "@angular/core").as_deref(),
        Some("pkg:npm/%40angular/core")
    );
    // npm names are case-sensitive (purl-spec's npm definition): legacy `JSONStream` and
    // `jsonstream` are two packages.
    assert_eq!(
        key("npm", "JSONStream").as_deref(),
        Some("pkg:npm/JSONStream")
    );
    assert_eq!(
        key("PyPI", "Django_REST.framework").as_deref(),
        Some("pkg:pypi/django-rest-framework")
    );
    assert_eq!(
        key("Maven", "com.fasterxml.jackson.core:jackson-databind").as_deref(),
        Some("pkg:maven/com.fasterxml.jackson.core/jackson-databind")
    );
    assert_eq!(key("Maven", "no-group"), None);
    assert_eq!(
        key("Go", "github.com/Azure/azure-sdk-for-go").as_deref(),
        Some("pkg:golang/github.com/Azure/azure-sdk-for-go")
    );
    assert_eq!(key("Go", "stdlib").as_deref(), Some("pkg:golang/stdlib"));
    assert_eq!(
        key("crates.io", "tokio").as_deref(),
        Some("pkg:cargo/tokio")
    );
    assert_eq!(key("RubyGems", "rails").as_deref(), Some("pkg:gem/rails"));
    assert_eq!(
        key("NuGet", "Newtonsoft.Json").as_deref(),
        Some("pkg:nuget/Newtonsoft.Json")
    );
    assert_eq!(
        key("Packagist", "Symfony/http-kernel").as_deref(),
        Some("pkg:composer/symfony/http-kernel")
    );
    assert_eq!(
        key("Debian", "glibc").as_deref(),
        Some("pkg:deb/debian/glibc")
    );
    assert_eq!(
        key("Debian:11", "glibc").as_deref(),
        Some("pkg:deb/debian/glibc")
    );
    assert_eq!(
        key("Alpine:v3.19", "musl").as_deref(),
        Some("pkg:apk/alpine/musl")
    );
    assert_eq!(
        key("Ubuntu:22.04:LTS", "openssl").as_deref(),
        Some("pkg:deb/ubuntu/openssl")
    );
    assert_eq!(key("OSS-Fuzz", "libxml2"), None);
    assert_eq!(key("npm", ""), None);

    // A purl given by the record wins, normalised the catalog's way.
    let p = OsvPackage {
        ecosystem: "PyPI".into(),
        name: "ignored".into(),
        purl: Some("pkg:pypi/Pillow_SIMD".into()),
    };
    assert_eq!(p.package_key().as_deref(), Some("pkg:pypi/pillow-simd"));
    let p = OsvPackage {
        ecosystem: "Maven".into(),
        name: "org.apache.logging.log4j:log4j-core".into(),
        purl: Some("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1".into()),
    };
    assert_eq!(
        p.package_key().as_deref(),
        Some("pkg:maven/org.apache.logging.log4j/log4j-core")
    );
    // An unparsable purl falls back to ecosystem and name.
    let p = OsvPackage {
        ecosystem: "crates.io".into(),
        name: "time".into(),
        purl: Some("not a purl".into()),
    };
    assert_eq!(p.package_key().as_deref(), Some("pkg:cargo/time"));
}

#[test]
fn round_trips_through_json() {
    let v = parse(LOG4SHELL);
    let stored = serde_json::to_vec(&v).unwrap();
    let back = Vulnerability::parse(&stored).unwrap();
    assert_eq!(back, v);
    let direct: Vulnerability = serde_json::from_slice(&stored).unwrap();
    assert_eq!(direct, v);
    // Stored twice gives the same bytes.
    assert_eq!(serde_json::to_vec(&back).unwrap(), stored);
    let full = parse(
        r#"{"id": "X-1", "modified": "2024-01-02T03:04:05.123456789Z",
            "withdrawn": "2024-02-01T00:00:00Z",
            "affected": [{"package": {"ecosystem": "npm", "name": "a", "purl": "pkg:npm/a"},
                          "ranges": [{"type": "SEMVER", "events": [{"introduced": "1.0.0"},
                                      {"last_affected": "1.2.0"}, {"limit": "*"}]}],
                          "versions": ["1.0.0"]}]}"#,
    );
    assert!(full.withdrawn.is_some());
    let back: Vulnerability = serde_json::from_slice(&serde_json::to_vec(&full).unwrap()).unwrap();
    assert_eq!(back, full);
}

#[test]
fn nulls_and_missing_fields_read_as_empty() {
    let v = parse(
        r#"{"id": "X-2", "aliases": null, "summary": null, "affected": [{"package": null, "ranges": null, "versions": null}]}"#,
    );
    assert!(v.aliases.is_empty());
    assert!(v.summary.is_none());
    assert!(v.modified.is_none());
    assert_eq!(v.affected.len(), 1);
    assert!(!v.affected[0].affects("1.0"));
}

#[test]
fn parse_errors_name_the_field() {
    assert!(parse_err("{not json").starts_with("not valid JSON"));
    assert_eq!(parse_err("[]"), "(record): not a JSON object");
    assert_eq!(parse_err("{}"), "id: missing");
    assert_eq!(parse_err(r#"{"id": null}"#), "id: missing");
    assert_eq!(parse_err(r#"{"id": "  "}"#), "id: empty");
    assert_eq!(parse_err(r#"{"id": 7}"#), "id: not a string");

    let two_keys = r#"{"id": "X", "affected": [
        {"package": {"ecosystem": "npm", "name": "a"}},
        {"ranges": []},
        {"ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"introduced": "1.0.0", "fixed": "1.0.2"}]}]}
    ]}"#;
    assert_eq!(
        parse_err(two_keys),
        "affected[2].ranges[0].events[1]: an event needs exactly one of introduced, fixed, last_affected, limit"
    );
    let no_key =
        r#"{"id": "X", "affected": [{"ranges": [{"type": "ECOSYSTEM", "events": [{}]}]}]}"#;
    assert_eq!(
        parse_err(no_key),
        "affected[0].ranges[0].events[0]: an event needs exactly one of introduced, fixed, last_affected, limit"
    );
    let bad_type = r#"{"id": "X", "affected": [{"ranges": [{"type": "SEMVER", "events": []}, {"type": "CALVER", "events": []}]}]}"#;
    assert_eq!(
        parse_err(bad_type),
        "affected[0].ranges[1].type: unknown range type \"CALVER\" (expected SEMVER, ECOSYSTEM or GIT)"
    );
    let no_type = r#"{"id": "X", "affected": [{"ranges": [{"events": []}]}]}"#;
    assert_eq!(parse_err(no_type), "affected[0].ranges[0].type: missing");
    let num_event =
        r#"{"id": "X", "affected": [{"ranges": [{"type": "SEMVER", "events": [{"fixed": 2}]}]}]}"#;
    assert_eq!(
        parse_err(num_event),
        "affected[0].ranges[0].events[0].fixed: not a string"
    );
    let e = parse_err(r#"{"id": "X", "modified": "yesterday"}"#);
    assert!(e.starts_with("modified: "), "{e}");
    let e = parse_err(r#"{"id": "X", "aliases": "CVE-1"}"#);
    assert_eq!(e, "aliases: not an array");
    let e = parse_err(r#"{"id": "X", "aliases": ["CVE-1", 2]}"#);
    assert!(e.starts_with("aliases[1]: "), "{e}");
    let e = parse_err(r#"{"id": "X", "affected": [{"versions": "1.0"}]}"#);
    assert!(e.starts_with("affected[0]: "), "{e}");
    let e = parse_err(r#"{"id": "X", "affected": {}}"#);
    assert_eq!(e, "affected: not an array");
    let e = parse_err(r#"{"id": "X", "references": [{"type": "WEB", "url": 5}]}"#);
    assert!(e.starts_with("references[0]: "), "{e}");
}
