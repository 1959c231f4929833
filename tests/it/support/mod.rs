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

/// Stamps out `sqlite::name` and `postgres::name` tests for each `async fn name(Backend)`.
/// Without `TEST_DATABASE_URL` a PostgreSQL test passes as skipped, except in CI (`CI=true`),
/// where it fails (see [`TestDatabase::postgres`]).
macro_rules! for_each_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(ringhook::config::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(ringhook::config::Backend::Postgres).await;
                }
            )*
        }
    };
}
