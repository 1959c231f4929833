//! Group commit for ingest: one writer per process (on its own thread) applies the raw events
//! of concurrent requests in shared transactions, so the per-transaction costs (lock, begin,
//! commit, and on SQLite a hop to the worker thread per statement) are paid once per batch.
//!
//! The writer takes what is queued when it is ready (never waiting to fill a batch), up to
//! [`MAX_BATCH_EVENTS`]; while one batch commits, the next one queues. Every request is
//! answered only after the commit that holds its events. If a batch fails, its requests are
//! applied again one by one, so a request that cannot be stored is refused alone (nothing of it
//! is kept, and its source retries) while the others of its batch are stored.

use super::apply::{IngestJob, IngestSummary, apply_batch};
use super::state_cache::StateCache;
use crate::normalizer::NormalizerConfig;
use crate::storage::{Storage, StoreError};
use futures_util::FutureExt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// Most raw events per batch (a larger single request still goes alone): bounds the
/// transaction's size and the latency a request can add to the others of its batch.
pub const MAX_BATCH_EVENTS: usize = 256;

/// Requests waiting for the writer before `submit` waits for room (backpressure).
pub const QUEUE_REQUESTS: usize = 1024;

/// How long a database-level write failure keeps `/readyz` at 503 when no write succeeds
/// after it (with no traffic, nothing else would tell that the fault has passed).
const FAILURE_REMEMBERED: Duration = Duration::from_secs(30);

/// The outcome of the latest ingest write, for readiness: a database that answers pings but
/// cannot write (a full disk) must not look ready.
#[derive(Debug, Default)]
pub struct WriteHealth {
    failed_at: std::sync::Mutex<Option<Instant>>,
}

impl WriteHealth {
    fn record(&self, outcome: Result<(), &StoreError>) {
        let failed = match outcome {
            Ok(()) => None,
            Err(error) if error.is_unavailable() => Some(Instant::now()),
            // A request the database refused on its own merits says nothing about the database.
            Err(_) => return,
        };
        if let Ok(mut failed_at) = self.failed_at.lock() {
            *failed_at = failed;
        }
    }

    /// True while the latest write failed for a database-level reason (and recently).
    pub fn failing(&self) -> bool {
        self.failed_at
            .lock()
            .map(|at| at.is_some_and(|at| at.elapsed() < FAILURE_REMEMBERED))
            .unwrap_or(false)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The request's events could not be stored and were rolled back; the source should retry.
    #[error("the request's events could not be stored and were rolled back")]
    Batch(#[source] Arc<StoreError>),
    #[error("the ingest writer has stopped")]
    Stopped,
}

type Reply = oneshot::Sender<Result<IngestSummary, WriteError>>;

/// The handle requests submit their events through. Cloning it is cheap; the writer task ends
/// once every handle is dropped and the queue is drained.
#[derive(Clone)]
pub struct IngestWriter {
    queue: mpsc::Sender<(IngestJob, Reply)>,
    health: Arc<WriteHealth>,
}

impl WriteError {
    /// True when the database, not the request, was at fault: the source should retry soon.
    pub fn is_unavailable(&self) -> bool {
        match self {
            WriteError::Batch(error) => error.is_unavailable(),
            WriteError::Stopped => false,
        }
    }
}

impl IngestWriter {
    /// Starts the writer on a thread of its own (with its own Tokio runtime), so it runs
    /// whatever the runtime that built the app is doing: HTTP handlers run on actix's threads
    /// and must never wait on a runtime that a blocking caller (a test) holds still.
    pub fn start(
        store: Arc<dyn Storage>,
        config: NormalizerConfig,
    ) -> std::io::Result<IngestWriter> {
        let (writer, run) = IngestWriter::new(store, config, QUEUE_REQUESTS);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        std::thread::Builder::new()
            .name("ingest-writer".into())
            .spawn(move || runtime.block_on(run))?;
        Ok(writer)
    }

    /// The handle and the writer loop, not yet running (tests queue requests before it runs,
    /// to pin what one batch holds).
    pub fn new(
        store: Arc<dyn Storage>,
        config: NormalizerConfig,
        queue: usize,
    ) -> (IngestWriter, impl Future<Output = ()> + Send + 'static) {
        let (sender, receiver) = mpsc::channel(queue.max(1));
        let health = Arc::new(WriteHealth::default());
        (
            IngestWriter {
                queue: sender,
                health: health.clone(),
            },
            run(store, config, receiver, health),
        )
    }

    /// Whether ingest writes are failing for a database-level reason right now.
    pub fn writes_failing(&self) -> bool {
        self.health.failing()
    }

    /// Applies the request's events; resolves once they are committed (or the batch failed).
    pub async fn submit(&self, job: IngestJob) -> Result<IngestSummary, WriteError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((job, reply))
            .await
            .map_err(|_| WriteError::Stopped)?;
        answer.await.map_err(|_| WriteError::Stopped)?
    }
}

async fn run(
    store: Arc<dyn Storage>,
    config: NormalizerConfig,
    mut queue: mpsc::Receiver<(IngestJob, Reply)>,
    health: Arc<WriteHealth>,
) {
    let states = StateCache::default();
    let mut held = None;
    loop {
        let first = match held.take() {
            Some(first) => first,
            None => match queue.recv().await {
                Some(first) => first,
                None => return,
            },
        };
        let mut events = first.0.len();
        let mut batch = vec![first];
        while events < MAX_BATCH_EVENTS {
            let Ok(next) = queue.try_recv() else { break };
            if events + next.0.len() > MAX_BATCH_EVENTS {
                held = Some(next);
                break;
            }
            events += next.0.len();
            batch.push(next);
        }
        let (jobs, replies): (Vec<IngestJob>, Vec<Reply>) = batch.into_iter().unzip();
        let applied = apply_guarded(store.as_ref(), &config, &states, &jobs).await;
        health.record(applied.as_ref().map(|_| ()));
        match applied {
            Ok(summaries) => {
                for (reply, summary) in replies.into_iter().zip(summaries) {
                    // The request may have gone (client hung up): its events are committed.
                    let _ = reply.send(Ok(summary));
                }
            }
            // A database that cannot write now fails each request alone as well: answer all
            // at once rather than make each wait for its own failure.
            Err(error) if jobs.len() == 1 || error.is_unavailable() => {
                refuse(replies, error, events)
            }
            Err(error) => {
                // One request that cannot be stored must not refuse the others: each is
                // applied alone, in order, so only the ones that fail on their own are refused.
                tracing::warn!(
                    error = format!("{error:#}"),
                    requests = jobs.len(),
                    events,
                    "ingest batch failed; applying its requests one by one"
                );
                for (job, reply) in jobs.iter().zip(replies) {
                    let applied =
                        apply_guarded(store.as_ref(), &config, &states, std::slice::from_ref(job))
                            .await;
                    health.record(applied.as_ref().map(|_| ()));
                    match applied {
                        Ok(mut summary) => {
                            let _ = reply.send(Ok(summary.remove(0)));
                        }
                        Err(error) => refuse(vec![reply], error, job.events.len()),
                    }
                }
            }
        }
    }
}

/// Applies the jobs in one transaction. A panic must not take the writer (and with it all
/// ingest) down: it fails the transaction like any error.
async fn apply_guarded(
    store: &dyn Storage,
    config: &NormalizerConfig,
    states: &StateCache,
    jobs: &[IngestJob],
) -> Result<Vec<IngestSummary>, StoreError> {
    AssertUnwindSafe(apply_batch(store, config, states, jobs))
        .catch_unwind()
        .await
        .unwrap_or_else(|_| Err(StoreError::Corrupt("ingest batch panicked".into())))
}

/// Answers requests whose events were rolled back: each source retries.
fn refuse(replies: Vec<Reply>, error: StoreError, events: usize) {
    tracing::error!(
        error = format!("{error:#}"),
        requests = replies.len(),
        events,
        "ingest request refused; nothing of it was stored"
    );
    let error = Arc::new(error);
    for reply in replies {
        let _ = reply.send(Err(WriteError::Batch(error.clone())));
    }
}
