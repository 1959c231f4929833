//! 2600Hz Kazoo webhooks (and blackhole websocket frames relayed to the same endpoint).
//!
//! Kazoo cannot sign: the source secret travels in the hook URL (`?token=`) and is compared in
//! constant time. Bodies are JSON or Kazoo's default form encoding. Channel hooks are parsed
//! here; parking, notifications and ACDc messages in `kazoo_apps`.
//!
//! Correlation keys, best first: CCV `Call-Interaction-ID` (shared by every leg of one
//! interaction), `Member-Call-ID` (queue agent legs), `Bridge-ID` (the A-leg), the leg itself;
//! `other_leg_call_id` only helps finding the call.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

use super::json::{gregorian, int, text};
use super::kazoo_apps;
use super::kazoo_form::form_to_json;
use super::raw::{EndReason, LegRole, RawHangup, RawLeg, RawParty, RawQueue, keys};
use super::signature::secrets_equal;
use super::{Headers, IngestError, IngestRequest, Parsed, RawCallEvent, RawEventKind, json_body};
use crate::domain::SourceKind;

/// CAV names under which a click-to-call request id comes back (every quickcall query key
/// becomes a custom application var).
pub const REQUEST_ID_VARS: [&str; 3] = ["ringhook_request_id", "zap_request_id", "request_id"];

/// Checks the `?token=` secret in constant time.
pub fn verify(secret: &str, req: &IngestRequest<'_>) -> Result<(), IngestError> {
    match req.query_token {
        Some(token) if !secret.is_empty() && secrets_equal(token, secret) => Ok(()),
        Some(_) => Err(IngestError::Unauthorized("wrong token")),
        None => Err(IngestError::Unauthorized("missing ?token=")),
    }
}

/// Parses one verified Kazoo request. `now` stands in for the time of payloads without one.
pub fn parse(headers: &Headers, body: &[u8], now: DateTime<Utc>) -> Result<Parsed, IngestError> {
    let value = read_body(headers, body)?;
    if let Some(data) = blackhole_data(&value) {
        return parse_value(&data, body, now);
    }
    parse_value(&value, body, now)
}

fn parse_value(v: &Value, body: &[u8], now: DateTime<Utc>) -> Result<Parsed, IngestError> {
    if let Some(hook) = text(v, "hook_event") {
        return Ok(match channel_event(&hook, v)? {
            Some(event) => Parsed::Events(vec![event]),
            None => Parsed::Ignored { event: hook },
        });
    }
    kazoo_apps::parse(v, body, now)
}

fn read_body(headers: &Headers, body: &[u8]) -> Result<Value, IngestError> {
    let is_form = headers
        .get("content-type")
        .is_some_and(|c| c.contains("x-www-form-urlencoded"))
        || body
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| *b != b'{');
    if is_form {
        let value = form_to_json(body).map_err(|e| IngestError::Malformed(e.to_string()))?;
        if value.as_object().is_some_and(|m| !m.is_empty()) {
            return Ok(value);
        }
        return Err(IngestError::Malformed("empty form body".into()));
    }
    json_body(body)
}

/// A blackhole `{"action":"event","name":"CHANNEL_CREATE","data":{…}}` frame, turned into the
/// webhook shape (its keys are snake_case and owner/authorizing ids sit inside the CCVs).
fn blackhole_data(v: &Value) -> Option<Value> {
    if text(v, "action").as_deref() != Some("event") {
        return None;
    }
    let mut data = v.get("data")?.clone();
    let name = text(v, "name").or_else(|| text(&data, "event_name"))?;
    let ccvs = data
        .get("custom_channel_vars")
        .cloned()
        .unwrap_or(Value::Null);
    let obj = data.as_object_mut()?;
    if name.starts_with("CHANNEL_") {
        obj.insert(
            "hook_event".into(),
            Value::String(name.to_ascii_lowercase()),
        );
        for key in ["owner_id", "authorizing_id", "authorizing_type"] {
            if let (false, Some(value)) = (obj.contains_key(key), ccvs.get(key)) {
                obj.insert(key.into(), value.clone());
            }
        }
    }
    Some(data)
}

/// A channel variable under its Kazoo Title-Case name or the blackhole snake_case one.
fn ccv(v: &Value, title_case: &str) -> Option<String> {
    let ccvs = v.get("custom_channel_vars")?;
    text(ccvs, title_case)
        .or_else(|| text(ccvs, &title_case.to_ascii_lowercase().replace('-', "_")))
}

fn channel_event(hook: &str, v: &Value) -> Result<Option<RawCallEvent>, IngestError> {
    let kind = match hook {
        "channel_create" => RawEventKind::LegCreated,
        "channel_answer" => RawEventKind::LegAnswered,
        "channel_bridge" => RawEventKind::LegBridged,
        "channel_destroy" | "channel_disconnected" => RawEventKind::LegEnded,
        _ => return Ok(None),
    };
    let call_id = text(v, "call_id")
        .ok_or_else(|| IngestError::Malformed(format!("{hook} has no call_id")))?;
    let timestamp = gregorian(v, "timestamp")?;
    let mut event = RawCallEvent::new(SourceKind::Kazoo, kind, hook);
    event.dedupe_key = format!(
        "kazoo:{hook}:{call_id}:{}",
        timestamp.map_or(0, |t| t.timestamp())
    );
    event.occurred_at = timestamp;
    event.call_keys = [
        ccv(v, "Call-Interaction-ID").map(|c| keys::interaction(&c)),
        ccv(v, "Member-Call-ID").map(|c| keys::leg(&c)),
        ccv(v, "Bridge-ID").map(|c| keys::leg(&c)),
        Some(keys::leg(&call_id)),
    ]
    .into_iter()
    .flatten()
    .fold(Vec::new(), |mut acc, k| {
        if !acc.contains(&k) {
            acc.push(k);
        }
        acc
    });
    let other_leg = text(v, "other_leg_call_id");
    event.related_keys = other_leg.iter().map(|o| keys::leg(o)).collect();

    let click_to_call = call_id.ends_with("-quickcall");
    let role = if click_to_call || text(v, "call_direction").as_deref() == Some("inbound") {
        LegRole::Caller
    } else {
        LegRole::Callee
    };
    event.leg = Some(RawLeg {
        id: call_id,
        role,
        other_leg,
        is_agent: ccv(v, "Agent-ID").is_some(),
        click_to_call,
    });
    fill_parties(&mut event, v, hook, role, click_to_call);
    event.line = line(v);
    fill_vars(&mut event, v);
    if let Some(queue_id) = ccv(v, "Queue-ID") {
        event.queue = Some(RawQueue {
            id: Some(queue_id),
            ..Default::default()
        });
    }
    fill_timing(&mut event, v, kind, timestamp);
    Ok(Some(event))
}

/// Kazoo puts the device owner on the leg; which party that is depends on the leg's side. The
/// click-to-call device leg shows the target as its *caller*: the ids are swapped back here.
fn fill_parties(event: &mut RawCallEvent, v: &Value, hook: &str, role: LegRole, c2c: bool) {
    let owner = text(v, "owner_id").or_else(|| {
        (text(v, "authorizing_type").as_deref() == Some("user"))
            .then(|| text(v, "authorizing_id"))
            .flatten()
    });
    let caller = RawParty {
        name: text(v, "caller_id_name"),
        number: text(v, "caller_id_number"),
        ..Default::default()
    };
    let destination = if hook == "channel_bridge" {
        text(v, "other_leg_destination_number").or_else(|| text(v, "callee_id_number"))
    } else {
        text(v, "callee_id_number").or_else(|| sip_user(v, "request"))
    };
    let callee = RawParty {
        name: text(v, "callee_id_name"),
        number: destination,
        ..Default::default()
    };
    if c2c {
        event.caller = RawParty {
            external_user_id: owner,
            ..Default::default()
        };
        event.callee = RawParty {
            number: caller.number,
            ..Default::default()
        };
    } else if role == LegRole::Caller {
        event.caller = RawParty {
            external_user_id: owner,
            ..caller
        };
        event.callee = callee;
    } else {
        event.caller = caller;
        event.callee = RawParty {
            external_user_id: owner,
            ..callee
        };
    }
}

/// The tenant's number on a carrier leg: the DID dialled on a leg from the carrier
/// (`offnet-origination`), the caller id presented on a leg to it (`offnet-termination`).
fn line(v: &Value) -> Option<RawParty> {
    match ccv(v, "Resource-Type")?.as_str() {
        "offnet-origination" => Some(RawParty {
            number: sip_user(v, "request").or_else(|| sip_user(v, "to")),
            ..Default::default()
        }),
        "offnet-termination" => Some(RawParty {
            name: text(v, "caller_id_name"),
            number: text(v, "caller_id_number"),
            ..Default::default()
        }),
        _ => None,
    }
}

fn fill_vars(event: &mut RawCallEvent, v: &Value) {
    if let Some(cavs) = v.get("custom_application_vars").and_then(Value::as_object) {
        for (key, value) in cavs {
            if let Some(s) = value.as_str() {
                event.custom_vars.insert(key.clone(), s.to_owned());
            }
        }
    }
    event.request_id = REQUEST_ID_VARS
        .iter()
        .find_map(|k| event.custom_vars.get(*k).cloned());
}

fn fill_timing(event: &mut RawCallEvent, v: &Value, kind: RawEventKind, ts: Option<DateTime<Utc>>) {
    let t = &mut event.timing;
    t.ring_seconds = int(v, "ringing_seconds");
    t.billing_seconds = int(v, "billing_seconds");
    t.duration_seconds = int(v, "duration_seconds");
    match kind {
        RawEventKind::LegCreated => t.started_at = ts,
        RawEventKind::LegAnswered => t.answered_at = ts,
        RawEventKind::LegEnded => {
            t.ended_at = ts;
            t.started_at = ts
                .zip(t.duration_seconds)
                .and_then(|(e, d)| seconds_before(e, d));
            t.answered_at = ts
                .zip(t.billing_seconds.filter(|b| *b > 0))
                .and_then(|(e, b)| seconds_before(e, b));
            let cause = text(v, "hangup_cause");
            let reason = end_reason(cause.as_deref(), text(v, "hangup_code").as_deref());
            event.hangup = Some(RawHangup { reason, cause });
        }
        _ => {}
    }
}

/// `seconds` before `t`, or `None` when no calendar time is: the duration itself is then out of
/// bounds and the event is refused by [`super::bounds`].
fn seconds_before(t: DateTime<Utc>, seconds: i64) -> Option<DateTime<Utc>> {
    TimeDelta::try_seconds(seconds).and_then(|d| t.checked_sub_signed(d))
}

/// FreeSWITCH hangup causes as Kazoo reports them (src/switch_channel.c).
pub fn end_reason(cause: Option<&str>, sip_code: Option<&str>) -> EndReason {
    match (cause.unwrap_or_default(), sip_code.unwrap_or_default()) {
        ("NORMAL_CLEARING", _) => EndReason::Normal,
        ("NO_ANSWER" | "NO_USER_RESPONSE" | "ALLOTTED_TIMEOUT", _) => EndReason::NoAnswer,
        ("USER_BUSY", _) | (_, "sip:486") => EndReason::Busy,
        ("CALL_REJECTED", _) | (_, "sip:603") => EndReason::Rejected,
        (
            "USER_NOT_REGISTERED"
            | "NO_ROUTE_DESTINATION"
            | "UNALLOCATED_NUMBER"
            | "SUBSCRIBER_ABSENT"
            | "DESTINATION_OUT_OF_ORDER",
            _,
        )
        | (_, "sip:404" | "sip:480") => EndReason::Unreachable,
        ("ORIGINATOR_CANCEL", _) => EndReason::CallerCancelled,
        ("LOSE_RACE", _) => EndReason::LoseRace,
        ("PICKED_OFF", _) => EndReason::PickedOff,
        ("BLIND_TRANSFER", _) => EndReason::BlindTransfer,
        ("ATTENDED_TRANSFER", _) => EndReason::AttendedTransfer,
        ("", _) => EndReason::Normal,
        _ => EndReason::Failed,
    }
}

/// The user part of a `user@realm` field.
fn sip_user(v: &Value, key: &str) -> Option<String> {
    text(v, key)
        .and_then(|s| s.split('@').next().map(str::to_owned))
        .filter(|s| !s.is_empty())
}
