//! `POST /ingest/{source_id}` end to end: fixtures in, triggers stored, the settle worker
//! (stepped by the test) ending calls.

use crate::support::scenario::{Played, play, requests};
use crate::support::tenant::{AcmeTenant, acme};
use crate::support::{TestApp, spawn_stepped_app};
use ringhook::config::Backend;
use ringhook::domain::SourceKind;
use ringhook::normalizer::CallEvent;

/// An app on SQLite whose workers the test steps, with the Acme tenant.
async fn sqlite_app() -> (TestApp, AcmeTenant) {
    let app = spawn_stepped_app(Backend::Sqlite, |s| s.call_settle_seconds = 0)
        .await
        .unwrap();
    let acme = acme(app.db.store.as_ref()).await;
    (app, acme)
}

fn of_type<'a>(events: &'a [CallEvent], t: &str) -> Vec<&'a CallEvent> {
    events
        .iter()
        .filter(|e| e.event_type.as_str() == t)
        .collect()
}

async fn a_kazoo_inbound_call_is_told_as_ringing_answered_and_ended(backend: Backend) {
    let Some(Played { acme, events, .. }) =
        play(backend, SourceKind::Kazoo, "kazoo/inbound_answered").await
    else {
        return;
    };

    let types: Vec<&str> = events.iter().rev().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, ["call.ringing", "call.answered", "call.ended"]);
    let answered = of_type(&events, "call.answered")[0];
    assert_eq!(answered.call.user.name.as_deref(), Some("Alice Nguyen"));
    assert_eq!(answered.call.user.user_id.as_ref(), Some(&acme.alice));
    assert_eq!(
        answered.call.from.number.as_ref().map(|n| n.as_str()),
        Some("+14155550123")
    );
    assert!(
        answered.summary.contains("ACME SUPPLY"),
        "{}",
        answered.summary
    );
    let ended = of_type(&events, "call.ended")[0];
    assert_eq!(ended.call.talk_seconds, Some(42));
    assert_eq!(ended.call.ring_seconds, Some(7));
    assert_eq!(ended.call.duration_seconds, Some(49));
    assert!(events.iter().all(|e| e.call.id == ended.call.id));
}

for_each_backend!(a_kazoo_inbound_call_is_told_as_ringing_answered_and_ended);

#[tokio::test]
async fn every_source_kind_turns_its_fixture_into_triggers() {
    let (app, acme) = sqlite_app().await;
    for (kind, scenario, expected) in [
        (
            SourceKind::Zoom,
            "zoom/inbound_missed_voicemail",
            "call.voicemail",
        ),
        (SourceKind::Zorio, "zorio/inbound_answered", "call.answered"),
        (
            SourceKind::Kazoo,
            "kazoo/queue_abandoned",
            "call.queue_abandoned",
        ),
    ] {
        app.replay(acme.source(kind), scenario).await;
        let events = app.settle_and_list(&acme.tenant_id).await;
        assert!(
            events.iter().any(|e| e.event_type.as_str() == expected),
            "{scenario}: no {expected}"
        );
    }
}

#[tokio::test]
async fn a_replayed_scenario_is_recognised_and_changes_nothing() {
    let (app, acme) = sqlite_app().await;
    app.replay(&acme.zorio, "zorio/inbound_answered").await;
    let before = app.settle_and_list(&acme.tenant_id).await;
    assert!(before.iter().any(|e| e.event_type.as_str() == "call.ended"));

    let answers = app.replay(&acme.zorio, "zorio/inbound_answered").await;
    assert!(
        answers
            .iter()
            .all(|a| a["duplicates"] == 1 && a["applied"] == 0),
        "{answers:?}"
    );
    assert_eq!(
        app.settle_and_list(&acme.tenant_id).await.len(),
        before.len()
    );
}

#[tokio::test]
async fn a_captured_zorio_body_sent_again_with_fresh_headers_is_a_duplicate() {
    let (app, acme) = sqlite_app().await;
    let genuine = requests(&acme.zorio, "zorio/inbound_answered").remove(0);
    let first: serde_json::Value = app
        .post_ingest(&acme.zorio, &genuine)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["applied"], 1, "{first}");

    // Zorio signs only the body: a captured one keeps its signature under a fresh timestamp
    // and a delivery id never seen before.
    let mut replay = genuine.clone();
    replay
        .headers
        .retain(|(name, _)| name != "x-zorio-timestamp" && name != "x-zorio-delivery");
    replay.headers.extend([
        (
            "x-zorio-timestamp".to_owned(),
            (chrono::Utc::now().timestamp() + 1).to_string(),
        ),
        (
            "x-zorio-delivery".to_owned(),
            "dlv-replayed-by-an-attacker".to_owned(),
        ),
    ]);
    let response = app.post_ingest(&acme.zorio, &replay).await;
    assert_eq!(response.status(), 200);
    let answer: serde_json::Value = response.json().await.unwrap();
    assert_eq!(answer["duplicates"], 1, "{answer}");
    assert_eq!(answer["applied"], 0, "{answer}");
}

#[tokio::test]
async fn a_tampered_zoom_request_is_refused_and_stores_nothing() {
    let (app, acme) = sqlite_app().await;
    let mut request = requests(&acme.zoom, "zoom/inbound_answered").remove(0);
    let genuine = request.clone();
    request.body[10] ^= 1;
    let response = app.post_ingest(&acme.zoom, &request).await;
    assert_eq!(response.status(), 401);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "unauthorized");
    assert!(app.events(&acme.tenant_id).await.is_empty());

    // The refusal left no receipt behind: the genuine request is applied, not a duplicate.
    let answer: serde_json::Value = app
        .post_ingest(&acme.zoom, &genuine)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answer["applied"], 1, "{answer}");
}

#[tokio::test]
async fn a_kazoo_request_with_a_wrong_or_missing_token_is_refused() {
    let (app, acme) = sqlite_app().await;
    let mut request = requests(&acme.kazoo, "kazoo/inbound_answered").remove(0);
    request.query_token = Some("wrong-token".into());
    assert_eq!(app.post_ingest(&acme.kazoo, &request).await.status(), 401);
    request.query_token = None;
    assert_eq!(app.post_ingest(&acme.kazoo, &request).await.status(), 401);
    assert!(app.events(&acme.tenant_id).await.is_empty());
}

#[tokio::test]
async fn a_stale_zorio_timestamp_is_refused() {
    let (app, acme) = sqlite_app().await;
    let mut request = requests(&acme.zorio, "zorio/inbound_answered").remove(0);
    for (name, value) in request.headers.iter_mut() {
        if name == "x-zorio-timestamp" {
            *value = (chrono::Utc::now().timestamp() - 301).to_string();
        }
    }
    assert_eq!(app.post_ingest(&acme.zorio, &request).await.status(), 401);
}

#[tokio::test]
async fn unknown_or_malformed_source_ids_answer_404() {
    let (app, acme) = sqlite_app().await;
    let request = requests(&acme.zorio, "zorio/inbound_answered").remove(0);
    for path in ["/ingest/src_01unknownsource", "/ingest/not-an-id"] {
        let response = app
            .client
            .post(app.url(path))
            .body(request.body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
}

#[tokio::test]
async fn a_body_that_is_not_json_answers_400() {
    let (app, acme) = sqlite_app().await;
    let mut request = requests(&acme.zorio, "zorio/inbound_answered").remove(0);
    request.body = b"{not json".to_vec();
    let signature = ringhook::ingest::signature::hmac_sha256_hex(
        crate::support::tenant::ZORIO_SECRET.as_bytes(),
        &request.body,
    )
    .unwrap();
    for (name, value) in request.headers.iter_mut() {
        if name == "x-zorio-signature" {
            *value = format!("sha256={signature}");
        }
    }
    let response = app.post_ingest(&acme.zorio, &request).await;
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "malformed_event");
}

#[tokio::test]
async fn zooms_url_validation_is_answered_with_the_encrypted_token() {
    let (app, acme) = sqlite_app().await;
    let body = br#"{"event":"endpoint.url_validation","payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680}"#;
    let mut request = requests(&acme.zoom, "zoom/inbound_answered").remove(0);
    request.body = body.to_vec();
    let ts = chrono::Utc::now().timestamp().to_string();
    let message = [b"v0:", ts.as_bytes(), b":", body.as_slice()].concat();
    let sig = ringhook::ingest::signature::hmac_sha256_hex(
        crate::support::tenant::ZOOM_SECRET.as_bytes(),
        &message,
    )
    .unwrap();
    request.headers = vec![
        ("content-type".into(), "application/json".into()),
        ("x-zm-request-timestamp".into(), ts),
        ("x-zm-signature".into(), format!("v0={sig}")),
    ];
    let response = app.post_ingest(&acme.zoom, &request).await;
    assert_eq!(response.status(), 200);
    let answer: serde_json::Value = response.json().await.unwrap();
    assert_eq!(answer["plainToken"], "qgg8vlvZRS6UYooatFL8Aw");
    let expected = ringhook::ingest::signature::hmac_sha256_hex(
        crate::support::tenant::ZOOM_SECRET.as_bytes(),
        b"qgg8vlvZRS6UYooatFL8Aw",
    )
    .unwrap();
    assert_eq!(answer["encryptedToken"], expected);
}

#[tokio::test]
async fn events_of_one_tenant_are_invisible_to_another() {
    let (app, acme) = sqlite_app().await;
    let other = acme_two(&app).await;
    app.replay(&acme.zorio, "zorio/inbound_answered").await;
    assert!(!app.settle_and_list(&acme.tenant_id).await.is_empty());
    assert!(app.events(&other).await.is_empty());
}

async fn acme_two(app: &TestApp) -> ringhook::domain::TenantId {
    crate::support::tenant::acme(app.db.store.as_ref())
        .await
        .tenant_id
}
