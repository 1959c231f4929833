//! Calls into the sources' own APIs with the credentials stored on the source: ringhook fetches
//! voicemail and recording audio this way, and reconciliation reads call records.
//!
//! - Kazoo: paths under the source's Crossbar API URL, with an auth token traded for the
//!   account API key ([`kazoo`]).
//! - Zoom: Zoom API and download URLs with a Server-to-Server OAuth bearer token ([`zoom`]).
//! - URLs a payload names (Zorio's `recording_url`), fetched without credentials.
//!
//! Tokens are cached per source until shortly before they expire ([`tokens`]); a 401 drops the
//! cached token and the request is sent once more with a fresh one. The operator's own API URLs
//! are trusted (a Kazoo on the office network is normal); any URL a payload names goes through
//! the hook-target SSRF policy, at parse time and again at connect time, and redirects are
//! followed by hand so each hop is checked and credentials never leave the host they are for.

pub mod kazoo;
pub mod tokens;
pub mod zoom;

use crate::delivery::{GuardedResolver, TargetError, TargetPolicy, TargetUrl};
use crate::storage::{PbxApi, Source, ZoomApp};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue, LOCATION};
use reqwest::{Method, Response, StatusCode, redirect};
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokens::TokenCache;
use url::Url;

/// Redirect hops followed for one request.
const MAX_REDIRECTS: usize = 3;

/// Why a call into a source's API could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SourceApiError {
    #[error("the source has no {0}")]
    NotConfigured(&'static str),
    #[error("the file location is not a valid URL or API path")]
    BadLocation,
    #[error("the URL is refused: {0}")]
    Refused(#[from] TargetError),
    #[error("the URL is not one the source's credentials may be sent to")]
    ForeignHost,
    #[error("the source's token endpoint refused the credentials (HTTP {0})")]
    TokenRefused(u16),
    #[error("the source did not answer in time")]
    Timeout,
    #[error("the source could not be reached: {0}")]
    Unreachable(String),
    #[error("the source redirected too often")]
    TooManyRedirects,
}

impl SourceApiError {
    /// A transport failure, described without its URL (it may carry ids or tokens).
    fn unreachable(error: reqwest::Error) -> SourceApiError {
        if error.is_timeout() {
            return SourceApiError::Timeout;
        }
        let error = error.without_url();
        let mut text = error.to_string();
        let mut cause = std::error::Error::source(&error);
        while let Some(c) = cause {
            text.push_str(": ");
            text.push_str(&c.to_string());
            cause = c.source();
        }
        SourceApiError::Unreachable(text)
    }
}

/// Time limits on a call into a source's API.
#[derive(Clone, Copy, Debug)]
pub struct ApiTimeouts {
    /// Opening the connection.
    pub connect: Duration,
    /// From sending the request to the answer's headers (token requests included).
    pub answer: Duration,
    /// Longest silence between two pieces of a body being read.
    pub read: Duration,
}

impl ApiTimeouts {
    /// Every step within `limit`, the connection within ten seconds at most.
    pub fn within(limit: Duration) -> Self {
        ApiTimeouts {
            connect: limit.min(Duration::from_secs(10)),
            answer: limit,
            read: limit,
        }
    }
}

/// The credential one request carries.
enum Credential<'a> {
    Kazoo(&'a PbxApi),
    Zoom(&'a ZoomApp),
}

/// Clients for the sources' APIs. Cheap to share behind an `Arc`.
pub struct SourceApi {
    /// For the operator's own endpoints (Kazoo API URL, Zoom token URL).
    trusted: reqwest::Client,
    /// For URLs a payload names: connects only where the target policy allows.
    guarded: reqwest::Client,
    policy: Arc<TargetPolicy>,
    timeouts: ApiTimeouts,
    tokens: TokenCache,
}

impl SourceApi {
    /// Fails only if the TLS backend cannot be initialised.
    pub fn new(policy: TargetPolicy, timeouts: ApiTimeouts) -> Result<Self, reqwest::Error> {
        let policy = Arc::new(policy);
        let builder = || {
            reqwest::Client::builder()
                .user_agent(concat!("ringhook/", env!("CARGO_PKG_VERSION")))
                .connect_timeout(timeouts.connect)
                .read_timeout(timeouts.read)
                .redirect(redirect::Policy::none())
                .no_proxy()
        };
        Ok(SourceApi {
            trusted: builder().build()?,
            guarded: builder()
                .dns_resolver(GuardedResolver::new(Arc::clone(&policy)))
                .build()?,
            policy,
            timeouts,
            tokens: TokenCache::default(),
        })
    }

    /// `path` under the `/v2/` of a Kazoo source's API, with its auth token.
    pub async fn kazoo(
        &self,
        source: &Source,
        method: Method,
        path: &str,
        headers: HeaderMap,
    ) -> Result<Response, SourceApiError> {
        let api = source
            .api
            .as_ref()
            .ok_or(SourceApiError::NotConfigured("Kazoo API URL and key"))?;
        let url = kazoo::api_url(&api.url, path)?;
        self.send_to_api(source, &Credential::Kazoo(api), &url, method, headers)
            .await
    }

    /// One request to an operator-configured API (reached like the token URL) with the
    /// source's token, redirects followed as every source request follows them.
    async fn send_to_api(
        &self,
        source: &Source,
        credential: &Credential<'_>,
        url: &Url,
        method: Method,
        headers: HeaderMap,
    ) -> Result<Response, SourceApiError> {
        let first = self
            .with_token(source, credential, &self.trusted, url, &method, &headers)
            .await?;
        self.follow(first, url, &method, &headers).await
    }

    /// A GET of a Kazoo listing (`path` under the `/v2/`, such as `accounts/{id}/cdrs`) with
    /// its query, with the source's auth token: how reconciliation reads call records.
    pub async fn kazoo_list(
        &self,
        source: &Source,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Response, SourceApiError> {
        let api = source
            .api
            .as_ref()
            .ok_or(SourceApiError::NotConfigured("Kazoo API URL and key"))?;
        let mut url = kazoo::api_url(&api.url, path)?;
        url.query_pairs_mut()
            .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        self.send_to_api(
            source,
            &Credential::Kazoo(api),
            &url,
            Method::GET,
            HeaderMap::new(),
        )
        .await
    }

    /// A GET of the Zoom API (`path` under `/v2`, such as `phone/call_history`) with its query,
    /// with the app's bearer token: how reconciliation reads call history. The API is the
    /// operator's configured endpoint, so it is reached like the token URL.
    pub async fn zoom_list(
        &self,
        source: &Source,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Response, SourceApiError> {
        let app = source.zoom.as_ref().ok_or(SourceApiError::NotConfigured(
            "Zoom Server-to-Server OAuth app",
        ))?;
        let mut url = zoom::api_url(app, path)?;
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        self.send_to_api(
            source,
            &Credential::Zoom(app),
            &url,
            Method::GET,
            HeaderMap::new(),
        )
        .await
    }

    /// A Zoom API or download URL (as a payload names it), with the app's bearer token.
    pub async fn zoom(
        &self,
        source: &Source,
        method: Method,
        url: &str,
        headers: HeaderMap,
    ) -> Result<Response, SourceApiError> {
        let app = source.zoom.as_ref().ok_or(SourceApiError::NotConfigured(
            "Zoom Server-to-Server OAuth app",
        ))?;
        let url = self.guarded_url(url)?;
        if !zoom::may_carry_token(app, &url) {
            return Err(SourceApiError::ForeignHost);
        }
        let first = self
            .with_token(
                source,
                &Credential::Zoom(app),
                &self.guarded,
                &url,
                &method,
                &headers,
            )
            .await?;
        self.follow(first, &url, &method, &headers).await
    }

    /// A URL a payload names that needs no credentials (Zorio's `recording_url`).
    pub async fn public(
        &self,
        method: Method,
        url: &str,
        headers: HeaderMap,
    ) -> Result<Response, SourceApiError> {
        let url = self.guarded_url(url)?;
        let first = self
            .send(&self.guarded, &url, &method, &headers, None)
            .await?;
        self.follow(first, &url, &method, &headers).await
    }

    /// A payload's URL, checked against the target policy (scheme, credentials, IP literals);
    /// names are checked again when the guarded client resolves them.
    fn guarded_url(&self, raw: &str) -> Result<Url, SourceApiError> {
        Ok(TargetUrl::parse(raw, &self.policy)?.as_url().clone())
    }

    /// Sends with the source's token; on a 401, fetches a fresh token and sends once more.
    async fn with_token(
        &self,
        source: &Source,
        credential: &Credential<'_>,
        http: &reqwest::Client,
        url: &Url,
        method: &Method,
        headers: &HeaderMap,
    ) -> Result<Response, SourceApiError> {
        let token = self.token(source, credential).await?;
        let response = self
            .send(
                http,
                url,
                method,
                headers,
                Some(header(credential, &token)?),
            )
            .await?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        tracing::info!(source = %source.id, "the source refused its cached token; fetching a new one");
        self.tokens.forget(&source.id).await;
        let token = self.token(source, credential).await?;
        self.send(
            http,
            url,
            method,
            headers,
            Some(header(credential, &token)?),
        )
        .await
    }

    async fn token(
        &self,
        source: &Source,
        credential: &Credential<'_>,
    ) -> Result<SecretString, SourceApiError> {
        self.tokens
            .get(&source.id, Instant::now(), || async {
                let fetch = async {
                    match credential {
                        Credential::Kazoo(api) => match kazoo::auth_token(&self.trusted, api).await
                        {
                            // Click-to-call sends `--api-key` as the token itself: a key that
                            // Crossbar does not take as an account API key is used that way.
                            Err(SourceApiError::TokenRefused(400 | 401 | 403)) => {
                                Ok(kazoo::key_as_token(api))
                            }
                            other => other,
                        },
                        Credential::Zoom(app) => zoom::access_token(&self.trusted, app).await,
                    }
                };
                tokio::time::timeout(self.timeouts.answer, fetch)
                    .await
                    .map_err(|_| SourceApiError::Timeout)?
            })
            .await
    }

    /// One request, bounded by the answer timeout.
    async fn send(
        &self,
        http: &reqwest::Client,
        url: &Url,
        method: &Method,
        headers: &HeaderMap,
        credential: Option<(HeaderName, HeaderValue)>,
    ) -> Result<Response, SourceApiError> {
        let mut request = http
            .request(method.clone(), url.clone())
            .headers(headers.clone());
        if let Some((name, value)) = credential {
            request = request.header(name, value);
        }
        tokio::time::timeout(self.timeouts.answer, request.send())
            .await
            .map_err(|_| SourceApiError::Timeout)?
            .map_err(SourceApiError::unreachable)
    }

    /// Follows redirects by hand: each hop must pass the target policy, and goes without
    /// credentials (a signed storage URL carries its own).
    async fn follow(
        &self,
        mut response: Response,
        from: &Url,
        method: &Method,
        headers: &HeaderMap,
    ) -> Result<Response, SourceApiError> {
        let mut current = from.clone();
        for _ in 0..MAX_REDIRECTS {
            if !response.status().is_redirection() {
                return Ok(response);
            }
            let Some(location) = response
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
            else {
                return Ok(response);
            };
            let next = current
                .join(location)
                .map_err(|_| SourceApiError::BadLocation)?;
            let next = self.guarded_url(next.as_str())?;
            response = self
                .send(&self.guarded, &next, method, headers, None)
                .await?;
            current = next;
        }
        if response.status().is_redirection() {
            return Err(SourceApiError::TooManyRedirects);
        }
        Ok(response)
    }
}

/// The header that carries `token` for this kind of credential, marked sensitive so it is
/// never printed.
fn header(
    credential: &Credential<'_>,
    token: &SecretString,
) -> Result<(HeaderName, HeaderValue), SourceApiError> {
    let (name, text) = match credential {
        Credential::Kazoo(_) => (kazoo::AUTH_HEADER, token.expose_secret().to_owned()),
        Credential::Zoom(_) => (AUTHORIZATION, format!("Bearer {}", token.expose_secret())),
    };
    let mut value = HeaderValue::from_str(&text).map_err(|_| SourceApiError::TokenRefused(200))?;
    value.set_sensitive(true);
    Ok((name, value))
}
