//! FreeSWITCH Event Socket events (`event json`) into raw call events.
//!
//! Correlation: `Channel-Call-UUID` ("the UUID grouping the legs of a single call") is the
//! call, `Unique-ID` the leg, `Other-Leg-Unique-ID` the leg it is bridged to. An `inbound`
//! channel (FreeSWITCH's point of view) is the caller's leg, an `outbound` one a rung phone or
//! the far end. Hang-up causes are FreeSWITCH's own, as Kazoo (which runs on FreeSWITCH)
//! reports them. mod_callcenter and mod_valet_parking speak through `CUSTOM` events.
//!
//! Users are named by the dialled user (`user/1001` link id, extension `1001`) or by a queue
//! agent's name (`1002@acme.pbx.example.net`, extension `1002`).

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;

use super::json::text;
use super::kazoo::end_reason;
use super::raw::{EndReason, LegRole, RawHangup, RawLeg, RawParty, RawQueue, keys};
use super::{RawCallEvent, RawEventKind};
use crate::domain::SourceKind;

/// The channel variable ringhook's `bgapi originate` sets to the click-to-call request id.
pub const REQUEST_ID_VAR: &str = "ringhook_request_id";

/// The event classes the connector subscribes to.
pub const SUBSCRIBED_EVENTS: &str = "CHANNEL_CREATE CHANNEL_ANSWER CHANNEL_BRIDGE \
     CHANNEL_HANGUP_COMPLETE CHANNEL_HOLD CHANNEL_UNHOLD BACKGROUND_JOB HEARTBEAT \
     CUSTOM callcenter::info valet_parking::info";

/// The raw call events one ESL event stands for; empty for events ringhook does not use.
pub fn translate(event: &Value) -> Vec<RawCallEvent> {
    let Some(name) = text(event, "Event-Name") else {
        return Vec::new();
    };
    let subclass = text(event, "Event-Subclass").unwrap_or_default();
    let drafts = match (name.as_str(), subclass.as_str()) {
        ("CHANNEL_CREATE", _) => channel(event, RawEventKind::LegCreated),
        ("CHANNEL_ANSWER", _) => channel(event, RawEventKind::LegAnswered),
        ("CHANNEL_BRIDGE", _) => channel(event, RawEventKind::LegBridged),
        ("CHANNEL_HANGUP_COMPLETE", _) => channel(event, RawEventKind::LegEnded),
        ("CHANNEL_HOLD", _) => hold(event, RawEventKind::Held),
        ("CHANNEL_UNHOLD", _) => hold(event, RawEventKind::Resumed),
        ("CUSTOM", "callcenter::info") => callcenter(event),
        ("CUSTOM", "valet_parking::info") => valet(event),
        _ => Vec::new(),
    };
    let at = micros(event, "Event-Date-Timestamp");
    let action = text(event, "CC-Action")
        .or_else(|| text(event, "Action"))
        .unwrap_or_default();
    let source_event = if subclass.is_empty() {
        name.clone()
    } else {
        format!("{subclass}:{action}")
    };
    let identity = match (text(event, "Core-UUID"), text(event, "Event-Sequence")) {
        (Some(core), Some(seq)) => format!("{core}:{seq}"),
        _ => format!(
            "{}:{}:{}",
            text(event, "Unique-ID")
                .or_else(|| text(event, "CC-Member-UUID"))
                .unwrap_or_default(),
            text(event, "CC-Agent").unwrap_or_default(),
            at.map_or(0, |t| t.timestamp_micros())
        ),
    };
    drafts
        .into_iter()
        .map(|(mut e, part)| {
            e.source_event = source_event.clone();
            e.dedupe_key = format!("esl:{source_event}:{identity}{part}");
            e.occurred_at = e.occurred_at.or(at);
            if e.kind == RawEventKind::LegCreated {
                e.timing.started_at = e.timing.started_at.or(at);
            }
            e
        })
        .collect()
}

fn micros(v: &Value, key: &str) -> Option<DateTime<Utc>> {
    let us: i64 = text(v, key)?.parse().ok()?;
    Utc.timestamp_micros(us).single()
}

fn epoch(v: &Value, key: &str) -> Option<DateTime<Utc>> {
    let s: i64 = text(v, key)?.parse().ok()?;
    (s > 0).then(|| Utc.timestamp_opt(s, 0).single()).flatten()
}

fn int(v: &Value, key: &str) -> Option<i64> {
    text(v, key)?.parse().ok()
}

/// `1002@acme.pbx.example.net` or `1002` → the short number part, when it is one.
fn extension_of(user: &str) -> Option<String> {
    let part = user.split('@').next().unwrap_or_default();
    (!part.is_empty() && part.len() <= 6 && part.bytes().all(|b| b.is_ascii_digit()))
        .then(|| part.to_owned())
}

type Draft = (RawCallEvent, &'static str);

fn base(v: &Value, kind: RawEventKind, call: &str) -> RawCallEvent {
    let mut e = RawCallEvent::new(SourceKind::Freeswitch, kind, "");
    e.call_keys = vec![keys::call(call)];
    e.request_id = text(v, &format!("variable_{REQUEST_ID_VAR}"));
    e
}

/// The phone a callee leg rings: the dialled user, else the callee id / destination.
fn dialled_party(v: &Value) -> RawParty {
    let user = text(v, "variable_dialed_user");
    let number = text(v, "Caller-Callee-ID-Number")
        .or_else(|| user.clone())
        .or_else(|| text(v, "Caller-Destination-Number"));
    RawParty {
        name: text(v, "Caller-Callee-ID-Name"),
        extension: user.as_deref().and_then(extension_of),
        external_user_id: user.map(|u| format!("user/{u}")),
        number,
    }
}

fn caller_party(v: &Value) -> RawParty {
    let user = text(v, "variable_user_name").or_else(|| text(v, "Caller-Username"));
    RawParty {
        name: text(v, "Caller-Caller-ID-Name"),
        number: text(v, "Caller-Caller-ID-Number"),
        extension: user.as_deref().and_then(extension_of),
        external_user_id: user
            .filter(|u| extension_of(u).is_some())
            .map(|u| format!("user/{u}")),
    }
}

fn channel(v: &Value, kind: RawEventKind) -> Vec<Draft> {
    let Some(leg_id) = text(v, "Unique-ID") else {
        return Vec::new();
    };
    let call = text(v, "Channel-Call-UUID").unwrap_or_else(|| leg_id.clone());
    let mut e = base(v, kind, &call);
    let outbound = text(v, "Call-Direction").as_deref() == Some("outbound");
    // ringhook's click-to-call rings the user first: that outbound leg starts the call.
    let click_to_call = outbound && call == leg_id && e.request_id.is_some();
    let role = if outbound && !click_to_call {
        LegRole::Callee
    } else {
        LegRole::Caller
    };
    let other_leg = text(v, "Other-Leg-Unique-ID").or_else(|| text(v, "Bridge-B-Unique-ID"));
    e.related_keys = other_leg.iter().map(|o| keys::leg(o)).collect();
    e.leg = Some(RawLeg {
        id: leg_id,
        role,
        other_leg: other_leg.filter(|o| Some(o.as_str()) != text(v, "Unique-ID").as_deref()),
        is_agent: text(v, "variable_cc_agent").is_some(),
        click_to_call,
    });
    if click_to_call {
        e.caller = dialled_party(v);
        e.callee = RawParty {
            number: text(v, "variable_ringhook_target"),
            ..Default::default()
        };
    } else if role == LegRole::Callee {
        e.caller = RawParty {
            name: text(v, "Caller-Caller-ID-Name"),
            number: text(v, "Caller-Caller-ID-Number"),
            ..Default::default()
        };
        e.callee = dialled_party(v);
    } else {
        e.caller = caller_party(v);
        e.callee = RawParty {
            number: text(v, "Caller-Destination-Number"),
            ..Default::default()
        };
    }
    if kind == RawEventKind::LegEnded {
        let t = &mut e.timing;
        t.started_at = epoch(v, "variable_start_epoch");
        t.answered_at = epoch(v, "variable_answer_epoch");
        // The event's own microsecond time, so talk time is not cut to whole seconds.
        t.ended_at = micros(v, "Event-Date-Timestamp").or_else(|| epoch(v, "variable_end_epoch"));
        t.billing_seconds = int(v, "variable_billsec");
        t.duration_seconds = int(v, "variable_duration");
        t.ring_seconds = int(v, "variable_progresssec");
        let cause = text(v, "Hangup-Cause").or_else(|| text(v, "variable_hangup_cause"));
        let sip = text(v, "variable_sip_term_status").map(|s| format!("sip:{s}"));
        e.hangup = Some(RawHangup {
            reason: end_reason(cause.as_deref(), sip.as_deref()),
            cause,
        });
    }
    vec![(e, "")]
}

fn hold(v: &Value, kind: RawEventKind) -> Vec<Draft> {
    let Some(leg_id) = text(v, "Unique-ID") else {
        return Vec::new();
    };
    let call = text(v, "Channel-Call-UUID").unwrap_or(leg_id);
    let mut e = base(v, kind, &call);
    let outbound = text(v, "Call-Direction").as_deref() == Some("outbound");
    e.actor = Some(if outbound {
        dialled_party(v)
    } else {
        caller_party(v)
    });
    vec![(e, "")]
}

fn agent_party(v: &Value) -> RawParty {
    let agent = text(v, "CC-Agent");
    RawParty {
        number: agent.as_deref().and_then(extension_of),
        extension: agent.as_deref().and_then(extension_of),
        external_user_id: agent,
        ..Default::default()
    }
}

/// mod_callcenter: the member's session (`CC-Member-Session-UUID`) is the caller's channel.
fn callcenter(v: &Value) -> Vec<Draft> {
    let Some(member) = text(v, "CC-Member-Session-UUID") else {
        return Vec::new();
    };
    let action = text(v, "CC-Action").unwrap_or_default();
    let queue = text(v, "CC-Queue");
    let raw_queue = |entered_at| RawQueue {
        id: queue.clone(),
        name: queue.clone(),
        entered_at,
        agent: None,
        abandon_reason: None,
    };
    let member_event = |kind| {
        let mut e = base(v, kind, &member);
        e.leg = Some(RawLeg {
            id: member.clone(),
            role: LegRole::Caller,
            other_leg: None,
            is_agent: false,
            click_to_call: false,
        });
        e.caller = RawParty {
            name: text(v, "CC-Member-CID-Name"),
            number: text(v, "CC-Member-CID-Number"),
            ..Default::default()
        };
        e.queue = Some(raw_queue(epoch(v, "CC-Member-Joined-Time")));
        e
    };
    // The agent's leg as the queue sees it: one per queue entry and agent.
    let agent_event = |kind| {
        let mut e = base(v, kind, &member);
        let entry = text(v, "CC-Member-UUID").unwrap_or_else(|| member.clone());
        e.leg = Some(RawLeg {
            id: format!("{entry}/{}", text(v, "CC-Agent").unwrap_or_default()),
            role: LegRole::Callee,
            other_leg: Some(member.clone()),
            is_agent: true,
            click_to_call: false,
        });
        e.caller = RawParty {
            name: text(v, "CC-Member-CID-Name"),
            number: text(v, "CC-Member-CID-Number"),
            ..Default::default()
        };
        e.callee = agent_party(v);
        e.queue = Some(raw_queue(epoch(v, "CC-Member-Joined-Time")));
        e
    };
    match action.as_str() {
        "member-queue-start" => {
            let mut e = member_event(RawEventKind::Queued);
            if let Some(q) = e.queue.as_mut() {
                q.entered_at = q.entered_at.or_else(|| micros(v, "Event-Date-Timestamp"));
            }
            vec![(e, "")]
        }
        "agent-offering" => vec![(agent_event(RawEventKind::LegCreated), "")],
        "bridge-agent-start" => {
            let mut answered = agent_event(RawEventKind::QueueAnswered);
            // When the agent picked up, rather than when the event was queued.
            answered.occurred_at = epoch(v, "CC-Agent-Answered-Time");
            let agent = answered.callee.clone();
            answered.leg = None;
            if let Some(q) = answered.queue.as_mut() {
                q.agent = Some(agent);
            }
            vec![(answered, "")]
        }
        "bridge-agent-end" | "bridge-agent-fail" => {
            let mut e = agent_event(RawEventKind::LegEnded);
            let failed = action == "bridge-agent-fail";
            let cause = text(v, "CC-Hangup-Cause");
            e.hangup = Some(RawHangup {
                reason: if failed {
                    EndReason::NoAnswer
                } else {
                    EndReason::Normal
                },
                cause,
            });
            vec![(e, "")]
        }
        "member-queue-end" => {
            let cancelled = text(v, "CC-Cause").as_deref() == Some("Cancel");
            let mut left = member_event(RawEventKind::LegEnded);
            left.hangup = Some(RawHangup {
                reason: if cancelled {
                    EndReason::CallerCancelled
                } else {
                    EndReason::Normal
                },
                cause: text(v, "CC-Hangup-Cause").or_else(|| text(v, "CC-Cancel-Reason")),
            });
            let mut out = Vec::new();
            if cancelled {
                out.push((member_event(RawEventKind::QueueAbandoned), ":abandon"));
            }
            out.push((left, ""));
            out
        }
        _ => Vec::new(),
    }
}

/// mod_valet_parking: `hold` parks, `bridge` retrieves (`Bridge-To-UUID` is the retriever's
/// channel), `exit` leaves the lot without retrieval.
fn valet(v: &Value) -> Vec<Draft> {
    let Some(parked) = text(v, "Unique-ID") else {
        return Vec::new();
    };
    let kind = match text(v, "Action").as_deref() {
        Some("hold") => RawEventKind::Parked,
        Some("bridge") => RawEventKind::ParkRetrieved,
        Some("exit") => RawEventKind::ParkAbandoned,
        _ => return Vec::new(),
    };
    let call = text(v, "Channel-Call-UUID").unwrap_or_else(|| parked.clone());
    let mut e = base(v, kind, &call);
    e.park_slot = text(v, "Valet-Extension");
    e.leg = Some(RawLeg {
        id: parked,
        role: LegRole::Caller,
        other_leg: text(v, "Bridge-To-UUID"),
        is_agent: false,
        click_to_call: false,
    });
    e.caller = RawParty {
        name: text(v, "Caller-Caller-ID-Name"),
        number: text(v, "Caller-Caller-ID-Number"),
        ..Default::default()
    };
    vec![(e, "")]
}
