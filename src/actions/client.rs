//! The HTTP client towards PBX APIs. Placing a call is not idempotent, so the one rule is:
//! never send a dial twice unless the first certainly never left. A connect failure (refused,
//! unreachable, connect timeout) is retried once; any failure after the request may have been
//! sent (a timeout waiting for the answer, a dropped connection) is reported as
//! [`DialError::NoAnswer`] and never retried. No redirects are followed: a 3xx is an answer.

use super::{DialError, PbxRequest};
use reqwest::header::HeaderValue;
use reqwest::redirect;
use secrecy::ExposeSecret;
use std::time::Duration;

/// Attempts for one dial when the connection could not be opened.
const CONNECT_ATTEMPTS: u32 = 2;
/// Most bytes of a PBX answer read; answers to a dial are small.
const MAX_ANSWER: usize = 64 * 1024;

/// Sends dial requests. Cheap to clone: clones share the connection pool.
#[derive(Clone, Debug)]
pub struct PbxClient {
    http: reqwest::Client,
}

impl PbxClient {
    /// `connect` bounds opening the connection, `total` the whole exchange.
    pub fn new(connect: Duration, total: Duration) -> Result<PbxClient, reqwest::Error> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("ringhook/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(connect)
            .timeout(total)
            .redirect(redirect::Policy::none())
            .build()?;
        Ok(PbxClient { http })
    }

    /// Sends `request` and returns the PBX's status and body (at most [`MAX_ANSWER`] bytes).
    #[tracing::instrument(name = "pbx.dial", skip_all, fields(method = %request.method, host = request.url.host_str()))]
    pub async fn send(&self, request: &PbxRequest) -> Result<(u16, Vec<u8>), DialError> {
        let mut credential =
            HeaderValue::from_str(request.auth.1.expose_secret()).map_err(|_| {
                DialError::Unreachable("the source's API key is not a valid header value".into())
            })?;
        credential.set_sensitive(true);
        let mut attempt = 1;
        loop {
            let mut builder = self
                .http
                .request(request.method.clone(), request.url.clone())
                .header(request.auth.0.clone(), credential.clone());
            if let Some(json) = &request.json {
                builder = builder.json(json);
            }
            match builder.send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let body = response.bytes().await.map_err(|e| {
                        tracing::warn!(error = %e.without_url(), "the PBX's answer broke off");
                        DialError::NoAnswer
                    })?;
                    let kept = body.len().min(MAX_ANSWER);
                    return Ok((status, body[..kept].to_vec()));
                }
                Err(e) if e.is_connect() && attempt < CONNECT_ATTEMPTS => {
                    tracing::warn!(error = %e.without_url(), attempt, "cannot connect to the PBX; retrying once");
                    attempt += 1;
                }
                Err(e) if e.is_connect() => {
                    return Err(DialError::Unreachable(describe(&e.without_url())));
                }
                Err(e) => {
                    tracing::warn!(error = %e.without_url(), "no answer from the PBX; not re-sending");
                    return Err(DialError::NoAnswer);
                }
            }
        }
    }
}

/// The error and its causes in one line (reqwest's own message is only "error sending request").
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
