//! The one API error at the HTTP edge: RFC 9457 problem details with a stable `code`.
//! Modules return their own error enums; handlers map them here. Unexpected errors log their
//! whole chain and answer an opaque 500.

use crate::domain::CallRequestId;
use crate::storage::StoreError;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use std::fmt;
use utoipa::ToSchema;

/// Stable, machine-readable: clients switch on these strings, so they are public contract
/// (add new ones, never rename one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProblemCode {
    /// The framework could not read the request (bad JSON, bad query string).
    BadRequest,
    NotFound,
    MethodNotAllowed,
    PayloadTooLarge,
    UnsupportedMediaType,
    /// An ingest request that is not from its source (signature, token or timestamp).
    Unauthorized,
    /// No bearer token, or one that is invalid, expired or revoked.
    InvalidToken,
    InsufficientScope,
    /// Acting for another user without being a tenant admin.
    Forbidden,
    /// A transient fault: retry shortly.
    Unavailable,
    /// An unexpected fault; its details are logged, not shown.
    Internal,
    /// A framework error of a status no other code names.
    #[serde(rename = "error")]
    Other,
    MalformedEvent,
    InvalidEvent,
    InvalidTarget,
    InvalidLimit,
    AlreadyDelivered,
    InvalidNumber,
    InvalidCallerId,
    UnknownUser,
    NotLinked,
    NotSupported,
    RateLimited,
    PbxError,
    PbxTimeout,
    PbxUnreachable,
    PbxMisconfigured,
    /// An admin API body with a value that does not parse or is not allowed.
    InvalidInput,
    /// An admin API change that collides with an existing record (email, extension, link).
    Conflict,
}

impl ProblemCode {
    /// Every code, for tests and for documentation that lists them.
    pub const ALL: [ProblemCode; 29] = [
        ProblemCode::BadRequest,
        ProblemCode::NotFound,
        ProblemCode::MethodNotAllowed,
        ProblemCode::PayloadTooLarge,
        ProblemCode::UnsupportedMediaType,
        ProblemCode::Unauthorized,
        ProblemCode::InvalidToken,
        ProblemCode::InsufficientScope,
        ProblemCode::Forbidden,
        ProblemCode::Unavailable,
        ProblemCode::Internal,
        ProblemCode::Other,
        ProblemCode::MalformedEvent,
        ProblemCode::InvalidEvent,
        ProblemCode::InvalidTarget,
        ProblemCode::InvalidLimit,
        ProblemCode::AlreadyDelivered,
        ProblemCode::InvalidNumber,
        ProblemCode::InvalidCallerId,
        ProblemCode::UnknownUser,
        ProblemCode::NotLinked,
        ProblemCode::NotSupported,
        ProblemCode::RateLimited,
        ProblemCode::PbxError,
        ProblemCode::PbxTimeout,
        ProblemCode::PbxUnreachable,
        ProblemCode::PbxMisconfigured,
        ProblemCode::InvalidInput,
        ProblemCode::Conflict,
    ];

    /// The code as it appears in the body (and in metrics labels).
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemCode::BadRequest => "bad_request",
            ProblemCode::NotFound => "not_found",
            ProblemCode::MethodNotAllowed => "method_not_allowed",
            ProblemCode::PayloadTooLarge => "payload_too_large",
            ProblemCode::UnsupportedMediaType => "unsupported_media_type",
            ProblemCode::Unauthorized => "unauthorized",
            ProblemCode::InvalidToken => "invalid_token",
            ProblemCode::InsufficientScope => "insufficient_scope",
            ProblemCode::Forbidden => "forbidden",
            ProblemCode::Unavailable => "unavailable",
            ProblemCode::Internal => "internal",
            ProblemCode::Other => "error",
            ProblemCode::MalformedEvent => "malformed_event",
            ProblemCode::InvalidEvent => "invalid_event",
            ProblemCode::InvalidTarget => "invalid_target",
            ProblemCode::InvalidLimit => "invalid_limit",
            ProblemCode::AlreadyDelivered => "already_delivered",
            ProblemCode::InvalidNumber => "invalid_number",
            ProblemCode::InvalidCallerId => "invalid_caller_id",
            ProblemCode::UnknownUser => "unknown_user",
            ProblemCode::NotLinked => "not_linked",
            ProblemCode::NotSupported => "not_supported",
            ProblemCode::RateLimited => "rate_limited",
            ProblemCode::PbxError => "pbx_error",
            ProblemCode::PbxTimeout => "pbx_timeout",
            ProblemCode::PbxUnreachable => "pbx_unreachable",
            ProblemCode::PbxMisconfigured => "pbx_misconfigured",
            ProblemCode::InvalidInput => "invalid_input",
            ProblemCode::Conflict => "conflict",
        }
    }
}

/// An RFC 9457 problem: every error outside the OAuth endpoints.
#[derive(Serialize, ToSchema)]
#[schema(examples(json!({
    "type": "https://ringhook.dev/problems/not_found",
    "title": "Not Found",
    "status": 404,
    "code": "not_found",
    "detail": "no such hook"
})))]
pub struct Problem {
    /// `https://ringhook.dev/problems/{code}`.
    #[serde(rename = "type")]
    #[schema(format = "uri")]
    kind: String,
    /// The status's reason phrase.
    title: &'static str,
    status: u16,
    code: ProblemCode,
    /// What went wrong, for a human.
    detail: String,
    // Extension members (RFC 9457 §3.2), each present only on the problems that name it.
    /// Click-to-call: the stored request (`c2c_…`) of a dial that did not go through.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    call_id: Option<CallRequestId>,
    /// `not_supported`: a link that starts the call on the user's device (`zoomphonecall://…`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    launch_url: Option<String>,
    /// `pbx_error`: the PBX's own reason, such as `DESTINATION_OUT_OF_ORDER`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    reason: Option<String>,
    /// `not_supported`: the same call as a `tel:` link.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    tel_url: Option<String>,
}

/// The extension members an [`ApiError`] was given.
#[derive(Clone, Debug, Default)]
struct ProblemDetails {
    call_id: Option<CallRequestId>,
    launch_url: Option<String>,
    reason: Option<String>,
    tel_url: Option<String>,
}

/// A problem+json response.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: ProblemCode,
    detail: String,
    /// Boxed: most problems carry none, and a small error keeps `Result`s small.
    details: Option<Box<ProblemDetails>>,
    /// `WWW-Authenticate` value for 401/403 answers (RFC 6750 §3).
    challenge: Option<String>,
    /// `Retry-After` in seconds, for 429 and 503 answers (RFC 9110 §10.2.3).
    retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: ProblemCode, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            detail: detail.into(),
            details: None,
            challenge: None,
            retry_after: None,
        }
    }

    fn details_mut(&mut self) -> &mut ProblemDetails {
        self.details.get_or_insert_with(Box::default)
    }

    /// Names the stored click-to-call request the problem is about.
    pub fn with_call_id(mut self, id: CallRequestId) -> Self {
        self.details_mut().call_id = Some(id);
        self
    }

    /// Adds the PBX's own reason for refusing a call.
    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.details_mut().reason = Some(reason.into());
        self
    }

    /// Adds the links a client can open to place the call itself.
    pub fn with_launch_urls(mut self, launch_url: String, tel_url: String) -> Self {
        self.details_mut().launch_url = Some(launch_url);
        self.details_mut().tel_url = Some(tel_url);
        self
    }

    /// Adds `Retry-After: seconds`.
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// Adds a `WWW-Authenticate` header to the response.
    pub fn with_challenge(mut self, challenge: impl Into<String>) -> Self {
        self.challenge = Some(challenge.into());
        self
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ProblemCode::NotFound, detail)
    }

    pub fn bad_request(code: ProblemCode, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn unprocessable(code: ProblemCode, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ProblemCode::PayloadTooLarge,
            format!("the request body is larger than {limit} bytes"),
        )
    }

    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ProblemCode::Unavailable,
            detail,
        )
    }

    /// The database cannot take the request now (outage, restart, full disk): `503
    /// unavailable` with `Retry-After`, so sources and clients try again shortly. The cause
    /// is logged, not shown.
    pub fn database_unavailable(error: &dyn std::error::Error) -> Self {
        tracing::warn!(error = %error, "database unavailable; answering 503");
        Self::unavailable("the database cannot take the request now; retry shortly")
            .with_retry_after(DATABASE_RETRY_AFTER_SECONDS)
    }

    /// Logs the full error chain and hides it from the client.
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        let error = error.into();
        tracing::error!(error = format!("{error:#}"), "request failed unexpectedly");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ProblemCode::Internal,
            "an unexpected error occurred; it has been logged",
        )
    }

    pub fn code(&self) -> ProblemCode {
        self.code
    }

    /// The body this error answers.
    pub fn problem(&self) -> Problem {
        let details = self.details.as_deref().cloned().unwrap_or_default();
        Problem {
            kind: format!("https://ringhook.dev/problems/{}", self.code.as_str()),
            title: self.status.canonical_reason().unwrap_or("Error"),
            status: self.status.as_u16(),
            code: self.code,
            detail: self.detail.clone(),
            call_id: details.call_id,
            launch_url: details.launch_url,
            reason: details.reason,
            tel_url: details.tel_url,
        }
    }
}

/// Seconds a client is asked to wait when the database cannot take the request now.
pub const DATABASE_RETRY_AFTER_SECONDS: u64 = 2;

/// A store failure the handler did not expect is an opaque 500; the chain is logged. A
/// database that cannot be reached or cannot write now is a 503 with `Retry-After`.
impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        if error.is_unavailable() {
            ApiError::database_unavailable(&error)
        } else {
            ApiError::internal(error)
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.status,
            self.code.as_str(),
            self.detail
        )
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if let Some(challenge) = &self.challenge {
            response.insert_header((
                actix_web::http::header::WWW_AUTHENTICATE,
                challenge.as_str(),
            ));
        }
        if let Some(seconds) = self.retry_after {
            response.insert_header((actix_web::http::header::RETRY_AFTER, seconds.to_string()));
        }
        response
            .content_type("application/problem+json")
            .json(self.problem())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody;

    fn body_of(error: &ApiError) -> serde_json::Value {
        let bytes = error.error_response().into_body().try_into_bytes().unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn every_code_serializes_as_the_string_it_names() {
        for code in ProblemCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
    }

    #[test]
    fn a_problem_carries_the_standard_members_and_only_the_details_it_was_given() {
        let id = CallRequestId::parse("c2c_01abc").unwrap();
        let error = ApiError::new(
            StatusCode::BAD_GATEWAY,
            ProblemCode::PbxError,
            "the PBX refused",
        )
        .with_reason("DESTINATION_OUT_OF_ORDER")
        .with_call_id(id);
        assert_eq!(
            body_of(&error),
            serde_json::json!({
                "type": "https://ringhook.dev/problems/pbx_error",
                "title": "Bad Gateway",
                "status": 502,
                "code": "pbx_error",
                "detail": "the PBX refused",
                "reason": "DESTINATION_OUT_OF_ORDER",
                "call_id": "c2c_01abc",
            })
        );
    }

    #[test]
    fn a_store_failure_is_an_opaque_internal_problem() {
        let error = ApiError::from(StoreError::Corrupt("secret detail".into()));
        let body = body_of(&error);
        assert_eq!(body["status"], 500);
        assert_eq!(body["code"], "internal");
        assert!(!body.to_string().contains("secret detail"));
    }

    #[test]
    fn a_database_outage_is_a_503_with_retry_after() {
        let error = ApiError::from(StoreError::Database(sqlx::Error::PoolTimedOut));
        let response = error.error_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            response
                .headers()
                .get(actix_web::http::header::RETRY_AFTER)
                .unwrap(),
            DATABASE_RETRY_AFTER_SECONDS.to_string().as_str()
        );
        assert_eq!(body_of(&error)["code"], "unavailable");
    }
}
