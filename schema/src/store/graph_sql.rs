//! The service-level graph as the state tables hold it, read by SQL alone: the rows a test
//! needs to recompute an answer naively, and the blast radius as one recursive query per
//! question, the baseline the in-memory graph is benchmarked against. Reads only; the rules
//! that fill these tables live in `write_path.rs`.

use super::{DbConnection, Store, StoreResult};
use crate::schema::{
    application_members, applications, component_versions, components, dependencies,
    image_packages, ownership, package_versions, teams,
};
use catalog_core::purl::Purl;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Nullable, Text};

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

/// The state tables a blast radius is computed from, each sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GraphRows {
    pub components: Vec<String>,
    /// (component, version, image digest).
    pub component_versions: Vec<(String, String, String)>,
    /// (component, team).
    pub ownership: Vec<(String, String)>,
    /// (package version purl, package purl).
    pub package_versions: Vec<(String, String)>,
    /// (image, package version, SBOM depth).
    pub image_packages: Vec<(String, String, Option<i32>)>,
    /// (from, to): `from` depends on `to`.
    pub dependencies: Vec<(String, String)>,
    /// (application, component), whichever way the membership was declared.
    pub application_members: Vec<(String, String)>,
    /// (application, owner).
    pub application_owners: Vec<(String, Option<String>)>,
    /// Every team and how to reach it.
    pub teams: Vec<OwnerRow>,
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

impl Store {
    /// Every effective dependency edge (from, to), sorted.
    pub fn dependencies(&self) -> StoreResult<Vec<(String, String)>> {
        let mut conn = self.conn()?;
        Ok(dependencies::table
            .order((dependencies::from_component, dependencies::to_component))
            .select((dependencies::from_component, dependencies::to_component))
            .load(&mut *conn)?)
    }

    /// Every (application, component) membership, however declared, sorted.
    pub fn application_members(&self) -> StoreResult<Vec<(String, String)>> {
        use application_members as am;
        let mut conn = self.conn()?;
        Ok(am::table
            .select((am::application, am::component))
            .distinct()
            .order((am::application, am::component))
            .load(&mut *conn)?)
    }

    /// A team's (email, chat, pager), or `None` when the team is unknown.
    #[allow(clippy::type_complexity)]
    pub fn team_contacts(
        &self,
        team: &str,
    ) -> StoreResult<Option<(Option<String>, Option<String>, Option<String>)>> {
        let mut conn = self.conn()?;
        Ok(teams::table
            .filter(teams::name.eq(team))
            .select((teams::email, teams::chat, teams::pager))
            .first(&mut *conn)
            .optional()?)
    }

    /// The rows a blast radius is made of, for recomputing one without SQL.
    pub fn graph_rows(&self) -> StoreResult<GraphRows> {
        use application_members as am;
        use component_versions as cv;
        let mut conn = self.conn()?;
        let c = &mut *conn;
        Ok(GraphRows {
            components: components::table
                .order(components::name)
                .select(components::name)
                .load(c)?,
            component_versions: cv::table
                .order((cv::component, cv::version))
                .select((cv::component, cv::version, cv::digest))
                .load(c)?,
            ownership: ownership::table
                .order(ownership::component)
                .select((ownership::component, ownership::team))
                .load(c)?,
            package_versions: package_versions::table
                .order(package_versions::purl)
                .select((package_versions::purl, package_versions::package))
                .load(c)?,
            image_packages: image_packages::table
                .order((image_packages::image, image_packages::package_version))
                .select((
                    image_packages::image,
                    image_packages::package_version,
                    image_packages::depth,
                ))
                .load(c)?,
            dependencies: dependencies::table
                .order((dependencies::from_component, dependencies::to_component))
                .select((dependencies::from_component, dependencies::to_component))
                .load(c)?,
            application_members: am::table
                .select((am::application, am::component))
                .distinct()
                .order((am::application, am::component))
                .load(c)?,
            application_owners: applications::table
                .order(applications::name)
                .select((applications::name, applications::owner))
                .load(c)?,
            teams: teams::table
                .order(teams::name)
                .select((teams::name, teams::email, teams::chat, teams::pager))
                .load::<(String, Option<String>, Option<String>, Option<String>)>(c)?
                .into_iter()
                .map(|(team, email, chat, pager)| OwnerRow {
                    team,
                    email,
                    chat,
                    pager,
                })
                .collect(),
        })
    }

    /// The blast radius of a package version, a package or a component, answered by SQL
    /// alone from the state tables, in ONE statement (a `WITH RECURSIVE` walk over
    /// `dependencies`, every result set tagged in one `UNION ALL`): the baseline the
    /// in-memory graph is benchmarked against. Nothing deeper than `max_depth` hops is
    /// returned (see [`BlastSql`] for the hops); a cycle ends the walk like a leaf does.
    pub fn blast_radius_sql(&self, of: BlastOf, max_depth: i32) -> StoreResult<BlastSql> {
        let (sql, start) = of.sql();
        let mut conn = self.conn()?;
        let rows: Vec<BlastRow> = match &mut *conn {
            DbConnection::Postgresql(c) => diesel::sql_query(sql)
                .bind::<Text, _>(start)
                .bind::<Integer, _>(max_depth)
                .load(c)?,
            // SQLite numbers its parameters the same way with `?NNN`.
            DbConnection::Sqlite(c) => diesel::sql_query(sql.replace('$', "?"))
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
}
