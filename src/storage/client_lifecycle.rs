//! Day two for OAuth clients: rename one or replace its redirect URIs, with its audit entry in
//! the same transaction.

use super::audit::{AuditEntry, record};
use super::rows::ClientRow;
use super::store::{Store, on_tx};
use super::{OAuthClient, StoreError};
use crate::domain::{ClientId, RedirectUri};

#[async_trait::async_trait]
pub trait ClientLifecycle {
    /// `None` keeps a field; an empty URI list is refused by the caller. `None` if there is
    /// no such client.
    async fn update_client(
        &self,
        id: &ClientId,
        name: Option<&str>,
        redirect_uris: Option<&[RedirectUri]>,
        audit: &AuditEntry,
    ) -> Result<Option<OAuthClient>, StoreError>;
}

#[async_trait::async_trait]
impl ClientLifecycle for Store {
    async fn update_client(
        &self,
        id: &ClientId,
        name: Option<&str>,
        redirect_uris: Option<&[RedirectUri]>,
        audit: &AuditEntry,
    ) -> Result<Option<OAuthClient>, StoreError> {
        let uris = redirect_uris
            .map(|uris| {
                let uris: Vec<&str> = uris.iter().map(|u| u.as_str()).collect();
                serde_json::to_string(&uris).map_err(|e| StoreError::Invalid(e.to_string()))
            })
            .transpose()?;
        let mut tx = self.begin_tx().await?;
        let row: Option<ClientRow> = on_tx!(&mut tx, |conn| sqlx::query_as(
            "UPDATE oauth_clients SET name = COALESCE($1, name), \
             redirect_uris = COALESCE($2, redirect_uris) WHERE id = $3 \
             RETURNING id, name, secret_hash, redirect_uris, created_at"
        )
        .bind(name)
        .bind(uris.as_deref())
        .bind(id.as_str())
        .fetch_optional(&mut *conn)
        .await)?;
        let Some(row) = row else {
            return Ok(None);
        };
        record(&mut tx, audit).await?;
        tx.commit().await?;
        row.try_into().map(Some)
    }
}
