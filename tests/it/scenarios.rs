//! Every Kazoo, Zoom and Zorio fixture scenario through the real `POST /ingest/{source}`:
//! the exact triggers (type and the user they concern) and the key fields of the outcome.
//! The settle worker is stepped (`settle_all`), never waited for.

use crate::support::scenario::{Played, play};
use crate::support::tenant::acme;
use crate::support::{TestApp, spawn_stepped_app};
use ringhook::config::Backend;
use ringhook::domain::SourceKind;
use ringhook::normalizer::CallEvent;
use ringhook::storage::NamedQueue;

const ALICE: Option<&str> = Some("Alice Nguyen");
const BOB: Option<&str> = Some("Bob Martin");

/// What a scenario must produce, and the outcome `call.ended` must report (if it ends).
struct Expect {
    kind: SourceKind,
    scenario: &'static str,
    triggers: &'static [(&'static str, Option<&'static str>)],
    disposition: Option<&'static str>,
    talk_seconds: Option<i64>,
}

const SCENARIOS: &[Expect] = &[
    Expect {
        kind: SourceKind::Kazoo,
        scenario: "kazoo/inbound_answered",
        triggers: &[
            ("call.ringing", ALICE),
            ("call.answered", ALICE),
            ("call.ended", ALICE),
        ],
        disposition: Some("answered"),
        talk_seconds: Some(42),
    },
    Expect {
        kind: SourceKind::Kazoo,
        scenario: "kazoo/inbound_voicemail",
        triggers: &[
            ("call.ringing", ALICE),
            ("call.missed", ALICE),
            ("call.voicemail", ALICE),
            ("call.ended", ALICE),
        ],
        disposition: Some("voicemail"),
        talk_seconds: Some(0),
    },
    Expect {
        kind: SourceKind::Kazoo,
        scenario: "kazoo/quickcall_click_to_call",
        triggers: &[
            ("call.ringing", ALICE),
            ("call.answered", ALICE),
            ("call.ended", ALICE),
        ],
        disposition: Some("answered"),
        talk_seconds: Some(75),
    },
    Expect {
        kind: SourceKind::Kazoo,
        scenario: "kazoo/park_retrieved",
        triggers: &[
            ("call.parked", ALICE),
            ("call.unparked", BOB),
            ("call.ended", BOB),
        ],
        disposition: Some("answered"),
        talk_seconds: None,
    },
    Expect {
        kind: SourceKind::Kazoo,
        scenario: "kazoo/park_abandoned",
        triggers: &[
            ("call.parked", ALICE),
            ("call.park_abandoned", ALICE),
            ("call.ended", ALICE),
        ],
        disposition: Some("answered"),
        talk_seconds: None,
    },
    Expect {
        kind: SourceKind::Kazoo,
        scenario: "kazoo/queue_answered",
        triggers: &[
            ("call.queued", None),
            ("call.ringing", BOB),
            ("call.answered", BOB),
            ("call.queue_answered", BOB),
            ("call.ended", BOB),
        ],
        disposition: Some("answered"),
        talk_seconds: Some(95),
    },
    Expect {
        kind: SourceKind::Kazoo,
        scenario: "kazoo/queue_abandoned",
        triggers: &[
            ("call.queued", None),
            ("call.ringing", BOB),
            ("call.queue_abandoned", None),
            ("call.ended", BOB),
        ],
        disposition: Some("abandoned"),
        talk_seconds: Some(0),
    },
    Expect {
        kind: SourceKind::Zoom,
        scenario: "zoom/inbound_answered",
        triggers: &[
            ("call.ringing", ALICE),
            ("call.answered", ALICE),
            ("call.ended", ALICE),
        ],
        disposition: Some("answered"),
        talk_seconds: Some(42),
    },
    Expect {
        kind: SourceKind::Zoom,
        scenario: "zoom/outbound_answered",
        triggers: &[
            ("call.ringing", ALICE),
            ("call.answered", ALICE),
            ("call.ended", ALICE),
        ],
        disposition: Some("answered"),
        talk_seconds: Some(75),
    },
    Expect {
        kind: SourceKind::Zoom,
        scenario: "zoom/inbound_missed_voicemail",
        triggers: &[
            ("call.ringing", ALICE),
            ("call.missed", ALICE),
            ("call.voicemail", ALICE),
            ("call.ended", ALICE),
        ],
        disposition: Some("voicemail"),
        talk_seconds: Some(0),
    },
    Expect {
        kind: SourceKind::Zoom,
        scenario: "zoom/inbound_rejected",
        triggers: &[
            ("call.ringing", ALICE),
            ("call.missed", ALICE),
            ("call.ended", ALICE),
        ],
        disposition: Some("rejected"),
        talk_seconds: Some(0),
    },
    Expect {
        kind: SourceKind::Zoom,
        scenario: "zoom/inbound_hold_park",
        triggers: &[
            ("call.answered", ALICE),
            ("call.held", ALICE),
            ("call.parked", ALICE),
        ],
        disposition: None,
        talk_seconds: None,
    },
    Expect {
        kind: SourceKind::Zoom,
        scenario: "zoom/warm_transfer",
        triggers: &[("call.transferred", ALICE)],
        disposition: None,
        talk_seconds: None,
    },
    Expect {
        kind: SourceKind::Zorio,
        scenario: "zorio/inbound_answered",
        triggers: &[
            ("call.ringing", ALICE),
            ("call.answered", ALICE),
            ("call.ended", ALICE),
            ("call.recording_ready", ALICE),
        ],
        disposition: Some("answered"),
        talk_seconds: Some(42),
    },
];

fn summary(events: &[CallEvent]) -> Vec<(String, Option<String>)> {
    let mut got: Vec<_> = events
        .iter()
        .map(|e| (e.event_type.as_str().to_owned(), e.call.user.name.clone()))
        .collect();
    got.sort();
    got
}

/// An app on `backend` that settles a call as soon as it is due; its workers are stepped.
async fn stepped_app(backend: Backend) -> Option<TestApp> {
    spawn_stepped_app(backend, |s| s.call_settle_seconds = 0).await
}

fn check(played: &Played, expect: &Expect) {
    let Played { acme, events, .. } = played;
    let mut expected: Vec<(String, Option<String>)> = expect
        .triggers
        .iter()
        .map(|(t, u)| (t.to_string(), u.map(str::to_owned)))
        .collect();
    expected.sort();
    assert_eq!(summary(events), expected, "{}", expect.scenario);
    assert!(
        events.iter().all(|e| e.call.id == events[0].call.id),
        "{}: one call",
        expect.scenario
    );
    assert!(events.iter().all(|e| e.tenant_id == acme.tenant_id));
    assert!(events.iter().all(|e| !e.summary.is_empty()));
    if let Some(ended) = events
        .iter()
        .find(|e| e.event_type.as_str() == "call.ended")
    {
        assert_eq!(
            ended.call.disposition.map(|d| d.as_str()),
            expect.disposition,
            "{}",
            expect.scenario
        );
        if expect.talk_seconds.is_some() {
            assert_eq!(
                ended.call.talk_seconds, expect.talk_seconds,
                "{}",
                expect.scenario
            );
        }
    }
}

async fn every_fixture_scenario_yields_its_exact_triggers_through_http(backend: Backend) {
    for expect in SCENARIOS {
        // One app per scenario: each starts from an empty tenant and an empty settle queue.
        let Some(played) = play(backend, expect.kind, expect.scenario).await else {
            return;
        };
        check(&played, expect);
    }
}

for_each_backend!(every_fixture_scenario_yields_its_exact_triggers_through_http);

#[tokio::test]
async fn a_scenario_delivered_in_reverse_and_twice_yields_the_same_triggers() {
    let app = stepped_app(Backend::Sqlite).await.unwrap();
    let acme = acme(app.db.store.as_ref()).await;
    let mut requests = crate::support::scenario::requests(&acme.kazoo, "kazoo/queue_answered");
    requests.reverse();
    for request in requests.iter().chain(requests.iter()) {
        assert_eq!(app.post_ingest(&acme.kazoo, request).await.status(), 200);
    }
    let types: Vec<String> = summary(&app.settle_and_list(&acme.tenant_id).await)
        .into_iter()
        .map(|t| t.0)
        .collect();
    assert_eq!(
        types,
        [
            "call.answered",
            "call.ended",
            "call.queue_answered",
            "call.queued",
            "call.ringing"
        ]
    );
}

#[tokio::test]
async fn a_named_queue_gives_its_triggers_the_name() {
    let app = stepped_app(Backend::Sqlite).await.unwrap();
    let acme = acme(app.db.store.as_ref()).await;
    app.db
        .store
        .name_queue(&NamedQueue {
            source_id: acme.kazoo.id.clone(),
            external_id: "a9d1cbf71942327e98b40cf5ef38a960".into(),
            name: "Support".into(),
        })
        .await
        .unwrap();
    app.replay(&acme.kazoo, "kazoo/queue_answered").await;
    let events = app.events(&acme.tenant_id).await;
    for event_type in ["call.queued", "call.queue_answered"] {
        let event = events
            .iter()
            .find(|e| e.event_type.as_str() == event_type)
            .unwrap();
        let queue = event.queue.as_ref().unwrap();
        assert_eq!(queue.name.as_deref(), Some("Support"), "{event_type}");
        assert_eq!(
            queue.id.as_deref(),
            Some("a9d1cbf71942327e98b40cf5ef38a960")
        );
    }
}
