//! The AMI translator's own rules, one event at a time.

use super::*;

fn message(fields: &[(&str, &str)]) -> AmiMessage {
    fields
        .iter()
        .fold(AmiMessage::default(), |m, (k, v)| m.with(k, v))
}

#[test]
fn endpoints_and_extensions_come_from_the_channel_name() {
    let of = |c| endpoint_of(c);
    assert_eq!(
        of("PJSIP/1001-00000066"),
        (Some("PJSIP/1001".into()), Some("1001".into()))
    );
    assert_eq!(
        of("Local/1002@phones-0000000a;1"),
        (Some("Local/1002@phones".into()), Some("1002".into()))
    );
    assert_eq!(
        of("PJSIP/carrier-00000065"),
        (Some("PJSIP/carrier".into()), None)
    );
    assert_eq!(of(""), (None, None));
}

#[test]
fn the_inner_half_of_a_local_pair_is_never_a_leg() {
    let join = message(&[
        ("Event", "QueueCallerJoin"),
        ("Channel", "Local/+16285550111@from-pstn-00000000;2"),
        ("Uniqueid", "1.2"),
        ("Linkedid", "1.1"),
        ("Queue", "support"),
    ]);
    let events = AmiTranslator::new().translate(&join);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, RawEventKind::Queued);
    assert_eq!(events[0].call_keys, ["call:1.1"]);
    assert!(events[0].leg.is_none());
    let hangup = message(&[
        ("Event", "Hangup"),
        ("Channel", "Local/+16285550111@from-pstn-00000000;2"),
        ("Uniqueid", "1.2"),
        ("Linkedid", "1.1"),
        ("Cause", "16"),
    ]);
    assert!(AmiTranslator::new().translate(&hangup).is_empty());
}

#[test]
fn a_busy_dial_decides_the_reason_of_the_normal_hangup_that_follows() {
    let mut translator = AmiTranslator::new();
    let dial_end = message(&[
        ("Event", "DialEnd"),
        ("Channel", "PJSIP/carrier-00000001"),
        ("Uniqueid", "1.1"),
        ("Linkedid", "1.1"),
        ("DestChannel", "PJSIP/1001-00000002"),
        ("DestUniqueid", "1.2"),
        ("DestLinkedid", "1.1"),
        ("DialStatus", "BUSY"),
    ]);
    assert!(translator.translate(&dial_end).is_empty());
    let hangup = message(&[
        ("Event", "Hangup"),
        ("Channel", "PJSIP/1001-00000002"),
        ("Uniqueid", "1.2"),
        ("Linkedid", "1.1"),
        ("Cause", "16"),
        ("Cause-txt", "Normal Clearing"),
    ]);
    let ended = translator.translate(&hangup);
    let hangup = ended[0].hangup.as_ref().unwrap();
    assert_eq!(hangup.reason, EndReason::Busy);
    assert_eq!(hangup.cause.as_deref(), Some("Normal Clearing"));
    // A new connection knows nothing of earlier dials: the cause decides.
    let again = AmiTranslator::new().translate(&message(&[
        ("Event", "Hangup"),
        ("Channel", "PJSIP/1001-00000002"),
        ("Uniqueid", "1.2"),
        ("Linkedid", "1.1"),
        ("Cause", "17"),
    ]));
    assert_eq!(again[0].hangup.as_ref().unwrap().reason, EndReason::Busy);
}

#[test]
fn a_click_to_call_channel_carries_its_request_id() {
    let created = message(&[
        ("Event", "Newchannel"),
        ("Channel", "PJSIP/1001-00000009"),
        ("Uniqueid", "ringhook-req_01ABC"),
        ("Linkedid", "ringhook-req_01ABC"),
    ]);
    let events = AmiTranslator::new().translate(&created);
    assert_eq!(events[0].request_id.as_deref(), Some("req_01ABC"));
    assert!(events[0].leg.as_ref().unwrap().click_to_call);
    assert_eq!(events[0].caller.extension.as_deref(), Some("1001"));
}

#[test]
fn a_dial_to_the_outside_names_the_number_from_the_dial_string() {
    let begin = message(&[
        ("Event", "DialBegin"),
        ("Channel", "Local/1003@phones-00000000;1"),
        ("Uniqueid", "ringhook-req_01ABC"),
        ("Linkedid", "ringhook-req_01ABC"),
        ("DestChannel", "Local/+12125550199@pstn-00000001;1"),
        ("DestUniqueid", "1.3"),
        ("DestLinkedid", "ringhook-req_01ABC"),
        ("DialString", "+12125550199@pstn"),
    ]);
    let events = AmiTranslator::new().translate(&begin);
    assert_eq!(events[0].callee.number.as_deref(), Some("+12125550199"));
    assert_eq!(events[0].callee.extension, None);
    assert_eq!(events[0].request_id.as_deref(), Some("req_01ABC"));
    let trunk = message(&[
        ("Event", "DialBegin"),
        ("Channel", "PJSIP/1001-00000001"),
        ("Uniqueid", "1.1"),
        ("Linkedid", "1.1"),
        ("DestChannel", "PJSIP/carrier-00000002"),
        ("DestUniqueid", "1.2"),
        ("DestLinkedid", "1.1"),
        ("DialString", "carrier/sip:+14155550123@sip.carrier.example"),
    ]);
    let events = AmiTranslator::new().translate(&trunk);
    assert_eq!(events[0].callee.number.as_deref(), Some("+14155550123"));
}

/// Real Asterisk with the queue on a Local channel's `;2` half: the caller's `;1` hangs up
/// first, `QueueCallerAbandon` follows.
#[test]
fn a_caller_hanging_up_in_a_queue_abandons_it_before_the_call_ends_and_only_once() {
    let mut translator = AmiTranslator::new();
    let inner = |event: &str| {
        message(&[
            ("Event", event),
            ("Channel", "Local/+16285550111@from-pstn-00000000;2"),
            ("Uniqueid", "1.2"),
            ("Linkedid", "1.1"),
            ("Queue", "support"),
            ("Timestamp", "1717428601.000000"),
        ])
    };
    let hangup = message(&[
        ("Event", "Hangup"),
        ("Channel", "Local/+16285550111@from-pstn-00000000;1"),
        ("Uniqueid", "1.1"),
        ("Linkedid", "1.1"),
        ("Cause", "0"),
        ("Timestamp", "1717428642.000000"),
    ]);
    assert_eq!(translator.translate(&inner("QueueCallerJoin")).len(), 1);
    let kinds = |events: Vec<RawCallEvent>| {
        events
            .into_iter()
            .map(|e| (e.kind, e.hangup.map(|h| h.reason)))
            .collect::<Vec<_>>()
    };
    let at_hangup = translator.translate(&hangup);
    let queue = at_hangup[0].queue.clone().unwrap();
    assert_eq!(queue.id.as_deref(), Some("support"));
    assert_eq!(queue.entered_at, timestamp(&inner("QueueCallerJoin")));
    assert_ne!(at_hangup[0].dedupe_key, at_hangup[1].dedupe_key);
    assert_eq!(
        kinds(at_hangup),
        [
            (RawEventKind::QueueAbandoned, None),
            (RawEventKind::LegEnded, Some(EndReason::CallerCancelled))
        ]
    );
    assert!(
        translator
            .translate(&inner("QueueCallerAbandon"))
            .is_empty()
    );
    assert!(translator.translate(&inner("QueueCallerLeave")).is_empty());
    // A caller who left the queue (its timeout) and hangs up later abandoned nothing.
    translator.translate(&inner("QueueCallerJoin"));
    translator.translate(&inner("QueueCallerLeave"));
    assert_eq!(
        kinds(translator.translate(&hangup)),
        [(RawEventKind::LegEnded, Some(EndReason::Normal))]
    );
}

/// A PJSIP caller runs the queue itself: `QueueCallerAbandon` comes first and is told as is.
#[test]
fn queue_caller_abandon_before_the_hangup_is_told_once() {
    let mut translator = AmiTranslator::new();
    let event = |event: &str| {
        message(&[
            ("Event", event),
            ("Channel", "PJSIP/carrier-00000075"),
            ("Uniqueid", "1.1"),
            ("Linkedid", "1.1"),
            ("Queue", "support"),
        ])
    };
    translator.translate(&event("QueueCallerJoin"));
    let abandon = translator.translate(&event("QueueCallerAbandon"));
    assert_eq!(abandon[0].kind, RawEventKind::QueueAbandoned);
    translator.translate(&event("QueueCallerLeave"));
    let hangup = translator.translate(&event("Hangup"));
    assert_eq!(hangup.len(), 1);
    assert_eq!(hangup[0].kind, RawEventKind::LegEnded);
}

#[test]
fn the_phone_that_picks_up_a_parked_call_is_not_answering_it_again() {
    let mut translator = AmiTranslator::new();
    let unparked = message(&[
        ("Event", "UnParkedCall"),
        ("ParkeeChannel", "PJSIP/carrier-00000001"),
        ("ParkeeUniqueid", "1.1"),
        ("ParkeeLinkedid", "1.1"),
        ("RetrieverChannel", "PJSIP/1002-00000003"),
        ("RetrieverUniqueid", "1.3"),
        ("RetrieverLinkedid", "1.1"),
        ("ParkingSpace", "701"),
    ]);
    let enter = message(&[
        ("Event", "BridgeEnter"),
        ("Channel", "PJSIP/1002-00000003"),
        ("Uniqueid", "1.3"),
        ("Linkedid", "1.1"),
        ("BridgeType", "basic"),
    ]);
    let retrieved = translator.translate(&unparked);
    assert_eq!(retrieved[0].kind, RawEventKind::ParkRetrieved);
    assert!(translator.translate(&enter).is_empty());
    // Once it hung up, the same id is a plain channel again (ids are not reused in practice).
    let hangup = message(&[
        ("Event", "Hangup"),
        ("Channel", "PJSIP/1002-00000003"),
        ("Uniqueid", "1.3"),
        ("Linkedid", "1.1"),
    ]);
    translator.translate(&hangup);
    assert_eq!(
        translator.translate(&enter)[0].kind,
        RawEventKind::LegBridged
    );
}

#[test]
fn the_retriever_entering_the_bridge_before_unparked_call_is_no_answer_either() {
    let mut translator = AmiTranslator::new();
    let parked = message(&[
        ("Event", "ParkedCall"),
        ("ParkeeChannel", "PJSIP/carrier-00000001"),
        ("ParkeeUniqueid", "1.1"),
        ("ParkeeLinkedid", "1.1"),
        ("ParkingSpace", "701"),
    ]);
    let enter = message(&[
        ("Event", "BridgeEnter"),
        ("Channel", "Local/1002@phones-00000004;1"),
        ("Uniqueid", "1.4"),
        ("Linkedid", "1.1"),
        ("BridgeType", "basic"),
    ]);
    let unparked = message(&[
        ("Event", "UnParkedCall"),
        ("ParkeeChannel", "PJSIP/carrier-00000001"),
        ("ParkeeUniqueid", "1.1"),
        ("ParkeeLinkedid", "1.1"),
        ("RetrieverChannel", "Local/1002@phones-00000004;1"),
        ("RetrieverUniqueid", "1.4"),
        ("RetrieverLinkedid", "1.1"),
        ("ParkingSpace", "701"),
    ]);
    assert_eq!(translator.translate(&parked)[0].kind, RawEventKind::Parked);
    assert!(translator.translate(&enter).is_empty());
    assert_eq!(
        translator.translate(&unparked)[0].kind,
        RawEventKind::ParkRetrieved
    );
    // Back out of the lot, a channel joining the call's bridge is an answer again.
    let another = message(&[
        ("Event", "BridgeEnter"),
        ("Channel", "PJSIP/1003-00000005"),
        ("Uniqueid", "1.5"),
        ("Linkedid", "1.1"),
        ("BridgeType", "basic"),
    ]);
    assert_eq!(
        translator.translate(&another)[0].kind,
        RawEventKind::LegBridged
    );
}

#[test]
fn an_unhold_without_a_hold_is_no_resume() {
    let mut translator = AmiTranslator::new();
    let event = |name: &str| {
        message(&[
            ("Event", name),
            ("Channel", "PJSIP/1001-00000002"),
            ("Uniqueid", "1.2"),
            ("Linkedid", "1.1"),
        ])
    };
    assert!(translator.translate(&event("Unhold")).is_empty());
    assert_eq!(
        translator.translate(&event("Hold"))[0].kind,
        RawEventKind::Held
    );
    assert_eq!(
        translator.translate(&event("Unhold"))[0].kind,
        RawEventKind::Resumed
    );
    assert!(translator.translate(&event("Unhold")).is_empty());
}

/// A channel block as AMI sends it, with the `channelvars` variables.
fn channel_event(
    event: &str,
    channel: &str,
    uniqueid: &str,
    at: &str,
    vars: &[&str],
) -> AmiMessage {
    let mut m = message(&[
        ("Event", event),
        ("Timestamp", at),
        ("Channel", channel),
        ("Uniqueid", uniqueid),
        ("Linkedid", "9.0"),
    ]);
    for var in vars {
        m = m.with("ChanVariable", var);
    }
    m
}

#[test]
fn an_attended_transfer_through_a_local_channel_names_the_phone_it_reached() {
    let mut translator = AmiTranslator::new();
    let answered = message(&[
        ("Event", "DialEnd"),
        ("Channel", "Local/2@xfer-00000002;2"),
        ("Uniqueid", "9.5"),
        ("Linkedid", "9.0"),
        ("DestChannel", "PJSIP/1002-00000007"),
        ("DestUniqueid", "9.6"),
        ("DestLinkedid", "9.0"),
        ("DialStatus", "ANSWER"),
    ]);
    translator.translate(&answered);
    let transfer = message(&[
        ("Event", "AttendedTransfer"),
        ("Result", "Success"),
        ("OrigTransfererChannel", "PJSIP/1001-00000003"),
        ("OrigTransfererUniqueid", "9.2"),
        ("OrigTransfererLinkedid", "9.0"),
        ("SecondTransfererChannel", "PJSIP/1001-00000003"),
        ("SecondTransfererUniqueid", "9.2"),
        ("SecondTransfererLinkedid", "9.0"),
        ("TransferTargetChannel", "Local/2@xfer-00000002;1"),
        ("TransferTargetUniqueid", "9.4"),
        ("TransferTargetLinkedid", "9.0"),
    ]);
    let events = translator.translate(&transfer);
    let transfer = events[0].transfer.as_ref().unwrap();
    assert_eq!(transfer.kind, TransferKind::Attended);
    assert_eq!(transfer.by.extension.as_deref(), Some("1001"));
    assert_eq!(transfer.to.extension.as_deref(), Some("1002"));
    // The consultation was part of this very call: no other call to name.
    assert_eq!(transfer.new_call_id, None);
}

#[test]
fn a_voicemail_message_is_named_by_the_file_app_voicemail_saved() {
    let mut waiting = channel_event(
        "MessageWaiting",
        "PJSIP/carrier-00000001",
        "9.0",
        "1717423210.5",
        &["VM_MESSAGEFILE=/var/spool/asterisk/voicemail/default/1001/INBOX/msg0003"],
    );
    waiting = waiting.with("Mailbox", "1001@default");
    let events = AmiTranslator::new().translate(&waiting);
    let message = events[0].voicemail.as_ref().unwrap();
    assert_eq!(message.box_id.as_deref(), Some("1001@default"));
    assert_eq!(message.message_id.as_deref(), Some("INBOX/msg0003"));
    assert_eq!(message.duration_seconds, None);
    assert!(message.media.is_none());
}

#[test]
fn a_mixmonitor_recording_is_told_at_hangup_with_its_length_and_template_url() {
    let template = RecordingUrlTemplate::parse("https://pbx.example.net/rec/{file}").unwrap();
    let mut translator = AmiTranslator::with_recording_urls(Some(template));
    let file = "MIXMONITOR_FILENAME=/var/spool/asterisk/monitor/call-9.0.wav";
    let channel = "PJSIP/carrier-00000001";
    let start = channel_event("MixMonitorStart", channel, "9.0", "1717423200.0", &[file]);
    assert!(translator.translate(&start).is_empty());
    let hangup = channel_event("Hangup", channel, "9.0", "1717423207.6", &[file]);
    let events = translator.translate(&hangup);
    let recording = events
        .iter()
        .find_map(|e| e.recording.as_ref())
        .expect("a recording");
    assert_eq!(recording.id, "call-9.0.wav");
    assert_eq!(recording.duration_seconds, Some(8));
    assert_eq!(
        recording.media.location,
        "https://pbx.example.net/rec/call-9.0.wav"
    );
    assert_eq!(recording.media.content_type, "audio/wav");
    // Told once: a later stop of the same channel is nothing new.
    let stop = channel_event("MixMonitorStop", channel, "9.0", "1717423208.0", &[file]);
    assert!(translator.translate(&stop).is_empty());
}

#[test]
fn without_a_url_template_no_recording_is_told() {
    let mut translator = AmiTranslator::new();
    let file = "MIXMONITOR_FILENAME=/var/spool/asterisk/monitor/call-9.0.wav";
    let channel = "PJSIP/carrier-00000001";
    translator.translate(&channel_event(
        "MixMonitorStart",
        channel,
        "9.0",
        "1.0",
        &[file],
    ));
    let events = translator.translate(&channel_event(
        "MixMonitorStop",
        channel,
        "9.0",
        "5.0",
        &[file],
    ));
    assert!(events.iter().all(|e| e.recording.is_none()));
}
