//! Persistence: one trait per aggregate, implemented for SQLite (embedded default) and
//! PostgreSQL (several instances). The backend is chosen by the database URL's scheme.

mod call_batch;
mod call_queries;
mod call_request_queries;
pub mod call_requests;
mod call_write_queries;
pub mod calls;
mod error;
mod hook_queries;
pub mod hooks;
mod models;
mod oauth_models;
mod oauth_queries;
mod oauth_rows;
pub mod pbx_sockets;
mod postgres;
mod rows;
mod shared_queries;
mod sqlite;

pub use call_requests::{CallRequest, CallRequestStore, DialRecord, NewCallRequest, RequestStatus};
pub use calls::{AppliedEvents, BatchApplyFn, CallStore, EventQuery, NextState, RawEventRef};
pub use error::StoreError;
pub use hooks::{DeliveryQueue, HookScope, HookStore};
pub use models::*;
pub use oauth_models::*;
pub use pbx_sockets::{PbxSocket, PbxSocketStore};
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

use crate::config::{Backend, DatabaseUrl};
use crate::domain::{ClientId, EmailAddress, GrantId, SourceId, TenantId, UserId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use std::sync::Arc;

#[async_trait]
pub trait TenantStore {
    async fn create_tenant(&self, new: &NewTenant) -> Result<Tenant, StoreError>;
    async fn tenant(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError>;
}

#[async_trait]
pub trait UserStore {
    /// Creates the user and their links in one transaction: on any error nothing is written.
    async fn create_user(&self, new: &NewUser) -> Result<User, StoreError>;
    async fn user(&self, tenant: &TenantId, id: &UserId) -> Result<Option<User>, StoreError>;
    async fn users(&self, tenant: &TenantId) -> Result<Vec<User>, StoreError>;
    /// Every user with this email, across tenants (login picks the one whose password matches).
    async fn users_by_email(
        &self,
        email: &EmailAddress,
    ) -> Result<Vec<UserCredentials>, StoreError>;
    /// How this tenant's sources name its users.
    async fn user_links(&self, tenant: &TenantId) -> Result<Vec<UserLink>, StoreError>;
}

#[async_trait]
pub trait SourceStore {
    async fn create_source(&self, new: &NewSource) -> Result<Source, StoreError>;
    /// Looks a source up by id alone: the ingest URL carries only the id, and the source
    /// then names its tenant.
    async fn source(&self, id: &SourceId) -> Result<Option<Source>, StoreError>;
    async fn sources(&self, tenant: &TenantId) -> Result<Vec<Source>, StoreError>;
    /// Gives a queue of `queue.source_id` its readable name, replacing an earlier one.
    async fn name_queue(&self, queue: &NamedQueue) -> Result<(), StoreError>;
    /// The named queues of a source, by external id.
    async fn queues(&self, source: &SourceId) -> Result<Vec<NamedQueue>, StoreError>;
    /// Forgets a queue's name; false if it had none.
    async fn forget_queue(&self, source: &SourceId, external_id: &str) -> Result<bool, StoreError>;
}

#[async_trait]
pub trait ClientStore {
    async fn create_client(&self, new: &NewOAuthClient) -> Result<OAuthClient, StoreError>;
    async fn client(&self, id: &ClientId) -> Result<Option<OAuthClient>, StoreError>;
}

/// The OAuth2 authorization server's state: keys, codes, grants, refresh tokens, revocations.
#[async_trait]
pub trait OAuthStore {
    /// Stores `candidate` as generation 1 of `purpose` unless a key of that purpose exists
    /// (so instances sharing a database agree), then returns every key of it, newest first.
    async fn ensure_key(
        &self,
        purpose: KeyPurpose,
        candidate: &SecretString,
        now: DateTime<Utc>,
    ) -> Result<Vec<OAuthKey>, StoreError>;
    async fn clients(&self) -> Result<Vec<OAuthClient>, StoreError>;
    /// False when there is no such client.
    async fn set_client_secret(&self, id: &ClientId, secret_hash: &str)
    -> Result<bool, StoreError>;
    /// Deletes the client with its codes, grants and tokens. False when there is no such client.
    async fn delete_client(&self, id: &ClientId) -> Result<bool, StoreError>;
    async fn create_code(&self, code: &NewAuthCode) -> Result<(), StoreError>;
    /// Consumes the code atomically (RFC 6749 §4.1.2: single use). On first use runs `check`
    /// and, when it passes, opens the grant with a first refresh token (`refresh_hash`) in the
    /// same transaction. A second use revokes the grant issued from the first (§10.5).
    async fn exchange_code(
        &self,
        code_hash: &str,
        refresh_hash: &str,
        now: DateTime<Utc>,
        check: &CodeCheck<'_>,
    ) -> Result<CodeExchange, StoreError>;
    /// Rotates a refresh token (RFC 9700 §4.14.2) with a grace window; see `RefreshOutcome`.
    async fn refresh(&self, request: &RefreshRequest<'_>) -> Result<RefreshOutcome, StoreError>;
    async fn grant(&self, id: &GrantId) -> Result<Option<Grant>, StoreError>;
    /// The grant a refresh token belongs to, for introspection and revocation.
    async fn refresh_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<RefreshTokenRecord>, StoreError>;
    async fn grants_of_user(&self, user: &UserId) -> Result<Vec<Grant>, StoreError>;
    /// Ends the grant and everything issued under it. False when it was unknown or already revoked.
    async fn revoke_grant(&self, id: &GrantId, now: DateTime<Utc>) -> Result<bool, StoreError>;
    /// Denylists one access token until it would have expired anyway.
    async fn revoke_access_token(
        &self,
        jti: &str,
        grant: &GrantId,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// What the bearer guard re-checks: the grant, its user (gone → `None`), the tenant's name
    /// and the grant's denylisted access tokens.
    async fn grant_status(
        &self,
        id: &GrantId,
        now: DateTime<Utc>,
    ) -> Result<Option<GrantStatus>, StoreError>;
    /// Deletes codes that expired before `codes_before` and denylist rows past `now`;
    /// returns how many rows went.
    async fn prune_oauth(
        &self,
        codes_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
}

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
    + PbxSocketStore
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
    /// Whether other instances can be told about changes (PostgreSQL `NOTIFY`).
    fn supports_notifications(&self) -> bool {
        false
    }
    /// Tells the instances listening on `channel` (no-op where unsupported).
    async fn notify(&self, _channel: &str) -> Result<(), StoreError> {
        Ok(())
    }
    /// Calls `on_notice` for each notification on `channel` until `shutdown`, reconnecting
    /// after errors (returns at once where unsupported).
    async fn listen(
        &self,
        _channel: &str,
        _on_notice: Box<dyn Fn() + Send + Sync>,
        _shutdown: tokio_util::sync::CancellationToken,
    ) {
    }
}

/// Opens the backend the URL names. SQLite files are created if missing.
pub async fn connect(
    url: &DatabaseUrl,
    max_connections: u32,
) -> Result<Arc<dyn Storage>, StoreError> {
    let backend = url
        .backend()
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
    Ok(match backend {
        Backend::Sqlite => Arc::new(SqliteStore::connect(url, max_connections).await?),
        Backend::Postgres => Arc::new(PostgresStore::connect(url, max_connections).await?),
    })
}
