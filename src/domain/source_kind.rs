//! The kinds of phone system that can push events to ringhook.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Which adapter verifies and parses a source's requests, and which dialer places its calls.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// 2600Hz Kazoo webhooks (token in the hook URL).
    Kazoo,
    /// Zoom Phone webhooks (`x-zm-signature`).
    Zoom,
    /// The generic signed PBX webhook (`X-Zorio-Signature`).
    Zorio,
    /// Asterisk: ringhook connects to its Manager Interface (AMI) and logs in.
    Asterisk,
    /// FreeSWITCH: ringhook connects to its Event Socket (ESL) and authenticates.
    Freeswitch,
}

impl SourceKind {
    /// Sources ringhook connects to (AMI, ESL) rather than receiving webhooks from: they
    /// have no ingest URL.
    pub fn is_socket(self) -> bool {
        matches!(self, SourceKind::Asterisk | SourceKind::Freeswitch)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Kazoo => "kazoo",
            SourceKind::Zoom => "zoom",
            SourceKind::Zorio => "zorio",
            SourceKind::Asterisk => "asterisk",
            SourceKind::Freeswitch => "freeswitch",
        }
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown source kind {0:?}: expected kazoo, zoom, zorio, asterisk or freeswitch")]
pub struct UnknownSourceKind(String);

impl FromStr for SourceKind {
    type Err = UnknownSourceKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "kazoo" => Ok(SourceKind::Kazoo),
            "zoom" => Ok(SourceKind::Zoom),
            "zorio" => Ok(SourceKind::Zorio),
            "asterisk" => Ok(SourceKind::Asterisk),
            "freeswitch" => Ok(SourceKind::Freeswitch),
            other => Err(UnknownSourceKind(other.to_owned())),
        }
    }
}
