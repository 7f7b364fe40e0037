//! How much a query costs before it runs: every field 1 plus what it selects, and a list
//! field with `first` its selection times the page it asks for (`#[graphql(complexity =
//! ...)]` on each such field calls [`listed`]). Without the multiplier, a thousand aliases of
//! `packages(first: 500)` cost as much as a thousand single fields and answered 14 MB.
//!
//! [`MAX_COMPLEXITY`] is set above what the dashboard sends (the tests below measure every
//! query in `ui/`) and far below an alias flood.

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextValidation};
use async_graphql::{ServerError, ValidationResult};
use std::sync::Arc;

/// The most a query may cost. The dashboard's largest query (a blast-radius page of 500
/// deployments) costs about 9,000.
pub const MAX_COMPLEXITY: usize = 20_000;

/// Refuses a query costing more than [`MAX_COMPLEXITY`], saying what it costs and why
/// (async-graphql's own limit says only "Query is too complex.").
pub(super) struct ComplexityLimit;

impl ExtensionFactory for ComplexityLimit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ComplexityLimit)
    }
}

#[async_trait::async_trait]
impl Extension for ComplexityLimit {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let r = next.run(ctx).await?;
        if r.complexity > MAX_COMPLEXITY {
            let mut e = ServerError::new(
                format!(
                    "query is too complex: it costs {} and the limit is {MAX_COMPLEXITY} (each \
                     field costs 1, a list its selection times `first`): ask for smaller pages \
                     or fewer fields and aliases",
                    r.complexity
                ),
                None,
            );
            let mut ext = async_graphql::ErrorExtensionValues::default();
            ext.set("code", "QUERY_TOO_COMPLEX");
            e.extensions = Some(ext);
            return Err(vec![e]);
        }
        Ok(r)
    }
}

/// The items a list field with `first` may answer, as the resolver will cut them (see
/// `page_size`: 50 by default, 1 to 500): what its selection is multiplied by.
pub(super) fn listed(first: Option<i32>) -> usize {
    first.unwrap_or(50).clamp(1, 500) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graphql::build_schema;
    use std::sync::Mutex;

    /// Records the complexity the validation computed.
    struct Measure(Arc<Mutex<Option<usize>>>);

    impl ExtensionFactory for Measure {
        fn create(&self) -> Arc<dyn Extension> {
            Arc::new(Measure(self.0.clone()))
        }
    }

    #[async_trait::async_trait]
    impl Extension for Measure {
        async fn validation(
            &self,
            ctx: &ExtensionContext<'_>,
            next: NextValidation<'_>,
        ) -> Result<ValidationResult, Vec<ServerError>> {
            let r = next.run(ctx).await;
            if let Ok(v) = &r {
                *self.0.lock().unwrap() = Some(v.complexity);
            }
            r
        }
    }

    /// The complexity of `query` with `variables`, or the errors of the limited schema.
    fn complexity(query: &str, variables: serde_json::Value) -> usize {
        let seen = Arc::new(Mutex::new(None));
        let schema = async_graphql::Schema::build(
            crate::graphql::Query::default(),
            crate::graphql::Mutation::default(),
            crate::graphql::Subscription::default(),
        )
        .extension(Measure(seen.clone()))
        .finish();
        let req = async_graphql::Request::new(query)
            .variables(async_graphql::Variables::from_json(variables));
        let resp = futures_util::FutureExt::now_or_never(schema.execute(req))
            .expect("no await without a store");
        let n = *seen.lock().unwrap();
        n.unwrap_or_else(|| panic!("{query}: did not validate: {:?}", resp.errors))
    }

    /// The dashboard's GraphQL operations: its `graphql`-tagged literals (`ui/js/api.js`).
    fn ui_queries() -> Vec<(String, String)> {
        let mut out = Vec::new();
        for a in crate::ui::ASSETS.iter().filter(|a| a.path.ends_with(".js")) {
            let text = std::str::from_utf8(a.body).unwrap();
            for (i, _) in text.match_indices("graphql`") {
                // The tag, not a word ending in it (`/graphql` in a URL template).
                let before = text[..i].chars().next_back().unwrap_or(' ');
                if before.is_alphanumeric() || "_$/.".contains(before) {
                    continue;
                }
                let rest = &text[i + "graphql`".len()..];
                let end = rest.find('`').unwrap();
                out.push((a.path.to_string(), rest[..end].to_string()));
            }
        }
        out
    }

    #[test]
    fn every_dashboard_query_is_under_the_limit() {
        let queries = ui_queries();
        assert!(queries.len() >= 20, "found {} queries", queries.len());
        // What the dashboard passes as `first` where it is a variable.
        let vars = serde_json::json!({"first": 100, "text": "x", "name": "x", "version": "1",
            "digest": "sha256:0", "purl": "pkg:npm/x", "id": "x", "prefix": ""});
        let mut report = Vec::new();
        for (file, q) in &queries {
            assert!(!q.contains("${"), "{file}: an interpolation is left in {q}");
            let c = complexity(q, vars.clone());
            report.push(format!("{c:>6} {file}"));
            assert!(
                c <= MAX_COMPLEXITY,
                "{file}: complexity {c} > {MAX_COMPLEXITY}:\n{q}"
            );
        }
        report.sort();
        eprintln!("{}", report.join("\n"));
    }

    #[test]
    fn a_list_costs_its_page_times_its_selection() {
        let one = complexity(
            "{ components(first: 1) { nodes { name latestVersion } } }",
            serde_json::json!({}),
        );
        let page = complexity(
            "{ components(first: 500) { nodes { name latestVersion } } }",
            serde_json::json!({}),
        );
        assert_eq!(one, 1 + 3);
        assert_eq!(page, 1 + 500 * 3);
        // The default page (50), and a `first` the resolver would refuse counts as 500.
        let default = complexity(
            "{ components { nodes { name latestVersion } } }",
            serde_json::json!({}),
        );
        assert_eq!(default, 1 + 50 * 3);
    }

    #[test]
    fn an_alias_flood_is_refused() {
        let fields: String = (0..1000)
            .map(|i| format!("a{i}: components(first: 500) {{ nodes {{ name }} }} "))
            .collect();
        let schema = build_schema(None);
        let resp = futures_util::FutureExt::now_or_never(schema.execute(format!("{{ {fields} }}")))
            .expect("refused before any resolver");
        assert_eq!(resp.errors.len(), 1, "{:?}", resp.errors);
        let e = &resp.errors[0];
        assert!(
            e.message.contains("too complex") && e.message.contains("limit is 20000"),
            "{}",
            e.message
        );
        let code = e.extensions.as_ref().and_then(|x| x.get("code")).cloned();
        assert_eq!(code, Some(async_graphql::Value::from("QUERY_TOO_COMPLEX")));
    }

    /// What an answer says, for comparing two schemas: the data, and each error's message,
    /// code and locations.
    fn outcome(r: &async_graphql::Response) -> String {
        let errors: Vec<String> = r
            .errors
            .iter()
            .map(|e| {
                format!(
                    "{} {:?} {:?}",
                    e.message,
                    e.extensions.as_ref().and_then(|x| x.get("code")),
                    e.locations
                )
            })
            .collect();
        format!("{:?} {errors:?}", r.data)
    }

    /// The query schema (no extension; `preflight`, then async-graphql's own complexity
    /// limit, re-asked of the checked schema when it refuses) answers every document as the
    /// checked schema does: the dashboard's queries, floods around the limit, documents
    /// around the depth limit, introspection, and bad documents.
    #[test]
    fn the_query_schema_refuses_and_answers_as_the_checked_one() {
        let checked = build_schema(None);
        let fast = crate::graphql::build_query_schema(None);
        let flood = |n: usize| -> String {
            let f: String = (0..n)
                .map(|i| format!("a{i}: components(first: 500) {{ nodes {{ name }} }} "))
                .collect();
            format!("{{ {f} }}")
        };
        let nest = |n: usize| -> String {
            let mut q = "name".to_string();
            for _ in 0..n {
                q = format!("components {{ nodes {{ owner {{ {q} }} }} }}");
            }
            format!("{{ teams {{ edges {{ node {{ {q} }} }} }} }}")
        };
        let mut docs: Vec<String> = ui_queries().into_iter().map(|(_, q)| q).collect();
        for n in [1, 10, 19, 20, 21, 40, 1000] {
            docs.push(flood(n));
        }
        for n in 1..6 {
            docs.push(nest(n));
        }
        docs.extend(
            [
                "{ __typename }",
                "{ __schema { types { name fields { name type { name ofType { name ofType { name ofType { name } } } } } } } }",
                "{ __schema { types { fields { type { fields { type { fields { type { fields { type { name } } } } } } } } } } }",
                "{ nope }",
                "{ components(",
                "query A { __typename } query B { __typename }",
                "mutation { __typename }",
            ]
            .map(str::to_string),
        );
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let vars = serde_json::json!({"first": 100, "text": "x", "name": "x", "version": "1",
            "digest": "sha256:0", "purl": "pkg:npm/x", "id": "x", "prefix": ""});
        for q in &docs {
            let req = || {
                async_graphql::Request::new(q.clone())
                    .variables(async_graphql::Variables::from_json(vars.clone()))
            };
            let want = rt.block_on(checked.execute(req()));
            let mut r = req();
            let got = match crate::graphql::preflight(&mut r, None) {
                Err(e) => async_graphql::Response::from_errors(vec![e]),
                Ok(()) => {
                    let resp = rt.block_on(fast.execute(r));
                    if crate::graphql::too_complex(&resp) {
                        rt.block_on(checked.execute(req()))
                    } else {
                        resp
                    }
                }
            };
            assert_eq!(outcome(&got), outcome(&want), "{q}");
        }
        // The floods and the deep documents were refused, not answered.
        let refused = |q: String| {
            let r = rt.block_on(checked.execute(q));
            r.errors
                .first()
                .and_then(|e| e.extensions.as_ref())
                .and_then(|x| x.get("code"))
                .cloned()
        };
        assert_eq!(
            refused(flood(1000)),
            Some(async_graphql::Value::from("QUERY_TOO_COMPLEX"))
        );
        assert_eq!(
            refused(nest(5)),
            Some(async_graphql::Value::from("QUERY_TOO_DEEP"))
        );
    }
}
