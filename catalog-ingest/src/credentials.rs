//! Registry credentials kept the way container tools keep them: Docker's `config.json`
//! (`auths`, `credsStore`, `credHelpers`) and credential helpers speaking the
//! docker-credential-helpers protocol (`docker-credential-<name> get`).
//!
//! Owns the lookup order and Docker's host-key rules. It must never print a secret: Debug
//! impls redact, errors name the file, host and helper, and a helper's stdout (which carries
//! the secret) is parsed, never logged or quoted.

use base64::Engine;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long a credential helper may take before it is killed (ECR's and GCR's helpers call
/// a cloud API, so seconds are normal; a minute is a hung helper).
pub const HELPER_TIMEOUT: Duration = Duration::from_secs(30);

/// The key Docker files Docker Hub's credentials under, and the server URL its helpers get.
const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

/// What a helper's username says when the secret is an identity (refresh) token.
const TOKEN_USERNAME: &str = "<token>";

/// The username ACR (the registry that hands out identity tokens, via `az acr login`)
/// expects beside a refresh token sent as a password.
const IDENTITY_TOKEN_USER: &str = "00000000-0000-0000-0000-000000000000";

/// A registry credential. Debug prints the username only.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    Basic {
        username: String,
        password: String,
    },
    /// An OAuth2 refresh token (`identitytoken`, or a helper's `<token>` username), with the
    /// username stored beside it if any.
    IdentityToken {
        username: Option<String>,
        token: String,
    },
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
            Credential::IdentityToken { username, .. } => f
                .debug_struct("IdentityToken")
                .field("username", username)
                .field("token", &"<redacted>")
                .finish(),
        }
    }
}

impl Credential {
    /// The username and password sent to the registry (or its token endpoint) in HTTP Basic
    /// auth. An identity token goes as ACR takes it: the password of the null-GUID user.
    pub fn basic(&self) -> (String, String) {
        match self {
            Credential::Basic { username, password } => (username.clone(), password.clone()),
            Credential::IdentityToken { username, token } => (
                username
                    .clone()
                    .filter(|u| !u.is_empty() && u != TOKEN_USERNAME)
                    .unwrap_or_else(|| IDENTITY_TOKEN_USER.to_string()),
                token.clone(),
            ),
        }
    }
}

/// Where a credential came from, named in logs and errors (never the secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// `docker-credential-<name>`, from `credHelpers` or `credsStore`.
    Helper(String),
    /// An `auths` entry of this config file.
    File(PathBuf),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Helper(name) => write!(f, "credential helper docker-credential-{name}"),
            Origin::File(p) => write!(f, "the auths of {}", p.display()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("docker config {path}: {reason}")]
    Config { path: PathBuf, reason: String },
    #[error("docker config {path}: auths[{key:?}]: {reason}")]
    Entry {
        path: PathBuf,
        key: String,
        reason: String,
    },
    /// The helper's own output is left out on purpose: on success it is the secret.
    #[error("credential helper docker-credential-{helper} for registry {host}: {reason} (try `printf {server_url} | docker-credential-{helper} get`)")]
    Helper {
        helper: String,
        host: String,
        server_url: String,
        reason: String,
    },
}

/// One `auths` entry as Docker writes it.
#[derive(Deserialize, Default)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ConfigFile {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default)]
    creds_store: Option<String>,
    #[serde(default)]
    cred_helpers: BTreeMap<String, String>,
}

/// Docker's `config.json`, read afresh for every lookup: a mounted Kubernetes secret or a
/// sidecar that rewrites the file is seen on the next credential refresh.
#[derive(Debug, Clone)]
pub struct DockerConfig {
    path: PathBuf,
}

impl DockerConfig {
    /// The file Docker would use: `explicit` (a config.json, or a directory holding one),
    /// else `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json` when it exists.
    /// An explicitly named file must exist and parse.
    pub fn locate(explicit: Option<&Path>) -> Result<Option<DockerConfig>, CredentialError> {
        let named = explicit.map(Path::to_path_buf).or_else(|| {
            std::env::var_os("DOCKER_CONFIG")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        });
        let path = match named {
            Some(p) if p.is_dir() => p.join("config.json"),
            Some(p) => p,
            None => match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
                Some(home) => {
                    let p = Path::new(&home).join(".docker").join("config.json");
                    if !p.is_file() {
                        return Ok(None);
                    }
                    p
                }
                None => return Ok(None),
            },
        };
        let config = DockerConfig { path };
        config.read()?;
        Ok(Some(config))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(&self) -> Result<ConfigFile, CredentialError> {
        let bytes = std::fs::read(&self.path).map_err(|e| CredentialError::Config {
            path: self.path.clone(),
            reason: format!("cannot read it: {e}"),
        })?;
        // serde_json's message names the line and column, never the value.
        serde_json::from_slice(&bytes).map_err(|e| CredentialError::Config {
            path: self.path.clone(),
            reason: format!("not Docker's config.json: {e}"),
        })
    }

    /// The credential for `host` (`host[:port]`): `credHelpers[host]` first, then `credsStore`,
    /// then `auths`. Runs a helper when one is named: call it off the async threads.
    pub fn lookup(&self, host: &str) -> Result<Option<(Credential, Origin)>, CredentialError> {
        let file = self.read()?;
        let want = canonical_host(host);
        let helper = file
            .cred_helpers
            .iter()
            .find(|(k, _)| canonical_host(&key_host(k)) == want)
            .map(|(_, v)| v.clone())
            .or_else(|| file.creds_store.clone())
            .filter(|h| !h.is_empty());
        if let Some(name) = helper {
            if let Some(c) = run_helper(&name, host, HELPER_TIMEOUT)? {
                return Ok(Some((c, Origin::Helper(name))));
            }
        }
        // Docker's own rule: the exact key first, then any key whose host matches.
        let exact = server_url(host);
        let entry = file
            .auths
            .get(&exact)
            .map(|e| (exact.clone(), e))
            .or_else(|| {
                file.auths
                    .iter()
                    .find(|(k, _)| canonical_host(&key_host(k)) == want)
                    .map(|(k, e)| (k.clone(), e))
            });
        let Some((key, entry)) = entry else {
            return Ok(None);
        };
        Ok(self
            .entry_credential(&key, entry)?
            .map(|c| (c, Origin::File(self.path.clone()))))
    }

    fn entry_credential(
        &self,
        key: &str,
        e: &AuthEntry,
    ) -> Result<Option<Credential>, CredentialError> {
        let bad = |reason: &str| CredentialError::Entry {
            path: self.path.clone(),
            key: key.to_string(),
            reason: reason.to_string(),
        };
        let (mut username, mut password) = (e.username.clone(), e.password.clone());
        if let Some(auth) = e.auth.as_deref().filter(|a| !a.is_empty()) {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(auth.trim())
                .map_err(|_| bad("auth is not base64"))?;
            let decoded =
                String::from_utf8(decoded).map_err(|_| bad("auth is not base64 of UTF-8 text"))?;
            let (u, p) = decoded
                .split_once(':')
                .ok_or_else(|| bad("auth is not base64 of user:password"))?;
            username = Some(u.to_string());
            password = Some(p.to_string());
        }
        if let Some(token) = e.identitytoken.clone().filter(|t| !t.is_empty()) {
            return Ok(Some(Credential::IdentityToken { username, token }));
        }
        Ok(match (username, password) {
            (Some(username), Some(password)) if !username.is_empty() => {
                Some(Credential::Basic { username, password })
            }
            // `{}` is what Docker writes beside a credsStore: the store holds the secret.
            _ => None,
        })
    }
}

/// Docker Hub answers to several names; Docker files them all under one key.
fn canonical_host(host: &str) -> String {
    let h = host.to_ascii_lowercase();
    match h.as_str() {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            "docker.io".to_string()
        }
        _ => h,
    }
}

/// The host of a config key: keys may be `host`, `https://host`, `https://host/v1/`.
fn key_host(key: &str) -> String {
    let rest = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    rest.split('/').next().unwrap_or(rest).to_string()
}

/// What Docker sends a helper on stdin (and files `auths` under) for a registry.
pub fn server_url(host: &str) -> String {
    if canonical_host(host) == "docker.io" {
        DOCKER_HUB_KEY.to_string()
    } else {
        host.to_string()
    }
}

#[derive(Deserialize)]
struct HelperAnswer {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

/// Runs `docker-credential-<name> get` with the server URL on stdin, killing it after
/// `timeout`. `Ok(None)` when the helper says it holds no credentials for that server.
pub fn run_helper(
    name: &str,
    host: &str,
    timeout: Duration,
) -> Result<Option<Credential>, CredentialError> {
    let url = server_url(host);
    let fail = |reason: String| CredentialError::Helper {
        helper: name.to_string(),
        host: host.to_string(),
        server_url: url.clone(),
        reason,
    };
    if name.is_empty() || name.contains(['/', '\\']) {
        return Err(fail("not a helper name".into()));
    }
    let mut child = Command::new(format!("docker-credential-{name}"))
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => fail("not found on PATH".into()),
            _ => fail(format!("cannot start it: {e}")),
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading stdin is judged by its exit status below.
        let _ = stdin.write_all(url.as_bytes());
    }
    // Read stdout on its own thread so a chatty helper cannot block on a full pipe.
    let reader = child.stdout.take().map(|out| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = out.take(1 << 20).read_to_end(&mut buf);
            buf
        })
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(fail(format!(
                    "no answer within {}s; killed",
                    timeout.as_secs()
                )));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(fail(format!("cannot wait for it: {e}"))),
        }
    };
    let out = reader.and_then(|r| r.join().ok()).unwrap_or_default();
    if !status.success() {
        // The protocol's one error that is an answer; it comes on stdout.
        if String::from_utf8_lossy(&out).contains("credentials not found") {
            return Ok(None);
        }
        return Err(fail(format!("failed ({status})")));
    }
    let answer: HelperAnswer = serde_json::from_slice(&out)
        .map_err(|_| fail("answered something other than {\"Username\",\"Secret\"} JSON".into()))?;
    if answer.secret.is_empty() {
        return Ok(None);
    }
    Ok(Some(if answer.username == TOKEN_USERNAME {
        Credential::IdentityToken {
            username: None,
            token: answer.secret,
        }
    } else {
        Credential::Basic {
            username: answer.username,
            password: answer.secret,
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, body: &str) -> DockerConfig {
        std::fs::create_dir_all(dir).unwrap();
        let path = dir.join("config.json");
        std::fs::write(&path, body).unwrap();
        DockerConfig { path }
    }

    fn tmp(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("catalog-creds-{}-{name}", std::process::id()))
    }

    #[test]
    fn auths_follow_dockers_key_rules() {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let cfg = write(
            &tmp("auths"),
            &serde_json::json!({"auths": {
                "https://index.docker.io/v1/": {"auth": b64("hubuser:hub-secret")},
                "https://ghcr.io": {"username": "gh", "password": "gh-secret"},
                "quay.io/v1/": {"auth": b64("q:colon:in:password")},
                "myregistry.azurecr.io": {"auth": b64("00000000-0000-0000-0000-000000000000:"), "identitytoken": "refresh-secret"},
                "empty.example": {}
            }})
            .to_string(),
        );
        let basic = |h: &str| cfg.lookup(h).unwrap().map(|(c, _)| c.basic());
        let pair = |u: &str, p: &str| Some((u.to_string(), p.to_string()));
        for hub in ["docker.io", "index.docker.io", "registry-1.docker.io"] {
            assert_eq!(basic(hub), pair("hubuser", "hub-secret"), "{hub}");
        }
        assert_eq!(basic("ghcr.io"), pair("gh", "gh-secret"));
        assert_eq!(basic("quay.io"), pair("q", "colon:in:password"));
        assert_eq!(
            basic("myregistry.azurecr.io"),
            pair("00000000-0000-0000-0000-000000000000", "refresh-secret")
        );
        assert_eq!(basic("empty.example"), None);
        assert_eq!(basic("other.example"), None);
        let (c, origin) = cfg.lookup("ghcr.io").unwrap().unwrap();
        assert_eq!(origin, Origin::File(cfg.path.clone()));
        assert!(!format!("{c:?}").contains("gh-secret"));
        let _ = std::fs::remove_dir_all(tmp("auths"));
    }

    #[test]
    fn bad_config_names_file_and_entry_not_secret() {
        let cfg = write(
            &tmp("bad"),
            r#"{"auths": {"r.example": {"auth": "not base64 SECRET!"}}}"#,
        );
        let e = cfg.lookup("r.example").unwrap_err().to_string();
        assert!(
            e.contains("auths[\"r.example\"]: auth is not base64"),
            "{e}"
        );
        assert!(!e.contains("SECRET"), "{e}");
        let cfg = write(&tmp("bad"), r#"{"auths": ["#);
        let e = cfg.lookup("r.example").unwrap_err().to_string();
        assert!(e.contains("not Docker's config.json"), "{e}");
        assert!(DockerConfig::locate(Some(&tmp("missing").join("config.json"))).is_err());
        let _ = std::fs::remove_dir_all(tmp("bad"));
    }

    #[test]
    fn missing_helper_is_named() {
        let e = run_helper("catalog-test-no-such-helper", "r.example", HELPER_TIMEOUT)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("credential helper docker-credential-catalog-test-no-such-helper for registry r.example: not found on PATH"),
            "{e}"
        );
    }
}
