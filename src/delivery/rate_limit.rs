//! Per-target rate limiting, so a burst of calls never floods one receiver. Zapier accepts about
//! 30 requests/s per hook URL before answering 429; the default of 25/s stays under that.
//!
//! The algorithm is GCRA (the generic cell rate algorithm, as in `governor`): each key stores one
//! instant, its "theoretical arrival time". It behaves like a token bucket of `burst` tokens
//! refilled at `rate`, but needs no timer and no counter. Time is passed in, so tests are exact.

use dashmap::DashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Requests per second allowed per target by default.
pub const DEFAULT_RATE: NonZeroU32 = match NonZeroU32::new(25) {
    Some(rate) => rate,
    None => NonZeroU32::MIN,
};
/// Keys held before the first sweep of idle ones; later sweeps come when the map doubles.
const FIRST_SWEEP_AT: usize = 1024;

/// A limiter shared by all delivery workers of a process, keyed by target URL (or host).
#[derive(Debug)]
pub struct RateLimiter {
    /// Time between two requests at the steady rate.
    interval: Duration,
    /// How far ahead of `now` a key's arrival time may run: `interval × (burst − 1)`.
    tolerance: Duration,
    /// Per key: the instant at which its bucket is full again.
    arrivals: DashMap<String, Instant>,
    /// Key count that triggers the next sweep of idle keys.
    sweep_at: AtomicUsize,
}

impl Default for RateLimiter {
    fn default() -> Self {
        RateLimiter::new(DEFAULT_RATE, DEFAULT_RATE)
    }
}

impl RateLimiter {
    /// Allows `rate` requests per second per key on average, and up to `burst` at once.
    pub fn new(rate: NonZeroU32, burst: NonZeroU32) -> Self {
        let interval = Duration::from_secs(1) / rate.get();
        RateLimiter {
            interval,
            tolerance: interval * (burst.get() - 1),
            arrivals: DashMap::new(),
            sweep_at: AtomicUsize::new(FIRST_SWEEP_AT),
        }
    }

    /// Allows `count` requests per `period` per key on average, and up to `count` at once
    /// (per-user click-to-call limits count per minute, not per second).
    pub fn per_period(count: NonZeroU32, period: Duration) -> Self {
        let interval = period / count.get();
        RateLimiter {
            interval,
            tolerance: interval * (count.get() - 1),
            arrivals: DashMap::new(),
            sweep_at: AtomicUsize::new(FIRST_SWEEP_AT),
        }
    }

    /// Takes one request's worth of capacity for `key` at `now`, or says how long to wait before
    /// it would be granted. A refused call takes nothing, so callers may simply retry after the
    /// wait (or requeue the delivery for then).
    pub fn try_acquire(&self, key: &str, now: Instant) -> Result<(), Duration> {
        if let Some(mut arrival) = self.arrivals.get_mut(key) {
            return self.admit(&mut arrival, now);
        }
        // `entry` rather than `insert`: another worker may have added the key meanwhile.
        let decision = {
            let mut arrival = self.arrivals.entry(key.to_owned()).or_insert(now);
            self.admit(&mut arrival, now)
        }; // the shard lock is released here; sweeping takes every shard
        self.sweep_if_grown(now);
        decision
    }

    /// GCRA: the request conforms if the key's arrival time is at most `tolerance` ahead of now.
    fn admit(&self, arrival: &mut Instant, now: Instant) -> Result<(), Duration> {
        let start = (*arrival).max(now);
        let ahead = start.duration_since(now);
        if ahead > self.tolerance {
            return Err(ahead - self.tolerance);
        }
        *arrival = start + self.interval;
        Ok(())
    }

    /// Forgets keys whose bucket is full again at `now`: forgetting them changes no decision.
    /// What remains are keys used within the last `burst / rate` seconds, so memory is bounded
    /// by recent traffic, not by how many targets ever existed. Returns how many were dropped.
    pub fn evict_idle(&self, now: Instant) -> usize {
        let before = self.arrivals.len();
        self.arrivals.retain(|_, arrival| *arrival > now);
        before.saturating_sub(self.arrivals.len())
    }

    /// Keys currently tracked.
    pub fn len(&self) -> usize {
        self.arrivals.len()
    }

    pub fn is_empty(&self) -> bool {
        self.arrivals.is_empty()
    }

    /// Sweeps when the map has doubled since the last sweep, so the cost stays amortised O(1).
    fn sweep_if_grown(&self, now: Instant) {
        if self.arrivals.len() < self.sweep_at.load(Ordering::Relaxed) {
            return;
        }
        self.evict_idle(now);
        let next = (self.arrivals.len() * 2).max(FIRST_SWEEP_AT);
        self.sweep_at.store(next, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HOOK: &str = "https://hooks.zapier.com/hooks/standard/1/a/";

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_per_minute_limit_admits_its_burst_then_asks_to_wait() {
        let limiter =
            RateLimiter::per_period(NonZeroU32::new(10).unwrap(), Duration::from_secs(60));
        let now = Instant::now();
        for _ in 0..10 {
            assert!(limiter.try_acquire("usr_a", now).is_ok());
        }
        assert_eq!(
            limiter.try_acquire("usr_a", now),
            Err(Duration::from_secs(6))
        );
        assert!(limiter.try_acquire("usr_b", now).is_ok());
    }

    #[test]
    fn twenty_five_requests_at_once_pass() {
        let limiter = RateLimiter::default();
        let now = Instant::now();
        for n in 0..25 {
            assert_eq!(limiter.try_acquire(HOOK, now), Ok(()), "request {n}");
        }
    }

    #[test]
    fn the_twenty_sixth_request_in_the_same_instant_waits_40_ms() {
        let limiter = RateLimiter::default();
        let now = Instant::now();
        for _ in 0..25 {
            limiter.try_acquire(HOOK, now).unwrap();
        }
        assert_eq!(limiter.try_acquire(HOOK, now), Err(ms(40)));
    }

    #[test]
    fn a_refused_request_passes_after_the_wait_it_was_given() {
        let limiter = RateLimiter::default();
        let now = Instant::now();
        for _ in 0..25 {
            limiter.try_acquire(HOOK, now).unwrap();
        }
        let wait = limiter.try_acquire(HOOK, now).unwrap_err();
        assert_eq!(limiter.try_acquire(HOOK, now + wait), Ok(()));
    }

    #[test]
    fn a_steady_25_per_second_never_waits() {
        let limiter = RateLimiter::default();
        let start = Instant::now();
        for n in 0..250 {
            assert_eq!(limiter.try_acquire(HOOK, start + ms(40) * n), Ok(()));
        }
    }

    #[test]
    fn twenty_five_requests_spread_over_a_second_pass() {
        let limiter = RateLimiter::default();
        let start = Instant::now();
        for n in 0..25 {
            assert_eq!(limiter.try_acquire(HOOK, start + ms(39) * n), Ok(()));
        }
    }

    #[test]
    fn separate_keys_have_separate_budgets() {
        let limiter = RateLimiter::default();
        let now = Instant::now();
        for _ in 0..25 {
            limiter.try_acquire(HOOK, now).unwrap();
        }
        assert!(limiter.try_acquire(HOOK, now).is_err());
        assert_eq!(
            limiter.try_acquire("https://other.example/hook", now),
            Ok(())
        );
    }

    #[test]
    fn idle_keys_are_evicted_and_busy_ones_kept() {
        let limiter = RateLimiter::default();
        let start = Instant::now();
        limiter.try_acquire("idle", start).unwrap();
        limiter
            .try_acquire("busy", start + Duration::from_secs(10))
            .unwrap();
        assert_eq!(limiter.evict_idle(start + Duration::from_secs(10)), 1);
        assert_eq!(limiter.len(), 1);
        assert!(
            limiter
                .try_acquire("busy", start + Duration::from_secs(10))
                .is_ok()
        );
    }

    #[test]
    fn an_evicted_key_starts_again_with_a_full_burst() {
        let limiter = RateLimiter::default();
        let start = Instant::now();
        for _ in 0..25 {
            limiter.try_acquire(HOOK, start).unwrap();
        }
        let later = start + Duration::from_secs(2);
        limiter.evict_idle(later);
        for _ in 0..25 {
            assert_eq!(limiter.try_acquire(HOOK, later), Ok(()));
        }
    }

    #[test]
    fn many_short_lived_keys_are_swept_as_new_ones_arrive() {
        let limiter = RateLimiter::default();
        let start = Instant::now();
        for n in 0..10_000u32 {
            let now = start + ms(100) * n;
            limiter
                .try_acquire(&format!("https://t{n}.example/"), now)
                .unwrap();
        }
        assert!(
            limiter.len() <= FIRST_SWEEP_AT,
            "{} keys kept",
            limiter.len()
        );
    }

    #[test]
    fn concurrent_workers_share_one_budget_per_key() {
        let limiter = std::sync::Arc::new(RateLimiter::default());
        let now = Instant::now();
        let workers: Vec<_> = (0..8)
            .map(|_| {
                let limiter = std::sync::Arc::clone(&limiter);
                std::thread::spawn(move || {
                    (0..10)
                        .filter(|_| limiter.try_acquire(HOOK, now).is_ok())
                        .count()
                })
            })
            .collect();
        let granted: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
        assert_eq!(granted, 25);
    }

    proptest! {
        #[test]
        fn no_key_gets_more_than_burst_plus_rate_times_elapsed(
            mut offsets in proptest::collection::vec(0u64..5_000, 1..400),
        ) {
            offsets.sort_unstable();
            let limiter = RateLimiter::default();
            let start = Instant::now();
            let granted = offsets.iter().filter(|&&t| limiter.try_acquire(HOOK, start + ms(t)).is_ok()).count();
            let last = offsets.last().copied().unwrap_or(0);
            prop_assert!(granted as u64 <= 25 + last / 40, "{granted} granted over {last} ms");
        }
    }
}
