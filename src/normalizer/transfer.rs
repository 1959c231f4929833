//! Transfers: `call.transferred` once a transfer completes. A started transfer only adds its
//! two users to the call's participants, so their hooks see what follows.

use crate::ingest::{RawCallEvent, RawEventKind, TransferKind as RawTransferKind};

use super::context::Ctx;
use super::directory::resolve;
use super::emit::{Trigger, subject_of};
use super::facts::keep_richer;
use super::model::{EventType, TransferInfo, TransferKind};
use super::state::CallState;

/// A transfer started or completed; the target becomes the user the call last rang.
pub(crate) fn transfer(
    st: &mut CallState,
    ev: &RawCallEvent,
    cx: &Ctx<'_>,
    out: &mut Vec<Trigger>,
) {
    let Some(raw) = &ev.transfer else { return };
    let by = resolve(&raw.by, cx.dir);
    let to = resolve(&raw.to, cx.dir);
    for u in [&by.user_id, &to.user_id].into_iter().flatten() {
        st.participants.insert(u.clone());
    }
    if let Some(new_call) = &raw.new_call_id {
        st.transfer_new_call.get_or_insert_with(|| new_call.clone());
    }
    if ev.kind != RawEventKind::TransferCompleted {
        return;
    }
    let kind = match raw.kind {
        RawTransferKind::Blind => TransferKind::Blind,
        RawTransferKind::Attended => TransferKind::Attended,
    };
    if to.is_user() {
        keep_richer(&mut st.last_rung, &to);
    }
    let subject = format!("{}:{}", subject_of(&by), subject_of(&to));
    let mut t = Trigger::new(EventType::Transferred, subject, cx.at, by);
    t.transfer = Some(TransferInfo {
        kind,
        to,
        new_call_id: st.transfer_new_call.clone(),
    });
    out.push(t);
}
