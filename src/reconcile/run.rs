//! Reads one window of a source's history page by page and applies each page as it comes,
//! so a backfill of any length holds one page in memory; reports progress after each page.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::time::{Duration, Instant};

use super::http::HistoryError;
use super::kazoo::KazooHistory;
use super::record::HistoryRecord;
use super::status::ReconcileStatus;
use super::zoom::ZoomHistory;
use crate::domain::SourceKind;
use crate::normalizer::NormalizerConfig;
use crate::pipeline::DirectoryCache;
use crate::pipeline::history::{HistoryOutcome, apply_history};
use crate::source_api::SourceApi;
use crate::storage::{Source, Storage, StoreError};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error("the calls could not be stored")]
    Store(#[from] StoreError),
    #[error("{0} sources have no call history ringhook can read")]
    Unsupported(SourceKind),
}

/// The history reader of a source's kind.
pub enum Reader {
    Kazoo(KazooHistory),
    Zoom(ZoomHistory),
}

impl Reader {
    /// The reader of `source`'s history over `[from, to)`.
    pub fn for_source(
        api: Arc<SourceApi>,
        source: &Source,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Reader, ReconcileError> {
        match source.kind {
            SourceKind::Kazoo => Ok(Reader::Kazoo(KazooHistory::new(api, source, from, to)?)),
            SourceKind::Zoom => Ok(Reader::Zoom(ZoomHistory::new(api, source, from, to)?)),
            other => Err(ReconcileError::Unsupported(other)),
        }
    }

    /// The source kinds whose history API ringhook reads.
    pub const KINDS: [SourceKind; 2] = [SourceKind::Kazoo, SourceKind::Zoom];

    async fn next_page(&mut self) -> Result<Option<Vec<HistoryRecord>>, HistoryError> {
        match self {
            Reader::Kazoo(reader) => reader.next_page().await,
            Reader::Zoom(reader) => reader.next_page().await,
        }
    }
}

/// What a window did, summed over its pages.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub pages: usize,
    pub records: usize,
    pub recovered: usize,
    pub closed_early: usize,
    pub already_ended: usize,
    pub events: usize,
    pub deliveries: u64,
}

/// What the caller sees after each page: the page's outcome (its events included) and the
/// totals so far.
pub struct Progress<'a> {
    pub page: &'a HistoryOutcome,
    pub totals: &'a Totals,
}

/// Everything a window read needs besides the window.
pub struct Reconciler<'a> {
    pub store: &'a dyn Storage,
    pub api: Arc<SourceApi>,
    pub config: &'a NormalizerConfig,
    pub status: Option<&'a ReconcileStatus>,
    pub dry_run: bool,
}

impl Reconciler<'_> {
    /// Reads `source`'s history over `[from, to)` and applies it at `now`.
    #[tracing::instrument(name = "reconcile window", skip_all, fields(source = %source.id, %from, %to, dry_run = self.dry_run))]
    pub async fn window(
        &self,
        source: &Source,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        now: DateTime<Utc>,
        on_page: &mut (dyn FnMut(Progress<'_>) + Send),
    ) -> Result<Totals, ReconcileError> {
        let directory = DirectoryCache::new(Duration::from_secs(60))
            .for_source(self.store, source)
            .await?;
        let mut reader = Reader::for_source(self.api.clone(), source, from, to)?;
        let label = source.id.as_str();
        let mut totals = Totals::default();
        loop {
            let started = Instant::now();
            let page = reader.next_page().await;
            if let Some(status) = self.status {
                let failed = page.as_ref().err().map(ToString::to_string);
                status.observe_read(label, started.elapsed().as_secs_f64(), failed.as_deref());
            }
            let Some(records) = page? else {
                return Ok(totals);
            };
            let outcome = apply_history(
                self.store,
                source,
                &directory,
                self.config,
                &records,
                now,
                self.dry_run,
            )
            .await?;
            if let (Some(status), false) = (self.status, self.dry_run) {
                status.observe_calls(label, outcome.recovered, outcome.closed_early);
            }
            totals.pages += 1;
            totals.records += records.len();
            totals.recovered += outcome.recovered;
            totals.closed_early += outcome.closed_early;
            totals.already_ended += outcome.already_ended;
            totals.events += outcome.events.len();
            totals.deliveries += outcome.deliveries;
            on_page(Progress {
                page: &outcome,
                totals: &totals,
            });
        }
    }
}
