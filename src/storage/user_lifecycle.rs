//! Day two for tenants and users: list, change, disable and delete them. Every change runs in
//! one transaction with its audit entry, so nothing is half-applied and nothing goes
//! unrecorded. Lookups are scoped by tenant, except the two that find a record's tenant.

use super::audit::{AuditEntry, record};
use super::rows::{TenantRow, UserRow};
use super::store::{Store, Tx, on_pool, on_tx};
use super::{Footprint, NewUserLink, StoreError, Tenant, TenantChanges, User, UserChanges};
use crate::domain::{TenantId, UserId};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};

const USER_COLUMNS: &str = "id, tenant_id, email, name, extension, number, is_admin, \
     password_hash, created_at, disabled_at";

#[async_trait::async_trait]
pub trait UserLifecycle {
    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError>;
    async fn update_tenant(
        &self,
        id: &TenantId,
        changes: &TenantChanges,
        audit: &AuditEntry,
    ) -> Result<Option<Tenant>, StoreError>;
    /// What deleting the tenant would take with it; `None` if there is no such tenant.
    async fn tenant_footprint(&self, id: &TenantId) -> Result<Option<Footprint>, StoreError>;
    /// Deletes the tenant and everything it owns; returns what went.
    async fn delete_tenant(
        &self,
        id: &TenantId,
        audit: &AuditEntry,
    ) -> Result<Option<Footprint>, StoreError>;
    /// The tenant a user belongs to, for the command line, which names users by id alone.
    async fn tenant_of_user(&self, id: &UserId) -> Result<Option<TenantId>, StoreError>;
    async fn update_user(
        &self,
        tenant: &TenantId,
        id: &UserId,
        changes: &UserChanges,
        audit: &AuditEntry,
    ) -> Result<Option<User>, StoreError>;
    /// False if there is no such user.
    async fn set_user_password(
        &self,
        tenant: &TenantId,
        id: &UserId,
        password_hash: &SecretString,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError>;
    /// Links a source's id for the user; the source must be the tenant's and the id free.
    async fn link_user(
        &self,
        tenant: &TenantId,
        id: &UserId,
        link: &NewUserLink,
        audit: &AuditEntry,
    ) -> Result<(), StoreError>;
    /// False if the user had no such link.
    async fn unlink_user(
        &self,
        tenant: &TenantId,
        id: &UserId,
        link: &NewUserLink,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError>;
    /// `Some(at)` disables (and revokes the user's grants, disabling their hooks), `None`
    /// enables. False if there is no such user.
    async fn set_user_disabled(
        &self,
        tenant: &TenantId,
        id: &UserId,
        disabled_at: Option<DateTime<Utc>>,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError>;
    async fn user_footprint(
        &self,
        tenant: &TenantId,
        id: &UserId,
    ) -> Result<Option<Footprint>, StoreError>;
    async fn delete_user(
        &self,
        tenant: &TenantId,
        id: &UserId,
        audit: &AuditEntry,
    ) -> Result<Option<Footprint>, StoreError>;
}

/// Counts, inside `tx`, the rows each `(label, sql)` selects for `id`.
pub(super) async fn footprint(
    tx: &mut Tx<'_>,
    id: &str,
    queries: &[(&str, &str)],
) -> Result<Footprint, StoreError> {
    let mut counts = Footprint::default();
    for (label, sql) in queries {
        let (count,): (i64,) = on_tx!(&mut *tx, |conn| sqlx::query_as(sql)
            .bind(id)
            .fetch_one(&mut *conn)
            .await)?;
        counts.0.insert((*label).to_owned(), count);
    }
    Ok(counts)
}

const TENANT_FOOTPRINT: [(&str, &str); 6] = [
    ("users", "SELECT COUNT(*) FROM users WHERE tenant_id = $1"),
    (
        "sources",
        "SELECT COUNT(*) FROM sources WHERE tenant_id = $1",
    ),
    ("hooks", "SELECT COUNT(*) FROM hooks WHERE tenant_id = $1"),
    (
        "grants",
        "SELECT COUNT(*) FROM oauth_grants WHERE tenant_id = $1 AND revoked_at IS NULL",
    ),
    ("calls", "SELECT COUNT(*) FROM calls WHERE tenant_id = $1"),
    (
        "call_events",
        "SELECT COUNT(*) FROM call_events WHERE tenant_id = $1",
    ),
];

const USER_FOOTPRINT: [(&str, &str); 4] = [
    (
        "links",
        "SELECT COUNT(*) FROM user_links WHERE user_id = $1",
    ),
    ("hooks", "SELECT COUNT(*) FROM hooks WHERE user_id = $1"),
    (
        "grants",
        "SELECT COUNT(*) FROM oauth_grants WHERE user_id = $1 AND revoked_at IS NULL",
    ),
    (
        "call_requests",
        "SELECT COUNT(*) FROM call_requests WHERE user_id = $1",
    ),
];

async fn tenant_in(tx: &mut Tx<'_>, id: &TenantId) -> Result<Option<TenantRow>, StoreError> {
    Ok(on_tx!(&mut *tx, |conn| sqlx::query_as(
        "SELECT id, name, default_country, created_at FROM tenants WHERE id = $1"
    )
    .bind(id.as_str())
    .fetch_optional(&mut *conn)
    .await)?)
}

async fn user_in(
    tx: &mut Tx<'_>,
    tenant: &TenantId,
    id: &UserId,
) -> Result<Option<UserRow>, StoreError> {
    Ok(on_tx!(&mut *tx, |conn| sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant.as_str())
    .bind(id.as_str())
    .fetch_optional(&mut *conn)
    .await)?)
}

#[async_trait::async_trait]
impl UserLifecycle for Store {
    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        let rows: Vec<TenantRow> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT id, name, default_country, created_at FROM tenants ORDER BY name, id"
        )
        .fetch_all(pool)
        .await)?;
        rows.into_iter().map(Tenant::try_from).collect()
    }

    async fn update_tenant(
        &self,
        id: &TenantId,
        changes: &TenantChanges,
        audit: &AuditEntry,
    ) -> Result<Option<Tenant>, StoreError> {
        let mut tx = self.begin_tx().await?;
        let Some(current) = tenant_in(&mut tx, id).await? else {
            return Ok(None);
        };
        let name = changes.name.clone().unwrap_or(current.name);
        let country = changes
            .default_country
            .map(|c| c.as_str().to_owned())
            .unwrap_or(current.default_country);
        let row: TenantRow = on_tx!(&mut tx, |conn| sqlx::query_as(
            "UPDATE tenants SET name = $1, default_country = $2 WHERE id = $3 \
             RETURNING id, name, default_country, created_at"
        )
        .bind(&name)
        .bind(&country)
        .bind(id.as_str())
        .fetch_one(&mut *conn)
        .await)?;
        record(&mut tx, audit).await?;
        tx.commit().await?;
        row.try_into().map(Some)
    }

    async fn tenant_footprint(&self, id: &TenantId) -> Result<Option<Footprint>, StoreError> {
        let mut tx = self.begin_tx().await?;
        if tenant_in(&mut tx, id).await?.is_none() {
            return Ok(None);
        }
        let counts = footprint(&mut tx, id.as_str(), &TENANT_FOOTPRINT).await?;
        tx.commit().await?;
        Ok(Some(counts))
    }

    async fn delete_tenant(
        &self,
        id: &TenantId,
        audit: &AuditEntry,
    ) -> Result<Option<Footprint>, StoreError> {
        let mut tx = self.begin_tx().await?;
        if tenant_in(&mut tx, id).await?.is_none() {
            return Ok(None);
        }
        let counts = footprint(&mut tx, id.as_str(), &TENANT_FOOTPRINT).await?;
        // Deliveries have no foreign key (see the hooks migration); the rest cascades.
        for sql in [
            "DELETE FROM deliveries WHERE tenant_id = $1",
            "DELETE FROM tenants WHERE id = $1",
        ] {
            on_tx!(&mut tx, |conn| sqlx::query(sql)
                .bind(id.as_str())
                .execute(&mut *conn)
                .await
                .map(|done| done.rows_affected()))?;
        }
        record(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(Some(counts))
    }

    async fn tenant_of_user(&self, id: &UserId) -> Result<Option<TenantId>, StoreError> {
        let row: Option<(String,)> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT tenant_id FROM users WHERE id = $1"
        )
        .bind(id.as_str())
        .fetch_optional(pool)
        .await)?;
        row.map(|(t,)| super::rows::tenant_id(&t)).transpose()
    }

    async fn update_user(
        &self,
        tenant: &TenantId,
        id: &UserId,
        changes: &UserChanges,
        audit: &AuditEntry,
    ) -> Result<Option<User>, StoreError> {
        let mut tx = self.begin_tx().await?;
        let Some(current) = user_in(&mut tx, tenant, id).await? else {
            return Ok(None);
        };
        let email = changes
            .email
            .as_ref()
            .map(|e| e.as_str().to_owned())
            .unwrap_or(current.email);
        let name = changes.name.clone().unwrap_or(current.name);
        let extension = changes.extension.clone().unwrap_or(current.extension);
        let number = match &changes.number {
            Some(n) => n.as_ref().map(|n| n.as_str().to_owned()),
            None => current.number,
        };
        let is_admin = changes.is_admin.unwrap_or(current.is_admin);
        let updated = on_tx!(&mut tx, |conn| sqlx::query_as::<_, UserRow>(&format!(
            "UPDATE users SET email = $1, name = $2, extension = $3, number = $4, \
             is_admin = $5 WHERE tenant_id = $6 AND id = $7 RETURNING {USER_COLUMNS}"
        ))
        .bind(&email)
        .bind(&name)
        .bind(extension.as_deref())
        .bind(number.as_deref())
        .bind(is_admin)
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_one(&mut *conn)
        .await);
        let row = match updated {
            Ok(row) => row,
            Err(e) if StoreError::is_unique_violation(&e) => {
                return Err(StoreError::Conflict(format!(
                    "tenant {tenant} already has another user with email {email} or extension {}",
                    extension.as_deref().unwrap_or("-")
                )));
            }
            Err(e) => return Err(e.into()),
        };
        record(&mut tx, audit).await?;
        tx.commit().await?;
        row.try_into().map(Some)
    }

    async fn set_user_password(
        &self,
        tenant: &TenantId,
        id: &UserId,
        password_hash: &SecretString,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_tx().await?;
        let done = on_tx!(&mut tx, |conn| sqlx::query(
            "UPDATE users SET password_hash = $1 WHERE tenant_id = $2 AND id = $3"
        )
        .bind(password_hash.expose_secret())
        .bind(tenant.as_str())
        .bind(id.as_str())
        .execute(&mut *conn)
        .await
        .map(|done| done.rows_affected()))?;
        if done == 0 {
            return Ok(false);
        }
        record(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn link_user(
        &self,
        tenant: &TenantId,
        id: &UserId,
        link: &NewUserLink,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_tx().await?;
        if user_in(&mut tx, tenant, id).await?.is_none() {
            return Err(StoreError::NotFound(format!(
                "tenant {tenant} has no user {id}"
            )));
        }
        let owner: Option<(String,)> = on_tx!(&mut tx, |conn| sqlx::query_as(
            "SELECT tenant_id FROM sources WHERE id = $1"
        )
        .bind(link.source_id.as_str())
        .fetch_optional(&mut *conn)
        .await)?;
        if owner.map(|(t,)| t).as_deref() != Some(tenant.as_str()) {
            return Err(StoreError::NotFound(format!(
                "tenant {tenant} has no source {}",
                link.source_id
            )));
        }
        let linked = on_tx!(&mut tx, |conn| sqlx::query(
            "INSERT INTO user_links (source_id, external_id, user_id) VALUES ($1, $2, $3)"
        )
        .bind(link.source_id.as_str())
        .bind(&link.external_id)
        .bind(id.as_str())
        .execute(&mut *conn)
        .await
        .map(|done| done.rows_affected()));
        match linked {
            Ok(_) => {}
            Err(e) if StoreError::is_unique_violation(&e) => {
                return Err(StoreError::Conflict(format!(
                    "source {} already links {:?} to a user",
                    link.source_id, link.external_id
                )));
            }
            Err(e) => return Err(e.into()),
        }
        record(&mut tx, audit).await?;
        tx.commit().await
    }

    async fn unlink_user(
        &self,
        tenant: &TenantId,
        id: &UserId,
        link: &NewUserLink,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_tx().await?;
        if user_in(&mut tx, tenant, id).await?.is_none() {
            return Err(StoreError::NotFound(format!(
                "tenant {tenant} has no user {id}"
            )));
        }
        let done = on_tx!(&mut tx, |conn| sqlx::query(
            "DELETE FROM user_links WHERE source_id = $1 AND external_id = $2 AND user_id = $3"
        )
        .bind(link.source_id.as_str())
        .bind(&link.external_id)
        .bind(id.as_str())
        .execute(&mut *conn)
        .await
        .map(|done| done.rows_affected()))?;
        if done == 0 {
            return Ok(false);
        }
        record(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn set_user_disabled(
        &self,
        tenant: &TenantId,
        id: &UserId,
        disabled_at: Option<DateTime<Utc>>,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_tx().await?;
        let done = on_tx!(&mut tx, |conn| sqlx::query(
            "UPDATE users SET disabled_at = $1 WHERE tenant_id = $2 AND id = $3"
        )
        .bind(disabled_at)
        .bind(tenant.as_str())
        .bind(id.as_str())
        .execute(&mut *conn)
        .await
        .map(|done| done.rows_affected()))?;
        if done == 0 {
            return Ok(false);
        }
        if let Some(at) = disabled_at {
            let grants: Vec<(String,)> = on_tx!(&mut tx, |conn| sqlx::query_as(
                "SELECT id FROM oauth_grants WHERE user_id = $1 AND revoked_at IS NULL"
            )
            .bind(id.as_str())
            .fetch_all(&mut *conn)
            .await)?;
            for (grant,) in grants {
                super::oauth::grant_revoked(&mut tx, &grant, at).await?;
            }
        }
        record(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn user_footprint(
        &self,
        tenant: &TenantId,
        id: &UserId,
    ) -> Result<Option<Footprint>, StoreError> {
        let mut tx = self.begin_tx().await?;
        if user_in(&mut tx, tenant, id).await?.is_none() {
            return Ok(None);
        }
        let counts = footprint(&mut tx, id.as_str(), &USER_FOOTPRINT).await?;
        tx.commit().await?;
        Ok(Some(counts))
    }

    async fn delete_user(
        &self,
        tenant: &TenantId,
        id: &UserId,
        audit: &AuditEntry,
    ) -> Result<Option<Footprint>, StoreError> {
        let mut tx = self.begin_tx().await?;
        if user_in(&mut tx, tenant, id).await?.is_none() {
            return Ok(None);
        }
        let counts = footprint(&mut tx, id.as_str(), &USER_FOOTPRINT).await?;
        for sql in [
            "DELETE FROM deliveries WHERE hook_id IN (SELECT id FROM hooks WHERE user_id = $1)",
            "DELETE FROM users WHERE id = $1",
        ] {
            on_tx!(&mut tx, |conn| sqlx::query(sql)
                .bind(id.as_str())
                .execute(&mut *conn)
                .await
                .map(|done| done.rows_affected()))?;
        }
        record(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(Some(counts))
    }
}
