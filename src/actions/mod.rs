//! Click-to-call: `POST /v1/calls` places a call from a user's phone through the tenant's
//! PBX, and `GET /v1/calls/{id}` follows it. One [`Dialer`] per PBX kind builds the PBX request
//! and reads its answer (pure, unit-tested); [`client::PbxClient`] sends it with timeouts and
//! retries only what cannot have dialed. The request id travels to the PBX so that the call's
//! events come back with `call.correlation.request_id`, and the ingest transaction moves the
//! request's status along with them (`pipeline/request_moves.rs`).

pub(crate) mod api;
pub mod client;
pub mod kazoo;
pub mod pbx_socket;
pub(crate) mod plan;
pub mod zoom;
pub mod zorio;

use crate::config::Settings;
use crate::delivery::RateLimiter;
use crate::domain::{CallRequestId, E164Number, SourceKind, UserId};
use crate::storage::{RequestStatus, Source};
use actix_web::web;
use reqwest::Method;
use reqwest::header::HeaderName;
use secrecy::SecretString;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};
use url::Url;

pub use client::PbxClient;

/// Everything a dialer needs to place one call.
#[derive(Debug)]
pub struct DialCall<'a> {
    pub request_id: &'a CallRequestId,
    pub source: &'a Source,
    /// How the source names the user: Kazoo `owner_id`, Zorio extension, Zoom user id.
    pub external_user_id: &'a str,
    pub to: &'a E164Number,
    /// The number the called party sees; the user's own number unless the request named one.
    pub caller_id: Option<&'a E164Number>,
    /// Shown on the user's phone while it rings (Kazoo `cid-name`): the tenant's name.
    pub caller_name: &'a str,
    /// How long the user's phone rings before the PBX gives up.
    pub ring_seconds: u64,
}

/// One HTTP request to a PBX API. The credential is wrapped, so `Debug` never shows it.
#[derive(Debug)]
pub struct PbxRequest {
    pub method: Method,
    pub url: Url,
    /// The header that carries the credential (`X-Auth-Token`, `Authorization`) and its value.
    pub auth: (HeaderName, SecretString),
    pub json: Option<serde_json::Value>,
}

/// What an accepted dial came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placed {
    pub status: RequestStatus,
    /// The PBX's id of the call, when its answer names one.
    pub pbx_call_id: Option<String>,
}

/// Why a call was not placed (or may not have been).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DialError {
    /// The PBX answered and refused; nothing was placed.
    #[error("the PBX could not place the call: {reason}")]
    Refused { status: u16, reason: String },
    /// The request may have reached the PBX, but no answer came in time.
    #[error("PBX did not answer in time; the call may still be placed")]
    NoAnswer,
    /// The PBX could not be reached; nothing was sent.
    #[error("the PBX could not be reached: {0}")]
    Unreachable(String),
    /// The source lacks what dialing needs (sources are checked before dialing, so this is
    /// an operator's mistake caught late).
    #[error("the phone system is not set up for click-to-call: {0}")]
    Misconfigured(String),
    /// This phone system cannot start calls from a server.
    #[error(
        "Zoom Phone has no server-side API to place a call; open launch_url on the user's device (it starts the signed-in Zoom client) instead"
    )]
    NotSupported { launch_url: String, tel_url: String },
}

impl DialError {
    /// What the stored request's `reason` says.
    pub fn reason(&self) -> String {
        match self {
            DialError::Refused { reason, .. } => reason.clone(),
            other => other.to_string(),
        }
    }
}

/// How one kind of phone system places calls. Implementations do no I/O: they build the
/// request and read the answer, so both are tested without a PBX.
pub trait Dialer: Send + Sync {
    /// Whether `source` holds what dialing needs (API settings, account id).
    fn can_dial(&self, source: &Source) -> bool;
    /// The request that places `call`, or why this PBX cannot place it.
    fn request(&self, call: &DialCall<'_>) -> Result<PbxRequest, DialError>;
    /// What the PBX's answer (`status`, body) means.
    fn read_answer(&self, status: u16, body: &[u8]) -> Result<Placed, DialError>;
}

/// The dialer of a source kind.
pub fn dialer_for(kind: SourceKind) -> &'static dyn Dialer {
    match kind {
        SourceKind::Kazoo => &kazoo::KazooDialer,
        SourceKind::Zorio => &zorio::ZorioDialer,
        SourceKind::Zoom => &zoom::ZoomDialer,
        SourceKind::Asterisk | SourceKind::Freeswitch => &pbx_socket::PbxSocketDialer,
    }
}

/// The longest PBX reason kept: enough for any vendor message, bounded for the database.
const MAX_REASON: usize = 200;

/// A PBX's error text, trimmed and bounded; `None` when empty.
fn bounded_reason(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    (!trimmed.is_empty()).then(|| trimmed.chars().take(MAX_REASON).collect())
}

/// The first string found at any of `paths` (each a list of object keys) in a JSON body.
fn first_text(body: &[u8], paths: &[&[&str]]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    paths.iter().find_map(|path| {
        let found = path.iter().try_fold(&value, |v, key| v.get(key))?;
        found.as_str().and_then(bounded_reason)
    })
}

/// The click-to-call service handlers share: the PBX client, the per-user limit, ring time.
pub struct ClickToCall {
    client: PbxClient,
    limiter: RateLimiter,
    ring_seconds: u64,
    socket_waits: pbx_socket::SocketWaits,
}

impl ClickToCall {
    /// Fails only if the HTTP client's TLS backend cannot be initialised.
    pub fn from_settings(settings: &Settings) -> Result<ClickToCall, reqwest::Error> {
        let per_minute =
            NonZeroU32::new(settings.click_to_call_per_minute).unwrap_or(NonZeroU32::MIN);
        Ok(ClickToCall {
            client: PbxClient::new(
                Duration::from_secs(settings.click_to_call_connect_timeout_seconds),
                Duration::from_secs(settings.click_to_call_timeout_seconds),
            )?,
            limiter: RateLimiter::per_period(per_minute, Duration::from_secs(60)),
            ring_seconds: settings.click_to_call_ring_seconds,
            socket_waits: pbx_socket::SocketWaits {
                claim: Duration::from_secs(settings.click_to_call_connect_timeout_seconds),
                answer: Duration::from_secs(settings.click_to_call_timeout_seconds),
            },
        })
    }

    /// Takes one call from `user`'s allowance at `now`, or says how many seconds to wait.
    fn admit(&self, user: &UserId, now: Instant) -> Result<(), u64> {
        self.limiter
            .try_acquire(user.as_str(), now)
            .map_err(|wait| wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(api::place).service(api::get);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pbx_reasons_are_found_where_the_vendor_puts_them_and_bounded() {
        let body = br#"{"data": {"error_message": "DESTINATION_OUT_OF_ORDER"}, "message": "x"}"#;
        let found = first_text(body, &[&["data", "error_message"], &["message"]]);
        assert_eq!(found.as_deref(), Some("DESTINATION_OUT_OF_ORDER"));
        let long = format!(r#"{{"message": "{}"}}"#, "a".repeat(500));
        let found = first_text(long.as_bytes(), &[&["message"]]).unwrap();
        assert_eq!(found.len(), MAX_REASON);
        assert_eq!(first_text(b"<html>", &[&["message"]]), None);
    }

    #[test]
    fn an_ambiguous_failure_says_the_call_may_still_be_placed() {
        assert_eq!(
            DialError::NoAnswer.reason(),
            "PBX did not answer in time; the call may still be placed"
        );
    }
}
