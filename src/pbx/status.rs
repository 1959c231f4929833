//! What the connectors of this process know about their sources, for `/readyz` detail and
//! `/metrics`: connected or not (and why not), when the PBX was last heard from.

use chrono::{DateTime, Utc};
use prometheus::{IntCounterVec, IntGaugeVec, Opts, Registry};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::domain::{SourceId, SourceKind};

/// One source's connection as this process sees it.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SourceHealth {
    pub kind: SourceKind,
    pub connected: bool,
    /// The last event (not keep-alive answer) read from the PBX.
    pub last_event_at: Option<DateTime<Utc>>,
    /// Why the last attempt failed (never holds a secret).
    pub error: Option<String>,
}

/// Shared by the connectors and the operations endpoints.
pub struct PbxStatus {
    sources: Mutex<BTreeMap<String, SourceHealth>>,
    connected: IntGaugeVec,
    last_event: IntGaugeVec,
    events: IntCounterVec,
}

impl PbxStatus {
    /// Registers `ringhook_pbx_connected`, `ringhook_pbx_last_event_timestamp_seconds` and
    /// `ringhook_pbx_events_total`, each by source.
    pub fn new(registry: &Registry) -> Result<PbxStatus, prometheus::Error> {
        let connected = IntGaugeVec::new(
            Opts::new(
                "pbx_connected",
                "1 while the source's event socket is logged in",
            ),
            &["source"],
        )?;
        let last_event = IntGaugeVec::new(
            Opts::new(
                "pbx_last_event_timestamp_seconds",
                "Unix time of the last event read from the source's event socket",
            ),
            &["source"],
        )?;
        let events = IntCounterVec::new(
            Opts::new(
                "pbx_events_total",
                "Events read from the source's event socket",
            ),
            &["source"],
        )?;
        registry.register(Box::new(connected.clone()))?;
        registry.register(Box::new(last_event.clone()))?;
        registry.register(Box::new(events.clone()))?;
        Ok(PbxStatus {
            sources: Mutex::new(BTreeMap::new()),
            connected,
            last_event,
            events,
        })
    }

    fn update(&self, source: &SourceId, kind: SourceKind, change: impl FnOnce(&mut SourceHealth)) {
        if let Ok(mut sources) = self.sources.lock() {
            let health = sources
                .entry(source.to_string())
                .or_insert_with(|| SourceHealth {
                    kind,
                    connected: false,
                    last_event_at: None,
                    error: None,
                });
            change(health);
        }
    }

    pub fn connected(&self, source: &SourceId, kind: SourceKind) {
        self.update(source, kind, |h| {
            h.connected = true;
            h.error = None;
        });
        self.connected.with_label_values(&[source.as_str()]).set(1);
    }

    pub fn disconnected(&self, source: &SourceId, kind: SourceKind, error: String) {
        self.update(source, kind, |h| {
            h.connected = false;
            h.error = Some(error);
        });
        self.connected.with_label_values(&[source.as_str()]).set(0);
    }

    pub fn heard(&self, source: &SourceId, kind: SourceKind, at: DateTime<Utc>) {
        self.update(source, kind, |h| h.last_event_at = Some(at));
        self.last_event
            .with_label_values(&[source.as_str()])
            .set(at.timestamp());
        self.events.with_label_values(&[source.as_str()]).inc();
    }

    /// This process no longer holds the source.
    pub fn forget(&self, source: &SourceId) {
        if let Ok(mut sources) = self.sources.lock() {
            sources.remove(source.as_str());
        }
        let _ = self.connected.remove_label_values(&[source.as_str()]);
    }

    /// The sources this process holds, by id.
    pub fn snapshot(&self) -> BTreeMap<String, SourceHealth> {
        self.sources.lock().map(|s| s.clone()).unwrap_or_default()
    }
}
