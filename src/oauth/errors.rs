//! RFC 6749 §5.2 error responses of the token, revocation and introspection endpoints.
//!
//! A fault on ringhook's side (database unreachable, pool exhausted) answers
//! `503 temporarily_unavailable`, never `invalid_grant`: since 2025 Zapier marks a connection
//! stale on any 4xx from a refresh, so a 4xx must mean the client's credentials are truly dead.

use crate::storage::StoreError;
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, PRAGMA, RETRY_AFTER, WWW_AUTHENTICATE};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use std::fmt;
use utoipa::ToSchema;

// The RFC 6749 §5.2 `error` values these endpoints answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OAuthErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    InvalidScope,
    UnsupportedGrantType,
    TemporarilyUnavailable,
}

impl OAuthErrorCode {
    pub const ALL: [OAuthErrorCode; 6] = [
        OAuthErrorCode::InvalidRequest,
        OAuthErrorCode::InvalidClient,
        OAuthErrorCode::InvalidGrant,
        OAuthErrorCode::InvalidScope,
        OAuthErrorCode::UnsupportedGrantType,
        OAuthErrorCode::TemporarilyUnavailable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OAuthErrorCode::InvalidRequest => "invalid_request",
            OAuthErrorCode::InvalidClient => "invalid_client",
            OAuthErrorCode::InvalidGrant => "invalid_grant",
            OAuthErrorCode::InvalidScope => "invalid_scope",
            OAuthErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            OAuthErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }
}

/// An RFC 6749 §5.2 error body (token, revocation and introspection endpoints).
#[derive(Serialize, ToSchema)]
pub struct OAuthErrorBody {
    error: OAuthErrorCode,
    error_description: String,
}

/// One RFC 6749 §5.2 error.
#[derive(Debug)]
pub struct OAuthError {
    status: StatusCode,
    error: OAuthErrorCode,
    description: String,
    /// Answer with `WWW-Authenticate: Basic` (the client tried HTTP Basic, §5.2).
    basic_challenge: bool,
}

impl OAuthError {
    fn new(status: StatusCode, error: OAuthErrorCode, description: impl Into<String>) -> Self {
        OAuthError {
            status,
            error,
            description: description.into(),
            basic_challenge: false,
        }
    }

    /// Missing, repeated or malformed parameter; two client authentication methods at once.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            OAuthErrorCode::InvalidRequest,
            description,
        )
    }

    /// Unknown client or wrong secret: 401, with a Basic challenge when Basic was used.
    pub fn invalid_client(used_basic: bool) -> Self {
        OAuthError {
            basic_challenge: used_basic,
            ..Self::new(
                StatusCode::UNAUTHORIZED,
                OAuthErrorCode::InvalidClient,
                "client authentication failed",
            )
        }
    }

    /// Bad, expired or used code; redirect URI mismatch; wrong PKCE verifier; dead refresh token.
    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            OAuthErrorCode::InvalidGrant,
            description,
        )
    }

    pub fn invalid_scope(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            OAuthErrorCode::InvalidScope,
            description,
        )
    }

    pub fn unsupported_grant_type(grant_type: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            OAuthErrorCode::UnsupportedGrantType,
            format!(
                "grant_type {grant_type:?} is not supported: use authorization_code or refresh_token"
            ),
        )
    }

    /// A transient fault: the client should retry later (503 + `Retry-After`).
    pub fn temporarily_unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            OAuthErrorCode::TemporarilyUnavailable,
            "the authorization server is temporarily unavailable; retry shortly",
        )
    }

    pub fn error(&self) -> &'static str {
        self.error.as_str()
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
        write!(f, "{}: {}", self.error.as_str(), self.description)
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
        response.json(OAuthErrorBody {
            error: self.error,
            error_description: self.description.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_code_serializes_as_the_string_it_names() {
        for code in OAuthErrorCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
    }
}
