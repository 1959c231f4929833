//! Subscribe, list and unsubscribe hooks.

use super::HookEvent;
use crate::delivery::{HookSecret, TargetError, TargetUrl, check_resolves};
use crate::domain::{HookEventFilter, HookId};
use crate::error::{ApiError, Problem, ProblemCode};
use crate::http::AppState;
use crate::oauth::{Authenticated, Scope};
use crate::storage::HookScope;
use crate::storage::hooks::{Hook, NewHook};
use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"target_url": "https://hooks.zapier.com/hooks/standard/123/abc", "event": "call.answered"})))]
pub struct SubscribeBody {
    /// Where deliveries are POSTed: `https` and public (unless the server allows private targets).
    #[schema(format = "uri")]
    target_url: String,
    /// A call event type, or `*` for all of them.
    #[schema(value_type = HookEvent)]
    event: String,
    /// `user` (the default): the calls its owner takes part in; `tenant`: every call (needs
    /// `tenant:admin`).
    #[serde(default)]
    scope: Option<HookScope>,
}

/// A hook as the API shows it; `secret` only in the answer to its creation.
#[derive(Serialize, utoipa::ToSchema)]
pub struct HookView {
    id: HookId,
    target_url: String,
    /// A call event type, or `*`.
    #[schema(value_type = HookEvent)]
    event: String,
    scope: HookScope,
    /// `active`, or `disabled` (see `disabled_reason`).
    #[schema(value_type = String, pattern = "^(active|disabled)$")]
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    disabled_reason: Option<String>,
    /// The `whsec_…` signing secret (Standard Webhooks); only in the answer to `POST /v1/hooks`.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
    created_at: DateTime<Utc>,
}

impl HookView {
    fn of(hook: Hook, with_secret: bool) -> HookView {
        HookView {
            secret: with_secret.then(|| hook.secret.expose_secret().to_owned()),
            id: hook.id,
            target_url: hook.target_url.to_string(),
            event: hook.event.as_str().to_owned(),
            scope: hook.scope,
            status: hook.status.as_str(),
            disabled_reason: hook.disabled_reason,
            created_at: hook.created_at,
        }
    }
}

fn parse_event(raw: &str) -> Result<HookEventFilter, ApiError> {
    HookEventFilter::parse(raw).ok_or_else(|| {
        ApiError::unprocessable(
            ProblemCode::InvalidEvent,
            format!("{raw:?} is not a call event type (such as call.answered) or *"),
        )
    })
}

fn target_problem(error: TargetError) -> ApiError {
    ApiError::unprocessable(
        ProblemCode::InvalidTarget,
        format!("target_url refused: {error}"),
    )
}

/// `POST /v1/hooks`: Zapier's performSubscribe.
#[utoipa::path(
    operation_id = "createHook",
    tag = "hooks",
    request_body = SubscribeBody,
    security(("bearer" = []), ("oauth2" = ["calls:read"])),
    responses(
        (status = 201, description = "Subscribed; the answer carries the signing secret", body = HookView, links(
            ("getHook" = (operation_id = "getHook", parameters(("id" = "$response.body#/id")))),
            ("deleteHook" = (operation_id = "deleteHook", parameters(("id" = "$response.body#/id")))),
            ("listHookDeliveries" = (operation_id = "listHookDeliveries", parameters(("id" = "$response.body#/id")))),
        )),
        (status = 400, description = "The body is not JSON of this shape", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`event` is not a call event type or `*` (`invalid_event`), or `target_url` is refused (`invalid_target`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No access token, or one that is invalid, expired or revoked (`WWW-Authenticate: Bearer`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks a scope this request needs (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The access token cannot be checked right now; retry shortly", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/v1/hooks")]
#[tracing::instrument(name = "subscribe hook", skip_all, fields(user = %auth.user_id))]
pub async fn create(
    auth: Authenticated,
    body: web::Json<SubscribeBody>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Scope::CallsRead)?;
    let body = body.into_inner();
    let scope = body.scope.unwrap_or(HookScope::User);
    if scope == HookScope::Tenant {
        auth.require(Scope::TenantAdmin)?;
    }
    let event = parse_event(&body.event)?;
    let policy = state.settings.target_policy();
    let target = TargetUrl::parse(&body.target_url, &policy).map_err(target_problem)?;
    check_resolves(&target, &policy)
        .await
        .map_err(target_problem)?;
    let hook = state
        .storage
        .create_hook(&NewHook {
            tenant_id: auth.tenant_id.clone(),
            user_id: auth.user_id.clone(),
            grant_id: Some(auth.grant_id.clone()),
            scope,
            event,
            target_url: target,
            secret: SecretString::from(HookSecret::generate().expose().to_owned()),
        })
        .await?;
    tracing::info!(hook = %hook.id, "hook subscribed");
    Ok(HttpResponse::Created().json(HookView::of(hook, true)))
}

/// The caller's hooks (without their secrets).
#[utoipa::path(
    operation_id = "listHooks",
    tag = "hooks",
    security(("bearer" = []), ("oauth2" = ["calls:read"])),
    responses(
        (status = 200, description = "The caller's hooks", body = [HookView]),
        (status = 401, description = "No access token, or one that is invalid, expired or revoked (`WWW-Authenticate: Bearer`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks a scope this request needs (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The access token cannot be checked right now; retry shortly", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/v1/hooks")]
pub async fn list(
    auth: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Scope::CallsRead)?;
    let hooks = state
        .storage
        .hooks_of_user(&auth.tenant_id, &auth.user_id)
        .await?;
    let views: Vec<HookView> = hooks.into_iter().map(|h| HookView::of(h, false)).collect();
    Ok(HttpResponse::Ok().json(views))
}

/// The caller's own hook, or 404 (another user's or tenant's hook looks the same as none).
pub(super) async fn own_hook(
    auth: &Authenticated,
    state: &AppState,
    raw_id: &str,
) -> Result<Hook, ApiError> {
    let missing = || ApiError::not_found("no such hook");
    let id = HookId::parse(raw_id).ok_or_else(missing)?;
    let hook = state
        .storage
        .hook(&auth.tenant_id, &id)
        .await?
        .ok_or_else(missing)?;
    if hook.user_id != auth.user_id {
        return Err(missing());
    }
    Ok(hook)
}

/// One of the caller's hooks.
#[utoipa::path(
    operation_id = "getHook",
    tag = "hooks",
    params(("id" = String, Path, description = "The hook (`hook_…`)", example = "hook_01jd8kq2m3n4p5q6r7s8t9v0wx")),
    security(("bearer" = []), ("oauth2" = ["calls:read"])),
    responses(
        (status = 200, description = "The hook", body = HookView),
        (status = 404, description = "No such hook of the caller", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No access token, or one that is invalid, expired or revoked (`WWW-Authenticate: Bearer`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks a scope this request needs (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The access token cannot be checked right now; retry shortly", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/v1/hooks/{id}")]
pub async fn get(
    auth: Authenticated,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Scope::CallsRead)?;
    let hook = own_hook(&auth, &state, &path).await?;
    Ok(HttpResponse::Ok().json(HookView::of(hook, false)))
}

/// `DELETE /v1/hooks/{id}`: Zapier's performUnsubscribe, which it retries, so deleting a hook
/// that is already gone answers 204 too.
#[utoipa::path(
    operation_id = "deleteHook",
    tag = "hooks",
    params(("id" = String, Path, description = "The hook (`hook_…`)", example = "hook_01jd8kq2m3n4p5q6r7s8t9v0wx")),
    security(("bearer" = []), ("oauth2" = ["calls:read"])),
    responses(
        (status = 204, description = "Deleted, or there was no such hook"),
        (status = 401, description = "No access token, or one that is invalid, expired or revoked (`WWW-Authenticate: Bearer`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks a scope this request needs (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The access token cannot be checked right now; retry shortly", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/v1/hooks/{id}")]
pub async fn delete(
    auth: Authenticated,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Scope::CallsRead)?;
    if let Some(id) = HookId::parse(&path) {
        let deleted = state
            .storage
            .delete_hook(&auth.tenant_id, &auth.user_id, &id)
            .await?;
        if deleted {
            tracing::info!(hook = %id, "hook unsubscribed");
        }
    }
    Ok(HttpResponse::NoContent().finish())
}
