//! The nesting-depth limit, measured so that standard introspection fits under it.
//!
//! async-graphql's `limit_depth` counts every field, so graphql-js's `getIntrospectionQuery()`
//! (what GraphiQL, codegen, Apollo and Postman send) is refused: its `TypeRef` fragment nests
//! `ofType` nine deep. Here an `ofType` under `__schema` / `__type` counts no depth: it is a
//! chain of one wrapper object per level (NON_NULL / LIST), with no fan-out, so it cannot
//! multiply an answer. Every other field counts 1, inside introspection too, so
//! `__type { fields { type { fields { type ... } } } }` (which fans out) stays bounded.

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ServerError, ServerResult, Variables};
use std::collections::HashMap;
use std::sync::Arc;

/// Refuses a document nested deeper than `max` (see the module doc for how depth is counted).
pub(super) struct DepthLimit {
    pub max: usize,
}

impl ExtensionFactory for DepthLimit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(DepthLimit { max: self.max })
    }
}

#[async_trait::async_trait]
impl Extension for DepthLimit {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        check(&doc, self.max)?;
        Ok(doc)
    }
}

/// Refuses a document nested deeper than `max`, saying how deep it is (code `QUERY_TOO_DEEP`).
pub(super) fn check(doc: &ExecutableDocument, max: usize) -> ServerResult<()> {
    let depth = depth(doc);
    if depth > max {
        let mut e = ServerError::new(
            format!(
                "Query is nested too deep: {depth} levels of fields, the limit is {max} \
                 (introspection's `ofType` chains do not count)"
            ),
            None,
        );
        let mut ext = async_graphql::ErrorExtensionValues::default();
        ext.set("code", "QUERY_TOO_DEEP");
        e.extensions = Some(ext);
        return Err(e);
    }
    Ok(())
}

/// The deepest field nesting of any operation in `doc`, fragments inlined.
pub(super) fn depth(doc: &ExecutableDocument) -> usize {
    let mut walk = Walk {
        doc,
        memo: HashMap::new(),
        open: Vec::new(),
    };
    doc.operations
        .iter()
        .map(|(_, op)| walk.set(&op.node.selection_set.node, false))
        .max()
        .unwrap_or(0)
}

struct Walk<'a> {
    doc: &'a ExecutableDocument,
    /// A fragment's depth, by name and whether it is used under introspection: computed
    /// once, so fragments spread many times do not make the walk exponential.
    memo: HashMap<(&'a str, bool), usize>,
    /// Fragments being walked: a cycle counts nothing here (validation refuses it).
    open: Vec<&'a str>,
}

impl<'a> Walk<'a> {
    fn set(&mut self, set: &'a SelectionSet, introspection: bool) -> usize {
        set.items
            .iter()
            .map(|s| match &s.node {
                Selection::Field(f) => {
                    let name = f.node.name.node.as_str();
                    let inner = introspection || name == "__schema" || name == "__type";
                    let own = usize::from(!(introspection && name == "ofType"));
                    own + self.set(&f.node.selection_set.node, inner)
                }
                Selection::InlineFragment(i) => self.set(&i.node.selection_set.node, introspection),
                Selection::FragmentSpread(s) => {
                    let name = s.node.fragment_name.node.as_str();
                    if let Some(d) = self.memo.get(&(name, introspection)) {
                        return *d;
                    }
                    let Some(frag) = self.doc.fragments.get(name) else {
                        return 0; // unknown: validation names it
                    };
                    if self.open.contains(&name) {
                        return 0;
                    }
                    self.open.push(name);
                    let d = self.set(&frag.node.selection_set.node, introspection);
                    self.open.pop();
                    self.memo.insert((name, introspection), d);
                    d
                }
            })
            .max()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(q: &str) -> usize {
        depth(&async_graphql::parser::parse_query(q).unwrap())
    }

    #[test]
    fn fields_count_and_fragments_inline() {
        assert_eq!(d("{ a }"), 1);
        assert_eq!(d("{ a { b { c } } d }"), 3);
        assert_eq!(d("{ a { ...F } } fragment F on X { b { c } }"), 3);
        assert_eq!(d("{ a { ... on X { b } } }"), 2);
        // A cycle or an unknown fragment does not hang or panic (validation refuses both).
        assert_eq!(
            d("{ ...F } fragment F on Q { a ...G } fragment G on Q { ...F }"),
            1
        );
        assert_eq!(d("{ a { ...Nope } }"), 1);
    }

    #[test]
    fn of_type_chains_count_only_under_introspection() {
        let chain = format!(
            "{{ __type(name: \"X\") {{ fields {{ type {{ {} name {} }} }} }} }}",
            "ofType { ".repeat(8),
            "} ".repeat(8)
        );
        assert_eq!(d(&chain), 4);
        assert_eq!(d("{ ofType { ofType { ofType } } }"), 3);
        // Fan-out inside introspection still counts.
        assert_eq!(
            d("{ __schema { types { fields { type { fields { type { name } } } } } } }"),
            7
        );
    }
}
