//! The hooks aggregate: REST Hook subscriptions and what their subscribers may see of their
//! deliveries. The queue the deliveries wait in is `delivery_queue.rs`.

use super::StoreError;
use super::error::corrupt;
use super::rows::{tenant_id, user_id};
use super::store::{Store, on_pool};
use crate::delivery::TargetUrl;
use crate::domain::{DeliveryId, GrantId, HookEventFilter, HookId, TenantId, UserId, WebUrl};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
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

    pub fn parse(raw: &str) -> Option<HookScope> {
        match raw {
            "user" => Some(HookScope::User),
            "tenant" => Some(HookScope::Tenant),
            _ => None,
        }
    }
}

/// Whether a hook receives events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HookStatus {
    Active,
    /// Failing for days, or its OAuth grant was revoked (`disabled_reason` says which).
    Disabled,
}

impl HookStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HookStatus::Active => "active",
            HookStatus::Disabled => "disabled",
        }
    }

    pub fn parse(raw: &str) -> Option<HookStatus> {
        match raw {
            "active" => Some(HookStatus::Active),
            "disabled" => Some(HookStatus::Disabled),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Hook {
    pub id: HookId,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    /// The OAuth grant it was created under: revoking the grant disables it.
    pub grant_id: Option<GrantId>,
    pub scope: HookScope,
    pub event: HookEventFilter,
    /// Checked against the target policy when it was subscribed, and again on every send.
    pub target_url: WebUrl,
    pub secret: SecretString,
    pub status: HookStatus,
    pub disabled_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When an admin last turned it back on after it was disabled (its failing streak counts
    /// from then).
    pub reenabled_at: Option<DateTime<Utc>>,
    /// Since when its deliveries fail without a success in between (none while they succeed).
    pub failing_since: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug)]
pub struct NewHook {
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub grant_id: Option<GrantId>,
    pub scope: HookScope,
    pub event: HookEventFilter,
    /// A URL the target policy accepted.
    pub target_url: TargetUrl,
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

#[async_trait::async_trait]
pub trait HookStore {
    async fn create_hook(&self, new: &NewHook) -> Result<Hook, StoreError>;
    /// The hooks `user` created in `tenant`.
    async fn hooks_of_user(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> Result<Vec<Hook>, StoreError>;
    async fn hook(&self, tenant: &TenantId, id: &HookId) -> Result<Option<Hook>, StoreError>;
    /// Deletes the hook if `user` owns it; `false` when there was nothing to delete.
    async fn delete_hook(
        &self,
        tenant: &TenantId,
        user: &UserId,
        id: &HookId,
    ) -> Result<bool, StoreError>;
    async fn deliveries_of_hook(
        &self,
        tenant: &TenantId,
        hook: &HookId,
        limit: u32,
    ) -> Result<Vec<DeliveryView>, StoreError>;
    async fn delivery(
        &self,
        tenant: &TenantId,
        id: &DeliveryId,
    ) -> Result<Option<DeliveryView>, StoreError>;
    /// Queues a delivery again now (a failed one, or a pending one sooner).
    async fn retry_delivery(
        &self,
        tenant: &TenantId,
        id: &DeliveryId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
}

const HOOK_COLUMNS: &str = "id, tenant_id, user_id, grant_id, scope, event_type, target_url, \
                            secret, status, disabled_reason, created_at, reenabled_at, \
                            failing_since";

#[derive(sqlx::FromRow)]
struct HookRow {
    id: String,
    tenant_id: String,
    user_id: String,
    grant_id: Option<String>,
    scope: String,
    event_type: String,
    target_url: String,
    secret: String,
    status: String,
    disabled_reason: Option<String>,
    created_at: DateTime<Utc>,
    reenabled_at: Option<DateTime<Utc>>,
    failing_since: Option<DateTime<Utc>>,
}

impl TryFrom<HookRow> for Hook {
    type Error = StoreError;
    fn try_from(row: HookRow) -> Result<Self, StoreError> {
        Ok(Hook {
            id: HookId::parse(&row.id).ok_or_else(|| corrupt("hook id", &row.id))?,
            tenant_id: tenant_id(&row.tenant_id)?,
            user_id: user_id(&row.user_id)?,
            grant_id: match row.grant_id {
                Some(raw) => Some(GrantId::parse(&raw).ok_or_else(|| corrupt("grant id", &raw))?),
                None => None,
            },
            scope: HookScope::parse(&row.scope).ok_or_else(|| corrupt("hook scope", &row.scope))?,
            event: HookEventFilter::parse(&row.event_type)
                .ok_or_else(|| corrupt("hook event", &row.event_type))?,
            target_url: WebUrl::parse(&row.target_url)
                .map_err(|_| corrupt("hook target url", &row.target_url))?,
            secret: SecretString::from(row.secret),
            status: HookStatus::parse(&row.status)
                .ok_or_else(|| corrupt("hook status", &row.status))?,
            disabled_reason: row.disabled_reason,
            created_at: row.created_at,
            reenabled_at: row.reenabled_at,
            failing_since: row.failing_since,
        })
    }
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: String,
    hook_id: String,
    event_id: String,
    event_type: String,
    status: String,
    attempts: i64,
    next_attempt_at: DateTime<Utc>,
    last_status_code: Option<i64>,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    attempted_at: DateTime<Utc>,
    status_code: Option<i64>,
    duration_ms: i64,
    error: Option<String>,
    response_body: Option<String>,
}

const DELIVERY_SELECT: &str = "SELECT d.id, d.hook_id, e.id AS event_id, e.event_type, \
     d.status, d.attempts, d.next_attempt_at, d.last_status_code, d.last_error, d.created_at \
     FROM deliveries d JOIN call_events e ON e.seq = d.event_seq";

impl Store {
    async fn delivery_views(
        &self,
        rows: Vec<DeliveryRow>,
    ) -> Result<Vec<DeliveryView>, StoreError> {
        let mut views = Vec::with_capacity(rows.len());
        for row in rows {
            let attempts: Vec<AttemptRow> = on_pool!(self, |pool| sqlx::query_as(
                "SELECT attempted_at, status_code, duration_ms, error, response_body \
                 FROM delivery_attempts WHERE delivery_id = $1 ORDER BY id",
            )
            .bind(&row.id)
            .fetch_all(pool)
            .await)?;
            views.push(DeliveryView {
                id: DeliveryId::parse(&row.id).ok_or_else(|| corrupt("delivery id", &row.id))?,
                hook_id: HookId::parse(&row.hook_id)
                    .ok_or_else(|| corrupt("hook id", &row.hook_id))?,
                event_id: row.event_id,
                event_type: row.event_type,
                next_attempt_at: (row.status == "pending").then_some(row.next_attempt_at),
                status: row.status,
                attempts: row.attempts,
                last_status_code: row.last_status_code,
                last_error: row.last_error,
                created_at: row.created_at,
                attempt_log: attempts
                    .into_iter()
                    .map(|a| AttemptView {
                        attempted_at: a.attempted_at,
                        status_code: a.status_code,
                        duration_ms: a.duration_ms,
                        error: a.error,
                        response_body: a.response_body,
                    })
                    .collect(),
            });
        }
        Ok(views)
    }
}

#[async_trait::async_trait]
impl HookStore for Store {
    async fn create_hook(&self, new: &NewHook) -> Result<Hook, StoreError> {
        let now = Utc::now();
        let row: HookRow = on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "INSERT INTO hooks (id, tenant_id, user_id, grant_id, scope, \
                 event_type, target_url, secret, \
                 status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, \
                 $7, $8, 'active', $9, $9) \
                 RETURNING {HOOK_COLUMNS}"
            ))
            .bind(HookId::generate().as_str())
            .bind(new.tenant_id.as_str())
            .bind(new.user_id.as_str())
            .bind(new.grant_id.as_ref().map(|g| g.as_str()))
            .bind(new.scope.as_str())
            .bind(new.event.as_str())
            .bind(new.target_url.as_str())
            .bind(new.secret.expose_secret())
            .bind(now)
            .fetch_one(pool)
            .await
        })?;
        row.try_into()
    }

    async fn hooks_of_user(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> Result<Vec<Hook>, StoreError> {
        let rows: Vec<HookRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "SELECT {HOOK_COLUMNS} FROM hooks WHERE tenant_id = $1 AND user_id \
                 = $2 ORDER BY created_at, id"
            ))
            .bind(tenant.as_str())
            .bind(user.as_str())
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter().map(Hook::try_from).collect()
    }

    async fn hook(&self, tenant: &TenantId, id: &HookId) -> Result<Option<Hook>, StoreError> {
        let row: Option<HookRow> = on_pool!(self, |pool| sqlx::query_as(&format!(
            "SELECT {HOOK_COLUMNS} FROM hooks WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_optional(pool)
        .await)?;
        row.map(Hook::try_from).transpose()
    }

    async fn delete_hook(
        &self,
        tenant: &TenantId,
        user: &UserId,
        id: &HookId,
    ) -> Result<bool, StoreError> {
        let done = on_pool!(self, |pool| sqlx::query(
            "DELETE FROM hooks WHERE tenant_id = $1 AND user_id = $2 AND id = $3"
        )
        .bind(tenant.as_str())
        .bind(user.as_str())
        .bind(id.as_str())
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        let deleted = done > 0;
        if deleted {
            on_pool!(self, |pool| sqlx::query(
                "DELETE FROM deliveries WHERE hook_id = $1"
            )
            .bind(id.as_str())
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        }
        Ok(deleted)
    }

    async fn deliveries_of_hook(
        &self,
        tenant: &TenantId,
        hook: &HookId,
        limit: u32,
    ) -> Result<Vec<DeliveryView>, StoreError> {
        let rows: Vec<DeliveryRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "{DELIVERY_SELECT} WHERE d.tenant_id = $1 AND d.hook_id = $2 ORDER \
                 BY d.created_at DESC, d.id DESC LIMIT $3"
            ))
            .bind(tenant.as_str())
            .bind(hook.as_str())
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
        })?;
        self.delivery_views(rows).await
    }

    async fn delivery(
        &self,
        tenant: &TenantId,
        id: &DeliveryId,
    ) -> Result<Option<DeliveryView>, StoreError> {
        let rows: Vec<DeliveryRow> = on_pool!(self, |pool| sqlx::query_as(&format!(
            "{DELIVERY_SELECT} WHERE d.tenant_id = $1 AND d.id = $2"
        ))
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_all(pool)
        .await)?;
        Ok(self.delivery_views(rows).await?.pop())
    }

    async fn retry_delivery(
        &self,
        tenant: &TenantId,
        id: &DeliveryId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE deliveries SET status = 'pending', next_attempt_at = $1, \
                 lease_token = NULL, updated_at = $1 \
                 WHERE tenant_id = $2 AND id = $3 AND status IN ('pending', 'failed')",
            )
            .bind(now)
            .bind(tenant.as_str())
            .bind(id.as_str())
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })?;
        Ok(done > 0)
    }
}
