//! The sweeper in `ringhook serve`: every `reconcile_interval`, for each source with a history
//! API, read the window that ended `reconcile_lag` ago, starting one interval before the
//! previous window's end (windows overlap, so a record written late by the PBX is still read),
//! and move the source's watermark on once the window is applied. With several processes on
//! one PostgreSQL database, a lease lets one sweep each source at a time.

use chrono::{DateTime, TimeDelta, Utc};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

use super::run::{Reader, ReconcileError, Reconciler};
use super::status::ReconcileStatus;
use crate::delivery::wakeup::DeliveryWakeup;
use crate::domain::SourceKind;
use crate::normalizer::NormalizerConfig;
use crate::source_api::SourceApi;
use crate::storage::{Storage, StoreError};

/// When and how far the sweeper reads.
#[derive(Clone, Debug)]
pub struct SweepSettings {
    pub interval: Duration,
    pub lag: Duration,
    /// This process's name in the sweep leases.
    pub holder: String,
}

/// The window to read at `now`, given where the last sweep got to: it ends `lag` ago and
/// starts one `interval` before the previous end (or two intervals back on the first sweep).
/// `None` when there is nothing new to read yet.
pub fn next_window(
    now: DateTime<Utc>,
    swept_to: Option<DateTime<Utc>>,
    interval: Duration,
    lag: Duration,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let interval = TimeDelta::from_std(interval).ok()?;
    let to = now - TimeDelta::from_std(lag).ok()?;
    let from = match swept_to {
        Some(previous) if previous >= to => return None,
        Some(previous) => previous - interval,
        None => to - interval - interval,
    };
    Some((from, to))
}

/// Everything the sweeper works with.
pub struct Sweeper {
    pub store: Arc<dyn Storage>,
    pub api: Arc<SourceApi>,
    pub config: NormalizerConfig,
    pub status: Arc<ReconcileStatus>,
    pub wakeup: Arc<DeliveryWakeup>,
    pub settings: SweepSettings,
}

impl Sweeper {
    /// Sweeps every source whose lease this process takes, at `now`; returns how many
    /// sources were swept. A source that fails is logged and left for the next sweep.
    pub async fn sweep(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let kinds = history_kinds();
        let mut swept = 0;
        for id in self.store.sources_of_kinds(&kinds).await? {
            let lease_ms = (self.settings.interval.as_millis() as i64).max(60_000) * 2;
            let now_ms = now.timestamp_millis();
            let holder = &self.settings.holder;
            if !self
                .store
                .take_sweep_lease(&id, holder, now_ms, now_ms + lease_ms)
                .await?
            {
                continue;
            }
            let Some(source) = self.store.source(&id).await? else {
                continue;
            };
            // A source without history credentials (webhooks only) has nothing to sweep.
            if Reader::for_source(self.api.clone(), &source, now, now).is_err() {
                continue;
            }
            let swept_to = self
                .store
                .swept_to(&id)
                .await?
                .and_then(DateTime::from_timestamp_millis);
            let Some((from, to)) =
                next_window(now, swept_to, self.settings.interval, self.settings.lag)
            else {
                continue;
            };
            let reconciler = Reconciler {
                store: self.store.as_ref(),
                api: self.api.clone(),
                config: &self.config,
                status: Some(&self.status),
                dry_run: false,
            };
            let wakeup = &self.wakeup;
            let mut on_page = |p: super::run::Progress<'_>| {
                if p.page.deliveries > 0 {
                    wakeup.notify_one();
                }
            };
            match reconciler
                .window(&source, from, to, now, &mut on_page)
                .await
            {
                Ok(totals) => {
                    self.store.set_swept_to(&id, to.timestamp_millis()).await?;
                    swept += 1;
                    tracing::info!(source = %id, %from, %to, recovered = totals.recovered,
                        closed_early = totals.closed_early, events = totals.events,
                        "history swept");
                }
                Err(ReconcileError::Store(error)) => return Err(error),
                Err(error) => {
                    tracing::warn!(source = %id, error = %error, "history sweep failed; the next sweep retries this window")
                }
            }
        }
        Ok(swept)
    }

    /// Sweeps every `interval` until `shutdown`, then gives the leases up.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            if let Err(error) = self.sweep(Utc::now()).await {
                tracing::warn!(error = %error, "history sweep failed; will retry");
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(self.settings.interval) => {}
            }
        }
        if let Ok(ids) = self.store.sources_of_kinds(&history_kinds()).await {
            for id in ids {
                let _ = self
                    .store
                    .release_sweep_lease(&id, &self.settings.holder)
                    .await;
            }
        }
    }
}

fn history_kinds() -> Vec<&'static str> {
    Reader::KINDS.into_iter().map(SourceKind::as_str).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_780_000_000 + minute * 60, 0).unwrap()
    }

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn a_window_ends_lag_ago_and_overlaps_the_previous_one_by_an_interval() {
        let window = next_window(at(100), Some(at(75)), 15 * MIN, 10 * MIN);
        assert_eq!(window, Some((at(60), at(90))));
    }

    #[test]
    fn the_first_window_reaches_two_intervals_back() {
        let window = next_window(at(100), None, 15 * MIN, 10 * MIN);
        assert_eq!(window, Some((at(60), at(90))));
    }

    #[test]
    fn nothing_is_read_when_the_watermark_is_not_behind_the_lag() {
        assert_eq!(next_window(at(100), Some(at(90)), 15 * MIN, 10 * MIN), None);
    }

    #[test]
    fn after_an_outage_the_window_starts_where_the_last_sweep_ended() {
        let window = next_window(at(1000), Some(at(75)), 15 * MIN, 10 * MIN);
        assert_eq!(window, Some((at(60), at(990))));
    }
}
