//! When and how a call ends.
//!
//! Rule: a call *looks finished* when every leg seen so far has ended (or a call record says it
//! is over) and nothing is still parked. Each event re-arms `settle_at = now + settle`; only
//! [`settle`](super::settle) emits `call.ended`, once `now >= settle_at`, so late or reordered
//! events of the same burst (an answer after a hang-up, the second PARK_RETRIEVED) still amend
//! the outcome. A call that stays silent for `stale_after` is closed the same way. A call that
//! never emitted a trigger (a feature-code dial) ends silently.
//!
//! Two events speak to the outcome directly: the caller reaching voicemail, and a call record
//! (CDR, call history) saying the call is over.

use chrono::{DateTime, TimeDelta, Utc};

use crate::ingest::{EndReason, LegRole, RawCallEvent};

use super::config::NormalizerConfig;
use super::context::Ctx;
use super::emit::{Totals, Trigger};
use super::model::{Disposition, EventType, Party};
use super::park::unparked;
use super::queue;
use super::state::{CallState, ParkStatus};

/// The caller reached the voicemail of the event's callee: the call ends as a voicemail.
pub(crate) fn voicemail(st: &mut CallState, cx: &Ctx<'_>, out: &mut Vec<Trigger>) {
    st.voicemail = true;
    out.push(Trigger::new(
        EventType::Voicemail,
        "voicemail",
        cx.at,
        cx.callee.clone(),
    ));
}

/// A call record says when the call was answered and that it is over; it enriches the call
/// but triggers nothing by itself.
pub(crate) fn call_record(st: &mut CallState, ev: &RawCallEvent, cx: &Ctx<'_>) {
    st.answered_at = st.answered_at.or(ev.timing.answered_at);
    st.record_ended_at = ev.timing.ended_at.or(Some(cx.at));
}

/// Re-arms (or clears) the settle deadline after an event.
pub(crate) fn rearm(st: &mut CallState, config: &NormalizerConfig, now: DateTime<Utc>) {
    let legs_done = !st.legs.is_empty() && st.legs.values().all(|l| l.ended);
    let parked = st
        .park
        .as_ref()
        .is_some_and(|p| p.status == ParkStatus::Parked);
    let finished = (legs_done || st.record_ended_at.is_some()) && !parked;
    st.settle_at = finished.then(|| now + config.settle);
}

/// Triggers due at `now`: a held-back `call.unparked`, then `call.ended`.
pub(crate) fn due(
    st: &mut CallState,
    config: &NormalizerConfig,
    now: DateTime<Utc>,
) -> Vec<Trigger> {
    let mut out = Vec::new();
    if st.ended {
        return out;
    }
    let settled = st.settle_at.is_some_and(|t| t <= now);
    let stale = st
        .last_activity
        .is_some_and(|t| t + config.stale_after <= now);
    if let Some(park) = st.park.as_mut() {
        let pending_due = park.pending_until.is_some_and(|t| t <= now);
        if park.status == ParkStatus::RetrievePending && (pending_due || settled || stale) {
            park.status = ParkStatus::Retrieved;
            park.pending_until = None;
            out.push(unparked(park));
        }
    }
    if settled || stale {
        queue::flush(st, now, &mut out);
        if !st.emitted.is_empty() || !out.is_empty() {
            out.push(ended(st, now));
        }
        st.ended = true;
        st.settle_at = None;
    }
    out
}

fn secs(d: TimeDelta) -> i64 {
    d.num_seconds().max(0)
}

fn ended(st: &CallState, now: DateTime<Utc>) -> Trigger {
    let ended_at = st
        .legs
        .values()
        .filter_map(|l| l.ended_at)
        .chain(st.record_ended_at)
        .max()
        .or(st.last_activity)
        .unwrap_or(now);
    let started_at = st
        .legs
        .values()
        .filter_map(|l| l.started_at)
        .chain(st.started_at)
        .min()
        .unwrap_or(ended_at);
    let answered_at = st.answered_at.or_else(|| inferred_answer(st));
    let disposition = disposition(st, answered_at.is_some());
    let user = st
        .answered_by
        .clone()
        .or_else(|| st.park.as_ref().and_then(|p| p.retrieved_by.clone()))
        .or_else(|| st.last_rung.clone())
        .or_else(|| st.originator.clone())
        .or_else(|| st.park.as_ref().and_then(|p| p.parked_by.clone()))
        .or_else(|| st.queue.as_ref().map(|q| q.party()))
        .unwrap_or_else(Party::unknown);
    let mut t = Trigger::new(EventType::Ended, "call", ended_at, user);
    t.disposition = Some(disposition);
    t.totals = Some(Totals {
        ended_at,
        answered_at,
        ring_seconds: secs(answered_at.unwrap_or(ended_at) - started_at),
        talk_seconds: answered_at.map_or(0, |a| secs(ended_at - a)),
        duration_seconds: secs(ended_at - started_at),
    });
    t.park = st.park.as_ref().map(|p| p.info());
    t
}

/// An answer no event announced: a user's leg with billed time, or (for a parked call, which
/// was necessarily answered) the caller's leg billed time.
fn inferred_answer(st: &CallState) -> Option<DateTime<Utc>> {
    let user_leg = st
        .legs
        .values()
        .filter(|l| l.role == LegRole::Callee && !l.click_to_call)
        .filter(|l| l.party.as_ref().is_some_and(Party::is_user))
        .filter_map(|l| l.answered_at)
        .min();
    let parked = st
        .park
        .is_some()
        .then(|| st.legs.values().filter_map(|l| l.answered_at).min());
    user_leg.or(parked.flatten())
}

fn disposition(st: &CallState, answered: bool) -> Disposition {
    if answered || st.park.is_some() {
        return Disposition::Answered;
    }
    if st.voicemail {
        return Disposition::Voicemail;
    }
    if st.is_queue_call() {
        return Disposition::Abandoned;
    }
    let last = st
        .legs
        .values()
        .filter(|l| l.role == LegRole::Callee)
        .filter(|l| {
            !matches!(
                l.end_reason,
                Some(EndReason::LoseRace | EndReason::PickedOff) | None
            )
        })
        .max_by_key(|l| l.ended_at)
        .and_then(|l| l.end_reason);
    match last {
        Some(EndReason::NoAnswer | EndReason::Normal) => Disposition::Missed,
        Some(EndReason::Busy) => Disposition::Busy,
        Some(EndReason::Rejected) => Disposition::Rejected,
        Some(EndReason::Voicemail) => Disposition::Voicemail,
        Some(EndReason::Failed) => Disposition::Failed,
        _ => Disposition::Cancelled,
    }
}
