//! Queue names of a tenant's sources, changed on an admin's behalf: each change runs in one
//! transaction with its audit entry, and every statement is scoped to the tenant (a source of
//! another tenant is "no source"). The plain reads and the resolution ingest uses stay in
//! `accounts.rs`.

use super::audit::{AuditEntry, record};
use super::store::{Store, on_pool, on_tx};
use super::{NamedQueue, StoreError};
use crate::domain::{SourceId, TenantId};

/// What a name change did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueNaming {
    /// The queue had no name before.
    Added,
    /// It had one; it now has this one.
    Renamed,
}

#[async_trait::async_trait]
pub trait QueueNames {
    /// Every named queue of the tenant's sources, by source then queue id.
    async fn tenant_queues(&self, tenant: &TenantId) -> Result<Vec<NamedQueue>, StoreError>;

    /// Names the queue (adding it, or replacing its name). `only_rename` refuses a queue
    /// with no name yet (`NotFound`), so a rename never adds one. A source that is not the
    /// tenant's is `NotFound`.
    async fn name_tenant_queue(
        &self,
        tenant: &TenantId,
        queue: &NamedQueue,
        only_rename: bool,
        audit: &AuditEntry,
    ) -> Result<QueueNaming, StoreError>;

    /// Forgets the queue's name; false when it had none.
    async fn forget_tenant_queue(
        &self,
        tenant: &TenantId,
        source: &SourceId,
        external_id: &str,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError>;
}

#[async_trait::async_trait]
impl QueueNames for Store {
    async fn tenant_queues(&self, tenant: &TenantId) -> Result<Vec<NamedQueue>, StoreError> {
        let rows: Vec<(String, String, String)> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT q.source_id, q.external_id, q.name FROM queues q \
             JOIN sources s ON s.id = q.source_id WHERE s.tenant_id = $1 \
             ORDER BY q.source_id, q.external_id",
        )
        .bind(tenant.as_str())
        .fetch_all(pool)
        .await)?;
        rows.into_iter()
            .map(|(source_id, external_id, name)| {
                Ok(NamedQueue {
                    source_id: super::rows::source_id(&source_id)?,
                    external_id,
                    name,
                })
            })
            .collect()
    }

    async fn name_tenant_queue(
        &self,
        tenant: &TenantId,
        queue: &NamedQueue,
        only_rename: bool,
        audit: &AuditEntry,
    ) -> Result<QueueNaming, StoreError> {
        let mut tx = self.begin_tx().await?;
        let (sources, named): (i64, i64) = on_tx!(&mut tx, |conn| sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM sources WHERE id = $1 AND tenant_id = $2), \
             (SELECT COUNT(*) FROM queues WHERE source_id = $1 AND external_id = $3)",
        )
        .bind(queue.source_id.as_str())
        .bind(tenant.as_str())
        .bind(&queue.external_id)
        .fetch_one(&mut *conn)
        .await)?;
        if sources == 0 {
            return Err(StoreError::NotFound(format!(
                "tenant {tenant} has no source {}",
                queue.source_id
            )));
        }
        if only_rename && named == 0 {
            return Err(StoreError::NotFound(format!(
                "source {} has no named queue {:?}",
                queue.source_id, queue.external_id
            )));
        }
        on_tx!(&mut tx, |conn| sqlx::query(
            "INSERT INTO queues (source_id, external_id, name, created_at) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (source_id, external_id) DO UPDATE SET name = excluded.name",
        )
        .bind(queue.source_id.as_str())
        .bind(&queue.external_id)
        .bind(&queue.name)
        .bind(chrono::Utc::now())
        .execute(&mut *conn)
        .await
        .map(drop))?;
        record(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(if named == 0 {
            QueueNaming::Added
        } else {
            QueueNaming::Renamed
        })
    }

    async fn forget_tenant_queue(
        &self,
        tenant: &TenantId,
        source: &SourceId,
        external_id: &str,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_tx().await?;
        let done = on_tx!(&mut tx, |conn| sqlx::query(
            "DELETE FROM queues WHERE source_id = $1 AND external_id = $2 \
             AND source_id IN (SELECT id FROM sources WHERE tenant_id = $3)",
        )
        .bind(source.as_str())
        .bind(external_id)
        .bind(tenant.as_str())
        .execute(&mut *conn)
        .await
        .map(|done| done.rows_affected()))?;
        if done > 0 {
            record(&mut tx, audit).await?;
            tx.commit().await?;
        }
        Ok(done > 0)
    }
}
