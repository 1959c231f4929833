//! Reading a PBX's history API, with the waits its rate limits ask for: a 429 is retried after
//! its `Retry-After` (RFC 9110 §10.2.3), a 5xx or a broken connection after a short backoff, a
//! few times; anything else is an answer. Requests go through `crate::source_api`, which adds
//! the source's credentials (and never logs them).

use reqwest::StatusCode;
use reqwest::header::{HeaderValue, RETRY_AFTER};
use serde_json::Value;
use std::future::Future;
use std::time::Duration;

use crate::source_api::SourceApiError;

/// Attempts per request, the first included.
const ATTEMPTS: u32 = 4;
/// The longest `Retry-After` honoured; a longer one fails the read (the next sweep retries).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// Most bytes of one history page read (300 Zoom records are well under this).
const MAX_PAGE: usize = 16 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The source lacks what reading its history needs (API URL, key, account id).
    #[error("the source cannot be read: {0}")]
    Misconfigured(String),
    /// The history API answered with an error status, after retries where they made sense.
    #[error("the history API answered {status}")]
    Refused { status: u16, body: String },
    #[error("the history API could not be reached: {0}")]
    Unreachable(String),
    #[error("the history API's answer is not what its documentation describes: {0}")]
    Malformed(String),
}

impl From<SourceApiError> for HistoryError {
    fn from(error: SourceApiError) -> Self {
        match error {
            SourceApiError::NotConfigured(_) | SourceApiError::BadLocation => {
                HistoryError::Misconfigured(error.to_string())
            }
            other => HistoryError::Unreachable(other.to_string()),
        }
    }
}

/// Sends the request `send` makes (again on each retry) and returns its JSON body.
pub async fn get_json<F, Fut>(send: F) -> Result<Value, HistoryError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<reqwest::Response, SourceApiError>>,
{
    let mut attempt = 1;
    loop {
        let wait = match send().await {
            Ok(response) if response.status().is_success() => {
                let body = response
                    .bytes()
                    .await
                    .map_err(|e| HistoryError::Unreachable(e.without_url().to_string()))?;
                if body.len() > MAX_PAGE {
                    return Err(HistoryError::Malformed("page too large".into()));
                }
                return serde_json::from_slice(&body)
                    .map_err(|e| HistoryError::Malformed(e.to_string()));
            }
            Ok(response) => {
                let status = response.status();
                match retry_wait(status, response.headers().get(RETRY_AFTER), attempt) {
                    Some(wait) if attempt < ATTEMPTS => wait,
                    _ => {
                        let body = response.text().await.unwrap_or_default();
                        return Err(HistoryError::Refused {
                            status: status.as_u16(),
                            body: body.chars().take(500).collect(),
                        });
                    }
                }
            }
            Err(SourceApiError::Timeout | SourceApiError::Unreachable(_)) if attempt < ATTEMPTS => {
                backoff(attempt)
            }
            Err(error) => return Err(error.into()),
        };
        tracing::debug!(
            attempt,
            wait_ms = wait.as_millis() as u64,
            "history read retried"
        );
        tokio::time::sleep(wait).await;
        attempt += 1;
    }
}

/// How long to wait before retrying a request answered `status`; `None` when retrying would
/// not help (a 4xx other than 429) or the API asks for a longer wait than we keep a sweep.
pub fn retry_wait(
    status: StatusCode,
    retry_after: Option<&HeaderValue>,
    attempt: u32,
) -> Option<Duration> {
    if status == StatusCode::TOO_MANY_REQUESTS {
        let asked = retry_after
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs)
            .unwrap_or_else(|| backoff(attempt));
        return (asked <= MAX_RETRY_AFTER).then_some(asked);
    }
    status.is_server_error().then(|| backoff(attempt))
}

/// 250 ms, 500 ms, 1 s: short, since the sweep as a whole runs again later anyway.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(250 << attempt.saturating_sub(1).min(4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_429_waits_what_retry_after_asks() {
        let after = HeaderValue::from_static("7");
        assert_eq!(
            retry_wait(StatusCode::TOO_MANY_REQUESTS, Some(&after), 1),
            Some(Duration::from_secs(7))
        );
    }

    #[test]
    fn a_429_asking_more_than_a_minute_fails_the_read() {
        let after = HeaderValue::from_static("3600");
        assert_eq!(
            retry_wait(StatusCode::TOO_MANY_REQUESTS, Some(&after), 1),
            None
        );
    }

    #[test]
    fn server_errors_are_retried_and_client_errors_are_not() {
        assert!(retry_wait(StatusCode::INTERNAL_SERVER_ERROR, None, 1).is_some());
        assert_eq!(retry_wait(StatusCode::UNAUTHORIZED, None, 1), None);
    }
}
