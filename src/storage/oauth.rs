//! The OAuth2 authorization server's state and its SQL, the same on both backends.
//!
//! Every transaction that may write starts with its write (`UPDATE … RETURNING` or `INSERT`):
//! SQLite then takes the database write lock at once instead of failing to upgrade a read lock
//! under contention, and PostgreSQL locks the row, so concurrent presentations of one code or
//! refresh token are decided one after another.

use super::oauth_models::*;
use super::oauth_rows::{CodeRow, GRANT_COLUMNS, GrantRow, KeyRow};
use super::rows::{ClientRow, UserRow};
use super::store::{Store, Tx, on_pool, on_tx, on_write_pool};
use super::{OAuthClient, StoreError};
use crate::domain::{ClientId, GrantId, UserId};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};

/// The OAuth2 authorization server's state: keys, codes, grants, refresh tokens, revocations.
#[async_trait::async_trait]
pub trait OAuthStore {
    /// Stores `candidate` as generation 1 of `purpose` unless a key of that purpose exists
    /// (so instances sharing a database agree), then returns every key of it, newest first.
    async fn ensure_key(
        &self,
        purpose: KeyPurpose,
        candidate: &SecretString,
        now: DateTime<Utc>,
    ) -> Result<Vec<OAuthKey>, StoreError>;
    async fn clients(&self) -> Result<Vec<OAuthClient>, StoreError>;
    /// False when there is no such client.
    async fn set_client_secret(&self, id: &ClientId, secret_hash: &str)
    -> Result<bool, StoreError>;
    /// Deletes the client with its codes, grants and tokens. False when there is no such client.
    async fn delete_client(&self, id: &ClientId) -> Result<bool, StoreError>;
    async fn create_code(&self, code: &NewAuthCode) -> Result<(), StoreError>;
    /// Consumes the code atomically (RFC 6749 §4.1.2: single use). On first use runs `check`
    /// and, when it passes, opens the grant with a first refresh token (`refresh_hash`) in the
    /// same transaction. A second use revokes the grant issued from the first (§10.5).
    async fn exchange_code(
        &self,
        code_hash: &str,
        refresh_hash: &str,
        now: DateTime<Utc>,
        check: &CodeCheck<'_>,
    ) -> Result<CodeExchange, StoreError>;
    /// Rotates a refresh token (RFC 9700 §4.14.2) with a grace window; see `RefreshOutcome`.
    async fn refresh(&self, request: &RefreshRequest<'_>) -> Result<RefreshOutcome, StoreError>;
    async fn grant(&self, id: &GrantId) -> Result<Option<Grant>, StoreError>;
    /// The grant a refresh token belongs to, for introspection and revocation.
    async fn refresh_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<RefreshTokenRecord>, StoreError>;
    async fn grants_of_user(&self, user: &UserId) -> Result<Vec<Grant>, StoreError>;
    /// Ends the grant and everything issued under it. False when it was unknown or already revoked.
    async fn revoke_grant(&self, id: &GrantId, now: DateTime<Utc>) -> Result<bool, StoreError>;
    /// Denylists one access token until it would have expired anyway.
    async fn revoke_access_token(
        &self,
        jti: &str,
        grant: &GrantId,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// What the bearer guard re-checks: the grant, its user (gone → `None`), the tenant's name
    /// and the grant's denylisted access tokens.
    async fn grant_status(
        &self,
        id: &GrantId,
        now: DateTime<Utc>,
    ) -> Result<Option<GrantStatus>, StoreError>;
    /// Deletes codes that expired before `codes_before` and denylist rows past `now`;
    /// returns how many rows went.
    async fn prune_oauth(
        &self,
        codes_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
}

/// Ends a grant: every access and refresh token issued under it stops working.
/// This is the one place a grant is revoked (RFC 7009 revocation, code replay,
/// refresh token reuse, `ringhook grant revoke`), inside the caller's transaction.
///
/// The REST hooks subscribed under the grant are disabled in the same transaction,
/// so that no delivery outlives the consent.
pub(super) async fn grant_revoked(
    tx: &mut Tx<'_>,
    grant_id: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = on_tx!(&mut *tx, |conn| sqlx::query(
        "UPDATE oauth_grants SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(grant_id)
    .execute(&mut *conn)
    .await
    .map(|done| done.rows_affected()))?;
    on_tx!(&mut *tx, |conn| sqlx::query(
        "UPDATE hooks SET status = 'disabled', disabled_reason = 'the app \
         connection was revoked', \
         updated_at = $1 WHERE grant_id = $2 AND status = 'active'",
    )
    .bind(now)
    .bind(grant_id)
    .execute(&mut *conn)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(done > 0)
}

async fn insert_refresh_token(
    tx: &mut Tx<'_>,
    token_hash: &str,
    grant_id: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    on_tx!(&mut *tx, |conn| sqlx::query(
        "INSERT INTO oauth_refresh_tokens (token_hash, grant_id, created_at) \
         VALUES ($1, $2, $3) ON CONFLICT (token_hash) DO NOTHING",
    )
    .bind(token_hash)
    .bind(grant_id)
    .bind(now)
    .execute(&mut *conn)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

#[async_trait::async_trait]
impl OAuthStore for Store {
    async fn ensure_key(
        &self,
        purpose: KeyPurpose,
        candidate: &SecretString,
        now: DateTime<Utc>,
    ) -> Result<Vec<OAuthKey>, StoreError> {
        on_pool!(self, |pool| sqlx::query(
            "INSERT INTO oauth_keys (id, purpose, generation, secret, created_at) \
             VALUES ($1, $2, 1, $3, $4) ON CONFLICT (purpose, generation) DO NOTHING",
        )
        .bind(format!(
            "key_{}",
            ulid::Ulid::generate().to_string().to_lowercase()
        ))
        .bind(purpose.as_str())
        .bind(candidate.expose_secret())
        .bind(now)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        let rows: Vec<KeyRow> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT id, purpose, generation, secret, created_at FROM oauth_keys \
             WHERE purpose = $1 ORDER BY generation DESC",
        )
        .bind(purpose.as_str())
        .fetch_all(pool)
        .await)?;
        rows.into_iter().map(OAuthKey::try_from).collect()
    }

    async fn clients(&self) -> Result<Vec<OAuthClient>, StoreError> {
        let rows: Vec<ClientRow> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, name, secret_hash, redirect_uris, created_at FROM \
                 oauth_clients ORDER BY id",
            )
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter().map(OAuthClient::try_from).collect()
    }

    async fn set_client_secret(
        &self,
        id: &ClientId,
        secret_hash: &str,
    ) -> Result<bool, StoreError> {
        let done = on_pool!(self, |pool| sqlx::query(
            "UPDATE oauth_clients SET secret_hash = $1 WHERE id = $2"
        )
        .bind(secret_hash)
        .bind(id.as_str())
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(done > 0)
    }

    async fn delete_client(&self, id: &ClientId) -> Result<bool, StoreError> {
        let done = on_pool!(self, |pool| sqlx::query(
            "DELETE FROM oauth_clients WHERE id = $1"
        )
        .bind(id.as_str())
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(done > 0)
    }

    async fn create_code(&self, code: &NewAuthCode) -> Result<(), StoreError> {
        on_pool!(self, |pool| sqlx::query(
            "INSERT INTO oauth_codes (code_hash, client_id, user_id, tenant_id, \
             redirect_uri, \
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
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(())
    }

    async fn exchange_code(
        &self,
        code_hash: &str,
        refresh_hash: &str,
        now: DateTime<Utc>,
        check: &CodeCheck<'_>,
    ) -> Result<CodeExchange, StoreError> {
        let mut tx = self.begin_tx().await?;
        let consumed: Option<CodeRow> = on_tx!(&mut tx, |conn| sqlx::query_as(
            "UPDATE oauth_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL \
             RETURNING client_id, user_id, tenant_id, redirect_uri, \
             redirect_uri_given, scope, \
             code_challenge, expires_at",
        )
        .bind(now)
        .bind(code_hash)
        .fetch_optional(&mut *conn)
        .await)?;
        let Some(row) = consumed else {
            let used: Option<(Option<String>,)> = on_tx!(&mut tx, |conn| sqlx::query_as(
                "SELECT grant_id FROM oauth_codes WHERE code_hash = $1"
            )
            .bind(code_hash)
            .fetch_optional(&mut *conn)
            .await)?;
            let outcome = match used {
                None => CodeExchange::Unknown,
                Some((None,)) => CodeExchange::Replayed { revoked: None },
                Some((Some(grant_id),)) => {
                    grant_revoked(&mut tx, &grant_id, now).await?;
                    CodeExchange::Replayed {
                        revoked: Some(crate::storage::oauth_rows::grant_id(&grant_id)?),
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
        let grant: GrantRow = on_tx!(&mut tx, |conn| sqlx::query_as(
            "INSERT INTO oauth_grants (id, client_id, user_id, tenant_id, \
             scope, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             RETURNING id, client_id, user_id, tenant_id, scope, created_at, revoked_at",
        )
        .bind(GrantId::generate().as_str())
        .bind(code.client_id.as_str())
        .bind(code.user_id.as_str())
        .bind(code.tenant_id.as_str())
        .bind(code.scope.to_string())
        .bind(now)
        .fetch_one(&mut *conn)
        .await)?;
        insert_refresh_token(&mut tx, refresh_hash, &grant.id, now).await?;
        on_tx!(&mut tx, |conn| sqlx::query(
            "UPDATE oauth_codes SET grant_id = $1 WHERE code_hash = $2"
        )
        .bind(&grant.id)
        .bind(code_hash)
        .execute(&mut *conn)
        .await
        .map(|done| done.rows_affected()))?;
        tx.commit().await?;
        Ok(CodeExchange::Issued(grant.try_into()?))
    }

    async fn refresh(&self, req: &RefreshRequest<'_>) -> Result<RefreshOutcome, StoreError> {
        // Decided on a read outside the write lock; the one write below re-checks
        // what a concurrent request could have changed (the grant's revocation).
        let row: Option<(
            Option<DateTime<Utc>>,
            String,
            String,
            String,
            String,
            String,
            DateTime<Utc>,
            Option<DateTime<Utc>>,
            bool,
        )> = on_pool!(self, |pool| sqlx::query_as(&format!(
            "SELECT t.retired_at, {GRANT_COLUMNS}, u.is_admin FROM oauth_refresh_tokens t \
             JOIN oauth_grants g ON g.id = t.grant_id JOIN users u ON u.id = g.user_id \
             WHERE t.token_hash = $1"
        ))
        .bind(req.token_hash)
        .fetch_optional(pool)
        .await)?;
        let Some((
            retired_at,
            id,
            client_id,
            user_id,
            tenant_id,
            scope,
            created_at,
            revoked_at,
            user_is_admin,
        )) = row
        else {
            return Ok(RefreshOutcome::Invalid);
        };
        let grant_id = id.clone();
        let grant = Grant::try_from(GrantRow {
            id,
            client_id,
            user_id,
            tenant_id,
            scope,
            created_at,
            revoked_at,
        })?;
        if &grant.client_id != req.client_id {
            return Ok(RefreshOutcome::Invalid);
        }
        if retired_at.is_some_and(|retired_at| req.now - retired_at > req.grace) {
            let mut tx = self.begin_tx().await?;
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
        let rotated = on_write_pool!(self, |pool| sqlx::query(
            "WITH rotation (token_hash, grant_id, created_at, retired_at) AS \
             (VALUES ($1, $3, $4, NULL), ($2, $3, $4, $4)) \
             INSERT INTO oauth_refresh_tokens (token_hash, grant_id, \
             created_at, retired_at) \
             SELECT token_hash, grant_id, created_at, retired_at FROM rotation \
             WHERE EXISTS (SELECT 1 FROM oauth_grants g WHERE g.id = $3 AND \
             g.revoked_at IS NULL) \
             ON CONFLICT (token_hash) DO UPDATE \
             SET retired_at = COALESCE(oauth_refresh_tokens.retired_at, \
             excluded.retired_at)",
        )
        .bind(req.successor_hash)
        .bind(req.token_hash)
        .bind(&grant_id)
        .bind(req.now)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        if rotated == 0 {
            // Revoked between the read and the write.
            return Ok(RefreshOutcome::Invalid);
        }
        Ok(RefreshOutcome::Rotated {
            grant,
            user_is_admin,
        })
    }

    async fn grant(&self, id: &GrantId) -> Result<Option<Grant>, StoreError> {
        let row: Option<GrantRow> = on_pool!(self, |pool| sqlx::query_as(&format!(
            "SELECT {GRANT_COLUMNS} FROM oauth_grants g WHERE g.id = $1"
        ))
        .bind(id.as_str())
        .fetch_optional(pool)
        .await)?;
        row.map(Grant::try_from).transpose()
    }

    async fn refresh_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<RefreshTokenRecord>, StoreError> {
        let row: Option<(String, Option<DateTime<Utc>>)> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT grant_id, retired_at FROM oauth_refresh_tokens WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(pool)
        .await)?;
        let Some((grant_id, retired_at)) = row else {
            return Ok(None);
        };
        let grant = self
            .grant(&crate::storage::oauth_rows::grant_id(&grant_id)?)
            .await?;
        Ok(grant.map(|grant| RefreshTokenRecord { grant, retired_at }))
    }

    async fn grants_of_user(&self, user: &UserId) -> Result<Vec<Grant>, StoreError> {
        let rows: Vec<GrantRow> = on_pool!(self, |pool| sqlx::query_as(&format!(
            "SELECT {GRANT_COLUMNS} FROM oauth_grants g WHERE g.user_id = $1 ORDER BY g.id"
        ))
        .bind(user.as_str())
        .fetch_all(pool)
        .await)?;
        rows.into_iter().map(Grant::try_from).collect()
    }

    async fn revoke_grant(&self, id: &GrantId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let mut tx = self.begin_tx().await?;
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
        on_pool!(self, |pool| sqlx::query(
            "INSERT INTO oauth_revoked_access_tokens (jti, grant_id, expires_at) \
             SELECT $1, id, $3 FROM oauth_grants WHERE id = $2 ON CONFLICT \
             (jti) DO NOTHING",
        )
        .bind(jti)
        .bind(grant.as_str())
        .bind(expires_at)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(())
    }

    async fn grant_status(
        &self,
        id: &GrantId,
        now: DateTime<Utc>,
    ) -> Result<Option<GrantStatus>, StoreError> {
        let row: Option<(
            String,
            String,
            String,
            String,
            String,
            DateTime<Utc>,
            Option<DateTime<Utc>>,
            String,
        )> = on_pool!(self, |pool| sqlx::query_as(&format!(
            "SELECT {GRANT_COLUMNS}, t.name FROM oauth_grants g \
             JOIN tenants t ON t.id = g.tenant_id WHERE g.id = $1"
        ))
        .bind(id.as_str())
        .fetch_optional(pool)
        .await)?;
        let Some((gid, client_id, user_id, tenant_id, scope, created_at, revoked_at, tenant_name)) =
            row
        else {
            return Ok(None);
        };
        let grant = Grant::try_from(GrantRow {
            id: gid,
            client_id,
            user_id,
            tenant_id,
            scope,
            created_at,
            revoked_at,
        })?;
        let user: Option<UserRow> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, tenant_id, email, name, extension, number, is_admin, \
                 password_hash, created_at, disabled_at \
                 FROM users WHERE tenant_id = $1 AND id = $2 AND disabled_at IS NULL",
            )
            .bind(grant.tenant_id.as_str())
            .bind(grant.user_id.as_str())
            .fetch_optional(pool)
            .await
        })?;
        let Some(user) = user else {
            return Ok(None);
        };
        let revoked_jtis: Vec<(String,)> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT jti FROM oauth_revoked_access_tokens WHERE grant_id = $1 \
                 AND expires_at > $2",
            )
            .bind(id.as_str())
            .bind(now)
            .fetch_all(pool)
            .await
        })?;
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
        let codes = on_pool!(self, |pool| sqlx::query(
            "DELETE FROM oauth_codes WHERE expires_at < $1"
        )
        .bind(codes_before)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        let jtis = on_pool!(self, |pool| sqlx::query(
            "DELETE FROM oauth_revoked_access_tokens WHERE expires_at < $1"
        )
        .bind(now)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(codes + jtis)
    }
}
