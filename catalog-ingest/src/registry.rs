//! The OCI registry client: which registries we know (and how to authenticate to each), and
//! the reads the worker and the reconcile loop need, through `oci-client` (rustls with ring).
//!
//! Credentials come from `--registry` (inline) or Docker's config.json and credential helpers
//! ([`crate::credentials`]). Those from a config or helper are cached between requests and
//! fetched again when the registry answers 401: once per read, then the read is retried once.
//!
//! Digests are content addresses: what a manifest or config says never changes, so callers
//! fetch an image once and never again.

use crate::credentials::{CredentialError, DockerConfig, Origin};
use catalog_core::model::ImageContent;
use catalog_core::Platform;
use chrono::{DateTime, Utc};
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

const ACCEPT: [&str; 4] = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

/// A registry the catalog may read from, parsed from `--registry`:
/// `[http|https]://[user[:password]@]host[:port]`. A password written `$NAME` is read from
/// the environment variable NAME, so it need not appear on a command line.
#[derive(Clone)]
pub struct RegistryConfig {
    pub host: String,
    pub insecure_http: bool,
    user: Option<String>,
    password: Option<String>,
}

impl std::fmt::Debug for RegistryConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryConfig")
            .field("host", &self.host)
            .field("insecure_http", &self.insecure_http)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

pub use catalog_core::redact::{redact_password, redact_password_in};

impl FromStr for RegistryConfig {
    type Err = String;

    fn from_str(s: &str) -> Result<RegistryConfig, String> {
        // Errors name the value with its password masked: they end up in terminals and logs.
        let shown = redact_password(s);
        let (insecure_http, rest) = match s.split_once("://") {
            Some(("http", r)) => (true, r),
            Some(("https", r)) => (false, r),
            Some((scheme, _)) => {
                return Err(format!(
                    "registry {shown:?}: scheme {scheme:?} is not http or https"
                ))
            }
            None => (false, s),
        };
        let rest = rest.trim_end_matches('/');
        let (creds, host) = match rest.rsplit_once('@') {
            Some((c, h)) => (Some(c), h),
            None => (None, rest),
        };
        if host.is_empty() || host.contains('/') {
            return Err(format!(
                "registry {shown:?}: expected [http[s]://][user:password@]host[:port]"
            ));
        }
        let (user, password) = match creds {
            None => (None, None),
            Some(c) => {
                let (u, p) = c.split_once(':').unwrap_or((c, ""));
                let p = match p.strip_prefix('$') {
                    Some(var) => std::env::var(var).map_err(|_| {
                        format!("registry {host}: password variable ${var} is not set")
                    })?,
                    None => p.to_string(),
                };
                (Some(u.to_string()), Some(p))
            }
        };
        Ok(RegistryConfig {
            // oci-client reaches `docker.io` at index.docker.io.
            host: catalog_core::identity::canonical_registry(host)
                .map_err(|e| format!("registry {shown:?}: {e}"))?,
            insecure_http,
            user,
            password,
        })
    }
}

impl RegistryConfig {
    /// The credentials written in the flag, if any.
    fn inline_auth(&self) -> Option<RegistryAuth> {
        match (&self.user, &self.password) {
            (Some(u), Some(p)) => Some(RegistryAuth::Basic(u.clone(), p.clone())),
            _ => None,
        }
    }

    /// How it prints in logs and `--help`: never the password.
    pub fn display(&self) -> String {
        let scheme = if self.insecure_http { "http" } else { "https" };
        match &self.user {
            Some(u) => format!("{scheme}://{u}:***@{}", self.host),
            None => format!("{scheme}://{}", self.host),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("registry {0} is not configured (add --registry http[s]://{0})")]
    Unknown(String),
    /// `hint` says where the refused credentials came from and what to do.
    #[error("registry {host} refused the credentials (HTTP 401, {url}): {hint}")]
    Unauthorized {
        host: String,
        url: String,
        hint: String,
    },
    #[error(transparent)]
    Credentials(#[from] CredentialError),
    #[error("{0}")]
    Oci(OciDistributionError),
    #[error("unexpected content: {0}")]
    Content(String),
}

impl RegistryError {
    /// The registry answered 4xx: it refuses the request itself (e.g. `_catalog` on GHCR,
    /// Docker Hub or ECR), not a transient failure.
    pub fn is_refusal(&self) -> bool {
        match self {
            RegistryError::Unauthorized { .. } => true,
            RegistryError::Oci(e) => match e {
                // oci-client makes an envelope only of a 4xx answer.
                OciDistributionError::RegistryError { .. } => true,
                OciDistributionError::ServerError { code, .. } => (400..500).contains(code),
                _ => false,
            },
            _ => false,
        }
    }

    /// The repository does not exist (any more): every manifest in it was deleted.
    pub fn is_name_unknown(&self) -> bool {
        use oci_client::errors::OciErrorCode as C;
        match self {
            RegistryError::Oci(OciDistributionError::RegistryError { envelope, .. }) => {
                envelope.errors.iter().any(|x| x.code == C::NameUnknown)
            }
            RegistryError::Oci(OciDistributionError::ServerError { code, .. }) => *code == 404,
            _ => false,
        }
    }
}

/// How a registry's reads authenticate.
enum Source {
    /// From the flag (or anonymous): fixed, so a 401 is final.
    Fixed(Option<RegistryAuth>),
    /// From Docker's config.json or a helper it names: looked up when first needed, cached,
    /// and looked up again after a 401.
    Docker(DockerConfig),
}

/// The client and credential reads use now. A fresh client per credential: oci-client keeps
/// the first credential it sees per registry (`store_auth_if_needed`) and caches Basic
/// credentials per repository for ever, so only a new client really sends a new one.
#[derive(Clone)]
struct Current {
    client: Client,
    auth: RegistryAuth,
    origin: Option<Origin>,
    /// Bumped by each lookup, so concurrent reads refused with the same credential look it
    /// up again once between them.
    generation: u64,
}

struct Entry {
    config: RegistryConfig,
    source: Source,
    current: tokio::sync::Mutex<Option<Current>>,
}

impl Entry {
    fn client(&self) -> Client {
        Client::new(ClientConfig {
            protocol: if self.config.insecure_http {
                ClientProtocol::Http
            } else {
                ClientProtocol::Https
            },
            connect_timeout: Some(Duration::from_secs(5)),
            read_timeout: Some(Duration::from_secs(30)),
            platform_resolver: None,
            ..ClientConfig::default()
        })
    }

    /// The cached client and credential, looked up first if there is none (or `stale`, the
    /// generation a registry refused, is still the cached one).
    async fn current(&self, stale: Option<u64>) -> Result<Current, RegistryError> {
        let mut slot = self.current.lock().await;
        if let Some(c) = slot.as_ref() {
            if stale != Some(c.generation) {
                return Ok(c.clone());
            }
        }
        let generation = slot.as_ref().map_or(0, |c| c.generation + 1);
        let (auth, origin) = match &self.source {
            Source::Fixed(auth) => (auth.clone().unwrap_or(RegistryAuth::Anonymous), None),
            Source::Docker(config) => {
                let (config, host) = (config.clone(), self.config.host.clone());
                // A helper is a child process that may take seconds: off the async threads.
                let found = tokio::task::spawn_blocking(move || config.lookup(&host))
                    .await
                    .map_err(|e| RegistryError::Content(format!("credential lookup: {e}")))??;
                match found {
                    Some((cred, origin)) => {
                        tracing::debug!(registry = %self.config.host, credential = ?cred, from = %origin, "registry credential looked up");
                        let (u, p) = cred.basic();
                        (RegistryAuth::Basic(u, p), Some(origin))
                    }
                    None => (RegistryAuth::Anonymous, None),
                }
            }
        };
        let c = Current {
            client: self.client(),
            auth,
            origin,
            generation,
        };
        *slot = Some(c.clone());
        Ok(c)
    }

    /// What to say when the registry refuses `current`'s credential.
    fn hint(&self, current: &Current, refreshed: bool) -> String {
        let host = &self.config.host;
        match (&current.origin, &self.source) {
            (Some(origin), _) if refreshed => format!("from {origin}, also when fetched again"),
            (Some(origin), _) => format!("from {origin}"),
            (None, Source::Fixed(Some(_))) => {
                format!("check the user and password given with --registry for {host}")
            }
            (None, Source::Fixed(None)) => format!(
                "give them with --registry http[s]://user:$PASSWORD_VAR@{host} or in Docker's config.json (--docker-config)"
            ),
            (None, Source::Docker(c)) => format!(
                "give them with --registry http[s]://user:$PASSWORD_VAR@{host}, or in {} (auths, credsStore or credHelpers[{host:?}])",
                c.path().display()
            ),
        }
    }

    fn error(&self, current: &Current, refreshed: bool, e: OciDistributionError) -> RegistryError {
        match e {
            // oci-client drops the registry's 401 body; name the source and the fix instead.
            OciDistributionError::UnauthorizedError { url } => RegistryError::Unauthorized {
                host: self.config.host.clone(),
                url,
                hint: self.hint(current, refreshed),
            },
            other => RegistryError::Oci(other),
        }
    }
}

/// The configured registries, each with its own credential source and client.
pub struct Registries {
    entries: HashMap<String, Entry>,
}

impl Registries {
    /// Registries with the credentials of their flags only.
    pub fn new(configs: &[RegistryConfig]) -> Registries {
        Registries::with_docker_config(configs, None)
    }

    /// Registries whose flags carry no credentials take them from `docker` (config.json and
    /// the helpers it names) when given.
    pub fn with_docker_config(
        configs: &[RegistryConfig],
        docker: Option<&DockerConfig>,
    ) -> Registries {
        // reqwest is built without a default crypto provider: ring is ours (no aws-lc, no OpenSSL).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let entries = configs
            .iter()
            .map(|c| {
                let source = match (c.inline_auth(), docker) {
                    (None, Some(d)) => Source::Docker(d.clone()),
                    (auth, _) => Source::Fixed(auth),
                };
                let entry = Entry {
                    config: c.clone(),
                    source,
                    current: tokio::sync::Mutex::new(None),
                };
                (c.host.clone(), entry)
            })
            .collect();
        Registries { entries }
    }

    pub fn hosts(&self) -> Vec<String> {
        let mut h: Vec<String> = self.entries.keys().cloned().collect();
        h.sort();
        h
    }

    pub fn is_configured(&self, host: &str) -> bool {
        self.entries.contains_key(host)
    }

    fn entry(&self, host: &str) -> Result<&Entry, RegistryError> {
        self.entries
            .get(host)
            .ok_or_else(|| RegistryError::Unknown(host.to_string()))
    }

    /// One read with the cached client and credential. When the registry answers 401 to a
    /// credential from a config or helper, the credential is looked up again (once) and the
    /// read retried (once).
    async fn read<T, F, Fut>(&self, host: &str, op: F) -> Result<T, RegistryError>
    where
        F: Fn(Client, RegistryAuth) -> Fut,
        Fut: Future<Output = Result<T, OciDistributionError>>,
    {
        self.read_with(host, true, op).await
    }

    async fn read_with<T, F, Fut>(
        &self,
        host: &str,
        refresh: bool,
        op: F,
    ) -> Result<T, RegistryError>
    where
        F: Fn(Client, RegistryAuth) -> Fut,
        Fut: Future<Output = Result<T, OciDistributionError>>,
    {
        let entry = self.entry(host)?;
        let first = entry.current(None).await?;
        let e = match op(first.client.clone(), first.auth.clone()).await {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        let unauthorized = matches!(e, OciDistributionError::UnauthorizedError { .. });
        if !(refresh && unauthorized && matches!(entry.source, Source::Docker(_))) {
            return Err(entry.error(&first, false, e));
        }
        tracing::info!(registry = %host, from = %first.origin.as_ref().map_or("no credential".to_string(), ToString::to_string), "registry answered 401; looking the credential up again");
        let again = entry.current(Some(first.generation)).await?;
        op(again.client.clone(), again.auth.clone())
            .await
            .map_err(|e| entry.error(&again, true, e))
    }

    async fn manifest(
        &self,
        host: &str,
        repo: &str,
        digest: &str,
    ) -> Result<(Value, usize), RegistryError> {
        let r = Reference::with_digest(host.to_string(), repo.to_string(), digest.to_string());
        let (bytes, _) = self
            .read(host, |client, auth| {
                let r = r.clone();
                async move { client.pull_manifest_raw(&r, &auth, &ACCEPT).await }
            })
            .await?;
        let v: Value = serde_json::from_slice(&bytes)
            .map_err(|e| RegistryError::Content(format!("manifest {digest} is not JSON: {e}")))?;
        Ok((v, bytes.len()))
    }

    async fn config(&self, host: &str, repo: &str, digest: &str) -> Result<Value, RegistryError> {
        let buf = self.blob(host, repo, digest).await?;
        serde_json::from_slice(&buf)
            .map_err(|e| RegistryError::Content(format!("config {digest} is not JSON: {e}")))
    }

    /// Fetches the manifest (or index, and each platform's manifest) and the config blob(s).
    pub async fn fetch_image(
        &self,
        host: &str,
        repo: &str,
        digest: &str,
    ) -> Result<ImageContent, RegistryError> {
        let (m, size) = self.manifest(host, repo, digest).await?;
        let media_type = m
            .get("mediaType")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| {
                if m.get("manifests").is_some() {
                    ACCEPT[1].to_string()
                } else {
                    ACCEPT[0].to_string()
                }
            });
        if let Some(children) = m.get("manifests").and_then(Value::as_array) {
            let mut platforms = Vec::new();
            for child in children {
                let Some(p) = child.get("platform") else {
                    continue;
                };
                let os = p.get("os").and_then(Value::as_str).unwrap_or("unknown");
                // BuildKit attestations sit in indexes as platform unknown/unknown.
                if os == "unknown" {
                    continue;
                }
                let Some(d) = child.get("digest").and_then(Value::as_str) else {
                    continue;
                };
                platforms.push(Platform {
                    os: os.to_string(),
                    architecture: p
                        .get("architecture")
                        .and_then(Value::as_str)
                        .unwrap_or("unknown")
                        .to_string(),
                    variant: p.get("variant").and_then(Value::as_str).map(str::to_string),
                    digest: d.to_string(),
                });
            }
            // Labels and creation time from one platform's config: linux/amd64 when present.
            let pick = platforms
                .iter()
                .find(|p| p.os == "linux" && p.architecture == "amd64")
                .or(platforms.first())
                .map(|p| p.digest.clone());
            let (labels, created) = match pick {
                Some(child) => {
                    let (cm, _) = self.manifest(host, repo, &child).await?;
                    let cfg = self.config(host, repo, config_digest(&cm, &child)?).await?;
                    labels_and_created(&cfg)
                }
                None => (BTreeMap::new(), None),
            };
            return Ok(ImageContent {
                media_type,
                size: size as i64,
                platforms,
                labels,
                created,
            });
        }
        let cfg = self.config(host, repo, config_digest(&m, digest)?).await?;
        let (labels, created) = labels_and_created(&cfg);
        let platform = Platform {
            os: cfg
                .get("os")
                .and_then(Value::as_str)
                .unwrap_or("unknown")
                .to_string(),
            architecture: cfg
                .get("architecture")
                .and_then(Value::as_str)
                .unwrap_or("unknown")
                .to_string(),
            variant: cfg
                .get("variant")
                .and_then(Value::as_str)
                .map(str::to_string),
            digest: digest.to_string(),
        };
        Ok(ImageContent {
            media_type,
            size: size as i64,
            platforms: vec![platform],
            labels,
            created,
        })
    }

    /// What a tag points at now.
    pub async fn resolve_tag(
        &self,
        host: &str,
        repo: &str,
        tag: &str,
    ) -> Result<String, RegistryError> {
        let r = Reference::with_tag(host.to_string(), repo.to_string(), tag.to_string());
        self.read(host, |client, auth| {
            let r = r.clone();
            async move { client.fetch_manifest_digest(&r, &auth).await }
        })
        .await
    }

    /// Every repository, following `_catalog` pagination. A 401 here refreshes nothing:
    /// registries that serve no `_catalog` (Docker Hub) answer 401 to good credentials.
    pub async fn repositories(&self, host: &str) -> Result<Vec<String>, RegistryError> {
        let r = Reference::with_tag(
            host.to_string(),
            "library/x".to_string(),
            "latest".to_string(),
        );
        let mut out: Vec<String> = Vec::new();
        loop {
            let last = out.last().cloned();
            let page = self
                .read_with(host, false, |client, auth| {
                    let (r, last) = (r.clone(), last.clone());
                    async move { client.catalog(&r, &auth, Some(500), last.as_deref()).await }
                })
                .await?;
            let n = page.repositories.len();
            out.extend(page.repositories);
            if n < 500 {
                return Ok(out);
            }
        }
    }

    /// Every tag of a repository, following `tags/list` pagination.
    pub async fn tags(&self, host: &str, repo: &str) -> Result<Vec<String>, RegistryError> {
        let r = Reference::with_tag(host.to_string(), repo.to_string(), "latest".to_string());
        let mut out: Vec<String> = Vec::new();
        loop {
            let last = out.last().cloned();
            let page = self
                .read(host, |client, auth| {
                    let (r, last) = (r.clone(), last.clone());
                    async move {
                        client
                            .list_tags(&r, &auth, Some(500), last.as_deref())
                            .await
                    }
                })
                .await?;
            let n = page.tags.len();
            out.extend(page.tags);
            if n < 500 {
                return Ok(out);
            }
        }
    }
}

/// Media types of SBOM documents stored in a registry (as an artifact type, a config type or
/// a layer type); cosign's `.sbom` tags use the `text/` spellings.
pub const SBOM_MEDIA_TYPES: [&str; 6] = [
    "application/vnd.cyclonedx+json",
    "application/spdx+json",
    "text/spdx+json",
    "application/vnd.cyclonedx",
    // VEX documents, found the same way and told apart by their content.
    "application/openvex+json",
    "application/vnd.openvex+json",
];

/// The layer type of an in-toto attestation (cosign `.att` tags, BuildKit attestations).
pub const DSSE_MEDIA_TYPE: &str = "application/vnd.dsse.envelope.v1+json";

fn is_sbom_type(t: &str) -> bool {
    let essence = t.split(';').next().unwrap_or("").trim();
    SBOM_MEDIA_TYPES.contains(&essence)
}

/// A document found in a registry, and how it was found (`referrers` or `tag`).
#[derive(Debug, Clone)]
pub struct FoundDocument {
    pub bytes: Vec<u8>,
    pub via: &'static str,
    /// Where it came from, for logs: `repo@sha256:...`.
    pub location: String,
}

/// The subject image of an artifact tag: `sha256-<hex>` (the OCI referrers tag schema) or
/// `sha256-<hex>.sbom` / `.att` / `.vex` (cosign's convention). Such tags hold SBOMs, VEX and signatures
/// about an image, not images.
pub fn artifact_tag_subject(tag: &str) -> Option<String> {
    let rest = tag.strip_prefix("sha256-")?;
    let hex = rest
        .strip_suffix(".sbom")
        .or_else(|| rest.strip_suffix(".att"))
        .or_else(|| rest.strip_suffix(".vex"))
        .or_else(|| rest.strip_suffix(".sig"))
        .unwrap_or(rest);
    (hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .then(|| format!("sha256:{hex}"))
}

fn is_not_found(e: &RegistryError) -> bool {
    use oci_client::errors::{OciDistributionError as E, OciErrorCode as C};
    let RegistryError::Oci(e) = e else {
        return false;
    };
    match e {
        E::ImageManifestNotFoundError(_) => true,
        E::ServerError { code, .. } => *code == 404,
        E::RegistryError { envelope, .. } => envelope.errors.iter().any(|x| {
            matches!(
                x.code,
                C::ManifestUnknown | C::NameUnknown | C::BlobUnknown | C::NotFound
            )
        }),
        _ => false,
    }
}

impl Registries {
    async fn blob(&self, host: &str, repo: &str, digest: &str) -> Result<Vec<u8>, RegistryError> {
        let r = Reference::with_digest(host.to_string(), repo.to_string(), digest.to_string());
        self.read(host, |client, auth| {
            let r = r.clone();
            async move {
                // pull_blob takes no credential: it uses the one stored for the registry.
                client
                    .store_auth_if_needed(r.resolve_registry(), &auth)
                    .await;
                let mut buf: Vec<u8> = Vec::new();
                client.pull_blob(&r, digest, &mut buf).await?;
                Ok(buf)
            }
        })
        .await
    }

    /// The SBOM (and attestation) layers of one artifact manifest.
    async fn documents_of(
        &self,
        host: &str,
        repo: &str,
        manifest: &Value,
        via: &'static str,
        out: &mut Vec<FoundDocument>,
    ) -> Result<(), RegistryError> {
        let str_at = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        // An artifact that says it is an SBOM (artifactType, or the config type older tools
        // use) holds the document in its layers whatever their type.
        let whole = str_at(manifest, "artifactType").is_some_and(|t| is_sbom_type(&t))
            || manifest
                .get("config")
                .and_then(|c| str_at(c, "mediaType"))
                .is_some_and(|t| is_sbom_type(&t));
        for layer in manifest
            .get("layers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let mt = str_at(layer, "mediaType").unwrap_or_default();
            if !(whole || is_sbom_type(&mt) || mt == DSSE_MEDIA_TYPE) {
                continue;
            }
            let Some(d) = str_at(layer, "digest") else {
                continue;
            };
            let bytes = self.blob(host, repo, &d).await?;
            out.push(FoundDocument {
                bytes,
                via,
                location: format!("{repo}@{d}"),
            });
        }
        Ok(())
    }

    /// The SBOM documents under an artifact tag ([`artifact_tag_subject`]): a referrers
    /// index (each SBOM-typed entry's layers) or a cosign manifest (its SBOM layers). A tag
    /// that does not exist holds nothing.
    pub async fn sboms_at_tag(
        &self,
        host: &str,
        repo: &str,
        tag: &str,
    ) -> Result<Vec<FoundDocument>, RegistryError> {
        let r = Reference::with_tag(host.to_string(), repo.to_string(), tag.to_string());
        let found = self
            .read(host, |client, auth| {
                let r = r.clone();
                async move { client.pull_manifest_raw(&r, &auth, &ACCEPT).await }
            })
            .await;
        let bytes = match found {
            Ok((b, _)) => b,
            Err(e) if is_not_found(&e) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let m: Value = serde_json::from_slice(&bytes).map_err(|e| {
            RegistryError::Content(format!("manifest {repo}:{tag} is not JSON: {e}"))
        })?;
        let mut out = Vec::new();
        if let Some(entries) = m.get("manifests").and_then(Value::as_array) {
            for e in entries {
                let sbom = e
                    .get("artifactType")
                    .and_then(Value::as_str)
                    .is_some_and(is_sbom_type);
                if let (true, Some(d)) = (sbom, e.get("digest").and_then(Value::as_str)) {
                    let (child, _) = self.manifest(host, repo, d).await?;
                    self.documents_of(host, repo, &child, "referrers", &mut out)
                        .await?;
                }
            }
        } else {
            self.documents_of(host, repo, &m, "tag", &mut out).await?;
        }
        Ok(out)
    }

    /// Every SBOM the registry holds for an image: its referrers (the OCI referrers API, or
    /// the referrers tag schema where the registry lacks the API; oci-client falls back by
    /// itself), then cosign's `sha256-<hex>.sbom` and `.att` tags.
    pub async fn find_sboms(
        &self,
        host: &str,
        repo: &str,
        digest: &str,
    ) -> Result<Vec<FoundDocument>, RegistryError> {
        let r = Reference::with_digest(host.to_string(), repo.to_string(), digest.to_string());
        let mut out = Vec::new();
        let referrers = self
            .read(host, |client, auth| {
                let r = r.clone();
                async move {
                    // pull_referrers takes no credential: it uses the one stored for the registry.
                    client
                        .store_auth_if_needed(r.resolve_registry(), &auth)
                        .await;
                    client.pull_referrers(&r, None).await
                }
            })
            .await;
        match referrers {
            Ok(index) => {
                for e in index.manifests {
                    if e.artifact_type.as_deref().is_some_and(is_sbom_type) {
                        let (child, _) = self.manifest(host, repo, &e.digest).await?;
                        self.documents_of(host, repo, &child, "referrers", &mut out)
                            .await?;
                    }
                }
            }
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(e),
        }
        if out.is_empty() {
            let hex = digest.trim_start_matches("sha256:");
            for suffix in [".sbom", ".att", ".vex"] {
                out.extend(
                    self.sboms_at_tag(host, repo, &format!("sha256-{hex}{suffix}"))
                        .await?,
                );
            }
        }
        Ok(out)
    }
}

fn config_digest<'a>(manifest: &'a Value, digest: &str) -> Result<&'a str, RegistryError> {
    manifest
        .get("config")
        .and_then(|c| c.get("digest"))
        .and_then(Value::as_str)
        .ok_or_else(|| {
            RegistryError::Content(format!(
                "manifest {digest} has no config (schema 1 or an artifact?)"
            ))
        })
}

fn labels_and_created(cfg: &Value) -> (BTreeMap<String, String>, Option<DateTime<Utc>>) {
    let labels: BTreeMap<String, String> = cfg
        .get("config")
        .and_then(|c| c.get("Labels"))
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default();
    let parse = |s: &str| {
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|d| d.with_timezone(&Utc))
    };
    let created = labels
        .get(catalog_core::identity::labels::CREATED)
        .and_then(|s| parse(s))
        .or_else(|| cfg.get("created").and_then(Value::as_str).and_then(parse));
    (labels, created)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_flags_parse() {
        let r: RegistryConfig = "http://127.0.0.1:5000".parse().unwrap();
        assert!(r.insecure_http);
        assert_eq!(r.host, "127.0.0.1:5000");
        assert!(r.inline_auth().is_none());
        let r: RegistryConfig = "https://bot:s3cret@ghcr.io".parse().unwrap();
        assert!(!r.insecure_http);
        assert!(
            matches!(r.inline_auth(), Some(RegistryAuth::Basic(u, p)) if u == "bot" && p == "s3cret")
        );
        assert!(!format!("{r:?}").contains("s3cret"));
        assert!(!r.display().contains("s3cret"));
        assert!("ftp://x".parse::<RegistryConfig>().is_err());
        assert!("https://u:$CATALOG_TEST_UNSET_VAR@x"
            .parse::<RegistryConfig>()
            .is_err());
        assert_eq!("quay.io".parse::<RegistryConfig>().unwrap().host, "quay.io");
        for hub in [
            "https://registry-1.docker.io",
            "docker.io",
            "index.docker.io",
        ] {
            assert_eq!(hub.parse::<RegistryConfig>().unwrap().host, "docker.io");
        }
        let e = "https://bot:s3cret@ghcr.io/not/a/host"
            .parse::<RegistryConfig>()
            .unwrap_err();
        assert!(
            e.contains("bot:***@ghcr.io") && !e.contains("s3cret"),
            "{e}"
        );
        let e = "ftp://bot:s3cret@x".parse::<RegistryConfig>().unwrap_err();
        assert!(!e.contains("s3cret"), "{e}");
    }
}
