//! Every recorded Kazoo, Zoom and Zorio scenario of `shared/fixtures` yields the expected
//! triggers, in emitted order, in reversed and shuffled order, and with every event twice.

use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::path::PathBuf;

use super::model::{CallEvent, Direction, Disposition, EventType, HangupCause};
use super::test_scenarios::{ALICE, BOB, Expected, SUPPORT, check, ended, user};
use super::*;
use crate::domain::{CountryCode, SourceKind};
use crate::ingest::{Headers, Parsed, kazoo, zoom, zorio};

const ZOOM_SECRET: &str = "zm_test_secret_token_0123456789";

fn fixtures(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures")
        .join(path)
}

pub(super) fn directory() -> StaticDirectory {
    StaticDirectory {
        default_country: CountryCode::default(),
        entries: vec![
            user(
                "usr_alice",
                "Alice Nguyen",
                "1001",
                Some("+16285550100"),
                &["6384e2b2184bcbf58eccf10ca7a6563c", "u8Kd3fQ9R2eX1tLm6ZpW4A"],
            ),
            user(
                "usr_bob",
                "Bob Martin",
                "1002",
                None,
                &["9f9d51bc70ef21ca5c14f307980a29d8"],
            ),
        ],
        queues: [("a9d1cbf71942327e98b40cf5ef38a960".into(), "Support".into())].into(),
    }
}

/// One delivery of a scenario: the kind of source and the raw events it parses to.
fn load(kind: SourceKind, scenario: &str) -> Vec<Vec<crate::ingest::RawCallEvent>> {
    let dir = fixtures(scenario);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let now = "2024-06-03T18:00:00Z".parse().unwrap();
    files
        .into_iter()
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            !name.starts_with("00_") && !name.ends_with(".headers.json")
        })
        .map(|path| {
            let body = std::fs::read(&path).unwrap();
            let headers_path = path
                .to_string_lossy()
                .replace(".body.json", ".headers.json");
            let headers = match std::fs::read(&headers_path) {
                Ok(h) if headers_path != path.to_string_lossy() => {
                    let map: HashMap<String, serde_json::Value> =
                        serde_json::from_slice(&h).unwrap();
                    Headers::new(
                        map.into_iter()
                            .map(|(k, v)| (k, v.as_str().unwrap_or("").to_owned())),
                    )
                }
                _ => Headers::default(),
            };
            let parsed = match kind {
                SourceKind::Kazoo => kazoo::parse(&headers, &body, now),
                SourceKind::Zoom => zoom::parse(ZOOM_SECRET, &body),
                SourceKind::Zorio => zorio::parse(&headers, &body),
                SourceKind::Asterisk | SourceKind::Freeswitch => unreachable!("no webhooks"),
            };
            match parsed.unwrap_or_else(|e| panic!("{}: {e}", path.display())) {
                Parsed::Events(events) => events,
                _ => Vec::new(),
            }
        })
        .collect()
}

/// The scenario's deliveries through the normalizer, in the order given, as of a fixed time.
pub(super) fn run(
    kind: SourceKind,
    deliveries: &[Vec<crate::ingest::RawCallEvent>],
) -> Vec<CallEvent> {
    let now: DateTime<Utc> = "2024-06-03T18:00:00Z".parse().unwrap();
    test_scenarios::run(kind, deliveries.iter().flatten(), &directory(), now)
}

/// Runs a scenario in order, reversed, in shuffled orders and doubled, checking each run.
fn scenario(kind: SourceKind, path: &str, expected: &[Expected]) -> Vec<CallEvent> {
    let deliveries = load(kind, path);
    let in_order = run(kind, &deliveries);
    check(&in_order, expected, true);
    let mut reversed = deliveries.clone();
    reversed.reverse();
    check(&run(kind, &reversed), expected, false);
    let doubled: Vec<_> = deliveries
        .iter()
        .flat_map(|d| [d.clone(), d.clone()])
        .collect();
    check(&run(kind, &doubled), expected, true);
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..40 {
        let mut shuffled = deliveries.clone();
        for i in (1..shuffled.len()).rev() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            shuffled.swap(i, (seed % (i as u64 + 1)) as usize);
        }
        check(&run(kind, &shuffled), expected, false);
    }
    in_order
}

#[test]
fn kazoo_inbound_answered_rings_answers_and_ends_with_talk_time() {
    let events = scenario(
        SourceKind::Kazoo,
        "kazoo/inbound_answered",
        &[
            ("call.ringing", ALICE, Some("2024-06-03T14:00:01Z")),
            ("call.answered", ALICE, Some("2024-06-03T14:00:07Z")),
            ("call.ended", ALICE, Some("2024-06-03T14:00:49Z")),
        ],
    );
    let end = ended(&events);
    assert_eq!(end.call.source_call_id, "63884642400-3f2a1b9c");
    assert_eq!(end.call.direction, Direction::Inbound);
    assert_eq!(end.call.disposition, Some(Disposition::Answered));
    assert_eq!(
        (
            end.call.ring_seconds,
            end.call.talk_seconds,
            end.call.duration_seconds
        ),
        (Some(7), Some(42), Some(49))
    );
    assert_eq!(end.call.hangup_cause, Some(HangupCause::Normal));
    assert_eq!(
        end.call.hangup_cause_raw.as_deref(),
        Some("NORMAL_CLEARING")
    );
    assert_eq!(
        end.call.from.number.as_ref().unwrap().as_str(),
        "+14155550123"
    );
    assert_eq!(
        events[1].summary,
        "Inbound call from ACME SUPPLY (+14155550123) answered by Alice Nguyen (ext 1001)"
    );
    assert!(events.iter().all(|e| e.call.id == events[0].call.id));
}

#[test]
fn kazoo_voicemail_is_a_miss_then_voicemail_never_an_answer() {
    let events = scenario(
        SourceKind::Kazoo,
        "kazoo/inbound_voicemail",
        &[
            ("call.ringing", ALICE, Some("2024-06-03T14:10:01Z")),
            ("call.missed", ALICE, Some("2024-06-03T14:10:21Z")),
            ("call.voicemail", ALICE, Some("2024-06-03T14:10:58Z")),
            ("call.ended", ALICE, Some("2024-06-03T14:10:58Z")),
        ],
    );
    let end = ended(&events);
    assert_eq!(end.call.disposition, Some(Disposition::Voicemail));
    assert_eq!(end.call.talk_seconds, Some(0));
    assert_eq!(events[1].call.disposition, Some(Disposition::Missed));
}

#[test]
fn kazoo_click_to_call_is_one_outbound_call_carrying_the_request_id() {
    let events = scenario(
        SourceKind::Kazoo,
        "kazoo/quickcall_click_to_call",
        &[
            ("call.ringing", ALICE, Some("2024-06-03T16:00:05Z")),
            ("call.answered", ALICE, Some("2024-06-03T16:00:14Z")),
            ("call.ended", ALICE, Some("2024-06-03T16:01:29Z")),
        ],
    );
    for e in &events {
        assert_eq!(e.call.direction, Direction::Outbound);
        assert_eq!(e.call.to.number.as_ref().unwrap().as_str(), "+12125550199");
        assert_eq!(
            e.call.correlation.as_ref().unwrap().request_id,
            "c2c_01HZX9Q3T4M5N6P7R8S9"
        );
    }
    let end = ended(&events);
    assert_eq!(
        (
            end.call.ring_seconds,
            end.call.talk_seconds,
            end.call.duration_seconds
        ),
        (Some(14), Some(75), Some(89))
    );
}

#[test]
fn kazoo_park_retrieved_unparks_once_for_the_retriever_and_ends_when_the_caller_leaves() {
    let events = scenario(
        SourceKind::Kazoo,
        "kazoo/park_retrieved",
        &[
            ("call.parked", ALICE, None),
            ("call.unparked", BOB, None),
            ("call.ended", BOB, Some("2024-06-03T14:32:40Z")),
        ],
    );
    let unparked = events
        .iter()
        .find(|e| e.event_type == EventType::Unparked)
        .unwrap();
    assert_eq!(unparked.park.as_ref().unwrap().slot, "101");
    assert_eq!(ended(&events).call.disposition, Some(Disposition::Answered));
}

#[test]
fn kazoo_park_abandoned_reports_the_abandon_and_an_answered_call() {
    let events = scenario(
        SourceKind::Kazoo,
        "kazoo/park_abandoned",
        &[
            ("call.parked", ALICE, None),
            ("call.park_abandoned", ALICE, None),
            ("call.ended", ALICE, Some("2024-06-03T14:35:00Z")),
        ],
    );
    assert_eq!(ended(&events).call.disposition, Some(Disposition::Answered));
}

#[test]
fn kazoo_queue_answered_reports_wait_and_agent_talk_time_not_member_billing() {
    let events = scenario(
        SourceKind::Kazoo,
        "kazoo/queue_answered",
        &[
            ("call.queued", SUPPORT, Some("2024-06-03T15:10:01Z")),
            ("call.ringing", BOB, Some("2024-06-03T15:10:09Z")),
            ("call.answered", BOB, Some("2024-06-03T15:10:14Z")),
            ("call.queue_answered", BOB, Some("2024-06-03T15:10:14Z")),
            ("call.ended", BOB, Some("2024-06-03T15:11:49Z")),
        ],
    );
    let qa = events
        .iter()
        .find(|e| e.event_type == EventType::QueueAnswered)
        .unwrap();
    assert_eq!(qa.queue.as_ref().unwrap().wait_seconds, Some(13));
    assert_eq!(
        qa.queue.as_ref().unwrap().id.as_deref(),
        Some("a9d1cbf71942327e98b40cf5ef38a960")
    );
    for event in events.iter().filter(|e| e.queue.is_some()) {
        assert_eq!(
            event.queue.as_ref().unwrap().name.as_deref(),
            Some("Support"),
            "{:?} carries the queue's directory name",
            event.event_type
        );
        assert!(event.summary.contains("queue Support"), "{}", event.summary);
    }
    let end = ended(&events);
    assert_eq!(
        (end.call.talk_seconds, end.call.duration_seconds),
        (Some(95), Some(109))
    );
}

#[test]
fn kazoo_queue_abandoned_is_not_an_agent_miss_and_has_no_talk_time() {
    let events = scenario(
        SourceKind::Kazoo,
        "kazoo/queue_abandoned",
        &[
            ("call.queued", SUPPORT, Some("2024-06-03T15:30:01Z")),
            ("call.ringing", BOB, Some("2024-06-03T15:30:03Z")),
            (
                "call.queue_abandoned",
                SUPPORT,
                Some("2024-06-03T15:30:42Z"),
            ),
            ("call.ended", BOB, Some("2024-06-03T15:30:42Z")),
        ],
    );
    let qa = events
        .iter()
        .find(|e| e.event_type == EventType::QueueAbandoned)
        .unwrap();
    assert_eq!(qa.queue.as_ref().unwrap().wait_seconds, Some(41));
    let end = ended(&events);
    assert_eq!(end.call.disposition, Some(Disposition::Abandoned));
    assert_eq!(end.call.talk_seconds, Some(0));
}

#[test]
fn kazoo_blackhole_frames_ring_like_the_webhook_and_dedupe_with_it() {
    let ws = load(SourceKind::Kazoo, "kazoo/blackhole_websocket");
    let hook = load(SourceKind::Kazoo, "kazoo/inbound_answered");
    let events = run(SourceKind::Kazoo, &ws);
    check(
        &events,
        &[("call.ringing", ALICE, Some("2024-06-03T14:00:01Z"))],
        true,
    );
    let both: Vec<_> = ws.iter().chain(hook.iter()).cloned().collect();
    let events = run(SourceKind::Kazoo, &both);
    assert_eq!(
        events
            .iter()
            .filter(|e| e.event_type == EventType::Ringing)
            .count(),
        1
    );
}

#[test]
fn zoom_inbound_answered_rings_answers_and_ends() {
    let events = scenario(
        SourceKind::Zoom,
        "zoom/inbound_answered",
        &[
            ("call.ringing", ALICE, Some("2024-06-03T14:00:01Z")),
            ("call.answered", ALICE, Some("2024-06-03T14:00:07Z")),
            ("call.ended", ALICE, Some("2024-06-03T14:00:49Z")),
        ],
    );
    let end = ended(&events);
    assert_eq!(end.call.disposition, Some(Disposition::Answered));
    assert_eq!(
        (end.call.ring_seconds, end.call.talk_seconds),
        (Some(6), Some(42))
    );
}

#[test]
fn zoom_outbound_answered_is_outbound_from_alice() {
    let events = scenario(
        SourceKind::Zoom,
        "zoom/outbound_answered",
        &[
            ("call.ringing", ALICE, Some("2024-06-03T16:00:00Z")),
            ("call.answered", ALICE, Some("2024-06-03T16:00:09Z")),
            ("call.ended", ALICE, Some("2024-06-03T16:01:24Z")),
        ],
    );
    assert!(
        events
            .iter()
            .all(|e| e.call.direction == Direction::Outbound)
    );
    assert_eq!(ended(&events).call.talk_seconds, Some(75));
}

#[test]
fn zoom_missed_call_to_voicemail_is_missed_then_voicemail() {
    let events = scenario(
        SourceKind::Zoom,
        "zoom/inbound_missed_voicemail",
        &[
            ("call.ringing", ALICE, Some("2024-06-03T14:10:01Z")),
            ("call.missed", ALICE, Some("2024-06-03T14:10:21Z")),
            ("call.voicemail", ALICE, Some("2024-06-03T14:10:21Z")),
            ("call.ended", ALICE, None),
        ],
    );
    assert_eq!(
        ended(&events).call.disposition,
        Some(Disposition::Voicemail)
    );
}

#[test]
fn zoom_rejected_call_is_missed_as_rejected_without_an_answer() {
    let events = scenario(
        SourceKind::Zoom,
        "zoom/inbound_rejected",
        &[
            ("call.ringing", ALICE, Some("2024-06-03T14:20:00Z")),
            ("call.missed", ALICE, Some("2024-06-03T14:20:03Z")),
            ("call.ended", ALICE, Some("2024-06-03T14:20:03Z")),
        ],
    );
    assert_eq!(events[1].call.disposition, Some(Disposition::Rejected));
    assert_eq!(ended(&events).call.disposition, Some(Disposition::Rejected));
}

#[test]
fn zoom_hold_and_park_keep_the_call_open() {
    scenario(
        SourceKind::Zoom,
        "zoom/inbound_hold_park",
        &[
            ("call.answered", ALICE, Some("2024-06-03T14:30:05Z")),
            ("call.held", ALICE, Some("2024-06-03T14:31:30Z")),
            ("call.parked", ALICE, Some("2024-06-03T14:31:35Z")),
        ],
    );
}

#[test]
fn zoom_warm_transfer_is_one_attended_transfer_to_bob() {
    let events = scenario(
        SourceKind::Zoom,
        "zoom/warm_transfer",
        &[("call.transferred", ALICE, Some("2024-06-03T14:33:50Z"))],
    );
    let transfer = events[0].transfer.as_ref().unwrap();
    assert_eq!(transfer.to.name.as_deref(), Some("Bob Martin"));
}

#[test]
fn zorio_inbound_answered_rings_answers_and_ends_with_duration() {
    let events = scenario(
        SourceKind::Zorio,
        "zorio/inbound_answered",
        &[
            ("call.ringing", ALICE, Some("2024-06-03T14:00:01Z")),
            ("call.answered", ALICE, Some("2024-06-03T14:00:07Z")),
            ("call.recording_ready", ALICE, Some("2024-06-03T14:01:15Z")),
            ("call.ended", ALICE, Some("2024-06-03T14:00:49Z")),
        ],
    );
    let end = ended(&events);
    assert_eq!(
        (end.call.duration_seconds, end.call.talk_seconds),
        (Some(49), Some(42))
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Each scenario with the multiset of (type, user) it must yield in any arrival order.
    fn expected(path: &str) -> Vec<(&'static str, Option<&'static str>)> {
        match path {
            "kazoo/inbound_answered" | "zoom/inbound_answered" => vec![
                ("call.ringing", ALICE),
                ("call.answered", ALICE),
                ("call.ended", ALICE),
            ],
            "zorio/inbound_answered" => vec![
                ("call.ringing", ALICE),
                ("call.answered", ALICE),
                ("call.recording_ready", ALICE),
                ("call.ended", ALICE),
            ],
            "kazoo/inbound_voicemail" => vec![
                ("call.ringing", ALICE),
                ("call.missed", ALICE),
                ("call.voicemail", ALICE),
                ("call.ended", ALICE),
            ],
            "kazoo/queue_answered" => vec![
                ("call.queued", SUPPORT),
                ("call.ringing", BOB),
                ("call.answered", BOB),
                ("call.queue_answered", BOB),
                ("call.ended", BOB),
            ],
            "kazoo/park_abandoned" => vec![
                ("call.parked", ALICE),
                ("call.park_abandoned", ALICE),
                ("call.ended", ALICE),
            ],
            _ => unreachable!("no expectation for {path}"),
        }
    }

    const SCENARIOS: [(SourceKind, &str); 6] = [
        (SourceKind::Kazoo, "kazoo/inbound_answered"),
        (SourceKind::Kazoo, "kazoo/inbound_voicemail"),
        (SourceKind::Kazoo, "kazoo/queue_answered"),
        (SourceKind::Kazoo, "kazoo/park_abandoned"),
        (SourceKind::Zoom, "zoom/inbound_answered"),
        (SourceKind::Zorio, "zorio/inbound_answered"),
    ];

    /// A scenario, an arrival order of its deliveries, and which deliveries arrive twice.
    fn arrivals() -> impl Strategy<Value = (usize, Vec<usize>, Vec<bool>)> {
        (0..SCENARIOS.len()).prop_flat_map(|i| {
            let n = load(SCENARIOS[i].0, SCENARIOS[i].1).len();
            (
                Just(i),
                Just((0..n).collect::<Vec<_>>()).prop_shuffle(),
                prop::collection::vec(any::<bool>(), n),
            )
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn any_arrival_order_with_any_duplicates_yields_the_same_triggers(
            (index, order, twice) in arrivals()
        ) {
            let (kind, path) = SCENARIOS[index];
            let deliveries = load(kind, path);
            let mut arriving = Vec::new();
            for i in order {
                arriving.push(deliveries[i].clone());
                if twice[i] {
                    arriving.push(deliveries[i].clone());
                }
            }
            let want: Vec<Expected> = expected(path).into_iter().map(|(t, u)| (t, u, None)).collect();
            check(&run(kind, &arriving), &want, false);
        }
    }
}

/// `ringhook simulate --copies` and the benches replay copies of a scenario as distinct calls:
/// each copy must give the original's triggers (same types, same users) under its own call id.
#[test]
fn copies_of_a_scenario_are_distinct_calls_with_the_same_triggers() {
    use crate::admin::simulate::{ScenarioCopies, id_of_copy, load_scenario};
    const SECRET: &str = "copy-test-secret-0123456789";
    let now = Utc::now();
    let parse = |kind, requests: &[crate::admin::simulate::SimulatedRequest]| {
        requests
            .iter()
            .filter_map(|r| match r.verify_and_parse(kind, SECRET, now).unwrap() {
                Parsed::Events(events) => Some(events),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    let story = |events: &[&CallEvent]| {
        let mut story: Vec<(String, Option<String>)> = events
            .iter()
            .map(|e| (e.event_type.as_str().to_owned(), e.call.user.name.clone()))
            .collect();
        story.sort();
        story
    };
    for (kind, scenario) in [
        (SourceKind::Kazoo, "kazoo/inbound_answered"),
        (SourceKind::Kazoo, "kazoo/inbound_voicemail"),
        (SourceKind::Kazoo, "kazoo/queue_answered"),
        (SourceKind::Kazoo, "kazoo/queue_abandoned"),
        (SourceKind::Kazoo, "kazoo/quickcall_click_to_call"),
        (SourceKind::Zoom, "zoom/inbound_answered"),
        (SourceKind::Zoom, "zoom/outbound_answered"),
        (SourceKind::Zoom, "zoom/inbound_missed_voicemail"),
        (SourceKind::Zoom, "zoom/inbound_rejected"),
        (SourceKind::Zoom, "zoom/warm_transfer"),
        (SourceKind::Zorio, "zorio/inbound_answered"),
    ] {
        let template = load_scenario(&fixtures(scenario), kind, SECRET, now).unwrap();
        let copies = ScenarioCopies::new(template, kind, SECRET, now);
        let original = run(kind, &parse(kind, &copies.copy(0)));
        let original_story = story(&original.iter().collect::<Vec<_>>());
        let mut raw = parse(kind, &copies.copy(1));
        raw.extend(parse(kind, &copies.copy(2)));
        let replayed = run(kind, &raw);
        let mut calls: HashMap<&str, Vec<&CallEvent>> = HashMap::new();
        for event in &replayed {
            calls
                .entry(event.call.source_call_id.as_str())
                .or_default()
                .push(event);
        }
        assert_eq!(calls.len(), 2, "{scenario}: two copies, two calls");
        let original_id = original[0].call.source_call_id.as_str();
        for n in [1, 2] {
            let call_id = id_of_copy(original_id, n);
            let events = calls
                .get(call_id.as_str())
                .unwrap_or_else(|| panic!("{scenario}: no call {call_id}: {:?}", calls.keys()));
            assert_eq!(story(events), original_story, "{scenario} copy {n}");
        }
    }
}
