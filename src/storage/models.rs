//! What the stores hold, as domain values. Rows are converted at the storage boundary, so the
//! rest of the code never sees an unparsed id, number or URL.

use crate::domain::{
    ClientId, CountryCode, E164Number, EmailAddress, RedirectUri, SourceId, SourceKind, TenantId,
    UserId, WebUrl,
};
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    /// Numbering plan for national numbers from this tenant's PBX.
    #[serde(serialize_with = "serialize_country")]
    pub default_country: CountryCode,
    pub created_at: DateTime<Utc>,
}

fn serialize_country<S: serde::Serializer>(c: &CountryCode, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(c.as_str())
}

#[derive(Clone, Debug)]
pub struct NewTenant {
    pub name: String,
    pub default_country: CountryCode,
}

/// A tenant's user. The password hash is not part of it: only login reads it.
#[derive(Clone, Debug, Serialize)]
pub struct User {
    pub id: UserId,
    pub tenant_id: TenantId,
    pub email: EmailAddress,
    pub name: String,
    pub extension: Option<String>,
    pub number: Option<E164Number>,
    pub is_admin: bool,
    pub created_at: DateTime<Utc>,
    /// Set while the user may not sign in (their grants were revoked when it was set).
    pub disabled_at: Option<DateTime<Utc>>,
}

/// A user and the PHC-format argon2 hash of their password, for login.
pub struct UserCredentials {
    pub user: User,
    pub password_hash: Option<SecretString>,
}

#[derive(Clone, Debug)]
pub struct NewUser {
    pub tenant_id: TenantId,
    pub email: EmailAddress,
    pub name: String,
    pub extension: Option<String>,
    pub number: Option<E164Number>,
    pub is_admin: bool,
    /// PHC string from argon2; `None` for users who never sign in themselves.
    pub password_hash: Option<SecretString>,
    pub links: Vec<NewUserLink>,
}

/// How a source names a user (Kazoo `owner_id`, Zoom `user_id`, an extension).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NewUserLink {
    pub source_id: SourceId,
    pub external_id: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UserLink {
    pub user_id: UserId,
    pub source_id: SourceId,
    pub external_id: String,
}

/// A queue's readable name, keyed by the id its source uses for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NamedQueue {
    pub source_id: SourceId,
    pub external_id: String,
    pub name: String,
}

/// A phone system that pushes events. The secret verifies its requests, so it is kept
/// recoverable (HMAC needs the key); it is wrapped so it never prints.
#[derive(Clone, Debug)]
pub struct Source {
    pub id: SourceId,
    pub tenant_id: TenantId,
    pub kind: SourceKind,
    pub secret: SecretString,
    /// The PBX's own account id (Kazoo account, Zoom account), needed to place calls.
    pub account_id: Option<String>,
    pub api: Option<PbxApi>,
    pub created_at: DateTime<Utc>,
    /// Set while the source's requests are refused.
    pub disabled_at: Option<DateTime<Utc>>,
    /// The secret before the last rotation, still accepted until its grace period ends.
    pub previous_secret: Option<PreviousSecret>,
}

/// A rotated-out source secret and the end of its grace period.
#[derive(Clone, Debug)]
pub struct PreviousSecret {
    pub secret: SecretString,
    pub until: DateTime<Utc>,
}

impl Source {
    /// The previous secret if its grace period has not ended at `now`.
    pub fn previous_secret_at(&self, now: DateTime<Utc>) -> Option<&SecretString> {
        self.previous_secret
            .as_ref()
            .filter(|previous| now < previous.until)
            .map(|previous| &previous.secret)
    }
}

/// Where and how ringhook calls the PBX's API (click-to-call).
#[derive(Clone, Debug)]
pub struct PbxApi {
    pub url: WebUrl,
    pub key: SecretString,
}

#[derive(Clone, Debug)]
pub struct NewSource {
    pub tenant_id: TenantId,
    pub kind: SourceKind,
    pub secret: SecretString,
    pub account_id: Option<String>,
    pub api: Option<PbxApi>,
}

/// A registered OAuth client. Only a SHA-256 hash of its (high-entropy) secret is kept.
#[derive(Clone, Debug)]
pub struct OAuthClient {
    pub id: ClientId,
    pub name: String,
    pub secret_hash: String,
    pub redirect_uris: Vec<RedirectUri>,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct NewOAuthClient {
    pub name: String,
    pub secret_hash: String,
    pub redirect_uris: Vec<RedirectUri>,
}

/// Connection pool figures for `/metrics`.
#[derive(Clone, Copy, Debug, Default)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}
