//! Asterisk's call detail records on the manager interface (`cdr_manager`, event class `cdr`):
//! one `Cdr` event per party pair of a finished call, with `Channel` (party A) and
//! `DestinationChannel` (party B), `CallerID`, `Destination`, `LastApplication`/`LastData`,
//! `StartTime`, `AnswerTime`, `EndTime` (the server's local time, `%Y-%m-%d %H:%M:%S`),
//! `Duration`, `BillableSeconds`, `Disposition` and `UniqueID` (party A's channel).
//!
//! The record is the history of an Asterisk source (`crate::reconcile::cdr`): it becomes a
//! raw call record of the call its party A belongs to. Asterisk 22's `cdr_manager` cannot add
//! the call's `LinkedID` (its `[mappings]` come out empty), so the call is found from the
//! channel: the translator remembers each channel's `Linkedid` from the live events, and a
//! channel it never saw is taken for the first channel of a call ringhook never saw (its
//! `UniqueID` is then the call's id), unless it is a Local channel, which never starts a call
//! from outside: such a record names no call ringhook can find, and is dropped.

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use std::collections::{HashMap, VecDeque};

use super::asterisk::endpoint_of;
use super::raw::{EndReason, RawHangup, RawParty, keys};
use super::{RawCallEvent, RawEventKind, body_hash};
use crate::domain::SourceKind;
use crate::pbx::ami_codec::AmiMessage;

/// How many hung-up channels keep their call known for the `Cdr` events that follow them.
const REMEMBERED: usize = 4096;

/// The call of each channel of this connection: kept while the channel lives and for the
/// last [`REMEMBERED`] channels that hung up (their records come right after).
#[derive(Debug, Default)]
pub struct ChannelCalls {
    calls: HashMap<String, String>,
    hung_up: VecDeque<String>,
}

impl ChannelCalls {
    /// Notes the channels an event names (`Uniqueid`/`Linkedid`, `DestUniqueid`/...).
    pub fn observe(&mut self, msg: &AmiMessage, name: &str) {
        for prefix in ["", "Dest"] {
            let field = |f: &str| msg.get(&format!("{prefix}{f}")).map(str::trim);
            if let (Some(unique), Some(linked)) = (field("Uniqueid"), field("Linkedid"))
                && !unique.is_empty()
                && !linked.is_empty()
            {
                self.calls.insert(unique.to_owned(), linked.to_owned());
            }
        }
        if name == "Hangup"
            && let Some(unique) = msg.get("Uniqueid")
        {
            self.hung_up.push_back(unique.trim().to_owned());
            if self.hung_up.len() > REMEMBERED
                && let Some(old) = self.hung_up.pop_front()
            {
                self.calls.remove(&old);
            }
        }
    }

    fn call_of(&self, unique_id: &str) -> Option<&str> {
        self.calls.get(unique_id).map(String::as_str)
    }
}

/// The raw call record a `Cdr` event stands for; `None` without `UniqueID` or `EndTime`, or
/// when it names no call ringhook can find.
pub fn cdr(msg: &AmiMessage, channels: &ChannelCalls) -> Option<RawCallEvent> {
    let field = |name: &str| {
        msg.get(name)
            .map(str::trim)
            .filter(|v| !v.is_empty() && *v != "<unknown>")
    };
    let unique_id = field("UniqueID")?;
    let clock = Clock::of(msg, field("EndTime")?)?;
    let mut event = RawCallEvent::new(SourceKind::Asterisk, RawEventKind::CallRecord, "Cdr");
    event.dedupe_key = format!(
        "ami:Cdr:{}",
        body_hash(msg.to_json().to_string().as_bytes())
    );
    let channel = field("Channel").unwrap_or_default();
    // The call: named by the record (a LinkedID field), known from the live events, or, for
    // a channel never seen that is no Local channel, the call it started.
    let call = field("LinkedID")
        .or_else(|| channels.call_of(unique_id))
        .or_else(|| (!channel.starts_with("Local/")).then_some(unique_id))?;
    event.call_keys = vec![keys::call(call)];
    let ended_at = clock.at(field("EndTime"));
    let started_at = clock.at(field("StartTime"));
    let voicemail_box = (field("LastApplication") == Some("VoiceMail"))
        .then(|| field("LastData"))
        .flatten()
        .and_then(|data| data.split([',', '@', '&']).next())
        .filter(|b| !b.is_empty());
    let disposition = field("Disposition").unwrap_or_default();
    let answered = disposition == "ANSWERED" && voicemail_box.is_none();
    event.occurred_at = ended_at;
    event.timing.ended_at = ended_at;
    event.timing.started_at = started_at;
    event.timing.answered_at = answered.then(|| clock.at(field("AnswerTime"))).flatten();
    event.timing.duration_seconds = field("Duration").and_then(|d| d.parse().ok());
    event.timing.billing_seconds = field("BillableSeconds").and_then(|d| d.parse().ok());
    event.caller = calling_party(field("Channel"), field("CallerID"), field("Source"));
    event.callee = match (voicemail_box, field("DestinationChannel")) {
        (Some(mailbox), _) => RawParty {
            number: Some(mailbox.to_owned()),
            extension: Some(mailbox.to_owned()),
            ..Default::default()
        },
        (None, Some(channel)) => called_party(channel, field("Destination")),
        (None, None) => RawParty {
            number: field("Destination").map(str::to_owned),
            ..Default::default()
        },
    };
    event.hangup = Some(RawHangup {
        reason: match (voicemail_box, disposition) {
            (Some(_), _) => EndReason::Voicemail,
            (None, "ANSWERED") => EndReason::Normal,
            (None, "BUSY") => EndReason::Busy,
            (None, "FAILED" | "CONGESTION") => EndReason::Failed,
            _ => EndReason::NoAnswer,
        },
        cause: Some(disposition.to_owned()).filter(|d| !d.is_empty()),
    });
    Some(event)
}

/// Party A: its caller id (`"Name" <number>`, else `Source`), and its endpoint when it is a
/// phone of the PBX.
fn calling_party(channel: Option<&str>, caller_id: Option<&str>, source: Option<&str>) -> RawParty {
    let (name, number) = caller_id.map(split_caller_id).unwrap_or_default();
    let (endpoint, extension) = channel.map(endpoint_of).unwrap_or_default();
    RawParty {
        name,
        number: number.or_else(|| source.map(str::to_owned)),
        extension,
        external_user_id: endpoint,
    }
}

/// Party B: the phone rung, by its endpoint; a trunk or other channel without an extension
/// stands for the number dialled (`Destination`).
fn called_party(channel: &str, destination: Option<&str>) -> RawParty {
    let (endpoint, extension) = endpoint_of(channel);
    match extension {
        Some(extension) => RawParty {
            number: Some(extension.clone()),
            extension: Some(extension),
            external_user_id: endpoint,
            ..Default::default()
        },
        None => RawParty {
            number: destination.map(str::to_owned),
            ..Default::default()
        },
    }
}

/// `"ACME SUPPLY" <+14155550123>` → (name, number); a bare number has no name.
fn split_caller_id(raw: &str) -> (Option<String>, Option<String>) {
    let Some((name, rest)) = raw.split_once('<') else {
        return (None, Some(raw.to_owned()).filter(|n| !n.is_empty()));
    };
    let number = rest.trim_end_matches('>').trim();
    let name = name.trim().trim_matches('"').trim();
    (
        Some(name.to_owned()).filter(|n| !n.is_empty()),
        Some(number.to_owned()).filter(|n| !n.is_empty()),
    )
}

/// The record's times are the server's local time; the event's `Timestamp` (epoch seconds,
/// `timestampevents = yes`) is when it was sent, right after `EndTime`: their difference,
/// rounded to a quarter hour, is the server's UTC offset. Without `Timestamp` they are UTC.
struct Clock {
    offset: TimeDelta,
}

impl Clock {
    fn of(msg: &AmiMessage, end: &str) -> Option<Clock> {
        let end = local(end)?;
        let sent = msg
            .get("Timestamp")
            .and_then(|t| t.split('.').next())
            .and_then(|s| s.trim().parse::<i64>().ok())
            .and_then(|s| DateTime::from_timestamp(s, 0));
        let offset = sent.map_or(0, |sent| {
            let apart = (end.and_utc() - sent).num_seconds();
            (apart as f64 / 900.0).round() as i64 * 900
        });
        Some(Clock {
            offset: TimeDelta::seconds(offset),
        })
    }

    fn at(&self, local_time: Option<&str>) -> Option<DateTime<Utc>> {
        local_time
            .and_then(local)
            .and_then(|t| t.and_utc().checked_sub_signed(self.offset))
    }
}

fn local(text: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M:%S").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(fields: &[(&str, &str)]) -> AmiMessage {
        let mut msg = AmiMessage::action("x", "y");
        for (k, v) in fields {
            msg = msg.with(k, v);
        }
        msg
    }

    fn answered() -> Vec<(&'static str, &'static str)> {
        vec![
            ("Event", "Cdr"),
            ("Timestamp", "1717423249.120000"),
            ("Source", "+14155550123"),
            ("Destination", "1001"),
            ("CallerID", "\"ACME SUPPLY\" <+14155550123>"),
            ("Channel", "PJSIP/trunk-00000001"),
            ("DestinationChannel", "PJSIP/1001-00000002"),
            ("LastApplication", "Dial"),
            ("StartTime", "2024-06-03 16:00:00"),
            ("AnswerTime", "2024-06-03 16:00:07"),
            ("EndTime", "2024-06-03 16:00:49"),
            ("Duration", "49"),
            ("BillableSeconds", "42"),
            ("Disposition", "ANSWERED"),
            ("UniqueID", "1717423200.1"),
            ("LinkedID", "1717423200.1"),
        ]
    }

    #[test]
    fn local_times_are_read_in_the_servers_offset_from_the_event_timestamp() {
        let ev = cdr(&message(&answered()), &ChannelCalls::default()).unwrap();
        let at = |s: &str| s.parse::<DateTime<Utc>>().ok();
        assert_eq!(ev.timing.started_at, at("2024-06-03T14:00:00Z"));
        assert_eq!(ev.timing.answered_at, at("2024-06-03T14:00:07Z"));
        assert_eq!(ev.timing.ended_at, at("2024-06-03T14:00:49Z"));
        assert_eq!(ev.call_keys, ["call:1717423200.1"]);
        assert_eq!(ev.caller.name.as_deref(), Some("ACME SUPPLY"));
        assert_eq!(ev.caller.number.as_deref(), Some("+14155550123"));
        assert_eq!(ev.callee.extension.as_deref(), Some("1001"));
        assert_eq!(ev.callee.external_user_id.as_deref(), Some("PJSIP/1001"));
    }

    #[test]
    fn a_record_of_an_unseen_local_channel_is_dropped() {
        let mut fields: Vec<_> = answered()
            .into_iter()
            .filter(|(k, _)| !matches!(*k, "LinkedID" | "Channel"))
            .collect();
        fields.push(("Channel", "Local/1001@phones-00000001;2"));
        assert!(cdr(&message(&fields), &ChannelCalls::default()).is_none());
    }

    #[test]
    fn a_record_finds_the_call_its_channel_was_seen_in() {
        let mut calls = ChannelCalls::default();
        let seen = message(&[("Uniqueid", "1717423200.1"), ("Linkedid", "1717423200.0")]);
        calls.observe(&seen, "Newchannel");
        let fields: Vec<_> = answered()
            .into_iter()
            .filter(|(k, _)| *k != "LinkedID")
            .collect();
        let ev = cdr(&message(&fields), &calls).unwrap();
        assert_eq!(ev.call_keys, ["call:1717423200.0"]);
        assert!(ev.timing.started_at.is_some());
    }

    #[test]
    fn a_record_ending_in_voicemail_names_the_mailbox_and_no_answer() {
        let mut fields = answered();
        fields.retain(|(k, _)| !matches!(*k, "DestinationChannel" | "LastApplication"));
        fields.push(("LastApplication", "VoiceMail"));
        fields.push(("LastData", "1002@default,u"));
        let ev = cdr(&message(&fields), &ChannelCalls::default()).unwrap();
        assert_eq!(ev.timing.answered_at, None);
        assert_eq!(ev.callee.extension.as_deref(), Some("1002"));
        assert_eq!(ev.hangup.unwrap().reason, EndReason::Voicemail);
    }

    #[test]
    fn an_unanswered_record_is_no_answer() {
        let mut fields = answered();
        fields.retain(|(k, _)| !matches!(*k, "Disposition" | "AnswerTime"));
        fields.push(("Disposition", "NO ANSWER"));
        fields.push(("AnswerTime", ""));
        let ev = cdr(&message(&fields), &ChannelCalls::default()).unwrap();
        assert_eq!(ev.timing.answered_at, None);
        assert_eq!(ev.hangup.unwrap().reason, EndReason::NoAnswer);
    }
}
