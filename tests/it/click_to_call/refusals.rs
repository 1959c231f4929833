//! What `/v1/calls` refuses, and how a dial that fails or may have gone through is reported.

use super::{Office, kazoo_ringing};
use crate::support::Reply;
use crate::support::token::bearer;
use ringhook::config::Backend;
use ringhook::domain::{CountryCode, EmailAddress};
use ringhook::storage::{NewTenant, NewUser};
use serde_json::json;
use std::time::Duration;

async fn office() -> Office {
    Office::open(Backend::Sqlite, |_| {}).await.unwrap()
}

#[tokio::test]
async fn a_number_that_is_not_one_is_refused_with_422() {
    let office = office().await;
    let token = office.token(&office.alice, "calls:write").await;
    let (status, problem, _) = office.place(&token, json!({"to": "555"})).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["code"], "invalid_number");
    assert!(
        problem["detail"].as_str().unwrap().contains("E.164"),
        "{problem}"
    );
    assert!(office.kazoo_api.requests().is_empty());
}

#[tokio::test]
async fn a_non_admin_cannot_place_a_call_from_another_users_phone() {
    let office = office().await;
    let token = office.token(&office.bob, "calls:write").await;
    let (status, problem, _) = office
        .place(
            &token,
            json!({"to": "+12125550199", "from_user_id": office.alice.as_str()}),
        )
        .await;
    assert_eq!(status, 403, "{problem}");
    assert_eq!(problem["code"], "forbidden");
    assert!(office.kazoo_api.requests().is_empty());
}

#[tokio::test]
async fn a_user_linked_to_no_dialing_phone_system_is_refused_with_422() {
    let office = office().await;
    let token = office.token(&office.uma, "calls:write").await;
    let (status, problem, _) = office.place(&token, json!({"to": "+12125550199"})).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["code"], "not_linked");
}

#[tokio::test]
async fn a_token_without_calls_write_cannot_place_calls() {
    let office = office().await;
    let token = office.token(&office.alice, "calls:read").await;
    let (status, problem, headers) = office.place(&token, json!({"to": "+12125550199"})).await;
    assert_eq!(status, 403, "{problem}");
    assert_eq!(problem["code"], "insufficient_scope");
    let challenge = headers["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("calls:write"), "{challenge}");
}

#[tokio::test]
async fn a_zoom_user_gets_422_with_a_launch_url() {
    let office = office().await;
    let token = office.token(&office.zed, "calls:write").await;
    let (status, problem, _) = office.place(&token, json!({"to": "+12125550199"})).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["code"], "not_supported");
    assert!(
        problem["detail"].as_str().unwrap().contains("Zoom"),
        "{problem}"
    );
    assert_eq!(problem["launch_url"], "zoomphonecall://+12125550199");
    assert_eq!(problem["tel_url"], "tel:+12125550199");
}

#[tokio::test]
async fn a_pbx_error_answers_502_and_the_call_fails_with_its_reason() {
    let office = office().await;
    let token = office.token(&office.alice, "calls:write").await;
    office.kazoo_api.reply_with([Reply::status(500)
        .with_header("content-type", "application/json")
        .with_body(r#"{"data": {"error_message": "DESTINATION_OUT_OF_ORDER"}, "error": "500", "message": "quickcall initiation failed", "status": "error"}"#)]);
    let (status, problem, _) = office.place(&token, json!({"to": "+12125550199"})).await;
    assert_eq!(status, 502, "{problem}");
    assert_eq!(problem["code"], "pbx_error");
    assert_eq!(problem["reason"], "DESTINATION_OUT_OF_ORDER");
    let (_, call) = office
        .show(&token, problem["call_id"].as_str().unwrap())
        .await;
    assert_eq!(call["status"], "failed");
    assert_eq!(call["reason"], "DESTINATION_OUT_OF_ORDER");
}

#[tokio::test]
async fn a_pbx_that_answers_too_late_is_not_dialed_again() {
    let office = Office::open(Backend::Sqlite, |s| s.click_to_call_timeout_seconds = 1)
        .await
        .unwrap();
    let token = office.token(&office.alice, "calls:write").await;
    office.kazoo_api.reply_with([
        kazoo_ringing().after(Duration::from_secs(3)),
        kazoo_ringing(),
    ]);
    let (status, problem, _) = office.place(&token, json!({"to": "+12125550199"})).await;
    assert_eq!(status, 504, "{problem}");
    assert_eq!(problem["code"], "pbx_timeout");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        office.kazoo_api.requests().len(),
        1,
        "the dial was sent again"
    );
    let (_, call) = office
        .show(&token, problem["call_id"].as_str().unwrap())
        .await;
    assert_eq!(call["status"], "failed");
    assert_eq!(
        call["reason"],
        "PBX did not answer in time; the call may still be placed"
    );
}

#[tokio::test]
async fn an_unreachable_pbx_answers_502_and_the_call_fails() {
    // Nothing listens on port 9 of loopback (discard): the connection is refused.
    let office = Office::open_with_kazoo_at(Backend::Sqlite, Some("http://127.0.0.1:9"), |_| {})
        .await
        .unwrap();
    let token = office.token(&office.alice, "calls:write").await;
    let (status, problem, _) = office.place(&token, json!({"to": "+12125550199"})).await;
    assert_eq!(status, 502, "{problem}");
    assert_eq!(problem["code"], "pbx_unreachable");
    let (_, call) = office
        .show(&token, problem["call_id"].as_str().unwrap())
        .await;
    assert_eq!(call["status"], "failed");
}

#[tokio::test]
async fn calls_of_another_user_or_tenant_are_not_found() {
    let office = office().await;
    let alice = office.token(&office.alice, "calls:read calls:write").await;
    office.kazoo_api.reply_with([kazoo_ringing()]);
    let (_, call, _) = office.place(&alice, json!({"to": "+12125550199"})).await;
    let id = call["id"].as_str().unwrap();

    let bob = office.token(&office.bob, "calls:read").await;
    assert_eq!(office.show(&bob, id).await.0, 404);

    let store = office.app.db.store.as_ref();
    let other = store
        .create_tenant(&NewTenant {
            name: "Other Co".into(),
            default_country: CountryCode::parse("US").unwrap(),
        })
        .await
        .unwrap()
        .id;
    let admin = store
        .create_user(&NewUser {
            tenant_id: other.clone(),
            email: EmailAddress::parse("admin@other.example").unwrap(),
            name: "Other Admin".into(),
            extension: None,
            number: None,
            is_admin: true,
            password_hash: None,
            links: vec![],
        })
        .await
        .unwrap()
        .id;
    let outsider = bearer(
        &office.app,
        &other,
        &admin,
        "calls:read calls:write tenant:admin",
    )
    .await;
    let (status, problem) = office.show(&outsider, id).await;
    assert_eq!(status, 404, "{problem}");
    assert_eq!(problem["code"], "not_found");

    // Alice is an admin of Acme, so she sees Bob's calls.
    office.kazoo_api.reply_with([kazoo_ringing()]);
    let bob_writer = office.token(&office.bob, "calls:write").await;
    let (_, bobs, _) = office
        .place(&bob_writer, json!({"to": "+12125550199"}))
        .await;
    assert_eq!(
        office.show(&alice, bobs["id"].as_str().unwrap()).await.0,
        200
    );
}

#[tokio::test]
async fn placing_too_many_calls_answers_429_with_retry_after() {
    let office = Office::open(Backend::Sqlite, |s| s.click_to_call_per_minute = 2)
        .await
        .unwrap();
    let token = office.token(&office.alice, "calls:write").await;
    office
        .kazoo_api
        .reply_with([kazoo_ringing(), kazoo_ringing()]);
    for _ in 0..2 {
        let (status, body, _) = office.place(&token, json!({"to": "+12125550199"})).await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, problem, headers) = office.place(&token, json!({"to": "+12125550199"})).await;
    assert_eq!(status, 429, "{problem}");
    assert_eq!(problem["code"], "rate_limited");
    let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=30).contains(&wait), "{wait}");
    assert_eq!(office.kazoo_api.requests().len(), 2);

    // Another user has their own allowance.
    let bob = office.token(&office.bob, "calls:write").await;
    assert_eq!(
        office.place(&bob, json!({"to": "+12125550199"})).await.0,
        201
    );
}

#[tokio::test]
async fn metrics_count_dials_by_pbx_and_outcome() {
    let office = office().await;
    let token = office.token(&office.alice, "calls:write").await;
    office.kazoo_api.reply_with([
        kazoo_ringing(),
        Reply::status(500).with_body(r#"{"message": "quickcall initiation failed"}"#),
    ]);
    for expected in [201, 502] {
        let (status, body, _) = office.place(&token, json!({"to": "+12125550199"})).await;
        assert_eq!(status, expected, "{body}");
    }
    let text = office.app.get("/metrics").await.text().await.unwrap();
    for line in [
        r#"ringhook_click_to_call_dials_total{outcome="placed",pbx="kazoo"} 1"#,
        r#"ringhook_click_to_call_dials_total{outcome="pbx_error",pbx="kazoo"} 1"#,
        r#"ringhook_click_to_call_pbx_seconds_count{pbx="kazoo"} 2"#,
    ] {
        assert!(text.contains(line), "{line} not in {text}");
    }
}
