//! Writing one ingest batch's [`UnitOfWork`](super::call_batch::UnitOfWork): its receipts,
//! calls, key changes, events and their participants, deliveries, and click-to-call progress.
//!
//! Round trips, not rows, are what a batch costs: on SQLite each statement is a hop to the
//! connection's worker thread and back, on PostgreSQL a network trip. So a batch is read in
//! two queries (before and after the normalizer runs) and written as one [`Bundle`] of
//! multi-row statements that need no answers (participants and deliveries find their event's
//! `seq` by joining on its id). SQLite runs a bundle in one call; PostgreSQL, whose extended
//! protocol takes one statement per call, runs its statements in turn. The SQL is the same for
//! both backends (see `shared_queries.rs`).

use chrono::{DateTime, Utc};

/// At most this many bound parameters per statement (SQLite allows 32,766, PostgreSQL 65,535).
pub(super) const MAX_PARAMS: usize = 4_000;

/// `rows` copies of `shape`, comma-separated, with `{0}`…`{9}` numbered as `$n` parameters
/// `cols` per row: `values(2, "({0}, {1}, 'x')", 2)` is `($1, $2, 'x'), ($3, $4, 'x')`.
pub(super) fn values(rows: usize, shape: &str, cols: usize) -> String {
    use std::fmt::Write;
    // The shape split at its `{n}` markers: literal text, then the column it names.
    let mut parts: Vec<(&str, Option<usize>)> = Vec::new();
    let mut rest = shape;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').map_or(rest.len(), |c| open + c);
        parts.push((&rest[..open], rest[open + 1..close].parse().ok()));
        rest = rest.get(close + 1..).unwrap_or("");
    }
    parts.push((rest, None));
    let mut out = String::with_capacity(rows * (shape.len() + 8));
    for row in 0..rows {
        if row > 0 {
            out.push_str(", ");
        }
        for (text, col) in &parts {
            out.push_str(text);
            if let Some(col) = col {
                let _ = write!(out, "${}", row * cols + col + 1);
            }
        }
    }
    out
}

/// How many rows of `cols` parameters fit in one statement.
pub(super) fn rows_per_statement(cols: usize) -> usize {
    (MAX_PARAMS / cols.max(1)).max(1)
}

/// A bound value of a bundled statement.
pub(super) enum Arg {
    Text(String),
    MaybeText(Option<String>),
    Int(i64),
    Bool(bool),
    Time(DateTime<Utc>),
    MaybeTime(Option<DateTime<Utc>>),
}

/// Statements that need no answer, run in as few calls as the backend allows. Each statement
/// numbers its parameters from `$1`.
#[derive(Default)]
pub(super) struct Bundle {
    pub statements: Vec<(String, Vec<Arg>)>,
}

impl Bundle {
    pub fn push(&mut self, sql: String, args: Vec<Arg>) {
        self.statements.push((sql, args));
    }

    /// The statements joined into as few texts as fit [`MAX_PARAMS`] each, parameters
    /// renumbered to run as one call (SQLite binds `$n` across a multi-statement text).
    pub fn joined(self) -> Vec<(String, Vec<Arg>)> {
        let mut out: Vec<(String, Vec<Arg>)> = Vec::new();
        for (sql, args) in self.statements {
            match out.last_mut() {
                Some((text, all)) if all.len() + args.len() <= MAX_PARAMS => {
                    text.push_str(";\n");
                    text.push_str(&renumber(&sql, all.len()));
                    all.extend(args);
                }
                _ => out.push((sql, args)),
            }
        }
        out
    }
}

/// `sql` with every `$n` parameter moved up by `offset`.
fn renumber(sql: &str, offset: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut chars = sql.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        out.push(c);
        if c != '$' {
            continue;
        }
        let start = at + 1;
        let mut end = start;
        while let Some(&(i, d)) = chars.peek() {
            if !d.is_ascii_digit() {
                break;
            }
            end = i + 1;
            chars.next();
        }
        match sql[start..end].parse::<usize>() {
            Ok(n) => out.push_str(&(n + offset).to_string()),
            Err(_) => out.push_str(&sql[start..end]),
        }
    }
    out
}

macro_rules! impl_call_writes {
    ($db:ty, $one_call:expr) => {
        mod call_writes {
            use $crate::normalizer::CallEvent;
            use $crate::storage::StoreError;
            use $crate::storage::call_batch::{CallWrite, EventWrite, KeyId, KeyWrite, UnitOfWork};
            use $crate::storage::call_write_queries::{Arg, Bundle, rows_per_statement, values};
            use chrono::{DateTime, Utc};
            use std::collections::HashSet;

            type Tx<'c> = sqlx::Transaction<'c, $db>;
            type Query<'q> = sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments<'q>>;

            pub(super) fn json_error(e: serde_json::Error) -> StoreError {
                StoreError::Corrupt(format!("call state: {e}"))
            }

            fn bind(query: Query<'_>, arg: Arg) -> Query<'_> {
                match arg {
                    Arg::Text(v) => query.bind(v),
                    Arg::MaybeText(v) => query.bind(v),
                    Arg::Int(v) => query.bind(v),
                    Arg::Bool(v) => query.bind(v),
                    Arg::Time(v) => query.bind(v),
                    Arg::MaybeTime(v) => query.bind(v),
                }
            }

            /// Runs the bundle: in one call where the backend allows several statements.
            async fn run(tx: &mut Tx<'_>, bundle: Bundle) -> Result<(), StoreError> {
                let statements = if $one_call { bundle.joined() } else { bundle.statements };
                for (sql, args) in statements {
                    // Texts vary with row counts: not worth a slot in the statement cache.
                    let mut query = sqlx::query(&sql).persistent(false);
                    for arg in args {
                        query = bind(query, arg);
                    }
                    query.execute(&mut **tx).await?;
                }
                Ok(())
            }

            /// A stored event with what it queued: `(raw event index, event, deliveries)`.
            pub(super) type Written = (usize, CallEvent, u64);

            /// Writes everything the batch produced, with the receipts of its fresh raw events
            /// (`(source_id, dedupe_key, received_at)`); returns its new events in order.
            pub(super) async fn write(
                tx: &mut Tx<'_>,
                receipts: Vec<(String, String, DateTime<Utc>)>,
                work: UnitOfWork,
            ) -> Result<Vec<Written>, StoreError> {
                let (calls, keys, events) = work.into_writes();
                let known = read_context(tx, &events).await?;
                // An id stored before is skipped, as `ON CONFLICT DO NOTHING` would.
                let fresh: Vec<EventWrite> = events
                    .into_iter()
                    .filter(|e| !known.events.contains(&e.emitted.event.id))
                    .collect();
                let mut bundle = Bundle::default();
                push_receipts(&mut bundle, receipts);
                push_calls(&mut bundle, calls)?;
                push_keys(&mut bundle, keys);
                push_events(&mut bundle, &fresh)?;
                push_participants(&mut bundle, &fresh);
                let counts = push_deliveries(&mut bundle, &fresh, &known.hooks);
                if known.any_request {
                    push_request_moves(&mut bundle, &fresh);
                }
                run(tx, bundle).await?;
                Ok(fresh
                    .into_iter()
                    .zip(counts)
                    .map(|(e, n)| (e.origin, e.emitted.event, n))
                    .collect())
            }

            struct Hook {
                id: String,
                tenant_id: String,
                user_id: String,
                scope: String,
                event_type: String,
            }

            /// What the writes depend on, read in one query: the active hooks that may want
            /// an event (tenant hooks of the batch's tenants, user hooks of its participants),
            /// which event ids exist already, and whether any click-to-call request matches.
            #[derive(Default)]
            struct Context {
                hooks: Vec<Hook>,
                events: HashSet<String>,
                any_request: bool,
            }

            async fn read_context(
                tx: &mut Tx<'_>,
                events: &[EventWrite],
            ) -> Result<Context, StoreError> {
                use $crate::storage::call_requests::RequestStatus;
                let mut context = Context::default();
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
                let mut sql = format!(
                    "SELECT 'hook', id, tenant_id, user_id, scope, event_type FROM hooks \
                     WHERE status = 'active' AND tenant_id IN ({tenant_list}) \
                       AND event_type IN ({type_list}) AND (scope = 'tenant'{user_filter}) \
                     UNION ALL SELECT 'event', id, '', '', '', '' FROM call_events WHERE id IN ({})",
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
                        " UNION ALL SELECT 'request', id, '', '', '', '' FROM call_requests WHERE {}",
                        terms.join(" OR ")
                    ));
                }
                let mut query = sqlx::query_as::<_, (String, String, String, String, String, String)>(&sql)
                    .persistent(false);
                for param in params {
                    query = query.bind(param);
                }
                for (kind, id, tenant_id, user_id, scope, event_type) in query.fetch_all(&mut **tx).await? {
                    match kind.as_str() {
                        "hook" => context.hooks.push(Hook { id, tenant_id, user_id, scope, event_type }),
                        "event" => {
                            context.events.insert(id);
                        }
                        _ => context.any_request = true,
                    }
                }
                context.hooks.sort_by(|a, b| a.id.cmp(&b.id));
                Ok(context)
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

            fn push_receipts(bundle: &mut Bundle, receipts: Vec<(String, String, DateTime<Utc>)>) {
                for chunk in receipts.chunks(rows_per_statement(3)) {
                    let sql = format!(
                        "INSERT INTO raw_event_receipts (source_id, dedupe_key, received_at) \
                         VALUES {} ON CONFLICT DO NOTHING",
                        values(chunk.len(), "({0}, {1}, {2})", 3)
                    );
                    let args = chunk
                        .iter()
                        .flat_map(|(s, k, at)| [Arg::Text(s.clone()), Arg::Text(k.clone()), Arg::Time(*at)])
                        .collect();
                    bundle.push(sql, args);
                }
            }

            fn push_calls(bundle: &mut Bundle, calls: Vec<CallWrite>) -> Result<(), StoreError> {
                for chunk in calls.chunks(rows_per_statement(7)) {
                    let sql = format!(
                        "INSERT INTO calls (id, tenant_id, source_id, state, due_at, ended, updated_at) \
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
                            Arg::Text(serde_json::to_string(&call.state).map_err(json_error)?),
                            Arg::MaybeTime(call.due_at),
                            Arg::Bool(call.state.is_ended()),
                            Arg::Time(call.now),
                        ]);
                    }
                    bundle.push(sql, args);
                }
                Ok(())
            }

            /// Deletions are rare (a call leaving a park slot) and go one by one; mappings go
            /// in multi-row upserts.
            fn push_keys(bundle: &mut Bundle, keys: Vec<(KeyId, KeyWrite)>) {
                let mut upserts = Vec::new();
                for ((source_id, key), write) in keys {
                    match write {
                        KeyWrite::Upsert(call_id) => upserts.push([source_id, key, call_id]),
                        KeyWrite::Delete => bundle.push(
                            "DELETE FROM call_keys WHERE source_id = $1 AND key = $2".into(),
                            vec![Arg::Text(source_id), Arg::Text(key)],
                        ),
                        KeyWrite::DeleteIf(calls) => {
                            for call_id in calls {
                                bundle.push(
                                    "DELETE FROM call_keys WHERE source_id = $1 AND key = $2 AND call_id = $3"
                                        .into(),
                                    vec![Arg::Text(source_id.clone()), Arg::Text(key.clone()), Arg::Text(call_id)],
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
                    let args = chunk.iter().flatten().map(|v| Arg::Text(v.clone())).collect();
                    bundle.push(sql, args);
                }
            }

            fn push_events(bundle: &mut Bundle, events: &[EventWrite]) -> Result<(), StoreError> {
                for chunk in events.chunks(rows_per_statement(7)) {
                    let sql = format!(
                        "INSERT INTO call_events (id, tenant_id, call_id, event_type, occurred_at, \
                         payload, created_at) VALUES {} ON CONFLICT (id) DO NOTHING",
                        values(chunk.len(), "({0}, {1}, {2}, {3}, {4}, {5}, {6})", 7)
                    );
                    let mut args = Vec::with_capacity(chunk.len() * 7);
                    for write in chunk {
                        let event = &write.emitted.event;
                        args.extend([
                            Arg::Text(event.id.clone()),
                            Arg::Text(event.tenant_id.as_str().to_owned()),
                            Arg::Text(write.call_id.clone()),
                            Arg::Text(event.event_type.as_str().to_owned()),
                            Arg::Time(event.occurred_at),
                            Arg::Text(serde_json::to_string(event).map_err(json_error)?),
                            Arg::Time(write.now),
                        ]);
                    }
                    bundle.push(sql, args);
                }
                Ok(())
            }

            /// Rows name their event by id; the join finds its `seq` (`WHERE TRUE` keeps
            /// SQLite from reading `ON CONFLICT` as part of the join).
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
                    let args = chunk.iter().flatten().map(|v| Arg::Text(v.clone())).collect();
                    bundle.push(sql, args);
                }
            }

            /// One delivery per hook that wants an event: tenant hooks of its tenant, user
            /// hooks of the users taking part in its call, in hook id order. Returns the
            /// deliveries queued per event.
            fn push_deliveries(bundle: &mut Bundle, events: &[EventWrite], hooks: &[Hook]) -> Vec<u64> {
                let mut counts = vec![0; events.len()];
                let mut rows: Vec<(String, &str, &str, &str, DateTime<Utc>)> = Vec::new();
                for (n, write) in events.iter().enumerate() {
                    let event = &write.emitted.event;
                    for hook in hooks {
                        let wanted = hook.tenant_id == event.tenant_id.as_str()
                            && (hook.event_type == "*" || hook.event_type == event.event_type.as_str())
                            && (hook.scope == "tenant"
                                || write.emitted.participants.iter().any(|u| u.as_str() == hook.user_id));
                        if wanted {
                            rows.push((
                                $crate::domain::DeliveryId::generate().as_str().to_owned(),
                                event.tenant_id.as_str(),
                                hook.id.as_str(),
                                event.id.as_str(),
                                write.now,
                            ));
                            counts[n] += 1;
                        }
                    }
                }
                for chunk in rows.chunks(rows_per_statement(5)) {
                    let sql = format!(
                        "INSERT INTO deliveries (id, tenant_id, hook_id, event_seq, status, attempts, \
                         next_attempt_at, created_at, updated_at) \
                         SELECT v.column1, v.column2, v.column3, e.seq, 'pending', 0, v.column5, v.column5, v.column5 \
                         FROM (VALUES {}) AS v JOIN call_events e ON e.id = v.column4",
                        values(chunk.len(), "({0}, {1}, {2}, {3}, {4})", 5)
                    );
                    let mut args = Vec::with_capacity(chunk.len() * 5);
                    for (id, tenant, hook, event, now) in chunk {
                        args.extend([
                            Arg::Text(id.clone()),
                            Arg::Text((*tenant).to_owned()),
                            Arg::Text((*hook).to_owned()),
                            Arg::Text((*event).to_owned()),
                            Arg::Time(*now),
                        ]);
                    }
                    bundle.push(sql, args);
                }
                counts
            }

            /// Moves the click-to-call request each event belongs to (named by its
            /// `call.correlation.request_id`, or by the PBX call id the dial answer gave) to
            /// the event's status, in order, never backwards.
            fn push_request_moves(bundle: &mut Bundle, events: &[EventWrite]) {
                use $crate::storage::call_requests::{RequestStatus, STATUS_RANK_SQL};
                for write in events {
                    let event = &write.emitted.event;
                    let Some(status) = RequestStatus::after_event(event.event_type.as_str()) else {
                        continue;
                    };
                    let request_id = event.call.correlation.as_ref().map(|c| c.request_id.clone());
                    bundle.push(
                        format!(
                            "UPDATE call_requests SET status = $1, reason = NULL, updated_at = $2 \
                             WHERE tenant_id = $3 AND {STATUS_RANK_SQL} < $4 \
                               AND (id = $5 OR (source_id = $6 AND pbx_call_id = $7))"
                        ),
                        vec![
                            Arg::Text(status.as_str().to_owned()),
                            Arg::Time(write.now),
                            Arg::Text(event.tenant_id.as_str().to_owned()),
                            Arg::Int(status.rank()),
                            Arg::MaybeText(request_id),
                            Arg::Text(write.source_id.clone()),
                            Arg::Text(event.call.source_call_id.clone()),
                        ],
                    );
                }
            }
        }
    };
}

pub(super) use impl_call_writes;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_numbered_in_order() {
        assert_eq!(
            values(2, "({0}, {1}, 'x')", 2),
            "($1, $2, 'x'), ($3, $4, 'x')"
        );
    }

    #[test]
    fn joined_statements_number_their_parameters_after_the_ones_before() {
        let mut bundle = Bundle::default();
        bundle.push("A $1, $2".into(), vec![Arg::Int(1), Arg::Int(2)]);
        bundle.push("B $1 $10 $2".into(), (0..10).map(Arg::Int).collect());
        let joined = bundle.joined();
        assert_eq!(joined.len(), 1);
        assert_eq!(joined[0].0, "A $1, $2;\nB $3 $12 $4");
        assert_eq!(joined[0].1.len(), 12);
    }

    #[test]
    fn a_bundle_splits_where_the_parameters_would_overflow() {
        let mut bundle = Bundle::default();
        for _ in 0..3 {
            bundle.push(
                "X $1".into(),
                (0..MAX_PARAMS / 2).map(|_| Arg::Bool(true)).collect(),
            );
        }
        assert_eq!(bundle.joined().len(), 2);
    }
}
