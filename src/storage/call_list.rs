//! The console's view of calls: the tenant's calls newest first, one line per call, a page at
//! a time, and one call's triggers with the hooks each went to. Every read is bounded (a
//! `LIMIT` on an index walk), so a tenant with a long history renders as fast as a new one.

use super::error::corrupt_json;
use super::store::on_pool;
use super::{EventQuery, Store, StoreError};
use crate::domain::TenantId;
use crate::normalizer::CallEvent;

/// One call of the list: its newest event that passes the filters.
#[derive(Clone, Debug)]
pub struct CallSummary {
    /// Where the next page starts ([`CallPageQuery::before`]).
    pub seq: i64,
    pub latest: CallEvent,
    /// Whether the call has emitted `call.ended`.
    pub ended: bool,
}

/// A page of the calls list: the filters of `events` (its `limit` is the page size), and
/// the `seq` of the previous page's last line.
pub struct CallPageQuery {
    pub events: EventQuery,
    pub before: Option<i64>,
}

/// Which hook one of a call's triggers went to, and how it went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TriggerDelivery {
    pub event_id: String,
    pub hook_id: String,
    pub status: String,
    pub attempts: i64,
}

#[async_trait::async_trait]
pub trait CallListStore {
    /// Calls newest first (by their newest matching event), one per call.
    async fn call_page(&self, query: &CallPageQuery) -> Result<Vec<CallSummary>, StoreError>;
    /// The call's events in the order they were stored, at most `limit`.
    async fn events_of_call(
        &self,
        tenant: &TenantId,
        call_id: &str,
        limit: u32,
    ) -> Result<Vec<CallEvent>, StoreError>;
    /// The deliveries of the call's events.
    async fn deliveries_of_call(
        &self,
        tenant: &TenantId,
        call_id: &str,
    ) -> Result<Vec<TriggerDelivery>, StoreError>;
}

/// The filters of `query` on the `call_events` row aliased `alias`, with parameters from
/// `$2` on (`$1` is the tenant), in the order [`bind_filters`] binds them.
fn filters(query: &EventQuery, alias: &str) -> String {
    let mut sql = String::new();
    let mut next = 2;
    if query.event_type.is_some() {
        sql.push_str(&format!(" AND {alias}.event_type = ${next}"));
        next += 1;
    }
    if query.participant.is_some() {
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM event_participants p \
             WHERE p.event_seq = {alias}.seq AND p.user_id = ${next})"
        ));
        next += 1;
    }
    if query.number.is_some() {
        sql.push_str(&format!(" AND {alias}.payload LIKE ${next}"));
    }
    sql
}

/// How many parameters [`filters`] uses.
fn filter_count(query: &EventQuery) -> usize {
    usize::from(query.event_type.is_some())
        + usize::from(query.participant.is_some())
        + usize::from(query.number.is_some())
}

/// Numbers are stored as E.164 JSON strings: the quoted form matches one whole value.
fn number_pattern(query: &EventQuery) -> Option<String> {
    query
        .number
        .as_ref()
        .map(|n| format!("%\"{}\"%", n.as_str()))
}

type PageRow = (i64, String, bool);

#[async_trait::async_trait]
impl CallListStore for Store {
    async fn call_page(&self, query: &CallPageQuery) -> Result<Vec<CallSummary>, StoreError> {
        let q = &query.events;
        let before = 2 + filter_count(q);
        // Walk the tenant's events newest first and keep those that are their call's newest
        // matching one: each probe of a newer event is one lookup of the call's few events in
        // `call_events_by_call`. The unary `+` keeps `n.seq` out of index choice: without
        // statistics SQLite would otherwise probe `(tenant_id, seq > ?)`, every newer event of
        // the tenant, for each line.
        let sql = format!(
            "SELECT e.seq, e.payload, EXISTS (SELECT 1 FROM call_events x \
             WHERE x.tenant_id = e.tenant_id AND x.call_id = e.call_id \
             AND x.event_type = 'call.ended') \
             FROM call_events e WHERE e.tenant_id = $1{} AND e.seq < ${before} \
             AND NOT EXISTS (SELECT 1 FROM call_events n WHERE n.tenant_id = e.tenant_id \
             AND n.call_id = e.call_id AND +n.seq > e.seq{}) \
             ORDER BY e.seq DESC LIMIT ${}",
            filters(q, "e"),
            filters(q, "n"),
            before + 1
        );
        let pattern = number_pattern(q);
        let rows: Vec<PageRow> = on_pool!(self, |pool| {
            let mut s = sqlx::query_as(&sql).bind(q.tenant_id.as_str());
            if let Some(t) = q.event_type {
                s = s.bind(t.as_str());
            }
            if let Some(user) = &q.participant {
                s = s.bind(user.as_str());
            }
            if let Some(p) = &pattern {
                s = s.bind(p.as_str());
            }
            s.bind(query.before.unwrap_or(i64::MAX))
                .bind(i64::from(q.limit))
                .fetch_all(pool)
                .await
        })?;
        rows.into_iter()
            .map(|(seq, payload, ended)| {
                Ok(CallSummary {
                    seq,
                    latest: serde_json::from_str(&payload).map_err(corrupt_json)?,
                    ended,
                })
            })
            .collect()
    }

    async fn events_of_call(
        &self,
        tenant: &TenantId,
        call_id: &str,
        limit: u32,
    ) -> Result<Vec<CallEvent>, StoreError> {
        let rows: Vec<(String,)> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT payload FROM call_events WHERE tenant_id = $1 AND call_id = $2 \
             ORDER BY seq LIMIT $3",
        )
        .bind(tenant.as_str())
        .bind(call_id)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await)?;
        rows.into_iter()
            .map(|(p,)| serde_json::from_str(&p).map_err(corrupt_json))
            .collect()
    }

    async fn deliveries_of_call(
        &self,
        tenant: &TenantId,
        call_id: &str,
    ) -> Result<Vec<TriggerDelivery>, StoreError> {
        let rows: Vec<(String, String, String, i64)> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT e.id, d.hook_id, d.status, CAST(d.attempts AS BIGINT) FROM call_events e \
             JOIN deliveries d ON d.event_seq = e.seq \
             WHERE e.tenant_id = $1 AND e.call_id = $2 AND d.tenant_id = $1 \
             ORDER BY e.seq, d.hook_id",
        )
        .bind(tenant.as_str())
        .bind(call_id)
        .fetch_all(pool)
        .await)?;
        Ok(rows
            .into_iter()
            .map(|(event_id, hook_id, status, attempts)| TriggerDelivery {
                event_id,
                hook_id,
                status,
                attempts,
            })
            .collect())
    }
}
