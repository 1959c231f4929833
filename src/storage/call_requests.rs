//! The call-requests aggregate: one row per click-to-call (`POST /v1/calls`). Its status moves
//! forward only: first by what the PBX answered the dial, then by the call events the ingest
//! transaction stores for it (see `call_queries.rs`), so a late or replayed event never undoes
//! a later state.

use crate::domain::{CallRequestId, E164Number, SourceId, TenantId, UserId};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Where a click-to-call request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RequestStatus {
    /// Stored; the PBX accepted it (or has not answered yet), nothing rang so far.
    Requested,
    /// A phone of the call is ringing.
    Ringing,
    Answered,
    Ended,
    /// The PBX refused or could not be reached; `reason` says why.
    Failed,
}

/// The rank of the stored `status` column in SQL, as [`RequestStatus::rank`] computes it, so an
/// update can refuse to move a request backwards in the same statement.
pub const STATUS_RANK_SQL: &str =
    "(CASE status WHEN 'ringing' THEN 1 WHEN 'answered' THEN 2 WHEN 'ended' THEN 3 ELSE 0 END)";

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Requested => "requested",
            RequestStatus::Ringing => "ringing",
            RequestStatus::Answered => "answered",
            RequestStatus::Ended => "ended",
            RequestStatus::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Option<RequestStatus> {
        [
            RequestStatus::Requested,
            RequestStatus::Ringing,
            RequestStatus::Answered,
            RequestStatus::Ended,
            RequestStatus::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }

    /// How far the call got. `failed` ranks with `requested`: a dial that timed out may still
    /// have placed the call, and then its events are the better account of it.
    pub fn rank(self) -> i64 {
        match self {
            RequestStatus::Requested | RequestStatus::Failed => 0,
            RequestStatus::Ringing => 1,
            RequestStatus::Answered => 2,
            RequestStatus::Ended => 3,
        }
    }

    /// The status a call event of this type moves a request to, if any.
    pub fn after_event(event_type: &str) -> Option<RequestStatus> {
        match event_type {
            "call.ringing" => Some(RequestStatus::Ringing),
            "call.answered" => Some(RequestStatus::Answered),
            "call.ended" => Some(RequestStatus::Ended),
            _ => None,
        }
    }
}

/// A stored click-to-call request.
#[derive(Clone, Debug)]
pub struct CallRequest {
    pub id: CallRequestId,
    pub tenant_id: TenantId,
    /// The user whose phone places the call.
    pub user_id: UserId,
    /// The source (PBX) that dialed.
    pub source_id: SourceId,
    pub to: E164Number,
    pub caller_id: Option<E164Number>,
    pub status: RequestStatus,
    pub reason: Option<String>,
    /// The PBX's own id of the call, when its answer named one (Zorio `call_uuid`).
    pub pbx_call_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct NewCallRequest {
    /// Chosen before storing: the dial request is built (and checked) with it first.
    pub id: CallRequestId,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub source_id: SourceId,
    pub to: E164Number,
    pub caller_id: Option<E164Number>,
}

/// What the PBX answered the dial.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DialRecord {
    Placed {
        status: RequestStatus,
        pbx_call_id: Option<String>,
    },
    Failed {
        reason: String,
    },
}

#[async_trait::async_trait]
pub trait CallRequestStore {
    /// Stores a new request with status `requested`.
    async fn create_call_request(
        &self,
        new: &NewCallRequest,
        now: DateTime<Utc>,
    ) -> Result<CallRequest, super::StoreError>;

    async fn call_request(
        &self,
        tenant: &TenantId,
        id: &CallRequestId,
    ) -> Result<Option<CallRequest>, super::StoreError>;

    /// Records the dial's result without moving the request backwards: events may have
    /// advanced it while the PBX was still answering (Kazoo's POST blocks until the call
    /// starts). A failure only applies to a request that is still `requested`. Returns the
    /// request as it now stands.
    async fn record_dial(
        &self,
        tenant: &TenantId,
        id: &CallRequestId,
        result: &DialRecord,
        now: DateTime<Utc>,
    ) -> Result<Option<CallRequest>, super::StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_names() {
        for s in ["requested", "ringing", "answered", "ended", "failed"] {
            assert_eq!(RequestStatus::parse(s).map(|s| s.as_str()), Some(s));
        }
        assert_eq!(RequestStatus::parse("busy"), None);
    }

    #[test]
    fn call_events_move_requests_forward_only() {
        let rank = |t| RequestStatus::after_event(t).map(RequestStatus::rank);
        assert!(rank("call.ringing") < rank("call.answered"));
        assert!(rank("call.answered") < rank("call.ended"));
        assert_eq!(RequestStatus::after_event("call.held"), None);
        assert!(RequestStatus::Failed.rank() < RequestStatus::Ringing.rank());
    }
}
