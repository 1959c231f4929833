//! SQL of the hooks aggregate and the delivery queue, shared by both backends. The backend
//! passes the row-locking clause of its claim query (`FOR UPDATE OF d SKIP LOCKED` on
//! PostgreSQL, nothing on SQLite whose single writer already serializes claims) and supplies
//! `begin_tx()` for the batched result writes.

macro_rules! impl_hook_store {
    ($store:ty, $db:ty, $claim_lock:literal) => {
        mod hook_store {
            use super::*;
            use $crate::domain::{DeliveryId, HookId, TenantId, UserId};
            use $crate::storage::hooks::*;
            use $crate::storage::StoreError;
            use chrono::{DateTime, Utc};
            use secrecy::{ExposeSecret, SecretString};

            const HOOK_COLUMNS: &str = "id, tenant_id, user_id, grant_id, scope, event_type, target_url, secret, status, disabled_reason, created_at";

            #[derive(sqlx::FromRow)]
            struct HookRow {
                id: String,
                tenant_id: String,
                user_id: String,
                grant_id: Option<String>,
                scope: String,
                event_type: String,
                target_url: String,
                secret: String,
                status: String,
                disabled_reason: Option<String>,
                created_at: DateTime<Utc>,
            }

            type Conn = <$db as sqlx::Database>::Connection;

            /// Rows written per multi-row statement when recording a round's results: a round
            /// costs a handful of statements whatever its size, and stays far below both
            /// backends' bound-parameter limits.
            const RESULTS_PER_STATEMENT: usize = 500;

            /// One history row per attempt made (a deferred delivery made none).
            async fn insert_attempts(conn: &mut Conn, results: &[DeliveryResult], now: DateTime<Utc>) -> Result<(), StoreError> {
                let attempts: Vec<(&DeliveryResult, &AttemptRecord)> =
                    results.iter().filter_map(|r| r.attempt.as_ref().map(|a| (r, a))).collect();
                if attempts.is_empty() {
                    return Ok(());
                }
                let mut insert = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO delivery_attempts (delivery_id, attempted_at, status_code, duration_ms, error, response_body) ",
                );
                insert.push_values(attempts, |mut row, (result, attempt)| {
                    row.push_bind(result.id.as_str())
                        .push_bind(now)
                        .push_bind(attempt.status_code.map(i64::from))
                        .push_bind(attempt.duration_ms)
                        .push_bind(attempt.error.as_deref())
                        .push_bind(attempt.response_body.as_deref());
                });
                insert.build().execute(&mut *conn).await?;
                Ok(())
            }

            /// Moves every claimed delivery to its next state and releases its lease, in one
            /// statement. A row whose lease was taken over (ours expired) is left alone.
            async fn update_deliveries(conn: &mut Conn, results: &[DeliveryResult], now: DateTime<Utc>) -> Result<(), StoreError> {
                let rows: Vec<(&DeliveryResult, &'static str, DateTime<Utc>, bool)> = results
                    .iter()
                    .filter_map(|result| {
                        let (status, next_at, counted) = match &result.next {
                            NextStep::Delivered => ("delivered", now, true),
                            NextStep::RetryAt(at) => ("pending", *at, true),
                            NextStep::Failed => ("failed", now, true),
                            NextStep::Deferred(at) => ("pending", *at, false),
                            NextStep::HookGone => return None,
                        };
                        Some((result, status, next_at, counted))
                    })
                    .collect();
                if rows.is_empty() {
                    return Ok(());
                }
                let mut update = sqlx::QueryBuilder::<$db>::new(
                    "WITH r (id, lease_token, status, next_attempt_at, counted, status_code, error) AS (",
                );
                update.push_values(rows, |mut row, (result, status, next_at, counted)| {
                    let attempt = result.attempt.as_ref();
                    row.push_bind(result.id.as_str())
                        .push_bind(result.lease_token.as_str())
                        .push_bind(status)
                        .push_bind(next_at)
                        .push_bind(i64::from(counted))
                        .push_bind(attempt.and_then(|a| a.status_code).map(i64::from))
                        .push_bind(attempt.and_then(|a| a.error.as_deref()));
                });
                update.push(
                    ") UPDATE deliveries SET status = r.status, next_attempt_at = r.next_attempt_at, \
                     attempts = deliveries.attempts + r.counted, \
                     last_status_code = COALESCE(r.status_code, deliveries.last_status_code), \
                     last_error = r.error, lease_token = NULL, updated_at = ",
                );
                update.push_bind(now);
                update.push(" FROM r WHERE deliveries.id = r.id AND deliveries.lease_token = r.lease_token");
                update.build().execute(&mut *conn).await?;
                Ok(())
            }

            /// A hook that took a delivery in this round is healthy again; a hook whose attempts
            /// all failed starts (or goes on) failing, and is disabled once it has failed for
            /// `disable_after` without a single success.
            async fn update_hook_health(
                conn: &mut Conn,
                results: &[DeliveryResult],
                now: DateTime<Utc>,
                disable_after: chrono::TimeDelta,
            ) -> Result<(), StoreError> {
                let mut healthy = std::collections::BTreeSet::new();
                let mut failing = std::collections::BTreeSet::new();
                for result in results {
                    match result.next {
                        NextStep::Delivered => {
                            healthy.insert(result.hook_id.as_str());
                        }
                        NextStep::RetryAt(_) | NextStep::Failed => {
                            failing.insert(result.hook_id.as_str());
                        }
                        NextStep::Deferred(_) | NextStep::HookGone => {}
                    }
                }
                let failing: Vec<&str> = failing.difference(&healthy).copied().collect();
                if !healthy.is_empty() {
                    let mut clear = sqlx::QueryBuilder::<$db>::new("UPDATE hooks SET failing_since = NULL WHERE failing_since IS NOT NULL AND id IN (");
                    push_ids(&mut clear, healthy.into_iter());
                    clear.build().execute(&mut *conn).await?;
                }
                if !failing.is_empty() {
                    let mut mark = sqlx::QueryBuilder::<$db>::new("UPDATE hooks SET failing_since = COALESCE(failing_since, ");
                    mark.push_bind(now);
                    mark.push("), status = CASE WHEN failing_since IS NOT NULL AND failing_since <= ");
                    mark.push_bind(now - disable_after);
                    mark.push(" THEN 'disabled' ELSE status END, disabled_reason = CASE WHEN failing_since IS NOT NULL AND failing_since <= ");
                    mark.push_bind(now - disable_after);
                    mark.push(" THEN 'failing continuously since ' || failing_since ELSE disabled_reason END WHERE id IN (");
                    push_ids(&mut mark, failing.into_iter());
                    mark.build().execute(&mut *conn).await?;
                }
                Ok(())
            }

            /// A `410 Gone` removes the subscription and whatever it still had queued.
            async fn delete_gone_hooks(conn: &mut Conn, results: &[DeliveryResult]) -> Result<(), StoreError> {
                let gone: std::collections::BTreeSet<&str> = results
                    .iter()
                    .filter(|r| matches!(r.next, NextStep::HookGone))
                    .map(|r| r.hook_id.as_str())
                    .collect();
                if gone.is_empty() {
                    return Ok(());
                }
                for table in ["DELETE FROM hooks WHERE id IN (", "DELETE FROM deliveries WHERE hook_id IN ("] {
                    let mut delete = sqlx::QueryBuilder::<$db>::new(table);
                    push_ids(&mut delete, gone.iter().copied());
                    delete.build().execute(&mut *conn).await?;
                }
                Ok(())
            }

            /// Appends `id, id, ...)` as bound parameters.
            fn push_ids<'q>(query: &mut sqlx::QueryBuilder<'q, $db>, ids: impl Iterator<Item = &'q str>) {
                let mut list = query.separated(", ");
                for id in ids {
                    list.push_bind(id);
                }
                list.push_unseparated(")");
            }

            fn corrupt(what: &str, value: &str) -> StoreError {
                StoreError::Corrupt(format!("{what} {value:?}"))
            }

            impl TryFrom<HookRow> for Hook {
                type Error = StoreError;
                fn try_from(row: HookRow) -> Result<Self, StoreError> {
                    Ok(Hook {
                        id: HookId::parse(&row.id).ok_or_else(|| corrupt("hook id", &row.id))?,
                        tenant_id: TenantId::parse(&row.tenant_id)
                            .ok_or_else(|| corrupt("tenant id", &row.tenant_id))?,
                        user_id: UserId::parse(&row.user_id)
                            .ok_or_else(|| corrupt("user id", &row.user_id))?,
                        grant_id: row.grant_id,
                        scope: match row.scope.as_str() {
                            "tenant" => HookScope::Tenant,
                            _ => HookScope::User,
                        },
                        event: row.event_type,
                        target_url: row.target_url,
                        secret: SecretString::from(row.secret),
                        active: row.status == "active",
                        disabled_reason: row.disabled_reason,
                        created_at: row.created_at,
                    })
                }
            }

            #[derive(sqlx::FromRow)]
            struct DeliveryRow {
                id: String,
                hook_id: String,
                event_id: String,
                event_type: String,
                status: String,
                attempts: i64,
                next_attempt_at: DateTime<Utc>,
                last_status_code: Option<i64>,
                last_error: Option<String>,
                created_at: DateTime<Utc>,
            }

            #[derive(sqlx::FromRow)]
            struct AttemptRow {
                attempted_at: DateTime<Utc>,
                status_code: Option<i64>,
                duration_ms: i64,
                error: Option<String>,
                response_body: Option<String>,
            }

            #[derive(sqlx::FromRow)]
            struct ClaimRow {
                id: String,
                hook_id: String,
                target_url: String,
                secret: String,
                attempts: i64,
                payload: String,
                created_at: DateTime<Utc>,
            }

            const DELIVERY_SELECT: &str = "SELECT d.id, d.hook_id, e.id AS event_id, e.event_type, d.status, \
                 d.attempts, d.next_attempt_at, d.last_status_code, d.last_error, d.created_at \
                 FROM deliveries d JOIN call_events e ON e.seq = d.event_seq";

            impl $store {
                async fn delivery_views(&self, rows: Vec<DeliveryRow>) -> Result<Vec<DeliveryView>, StoreError> {
                    let mut views = Vec::with_capacity(rows.len());
                    for row in rows {
                        let attempts: Vec<AttemptRow> = sqlx::query_as(
                            "SELECT attempted_at, status_code, duration_ms, error, response_body \
                             FROM delivery_attempts WHERE delivery_id = $1 ORDER BY id",
                        )
                        .bind(&row.id)
                        .fetch_all(&self.pool)
                        .await?;
                        views.push(DeliveryView {
                            id: DeliveryId::parse(&row.id).ok_or_else(|| corrupt("delivery id", &row.id))?,
                            hook_id: HookId::parse(&row.hook_id).ok_or_else(|| corrupt("hook id", &row.hook_id))?,
                            event_id: row.event_id,
                            event_type: row.event_type,
                            next_attempt_at: (row.status == "pending").then_some(row.next_attempt_at),
                            status: row.status,
                            attempts: row.attempts,
                            last_status_code: row.last_status_code,
                            last_error: row.last_error,
                            created_at: row.created_at,
                            attempt_log: attempts
                                .into_iter()
                                .map(|a| AttemptView {
                                    attempted_at: a.attempted_at,
                                    status_code: a.status_code,
                                    duration_ms: a.duration_ms,
                                    error: a.error,
                                    response_body: a.response_body,
                                })
                                .collect(),
                        });
                    }
                    Ok(views)
                }
            }

            #[async_trait::async_trait]
            impl HookStore for $store {
                async fn create_hook(&self, new: &NewHook) -> Result<Hook, StoreError> {
                    let now = Utc::now();
                    let row: HookRow = sqlx::query_as(&format!(
                        "INSERT INTO hooks (id, tenant_id, user_id, grant_id, scope, event_type, target_url, secret, \
                         status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'active', $9, $9) \
                         RETURNING {HOOK_COLUMNS}"
                    ))
                    .bind(HookId::generate().as_str())
                    .bind(new.tenant_id.as_str())
                    .bind(new.user_id.as_str())
                    .bind(new.grant_id.as_deref())
                    .bind(new.scope.as_str())
                    .bind(&new.event)
                    .bind(&new.target_url)
                    .bind(new.secret.expose_secret())
                    .bind(now)
                    .fetch_one(&self.pool)
                    .await?;
                    row.try_into()
                }

                async fn hooks_of_user(&self, tenant: &TenantId, user: &UserId) -> Result<Vec<Hook>, StoreError> {
                    let rows: Vec<HookRow> = sqlx::query_as(&format!(
                        "SELECT {HOOK_COLUMNS} FROM hooks WHERE tenant_id = $1 AND user_id = $2 ORDER BY created_at, id"
                    ))
                    .bind(tenant.as_str())
                    .bind(user.as_str())
                    .fetch_all(&self.pool)
                    .await?;
                    rows.into_iter().map(Hook::try_from).collect()
                }

                async fn hook(&self, tenant: &TenantId, id: &HookId) -> Result<Option<Hook>, StoreError> {
                    let row: Option<HookRow> = sqlx::query_as(&format!(
                        "SELECT {HOOK_COLUMNS} FROM hooks WHERE tenant_id = $1 AND id = $2"
                    ))
                    .bind(tenant.as_str())
                    .bind(id.as_str())
                    .fetch_optional(&self.pool)
                    .await?;
                    row.map(Hook::try_from).transpose()
                }

                async fn delete_hook(&self, tenant: &TenantId, user: &UserId, id: &HookId) -> Result<bool, StoreError> {
                    let done = sqlx::query("DELETE FROM hooks WHERE tenant_id = $1 AND user_id = $2 AND id = $3")
                        .bind(tenant.as_str())
                        .bind(user.as_str())
                        .bind(id.as_str())
                        .execute(&self.pool)
                        .await?;
                    let deleted = done.rows_affected() > 0;
                    if deleted {
                        sqlx::query("DELETE FROM deliveries WHERE hook_id = $1")
                            .bind(id.as_str())
                            .execute(&self.pool)
                            .await?;
                    }
                    Ok(deleted)
                }

                async fn disable_hooks_of_grant(&self, grant_id: &str, reason: &str) -> Result<u64, StoreError> {
                    let done = sqlx::query(
                        "UPDATE hooks SET status = 'disabled', disabled_reason = $1, updated_at = $2 \
                         WHERE grant_id = $3 AND status = 'active'",
                    )
                    .bind(reason)
                    .bind(Utc::now())
                    .bind(grant_id)
                    .execute(&self.pool)
                    .await?;
                    Ok(done.rows_affected())
                }

                async fn deliveries_of_hook(&self, tenant: &TenantId, hook: &HookId, limit: u32) -> Result<Vec<DeliveryView>, StoreError> {
                    let rows: Vec<DeliveryRow> = sqlx::query_as(&format!(
                        "{DELIVERY_SELECT} WHERE d.tenant_id = $1 AND d.hook_id = $2 ORDER BY d.created_at DESC, d.id DESC LIMIT $3"
                    ))
                    .bind(tenant.as_str())
                    .bind(hook.as_str())
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?;
                    self.delivery_views(rows).await
                }

                async fn delivery(&self, tenant: &TenantId, id: &DeliveryId) -> Result<Option<DeliveryView>, StoreError> {
                    let rows: Vec<DeliveryRow> = sqlx::query_as(&format!(
                        "{DELIVERY_SELECT} WHERE d.tenant_id = $1 AND d.id = $2"
                    ))
                    .bind(tenant.as_str())
                    .bind(id.as_str())
                    .fetch_all(&self.pool)
                    .await?;
                    Ok(self.delivery_views(rows).await?.pop())
                }

                async fn retry_delivery(&self, tenant: &TenantId, id: &DeliveryId, now: DateTime<Utc>) -> Result<bool, StoreError> {
                    let done = sqlx::query(
                        "UPDATE deliveries SET status = 'pending', next_attempt_at = $1, lease_token = NULL, updated_at = $1 \
                         WHERE tenant_id = $2 AND id = $3 AND status IN ('pending', 'failed')",
                    )
                    .bind(now)
                    .bind(tenant.as_str())
                    .bind(id.as_str())
                    .execute(&self.pool)
                    .await?;
                    Ok(done.rows_affected() > 0)
                }
            }

            #[async_trait::async_trait]
            impl DeliveryQueue for $store {
                async fn claim_due(&self, now: DateTime<Utc>, lease: chrono::TimeDelta, limit: u32) -> Result<Vec<ClaimedDelivery>, StoreError> {
                    let token = $crate::domain::new_token(12);
                    let claimed = sqlx::query(concat!(
                        "UPDATE deliveries SET next_attempt_at = $1, lease_token = $2 WHERE id IN (",
                        "SELECT d.id FROM deliveries d JOIN hooks h ON h.id = d.hook_id ",
                        "WHERE d.status = 'pending' AND d.next_attempt_at <= $3 AND h.status = 'active' ",
                        "ORDER BY d.next_attempt_at LIMIT $4 ", $claim_lock, ")"
                    ))
                    .bind(now + lease)
                    .bind(&token)
                    .bind(now)
                    .bind(i64::from(limit))
                    .execute(&self.pool)
                    .await?;
                    if claimed.rows_affected() == 0 {
                        return Ok(Vec::new());
                    }
                    let rows: Vec<ClaimRow> = sqlx::query_as(
                        "SELECT d.id, d.hook_id, h.target_url, h.secret, d.attempts, e.payload, d.created_at \
                         FROM deliveries d JOIN hooks h ON h.id = d.hook_id JOIN call_events e ON e.seq = d.event_seq \
                         WHERE d.lease_token = $1",
                    )
                    .bind(&token)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.into_iter()
                        .map(|r| {
                            Ok(ClaimedDelivery {
                                id: DeliveryId::parse(&r.id).ok_or_else(|| corrupt("delivery id", &r.id))?,
                                lease_token: token.clone(),
                                hook_id: HookId::parse(&r.hook_id).ok_or_else(|| corrupt("hook id", &r.hook_id))?,
                                target_url: r.target_url,
                                secret: SecretString::from(r.secret),
                                attempts: u32::try_from(r.attempts).unwrap_or(u32::MAX),
                                payload: r.payload,
                                created_at: r.created_at,
                            })
                        })
                        .collect()
                }

                async fn record_results(&self, results: &[DeliveryResult], now: DateTime<Utc>, disable_after: chrono::TimeDelta) -> Result<(), StoreError> {
                    if results.is_empty() {
                        return Ok(());
                    }
                    let (_writer, mut tx) = self.begin_tx().await?;
                    for chunk in results.chunks(RESULTS_PER_STATEMENT) {
                        insert_attempts(&mut tx, chunk, now).await?;
                        update_deliveries(&mut tx, chunk, now).await?;
                    }
                    update_hook_health(&mut tx, results, now, disable_after).await?;
                    delete_gone_hooks(&mut tx, results).await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn queue_stats(&self, now: DateTime<Utc>) -> Result<QueueStats, StoreError> {
                    let (pending,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM deliveries WHERE status = 'pending'")
                        .fetch_one(&self.pool)
                        .await?;
                    let (due,): (i64,) = sqlx::query_as(
                        "SELECT COUNT(*) FROM deliveries WHERE status = 'pending' AND next_attempt_at <= $1",
                    )
                    .bind(now)
                    .fetch_one(&self.pool)
                    .await?;
                    let oldest: Option<(DateTime<Utc>,)> = sqlx::query_as(
                        "SELECT next_attempt_at FROM deliveries WHERE status = 'pending' AND next_attempt_at <= $1 \
                         ORDER BY next_attempt_at LIMIT 1",
                    )
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await?;
                    Ok(QueueStats {
                        pending,
                        due,
                        oldest_due_seconds: oldest
                            .map(|(at,)| (now - at).num_milliseconds() as f64 / 1000.0)
                            .unwrap_or(0.0),
                    })
                }

                async fn prune(&self, cutoff: DateTime<Utc>, receipts_cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
                    let mut removed = 0;
                    for (sql, at) in [
                        ("DELETE FROM delivery_attempts WHERE attempted_at < $1", cutoff),
                        ("DELETE FROM call_events WHERE created_at < $1", cutoff),
                        ("DELETE FROM raw_event_receipts WHERE received_at < $1", receipts_cutoff),
                    ] {
                        removed += sqlx::query(sql).bind(at).execute(&self.pool).await?.rows_affected();
                    }
                    // Deliveries queued for a hook deleted while its event was being ingested.
                    removed += sqlx::query(
                        "DELETE FROM deliveries WHERE NOT EXISTS (SELECT 1 FROM hooks h WHERE h.id = deliveries.hook_id)",
                    )
                    .execute(&self.pool)
                    .await?
                    .rows_affected();
                    Ok(removed)
                }
            }
        }
    };
}

pub(super) use impl_hook_store;
