//! The calls aggregate: raw-event receipts, normalizer state per call, emitted events, and the
//! fan-out of each event to the hooks that want it. A batch of raw events is one transaction:
//! each event is all-or-nothing because the whole batch is.

use crate::domain::{SourceId, TenantId, UserId};
use crate::normalizer::model::EventType;
use crate::normalizer::{Applied, CallEvent, CallState};
use chrono::{DateTime, Utc};

/// The normalizer's answer for one call: its next state and events, and when it next needs
/// a settle step (`None` once ended).
pub struct NextState {
    pub applied: Applied,
    pub due_at: Option<DateTime<Utc>>,
}

/// Runs the normalizer for the batch's `index`-th raw event on its call's state (pure, no I/O),
/// inside the ingest transaction.
pub type BatchApplyFn<'a> = Box<dyn FnMut(usize, Option<CallState>) -> NextState + Send + 'a>;
/// Runs the normalizer's settle step on a stored call.
pub type SettleFn<'a> = Box<dyn FnMut(CallState) -> NextState + Send + 'a>;

/// One raw event of a batch: what the store needs to dedupe it and find its call.
#[derive(Clone, Debug)]
pub struct RawEventRef<'a> {
    pub source_id: &'a SourceId,
    /// Empty when the source gives nothing to dedupe on.
    pub dedupe_key: &'a str,
    /// Keys the event names its call by, best first; never empty.
    pub lookup_keys: Vec<String>,
    /// When the request carrying it arrived.
    pub now: DateTime<Utc>,
}

/// What one raw event (or one settle) changed.
#[derive(Debug, Default)]
pub struct AppliedEvents {
    /// The source sent this raw event before: nothing was changed.
    pub duplicate: bool,
    pub events: Vec<CallEvent>,
    /// Delivery rows queued for the new events.
    pub deliveries: u64,
}

/// Which stored events to list, newest first.
#[derive(Clone, Debug)]
pub struct EventQuery {
    pub tenant_id: TenantId,
    /// Only events of calls this user takes part in; `None` for the whole tenant.
    pub participant: Option<UserId>,
    pub event_type: Option<EventType>,
    pub limit: u32,
}

#[async_trait::async_trait]
pub trait CallStore {
    /// Applies raw events in order, all in one transaction (all or nothing), holding the write
    /// lock of every source they come from. For each event, as if it ran alone: records its
    /// receipt (a duplicate, also of an earlier event of the batch, gets `duplicate: true` and
    /// changes nothing), finds the call known under the first of its `lookup_keys` that maps to
    /// one (including calls saved by earlier events of the batch), and runs `apply`. Each call
    /// is then saved once with its keys; new events are stored and one delivery queued per
    /// matching hook. Returns one entry per raw event, in order.
    async fn apply_raw_batch(
        &self,
        events: &[RawEventRef<'_>],
        apply: BatchApplyFn<'_>,
    ) -> Result<Vec<AppliedEvents>, super::StoreError>;

    /// Ids of calls whose settle time has come.
    async fn due_calls(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<String>, super::StoreError>;

    /// Settles the calls among `call_ids` that are still due, in one transaction (a call
    /// settled meanwhile by another worker is skipped): one settle sweep holds the write lock
    /// once, not once per call.
    async fn settle_calls(
        &self,
        call_ids: &[String],
        now: DateTime<Utc>,
        settle: SettleFn<'_>,
    ) -> Result<AppliedEvents, super::StoreError>;

    /// Stored events, newest first by source time.
    async fn call_events(&self, query: &EventQuery) -> Result<Vec<CallEvent>, super::StoreError>;
}
