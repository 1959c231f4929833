//! Housekeeping: deletes delivery history and event payloads past the retention period, and
//! raw-event receipts once no source would still retry them.

use crate::storage::{Storage, StoreError};
use chrono::{DateTime, TimeDelta, Utc};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Receipts outlive every source's retries (Zoom's last retry comes after about 90 minutes).
const RECEIPT_RETENTION: TimeDelta = TimeDelta::days(7);

/// One pruning pass at `now`; returns the rows deleted.
pub async fn step(
    store: &dyn Storage,
    retention_days: u64,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let cutoff = now - TimeDelta::days(retention_days as i64);
    store.prune(cutoff, now - RECEIPT_RETENTION).await
}

pub async fn run(
    store: Arc<dyn Storage>,
    retention_days: u64,
    interval: Duration,
    shutdown: CancellationToken,
) {
    loop {
        match step(store.as_ref(), retention_days, Utc::now()).await {
            Ok(0) => {}
            Ok(rows) => tracing::info!(rows, "pruned old delivery history"),
            Err(error) => tracing::warn!(error = %error, "pruning failed; will retry"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}
