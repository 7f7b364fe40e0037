//! The write path, written once and compiled for each concrete connection type, so it can use
//! each dialect's `ON CONFLICT`, `RETURNING` and transaction flavour through the same DSL.
//!
//! Every state update is a conditional statement (`... WHERE since <= :t`), never
//! read-modify-write, so the rules hold under concurrent workers and for any arrival order:
//! an older event never overwrites newer state. The one exception is what is derived from
//! several rows at once (effective dependencies, descriptor APIs and memberships): it is
//! recomputed from the tables inside the event's transaction, under a lock that serializes
//! those rules on PostgreSQL (SQLite has one writer).

use super::{InboxItem, NewInboxItem};
use crate::schema::*;
use crate::time::to_micros;
use catalog_core::deployment::DeploymentObserved;
use catalog_core::entity::{Contacts, Entity, EntityKind};
use catalog_core::event::{Event, ImageRegistered, NewEvent, RecordedEvent, SbomAttached};
use catalog_core::identity::labels;
use catalog_core::osv::Vulnerability;
use catalog_core::purl::Purl;
use diesel::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

macro_rules! write_path {
    (
        $name:ident,
        $Conn:ty,
        $tx:ident,
        replay_check: $replay_check:expr,
        graph_lock: $graph_lock:expr
    ) => {
        pub mod $name {
            use super::*;

            pub const NAME: &str = stringify!($name);
            type C = $Conn;

            pub fn inbox_append(c: &mut C, items: &[NewInboxItem]) -> QueryResult<usize> {
                c.$tx(|c| {
                    // Chunked: SQLite caps bind parameters per statement.
                    let mut n = 0;
                    for chunk in items.chunks(1000) {
                        n += diesel::insert_into(inbox::table).values(chunk).execute(c)?;
                    }
                    Ok(n)
                })
            }

            pub fn inbox_claim(
                c: &mut C,
                now: i64,
                until: i64,
                limit: i64,
            ) -> QueryResult<Vec<InboxItem>> {
                c.$tx(|c| {
                    let ids: Vec<i64> = inbox::table
                        .filter(inbox::state.eq("pending"))
                        .filter(inbox::next_attempt_at.le(now))
                        .filter(inbox::lease_until.is_null().or(inbox::lease_until.lt(now)))
                        .order(inbox::id.asc())
                        .limit(limit)
                        .select(inbox::id)
                        .load(c)?;
                    if ids.is_empty() {
                        return Ok(Vec::new());
                    }
                    // Re-checked in the UPDATE: a concurrent claimer that got there first
                    // leaves nothing for us to take twice.
                    diesel::update(
                        inbox::table
                            .filter(inbox::id.eq_any(&ids))
                            .filter(inbox::lease_until.is_null().or(inbox::lease_until.lt(now))),
                    )
                    .set((
                        inbox::lease_until.eq(until),
                        inbox::attempts.eq(inbox::attempts + 1),
                    ))
                    .returning(InboxItem::as_returning())
                    .get_results(c)
                })
            }

            pub fn inbox_fail(
                c: &mut C,
                id: i64,
                error: &str,
                retry_at: i64,
                park: bool,
            ) -> QueryResult<()> {
                diesel::update(inbox::table.find(id))
                    .set((
                        inbox::last_error.eq(error),
                        inbox::next_attempt_at.eq(retry_at),
                        inbox::lease_until.eq(None::<i64>),
                        inbox::state.eq(if park { "parked" } else { "pending" }),
                    ))
                    .execute(c)?;
                Ok(())
            }

            pub fn inbox_retry(c: &mut C, id: i64, now: i64) -> QueryResult<usize> {
                diesel::update(inbox::table.find(id).filter(inbox::state.eq("parked")))
                    .set((
                        inbox::state.eq("pending"),
                        inbox::attempts.eq(0),
                        inbox::next_attempt_at.eq(now),
                        inbox::lease_until.eq(None::<i64>),
                    ))
                    .execute(c)
            }

            pub fn record(
                c: &mut C,
                batch: &[(Option<i64>, Vec<NewEvent>)],
                now: i64,
            ) -> QueryResult<Vec<RecordedEvent>> {
                c.$tx(|c| {
                    // Taken before any row lock, so it cannot deadlock against one.
                    if batch
                        .iter()
                        .flat_map(|(_, events)| events)
                        .any(|e| derives_from_others(&e.event))
                    {
                        graph_lock(c)?;
                    }
                    let mut out = Vec::new();
                    for (inbox_id, events) in batch {
                        for e in events {
                            if let Some(rec) = append(c, e, now)? {
                                apply(c, &rec)?;
                                out.push(rec);
                            }
                        }
                        if let Some(id) = inbox_id {
                            diesel::delete(inbox::table.find(*id)).execute(c)?;
                        }
                    }
                    Ok(out)
                })
            }

            fn append(c: &mut C, e: &NewEvent, now: i64) -> QueryResult<Option<RecordedEvent>> {
                // A replay is the common duplicate: on PostgreSQL answer it with a read, since
                // `ON CONFLICT DO NOTHING` would burn an identity value, leaving a hole in the
                // sequence that graph tailers wait out before stepping over it. SQLite's rowid
                // burns nothing, so the insert alone decides there (one statement fewer).
                if $replay_check {
                    let seen: Option<i64> = events::table
                        .filter(events::key.eq(&e.key))
                        .select(events::seq)
                        .first(c)
                        .optional()?;
                    if seen.is_some() {
                        return Ok(None);
                    }
                }
                let payload = serde_json::to_string(&e.event)
                    .map_err(|err| diesel::result::Error::SerializationError(Box::new(err)))?;
                let seq: Option<i64> = diesel::insert_into(events::table)
                    .values((
                        events::key.eq(&e.key),
                        events::kind.eq(e.event.kind().as_str()),
                        events::payload.eq(payload),
                        events::source.eq(&e.source),
                        events::actor.eq(&e.actor),
                        events::occurred_at.eq(to_micros(e.occurred_at)),
                        events::recorded_at.eq(now),
                    ))
                    .on_conflict(events::key)
                    .do_nothing()
                    .returning(events::seq)
                    .get_result(c)
                    .optional()?;
                Ok(seq.map(|seq| RecordedEvent {
                    seq,
                    key: e.key.clone(),
                    occurred_at: e.occurred_at,
                    recorded_at: crate::time::from_micros(now),
                    source: e.source.clone(),
                    actor: e.actor.clone(),
                    event: e.event.clone(),
                }))
            }

            fn apply(c: &mut C, rec: &RecordedEvent) -> QueryResult<()> {
                let t = to_micros(rec.occurred_at);
                match &rec.event {
                    Event::ImageRegistered(e) => image_registered(c, rec.seq, e, t),
                    Event::TagDeleted {
                        registry,
                        repository,
                        tag,
                    } => set_tag(c, rec.seq, registry, repository, tag, None, t),
                    Event::ManifestDeleted {
                        registry,
                        repository,
                        digest,
                    } => manifest_deleted(c, registry, repository, digest, t),
                    Event::OwnerSet {
                        component,
                        team,
                        via,
                    } => set_owner(c, component, team, via_rank(via), t),
                    Event::DeploymentObserved(d) => {
                        touch_cluster(c, &d.cluster, d.environment.as_deref(), t)?;
                        observe(c, rec, &d.cluster, std::slice::from_ref(d), t)
                    }
                    Event::ClusterSnapshot(s) => {
                        touch_cluster(c, &s.cluster, s.environment.as_deref(), t)?;
                        diesel::insert_into(cluster_snapshots::table)
                            .values((
                                cluster_snapshots::cluster.eq(&s.cluster),
                                cluster_snapshots::at.eq(t),
                                cluster_snapshots::event_key.eq(&rec.key),
                                cluster_snapshots::seq.eq(rec.seq),
                                cluster_snapshots::workloads.eq(s.workloads.len() as i32),
                            ))
                            .on_conflict_do_nothing()
                            .execute(c)?;
                        observe(c, rec, &s.cluster, &s.workloads, t)
                    }
                    Event::SbomAttached(s) => sbom_attached(c, rec, s, t),
                    Event::VulnerabilityPublished(v) => vulnerability_published(c, rec, v, t),
                    Event::EntityDeclared(e) => entity_declared(c, rec, e, t),
                    Event::DependencyDeclared { from, to } => {
                        dependency_event(c, rec, from, to, true, t)
                    }
                    Event::DependencyRemoved { from, to } => {
                        dependency_event(c, rec, from, to, false, t)
                    }
                    Event::TeamContacts { team, contacts } => {
                        set_contacts(c, team, contacts, t, &rec.key)
                    }
                    Event::ApplicationDeclared {
                        application,
                        components,
                        owner,
                    } => application_declared(c, rec, application, components, owner.as_deref(), t),
                }
            }

            /// Serializes the transactions whose rules derive rows from other rows
            /// ([`derives_from_others`]): two workers deriving from each other's uncommitted
            /// rows would each miss the other's change. SQLite has one writer already.
            fn graph_lock(c: &mut C) -> QueryResult<()> {
                let lock: Option<&str> = $graph_lock;
                if let Some(sql) = lock {
                    diesel::sql_query(sql).execute(c)?;
                }
                Ok(())
            }

            /// Keeps the latest descriptor of each reference and applies what it declares:
            /// ownership (as `owner.set` via backstage), contacts (Group/User), the
            /// application a System is; for a Component/Resource, when it became the
            /// component's latest descriptor, its APIs, system membership and dependencies.
            fn entity_declared(
                c: &mut C,
                rec: &RecordedEvent,
                e: &Entity,
                t: i64,
            ) -> QueryResult<()> {
                use entities as en;
                let reference = e.reference();
                let kind = e.kind.backstage().to_ascii_lowercase();
                let payload = serde_json::to_string(e)
                    .map_err(|err| diesel::result::Error::SerializationError(Box::new(err)))?;
                let row = (
                    en::reference.eq(&reference),
                    en::kind.eq(&kind),
                    en::name.eq(&e.name),
                    en::event_key.eq(&rec.key),
                    en::declared_at.eq(t),
                    en::payload.eq(&payload),
                );
                let won = diesel::insert_into(en::table)
                    .values(row)
                    .on_conflict_do_nothing()
                    .execute(c)?
                    + diesel::update(
                        en::table.filter(en::reference.eq(&reference)).filter(
                            en::declared_at
                                .lt(t)
                                .or(en::declared_at.eq(t).and(en::event_key.lt(&rec.key))),
                        ),
                    )
                    .set(row)
                    .execute(c)?;
                let owner = e.owner.as_deref().filter(|o| !o.is_empty());
                match e.kind {
                    EntityKind::Component | EntityKind::Resource => {
                        match owner {
                            Some(team) => set_owner(c, &e.name, team, 1, t)?,
                            None => ensure_component(c, &e.name, t)?,
                        }
                        for to in &e.depends_on {
                            ensure_component(c, to, t)?;
                        }
                        if let Some(system) = &e.system {
                            ensure_application(c, system)?;
                        }
                        // An older descriptor arriving late changes none of the derived rows.
                        if won > 0 {
                            component_descriptor_changed(c, &e.name)?;
                        }
                    }
                    EntityKind::System => {
                        ensure_application(c, &e.name)?;
                        if let Some(team) = owner {
                            set_application_owner(c, &e.name, team, t, &rec.key)?;
                        }
                    }
                    EntityKind::Group | EntityKind::User => {
                        set_contacts(c, &e.name, &e.contacts, t, &rec.key)?;
                        if let Some(team) = owner {
                            ensure_team(c, team, t)?;
                        }
                    }
                    EntityKind::Api | EntityKind::Domain => {
                        if let Some(team) = owner {
                            ensure_team(c, team, t)?;
                        }
                    }
                }
                Ok(())
            }

            /// The latest Component or Resource descriptor of a component, with its time.
            fn component_descriptor(c: &mut C, name: &str) -> QueryResult<Option<(i64, Entity)>> {
                use entities as en;
                let refs = [EntityKind::Component, EntityKind::Resource]
                    .map(|k| Entity::new(k, name).reference());
                let row: Option<(i64, String)> = en::table
                    .filter(en::reference.eq_any(&refs))
                    .order((en::declared_at.desc(), en::event_key.desc()))
                    .select((en::declared_at, en::payload))
                    .first(c)
                    .optional()?;
                row.map(|(at, payload)| {
                    serde_json::from_str::<Entity>(&payload)
                        .map(|e| (at, e))
                        .map_err(|err| diesel::result::Error::DeserializationError(Box::new(err)))
                })
                .transpose()
            }

            /// Brings what a component's latest descriptor decides up to date: its APIs, its
            /// `backstage` membership, its dependencies, and those of every consumer of an API
            /// it started or stopped providing.
            fn component_descriptor_changed(c: &mut C, name: &str) -> QueryResult<()> {
                use entity_apis as ea;
                let descriptor = component_descriptor(c, name)?.map(|(_, e)| e);
                let old_provides: BTreeSet<String> = ea::table
                    .filter(ea::entity.eq(name))
                    .filter(ea::role.eq(PROVIDES))
                    .select(ea::api)
                    .load(c)?
                    .into_iter()
                    .collect();
                let (provides, consumes, system) = match &descriptor {
                    Some(e) => (
                        e.provides_apis.iter().cloned().collect::<BTreeSet<_>>(),
                        e.consumes_apis.iter().cloned().collect::<BTreeSet<_>>(),
                        e.system.clone(),
                    ),
                    None => Default::default(),
                };
                diesel::delete(ea::table.filter(ea::entity.eq(name))).execute(c)?;
                let rows: Vec<_> = provides
                    .iter()
                    .map(|api| (api, PROVIDES))
                    .chain(consumes.iter().map(|api| (api, CONSUMES)))
                    .map(|(api, role)| (ea::entity.eq(name), ea::api.eq(api), ea::role.eq(role)))
                    .collect();
                for chunk in rows.chunks(1000) {
                    diesel::insert_into(ea::table).values(chunk).execute(c)?;
                }

                use application_members as am;
                diesel::delete(
                    am::table
                        .filter(am::component.eq(name))
                        .filter(am::via.eq(BACKSTAGE)),
                )
                .execute(c)?;
                if let Some(system) = &system {
                    diesel::insert_into(am::table)
                        .values((
                            am::application.eq(system),
                            am::component.eq(name),
                            am::via.eq(BACKSTAGE),
                        ))
                        .execute(c)?;
                }

                recompute_dependencies(c, name)?;
                let changed: Vec<&String> = old_provides.symmetric_difference(&provides).collect();
                if !changed.is_empty() {
                    let consumers: BTreeSet<String> = ea::table
                        .filter(ea::role.eq(CONSUMES))
                        .filter(ea::api.eq_any(changed))
                        .select(ea::entity)
                        .load::<String>(c)?
                        .into_iter()
                        .collect();
                    for consumer in consumers.iter().filter(|n| n.as_str() != name) {
                        recompute_dependencies(c, consumer)?;
                    }
                }
                Ok(())
            }

            /// Replaces the effective `dependencies` of one component with what its API
            /// declarations and its latest descriptor decide ([`effective_dependencies`]).
            /// Every path that can change an answer calls this for the `from` it concerns.
            fn recompute_dependencies(c: &mut C, from: &str) -> QueryResult<()> {
                use dependency_declarations as dd;
                use entity_apis as ea;
                let descriptor = match component_descriptor(c, from)? {
                    Some((at, e)) => {
                        let mut targets: BTreeSet<String> = e.depends_on.into_iter().collect();
                        if !e.consumes_apis.is_empty() {
                            let providers: Vec<String> = ea::table
                                .filter(ea::role.eq(PROVIDES))
                                .filter(ea::api.eq_any(&e.consumes_apis))
                                .select(ea::entity)
                                .load(c)?;
                            targets.extend(providers);
                        }
                        Some((at, targets))
                    }
                    None => None,
                };
                let declared: Vec<(String, bool, i64)> = dd::table
                    .filter(dd::from_component.eq(from))
                    .select((dd::to_component, dd::present, dd::since))
                    .load(c)?;
                let edges = effective_dependencies(from, descriptor.as_ref(), &declared);
                diesel::delete(dependencies::table.filter(dependencies::from_component.eq(from)))
                    .execute(c)?;
                let rows: Vec<_> = edges
                    .iter()
                    .map(|to| {
                        (
                            dependencies::from_component.eq(from),
                            dependencies::to_component.eq(to),
                        )
                    })
                    .collect();
                for chunk in rows.chunks(1000) {
                    diesel::insert_into(dependencies::table)
                        .values(chunk)
                        .execute(c)?;
                }
                Ok(())
            }

            /// `dependency.declared` / `dependency.removed`: the latest (time, key) per pair
            /// is kept; when it changed, `from`'s dependencies are decided again.
            fn dependency_event(
                c: &mut C,
                rec: &RecordedEvent,
                from: &str,
                to: &str,
                present: bool,
                t: i64,
            ) -> QueryResult<()> {
                use dependency_declarations as dd;
                if present {
                    ensure_component(c, from, t)?;
                    ensure_component(c, to, t)?;
                }
                let row = (
                    dd::from_component.eq(from),
                    dd::to_component.eq(to),
                    dd::present.eq(present),
                    dd::since.eq(t),
                    dd::event_key.eq(&rec.key),
                );
                let won = diesel::insert_into(dd::table)
                    .values(row)
                    .on_conflict_do_nothing()
                    .execute(c)?
                    + diesel::update(
                        dd::table
                            .filter(dd::from_component.eq(from))
                            .filter(dd::to_component.eq(to))
                            .filter(
                                dd::since
                                    .lt(t)
                                    .or(dd::since.eq(t).and(dd::event_key.lt(&rec.key))),
                            ),
                    )
                    .set(row)
                    .execute(c)?;
                if won > 0 {
                    recompute_dependencies(c, from)?;
                }
                Ok(())
            }

            /// A team's contacts: the latest (time, key) of `team.contacts` and the team's
            /// Group/User descriptors replaces them whole.
            fn set_contacts(
                c: &mut C,
                team: &str,
                contacts: &Contacts,
                t: i64,
                key: &str,
            ) -> QueryResult<()> {
                ensure_team(c, team, t)?;
                diesel::update(
                    teams::table.filter(teams::name.eq(team)).filter(
                        teams::contacts_at
                            .is_null()
                            .or(teams::contacts_at.lt(t))
                            .or(teams::contacts_at.eq(t).and(teams::contacts_key.lt(key))),
                    ),
                )
                .set((
                    teams::email.eq(contacts.email.as_deref()),
                    teams::chat.eq(contacts.chat.as_deref()),
                    teams::pager.eq(contacts.pager.as_deref()),
                    teams::contacts_at.eq(t),
                    teams::contacts_key.eq(key),
                ))
                .execute(c)?;
                Ok(())
            }

            fn ensure_application(c: &mut C, name: &str) -> QueryResult<()> {
                diesel::insert_into(applications::table)
                    .values(applications::name.eq(name))
                    .on_conflict_do_nothing()
                    .execute(c)?;
                Ok(())
            }

            /// The owner named by the latest (time, key) declaration that names one.
            fn set_application_owner(
                c: &mut C,
                application: &str,
                team: &str,
                t: i64,
                key: &str,
            ) -> QueryResult<()> {
                use applications as a;
                ensure_application(c, application)?;
                ensure_team(c, team, t)?;
                diesel::update(
                    a::table.filter(a::name.eq(application)).filter(
                        a::owner_at
                            .is_null()
                            .or(a::owner_at.lt(t))
                            .or(a::owner_at.eq(t).and(a::owner_key.lt(key))),
                    ),
                )
                .set((a::owner.eq(team), a::owner_at.eq(t), a::owner_key.eq(key)))
                .execute(c)?;
                Ok(())
            }

            /// The latest `application.declared` of an application replaces its `api`
            /// members; its owner, when it names one, competes with the System descriptor's.
            fn application_declared(
                c: &mut C,
                rec: &RecordedEvent,
                application: &str,
                components: &[String],
                owner: Option<&str>,
                t: i64,
            ) -> QueryResult<()> {
                use application_members as am;
                use applications as a;
                ensure_application(c, application)?;
                for component in components {
                    ensure_component(c, component, t)?;
                }
                if let Some(team) = owner.filter(|o| !o.is_empty()) {
                    set_application_owner(c, application, team, t, &rec.key)?;
                }
                let won = diesel::update(
                    a::table.filter(a::name.eq(application)).filter(
                        a::declared_at
                            .is_null()
                            .or(a::declared_at.lt(t))
                            .or(a::declared_at.eq(t).and(a::event_key.lt(&rec.key))),
                    ),
                )
                .set((a::declared_at.eq(t), a::event_key.eq(&rec.key)))
                .execute(c)?;
                if won == 0 {
                    return Ok(());
                }
                diesel::delete(
                    am::table
                        .filter(am::application.eq(application))
                        .filter(am::via.eq(API)),
                )
                .execute(c)?;
                let members: BTreeSet<&String> = components.iter().collect();
                let rows: Vec<_> = members
                    .into_iter()
                    .map(|m| {
                        (
                            am::application.eq(application),
                            am::component.eq(m),
                            am::via.eq(API),
                        )
                    })
                    .collect();
                for chunk in rows.chunks(1000) {
                    diesel::insert_into(am::table).values(chunk).execute(c)?;
                }
                Ok(())
            }

            fn observe(
                c: &mut C,
                rec: &RecordedEvent,
                cluster: &str,
                list: &[DeploymentObserved],
                t: i64,
            ) -> QueryResult<()> {
                use deployment_observations as o;
                let rows: Vec<_> = list
                    .iter()
                    .map(|d| {
                        (
                            o::cluster.eq(cluster),
                            o::namespace.eq(&d.namespace),
                            o::workload.eq(&d.workload),
                            o::at.eq(t),
                            o::event_key.eq(&rec.key),
                            o::seq.eq(rec.seq),
                            o::status.eq(d.status.as_str()),
                            o::replicas.eq(d.replicas),
                            o::runs.eq(json(&d.runs)),
                            o::revision.eq(d.revision.as_deref()),
                            o::source.eq(&rec.source),
                        )
                    })
                    .collect();
                // 11 binds a row: under SQLite's parameter cap per statement.
                for chunk in rows.chunks(500) {
                    diesel::insert_into(o::table)
                        .values(chunk)
                        .on_conflict_do_nothing()
                        .execute(c)?;
                }
                Ok(())
            }

            /// Records a cluster, its last sighting, and the environment the latest event
            /// names (conditional updates: any arrival order ends the same).
            fn touch_cluster(
                c: &mut C,
                name: &str,
                environment: Option<&str>,
                t: i64,
            ) -> QueryResult<()> {
                let env = environment.map(str::trim).filter(|e| !e.is_empty());
                let this = clusters::table.filter(clusters::name.eq(name));
                // The common case, a known cluster reported in order: one statement.
                let newer = clusters::last_seen.lt(t);
                let moved = match env {
                    Some(env) => diesel::update(
                        this.filter(newer).filter(
                            clusters::environment_at
                                .is_null()
                                .or(clusters::environment_at.lt(t)),
                        ),
                    )
                    .set((
                        clusters::last_seen.eq(t),
                        clusters::environment.eq(env),
                        clusters::environment_at.eq(t),
                    ))
                    .execute(c)?,
                    None => diesel::update(this.filter(newer))
                        .set(clusters::last_seen.eq(t))
                        .execute(c)?,
                };
                if moved == 1 {
                    return Ok(());
                }
                diesel::insert_into(clusters::table)
                    .values((
                        clusters::name.eq(name),
                        clusters::environment.eq(env),
                        clusters::environment_at.eq(env.map(|_| t)),
                        clusters::last_seen.eq(t),
                    ))
                    .on_conflict_do_nothing()
                    .execute(c)?;
                diesel::update(this.filter(clusters::last_seen.lt(t)))
                    .set(clusters::last_seen.eq(t))
                    .execute(c)?;
                if let Some(env) = env {
                    diesel::update(
                        this.filter(
                            clusters::environment_at
                                .is_null()
                                .or(clusters::environment_at.lt(t))
                                .or(clusters::environment_at
                                    .eq(t)
                                    .and(clusters::environment.lt(env))),
                        ),
                    )
                    .set((
                        clusters::environment.eq(env),
                        clusters::environment_at.eq(t),
                    ))
                    .execute(c)?;
                }
                Ok(())
            }

            /// Makes the SBOM the image's current one when it is newer (by time, then key)
            /// than what the image has: its package rows replace the old ones, in the same
            /// transaction as the event.
            fn sbom_attached(
                c: &mut C,
                rec: &RecordedEvent,
                s: &SbomAttached,
                t: i64,
            ) -> QueryResult<()> {
                use image_sboms as is;
                let row = (
                    is::image.eq(&s.image),
                    is::event_key.eq(&rec.key),
                    is::document_digest.eq(&s.document_digest),
                    is::format.eq(&s.sbom.format),
                    is::spec_version.eq(&s.sbom.spec_version),
                    is::via.eq(&s.via),
                    is::attached_at.eq(t),
                    is::packages.eq(s.sbom.packages.len() as i32),
                );
                // (package, version) per purl'd package, deduplicated; depth the shallowest.
                let mut versions: BTreeMap<String, (Purl, Option<i32>)> = BTreeMap::new();
                for p in &s.sbom.packages {
                    let Some(mut purl) = p.purl.as_deref().and_then(|u| Purl::parse(u).ok()) else {
                        continue;
                    };
                    if purl.version.is_none() {
                        purl.version.clone_from(&p.version);
                    }
                    if purl.version.is_none() {
                        continue;
                    }
                    let depth = p.depth.map(|d| d as i32);
                    let e = versions
                        .entry(purl.package_version())
                        .or_insert((purl, depth));
                    e.1 = match (e.1, depth) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                }
                let by_package: BTreeMap<String, &Purl> =
                    versions.values().map(|(p, _)| (p.package(), p)).collect();
                let package_rows: Vec<_> = by_package
                    .values()
                    .map(|p| {
                        (
                            packages::purl.eq(p.package()),
                            packages::purl_type.eq(p.ty.as_str()),
                            packages::namespace.eq(p.namespace.as_deref()),
                            packages::name.eq(p.name.as_str()),
                        )
                    })
                    .collect();
                let version_rows: Vec<_> = versions
                    .iter()
                    .map(|(pv, (p, _))| {
                        (
                            package_versions::purl.eq(pv.as_str()),
                            package_versions::package.eq(p.package()),
                            package_versions::version.eq(p.version.as_deref().unwrap_or("")),
                        )
                    })
                    .collect();
                let image_rows: Vec<_> = versions
                    .iter()
                    .map(|(pv, (_, depth))| {
                        (
                            image_packages::image.eq(&s.image),
                            image_packages::package_version.eq(pv.as_str()),
                            image_packages::depth.eq(*depth),
                        )
                    })
                    .collect();
                // Packages are known once any SBOM names them, current or not (as the graph
                // does), so the tables do not depend on arrival order. At most 4 binds a row:
                // well under SQLite's parameter cap per statement.
                for chunk in package_rows.chunks(2000) {
                    diesel::insert_into(packages::table)
                        .values(chunk)
                        .on_conflict_do_nothing()
                        .execute(c)?;
                }
                for chunk in version_rows.chunks(2000) {
                    diesel::insert_into(package_versions::table)
                        .values(chunk)
                        .on_conflict_do_nothing()
                        .execute(c)?;
                }
                let won = diesel::insert_into(is::table)
                    .values(row)
                    .on_conflict_do_nothing()
                    .execute(c)?
                    + diesel::update(
                        is::table.filter(is::image.eq(&s.image)).filter(
                            is::attached_at
                                .lt(t)
                                .or(is::attached_at.eq(t).and(is::event_key.lt(&rec.key))),
                        ),
                    )
                    .set(row)
                    .execute(c)?;
                if won == 0 {
                    return Ok(()); // an older SBOM arriving late: the current one stands
                }
                diesel::delete(image_packages::table.filter(image_packages::image.eq(&s.image)))
                    .execute(c)?;
                for chunk in image_rows.chunks(2000) {
                    diesel::insert_into(image_packages::table)
                        .values(chunk)
                        .execute(c)?;
                }
                Ok(())
            }

            /// Keeps the newest record of an OSV id (by modified, then key) and the packages
            /// it names.
            fn vulnerability_published(
                c: &mut C,
                rec: &RecordedEvent,
                v: &Vulnerability,
                t: i64,
            ) -> QueryResult<()> {
                use vulnerabilities as vu;
                let modified = v.modified.map_or(t, to_micros);
                let row = (
                    vu::id.eq(&v.id),
                    vu::event_key.eq(&rec.key),
                    vu::modified.eq(modified),
                    vu::summary.eq(v.summary.as_deref()),
                );
                let won = diesel::insert_into(vu::table)
                    .values(row)
                    .on_conflict_do_nothing()
                    .execute(c)?
                    + diesel::update(
                        vu::table.filter(vu::id.eq(&v.id)).filter(
                            vu::modified
                                .lt(modified)
                                .or(vu::modified.eq(modified).and(vu::event_key.lt(&rec.key))),
                        ),
                    )
                    .set(row)
                    .execute(c)?;
                if won == 0 {
                    return Ok(());
                }
                diesel::delete(
                    vulnerability_packages::table.filter(vulnerability_packages::id.eq(&v.id)),
                )
                .execute(c)?;
                let keys: std::collections::BTreeSet<String> = v
                    .affected
                    .iter()
                    .filter_map(|a| a.package.as_ref().and_then(|p| p.package_key()))
                    .collect();
                let rows: Vec<_> = keys
                    .iter()
                    .map(|k| {
                        (
                            vulnerability_packages::id.eq(&v.id),
                            vulnerability_packages::package.eq(k.as_str()),
                        )
                    })
                    .collect();
                for chunk in rows.chunks(2000) {
                    diesel::insert_into(vulnerability_packages::table)
                        .values(chunk)
                        .execute(c)?;
                }
                Ok(())
            }

            fn image_registered(
                c: &mut C,
                seq: i64,
                e: &ImageRegistered,
                t: i64,
            ) -> QueryResult<()> {
                diesel::insert_into(images::table)
                    .values((
                        images::digest.eq(&e.digest),
                        images::media_type.eq(&e.media_type),
                        images::size.eq(e.size),
                        images::platforms.eq(json(&e.platforms)),
                        images::labels.eq(json(&e.labels)),
                        images::created.eq(e.created.map(to_micros)),
                        images::first_seen.eq(t),
                    ))
                    .on_conflict(images::digest)
                    .do_nothing()
                    .execute(c)?;
                diesel::update(
                    images::table
                        .filter(images::digest.eq(&e.digest))
                        .filter(images::first_seen.gt(t)),
                )
                .set(images::first_seen.eq(t))
                .execute(c)?;
                repository_image(c, &e.registry, &e.repository, &e.digest)?;
                {
                    use repository_images as ri;
                    let this = ri::table
                        .filter(ri::registry.eq(&e.registry))
                        .filter(ri::repository.eq(&e.repository))
                        .filter(ri::digest.eq(&e.digest));
                    diesel::update(this.filter(ri::pushed_at.is_null().or(ri::pushed_at.gt(t))))
                        .set(ri::pushed_at.eq(t))
                        .execute(c)?;
                    diesel::update(
                        this.filter(ri::last_pushed_at.is_null().or(ri::last_pushed_at.lt(t))),
                    )
                    .set(ri::last_pushed_at.eq(t))
                    .execute(c)?;
                }
                if let Some(tag) = &e.tag {
                    set_tag(c, seq, &e.registry, &e.repository, tag, Some(&e.digest), t)?;
                }
                ensure_component(c, &e.component, t)?;
                if let Some(version) = &e.version {
                    upsert_version(c, e, version, t)?;
                }
                if let Some(owner) = e
                    .labels
                    .get(labels::OWNER)
                    .map(|s| s.trim())
                    .filter(|s| !s.is_empty())
                {
                    set_owner(c, &e.component, owner, 0, t)?;
                }
                Ok(())
            }

            fn upsert_version(
                c: &mut C,
                e: &ImageRegistered,
                version: &str,
                t: i64,
            ) -> QueryResult<()> {
                use component_versions as cv;
                let row = (
                    cv::component.eq(&e.component),
                    cv::version.eq(version),
                    cv::digest.eq(&e.digest),
                    cv::registry.eq(&e.registry),
                    cv::repository.eq(&e.repository),
                    cv::revision.eq(e.labels.get(labels::REVISION)),
                    cv::source.eq(e.labels.get(labels::SOURCE)),
                    cv::created.eq(e.created.map(to_micros)),
                    cv::pushed_at.eq(t),
                );
                let inserted = diesel::insert_into(cv::table)
                    .values(row)
                    .on_conflict((cv::component, cv::version))
                    .do_nothing()
                    .execute(c)?;
                if inserted > 0 {
                    return Ok(());
                }
                let this = cv::table
                    .filter(cv::component.eq(&e.component))
                    .filter(cv::version.eq(version));
                // Same image again: keep the first push.
                diesel::update(
                    this.filter(cv::digest.eq(&e.digest))
                        .filter(cv::pushed_at.gt(t)),
                )
                .set(cv::pushed_at.eq(t))
                .execute(c)?;
                // New content under the same version, newer than what we hold: it moves.
                diesel::update(
                    this.filter(cv::digest.ne(&e.digest))
                        .filter(cv::pushed_at.le(t)),
                )
                .set(row)
                .execute(c)?;
                Ok(())
            }

            fn set_tag(
                c: &mut C,
                seq: i64,
                registry: &str,
                repository: &str,
                tag: &str,
                digest: Option<&str>,
                t: i64,
            ) -> QueryResult<()> {
                diesel::insert_into(tag_history::table)
                    .values((
                        tag_history::seq.eq(seq),
                        tag_history::registry.eq(registry),
                        tag_history::repository.eq(repository),
                        tag_history::tag.eq(tag),
                        tag_history::digest.eq(digest),
                        tag_history::at.eq(t),
                    ))
                    .execute(c)?;
                let inserted = diesel::insert_into(tags::table)
                    .values((
                        tags::registry.eq(registry),
                        tags::repository.eq(repository),
                        tags::tag.eq(tag),
                        tags::digest.eq(digest),
                        tags::since.eq(t),
                    ))
                    .on_conflict((tags::registry, tags::repository, tags::tag))
                    .do_nothing()
                    .execute(c)?;
                if inserted == 0 {
                    diesel::update(
                        tags::table
                            .filter(tags::registry.eq(registry))
                            .filter(tags::repository.eq(repository))
                            .filter(tags::tag.eq(tag))
                            .filter(tags::since.le(t)),
                    )
                    .set((tags::digest.eq(digest), tags::since.eq(t)))
                    .execute(c)?;
                }
                Ok(())
            }

            /// First-seen times are the earliest event's, whatever the arrival order.
            fn ensure_component(c: &mut C, name: &str, t: i64) -> QueryResult<()> {
                diesel::insert_into(components::table)
                    .values((components::name.eq(name), components::created_at.eq(t)))
                    .on_conflict(components::name)
                    .do_nothing()
                    .execute(c)?;
                diesel::update(
                    components::table
                        .filter(components::name.eq(name))
                        .filter(components::created_at.gt(t)),
                )
                .set(components::created_at.eq(t))
                .execute(c)?;
                Ok(())
            }

            fn repository_image(
                c: &mut C,
                registry: &str,
                repository: &str,
                digest: &str,
            ) -> QueryResult<()> {
                use repository_images as ri;
                diesel::insert_into(ri::table)
                    .values((
                        ri::registry.eq(registry),
                        ri::repository.eq(repository),
                        ri::digest.eq(digest),
                    ))
                    .on_conflict((ri::registry, ri::repository, ri::digest))
                    .do_nothing()
                    .execute(c)?;
                Ok(())
            }

            /// Only the last delete is kept; whether the manifest (and the tags set before
            /// the delete) are gone is derived when read, as the graph does.
            fn manifest_deleted(
                c: &mut C,
                registry: &str,
                repository: &str,
                digest: &str,
                t: i64,
            ) -> QueryResult<()> {
                use repository_images as ri;
                repository_image(c, registry, repository, digest)?;
                diesel::update(
                    ri::table
                        .filter(ri::registry.eq(registry))
                        .filter(ri::repository.eq(repository))
                        .filter(ri::digest.eq(digest))
                        .filter(ri::last_deleted_at.is_null().or(ri::last_deleted_at.lt(t))),
                )
                .set(ri::last_deleted_at.eq(t))
                .execute(c)?;
                Ok(())
            }

            /// First-seen times are the earliest event's, whatever the arrival order.
            fn ensure_team(c: &mut C, team: &str, t: i64) -> QueryResult<()> {
                diesel::insert_into(teams::table)
                    .values((teams::name.eq(team), teams::created_at.eq(t)))
                    .on_conflict(teams::name)
                    .do_nothing()
                    .execute(c)?;
                diesel::update(
                    teams::table
                        .filter(teams::name.eq(team))
                        .filter(teams::created_at.gt(t)),
                )
                .set(teams::created_at.eq(t))
                .execute(c)?;
                Ok(())
            }

            fn set_owner(
                c: &mut C,
                component: &str,
                team: &str,
                rank: i32,
                t: i64,
            ) -> QueryResult<()> {
                ensure_component(c, component, t)?;
                ensure_team(c, team, t)?;
                let inserted = diesel::insert_into(ownership::table)
                    .values((
                        ownership::component.eq(component),
                        ownership::team.eq(team),
                        ownership::via_rank.eq(rank),
                        ownership::since.eq(t),
                    ))
                    .on_conflict(ownership::component)
                    .do_nothing()
                    .execute(c)?;
                if inserted == 0 {
                    diesel::update(
                        ownership::table
                            .filter(ownership::component.eq(component))
                            .filter(
                                ownership::via_rank
                                    .lt(rank)
                                    .or(ownership::via_rank.eq(rank).and(ownership::since.le(t))),
                            ),
                    )
                    .set((
                        ownership::team.eq(team),
                        ownership::via_rank.eq(rank),
                        ownership::since.eq(t),
                    ))
                    .execute(c)?;
                }
                Ok(())
            }

            pub fn state_counts(c: &mut C) -> QueryResult<BTreeMap<&'static str, i64>> {
                let mut m = BTreeMap::new();
                m.insert("images", images::table.count().get_result(c)?);
                m.insert("components", components::table.count().get_result(c)?);
                m.insert(
                    "component_versions",
                    component_versions::table.count().get_result(c)?,
                );
                m.insert("teams", teams::table.count().get_result(c)?);
                m.insert("ownership", ownership::table.count().get_result(c)?);
                m.insert(
                    "tags",
                    tags::table
                        .filter(tags::digest.is_not_null())
                        .count()
                        .get_result(c)?,
                );
                m.insert("tag_history", tag_history::table.count().get_result(c)?);
                m.insert(
                    "deployment_observations",
                    deployment_observations::table.count().get_result(c)?,
                );
                m.insert(
                    "cluster_snapshots",
                    cluster_snapshots::table.count().get_result(c)?,
                );
                m.insert("clusters", clusters::table.count().get_result(c)?);
                m.insert("image_sboms", image_sboms::table.count().get_result(c)?);
                m.insert("packages", packages::table.count().get_result(c)?);
                m.insert(
                    "package_versions",
                    package_versions::table.count().get_result(c)?,
                );
                m.insert(
                    "image_packages",
                    image_packages::table.count().get_result(c)?,
                );
                m.insert(
                    "vulnerabilities",
                    vulnerabilities::table.count().get_result(c)?,
                );
                m.insert("entities", entities::table.count().get_result(c)?);
                m.insert(
                    "dependency_declarations",
                    dependency_declarations::table.count().get_result(c)?,
                );
                m.insert("entity_apis", entity_apis::table.count().get_result(c)?);
                m.insert("dependencies", dependencies::table.count().get_result(c)?);
                m.insert("applications", applications::table.count().get_result(c)?);
                m.insert(
                    "application_members",
                    application_members::table.count().get_result(c)?,
                );
                Ok(m)
            }

            pub fn versions_of(
                c: &mut C,
                component: &str,
            ) -> QueryResult<Vec<(String, String, bool)>> {
                use component_versions as cv;
                use repository_images as ri;
                let rows: Vec<(String, String, Option<i64>, Option<i64>)> = cv::table
                    .left_join(
                        ri::table.on(ri::registry
                            .eq(cv::registry)
                            .and(ri::repository.eq(cv::repository))
                            .and(ri::digest.eq(cv::digest))),
                    )
                    .filter(cv::component.eq(component))
                    .order(cv::version.asc())
                    .select((
                        cv::version,
                        cv::digest,
                        ri::last_pushed_at.nullable(),
                        ri::last_deleted_at.nullable(),
                    ))
                    .load(c)?;
                Ok(rows
                    .into_iter()
                    .map(|(v, d, pushed, deleted)| {
                        let gone = deleted.is_some_and(|del| pushed.is_none_or(|p| del >= p));
                        (v, d, gone)
                    })
                    .collect())
            }

            pub fn current_tags(
                c: &mut C,
                registry: &str,
                repository: &str,
            ) -> QueryResult<BTreeMap<String, String>> {
                use repository_images as ri;
                let rows: Vec<(String, Option<String>, i64, Option<i64>)> = tags::table
                    .left_join(
                        ri::table.on(ri::registry
                            .eq(tags::registry)
                            .and(ri::repository.eq(tags::repository))
                            .and(ri::digest.nullable().eq(tags::digest))),
                    )
                    .filter(tags::registry.eq(registry))
                    .filter(tags::repository.eq(repository))
                    .select((
                        tags::tag,
                        tags::digest,
                        tags::since,
                        ri::last_deleted_at.nullable(),
                    ))
                    .load(c)?;
                Ok(rows
                    .into_iter()
                    .filter(|(_, _, since, deleted)| deleted.is_none_or(|d| d < *since))
                    .filter_map(|(t, d, _, _)| d.map(|d| (t, d)))
                    .collect())
            }

            pub fn owner_of(c: &mut C, component: &str) -> QueryResult<Option<String>> {
                ownership::table
                    .filter(ownership::component.eq(component))
                    .select(ownership::team)
                    .first(c)
                    .optional()
            }
        }
    };
}

/// JSON text for the `platforms` / `labels` columns (plain maps and lists: cannot fail).
fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".to_string())
}

/// Does applying the event read rows other events wrote, to derive its own (effective
/// dependencies from descriptors, provided APIs and API declarations)?
fn derives_from_others(event: &Event) -> bool {
    matches!(
        event,
        Event::EntityDeclared(_)
            | Event::DependencyDeclared { .. }
            | Event::DependencyRemoved { .. }
    )
}

/// `owner.set`'s `via` as a rank: a declared owner (api, backstage) beats an image label.
fn via_rank(via: &str) -> i32 {
    i32::from(matches!(via, "api" | "backstage"))
}

/// The `role` of an `entity_apis` row, and the `via` of an `application_members` row.
const PROVIDES: &str = "provides";
const CONSUMES: &str = "consumes";
const API: &str = "api";
const BACKSTAGE: &str = "backstage";

/// The components `from` depends on, decided per pair by the later of its API declaration
/// or removal (`declared`: to, present, since) and its latest descriptor (at its time: the
/// pair is declared when `to` is among the descriptor's targets, removed otherwise); a tie
/// goes to the API, and a component never depends on itself.
fn effective_dependencies(
    from: &str,
    descriptor: Option<&(i64, BTreeSet<String>)>,
    declared: &[(String, bool, i64)],
) -> BTreeSet<String> {
    let mut edges: BTreeSet<String> = BTreeSet::new();
    for (to, present, since) in declared {
        let on = match descriptor {
            Some((at, targets)) if *at > *since => targets.contains(to),
            _ => *present,
        };
        if on {
            edges.insert(to.clone());
        }
    }
    if let Some((_, targets)) = descriptor {
        let by_api: BTreeSet<&str> = declared.iter().map(|(to, _, _)| to.as_str()).collect();
        edges.extend(
            targets
                .iter()
                .filter(|to| !by_api.contains(to.as_str()))
                .cloned(),
        );
    }
    edges.remove(from);
    edges
}

write_path!(
    pg,
    diesel::PgConnection,
    transaction,
    replay_check: true,
    graph_lock: Some("SELECT pg_advisory_xact_lock(hashtext('catalog.graph'))")
);
write_path!(
    sqlite,
    diesel::SqliteConnection,
    immediate_transaction,
    replay_check: false,
    graph_lock: None
);
