//! The bearer guard on `/v1/*`, revocation taking effect, introspection and maintenance.

use super::fixture::*;
use actix_web::{App, HttpResponse, test, web};
use ringhook::config::Backend;
use ringhook::error::ApiError;
use ringhook::oauth::{Authenticated, Scope, maintenance};
use serde_json::Value;

fn challenge(response: &reqwest::Response) -> String {
    response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn no_token_is_a_401_with_a_bare_bearer_challenge() {
    let f = fixture().await;
    let response = f.app.get("/v1/me").await;
    assert_eq!(response.status(), 401);
    let c = challenge(&response);
    assert!(c.starts_with("Bearer") && !c.contains("error="), "{c}");
}

#[tokio::test]
async fn a_token_in_the_query_string_is_not_accepted() {
    let f = fixture().await;
    let tokens = f.tokens_for("alice@acme.example", "calls:read").await;
    let path = format!(
        "/v1/me?access_token={}",
        tokens["access_token"].as_str().unwrap()
    );
    assert_eq!(f.app.get(&path).await.status(), 401);
}

#[tokio::test]
async fn a_malformed_or_forged_token_is_a_401_invalid_token() {
    let f = fixture().await;
    let tokens = f.tokens_for("alice@acme.example", "calls:read").await;
    let real = tokens["access_token"].as_str().unwrap();
    let forged = format!("{}x", &real[..real.len() - 1]);
    for token in ["garbage", forged.as_str()] {
        let response = f.me(token).await;
        assert_eq!(response.status(), 401);
        assert!(challenge(&response).contains("error=\"invalid_token\""));
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "invalid_token");
    }
}

#[tokio::test]
async fn an_expired_token_is_a_401_invalid_token() {
    let f = fixture_on(Backend::Sqlite, |s| s.oauth_access_token_seconds = 1)
        .await
        .unwrap();
    let tokens = f.tokens_for("alice@acme.example", "calls:read").await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let response = f.me(tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(response.status(), 401);
    assert!(challenge(&response).contains("invalid_token"));
}

#[tokio::test]
async fn a_revoked_access_token_fails_on_the_next_request_and_only_it() {
    let f = fixture().await;
    let first = f.tokens_for("alice@acme.example", "calls:read").await;
    let access = first["access_token"].as_str().unwrap();
    assert_eq!(f.me(access).await.status(), 200);
    let refreshed: Value = f
        .refresh(first["refresh_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    let revoke = f.basic_post("/oauth/revoke", &[("token", access)]).await;
    assert_eq!(revoke.status(), 200);
    assert_eq!(f.me(access).await.status(), 401);
    assert_eq!(
        f.me(refreshed["access_token"].as_str().unwrap())
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn revoking_an_unknown_token_answers_200() {
    let f = fixture().await;
    assert_eq!(
        f.basic_post("/oauth/revoke", &[("token", "nothing")])
            .await
            .status(),
        200
    );
    let unauthenticated = f
        .app
        .client
        .post(f.app.url("/oauth/revoke"))
        .form(&[("token", "nothing")])
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);
}

#[tokio::test]
async fn a_grant_revoked_elsewhere_takes_effect_within_the_cache_time() {
    let f = fixture_on(Backend::Sqlite, |s| s.oauth_status_cache_seconds = 1)
        .await
        .unwrap();
    let tokens = f.tokens_for("alice@acme.example", "calls:read").await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(f.me(access).await.status(), 200);
    let grant = f
        .app
        .db
        .store
        .grants_of_user(&f.alice.id)
        .await
        .unwrap()
        .remove(0);
    // As another instance (or `ringhook grant revoke`) would: straight in the database.
    f.app
        .db
        .store
        .revoke_grant(&grant.id, chrono::Utc::now())
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(f.me(access).await.status(), 401);
}

#[tokio::test]
async fn a_token_of_one_tenant_only_ever_sees_its_own_tenant() {
    let f = fixture().await;
    let acme = f.tokens_for("alice@acme.example", "calls:read").await;
    let (code, verifier) = {
        let (verifier, challenge) = pkce_pair();
        let pairs = f.authorize_pairs(&challenge, &[("scope", "calls:read")]);
        let response = f
            .consent(
                &mut Browser::default(),
                &pairs,
                Some(("alice@acme.example", "another password")),
                "allow",
            )
            .await;
        (
            param(&location_params(&response), "code")
                .unwrap()
                .to_owned(),
            verifier,
        )
    };
    let other: Value = f.exchange(&code, &verifier).await.json().await.unwrap();
    let acme_me: Value = f
        .me(acme["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    let other_me: Value = f
        .me(other["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(acme_me["tenant"]["id"], f.tenant.id.as_str());
    assert_eq!(other_me["tenant"]["id"], f.other.tenant_id.as_str());
    assert_eq!(other_me["id"], f.other.id.as_str());
    assert_ne!(acme_me["id"], other_me["id"]);
}

#[tokio::test]
async fn a_missing_scope_is_a_403_insufficient_scope() {
    let f = fixture().await;
    let tokens = f.tokens_for("alice@acme.example", "calls:read").await;
    let app = test::init_service(App::new().app_data(f.app.state.clone()).route(
        "/needs-write",
        web::get().to(|auth: Authenticated| async move {
            auth.require(Scope::CallsWrite)?;
            Ok::<_, ApiError>(HttpResponse::Ok().finish())
        }),
    ))
    .await;
    let request = test::TestRequest::get()
        .uri("/needs-write")
        .insert_header((
            "authorization",
            format!("Bearer {}", tokens["access_token"].as_str().unwrap()),
        ))
        .to_request();
    let response = test::call_service(&app, request).await;
    assert_eq!(response.status(), 403);
    let c = response
        .headers()
        .get("www-authenticate")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        c.contains("error=\"insufficient_scope\"") && c.contains("calls:write"),
        "{c}"
    );
    let body: Value = test::read_body_json(response).await;
    assert_eq!(body["code"], "insufficient_scope");
}

#[tokio::test]
async fn introspection_reports_own_tokens_active_and_others_inactive() {
    let f = fixture().await;
    let tokens = f.tokens_for("alice@acme.example", "calls:read").await;
    let access = tokens["access_token"].as_str().unwrap();
    let answer: Value = f
        .basic_post("/oauth/introspect", &[("token", access)])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answer["active"], true);
    assert_eq!(answer["sub"], f.alice.id.as_str());
    assert_eq!(answer["scope"], "calls:read");
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let answer: Value = f
        .basic_post("/oauth/introspect", &[("token", refresh)])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answer["active"], true);
    let junk: Value = f
        .basic_post("/oauth/introspect", &[("token", "junk")])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(junk, serde_json::json!({"active": false}));
    f.basic_post("/oauth/revoke", &[("token", refresh)]).await;
    let after: Value = f
        .basic_post("/oauth/introspect", &[("token", access)])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["active"], false);
}

#[tokio::test]
async fn maintenance_prunes_long_expired_codes() {
    let f = fixture().await;
    let (_code, _verifier) = f.code_for("alice@acme.example", "calls:read").await;
    let store = f.app.db.store.as_ref();
    let now = chrono::Utc::now();
    assert_eq!(
        maintenance::step(store, &f.app.state.oauth.cache, now)
            .await
            .unwrap(),
        0
    );
    let later = now + maintenance::CODE_RETENTION + chrono::Duration::minutes(2);
    assert_eq!(
        maintenance::step(store, &f.app.state.oauth.cache, later)
            .await
            .unwrap(),
        1
    );
}
