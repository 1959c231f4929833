//! The HTTP client that makes delivery attempts, and the [`Outcome`] it records for each.
//!
//! One pooled `reqwest::Client` for all targets: bounded time per attempt (Standard Webhooks asks
//! for 15 to 30 s; Hook0 uses connect 5 s / total 15 s), **no redirects** (a 3xx is a failure, as
//! in Svix, Hook0 and Standard Webhooks: following one would let a receiver point us anywhere),
//! no proxy from the environment (it would bypass the address check), and the
//! [`GuardedResolver`] so every connection goes to an address the [`TargetPolicy`] allows.

use crate::delivery::retry::{AttemptResult, parse_retry_after};
use crate::delivery::signing::DELIVERY_USER_AGENT;
use crate::delivery::target_guard::{GuardedResolver, TargetError, TargetPolicy, TargetUrl};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::redirect;
use std::error::Error as _;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// Most bytes of a response body kept with an attempt: enough to show a receiver's error
/// message, small enough that a misbehaving receiver cannot fill the database.
pub const MAX_RECORDED_BODY: usize = 4 * 1024;

/// Timeouts and pooling of the delivery client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientSettings {
    /// Whole attempt: connect, send, and read the answer (Standard Webhooks: 15 to 30 s).
    pub timeout: Duration,
    /// TCP and TLS connect; a receiver that cannot accept in this time is down.
    pub connect_timeout: Duration,
    /// How long an idle pooled connection is kept for the next delivery to the same host.
    pub pool_idle_timeout: Duration,
    /// Idle connections kept per host.
    pub pool_max_idle_per_host: usize,
}

impl Default for ClientSettings {
    fn default() -> Self {
        ClientSettings {
            timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(5),
            pool_idle_timeout: Duration::from_secs(90),
            pool_max_idle_per_host: 32,
        }
    }
}

/// Sends deliveries. Cheap to clone: clones share the connection pool.
#[derive(Clone, Debug)]
pub struct DeliveryClient {
    http: reqwest::Client,
    policy: Arc<TargetPolicy>,
}

impl DeliveryClient {
    /// Fails only if the TLS backend cannot be initialised.
    pub fn new(policy: TargetPolicy, settings: &ClientSettings) -> Result<Self, reqwest::Error> {
        let policy = Arc::new(policy);
        let http = reqwest::Client::builder()
            .user_agent(DELIVERY_USER_AGENT)
            .timeout(settings.timeout)
            .connect_timeout(settings.connect_timeout)
            .pool_idle_timeout(settings.pool_idle_timeout)
            .pool_max_idle_per_host(settings.pool_max_idle_per_host)
            .redirect(redirect::Policy::none())
            .no_proxy()
            .dns_resolver(GuardedResolver::new(Arc::clone(&policy)))
            .build()?;
        Ok(DeliveryClient { http, policy })
    }

    /// POSTs `body` with `headers` (see `signing::delivery_headers`) and records what happened.
    /// Never fails: every error becomes an [`Outcome`] for the retry policy.
    #[tracing::instrument(name = "delivery.post", skip_all, fields(target = %url))]
    pub async fn post(
        &self,
        url: &TargetUrl,
        headers: HeaderMap,
        body: impl Into<reqwest::Body>,
    ) -> Outcome {
        let started = Instant::now();
        // reqwest skips the resolver for IP literals, so they are checked here, against the
        // client's policy (the URL may have been accepted under an older one).
        if let Some(ip) = url.ip_literal().filter(|ip| !self.policy.permits(*ip)) {
            return Outcome::failed(
                AttemptResult::ConnectionFailed,
                started.elapsed(),
                TargetError::ForbiddenAddress(ip).to_string(),
            );
        }
        let sent = self
            .http
            .post(url.as_url().clone())
            .headers(headers)
            .body(body)
            .send()
            .await;
        match sent {
            Ok(response) => Outcome::from_response(response, started, SystemTime::now()).await,
            Err(error) => Outcome::from_error(error, started.elapsed()),
        }
    }
}

/// What one attempt came to: stored with the delivery and fed to the retry policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The status, or how the attempt failed without one.
    pub result: AttemptResult,
    /// From just before connecting until the body was read (or the attempt failed).
    pub duration: Duration,
    /// Why the attempt failed without a status, or why the body could not be read.
    pub error: Option<String>,
    /// The first [`MAX_RECORDED_BODY`] bytes of the answer, decoded lossily as UTF-8.
    pub body: String,
    /// True when the answer was longer than what `body` keeps.
    pub body_truncated: bool,
    /// The receiver's `Retry-After`, as a delay from when the answer arrived.
    pub retry_after: Option<Duration>,
}

impl Outcome {
    /// True for a 2xx answer.
    pub fn is_success(&self) -> bool {
        matches!(self.result, AttemptResult::Status(200..=299))
    }

    /// The HTTP status, when the receiver answered.
    pub fn status(&self) -> Option<u16> {
        match self.result {
            AttemptResult::Status(status) => Some(status),
            AttemptResult::Timeout | AttemptResult::ConnectionFailed => None,
        }
    }

    /// Records an answer, reading at most [`MAX_RECORDED_BODY`] bytes of its body. `now` is when
    /// the answer arrived, for an HTTP-date `Retry-After`.
    pub async fn from_response(
        mut response: reqwest::Response,
        started: Instant,
        now: SystemTime,
    ) -> Outcome {
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, now));
        let mut body = Vec::new();
        let mut body_truncated = false;
        let mut error = None;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = MAX_RECORDED_BODY - body.len();
                    body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                    if chunk.len() > room {
                        body_truncated = true;
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    error = Some(error_text(e));
                    break;
                }
            }
        }
        Outcome {
            result: AttemptResult::Status(status),
            duration: started.elapsed(),
            error,
            body: String::from_utf8_lossy(&body).into_owned(),
            body_truncated,
            retry_after,
        }
    }

    /// Records a request that got no answer: a timeout, or a failure to connect (including a
    /// target address refused by the resolver).
    pub fn from_error(error: reqwest::Error, duration: Duration) -> Outcome {
        let result = if error.is_timeout() {
            AttemptResult::Timeout
        } else {
            AttemptResult::ConnectionFailed
        };
        Outcome::failed(result, duration, error_text(error))
    }

    fn failed(result: AttemptResult, duration: Duration, error: String) -> Outcome {
        Outcome {
            result,
            duration,
            error: Some(error),
            body: String::new(),
            body_truncated: false,
            retry_after: None,
        }
    }
}

/// The error and its causes, without the URL (already stored with the delivery): reqwest's own
/// message says little ("error sending request"), the cause says what went wrong.
fn error_text(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
