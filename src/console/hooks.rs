//! Hooks: an admin sees every hook of the tenant, anyone else their own. A hook's page lists
//! its deliveries with each attempt; a delivery can be sent again, a hook disabled for
//! failing re-enabled, and a hook deleted, each recorded in the audit log. Every
//! action checks the hook is the viewer's (or the viewer is an admin) before it touches it, so
//! a direct URL or a forged post on another user's hook answers 404.

use super::viewer::{self, Nav, Refused, Viewer, redirect, respond};
use crate::admin::hook_ops::{self, RECENT_DELIVERIES, failing_streak};
use crate::domain::{DeliveryId, GrantId, HookId};
use crate::http::AppState;
use crate::oauth::params::Params;
use crate::storage::hooks::{DeliveryView, Hook};
use crate::storage::{HookStatus, User};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use chrono::Utc;
use serde_json::json;
use std::collections::HashMap;

/// One hook as the tables show it.
pub struct HookLine {
    pub id: String,
    pub owner: String,
    pub app: String,
    pub event: String,
    pub scope: &'static str,
    pub target: String,
    pub active: bool,
    pub status: String,
    /// Recent deliveries not delivered, newest first, until the last success.
    pub failing_streak: usize,
    /// Disabled because its app's grant was revoked: it cannot be re-enabled (the app must
    /// subscribe again).
    pub revoked_grant: bool,
}

impl HookLine {
    pub fn failing(&self) -> bool {
        self.failing_streak > 0 || !self.active
    }
}

/// The hooks the viewer may see: every user's for an admin, otherwise their own.
async fn visible_hooks(state: &AppState, viewer: &Viewer) -> Result<Vec<(Hook, User)>, Refused> {
    let tenant = &viewer.user.tenant_id;
    let owners = if viewer.user.is_admin {
        state.storage.users(tenant).await?
    } else {
        vec![viewer.user.clone()]
    };
    let mut hooks = Vec::new();
    for owner in owners {
        for hook in state.storage.hooks_of_user(tenant, &owner.id).await? {
            hooks.push((hook, owner.clone()));
        }
    }
    hooks.sort_by_key(|h| std::cmp::Reverse(h.0.created_at));
    Ok(hooks)
}

/// The name of the app a grant was given to, looked up once per grant.
async fn app_name(
    state: &AppState,
    grant: Option<&GrantId>,
    names: &mut HashMap<String, String>,
) -> Result<String, Refused> {
    let Some(grant) = grant else {
        return Ok("(no app)".to_owned());
    };
    if let Some(name) = names.get(grant.as_str()) {
        return Ok(name.clone());
    }
    let name = match state.storage.grant(grant).await? {
        Some(g) => state
            .storage
            .client(&g.client_id)
            .await?
            .map_or_else(|| g.client_id.to_string(), |c| c.name),
        None => "(app removed)".to_owned(),
    };
    names.insert(grant.to_string(), name.clone());
    Ok(name)
}

/// The viewer's visible hooks as table lines, with their failing streaks.
pub async fn hook_lines(state: &AppState, viewer: &Viewer) -> Result<Vec<HookLine>, Refused> {
    let mut names = HashMap::new();
    let mut lines = Vec::new();
    for (hook, owner) in visible_hooks(state, viewer).await? {
        let deliveries = state
            .storage
            .deliveries_of_hook(&hook.tenant_id, &hook.id, RECENT_DELIVERIES)
            .await?;
        let status = match (hook.status, &hook.disabled_reason) {
            (HookStatus::Active, _) => "active".to_owned(),
            (HookStatus::Disabled, Some(reason)) => format!("disabled: {reason}"),
            (HookStatus::Disabled, None) => "disabled".to_owned(),
        };
        lines.push(HookLine {
            id: hook.id.to_string(),
            owner: owner.name.clone(),
            app: app_name(state, hook.grant_id.as_ref(), &mut names).await?,
            event: hook.event.to_string(),
            scope: hook.scope.as_str(),
            target: hook.target_url.as_str().to_owned(),
            active: hook.status == HookStatus::Active,
            status,
            failing_streak: failing_streak(&deliveries, hook.reenabled_at),
            revoked_grant: hook
                .disabled_reason
                .as_deref()
                .is_some_and(|r| r.contains("revoked")),
        });
    }
    Ok(lines)
}

/// The hook named in the path, if the viewer may act on it; 404 otherwise.
async fn own_hook(state: &AppState, viewer: &Viewer, raw: &str) -> Result<Hook, Refused> {
    let id = HookId::parse(raw).ok_or(Refused::NotFound)?;
    let hook = state
        .storage
        .hook(&viewer.user.tenant_id, &id)
        .await?
        .ok_or(Refused::NotFound)?;
    if viewer.user.is_admin || hook.user_id == viewer.user.id {
        Ok(hook)
    } else {
        Err(Refused::NotFound)
    }
}

#[derive(Template)]
#[template(path = "console/hooks.html")]
struct HooksPage<'a> {
    nav: Nav<'a>,
    hooks: Vec<HookLine>,
}

#[get("/console/hooks")]
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    respond(
        async {
            let viewer = viewer::viewer(&state, &req).await?;
            let hooks = hook_lines(&state, &viewer).await?;
            Ok(viewer.page(&HooksPage {
                nav: viewer.nav(&state, "hooks"),
                hooks,
            }))
        }
        .await,
    )
}

/// One attempt as the page shows it.
struct AttemptLine {
    at: String,
    status: String,
    duration_ms: i64,
    response: String,
}

struct DeliveryLine {
    id: String,
    event_id: String,
    event_type: String,
    status: String,
    attempts: Vec<AttemptLine>,
    /// Failed or waiting for a retry: may be sent again now.
    resendable: bool,
}

fn delivery_line(d: &DeliveryView) -> DeliveryLine {
    DeliveryLine {
        id: d.id.to_string(),
        event_id: d.event_id.clone(),
        event_type: d.event_type.clone(),
        status: d.status.clone(),
        resendable: d.status == "failed" || d.status == "pending",
        attempts: d
            .attempt_log
            .iter()
            .map(|a| AttemptLine {
                at: a.attempted_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                status: a
                    .status_code
                    .map_or_else(|| a.error.clone().unwrap_or_default(), |c| c.to_string()),
                duration_ms: a.duration_ms,
                response: a
                    .response_body
                    .as_deref()
                    .unwrap_or_default()
                    .chars()
                    .take(200)
                    .collect(),
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "console/hook.html")]
struct HookPage<'a> {
    nav: Nav<'a>,
    hook: HookLine,
    deliveries: Vec<DeliveryLine>,
    notice: Option<&'static str>,
}

#[derive(serde::Deserialize)]
pub struct NoticeQuery {
    done: Option<String>,
}

#[get("/console/hooks/{id}")]
pub async fn show(
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<NoticeQuery>,
    state: web::Data<AppState>,
) -> HttpResponse {
    respond(
        async {
            let viewer = viewer::viewer(&state, &req).await?;
            let hook = own_hook(&state, &viewer, &path).await?;
            let line = hook_lines(&state, &viewer)
                .await?
                .into_iter()
                .find(|l| l.id == hook.id.as_str())
                .ok_or(Refused::NotFound)?;
            let deliveries = state
                .storage
                .deliveries_of_hook(&hook.tenant_id, &hook.id, RECENT_DELIVERIES)
                .await?;
            let notice = match query.done.as_deref() {
                Some("resent") => Some("The delivery is queued to be sent again now."),
                Some("delivered") => Some("That delivery succeeded already; it is not sent again."),
                Some("enabled") => Some("The hook is active again; its failing streak starts anew."),
                Some("not-enabled") => Some(
                    "This hook cannot be re-enabled: its app's connection was revoked. The app has to subscribe again.",
                ),
                _ => None,
            };
            Ok(viewer.page(&HookPage {
                nav: viewer.nav(&state, "hooks"),
                hook: line,
                deliveries: deliveries.iter().map(delivery_line).collect(),
                notice,
            }))
        }
        .await,
    )
}

/// Sends one delivery of the hook again now.
#[post("/console/hooks/{hook}/deliveries/{id}/resend")]
pub async fn resend(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    respond(
        async {
            let form = Params::from_form(&body);
            let viewer = viewer::poster(&state, &req, &form).await?;
            let hook = own_hook(&state, &viewer, &path.0).await?;
            let id = DeliveryId::parse(&path.1).ok_or(Refused::NotFound)?;
            let delivery = state
                .storage
                .delivery(&hook.tenant_id, &id)
                .await?
                .filter(|d| d.hook_id == hook.id)
                .ok_or(Refused::NotFound)?;
            let audit = viewer.audit(
                "delivery.resend",
                delivery.id.as_str(),
                json!({"hook_id": hook.id, "event_id": delivery.event_id}),
            );
            let queued = state
                .storage
                .resend_delivery(&hook.tenant_id, &delivery.id, Utc::now(), &audit)
                .await?;
            if queued {
                state.deliveries_queued.notify_one();
            }
            let done = if queued { "resent" } else { "delivered" };
            Ok(redirect(&format!("/console/hooks/{}?done={done}", hook.id)))
        }
        .await,
    )
}

/// Deletes the hook (its queued deliveries go with it).
#[post("/console/hooks/{hook}/delete")]
pub async fn delete(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    respond(
        async {
            let form = Params::from_form(&body);
            let viewer = viewer::poster(&state, &req, &form).await?;
            let hook = own_hook(&state, &viewer, &path).await?;
            let audit = viewer.audit(
                "hook.delete",
                hook.id.as_str(),
                hook_ops::delete_audit_detail(&hook),
            );
            state
                .storage
                .delete_hook_audited(&hook.tenant_id, &hook.id, &audit)
                .await?;
            Ok(redirect("/console/hooks"))
        }
        .await,
    )
}

/// Turns a hook disabled for failing back on (its owner or an admin). One disabled because
/// its app's grant was revoked stays off: the store refuses it, and the page says why.
#[post("/console/hooks/{hook}/enable")]
pub async fn enable(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    respond(
        async {
            let form = Params::from_form(&body);
            let viewer = viewer::poster(&state, &req, &form).await?;
            let hook = own_hook(&state, &viewer, &path).await?;
            let audit = viewer.audit(
                "hook.enable",
                hook.id.as_str(),
                hook_ops::enable_audit_detail(&hook),
            );
            let enabled = state
                .storage
                .reenable_hook(&hook.tenant_id, &hook.id, Utc::now(), &audit)
                .await?;
            let done = match (enabled, hook.status) {
                (true, _) | (false, HookStatus::Active) => "enabled",
                (false, HookStatus::Disabled) => "not-enabled",
            };
            Ok(redirect(&format!("/console/hooks/{}?done={done}", hook.id)))
        }
        .await,
    )
}
