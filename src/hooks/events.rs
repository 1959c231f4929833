//! `GET /v1/events` (Zapier's performList: the same objects hooks receive, newest first) and
//! `GET /v1/users` (dropdowns, and Zapier's "Find User" by email or extension).

use super::HookEvent;
use crate::domain::E164Number;
use crate::error::{ApiError, Problem, ProblemCode};
use crate::http::AppState;
use crate::normalizer::model::CallEvent;
use crate::normalizer::model::EventType;
use crate::oauth::{Authenticated, Scope};
use crate::storage::{EventQuery, HookScope};
use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// A call event type; absent or `*` for all.
    #[param(value_type = Option<HookEvent>, example = "call.answered")]
    event: Option<String>,
    /// 1 to 100; 25 by default.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// `user` (the default): the caller's calls; `tenant`: everyone's (needs `tenant:admin`).
    scope: Option<HookScope>,
    /// Only events whose caller, callee or line has this number, typed in any format the
    /// tenant's country reads (`(628) 555-0100`, `+1 628 555 0100`); compared in E.164.
    #[param(example = "+16285550100")]
    number: Option<String>,
}

const DEFAULT_LIMIT: u32 = 25;
const MAX_LIMIT: u32 = 100;

/// Recent call events, newest first: the same objects hooks receive (Zapier's performList).
#[utoipa::path(
    operation_id = "listEvents",
    tag = "events",
    params(EventsQuery),
    security(("bearer" = []), ("oauth2" = ["calls:read"])),
    responses(
        (status = 200, description = "Call events, newest first", body = [CallEvent]),
        (status = 400, description = "A query parameter is not of its type", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`event` is not a call event type (`invalid_event`), `limit` is out of range (`invalid_limit`) or `number` is not a phone number (`invalid_number`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No access token, or one that is invalid, expired or revoked (`WWW-Authenticate: Bearer`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks a scope this request needs (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The access token cannot be checked right now; retry shortly", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/v1/events")]
pub async fn list_events(
    auth: Authenticated,
    query: web::Query<EventsQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Scope::CallsRead)?;
    let participant = match query.scope.unwrap_or(HookScope::User) {
        HookScope::User => Some(auth.user_id.clone()),
        HookScope::Tenant => {
            auth.require(Scope::TenantAdmin)?;
            None
        }
    };
    let event_type = match query.event.as_deref() {
        None | Some("*") => None,
        Some(raw) => Some(EventType::parse(raw).ok_or_else(|| {
            ApiError::unprocessable(
                ProblemCode::InvalidEvent,
                format!("{raw:?} is not a call event type (such as call.answered) or *"),
            )
        })?),
    };
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::unprocessable(
            ProblemCode::InvalidLimit,
            format!("limit must be 1 to {MAX_LIMIT}"),
        ));
    }
    let number = match query.number.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(parse_number(&state, &auth, raw).await?),
    };
    let events = state
        .storage
        .call_events(&EventQuery {
            tenant_id: auth.tenant_id.clone(),
            participant,
            event_type,
            number,
            limit,
        })
        .await?;
    Ok(HttpResponse::Ok().json(events))
}

/// `raw` in E.164, read as the tenant's country writes numbers when it has no `+`.
async fn parse_number(
    state: &AppState,
    auth: &Authenticated,
    raw: &str,
) -> Result<E164Number, ApiError> {
    let country = state
        .storage
        .tenant(&auth.tenant_id)
        .await?
        .map(|t| t.default_country)
        .unwrap_or_default();
    E164Number::parse(raw, country)
        .map_err(|e| ApiError::unprocessable(ProblemCode::InvalidNumber, format!("number: {e}")))
}

/// A user, for dropdowns and "Find User".
#[derive(Serialize, utoipa::ToSchema)]
struct UserChoice {
    id: crate::domain::UserId,
    name: String,
    extension: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsersQuery {
    /// Only the user with this email address (compared case-insensitively).
    #[param(example = "alice@acme.example")]
    email: Option<String>,
    /// Only the user with this extension.
    #[param(example = "1001")]
    extension: Option<String>,
}

impl UsersQuery {
    /// Whether `user` passes every filter given; blank filters are ignored. Both an email and
    /// an extension may be given: the user must then have both.
    fn admits(&self, user: &crate::storage::User) -> bool {
        let email_ok =
            given(&self.email).is_none_or(|e| user.email.as_str().eq_ignore_ascii_case(e));
        let extension_ok =
            given(&self.extension).is_none_or(|x| user.extension.as_deref() == Some(x));
        email_ok && extension_ok
    }
}

/// The tenant's users, for dropdowns; with `email` or `extension`, the one user who has it
/// (an empty list when nobody does), for Zapier's "Find User".
#[utoipa::path(
    operation_id = "listUsers",
    tag = "events",
    params(UsersQuery),
    security(("bearer" = []), ("oauth2" = ["calls:read"])),
    responses(
        (status = 200, description = "The tenant's users (those matching the filters)", body = [UserChoice]),
        (status = 400, description = "A query parameter is not of its type", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No access token, or one that is invalid, expired or revoked (`WWW-Authenticate: Bearer`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks a scope this request needs (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The access token cannot be checked right now; retry shortly", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/v1/users")]
pub async fn list_users(
    auth: Authenticated,
    query: web::Query<UsersQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Scope::CallsRead)?;
    let users = state.storage.users(&auth.tenant_id).await?;
    let choices: Vec<UserChoice> = users
        .into_iter()
        .filter(|u| query.admits(u))
        .map(|u| UserChoice {
            id: u.id,
            name: u.name,
            extension: u.extension,
        })
        .collect();
    Ok(HttpResponse::Ok().json(choices))
}

/// A query filter's value, unless it is absent or blank.
fn given(raw: &Option<String>) -> Option<&str> {
    raw.as_deref().map(str::trim).filter(|v| !v.is_empty())
}
