//! What a finished call's outcome is called: its `disposition`, and its `hangup_cause` in
//! the one vocabulary shared by every source (the source's own words stay in
//! `hangup_cause_raw`).

use crate::ingest::{EndReason, LegRole};

use super::model::{Disposition, HangupCause, MissedReason};
use super::state::CallState;

/// The disposition and hangup cause of a call that ends now. A person answering (or a park,
/// which needs one) makes it answered; then voicemail, then a queue nobody took; otherwise
/// the last user phone's reason for not answering decides.
pub(crate) fn of(st: &CallState, answered: bool) -> (Disposition, HangupCause) {
    if answered || st.park.is_some() {
        return (Disposition::Answered, HangupCause::Normal);
    }
    if st.voicemail {
        return (Disposition::Voicemail, HangupCause::Normal);
    }
    if st.is_queue_call() {
        return (Disposition::Abandoned, HangupCause::CallerCancelled);
    }
    let last = st
        .legs
        .values()
        .filter(|l| l.role == LegRole::Callee)
        .filter(|l| {
            !matches!(
                l.end_reason,
                Some(EndReason::LoseRace | EndReason::PickedOff) | None
            )
        })
        .max_by_key(|l| l.ended_at)
        .and_then(|l| l.end_reason);
    match last {
        Some(EndReason::NoAnswer | EndReason::Normal) => {
            (Disposition::Missed, HangupCause::NoAnswer)
        }
        Some(EndReason::Busy) => (Disposition::Busy, HangupCause::Busy),
        Some(EndReason::Rejected) => (Disposition::Rejected, HangupCause::Rejected),
        Some(EndReason::Voicemail) => (Disposition::Voicemail, HangupCause::Normal),
        Some(EndReason::Unreachable) => (Disposition::Failed, HangupCause::Unreachable),
        Some(EndReason::Failed) => (Disposition::Failed, HangupCause::Failed),
        _ => (Disposition::Cancelled, HangupCause::CallerCancelled),
    }
}

/// Why a user's phone that stopped ringing did not take the call, if that makes it their miss
/// (another phone winning the race, a pickup or a transfer does not). Reaching the user's
/// voicemail is a miss for want of an answer.
pub(crate) fn missed(reason: EndReason) -> Option<(Disposition, MissedReason)> {
    match reason {
        EndReason::NoAnswer | EndReason::Voicemail => {
            Some((Disposition::Missed, MissedReason::NoAnswer))
        }
        EndReason::Busy => Some((Disposition::Busy, MissedReason::Busy)),
        EndReason::Rejected => Some((Disposition::Rejected, MissedReason::Rejected)),
        EndReason::CallerCancelled => Some((Disposition::Cancelled, MissedReason::CallerCancelled)),
        EndReason::Unreachable => Some((Disposition::Failed, MissedReason::Unreachable)),
        _ => None,
    }
}
