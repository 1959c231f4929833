//! Call records on the live channel as history (issue 13): a Zorio `pbx.cdr.created` of a call
//! ringhook never saw is recovered by the history rules (`call.ended`, and `call.missed` for
//! the extension it says rang unanswered), with `origin: "reconciled"` and the record's true
//! times; the call's live webhooks arriving afterwards emit nothing new. On both databases.

use crate::support::scenario::requests;
use crate::support::tenant::{AcmeTenant, acme};
use crate::support::{TestApp, spawn_stepped_app};
use chrono::{DateTime, Utc};
use ringhook::admin::simulate::signed_request;
use ringhook::config::Backend;
use ringhook::normalizer::{CallEvent, Origin};
use secrecy::ExposeSecret;
use serde_json::json;

struct Setup {
    app: TestApp,
    acme: AcmeTenant,
}

async fn setup(backend: Backend) -> Option<Setup> {
    let app = spawn_stepped_app(backend, |_| {}).await?;
    let acme = acme(app.db.store.as_ref()).await;
    Some(Setup { app, acme })
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn types(events: &[CallEvent]) -> Vec<&'static str> {
    events.iter().map(|e| e.event_type.as_str()).collect()
}

impl Setup {
    async fn post_zorio(&self, body: serde_json::Value) {
        let secret = self.acme.zorio.secret.expose_secret();
        let request = signed_request(
            self.acme.zorio.kind,
            secret,
            body.to_string().into_bytes(),
            Utc::now(),
        );
        let answer = self.app.post_ingest(&self.acme.zorio, &request).await;
        assert_eq!(answer.status(), 200);
    }

    async fn events(&self) -> Vec<CallEvent> {
        let mut events = self.app.settle_and_list(&self.acme.tenant_id).await;
        events.sort_by_key(|e| (e.occurred_at, e.event_type));
        events
    }
}

/// Bob's phone (1002) rang for 25 s; the caller gave up. Only the CDR reached ringhook.
fn missed_cdr() -> serde_json::Value {
    json!({"event": "pbx.cdr.created", "timestamp": "2024-06-03T15:00:30Z", "data": {
        "uuid": "7c1d2e3f-0000-4b6c-9e7f-0a1b2c3d4e5f", "direction": "inbound",
        "caller_number": "+14155550199", "destination_number": "+16285550100",
        "extension_number": "1002", "start_time": "2024-06-03T15:00:00Z", "answer_time": null,
        "end_time": "2024-06-03T15:00:25Z", "duration": 25, "billsec": 0,
        "result": "no_answer"}})
}

async fn a_zorio_cdr_of_a_call_never_seen_is_bobs_miss_with_true_times(backend: Backend) {
    let Some(s) = setup(backend).await else {
        return;
    };
    s.post_zorio(missed_cdr()).await;
    let events = s.events().await;
    let mut kinds = types(&events);
    kinds.sort_unstable();
    assert_eq!(kinds, ["call.ended", "call.missed"]);
    assert!(events.iter().all(|e| e.origin == Origin::Reconciled));
    let of_type = |t: &str| events.iter().find(|e| e.event_type.as_str() == t).unwrap();
    let missed = of_type("call.missed");
    assert_eq!(missed.call.user.user_id.as_ref(), Some(&s.acme.bob));
    assert_eq!(missed.missed.as_ref().unwrap().ring_seconds, Some(25));
    let ended = of_type("call.ended");
    assert_eq!(ended.occurred_at, at("2024-06-03T15:00:25Z"));
    assert_eq!(ended.call.started_at, Some(at("2024-06-03T15:00:00Z")));
    assert_eq!(ended.call.duration_seconds, Some(25));
    assert_eq!(ended.call.talk_seconds, Some(0));
    assert_eq!(
        ended.call.from.number.as_ref().unwrap().as_str(),
        "+14155550199"
    );
    // Zorio retries the same delivery: nothing twice.
    s.post_zorio(missed_cdr()).await;
    assert_eq!(s.events().await, events);
}

async fn a_zorio_cdr_of_a_call_never_seen_then_its_late_webhooks_emit_nothing_new(
    backend: Backend,
) {
    let Some(s) = setup(backend).await else {
        return;
    };
    let live = requests(&s.acme.zorio, "zorio/inbound_answered");
    let cdr = live.last().unwrap();
    assert!(cdr.file.contains("cdr.created"), "{}", cdr.file);
    assert_eq!(s.app.post_ingest(&s.acme.zorio, cdr).await.status(), 200);
    let recovered = s.events().await;
    assert_eq!(types(&recovered), ["call.ended", "call.recording_ready"]);
    let ended = &recovered[0];
    assert_eq!(ended.origin, Origin::Reconciled);
    assert_eq!(ended.call.answered_at, Some(at("2024-06-03T14:00:07Z")));
    assert_eq!(ended.call.ended_at, Some(at("2024-06-03T14:00:49Z")));
    assert_eq!(ended.call.talk_seconds, Some(42));
    assert_eq!(ended.call.user.user_id.as_ref(), Some(&s.acme.alice));
    for request in &live[..live.len() - 1] {
        let answer = s.app.post_ingest(&s.acme.zorio, request).await;
        assert_eq!(answer.status(), 200, "{}", request.file);
    }
    assert_eq!(s.events().await, recovered);
}

/// The CDR of a call seen live from its start still closes it as before, with the live
/// origin of its earlier triggers untouched.
async fn a_zorio_cdr_of_an_open_call_closes_it(backend: Backend) {
    let Some(s) = setup(backend).await else {
        return;
    };
    let live = requests(&s.acme.zorio, "zorio/inbound_answered");
    for request in [&live[0], &live[1], &live[3]] {
        assert_eq!(
            s.app.post_ingest(&s.acme.zorio, request).await.status(),
            200
        );
    }
    // Settled after the settle time, long before the stale timeout.
    let settled = s
        .app
        .settle_all(Utc::now() + chrono::TimeDelta::minutes(1))
        .await;
    assert_eq!(settled, 1);
    let events = s.events().await;
    assert_eq!(
        types(&events),
        [
            "call.ringing",
            "call.answered",
            "call.ended",
            "call.recording_ready"
        ]
    );
    assert_eq!(events[0].origin, Origin::Live);
    assert_eq!(events[2].call.ended_at, Some(at("2024-06-03T14:00:49Z")));
}

for_each_backend!(
    a_zorio_cdr_of_a_call_never_seen_is_bobs_miss_with_true_times,
    a_zorio_cdr_of_a_call_never_seen_then_its_late_webhooks_emit_nothing_new,
    a_zorio_cdr_of_an_open_call_closes_it,
);
