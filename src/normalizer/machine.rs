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
use super::model::Line;
use super::state::{CallState, ParkStatus};
use super::{ending, hold, legs, media, park, queue, transfer};
use crate::domain::E164Number;

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
        (K::ParkAbandoned, _) => park::abandoned(st, ev, cx, ParkStatus::Abandoned, &mut out),
        (K::ParkTimedOut, _) => park::abandoned(st, ev, cx, ParkStatus::TimedOut, &mut out),
        (K::QueueAnswered, _) => legs::queue_agent_answered(st, ev, cx, &mut out),
        (K::QueueAbandoned, _) => queue::abandoned(st, cx.at, &mut out),
        // Entering a queue is recorded with every event's queue details; an agent who let
        // the offer pass did not miss the call.
        (K::Queued | K::QueueAgentMissed, _) => {}
        (K::Voicemail, _) => media::voicemail(st, ev.voicemail.as_ref(), cx, &mut out),
        (K::Held | K::Resumed, _) => hold::held_or_resumed(ev, cx, &mut out),
        (K::TransferStarted | K::TransferCompleted, _) => transfer::transfer(st, ev, cx, &mut out),
        (K::CallRecord, _) => ending::call_record(st, ev, cx),
        (K::Recording, _) => {}
    }
    if let Some(recording) = &ev.recording {
        media::recording(st, recording, cx, &mut out);
    }
    out
}

/// An event for a call that already ended: only a voicemail message or a recording still
/// counts (they are often ready minutes after the call); nothing else changes the call.
pub(crate) fn apply_late(st: &mut CallState, ev: &RawCallEvent, cx: &Ctx<'_>) -> Vec<Trigger> {
    let mut out = Vec::new();
    if let (RawEventKind::Voicemail, Some(message)) = (ev.kind, &ev.voicemail) {
        media::voicemail(st, Some(message), cx, &mut out);
    }
    if let Some(recording) = &ev.recording {
        media::recording(st, recording, cx, &mut out);
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
    if st.line.is_none() {
        st.line = ev.line.as_ref().and_then(|l| line(l, cx));
    }
    let is_park = matches!(
        ev.kind,
        RawEventKind::Parked
            | RawEventKind::ParkRetrieved
            | RawEventKind::ParkAbandoned
            | RawEventKind::ParkTimedOut
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

/// The tenant's number as subscribers see it; only a number that reads as E.164 is a line.
fn line(raw: &crate::ingest::RawParty, cx: &Ctx<'_>) -> Option<Line> {
    let raw_number = raw.number.as_deref()?.trim();
    let number = E164Number::parse(raw_number, cx.dir.default_country()).ok()?;
    Some(Line {
        number,
        raw_number: raw_number.to_owned(),
        name: raw.name.clone(),
    })
}
