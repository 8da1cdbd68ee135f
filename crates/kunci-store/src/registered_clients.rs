//! `ClientRepo` on diesel: dynamically registered clients (RFC 7591), written once for both
//! backends. Rows hold the checked metadata as JSON and digests of the secret and the
//! registration access token, never the secrets themselves. Deleting a client is one
//! transaction that also deletes its refresh tokens and the consents given to it.

use crate::pool::{Database, run};
use crate::schema::{consents, refresh_tokens, registered_clients};
use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use kunci_core::PortError;
use kunci_core::ports::{ClientRepo, RegisteredClient};

/// A registered client as stored.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = registered_clients)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct RegisteredClientRow {
    client_id: String,
    metadata: String,
    secret_sha256: Option<String>,
    registration_token_hash: String,
    issued_at: i64,
    updated_at: i64,
}

impl From<RegisteredClientRow> for RegisteredClient {
    fn from(row: RegisteredClientRow) -> Self {
        RegisteredClient {
            client_id: row.client_id,
            metadata: row.metadata,
            secret_sha256: row.secret_sha256,
            registration_token_hash: row.registration_token_hash,
            issued_at: row.issued_at,
            updated_at: row.updated_at,
        }
    }
}

impl From<&RegisteredClient> for RegisteredClientRow {
    fn from(c: &RegisteredClient) -> Self {
        RegisteredClientRow {
            client_id: c.client_id.clone(),
            metadata: c.metadata.clone(),
            secret_sha256: c.secret_sha256.clone(),
            registration_token_hash: c.registration_token_hash.clone(),
            issued_at: c.issued_at,
            updated_at: c.updated_at,
        }
    }
}

#[async_trait]
impl ClientRepo for Database {
    async fn insert_registered_client(&self, client: &RegisteredClient) -> Result<(), PortError> {
        let row = RegisteredClientRow::from(client);
        run!(self, |conn| diesel::insert_into(registered_clients::table)
            .values(&row)
            .execute(conn)
            .await)?;
        Ok(())
    }

    async fn find_registered_client(
        &self,
        client_id: &str,
    ) -> Result<Option<RegisteredClient>, PortError> {
        let row = run!(self, |conn| registered_clients::table
            .find(client_id)
            .select(RegisteredClientRow::as_select())
            .first(conn)
            .await
            .optional())?;
        Ok(row.map(RegisteredClient::from))
    }

    async fn update_registered_client(&self, client: &RegisteredClient) -> Result<bool, PortError> {
        let updated = run!(self, |conn| diesel::update(
            registered_clients::table.find(&client.client_id)
        )
        .set((
            registered_clients::metadata.eq(&client.metadata),
            registered_clients::secret_sha256.eq(&client.secret_sha256),
            registered_clients::updated_at.eq(client.updated_at),
        ))
        .execute(conn)
        .await)?;
        Ok(updated > 0)
    }

    async fn delete_registered_client(&self, client_id: &str) -> Result<bool, PortError> {
        run!(self, |conn| conn
            .transaction(async |conn| {
                let deleted = diesel::delete(registered_clients::table.find(client_id))
                    .execute(conn)
                    .await?;
                if deleted == 0 {
                    return Ok(false);
                }
                diesel::delete(
                    refresh_tokens::table.filter(refresh_tokens::client_id.eq(client_id)),
                )
                .execute(conn)
                .await?;
                diesel::delete(consents::table.filter(consents::client_id.eq(client_id)))
                    .execute(conn)
                    .await?;
                Ok::<_, diesel::result::Error>(true)
            })
            .await)
    }
}
