//! The reconciliation rules on records built by hand: what each verdict emits, and that a
//! second pass or a live twin never doubles a trigger.

use chrono::{DateTime, Utc};

use super::record::{HistoryRecord, HistoryVoicemail, Rung};
use super::rules::{SourceRef, Verdict, raw_events, reconcile};
use crate::domain::{CountryCode, SourceId, SourceKind, TenantId, UserId};
use crate::ingest::{EndReason, RawMedia, RawParty, RawRecording, RawVoicemail};
use crate::normalizer::model::{Disposition, HangupCause};
use crate::normalizer::{
    self, CallState, DirectoryEntry, DirectoryUser, EventType, NormalizerConfig, Origin,
    StaticDirectory,
};

fn t(s: &str) -> DateTime<Utc> {
    format!("2026-12-01T{s}Z").parse().unwrap()
}

fn directory() -> StaticDirectory {
    let alice = DirectoryEntry {
        user: DirectoryUser {
            user_id: UserId::parse("usr_alice").unwrap(),
            name: "Alice Nguyen".into(),
            extension: Some("1001".into()),
            number: None,
        },
        external_ids: vec!["owner-alice".into()],
    };
    StaticDirectory {
        default_country: CountryCode::default(),
        entries: vec![alice],
        queues: Default::default(),
    }
}

fn config() -> NormalizerConfig {
    NormalizerConfig {
        settle: chrono::TimeDelta::seconds(5),
        stale_after: chrono::TimeDelta::hours(4),
        public_base: "https://ringhook.test".into(),
    }
}

fn alice() -> RawParty {
    RawParty {
        external_user_id: Some("owner-alice".into()),
        number: Some("1001".into()),
        ..Default::default()
    }
}

/// An outside caller rings Alice at 10:00:00; she does not answer; the caller leaves a
/// message at 10:00:20 and hangs up at 10:00:50.
fn missed_to_voicemail() -> HistoryRecord {
    HistoryRecord {
        call_key: "cid:63900000000-abcd".into(),
        other_keys: vec!["leg:a-leg".into()],
        started_at: t("10:00:00"),
        answered_at: None,
        ended_at: t("10:00:50"),
        from: RawParty {
            name: Some("ACME".into()),
            number: Some("+14155550123".into()),
            ..Default::default()
        },
        to: RawParty {
            number: Some("1001".into()),
            ..Default::default()
        },
        line: None,
        rung: vec![Rung {
            user: alice(),
            rang_at: Some(t("10:00:00")),
            until: Some(t("10:00:20")),
            answered: false,
            missed_reason: Some(EndReason::NoAnswer),
        }],
        voicemail: Some(HistoryVoicemail {
            owner: alice(),
            message: Some(RawVoicemail {
                message_id: Some("msg-1".into()),
                duration_seconds: Some(25),
                ..Default::default()
            }),
        }),
        recordings: Vec::new(),
        end_reason: EndReason::Normal,
        hangup_cause_raw: Some("NORMAL_CLEARING".into()),
    }
}

fn run(record: &HistoryRecord, known: Option<CallState>) -> (Verdict, Option<normalizer::Applied>) {
    let tenant = TenantId::parse("ten_acme").unwrap();
    let source = SourceId::parse("src_pbx").unwrap();
    let from = SourceRef {
        tenant_id: &tenant,
        source_id: &source,
        kind: SourceKind::Kazoo,
    };
    let out = reconcile(record, known, &from, &directory(), &config(), t("10:30:00"));
    (out.verdict, out.applied)
}

#[test]
fn a_call_never_seen_emits_its_after_the_fact_triggers_with_true_times() {
    let (verdict, applied) = run(&missed_to_voicemail(), None);
    assert_eq!(verdict, Verdict::Recovered);
    let applied = applied.unwrap();
    let types: Vec<EventType> = applied.events.iter().map(|e| e.event.event_type).collect();
    assert_eq!(
        types,
        [EventType::Missed, EventType::Voicemail, EventType::Ended]
    );
    assert!(
        applied
            .events
            .iter()
            .all(|e| e.event.origin == Origin::Reconciled)
    );
    let ended = &applied.events[2].event;
    assert_eq!(ended.occurred_at, t("10:00:50"));
    assert_eq!(ended.call.started_at, Some(t("10:00:00")));
    assert_eq!(ended.call.ended_at, Some(t("10:00:50")));
    assert_eq!(ended.call.duration_seconds, Some(50));
    assert_eq!(ended.call.talk_seconds, Some(0));
    assert_eq!(ended.call.disposition, Some(Disposition::Voicemail));
    assert_eq!(ended.call.hangup_cause, Some(HangupCause::Normal));
    assert_eq!(
        ended.call.hangup_cause_raw.as_deref(),
        Some("NORMAL_CLEARING")
    );
    let missed = &applied.events[0].event;
    assert_eq!(
        missed.call.user.user_id,
        Some(UserId::parse("usr_alice").unwrap())
    );
    assert_eq!(missed.occurred_at, t("10:00:20"));
    assert!(applied.state.is_ended());
}

#[test]
fn ringing_and_answer_moments_are_never_emitted_from_history() {
    let mut record = missed_to_voicemail();
    record.voicemail = None;
    record.rung[0].answered = true;
    record.answered_at = Some(t("10:00:05"));
    let (_, applied) = run(&record, None);
    let types: Vec<EventType> = applied
        .unwrap()
        .events
        .iter()
        .map(|e| e.event.event_type)
        .collect();
    assert_eq!(types, [EventType::Ended]);
}

#[test]
fn a_call_seen_ended_changes_nothing_whatever_the_record_says() {
    let (_, applied) = run(&missed_to_voicemail(), None);
    let ended = applied.unwrap().state;
    let (verdict, again) = run(&missed_to_voicemail(), Some(ended));
    assert_eq!(verdict, Verdict::AlreadyEnded);
    assert!(again.is_none());
}

#[test]
fn a_call_seen_ended_gets_the_recordings_its_record_names_once() {
    let (_, applied) = run(&missed_to_voicemail(), None);
    let ended = applied.unwrap().state;
    let mut record = missed_to_voicemail();
    record.recordings = vec![RawRecording {
        id: "rec-1".into(),
        duration_seconds: None,
        media: RawMedia {
            location: "accounts/acme/recordings/rec-1".into(),
            content_type: "audio/mpeg".into(),
        },
    }];
    let (verdict, again) = run(&record, Some(ended));
    assert_eq!(verdict, Verdict::AlreadyEnded);
    let again = again.expect("the recording is new");
    let types: Vec<EventType> = again.events.iter().map(|e| e.event.event_type).collect();
    assert_eq!(types, [EventType::RecordingReady]);
    let ready = &again.events[0].event;
    assert_eq!(ready.origin, Origin::Reconciled);
    assert_eq!(ready.recording.as_ref().unwrap().id, "rec-1");
    // The call stays as ringhook saw it end, and a second sweep adds nothing.
    assert!(again.state.is_ended());
    let (verdict, twice) = run(&record, Some(again.state));
    assert_eq!(verdict, Verdict::AlreadyEnded);
    assert!(twice.is_none());
}

#[test]
fn a_call_seen_open_is_closed_with_the_records_end_and_no_trigger_twice() {
    let record = missed_to_voicemail();
    // Live saw Alice's phone ring, then nothing more (the hang-up was lost).
    let ringing = raw_events(&record, SourceKind::Kazoo);
    let tenant = TenantId::parse("ten_acme").unwrap();
    let source = SourceId::parse("src_pbx").unwrap();
    let mut live = CallState::new(tenant, source, SourceKind::Kazoo, &record.call_key);
    let mut live_events = Vec::new();
    for raw in ringing.iter().take(2) {
        let mut raw = raw.clone();
        raw.dedupe_key = format!("live:{}", raw.dedupe_key);
        let applied = normalizer::apply(live, &raw, &directory(), &config(), t("10:00:01"));
        live = applied.state;
        live_events.extend(applied.events);
    }
    assert_eq!(live_events[0].event.event_type, EventType::Ringing);
    let (verdict, applied) = run(&record, Some(live));
    assert_eq!(verdict, Verdict::ClosedEarly);
    let events = applied.unwrap().events;
    let ended = events
        .iter()
        .find(|e| e.event.event_type == EventType::Ended)
        .unwrap();
    assert_eq!(ended.event.call.ended_at, Some(t("10:00:50")));
    assert!(
        events
            .iter()
            .all(|e| e.event.event_type != EventType::Ringing)
    );
}

#[test]
fn recovered_event_ids_derive_from_the_call_key_so_a_repeat_gives_the_same_ids() {
    let (_, first) = run(&missed_to_voicemail(), None);
    let (_, second) = run(&missed_to_voicemail(), None);
    let ids = |a: Option<normalizer::Applied>| -> Vec<String> {
        a.unwrap().events.into_iter().map(|e| e.event.id).collect()
    };
    assert_eq!(ids(first), ids(second));
}
