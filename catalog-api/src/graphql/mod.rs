//! The GraphQL schema: one query/mutation object per aggregate, merged. Resolvers know
//! nothing of HTTP; they read the in-memory graph for current state and the store for
//! history, and check scopes through the `Caller` in the request data.

mod applications;
mod audit;
mod blast;
mod catalog;
mod complexity;
mod depth;
mod governance;
mod inventory;
mod live;
mod notify;
mod packages;
mod paging;
mod read_only;
mod types;

use crate::auth::{Caller, Scope};
use crate::errors::ApiError;
use async_graphql::{Context, MergedObject, MergedSubscription, Schema};
use catalog_ingest::inbox::InboxWriter;
use catalog_ingest::registry::Registries;
use catalog_ingest::sync::GraphSync;
use catalog_ingest::SharedCatalog;
use catalog_schema::Store;
pub use complexity::MAX_COMPLEXITY;
use complexity::{listed, ComplexityLimit};
use std::sync::Arc;

/// What resolvers need, shared by every request.
#[derive(Clone)]
pub struct AppCtx {
    pub store: Store,
    pub catalog: SharedCatalog,
    pub sync: Arc<GraphSync>,
    pub inbox: InboxWriter,
    pub registries: Arc<Registries>,
    /// Set on a read-only replica: the error every mutation gets, naming where writes go.
    pub read_only: Option<Arc<str>>,
    /// The Rego policy set in force (see [`crate::policy`]).
    pub policies: Arc<crate::policy::Policies>,
    /// Notification endpoints (see [`crate::notify`]).
    pub notify: Arc<crate::notify::Notifier>,
}

#[derive(MergedObject, Default)]
pub struct Query(
    catalog::CatalogQuery,
    inventory::InventoryQuery,
    packages::PackageQuery,
    blast::BlastQuery,
    applications::ApplicationQuery,
    audit::AuditQuery,
    governance::GovernanceQuery,
    notify::NotifyQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    catalog::CatalogMutation,
    applications::ApplicationMutation,
    audit::AuditMutation,
    governance::GovernanceMutation,
    notify::NotifyMutation,
);

#[derive(MergedSubscription, Default)]
pub struct Subscription(inventory::InventorySubscription, live::LiveSubscription);

pub type CatalogSchema = Schema<Query, Mutation, Subscription>;

/// Limits that keep any one query cheap: nesting depth (see [`depth`]: introspection's
/// `ofType` chains do not count), and summed field complexity (see [`complexity`]).
pub const MAX_DEPTH: usize = 12;

pub fn build_schema(ctx: Option<AppCtx>) -> CatalogSchema {
    let mut b = Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .extension(depth::DepthLimit { max: MAX_DEPTH })
    .extension(ComplexityLimit);
    if let Some(c) = ctx {
        if let Some(message) = &c.read_only {
            b = b.extension(read_only::ReadOnly {
                message: message.clone(),
            });
        }
        b = b.data(c);
    }
    b.finish()
}

/// The schema queries and mutations over HTTP run on: the same types and data as
/// [`build_schema`]'s, and no extension.
///
/// As soon as any extension is installed, async-graphql resolves every field of every object
/// through its slow path (the field's registry entry looked up by name, then the extension
/// chain): an inventory page of 379 deployments spent 2.3 ms resolving, 1.1 ms without. So
/// what the extensions check before execution is checked by [`preflight`] instead, and the
/// complexity limit is async-graphql's own ([`MAX_COMPLEXITY`]), whose terse refusal the
/// HTTP handler re-asks of the checked schema for the precise one ([`too_complex`]).
/// Subscriptions stay on the checked schema.
pub fn build_query_schema(ctx: Option<AppCtx>) -> CatalogSchema {
    let mut b = Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .limit_complexity(MAX_COMPLEXITY);
    if let Some(c) = ctx {
        b = b.data(c);
    }
    b.finish()
}

/// What [`build_schema`]'s extensions refuse before parsing is done with, for a request to
/// [`build_query_schema`]: too deep a document, and on a read-only replica (`read_only`: the
/// message) a mutation. The parsed document stays in the request, so it is parsed once. A
/// document that does not parse passes: execution reports that the usual way.
pub fn preflight(
    req: &mut async_graphql::Request,
    read_only: Option<&str>,
) -> Result<(), async_graphql::ServerError> {
    let operation = req.operation_name.clone();
    let Ok(doc) = req.parsed_query() else {
        return Ok(());
    };
    depth::check(doc, MAX_DEPTH)?;
    if let Some(message) = read_only {
        read_only::refuse_mutation(doc, operation.as_deref(), message)?;
    }
    Ok(())
}

/// Is this [`build_query_schema`]'s refusal for complexity (async-graphql's own message)?
pub fn too_complex(resp: &async_graphql::Response) -> bool {
    resp.data == async_graphql::Value::Null
        && resp.errors.len() == 1
        && resp.errors[0].message == "Query is too complex."
}

/// The SDL as committed in `schema/catalog.graphql`: with `@specifiedBy` on scalars, as
/// introspection answers them, so the two describe the same schema.
pub fn sdl() -> String {
    build_schema(None)
        .sdl_with_options(async_graphql::SDLExportOptions::new().include_specified_by())
}

fn app<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a AppCtx> {
    ctx.data::<AppCtx>()
}

/// The in-memory graph, read-locked for the duration of one resolver (never across an await).
fn graph<'a>(
    ctx: &Context<'a>,
) -> async_graphql::Result<std::sync::RwLockReadGuard<'a, catalog_core::Catalog>> {
    app(ctx)?
        .catalog
        .read()
        .map_err(|_| ApiError::Internal("graph lock poisoned".into()).graphql())
}

fn require(ctx: &Context<'_>, scope: Scope) -> async_graphql::Result<Caller> {
    let caller = ctx.data::<Caller>().cloned().unwrap_or_default();
    caller.require(scope).map_err(|e| e.graphql())?;
    Ok(caller)
}

/// Records one event a mutation made, durably, and returns once this process's graph has it
/// (so the mutation's answer, and the next query, see it).
async fn record_now(a: &AppCtx, ev: catalog_core::event::NewEvent) -> async_graphql::Result<()> {
    let (store, sync) = (a.store.clone(), a.sync.clone());
    blocking(move || {
        store.record(&[(None, vec![ev])])?;
        sync.sync()
    })
    .await?;
    Ok(())
}

/// Runs blocking store work off the async threads.
async fn blocking<R: Send + 'static>(
    f: impl FnOnce() -> Result<R, catalog_schema::StoreError> + Send + 'static,
) -> async_graphql::Result<R> {
    let r = actix_web::web::block(f)
        .await
        .map_err(|e| ApiError::from(e).graphql())?;
    r.map_err(|e| ApiError::from(e).graphql())
}

/// `first` bounded to 1..=500 (a named error otherwise).
fn page_size(first: Option<i32>) -> async_graphql::Result<usize> {
    let f = first.unwrap_or(50);
    if !(1..=500).contains(&f) {
        return Err(
            ApiError::bad("first", format!("must be between 1 and 500, got {f}")).graphql(),
        );
    }
    Ok(f as usize)
}

/// A name argument (component, team, application), trimmed; 1-200 printable characters.
fn name_ok(field: &str, v: &str) -> async_graphql::Result<String> {
    let t = v.trim();
    if t.is_empty() || t.len() > 200 || t.chars().any(char::is_control) {
        return Err(ApiError::bad(field, "must be 1-200 printable characters").graphql());
    }
    Ok(t.to_string())
}
