//! PBXs that ringhook reaches over their own event socket rather than receiving webhooks:
//! Asterisk's Manager Interface (AMI) and FreeSWITCH's Event Socket (ESL).
//!
//! Framing is a small codec per protocol on `tokio-util` (see the README for why not a client
//! crate); turning messages into raw call events is the job of `ingest::asterisk` and
//! `ingest::freeswitch`.

pub mod ami_codec;
pub mod esl_codec;
pub mod socket_url;
