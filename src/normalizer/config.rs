//! The state machine's timing rules, set by the operator and passed in with every call.

use chrono::TimeDelta;

/// Timing rules of the state machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NormalizerConfig {
    /// How long a call must look finished before `call.ended` goes out; lets the last
    /// out-of-order events of a call (sources deliver in parallel) amend the outcome.
    pub settle: TimeDelta,
    /// A call with no event for this long is closed with what is known (lost hang-ups, Zoom
    /// parked calls, which get no retrieval webhook).
    pub stale_after: TimeDelta,
    /// ringhook's public base URL (no trailing slash): media URLs in events point at its
    /// `/v1/media/{id}`, never at the PBX.
    pub public_base: String,
}

impl Default for NormalizerConfig {
    fn default() -> Self {
        NormalizerConfig {
            settle: TimeDelta::seconds(5),
            stale_after: TimeDelta::hours(4),
            public_base: "http://127.0.0.1:8080".into(),
        }
    }
}
