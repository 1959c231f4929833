//! Raw rows as both backends return them, and their checked conversion to domain values.

use super::StoreError;
use super::error::corrupt;
use super::models::*;
use crate::domain::{
    ClientId, CountryCode, E164Number, EmailAddress, RedirectUri, SourceId, SourceKind, TenantId,
    UserId, WebUrl,
};
use chrono::{DateTime, Utc};
use secrecy::SecretString;

pub(super) fn tenant_id(raw: &str) -> Result<TenantId, StoreError> {
    TenantId::parse(raw).ok_or_else(|| corrupt("tenant id", raw))
}

pub(super) fn user_id(raw: &str) -> Result<UserId, StoreError> {
    UserId::parse(raw).ok_or_else(|| corrupt("user id", raw))
}

pub(super) fn source_id(raw: &str) -> Result<SourceId, StoreError> {
    SourceId::parse(raw).ok_or_else(|| corrupt("source id", raw))
}

#[derive(sqlx::FromRow)]
pub(super) struct TenantRow {
    pub id: String,
    pub name: String,
    pub default_country: String,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<TenantRow> for Tenant {
    type Error = StoreError;
    fn try_from(row: TenantRow) -> Result<Self, StoreError> {
        Ok(Tenant {
            id: tenant_id(&row.id)?,
            name: row.name,
            default_country: CountryCode::parse(&row.default_country)
                .map_err(|_| corrupt("country", &row.default_country))?,
            created_at: row.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct UserRow {
    pub id: String,
    pub tenant_id: String,
    pub email: String,
    pub name: String,
    pub extension: Option<String>,
    pub number: Option<String>,
    pub is_admin: bool,
    pub password_hash: Option<String>,
    pub created_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
}

impl UserRow {
    pub fn into_credentials(self) -> Result<UserCredentials, StoreError> {
        let password_hash = self.password_hash.clone().map(SecretString::from);
        Ok(UserCredentials {
            user: self.try_into()?,
            password_hash,
        })
    }
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(row: UserRow) -> Result<Self, StoreError> {
        let number = match row.number {
            Some(n) => Some(E164Number::try_from(n.clone()).map_err(|_| corrupt("number", &n))?),
            None => None,
        };
        Ok(User {
            id: user_id(&row.id)?,
            tenant_id: tenant_id(&row.tenant_id)?,
            email: EmailAddress::parse(&row.email).map_err(|_| corrupt("email", &row.email))?,
            name: row.name,
            extension: row.extension,
            number,
            is_admin: row.is_admin,
            created_at: row.created_at,
            disabled_at: row.disabled_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct UserLinkRow {
    pub user_id: String,
    pub source_id: String,
    pub external_id: String,
}

impl TryFrom<UserLinkRow> for UserLink {
    type Error = StoreError;
    fn try_from(row: UserLinkRow) -> Result<Self, StoreError> {
        Ok(UserLink {
            user_id: user_id(&row.user_id)?,
            source_id: source_id(&row.source_id)?,
            external_id: row.external_id,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct SourceRow {
    pub id: String,
    pub tenant_id: String,
    pub kind: String,
    pub secret: String,
    pub account_id: Option<String>,
    pub api_url: Option<String>,
    pub api_key: Option<String>,
    pub created_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<DateTime<Utc>>,
}

impl TryFrom<SourceRow> for Source {
    type Error = StoreError;
    fn try_from(row: SourceRow) -> Result<Self, StoreError> {
        let api = match (row.api_url, row.api_key) {
            (Some(url), Some(key)) => Some(PbxApi {
                url: WebUrl::parse(&url).map_err(|_| corrupt("api url", &url))?,
                key: SecretString::from(key),
            }),
            _ => None,
        };
        Ok(Source {
            id: source_id(&row.id)?,
            tenant_id: tenant_id(&row.tenant_id)?,
            kind: row
                .kind
                .parse::<SourceKind>()
                .map_err(|_| corrupt("source kind", &row.kind))?,
            secret: SecretString::from(row.secret),
            account_id: row.account_id,
            api,
            created_at: row.created_at,
            disabled_at: row.disabled_at,
            previous_secret: match (row.previous_secret, row.previous_secret_until) {
                (Some(secret), Some(until)) => Some(PreviousSecret {
                    secret: SecretString::from(secret),
                    until,
                }),
                _ => None,
            },
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct ClientRow {
    pub id: String,
    pub name: String,
    pub secret_hash: String,
    pub redirect_uris: String,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<ClientRow> for OAuthClient {
    type Error = StoreError;
    fn try_from(row: ClientRow) -> Result<Self, StoreError> {
        let raw: Vec<String> = serde_json::from_str(&row.redirect_uris)
            .map_err(|_| corrupt("redirect uris", &row.redirect_uris))?;
        let redirect_uris = raw
            .iter()
            .map(|u| RedirectUri::parse(u).map_err(|_| corrupt("redirect uri", u)))
            .collect::<Result<_, _>>()?;
        Ok(OAuthClient {
            id: ClientId::parse(&row.id).ok_or_else(|| corrupt("client id", &row.id))?,
            name: row.name,
            secret_hash: row.secret_hash,
            redirect_uris,
            created_at: row.created_at,
        })
    }
}
