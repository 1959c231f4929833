//! Ingest adapters: verify that a request really comes from the configured source, then parse
//! its body into source-neutral [`RawCallEvent`]s. Pure functions: no I/O, the clock is passed in.
//!
//! One file per source kind (`kazoo`, `zoom`, `zorio`) behind [`verify_and_parse`]. Verification
//! failures and malformed bodies are errors; events ringhook does not use are [`Parsed::Ignored`].

pub mod asterisk;
mod asterisk_cdr;
pub mod bounds;
pub mod endpoint;
pub mod freeswitch;
pub(crate) mod json;
pub mod kazoo;
mod kazoo_apps;
mod kazoo_form;
pub mod raw;
pub mod signature;
#[cfg(test)]
mod signature_tests;

#[cfg(test)]
mod robustness_tests;
#[cfg(test)]
mod socket_scenarios_tests;
pub mod zoom;
pub mod zorio;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::domain::SourceKind;
pub use raw::{
    EndReason, LegRole, QueueAbandonReason, RawCallEvent, RawEventKind, RawHangup, RawLeg,
    RawMedia, RawParty, RawQueue, RawRecording, RawTiming, RawTransfer, RawVoicemail, TransferKind,
};

/// Why a request was refused. Says what failed, never which HTTP status to answer.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IngestError {
    /// Missing or wrong signature or token, or a timestamp outside the replay window.
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    /// The body could not be read as the source's format.
    #[error("malformed request: {0}")]
    Malformed(String),
}

/// HTTP request headers, matched case-insensitively (the web layer copies them in).
#[derive(Clone, Debug, Default)]
pub struct Headers(Vec<(String, String)>);

impl Headers {
    pub fn new<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        Headers(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    /// The first value of header `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The parts of an ingest request the adapters look at.
#[derive(Clone, Copy, Debug)]
pub struct IngestRequest<'a> {
    pub headers: &'a Headers,
    /// The `?token=` query parameter (Kazoo cannot sign, so its secret travels in the hook URL).
    pub query_token: Option<&'a str>,
    /// The raw body bytes: signatures are computed over exactly these.
    pub body: &'a [u8],
}

/// What a verified request asks ringhook to do.
#[derive(Clone, Debug, PartialEq)]
pub enum Parsed {
    /// Call events to feed to the normalizer, in body order.
    Events(Vec<RawCallEvent>),
    /// Zoom's endpoint check: answer 200 with this JSON body.
    UrlValidation(UrlValidationResponse),
    /// A well-formed event ringhook has no use for (answer 2xx, store nothing).
    Ignored { event: String },
}

/// Body of the answer to Zoom's `endpoint.url_validation`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UrlValidationResponse {
    #[serde(rename = "plainToken")]
    pub plain_token: String,
    /// Hex HMAC-SHA256 of the plain token under the source secret.
    #[serde(rename = "encryptedToken")]
    pub encrypted_token: String,
}

/// Verifies `request` with the source's `secret` and parses it with the adapter for `kind`.
pub fn verify_and_parse(
    kind: SourceKind,
    secret: &str,
    request: &IngestRequest<'_>,
    now: DateTime<Utc>,
) -> Result<Parsed, IngestError> {
    match kind {
        SourceKind::Kazoo => kazoo::verify(secret, request)?,
        SourceKind::Zoom => zoom::verify(secret, request, now)?,
        SourceKind::Zorio => zorio::verify(secret, request, now)?,
        SourceKind::Asterisk | SourceKind::Freeswitch => return Err(socket_source()),
    }
    parse_verified(kind, secret, request.headers, request.body, now)
}

/// Parses a request that already passed verification. Events with a time or duration no call
/// has are refused ([`bounds::check`]): what comes out is safe to hand to the normalizer.
pub fn parse_verified(
    kind: SourceKind,
    secret: &str,
    headers: &Headers,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Parsed, IngestError> {
    let parsed = match kind {
        SourceKind::Kazoo => kazoo::parse(headers, body, now)?,
        SourceKind::Zoom => zoom::parse(secret, body)?,
        SourceKind::Zorio => zorio::parse(headers, body)?,
        SourceKind::Asterisk | SourceKind::Freeswitch => return Err(socket_source()),
    };
    if let Parsed::Events(events) = &parsed {
        events.iter().try_for_each(bounds::check)?;
    }
    Ok(parsed)
}

/// Socket sources (AMI, ESL) are read by their connector, never posted to.
fn socket_source() -> IngestError {
    IngestError::Unauthorized("this source is reached over its event socket and takes no webhooks")
}

/// Short hex SHA-256 of `bytes`, for dedupe keys of payloads without their own id or time.
pub(crate) fn body_hash(bytes: &[u8]) -> String {
    hex::encode(&Sha256::digest(bytes)[..12])
}

/// Reads a JSON object body, or explains why it is not one.
pub(crate) fn json_body(body: &[u8]) -> Result<serde_json::Value, IngestError> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| IngestError::Malformed(format!("body is not JSON: {e}")))?;
    if value.is_object() {
        Ok(value)
    } else {
        Err(IngestError::Malformed("body is not a JSON object".into()))
    }
}
