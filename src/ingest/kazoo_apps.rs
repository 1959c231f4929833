//! Kazoo payloads that are not channel hooks: `parking` (PARK_PARKED/RETRIEVED/ABANDONED, no
//! timestamp and no `hook_event`), `notifications` (`voicemail_new`), ACDc `acdc_call_stat`
//! messages relayed from the bus (Title-Case keys) and queue `notifications` HTTP calls
//! (`call_state` pickup/hangup). Anything else is ignored, not refused.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::json::{gregorian, int, text};
use super::raw::{
    LegRole, QueueAbandonReason, RawLeg, RawMedia, RawParty, RawQueue, RawVoicemail, keys,
};
use super::{IngestError, Parsed, RawCallEvent, RawEventKind, body_hash};
use crate::domain::SourceKind;

/// Parses a non-channel Kazoo payload.
pub fn parse(v: &Value, body: &[u8], now: DateTime<Utc>) -> Result<Parsed, IngestError> {
    if text(v, "Event-Category").as_deref() == Some("acdc_call_stat") {
        return acdc_stat(v);
    }
    if let Some(action) = text(v, "action") {
        // Blackhole control frames (subscribe, reply): nothing happened to a call.
        return Ok(Parsed::Ignored {
            event: format!("blackhole.{action}"),
        });
    }
    if let Some(state) = text(v, "call_state") {
        return queue_notification(v, &state, now);
    }
    let Some(name) = text(v, "event_name") else {
        return Err(IngestError::Malformed(
            "Kazoo body has neither hook_event nor event_name".into(),
        ));
    };
    match name.as_str() {
        "PARK_PARKED" | "PARK_RETRIEVED" | "PARK_ABANDONED" => parking(v, &name, body),
        "voicemail_new" => voicemail(v, &name),
        _ => Ok(Parsed::Ignored { event: name }),
    }
}

fn required(v: &Value, key: &str, what: &str) -> Result<String, IngestError> {
    text(v, key).ok_or_else(|| IngestError::Malformed(format!("{what} has no {key}")))
}

fn party(v: &Value, name: &str, number: &str) -> RawParty {
    RawParty {
        name: text(v, name),
        number: text(v, number),
        ..Default::default()
    }
}

fn parking(v: &Value, name: &str, body: &[u8]) -> Result<Parsed, IngestError> {
    let call_id = required(v, "call_id", name)?;
    let slot = required(v, "parking_slot", name)?;
    let kind = match name {
        "PARK_PARKED" => RawEventKind::Parked,
        "PARK_RETRIEVED" => RawEventKind::ParkRetrieved,
        _ => RawEventKind::ParkAbandoned,
    };
    let mut event = RawCallEvent::new(SourceKind::Kazoo, kind, name);
    event.dedupe_key = format!("kazoo:{name}:{call_id}:{slot}:{}", body_hash(body));
    event.call_keys = vec![keys::leg(&call_id)];
    event.leg = Some(RawLeg {
        id: call_id,
        role: LegRole::Caller,
        other_leg: None,
        is_agent: false,
        click_to_call: false,
    });
    event.caller = party(v, "caller_id_name", "caller_id_number");
    if event.caller.number.is_none() {
        event.caller.number = text(v, "caller_id_Number");
    }
    event.callee = party(v, "callee_id_name", "callee_id_number");
    // Parked: the parked leg's callee is whoever parked it. Retrieved: on the retriever's
    // copy the caller is the retriever (the normalizer tells the two copies apart).
    event.actor = match kind {
        RawEventKind::Parked => Some(event.callee.clone()),
        RawEventKind::ParkRetrieved => Some(event.caller.clone()),
        _ => None,
    };
    event.park_slot = Some(slot);
    Ok(Parsed::Events(vec![event]))
}

fn voicemail(v: &Value, name: &str) -> Result<Parsed, IngestError> {
    let call_id = required(v, "call_id", name)?;
    let mut event = RawCallEvent::new(SourceKind::Kazoo, RawEventKind::Voicemail, name);
    let id = text(v, "voicemail_id").unwrap_or_else(|| call_id.clone());
    event.dedupe_key = format!("kazoo:{name}:{id}");
    event.call_keys = vec![keys::leg(&call_id)];
    event.caller = party(v, "caller_id_name", "caller_id_number");
    let mailbox = text(v, "to_user");
    event.callee = RawParty {
        number: mailbox.clone(),
        extension: mailbox,
        ..Default::default()
    };
    event.occurred_at = gregorian(v, "voicemail_timestamp")?;
    let duration_seconds = int(v, "voicemail_length").map(|ms| ms / 1000);
    event.timing.duration_seconds = duration_seconds;
    let box_id = text(v, "voicemail_box");
    let message_id = text(v, "voicemail_id");
    // The message's audio sits behind the Crossbar API of the source's account.
    let media = match (text(v, "account_id"), &box_id, &message_id) {
        (Some(account), Some(vmbox), Some(message)) => Some(RawMedia {
            location: format!("accounts/{account}/vmboxes/{vmbox}/messages/{message}/raw"),
            content_type: "audio/mpeg".into(),
        }),
        _ => None,
    };
    event.voicemail = Some(RawVoicemail {
        box_id,
        message_id,
        duration_seconds,
        transcription: text(v, "voicemail_transcription"),
        media,
    });
    Ok(Parsed::Events(vec![event]))
}

fn acdc_stat(v: &Value) -> Result<Parsed, IngestError> {
    let name = required(v, "Event-Name", "acdc_call_stat")?;
    let (kind, time_key) = match name.as_str() {
        "waiting" => (RawEventKind::Queued, "Entered-Timestamp"),
        "handled" => (RawEventKind::QueueAnswered, "Handled-Timestamp"),
        "missed" => (RawEventKind::QueueAgentMissed, "Miss-Timestamp"),
        "abandoned" => (RawEventKind::QueueAbandoned, "Abandon-Timestamp"),
        _ => {
            return Ok(Parsed::Ignored {
                event: format!("acdc_call_stat.{name}"),
            });
        }
    };
    let call_id = required(v, "Call-ID", "acdc_call_stat")?;
    let mut event = RawCallEvent::new(SourceKind::Kazoo, kind, &format!("acdc_call_stat.{name}"));
    event.occurred_at = gregorian(v, time_key)?;
    let msg = text(v, "Msg-ID")
        .unwrap_or_else(|| event.occurred_at.map_or(0, |t| t.timestamp()).to_string());
    event.dedupe_key = format!("kazoo:acdc_call_stat.{name}:{call_id}:{msg}");
    event.call_keys = vec![keys::leg(&call_id)];
    event.caller = party(v, "Caller-ID-Name", "Caller-ID-Number");
    let agent = text(v, "Agent-ID").map(|id| RawParty {
        external_user_id: Some(id),
        ..Default::default()
    });
    event.queue = Some(RawQueue {
        id: text(v, "Queue-ID"),
        name: None,
        entered_at: gregorian(v, "Entered-Timestamp")?,
        agent,
        abandon_reason: text(v, "Abandon-Reason").and_then(|r| abandon_reason(&r)),
    });
    if let Some(reason) = text(v, "Abandon-Reason").or_else(|| text(v, "Miss-Reason")) {
        event.custom_vars.insert("reason".into(), reason);
    }
    Ok(Parsed::Events(vec![event]))
}

/// ACDc's `Abandon-Reason` (acdc_queue_shared): the member hung up, waited too long, or left
/// (pressed the exit key, or the queue emptied).
fn abandon_reason(raw: &str) -> Option<QueueAbandonReason> {
    match raw {
        "member_hangup" => Some(QueueAbandonReason::CallerHungUp),
        "member_timeout" => Some(QueueAbandonReason::Timeout),
        "member_exit" | "member_exit_empty" => Some(QueueAbandonReason::Exit),
        _ => None,
    }
}

/// The queue's own `notifications` callback: `pickup` says an agent took the call.
fn queue_notification(v: &Value, state: &str, now: DateTime<Utc>) -> Result<Parsed, IngestError> {
    let name = format!("acdc_notification.{state}");
    if state != "pickup" {
        return Ok(Parsed::Ignored { event: name });
    }
    let member = required(v, "member_call_id", &name)?;
    let mut event = RawCallEvent::new(SourceKind::Kazoo, RawEventKind::QueueAnswered, &name);
    event.occurred_at = gregorian(v, "now")?.or(Some(now));
    event.dedupe_key = format!(
        "kazoo:{name}:{member}:{}",
        text(v, "now").unwrap_or_default()
    );
    event.call_keys = vec![keys::leg(&member)];
    event.related_keys = text(v, "agent_call_id")
        .iter()
        .map(|a| keys::leg(a))
        .collect();
    event.caller = party(v, "caller_id_name", "caller_id_number");
    event.queue = Some(RawQueue {
        id: text(v, "queue_id"),
        name: None,
        entered_at: None,
        agent: text(v, "agent_id").map(|id| RawParty {
            external_user_id: Some(id),
            ..Default::default()
        }),
        abandon_reason: None,
    });
    Ok(Parsed::Events(vec![event]))
}
