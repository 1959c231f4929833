//! The calls aggregate: raw-event receipts, normalizer state per call, emitted events, and the
//! deliveries queued for them. The store only reads and writes: the pipeline (`src/pipeline/`)
//! opens a [`CallTx`], reads what a batch needs, decides (dedupe, normalizer, hook matching,
//! click-to-call moves) and hands the result to [`CallTx::write`](super::call_writes).

use super::StoreError;
use super::bundle::{rows_per_statement, worth_caching};
use super::call_tx::{CallTx, KeyId};
use super::error::corrupt_json;
use super::store::{Store, on_pool, on_tx};
use crate::domain::{E164Number, SourceId, TenantId, UserId};
use crate::normalizer::model::EventType;
use crate::normalizer::{CallEvent, CallState};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// One raw event of a batch: what the store needs to find its receipt and its call.
#[derive(Clone, Debug)]
pub struct RawEventRef<'a> {
    pub source_id: &'a SourceId,
    /// Empty when the source gives nothing to dedupe on.
    pub dedupe_key: &'a str,
    /// Keys the event names its call by, best first; never empty.
    pub lookup_keys: Vec<String>,
}

/// What the store holds for a batch's raw events.
#[derive(Debug, Default)]
pub struct StoredBatch {
    /// `(source id, dedupe key)` of the receipts stored already.
    pub receipts: HashSet<(String, String)>,
    /// `(key, call id)` of the batch's lookup keys that are mapped to a call.
    pub keys: Vec<(KeyId, String)>,
    /// Those calls' states as stored (JSON), by call id: the caller decodes them, and may
    /// skip decoding a state it already holds in that exact form.
    pub states: HashMap<String, String>,
}

/// Which stored events to list, newest first.
#[derive(Clone, Debug)]
pub struct EventQuery {
    pub tenant_id: TenantId,
    /// Only events of calls this user takes part in; `None` for the whole tenant.
    pub participant: Option<UserId>,
    pub event_type: Option<EventType>,
    /// Only events whose parties or line have this number (E.164).
    pub number: Option<E164Number>,
    pub limit: u32,
}

#[async_trait::async_trait]
pub trait CallStore {
    /// Opens the transaction of an ingest batch or a settle sweep, holding the write lock of
    /// every source in `sources` (sorted, deduplicated) until it ends, so events of one call
    /// never interleave.
    async fn begin_calls(&self, sources: &[&str]) -> Result<CallTx<'_>, StoreError>;

    /// Ids of calls whose settle time has come.
    async fn due_calls(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<String>, StoreError>;

    /// The sources of these calls, sorted: the locks a settle sweep takes.
    async fn sources_of_calls(&self, call_ids: &[String]) -> Result<Vec<String>, StoreError>;

    /// Stored events, newest first by source time.
    async fn call_events(&self, query: &EventQuery) -> Result<Vec<CallEvent>, StoreError>;
}

impl CallTx<'_> {
    /// Reads [`StoredBatch`] for `events` (one query per few hundred events). Receipts are
    /// checked here and inserted with the batch's writes: no other transaction writes them
    /// meanwhile, as this one holds the sources' write locks.
    pub async fn read_batch(
        &mut self,
        events: &[RawEventRef<'_>],
    ) -> Result<StoredBatch, StoreError> {
        let mut stored = StoredBatch::default();
        for chunk in events.chunks(rows_per_statement(8)) {
            // Per source (sorted, for stable SQL): its dedupe keys and lookup keys.
            let mut by_source: BTreeMap<&str, (BTreeSet<&str>, BTreeSet<&str>)> = BTreeMap::new();
            for event in chunk {
                let (dedupe, keys) = by_source.entry(event.source_id.as_str()).or_default();
                if !event.dedupe_key.is_empty() {
                    dedupe.insert(event.dedupe_key);
                }
                keys.extend(event.lookup_keys.iter().map(String::as_str));
            }
            let mut params: Vec<&str> = Vec::new();
            let mut selects = Vec::new();
            for (source_id, (dedupe, keys)) in by_source {
                params.push(source_id);
                let source = params.len();
                if !dedupe.is_empty() {
                    selects.push(format!(
                        "SELECT 'receipt', source_id, dedupe_key, '', '' FROM \
                         raw_event_receipts \
                         WHERE source_id = ${source} AND dedupe_key IN ({})",
                        placeholders(dedupe, &mut params)
                    ));
                }
                if !keys.is_empty() {
                    selects.push(format!(
                        "SELECT 'key', k.source_id, k.key, c.id, c.state FROM call_keys k \
                         JOIN calls c ON c.id = k.call_id \
                         WHERE k.source_id = ${source} AND k.key IN ({})",
                        placeholders(keys, &mut params)
                    ));
                }
            }
            if selects.is_empty() {
                continue;
            }
            let sql = selects.join(" UNION ALL ");
            let rows: Vec<(String, String, String, String, String)> =
                on_tx!(&mut self.tx, |conn| {
                    let mut query = sqlx::query_as(&sql).persistent(worth_caching(params.len()));
                    for param in &params {
                        query = query.bind(*param);
                    }
                    query.fetch_all(&mut *conn).await
                })?;
            for (kind, source_id, key, call_id, state) in rows {
                if kind == "receipt" {
                    stored.receipts.insert((source_id, key));
                } else {
                    stored.states.entry(call_id.clone()).or_insert(state);
                    stored.keys.push(((source_id, key), call_id));
                }
            }
        }
        Ok(stored)
    }

    /// The states of the calls among `call_ids` that are still due at `now`, by id: a call
    /// settled meanwhile (by another instance) is skipped.
    pub async fn due_states(
        &mut self,
        call_ids: &[String],
        now: DateTime<Utc>,
    ) -> Result<Vec<CallState>, StoreError> {
        let mut states = Vec::new();
        for chunk in call_ids.chunks(rows_per_statement(1) - 1) {
            let list = (2..chunk.len() + 2)
                .map(|n| format!("${n}"))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "SELECT state FROM calls WHERE id IN ({list}) \
                 AND due_at IS NOT NULL AND due_at <= $1 ORDER BY id"
            );
            let rows: Vec<(String,)> = on_tx!(&mut self.tx, |conn| {
                let mut query = sqlx::query_as(&sql).persistent(false).bind(now);
                for id in chunk {
                    query = query.bind(id);
                }
                query.fetch_all(&mut *conn).await
            })?;
            for (state,) in rows {
                states.push(serde_json::from_str(&state).map_err(corrupt_json)?);
            }
        }
        Ok(states)
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await
    }
}

/// Appends `items` to `params`; returns their placeholders.
fn placeholders<'a>(items: BTreeSet<&'a str>, params: &mut Vec<&'a str>) -> String {
    let first = params.len() + 1;
    params.extend(items);
    (first..=params.len())
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[async_trait::async_trait]
impl CallStore for Store {
    async fn begin_calls(&self, sources: &[&str]) -> Result<CallTx<'_>, StoreError> {
        Ok(CallTx {
            tx: self.begin_write(sources).await?,
        })
    }

    async fn due_calls(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id FROM calls WHERE due_at IS NOT NULL AND due_at <= $1 \
                 ORDER BY due_at LIMIT $2",
            )
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
        })?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    async fn sources_of_calls(&self, call_ids: &[String]) -> Result<Vec<String>, StoreError> {
        let mut sources = BTreeSet::new();
        for chunk in call_ids.chunks(rows_per_statement(1)) {
            let sql = format!(
                "SELECT DISTINCT source_id FROM calls WHERE id IN ({})",
                (1..=chunk.len())
                    .map(|n| format!("${n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let rows: Vec<(String,)> = on_pool!(self, |pool| {
                let mut query = sqlx::query_as(&sql).persistent(false);
                for id in chunk {
                    query = query.bind(id);
                }
                query.fetch_all(pool).await
            })?;
            sources.extend(rows.into_iter().map(|(s,)| s));
        }
        Ok(sources.into_iter().collect())
    }

    async fn call_events(&self, query: &EventQuery) -> Result<Vec<CallEvent>, StoreError> {
        let mut sql = String::from("SELECT e.payload FROM call_events e WHERE e.tenant_id = $1");
        let mut next = 2;
        if query.event_type.is_some() {
            sql.push_str(&format!(" AND e.event_type = ${next}"));
            next += 1;
        }
        if query.participant.is_some() {
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM event_participants p \
                 WHERE p.event_seq = e.seq AND p.user_id = ${next})"
            ));
            next += 1;
        }
        // Numbers are stored as E.164 JSON strings (`from`, `to`, `line`): the quoted form
        // matches one whole value, and E.164 holds no LIKE wildcard.
        let number = query
            .number
            .as_ref()
            .map(|n| format!("%\"{}\"%", n.as_str()));
        if number.is_some() {
            sql.push_str(&format!(" AND e.payload LIKE ${next}"));
            next += 1;
        }
        sql.push_str(&format!(
            " ORDER BY e.occurred_at DESC, e.seq DESC LIMIT ${next}"
        ));
        let rows: Vec<(String,)> = on_pool!(self, |pool| {
            let mut q = sqlx::query_as(&sql).bind(query.tenant_id.as_str());
            if let Some(t) = query.event_type {
                q = q.bind(t.as_str());
            }
            if let Some(user) = &query.participant {
                q = q.bind(user.as_str());
            }
            if let Some(pattern) = &number {
                q = q.bind(pattern.as_str());
            }
            q.bind(i64::from(query.limit)).fetch_all(pool).await
        })?;
        rows.into_iter()
            .map(|(p,)| serde_json::from_str(&p).map_err(corrupt_json))
            .collect()
    }
}
