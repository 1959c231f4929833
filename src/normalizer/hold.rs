//! Hold: `call.held` and `call.resumed`, one per hold and resume (a call may be held many
//! times, so the time is part of what makes each one unique).

use crate::ingest::{RawCallEvent, RawEventKind};

use super::context::Ctx;
use super::directory::resolve_or_unknown;
use super::emit::{Trigger, subject_of};
use super::model::EventType;

/// The event's actor put the call on hold or took it off.
pub(crate) fn held_or_resumed(ev: &RawCallEvent, cx: &Ctx<'_>, out: &mut Vec<Trigger>) {
    let user = resolve_or_unknown(ev.actor.as_ref(), cx.dir);
    let kind = if ev.kind == RawEventKind::Held {
        EventType::Held
    } else {
        EventType::Resumed
    };
    let subject = format!("{}@{}", subject_of(&user), cx.at.timestamp());
    out.push(Trigger::new(kind, subject, cx.at, user));
}
