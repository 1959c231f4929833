//! Reconciliation against a fake Zoom Phone history API (call history, call paths,
//! Server-to-Server OAuth) on a loopback port, on both databases: the same stories as the
//! Kazoo tests, with Zoom's paging (an expiring page token) and rate limits.

use crate::support::scenario::requests;
use crate::support::tenant::{AcmeTenant, SourceApis, acme_with};
use crate::support::zoom_history::{
    ACCESS_TOKEN, ACCOUNT_ID, CLIENT_ID, CLIENT_SECRET, Fault, ZoomHistory, answered_call,
    missed_to_voicemail,
};
use crate::support::{TestApp, spawn_stepped_app};
use chrono::{DateTime, TimeDelta, Utc};
use ringhook::config::Backend;
use ringhook::domain::WebUrl;
use ringhook::normalizer::{CallEvent, EventType, Origin};
use ringhook::reconcile::sweeper::Sweeper;
use ringhook::storage::ZoomApp;
use secrecy::SecretString;

/// The fixture calls' ids (`shared/fixtures/zoom/inbound_answered`, `…/inbound_missed_voicemail`).
const ANSWERED: &str = "7376154829301746182";
const MISSED: &str = "7376152011122233344";

fn at(s: &str) -> DateTime<Utc> {
    format!("2024-06-03T{s}Z").parse().unwrap()
}

/// Half an hour after the fixture calls: the first window (ending 10 min ago, 30 min long)
/// holds them.
fn sweep_time() -> DateTime<Utc> {
    at("14:30:00")
}

struct Setup {
    app: TestApp,
    history: ZoomHistory,
    acme: AcmeTenant,
}

async fn setup(backend: Backend) -> Option<Setup> {
    let app = spawn_stepped_app(backend, |_| {}).await?;
    let history = ZoomHistory::start().await;
    let apis = SourceApis {
        kazoo: None,
        zoom: Some(ZoomApp {
            account_id: ACCOUNT_ID.into(),
            client_id: CLIENT_ID.into(),
            client_secret: SecretString::from(CLIENT_SECRET.to_owned()),
            oauth_url: WebUrl::parse(&history.address).unwrap(),
        }),
    };
    let acme = acme_with(app.db.store.as_ref(), &apis).await;
    Some(Setup { app, history, acme })
}

impl Setup {
    fn sweeper(&self) -> Sweeper {
        ringhook::startup::sweeper(&self.app.state)
            .unwrap()
            .unwrap()
    }

    async fn events(&self) -> Vec<CallEvent> {
        let mut events = self.app.events(&self.acme.tenant_id).await;
        events.sort_by_key(|e| (e.occurred_at, e.event_type));
        events
    }

    /// Posts the first `n` webhooks of a fixture call, as Zoom sent them live.
    async fn live(&self, scenario: &str, n: usize) {
        for request in requests(&self.acme.zoom, scenario).iter().take(n) {
            let answer = self.app.post_ingest(&self.acme.zoom, request).await;
            assert_eq!(answer.status(), 200, "{}", request.file);
        }
    }

    async fn settle(&self) {
        self.app
            .settle_all(Utc::now() + TimeDelta::minutes(1))
            .await;
    }
}

fn types(events: &[CallEvent]) -> Vec<&'static str> {
    events.iter().map(|e| e.event_type.as_str()).collect()
}

async fn a_zoom_call_whose_webhooks_were_all_lost_is_recovered_with_true_figures(backend: Backend) {
    let Some(s) = setup(backend).await else {
        return;
    };
    s.history.add(answered_call(ANSWERED, at("14:00:01")));
    assert_eq!(s.sweeper().sweep(sweep_time()).await.unwrap(), 1);
    let events = s.events().await;
    assert_eq!(types(&events), ["call.ended"]);
    let ended = &events[0];
    assert_eq!(ended.origin, Origin::Reconciled);
    assert_eq!(ended.occurred_at, at("14:00:49"));
    assert_eq!(ended.call.started_at, Some(at("14:00:01")));
    assert_eq!(ended.call.answered_at, Some(at("14:00:07")));
    assert_eq!(ended.call.ended_at, Some(at("14:00:49")));
    assert_eq!(ended.call.talk_seconds, Some(42));
    assert_eq!(ended.call.duration_seconds, Some(48));
    assert_eq!(ended.call.source_call_id, ANSWERED);
    assert_eq!(ended.call.user.user_id.as_ref(), Some(&s.acme.alice));
    // The window was asked by end time, as Zoom's documented query; one token served it all.
    let query = &s.history.queries()[0];
    assert_eq!(query["from"], "2024-06-03T13:50:00Z");
    assert_eq!(query["to"], "2024-06-03T14:20:00Z");
    assert_eq!(query["time_type"], "end_time");
    assert_eq!(query["page_size"], "300");
    assert_eq!(s.history.tokens_issued(), 1);
    assert_eq!(s.history.details_read(), 1);
}

async fn a_zoom_call_whose_hang_up_was_lost_is_closed_with_the_records_end(backend: Backend) {
    let Some(s) = setup(backend).await else {
        return;
    };
    s.live("zoom/inbound_answered", 2).await; // ringing, answered; the end was lost
    let before = s.events().await;
    assert_eq!(types(&before), ["call.ringing", "call.answered"]);
    s.history.add(answered_call(ANSWERED, at("14:00:01")));
    s.sweeper().sweep(sweep_time()).await.unwrap();
    let events = s.events().await;
    assert_eq!(
        types(&events),
        ["call.ringing", "call.answered", "call.ended"]
    );
    let ended = &events[2];
    assert_eq!(ended.origin, Origin::Reconciled);
    assert_eq!(ended.call.id, before[0].call.id);
    assert_eq!(ended.call.ended_at, Some(at("14:00:49")));
    assert_eq!(ended.call.talk_seconds, Some(42));
    assert_eq!(events[0].origin, Origin::Live);
}

async fn a_zoom_missed_call_to_voicemail_known_only_from_history(backend: Backend) {
    let Some(s) = setup(backend).await else {
        return;
    };
    s.history.add(missed_to_voicemail(MISSED, at("14:10:01")));
    s.sweeper().sweep(sweep_time()).await.unwrap();
    let events = s.events().await;
    let mut kinds = types(&events);
    kinds.sort();
    assert_eq!(kinds, ["call.ended", "call.missed", "call.voicemail"]);
    assert!(events.iter().all(|e| e.origin == Origin::Reconciled));
    let missed = events
        .iter()
        .find(|e| e.event_type == EventType::Missed)
        .unwrap();
    assert_eq!(missed.call.user.user_id.as_ref(), Some(&s.acme.alice));
    assert_eq!(missed.occurred_at, at("14:10:21"));
    assert_eq!(missed.missed.as_ref().unwrap().ring_seconds, Some(20));
    let voicemail = events
        .iter()
        .find(|e| e.event_type == EventType::Voicemail)
        .unwrap();
    assert_eq!(voicemail.call.user.user_id.as_ref(), Some(&s.acme.alice));
    let ended = events
        .iter()
        .find(|e| e.event_type == EventType::Ended)
        .unwrap();
    assert_eq!(ended.call.ended_at, Some(at("14:10:52")));
    assert_eq!(ended.call.answered_at, None);
}

async fn a_recorded_zoom_call_known_only_from_history_brings_its_recording(backend: Backend) {
    let Some(s) = setup(backend).await else {
        return;
    };
    let (mut entry, elements) = answered_call(ANSWERED, at("14:00:01"));
    entry["recording_status"] = "recorded".into();
    s.history.add((entry, elements));
    // Another call's recording in the same minutes is not this call's.
    for (id, call_id) in [("rec-other", "7376150000000000001"), ("rec-42", ANSWERED)] {
        s.history.add_recording(serde_json::json!({
            "id": id, "call_id": call_id, "call_log_id": format!("log-{id}"),
            "date_time": "2024-06-03T14:00:07Z", "end_time": "2024-06-03T14:00:49Z",
            "duration": 42, "recording_type": "Automatic",
            "download_url": format!("https://zoom.us/v2/phone/recording/download/{id}"),
        }));
    }
    s.sweeper().sweep(sweep_time()).await.unwrap();
    let events = s.events().await;
    let mut kinds = types(&events);
    kinds.sort();
    assert_eq!(kinds, ["call.ended", "call.recording_ready"]);
    let ready = events
        .iter()
        .find(|e| e.event_type == EventType::RecordingReady)
        .unwrap();
    assert_eq!(ready.origin, Origin::Reconciled);
    assert_eq!(ready.call.user.user_id.as_ref(), Some(&s.acme.alice));
    let recording = ready.recording.as_ref().unwrap();
    assert_eq!(recording.id, "rec-42");
    assert_eq!(recording.duration_seconds, Some(42));
    assert!(
        recording.media.url.contains("/v1/media/") && !recording.media.url.contains("zoom.us"),
        "served by ringhook, the source's URL kept private: {}",
        recording.media.url
    );
    let asked = s.history.recording_queries();
    assert_eq!(asked.len(), 1, "one listing around the call's own minutes");
    assert_eq!(asked[0]["from"], "2024-06-03T13:59:01Z");
    assert_eq!(asked[0]["to"], "2024-06-03T14:01:49Z");
    // A second sweep over the same window emits nothing new.
    s.sweeper().sweep(sweep_time()).await.unwrap();
    assert_eq!(s.events().await.len(), 2);
}

async fn a_zoom_call_not_recorded_reads_no_recordings(backend: Backend) {
    let Some(s) = setup(backend).await else {
        return;
    };
    s.history.add(answered_call(ANSWERED, at("14:00:01")));
    s.sweeper().sweep(sweep_time()).await.unwrap();
    assert_eq!(types(&s.events().await), ["call.ended"]);
    assert!(s.history.recording_queries().is_empty());
}

async fn a_zoom_call_fully_seen_live_gets_no_new_trigger(backend: Backend) {
    let Some(s) = setup(backend).await else {
        return;
    };
    s.live("zoom/inbound_answered", 4).await;
    s.settle().await;
    let before = s.events().await;
    assert_eq!(
        types(&before),
        ["call.ringing", "call.answered", "call.ended"]
    );
    s.history.add(answered_call(ANSWERED, at("14:00:01")));
    s.sweeper().sweep(sweep_time()).await.unwrap();
    assert_eq!(s.events().await, before);
}

async fn a_zoom_window_swept_twice_and_a_late_webhook_emit_nothing_new(backend: Backend) {
    let Some(s) = setup(backend).await else {
        return;
    };
    s.history.add(answered_call(ANSWERED, at("14:00:01")));
    s.history.add(missed_to_voicemail(MISSED, at("14:10:01")));
    let sweeper = s.sweeper();
    sweeper.sweep(sweep_time()).await.unwrap();
    let first = s.events().await;
    assert_eq!(first.len(), 4);
    // The next window overlaps this one: both calls are read again, and change nothing.
    let next = sweep_time() + TimeDelta::minutes(15);
    assert_eq!(sweeper.sweep(next).await.unwrap(), 1);
    assert_eq!(s.history.queries().len(), 2);
    assert_eq!(s.events().await, first);
    // The webhooks Zoom retries late, after reconciliation, emit nothing either.
    s.live("zoom/inbound_answered", 4).await;
    s.live("zoom/inbound_missed_voicemail", 3).await;
    s.settle().await;
    assert_eq!(s.events().await, first);
}

async fn zoom_history_is_read_through_a_429_a_500_and_an_expired_page_token(backend: Backend) {
    let Some(s) = setup(backend).await else {
        return;
    };
    for n in 0..7 {
        let start = at("14:00:00") + TimeDelta::minutes(n);
        s.history
            .add(missed_to_voicemail(&format!("73761520111222{n:05}"), start));
    }
    s.history.cap_pages(3); // three pages: 3, 3, 1 calls
    s.history.fail_next([
        Fault::TooMany { retry_after: 1 },
        Fault::ServerError,
        Fault::TokenExpired,
    ]);
    let started = std::time::Instant::now();
    assert_eq!(s.sweeper().sweep(sweep_time()).await.unwrap(), 1);
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "Retry-After honoured"
    );
    let events = s.events().await;
    for kind in [EventType::Ended, EventType::Missed, EventType::Voicemail] {
        let count = events.iter().filter(|e| e.event_type == kind).count();
        assert_eq!(count, 7, "{kind:?} once per call");
    }
    // First page, then its token expired: the month was read again from the first page.
    let tokens: Vec<Option<String>> = s
        .history
        .queries()
        .iter()
        .map(|q| q.get("next_page_token").cloned())
        .collect();
    assert_eq!(tokens.len(), 4, "{tokens:?}");
    assert_eq!((tokens[0].is_none(), tokens[1].is_none()), (true, true));
    assert!(tokens[2].is_some() && tokens[3].is_some());
    assert_eq!(s.history.tokens_issued(), 1);
    let ready: serde_json::Value = s.app.get("/readyz").await.json().await.unwrap();
    assert!(ready.get("history").is_none(), "{ready}");
    assert!(!ready.to_string().contains(ACCESS_TOKEN));
}

for_each_backend!(
    a_zoom_call_whose_webhooks_were_all_lost_is_recovered_with_true_figures,
    a_zoom_call_whose_hang_up_was_lost_is_closed_with_the_records_end,
    a_zoom_missed_call_to_voicemail_known_only_from_history,
    a_recorded_zoom_call_known_only_from_history_brings_its_recording,
    a_zoom_call_not_recorded_reads_no_recordings,
    a_zoom_call_fully_seen_live_gets_no_new_trigger,
    a_zoom_window_swept_twice_and_a_late_webhook_emit_nothing_new,
    zoom_history_is_read_through_a_429_a_500_and_an_expired_page_token,
);
