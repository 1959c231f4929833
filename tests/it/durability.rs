//! Nothing accepted is lost: the server killed with SIGKILL mid-delivery and restarted still
//! delivers every event; two instances on one PostgreSQL share the work without doubling it.

use crate::support::process::ServerProcess;
use crate::support::scenario::requests;
use crate::support::tenant::{AcmeTenant, acme};
use crate::support::{Receiver, Reply, TestDatabase};
use ringhook::admin::simulate::{ScenarioCopies, SimulatedRequest};
use ringhook::delivery::HookSecret;
use ringhook::domain::HookEventFilter;
use ringhook::domain::SourceKind;
use ringhook::storage::HookScope;
use ringhook::storage::hooks::NewHook;
use secrecy::{ExposeSecret, SecretString};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// `count` distinct copies of the Kazoo inbound call.
fn distinct_calls(acme: &AcmeTenant, count: usize) -> Vec<Vec<SimulatedRequest>> {
    let template = requests(&acme.kazoo, "kazoo/inbound_answered");
    let secret = acme.kazoo.secret.expose_secret();
    let copies = ScenarioCopies::new(template, SourceKind::Kazoo, secret, chrono::Utc::now());
    (0..count).map(|n| copies.copy(n)).collect()
}

/// Posts like a source: a request that was not answered 200 (a timeout on a loaded machine)
/// is sent again, which deduplication makes safe.
async fn post(base: &str, acme: &AcmeTenant, request: &SimulatedRequest) -> u16 {
    let token = request.query_token.as_deref().unwrap_or_default();
    let mut status = 0;
    for _ in 0..3 {
        let mut call = reqwest::Client::new()
            .post(format!("{base}/ingest/{}?token={token}", acme.kazoo.id))
            .body(request.body.clone());
        for (k, v) in &request.headers {
            call = call.header(k, v);
        }
        status = call.send().await.map(|r| r.status().as_u16()).unwrap_or(0);
        if status == 200 {
            break;
        }
    }
    status
}

async fn subscribe_tenant_hook(db: &TestDatabase, acme: &AcmeTenant, url: &str) {
    db.store
        .create_hook(&NewHook {
            tenant_id: acme.tenant_id.clone(),
            user_id: acme.alice.clone(),
            grant_id: None,
            scope: HookScope::Tenant,
            event: HookEventFilter::Any,
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
        .unwrap();
}

/// Event id → the webhook-ids it arrived with.
fn arrivals(receiver: &Receiver) -> HashMap<String, Vec<String>> {
    let mut seen: HashMap<String, Vec<String>> = HashMap::new();
    for r in receiver.requests() {
        let id = r.json()["id"].as_str().unwrap().to_owned();
        seen.entry(id)
            .or_default()
            .push(r.header("webhook-id").unwrap().to_owned());
    }
    seen
}

async fn wait_for_distinct(
    receiver: &Receiver,
    count: usize,
    timeout: Duration,
) -> HashMap<String, Vec<String>> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let seen = arrivals(receiver);
        if seen.len() >= count {
            return seen;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "only {} of {count} events arrived",
            seen.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

const ENV: &[(&str, &str)] = &[
    ("RINGHOOK_ALLOW_PRIVATE_TARGETS", "true"),
    ("RINGHOOK_ALLOW_HTTP_TARGETS", "true"),
    ("RINGHOOK_CALL_SETTLE_SECONDS", "0"),
    // A short timeout keeps the lease (4 × timeout) of the killed server's claims short.
    ("RINGHOOK_DELIVERY_TIMEOUT_SECONDS", "1"),
    ("RINGHOOK_DELIVERY_RATE_PER_SECOND", "1000"),
];

#[tokio::test]
async fn a_server_killed_mid_delivery_delivers_every_accepted_event_after_restart() {
    let db = TestDatabase::sqlite().await;
    let acme = acme(db.store.as_ref()).await;
    let receiver = Receiver::start().await;
    receiver.reply_with((0..40).map(|_| Reply::status(200).after(Duration::from_millis(150))));
    subscribe_tenant_hook(&db, &acme, &receiver.url("/all")).await;
    let mut server = ServerProcess::start(db.url.expose(), ENV).await;

    let calls = distinct_calls(&acme, 20);
    for call in &calls {
        for request in call {
            assert_eq!(post(&server.base, &acme, request).await, 200);
        }
    }
    receiver.wait_for(5, Duration::from_secs(10)).await;
    server.kill();
    let before_restart = arrivals(&receiver).len();
    assert!(
        before_restart < 60,
        "the kill came too late to test anything"
    );

    let _server = server.restart().await;
    let seen = wait_for_distinct(&receiver, 60, Duration::from_secs(40)).await;
    assert_eq!(seen.len(), 60, "3 triggers for each of 20 calls, none lost");
    for (event, webhook_ids) in &seen {
        let distinct: HashSet<&String> = webhook_ids.iter().collect();
        assert_eq!(
            distinct.len(),
            1,
            "{event} was resent under another webhook-id"
        );
    }
}

#[tokio::test]
async fn two_instances_on_one_postgres_share_the_deliveries_without_doubling_them() {
    let Some(db) = TestDatabase::postgres().await else {
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return;
    };
    let acme = acme(db.store.as_ref()).await;
    let receiver = Receiver::start().await;
    receiver.reply_with((0..200).map(|_| Reply::status(200).after(Duration::from_millis(20))));
    subscribe_tenant_hook(&db, &acme, &receiver.url("/all")).await;
    let one = ServerProcess::start(db.url.expose(), ENV).await;
    let two = ServerProcess::start(db.url.expose(), ENV).await;

    let calls = distinct_calls(&acme, 30);
    let mut sends = Vec::new();
    for (n, call) in calls.iter().enumerate() {
        let base = if n % 2 == 0 {
            one.base.clone()
        } else {
            two.base.clone()
        };
        let acme_ref = &acme;
        sends.push(async move {
            for request in call {
                assert_eq!(post(&base, acme_ref, request).await, 200);
            }
        });
    }
    use futures_util::StreamExt;
    futures_util::stream::iter(sends)
        .buffer_unordered(4)
        .collect::<Vec<()>>()
        .await;

    let seen = wait_for_distinct(&receiver, 90, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(seen.len(), 90);
    assert_eq!(receiver.requests().len(), 90, "no delivery was made twice");
    let by_one = one
        .metric("ringhook_delivery_attempts_total{outcome=\"delivered\"}")
        .await;
    let by_two = two
        .metric("ringhook_delivery_attempts_total{outcome=\"delivered\"}")
        .await;
    assert_eq!(by_one + by_two, 90.0);
    assert!(
        by_one > 0.0 && by_two > 0.0,
        "both instances delivered ({by_one} + {by_two})"
    );
}

#[tokio::test]
async fn a_notification_from_one_instance_reaches_the_listeners_of_another() {
    let Some(db) = TestDatabase::postgres().await else {
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return;
    };
    let other = ringhook::storage::connect(&db.url, 2).await.unwrap();
    let heard = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let shutdown = tokio_util::sync::CancellationToken::new();
    let listening = {
        let (heard, shutdown) = (heard.clone(), shutdown.clone());
        tokio::spawn(async move {
            let on_notice = Box::new(move || {
                heard.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            });
            other
                .listen(ringhook::delivery::wakeup::CHANNEL, on_notice, shutdown)
                .await;
        })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while heard.load(std::sync::atomic::Ordering::SeqCst) == 0 {
        db.store
            .notify(ringhook::delivery::wakeup::CHANNEL)
            .await
            .unwrap();
        assert!(
            std::time::Instant::now() < deadline,
            "no notification arrived"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    shutdown.cancel();
    listening.await.unwrap();
}
