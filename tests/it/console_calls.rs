//! The console's calls list on a tenant with many calls: a page at a time, newest first, each
//! call once, with an "Older calls" link that carries on exactly where the page stopped.

use crate::console::{get, signed_in};
use crate::oauth::fixture::*;
use crate::support::scenario::requests;
use ringhook::admin::simulate::ScenarioCopies;
use ringhook::config::Backend;
use ringhook::domain::SourceKind;
use ringhook::ingest::Parsed;
use ringhook::normalizer::{NormalizerConfig, StaticDirectory};
use ringhook::pipeline::{DirectoryCache, IngestJob, StateCache, apply_batch};
use ringhook::storage::{NewSource, Source};
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Copy `n` of the scenario, verified and parsed as ingest would, as jobs for `apply_batch`.
fn ingest_jobs(
    source: &Source,
    directory: &Arc<StaticDirectory>,
    copies: &ScenarioCopies,
    n: usize,
) -> Vec<IngestJob> {
    copies
        .copy(n)
        .into_iter()
        .filter_map(|request| {
            let parsed = request
                .verify_and_parse(
                    source.kind,
                    source.secret.expose_secret(),
                    chrono::Utc::now(),
                )
                .unwrap();
            match parsed {
                Parsed::Events(events) => Some(IngestJob {
                    source: Arc::new(source.clone()),
                    directory: directory.clone(),
                    events,
                    now: chrono::Utc::now(),
                    received: None,
                }),
                _ => None,
            }
        })
        .collect()
}

/// Applies `calls` copies of a Kazoo call to the store, copy after copy (as many requests
/// apart); the call ids, oldest first.
pub async fn seed_calls(f: &Fixture, source: &Source, calls: usize) -> Vec<String> {
    let store = f.app.db.store.as_ref();
    let copies = ScenarioCopies::new(
        requests(source, "kazoo/inbound_answered"),
        source.kind,
        source.secret.expose_secret(),
        chrono::Utc::now(),
    );
    let directory = DirectoryCache::new(Duration::from_secs(60))
        .for_source(store, source)
        .await
        .unwrap();
    // No call settles while the test reads: a call.ended would move its call to the top.
    let config = NormalizerConfig {
        settle: chrono::TimeDelta::hours(1),
        ..NormalizerConfig::default()
    };
    let mut ids = Vec::new();
    for n in 0..calls {
        let jobs = ingest_jobs(source, &directory, &copies, n);
        let summaries = apply_batch(store, &config, &StateCache::default(), &jobs)
            .await
            .unwrap();
        let id = summaries
            .iter()
            .flat_map(|s| &s.events)
            .map(|e| e.call.id.clone())
            .next()
            .unwrap();
        ids.push(id);
    }
    ids
}

/// The call ids a calls page links to, in order.
fn listed(page: &str) -> Vec<String> {
    let body = page.split("id=\"calls\"").nth(1).unwrap();
    let body = body.split("</tbody>").next().unwrap();
    body.split("href=\"/console/calls/")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_owned())
        .collect()
}

/// The "Older calls" link of a page, if it has one.
fn older(page: &str) -> Option<String> {
    let (before, _) = page.split_once("\" rel=\"next\">Older calls")?;
    let start = before.rfind("href=\"")? + "href=\"".len();
    Some(before[start..].replace("&#38;", "&"))
}

async fn the_calls_list_pages_through_many_calls_newest_first(backend: Backend) {
    let Some(f) = fixture_on(backend, |_| {}).await else {
        return;
    };
    let source = f
        .app
        .db
        .store
        .create_source(&NewSource {
            tenant_id: f.tenant.id.clone(),
            kind: SourceKind::Kazoo,
            secret: SecretString::from("kazoo-secret-0123456789".to_owned()),
            account_id: None,
            api: None,
            zoom: None,
        })
        .await
        .unwrap();
    let seeded = seed_calls(&f, &source, 120).await;
    let mut newest_first = seeded.clone();
    newest_first.reverse();

    let (alice, _) = signed_in(&f, "alice@acme.example").await;
    let mut shown = Vec::new();
    let mut path = "/console/calls".to_owned();
    let mut pages = 0;
    loop {
        let started = Instant::now();
        let page = get(&f, &alice, &path).await;
        assert_eq!(page.status(), 200);
        let page = page.text().await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(5), "{path}");
        let lines = listed(&page);
        assert!(lines.len() <= 50, "{path}: {}", lines.len());
        shown.extend(lines);
        pages += 1;
        match older(&page) {
            Some(next) => path = next,
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(shown, newest_first, "every call once, newest first");

    // A filter carries over to the next page.
    let filtered = get(&f, &alice, "/console/calls?type=call.answered")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(listed(&filtered), newest_first[..50]);
    let next = older(&filtered).unwrap();
    assert!(next.contains("type=call.answered"), "{next}");
    let second = get(&f, &alice, &next).await.text().await.unwrap();
    assert_eq!(listed(&second), newest_first[50..100]);
}

for_each_backend!(the_calls_list_pages_through_many_calls_newest_first);

/// The figure in the README: the first and a deep page of the calls list on a tenant with
/// `CONSOLE_SCALE_CALLS` calls (30,000 by default, about 100,000 triggers). Run by hand:
/// `cargo test --release --test it console_calls_scale -- --ignored --nocapture`.
async fn console_calls_scale(backend: Backend) {
    let Some(f) = fixture_on(backend, |_| {}).await else {
        return;
    };
    let calls: usize = std::env::var("CONSOLE_SCALE_CALLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(30_000);
    let source = f
        .app
        .db
        .store
        .create_source(&NewSource {
            tenant_id: f.tenant.id.clone(),
            kind: SourceKind::Kazoo,
            secret: SecretString::from("kazoo-secret-0123456789".to_owned()),
            account_id: None,
            api: None,
            zoom: None,
        })
        .await
        .unwrap();
    let store = f.app.db.store.as_ref();
    let copies = ScenarioCopies::new(
        requests(&source, "kazoo/inbound_answered"),
        source.kind,
        source.secret.expose_secret(),
        chrono::Utc::now(),
    );
    let directory = DirectoryCache::new(Duration::from_secs(60))
        .for_source(store, &source)
        .await
        .unwrap();
    let config = NormalizerConfig::default();
    let mut triggers = 0;
    for chunk in (0..calls).collect::<Vec<_>>().chunks(100) {
        let jobs: Vec<IngestJob> = chunk
            .iter()
            .flat_map(|n| ingest_jobs(&source, &directory, &copies, *n))
            .collect();
        let summaries = apply_batch(store, &config, &StateCache::default(), &jobs)
            .await
            .unwrap();
        triggers += summaries.iter().map(|s| s.events.len()).sum::<usize>();
    }
    let (alice, _) = signed_in(&f, "alice@acme.example").await;
    let mut path = "/console/calls".to_owned();
    for page in 0..=200 {
        let started = Instant::now();
        let body = get(&f, &alice, &path).await.text().await.unwrap();
        let took = started.elapsed();
        if page == 0 || page == 200 {
            eprintln!(
                "{backend:?}: {calls} calls, {triggers} triggers: calls page {page} in {took:?}"
            );
        }
        match older(&body) {
            Some(next) => path = next,
            None => break,
        }
    }
    let started = Instant::now();
    let filtered = get(&f, &alice, "/console/calls?type=call.answered").await;
    assert_eq!(filtered.status(), 200);
    eprintln!("{backend:?}: filtered by type in {:?}", started.elapsed());
}

#[tokio::test]
#[ignore = "a measurement, run by hand"]
async fn console_calls_scale_sqlite() {
    console_calls_scale(Backend::Sqlite).await;
}

#[tokio::test]
#[ignore = "a measurement, run by hand"]
async fn console_calls_scale_postgres() {
    console_calls_scale(Backend::Postgres).await;
}
