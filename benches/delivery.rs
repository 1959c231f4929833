//! Delivery throughput and latency: a `ringhook serve` process delivering to a fast receiver
//! in this bench process.
//!
//! 1. Backlog drain: deliveries queued before the server starts (two tenant hooks × every
//!    trigger of `BENCH_CALLS` calls), timed until the receiver has them all; then again with
//!    200,000 rows of delivery history in the table.
//! 2. Steady state: raw events posted at a fixed rate (500/s by default) while the server
//!    delivers; latency from posting the raw event to its trigger's first arrival.
//!
//! Each latency run first measures the trivial handler (`GET /healthz`) of the same server,
//! the machine's limit at that moment, and splits the latency into the ingest request's answer
//! and the time from that answer to the first attempt.
//!
//! Run: `cargo bench --bench delivery` (`TEST_DATABASE_URL` adds PostgreSQL;
//! `BENCH_SKIP_SQLITE=1` leaves SQLite out, `BENCH_SKIP_DRAIN=1` the drains, `BENCH_CALLS` sets
//! the backlog size, `BENCH_RUNS=5` runs the latency phase five times in a row and prints each
//! run's p99 and the worst).

// Test and bench code states its expectations with unwrap/expect.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use actix_web::{HttpResponse, web};
use common::*;
use ringhook::admin::simulate::{ScenarioCopies, id_of_copy, load_scenario};
use ringhook::config::DatabaseUrl;
use ringhook::delivery::HookSecret;
use ringhook::domain::HookEventFilter;
use ringhook::domain::{SourceId, SourceKind, TenantId, UserId};
use ringhook::ingest::{Headers, IngestRequest, Parsed, verify_and_parse};
use ringhook::normalizer::NormalizerConfig;
use ringhook::pipeline::{DirectoryCache, IngestJob, StateCache, apply_batch};
use ringhook::storage::hooks::NewHook;
use ringhook::storage::{HookScope, Storage};
use secrecy::SecretString;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

const KAZOO_SECRET: &str = "bench-kazoo-token-0123456789abcdef";

/// What the receiver saw: a count, and the first arrival of each (call, type).
#[derive(Default)]
struct Seen {
    count: AtomicUsize,
    first: Mutex<HashMap<(String, String), Instant>>,
}

async fn receive(body: web::Bytes, seen: web::Data<Seen>) -> HttpResponse {
    seen.count.fetch_add(1, Ordering::Relaxed);
    if let Ok(event) = serde_json::from_slice::<serde_json::Value>(&body) {
        let key = (
            event["call"]["source_call_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            event["type"].as_str().unwrap_or_default().to_owned(),
        );
        seen.first
            .lock()
            .unwrap()
            .entry(key)
            .or_insert_with(Instant::now);
    }
    HttpResponse::NoContent().finish()
}

/// The raw Kazoo events of call number `n` (ids made unique), as (file, body) pairs. The
/// scenario is loaded and its ids found once, not in the load loop.
fn call_bodies(n: usize) -> Vec<(String, Vec<u8>)> {
    static KAZOO_CALL: OnceLock<ScenarioCopies> = OnceLock::new();
    let copies = KAZOO_CALL.get_or_init(|| {
        let now = chrono::Utc::now();
        let template = load_scenario(
            &fixtures("kazoo/inbound_answered"),
            SourceKind::Kazoo,
            KAZOO_SECRET,
            now,
        )
        .unwrap();
        ScenarioCopies::new(template, SourceKind::Kazoo, KAZOO_SECRET, now)
    });
    copies
        .copy(n)
        .into_iter()
        .map(|r| (r.file, r.body))
        .collect()
}

struct Setup {
    tenant: TenantId,
    source: SourceId,
    alice: UserId,
}

async fn setup(db: &BenchDb) -> (Arc<dyn Storage>, Setup) {
    let store = ringhook::storage::connect(&DatabaseUrl::new(db.url.clone()), 4)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let tenant = admin(db, &["tenant", "create", "--name", "Bench"])["id"]
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
    );
    let source = source["id"].as_str().unwrap().to_owned();
    let alice = admin(
        db,
        &[
            "user",
            "create",
            "--tenant",
            &tenant,
            "--email",
            "alice@bench.example",
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
    let setup = Setup {
        tenant: TenantId::parse(&tenant).unwrap(),
        source: SourceId::parse(&source).unwrap(),
        alice: UserId::parse(&alice).unwrap(),
    };
    (store, setup)
}

async fn subscribe(store: &dyn Storage, setup: &Setup, url: String) {
    store
        .create_hook(&NewHook {
            tenant_id: setup.tenant.clone(),
            user_id: setup.alice.clone(),
            grant_id: None,
            scope: HookScope::Tenant,
            event: HookEventFilter::Any,
            target_url: ringhook::delivery::TargetUrl::parse(
                &url,
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

/// Queues the deliveries of `calls` calls directly through the ingest pipeline (no server).
async fn queue_backlog(store: &dyn Storage, setup: &Setup, first_call: usize, calls: usize) -> u64 {
    let source = Arc::new(store.source(&setup.source).await.unwrap().unwrap());
    let directories = DirectoryCache::new(Duration::from_secs(60));
    let directory = directories.for_source(store, &source).await.unwrap();
    let config = NormalizerConfig {
        settle: chrono::TimeDelta::zero(),
        ..NormalizerConfig::default()
    };
    let now = chrono::Utc::now();
    let mut queued = 0;
    for n in first_call..first_call + calls {
        for (_, body) in call_bodies(n) {
            let headers = Headers::new([("content-type", "application/json")]);
            let request = IngestRequest {
                headers: &headers,
                query_token: Some(KAZOO_SECRET),
                body: &body,
            };
            if let Ok(Parsed::Events(events)) =
                verify_and_parse(SourceKind::Kazoo, KAZOO_SECRET, &request, now)
            {
                let job = IngestJob {
                    source: source.clone(),
                    directory: directory.clone(),
                    events,
                    now,
                    received: None,
                };
                queued += apply_batch(store, &config, &StateCache::default(), &[job])
                    .await
                    .unwrap()[0]
                    .deliveries;
            }
        }
        // `call.ended` comes from settling, which the server would do; do it here.
        queued += settle_all(store, &config).await;
    }
    queued
}

async fn settle_all(store: &dyn Storage, config: &NormalizerConfig) -> u64 {
    let later = chrono::Utc::now() + chrono::TimeDelta::seconds(1);
    let before = store.queue_stats(later).await.unwrap().pending;
    ringhook::pipeline::settle::settle_due(store, config, later, 1000)
        .await
        .unwrap();
    (store.queue_stats(later).await.unwrap().pending - before) as u64
}

/// Adds `rows` delivered deliveries (with one attempt each) as history.
async fn add_history(db: &BenchDb, rows: usize) {
    let sql = format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) \
         INSERT INTO deliveries (id, tenant_id, hook_id, event_seq, status, attempts, next_attempt_at, created_at, updated_at) \
         SELECT 'dlv_hist' || i, d.tenant_id, d.hook_id, d.event_seq, 'delivered', 1, d.created_at, d.created_at, d.created_at \
         FROM n, (SELECT * FROM deliveries LIMIT 1) d"
    );
    if db.url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        sqlx::query(&sql).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        // History grows over weeks in production, with autovacuum's ANALYZE keeping the
        // planner's statistics current; after a bulk insert they must be refreshed by hand.
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        sqlx::query(&sql).execute(&pool).await.unwrap();
        sqlx::query("ANALYZE").execute(&pool).await.unwrap();
        pool.close().await;
    }
}

const SERVER_ENV: &[(&str, &str)] = &[
    ("RINGHOOK_ALLOW_PRIVATE_TARGETS", "true"),
    ("RINGHOOK_ALLOW_HTTP_TARGETS", "true"),
    ("RINGHOOK_DELIVERY_RATE_PER_SECOND", "100000"),
    ("RINGHOOK_CALL_SETTLE_SECONDS", "0"),
];

async fn drain(
    label: &str,
    db: &BenchDb,
    store: &dyn Storage,
    setup: &Setup,
    seen: &Arc<Seen>,
    first_call: usize,
    calls: usize,
) {
    let queued = queue_backlog(store, setup, first_call, calls).await as usize;
    let before = seen.count.load(Ordering::Relaxed);
    let started = Instant::now();
    let server = Server::start(db, SERVER_ENV).await;
    let cpu_before = server.cpu_time();
    while seen.count.load(Ordering::Relaxed) < before + queued {
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "backlog not drained"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed();
    let cpu = server.cpu_time() - cpu_before;
    println!(
        "{label:<52} {:>8.0} deliveries/s   ({queued} deliveries in {:.2} s, server start included; server CPU {:.1} µs per delivery)",
        queued as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64(),
        micros_per(cpu, queued)
    );
    drop(server);
}

/// Seconds of load before the measured phase of a latency run.
const WARMUP_SECONDS: usize = 1;

/// What one latency run measured.
struct SteadyRun {
    /// Raw event posted → its trigger's first delivery attempt, 99th percentile.
    p99: Duration,
}

async fn steady(
    label: &str,
    db: &BenchDb,
    source: &SourceId,
    seen: &Arc<Seen>,
    first_call: usize,
    rate: usize,
    seconds: u64,
) -> SteadyRun {
    let server = Server::start(db, SERVER_ENV).await;
    let backend = label.split(':').next().unwrap_or(label).to_owned();
    let limit = trivial_rate(&server, 16_000, 32).await;
    println!(
        "{}",
        limit.line(&format!("{backend}: trivial handler (GET /healthz)"))
    );
    let client = reqwest::Client::new();
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let total = rate * seconds as usize;
    // The same load for a second first, not counted: the server was just started, and its
    // first requests (and the bench's) open connections and prepare statements.
    let warmup = rate * WARMUP_SECONDS;
    let mut cpu_before = server.cpu_time();
    // Per trigger: when its raw event was posted and when the server answered it.
    type Stamps = HashMap<(String, String), (Instant, Option<Instant>)>;
    let sent: Arc<Mutex<Stamps>> = Arc::default();
    let mut started = Instant::now();
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut tasks = Vec::new();
    let mut n = first_call;
    let mut queue: Vec<(String, Vec<u8>)> = Vec::new();
    for i in 0..warmup + total {
        let measured = i >= warmup;
        if i == warmup {
            cpu_before = server.cpu_time();
            started = Instant::now();
        }
        if queue.is_empty() {
            queue = call_bodies(n);
            queue.reverse();
            n += 1;
        }
        let (file, body) = queue.pop().unwrap();
        let call = id_of_copy("63884642400-3f2a1b9c", n - 1);
        ticker.tick().await;
        let (client, sent) = (client.clone(), sent.clone());
        let url = format!("{}/ingest/{}?token={KAZOO_SECRET}", server.base, source);
        tasks.push(tokio::spawn(async move {
            let at = Instant::now();
            let trigger = match file.as_str() {
                f if f.starts_with("02_") => Some("call.ringing"),
                f if f.starts_with("03_") => Some("call.answered"),
                _ => None,
            };
            let key = trigger.filter(|_| measured).map(|t| (call, t.to_owned()));
            if let Some(key) = &key {
                sent.lock().unwrap().insert(key.clone(), (at, None));
            }
            let status = client
                .post(url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0);
            let answered = Instant::now();
            if let Some(key) = key
                && let Some(stamps) = sent.lock().unwrap().get_mut(&key)
            {
                stamps.1 = Some(answered);
            }
            (status, measured.then_some(answered - at))
        }));
    }
    let mut failed = 0;
    let mut answered = Vec::with_capacity(tasks.len());
    for t in tasks {
        let (status, took) = t.await.unwrap();
        if status != 200 {
            failed += 1;
        }
        answered.extend(took);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    // Ingest, normalization and the deliveries it caused, all inside the server.
    let cpu = server.cpu_time() - cpu_before;
    let sent = sent.lock().unwrap().clone();
    let first = seen.first.lock().unwrap().clone();
    let mut latencies = Vec::new();
    let mut after_answer = Vec::new();
    // (latency, when in the run its raw event was sent), to tell a start-up tail from a
    // periodic one.
    let mut slowest = Vec::new();
    for (key, (at, answer)) in &sent {
        if let Some(arrived) = first.get(key) {
            latencies.push(arrived.saturating_duration_since(*at));
            slowest.push((
                arrived.saturating_duration_since(*at),
                at.saturating_duration_since(started),
            ));
            if let Some(answer) = answer {
                after_answer.push(arrived.saturating_duration_since(*answer));
            }
        }
    }
    let p99 = percentile(&mut latencies, 0.99);
    println!(
        "{label:<52} p50 {:>6.1} ms   p99 {:>6.1} ms   max {:>6.1} ms   ({} of {} triggers seen, {} raw events at {rate}/s, {failed} refused)",
        ms(percentile(&mut latencies, 0.5)),
        ms(p99),
        ms(percentile(&mut latencies, 1.0)),
        latencies.len(),
        sent.len(),
        total
    );
    println!(
        "{:<52} p50 {:>6.1} ms   p99 {:>6.1} ms   max {:>6.1} ms",
        format!("{backend}: ingest request answered (same load)"),
        ms(percentile(&mut answered, 0.5)),
        ms(percentile(&mut answered, 0.99)),
        ms(percentile(&mut answered, 1.0)),
    );
    println!(
        "{:<52} p50 {:>6.1} ms   p99 {:>6.1} ms   max {:>6.1} ms",
        format!("{backend}: answer → first delivery attempt"),
        ms(percentile(&mut after_answer, 0.5)),
        ms(percentile(&mut after_answer, 0.99)),
        ms(percentile(&mut after_answer, 1.0)),
    );
    slowest.sort_by(|a, b| b.cmp(a));
    let slowest: Vec<String> = slowest
        .iter()
        .take(latencies.len() / 100 + 1)
        .map(|(took, at)| format!("{:.0} ms at {:.1} s", ms(*took), at.as_secs_f64()))
        .collect();
    println!(
        "{:<52} {}",
        format!("{backend}: slowest 1 % (sent at, into the run)"),
        slowest.join(", ")
    );
    println!(
        "{:<52} {:>6.1} µs per raw event (ingest + its deliveries)",
        format!("{backend}: server CPU, same load"),
        micros_per(cpu, total),
    );
    drop(server);
    SteadyRun { p99 }
}

/// The `p` quantile (0.0 to 1.0) of `values`, sorting them; zero when empty.
fn percentile(values: &mut [Duration], p: f64) -> Duration {
    values.sort();
    values
        .get(((values.len().saturating_sub(1)) as f64 * p).round() as usize)
        .copied()
        .unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

async fn bench(label: &str, db: BenchDb, calls: usize, runs: usize) {
    let seen = Arc::new(Seen::default());
    let receiver = start_receiver(seen.clone(), receive);
    let (store, setup) = setup(&db).await;
    subscribe(store.as_ref(), &setup, format!("{receiver}/one")).await;
    subscribe(store.as_ref(), &setup, format!("{receiver}/two")).await;
    if std::env::var("BENCH_SKIP_DRAIN").is_err() {
        drain(
            &format!("{label}: backlog drain"),
            &db,
            store.as_ref(),
            &setup,
            &seen,
            0,
            calls,
        )
        .await;
        add_history(&db, 200_000).await;
        drain(
            &format!("{label}: backlog drain, 200k rows of history"),
            &db,
            store.as_ref(),
            &setup,
            &seen,
            calls,
            calls,
        )
        .await;
    }
    store.close().await;
    let (rate, seconds) = (500, 10);
    // Each run's calls are new ones (ids past every earlier run's).
    let calls_per_run = rate * seconds as usize;
    let mut p99s = Vec::new();
    for run in 0..runs {
        let outcome = steady(
            &format!("{label}: raw event posted → first delivery attempt"),
            &db,
            &setup.source,
            &seen,
            2 * calls + run * calls_per_run,
            rate,
            seconds,
        )
        .await;
        p99s.push(outcome.p99);
        println!();
    }
    if runs > 1 {
        let each: Vec<String> = p99s.iter().map(|p| format!("{:.1}", ms(*p))).collect();
        println!(
            "{label}: raw event → first delivery attempt p99 over {runs} runs: {} ms; worst {:.1} ms\n",
            each.join(", "),
            ms(p99s.iter().copied().max().unwrap_or_default())
        );
    }
}

#[tokio::main]
async fn main() {
    let calls: usize = std::env::var("BENCH_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2500);
    let runs = bench_runs();
    println!(
        "delivery bench: {calls} calls × 3 triggers × 2 tenant hooks per drain; receiver answers 204 at once; {runs} latency run(s)\n"
    );
    if std::env::var("BENCH_SKIP_SQLITE").is_err() {
        bench("sqlite", BenchDb::sqlite(), calls, runs).await;
    }
    match BenchDb::postgres() {
        Some(db) => bench("postgres", db, calls, runs).await,
        None => println!("postgres: skipped (set TEST_DATABASE_URL)"),
    }
}
