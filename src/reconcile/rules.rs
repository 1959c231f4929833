//! What a history record changes, decided without I/O. The record is told to the normalizer
//! as the raw events it honestly supports (the legs it lists, their ends, the voicemail, the
//! recordings, the call record), so recovered triggers have the same ids, subjects and figures
//! as their live twins would have had; then the call settles at once. Of what comes out only
//! the after-the-fact triggers are kept (`call.ended`, `call.missed`, `call.voicemail`,
//! `call.recording_ready`), marked `origin: "reconciled"`: the ringing and answer moments are
//! past, and firing them now would mislead.

use chrono::{DateTime, Utc};

use super::record::{HistoryRecord, Rung};
use crate::domain::{SourceId, SourceKind, TenantId};
use crate::ingest::{
    EndReason, LegRole, RawCallEvent, RawEventKind, RawHangup, RawLeg, RawParty, RawTiming,
};
use crate::normalizer::{self, Applied, CallState, Directory, EventType, NormalizerConfig, Origin};

/// What reconciling one record did to its call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// ringhook never saw the call: its after-the-fact triggers are recovered.
    Recovered,
    /// ringhook saw the call but not its end: it is closed now with the record's figures.
    ClosedEarly,
    /// ringhook saw the call end: nothing changes, whatever the record says.
    AlreadyEnded,
}

/// The verdict, and the call's next state and events (none when already ended).
pub struct Reconciled {
    pub verdict: Verdict,
    pub applied: Option<Applied>,
}

/// The source whose history the record comes from.
pub struct SourceRef<'a> {
    pub tenant_id: &'a TenantId,
    pub source_id: &'a SourceId,
    pub kind: SourceKind,
}

/// Applies `record` to the call ringhook knows under its keys (`known`), at `now`.
pub fn reconcile(
    record: &HistoryRecord,
    known: Option<CallState>,
    source: &SourceRef<'_>,
    directory: &dyn Directory,
    config: &NormalizerConfig,
    now: DateTime<Utc>,
) -> Reconciled {
    let (verdict, mut state) = match known {
        Some(state) if state.is_ended() => {
            return Reconciled {
                verdict: Verdict::AlreadyEnded,
                applied: recordings_only(record, state, source.kind, directory, config, now),
            };
        }
        Some(state) => (Verdict::ClosedEarly, state),
        None => (
            Verdict::Recovered,
            CallState::new(
                source.tenant_id.clone(),
                source.source_id.clone(),
                source.kind,
                &record.call_key,
            ),
        ),
    };
    let mut events = Vec::new();
    for raw in raw_events(record, source.kind) {
        let applied = normalizer::apply(state, &raw, directory, config, now);
        state = applied.state;
        events.extend(applied.events);
    }
    let settled = normalizer::settle(state, config, now + config.settle);
    events.extend(settled.events);
    let events = events
        .into_iter()
        .filter(|e| after_the_fact(e.event.event_type))
        .map(|mut e| {
            e.event.origin = Origin::Reconciled;
            e
        })
        .collect();
    Reconciled {
        verdict,
        applied: Some(Applied {
            state: settled.state,
            events,
        }),
    }
}

/// A call ringhook saw end keeps its figures, but the record may name recordings its live
/// events never carry (Kazoo's webhooks have none; its CDR lists `media_recordings`): those
/// are applied alone, and the state machine emits each recording once however often the
/// window is swept. `None` when there is nothing new.
fn recordings_only(
    record: &HistoryRecord,
    mut state: CallState,
    kind: SourceKind,
    directory: &dyn Directory,
    config: &NormalizerConfig,
    now: DateTime<Utc>,
) -> Option<Applied> {
    let mut events = Vec::new();
    for raw in raw_events(record, kind) {
        if raw.kind != RawEventKind::Recording {
            continue;
        }
        let applied = normalizer::apply(state, &raw, directory, config, now);
        state = applied.state;
        events.extend(applied.events);
    }
    events.retain(|e| e.event.event_type == EventType::RecordingReady);
    if events.is_empty() {
        return None;
    }
    for e in &mut events {
        e.event.origin = Origin::Reconciled;
    }
    Some(Applied { state, events })
}

/// Triggers a history record can truthfully fire after the call.
fn after_the_fact(kind: EventType) -> bool {
    matches!(
        kind,
        EventType::Ended | EventType::Missed | EventType::Voicemail | EventType::RecordingReady
    )
}

/// The raw events a record supports, in the order things happened.
pub fn raw_events(record: &HistoryRecord, kind: SourceKind) -> Vec<RawCallEvent> {
    let story = Story { record, kind };
    let mut out = Vec::new();
    let caller_leg = format!("{}#caller", record.call_key);
    out.push(story.leg(
        RawEventKind::LegCreated,
        &caller_leg,
        LegRole::Caller,
        &record.from,
        record.started_at,
    ));
    let mut rung: Vec<(usize, &Rung)> = record.rung.iter().enumerate().collect();
    rung.sort_by_key(|(_, r)| r.rang_at.unwrap_or(record.started_at));
    for (n, r) in &rung {
        let leg = format!("{}#rung{n}", record.call_key);
        let rang_at = r.rang_at.unwrap_or(record.started_at);
        out.push(story.leg(
            RawEventKind::LegCreated,
            &leg,
            LegRole::Callee,
            &r.user,
            rang_at,
        ));
    }
    // Ends before answers at the same moment: a phone that stopped ringing before another
    // answered was missed; one still ringing when another answered was not.
    let mut moments: Vec<(DateTime<Utc>, u8, RawCallEvent)> = Vec::new();
    for (n, r) in &rung {
        let leg = format!("{}#rung{n}", record.call_key);
        let answered_at = r.answered.then_some(record.answered_at).flatten();
        if let Some(at) = answered_at {
            let answer = story.leg(
                RawEventKind::LegAnswered,
                &leg,
                LegRole::Callee,
                &r.user,
                at,
            );
            moments.push((at, 1, answer));
        }
        let until = r.until.or(answered_at.map(|_| record.ended_at));
        let until = until.unwrap_or(record.ended_at);
        let reason = story.rung_reason(r);
        let mut end = story.leg(
            RawEventKind::LegEnded,
            &leg,
            LegRole::Callee,
            &r.user,
            until,
        );
        end.hangup = Some(RawHangup {
            reason,
            cause: None,
        });
        end.timing.ended_at = Some(until);
        end.timing.answered_at = answered_at;
        moments.push((until, 0, end));
    }
    moments.sort_by_key(|(at, order, _)| (*at, *order));
    out.extend(moments.into_iter().map(|(_, _, e)| e));
    if let Some(vm) = &record.voicemail {
        let mut ev = story.event(RawEventKind::Voicemail, "voicemail", record.ended_at);
        ev.callee = vm.owner.clone();
        ev.voicemail = vm.message.clone();
        out.push(ev);
    }
    let mut end = story.leg(
        RawEventKind::LegEnded,
        &caller_leg,
        LegRole::Caller,
        &record.from,
        record.ended_at,
    );
    end.hangup = Some(RawHangup {
        reason: record.end_reason,
        cause: record.hangup_cause_raw.clone(),
    });
    end.timing.ended_at = Some(record.ended_at);
    out.push(end);
    let mut summary = story.event(RawEventKind::CallRecord, "record", record.ended_at);
    summary.timing = RawTiming {
        started_at: Some(record.started_at),
        answered_at: record.answered_at,
        ended_at: Some(record.ended_at),
        ..RawTiming::default()
    };
    summary.hangup = Some(RawHangup {
        reason: record.end_reason,
        cause: record.hangup_cause_raw.clone(),
    });
    out.push(summary);
    for recording in &record.recordings {
        let mut ev = story.event(RawEventKind::Recording, "recording", record.ended_at);
        ev.recording = Some(recording.clone());
        out.push(ev);
    }
    for (n, ev) in out.iter_mut().enumerate() {
        ev.dedupe_key = format!("history:{}:{n}", record.call_key);
    }
    out
}

/// Builds the raw events of one record.
struct Story<'a> {
    record: &'a HistoryRecord,
    kind: SourceKind,
}

impl Story<'_> {
    fn event(&self, kind: RawEventKind, name: &str, at: DateTime<Utc>) -> RawCallEvent {
        let mut ev = RawCallEvent::new(self.kind, kind, &format!("history.{name}"));
        ev.call_keys = std::iter::once(self.record.call_key.clone())
            .chain(self.record.other_keys.iter().cloned())
            .collect();
        ev.occurred_at = Some(at);
        ev.caller = self.record.from.clone();
        ev.callee = self.record.to.clone();
        ev.line = self.record.line.clone();
        ev
    }

    fn leg(
        &self,
        kind: RawEventKind,
        id: &str,
        role: LegRole,
        party: &RawParty,
        at: DateTime<Utc>,
    ) -> RawCallEvent {
        let mut ev = self.event(kind, "leg", at);
        if role == LegRole::Callee {
            ev.callee = party.clone();
        }
        ev.leg = Some(RawLeg {
            id: id.to_owned(),
            role,
            other_leg: None,
            is_agent: false,
            click_to_call: false,
        });
        if kind == RawEventKind::LegCreated {
            ev.timing.started_at = Some(at);
        }
        ev
    }

    /// Why a rung user's phone stopped: answered, the reason the history gives (Zoom's path
    /// ends the ringing with its own result before the voicemail starts), their voicemail
    /// took the call, or no answer.
    fn rung_reason(&self, r: &Rung) -> EndReason {
        if r.answered {
            return EndReason::Normal;
        }
        if let Some(reason) = r.missed_reason {
            return reason;
        }
        let to_their_voicemail = self
            .record
            .voicemail
            .as_ref()
            .is_some_and(|vm| same_party(&vm.owner, &r.user));
        if to_their_voicemail {
            return EndReason::Voicemail;
        }
        EndReason::NoAnswer
    }
}

fn same_party(a: &RawParty, b: &RawParty) -> bool {
    match (&a.external_user_id, &b.external_user_id) {
        (Some(x), Some(y)) => x == y,
        _ => a.extension.is_some() && a.extension == b.extension,
    }
}
