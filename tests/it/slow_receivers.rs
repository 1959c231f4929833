//! Receivers that accept a connection and never answer must not delay anybody else's
//! deliveries: with ten of them subscribed, a healthy hook's ingest → delivery latency stays
//! within twice its figure without them (real loop, real receivers, real timeouts).

use crate::support::scenario::requests;
use crate::support::tenant::acme;
use crate::support::{Receiver, TestApp, spawn_app_with};
use ringhook::admin::simulate::ScenarioCopies;
use ringhook::config::Backend;
use ringhook::delivery::{HookSecret, TargetPolicy, TargetUrl};
use ringhook::domain::HookEventFilter;
use ringhook::storage::hooks::NewHook;
use ringhook::storage::{HookScope, Source};
use secrecy::{ExposeSecret, SecretString};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

const SAMPLES: usize = 30;
const HANGING_TARGETS: usize = 10;
/// Below this, a difference is scheduling noise on a loaded two-core machine, not a stall.
const FLOOR: Duration = Duration::from_millis(1500);

#[tokio::test]
async fn targets_that_never_answer_do_not_delay_a_healthy_hook() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.allow_private_targets = true;
        s.allow_http_targets = true;
        s.delivery_rate_per_second = 1000;
    })
    .await
    .unwrap();
    let acme = acme(app.db.store.as_ref()).await;
    let healthy = Receiver::start().await;
    subscribe(&app, &acme, &healthy.url("/healthy")).await;
    let calls = ScenarioCopies::new(
        requests(&acme.kazoo, "kazoo/inbound_answered"),
        acme.kazoo.kind,
        acme.kazoo.secret.expose_secret(),
        chrono::Utc::now(),
    );

    let alone = ringing_latencies(&app, &acme.kazoo, &calls, &healthy, 0..SAMPLES).await;
    let mut hanging = Vec::new();
    for _ in 0..HANGING_TARGETS {
        let target = HangingTarget::start().await;
        subscribe(&app, &acme, &target.url).await;
        hanging.push(target);
    }
    let beside_hanging =
        ringing_latencies(&app, &acme.kazoo, &calls, &healthy, SAMPLES..2 * SAMPLES).await;

    let (before, after) = (p99(alone), p99(beside_hanging));
    assert!(
        after <= (before * 2).max(FLOOR),
        "p99 ingest → delivery was {before:?} alone and {after:?} beside {HANGING_TARGETS} hanging targets"
    );
    for target in &hanging {
        assert!(target.connections() > 0, "the hanging targets were called");
    }
}

async fn subscribe(app: &TestApp, acme: &crate::support::tenant::AcmeTenant, url: &str) {
    let policy = TargetPolicy {
        allow_private: true,
        allow_http: true,
        allow_list: Vec::new(),
    };
    app.db
        .store
        .create_hook(&NewHook {
            tenant_id: acme.tenant_id.clone(),
            user_id: acme.alice.clone(),
            grant_id: None,
            scope: HookScope::Tenant,
            event: HookEventFilter::parse("call.ringing").unwrap(),
            target_url: TargetUrl::parse(url, &policy).unwrap(),
            secret: SecretString::from(HookSecret::generate().expose().to_owned()),
        })
        .await
        .unwrap();
}

/// For each copy of the scenario: the time from posting its ringing leg (02) to the healthy
/// receiver getting the `call.ringing` delivery.
async fn ringing_latencies(
    app: &TestApp,
    source: &Source,
    calls: &ScenarioCopies,
    healthy: &Receiver,
    copies: std::ops::Range<usize>,
) -> Vec<Duration> {
    let mut latencies = Vec::new();
    for n in copies {
        let call = calls.copy(n);
        assert_eq!(app.post_ingest(source, &call[0]).await.status(), 200);
        let expected = healthy.requests().len() + 1;
        let started = Instant::now();
        assert_eq!(app.post_ingest(source, &call[1]).await.status(), 200);
        healthy.wait_for(expected, Duration::from_secs(10)).await;
        latencies.push(started.elapsed());
    }
    latencies
}

/// The nearest-rank 99th percentile.
fn p99(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    let rank = (samples.len() * 99).div_ceil(100).max(1);
    samples[rank - 1]
}

/// Accepts connections and never reads from or answers them.
struct HangingTarget {
    url: String,
    accepted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl HangingTarget {
    async fn start() -> HangingTarget {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/never", listener.local_addr().unwrap());
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = accepted.clone();
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                held.push(socket);
            }
        });
        HangingTarget {
            url,
            accepted,
            task,
        }
    }

    fn connections(&self) -> usize {
        self.accepted.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for HangingTarget {
    fn drop(&mut self) {
        self.task.abort();
    }
}
