//! Secrets stay secret at the edges: `--help` does not print the values of secret-carrying
//! variables, errors about a bad `--registry` or database URL mask the password, and the
//! bootstrap admin token file is created owner-only, never through a symbolic link, never
//! into a file others can read.

use catalog_tests::registry::TempDir;
use catalog_tests::server::{binary, free_port};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const DB_PASSWORD: &str = "s3cret-db-pw";
const REGISTRY_PASSWORD: &str = "hunter2-registry-pw";

fn catalog(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(binary().unwrap());
    cmd.args(args)
        .env_remove("CATALOG_DATABASE_URL")
        .env_remove("CATALOG_REGISTRIES")
        .envs(env.iter().copied())
        .stdin(Stdio::null());
    cmd.output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn help_and_errors_do_not_print_passwords() {
    // A PostgreSQL URL libpq cannot parse: its message quotes the URL whole. The pool retries
    // for its connection timeout (15 s), so this runs beside the rest.
    let bad_db = format!("postgres://catalog:{DB_PASSWORD}@[::1/catalog");
    let migrate = Command::new(binary().unwrap())
        .args(["migrate", "--database-url", &bad_db])
        .env_remove("CATALOG_DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    let db_url = format!("postgres://catalog:{DB_PASSWORD}@127.0.0.1:1/catalog");
    let registries = format!("https://bot:{REGISTRY_PASSWORD}@ghcr.io");
    let env = [
        ("CATALOG_DATABASE_URL", db_url.as_str()),
        ("CATALOG_REGISTRIES", registries.as_str()),
        ("CATALOG_PRIMARY_URL", "https://admin:primary-pw-77@primary"),
        ("CATALOG_INGEST_TOKEN", "ingest-token-secret-1"),
    ];
    for cmd in [
        &["serve", "--help"][..],
        &["worker", "--help"],
        &["migrate", "--help"],
    ] {
        let out = text(&catalog(cmd, &env));
        assert!(out.contains("CATALOG_DATABASE_URL"), "{cmd:?}: {out}");
        for secret in [
            DB_PASSWORD,
            REGISTRY_PASSWORD,
            "primary-pw-77",
            "ingest-token-secret-1",
        ] {
            assert!(!out.contains(secret), "{cmd:?} prints {secret}:\n{out}");
        }
    }

    // A bad --registry (a path after the host), on the command line and in the variable.
    let bad = format!("https://bot:{REGISTRY_PASSWORD}@ghcr.io/not/a/host");
    let dir = TempDir::new("catalog-secrets").unwrap();
    let db = dir.path().join("catalog.db").display().to_string();
    for (args, env) in [
        (
            vec!["serve", "--database-url", &db, "--registry", &bad],
            vec![],
        ),
        (
            vec!["serve", "--database-url", &db],
            vec![("CATALOG_REGISTRIES", bad.as_str())],
        ),
    ] {
        let o = catalog(&args, &env);
        let out = text(&o);
        assert!(!o.status.success(), "{out}");
        assert!(out.contains("--registry"), "{out}");
        assert!(out.contains("bot:***@ghcr.io"), "{out}");
        assert!(!out.contains(REGISTRY_PASSWORD), "{out}");
    }

    // The database that cannot be opened: named with its password masked, in the error
    // and in what the pool logs while it retries.
    let o = migrate.wait_with_output().unwrap();
    let out = text(&o);
    assert!(!o.status.success(), "{out}");
    assert!(out.contains("catalog:***@"), "{out}");
    assert!(!out.contains(DB_PASSWORD), "{out}");
}

/// Starts `catalog serve` with no token configured (so it bootstraps one into `token`); returns
/// the child once it is ready, or its output if it exits first.
fn serve_bootstrapping(dir: &Path, token: &Path) -> Result<Child, String> {
    let port = free_port().unwrap();
    let mut child = Command::new(binary().unwrap())
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args([
            "--database-url",
            &dir.join("catalog.db").display().to_string(),
        ])
        .args(["--bootstrap-token-file", &token.display().to_string()])
        .env_remove("CATALOG_DATABASE_URL")
        .env_remove("CATALOG_INGEST_TOKEN")
        .env_remove("CATALOG_ADMIN_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("server.log")).unwrap())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(30) {
        if let Some(st) = child.try_wait().unwrap() {
            let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
            return Err(format!("exited {st}: {log}"));
        }
        let ready = std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
        if ready && token.exists() && std::fs::metadata(token).unwrap().len() > 0 {
            return Ok(child);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("catalog neither ready nor exited in 30 s")
}

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_bootstrap_token_file_is_owner_only_and_never_written_through_a_link() {
    // Created 0600.
    let d = TempDir::new("catalog-token").unwrap();
    let token = d.path().join("admin.token");
    let mut c = serve_bootstrapping(d.path(), &token).unwrap();
    let _ = c.kill();
    let _ = c.wait();
    assert_eq!(mode(&token), 0o600);

    // A file others can read is refused, and left as it was.
    let d = TempDir::new("catalog-token").unwrap();
    let token = d.path().join("admin.token");
    std::fs::write(&token, "old\n").unwrap();
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o644)).unwrap();
    let e = match serve_bootstrapping(d.path(), &token) {
        Ok(mut c) => {
            let _ = c.kill();
            panic!(
                "a bootstrap token went into a 0644 file (now {:o})",
                mode(&token)
            );
        }
        Err(e) => e,
    };
    assert!(e.contains("mode 0644") && e.contains("owner only"), "{e}");
    assert_eq!(std::fs::read_to_string(&token).unwrap(), "old\n");
    assert_eq!(mode(&token), 0o644);

    // A symbolic link is not followed.
    let d = TempDir::new("catalog-token").unwrap();
    let target = d.path().join("elsewhere");
    std::fs::write(&target, "theirs\n").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
    let token = d.path().join("admin.token");
    std::os::unix::fs::symlink(&target, &token).unwrap();
    let e = match serve_bootstrapping(d.path(), &token) {
        Ok(mut c) => {
            let _ = c.kill();
            panic!("a bootstrap token was written through a symbolic link");
        }
        Err(e) => e,
    };
    assert!(e.contains("symbolic link"), "{e}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "theirs\n");
}
