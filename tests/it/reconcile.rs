//! Reconciliation (issue 13) against a fake Kazoo CDR API on a loopback port, on both
//! databases: calls whose webhooks were lost are recovered from history, never twice.

use crate::support::kazoo_history::{
    API_KEY, Fault, GREGORIAN, KazooHistory, answered_call, missed_call,
};
use crate::support::scenario::requests;
use crate::support::tenant::{AcmeTenant, SourceApis, acme_with};
use crate::support::token::bearer;
use crate::support::{TestApp, spawn_stepped_app};
use chrono::{DateTime, Utc};
use ringhook::config::Backend;
use ringhook::domain::WebUrl;
use ringhook::normalizer::{CallEvent, EventType, Origin};
use ringhook::reconcile::sweeper::Sweeper;
use ringhook::storage::PbxApi;
use secrecy::SecretString;

/// The fixture call's interaction and legs (`shared/fixtures/kazoo/inbound_answered`).
const INTERACTION: &str = "63884642400-3f2a1b9c";
const A_LEG: &str = "0c7f9a51-3e2b-4d8a-9f61-2b7c5e4d1a90@198.51.100.20";
const B_LEG: &str = "138e29bed3bd3c8040682524f0b9194d";
/// 2024-06-03T14:00:00Z in Gregorian seconds.
const START: i64 = 63_884_642_400;

fn at(gregorian: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(gregorian - GREGORIAN, 0).unwrap()
}

/// Half an hour after the fixture call: the default window (ending 10 min ago, 30 min long)
/// holds it.
fn sweep_time() -> DateTime<Utc> {
    at(START + 30 * 60)
}

struct Setup {
    app: TestApp,
    history: KazooHistory,
    acme: AcmeTenant,
}

async fn setup(backend: Backend) -> Option<Setup> {
    let app = spawn_stepped_app(backend, |_| {}).await?;
    let history = KazooHistory::start().await;
    let api = PbxApi {
        url: WebUrl::parse(&history.address).unwrap(),
        key: SecretString::from(API_KEY.to_owned()),
    };
    let apis = SourceApis {
        kazoo: Some(api),
        zoom: None,
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

    /// Posts the first `n` webhooks of the fixture call, as Kazoo sent them live.
    async fn live(&self, n: usize) {
        for request in requests(&self.acme.kazoo, "kazoo/inbound_answered")
            .iter()
            .take(n)
        {
            let answer = self.app.post_ingest(&self.acme.kazoo, request).await;
            assert_eq!(answer.status(), 200, "{}", request.file);
        }
    }
}

fn types(events: &[CallEvent]) -> Vec<&'static str> {
    events.iter().map(|e| e.event_type.as_str()).collect()
}

async fn a_call_whose_webhooks_were_all_lost_is_recovered_with_true_figures(backend: Backend) {
    let Some(s) = setup(backend).await else {
        return;
    };
    s.history
        .add(answered_call(INTERACTION, A_LEG, B_LEG, START));
    assert_eq!(s.sweeper().sweep(sweep_time()).await.unwrap(), 1);
    let events = s.events().await;
    assert_eq!(types(&events), ["call.ended"]);
    let ended = &events[0];
    assert_eq!(ended.origin, Origin::Reconciled);
    assert_eq!(ended.occurred_at, at(START + 49));
    assert_eq!(ended.call.started_at, Some(at(START)));
    assert_eq!(ended.call.answered_at, Some(at(START + 7)));
    assert_eq!(ended.call.ended_at, Some(at(START + 49)));
    assert_eq!(ended.call.ring_seconds, Some(7));
    assert_eq!(ended.call.talk_seconds, Some(42));
    assert_eq!(ended.call.duration_seconds, Some(49));
    assert_eq!(ended.call.source_call_id, INTERACTION);
    assert_eq!(ended.call.user.user_id.as_ref(), Some(&s.acme.alice));
    assert_eq!(
        ended.call.hangup_cause_raw.as_deref(),
        Some("NORMAL_CLEARING")
    );
    // The fake checked the API key; the window was asked in Gregorian seconds.
    let query = &s.history.queries()[0];
    assert_eq!(query["created_to"], (START + 20 * 60).to_string());
    assert_eq!(query["created_from"], (START - 10 * 60).to_string());
}

async fn a_call_whose_hang_up_was_lost_is_closed_with_the_records_end(backend: Backend) {
    let Some(s) = setup(backend).await else {
        return;
    };
    s.live(5).await; // created, answered, bridged; both destroys lost
    let before = s.events().await;
    assert_eq!(types(&before), ["call.ringing", "call.answered"]);
    s.history
        .add(answered_call(INTERACTION, A_LEG, B_LEG, START));
    s.sweeper().sweep(sweep_time()).await.unwrap();
    let events = s.events().await;
    assert_eq!(
        types(&events),
        ["call.ringing", "call.answered", "call.ended"]
    );
    let ended = &events[2];
    assert_eq!(ended.origin, Origin::Reconciled);
    assert_eq!(ended.call.id, before[0].call.id);
    assert_eq!(ended.call.ended_at, Some(at(START + 49)));
    assert_eq!(ended.call.talk_seconds, Some(42));
    assert_eq!(ended.call.duration_seconds, Some(49));
    assert_eq!(events[0].origin, Origin::Live);
}

async fn a_missed_call_known_only_from_history_is_bobs_miss(backend: Backend) {
    let Some(s) = setup(backend).await else {
        return;
    };
    s.history
        .add(missed_call("63884642500-aa11bb22", START + 100));
    s.sweeper().sweep(sweep_time()).await.unwrap();
    let events = s.events().await;
    assert_eq!(types(&events), ["call.missed", "call.ended"]);
    let missed = &events[0];
    assert_eq!(missed.call.user.user_id.as_ref(), Some(&s.acme.bob));
    assert_eq!(missed.occurred_at, at(START + 120));
    assert_eq!(missed.missed.as_ref().unwrap().ring_seconds, Some(20));
    assert!(events.iter().all(|e| e.origin == Origin::Reconciled));
}

async fn a_call_fully_seen_live_gets_no_new_trigger(backend: Backend) {
    let Some(s) = setup(backend).await else {
        return;
    };
    s.live(7).await;
    s.app
        .settle_all(Utc::now() + chrono::TimeDelta::minutes(1))
        .await;
    let before = s.events().await;
    assert_eq!(
        types(&before),
        ["call.ringing", "call.answered", "call.ended"]
    );
    s.history
        .add(answered_call(INTERACTION, A_LEG, B_LEG, START));
    s.sweeper().sweep(sweep_time()).await.unwrap();
    assert_eq!(s.events().await, before);
}

/// Kazoo's webhooks never carry recordings; the call record lists them (`media_recordings`).
/// A call seen whole live gets its recording from the sweep, once, and the audio streams from
/// Crossbar with the account's token.
async fn a_recording_in_the_record_of_a_call_seen_live_is_ready_once_and_streams(backend: Backend) {
    let Some(s) = setup(backend).await else {
        return;
    };
    s.live(7).await;
    s.app
        .settle_all(Utc::now() + chrono::TimeDelta::minutes(1))
        .await;
    let before = s.events().await;
    let mut legs = answered_call(INTERACTION, A_LEG, B_LEG, START);
    legs[1]["media_recordings"] = serde_json::json!(["rec-0a1b2c"]);
    s.history.add(legs);
    s.sweeper().sweep(sweep_time()).await.unwrap();
    s.sweeper().sweep(sweep_time()).await.unwrap();
    let (new, seen): (Vec<CallEvent>, Vec<CallEvent>) = s
        .events()
        .await
        .into_iter()
        .partition(|e| e.event_type == EventType::RecordingReady);
    assert_eq!(seen, before, "the figures seen live stay");
    assert_eq!(new.len(), 1, "one recording, however often swept");
    let ready = &new[0];
    assert_eq!(ready.origin, Origin::Reconciled);
    assert_eq!(ready.call.id, before[0].call.id);
    let recording = ready.recording.as_ref().unwrap();
    assert_eq!(recording.id, "rec-0a1b2c");
    let url = recording.media.url.as_str();
    assert!(!url.contains(&s.history.address), "{url}");
    let path = url
        .split_once("/v1/")
        .map(|(_, p)| format!("/v1/{p}"))
        .unwrap();
    let token = bearer(&s.app, &s.acme.tenant_id, &s.acme.alice, "calls:read").await;
    let got = s
        .app
        .client
        .get(s.app.url(&path))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.headers()["content-type"], "audio/mpeg");
    assert_eq!(got.text().await.unwrap(), "ID3-kazoo-recording-rec-0a1b2c");
}

async fn the_same_window_swept_twice_emits_nothing_new(backend: Backend) {
    let Some(s) = setup(backend).await else {
        return;
    };
    s.history
        .add(answered_call(INTERACTION, A_LEG, B_LEG, START));
    s.history
        .add(missed_call("63884642500-aa11bb22", START + 100));
    let sweeper = s.sweeper();
    sweeper.sweep(sweep_time()).await.unwrap();
    let first = s.events().await;
    assert_eq!(first.len(), 3);
    // The next sweep's window overlaps this one, so both calls are read again.
    let next = sweep_time() + chrono::TimeDelta::minutes(15);
    assert_eq!(sweeper.sweep(next).await.unwrap(), 1);
    assert_eq!(s.events().await, first);
    assert_eq!(s.history.queries().len(), 2);
    // Another process sharing the database is kept out by the sweep lease meanwhile.
    assert_eq!(s.sweeper().sweep(next).await.unwrap(), 0);
    assert_eq!(s.history.queries().len(), 2);
}

async fn a_late_webhook_after_reconciliation_emits_nothing_new(backend: Backend) {
    let Some(s) = setup(backend).await else {
        return;
    };
    s.history
        .add(answered_call(INTERACTION, A_LEG, B_LEG, START));
    s.sweeper().sweep(sweep_time()).await.unwrap();
    let recovered = s.events().await;
    s.live(7).await;
    s.app
        .settle_all(Utc::now() + chrono::TimeDelta::minutes(1))
        .await;
    assert_eq!(s.events().await, recovered);
}

async fn history_pages_are_read_through_a_429_and_a_500(backend: Backend) {
    let Some(s) = setup(backend).await else {
        return;
    };
    for n in 0..7 {
        s.history
            .add(missed_call(&format!("63884642500-{n:08x}"), START + n * 60));
    }
    s.history.cap_pages(3); // 14 legs: five pages, calls straddling their boundaries
    s.history
        .fail_next([Fault::TooMany { retry_after: 1 }, Fault::ServerError]);
    let started = std::time::Instant::now();
    s.sweeper().sweep(sweep_time()).await.unwrap();
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "Retry-After honoured"
    );
    let events = s.events().await;
    let ended = events.iter().filter(|e| e.event_type == EventType::Ended);
    assert_eq!(ended.count(), 7);
    let missed = events.iter().filter(|e| e.event_type == EventType::Missed);
    assert_eq!(missed.count(), 7);
    let keys: Vec<Option<String>> = s
        .history
        .queries()
        .iter()
        .map(|q| q.get("start_key").cloned())
        .collect();
    assert_eq!(keys[0], None);
    assert_eq!(keys[1].as_deref(), Some("3"));
    assert_eq!(keys.len(), 5);
}

async fn readyz_names_a_source_whose_history_reads_keep_failing(backend: Backend) {
    let Some(s) = setup(backend).await else {
        return;
    };
    s.history.fail_next((0..12).map(|_| Fault::ServerError));
    let sweeper = s.sweeper();
    for _ in 0..3 {
        sweeper.sweep(sweep_time()).await.unwrap();
    }
    let ready: serde_json::Value = s.app.get("/readyz").await.json().await.unwrap();
    let failing = &ready["history"][s.acme.kazoo.id.as_str()];
    assert_eq!(failing["consecutive_failures"], 3, "{ready}");
    assert!(
        failing["error"].as_str().unwrap().contains("500"),
        "{ready}"
    );
    assert!(!ready.to_string().contains(API_KEY));
    // The watermark did not move: the next sweep reads the same window again.
    s.history
        .add(answered_call(INTERACTION, A_LEG, B_LEG, START));
    sweeper.sweep(sweep_time()).await.unwrap();
    assert_eq!(types(&s.events().await), ["call.ended"]);
    let ready: serde_json::Value = s.app.get("/readyz").await.json().await.unwrap();
    assert!(ready.get("history").is_none(), "{ready}");
}

for_each_backend!(
    a_call_whose_webhooks_were_all_lost_is_recovered_with_true_figures,
    a_call_whose_hang_up_was_lost_is_closed_with_the_records_end,
    a_missed_call_known_only_from_history_is_bobs_miss,
    a_call_fully_seen_live_gets_no_new_trigger,
    a_recording_in_the_record_of_a_call_seen_live_is_ready_once_and_streams,
    the_same_window_swept_twice_emits_nothing_new,
    a_late_webhook_after_reconciliation_emits_nothing_new,
    history_pages_are_read_through_a_429_and_a_500,
    readyz_names_a_source_whose_history_reads_keep_failing,
);
