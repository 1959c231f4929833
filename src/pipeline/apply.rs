//! One batch of raw events, top to bottom: lock the batch's sources and open the transaction,
//! read what the batch needs, decide (dedupe, normalizer, hook matching, click-to-call moves),
//! write, commit. The writer (`writer.rs`) sends the raw events of several concurrent requests
//! through here together (group commit), so one transaction may hold many requests.

use super::dedupe::Receipts;
use super::history;
use super::matching;
use super::request_moves::request_move;
use super::state_cache::StateCache;
use super::unit_of_work::{NextState, UnitOfWork};
use crate::ingest::RawCallEvent;
use crate::normalizer::{self, CallEvent, CallState, NormalizerConfig, StaticDirectory};
use crate::storage::call_writes::{CallWrite, CallWrites, EventWrite, Receipt};
use crate::storage::raw_events::RawEventWrite;
use crate::storage::{CallTx, RawEventRef, Source, Storage, StoreError, corrupt_json};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The raw events of one ingest request, with what normalizing them needs.
pub struct IngestJob {
    pub source: Arc<Source>,
    /// The directory of the source's tenant, as the request saw it.
    pub directory: Arc<StaticDirectory>,
    /// In body order: they are applied in this order.
    pub events: Vec<RawCallEvent>,
    /// When the request arrived (the normalizer's clock for its events).
    pub now: DateTime<Utc>,
    /// What the events arrived in, kept with each call they were applied to; `None` keeps
    /// nothing (benches, tests of the pipeline alone).
    pub received: Option<Arc<Received>>,
}

/// A request body or socket event as it arrived, before parsing.
#[derive(Debug)]
pub struct Received {
    pub content_type: String,
    pub body: String,
}

impl Received {
    /// Bytes as text (sources send JSON, forms or AMI lines; anything else is shown lossily).
    pub fn new(content_type: &str, body: &[u8]) -> Received {
        Received {
            content_type: content_type.to_owned(),
            body: String::from_utf8_lossy(body).into_owned(),
        }
    }
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

/// A batch slower than this is logged with the time each step took: every request of the
/// batch, and those queued behind it, waited that long for its answer.
const SLOW_BATCH: Duration = Duration::from_millis(50);

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// A stored event with what it queued: `(index of its raw event, event, deliveries)`.
pub(super) type Written = (usize, CallEvent, u64);

/// Applies the events of `jobs` in one transaction: jobs in order, each job's events in body
/// order, each seeing the calls as the events before it left them. All or nothing: on an error
/// nothing of any job is stored, so each source's retry finds its events new.
/// Returns one summary per job. `states` saves decoding calls the previous batches wrote.
#[tracing::instrument(name = "apply raw events", skip_all, fields(requests = jobs.len()))]
pub async fn apply_batch(
    store: &dyn Storage,
    config: &NormalizerConfig,
    states: &StateCache,
    jobs: &[IngestJob],
) -> Result<Vec<IngestSummary>, StoreError> {
    let mut summaries: Vec<IngestSummary> = jobs.iter().map(|_| IngestSummary::default()).collect();
    let (origins, raws) = raw_events(jobs);
    if raws.is_empty() {
        return Ok(summaries);
    }

    // Begin: the write locks of every source of the batch, in a stable order.
    let mut sources: Vec<&str> = raws.iter().map(|r| r.source_id.as_str()).collect();
    sources.sort_unstable();
    sources.dedup();
    let started = Instant::now();
    let mut tx = store.begin_calls(&sources).await?;
    let locked = started.elapsed();

    // Read: the receipts and the calls the batch's raw events name.
    let stored = tx.read_batch(&raws).await?;
    let read = started.elapsed();
    let mut receipts = Receipts::new(stored.receipts);
    let asked = raws.iter().flat_map(|r| {
        let source = r.source_id.as_str();
        r.lookup_keys.iter().map(|k| (source.to_owned(), k.clone()))
    });
    let calls = states.decode(stored.states).map_err(corrupt_json)?;
    let mut work = UnitOfWork::new(asked, stored.keys, calls);

    // Decide, event by event, each on the call as the events before it left it.
    let mut new_receipts = Vec::new();
    let mut kept = Vec::new();
    for (n, raw) in raws.iter().enumerate() {
        let (j, e) = origins[n];
        let job = &jobs[j];
        if !receipts.first_time(raw.source_id.as_str(), raw.dedupe_key) {
            summaries[j].duplicates += 1;
            continue;
        }
        summaries[j].applied += 1;
        if !raw.dedupe_key.is_empty() {
            new_receipts.push(Receipt {
                source_id: raw.source_id.as_str().to_owned(),
                dedupe_key: raw.dedupe_key.to_owned(),
                received_at: job.now,
            });
        }
        let event = &job.events[e];
        if history::only_for_unseen_calls(event)
            && work.knows(raw.source_id.as_str(), &raw.lookup_keys)
        {
            continue;
        }
        // Every state taken here is given back through `record` below.
        let known = work.take(raw.source_id.as_str(), &raw.lookup_keys);
        let known_keys = known.as_ref().map(CallState::aliases).unwrap_or_default();
        if known.is_none()
            && let Some(next) = history::never_seen(job, event, config)
        {
            work.record(n, &known_keys, next, job.now);
            continue;
        }
        let state = known.unwrap_or_else(|| {
            let source = &job.source;
            CallState::new(
                source.tenant_id.clone(),
                source.id.clone(),
                source.kind,
                &raw.lookup_keys[0],
            )
        });
        let applied = normalizer::apply(state, event, &*job.directory, config, job.now);
        if let Some(received) = &job.received {
            kept.push(RawEventWrite {
                tenant_id: job.source.tenant_id.clone(),
                call_id: normalizer::call_id(&applied.state),
                source_id: job.source.id.as_str().to_owned(),
                source_event: event.source_event.clone(),
                received_at: job.now,
                content_type: received.content_type.clone(),
                body: received.body.clone(),
            });
        }
        let due_at = applied.state.due_at(config);
        work.record(n, &known_keys, NextState { applied, due_at }, job.now);
    }

    // Write (with the fan-out to hooks) and commit; only then is any request answered.
    let decided = started.elapsed();
    let (written, calls) = write(&mut tx, new_receipts, kept, work).await?;
    let wrote = started.elapsed();
    tx.commit().await?;
    states.keep(calls);
    let committed = started.elapsed();
    if committed >= SLOW_BATCH {
        tracing::warn!(
            raw_events = raws.len(),
            locked_ms = millis(locked),
            read_ms = millis(read - locked),
            decided_ms = millis(decided - read),
            written_ms = millis(wrote - decided),
            committed_ms = millis(committed - wrote),
            "slow ingest batch"
        );
    }
    for (n, event, deliveries) in written {
        let summary = &mut summaries[origins[n].0];
        summary.deliveries += deliveries;
        summary.events.push(event);
    }
    Ok(summaries)
}

/// The raw events of `jobs` that name a call, with the `(job, event)` index of each; the
/// others are ignored.
fn raw_events(jobs: &[IngestJob]) -> (Vec<(usize, usize)>, Vec<RawEventRef<'_>>) {
    let mut origins = Vec::new();
    let mut raws = Vec::new();
    for (j, job) in jobs.iter().enumerate() {
        for (e, event) in job.events.iter().enumerate() {
            let lookup_keys = event.lookup_keys();
            if lookup_keys.is_empty() {
                tracing::debug!(event = %event.source_event, "raw event names no call; ignored");
                continue;
            }
            origins.push((j, e));
            raws.push(RawEventRef {
                source_id: &job.source.id,
                dedupe_key: &event.dedupe_key,
                lookup_keys,
            });
        }
    }
    (origins, raws)
}

/// Writes what a batch (or a settle sweep) produced: reads which hooks may want its new
/// events and which of them are stored already (a replayed event is not stored or delivered
/// twice), matches events to hooks, moves click-to-call requests, and writes it all in one
/// bundle. Returns the new events in order, and the calls as written.
pub(super) async fn write(
    tx: &mut CallTx<'_>,
    receipts: Vec<Receipt>,
    raw_events: Vec<RawEventWrite>,
    work: UnitOfWork,
) -> Result<(Vec<Written>, Vec<CallWrite>), StoreError> {
    let (calls, keys, events) = work.into_writes().map_err(corrupt_json)?;
    let context = tx.read_context(&events).await?;
    let events: Vec<EventWrite> = events
        .into_iter()
        .filter(|e| !context.stored_events.contains(&e.emitted.event.id))
        .collect();
    let (deliveries, counts) = matching::deliveries(&events, &context.hooks);
    let request_moves = match context.any_request {
        true => events.iter().filter_map(request_move).collect(),
        false => Vec::new(),
    };
    let writes = CallWrites {
        receipts,
        calls,
        keys,
        events,
        deliveries,
        request_moves,
        raw_events,
    };
    tx.write(&writes).await?;
    let written = writes
        .events
        .into_iter()
        .zip(counts)
        .map(|(e, n)| (e.origin, e.emitted.event, n))
        .collect();
    Ok((written, writes.calls))
}
