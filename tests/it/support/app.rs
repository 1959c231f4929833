//! `spawn_app()`: the real application on a loopback port with its own database.

use super::TestDatabase;
use ringhook::config::{Backend, Settings};
use ringhook::http::AppState;
use ringhook::startup::Application;
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
    LazyLock::force(&TRACING);
    let db = TestDatabase::of(backend).await?;
    let mut settings = Settings {
        database_url: db.url.clone(),
        listen: "127.0.0.1:0".parse().expect("loopback address"),
        shutdown_grace_seconds: 5,
        ..Settings::default()
    };
    configure(&mut settings);
    let app = Application::build_with_storage(settings, db.store.clone())
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
