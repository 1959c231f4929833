//! Kazoo's Crossbar API (2600hz "Account API Authentication", "Authenticating Requests"): the
//! account's API key is traded for an auth token with `PUT /v2/api_auth`, and every other request
//! carries that token in `X-Auth-Token`. Tokens live about an hour after their last use, so a
//! cached one is also dropped on the first 401.

use super::SourceApiError;
use super::tokens::Token;
use crate::domain::WebUrl;
use crate::storage::PbxApi;
use reqwest::header::HeaderName;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use std::time::Duration;
use url::Url;

/// The header Crossbar reads the auth token from.
pub const AUTH_HEADER: HeaderName = HeaderName::from_static("x-auth-token");
/// How long a fresh token is used: well inside Crossbar's default one-hour idle expiry.
const TOKEN_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// `path` (such as `accounts/{id}/vmboxes/{box}/messages/{id}/raw`) under the `/v2/` of the
/// source's API URL, which may be given with or without that version prefix. Each segment must
/// be a plain id, so a location taken from a payload cannot climb out of the API (`..`) or
/// smuggle a query.
pub fn api_url(base: &WebUrl, path: &str) -> Result<Url, SourceApiError> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    if segments.iter().any(|s| !is_plain_segment(s)) {
        return Err(SourceApiError::BadLocation);
    }
    let mut url = Url::parse(base.as_str()).map_err(|_| SourceApiError::BadLocation)?;
    {
        let mut out = url
            .path_segments_mut()
            .map_err(|_| SourceApiError::BadLocation)?;
        out.pop_if_empty();
        if !base.as_str().trim_end_matches('/').ends_with("/v2") {
            out.push("v2");
        }
        out.extend(segments);
    }
    Ok(url)
}

fn is_plain_segment(segment: &str) -> bool {
    !segment.is_empty()
        && segment != "."
        && segment != ".."
        && segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Trades the account API key for an auth token (`PUT /v2/api_auth`).
pub async fn auth_token(http: &reqwest::Client, api: &PbxApi) -> Result<Token, SourceApiError> {
    let url = api_url(&api.url, "api_auth")?;
    let body = json!({"data": {"api_key": api.key.expose_secret()}});
    let response = http
        .put(url)
        .json(&body)
        .send()
        .await
        .map_err(SourceApiError::unreachable)?;
    let status = response.status();
    if !status.is_success() {
        return Err(SourceApiError::TokenRefused(status.as_u16()));
    }
    let answer: Value = response
        .json()
        .await
        .map_err(|_| SourceApiError::TokenRefused(status.as_u16()))?;
    let token = answer
        .get("auth_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or(SourceApiError::TokenRefused(status.as_u16()))?;
    Ok(Token {
        value: SecretString::from(token.to_owned()),
        lifetime: TOKEN_LIFETIME,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(raw: &str) -> WebUrl {
        WebUrl::parse(raw).unwrap()
    }

    #[test]
    fn a_path_lands_under_one_v2_prefix() {
        let path = "accounts/a1/vmboxes/b2/messages/m3/raw";
        for raw in ["https://pbx.example:8443", "https://pbx.example:8443/v2/"] {
            assert_eq!(
                api_url(&base(raw), path).unwrap().as_str(),
                "https://pbx.example:8443/v2/accounts/a1/vmboxes/b2/messages/m3/raw"
            );
        }
    }

    #[test]
    fn a_location_cannot_climb_out_or_add_a_query() {
        let b = base("https://pbx.example/v2");
        for bad in [
            "accounts/../../admin",
            "accounts/a1/./x",
            "accounts//x",
            "accounts/a1?x=1",
            "accounts/a%2F1",
        ] {
            assert!(
                matches!(api_url(&b, bad), Err(SourceApiError::BadLocation)),
                "{bad}"
            );
        }
    }
}
