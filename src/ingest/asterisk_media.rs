//! Asterisk's voicemail messages and `MixMonitor()` recordings.
//!
//! AMI tells of both only through channel variables that manager.conf's `channelvars` adds
//! to every event of a channel: `VM_MESSAGEFILE` (app_voicemail sets it to the message it
//! saved) and `MIXMONITOR_FILENAME` (the file `MixMonitor()` writes). Neither comes with a
//! length: a recording's is the time from `MixMonitorStart` to `MixMonitorStop` or to the
//! recorded channel's hang-up (when `MixMonitor()` closes the file without a stop event); a
//! voicemail message's is not told at all.

use chrono::{DateTime, Utc};

use super::{Channel, Draft, timestamp};
use crate::ingest::raw::{LegRole, RawMedia, RawParty, RawRecording, RawVoicemail};
use crate::ingest::{RawEventKind, asterisk::AmiTranslator};
use crate::pbx::ami_codec::AmiMessage;
use crate::pbx::recording_url;

/// A recording `MixMonitor()` is writing.
#[derive(Debug)]
pub(super) struct Recording {
    /// Asterisk's path of the file, once an event has named it.
    path: Option<String>,
    started_at: Option<DateTime<Utc>>,
}

/// The value of a channel variable listed in `channelvars`, when set (`prefix` names the
/// channel block: `""`, `Dest`, ...).
pub(super) fn channel_var(msg: &AmiMessage, prefix: &str, name: &str) -> Option<String> {
    let field = format!("{prefix}ChanVariable");
    msg.all(&field)
        .filter_map(|var| var.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

impl AmiTranslator {
    /// `MixMonitorStart`: remember the file and when recording began.
    pub(super) fn recording_started(&mut self, msg: &AmiMessage) -> Vec<Draft> {
        if let Some(ch) = Channel::of(msg, "") {
            self.recordings.insert(
                ch.uniqueid().to_owned(),
                Recording {
                    path: channel_var(msg, "", "MIXMONITOR_FILENAME"),
                    started_at: timestamp(msg),
                },
            );
        }
        Vec::new()
    }

    /// `MixMonitorStop`, or the hang-up of a channel being recorded: the file is complete.
    pub(super) fn recording_stopped(&mut self, msg: &AmiMessage) -> Vec<Draft> {
        let Some(ch) = Channel::of(msg, "") else {
            return Vec::new();
        };
        let Some(recording) = self.recordings.remove(ch.uniqueid()) else {
            return Vec::new();
        };
        let path = recording
            .path
            .or_else(|| channel_var(msg, "", "MIXMONITOR_FILENAME"));
        // Without a template the file cannot be fetched, and a recording trigger always
        // carries its audio: nothing to tell.
        let (Some(path), Some(urls)) = (path, self.recording_urls.as_ref()) else {
            return Vec::new();
        };
        let duration = match (recording.started_at, timestamp(msg)) {
            (Some(start), Some(end)) if end >= start => {
                Some(((end - start).num_milliseconds() + 500) / 1000)
            }
            _ => None,
        };
        let mut d = Draft::on(&ch, RawEventKind::Recording, LegRole::Caller);
        d.part = ":recording";
        d.event.leg = None;
        d.event.recording = Some(RawRecording {
            id: path.rsplit('/').next().unwrap_or(&path).to_owned(),
            duration_seconds: duration,
            media: RawMedia {
                location: urls.render(&path),
                content_type: recording_url::content_type(&path).to_owned(),
            },
        });
        vec![d]
    }
}

/// app_voicemail saved a message: `MessageWaiting` for the mailbox, carrying the caller's
/// channel when a call left it (on a Local pair, the half that ran `VoiceMail()`).
pub(super) fn voicemail(msg: &AmiMessage) -> Vec<Draft> {
    let Some(ch) = Channel::of(msg, "") else {
        return Vec::new();
    };
    let mailbox = msg.get("Mailbox").unwrap_or_default();
    let owner = mailbox.split('@').next().unwrap_or_default().to_owned();
    let mut d = Draft::on(&ch, RawEventKind::Voicemail, LegRole::Caller);
    d.event.leg = None;
    d.event.callee = RawParty {
        number: Some(owner.clone()),
        extension: Some(owner),
        ..Default::default()
    };
    // The message as app_voicemail saved it: its folder and file (`INBOX/msg0000`), from
    // `VM_MESSAGEFILE`. AMI gives no length and no way to the audio.
    let message_id = channel_var(msg, "", "VM_MESSAGEFILE").map(|path| {
        let mut tail: Vec<&str> = path.rsplit('/').take(2).collect();
        tail.reverse();
        tail.join("/")
    });
    d.event.voicemail = Some(RawVoicemail {
        box_id: Some(mailbox.to_owned()).filter(|m| !m.is_empty()),
        message_id,
        ..Default::default()
    });
    vec![d]
}
