//! Zoom Phone webhooks: `x-zm-signature: v0=<hex HMAC-SHA256(secret, "v0:{ts}:{body}")>` with
//! `x-zm-request-timestamp` (epoch seconds, accepted within 5 minutes), and the
//! `endpoint.url_validation` challenge. Zoom has one `call_id` per call and no legs: each
//! party's events are treated as that party's leg (`{call_id}/callee/{user}`), and the caller_*
//! events, which tell the calling user about the far end, as the far end's leg (`{call_id}/far`).

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use serde_json::Value;

use super::json::{epoch_millis, int, rfc3339, text};
use super::raw::{
    EndReason, LegRole, RawHangup, RawLeg, RawMedia, RawParty, RawRecording, RawTransfer,
    RawVoicemail, TransferKind, keys,
};
use super::signature::{hmac_sha256_hex, verify_hmac_sha256_hex};
use super::{IngestError, IngestRequest, Parsed, UrlValidationResponse, json_body};
use super::{RawCallEvent, RawEventKind};
use crate::domain::SourceKind;

/// Requests signed further than this from our clock are refused as replays.
pub const MAX_CLOCK_SKEW: TimeDelta = TimeDelta::minutes(5);

/// Checks `x-zm-signature` over the raw body and the timestamp window.
pub fn verify(
    secret: &str,
    req: &IngestRequest<'_>,
    now: DateTime<Utc>,
) -> Result<(), IngestError> {
    let timestamp = req
        .headers
        .get("x-zm-request-timestamp")
        .map(str::trim)
        .ok_or(IngestError::Unauthorized("missing x-zm-request-timestamp"))?;
    let sent_at = timestamp
        .parse::<i64>()
        .ok()
        .and_then(|t| Utc.timestamp_opt(t, 0).single())
        .ok_or(IngestError::Unauthorized(
            "unreadable x-zm-request-timestamp",
        ))?;
    if (now - sent_at).abs() > MAX_CLOCK_SKEW {
        return Err(IngestError::Unauthorized(
            "x-zm-request-timestamp outside the 5 min window",
        ));
    }
    let signature = req
        .headers
        .get("x-zm-signature")
        .and_then(|s| s.trim().strip_prefix("v0="))
        .ok_or(IngestError::Unauthorized("missing x-zm-signature"))?;
    let prefix = format!("v0:{timestamp}:");
    if !verify_hmac_sha256_hex(secret.as_bytes(), &[prefix.as_bytes(), req.body], signature) {
        return Err(IngestError::Unauthorized("x-zm-signature does not match"));
    }
    Ok(())
}

/// Parses one verified Zoom webhook body.
pub fn parse(secret: &str, body: &[u8]) -> Result<Parsed, IngestError> {
    let envelope = json_body(body)?;
    let name = text(&envelope, "event")
        .ok_or_else(|| IngestError::Malformed("Zoom body has no \"event\"".into()))?;
    let payload = envelope.get("payload").cloned().unwrap_or(Value::Null);
    if name == "endpoint.url_validation" {
        return url_validation(secret, &payload);
    }
    let object = payload.get("object").cloned().unwrap_or(Value::Null);
    let event_ts = epoch_millis(&envelope, "event_ts")?;
    let events = match name.as_str() {
        "phone.callee_call_history_completed" | "phone.caller_call_history_completed" => {
            history(&name, &object)
        }
        "phone.voicemail_received" => vec![voicemail(&name, &object)?],
        "phone.recording_completed" => recordings(&name, &object),
        "phone.warm_transfer_initiated"
        | "phone.warm_transfer_completed"
        | "phone.blind_transfer_initiated" => transfer(&name, &object)?.into_iter().collect(),
        _ => call_event(&name, &object)?.into_iter().collect(),
    };
    if events.is_empty() {
        return Ok(Parsed::Ignored { event: name });
    }
    Ok(Parsed::Events(
        events
            .into_iter()
            .map(|mut e| {
                e.occurred_at = e.occurred_at.or(event_ts);
                if e.dedupe_key.is_empty() {
                    let leg = e.leg.as_ref().map_or("-", |l| l.id.as_str());
                    let ts = event_ts.map_or(0, |t| t.timestamp_millis());
                    e.dedupe_key = format!("zoom:{name}:{leg}:{ts}");
                }
                e
            })
            .collect(),
    ))
}

fn url_validation(secret: &str, payload: &Value) -> Result<Parsed, IngestError> {
    let plain_token = text(payload, "plainToken")
        .ok_or_else(|| IngestError::Malformed("url_validation without plainToken".into()))?;
    let encrypted_token = hmac_sha256_hex(secret.as_bytes(), plain_token.as_bytes())
        .ok_or_else(|| IngestError::Malformed("secret unusable as an HMAC key".into()))?;
    Ok(Parsed::UrlValidation(UrlValidationResponse {
        plain_token,
        encrypted_token,
    }))
}

/// caller_*/callee_* ringing, answer, end, hold and park events.
fn call_event(name: &str, object: &Value) -> Result<Option<RawCallEvent>, IngestError> {
    let Some(short) = name.strip_prefix("phone.") else {
        return Ok(None);
    };
    let Some((side, what)) = short.split_once('_') else {
        return Ok(None);
    };
    let kind = match what {
        "ringing" => RawEventKind::LegCreated,
        "answered" | "connected" => RawEventKind::LegAnswered,
        "ended" | "missed" | "rejected" => RawEventKind::LegEnded,
        "hold" => RawEventKind::Held,
        "unhold" => RawEventKind::Resumed,
        "parked" => RawEventKind::Parked,
        _ => return Ok(None),
    };
    if side != "caller" && side != "callee" {
        return Ok(None);
    }
    let call_id = call_id(name, object)?;
    let caller = party(object.get("caller"));
    let callee = party(object.get("callee"));
    let (leg_id, actor) = if side == "callee" {
        (
            format!("{call_id}/callee/{}", party_key(&callee)),
            callee.clone(),
        )
    } else {
        (format!("{call_id}/far"), caller.clone())
    };
    let mut event = RawCallEvent::new(SourceKind::Zoom, kind, name);
    event.call_keys = vec![keys::call(&call_id)];
    event.leg = Some(RawLeg {
        id: leg_id,
        role: LegRole::Callee,
        other_leg: None,
        is_agent: false,
        click_to_call: false,
    });
    event.caller = caller;
    event.callee = callee;
    event.line = line(object);
    event.timing.started_at = rfc3339(object, "ringing_start_time");
    event.timing.answered_at =
        rfc3339(object, "answer_start_time").or_else(|| rfc3339(object, "connected_start_time"));
    event.timing.ended_at = rfc3339(object, "call_end_time");
    event.occurred_at = match kind {
        RawEventKind::LegCreated => event.timing.started_at,
        RawEventKind::LegAnswered => event.timing.answered_at,
        RawEventKind::LegEnded => event.timing.ended_at,
        _ => rfc3339(object, "date_time"),
    };
    match kind {
        RawEventKind::LegEnded => {
            let cause = text(object, "handup_result");
            let reason = if what == "rejected" {
                EndReason::Rejected
            } else {
                end_reason(cause.as_deref(), event.timing.answered_at.is_some())
            };
            event.hangup = Some(RawHangup { reason, cause });
        }
        RawEventKind::Held | RawEventKind::Resumed => event.actor = Some(actor),
        RawEventKind::Parked => {
            let failure = text(object, "park_failure_reason").unwrap_or_default();
            if !failure.is_empty() && !failure.to_ascii_lowercase().starts_with("park success") {
                return Ok(None);
            }
            event.park_slot = text(object, "park_code");
            event.actor = Some(actor);
        }
        _ => {}
    }
    Ok(Some(event))
}

/// The tenant's number: the number an outside (PSTN) caller reached, or the number shown to
/// the outside party the user called.
fn line(object: &Value) -> Option<RawParty> {
    let is_pstn = |side: &str| {
        object.get(side).is_some_and(|p| {
            text(p, "extension_type").as_deref() == Some("pstn")
                || text(p, "connection_type").is_some_and(|c| c.starts_with("pstn"))
        })
    };
    let own = match (is_pstn("caller"), is_pstn("callee")) {
        (true, false) => "callee",
        (false, true) => "caller",
        _ => return None,
    };
    let party = object.get(own)?;
    Some(RawParty {
        number: text(party, "phone_number"),
        ..Default::default()
    })
}

fn end_reason(handup_result: Option<&str>, answered: bool) -> EndReason {
    match handup_result.map(str::to_ascii_lowercase).as_deref() {
        Some("call connected") => EndReason::Normal,
        Some("no answer") => EndReason::NoAnswer,
        Some("busy") => EndReason::Busy,
        Some("call cancel") => EndReason::CallerCancelled,
        Some("rejected") => EndReason::Rejected,
        Some("voicemail") => EndReason::Voicemail,
        _ if answered => EndReason::Normal,
        _ => EndReason::Failed,
    }
}

fn voicemail(name: &str, object: &Value) -> Result<RawCallEvent, IngestError> {
    let call_id = call_id(name, object)?;
    let mut event = RawCallEvent::new(SourceKind::Zoom, RawEventKind::Voicemail, name);
    event.call_keys = vec![keys::call(&call_id)];
    event.caller = RawParty {
        name: text(object, "caller_name"),
        number: text(object, "caller_number"),
        ..Default::default()
    };
    event.callee = RawParty {
        name: text(object, "callee_name"),
        number: text(object, "callee_number"),
        external_user_id: text(object, "callee_user_id"),
        ..Default::default()
    };
    event.timing.duration_seconds = int(object, "duration");
    event.occurred_at = rfc3339(object, "date_time");
    let id = text(object, "id");
    if let Some(id) = &id {
        event.dedupe_key = format!("zoom:{name}:{id}");
    }
    event.voicemail = Some(RawVoicemail {
        // Zoom keeps one mailbox per user: the box is the owner's user id.
        box_id: text(object, "callee_user_id").or_else(|| text(object, "callee_id")),
        message_id: id,
        duration_seconds: event.timing.duration_seconds,
        transcription: None,
        media: text(object, "download_url").map(|url| RawMedia {
            location: url,
            content_type: "audio/mpeg".into(),
        }),
    });
    Ok(event)
}

/// `phone.recording_completed`: one `recordings[]` entry per recording, each for its call.
fn recordings(name: &str, object: &Value) -> Vec<RawCallEvent> {
    let entries = object
        .get("recordings")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    entries
        .iter()
        .filter_map(|r| {
            let call_id = text(r, "call_id")?;
            let id = text(r, "id")?;
            let url = text(r, "download_url")?;
            let mut event = RawCallEvent::new(SourceKind::Zoom, RawEventKind::Recording, name);
            event.call_keys = vec![keys::call(&call_id)];
            event.dedupe_key = format!("zoom:{name}:{id}");
            event.occurred_at = rfc3339(r, "end_time").or_else(|| rfc3339(r, "date_time"));
            event.recording = Some(RawRecording {
                id,
                duration_seconds: int(r, "duration"),
                media: RawMedia {
                    location: url,
                    content_type: "audio/mpeg".into(),
                },
            });
            Some(event)
        })
        .collect()
}

/// Warm transfers start a new call (`transfer_call_id`): it is named as a key of the same call so
/// that its events join this one. A blind transfer is complete when initiated.
fn transfer(name: &str, object: &Value) -> Result<Option<RawCallEvent>, IngestError> {
    if text(object, "failure_reason").is_some() {
        return Ok(None);
    }
    let call_id = call_id(name, object)?;
    let (kind, transfer_kind) = match name {
        "phone.warm_transfer_initiated" => (RawEventKind::TransferStarted, TransferKind::Attended),
        "phone.warm_transfer_completed" => {
            (RawEventKind::TransferCompleted, TransferKind::Attended)
        }
        _ => (RawEventKind::TransferCompleted, TransferKind::Blind),
    };
    let mut event = RawCallEvent::new(SourceKind::Zoom, kind, name);
    event.call_keys = vec![keys::call(&call_id)];
    let new_call_id = text(object, "transfer_call_id");
    if let Some(new_call) = &new_call_id {
        event.call_keys.push(keys::call(new_call));
    }
    let owner = object.get("owner");
    let by = RawParty {
        name: owner.and_then(|o| text(o, "name")),
        extension: owner.and_then(|o| text(o, "extension_number")),
        external_user_id: owner.and_then(|o| text(o, "id")),
        number: None,
    };
    let to = RawParty {
        number: text(object, "transfer_phone_number"),
        ..Default::default()
    };
    event.actor = Some(by.clone());
    event.transfer = Some(RawTransfer {
        kind: transfer_kind,
        by,
        to,
        new_call_id,
    });
    event.occurred_at = rfc3339(object, "date_time");
    Ok(Some(event))
}

/// Call-history records arrive after the call: they only enrich (and close) calls.
fn history(name: &str, object: &Value) -> Vec<RawCallEvent> {
    let logs = object
        .get("call_logs")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    logs.iter()
        .filter_map(|log| {
            let call_id = text(log, "call_id")?;
            let mut event = RawCallEvent::new(SourceKind::Zoom, RawEventKind::CallRecord, name);
            event.call_keys = vec![keys::call(&call_id)];
            event.timing.started_at = rfc3339(log, "start_time");
            event.timing.answered_at = rfc3339(log, "answer_time");
            event.timing.ended_at = rfc3339(log, "end_time");
            event.timing.billing_seconds = int(log, "talk_time");
            event.occurred_at = event.timing.ended_at;
            let log_id = text(log, "id").unwrap_or_else(|| call_id.clone());
            event.dedupe_key = format!("zoom:{name}:{log_id}");
            Some(event)
        })
        .collect()
}

fn call_id(name: &str, object: &Value) -> Result<String, IngestError> {
    text(object, "call_id").ok_or_else(|| IngestError::Malformed(format!("{name} has no call_id")))
}

/// A Zoom party object. PSTN parties' `extension_number` is just their digits, so it is dropped.
fn party(value: Option<&Value>) -> RawParty {
    let Some(v) = value else {
        return RawParty::default();
    };
    let is_pstn = text(v, "extension_type").as_deref() == Some("pstn")
        || text(v, "connection_type").is_some_and(|c| c.starts_with("pstn"));
    RawParty {
        name: text(v, "name"),
        number: text(v, "phone_number"),
        extension: if is_pstn {
            None
        } else {
            text(v, "extension_number")
        },
        external_user_id: text(v, "user_id"),
    }
}

fn party_key(p: &RawParty) -> String {
    p.external_user_id
        .clone()
        .or_else(|| p.extension.clone())
        .or_else(|| p.number.clone())
        .unwrap_or_else(|| "unknown".into())
}
