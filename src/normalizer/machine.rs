//! Applying one raw event to a call: what every event tells (keys, parties, its leg, its
//! queue), then the rules of its kind, which live in one file per topic (`legs`, `park`,
//! `queue`, `transfer`, `hold`, `ending`).
//!
//! Rules that make arrival order irrelevant: facts only accumulate (earliest start, earliest
//! answer, legs only end; see `facts`), each trigger is keyed by type + subject and emitted at
//! most once, and `call.ended` waits in `ending` until the call has been quiet for the settle
//! time.

use crate::ingest::{LegRole, RawCallEvent, RawEventKind};

use super::context::Ctx;
use super::emit::Trigger;
use super::facts::earliest;
use super::state::CallState;
use super::{ending, hold, legs, park, queue, transfer};

/// Updates `st` with `ev` and returns the triggers it causes (not yet deduplicated).
pub(crate) fn apply_event(st: &mut CallState, ev: &RawCallEvent, cx: &Ctx<'_>) -> Vec<Trigger> {
    use RawEventKind as K;
    let mut out = Vec::new();
    let retriever_copy = ev.kind == K::ParkRetrieved && park::is_retriever_copy(st, ev, &cx.caller);
    note_common(st, ev, cx, retriever_copy, &mut out);
    match (ev.kind, &ev.leg) {
        (K::LegCreated, Some(leg)) => legs::created(st, leg, cx, &mut out),
        (K::LegAnswered, Some(leg)) => legs::answered(st, leg, cx, &mut out),
        (K::LegBridged, Some(leg)) => legs::bridged(st, leg, cx, &mut out),
        (K::LegEnded, Some(leg)) => {
            legs::ended(st, leg, ev, cx, &mut out);
            park::leg_ended(st, leg, cx, &mut out);
        }
        (K::LegCreated | K::LegAnswered | K::LegBridged | K::LegEnded, None) => {}
        (K::Parked, _) => park::parked(st, ev, cx, &mut out),
        (K::ParkRetrieved, _) => park::retrieved_event(st, ev, cx, retriever_copy, &mut out),
        (K::ParkAbandoned, _) => park::abandoned(st, ev, cx, &mut out),
        (K::QueueAnswered, _) => legs::queue_agent_answered(st, ev, cx, &mut out),
        (K::QueueAbandoned, _) => queue::abandoned(st, cx.at, &mut out),
        // Entering a queue is recorded with every event's queue details; an agent who let
        // the offer pass did not miss the call.
        (K::Queued | K::QueueAgentMissed, _) => {}
        (K::Voicemail, _) => ending::voicemail(st, cx, &mut out),
        (K::Held | K::Resumed, _) => hold::held_or_resumed(ev, cx, &mut out),
        (K::TransferStarted | K::TransferCompleted, _) => transfer::transfer(st, ev, cx, &mut out),
        (K::CallRecord, _) => ending::call_record(st, ev, cx),
    }
    out
}

/// What any event tells about the call, whatever its kind. A park retrieval names its leg's
/// keys and its leg only once it is known to be this call's parked leg (`park`).
fn note_common(
    st: &mut CallState,
    ev: &RawCallEvent,
    cx: &Ctx<'_>,
    retriever_copy: bool,
    out: &mut Vec<Trigger>,
) {
    let retrieval = ev.kind == RawEventKind::ParkRetrieved;
    if !retrieval {
        st.record_keys(&ev.call_keys);
    }
    if let Some(r) = &ev.request_id {
        st.request_id.get_or_insert_with(|| r.clone());
    }
    st.started_at = earliest(st.started_at, ev.timing.started_at);
    let is_park = matches!(
        ev.kind,
        RawEventKind::Parked | RawEventKind::ParkRetrieved | RawEventKind::ParkAbandoned
    );
    if is_park {
        park::note_caller(st, cx, retriever_copy);
    } else {
        legs::note_parties(st, ev, cx);
    }
    if let (Some(leg), false) = (&ev.leg, retrieval) {
        legs::note_leg(st, leg, ev, cx);
    }
    if let Some(q) = &ev.queue {
        let caller_side = ev.leg.as_ref().is_none_or(|l| l.role == LegRole::Caller);
        if caller_side {
            queue::note(st, q, cx, out);
        }
    }
}
