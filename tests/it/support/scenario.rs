//! Posting fixture scenarios to a running app, settling their calls, and reading the triggers
//! they produce.

use super::tenant::{AcmeTenant, acme};
use super::{TestApp, spawn_stepped_app};
use chrono::{TimeDelta, Utc};
use ringhook::admin::simulate::{SimulatedRequest, load_scenario};
use ringhook::config::Backend;
use ringhook::domain::{SourceKind, TenantId};
use ringhook::normalizer::CallEvent;
use ringhook::storage::{EventQuery, Source};
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub fn fixtures(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures")
        .join(path)
}

/// The scenario's requests, signed now with the source's secret.
pub fn requests(source: &Source, scenario: &str) -> Vec<SimulatedRequest> {
    use secrecy::ExposeSecret;
    load_scenario(
        &fixtures(scenario),
        source.kind,
        source.secret.expose_secret(),
        chrono::Utc::now(),
    )
    .unwrap()
}

impl TestApp {
    pub async fn post_ingest(
        &self,
        source: &Source,
        request: &SimulatedRequest,
    ) -> reqwest::Response {
        let mut url = url::Url::parse(&self.url(&format!("/ingest/{}", source.id))).unwrap();
        if let Some(token) = &request.query_token {
            url.query_pairs_mut().append_pair("token", token);
        }
        let mut call = self.client.post(url).body(request.body.clone());
        for (name, value) in &request.headers {
            call = call.header(name, value);
        }
        call.send().await.unwrap()
    }

    /// Posts every request of the scenario; each must be answered exactly 200.
    pub async fn replay(&self, source: &Source, scenario: &str) -> Vec<serde_json::Value> {
        let mut answers = Vec::new();
        for request in requests(source, scenario) {
            let response = self.post_ingest(source, &request).await;
            assert_eq!(response.status(), 200, "{}", request.file);
            answers.push(response.json().await.unwrap());
        }
        answers
    }

    pub async fn events(&self, tenant: &TenantId) -> Vec<CallEvent> {
        self.db
            .store
            .call_events(&EventQuery {
                tenant_id: tenant.clone(),
                participant: None,
                event_type: None,
                limit: 500,
            })
            .await
            .unwrap()
    }

    /// Steps the settle worker as it would run one second from now, settling every call whose
    /// `call.ended` is due (the tests run with `call_settle_seconds = 0`), then once more two
    /// seconds later: that second step must find nothing, so a wrong extra trigger cannot hide.
    /// Returns the tenant's events.
    pub async fn settle_and_list(&self, tenant: &TenantId) -> Vec<CallEvent> {
        let now = Utc::now() + TimeDelta::seconds(1);
        self.settle_all(now).await;
        assert_eq!(
            self.settle_all(now + TimeDelta::seconds(2)).await,
            0,
            "a call settles once"
        );
        self.events(tenant).await
    }

    /// Waits until an event of `event_type` was stored, for tests whose events arrive on their
    /// own (a socket connector, the real settle loop).
    pub async fn wait_for_event(&self, tenant: &TenantId, event_type: &str) -> Vec<CallEvent> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let events = self.events(tenant).await;
            if events.iter().any(|e| e.event_type.as_str() == event_type) {
                return events;
            }
            assert!(
                Instant::now() < deadline,
                "no {event_type} within 15 s: {events:#?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// One fixture scenario played through the real `POST /ingest/{source}` and settled.
pub struct Played {
    pub app: TestApp,
    pub acme: AcmeTenant,
    /// The tenant's stored triggers, newest first.
    pub events: Vec<CallEvent>,
}

/// Plays `scenario` from the `kind` source of a fresh Acme tenant, on a stepped app that
/// settles calls as soon as they are due; `None` when `backend` is not configured.
pub async fn play(backend: Backend, kind: SourceKind, scenario: &str) -> Option<Played> {
    let app = spawn_stepped_app(backend, |s| s.call_settle_seconds = 0).await?;
    let acme = acme(app.db.store.as_ref()).await;
    app.replay(acme.source(kind), scenario).await;
    let events = app.settle_and_list(&acme.tenant_id).await;
    Some(Played { app, acme, events })
}
