//! Access tokens: RFC 9068 JWTs signed with the store's Ed25519 key. They carry the grant id,
//! so the bearer guard can refuse a token whose grant was revoked (JWTs alone cannot be).
//! The clock is passed in, so tests pin expiry.

use super::keys::KeyRing;
use super::scope::ScopeSet;
use crate::domain::{ClientId, GrantId, TenantId, UserId, new_token};
use crate::storage::Grant;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};

/// RFC 9068 §2.1: the `typ` header of a JWT access token.
const TYP: &str = "at+jwt";

/// RFC 9068 §2.2 claims, plus ringhook's tenant (`tid`) and grant (`gid`).
#[derive(Serialize, Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    aud: String,
    exp: i64,
    iat: i64,
    jti: String,
    client_id: String,
    scope: String,
    tid: String,
    gid: String,
}

/// A token that passed signature, type, issuer, audience and expiry checks.
#[derive(Clone, Debug)]
pub struct VerifiedToken {
    pub user_id: UserId,
    pub tenant_id: TenantId,
    pub client_id: ClientId,
    pub grant_id: GrantId,
    pub scope: ScopeSet,
    pub jti: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is malformed or its signature does not verify")]
    Invalid,
    #[error("the token has expired")]
    Expired,
    #[error("the token could not be signed")]
    Signing,
}

/// Issues and verifies access tokens for one issuer.
pub struct AccessTokens {
    issuer: String,
    audience: String,
    lifetime: Duration,
    validation: Validation,
}

impl AccessTokens {
    /// `issuer` is the public base URL (RFC 8414 §2); the audience is the API under it.
    pub fn new(issuer: &str, lifetime: Duration) -> AccessTokens {
        let audience = format!("{issuer}/v1");
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[&audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // Expiry is checked against the caller's clock below.
        validation.validate_exp = false;
        validation.leeway = 0;
        AccessTokens {
            issuer: issuer.to_owned(),
            audience,
            lifetime,
            validation,
        }
    }

    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// A signed token for `scope` (at most the grant's) under `grant`.
    pub fn issue(
        &self,
        keys: &KeyRing,
        grant: &Grant,
        scope: ScopeSet,
        now: DateTime<Utc>,
    ) -> Result<String, TokenError> {
        let key = keys.current();
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some(TYP.into());
        header.kid = Some(key.kid.clone());
        let claims = Claims {
            iss: self.issuer.clone(),
            sub: grant.user_id.to_string(),
            aud: self.audience.clone(),
            exp: (now + self.lifetime).timestamp(),
            iat: now.timestamp(),
            jti: new_token(16),
            client_id: grant.client_id.to_string(),
            scope: scope.to_string(),
            tid: grant.tenant_id.to_string(),
            gid: grant.id.to_string(),
        };
        jsonwebtoken::encode(&header, &claims, &key.encoding).map_err(|_| TokenError::Signing)
    }

    /// Checks the token as RFC 9068 §4 asks: `typ`, signature by a known key, issuer,
    /// audience, and `exp` against `now`.
    pub fn verify(
        &self,
        keys: &KeyRing,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<VerifiedToken, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
        if header.typ.as_deref() != Some(TYP) || header.alg != Algorithm::EdDSA {
            return Err(TokenError::Invalid);
        }
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| keys.find(kid))
            .ok_or(TokenError::Invalid)?;
        let data = jsonwebtoken::decode::<Claims>(token, &key.decoding, &self.validation)
            .map_err(|_| TokenError::Invalid)?;
        let c = data.claims;
        if c.exp <= now.timestamp() {
            return Err(TokenError::Expired);
        }
        let time = |secs| DateTime::from_timestamp(secs, 0).ok_or(TokenError::Invalid);
        Ok(VerifiedToken {
            user_id: UserId::parse(&c.sub).ok_or(TokenError::Invalid)?,
            tenant_id: TenantId::parse(&c.tid).ok_or(TokenError::Invalid)?,
            client_id: ClientId::parse(&c.client_id).ok_or(TokenError::Invalid)?,
            grant_id: GrantId::parse(&c.gid).ok_or(TokenError::Invalid)?,
            scope: ScopeSet::parse(&c.scope).map_err(|_| TokenError::Invalid)?,
            jti: c.jti,
            issued_at: time(c.iat)?,
            expires_at: time(c.exp)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant() -> Grant {
        Grant {
            id: GrantId::generate(),
            client_id: ClientId::generate(),
            user_id: UserId::generate(),
            tenant_id: TenantId::generate(),
            scope: ScopeSet::parse("calls:read calls:write").unwrap(),
            created_at: Utc::now(),
            revoked_at: None,
        }
    }

    fn ring(seed: u8) -> KeyRing {
        KeyRing::from_seeds([seed; 32], [2; 32], [3; 32]).unwrap()
    }

    fn tokens() -> AccessTokens {
        AccessTokens::new("https://hooks.example.net", Duration::hours(1))
    }

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn an_issued_token_verifies_with_its_claims() {
        let (keys, grant) = (ring(1), grant());
        let token = tokens().issue(&keys, &grant, grant.scope, at(0)).unwrap();
        let verified = tokens().verify(&keys, &token, at(10)).unwrap();
        assert_eq!(verified.grant_id, grant.id);
        assert_eq!(verified.user_id, grant.user_id);
        assert_eq!(verified.tenant_id, grant.tenant_id);
        assert_eq!(verified.client_id, grant.client_id);
        assert_eq!(verified.scope, grant.scope);
        assert_eq!(verified.expires_at, at(3600));
    }

    #[test]
    fn the_header_says_at_jwt_and_names_the_key() {
        let (keys, grant) = (ring(1), grant());
        let token = tokens().issue(&keys, &grant, grant.scope, at(0)).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        assert_eq!(header.kid.as_deref(), Some("key_test"));
    }

    #[test]
    fn a_token_is_refused_from_its_expiry_on() {
        let (keys, grant) = (ring(1), grant());
        let token = tokens().issue(&keys, &grant, grant.scope, at(0)).unwrap();
        assert!(tokens().verify(&keys, &token, at(3599)).is_ok());
        assert_eq!(
            tokens().verify(&keys, &token, at(3600)).unwrap_err(),
            TokenError::Expired
        );
    }

    #[test]
    fn a_token_signed_by_another_key_is_refused() {
        let grant = grant();
        let token = tokens()
            .issue(&ring(1), &grant, grant.scope, at(0))
            .unwrap();
        assert_eq!(
            tokens().verify(&ring(9), &token, at(1)).unwrap_err(),
            TokenError::Invalid
        );
    }

    #[test]
    fn a_token_of_another_issuer_is_refused() {
        let (keys, grant) = (ring(1), grant());
        let other = AccessTokens::new("https://evil.example", Duration::hours(1));
        let token = other.issue(&keys, &grant, grant.scope, at(0)).unwrap();
        assert_eq!(
            tokens().verify(&keys, &token, at(1)).unwrap_err(),
            TokenError::Invalid
        );
    }

    #[test]
    fn a_tampered_token_is_refused() {
        let (keys, grant) = (ring(1), grant());
        let token = tokens().issue(&keys, &grant, grant.scope, at(0)).unwrap();
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[1] = parts[1].replace('a', "b");
        assert!(tokens().verify(&keys, &parts.join("."), at(1)).is_err());
        assert!(tokens().verify(&keys, "not.a.jwt", at(1)).is_err());
    }
}
