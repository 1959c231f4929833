//! The call facts of issue 11 (line, hangup cause, missed reason, voicemail, recordings,
//! queue abandon reason, park outcome, transfer link, durations) from each source's fixture
//! scenarios, through the real `POST /ingest/{source}` on both backends, read back as the
//! JSON subscribers receive.

use crate::support::spawn_app_with;
use crate::support::tenant::acme;
use ringhook::config::Backend;
use ringhook::domain::SourceKind;
use serde_json::{Value, json};
use std::time::Duration;

/// `(event type, JSON pointer into that event, expected value)`.
type Fact = (&'static str, &'static str, Value);

struct Story {
    kind: SourceKind,
    scenario: &'static str,
    facts: fn() -> Vec<Fact>,
}

const DID: &str = "+16285550100";

fn media(content_type: &str) -> Value {
    json!({ "content_type": content_type })
}

const STORIES: &[Story] = &[
    Story {
        kind: SourceKind::Kazoo,
        scenario: "kazoo/inbound_answered",
        facts: || {
            vec![
                ("call.ringing", "/call/line/number", json!(DID)),
                ("call.ended", "/call/hangup_cause", json!("normal")),
                (
                    "call.ended",
                    "/call/hangup_cause_raw",
                    json!("NORMAL_CLEARING"),
                ),
                ("call.ended", "/call/ring_seconds", json!(7)),
                ("call.ended", "/call/talk_seconds", json!(42)),
                ("call.ended", "/call/duration_seconds", json!(49)),
            ]
        },
    },
    Story {
        kind: SourceKind::Kazoo,
        scenario: "kazoo/inbound_voicemail",
        facts: || {
            vec![
                (
                    "call.missed",
                    "/missed",
                    json!({"reason": "no_answer", "ring_seconds": 20}),
                ),
                (
                    "call.voicemail",
                    "/voicemail/box_id",
                    json!("220ad06ea76be98c9259cdbfee6bae11"),
                ),
                (
                    "call.voicemail",
                    "/voicemail/message_id",
                    json!("202406-09b2183cf6f76347435902822b5a4e80"),
                ),
                ("call.voicemail", "/voicemail/duration_seconds", json!(31)),
                ("call.voicemail", "/voicemail/media", media("audio/mpeg")),
                ("call.ended", "/call/line/number", json!(DID)),
                ("call.ended", "/call/ring_seconds", json!(21)),
                ("call.ended", "/call/talk_seconds", json!(0)),
                ("call.ended", "/call/duration_seconds", json!(58)),
                ("call.ended", "/call/hangup_cause", json!("normal")),
            ]
        },
    },
    Story {
        kind: SourceKind::Kazoo,
        scenario: "kazoo/quickcall_click_to_call",
        facts: || vec![("call.ended", "/call/line/number", json!(DID))],
    },
    Story {
        kind: SourceKind::Kazoo,
        scenario: "kazoo/park_retrieved",
        facts: || {
            vec![
                ("call.unparked", "/park/outcome", json!("retrieved")),
                ("call.ended", "/park/outcome", json!("retrieved")),
            ]
        },
    },
    Story {
        kind: SourceKind::Kazoo,
        scenario: "kazoo/park_abandoned",
        facts: || {
            vec![
                ("call.park_abandoned", "/park/outcome", json!("abandoned")),
                ("call.ended", "/park/outcome", json!("abandoned")),
            ]
        },
    },
    Story {
        kind: SourceKind::Kazoo,
        scenario: "kazoo/queue_abandoned",
        facts: || {
            vec![
                (
                    "call.queue_abandoned",
                    "/queue/abandon_reason",
                    json!("caller_hung_up"),
                ),
                (
                    "call.ended",
                    "/call/hangup_cause",
                    json!("caller_cancelled"),
                ),
                ("call.ended", "/call/talk_seconds", json!(0)),
            ]
        },
    },
    Story {
        kind: SourceKind::Zoom,
        scenario: "zoom/inbound_answered",
        facts: || {
            vec![
                ("call.answered", "/call/line/number", json!(DID)),
                ("call.ended", "/call/hangup_cause", json!("normal")),
                (
                    "call.ended",
                    "/call/hangup_cause_raw",
                    json!("Call connected"),
                ),
                ("call.ended", "/call/ring_seconds", json!(6)),
                ("call.ended", "/call/duration_seconds", json!(48)),
            ]
        },
    },
    Story {
        kind: SourceKind::Zoom,
        scenario: "zoom/outbound_answered",
        facts: || vec![("call.ringing", "/call/line/number", json!(DID))],
    },
    Story {
        kind: SourceKind::Zoom,
        scenario: "zoom/inbound_missed_voicemail",
        facts: || {
            vec![
                (
                    "call.missed",
                    "/missed",
                    json!({"reason": "no_answer", "ring_seconds": 20}),
                ),
                (
                    "call.voicemail",
                    "/voicemail/message_id",
                    json!("8b1f0c3e9d2a4b7c"),
                ),
                ("call.voicemail", "/voicemail/duration_seconds", json!(31)),
                ("call.voicemail", "/voicemail/media", media("audio/mpeg")),
            ]
        },
    },
    Story {
        kind: SourceKind::Zoom,
        scenario: "zoom/inbound_rejected",
        facts: || {
            vec![
                ("call.missed", "/missed/reason", json!("rejected")),
                ("call.ended", "/call/hangup_cause", json!("rejected")),
            ]
        },
    },
    Story {
        kind: SourceKind::Zoom,
        scenario: "zoom/warm_transfer",
        facts: || {
            vec![(
                "call.transferred",
                "/transfer/new_call_id",
                json!("7376154500011122299"),
            )]
        },
    },
    Story {
        kind: SourceKind::Zorio,
        scenario: "zorio/inbound_answered",
        facts: || {
            vec![
                ("call.ringing", "/call/line/number", json!(DID)),
                (
                    "call.recording_ready",
                    "/recording/id",
                    json!("5b2f8e1c-3d4a-4b6c-9e7f-0a1b2c3d4e5f"),
                ),
                (
                    "call.recording_ready",
                    "/recording/duration_seconds",
                    Value::Null,
                ),
                (
                    "call.recording_ready",
                    "/recording/media",
                    media("audio/mpeg"),
                ),
                ("call.ended", "/call/hangup_cause", json!("normal")),
                ("call.ended", "/call/ring_seconds", json!(7)),
                ("call.ended", "/call/duration_seconds", json!(49)),
            ]
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

async fn check(backend: Backend, story: &Story) {
    let Some(app) = spawn_app_with(backend, |s| s.call_settle_seconds = 0).await else {
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return;
    };
    let acme = acme(app.db.store.as_ref()).await;
    app.replay(acme.source(story.kind), story.scenario).await;
    let facts = (story.facts)();
    let mut types: Vec<&str> = facts.iter().map(|f| f.0).collect();
    types.dedup();
    for event_type in types {
        app.wait_for_event(&acme.tenant_id, event_type).await;
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    let events: Vec<Value> = app
        .events(&acme.tenant_id)
        .await
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .collect();
    for fact in facts {
        assert_fact(&events, &fact, story.scenario);
    }
}

#[tokio::test]
async fn each_source_reports_its_call_facts_through_http_on_sqlite() {
    for story in STORIES {
        check(Backend::Sqlite, story).await;
    }
}

#[tokio::test]
async fn each_source_reports_its_call_facts_through_http_on_postgres() {
    for story in STORIES {
        check(Backend::Postgres, story).await;
    }
}
