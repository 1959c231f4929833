//! Group commit for ingest: one writer per process (on its own thread) applies the raw events
//! of concurrent requests in shared transactions, so the per-transaction costs (lock, begin,
//! commit, and on SQLite a hop to the worker thread per statement) are paid once per batch.
//!
//! The writer takes what is queued when it is ready (never waiting to fill a batch), up to
//! [`MAX_BATCH_EVENTS`]; while one batch commits, the next one queues. Every request is
//! answered only after the commit that holds its events; if a batch fails, every request in it
//! gets the error and nothing of it is stored, so each source retries.

use super::pipeline::{IngestJob, IngestSummary, apply_batch};
use crate::normalizer::NormalizerConfig;
use crate::storage::{Storage, StoreError};
use futures_util::FutureExt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Most raw events per batch (a larger single request still goes alone): bounds the
/// transaction's size and the latency a request can add to the others of its batch.
pub const MAX_BATCH_EVENTS: usize = 256;

/// Requests waiting for the writer before `submit` waits for room (backpressure).
pub const QUEUE_REQUESTS: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The batch holding the request's events was rolled back; the source should retry.
    #[error("the ingest batch failed and was rolled back")]
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
        (IngestWriter { queue: sender }, run(store, config, receiver))
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
) {
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
        // A panic must not take the writer (and with it all ingest) down: it fails the batch.
        let applied = AssertUnwindSafe(apply_batch(store.as_ref(), &config, &jobs))
            .catch_unwind()
            .await
            .unwrap_or_else(|_| Err(StoreError::Corrupt("ingest batch panicked".into())));
        match applied {
            Ok(summaries) => {
                for (reply, summary) in replies.into_iter().zip(summaries) {
                    // The request may have gone (client hung up): its events are committed.
                    let _ = reply.send(Ok(summary));
                }
            }
            Err(error) => {
                tracing::error!(
                    error = format!("{error:#}"),
                    requests = jobs.len(),
                    events,
                    "ingest batch failed; every request in it is refused"
                );
                let error = Arc::new(error);
                for reply in replies {
                    let _ = reply.send(Err(WriteError::Batch(error.clone())));
                }
            }
        }
    }
}
