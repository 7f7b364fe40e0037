//! A read-only replica refuses mutations before anything runs: the request's operation is
//! looked up once parsed, and a mutation gets one error, code `READ_ONLY`, naming where
//! writes go. Queries and subscriptions pass. (The store refuses writes too, should any path
//! reach it.)

use crate::errors::ApiError;
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest,
};
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{Request, ServerResult, Variables};
use std::sync::{Arc, Mutex};

/// The extension's factory; `message` is the error every mutation gets.
pub struct ReadOnly {
    pub message: Arc<str>,
}

impl ExtensionFactory for ReadOnly {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(PerRequest {
            message: self.message.clone(),
            operation: Mutex::new(None),
        })
    }
}

struct PerRequest {
    message: Arc<str>,
    /// The operation the request names, if it names one.
    operation: Mutex<Option<String>>,
}

#[async_trait::async_trait]
impl Extension for PerRequest {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        if let Ok(mut op) = self.operation.lock() {
            op.clone_from(&request.operation_name);
        }
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        let name = self.operation.lock().ok().and_then(|o| o.clone());
        refuse_mutation(&doc, name.as_deref(), &self.message)?;
        Ok(doc)
    }
}

/// Refuses the document's selected operation if it is a mutation (code `READ_ONLY`, with
/// `message`); `operation` is the name the request selects, if any.
pub(super) fn refuse_mutation(
    doc: &ExecutableDocument,
    operation: Option<&str>,
    message: &str,
) -> ServerResult<()> {
    let selected = doc.operations.iter().find(|(n, _)| match operation {
        Some(want) => n.is_some_and(|n| n.as_str() == want),
        None => true,
    });
    if let Some((_, op)) = selected {
        if op.node.ty == OperationType::Mutation {
            let e = ApiError::ReadOnly(message.to_string()).graphql();
            return Err(e.into_server_error(op.pos));
        }
    }
    Ok(())
}
