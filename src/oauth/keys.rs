//! The keys the authorization server signs with, kept in the store so that every instance
//! sharing a database signs and verifies alike: an Ed25519 key for access tokens (RFC 9068,
//! published in the JWKS), an HMAC key that derives refresh-token successors, and an HMAC key
//! for the consent page's cookies. Created on first start (insert-if-none).

use super::metadata::{Jwks, PublicJwk};
use crate::domain::new_token;
use crate::storage::{KeyPurpose, OAuthKey, Storage, StoreError};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use secrecy::ExposeSecret;
use sha2::Sha256;
use std::fmt;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stored key {0} is not 32 bytes of base64url")]
    Malformed(String),
    #[error("no {0} key is stored")]
    Missing(&'static str),
    #[error("cannot use stored signing key {0}: {1}")]
    Unusable(String, jsonwebtoken::errors::Error),
}

/// An Ed25519 access-token key, with its decoding half prepared once.
pub struct SigningKey {
    pub kid: String,
    pub(super) encoding: EncodingKey,
    pub(super) decoding: DecodingKey,
    /// The public key, base64url (JWK `x`).
    x: String,
}

/// A 32-byte HMAC key.
struct MacKey([u8; 32]);

/// Every key the server uses. `Debug` shows key ids only.
pub struct KeyRing {
    /// Newest first: the first signs, all verify.
    signing: Vec<SigningKey>,
    refresh: MacKey,
    session: MacKey,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kids: Vec<&str> = self.signing.iter().map(|k| k.kid.as_str()).collect();
        f.debug_struct("KeyRing")
            .field("signing", &kids)
            .finish_non_exhaustive()
    }
}

/// PKCS#8 v1 wrapping of an Ed25519 seed (RFC 8410 §7): a fixed 16-byte prefix.
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

fn seed(key: &OAuthKey) -> Result<[u8; 32], KeyError> {
    URL_SAFE_NO_PAD
        .decode(key.secret.expose_secret())
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or_else(|| KeyError::Malformed(key.id.clone()))
}

impl SigningKey {
    fn from_seed(kid: String, seed: &[u8; 32]) -> Result<SigningKey, KeyError> {
        let mut der = ED25519_PKCS8_PREFIX.to_vec();
        der.extend_from_slice(seed);
        let encoding = EncodingKey::from_ed_der(&der);
        let jwk = Jwk::from_encoding_key(&encoding, Algorithm::EdDSA)
            .map_err(|e| KeyError::Unusable(kid.clone(), e))?;
        let AlgorithmParameters::OctetKeyPair(params) = jwk.algorithm else {
            return Err(KeyError::Malformed(kid));
        };
        let decoding = DecodingKey::from_ed_components(&params.x)
            .map_err(|e| KeyError::Unusable(kid.clone(), e))?;
        Ok(SigningKey {
            kid,
            encoding,
            decoding,
            x: params.x,
        })
    }
}

impl KeyRing {
    /// Loads the keys, creating each on first start. Instances racing on an empty database
    /// all end up with the one key that won the insert.
    pub async fn load_or_create(
        store: &dyn Storage,
        now: DateTime<Utc>,
    ) -> Result<KeyRing, KeyError> {
        let load = async |purpose: KeyPurpose| {
            let candidate = new_token(32).into();
            store.ensure_key(purpose, &candidate, now).await
        };
        let signing = load(KeyPurpose::AccessToken)
            .await?
            .iter()
            .map(|k| SigningKey::from_seed(k.id.clone(), &seed(k)?))
            .collect::<Result<Vec<_>, _>>()?;
        let mac = |keys: Vec<OAuthKey>, what| -> Result<MacKey, KeyError> {
            keys.first()
                .map(seed)
                .transpose()?
                .map(MacKey)
                .ok_or(KeyError::Missing(what))
        };
        let refresh = mac(
            load(KeyPurpose::RefreshSuccessor).await?,
            "refresh_successor",
        )?;
        let session = mac(load(KeyPurpose::BrowserSession).await?, "browser_session")?;
        if signing.is_empty() {
            return Err(KeyError::Missing("access_token"));
        }
        Ok(KeyRing {
            signing,
            refresh,
            session,
        })
    }

    /// A ring from fixed seeds, for tests.
    pub fn from_seeds(
        signing: [u8; 32],
        refresh: [u8; 32],
        session: [u8; 32],
    ) -> Result<KeyRing, KeyError> {
        Ok(KeyRing {
            signing: vec![SigningKey::from_seed("key_test".into(), &signing)?],
            refresh: MacKey(refresh),
            session: MacKey(session),
        })
    }

    /// The key that signs new access tokens.
    pub fn current(&self) -> &SigningKey {
        &self.signing[0]
    }

    pub fn find(&self, kid: &str) -> Option<&SigningKey> {
        self.signing.iter().find(|k| k.kid == kid)
    }

    /// The JWK Set (RFC 7517 §5) of every verifying key.
    pub fn jwks(&self) -> Jwks {
        Jwks {
            keys: self
                .signing
                .iter()
                .map(|k| PublicJwk::ed25519(&k.kid, &k.x))
                .collect(),
        }
    }

    /// The successor of a refresh token: base64url(HMAC-SHA256(key, token)). Deterministic, so
    /// every presentation of one token within the grace window yields the same successor.
    pub fn refresh_successor(&self, token: &str) -> String {
        URL_SAFE_NO_PAD.encode(mac(&self.refresh, token.as_bytes()))
    }

    /// HMAC of a browser cookie's payload.
    pub fn session_mac(&self, payload: &str) -> String {
        URL_SAFE_NO_PAD.encode(mac(&self.session, payload.as_bytes()))
    }
}

fn mac(key: &MacKey, message: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key.0)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(message);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn successors_are_deterministic_and_depend_on_the_token() {
        let ring = KeyRing::from_seeds([1; 32], [2; 32], [3; 32]).unwrap();
        let a = ring.refresh_successor("token-a");
        assert_eq!(a, ring.refresh_successor("token-a"));
        assert_ne!(a, ring.refresh_successor("token-b"));
        assert_eq!(a.len(), 43);
    }

    #[test]
    fn the_jwks_publishes_the_public_key_only() {
        let ring = KeyRing::from_seeds([1; 32], [2; 32], [3; 32]).unwrap();
        let jwks = serde_json::to_value(ring.jwks()).unwrap();
        let key = &jwks["keys"][0];
        assert_eq!(key["kty"], "OKP");
        assert_eq!(key["crv"], "Ed25519");
        assert_eq!(key.as_object().unwrap().len(), 6);
        assert!(!format!("{ring:?}").contains("refresh:"));
    }
}
