//! The hooks aggregate: REST Hook subscriptions, and the delivery queue their events wait in.
//! The delivery row is the queue: workers claim due rows with a lease (its `next_attempt_at`
//! moves past the lease, so a crashed worker's rows come back on their own).

use crate::domain::{DeliveryId, HookId, TenantId, UserId};
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::Serialize;

/// Whose calls a hook receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HookScope {
    /// The calls its owner takes part in.
    User,
    /// Every call of the tenant (tenant admins only).
    Tenant,
}

impl HookScope {
    pub fn as_str(self) -> &'static str {
        match self {
            HookScope::User => "user",
            HookScope::Tenant => "tenant",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Hook {
    pub id: HookId,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub grant_id: Option<String>,
    pub scope: HookScope,
    /// A call event type or `*`.
    pub event: String,
    pub target_url: String,
    pub secret: SecretString,
    pub active: bool,
    pub disabled_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct NewHook {
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub grant_id: Option<String>,
    pub scope: HookScope,
    pub event: String,
    pub target_url: String,
    pub secret: SecretString,
}

/// A delivery as its subscriber may inspect it, with its attempts.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    pub id: DeliveryId,
    pub hook_id: HookId,
    pub event_id: String,
    pub event_type: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub attempt_log: Vec<AttemptView>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AttemptView {
    pub attempted_at: DateTime<Utc>,
    pub status_code: Option<i64>,
    pub duration_ms: i64,
    pub error: Option<String>,
    pub response_body: Option<String>,
}

/// A due delivery a worker holds the lease of.
#[derive(Clone, Debug)]
pub struct ClaimedDelivery {
    pub id: DeliveryId,
    pub lease_token: String,
    pub hook_id: HookId,
    pub target_url: String,
    pub secret: SecretString,
    /// Attempts made before this one.
    pub attempts: u32,
    /// The event JSON, sent byte for byte.
    pub payload: String,
    /// When the delivery was queued (for the ingest → first attempt latency).
    pub created_at: DateTime<Utc>,
}

/// One attempt's record (status, timing, capped response).
#[derive(Clone, Debug)]
pub struct AttemptRecord {
    pub status_code: Option<u16>,
    pub duration_ms: i64,
    pub error: Option<String>,
    pub response_body: Option<String>,
}

/// What becomes of a claimed delivery.
#[derive(Clone, Debug)]
pub enum NextStep {
    Delivered,
    RetryAt(DateTime<Utc>),
    /// Retries exhausted.
    Failed,
    /// The target answered 410 Gone: the subscription is deleted.
    HookGone,
    /// Not attempted (the target's rate limit): try again at this time, no attempt counted.
    Deferred(DateTime<Utc>),
}

#[derive(Clone, Debug)]
pub struct DeliveryResult {
    pub id: DeliveryId,
    pub lease_token: String,
    pub hook_id: HookId,
    pub attempt: Option<AttemptRecord>,
    pub next: NextStep,
}

/// Queue figures for `/metrics`.
#[derive(Clone, Copy, Debug, Default)]
pub struct QueueStats {
    pub pending: i64,
    pub due: i64,
    /// Seconds the oldest due delivery has waited past its due time.
    pub oldest_due_seconds: f64,
}

#[async_trait::async_trait]
pub trait HookStore {
    async fn create_hook(&self, new: &NewHook) -> Result<Hook, super::StoreError>;
    /// The hooks `user` created in `tenant`.
    async fn hooks_of_user(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> Result<Vec<Hook>, super::StoreError>;
    async fn hook(&self, tenant: &TenantId, id: &HookId)
    -> Result<Option<Hook>, super::StoreError>;
    /// Deletes the hook if `user` owns it; `false` when there was nothing to delete.
    async fn delete_hook(
        &self,
        tenant: &TenantId,
        user: &UserId,
        id: &HookId,
    ) -> Result<bool, super::StoreError>;
    /// Disables every hook created under an OAuth grant (the grant was revoked).
    async fn disable_hooks_of_grant(
        &self,
        grant_id: &str,
        reason: &str,
    ) -> Result<u64, super::StoreError>;
    async fn deliveries_of_hook(
        &self,
        tenant: &TenantId,
        hook: &HookId,
        limit: u32,
    ) -> Result<Vec<DeliveryView>, super::StoreError>;
    async fn delivery(
        &self,
        tenant: &TenantId,
        id: &DeliveryId,
    ) -> Result<Option<DeliveryView>, super::StoreError>;
    /// Queues a delivery again now (a failed one, or a pending one sooner).
    async fn retry_delivery(
        &self,
        tenant: &TenantId,
        id: &DeliveryId,
        now: DateTime<Utc>,
    ) -> Result<bool, super::StoreError>;
}

#[async_trait::async_trait]
pub trait DeliveryQueue {
    /// Claims up to `limit` due deliveries of active hooks for `lease`.
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease: chrono::TimeDelta,
        limit: u32,
    ) -> Result<Vec<ClaimedDelivery>, super::StoreError>;
    /// Records a batch of results in one transaction. A result whose lease was lost (another
    /// worker reclaimed the row after the lease ran out) is skipped. A hook failing without a
    /// success since longer than `disable_after` is disabled.
    async fn record_results(
        &self,
        results: &[DeliveryResult],
        now: DateTime<Utc>,
        disable_after: chrono::TimeDelta,
    ) -> Result<(), super::StoreError>;
    async fn queue_stats(&self, now: DateTime<Utc>) -> Result<QueueStats, super::StoreError>;
    /// Deletes attempts and events (with their deliveries) older than `cutoff`, and raw-event
    /// receipts older than `receipts_cutoff`.
    async fn prune(
        &self,
        cutoff: DateTime<Utc>,
        receipts_cutoff: DateTime<Utc>,
    ) -> Result<u64, super::StoreError>;
}
