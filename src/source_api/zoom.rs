//! Zoom Server-to-Server OAuth (Zoom "Using a Server-to-Server OAuth app"): `POST
//! /oauth/token?grant_type=account_credentials&account_id=…` with HTTP Basic `client_id:secret`
//! answers a bearer token that lives `expires_in` seconds (an hour). The token opens the Zoom API
//! and the `download_url` of voicemail and recordings.

use super::SourceApiError;
use super::tokens::Token;
use crate::storage::ZoomApp;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::time::Duration;
use url::Url;

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: u64,
}

/// Asks Zoom for an access token with the app's credentials.
pub async fn access_token(http: &reqwest::Client, app: &ZoomApp) -> Result<Token, SourceApiError> {
    let mut url = Url::parse(app.oauth_url.as_str()).map_err(|_| SourceApiError::BadLocation)?;
    url.set_path("/oauth/token");
    url.query_pairs_mut()
        .append_pair("grant_type", "account_credentials")
        .append_pair("account_id", &app.account_id);
    let response = http
        .post(url)
        .basic_auth(&app.client_id, Some(app.client_secret.expose_secret()))
        .send()
        .await
        .map_err(SourceApiError::unreachable)?;
    let status = response.status();
    if !status.is_success() {
        return Err(SourceApiError::TokenRefused(status.as_u16()));
    }
    let answer: TokenAnswer = response
        .json()
        .await
        .map_err(|_| SourceApiError::TokenRefused(status.as_u16()))?;
    if answer.access_token.is_empty() {
        return Err(SourceApiError::TokenRefused(status.as_u16()));
    }
    Ok(Token {
        value: SecretString::from(answer.access_token),
        lifetime: Duration::from_secs(answer.expires_in),
    })
}

/// Zoom's REST API, where call history is read.
pub const API_BASE: &str = "https://api.zoom.us/v2";

/// `path` (such as `phone/call_history`) under the Zoom API the app's tokens open: Zoom's own
/// `https://api.zoom.us/v2` when tokens come from Zoom, else `/v2` on the host tokens come from
/// (a test double serving both). Each segment must be a plain id, so an id read from an answer
/// cannot climb out of the API or smuggle a query.
pub fn api_url(app: &ZoomApp, path: &str) -> Result<Url, SourceApiError> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let plain = |s: &&str| {
        !s.is_empty()
            && *s != "."
            && *s != ".."
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '=' | '+'))
    };
    if !segments.iter().all(plain) {
        return Err(SourceApiError::BadLocation);
    }
    let issuer = Url::parse(app.oauth_url.as_str()).map_err(|_| SourceApiError::BadLocation)?;
    let from_zoom = issuer
        .host_str()
        .is_some_and(|h| h.eq_ignore_ascii_case("zoom.us"));
    let mut url = if from_zoom {
        Url::parse(API_BASE).map_err(|_| SourceApiError::BadLocation)?
    } else {
        let mut own = issuer;
        own.set_path("/v2");
        own.set_query(None);
        own
    };
    url.path_segments_mut()
        .map_err(|_| SourceApiError::BadLocation)?
        .pop_if_empty()
        .extend(segments);
    Ok(url)
}

/// Whether the app's token may be sent to `url`: only to Zoom itself (`zoom.us` and its
/// subdomains) or to the host tokens come from, never to a host a payload happens to name.
pub fn may_carry_token(app: &ZoomApp, url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.to_ascii_lowercase();
    let issuer = Url::parse(app.oauth_url.as_str())
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase));
    host == "zoom.us" || host.ends_with(".zoom.us") || issuer.as_deref() == Some(host.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::WebUrl;

    fn app(oauth: &str) -> ZoomApp {
        ZoomApp {
            account_id: "acc".into(),
            client_id: "cli".into(),
            client_secret: SecretString::from("sec".to_owned()),
            oauth_url: WebUrl::parse(oauth).unwrap(),
        }
    }

    #[test]
    fn the_api_is_zooms_own_unless_tokens_come_from_a_double() {
        let zoom = app(ZoomApp::OAUTH_URL);
        assert_eq!(
            api_url(&zoom, "phone/call_history").unwrap().as_str(),
            "https://api.zoom.us/v2/phone/call_history"
        );
        let local = app("http://127.0.0.1:9000");
        assert_eq!(
            api_url(&local, "phone/call_history/20240603-abc")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:9000/v2/phone/call_history/20240603-abc"
        );
        assert!(api_url(&zoom, "phone/call_history/../users").is_err());
        assert!(api_url(&zoom, "phone/call_history/a?b").is_err());
    }

    #[test]
    fn the_token_goes_only_to_zoom_or_the_issuer() {
        let zoom = app(ZoomApp::OAUTH_URL);
        let url = |raw: &str| Url::parse(raw).unwrap();
        assert!(may_carry_token(
            &zoom,
            &url("https://api.zoom.us/v2/phone/x")
        ));
        assert!(may_carry_token(
            &zoom,
            &url("https://zoom.us/v2/phone/recording/download/1")
        ));
        assert!(!may_carry_token(&zoom, &url("https://evilzoom.us/x")));
        assert!(!may_carry_token(
            &zoom,
            &url("https://zoom.us.evil.example/x")
        ));
        let local = app("http://127.0.0.1:9000");
        assert!(may_carry_token(&local, &url("http://127.0.0.1:9001/file")));
        assert!(!may_carry_token(&local, &url("http://10.0.0.1/file")));
    }
}
