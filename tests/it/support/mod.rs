//! Shared test fixtures: databases, a running app, a recording HTTP receiver.
// Helpers for every test module; not each module uses every helper.
#![allow(dead_code, unused_imports)]

pub mod app;
pub mod asterisk;
pub mod database;
pub mod receiver;

pub use app::{TestApp, spawn_app, spawn_app_with, spawn_stepped_app};
pub use database::TestDatabase;
pub use receiver::{Receiver, Reply};
pub mod kazoo_history;
pub mod pg_cluster;
pub mod process;
pub mod scenario;
pub mod tenant;
pub mod token;
pub mod workdir;
pub mod zoom_history;

/// Stamps out `sqlite::name` and `postgres::name` tests for each `async fn name(Backend)`, or,
/// after `store:`, for each `async fn name(&dyn Storage)` given a fresh database of its own.
/// Without `TEST_DATABASE_URL` a PostgreSQL test passes as skipped, except in CI (`CI=true`),
/// where it fails (see [`TestDatabase::postgres`]).
macro_rules! for_each_backend {
    (@tests $module:ident, $backend:ident, backend, $($name:ident),*) => {
        mod $module {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(ringhook::config::Backend::$backend).await;
                }
            )*
        }
    };
    (@tests $module:ident, $backend:ident, store, $($name:ident),*) => {
        mod $module {
            $(
                #[tokio::test]
                async fn $name() {
                    let backend = ringhook::config::Backend::$backend;
                    let Some(db) = crate::support::TestDatabase::of(backend).await else {
                        return;
                    };
                    super::$name(db.store.as_ref()).await;
                }
            )*
        }
    };
    (store: $($name:ident),* $(,)?) => {
        for_each_backend!(@tests sqlite, Sqlite, store, $($name),*);
        for_each_backend!(@tests postgres, Postgres, store, $($name),*);
    };
    ($($name:ident),* $(,)?) => {
        for_each_backend!(@tests sqlite, Sqlite, backend, $($name),*);
        for_each_backend!(@tests postgres, Postgres, backend, $($name),*);
    };
}
