//! Zorio, the generic signed PBX webhook (docs.zorio.vn): `X-Zorio-Signature: sha256=<hex HMAC
//! of the raw body>`, `X-Zorio-Timestamp` (epoch seconds) within 300 s. The dedupe key is the
//! digest of the signed body (`X-Zorio-Delivery` is not signed, so it cannot tell a replay).
//! Envelope `{event, timestamp, data}`; one event per request.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use serde_json::Value;

use super::json::{int, rfc3339, text};
use super::raw::{
    EndReason, LegRole, RawHangup, RawLeg, RawMedia, RawParty, RawQueue, RawRecording, keys,
};
use super::signature::verify_hmac_sha256_hex;
use super::{Headers, IngestError, IngestRequest, Parsed, body_hash, json_body};
use super::{RawCallEvent, RawEventKind};
use crate::domain::SourceKind;

/// Zorio rejects deliveries whose timestamp is further than this from the receiver's clock.
pub const MAX_CLOCK_SKEW: TimeDelta = TimeDelta::seconds(300);

/// Checks the body signature and the timestamp window.
pub fn verify(
    secret: &str,
    req: &IngestRequest<'_>,
    now: DateTime<Utc>,
) -> Result<(), IngestError> {
    let signature = req
        .headers
        .get("x-zorio-signature")
        .and_then(|s| s.trim().strip_prefix("sha256="))
        .ok_or(IngestError::Unauthorized("missing X-Zorio-Signature"))?;
    let sent_at = req
        .headers
        .get("x-zorio-timestamp")
        .and_then(|t| t.trim().parse::<i64>().ok())
        .and_then(|t| Utc.timestamp_opt(t, 0).single())
        .ok_or(IngestError::Unauthorized(
            "missing or unreadable X-Zorio-Timestamp",
        ))?;
    if (now - sent_at).abs() > MAX_CLOCK_SKEW {
        return Err(IngestError::Unauthorized(
            "X-Zorio-Timestamp outside the 300 s window",
        ));
    }
    if !verify_hmac_sha256_hex(secret.as_bytes(), &[req.body], signature) {
        return Err(IngestError::Unauthorized(
            "X-Zorio-Signature does not match",
        ));
    }
    Ok(())
}

/// Parses one verified delivery.
pub fn parse(headers: &Headers, body: &[u8]) -> Result<Parsed, IngestError> {
    let envelope = json_body(body)?;
    let name = text(&envelope, "event")
        .or_else(|| headers.get("x-zorio-event").map(str::to_owned))
        .ok_or_else(|| IngestError::Malformed("Zorio body has no \"event\"".into()))?;
    let data = envelope.get("data").cloned().unwrap_or(Value::Null);
    let kind = match name.as_str() {
        "pbx.call.ringing" => RawEventKind::LegCreated,
        "pbx.call.answered" => RawEventKind::LegAnswered,
        "pbx.call.hangup" => RawEventKind::LegEnded,
        "pbx.cdr.created" => RawEventKind::CallRecord,
        _ => return Ok(Parsed::Ignored { event: name }),
    };
    let call_uuid = text(&data, "call_uuid")
        .or_else(|| text(&data, "uuid"))
        .ok_or_else(|| IngestError::Malformed(format!("{name} has no call_uuid")))?;
    let mut event = RawCallEvent::new(SourceKind::Zorio, kind, &name);
    // The digest of the signed body, not the unsigned `X-Zorio-Delivery`: a retry repeats
    // the body, and so does a captured body replayed under fresh headers.
    event.dedupe_key = format!("zorio:{}", body_hash(body));
    event.call_keys = vec![keys::call(&call_uuid)];
    fill_parties_and_leg(&mut event, &data, &call_uuid);
    fill_timing(&mut event, &data);
    event.occurred_at = match kind {
        RawEventKind::LegCreated => rfc3339(&data, "timestamp"),
        RawEventKind::LegAnswered => rfc3339(&data, "answered_at"),
        RawEventKind::LegEnded => rfc3339(&data, "ended_at"),
        _ => None,
    }
    .or_else(|| rfc3339(&envelope, "timestamp"));
    if matches!(kind, RawEventKind::LegEnded | RawEventKind::CallRecord) {
        event.hangup = Some(hangup(&data, event.timing.answered_at.is_some()));
    }
    if kind == RawEventKind::CallRecord {
        event.recording = recording(&data, &call_uuid);
    }
    if let Some(queue) = text(&data, "queue_name") {
        event.queue = Some(RawQueue {
            id: Some(queue.clone()),
            name: Some(queue),
            ..Default::default()
        });
    }
    Ok(Parsed::Events(vec![event]))
}

/// The extension is the user's side: the rung phone of an inbound or internal call, the
/// calling phone of an outbound one (whose leg then stands for the far end).
fn fill_parties_and_leg(event: &mut RawCallEvent, data: &Value, call_uuid: &str) {
    let extension = text(data, "extension").or_else(|| text(data, "extension_number"));
    let caller_number = text(data, "caller_number");
    let destination = text(data, "destination_number");
    let outbound = text(data, "direction").as_deref() == Some("outbound");
    // The tenant's number: the number dialled on an inbound call, the caller id shown on an
    // outbound one (internal calls use none).
    event.line = match text(data, "direction").as_deref() {
        Some("inbound") => destination.clone(),
        Some("outbound") => caller_number.clone(),
        _ => None,
    }
    .map(|number| RawParty {
        number: Some(number),
        ..Default::default()
    });
    if outbound {
        event.caller = RawParty {
            number: caller_number,
            extension: extension.clone(),
            ..Default::default()
        };
        event.callee = RawParty {
            number: destination,
            ..Default::default()
        };
    } else {
        event.caller = RawParty {
            number: caller_number,
            ..Default::default()
        };
        event.callee = RawParty {
            number: destination,
            extension: extension.clone(),
            ..Default::default()
        };
    }
    if event.kind != RawEventKind::CallRecord {
        let side = if outbound {
            "far"
        } else {
            extension.as_deref().unwrap_or("callee")
        };
        event.leg = Some(RawLeg {
            id: format!("{call_uuid}/{side}"),
            role: LegRole::Callee,
            other_leg: None,
            is_agent: false,
            click_to_call: false,
        });
    }
}

/// The CDR's `recording_url`: one recording per call, so the call's id names it. Zorio does not
/// say how long the recording is (`billsec` is talk time, a different quantity).
fn recording(data: &Value, call_uuid: &str) -> Option<RawRecording> {
    let url = text(data, "recording_url")?;
    let content_type = if url.to_ascii_lowercase().ends_with(".wav") {
        "audio/wav"
    } else {
        "audio/mpeg"
    };
    Some(RawRecording {
        id: call_uuid.to_owned(),
        duration_seconds: None,
        media: RawMedia {
            location: url,
            content_type: content_type.into(),
        },
    })
}

fn fill_timing(event: &mut RawCallEvent, data: &Value) {
    let t = &mut event.timing;
    t.started_at = rfc3339(data, "started_at").or_else(|| rfc3339(data, "start_time"));
    t.answered_at = rfc3339(data, "answered_at").or_else(|| rfc3339(data, "answer_time"));
    t.ended_at = rfc3339(data, "ended_at").or_else(|| rfc3339(data, "end_time"));
    t.duration_seconds = int(data, "duration");
    t.billing_seconds = int(data, "billsec");
}

/// Zorio's hangup carries no cause in the documented fields; a `result`/`hangup_cause` is used
/// when present, otherwise whether the call was answered.
fn hangup(data: &Value, answered: bool) -> RawHangup {
    let cause = text(data, "hangup_cause").or_else(|| text(data, "result"));
    let reason = match cause.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("busy") => EndReason::Busy,
        Some("rejected") => EndReason::Rejected,
        Some("no_answer" | "no_ans" | "noanswer") => EndReason::NoAnswer,
        Some("unreachable" | "unavailable") => EndReason::Unreachable,
        Some("cancelled" | "canceled") => EndReason::CallerCancelled,
        Some("failed") => EndReason::Failed,
        Some("voicemail") => EndReason::Voicemail,
        _ if answered => EndReason::Normal,
        _ => EndReason::NoAnswer,
    };
    RawHangup { reason, cause }
}
