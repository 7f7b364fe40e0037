//! Bearer tokens with scopes (`read`, `ingest`, `catalog`, `approve`, `admin`; admin implies
//! the others).
//!
//! The scopes follow the damage a leaked token can do. `ingest` is handed to registries and CD
//! pipelines: it records what happened (pushes, deployments, SBOMs). `catalog` declares what
//! people are accountable for: ownership, team contacts, declared dependencies, applications
//! and advisories (Backstage and OSV imports), so a leaked CI token cannot redirect a page or
//! withdraw an advisory. `approve` approves or rejects a version for an environment, which
//! release policies may require (and require from someone other than the deployer). `admin` manages the catalog itself (tokens, the inbox).
//!
//! Secrets are never stored: the store keeps SHA-256 hashes, and tokens given by flag are
//! hashed at start. A fresh install with no token at all gets a bootstrap admin token written
//! to a 0600 file beside the database, so the catalog is never open by accident.

use crate::errors::ApiError;
use actix_web::HttpRequest;
use catalog_schema::{Store, Token};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Read,
    Ingest,
    Catalog,
    Approve,
    Admin,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Ingest => "ingest",
            Scope::Catalog => "catalog",
            Scope::Approve => "approve",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        match s.trim() {
            "read" => Some(Scope::Read),
            "ingest" => Some(Scope::Ingest),
            "catalog" => Some(Scope::Catalog),
            "approve" => Some(Scope::Approve),
            "admin" => Some(Scope::Admin),
            _ => None,
        }
    }
}

/// Who is calling, as far as the bearer token tells.
#[derive(Debug, Clone, Default)]
pub enum Caller {
    #[default]
    Anonymous,
    Token(Token),
    /// A token was sent but is not valid.
    Invalid(String),
}

impl Caller {
    pub fn has(&self, scope: Scope) -> bool {
        match self {
            Caller::Token(t) => t.scopes.iter().any(|s| s == scope.as_str() || s == "admin"),
            _ => false,
        }
    }

    pub fn name(&self) -> String {
        match self {
            Caller::Token(t) => t.name.clone(),
            _ => "anonymous".to_string(),
        }
    }

    /// Ok when the caller may act with `scope`; else a 401 (no/invalid token) or 403.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        match self {
            Caller::Anonymous => Err(ApiError::Unauthenticated(format!(
                "missing bearer token: send `Authorization: Bearer <token>` with the {} scope",
                scope.as_str()
            ))),
            Caller::Invalid(why) => Err(ApiError::Unauthenticated(why.clone())),
            Caller::Token(t) if self.has(scope) => {
                let _ = t;
                Ok(())
            }
            Caller::Token(t) => Err(ApiError::Forbidden(format!(
                "token {:?} lacks the {} scope (it has: {})",
                t.name,
                scope.as_str(),
                t.scopes.join(", ")
            ))),
        }
    }
}

pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A new random secret: `cat_` and 32 random bytes in hex.
pub fn generate() -> Result<String, ApiError> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| ApiError::Internal(format!("no randomness: {e}")))?;
    Ok(format!("cat_{}", hex::encode(b)))
}

/// How long a stored token, once found, is trusted without asking the store again: webhooks
/// arrive thousands a second, revocation may take this long to bite.
const CACHE_TTL: Duration = Duration::from_secs(10);

/// The credentials of an `Authorization` value when its scheme is `scheme`. Schemes are
/// case-insensitive (RFC 9110 section 11.1): `Bearer`, `bearer` and `BEARER` are one scheme.
pub fn credentials<'a>(authorization: &'a str, scheme: &str) -> Option<&'a str> {
    let (name, rest) = authorization.trim_start().split_once([' ', '\t'])?;
    name.eq_ignore_ascii_case(scheme).then(|| rest.trim())
}

/// Resolves bearer tokens: those given by flag (in memory) first, then the store (cached).
#[derive(Clone)]
pub struct Authenticator {
    store: Store,
    static_tokens: HashMap<String, Token>,
    cache: Arc<Mutex<HashMap<String, (Token, Instant)>>>,
}

impl Authenticator {
    pub fn new(store: Store, flagged: &[(String, &str, &[&str])]) -> Authenticator {
        let static_tokens = flagged
            .iter()
            .map(|(secret, name, scopes)| {
                (
                    hash(secret),
                    Token {
                        name: name.to_string(),
                        scopes: scopes.iter().map(|s| s.to_string()).collect(),
                    },
                )
            })
            .collect();
        Authenticator {
            store,
            static_tokens,
            cache: Arc::default(),
        }
    }

    pub fn has_static_tokens(&self) -> bool {
        !self.static_tokens.is_empty()
    }

    /// Identifies the caller of a request (blocking store lookup off the async thread).
    pub async fn caller(&self, req: &HttpRequest) -> Result<Caller, ApiError> {
        match req.headers().get("authorization") {
            None => Ok(Caller::Anonymous),
            Some(h) => self.caller_from(h.to_str().ok()).await,
        }
    }

    /// The caller an `Authorization` value names (`None`: a value that is not text).
    pub async fn caller_from(&self, authorization: Option<&str>) -> Result<Caller, ApiError> {
        let Some(secret) = authorization.and_then(|s| credentials(s, "Bearer")) else {
            return Ok(Caller::Invalid(
                "Authorization header must be `Bearer <token>`".into(),
            ));
        };
        let hashed = hash(secret.trim());
        if let Some(t) = self.static_tokens.get(&hashed) {
            return Ok(Caller::Token(t.clone()));
        }
        if let Ok(cache) = self.cache.lock() {
            if let Some((t, at)) = cache.get(&hashed) {
                if at.elapsed() < CACHE_TTL {
                    return Ok(Caller::Token(t.clone()));
                }
            }
        }
        let store = self.store.clone();
        let key = hashed.clone();
        let found = actix_web::web::block(move || store.token_lookup(&key)).await??;
        Ok(match found {
            Some(t) => {
                if let Ok(mut cache) = self.cache.lock() {
                    cache.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
                    cache.insert(hashed, (t.clone(), Instant::now()));
                }
                Caller::Token(t)
            }
            None => Caller::Invalid("invalid bearer token (unknown or revoked)".into()),
        })
    }
}
