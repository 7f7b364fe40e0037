//! Real Docker Distribution registry, OCI image building (umoci) and pushing (skopeo) for end-to-end tests.
//!
//! Needs the Debian packages `docker-registry`, `umoci` and `skopeo`. Nothing is pulled from the network:
//! images are built from scratch in an OCI layout and pushed to a registry on 127.0.0.1.

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};
use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// `Accept` header value covering every manifest type the registry may hold.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, \
application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.v2+json, \
application/vnd.docker.distribution.manifest.list.v2+json";

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const REF_NAME: &str = "org.opencontainers.image.ref.name";
const INSTANCE_HEADER: &str = "X-E2e-Registry-Instance";

/// Fails with a message naming the Debian package to install (e.g. "docker-registry not found: apt-get install docker-registry") when `bin` is not on PATH.
pub fn require_tool(bin: &str, debian_package: &str) -> Result<()> {
    if find_on_path(bin).is_some() {
        Ok(())
    } else {
        bail!("{bin} not found: apt-get install {debian_package}")
    }
}

fn find_on_path(bin: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let is_exec = |p: &Path| {
        fs::metadata(p)
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    };
    if bin.contains('/') {
        let p = PathBuf::from(bin);
        return is_exec(&p).then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(bin))
        .find(|p| is_exec(p))
}

// ---------------------------------------------------------------------------------------------
// TempDir

/// A scratch directory removed on drop.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates `<tmp>/<prefix>-<pid>-<counter>-<nanos>`.
    pub fn new(prefix: &str) -> Result<TempDir> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let base = std::env::temp_dir();
        for _ in 0..100 {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            let path = base.join(format!("{prefix}-{}-{n}-{nanos}", std::process::id()));
            match fs::create_dir(&path) {
                Ok(()) => return Ok(TempDir { path }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(e).with_context(|| format!("creating temp dir {}", path.display()))
                }
            }
        }
        bail!(
            "could not create a unique temp dir under {}",
            base.display()
        )
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

// ---------------------------------------------------------------------------------------------
// Tiny HTTP/1.1 client (std only)

/// A complete HTTP response (body de-chunked).
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// First header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Result<Value> {
        serde_json::from_slice(&self.body)
            .with_context(|| format!("response body is not JSON: {}", self.text()))
    }
}

/// One HTTP/1.1 request to `http://<host><path>` (`Connection: close`, 10 s timeouts).
pub fn http_request(
    method: &str,
    host: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<HttpResponse> {
    let addr = host
        .to_socket_addrs()
        .with_context(|| format!("resolving {host}"))?
        .next()
        .ok_or_else(|| anyhow!("no address for {host}"))?;
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .with_context(|| format!("connecting to {host}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_write_timeout(Some(Duration::from_secs(10)))?;

    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()?;

    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .with_context(|| format!("reading response of {method} http://{host}{path}"))?;
    parse_response(&raw, method == "HEAD")
        .with_context(|| format!("parsing response of {method} http://{host}{path}"))
}

fn parse_response(raw: &[u8], head: bool) -> Result<HttpResponse> {
    let end = find(raw, b"\r\n\r\n").ok_or_else(|| {
        anyhow!(
            "incomplete HTTP response: {:?}",
            String::from_utf8_lossy(raw)
        )
    })?;
    let head_text = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head_text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow!("bad status line {status_line:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut resp = HttpResponse {
        status,
        headers,
        body: Vec::new(),
    };
    let rest = &raw[end + 4..];
    if head || status == 204 || status == 304 || (100..200).contains(&status) {
        return Ok(resp);
    }
    let chunked = resp
        .header("Transfer-Encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    resp.body = if chunked {
        dechunk(rest)?
    } else if let Some(len) = resp
        .header("Content-Length")
        .and_then(|v| v.parse::<usize>().ok())
    {
        rest[..len.min(rest.len())].to_vec()
    } else {
        rest.to_vec()
    };
    Ok(resp)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = find(data, b"\r\n").ok_or_else(|| anyhow!("truncated chunked body"))?;
        let size_text = String::from_utf8_lossy(&data[..eol]);
        let size_hex = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_hex, 16)
            .with_context(|| format!("bad chunk size {size_hex:?}"))?;
        data = &data[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        if data.len() < size {
            bail!("truncated chunk");
        }
        out.extend_from_slice(&data[..size]);
        data = data.get(size + 2..).unwrap_or_default();
    }
}

/// GET /v2/<repo>/manifests/<reference>; returns (Docker-Content-Digest, manifest JSON).
pub fn get_manifest(host: &str, repo: &str, reference: &str) -> Result<(String, Value)> {
    let r = http_request(
        "GET",
        host,
        &format!("/v2/{repo}/manifests/{reference}"),
        &[("Accept", MANIFEST_ACCEPT)],
        b"",
    )?;
    if r.status != 200 {
        bail!(
            "GET manifest {repo}:{reference} on {host}: HTTP {} {}",
            r.status,
            r.text()
        );
    }
    let digest = r
        .header("Docker-Content-Digest")
        .unwrap_or_default()
        .to_string();
    Ok((digest, r.json()?))
}

/// GET /v2/<repo>/blobs/<digest>.
pub fn get_blob(host: &str, repo: &str, digest: &str) -> Result<Vec<u8>> {
    let r = http_request("GET", host, &format!("/v2/{repo}/blobs/{digest}"), &[], b"")?;
    if r.status != 200 {
        bail!(
            "GET blob {repo}@{digest} on {host}: HTTP {} {}",
            r.status,
            r.text()
        );
    }
    Ok(r.body)
}

/// GET /v2/<repo>/tags/list; returns the tags (empty when the repository has none).
pub fn list_tags(host: &str, repo: &str) -> Result<Vec<String>> {
    let r = http_request("GET", host, &format!("/v2/{repo}/tags/list"), &[], b"")?;
    if r.status != 200 {
        bail!(
            "GET tags of {repo} on {host}: HTTP {} {}",
            r.status,
            r.text()
        );
    }
    let v = r.json()?;
    Ok(v["tags"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default())
}

// ---------------------------------------------------------------------------------------------
// Registry

/// A running Debian docker-registry on 127.0.0.1:<free port>, storage in its own temp dir, delete enabled.
#[derive(Debug)]
pub struct Registry {
    child: Option<Child>,
    port: u16,
    storage: PathBuf,
    log_path: PathBuf,
    _work: TempDir,
    _own_storage: Option<TempDir>,
}

impl Registry {
    /// notify: (url, bearer_token) pairs; each adds a notifications endpoint posting to `url`
    /// with header `Authorization: Bearer <token>`, timeout 2s, threshold 3, backoff 1s, ignoring actions [pull]
    /// and mediatypes [application/octet-stream], and `notifications.events.includereferences: true`.
    /// Waits until GET http://127.0.0.1:<port>/v2/ answers 200 (max 15 s), else error including the registry's log.
    pub fn start(notify: &[(&str, &str)]) -> Result<Registry> {
        Self::start_inner(notify, None)
    }

    /// Same as [`Registry::start`], but the registry requires HTTP Basic auth (`auth.htpasswd`, realm
    /// `catalog-test`) with this one user, whose bcrypt entry is made by `htpasswd -Bbn` (Debian package
    /// apache2-utils). Readiness then accepts the 401 that /v2/ answers without credentials, as long as it
    /// comes from this instance. Push with [`push_with_creds`].
    pub fn start_auth(notify: &[(&str, &str)], user: &str, password: &str) -> Result<Registry> {
        Self::start_inner(notify, Some((user, password)))
    }

    fn start_inner(notify: &[(&str, &str)], auth: Option<(&str, &str)>) -> Result<Registry> {
        let storage = TempDir::new("e2e-registry-storage")?;
        let mut last_err = None;
        // A port picked by binding :0 can be taken by someone else before the registry binds it: retry.
        for _ in 0..3 {
            let port = free_port()?;
            match Self::launch(port, storage.path(), notify, auth) {
                Ok(mut reg) => {
                    reg._own_storage = Some(storage);
                    return Ok(reg);
                }
                Err(e) => {
                    let in_use = format!("{e:#}").contains("address already in use");
                    last_err = Some(e);
                    if !in_use {
                        break;
                    }
                }
            }
        }
        Err(last_err.unwrap_or_else(|| anyhow!("registry did not start")))
    }

    /// Same, but reusing the storage dir and port of a previous registry (for restart tests): `stop()` the
    /// previous one first and keep it alive (dropping it deletes the storage). Storage is not removed on drop here.
    pub fn start_with(port: u16, storage: &Path, notify: &[(&str, &str)]) -> Result<Registry> {
        Self::launch(port, storage, notify, None)
    }

    fn launch(
        port: u16,
        storage: &Path,
        notify: &[(&str, &str)],
        auth: Option<(&str, &str)>,
    ) -> Result<Registry> {
        require_tool("docker-registry", "docker-registry")?;
        let work = TempDir::new("e2e-registry")?;
        let htpasswd = match auth {
            Some((user, password)) => {
                require_tool("htpasswd", "apache2-utils")?;
                // -B bcrypt (the only hash docker-registry accepts), -b password from the command line, -n stdout.
                let entry = run(Command::new("htpasswd").args(["-Bbn", user, password]))?;
                let path = work.path().join("htpasswd");
                fs::write(&path, entry.trim_end().to_string() + "\n")
                    .context("writing htpasswd file")?;
                Some(path)
            }
            None => None,
        };
        let config_path = work.path().join("config.yml");
        let log_path = work.path().join("registry.log");
        // Every response carries this header, so readiness is proven against *this* process and not
        // against whatever else (e.g. a not-yet-stopped previous registry) answers on the port.
        let instance = work
            .path()
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        fs::write(
            &config_path,
            registry_config(port, storage, &instance, notify, htpasswd.as_deref())?,
        )
        .context("writing registry config")?;
        let log = fs::File::create(&log_path).context("creating registry log")?;
        let log_err = log.try_clone()?;

        let mut cmd = Command::new("docker-registry");
        cmd.arg("serve")
            .arg(&config_path)
            .current_dir(work.path())
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err));
        // Environment variables named REGISTRY_* override the config file: keep them out.
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("REGISTRY_") {
                cmd.env_remove(k);
            }
        }
        let child = cmd.spawn().context("spawning docker-registry")?;
        let mut reg = Registry {
            child: Some(child),
            port,
            storage: storage.to_path_buf(),
            log_path,
            _work: work,
            _own_storage: None,
        };
        reg.wait_ready(&instance, htpasswd.is_some(), Duration::from_secs(15))?;
        Ok(reg)
    }

    /// Ready when /v2/ answers 200 (or, with `auth`, 401: no credentials sent) carrying this instance's header.
    fn wait_ready(&mut self, instance: &str, auth: bool, max: Duration) -> Result<()> {
        let deadline = Instant::now() + max;
        let host = self.host();
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Some(status) = child.try_wait()? {
                    self.child = None;
                    bail!("docker-registry on {host} exited with {status} before becoming ready; log:\n{}", self.log());
                }
            }
            let last = match http_request("GET", &host, "/v2/", &[], b"") {
                Ok(r)
                    if (r.status == 200 || (auth && r.status == 401))
                        && r.header(INSTANCE_HEADER) == Some(instance) =>
                {
                    return Ok(())
                }
                Ok(r) if r.status == 200 || (auth && r.status == 401) => format!(
                    "HTTP {} from another server ({INSTANCE_HEADER}: {:?})",
                    r.status,
                    r.header(INSTANCE_HEADER)
                ),
                Ok(r) => format!("HTTP {}", r.status),
                Err(e) => format!("{e:#}"),
            };
            if Instant::now() >= deadline {
                self.stop();
                bail!(
                    "docker-registry on {host} not ready after {max:?} (last: {last}); log:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// "127.0.0.1:PORT"
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn storage(&self) -> &Path {
        &self.storage
    }

    /// The registry's stderr/stdout so far.
    pub fn log(&self) -> String {
        fs::read(&self.log_path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// Kills the registry and waits for it (idempotent; also done on drop).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").context("binding 127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// YAML config; strings are emitted as JSON strings, which are valid YAML double-quoted scalars.
fn registry_config(
    port: u16,
    storage: &Path,
    instance: &str,
    notify: &[(&str, &str)],
    htpasswd: Option<&Path>,
) -> Result<String> {
    let q = |s: &str| serde_json::to_string(s);
    let storage = storage
        .to_str()
        .ok_or_else(|| anyhow!("storage path is not UTF-8: {}", storage.display()))?;
    let mut c = format!(
        "version: 0.1
log:
  level: info
  fields:
    service: registry
storage:
  filesystem:
    rootdirectory: {storage}
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: {addr}
  secret: e2e-harness-secret
  headers:
    {INSTANCE_HEADER}: [{instance}]
",
        storage = q(storage)?,
        addr = q(&format!("127.0.0.1:{port}"))?,
        instance = q(instance)?,
    );
    if let Some(path) = htpasswd {
        let path = path
            .to_str()
            .ok_or_else(|| anyhow!("htpasswd path is not UTF-8: {}", path.display()))?;
        c.push_str(&format!(
            "auth:\n  htpasswd:\n    realm: catalog-test\n    path: {}\n",
            q(path)?
        ));
    }
    if !notify.is_empty() {
        c.push_str("notifications:\n  events:\n    includereferences: true\n  endpoints:\n");
    }
    for (n, (url, token)) in notify.iter().enumerate() {
        c.push_str(&format!(
            "    - name: endpoint{n}
      url: {url}
      headers:
        Authorization: [{auth}]
      timeout: 2s
      threshold: 3
      backoff: 1s
      ignore:
        mediatypes:
          - application/octet-stream
        actions:
          - pull
",
            url = q(url)?,
            auth = q(&format!("Bearer {token}"))?,
        ));
    }
    Ok(c)
}

// ---------------------------------------------------------------------------------------------
// Images

/// What to put in one single-platform image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSpec {
    pub labels: Vec<(String, String)>,
    pub content: String,
    pub os: String,
    pub arch: String,
}

impl ImageSpec {
    /// linux/amd64, no labels.
    pub fn new(content: &str) -> ImageSpec {
        ImageSpec {
            labels: Vec::new(),
            content: content.to_string(),
            os: "linux".to_string(),
            arch: "amd64".to_string(),
        }
    }

    pub fn label(mut self, k: &str, v: &str) -> ImageSpec {
        self.labels.push((k.to_string(), v.to_string()));
        self
    }

    pub fn platform(mut self, os: &str, arch: &str) -> ImageSpec {
        self.os = os.to_string();
        self.arch = arch.to_string();
        self
    }
}

/// An OCI image layout directory (umoci), removed on drop.
#[derive(Debug)]
pub struct Layout {
    dir: TempDir,
    layout: PathBuf,
    counter: AtomicU64,
}

impl Layout {
    pub fn new() -> Result<Layout> {
        require_tool("umoci", "umoci")?;
        let dir = TempDir::new("e2e-oci")?;
        let layout = dir.path().join("layout");
        run(Command::new("umoci")
            .arg("init")
            .arg("--layout")
            .arg(&layout))?;
        fs::create_dir(dir.path().join("files"))?;
        Ok(Layout {
            dir,
            layout,
            counter: AtomicU64::new(0),
        })
    }

    /// The OCI layout directory (what `oci:<path>:<tag>` refers to).
    pub fn path(&self) -> &Path {
        &self.layout
    }

    fn image_ref(&self, tag: &str) -> Result<String> {
        let p = self
            .layout
            .to_str()
            .ok_or_else(|| anyhow!("layout path is not UTF-8"))?;
        Ok(format!("{p}:{tag}"))
    }

    /// Builds a single-platform image tagged `tag` (umoci new / config / insert of `/content.txt`).
    /// Returns the manifest digest "sha256:...".
    pub fn build(&self, tag: &str, spec: &ImageSpec) -> Result<String> {
        let image = self.image_ref(tag)?;
        run(Command::new("umoci").args(["new", "--image", &image]))?;

        let mut config = Command::new("umoci");
        config.args([
            "config",
            "--image",
            &image,
            "--os",
            &spec.os,
            "--architecture",
            &spec.arch,
        ]);
        for (k, v) in &spec.labels {
            config.arg("--config.label").arg(format!("{k}={v}"));
        }
        run(&mut config)?;

        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let file = self.dir.path().join("files").join(format!("content-{n}"));
        fs::write(&file, &spec.content)?;
        run(Command::new("umoci")
            .args(["insert", "--rootless", "--image", &image])
            .arg(&file)
            .arg("/content.txt"))?;

        let index = self.read_index()?;
        find_ref(&index, tag)
            .and_then(|m| m["digest"].as_str().map(String::from))
            .ok_or_else(|| {
                anyhow!(
                    "tag {tag} not found in {}/index.json after build",
                    self.layout.display()
                )
            })
    }

    /// Builds one image per spec (also tagged `<tag>-p<i>` in the layout), then writes an OCI image index
    /// whose manifests[] carry each image's platform, stores it as a blob and tags it `tag`. Returns the index digest.
    pub fn build_index(&self, tag: &str, specs: &[ImageSpec]) -> Result<String> {
        if specs.is_empty() {
            bail!("build_index needs at least one ImageSpec");
        }
        let mut manifests = Vec::new();
        for (i, spec) in specs.iter().enumerate() {
            let digest = self.build(&format!("{tag}-p{i}"), spec)?;
            let size = fs::metadata(self.blob_path(&digest)?)?.len();
            manifests.push(json!({
                "mediaType": OCI_MANIFEST,
                "digest": digest,
                "size": size,
                "platform": { "architecture": spec.arch, "os": spec.os },
            }));
        }
        let index_blob = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": manifests,
        }))?;
        let digest = format!("sha256:{}", sha256_hex(&index_blob));
        write_atomic(&self.blob_path(&digest)?, &index_blob)?;

        let mut index = self.read_index()?;
        let entries = index["manifests"]
            .as_array_mut()
            .ok_or_else(|| anyhow!("index.json has no manifests array"))?;
        entries.retain(|m| m["annotations"][REF_NAME].as_str() != Some(tag));
        entries.push(json!({
            "mediaType": OCI_INDEX,
            "digest": digest,
            "size": index_blob.len(),
            "annotations": { REF_NAME: tag },
        }));
        write_atomic(
            &self.layout.join("index.json"),
            &serde_json::to_vec(&index)?,
        )?;
        Ok(digest)
    }

    fn read_index(&self) -> Result<Value> {
        let p = self.layout.join("index.json");
        let bytes = fs::read(&p).with_context(|| format!("reading {}", p.display()))?;
        serde_json::from_slice(&bytes).with_context(|| format!("parsing {}", p.display()))
    }

    fn blob_path(&self, digest: &str) -> Result<PathBuf> {
        let hex = digest
            .strip_prefix("sha256:")
            .ok_or_else(|| anyhow!("unsupported digest {digest}"))?;
        Ok(self.layout.join("blobs").join("sha256").join(hex))
    }
}

fn find_ref<'a>(index: &'a Value, tag: &str) -> Option<&'a Value> {
    index["manifests"]
        .as_array()?
        .iter()
        .rev()
        .find(|m| m["annotations"][REF_NAME].as_str() == Some(tag))
}

fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    let tmp = path.with_extension("e2e-tmp");
    fs::write(&tmp, data).with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))?;
    Ok(())
}

/// Runs a command, returning stdout; the error carries the command line, status, stdout and stderr.
fn run(cmd: &mut Command) -> Result<String> {
    let desc = format!("{cmd:?}");
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("spawning {desc}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        bail!(
            "{desc} failed with {}\nstdout:\n{stdout}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(stdout)
}

// ---------------------------------------------------------------------------------------------
// Push / delete

/// skopeo copy (--all, --preserve-digests, --dest-tls-verify=false, --insecure-policy, --remove-signatures) of
/// `oci:<layout>:<tag>` to `docker://<host>/<repo>:<dest_tag>`. Returns the pushed manifest digest (skopeo's
/// --digestfile), after checking that the tag resolves to it on the registry.
pub fn push(layout: &Layout, tag: &str, host: &str, repo: &str, dest_tag: &str) -> Result<String> {
    push_with_creds(layout, tag, host, repo, dest_tag, None)
}

/// [`push`] to a registry that requires HTTP Basic auth: `creds` (user, password) go to skopeo as
/// `--dest-creds` and to the verifying HEAD request as `Authorization: Basic ...`.
pub fn push_with_creds(
    layout: &Layout,
    tag: &str,
    host: &str,
    repo: &str,
    dest_tag: &str,
    creds: Option<(&str, &str)>,
) -> Result<String> {
    require_tool("skopeo", "skopeo")?;
    let scratch = TempDir::new("e2e-skopeo")?;
    let home = scratch.path().join("home");
    let runtime = scratch.path().join("run");
    fs::create_dir(&home)?;
    fs::create_dir(&runtime)?;
    let digest_file = scratch.path().join("digest");
    let src = format!("oci:{}", layout.image_ref(tag)?);
    let dest = format!("docker://{host}/{repo}:{dest_tag}");
    let mut skopeo = Command::new("skopeo");
    skopeo
        .env("HOME", &home)
        .env("XDG_RUNTIME_DIR", &runtime)
        .env_remove("REGISTRY_AUTH_FILE")
        .env_remove("CONTAINERS_REGISTRIES_CONF")
        .args([
            "--insecure-policy",
            "copy",
            "--all",
            "--preserve-digests",
            "--remove-signatures",
            "--dest-tls-verify=false",
            "--retry-times",
            "2",
            "--digestfile",
        ])
        .arg(&digest_file);
    if let Some((user, password)) = creds {
        skopeo.arg("--dest-creds").arg(format!("{user}:{password}"));
    }
    skopeo.arg(&src).arg(&dest);
    run(&mut skopeo).map_err(|e| match creds {
        // The command line (in the error) carries the password: keep it out of test output.
        Some((_, password)) if !password.is_empty() => {
            anyhow!("{}", format!("{e:#}").replace(password, "***"))
        }
        _ => e,
    })?;
    let digest = fs::read_to_string(&digest_file)
        .with_context(|| format!("reading skopeo digest file for {dest}"))?
        .trim()
        .to_string();
    if !digest.starts_with("sha256:") {
        bail!("skopeo wrote an unexpected digest {digest:?} for {dest}");
    }

    let authorization = creds.map(|(u, p)| basic_auth(u, p));
    let mut headers = vec![("Accept", MANIFEST_ACCEPT)];
    if let Some(a) = &authorization {
        headers.push(("Authorization", a));
    }
    let r = http_request(
        "HEAD",
        host,
        &format!("/v2/{repo}/manifests/{dest_tag}"),
        &headers,
        b"",
    )?;
    if r.status != 200 {
        bail!(
            "after pushing {dest}: HEAD manifest answered HTTP {}",
            r.status
        );
    }
    match r.header("Docker-Content-Digest") {
        Some(d) if d == digest => Ok(digest),
        other => bail!("after pushing {dest}: registry digest {other:?} != skopeo digest {digest}"),
    }
}

/// DELETE /v2/<repo>/manifests/<digest> (Ok on 202).
pub fn delete_manifest(host: &str, repo: &str, digest: &str) -> Result<()> {
    let r = http_request(
        "DELETE",
        host,
        &format!("/v2/{repo}/manifests/{digest}"),
        &[("Accept", MANIFEST_ACCEPT)],
        b"",
    )?;
    if r.status != 202 {
        bail!(
            "DELETE {repo}@{digest} on {host}: HTTP {} {}",
            r.status,
            r.text()
        );
    }
    Ok(())
}

/// `Authorization` header value for HTTP Basic auth: `Basic base64(user:password)`.
pub fn basic_auth(user: &str, password: &str) -> String {
    format!("Basic {}", base64(format!("{user}:{password}").as_bytes()))
}

/// Standard base64 (RFC 4648, with padding).
fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// SHA-256 (for the index blob written by build_index; no extra crate needed)

fn sha256_hex(data: &[u8]) -> String {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut msg = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_be_bytes());
    for block in msg.chunks_exact(64) {
        let mut w = [0u32; 64];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (slot, v) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *slot = slot.wrapping_add(v);
        }
    }
    h.iter().map(|v| format!("{v:08x}")).collect()
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn sha256_known_vectors() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let long = vec![b'a'; 1000];
        assert_eq!(
            sha256_hex(&long),
            "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"
        );
    }

    #[test]
    fn base64_known_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), want, "{input:?}");
        }
        assert_eq!(
            basic_auth("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }

    #[test]
    fn dechunks() -> Result<()> {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n";
        let r = parse_response(raw, false)?;
        assert_eq!(r.status, 200);
        assert_eq!(r.body, b"abcde");
        Ok(())
    }

    #[test]
    fn require_tool_names_package() {
        let e = require_tool("definitely-not-a-tool-xyz", "some-pkg")
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("definitely-not-a-tool-xyz not found: apt-get install some-pkg")
        );
        assert!(require_tool("sh", "dash").is_ok());
    }
}
