//! The happy paths: the exact PBX requests, and the request's status following the call.

use super::{ALICE_OWNER_ID, BOB_OWNER_ID, KAZOO_API_KEY, Office, ZORIO_API_KEY, kazoo_ringing};
use crate::support::Reply;
use crate::support::scenario::{fixtures, requests};
use chrono::{TimeDelta, Utc};
use ringhook::config::Backend;
use ringhook::storage::Source;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The request id recorded in the quickcall fixture's custom application variables.
const FIXTURE_REQUEST_ID: &str = "c2c_01HZX9Q3T4M5N6P7R8S9";

fn fixture_quickcall() -> Value {
    let raw = std::fs::read(fixtures(
        "kazoo/quickcall_click_to_call/00_quickcall_request.json",
    ))
    .unwrap();
    serde_json::from_slice(&raw).unwrap()
}

fn query_map(query: &str) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// Posts the scenario's files named in `files` (by prefix), with our id in place of the
/// fixture's request id.
async fn replay_legs(office: &Office, source: &Source, scenario: &str, files: &[&str], id: &str) {
    for mut request in requests(source, scenario) {
        let name = request
            .file
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        if !files.iter().any(|f| name.starts_with(f)) {
            continue;
        }
        let body = String::from_utf8(request.body.clone()).unwrap();
        request.body = body.replace(FIXTURE_REQUEST_ID, id).into_bytes();
        let response = office.app.post_ingest(source, &request).await;
        assert_eq!(response.status(), 200, "{}", request.file);
    }
}

/// The request as `GET /v1/calls/{id}` shows it once the settle worker has stepped past every
/// call due now (the held-back `call.ended` is what moves a request to `ended`).
async fn settled_request(office: &Office, token: &str, id: &str) -> Value {
    office
        .app
        .settle_all(Utc::now() + TimeDelta::seconds(1))
        .await;
    let (code, call) = office.show(token, id).await;
    assert_eq!(code, 200, "{call}");
    call
}

async fn a_kazoo_call_is_placed_and_follows_its_events(backend: Backend) {
    let Some(office) = Office::open(backend, |_| {}).await else {
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return;
    };
    let token = office.token(&office.alice, "calls:read calls:write").await;
    office.kazoo_api.reply_with([kazoo_ringing()]);

    let (status, call, _) = office.place(&token, json!({"to": "(212) 555-0199"})).await;
    assert_eq!(status, 201, "{call}");
    let id = call["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("c2c_"), "{id}");
    assert_eq!(call["status"], "ringing");
    assert_eq!(call["to"], "+12125550199");
    assert_eq!(call["from_user_id"], office.alice.as_str());
    assert!(call["created_at"].is_string());

    // Exactly the fixture's request, with our id as the custom application variable.
    let fixture = fixture_quickcall();
    let sent = office.kazoo_api.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, fixture["method"]);
    assert_eq!(sent[0].path, fixture["path"].as_str().unwrap());
    assert_eq!(sent[0].header("x-auth-token"), Some(KAZOO_API_KEY));
    let mut expected: BTreeMap<String, String> =
        serde_json::from_value(fixture["query"].clone()).unwrap();
    expected.insert("zap_request_id".into(), id.clone());
    assert_eq!(query_map(&sent[0].query), expected);

    // The legs come back carrying our id: answered after the far end picks up, then ended.
    let legs = "kazoo/quickcall_click_to_call";
    replay_legs(
        &office,
        &office.kazoo,
        legs,
        &["01", "02", "03", "04", "05"],
        &id,
    )
    .await;
    let answered = settled_request(&office, &token, &id).await;
    assert_eq!(answered["status"], "answered");
    assert_eq!(answered["to"], "+12125550199");
    replay_legs(&office, &office.kazoo, legs, &["06", "07"], &id).await;
    assert_eq!(
        settled_request(&office, &token, &id).await["status"],
        "ended"
    );

    let events = office.app.events(&office.tenant).await;
    for kind in ["call.ringing", "call.answered", "call.ended"] {
        let event = events
            .iter()
            .find(|e| e.event_type.as_str() == kind)
            .unwrap_or_else(|| panic!("no {kind}: {events:#?}"));
        let correlation = event.call.correlation.as_ref().expect("correlation");
        assert_eq!(correlation.request_id, id, "{kind}");
    }

    // A late replay of the ringing leg does not move the call back.
    replay_legs(&office, &office.kazoo, legs, &["03"], &id).await;
    let (_, call) = office.show(&token, &id).await;
    assert_eq!(call["status"], "ended");
}

for_each_backend!(a_kazoo_call_is_placed_and_follows_its_events);

#[tokio::test]
async fn an_admin_places_a_call_from_another_users_phone() {
    let office = Office::open(Backend::Sqlite, |_| {}).await.unwrap();
    let token = office.token(&office.alice, "calls:write").await;
    office.kazoo_api.reply_with([kazoo_ringing()]);
    let (status, call, _) = office
        .place(&token, json!({"to": "+12125550199", "from_user_id": office.bob.as_str(), "caller_id": "+1 628 555 0100"}))
        .await;
    assert_eq!(status, 201, "{call}");
    assert_eq!(call["from_user_id"], office.bob.as_str());
    let sent = office.kazoo_api.requests();
    assert!(
        sent[0]
            .path
            .contains(&format!("/users/{BOB_OWNER_ID}/quickcall/")),
        "{}",
        sent[0].path
    );
    assert!(!sent[0].path.contains(ALICE_OWNER_ID));
    assert_eq!(query_map(&sent[0].query)["cid-number"], "+16285550100");
}

#[tokio::test]
async fn a_zorio_call_is_placed_and_follows_its_call_uuid() {
    let office = Office::open(Backend::Sqlite, |_| {}).await.unwrap();
    let token = office.token(&office.carol, "calls:write").await;
    let call_uuid = "5b2f8e1c-3d4a-4b6c-9e7f-0a1b2c3d4e5f";
    office.zorio_api.reply_with([Reply::status(202)
        .with_header("content-type", "application/json")
        .with_body(&json!({"call_uuid": call_uuid}).to_string())]);

    let (status, call, _) = office
        .place(
            &token,
            json!({"to": "212-555-0199", "caller_id": "+16285550100"}),
        )
        .await;
    assert_eq!(status, 201, "{call}");
    assert_eq!(call["status"], "requested");
    let id = call["id"].as_str().unwrap().to_owned();

    let fixture: Value = serde_json::from_slice(
        &std::fs::read(fixtures("zorio/click_to_call/01_request.json")).unwrap(),
    )
    .unwrap();
    let sent = office.zorio_api.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, fixture["method"]);
    assert_eq!(sent[0].path, fixture["path"].as_str().unwrap());
    assert_eq!(
        sent[0].header("authorization"),
        Some(format!("Bearer {ZORIO_API_KEY}").as_str())
    );
    assert!(
        sent[0]
            .header("content-type")
            .unwrap_or_default()
            .starts_with("application/json")
    );
    assert_eq!(sent[0].json(), fixture["body"]);

    // Zorio has no custom variables: its webhooks name the call by the uuid it answered.
    office
        .app
        .replay(&office.zorio, "zorio/inbound_answered")
        .await;
    assert_eq!(
        settled_request(&office, &token, &id).await["status"],
        "ended"
    );
}
