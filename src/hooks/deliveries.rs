//! A hook's delivery history, and retrying a delivery by hand.

use super::subscriptions::own_hook;
use crate::domain::DeliveryId;
use crate::error::{ApiError, Problem, ProblemCode};
use crate::http::AppState;
use crate::oauth::{Authenticated, Scope};
use crate::storage::hooks::DeliveryView;
use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// How many, newest first: 1 to 200 (values outside are clamped); 50 by default.
    limit: Option<u32>,
}

/// A hook's deliveries with their attempts, newest first.
#[utoipa::path(
    operation_id = "listHookDeliveries",
    tag = "hooks",
    params(
        ("id" = String, Path, description = "The hook (`hook_…`)", example = "hook_01jd8kq2m3n4p5q6r7s8t9v0wx"),
        HistoryQuery,
    ),
    security(("bearer" = []), ("oauth2" = ["calls:read"])),
    responses(
        (status = 200, description = "The hook's deliveries", body = [DeliveryView]),
        (status = 400, description = "`limit` is not a number", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such hook of the caller", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No access token, or one that is invalid, expired or revoked (`WWW-Authenticate: Bearer`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks a scope this request needs (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The access token cannot be checked right now; retry shortly", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/v1/hooks/{id}/deliveries")]
pub async fn of_hook(
    auth: Authenticated,
    path: web::Path<String>,
    query: web::Query<HistoryQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Scope::CallsRead)?;
    let hook = own_hook(&auth, &state, &path).await?;
    let limit = query.limit.unwrap_or(50).clamp(1, 200);
    let deliveries = state
        .storage
        .deliveries_of_hook(&auth.tenant_id, &hook.id, limit)
        .await?;
    Ok(HttpResponse::Ok().json(deliveries))
}

/// Queues a failed (or still pending) delivery for an attempt now.
#[utoipa::path(
    operation_id = "retryDelivery",
    tag = "hooks",
    params(("id" = String, Path, description = "The delivery (`dlv_…`)", example = "dlv_01jd8kq2m3n4p5q6r7s8t9v0wx")),
    security(("bearer" = []), ("oauth2" = ["calls:read"])),
    responses(
        (status = 202, description = "Queued for an attempt now", body = DeliveryView),
        (status = 404, description = "No such delivery of the caller's hooks", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The delivery succeeded or was cancelled (`already_delivered`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No access token, or one that is invalid, expired or revoked (`WWW-Authenticate: Bearer`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks a scope this request needs (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The access token cannot be checked right now; retry shortly", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/v1/deliveries/{id}/retry")]
pub async fn retry(
    auth: Authenticated,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Scope::CallsRead)?;
    let missing = || ApiError::not_found("no such delivery");
    let id = DeliveryId::parse(&path).ok_or_else(missing)?;
    let delivery = state
        .storage
        .delivery(&auth.tenant_id, &id)
        .await?
        .ok_or_else(missing)?;
    own_hook(&auth, &state, delivery.hook_id.as_str()).await?;
    let queued = state
        .storage
        .retry_delivery(&auth.tenant_id, &id, chrono::Utc::now())
        .await?;
    if !queued {
        return Err(ApiError::new(
            actix_web::http::StatusCode::CONFLICT,
            ProblemCode::AlreadyDelivered,
            "this delivery succeeded or was cancelled; it is not retried",
        ));
    }
    state.deliveries_queued.notify_one();
    let delivery = state
        .storage
        .delivery(&auth.tenant_id, &id)
        .await?
        .ok_or_else(missing)?;
    Ok(HttpResponse::Accepted().json(delivery))
}
