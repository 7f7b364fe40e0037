//! Version ordering per ecosystem, and `vers:` version ranges
//! (https://github.com/package-url/vers-spec).
//!
//! Each [`Scheme`] implements its ecosystem's own comparison algorithm, written out rather than
//! approximated: SemVer 2.0 (and node-semver's loose reading for npm, Go's module versions),
//! PEP 440, Maven's `ComparableVersion`, dpkg, and apk-tools. A version a scheme cannot read
//! compares as unknown (`None`) and never matches a range: a wrong "affected" or "not affected"
//! is worse than "cannot tell".

use std::cmp::Ordering;
use std::fmt;

/// A versioning scheme: how versions of one ecosystem are read and ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// SemVer 2.0 (cargo, OSV `SEMVER` ranges). A leading `v` or `=` is accepted.
    Semver,
    /// node-semver in loose mode: SemVer with `1.2` read as `1.2.0` and a few other spellings.
    Npm,
    /// PEP 440.
    Pypi,
    /// Maven's `ComparableVersion`.
    Maven,
    /// Go module versions: SemVer with an optional `v`, pseudo-versions as prereleases.
    Go,
    /// dpkg: `[epoch:]upstream[-revision]`.
    Debian,
    /// apk-tools (Alpine).
    Alpine,
    /// Numeric and non-numeric runs; for ecosystems without a known algorithm.
    Generic,
}

impl Scheme {
    /// The scheme for a purl type (`npm`, `pypi`, `maven`, `golang`, `deb`, `apk`, `cargo`);
    /// anything else is [`Scheme::Generic`].
    pub fn for_purl_type(ty: &str) -> Scheme {
        match ty.to_ascii_lowercase().as_str() {
            "npm" => Scheme::Npm,
            "pypi" => Scheme::Pypi,
            "maven" => Scheme::Maven,
            "golang" => Scheme::Go,
            "deb" => Scheme::Debian,
            "apk" => Scheme::Alpine,
            "cargo" => Scheme::Semver,
            _ => Scheme::Generic,
        }
    }

    /// The scheme for an OSV ecosystem (`npm`, `PyPI`, `Maven`, `Go`, `crates.io`, `Debian:12`,
    /// `Alpine:v3.18`, ...). Ubuntu versions are dpkg versions, so `Ubuntu:*` is Debian too.
    pub fn for_osv_ecosystem(eco: &str) -> Scheme {
        if eco.starts_with("Debian") || eco.starts_with("Ubuntu") {
            return Scheme::Debian;
        }
        if eco.starts_with("Alpine") {
            return Scheme::Alpine;
        }
        // A `:suffix` (release, registry URL) scopes the package but does not change ordering.
        match eco.split(':').next().unwrap_or_default() {
            "npm" => Scheme::Npm,
            "PyPI" => Scheme::Pypi,
            "Maven" => Scheme::Maven,
            "Go" => Scheme::Go,
            "crates.io" => Scheme::Semver,
            _ => Scheme::Generic,
        }
    }

    /// The scheme for a `vers:` versioning-scheme name (the purl types, plus `semver`,
    /// `debian`, `alpine`, `go`); anything else is [`Scheme::Generic`].
    pub fn for_vers(name: &str) -> Scheme {
        match name.to_ascii_lowercase().as_str() {
            "semver" | "cargo" => Scheme::Semver,
            "npm" => Scheme::Npm,
            "pypi" => Scheme::Pypi,
            "maven" => Scheme::Maven,
            "golang" | "go" => Scheme::Go,
            "deb" | "debian" => Scheme::Debian,
            "alpine" | "apk" => Scheme::Alpine,
            _ => Scheme::Generic,
        }
    }

    /// Orders two versions. `None` only when either cannot be read in this scheme at all; callers
    /// treat that as unknown, never as a match.
    pub fn compare(self, a: &str, b: &str) -> Option<Ordering> {
        match self {
            Scheme::Semver => Some(semver_cmp(
                &parse_semver(a, Dialect::Strict)?,
                &parse_semver(b, Dialect::Strict)?,
            )),
            Scheme::Npm => Some(semver_cmp(&parse_npm(a)?, &parse_npm(b)?)),
            Scheme::Go => Some(semver_cmp(
                &parse_semver(a, Dialect::Go)?,
                &parse_semver(b, Dialect::Go)?,
            )),
            Scheme::Pypi => Some(parse_pep440(a)?.cmp(&parse_pep440(b)?)),
            Scheme::Maven => Some(maven_cmp_lists(&parse_maven(a)?, &parse_maven(b)?)),
            Scheme::Debian => Some(deb_cmp(&parse_deb(a)?, &parse_deb(b)?)),
            Scheme::Alpine => Some(apk_cmp(&parse_apk(a)?, &parse_apk(b)?)),
            Scheme::Generic => Some(generic_cmp(a, b)?),
        }
    }

    /// Whether this scheme can read `v`.
    pub fn is_valid(self, v: &str) -> bool {
        self.compare(v, v).is_some()
    }
}

/// A non-negative integer of any length, kept as its digits without leading zeros, so that
/// date-like components (`20191109021931`) and absurd ones compare without overflow.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Num(String);

impl Num {
    /// `digits` must be ASCII digits; callers check.
    fn new(digits: &str) -> Num {
        let t = digits.trim_start_matches('0');
        Num(if t.is_empty() { "0" } else { t }.to_string())
    }

    fn zero() -> Num {
        Num("0".to_string())
    }

    fn is_zero(&self) -> bool {
        self.0 == "0"
    }
}

impl Ord for Num {
    fn cmp(&self, other: &Num) -> Ordering {
        // No leading zeros, so the longer number is the larger.
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.cmp(&other.0))
    }
}

impl PartialOrd for Num {
    fn partial_cmp(&self, other: &Num) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

// ---------------------------------------------------------------------------------------------
// SemVer, npm, Go

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    /// SemVer 2.0 as written, after an optional `=` and `v`.
    Strict,
    /// golang.org/x/mod/semver: optional `v`, `v1` / `v1.2` shorthands without suffixes.
    Go,
}

/// A prerelease identifier. Declaration order is precedence: numeric before alphanumeric.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Ident {
    Num(Num),
    Alnum(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Sem {
    core: [Num; 3],
    pre: Vec<Ident>,
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-'
}

fn parse_semver(input: &str, dialect: Dialect) -> Option<Sem> {
    let mut s = input.trim();
    match dialect {
        Dialect::Strict => {
            s = s.strip_prefix('=').unwrap_or(s);
            s = s.strip_prefix(['v', 'V']).unwrap_or(s);
        }
        Dialect::Go => s = s.strip_prefix('v').unwrap_or(s),
    }
    // Build metadata (Go's `+incompatible` included) never takes part in precedence, but it
    // must still be well-formed.
    let (main, build) = match s.split_once('+') {
        Some((m, b)) => (m, Some(b)),
        None => (s, None),
    };
    if let Some(b) = build {
        if b.split('.')
            .any(|id| id.is_empty() || !id.bytes().all(is_ident_char))
        {
            return None;
        }
    }
    let core_end = main
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(main.len());
    let (core, rest) = main.split_at(core_end);
    let pre_text = if rest.is_empty() {
        None
    } else if let Some(p) = rest.strip_prefix('-') {
        Some(p)
    } else {
        return None;
    };
    let parts: Vec<&str> = core.split('.').collect();
    let shorthand_ok = match dialect {
        Dialect::Strict => false,
        // Go accepts `v1` and `v1.2` only bare.
        Dialect::Go => pre_text.is_none() && build.is_none(),
    };
    if parts.len() > 3 || (parts.len() < 3 && !shorthand_ok) {
        return None;
    }
    let mut nums = [Num::zero(), Num::zero(), Num::zero()];
    for (slot, p) in nums.iter_mut().zip(&parts) {
        if !all_digits(p) || (p.len() > 1 && p.starts_with('0')) {
            return None;
        }
        *slot = Num::new(p);
    }
    let mut pre = Vec::new();
    if let Some(p) = pre_text {
        for id in p.split('.') {
            if id.is_empty() || !id.bytes().all(is_ident_char) {
                return None;
            }
            if all_digits(id) {
                if id.len() > 1 && id.starts_with('0') {
                    return None;
                }
                pre.push(Ident::Num(Num::new(id)));
            } else {
                pre.push(Ident::Alnum(id.to_string()));
            }
        }
    }
    Some(Sem { core: nums, pre })
}

/// node-semver's `MAX_LENGTH` and `Number.MAX_SAFE_INTEGER`.
const NPM_MAX_LEN: usize = 256;
const NPM_MAX_SAFE: &str = "9007199254740991";

fn npm_ident_chars(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_ident_char)
}

/// Dot-separated non-empty `[0-9A-Za-z-]` identifiers: what node-semver's loose prerelease
/// and build patterns accept.
fn npm_dotted(s: &str) -> bool {
    s.split('.').all(npm_ident_chars)
}

/// node-semver in loose mode (`new SemVer(v, {loose: true})`), plus bare shorthands: its `LOOSE` pattern
/// `^[v=\s]*(\d+)\.(\d+)\.(\d+)(?:-?(PRE))?(?:\+(BUILD))?$` with the regex's backtracking
/// (`1.2.30.beta` is `1.2.3-0.beta`, `1.2.3-.0` has the prerelease `-.0`), numbers up to
/// `MAX_SAFE_INTEGER`, and prerelease numbers beyond it kept as text, as node-semver keeps them.
fn parse_npm(input: &str) -> Option<Sem> {
    if input.len() > NPM_MAX_LEN {
        return None;
    }
    let s = input
        .trim()
        .trim_start_matches(|c: char| c == 'v' || c == '=' || c.is_whitespace());
    let max = Num::new(NPM_MAX_SAFE);
    let core_num = |d: &str| -> Option<Num> {
        let n = Num::new(d);
        (all_digits(d) && n <= max).then_some(n)
    };
    // Beyond node-semver: a bare `1` or `1.2` is `1.0.0` or `1.2.0`, as OSV's npm ranges
    // write them (`"introduced": "0.1"`) and OSV's own tools read them.
    if let Some(core) = s.split('.').map(core_num).collect::<Option<Vec<Num>>>() {
        if core.len() < 3 {
            let mut nums = core.into_iter().chain(std::iter::repeat_with(Num::zero));
            let mut next = || nums.next().unwrap_or_else(Num::zero);
            return Some(Sem {
                core: [next(), next(), next()],
                pre: Vec::new(),
            });
        }
    }
    let (major, rest) = s.split_once('.')?;
    let (minor, rest) = rest.split_once('.')?;
    let (major, minor) = (core_num(major)?, core_num(minor)?);
    let (rest, build) = match rest.split_once('+') {
        Some((r, b)) => (r, Some(b)),
        None => (rest, None),
    };
    if build.is_some_and(|b| !npm_dotted(b)) {
        return None;
    }
    // The patch's digits are greedy, but give some back when the rest only matches so.
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let (patch, pre) = (1..=digits).rev().find_map(|k| {
        let (patch, tail) = rest.split_at(k);
        let pre = if tail.is_empty() {
            ""
        } else if let Some(t) = tail.strip_prefix('-').filter(|t| npm_dotted(t)) {
            t
        } else if npm_dotted(tail) {
            tail
        } else {
            return None;
        };
        Some((patch, pre))
    })?;
    let patch = core_num(patch)?;
    let pre = if pre.is_empty() {
        Vec::new()
    } else {
        pre.split('.')
            .map(|id| {
                let n = Num::new(id);
                if all_digits(id) && n < max {
                    Ident::Num(n)
                } else {
                    Ident::Alnum(id.to_string())
                }
            })
            .collect()
    };
    Some(Sem {
        core: [major, minor, patch],
        pre,
    })
}

fn semver_cmp(a: &Sem, b: &Sem) -> Ordering {
    a.core.cmp(&b.core).then_with(|| {
        // A prerelease sorts before its release; otherwise identifiers left to right, and a
        // longer list wins when one is a prefix of the other (Vec's order).
        match (a.pre.is_empty(), b.pre.is_empty()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => a.pre.cmp(&b.pre),
        }
    })
}

// ---------------------------------------------------------------------------------------------
// PEP 440

/// Pre-release position. Declaration order is the order: a bare `.devN` sorts before any
/// pre-release, and a version without a pre-release after all of them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum PepPre {
    DevOnly,
    /// (a = 0, b = 1, rc = 2, number)
    Pre(u8, Num),
    None,
}

/// Dev-release position: a dev release sorts before the same version without one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum PepDev {
    Dev(Num),
    None,
}

/// Local segment part: strings sort before numbers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum LocalPart {
    Alpha(String),
    Num(Num),
}

/// The comparison key of a PEP 440 version, the same tuple `packaging` builds. Field order is
/// comparison order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Pep440 {
    epoch: Num,
    /// Trailing zeros removed: `1.0 == 1.0.0`.
    release: Vec<Num>,
    pre: PepPre,
    /// No post-release sorts before any.
    post: Option<Num>,
    dev: PepDev,
    /// No local label sorts before any.
    local: Option<Vec<LocalPart>>,
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn eat_str(&mut self, t: &str) -> bool {
        if self.s[self.i..].starts_with(t.as_bytes()) {
            self.i += t.len();
            true
        } else {
            false
        }
    }

    fn eat_sep(&mut self) -> bool {
        matches!(self.peek(), Some(b'-' | b'_' | b'.')) && {
            self.i += 1;
            true
        }
    }

    fn digits(&mut self) -> Option<Num> {
        let start = self.i;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.i += 1;
        }
        let d = std::str::from_utf8(&self.s[start..self.i]).ok()?;
        (!d.is_empty()).then(|| Num::new(d))
    }

    /// `[-_.]?N?`, where a missing number is 0. The separator is taken even without a number,
    /// as `packaging`'s pattern does: `1.0.post.` is `1.0.post0`.
    fn implicit_number(&mut self) -> Num {
        self.eat_sep();
        self.digits().unwrap_or_else(Num::zero)
    }
}

/// Parses per the PEP 440 grammar (the `VERSION_PATTERN` of `packaging`), case-insensitively,
/// with every optional separator and implicit number.
fn parse_pep440(input: &str) -> Option<Pep440> {
    let lower = input.trim().to_ascii_lowercase();
    let mut c = Cursor {
        s: lower.as_bytes(),
        i: 0,
    };
    c.eat(b'v');
    let save = c.i;
    let epoch = match c.digits() {
        Some(n) if c.eat(b'!') => n,
        _ => {
            c.i = save;
            Num::zero()
        }
    };
    let mut release = vec![c.digits()?];
    loop {
        let save = c.i;
        if c.eat(b'.') {
            if let Some(n) = c.digits() {
                release.push(n);
                continue;
            }
        }
        c.i = save;
        break;
    }
    while release.last().is_some_and(Num::is_zero) {
        release.pop();
    }

    let save = c.i;
    c.eat_sep();
    // Longer spellings first, as the grammar's alternation tries them.
    let labels: [(&str, u8); 8] = [
        ("alpha", 0),
        ("a", 0),
        ("beta", 1),
        ("b", 1),
        ("preview", 2),
        ("pre", 2),
        ("c", 2),
        ("rc", 2),
    ];
    let mut pre = None;
    if let Some(&(_, rank)) = labels.iter().find(|(l, _)| c.eat_str(l)) {
        pre = Some((rank, c.implicit_number()));
    } else {
        c.i = save;
    }

    let save = c.i;
    let mut post = None;
    if c.eat(b'-') {
        post = c.digits();
    }
    if post.is_none() {
        c.i = save;
        c.eat_sep();
        if ["post", "rev", "r"].iter().any(|l| c.eat_str(l)) {
            post = Some(c.implicit_number());
        } else {
            c.i = save;
        }
    }

    let save = c.i;
    c.eat_sep();
    let dev = if c.eat_str("dev") {
        Some(c.implicit_number())
    } else {
        c.i = save;
        None
    };

    let mut local = None;
    if c.eat(b'+') {
        let mut parts = Vec::new();
        loop {
            let start = c.i;
            while c.peek().is_some_and(|b| b.is_ascii_alphanumeric()) {
                c.i += 1;
            }
            let part = std::str::from_utf8(&c.s[start..c.i]).ok()?;
            if part.is_empty() {
                return None;
            }
            parts.push(if all_digits(part) {
                LocalPart::Num(Num::new(part))
            } else {
                LocalPart::Alpha(part.to_string())
            });
            if !c.eat_sep() {
                break;
            }
        }
        local = Some(parts);
    }
    if c.i != c.s.len() {
        return None;
    }

    let pre = match (pre, &post, &dev) {
        (Some((rank, n)), _, _) => PepPre::Pre(rank, n),
        (None, None, Some(_)) => PepPre::DevOnly,
        (None, _, _) => PepPre::None,
    };
    Some(Pep440 {
        epoch,
        release,
        pre,
        post,
        dev: dev.map_or(PepDev::None, PepDev::Dev),
        local,
    })
}

// ---------------------------------------------------------------------------------------------
// Maven ComparableVersion (maven-artifact 3.x)

/// Beyond this, a version is not something Maven produces, and the nested lists the
/// algorithm builds would recurse deeply.
const MAVEN_MAX_LEN: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
enum MItem {
    Int(Num),
    /// A qualifier, already lowercased and aliased (`ga`, `final`, `release` are `""`).
    Str(String),
    List(Vec<MItem>),
}

/// While parsing, sub-lists live in an arena so the one being filled can change.
enum Raw {
    Item(MItem),
    List(usize),
}

fn maven_string_item(value: &str, followed_by_digit: bool) -> String {
    let v = match value {
        "a" if followed_by_digit => "alpha",
        "b" if followed_by_digit => "beta",
        "m" if followed_by_digit => "milestone",
        other => other,
    };
    match v {
        "ga" | "final" | "release" => "",
        "cr" => "rc",
        other => other,
    }
    .to_string()
}

fn maven_item(is_digit: bool, buf: &str) -> MItem {
    if is_digit {
        MItem::Int(Num::new(buf))
    } else {
        MItem::Str(maven_string_item(buf, false))
    }
}

fn maven_new_list(lists: &mut Vec<Vec<Raw>>, parent: usize) -> usize {
    lists.push(Vec::new());
    let child = lists.len() - 1;
    lists[parent].push(Raw::List(child));
    child
}

/// `ComparableVersion.parseVersion`: split on `.` and `-` and on digit/letter transitions; a `-`
/// or a transition opens a sub-list; then trailing null items (0, "", empty list) are removed
/// from every list, innermost first.
fn parse_maven(input: &str) -> Option<Vec<MItem>> {
    let v = input.trim();
    if v.is_empty() || v.len() > MAVEN_MAX_LEN {
        return None;
    }
    let chars: Vec<char> = v.to_lowercase().chars().collect();
    let text = |a: usize, b: usize| -> String { chars[a..b].iter().collect() };
    let mut lists: Vec<Vec<Raw>> = vec![Vec::new()];
    let mut cur = 0;
    let mut is_digit = false;
    let mut start = 0;
    for (i, &c) in chars.iter().enumerate() {
        if c == '.' || c == '-' {
            let item = if i == start {
                MItem::Int(Num::zero())
            } else {
                maven_item(is_digit, &text(start, i))
            };
            lists[cur].push(Raw::Item(item));
            start = i + 1;
            if c == '-' {
                cur = maven_new_list(&mut lists, cur);
            }
        } else if c.is_ascii_digit() {
            if !is_digit && i > start {
                // Maven 3.8 reads `.X1` as `-X1` (`1.0.0.RC1` == `1.0.0-RC1`): a qualifier that
                // does not open its list opens a new one.
                if !lists[cur].is_empty() {
                    cur = maven_new_list(&mut lists, cur);
                }
                let q = maven_string_item(&text(start, i), true);
                lists[cur].push(Raw::Item(MItem::Str(q)));
                start = i;
                cur = maven_new_list(&mut lists, cur);
            }
            is_digit = true;
        } else {
            if is_digit && i > start {
                lists[cur].push(Raw::Item(maven_item(true, &text(start, i))));
                start = i;
                cur = maven_new_list(&mut lists, cur);
            }
            is_digit = false;
        }
    }
    if chars.len() > start {
        // The same for a trailing qualifier: `5.0.0.M1` < `5.0.0-SNAPSHOT`.
        if !is_digit && !lists[cur].is_empty() {
            cur = maven_new_list(&mut lists, cur);
        }
        lists[cur].push(Raw::Item(maven_item(is_digit, &text(start, chars.len()))));
    }
    // Children are created after their parents, so reverse creation order normalises the
    // innermost lists first, as Maven's stack does.
    for idx in (0..lists.len()).rev() {
        let mut list = std::mem::take(&mut lists[idx]);
        let mut i = list.len();
        while i > 0 {
            i -= 1;
            let null = match &list[i] {
                Raw::Item(MItem::Int(n)) => n.is_zero(),
                Raw::Item(MItem::Str(s)) => s.is_empty(),
                Raw::Item(MItem::List(l)) => l.is_empty(),
                Raw::List(j) => lists[*j].is_empty(),
            };
            if null {
                list.remove(i);
            } else if !matches!(list[i], Raw::List(_)) {
                break;
            }
        }
        lists[idx] = list;
    }
    Some(maven_build(0, &mut lists))
}

fn maven_build(idx: usize, lists: &mut Vec<Vec<Raw>>) -> Vec<MItem> {
    let raw = std::mem::take(&mut lists[idx]);
    raw.into_iter()
        .map(|r| match r {
            Raw::Item(m) => m,
            Raw::List(j) => MItem::List(maven_build(j, lists)),
        })
        .collect()
}

/// Known qualifiers in order, then unknown ones lexically after them.
fn maven_qualifier(q: &str) -> (u8, &str) {
    let rank = match q {
        "alpha" => 0,
        "beta" => 1,
        "milestone" => 2,
        "rc" => 3,
        "snapshot" => 4,
        "" => 5,
        "sp" => 6,
        _ => 7,
    };
    (rank, q)
}

/// `Item.compareTo`; `None` stands for the missing item of the shorter list.
fn maven_cmp_item(l: &MItem, r: Option<&MItem>) -> Ordering {
    match (l, r) {
        (MItem::Int(n), None) => {
            if n.is_zero() {
                Ordering::Equal
            } else {
                Ordering::Greater
            }
        }
        (MItem::Int(a), Some(MItem::Int(b))) => a.cmp(b),
        // 1.1 > 1-sp, 1.1 > 1-1
        (MItem::Int(_), Some(_)) => Ordering::Greater,
        // 1-rc < 1, 1-sp > 1
        (MItem::Str(s), None) => maven_qualifier(s).cmp(&maven_qualifier("")),
        (MItem::Str(a), Some(MItem::Str(b))) => maven_qualifier(a).cmp(&maven_qualifier(b)),
        // 1.any < 1.1, 1.any < 1-1
        (MItem::Str(_), Some(_)) => Ordering::Less,
        // The whole list against nothing, not just its head (MNG-6964): `1-0.1` > `1`.
        (MItem::List(xs), None) => xs
            .iter()
            .map(|x| maven_cmp_item(x, None))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal),
        // 1-1 < 1.0.x
        (MItem::List(_), Some(MItem::Int(_))) => Ordering::Less,
        // 1-1 > 1-sp
        (MItem::List(_), Some(MItem::Str(_))) => Ordering::Greater,
        (MItem::List(xs), Some(MItem::List(ys))) => maven_cmp_lists(xs, ys),
    }
}

fn maven_cmp_lists(xs: &[MItem], ys: &[MItem]) -> Ordering {
    for i in 0..xs.len().max(ys.len()) {
        let o = match (xs.get(i), ys.get(i)) {
            (Some(l), r) => maven_cmp_item(l, r),
            (None, Some(r)) => maven_cmp_item(r, None).reverse(),
            (None, None) => Ordering::Equal,
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

// ---------------------------------------------------------------------------------------------
// Debian (dpkg)

struct Deb<'a> {
    epoch: Num,
    upstream: &'a str,
    revision: &'a str,
}

/// `parseversion` from dpkg: the errors are refused, and so are characters dpkg warns about.
fn parse_deb(input: &str) -> Option<Deb<'_>> {
    let s = input.trim();
    // dpkg reads the epoch with `strtol` (so a `+` sign is taken) and refuses one above INT_MAX.
    let (epoch, rest) = match s.split_once(':') {
        Some((e, r)) if all_digits(e.strip_prefix('+').unwrap_or(e)) && !r.is_empty() => {
            let epoch = Num::new(e.strip_prefix('+').unwrap_or(e));
            if epoch > Num::new("2147483647") {
                return None;
            }
            (epoch, r)
        }
        Some(_) => return None,
        None => (Num::zero(), s),
    };
    let (upstream, revision) = match rest.rsplit_once('-') {
        Some((_, "")) => return None,
        Some((u, r)) => (u, r),
        None => (rest, ""),
    };
    let ok_upstream = |b: u8| b.is_ascii_alphanumeric() || b".+~-:".contains(&b);
    let ok_revision = |b: u8| b.is_ascii_alphanumeric() || b".+~".contains(&b);
    if upstream.is_empty()
        || !upstream.bytes().all(ok_upstream)
        || !revision.bytes().all(ok_revision)
    {
        return None;
    }
    Some(Deb {
        epoch,
        upstream,
        revision,
    })
}

/// dpkg's `order`: `~` before everything (even the end), then digits/end, letters, the rest.
fn deb_order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(b'~') => -1,
        Some(c) => i32::from(c) + 256,
    }
}

/// dpkg's `verrevcmp`: alternate non-digit runs (by `deb_order`) and digit runs (numerically).
fn verrevcmp(a: &[u8], b: &[u8]) -> Ordering {
    let digit_at = |s: &[u8], i: usize| s.get(i).is_some_and(u8::is_ascii_digit);
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        while (i < a.len() && !digit_at(a, i)) || (j < b.len() && !digit_at(b, j)) {
            let (ac, bc) = (deb_order(a.get(i).copied()), deb_order(b.get(j).copied()));
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while a.get(i) == Some(&b'0') {
            i += 1;
        }
        while b.get(j) == Some(&b'0') {
            j += 1;
        }
        let mut first_diff = Ordering::Equal;
        while digit_at(a, i) && digit_at(b, j) {
            if first_diff == Ordering::Equal {
                first_diff = a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
        if digit_at(a, i) {
            return Ordering::Greater;
        }
        if digit_at(b, j) {
            return Ordering::Less;
        }
        if first_diff != Ordering::Equal {
            return first_diff;
        }
    }
    Ordering::Equal
}

fn deb_cmp(a: &Deb<'_>, b: &Deb<'_>) -> Ordering {
    a.epoch
        .cmp(&b.epoch)
        .then_with(|| verrevcmp(a.upstream.as_bytes(), b.upstream.as_bytes()))
        .then_with(|| verrevcmp(a.revision.as_bytes(), b.revision.as_bytes()))
}

// ---------------------------------------------------------------------------------------------
// Alpine (apk-tools src/version.c)

/// Token kinds in apk's order; the order matters when one version runs out first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum ApkKind {
    InitialDigit,
    Digit,
    Letter,
    Suffix,
    SuffixNo,
    CommitHash,
    RevisionNo,
    End,
}

/// `_alpha` .. `_rc` sort before the release (5), `_cvs` .. `_p` after it.
fn apk_suffix(s: &str) -> Option<u8> {
    Some(match s {
        "alpha" => 1,
        "beta" => 2,
        "pre" => 3,
        "rc" => 4,
        "cvs" => 6,
        "svn" => 7,
        "git" => 8,
        "hg" => 9,
        "p" => 10,
        _ => return None,
    })
}
const APK_SUFFIX_NONE: u8 = 5;

#[derive(Debug, Clone)]
struct ApkTok<'a> {
    kind: ApkKind,
    text: &'a str,
    num: Option<Num>,
    suffix: u8,
}

fn span(s: &str, pred: impl Fn(u8) -> bool) -> usize {
    s.bytes().position(|b| !pred(b)).unwrap_or(s.len())
}

fn apk_digits<'a>(s: &mut &'a str, kind: ApkKind) -> Option<ApkTok<'a>> {
    let n = span(s, |b| b.is_ascii_digit());
    if n == 0 {
        return None;
    }
    let (d, rest) = s.split_at(n);
    *s = rest;
    Some(ApkTok {
        kind,
        text: d,
        num: Some(Num::new(d)),
        suffix: 0,
    })
}

/// Tokenises `digit{.digit}...{letter}{_suf{#}}...{~hash}{-r#}` as apk's `token_next` does;
/// `None` where apk would reach `TOKEN_INVALID`.
fn parse_apk(input: &str) -> Option<Vec<ApkTok<'_>>> {
    let mut s = input.trim();
    let mut toks: Vec<ApkTok<'_>> = Vec::new();
    toks.push(apk_digits(&mut s, ApkKind::InitialDigit)?);
    while let Some(&b) = s.as_bytes().first() {
        let prev = toks.last().map_or(ApkKind::InitialDigit, |t| t.kind);
        let tok = match b {
            b'a'..=b'z' => {
                if prev > ApkKind::Digit {
                    return None;
                }
                let (l, rest) = s.split_at(1);
                s = rest;
                ApkTok {
                    kind: ApkKind::Letter,
                    text: l,
                    num: None,
                    suffix: 0,
                }
            }
            b'.' | b'0'..=b'9' => {
                if b == b'.' {
                    if prev > ApkKind::Digit {
                        return None;
                    }
                    s = &s[1..];
                }
                let kind = match prev {
                    ApkKind::InitialDigit | ApkKind::Digit => ApkKind::Digit,
                    ApkKind::Suffix => ApkKind::SuffixNo,
                    _ => return None,
                };
                apk_digits(&mut s, kind)?
            }
            b'_' => {
                if prev > ApkKind::SuffixNo {
                    return None;
                }
                s = &s[1..];
                let n = span(s, |b| b.is_ascii_lowercase());
                let (name, rest) = s.split_at(n);
                s = rest;
                ApkTok {
                    kind: ApkKind::Suffix,
                    text: name,
                    num: None,
                    suffix: apk_suffix(name)?,
                }
            }
            b'~' => {
                if prev >= ApkKind::CommitHash {
                    return None;
                }
                s = &s[1..];
                let n = span(s, |b| b.is_ascii_hexdigit());
                if n == 0 {
                    return None;
                }
                let (h, rest) = s.split_at(n);
                s = rest;
                ApkTok {
                    kind: ApkKind::CommitHash,
                    text: h,
                    num: None,
                    suffix: 0,
                }
            }
            b'-' => {
                if prev >= ApkKind::RevisionNo || !s.starts_with("-r") {
                    return None;
                }
                s = &s[2..];
                apk_digits(&mut s, ApkKind::RevisionNo)?
            }
            _ => return None,
        };
        toks.push(tok);
    }
    Some(toks)
}

/// apk's `token_cmp` for two tokens of the same kind.
fn apk_token_cmp(a: &ApkTok<'_>, b: &ApkTok<'_>) -> Ordering {
    match a.kind {
        // A leading zero makes apk compare the digits as text, as Gentoo does.
        ApkKind::Digit if a.text.starts_with('0') || b.text.starts_with('0') => {
            a.text.as_bytes().cmp(b.text.as_bytes())
        }
        ApkKind::Digit | ApkKind::InitialDigit | ApkKind::SuffixNo | ApkKind::RevisionNo => {
            a.num.cmp(&b.num)
        }
        ApkKind::Letter => a.text.cmp(b.text),
        ApkKind::Suffix => a.suffix.cmp(&b.suffix),
        ApkKind::CommitHash | ApkKind::End => a.text.as_bytes().cmp(b.text.as_bytes()),
    }
}

fn apk_cmp(a: &[ApkTok<'_>], b: &[ApkTok<'_>]) -> Ordering {
    let end = ApkTok {
        kind: ApkKind::End,
        text: "",
        num: None,
        suffix: 0,
    };
    let mut i = 0;
    loop {
        let ta = a.get(i).unwrap_or(&end);
        let tb = b.get(i).unwrap_or(&end);
        if ta.kind != tb.kind || ta.kind == ApkKind::End {
            if ta.kind == tb.kind {
                return Ordering::Equal;
            }
            // Equal so far: the longer version is greater, unless what it goes on with is a
            // pre-release suffix; otherwise the token kind decides.
            if ta.kind == ApkKind::Suffix && ta.suffix < APK_SUFFIX_NONE {
                return Ordering::Less;
            }
            if tb.kind == ApkKind::Suffix && tb.suffix < APK_SUFFIX_NONE {
                return Ordering::Greater;
            }
            return tb.kind.cmp(&ta.kind);
        }
        let o = apk_token_cmp(ta, tb);
        if o != Ordering::Equal {
            return o;
        }
        i += 1;
    }
}

// ---------------------------------------------------------------------------------------------
// Generic

/// Declaration order: text runs before number runs at the same position.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum GenTok<'a> {
    Text(&'a str),
    Num(Num),
}

fn generic_tokens(s: &str) -> Vec<GenTok<'_>> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(first) = rest.bytes().next() {
        let digit = first.is_ascii_digit();
        let n = span(rest, |b| b.is_ascii_digit() == digit);
        let (run, r) = rest.split_at(n);
        out.push(if digit {
            GenTok::Num(Num::new(run))
        } else {
            GenTok::Text(run)
        });
        rest = r;
    }
    out
}

fn generic_cmp(a: &str, b: &str) -> Option<Ordering> {
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() || b.is_empty() {
        return None;
    }
    // Runs decide; when they tie (`1.0` vs `1.00`) the text does, so the order stays total.
    Some(
        generic_tokens(a)
            .cmp(&generic_tokens(b))
            .then_with(|| a.cmp(b)),
    )
}

// ---------------------------------------------------------------------------------------------
// vers: ranges

/// A `vers:` comparator. `Any` is the lone `*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Comparator {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Any,
}

impl Comparator {
    fn as_str(self) -> &'static str {
        match self {
            Comparator::Eq => "",
            Comparator::Ne => "!=",
            Comparator::Lt => "<",
            Comparator::Le => "<=",
            Comparator::Gt => ">",
            Comparator::Ge => ">=",
            Comparator::Any => "*",
        }
    }

    fn lesser(self) -> bool {
        matches!(self, Comparator::Lt | Comparator::Le)
    }

    fn greater(self) -> bool {
        matches!(self, Comparator::Gt | Comparator::Ge)
    }
}

/// One `<comparator><version>` of a range. The version is decoded (no percent-encoding).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Constraint {
    pub comparator: Comparator,
    pub version: String,
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.comparator.as_str())?;
        for c in self.version.chars() {
            if c == '%' || c.is_whitespace() || c.is_control() || "|<>=!*".contains(c) {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    write!(f, "%{b:02X}")?;
                }
            } else {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

/// A parsed, validated `vers:` range, constraints sorted by version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersRange {
    /// The versioning scheme as written (lowercased), e.g. `maven`, `deb`.
    pub scheme_name: String,
    pub scheme: Scheme,
    constraints: Vec<Constraint>,
}

/// Why a string is not a valid `vers:` range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct VersError(pub String);

fn vers_err<T>(msg: impl Into<String>) -> Result<T, VersError> {
    Err(VersError(msg.into()))
}

impl VersRange {
    /// Parses and validates per the vers specification. The error says which part is wrong.
    pub fn parse(input: &str) -> Result<VersRange, VersError> {
        // Spaces and tabs are not significant.
        let s: String = input.chars().filter(|c| *c != ' ' && *c != '\t').collect();
        let Some(spec) = s
            .split_once(':')
            .filter(|(u, _)| u.eq_ignore_ascii_case("vers"))
            .map(|(_, spec)| spec)
        else {
            return vers_err(format!(
                "{input:?} is not a version range: it must start with `vers:`"
            ));
        };
        let Some((scheme_name, list)) = spec.split_once('/') else {
            return vers_err(format!(
                "{input:?} has no versioning scheme: expected vers:<scheme>/<constraints>"
            ));
        };
        let scheme_name = scheme_name.to_ascii_lowercase();
        if scheme_name.is_empty() {
            return vers_err(format!(
                "{input:?} has no versioning scheme: expected vers:<scheme>/<constraints>"
            ));
        }
        let valid_name = scheme_name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b".-+".contains(&b))
            && scheme_name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b".-+".contains(&b));
        if !valid_name {
            return vers_err(format!(
                "versioning scheme {scheme_name:?} is not valid (letters, digits, `.-+`)"
            ));
        }
        let scheme = Scheme::for_vers(&scheme_name);
        // Consecutive, leading and trailing pipes are one separator or none.
        let raw: Vec<&str> = list.split('|').filter(|c| !c.is_empty()).collect();
        if raw == ["*"] {
            return Ok(VersRange {
                scheme_name,
                scheme,
                constraints: vec![Constraint {
                    comparator: Comparator::Any,
                    version: String::new(),
                }],
            });
        }
        if raw.is_empty() {
            return vers_err(format!("{input:?} has an empty constraint list"));
        }
        let mut constraints = Vec::with_capacity(raw.len());
        for text in raw {
            if text.contains('*') {
                return vers_err(format!(
                    "constraint {text:?}: `*` must be the only constraint and has no version"
                ));
            }
            let (comparator, rest) = [
                (">=", Comparator::Ge),
                ("<=", Comparator::Le),
                ("!=", Comparator::Ne),
                ("<", Comparator::Lt),
                (">", Comparator::Gt),
                ("=", Comparator::Eq),
            ]
            .iter()
            .find_map(|(p, c)| text.strip_prefix(p).map(|r| (*c, r)))
            .unwrap_or((Comparator::Eq, text));
            // Whatever comparator-like text is left over (`=>`, `==`, `~`, `^`) is not one of
            // the six comparators.
            if rest.starts_with(['<', '>', '=', '!', '~', '^']) {
                let n = text
                    .find(|c: char| !"<>=!~^".contains(c))
                    .unwrap_or(text.len());
                return vers_err(format!(
                    "constraint {text:?}: unknown comparator {:?} (expected one of =, !=, <, <=, >, >=)",
                    &text[..n]
                ));
            }
            if rest.is_empty() {
                return vers_err(format!("constraint {text:?}: no version"));
            }
            if rest.contains(['<', '>', '=', '!']) {
                return vers_err(format!(
                    "constraint {text:?}: the version contains a comparator character; \
                     percent-encode it"
                ));
            }
            let Some(version) = crate::purl::percent_decode(rest) else {
                return vers_err(format!("constraint {text:?}: bad percent-encoding"));
            };
            if !scheme.is_valid(&version) {
                return vers_err(format!(
                    "constraint {text:?}: {version:?} is not a valid {scheme_name} version"
                ));
            }
            constraints.push(Constraint {
                comparator,
                version,
            });
        }
        constraints.sort_by(|a, b| {
            scheme
                .compare(&a.version, &b.version)
                .unwrap_or(Ordering::Equal)
        });
        for w in constraints.windows(2) {
            if scheme.compare(&w[0].version, &w[1].version) == Some(Ordering::Equal) {
                return vers_err(format!(
                    "version {:?} appears more than once (as {:?} and {:?}); each version may \
                     occur in only one constraint",
                    w[0].version,
                    w[0].to_string(),
                    w[1].to_string()
                ));
            }
        }
        // The specification's validity rules, which keep ranges from being redundant or empty.
        let no_ne: Vec<&Constraint> = constraints
            .iter()
            .filter(|c| c.comparator != Comparator::Ne)
            .collect();
        for w in no_ne.windows(2) {
            if w[0].comparator == Comparator::Eq && w[1].comparator.lesser() {
                return vers_err(format!(
                    "constraints {:?} and {:?}: an `=` constraint cannot be followed by `<` or \
                     `<=` (the equality is redundant)",
                    w[0].to_string(),
                    w[1].to_string()
                ));
            }
        }
        let bounds: Vec<&Constraint> = no_ne
            .into_iter()
            .filter(|c| c.comparator != Comparator::Eq)
            .collect();
        for w in bounds.windows(2) {
            if w[0].comparator.lesser() == w[1].comparator.lesser() {
                return vers_err(format!(
                    "constraints {:?} and {:?}: `<`/`<=` and `>`/`>=` constraints must \
                     alternate in version order",
                    w[0].to_string(),
                    w[1].to_string()
                ));
            }
        }
        Ok(VersRange {
            scheme_name,
            scheme,
            constraints,
        })
    }

    /// The constraints, sorted by version.
    pub fn constraints(&self) -> &[Constraint] {
        &self.constraints
    }

    /// Whether `version` is in the range, per the specification's algorithm. False when the
    /// scheme cannot read `version`.
    ///
    /// One reading goes beyond the algorithm's text: a range of only `!=` constraints (such as
    /// `vers:npm/!=1.0.0`) contains every other version. Read literally the algorithm would
    /// make it empty, which would leave `!=` alone meaningless.
    pub fn contains(&self, version: &str) -> bool {
        self.scheme.is_valid(version) && self.contains_checked(version).unwrap_or(false)
    }

    fn contains_checked(&self, v: &str) -> Option<bool> {
        use Comparator as C;
        let cmp = |c: &Constraint| self.scheme.compare(v, &c.version);
        if self.constraints.iter().any(|c| c.comparator == C::Any) {
            return Some(true);
        }
        for c in &self.constraints {
            if matches!(c.comparator, C::Eq | C::Le | C::Ge) && cmp(c)? == Ordering::Equal {
                return Some(true);
            }
        }
        for c in &self.constraints {
            if c.comparator == C::Ne && cmp(c)? == Ordering::Equal {
                return Some(false);
            }
        }
        let bounds: Vec<&Constraint> = self
            .constraints
            .iter()
            .filter(|c| c.comparator.lesser() || c.comparator.greater())
            .collect();
        match bounds.as_slice() {
            [] => return Some(self.constraints.iter().all(|c| c.comparator == C::Ne)),
            [only] => {
                let o = cmp(only)?;
                return Some(match only.comparator {
                    C::Lt => o == Ordering::Less,
                    C::Le => o != Ordering::Greater,
                    C::Gt => o == Ordering::Greater,
                    C::Ge => o != Ordering::Less,
                    C::Eq | C::Ne | C::Any => false,
                });
            }
            _ => {}
        }
        let pairs = bounds.len() - 1;
        for (k, w) in bounds.windows(2).enumerate() {
            let (cur, next) = (w[0], w[1]);
            if k == 0 && cur.comparator.lesser() && cmp(cur)? == Ordering::Less {
                return Some(true);
            }
            if k + 1 == pairs && next.comparator.greater() && cmp(next)? == Ordering::Greater {
                return Some(true);
            }
            if cur.comparator.greater()
                && next.comparator.lesser()
                && cmp(cur)? == Ordering::Greater
                && cmp(next)? == Ordering::Less
            {
                return Some(true);
            }
        }
        Some(false)
    }
}

impl std::str::FromStr for VersRange {
    type Err = VersError;

    fn from_str(s: &str) -> Result<VersRange, VersError> {
        VersRange::parse(s)
    }
}

impl fmt::Display for VersRange {
    /// The canonical form: lowercase scheme, constraints in version order, `=` left implicit,
    /// separator characters in versions percent-encoded.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "vers:{}/", self.scheme_name)?;
        for (i, c) in self.constraints.iter().enumerate() {
            if i > 0 {
                f.write_str("|")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}
