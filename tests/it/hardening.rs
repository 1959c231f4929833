//! Requests built to crash or poison the server: each is refused with a 4xx, stores nothing,
//! and the server keeps answering.

use crate::support::tenant::{AcmeTenant, KAZOO_TOKEN, ZOOM_SECRET, ZORIO_SECRET, acme};
use crate::support::{TestApp, spawn_app};
use ringhook::admin::simulate::{SimulatedRequest, signed_request};
use ringhook::domain::SourceKind;
use serde_json::{Value, json};

async fn sqlite_app() -> (TestApp, AcmeTenant) {
    let app = spawn_app().await;
    let acme = acme(app.db.store.as_ref()).await;
    (app, acme)
}

fn request(kind: SourceKind, body: Vec<u8>) -> SimulatedRequest {
    let secret = match kind {
        SourceKind::Kazoo => KAZOO_TOKEN,
        SourceKind::Zoom => ZOOM_SECRET,
        SourceKind::Zorio => ZORIO_SECRET,
        SourceKind::Asterisk | SourceKind::Freeswitch => panic!("socket sources take no webhooks"),
    };
    signed_request(kind, secret, body, chrono::Utc::now())
}

async fn assert_malformed_and_still_serving(
    app: &TestApp,
    acme: &AcmeTenant,
    kind: SourceKind,
    body: Vec<u8>,
    what: &str,
) {
    let response = app
        .post_ingest(acme.source(kind), &request(kind, body))
        .await;
    assert_eq!(response.status(), 400, "{what}");
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "malformed_event", "{what}: {problem}");
    assert_eq!(app.get("/healthz").await.status(), 200, "after {what}");
}

#[tokio::test]
async fn a_kazoo_form_body_nested_thousands_of_levels_deep_answers_400_and_the_server_stays_up() {
    let (app, acme) = sqlite_app().await;
    let deep_key = format!("a{}", "[b]".repeat(50_000));
    let body = format!("hook_event=channel_create&call_id=x&{deep_key}=1");
    let mut request = request(SourceKind::Kazoo, body.into_bytes());
    request
        .headers
        .retain(|(name, _)| !name.eq_ignore_ascii_case("content-type"));
    request.headers.push((
        "content-type".into(),
        "application/x-www-form-urlencoded".into(),
    ));
    let response = app.post_ingest(&acme.kazoo, &request).await;
    assert_eq!(response.status(), 400);
    assert_eq!(app.get("/healthz").await.status(), 200);
    assert!(app.events(&acme.tenant_id).await.is_empty());
}

/// A Kazoo `channel_destroy` with one field replaced.
fn kazoo_destroy(field: &str, value: Value) -> Vec<u8> {
    let mut body = json!({
        "hook_event": "channel_destroy",
        "call_id": "leg-extreme-1",
        "call_direction": "inbound",
        "timestamp": 63884642449_u64,
        "duration_seconds": 49,
        "billing_seconds": 42,
        "ringing_seconds": 7,
        "hangup_cause": "NORMAL_CLEARING",
    });
    body[field] = value;
    serde_json::to_vec(&body).unwrap()
}

#[tokio::test]
async fn extreme_kazoo_durations_and_timestamps_answer_400() {
    let (app, acme) = sqlite_app().await;
    let cases = [
        ("duration_seconds", json!(1e15)),
        ("duration_seconds", json!(-1e15)),
        ("billing_seconds", json!(1e15)),
        ("billing_seconds", json!(-1_000_000_000_000_000_i64)),
        ("ringing_seconds", json!("1000000000000000")),
        ("timestamp", json!(i64::MAX)),
        ("timestamp", json!(i64::MIN)),
        ("timestamp", json!(8_210_298_326_400_i64)),
        ("timestamp", json!(0)),
    ];
    for (field, value) in cases {
        let what = format!("kazoo {field} = {value}");
        let body = kazoo_destroy(field, value);
        assert_malformed_and_still_serving(&app, &acme, SourceKind::Kazoo, body, &what).await;
    }
    assert!(app.events(&acme.tenant_id).await.is_empty());
}

#[tokio::test]
async fn extreme_kazoo_values_in_form_bodies_answer_400() {
    let (app, acme) = sqlite_app().await;
    let body = "hook_event=channel_destroy&call_id=leg-form-1&timestamp=63884642449&duration_seconds=-1000000000000000";
    let mut request = request(SourceKind::Kazoo, body.as_bytes().to_vec());
    request.headers = vec![(
        "content-type".into(),
        "application/x-www-form-urlencoded".into(),
    )];
    assert_eq!(app.post_ingest(&acme.kazoo, &request).await.status(), 400);
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[tokio::test]
async fn extreme_zoom_and_zorio_times_and_durations_answer_400() {
    let (app, acme) = sqlite_app().await;
    let zoom_ringing = |ringing_start_time: &str, event_ts: Value| {
        serde_json::to_vec(&json!({
            "event": "phone.callee_ringing",
            "event_ts": event_ts,
            "payload": {"object": {
                "call_id": "7380000000000000001",
                "caller": {"phone_number": "+14155550123"},
                "callee": {"user_id": "u1", "extension_number": "1001"},
                "ringing_start_time": ringing_start_time,
            }},
        }))
        .unwrap()
    };
    let zoom_voicemail = serde_json::to_vec(&json!({
        "event": "phone.voicemail_received",
        "event_ts": 1717423249000_i64,
        "payload": {"object": {"id": "vm1", "call_id": "7380000000000000002", "duration": 1e15}},
    }))
    .unwrap();
    let zorio_hangup = |duration: Value, ended_at: &str| {
        serde_json::to_vec(&json!({
            "event": "pbx.call.hangup",
            "timestamp": "2024-06-03T14:00:49Z",
            "data": {"call_uuid": "5b2f8e1c-extreme", "extension": "1001",
                     "started_at": "2024-06-03T14:00:00Z", "ended_at": ended_at,
                     "duration": duration},
        }))
        .unwrap()
    };
    let cases = [
        (
            SourceKind::Zoom,
            zoom_ringing("2024-06-03T14:00:00Z", json!(i64::MAX)),
            "zoom event_ts i64::MAX",
        ),
        (
            SourceKind::Zoom,
            zoom_ringing("1969-12-31T23:59:59Z", json!(1717423249000_i64)),
            "zoom ringing_start_time before 1970",
        ),
        (
            SourceKind::Zoom,
            zoom_voicemail,
            "zoom voicemail duration 1e15",
        ),
        (
            SourceKind::Zorio,
            zorio_hangup(json!(1e15), "2024-06-03T14:00:49Z"),
            "zorio duration 1e15",
        ),
        (
            SourceKind::Zorio,
            zorio_hangup(json!(-5), "2024-06-03T14:00:49Z"),
            "zorio negative duration",
        ),
        (
            SourceKind::Zorio,
            zorio_hangup(json!(49), "1900-01-01T00:00:00Z"),
            "zorio ended_at in 1900",
        ),
    ];
    for (kind, body, what) in cases {
        assert_malformed_and_still_serving(&app, &acme, kind, body, what).await;
    }
    assert!(app.events(&acme.tenant_id).await.is_empty());
}
