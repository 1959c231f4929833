//! Emits the held-back `call.ended` (and stale-call closes) once a call's settle time passes.

use crate::normalizer::{self, NormalizerConfig};
use crate::storage::{NextState, Storage, StoreError};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Settles up to `batch` due calls; returns how many events went out.
pub async fn settle_due(
    store: &dyn Storage,
    config: &NormalizerConfig,
    now: DateTime<Utc>,
    batch: u32,
) -> Result<usize, StoreError> {
    let due = store.due_calls(now, batch).await?;
    if due.is_empty() {
        return Ok(0);
    }
    let settle = Box::new(move |state| {
        let applied = normalizer::settle(state, config, now);
        let due_at = applied.state.due_at(config);
        NextState { applied, due_at }
    });
    Ok(store.settle_calls(&due, now, settle).await?.events.len())
}

/// Runs [`settle_due`] every `interval` until `shutdown`; a failed step is logged and retried.
pub async fn run(
    store: Arc<dyn Storage>,
    config: NormalizerConfig,
    interval: Duration,
    shutdown: CancellationToken,
) {
    loop {
        match settle_due(store.as_ref(), &config, Utc::now(), 200).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(events = n, "settled calls"),
            Err(error) => tracing::warn!(error = %error, "settling calls failed; will retry"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}
