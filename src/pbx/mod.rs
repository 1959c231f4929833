//! PBXs that ringhook reaches over their own event socket rather than receiving webhooks:
//! Asterisk's Manager Interface (AMI) and FreeSWITCH's Event Socket (ESL).
//!
//! Framing is a small codec per protocol on `tokio-util` (see the README for why not a client
//! crate); turning messages into raw call events is the job of `ingest::asterisk` and
//! `ingest::freeswitch`.

pub mod ami_codec;
pub mod ami_session;
pub mod backoff;
pub mod connector;
pub mod dials;
pub mod esl_codec;
pub mod esl_session;
pub mod originate;
pub mod reconcile;
pub mod recording_url;
pub mod socket_url;
pub mod status;

/// Why a PBX connection could not be opened or was lost. Never holds a secret.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("cannot reach the PBX: {0}")]
    Io(#[from] std::io::Error),
    #[error("timed out {0}")]
    Timeout(&'static str),
    /// The PBX refused the login or a command (wrong password, no permission).
    #[error("the PBX refused: {0}")]
    Refused(String),
    #[error("unexpected answer from the PBX: {0}")]
    Protocol(String),
    #[error("the PBX closed the connection")]
    Closed,
}
