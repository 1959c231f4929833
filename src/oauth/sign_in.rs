//! Password sign-in that takes as long for an email nobody has as for a wrong password: when no
//! account with a password matches the email, the password is still checked, against a dummy
//! argon2 hash, so the answer's timing does not tell which emails have accounts (OWASP
//! Authentication Cheat Sheet, "Authentication Responses").

use crate::credentials;
use crate::domain::EmailAddress;
use crate::storage::{Storage, User};
use secrecy::SecretString;
use std::sync::LazyLock;

/// The user whose password matches, among every user with this email (several tenants), for
/// the consent page and the console alike. An email that is malformed or unknown costs the
/// same argon2 check as a wrong password ([`match_password`]). Argon2 runs off the async
/// workers. `Err` when the store cannot be read.
pub async fn authenticate(
    store: &dyn Storage,
    email: &str,
    password: &str,
) -> Result<Option<User>, ()> {
    let candidates = match EmailAddress::parse(email) {
        Ok(email) => store.users_by_email(&email).await.map_err(|e| {
            tracing::error!(error = %e, "cannot load users for sign-in");
        })?,
        Err(_) => Vec::new(),
    };
    let password = SecretString::from(password.to_owned());
    let candidates = candidates.into_iter().map(|c| (c.user, c.password_hash));
    actix_web::web::block(move || match_password(candidates, &password))
        .await
        .map_err(|_| ())
}

/// An argon2id hash made with the same parameters as real password hashes (so verifying against
/// it costs the same), of a password nobody types. Made once, on first use.
static DUMMY_HASH: LazyLock<Option<SecretString>> = LazyLock::new(|| {
    let nobody = SecretString::from("the password of no ringhook account".to_owned());
    credentials::hash_password(&nobody).ok()
});

/// The user among `candidates` (user, stored password hash) whose hash `password` matches.
/// Every candidate with a hash is checked; when there is none, the dummy hash is checked.
pub fn match_password<U>(
    candidates: impl IntoIterator<Item = (U, Option<SecretString>)>,
    password: &SecretString,
) -> Option<U> {
    match_password_with(
        candidates,
        password,
        DUMMY_HASH.as_ref(),
        &credentials::verify_password,
    )
}

/// [`match_password`] with the dummy hash and the verifier passed in, so tests can see them used.
fn match_password_with<U>(
    candidates: impl IntoIterator<Item = (U, Option<SecretString>)>,
    password: &SecretString,
    dummy: Option<&SecretString>,
    verify: &dyn Fn(&SecretString, &SecretString) -> bool,
) -> Option<U> {
    let mut checked = false;
    let mut matched = None;
    for (user, hash) in candidates {
        let Some(hash) = hash else {
            continue;
        };
        checked = true;
        if verify(password, &hash) && matched.is_none() {
            matched = Some(user);
        }
    }
    if !checked && let Some(dummy) = dummy {
        // The answer is known (no match); only the time spent matters.
        let _ = verify(password, dummy);
    }
    matched
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::cell::RefCell;
    use std::time::{Duration, Instant};

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    /// Runs `match_password_with` with a verifier that records which hashes it was given and
    /// matches when the hash is `"hash:" + password`.
    fn recorded(
        candidates: Vec<(&'static str, Option<SecretString>)>,
        password: &str,
    ) -> (Option<&'static str>, Vec<String>) {
        let seen = RefCell::new(Vec::new());
        let verify = |password: &SecretString, hash: &SecretString| {
            seen.borrow_mut().push(hash.expose_secret().to_owned());
            hash.expose_secret() == format!("hash:{}", password.expose_secret())
        };
        let dummy = secret("dummy");
        let matched = match_password_with(candidates, &secret(password), Some(&dummy), &verify);
        (matched, seen.into_inner())
    }

    #[test]
    fn an_unknown_email_is_checked_against_the_dummy_hash() {
        let (matched, seen) = recorded(Vec::new(), "guess");
        assert_eq!(matched, None);
        assert_eq!(seen, ["dummy"]);
    }

    #[test]
    fn accounts_without_a_password_are_checked_against_the_dummy_hash() {
        let (matched, seen) = recorded(vec![("sso-only", None)], "guess");
        assert_eq!(matched, None);
        assert_eq!(seen, ["dummy"]);
    }

    #[test]
    fn a_known_email_is_checked_against_its_own_hash_only() {
        let (matched, seen) = recorded(vec![("alice", Some(secret("hash:pw")))], "wrong");
        assert_eq!(matched, None);
        assert_eq!(seen, ["hash:pw"]);
    }

    #[test]
    fn the_matching_account_is_returned_after_every_account_was_checked() {
        let candidates = vec![
            ("alice@acme", Some(secret("hash:pw"))),
            ("alice@other", Some(secret("hash:other"))),
        ];
        let (matched, seen) = recorded(candidates, "pw");
        assert_eq!(matched, Some("alice@acme"));
        assert_eq!(seen, ["hash:pw", "hash:other"]);
    }

    #[test]
    fn the_dummy_hash_has_the_parameters_of_real_password_hashes() {
        let real = credentials::hash_password(&secret("a real password")).unwrap();
        let dummy = DUMMY_HASH.as_ref().unwrap();
        let params = |phc: &str| phc.split('$').take(4).collect::<Vec<_>>().join("$");
        assert_eq!(params(dummy.expose_secret()), params(real.expose_secret()));
        assert!(dummy.expose_secret().starts_with("$argon2id$"));
    }

    fn median_time(run: impl Fn()) -> Duration {
        let mut times: Vec<Duration> = (0..5)
            .map(|_| {
                let started = Instant::now();
                run();
                started.elapsed()
            })
            .collect();
        times.sort();
        times[2]
    }

    #[test]
    fn an_unknown_email_takes_about_as_long_as_a_wrong_password() {
        let real = credentials::hash_password(&secret("the right password")).unwrap();
        LazyLock::force(&DUMMY_HASH);
        let wrong = secret("a wrong password");
        let known = median_time(|| {
            assert!(match_password([((), Some(real.clone()))], &wrong).is_none());
        });
        let unknown = median_time(|| {
            assert!(match_password(Vec::<((), Option<SecretString>)>::new(), &wrong).is_none());
        });
        let ratio = unknown.as_secs_f64() / known.as_secs_f64();
        assert!(
            (0.33..=3.0).contains(&ratio),
            "unknown email {unknown:?}, wrong password {known:?}"
        );
    }
}
