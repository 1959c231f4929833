//! Refresh rotation with a grace window: parallel refreshes all succeed, late reuse kills the grant.

use super::fixture::*;
use ringhook::config::Backend;
use serde_json::Value;

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap()
}

#[tokio::test]
async fn a_refresh_rotates_the_refresh_token_and_issues_a_working_access_token() {
    let f = fixture().await;
    let first = f.tokens_for("alice@acme.example", "calls:read").await;
    let response = f.refresh(str_of(&first, "refresh_token")).await;
    assert_eq!(response.status(), 200);
    let second: Value = response.json().await.unwrap();
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_eq!(second["scope"], "calls:read");
    assert_eq!(f.me(str_of(&second, "access_token")).await.status(), 200);
    // The chain continues.
    let third = f.refresh(str_of(&second, "refresh_token")).await;
    assert_eq!(third.status(), 200);
}

#[tokio::test]
async fn reusing_a_retired_token_within_the_grace_window_returns_the_same_successor() {
    let f = fixture().await;
    let first = f.tokens_for("alice@acme.example", "calls:read").await;
    let a: Value = f
        .refresh(str_of(&first, "refresh_token"))
        .await
        .json()
        .await
        .unwrap();
    let b: Value = f
        .refresh(str_of(&first, "refresh_token"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(a["refresh_token"], b["refresh_token"]);
    assert_ne!(a["access_token"], b["access_token"]);
    assert_eq!(f.me(str_of(&a, "access_token")).await.status(), 200);
    assert_eq!(f.me(str_of(&b, "access_token")).await.status(), 200);
}

async fn reusing_a_retired_token_after_the_grace_window_revokes_the_grant(backend: Backend) {
    let Some(f) = fixture_on(backend, |s| s.oauth_refresh_grace_seconds = 0).await else {
        return;
    };
    let first = f.tokens_for("alice@acme.example", "calls:read").await;
    let second: Value = f
        .refresh(str_of(&first, "refresh_token"))
        .await
        .json()
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let reuse = f.refresh(str_of(&first, "refresh_token")).await;
    assert_eq!(reuse.status(), 400);
    assert_eq!(oauth_error(reuse).await, "invalid_grant");
    assert_eq!(f.me(str_of(&second, "access_token")).await.status(), 401);
    assert_eq!(
        oauth_error(f.refresh(str_of(&second, "refresh_token")).await).await,
        "invalid_grant"
    );
}

async fn concurrent_refreshes_with_one_token_all_succeed(backend: Backend) {
    let Some(f) = fixture_on(backend, |_| {}).await else {
        return;
    };
    let first = f.tokens_for("alice@acme.example", "calls:read").await;
    let token = str_of(&first, "refresh_token").to_owned();
    let mut parallel = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (client, url) = (f.app.client.clone(), f.app.url("/oauth/token"));
        let form = [
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", token.clone()),
            ("client_id", f.client_id.clone()),
            ("client_secret", f.client_secret.clone()),
        ];
        parallel.spawn(async move { client.post(url).form(&form).send().await.unwrap() });
    }
    let mut successors = Vec::new();
    while let Some(response) = parallel.join_next().await {
        let response = response.unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(f.me(str_of(&body, "access_token")).await.status(), 200);
        successors.push(str_of(&body, "refresh_token").to_owned());
    }
    successors.dedup();
    assert_eq!(
        successors.len(),
        1,
        "every parallel refresh got the same successor"
    );
    assert_eq!(f.refresh(&successors[0]).await.status(), 200);
}

for_each_backend!(
    reusing_a_retired_token_after_the_grace_window_revokes_the_grant,
    concurrent_refreshes_with_one_token_all_succeed,
);

#[tokio::test]
async fn a_refresh_may_narrow_the_scope_but_not_widen_it() {
    let f = fixture().await;
    let first = f.tokens_for("alice@acme.example", "calls:read").await;
    let token = str_of(&first, "refresh_token");
    let wider = f
        .token_form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", token),
            ("scope", "calls:read calls:write"),
        ])
        .await;
    assert_eq!(oauth_error(wider).await, "invalid_scope");
    // Refused without rotating: the token still works.
    let narrow = f
        .token_form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", token),
            ("scope", "calls:read"),
        ])
        .await;
    assert_eq!(narrow.status(), 200);
}

#[tokio::test]
async fn another_client_cannot_use_the_refresh_token() {
    let f = fixture().await;
    let first = f.tokens_for("alice@acme.example", "calls:read").await;
    let secret = ringhook::domain::new_token(32);
    let other = f
        .app
        .db
        .store
        .create_client(&ringhook::storage::NewOAuthClient {
            name: "Other".into(),
            secret_hash: ringhook::credentials::hash_secret(&secret),
            redirect_uris: vec![ringhook::domain::RedirectUri::parse(REDIRECT_URI).unwrap()],
        })
        .await
        .unwrap();
    let response = f
        .app
        .client
        .post(f.app.url("/oauth/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", str_of(&first, "refresh_token")),
            ("client_id", other.id.as_str()),
            ("client_secret", &secret),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(oauth_error(response).await, "invalid_grant");
    assert_eq!(
        f.refresh(str_of(&first, "refresh_token")).await.status(),
        200
    );
}

#[tokio::test]
async fn an_unknown_refresh_token_is_an_invalid_grant() {
    let f = fixture().await;
    assert_eq!(
        oauth_error(f.refresh("made-up").await).await,
        "invalid_grant"
    );
}
