//! Tenants, their users and sources, and the OAuth clients: the directory every other aggregate
//! refers to. The SQL is the same on both backends.

use super::rows::{ClientRow, SourceRow, TenantRow, UserLinkRow, UserRow};
use super::store::{Store, on_pool, on_tx};
use super::{
    NamedQueue, NewOAuthClient, NewSource, NewTenant, NewUser, OAuthClient, Source, StoreError,
    Tenant, User, UserCredentials, UserLink,
};
use crate::domain::{ClientId, EmailAddress, SourceId, TenantId, UserId};
use secrecy::ExposeSecret;

const USER_COLUMNS: &str = "id, tenant_id, email, name, extension, number, is_admin, password_hash, created_at, \
     disabled_at";
const SOURCE_COLUMNS: &str = "id, tenant_id, kind, secret, account_id, api_url, api_key, created_at, disabled_at, \
     previous_secret, previous_secret_until";

#[async_trait::async_trait]
pub trait TenantStore {
    async fn create_tenant(&self, new: &NewTenant) -> Result<Tenant, StoreError>;
    async fn tenant(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError>;
}

#[async_trait::async_trait]
pub trait UserStore {
    /// Creates the user and their links in one transaction: on any error nothing is written.
    async fn create_user(&self, new: &NewUser) -> Result<User, StoreError>;
    async fn user(&self, tenant: &TenantId, id: &UserId) -> Result<Option<User>, StoreError>;
    async fn users(&self, tenant: &TenantId) -> Result<Vec<User>, StoreError>;
    /// Every user with this email, across tenants (login picks the one whose password matches).
    async fn users_by_email(
        &self,
        email: &EmailAddress,
    ) -> Result<Vec<UserCredentials>, StoreError>;
    /// How this tenant's sources name its users.
    async fn user_links(&self, tenant: &TenantId) -> Result<Vec<UserLink>, StoreError>;
}

#[async_trait::async_trait]
pub trait SourceStore {
    async fn create_source(&self, new: &NewSource) -> Result<Source, StoreError>;
    /// Looks a source up by id alone: the ingest URL carries only the id, and the source
    /// then names its tenant.
    async fn source(&self, id: &SourceId) -> Result<Option<Source>, StoreError>;
    async fn sources(&self, tenant: &TenantId) -> Result<Vec<Source>, StoreError>;
    /// Gives a queue of `queue.source_id` its readable name, replacing an earlier one.
    async fn name_queue(&self, queue: &NamedQueue) -> Result<(), StoreError>;
    /// The named queues of a source, by external id.
    async fn queues(&self, source: &SourceId) -> Result<Vec<NamedQueue>, StoreError>;
    /// Forgets a queue's name; false if it had none.
    async fn forget_queue(&self, source: &SourceId, external_id: &str) -> Result<bool, StoreError>;
}

#[async_trait::async_trait]
pub trait ClientStore {
    async fn create_client(&self, new: &NewOAuthClient) -> Result<OAuthClient, StoreError>;
    async fn client(&self, id: &ClientId) -> Result<Option<OAuthClient>, StoreError>;
}

#[async_trait::async_trait]
impl TenantStore for Store {
    async fn create_tenant(&self, new: &NewTenant) -> Result<Tenant, StoreError> {
        let row: TenantRow = on_pool!(self, |pool| {
            sqlx::query_as(
                "INSERT INTO tenants (id, name, default_country, created_at) VALUES \
                 ($1, $2, $3, $4) \
                 RETURNING id, name, default_country, created_at",
            )
            .bind(TenantId::generate().as_str())
            .bind(&new.name)
            .bind(new.default_country.as_str())
            .bind(chrono::Utc::now())
            .fetch_one(pool)
            .await
        })?;
        row.try_into()
    }

    async fn tenant(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError> {
        let row: Option<TenantRow> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT id, name, default_country, created_at FROM tenants WHERE id = $1",
        )
        .bind(id.as_str())
        .fetch_optional(pool)
        .await)?;
        row.map(Tenant::try_from).transpose()
    }
}

#[async_trait::async_trait]
impl UserStore for Store {
    async fn create_user(&self, new: &NewUser) -> Result<User, StoreError> {
        let mut tx = self.begin_tx().await?;
        let tenant: Option<(String,)> = on_tx!(&mut tx, |conn| sqlx::query_as(
            "SELECT id FROM tenants WHERE id = $1"
        )
        .bind(new.tenant_id.as_str())
        .fetch_optional(&mut *conn)
        .await)?;
        if tenant.is_none() {
            return Err(StoreError::NotFound(format!("no tenant {}", new.tenant_id)));
        }
        let id = UserId::generate();
        let inserted = on_tx!(&mut tx, |conn| {
            sqlx::query_as::<_, UserRow>(&format!(
                "INSERT INTO users (id, tenant_id, email, name, extension, number, \
                 is_admin, password_hash, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {USER_COLUMNS}"
            ))
            .bind(id.as_str())
            .bind(new.tenant_id.as_str())
            .bind(new.email.as_str())
            .bind(&new.name)
            .bind(new.extension.as_deref())
            .bind(new.number.as_ref().map(|n| n.as_str()))
            .bind(new.is_admin)
            .bind(new.password_hash.as_ref().map(|h| h.expose_secret()))
            .bind(chrono::Utc::now())
            .fetch_one(&mut *conn)
            .await
        });
        let row = match inserted {
            Ok(row) => row,
            Err(e) if StoreError::is_unique_violation(&e) => {
                return Err(StoreError::Conflict(format!(
                    "tenant {} already has a user with email {} or extension {}",
                    new.tenant_id,
                    new.email,
                    new.extension.as_deref().unwrap_or("-")
                )));
            }
            Err(e) => return Err(e.into()),
        };
        for link in &new.links {
            let owner: Option<(String,)> = on_tx!(&mut tx, |conn| sqlx::query_as(
                "SELECT tenant_id FROM sources WHERE id = $1"
            )
            .bind(link.source_id.as_str())
            .fetch_optional(&mut *conn)
            .await)?;
            if owner.map(|(t,)| t) != Some(new.tenant_id.as_str().to_owned()) {
                return Err(StoreError::NotFound(format!(
                    "tenant {} has no source {}",
                    new.tenant_id, link.source_id
                )));
            }
            let linked = on_tx!(&mut tx, |conn| sqlx::query(
                "INSERT INTO user_links (source_id, external_id, user_id) \
                 VALUES ($1, $2, $3)",
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
                        "source {} already links {:?} to another user",
                        link.source_id, link.external_id
                    )));
                }
                Err(e) => return Err(e.into()),
            }
        }
        tx.commit().await?;
        row.try_into()
    }

    async fn user(&self, tenant: &TenantId, id: &UserId) -> Result<Option<User>, StoreError> {
        let row: Option<UserRow> = on_pool!(self, |pool| sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_optional(pool)
        .await)?;
        row.map(User::try_from).transpose()
    }

    async fn users(&self, tenant: &TenantId) -> Result<Vec<User>, StoreError> {
        let rows: Vec<UserRow> = on_pool!(self, |pool| sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 ORDER BY name, id"
        ))
        .bind(tenant.as_str())
        .fetch_all(pool)
        .await)?;
        rows.into_iter().map(User::try_from).collect()
    }

    async fn users_by_email(
        &self,
        email: &EmailAddress,
    ) -> Result<Vec<UserCredentials>, StoreError> {
        let rows: Vec<UserRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE email = $1 AND disabled_at IS NULL ORDER BY id"
        ))
        .bind(email.as_str())
        .fetch_all(pool)
        .await
        })?;
        rows.into_iter().map(UserRow::into_credentials).collect()
    }

    async fn user_links(&self, tenant: &TenantId) -> Result<Vec<UserLink>, StoreError> {
        let rows: Vec<UserLinkRow> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT l.user_id, l.source_id, l.external_id FROM user_links l \
             JOIN users u ON u.id = l.user_id WHERE u.tenant_id = $1 \
             ORDER BY l.source_id, l.external_id",
        )
        .bind(tenant.as_str())
        .fetch_all(pool)
        .await)?;
        rows.into_iter().map(UserLink::try_from).collect()
    }
}

#[async_trait::async_trait]
impl SourceStore for Store {
    async fn create_source(&self, new: &NewSource) -> Result<Source, StoreError> {
        let inserted = on_pool!(self, |pool| {
            sqlx::query_as::<_, SourceRow>(&format!(
                "INSERT INTO sources (id, tenant_id, kind, secret, account_id, \
                 api_url, api_key, created_at) \
                 SELECT $1, id, $2, $3, $4, $5, $6, $7 FROM tenants WHERE id = $8 \
                 RETURNING {SOURCE_COLUMNS}"
            ))
            .bind(SourceId::generate().as_str())
            .bind(new.kind.as_str())
            .bind(new.secret.expose_secret())
            .bind(new.account_id.as_deref())
            .bind(new.api.as_ref().map(|a| a.url.as_str()))
            .bind(new.api.as_ref().map(|a| a.key.expose_secret()))
            .bind(chrono::Utc::now())
            .bind(new.tenant_id.as_str())
            .fetch_optional(pool)
            .await
        })?;
        inserted
            .ok_or_else(|| StoreError::NotFound(format!("no tenant {}", new.tenant_id)))?
            .try_into()
    }

    async fn source(&self, id: &SourceId) -> Result<Option<Source>, StoreError> {
        let row: Option<SourceRow> = on_pool!(self, |pool| sqlx::query_as(&format!(
            "SELECT {SOURCE_COLUMNS} FROM sources WHERE id = $1"
        ))
        .bind(id.as_str())
        .fetch_optional(pool)
        .await)?;
        row.map(Source::try_from).transpose()
    }

    async fn sources(&self, tenant: &TenantId) -> Result<Vec<Source>, StoreError> {
        let rows: Vec<SourceRow> = on_pool!(self, |pool| sqlx::query_as(&format!(
            "SELECT {SOURCE_COLUMNS} FROM sources WHERE tenant_id = $1 ORDER BY id"
        ))
        .bind(tenant.as_str())
        .fetch_all(pool)
        .await)?;
        rows.into_iter().map(Source::try_from).collect()
    }

    async fn name_queue(&self, queue: &NamedQueue) -> Result<(), StoreError> {
        let done = on_pool!(self, |pool| sqlx::query(
            "INSERT INTO queues (source_id, external_id, name, created_at) \
             SELECT id, $1, $2, $3 FROM sources WHERE id = $4 \
             ON CONFLICT (source_id, external_id) DO UPDATE SET name = excluded.name",
        )
        .bind(&queue.external_id)
        .bind(&queue.name)
        .bind(chrono::Utc::now())
        .bind(queue.source_id.as_str())
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        if done == 0 {
            return Err(StoreError::NotFound(format!(
                "no source {}",
                queue.source_id
            )));
        }
        Ok(())
    }

    async fn queues(&self, source: &SourceId) -> Result<Vec<NamedQueue>, StoreError> {
        let rows: Vec<(String, String)> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT external_id, name FROM queues WHERE source_id = $1 ORDER BY \
             external_id",
        )
        .bind(source.as_str())
        .fetch_all(pool)
        .await)?;
        Ok(rows
            .into_iter()
            .map(|(external_id, name)| NamedQueue {
                source_id: source.clone(),
                external_id,
                name,
            })
            .collect())
    }

    async fn forget_queue(&self, source: &SourceId, external_id: &str) -> Result<bool, StoreError> {
        let done = on_pool!(self, |pool| sqlx::query(
            "DELETE FROM queues WHERE source_id = $1 AND external_id = $2"
        )
        .bind(source.as_str())
        .bind(external_id)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(done > 0)
    }
}

#[async_trait::async_trait]
impl ClientStore for Store {
    async fn create_client(&self, new: &NewOAuthClient) -> Result<OAuthClient, StoreError> {
        let uris: Vec<&str> = new.redirect_uris.iter().map(|u| u.as_str()).collect();
        let uris = serde_json::to_string(&uris).map_err(|e| StoreError::Invalid(e.to_string()))?;
        let row: ClientRow = on_pool!(self, |pool| {
            sqlx::query_as(
                "INSERT INTO oauth_clients (id, name, secret_hash, redirect_uris, created_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id, name, secret_hash, \
                 redirect_uris, created_at",
            )
            .bind(ClientId::generate().as_str())
            .bind(&new.name)
            .bind(&new.secret_hash)
            .bind(uris)
            .bind(chrono::Utc::now())
            .fetch_one(pool)
            .await
        })?;
        row.try_into()
    }

    async fn client(&self, id: &ClientId) -> Result<Option<OAuthClient>, StoreError> {
        let row: Option<ClientRow> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, name, secret_hash, redirect_uris, created_at FROM \
                 oauth_clients WHERE id = $1",
            )
            .bind(id.as_str())
            .fetch_optional(pool)
            .await
        })?;
        row.map(OAuthClient::try_from).transpose()
    }
}
