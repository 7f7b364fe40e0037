//! Version ordering per ecosystem and `vers:` ranges, against hand-checked cases: each pair is
//! ordered as the ecosystem's own tool orders it (node-semver, packaging, maven-artifact, dpkg,
//! apk-tools), and each range holds exactly the versions the vers algorithm says it does.

use catalog_core::versioning::{Comparator, Scheme, VersRange};
use std::cmp::Ordering;

/// `a < b` both ways round, and each equal to itself.
fn lt(s: Scheme, a: &str, b: &str) {
    assert_eq!(s.compare(a, b), Some(Ordering::Less), "{s:?}: {a} < {b}");
    assert_eq!(s.compare(b, a), Some(Ordering::Greater), "{s:?}: {b} > {a}");
    assert_eq!(s.compare(a, a), Some(Ordering::Equal), "{s:?}: {a} == {a}");
}

fn chain(s: Scheme, versions: &[&str]) {
    for w in versions.windows(2) {
        lt(s, w[0], w[1]);
    }
}

fn eq(s: Scheme, a: &str, b: &str) {
    assert_eq!(s.compare(a, b), Some(Ordering::Equal), "{s:?}: {a} == {b}");
    assert_eq!(s.compare(b, a), Some(Ordering::Equal), "{s:?}: {b} == {a}");
}

fn invalid(s: Scheme, v: &str) {
    assert_eq!(s.compare(v, "1"), None, "{s:?}: {v:?} must not parse");
    assert_eq!(s.compare("1", v), None, "{s:?}: {v:?} must not parse");
    assert!(!s.is_valid(v));
}

/// Several deterministic shuffles of a known-ordered list must sort back to it.
fn sorts(s: Scheme, ordered: &[&str]) {
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    for round in 0..8 {
        let mut v: Vec<&str> = ordered.to_vec();
        if round == 0 {
            v.reverse();
        } else {
            // Fisher-Yates with xorshift: reproducible without a dependency.
            for i in (1..v.len()).rev() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                v.swap(i, (seed % (i as u64 + 1)) as usize);
            }
        }
        v.sort_by(|a, b| s.compare(a, b).unwrap());
        assert_eq!(v, ordered, "{s:?} round {round}");
    }
}

#[test]
fn scheme_lookup() {
    assert_eq!(Scheme::for_purl_type("npm"), Scheme::Npm);
    assert_eq!(Scheme::for_purl_type("pypi"), Scheme::Pypi);
    assert_eq!(Scheme::for_purl_type("maven"), Scheme::Maven);
    assert_eq!(Scheme::for_purl_type("golang"), Scheme::Go);
    assert_eq!(Scheme::for_purl_type("deb"), Scheme::Debian);
    assert_eq!(Scheme::for_purl_type("apk"), Scheme::Alpine);
    assert_eq!(Scheme::for_purl_type("cargo"), Scheme::Semver);
    assert_eq!(Scheme::for_purl_type("gem"), Scheme::Generic);
    assert_eq!(Scheme::for_purl_type("oci"), Scheme::Generic);

    assert_eq!(Scheme::for_osv_ecosystem("npm"), Scheme::Npm);
    assert_eq!(Scheme::for_osv_ecosystem("PyPI"), Scheme::Pypi);
    assert_eq!(Scheme::for_osv_ecosystem("Maven"), Scheme::Maven);
    assert_eq!(
        Scheme::for_osv_ecosystem("Maven:https://maven.google.com"),
        Scheme::Maven
    );
    assert_eq!(Scheme::for_osv_ecosystem("Go"), Scheme::Go);
    assert_eq!(Scheme::for_osv_ecosystem("crates.io"), Scheme::Semver);
    assert_eq!(Scheme::for_osv_ecosystem("Debian"), Scheme::Debian);
    assert_eq!(Scheme::for_osv_ecosystem("Debian:12"), Scheme::Debian);
    assert_eq!(
        Scheme::for_osv_ecosystem("Ubuntu:22.04:LTS"),
        Scheme::Debian
    );
    assert_eq!(Scheme::for_osv_ecosystem("Alpine"), Scheme::Alpine);
    assert_eq!(Scheme::for_osv_ecosystem("Alpine:v3.18"), Scheme::Alpine);
    assert_eq!(Scheme::for_osv_ecosystem("RubyGems"), Scheme::Generic);

    assert_eq!(Scheme::for_vers("semver"), Scheme::Semver);
    assert_eq!(Scheme::for_vers("npm"), Scheme::Npm);
    assert_eq!(Scheme::for_vers("pypi"), Scheme::Pypi);
    assert_eq!(Scheme::for_vers("maven"), Scheme::Maven);
    assert_eq!(Scheme::for_vers("golang"), Scheme::Go);
    assert_eq!(Scheme::for_vers("deb"), Scheme::Debian);
    assert_eq!(Scheme::for_vers("debian"), Scheme::Debian);
    assert_eq!(Scheme::for_vers("alpine"), Scheme::Alpine);
    assert_eq!(Scheme::for_vers("apk"), Scheme::Alpine);
    assert_eq!(Scheme::for_vers("generic"), Scheme::Generic);
    assert_eq!(Scheme::for_vers("nginx"), Scheme::Generic);
}

// --- SemVer ----------------------------------------------------------------------------------

/// The precedence example of SemVer 2.0 section 11, in order.
const SEMVER_SPEC: &[&str] = &[
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
];

#[test]
fn semver_orders_by_spec_precedence() {
    let s = Scheme::Semver;
    chain(s, SEMVER_SPEC);
    chain(s, &["1.0.0", "2.0.0", "2.1.0", "2.1.1"]);
    lt(s, "1.9.0", "1.10.0");
    lt(s, "1.0.0-2", "1.0.0-10"); // numeric identifiers numerically
    lt(s, "1.0.0-10", "1.0.0-a"); // numeric before alphanumeric
    lt(s, "1.0.0-alpha.9", "1.0.0-alpha.10");
    lt(s, "1.0.0-rc.1", "1.0.0-rc.1.1"); // a longer prefix-equal list is greater
    lt(s, "1.0.0-Z", "1.0.0-a"); // ASCII order
    lt(s, "0.9.99", "1.0.0-0");
    lt(s, "1.0.0-x.y", "1.0.0-x-y"); // "x" is a prefix of "x-y"
    lt(s, "1.0.0", "18446744073709551616.0.0"); // past u64
    eq(s, "1.0.0+build.1", "1.0.0");
    eq(s, "1.0.0-rc.1+a", "1.0.0-rc.1+b");
    eq(s, "v1.2.3", "1.2.3");
    eq(s, "=1.2.3", "1.2.3");
    for bad in [
        "",
        "1.2",
        "1",
        "01.2.3",
        "1.02.3",
        "1.2.3-01",
        "1.2.3-",
        "1.2.3+",
        "1.2.3.4",
        "1.2.3-a..b",
        "latest",
        "1.2.3beta",
    ] {
        invalid(s, bad);
    }
    sorts(
        s,
        &[
            "0.0.1",
            "0.1.0-rc.1",
            "0.1.0",
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.1",
            "1.2.0",
            "1.10.0",
            "2.0.0",
        ],
    );
}

#[test]
fn npm_is_semver_read_loosely() {
    let s = Scheme::Npm;
    chain(s, SEMVER_SPEC);
    eq(s, "v1.2.3", "1.2.3");
    eq(s, " =v1.2.3 ", "1.2.3");
    eq(s, "1.2.3beta", "1.2.3-beta");
    eq(s, "01.2.3", "1.2.3");
    eq(s, "1.2.3+build", "1.2.3");
    lt(s, "1.2.3-beta", "1.2.3");
    lt(s, "0.9.9", "1.0.0-0");
    lt(s, "1.0.0-0", "1.0.0-alpha");
    lt(s, "1.0.0-beta.2", "1.0.0-beta.11");
    lt(s, "9.99.99", "10.0.0");
    lt(s, "2.0.0-rc.1", "2.0.0");
    lt(s, "1.4.2", "1.4.3-beta.1");
    // node-semver's backtracking: the patch gives digits back to a hyphen-less prerelease.
    eq(s, "1.2.30.beta", "1.2.3-0.beta");
    eq(s, "1.2.3-.0", "1.2.3--.0");
    eq(s, "1.2.3-", "1.2.3--");
    // Bare shorthands, as OSV's npm ranges write them; not with a prerelease.
    eq(s, "1.2", "1.2.0");
    eq(s, "v1", "1.0.0");
    for bad in [
        "", "1.2.3.4", "latest", "1.x", "^1.2.3", "1.2-beta", "V1.2.3",
    ] {
        invalid(s, bad);
    }
    sorts(
        s,
        &[
            "0.0.1",
            "0.1",
            "0.1.1",
            "1.0.0-0",
            "1.0.0-alpha",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0",
            "1.2.3-rc.1",
            "1.2.3",
            "10.0.0",
        ],
    );
}

#[test]
fn go_module_versions_and_pseudo_versions() {
    let s = Scheme::Go;
    chain(
        s,
        &[
            "v0.0.0-20191109021931-daa7c04131f5",
            "v0.0.0-20200101000000-aaaaaaaaaaaa",
            "v0.1.0",
            "v1.2.3-pre",
            "v1.2.3",
            // A pseudo-version after v1.2.3 is a prerelease of v1.2.4.
            "v1.2.4-0.20200101000000-abcdefabcdef",
            "v1.2.4-pre",
            "v1.2.4",
            "v1.9.0",
            "v1.10.0",
            "v2.0.0+incompatible",
        ],
    );
    eq(s, "v2.0.0+incompatible", "v2.0.0");
    eq(s, "1.2.3", "v1.2.3");
    eq(s, "v1", "v1.0.0");
    eq(s, "v1.2", "v1.2.0");
    lt(s, "v1.2", "v1.2.1");
    lt(s, "v0.16.0", "v0.17.0");
    lt(s, "v0.17.0", "v0.17.1-0.20231220000000-123456789abc");
    for bad in [
        "",
        "v1.2.3.4",
        "vv1.2.3",
        "v01.2.3",
        "v1.2-pre",
        "v1.2.3-01",
        "master",
        "=v1.2.3",
    ] {
        invalid(s, bad);
    }
    sorts(
        s,
        &[
            "v0.0.0-20180101000000-000000000000",
            "v0.0.0-20191109021931-daa7c04131f5",
            "v0.0.1",
            "v0.9.0",
            "v1.0.0-rc.1",
            "v1.0.0",
            "v1.0.1-0.20200101000000-abcdefabcdef",
            "v1.0.1",
            "v1.11.0",
            "v2.0.0+incompatible",
            "v2.1.0",
        ],
    );
}

// --- PEP 440 ---------------------------------------------------------------------------------

#[test]
fn pypi_orders_per_pep_440() {
    let s = Scheme::Pypi;
    chain(
        s,
        &[
            "1.0.dev1",
            "1.0a1.dev1",
            "1.0a1",
            "1.0a1.post1",
            "1.0a2",
            "1.0b1",
            "1.0rc1",
            "1.0",
            "1.0+local",
            "1.0.post1.dev1",
            "1.0.post1",
            "1.0.1",
        ],
    );
    lt(s, "2.0", "1!0.1"); // epoch first
    lt(s, "1!1.0", "2!0.0.dev0");
    lt(s, "1.9", "1.10");
    lt(s, "1.0.dev0", "1.0a0");
    lt(s, "1.0rc1", "1.0c2"); // c is rc
    lt(s, "1.0+abc", "1.0+1"); // in local labels, strings before numbers
    lt(s, "1.0+1", "1.0+1.1");
    lt(s, "1.0+2", "1.0+10");
    lt(s, "2.0.0b2", "2.0.0rc1");
    lt(s, "2.0.0rc1.dev1", "2.0.0rc1");
    lt(s, "0.0.1", "2.0.0rc1");
    eq(s, "1.0", "1.0.0");
    eq(s, "1", "1.0.0.0");
    eq(s, "v1.0", "1.0");
    eq(s, "1.0-1", "1.0.post1");
    eq(s, "1.0-post-2", "1.0.post2");
    eq(s, "1.0rev3", "1.0.post3");
    eq(s, "1.0r", "1.0.post0");
    eq(s, "1.0ALPHA1", "1.0a1");
    eq(s, "1.0-beta_2", "1.0b2");
    eq(s, "1.0-C1", "1.0rc1");
    eq(s, "1.0.preview2", "1.0rc2");
    eq(s, "1.0pre", "1.0rc0");
    eq(s, "1.0-dev", "1.0.dev0");
    eq(s, "0!1.0", "1.0");
    eq(s, "1.0+Ubuntu-1", "1.0+ubuntu.1");
    eq(s, " 1.0 ", "1.0");
    for bad in [
        "",
        "1.0-foo",
        "abc",
        "1.0+",
        "1..0",
        "1.0+a..b",
        "1.0.post1.post2",
        "!1.0",
        "1.0a1b1",
    ] {
        invalid(s, bad);
    }
    // A separator without its number is taken, as `packaging` takes it.
    eq(s, "1.0.post.", "1.0.post0");
    eq(s, "1.0.dev.", "1.0.dev0");
    eq(s, "0.10a.", "0.10a0");
    // The ordering example of PEP 440, with a local label and an epoch added.
    sorts(
        s,
        &[
            "1.0.dev456",
            "1.0a1",
            "1.0a2.dev456",
            "1.0a12.dev456",
            "1.0a12",
            "1.0b1.dev456",
            "1.0b2",
            "1.0b2.post345.dev456",
            "1.0b2.post345",
            "1.0rc1.dev456",
            "1.0rc1",
            "1.0",
            "1.0+abc.5",
            "1.0+abc.7",
            "1.0+5",
            "1.0.post456.dev34",
            "1.0.post456",
            "1.0.15",
            "1.1.dev1",
            "1!0.1",
        ],
    );
}

// --- Maven -----------------------------------------------------------------------------------

#[test]
fn maven_orders_per_comparable_version() {
    let s = Scheme::Maven;
    lt(s, "2.14.1", "2.15.0");
    chain(s, &["2.0-beta9", "2.0-rc1", "2.0"]);
    lt(s, "1.0-SNAPSHOT", "1.0");
    lt(s, "1.0", "1.0-sp1");
    chain(
        s,
        &[
            "1.0-alpha1",
            "1.0-beta1",
            "1.0-milestone1",
            "1.0-rc1",
            "1.0-SNAPSHOT",
            "1.0",
            "1.0-sp",
            "1.0-foo", // unknown qualifiers after known ones
            "1.0-1",
            "1.0.1",
        ],
    );
    lt(s, "1.9", "1.10");
    lt(s, "2.0-beta8", "2.0-beta9");
    lt(s, "2.0-beta9", "2.0-beta10");
    lt(s, "2.0-rc1", "2.0.0.1");
    lt(s, "1.0-abc", "1.0-abd");
    eq(s, "1.0.0.Final", "1.0.0");
    eq(s, "1.0", "1");
    eq(s, "1", "1.0.0");
    eq(s, "1-ga", "1");
    eq(s, "1.0.RELEASE", "1.0");
    eq(s, "1.0-final", "1.0.0");
    eq(s, "1.0-cr1", "1.0-rc1");
    eq(s, "1.0-a1", "1.0-alpha-1");
    eq(s, "1.0-b2", "1.0-beta-2");
    eq(s, "1.0-m3", "1.0-milestone-3");
    eq(s, "2.0-RC1", "2.0-rc1");
    // Maven 3.8 reads `.X` as `-X` for a qualifier, and compares a whole sub-list with nothing.
    eq(s, "1.0.0.RC1", "1.0.0-RC1");
    lt(s, "5.0.0.M1", "5.0.0-SNAPSHOT");
    lt(s, "1.0.RC2", "1.0-RC3");
    lt(s, "1", "1-0.1");
    invalid(s, "");
    // The qualifier ordering of maven-artifact's ComparableVersionTest.
    sorts(
        s,
        &[
            "1-alpha2snapshot",
            "1-alpha2",
            "1-alpha-123",
            "1-beta-2",
            "1-beta123",
            "1-m2",
            "1-m11",
            "1-rc",
            "1-cr2",
            "1-rc123",
            "1-SNAPSHOT",
            "1",
            "1-sp",
            "1-sp2",
            "1-sp123",
            "1-abc",
            "1-def",
            "1-pom-1",
            "1-1-snapshot",
            "1-1",
            "1-2",
            "1-123",
        ],
    );
}

// --- Debian ----------------------------------------------------------------------------------

#[test]
fn debian_orders_per_dpkg() {
    let s = Scheme::Debian;
    lt(s, "2.0", "1:1.0"); // epoch first
    lt(s, "1:9.9", "2:0.1");
    lt(s, "1.0~rc1", "1.0");
    lt(s, "1.0-1", "1.0-1+deb12u1");
    lt(s, "2.36-9+deb12u4", "2.36-9+deb12u7");
    chain(
        s,
        &["1.0~~", "1.0~~a", "1.0~", "1.0", "1.0a", "1.0+", "1.0."],
    );
    lt(s, "1.0", "1.0.0");
    lt(s, "1.9", "1.10");
    lt(s, "1.0-9", "1.0-10");
    lt(s, "1.2.3-1", "1.2.3-1ubuntu1");
    lt(s, "7.6p1-4", "7.6p2-1");
    lt(s, "1:9.2p1-2+deb12u2", "1:9.2p1-2+deb12u3");
    lt(s, "1:9.2p1-2+deb12u3~1", "1:9.2p1-2+deb12u3");
    lt(s, "9.9p1-1", "1:9.2p1-2");
    eq(s, "1.0", "1.0-0");
    eq(s, "0:1.0", "1.0");
    eq(s, "1.01", "1.1");
    eq(s, "1:2.3-4", "01:2.3-4");
    for bad in [
        "", "a:1.0", "1.0-", "1:", ":1.0", "1.0 beta", "-1", "1.0-1_2",
    ] {
        invalid(s, bad);
    }
    // The epoch as dpkg's strtol reads it: a `+` sign, and at most INT_MAX.
    eq(s, "+1:1.0", "1:1.0");
    eq(s, "2147483647:1.0", "02147483647:1.0");
    invalid(s, "2147483648:1.0");
    sorts(
        s,
        &[
            "0.9",
            "1.0~~",
            "1.0~beta1",
            "1.0~rc1",
            "1.0",
            "1.0-1",
            "1.0-1+deb12u1",
            "1.0-1+deb12u10",
            "1.0-2",
            "1.0a",
            "1.0.1",
            "1.10",
            "1:0.1",
            "2:0.0",
        ],
    );
}

// --- Alpine ----------------------------------------------------------------------------------

#[test]
fn alpine_orders_per_apk_tools() {
    let s = Scheme::Alpine;
    lt(s, "1.2.3-r0", "1.2.3-r1");
    lt(s, "1.2.3_rc1-r0", "1.2.3-r0");
    lt(s, "1.2.3-r0", "1.2.3_p1-r0");
    lt(s, "3.1.4-r5", "3.1.4a-r0");
    lt(s, "1.9", "1.10");
    chain(
        s,
        &[
            "1.0_alpha",
            "1.0_beta",
            "1.0_pre",
            "1.0_rc",
            "1.0",
            "1.0_cvs",
            "1.0_svn",
            "1.0_git",
            "1.0_hg",
            "1.0_p",
        ],
    );
    lt(s, "1.0_rc", "1.0_rc1");
    lt(s, "1.0_rc1", "1.0_rc2");
    lt(s, "1.0", "1.0.1");
    lt(s, "1.0", "1.0a");
    lt(s, "1.0a", "1.0b");
    lt(s, "1.0-r1", "1.0.1");
    lt(s, "1.2.3_p1", "1.2.3_p2");
    lt(s, "1.99.99", "2.0");
    lt(s, "3.1.4_rc1-r0", "3.1.4-r1");
    lt(s, "1.001", "1.01"); // leading zeros compare as text
    lt(s, "1.01", "1.1");
    for bad in [
        "",
        "1.0-r",
        "1.0_foo",
        "a1.0",
        "1.0-1",
        "1.0a.1",
        "1.0-r1-r2",
        "1.0_rc1a",
        "1.0_P1",
    ] {
        invalid(s, bad);
    }
    sorts(
        s,
        &[
            "0.9-r3",
            "1.0_alpha1",
            "1.0_beta2",
            "1.0_rc1-r0",
            "1.0-r0",
            "1.0-r1",
            "1.0_p1-r0",
            "1.0.1-r0",
            "1.0.1a-r0",
            "1.2.3-r0",
            "1.10.0-r0",
            "2.0-r0",
        ],
    );
}

// --- Generic ---------------------------------------------------------------------------------

#[test]
fn generic_compares_runs() {
    let s = Scheme::Generic;
    lt(s, "1.2", "1.10");
    lt(s, "a", "b");
    lt(s, "1.0", "1.0.1");
    lt(s, "2021-01-01", "2021-12-01");
    lt(s, "r9", "r10");
    lt(s, "release-9", "release-10");
    lt(s, "1.0a", "1.0b");
    lt(s, "9", "10");
    lt(s, "a1", "1a"); // text runs before number runs at the same place
    lt(s, "1.", "1.a"); // separators are part of the text runs
    lt(s, "4.19.0", "5.4.0");
    assert!(s.compare("!!!", "???").is_some());
    assert_eq!(s.compare("x", "x"), Some(Ordering::Equal));
    invalid(s, "");
    sorts(
        s,
        &[
            "r1", "r2", "r10", "0.9", "1.0", "1.0.1", "1.2", "1.10", "2", "2.0a", "2.0b", "10.0",
        ],
    );
}

// --- vers: -----------------------------------------------------------------------------------

fn vers(s: &str) -> VersRange {
    VersRange::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn vers_err(s: &str) -> String {
    match VersRange::parse(s) {
        Ok(r) => panic!("{s} parsed as {r}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn vers_maven_half_open_interval() {
    let r = vers("vers:maven/>=2.0.0|<2.15.0");
    assert_eq!(r.scheme, Scheme::Maven);
    assert_eq!(r.scheme_name, "maven");
    assert!(r.contains("2.14.1"));
    assert!(r.contains("2.0.0"));
    assert!(r.contains("2.0"), "2.0 == 2.0.0 in Maven");
    assert!(r.contains("2.15.0-rc1"));
    assert!(!r.contains("2.0-rc1"), "rc1 is before 2.0.0");
    assert!(!r.contains("2.15.0"));
    assert!(!r.contains("1.9"));
    assert!(!r.contains("3.0"));
    assert!(!r.contains(""));
}

#[test]
fn vers_npm_equal_or_interval() {
    let r = vers("vers:npm/1.2.3|>=2.0.0|<3.0.0");
    for (v, want) in [
        ("1.2.3", true),
        ("v1.2.3", true),
        ("1.2.4", false),
        ("1.2.2", false),
        ("0.1.0", false),
        ("1.9.9", false),
        ("2.0.0", true),
        ("2.5.0", true),
        ("3.0.0-rc.1", true),
        ("3.0.0", false),
        ("4.0.0", false),
        ("not-a-version", false),
    ] {
        assert_eq!(r.contains(v), want, "{v}");
    }
}

#[test]
fn vers_star_matches_every_readable_version() {
    let r = vers("vers:pypi/*");
    assert_eq!(r.constraints().len(), 1);
    assert_eq!(r.constraints()[0].comparator, Comparator::Any);
    assert!(r.contains("1.0"));
    assert!(r.contains("0.0.1.dev0"));
    assert!(r.contains("1!99.0.post1"));
    assert!(!r.contains("not a version!"));
    assert_eq!(r.to_string(), "vers:pypi/*");
    assert_eq!(vers("vers:pypi/|*|"), r);
}

#[test]
fn vers_debian_epochs() {
    let r = vers("vers:deb/>=1:1.0");
    assert!(r.contains("1:1.0"));
    assert!(r.contains("1:2.0"));
    assert!(r.contains("2:0.1"));
    assert!(!r.contains("2.0"), "no epoch is epoch 0");
    assert!(!r.contains("1:1.0~rc1"));
    assert!(!r.contains("1:0.9"));
}

#[test]
fn vers_not_equal_excludes() {
    let r = vers("vers:deb/>=1:1.0|!=1:1.2");
    assert!(r.contains("1:1.1"));
    assert!(!r.contains("1:1.2"));
    assert!(!r.contains("1:1.2-0"), "equal in dpkg terms");
    assert!(r.contains("1:1.2-1"));
    assert!(r.contains("1:1.3"));
    assert!(!r.contains("1:0.9"));

    let r = vers("vers:npm/>=1.0.0|!=1.5.0|<2.0.0");
    assert!(r.contains("1.4.9"));
    assert!(!r.contains("1.5.0"));
    assert!(r.contains("1.5.1"));
    assert!(!r.contains("2.0.0"));

    // Only exclusions: everything else is in.
    let r = vers("vers:pypi/!=1.0");
    assert!(!r.contains("1.0"));
    assert!(!r.contains("1.0.0"));
    assert!(r.contains("2.0"));
}

#[test]
fn vers_walks_several_intervals() {
    // log4j-core's three affected intervals for CVE-2021-44228.
    let r = vers("vers:maven/>=2.0-beta9|<2.3.1|>=2.4|<2.12.2|>=2.13.0|<2.15.0");
    for (v, want) in [
        ("2.0-beta8", false),
        ("2.0-beta9", true),
        ("2.0-rc1", true),
        ("2.3", true),
        ("2.3.1", false),
        ("2.3.2", false),
        ("2.4", true),
        ("2.12.1", true),
        ("2.12.2", false),
        ("2.12.4", false),
        ("2.13.0", true),
        ("2.14.1", true),
        ("2.15.0", false),
        ("2.17.1", false),
        ("1.2.17", false),
    ] {
        assert_eq!(r.contains(v), want, "{v}");
    }

    // Open at both ends: below the first `<` and above the last `>=`.
    let r = vers("vers:pypi/<1.0|>=2.0");
    assert!(r.contains("0.9"));
    assert!(!r.contains("1.0"));
    assert!(!r.contains("1.5"));
    assert!(r.contains("2.0"));
    assert!(r.contains("3"));

    let r = vers("vers:npm/<=1.0.0");
    assert!(r.contains("1.0.0"));
    assert!(r.contains("0.5.0"));
    assert!(!r.contains("1.0.1"));

    let r = vers("vers:npm/>1.0.0");
    assert!(!r.contains("1.0.0"));
    assert!(r.contains("1.0.1"));

    let r = vers("vers:alpine/>=3.1.0-r0|<3.1.4-r1");
    assert!(r.contains("3.1.4-r0"));
    assert!(!r.contains("3.1.4-r1"));
    assert!(r.contains("3.1.4_rc1-r0"));
}

#[test]
fn vers_canonical_form() {
    let r = vers(" VERS:NPM/ <3.0.0 | >= 2.0.0|1.2.3 ");
    assert_eq!(r.to_string(), "vers:npm/1.2.3|>=2.0.0|<3.0.0");
    assert_eq!(vers(&r.to_string()), r);
    assert_eq!(
        vers("vers:pypi/||>=1.0||<2.0|").to_string(),
        "vers:pypi/>=1.0|<2.0"
    );
    assert_eq!(vers("vers:npm/=1.2.3").to_string(), "vers:npm/1.2.3");
    // A version holding a separator is percent-encoded and reads back the same.
    let r = vers("vers:generic/1.0%7Cx");
    assert_eq!(r.constraints()[0].version, "1.0|x");
    assert_eq!(r.to_string(), "vers:generic/1.0%7Cx");
    assert!(r.contains("1.0|x"));
    let parsed: VersRange = "vers:golang/>=v1.2.0|<v1.3.0".parse().unwrap();
    assert!(parsed.contains("v1.2.9"));
}

#[test]
fn vers_errors_name_the_problem() {
    let e = vers_err("npm/1.0.0");
    assert!(e.contains("must start with `vers:`"), "{e}");
    let e = vers_err("pkg:npm/1.0.0");
    assert!(e.contains("must start with `vers:`"), "{e}");
    let e = vers_err("vers:npm");
    assert!(e.contains("no versioning scheme"), "{e}");
    let e = vers_err("vers:/1.0.0");
    assert!(e.contains("no versioning scheme"), "{e}");
    let e = vers_err("vers:npm/");
    assert!(e.contains("empty constraint list"), "{e}");
    let e = vers_err("vers:npm/|||");
    assert!(e.contains("empty constraint list"), "{e}");
    let e = vers_err("vers:npm/~1.2.3");
    assert!(e.contains("unknown comparator \"~\""), "{e}");
    let e = vers_err("vers:npm/=>1.2.3");
    assert!(e.contains("unknown comparator \"=>\""), "{e}");
    let e = vers_err("vers:npm/==1.2.3");
    assert!(e.contains("unknown comparator \"==\""), "{e}");
    let e = vers_err("vers:npm/^1.2.3");
    assert!(e.contains("unknown comparator \"^\""), "{e}");
    let e = vers_err("vers:npm/*|>=1.0.0");
    assert!(e.contains("`*` must be the only constraint"), "{e}");
    let e = vers_err("vers:npm/>=*");
    assert!(e.contains("`*` must be the only constraint"), "{e}");
    let e = vers_err("vers:npm/>=");
    assert!(e.contains("no version"), "{e}");
    let e = vers_err("vers:npm/1.0.0|1.0.0");
    assert!(e.contains("appears more than once"), "{e}");
    let e = vers_err("vers:npm/>=1.0.0|<1.0.0");
    assert!(e.contains("appears more than once"), "{e}");
    // Equal in the scheme, though spelled differently.
    let e = vers_err("vers:pypi/1.0|1.0.0");
    assert!(e.contains("appears more than once"), "{e}");
    let e = vers_err("vers:pypi/>=not-a-version");
    assert!(
        e.contains("\"not-a-version\" is not a valid pypi version"),
        "{e}"
    );
    let e = vers_err("vers:semver/>=1.2");
    assert!(e.contains("is not a valid semver version"), "{e}");
    let e = vers_err("vers:npm/<1.0.0|<2.0.0");
    assert!(e.contains("must alternate"), "{e}");
    let e = vers_err("vers:npm/1.0.0|<2.0.0");
    assert!(e.contains("cannot be followed by `<`"), "{e}");
    let e = vers_err("vers:npm/1.0%ZZ");
    assert!(e.contains("bad percent-encoding"), "{e}");
    let e = vers_err("vers:n@m/1.0");
    assert!(e.contains("is not valid"), "{e}");
}
