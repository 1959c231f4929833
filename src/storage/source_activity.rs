//! What each source of a tenant has sent lately, from the raw-event receipts ingest keeps for
//! deduplication: when the last one arrived and how many arrived since a time. Read by the
//! console's overview.

use super::store::on_pool;
use super::{Store, StoreError};
use crate::domain::TenantId;
use chrono::{DateTime, Utc};

/// One source's recent raw events (receipts are pruned with delivery history).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceActivity {
    pub source_id: String,
    pub last_received_at: Option<DateTime<Utc>>,
    /// Raw events received at or after the `since` asked for.
    pub received_since: i64,
}

#[async_trait::async_trait]
pub trait SourceActivityStore {
    /// The tenant's sources that have receipts, each with its last receipt and its count
    /// since `since`.
    async fn source_activity(
        &self,
        tenant: &TenantId,
        since: DateTime<Utc>,
    ) -> Result<Vec<SourceActivity>, StoreError>;
}

#[async_trait::async_trait]
impl SourceActivityStore for Store {
    async fn source_activity(
        &self,
        tenant: &TenantId,
        since: DateTime<Utc>,
    ) -> Result<Vec<SourceActivity>, StoreError> {
        let rows: Vec<(String, Option<DateTime<Utc>>, i64)> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT r.source_id, MAX(r.received_at), \
                 CAST(SUM(CASE WHEN r.received_at >= $2 THEN 1 ELSE 0 END) AS BIGINT) \
                 FROM raw_event_receipts r JOIN sources s ON s.id = r.source_id \
                 WHERE s.tenant_id = $1 GROUP BY r.source_id ORDER BY r.source_id",
            )
            .bind(tenant.as_str())
            .bind(since)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows
            .into_iter()
            .map(
                |(source_id, last_received_at, received_since)| SourceActivity {
                    source_id,
                    last_received_at,
                    received_since,
                },
            )
            .collect())
    }
}
