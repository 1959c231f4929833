//! The REST Hooks API through the real server with bearer tokens: subscribe, list, unsubscribe,
//! performList, users, delivery history and retry, scoping, tenancy and the SSRF guard.

use crate::support::tenant::{AcmeTenant, acme};
use crate::support::token::bearer;
use crate::support::{Receiver, TestApp, spawn_stepped_app};
use chrono::Utc;
use ringhook::config::{Backend, Settings};
use serde_json::{Value, json};

struct Api {
    app: TestApp,
    acme: AcmeTenant,
    /// Alice: tenant admin, `calls:read tenant:admin`.
    alice: String,
    /// Bob: not an admin (a `tenant:admin` in his token is stripped by the guard).
    bob: String,
}

/// The app on SQLite with the Acme tenant and a token for Alice and Bob; its workers are
/// stepped by the test (`deliver_all`, `settle_all`).
async fn api(configure: impl FnOnce(&mut Settings)) -> Api {
    let app = spawn_stepped_app(Backend::Sqlite, |s| {
        s.call_settle_seconds = 0;
        s.allow_private_targets = true;
        s.allow_http_targets = true;
        configure(s);
    })
    .await
    .unwrap();
    let acme = acme(app.db.store.as_ref()).await;
    let alice = bearer(
        &app,
        &acme.tenant_id,
        &acme.alice,
        "calls:read tenant:admin",
    )
    .await;
    let bob = bearer(&app, &acme.tenant_id, &acme.bob, "calls:read tenant:admin").await;
    Api {
        app,
        acme,
        alice,
        bob,
    }
}

impl Api {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut request = self
            .app
            .client
            .request(method, self.app.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    async fn subscribe(&self, token: &str, body: Value) -> reqwest::Response {
        self.call(reqwest::Method::POST, "/v1/hooks", token, Some(body))
            .await
    }
}

#[tokio::test]
async fn a_hook_is_subscribed_listed_shown_and_unsubscribed_repeatably() {
    let api = api(|_| {}).await;
    let response = api
        .subscribe(&api.alice, json!({"target_url": "http://127.0.0.1:9/hooks/standard/1/abc", "event": "call.missed"}))
        .await;
    assert_eq!(response.status(), 201);
    let hook: Value = response.json().await.unwrap();
    let id = hook["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("hook_"));
    assert!(hook["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(hook["scope"], "user");
    assert_eq!(hook["event"], "call.missed");

    let listed: Value = api
        .call(reqwest::Method::GET, "/v1/hooks", &api.alice, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(
        listed[0].get("secret").is_none(),
        "the secret is shown once"
    );
    let shown = api
        .call(
            reqwest::Method::GET,
            &format!("/v1/hooks/{id}"),
            &api.alice,
            None,
        )
        .await;
    assert_eq!(shown.status(), 200);

    for _ in 0..2 {
        let deleted = api
            .call(
                reqwest::Method::DELETE,
                &format!("/v1/hooks/{id}"),
                &api.alice,
                None,
            )
            .await;
        assert_eq!(deleted.status(), 204);
    }
    let gone = api
        .call(
            reqwest::Method::GET,
            &format!("/v1/hooks/{id}"),
            &api.alice,
            None,
        )
        .await;
    assert_eq!(gone.status(), 404);
}

#[tokio::test]
async fn subscribe_refuses_unknown_events_and_tenant_scope_without_admin() {
    let api = api(|_| {}).await;
    // No outside DNS here: local targets, allowed by `allow_private_targets`.
    let target = "http://127.0.0.1:9/x";
    let bad_event = api
        .subscribe(
            &api.alice,
            json!({"target_url": target, "event": "call.exploded"}),
        )
        .await;
    assert_eq!(bad_event.status(), 422);
    assert_eq!(
        bad_event.json::<Value>().await.unwrap()["code"],
        "invalid_event"
    );

    let not_admin = api
        .subscribe(
            &api.bob,
            json!({"target_url": target, "event": "*", "scope": "tenant"}),
        )
        .await;
    assert_eq!(not_admin.status(), 403);
    assert_eq!(
        not_admin.json::<Value>().await.unwrap()["code"],
        "insufficient_scope"
    );

    let admin = api
        .subscribe(
            &api.alice,
            json!({"target_url": target, "event": "*", "scope": "tenant"}),
        )
        .await;
    assert_eq!(admin.status(), 201);

    let malformed = api
        .app
        .client
        .post(api.app.url("/v1/hooks"))
        .bearer_auth(&api.alice)
        .header("content-type", "application/json")
        .body("{\"target_url\": 3")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    assert_eq!(
        malformed.headers()["content-type"],
        "application/problem+json"
    );
}

#[tokio::test]
async fn targets_on_private_or_special_addresses_are_refused_with_422() {
    let api = api(|s| {
        s.allow_private_targets = false;
        s.allow_http_targets = false;
    })
    .await;
    for target in [
        "http://hooks.example.com/plain-http",
        "https://127.0.0.1/x",
        "https://localhost/x",
        "https://10.1.2.3/x",
        "https://172.16.0.1/x",
        "https://192.168.1.1/x",
        "https://169.254.169.254/latest/meta-data",
        "https://100.64.0.1/x",
        "https://0.0.0.0/x",
        "https://224.0.0.1/x",
        "https://[::1]/x",
        "https://[fd00::1]/x",
        "https://[fe80::1]/x",
        "https://[::ffff:127.0.0.1]/x",
        "https://[64:ff9b::a00:1]/x",
        "https://[2002:a00:1::]/x",
        "https://user:pass@hooks.example.com/x",
        "not a url",
    ] {
        let response = api
            .subscribe(&api.alice, json!({"target_url": target, "event": "*"}))
            .await;
        assert_eq!(response.status(), 422, "{target} was accepted");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "invalid_target", "{target}");
    }
    let hooks = api
        .app
        .db
        .store
        .hooks_of_user(&api.acme.tenant_id, &api.acme.alice)
        .await
        .unwrap();
    assert!(hooks.is_empty(), "nothing was stored for a refused target");
}

#[tokio::test]
async fn requests_without_a_valid_token_or_scope_are_refused() {
    let api = api(|_| {}).await;
    let anonymous = api
        .app
        .client
        .get(api.app.url("/v1/hooks"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert!(
        anonymous.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );

    let forged = api
        .call(reqwest::Method::GET, "/v1/hooks", "not.a.jwt", None)
        .await;
    assert_eq!(forged.status(), 401);
    assert!(
        forged.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );

    let write_only = bearer(
        &api.app,
        &api.acme.tenant_id,
        &api.acme.alice,
        "calls:write",
    )
    .await;
    let no_scope = api
        .call(reqwest::Method::GET, "/v1/events", &write_only, None)
        .await;
    assert_eq!(no_scope.status(), 403);
}

#[tokio::test]
async fn a_subscribed_receiver_gets_what_perform_list_shows_and_history_records_it() {
    let api = api(|_| {}).await;
    let receiver = Receiver::start().await;
    let hook: Value = api
        .subscribe(
            &api.alice,
            json!({"target_url": receiver.url("/zap"), "event": "call.answered"}),
        )
        .await
        .json()
        .await
        .unwrap();
    api.app
        .replay(&api.acme.kazoo, "kazoo/inbound_answered")
        .await;
    assert_eq!(api.app.deliver_all(Utc::now()).await, 1);
    let delivered = receiver.requests()[0].json();

    let listed: Value = api
        .call(
            reqwest::Method::GET,
            "/v1/events?event=call.answered&limit=5",
            &api.alice,
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(
        listed[0], delivered,
        "performList items equal hook payloads"
    );

    let history_path = format!("/v1/hooks/{}/deliveries", hook["id"].as_str().unwrap());
    let history: Value = api
        .call(reqwest::Method::GET, &history_path, &api.alice, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(history[0]["status"], "delivered");
    assert_eq!(history[0]["event_id"], delivered["id"]);
    assert_eq!(history[0]["attempt_log"][0]["status_code"], 200);

    let retry_path = format!(
        "/v1/deliveries/{}/retry",
        history[0]["id"].as_str().unwrap()
    );
    let retried = api
        .call(reqwest::Method::POST, &retry_path, &api.alice, None)
        .await;
    assert_eq!(
        retried.status(),
        409,
        "a delivered delivery is not sent again"
    );
    let other = api
        .call(reqwest::Method::GET, &history_path, &api.bob, None)
        .await;
    assert_eq!(
        other.status(),
        404,
        "another user's hook looks like no hook"
    );
}

#[tokio::test]
async fn events_are_listed_for_the_calls_a_user_takes_part_in_or_the_whole_tenant_for_admins() {
    let api = api(|_| {}).await;
    api.app
        .replay(&api.acme.kazoo, "kazoo/inbound_answered")
        .await;
    api.app.settle_and_list(&api.acme.tenant_id).await;

    let get = |token: String, query: &'static str| {
        let api = &api;
        async move {
            api.call(
                reqwest::Method::GET,
                &format!("/v1/events{query}"),
                &token,
                None,
            )
            .await
        }
    };
    let alice: Value = get(api.alice.clone(), "").await.json().await.unwrap();
    assert_eq!(alice.as_array().unwrap().len(), 3);
    let newest_first: Vec<&str> = alice
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        newest_first,
        ["call.ended", "call.answered", "call.ringing"]
    );

    let bob: Value = get(api.bob.clone(), "").await.json().await.unwrap();
    assert!(
        bob.as_array().unwrap().is_empty(),
        "Bob took no part in Alice's call"
    );
    assert_eq!(get(api.bob.clone(), "?scope=tenant").await.status(), 403);
    let tenant: Value = get(api.alice.clone(), "?scope=tenant&event=call.ringing")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(tenant.as_array().unwrap().len(), 1);
    assert_eq!(get(api.alice.clone(), "?limit=0").await.status(), 422);
    assert_eq!(get(api.alice.clone(), "?event=nope").await.status(), 422);
}

#[tokio::test]
async fn users_and_hooks_of_another_tenant_stay_invisible() {
    let api = api(|_| {}).await;
    let other = acme(api.app.db.store.as_ref()).await;
    let outsider = bearer(
        &api.app,
        &other.tenant_id,
        &other.alice,
        "calls:read tenant:admin",
    )
    .await;
    let hook: Value = api
        .subscribe(
            &api.alice,
            json!({"target_url": "http://127.0.0.1:9/a", "event": "*"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/v1/hooks/{}", hook["id"].as_str().unwrap());
    assert_eq!(
        api.call(reqwest::Method::GET, &path, &outsider, None)
            .await
            .status(),
        404
    );
    assert_eq!(
        api.call(reqwest::Method::DELETE, &path, &outsider, None)
            .await
            .status(),
        204
    );
    assert_eq!(
        api.call(reqwest::Method::GET, &path, &api.alice, None)
            .await
            .status(),
        200,
        "still there"
    );

    let users: Value = api
        .call(reqwest::Method::GET, "/v1/users", &api.alice, None)
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&api.acme.alice.as_str()) && ids.contains(&api.acme.bob.as_str()));
}

#[tokio::test]
async fn revoking_the_app_connection_disables_its_hooks() {
    let fixture = crate::oauth::fixture::fixture_on(Backend::Sqlite, |s| {
        s.allow_private_targets = true;
        s.allow_http_targets = true;
    })
    .await
    .unwrap();
    let tokens = fixture.tokens_for("bob@acme.example", "calls:read").await;
    let access = tokens["access_token"].as_str().unwrap();
    let created = fixture
        .app
        .client
        .post(fixture.app.url("/v1/hooks"))
        .bearer_auth(access)
        .json(&json!({"target_url": "http://127.0.0.1:9/b", "event": "*"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let revoked = fixture
        .basic_post(
            "/oauth/revoke",
            &[("token", tokens["refresh_token"].as_str().unwrap())],
        )
        .await;
    assert_eq!(revoked.status(), 200);
    let hook = fixture
        .app
        .db
        .store
        .hook(
            &fixture.tenant.id,
            &ringhook::domain::HookId::parse(&id).unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(hook.status, ringhook::storage::HookStatus::Disabled);
    assert_eq!(
        hook.disabled_reason.as_deref(),
        Some("the app connection was revoked")
    );
}
