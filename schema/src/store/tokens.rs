//! Bearer tokens: a name, the SHA-256 of the secret (the secret itself is never stored) and
//! its scopes.

use super::{Store, StoreResult};
use crate::schema::tokens;
use crate::time::to_micros;
use chrono::Utc;
use diesel::prelude::*;

/// A bearer token's identity (the secret itself is never stored).
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub name: String,
    pub scopes: Vec<String>,
}

impl Store {
    /// Stores a token; false when the name is taken.
    pub fn token_create(&self, name: &str, hash: &str, scopes: &[String]) -> StoreResult<bool> {
        let (_turn, mut conn) = self.writer()?;
        let row = (
            tokens::name.eq(name),
            tokens::hash.eq(hash),
            tokens::scopes.eq(scopes.join(",")),
            tokens::created_at.eq(to_micros(Utc::now())),
        );
        let n = match &mut *conn {
            super::DbConnection::Postgresql(c) => diesel::insert_into(tokens::table)
                .values(row)
                .on_conflict_do_nothing()
                .execute(c)?,
            super::DbConnection::Sqlite(c) => diesel::insert_into(tokens::table)
                .values(row)
                .on_conflict_do_nothing()
                .execute(c)?,
        };
        Ok(n > 0)
    }

    pub fn token_lookup(&self, hash: &str) -> StoreResult<Option<Token>> {
        let mut conn = self.conn()?;
        let row: Option<(String, String)> = tokens::table
            .filter(tokens::hash.eq(hash))
            .select((tokens::name, tokens::scopes))
            .first(&mut *conn)
            .optional()?;
        Ok(row.map(|(name, scopes)| Token {
            name,
            scopes: scopes
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        }))
    }

    pub fn token_count(&self) -> StoreResult<i64> {
        let mut conn = self.conn()?;
        Ok(tokens::table.count().get_result(&mut *conn)?)
    }

    pub fn token_delete(&self, name: &str) -> StoreResult<bool> {
        let (_turn, mut conn) = self.writer()?;
        Ok(diesel::delete(tokens::table.filter(tokens::name.eq(name))).execute(&mut *conn)? > 0)
    }
}
