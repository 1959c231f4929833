//! One finished call as a PBX's call history describes it, whatever the PBX: the readers
//! (`kazoo`, `zoom`) fill it from their vendor's shapes, and the rules (`rules`) never look at
//! a vendor field.

use chrono::{DateTime, Utc};

use crate::ingest::{EndReason, RawParty, RawRecording, RawVoicemail};

/// A finished call from the source's history.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryRecord {
    /// The key live events create this call under (`cid:…` for Kazoo, `call:…` for Zoom and
    /// Zorio): event ids derive from it, so a recovered trigger and its live twin share an id.
    pub call_key: String,
    /// Other keys live events may name the call by (leg ids), to find a call seen live.
    pub other_keys: Vec<String>,
    pub started_at: DateTime<Utc>,
    /// When a person answered; `None` when nobody did.
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: DateTime<Utc>,
    pub from: RawParty,
    pub to: RawParty,
    /// The tenant's own number the call used, when the history names it.
    pub line: Option<RawParty>,
    /// Users whose phones rang, in the order they rang.
    pub rung: Vec<Rung>,
    /// The message left, when the caller reached voicemail.
    pub voicemail: Option<HistoryVoicemail>,
    pub recordings: Vec<RawRecording>,
    /// How the call ended, in source-neutral words, and the source's own cause.
    pub end_reason: EndReason,
    pub hangup_cause_raw: Option<String>,
}

/// A user's phone that rang, and what came of it.
#[derive(Clone, Debug, PartialEq)]
pub struct Rung {
    pub user: RawParty,
    /// When it started ringing (the call's start when the history does not say).
    pub rang_at: Option<DateTime<Utc>>,
    /// When it stopped ringing or the user's part ended.
    pub until: Option<DateTime<Utc>>,
    pub answered: bool,
    /// Why the user's phone stopped, when they did not answer (no answer, busy, rejected).
    pub missed_reason: Option<EndReason>,
}

/// The caller reached `owner`'s voicemail; `message` when the history names it.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryVoicemail {
    pub owner: RawParty,
    pub message: Option<RawVoicemail>,
}
