//! Operations endpoints: liveness, readiness and Prometheus metrics.

use super::AppState;
use crate::error::ApiError;
use crate::openapi::bodies::{Health, Problem, Readiness};
use actix_web::{HttpResponse, get, web};
use serde_json::json;

/// The process is up and serving HTTP.
#[utoipa::path(
    operation_id = "healthz",
    tag = "operations",
    responses((status = 200, description = "Serving", body = Health)),
)]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// The database answers: a load balancer may send traffic here.
#[utoipa::path(
    operation_id = "readyz",
    tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "The database is unreachable", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    match state.storage.ping().await {
        Ok(()) => {
            let mut body = json!({"status": "ready", "database": "ok"});
            let pbx = state.pbx.snapshot();
            if !pbx.is_empty() {
                body["pbx"] = json!(pbx);
            }
            Ok(HttpResponse::Ok().json(body))
        }
        Err(error) => {
            tracing::warn!(error = %error, "readiness check failed: database unreachable");
            Err(ApiError::unavailable("the database is unreachable"))
        }
    }
}

/// Prometheus metrics: HTTP requests by route, ingest, delivery queue and attempts, pool.
#[utoipa::path(
    operation_id = "metrics",
    tag = "operations",
    responses(
        (status = 200, description = "Prometheus text exposition format", body = String, content_type = "text/plain"),
    ),
)]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    match state.storage.queue_stats(chrono::Utc::now()).await {
        Ok(stats) => state.metrics.set_queue(stats),
        Err(error) => tracing::warn!(error = %error, "cannot read delivery queue figures"),
    }
    let text = state
        .metrics
        .render(state.storage.pool_stats())
        .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(text))
}
