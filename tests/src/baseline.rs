//! The SQL baselines the benchmarks measure the in-memory graph against: current-state tables
//! the harness builds itself, in a database of its own (PostgreSQL or a SQLite file), from
//! the same synthetic data the catalog is given, and the questions answered by SQL alone
//! over them (what runs in a cluster at a moment, which images contain a package, the blast
//! radius as one recursive query).
//!
//! The catalog's store keeps no such tables: every rule lives once, in catalog-core, and the
//! graph is the read model. These exist only to be raced against. Their rules are the
//! simple ones the benchmarks' well-formed data needs (the latest observation, SBOM and
//! owner win); the benchmarks compare every answer with the graph's before timing either.

use anyhow::{anyhow, Context, Result};
use catalog_core::event::{Event, ImageRegistered, RecordedEvent};
use catalog_core::identity::labels;
use catalog_core::purl::Purl;
use diesel::connection::SimpleConnection;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use diesel::{Connection, QueryableByName, RunQueryDsl};
use std::collections::BTreeMap;

/// The tables, in both dialects (times are microseconds since the epoch, as in the store).
const DDL: &str = "
CREATE TABLE deployment_observations (
    cluster TEXT NOT NULL, namespace TEXT NOT NULL, workload TEXT NOT NULL, at BIGINT NOT NULL,
    event_key TEXT NOT NULL, status TEXT NOT NULL, runs TEXT NOT NULL,
    PRIMARY KEY (cluster, namespace, workload, at, event_key));
CREATE INDEX deployment_observations_cluster_at ON deployment_observations (cluster, at);
CREATE TABLE cluster_snapshots (
    cluster TEXT NOT NULL, at BIGINT NOT NULL, event_key TEXT NOT NULL,
    PRIMARY KEY (cluster, at, event_key));
CREATE TABLE components (name TEXT PRIMARY KEY NOT NULL);
CREATE TABLE component_versions (
    component TEXT NOT NULL, version TEXT NOT NULL, digest TEXT NOT NULL, pushed_at BIGINT NOT NULL,
    PRIMARY KEY (component, version));
CREATE INDEX component_versions_digest ON component_versions (digest);
CREATE TABLE teams (name TEXT PRIMARY KEY NOT NULL, email TEXT, chat TEXT, pager TEXT);
CREATE TABLE ownership (
    component TEXT PRIMARY KEY NOT NULL, team TEXT NOT NULL, via_rank INTEGER NOT NULL,
    since BIGINT NOT NULL);
CREATE INDEX ownership_team ON ownership (team);
CREATE TABLE image_sboms (
    image TEXT PRIMARY KEY NOT NULL, event_key TEXT NOT NULL, attached_at BIGINT NOT NULL);
CREATE TABLE package_versions (
    purl TEXT PRIMARY KEY NOT NULL, package TEXT NOT NULL, version TEXT NOT NULL);
CREATE INDEX package_versions_package ON package_versions (package);
CREATE TABLE image_packages (
    image TEXT NOT NULL, package_version TEXT NOT NULL, depth INTEGER,
    PRIMARY KEY (image, package_version));
CREATE INDEX image_packages_version ON image_packages (package_version);
CREATE TABLE dependencies (
    from_component TEXT NOT NULL, to_component TEXT NOT NULL,
    PRIMARY KEY (from_component, to_component));
CREATE INDEX dependencies_to ON dependencies (to_component);
CREATE TABLE applications (name TEXT PRIMARY KEY NOT NULL, owner TEXT);
CREATE TABLE application_members (
    application TEXT NOT NULL, component TEXT NOT NULL, via TEXT NOT NULL,
    PRIMARY KEY (application, component, via));
CREATE INDEX application_members_component ON application_members (component);
";

/// A connection to a baseline database.
pub enum Baseline {
    Postgres(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// A string as a SQL literal.
fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

impl Baseline {
    /// Connects to `url` (`postgres://...`, else a SQLite path) and creates the tables, which
    /// must not exist yet (a fresh database or file).
    pub fn create(url: &str) -> Result<Baseline> {
        let mut b = Baseline::connect(url)?;
        b.batch(DDL).context("creating the baseline tables")?;
        Ok(b)
    }

    /// Connects to a database whose tables exist.
    pub fn connect(url: &str) -> Result<Baseline> {
        Ok(
            if url.starts_with("postgres://") || url.starts_with("postgresql://") {
                Baseline::Postgres(diesel::PgConnection::establish(url)?)
            } else {
                let mut c = diesel::SqliteConnection::establish(url)?;
                c.batch_execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")?;
                Baseline::Sqlite(c)
            },
        )
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Baseline::Postgres(_) => "postgres",
            Baseline::Sqlite(_) => "sqlite",
        }
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        match self {
            Baseline::Postgres(c) => c.batch_execute(sql)?,
            Baseline::Sqlite(c) => c.batch_execute(sql)?,
        }
        Ok(())
    }

    fn rows<R>(&mut self, sql: &str) -> Result<Vec<R>>
    where
        R: QueryableByName<diesel::pg::Pg> + QueryableByName<diesel::sqlite::Sqlite> + 'static,
    {
        Ok(match self {
            Baseline::Postgres(c) => diesel::sql_query(sql).load(c)?,
            Baseline::Sqlite(c) => diesel::sql_query(sql).load(c)?,
        })
    }

    /// Folds events into the tables the way the benchmarks' data needs: every observation
    /// and cluster snapshot; a version's latest push; the owner by rank (declared beats a
    /// label), then time; an image's latest SBOM (by time, then key) with its packages.
    /// One transaction per call.
    pub fn record(&mut self, events: &[RecordedEvent]) -> Result<()> {
        let mut sql = String::from("BEGIN;\n");
        let mut sboms: Vec<&RecordedEvent> = Vec::new();
        for rec in events {
            let t = rec.occurred_at.timestamp_micros();
            match &rec.event {
                Event::DeploymentObserved(d) => {
                    observe(&mut sql, &d.cluster, std::slice::from_ref(d), t, &rec.key)?;
                }
                Event::ClusterSnapshot(s) => {
                    sql.push_str(&format!(
                        "INSERT INTO cluster_snapshots (cluster, at, event_key) VALUES ({}, {t}, {}) ON CONFLICT DO NOTHING;\n",
                        lit(&s.cluster),
                        lit(&rec.key)
                    ));
                    observe(&mut sql, &s.cluster, &s.workloads, t, &rec.key)?;
                }
                Event::ImageRegistered(e) => registered(&mut sql, e, t),
                Event::OwnerSet {
                    component,
                    team,
                    via,
                } => owner(&mut sql, component, team, i32::from(via != "label"), t),
                Event::SbomAttached(_) => sboms.push(rec),
                _ => {}
            }
        }
        sql.push_str("COMMIT;\n");
        self.batch(&sql)?;
        for rec in sboms {
            self.sbom(rec)?;
        }
        Ok(())
    }

    fn sbom(&mut self, rec: &RecordedEvent) -> Result<()> {
        let Event::SbomAttached(s) = &rec.event else {
            return Ok(());
        };
        let t = rec.occurred_at.timestamp_micros();
        #[derive(QueryableByName)]
        struct Current {
            #[diesel(sql_type = BigInt)]
            attached_at: i64,
            #[diesel(sql_type = Text)]
            event_key: String,
        }
        let current: Vec<Current> = self.rows(&format!(
            "SELECT attached_at, event_key FROM image_sboms WHERE image = {}",
            lit(&s.image)
        ))?;
        let wins = current
            .first()
            .is_none_or(|c| (c.attached_at, c.event_key.as_str()) < (t, rec.key.as_str()));
        // (package version) -> (package, version, shallowest depth)
        let mut versions: BTreeMap<String, (String, String, Option<i32>)> = BTreeMap::new();
        for p in &s.sbom.packages {
            let Some(mut purl) = p.purl.as_deref().and_then(|u| Purl::parse(u).ok()) else {
                continue;
            };
            if purl.version.is_none() {
                purl.version.clone_from(&p.version);
            }
            let Some(version) = purl.version.clone() else {
                continue;
            };
            let depth = p.depth.map(|d| d as i32);
            let e =
                versions
                    .entry(purl.package_version())
                    .or_insert((purl.package(), version, depth));
            e.2 = match (e.2, depth) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        let mut sql = String::from("BEGIN;\n");
        for chunk in versions.iter().collect::<Vec<_>>().chunks(500) {
            let values: Vec<String> = chunk
                .iter()
                .map(|(pv, (pkg, v, _))| format!("({}, {}, {})", lit(pv), lit(pkg), lit(v)))
                .collect();
            sql.push_str(&format!(
                "INSERT INTO package_versions (purl, package, version) VALUES {} ON CONFLICT DO NOTHING;\n",
                values.join(",")
            ));
        }
        if wins {
            sql.push_str(&format!(
                "DELETE FROM image_sboms WHERE image = {img};\n\
                 INSERT INTO image_sboms (image, event_key, attached_at) VALUES ({img}, {}, {t});\n\
                 DELETE FROM image_packages WHERE image = {img};\n",
                lit(&rec.key),
                img = lit(&s.image),
            ));
            for chunk in versions.iter().collect::<Vec<_>>().chunks(500) {
                let values: Vec<String> = chunk
                    .iter()
                    .map(|(pv, (_, _, d))| {
                        format!(
                            "({}, {}, {})",
                            lit(&s.image),
                            lit(pv),
                            d.map_or("NULL".to_string(), |d| d.to_string())
                        )
                    })
                    .collect();
                sql.push_str(&format!(
                    "INSERT INTO image_packages (image, package_version, depth) VALUES {};\n",
                    values.join(",")
                ));
            }
        }
        sql.push_str("COMMIT;\n");
        self.batch(&sql)
    }

    /// What runs in a cluster at `at` (micros), by SQL alone: each workload's latest
    /// observation at or before `at`, unless it is a removal or a later snapshot (not after
    /// `at`) left the workload out. The rule the in-memory inventory folds.
    pub fn inventory_sql(&mut self, cluster: &str, at: i64) -> Result<Vec<ObservationRow>> {
        let sql = format!(
            "SELECT o.namespace, o.workload, o.status, o.runs, o.at \
            FROM deployment_observations o \
            WHERE o.cluster = {c} AND o.at <= {at} AND o.status <> 'removed' \
            AND NOT EXISTS (SELECT 1 FROM deployment_observations n \
                WHERE n.cluster = o.cluster AND n.namespace = o.namespace \
                AND n.workload = o.workload AND n.at <= {at} \
                AND (n.at > o.at OR (n.at = o.at AND n.event_key > o.event_key))) \
            AND NOT EXISTS (SELECT 1 FROM cluster_snapshots s \
                WHERE s.cluster = o.cluster AND s.at > o.at AND s.at <= {at}) \
            ORDER BY o.namespace, o.workload",
            c = lit(cluster)
        );
        self.rows(&sql)
    }

    /// The images whose current SBOM lists any version of `package` (a versionless purl),
    /// with the component versions built from them and their owners: what `package(purl)`
    /// answers from the graph, less the live deployments.
    pub fn package_images_sql(&mut self, package: &str) -> Result<Vec<PackageImageRow>> {
        let sql = format!(
            "SELECT ip.image, ip.package_version, ip.depth, \
                cv.component, cv.version, o.team AS owner \
            FROM package_versions pv \
            JOIN image_packages ip ON ip.package_version = pv.purl \
            LEFT JOIN component_versions cv ON cv.digest = ip.image \
            LEFT JOIN ownership o ON o.component = cv.component \
            WHERE pv.package = {} \
            ORDER BY ip.image, ip.package_version, cv.component, cv.version",
            lit(package)
        );
        self.rows(&sql)
    }

    /// The blast radius of a package version, a package or a component in ONE statement (a
    /// `WITH RECURSIVE` walk over `dependencies`, every result set tagged in one `UNION ALL`).
    /// Nothing deeper than `max_depth` hops is returned (see [`BlastSql`]); a cycle ends the
    /// walk like a leaf does.
    pub fn blast_radius_sql(&mut self, of: &BlastOf, max_depth: i32) -> Result<BlastSql> {
        let (sql, start) = of.sql();
        let rows: Vec<BlastRow> = match self {
            Baseline::Postgres(c) => diesel::sql_query(sql)
                .bind::<Text, _>(start)
                .bind::<Integer, _>(max_depth)
                .load(c)?,
            // SQLite numbers its parameters the same way with `?NNN`.
            Baseline::Sqlite(c) => diesel::sql_query(sql.replace('$', "?"))
                .bind::<Text, _>(start)
                .bind::<Integer, _>(max_depth)
                .load(c)?,
        };
        let mut out = BlastSql::default();
        for r in rows {
            match r.section.as_str() {
                "image" => out.images.push((r.name, r.depth)),
                "component_version" => out
                    .component_versions
                    .push((r.name, r.detail.unwrap_or_default())),
                "component" => out.components.push((r.name, r.depth.unwrap_or_default())),
                "application" => out.applications.push(r.name),
                _ => out.owners.push(OwnerRow {
                    team: r.name,
                    email: r.email,
                    chat: r.chat,
                    pager: r.pager,
                }),
            }
        }
        out.images.sort();
        out.component_versions.sort();
        out.components.sort();
        out.applications.sort();
        out.owners.sort();
        Ok(out)
    }

    /// `ANALYZE` (PostgreSQL) or `ANALYZE` (SQLite): statistics for the planner.
    pub fn analyze(&mut self) -> Result<()> {
        self.batch("ANALYZE")
    }
}

fn observe(
    sql: &mut String,
    cluster: &str,
    list: &[catalog_core::deployment::DeploymentObserved],
    t: i64,
    key: &str,
) -> Result<()> {
    for chunk in list.chunks(500) {
        let mut values = Vec::with_capacity(chunk.len());
        for d in chunk {
            let runs = serde_json::to_string(&d.runs).map_err(|e| anyhow!("runs: {e}"))?;
            values.push(format!(
                "({}, {}, {}, {t}, {}, {}, {})",
                lit(cluster),
                lit(&d.namespace),
                lit(&d.workload),
                lit(key),
                lit(d.status.as_str()),
                lit(&runs)
            ));
        }
        if !values.is_empty() {
            sql.push_str(&format!(
                "INSERT INTO deployment_observations (cluster, namespace, workload, at, event_key, status, runs) VALUES {} ON CONFLICT DO NOTHING;\n",
                values.join(",")
            ));
        }
    }
    Ok(())
}

fn registered(sql: &mut String, e: &ImageRegistered, t: i64) {
    sql.push_str(&format!(
        "INSERT INTO components (name) VALUES ({}) ON CONFLICT DO NOTHING;\n",
        lit(&e.component)
    ));
    if let Some(version) = &e.version {
        // The newest push of a version wins (new content under the same version moves it).
        sql.push_str(&format!(
            "INSERT INTO component_versions (component, version, digest, pushed_at) \
             VALUES ({}, {}, {}, {t}) ON CONFLICT (component, version) DO UPDATE \
             SET digest = excluded.digest, pushed_at = excluded.pushed_at \
             WHERE component_versions.pushed_at <= excluded.pushed_at \
             AND component_versions.digest <> excluded.digest;\n",
            lit(&e.component),
            lit(version),
            lit(&e.digest)
        ));
    }
    if let Some(team) = e
        .labels
        .get(labels::OWNER)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    {
        owner(sql, &e.component, team, 0, t);
    }
}

fn owner(sql: &mut String, component: &str, team: &str, rank: i32, t: i64) {
    sql.push_str(&format!(
        "INSERT INTO teams (name) VALUES ({team}) ON CONFLICT DO NOTHING;\n\
         INSERT INTO ownership (component, team, via_rank, since) VALUES ({c}, {team}, {rank}, {t}) \
         ON CONFLICT (component) DO UPDATE SET team = excluded.team, via_rank = excluded.via_rank, \
         since = excluded.since WHERE ownership.via_rank < excluded.via_rank \
         OR (ownership.via_rank = excluded.via_rank AND ownership.since <= excluded.since);\n",
        team = lit(team),
        c = lit(component),
    ));
}

/// One workload's observation, as [`Baseline::inventory_sql`] returns it.
#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct ObservationRow {
    #[diesel(sql_type = Text)]
    pub namespace: String,
    #[diesel(sql_type = Text)]
    pub workload: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    /// JSON array of runs.
    #[diesel(sql_type = Text)]
    pub runs: String,
    #[diesel(sql_type = BigInt)]
    pub at: i64,
}

/// One image containing a version of a package, as [`Baseline::package_images_sql`] returns
/// it: with the component version built from it and that component's owner, where known.
#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct PackageImageRow {
    #[diesel(sql_type = Text)]
    pub image: String,
    #[diesel(sql_type = Text)]
    pub package_version: String,
    #[diesel(sql_type = Nullable<Integer>)]
    pub depth: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    pub component: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub version: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub owner: Option<String>,
}

/// What a blast radius starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlastOf {
    /// One package version, a full purl (`pkg:maven/g/a@1.0`).
    PackageVersion(String),
    /// Every version of a package, a versionless purl (`pkg:maven/g/a`).
    Package(String),
    /// A component by name: it and everything that depends on it.
    Component(String),
}

/// The reverse closure of a [`BlastOf`], each list sorted. Hop depths: package version ->
/// image 1, image -> component version 2, component version -> component 3, and one more
/// per `depends_on` reversed (a component blast starts at 0).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlastSql {
    /// (digest, the shallowest SBOM depth of the package in it, 1 = direct).
    pub images: Vec<(String, Option<i32>)>,
    /// (component, version) built from an affected image.
    pub component_versions: Vec<(String, String)>,
    /// (component, shortest hop depth).
    pub components: Vec<(String, i32)>,
    /// Applications with an affected component as a member.
    pub applications: Vec<String>,
    /// Owners of the affected components and applications.
    pub owners: Vec<OwnerRow>,
}

/// A team and how to reach it (the owners a blast radius notifies).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct OwnerRow {
    pub team: String,
    pub email: Option<String>,
    pub chat: Option<String>,
    pub pager: Option<String>,
}

/// One row of the blast query: the result sets travel in one statement, tagged by section.
#[derive(QueryableByName)]
struct BlastRow {
    #[diesel(sql_type = Text)]
    section: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    detail: Option<String>,
    #[diesel(sql_type = Nullable<Integer>)]
    depth: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    email: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    chat: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pager: Option<String>,
}

/// The blast radius of a package (version), one statement: `$1` the purl, `$2` max depth.
/// `{pkg}` picks the image_packages rows of the start; components start at hop 3.
const BLAST_PACKAGE: &str = "WITH RECURSIVE \
    img(image, pkg_depth) AS ( \
        SELECT ip.image, MIN(ip.depth) FROM image_packages ip {pkg} AND $2 >= 1 \
        GROUP BY ip.image), \
    cv(component, version) AS ( \
        SELECT cv.component, cv.version FROM component_versions cv \
        JOIN img ON cv.digest = img.image WHERE $2 >= 2), \
    seed(component, depth) AS (SELECT DISTINCT component, 3 FROM cv WHERE $2 >= 3), \
    {walk} \
    SELECT 'image' AS section, image AS name, NULL AS detail, pkg_depth AS depth, \
        NULL AS email, NULL AS chat, NULL AS pager FROM img \
    UNION ALL SELECT 'component_version', component, version, 2, NULL, NULL, NULL FROM cv \
    UNION ALL SELECT {tail}";

/// The blast radius of a component: `$1` its name, `$2` max depth; the component is hop 0.
const BLAST_COMPONENT: &str = "WITH RECURSIVE \
    seed(component, depth) AS (SELECT name, 0 FROM components WHERE name = $1 AND $2 >= 0), \
    {walk} \
    SELECT {tail}";

/// The dependents closure from `seed` (a reverse walk over `dependencies`, to -> from) and
/// what hangs off it, shared by both statements; `{base}` is the seed's hop.
///
/// The walk keeps distinct (component, depth) rows (UNION) and goes no deeper than `lim`,
/// computed once in the seed rows: `max_depth`, or when that is large, `{base} + |reach|`,
/// where `reach` is the closure without depths (which ends on cycles by itself), since no
/// shortest path is longer: so the walk ends on cycles whatever depth the caller asks. The
/// guard sits in the `ELSE`, so a question of a usual depth never computes `reach`. On a
/// cycle the walk makes O(components reached x depth) rows where the in-memory BFS visits
/// each component once: that difference is part of what the benchmark measures.
const BLAST_WALK: &str = "reach(component) AS ( \
        SELECT component FROM seed \
        UNION \
        SELECT d.from_component FROM reach r \
        JOIN dependencies d ON d.to_component = r.component), \
    walk(component, depth, lim) AS ( \
        SELECT component, depth, CASE WHEN $2 <= {base} + 64 THEN $2 ELSE ( \
            SELECT CASE WHEN $2 < {base} + COUNT(*) THEN $2 ELSE {base} + COUNT(*) END \
            FROM reach) END \
        FROM seed \
        UNION \
        SELECT d.from_component, w.depth + 1, w.lim FROM walk w \
        JOIN dependencies d ON d.to_component = w.component \
        WHERE w.depth < w.lim), \
    comp(component, depth) AS (SELECT component, MIN(depth) FROM walk GROUP BY component), \
    app(application) AS (SELECT DISTINCT am.application FROM application_members am \
        JOIN comp ON am.component = comp.component), \
    owner(team) AS ( \
        SELECT o.team FROM ownership o JOIN comp ON o.component = comp.component \
        UNION \
        SELECT a.owner FROM applications a JOIN app ON a.name = app.application \
        WHERE a.owner IS NOT NULL)";

/// The sections from the walk on (the templates put `SELECT` in front).
const BLAST_TAIL: &str = "'component' AS section, component AS name, NULL AS detail, \
        depth, NULL AS email, NULL AS chat, NULL AS pager FROM comp \
    UNION ALL SELECT 'application', application, NULL, NULL, NULL, NULL, NULL FROM app \
    UNION ALL SELECT 'owner', o.team, NULL, NULL, t.email, t.chat, t.pager FROM owner o \
        LEFT JOIN teams t ON t.name = o.team";

impl BlastOf {
    /// The statement answering this question (PostgreSQL's `$n` parameters) and its `$1`.
    pub fn sql(&self) -> (String, String) {
        let canonical = |s: &str, versioned: bool| {
            Purl::parse(s).map_or_else(
                |_| s.to_string(),
                |p| {
                    if versioned {
                        p.package_version()
                    } else {
                        p.package()
                    }
                },
            )
        };
        let (template, pkg, base, start) = match self {
            BlastOf::PackageVersion(p) => (
                BLAST_PACKAGE,
                "WHERE ip.package_version = $1",
                "3",
                canonical(p, true),
            ),
            BlastOf::Package(p) => (
                BLAST_PACKAGE,
                "JOIN package_versions pv ON pv.purl = ip.package_version WHERE pv.package = $1",
                "3",
                canonical(p, false),
            ),
            BlastOf::Component(name) => (BLAST_COMPONENT, "", "0", name.clone()),
        };
        let sql = template
            .replace("{pkg}", pkg)
            .replace("{walk}", BLAST_WALK)
            .replace("{base}", base)
            .replace("{tail}", BLAST_TAIL);
        (sql, start)
    }
}
