//! `RefreshTokenRepo` on diesel: refresh token families, written once for both backends.
//!
//! Rows hold digests of tokens, never tokens. Rotation is one transaction: a conditional
//! `UPDATE … SET used_at = now WHERE token_hash = ? AND used_at IS NULL`, then the successor's
//! `INSERT` only if that update touched a row. Two racing rotations of one token cannot both
//! touch it: PostgreSQL re-checks the `WHERE` after waiting for the winner's row lock, and
//! SQLite lets one writer at a time in. Scopes and `amr` are stored as space-separated lists,
//! as in `consents`.

use crate::pool::{Database, run};
use crate::schema::refresh_tokens;
use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use kunci_core::ports::{RefreshToken, RefreshTokenRepo};
use kunci_core::{PortError, UnixTime};

/// A refresh token as stored.
#[derive(Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct RefreshTokenRow {
    token_hash: String,
    family_id: String,
    client_id: String,
    account_id: String,
    scopes: String,
    session_id: String,
    auth_time: i64,
    amr: String,
    created_at: i64,
    absolute_expires_at: i64,
    idle_expires_at: i64,
    used_at: Option<i64>,
    claims: Option<String>,
    dpop_jkt: Option<String>,
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

impl TryFrom<RefreshTokenRow> for RefreshToken {
    type Error = PortError;

    fn try_from(row: RefreshTokenRow) -> Result<Self, PortError> {
        let claims = row
            .claims
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| PortError::Corrupt(format!("refresh token claims: {e}")))?;
        Ok(RefreshToken {
            token_hash: row.token_hash,
            family_id: row.family_id,
            client_id: row.client_id,
            account_id: row.account_id,
            scopes: words(&row.scopes),
            session_id: row.session_id,
            auth_time: row.auth_time,
            amr: words(&row.amr),
            created_at: row.created_at,
            absolute_expires_at: row.absolute_expires_at,
            idle_expires_at: row.idle_expires_at,
            used_at: row.used_at,
            claims,
            dpop_jkt: row.dpop_jkt,
        })
    }
}

/// A new token, borrowed from the caller's `RefreshToken`.
#[derive(Insertable)]
#[diesel(table_name = refresh_tokens)]
struct NewRefreshToken<'a> {
    token_hash: &'a str,
    family_id: &'a str,
    client_id: &'a str,
    account_id: &'a str,
    scopes: String,
    session_id: &'a str,
    auth_time: i64,
    amr: String,
    created_at: i64,
    absolute_expires_at: i64,
    idle_expires_at: i64,
    used_at: Option<i64>,
    claims: Option<String>,
    dpop_jkt: Option<&'a str>,
}

/// Joins a list with single spaces, refusing entries that would not read back the same.
fn join_words(what: &str, list: &[String]) -> Result<String, PortError> {
    if let Some(bad) = list
        .iter()
        .find(|s| s.is_empty() || s.contains(char::is_whitespace))
    {
        return Err(PortError::Corrupt(format!(
            "refusing to store the {what} entry {bad:?}: entries are non-empty and space-free"
        )));
    }
    Ok(list.join(" "))
}

impl<'a> TryFrom<&'a RefreshToken> for NewRefreshToken<'a> {
    type Error = PortError;

    fn try_from(t: &'a RefreshToken) -> Result<Self, PortError> {
        Ok(NewRefreshToken {
            token_hash: &t.token_hash,
            family_id: &t.family_id,
            client_id: &t.client_id,
            account_id: &t.account_id,
            scopes: join_words("scope", &t.scopes)?,
            session_id: &t.session_id,
            auth_time: t.auth_time,
            amr: join_words("amr", &t.amr)?,
            created_at: t.created_at,
            absolute_expires_at: t.absolute_expires_at,
            idle_expires_at: t.idle_expires_at,
            used_at: t.used_at,
            claims: t
                .claims
                .as_ref()
                .map(serde_json::to_string)
                .transpose()
                .map_err(|e| PortError::Corrupt(format!("refresh token claims: {e}")))?,
            dpop_jkt: t.dpop_jkt.as_deref(),
        })
    }
}

#[async_trait]
impl RefreshTokenRepo for Database {
    async fn insert_refresh_token(&self, token: &RefreshToken) -> Result<(), PortError> {
        let row = NewRefreshToken::try_from(token)?;
        run!(self, |conn| diesel::insert_into(refresh_tokens::table)
            .values(&row)
            .execute(conn)
            .await)?;
        Ok(())
    }

    async fn find_refresh_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<RefreshToken>, PortError> {
        let row = run!(self, |conn| refresh_tokens::table
            .find(token_hash)
            .select(RefreshTokenRow::as_select())
            .first(conn)
            .await
            .optional())?;
        row.map(RefreshToken::try_from).transpose()
    }

    async fn rotate_refresh_token(
        &self,
        token_hash: &str,
        successor: &RefreshToken,
        now: UnixTime,
    ) -> Result<bool, PortError> {
        let row = NewRefreshToken::try_from(successor)?;
        let row = &row;
        run!(self, |conn| conn
            .transaction(async |conn| {
                let marked = diesel::update(
                    refresh_tokens::table
                        .find(token_hash)
                        .filter(refresh_tokens::used_at.is_null()),
                )
                .set(refresh_tokens::used_at.eq(now))
                .execute(conn)
                .await?;
                if marked == 0 {
                    return Ok(false);
                }
                diesel::insert_into(refresh_tokens::table)
                    .values(row)
                    .execute(conn)
                    .await?;
                Ok::<_, diesel::result::Error>(true)
            })
            .await)
    }

    async fn extend_refresh_token(
        &self,
        token_hash: &str,
        idle_expires_at: UnixTime,
    ) -> Result<bool, PortError> {
        let updated = run!(self, |conn| diesel::update(
            refresh_tokens::table
                .find(token_hash)
                .filter(refresh_tokens::used_at.is_null()),
        )
        .set(refresh_tokens::idle_expires_at.eq(idle_expires_at))
        .execute(conn)
        .await)?;
        Ok(updated > 0)
    }

    async fn revoke_refresh_family(&self, family_id: &str) -> Result<u64, PortError> {
        let deleted = run!(self, |conn| diesel::delete(
            refresh_tokens::table.filter(refresh_tokens::family_id.eq(family_id))
        )
        .execute(conn)
        .await)?;
        Ok(deleted as u64)
    }

    async fn purge_expired_refresh_tokens(&self, now: UnixTime) -> Result<u64, PortError> {
        let expired = refresh_tokens::absolute_expires_at
            .le(now)
            .or(refresh_tokens::used_at
                .is_null()
                .and(refresh_tokens::idle_expires_at.le(now)));
        let deleted = run!(self, |conn| diesel::delete(
            refresh_tokens::table.filter(expired)
        )
        .execute(conn)
        .await)?;
        Ok(deleted as u64)
    }
}
