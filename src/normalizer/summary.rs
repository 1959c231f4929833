//! One human-readable line per event, e.g. "Inbound call from ACME SUPPLY (+14155550123)
//! answered by Alice Nguyen (ext 1001)". Written for a person reading a Zap's output.

use super::model::{CallEvent, Direction, Disposition, EventType, ParkOutcome, Party, PartyKind};

/// How a party reads in a sentence.
pub fn display(p: &Party) -> String {
    let number = p
        .number
        .as_ref()
        .map(|n| n.as_str().to_owned())
        .or_else(|| p.raw_number.clone());
    match (p.kind, &p.name, &p.extension, number) {
        (PartyKind::User, Some(name), Some(ext), _) => format!("{name} (ext {ext})"),
        (PartyKind::Queue, Some(name), _, _) => format!("queue {name}"),
        (PartyKind::Queue, None, _, _) => "a queue".into(),
        (_, Some(name), _, Some(n)) if name != &n => format!("{name} ({n})"),
        (_, Some(name), _, _) => name.clone(),
        (_, None, Some(ext), _) => format!("ext {ext}"),
        (_, None, None, Some(n)) => n,
        _ => "an unknown party".into(),
    }
}

fn direction_word(d: Direction) -> &'static str {
    match d {
        Direction::Inbound => "Inbound",
        Direction::Outbound => "Outbound",
        Direction::Internal => "Internal",
    }
}

/// The summary line of `e`.
pub fn summary(e: &CallEvent) -> String {
    let c = &e.call;
    let dir = direction_word(c.direction);
    let from = display(&c.from);
    let to = display(&c.to);
    let user = display(&c.user);
    let slot = e.park.as_ref().map_or("?", |p| p.slot.as_str());
    let queue = e
        .queue
        .as_ref()
        .and_then(|q| q.name.clone().or_else(|| q.id.clone()))
        .unwrap_or_else(|| "?".into());
    let wait = e.queue.as_ref().and_then(|q| q.wait_seconds).unwrap_or(0);
    let call = if c.direction == Direction::Outbound {
        format!("{dir} call from {from} to {to}")
    } else {
        format!("{dir} call from {from}")
    };
    match e.event_type {
        EventType::Ringing if c.direction == Direction::Outbound => format!("{call} ringing"),
        EventType::Ringing => format!("{call} ringing {user}"),
        EventType::Answered if c.direction == Direction::Outbound => format!("{call} answered"),
        EventType::Answered => format!("{call} answered by {user}"),
        EventType::Missed => match c.disposition {
            Some(Disposition::Rejected) => format!("{call} rejected by {user}"),
            Some(Disposition::Busy) => format!("{call} not taken: {user} was busy"),
            Some(Disposition::Cancelled) => format!("{call} hung up before {user} answered"),
            _ => format!("{call} missed by {user}"),
        },
        EventType::Voicemail => match e.voicemail.as_ref().and_then(|v| v.duration_seconds) {
            Some(secs) => format!("{from} left a {secs} s voicemail for {user}"),
            None => format!("{from} left a voicemail for {user}"),
        },
        EventType::RecordingReady => {
            let secs = e.recording.as_ref().and_then(|r| r.duration_seconds);
            let length = secs.map_or(String::new(), |s| format!(" ({s} s)"));
            let other = if c.direction == Direction::Outbound {
                &to
            } else {
                &from
            };
            format!(
                "Recording{length} of the {} call with {other} is ready",
                dir.to_lowercase()
            )
        }
        EventType::Ended => {
            let outcome = c.disposition.map_or("ended", |d| d.as_str());
            let talk = c.talk_seconds.unwrap_or(0);
            format!("{call} ended ({outcome}, {talk} s talk)")
        }
        EventType::Held => format!("{user} put the call with {from} on hold"),
        EventType::Resumed => format!("{user} resumed the call with {from}"),
        EventType::Transferred => {
            let target = e.transfer.as_ref().map_or("?".into(), |t| display(&t.to));
            format!("{user} transferred the call from {from} to {target}")
        }
        EventType::Parked => format!("{user} parked the call from {from} in slot {slot}"),
        EventType::Unparked => {
            format!("{user} picked up the call from {from} parked in slot {slot}")
        }
        EventType::ParkAbandoned => match e.park.as_ref().and_then(|p| p.outcome) {
            Some(ParkOutcome::TimedOut) => {
                format!("Nobody picked up the call from {from} parked in slot {slot} in time")
            }
            _ => format!("{from} hung up while parked in slot {slot}"),
        },
        EventType::Queued => format!("{call} queued in queue {queue}"),
        EventType::QueueAnswered => {
            let agent = e
                .queue
                .as_ref()
                .and_then(|q| q.agent.as_ref())
                .map_or(user, display);
            format!("{agent} answered the call from {from} from queue {queue} after {wait} s")
        }
        EventType::QueueAbandoned => {
            format!("{from} hung up after waiting {wait} s in queue {queue}")
        }
    }
}
