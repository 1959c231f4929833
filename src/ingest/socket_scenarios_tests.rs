//! The recorded Asterisk (AMI) and FreeSWITCH (ESL) scenarios of `tests/data` yield the
//! expected triggers (`tests/data/README.md`), fed through the normalizer in stream order as
//! the connector feeds them, and again with every event delivered twice.

use chrono::{DateTime, Utc};
use std::path::PathBuf;

use super::RawCallEvent;
use super::asterisk::AmiTranslator;
use super::freeswitch;
use crate::domain::{CountryCode, SourceKind};
use crate::normalizer::StaticDirectory;
use crate::normalizer::model::{CallEvent, Disposition, HangupCause, ParkOutcome};
use crate::normalizer::test_scenarios::{self, ALICE, BOB, Expected, SUPPORT, ended, user};
use crate::pbx::ami_codec::AmiMessage;

fn data(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(path)
}

fn directory() -> StaticDirectory {
    StaticDirectory {
        default_country: CountryCode::default(),
        entries: vec![
            user(
                "usr_alice",
                "Alice Nguyen",
                "1001",
                Some("+16285550100"),
                &["PJSIP/1001"],
            ),
            user("usr_bob", "Bob Martin", "1002", None, &[]),
        ],
        queues: [
            ("support".into(), "Support".into()),
            ("support@acme.pbx.example.net".into(), "Support".into()),
        ]
        .into(),
    }
}

/// The JSON objects of a scenario folder, in file order.
fn objects(folder: &str, files: &[&str]) -> Vec<serde_json::Value> {
    let dir = data(folder);
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            files.is_empty() || files.iter().any(|f| name.starts_with(f))
        })
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
        .collect()
}

pub(crate) fn ami_events(folder: &str, files: &[&str]) -> Vec<RawCallEvent> {
    let mut translator = AmiTranslator::new();
    objects(folder, files)
        .iter()
        .flat_map(|o| translator.translate(&AmiMessage::from_json(o).unwrap()))
        .collect()
}

pub(crate) fn esl_events(folder: &str, files: &[&str]) -> Vec<RawCallEvent> {
    objects(folder, files)
        .iter()
        .flat_map(freeswitch::translate)
        .collect()
}

/// The events through the normalizer in stream order, as of a fixed time.
pub(crate) fn run(kind: SourceKind, raws: &[RawCallEvent]) -> Vec<CallEvent> {
    let now: DateTime<Utc> = "2026-12-02T18:00:00Z".parse().unwrap();
    test_scenarios::run(kind, raws, &directory(), now)
}

/// The triggers are exactly `expected`, in order.
pub(crate) fn check(events: &[CallEvent], expected: &[Expected]) {
    test_scenarios::check(events, expected, true);
}

/// Runs the events in order and doubled (a replayed event changes nothing).
pub(crate) fn scenario(
    kind: SourceKind,
    raws: Vec<RawCallEvent>,
    expected: &[Expected],
) -> Vec<CallEvent> {
    let events = run(kind, &raws);
    check(&events, expected);
    let doubled: Vec<_> = raws.iter().flat_map(|r| [r.clone(), r.clone()]).collect();
    check(&run(kind, &doubled), expected);
    events
}

#[test]
fn ami_inbound_answered_rings_answers_and_ends_on_the_last_hangup() {
    let events = scenario(
        SourceKind::Asterisk,
        ami_events("asterisk/ami_inbound_answered", &[]),
        &[
            ("call.ringing", ALICE, Some("2024-06-03T14:00:01.120001Z")),
            ("call.answered", ALICE, Some("2024-06-03T14:00:07.120007Z")),
            ("call.ended", ALICE, Some("2024-06-03T14:00:49.120049Z")),
        ],
    );
    let end = ended(&events);
    assert_eq!(end.call.source_call_id, "1717423200.101");
    assert_eq!(end.call.disposition, Some(Disposition::Answered));
    assert_eq!(end.call.talk_seconds, Some(42));
    assert_eq!(end.call.hangup_cause, Some(HangupCause::Normal));
    assert_eq!(
        end.call.hangup_cause_raw.as_deref(),
        Some("Normal Clearing")
    );
    assert_eq!(
        end.call.from.number.as_ref().map(|n| n.as_str()),
        Some("+14155550123")
    );
}

#[test]
fn ami_queue_answered_is_queued_rung_answered_by_the_agent_with_the_wait() {
    let events = scenario(
        SourceKind::Asterisk,
        ami_events("asterisk/ami_queue_answered", &[]),
        &[
            ("call.queued", SUPPORT, Some("2024-06-03T15:10:01.300001Z")),
            ("call.ringing", BOB, Some("2024-06-03T15:10:08.300008Z")),
            ("call.answered", BOB, Some("2024-06-03T15:10:13.300013Z")),
            (
                "call.queue_answered",
                BOB,
                Some("2024-06-03T15:10:13.300013Z"),
            ),
            ("call.ended", BOB, Some("2024-06-03T15:11:48.300108Z")),
        ],
    );
    let answered = &events[3];
    assert_eq!(answered.queue.as_ref().unwrap().wait_seconds, Some(12));
    let end = ended(&events);
    assert_eq!(end.call.disposition, Some(Disposition::Answered));
    assert_eq!(end.call.talk_seconds, Some(95));
}

#[test]
fn ami_queue_abandoned_is_not_a_missed_call_for_the_agent() {
    let events = scenario(
        SourceKind::Asterisk,
        ami_events("asterisk/ami_queue_abandoned", &[]),
        &[
            ("call.queued", SUPPORT, Some("2024-06-03T15:30:01.301201Z")),
            ("call.ringing", BOB, Some("2024-06-03T15:30:03.301203Z")),
            (
                "call.queue_abandoned",
                SUPPORT,
                Some("2024-06-03T15:30:42.301242Z"),
            ),
            ("call.ended", BOB, None),
        ],
    );
    assert_eq!(events[2].queue.as_ref().unwrap().wait_seconds, Some(41));
    assert_eq!(
        ended(&events).call.disposition,
        Some(Disposition::Abandoned)
    );
}

#[test]
fn ami_park_and_retrieve_names_the_parker_and_the_retriever() {
    let events = scenario(
        SourceKind::Asterisk,
        ami_events("asterisk/ami_park", &["01", "02"]),
        &[("call.parked", ALICE, None), ("call.unparked", BOB, None)],
    );
    let park = events[1].park.as_ref().unwrap();
    assert_eq!(park.slot, "701");
    assert_eq!(
        park.retrieved_by.as_ref().and_then(|p| p.name.as_deref()),
        BOB
    );
}

#[test]
fn ami_park_timeout_is_a_park_abandoned_for_the_parker_that_timed_out() {
    let events = scenario(
        SourceKind::Asterisk,
        ami_events("asterisk/ami_park", &["01", "03"]),
        &[
            ("call.parked", ALICE, None),
            ("call.park_abandoned", ALICE, None),
        ],
    );
    assert_eq!(events[0].park.as_ref().unwrap().outcome, None);
    let park = events[1].park.as_ref().unwrap();
    assert_eq!(park.slot, "701");
    assert_eq!(park.outcome, Some(ParkOutcome::TimedOut));
    assert!(
        events[1].summary.contains("in time"),
        "{}",
        events[1].summary
    );
}

#[test]
fn esl_inbound_answered_correlates_legs_by_channel_call_uuid() {
    let events = scenario(
        SourceKind::Freeswitch,
        esl_events("freeswitch/esl_inbound_answered", &[]),
        &[
            ("call.ringing", ALICE, Some("2024-06-03T14:00:01.002250Z")),
            ("call.answered", ALICE, Some("2024-06-03T14:00:07.004410Z")),
            ("call.ended", ALICE, Some("2024-06-03T14:00:49.009400Z")),
        ],
    );
    let end = ended(&events);
    assert_eq!(
        end.call.source_call_id,
        "3f1c9b6e-5a2d-4e8f-9b7a-1c2d3e4f5a6b"
    );
    assert_eq!(end.call.disposition, Some(Disposition::Answered));
    assert_eq!(end.call.talk_seconds, Some(42));
    assert_eq!(end.call.hangup_cause, Some(HangupCause::Normal));
    assert_eq!(
        end.call.hangup_cause_raw.as_deref(),
        Some("NORMAL_CLEARING")
    );
}

#[test]
fn esl_callcenter_answered_is_queued_offered_and_answered_by_the_agent() {
    let events = scenario(
        SourceKind::Freeswitch,
        esl_events("freeswitch/callcenter_answered", &[]),
        &[
            ("call.queued", SUPPORT, Some("2024-06-03T15:10:01.000500Z")),
            ("call.ringing", BOB, Some("2024-06-03T15:10:08.000120Z")),
            ("call.answered", BOB, Some("2024-06-03T15:10:13Z")),
            ("call.queue_answered", BOB, Some("2024-06-03T15:10:13Z")),
            ("call.ended", BOB, Some("2024-06-03T15:11:48.000700Z")),
        ],
    );
    assert_eq!(events[3].queue.as_ref().unwrap().wait_seconds, Some(12));
    assert_eq!(ended(&events).call.talk_seconds, Some(95));
}

#[test]
fn esl_callcenter_cancel_is_a_queue_abandon() {
    let events = scenario(
        SourceKind::Freeswitch,
        esl_events("freeswitch/callcenter_abandoned", &[]),
        &[
            ("call.queued", SUPPORT, Some("2024-06-03T15:30:01.000010Z")),
            (
                "call.queue_abandoned",
                SUPPORT,
                Some("2024-06-03T15:30:42.000040Z"),
            ),
            ("call.ended", SUPPORT, None),
        ],
    );
    assert_eq!(events[1].queue.as_ref().unwrap().wait_seconds, Some(41));
    assert_eq!(
        ended(&events).call.disposition,
        Some(Disposition::Abandoned)
    );
}

#[test]
fn esl_valet_parking_parks_and_retrieves() {
    let events = scenario(
        SourceKind::Freeswitch,
        esl_events("freeswitch/valet_parking", &["01", "02"]),
        &[
            ("call.parked", None, Some("2024-06-03T14:30:05Z")),
            ("call.unparked", None, Some("2024-06-03T14:30:40Z")),
        ],
    );
    assert_eq!(events[0].park.as_ref().unwrap().slot, "6001");
}

#[test]
fn esl_valet_exit_is_a_park_abandoned() {
    scenario(
        SourceKind::Freeswitch,
        esl_events("freeswitch/valet_parking", &["01", "03"]),
        &[
            ("call.parked", None, None),
            ("call.park_abandoned", None, Some("2024-06-03T14:31:00Z")),
        ],
    );
}
