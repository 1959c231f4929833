//! When and how a call ends.
//!
//! Rule: a call *looks finished* when every leg seen so far has ended (or a call record says it
//! is over) and nothing is still parked. Each event re-arms `settle_at = now + settle`; only
//! [`settle`](super::settle) emits `call.ended`, once `now >= settle_at`, so late or reordered
//! events of the same burst (an answer after a hang-up, the second PARK_RETRIEVED) still amend
//! the outcome. A call that stays silent for `stale_after` is closed the same way. A call that
//! never emitted a trigger (a feature-code dial) ends silently.
//!
//! A call record (CDR, call history) saying the call is over speaks to the outcome directly;
//! what the outcome is called lives in `outcome`.

use chrono::{DateTime, TimeDelta, Utc};

use crate::ingest::{EndReason, LegRole, RawCallEvent};

use super::config::NormalizerConfig;
use super::context::Ctx;
use super::emit::{Totals, Trigger};
use super::model::{EventType, Party};
use super::park::unparked;
use super::state::{CallState, ParkStatus};
use super::{media, outcome, queue};

/// A call record says when the call was answered and that it is over; it enriches the call
/// but triggers nothing by itself (the recording it may name is `media`'s).
pub(crate) fn call_record(st: &mut CallState, ev: &RawCallEvent, cx: &Ctx<'_>) {
    st.answered_at = st.answered_at.or(ev.timing.answered_at);
    st.started_at = st.started_at.or(ev.timing.started_at);
    st.record_ended_at = ev.timing.ended_at.or(Some(cx.at));
    if st.hangup_cause.is_none() {
        st.hangup_cause = ev.hangup.as_ref().and_then(|h| h.cause.clone());
    }
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
        media::flush(st, &mut out);
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
    let last_leg_end = st
        .legs
        .values()
        .filter_map(|l| l.ended_at)
        .chain(st.record_ended_at)
        .max();
    let ended_at = last_leg_end.filter(|_| end_is_reported(st));
    let at = last_leg_end.or(st.last_activity).unwrap_or(now);
    let started_at = st
        .legs
        .values()
        .filter_map(|l| l.started_at)
        .chain(st.started_at)
        .min()
        .unwrap_or(at);
    let answered_at = st.answered_at.or_else(|| inferred_answer(st));
    let (disposition, hangup_cause) = outcome::of(st, answered_at.is_some());
    let user = st
        .answered_by
        .clone()
        .or_else(|| st.park.as_ref().and_then(|p| p.retrieved_by.clone()))
        .or_else(|| st.last_rung.clone())
        .or_else(|| st.originator.clone())
        .or_else(|| st.park.as_ref().and_then(|p| p.parked_by.clone()))
        .or_else(|| st.queue.as_ref().map(|q| q.party()))
        .unwrap_or_else(Party::unknown);
    let mut t = Trigger::new(EventType::Ended, "call", at, user);
    t.disposition = Some(disposition);
    t.totals = Some(Totals {
        ended_at,
        answered_at,
        ring_seconds: ring_end(st, answered_at, started_at).map(|r| secs(r - started_at)),
        talk_seconds: match answered_at {
            Some(a) => ended_at.map(|e| secs(e - a)),
            None => Some(0),
        },
        duration_seconds: ended_at.map(|e| secs(e - started_at)),
        hangup_cause: Some(hangup_cause),
    });
    t.park = st.park.as_ref().map(|p| p.info());
    t
}

/// When ringing stopped: the first answer, else when the last phone that rang stopped. No
/// phone rang: no ringing at all (`started_at`). A phone whose leg went on into voicemail
/// (Zorio) does not tell when it stopped ringing: unknown.
fn ring_end(
    st: &CallState,
    answered_at: Option<DateTime<Utc>>,
    started_at: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if answered_at.is_some() {
        return answered_at;
    }
    let rung: Vec<_> = st
        .legs
        .values()
        .filter(|l| l.role == LegRole::Callee && !l.click_to_call)
        .collect();
    if rung
        .iter()
        .any(|l| l.end_reason == Some(EndReason::Voicemail))
    {
        return None;
    }
    Some(
        rung.iter()
            .filter_map(|l| l.ended_at)
            .max()
            .unwrap_or(started_at),
    )
}

/// Whether some event tells when the whole call ended. A source that reports only the user's
/// side (Zoom's callee events) does not, once the caller went on to voicemail: the user's
/// phone stopped ringing, the call did not.
fn end_is_reported(st: &CallState) -> bool {
    let caller_side = st
        .legs
        .values()
        .any(|l| l.role == LegRole::Caller || l.end_reason == Some(EndReason::Voicemail));
    !st.voicemail || caller_side || st.record_ended_at.is_some()
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
