//! Emits the held-back `call.ended` (and stale-call closes) once a call's settle time passes.

use super::apply;
use super::unit_of_work::{NextState, UnitOfWork};
use crate::normalizer::{self, NormalizerConfig};
use crate::storage::{Storage, StoreError};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Settles up to `batch` due calls in one transaction (one sweep holds the write lock once,
/// not once per call); returns how many events went out.
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
    let sources = store.sources_of_calls(&due).await?;
    if sources.is_empty() {
        return Ok(0);
    }
    let sources: Vec<&str> = sources.iter().map(String::as_str).collect();
    let mut tx = store.begin_calls(&sources).await?;
    // Calls settled meanwhile (by another instance) are no longer due: skipped.
    let mut work = UnitOfWork::default();
    for state in tx.due_states(&due, now).await? {
        let known_keys = state.aliases();
        let applied = normalizer::settle(state, config, now);
        let due_at = applied.state.due_at(config);
        work.record(0, &known_keys, NextState { applied, due_at }, now);
    }
    let (written, _) = apply::write(&mut tx, Vec::new(), Vec::new(), work).await?;
    tx.commit().await?;
    Ok(written.len())
}

/// Calls settled per transaction by [`run`].
const SWEEP_CALLS: u32 = 8;

/// Sweeps per tick at most (a backlog larger than this many sweeps waits for the next tick).
const MAX_SWEEPS_PER_TICK: usize = 64;

/// Runs [`settle_due`] every `interval` until `shutdown`; a failed step is logged and retried.
pub async fn run(
    store: Arc<dyn Storage>,
    config: NormalizerConfig,
    interval: Duration,
    shutdown: CancellationToken,
) {
    loop {
        // Small sweeps, one after the other: each holds the calls' write lock, and ingest
        // batches queue behind it (a sweep of 40 calls held it 30–70 ms, the largest part
        // of the ingest answer's tail on SQLite).
        for _ in 0..MAX_SWEEPS_PER_TICK {
            match settle_due(store.as_ref(), &config, Utc::now(), SWEEP_CALLS).await {
                Ok(0) => break,
                Ok(n) => tracing::debug!(events = n, "settled calls"),
                Err(error) => {
                    tracing::warn!(error = %error, "settling calls failed; will retry");
                    break;
                }
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}
