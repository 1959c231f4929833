//! RFC 6749 §5.2 error responses of the token, revocation and introspection endpoints.
//!
//! A fault on ringhook's side (database unreachable, pool exhausted) answers
//! `503 temporarily_unavailable`, never `invalid_grant`: since 2025 Zapier marks a connection
//! stale on any 4xx from a refresh, so a 4xx must mean the client's credentials are truly dead.

use crate::storage::StoreError;
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, PRAGMA, RETRY_AFTER, WWW_AUTHENTICATE};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;
use std::fmt;

/// One RFC 6749 §5.2 error.
#[derive(Debug)]
pub struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
    /// Answer with `WWW-Authenticate: Basic` (the client tried HTTP Basic, §5.2).
    basic_challenge: bool,
}

impl OAuthError {
    fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        OAuthError {
            status,
            error,
            description: description.into(),
            basic_challenge: false,
        }
    }

    /// Missing, repeated or malformed parameter; two client authentication methods at once.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    /// Unknown client or wrong secret: 401, with a Basic challenge when Basic was used.
    pub fn invalid_client(used_basic: bool) -> Self {
        OAuthError {
            basic_challenge: used_basic,
            ..Self::new(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "client authentication failed",
            )
        }
    }

    /// Bad, expired or used code; redirect URI mismatch; wrong PKCE verifier; dead refresh token.
    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", description)
    }

    pub fn invalid_scope(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_scope", description)
    }

    pub fn unsupported_grant_type(grant_type: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            format!(
                "grant_type {grant_type:?} is not supported: use authorization_code or refresh_token"
            ),
        )
    }

    /// A transient fault: the client should retry later (503 + `Retry-After`).
    pub fn temporarily_unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "the authorization server is temporarily unavailable; retry shortly",
        )
    }

    pub fn error(&self) -> &'static str {
        self.error
    }
}

impl From<StoreError> for OAuthError {
    fn from(error: StoreError) -> Self {
        tracing::error!(error = %error, source = ?std::error::Error::source(&error), "oauth store failed");
        OAuthError::temporarily_unavailable()
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error, self.description)
    }
}

impl ResponseError for OAuthError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response
            .insert_header((CACHE_CONTROL, "no-store"))
            .insert_header((PRAGMA, "no-cache"));
        if self.basic_challenge {
            response.insert_header((WWW_AUTHENTICATE, "Basic realm=\"ringhook\""));
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response.insert_header((RETRY_AFTER, "5"));
        }
        response.json(json!({"error": self.error, "error_description": self.description}))
    }
}
