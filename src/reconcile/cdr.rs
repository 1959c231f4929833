//! Call records that arrive on the live channel: Zorio's `pbx.cdr.created` webhook and
//! Asterisk's `Cdr` manager event (cdr_manager). They are the history of those sources, so a
//! record of a call ringhook never saw is recovered by the history rules (`rules`) rather than
//! ending silently: the pipeline turns the raw call record into a [`HistoryRecord`] here when
//! no stored call answers to its keys. A record of an open call closes it through the
//! normalizer as any call record does (a Zorio one; an Asterisk one is left out for a call
//! seen live, see `crate::pipeline::history`); a record of an ended call changes nothing.

use crate::domain::SourceKind;
use crate::ingest::{EndReason, RawCallEvent, RawEventKind};

use super::record::{HistoryRecord, HistoryVoicemail, Rung};

/// Whether `event` is an Asterisk `Cdr` (whatever it names).
pub fn is_asterisk_record(event: &RawCallEvent) -> bool {
    event.source == SourceKind::Asterisk
        && event.kind == RawEventKind::CallRecord
        && event.source_event == "Cdr"
}

/// Whether `event` is a call record that reads as history: a Zorio or Asterisk record that
/// tells when the call started and ended (the closing records a reconnect writes do not).
pub fn is_history_record(event: &RawCallEvent) -> bool {
    event.kind == RawEventKind::CallRecord
        && matches!(event.source, SourceKind::Zorio | SourceKind::Asterisk)
        && event.timing.started_at.is_some()
        && event.timing.ended_at.is_some()
        && !event.call_keys.is_empty()
}

/// The history record a call record stands for; `None` unless [`is_history_record`].
///
/// The record names at most one user's phone: the callee's extension (the phone rung on an
/// inbound or internal call). That user missed the call when nobody answered, for the
/// record's reason (busy, rejected, no answer, the caller gave up); a record ending in
/// voicemail says the caller reached that user's voicemail, with no message id. An outbound
/// call rang no user of the tenant.
pub fn history_record(event: &RawCallEvent) -> Option<HistoryRecord> {
    if !is_history_record(event) {
        return None;
    }
    let started_at = event.timing.started_at?;
    let ended_at = event.timing.ended_at?.max(started_at);
    let answered_at = event.timing.answered_at;
    let end_reason = match &event.hangup {
        Some(h) => h.reason,
        None if answered_at.is_some() => EndReason::Normal,
        None => EndReason::NoAnswer,
    };
    let rung_user = Some(&event.callee).filter(|c| c.extension.is_some() && !c.is_empty());
    let voicemail = (end_reason == EndReason::Voicemail)
        .then_some(rung_user)
        .flatten()
        .map(|owner| HistoryVoicemail {
            owner: owner.clone(),
            message: None,
        });
    let rung = rung_user
        .map(|user| Rung {
            user: user.clone(),
            rang_at: Some(started_at),
            until: if answered_at.is_some() {
                None
            } else {
                Some(ended_at)
            },
            answered: answered_at.is_some(),
            missed_reason: match end_reason {
                _ if answered_at.is_some() => None,
                EndReason::Voicemail => None,
                EndReason::Normal => Some(EndReason::NoAnswer),
                other => Some(other),
            },
        })
        .into_iter()
        .collect();
    Some(HistoryRecord {
        call_key: event.call_keys[0].clone(),
        other_keys: event.call_keys[1..].to_vec(),
        started_at,
        answered_at,
        ended_at,
        from: event.caller.clone(),
        to: event.callee.clone(),
        line: event.line.clone(),
        rung,
        voicemail,
        recordings: event.recording.iter().cloned().collect(),
        end_reason,
        hangup_cause_raw: event.hangup.as_ref().and_then(|h| h.cause.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{RawHangup, RawParty};
    use chrono::{TimeDelta, Utc};

    fn record(answered: bool, reason: EndReason) -> RawCallEvent {
        let mut ev = RawCallEvent::new(SourceKind::Zorio, RawEventKind::CallRecord, "cdr");
        let start = Utc::now();
        ev.call_keys = vec!["call:abc".into()];
        ev.timing.started_at = Some(start);
        ev.timing.answered_at = answered.then(|| start + TimeDelta::seconds(5));
        ev.timing.ended_at = Some(start + TimeDelta::seconds(30));
        ev.callee = RawParty {
            extension: Some("1002".into()),
            ..Default::default()
        };
        ev.hangup = Some(RawHangup {
            reason,
            cause: None,
        });
        ev
    }

    #[test]
    fn an_unanswered_record_says_its_extension_missed_the_call() {
        let r = history_record(&record(false, EndReason::Busy)).unwrap();
        assert_eq!(r.rung.len(), 1);
        assert!(!r.rung[0].answered);
        assert_eq!(r.rung[0].missed_reason, Some(EndReason::Busy));
        assert!(r.voicemail.is_none());
    }

    #[test]
    fn a_record_ending_in_voicemail_names_the_mailbox_of_the_rung_user() {
        let r = history_record(&record(false, EndReason::Voicemail)).unwrap();
        let vm = r.voicemail.unwrap();
        assert_eq!(vm.owner.extension.as_deref(), Some("1002"));
        assert_eq!(r.rung[0].missed_reason, None);
    }

    #[test]
    fn an_answered_record_misses_nobody() {
        let r = history_record(&record(true, EndReason::Normal)).unwrap();
        assert!(r.rung[0].answered);
        assert_eq!(r.end_reason, EndReason::Normal);
    }

    #[test]
    fn a_closing_record_without_times_is_no_history() {
        let mut ev = record(true, EndReason::Normal);
        ev.timing.started_at = None;
        assert!(history_record(&ev).is_none());
    }
}
