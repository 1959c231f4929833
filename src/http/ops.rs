//! Operations endpoints: liveness, readiness and Prometheus metrics.

use super::AppState;
use crate::error::ApiError;
use crate::error::Problem;
use crate::pbx::status::SourceHealth;
use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// `GET /healthz`.
#[derive(Serialize, ToSchema)]
pub struct Health {
    status: HealthStatus,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Ok,
}

/// `GET /readyz`.
#[derive(Serialize, ToSchema)]
pub struct Readiness {
    status: ReadyStatus,
    database: HealthStatus,
    /// The socket sources (Asterisk AMI, FreeSWITCH ESL) this process holds the connection
    /// of, by source id; absent when it holds none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pbx: Option<BTreeMap<String, SourceHealth>>,
    /// Sources whose call history reads keep failing (reconciliation cannot recover their
    /// lost calls meanwhile), by source id; absent when none is.
    #[serde(skip_serializing_if = "Option::is_none")]
    history: Option<BTreeMap<String, crate::reconcile::status::HistoryHealth>>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReadyStatus {
    Ready,
}

/// The process is up and serving HTTP.
#[utoipa::path(
    operation_id = "healthz",
    tag = "operations",
    responses((status = 200, description = "Serving", body = Health)),
)]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: HealthStatus::Ok,
    })
}

/// The database answers and takes writes: a load balancer may send traffic here.
#[utoipa::path(
    operation_id = "readyz",
    tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "The database is unreachable, or writes to it are failing", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    // A database that answers reads may still refuse every write (a full disk).
    if state.ingest.writes_failing() {
        tracing::warn!("readiness check failed: database writes are failing");
        return Err(ApiError::unavailable("writes to the database are failing"));
    }
    match state.storage.ping().await {
        Ok(()) => {
            let pbx = state.pbx.snapshot();
            let history = state.reconcile.failing();
            Ok(HttpResponse::Ok().json(Readiness {
                status: ReadyStatus::Ready,
                database: HealthStatus::Ok,
                pbx: (!pbx.is_empty()).then_some(pbx),
                history: (!history.is_empty()).then_some(history),
            }))
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
