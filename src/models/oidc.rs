//! Pipal's OpenID Connect provider: authorization codes (single use, short-lived) and refresh
//! tokens, both stored as SHA-256 hashes.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{oidc_codes, oidc_refresh_tokens};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = oidc_codes)]
pub struct AuthorizationCode {
    pub id: i32,
    pub code_hash: String,
    pub user_id: i32,
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = oidc_codes)]
pub struct NewAuthorizationCode<'a> {
    pub code_hash: &'a str,
    pub user_id: i32,
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub scope: &'a str,
    pub code_challenge: Option<&'a str>,
    pub code_challenge_method: Option<&'a str>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = oidc_refresh_tokens)]
pub struct RefreshToken {
    pub id: i32,
    pub token_hash: String,
    pub user_id: i32,
    pub client_id: String,
    pub scope: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

impl AuthorizationCode {
    pub fn create(conn: &mut DbConnection, new: &NewAuthorizationCode<'_>) -> QueryResult<()> {
        diesel::insert_into(oidc_codes::table)
            .values(new)
            .execute(conn)
            .map(drop)
    }

    /// Takes the code: returns it if it exists, is unused and unexpired, and marks it used in
    /// the same statement so that it cannot be redeemed twice.
    pub fn redeem(
        conn: &mut DbConnection,
        code_hash: &str,
        now: NaiveDateTime,
    ) -> QueryResult<Option<AuthorizationCode>> {
        diesel::update(
            oidc_codes::table
                .filter(oidc_codes::code_hash.eq(code_hash))
                .filter(oidc_codes::used_at.is_null())
                .filter(oidc_codes::expires_at.gt(now)),
        )
        .set(oidc_codes::used_at.eq(Some(now)))
        .returning(oidc_codes::all_columns)
        .get_result(conn)
        .optional()
    }

    /// Removes codes that expired before `cutoff`.
    pub fn delete_expired(conn: &mut DbConnection, cutoff: NaiveDateTime) -> QueryResult<usize> {
        diesel::delete(oidc_codes::table.filter(oidc_codes::expires_at.lt(cutoff))).execute(conn)
    }
}

impl RefreshToken {
    pub fn create(
        conn: &mut DbConnection,
        token_hash: &str,
        user_id: i32,
        client_id: &str,
        scope: &str,
        now: NaiveDateTime,
        expires_at: NaiveDateTime,
    ) -> QueryResult<()> {
        diesel::insert_into(oidc_refresh_tokens::table)
            .values((
                oidc_refresh_tokens::token_hash.eq(token_hash),
                oidc_refresh_tokens::user_id.eq(user_id),
                oidc_refresh_tokens::client_id.eq(client_id),
                oidc_refresh_tokens::scope.eq(scope),
                oidc_refresh_tokens::created_at.eq(now),
                oidc_refresh_tokens::expires_at.eq(expires_at),
            ))
            .execute(conn)
            .map(drop)
    }

    /// Takes a usable refresh token and revokes it (refresh tokens rotate on every use).
    pub fn redeem(
        conn: &mut DbConnection,
        token_hash: &str,
        now: NaiveDateTime,
    ) -> QueryResult<Option<RefreshToken>> {
        diesel::update(
            oidc_refresh_tokens::table
                .filter(oidc_refresh_tokens::token_hash.eq(token_hash))
                .filter(oidc_refresh_tokens::revoked_at.is_null())
                .filter(oidc_refresh_tokens::expires_at.gt(now)),
        )
        .set(oidc_refresh_tokens::revoked_at.eq(Some(now)))
        .returning(oidc_refresh_tokens::all_columns)
        .get_result(conn)
        .optional()
    }
}
