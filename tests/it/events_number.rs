//! `GET /v1/events?number=`: the events of calls with that number as caller, callee or line,
//! whatever way the number is typed (Zapier's "Find Recent Call").

use crate::support::spawn_app_with;
use crate::support::tenant::acme;
use crate::support::token::bearer;
use ringhook::config::Backend;
use serde_json::Value;

async fn the_number_filter_matches_calls_in_e164_whatever_the_format(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let acme = acme(app.db.store.as_ref()).await;
    app.replay(&acme.kazoo, "kazoo/inbound_answered").await;
    app.replay(&acme.kazoo, "kazoo/queue_answered").await;
    app.wait_for_event(&acme.tenant_id, "call.answered").await;
    let token = bearer(
        &app,
        &acme.tenant_id,
        &acme.alice,
        "calls:read tenant:admin",
    )
    .await;
    let events = |number: &'static str| {
        let mut url = url::Url::parse(&app.url("/v1/events")).unwrap();
        url.query_pairs_mut()
            .append_pair("scope", "tenant")
            .append_pair("number", number)
            .append_pair("limit", "100");
        let request = app.client.get(url).bearer_auth(&token);
        async move { request.send().await.unwrap() }
    };
    for typed in ["(415) 555-0123", "+1 415 555 0123", "4155550123"] {
        let found: Vec<Value> = events(typed).await.json().await.unwrap();
        assert!(!found.is_empty(), "{typed}");
        for event in &found {
            let numbers = [
                &event["call"]["from"]["number"],
                &event["call"]["to"]["number"],
                &event["call"]["line"]["number"],
            ];
            assert!(
                numbers.iter().any(|n| *n == "+14155550123"),
                "{typed}: {event}"
            );
        }
    }
    let queue_caller: Vec<Value> = events("310-555-0142").await.json().await.unwrap();
    assert!(!queue_caller.is_empty());
    assert!(
        queue_caller
            .iter()
            .all(|e| e["call"]["from"]["number"] == "+13105550142")
    );
    let nobody: Vec<Value> = events("+1 212 555 0199").await.json().await.unwrap();
    assert!(nobody.is_empty());
    let bad = events("not a number").await;
    assert_eq!(bad.status(), 422);
    let problem: Value = bad.json().await.unwrap();
    assert_eq!(problem["code"], "invalid_number");
}

for_each_backend!(the_number_filter_matches_calls_in_e164_whatever_the_format);
