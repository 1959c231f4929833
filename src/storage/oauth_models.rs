//! What the OAuth store holds and answers. Codes and tokens appear only as SHA-256 digests
//! (`*_hash`): the store never sees a usable secret.

use crate::domain::{ClientId, GrantId, TenantId, UserId};
use crate::oauth::scope::ScopeSet;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::Serialize;

/// What a stored key is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyPurpose {
    /// Ed25519 seed that signs access tokens (RFC 9068).
    AccessToken,
    /// HMAC key that derives a refresh token's successor from the token itself.
    RefreshSuccessor,
    /// HMAC key that signs browser-session and CSRF cookies of the consent page.
    BrowserSession,
}

impl KeyPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyPurpose::AccessToken => "access_token",
            KeyPurpose::RefreshSuccessor => "refresh_successor",
            KeyPurpose::BrowserSession => "browser_session",
        }
    }
}

/// A key as stored: `secret` is base64url of 32 random bytes.
pub struct OAuthKey {
    pub id: String,
    pub purpose: KeyPurpose,
    pub generation: i64,
    pub secret: SecretString,
    pub created_at: DateTime<Utc>,
}

/// A user's consent to a client.
#[derive(Clone, Debug, Serialize)]
pub struct Grant {
    pub id: GrantId,
    pub client_id: ClientId,
    pub user_id: UserId,
    pub tenant_id: TenantId,
    pub scope: ScopeSet,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// An authorization code to store (RFC 6749 §4.1.2).
pub struct NewAuthCode {
    pub code_hash: String,
    pub client_id: ClientId,
    pub user_id: UserId,
    pub tenant_id: TenantId,
    /// The redirect URI the code was sent to (the registered one when the request named none).
    pub redirect_uri: String,
    /// Whether the authorization request named the redirect URI (then the token request must, §4.1.3).
    pub redirect_uri_given: bool,
    pub scope: ScopeSet,
    /// PKCE S256 challenge (RFC 7636); `None` would mark a code issued without PKCE.
    pub code_challenge: Option<String>,
    pub expires_at: DateTime<Utc>,
}

/// A stored code, as the exchange sees it once it has consumed it.
#[derive(Clone, Debug)]
pub struct AuthCode {
    pub client_id: ClientId,
    pub user_id: UserId,
    pub tenant_id: TenantId,
    pub redirect_uri: String,
    pub redirect_uri_given: bool,
    pub scope: ScopeSet,
    pub code_challenge: Option<String>,
    pub expires_at: DateTime<Utc>,
}

/// Why a consumed code does not yield tokens; the code stays used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeRefusal {
    /// RFC 6749 §5.2 error code.
    pub error: &'static str,
    pub description: String,
}

/// What the exchange does with a code it has just consumed: refuse it (the code stays used),
/// or accept it and open a grant.
pub type CodeCheck<'a> = dyn Fn(&AuthCode) -> Result<(), CodeRefusal> + Send + Sync + 'a;

/// A refresh token as introspection and revocation see it.
#[derive(Clone, Debug)]
pub struct RefreshTokenRecord {
    pub grant: Grant,
    pub retired_at: Option<DateTime<Utc>>,
}

/// The outcome of presenting a code.
#[derive(Debug)]
pub enum CodeExchange {
    /// First use: a grant and its first refresh token now exist.
    Issued(Grant),
    /// First use, but the check refused it.
    Refused(CodeRefusal),
    /// The code was used before: the grant issued from it (if any) is now revoked.
    Replayed { revoked: Option<GrantId> },
    /// No such code.
    Unknown,
}

/// What a refresh token request presents.
pub struct RefreshRequest<'a> {
    pub token_hash: &'a str,
    pub successor_hash: &'a str,
    pub client_id: &'a ClientId,
    pub now: DateTime<Utc>,
    /// How long a retired token still yields its successor.
    pub grace: chrono::Duration,
    /// A narrower scope asked for (RFC 6749 §6); wider than the grant's refuses without rotating.
    pub scope: Option<ScopeSet>,
}

/// The outcome of presenting a refresh token.
#[derive(Debug)]
pub enum RefreshOutcome {
    /// The token was current (now retired) or retired within the grace window: its successor
    /// is stored, and the grant (with whether its user is still an admin) is returned.
    Rotated { grant: Grant, user_is_admin: bool },
    /// Retired before the grace window: the whole grant is now revoked (RFC 9700 §4.14.2).
    Reused { revoked: GrantId },
    /// The requested scope is not within the grant's; nothing changed.
    ScopeNotGranted,
    /// Unknown token, another client's token, or a revoked grant.
    Invalid,
}

/// A grant with what the bearer guard re-checks on each request.
#[derive(Clone, Debug)]
pub struct GrantStatus {
    pub grant: Grant,
    pub user: super::User,
    pub tenant_name: String,
    /// Access tokens of this grant revoked one by one and not yet expired.
    pub revoked_jtis: Vec<String>,
}
