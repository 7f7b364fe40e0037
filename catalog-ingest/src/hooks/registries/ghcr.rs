//! GitHub Packages / GHCR webhooks (`/hooks/ghcr`): the `package` event (repository and
//! organisation webhooks) and `registry_package` (GitHub Apps), as `application/json` or as
//! `application/x-www-form-urlencoded` with the JSON in the `payload` field. `X-GitHub-Event`
//! says which; `ping` is answered as a ping.
//!
//! Read from the package version: `package_url` (`ghcr.io/Owner/name:tag`: the host, and the
//! repository, lower-cased because OCI names are; a bare trailing `:` means no tag),
//! `container_metadata.tag.{name,digest}` (the digest falling back to `manifest.digest`),
//! `manifest.media_type` and `.size`; and `action` and `sender.login`. `registry.url`
//! (`https://CONTAINER.pkg.github.com/owner`) is no registry host and is not read. `published`
//! and `updated` are pushes; GitHub sends no deletes. An empty tag with a digest is a push by
//! digest (a platform child of an index), which [`finish`] ignores. Other events and actions,
//! and packages that are not containers (npm, Maven, ...), are ignored.
//!
//! The key is the `X-GitHub-Delivery` GUID, which a redelivery keeps. The time is the receipt
//! time: the version's own times are `0001-01-01` in real deliveries, and the package's
//! `updated_at` belongs to the package, not to this version.

use super::{check_digest, check_repository, check_tag, finish, hmac_sha256_matches};
use super::{Action, Notice, Outcome, Request};
use crate::item::FieldError;
use serde::Deserialize;

pub const CONTENT_TYPES: [&str; 2] = ["application/json", "application/x-www-form-urlencoded"];

/// Checks `X-Hub-Signature-256` (`sha256=` + hex HMAC-SHA256 of the raw body), before parsing.
pub fn verify(secret: &[u8], req: &Request, body: &[u8]) -> Result<(), String> {
    let sig = req.header("x-hub-signature-256").ok_or(
        "X-Hub-Signature-256 is missing: give the webhook the secret the catalog was given",
    )?;
    let hex = sig
        .strip_prefix("sha256=")
        .ok_or("X-Hub-Signature-256 does not start with sha256=")?;
    if hmac_sha256_matches(secret, body, hex) {
        Ok(())
    } else {
        Err("X-Hub-Signature-256 does not match the body".into())
    }
}

#[derive(Deserialize)]
struct Delivery {
    action: Option<String>,
    package: Option<Package>,
    registry_package: Option<Package>,
    sender: Option<User>,
}

#[derive(Deserialize)]
struct Package {
    ecosystem: Option<String>,
    package_type: Option<String>,
    package_version: Option<Version>,
}

#[derive(Deserialize)]
struct Version {
    package_url: Option<String>,
    container_metadata: Option<ContainerMetadata>,
}

#[derive(Deserialize)]
struct ContainerMetadata {
    tag: Option<Tag>,
    manifest: Option<Manifest>,
}

#[derive(Deserialize)]
struct Tag {
    name: Option<String>,
    digest: Option<String>,
}

#[derive(Deserialize)]
struct Manifest {
    digest: Option<String>,
    media_type: Option<String>,
    size: Option<i64>,
}

#[derive(Deserialize)]
struct User {
    login: Option<String>,
}

pub fn parse(req: &Request, body: &[u8]) -> Result<Outcome, FieldError> {
    let event = req.header("x-github-event").ok_or_else(|| {
        FieldError::new(
            "X-GitHub-Event",
            "missing: GitHub names the event in this header",
        )
    })?;
    let p = match event {
        "ping" => return Ok(Outcome::Ping),
        "package" | "registry_package" => event,
        _ => return Ok(Outcome::ignored(1)),
    };
    let d: Delivery = if req.content_type == "application/x-www-form-urlencoded" {
        let payload = form_urlencoded::parse(body)
            .find(|(k, _)| k == "payload")
            .map(|(_, v)| v.into_owned())
            .ok_or_else(|| {
                FieldError::new(
                    "payload",
                    "missing: a form-encoded delivery carries its JSON in the payload field",
                )
            })?;
        super::super::duplicate_keys::reject_duplicate_keys(payload.as_bytes(), "payload")?;
        serde_json::from_str(&payload)
            .map_err(|e| FieldError::new("payload", format!("invalid JSON: {e}")))?
    } else {
        super::json(body)?
    };
    let package = if p == "package" {
        d.package
    } else {
        d.registry_package
    }
    .ok_or_else(|| FieldError::new(p, "missing"))?;
    match d.action.as_deref() {
        Some("published" | "updated") => {}
        Some(_) => return Ok(Outcome::ignored(1)),
        None => return Err(FieldError::new("action", "missing")),
    }
    // The octokit examples say `package_type: npm` next to `ecosystem: docker`: either will do.
    let container = [&package.ecosystem, &package.package_type]
        .into_iter()
        .flatten()
        .any(|t| t.eq_ignore_ascii_case("container") || t.eq_ignore_ascii_case("docker"));
    if !container {
        return Ok(Outcome::ignored(1));
    }
    let delivery = req
        .header("x-github-delivery")
        .filter(|d| !d.trim().is_empty())
        .ok_or_else(|| {
            FieldError::new(
                "X-GitHub-Delivery",
                "missing: GitHub sends one GUID per delivery, the event's key",
            )
        })?;

    let at = format!("{p}.package_version");
    let version = package
        .package_version
        .ok_or_else(|| FieldError::new(&at, "missing"))?;
    let url_field = format!("{at}.package_url");
    let url = version
        .package_url
        .ok_or_else(|| FieldError::new(&url_field, "missing"))?;
    let (host, repository, url_tag) = split_package_url(&url).ok_or_else(|| {
        FieldError::new(&url_field, format!("{url:?} is not host/owner/name[:tag]"))
    })?;
    check_repository(&url_field, &repository)?;

    let meta = version.container_metadata;
    let (tag, tag_digest) = match meta.as_ref().and_then(|m| m.tag.as_ref()) {
        Some(t) => (t.name.clone().or(url_tag), t.digest.clone()),
        None => (url_tag, None),
    };
    let manifest = meta.as_ref().and_then(|m| m.manifest.as_ref());
    let tag_field = format!("{at}.container_metadata.tag");
    let (digest, digest_field) = match tag_digest.filter(|d| !d.is_empty()) {
        Some(d) => (Some(d), format!("{tag_field}.digest")),
        None => (
            manifest.and_then(|m| m.digest.clone()),
            format!("{at}.container_metadata.manifest.digest"),
        ),
    };
    let digest = digest.filter(|d| !d.is_empty());
    if let Some(d) = &digest {
        check_digest(&digest_field, d)?;
    }
    let tag = tag.filter(|t| !t.is_empty());
    if let Some(t) = &tag {
        check_tag(&format!("{tag_field}.name"), t)?;
    }
    let notice = Notice {
        at,
        action: Action::Push,
        key: format!("ghcr:{delivery}"),
        registry: Some(host),
        repository,
        tag,
        digest,
        media_type: manifest
            .and_then(|m| m.media_type.clone())
            .filter(|m| !m.is_empty()),
        size: manifest.and_then(|m| m.size).filter(|s| *s > 0),
        occurred_at: req.received_at,
        actor: d
            .sender
            .and_then(|s| s.login)
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| "github".into()),
    };
    finish("ghcr", req, vec![notice], 0).map(Outcome::Items)
}

/// `ghcr.io/Owner/name:tag` as the host, the lower-case repository and the tag. A bare
/// trailing `:` (no tag: seen on real `registry_package` deliveries) and an `@digest` are
/// dropped.
fn split_package_url(url: &str) -> Option<(String, String, Option<String>)> {
    let rest = url.trim().split_once("://").map_or(url.trim(), |(_, r)| r);
    let (host, path) = rest.split_once('/')?;
    // Docker's rule: the first part names a host when it could not be an owner.
    if !(host.contains(['.', ':']) || host == "localhost") {
        return None;
    }
    let path = path.split_once('@').map_or(path, |(p, _)| p);
    let (repository, tag) = match path.rsplit_once(':') {
        Some((r, t)) if !t.contains('/') => (r, Some(t).filter(|t| !t.is_empty())),
        _ => (path, None),
    };
    let host = super::host_of(host)?;
    Some((
        host,
        repository.to_ascii_lowercase(),
        tag.map(str::to_string),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{fixture, fixture_text, headers, items, received_at, request};
    use super::*;
    use crate::item::InboxBody;

    const DELIVERY: &str = "72d3162e-cc78-11e3-81ab-4c9367dc0958";

    fn run(event: &str, ct: &str, body: &[u8]) -> Result<Outcome, FieldError> {
        let h = headers(&[("X-GitHub-Event", event), ("X-GitHub-Delivery", DELIVERY)]);
        parse(&request(&h, ct, None), body)
    }

    fn form(json: &[u8]) -> Vec<u8> {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("payload", std::str::from_utf8(json).unwrap())
            .finish()
            .into_bytes()
    }

    #[test]
    fn the_captured_delivery_is_a_push_as_json_and_as_a_form() {
        let json = fixture("ghcr-package-published.json");
        for (ct, body) in [
            ("application/json", json.clone()),
            ("application/x-www-form-urlencoded", form(&json)),
        ] {
            let (items, ignored) = items(run("package", ct, &body).unwrap());
            assert_eq!(ignored, 0);
            let [InboxBody::Push(p)] = items.as_slice() else {
                panic!("{ct}: {items:?}")
            };
            assert_eq!(p.registry, "ghcr.io");
            assert_eq!(p.repository, "example-owner/www");
            assert_eq!(p.tag.as_deref(), Some("0e2a89b"));
            assert_eq!(
                p.digest,
                "sha256:89160c587d0c36bf54090497a465445c14980ba48efbcf3b0d03c49b76f3feb8"
            );
            assert_eq!(
                p.media_type.as_deref(),
                Some("application/vnd.docker.distribution.manifest.list.v2+json")
            );
            assert_eq!(p.size, Some(685));
            assert_eq!(p.key, format!("ghcr:{DELIVERY}"));
            assert_eq!(p.actor, "example-owner");
            assert_eq!(p.source, "ghcr");
            assert_eq!(p.occurred_at, received_at());
        }
    }

    #[test]
    fn the_octokit_examples_digest_of_40_hex_is_refused_naming_the_field() {
        for (event, f) in [
            ("package", "ghcr-package-published-octokit.json"),
            (
                "registry_package",
                "ghcr-registry-package-published-octokit.json",
            ),
        ] {
            let e = run(event, "application/json", &fixture(f)).unwrap_err();
            assert_eq!(
                e.field,
                format!("{event}.package_version.container_metadata.tag.digest"),
                "{f}"
            );
            assert!(e.reason.contains("not a sha256"), "{e:?}");
        }
    }

    /// The octokit examples with the version's (valid) digest in place of the 40-hex one.
    fn octokit(f: &str, tag: &str) -> Vec<u8> {
        fixture_text(f)
            .replace(
                "sha256:6c62fb45fe66bfb1ea9a66abc38f6a0cc974292b\"",
                "sha256:3da1996a8115d7616457760d9920b815241d0a03b34cf5f04e9a0e9d8de37498\"",
            )
            .replace("\"name\": \"\",", &format!("\"name\": \"{tag}\","))
            .into_bytes()
    }

    #[test]
    fn octokit_names_are_lower_cased_and_the_bare_colon_dropped() {
        for (event, f, actor) in [
            (
                "package",
                "ghcr-package-published-octokit.json",
                "Codertocat",
            ),
            (
                "registry_package",
                "ghcr-registry-package-published-octokit.json",
                "github-actions[bot]",
            ),
        ] {
            let body = octokit(f, "nightly");
            let (items, _) = items(run(event, "application/json", &body).unwrap());
            let [InboxBody::Push(p)] = items.as_slice() else {
                panic!("{f}: {items:?}")
            };
            assert_eq!(p.registry, "ghcr.io", "{f}");
            assert_eq!(p.repository, "codertocat/hello-world", "{f}");
            assert_eq!(p.tag.as_deref(), Some("nightly"), "{f}");
            assert_eq!(
                p.digest,
                "sha256:3da1996a8115d7616457760d9920b815241d0a03b34cf5f04e9a0e9d8de37498"
            );
            assert_eq!(p.actor, actor, "{f}");
        }
    }

    #[test]
    fn an_empty_tag_is_a_push_by_digest_and_ignored() {
        let body = octokit("ghcr-package-published-octokit.json", "");
        let (items, ignored) = items(run("package", "application/json", &body).unwrap());
        assert!(items.is_empty(), "{items:?}");
        assert_eq!(ignored, 1);
    }

    #[test]
    fn ping_other_events_actions_and_package_types() {
        assert!(matches!(
            run(
                "ping",
                "application/json",
                b"{\"zen\":\"Keep it logically awesome.\"}"
            ),
            Ok(Outcome::Ping)
        ));
        let json = fixture_text("ghcr-package-published.json");
        assert_eq!(
            items(run("push", "application/json", json.as_bytes()).unwrap()).1,
            1
        );
        let other = json.replacen("\"action\": \"published\"", "\"action\": \"deleted\"", 1);
        assert_ne!(other, json);
        assert_eq!(
            items(run("package", "application/json", other.as_bytes()).unwrap()).1,
            1
        );
        let npm = json.replace("\"CONTAINER\"", "\"npm\"");
        assert_eq!(
            items(run("package", "application/json", npm.as_bytes()).unwrap()).1,
            1
        );
        let updated = json.replacen("\"action\": \"published\"", "\"action\": \"updated\"", 1);
        assert_eq!(
            items(run("package", "application/json", updated.as_bytes()).unwrap())
                .0
                .len(),
            1
        );
    }

    #[test]
    fn a_redelivery_has_the_same_key_another_delivery_another() {
        let body = fixture("ghcr-package-published.json");
        let a = items(run("package", "application/json", &body).unwrap()).0;
        let b = items(run("package", "application/json", &body).unwrap()).0;
        assert_eq!(a[0].key(), b[0].key());
        let h = headers(&[
            ("X-GitHub-Event", "package"),
            ("X-GitHub-Delivery", "other"),
        ]);
        let c = items(parse(&request(&h, "application/json", None), &body).unwrap()).0;
        assert_ne!(a[0].key(), c[0].key());
    }

    #[test]
    fn bad_input_names_the_field() {
        let e = |r: Result<Outcome, FieldError>| r.unwrap_err().field;
        assert_eq!(e(run("package", "application/json", b"{")), "body");
        assert_eq!(
            e(run("package", "application/x-www-form-urlencoded", b"a=b")),
            "payload"
        );
        assert_eq!(
            e(run(
                "package",
                "application/x-www-form-urlencoded",
                &form(b"{")
            )),
            "payload"
        );
        let body = fixture("ghcr-package-published.json");
        let none = headers(&[("X-GitHub-Delivery", DELIVERY)]);
        assert_eq!(
            e(parse(&request(&none, "application/json", None), &body)),
            "X-GitHub-Event"
        );
        let none = headers(&[("X-GitHub-Event", "package")]);
        assert_eq!(
            e(parse(&request(&none, "application/json", None), &body)),
            "X-GitHub-Delivery"
        );
        let json = fixture_text("ghcr-package-published.json");
        let bad = json.replace("\"0e2a89b\"", "\"-bad\"");
        assert_eq!(
            e(run("package", "application/json", bad.as_bytes())),
            "package.package_version.container_metadata.tag.name"
        );
        let bad = json.replace("\"package_url\": \"ghcr.io/", "\"package_url\": \"");
        assert_eq!(
            e(run("package", "application/json", bad.as_bytes())),
            "package.package_version.package_url"
        );
        assert_eq!(
            e(run("registry_package", "application/json", json.as_bytes())),
            "registry_package"
        );
    }

    #[test]
    fn package_urls() {
        assert_eq!(
            split_package_url("ghcr.io/Codertocat/hello-world:"),
            Some(("ghcr.io".into(), "codertocat/hello-world".into(), None))
        );
        assert_eq!(
            split_package_url("ghcr.io/o/a/b:1.0"),
            Some(("ghcr.io".into(), "o/a/b".into(), Some("1.0".into())))
        );
        assert_eq!(
            split_package_url("ghcr.io/o/a@sha256:00"),
            Some(("ghcr.io".into(), "o/a".into(), None))
        );
        assert_eq!(split_package_url("ghcr.io"), None);
        assert_eq!(split_package_url("owner/name:1"), None);
    }

    #[test]
    fn signatures() {
        // docs.github.com, "Validating webhook deliveries".
        let secret = b"It's a Secret to Everybody";
        let sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        let h = headers(&[("X-Hub-Signature-256", sig)]);
        let req = request(&h, "application/json", None);
        assert_eq!(verify(secret, &req, b"Hello, World!"), Ok(()));
        assert_eq!(
            verify(secret, &req, b"Hello, World?").unwrap_err(),
            "X-Hub-Signature-256 does not match the body"
        );
        assert!(verify(b"another secret", &req, b"Hello, World!").is_err());
        let h = headers(&[("X-Hub-Signature-256", &sig["sha256=".len()..])]);
        assert!(verify(
            secret,
            &request(&h, "application/json", None),
            b"Hello, World!"
        )
        .is_err());
        let h = headers(&[]);
        assert!(verify(
            secret,
            &request(&h, "application/json", None),
            b"Hello, World!"
        )
        .unwrap_err()
        .contains("missing"));
    }
}
