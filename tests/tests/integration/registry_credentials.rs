//! Registry credentials the way container users keep them: Docker's config.json (`auths`,
//! `credsStore`, `credHelpers`) and credential helpers. The helpers here are small shell
//! scripts on the catalog's PATH that speak the docker-credential-helpers protocol, which is
//! what is under test. A helper's first answer may be stale: the registry's 401 makes the
//! catalog ask again, once, and retry. No password reaches the log.

use catalog_tests::registry::{basic_auth, push_with_creds, ImageSpec, Layout, Registry, TempDir};
use catalog_tests::server::{free_port, INGEST_TOKEN};
use catalog_tests::{CatalogServer, ServerOpts};
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

const VERSIONS: &str = r#"query($name: String!) {
  component(name: $name) { versions(first: 500) { nodes { version digest revision } } }
}"#;
const PARKED: &str = "{ inbox(state: PARKED) { edges { node { id lastError } } } }";

/// An `auths` entry's `auth`: base64 of `user:password`.
fn auth_field(user: &str, password: &str) -> String {
    basic_auth(user, password)
        .trim_start_matches("Basic ")
        .to_string()
}

/// Writes an executable `docker-credential-<name>` into `dir`.
fn helper(dir: &Path, name: &str, script: &str) {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(format!("docker-credential-{name}"));
    std::fs::write(&path, format!("#!/bin/sh\nset -eu\n{script}")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// PATH for the catalog: the helpers first.
fn path_with(dir: &Path) -> String {
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn push_version(
    host: &str,
    repo: &str,
    version: &str,
    revision: &str,
    creds: (&str, &str),
) -> String {
    let layout = Layout::new().unwrap();
    layout
        .build(
            "v",
            &ImageSpec::new(&format!("{repo} {version}"))
                .label("org.opencontainers.image.revision", revision)
                .label("org.opencontainers.image.version", version),
        )
        .unwrap();
    push_with_creds(&layout, "v", host, repo, version, Some(creds)).unwrap()
}

fn wait_version(server: &CatalogServer, repo: &str, version: &str) -> Value {
    server
        .wait_for(
            &format!("{repo} {version}"),
            Duration::from_secs(30),
            || {
                let d = server.query(VERSIONS, json!({"name": repo}))?;
                Ok(d["component"]["versions"]["nodes"]
                    .as_array()
                    .and_then(|vs| vs.iter().find(|v| v["version"] == version))
                    .cloned())
            },
        )
        .unwrap()
}

#[test]
fn credential_helper_is_asked_again_once_after_a_401() {
    const USER: &str = "helperbot";
    const PASSWORD: &str = "pw-helper-R8tY3nQw1";
    const STALE: &str = "pw-stale-K2mV7cXz4";
    const STORE_PASSWORD: &str = "pw-store-J5hB9dLp6";
    let catalog_port = free_port().unwrap();
    let hook = format!("http://127.0.0.1:{catalog_port}/hooks/distribution");
    let registry = Registry::start_auth(&[(&hook, INGEST_TOKEN)], USER, PASSWORD).unwrap();
    let host = registry.host();

    let dir = TempDir::new("catalog-helpers").unwrap();
    let d = dir.path().display();
    // The first answer is stale (as an expired ECR or GAR token is), every later one good.
    helper(
        dir.path(),
        "catalogtest",
        &format!(
            r#"[ "$1" = get ] || exit 1
url=$(cat)
echo "$url" >> "{d}/asked"
n=$(wc -l < "{d}/asked")
if [ "$n" -eq 1 ]; then secret={STALE}; else secret={PASSWORD}; fi
printf '{{"ServerURL":"%s","Username":"{USER}","Secret":"%s"}}\n' "$url" "$secret"
"#
        ),
    );
    // credHelpers[host] comes before credsStore and auths: this one must never be asked.
    helper(
        dir.path(),
        "catalogstore",
        &format!(
            r#"cat > /dev/null
echo asked >> "{d}/store-asked"
printf '{{"ServerURL":"x","Username":"{USER}","Secret":"{STORE_PASSWORD}"}}'
"#
        ),
    );
    std::fs::write(
        dir.path().join("config.json"),
        json!({
            "auths": {host.as_str(): {"auth": auth_field(USER, STORE_PASSWORD)}},
            "credsStore": "catalogstore",
            "credHelpers": {host.as_str(): "catalogtest"},
        })
        .to_string(),
    )
    .unwrap();

    let server = CatalogServer::start(ServerOpts {
        port: Some(catalog_port),
        registries: vec![format!("http://{host}")],
        extra_args: vec![
            "--docker-config".into(),
            dir.path().display().to_string(),
            "--reconcile-interval".into(),
            "0".into(),
        ],
        env: vec![
            ("PATH".into(), path_with(dir.path())),
            // The credential's own debug line must redact it too.
            ("CATALOG_LOG".into(), "info,catalog_ingest=debug".into()),
        ],
        ..ServerOpts::default()
    })
    .unwrap();

    let digest = push_version(&host, "vault/app", "1.0.0", "f00dcafe", (USER, PASSWORD));
    let version = wait_version(&server, "vault/app", "1.0.0");
    assert_eq!(
        version,
        json!({"version": "1.0.0", "digest": digest, "revision": "f00dcafe"})
    );
    let parked = server.query(PARKED, json!({})).unwrap();
    assert_eq!(parked["inbox"]["edges"], json!([]), "{parked}");

    // Asked twice with the server URL on stdin: the stale answer, then the refresh. The
    // good answer is cached for the manifest, config and referrers reads that followed.
    let asked = std::fs::read_to_string(dir.path().join("asked")).unwrap();
    assert_eq!(
        asked.lines().collect::<Vec<_>>(),
        [host.as_str(), host.as_str()]
    );
    assert!(!dir.path().join("store-asked").exists());

    let log = server.log();
    assert!(
        log.contains("registry answered 401; looking the credential up again"),
        "{log}"
    );
    assert!(log.contains("docker-credential-catalogtest"), "{log}");
    for secret in [PASSWORD, STALE, STORE_PASSWORD] {
        assert!(!log.contains(secret), "{secret} is in the log:\n{log}");
    }
    drop(registry);
}

#[test]
fn auths_and_creds_store_give_credentials() {
    const USER_A: &str = "auths-bot";
    const PASSWORD_A: &str = "pw-auths-T4wE8rUy2";
    const USER_B: &str = "store-bot";
    const PASSWORD_B: &str = "pw-store-G6nM1sAq3";
    let catalog_port = free_port().unwrap();
    let hook = format!("http://127.0.0.1:{catalog_port}/hooks/distribution");
    let a = Registry::start_auth(&[(&hook, INGEST_TOKEN)], USER_A, PASSWORD_A).unwrap();
    let b = Registry::start_auth(&[(&hook, INGEST_TOKEN)], USER_B, PASSWORD_B).unwrap();
    let (host_a, host_b) = (a.host(), b.host());

    // The store knows registry B only; for A it answers as Docker's helpers do, and the
    // catalog goes on to `auths`, filed (as `docker login` may) under a URL.
    let dir = TempDir::new("catalog-helpers").unwrap();
    helper(
        dir.path(),
        "catalogstore",
        &format!(
            r#"url=$(cat)
if [ "$url" = "{host_b}" ]; then
  printf '{{"ServerURL":"%s","Username":"{USER_B}","Secret":"{PASSWORD_B}"}}' "$url"
else
  echo "credentials not found in native keychain"
  exit 1
fi
"#
        ),
    );
    std::fs::write(
        dir.path().join("config.json"),
        json!({
            "auths": {
                format!("http://{host_a}/v1/"): {"auth": auth_field(USER_A, PASSWORD_A)},
                host_b.as_str(): {},
            },
            "credsStore": "catalogstore",
        })
        .to_string(),
    )
    .unwrap();

    // DOCKER_CONFIG names the directory, as Docker defines it.
    let server = CatalogServer::start(ServerOpts {
        port: Some(catalog_port),
        registries: vec![format!("http://{host_a}"), format!("http://{host_b}")],
        extra_args: vec!["--reconcile-interval".into(), "0".into()],
        env: vec![
            ("PATH".into(), path_with(dir.path())),
            ("DOCKER_CONFIG".into(), dir.path().display().to_string()),
        ],
        ..ServerOpts::default()
    })
    .unwrap();

    let da = push_version(&host_a, "team/a", "1.0.0", "aaaa1111", (USER_A, PASSWORD_A));
    let db = push_version(&host_b, "team/b", "2.0.0", "bbbb2222", (USER_B, PASSWORD_B));
    assert_eq!(
        wait_version(&server, "team/a", "1.0.0")["digest"],
        da.as_str()
    );
    assert_eq!(
        wait_version(&server, "team/b", "2.0.0")["digest"],
        db.as_str()
    );
    let parked = server.query(PARKED, json!({})).unwrap();
    assert_eq!(parked["inbox"]["edges"], json!([]), "{parked}");

    let log = server.log();
    for secret in [PASSWORD_A, PASSWORD_B] {
        assert!(!log.contains(secret), "{secret} is in the log:\n{log}");
    }
    drop((a, b));
}
