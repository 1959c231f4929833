//! Raw events of several requests → the store, in one transaction, in arrival order.

use crate::ingest::RawCallEvent;
use crate::normalizer::{self, CallEvent, CallState, NormalizerConfig, StaticDirectory};
use crate::storage::{NextState, RawEventRef, Source, Storage, StoreError};
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// The raw events of one ingest request, with what normalizing them needs.
pub struct IngestJob {
    pub source: Arc<Source>,
    /// The directory of the source's tenant, as the request saw it.
    pub directory: Arc<StaticDirectory>,
    /// In body order: they are applied in this order.
    pub events: Vec<RawCallEvent>,
    /// When the request arrived (the normalizer's clock for its events).
    pub now: DateTime<Utc>,
}

impl IngestJob {
    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

/// What a request's events changed, for the response and the logs.
#[derive(Debug, Default)]
pub struct IngestSummary {
    pub applied: usize,
    pub duplicates: usize,
    pub events: Vec<CallEvent>,
    pub deliveries: u64,
}

/// Applies the events of `jobs` in one transaction: jobs in order, each job's events in body
/// order, each seeing the calls as the events before it left them. All or nothing: on an error
/// nothing of any job is stored, so each source's retry finds its events new.
/// Returns one summary per job.
#[tracing::instrument(name = "apply raw events", skip_all, fields(requests = jobs.len()))]
pub async fn apply_batch(
    store: &dyn Storage,
    config: &NormalizerConfig,
    jobs: &[IngestJob],
) -> Result<Vec<IngestSummary>, StoreError> {
    // (job, event) of every raw event that names a call; others are ignored.
    let mut origins = Vec::new();
    let mut refs = Vec::new();
    for (j, job) in jobs.iter().enumerate() {
        for (e, event) in job.events.iter().enumerate() {
            let lookup_keys = event.lookup_keys();
            if lookup_keys.is_empty() {
                tracing::debug!(event = %event.source_event, "raw event names no call; ignored");
                continue;
            }
            origins.push((j, e));
            refs.push(RawEventRef {
                source_id: &job.source.id,
                dedupe_key: &event.dedupe_key,
                lookup_keys,
                now: job.now,
            });
        }
    }
    let apply = {
        let (origins, refs) = (&origins, &refs);
        Box::new(move |n: usize, known: Option<CallState>| {
            let (j, e) = origins[n];
            let job = &jobs[j];
            let source = &job.source;
            let state = known.unwrap_or_else(|| {
                CallState::new(
                    source.tenant_id.clone(),
                    source.id.clone(),
                    source.kind,
                    &refs[n].lookup_keys[0],
                )
            });
            let applied = normalizer::apply(
                state,
                &job.events[e],
                job.directory.as_ref(),
                config,
                job.now,
            );
            let due_at = applied.state.due_at(config);
            NextState { applied, due_at }
        })
    };
    let results = store.apply_raw_batch(&refs, apply).await?;
    let mut summaries: Vec<IngestSummary> = jobs.iter().map(|_| IngestSummary::default()).collect();
    for ((j, _), result) in origins.into_iter().zip(results) {
        let summary = &mut summaries[j];
        if result.duplicate {
            summary.duplicates += 1;
        } else {
            summary.applied += 1;
        }
        summary.deliveries += result.deliveries;
        summary.events.extend(result.events);
    }
    Ok(summaries)
}
