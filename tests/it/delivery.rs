//! Fan-out and delivery through the real parts: fixtures ingested over HTTP, hooks stored,
//! the delivery worker posting to a real recording receiver. Most tests step the worker
//! with their own clock (`deliver_all(now)`, `settle_all(now)`) and assert on the queue.
//! Three run the real loop (`app()`), for what only it does, with real time: being woken by
//! an ingest and honouring `Retry-After` (`retry_after_is_honoured`), the request timeout
//! (`a_receiver_slower_than_the_timeout_counts_as_a_failed_attempt`) and the per-target rate
//! limit (`deliveries_to_one_target_are_held_to_its_rate_limit`); `slow_receivers.rs` is the
//! other real-loop file.

use crate::support::tenant::{AcmeTenant, acme};
use crate::support::{Receiver, Reply, TestApp, spawn_app_with, spawn_stepped_app};
use chrono::{DateTime, TimeDelta, Utc};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use ringhook::config::{Backend, Settings};
use ringhook::delivery::HookSecret;
use ringhook::domain::HookEventFilter;
use ringhook::domain::UserId;
use ringhook::storage::HookScope;
use ringhook::storage::hooks::{Hook, NewHook};
use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(15);

async fn app(configure: impl FnOnce(&mut Settings)) -> (TestApp, AcmeTenant, Receiver) {
    app_on(Backend::Sqlite, configure).await.unwrap()
}

async fn app_on(
    backend: Backend,
    configure: impl FnOnce(&mut Settings),
) -> Option<(TestApp, AcmeTenant, Receiver)> {
    let app = spawn_app_with(backend, |s| {
        defaults(s);
        configure(s);
    })
    .await?;
    let acme = acme(app.db.store.as_ref()).await;
    Some((app, acme, Receiver::start().await))
}

/// An app whose workers the test steps (`deliver_all`, `settle_all`).
async fn stepped_on(
    backend: Backend,
    configure: impl FnOnce(&mut Settings),
) -> Option<(TestApp, AcmeTenant, Receiver)> {
    let app = spawn_stepped_app(backend, |s| {
        defaults(s);
        configure(s);
    })
    .await?;
    let acme = acme(app.db.store.as_ref()).await;
    Some((app, acme, Receiver::start().await))
}

async fn stepped(configure: impl FnOnce(&mut Settings)) -> (TestApp, AcmeTenant, Receiver) {
    stepped_on(Backend::Sqlite, configure).await.unwrap()
}

fn defaults(s: &mut Settings) {
    s.call_settle_seconds = 0;
    s.allow_private_targets = true;
    s.allow_http_targets = true;
    s.delivery_retry_schedule_seconds = Some(vec![1, 1, 1]);
}

/// Replays a scenario and settles its call, so that all its triggers are queued; returns the
/// time it settled at, when every trigger is due.
async fn ingest_and_settle(app: &TestApp, acme: &AcmeTenant, scenario: &str) -> DateTime<Utc> {
    app.replay(&acme.kazoo, scenario).await;
    let settled_at = Utc::now() + TimeDelta::seconds(1);
    assert_eq!(app.settle_all(settled_at).await, 1, "call.ended went out");
    settled_at
}

async fn subscribe(
    app: &TestApp,
    acme: &AcmeTenant,
    user: &UserId,
    scope: HookScope,
    event: &str,
    url: &str,
) -> Hook {
    app.db
        .store
        .create_hook(&NewHook {
            tenant_id: acme.tenant_id.clone(),
            user_id: user.clone(),
            grant_id: None,
            scope,
            event: HookEventFilter::parse(event).unwrap(),
            target_url: ringhook::delivery::TargetUrl::parse(
                url,
                &ringhook::delivery::TargetPolicy {
                    allow_private: true,
                    allow_http: true,
                    allow_list: Vec::new(),
                },
            )
            .unwrap(),
            secret: SecretString::from(HookSecret::generate().expose().to_owned()),
        })
        .await
        .unwrap()
}

fn header_map(headers: &[(String, String)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        map.insert(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    map
}

#[tokio::test]
async fn every_trigger_reaches_the_subscribed_receiver_once_signed_by_standard_webhooks() {
    let (app, acme, receiver) = stepped(|_| {}).await;
    let hook = subscribe(
        &app,
        &acme,
        &acme.alice,
        HookScope::User,
        "*",
        &receiver.url("/alice"),
    )
    .await;

    let now = ingest_and_settle(&app, &acme, "kazoo/inbound_answered").await;
    assert_eq!(app.deliver_all(now).await, 3);
    let seen = receiver.requests();
    assert_eq!(seen.len(), 3, "each trigger is delivered once");
    assert_eq!(app.queue(Utc::now() + TimeDelta::days(3)).await.pending, 0);

    let verifier = standardwebhooks::Webhook::new(hook.secret.expose_secret()).unwrap();
    let mut types = Vec::new();
    for request in &seen {
        verifier
            .verify(&request.body, &header_map(&request.headers))
            .expect("a valid Standard Webhooks signature");
        assert!(request.header("webhook-id").unwrap().starts_with("dlv_"));
        assert!(
            request
                .header("user-agent")
                .unwrap()
                .starts_with("ringhook/")
        );
        assert_eq!(request.header("content-type"), Some("application/json"));
        types.push(request.json()["type"].as_str().unwrap().to_owned());
    }
    types.sort();
    assert_eq!(types, ["call.answered", "call.ended", "call.ringing"]);
    let stored = app.events(&acme.tenant_id).await;
    let answered = stored
        .iter()
        .find(|e| e.event_type.as_str() == "call.answered")
        .unwrap();
    let delivered = seen
        .iter()
        .find(|r| r.json()["type"] == "call.answered")
        .unwrap();
    assert_eq!(delivered.json(), serde_json::to_value(answered).unwrap());
}

#[tokio::test]
async fn user_hooks_get_their_own_calls_and_tenant_hooks_get_every_call() {
    let (app, acme, receiver) = stepped(|_| {}).await;
    subscribe(
        &app,
        &acme,
        &acme.bob,
        HookScope::User,
        "*",
        &receiver.url("/bob"),
    )
    .await;
    subscribe(
        &app,
        &acme,
        &acme.alice,
        HookScope::User,
        "call.answered",
        &receiver.url("/alice"),
    )
    .await;
    subscribe(
        &app,
        &acme,
        &acme.alice,
        HookScope::Tenant,
        "*",
        &receiver.url("/tenant"),
    )
    .await;

    let now = ingest_and_settle(&app, &acme, "kazoo/inbound_answered").await;
    assert_eq!(app.deliver_all(now).await, 4);

    let paths: Vec<String> = receiver.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths.iter().filter(|p| *p == "/tenant").count(), 3);
    assert_eq!(paths.iter().filter(|p| *p == "/alice").count(), 1);
    assert_eq!(
        paths.iter().filter(|p| *p == "/bob").count(),
        0,
        "Bob took no part in the call"
    );
}

async fn a_410_gone_deletes_the_hook_and_nothing_more_is_sent(backend: Backend) {
    let Some((app, acme, receiver)) = stepped_on(backend, |_| {}).await else {
        return;
    };
    receiver.reply_with([Reply::status(410)]);
    let hook = subscribe(
        &app,
        &acme,
        &acme.alice,
        HookScope::User,
        "*",
        &receiver.url("/gone"),
    )
    .await;
    app.replay(&acme.kazoo, "kazoo/inbound_answered").await;
    assert_eq!(
        app.queue(Utc::now()).await.pending,
        2,
        "ringing and answered"
    );

    // One round sends both queued triggers at once; the first answer is the 410.
    assert_eq!(app.deliver_all(Utc::now()).await, 2);
    assert!(
        app.db
            .store
            .hook(&acme.tenant_id, &hook.id)
            .await
            .unwrap()
            .is_none()
    );
    let later = Utc::now() + TimeDelta::days(3);
    assert_eq!(app.queue(later).await.pending, 0, "its queue went with it");
    app.settle_all(Utc::now() + TimeDelta::seconds(1)).await;
    assert_eq!(app.deliver_all(later).await, 0, "call.ended goes nowhere");
    let requests = receiver.requests();
    assert_eq!(requests.len(), 2, "a 410 is never retried");
    assert_ne!(
        requests[0].header("webhook-id"),
        requests[1].header("webhook-id")
    );
}

async fn a_failed_attempt_is_retried_with_the_same_webhook_id_once_due(backend: Backend) {
    let Some((app, acme, receiver)) = stepped_on(backend, |_| {}).await else {
        return;
    };
    receiver.reply_with([Reply::status(500).with_body("try later")]);
    let hook = subscribe(
        &app,
        &acme,
        &acme.alice,
        HookScope::User,
        "call.ringing",
        &receiver.url("/r"),
    )
    .await;
    app.replay(&acme.kazoo, "kazoo/inbound_answered").await;

    let now = Utc::now();
    assert_eq!(app.deliver_all(now).await, 1);
    assert_eq!(app.queue(now).await.due, 0, "the retry waits its delay");
    assert_eq!(app.deliver_all(now).await, 0);
    // The schedule says 1 s, ±20 % jitter.
    assert_eq!(app.deliver_all(now + TimeDelta::seconds(2)).await, 1);

    let seen = receiver.requests();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].header("webhook-id"), seen[1].header("webhook-id"));
    let history = app
        .db
        .store
        .deliveries_of_hook(&acme.tenant_id, &hook.id, 10)
        .await
        .unwrap();
    assert_eq!(history.len(), 1);
    let delivery = &history[0];
    assert_eq!(delivery.status, "delivered");
    assert_eq!(delivery.attempts, 2);
    assert_eq!(delivery.attempt_log[0].status_code, Some(500));
    assert_eq!(
        delivery.attempt_log[0].response_body.as_deref(),
        Some("try later")
    );
    assert_eq!(delivery.attempt_log[1].status_code, Some(200));
}
#[tokio::test]
async fn retry_after_is_honoured() {
    let (app, acme, receiver) = app(|_| {}).await;
    receiver.reply_with([Reply::status(429).with_header("retry-after", "3")]);
    subscribe(
        &app,
        &acme,
        &acme.alice,
        HookScope::User,
        "call.ringing",
        &receiver.url("/r"),
    )
    .await;

    app.replay(&acme.kazoo, "kazoo/inbound_answered").await;
    let seen = receiver.wait_for(2, WAIT).await;
    let gap = seen[1].at.duration_since(seen[0].at);
    assert!(
        gap >= Duration::from_millis(2800),
        "second attempt after {gap:?}"
    );
}

#[tokio::test]
async fn a_receiver_slower_than_the_timeout_counts_as_a_failed_attempt() {
    let (app, acme, receiver) = app(|s| s.delivery_timeout_seconds = 1).await;
    receiver.reply_with([Reply::status(200).after(Duration::from_millis(2500))]);
    let hook = subscribe(
        &app,
        &acme,
        &acme.alice,
        HookScope::User,
        "call.ringing",
        &receiver.url("/slow"),
    )
    .await;

    app.replay(&acme.kazoo, "kazoo/inbound_answered").await;
    let delivery = wait_for_status(&app, &acme, &hook, "delivered").await;
    assert_eq!(delivery.attempts, 2);
    assert_eq!(delivery.attempt_log[0].status_code, None);
    assert!(delivery.attempt_log[0].error.is_some());
}

#[tokio::test]
async fn a_delivery_is_failed_once_its_retries_are_exhausted_and_can_be_retried_by_hand() {
    let (app, acme, receiver) =
        stepped(|s| s.delivery_retry_schedule_seconds = Some(vec![1])).await;
    receiver.reply_with([Reply::status(503), Reply::status(502)]);
    let hook = subscribe(
        &app,
        &acme,
        &acme.alice,
        HookScope::User,
        "call.ringing",
        &receiver.url("/r"),
    )
    .await;
    app.replay(&acme.kazoo, "kazoo/inbound_answered").await;

    let now = Utc::now();
    app.deliver_all(now).await;
    app.deliver_all(now + TimeDelta::seconds(2)).await;
    let history = app
        .db
        .store
        .deliveries_of_hook(&acme.tenant_id, &hook.id, 10)
        .await
        .unwrap();
    assert_eq!(
        (history[0].status.as_str(), history[0].attempts),
        ("failed", 2)
    );
    assert_eq!(app.queue(now + TimeDelta::days(3)).await.pending, 0);

    assert!(
        app.db
            .store
            .retry_delivery(&acme.tenant_id, &history[0].id, Utc::now())
            .await
            .unwrap()
    );
    assert_eq!(app.deliver_all(Utc::now()).await, 1);
    let delivered = wait_for_status(&app, &acme, &hook, "delivered").await;
    assert_eq!(delivered.attempts, 3);
}
#[tokio::test]
async fn a_private_target_is_never_called_when_private_targets_are_off() {
    let (app, acme, receiver) = stepped(|s| s.allow_private_targets = false).await;
    let hook = subscribe(
        &app,
        &acme,
        &acme.alice,
        HookScope::User,
        "call.ringing",
        &receiver.url("/r"),
    )
    .await;

    app.replay(&acme.kazoo, "kazoo/inbound_answered").await;
    assert_eq!(app.deliver_all(Utc::now()).await, 1);
    let delivery = wait_for_attempts(&app, &acme, &hook, 1).await;
    assert!(
        delivery.attempt_log[0]
            .error
            .as_deref()
            .unwrap()
            .contains("refused"),
        "{delivery:?}"
    );
    assert!(receiver.requests().is_empty());
}
#[tokio::test]
async fn deliveries_to_one_target_are_held_to_its_rate_limit() {
    let (app, acme, receiver) = app(|s| s.delivery_rate_per_second = 2).await;
    subscribe(
        &app,
        &acme,
        &acme.alice,
        HookScope::Tenant,
        "*",
        &receiver.url("/r"),
    )
    .await;
    for scenario in ["kazoo/inbound_answered", "kazoo/inbound_voicemail"] {
        app.replay(&acme.kazoo, scenario).await;
    }
    let seen = receiver.wait_for(6, WAIT).await;
    let span = seen[5].at.duration_since(seen[0].at);
    assert!(
        span >= Duration::from_millis(1400),
        "6 requests at 2/s took {span:?}"
    );
}

async fn wait_for_attempts(
    app: &TestApp,
    acme: &AcmeTenant,
    hook: &Hook,
    attempts: i64,
) -> ringhook::storage::hooks::DeliveryView {
    wait_for_delivery(app, acme, hook, |d| d.attempts >= attempts).await
}

async fn wait_for_status(
    app: &TestApp,
    acme: &AcmeTenant,
    hook: &Hook,
    status: &str,
) -> ringhook::storage::hooks::DeliveryView {
    wait_for_delivery(app, acme, hook, |d| d.status == status).await
}

/// The hook's first delivery that satisfies `done`, waiting up to `WAIT` for it.
async fn wait_for_delivery(
    app: &TestApp,
    acme: &AcmeTenant,
    hook: &Hook,
    done: impl Fn(&ringhook::storage::hooks::DeliveryView) -> bool,
) -> ringhook::storage::hooks::DeliveryView {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let history = app
            .db
            .store
            .deliveries_of_hook(&acme.tenant_id, &hook.id, 10)
            .await
            .unwrap();
        if let Some(d) = history.into_iter().find(&done) {
            return d;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no delivery reached the expected state"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

for_each_backend!(
    a_410_gone_deletes_the_hook_and_nothing_more_is_sent,
    a_failed_attempt_is_retried_with_the_same_webhook_id_once_due,
);
