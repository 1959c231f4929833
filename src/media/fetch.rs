//! Opens a file at its source: Kazoo paths through the Crossbar API with the account's token,
//! Zoom download URLs with the app's bearer token, any other URL (Zorio's) as given, and only
//! where the SSRF policy allows. Failures become the `pbx_*` problems click-to-call uses.

use crate::domain::SourceKind;
use crate::error::{ApiError, ProblemCode};
use crate::http::AppState;
use crate::ingest::RawMedia;
use crate::source_api::SourceApiError;
use crate::storage::Source;
use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap as ActixHeaders;
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

/// Request headers passed to the source: the byte range, and its validator.
const FORWARDED: [&str; 2] = ["range", "if-range"];

/// The source's answer for `media`, asked with the client's method and range.
pub async fn open(
    state: &AppState,
    source: &Source,
    media: &RawMedia,
    method: &actix_web::http::Method,
    client_headers: &ActixHeaders,
) -> Result<reqwest::Response, ApiError> {
    let method = if method == actix_web::http::Method::HEAD {
        Method::HEAD
    } else {
        Method::GET
    };
    let mut headers = HeaderMap::new();
    for name in FORWARDED {
        if let Some(value) = client_headers.get(name)
            && let Ok(value) = HeaderValue::from_bytes(value.as_bytes())
        {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
    let api = &state.source_api;
    let location = media.location.as_str();
    let absolute = location.starts_with("https://") || location.starts_with("http://");
    let opened = match source.kind {
        SourceKind::Kazoo if !absolute => {
            // Crossbar answers a recording's JSON document unless its audio is asked for.
            if let Ok(accept) = HeaderValue::from_str(&media.content_type) {
                headers.insert(reqwest::header::ACCEPT, accept);
            }
            api.kazoo(source, method, location, headers).await
        }
        SourceKind::Zoom => api.zoom(source, method, location, headers).await,
        _ => api.public(method, location, headers).await,
    };
    opened.map_err(|error| problem(source, &error))
}

/// The problem a failed fetch answers. The detail names what went wrong, never the URL.
fn problem(source: &Source, error: &SourceApiError) -> ApiError {
    tracing::warn!(source = %source.id, error = %error, "cannot fetch a media file from its source");
    let reason = match error {
        // The cause names the address; the log keeps it, the client learns only the rule.
        SourceApiError::Refused(_) | SourceApiError::ForeignHost | SourceApiError::BadLocation => {
            "the source names a file location ringhook may not fetch".to_owned()
        }
        other => other.to_string(),
    };
    let detail = format!(
        "cannot fetch the file from the {} source: {reason}",
        source.kind
    );
    let (status, code) = match error {
        SourceApiError::NotConfigured(_) | SourceApiError::TokenRefused(_) => {
            (StatusCode::BAD_GATEWAY, ProblemCode::PbxMisconfigured)
        }
        SourceApiError::Timeout => (StatusCode::GATEWAY_TIMEOUT, ProblemCode::PbxTimeout),
        SourceApiError::Unreachable(_) => (StatusCode::BAD_GATEWAY, ProblemCode::PbxUnreachable),
        SourceApiError::BadLocation
        | SourceApiError::Refused(_)
        | SourceApiError::ForeignHost
        | SourceApiError::TooManyRedirects => (StatusCode::BAD_GATEWAY, ProblemCode::PbxError),
    };
    ApiError::new(status, code, detail)
}
