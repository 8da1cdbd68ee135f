//! `AccountRepo` on diesel: the account rows and their queries, written once for both backends.
//!
//! The row types are private: the core's `Account` carries no ORM derives, and the mapping
//! between the two lives here. Emails are personal data, so nothing here logs them.

use crate::pool::{Database, run};
use crate::schema::accounts;
use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use kunci_core::ports::{Account, AccountRepo};
use kunci_core::{PortError, UnixTime};

/// An account as stored.
#[derive(Queryable, Selectable)]
#[diesel(table_name = accounts)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct AccountRow {
    id: String,
    email: String,
    email_verified: bool,
    name: String,
    password_hash: Option<String>,
    locale: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl From<AccountRow> for Account {
    fn from(row: AccountRow) -> Self {
        Account {
            id: row.id,
            email: row.email,
            email_verified: row.email_verified,
            name: row.name,
            password_hash: row.password_hash,
            locale: row.locale,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// A new account, borrowed from the caller's `Account`.
#[derive(Insertable)]
#[diesel(table_name = accounts)]
struct NewAccount<'a> {
    id: &'a str,
    email: &'a str,
    email_verified: bool,
    name: &'a str,
    password_hash: Option<&'a str>,
    locale: Option<&'a str>,
    created_at: i64,
    updated_at: i64,
}

impl<'a> From<&'a Account> for NewAccount<'a> {
    fn from(a: &'a Account) -> Self {
        NewAccount {
            id: &a.id,
            email: &a.email,
            email_verified: a.email_verified,
            name: &a.name,
            password_hash: a.password_hash.as_deref(),
            locale: a.locale.as_deref(),
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

#[async_trait]
impl AccountRepo for Database {
    async fn create(&self, account: &Account) -> Result<(), PortError> {
        let row = NewAccount::from(account);
        run!(self, |conn| diesel::insert_into(accounts::table)
            .values(&row)
            .execute(conn)
            .await)?;
        Ok(())
    }

    async fn find_by_id(&self, id: &str) -> Result<Option<Account>, PortError> {
        let row = run!(self, |conn| accounts::table
            .find(id)
            .select(AccountRow::as_select())
            .first(conn)
            .await
            .optional())?;
        Ok(row.map(Account::from))
    }

    async fn find_by_email(&self, email: &str) -> Result<Option<Account>, PortError> {
        let row = run!(self, |conn| accounts::table
            .filter(accounts::email.eq(email))
            .select(AccountRow::as_select())
            .first(conn)
            .await
            .optional())?;
        Ok(row.map(Account::from))
    }

    async fn mark_email_verified(&self, id: &str, now: UnixTime) -> Result<bool, PortError> {
        let updated = run!(self, |conn| diesel::update(accounts::table.find(id))
            .set((
                accounts::email_verified.eq(true),
                accounts::updated_at.eq(now)
            ))
            .execute(conn)
            .await)?;
        Ok(updated > 0)
    }

    async fn set_password_hash(
        &self,
        id: &str,
        hash: &str,
        now: UnixTime,
    ) -> Result<bool, PortError> {
        let updated = run!(self, |conn| diesel::update(accounts::table.find(id))
            .set((
                accounts::password_hash.eq(hash),
                accounts::updated_at.eq(now)
            ))
            .execute(conn)
            .await)?;
        Ok(updated > 0)
    }

    async fn list(&self, limit: u32, offset: u32) -> Result<Vec<Account>, PortError> {
        let rows = run!(self, |conn| accounts::table
            .select(AccountRow::as_select())
            // `id` breaks ties so that pages never overlap or skip accounts created in the same second.
            .order((accounts::created_at.asc(), accounts::id.asc()))
            .limit(i64::from(limit))
            .offset(i64::from(offset))
            .load(conn)
            .await)?;
        Ok(rows.into_iter().map(Account::from).collect())
    }

    async fn count(&self) -> Result<u64, PortError> {
        let n: i64 = run!(self, |conn| accounts::table.count().get_result(conn).await)?;
        u64::try_from(n).map_err(|_| PortError::Corrupt(format!("negative account count {n}")))
    }
}
