//! The call facts of issue 11 (line, hangup cause, missed reason, voicemail, recordings,
//! queue abandon reason, park outcome, transfer link, durations) from each source's fixture
//! scenarios, through the real `POST /ingest/{source}` on both backends, read back as the
//! JSON subscribers receive.

use crate::support::scenario::play;
use ringhook::config::Backend;
use ringhook::domain::SourceKind;
use serde_json::{Value, json};

/// `(event type, JSON pointer into that event, expected value)`.
type Fact = (&'static str, &'static str, Value);

struct Story {
    kind: SourceKind,
    scenario: &'static str,
    facts: fn() -> Vec<Fact>,
}

const DID: &str = "+16285550100";

/// The facts `event_type` must report, as `(JSON pointer, expected value)`.
fn of(event_type: &'static str, facts: &[(&'static str, Value)]) -> Vec<Fact> {
    facts
        .iter()
        .map(|(pointer, want)| (event_type, *pointer, want.clone()))
        .collect()
}

fn media(content_type: &str) -> Value {
    json!({ "content_type": content_type })
}

const STORIES: &[Story] = &[
    Story {
        kind: SourceKind::Kazoo,
        scenario: "kazoo/inbound_answered",
        facts: || {
            [
                of("call.ringing", &[("/call/line/number", json!(DID))]),
                of(
                    "call.ended",
                    &[
                        ("/call/hangup_cause", json!("normal")),
                        ("/call/hangup_cause_raw", json!("NORMAL_CLEARING")),
                        ("/call/ring_seconds", json!(7)),
                        ("/call/talk_seconds", json!(42)),
                        ("/call/duration_seconds", json!(49)),
                    ],
                ),
            ]
            .concat()
        },
    },
    Story {
        kind: SourceKind::Kazoo,
        scenario: "kazoo/inbound_voicemail",
        facts: || {
            [
                of(
                    "call.missed",
                    &[(
                        "/missed",
                        json!({"reason": "no_answer", "ring_seconds": 20}),
                    )],
                ),
                of(
                    "call.voicemail",
                    &[
                        (
                            "/voicemail/box_id",
                            json!("220ad06ea76be98c9259cdbfee6bae11"),
                        ),
                        (
                            "/voicemail/message_id",
                            json!("202406-09b2183cf6f76347435902822b5a4e80"),
                        ),
                        ("/voicemail/duration_seconds", json!(31)),
                        ("/voicemail/media", media("audio/mpeg")),
                    ],
                ),
                of(
                    "call.ended",
                    &[
                        ("/call/line/number", json!(DID)),
                        ("/call/ring_seconds", json!(21)),
                        ("/call/talk_seconds", json!(0)),
                        ("/call/duration_seconds", json!(58)),
                        ("/call/hangup_cause", json!("normal")),
                    ],
                ),
            ]
            .concat()
        },
    },
    Story {
        kind: SourceKind::Kazoo,
        scenario: "kazoo/quickcall_click_to_call",
        facts: || of("call.ended", &[("/call/line/number", json!(DID))]),
    },
    Story {
        kind: SourceKind::Kazoo,
        scenario: "kazoo/park_retrieved",
        facts: || {
            [
                of("call.unparked", &[("/park/outcome", json!("retrieved"))]),
                of("call.ended", &[("/park/outcome", json!("retrieved"))]),
            ]
            .concat()
        },
    },
    Story {
        kind: SourceKind::Kazoo,
        scenario: "kazoo/park_abandoned",
        facts: || {
            [
                of(
                    "call.park_abandoned",
                    &[("/park/outcome", json!("abandoned"))],
                ),
                of("call.ended", &[("/park/outcome", json!("abandoned"))]),
            ]
            .concat()
        },
    },
    Story {
        kind: SourceKind::Kazoo,
        scenario: "kazoo/queue_abandoned",
        facts: || {
            [
                of(
                    "call.queue_abandoned",
                    &[("/queue/abandon_reason", json!("caller_hung_up"))],
                ),
                of(
                    "call.ended",
                    &[
                        ("/call/hangup_cause", json!("caller_cancelled")),
                        ("/call/talk_seconds", json!(0)),
                    ],
                ),
            ]
            .concat()
        },
    },
    Story {
        kind: SourceKind::Zoom,
        scenario: "zoom/inbound_answered",
        facts: || {
            [
                of("call.answered", &[("/call/line/number", json!(DID))]),
                of(
                    "call.ended",
                    &[
                        ("/call/hangup_cause", json!("normal")),
                        ("/call/hangup_cause_raw", json!("Call connected")),
                        ("/call/ring_seconds", json!(6)),
                        ("/call/duration_seconds", json!(48)),
                    ],
                ),
            ]
            .concat()
        },
    },
    Story {
        kind: SourceKind::Zoom,
        scenario: "zoom/outbound_answered",
        facts: || of("call.ringing", &[("/call/line/number", json!(DID))]),
    },
    Story {
        kind: SourceKind::Zoom,
        scenario: "zoom/inbound_missed_voicemail",
        facts: || {
            [
                of(
                    "call.missed",
                    &[(
                        "/missed",
                        json!({"reason": "no_answer", "ring_seconds": 20}),
                    )],
                ),
                of(
                    "call.voicemail",
                    &[
                        ("/voicemail/message_id", json!("8b1f0c3e9d2a4b7c")),
                        ("/voicemail/duration_seconds", json!(31)),
                        ("/voicemail/media", media("audio/mpeg")),
                    ],
                ),
            ]
            .concat()
        },
    },
    Story {
        kind: SourceKind::Zoom,
        scenario: "zoom/inbound_rejected",
        facts: || {
            [
                of("call.missed", &[("/missed/reason", json!("rejected"))]),
                of("call.ended", &[("/call/hangup_cause", json!("rejected"))]),
            ]
            .concat()
        },
    },
    Story {
        kind: SourceKind::Zoom,
        scenario: "zoom/warm_transfer",
        facts: || {
            of(
                "call.transferred",
                &[("/transfer/new_call_id", json!("7376154500011122299"))],
            )
        },
    },
    Story {
        kind: SourceKind::Zorio,
        scenario: "zorio/inbound_answered",
        facts: || {
            [
                of("call.ringing", &[("/call/line/number", json!(DID))]),
                of(
                    "call.recording_ready",
                    &[
                        (
                            "/recording/id",
                            json!("5b2f8e1c-3d4a-4b6c-9e7f-0a1b2c3d4e5f"),
                        ),
                        ("/recording/duration_seconds", Value::Null),
                        ("/recording/media", media("audio/mpeg")),
                    ],
                ),
                of(
                    "call.ended",
                    &[
                        ("/call/hangup_cause", json!("normal")),
                        ("/call/ring_seconds", json!(7)),
                        ("/call/duration_seconds", json!(49)),
                    ],
                ),
            ]
            .concat()
        },
    },
];

/// Compares one fact; for media only the content type is fixed, and the URL must be
/// ringhook's own media route, never the source's.
fn assert_fact(events: &[Value], (event_type, pointer, want): &Fact, scenario: &str) {
    let event = events
        .iter()
        .find(|e| e["type"] == *event_type)
        .unwrap_or_else(|| panic!("{scenario}: no {event_type}"));
    let got = event
        .pointer(pointer)
        .unwrap_or_else(|| panic!("{scenario}: {event_type} has no {pointer}: {event}"));
    if let Some(content_type) = want.get("content_type") {
        assert_eq!(
            &got["content_type"], content_type,
            "{scenario} {event_type}"
        );
        let url = got["url"].as_str().unwrap_or_default();
        assert!(
            url.contains("/v1/media/med_"),
            "{scenario}: media served by ringhook, got {url}"
        );
        return;
    }
    assert_eq!(got, want, "{scenario}: {event_type} {pointer}");
}

async fn each_source_reports_its_call_facts_through_http(backend: Backend) {
    for story in STORIES {
        let Some(played) = play(backend, story.kind, story.scenario).await else {
            return;
        };
        let events: Vec<Value> = played
            .events
            .iter()
            .map(|e| serde_json::to_value(e).unwrap())
            .collect();
        for fact in (story.facts)() {
            assert_fact(&events, &fact, story.scenario);
        }
    }
}

for_each_backend!(each_source_reports_its_call_facts_through_http);
