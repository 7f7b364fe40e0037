//! Contracts of the API crate that need no running server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

/// `schema/catalog.graphql` is the committed contract dashboards build against: it must be
/// exactly what the server serves. `UPDATE_SCHEMA=1 cargo test -p catalog-api` rewrites it.
#[test]
fn is_latest_schema_committed() {
    let live = catalog_api::graphql::sdl();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema/catalog.graphql");
        std::fs::write(path, &live).unwrap();
        return;
    }
    assert!(
        live == catalog_schema::GRAPHQL_SDL,
        "schema/catalog.graphql differs from the served schema; regenerate it with \
         `UPDATE_SCHEMA=1 cargo test -p catalog-api --test integration` and review the diff"
    );
}

/// Every GraphQL type and field in the contract carries a description, so the committed SDL
/// doubles as the API reference.
#[test]
fn root_fields_are_documented() {
    let sdl = catalog_schema::GRAPHQL_SDL;
    for field in [
        "components(",
        "component(",
        "image(",
        "teams(",
        "team(",
        "events(",
        "inbox(",
        "setOwner(",
        "registerImage(",
        "retryInboxItem(",
    ] {
        let at = sdl
            .find(&format!("\t{field}"))
            .unwrap_or_else(|| panic!("{field} missing from the SDL"));
        let before = &sdl[..at];
        assert!(
            before.trim_end().ends_with("\"\"\""),
            "{field} has no description"
        );
    }
}
