//! Asterisk Manager Interface events into raw call events.
//!
//! Correlation: `Linkedid` (the Uniqueid of the oldest channel of the call) is the call; each
//! channel's `Uniqueid` is a leg. The call's first channel (`Uniqueid == Linkedid`) is the
//! caller's leg; every channel a `Dial` (or app_queue) rings is a callee leg.
//!
//! Local channels come in halves: `;1` is what the dialling side sees, `;2` runs the dialplan
//! inside. Only `;1` stands for a party; events of `;2` halves are dropped, except that a `;2`
//! half may itself dial a real phone, whose leg is kept.
//!
//! Users are named by the endpoint in the channel name (`PJSIP/1001-00000066` → link id
//! `PJSIP/1001`, extension `1001`; `Local/1001@phones-…;1` → `Local/1001@phones`, `1001`), so
//! an operator links a user with `--link SRC:PJSIP/1001` or relies on the extension.
//!
//! AMI is one ordered stream, so a [`AmiTranslator`] remembers how each dial ended (the
//! `DialEnd` status says busy / no answer / cancelled; the later `Hangup` cause often just says
//! "Normal Clearing"). After a reconnect it starts empty and the hang-up cause decides.
//!
//! A caller waiting in a queue through a Local channel (the queue runs on the `;2` half) is
//! hung up before app_queue notices: real Asterisk sends the caller's `Hangup` first and
//! `QueueCallerAbandon` after it. The translator remembers who waits in which queue, so that
//! hang-up tells the abandon itself and the late `QueueCallerAbandon` is not told twice.

use chrono::{DateTime, TimeZone, Utc};
use std::collections::{HashMap, HashSet};

use super::asterisk_cdr;
use super::raw::{
    EndReason, LegRole, RawHangup, RawLeg, RawParty, RawQueue, RawTransfer, TransferKind, keys,
};
use super::{RawCallEvent, RawEventKind, body_hash};
use crate::domain::SourceKind;
use crate::pbx::ami_codec::AmiMessage;
use crate::pbx::recording_url::RecordingUrlTemplate;

#[path = "asterisk_media.rs"]
mod media;

/// Uniqueids of channels ringhook originates for click-to-call start with this, followed by
/// the request id (AMI `Originate` with `ChannelId`), so every event of the call names it.
pub const CLICK_TO_CALL_PREFIX: &str = "ringhook-";

/// The channel variable that carries the click-to-call request id (listed in `channelvars`).
pub const REQUEST_ID_VAR: &str = "RINGHOOK_REQUEST_ID";

/// Translates one connection's AMI events, in order.
#[derive(Debug, Default)]
pub struct AmiTranslator {
    /// How the dial of a ringing leg ended, by its Uniqueid, until that leg hangs up.
    dial_outcomes: HashMap<String, EndReason>,
    /// Callers waiting in a queue, by call (`Linkedid`), from joining until leaving it.
    waiting: HashMap<String, QueueWait>,
    /// Channels that picked up a parked call, until they hang up: their entering the bridge
    /// with it is the retrieval already told, not a new answer.
    retrievers: HashSet<String>,
    /// Calls (`Linkedid`) with a channel waiting in a parking lot. Asterisk may send the
    /// retriever's `BridgeEnter` before `UnParkedCall`: a channel of a parked call entering a
    /// basic bridge is its retriever, whichever comes first.
    parked_calls: HashSet<String>,
    /// Channels on hold: Asterisk also sends `Unhold` for a phone that never held (the
    /// transferer of a blind transfer), which is no resume.
    held: HashSet<String>,
    /// Who answered the dial each Local channel pair's inner half made, by the pair's name
    /// without its `;1`/`;2`: the party an attended transfer's target channel really reached
    /// (a DTMF transfer dials `Local/<exten>@<context>`, which dials the phone).
    answered_via_local: HashMap<String, RawParty>,
    /// Recordings `MixMonitor()` is writing, by the recorded channel's Uniqueid.
    recordings: HashMap<String, media::Recording>,
    /// Where the operator serves recording files; without it no recording is told.
    recording_urls: Option<RecordingUrlTemplate>,
    /// The call (`Linkedid`) of each channel seen (`Uniqueid`), so that a `Cdr`, which names
    /// only its party A channel, finds the call the live events keyed.
    calls: asterisk_cdr::ChannelCalls,
}

/// A caller in a queue, as its `QueueCallerJoin` said.
#[derive(Debug)]
struct QueueWait {
    queue: String,
    joined_at: Option<DateTime<Utc>>,
    /// The abandon was already told (by the caller's hang-up or by `QueueCallerAbandon`).
    abandoned: bool,
}

/// A channel block of an event: the plain one, or one with a prefix (`Dest`, `Parkee`, ...).
struct Channel<'a> {
    msg: &'a AmiMessage,
    prefix: &'static str,
}

impl<'a> Channel<'a> {
    fn of(msg: &'a AmiMessage, prefix: &'static str) -> Option<Self> {
        let channel = Channel { msg, prefix };
        channel.field("Uniqueid").map(|_| channel)
    }

    fn field(&self, name: &str) -> Option<&'a str> {
        let value = if self.prefix.is_empty() {
            self.msg.get(name)
        } else {
            self.msg.get(&format!("{}{name}", self.prefix))
        };
        value
            .map(str::trim)
            .filter(|v| !v.is_empty() && *v != "<unknown>")
    }

    fn uniqueid(&self) -> &'a str {
        self.field("Uniqueid").unwrap_or_default()
    }

    fn linkedid(&self) -> Option<&'a str> {
        self.field("Linkedid")
    }

    fn name(&self) -> &'a str {
        self.field("Channel").unwrap_or_default()
    }

    /// The inner half of a Local channel pair.
    fn is_local_inner_half(&self) -> bool {
        self.name().starts_with("Local/") && self.name().ends_with(";2")
    }

    /// The call's first channel: the caller's leg (or the leg ringhook originated).
    fn is_first(&self) -> bool {
        self.linkedid() == Some(self.uniqueid())
    }

    fn caller_id(&self) -> RawParty {
        RawParty {
            name: self.field("CallerIDName").map(str::to_owned),
            number: self.field("CallerIDNum").map(str::to_owned),
            ..Default::default()
        }
    }

    /// The phone this channel rings or comes from, named by its endpoint.
    fn endpoint_party(&self) -> RawParty {
        let (endpoint, extension) = endpoint_of(self.name());
        let own_number = self
            .field("CallerIDNum")
            .filter(|n| extension.as_deref() == Some(*n));
        RawParty {
            name: own_number.and(self.field("CallerIDName").map(str::to_owned)),
            number: extension.clone(),
            extension,
            external_user_id: endpoint,
        }
    }

    /// The caller's identity: the caller id, plus the endpoint when a phone of the PBX dials.
    fn calling_party(&self) -> RawParty {
        let (endpoint, extension) = endpoint_of(self.name());
        RawParty {
            extension,
            external_user_id: endpoint,
            ..self.caller_id()
        }
    }

    fn request_id(&self) -> Option<String> {
        request_id_of(self.linkedid()).or_else(|| request_id_of(Some(self.uniqueid())))
    }
}

/// `PJSIP/1001-00000066` → (`PJSIP/1001`, `1001`); `Local/1001@phones-00000001;1` →
/// (`Local/1001@phones`, `1001`). The extension is given only when it is a short number.
pub fn endpoint_of(channel: &str) -> (Option<String>, Option<String>) {
    let without_half = channel
        .strip_suffix(";1")
        .or_else(|| channel.strip_suffix(";2"))
        .unwrap_or(channel);
    let endpoint = match without_half.rsplit_once('-') {
        Some((base, suffix)) if suffix.bytes().all(|b| b.is_ascii_hexdigit()) => base,
        _ => without_half,
    };
    if endpoint.is_empty() || !endpoint.contains('/') {
        return (None, None);
    }
    let resource = endpoint.split_once('/').map_or("", |(_, r)| r);
    let user = resource.split('@').next().unwrap_or_default();
    let extension =
        (!user.is_empty() && user.len() <= 6 && user.bytes().all(|b| b.is_ascii_digit()))
            .then(|| user.to_owned());
    (Some(endpoint.to_owned()), extension)
}

fn request_id_of(id: Option<&str>) -> Option<String> {
    let rest = id?.strip_prefix(CLICK_TO_CALL_PREFIX)?;
    let request = rest.split(';').next().unwrap_or(rest);
    let request = request.strip_suffix("-far").unwrap_or(request);
    (!request.is_empty()).then(|| request.to_owned())
}

/// `Timestamp: 1717423200.120000` (manager.conf `timestampevents = yes`).
fn timestamp(msg: &AmiMessage) -> Option<DateTime<Utc>> {
    let raw = msg.get("Timestamp")?;
    let (secs, frac) = raw.split_once('.').unwrap_or((raw, "0"));
    let secs: i64 = secs.parse().ok()?;
    let micros: u32 = format!("{frac:0<6}").get(..6)?.parse().ok()?;
    Utc.timestamp_opt(secs, micros * 1000).single()
}

/// Q.850 causes as Asterisk reports them in `Hangup`.
fn reason_from_cause(cause: Option<&str>) -> EndReason {
    match cause.and_then(|c| c.parse::<u16>().ok()) {
        Some(17) => EndReason::Busy,
        Some(18 | 19) => EndReason::NoAnswer,
        Some(21) => EndReason::Rejected,
        Some(26) => EndReason::LoseRace,
        Some(1..=3 | 27 | 34 | 38 | 41 | 42 | 44 | 58) => EndReason::Failed,
        _ => EndReason::Normal,
    }
}

/// `DialEnd`'s `DialStatus`; `None` for answered or still-going dials.
fn reason_from_dial_status(status: &str) -> Option<EndReason> {
    match status {
        "BUSY" => Some(EndReason::Busy),
        "NOANSWER" => Some(EndReason::NoAnswer),
        "CANCEL" | "ABORT" => Some(EndReason::CallerCancelled),
        "CONGESTION" | "CHANUNAVAIL" => Some(EndReason::Failed),
        _ => None,
    }
}

impl AmiTranslator {
    pub fn new() -> Self {
        AmiTranslator::default()
    }

    /// A translator that tells of `MixMonitor()` recordings, fetched at `urls`.
    pub fn with_recording_urls(urls: Option<RecordingUrlTemplate>) -> Self {
        AmiTranslator {
            recording_urls: urls,
            ..AmiTranslator::default()
        }
    }

    /// The raw call events one AMI event stands for; empty for events ringhook does not use.
    pub fn translate(&mut self, msg: &AmiMessage) -> Vec<RawCallEvent> {
        let Some(name) = msg.event() else {
            return Vec::new();
        };
        self.calls.observe(msg, name);
        if name == "Cdr" {
            return asterisk_cdr::cdr(msg, &self.calls).into_iter().collect();
        }
        let events = match name {
            "Newchannel" => self.new_channel(msg),
            "Newstate" => self.new_state(msg),
            "DialBegin" => self.dial_begin(msg),
            "DialEnd" => self.dial_end(msg),
            "BridgeEnter" => self.bridge_enter(msg),
            "Hangup" => {
                let mut drafts = self.hangup(msg);
                drafts.extend(self.recording_stopped(msg));
                drafts
            }
            "MixMonitorStart" => self.recording_started(msg),
            "MixMonitorStop" => self.recording_stopped(msg),
            "Hold" | "Unhold" => self.hold(msg, name),
            "QueueCallerJoin" => self.queue_join(msg),
            "QueueCallerLeave" => self.queue_leave(msg),
            "AgentCalled" => agent_called(msg),
            "AgentConnect" => {
                self.queue_leave(msg);
                agent_connect(msg)
            }
            "AgentRingNoAnswer" => agent_no_answer(msg),
            "AgentComplete" => agent_complete(msg),
            "QueueCallerAbandon" => self.queue_abandon(msg),
            "UnParkedCall" => {
                if let Some(retriever) = Channel::of(msg, "Retriever") {
                    self.retrievers.insert(retriever.uniqueid().to_owned());
                }
                self.track_parked(msg, false);
                park(msg, name)
            }
            "ParkedCall" => {
                self.track_parked(msg, true);
                park(msg, name)
            }
            "ParkedCallTimeOut" | "ParkedCallGiveUp" => {
                self.track_parked(msg, false);
                park(msg, name)
            }
            "BlindTransfer" => blind_transfer(msg),
            "AttendedTransfer" => self.attended_transfer(msg),
            "MessageWaiting" => media::voicemail(msg),
            _ => Vec::new(),
        };
        finish(msg, name, events)
    }

    fn new_channel(&mut self, msg: &AmiMessage) -> Vec<Draft> {
        let Some(ch) = Channel::of(msg, "") else {
            return Vec::new();
        };
        if !ch.is_first() || ch.is_local_inner_half() {
            return Vec::new();
        }
        let mut d = Draft::on(&ch, RawEventKind::LegCreated, LegRole::Caller);
        d.event.callee = RawParty {
            number: ch.field("Exten").map(str::to_owned),
            ..Default::default()
        };
        vec![d]
    }

    /// The PBX (or the device, for click-to-call) answered the caller's leg.
    fn new_state(&mut self, msg: &AmiMessage) -> Vec<Draft> {
        match Channel::of(msg, "") {
            Some(ch) if ch.is_first() && ch.field("ChannelStateDesc") == Some("Up") => {
                vec![Draft::on(&ch, RawEventKind::LegAnswered, LegRole::Caller)]
            }
            _ => Vec::new(),
        }
    }

    fn dial_begin(&mut self, msg: &AmiMessage) -> Vec<Draft> {
        let Some(dest) = Channel::of(msg, "Dest") else {
            return Vec::new();
        };
        let caller = Channel::of(msg, "");
        // Originate rings its own channel without a dialling side: that is the caller's leg
        // (or ringhook's click-to-call leg), already announced by its Newchannel.
        if caller.is_none() && dest.is_first() {
            return Vec::new();
        }
        let mut d = Draft::on(&dest, RawEventKind::LegCreated, LegRole::Callee);
        d.ringing(caller.as_ref(), &dest);
        vec![d]
    }

    fn dial_end(&mut self, msg: &AmiMessage) -> Vec<Draft> {
        let Some(dest) = Channel::of(msg, "Dest") else {
            return Vec::new();
        };
        let caller = Channel::of(msg, "");
        if caller.is_none() && dest.is_first() {
            return Vec::new();
        }
        let status = msg.get("DialStatus").unwrap_or_default();
        if status == "ANSWER" {
            if let Some(through) = caller.as_ref().filter(|c| c.is_local_inner_half()) {
                self.answered_via_local
                    .insert(local_pair(through.name()).to_owned(), dest.endpoint_party());
            }
            let mut d = Draft::on(&dest, RawEventKind::LegAnswered, LegRole::Callee);
            d.ringing(caller.as_ref(), &dest);
            return vec![d];
        }
        if let Some(reason) = reason_from_dial_status(status) {
            self.dial_outcomes
                .insert(dest.uniqueid().to_owned(), reason);
        }
        Vec::new()
    }

    /// Notes whether the parkee's call is in a parking lot now.
    fn track_parked(&mut self, msg: &AmiMessage, parked: bool) {
        let Some(call) = Channel::of(msg, "Parkee").and_then(|p| p.linkedid()) else {
            return;
        };
        if parked {
            self.parked_calls.insert(call.to_owned());
        } else {
            self.parked_calls.remove(call);
        }
    }

    /// A callee's channel entering a two-party bridge: it talks (covers answers without a
    /// DialEnd, such as pickups). Holding bridges (parking, queue music) are not answers, nor
    /// is the retriever of a parked call joining it.
    fn bridge_enter(&mut self, msg: &AmiMessage) -> Vec<Draft> {
        let Some(ch) = Channel::of(msg, "") else {
            return Vec::new();
        };
        let basic = msg.get("BridgeType").is_none_or(|t| t == "basic");
        let call_is_parked = ch
            .linkedid()
            .is_some_and(|call| self.parked_calls.contains(call));
        if basic && call_is_parked && !ch.is_first() {
            self.retrievers.insert(ch.uniqueid().to_owned());
        }
        let retriever = self.retrievers.contains(ch.uniqueid());
        if !basic || retriever || ch.is_first() || ch.is_local_inner_half() {
            return Vec::new();
        }
        let mut d = Draft::on(&ch, RawEventKind::LegBridged, LegRole::Callee);
        d.event.callee = ch.endpoint_party();
        vec![d]
    }

    fn hangup(&mut self, msg: &AmiMessage) -> Vec<Draft> {
        let Some(ch) = Channel::of(msg, "") else {
            return Vec::new();
        };
        let dialled = self.dial_outcomes.remove(ch.uniqueid());
        self.retrievers.remove(ch.uniqueid());
        if ch.is_first() {
            self.parked_calls.remove(ch.uniqueid());
        }
        self.held.remove(ch.uniqueid());
        // The outer half is the one a transfer names; once it is gone, so is the pair.
        if ch.name().starts_with("Local/") && ch.name().ends_with(";1") {
            self.answered_via_local.remove(local_pair(ch.name()));
        }
        if ch.is_local_inner_half() {
            return Vec::new();
        }
        let cause = msg.get("Cause");
        let role = if ch.is_first() {
            LegRole::Caller
        } else {
            LegRole::Callee
        };
        let mut d = Draft::on(&ch, RawEventKind::LegEnded, role);
        let reason = match (role, dialled, reason_from_cause(cause)) {
            (_, _, EndReason::LoseRace) => EndReason::LoseRace,
            (LegRole::Callee, Some(dialled), _) => dialled,
            (_, _, from_cause) => from_cause,
        };
        d.event.hangup = Some(RawHangup {
            reason,
            cause: msg.get("Cause-txt").map(str::to_owned),
        });
        d.event.timing.ended_at = timestamp(msg);
        if role == LegRole::Callee {
            d.event.callee = ch.endpoint_party();
            return vec![d];
        }
        d.event.caller = ch.calling_party();
        match self.abandon_on_hangup(&ch) {
            Some(abandon) => {
                d.event.hangup = Some(abandoned());
                vec![abandon, d]
            }
            None => vec![d],
        }
    }

    /// A hold, or the end of one this connection saw begin.
    fn hold(&mut self, msg: &AmiMessage, name: &str) -> Vec<Draft> {
        let Some(ch) = Channel::of(msg, "") else {
            return Vec::new();
        };
        let was_held = if name == "Hold" {
            self.held.insert(ch.uniqueid().to_owned());
            true
        } else {
            self.held.remove(ch.uniqueid())
        };
        if was_held {
            hold(msg, name)
        } else {
            Vec::new()
        }
    }

    fn queue_join(&mut self, msg: &AmiMessage) -> Vec<Draft> {
        let Some(mut d) = member_draft(msg, RawEventKind::Queued) else {
            return Vec::new();
        };
        let joined_at = timestamp(msg);
        d.event.queue = queue_of(msg, joined_at);
        if let (Some(ch), Some(queue)) = (Channel::of(msg, ""), msg.get("Queue")) {
            self.waiting.insert(
                call_of(&ch).to_owned(),
                QueueWait {
                    queue: queue.to_owned(),
                    joined_at,
                    abandoned: false,
                },
            );
        }
        vec![d]
    }

    /// The caller left the queue (answered, abandoned, timed out): nothing more to remember.
    fn queue_leave(&mut self, msg: &AmiMessage) -> Vec<Draft> {
        if let Some(ch) = Channel::of(msg, "") {
            self.waiting.remove(call_of(&ch));
        }
        Vec::new()
    }

    fn queue_abandon(&mut self, msg: &AmiMessage) -> Vec<Draft> {
        let wait = Channel::of(msg, "").and_then(|ch| self.waiting.get_mut(call_of(&ch)));
        match wait {
            Some(wait) if wait.abandoned => Vec::new(),
            Some(wait) => {
                wait.abandoned = true;
                queue_abandon(msg)
            }
            None => queue_abandon(msg),
        }
    }

    /// The caller's leg hanging up while the call still waits in a queue: the abandon the
    /// later `QueueCallerAbandon` would tell, told now so it comes before the call ends.
    fn abandon_on_hangup(&mut self, caller: &Channel<'_>) -> Option<Draft> {
        let wait = self.waiting.get_mut(call_of(caller))?;
        if wait.abandoned {
            return None;
        }
        wait.abandoned = true;
        let mut d = Draft::on(caller, RawEventKind::QueueAbandoned, LegRole::Caller);
        d.part = ":abandon";
        d.event.queue = Some(RawQueue {
            id: Some(wait.queue.clone()),
            name: Some(wait.queue.clone()),
            entered_at: wait.joined_at,
            agent: None,
            abandon_reason: None,
        });
        Some(d)
    }
}

impl AmiTranslator {
    /// The transferer's two calls were joined: the transferee now talks to the target. The
    /// target channel may be a Local channel the transfer dialled; then the phone its inner
    /// half reached is the target.
    fn attended_transfer(&mut self, msg: &AmiMessage) -> Vec<Draft> {
        let Some(by) = Channel::of(msg, "OrigTransferer") else {
            return Vec::new();
        };
        if msg.get("Result").is_some_and(|r| r != "Success") {
            return Vec::new();
        }
        let mut d = Draft::on(&by, RawEventKind::TransferCompleted, LegRole::Callee);
        d.event.leg = None;
        // The consultation call the transferer made (its own Linkedid) joins this one.
        let new_call_id = Channel::of(msg, "SecondTransferer")
            .and_then(|c| c.linkedid())
            .map(str::to_owned);
        if let Some(second) = &new_call_id {
            d.event.related_keys.push(keys::call(second));
        }
        let to = Channel::of(msg, "TransferTarget")
            .map(|t| {
                self.answered_via_local
                    .get(local_pair(t.name()))
                    .cloned()
                    .unwrap_or_else(|| t.endpoint_party())
            })
            .unwrap_or_default();
        d.event.transfer = Some(RawTransfer {
            kind: TransferKind::Attended,
            by: by.endpoint_party(),
            to,
            // The same call when the transfer dialled from inside it (DTMF `atxfer`).
            new_call_id: new_call_id.filter(|id| Some(id.as_str()) != by.linkedid()),
        });
        vec![d]
    }
}

/// A Local channel's name without its half: `Local/2@xfer-00000002;1` → `Local/2@xfer-00000002`.
fn local_pair(name: &str) -> &str {
    name.strip_suffix(";1")
        .or_else(|| name.strip_suffix(";2"))
        .unwrap_or(name)
}

/// The call a channel belongs to.
fn call_of<'a>(ch: &Channel<'a>) -> &'a str {
    ch.linkedid().unwrap_or(ch.uniqueid())
}

/// How a caller's leg ends when it leaves a queue unanswered.
fn abandoned() -> RawHangup {
    RawHangup {
        reason: EndReason::CallerCancelled,
        cause: Some("Abandoned".into()),
    }
}

/// An event being built, before its dedupe key and common fields are set.
struct Draft {
    event: RawCallEvent,
    /// Distinguishes the several raw events one AMI event may stand for.
    part: &'static str,
}

impl Draft {
    fn on(ch: &Channel<'_>, kind: RawEventKind, role: LegRole) -> Draft {
        let mut event = RawCallEvent::new(SourceKind::Asterisk, kind, "");
        let call = ch.linkedid().unwrap_or(ch.uniqueid());
        event.call_keys = vec![keys::call(call)];
        let click_to_call = ch.is_first() && request_id_of(Some(ch.uniqueid())).is_some();
        event.leg = Some(RawLeg {
            id: ch.uniqueid().to_owned(),
            role,
            other_leg: None,
            is_agent: false,
            click_to_call,
        });
        // The inner half of a Local pair is no leg of its own: its outer half is.
        if ch.is_local_inner_half() {
            event.leg = None;
        }
        event.request_id = ch.request_id();
        if click_to_call || role == LegRole::Caller {
            event.caller = ch.calling_party();
        }
        if click_to_call {
            // The device leg rings the requesting user: its endpoint is the user, not the
            // caller id ringhook set to show the target.
            event.caller = ch.endpoint_party();
        }
        Draft { event, part: "" }
    }

    /// A callee leg rung by `caller`'s channel.
    fn ringing(&mut self, caller: Option<&Channel<'_>>, dest: &Channel<'_>) {
        if let Some(caller) = caller {
            self.event.caller = caller.calling_party();
            if let Some(leg) = self.event.leg.as_mut() {
                leg.other_leg = Some(caller.uniqueid().to_owned());
            }
            self.event.related_keys = vec![keys::leg(caller.uniqueid())];
        }
        let mut callee = dest.endpoint_party();
        if callee.extension.is_none() {
            // Not a phone of the PBX (a trunk, a Local channel to the outside): the number
            // dialled is in the dial string (`+12125550199@pstn`, `carrier/+12125550199`).
            let dialled = dest.msg.get("DialString").and_then(dialled_number);
            callee.number = dialled.or(callee.number);
        }
        self.event.callee = callee;
    }
}

/// The phone number in a `Dial` string: the user part of its last segment, when it is digits
/// with an optional leading `+`.
fn dialled_number(dial_string: &str) -> Option<String> {
    let last = dial_string.rsplit('/').next().unwrap_or(dial_string);
    let user = last.split('@').next().unwrap_or(last);
    let user = user.strip_prefix("sip:").unwrap_or(user);
    let digits = user.strip_prefix('+').unwrap_or(user);
    (digits.len() >= 3 && digits.bytes().all(|b| b.is_ascii_digit())).then(|| user.to_owned())
}

/// Sets what every event shares: time, name, dedupe key (the event's own content, so a
/// replayed event is recognised).
fn finish(msg: &AmiMessage, name: &str, drafts: Vec<Draft>) -> Vec<RawCallEvent> {
    let at = timestamp(msg);
    let digest = body_hash(msg.to_json().to_string().as_bytes());
    drafts
        .into_iter()
        .map(|mut d| {
            d.event.source_event = name.to_owned();
            d.event.occurred_at = at;
            d.event.dedupe_key = format!("ami:{name}{}:{digest}", d.part);
            if d.event.kind == RawEventKind::LegCreated {
                d.event.timing.started_at = at;
            }
            for var in msg.all("ChanVariable") {
                if let Some((k, v)) = var.split_once('=') {
                    d.event.custom_vars.insert(k.to_owned(), v.to_owned());
                }
            }
            if let Some(r) = d
                .event
                .custom_vars
                .get(REQUEST_ID_VAR)
                .filter(|r| !r.is_empty())
            {
                d.event.request_id.get_or_insert_with(|| r.clone());
            }
            d.event
        })
        .collect()
}

fn hold(msg: &AmiMessage, name: &str) -> Vec<Draft> {
    let Some(ch) = Channel::of(msg, "") else {
        return Vec::new();
    };
    let kind = if name == "Hold" {
        RawEventKind::Held
    } else {
        RawEventKind::Resumed
    };
    let mut d = Draft::on(&ch, kind, LegRole::Callee);
    d.event.leg = None;
    d.event.actor = Some(ch.endpoint_party());
    vec![d]
}

fn queue_of(msg: &AmiMessage, entered_at: Option<DateTime<Utc>>) -> Option<RawQueue> {
    let queue = msg.get("Queue")?.to_owned();
    Some(RawQueue {
        id: Some(queue.clone()),
        name: Some(queue),
        entered_at,
        agent: None,
        abandon_reason: None,
    })
}

/// The member (caller) side of an app_queue event.
fn member_draft(msg: &AmiMessage, kind: RawEventKind) -> Option<Draft> {
    let ch = Channel::of(msg, "")?;
    let mut d = Draft::on(&ch, kind, LegRole::Caller);
    d.event.caller = ch.calling_party();
    d.event.queue = queue_of(msg, None);
    Some(d)
}

/// The agent (`Dest…`) side of an app_queue event: a callee leg that is an agent's.
fn agent_draft(msg: &AmiMessage, kind: RawEventKind) -> Option<Draft> {
    let member = Channel::of(msg, "")?;
    let agent = Channel::of(msg, "Dest")?;
    let mut d = Draft::on(&agent, kind, LegRole::Callee);
    d.ringing(Some(&member), &agent);
    d.event.call_keys = vec![keys::call(member.linkedid().unwrap_or(member.uniqueid()))];
    if let Some(leg) = d.event.leg.as_mut() {
        leg.is_agent = true;
    }
    d.event.queue = queue_of(msg, None);
    Some(d)
}

fn agent_called(msg: &AmiMessage) -> Vec<Draft> {
    agent_draft(msg, RawEventKind::LegCreated)
        .into_iter()
        .collect()
}

fn agent_connect(msg: &AmiMessage) -> Vec<Draft> {
    let Some(mut d) = agent_draft(msg, RawEventKind::QueueAnswered) else {
        return Vec::new();
    };
    let agent = d.event.callee.clone();
    if let Some(q) = d.event.queue.as_mut() {
        q.agent = Some(agent);
    }
    d.event.leg = None;
    vec![d]
}

fn agent_no_answer(msg: &AmiMessage) -> Vec<Draft> {
    let Some(mut d) = agent_draft(msg, RawEventKind::LegEnded) else {
        return Vec::new();
    };
    d.event.hangup = Some(RawHangup {
        reason: EndReason::NoAnswer,
        cause: Some("RingNoAnswer".into()),
    });
    d.event.timing.ended_at = timestamp(msg);
    vec![d]
}

/// The agent's talk ended; `Reason: caller` means the caller hung up too.
fn agent_complete(msg: &AmiMessage) -> Vec<Draft> {
    let Some(mut agent) = agent_draft(msg, RawEventKind::LegEnded) else {
        return Vec::new();
    };
    let ended = RawHangup {
        reason: EndReason::Normal,
        cause: Some(format!("{} hung up", msg.get("Reason").unwrap_or("agent"))),
    };
    agent.event.hangup = Some(ended.clone());
    agent.event.timing.ended_at = timestamp(msg);
    let mut out = vec![agent];
    if msg.get("Reason") == Some("caller")
        && let Some(mut member) = member_draft(msg, RawEventKind::LegEnded)
    {
        member.part = ":member";
        member.event.hangup = Some(ended);
        member.event.timing.ended_at = timestamp(msg);
        out.push(member);
    }
    out
}

/// The caller hung up while waiting: the queue was abandoned and the caller's leg is over.
fn queue_abandon(msg: &AmiMessage) -> Vec<Draft> {
    let Some(abandon) = member_draft(msg, RawEventKind::QueueAbandoned) else {
        return Vec::new();
    };
    let Some(mut left) = member_draft(msg, RawEventKind::LegEnded) else {
        return vec![abandon];
    };
    left.part = ":member";
    left.event.hangup = Some(abandoned());
    left.event.timing.ended_at = timestamp(msg);
    vec![abandon, left]
}

/// res_parking: the parked call is the `Parkee…` channel; the parker is named by its dial
/// string, the retriever by its channel.
fn park(msg: &AmiMessage, name: &str) -> Vec<Draft> {
    let Some(parkee) = Channel::of(msg, "Parkee") else {
        return Vec::new();
    };
    let kind = match name {
        "ParkedCall" => RawEventKind::Parked,
        "UnParkedCall" => RawEventKind::ParkRetrieved,
        "ParkedCallTimeOut" => RawEventKind::ParkTimedOut,
        _ => RawEventKind::ParkAbandoned,
    };
    let mut d = Draft::on(&parkee, kind, LegRole::Caller);
    d.event.caller = parkee.caller_id();
    d.event.park_slot = msg.get("ParkingSpace").map(str::to_owned);
    let parker = msg
        .get("ParkerDialString")
        .map(|s| endpoint_of(&format!("{s}-0")))
        .map(|(endpoint, extension)| RawParty {
            number: extension.clone(),
            extension,
            external_user_id: endpoint,
            ..Default::default()
        });
    match kind {
        RawEventKind::Parked => d.event.actor = parker,
        RawEventKind::ParkRetrieved => {
            // The retriever's own leg: the call learns who took it from the actor.
            if let Some(retriever) = Channel::of(msg, "Retriever") {
                d.event.actor = Some(retriever.endpoint_party());
                d.event.leg = Some(RawLeg {
                    id: retriever.uniqueid().to_owned(),
                    role: LegRole::Callee,
                    other_leg: Some(parkee.uniqueid().to_owned()),
                    is_agent: false,
                    click_to_call: false,
                });
            }
        }
        _ => d.event.callee = parker.unwrap_or_default(),
    }
    vec![d]
}

fn blind_transfer(msg: &AmiMessage) -> Vec<Draft> {
    let Some(by) = Channel::of(msg, "Transferer") else {
        return Vec::new();
    };
    if msg.get("Result").is_some_and(|r| r != "Success") {
        return Vec::new();
    }
    let mut d = Draft::on(&by, RawEventKind::TransferCompleted, LegRole::Callee);
    d.event.leg = None;
    let target = msg.get("Extension").map(str::to_owned);
    d.event.transfer = Some(RawTransfer {
        kind: TransferKind::Blind,
        by: by.endpoint_party(),
        to: RawParty {
            number: target.clone(),
            extension: target.filter(|t| t.len() <= 6 && t.bytes().all(|b| b.is_ascii_digit())),
            ..Default::default()
        },
        new_call_id: None,
    });
    vec![d]
}

#[cfg(test)]
#[path = "asterisk_tests.rs"]
mod tests;
