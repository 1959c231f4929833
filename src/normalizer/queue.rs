//! Queues: `call.queued`, then `call.queue_answered` or `call.queue_abandoned`.
//!
//! `call.queued` needs the queue id or name, `call.queue_answered` an agent's answer as well;
//! the wait runs from queue entry (or the PBX answering the caller) to the agent's answer. A
//! caller who hangs up is an abandon only if no agent answered by settle time: the agent's
//! answer may still be on its way.

use chrono::{DateTime, Utc};

use crate::ingest::RawQueue;

use super::context::Ctx;
use super::emit::Trigger;
use super::facts::earliest;
use super::model::{EventType, Party};
use super::state::{CallState, QueueState};

/// Records what an event says about the queue and emits the queue triggers it completes.
pub(crate) fn note(st: &mut CallState, raw: &RawQueue, cx: &Ctx<'_>, out: &mut Vec<Trigger>) {
    let q = st.queue.get_or_insert_with(QueueState::default);
    q.id = q.id.take().or_else(|| raw.id.clone());
    // The name an admin gave the queue, else whatever name the source sends.
    let named = q.id.as_deref().and_then(|id| cx.dir.queue_name(id));
    q.name = named.or_else(|| q.name.take()).or_else(|| raw.name.clone());
    q.entered_at = earliest(q.entered_at, raw.entered_at);
    q.abandon_reason = q.abandon_reason.or(raw.abandon_reason);
    if st.is_queue_call() {
        triggers(st, cx.at, false, out);
    }
}

/// Emits the queue triggers that are complete. The queue entry time must be known (from the
/// queue's own event or the PBX answering the caller) so the wait does not depend on which
/// event came first; `last_call` (at settle) falls back to the call's start instead.
fn triggers(st: &CallState, at: DateTime<Utc>, last_call: bool, out: &mut Vec<Trigger>) {
    let Some(q) = &st.queue else { return };
    let known_entry = q.entered_at.or(st.pbx_answered_at);
    if known_entry.is_none() && !last_call {
        return;
    }
    let entered = st.queue_entered_at();
    let mut t = Trigger::new(EventType::Queued, "queue", entered.unwrap_or(at), q.party());
    t.queue = Some(q.info(None, entered));
    out.push(t);
    let left = q
        .abandoned_at
        .or(if last_call { q.caller_left_at } else { None });
    if let (Some(agent), Some(answered)) = (&q.agent, q.answered_at) {
        let mut t = Trigger::new(EventType::QueueAnswered, "queue", answered, agent.clone());
        t.queue = Some(q.info(Some(answered), entered));
        out.push(t);
    } else if let Some(left) = left {
        let mut t = Trigger::new(EventType::QueueAbandoned, "queue", left, q.party());
        let mut info = q.info(Some(left), entered);
        info.abandon_reason = Some(q.abandon_reason());
        t.queue = Some(info);
        out.push(t);
    }
}

/// At settle: the queue triggers still owed, with fallbacks for what never arrived.
pub(crate) fn flush(st: &CallState, at: DateTime<Utc>, out: &mut Vec<Trigger>) {
    if st.is_queue_call() {
        triggers(st, at, true, out);
    }
}

/// An agent (or, on a queue call, whoever answered) took the call; the earliest answer wins.
pub(crate) fn agent_answered(
    st: &mut CallState,
    agent: Party,
    at: DateTime<Utc>,
    out: &mut Vec<Trigger>,
) {
    let q = st.queue.get_or_insert_with(QueueState::default);
    if q.answered_at.is_none_or(|a| at < a) {
        q.answered_at = Some(at);
        q.agent = Some(agent);
    }
    if st.is_queue_call() {
        triggers(st, at, false, out);
    }
}

/// The queue reported the caller gave up; ignored once someone answered.
pub(crate) fn abandoned(st: &mut CallState, at: DateTime<Utc>, out: &mut Vec<Trigger>) {
    if st.answered_by.is_some() {
        return;
    }
    let q = st.queue.get_or_insert_with(QueueState::default);
    q.abandoned_at = earliest(q.abandoned_at, Some(at));
    if st.is_queue_call() {
        triggers(st, at, false, out);
    }
}

/// The caller's leg ended. If nobody answered by settle time, the queue was abandoned then
/// (decided at settle: the agent's answer may still be on its way).
pub(crate) fn caller_left(st: &mut CallState, at: DateTime<Utc>) {
    let q = st.queue.get_or_insert_with(QueueState::default);
    q.caller_left_at = earliest(q.caller_left_at, Some(at));
}
