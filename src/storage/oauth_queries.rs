//! The OAuth store's SQL, which SQLite and PostgreSQL both run verbatim (see `shared_queries.rs`).
//!
//! Every transaction that may write starts with its write (`UPDATE … RETURNING` or `INSERT`):
//! SQLite then takes the database write lock at once instead of failing to upgrade a read lock
//! under contention, and PostgreSQL locks the row, so concurrent presentations of one code or
//! refresh token are decided one after another.

/// Implements `OAuthStore` for a store whose `pool` field is a `sqlx::Pool<$db>`.
macro_rules! impl_oauth_store {
    ($store:ty, $db:ty) => {
        mod oauth_impl {
            use super::*;
            use $crate::domain::{ClientId, GrantId, UserId};
            use $crate::storage::oauth_models::*;
            use $crate::storage::oauth_rows::{CodeRow, GRANT_COLUMNS, GrantRow, KeyRow};
            use $crate::storage::rows::{ClientRow, UserRow};
            use $crate::storage::{OAuthClient, OAuthStore, StoreError};
            use chrono::{DateTime, Utc};
            use secrecy::{ExposeSecret, SecretString};

            type Conn = <$db as sqlx::Database>::Connection;

            /// Ends a grant: every access and refresh token issued under it stops working.
            /// This is the one place a grant is revoked (RFC 7009 revocation, code replay,
            /// refresh token reuse, `ringhook grant revoke`), inside the caller's transaction.
            ///
            /// The REST hooks subscribed under the grant are disabled in the same transaction,
            /// so that no delivery outlives the consent.
            async fn grant_revoked(
                conn: &mut Conn,
                grant_id: &str,
                now: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                let done = sqlx::query(
                    "UPDATE oauth_grants SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
                )
                .bind(now)
                .bind(grant_id)
                .execute(&mut *conn)
                .await?;
                sqlx::query(
                    "UPDATE hooks SET status = 'disabled', disabled_reason = 'the app connection was revoked', \
                     updated_at = $1 WHERE grant_id = $2 AND status = 'active'",
                )
                .bind(now)
                .bind(grant_id)
                .execute(&mut *conn)
                .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn insert_refresh_token(
                conn: &mut Conn,
                token_hash: &str,
                grant_id: &str,
                now: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO oauth_refresh_tokens (token_hash, grant_id, created_at) \
                     VALUES ($1, $2, $3) ON CONFLICT (token_hash) DO NOTHING",
                )
                .bind(token_hash)
                .bind(grant_id)
                .bind(now)
                .execute(&mut *conn)
                .await?;
                Ok(())
            }

            #[async_trait::async_trait]
            impl OAuthStore for $store {
                async fn ensure_key(
                    &self,
                    purpose: KeyPurpose,
                    candidate: &SecretString,
                    now: DateTime<Utc>,
                ) -> Result<Vec<OAuthKey>, StoreError> {
                    sqlx::query(
                        "INSERT INTO oauth_keys (id, purpose, generation, secret, created_at) \
                         VALUES ($1, $2, 1, $3, $4) ON CONFLICT (purpose, generation) DO NOTHING",
                    )
                    .bind(format!("key_{}", ulid::Ulid::generate().to_string().to_lowercase()))
                    .bind(purpose.as_str())
                    .bind(candidate.expose_secret())
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                    let rows: Vec<KeyRow> = sqlx::query_as(
                        "SELECT id, purpose, generation, secret, created_at FROM oauth_keys \
                         WHERE purpose = $1 ORDER BY generation DESC",
                    )
                    .bind(purpose.as_str())
                    .fetch_all(&self.pool)
                    .await?;
                    rows.into_iter().map(OAuthKey::try_from).collect()
                }

                async fn clients(&self) -> Result<Vec<OAuthClient>, StoreError> {
                    let rows: Vec<ClientRow> = sqlx::query_as(
                        "SELECT id, name, secret_hash, redirect_uris, created_at FROM oauth_clients ORDER BY id",
                    )
                    .fetch_all(&self.pool)
                    .await?;
                    rows.into_iter().map(OAuthClient::try_from).collect()
                }

                async fn set_client_secret(&self, id: &ClientId, secret_hash: &str) -> Result<bool, StoreError> {
                    let done = sqlx::query("UPDATE oauth_clients SET secret_hash = $1 WHERE id = $2")
                        .bind(secret_hash)
                        .bind(id.as_str())
                        .execute(&self.pool)
                        .await?;
                    Ok(done.rows_affected() > 0)
                }

                async fn delete_client(&self, id: &ClientId) -> Result<bool, StoreError> {
                    let done = sqlx::query("DELETE FROM oauth_clients WHERE id = $1")
                        .bind(id.as_str())
                        .execute(&self.pool)
                        .await?;
                    Ok(done.rows_affected() > 0)
                }

                async fn create_code(&self, code: &NewAuthCode) -> Result<(), StoreError> {
                    sqlx::query(
                        "INSERT INTO oauth_codes (code_hash, client_id, user_id, tenant_id, redirect_uri, \
                         redirect_uri_given, scope, code_challenge, expires_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    )
                    .bind(&code.code_hash)
                    .bind(code.client_id.as_str())
                    .bind(code.user_id.as_str())
                    .bind(code.tenant_id.as_str())
                    .bind(&code.redirect_uri)
                    .bind(code.redirect_uri_given)
                    .bind(code.scope.to_string())
                    .bind(code.code_challenge.as_deref())
                    .bind(code.expires_at)
                    .execute(&self.pool)
                    .await?;
                    Ok(())
                }

                async fn exchange_code(
                    &self,
                    code_hash: &str,
                    refresh_hash: &str,
                    now: DateTime<Utc>,
                    check: &CodeCheck<'_>,
                ) -> Result<CodeExchange, StoreError> {
                    let (_writer, mut tx) = self.begin_tx().await?;
                    let consumed: Option<CodeRow> = sqlx::query_as(
                        "UPDATE oauth_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL \
                         RETURNING client_id, user_id, tenant_id, redirect_uri, redirect_uri_given, scope, \
                         code_challenge, expires_at",
                    )
                    .bind(now)
                    .bind(code_hash)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let Some(row) = consumed else {
                        let used: Option<(Option<String>,)> =
                            sqlx::query_as("SELECT grant_id FROM oauth_codes WHERE code_hash = $1")
                                .bind(code_hash)
                                .fetch_optional(&mut *tx)
                                .await?;
                        let outcome = match used {
                            None => CodeExchange::Unknown,
                            Some((None,)) => CodeExchange::Replayed { revoked: None },
                            Some((Some(grant_id),)) => {
                                grant_revoked(&mut tx, &grant_id, now).await?;
                                CodeExchange::Replayed {
                                    revoked: Some($crate::storage::oauth_rows::grant_id(&grant_id)?),
                                }
                            }
                        };
                        tx.commit().await?;
                        return Ok(outcome);
                    };
                    let code = AuthCode::try_from(row)?;
                    if let Err(refusal) = check(&code) {
                        tx.commit().await?;
                        return Ok(CodeExchange::Refused(refusal));
                    }
                    let grant: GrantRow = sqlx::query_as(
                        "INSERT INTO oauth_grants (id, client_id, user_id, tenant_id, scope, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6) \
                         RETURNING id, client_id, user_id, tenant_id, scope, created_at, revoked_at",
                    )
                    .bind(GrantId::generate().as_str())
                    .bind(code.client_id.as_str())
                    .bind(code.user_id.as_str())
                    .bind(code.tenant_id.as_str())
                    .bind(code.scope.to_string())
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?;
                    insert_refresh_token(&mut tx, refresh_hash, &grant.id, now).await?;
                    sqlx::query("UPDATE oauth_codes SET grant_id = $1 WHERE code_hash = $2")
                        .bind(&grant.id)
                        .bind(code_hash)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Ok(CodeExchange::Issued(grant.try_into()?))
                }

                async fn refresh(&self, req: &RefreshRequest<'_>) -> Result<RefreshOutcome, StoreError> {
                    // Decided on a read outside the write lock; the one write below re-checks
                    // what a concurrent request could have changed (the grant's revocation).
                    let row: Option<(Option<DateTime<Utc>>, String, String, String, String, String, DateTime<Utc>, Option<DateTime<Utc>>, bool)> =
                        sqlx::query_as(&format!(
                            "SELECT t.retired_at, {GRANT_COLUMNS}, u.is_admin FROM oauth_refresh_tokens t \
                             JOIN oauth_grants g ON g.id = t.grant_id JOIN users u ON u.id = g.user_id \
                             WHERE t.token_hash = $1"
                        ))
                        .bind(req.token_hash)
                        .fetch_optional(&self.pool)
                        .await?;
                    let Some((retired_at, id, client_id, user_id, tenant_id, scope, created_at, revoked_at, user_is_admin)) = row else {
                        return Ok(RefreshOutcome::Invalid);
                    };
                    let grant_id = id.clone();
                    let grant = Grant::try_from(GrantRow {
                        id, client_id, user_id, tenant_id, scope, created_at, revoked_at,
                    })?;
                    if &grant.client_id != req.client_id {
                        return Ok(RefreshOutcome::Invalid);
                    }
                    if retired_at.is_some_and(|retired_at| req.now - retired_at > req.grace) {
                        let (_writer, mut tx) = self.begin_tx().await?;
                        grant_revoked(&mut tx, &grant_id, req.now).await?;
                        tx.commit().await?;
                        return Ok(RefreshOutcome::Reused { revoked: grant.id });
                    }
                    if grant.revoked_at.is_some() {
                        return Ok(RefreshOutcome::Invalid);
                    }
                    if req.scope.is_some_and(|s| !s.is_subset_of(grant.scope)) {
                        return Ok(RefreshOutcome::ScopeNotGranted);
                    }
                    // One statement: store the successor and retire the presented token (keeping
                    // an earlier retirement, so the grace window never grows). The successor is
                    // derived from the presented token, so parallel refreshes write the same rows.
                    let _writer = self.write_lock().await;
                    let rotated = sqlx::query(
                        "WITH rotation (token_hash, grant_id, created_at, retired_at) AS \
                           (VALUES ($1, $3, $4, NULL), ($2, $3, $4, $4)) \
                         INSERT INTO oauth_refresh_tokens (token_hash, grant_id, created_at, retired_at) \
                         SELECT token_hash, grant_id, created_at, retired_at FROM rotation \
                         WHERE EXISTS (SELECT 1 FROM oauth_grants g WHERE g.id = $3 AND g.revoked_at IS NULL) \
                         ON CONFLICT (token_hash) DO UPDATE \
                         SET retired_at = COALESCE(oauth_refresh_tokens.retired_at, excluded.retired_at)",
                    )
                    .bind(req.successor_hash)
                    .bind(req.token_hash)
                    .bind(&grant_id)
                    .bind(req.now)
                    .execute(&self.pool)
                    .await?;
                    if rotated.rows_affected() == 0 {
                        // Revoked between the read and the write.
                        return Ok(RefreshOutcome::Invalid);
                    }
                    Ok(RefreshOutcome::Rotated { grant, user_is_admin })
                }

                async fn grant(&self, id: &GrantId) -> Result<Option<Grant>, StoreError> {
                    let row: Option<GrantRow> = sqlx::query_as(&format!(
                        "SELECT {GRANT_COLUMNS} FROM oauth_grants g WHERE g.id = $1"
                    ))
                    .bind(id.as_str())
                    .fetch_optional(&self.pool)
                    .await?;
                    row.map(Grant::try_from).transpose()
                }

                async fn refresh_token(&self, token_hash: &str) -> Result<Option<RefreshTokenRecord>, StoreError> {
                    let row: Option<(String, Option<DateTime<Utc>>)> = sqlx::query_as(
                        "SELECT grant_id, retired_at FROM oauth_refresh_tokens WHERE token_hash = $1",
                    )
                    .bind(token_hash)
                    .fetch_optional(&self.pool)
                    .await?;
                    let Some((grant_id, retired_at)) = row else {
                        return Ok(None);
                    };
                    let grant = self.grant(&$crate::storage::oauth_rows::grant_id(&grant_id)?).await?;
                    Ok(grant.map(|grant| RefreshTokenRecord { grant, retired_at }))
                }

                async fn grants_of_user(&self, user: &UserId) -> Result<Vec<Grant>, StoreError> {
                    let rows: Vec<GrantRow> = sqlx::query_as(&format!(
                        "SELECT {GRANT_COLUMNS} FROM oauth_grants g WHERE g.user_id = $1 ORDER BY g.id"
                    ))
                    .bind(user.as_str())
                    .fetch_all(&self.pool)
                    .await?;
                    rows.into_iter().map(Grant::try_from).collect()
                }

                async fn revoke_grant(&self, id: &GrantId, now: DateTime<Utc>) -> Result<bool, StoreError> {
                    let (_writer, mut tx) = self.begin_tx().await?;
                    let revoked = grant_revoked(&mut tx, id.as_str(), now).await?;
                    tx.commit().await?;
                    Ok(revoked)
                }

                async fn revoke_access_token(
                    &self,
                    jti: &str,
                    grant: &GrantId,
                    expires_at: DateTime<Utc>,
                ) -> Result<(), StoreError> {
                    sqlx::query(
                        "INSERT INTO oauth_revoked_access_tokens (jti, grant_id, expires_at) \
                         SELECT $1, id, $3 FROM oauth_grants WHERE id = $2 ON CONFLICT (jti) DO NOTHING",
                    )
                    .bind(jti)
                    .bind(grant.as_str())
                    .bind(expires_at)
                    .execute(&self.pool)
                    .await?;
                    Ok(())
                }

                async fn grant_status(&self, id: &GrantId, now: DateTime<Utc>) -> Result<Option<GrantStatus>, StoreError> {
                    let row: Option<(String, String, String, String, String, DateTime<Utc>, Option<DateTime<Utc>>, String)> =
                        sqlx::query_as(&format!(
                            "SELECT {GRANT_COLUMNS}, t.name FROM oauth_grants g \
                             JOIN tenants t ON t.id = g.tenant_id WHERE g.id = $1"
                        ))
                        .bind(id.as_str())
                        .fetch_optional(&self.pool)
                        .await?;
                    let Some((gid, client_id, user_id, tenant_id, scope, created_at, revoked_at, tenant_name)) = row else {
                        return Ok(None);
                    };
                    let grant = Grant::try_from(GrantRow {
                        id: gid, client_id, user_id, tenant_id, scope, created_at, revoked_at,
                    })?;
                    let user: Option<UserRow> = sqlx::query_as(
                        "SELECT id, tenant_id, email, name, extension, number, is_admin, password_hash, created_at \
                         FROM users WHERE tenant_id = $1 AND id = $2",
                    )
                    .bind(grant.tenant_id.as_str())
                    .bind(grant.user_id.as_str())
                    .fetch_optional(&self.pool)
                    .await?;
                    let Some(user) = user else {
                        return Ok(None);
                    };
                    let revoked_jtis: Vec<(String,)> = sqlx::query_as(
                        "SELECT jti FROM oauth_revoked_access_tokens WHERE grant_id = $1 AND expires_at > $2",
                    )
                    .bind(id.as_str())
                    .bind(now)
                    .fetch_all(&self.pool)
                    .await?;
                    Ok(Some(GrantStatus {
                        grant,
                        user: user.try_into()?,
                        tenant_name,
                        revoked_jtis: revoked_jtis.into_iter().map(|(j,)| j).collect(),
                    }))
                }

                async fn prune_oauth(
                    &self,
                    codes_before: DateTime<Utc>,
                    now: DateTime<Utc>,
                ) -> Result<u64, StoreError> {
                    let codes = sqlx::query("DELETE FROM oauth_codes WHERE expires_at < $1")
                        .bind(codes_before)
                        .execute(&self.pool)
                        .await?;
                    let jtis = sqlx::query("DELETE FROM oauth_revoked_access_tokens WHERE expires_at < $1")
                        .bind(now)
                        .execute(&self.pool)
                        .await?;
                    Ok(codes.rows_affected() + jtis.rows_affected())
                }
            }
        }
    };
}

pub(super) use impl_oauth_store;
