//! Wiring: the shared state, the routes, and `serve` / `worker` start-up.

use crate::auth::{self, Authenticator, Scope};
use crate::config::{ServeArgs, TokenCommand};
use crate::errors::ApiError;
use crate::graphql::{build_query_schema, build_schema, AppCtx, CatalogSchema};
use crate::hooks::{read_body, require_content_type};
use crate::origin::BrowserPolicy;
use crate::ws::{self, WsLimits};
use crate::{hooks, ops, ui};
use actix_web::dev::Service;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use anyhow::Context as _;
use catalog_core::Catalog;
use catalog_ingest::inbox::InboxWriter;
use catalog_ingest::reconcile::Reconciler;
use catalog_ingest::registry::{redact_password, redact_password_in, Registries};
use catalog_ingest::snapshot::{SnapshotPolicy, Snapshotter};
use catalog_ingest::sync::GraphSync;
use catalog_ingest::worker::{Worker, WorkerConfig};
use catalog_ingest::Metrics;
use catalog_schema::{Access, Store};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use tokio::sync::Notify;
use tracing::Instrument;

/// Everything a request handler needs.
pub struct AppState {
    pub ctx: AppCtx,
    /// Queries and mutations over HTTP ([`build_query_schema`]: no extension).
    pub schema: CatalogSchema,
    /// The same schema with its checks as extensions: subscriptions, and the precise refusal
    /// of a query too complex.
    pub checked: CatalogSchema,
    pub auth: Authenticator,
    pub metrics: Arc<Metrics>,
    pub max_body: usize,
    /// The body limit of `/hooks/kubernetes` (a pod list of a large cluster runs to MBs).
    pub max_snapshot: usize,
    /// The body limit of `/hooks/sbom` and `/hooks/osv`.
    pub max_sbom: usize,
    /// How many dependency edges one descriptor import may add (`--max-declared-edges`).
    pub max_declared_edges: u64,
    /// Flux generic-hmac secret: signed Flux requests are checked against it.
    pub flux_secret: Option<Vec<u8>>,
    pub require_read: bool,
    pub ready: Arc<AtomicBool>,
    /// Set on a read-only replica: what hooks and mutations are answered with (503).
    pub read_only: Option<Arc<str>>,
    /// The Host and Origin checks of browser-facing routes.
    pub browser: BrowserPolicy,
    /// WebSocket caps and counts.
    pub ws: Arc<WsLimits>,
    /// SHA-256 of `--metrics-token`.
    pub metrics_token: Option<String>,
    /// Set when the server is told to stop: long parses check it and give up.
    pub stopping: Arc<AtomicBool>,
    /// Secrets and SNS topics of the registry hooks.
    pub registry_hooks: hooks::registries::RegistryHooks,
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/graphql", web::post().to(graphql))
        .route("/graphql", web::get().to(graphql_get))
        .route(
            "/hooks/distribution",
            web::post().to(hooks::distribution::handle),
        )
        .route(
            "/hooks/deployments",
            web::post().to(hooks::deployments::generic),
        )
        .route("/hooks/argocd", web::post().to(hooks::deployments::argocd))
        .route("/hooks/flux", web::post().to(hooks::deployments::flux))
        .route(
            "/hooks/kubernetes",
            web::post().to(hooks::deployments::kubernetes),
        )
        .route(
            "/hooks/config",
            web::post().to(hooks::deployments::configuration),
        )
        .route("/hooks/sbom", web::post().to(hooks::sbom::sbom))
        .route("/hooks/osv", web::post().to(hooks::sbom::osv))
        .route("/hooks/vex", web::post().to(hooks::sbom::vex))
        .route(
            "/hooks/backstage",
            web::post().to(hooks::backstage::backstage),
        )
        .route("/healthz", web::get().to(ops::healthz))
        .route("/readyz", web::get().to(ops::readyz))
        .route("/metrics", web::get().to(ops::metrics))
        .route("/calendar/{name}", web::get().to(crate::calendar::feed))
        .route("/", web::get().to(ui::index))
        .route("/ui/{path:.*}", web::get().to(ui::asset));
    hooks::registries::routes(cfg);
    for view in ui::VIEWS {
        cfg.route(&format!("/{view}"), web::get().to(ui::index))
            .route(&format!("/{view}/{{rest:.*}}"), web::get().to(ui::index));
    }
}

async fn graphql(req: HttpRequest, payload: web::Payload, st: web::Data<AppState>) -> HttpResponse {
    let media = Media::negotiate(&req);
    match execute(&req, payload, &st, media).await {
        Ok(r) => r,
        Err(e) => {
            let body = serde_json::json!({"errors": [{"message": e.to_string(), "extensions": {"code": e.code()}}]});
            let mut r = HttpResponse::build(e.status());
            if e.status() == actix_web::http::StatusCode::UNAUTHORIZED {
                r.insert_header(("WWW-Authenticate", "Bearer realm=\"catalog\""));
            }
            r.content_type(media.content_type()).body(body.to_string())
        }
    }
}

/// The media type a POST /graphql answers in, from its Accept (GraphQL over HTTP):
/// `application/graphql-response+json` when the client accepts it at least as much as
/// `application/json`, which stays the answer otherwise (and without Accept) for clients
/// written before it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Media {
    Json,
    GraphqlResponse,
}

impl Media {
    fn negotiate(req: &HttpRequest) -> Media {
        let Some(accept) = req
            .headers()
            .get(actix_web::http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
        else {
            return Media::Json;
        };
        let (mut json, mut gql) = (0.0f32, 0.0f32);
        for part in accept.split(',') {
            let mut params = part.split(';');
            let ty = params.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = params
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            match ty.as_str() {
                "application/graphql-response+json" => gql = gql.max(q),
                "application/json" | "application/*" | "*/*" => json = json.max(q),
                _ => {}
            }
        }
        if gql > 0.0 && gql >= json {
            Media::GraphqlResponse
        } else {
            Media::Json
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Media::Json => "application/json",
            Media::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
        }
    }
}

/// `GET /graphql`: a WebSocket upgrade starts a subscription session (see `ws`); anything
/// else gets the offline GraphiQL page.
async fn graphql_get(
    req: HttpRequest,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> HttpResponse {
    let upgrade = req
        .headers()
        .get("upgrade")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if !upgrade {
        return ui::graphiql().await;
    }
    ws::upgrade(req, payload, st).await
}

/// A token that was sent but is unknown is refused (401) even where reads are open: served
/// as anonymous, a typo or a revoked token would go unnoticed until reads are closed.
pub(crate) fn require_known(caller: auth::Caller) -> Result<auth::Caller, ApiError> {
    match caller {
        auth::Caller::Invalid(why) => Err(ApiError::Unauthenticated(why)),
        c => Ok(c),
    }
}

/// Until the graph is current (a start-up loading it), queries would see part of it.
pub(crate) fn require_ready(st: &AppState) -> Result<(), ApiError> {
    if st.ready.load(Ordering::Acquire) {
        return Ok(());
    }
    Err(ApiError::Unavailable(
        "the graph is still loading (a snapshot and the log after it); queries are answered \
         once it is current: see /readyz"
            .into(),
    ))
}

async fn execute(
    req: &HttpRequest,
    payload: web::Payload,
    st: &AppState,
    media: Media,
) -> Result<HttpResponse, ApiError> {
    require_ready(st)?;
    require_content_type(
        req,
        &["application/json", "application/graphql-response+json"],
    )?;
    let body = read_body(req, payload, st.max_body, "--max-body-bytes").await?;
    let gql: async_graphql::Request = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad(
            "body",
            format!("expected {{\"query\": ..., \"variables\"?: ...}} as JSON: {e}"),
        )
    })?;
    let caller = require_known(st.auth.caller(req).await?)?;
    if st.require_read_token() {
        caller.require(Scope::Read)?;
    }
    let mut gql = gql.data(caller.clone());
    let resp = match crate::graphql::preflight(&mut gql, st.read_only.as_deref()) {
        Err(e) => async_graphql::Response::from_errors(vec![e]),
        Ok(()) => {
            let resp = st.schema.execute(gql).await;
            if crate::graphql::too_complex(&resp) {
                // Refused in validation, before anything ran: the checked schema says what
                // the query costs (the body parsed as this request did a moment ago).
                match serde_json::from_slice::<async_graphql::Request>(&body) {
                    Ok(again) => st.checked.execute(again.data(caller)).await,
                    Err(_) => resp,
                }
            } else {
                resp
            }
        }
    };
    if resp.errors.is_empty() {
        // The common case, written straight to bytes (a large answer costs a quarter of
        // what building a JSON tree first does).
        let body = serde_json::to_vec(&resp).map_err(|e| ApiError::Internal(e.to_string()))?;
        return Ok(HttpResponse::Ok()
            .content_type(media.content_type())
            .body(body));
    }
    // An error before execution (JSON-valid but unparsable GraphQL, validation, variable
    // coercion, an unknown operation, the depth and complexity limits) leaves no `data`:
    // the GraphQL spec says the entry is then absent, and GraphQL over HTTP answers 400 in
    // its own media type (200 in application/json, for clients written before it).
    let request_error =
        resp.data == async_graphql::Value::Null && resp.errors.iter().all(|e| e.path.is_empty());
    let mut value = serde_json::to_value(&resp).map_err(|e| ApiError::Internal(e.to_string()))?;
    if request_error {
        if let Some(o) = value.as_object_mut() {
            o.remove("data");
        }
    }
    // Every error carries extensions.code; the first auth error sets the HTTP status.
    let mut status = None;
    if let Some(errors) = value.get_mut("errors").and_then(|e| e.as_array_mut()) {
        for e in errors {
            let code = e
                .pointer("/extensions/code")
                .and_then(|c| c.as_str())
                .map(str::to_string);
            match code {
                Some(c) => {
                    if status.is_none() {
                        status = ApiError::status_for_code(&c);
                    }
                }
                None => {
                    e["extensions"] = serde_json::json!({"code": "GRAPHQL_VALIDATION_FAILED"});
                }
            }
        }
    }
    let status = status.unwrap_or(if request_error && media == Media::GraphqlResponse {
        actix_web::http::StatusCode::BAD_REQUEST
    } else {
        actix_web::http::StatusCode::OK
    });
    let mut r = HttpResponse::build(status);
    if status == actix_web::http::StatusCode::UNAUTHORIZED {
        r.insert_header(("WWW-Authenticate", "Bearer realm=\"catalog\""));
    }
    Ok(r.content_type(media.content_type()).body(value.to_string()))
}

impl AppState {
    fn require_read_token(&self) -> bool {
        self.require_read
    }
}

pub fn init_tracing(format: crate::config::LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("CATALOG_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        crate::config::LogFormat::Json => b.json().try_init(),
        crate::config::LogFormat::Text => b.try_init(),
    };
}

/// Where the bootstrap admin token goes: `--bootstrap-token-file`, else beside the SQLite
/// file, else the working directory.
fn bootstrap_path(args: &ServeArgs) -> PathBuf {
    if let Some(p) = &args.bootstrap_token_file {
        return PathBuf::from(p);
    }
    let url = &args.db.database_url;
    if !url.starts_with("postgres") {
        let db = Path::new(url.strip_prefix("sqlite://").unwrap_or(url));
        if let Some(dir) = db.parent() {
            return dir.join("catalog-admin.token");
        }
    }
    PathBuf::from("catalog-admin.token")
}

/// A first start with no token anywhere: create an admin token and write it to a 0600 file.
fn bootstrap_admin(store: &Store, auth: &Authenticator, args: &ServeArgs) -> anyhow::Result<()> {
    if auth.has_static_tokens() || store.token_count()? > 0 {
        return Ok(());
    }
    let secret = auth::generate().map_err(|e| anyhow::anyhow!("{e}"))?;
    let path = bootstrap_path(args);
    crate::secret_file::write(&path, &secret)?;
    store.token_create(
        "bootstrap-admin",
        &auth::hash(&secret),
        &["admin".to_string()],
    )?;
    tracing::warn!(
        path = %path.display(),
        "first start: no token configured, so an admin token was created and written to this file \
         (mode 0600); use it to create ingest tokens: catalog token create --name registry --scope ingest"
    );
    Ok(())
}

/// What every process opens: the store, the inbox writer, the registries.
struct Core {
    store: Store,
    metrics: Arc<Metrics>,
    wake: Arc<Notify>,
    inbox: InboxWriter,
    registries: Arc<Registries>,
}

async fn open_core(args: &ServeArgs) -> anyhow::Result<Core> {
    let db = args.db.clone();
    let access = if args.read_only {
        Access::ReadOnly
    } else {
        Access::ReadWrite
    };
    let store =
        tokio::task::spawn_blocking(move || open_store(&db.database_url, db.db_pool, access))
            .await??;
    tracing::info!(
        backend = store.backend().as_str(),
        read_only = args.read_only,
        url = %redact_password(&args.db.database_url),
        "database ready"
    );
    if store.backend() == catalog_schema::Backend::Sqlite && !args.read_only {
        // SQLite serves one node, so any lease left is a dead process's: take the items back.
        let s = store.clone();
        let freed = tokio::task::spawn_blocking(move || s.inbox_release_leases()).await??;
        if freed > 0 {
            tracing::warn!(items = freed, "released inbox leases of a previous process");
        }
    }
    let metrics = Arc::new(Metrics::default());
    let wake = Arc::new(Notify::new());
    let inbox = InboxWriter::start(store.clone(), wake.clone(), metrics.clone());
    let docker = catalog_ingest::credentials::DockerConfig::locate(args.docker_config.as_deref())
        .context("cannot use Docker's config.json for registry credentials")?;
    if let Some(d) = &docker {
        tracing::info!(path = %d.path().display(), "registry credentials from Docker's config.json");
    }
    let registries = Arc::new(Registries::with_docker_config(
        &args.registries,
        docker.as_ref(),
    ));
    for r in &args.registries {
        tracing::info!(registry = %r.display(), "registry configured");
    }
    Ok(Core {
        store,
        metrics,
        wake,
        inbox,
        registries,
    })
}

/// Brings the graph up to date (the newest usable snapshot, then the log's tail), then
/// follows the log. Blocking; run it off the async threads.
fn load_graph(
    sync: &Arc<GraphSync>,
    args: &ServeArgs,
) -> anyhow::Result<catalog_ingest::sync::LoadReport> {
    let t = std::time::Instant::now();
    let report = sync.load()?;
    match &report.snapshot {
        Some((meta, took)) => tracing::info!(
            snapshot = meta.id,
            seq = meta.seq,
            bytes = meta.bytes,
            read = ?took,
            replayed = report.replayed,
            took = ?t.elapsed(),
            "graph loaded from a snapshot and the log after it"
        ),
        None => tracing::info!(
            events = report.replayed,
            rejected = report.rejected.len(),
            took = ?t.elapsed(),
            "graph rebuilt from the event log"
        ),
    }
    catalog_ingest::tail::spawn(sync.clone(), args.tail_poll)
        .context("cannot start the log tailer")?;
    Ok(report)
}

fn spawn_workers(core: &Core, args: &ServeArgs, sync: Option<Arc<GraphSync>>) {
    let worker = Arc::new(Worker {
        store: core.store.clone(),
        registries: core.registries.clone(),
        sync,
        metrics: core.metrics.clone(),
        wake: core.wake.clone(),
        config: WorkerConfig {
            batch: args.worker_batch.clamp(1, 10_000),
            lease: args.worker_lease.max(std::time::Duration::from_secs(1)),
            max_attempts: args.max_attempts.max(1),
            retry_base: args.retry_base,
            ..WorkerConfig::default()
        },
    });
    tokio::spawn(worker.run().instrument(tracing::info_span!("worker")));
    if !args.reconcile_interval.is_zero() && !args.registries.is_empty() {
        let rec = Arc::new(Reconciler {
            registries: core.registries.clone(),
            store: core.store.clone(),
            inbox: core.inbox.clone(),
            metrics: core.metrics.clone(),
        });
        tokio::spawn(
            rec.run(args.reconcile_interval)
                .instrument(tracing::info_span!("reconcile")),
        );
    }
}

/// Opens the store; an error names the database with its password masked (a driver's
/// message may quote the whole URL).
pub fn open_store(url: &str, pool: u32, access: Access) -> anyhow::Result<Store> {
    Store::open_with(url, pool, access).map_err(|e| {
        anyhow::anyhow!(
            "cannot open the database {}: {}",
            redact_password(url),
            redact_password_in(&e.to_string(), url)
        )
    })
}

/// The message a read-only replica answers writes with.
fn read_only_message(args: &ServeArgs) -> String {
    let to = match &args.primary_url {
        Some(u) => format!("the catalog on the primary at {u}"),
        None => "a catalog on the primary database (one started without --read-only)".into(),
    };
    format!("this catalog is a read-only replica (--read-only): send hooks and mutations to {to}")
}

/// `catalog serve`: the API, the graph (following every commit to the log), and unless
/// `--no-worker` or `--read-only`, the workers.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    if args.read_only && !args.no_worker {
        tracing::info!("--read-only: this process runs no worker");
    }
    let core = open_core(&args).await?;
    let flagged: Vec<(String, &str, &[&str])> = [
        args.ingest_token
            .as_ref()
            .map(|s| (s.0.clone(), "flag:ingest", &["ingest"][..])),
        args.catalog_token
            .as_ref()
            .map(|s| (s.0.clone(), "flag:catalog", &["catalog"][..])),
        args.admin_token
            .as_ref()
            .map(|s| (s.0.clone(), "flag:admin", &["admin"][..])),
    ]
    .into_iter()
    .flatten()
    .collect();
    let auth = Authenticator::new(core.store.clone(), &flagged);
    if !args.read_only {
        let (store, auth, a) = (core.store.clone(), auth.clone(), args.clone());
        tokio::task::spawn_blocking(move || bootstrap_admin(&store, &auth, &a)).await??;
    }
    let catalog = Arc::new(RwLock::new(Catalog::new()));
    let sync = Arc::new(GraphSync::with_environments(
        core.store.clone(),
        catalog.clone(),
        args.cluster_environments.iter().cloned().collect(),
    ));
    core.inbox.attach(sync.clone());
    let ready = Arc::new(AtomicBool::new(false));
    let stopping = Arc::new(AtomicBool::new(false));
    let read_only = args
        .read_only
        .then(|| Arc::<str>::from(read_only_message(&args)));
    let ctx = AppCtx {
        store: core.store.clone(),
        catalog,
        sync: sync.clone(),
        inbox: core.inbox.clone(),
        registries: core.registries.clone(),
        read_only: read_only.clone(),
        policies: Arc::new(crate::policy::Policies::new(
            args.policy_dir.clone(),
            args.policy_budget,
        )),
        notify: Arc::new(crate::notify::Notifier::new(
            match &args.notify_config {
                Some(p) => crate::notify::config::NotifyConfig::load(p)?,
                None => Default::default(),
            },
            args.public_url.as_ref().map(|u| u.to_string()),
            args.notify_retain,
        )),
    };
    let policy_ctx = ctx.clone();
    let state = web::Data::new(AppState {
        schema: build_query_schema(Some(ctx.clone())),
        checked: build_schema(Some(ctx.clone())),
        ctx,
        auth,
        metrics: core.metrics.clone(),
        max_body: args.max_body_bytes,
        max_snapshot: args.max_snapshot_bytes,
        max_sbom: args.max_sbom_bytes,
        max_declared_edges: args.max_declared_edges,
        flux_secret: args
            .flux_hmac_secret
            .as_ref()
            .map(|s| s.0.clone().into_bytes()),
        require_read: args.require_read_token,
        ready: ready.clone(),
        read_only: read_only.clone(),
        browser: BrowserPolicy::new(
            &args.listen,
            args.public_url.clone(),
            args.allowed_origins.clone(),
        ),
        ws: Arc::new(WsLimits::new(
            ws::cap_to_fd_limit(args.ws_max_connections),
            args.ws_max_per_client,
            args.ws_max_subscriptions,
            args.ws_init_timeout,
        )),
        metrics_token: args.metrics_token.as_ref().map(|s| auth::hash(&s.0)),
        stopping: stopping.clone(),
        registry_hooks: hooks::registries::RegistryHooks {
            ghcr_secret: args
                .ghcr_hmac_secret
                .as_ref()
                .map(|s| s.0.clone().into_bytes()),
            artifactory_secret: args
                .artifactory_secret
                .as_ref()
                .map(|s| s.0.clone().into_bytes()),
            nexus_secret: args
                .nexus_hmac_secret
                .as_ref()
                .map(|s| s.0.clone().into_bytes()),
            sns_topics: args.sns_topics.clone(),
            sns_endpoint: args.sns_endpoint.clone(),
        },
    });
    let workers = args
        .http_workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .wrap_fn(|req, srv| {
                let span =
                    tracing::info_span!("request", method = %req.method(), path = %req.path());
                let refuse = req.app_data::<web::Data<AppState>>().and_then(|st| {
                    let path = req.path();
                    if path.starts_with("/hooks/") {
                        let m = st.read_only.as_ref()?;
                        return Some(ApiError::ReadOnly(m.to_string()));
                    }
                    // Hooks, probes and /metrics are exempt: registries and scrapers call
                    // them by whatever name their network gives the catalog.
                    if crate::origin::browser_facing(path) {
                        return st.browser.check_host(req.request()).err();
                    }
                    None
                });
                let fut = (refuse.is_none()).then(|| srv.call(req));
                async move {
                    let Some(fut) = fut else {
                        return Err(actix_web::Error::from(refuse.unwrap_or_else(|| {
                            ApiError::Internal("a refusal without a reason".into())
                        })));
                    };
                    let res = fut.await;
                    if let Ok(r) = &res {
                        tracing::debug!(status = r.status().as_u16(), "response");
                    }
                    res
                }
                .instrument(span)
            })
            .configure(routes)
    })
    .workers(workers)
    .backlog(4096)
    .bind(&args.listen)
    .with_context(|| format!("cannot listen on {}", args.listen))?;
    for a in server.addrs() {
        tracing::info!(addr = %a, "listening");
    }
    let server = server.run();
    // actix stops the server on these signals, but waits for requests in flight: tell the
    // long ones (an SBOM parse) to give up.
    tokio::spawn(raise_on_signal(stopping));
    // The API answers while the graph loads: hooks are taken into the inbox, /healthz is
    // up, /readyz and queries answer 503 until the graph is current.
    let loaded = {
        let (sync, args) = (sync.clone(), args.clone());
        tokio::task::spawn_blocking(move || load_graph(&sync, &args)).await??
    };
    // The policy set is in force before the first query is answered.
    {
        let from_dir = !args.read_only;
        let mut seen: Option<String> = None;
        let c = policy_ctx.clone();
        seen = tokio::task::spawn_blocking(move || {
            refresh_policies(&c, from_dir, &mut seen);
            seen
        })
        .await?;
        if !args.read_only {
            // Every observed deployment is judged after the fact too.
            crate::judge::spawn(policy_ctx.clone())?;
            // And what must be told to someone is.
            let sole = policy_ctx.store.backend() == catalog_schema::Backend::Sqlite;
            crate::notify::spawn(policy_ctx.clone(), sole)?;
        }
        let poll = args.policy_poll;
        if !poll.is_zero() {
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(poll).await;
                    let c = policy_ctx.clone();
                    let mut s = seen.take();
                    seen = tokio::task::spawn_blocking(move || {
                        refresh_policies(&c, from_dir, &mut s);
                        s
                    })
                    .await
                    .unwrap_or_default();
                }
            });
        }
    }
    ready.store(true, Ordering::Release);
    if !args.read_only {
        if !args.no_worker {
            spawn_workers(&core, &args, Some(sync.clone()));
        }
        let snapshots = Arc::new(Snapshotter::new(
            core.store.clone(),
            sync.clone(),
            core.metrics.clone(),
            SnapshotPolicy {
                every_events: args.snapshot_every_events,
                every: args.snapshot_every,
            },
            loaded.snapshot.as_ref().map(|(meta, _)| meta),
        ));
        if snapshots.due() {
            // A long replay is paid once: the next start-up begins from here.
            let s = snapshots.clone();
            tokio::task::spawn_blocking(move || {
                if let Err(e) = s.write() {
                    tracing::warn!(error = %e, "graph snapshot after start-up failed");
                }
            });
        }
        tokio::spawn(snapshots.run().instrument(tracing::info_span!("snapshots")));
    }
    server.await?;
    Ok(())
}

/// Brings the policy set in force up to date (see [`crate::policy::Policies::refresh`]), and
/// records a set newly put in force from the directory as a `policy.loaded` event.
fn refresh_policies(ctx: &AppCtx, from_dir: bool, seen: &mut Option<String>) {
    let (recorded, count) = match ctx.catalog.read() {
        Ok(g) => (
            g.governance().policy_set_in_force().map(|r| r.set.clone()),
            g.governance().policy_sets().len(),
        ),
        Err(_) => return,
    };
    let Some(set) = ctx.policies.refresh(recorded.as_ref(), from_dir, seen) else {
        return;
    };
    let actor = ctx.policies.dir().map_or_else(
        || "catalog".to_string(),
        |d| format!("policy-dir:{}", d.display()),
    );
    let ev = catalog_core::event::NewEvent {
        // Numbered: putting back an earlier set is a change of its own.
        key: format!("policy.loaded:{}:{}", count + 1, set.digest),
        occurred_at: chrono::Utc::now(),
        source: "policy-dir".into(),
        actor,
        event: catalog_core::event::Event::PolicySetLoaded(Box::new(set)),
    };
    let recorded = ctx
        .store
        .record(&[(None, vec![ev])])
        .map_err(anyhow::Error::from)
        .and_then(|_| ctx.sync.sync().map_err(anyhow::Error::from));
    if let Err(e) = recorded {
        // Tried again on the next poll.
        *seen = None;
        tracing::warn!(error = %e, "cannot record the policy set put in force");
    }
}

/// Sets `flag` on the first SIGTERM or SIGINT (those actix-web stops on).
async fn raise_on_signal(flag: Arc<AtomicBool>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            tracing::warn!("cannot listen for SIGTERM: parses in flight will not stop early");
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
    }
    flag.store(true, Ordering::Relaxed);
}

/// `catalog worker`: inbox processing and reconcile only, with no graph.
pub async fn worker(args: ServeArgs) -> anyhow::Result<()> {
    if args.read_only {
        anyhow::bail!("catalog worker writes to the log: it cannot run --read-only");
    }
    let core = open_core(&args).await?;
    spawn_workers(&core, &args, None);
    tokio::signal::ctrl_c().await?;
    Ok(())
}

/// `catalog token ...`
pub fn token(cmd: TokenCommand) -> anyhow::Result<()> {
    match cmd {
        TokenCommand::Create { db, name, scope } => {
            for s in &scope {
                if Scope::parse(s).is_none() {
                    anyhow::bail!(
                        "--scope: unknown scope {s:?}; use read, ingest, catalog, approve or admin"
                    );
                }
            }
            let store = open_store(&db.database_url, 2, Access::ReadWrite)?;
            let secret = auth::generate().map_err(|e| anyhow::anyhow!("{e}"))?;
            if !store.token_create(&name, &auth::hash(&secret), &scope)? {
                anyhow::bail!(
                    "a token named {name:?} exists; revoke it first or choose another name"
                );
            }
            println!("{secret}");
            Ok(())
        }
        TokenCommand::Revoke { db, name } => {
            let store = open_store(&db.database_url, 2, Access::ReadWrite)?;
            if !store.token_delete(&name)? {
                anyhow::bail!("no token named {name:?}");
            }
            Ok(())
        }
    }
}
