//! Posting fixture scenarios to a running app, and waiting for the triggers they produce.

use super::TestApp;
use ringhook::admin::simulate::{SimulatedRequest, load_scenario};
use ringhook::domain::TenantId;
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
                number: None,
                limit: 500,
            })
            .await
            .unwrap()
    }

    /// Waits until an event of `event_type` was stored (the settle worker emits `call.ended`).
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
