//! A database restart under load: requests the database cannot take answer 503 with
//! `Retry-After` quickly, service resumes on its own, and nothing answered 200 is lost. The
//! PostgreSQL server is a throwaway cluster of the test's own, never the shared one.

use crate::support::pg_cluster::PgCluster;
use crate::support::process::ServerProcess;
use crate::support::scenario::requests;
use crate::support::tenant::acme;
use ringhook::admin::simulate::{ScenarioCopies, SimulatedRequest};
use ringhook::config::DatabaseUrl;
use ringhook::domain::SourceKind;
use secrecy::ExposeSecret;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What one ingest request got back.
struct Outcome {
    status: u16,
    applied: u64,
    retry_after: bool,
    took: Duration,
    finished: Instant,
}

async fn post(client: &reqwest::Client, url: &str, request: &SimulatedRequest) -> Outcome {
    let started = Instant::now();
    let token = request.query_token.as_deref().unwrap_or_default();
    let mut call = client
        .post(format!("{url}?token={token}"))
        .body(request.body.clone());
    for (name, value) in &request.headers {
        call = call.header(name, value);
    }
    let (status, retry_after, body) = match call.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let retry_after = response.headers().contains_key("retry-after");
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            (status, retry_after, body)
        }
        Err(_) => (0, false, serde_json::Value::Null),
    };
    Outcome {
        status,
        applied: body["applied"].as_u64().unwrap_or(0),
        retry_after,
        took: started.elapsed(),
        finished: Instant::now(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_restart_under_load_answers_503_quickly_and_loses_nothing_answered() {
    let Some(cluster) = PgCluster::start() else {
        eprintln!("skipped: PostgreSQL 15 binaries are not installed");
        return;
    };
    let url = cluster.url();
    let store = ringhook::storage::connect(&DatabaseUrl::new(url.clone()), 2)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let acme = acme(store.as_ref()).await;
    store.close().await;
    let server = ServerProcess::start(&url, &[]).await;

    let template = requests(&acme.kazoo, "kazoo/inbound_answered");
    let copies = Arc::new(ScenarioCopies::new(
        template,
        SourceKind::Kazoo,
        acme.kazoo.secret.expose_secret(),
        chrono::Utc::now(),
    ));
    let ingest = format!("{}/ingest/{}", server.base, acme.kazoo.id);
    let next_call = Arc::new(Mutex::new(0usize));
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let stop_at = Arc::new(Mutex::new(None::<Instant>));

    // Steady load: 4 senders, each posting one distinct call after another.
    let mut senders = Vec::new();
    for _ in 0..4 {
        let (copies, ingest) = (copies.clone(), ingest.clone());
        let (next_call, outcomes, stop_at) = (next_call.clone(), outcomes.clone(), stop_at.clone());
        senders.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            loop {
                if stop_at
                    .lock()
                    .unwrap()
                    .is_some_and(|at| Instant::now() > at)
                {
                    return;
                }
                let n = {
                    let mut next = next_call.lock().unwrap();
                    *next += 1;
                    *next
                };
                for request in copies.copy(n) {
                    let outcome = post(&client, &ingest, &request).await;
                    outcomes.lock().unwrap().push(outcome);
                }
            }
        }));
    }

    tokio::time::sleep(Duration::from_secs(2)).await;
    // The outage starts when the stop begins: on a loaded machine `pg_ctl stop` itself takes
    // a while, and requests already see the server going away meanwhile.
    let stopping = Instant::now();
    tokio::task::block_in_place(|| cluster.stop_server());
    tokio::time::sleep(Duration::from_secs(4)).await;
    tokio::task::block_in_place(|| cluster.start_server());
    let restarted = Instant::now();
    *stop_at.lock().unwrap() = Some(restarted + Duration::from_secs(8));
    for sender in senders {
        sender.await.unwrap();
    }

    let outcomes = std::mem::take(&mut *outcomes.lock().unwrap());
    // A request in flight at the restart may still end in 503 (every answer is bounded below).
    let during: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.finished > stopping && o.finished < restarted + Duration::from_secs(5))
        .collect();
    assert!(
        during.iter().any(|o| o.status == 503),
        "the outage was seen"
    );
    for outcome in &outcomes {
        assert!(
            outcome.status == 200 || outcome.status == 503,
            "answered {} after {:?}",
            outcome.status,
            outcome.took
        );
        if outcome.status == 503 {
            assert!(outcome.retry_after, "a 503 carries Retry-After");
        }
        // The pool gives up after 2 s; a request may wait for the failing batch ahead of it.
        assert!(
            outcome.took < Duration::from_secs(5),
            "an answer took {:?}",
            outcome.took
        );
    }
    let resumed = outcomes
        .iter()
        .filter(|o| o.finished > restarted + Duration::from_secs(4))
        .collect::<Vec<_>>();
    assert!(!resumed.is_empty(), "requests were sent after the restart");
    assert!(
        resumed.iter().all(|o| o.status == 200),
        "service resumed without restarting ringhook"
    );

    let answered: u64 = outcomes
        .iter()
        .filter(|o| o.status == 200)
        .map(|o| o.applied)
        .sum();
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM raw_event_receipts")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    assert!(
        stored as u64 >= answered,
        "{stored} receipts stored for {answered} raw events answered 200"
    );
    drop(server);
}
