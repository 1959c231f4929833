//! Voicemail messages and recordings: a voicemail announced before its message waits for it
//! and goes out once; messages and recordings that arrive after `call.ended` still go out;
//! events point at ringhook's media route, never at the source's URL.

use chrono::{DateTime, TimeDelta, Utc};

use super::model::{CallEvent, EventType};
use super::scenarios_tests::directory;
use super::*;
use crate::domain::{SourceId, SourceKind, TenantId};
use crate::ingest::raw::keys;
use crate::ingest::{
    EndReason, LegRole, RawCallEvent, RawEventKind, RawHangup, RawLeg, RawMedia, RawParty,
    RawRecording, RawVoicemail,
};

const ALICE_ZOOM: &str = "u8Kd3fQ9R2eX1tLm6ZpW4A";
const SOURCE_URL: &str = "https://zoom.us/v2/phone/recording/download/abc";

fn t(secs: i64) -> DateTime<Utc> {
    "2024-06-03T14:10:00Z".parse::<DateTime<Utc>>().unwrap() + TimeDelta::seconds(secs)
}

fn event(kind: RawEventKind, dedupe: &str, at: i64) -> RawCallEvent {
    let mut e = RawCallEvent::new(SourceKind::Zoom, kind, "test");
    e.dedupe_key = dedupe.into();
    e.call_keys = vec![keys::call("c1")];
    e.occurred_at = Some(t(at));
    e.caller = RawParty {
        number: Some("+13125550188".into()),
        ..Default::default()
    };
    e.callee = RawParty {
        external_user_id: Some(ALICE_ZOOM.into()),
        ..Default::default()
    };
    e
}

fn leg(kind: RawEventKind, dedupe: &str, at: i64) -> RawCallEvent {
    let mut e = event(kind, dedupe, at);
    e.leg = Some(RawLeg {
        id: "c1/alice".into(),
        role: LegRole::Callee,
        other_leg: None,
        is_agent: false,
        click_to_call: false,
    });
    e
}

/// Alice's leg rang and ended because the caller went to her voicemail.
fn rang_into_voicemail() -> Vec<RawCallEvent> {
    let mut ended = leg(RawEventKind::LegEnded, "ended", 20);
    ended.hangup = Some(RawHangup {
        reason: EndReason::Voicemail,
        cause: Some("Voicemail".into()),
    });
    vec![leg(RawEventKind::LegCreated, "ringing", 0), ended]
}

fn message() -> RawCallEvent {
    let mut e = event(RawEventKind::Voicemail, "vm", 50);
    e.voicemail = Some(RawVoicemail {
        box_id: Some(ALICE_ZOOM.into()),
        message_id: Some("vm-1".into()),
        duration_seconds: Some(31),
        transcription: Some("Call me back".into()),
        media: Some(RawMedia {
            location: SOURCE_URL.into(),
            content_type: "audio/mpeg".into(),
        }),
    });
    e
}

fn recording() -> RawCallEvent {
    let mut e = event(RawEventKind::Recording, "rec", 3600);
    e.recording = Some(RawRecording {
        id: "rec-1".into(),
        duration_seconds: Some(42),
        media: RawMedia {
            location: SOURCE_URL.into(),
            content_type: "audio/mpeg".into(),
        },
    });
    e
}

/// Applies the events one by one, settling after those in `settle_after` (by index).
fn play(events: &[RawCallEvent], settle_after: &[usize]) -> (CallState, Vec<CallEvent>) {
    let dir = directory();
    let config = NormalizerConfig::default();
    let mut state = CallState::new(
        TenantId::parse("ten_acme").unwrap(),
        SourceId::parse("src_zoom").unwrap(),
        SourceKind::Zoom,
        &keys::call("c1"),
    );
    let mut out = Vec::new();
    let mut now = t(100);
    for (i, raw) in events.iter().enumerate() {
        let applied = apply(state, raw, &dir, &config, now);
        state = applied.state;
        out.extend(applied.events.into_iter().map(|e| e.event));
        if settle_after.contains(&i) {
            now += TimeDelta::seconds(60);
            let settled = settle(state, &config, now);
            state = settled.state;
            out.extend(settled.events.into_iter().map(|e| e.event));
        }
    }
    (state, out)
}

fn of_type(events: &[CallEvent], kind: EventType) -> Vec<&CallEvent> {
    events.iter().filter(|e| e.event_type == kind).collect()
}

#[test]
fn an_announced_voicemail_waits_for_its_message_and_goes_out_once_with_it() {
    let mut events = rang_into_voicemail();
    events.push(message());
    events.push(message());
    let (_, out) = play(&events, &[3]);
    let voicemails = of_type(&out, EventType::Voicemail);
    assert_eq!(voicemails.len(), 1, "{out:#?}");
    let vm = voicemails[0].voicemail.as_ref().unwrap();
    assert_eq!(vm.message_id.as_deref(), Some("vm-1"));
    assert_eq!(vm.transcription.as_deref(), Some("Call me back"));
    assert_eq!(
        voicemails[0].call.user.name.as_deref(),
        Some("Alice Nguyen")
    );
}

#[test]
fn an_announced_voicemail_whose_message_never_comes_goes_out_at_settle_and_never_again() {
    let mut events = rang_into_voicemail();
    events.push(message());
    // Settle after the leg ended: the message arrives only after the call ended.
    let (_, out) = play(&events, &[1]);
    let voicemails = of_type(&out, EventType::Voicemail);
    assert_eq!(voicemails.len(), 1, "{out:#?}");
    assert_eq!(voicemails[0].voicemail.as_ref().unwrap().message_id, None);
    assert_eq!(
        of_type(&out, EventType::Ended)[0].call.disposition,
        Some(super::model::Disposition::Voicemail)
    );
}

#[test]
fn a_recording_ready_after_the_call_ended_goes_out_once_through_ringhook_media() {
    let mut events = vec![
        leg(RawEventKind::LegCreated, "ringing", 0),
        leg(RawEventKind::LegAnswered, "answered", 5),
        leg(RawEventKind::LegEnded, "ended", 47),
    ];
    events.push(recording());
    events.push(recording());
    let (state, out) = play(&events, &[2]);
    let ready = of_type(&out, EventType::RecordingReady);
    assert_eq!(ready.len(), 1, "{out:#?}");
    let rec = ready[0].recording.as_ref().unwrap();
    assert_eq!((rec.id.as_str(), rec.duration_seconds), ("rec-1", Some(42)));
    let id = rec.media.url.rsplit('/').next().unwrap();
    assert_eq!(
        rec.media.url,
        format!("http://127.0.0.1:8080/v1/media/{id}")
    );
    assert!(id.starts_with("med_"));
    assert_eq!(state.media[id].location, SOURCE_URL);
    let wire = serde_json::to_string(&out).unwrap();
    assert!(
        !wire.contains(SOURCE_URL),
        "the source URL never reaches subscribers"
    );
    assert_eq!(ready[0].call.user.name.as_deref(), Some("Alice Nguyen"));
}

#[test]
fn a_late_event_other_than_a_message_or_recording_changes_nothing() {
    let events = vec![
        leg(RawEventKind::LegCreated, "ringing", 0),
        leg(RawEventKind::LegEnded, "ended", 20),
        leg(RawEventKind::LegAnswered, "late answer", 5),
    ];
    let (_, out) = play(&events, &[1]);
    assert!(of_type(&out, EventType::Answered).is_empty(), "{out:#?}");
}

#[test]
fn zoom_recording_completed_gives_one_recording_per_entry_for_its_call() {
    let body = serde_json::json!({
        "event": "phone.recording_completed", "event_ts": 1717423300000i64,
        "payload": {"account_id": "Xq3vR8kLTbq2mN5pW7yZ0a", "object": {"recordings": [
            {"id": "rec-a", "call_id": "111", "duration": 42, "download_url": SOURCE_URL,
             "date_time": "2024-06-03T14:00:07Z", "end_time": "2024-06-03T14:00:49Z"},
            {"id": "rec-b", "call_id": "222", "duration": 9, "download_url": SOURCE_URL}
        ]}}
    });
    let parsed = crate::ingest::zoom::parse("secret", body.to_string().as_bytes()).unwrap();
    let crate::ingest::Parsed::Events(events) = parsed else {
        panic!("not events: {parsed:?}")
    };
    let got: Vec<_> = events
        .iter()
        .map(|e| {
            let r = e.recording.as_ref().unwrap();
            (e.call_keys[0].as_str(), r.id.as_str(), r.duration_seconds)
        })
        .collect();
    assert_eq!(
        got,
        [
            ("call:111", "rec-a", Some(42)),
            ("call:222", "rec-b", Some(9))
        ]
    );
    assert_eq!(
        events[0].occurred_at,
        Some("2024-06-03T14:00:49Z".parse().unwrap())
    );
}
