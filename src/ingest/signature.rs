//! HMAC-SHA256 helpers shared by the signed sources, with constant-time comparison.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// Lowercase hex HMAC-SHA256 of `message` under `secret`.
/// `None` only if the HMAC implementation refuses the key, which it does for no length.
pub fn hmac_sha256_hex(secret: &[u8], message: &[u8]) -> Option<String> {
    Some(hex::encode(
        mac(secret, &[message])?.finalize().into_bytes(),
    ))
}

/// Whether `hex_signature` is the HMAC-SHA256 of the concatenated `parts`, compared in constant
/// time so response timing leaks nothing about the expected value.
pub fn verify_hmac_sha256_hex(secret: &[u8], parts: &[&[u8]], hex_signature: &str) -> bool {
    let Ok(given) = hex::decode(hex_signature.trim()) else {
        return false;
    };
    mac(secret, parts).is_some_and(|m| m.verify_slice(&given).is_ok())
}

/// Constant-time equality of two secrets (their lengths may leak, their content does not).
pub fn secrets_equal(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

fn mac(secret: &[u8], parts: &[&[u8]]) -> Option<HmacSha256> {
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(secret).ok()?;
    for part in parts {
        mac.update(part);
    }
    Some(mac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_made_with_the_secret_verifies() {
        let sig = hmac_sha256_hex(b"k", b"hello world").unwrap();
        assert!(verify_hmac_sha256_hex(b"k", &[b"hello ", b"world"], &sig));
    }

    #[test]
    fn a_signature_made_with_another_secret_or_not_hex_is_refused() {
        let sig = hmac_sha256_hex(b"other", b"hello").unwrap();
        assert!(!verify_hmac_sha256_hex(b"k", &[b"hello"], &sig));
        assert!(!verify_hmac_sha256_hex(b"k", &[b"hello"], "zz"));
    }

    #[test]
    fn secrets_compare_by_content() {
        assert!(secrets_equal("abc", "abc"));
        assert!(!secrets_equal("abc", "abd"));
        assert!(!secrets_equal("abc", "ab"));
    }
}
