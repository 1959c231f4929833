//! Ingest requests refused because they did not verify (bad signature, token or timestamp),
//! counted per source and hour so that an admin sees a PBX still using an old secret, or
//! someone knocking, beside the source's raw-event figures. One upsert per refusal, on a row
//! per source and hour: cheap, bounded, and the secret that was tried is never kept.

use super::store::{on_pool, on_write_pool};
use super::{Store, StoreError};
use crate::domain::{SourceId, TenantId};
use chrono::{DateTime, DurationRound, TimeDelta, Utc};

/// One source's refusals since a time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceRefusals {
    pub source_id: String,
    /// Refusals in the hours starting at or after the hour of the `since` asked for.
    pub refused: i64,
    pub last_refused_at: DateTime<Utc>,
    /// Why the last one was refused (which check failed; never the value tried).
    pub last_reason: String,
}

/// The start of the hour `at` falls in: the counter row it is added to.
pub fn hour_of(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(TimeDelta::hours(1)).unwrap_or(at)
}

#[async_trait::async_trait]
pub trait IngestRefusalStore {
    /// Counts one refused request of `source` at `at`.
    async fn record_refusal(
        &self,
        source: &SourceId,
        at: DateTime<Utc>,
        reason: &str,
    ) -> Result<(), StoreError>;

    /// The tenant's sources with refusals in the hours since `since`'s hour.
    async fn refusals_since(
        &self,
        tenant: &TenantId,
        since: DateTime<Utc>,
    ) -> Result<Vec<SourceRefusals>, StoreError>;
}

#[async_trait::async_trait]
impl IngestRefusalStore for Store {
    async fn record_refusal(
        &self,
        source: &SourceId,
        at: DateTime<Utc>,
        reason: &str,
    ) -> Result<(), StoreError> {
        let _writer = self.write_lock().await;
        on_write_pool!(self, |pool| sqlx::query(
            "INSERT INTO ingest_refusals (source_id, hour_start, refused, last_refused_at, \
             last_reason) SELECT id, $2, 1, $3, $4 FROM sources WHERE id = $1 \
             ON CONFLICT (source_id, hour_start) DO UPDATE SET \
             refused = ingest_refusals.refused + 1, \
             last_refused_at = excluded.last_refused_at, last_reason = excluded.last_reason",
        )
        .bind(source.as_str())
        .bind(hour_of(at))
        .bind(at)
        .bind(reason)
        .execute(pool)
        .await
        .map(drop))?;
        Ok(())
    }

    async fn refusals_since(
        &self,
        tenant: &TenantId,
        since: DateTime<Utc>,
    ) -> Result<Vec<SourceRefusals>, StoreError> {
        let rows: Vec<(String, i64, DateTime<Utc>, String)> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT r.source_id, CAST(r.refused AS BIGINT), r.last_refused_at, r.last_reason \
                 FROM ingest_refusals r JOIN sources s ON s.id = r.source_id \
                 WHERE s.tenant_id = $1 AND r.hour_start >= $2 \
                 ORDER BY r.source_id, r.hour_start",
            )
            .bind(tenant.as_str())
            .bind(hour_of(since))
            .fetch_all(pool)
            .await
        })?;
        let mut out: Vec<SourceRefusals> = Vec::new();
        for (source_id, refused, last_refused_at, last_reason) in rows {
            match out.last_mut().filter(|r| r.source_id == source_id) {
                // Hours come in order: the later hour's last refusal is the last one.
                Some(sum) => {
                    sum.refused += refused;
                    sum.last_refused_at = last_refused_at;
                    sum.last_reason = last_reason;
                }
                None => out.push(SourceRefusals {
                    source_id,
                    refused,
                    last_refused_at,
                    last_reason,
                }),
            }
        }
        Ok(out)
    }
}
