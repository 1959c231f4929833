//! What the console changes on hooks, deliveries and grants on a person's behalf, each in one
//! transaction with its audit entry (written only when something changed, so a repeated post
//! leaves one record): deleting a hook, sending a delivery again, re-enabling a hook that was
//! disabled for failing, revoking an app's grant.

use super::StoreError;
use super::audit::{AuditEntry, record};
use super::oauth::grant_revoked;
use super::store::{Store, Tx, on_tx};
use crate::domain::{DeliveryId, GrantId, HookId, TenantId};
use chrono::{DateTime, Utc};

#[async_trait::async_trait]
pub trait HookAdmin {
    /// Deletes the tenant's hook with its deliveries; false when there was none.
    async fn delete_hook_audited(
        &self,
        tenant: &TenantId,
        id: &HookId,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError>;

    /// Queues a failed or waiting delivery again now; false when it was delivered (or gone).
    async fn resend_delivery(
        &self,
        tenant: &TenantId,
        id: &DeliveryId,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError>;

    /// Turns a disabled hook back on with its failing clock cleared. A hook whose grant was
    /// revoked stays disabled: the statement itself excludes it, whoever calls it. False when
    /// nothing changed (active already, revoked grant, no such hook).
    async fn reenable_hook(
        &self,
        tenant: &TenantId,
        id: &HookId,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError>;

    /// Revokes the grant (its tokens stop, its hooks are disabled); false if it was already.
    async fn revoke_grant_audited(
        &self,
        id: &GrantId,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError>;
}

/// Runs one statement with `binds` as text parameters inside `tx`; rows changed.
async fn execute(tx: &mut Tx<'_>, sql: &str, binds: &[&str]) -> Result<u64, StoreError> {
    Ok(on_tx!(&mut *tx, |conn| {
        let mut query = sqlx::query(sql);
        for bind in binds {
            query = query.bind(*bind);
        }
        query
            .execute(&mut *conn)
            .await
            .map(|done| done.rows_affected())
    })?)
}

/// Records `audit` and commits when `changed`; otherwise rolls back (nothing was written).
async fn finish(mut tx: Tx<'_>, changed: bool, audit: &AuditEntry) -> Result<bool, StoreError> {
    if changed {
        record(&mut tx, audit).await?;
        tx.commit().await?;
    }
    Ok(changed)
}

#[async_trait::async_trait]
impl HookAdmin for Store {
    async fn delete_hook_audited(
        &self,
        tenant: &TenantId,
        id: &HookId,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_tx().await?;
        let sql = "DELETE FROM hooks WHERE tenant_id = $1 AND id = $2";
        let deleted = execute(&mut tx, sql, &[tenant.as_str(), id.as_str()]).await? > 0;
        if deleted {
            let sql = "DELETE FROM deliveries WHERE hook_id = $1";
            execute(&mut tx, sql, &[id.as_str()]).await?;
        }
        finish(tx, deleted, audit).await
    }

    async fn resend_delivery(
        &self,
        tenant: &TenantId,
        id: &DeliveryId,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_tx().await?;
        let done = on_tx!(&mut tx, |conn| sqlx::query(
            "UPDATE deliveries SET status = 'pending', next_attempt_at = $1, \
             lease_token = NULL, updated_at = $1 \
             WHERE tenant_id = $2 AND id = $3 AND status IN ('pending', 'failed')",
        )
        .bind(now)
        .bind(tenant.as_str())
        .bind(id.as_str())
        .execute(&mut *conn)
        .await
        .map(|done| done.rows_affected()))?;
        finish(tx, done > 0, audit).await
    }

    async fn reenable_hook(
        &self,
        tenant: &TenantId,
        id: &HookId,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_tx().await?;
        let done = on_tx!(&mut tx, |conn| sqlx::query(
            "UPDATE hooks SET status = 'active', disabled_reason = NULL, failing_since = NULL, \
             reenabled_at = $1, updated_at = $1 \
             WHERE tenant_id = $2 AND id = $3 AND status = 'disabled' \
             AND NOT EXISTS (SELECT 1 FROM oauth_grants g \
             WHERE g.id = hooks.grant_id AND g.revoked_at IS NOT NULL)",
        )
        .bind(now)
        .bind(tenant.as_str())
        .bind(id.as_str())
        .execute(&mut *conn)
        .await
        .map(|done| done.rows_affected()))?;
        finish(tx, done > 0, audit).await
    }

    async fn revoke_grant_audited(
        &self,
        id: &GrantId,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_tx().await?;
        let revoked = grant_revoked(&mut tx, id.as_str(), now).await?;
        finish(tx, revoked, audit).await
    }
}
