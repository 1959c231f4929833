//! The delivery worker: claim due deliveries in batches (with a lease), send them concurrently
//! with no database transaction open, then record every result in one batched transaction.
//! `step` does one round and says whether there was work, so tests can drive it; `run` loops
//! around it, woken at once by new deliveries and polling only as a fallback.

use super::retry::{AttemptResult, Decision, RetryPolicy};
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
use tokio_util::sync::CancellationToken;

/// How one worker behaves.
#[derive(Clone, Debug)]
pub struct WorkerSettings {
    /// Deliveries claimed per round.
    pub batch: u32,
    /// Requests in flight at once.
    pub concurrency: usize,
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
    settings: WorkerSettings,
    metrics: Option<Arc<Metrics>>,
}

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
            settings,
            metrics,
        }
    }

    /// Claims one batch, delivers it and records the results.
    #[tracing::instrument(name = "delivery round", skip_all)]
    pub async fn step(&self) -> Result<StepOutcome, StoreError> {
        let claimed = self
            .store
            .claim_due(Utc::now(), self.settings.lease, self.settings.batch)
            .await?;
        if claimed.is_empty() {
            return Ok(StepOutcome::QueueEmpty);
        }
        let count = claimed.len();
        let results: Vec<DeliveryResult> = futures_util::stream::iter(claimed)
            .map(|delivery| self.deliver(delivery))
            .buffer_unordered(self.settings.concurrency)
            .collect()
            .await;
        self.store
            .record_results(&results, Utc::now(), self.settings.disable_after)
            .await?;
        Ok(StepOutcome::Worked(count))
    }

    /// Loops until `shutdown`; a round in progress finishes first.
    pub async fn run(self, wake: Arc<DeliveryWakeup>, shutdown: CancellationToken) {
        let mut backoff = Duration::from_millis(100);
        loop {
            if shutdown.is_cancelled() {
                return;
            }
            let idle = match self.step().await {
                Ok(StepOutcome::Worked(_)) => {
                    backoff = Duration::from_millis(100);
                    continue;
                }
                Ok(StepOutcome::QueueEmpty) => self.settings.idle_poll,
                Err(error) => {
                    tracing::warn!(error = %error, "delivery round failed; backing off");
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                    backoff
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = wake.local.notified() => {}
                _ = tokio::time::sleep(idle) => {}
            }
        }
    }

    async fn deliver(&self, delivery: ClaimedDelivery) -> DeliveryResult {
        let now = Utc::now();
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
        Ok(self.client.post(&target, headers, body).await)
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
