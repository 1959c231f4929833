//! The raw events of each call as they were received: the request body (or socket event) each
//! applied raw event came in, kept beside the call so that an admin can see why a call
//! produced what it did. Written with the ingest transaction's other rows; pruned with
//! delivery history (`retention_days`). Read only within one tenant.

use super::StoreError;
use super::bundle::{Arg, Bundle, rows_per_statement, values};
use super::store::{Store, on_pool};
use crate::domain::TenantId;
use chrono::{DateTime, Utc};

/// A raw event to keep: the call it was applied to and what arrived.
pub struct RawEventWrite {
    pub tenant_id: TenantId,
    pub call_id: String,
    pub source_id: String,
    /// The source's event name (`channel_create`, `phone.callee_ringing`, `Newchannel`, ...).
    pub source_event: String,
    pub received_at: DateTime<Utc>,
    pub content_type: String,
    pub body: String,
}

/// A kept raw event, as the console shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredRawEvent {
    pub source_id: String,
    pub source_event: String,
    pub received_at: DateTime<Utc>,
    pub content_type: String,
    pub body: String,
}

#[async_trait::async_trait]
pub trait RawEventStore {
    /// The call's kept raw events in the order they were applied, at most `limit`.
    async fn raw_events_of_call(
        &self,
        tenant: &TenantId,
        call_id: &str,
        limit: u32,
    ) -> Result<Vec<StoredRawEvent>, StoreError>;
}

/// Adds the multi-row inserts of `events` to an ingest transaction's bundle.
pub(super) fn push_raw_events(bundle: &mut Bundle, events: &[RawEventWrite]) {
    for chunk in events.chunks(rows_per_statement(7)) {
        let sql = format!(
            "INSERT INTO raw_events (tenant_id, call_id, source_id, source_event, \
             received_at, content_type, body) VALUES {}",
            values(chunk.len(), "({0}, {1}, {2}, {3}, {4}, {5}, {6})", 7)
        );
        let args = chunk
            .iter()
            .flat_map(|e| {
                [
                    Arg::Text(e.tenant_id.as_str().to_owned()),
                    Arg::Text(e.call_id.clone()),
                    Arg::Text(e.source_id.clone()),
                    Arg::Text(e.source_event.clone()),
                    Arg::Time(e.received_at),
                    Arg::Text(e.content_type.clone()),
                    Arg::Text(e.body.clone()),
                ]
            })
            .collect();
        bundle.push(sql, args);
    }
}

#[async_trait::async_trait]
impl RawEventStore for Store {
    async fn raw_events_of_call(
        &self,
        tenant: &TenantId,
        call_id: &str,
        limit: u32,
    ) -> Result<Vec<StoredRawEvent>, StoreError> {
        let rows: Vec<(String, String, DateTime<Utc>, String, String)> =
            on_pool!(self, |pool| sqlx::query_as(
                "SELECT source_id, source_event, received_at, content_type, body \
                 FROM raw_events WHERE tenant_id = $1 AND call_id = $2 ORDER BY id LIMIT $3",
            )
            .bind(tenant.as_str())
            .bind(call_id)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await)?;
        Ok(rows
            .into_iter()
            .map(
                |(source_id, source_event, received_at, content_type, body)| StoredRawEvent {
                    source_id,
                    source_event,
                    received_at,
                    content_type,
                    body,
                },
            )
            .collect())
    }
}
