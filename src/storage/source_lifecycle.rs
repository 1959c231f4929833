//! Day two for sources: change their PBX settings, rotate their secret with a grace period,
//! disable and delete them. Each change commits with its audit entry or not at all.

use super::audit::{AuditEntry, record};
use super::rows::SourceRow;
use super::store::{Store, Tx, on_tx};
use super::user_lifecycle::footprint;
use super::{Footprint, Source, SourceChanges, StoreError};
use crate::domain::{SourceId, TenantId};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};

const SOURCE_COLUMNS: &str = "id, tenant_id, kind, secret, account_id, api_url, api_key, \
     created_at, disabled_at, previous_secret, previous_secret_until";

#[async_trait::async_trait]
pub trait SourceLifecycle {
    async fn update_source(
        &self,
        tenant: &TenantId,
        id: &SourceId,
        changes: &SourceChanges,
        audit: &AuditEntry,
    ) -> Result<Option<Source>, StoreError>;
    /// Makes `secret` the source's secret; the one it replaces still verifies until
    /// `grace_until` (a grace ending now accepts it no more).
    async fn rotate_source_secret(
        &self,
        tenant: &TenantId,
        id: &SourceId,
        secret: &SecretString,
        grace_until: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<Option<Source>, StoreError>;
    /// `Some(at)` refuses the source's requests from then on, `None` accepts them again.
    async fn set_source_disabled(
        &self,
        tenant: &TenantId,
        id: &SourceId,
        disabled_at: Option<DateTime<Utc>>,
        audit: &AuditEntry,
    ) -> Result<Option<Source>, StoreError>;
    async fn source_footprint(
        &self,
        tenant: &TenantId,
        id: &SourceId,
    ) -> Result<Option<Footprint>, StoreError>;
    /// Deletes the source with its links, queue names and calls in progress; the call events
    /// it produced stay (they belong to the tenant's history).
    async fn delete_source(
        &self,
        tenant: &TenantId,
        id: &SourceId,
        audit: &AuditEntry,
    ) -> Result<Option<Footprint>, StoreError>;
}

const SOURCE_FOOTPRINT: [(&str, &str); 4] = [
    (
        "links",
        "SELECT COUNT(*) FROM user_links WHERE source_id = $1",
    ),
    ("queues", "SELECT COUNT(*) FROM queues WHERE source_id = $1"),
    ("calls", "SELECT COUNT(*) FROM calls WHERE source_id = $1"),
    (
        "call_requests",
        "SELECT COUNT(*) FROM call_requests WHERE source_id = $1",
    ),
];

async fn source_in(
    tx: &mut Tx<'_>,
    tenant: &TenantId,
    id: &SourceId,
) -> Result<Option<SourceRow>, StoreError> {
    Ok(on_tx!(&mut *tx, |conn| sqlx::query_as(&format!(
        "SELECT {SOURCE_COLUMNS} FROM sources WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant.as_str())
    .bind(id.as_str())
    .fetch_optional(&mut *conn)
    .await)?)
}

#[async_trait::async_trait]
impl SourceLifecycle for Store {
    async fn update_source(
        &self,
        tenant: &TenantId,
        id: &SourceId,
        changes: &SourceChanges,
        audit: &AuditEntry,
    ) -> Result<Option<Source>, StoreError> {
        let mut tx = self.begin_tx().await?;
        let Some(current) = source_in(&mut tx, tenant, id).await? else {
            return Ok(None);
        };
        let account_id = changes.account_id.clone().unwrap_or(current.account_id);
        let (api_url, api_key) = match &changes.api {
            Some(Some(api)) => (
                Some(api.url.as_str().to_owned()),
                Some(api.key.expose_secret().to_owned()),
            ),
            Some(None) => (None, None),
            None => (current.api_url, current.api_key),
        };
        let row: SourceRow = on_tx!(&mut tx, |conn| sqlx::query_as(&format!(
            "UPDATE sources SET account_id = $1, api_url = $2, api_key = $3 \
             WHERE tenant_id = $4 AND id = $5 RETURNING {SOURCE_COLUMNS}"
        ))
        .bind(account_id.as_deref())
        .bind(api_url.as_deref())
        .bind(api_key.as_deref())
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_one(&mut *conn)
        .await)?;
        record(&mut tx, audit).await?;
        tx.commit().await?;
        row.try_into().map(Some)
    }

    async fn rotate_source_secret(
        &self,
        tenant: &TenantId,
        id: &SourceId,
        secret: &SecretString,
        grace_until: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<Option<Source>, StoreError> {
        let mut tx = self.begin_tx().await?;
        let row: Option<SourceRow> = on_tx!(&mut tx, |conn| sqlx::query_as(&format!(
            "UPDATE sources SET previous_secret = secret, previous_secret_until = $1, \
             secret = $2 WHERE tenant_id = $3 AND id = $4 RETURNING {SOURCE_COLUMNS}"
        ))
        .bind(grace_until)
        .bind(secret.expose_secret())
        .bind(tenant.as_str())
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

    async fn set_source_disabled(
        &self,
        tenant: &TenantId,
        id: &SourceId,
        disabled_at: Option<DateTime<Utc>>,
        audit: &AuditEntry,
    ) -> Result<Option<Source>, StoreError> {
        let mut tx = self.begin_tx().await?;
        let row: Option<SourceRow> = on_tx!(&mut tx, |conn| sqlx::query_as(&format!(
            "UPDATE sources SET disabled_at = $1 WHERE tenant_id = $2 AND id = $3 \
             RETURNING {SOURCE_COLUMNS}"
        ))
        .bind(disabled_at)
        .bind(tenant.as_str())
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

    async fn source_footprint(
        &self,
        tenant: &TenantId,
        id: &SourceId,
    ) -> Result<Option<Footprint>, StoreError> {
        let mut tx = self.begin_tx().await?;
        if source_in(&mut tx, tenant, id).await?.is_none() {
            return Ok(None);
        }
        let counts = footprint(&mut tx, id.as_str(), &SOURCE_FOOTPRINT).await?;
        tx.commit().await?;
        Ok(Some(counts))
    }

    async fn delete_source(
        &self,
        tenant: &TenantId,
        id: &SourceId,
        audit: &AuditEntry,
    ) -> Result<Option<Footprint>, StoreError> {
        let mut tx = self.begin_tx().await?;
        if source_in(&mut tx, tenant, id).await?.is_none() {
            return Ok(None);
        }
        let counts = footprint(&mut tx, id.as_str(), &SOURCE_FOOTPRINT).await?;
        on_tx!(&mut tx, |conn| sqlx::query(
            "DELETE FROM sources WHERE id = $1"
        )
        .bind(id.as_str())
        .execute(&mut *conn)
        .await
        .map(|done| done.rows_affected()))?;
        record(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(Some(counts))
    }
}
