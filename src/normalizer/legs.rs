//! Legs and answers: who is on the call, who rang, who answered and who missed it.
//!
//! A callee-side leg rings its user (or, on an outbound call, the user who placed it); the
//! first answer wins whatever order the events arrive in; a user's leg that ends unanswered
//! while nobody else answered is that user's miss. Agents of a queue never miss: the queue
//! decides instead (`queue`).

use chrono::{DateTime, Utc};

use crate::ingest::{EndReason, LegRole, RawCallEvent, RawLeg};

use super::context::Ctx;
use super::directory::resolve_or_unknown;
use super::emit::{Trigger, subject_of};
use super::facts::{earliest, keep_richer, latest};
use super::model::{EventType, MissedInfo, Party, PartyKind};
use super::state::{CallState, Leg};
use super::{media, outcome, queue};

/// Records who the event says takes part: the user who placed the call, the richest caller,
/// and the outside party of an outbound or click-to-call call.
pub(crate) fn note_parties(st: &mut CallState, ev: &RawCallEvent, cx: &Ctx<'_>) {
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

/// Adds the event's leg to the call, or merges what the event tells about it.
pub(crate) fn note_leg(st: &mut CallState, l: &RawLeg, ev: &RawCallEvent, cx: &Ctx<'_>) {
    let party = match l.role {
        LegRole::Caller => cx.caller.clone(),
        LegRole::Callee => cx.callee.clone(),
    };
    let leg = st
        .legs
        .entry(l.id.clone())
        .or_insert_with(|| Leg::new(l.role));
    leg.is_agent |= l.is_agent;
    leg.click_to_call |= l.click_to_call;
    keep_richer(&mut leg.party, &party);
    leg.started_at = earliest(leg.started_at, ev.timing.started_at);
    if ev.kind == crate::ingest::RawEventKind::LegCreated {
        leg.started_at = earliest(leg.started_at, Some(cx.at));
    }
}

fn ring(st: &mut CallState, user: Party, at: DateTime<Utc>, out: &mut Vec<Trigger>) {
    if let Some(u) = &user.user_id {
        st.participants.insert(u.clone());
    }
    if !st.is_originator(&user) {
        st.last_rung = Some(user.clone());
    }
    out.push(Trigger::new(
        EventType::Ringing,
        subject_of(&user),
        at,
        user,
    ));
}

/// A callee-side leg appeared: its user rings.
pub(crate) fn created(st: &mut CallState, l: &RawLeg, cx: &Ctx<'_>, out: &mut Vec<Trigger>) {
    if l.role != LegRole::Callee || l.click_to_call {
        return;
    }
    let party = st.leg_party(&l.id);
    if party.is_user() {
        ring(st, party, cx.at, out);
    } else if let Some(originator) = st.originator.clone() {
        ring(st, originator, cx.at, out);
    }
}

/// A person answered: `user` is who took the call (the originator when the far end of an
/// outbound call picked up). An agent's answer also completes the queue's triggers.
fn answer(st: &mut CallState, user: Party, at: DateTime<Utc>, agent: bool, out: &mut Vec<Trigger>) {
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
        queue::agent_answered(st, user, at, out);
    }
}

/// A leg was answered: a callee's pick-up is a person answering; the caller's leg answered
/// by the PBX (IVR, queue) only starts the queue wait.
pub(crate) fn answered(st: &mut CallState, l: &RawLeg, cx: &Ctx<'_>, out: &mut Vec<Trigger>) {
    if let Some(leg) = st.legs.get_mut(&l.id) {
        leg.answered_at = earliest(leg.answered_at, Some(cx.at));
    }
    match l.role {
        LegRole::Callee if !l.click_to_call => {
            let party = st.leg_party(&l.id);
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

/// Two legs were bridged: whoever is on the callee side answered.
pub(crate) fn bridged(st: &mut CallState, l: &RawLeg, cx: &Ctx<'_>, out: &mut Vec<Trigger>) {
    let other = l.other_leg.as_deref().and_then(|o| st.legs.get(o));
    let other_party = other
        .filter(|o| o.role == LegRole::Callee && !o.click_to_call)
        .and_then(|o| o.party.clone());
    let agent = l.is_agent || other.is_some_and(|o| o.is_agent);
    let answerer = match (l.role, other_party) {
        (LegRole::Callee, _) if !l.click_to_call => st.leg_party(&l.id),
        (_, Some(other)) => other,
        _ => cx.callee.clone(),
    };
    if answerer.is_user() && !st.is_originator(&answerer) {
        answer(st, answerer, cx.at, agent, out);
    } else if let Some(originator) = st.originator.clone() {
        answer(st, originator, cx.at, false, out);
    }
}

/// A queue reported which agent took the call.
pub(crate) fn queue_agent_answered(
    st: &mut CallState,
    ev: &RawCallEvent,
    cx: &Ctx<'_>,
    out: &mut Vec<Trigger>,
) {
    let agent = resolve_or_unknown(ev.queue.as_ref().and_then(|q| q.agent.as_ref()), cx.dir);
    if agent.is_user() {
        answer(st, agent, cx.at, true, out);
    }
}

/// A leg hung up: records why, and emits the user's miss when nobody answered. The caller
/// leaving is noted for the queue, which decides at settle whether that was an abandon.
pub(crate) fn ended(
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
            if reason == EndReason::Voicemail {
                media::voicemail_reached(st, party.clone(), cx);
            }
            let nobody_answered = leg.answered_at.is_none() && st.answered_by.is_none();
            if let (true, Some((disposition, why))) = (nobody_answered, outcome::missed(reason)) {
                // A leg that went on into voicemail does not tell when it stopped ringing.
                let rang_until = leg.ended_at.filter(|_| reason != EndReason::Voicemail);
                let ring_seconds = rang_until
                    .zip(leg.started_at)
                    .map(|(e, s)| (e - s).num_seconds().max(0));
                let mut t = Trigger::new(EventType::Missed, subject_of(&party), cx.at, party);
                t.disposition = Some(disposition);
                t.missed = Some(MissedInfo {
                    reason: why,
                    ring_seconds,
                });
                out.push(t);
            }
        }
        LegRole::Caller if !leg.click_to_call => queue::caller_left(st, cx.at),
        _ => {}
    }
}
