//! The call events subscribers receive (DESIGN.md "Call events"). Storage, delivery and the API
//! reuse these types, so their serde names are the public contract.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::{E164Number, SourceKind, TenantId, UserId};

/// The 15 trigger types.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
pub enum EventType {
    #[serde(rename = "call.ringing")]
    Ringing,
    #[serde(rename = "call.answered")]
    Answered,
    #[serde(rename = "call.ended")]
    Ended,
    #[serde(rename = "call.missed")]
    Missed,
    #[serde(rename = "call.voicemail")]
    Voicemail,
    #[serde(rename = "call.held")]
    Held,
    #[serde(rename = "call.resumed")]
    Resumed,
    #[serde(rename = "call.transferred")]
    Transferred,
    #[serde(rename = "call.parked")]
    Parked,
    #[serde(rename = "call.unparked")]
    Unparked,
    #[serde(rename = "call.park_abandoned")]
    ParkAbandoned,
    #[serde(rename = "call.queued")]
    Queued,
    #[serde(rename = "call.queue_answered")]
    QueueAnswered,
    #[serde(rename = "call.queue_abandoned")]
    QueueAbandoned,
    #[serde(rename = "call.recording_ready")]
    RecordingReady,
}

impl EventType {
    pub const ALL: [EventType; 15] = [
        EventType::Ringing,
        EventType::Answered,
        EventType::Ended,
        EventType::Missed,
        EventType::Voicemail,
        EventType::Held,
        EventType::Resumed,
        EventType::Transferred,
        EventType::Parked,
        EventType::Unparked,
        EventType::ParkAbandoned,
        EventType::Queued,
        EventType::QueueAnswered,
        EventType::QueueAbandoned,
        EventType::RecordingReady,
    ];

    /// The wire name (`call.ringing`), as used in hook subscriptions.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Ringing => "call.ringing",
            EventType::Answered => "call.answered",
            EventType::Ended => "call.ended",
            EventType::Missed => "call.missed",
            EventType::Voicemail => "call.voicemail",
            EventType::Held => "call.held",
            EventType::Resumed => "call.resumed",
            EventType::Transferred => "call.transferred",
            EventType::Parked => "call.parked",
            EventType::Unparked => "call.unparked",
            EventType::ParkAbandoned => "call.park_abandoned",
            EventType::Queued => "call.queued",
            EventType::QueueAnswered => "call.queue_answered",
            EventType::QueueAbandoned => "call.queue_abandoned",
            EventType::RecordingReady => "call.recording_ready",
        }
    }

    /// Parses a wire name; `None` for anything that is not one of the 15 types.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == raw)
    }
}

/// One delivery's body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CallEvent {
    /// `evt_…`, derived from tenant, source, call, type and subject: a replay yields the same id.
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// When it happened by the source's clock (receive time only when the source gives none).
    pub occurred_at: DateTime<Utc>,
    pub tenant_id: TenantId,
    /// Whether the PBX told ringhook as it happened, or its call history told it later.
    #[serde(default)]
    pub origin: Origin,
    /// One human-readable line.
    pub summary: String,
    pub call: CallInfo,
    /// Why the user missed the call (`call.missed` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missed: Option<MissedInfo>,
    /// The message left (`call.voicemail` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voicemail: Option<VoicemailInfo>,
    /// The recording that became available (`call.recording_ready` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording: Option<RecordingInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub park: Option<ParkInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<QueueInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer: Option<TransferInfo>,
}

/// How ringhook learned of an event: a subscriber can tell a trigger that fired as the call
/// happened from one recovered afterwards from the PBX's call history (whose ringing and
/// answer moments are past).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// From the PBX's webhooks or socket events, as the call happened.
    #[default]
    Live,
    /// From the PBX's call history, after live events were lost.
    Reconciled,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Live => "live",
            Origin::Reconciled => "reconciled",
        }
    }
}

/// The call as known when the event was emitted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CallInfo {
    /// `call_…`, stable for the whole call.
    pub id: String,
    pub source: SourceKind,
    /// The source's own id of the call (Kazoo Call-Interaction-ID, Zoom call_id, ...).
    pub source_call_id: String,
    /// From the point of view of `user`.
    pub direction: Direction,
    pub from: Party,
    pub to: Party,
    /// The party this event concerns: who rang, answered, parked, ...
    pub user: Party,
    /// The tenant's own number the call used: the DID an outside caller dialled, or the
    /// caller id shown on an outbound call; null when the source does not say.
    #[serde(default)]
    pub line: Option<Line>,
    /// When the call reached the tenant (its first leg was created).
    pub started_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// From `started_at` until a person answered, or until the last user phone stopped
    /// ringing when nobody did (voicemail, IVR and queue music are not ringing).
    pub ring_seconds: Option<i64>,
    /// From the first human answer to the end; 0 if nobody answered.
    pub talk_seconds: Option<i64>,
    /// From `started_at` to `ended_at`; null when the source does not report the call's end.
    pub duration_seconds: Option<i64>,
    /// Final outcome on `call.ended`; the user's outcome on `call.missed`.
    pub disposition: Option<Disposition>,
    /// How the call ended, the same words for every source (`call.ended`).
    pub hangup_cause: Option<HangupCause>,
    /// The source's own hangup cause (Q.850 name, Zoom result text, ...), unchanged.
    #[serde(default)]
    pub hangup_cause_raw: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation: Option<Correlation>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Inbound,
    Outbound,
    Internal,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Disposition {
    Answered,
    Missed,
    Busy,
    Rejected,
    Cancelled,
    Voicemail,
    Abandoned,
    Failed,
}

impl Disposition {
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Answered => "answered",
            Disposition::Missed => "missed",
            Disposition::Busy => "busy",
            Disposition::Rejected => "rejected",
            Disposition::Cancelled => "cancelled",
            Disposition::Voicemail => "voicemail",
            Disposition::Abandoned => "abandoned",
            Disposition::Failed => "failed",
        }
    }
}

/// How a call ended, in words that do not depend on the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HangupCause {
    Normal,
    NoAnswer,
    Busy,
    Rejected,
    CallerCancelled,
    Unreachable,
    Failed,
}

/// Why a user did not take a call that rang them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MissedReason {
    NoAnswer,
    Busy,
    Rejected,
    CallerCancelled,
    Unreachable,
}

/// Why the user missed the call and how long their phone rang (null when the source does not
/// report when their ringing started or stopped).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MissedInfo {
    pub reason: MissedReason,
    pub ring_seconds: Option<i64>,
}

/// An audio file served by ringhook (`GET /v1/media/{id}`, fetched with the bearer token), so
/// subscribers never see the PBX's own URLs or credentials.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Media {
    pub url: String,
    pub content_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
}

/// A voicemail message; null fields are ones the source did not report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VoicemailInfo {
    pub box_id: Option<String>,
    pub message_id: Option<String>,
    pub duration_seconds: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcription: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<Media>,
}

/// A recording of the call, ready to fetch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RecordingInfo {
    /// The source's id of the recording.
    pub id: String,
    pub duration_seconds: Option<i64>,
    pub media: Media,
}

/// The tenant's own number a call used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Line {
    pub number: E164Number,
    pub raw_number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Ties triggers to the click-to-call request (`POST /v1/calls`) that placed the call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Correlation {
    pub request_id: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PartyKind {
    User,
    External,
    Queue,
    Unknown,
}

/// Someone on a call: a tenant user, an outside number, a queue, or unknown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Party {
    pub kind: PartyKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
    /// E.164 form, when the number is a valid one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<E164Number>,
    /// The number exactly as the source sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_number: Option<String>,
}

impl Party {
    /// A party nothing is known about.
    pub fn unknown() -> Self {
        Party {
            kind: PartyKind::Unknown,
            user_id: None,
            name: None,
            extension: None,
            number: None,
            raw_number: None,
        }
    }

    pub fn is_user(&self) -> bool {
        self.kind == PartyKind::User && self.user_id.is_some()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ParkInfo {
    pub slot: String,
    pub parked_by: Option<Party>,
    pub retrieved_by: Option<Party>,
    /// How the park ended, once it has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<ParkOutcome>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParkOutcome {
    Retrieved,
    /// The parked caller hung up.
    Abandoned,
    /// Nobody picked the call up in time; the PBX took it back.
    TimedOut,
}

/// Why a caller left a queue without an agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QueueAbandonReason {
    CallerHungUp,
    Timeout,
    Exit,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct QueueInfo {
    pub id: Option<String>,
    pub name: Option<String>,
    pub wait_seconds: Option<i64>,
    pub agent: Option<Party>,
    /// Why the caller left unanswered (`call.queue_abandoned`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abandon_reason: Option<QueueAbandonReason>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TransferKind {
    Blind,
    Attended,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TransferInfo {
    pub kind: TransferKind,
    pub to: Party,
    /// The source's id of the call the transfer created (an attended transfer's consultation
    /// call), whose events ringhook folds into this call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_call_id: Option<String>,
}
