//! After each (re)connect, which of the source's open calls the PBX no longer has. While
//! ringhook was away a call may have ended (its `Hangup` is lost) or started; the PBX's list
//! of live channels (AMI `CoreShowChannels`) settles it: calls open in ringhook whose call id
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

/// Collects the live calls between sending `CoreShowChannels` and its
/// `CoreShowChannelsComplete`.
#[derive(Debug)]
pub struct LiveCalls {
    action_id: String,
    live: HashSet<String>,
}

impl LiveCalls {
    pub fn new(action_id: &str) -> Self {
        LiveCalls {
            action_id: action_id.to_owned(),
            live: HashSet::new(),
        }
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
                let mut event = RawCallEvent::new(
                    SourceKind::Asterisk,
                    RawEventKind::CallRecord,
                    "CoreShowChannels",
                );
                event.call_keys = vec![key.clone()];
                event.dedupe_key = format!("ami:gone:{key}:{}", now.timestamp_millis());
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
        let mut live = LiveCalls::new("rh-2");
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
}
