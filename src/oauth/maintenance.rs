//! A background worker that prunes expired authorization codes and revoked-token records, and
//! trims the guard's cache. Used codes are kept an hour past their expiry so that a late
//! replay is still recognised (and revokes its grant) rather than reported as unknown.

use super::guard::StatusCache;
use crate::storage::{Storage, StoreError};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long an expired code is kept for replay detection.
pub const CODE_RETENTION: chrono::Duration = chrono::Duration::hours(1);

/// One pass; returns how many rows were deleted.
pub async fn step(
    store: &dyn Storage,
    cache: &StatusCache,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    cache.evict_stale();
    store.prune_oauth(now - CODE_RETENTION, now).await
}

/// Runs `step` every `interval` until `shutdown` is cancelled.
pub async fn run(
    store: Arc<dyn Storage>,
    oauth: Arc<super::OAuthServer>,
    interval: Duration,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(interval) => {}
        }
        match step(store.as_ref(), &oauth.cache, Utc::now()).await {
            Ok(0) => {}
            Ok(deleted) => tracing::debug!(deleted, "pruned expired oauth records"),
            Err(error) => tracing::warn!(error = %error, "oauth maintenance failed; will retry"),
        }
    }
}
