//! Prometheus metrics. Each app owns its registry (no global state), so several apps in one
//! process — as in the tests — keep separate figures.

use crate::storage::PoolStats;
use prometheus::{
    Encoder, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts,
    Registry,
};

pub struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    db_pool: IntGaugeVec,
    deliveries: IntCounterVec,
    attempt_seconds: Histogram,
    first_attempt_delay: Histogram,
    queue: GaugeVec,
    dials: IntCounterVec,
    dial_seconds: HistogramVec,
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("ringhook".into()), None)?;
        let http_requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by route pattern, method and status",
            ),
            &["route", "method", "status"],
        )?;
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by route",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["route", "method"],
        )?;
        let db_pool = IntGaugeVec::new(
            Opts::new("db_pool_connections", "Database pool connections by state"),
            &["state"],
        )?;
        let deliveries = IntCounterVec::new(
            Opts::new(
                "delivery_attempts_total",
                "Delivery attempts by what followed them",
            ),
            &["outcome"],
        )?;
        let attempt_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "delivery_attempt_seconds",
                "Duration of one delivery attempt",
            )
            .buckets(vec![
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0,
            ]),
        )?;
        let first_attempt_delay = Histogram::with_opts(
            HistogramOpts::new(
                "delivery_first_attempt_delay_seconds",
                "From queuing a delivery to its first attempt",
            )
            .buckets(vec![
                0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
            ]),
        )?;
        let queue = GaugeVec::new(
            Opts::new(
                "delivery_queue",
                "Delivery queue: pending, due and oldest_due_seconds",
            ),
            &["figure"],
        )?;
        let dials = IntCounterVec::new(
            Opts::new(
                "click_to_call_dials_total",
                "Click-to-call requests sent to a PBX, by PBX kind and outcome \
                 (placed, pbx_error, pbx_timeout, pbx_unreachable, pbx_misconfigured)",
            ),
            &["pbx", "outcome"],
        )?;
        let dial_seconds = HistogramVec::new(
            HistogramOpts::new(
                "click_to_call_pbx_seconds",
                "How long the PBX took to answer a click-to-call request",
            )
            .buckets(vec![0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0]),
            &["pbx"],
        )?;
        registry.register(Box::new(dials.clone()))?;
        registry.register(Box::new(dial_seconds.clone()))?;
        registry.register(Box::new(deliveries.clone()))?;
        registry.register(Box::new(attempt_seconds.clone()))?;
        registry.register(Box::new(first_attempt_delay.clone()))?;
        registry.register(Box::new(queue.clone()))?;
        registry.register(Box::new(http_requests.clone()))?;
        registry.register(Box::new(http_duration.clone()))?;
        registry.register(Box::new(db_pool.clone()))?;
        Ok(Metrics {
            registry,
            http_requests,
            http_duration,
            db_pool,
            deliveries,
            attempt_seconds,
            first_attempt_delay,
            queue,
            dials,
            dial_seconds,
        })
    }

    /// The registry, for other modules to register their own collectors.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub fn observe_http(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.http_requests
            .with_label_values(&[route, method, &status.to_string()])
            .inc();
        self.http_duration
            .with_label_values(&[route, method])
            .observe(seconds);
    }

    pub fn observe_delivery(&self, outcome: &str, seconds: f64) {
        self.deliveries.with_label_values(&[outcome]).inc();
        self.attempt_seconds.observe(seconds);
    }

    /// One click-to-call request to a PBX of kind `pbx` and what came of it.
    pub fn observe_dial(&self, pbx: &str, outcome: &str, seconds: f64) {
        self.dials.with_label_values(&[pbx, outcome]).inc();
        self.dial_seconds.with_label_values(&[pbx]).observe(seconds);
    }

    pub fn observe_first_attempt_delay(&self, seconds: f64) {
        self.first_attempt_delay.observe(seconds);
    }

    pub fn set_queue(&self, stats: crate::storage::delivery_queue::QueueStats) {
        self.queue
            .with_label_values(&["pending"])
            .set(stats.pending as f64);
        self.queue.with_label_values(&["due"]).set(stats.due as f64);
        self.queue
            .with_label_values(&["oldest_due_seconds"])
            .set(stats.oldest_due_seconds);
    }

    /// Renders the text exposition format, sampling pool figures at scrape time.
    pub fn render(&self, pool: PoolStats) -> Result<String, prometheus::Error> {
        let in_use = pool.size.saturating_sub(pool.idle);
        self.db_pool
            .with_label_values(&["open"])
            .set(pool.size.into());
        self.db_pool
            .with_label_values(&["idle"])
            .set(pool.idle.into());
        self.db_pool
            .with_label_values(&["in_use"])
            .set(in_use.into());
        self.db_pool
            .with_label_values(&["max"])
            .set(pool.max.into());
        let mut buffer = Vec::new();
        prometheus::TextEncoder::new().encode(&self.registry.gather(), &mut buffer)?;
        Ok(String::from_utf8_lossy(&buffer).into_owned())
    }
}
