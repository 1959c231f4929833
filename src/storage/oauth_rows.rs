//! OAuth rows as both backends return them, and their checked conversion to domain values.

use super::StoreError;
use super::error::corrupt;
use super::oauth_models::*;
use super::rows::{tenant_id, user_id};
use crate::domain::{ClientId, GrantId};
use crate::oauth::scope::ScopeSet;
use chrono::{DateTime, Utc};
use secrecy::SecretString;

pub(super) fn scope(raw: &str) -> Result<ScopeSet, StoreError> {
    ScopeSet::parse(raw).map_err(|_| corrupt("scope", raw))
}

pub(super) fn client_id(raw: &str) -> Result<ClientId, StoreError> {
    ClientId::parse(raw).ok_or_else(|| corrupt("client id", raw))
}

pub(super) fn grant_id(raw: &str) -> Result<GrantId, StoreError> {
    GrantId::parse(raw).ok_or_else(|| corrupt("grant id", raw))
}

#[derive(sqlx::FromRow)]
pub(super) struct KeyRow {
    pub id: String,
    pub purpose: String,
    pub generation: i64,
    pub secret: String,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<KeyRow> for OAuthKey {
    type Error = StoreError;
    fn try_from(row: KeyRow) -> Result<Self, StoreError> {
        let purpose = match row.purpose.as_str() {
            "access_token" => KeyPurpose::AccessToken,
            "refresh_successor" => KeyPurpose::RefreshSuccessor,
            "browser_session" => KeyPurpose::BrowserSession,
            other => return Err(corrupt("key purpose", other)),
        };
        Ok(OAuthKey {
            id: row.id,
            purpose,
            generation: row.generation,
            secret: SecretString::from(row.secret),
            created_at: row.created_at,
        })
    }
}

pub(super) const GRANT_COLUMNS: &str =
    "g.id, g.client_id, g.user_id, g.tenant_id, g.scope, g.created_at, g.revoked_at";

#[derive(sqlx::FromRow)]
pub(super) struct GrantRow {
    pub id: String,
    pub client_id: String,
    pub user_id: String,
    pub tenant_id: String,
    pub scope: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl TryFrom<GrantRow> for Grant {
    type Error = StoreError;
    fn try_from(row: GrantRow) -> Result<Self, StoreError> {
        Ok(Grant {
            id: grant_id(&row.id)?,
            client_id: client_id(&row.client_id)?,
            user_id: user_id(&row.user_id)?,
            tenant_id: tenant_id(&row.tenant_id)?,
            scope: scope(&row.scope)?,
            created_at: row.created_at,
            revoked_at: row.revoked_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct CodeRow {
    pub client_id: String,
    pub user_id: String,
    pub tenant_id: String,
    pub redirect_uri: String,
    pub redirect_uri_given: bool,
    pub scope: String,
    pub code_challenge: Option<String>,
    pub expires_at: DateTime<Utc>,
}

impl TryFrom<CodeRow> for AuthCode {
    type Error = StoreError;
    fn try_from(row: CodeRow) -> Result<Self, StoreError> {
        Ok(AuthCode {
            client_id: client_id(&row.client_id)?,
            user_id: user_id(&row.user_id)?,
            tenant_id: tenant_id(&row.tenant_id)?,
            redirect_uri: row.redirect_uri,
            redirect_uri_given: row.redirect_uri_given,
            scope: scope(&row.scope)?,
            code_challenge: row.code_challenge,
            expires_at: row.expires_at,
        })
    }
}
