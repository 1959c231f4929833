//! The call events subscribers receive (DESIGN.md "Call events"). Storage, delivery and the API
//! reuse these types, so their serde names are the public contract.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::{E164Number, SourceKind, TenantId, UserId};

/// The 14 trigger types.
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
}

impl EventType {
    pub const ALL: [EventType; 14] = [
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
        }
    }

    /// Parses a wire name; `None` for anything that is not one of the 14 types.
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
    /// One human-readable line.
    pub summary: String,
    pub call: CallInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub park: Option<ParkInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<QueueInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer: Option<TransferInfo>,
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
    pub started_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub ring_seconds: Option<i64>,
    pub talk_seconds: Option<i64>,
    pub duration_seconds: Option<i64>,
    /// Final outcome on `call.ended`; the user's outcome on `call.missed`.
    pub disposition: Option<Disposition>,
    pub hangup_cause: Option<String>,
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
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct QueueInfo {
    pub id: Option<String>,
    pub name: Option<String>,
    pub wait_seconds: Option<i64>,
    pub agent: Option<Party>,
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
}
