//! The authorization_code grant's refusals, and client authentication at the token endpoint.

use super::fixture::*;
use ringhook::credentials;
use ringhook::domain::{ClientId, RedirectUri, TenantId, UserId, new_token};
use ringhook::oauth::ScopeSet;
use ringhook::storage::{NewAuthCode, NewOAuthClient};
use serde_json::Value;

#[tokio::test]
async fn a_replayed_code_is_refused_and_revokes_what_the_first_use_issued() {
    let f = fixture().await;
    let (code, verifier) = f.code_for("alice@acme.example", "calls:read").await;
    let first: Value = f.exchange(&code, &verifier).await.json().await.unwrap();
    let access = first["access_token"].as_str().unwrap();
    assert_eq!(f.me(access).await.status(), 200);
    let replay = f.exchange(&code, &verifier).await;
    assert_eq!(replay.status(), 400);
    assert_eq!(oauth_error(replay).await, "invalid_grant");
    assert_eq!(f.me(access).await.status(), 401);
    let refresh = f.refresh(first["refresh_token"].as_str().unwrap()).await;
    assert_eq!(oauth_error(refresh).await, "invalid_grant");
}

#[tokio::test]
async fn a_wrong_verifier_is_an_invalid_grant() {
    let f = fixture().await;
    let (code, _) = f.code_for("alice@acme.example", "calls:read").await;
    let (other_verifier, _) = pkce_pair();
    assert_eq!(
        oauth_error(f.exchange(&code, &other_verifier).await).await,
        "invalid_grant"
    );
}

#[tokio::test]
async fn a_missing_verifier_is_an_invalid_request() {
    let f = fixture().await;
    let (code, verifier) = f.code_for("alice@acme.example", "calls:read").await;
    let response = f
        .token_form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
        ])
        .await;
    assert_eq!(oauth_error(response).await, "invalid_request");
    // The code was not consumed by the malformed request.
    assert_eq!(f.exchange(&code, &verifier).await.status(), 200);
}

async fn stored_code(
    f: &Fixture,
    challenge: Option<String>,
    expires_in: chrono::Duration,
) -> String {
    let code = new_token(32);
    f.app
        .db
        .store
        .create_code(&NewAuthCode {
            code_hash: credentials::hash_secret(&code),
            client_id: ClientId::parse(&f.client_id).unwrap(),
            user_id: UserId::parse(f.alice.id.as_str()).unwrap(),
            tenant_id: TenantId::parse(f.tenant.id.as_str()).unwrap(),
            redirect_uri: REDIRECT_URI.into(),
            redirect_uri_given: true,
            scope: ScopeSet::parse("calls:read").unwrap(),
            code_challenge: challenge,
            expires_at: chrono::Utc::now() + expires_in,
        })
        .await
        .unwrap();
    code
}

#[tokio::test]
async fn a_verifier_for_a_code_issued_without_a_challenge_is_refused() {
    let f = fixture().await;
    let code = stored_code(&f, None, chrono::Duration::seconds(60)).await;
    let (verifier, _) = pkce_pair();
    assert_eq!(
        oauth_error(f.exchange(&code, &verifier).await).await,
        "invalid_grant"
    );
}

#[tokio::test]
async fn an_expired_code_is_an_invalid_grant() {
    let f = fixture().await;
    let (verifier, challenge) = pkce_pair();
    let code = stored_code(&f, Some(challenge.clone()), chrono::Duration::seconds(-1)).await;
    assert_eq!(
        oauth_error(f.exchange(&code, &verifier).await).await,
        "invalid_grant"
    );
    let fresh = stored_code(&f, Some(challenge), chrono::Duration::seconds(60)).await;
    assert_eq!(f.exchange(&fresh, &verifier).await.status(), 200);
}

#[tokio::test]
async fn codes_live_as_long_as_the_setting_says() {
    let f = fixture_on(ringhook::config::Backend::Sqlite, |s| {
        s.oauth_code_seconds = 1
    })
    .await
    .unwrap();
    let (code, verifier) = f.code_for("alice@acme.example", "calls:read").await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(
        oauth_error(f.exchange(&code, &verifier).await).await,
        "invalid_grant"
    );
}

#[tokio::test]
async fn a_different_redirect_uri_at_the_token_endpoint_is_an_invalid_grant() {
    let f = fixture().await;
    let (code, verifier) = f.code_for("alice@acme.example", "calls:read").await;
    let response = f
        .token_form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "https://evil.example/"),
            ("code_verifier", &verifier),
        ])
        .await;
    assert_eq!(oauth_error(response).await, "invalid_grant");
}

#[tokio::test]
async fn another_clients_code_is_an_invalid_grant() {
    let f = fixture().await;
    let (code, verifier) = f.code_for("alice@acme.example", "calls:read").await;
    let secret = new_token(32);
    let other = f
        .app
        .db
        .store
        .create_client(&NewOAuthClient {
            name: "Other".into(),
            secret_hash: credentials::hash_secret(&secret),
            redirect_uris: vec![RedirectUri::parse(REDIRECT_URI).unwrap()],
        })
        .await
        .unwrap();
    let response = f
        .app
        .client
        .post(f.app.url("/oauth/token"))
        .basic_auth(other.id.as_str(), Some(&secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(oauth_error(response).await, "invalid_grant");
}

#[tokio::test]
async fn a_wrong_secret_is_a_401_invalid_client_with_a_basic_challenge_for_basic() {
    let f = fixture().await;
    let response = f
        .app
        .client
        .post(f.app.url("/oauth/token"))
        .basic_auth(&f.client_id, Some("wrong"))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    assert_eq!(oauth_error(response).await, "invalid_client");
    let body = f
        .app
        .client
        .post(f.app.url("/oauth/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "x"),
            ("client_id", f.client_id.as_str()),
            ("client_secret", "wrong"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(body.status(), 401);
    assert!(body.headers().get("www-authenticate").is_none());
}

#[tokio::test]
async fn credentials_in_both_header_and_body_are_an_invalid_request() {
    let f = fixture().await;
    let response = f
        .app
        .client
        .post(f.app.url("/oauth/token"))
        .basic_auth(&f.client_id, Some(&f.client_secret))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "x"),
            ("client_id", f.client_id.as_str()),
            ("client_secret", f.client_secret.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(oauth_error(response).await, "invalid_request");
}

#[tokio::test]
async fn unknown_and_missing_grant_types_are_refused() {
    let f = fixture().await;
    assert_eq!(
        oauth_error(f.token_form(&[("grant_type", "password")]).await).await,
        "unsupported_grant_type"
    );
    assert_eq!(
        oauth_error(f.token_form(&[]).await).await,
        "invalid_request"
    );
}

#[tokio::test]
async fn an_unknown_code_is_an_invalid_grant() {
    let f = fixture().await;
    let (verifier, _) = pkce_pair();
    assert_eq!(
        oauth_error(f.exchange("made-up", &verifier).await).await,
        "invalid_grant"
    );
}
