//! The audit log of admin actions: who changed a tenant's directory, what, and when. Each
//! entry is written by [`record`] inside the transaction of the action it describes, so an
//! action and its record commit or roll back together. Pruned with delivery history.

use super::StoreError;
use super::store::{Store, Tx, on_pool, on_tx};
use crate::domain::TenantId;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

/// What an admin action records about itself. Details never hold a secret.
#[derive(Clone, Debug)]
pub struct AuditEntry {
    /// The tenant acted on; `None` for actions above tenants (OAuth clients).
    pub tenant_id: Option<TenantId>,
    /// `cli:<login>` for the command line, the user id for the admin API.
    pub actor: String,
    /// Dotted verb, e.g. `user.update`, `source.rotate_secret`.
    pub action: String,
    /// The id acted on.
    pub target: String,
    pub details: Value,
    pub at: DateTime<Utc>,
}

/// One stored entry, as `ringhook audit list` and `GET /v1/admin/audit` show it.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AuditRecord {
    pub id: i64,
    pub tenant_id: Option<String>,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub details: Value,
    pub created_at: DateTime<Utc>,
}

#[async_trait::async_trait]
pub trait AuditStore {
    /// The newest entries first; only `tenant`'s when given (the admin API always gives it).
    async fn audit_log(
        &self,
        tenant: Option<&TenantId>,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError>;
}

/// Writes `entry` inside the caller's transaction.
pub(super) async fn record(tx: &mut Tx<'_>, entry: &AuditEntry) -> Result<(), StoreError> {
    on_tx!(&mut *tx, |conn| sqlx::query(
        "INSERT INTO audit_log (tenant_id, actor, action, target, details, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(entry.tenant_id.as_ref().map(|t| t.as_str()))
    .bind(&entry.actor)
    .bind(&entry.action)
    .bind(&entry.target)
    .bind(entry.details.to_string())
    .bind(entry.at)
    .execute(&mut *conn)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

type AuditRow = (
    i64,
    Option<String>,
    String,
    String,
    String,
    String,
    DateTime<Utc>,
);

#[async_trait::async_trait]
impl AuditStore for Store {
    async fn audit_log(
        &self,
        tenant: Option<&TenantId>,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let rows: Vec<AuditRow> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT id, tenant_id, actor, action, target, details, created_at FROM audit_log \
             WHERE ($1 IS NULL OR tenant_id = $1) ORDER BY id DESC LIMIT $2",
        )
        .bind(tenant.map(|t| t.as_str()))
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await)?;
        rows.into_iter()
            .map(
                |(id, tenant_id, actor, action, target, details, created_at)| {
                    Ok(AuditRecord {
                        id,
                        tenant_id,
                        actor,
                        action,
                        target,
                        details: serde_json::from_str(&details)
                            .map_err(|_| super::error::corrupt("audit details", &details))?,
                        created_at,
                    })
                },
            )
            .collect()
    }
}
