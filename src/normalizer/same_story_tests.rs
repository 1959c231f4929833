//! The same call told by Kazoo, Zoom and Zorio gives the same figures for every fact each
//! source reports, and null (never another quantity) for the facts it does not.
//!
//! Each story is written once as times and outcomes, then rendered in each source's own
//! payloads, parsed by its adapter and run through the state machine.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

use super::model::CallEvent;
use super::scenarios_tests::run;
use crate::domain::SourceKind;
use crate::ingest::{Headers, Parsed, RawCallEvent, kazoo, zoom, zorio};

const CALLER: &str = "+13125550188";
const DID: &str = "+16285550100";
const ALICE_OWNER: &str = "6384e2b2184bcbf58eccf10ca7a6563c";
const ALICE_ZOOM: &str = "u8Kd3fQ9R2eX1tLm6ZpW4A";
/// Kazoo counts seconds from year 0.
const GREGORIAN: i64 = 62_167_219_200;

/// One call as it happened, in seconds after the call reached the tenant (and Alice's phone
/// started ringing: the DID rings her directly).
#[derive(Clone, Copy)]
struct Story {
    name: &'static str,
    /// When Alice answered, if she did.
    answered: Option<i64>,
    /// When her phone stopped ringing unanswered.
    ring_stopped: Option<i64>,
    /// The caller was sent to voicemail and left a message of this many seconds.
    voicemail: Option<i64>,
    /// When the caller hung up.
    ended: i64,
}

const ANSWERED: Story = Story {
    name: "answered",
    answered: Some(6),
    ring_stopped: None,
    voicemail: None,
    ended: 48,
};

const MISSED_THEN_VOICEMAIL: Story = Story {
    name: "missed then voicemail",
    answered: None,
    ring_stopped: Some(20),
    voicemail: Some(31),
    ended: 58,
};

const MISSED: Story = Story {
    name: "missed",
    answered: None,
    ring_stopped: Some(20),
    voicemail: None,
    ended: 20,
};

fn start() -> DateTime<Utc> {
    "2024-06-03T14:10:00Z".parse().unwrap()
}

fn at(secs: i64) -> DateTime<Utc> {
    start() + TimeDelta::seconds(secs)
}

fn iso(secs: i64) -> String {
    at(secs).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn greg(secs: i64) -> i64 {
    at(secs).timestamp() + GREGORIAN
}

fn kazoo_events(s: &Story) -> Vec<Value> {
    let a = "a-leg@198.51.100.20";
    let b = "b-leg-alice";
    let ccvs = |carrier: bool| {
        let mut v = json!({"Call-Interaction-ID": "63884643000-same", "Bridge-ID": a});
        if carrier {
            v["Resource-Type"] = json!("offnet-origination");
        }
        v
    };
    let a_leg = |hook: &str, t: i64| {
        json!({"hook_event": hook, "call_id": a, "call_direction": "inbound",
               "timestamp": greg(t), "caller_id_number": CALLER,
               "request": format!("{DID}@acme.pbx.example.net"), "custom_channel_vars": ccvs(true)})
    };
    let b_leg = |hook: &str, t: i64| {
        json!({"hook_event": hook, "call_id": b, "call_direction": "outbound",
               "timestamp": greg(t), "caller_id_number": CALLER, "callee_id_number": "1001",
               "owner_id": ALICE_OWNER, "other_leg_call_id": a, "custom_channel_vars": ccvs(false)})
    };
    let mut out = vec![a_leg("channel_create", 0), b_leg("channel_create", 0)];
    let ring_end = s.answered.or(s.ring_stopped).unwrap_or(s.ended);
    let b_destroyed = s.ring_stopped.unwrap_or(s.ended);
    let mut b_end = b_leg("channel_destroy", b_destroyed);
    if let Some(answer) = s.answered {
        out.push(b_leg("channel_answer", answer));
        out.push(a_leg("channel_answer", answer));
        b_end["hangup_cause"] = json!("NORMAL_CLEARING");
        b_end["billing_seconds"] = json!(s.ended - answer);
    } else {
        b_end["hangup_cause"] = json!("NO_ANSWER");
        b_end["hangup_code"] = json!("sip:487");
        b_end["billing_seconds"] = json!(0);
    }
    b_end["duration_seconds"] = json!(b_destroyed);
    out.push(b_end);
    let mut a_end = a_leg("channel_destroy", s.ended);
    a_end["hangup_cause"] = json!("NORMAL_CLEARING");
    a_end["duration_seconds"] = json!(s.ended);
    if let Some(length) = s.voicemail {
        let answer = ring_end + 1;
        out.push(a_leg("channel_answer", answer));
        a_end["billing_seconds"] = json!(s.ended - answer);
        out.push(
            json!({"event_name": "voicemail_new", "account_id": "4c122831efef10ac68b5223dccd6f614",
            "call_id": a, "caller_id_number": CALLER, "to_user": "1001",
            "voicemail_box": "box-alice", "voicemail_id": "msg-1",
            "voicemail_length": length * 1000, "voicemail_timestamp": greg(s.ended)}),
        );
    }
    out.push(a_end);
    out
}

fn zoom_events(s: &Story) -> Vec<Value> {
    let call_id = "7376152011122299999";
    let callee = json!({"extension_type": "user", "user_id": ALICE_ZOOM,
                        "phone_number": DID, "extension_number": 1001, "connection_type": "voip"});
    let caller = json!({"phone_number": CALLER, "connection_type": "pstn_off_net"});
    let event = |name: &str, extra: Value, t: i64| {
        let mut object = json!({"call_id": call_id, "caller": caller, "callee": callee,
                                "ringing_start_time": iso(0)});
        for (k, v) in extra.as_object().unwrap() {
            object[k] = v.clone();
        }
        json!({"event": name, "event_ts": at(t).timestamp_millis(),
               "payload": {"account_id": "Xq3vR8kLTbq2mN5pW7yZ0a", "object": object}})
    };
    let mut out = vec![event("phone.callee_ringing", json!({}), 0)];
    if let Some(answer) = s.answered {
        out.push(event(
            "phone.callee_answered",
            json!({"answer_start_time": iso(answer)}),
            answer,
        ));
        out.push(event(
            "phone.callee_ended",
            json!({"answer_start_time": iso(answer), "call_end_time": iso(s.ended),
                   "handup_result": "Call connected"}),
            s.ended,
        ));
    } else if let Some(stopped) = s.ring_stopped {
        out.push(event(
            "phone.callee_missed",
            json!({"call_end_time": iso(stopped), "handup_result": "No Answer"}),
            stopped,
        ));
    }
    if let Some(length) = s.voicemail {
        out.push(
            json!({"event": "phone.voicemail_received", "event_ts": at(s.ended).timestamp_millis(),
            "payload": {"account_id": "Xq3vR8kLTbq2mN5pW7yZ0a", "object": {
                "id": "vm-1", "call_id": call_id, "date_time": iso(s.ended - length),
                "duration": length, "caller_number": CALLER, "callee_user_id": ALICE_ZOOM,
                "callee_number": "1001",
                "download_url": "https://zoom.us/v2/phone/recording/download/vm-1"}}}),
        );
    }
    out
}

fn zorio_events(s: &Story) -> Vec<Value> {
    let data = |extra: Value| {
        let mut d = json!({"call_uuid": "5b2f8e1c-same", "extension": "1001", "direction": "inbound",
                           "caller_number": CALLER, "destination_number": DID, "timestamp": iso(0)});
        for (k, v) in extra.as_object().unwrap() {
            d[k] = v.clone();
        }
        d
    };
    let envelope =
        |name: &str, t: i64, d: Value| json!({"event": name, "timestamp": iso(t), "data": d});
    let mut out = vec![envelope("pbx.call.ringing", 0, data(json!({})))];
    if let Some(answer) = s.answered {
        out.push(envelope(
            "pbx.call.answered",
            answer,
            data(json!({"answered_at": iso(answer)})),
        ));
    }
    let mut hangup = json!({"started_at": iso(0), "ended_at": iso(s.ended), "duration": s.ended,
                            "answered_at": s.answered.map(iso)});
    if s.answered.is_none() {
        hangup["result"] = json!("no_answer");
    }
    out.push(envelope("pbx.call.hangup", s.ended, data(hangup)));
    out
}

fn parse(kind: SourceKind, body: &Value) -> Vec<RawCallEvent> {
    let bytes = serde_json::to_vec(body).unwrap();
    let now = at(3600);
    let parsed = match kind {
        SourceKind::Kazoo => kazoo::parse(&Headers::default(), &bytes, now),
        SourceKind::Zoom => zoom::parse("secret", &bytes),
        SourceKind::Zorio => zorio::parse(&Headers::default(), &bytes),
        other => panic!("no story payloads for {other:?}"),
    };
    match parsed.unwrap() {
        Parsed::Events(events) => events,
        other => panic!("{kind:?} did not parse {body}: {other:?}"),
    }
}

fn tell(kind: SourceKind, story: &Story) -> Vec<CallEvent> {
    let bodies = match kind {
        SourceKind::Kazoo => kazoo_events(story),
        SourceKind::Zoom => zoom_events(story),
        SourceKind::Zorio => zorio_events(story),
        other => panic!("no story payloads for {other:?}"),
    };
    let deliveries: Vec<_> = bodies.iter().map(|b| parse(kind, b)).collect();
    run(kind, &deliveries)
}

/// The facts compared across sources, as subscribers read them (JSON), `null` when absent.
const FACTS: [(&str, &str); 12] = [
    ("call.ended", "/call/line/number"),
    ("call.ended", "/call/disposition"),
    ("call.ended", "/call/hangup_cause"),
    ("call.ended", "/call/ring_seconds"),
    ("call.ended", "/call/talk_seconds"),
    ("call.ended", "/call/duration_seconds"),
    ("call.ended", "/call/started_at"),
    ("call.ended", "/call/answered_at"),
    ("call.missed", "/missed/reason"),
    ("call.missed", "/missed/ring_seconds"),
    ("call.voicemail", "/voicemail/duration_seconds"),
    ("call.voicemail", "/voicemail/media/content_type"),
];

fn facts(events: &[CallEvent]) -> Vec<Value> {
    let json: Vec<Value> = events
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .collect();
    FACTS
        .iter()
        .map(|(event_type, pointer)| {
            json.iter()
                .find(|e| e["type"] == *event_type)
                .and_then(|e| e.pointer(pointer).cloned())
                .unwrap_or(Value::Null)
        })
        .collect()
}

/// What a story's facts must be, in `FACTS` order.
fn expected(story: &Story) -> Vec<Value> {
    let ring = story.answered.or(story.ring_stopped).unwrap_or(0);
    let talk = story.answered.map_or(0, |a| story.ended - a);
    let (disposition, missed) = match (story.answered, story.voicemail) {
        (Some(_), _) => ("answered", false),
        (None, Some(_)) => ("voicemail", true),
        (None, None) => ("missed", true),
    };
    let cause = if disposition == "missed" {
        "no_answer"
    } else {
        "normal"
    };
    vec![
        json!(DID),
        json!(disposition),
        json!(cause),
        json!(ring),
        json!(talk),
        json!(story.ended),
        json!(iso(0)),
        story.answered.map_or(Value::Null, |a| json!(iso(a))),
        if missed {
            json!("no_answer")
        } else {
            Value::Null
        },
        story.ring_stopped.map_or(Value::Null, |r| json!(r)),
        story.voicemail.map_or(Value::Null, |v| json!(v)),
        story.voicemail.map_or(Value::Null, |_| json!("audio/mpeg")),
    ]
}

/// Which facts a source cannot give for a story, by `FACTS` index: Zoom reports only the
/// user's side of an inbound call, so once the caller went on to voicemail it does not tell
/// when the call ended.
fn not_reported(kind: SourceKind, story: &Story) -> &'static [usize] {
    match (kind, story.voicemail) {
        (SourceKind::Zoom, Some(_)) => &[5],
        _ => &[],
    }
}

#[test]
fn the_same_story_gives_the_same_figures_from_every_source() {
    let table: [(Story, &[SourceKind]); 3] = [
        (
            ANSWERED,
            &[SourceKind::Kazoo, SourceKind::Zoom, SourceKind::Zorio],
        ),
        (
            MISSED,
            &[SourceKind::Kazoo, SourceKind::Zoom, SourceKind::Zorio],
        ),
        // Zorio's webhooks say nothing about voicemail messages.
        (
            MISSED_THEN_VOICEMAIL,
            &[SourceKind::Kazoo, SourceKind::Zoom],
        ),
    ];
    for (story, sources) in table {
        for &kind in sources {
            let mut want = expected(&story);
            for &i in not_reported(kind, &story) {
                want[i] = Value::Null;
            }
            let got = facts(&tell(kind, &story));
            for (i, (event_type, pointer)) in FACTS.iter().enumerate() {
                assert_eq!(
                    got[i], want[i],
                    "{kind:?}, story \"{}\": {event_type} {pointer}",
                    story.name
                );
            }
        }
    }
}
