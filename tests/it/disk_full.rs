//! A full disk is a passing fault: while SQLite answers `SQLITE_FULL` ingest answers 503 and
//! `/readyz` says writes fail; once there is room again ingest works without a restart, and
//! nothing answered 200 is lost. `PRAGMA max_page_count` makes SQLite full on demand.

use crate::support::TestDatabase;
use crate::support::scenario::requests;
use crate::support::tenant::acme;
use ringhook::admin::simulate::{ScenarioCopies, SimulatedRequest};
use ringhook::config::Settings;
use ringhook::domain::SourceKind;
use ringhook::startup::Application;
use ringhook::storage::{Storage, Store};
use secrecy::ExposeSecret;
use sqlx::sqlite::SqliteConnectOptions;
use std::str::FromStr;
use std::sync::Arc;

struct Answer {
    status: u16,
    applied: u64,
    retry_after: bool,
}

async fn post(client: &reqwest::Client, url: &str, request: &SimulatedRequest) -> Answer {
    let token = request.query_token.as_deref().unwrap_or_default();
    let mut call = client
        .post(format!("{url}?token={token}"))
        .body(request.body.clone());
    for (name, value) in &request.headers {
        call = call.header(name, value);
    }
    let response = call.send().await.unwrap();
    let status = response.status().as_u16();
    let retry_after = response.headers().contains_key("retry-after");
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    Answer {
        status,
        applied: body["applied"].as_u64().unwrap_or(0),
        retry_after,
    }
}

#[tokio::test]
async fn ingest_recovers_from_a_full_disk_without_a_restart_and_loses_nothing_answered() {
    let db = TestDatabase::sqlite().await;
    let acme = acme(db.store.as_ref()).await;
    let pages: i64 = {
        let pool = sqlx::SqlitePool::connect(db.url.expose()).await.unwrap();
        let pages = sqlx::query_scalar("PRAGMA page_count")
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        pages
    };
    // Every connection the store opens may grow the file by a few pages only; one read
    // connection and the write connection, so the test can lift the limit on both.
    let options = SqliteConnectOptions::from_str(db.url.expose())
        .unwrap()
        .pragma("max_page_count", (pages + 8).to_string());
    let store = Arc::new(Store::connect_sqlite_with(options, 1).await.unwrap());
    let settings = Settings {
        database_url: db.url.clone(),
        listen: "127.0.0.1:0".parse().unwrap(),
        shutdown_grace_seconds: 5,
        ..Settings::default()
    };
    let app = Application::build_with_storage(settings, store.clone() as Arc<dyn Storage>)
        .await
        .unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let shutdown = app.shutdown_token();
    tokio::spawn(app.run_until_stopped());

    let template = requests(&acme.kazoo, "kazoo/inbound_answered");
    let copies = ScenarioCopies::new(
        template,
        SourceKind::Kazoo,
        acme.kazoo.secret.expose_secret(),
        chrono::Utc::now(),
    );
    let mut calls = (0..).flat_map(|n| copies.copy(n));
    let client = reqwest::Client::new();
    let ingest = format!("{base}/ingest/{}", acme.kazoo.id);
    let mut answered_applied = 0;

    // Fill up: ingest until SQLite is full.
    let mut refused = None;
    for _ in 0..2000 {
        let answer = post(&client, &ingest, &calls.next().unwrap()).await;
        if answer.status == 200 {
            answered_applied += answer.applied;
        } else {
            refused = Some(answer);
            break;
        }
    }
    let refused = refused.expect("the database never filled up");
    assert_eq!(refused.status, 503, "a full disk is a transient fault");
    assert!(refused.retry_after, "503 carries Retry-After");
    assert_eq!(
        reqwest::get(format!("{base}/readyz"))
            .await
            .unwrap()
            .status(),
        503
    );
    let still_full = post(&client, &ingest, &calls.next().unwrap()).await;
    assert_eq!(still_full.status, 503);

    // Room again: the same process stores everything.
    for pool in store.sqlite_pools().unwrap() {
        sqlx::query("PRAGMA max_page_count = 1073741823")
            .execute(pool)
            .await
            .unwrap();
    }
    for _ in 0..20 {
        let answer = post(&client, &ingest, &calls.next().unwrap()).await;
        assert_eq!(answer.status, 200, "ingest works again without a restart");
        answered_applied += answer.applied;
    }
    assert_eq!(
        reqwest::get(format!("{base}/readyz"))
            .await
            .unwrap()
            .status(),
        200
    );

    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM raw_event_receipts")
        .fetch_one(store.sqlite_pools().unwrap()[0])
        .await
        .unwrap();
    assert!(
        stored as u64 >= answered_applied,
        "{stored} receipts stored for {answered_applied} raw events answered 200"
    );
    shutdown.cancel();
}
