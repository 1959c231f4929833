//! Soak: steady ingest and delivery against a `ringhook serve` process for a long time, with
//! the server's resident memory sampled every 10 s. Leaks show up as a slope after warm-up
//! that a short bench cannot see.
//!
//! Kazoo calls (the `inbound_answered` scenario, every copy a distinct call) are posted at a
//! fixed rate of raw events; two tenant hooks send every trigger to a receiver in this process
//! that answers `204`. At the end it prints the start, peak and end RSS, the slope after
//! warm-up (least squares over the samples taken after it) and how many requests and
//! deliveries went through, and fails if memory grew or went over the limit.
//!
//! Run: `cargo bench --bench soak` (`SOAK_SECONDS`, default 1800; `SOAK_RATE` raw events per
//! second, default 100; `SOAK_WARMUP_SECONDS`, default a sixth of the run, at most 300).

// Test and bench code states its expectations with unwrap/expect.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use actix_web::{HttpResponse, web};
use common::*;
use ringhook::admin::simulate::{ScenarioCopies, load_scenario};
use ringhook::config::DatabaseUrl;
use ringhook::delivery::{HookSecret, TargetPolicy, TargetUrl};
use ringhook::domain::{HookEventFilter, SourceKind, TenantId, UserId};
use ringhook::storage::HookScope;
use ringhook::storage::hooks::NewHook;
use secrecy::SecretString;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const KAZOO_SECRET: &str = "soak-kazoo-token-0123456789abcdef";
const SAMPLE_EVERY: Duration = Duration::from_secs(10);
/// The memory the server may use at any point of the run.
const RSS_LIMIT_MB: f64 = 100.0;
/// Growth after warm-up that still counts as flat: well under what a per-request leak of a
/// few bytes would show over half an hour.
const FLAT_SLOPE_MB_PER_HOUR: f64 = 5.0;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn count_delivery(delivered: web::Data<AtomicUsize>) -> HttpResponse {
    delivered.fetch_add(1, Ordering::Relaxed);
    HttpResponse::NoContent().finish()
}

/// A tenant, a Kazoo source and a linked user through the admin CLI, and two tenant hooks
/// (subscribing is an API call that needs OAuth; the store does it directly). Returns the
/// source id.
async fn set_up(db: &BenchDb, receiver: &str) -> String {
    let tenant = admin(db, &["tenant", "create", "--name", "Soak"])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let source = admin(
        db,
        &[
            "source",
            "create",
            "--tenant",
            &tenant,
            "--kind",
            "kazoo",
            "--secret",
            KAZOO_SECRET,
        ],
    )["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let alice = admin(
        db,
        &[
            "user",
            "create",
            "--tenant",
            &tenant,
            "--email",
            "alice@soak.example",
            "--name",
            "Alice",
            "--extension",
            "1001",
            "--link",
            &format!("{source}:6384e2b2184bcbf58eccf10ca7a6563c"),
        ],
    )["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let store = ringhook::storage::connect(&DatabaseUrl::new(db.url.clone()), 1)
        .await
        .unwrap();
    let policy = TargetPolicy {
        allow_private: true,
        allow_http: true,
        allow_list: Vec::new(),
    };
    for path in ["one", "two"] {
        store
            .create_hook(&NewHook {
                tenant_id: TenantId::parse(&tenant).unwrap(),
                user_id: UserId::parse(&alice).unwrap(),
                grant_id: None,
                scope: HookScope::Tenant,
                event: HookEventFilter::Any,
                target_url: TargetUrl::parse(&format!("{receiver}/{path}"), &policy).unwrap(),
                secret: SecretString::from(HookSecret::generate().expose().to_owned()),
            })
            .await
            .unwrap();
    }
    store.close().await;
    source
}

/// What the load sent and how it was answered.
#[derive(Default)]
struct Sent {
    ok: AtomicUsize,
    refused: AtomicUsize,
}

/// Posts raw events of distinct Kazoo calls at `rate` per second until `until`.
async fn drive(url: String, rate: u64, until: Instant, sent: Arc<Sent>) {
    let now = chrono::Utc::now();
    let template = load_scenario(
        &fixtures("kazoo/inbound_answered"),
        SourceKind::Kazoo,
        KAZOO_SECRET,
        now,
    )
    .unwrap();
    let copies = ScenarioCopies::new(template, SourceKind::Kazoo, KAZOO_SECRET, now);
    let client = reqwest::Client::new();
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut call = 0;
    while Instant::now() < until {
        for request in copies.copy(call) {
            ticker.tick().await;
            let (client, url, sent) = (client.clone(), url.clone(), sent.clone());
            tokio::spawn(async move {
                let answer = client
                    .post(url)
                    .header("content-type", "application/json")
                    .body(request.body)
                    .send()
                    .await;
                match answer {
                    Ok(r) if r.status().is_success() => sent.ok.fetch_add(1, Ordering::Relaxed),
                    _ => sent.refused.fetch_add(1, Ordering::Relaxed),
                };
            });
        }
        call += 1;
    }
}

/// Least-squares slope of `(seconds, megabytes)` samples, in MB per hour.
fn slope_mb_per_hour(samples: &[(f64, f64)]) -> f64 {
    let n = samples.len() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let mean_t = samples.iter().map(|s| s.0).sum::<f64>() / n;
    let mean_m = samples.iter().map(|s| s.1).sum::<f64>() / n;
    let covariance: f64 = samples
        .iter()
        .map(|s| (s.0 - mean_t) * (s.1 - mean_m))
        .sum();
    let variance: f64 = samples.iter().map(|s| (s.0 - mean_t).powi(2)).sum();
    covariance / variance * 3600.0
}

fn megabytes(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

#[tokio::main]
async fn main() {
    let seconds = env_or("SOAK_SECONDS", 1800);
    let rate = env_or("SOAK_RATE", 100).max(1);
    let warmup = env_or("SOAK_WARMUP_SECONDS", (seconds / 6).min(300));
    println!(
        "soak: {seconds} s of Kazoo calls at {rate} raw events/s on SQLite, 2 tenant hooks, RSS every {} s, warm-up {warmup} s\n",
        SAMPLE_EVERY.as_secs()
    );

    let delivered = Arc::new(AtomicUsize::new(0));
    let receiver = start_receiver(delivered.clone(), count_delivery);
    let db = BenchDb::sqlite();
    let source = set_up(&db, &receiver).await;
    let server = Server::start(
        &db,
        &[
            ("RINGHOOK_ALLOW_PRIVATE_TARGETS", "true"),
            ("RINGHOOK_ALLOW_HTTP_TARGETS", "true"),
            ("RINGHOOK_DELIVERY_RATE_PER_SECOND", "100000"),
            ("RINGHOOK_CALL_SETTLE_SECONDS", "0"),
        ],
    )
    .await;

    let started = Instant::now();
    let sent = Arc::new(Sent::default());
    let load = tokio::spawn(drive(
        format!("{}/ingest/{source}?token={KAZOO_SECRET}", server.base),
        rate,
        started + Duration::from_secs(seconds),
        sent.clone(),
    ));

    let mut samples: Vec<(f64, f64)> = vec![(0.0, megabytes(server.rss_bytes()))];
    let mut sampler =
        tokio::time::interval_at(tokio::time::Instant::now() + SAMPLE_EVERY, SAMPLE_EVERY);
    while started.elapsed() < Duration::from_secs(seconds) {
        sampler.tick().await;
        let at = started.elapsed().as_secs_f64();
        let rss = megabytes(server.rss_bytes());
        samples.push((at, rss));
        println!(
            "t={at:>6.0} s   rss {rss:>6.1} MB   ingested {:>8}   refused {:>5}   delivered {:>8}",
            sent.ok.load(Ordering::Relaxed),
            sent.refused.load(Ordering::Relaxed),
            delivered.load(Ordering::Relaxed)
        );
    }
    load.await.unwrap();
    // Let the last requests and their deliveries finish before the final reading.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let end = megabytes(server.rss_bytes());
    samples.push((started.elapsed().as_secs_f64(), end));

    let start = samples[0].1;
    let peak = samples.iter().map(|s| s.1).fold(0.0, f64::max);
    let after_warmup: Vec<(f64, f64)> = samples
        .iter()
        .copied()
        .filter(|s| s.0 >= warmup as f64)
        .collect();
    let slope = slope_mb_per_hour(&after_warmup);
    println!(
        "\nsoak result: start {start:.1} MB, peak {peak:.1} MB, end {end:.1} MB, slope after warm-up {slope:+.2} MB/h ({} samples)",
        after_warmup.len()
    );
    println!(
        "             {} raw events answered 200, {} refused, {} deliveries received",
        sent.ok.load(Ordering::Relaxed),
        sent.refused.load(Ordering::Relaxed),
        delivered.load(Ordering::Relaxed)
    );
    assert!(
        peak < RSS_LIMIT_MB,
        "peak RSS {peak:.1} MB over {RSS_LIMIT_MB} MB"
    );
    assert!(
        slope < FLAT_SLOPE_MB_PER_HOUR,
        "RSS still growing after warm-up: {slope:+.2} MB/h"
    );
}
