//! Group commit: raw events of many requests applied by the ingest writer in one transaction
//! give exactly what one-by-one application gives, dedupe within the batch, and refuse only the
//! request that cannot be stored.

use crate::support::scenario::requests;
use crate::support::tenant::{AcmeTenant, acme};
use crate::support::{TestDatabase, spawn_app_with};
use chrono::{DateTime, TimeDelta, Utc};
use ringhook::config::Backend;
use ringhook::domain::HookEventFilter;
use ringhook::domain::{SourceKind, TenantId, UserId};
use ringhook::ingest::Parsed;
use ringhook::normalizer::NormalizerConfig;
use ringhook::pipeline::settle::settle_due;
use ringhook::pipeline::{DirectoryCache, IngestJob, IngestSummary, IngestWriter, WriteError};
use ringhook::storage::hooks::NewHook;
use ringhook::storage::{EventQuery, HookScope, Source, Storage};
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use std::time::Duration;

/// The parsed requests of a scenario, as the ingest endpoint would hand them to the writer.
async fn jobs(
    store: &dyn Storage,
    source: &Source,
    scenario: &str,
    now: DateTime<Utc>,
) -> Vec<IngestJob> {
    let directory = DirectoryCache::new(Duration::from_secs(60))
        .for_source(store, source)
        .await
        .unwrap();
    let mut jobs = Vec::new();
    for request in requests(source, scenario) {
        let parsed = request
            .verify_and_parse(source.kind, source.secret.expose_secret(), Utc::now())
            .unwrap();
        if let Parsed::Events(events) = parsed {
            jobs.push(IngestJob {
                source: Arc::new(source.clone()),
                directory: directory.clone(),
                events,
                now,
                received: None,
            });
        }
    }
    jobs
}

/// Queues every job before the writer runs, so they all land in one batch (they fit in one).
async fn in_one_batch(
    store: Arc<dyn Storage>,
    jobs: Vec<IngestJob>,
) -> Vec<Result<IngestSummary, WriteError>> {
    let (writer, run) = IngestWriter::new(store, NormalizerConfig::default(), jobs.len());
    let mut submitted: Vec<_> = jobs
        .into_iter()
        .map(|job| Box::pin(writer.submit(job)))
        .collect();
    for submit in &mut submitted {
        // The first poll queues the job, then waits for the answer.
        assert!(futures_util::poll!(submit.as_mut()).is_pending());
    }
    tokio::pin!(run);
    tokio::select! {
        biased;
        results = futures_util::future::join_all(submitted) => results,
        () = &mut run => unreachable!("the writer stops only when every handle is dropped"),
    }
}

/// Applies each job alone, in order, waiting for its commit before the next.
async fn one_by_one(store: Arc<dyn Storage>, jobs: Vec<IngestJob>) -> Vec<IngestSummary> {
    let writer = IngestWriter::start(store, NormalizerConfig::default()).unwrap();
    let mut out = Vec::new();
    for job in jobs {
        out.push(writer.submit(job).await.unwrap());
    }
    out
}

/// Several scenarios of all kinds, their requests interleaved (each scenario keeps its order).
async fn mixed_jobs(store: &dyn Storage, acme: &AcmeTenant, now: DateTime<Utc>) -> Vec<IngestJob> {
    let mut scenarios = Vec::new();
    for (source, scenario) in [
        (&acme.kazoo, "kazoo/inbound_answered"),
        (&acme.kazoo, "kazoo/park_retrieved"),
        (&acme.kazoo, "kazoo/queue_answered"),
        (&acme.zoom, "zoom/inbound_hold_park"),
        (&acme.zoom, "zoom/warm_transfer"),
        (&acme.zorio, "zorio/inbound_answered"),
    ] {
        scenarios.push(jobs(store, source, scenario, now).await.into_iter());
    }
    let mut mixed = Vec::new();
    while scenarios.iter().any(|s| s.len() > 0) {
        for scenario in &mut scenarios {
            mixed.extend(scenario.next());
        }
    }
    mixed
}

async fn tenant_hook(store: &dyn Storage, tenant: &TenantId, user: &UserId) {
    store
        .create_hook(&NewHook {
            tenant_id: tenant.clone(),
            user_id: user.clone(),
            grant_id: None,
            scope: HookScope::Tenant,
            event: HookEventFilter::Any,
            target_url: ringhook::delivery::TargetUrl::parse(
                "https://hooks.example/catch",
                &ringhook::delivery::TargetPolicy {
                    allow_private: true,
                    allow_http: true,
                    allow_list: Vec::new(),
                },
            )
            .unwrap(),
            secret: SecretString::from("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned()),
        })
        .await
        .unwrap();
}

/// What subscribers would see, without the ids that differ between databases.
async fn story(store: &dyn Storage, tenant: &TenantId) -> Vec<String> {
    let mut events: Vec<String> = store
        .call_events(&EventQuery {
            tenant_id: tenant.clone(),
            participant: None,
            event_type: None,
            number: None,
            limit: 1000,
        })
        .await
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {}",
                e.occurred_at.to_rfc3339(),
                e.call.source_call_id,
                e.event_type.as_str(),
                e.summary
            )
        })
        .collect();
    events.sort();
    events
}

fn answers(summaries: &[IngestSummary]) -> Vec<(usize, usize, Vec<String>, u64)> {
    summaries
        .iter()
        .map(|s| {
            let types = s.events.iter().map(|e| e.event_type.as_str().to_owned());
            (s.applied, s.duplicates, types.collect(), s.deliveries)
        })
        .collect()
}

async fn one_batch_gives_the_triggers_of_one_by_one_delivery(backend: Backend) {
    let (Some(batched), Some(sequential)) = (
        TestDatabase::of(backend).await,
        TestDatabase::of(backend).await,
    ) else {
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return;
    };
    let now = Utc::now();
    let mut results = Vec::new();
    for (db, batch) in [(&batched, true), (&sequential, false)] {
        let store = db.store.clone();
        let acme = acme(store.as_ref()).await;
        tenant_hook(store.as_ref(), &acme.tenant_id, &acme.alice).await;
        let jobs = mixed_jobs(store.as_ref(), &acme, now).await;
        assert!(jobs.len() > 20, "the batch holds many requests");
        let summaries = if batch {
            let results = in_one_batch(store.clone(), jobs).await;
            results.into_iter().map(Result::unwrap).collect()
        } else {
            one_by_one(store.clone(), jobs).await
        };
        let config = NormalizerConfig::default();
        settle_due(store.as_ref(), &config, now + TimeDelta::days(1), 1000)
            .await
            .unwrap();
        results.push((
            answers(&summaries),
            story(store.as_ref(), &acme.tenant_id).await,
        ));
    }
    assert!(results[0].1.len() > 10, "{:?}", results[0].1);
    assert_eq!(results[0].0, results[1].0, "answers per request");
    assert_eq!(results[0].1, results[1].1, "stored triggers");
}

async fn a_request_that_cannot_be_stored_is_refused_alone_and_its_batch_is_kept(backend: Backend) {
    let Some(db) = TestDatabase::of(backend).await else {
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return;
    };
    let store = db.store.clone();
    let acme = acme(store.as_ref()).await;
    let now = Utc::now();
    let mut batch = jobs(store.as_ref(), &acme.kazoo, "kazoo/inbound_answered", now).await;
    batch.extend(jobs(store.as_ref(), &acme.zoom, "zoom/inbound_answered", now).await);
    let mut poison = jobs(store.as_ref(), &acme.kazoo, "kazoo/park_retrieved", now)
        .await
        .remove(0);
    // A source naming a tenant that does not exist: its call cannot be saved.
    poison.source = Arc::new(Source {
        tenant_id: TenantId::generate(),
        ..acme.kazoo.clone()
    });
    let retries: Vec<IngestJob> = batch
        .iter()
        .map(|job| IngestJob {
            source: job.source.clone(),
            directory: job.directory.clone(),
            events: job.events.clone(),
            now: job.now,
            received: None,
        })
        .collect();
    let poisoned_at = batch.len() / 2;
    batch.insert(poisoned_at, poison);

    let results = in_one_batch(store.clone(), batch).await;
    assert_eq!(results.len(), retries.len() + 1);
    for (n, result) in results.iter().enumerate() {
        if n == poisoned_at {
            assert!(matches!(result, Err(WriteError::Batch(_))), "{result:?}");
        } else {
            assert!(result.is_ok(), "request {n}: {result:?}");
        }
    }
    let stored = story(store.as_ref(), &acme.tenant_id).await;
    assert!(
        stored
            .iter()
            .filter(|line| line.contains("call.answered"))
            .count()
            == 2,
        "both good calls were stored: {stored:?}"
    );

    // Retried by their sources, the stored requests are recognised as duplicates.
    let results = in_one_batch(store.clone(), retries).await;
    for summary in results.into_iter().map(Result::unwrap) {
        assert_eq!(summary.applied, 0);
        assert!(summary.duplicates > 0);
    }
    assert_eq!(story(store.as_ref(), &acme.tenant_id).await, stored);
}

async fn an_event_sent_twice_in_one_batch_is_applied_once(backend: Backend) {
    let Some(db) = TestDatabase::of(backend).await else {
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return;
    };
    let store = db.store.clone();
    let acme = acme(store.as_ref()).await;
    let now = Utc::now();
    let mut twice = jobs(store.as_ref(), &acme.kazoo, "kazoo/inbound_answered", now).await;
    twice.truncate(1);
    let copy = IngestJob {
        source: twice[0].source.clone(),
        directory: twice[0].directory.clone(),
        events: twice[0].events.clone(),
        now,
        received: None,
    };
    twice.push(copy);

    let results = in_one_batch(store.clone(), twice).await;
    let summaries: Vec<IngestSummary> = results.into_iter().map(Result::unwrap).collect();
    assert_eq!((summaries[0].applied, summaries[0].duplicates), (1, 0));
    assert_eq!((summaries[1].applied, summaries[1].duplicates), (0, 1));
    assert!(summaries[1].events.is_empty());
    assert_eq!(
        story(store.as_ref(), &acme.tenant_id).await.len(),
        summaries[0].events.len()
    );
}

/// Scenarios posted over HTTP all at once (each in order on its own connection) store the
/// triggers that posting them one after the other stores. Each scenario is a different call
/// (two Zoom fixtures share one, and their relative order would change the story).
async fn concurrent_requests_store_the_triggers_of_sequential_ones(backend: Backend) {
    let scenarios = [
        (SourceKind::Kazoo, "kazoo/inbound_answered"),
        (SourceKind::Kazoo, "kazoo/park_retrieved"),
        (SourceKind::Kazoo, "kazoo/queue_abandoned"),
        (SourceKind::Zoom, "zoom/inbound_hold_park"),
        (SourceKind::Zoom, "zoom/outbound_answered"),
        (SourceKind::Zorio, "zorio/inbound_answered"),
    ];
    let mut stories = Vec::new();
    for concurrent in [true, false] {
        let Some(app) = spawn_app_with(backend, |_| {}).await else {
            eprintln!("skipped: TEST_DATABASE_URL is not set");
            return;
        };
        let acme = acme(app.db.store.as_ref()).await;
        if concurrent {
            let posts = scenarios
                .iter()
                .map(|(kind, scenario)| app.replay(acme.source(*kind), scenario));
            futures_util::future::join_all(posts).await;
        } else {
            for (kind, scenario) in &scenarios {
                app.replay(acme.source(*kind), scenario).await;
            }
        }
        // Park triggers are stamped with the time they were received: leave times out.
        let story = story(app.db.store.as_ref(), &acme.tenant_id).await;
        let mut untimed: Vec<String> = story
            .iter()
            .map(|line| {
                line.split_once(' ')
                    .map_or(line.clone(), |(_, rest)| rest.to_owned())
            })
            .collect();
        untimed.sort();
        stories.push(untimed);
    }
    assert!(stories[0].len() > 10, "{:?}", stories[0]);
    assert_eq!(stories[0], stories[1]);
}

for_each_backend!(
    one_batch_gives_the_triggers_of_one_by_one_delivery,
    a_request_that_cannot_be_stored_is_refused_alone_and_its_batch_is_kept,
    an_event_sent_twice_in_one_batch_is_applied_once,
    concurrent_requests_store_the_triggers_of_sequential_ones,
);
