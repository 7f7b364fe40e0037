//! The command line: clap derive, every flag with its `CATALOG_*` variable, one `Config`
//! struct handed down (never a global). Secrets are wrapped so they never print.

use crate::origin::WebOrigin;
use catalog_ingest::registry::RegistryConfig;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::time::Duration;

/// A secret from a flag or variable; Debug prints `<redacted>`.
#[derive(Clone)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl std::str::FromStr for Secret {
    type Err = String;
    fn from_str(s: &str) -> Result<Secret, String> {
        if s.len() < 8 {
            return Err("a token must be at least 8 characters".into());
        }
        Ok(Secret(s.to_string()))
    }
}

pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let (n, unit) = s.trim().split_at(
        s.trim()
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(s.trim().len()),
    );
    let n: u64 = n
        .parse()
        .map_err(|_| format!("{s:?}: expected e.g. 30s, 5m, 500ms"))?;
    Ok(match unit {
        "ms" => Duration::from_millis(n),
        "" | "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        "d" => Duration::from_secs(n * 86_400),
        _ => return Err(format!("{s:?}: unit must be ms, s, m, h or d")),
    })
}

/// `--registry`: clap's own error for a bad value quotes it whole, password included; this
/// one names it with the password masked (see [`RegistryConfig`]'s errors).
#[derive(Clone)]
struct RegistryParser;

impl clap::builder::TypedValueParser for RegistryParser {
    type Value = RegistryConfig;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<RegistryConfig, clap::Error> {
        use clap::error::ErrorKind;
        let refuse = |kind: ErrorKind, why: String| {
            clap::Error::raw(kind, format!("invalid value for --registry: {why}\n")).with_cmd(cmd)
        };
        let s = value
            .to_str()
            .ok_or_else(|| refuse(ErrorKind::InvalidUtf8, "not valid UTF-8".to_string()))?;
        s.parse().map_err(|e| refuse(ErrorKind::ValueValidation, e))
    }
}

fn parse_cluster_environment(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((c, e)) if !c.trim().is_empty() && !e.trim().is_empty() => {
            Ok((c.trim().to_string(), e.trim().to_string()))
        }
        _ => Err(format!(
            "{s:?}: expected CLUSTER=ENVIRONMENT, e.g. prod-eu-1=prod"
        )),
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "catalog",
    version,
    about = "A service catalog and inventory tracker: what runs where, built from what, owned by whom."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (GraphQL, webhooks, UI) and run the workers (the default).
    Serve(ServeArgs),
    /// Run only the workers (inbox processing and reconcile), for scaling out on PostgreSQL.
    /// Holds no graph: any number may run, each claiming inbox items with leases.
    Worker(ServeArgs),
    /// Run database migrations and exit.
    Migrate(DbArgs),
    /// Manage bearer tokens stored in the database.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Print the GraphQL schema (SDL) the server serves.
    Schema,
    /// Import files into a running catalog through its API: SBOMs and OSV records.
    /// Exit codes as for deploy: 0 done, 2 refused input, 3 token refused, 4 unreachable.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Record a deployment from a CI pipeline (a client of a running catalog's API); with
    /// --check, ask the policies first and record nothing.
    /// Exit codes: 0 recorded (or allowed), 2 refused input, 3 token refused, 4 catalog
    /// unreachable or failing, 5 denied by policy (--check).
    Deploy(DeployArgs),
    /// Approve (or --reject) a component version for an environment (approve scope).
    /// Exit codes as for deploy.
    Approve(ApproveArgs),
    /// Record non-secret configuration of an environment, cluster or namespace (ingest
    /// scope): `set KEY=VALUE...` or `import FILE` (.env or YAML). A value that looks like a
    /// secret is refused, naming the key, and nothing is recorded. Exit codes as for deploy.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Notification rules and the outbox of a running catalog: `rule set`, `rule remove`,
    /// `rules`, `outbox`, `retry ID`. Exit codes as for deploy.
    #[command(subcommand)]
    Notify(NotifyCommand),
}

/// Where `catalog notify` talks to.
#[derive(Debug, Clone, Args)]
pub struct NotifyTarget {
    #[arg(long, env = "CATALOG_SERVER", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// A token: the catalog scope sets rules, the admin scope retries.
    #[arg(long, env = "CATALOG_TOKEN", hide_env_values = true)]
    pub token: Option<Secret>,
    /// Give up after this long of retrying an unreachable or failing catalog.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub timeout: Duration,
}

#[derive(Debug, Subcommand)]
pub enum NotifyCommand {
    /// Set the rule of a team (default: any team) in an environment (default: any): which
    /// endpoints hear which triggers. Replaces that rule.
    #[command(subcommand)]
    Rule(RuleCommand),
    /// List the rules in force.
    Rules {
        #[command(flatten)]
        target: NotifyTarget,
    },
    /// List the outbox, newest first.
    Outbox {
        #[command(flatten)]
        target: NotifyTarget,
        #[arg(long, value_parser = ["pending", "delivered", "parked"])]
        state: Option<String>,
        #[arg(long)]
        endpoint: Option<String>,
        #[arg(long, default_value_t = 50)]
        first: i32,
    },
    /// Put a parked notification back in its endpoint's lane (admin scope).
    Retry {
        #[command(flatten)]
        target: NotifyTarget,
        id: i64,
    },
}

/// Whose rule: a team's (default: any team's) in an environment (default: any).
#[derive(Debug, Clone, Args)]
pub struct RuleScope {
    #[arg(long)]
    pub team: Option<String>,
    #[arg(long)]
    pub environment: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum RuleCommand {
    Set {
        #[command(flatten)]
        target: NotifyTarget,
        #[command(flatten)]
        scope: RuleScope,
        /// An endpoint of the server's --notify-config (repeatable, or comma-separated).
        #[arg(long = "endpoint", required = true, value_delimiter = ',')]
        endpoints: Vec<String>,
        /// Triggers (comma-separated): vulnerability, violation, drift, failure.
        #[arg(long, required = true, value_delimiter = ',', value_parser = ["vulnerability", "violation", "drift", "failure"])]
        on: Vec<String>,
        /// Vulnerabilities below this are not notified.
        #[arg(long, value_parser = ["none", "low", "medium", "high", "critical"])]
        min_severity: Option<String>,
    },
    Remove {
        #[command(flatten)]
        target: NotifyTarget,
        #[command(flatten)]
        scope: RuleScope,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Set values (`KEY=VALUE`, repeatable) and remove keys (`--unset KEY`).
    Set {
        #[command(flatten)]
        target: ConfigTarget,
        /// KEY=VALUE pairs.
        pairs: Vec<String>,
        /// Keys to remove.
        #[arg(long)]
        unset: Vec<String>,
    },
    /// Set every value of a file: `.env` (`KEY=VALUE` lines, `export`, quotes, `#`
    /// comments) or YAML (a mapping; nested mappings become `a.b` keys).
    Import {
        #[command(flatten)]
        target: ConfigTarget,
        file: std::path::PathBuf,
        /// The file's format (default: from its extension, `.yaml`/`.yml` for YAML).
        #[arg(long, value_parser = ["env", "yaml"])]
        format: Option<String>,
    },
}

/// Where `catalog config` records: the catalog, and the scope.
#[derive(Debug, Clone, Args)]
pub struct ConfigTarget {
    #[arg(long, env = "CATALOG_SERVER", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// A token with the ingest scope.
    #[arg(long, env = "CATALOG_TOKEN", hide_env_values = true)]
    pub token: Option<Secret>,
    /// The environment the values are for.
    #[arg(long, required_unless_present = "cluster", conflicts_with = "cluster")]
    pub environment: Option<String>,
    /// The cluster the values are for (its environment's values apply to it too).
    #[arg(long)]
    pub cluster: Option<String>,
    /// A namespace of --cluster.
    #[arg(long, requires = "cluster")]
    pub namespace: Option<String>,
    /// When the values took effect (RFC 3339; default now).
    #[arg(long)]
    pub at: Option<String>,
    /// Give up after this long of retrying an unreachable or failing catalog.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub timeout: Duration,
}

/// `catalog deploy`: what was deployed where.
#[derive(Debug, Clone, Args)]
pub struct DeployArgs {
    /// The catalog to record in.
    #[arg(long, env = "CATALOG_SERVER", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// A token with the ingest scope.
    #[arg(long, env = "CATALOG_TOKEN", hide_env_values = true)]
    pub token: Option<Secret>,
    #[arg(long)]
    pub cluster: String,
    #[arg(long)]
    pub namespace: String,
    /// The component deployed (with --version), e.g. shop/cart.
    #[arg(long, requires = "version")]
    pub component: Option<String>,
    /// The version deployed (with --component).
    #[arg(long, requires = "component")]
    pub version: Option<String>,
    /// The image deployed, e.g. registry.example.com/shop/cart:1.4.2[@sha256:...].
    #[arg(long, required_unless_present_any = ["component", "status"])]
    pub image: Option<String>,
    /// The workload name (default: the component's or image repository's last path segment).
    #[arg(long)]
    pub workload: Option<String>,
    /// The cluster's environment, e.g. prod.
    #[arg(long)]
    pub environment: Option<String>,
    /// progressing, healthy, degraded, failed, rolled_back or removed.
    #[arg(long, default_value = "healthy")]
    pub status: String,
    #[arg(long)]
    pub replicas: Option<i32>,
    /// The share of the workload's traffic it takes, 0 to 100: a canary step (with
    /// --stable-version or --stable-image), or a blue/green color's 100 (live) or 0 (idle).
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub traffic: Option<u8>,
    /// A canary step: the stable version that takes the rest of the traffic.
    #[arg(long, requires = "traffic")]
    pub stable_version: Option<String>,
    /// A canary step: the stable version's image.
    #[arg(long, requires = "traffic")]
    pub stable_image: Option<String>,
    /// The git revision deployed.
    #[arg(long, env = "CATALOG_REVISION")]
    pub revision: Option<String>,
    /// A link back to the pipeline run.
    #[arg(long)]
    pub url: Option<String>,
    /// When it happened (RFC 3339; default now).
    #[arg(long)]
    pub at: Option<String>,
    /// Idempotency key: the same id recorded twice is one deployment (default: derived
    /// from the arguments and the time).
    #[arg(long)]
    pub id: Option<String>,
    /// Give up after this long of retrying an unreachable or failing catalog.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Ask the policies instead of recording: exit 0 when allowed, 5 when denied (with the
    /// reasons). Needs --component and --version. Records nothing.
    #[arg(long, requires = "component")]
    pub check: bool,
}

/// `catalog approve`: approve (or reject) a version for an environment.
#[derive(Debug, Clone, Args)]
pub struct ApproveArgs {
    /// The catalog to record in.
    #[arg(long, env = "CATALOG_SERVER", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// A token with the approve scope; its name is the approver.
    #[arg(long, env = "CATALOG_TOKEN", hide_env_values = true)]
    pub token: Option<Secret>,
    #[arg(long)]
    pub component: String,
    #[arg(long)]
    pub version: String,
    #[arg(long)]
    pub environment: String,
    #[arg(long)]
    pub comment: Option<String>,
    /// Reject instead of approve.
    #[arg(long)]
    pub reject: bool,
    /// Give up after this long of retrying an unreachable or failing catalog.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub timeout: Duration,
}

/// Which running catalog an import goes to, and as whom.
#[derive(Debug, Clone, Args)]
pub struct ImportTarget {
    /// The catalog to import into.
    #[arg(long, env = "CATALOG_SERVER", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// A token with the ingest scope (SBOMs), or the catalog scope (Backstage, OSV).
    #[arg(long, env = "CATALOG_TOKEN", hide_env_values = true)]
    pub token: Option<Secret>,
    /// Give up after this long of retrying an unreachable or failing catalog.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub timeout: Duration,
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// An SBOM (CycloneDX 1.4-1.6 or SPDX 2.3 JSON, or an in-toto attestation of one) for an
    /// image. A later SBOM for the same image replaces it.
    Sbom {
        #[command(flatten)]
        target: ImportTarget,
        /// The SBOM file.
        file: std::path::PathBuf,
        /// The image it describes (sha256:...); optional when the SBOM's metadata names it.
        #[arg(long)]
        image: Option<String>,
    },
    /// A VEX document (OpenVEX, or CycloneDX with `vulnerabilities[].analysis`): statements
    /// that products are, or are not, affected by vulnerabilities. A later statement about the
    /// same product and vulnerability supersedes an earlier one.
    Vex {
        #[command(flatten)]
        target: ImportTarget,
        /// The VEX file.
        file: std::path::PathBuf,
        /// The image a CycloneDX VEX is about, when the document does not name it (sha256:...).
        #[arg(long)]
        image: Option<String>,
    },
    /// OSV vulnerability records: a .json file, a directory of them (recursively) or a .zip
    /// (as osv.dev publishes them). Re-importing changes nothing; a modified record replaces
    /// its older version.
    Osv {
        #[command(flatten)]
        target: ImportTarget,
        /// A file, directory or .zip.
        path: std::path::PathBuf,
    },
    /// Backstage descriptors (`catalog-info.yaml`, multi-document): owners, dependencies,
    /// systems (applications), groups and users with their contacts. Files, or directories
    /// walked recursively for *.yaml / *.yml. Re-importing an unchanged file changes nothing.
    Backstage {
        #[command(flatten)]
        target: ImportTarget,
        /// Files or directories.
        #[arg(required = true)]
        paths: Vec<std::path::PathBuf>,
    },
}

#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// Database: a SQLite file path, or postgres://user@host/db.
    #[arg(
        long,
        env = "CATALOG_DATABASE_URL",
        default_value = "catalog.db",
        hide_env_values = true
    )]
    pub database_url: String,
    /// Database connections in the pool.
    #[arg(long, env = "CATALOG_DB_POOL", default_value_t = 8)]
    pub db_pool: u32,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Address to listen on.
    #[arg(long, env = "CATALOG_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// A registry to read images from (repeatable; comma-separated in the variable):
    /// [http|https]://[user[:password]@]host[:port]. A password written $NAME is read from
    /// the variable NAME. Notifications from other registries are parked until configured.
    #[arg(
        long = "registry",
        env = "CATALOG_REGISTRIES",
        value_delimiter = ',',
        value_parser = RegistryParser,
        hide_env_values = true
    )]
    pub registries: Vec<RegistryConfig>,
    /// Docker's config.json (or a directory holding one), where registries given without
    /// credentials take theirs: credHelpers[host], then credsStore (docker-credential-<name>
    /// helpers on PATH), then auths. Default: $DOCKER_CONFIG/config.json, else
    /// ~/.docker/config.json when it exists.
    #[arg(long, env = "CATALOG_DOCKER_CONFIG")]
    pub docker_config: Option<std::path::PathBuf>,
    /// How often to reconcile each registry (walk _catalog and tags/list), e.g. 5m; 0 disables.
    #[arg(long, env = "CATALOG_RECONCILE_INTERVAL", default_value = "5m", value_parser = parse_duration)]
    pub reconcile_interval: Duration,
    /// A token with the ingest scope (for registries and CD tools), in addition to stored ones.
    #[arg(long, env = "CATALOG_INGEST_TOKEN", hide_env_values = true)]
    pub ingest_token: Option<Secret>,
    /// A token with the catalog scope (ownership, contacts, declared dependencies,
    /// applications, Backstage and OSV imports), in addition to stored ones.
    #[arg(long, env = "CATALOG_CATALOG_TOKEN", hide_env_values = true)]
    pub catalog_token: Option<Secret>,
    /// A token with the admin scope, in addition to stored ones.
    #[arg(long, env = "CATALOG_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<Secret>,
    /// A directory of Rego policies (`*.rego`, each package with a `deny` rule) that judge
    /// deployments: `deploymentCheck`, `catalog deploy --check`. Re-read every --policy-poll;
    /// a set that does not compile is refused and the one in force stays.
    #[arg(long, env = "CATALOG_POLICY_DIR")]
    pub policy_dir: Option<std::path::PathBuf>,
    /// How often to look for changed policies, e.g. 2s; 0 reads them at start only.
    #[arg(long, env = "CATALOG_POLICY_POLL", default_value = "2s", value_parser = parse_duration)]
    pub policy_poll: Duration,
    /// The most one policy evaluation may take before it is stopped (and denies), e.g. 250ms.
    #[arg(long, env = "CATALOG_POLICY_BUDGET", default_value = "250ms", value_parser = parse_duration)]
    pub policy_budget: Duration,
    /// Require a token with the read scope for queries, subscriptions and /metrics (by
    /// default reads are open; a token that is sent must be valid either way).
    #[arg(long, env = "CATALOG_REQUIRE_READ_TOKEN")]
    pub require_read_token: bool,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "CATALOG_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Largest SBOM (`/hooks/sbom`) or OSV batch (`/hooks/osv`) accepted, in bytes.
    #[arg(long, env = "CATALOG_MAX_SBOM_BYTES", default_value_t = 32 * 1024 * 1024)]
    pub max_sbom_bytes: usize,
    /// Most dependency edges one Backstage import may add (a consumer of an API depends on
    /// every provider of it, so N components that provide and consume one API make N² edges).
    #[arg(long, env = "CATALOG_MAX_DECLARED_EDGES", default_value_t = 1_000_000)]
    pub max_declared_edges: u64,
    /// Largest `/hooks/kubernetes` snapshot accepted, in bytes (a pod list is large).
    #[arg(long, env = "CATALOG_MAX_SNAPSHOT_BYTES", default_value_t = 64 * 1024 * 1024)]
    pub max_snapshot_bytes: usize,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "CATALOG_HTTP_WORKERS")]
    pub http_workers: Option<usize>,
    /// Inbox items claimed and committed together.
    #[arg(long, env = "CATALOG_WORKER_BATCH", default_value_t = 512)]
    pub worker_batch: i64,
    /// How long a worker's claim on an inbox item holds: a killed worker's items go to the
    /// others after this. An item processed twice (a slow worker overtaken) records nothing
    /// twice, since every event has a natural key.
    #[arg(long, env = "CATALOG_WORKER_LEASE", default_value = "15s", value_parser = parse_duration)]
    pub worker_lease: Duration,
    /// Attempts before a failing inbox item is parked.
    #[arg(long, env = "CATALOG_MAX_ATTEMPTS", default_value_t = 8)]
    pub max_attempts: i32,
    /// First retry delay of a failing item; doubles per attempt (max 5m).
    #[arg(long, env = "CATALOG_RETRY_BASE", default_value = "2s", value_parser = parse_duration)]
    pub retry_base: Duration,
    /// Do not process the inbox in this process (API only; run `catalog worker` elsewhere).
    /// The graph still follows every commit to the log, whoever makes it.
    #[arg(long, env = "CATALOG_NO_WORKER")]
    pub no_worker: bool,
    /// Serve queries, the dashboard and subscriptions only, from a database that may be a
    /// PostgreSQL hot standby: no migrations, no worker, no snapshots written; hooks and
    /// mutations answer 503 and name the primary.
    #[arg(long, env = "CATALOG_READ_ONLY")]
    pub read_only: bool,
    /// Where writes go, named in a read-only replica's 503 answers (e.g. the URL of the
    /// catalog on the primary).
    #[arg(long, env = "CATALOG_PRIMARY_URL", hide_env_values = true)]
    pub primary_url: Option<String>,
    /// Write a graph snapshot after this many events past the newest one (0: never by count).
    /// A start-up loads the newest snapshot and replays only the log after it.
    #[arg(long, env = "CATALOG_SNAPSHOT_EVERY_EVENTS", default_value_t = 50_000)]
    pub snapshot_every_events: i64,
    /// Write a graph snapshot this long after the newest one, when events arrived since
    /// (0: never by time).
    #[arg(long, env = "CATALOG_SNAPSHOT_EVERY", default_value = "15m", value_parser = parse_duration)]
    pub snapshot_every: Duration,
    /// How often the graph reads the log for other processes' commits when no commit wakes
    /// it (default: 100ms on a hot standby; 1s elsewhere, where PostgreSQL's NOTIFY or this
    /// process's own writes are applied at once).
    #[arg(long, env = "CATALOG_TAIL_POLL", value_parser = parse_duration)]
    pub tail_poll: Option<Duration>,
    /// Log format: text for people, json for log pipelines.
    #[arg(long, env = "CATALOG_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Puts a cluster in an environment (repeatable; comma-separated in the variable):
    /// CLUSTER=ENVIRONMENT, e.g. prod-eu-1=prod. Overrides what deploy events say.
    #[arg(long = "cluster-environment", env = "CATALOG_CLUSTER_ENVIRONMENTS", value_delimiter = ',', value_parser = parse_cluster_environment)]
    pub cluster_environments: Vec<(String, String)>,
    /// GitHub's webhook secret: /hooks/ghcr accepts a delivery whose `X-Hub-Signature-256`
    /// is the HMAC-SHA256 of its body under it (GitHub cannot send a token).
    #[arg(long, env = "CATALOG_GHCR_HMAC_SECRET", hide_env_values = true)]
    pub ghcr_hmac_secret: Option<Secret>,
    /// Artifactory's webhook secret token: /hooks/artifactory accepts `X-JFrog-Event-Auth`
    /// equal to it, or to the HMAC-SHA256 of the body under it ("use secret for signing").
    #[arg(long, env = "CATALOG_ARTIFACTORY_SECRET", hide_env_values = true)]
    pub artifactory_secret: Option<Secret>,
    /// Nexus's webhook secret key: /hooks/nexus accepts `X-Nexus-Webhook-Signature`, the
    /// HMAC-SHA1 of the body under it.
    #[arg(long, env = "CATALOG_NEXUS_HMAC_SECRET", hide_env_values = true)]
    pub nexus_hmac_secret: Option<Secret>,
    /// An SNS topic ARN whose deliveries /hooks/ecr accepts and whose subscription it
    /// confirms (repeatable; others are refused).
    #[arg(long = "sns-topic", env = "CATALOG_SNS_TOPICS", value_delimiter = ',')]
    pub sns_topics: Vec<String>,
    /// Where SNS subscriptions are confirmed (default: https://sns.<region>.amazonaws.com of
    /// the topic's ARN; set it for a VPC endpoint).
    #[arg(long, env = "CATALOG_SNS_ENDPOINT")]
    pub sns_endpoint: Option<String>,
    /// Shared secret of Flux's generic-hmac provider: /hooks/flux then accepts a request whose
    /// X-Signature matches, and refuses one whose signature does not (401).
    #[arg(long, env = "CATALOG_FLUX_HMAC_SECRET", hide_env_values = true)]
    pub flux_hmac_secret: Option<Secret>,
    /// The URL browsers reach this catalog at, e.g. https://catalog.example.com behind a
    /// proxy: its host is accepted in the Host header of GraphQL and UI requests (other DNS
    /// names are refused, against DNS rebinding; IP addresses and localhost always pass), and
    /// its origin may open the GraphQL WebSocket.
    #[arg(long, env = "CATALOG_PUBLIC_URL")]
    pub public_url: Option<WebOrigin>,
    /// Notification endpoints (YAML or JSON): where notifications may go, with the secrets to
    /// send with, each read from a file. Rules (`catalog notify rule`, GraphQL) say which
    /// endpoint hears what. See the README's "Notifications".
    #[arg(long, env = "CATALOG_NOTIFY_CONFIG")]
    pub notify_config: Option<std::path::PathBuf>,
    /// How long delivered notifications stay in the outbox (0: for ever). Parked and
    /// pending ones stay until delivered.
    #[arg(long, env = "CATALOG_NOTIFY_RETAIN", default_value = "30d", value_parser = parse_duration)]
    pub notify_retain: Duration,
    /// Another origin whose pages may open the GraphQL WebSocket (repeatable; comma-separated
    /// in the variable), e.g. https://dashboards.example.com. Pages of the catalog's own
    /// origin always may; clients that send no Origin (programs) are not browsers and may.
    #[arg(
        long = "allowed-origin",
        env = "CATALOG_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    pub allowed_origins: Vec<WebOrigin>,
    /// How long a WebSocket may stay open without sending `connection_init`; then it is
    /// closed with 4408 (Connection initialisation timeout).
    #[arg(long, env = "CATALOG_WS_INIT_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub ws_init_timeout: Duration,
    /// Open WebSockets in total; an upgrade past it is answered 503. Lowered at start to half
    /// the process's open-file limit when that is smaller.
    #[arg(long, env = "CATALOG_WS_MAX_CONNECTIONS", default_value_t = 512)]
    pub ws_max_connections: usize,
    /// Open WebSockets per client address; an upgrade past it is answered 429. Behind a
    /// proxy every client has the proxy's address: raise it there.
    #[arg(long, env = "CATALOG_WS_MAX_PER_CLIENT", default_value_t = 64)]
    pub ws_max_per_client: usize,
    /// Active subscriptions per WebSocket; a `subscribe` past it gets an `error` message
    /// (the connection and its other subscriptions go on).
    #[arg(long, env = "CATALOG_WS_MAX_SUBSCRIPTIONS", default_value_t = 100)]
    pub ws_max_subscriptions: usize,
    /// A token that may read /metrics (for a Prometheus scraper), in addition to tokens with
    /// the read scope. When set, /metrics requires one of them even where reads are open.
    #[arg(long, env = "CATALOG_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<Secret>,
    /// Where the bootstrap admin token is written on a first start with no token configured
    /// (default: beside the SQLite file, or ./catalog-admin.token).
    #[arg(long, env = "CATALOG_BOOTSTRAP_TOKEN_FILE")]
    pub bootstrap_token_file: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print its secret (shown once).
    Create {
        #[command(flatten)]
        db: DbArgs,
        /// A name to recognise it by (e.g. registry-prod, argocd).
        #[arg(long)]
        name: String,
        /// Scopes, comma-separated: read, ingest, catalog, approve, admin.
        #[arg(long, value_delimiter = ',', default_value = "ingest")]
        scope: Vec<String>,
    },
    /// Revoke a token by name.
    Revoke {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        name: String,
    },
}
