//! Version order against the ecosystems' own tools, run on this machine: Maven's
//! `ComparableVersion` (Debian's maven-artifact jar), `dpkg --compare-versions`, Python's
//! `packaging` and node-semver (pinned in tests/browser). Each compares thousands of real-world and generated version pairs; every
//! disagreement is listed in the failure message.

use std::cmp::Ordering;
use std::path::Path;
use std::process::Command;

use catalog_core::versioning::Scheme;

/// A deterministic pseudo-random sequence (an LCG), so a failure reproduces.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

/// Every pair within `real` (the real-world list), plus `per_version` pseudo-random partners
/// for each generated version, in both orders.
fn pairs(real: &[String], generated: &[String], per_version: usize) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for a in real {
        for b in real {
            out.push((a.clone(), b.clone()));
        }
    }
    let all: Vec<&String> = real.iter().chain(generated).collect();
    let mut rng = Lcg(16);
    for a in generated {
        for _ in 0..per_version {
            let b = all[rng.below(all.len())];
            out.push((a.clone(), b.clone()));
            out.push((b.clone(), a.clone()));
        }
    }
    out
}

fn sym(o: Ordering) -> &'static str {
    match o {
        Ordering::Less => "<",
        Ordering::Equal => "==",
        Ordering::Greater => ">",
    }
}

/// Fails listing every pair where ours and the reference differ (the first 40 in full).
fn assert_agree(what: &str, diffs: &[String], total: usize) {
    assert!(
        diffs.is_empty(),
        "{what}: {} of {total} pairs differ (ours vs reference):\n{}",
        diffs.len(),
        diffs
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    eprintln!("{what}: {total} pairs agree");
}

// --- Maven -----------------------------------------------------------------------------------

const MAVEN_JAR: &str = "/usr/share/java/maven-artifact-3.x.jar";

/// Maven's order for each pair, from `ComparableVersion`'s main, which compares each argument
/// with the next: pairs go in as `a1 b1 a2 b2 ...` and every other comparison is kept. One JVM
/// per few thousand pairs (a JVM start is slow).
fn maven_reference(pairs: &[(String, String)]) -> Vec<Ordering> {
    assert!(
        Path::new(MAVEN_JAR).exists(),
        "{MAVEN_JAR} is missing: install Debian's libmaven3-core-java and a JRE \
         (apt-get install libmaven3-core-java default-jre-headless)"
    );
    let mut out = Vec::with_capacity(pairs.len());
    for chunk in pairs.chunks(4000) {
        let args = chunk.iter().flat_map(|(a, b)| [a.as_str(), b.as_str()]);
        let res = Command::new("java")
            .args(["-cp", MAVEN_JAR])
            .arg("org.apache.maven.artifact.versioning.ComparableVersion")
            .args(args)
            .output()
            .unwrap_or_else(|e| {
                panic!("running java: {e}: install a JRE (apt-get install default-jre-headless)")
            });
        assert!(res.status.success(), "{res:?}");
        // Comparison lines are indented: `   <a> <op> <b>`.
        let cmps: Vec<Ordering> = String::from_utf8_lossy(&res.stdout)
            .lines()
            .filter(|l| l.starts_with("   "))
            .map(|l| match l.split_whitespace().nth(1) {
                Some("<") => Ordering::Less,
                Some("==") => Ordering::Equal,
                Some(">") => Ordering::Greater,
                _ => panic!("unexpected ComparableVersion output: {l}"),
            })
            .collect();
        assert_eq!(
            cmps.len(),
            chunk.len() * 2 - 1,
            "one comparison per neighbour"
        );
        out.extend(cmps.into_iter().step_by(2));
    }
    out
}

/// Versions as published on Maven Central (Spring, Hibernate, Jackson, Guava, log4j, JUnit...).
const MAVEN_REAL: &[&str] = &[
    "1.0.0.RC1",
    "1.0.0-RC1",
    "1.0.0.RELEASE",
    "1.0.RC2",
    "1.0-RC3",
    "5.0.0.M1",
    "5.0.0.M5",
    "5.0.0.RC2",
    "5.0.0-SNAPSHOT",
    "5.0.0.RELEASE",
    "5.0.0.BUILD-SNAPSHOT",
    "5.3.31",
    "6.0.0-M1",
    "6.1.0-RC1",
    "3.0.0-alpha-1",
    "3.0-alpha-7",
    "3.0-beta-3",
    "3.0",
    "2.0.0.Beta1",
    "2.0.0.CR1",
    "2.0.0.Final",
    "5.4.32.Final",
    "6.0.0.Alpha9",
    "4.13-beta-3",
    "4.13-rc-2",
    "4.13.2",
    "5.10.0-M1",
    "32.1.3-jre",
    "32.1.3-android",
    "31.0-jre",
    "2.15.0-rc2",
    "2.15.0",
    "2.17.1",
    "2.0-beta9",
    "2.0-rc1",
    "1.2.17",
    "2.13.4.2",
    "2.14.0-rc1",
    "1.0-SNAPSHOT",
    "1.0",
    "1.0.0",
    "1.0-sp1",
    "1.0.1",
    "1.0-1",
    "1-0.1",
    "1.0-ga",
    "1.0-final",
    "9.4.53.v20231009",
    "11.0.18",
    "12.0.0.beta0",
    "20231013",
    "1.5.4-1",
    "0.9.12",
    "1.0.0-M1-SNAPSHOT",
    "1.0.0.M1-SNAPSHOT",
];

/// Every base × separator × qualifier (known, aliased, unknown, in several cases) × number.
fn maven_generated() -> Vec<String> {
    let bases = ["1", "1.0", "1.0.0", "2.0.1", "10", "1.10"];
    let seps = [".", "-", ""];
    let quals = [
        "",
        "alpha",
        "a",
        "Alpha",
        "beta",
        "b",
        "BETA",
        "milestone",
        "m",
        "M",
        "rc",
        "RC",
        "cr",
        "CR",
        "snapshot",
        "SNAPSHOT",
        "ga",
        "GA",
        "final",
        "Final",
        "release",
        "RELEASE",
        "sp",
        "SP",
        "foo",
        "jre",
        "x",
    ];
    let nums = ["", "0", "1", "2", "10", "01", "-1", ".1"];
    let mut out = Vec::new();
    for base in bases {
        for sep in seps {
            for q in quals {
                for n in nums {
                    if q.is_empty() && (sep.is_empty() || n.is_empty()) {
                        continue;
                    }
                    out.push(format!("{base}{sep}{q}{n}"));
                }
            }
        }
    }
    out
}

#[test]
fn maven_order_is_comparable_versions() {
    let real: Vec<String> = MAVEN_REAL.iter().map(|s| s.to_string()).collect();
    let all = pairs(&real, &maven_generated(), 3);
    let reference = maven_reference(&all);
    let diffs: Vec<String> = all
        .iter()
        .zip(reference)
        .filter_map(|((a, b), want)| {
            let ours = Scheme::Maven.compare(a, b);
            (ours != Some(want)).then(|| format!("{a} {b}: ours {ours:?}, Maven {}", sym(want)))
        })
        .collect();
    assert!(all.len() > 10_000, "{} pairs", all.len());
    assert_agree("Maven ComparableVersion", &diffs, all.len());
}

// --- PEP 440 ---------------------------------------------------------------------------------

/// The `packaging` release the order is checked against.
const PACKAGING: &str = "packaging==26.4";

/// A venv with `packaging` (see [`catalog_tests::python::venv_python`]).
fn packaging_python() -> std::path::PathBuf {
    catalog_tests::python::venv_python("packaging-venv", PACKAGING)
}

/// For each version, whether `packaging` reads it; for each pair, its order (`<`, `==`, `>`), or
/// `!` where either is invalid. One Python process for all.
fn packaging_reference(
    versions: &[String],
    pairs: &[(String, String)],
) -> (Vec<bool>, Vec<String>) {
    const SCRIPT: &str = r#"
import json, sys
from packaging.version import Version, InvalidVersion
def parse(v):
    try:
        return Version(v)
    except InvalidVersion:
        return None
req = json.load(sys.stdin)
valid = [parse(v) is not None for v in req["versions"]]
order = []
for a, b in req["pairs"]:
    x, y = parse(a), parse(b)
    order.append("!" if x is None or y is None else "<" if x < y else "==" if x == y else ">")
json.dump({"valid": valid, "order": order}, sys.stdout)
"#;
    let mut child = Command::new(packaging_python())
        .args(["-c", SCRIPT])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let req = serde_json::json!({ "versions": versions, "pairs": pairs });
    serde_json::to_writer(child.stdin.take().unwrap(), &req).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let valid = serde_json::from_value(v["valid"].clone()).unwrap();
    let order = serde_json::from_value(v["order"].clone()).unwrap();
    (valid, order)
}

/// Versions as published on PyPI (Django, numpy, setuptools, pytz...) and PEP 440's examples.
const PYPI_REAL: &[&str] = &[
    "4.2.7",
    "4.2",
    "5.0a1",
    "5.0b1",
    "5.0rc1",
    "5.0",
    "5.0.post1",
    "1.26.0rc1",
    "1.26.0",
    "2.0.0.dev0",
    "2023.3.post1",
    "2023.3",
    "69.0.2",
    "0.10a.",
    "1.0.post.",
    "1.0.dev.",
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
    "1.1.dev1",
    "1!0.1",
    "v1.0",
    "1.0-1",
    "1.0_post_1",
    "1.0.0",
    "01.02",
    "1.0c1",
    "1.0pre1",
    "1.0preview1",
    "1.0rev1",
    "1.0r",
    "1.0+ubuntu-1",
    "1.0+local_1.a",
    "  1.0  ",
];

/// Random combinations of every part of the grammar: epoch, release, each spelling and
/// separator of pre, post and dev, implicit and explicit numbers, case, local labels, and
/// broken forms.
fn pypi_generated(n: usize) -> Vec<String> {
    let epochs = ["", "", "", "1!", "0!", "2!"];
    let releases = [
        "1",
        "1.0",
        "1.0.0",
        "0.10",
        "2.1",
        "01.2",
        "1.0.0.0.1",
        "0",
        "1..0",
        "",
    ];
    let seps = ["", "", ".", "-", "_"];
    let pre = [
        "a", "alpha", "b", "beta", "c", "rc", "pre", "preview", "A", "RC", "Beta", "x",
    ];
    let post = ["post", "rev", "r", "POST", "Rev"];
    let nums = ["", "0", "1", "2", "01", "10"];
    let locals = [
        "abc", "1", "abc.1", "1.abc", "ubuntu-1", "A", "abc.", ".abc", "a_b", "0",
    ];
    let mut rng = Lcg(440);
    let mut pick = |xs: &[&'static str]| xs[rng.below(xs.len())];
    (0..n)
        .map(|_| {
            let mut v = format!("{}{}", pick(&["", "", "", "v", "V"]), pick(&epochs));
            v += pick(&releases);
            if pick(&["", "x"]) == "x" {
                v += &format!(
                    "{}{}{}{}",
                    pick(&seps),
                    pick(&pre),
                    pick(&seps),
                    pick(&nums)
                );
            }
            match pick(&["", "", "n", "l"]) {
                "n" => v += &format!("-{}", pick(&nums)),
                "l" => {
                    v += &format!(
                        "{}{}{}{}",
                        pick(&seps),
                        pick(&post),
                        pick(&seps),
                        pick(&nums)
                    )
                }
                _ => {}
            }
            if pick(&["", "x"]) == "x" {
                v += &format!(
                    "{}{}{}{}",
                    pick(&seps),
                    pick(&["dev", "DEV"]),
                    pick(&seps),
                    pick(&nums)
                );
            }
            if pick(&["", "", "x"]) == "x" {
                v += &format!("+{}", pick(&locals));
            }
            v
        })
        .collect()
}

#[test]
fn pypi_order_and_validity_are_packagings() {
    let real: Vec<String> = PYPI_REAL.iter().map(|s| s.to_string()).collect();
    let generated = pypi_generated(4000);
    let versions: Vec<String> = real.iter().chain(&generated).cloned().collect();
    let all = pairs(&real, &generated, 2);
    let (valid, order) = packaging_reference(&versions, &all);
    let mut diffs: Vec<String> = versions
        .iter()
        .zip(&valid)
        .filter(|(v, ok)| Scheme::Pypi.is_valid(v) != **ok)
        .map(|(v, ok)| format!("{v:?}: ours valid {}, packaging valid {ok}", !ok))
        .collect();
    let mut compared = 0;
    for ((a, b), want) in all.iter().zip(&order) {
        let ours = Scheme::Pypi.compare(a, b).map_or("!", sym);
        compared += usize::from(want != "!");
        if ours != want {
            diffs.push(format!("{a:?} {b:?}: ours {ours}, packaging {want}"));
        }
    }
    assert!(compared > 5_000, "only {compared} valid pairs");
    assert_agree("PEP 440 (packaging)", &diffs, all.len() + versions.len());
}

// --- dpkg ------------------------------------------------------------------------------------

/// What `dpkg --compare-versions` makes of one version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DpkgRead {
    Ok,
    /// Compared, with a "bad syntax" warning (a character dpkg does not allow, a first
    /// character that is not a digit).
    Warning,
    /// Refused: exit code 2.
    Error,
}

/// Runs `dpkg --compare-versions a op b`; `None` when dpkg refuses either version.
fn dpkg(a: &str, op: &str, b: &str) -> (Option<bool>, bool) {
    let out = Command::new("dpkg")
        .args(["--compare-versions", a, op, b])
        .output()
        .unwrap_or_else(|e| panic!("running dpkg: {e}: this suite needs Debian's dpkg"));
    let warned = String::from_utf8_lossy(&out.stderr).contains("warning");
    match out.status.code() {
        Some(0) => (Some(true), warned),
        Some(1) => (Some(false), warned),
        _ => (None, warned),
    }
}

/// Runs `f` over `items` on a few threads (each call spawns a process, most of its cost).
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let chunk = items.len().div_ceil(4).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|c| s.spawn(|| c.iter().map(&f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    })
}

/// Versions from Debian and Ubuntu archives (openssl, glibc, linux, curl, firefox-esr...).
const DEB_REAL: &[&str] = &[
    "3.0.11-1~deb12u2",
    "3.0.11-1~deb12u1",
    "3.0.11-1",
    "3.0.2-0ubuntu1.12",
    "3.0.2-0ubuntu1.10",
    "2.36-9+deb12u3",
    "2.36-9",
    "6.1.0-13-amd64",
    "6.1.55-1",
    "7.88.1-10+deb12u4",
    "7.88.1-10",
    "115.5.0esr-1~deb12u1",
    "1:2.38.1-5+deb12u1",
    "1:2.38.1-5",
    "2:8.2.3995-1ubuntu2.13",
    "1:9.11.5.P4+dfsg-5.1+deb10u9",
    "1.2.3~rc1-1",
    "1.2.3-1",
    "1.2.3",
    "1.2.3+really1.2.2-1",
    "1.0~~",
    "1.0~~a",
    "1.0~",
    "1.0",
    "1.0a",
    "1.0+",
    "1.0.",
    "1.0-0",
    "1.0-0.1",
    "0:1.0",
    "1.0-1-1",
    "20231013-1",
    "0.0~git20230101.abcdef0-1",
    "2.0.0+dfsg-2",
    "2.0.0+ds1-2",
    "10.0.0-1",
    "9.0.0-1",
    "1:1.0",
    "2147483647:1",
    "1.0:1-2",
    "1.01",
    "1.001",
];

/// Epochs, upstreams, revisions with every character class dpkg orders differently (`~`,
/// letters, `+`, `.`, `-`, `:`), numbers with leading zeros, plus broken forms.
fn deb_generated(n: usize) -> Vec<String> {
    // No `-` first: dpkg's command line would read it as an option.
    let epochs = [
        "",
        "",
        "",
        "0:",
        "1:",
        "01:",
        "2147483648:",
        ":",
        "a:",
        "+1:",
        "2147483647:",
    ];
    let ups = [
        "1", "1.0", "1.00", "1.0~rc1", "1.0~~", "1.0a", "1.0A", "1.0+b1", "1.0.1", "1:0", "1-0",
        "1.0~", "a1", "1_0", "1 0", "", "10", "9", "1.0+~", "1.0.~", "01",
    ];
    let revs = [
        "",
        "",
        "-1",
        "-0",
        "-1~",
        "-1+deb12u1",
        "-1ubuntu1",
        "-",
        "-1:2",
        "-1_2",
        "-a",
    ];
    let mut rng = Lcg(1);
    let mut pick = |xs: &[&'static str]| xs[rng.below(xs.len())];
    (0..n)
        .map(|_| format!("{}{}{}", pick(&epochs), pick(&ups), pick(&revs)))
        .collect()
}

#[test]
fn debian_order_is_dpkgs() {
    let real: Vec<String> = DEB_REAL.iter().map(|s| s.to_string()).collect();
    let mut versions: Vec<String> = real.iter().cloned().chain(deb_generated(400)).collect();
    // `dpkg --compare-versions` reads "" as "no version", not as a version.
    versions.retain(|v| !v.is_empty());
    versions.sort();
    versions.dedup();
    let reads = par_map(&versions, |v| match dpkg(v, "eq", v) {
        (None, _) => DpkgRead::Error,
        (Some(_), true) => DpkgRead::Warning,
        (Some(_), false) => DpkgRead::Ok,
    });
    let mut diffs = Vec::new();
    let mut warned = Vec::new();
    for (v, read) in versions.iter().zip(&reads) {
        match (*read, Scheme::Debian.is_valid(v)) {
            (DpkgRead::Ok, false) | (DpkgRead::Error, true) => diffs.push(format!(
                "{v:?}: ours valid {}, dpkg {read:?}",
                !matches!(read, DpkgRead::Ok)
            )),
            // dpkg still compares these, with a warning; refusing them is deliberate.
            (DpkgRead::Warning, _) => warned.push(v.as_str()),
            _ => {}
        }
    }
    // Only versions both read; the order of ordered pairs comes from `lt` in both directions.
    let both: Vec<String> = versions
        .iter()
        .zip(&reads)
        .filter(|(v, r)| **r == DpkgRead::Ok && Scheme::Debian.is_valid(v))
        .map(|(v, _)| v.clone())
        .collect();
    let (real_ok, gen_ok): (Vec<String>, Vec<String>) = both
        .into_iter()
        .partition(|v| DEB_REAL.contains(&v.as_str()));
    let all = pairs(&real_ok, &gen_ok, 8);
    let lt = par_map(&all, |(a, b)| dpkg(a, "lt", b).0);
    for ((a, b), lt) in all.iter().zip(lt) {
        let ours = Scheme::Debian.compare(a, b);
        if lt.map(|lt| lt == (ours == Some(Ordering::Less))) != Some(true) {
            diffs.push(format!("{a:?} {b:?}: ours {ours:?}, dpkg lt {lt:?}"));
        }
    }
    eprintln!("dpkg warned about (and we refuse or accept) {warned:?}");
    assert!(all.len() > 3_000, "{} pairs", all.len());
    assert_agree(
        "dpkg --compare-versions",
        &diffs,
        all.len() + versions.len(),
    );
}

// --- npm -------------------------------------------------------------------------------------

/// node-semver's loose reading (`semver.valid(v, {loose: true})`) of each version and its
/// `compare` of each pair (`!` where either is invalid), from tests/browser's pinned semver.
fn node_semver_reference(
    versions: &[String],
    pairs: &[(String, String)],
) -> (Vec<bool>, Vec<String>) {
    const SCRIPT: &str = r#"
const semver = require("semver");
const req = JSON.parse(require("fs").readFileSync(0, "utf8"));
const o = { loose: true };
const valid = req.versions.map((v) => semver.valid(v, o) !== null);
const order = req.pairs.map(([a, b]) =>
  semver.valid(a, o) === null || semver.valid(b, o) === null
    ? "!"
    : ["<", "==", ">"][semver.compare(a, b, o) + 1]);
process.stdout.write(JSON.stringify({ valid, order }));
"#;
    let browser = Path::new(env!("CARGO_MANIFEST_DIR")).join("browser");
    assert!(
        browser.join("node_modules/semver").is_dir(),
        "{} is missing: run: npm ci --prefix tests/browser (needs node and npm: apt-get install \
         nodejs npm)",
        browser.join("node_modules/semver").display()
    );
    let mut child = Command::new("node")
        .args(["-e", SCRIPT])
        .current_dir(&browser)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("running node: {e}: apt-get install nodejs npm"));
    let req = serde_json::json!({ "versions": versions, "pairs": pairs });
    serde_json::to_writer(child.stdin.take().unwrap(), &req).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let valid = serde_json::from_value(v["valid"].clone()).unwrap();
    let order = serde_json::from_value(v["order"].clone()).unwrap();
    (valid, order)
}

/// Versions as published on npm (react, typescript, lodash, next, @angular/core...).
const NPM_REAL: &[&str] = &[
    "18.2.0",
    "18.3.0-canary-a870b2d54-20240314",
    "19.0.0-rc.1",
    "19.0.0",
    "5.3.3",
    "5.4.0-beta",
    "5.4.0-dev.20240101",
    "5.4.0-rc",
    "4.17.21",
    "14.0.4",
    "14.0.5-canary.0",
    "14.0.5-canary.10",
    "14.0.5-canary.9",
    "17.0.0-next.0",
    "17.0.0-next.10",
    "17.0.0-rc.0",
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
    "1.0.0+build.1",
    "v1.0.0",
    "=1.0.0",
    "1.2.3beta",
    "01.02.03",
    "1.0.0-01",
    "0.0.0",
    "0.0.1",
    "2.0.0-0",
    "2.0.0-x-y-z.--",
];

/// Cores (with leading zeros, prefixes), prerelease identifiers (numeric, alphanumeric,
/// hyphens, leading zeros), build metadata, and broken forms.
fn npm_generated(n: usize) -> Vec<String> {
    let prefixes = ["", "", "", "v", "=", "=v", " ", "V"];
    let cores = [
        "1.0.0", "1.2.3", "0.0.0", "10.0.0", "1.10.0", "01.2.3", "1.2.03", "1.2", "1", "1.2.3.4",
        "a.b.c",
    ];
    let seps = ["-", "-", ""];
    let ids = [
        "alpha", "beta", "rc", "0", "1", "2", "10", "01", "a1", "1a", "-", "x-y", "", "Alpha", "RC",
    ];
    let builds = ["", "", "", "+b", "+build.1", "+001", "+a..b", "+"];
    let mut rng = Lcg(7);
    let mut pick = |xs: &[&'static str]| xs[rng.below(xs.len())];
    (0..n)
        .map(|_| {
            let mut v = format!("{}{}", pick(&prefixes), pick(&cores));
            match pick(&["", "1", "2", "3"]) {
                "" => {}
                k => {
                    v += pick(&seps);
                    let ids: Vec<&str> = (0..k.parse::<usize>().unwrap())
                        .map(|_| pick(&ids))
                        .collect();
                    v += &ids.join(".");
                }
            }
            v + pick(&builds)
        })
        .collect()
}

/// `1` or `1.2` (after node-semver's `v`, `=` and space prefix): the one deliberate
/// difference. node-semver reads these only as ranges; OSV's npm ranges write them as versions
/// (`"introduced": "0.1"` in GHSA-crh6-fp67-6883), so we read them as `1.0.0` and `1.2.0`.
fn npm_shorthand(v: &str) -> bool {
    let core = v
        .trim()
        .trim_start_matches(|c: char| c == 'v' || c == '=' || c.is_whitespace());
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() < 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

#[test]
fn npm_order_and_validity_are_node_semvers() {
    let real: Vec<String> = NPM_REAL.iter().map(|s| s.to_string()).collect();
    let generated = npm_generated(3000);
    let versions: Vec<String> = real.iter().chain(&generated).cloned().collect();
    let all = pairs(&real, &generated, 2);
    let (valid, order) = node_semver_reference(&versions, &all);
    let mut diffs: Vec<String> = versions
        .iter()
        .zip(&valid)
        .filter(|(v, ok)| Scheme::Npm.is_valid(v) != **ok && !npm_shorthand(v))
        .map(|(v, ok)| format!("{v:?}: ours valid {}, node-semver valid {ok}", !ok))
        .collect();
    let mut compared = 0;
    for ((a, b), want) in all.iter().zip(&order) {
        let ours = Scheme::Npm.compare(a, b).map_or("!", sym);
        compared += usize::from(want != "!");
        let deliberate = want == "!" && (npm_shorthand(a) || npm_shorthand(b));
        if ours != want && !deliberate {
            diffs.push(format!("{a:?} {b:?}: ours {ours}, node-semver {want}"));
        }
    }
    assert!(compared > 3_000, "only {compared} valid pairs");
    assert_agree("npm (node-semver)", &diffs, all.len() + versions.len());
}
