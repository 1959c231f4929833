//! The call-requests aggregate: one row per click-to-call (`POST /v1/calls`). Its status moves
//! forward only: first by what the PBX answered the dial, then by the call events the ingest
//! transaction stores for it (see `calls/request_moves.rs`), so a late or replayed event never
//! undoes a later state. The rule is [`RequestStatus::moves_to`]; statements only apply it.

use super::StoreError;
use super::error::corrupt;
use super::store::{Store, on_pool};
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
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    const ALL: [RequestStatus; 5] = [
        RequestStatus::Requested,
        RequestStatus::Ringing,
        RequestStatus::Answered,
        RequestStatus::Ended,
        RequestStatus::Failed,
    ];

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

    /// Whether a request standing at `self` moves to `next`: forward only, and a failure only
    /// while nothing has happened yet (a call whose events arrived is not failed by a late
    /// dial answer).
    pub fn moves_to(self, next: RequestStatus) -> bool {
        match next {
            RequestStatus::Failed => self == RequestStatus::Requested,
            _ => self.rank() < next.rank(),
        }
    }

    /// The statuses that move to `next`, as an SQL list of literals (the names are fixed
    /// words, never input), so a statement moves a request only from one of them: the rule is
    /// [`RequestStatus::moves_to`], the statement only applies it atomically.
    pub(super) fn sql_moving_to(next: RequestStatus) -> String {
        let names: Vec<String> = Self::ALL
            .into_iter()
            .filter(|s| s.moves_to(next))
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        if names.is_empty() {
            // `IN ()` is not SQL; no status moves to `requested`.
            return "NULL".to_owned();
        }
        names.join(", ")
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
    ) -> Result<CallRequest, StoreError>;

    async fn call_request(
        &self,
        tenant: &TenantId,
        id: &CallRequestId,
    ) -> Result<Option<CallRequest>, StoreError>;

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
    ) -> Result<Option<CallRequest>, StoreError>;
}

const COLUMNS: &str = "id, tenant_id, user_id, source_id, to_number, caller_id, \
    status, reason, pbx_call_id, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    tenant_id: String,
    user_id: String,
    source_id: String,
    to_number: String,
    caller_id: Option<String>,
    status: String,
    reason: Option<String>,
    pbx_call_id: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn number(raw: String) -> Result<E164Number, StoreError> {
    E164Number::try_from(raw.clone()).map_err(|_| corrupt("number", &raw))
}

impl TryFrom<Row> for CallRequest {
    type Error = StoreError;
    fn try_from(row: Row) -> Result<Self, StoreError> {
        Ok(CallRequest {
            id: CallRequestId::parse(&row.id).ok_or_else(|| corrupt("call request id", &row.id))?,
            tenant_id: TenantId::parse(&row.tenant_id)
                .ok_or_else(|| corrupt("tenant id", &row.tenant_id))?,
            user_id: UserId::parse(&row.user_id).ok_or_else(|| corrupt("user id", &row.user_id))?,
            source_id: SourceId::parse(&row.source_id)
                .ok_or_else(|| corrupt("source id", &row.source_id))?,
            to: number(row.to_number)?,
            caller_id: row.caller_id.map(number).transpose()?,
            status: RequestStatus::parse(&row.status)
                .ok_or_else(|| corrupt("call request status", &row.status))?,
            reason: row.reason,
            pbx_call_id: row.pbx_call_id,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[async_trait::async_trait]
impl CallRequestStore for Store {
    async fn create_call_request(
        &self,
        new: &NewCallRequest,
        now: DateTime<Utc>,
    ) -> Result<CallRequest, StoreError> {
        let row: Row = on_pool!(self, |pool| sqlx::query_as(&format!(
            "INSERT INTO call_requests (id, tenant_id, user_id, source_id, to_number, \
             caller_id, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'requested', $7, $7) RETURNING {COLUMNS}"
        ))
        .bind(new.id.as_str())
        .bind(new.tenant_id.as_str())
        .bind(new.user_id.as_str())
        .bind(new.source_id.as_str())
        .bind(new.to.as_str())
        .bind(new.caller_id.as_ref().map(|n| n.as_str()))
        .bind(now)
        .fetch_one(pool)
        .await)?;
        row.try_into()
    }

    async fn call_request(
        &self,
        tenant: &TenantId,
        id: &CallRequestId,
    ) -> Result<Option<CallRequest>, StoreError> {
        let row: Option<Row> = on_pool!(self, |pool| sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM call_requests WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_optional(pool)
        .await)?;
        row.map(CallRequest::try_from).transpose()
    }

    async fn record_dial(
        &self,
        tenant: &TenantId,
        id: &CallRequestId,
        result: &DialRecord,
        now: DateTime<Utc>,
    ) -> Result<Option<CallRequest>, StoreError> {
        match result {
            DialRecord::Placed {
                status,
                pbx_call_id,
            } => {
                let sql = format!(
                    "UPDATE call_requests SET \
                     status = CASE WHEN status IN ({}) THEN $1 ELSE status END, \
                     pbx_call_id = COALESCE($2, pbx_call_id), updated_at = $3 \
                     WHERE tenant_id = $4 AND id = $5",
                    RequestStatus::sql_moving_to(*status)
                );
                on_pool!(self, |pool| {
                    sqlx::query(&sql)
                        .bind(status.as_str())
                        .bind(pbx_call_id.as_deref())
                        .bind(now)
                        .bind(tenant.as_str())
                        .bind(id.as_str())
                        .execute(pool)
                        .await
                        .map(|done| done.rows_affected())
                })?;
            }
            DialRecord::Failed { reason } => {
                let sql = format!(
                    "UPDATE call_requests SET status = 'failed', reason = $1, \
                     updated_at = $2 \
                     WHERE tenant_id = $3 AND id = $4 AND status IN ({})",
                    RequestStatus::sql_moving_to(RequestStatus::Failed)
                );
                on_pool!(self, |pool| {
                    sqlx::query(&sql)
                        .bind(reason.as_str())
                        .bind(now)
                        .bind(tenant.as_str())
                        .bind(id.as_str())
                        .execute(pool)
                        .await
                        .map(|done| done.rows_affected())
                })?;
            }
        }
        self.call_request(tenant, id).await
    }
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

    #[test]
    fn a_request_never_moves_backwards_or_sideways() {
        use RequestStatus::*;
        assert!(Requested.moves_to(Ringing));
        assert!(Ringing.moves_to(Ended));
        assert!(!Answered.moves_to(Ringing));
        assert!(!Ended.moves_to(Ended));
        assert!(!Ringing.moves_to(Requested));
    }

    #[test]
    fn only_a_request_nothing_happened_to_yet_can_fail() {
        use RequestStatus::*;
        assert!(Requested.moves_to(Failed));
        assert!(!Ringing.moves_to(Failed));
        assert!(!Failed.moves_to(Failed));
    }

    #[test]
    fn a_failed_dial_is_overtaken_by_the_events_of_the_call_it_placed() {
        assert!(RequestStatus::Failed.moves_to(RequestStatus::Ringing));
        assert!(RequestStatus::Failed.moves_to(RequestStatus::Ended));
    }

    #[test]
    fn the_sql_list_holds_exactly_the_statuses_that_move() {
        assert_eq!(
            RequestStatus::sql_moving_to(RequestStatus::Answered),
            "'requested', 'ringing', 'failed'"
        );
        assert_eq!(
            RequestStatus::sql_moving_to(RequestStatus::Requested),
            "NULL"
        );
    }
}
