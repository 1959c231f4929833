//! The source-neutral shape every adapter parses a request into.
//!
//! A `RawCallEvent` says what happened to one leg (or one party) of one call, in the PBX's own
//! terms but without its field names: the normalizer never looks at a vendor payload. New
//! adapters (Asterisk, FreeSWITCH) only have to fill this struct.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::domain::SourceKind;

/// One thing that happened to a call, as reported by a source.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RawCallEvent {
    pub source: SourceKind,
    /// Stable key of this delivery's content, so a re-sent request is recognised (Zorio delivery
    /// id; otherwise source event name + leg id + source timestamp or body hash).
    pub dedupe_key: String,
    /// The vendor's event name (`channel_create`, `phone.callee_ringing`, ...), for logs.
    pub source_event: String,
    pub kind: RawEventKind,
    /// Keys naming this call, best first (`cid:` Kazoo Call-Interaction-ID, `call:` a
    /// source-wide call id, `leg:` a leg id ...). The call is stored under all of them.
    pub call_keys: Vec<String>,
    /// Keys of related legs or calls, only used to find the call (never stored as its aliases).
    pub related_keys: Vec<String>,
    /// The leg this event is about, if the source reports legs.
    pub leg: Option<RawLeg>,
    /// Source clock; `None` when the payload carries no time (Kazoo parking events).
    pub occurred_at: Option<DateTime<Utc>>,
    pub caller: RawParty,
    pub callee: RawParty,
    /// Who did it, when the event is an action (parked, retrieved, held, resumed).
    pub actor: Option<RawParty>,
    pub hangup: Option<RawHangup>,
    pub timing: RawTiming,
    /// Park slot or code (`"101"`, `"*801"`).
    pub park_slot: Option<String>,
    pub queue: Option<RawQueue>,
    pub transfer: Option<RawTransfer>,
    /// The tenant's own number the call used: the DID an outside caller dialled, or the caller
    /// id shown on an outbound call. Only set when the event tells it.
    pub line: Option<RawParty>,
    /// A voicemail message left on this call (Kazoo `voicemail_new`, Zoom `voicemail_received`).
    pub voicemail: Option<RawVoicemail>,
    /// A recording of this call that is ready to fetch (Zoom `recording_completed`, Zorio
    /// `recording_url`).
    pub recording: Option<RawRecording>,
    /// Click-to-call request id carried back by the PBX (Kazoo custom application var).
    pub request_id: Option<String>,
    /// Application variables set by the API or callflow (Kazoo CAVs), kept for later use.
    pub custom_vars: BTreeMap<String, String>,
}

/// What kind of thing happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawEventKind {
    /// A leg was created; a callee-side leg rings its party.
    LegCreated,
    /// A leg was answered (callee side: someone picked up; caller side: the PBX or the device did).
    LegAnswered,
    /// A leg was bridged to another one: the two parties talk.
    LegBridged,
    /// A leg hung up (`hangup` says why).
    LegEnded,
    Held,
    Resumed,
    Parked,
    ParkRetrieved,
    /// The parked caller hung up before anyone took the call.
    ParkAbandoned,
    /// Nobody took the parked call in time and the PBX took it back (Asterisk
    /// `ParkedCallTimeOut`).
    ParkTimedOut,
    /// The caller entered a queue.
    Queued,
    /// An agent took the queued call (`queue.agent`).
    QueueAnswered,
    /// An agent was offered the call and did not take it: not a missed call.
    QueueAgentMissed,
    /// The caller left the queue without being answered.
    QueueAbandoned,
    /// The caller reached voicemail (`callee` is the mailbox owner).
    Voicemail,
    /// A transfer was started (`transfer`); the call goes on.
    TransferStarted,
    /// A transfer completed (`transfer`).
    TransferCompleted,
    /// A call record written after the call (CDR, call history): enriches, and triggers only
    /// the recording it names.
    CallRecord,
    /// A recording of the call is ready (`recording`).
    Recording,
}

/// Which side of the call a leg serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegRole {
    /// The calling side (Kazoo A-leg, the click-to-call device leg, ...).
    Caller,
    /// A called side: a user's phone, an agent, or the far end of an outbound call.
    Callee,
}

/// One leg of a call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RawLeg {
    pub id: String,
    pub role: LegRole,
    /// The leg this one is (or was) connected to.
    pub other_leg: Option<String>,
    /// A queue agent leg: its misses are not missed calls.
    pub is_agent: bool,
    /// The first leg of a click-to-call: rings the requesting user with swapped caller ids.
    pub click_to_call: bool,
}

/// A party as the source names it; resolved against the tenant's directory by the normalizer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawParty {
    pub name: Option<String>,
    /// The number as sent: E.164, national, an extension or a feature code.
    pub number: Option<String>,
    pub extension: Option<String>,
    /// Source-side user id (Kazoo owner_id, Zoom user_id).
    pub external_user_id: Option<String>,
}

impl RawParty {
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.number.is_none()
            && self.extension.is_none()
            && self.external_user_id.is_none()
    }
}

/// Why a leg ended, in source-neutral terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    Normal,
    NoAnswer,
    Busy,
    Rejected,
    /// The caller hung up while this leg was ringing.
    CallerCancelled,
    /// Another phone of a ring group answered first.
    LoseRace,
    /// Another user picked the ringing call up.
    PickedOff,
    BlindTransfer,
    AttendedTransfer,
    Voicemail,
    /// The called party could not be reached (not registered, no route, number unknown).
    Unreachable,
    Failed,
}

/// How a leg ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawHangup {
    pub reason: EndReason,
    /// The source's own cause (`NORMAL_CLEARING`, `No Answer`), passed through to subscribers.
    pub cause: Option<String>,
}

/// Times and durations a source reports about a leg or call.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawTiming {
    pub started_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub ring_seconds: Option<i64>,
    /// Seconds after answer (for a PBX-answered leg this includes IVR and queue time).
    pub billing_seconds: Option<i64>,
    pub duration_seconds: Option<i64>,
}

/// A queue the call is or was in.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawQueue {
    pub id: Option<String>,
    pub name: Option<String>,
    pub entered_at: Option<DateTime<Utc>>,
    pub agent: Option<RawParty>,
    /// Why the caller left the queue unanswered, when the queue says so.
    pub abandon_reason: Option<QueueAbandonReason>,
}

/// Why a caller left a queue without an agent (DESIGN.md `queue.abandon_reason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueAbandonReason {
    CallerHungUp,
    /// The queue's maximum wait ran out.
    Timeout,
    /// The caller pressed a key to leave, or the queue had no agents left.
    Exit,
}

/// Where a source keeps an audio file. `location` is an absolute URL, or for sources whose
/// files sit behind their API (Kazoo) a path relative to the source's API URL.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawMedia {
    pub location: String,
    pub content_type: String,
}

/// A voicemail message as the source describes it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawVoicemail {
    pub box_id: Option<String>,
    pub message_id: Option<String>,
    pub duration_seconds: Option<i64>,
    pub transcription: Option<String>,
    pub media: Option<RawMedia>,
}

/// A call recording as the source describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawRecording {
    pub id: String,
    pub duration_seconds: Option<i64>,
    pub media: RawMedia,
}

/// Blind (cold) or attended (warm) transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferKind {
    Blind,
    Attended,
}

/// A transfer reported by the source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawTransfer {
    pub kind: TransferKind,
    /// Who transferred the call.
    pub by: RawParty,
    pub to: RawParty,
    /// The source's id of the call the transfer created (Zoom `transfer_call_id`).
    pub new_call_id: Option<String>,
}

/// Prefixes that keep call keys of different kinds apart (`cid:…`, `leg:…`).
pub mod keys {
    /// Kazoo Call-Interaction-ID.
    pub fn interaction(id: &str) -> String {
        format!("cid:{id}")
    }
    /// A leg (channel) id; Kazoo Bridge-ID and Member-Call-ID are leg ids too.
    pub fn leg(id: &str) -> String {
        format!("leg:{id}")
    }
    /// A call id the source uses for the whole call (Zoom call_id, Zorio call_uuid).
    pub fn call(id: &str) -> String {
        format!("call:{id}")
    }
    /// A park slot: only a parked call answers to it.
    pub fn park(slot: &str) -> String {
        format!("park:{slot}")
    }
    /// The key without its prefix, as shown to subscribers (`source_call_id`).
    pub fn display(key: &str) -> &str {
        key.split_once(':').map_or(key, |(_, rest)| rest)
    }
}

impl RawCallEvent {
    /// An event with no parties, keys or details yet; adapters fill in what they know.
    pub fn new(source: SourceKind, kind: RawEventKind, source_event: &str) -> Self {
        RawCallEvent {
            source,
            dedupe_key: String::new(),
            source_event: source_event.to_owned(),
            kind,
            call_keys: Vec::new(),
            related_keys: Vec::new(),
            leg: None,
            occurred_at: None,
            caller: RawParty::default(),
            callee: RawParty::default(),
            actor: None,
            hangup: None,
            timing: RawTiming::default(),
            park_slot: None,
            queue: None,
            transfer: None,
            line: None,
            voicemail: None,
            recording: None,
            request_id: None,
            custom_vars: BTreeMap::new(),
        }
    }

    /// The keys to look the call up by, in order: storage loads the call of the first key it
    /// knows, or starts a new call under the first key. A park retrieval is looked up by its slot
    /// first, because Kazoo also reports it on the retriever's own leg.
    pub fn lookup_keys(&self) -> Vec<String> {
        let park = match (self.kind, &self.park_slot) {
            (
                RawEventKind::ParkRetrieved
                | RawEventKind::ParkAbandoned
                | RawEventKind::ParkTimedOut,
                Some(slot),
            ) => Some(keys::park(slot)),
            _ => None,
        };
        park.into_iter()
            .chain(self.call_keys.iter().cloned())
            .chain(self.related_keys.iter().cloned())
            .collect()
    }

    /// Source-side user references this event mentions, so storage can load just those
    /// directory entries before calling the normalizer.
    pub fn user_refs(&self) -> Vec<&RawParty> {
        let mut parties = vec![&self.caller, &self.callee];
        parties.extend(self.actor.as_ref());
        if let Some(agent) = self.queue.as_ref().and_then(|q| q.agent.as_ref()) {
            parties.push(agent);
        }
        if let Some(t) = &self.transfer {
            parties.push(&t.by);
            parties.push(&t.to);
        }
        parties.retain(|p| !p.is_empty());
        parties
    }
}
