//! PKCE (RFC 7636) with the S256 method only: `plain` offers no protection once the request
//! leaks, so RFC 9700 §2.1.1 leaves S256 as the one method to accept.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// `code_verifier` = 43 to 128 unreserved characters (RFC 7636 §4.1).
pub fn is_valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len()) && verifier.bytes().all(is_unreserved)
}

/// An S256 `code_challenge` is base64url(SHA-256), 43 characters without padding (§4.2).
pub fn is_valid_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// BASE64URL(SHA256(ASCII(code_verifier))) (§4.2).
pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// True when the verifier is well formed and hashes to the challenge; compared in constant time.
pub fn verifies(verifier: &str, challenge: &str) -> bool {
    is_valid_verifier(verifier) && bool::from(s256(verifier).as_bytes().ct_eq(challenge.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn the_rfc_example_verifies() {
        assert_eq!(s256(VERIFIER), CHALLENGE);
        assert!(verifies(VERIFIER, CHALLENGE));
        assert!(is_valid_challenge(CHALLENGE));
    }

    #[test]
    fn another_verifier_does_not() {
        let other = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK";
        assert!(!verifies(other, CHALLENGE));
    }

    #[test]
    fn verifiers_outside_43_to_128_unreserved_characters_are_malformed() {
        assert!(!is_valid_verifier(&"a".repeat(42)));
        assert!(is_valid_verifier(&"a".repeat(43)));
        assert!(is_valid_verifier(&"a~.-_".repeat(25)));
        assert!(!is_valid_verifier(&"a".repeat(129)));
        assert!(!is_valid_verifier(&format!("{}+", "a".repeat(43))));
    }

    #[test]
    fn a_plain_challenge_is_not_an_s256_challenge() {
        assert!(!is_valid_challenge(VERIFIER.trim_end_matches('k')));
        assert!(!is_valid_challenge(&"a".repeat(44)));
    }
}
