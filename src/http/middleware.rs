//! Middleware: request metrics (errors included), the body-size limit, HEAD as GET, and turning framework errors into
//! problem+json so every error a client sees has the same shape.

use super::AppState;
use crate::error::{ApiError, ProblemCode};
use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::middleware::{ErrorHandlerResponse, Next};
use actix_web::{Error, HttpMessage, ResponseError, web};
use std::time::Instant;

/// Counts requests by route pattern (never the raw path, so ids do not explode label sets).
pub async fn record_metrics(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let method = req.method().to_string();
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());
    // An error (such as a caught panic) is answered by actix from its error type: counted too.
    let result = next.call(req).await;
    let status = match &result {
        Ok(response) => response.status(),
        Err(error) => error.as_response_error().status_code(),
    };
    if let Some(state) = state {
        state.metrics.observe_http(
            &route,
            &method,
            status.as_u16(),
            started.elapsed().as_secs_f64(),
        );
    }
    result
}

/// Marks a request that arrived as `HEAD`, for the handlers that can answer one more cheaply
/// than a `GET` (media asks its source for headers only).
#[derive(Clone, Copy, Debug)]
pub struct AskedHead;

/// Serves `HEAD` as `GET` (RFC 9110 §9.3.2): health checks and link checkers get the GET's status
/// and headers. The HTTP layer noted the request was `HEAD` when it read it, so no body is sent.
pub async fn head_as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
        req.extensions_mut().insert(AskedHead);
    }
    next.call(req).await
}

/// Refuses a declared body over the limit before any handler reads it. Bodies without a
/// length (chunked) are held to the same limit by the extractors' `PayloadConfig`.
pub async fn limit_body(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody, BoxBody>>, Error> {
    let limit = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.settings.max_body_bytes);
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if let (Some(limit), Some(length)) = (limit, declared)
        && length > limit
    {
        let response = ApiError::payload_too_large(limit).error_response();
        return Ok(req.into_response(response).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

/// Rewrites framework error responses (bad JSON, payload overflow, wrong method) that are not
/// already JSON into problem+json, keeping their status and message.
pub fn problem_for_framework_errors<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let already_json = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json") || v.starts_with("text/html"));
    if already_json {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let detail = res
        .response()
        .error()
        .map(|e| e.to_string())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
    let code = match status.as_u16() {
        400 => ProblemCode::BadRequest,
        404 => ProblemCode::NotFound,
        405 => ProblemCode::MethodNotAllowed,
        413 => ProblemCode::PayloadTooLarge,
        415 => ProblemCode::UnsupportedMediaType,
        _ if status.is_server_error() => ProblemCode::Internal,
        _ => ProblemCode::Other,
    };
    let problem = ApiError::new(status, code, detail).error_response();
    let (req, _) = res.into_parts();
    let res = ServiceResponse::new(req, problem).map_into_right_body();
    Ok(ErrorHandlerResponse::Response(res))
}
