//! The one store: a connection pool of either backend, and the transactions it opens.
//!
//! Queries are written once, as ordinary Rust, and run on whichever pool the URL chose:
//! [`on_pool!`] and [`on_tx!`] expand to a `match` over the two backends with the same body in
//! each arm, so each arm is type-checked against its own `sqlx` database (`sqlx::Any` lacks the
//! chrono encodings used here). Where the backends really differ, the code says so with a
//! visible `match` on [`Pool`]: the SQLite writer queue and `BEGIN IMMEDIATE` against
//! PostgreSQL's advisory locks (here), the claim lock (`delivery_queue.rs`), multi-statement
//! calls (`bundle.rs`) and `LISTEN`/`NOTIFY` (here).

use super::{PoolStats, StoreError};
use crate::config::{Backend, DatabaseUrl};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, PgPool, SqlitePool};
use std::str::FromStr;
use std::time::Duration;
use tokio::sync::{Mutex, MutexGuard};

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Runs `$body` with `$pool` bound to the store's pool, whichever backend it is.
macro_rules! on_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.pool {
            $crate::storage::store::Pool::Sqlite { pool: $pool, .. } => $body,
            $crate::storage::store::Pool::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body` with `$pool` bound to the pool queued writes use: SQLite's write connection
/// (call it holding [`Store::write_lock`]), PostgreSQL's pool.
macro_rules! on_write_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.pool {
            $crate::storage::store::Pool::Sqlite {
                write_pool: $pool, ..
            } => $body,
            $crate::storage::store::Pool::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body` with `$conn` bound to the connection of the transaction `$tx` (a `&mut Tx`).
macro_rules! on_tx {
    ($tx:expr, |$conn:ident| $body:expr) => {
        match $tx {
            $crate::storage::store::Tx::Sqlite(tx, _) => {
                let $conn = &mut **tx;
                $body
            }
            $crate::storage::store::Tx::Postgres(tx) => {
                let $conn = &mut **tx;
                $body
            }
        }
    };
}

pub(super) use {on_pool, on_tx, on_write_pool};

/// The pool of the backend the database URL names.
pub(super) enum Pool {
    Sqlite {
        /// Reads outside write transactions.
        pool: SqlitePool,
        /// The one connection the queued writes use. SQLite drops a connection's page cache
        /// whenever another connection has written, so writes spread over the read pool found
        /// a cold cache each time and read their pages again; on one connection its own
        /// writes keep the cache valid.
        write_pool: SqlitePool,
        /// SQLite has one writer. Queuing writers here, in order, is far cheaper than letting
        /// them race for the file lock, where losers sleep in SQLite's busy handler.
        writer: Mutex<()>,
    },
    Postgres(PgPool),
}

/// An open write transaction. On SQLite it holds the writer queue's guard until it ends.
pub(super) enum Tx<'a> {
    Sqlite(sqlx::Transaction<'a, sqlx::Sqlite>, MutexGuard<'a, ()>),
    Postgres(sqlx::Transaction<'a, sqlx::Postgres>),
}

impl Tx<'_> {
    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(tx, _writer) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

/// Every aggregate's store over one pool; the aggregate traits are implemented beside their
/// definitions (`accounts.rs`, `oauth.rs`, `calls.rs`, `hooks.rs`, ...).
pub struct Store {
    pub(super) pool: Pool,
    max_connections: u32,
}

impl Store {
    /// Opens the backend the URL names. SQLite files are created if missing.
    pub async fn connect(url: &DatabaseUrl, max_connections: u32) -> Result<Store, StoreError> {
        let backend = url
            .backend()
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let pool = match backend {
            Backend::Sqlite => {
                sqlite_pools(
                    SqliteConnectOptions::from_str(url.expose())?,
                    max_connections,
                )
                .await?
            }
            Backend::Postgres => Pool::Postgres(connect_postgres(url, max_connections).await?),
        };
        Ok(Store {
            pool,
            max_connections,
        })
    }

    /// A SQLite store over connect options the caller chose (this store's own settings are
    /// added to them): for limits SQLite sets per connection, such as `max_page_count`.
    pub async fn connect_sqlite_with(
        options: SqliteConnectOptions,
        max_connections: u32,
    ) -> Result<Store, StoreError> {
        Ok(Store {
            pool: sqlite_pools(options, max_connections).await?,
            max_connections,
        })
    }

    /// The SQLite pools (reads, then the write connection), for statements no store method
    /// models (per-connection `PRAGMA`s); `None` on PostgreSQL.
    pub fn sqlite_pools(&self) -> Option<[&SqlitePool; 2]> {
        match &self.pool {
            Pool::Sqlite {
                pool, write_pool, ..
            } => Some([pool, write_pool]),
            Pool::Postgres(_) => None,
        }
    }

    /// A write transaction that holds the write lock of each source in `lock_keys` until it
    /// ends, so events of one call never interleave and a read-then-write never loses an
    /// update. SQLite has one writer: the writer queue, then `BEGIN IMMEDIATE` (the file's
    /// write lock from the first statement, so nothing fails with `SQLITE_BUSY` halfway); the
    /// keys are not needed. PostgreSQL takes an advisory lock per key, in the order given
    /// (sorted by the caller, so instances locking overlapping sets cannot deadlock).
    pub(super) async fn begin_write(&self, lock_keys: &[&str]) -> Result<Tx<'_>, StoreError> {
        match &self.pool {
            Pool::Sqlite {
                write_pool, writer, ..
            } => {
                let guard = writer.lock().await;
                let tx = write_pool.begin_with("BEGIN IMMEDIATE").await?;
                Ok(Tx::Sqlite(tx, guard))
            }
            Pool::Postgres(pool) => Ok(Tx::Postgres(
                pool.begin_with(begin_locking(lock_keys)).await?,
            )),
        }
    }

    /// A write transaction not tied to a source (delivery results, OAuth grants): on SQLite in
    /// turn with the other writers, on PostgreSQL plain (rows lock themselves).
    pub(super) async fn begin_tx(&self) -> Result<Tx<'_>, StoreError> {
        self.begin_write(&[]).await
    }

    /// Like [`Store::begin_tx`], but on PostgreSQL its commit does not wait for the write-ahead
    /// log to reach the disk (`synchronous_commit = off`; it is flushed within a fraction of a
    /// second, or by the next commit that waits). Only for writes that a crash of the database
    /// server may undo without losing anything accepted: the delivery queue's leases and
    /// results, whose loss makes an attempt happen again (deliveries are at least once). SQLite
    /// commits never wait for the disk in WAL mode with `synchronous=NORMAL`. `settings` are
    /// further PostgreSQL settings for the transaction alone (`name = value`, sent with the
    /// `BEGIN` in one round trip); SQLite has none of them.
    pub(super) async fn begin_unsynced(
        &self,
        settings: &[&'static str],
    ) -> Result<Tx<'_>, StoreError> {
        match &self.pool {
            Pool::Sqlite { .. } => self.begin_tx().await,
            Pool::Postgres(pool) => {
                let mut begin = String::from("BEGIN; SET LOCAL synchronous_commit = off");
                for setting in settings {
                    begin.push_str("; SET LOCAL ");
                    begin.push_str(setting);
                }
                Ok(Tx::Postgres(pool.begin_with(begin).await?))
            }
        }
    }

    /// The write lock alone, for a write that is one statement (no transaction needed), run
    /// through [`on_write_pool!`]; PostgreSQL needs none.
    pub(super) async fn write_lock(&self) -> Option<MutexGuard<'_, ()>> {
        match &self.pool {
            Pool::Sqlite { writer, .. } => Some(writer.lock().await),
            Pool::Postgres(_) => None,
        }
    }

    pub(super) fn kind(&self) -> Backend {
        match self.pool {
            Pool::Sqlite { .. } => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }
}

/// `BEGIN` and an advisory lock per key, as one simple-query text: one round trip to the
/// server however many keys (each statement of the text runs in turn, so the transaction's
/// first read, sent after, sees what the lock's previous holder committed). A simple query
/// takes no parameters: the keys go in as escape-string literals (`E'…'`, whose escaping does
/// not depend on the server's `standard_conforming_strings`).
fn begin_locking(lock_keys: &[&str]) -> String {
    let mut sql = String::from("BEGIN");
    for key in lock_keys {
        let literal = key.replace('\\', "\\\\").replace('\'', "''");
        sql.push_str(&format!(
            "; SELECT pg_advisory_xact_lock(hashtext(E'{literal}'))"
        ));
    }
    sql
}

/// Page cache per SQLite connection, in KiB (`PRAGMA cache_size` takes a negative figure as
/// KiB). With the pool's connections this bounds SQLite's memory: 10 connections × 2 MiB.
const SQLITE_CACHE_KIB: i64 = 2048;
/// Prepared statements kept per connection (sqlx's cache, evicted least recently used).
const SQLITE_STATEMENT_CACHE: usize = 64;
/// Write-ahead log pages after which a commit checkpoints the log itself (SQLite's default is
/// 1,000). `serve` checkpoints in the background (`sqlite_checkpoint_millis`) long before
/// that, off the writer's path: a checkpoint inside a commit copies the log's pages into the
/// database file and syncs it while the writer, and every request queued behind it, waits.
/// The bound stays for processes that run no background checkpoints (admin commands).
const SQLITE_AUTOCHECKPOINT_PAGES: u32 = 10_000;

/// How long a statement waits for a lock another connection or process holds.
const SQLITE_BUSY_TIMEOUT_MILLIS: u64 = 5_000;

/// Log frames (pages written, 4 KiB each) past which the background checkpoint makes the
/// write-ahead log start again from its beginning (see [`Store::checkpoint`]): the log file
/// stays near this size, and the writer pauses briefly about once per this many pages.
const SQLITE_RESTART_LOG_FRAMES: i64 = 4_096;

/// How long that checkpoint, which holds the writer, waits for readers to move on before it
/// leaves the log as it is until the next round.
const RESTART_READER_WAIT_MILLIS: u64 = 20;

/// Page cache of the write connection, in KiB: it holds the pages ingest batches and
/// delivery claims touch again and again (recent calls, queue heads, index roots).
const SQLITE_WRITER_CACHE_KIB: i64 = 8192;

/// Opens (creating if missing) the database file: a pool for reads and one connection for
/// the queued writes. WAL lets readers run beside the one writer; `synchronous=NORMAL` is
/// durable across process crashes in WAL mode. Memory is bounded on purpose: a fixed page
/// cache per connection, no memory-mapped I/O (mapped pages of a growing file would count
/// against the process), a bounded statement cache.
async fn sqlite_pools(
    options: SqliteConnectOptions,
    max_connections: u32,
) -> Result<Pool, StoreError> {
    let options = options
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_millis(SQLITE_BUSY_TIMEOUT_MILLIS))
        .pragma("mmap_size", "0")
        .pragma(
            "wal_autocheckpoint",
            SQLITE_AUTOCHECKPOINT_PAGES.to_string(),
        )
        .statement_cache_capacity(SQLITE_STATEMENT_CACHE);
    let pool = sqlite_pool(
        options
            .clone()
            .pragma("cache_size", format!("-{SQLITE_CACHE_KIB}")),
        max_connections,
    )
    .await?;
    let write_pool = sqlite_pool(
        options.pragma("cache_size", format!("-{SQLITE_WRITER_CACHE_KIB}")),
        1,
    )
    .await?;
    Ok(Pool::Sqlite {
        pool,
        write_pool,
        writer: Mutex::new(()),
    })
}

/// A SQLite pool of up to `max_connections` over `options`. A connection goes back
/// into the pool only outside any transaction: after a failed statement or `COMMIT` (a full
/// disk, an I/O error) SQLite may already have rolled the transaction back, the rollback sqlx
/// then sends fails, and sqlx would still count the connection as inside its transaction, so
/// that every later `BEGIN` on it failed. Such a connection is closed instead.
async fn sqlite_pool(
    options: SqliteConnectOptions,
    max_connections: u32,
) -> Result<SqlitePool, StoreError> {
    // A local file needs no liveness ping before each use; skipping it saves a hop to the
    // connection's worker thread per transaction.
    Ok(SqlitePoolOptions::new()
        .test_before_acquire(false)
        .max_connections(max_connections)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .after_release(|conn, _| {
            Box::pin(async move {
                // The ping runs after any rollback a dropped transaction queued.
                conn.ping().await?;
                Ok(!conn.is_in_transaction())
            })
        })
        .connect_with(options)
        .await?)
}

/// How long a request waits for a pooled connection. Short, so that while the database is
/// down or restarting requests are answered 503 with `Retry-After` within a few seconds
/// instead of piling up; a healthy pool hands out connections in microseconds.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

/// A pooled PostgreSQL connection idle for longer than this is pinged before it is handed
/// out (a restarted server or a dropped TCP connection shows there rather than in a write).
/// One in steady use is not: sqlx's default pings before every acquire, one more network
/// round trip in front of every transaction and every single query.
const POSTGRES_PING_AFTER_IDLE: Duration = Duration::from_secs(1);

async fn connect_postgres(url: &DatabaseUrl, max_connections: u32) -> Result<PgPool, StoreError> {
    let options = PgConnectOptions::from_str(url.expose())?.application_name("ringhook");
    Ok(PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= POSTGRES_PING_AFTER_IDLE {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
        .connect_with(options)
        .await?)
}

#[async_trait::async_trait]
impl super::Storage for Store {
    async fn migrate(&self) -> Result<(), StoreError> {
        match &self.pool {
            Pool::Sqlite { pool, .. } => migrate_sqlite(pool).await?,
            Pool::Postgres(pool) => POSTGRES_MIGRATOR.run(pool).await?,
        }
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, |pool| sqlx::query("SELECT 1")
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(())
    }

    fn pool_stats(&self) -> PoolStats {
        let (size, idle) = on_pool!(self, |pool| (pool.size(), pool.num_idle()));
        PoolStats {
            size,
            idle: idle as u32,
            max: self.max_connections,
        }
    }

    fn backend(&self) -> Backend {
        self.kind()
    }

    async fn close(&self) {
        if let Pool::Sqlite { write_pool, .. } = &self.pool {
            write_pool.close().await;
        }
        on_pool!(self, |pool| pool.close().await);
    }

    async fn checkpoint(&self) -> Result<(), StoreError> {
        let Pool::Sqlite {
            pool,
            write_pool,
            writer,
        } = &self.pool
        else {
            return Ok(());
        };
        // `(busy, frames in the log, frames copied)`.
        let (_, log_frames, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(pool)
            .await?;
        if log_frames < SQLITE_RESTART_LOG_FRAMES {
            return Ok(());
        }
        // The log only starts again from its beginning after a checkpoint that copied all of
        // it, which under steady writes a passive one never does (frames arrive while it
        // runs). Without this the log grew to `wal_autocheckpoint` and a commit checkpointed
        // it, holding the writer for 50–140 ms. Here the writer waits only for the frames
        // written since the passive checkpoint above, and for readers (briefly) to let go.
        let _writer = writer.lock().await;
        let mut conn = write_pool.acquire().await?;
        sqlx::query(&format!(
            "PRAGMA busy_timeout = {RESTART_READER_WAIT_MILLIS}"
        ))
        .execute(&mut *conn)
        .await?;
        let restarted = sqlx::query("PRAGMA wal_checkpoint(RESTART)")
            .execute(&mut *conn)
            .await;
        sqlx::query(&format!(
            "PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MILLIS}"
        ))
        .execute(&mut *conn)
        .await?;
        restarted?;
        Ok(())
    }

    fn supports_notifications(&self) -> bool {
        match self.pool {
            Pool::Sqlite { .. } => false,
            Pool::Postgres(_) => true,
        }
    }

    async fn notify(&self, channel: &str) -> Result<(), StoreError> {
        match &self.pool {
            // One process per SQLite file: the in-memory signal already woke everyone.
            Pool::Sqlite { .. } => {}
            Pool::Postgres(pool) => {
                sqlx::query("SELECT pg_notify($1, '')")
                    .bind(channel)
                    .execute(pool)
                    .await?;
            }
        }
        Ok(())
    }

    async fn listen(
        &self,
        channel: &str,
        on_notice: Box<dyn Fn() + Send + Sync>,
        shutdown: tokio_util::sync::CancellationToken,
    ) {
        match &self.pool {
            Pool::Sqlite { .. } => {}
            Pool::Postgres(pool) => listen_postgres(pool, channel, on_notice, shutdown).await,
        }
    }
}

/// PostgreSQL `LISTEN`, on a connection of its own, reconnecting after errors until `shutdown`.
async fn listen_postgres(
    pool: &PgPool,
    channel: &str,
    on_notice: Box<dyn Fn() + Send + Sync>,
    shutdown: tokio_util::sync::CancellationToken,
) {
    while !shutdown.is_cancelled() {
        let mut listener = match sqlx::postgres::PgListener::connect_with(pool).await {
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

/// Migrates SQLite on one connection with foreign keys off: SQLite changes a table's
/// constraints only by rebuilding it, and dropping the old table must not cascade.
async fn migrate_sqlite(pool: &SqlitePool) -> Result<(), StoreError> {
    let mut conn = pool.acquire().await?;
    sqlx::query("PRAGMA foreign_keys = OFF")
        .execute(&mut *conn)
        .await?;
    let migrated = SQLITE_MIGRATOR.run_direct(&mut *conn).await;
    sqlx::query("PRAGMA foreign_keys = ON")
        .execute(&mut *conn)
        .await?;
    migrated?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::begin_locking;

    #[test]
    fn lock_keys_are_quoted_as_escape_string_literals() {
        assert_eq!(begin_locking(&[]), "BEGIN");
        assert_eq!(
            begin_locking(&["src_1", r"it's \ a key"]),
            "BEGIN; SELECT pg_advisory_xact_lock(hashtext(E'src_1')); \
             SELECT pg_advisory_xact_lock(hashtext(E'it''s \\\\ a key'))"
        );
    }
}
