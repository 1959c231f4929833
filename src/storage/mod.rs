//! Persistence: one trait per aggregate, each implemented once, beside it, for [`Store`],
//! which runs the same SQL on SQLite (embedded default) or PostgreSQL (several instances), as
//! the database URL's scheme chooses (`store.rs`). Stores read and write; the rules (who gets
//! which event, duplicates, status moves) are decided by their callers.

mod accounts;
pub mod audit;
mod bundle;
pub mod call_list;
pub mod call_requests;
pub mod call_state;
mod call_tx;
pub mod call_writes;
mod client_lifecycle;
pub mod delivery_queue;
mod error;
pub mod hook_admin;
pub mod hooks;
pub mod ingest_refusals;
mod lease;
mod lifecycle_models;
pub mod media;
mod models;
mod oauth;
mod oauth_models;
mod oauth_rows;
pub mod pbx_sockets;
pub mod queue_names;
pub mod raw_events;
mod retention;
mod rows;
pub mod socket_dials;
mod source_activity;
mod source_lifecycle;
mod store;
mod user_lifecycle;
pub mod watermarks;

pub use accounts::{ClientStore, SourceStore, TenantStore, UserStore};
pub use audit::{AuditEntry, AuditRecord, AuditStore};
pub use call_list::{CallListStore, CallPageQuery, CallSummary, TriggerDelivery};
pub use call_requests::{CallRequest, CallRequestStore, DialRecord, NewCallRequest, RequestStatus};
pub use call_state::{CallStore, EventQuery, RawEventRef, StoredBatch};
pub use call_tx::{CallTx, KeyId};
pub use client_lifecycle::ClientLifecycle;
pub use delivery_queue::DeliveryQueue;
pub use error::StoreError;
pub(crate) use error::corrupt_json;
pub use hook_admin::HookAdmin;
pub use hooks::{HookScope, HookStatus, HookStore};
pub use ingest_refusals::{IngestRefusalStore, SourceRefusals};
pub use lifecycle_models::*;
pub use media::{MediaFile, MediaStore};
pub use models::*;
pub use oauth::OAuthStore;
pub use oauth_models::*;
pub use pbx_sockets::{PbxSocket, PbxSocketStore};
pub use queue_names::{QueueNames, QueueNaming};
pub use raw_events::{RawEventStore, StoredRawEvent};
pub use retention::Retention;
pub use socket_dials::{DialState, SocketDial, SocketDialStore};
pub use source_activity::{SourceActivity, SourceActivityStore};
pub use source_lifecycle::SourceLifecycle;
pub use store::Store;
pub use user_lifecycle::UserLifecycle;
pub use watermarks::WatermarkStore;

use crate::config::{Backend, DatabaseUrl};
use async_trait::async_trait;
use std::sync::Arc;

/// Every aggregate's store, behind one handle the app shares.
#[async_trait]
pub trait Storage:
    TenantStore
    + UserStore
    + SourceStore
    + ClientStore
    + OAuthStore
    + CallStore
    + CallRequestStore
    + HookStore
    + DeliveryQueue
    + Retention
    + PbxSocketStore
    + WatermarkStore
    + MediaStore
    + SocketDialStore
    + UserLifecycle
    + SourceLifecycle
    + AuditStore
    + ClientLifecycle
    + SourceActivityStore
    + IngestRefusalStore
    + HookAdmin
    + CallListStore
    + QueueNames
    + RawEventStore
    + Send
    + Sync
{
    /// Applies pending migrations (idempotent).
    async fn migrate(&self) -> Result<(), StoreError>;
    /// A round trip to the database, for readiness checks.
    async fn ping(&self) -> Result<(), StoreError>;
    fn pool_stats(&self) -> PoolStats;
    fn backend(&self) -> Backend;
    /// Closes the pool, waiting for connections in use to be returned.
    async fn close(&self);
    /// SQLite: copies what the write-ahead log holds into the database file (a passive
    /// checkpoint, which never waits for or blocks the writer), so that no commit has to do
    /// it; once the log is long, also makes it start again from its beginning (holding the
    /// writer for the few frames written meanwhile). No-op on PostgreSQL.
    async fn checkpoint(&self) -> Result<(), StoreError>;
    /// Whether other instances can be told about changes (PostgreSQL `NOTIFY`).
    fn supports_notifications(&self) -> bool;
    /// Tells the instances listening on `channel` (no-op where unsupported).
    async fn notify(&self, channel: &str) -> Result<(), StoreError>;
    /// Calls `on_notice` for each notification on `channel` until `shutdown`, reconnecting
    /// after errors (returns at once where unsupported).
    async fn listen(
        &self,
        channel: &str,
        on_notice: Box<dyn Fn() + Send + Sync>,
        shutdown: tokio_util::sync::CancellationToken,
    );
}

/// Opens the backend the URL names. SQLite files are created if missing.
pub async fn connect(
    url: &DatabaseUrl,
    max_connections: u32,
) -> Result<Arc<dyn Storage>, StoreError> {
    Ok(Arc::new(Store::connect(url, max_connections).await?))
}
