//! The delivery worker: claim due deliveries (with a lease), send them concurrently with no
//! database transaction open, and record results as attempts finish, those that finished
//! together in one multi-row write. A slow attempt never holds back the recording of others,
//! nor the claiming of new work while slots are free; each target has a cap on attempts in
//! flight (`per_target` until it has answered quickly, see [`TargetSlots`]) and its rate limit.
//!
//! `step` does one whole round (claim, deliver, record) and says whether there was work, so
//! tests can drive the queue deterministically; `run` keeps slots busy continuously, woken at
//! once by new deliveries and polling only as a fallback.

use super::retry::{AttemptResult, Decision, RetryPolicy};
use super::target_slots::{Busy, TargetSlots};
use super::wakeup::DeliveryWakeup;
use super::{DeliveryClient, Outcome, RateLimiter, TargetPolicy, TargetUrl, delivery_headers};
use crate::delivery::signing::HookSecret;
use crate::metrics::Metrics;
use crate::storage::delivery_queue::{AttemptRecord, ClaimedDelivery, DeliveryResult, NextStep};
use crate::storage::{Storage, StoreError};
use chrono::{DateTime, TimeDelta, Utc};
use futures_util::StreamExt;
use rand::RngExt;
use secrecy::ExposeSecret;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// How one worker behaves.
#[derive(Clone, Debug)]
pub struct WorkerSettings {
    /// Deliveries claimed per round.
    pub batch: u32,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Requests in flight at once to one target URL until it has answered quickly (then up to
    /// half of `concurrency`), and whenever an attempt to it is overdue.
    pub per_target: usize,
    /// How long a claim is held; longer than the request timeout, so only a crashed worker's
    /// claims expire.
    pub lease: TimeDelta,
    pub disable_after: TimeDelta,
    /// Poll interval when no wake-up comes (other instances' new rows, due retries).
    pub idle_poll: Duration,
}

/// What one round did.
#[derive(Debug, PartialEq, Eq)]
pub enum StepOutcome {
    Worked(usize),
    QueueEmpty,
}

pub struct DeliveryWorker {
    store: Arc<dyn Storage>,
    client: DeliveryClient,
    policy: TargetPolicy,
    retry: RetryPolicy,
    limiter: RateLimiter,
    slots: TargetSlots,
    settings: WorkerSettings,
    metrics: Option<Arc<Metrics>>,
}

/// How long a delivery waits when its target is slow and has all the attempts it may have.
const SLOW_TARGET_WAIT: TimeDelta = TimeDelta::seconds(1);
/// How long a delivery waits when its quick target is only at its cap.
const BUSY_TARGET_WAIT: TimeDelta = TimeDelta::milliseconds(100);

impl DeliveryWorker {
    pub fn new(
        store: Arc<dyn Storage>,
        client: DeliveryClient,
        policy: TargetPolicy,
        retry: RetryPolicy,
        limiter: RateLimiter,
        settings: WorkerSettings,
        metrics: Option<Arc<Metrics>>,
    ) -> Self {
        DeliveryWorker {
            store,
            client,
            policy,
            retry,
            limiter,
            slots: TargetSlots::new(settings.per_target, settings.concurrency),
            settings,
            metrics,
        }
    }

    /// Claims one batch of the deliveries due at `now`, delivers it and records the results.
    /// Retry times are reckoned from `now`, so a test can step the queue through time.
    #[tracing::instrument(name = "delivery round", skip_all)]
    pub async fn step(&self, now: DateTime<Utc>) -> Result<StepOutcome, StoreError> {
        let claimed = self
            .store
            .claim_due(now, self.settings.lease, self.settings.batch)
            .await?;
        if claimed.is_empty() {
            return Ok(StepOutcome::QueueEmpty);
        }
        let count = claimed.len();
        let results: Vec<DeliveryResult> = futures_util::stream::iter(claimed)
            .map(|delivery| self.deliver(delivery, now))
            .buffer_unordered(self.settings.concurrency)
            .collect()
            .await;
        self.store
            .record_results(&results, now, self.settings.disable_after)
            .await?;
        Ok(StepOutcome::Worked(count))
    }

    /// Keeps up to `concurrency` attempts in flight until `shutdown`, claiming more whenever
    /// slots are free; on shutdown the attempts in flight finish and are recorded first.
    ///
    /// Each attempt is a task of its own and a separate recorder writes finished attempts
    /// (those that finished together in one write), so that neither waits on this loop's
    /// database calls: while the loop awaited a claim or a record (queued behind ingest
    /// batches for the one writer), attempts in flight were not polled, and a freshly
    /// committed delivery was not claimed until the record was written.
    pub async fn run(self, wake: Arc<DeliveryWakeup>, shutdown: CancellationToken) {
        let worker = Arc::new(self);
        let (finished_tx, finished_rx) = mpsc::unbounded_channel();
        let recorder = tokio::spawn(worker.clone().record_finished(finished_rx));
        let mut in_flight = JoinSet::new();
        let mut backoff = Duration::from_millis(100);
        let mut look_for_work = true;
        while !shutdown.is_cancelled() {
            let free = worker.settings.concurrency.saturating_sub(in_flight.len());
            if look_for_work && free > 0 {
                match worker.claim(free).await {
                    Ok(claimed) => {
                        backoff = Duration::from_millis(100);
                        look_for_work = claimed.len() == worker.claim_size(free);
                        for delivery in claimed {
                            let worker = worker.clone();
                            in_flight
                                .spawn(async move { worker.deliver(delivery, Utc::now()).await });
                        }
                        continue;
                    }
                    Err(error) => {
                        tracing::warn!(error = %error, "claiming deliveries failed; backing off");
                        backoff = (backoff * 2).min(Duration::from_secs(10));
                        look_for_work = false;
                    }
                }
            }
            let idle = if backoff > Duration::from_millis(100) {
                backoff
            } else {
                worker.settings.idle_poll
            };
            tokio::select! {
                Some(first) = in_flight.join_next(), if !in_flight.is_empty() => {
                    forward(first, &finished_tx);
                    while let Some(next) = in_flight.try_join_next() {
                        forward(next, &finished_tx);
                    }
                    look_for_work = true;
                }
                _ = wake.local.notified() => look_for_work = true,
                _ = tokio::time::sleep(idle) => look_for_work = true,
                _ = shutdown.cancelled() => {}
            }
        }
        while let Some(next) = in_flight.join_next().await {
            forward(next, &finished_tx);
        }
        drop(finished_tx);
        let _ = recorder.await;
    }

    /// Writes finished attempts as they come, all those waiting in one write, until the
    /// worker loop has ended and everything it sent is written.
    async fn record_finished(
        self: Arc<Self>,
        mut finished: mpsc::UnboundedReceiver<DeliveryResult>,
    ) {
        while let Some(first) = finished.recv().await {
            let mut results = vec![first];
            while let Ok(next) = finished.try_recv() {
                results.push(next);
            }
            self.record(&results).await;
        }
    }

    fn claim_size(&self, free: usize) -> usize {
        free.min(self.settings.batch as usize)
    }

    async fn claim(&self, free: usize) -> Result<Vec<ClaimedDelivery>, StoreError> {
        let limit = u32::try_from(self.claim_size(free)).unwrap_or(self.settings.batch);
        self.store
            .claim_due(Utc::now(), self.settings.lease, limit)
            .await
    }

    /// Writes finished attempts; on failure the claims expire with their lease and the
    /// deliveries are attempted again (receivers drop duplicates by `webhook-id`).
    async fn record(&self, results: &[DeliveryResult]) {
        if let Err(error) = self
            .store
            .record_results(results, Utc::now(), self.settings.disable_after)
            .await
        {
            tracing::warn!(error = %error, count = results.len(), "recording delivery results failed");
        }
    }

    async fn deliver(&self, delivery: ClaimedDelivery, now: DateTime<Utc>) -> DeliveryResult {
        let (attempt, next) = match self.attempt(&delivery, now).await {
            Ok(outcome) => {
                let attempt_number = delivery.attempts + 1;
                let jitter = rand::rng().random_range(-1.0..=1.0);
                let decision = self.retry.next_attempt(
                    attempt_number,
                    outcome.result,
                    outcome.retry_after,
                    jitter,
                );
                self.observe(
                    &outcome,
                    &decision,
                    attempt_number,
                    delivery.created_at,
                    now,
                );
                (Some(record(&outcome)), next_step(decision, now))
            }
            Err(Deferred(wait)) => (None, NextStep::Deferred(now + wait)),
        };
        DeliveryResult {
            id: delivery.id,
            lease_token: delivery.lease_token,
            hook_id: delivery.hook_id,
            attempt,
            next,
        }
    }

    /// One HTTP attempt, unless the target's rate limit says wait.
    async fn attempt(
        &self,
        delivery: &ClaimedDelivery,
        now: DateTime<Utc>,
    ) -> Result<Outcome, Deferred> {
        let started = Instant::now();
        let target = match TargetUrl::parse(&delivery.target_url, &self.policy) {
            Ok(target) => target,
            Err(error) => return Ok(failed(format!("target refused: {error}"), started)),
        };
        let slot = match self.slots.try_take(target.as_str()) {
            Ok(slot) => slot,
            Err(Busy::Slow) => return Err(Deferred(SLOW_TARGET_WAIT)),
            Err(Busy::AtCap) => return Err(Deferred(BUSY_TARGET_WAIT)),
        };
        if let Err(wait) = self.limiter.try_acquire(target.as_str(), Instant::now()) {
            return Err(Deferred(
                TimeDelta::from_std(wait).unwrap_or(TimeDelta::seconds(1)),
            ));
        }
        let secret = match HookSecret::parse(delivery.secret.expose_secret()) {
            Ok(secret) => secret,
            Err(error) => return Ok(failed(format!("hook secret unusable: {error}"), started)),
        };
        let body = delivery.payload.clone().into_bytes();
        let headers = match delivery_headers(&secret, delivery.id.as_str(), now.timestamp(), &body)
        {
            Ok(headers) => headers,
            Err(error) => return Ok(failed(format!("cannot sign: {error}"), started)),
        };
        let outcome = self.client.post(&target, headers, body).await;
        slot.answered();
        Ok(outcome)
    }

    fn observe(
        &self,
        outcome: &Outcome,
        decision: &Decision,
        attempt_number: u32,
        queued_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) {
        let Some(metrics) = &self.metrics else { return };
        let label = match decision {
            Decision::Delivered => "delivered",
            Decision::RetryAfter(_) => "retrying",
            Decision::GiveUp => "failed",
            Decision::DeleteSubscription => "gone",
        };
        metrics.observe_delivery(label, outcome.duration.as_secs_f64());
        if attempt_number == 1 {
            let waited = (now - queued_at).num_microseconds().unwrap_or(0) as f64 / 1e6;
            metrics.observe_first_attempt_delay(waited.max(0.0));
        }
    }
}

/// The target's rate limit is used up: try again after this wait.
struct Deferred(TimeDelta);

/// Hands a finished attempt to the recorder. An attempt whose task panicked has no result:
/// its claim expires with its lease and the delivery is attempted again.
fn forward(
    joined: Result<DeliveryResult, tokio::task::JoinError>,
    recorder: &mpsc::UnboundedSender<DeliveryResult>,
) {
    match joined {
        Ok(result) => {
            // The recorder runs until this loop has ended: sending cannot fail before.
            let _ = recorder.send(result);
        }
        Err(error) => tracing::error!(error = %error, "a delivery attempt failed to finish"),
    }
}

fn failed(error: String, started: Instant) -> Outcome {
    Outcome {
        result: AttemptResult::ConnectionFailed,
        duration: started.elapsed(),
        error: Some(error),
        body: String::new(),
        body_truncated: false,
        retry_after: None,
    }
}

fn record(outcome: &Outcome) -> AttemptRecord {
    AttemptRecord {
        status_code: outcome.status(),
        duration_ms: outcome.duration.as_millis() as i64,
        error: outcome.error.clone(),
        response_body: (!outcome.body.is_empty()).then(|| outcome.body.clone()),
    }
}

fn next_step(decision: Decision, now: DateTime<Utc>) -> NextStep {
    match decision {
        Decision::Delivered => NextStep::Delivered,
        Decision::RetryAfter(delay) => {
            NextStep::RetryAt(now + TimeDelta::from_std(delay).unwrap_or(TimeDelta::hours(24)))
        }
        Decision::GiveUp => NextStep::Failed,
        Decision::DeleteSubscription => NextStep::HookGone,
    }
}
