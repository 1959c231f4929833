//! SQL of the calls aggregate, shared verbatim by both backends (see `shared_queries.rs`).
//! Each backend supplies `begin_write_all(lock_keys)`: a transaction that already holds the
//! write lock of those sources (SQLite `BEGIN IMMEDIATE`, PostgreSQL advisory locks), so events
//! of one call never interleave. Reading a batch (receipts, calls by key) is here; writing it
//! is in `call_write_queries.rs`.

macro_rules! impl_call_store {
    ($store:ty, $db:ty) => {
        mod call_store {
            use super::*;
            use super::call_writes::{json_error, write};
            use $crate::normalizer::{CallEvent, CallState};
            use $crate::storage::call_batch::{KeyId, UnitOfWork};
            use $crate::storage::call_write_queries::rows_per_statement;
            use $crate::storage::calls::{
                AppliedEvents, BatchApplyFn, CallStore, EventQuery, RawEventRef, SettleFn,
            };
            use $crate::storage::StoreError;
            use chrono::{DateTime, Utc};
            use sqlx::Transaction;
            use std::collections::{BTreeMap, BTreeSet, HashSet};

            type Tx<'c> = Transaction<'c, $db>;

            /// What the store holds for a batch, read in one query: which of its receipts exist
            /// already, and the calls mapped to its lookup keys.
            struct Stored {
                receipts: HashSet<(String, String)>,
                calls: Vec<(KeyId, String, CallState)>,
            }

            /// Reads [`Stored`] for `events` (one query per few hundred events). Receipts are
            /// checked here and inserted with the batch's writes: no other transaction writes
            /// them meanwhile, as this one holds the sources' write locks.
            async fn read_batch(
                tx: &mut Tx<'_>,
                events: &[RawEventRef<'_>],
            ) -> Result<Stored, StoreError> {
                let mut stored = Stored {
                    receipts: HashSet::new(),
                    calls: Vec::new(),
                };
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
                                "SELECT 'receipt', source_id, dedupe_key, '', '' FROM raw_event_receipts \
                                 WHERE source_id = ${source} AND dedupe_key IN ({})",
                                placeholders(dedupe, &mut params)
                            ));
                        }
                        if !keys.is_empty() {
                            selects.push(format!(
                                "SELECT 'key', k.source_id, k.key, c.id, c.state FROM call_keys k \
                                 JOIN calls c ON c.id = k.call_id WHERE k.source_id = ${source} AND k.key IN ({})",
                                placeholders(keys, &mut params)
                            ));
                        }
                    }
                    if selects.is_empty() {
                        continue;
                    }
                    let sql = selects.join(" UNION ALL ");
                    let mut query = sqlx::query_as::<_, (String, String, String, String, String)>(&sql)
                        .persistent(false);
                    for param in params {
                        query = query.bind(param);
                    }
                    for (kind, source_id, key, call_id, state) in query.fetch_all(&mut **tx).await? {
                        if kind == "receipt" {
                            stored.receipts.insert((source_id, key));
                        } else {
                            let state = serde_json::from_str(&state).map_err(json_error)?;
                            stored.calls.push(((source_id, key), call_id, state));
                        }
                    }
                }
                Ok(stored)
            }

            /// Appends `items` to `params`; returns their placeholders.
            fn placeholders<'a>(items: BTreeSet<&'a str>, params: &mut Vec<&'a str>) -> String {
                let first = params.len() + 1;
                params.extend(items);
                (first..=params.len()).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ")
            }

            #[async_trait::async_trait]
            impl CallStore for $store {
                async fn apply_raw_batch(
                    &self,
                    events: &[RawEventRef<'_>],
                    mut apply: BatchApplyFn<'_>,
                ) -> Result<Vec<AppliedEvents>, StoreError> {
                    let mut out: Vec<AppliedEvents> =
                        events.iter().map(|_| AppliedEvents::default()).collect();
                    if events.is_empty() {
                        return Ok(out);
                    }
                    let mut sources: Vec<&str> = events.iter().map(|e| e.source_id.as_str()).collect();
                    sources.sort_unstable();
                    sources.dedup();
                    let (_writer, mut tx) = self.begin_write_all(&sources).await?;
                    let stored = read_batch(&mut tx, events).await?;
                    let asked = events.iter().flat_map(|e| {
                        e.lookup_keys.iter().map(|k| (e.source_id.as_str().to_owned(), k.clone()))
                    });
                    let mut work = UnitOfWork::new(asked, stored.calls);
                    // A receipt seen before, or earlier in this batch, marks a duplicate.
                    let mut seen: HashSet<(&str, &str)> = HashSet::new();
                    let mut receipts = Vec::new();
                    for (n, event) in events.iter().enumerate() {
                        if !event.dedupe_key.is_empty() {
                            let id = (event.source_id.as_str(), event.dedupe_key);
                            let known = stored.receipts.contains(&(id.0.to_owned(), id.1.to_owned()));
                            if known || !seen.insert(id) {
                                out[n].duplicate = true;
                                continue;
                            }
                            receipts.push((id.0.to_owned(), id.1.to_owned(), event.now));
                        }
                        let state = work.find(event.source_id.as_str(), &event.lookup_keys);
                        let known_keys = state.as_ref().map(CallState::aliases).unwrap_or_default();
                        let next = apply(n, state);
                        work.record(n, &known_keys, next, event.now);
                    }
                    for (origin, event, deliveries) in write(&mut tx, receipts, work).await? {
                        out[origin].events.push(event);
                        out[origin].deliveries += deliveries;
                    }
                    tx.commit().await?;
                    Ok(out)
                }

                async fn due_calls(
                    &self,
                    now: DateTime<Utc>,
                    limit: u32,
                ) -> Result<Vec<String>, StoreError> {
                    let rows: Vec<(String,)> = sqlx::query_as(
                        "SELECT id FROM calls WHERE due_at IS NOT NULL AND due_at <= $1 \
                         ORDER BY due_at LIMIT $2",
                    )
                    .bind(now)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?;
                    Ok(rows.into_iter().map(|(id,)| id).collect())
                }

                async fn settle_calls(
                    &self,
                    call_ids: &[String],
                    now: DateTime<Utc>,
                    mut settle: SettleFn<'_>,
                ) -> Result<AppliedEvents, StoreError> {
                    let mut out = AppliedEvents::default();
                    for chunk in call_ids.chunks(rows_per_statement(1) - 1) {
                        let list = (2..chunk.len() + 2).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ");
                        let sql = format!(
                            "SELECT DISTINCT source_id FROM calls WHERE id IN ({}) ORDER BY source_id",
                            (1..=chunk.len()).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ")
                        );
                        let mut query = sqlx::query_as::<_, (String,)>(&sql).persistent(false);
                        for id in chunk {
                            query = query.bind(id);
                        }
                        let sources: Vec<(String,)> = query.fetch_all(&self.pool).await?;
                        if sources.is_empty() {
                            continue;
                        }
                        let sources: Vec<&str> = sources.iter().map(|(s,)| s.as_str()).collect();
                        let (_writer, mut tx) = self.begin_write_all(&sources).await?;
                        // Calls settled meanwhile (by another instance) are no longer due: skipped.
                        let sql = format!(
                            "SELECT state FROM calls WHERE id IN ({list}) AND due_at IS NOT NULL AND due_at <= $1 ORDER BY id"
                        );
                        let mut query = sqlx::query_as::<_, (String,)>(&sql).persistent(false).bind(now);
                        for id in chunk {
                            query = query.bind(id);
                        }
                        let mut work = UnitOfWork::default();
                        for (state,) in query.fetch_all(&mut *tx).await? {
                            let state: CallState = serde_json::from_str(&state).map_err(json_error)?;
                            let known_keys = state.aliases();
                            work.record(0, &known_keys, settle(state), now);
                        }
                        for (_, event, deliveries) in write(&mut tx, Vec::new(), work).await? {
                            out.events.push(event);
                            out.deliveries += deliveries;
                        }
                        tx.commit().await?;
                    }
                    Ok(out)
                }

                async fn call_events(
                    &self,
                    query: &EventQuery,
                ) -> Result<Vec<CallEvent>, StoreError> {
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
                    sql.push_str(&format!(" ORDER BY e.occurred_at DESC, e.seq DESC LIMIT ${next}"));
                    let mut q = sqlx::query_as::<_, (String,)>(&sql).bind(query.tenant_id.as_str());
                    if let Some(t) = query.event_type {
                        q = q.bind(t.as_str());
                    }
                    if let Some(user) = &query.participant {
                        q = q.bind(user.as_str());
                    }
                    let rows = q.bind(i64::from(query.limit)).fetch_all(&self.pool).await?;
                    rows.into_iter()
                        .map(|(p,)| serde_json::from_str(&p).map_err(json_error))
                        .collect()
                }
            }
        }
    };
}

pub(super) use impl_call_store;
