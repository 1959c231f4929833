//! SQL of the call-requests aggregate, shared verbatim by both backends (see
//! `shared_queries.rs`). The event-driven status updates run inside the ingest transaction and
//! live in `call_queries.rs`.

macro_rules! impl_call_request_store {
    ($store:ty) => {
        mod call_request_store {
            use super::*;
            use $crate::domain::{CallRequestId, E164Number, SourceId, TenantId, UserId};
            use $crate::storage::call_requests::{
                CallRequest, CallRequestStore, DialRecord, NewCallRequest, RequestStatus,
                STATUS_RANK_SQL,
            };
            use $crate::storage::StoreError;
            use chrono::{DateTime, Utc};

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

            fn corrupt(what: &str, value: &str) -> StoreError {
                StoreError::Corrupt(format!("{what} {value:?}"))
            }

            fn number(raw: String) -> Result<E164Number, StoreError> {
                E164Number::try_from(raw.clone()).map_err(|_| corrupt("number", &raw))
            }

            impl TryFrom<Row> for CallRequest {
                type Error = StoreError;
                fn try_from(row: Row) -> Result<Self, StoreError> {
                    Ok(CallRequest {
                        id: CallRequestId::parse(&row.id)
                            .ok_or_else(|| corrupt("call request id", &row.id))?,
                        tenant_id: TenantId::parse(&row.tenant_id)
                            .ok_or_else(|| corrupt("tenant id", &row.tenant_id))?,
                        user_id: UserId::parse(&row.user_id)
                            .ok_or_else(|| corrupt("user id", &row.user_id))?,
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
            impl CallRequestStore for $store {
                async fn create_call_request(
                    &self,
                    new: &NewCallRequest,
                    now: DateTime<Utc>,
                ) -> Result<CallRequest, StoreError> {
                    let row: Row = sqlx::query_as(&format!(
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
                    .fetch_one(&self.pool)
                    .await?;
                    row.try_into()
                }

                async fn call_request(
                    &self,
                    tenant: &TenantId,
                    id: &CallRequestId,
                ) -> Result<Option<CallRequest>, StoreError> {
                    let row: Option<Row> = sqlx::query_as(&format!(
                        "SELECT {COLUMNS} FROM call_requests WHERE tenant_id = $1 AND id = $2"
                    ))
                    .bind(tenant.as_str())
                    .bind(id.as_str())
                    .fetch_optional(&self.pool)
                    .await?;
                    row.map(CallRequest::try_from).transpose()
                }

                async fn record_dial(
                    &self,
                    tenant: &TenantId,
                    id: &CallRequestId,
                    result: &DialRecord,
                    now: DateTime<Utc>,
                ) -> Result<Option<CallRequest>, StoreError> {
                    let placed_sql = format!(
                        "UPDATE call_requests SET \
                         status = CASE WHEN {STATUS_RANK_SQL} < $1 THEN $2 ELSE status END, \
                         pbx_call_id = COALESCE($3, pbx_call_id), updated_at = $4 \
                         WHERE tenant_id = $5 AND id = $6"
                    );
                    let query = match result {
                        DialRecord::Placed { status, pbx_call_id } => sqlx::query(&placed_sql)
                        .bind(status.rank())
                        .bind(status.as_str())
                        .bind(pbx_call_id.as_deref()),
                        DialRecord::Failed { reason } => sqlx::query(
                            "UPDATE call_requests SET status = 'failed', reason = $1, \
                             updated_at = $2 WHERE tenant_id = $3 AND id = $4 \
                             AND status = 'requested'",
                        )
                        .bind(reason.as_str()),
                    };
                    query
                        .bind(now)
                        .bind(tenant.as_str())
                        .bind(id.as_str())
                        .execute(&self.pool)
                        .await?;
                    self.call_request(tenant, id).await
                }
            }
        }
    };
}

pub(super) use impl_call_request_store;
