//! Standard Webhooks signing (spec v1.0.0): the `whsec_` hook secret, the `v1` HMAC-SHA256
//! signature over `{id}.{timestamp}.{body}`, and the headers every delivery carries.
//!
//! Receivers verify with any Standard Webhooks library (the `standardwebhooks` crate, Svix's SDKs),
//! so the format here must match the spec byte for byte; the spec's own test vector pins it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use rand::RngExt;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, USER_AGENT};
use sha2::Sha256;
use std::fmt;

/// Prefix of a symmetric Standard Webhooks secret.
const SECRET_PREFIX: &str = "whsec_";
/// Bytes of entropy in the secrets ringhook generates (the spec allows 24 to 64).
pub const GENERATED_KEY_BYTES: usize = 32;
/// The spec accepts keys of 24 to 64 bytes; anything else was not made by a compliant sender.
const KEY_BYTES: std::ops::RangeInclusive<usize> = 24..=SHA256_BLOCK_BYTES;
const SHA256_BLOCK_BYTES: usize = 64;

pub const WEBHOOK_ID: HeaderName = HeaderName::from_static("webhook-id");
pub const WEBHOOK_TIMESTAMP: HeaderName = HeaderName::from_static("webhook-timestamp");
pub const WEBHOOK_SIGNATURE: HeaderName = HeaderName::from_static("webhook-signature");

/// The `user-agent` of every delivery, so receivers can tell ringhook's traffic apart.
pub const DELIVERY_USER_AGENT: &str = concat!("ringhook/", env!("CARGO_PKG_VERSION"));

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SigningError {
    #[error("a hook secret must start with \"whsec_\"")]
    MissingPrefix,
    #[error("a hook secret must be base64 of 24 to 64 bytes")]
    BadKey,
    #[error("a webhook id must be 1 to 256 visible ASCII characters without '.'")]
    BadMessageId,
}

/// A hook's signing secret: `whsec_` + standard base64 of the key bytes. Only the decoded bytes
/// are the HMAC key (Standard Webhooks §"Symmetric signatures"). Never printed by `Debug`.
#[derive(Clone)]
pub struct HookSecret {
    encoded: String,
    key: Vec<u8>,
}

impl HookSecret {
    /// A fresh secret of [`GENERATED_KEY_BYTES`] random bytes from the thread-local CSPRNG.
    pub fn generate() -> Self {
        let mut key = [0u8; GENERATED_KEY_BYTES];
        rand::rng().fill(&mut key[..]);
        Self::from_key(key)
    }

    /// A secret from given key bytes, so callers and tests can inject the randomness.
    pub fn from_key(key: [u8; GENERATED_KEY_BYTES]) -> Self {
        HookSecret {
            encoded: format!("{SECRET_PREFIX}{}", STANDARD.encode(key)),
            key: key.to_vec(),
        }
    }

    /// Parses a stored or presented `whsec_…` secret, checking the key length the spec allows.
    pub fn parse(raw: &str) -> Result<Self, SigningError> {
        let body = raw
            .strip_prefix(SECRET_PREFIX)
            .ok_or(SigningError::MissingPrefix)?;
        let key = STANDARD.decode(body).map_err(|_| SigningError::BadKey)?;
        if !KEY_BYTES.contains(&key.len()) {
            return Err(SigningError::BadKey);
        }
        Ok(HookSecret {
            encoded: raw.to_owned(),
            key,
        })
    }

    /// The `whsec_…` text, for storage and for showing the subscriber once at creation.
    pub fn expose(&self) -> &str {
        &self.encoded
    }

    /// The key zero-padded to SHA-256's 64-byte block, which is how HMAC treats a key no longer
    /// than a block (RFC 2104 §2); parsing guarantees at most 64 bytes, so no key is ever hashed.
    fn hmac_block(&self) -> [u8; SHA256_BLOCK_BYTES] {
        let mut block = [0u8; SHA256_BLOCK_BYTES];
        block[..self.key.len()].copy_from_slice(&self.key);
        block
    }
}

impl fmt::Debug for HookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HookSecret(whsec_[REDACTED])")
    }
}

/// `v1,<base64 HMAC-SHA256(key, "{msg_id}.{timestamp}.{body}")>`, over the exact bytes sent.
pub fn sign(secret: &HookSecret, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new(&secret.hmac_block().into());
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The headers of one delivery attempt. `msg_id` must be stable across retries (receivers dedupe
/// on it); `timestamp` is the attempt time in Unix seconds. The id must not contain `.`, which
/// would make the signed string ambiguous (spec §"Signature scheme").
pub fn delivery_headers(
    secret: &HookSecret,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<HeaderMap, SigningError> {
    let id_ok = !msg_id.is_empty()
        && msg_id.len() <= 256
        && msg_id.bytes().all(|b| b.is_ascii_graphic() && b != b'.');
    if !id_ok {
        return Err(SigningError::BadMessageId);
    }
    let id = HeaderValue::from_str(msg_id).map_err(|_| SigningError::BadMessageId)?;
    let mut headers = HeaderMap::with_capacity(5);
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(USER_AGENT, HeaderValue::from_static(DELIVERY_USER_AGENT));
    headers.insert(WEBHOOK_ID, id);
    headers.insert(WEBHOOK_TIMESTAMP, HeaderValue::from(timestamp));
    // "v1," and base64 are always valid header characters: this error cannot happen.
    let signature = HeaderValue::try_from(sign(secret, msg_id, timestamp, body))
        .map_err(|_| SigningError::BadKey)?;
    headers.insert(WEBHOOK_SIGNATURE, signature);
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vector of the Standard Webhooks reference libraries.
    const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const SPEC_TIMESTAMP: i64 = 1614265330;
    const SPEC_BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SPEC_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn signing_the_spec_test_vector_gives_the_spec_signature() {
        let secret = HookSecret::parse(SPEC_SECRET).unwrap();
        assert_eq!(
            sign(&secret, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY),
            SPEC_SIGNATURE
        );
    }

    #[test]
    fn signing_the_second_spec_test_vector_gives_its_signature() {
        let secret = HookSecret::parse("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
        let body = br#"{"email":"test@example.com","username":"test_user"}"#;
        assert_eq!(
            sign(&secret, "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", 1649367553, body),
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
        );
    }

    #[test]
    fn the_standardwebhooks_crate_verifies_our_headers() {
        let secret = HookSecret::generate();
        let body = br#"{"id":"evt_01","type":"call.answered"}"#;
        let now = chrono::Utc::now().timestamp();
        let headers = delivery_headers(&secret, "dlv_01abc", now, body).unwrap();
        let verifier = standardwebhooks::Webhook::new(secret.expose()).unwrap();
        assert!(verifier.verify(body, &headers).is_ok());
    }

    #[test]
    fn the_standardwebhooks_crate_rejects_a_tampered_body() {
        let secret = HookSecret::generate();
        let now = chrono::Utc::now().timestamp();
        let headers = delivery_headers(&secret, "dlv_01abc", now, b"{\"a\":1}").unwrap();
        let verifier = standardwebhooks::Webhook::new(secret.expose()).unwrap();
        assert!(verifier.verify(b"{\"a\":2}", &headers).is_err());
    }

    #[test]
    fn delivery_headers_carry_json_content_type_and_our_user_agent() {
        let secret = HookSecret::from_key([7; 32]);
        let headers = delivery_headers(&secret, "dlv_1", 1, b"{}").unwrap();
        assert_eq!(headers[CONTENT_TYPE], "application/json");
        assert_eq!(
            headers[USER_AGENT],
            format!("ringhook/{}", env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(headers[WEBHOOK_ID], "dlv_1");
        assert_eq!(headers[WEBHOOK_TIMESTAMP], "1");
        assert!(
            headers[WEBHOOK_SIGNATURE]
                .to_str()
                .unwrap()
                .starts_with("v1,")
        );
    }

    #[test]
    fn message_ids_with_a_dot_or_control_characters_are_refused() {
        let secret = HookSecret::from_key([7; 32]);
        for id in ["", "dlv.1", "dlv 1", "dlv\n1"] {
            assert_eq!(
                delivery_headers(&secret, id, 1, b"{}").unwrap_err(),
                SigningError::BadMessageId,
                "{id:?}"
            );
        }
    }

    #[test]
    fn generated_secrets_are_whsec_base64_of_32_bytes_and_differ() {
        let a = HookSecret::generate();
        assert!(a.expose().starts_with("whsec_"));
        assert_eq!(STANDARD.decode(&a.expose()[6..]).unwrap().len(), 32);
        assert_ne!(a.expose(), HookSecret::generate().expose());
    }

    #[test]
    fn a_generated_secret_parses_back_to_the_same_key() {
        let secret = HookSecret::from_key([42; 32]);
        let parsed = HookSecret::parse(secret.expose()).unwrap();
        assert_eq!(parsed.key, secret.key);
    }

    #[test]
    fn secrets_without_prefix_or_with_a_bad_key_are_refused() {
        assert_eq!(
            HookSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap_err(),
            SigningError::MissingPrefix
        );
        assert_eq!(
            HookSecret::parse("whsec_not base64!").unwrap_err(),
            SigningError::BadKey
        );
        // 16 bytes: below the spec's minimum of 24.
        assert_eq!(
            HookSecret::parse("whsec_AAAAAAAAAAAAAAAAAAAAAA==").unwrap_err(),
            SigningError::BadKey
        );
    }

    #[test]
    fn a_64_byte_key_signs_like_the_reference_implementation() {
        let secret = HookSecret::parse(&format!("whsec_{}", STANDARD.encode([9u8; 64]))).unwrap();
        let reference = standardwebhooks::Webhook::new(secret.expose()).unwrap();
        assert_eq!(
            sign(&secret, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY),
            reference.sign(SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY).unwrap()
        );
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let secret = HookSecret::parse(SPEC_SECRET).unwrap();
        let shown = format!("{secret:?}");
        assert!(!shown.contains("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
        assert!(shown.contains("REDACTED"));
    }
}
