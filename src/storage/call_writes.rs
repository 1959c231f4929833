//! What an ingest (or settle) transaction writes, as plain data the pipeline decides
//! (`src/pipeline/`), and the statements that store it. Nothing here chooses: which hooks get a
//! delivery, which raw events are duplicates and where a click-to-call request moves were
//! decided before [`CallTx::write`] is called.
//!
//! A batch is read in two queries (before and after the normalizer runs) and written as one
//! bundle (`bundle.rs`) of multi-row statements that need no answers: participants and
//! deliveries find their event's `seq` by joining on its id. The SQL is the same on both
//! backends.

use super::bundle::{self, Arg, Bundle, rows_per_statement, values};
use super::call_tx::{CallTx, KeyId};
use super::error::{corrupt, corrupt_json};
use super::hooks::{HookScope, HookStatus};
use super::raw_events::{RawEventWrite, push_raw_events};
use super::store::on_tx;
use super::{RequestStatus, StoreError};
use crate::domain::{DeliveryId, HookEventFilter, HookId, TenantId, UserId};
use crate::normalizer::{CallState, EmittedEvent};
use chrono::{DateTime, Utc};
use std::collections::HashSet;

/// The net change to one `call_keys` row, folded from every change the batch made to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyWrite {
    /// Map the key to this call (insert or replace).
    Upsert(String),
    /// Delete the row only if it names one of these calls: the calls that left the key had
    /// not loaded it, so the row may meanwhile name another call, which keeps it.
    DeleteIf(Vec<String>),
    /// Delete the row: a call of this batch took the key and left it again.
    Delete,
}

/// A call to save: its latest state, when it next needs settling, and the time of the event
/// that produced it.
pub struct CallWrite {
    pub id: String,
    pub state: CallState,
    /// `state` as stored (JSON), encoded by the caller, which may keep it.
    pub encoded: String,
    pub due_at: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
}

/// An event to store, with the raw event (batch index) it came from.
pub struct EventWrite {
    pub origin: usize,
    pub call_id: String,
    /// The call's source (click-to-call requests are found by its PBX call id).
    pub source_id: String,
    pub emitted: EmittedEvent,
    pub now: DateTime<Utc>,
}

/// A raw event's receipt: the source will not be heard with this dedupe key again.
pub struct Receipt {
    pub source_id: String,
    pub dedupe_key: String,
    pub received_at: DateTime<Utc>,
}

/// A delivery to queue: `hook` receives the event `event_id`.
pub struct NewDelivery {
    pub id: DeliveryId,
    pub tenant_id: TenantId,
    pub hook_id: HookId,
    pub event_id: String,
    pub now: DateTime<Utc>,
}

/// A click-to-call request to move forward: the one named by `request_id`, or the one the
/// PBX's answer tied to `(source_id, pbx_call_id)`. Applied only from a status that
/// [`RequestStatus::moves_to`] `status`.
pub struct RequestMove {
    pub tenant_id: TenantId,
    pub status: RequestStatus,
    pub request_id: Option<String>,
    pub source_id: String,
    pub pbx_call_id: String,
    pub now: DateTime<Utc>,
}

/// Everything one transaction writes.
#[derive(Default)]
pub struct CallWrites {
    pub receipts: Vec<Receipt>,
    pub calls: Vec<CallWrite>,
    pub keys: Vec<(KeyId, KeyWrite)>,
    /// Events not stored before (see [`WriteContext::stored_events`]).
    pub events: Vec<EventWrite>,
    pub deliveries: Vec<NewDelivery>,
    pub request_moves: Vec<RequestMove>,
    /// The raw events applied, with what they arrived in (for the console's call page).
    pub raw_events: Vec<RawEventWrite>,
}

/// A hook as matching needs it: who it belongs to, what it wants, whether it is on.
#[derive(Clone, Debug)]
pub struct Subscription {
    pub id: HookId,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub scope: HookScope,
    pub event: HookEventFilter,
    pub status: HookStatus,
}

/// What the writes depend on, read in one query for the batch's new events.
#[derive(Default)]
pub struct WriteContext {
    /// The hooks that may want one of the events (tenant hooks of the events' tenants, user
    /// hooks of their participants), in hook id order.
    pub hooks: Vec<Subscription>,
    /// Which of the events' ids are stored already (a replay: not written again).
    pub stored_events: HashSet<String>,
    /// Whether any click-to-call request may belong to one of the events.
    pub any_request: bool,
}

impl CallTx<'_> {
    /// Reads the [`WriteContext`] of `events`.
    pub async fn read_context(
        &mut self,
        events: &[EventWrite],
    ) -> Result<WriteContext, StoreError> {
        let mut context = WriteContext::default();
        if events.is_empty() {
            return Ok(context);
        }
        let mut tenants = HashSet::new();
        let mut types = HashSet::from(["*"]);
        let mut users = HashSet::new();
        let mut ids = HashSet::new();
        let mut request_ids = HashSet::new();
        let mut pbx_calls = HashSet::new();
        for write in events {
            let event = &write.emitted.event;
            tenants.insert(event.tenant_id.as_str());
            types.insert(event.event_type.as_str());
            users.extend(write.emitted.participants.iter().map(|u| u.as_str()));
            ids.insert(event.id.as_str());
            if RequestStatus::after_event(event.event_type.as_str()).is_some() {
                if let Some(c) = &event.call.correlation {
                    request_ids.insert(c.request_id.as_str());
                }
                pbx_calls.insert((write.source_id.as_str(), event.call.source_call_id.as_str()));
            }
        }
        let mut params: Vec<&str> = Vec::new();
        let tenant_list = push_list(tenants, &mut params);
        let type_list = push_list(types, &mut params);
        let user_filter = if users.is_empty() {
            String::new()
        } else {
            format!(" OR user_id IN ({})", push_list(users, &mut params))
        };
        // Candidates only: the rule of who receives what is `pipeline::matching`.
        let mut sql = format!(
            "SELECT 'hook', id, tenant_id, user_id, scope, event_type, status FROM hooks \
             WHERE status = 'active' AND tenant_id IN ({tenant_list}) \
             AND event_type IN ({type_list}) AND (scope = 'tenant'{user_filter}) \
             UNION ALL SELECT 'event', id, '', '', '', '', '' FROM call_events \
             WHERE id IN ({})",
            push_list(ids, &mut params)
        );
        let mut terms = Vec::new();
        if !request_ids.is_empty() {
            terms.push(format!("id IN ({})", push_list(request_ids, &mut params)));
        }
        for (source_id, pbx_call_id) in pbx_calls {
            params.push(source_id);
            params.push(pbx_call_id);
            terms.push(format!(
                "(source_id = ${} AND pbx_call_id = ${})",
                params.len() - 1,
                params.len()
            ));
        }
        if !terms.is_empty() {
            sql.push_str(&format!(
                " UNION ALL SELECT 'request', id, '', '', '', '', '' FROM \
                 call_requests WHERE {}",
                terms.join(" OR ")
            ));
        }
        type ContextRow = (String, String, String, String, String, String, String);
        let rows: Vec<ContextRow> = on_tx!(&mut self.tx, |conn| {
            let mut query = sqlx::query_as(&sql).persistent(bundle::worth_caching(params.len()));
            for param in &params {
                query = query.bind(*param);
            }
            query.fetch_all(&mut *conn).await
        })?;
        for (kind, id, tenant_id, user_id, scope, event_type, status) in rows {
            match kind.as_str() {
                "hook" => context.hooks.push(Subscription {
                    id: HookId::parse(&id).ok_or_else(|| corrupt("hook id", &id))?,
                    tenant_id: super::rows::tenant_id(&tenant_id)?,
                    user_id: super::rows::user_id(&user_id)?,
                    scope: HookScope::parse(&scope).ok_or_else(|| corrupt("hook scope", &scope))?,
                    event: HookEventFilter::parse(&event_type)
                        .ok_or_else(|| corrupt("hook event", &event_type))?,
                    status: HookStatus::parse(&status)
                        .ok_or_else(|| corrupt("hook status", &status))?,
                }),
                "event" => {
                    context.stored_events.insert(id);
                }
                _ => context.any_request = true,
            }
        }
        context
            .hooks
            .sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
        Ok(context)
    }

    /// Writes everything in one bundle.
    pub async fn write(&mut self, writes: &CallWrites) -> Result<(), StoreError> {
        let mut bundle = Bundle::default();
        push_receipts(&mut bundle, &writes.receipts);
        push_calls(&mut bundle, &writes.calls);
        push_keys(&mut bundle, &writes.keys);
        push_events(&mut bundle, &writes.events)?;
        push_raw_events(&mut bundle, &writes.raw_events);
        // Participants and deliveries find their event's `seq` in the rows just written.
        bundle.fence();
        push_participants(&mut bundle, &writes.events);
        push_deliveries(&mut bundle, &writes.deliveries);
        push_request_moves(&mut bundle, &writes.request_moves);
        bundle::run(&mut self.tx, bundle).await
    }
}

/// Appends `items` (sorted, for stable SQL) to `params`; returns their placeholders.
fn push_list<'a>(items: HashSet<&'a str>, params: &mut Vec<&'a str>) -> String {
    let mut items: Vec<&str> = items.into_iter().collect();
    items.sort_unstable();
    let first = params.len() + 1;
    params.extend(items);
    (first..=params.len())
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn push_receipts(bundle: &mut Bundle, receipts: &[Receipt]) {
    for chunk in receipts.chunks(rows_per_statement(3)) {
        let sql = format!(
            "INSERT INTO raw_event_receipts (source_id, dedupe_key, received_at) \
             VALUES {} ON CONFLICT DO NOTHING",
            values(chunk.len(), "({0}, {1}, {2})", 3)
        );
        let args = chunk
            .iter()
            .flat_map(|r| {
                [
                    Arg::Text(r.source_id.clone()),
                    Arg::Text(r.dedupe_key.clone()),
                    Arg::Time(r.received_at),
                ]
            })
            .collect();
        bundle.push(sql, args);
    }
}

fn push_calls(bundle: &mut Bundle, calls: &[CallWrite]) {
    for chunk in calls.chunks(rows_per_statement(7)) {
        let sql = format!(
            "INSERT INTO calls (id, tenant_id, source_id, state, due_at, ended, \
             updated_at) \
             VALUES {} ON CONFLICT (id) DO UPDATE SET state = excluded.state, \
             due_at = excluded.due_at, ended = excluded.ended, updated_at = excluded.updated_at",
            values(chunk.len(), "({0}, {1}, {2}, {3}, {4}, {5}, {6})", 7)
        );
        let mut args = Vec::with_capacity(chunk.len() * 7);
        for call in chunk {
            args.extend([
                Arg::Text(call.id.clone()),
                Arg::Text(call.state.tenant_id.as_str().to_owned()),
                Arg::Text(call.state.source_id.as_str().to_owned()),
                Arg::Text(call.encoded.clone()),
                Arg::MaybeTime(call.due_at),
                Arg::Bool(call.state.is_ended()),
                Arg::Time(call.now),
            ]);
        }
        bundle.push(sql, args);
    }
}

/// Deletions are rare (a call leaving a park slot) and go one by one; mappings go in
/// multi-row upserts.
fn push_keys(bundle: &mut Bundle, keys: &[(KeyId, KeyWrite)]) {
    let mut upserts = Vec::new();
    for ((source_id, key), write) in keys {
        match write {
            KeyWrite::Upsert(call_id) => upserts.push([source_id, key, call_id]),
            KeyWrite::Delete => bundle.push(
                "DELETE FROM call_keys WHERE source_id = $1 AND key = $2".into(),
                vec![Arg::Text(source_id.clone()), Arg::Text(key.clone())],
            ),
            KeyWrite::DeleteIf(calls) => {
                for call_id in calls {
                    bundle.push(
                        "DELETE FROM call_keys WHERE source_id = $1 AND key = \
                         $2 AND call_id = $3"
                            .into(),
                        vec![
                            Arg::Text(source_id.clone()),
                            Arg::Text(key.clone()),
                            Arg::Text(call_id.clone()),
                        ],
                    );
                }
            }
        }
    }
    for chunk in upserts.chunks(rows_per_statement(3)) {
        let sql = format!(
            "INSERT INTO call_keys (source_id, key, call_id) VALUES {} \
             ON CONFLICT (source_id, key) DO UPDATE SET call_id = excluded.call_id",
            values(chunk.len(), "({0}, {1}, {2})", 3)
        );
        let args = chunk
            .iter()
            .flatten()
            .map(|v| Arg::Text((*v).clone()))
            .collect();
        bundle.push(sql, args);
    }
}

fn push_events(bundle: &mut Bundle, events: &[EventWrite]) -> Result<(), StoreError> {
    for chunk in events.chunks(rows_per_statement(8)) {
        let sql = format!(
            "INSERT INTO call_events (id, tenant_id, call_id, event_type, occurred_at, \
             payload, created_at, origin) VALUES {} ON CONFLICT (id) DO NOTHING",
            values(chunk.len(), "({0}, {1}, {2}, {3}, {4}, {5}, {6}, {7})", 8)
        );
        let mut args = Vec::with_capacity(chunk.len() * 8);
        for write in chunk {
            let event = &write.emitted.event;
            args.extend([
                Arg::Text(event.id.clone()),
                Arg::Text(event.tenant_id.as_str().to_owned()),
                Arg::Text(write.call_id.clone()),
                Arg::Text(event.event_type.as_str().to_owned()),
                Arg::Time(event.occurred_at),
                Arg::Text(serde_json::to_string(event).map_err(corrupt_json)?),
                Arg::Time(write.now),
                Arg::Text(event.origin.as_str().to_owned()),
            ]);
        }
        bundle.push(sql, args);
    }
    Ok(())
}

/// Rows name their event by id; the join finds its `seq` (`WHERE TRUE` keeps SQLite from
/// reading `ON CONFLICT` as part of the join).
fn push_participants(bundle: &mut Bundle, events: &[EventWrite]) {
    let rows: Vec<[String; 2]> = events
        .iter()
        .flat_map(|w| {
            w.emitted
                .participants
                .iter()
                .map(|u| [w.emitted.event.id.clone(), u.as_str().to_owned()])
        })
        .collect();
    for chunk in rows.chunks(rows_per_statement(2)) {
        let sql = format!(
            "INSERT INTO event_participants (event_seq, user_id) \
             SELECT e.seq, v.column2 FROM (VALUES {}) AS v \
             JOIN call_events e ON e.id = v.column1 WHERE TRUE ON CONFLICT DO NOTHING",
            values(chunk.len(), "({0}, {1})", 2)
        );
        let args = chunk
            .iter()
            .flatten()
            .map(|v| Arg::Text(v.clone()))
            .collect();
        bundle.push(sql, args);
    }
}

fn push_deliveries(bundle: &mut Bundle, deliveries: &[NewDelivery]) {
    for chunk in deliveries.chunks(rows_per_statement(5)) {
        let sql = format!(
            "INSERT INTO deliveries (id, tenant_id, hook_id, event_seq, status, attempts, \
             next_attempt_at, created_at, updated_at) \
             SELECT v.column1, v.column2, v.column3, e.seq, 'pending', 0, \
             v.column5, v.column5, \
             v.column5 FROM (VALUES {}) AS v JOIN call_events e ON e.id = v.column4",
            values(chunk.len(), "({0}, {1}, {2}, {3}, {4})", 5)
        );
        let mut args = Vec::with_capacity(chunk.len() * 5);
        for delivery in chunk {
            args.extend([
                Arg::Text(delivery.id.as_str().to_owned()),
                Arg::Text(delivery.tenant_id.as_str().to_owned()),
                Arg::Text(delivery.hook_id.as_str().to_owned()),
                Arg::Text(delivery.event_id.clone()),
                Arg::Time(delivery.now),
            ]);
        }
        bundle.push(sql, args);
    }
}

/// Each move in order; the `IN` list applies [`RequestStatus::moves_to`] in the statement
/// itself, so a dial answer recorded meanwhile is never undone.
fn push_request_moves(bundle: &mut Bundle, moves: &[RequestMove]) {
    for step in moves {
        // A second move of the same request must see the first.
        bundle.fence();
        bundle.push(
            format!(
                "UPDATE call_requests SET status = $1, reason = NULL, updated_at = $2 \
                 WHERE tenant_id = $3 AND status IN ({}) \
                 AND (id = $4 OR (source_id = $5 AND pbx_call_id = $6))",
                RequestStatus::sql_moving_to(step.status)
            ),
            vec![
                Arg::Text(step.status.as_str().to_owned()),
                Arg::Time(step.now),
                Arg::Text(step.tenant_id.as_str().to_owned()),
                Arg::MaybeText(step.request_id.clone()),
                Arg::Text(step.source_id.clone()),
                Arg::Text(step.pbx_call_id.clone()),
            ],
        );
    }
}
