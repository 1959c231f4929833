//! Hashing of what users and clients prove themselves with.
//! Passwords are low-entropy: argon2id (OWASP's first choice). Client secrets and tokens that
//! ringhook generates carry 256 bits of entropy, so a SHA-256 digest is enough and fast.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("a password must be 8 to 1024 characters long")]
    WeakPassword,
    #[error("could not hash the password")]
    Hashing,
}

/// Argon2id PHC string for a password.
pub fn hash_password(password: &SecretString) -> Result<SecretString, CredentialError> {
    let length = password.expose_secret().chars().count();
    if !(8..=1024).contains(&length) {
        return Err(CredentialError::WeakPassword);
    }
    let hash: PasswordHash = Argon2::default()
        .hash_password(password.expose_secret().as_bytes())
        .map_err(|_| CredentialError::Hashing)?;
    Ok(SecretString::from(hash.to_string()))
}

/// True when `password` matches the stored PHC hash. A malformed hash never matches.
pub fn verify_password(password: &SecretString, stored: &SecretString) -> bool {
    let Ok(parsed) = PasswordHash::new(stored.expose_secret()) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.expose_secret().as_bytes(), &parsed)
        .is_ok()
}

/// Hex SHA-256 of a generated, high-entropy secret, for storage.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares a presented secret with a stored digest in constant time.
pub fn secret_matches(presented: &str, stored_hash: &str) -> bool {
    hash_secret(presented)
        .as_bytes()
        .ct_eq(stored_hash.as_bytes())
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn a_hashed_password_verifies_and_a_wrong_one_does_not() {
        let hash = hash_password(&secret("correct horse")).unwrap();
        assert!(hash.expose_secret().starts_with("$argon2id$"));
        assert!(verify_password(&secret("correct horse"), &hash));
        assert!(!verify_password(&secret("wrong horse"), &hash));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(matches!(
            hash_password(&secret("short")),
            Err(CredentialError::WeakPassword)
        ));
    }

    #[test]
    fn a_malformed_stored_hash_never_matches() {
        assert!(!verify_password(&secret("anything1"), &secret("not-a-phc")));
    }

    #[test]
    fn secrets_match_only_their_own_digest() {
        let stored = hash_secret("s3cret-value");
        assert!(secret_matches("s3cret-value", &stored));
        assert!(!secret_matches("s3cret-valuf", &stored));
    }
}
