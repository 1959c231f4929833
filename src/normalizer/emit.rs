//! Turning a decided trigger into the subscriber-facing [`CallEvent`]: deterministic ids,
//! the call snapshot, direction from the user's point of view, and the one-line summary.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

use crate::domain::UserId;
use crate::ingest::raw::keys;

use super::model::{
    CallEvent, CallInfo, Correlation, Direction, Disposition, EventType, HangupCause, MissedInfo,
    Origin, ParkInfo, Party, PartyKind, QueueInfo, RecordingInfo, TransferInfo, VoicemailInfo,
};
use super::state::CallState;
use super::summary::summary;

/// A trigger the state machine decided to emit.
#[derive(Clone, Debug)]
pub(crate) struct Trigger {
    pub kind: EventType,
    /// What makes this trigger unique within the call besides its type (a user id, a slot).
    pub subject: String,
    pub at: DateTime<Utc>,
    pub user: Party,
    pub disposition: Option<Disposition>,
    pub park: Option<ParkInfo>,
    pub queue: Option<QueueInfo>,
    pub transfer: Option<TransferInfo>,
    pub missed: Option<MissedInfo>,
    pub voicemail: Option<VoicemailInfo>,
    pub recording: Option<RecordingInfo>,
    /// Only `call.ended` carries final times and durations.
    pub totals: Option<Totals>,
}

/// The final figures of a call (DESIGN.md "Durations"); `None` where the source did not
/// report the fact.
#[derive(Clone, Debug)]
pub(crate) struct Totals {
    pub ended_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ring_seconds: Option<i64>,
    pub talk_seconds: Option<i64>,
    pub duration_seconds: Option<i64>,
    pub hangup_cause: Option<HangupCause>,
}

impl Trigger {
    pub fn new(
        kind: EventType,
        subject: impl Into<String>,
        at: DateTime<Utc>,
        user: Party,
    ) -> Self {
        Trigger {
            kind,
            subject: subject.into(),
            at,
            user,
            disposition: None,
            park: None,
            queue: None,
            transfer: None,
            missed: None,
            voicemail: None,
            recording: None,
            totals: None,
        }
    }
}

/// A subscriber event plus the users taking part in the call (a user's hooks receive it).
#[derive(Clone, Debug, PartialEq)]
pub struct EmittedEvent {
    pub event: CallEvent,
    pub participants: BTreeSet<UserId>,
}

/// The subject key of a party: its user id, else its number, else `-`.
pub(crate) fn subject_of(p: &Party) -> String {
    p.user_id
        .as_ref()
        .map(|u| u.to_string())
        .or_else(|| p.raw_number.clone())
        .unwrap_or_else(|| "-".into())
}

pub(crate) fn short_hash(parts: &[&str], len: usize) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    hex::encode(h.finalize())[..len].to_owned()
}

/// `call_…` for a call of this source.
pub(crate) fn call_id(st: &CallState) -> String {
    format!("call_{}", short_hash(&[st.source_id.as_str(), &st.key], 26))
}

/// Marks the trigger emitted and builds its event, or `None` if it was emitted before.
pub(crate) fn emit(st: &mut CallState, t: Trigger) -> Option<EmittedEvent> {
    let trigger_key = format!("{}|{}", t.kind.as_str(), t.subject);
    if !st.emitted.insert(trigger_key) {
        return None;
    }
    if let Some(u) = &t.user.user_id {
        st.participants.insert(u.clone());
    }
    let id = format!(
        "evt_{}",
        short_hash(
            &[
                st.tenant_id.as_str(),
                st.source_id.as_str(),
                &st.key,
                t.kind.as_str(),
                &t.subject
            ],
            32
        )
    );
    let direction = direction(st, &t.user);
    let from = st
        .caller
        .clone()
        .or_else(|| st.originator.clone())
        .unwrap_or_else(Party::unknown);
    let to = to_party(st, &t, direction);
    let totals = t.totals.as_ref();
    let call = CallInfo {
        id: call_id(st),
        source: st.source,
        source_call_id: keys::display(&st.best_key).to_owned(),
        direction,
        from,
        to,
        user: t.user.clone(),
        line: st.line.clone(),
        started_at: st.started_at,
        answered_at: totals.map_or(st.answered_at, |x| x.answered_at),
        ended_at: totals.and_then(|x| x.ended_at),
        ring_seconds: totals.and_then(|x| x.ring_seconds),
        talk_seconds: totals.and_then(|x| x.talk_seconds),
        duration_seconds: totals.and_then(|x| x.duration_seconds),
        disposition: t.disposition,
        hangup_cause: totals.and_then(|x| x.hangup_cause),
        hangup_cause_raw: totals.and_then(|_| st.hangup_cause.clone()),
        correlation: st
            .request_id
            .clone()
            .map(|request_id| Correlation { request_id }),
    };
    let mut event = CallEvent {
        id,
        event_type: t.kind,
        occurred_at: t.at,
        tenant_id: st.tenant_id.clone(),
        origin: Origin::Live,
        summary: String::new(),
        call,
        missed: t.missed,
        voicemail: t.voicemail,
        recording: t.recording,
        park: t.park,
        queue: t.queue,
        transfer: t.transfer,
    };
    event.summary = summary(&event);
    Some(EmittedEvent {
        event,
        participants: st.participants.clone(),
    })
}

/// Inbound when an outside party called; outbound when a user called outside; else internal.
fn direction(st: &CallState, _user: &Party) -> Direction {
    let outside = |p: &Option<Party>| p.as_ref().is_some_and(|p| !p.is_user());
    if st.originator.is_none() && outside(&st.caller) {
        Direction::Inbound
    } else if st
        .far_end
        .as_ref()
        .is_some_and(|p| p.kind == PartyKind::External)
    {
        Direction::Outbound
    } else if st.originator.is_none() && st.caller.is_none() {
        Direction::Inbound
    } else {
        Direction::Internal
    }
}

fn to_party(st: &CallState, t: &Trigger, direction: Direction) -> Party {
    if direction == Direction::Outbound {
        return st.far_end.clone().unwrap_or_else(Party::unknown);
    }
    let is_originator = st
        .originator
        .as_ref()
        .is_some_and(|o| o.user_id == t.user.user_id);
    if (t.user.is_user() && !is_originator) || t.user.kind == PartyKind::Queue {
        return t.user.clone();
    }
    st.answered_by
        .clone()
        .or_else(|| st.last_rung.clone())
        .or_else(|| st.far_end.clone())
        .unwrap_or_else(Party::unknown)
}
