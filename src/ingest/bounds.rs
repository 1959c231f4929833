//! What times and durations a source may report. Every adapter's events pass [`check`] before
//! they reach the normalizer, so its date arithmetic (settle and stale deadlines, durations
//! between two times) cannot overflow, and a value no phone call has is refused as malformed
//! (400) rather than stored or turned into a trigger.

use chrono::{DateTime, Utc};

use super::{IngestError, RawCallEvent};

/// Earliest time an event may carry: the Unix epoch. No PBX reports calls before it; Kazoo's
/// Gregorian seconds of 0 (year 0) is a broken clock, not a call.
pub const EARLIEST: DateTime<Utc> = DateTime::<Utc>::UNIX_EPOCH;

/// Latest time an event may carry, 9999-12-31T23:59:59Z: the last RFC 3339 can write, and far
/// enough from chrono's limit (year 262,143) for any deadline the normalizer adds.
pub fn latest() -> DateTime<Utc> {
    DateTime::from_timestamp(253_402_300_799, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Longest duration accepted, in seconds: 366 days. Real calls last hours at most.
pub const MAX_SECONDS: i64 = 366 * 24 * 3600;

/// Refuses an event with a time outside [`EARLIEST`]..=[`latest`] or a duration outside
/// `0..=MAX_SECONDS`, naming the field.
pub fn check(event: &RawCallEvent) -> Result<(), IngestError> {
    let t = &event.timing;
    let times = [
        ("occurred_at", event.occurred_at),
        ("started_at", t.started_at),
        ("answered_at", t.answered_at),
        ("ended_at", t.ended_at),
        (
            "queue.entered_at",
            event.queue.as_ref().and_then(|q| q.entered_at),
        ),
    ];
    let latest = latest();
    for (field, time) in times {
        if let Some(time) = time
            && !(EARLIEST..=latest).contains(&time)
        {
            return Err(IngestError::Malformed(format!(
                "{} reports {field} {time}, outside 1970 to 9999",
                event.source_event
            )));
        }
    }
    let durations = [
        ("ring_seconds", t.ring_seconds),
        ("billing_seconds", t.billing_seconds),
        ("duration_seconds", t.duration_seconds),
    ];
    for (field, seconds) in durations {
        if let Some(seconds) = seconds
            && !(0..=MAX_SECONDS).contains(&seconds)
        {
            return Err(IngestError::Malformed(format!(
                "{} reports {field} {seconds}, outside 0 to {MAX_SECONDS} s",
                event.source_event
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::SourceKind;
    use crate::ingest::{RawEventKind, RawQueue};
    use chrono::TimeDelta;

    fn event() -> RawCallEvent {
        RawCallEvent::new(SourceKind::Kazoo, RawEventKind::LegEnded, "channel_destroy")
    }

    #[test]
    fn an_event_with_ordinary_values_passes() {
        let mut e = event();
        e.occurred_at = DateTime::from_timestamp(1_717_423_249, 0);
        e.timing.duration_seconds = Some(49);
        e.timing.billing_seconds = Some(0);
        assert_eq!(check(&e), Ok(()));
    }

    #[test]
    fn the_bounds_themselves_are_accepted() {
        let mut e = event();
        e.timing.started_at = Some(EARLIEST);
        e.timing.ended_at = Some(latest());
        e.timing.duration_seconds = Some(MAX_SECONDS);
        assert_eq!(check(&e), Ok(()));
    }

    #[test]
    fn every_time_field_is_checked() {
        let too_late = latest() + TimeDelta::seconds(1);
        let setters: [fn(&mut RawCallEvent, DateTime<Utc>); 5] = [
            |e, t| e.occurred_at = Some(t),
            |e, t| e.timing.started_at = Some(t),
            |e, t| e.timing.answered_at = Some(t),
            |e, t| e.timing.ended_at = Some(t),
            |e, t| {
                e.queue = Some(RawQueue {
                    entered_at: Some(t),
                    ..Default::default()
                })
            },
        ];
        for set in setters {
            for time in [
                too_late,
                EARLIEST - TimeDelta::seconds(1),
                DateTime::<Utc>::MIN_UTC,
            ] {
                let mut e = event();
                set(&mut e, time);
                assert!(check(&e).is_err(), "{e:?}");
            }
        }
    }

    #[test]
    fn every_duration_field_is_checked() {
        let setters: [fn(&mut RawCallEvent, i64); 3] = [
            |e, s| e.timing.ring_seconds = Some(s),
            |e, s| e.timing.billing_seconds = Some(s),
            |e, s| e.timing.duration_seconds = Some(s),
        ];
        for set in setters {
            for seconds in [
                -1,
                MAX_SECONDS + 1,
                1_000_000_000_000_000,
                i64::MIN,
                i64::MAX,
            ] {
                let mut e = event();
                set(&mut e, seconds);
                assert!(check(&e).is_err(), "{e:?}");
            }
        }
    }
}
