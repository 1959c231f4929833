//! After each (re)connect, which of the source's open calls the PBX no longer has. While
//! ringhook was away a call may have ended (its `Hangup` is lost) or started; the PBX's list
//! of live channels (AMI `CoreShowChannels`, ESL `api show channels as json`) settles it: calls open in ringhook whose call id
//! is not among the live channels' `Linkedid`s are closed with a call record saying so, and
//! live calls simply continue with the events that follow.

use chrono::{DateTime, Utc};
use std::collections::HashSet;

use super::ami_codec::AmiMessage;
use crate::domain::SourceKind;
use crate::ingest::raw::{EndReason, RawHangup, keys};
use crate::ingest::{RawCallEvent, RawEventKind};

/// The `hangup_cause_raw` of a call closed this way.
pub const GONE_CAUSE: &str = "no longer on the PBX after a reconnect";

/// Collects the live calls between asking for the channel list and its end.
#[derive(Debug)]
pub struct LiveCalls {
    kind: SourceKind,
    /// AMI: the `ActionID` of the `CoreShowChannels` sent.
    action_id: String,
    live: HashSet<String>,
}

impl LiveCalls {
    pub fn new(kind: SourceKind, action_id: &str) -> Self {
        LiveCalls {
            kind,
            action_id: action_id.to_owned(),
            live: HashSet::new(),
        }
    }

    /// ESL: an event read while the list is awaited; its call is live.
    pub fn note_esl_event(&mut self, event: &serde_json::Value) {
        if let Some(call) = event.get("Channel-Call-UUID").and_then(|v| v.as_str()) {
            self.live.insert(keys::call(call));
        }
    }

    /// ESL: an `api/response` body; true when it is the channel list (`{"row_count": …}`),
    /// whose rows' `call_uuid`s are live.
    pub fn observe_esl_list(&mut self, body: &[u8]) -> bool {
        let Ok(list) = serde_json::from_slice::<serde_json::Value>(body) else {
            return false;
        };
        if list.get("row_count").is_none() {
            return false;
        }
        let rows = list.get("rows").and_then(|r| r.as_array());
        for row in rows.into_iter().flatten() {
            for field in ["call_uuid", "uuid"] {
                if let Some(id) = row.get(field).and_then(|v| v.as_str()) {
                    self.live.insert(keys::call(id));
                }
            }
        }
        true
    }

    /// Reads one message; true once the list is complete. Every event's `Linkedid` counts as
    /// live, so a call that starts while the list is being sent is not closed by mistake.
    pub fn observe(&mut self, message: &AmiMessage) -> bool {
        if let Some(linked) = message.get("Linkedid") {
            self.live.insert(keys::call(linked));
        }
        message.event() == Some("CoreShowChannelsComplete")
            && message.get("ActionID") == Some(self.action_id.as_str())
    }

    /// Call records closing each of `open` (call keys) that is not live, at `now`.
    pub fn closing(&self, open: &[String], now: DateTime<Utc>) -> Vec<RawCallEvent> {
        open.iter()
            .filter(|key| !self.live.contains(*key))
            .map(|key| {
                let (list, prefix) = match self.kind {
                    SourceKind::Freeswitch => ("show channels", "esl"),
                    _ => ("CoreShowChannels", "ami"),
                };
                let mut event = RawCallEvent::new(self.kind, RawEventKind::CallRecord, list);
                event.call_keys = vec![key.clone()];
                let at = now.timestamp_millis();
                event.dedupe_key = format!("{prefix}:gone:{key}:{at}");
                event.occurred_at = Some(now);
                event.timing.ended_at = Some(now);
                event.hangup = Some(RawHangup {
                    reason: EndReason::Normal,
                    cause: Some(GONE_CAUSE.to_owned()),
                });
                event
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(fields: &[(&str, &str)]) -> AmiMessage {
        fields
            .iter()
            .fold(AmiMessage::default(), |m, (k, v)| m.with(k, v))
    }

    #[test]
    fn only_calls_the_pbx_no_longer_has_are_closed() {
        let mut live = LiveCalls::new(SourceKind::Asterisk, "rh-2");
        let row = message(&[
            ("Event", "CoreShowChannel"),
            ("ActionID", "rh-2"),
            ("Linkedid", "1.1"),
        ]);
        assert!(!live.observe(&row));
        // A call starting meanwhile is live too.
        assert!(!live.observe(&message(&[("Event", "Newchannel"), ("Linkedid", "1.7")])));
        let other = message(&[("Event", "CoreShowChannelsComplete"), ("ActionID", "rh-9")]);
        assert!(!live.observe(&other));
        let done = message(&[("Event", "CoreShowChannelsComplete"), ("ActionID", "rh-2")]);
        assert!(live.observe(&done));

        let open = vec![keys::call("1.1"), keys::call("1.5"), keys::call("1.7")];
        let closed = live.closing(&open, Utc::now());
        assert_eq!(closed.len(), 1);
        assert_eq!(closed[0].call_keys, [keys::call("1.5")]);
        assert_eq!(closed[0].kind, RawEventKind::CallRecord);
        assert_eq!(
            closed[0].hangup.as_ref().and_then(|h| h.cause.as_deref()),
            Some(GONE_CAUSE)
        );
    }

    #[test]
    fn freeswitch_calls_in_the_channel_list_or_in_events_meanwhile_stay_open() {
        let mut live = LiveCalls::new(SourceKind::Freeswitch, "");
        assert!(!live.observe_esl_list(b"+OK UP 0 years"));
        live.note_esl_event(&serde_json::json!({"Channel-Call-UUID": "c-3"}));
        let list = br#"{"row_count": 1, "rows": [{"uuid": "b-1", "call_uuid": "c-1"}]}"#;
        assert!(live.observe_esl_list(list));
        let open: Vec<String> = ["c-1", "c-2", "c-3"].map(keys::call).to_vec();
        let closed = live.closing(&open, Utc::now());
        assert_eq!(closed.len(), 1);
        assert_eq!(closed[0].call_keys, [keys::call("c-2")]);
        assert_eq!(closed[0].source, SourceKind::Freeswitch);
        assert!(closed[0].dedupe_key.starts_with("esl:gone:call:c-2:"));
        assert!(live_list_is_empty_when_no_rows());
    }

    fn live_list_is_empty_when_no_rows() -> bool {
        let mut live = LiveCalls::new(SourceKind::Freeswitch, "");
        live.observe_esl_list(br#"{"row_count": 0}"#) && live.live.is_empty()
    }
}
