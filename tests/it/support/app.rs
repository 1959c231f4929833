//! `spawn_app()`: the real application on a loopback port with its own database.

use super::TestDatabase;
use chrono::{DateTime, Utc};
use ringhook::config::{Backend, Settings};
use ringhook::delivery::worker::StepOutcome;
use ringhook::http::AppState;
use ringhook::startup::{Application, Workers};
use ringhook::storage::delivery_queue::QueueStats;
use std::sync::LazyLock;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Logs from the app under test, only when `TEST_LOG` is set.
static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var("TEST_LOG").is_ok() {
        ringhook::telemetry::init(ringhook::config::LogFormat::Text, "info");
    }
});

pub struct TestApp {
    pub address: String,
    pub db: TestDatabase,
    pub state: actix_web::web::Data<AppState>,
    pub client: reqwest::Client,
    shutdown: CancellationToken,
    running: Option<JoinHandle<anyhow::Result<()>>>,
}

/// An app on SQLite with default settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(Backend::Sqlite, |_| {})
        .await
        .expect("sqlite is always available")
}

/// An app on the given backend (`None` when PostgreSQL is not configured), with settings
/// adjusted by `configure`.
pub async fn spawn_app_with(
    backend: Backend,
    configure: impl FnOnce(&mut Settings),
) -> Option<TestApp> {
    spawn(backend, Workers::Background, configure).await
}

/// Like [`spawn_app_with`], but no worker runs on its own: the test steps them with
/// [`TestApp::deliver_all`] and [`TestApp::settle_all`], its clock passed in.
pub async fn spawn_stepped_app(
    backend: Backend,
    configure: impl FnOnce(&mut Settings),
) -> Option<TestApp> {
    spawn(backend, Workers::Stepped, configure).await
}

async fn spawn(
    backend: Backend,
    workers: Workers,
    configure: impl FnOnce(&mut Settings),
) -> Option<TestApp> {
    LazyLock::force(&TRACING);
    let db = TestDatabase::of(backend).await?;
    let mut settings = Settings {
        database_url: db.url.clone(),
        listen: "127.0.0.1:0".parse().expect("loopback address"),
        shutdown_grace_seconds: 5,
        ..Settings::default()
    };
    if matches!(workers, Workers::Background) {
        // No history sweep unless a test asks for one: it would read the fake PBX's API
        // (and take replies queued for the test) at times the test does not choose.
        settings.reconcile_interval_seconds = 0;
    }
    configure(&mut settings);
    let app = Application::build_with(settings, db.store.clone(), workers)
        .await
        .expect("build app");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state();
    let shutdown = app.shutdown_token();
    let running = tokio::spawn(app.run_until_stopped());
    Some(TestApp {
        address,
        db,
        state,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client"),
        shutdown,
        running: Some(running),
    })
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request reaches the app")
    }

    /// Steps the delivery worker as of `now` until no delivery is due; returns the number of
    /// deliveries handled. A fresh worker each time: the rate limit starts full.
    pub async fn deliver_all(&self, now: DateTime<Utc>) -> usize {
        let worker = ringhook::startup::delivery_worker(&self.state).expect("delivery worker");
        let mut handled = 0;
        loop {
            match worker.step(now).await.expect("delivery step") {
                StepOutcome::Worked(count) => handled += count,
                StepOutcome::QueueEmpty => return handled,
            }
        }
    }

    /// Settles every call whose `call.ended` is due at `now`; returns how many were settled.
    pub async fn settle_all(&self, now: DateTime<Utc>) -> usize {
        ringhook::pipeline::settle::settle_due(
            self.db.store.as_ref(),
            &self.state.normalizer,
            now,
            1000,
        )
        .await
        .expect("settle step")
    }

    /// The delivery queue as of `now`.
    pub async fn queue(&self, now: DateTime<Utc>) -> QueueStats {
        self.db.store.queue_stats(now).await.expect("queue stats")
    }

    /// Stops the app the way SIGTERM does and waits until it has drained.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        match self.running.take() {
            Some(task) => task.await?,
            None => Ok(()),
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
