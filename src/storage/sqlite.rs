//! The embedded SQLite backend: one file, WAL mode, foreign keys enforced.

use super::call_queries::impl_call_store;
use super::call_request_queries::impl_call_request_store;
use super::call_write_queries::impl_call_writes;
use super::hook_queries::impl_hook_store;
use super::oauth_queries::impl_oauth_store;
use super::pbx_sockets::impl_pbx_socket_store;
use super::shared_queries::impl_shared_stores;
use super::{PoolStats, Storage};
use crate::config::{Backend, DatabaseUrl};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

pub struct SqliteStore {
    pool: SqlitePool,
    max_connections: u32,
    /// SQLite has one writer. Queuing writers here, in order, is far cheaper than letting them
    /// race for the file lock, where losers sleep in SQLite's busy handler.
    writer: tokio::sync::Mutex<()>,
}

/// Held while a write transaction is open (SQLite only).
pub(super) type WriterGuard<'a> = Option<tokio::sync::MutexGuard<'a, ()>>;

impl SqliteStore {
    /// Opens (creating if missing) the database file. WAL lets readers run beside the one
    /// writer; `synchronous=NORMAL` is durable across process crashes in WAL mode.
    pub async fn connect(url: &DatabaseUrl, max_connections: u32) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url.expose())?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        // A local file needs no liveness ping before each use; skipping it saves a hop to the
        // connection's worker thread per transaction.
        let pool = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await?;
        Ok(SqliteStore {
            pool,
            max_connections,
            writer: tokio::sync::Mutex::new(()),
        })
    }

    /// A write transaction that holds SQLite's single write lock from its first statement, so
    /// a read-then-write never fails with `SQLITE_BUSY` halfway. SQLite has one writer anyway,
    /// so the lock key is not needed.
    async fn begin_write(
        &self,
        _lock_key: &str,
    ) -> Result<(WriterGuard<'_>, sqlx::Transaction<'_, sqlx::Sqlite>), sqlx::Error> {
        let guard = self.writer.lock().await;
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok((Some(guard), tx))
    }

    /// A write transaction for several sources at once (an ingest batch): the same single
    /// writer lock.
    async fn begin_write_all(
        &self,
        _lock_keys: &[&str],
    ) -> Result<(WriterGuard<'_>, sqlx::Transaction<'_, sqlx::Sqlite>), sqlx::Error> {
        self.begin_write("").await
    }

    /// A write transaction not tied to one source (delivery results, OAuth grants): on SQLite
    /// in turn with the other writers, on PostgreSQL plain (rows lock themselves).
    async fn begin_tx(
        &self,
    ) -> Result<(WriterGuard<'_>, sqlx::Transaction<'_, sqlx::Sqlite>), sqlx::Error> {
        self.begin_write("").await
    }

    /// The write lock alone, for a write that is one statement (no transaction needed).
    async fn write_lock(&self) -> WriterGuard<'_> {
        Some(self.writer.lock().await)
    }
}

impl_pbx_socket_store!(SqliteStore);
impl_shared_stores!(SqliteStore, sqlx::Sqlite);
impl_call_writes!(sqlx::Sqlite, true);
impl_call_store!(SqliteStore, sqlx::Sqlite);
impl_call_request_store!(SqliteStore);
impl_hook_store!(SqliteStore, sqlx::Sqlite, "");
impl_oauth_store!(SqliteStore, sqlx::Sqlite);

#[async_trait::async_trait]
impl Storage for SqliteStore {
    /// Foreign keys are off while migrating (on one connection): SQLite changes a table's
    /// constraints only by rebuilding it, and dropping the old table must not cascade.
    async fn migrate(&self) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        sqlx::query("PRAGMA foreign_keys = OFF")
            .execute(&mut *conn)
            .await?;
        let migrated = MIGRATOR.run_direct(&mut *conn).await;
        sqlx::query("PRAGMA foreign_keys = ON")
            .execute(&mut *conn)
            .await?;
        migrated?;
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
        Backend::Sqlite
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
