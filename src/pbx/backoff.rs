//! How long to wait before reconnecting: doubling from one second, capped, with ±20 % jitter
//! so that many ringhook processes do not hammer a restarted PBX in step.

use std::time::Duration;

/// The first retry delay and the cap.
pub const FIRST: Duration = Duration::from_secs(1);
pub const CAP: Duration = Duration::from_secs(30);

/// The delay before reconnect attempt `attempt` (0-based); `jitter` in [-1, 1] scales ±20 %.
pub fn delay(attempt: u32, jitter: f64, first: Duration, cap: Duration) -> Duration {
    let base = first
        .saturating_mul(2u32.saturating_pow(attempt.min(16)))
        .min(cap);
    base.mul_f64(1.0 + 0.2 * jitter.clamp(-1.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap() {
        let d: Vec<_> = (0..8)
            .map(|a| delay(a, 0.0, FIRST, CAP).as_secs())
            .collect();
        assert_eq!(d, [1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(delay(u32::MAX, 0.0, FIRST, CAP), CAP);
    }

    #[test]
    fn jitter_moves_a_delay_by_at_most_a_fifth() {
        assert_eq!(delay(3, 1.0, FIRST, CAP), Duration::from_millis(9600));
        assert_eq!(delay(3, -1.0, FIRST, CAP), Duration::from_millis(6400));
        assert_eq!(delay(3, 7.0, FIRST, CAP), Duration::from_millis(9600));
    }
}
