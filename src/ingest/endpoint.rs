//! `POST /ingest/{source_id}`: the only door for phone systems. Verifies the request as the
//! source's kind requires, hands its events to the ingest writer (committed, with those of
//! concurrent requests, before the answer), and answers within the sources' limits (Zoom 3 s,
//! generic 5 s). A rejected request stores nothing.

use super::{Headers, IngestError, IngestRequest, Parsed, UrlValidationResponse, verify_and_parse};
use crate::domain::SourceId;
use crate::error::{ApiError, Problem, ProblemCode};
use crate::http::AppState;
use crate::normalizer::model::EventType;
use crate::pipeline::{IngestJob, Received};
use crate::storage::Source;
use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::Utc;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

/// What an ingest request is answered: the events were applied, or the event type is not
/// one ringhook uses, or (Zoom) the endpoint check's answer.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum IngestAnswer {
    Accepted(IngestAccepted),
    Ignored(IngestIgnored),
    UrlValidation(UrlValidationResponse),
}

/// The events were committed (or were duplicates of committed ones).
#[derive(Serialize, ToSchema)]
pub struct IngestAccepted {
    status: AcceptedStatus,
    /// Raw events applied to the call state machine.
    #[schema(value_type = u64)]
    applied: usize,
    /// Raw events already seen (a source's retry).
    #[schema(value_type = u64)]
    duplicates: usize,
    /// The call event types this request produced.
    triggers: Vec<EventType>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AcceptedStatus {
    Accepted,
}

/// A well-formed event of a type ringhook has no use for; nothing was stored.
#[derive(Serialize, ToSchema)]
pub struct IngestIgnored {
    status: IgnoredStatus,
    /// The source's event name.
    event: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum IgnoredStatus {
    Ignored,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IngestQuery {
    /// Kazoo's secret travels in the hook URL: it cannot sign requests.
    token: Option<String>,
}

/// A phone system's webhook. The source's kind decides how the request is verified: Zoom
/// signs with `x-zm-signature` (and checks the URL with `endpoint.url_validation`), Kazoo
/// carries the source secret in `?token=`, Zorio signs with `X-Zorio-Signature`. Every
/// accepted request is answered exactly `200` after its events are committed.
#[utoipa::path(
    operation_id = "ingest",
    tag = "ingest",
    params(
        ("source_id" = String, Path, description = "The source (`src_…`)", example = "src_01jd8kq2m3n4p5q6r7s8t9v0wx"),
        IngestQuery,
        ("x-zm-signature" = Option<String>, Header, description = "Zoom: `v0=` + hex HMAC-SHA256(secret, `v0:{timestamp}:{body}`)"),
        ("x-zm-request-timestamp" = Option<String>, Header, description = "Zoom: Unix seconds, at most 5 minutes off"),
        ("X-Zorio-Signature" = Option<String>, Header, description = "Zorio: `sha256=` + hex HMAC-SHA256(secret, body)"),
        ("X-Zorio-Timestamp" = Option<String>, Header, description = "Zorio: Unix seconds, at most 300 s off"),
        ("X-Zorio-Delivery" = Option<String>, Header, description = "Zorio: the delivery id that retries repeat"),
    ),
    request_body(
        description = "The source's raw event: JSON (Zoom, Zorio, Kazoo) or a form (Kazoo)",
        content(
            (serde_json::Value = "application/json", example = json!({
                "hook_event": "channel_create",
                "account_id": "4c122831efef10ac68b5223dccd6f614",
                "call_id": "0c7f9a51-3e2b-4d8a-9f61-2b7c5e4d1a90@198.51.100.20",
                "call_direction": "inbound",
                "caller_id_name": "ACME SUPPLY",
                "caller_id_number": "+14155550123",
                "from": "+14155550123@198.51.100.20",
                "to": "+16285550100@acme.pbx.example.net",
                "request": "+16285550100@acme.pbx.example.net",
                "timestamp": 63884642400_u64,
                "custom_channel_vars": {"Call-Interaction-ID": "63884642400-3f2a1b9c"},
            })),
            (serde_json::Value = "application/x-www-form-urlencoded"),
        ),
    ),
    responses(
        (status = 200, description = "Applied, ignored, or the answer to Zoom's `endpoint.url_validation` (`{plainToken, encryptedToken}`)", body = IngestAnswer),
        (status = 400, description = "The body is not an event this source sends (`malformed_event`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "The signature, token or timestamp does not verify", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The source is disabled (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such source", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over the size limit", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database cannot take the events now (`unavailable`, with `Retry-After`); nothing was stored, send again", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/ingest/{source_id}")]
#[tracing::instrument(name = "ingest", skip_all, fields(source = %path))]
pub async fn ingest(
    path: web::Path<String>,
    query: web::Query<IngestQuery>,
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let unknown = || ApiError::not_found("no such source");
    let source_id = SourceId::parse(&path).ok_or_else(unknown)?;
    let source = state
        .directories
        .source(state.storage.as_ref(), &source_id)
        .await?
        .ok_or_else(unknown)?;
    let headers = Headers::new(request.headers().iter().filter_map(|(name, value)| {
        value
            .to_str()
            .ok()
            .map(|v| (name.as_str().to_owned(), v.to_owned()))
    }));
    let content_type = headers.get("content-type").map(str::to_owned);
    let now = Utc::now();
    let ingest_request = IngestRequest {
        headers: &headers,
        query_token: query.token.as_deref(),
        body: &body,
    };
    let mut verified = verify_rotated(&source, &ingest_request, now);
    let mut source = source;
    if matches!(verified, Err(IngestError::Unauthorized(_))) {
        // The cached source may predate a rotation made by another process: look again.
        source = state
            .directories
            .reload_source(state.storage.as_ref(), &source_id)
            .await?
            .ok_or_else(unknown)?;
        verified = verify_rotated(&source, &ingest_request, now);
    }
    if source.disabled_at.is_some() {
        return Err(ApiError::new(
            actix_web::http::StatusCode::FORBIDDEN,
            ProblemCode::Forbidden,
            "this source is disabled",
        ));
    }
    let mut refused = None;
    let parsed = verified.map_err(|error| match error {
        IngestError::Unauthorized(why) => {
            tracing::warn!(why, "ingest request refused");
            refused.replace(why);
            ApiError::new(
                actix_web::http::StatusCode::UNAUTHORIZED,
                ProblemCode::Unauthorized,
                format!("the request is not from this source: {why}"),
            )
        }
        IngestError::Malformed(why) => ApiError::bad_request(ProblemCode::MalformedEvent, why),
    });
    if let Some(why) = refused {
        // Counted for the console's overview; a failure to count does not change the answer.
        if let Err(error) = state.storage.record_refusal(&source.id, now, why).await {
            tracing::error!(%error, "cannot count a refused ingest request");
        }
    }
    let parsed = parsed?;
    let events = match parsed {
        Parsed::UrlValidation(answer) => return Ok(answered(IngestAnswer::UrlValidation(answer))),
        Parsed::Ignored { event } => {
            tracing::debug!(event, "event type not used; ignored");
            return Ok(answered(IngestAnswer::Ignored(IngestIgnored {
                status: IgnoredStatus::Ignored,
                event,
            })));
        }
        Parsed::Events(events) => events,
    };
    let directory = state
        .directories
        .for_source(state.storage.as_ref(), &source)
        .await?;
    let summary = state
        .ingest
        .submit(IngestJob {
            source,
            directory,
            events,
            now,
            received: Some(Arc::new(Received::new(
                content_type
                    .as_deref()
                    .unwrap_or("application/octet-stream"),
                &body,
            ))),
        })
        .await
        .map_err(|error| {
            if error.is_unavailable() {
                ApiError::database_unavailable(&error)
            } else {
                ApiError::internal(error)
            }
        })?;
    if summary.deliveries > 0 {
        state.deliveries_queued.notify_one();
    }
    tracing::info!(
        applied = summary.applied,
        duplicates = summary.duplicates,
        triggers = summary.events.len(),
        deliveries = summary.deliveries,
        "ingested"
    );
    Ok(answered(IngestAnswer::Accepted(IngestAccepted {
        status: AcceptedStatus::Accepted,
        applied: summary.applied,
        duplicates: summary.duplicates,
        triggers: summary.events.iter().map(|e| e.event_type).collect(),
    })))
}

/// Every kind gets exactly `200`: Kazoo counts 202 and 204 as failures.
fn answered(answer: IngestAnswer) -> HttpResponse {
    HttpResponse::Ok().json(answer)
}

/// Verifies with the source's secret, then with its previous one while the rotation's grace
/// period lasts, so the PBX can be switched to the new secret without losing events.
fn verify_rotated(
    source: &Source,
    request: &IngestRequest<'_>,
    now: chrono::DateTime<Utc>,
) -> Result<Parsed, IngestError> {
    match verify_and_parse(source.kind, source.secret.expose_secret(), request, now) {
        Err(IngestError::Unauthorized(why)) => match source.previous_secret_at(now) {
            Some(previous) => verify_and_parse(source.kind, previous.expose_secret(), request, now),
            None => Err(IngestError::Unauthorized(why)),
        },
        other => other,
    }
}
