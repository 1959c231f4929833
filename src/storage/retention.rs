//! Retention: what is deleted once it is old enough, across aggregates (delivery history,
//! event payloads with their deliveries, the audit log, raw events as received, ingest refusal
//! counts, raw-event receipts).

use super::StoreError;
use super::store::{Store, on_pool};
use chrono::{DateTime, Utc};

#[async_trait::async_trait]
pub trait Retention {
    /// Deletes attempts, audit entries and events (with their deliveries) older than `cutoff`, and raw-event
    /// receipts older than `receipts_cutoff`; returns how many rows went.
    async fn prune(
        &self,
        cutoff: DateTime<Utc>,
        receipts_cutoff: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
}

#[async_trait::async_trait]
impl Retention for Store {
    async fn prune(
        &self,
        cutoff: DateTime<Utc>,
        receipts_cutoff: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut removed = 0;
        for (sql, at) in [
            (
                "DELETE FROM delivery_attempts WHERE attempted_at < $1",
                cutoff,
            ),
            ("DELETE FROM call_events WHERE created_at < $1", cutoff),
            ("DELETE FROM audit_log WHERE created_at < $1", cutoff),
            ("DELETE FROM raw_events WHERE received_at < $1", cutoff),
            ("DELETE FROM ingest_refusals WHERE hour_start < $1", cutoff),
            (
                "DELETE FROM raw_event_receipts WHERE received_at < $1",
                receipts_cutoff,
            ),
        ] {
            let done = on_pool!(self, |pool| sqlx::query(sql)
                .bind(at)
                .execute(pool)
                .await
                .map(|done| done.rows_affected()))?;
            removed += done;
        }
        // Deliveries queued for a hook deleted while its event was being ingested.
        let orphans = on_pool!(self, |pool| {
            sqlx::query(
                "DELETE FROM deliveries \
                 WHERE NOT EXISTS (SELECT 1 FROM hooks h WHERE h.id = deliveries.hook_id)",
            )
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })?;
        Ok(removed + orphans)
    }
}
