//! Day-two operations on a tenant's hooks for its admin: list them with their health,
//! re-enable one disabled for failing, delete one. Each change goes through the audited store
//! operations the console uses (`HookAdmin`), scoped by the tenant given: another tenant's hook
//! is "no hook".

use super::error::{AdminError, not_found};
use super::operator::Operator;
use crate::domain::{ClientId, HookId, TenantId, UserId};
use crate::storage::hooks::{DeliveryView, Hook};
use crate::storage::{HookScope, HookStatus, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;

/// How many recent deliveries the failing streak looks at.
pub const RECENT_DELIVERIES: u32 = 50;

/// Deliveries (newest first) that failed or are being retried since the last success, and
/// since the hook was last re-enabled (`since`).
pub fn failing_streak(deliveries: &[DeliveryView], since: Option<DateTime<Utc>>) -> usize {
    deliveries
        .iter()
        .take_while(|d| d.status != "delivered")
        .take_while(|d| since.is_none_or(|since| d.created_at > since))
        .filter(|d| d.status == "failed" || d.attempts > 0)
        .count()
}

/// One hook as the admin API lists it: never its secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AdminHookView {
    pub id: HookId,
    /// The user whose token subscribed it.
    pub user_id: UserId,
    /// The OAuth client (app) it was subscribed through; null when it has no grant, or the
    /// grant is gone.
    pub client_id: Option<ClientId>,
    /// The app's name, `(no app)` or `(app removed)`.
    pub app: String,
    /// The trigger it receives (`*` for every one).
    pub event: String,
    pub scope: HookScope,
    /// `active` or `disabled`.
    pub status: String,
    /// Why it is disabled: failing for days, or its app's grant was revoked.
    pub disabled_reason: Option<String>,
    /// Its grant was revoked: it cannot be re-enabled, the app must subscribe again.
    pub grant_revoked: bool,
    /// Since when its deliveries fail without a success in between.
    pub failing_since: Option<DateTime<Utc>>,
    /// Recent deliveries failed or retried since the last success (of the last 50).
    pub failing_streak: usize,
    pub target_url: String,
    pub created_at: DateTime<Utc>,
}

/// `GET /v1/admin/hooks`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AdminHookList {
    pub hooks: Vec<AdminHookView>,
}

/// The app of a grant: its client id and name, and whether the grant was revoked.
#[derive(Clone)]
struct App {
    client_id: Option<ClientId>,
    name: String,
    revoked: bool,
}

/// The hook's app, looked up once per grant (`apps` remembers them).
async fn app_of(
    op: &Operator<'_>,
    hook: &Hook,
    apps: &mut HashMap<String, App>,
) -> Result<App, AdminError> {
    let Some(grant_id) = &hook.grant_id else {
        return Ok(App {
            client_id: None,
            name: "(no app)".to_owned(),
            revoked: false,
        });
    };
    if let Some(app) = apps.get(grant_id.as_str()) {
        return Ok(app.clone());
    }
    let app = match op.store.grant(grant_id).await? {
        None => App {
            client_id: None,
            name: "(app removed)".to_owned(),
            revoked: false,
        },
        Some(grant) => App {
            name: op
                .store
                .client(&grant.client_id)
                .await?
                .map_or_else(|| grant.client_id.to_string(), |c| c.name),
            client_id: Some(grant.client_id),
            revoked: grant.revoked_at.is_some(),
        },
    };
    apps.insert(grant_id.to_string(), app.clone());
    Ok(app)
}

/// The hook as the API shows it, with its app and failing streak.
async fn view_of(
    op: &Operator<'_>,
    hook: Hook,
    apps: &mut HashMap<String, App>,
) -> Result<AdminHookView, AdminError> {
    let app = app_of(op, &hook, apps).await?;
    let deliveries = op
        .store
        .deliveries_of_hook(&hook.tenant_id, &hook.id, RECENT_DELIVERIES)
        .await?;
    Ok(AdminHookView {
        failing_streak: failing_streak(&deliveries, hook.reenabled_at),
        user_id: hook.user_id,
        client_id: app.client_id,
        app: app.name,
        event: hook.event.as_str().to_owned(),
        scope: hook.scope,
        status: hook.status.as_str().to_owned(),
        disabled_reason: hook.disabled_reason,
        grant_revoked: app.revoked,
        failing_since: hook.failing_since,
        target_url: hook.target_url.as_str().to_owned(),
        created_at: hook.created_at,
        id: hook.id,
    })
}

/// Every hook of the tenant, newest first.
pub async fn list_hooks(op: &Operator<'_>, tenant: &TenantId) -> Result<AdminHookList, AdminError> {
    let mut hooks = Vec::new();
    for owner in op.store.users(tenant).await? {
        hooks.extend(op.store.hooks_of_user(tenant, &owner.id).await?);
    }
    hooks.sort_by_key(|h| std::cmp::Reverse(h.created_at));
    let mut apps = HashMap::new();
    let mut views = Vec::with_capacity(hooks.len());
    for hook in hooks {
        views.push(view_of(op, hook, &mut apps).await?);
    }
    Ok(AdminHookList { hooks: views })
}

async fn tenant_hook(
    op: &Operator<'_>,
    tenant: &TenantId,
    id: &HookId,
) -> Result<Hook, AdminError> {
    op.store
        .hook(tenant, id)
        .await?
        .ok_or_else(|| not_found(format!("tenant {tenant} has no hook {id}")))
}

fn conflict(message: &str) -> AdminError {
    AdminError::Store(StoreError::Conflict(message.to_owned()))
}

/// What the audit log keeps of a re-enabled hook (the console and the admin API alike).
pub fn enable_audit_detail(hook: &Hook) -> serde_json::Value {
    json!({"owner": hook.user_id, "was": hook.disabled_reason})
}

/// What the audit log keeps of a deleted hook (the console and the admin API alike).
pub fn delete_audit_detail(hook: &Hook) -> serde_json::Value {
    json!({"owner": hook.user_id, "event": hook.event.as_str(), "target_url": hook.target_url.as_str()})
}

/// Turns a hook disabled for failing back on, its failing clock cleared. Refused (conflict)
/// for an active hook, and for one whose app's grant was revoked: the store's statement
/// excludes those, and the refusal says which it was.
pub async fn enable_hook(
    op: &Operator<'_>,
    tenant: &TenantId,
    id: &HookId,
) -> Result<AdminHookView, AdminError> {
    let hook = tenant_hook(op, tenant, id).await?;
    if hook.status == HookStatus::Active {
        return Err(conflict(
            "the hook is active: only a disabled hook can be re-enabled",
        ));
    }
    let audit = op.audit(
        Some(tenant),
        "hook.enable",
        hook.id.as_str(),
        enable_audit_detail(&hook),
    );
    let enabled = op
        .store
        .reenable_hook(tenant, &hook.id, Utc::now(), &audit)
        .await?;
    if !enabled {
        let now = tenant_hook(op, tenant, id).await?;
        if now.status == HookStatus::Active {
            return Err(conflict(
                "the hook is active: only a disabled hook can be re-enabled",
            ));
        }
        return Err(conflict(
            "the hook's app connection (grant) was revoked: it cannot be re-enabled; \
             the app has to subscribe again",
        ));
    }
    let hook = tenant_hook(op, tenant, id).await?;
    view_of(op, hook, &mut HashMap::new()).await
}

/// Deletes the tenant's hook with its deliveries.
pub async fn delete_hook(
    op: &Operator<'_>,
    tenant: &TenantId,
    id: &HookId,
) -> Result<(), AdminError> {
    let hook = tenant_hook(op, tenant, id).await?;
    let audit = op.audit(
        Some(tenant),
        "hook.delete",
        hook.id.as_str(),
        delete_audit_detail(&hook),
    );
    if op
        .store
        .delete_hook_audited(tenant, &hook.id, &audit)
        .await?
    {
        Ok(())
    } else {
        Err(not_found(format!("tenant {tenant} has no hook {id}")))
    }
}
