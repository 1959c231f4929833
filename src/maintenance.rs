//! Housekeeping: deletes delivery history and event payloads past the retention period, and
//! raw-event receipts once no source would still retry them; on SQLite, checkpoints the
//! write-ahead log off the writer's path.

use crate::storage::{Storage, StoreError};
use chrono::{DateTime, TimeDelta, Utc};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long each kind of history is kept, in days.
#[derive(Clone, Copy, Debug)]
pub struct RetentionDays {
    /// Delivery attempts and event payloads (`retention_days`).
    pub history_days: u64,
    /// Raw-event receipts, which recognise re-sent and replayed requests
    /// (`ingest_dedupe_days`; outlives every source's retries: Zoom's last comes after about
    /// 90 minutes).
    pub receipt_days: u64,
}

/// One pruning pass at `now`; returns the rows deleted.
pub async fn step(
    store: &dyn Storage,
    retention: RetentionDays,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let days = |days: u64| TimeDelta::days(i64::try_from(days).unwrap_or(i64::MAX).min(36_500));
    store
        .prune(
            now - days(retention.history_days),
            now - days(retention.receipt_days),
        )
        .await
}

pub async fn run(
    store: Arc<dyn Storage>,
    retention: RetentionDays,
    interval: Duration,
    shutdown: CancellationToken,
) {
    loop {
        match step(store.as_ref(), retention, Utc::now()).await {
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

/// Checkpoints SQLite's write-ahead log every `interval` until `shutdown` (returns at once on
/// PostgreSQL). Done here, a checkpoint's copying and syncing never sits inside an ingest
/// commit, where it held up the batch and every request queued behind it.
pub async fn checkpoints(store: Arc<dyn Storage>, interval: Duration, shutdown: CancellationToken) {
    if store.backend() != crate::config::Backend::Sqlite {
        return;
    }
    loop {
        if let Err(error) = store.checkpoint().await {
            tracing::warn!(error = %error, "checkpointing the write-ahead log failed; will retry");
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}
