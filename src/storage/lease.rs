//! The per-source lease rows that let one of several `serve` processes do a source's work (hold
//! its PBX socket, sweep its history): taken when free, already ours or expired, renewed by
//! taking again, released by the holder only. The caller holds the write lock.

use super::error::StoreError;
use super::store::{Store, on_write_pool};
use crate::domain::SourceId;

/// The tables that carry `holder` and `lease_until_ms` per source.
#[derive(Clone, Copy)]
pub(super) enum LeaseTable {
    PbxSockets,
    ReconcileWatermarks,
}

impl LeaseTable {
    fn take_sql(self) -> &'static str {
        match self {
            LeaseTable::PbxSockets => {
                "UPDATE pbx_sockets SET holder = $1, lease_until_ms = $2 \
                 WHERE source_id = $3 AND (holder IS NULL OR holder = $1 OR lease_until_ms < $4)"
            }
            LeaseTable::ReconcileWatermarks => {
                "UPDATE reconcile_watermarks SET holder = $1, lease_until_ms = $2 \
                 WHERE source_id = $3 AND (holder IS NULL OR holder = $1 OR lease_until_ms < $4)"
            }
        }
    }

    fn release_sql(self) -> &'static str {
        match self {
            LeaseTable::PbxSockets => {
                "UPDATE pbx_sockets SET holder = NULL, lease_until_ms = 0 \
                 WHERE source_id = $1 AND holder = $2"
            }
            LeaseTable::ReconcileWatermarks => {
                "UPDATE reconcile_watermarks SET holder = NULL, lease_until_ms = 0 \
                 WHERE source_id = $1 AND holder = $2"
            }
        }
    }
}

impl Store {
    /// Whether `holder` now holds the source's lease until `until_ms`.
    pub(super) async fn take_lease(
        &self,
        table: LeaseTable,
        source: &SourceId,
        holder: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<bool, StoreError> {
        let taken = on_write_pool!(self, |pool| sqlx::query(table.take_sql())
            .bind(holder)
            .bind(until_ms)
            .bind(source.as_str())
            .bind(now_ms)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(taken == 1)
    }

    /// Frees the source's lease if `holder` holds it.
    pub(super) async fn release_lease(
        &self,
        table: LeaseTable,
        source: &SourceId,
        holder: &str,
    ) -> Result<(), StoreError> {
        on_write_pool!(self, |pool| sqlx::query(table.release_sql())
            .bind(source.as_str())
            .bind(holder)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(())
    }
}
