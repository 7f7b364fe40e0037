//! The ONE mapping from errors to HTTP statuses and GraphQL `extensions.code`.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde_json::json;

/// Everything an HTTP handler or resolver can fail with, as the caller should see it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{field}: {reason}")]
    BadInput { field: String, reason: String },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    NotFound(String),
    /// This client holds as much as it may (e.g. WebSockets per address): it should wait.
    #[error("{0}")]
    TooManyRequests(String),
    /// The store or inbox cannot take writes right now: the sender should retry.
    #[error("{0}")]
    Unavailable(String),
    /// This process is a read-only replica: writes go to a catalog on the primary.
    #[error("{0}")]
    ReadOnly(String),
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn bad(field: impl Into<String>, reason: impl Into<String>) -> ApiError {
        ApiError::BadInput {
            field: field.into(),
            reason: reason.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::BadInput { .. } => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) | ApiError::ReadOnly(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated(_) => "UNAUTHENTICATED",
            ApiError::Forbidden(_) => "FORBIDDEN",
            ApiError::BadInput { .. } => "BAD_USER_INPUT",
            ApiError::UnsupportedMediaType(_) => "UNSUPPORTED_MEDIA_TYPE",
            ApiError::PayloadTooLarge(_) => "PAYLOAD_TOO_LARGE",
            ApiError::NotFound(_) => "NOT_FOUND",
            ApiError::TooManyRequests(_) => "TOO_MANY_REQUESTS",
            ApiError::Unavailable(_) => "UNAVAILABLE",
            ApiError::ReadOnly(_) => "READ_ONLY",
            ApiError::Internal(_) => "INTERNAL",
        }
    }

    /// The HTTP status a GraphQL response gets when an error with this code is in it.
    pub fn status_for_code(code: &str) -> Option<StatusCode> {
        match code {
            "UNAUTHENTICATED" => Some(StatusCode::UNAUTHORIZED),
            "FORBIDDEN" => Some(StatusCode::FORBIDDEN),
            "READ_ONLY" | "UNAVAILABLE" => Some(StatusCode::SERVICE_UNAVAILABLE),
            _ => None,
        }
    }

    /// The JSON body of an HTTP error: `{"error": {"code", "message", "field"?}}`.
    pub fn response(&self) -> HttpResponse {
        if let ApiError::Internal(detail) = self {
            tracing::error!(detail, "internal error");
        }
        let mut body = json!({"error": {"code": self.code(), "message": self.to_string()}});
        if let ApiError::BadInput { field, reason } = self {
            body["error"]["field"] = json!(field);
            body["error"]["reason"] = json!(reason);
        }
        let mut r = HttpResponse::build(self.status());
        if matches!(self, ApiError::Unauthenticated(_)) {
            r.insert_header(("WWW-Authenticate", "Bearer realm=\"catalog\""));
        }
        r.json(body)
    }

    pub fn graphql(&self) -> async_graphql::Error {
        use async_graphql::ErrorExtensions;
        let code = self.code();
        let field = match self {
            ApiError::BadInput { field, .. } => Some(field.clone()),
            _ => None,
        };
        if let ApiError::Internal(detail) = self {
            tracing::error!(detail, "internal error");
        }
        async_graphql::Error::new(self.to_string()).extend_with(|_, e| {
            e.set("code", code);
            if let Some(f) = &field {
                e.set("field", f.as_str());
            }
        })
    }
}

impl From<catalog_schema::StoreError> for ApiError {
    fn from(e: catalog_schema::StoreError) -> ApiError {
        match e {
            catalog_schema::StoreError::Connect(m) => {
                ApiError::Unavailable(format!("database unavailable: {m}"))
            }
            e @ catalog_schema::StoreError::ReadOnly => ApiError::ReadOnly(e.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> ApiError {
        ApiError::Internal(e.to_string())
    }
}

impl From<catalog_ingest::inbox::InboxError> for ApiError {
    fn from(e: catalog_ingest::inbox::InboxError) -> ApiError {
        ApiError::Unavailable(e.to_string())
    }
}

impl From<catalog_ingest::sbom::ParseError> for ApiError {
    fn from(e: catalog_ingest::sbom::ParseError) -> ApiError {
        match e {
            catalog_ingest::sbom::ParseError::Invalid(f) => f.into(),
            stopped @ catalog_ingest::sbom::ParseError::Stopped => {
                ApiError::Unavailable(format!("{stopped}; send the document again"))
            }
        }
    }
}

impl From<catalog_ingest::item::FieldError> for ApiError {
    fn from(e: catalog_ingest::item::FieldError) -> ApiError {
        ApiError::BadInput {
            field: e.field,
            reason: e.reason,
        }
    }
}

/// So a middleware can answer with an `ApiError` (a read-only replica's refusal of a hook).
impl actix_web::ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        self.response()
    }
}
