//! Applies records from a source's call history through the same transaction, store and
//! hook fan-out as live events: lock the source, find the calls the records name, let the
//! reconciliation rules decide (`crate::reconcile::rules`), write, commit. A dry run decides
//! and writes the same way, then rolls back, so it shows exactly what a real run would emit.

use super::apply::{self, IngestJob};
use super::state_cache;
use super::unit_of_work::{NextState, UnitOfWork};
use crate::ingest::RawCallEvent;
use crate::normalizer::{CallEvent, CallState, NormalizerConfig, StaticDirectory};
use crate::reconcile::cdr;
use crate::reconcile::record::HistoryRecord;
use crate::reconcile::rules::{self, SourceRef, Verdict};
use crate::storage::{RawEventRef, Source, Storage, StoreError, corrupt_json};
use chrono::{DateTime, Utc};

/// What one batch of history records changed (or would change, on a dry run).
#[derive(Debug, Default)]
pub struct HistoryOutcome {
    /// Calls ringhook never saw, whose triggers were recovered.
    pub recovered: usize,
    /// Calls seen without their end, closed with the record's figures.
    pub closed_early: usize,
    /// Calls seen to their end: left alone.
    pub already_ended: usize,
    /// The new events, in order (none that was stored before).
    pub events: Vec<CallEvent>,
    pub deliveries: u64,
}

impl HistoryOutcome {
    /// Adds another batch's counts and events to this one.
    pub fn absorb(&mut self, other: HistoryOutcome) {
        self.recovered += other.recovered;
        self.closed_early += other.closed_early;
        self.already_ended += other.already_ended;
        self.events.extend(other.events);
        self.deliveries += other.deliveries;
    }
}

/// Applies `records` of `source` in one transaction at `now`; with `dry_run` nothing is kept.
#[tracing::instrument(name = "apply history", skip_all, fields(source = %source.id, records = records.len()))]
pub async fn apply_history(
    store: &dyn Storage,
    source: &Source,
    directory: &StaticDirectory,
    config: &NormalizerConfig,
    records: &[HistoryRecord],
    now: DateTime<Utc>,
    dry_run: bool,
) -> Result<HistoryOutcome, StoreError> {
    let mut outcome = HistoryOutcome::default();
    if records.is_empty() {
        return Ok(outcome);
    }
    let mut tx = store.begin_calls(&[source.id.as_str()]).await?;
    let refs: Vec<RawEventRef<'_>> = records
        .iter()
        .map(|r| RawEventRef {
            source_id: &source.id,
            dedupe_key: "",
            lookup_keys: lookup_keys(r),
        })
        .collect();
    let stored = tx.read_batch(&refs).await?;
    let asked = refs.iter().flat_map(|r| {
        r.lookup_keys
            .iter()
            .map(|k| (source.id.as_str().to_owned(), k.clone()))
    });
    let calls = state_cache::decode_all(stored.states).map_err(corrupt_json)?;
    let mut work = UnitOfWork::new(asked, stored.keys, calls);
    let from = SourceRef {
        tenant_id: &source.tenant_id,
        source_id: &source.id,
        kind: source.kind,
    };
    for (n, (record, keys)) in records.iter().zip(&refs).enumerate() {
        let known = work.find(source.id.as_str(), &keys.lookup_keys);
        let known_keys = known.as_ref().map(CallState::aliases).unwrap_or_default();
        let reconciled = rules::reconcile(record, known, &from, directory, config, now);
        match reconciled.verdict {
            Verdict::Recovered => outcome.recovered += 1,
            Verdict::ClosedEarly => outcome.closed_early += 1,
            Verdict::AlreadyEnded => outcome.already_ended += 1,
        }
        if let Some(applied) = reconciled.applied {
            let due_at = applied.state.due_at(config);
            work.record(n, &known_keys, NextState { applied, due_at }, now);
        }
    }
    let (written, _) = apply::write(&mut tx, Vec::new(), Vec::new(), work).await?;
    if !dry_run {
        tx.commit().await?;
    }
    for (_, event, deliveries) in written {
        outcome.deliveries += deliveries;
        outcome.events.push(event);
    }
    Ok(outcome)
}

/// A live call record (Zorio `pbx.cdr.created`, Asterisk `Cdr`) of a call no stored call
/// answers to: recovered by the history rules, as a record read from a history API would be
/// (`call.ended`, and `call.missed` / `call.voicemail` / `call.recording_ready` where the
/// record says so, `origin: "reconciled"`, true times). `None` for any other event, which the
/// normalizer applies as usual.
pub(super) fn never_seen(
    job: &IngestJob,
    event: &RawCallEvent,
    config: &NormalizerConfig,
) -> Option<NextState> {
    let record = cdr::history_record(event)?;
    let from = SourceRef {
        tenant_id: &job.source.tenant_id,
        source_id: &job.source.id,
        kind: job.source.kind,
    };
    let reconciled = rules::reconcile(&record, None, &from, &*job.directory, config, job.now);
    let applied = reconciled.applied?;
    let due_at = applied.state.due_at(config);
    Some(NextState { applied, due_at })
}

/// An Asterisk `Cdr` says nothing about a call whose channels were seen: Asterisk writes one
/// when a party pair parts (a transfer, a park, a ring group's loser), not when the call
/// ends, its `AnswerTime` also counts the PBX answering the caller (voicemail, queue music),
/// and its parties are the channels of that pair. The live events are exact; a lost hang-up
/// is closed by the channel list after a reconnect, or by the stale timeout.
pub(super) fn only_for_unseen_calls(event: &RawCallEvent) -> bool {
    cdr::is_asterisk_record(event)
}

/// The keys to find a record's call by: the key live events create it under first.
fn lookup_keys(record: &HistoryRecord) -> Vec<String> {
    std::iter::once(record.call_key.clone())
        .chain(record.other_keys.iter().cloned())
        .collect()
}
