//! How each source's history reads are going, for `/readyz` detail and `/metrics`: calls
//! recovered and closed early, history API errors and latency, and which sources keep failing.

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Consecutive failed history reads after which `/readyz` names the source.
pub const FAILING_AFTER: u32 = 3;

/// A source whose history reads keep failing.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct HistoryHealth {
    /// Failed reads in a row.
    pub consecutive_failures: u32,
    /// Why the last one failed (never holds a credential).
    pub error: String,
}

/// Shared by the sweeper, `ringhook reconcile` and the operations endpoints.
pub struct ReconcileStatus {
    failures: Mutex<BTreeMap<String, HistoryHealth>>,
    calls: IntCounterVec,
    errors: IntCounterVec,
    latency: HistogramVec,
}

impl ReconcileStatus {
    /// Registers `ringhook_reconcile_calls_total` (by source and outcome: recovered,
    /// closed_early), `ringhook_history_api_errors_total` and
    /// `ringhook_history_api_seconds`, by source.
    pub fn new(registry: &Registry) -> Result<ReconcileStatus, prometheus::Error> {
        let calls = IntCounterVec::new(
            Opts::new(
                "reconcile_calls_total",
                "Calls reconciliation changed: recovered (never seen live) or closed_early \
                 (hang-up lost)",
            ),
            &["source", "outcome"],
        )?;
        let errors = IntCounterVec::new(
            Opts::new(
                "history_api_errors_total",
                "Failed reads of a source's call history API",
            ),
            &["source"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "history_api_seconds",
                "How long one page of a source's call history took to read",
            )
            .buckets(vec![0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0]),
            &["source"],
        )?;
        registry.register(Box::new(calls.clone()))?;
        registry.register(Box::new(errors.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        Ok(ReconcileStatus {
            failures: Mutex::new(BTreeMap::new()),
            calls,
            errors,
            latency,
        })
    }

    /// A page read (successful or not) and how long it took.
    pub fn observe_read(&self, source: &str, seconds: f64, failed: Option<&str>) {
        self.latency.with_label_values(&[source]).observe(seconds);
        let Ok(mut failures) = self.failures.lock() else {
            return;
        };
        match failed {
            None => {
                failures.remove(source);
            }
            Some(error) => {
                self.errors.with_label_values(&[source]).inc();
                let entry = failures
                    .entry(source.to_owned())
                    .or_insert_with(|| HistoryHealth {
                        consecutive_failures: 0,
                        error: String::new(),
                    });
                entry.consecutive_failures += 1;
                entry.error = error.to_owned();
            }
        }
    }

    /// Calls a batch of records recovered and closed early.
    pub fn observe_calls(&self, source: &str, recovered: usize, closed_early: usize) {
        self.calls
            .with_label_values(&[source, "recovered"])
            .inc_by(recovered as u64);
        self.calls
            .with_label_values(&[source, "closed_early"])
            .inc_by(closed_early as u64);
    }

    /// Sources whose last [`FAILING_AFTER`] reads or more failed.
    pub fn failing(&self) -> BTreeMap<String, HistoryHealth> {
        self.failures
            .lock()
            .map(|f| {
                f.iter()
                    .filter(|(_, h)| h.consecutive_failures >= FAILING_AFTER)
                    .map(|(s, h)| (s.clone(), h.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_is_named_after_repeated_failures_and_forgotten_after_a_success() {
        let status = ReconcileStatus::new(&Registry::new()).unwrap();
        for _ in 0..FAILING_AFTER - 1 {
            status.observe_read("src_a", 0.1, Some("the history API answered 500"));
        }
        assert!(status.failing().is_empty());
        status.observe_read("src_a", 0.1, Some("the history API answered 500"));
        assert_eq!(
            status.failing()["src_a"].consecutive_failures,
            FAILING_AFTER
        );
        status.observe_read("src_a", 0.1, None);
        assert!(status.failing().is_empty());
    }
}
