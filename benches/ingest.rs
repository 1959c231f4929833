//! Ingest throughput: signed Kazoo and Zoom scenarios pushed through the real
//! `POST /ingest/{source}` of a `ringhook serve` process, from this separate load process, on
//! SQLite and (with `TEST_DATABASE_URL`) PostgreSQL, next to the same load against a trivial
//! handler (`GET /healthz`) of the same server: the machine's limit.
//!
//! Then the Asterisk half: raw AMI events from one connection (a scripted AMI server pushing a
//! recorded call stream, see `ami/`) through to committed triggers.
//!
//! Run: `cargo bench --bench ingest` (`BENCH_CALLS`, `BENCH_CONCURRENCY`, `BENCH_AMI_CALLS` to
//! change the load, `BENCH_RUNS=5` to repeat the measured phase, `BENCH_ONLY_AMI=1` for the
//! Asterisk half alone; `BENCH_CALLGRIND=1` for the instruction count of a fixed load under
//! valgrind instead, see [`callgrind`]).

// Test and bench code states its expectations with unwrap/expect.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod ami;
mod common;

use common::*;
use ringhook::admin::simulate::{ScenarioCopies, load_scenario};
use ringhook::domain::SourceKind;

/// `count` copies of a scenario as distinct calls (copies `first..first + count`), each a
/// list of requests to send.
fn calls(
    kind: SourceKind,
    scenario: &str,
    secret: &str,
    base: &str,
    source: &str,
    first: usize,
    count: usize,
) -> Vec<Vec<Req>> {
    let now = chrono::Utc::now();
    let template = load_scenario(&fixtures(scenario), kind, secret, now).unwrap();
    let copies = ScenarioCopies::new(template, kind, secret, now);
    (first..first + count)
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

const ZOOM_SECRET: &str = "zm_bench_secret_token_0123456789";

/// The bench tenant's two sources.
struct Sources {
    kazoo_id: String,
    kazoo_secret: String,
    zoom_id: String,
}

/// A tenant with a Kazoo and a Zoom source and a user both of them name.
fn prepare(db: &BenchDb) -> Sources {
    let tenant = admin(db, &["tenant", "create", "--name", "Bench"])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let kazoo = admin(
        db,
        &["source", "create", "--tenant", &tenant, "--kind", "kazoo"],
    );
    let zoom = admin(
        db,
        &[
            "source",
            "create",
            "--tenant",
            &tenant,
            "--kind",
            "zoom",
            "--secret",
            ZOOM_SECRET,
        ],
    );
    let sources = Sources {
        kazoo_id: kazoo["id"].as_str().unwrap().to_owned(),
        kazoo_secret: kazoo["secret"].as_str().unwrap().to_owned(),
        zoom_id: zoom["id"].as_str().unwrap().to_owned(),
    };
    admin(
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
            &format!("{}:6384e2b2184bcbf58eccf10ca7a6563c", sources.kazoo_id),
            "--link",
            &format!("{}:u8Kd3fQ9R2eX1tLm6ZpW4A", sources.zoom_id),
        ],
    );
    sources
}

/// Copies `first..first + count` of a Kazoo and of a Zoom call, as request groups.
fn load(base: &str, sources: &Sources, first: usize, count: usize) -> Vec<Vec<Req>> {
    let mut groups = calls(
        SourceKind::Kazoo,
        "kazoo/inbound_answered",
        &sources.kazoo_secret,
        base,
        &sources.kazoo_id,
        first,
        count,
    );
    groups.extend(calls(
        SourceKind::Zoom,
        "zoom/inbound_answered",
        ZOOM_SECRET,
        base,
        &sources.zoom_id,
        first,
        count,
    ));
    groups
}

async fn bench(label: &str, db: BenchDb, calls_per_kind: usize, concurrency: usize, runs: usize) {
    let server = Server::start(&db, &[]).await;
    let sources = prepare(&db);
    let mut shares = Vec::new();
    for run in 0..runs {
        let limit = trivial_rate(&server, calls_per_kind * 7, concurrency).await;
        let groups = load(&server.base, &sources, run * calls_per_kind, calls_per_kind);
        let events: usize = groups.iter().map(Vec::len).sum();
        let cpu_before = server.cpu_time();
        let ingest = run_load(groups, concurrency).await;
        let cpu = server.cpu_time() - cpu_before;
        assert_eq!(ingest.requests, events);
        let share = 100.0 * ingest.per_second() / limit.per_second();
        shares.push((share, micros_per(cpu, events)));

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
        println!("{label}: ingest reaches {share:.1}% of the trivial-handler rate\n");
    }
    if runs > 1 {
        let each: Vec<String> = shares
            .iter()
            .map(|(share, cpu)| format!("{share:.1}% ({cpu:.0} µs)"))
            .collect();
        println!(
            "{label}: share of the trivial handler (CPU per raw event) over {runs} runs: {}; lowest {:.1}%\n",
            each.join(", "),
            shares.iter().map(|(s, _)| *s).fold(f64::INFINITY, f64::min)
        );
    }
}

/// `BENCH_CALLGRIND=1`: the server on SQLite under `valgrind --tool=callgrind`, a fixed load
/// sent one request at a time (so every batch holds one request, whatever the timing), and
/// the instructions the server executed while it was handled, per raw event. Unlike a time it
/// does not move with the machine's other load. The profile is kept for `callgrind_annotate`.
async fn callgrind(calls_per_kind: usize) {
    let out_dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("callgrind");
    let _ = std::fs::remove_dir_all(&out_dir);
    std::fs::create_dir_all(&out_dir).unwrap();
    let out_file = format!("--callgrind-out-file={}/ingest.%p", out_dir.display());
    let db = BenchDb::sqlite();
    let server = Server::start_under(
        &db,
        // No call settles inside the measured phase: its work would depend on timing.
        &[("RINGHOOK_CALL_SETTLE_SECONDS", "3600")],
        &[
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            &out_file,
        ],
    )
    .await;
    let sources = prepare(&db);
    // Warm-up (caches, prepared statements), not counted.
    run_load(load(&server.base, &sources, 0, 5), 1).await;
    let groups = load(&server.base, &sources, 5, calls_per_kind);
    let events: usize = groups.iter().map(Vec::len).sum();
    let pid = server.pid().to_string();
    callgrind_control(&["--instr=on", &pid]);
    let stats = run_load(groups, 1).await;
    callgrind_control(&["--dump", &pid]);
    assert_eq!(stats.failures, 0);
    drop(server);
    let mut instructions = 0u64;
    let mut profile = None;
    for entry in std::fs::read_dir(&out_dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let total = text
            .lines()
            .find_map(|l| l.strip_prefix("totals: ").or(l.strip_prefix("summary: ")))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or(0);
        if total > instructions {
            instructions = total;
            profile = Some(path);
        }
    }
    println!(
        "sqlite: {:.0} instructions per raw event under callgrind ({events} raw events, one request at a time; {instructions} in all)",
        instructions as f64 / events as f64
    );
    if let Some(profile) = profile {
        println!(
            "profile: callgrind_annotate --inclusive=yes {}",
            profile.display()
        );
    }
}

fn callgrind_control(args: &[&str]) {
    let status = std::process::Command::new("callgrind_control")
        .args(args)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "callgrind_control {args:?}");
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
    let calls: Option<usize> = std::env::var("BENCH_CALLS")
        .ok()
        .and_then(|v| v.parse().ok());
    if std::env::var("BENCH_CALLGRIND").is_ok() {
        callgrind(calls.unwrap_or(50)).await;
        return;
    }
    let calls = calls.unwrap_or(1500);
    let concurrency: usize = std::env::var("BENCH_CONCURRENCY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32);
    let runs = bench_runs();
    println!(
        "ingest bench: {calls} Kazoo + {calls} Zoom calls (7 and 4 raw events each), {concurrency} connections, {runs} run(s)\n"
    );
    let ami_calls: usize = std::env::var("BENCH_AMI_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let only_ami = std::env::var("BENCH_ONLY_AMI").is_ok_and(|v| v == "1");
    if !only_ami {
        bench("sqlite", BenchDb::sqlite(), calls, concurrency, runs).await;
    }
    bench_ami("sqlite", BenchDb::sqlite(), ami_calls).await;
    // One fresh database at a time (each run's PostgreSQL database has the same name).
    if !only_ami && let Some(db) = BenchDb::postgres() {
        bench("postgres", db, calls, concurrency, runs).await;
    }
    match BenchDb::postgres() {
        Some(db) => bench_ami("postgres", db, ami_calls).await,
        None => println!("postgres: skipped (set TEST_DATABASE_URL)"),
    }
}
