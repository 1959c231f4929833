//! The PostgreSQL backend, for several ringhook instances sharing one database.

use super::call_queries::impl_call_store;
use super::call_request_queries::impl_call_request_store;
use super::call_write_queries::impl_call_writes;
use super::hook_queries::impl_hook_store;
use super::oauth_queries::impl_oauth_store;
use super::pbx_sockets::impl_pbx_socket_store;
use super::shared_queries::impl_shared_stores;
use super::{PoolStats, Storage};
use crate::config::{Backend, DatabaseUrl};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

pub struct PostgresStore {
    pool: PgPool,
    max_connections: u32,
}

impl PostgresStore {
    pub async fn connect(url: &DatabaseUrl, max_connections: u32) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url.expose())?.application_name("ringhook");
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await?;
        Ok(PostgresStore {
            pool,
            max_connections,
        })
    }

    /// A transaction holding the advisory lock of each source in `lock_keys` until it ends, so
    /// instances sharing the database apply one source's events one at a time (no lost updates
    /// of a call's state, no duplicate calls for one new call). Locks are taken in the order
    /// given (sorted by the caller), so two instances locking overlapping sets cannot deadlock.
    async fn begin_write_all(
        &self,
        lock_keys: &[&str],
    ) -> Result<(Option<()>, sqlx::Transaction<'_, sqlx::Postgres>), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        for key in lock_keys {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
                .bind(key)
                .execute(&mut *tx)
                .await?;
        }
        Ok((None, tx))
    }

    /// A write transaction not tied to one source (delivery results, OAuth grants): on SQLite
    /// in turn with the other writers, on PostgreSQL plain (rows lock themselves).
    async fn begin_tx(
        &self,
    ) -> Result<(Option<()>, sqlx::Transaction<'_, sqlx::Postgres>), sqlx::Error> {
        Ok((None, self.pool.begin().await?))
    }

    /// PostgreSQL needs no process-wide write lock: rows lock themselves.
    async fn write_lock(&self) -> Option<()> {
        None
    }
}

impl_pbx_socket_store!(PostgresStore);
impl_shared_stores!(PostgresStore, sqlx::Postgres);
impl_call_writes!(sqlx::Postgres, false);
impl_call_store!(PostgresStore, sqlx::Postgres);
impl_call_request_store!(PostgresStore);
impl_hook_store!(PostgresStore, sqlx::Postgres, "FOR UPDATE OF d SKIP LOCKED");
impl_oauth_store!(PostgresStore, sqlx::Postgres);

#[async_trait::async_trait]
impl Storage for PostgresStore {
    async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn pool_stats(&self) -> PoolStats {
        PoolStats {
            size: self.pool.size(),
            idle: self.pool.num_idle() as u32,
            max: self.max_connections,
        }
    }

    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    fn supports_notifications(&self) -> bool {
        true
    }

    async fn notify(&self, channel: &str) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(channel)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn listen(
        &self,
        channel: &str,
        on_notice: Box<dyn Fn() + Send + Sync>,
        shutdown: tokio_util::sync::CancellationToken,
    ) {
        while !shutdown.is_cancelled() {
            let mut listener = match sqlx::postgres::PgListener::connect_with(&self.pool).await {
                Ok(listener) => listener,
                Err(error) => {
                    tracing::warn!(error = %error, "cannot listen for other instances' deliveries");
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(Duration::from_secs(5)) => continue,
                    }
                }
            };
            if let Err(error) = listener.listen(channel).await {
                tracing::warn!(error = %error, "LISTEN failed");
                continue;
            }
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    notice = listener.recv() => match notice {
                        Ok(_) => on_notice(),
                        Err(error) => {
                            tracing::debug!(error = %error, "listener lost; reconnecting");
                            break;
                        }
                    }
                }
            }
        }
    }
}
