//! Where each source's reconciliation sweep got to, and the lease that lets exactly one
//! `serve` process sweep a source at a time when several share a database (the same lease
//! shape as the socket sources' in `pbx_sockets`).

use async_trait::async_trait;

use super::lease::LeaseTable;
use super::store::{on_pool, on_write_pool};
use super::{Store, StoreError};
use crate::domain::SourceId;

#[async_trait]
pub trait WatermarkStore {
    /// Takes or renews `source`'s sweep lease for `holder` until `until_ms` (Unix ms) when it
    /// is free, expired at `now_ms`, or already `holder`'s. True when `holder` now holds it.
    async fn take_sweep_lease(
        &self,
        source: &SourceId,
        holder: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<bool, StoreError>;
    /// Gives the lease up at once (clean shutdown).
    async fn release_sweep_lease(&self, source: &SourceId, holder: &str) -> Result<(), StoreError>;
    /// The end of the last window swept (Unix ms), `None` before the first sweep.
    async fn swept_to(&self, source: &SourceId) -> Result<Option<i64>, StoreError>;
    /// Records that the window ending at `to_ms` was swept (never moves backwards).
    async fn set_swept_to(&self, source: &SourceId, to_ms: i64) -> Result<(), StoreError>;
    /// Every source of these kinds, across tenants (the sweeper's list).
    async fn sources_of_kinds(&self, kinds: &[&str]) -> Result<Vec<SourceId>, StoreError>;
}

#[async_trait]
impl WatermarkStore for Store {
    async fn take_sweep_lease(
        &self,
        source: &SourceId,
        holder: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<bool, StoreError> {
        let _writer = self.write_lock().await;
        on_pool!(self, |pool| sqlx::query(
            "INSERT INTO reconcile_watermarks (source_id) VALUES ($1) \
             ON CONFLICT (source_id) DO NOTHING",
        )
        .bind(source.as_str())
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        self.take_lease(
            LeaseTable::ReconcileWatermarks,
            source,
            holder,
            now_ms,
            until_ms,
        )
        .await
    }

    async fn release_sweep_lease(&self, source: &SourceId, holder: &str) -> Result<(), StoreError> {
        let _writer = self.write_lock().await;
        self.release_lease(LeaseTable::ReconcileWatermarks, source, holder)
            .await
    }

    async fn swept_to(&self, source: &SourceId) -> Result<Option<i64>, StoreError> {
        let row: Option<(Option<i64>,)> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT swept_to_ms FROM reconcile_watermarks WHERE source_id = $1",
        )
        .bind(source.as_str())
        .fetch_optional(pool)
        .await)?;
        Ok(row.and_then(|(ms,)| ms))
    }

    async fn set_swept_to(&self, source: &SourceId, to_ms: i64) -> Result<(), StoreError> {
        let _writer = self.write_lock().await;
        on_write_pool!(self, |pool| sqlx::query(
            "INSERT INTO reconcile_watermarks (source_id, swept_to_ms) VALUES ($1, $2) \
             ON CONFLICT (source_id) DO UPDATE SET swept_to_ms = $2 \
             WHERE reconcile_watermarks.swept_to_ms IS NULL \
             OR reconcile_watermarks.swept_to_ms < $2",
        )
        .bind(source.as_str())
        .bind(to_ms)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(())
    }

    async fn sources_of_kinds(&self, kinds: &[&str]) -> Result<Vec<SourceId>, StoreError> {
        if kinds.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<String> = (1..=kinds.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT id FROM sources WHERE kind IN ({}) ORDER BY id",
            list.join(", ")
        );
        let rows: Vec<(String,)> = on_pool!(self, |pool| {
            let mut query = sqlx::query_as(&sql);
            for kind in kinds {
                query = query.bind(*kind);
            }
            query.fetch_all(pool).await
        })?;
        Ok(rows
            .into_iter()
            .filter_map(|(id,)| SourceId::parse(&id))
            .collect())
    }
}
