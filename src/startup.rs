//! Builds the application and runs the HTTP API and the background workers side by side until
//! shutdown, then drains both.

use crate::actions::{self, ClickToCall};
use crate::config::Settings;
use crate::delivery::wakeup::{self, DeliveryWakeup};
use crate::delivery::worker::{DeliveryWorker, WorkerSettings};
use crate::delivery::{ClientSettings, DeliveryClient, RateLimiter};
use crate::hooks;
use crate::http::{AppState, middleware, ops, panic_guard, request_span, unmatched};
use crate::ingest;
use crate::maintenance;
use crate::metrics::Metrics;
use crate::oauth::{self, OAuthServer};
use crate::pipeline::{self, DirectoryCache, IngestWriter};
use crate::storage::{self, Storage};
use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::{ErrorHandlers, from_fn};
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use std::net::TcpListener;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Whether the background workers (delivery, settling, pruning) run on their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workers {
    /// Each worker loops in the background: what `serve` runs.
    Background,
    /// No worker runs: the caller steps them (tests drive the queue deterministically through
    /// [`delivery_worker`] and `pipeline::settle::settle_due`).
    Stepped,
}

/// A built application: listening, migrated, not yet serving.
pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
    shutdown: CancellationToken,
    workers: JoinSet<()>,
}

impl Application {
    /// Connects and migrates the database, then binds the listener (port 0 picks a free port).
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let storage = storage::connect(&settings.database_url, settings.database_max_connections)
            .await
            .with_context(|| format!("cannot open the database {}", settings.database_url))?;
        storage
            .migrate()
            .await
            .context("cannot migrate the database")?;
        Self::build_with_storage(settings, storage).await
    }

    /// Builds around an already opened, migrated store.
    pub async fn build_with_storage(
        settings: Settings,
        storage: Arc<dyn Storage>,
    ) -> anyhow::Result<Application> {
        Self::build_with(settings, storage, Workers::Background).await
    }

    /// Builds around an already opened, migrated store, with the workers as `workers` says.
    pub async fn build_with(
        settings: Settings,
        storage: Arc<dyn Storage>,
        workers: Workers,
    ) -> anyhow::Result<Application> {
        tokio::task::spawn_blocking(crate::domain::E164Number::load_numbering_plans)
            .await
            .context("cannot load the phone numbering plans")?;
        let listener = TcpListener::bind(settings.listen)
            .with_context(|| format!("cannot listen on {}", settings.listen))?;
        let port = listener.local_addr()?.port();
        let oauth = Arc::new(
            OAuthServer::start(&settings, storage.as_ref())
                .await
                .context("cannot load the OAuth signing keys")?,
        );
        let metrics = Arc::new(Metrics::new().context("cannot register metrics")?);
        let pbx = Arc::new(
            crate::pbx::status::PbxStatus::new(metrics.registry())
                .context("cannot register PBX metrics")?,
        );
        let reconcile = Arc::new(
            crate::reconcile::status::ReconcileStatus::new(metrics.registry())
                .context("cannot register reconciliation metrics")?,
        );
        let source_api = Arc::new(
            crate::source_api::SourceApi::new(
                settings.target_policy(),
                crate::source_api::ApiTimeouts::within(settings.source_api_limit()),
            )
            .context("cannot build the source API client")?,
        );
        let state = web::Data::new(AppState {
            reconcile,
            source_api,
            ingest: IngestWriter::start(storage.clone(), settings.normalizer())
                .context("cannot start the ingest writer")?,
            storage,
            metrics,
            pbx,
            directories: DirectoryCache::new(Duration::from_secs(5)),
            normalizer: settings.normalizer(),
            deliveries_queued: Arc::new(DeliveryWakeup::default()),
            settings,
            oauth,
        });
        let click_to_call = web::Data::new(
            ClickToCall::from_settings(&state.settings)
                .context("cannot build the click-to-call HTTP client")?,
        );
        let server = serve(listener, state.clone(), click_to_call)?;
        let shutdown = CancellationToken::new();
        let workers = match workers {
            Workers::Background => spawn_workers(&state, &shutdown)?,
            Workers::Stepped => JoinSet::new(),
        };
        Ok(Application {
            port,
            server,
            state,
            shutdown,
            workers,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Cancelling this token stops the application gracefully.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Serves until the shutdown token is cancelled; then stops accepting, lets in-flight
    /// requests and worker steps finish (bounded by the grace period) and closes the pool.
    pub async fn run_until_stopped(mut self) -> anyhow::Result<()> {
        let handle: ServerHandle = self.server.handle();
        let grace = self.state.settings.shutdown_grace();
        let server = tokio::spawn(self.server);
        tracing::info!(port = self.port, "ringhook is serving");
        self.shutdown.cancelled().await;
        tracing::info!("shutting down: draining requests and workers");
        handle.stop(true).await;
        let drained = tokio::time::timeout(grace, async {
            while self.workers.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!("workers did not stop within the grace period; aborting them");
            self.workers.abort_all();
        }
        server.await.context("the HTTP server task failed")??;
        self.state.storage.close().await;
        tracing::info!("ringhook stopped");
        Ok(())
    }
}

/// The background workers, each stopping when `shutdown` is cancelled.
fn spawn_workers(
    state: &web::Data<AppState>,
    shutdown: &CancellationToken,
) -> anyhow::Result<JoinSet<()>> {
    let mut workers = JoinSet::new();
    workers.spawn(pipeline::settle::run(
        state.storage.clone(),
        state.normalizer.clone(),
        Duration::from_millis(500),
        shutdown.clone(),
    ));
    workers.spawn(delivery_worker(state)?.run(state.deliveries_queued.clone(), shutdown.clone()));
    workers.spawn(wakeup::relay(
        state.storage.clone(),
        state.deliveries_queued.clone(),
        shutdown.clone(),
    ));
    workers.spawn(maintenance::run(
        state.storage.clone(),
        maintenance::RetentionDays {
            history_days: state.settings.retention_days,
            receipt_days: state.settings.ingest_dedupe_days,
        },
        Duration::from_secs(3600),
        shutdown.clone(),
    ));
    if state.settings.sqlite_checkpoint_millis > 0 {
        workers.spawn(maintenance::checkpoints(
            state.storage.clone(),
            Duration::from_millis(state.settings.sqlite_checkpoint_millis),
            shutdown.clone(),
        ));
    }
    workers.spawn(oauth::maintenance::run(
        state.storage.clone(),
        state.oauth.clone(),
        Duration::from_secs(state.settings.oauth_prune_interval_seconds),
        shutdown.clone(),
    ));
    if let Some(sweeper) = sweeper(state)? {
        workers.spawn(sweeper.run(shutdown.clone()));
    }
    workers.spawn(crate::pbx::connector::run(
        state.clone(),
        crate::pbx::connector::ConnectorSettings::default(),
        shutdown.clone(),
    ));
    Ok(workers)
}

/// The history sweeper as the settings describe it; `None` when `reconcile_interval_seconds`
/// is 0.
pub fn sweeper(state: &AppState) -> anyhow::Result<Option<crate::reconcile::sweeper::Sweeper>> {
    use crate::reconcile::sweeper;
    let settings = &state.settings;
    if settings.reconcile_interval_seconds == 0 {
        return Ok(None);
    }
    Ok(Some(sweeper::Sweeper {
        store: state.storage.clone(),
        api: state.source_api.clone(),
        config: state.normalizer.clone(),
        status: state.reconcile.clone(),
        wakeup: state.deliveries_queued.clone(),
        settings: sweeper::SweepSettings {
            interval: Duration::from_secs(settings.reconcile_interval_seconds),
            lag: Duration::from_secs(settings.reconcile_lag_seconds),
            holder: format!("serve-{}", ulid::Ulid::generate()),
        },
    }))
}

/// The delivery worker as the settings describe it.
pub fn delivery_worker(state: &AppState) -> anyhow::Result<DeliveryWorker> {
    let settings = &state.settings;
    let timeout = Duration::from_secs(settings.delivery_timeout_seconds);
    let client = DeliveryClient::new(
        settings.target_policy(),
        &ClientSettings {
            timeout,
            ..ClientSettings::default()
        },
    )
    .context("cannot build the delivery HTTP client")?;
    let rate = NonZeroU32::new(settings.delivery_rate_per_second).unwrap_or(NonZeroU32::MIN);
    Ok(DeliveryWorker::new(
        state.storage.clone(),
        client,
        settings.target_policy(),
        settings.retry_policy(),
        RateLimiter::new(rate, rate),
        WorkerSettings {
            batch: 256,
            concurrency: settings.delivery_concurrency,
            per_target: settings.delivery_target_concurrency,
            lease: chrono::TimeDelta::from_std(timeout * 4)
                .unwrap_or(chrono::TimeDelta::minutes(1)),
            disable_after: chrono::TimeDelta::hours(settings.hook_disable_after_hours as i64),
            idle_poll: Duration::from_secs(1),
        },
        Some(state.metrics.clone()),
    ))
}

fn serve(
    listener: TcpListener,
    state: web::Data<AppState>,
    click_to_call: web::Data<ClickToCall>,
) -> anyhow::Result<Server> {
    let max_body = state.settings.max_body_bytes;
    let known_paths = web::Data::new(unmatched::KnownPaths::from_document(
        &crate::openapi::document(),
    ));
    let catch_panics = panic_guard::CatchPanics::register(state.metrics.registry())?;
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(click_to_call.clone())
            .app_data(web::PayloadConfig::new(max_body))
            .app_data(web::JsonConfig::default().limit(max_body))
            .app_data(web::FormConfig::default().limit(max_body))
            .wrap(from_fn(middleware::head_as_get))
            .wrap(ErrorHandlers::new().default_handler(middleware::problem_for_framework_errors))
            .wrap(from_fn(middleware::limit_body))
            .wrap(catch_panics.clone())
            .wrap(from_fn(middleware::record_metrics))
            .wrap(tracing_actix_web::TracingLogger::<
                request_span::RedactedRootSpan,
            >::new())
            .service(ops::healthz)
            .service(ops::readyz)
            .service(ops::metrics)
            .service(ingest::endpoint::ingest)
            .configure(hooks::routes)
            .configure(crate::media::routes)
            .configure(crate::admin::api::routes)
            .configure(actions::routes)
            .configure(oauth::routes)
            .configure(crate::console::routes)
            .app_data(known_paths.clone())
            .default_service(web::to(unmatched::unmatched))
    })
    .disable_signals()
    .shutdown_timeout(30)
    .listen(listener)?
    .run();
    Ok(server)
}
