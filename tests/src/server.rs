//! The `catalog` binary as a child process: start, query, kill -9, restart on the same data.

use crate::registry::TempDir;
use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const INGEST_TOKEN: &str = "test-ingest-token";
pub const ADMIN_TOKEN: &str = "test-admin-token";
/// The catalog scope: ownership, contacts, declared dependencies, Backstage and OSV imports.
pub const CATALOG_TOKEN: &str = "test-catalog-token";

/// The `catalog` binary of this workspace. The test command builds it first
/// (`cargo build --workspace`): a nested cargo call here would resolve features differently
/// from the outer one and rebuild the world on every run. A binary older than the sources
/// is refused, so a suite never runs against a stale build.
pub fn binary() -> Result<PathBuf> {
    static BIN: OnceLock<std::result::Result<PathBuf, String>> = OnceLock::new();
    BIN.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let target = std::env::var("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|_| root.join("target"));
        let bin = target
            .join(if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            })
            .join("catalog");
        let built = std::fs::metadata(&bin)
            .and_then(|m| m.modified())
            .map_err(|_| {
                format!(
                    "{} is missing: run `cargo build --workspace` first",
                    bin.display()
                )
            })?;
        let newest = [
            "catalog-core/src",
            "schema/src",
            "schema/migrations",
            "catalog-ingest/src",
            "catalog-api/src",
            "ui",
        ]
        .iter()
        .filter_map(|d| newest_mtime(&root.join(d)))
        .max();
        if newest.is_some_and(|n| n > built) {
            return Err(format!(
                "{} is older than the sources: run `cargo build --workspace` first",
                bin.display()
            ));
        }
        Ok(bin)
    })
    .clone()
    .map_err(|e| anyhow!(e))
}

fn newest_mtime(dir: &Path) -> Option<std::time::SystemTime> {
    let mut newest = None;
    for e in std::fs::read_dir(dir).ok()?.flatten() {
        let p = e.path();
        let t = if p.is_dir() {
            newest_mtime(&p)
        } else {
            e.metadata().and_then(|m| m.modified()).ok()
        };
        newest = newest.max(t);
    }
    newest
}

pub fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

#[derive(Debug, Clone, Default)]
pub struct ServerOpts {
    /// Reuse a port (e.g. one a registry already notifies); else a free one.
    pub port: Option<u16>,
    /// `--registry` values.
    pub registries: Vec<String>,
    /// `--database-url`; default: a SQLite file in the server's own directory.
    pub database_url: Option<String>,
    pub extra_args: Vec<String>,
    /// Environment variables set for the child only (e.g. a registry password referenced as
    /// `$NAME` in a `--registry` value, so it stays off the command line).
    pub env: Vec<(String, String)>,
}

/// A running `catalog serve`. Dropping it kills the process; the data directory lives as
/// long as the value (so a restarted server can reuse it).
pub struct CatalogServer {
    child: Option<Child>,
    pub port: u16,
    pub dir: std::sync::Arc<TempDir>,
    pub opts: ServerOpts,
    http: reqwest::blocking::Client,
}

impl CatalogServer {
    pub fn start(opts: ServerOpts) -> Result<CatalogServer> {
        let dir = std::sync::Arc::new(TempDir::new("catalog-e2e")?);
        Self::start_in(dir, opts)
    }

    /// The usual end-to-end pair: a real registry that notifies the catalog's
    /// `/hooks/distribution` (ingest token), and the catalog, started with `opts`, reading
    /// from it (its port and `registries` are set here).
    pub fn with_registry(opts: ServerOpts) -> Result<(crate::registry::Registry, CatalogServer)> {
        let port = free_port()?;
        let hook = format!("http://127.0.0.1:{port}/hooks/distribution");
        let registry = crate::registry::Registry::start(&[(&hook, INGEST_TOKEN)])?;
        let server = CatalogServer::start(ServerOpts {
            port: Some(port),
            registries: vec![format!("http://{}", registry.host())],
            ..opts
        })?;
        Ok((registry, server))
    }

    fn start_in(dir: std::sync::Arc<TempDir>, mut opts: ServerOpts) -> Result<CatalogServer> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let port = match opts.port {
            Some(p) => p,
            None => free_port()?,
        };
        opts.port = Some(port);
        let db = opts
            .database_url
            .clone()
            .unwrap_or_else(|| dir.path().join("catalog.db").display().to_string());
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.path().join("server.log"))?;
        let mut cmd = Command::new(binary()?);
        cmd.arg("serve")
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--database-url", &db])
            .args(["--ingest-token", INGEST_TOKEN, "--admin-token", ADMIN_TOKEN])
            .args(["--catalog-token", CATALOG_TOKEN])
            .env("CATALOG_LOG", "info")
            .env_remove("CATALOG_DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        for r in &opts.registries {
            cmd.args(["--registry", r]);
        }
        cmd.args(&opts.extra_args);
        cmd.envs(opts.env.iter().map(|(k, v)| (k, v)));
        let child = cmd.spawn().context("cannot start catalog")?;
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?;
        let mut s = CatalogServer {
            child: Some(child),
            port,
            dir,
            opts,
            http,
        };
        s.wait_ready(Duration::from_secs(30))?;
        Ok(s)
    }

    /// Starts a new process on the same data directory, database and port.
    pub fn restart(mut self) -> Result<CatalogServer> {
        self.kill();
        let (dir, opts) = (self.dir.clone(), self.opts.clone());
        drop(self);
        Self::start_in(dir, opts)
    }

    fn wait_ready(&mut self, timeout: Duration) -> Result<()> {
        let t = Instant::now();
        while t.elapsed() < timeout {
            if let Some(c) = self.child.as_mut() {
                if let Some(st) = c.try_wait()? {
                    bail!(
                        "catalog exited with {st} before it was ready; log:\n{}",
                        self.log()
                    );
                }
            }
            if let Ok(r) = self.http.get(self.url("/readyz")).send() {
                if r.status().is_success() {
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("catalog not ready after {timeout:?}; log:\n{}", self.log())
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// The process's peak resident memory (VmHWM of /proc/<pid>/status), in bytes.
    pub fn peak_rss(&self) -> Result<u64> {
        let Some(c) = self.child.as_ref() else {
            bail!("the server is not running");
        };
        let status = std::fs::read_to_string(format!("/proc/{}/status", c.id()))?;
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| anyhow!("no VmHWM in /proc/{}/status", c.id()))?;
        Ok(kib * 1024)
    }

    /// Sends a signal by name (`TERM`, `INT`) with kill(1).
    pub fn signal(&self, name: &str) -> Result<()> {
        match self.child.as_ref() {
            Some(c) => kill(c, name),
            None => bail!("the server is not running"),
        }
    }

    /// Waits for the process to exit by itself; `None` if it still runs after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> Result<Option<std::process::ExitStatus>> {
        let t = Instant::now();
        while t.elapsed() < timeout {
            let Some(c) = self.child.as_mut() else {
                bail!("the server is not running");
            };
            if let Some(st) = c.try_wait()? {
                self.child = None;
                return Ok(Some(st));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(None)
    }

    /// SIGKILL: no shutdown hooks, no flushing. What was acknowledged must survive it.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// POST /graphql with an optional token; returns (status, body).
    pub fn graphql_as(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> Result<(u16, Value)> {
        let mut r = self
            .http
            .post(self.url("/graphql"))
            .header("content-type", "application/json")
            .body(json!({"query": query, "variables": variables}).to_string());
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        let resp = r.send()?;
        let status = resp.status().as_u16();
        let text = resp.text()?;
        let v: Value = serde_json::from_str(&text).with_context(|| format!("not JSON: {text}"))?;
        Ok((status, v))
    }

    /// A read query that must succeed; returns `data`.
    pub fn query(&self, query: &str, variables: Value) -> Result<Value> {
        let (status, v) = self.graphql_as(None, query, variables)?;
        if status != 200 || v.get("errors").is_some() {
            bail!("query failed ({status}): {v}");
        }
        Ok(v["data"].clone())
    }

    /// POST a raw body to a hook; returns (status, body).
    pub fn post(
        &self,
        path: &str,
        content_type: &str,
        token: Option<&str>,
        body: Vec<u8>,
    ) -> Result<(u16, String)> {
        let mut r = self
            .http
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        let resp = r.send()?;
        Ok((resp.status().as_u16(), resp.text()?))
    }

    /// Every item of a connection, checked: `query` takes `$first: Int` and `$after: String`
    /// (besides `vars`) and `at` is the JSON pointer of the connection in `data`. Paging
    /// `first: page` at a time returns each item of one `first: 500` answer exactly once,
    /// in its order; every page's `totalCount` is that answer's length; a cursor not of this
    /// connection (`foreign`, and a hand-made one) is a BAD_USER_INPUT naming `after`.
    pub fn paged(
        &self,
        query: &str,
        vars: Value,
        at: &str,
        page: usize,
        foreign: Option<&str>,
    ) -> Result<Vec<Value>> {
        let run = |first: usize, after: Option<String>| -> Result<Value> {
            let mut v = vars.clone();
            v["first"] = json!(first);
            v["after"] = json!(after);
            let d = self.query(query, v)?;
            d.pointer(at)
                .cloned()
                .ok_or_else(|| anyhow!("no {at} in {d}"))
        };
        let whole = run(500, None)?;
        let all = whole["nodes"].as_array().cloned().unwrap_or_default();
        if whole["pageInfo"]["hasNextPage"] != false {
            bail!("{at}: more than 500 items, or no pageInfo: {whole}");
        }
        if whole["totalCount"] != json!(all.len()) {
            bail!(
                "{at}: totalCount {} for {} items",
                whole["totalCount"],
                all.len()
            );
        }
        let mut got = Vec::new();
        let mut after = None;
        loop {
            let c = run(page, after)?;
            if c["totalCount"] != json!(all.len()) {
                bail!(
                    "{at}: a page says totalCount {}, not {}",
                    c["totalCount"],
                    all.len()
                );
            }
            let nodes = c["nodes"].as_array().cloned().unwrap_or_default();
            if nodes.len() > page || c["pageInfo"]["hasPreviousPage"] != json!(!got.is_empty()) {
                bail!(
                    "{at}: a page of {} (asked {page}) with {}",
                    nodes.len(),
                    c["pageInfo"]
                );
            }
            got.extend(nodes);
            if c["pageInfo"]["hasNextPage"] != true {
                break;
            }
            after = c["pageInfo"]["endCursor"].as_str().map(str::to_string);
            if got.len() > all.len() {
                bail!("{at}: paging does not end");
            }
        }
        if got != all {
            bail!("{at}: pages of {page} differ from the whole:\n{got:?}\n{all:?}");
        }
        let forged = "eyJsIjoib3RoZXIiLCJvIjoxfQ"; // {"l":"other","o":1}
        for bad in foreign.into_iter().chain([forged, "1"]) {
            let mut v = vars.clone();
            v["first"] = json!(page);
            v["after"] = json!(bad);
            let (_, r) = self.graphql_as(None, query, v)?;
            let e = &r["errors"][0]["extensions"];
            if e["code"] != "BAD_USER_INPUT" || e["field"] != "after" {
                bail!("{at}: the cursor {bad:?} was not refused naming `after`: {r}");
            }
        }
        Ok(all)
    }

    /// Waits until the served graph holds the log's last event. `eventCount` counts the store,
    /// and the graph applies a committed event a moment later, so a test that compares answers
    /// after a count must wait for this too.
    pub fn wait_graph_current(&self) -> Result<()> {
        self.wait_for(
            "the graph at the log's last event",
            Duration::from_secs(60),
            || {
                let d = self.query("{ events(last: 1) { nodes { seq } } }", json!({}))?;
                let last: i64 = match d["events"]["nodes"][0]["seq"].as_str() {
                    Some(s) => s.parse()?,
                    None => 0,
                };
                let metrics = self.http.get(self.url("/metrics")).send()?.text()?;
                let graph = metrics
                    .lines()
                    .find_map(|l| l.strip_prefix("catalog_graph_seq "))
                    .and_then(|v| v.trim().parse::<i64>().ok())
                    .ok_or_else(|| anyhow!("no catalog_graph_seq in /metrics"))?;
                Ok((graph >= last).then_some(()))
            },
        )
    }

    pub fn event_count(&self) -> Result<i64> {
        Ok(self.query("{ eventCount }", json!({}))?["eventCount"]
            .as_i64()
            .unwrap_or(-1))
    }

    /// Items waiting in the inbox.
    pub fn pending(&self) -> Result<usize> {
        let d = self.query(
            "{ inbox(state: PENDING, first: 1) { totalCount } }",
            json!({}),
        )?;
        d["inbox"]["totalCount"]
            .as_u64()
            .map(|n| n as usize)
            .ok_or_else(|| anyhow!("no inbox totalCount: {d}"))
    }

    /// Polls `f` until it returns Some, or fails after `timeout` with the server log.
    pub fn wait_for<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut f: impl FnMut() -> Result<Option<T>>,
    ) -> Result<T> {
        let t = Instant::now();
        let mut last = String::new();
        while t.elapsed() < timeout {
            match f() {
                Ok(Some(v)) => return Ok(v),
                Ok(None) => {}
                Err(e) => last = e.to_string(),
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!(
            "timed out after {timeout:?} waiting for {what} (last error: {last}); server log:\n{}",
            self.log()
        )
    }
}

impl Drop for CatalogServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A fresh PostgreSQL database for one test, dropped (`WITH (FORCE)`) when the value goes.
/// The server is `CATALOG_TEST_PG_URL` (default the local one, trust auth).
pub struct PgDatabase {
    admin: String,
    pub name: String,
    pub url: String,
}

impl PgDatabase {
    pub fn create() -> Result<PgDatabase> {
        use diesel::{Connection, RunQueryDsl};
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let admin = std::env::var("CATALOG_TEST_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
        let mut c = diesel::PgConnection::establish(&admin).map_err(|e| {
            anyhow!(
                "PostgreSQL not reachable at {admin}: start it with `pg_ctlcluster --skip-systemctl-redirect \
                 $(ls /etc/postgresql) main start` or set CATALOG_TEST_PG_URL ({e})"
            )
        })?;
        let name = format!(
            "catalog_e2e_{}_{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        diesel::sql_query(format!("CREATE DATABASE \"{name}\"")).execute(&mut c)?;
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        let url = format!("{base}/{name}");
        Ok(PgDatabase { admin, name, url })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        use diesel::{Connection, RunQueryDsl};
        if let Ok(mut c) = diesel::PgConnection::establish(&self.admin) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ))
            .execute(&mut c);
        }
    }
}

/// A running `catalog worker`: inbox processing and reconcile, no HTTP and no graph. Dropping
/// it kills the process.
pub struct CatalogWorker {
    child: Option<Child>,
    log: PathBuf,
    _dir: TempDir,
}

impl CatalogWorker {
    /// Starts `catalog worker` on `database_url` and waits until it has opened the database.
    pub fn start(database_url: &str, extra_args: &[&str]) -> Result<CatalogWorker> {
        let dir = TempDir::new("catalog-worker")?;
        let log = dir.path().join("worker.log");
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)?;
        let child = Command::new(binary()?)
            .arg("worker")
            .args(["--database-url", database_url])
            .args(extra_args)
            .env("CATALOG_LOG", "info")
            .env_remove("CATALOG_DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .context("cannot start catalog worker")?;
        let mut w = CatalogWorker {
            child: Some(child),
            log,
            _dir: dir,
        };
        let t = Instant::now();
        while !w.log().contains("database ready") {
            if let Some(c) = w.child.as_mut() {
                if let Some(st) = c.try_wait()? {
                    bail!("catalog worker exited with {st}; log:\n{}", w.log());
                }
            }
            if t.elapsed() > Duration::from_secs(30) {
                bail!("catalog worker not up after 30 s; log:\n{}", w.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(w)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends a signal by name (`STOP`, `CONT`) with kill(1).
    pub fn signal(&self, name: &str) -> Result<()> {
        match self.child.as_ref() {
            Some(c) => kill(c, name),
            None => bail!("the worker is not running"),
        }
    }

    /// SIGKILL: whatever it had claimed comes back to the others when its leases run out.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for CatalogWorker {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Sends a signal by name to a child with kill(1).
fn kill(c: &Child, name: &str) -> Result<()> {
    let st = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(c.id().to_string())
        .status()?;
    if !st.success() {
        bail!("kill -{name} {}: {st}", c.id());
    }
    Ok(())
}
