//! Package identity: purls from real SBOM producers parse, normalise per type, and compare
//! equal when the specification says they name the same package.

use catalog_core::purl::Purl;

fn p(s: &str) -> Purl {
    Purl::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn parses_every_part() {
    let x = p("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar&classifier=sources#META-INF/x");
    assert_eq!(x.ty, "maven");
    assert_eq!(x.namespace.as_deref(), Some("org.apache.logging.log4j"));
    assert_eq!(x.name, "log4j-core");
    assert_eq!(x.version.as_deref(), Some("2.14.1"));
    assert_eq!(
        x.qualifiers.get("classifier").map(String::as_str),
        Some("sources")
    );
    assert_eq!(x.subpath.as_deref(), Some("META-INF/x"));
    assert_eq!(x.package(), "pkg:maven/org.apache.logging.log4j/log4j-core");
    assert_eq!(
        x.package_version(),
        "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
    );
    assert_eq!(
        x.to_string(),
        "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?classifier=sources&type=jar#META-INF/x"
    );
    // The canonical form parses back to the same value.
    assert_eq!(p(&x.to_string()), x);
}

#[test]
fn per_type_normalisation_makes_equal_packages_equal() {
    // PyPI: case-insensitive, `_`/`.` runs are `-` (PEP 503).
    assert_eq!(
        p("pkg:pypi/Django_REST.framework@3.15.1").package_version(),
        "pkg:pypi/django-rest-framework@3.15.1"
    );
    assert_eq!(
        p("pkg:PYPI/django-rest-framework@3.15.1"),
        p("pkg:pypi/Django_Rest_Framework@3.15.1")
    );
    // npm: the scope is a namespace (its `@` encoded in canonical form). Case is kept: the
    // registry holds legacy packages that differ only by case (`JSONStream`, `jsonstream`).
    let n = p("pkg:npm/%40angular/core@17.3.0");
    assert_eq!(n.namespace.as_deref(), Some("@angular"));
    assert_eq!(n.name, "core");
    assert_eq!(n.package_version(), "pkg:npm/%40angular/core@17.3.0");
    assert_ne!(p("pkg:npm/JSONStream@1.3.5"), p("pkg:npm/jsonstream@1.3.5"));
    assert_eq!(
        p("pkg:npm/@angular/core@17.3.0"),
        n,
        "an unencoded scope is read the same"
    );
    assert_eq!(
        p("pkg:npm/@angular/core").version,
        None,
        "a scope is not a version"
    );
    // Maven keeps case (groupIds are case-sensitive) and needs a groupId.
    assert_ne!(p("pkg:maven/Org.Foo/Bar@1"), p("pkg:maven/org.foo/bar@1"));
    assert!(Purl::parse("pkg:maven/log4j-core@2.14.1").is_err());
    // Debian and Alpine lowercase; their qualifiers are kept but not identity.
    let d = p("pkg:deb/Debian/OpenSSL@3.0.11-1~deb12u2?arch=amd64&distro=debian-12");
    assert_eq!(
        d.package_version(),
        "pkg:deb/debian/openssl@3.0.11-1~deb12u2"
    );
    assert_eq!(d.qualifiers.get("arch").map(String::as_str), Some("amd64"));
    assert_eq!(
        p("pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64").package_version(),
        p("pkg:apk/Alpine/MUSL@1.2.4-r2?arch=aarch64").package_version()
    );
    // RPM vendors are case-insensitive: one package whichever way a producer spells it.
    assert_eq!(
        p("pkg:rpm/Fedora/curl@7.50.3-1.fc25"),
        p("pkg:rpm/fedora/curl@7.50.3-1.fc25")
    );
    assert_eq!(p("pkg:rpm/Fedora/curl").package(), "pkg:rpm/fedora/curl");
    // Go module paths keep their case; versions with `+` are encoded canonically.
    let g = p("pkg:golang/github.com/Azure/go-autorest@v14.2.0+incompatible");
    assert_eq!(g.namespace.as_deref(), Some("github.com/Azure"));
    assert_eq!(
        g.package_version(),
        "pkg:golang/github.com/Azure/go-autorest@v14.2.0%2Bincompatible"
    );
    assert_eq!(p(&g.package_version()), g);
}

#[test]
fn invalid_purls_say_why() {
    for (bad, why) in [
        ("log4j-core", "pkg:"),
        ("pkg:maven", "no name"),
        ("pkg:1abc/name", "type"),
        ("pkg:npm/left-pad?arch", "qualifier"),
        ("pkg:npm/left%ZZpad", "percent"),
        ("pkg:pypi/", "no name"),
        ("pkg:cargo/rust-lang/serde@1.0.0", "no namespace"),
        ("pkg:npm/left-pad@1.0.0?1arch=x", "qualifier key"),
        ("pkg:rpm/curl@7.50.3", "need a namespace"),
        ("pkg:julia/Dates@1.9.0", "uuid"),
        ("pkg:npm/a@1?arch=x&ARCH=y", "twice"),
    ] {
        let e = Purl::parse(bad).unwrap_err().to_string();
        assert!(e.contains(why), "{bad}: {e}");
    }
}
