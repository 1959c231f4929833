//! A fresh database per test: a SQLite file in a temporary folder, or a PostgreSQL database
//! created on the server named by `TEST_DATABASE_URL` and dropped when the test ends.

use ringhook::config::{Backend, DatabaseUrl};
use ringhook::storage::{self, Storage};
use sqlx::{Connection, PgConnection};
use std::sync::Arc;
use tempfile::TempDir;

pub struct TestDatabase {
    pub url: DatabaseUrl,
    pub store: Arc<dyn Storage>,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    pub async fn sqlite() -> TestDatabase {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = DatabaseUrl::new(format!("sqlite://{}/ringhook.db", dir.path().display()));
        Self::open(url, Cleanup::Sqlite(dir)).await
    }

    /// `None` when `TEST_DATABASE_URL` is unset: the test reports itself skipped. In CI
    /// (`CI=true`) a missing database is a failure, so that a misconfigured run cannot pass
    /// without having tested PostgreSQL.
    pub async fn postgres() -> Option<TestDatabase> {
        let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
            assert!(
                !in_ci(),
                "CI=true but TEST_DATABASE_URL is unset: the PostgreSQL tests cannot run"
            );
            eprintln!("skipped: TEST_DATABASE_URL is not set");
            return None;
        };
        let name = format!(
            "ringhook_test_{}",
            ulid::Ulid::generate().to_string().to_lowercase()
        );
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .expect("TEST_DATABASE_URL must reach a PostgreSQL server");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create test database");
        admin.close().await.ok();
        let mut url = url::Url::parse(&admin_url).expect("TEST_DATABASE_URL is a URL");
        url.set_path(&name);
        let cleanup = Cleanup::Postgres { admin_url, name };
        Some(Self::open(DatabaseUrl::new(url.to_string()), cleanup).await)
    }

    pub async fn of(backend: Backend) -> Option<TestDatabase> {
        match backend {
            Backend::Sqlite => Some(Self::sqlite().await),
            Backend::Postgres => Self::postgres().await,
        }
    }

    async fn open(url: DatabaseUrl, cleanup: Cleanup) -> TestDatabase {
        let store = storage::connect(&url, 5)
            .await
            .expect("connect test database");
        store.migrate().await.expect("migrate test database");
        TestDatabase {
            url,
            store,
            cleanup,
        }
    }
}

impl Drop for TestDatabase {
    /// Drops the PostgreSQL database even when the test panicked; runs on its own thread
    /// because `Drop` cannot await.
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            let dropped = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                runtime.block_on(async {
                    if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                        let _ =
                            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(&mut admin)
                                .await;
                    }
                });
            });
            let _ = dropped.join();
        }
    }
}

/// Whether the tests run in CI, where every backend must be tested.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| value == "true" || value == "1")
}
