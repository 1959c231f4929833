//! Park, queue, voicemail, hold, transfer and call-record events.
//!
//! Park: Kazoo reports a retrieval twice (on the retriever's leg and on the parked leg); the
//! retriever's copy names who took the call, the parked copy does not. The parked copy starts a
//! short wait for the retriever (the settle time), after which `call.unparked` goes out anyway.
//! Queue: `call.queued` needs the queue id, `call.queue_answered` an agent answer as well; the
//! wait runs from queue entry (or the PBX answering the caller) to the agent's answer.

use chrono::{DateTime, Utc};

use crate::ingest::{RawCallEvent, RawEventKind, RawQueue, TransferKind as RawTransferKind};

use super::directory::resolve;
use super::emit::{Trigger, subject_of};
use super::machine::{Ctx, answer, earliest, keep_richer, note_leg, record_keys, resolve_opt};
use super::model::{EventType, ParkInfo, Party, PartyKind, QueueInfo, TransferInfo, TransferKind};
use super::state::{CallState, ParkState, ParkStatus, QueueState};

/// Whether a park retrieval arrived on the retriever's own leg rather than the parked one: a
/// leg this parked call does not own, or one whose caller placed this very call.
pub(crate) fn is_retriever_copy(st: &CallState, ev: &RawCallEvent, cx: &Ctx<'_>) -> bool {
    let leg = ev.leg.as_ref().map(|l| l.id.as_str());
    let dialled_by_originator = cx.caller.is_user()
        && st
            .originator
            .as_ref()
            .is_some_and(|o| o.user_id == cx.caller.user_id);
    let foreign_leg = st
        .park
        .as_ref()
        .is_some_and(|p| p.parked_leg.as_deref() != leg)
        && !leg.is_some_and(|l| st.legs.contains_key(l));
    dialled_by_originator || foreign_leg
}

pub(crate) fn apply(
    st: &mut CallState,
    ev: &RawCallEvent,
    cx: &Ctx<'_>,
    retriever_copy: bool,
    out: &mut Vec<Trigger>,
) {
    match ev.kind {
        RawEventKind::Parked => parked(st, ev, cx, out),
        RawEventKind::ParkRetrieved => park_retrieved(st, ev, cx, retriever_copy, out),
        RawEventKind::ParkAbandoned => park_abandoned(st, ev, cx, out),
        RawEventKind::QueueAnswered => {
            let agent = resolve_opt(ev.queue.as_ref().and_then(|q| q.agent.as_ref()), cx.dir);
            if agent.is_user() {
                answer(st, agent, cx.at, true, out);
            }
        }
        RawEventKind::QueueAbandoned => abandon(st, cx.at, out),
        RawEventKind::Voicemail => {
            let owner = cx.callee.clone();
            st.voicemail = true;
            out.push(Trigger::new(
                EventType::Voicemail,
                "voicemail",
                cx.at,
                owner,
            ));
        }
        RawEventKind::Held | RawEventKind::Resumed => {
            let user = resolve_opt(ev.actor.as_ref(), cx.dir);
            let kind = if ev.kind == RawEventKind::Held {
                EventType::Held
            } else {
                EventType::Resumed
            };
            let subject = format!("{}@{}", subject_of(&user), cx.at.timestamp());
            out.push(Trigger::new(kind, subject, cx.at, user));
        }
        RawEventKind::TransferStarted | RawEventKind::TransferCompleted => {
            transfer(st, ev, cx, out)
        }
        RawEventKind::CallRecord => {
            st.answered_at = st.answered_at.or(ev.timing.answered_at);
            st.record_ended_at = ev.timing.ended_at.or(Some(cx.at));
        }
        _ => {}
    }
}

fn park_info(p: &ParkState) -> ParkInfo {
    ParkInfo {
        slot: p.slot.clone(),
        parked_by: p.parked_by.clone(),
        retrieved_by: p.retrieved_by.clone(),
    }
}

/// Creates the park record on first sight of any park event (they may come in any order).
fn park_entry<'a>(st: &'a mut CallState, ev: &RawCallEvent, parker: &Party) -> &'a mut ParkState {
    let slot = ev.park_slot.clone().unwrap_or_default();
    let leg = ev.leg.as_ref().map(|l| l.id.clone());
    let park = st.park.get_or_insert(ParkState {
        slot,
        status: ParkStatus::Parked,
        parked_leg: None,
        parked_by: None,
        retrieved_by: None,
        retrieved_at: None,
        last_peer: None,
        pending_until: None,
    });
    if park.parked_leg.is_none() {
        park.parked_leg = leg;
    }
    if parker.is_user() && park.parked_by.is_none() {
        park.parked_by = Some(parker.clone());
    }
    park
}

fn parked(st: &mut CallState, ev: &RawCallEvent, cx: &Ctx<'_>, out: &mut Vec<Trigger>) {
    let parker = resolve_opt(ev.actor.as_ref(), cx.dir);
    if let Some(u) = &parker.user_id {
        st.participants.insert(u.clone());
    }
    let park = park_entry(st, ev, &parker);
    let mut t = Trigger::new(EventType::Parked, park.slot.clone(), cx.at, parker);
    t.park = Some(ParkInfo {
        retrieved_by: None,
        ..park_info(park)
    });
    out.push(t);
}

fn park_retrieved(
    st: &mut CallState,
    ev: &RawCallEvent,
    cx: &Ctx<'_>,
    retriever_copy: bool,
    out: &mut Vec<Trigger>,
) {
    if retriever_copy {
        let retriever = resolve_opt(ev.actor.as_ref(), cx.dir);
        if retriever.is_user() {
            retrieved(st, retriever, cx.at, out);
        }
        return;
    }
    let known_leg = ev.leg.as_ref().is_some_and(|l| {
        st.legs.contains_key(&l.id) || st.aliases.contains(&crate::ingest::raw::keys::leg(&l.id))
    });
    // The parked copy names the parked caller (usually outside) as caller; the retriever's
    // copy names the retriever, a user. A user-called leg this call does not know is skipped.
    if st.park.is_none() && !known_leg && cx.caller.is_user() {
        return;
    }
    record_keys(st, ev);
    if let Some(leg) = &ev.leg {
        note_leg(st, leg, ev, cx);
    }
    let parker = cx.callee.clone();
    let settle = cx.config.settle;
    let park = park_entry(st, ev, &parker);
    if park.status == ParkStatus::Parked {
        park.status = ParkStatus::RetrievePending;
        park.retrieved_at = Some(cx.at);
        park.pending_until = Some(cx.now + settle);
        let parked_by = park.parked_by.clone();
        let last_peer = park.last_peer.clone();
        let parked_leg = park.parked_leg.clone();
        let leg_peer = parked_leg
            .and_then(|l| st.legs.get(&l))
            .and_then(|l| l.peer.clone());
        let peer = last_peer
            .or(leg_peer)
            .filter(|p| Some(p) != parked_by.as_ref());
        if let Some(peer) = peer {
            retrieved(st, peer, cx.at, out);
        }
    }
}

/// The retriever is known: the call left the park.
pub(crate) fn retrieved(
    st: &mut CallState,
    retriever: Party,
    at: DateTime<Utc>,
    out: &mut Vec<Trigger>,
) {
    if let Some(u) = &retriever.user_id {
        st.participants.insert(u.clone());
    }
    let Some(park) = st.park.as_mut() else { return };
    if park.status == ParkStatus::Abandoned {
        return;
    }
    park.retrieved_by.get_or_insert(retriever);
    park.retrieved_at = earliest(park.retrieved_at, Some(at));
    park.status = ParkStatus::Retrieved;
    park.pending_until = None;
    out.push(unparked(park));
}

/// The `call.unparked` trigger for the park as it stands.
pub(crate) fn unparked(park: &ParkState) -> Trigger {
    let user = park.retrieved_by.clone().unwrap_or_else(Party::unknown);
    let at = park.retrieved_at.unwrap_or_default();
    let mut t = Trigger::new(EventType::Unparked, park.slot.clone(), at, user);
    t.park = Some(park_info(park));
    t
}

fn park_abandoned(st: &mut CallState, ev: &RawCallEvent, cx: &Ctx<'_>, out: &mut Vec<Trigger>) {
    let parker = cx.callee.clone();
    let park = park_entry(st, ev, &parker);
    if park.status == ParkStatus::Retrieved {
        return;
    }
    park.status = ParkStatus::Abandoned;
    park.pending_until = None;
    let user = park.parked_by.clone().unwrap_or_else(Party::unknown);
    let mut t = Trigger::new(EventType::ParkAbandoned, park.slot.clone(), cx.at, user);
    t.park = Some(park_info(park));
    out.push(t);
}

fn queue_party(q: &QueueState) -> Party {
    Party {
        kind: PartyKind::Queue,
        name: q.name.clone(),
        ..Party::unknown()
    }
}

fn queue_info(
    q: &QueueState,
    wait_until: Option<DateTime<Utc>>,
    entered: Option<DateTime<Utc>>,
) -> QueueInfo {
    QueueInfo {
        id: q.id.clone(),
        name: q.name.clone(),
        wait_seconds: wait_until
            .zip(entered)
            .map(|(w, e)| (w - e).num_seconds().max(0)),
        agent: q.agent.clone(),
    }
}

fn entered_at(st: &CallState) -> Option<DateTime<Utc>> {
    st.queue
        .as_ref()
        .and_then(|q| q.entered_at)
        .or(st.pbx_answered_at)
        .or(st.started_at)
}

/// Records what an event says about the queue and emits the queue triggers it completes.
pub(crate) fn note_queue(st: &mut CallState, raw: &RawQueue, cx: &Ctx<'_>, out: &mut Vec<Trigger>) {
    let q = st.queue.get_or_insert_with(QueueState::default);
    q.id = q.id.take().or_else(|| raw.id.clone());
    // The name an admin gave the queue, else whatever name the source sends.
    let named = q.id.as_deref().and_then(|id| cx.dir.queue_name(id));
    q.name = named.or_else(|| q.name.take()).or_else(|| raw.name.clone());
    q.entered_at = earliest(q.entered_at, raw.entered_at);
    if st.is_queue_call() {
        queue_triggers(st, cx.at, false, out);
    }
}

/// Emits the queue triggers that are complete. The queue entry time must be known (from the
/// queue's own event or the PBX answering the caller) so the wait does not depend on which
/// event came first; `last_call` (at settle) falls back to the call's start instead.
fn queue_triggers(st: &CallState, at: DateTime<Utc>, last_call: bool, out: &mut Vec<Trigger>) {
    let Some(q) = &st.queue else { return };
    let known_entry = q.entered_at.or(st.pbx_answered_at);
    if known_entry.is_none() && !last_call {
        return;
    }
    let entered = entered_at(st);
    let mut t = Trigger::new(
        EventType::Queued,
        "queue",
        entered.unwrap_or(at),
        queue_party(q),
    );
    t.queue = Some(queue_info(q, None, entered));
    out.push(t);
    let left = q
        .abandoned_at
        .or(if last_call { q.caller_left_at } else { None });
    if let (Some(agent), Some(answered)) = (&q.agent, q.answered_at) {
        let mut t = Trigger::new(EventType::QueueAnswered, "queue", answered, agent.clone());
        t.queue = Some(queue_info(q, Some(answered), entered));
        out.push(t);
    } else if let Some(left) = left {
        let mut t = Trigger::new(EventType::QueueAbandoned, "queue", left, queue_party(q));
        t.queue = Some(queue_info(q, Some(left), entered));
        out.push(t);
    }
}

/// At settle: the queue triggers still owed, with fallbacks for what never arrived.
pub(crate) fn flush_queue(st: &CallState, at: DateTime<Utc>, out: &mut Vec<Trigger>) {
    if st.is_queue_call() {
        queue_triggers(st, at, true, out);
    }
}

pub(crate) fn queue_answered(
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
        queue_triggers(st, at, false, out);
    }
}

fn abandon(st: &mut CallState, at: DateTime<Utc>, out: &mut Vec<Trigger>) {
    if st.answered_by.is_some() {
        return;
    }
    let q = st.queue.get_or_insert_with(QueueState::default);
    q.abandoned_at = earliest(q.abandoned_at, Some(at));
    if st.is_queue_call() {
        queue_triggers(st, at, false, out);
    }
}

/// The caller's leg ended. If nobody answered by settle time, the queue was abandoned then
/// (decided at settle: the agent's answer may still be on its way).
pub(crate) fn caller_left(st: &mut CallState, cx: &Ctx<'_>) {
    let q = st.queue.get_or_insert_with(QueueState::default);
    q.caller_left_at = earliest(q.caller_left_at, Some(cx.at));
}

fn transfer(st: &mut CallState, ev: &RawCallEvent, cx: &Ctx<'_>, out: &mut Vec<Trigger>) {
    let Some(raw) = &ev.transfer else { return };
    let by = resolve(&raw.by, cx.dir);
    let to = resolve(&raw.to, cx.dir);
    for u in [&by.user_id, &to.user_id].into_iter().flatten() {
        st.participants.insert(u.clone());
    }
    if ev.kind != RawEventKind::TransferCompleted {
        return;
    }
    let kind = match raw.kind {
        RawTransferKind::Blind => TransferKind::Blind,
        RawTransferKind::Attended => TransferKind::Attended,
    };
    if to.is_user() {
        keep_richer(&mut st.last_rung, &to);
    }
    let subject = format!("{}:{}", subject_of(&by), subject_of(&to));
    let mut t = Trigger::new(EventType::Transferred, subject, cx.at, by);
    t.transfer = Some(TransferInfo { kind, to });
    out.push(t);
}
