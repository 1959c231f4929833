//! `ringhook reconcile` backfilling a whole day (issue 13): the real binary reads a fake Kazoo
//! CDR API that generates the day's calls page by page, recovers every call exactly once,
//! reports progress on stderr after each page, and keeps its memory flat whatever the day
//! holds (one page at a time): its peak resident memory for 10,000 calls stays within a few
//! megabytes of its peak for 1,000.
//!
//! SQLite runs the 10,000-call day; PostgreSQL runs a 1,000-call twin, read twice to show the
//! second run emits nothing.

use crate::support::TestDatabase;
use crate::support::kazoo_history::{API_KEY, GREGORIAN, KazooHistory};
use crate::support::tenant::{AcmeTenant, SourceApis, acme_with};
use crate::support::workdir::BIN;
use chrono::{DateTime, Utc};
use ringhook::config::Backend;
use ringhook::domain::WebUrl;
use ringhook::storage::PbxApi;
use secrecy::SecretString;
use serde_json::Value;
use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// 2024-06-03T00:00:00Z in Gregorian seconds: the backfilled day.
const DAY: i64 = 63_884_592_000;

/// What one `ringhook reconcile` run printed and used.
struct Run {
    /// Distinct call ids of the `call.ended` events printed, and how many were printed.
    ended_calls: HashSet<String>,
    ended_lines: usize,
    missed_lines: usize,
    /// Every printed event came from history.
    all_reconciled: bool,
    /// The stderr lines `page N: …`, and the last stdout line (the totals).
    progress: Vec<String>,
    totals: Value,
    /// The peak resident memory of the process (`VmHWM`), in KiB.
    peak_kib: u64,
    took: Duration,
}

struct Day {
    db: TestDatabase,
    history: KazooHistory,
    acme: AcmeTenant,
}

async fn day_of(backend: Backend, calls: usize) -> Option<Day> {
    let db = TestDatabase::of(backend).await?;
    let history = KazooHistory::start().await;
    history.serve_day(DAY, calls);
    // 499 legs a page: two-leg calls straddle every page boundary.
    history.cap_pages(499);
    let apis = SourceApis {
        kazoo: Some(PbxApi {
            url: WebUrl::parse(&history.address).unwrap(),
            key: SecretString::from(API_KEY.to_owned()),
        }),
        zoom: None,
    };
    let acme = acme_with(db.store.as_ref(), &apis).await;
    Some(Day { db, history, acme })
}

fn at(gregorian: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(gregorian - GREGORIAN, 0).unwrap()
}

impl Day {
    /// Runs `ringhook reconcile` over the day on its own thread (it blocks on the child),
    /// sampling the child's peak memory until it exits.
    async fn reconcile(&self) -> Run {
        let mut command = Command::new(BIN);
        command
            .args([
                "reconcile",
                "--source",
                self.acme.kazoo.id.as_str(),
                "--from",
                &at(DAY).to_rfc3339(),
                "--to",
                &at(DAY + 86_400).to_rfc3339(),
            ])
            .env_remove("RUST_LOG")
            .env("RINGHOOK_DATABASE_URL", self.db.url.expose())
            .env("RINGHOOK_PUBLIC_URL", "https://hooks.example.net")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        tokio::task::spawn_blocking(move || run(command))
            .await
            .unwrap()
    }
}

fn run(mut command: Command) -> Run {
    let started = Instant::now();
    let mut child = command.spawn().unwrap();
    let pid = child.id();
    let stderr = child.stderr.take().unwrap();
    let progress = std::thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<String>>()
    });
    // The peak so far, read while the process lives; its last reading is the run's peak
    // within one sampling interval.
    let sampler = std::thread::spawn(move || {
        let mut peak = 0;
        let path = format!("/proc/{pid}/status");
        while let Ok(status) = std::fs::read_to_string(&path) {
            let hwm = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
            match hwm {
                Some(kib) => peak = peak.max(kib),
                None => break, // a zombie: the process has exited
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        peak
    });
    let mut out = Run {
        ended_calls: HashSet::new(),
        ended_lines: 0,
        missed_lines: 0,
        all_reconciled: true,
        progress: Vec::new(),
        totals: Value::Null,
        peak_kib: 0,
        took: Duration::ZERO,
    };
    // Read line by line: the day's events are never held by the test either.
    let stdout = BufReader::new(child.stdout.take().unwrap());
    for line in stdout.lines() {
        let line = line.unwrap();
        let value: Value = serde_json::from_str(&line).unwrap();
        let Some(event) = value.get("emitted") else {
            out.totals = value;
            continue;
        };
        out.all_reconciled &= event["origin"] == "reconciled";
        match event["type"].as_str() {
            Some("call.ended") => {
                out.ended_lines += 1;
                out.ended_calls
                    .insert(event["call"]["id"].as_str().unwrap().to_owned());
            }
            Some("call.missed") => out.missed_lines += 1,
            _ => {}
        }
    }
    let status = child.wait().unwrap();
    let stderr = progress.join().unwrap();
    out.peak_kib = sampler.join().unwrap();
    out.took = started.elapsed();
    assert!(status.success(), "reconcile failed: {}", stderr.join("\n"));
    out.progress = stderr
        .into_iter()
        .filter(|l| l.starts_with("page "))
        .collect();
    out
}

/// Checks that `run` recovered each of the day's `calls` calls exactly once.
fn assert_recovered_once(run: &Run, calls: usize) {
    assert_eq!(run.ended_lines, calls, "one call.ended per call");
    assert_eq!(run.ended_calls.len(), calls, "no call.ended twice");
    assert_eq!(
        run.missed_lines,
        calls / 2,
        "the odd calls were Bob's misses"
    );
    assert!(run.all_reconciled);
    let totals = &run.totals["totals"];
    assert_eq!(totals["recovered"], calls, "{totals}");
    assert_eq!(totals["records"], calls, "{totals}");
    // Progress after each page: 2 legs a call, 499 legs a page.
    let pages = (calls * 2).div_ceil(499);
    assert_eq!(totals["pages"], pages, "{totals}");
    assert_eq!(run.progress.len(), pages, "{:?}", run.progress.first());
    for (n, line) in run.progress.iter().enumerate() {
        assert!(line.starts_with(&format!("page {}: ", n + 1)), "{line}");
    }
}

#[tokio::test]
async fn a_day_of_ten_thousand_calls_is_backfilled_once_in_flat_memory() {
    let small = day_of(Backend::Sqlite, 1_000).await.unwrap();
    let small_run = small.reconcile().await;
    assert_recovered_once(&small_run, 1_000);
    let big = day_of(Backend::Sqlite, 10_000).await.unwrap();
    let big_run = big.reconcile().await;
    assert_recovered_once(&big_run, 10_000);
    assert_eq!(big.history.queries().len(), 41);
    let (small_mib, big_mib) = (small_run.peak_kib / 1024, big_run.peak_kib / 1024);
    eprintln!(
        "1,000 calls: {:?}, peak {small_mib} MiB; 10,000 calls: {:?}, peak {big_mib} MiB",
        small_run.took, big_run.took
    );
    // Ten times the calls, a few MiB more at most (the day's 20,000 legs and 15,000 events
    // held as JSON would take well over that).
    assert!(
        big_run.peak_kib < small_run.peak_kib + 8 * 1024,
        "peak {big_mib} MiB for 10,000 calls against {small_mib} MiB for 1,000"
    );
}

#[tokio::test]
async fn a_day_backfilled_twice_on_postgres_emits_nothing_the_second_time() {
    let Some(day) = day_of(Backend::Postgres, 1_000).await else {
        return;
    };
    let first = day.reconcile().await;
    assert_recovered_once(&first, 1_000);
    let second = day.reconcile().await;
    assert_eq!(second.ended_lines + second.missed_lines, 0);
    assert_eq!(second.totals["totals"]["already_ended"], 1_000);
    assert_eq!(second.totals["totals"]["events"], 0);
}
