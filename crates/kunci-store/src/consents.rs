//! `ConsentRepo` on diesel: remembered consents, one row per (account, client).
//!
//! Scopes are stored as one space-separated string, which is how OAuth writes them anyway
//! (RFC 6749 §3.3), so a scope name can never contain a space and the encoding is lossless.
//! Saving is an upsert (`INSERT … ON CONFLICT … DO UPDATE`), which both backends support.

use crate::pool::{Database, run};
use crate::schema::consents;
use async_trait::async_trait;
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::RunQueryDsl;
use kunci_core::PortError;
use kunci_core::ports::{Consent, ConsentRepo};

/// A consent as stored.
#[derive(Queryable, Selectable)]
#[diesel(table_name = consents)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct ConsentRow {
    account_id: String,
    client_id: String,
    scopes: String,
    granted_at: i64,
}

impl From<ConsentRow> for Consent {
    fn from(row: ConsentRow) -> Self {
        Consent {
            account_id: row.account_id,
            client_id: row.client_id,
            scopes: row.scopes.split_whitespace().map(str::to_owned).collect(),
            granted_at: row.granted_at,
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = consents)]
struct NewConsent<'a> {
    account_id: &'a str,
    client_id: &'a str,
    scopes: String,
    granted_at: i64,
}

impl<'a> TryFrom<&'a Consent> for NewConsent<'a> {
    type Error = PortError;

    fn try_from(c: &'a Consent) -> Result<Self, PortError> {
        if let Some(bad) = c
            .scopes
            .iter()
            .find(|s| s.is_empty() || s.contains(char::is_whitespace))
        {
            // Stored, it would read back as different scopes: refuse rather than corrupt.
            return Err(PortError::Corrupt(format!(
                "refusing to store the scope {bad:?}: scope names are non-empty and space-free"
            )));
        }
        Ok(NewConsent {
            account_id: &c.account_id,
            client_id: &c.client_id,
            scopes: c.scopes.join(" "),
            granted_at: c.granted_at,
        })
    }
}

#[async_trait]
impl ConsentRepo for Database {
    async fn find(&self, account_id: &str, client_id: &str) -> Result<Option<Consent>, PortError> {
        let row = run!(self, |conn| consents::table
            .find((account_id, client_id))
            .select(ConsentRow::as_select())
            .first(conn)
            .await
            .optional())?;
        Ok(row.map(Consent::from))
    }

    async fn save(&self, consent: &Consent) -> Result<(), PortError> {
        let row = NewConsent::try_from(consent)?;
        run!(self, |conn| diesel::insert_into(consents::table)
            .values(&row)
            .on_conflict((consents::account_id, consents::client_id))
            .do_update()
            .set((
                consents::scopes.eq(excluded(consents::scopes)),
                consents::granted_at.eq(excluded(consents::granted_at)),
            ))
            .execute(conn)
            .await)?;
        Ok(())
    }

    async fn revoke(&self, account_id: &str, client_id: &str) -> Result<bool, PortError> {
        let deleted = run!(self, |conn| diesel::delete(
            consents::table.find((account_id, client_id))
        )
        .execute(conn)
        .await)?;
        Ok(deleted > 0)
    }

    async fn list_for_account(&self, account_id: &str) -> Result<Vec<Consent>, PortError> {
        let rows = run!(self, |conn| consents::table
            .filter(consents::account_id.eq(account_id))
            .select(ConsentRow::as_select())
            .order(consents::client_id.asc())
            .load(conn)
            .await)?;
        Ok(rows.into_iter().map(Consent::from).collect())
    }
}
