//! What the normalizer remembers about one call between events. Persisted as JSON by storage,
//! so fields only grow in ways old rows still deserialize (`#[serde(default)]`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

use crate::domain::{SourceId, SourceKind, TenantId, UserId};
use crate::ingest::raw::keys;
use crate::ingest::{EndReason, LegRole};

use super::config::NormalizerConfig;
use crate::ingest::{QueueAbandonReason as RawAbandon, RawMedia};

use super::model::{Line, ParkInfo, ParkOutcome, Party, PartyKind, QueueAbandonReason, QueueInfo};

/// Per-call state: legs, parties, park and queue progress, and which triggers were emitted.
/// What each topic does with it lives in that topic's file (`legs`, `park`, `queue`,
/// `transfer`, `hold`, `ending`); the facts several topics read are methods here.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallState {
    pub tenant_id: TenantId,
    pub source_id: SourceId,
    pub source: SourceKind,
    /// The key the call was created under; `call.id` and event ids derive from it.
    pub key: String,
    /// The best key seen, shown as `source_call_id` (interaction id over leg id).
    pub(crate) best_key: String,
    pub(crate) aliases: BTreeSet<String>,
    /// Dedupe keys of the raw events applied.
    pub(crate) seen: BTreeSet<String>,
    /// Trigger keys (type + subject) already emitted: each trigger goes out at most once.
    pub(crate) emitted: BTreeSet<String>,
    pub(crate) legs: BTreeMap<String, Leg>,
    pub(crate) caller: Option<Party>,
    /// The number dialled or the outside party of an outbound call.
    pub(crate) far_end: Option<Party>,
    /// The user who placed the call (outbound, internal, click-to-call).
    pub(crate) originator: Option<Party>,
    pub(crate) last_rung: Option<Party>,
    pub(crate) participants: BTreeSet<UserId>,
    pub(crate) request_id: Option<String>,
    pub(crate) started_at: Option<DateTime<Utc>>,
    pub(crate) answered_at: Option<DateTime<Utc>>,
    pub(crate) answered_by: Option<Party>,
    /// When the PBX (IVR, voicemail, queue) answered the caller's leg: not a human answer.
    pub(crate) pbx_answered_at: Option<DateTime<Utc>>,
    /// The source's own hangup cause (`call.hangup_cause_raw`).
    pub(crate) hangup_cause: Option<String>,
    pub(crate) voicemail: bool,
    /// The user whose voicemail a leg said the caller reached, before the message is known:
    /// `call.voicemail` waits for the message until the call settles.
    #[serde(default)]
    pub(crate) voicemail_pending: Option<(Party, DateTime<Utc>)>,
    /// The tenant's number the call used.
    #[serde(default)]
    pub(crate) line: Option<Line>,
    /// Audio files this call's events point at, by media id: where the source keeps them.
    #[serde(default)]
    pub(crate) media: BTreeMap<String, RawMedia>,
    /// The source's id of a call a transfer created.
    #[serde(default)]
    pub(crate) transfer_new_call: Option<String>,
    pub(crate) park: Option<ParkState>,
    pub(crate) queue: Option<QueueState>,
    /// A call record (CDR, call history) said the call is over.
    pub(crate) record_ended_at: Option<DateTime<Utc>>,
    /// When `call.ended` is due if nothing else arrives.
    pub(crate) settle_at: Option<DateTime<Utc>>,
    /// Receive time of the last event (closes calls whose end never arrives).
    pub(crate) last_activity: Option<DateTime<Utc>>,
    pub(crate) ended: bool,
}

/// One leg (channel) of the call, or one party's side where the source has no legs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Leg {
    pub role: LegRole,
    pub party: Option<Party>,
    pub is_agent: bool,
    pub click_to_call: bool,
    pub started_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub ended: bool,
    pub end_reason: Option<EndReason>,
    /// The user a caller-side leg was connected to when it ended.
    #[serde(default)]
    pub peer: Option<Party>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum ParkStatus {
    Parked,
    /// The parked leg reported its retrieval but not who took it; waits for the retriever.
    RetrievePending,
    Retrieved,
    Abandoned,
    /// Nobody took it in time; the PBX took it back.
    TimedOut,
}

impl ParkStatus {
    /// The park ended without anyone taking the call.
    pub(crate) fn is_lost(self) -> bool {
        matches!(self, Self::Abandoned | Self::TimedOut)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct ParkState {
    pub slot: String,
    pub status: ParkStatus,
    pub parked_leg: Option<String>,
    pub parked_by: Option<Party>,
    pub retrieved_by: Option<Party>,
    pub retrieved_at: Option<DateTime<Utc>>,
    /// A user the parked leg was last connected to (Kazoo's destroy of a retrieved call names
    /// the retriever as callee); fills in a retrieval reported without its retriever.
    #[serde(default)]
    pub last_peer: Option<Party>,
    /// Emit `call.unparked` without a retriever after this time.
    pub pending_until: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct QueueState {
    pub id: Option<String>,
    pub name: Option<String>,
    pub entered_at: Option<DateTime<Utc>>,
    pub agent: Option<Party>,
    pub answered_at: Option<DateTime<Utc>>,
    pub abandoned_at: Option<DateTime<Utc>>,
    /// When the caller's leg ended (an abandon if no agent answered).
    #[serde(default)]
    pub caller_left_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub abandon_reason: Option<RawAbandon>,
}

impl CallState {
    /// A call nothing is known about yet, created under `key` (the first of
    /// [`RawCallEvent::lookup_keys`](crate::ingest::RawCallEvent::lookup_keys)).
    pub fn new(tenant_id: TenantId, source_id: SourceId, source: SourceKind, key: &str) -> Self {
        CallState {
            tenant_id,
            source_id,
            source,
            key: key.to_owned(),
            best_key: key.to_owned(),
            aliases: BTreeSet::from([key.to_owned()]),
            seen: BTreeSet::new(),
            emitted: BTreeSet::new(),
            legs: BTreeMap::new(),
            caller: None,
            far_end: None,
            originator: None,
            last_rung: None,
            participants: BTreeSet::new(),
            request_id: None,
            started_at: None,
            answered_at: None,
            answered_by: None,
            pbx_answered_at: None,
            hangup_cause: None,
            voicemail: false,
            voicemail_pending: None,
            line: None,
            media: BTreeMap::new(),
            transfer_new_call: None,
            park: None,
            queue: None,
            record_ended_at: None,
            settle_at: None,
            last_activity: None,
            ended: false,
        }
    }

    /// Every key this call should be found under: storage maps each to this call, replacing
    /// older mappings of the same key (a park slot moves to the call parked in it last).
    pub fn aliases(&self) -> Vec<String> {
        let park_prefix = keys::park("");
        let mut all: Vec<String> = self
            .aliases
            .iter()
            .filter(|k| !k.starts_with(&park_prefix))
            .cloned()
            .collect();
        if let (Some(park), false) = (&self.park, self.ended) {
            all.push(keys::park(&park.slot));
        }
        all
    }

    /// The earliest time [`settle`](super::settle) has something to do, `None` once ended.
    /// Storage indexes this to find calls to settle.
    pub fn due_at(&self, config: &NormalizerConfig) -> Option<DateTime<Utc>> {
        if self.ended {
            return None;
        }
        let pending = self.park.as_ref().and_then(|p| p.pending_until);
        let stale = self.last_activity.map(|t| t + config.stale_after);
        [self.settle_at, pending, stale].into_iter().flatten().min()
    }

    /// Whether `call.ended` was emitted (or the call closed silently): nothing more will come.
    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// Users that take part in the call so far.
    pub fn participants(&self) -> &BTreeSet<UserId> {
        &self.participants
    }

    /// Whether the call went through a named queue (not merely a caller leg that ended).
    pub(crate) fn is_queue_call(&self) -> bool {
        self.queue
            .as_ref()
            .is_some_and(|q| q.id.is_some() || q.name.is_some())
    }

    /// Remembers the keys an event names, and shows the most telling one as the call's id
    /// (interaction id over call id over leg id).
    pub(crate) fn record_keys(&mut self, call_keys: &[String]) {
        for key in call_keys {
            self.aliases.insert(key.clone());
        }
        let rank = |k: &str| match k.split_once(':').map(|(p, _)| p) {
            Some("cid") => 0,
            Some("call") => 1,
            _ => 2,
        };
        if let Some(best) = call_keys.iter().min_by_key(|k| rank(k))
            && rank(best) < rank(&self.best_key)
        {
            self.best_key = best.clone();
        }
    }

    /// Who is on leg `leg_id`, unknown if the leg or its party is not known yet.
    pub(crate) fn leg_party(&self, leg_id: &str) -> Party {
        self.legs
            .get(leg_id)
            .and_then(|l| l.party.clone())
            .unwrap_or_else(Party::unknown)
    }

    /// Whether `party` is the user who placed the call.
    pub(crate) fn is_originator(&self, party: &Party) -> bool {
        self.originator
            .as_ref()
            .is_some_and(|o| o.user_id == party.user_id)
    }

    /// When the caller started waiting in the queue: the queue's own entry time, else the PBX
    /// answering the caller, else the call's start.
    pub(crate) fn queue_entered_at(&self) -> Option<DateTime<Utc>> {
        self.queue
            .as_ref()
            .and_then(|q| q.entered_at)
            .or(self.pbx_answered_at)
            .or(self.started_at)
    }
}

impl Leg {
    /// A leg seen for the first time, in `role`; the rest accumulates from its events.
    pub(crate) fn new(role: LegRole) -> Self {
        Leg {
            role,
            party: None,
            is_agent: false,
            click_to_call: false,
            started_at: None,
            answered_at: None,
            ended_at: None,
            ended: false,
            end_reason: None,
            peer: None,
        }
    }
}

impl ParkState {
    /// A park first seen in `slot`, parked until an event says otherwise.
    pub(crate) fn new(slot: String) -> Self {
        ParkState {
            slot,
            status: ParkStatus::Parked,
            parked_leg: None,
            parked_by: None,
            retrieved_by: None,
            retrieved_at: None,
            last_peer: None,
            pending_until: None,
        }
    }

    /// The park as subscribers see it.
    pub(crate) fn info(&self) -> ParkInfo {
        let outcome = match self.status {
            ParkStatus::Retrieved => Some(ParkOutcome::Retrieved),
            ParkStatus::Abandoned => Some(ParkOutcome::Abandoned),
            ParkStatus::TimedOut => Some(ParkOutcome::TimedOut),
            ParkStatus::Parked | ParkStatus::RetrievePending => None,
        };
        ParkInfo {
            slot: self.slot.clone(),
            parked_by: self.parked_by.clone(),
            retrieved_by: self.retrieved_by.clone(),
            outcome,
        }
    }
}

impl QueueState {
    /// The queue as a party: who a queued call "rings" before an agent takes it.
    pub(crate) fn party(&self) -> Party {
        Party {
            kind: PartyKind::Queue,
            name: self.name.clone(),
            ..Party::unknown()
        }
    }

    /// The queue as subscribers see it; the wait runs from `entered` to `wait_until`.
    pub(crate) fn info(
        &self,
        wait_until: Option<DateTime<Utc>>,
        entered: Option<DateTime<Utc>>,
    ) -> QueueInfo {
        QueueInfo {
            id: self.id.clone(),
            name: self.name.clone(),
            wait_seconds: wait_until
                .zip(entered)
                .map(|(w, e)| (w - e).num_seconds().max(0)),
            agent: self.agent.clone(),
            abandon_reason: None,
        }
    }

    /// Why the caller left: what the queue said, else they hung up.
    pub(crate) fn abandon_reason(&self) -> QueueAbandonReason {
        match self.abandon_reason {
            Some(RawAbandon::Timeout) => QueueAbandonReason::Timeout,
            Some(RawAbandon::Exit) => QueueAbandonReason::Exit,
            Some(RawAbandon::CallerHungUp) | None => QueueAbandonReason::CallerHungUp,
        }
    }
}
