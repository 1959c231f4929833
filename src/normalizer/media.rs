//! Voicemail messages and call recordings: `call.voicemail` and `call.recording_ready`, the
//! triggers that hand over audio.
//!
//! Subscribers never see where the source keeps a file (its URLs may need the PBX's
//! credentials): each file gets a media id, remembered on the call with the source's location,
//! and events point at ringhook's own `GET /v1/media/{id}`.
//!
//! A source may say the caller reached voicemail (a leg ending "Voicemail") before it tells
//! about the message. Then `call.voicemail` waits for the message until the call settles,
//! and goes out once either way.

use crate::ingest::{RawMedia, RawRecording, RawVoicemail};

use super::context::Ctx;
use super::emit::{Trigger, short_hash};
use super::model::{EventType, Media, Party, RecordingInfo, VoicemailInfo};
use super::state::CallState;

/// The trigger key subject of a call's voicemail: one `call.voicemail` per call.
const VOICEMAIL: &str = "voicemail";

/// The media id of a file: derived from where the source keeps it, so a replay gives the same.
fn media_id(st: &CallState, raw: &RawMedia) -> String {
    let hash = short_hash(
        &[st.tenant_id.as_str(), st.source_id.as_str(), &raw.location],
        26,
    );
    format!("med_{hash}")
}

/// Remembers where the source keeps a file and gives the subscriber's view of it.
fn register(st: &mut CallState, raw: &RawMedia, cx: &Ctx<'_>) -> Media {
    let id = media_id(st, raw);
    let url = format!("{}/v1/media/{id}", cx.config.public_base);
    st.media.insert(id, raw.clone());
    Media {
        url,
        content_type: raw.content_type.clone(),
        size_bytes: None,
    }
}

/// The source told about a voicemail message (or, without `message`, that the caller reached
/// the voicemail of the event's callee): the call ends as a voicemail.
pub(crate) fn voicemail(
    st: &mut CallState,
    message: Option<&RawVoicemail>,
    cx: &Ctx<'_>,
    out: &mut Vec<Trigger>,
) {
    st.voicemail = true;
    let owner = if cx.callee.is_user() {
        cx.callee.clone()
    } else {
        st.last_rung.clone().unwrap_or_else(|| cx.callee.clone())
    };
    let Some(message) = message else {
        st.voicemail_pending.get_or_insert((owner, cx.at));
        return;
    };
    let media = message.media.as_ref().map(|m| register(st, m, cx));
    let mut t = Trigger::new(EventType::Voicemail, VOICEMAIL, cx.at, owner);
    t.voicemail = Some(VoicemailInfo {
        box_id: message.box_id.clone(),
        message_id: message.message_id.clone(),
        duration_seconds: message.duration_seconds,
        transcription: message.transcription.clone(),
        media,
    });
    st.voicemail_pending = None;
    out.push(t);
}

/// A leg said the caller went to voicemail: wait for the message (see the module docs).
pub(crate) fn voicemail_reached(st: &mut CallState, owner: Party, cx: &Ctx<'_>) {
    st.voicemail = true;
    st.voicemail_pending.get_or_insert((owner, cx.at));
}

/// At settle: the voicemail a leg announced and whose message never came goes out without it.
pub(crate) fn flush(st: &mut CallState, out: &mut Vec<Trigger>) {
    if let Some((owner, at)) = st.voicemail_pending.take() {
        let mut t = Trigger::new(EventType::Voicemail, VOICEMAIL, at, owner);
        t.voicemail = Some(VoicemailInfo {
            box_id: None,
            message_id: None,
            duration_seconds: None,
            transcription: None,
            media: None,
        });
        out.push(t);
    }
}

/// A recording of the call is ready; it concerns whoever the call is about (the user who
/// answered, else was rung or called, else the user the recording's own event names).
pub(crate) fn recording(
    st: &mut CallState,
    raw: &RawRecording,
    cx: &Ctx<'_>,
    out: &mut Vec<Trigger>,
) {
    let media = register(st, &raw.media, cx);
    let user = st
        .answered_by
        .clone()
        .or_else(|| st.last_rung.clone())
        .or_else(|| st.originator.clone())
        .or_else(|| {
            [&cx.callee, &cx.caller]
                .into_iter()
                .find(|p| p.is_user())
                .cloned()
        })
        .unwrap_or_else(Party::unknown);
    let subject = format!("recording:{}", raw.id);
    let mut t = Trigger::new(EventType::RecordingReady, subject, cx.at, user);
    t.recording = Some(RecordingInfo {
        id: raw.id.clone(),
        duration_seconds: raw.duration_seconds,
        media,
    });
    out.push(t);
}
