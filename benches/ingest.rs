//! Ingest throughput: signed Kazoo and Zoom scenarios pushed through the real
//! `POST /ingest/{source}` of a `ringhook serve` process, from this separate load process, on
//! SQLite and (with `TEST_DATABASE_URL`) PostgreSQL, next to the same load against a trivial
//! handler (`GET /healthz`) of the same server: the machine's limit.
//!
//! Then the Asterisk half: raw AMI events from one connection (a scripted AMI server pushing a
//! recorded call stream, see `ami/`) through to committed triggers.
//!
//! Run: `cargo bench --bench ingest` (`BENCH_CALLS`, `BENCH_CONCURRENCY`, `BENCH_AMI_CALLS`
//! to change the load).

// Test and bench code states its expectations with unwrap/expect.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod ami;
mod common;

use common::*;
use ringhook::admin::simulate::{ScenarioCopies, load_scenario};
use ringhook::domain::SourceKind;

/// `count` copies of a scenario as distinct calls, each a list of requests to send.
fn calls(
    kind: SourceKind,
    scenario: &str,
    secret: &str,
    base: &str,
    source: &str,
    count: usize,
) -> Vec<Vec<Req>> {
    let now = chrono::Utc::now();
    let template = load_scenario(&fixtures(scenario), kind, secret, now).unwrap();
    let copies = ScenarioCopies::new(template, kind, secret, now);
    (0..count)
        .map(|n| {
            copies
                .copy(n)
                .into_iter()
                .map(|request| {
                    let mut url = format!("{base}/ingest/{source}");
                    if let Some(token) = &request.query_token {
                        url.push_str(&format!("?token={token}"));
                    }
                    Req {
                        url,
                        headers: request.headers,
                        body: Some(request.body),
                    }
                })
                .collect()
        })
        .collect()
}

async fn bench(label: &str, db: BenchDb, calls_per_kind: usize, concurrency: usize) {
    let server = Server::start(&db, &[]).await;
    let tenant = admin(&db, &["tenant", "create", "--name", "Bench"])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let kazoo = admin(
        &db,
        &["source", "create", "--tenant", &tenant, "--kind", "kazoo"],
    );
    let zoom_secret = "zm_bench_secret_token_0123456789";
    let zoom = admin(
        &db,
        &[
            "source",
            "create",
            "--tenant",
            &tenant,
            "--kind",
            "zoom",
            "--secret",
            zoom_secret,
        ],
    );
    admin(
        &db,
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
            &format!(
                "{}:6384e2b2184bcbf58eccf10ca7a6563c",
                kazoo["id"].as_str().unwrap()
            ),
            "--link",
            &format!("{}:u8Kd3fQ9R2eX1tLm6ZpW4A", zoom["id"].as_str().unwrap()),
        ],
    );

    let trivial: Vec<Vec<Req>> = (0..calls_per_kind * 7)
        .map(|_| {
            vec![Req {
                url: format!("{}/healthz", server.base),
                headers: vec![],
                body: None,
            }]
        })
        .collect();
    let limit = run_load(trivial, concurrency).await;

    let mut groups = calls(
        SourceKind::Kazoo,
        "kazoo/inbound_answered",
        kazoo["secret"].as_str().unwrap(),
        &server.base,
        kazoo["id"].as_str().unwrap(),
        calls_per_kind,
    );
    groups.extend(calls(
        SourceKind::Zoom,
        "zoom/inbound_answered",
        zoom_secret,
        &server.base,
        zoom["id"].as_str().unwrap(),
        calls_per_kind,
    ));
    let events: usize = groups.iter().map(Vec::len).sum();
    let cpu_before = server.cpu_time();
    let ingest = run_load(groups, concurrency).await;
    let cpu = server.cpu_time() - cpu_before;
    assert_eq!(ingest.requests, events);

    println!(
        "{}",
        limit.line(&format!("{label}: trivial handler (GET /healthz)"))
    );
    println!(
        "{}",
        ingest.line(&format!("{label}: raw events through POST /ingest"))
    );
    println!(
        "{label}: server CPU per raw event {:.1} µs ({:.2} s user+system for {events} events)",
        micros_per(cpu, events),
        cpu.as_secs_f64()
    );
    println!(
        "{label}: ingest reaches {:.0}% of the trivial-handler rate\n",
        100.0 * ingest.per_second() / limit.per_second()
    );
}

/// The triggers committed so far (every call's ringing, answered and ended).
async fn committed_triggers(db: &BenchDb) -> i64 {
    let sql = "SELECT COUNT(*) FROM call_events";
    if db.url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        let count = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
        pool.close().await;
        count
    } else {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        let count = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
        pool.close().await;
        count
    }
}

/// One AMI connection pushing `calls` recorded answered calls (11 AMI events each) as fast
/// as ringhook reads them; timed until all their triggers are committed.
async fn bench_ami(label: &str, db: BenchDb, calls: usize) {
    let events = ami::recording(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/asterisk/ami_inbound_answered"),
    );
    let (wire, sent) = ami::stream(&events, calls);
    let (port, started) = ami::serve(wire).await;
    let tenant = admin(&db, &["tenant", "create", "--name", "Bench"])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    admin(
        &db,
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
        ],
    );
    admin(
        &db,
        &[
            "source",
            "create",
            "--tenant",
            &tenant,
            "--kind",
            "asterisk",
            "--ami-url",
            &format!("tcp://127.0.0.1:{port}"),
            "--username",
            "bench",
            "--secret",
            "bench-secret",
        ],
    );
    let server = Server::start(&db, &[("RINGHOOK_CALL_SETTLE_SECONDS", "0")]).await;
    let cpu_before = server.cpu_time();
    let start = tokio::time::timeout(std::time::Duration::from_secs(30), started)
        .await
        .expect("ringhook never logged in to the scripted AMI")
        .unwrap();
    let expected = 3 * calls as i64;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
    loop {
        let committed = committed_triggers(&db).await;
        if committed >= expected {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{committed} of {expected} triggers after 10 minutes"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let elapsed = start.elapsed();
    let cpu = server.cpu_time() - cpu_before;
    println!(
        "{label}: AMI events through one connection to committed triggers: {:.0}/s \
         ({sent} events, {calls} calls, {expected} triggers in {:.2} s)",
        sent as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64()
    );
    println!(
        "{label}: server CPU per AMI event {:.1} µs ({:.2} s user+system)\n",
        micros_per(cpu, sent),
        cpu.as_secs_f64()
    );
}

#[tokio::main]
async fn main() {
    let calls: usize = std::env::var("BENCH_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500);
    let concurrency: usize = std::env::var("BENCH_CONCURRENCY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32);
    println!(
        "ingest bench: {calls} Kazoo + {calls} Zoom calls (7 and 4 raw events each), {concurrency} connections\n"
    );
    let ami_calls: usize = std::env::var("BENCH_AMI_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let only_ami = std::env::var("BENCH_ONLY_AMI").is_ok_and(|v| v == "1");
    if !only_ami {
        bench("sqlite", BenchDb::sqlite(), calls, concurrency).await;
    }
    bench_ami("sqlite", BenchDb::sqlite(), ami_calls).await;
    // One fresh database at a time (each run's PostgreSQL database has the same name).
    if !only_ami && let Some(db) = BenchDb::postgres() {
        bench("postgres", db, calls, concurrency).await;
    }
    match BenchDb::postgres() {
        Some(db) => bench_ami("postgres", db, ami_calls).await,
        None => println!("postgres: skipped (set TEST_DATABASE_URL)"),
    }
}
