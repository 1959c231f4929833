//! Park: `call.parked`, then `call.unparked` or `call.park_abandoned`.
//!
//! Kazoo reports a retrieval twice (on the retriever's leg and on the parked leg); the
//! retriever's copy names who took the call, the parked copy does not. The parked copy starts a
//! short wait for the retriever (the settle time), after which `call.unparked` goes out anyway
//! (see `ending`). Park events may arrive in any order, so the first of them creates the park.

use chrono::{DateTime, Utc};

use crate::ingest::{RawCallEvent, RawLeg};

use super::context::Ctx;
use super::directory::resolve_or_unknown;
use super::emit::Trigger;
use super::facts::earliest;
use super::legs;
use super::model::{EventType, ParkInfo, Party};
use super::state::{CallState, ParkState, ParkStatus};

/// Whether a park retrieval arrived on the retriever's own leg rather than the parked one: a
/// leg this parked call does not own, or one whose caller placed this very call.
pub(crate) fn is_retriever_copy(st: &CallState, ev: &RawCallEvent, caller: &Party) -> bool {
    let leg = ev.leg.as_ref().map(|l| l.id.as_str());
    let dialled_by_originator = caller.is_user() && st.is_originator(caller);
    let foreign_leg = st
        .park
        .as_ref()
        .is_some_and(|p| p.parked_leg.as_deref() != leg)
        && !leg.is_some_and(|l| st.legs.contains_key(l));
    dialled_by_originator || foreign_leg
}

/// A park event names the parked caller (usually outside) as its caller; a retriever's copy
/// names the retriever instead, so it is not taken as the caller.
pub(crate) fn note_caller(st: &mut CallState, cx: &Ctx<'_>, retriever_copy: bool) {
    if !retriever_copy && st.caller.is_none() && !cx.caller.is_user() {
        st.caller = Some(cx.caller.clone());
    }
}

/// Creates the park record on first sight of any park event (they may come in any order).
fn entry<'a>(st: &'a mut CallState, ev: &RawCallEvent, parker: &Party) -> &'a mut ParkState {
    let slot = ev.park_slot.clone().unwrap_or_default();
    let leg = ev.leg.as_ref().map(|l| l.id.clone());
    let park = st.park.get_or_insert_with(|| ParkState::new(slot));
    if park.parked_leg.is_none() {
        park.parked_leg = leg;
    }
    if parker.is_user() && park.parked_by.is_none() {
        park.parked_by = Some(parker.clone());
    }
    park
}

/// A user parked the call.
pub(crate) fn parked(st: &mut CallState, ev: &RawCallEvent, cx: &Ctx<'_>, out: &mut Vec<Trigger>) {
    let parker = resolve_or_unknown(ev.actor.as_ref(), cx.dir);
    if let Some(u) = &parker.user_id {
        st.participants.insert(u.clone());
    }
    let park = entry(st, ev, &parker);
    let mut t = Trigger::new(EventType::Parked, park.slot.clone(), cx.at, parker);
    t.park = Some(ParkInfo {
        retrieved_by: None,
        outcome: None,
        ..park.info()
    });
    out.push(t);
}

/// Either copy of a retrieval. The retriever's copy unparks for the retriever; the parked
/// copy joins its leg to the call and waits for the retriever, unless a user the parked leg
/// was connected to already tells who it is.
pub(crate) fn retrieved_event(
    st: &mut CallState,
    ev: &RawCallEvent,
    cx: &Ctx<'_>,
    retriever_copy: bool,
    out: &mut Vec<Trigger>,
) {
    if retriever_copy {
        let retriever = resolve_or_unknown(ev.actor.as_ref(), cx.dir);
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
    st.record_keys(&ev.call_keys);
    if let Some(leg) = &ev.leg {
        legs::note_leg(st, leg, ev, cx);
    }
    let parker = cx.callee.clone();
    let settle = cx.config.settle;
    let park = entry(st, ev, &parker);
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
fn retrieved(st: &mut CallState, retriever: Party, at: DateTime<Utc>, out: &mut Vec<Trigger>) {
    if let Some(u) = &retriever.user_id {
        st.participants.insert(u.clone());
    }
    let Some(park) = st.park.as_mut() else { return };
    if park.status.is_lost() {
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
    t.park = Some(park.info());
    t
}

/// The park ended without anyone taking the call: the parked caller hung up (`Abandoned`) or
/// the PBX took the call back after its timeout (`TimedOut`). Either is `call.park_abandoned`;
/// `park.outcome` says which.
pub(crate) fn abandoned(
    st: &mut CallState,
    ev: &RawCallEvent,
    cx: &Ctx<'_>,
    how: ParkStatus,
    out: &mut Vec<Trigger>,
) {
    let parker = cx.callee.clone();
    let park = entry(st, ev, &parker);
    if park.status == ParkStatus::Retrieved {
        return;
    }
    park.status = how;
    park.pending_until = None;
    let user = park.parked_by.clone().unwrap_or_else(Party::unknown);
    let mut t = Trigger::new(EventType::ParkAbandoned, park.slot.clone(), cx.at, user);
    t.park = Some(park.info());
    out.push(t);
}

/// A leg of the call ended. When it is the parked leg and names a user other than the one
/// who parked it, that user is the retriever (Kazoo's destroy of a retrieved call does so):
/// remembered, and it completes a retrieval still waiting for its retriever.
pub(crate) fn leg_ended(st: &mut CallState, l: &RawLeg, cx: &Ctx<'_>, out: &mut Vec<Trigger>) {
    if !st.legs.contains_key(&l.id) {
        return;
    }
    let Some(park) = st.park.as_mut() else { return };
    let peer_is_new_user = cx.callee.is_user() && park.parked_by.as_ref() != Some(&cx.callee);
    if park.parked_leg.as_deref() == Some(l.id.as_str()) && peer_is_new_user {
        park.last_peer = Some(cx.callee.clone());
        if park.status == ParkStatus::RetrievePending {
            retrieved(st, cx.callee.clone(), cx.at, out);
        }
    }
}
