//! Click-to-call dials on socket sources, handed from the API process to the connector that
//! holds the source's connection. The table is the hand-over: it works whichever of several
//! `serve` processes holds the lease, and each state change is one conditional `UPDATE`, so a
//! dial is sent at most once and never after the API gave up on it.

use async_trait::async_trait;

use super::store::{on_pool, on_write_pool};
use super::{Store, StoreError};
use crate::domain::{CallRequestId, SourceId, TenantId};

/// Where a handed-over dial stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialState {
    /// Stored by the API; no connector has taken it yet.
    Waiting,
    /// A connector took it and sent the Originate; the PBX has not answered yet.
    Sent,
    /// The PBX accepted the Originate (AMI `Response: Success`, ESL `+OK Job-UUID`).
    Accepted,
    /// The PBX refused it; the request's `reason` says why.
    Refused,
    /// The API stopped waiting before any connector took it: it is never sent.
    Abandoned,
}

impl DialState {
    pub fn as_str(self) -> &'static str {
        match self {
            DialState::Waiting => "waiting",
            DialState::Sent => "sent",
            DialState::Accepted => "accepted",
            DialState::Refused => "refused",
            DialState::Abandoned => "abandoned",
        }
    }

    fn parse(raw: &str) -> Option<DialState> {
        [
            DialState::Waiting,
            DialState::Sent,
            DialState::Accepted,
            DialState::Refused,
            DialState::Abandoned,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }
}

/// One dial to place over a source's event socket.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SocketDial {
    pub request_id: String,
    pub tenant_id: String,
    pub source_id: String,
    /// The user's phone as the PBX names it (the link id: `PJSIP/1001`, `user/1001`).
    pub endpoint: String,
    /// E.164, checked by the API.
    pub to_number: String,
    pub caller_id: Option<String>,
    /// Shown on the user's phone while it rings: the tenant's name.
    pub caller_name: String,
    pub ring_seconds: i64,
}

#[async_trait]
pub trait SocketDialStore {
    /// Stores a dial as `waiting` at `now_ms` (Unix ms) for the source's connector.
    async fn hand_over_dial(&self, dial: &SocketDial, now_ms: i64) -> Result<(), StoreError>;
    /// Takes (waiting -> sent) the source's dials stored since `since_ms`, oldest first.
    /// Each is returned to exactly one caller.
    async fn claim_dials(
        &self,
        source: &SourceId,
        since_ms: i64,
    ) -> Result<Vec<SocketDial>, StoreError>;
    /// Records the PBX's answer to a sent dial (sent -> accepted / refused).
    async fn answer_dial(&self, request: &str, state: DialState) -> Result<(), StoreError>;
    /// Where a dial of `tenant` stands.
    async fn dial_state(
        &self,
        tenant: &TenantId,
        request: &CallRequestId,
    ) -> Result<Option<DialState>, StoreError>;
    /// Takes a dial back (waiting -> abandoned). False when a connector took it first.
    async fn abandon_dial(&self, request: &CallRequestId) -> Result<bool, StoreError>;
}

#[async_trait]
impl SocketDialStore for Store {
    async fn hand_over_dial(&self, dial: &SocketDial, now_ms: i64) -> Result<(), StoreError> {
        let _writer = self.write_lock().await;
        on_write_pool!(self, |pool| sqlx::query(
            "INSERT INTO socket_dials (request_id, tenant_id, source_id, endpoint, to_number, \
             caller_id, caller_name, ring_seconds, state, created_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'waiting', $9)",
        )
        .bind(&dial.request_id)
        .bind(&dial.tenant_id)
        .bind(&dial.source_id)
        .bind(&dial.endpoint)
        .bind(&dial.to_number)
        .bind(&dial.caller_id)
        .bind(&dial.caller_name)
        .bind(dial.ring_seconds)
        .bind(now_ms)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(())
    }

    async fn claim_dials(
        &self,
        source: &SourceId,
        since_ms: i64,
    ) -> Result<Vec<SocketDial>, StoreError> {
        let _writer = self.write_lock().await;
        let mut dials: Vec<SocketDial> = on_write_pool!(self, |pool| sqlx::query_as(
            "UPDATE socket_dials SET state = 'sent' \
             WHERE source_id = $1 AND state = 'waiting' AND created_ms >= $2 \
             RETURNING request_id, tenant_id, source_id, endpoint, to_number, caller_id, \
             caller_name, ring_seconds",
        )
        .bind(source.as_str())
        .bind(since_ms)
        .fetch_all(pool)
        .await)?;
        dials.sort_by(|a, b| a.request_id.cmp(&b.request_id));
        Ok(dials)
    }

    async fn answer_dial(&self, request: &str, state: DialState) -> Result<(), StoreError> {
        let _writer = self.write_lock().await;
        on_write_pool!(self, |pool| sqlx::query(
            "UPDATE socket_dials SET state = $1 WHERE request_id = $2 AND state = 'sent'",
        )
        .bind(state.as_str())
        .bind(request)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(())
    }

    async fn dial_state(
        &self,
        tenant: &TenantId,
        request: &CallRequestId,
    ) -> Result<Option<DialState>, StoreError> {
        let state: Option<(String,)> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT state FROM socket_dials WHERE tenant_id = $1 AND request_id = $2",
        )
        .bind(tenant.as_str())
        .bind(request.as_str())
        .fetch_optional(pool)
        .await)?;
        Ok(state.and_then(|(s,)| DialState::parse(&s)))
    }

    async fn abandon_dial(&self, request: &CallRequestId) -> Result<bool, StoreError> {
        let _writer = self.write_lock().await;
        let taken = on_write_pool!(self, |pool| sqlx::query(
            "UPDATE socket_dials SET state = 'abandoned' \
             WHERE request_id = $1 AND state = 'waiting'",
        )
        .bind(request.as_str())
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(taken == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_through_their_names() {
        for s in ["waiting", "sent", "accepted", "refused", "abandoned"] {
            assert_eq!(DialState::parse(s).map(DialState::as_str), Some(s));
        }
        assert_eq!(DialState::parse("ringing"), None);
    }
}
