//! `POST /v1/calls` and `GET /v1/calls/{id}`.
//!
//! A request is checked (`plan`), limited per user, stored as `requested`, dialed with no
//! transaction open, and then updated with the PBX's answer. The answer is `201` when the PBX
//! accepted the call; otherwise a problem+json that names the stored request (`call_id`), whose
//! status is `failed` with the reason.

use super::plan::{self, PlaceCallBody};
use super::{ClickToCall, DialCall, DialError, dialer_for, pbx_socket};
use crate::domain::{CallRequestId, SourceKind};
use crate::error::{ApiError, Problem, ProblemCode};
use crate::http::AppState;
use crate::oauth::{Authenticated, Scope};
use crate::storage::{CallRequest, DialRecord, NewCallRequest, RequestStatus};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::time::Instant;

/// A call request as the API shows it.
#[derive(Serialize, utoipa::ToSchema)]
struct CallView {
    id: CallRequestId,
    status: RequestStatus,
    /// Why the request `failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    to: String,
    from_user_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    caller_id: Option<String>,
    source: SourceKind,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl CallView {
    fn of(request: CallRequest, source: SourceKind) -> CallView {
        CallView {
            id: request.id,
            status: request.status,
            reason: request.reason,
            to: request.to.to_string(),
            from_user_id: request.user_id.to_string(),
            caller_id: request.caller_id.map(|n| n.to_string()),
            source,
            created_at: request.created_at,
            updated_at: request.updated_at,
        }
    }
}

/// `POST /v1/calls`: Zapier's "Place a call" action. Rings the user's phone through the
/// tenant's PBX and, once answered, calls `to`. When the PBX does not place the call, the
/// problem names the stored request in `call_id`.
#[utoipa::path(
    operation_id = "placeCall",
    tag = "calls",
    security(("bearer" = []), ("oauth2" = ["calls:write"])),
    request_body = PlaceCallBody,
    responses(
        (status = 201, description = "The PBX accepted the call", body = CallView, links(
            ("getCall" = (operation_id = "getCall", parameters(("id" = "$response.body#/id")))),
        )),
        (status = 400, description = "The body is not JSON of this shape", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A number is not valid (`invalid_number`, `invalid_caller_id`), `from_user_id` names no user or one without a phone, no phone system of the tenant can place calls, or it cannot place them from a server (`not_supported`, with `launch_url` and `tel_url`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many calls placed by this user (`rate_limited`, `Retry-After`)", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The PBX refused the call or could not be reached (`pbx_error`, `pbx_unreachable`, `pbx_misconfigured`)", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "The PBX did not answer in time; the call may still be placed (`pbx_timeout`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No access token, or one that is invalid, expired or revoked (`WWW-Authenticate: Bearer`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks a scope this request needs (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The access token cannot be checked right now; retry shortly", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/v1/calls")]
#[tracing::instrument(name = "place call", skip_all, fields(user = %auth.user_id, call))]
pub async fn place(
    auth: Authenticated,
    body: web::Json<PlaceCallBody>,
    state: web::Data<AppState>,
    c2c: web::Data<ClickToCall>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Scope::CallsWrite)?;
    let plan = plan::prepare(&auth, state.storage.as_ref(), body.into_inner()).await?;
    let id = CallRequestId::generate();
    let call = DialCall {
        request_id: &id,
        source: &plan.source,
        external_user_id: &plan.external_user_id,
        to: &plan.to,
        caller_id: plan.caller_id.as_ref(),
        caller_name: &plan.tenant.name,
        ring_seconds: c2c.ring_seconds,
    };
    let dialer = dialer_for(plan.source.kind);
    // Socket sources dial through their connector; the others over their HTTP API.
    let http_request = match plan.source.kind.is_socket() {
        true => None,
        false => Some(dialer.request(&call).map_err(|e| problem(e, None))?),
    };
    c2c.admit(&auth.user_id, Instant::now()).map_err(|wait| {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ProblemCode::RateLimited,
            format!("too many calls placed; try again in {wait} s"),
        )
        .with_retry_after(wait)
    })?;
    let stored = state
        .storage
        .create_call_request(
            &NewCallRequest {
                id: id.clone(),
                tenant_id: auth.tenant_id.clone(),
                user_id: plan.user.id.clone(),
                source_id: plan.source.id.clone(),
                to: plan.to.clone(),
                caller_id: plan.caller_id.clone(),
            },
            Utc::now(),
        )
        .await?;
    tracing::Span::current().record("call", stored.id.as_str());
    let started = Instant::now();
    let answer = match &http_request {
        Some(request) => c2c
            .client
            .send(request)
            .await
            .and_then(|(status, body)| dialer.read_answer(status, &body)),
        None => pbx_socket::place(state.storage.as_ref(), &call, c2c.socket_waits).await,
    };
    let pbx_seconds = started.elapsed().as_secs_f64();
    let pbx = plan.source.kind.as_str();
    let record = match &answer {
        Ok(placed) => DialRecord::Placed {
            status: placed.status,
            pbx_call_id: placed.pbx_call_id.clone(),
        },
        Err(e) => DialRecord::Failed { reason: e.reason() },
    };
    let now_stands = state
        .storage
        .record_dial(&auth.tenant_id, &id, &record, Utc::now())
        .await?
        .unwrap_or(stored);
    match answer {
        Ok(_) => {
            tracing::info!(status = now_stands.status.as_str(), "call placed");
            state.metrics.observe_dial(pbx, "placed", pbx_seconds);
            Ok(HttpResponse::Created().json(CallView::of(now_stands, plan.source.kind)))
        }
        Err(e) => {
            tracing::warn!(reason = %e, "call not placed");
            let problem = problem(e, Some(&id));
            state
                .metrics
                .observe_dial(pbx, problem.code().as_str(), pbx_seconds);
            Err(problem)
        }
    }
}

/// The problem for a dial that did not go through; `call_id` names the stored request.
fn problem(error: DialError, call_id: Option<&CallRequestId>) -> ApiError {
    let detail = error.to_string();
    let problem = match error {
        DialError::Refused { reason, .. } => {
            ApiError::new(StatusCode::BAD_GATEWAY, ProblemCode::PbxError, detail)
                .with_reason(reason)
        }
        DialError::NoAnswer => {
            ApiError::new(StatusCode::GATEWAY_TIMEOUT, ProblemCode::PbxTimeout, detail)
        }
        DialError::Unreachable(_) => {
            ApiError::new(StatusCode::BAD_GATEWAY, ProblemCode::PbxUnreachable, detail)
        }
        DialError::Misconfigured(_) => ApiError::new(
            StatusCode::BAD_GATEWAY,
            ProblemCode::PbxMisconfigured,
            detail,
        ),
        DialError::NotSupported {
            launch_url,
            tel_url,
        } => ApiError::unprocessable(ProblemCode::NotSupported, detail)
            .with_launch_urls(launch_url, tel_url),
    };
    match call_id {
        Some(id) => problem.with_call_id(id.clone()),
        None => problem,
    }
}

/// `GET /v1/calls/{id}`: the caller's own call requests; a tenant admin sees everyone's.
#[utoipa::path(
    operation_id = "getCall",
    tag = "calls",
    security(("bearer" = []), ("oauth2" = ["calls:read"]), ("oauth2" = ["calls:write"])),
    params(("id" = String, Path, description = "The call request (`c2c_…`)", example = "c2c_01jd8kq2m3n4p5q6r7s8t9v0wx")),
    responses(
        (status = 200, description = "The call request", body = CallView),
        (status = 404, description = "No such call request of the caller", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No access token, or one that is invalid, expired or revoked (`WWW-Authenticate: Bearer`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks a scope this request needs (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The access token cannot be checked right now; retry shortly", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/v1/calls/{id}")]
pub async fn get(
    auth: Authenticated,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if !auth.scopes.contains(Scope::CallsRead) {
        auth.require(Scope::CallsWrite)?;
    }
    let missing = || ApiError::not_found("no such call");
    let id = CallRequestId::parse(&path).ok_or_else(missing)?;
    let request = state
        .storage
        .call_request(&auth.tenant_id, &id)
        .await?
        .filter(|r| r.user_id == auth.user_id || auth.is_admin)
        .ok_or_else(missing)?;
    let kind = state
        .storage
        .source(&request.source_id)
        .await?
        .map(|s| s.kind)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("a call request's source is gone")))?;
    Ok(HttpResponse::Ok().json(CallView::of(request, kind)))
}
