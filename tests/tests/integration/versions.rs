//! Version order against the ecosystems' own tools, run on this machine: Maven's
//! `ComparableVersion` (Debian's maven-artifact jar), `dpkg --compare-versions`, and Python's
//! `packaging`. Each compares thousands of real-world and generated version pairs; every
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
