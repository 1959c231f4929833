//! Applying one raw event to a call: bookkeeping of keys, parties and legs, and the leg
//! lifecycle rules (who rang, who answered, who missed). Park, queue and the rest live in
//! `features`; ending in `ending`.
//!
//! Rules that make arrival order irrelevant: facts only accumulate (earliest start, earliest
//! answer, legs only end), each trigger is keyed by type + subject and emitted at most once,
//! and `call.ended` waits in `ending` until the call has been quiet for the settle time.

use chrono::{DateTime, Utc};

use crate::ingest::{EndReason, LegRole, RawCallEvent, RawEventKind, RawLeg};

use super::NormalizerConfig;
use super::directory::{Directory, resolve};
use super::emit::{Trigger, subject_of};
use super::features;
use super::model::{Disposition, EventType, Party, PartyKind};
use super::state::{CallState, Leg, ParkStatus};

/// What one event application needs besides the state.
pub(crate) struct Ctx<'a> {
    pub dir: &'a dyn Directory,
    pub config: &'a NormalizerConfig,
    pub now: DateTime<Utc>,
    /// Source time of the event, or `now` when the source gives none.
    pub at: DateTime<Utc>,
    pub caller: Party,
    pub callee: Party,
}

/// Updates `st` with `ev` and returns the triggers it causes (not yet deduplicated).
pub(crate) fn apply_event(st: &mut CallState, ev: &RawCallEvent, cx: &Ctx<'_>) -> Vec<Trigger> {
    let mut out = Vec::new();
    let retriever_copy =
        ev.kind == RawEventKind::ParkRetrieved && features::is_retriever_copy(st, ev, cx);
    // A retrieval names its leg's keys only once it is known to be this call's parked leg.
    if ev.kind != RawEventKind::ParkRetrieved {
        record_keys(st, ev);
    }
    if let Some(r) = &ev.request_id {
        st.request_id.get_or_insert_with(|| r.clone());
    }
    st.started_at = earliest(st.started_at, ev.timing.started_at);
    let is_park = matches!(
        ev.kind,
        RawEventKind::Parked | RawEventKind::ParkRetrieved | RawEventKind::ParkAbandoned
    );
    if !is_park {
        note_parties(st, ev, cx);
    } else if !retriever_copy && st.caller.is_none() && !cx.caller.is_user() {
        st.caller = Some(cx.caller.clone());
    }
    // A retrieval's leg joins the call only once known to be the parked leg (in `features`).
    if let (Some(leg), false) = (&ev.leg, ev.kind == RawEventKind::ParkRetrieved) {
        note_leg(st, leg, ev, cx);
    }
    if let Some(q) = &ev.queue {
        let caller_side = ev.leg.as_ref().is_none_or(|l| l.role == LegRole::Caller);
        if caller_side {
            features::note_queue(st, q, cx, &mut out);
        }
    }
    match (ev.kind, &ev.leg) {
        (RawEventKind::LegCreated, Some(leg)) => leg_created(st, leg, cx, &mut out),
        (RawEventKind::LegAnswered, Some(leg)) => leg_answered(st, leg, cx, &mut out),
        (RawEventKind::LegBridged, Some(leg)) => leg_bridged(st, leg, cx, &mut out),
        (RawEventKind::LegEnded, Some(leg)) => leg_ended(st, leg, ev, cx, &mut out),
        _ => features::apply(st, ev, cx, retriever_copy, &mut out),
    }
    out
}

pub(crate) fn earliest(
    a: Option<DateTime<Utc>>,
    b: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

pub(crate) fn latest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

pub(crate) fn record_keys(st: &mut CallState, ev: &RawCallEvent) {
    for key in &ev.call_keys {
        st.aliases.insert(key.clone());
    }
    let rank = |k: &str| match k.split_once(':').map(|(p, _)| p) {
        Some("cid") => 0,
        Some("call") => 1,
        _ => 2,
    };
    if let Some(best) = ev.call_keys.iter().min_by_key(|k| rank(k))
        && rank(best) < rank(&st.best_key)
    {
        st.best_key = best.clone();
    }
}

/// How much a party tells: used to keep the most informative version of the caller.
fn richness(p: &Party) -> u8 {
    let kind = match p.kind {
        PartyKind::User => 6,
        PartyKind::Queue => 4,
        PartyKind::External => 2,
        PartyKind::Unknown => 0,
    };
    kind + u8::from(p.name.is_some())
}

pub(crate) fn keep_richer(slot: &mut Option<Party>, new: &Party) {
    if new.kind == PartyKind::Unknown && new.raw_number.is_none() && new.name.is_none() {
        return;
    }
    if slot
        .as_ref()
        .is_none_or(|old| richness(new) > richness(old))
    {
        *slot = Some(new.clone());
    }
}

fn note_parties(st: &mut CallState, ev: &RawCallEvent, cx: &Ctx<'_>) {
    let leg = ev.leg.as_ref();
    let c2c = leg.is_some_and(|l| l.click_to_call);
    if cx.caller.is_user() {
        if st.originator.is_none() {
            st.originator = Some(cx.caller.clone());
        }
        if let Some(u) = &cx.caller.user_id {
            st.participants.insert(u.clone());
        }
    }
    keep_richer(&mut st.caller, &cx.caller);
    let callee_side = leg.is_some_and(|l| l.role == LegRole::Callee);
    if (c2c || callee_side) && cx.callee.kind == PartyKind::External {
        keep_richer(&mut st.far_end, &cx.callee);
    }
}

pub(crate) fn note_leg(st: &mut CallState, l: &RawLeg, ev: &RawCallEvent, cx: &Ctx<'_>) {
    let party = match l.role {
        LegRole::Caller => cx.caller.clone(),
        LegRole::Callee => cx.callee.clone(),
    };
    let leg = st.legs.entry(l.id.clone()).or_insert_with(|| Leg {
        role: l.role,
        party: None,
        is_agent: false,
        click_to_call: false,
        started_at: None,
        answered_at: None,
        ended_at: None,
        ended: false,
        end_reason: None,
        peer: None,
    });
    leg.is_agent |= l.is_agent;
    leg.click_to_call |= l.click_to_call;
    keep_richer(&mut leg.party, &party);
    leg.started_at = earliest(leg.started_at, ev.timing.started_at);
    if ev.kind == RawEventKind::LegCreated {
        leg.started_at = earliest(leg.started_at, Some(cx.at));
    }
}

fn leg_party(st: &CallState, leg_id: &str) -> Party {
    st.legs
        .get(leg_id)
        .and_then(|l| l.party.clone())
        .unwrap_or_else(Party::unknown)
}

fn ring(st: &mut CallState, user: Party, at: DateTime<Utc>, out: &mut Vec<Trigger>) {
    if let Some(u) = &user.user_id {
        st.participants.insert(u.clone());
    }
    if st
        .originator
        .as_ref()
        .is_none_or(|o| o.user_id != user.user_id)
    {
        st.last_rung = Some(user.clone());
    }
    out.push(Trigger::new(
        EventType::Ringing,
        subject_of(&user),
        at,
        user,
    ));
}

fn leg_created(st: &mut CallState, l: &RawLeg, cx: &Ctx<'_>, out: &mut Vec<Trigger>) {
    if l.role != LegRole::Callee || l.click_to_call {
        return;
    }
    let party = leg_party(st, &l.id);
    if party.is_user() {
        ring(st, party, cx.at, out);
    } else if let Some(originator) = st.originator.clone() {
        ring(st, originator, cx.at, out);
    }
}

/// A person answered: `user` is who took the call (the originator when the far end of an
/// outbound call picked up).
pub(crate) fn answer(
    st: &mut CallState,
    user: Party,
    at: DateTime<Utc>,
    agent: bool,
    out: &mut Vec<Trigger>,
) {
    if let Some(u) = &user.user_id {
        st.participants.insert(u.clone());
    }
    if st.answered_at.is_none_or(|a| at < a) {
        st.answered_at = Some(at);
        st.answered_by = Some(user.clone());
    }
    out.push(Trigger::new(
        EventType::Answered,
        subject_of(&user),
        at,
        user.clone(),
    ));
    if agent || st.queue.is_some() {
        features::queue_answered(st, user, at, out);
    }
}

fn leg_answered(st: &mut CallState, l: &RawLeg, cx: &Ctx<'_>, out: &mut Vec<Trigger>) {
    if let Some(leg) = st.legs.get_mut(&l.id) {
        leg.answered_at = earliest(leg.answered_at, Some(cx.at));
    }
    match l.role {
        LegRole::Callee if !l.click_to_call => {
            let party = leg_party(st, &l.id);
            if party.is_user() {
                answer(st, party, cx.at, l.is_agent, out);
            } else if let Some(originator) = st.originator.clone() {
                answer(st, originator, cx.at, false, out);
            }
        }
        LegRole::Caller if !l.click_to_call && !cx.caller.is_user() => {
            st.pbx_answered_at = earliest(st.pbx_answered_at, Some(cx.at));
        }
        _ => {}
    }
}

fn leg_bridged(st: &mut CallState, l: &RawLeg, cx: &Ctx<'_>, out: &mut Vec<Trigger>) {
    let other = l
        .other_leg
        .as_deref()
        .and_then(|o| st.legs.get(o))
        .filter(|o| o.role == LegRole::Callee && !o.click_to_call)
        .and_then(|o| o.party.clone());
    let answerer = match (l.role, other) {
        (LegRole::Callee, _) if !l.click_to_call => leg_party(st, &l.id),
        (_, Some(other)) => other,
        _ => cx.callee.clone(),
    };
    let agent = l.is_agent
        || l.other_leg
            .as_deref()
            .and_then(|o| st.legs.get(o))
            .is_some_and(|o| o.is_agent);
    let is_originator = st
        .originator
        .as_ref()
        .is_some_and(|o| o.user_id == answerer.user_id);
    if answerer.is_user() && !is_originator {
        answer(st, answerer, cx.at, agent, out);
    } else if let Some(originator) = st.originator.clone() {
        answer(st, originator, cx.at, false, out);
    }
}

fn missed_disposition(reason: EndReason) -> Option<Disposition> {
    match reason {
        EndReason::NoAnswer => Some(Disposition::Missed),
        EndReason::Busy => Some(Disposition::Busy),
        EndReason::Rejected => Some(Disposition::Rejected),
        EndReason::CallerCancelled => Some(Disposition::Cancelled),
        _ => None,
    }
}

fn leg_ended(
    st: &mut CallState,
    l: &RawLeg,
    ev: &RawCallEvent,
    cx: &Ctx<'_>,
    out: &mut Vec<Trigger>,
) {
    let reason = ev.hangup.as_ref().map_or(EndReason::Normal, |h| h.reason);
    let cause = ev.hangup.as_ref().and_then(|h| h.cause.clone());
    if cause.is_some() && (l.role == LegRole::Caller || st.hangup_cause.is_none()) {
        st.hangup_cause = cause;
    }
    if reason == EndReason::Voicemail {
        st.voicemail = true;
    }
    let Some(leg) = st.legs.get_mut(&l.id) else {
        return;
    };
    leg.ended = true;
    leg.ended_at = latest(leg.ended_at, ev.timing.ended_at.or(Some(cx.at)));
    leg.end_reason = Some(reason);
    leg.answered_at = earliest(leg.answered_at, ev.timing.answered_at);
    if l.role == LegRole::Caller && cx.callee.is_user() {
        leg.peer = Some(cx.callee.clone());
    }
    let leg = leg.clone();
    let party = leg.party.clone().unwrap_or_else(Party::unknown);
    match l.role {
        LegRole::Callee if !leg.click_to_call && !leg.is_agent && party.is_user() => {
            let nobody_answered = leg.answered_at.is_none() && st.answered_by.is_none();
            if let (true, Some(disposition)) = (nobody_answered, missed_disposition(reason)) {
                let mut t = Trigger::new(EventType::Missed, subject_of(&party), cx.at, party);
                t.disposition = Some(disposition);
                out.push(t);
            }
        }
        LegRole::Caller if !leg.click_to_call => {
            features::caller_left(st, cx);
        }
        _ => {}
    }
    if let Some(park) = st.park.as_mut() {
        let peer_is_new_user = cx.callee.is_user() && park.parked_by.as_ref() != Some(&cx.callee);
        if park.parked_leg.as_deref() == Some(l.id.as_str()) && peer_is_new_user {
            park.last_peer = Some(cx.callee.clone());
            if park.status == ParkStatus::RetrievePending {
                features::retrieved(st, cx.callee.clone(), cx.at, out);
            }
        }
    }
}

/// Resolves a raw party, or an unknown party when the source named none.
pub(crate) fn resolve_opt(raw: Option<&crate::ingest::RawParty>, dir: &dyn Directory) -> Party {
    raw.filter(|p| !p.is_empty())
        .map_or_else(Party::unknown, |p| resolve(p, dir))
}
