//! The retry policy: after each attempt, whether the delivery is done, retried later (and when),
//! given up, or whether the subscription itself is dead. Pure: the jitter and the clock are
//! arguments, so every decision can be pinned in a test.
//!
//! Rules (DESIGN.md "Delivery"; Standard Webhooks "Retry schedule"; REST Hooks / Zapier on 410):
//! - 2xx is delivered.
//! - `410 Gone` means the subscriber removed the hook: delete the subscription, never retry.
//! - Everything else (timeouts, connection errors, 3xx since redirects are not followed, other
//!   4xx, 5xx, 429) is retried on [`STANDARD_SCHEDULE`] with ±20 % jitter, then given up.
//! - `429` and `503` may carry `Retry-After` (RFC 9110 §10.2.3, RFC 6585 §4); it is honoured but
//!   clamped: never sooner than our own (jittered) step, never later than [`MAX_RETRY_AFTER`].

use chrono::{DateTime, Utc};
use std::time::{Duration, SystemTime};

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;

/// Wait before each retry: entry `n - 1` follows attempt `n`. 13 retries (14 attempts) spread over
/// 47 h 42 min 35 s, so a receiver that is down for a weekend day still gets its events, while the
/// first retries come fast enough to hide a deploy or a blip. Svix spans 27.6 h, Hook0 about 7.5 d.
pub const STANDARD_SCHEDULE: [Duration; 13] = [
    Duration::from_secs(5),
    Duration::from_secs(30),
    Duration::from_secs(2 * MINUTE),
    Duration::from_secs(10 * MINUTE),
    Duration::from_secs(30 * MINUTE),
    Duration::from_secs(HOUR),
    Duration::from_secs(2 * HOUR),
    Duration::from_secs(4 * HOUR),
    Duration::from_secs(8 * HOUR),
    Duration::from_secs(8 * HOUR),
    Duration::from_secs(8 * HOUR),
    Duration::from_secs(8 * HOUR),
    Duration::from_secs(8 * HOUR),
];

/// Jitter spreads retries of many deliveries that failed together (one outage) so they do not
/// come back as one thundering herd: each step moves by up to this fraction either way.
pub const JITTER_FRACTION: f64 = 0.2;

/// The longest `Retry-After` honoured; a receiver asking for more is retried after this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * HOUR);

/// How long a hook may fail without a single success before it is disabled (Svix: 5 days).
pub const DEFAULT_DISABLE_AFTER: Duration = Duration::from_secs(5 * 24 * HOUR);

/// What one attempt came to, as far as retrying is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptResult {
    /// The receiver answered with this status.
    Status(u16),
    /// No complete answer within the request timeout.
    Timeout,
    /// No answer at all: DNS, refused target address, TCP, TLS.
    ConnectionFailed,
}

/// What to do after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The receiver accepted the event; nothing more to do.
    Delivered,
    /// Try again after this delay.
    RetryAfter(Duration),
    /// The schedule is exhausted: mark the delivery failed.
    GiveUp,
    /// The receiver answered `410 Gone`: delete the subscription and stop.
    DeleteSubscription,
}

/// A retry schedule. [`RetryPolicy::default`] is [`STANDARD_SCHEDULE`]; tests and operators can
/// run a shorter one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    schedule: Vec<Duration>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::new(STANDARD_SCHEDULE.to_vec())
    }
}

impl RetryPolicy {
    /// A policy that waits `schedule[n - 1]` after attempt `n` and gives up after the last entry.
    pub fn new(schedule: Vec<Duration>) -> Self {
        RetryPolicy { schedule }
    }

    /// Attempts in total, the first one included.
    pub fn max_attempts(&self) -> u32 {
        u32::try_from(self.schedule.len()).map_or(u32::MAX, |n| n.saturating_add(1))
    }

    /// Sum of the un-jittered delays: how long a delivery that always fails keeps trying.
    pub fn total_span(&self) -> Duration {
        self.schedule.iter().sum()
    }

    /// The decision after attempt number `attempt` (1 for the first try) ended with `result`.
    ///
    /// `retry_after` is the receiver's `Retry-After` (see [`parse_retry_after`]), used only on
    /// 429 and 503. `jitter` is a random value in `[-1, 1]` supplied by the caller; values
    /// outside are clamped and NaN counts as 0.
    pub fn next_attempt(
        &self,
        attempt: u32,
        result: AttemptResult,
        retry_after: Option<Duration>,
        jitter: f64,
    ) -> Decision {
        let honours_retry_after = match result {
            AttemptResult::Status(200..=299) => return Decision::Delivered,
            AttemptResult::Status(410) => return Decision::DeleteSubscription,
            AttemptResult::Status(429 | 503) => true,
            AttemptResult::Status(_) | AttemptResult::Timeout | AttemptResult::ConnectionFailed => {
                false
            }
        };
        let step = usize::try_from(attempt.max(1) - 1).unwrap_or(usize::MAX);
        let Some(base) = self.schedule.get(step) else {
            return Decision::GiveUp;
        };
        let jittered = apply_jitter(*base, jitter);
        let delay = match retry_after.filter(|_| honours_retry_after) {
            Some(asked) => asked.min(MAX_RETRY_AFTER).max(jittered),
            None => jittered,
        };
        Decision::RetryAfter(delay)
    }
}

/// `base` moved by `jitter × JITTER_FRACTION` of itself.
fn apply_jitter(base: Duration, jitter: f64) -> Duration {
    let jitter = if jitter.is_nan() {
        0.0
    } else {
        jitter.clamp(-1.0, 1.0)
    };
    base.mul_f64(1.0 + jitter * JITTER_FRACTION)
}

/// Parses a `Retry-After` value: delay-seconds or an HTTP-date (RFC 9110 §10.2.3). A date in the
/// past means "now" (zero). Anything else is ignored (`None`), as the RFC leaves it undefined.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// True when a hook has failed continuously for `disable_after`: its current run of failures began
/// at `first_failure_at` and no delivery has succeeded since. A success after the first failure
/// means the streak was broken (the caller should then clear `first_failure_at`).
pub fn should_disable_hook(
    first_failure_at: Option<DateTime<Utc>>,
    last_success_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    disable_after: Duration,
) -> bool {
    let Some(first_failure) = first_failure_at else {
        return false;
    };
    if last_success_at.is_some_and(|success| success >= first_failure) {
        return false;
    }
    (now - first_failure)
        .to_std()
        .is_ok_and(|failing_for| failing_for >= disable_after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn policy() -> RetryPolicy {
        RetryPolicy::default()
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn a_2xx_answer_is_delivered() {
        for status in [200, 201, 204, 299] {
            assert_eq!(
                policy().next_attempt(1, AttemptResult::Status(status), None, 0.0),
                Decision::Delivered
            );
        }
    }

    #[test]
    fn gone_deletes_the_subscription_even_on_the_last_attempt() {
        for attempt in [1, 14, 99] {
            assert_eq!(
                policy().next_attempt(attempt, AttemptResult::Status(410), None, 0.0),
                Decision::DeleteSubscription
            );
        }
    }

    #[test]
    fn the_first_failure_is_retried_after_five_seconds() {
        assert_eq!(
            policy().next_attempt(1, AttemptResult::Status(500), None, 0.0),
            Decision::RetryAfter(secs(5))
        );
    }

    #[test]
    fn timeouts_connection_errors_redirects_and_other_4xx_are_retried() {
        for result in [
            AttemptResult::Timeout,
            AttemptResult::ConnectionFailed,
            AttemptResult::Status(302),
            AttemptResult::Status(400),
            AttemptResult::Status(404),
            AttemptResult::Status(502),
        ] {
            assert_eq!(
                policy().next_attempt(3, result, None, 0.0),
                Decision::RetryAfter(secs(120)),
                "{result:?}"
            );
        }
    }

    #[test]
    fn the_fourteenth_failed_attempt_gives_up() {
        assert_eq!(policy().max_attempts(), 14);
        assert!(matches!(
            policy().next_attempt(13, AttemptResult::Timeout, None, 0.0),
            Decision::RetryAfter(_)
        ));
        assert_eq!(
            policy().next_attempt(14, AttemptResult::Timeout, None, 0.0),
            Decision::GiveUp
        );
    }

    #[test]
    fn the_standard_schedule_spans_about_two_days() {
        assert_eq!(policy().total_span(), secs(47 * HOUR + 42 * MINUTE + 35));
    }

    #[test]
    fn retry_after_on_429_is_honoured_when_longer_than_the_schedule() {
        assert_eq!(
            policy().next_attempt(1, AttemptResult::Status(429), Some(secs(90)), 0.0),
            Decision::RetryAfter(secs(90))
        );
    }

    #[test]
    fn retry_after_shorter_than_the_schedule_is_raised_to_the_schedule() {
        assert_eq!(
            policy().next_attempt(6, AttemptResult::Status(503), Some(secs(1)), 0.0),
            Decision::RetryAfter(secs(HOUR))
        );
    }

    #[test]
    fn retry_after_beyond_a_day_is_capped_at_a_day() {
        assert_eq!(
            policy().next_attempt(
                2,
                AttemptResult::Status(429),
                Some(secs(7 * 24 * HOUR)),
                0.0
            ),
            Decision::RetryAfter(MAX_RETRY_AFTER)
        );
    }

    #[test]
    fn retry_after_is_ignored_on_a_plain_500() {
        assert_eq!(
            policy().next_attempt(1, AttemptResult::Status(500), Some(secs(600)), 0.0),
            Decision::RetryAfter(secs(5))
        );
    }

    #[test]
    fn out_of_range_or_nan_jitter_is_tamed() {
        let at = |jitter| policy().next_attempt(1, AttemptResult::Timeout, None, jitter);
        assert_eq!(at(f64::NAN), Decision::RetryAfter(secs(5)));
        assert_eq!(at(5.0), Decision::RetryAfter(secs(6)));
        assert_eq!(at(-5.0), Decision::RetryAfter(secs(4)));
    }

    #[test]
    fn a_short_custom_schedule_gives_up_after_its_last_step() {
        let fast = RetryPolicy::new(vec![Duration::from_millis(10)]);
        assert_eq!(
            fast.next_attempt(1, AttemptResult::Timeout, None, 0.0),
            Decision::RetryAfter(Duration::from_millis(10))
        );
        assert_eq!(
            fast.next_attempt(2, AttemptResult::Timeout, None, 0.0),
            Decision::GiveUp
        );
    }

    #[test]
    fn retry_after_seconds_parse() {
        assert_eq!(
            parse_retry_after(" 120 ", SystemTime::now()),
            Some(secs(120))
        );
    }

    #[test]
    fn retry_after_http_dates_parse_relative_to_now() {
        let now = SystemTime::UNIX_EPOCH + secs(1_445_412_480); // Wed, 21 Oct 2015 07:28:00 GMT
        let later = "Wed, 21 Oct 2015 07:30:00 GMT";
        assert_eq!(parse_retry_after(later, now), Some(secs(120)));
    }

    #[test]
    fn retry_after_dates_in_the_past_mean_now() {
        let now = SystemTime::UNIX_EPOCH + secs(1_445_412_480);
        let earlier = "Wed, 21 Oct 2015 07:00:00 GMT";
        assert_eq!(parse_retry_after(earlier, now), Some(Duration::ZERO));
    }

    #[test]
    fn retry_after_garbage_is_ignored() {
        for value in ["", "soon", "-5", "1.5"] {
            assert_eq!(
                parse_retry_after(value, SystemTime::now()),
                None,
                "{value:?}"
            );
        }
    }

    fn at(hours: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + chrono::TimeDelta::hours(hours)
    }

    #[test]
    fn a_hook_failing_for_five_days_without_success_is_disabled() {
        assert!(should_disable_hook(
            Some(at(0)),
            None,
            at(120),
            DEFAULT_DISABLE_AFTER
        ));
    }

    #[test]
    fn a_hook_failing_for_less_than_five_days_stays_enabled() {
        assert!(!should_disable_hook(
            Some(at(0)),
            None,
            at(119),
            DEFAULT_DISABLE_AFTER
        ));
    }

    #[test]
    fn a_success_after_the_first_failure_keeps_the_hook_enabled() {
        assert!(!should_disable_hook(
            Some(at(0)),
            Some(at(50)),
            at(200),
            DEFAULT_DISABLE_AFTER
        ));
    }

    #[test]
    fn a_success_before_the_failure_streak_does_not_save_the_hook() {
        assert!(should_disable_hook(
            Some(at(10)),
            Some(at(5)),
            at(200),
            DEFAULT_DISABLE_AFTER
        ));
    }

    #[test]
    fn a_hook_without_failures_is_never_disabled() {
        assert!(!should_disable_hook(
            None,
            None,
            at(10_000),
            DEFAULT_DISABLE_AFTER
        ));
    }

    proptest! {
        #[test]
        fn without_jitter_delays_never_shrink(attempt in 1u32..13) {
            let delay = |n| policy().next_attempt(n, AttemptResult::Timeout, None, 0.0);
            let (Decision::RetryAfter(a), Decision::RetryAfter(b)) = (delay(attempt), delay(attempt + 1)) else {
                return Err(TestCaseError::fail("expected retries"));
            };
            prop_assert!(a <= b);
        }

        #[test]
        fn jitter_stays_within_twenty_percent(attempt in 1u32..=13, jitter in -1.0f64..=1.0) {
            let Decision::RetryAfter(delay) = policy().next_attempt(attempt, AttemptResult::Timeout, None, jitter) else {
                return Err(TestCaseError::fail("expected a retry"));
            };
            let base = STANDARD_SCHEDULE[attempt as usize - 1].as_secs_f64();
            prop_assert!(delay.as_secs_f64() >= base * 0.8 - 1e-6);
            prop_assert!(delay.as_secs_f64() <= base * 1.2 + 1e-6);
        }

        #[test]
        fn a_jittered_run_of_failures_spans_38_to_58_hours(jitters in proptest::collection::vec(-1.0f64..=1.0, 13)) {
            let mut total = Duration::ZERO;
            for (n, jitter) in (1u32..).zip(jitters) {
                match policy().next_attempt(n, AttemptResult::Status(500), None, jitter) {
                    Decision::RetryAfter(delay) => total += delay,
                    other => return Err(TestCaseError::fail(format!("attempt {n}: {other:?}"))),
                }
            }
            prop_assert!(total >= secs(38 * HOUR) && total <= secs(58 * HOUR), "{total:?}");
        }

        #[test]
        fn an_honoured_retry_after_is_never_sooner_than_asked_up_to_a_day(
            attempt in 1u32..=13, asked in 0u64..1_000_000, jitter in -1.0f64..=1.0,
        ) {
            let Decision::RetryAfter(delay) = policy().next_attempt(attempt, AttemptResult::Status(429), Some(secs(asked)), jitter) else {
                return Err(TestCaseError::fail("expected a retry"));
            };
            prop_assert!(delay >= secs(asked).min(MAX_RETRY_AFTER));
            prop_assert!(delay <= MAX_RETRY_AFTER.max(STANDARD_SCHEDULE[attempt as usize - 1].mul_f64(1.2)));
        }
    }
}
