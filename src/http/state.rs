//! What every handler can reach.

use crate::config::Settings;
use crate::delivery::wakeup::DeliveryWakeup;
use crate::metrics::Metrics;
use crate::normalizer::NormalizerConfig;
use crate::oauth::OAuthServer;
use crate::pipeline::{DirectoryCache, IngestWriter};
use crate::storage::Storage;
use std::sync::Arc;

pub struct AppState {
    pub storage: Arc<dyn Storage>,
    pub settings: Settings,
    pub metrics: Arc<Metrics>,
    pub directories: DirectoryCache,
    pub normalizer: NormalizerConfig,
    /// Applies ingested events in group-committed batches.
    pub ingest: IngestWriter,
    /// Wakes the delivery worker as soon as new deliveries are committed.
    pub deliveries_queued: Arc<DeliveryWakeup>,
    /// Keys, token settings and the bearer guard's cache.
    pub oauth: Arc<OAuthServer>,
    /// The socket sources this process holds, for `/readyz` detail.
    pub pbx: Arc<crate::pbx::status::PbxStatus>,
    /// How each source's history reads go, for `/readyz` detail and `/metrics`.
    pub reconcile: Arc<crate::reconcile::status::ReconcileStatus>,
    /// Calls into the sources' own APIs with their stored credentials (media downloads).
    pub source_api: Arc<crate::source_api::SourceApi>,
}
