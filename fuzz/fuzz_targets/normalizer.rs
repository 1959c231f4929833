//! The call state machine fed arbitrary sequences of raw events: any kind in any order, legs
//! and keys drawn from small pools so that events meet on the same calls, times near each other
//! or anywhere (those outside the ingest bounds are skipped, as ingest refuses them), and
//! deliveries received at advancing clock times before every call is settled.
#![no_main]

use chrono::{DateTime, TimeDelta, Utc};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use ringhook::domain::SourceKind;
use ringhook::ingest::{
    EndReason, LegRole, QueueAbandonReason, RawCallEvent, RawEventKind, RawHangup, RawLeg,
    RawMedia, RawParty, RawQueue, RawRecording, RawTransfer, RawVoicemail, TransferKind,
};
use ringhook_fuzz::{ALICE_IDS, BOB_IDS, Calls, base_time};

const KINDS: [RawEventKind; 18] = [
    RawEventKind::LegCreated,
    RawEventKind::LegAnswered,
    RawEventKind::LegBridged,
    RawEventKind::LegEnded,
    RawEventKind::Held,
    RawEventKind::Resumed,
    RawEventKind::Parked,
    RawEventKind::ParkRetrieved,
    RawEventKind::ParkAbandoned,
    RawEventKind::Queued,
    RawEventKind::QueueAnswered,
    RawEventKind::QueueAgentMissed,
    RawEventKind::QueueAbandoned,
    RawEventKind::Voicemail,
    RawEventKind::TransferStarted,
    RawEventKind::TransferCompleted,
    RawEventKind::CallRecord,
    RawEventKind::Recording,
];

const REASONS: [EndReason; 12] = [
    EndReason::Normal,
    EndReason::NoAnswer,
    EndReason::Busy,
    EndReason::Rejected,
    EndReason::CallerCancelled,
    EndReason::LoseRace,
    EndReason::PickedOff,
    EndReason::BlindTransfer,
    EndReason::AttendedTransfer,
    EndReason::Voicemail,
    EndReason::Unreachable,
    EndReason::Failed,
];

const CALL_KEYS: [&str; 8] = [
    "cid:interaction-1",
    "cid:interaction-2",
    "leg:a-leg",
    "leg:b-leg",
    "leg:c-leg",
    "call:7380000000000000001",
    "call:7380000000000000002",
    "park:101",
];
const LEGS: [&str; 4] = ["a-leg", "b-leg", "c-leg", "d-leg"];
const NUMBERS: [&str; 8] = [
    "+14155550123",
    "+16285550100",
    "6285550101",
    "1001",
    "1002",
    "*801",
    "0",
    "not a number",
];
const NAMES: [&str; 3] = ["ACME SUPPLY", "Alice Nguyen", ""];
const SLOTS: [&str; 3] = ["101", "*801", "102"];
const QUEUES: [&str; 2] = ["a9d1cbf71942327e98b40cf5ef38a960", "unknown-queue"];

fn pick<'a>(u: &mut Unstructured<'_>, pool: &[&'a str]) -> Result<&'a str> {
    u.choose(pool).copied()
}

fn maybe<T>(
    u: &mut Unstructured<'_>,
    make: impl FnOnce(&mut Unstructured<'_>) -> Result<T>,
) -> Result<Option<T>> {
    if u.arbitrary::<bool>()? {
        Ok(Some(make(u)?))
    } else {
        Ok(None)
    }
}

/// Mostly minutes around the fixtures' clock; sometimes any instant chrono has.
fn time(u: &mut Unstructured<'_>) -> Result<DateTime<Utc>> {
    if u.ratio(1, 16)? {
        let seconds = u.arbitrary::<i64>()?;
        return Ok(DateTime::from_timestamp(seconds, 0).unwrap_or(DateTime::<Utc>::MAX_UTC));
    }
    Ok(base_time() + TimeDelta::seconds(u.int_in_range(-600..=3600)?))
}

fn seconds(u: &mut Unstructured<'_>) -> Result<i64> {
    if u.ratio(1, 16)? {
        return u.arbitrary();
    }
    u.int_in_range(0..=600)
}

fn party(u: &mut Unstructured<'_>) -> Result<RawParty> {
    let users: Vec<&str> = ALICE_IDS.iter().chain(&BOB_IDS).copied().chain(["stranger"]).collect();
    Ok(RawParty {
        name: maybe(u, |u| pick(u, &NAMES).map(str::to_owned))?,
        number: maybe(u, |u| pick(u, &NUMBERS).map(str::to_owned))?,
        extension: maybe(u, |u| pick(u, &["1001", "1002", "1003"]).map(str::to_owned))?,
        external_user_id: maybe(u, |u| pick(u, &users).map(str::to_owned))?,
    })
}

fn raw_event(u: &mut Unstructured<'_>, source: SourceKind, serial: usize) -> Result<RawCallEvent> {
    let kind = *u.choose(&KINDS)?;
    let mut e = RawCallEvent::new(source, kind, "fuzz");
    e.dedupe_key = match u.int_in_range(0..=3)? {
        0 => String::new(),
        1 => format!("dup:{}", u.int_in_range(0..=3)?),
        _ => format!("fresh:{serial}"),
    };
    for _ in 0..u.int_in_range(1..=3)? {
        let key = pick(u, &CALL_KEYS)?.to_owned();
        if !e.call_keys.contains(&key) {
            e.call_keys.push(key);
        }
    }
    if u.arbitrary()? {
        e.related_keys.push(pick(u, &CALL_KEYS)?.to_owned());
    }
    e.leg = maybe(u, |u| {
        Ok(RawLeg {
            id: pick(u, &LEGS)?.to_owned(),
            role: if u.arbitrary()? { LegRole::Caller } else { LegRole::Callee },
            other_leg: maybe(u, |u| pick(u, &LEGS).map(str::to_owned))?,
            is_agent: u.ratio(1, 4)?,
            click_to_call: u.ratio(1, 8)?,
        })
    })?;
    e.occurred_at = maybe(u, time)?;
    e.caller = party(u)?;
    e.callee = party(u)?;
    e.actor = maybe(u, party)?;
    e.hangup = maybe(u, |u| {
        Ok(RawHangup {
            reason: *u.choose(&REASONS)?,
            cause: maybe(u, |u| pick(u, &["NORMAL_CLEARING", "USER_BUSY", "No Answer"]).map(str::to_owned))?,
        })
    })?;
    e.timing.started_at = maybe(u, time)?;
    e.timing.answered_at = maybe(u, time)?;
    e.timing.ended_at = maybe(u, time)?;
    e.timing.ring_seconds = maybe(u, seconds)?;
    e.timing.billing_seconds = maybe(u, seconds)?;
    e.timing.duration_seconds = maybe(u, seconds)?;
    e.park_slot = maybe(u, |u| pick(u, &SLOTS).map(str::to_owned))?;
    e.queue = maybe(u, |u| {
        Ok(RawQueue {
            id: maybe(u, |u| pick(u, &QUEUES).map(str::to_owned))?,
            name: maybe(u, |u| pick(u, &["Support", ""]).map(str::to_owned))?,
            entered_at: maybe(u, time)?,
            agent: maybe(u, party)?,
            abandon_reason: maybe(u, |u| {
                u.choose(&[
                    QueueAbandonReason::CallerHungUp,
                    QueueAbandonReason::Timeout,
                    QueueAbandonReason::Exit,
                ])
                .copied()
            })?,
        })
    })?;
    e.transfer = maybe(u, |u| {
        Ok(RawTransfer {
            kind: if u.arbitrary()? { TransferKind::Blind } else { TransferKind::Attended },
            by: party(u)?,
            to: party(u)?,
            new_call_id: maybe(u, |u| pick(u, &["7380000000000000002", ""]).map(str::to_owned))?,
        })
    })?;
    e.line = maybe(u, party)?;
    e.voicemail = maybe(u, |u| {
        Ok(RawVoicemail {
            box_id: maybe(u, |u| pick(u, &["box-1", ""]).map(str::to_owned))?,
            message_id: maybe(u, |u| pick(u, &["msg-1", "msg-2"]).map(str::to_owned))?,
            duration_seconds: maybe(u, seconds)?,
            transcription: None,
            media: maybe(u, media)?,
        })
    })?;
    e.recording = maybe(u, |u| {
        Ok(RawRecording {
            id: pick(u, &["rec-1", "rec-2"])?.to_owned(),
            duration_seconds: maybe(u, seconds)?,
            media: media(u)?,
        })
    })?;
    e.request_id = maybe(u, |u| pick(u, &["call_01request", ""]).map(str::to_owned))?;
    if u.ratio(1, 4)? {
        let reason = pick(u, &["caller_hung_up", "timeout", "exit", "agent_missed"])?;
        e.custom_vars.insert("reason".into(), reason.to_owned());
    }
    Ok(e)
}

fn media(u: &mut Unstructured<'_>) -> Result<RawMedia> {
    Ok(RawMedia {
        location: pick(u, &["https://pbx.example/a.mp3", "accounts/a/vmboxes/b/messages/c/raw"])?
            .to_owned(),
        content_type: "audio/mpeg".into(),
    })
}

fn run(u: &mut Unstructured<'_>) -> Result<()> {
    let source = *u.choose(&[SourceKind::Kazoo, SourceKind::Zoom, SourceKind::Zorio])?;
    let mut calls = Calls::new(source);
    let mut now = base_time();
    for serial in 0..u.int_in_range(1..=24)? {
        let event = raw_event(u, source, serial)?;
        calls.apply(&event, now);
        now += TimeDelta::seconds(u.int_in_range(0..=120)?);
        if u.ratio(1, 8)? {
            calls.settle_all(now);
        }
    }
    calls.settle_all(now + TimeDelta::days(1));
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let _ = run(&mut u);
});
