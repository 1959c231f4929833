//! Sign-in throttling, per account and per address: after a few wrong passwords in a short
//! window, further attempts are refused for a short lockout. Short on purpose: a stranger who
//! guesses at someone's email locks the real user out for a minute at most, while guessing
//! stays far too slow to succeed. A successful sign-in clears its account's failures. Kept in
//! memory, per instance (an attacker spread over instances gets a few more tries).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures counted within this window.
const WINDOW: Duration = Duration::from_secs(15 * 60);
/// How long a locked account or address waits.
pub const LOCKOUT: Duration = Duration::from_secs(60);
/// Wrong passwords per account within the window before a lockout.
const ACCOUNT_FAILURES: u32 = 5;
/// Wrong passwords from one address within the window (many accounts) before a lockout.
const ADDRESS_FAILURES: u32 = 20;
/// Entries kept before stale ones are swept.
const SWEEP_ABOVE: usize = 10_000;

#[derive(Clone, Copy)]
struct Failures {
    count: u32,
    first: Instant,
    locked_until: Option<Instant>,
}

#[derive(Default)]
pub struct SignInThrottle {
    keys: Mutex<HashMap<String, Failures>>,
}

fn keys(email: &str, address: Option<IpAddr>) -> [Option<(String, u32)>; 2] {
    [
        Some((
            format!("account:{}", email.trim().to_lowercase()),
            ACCOUNT_FAILURES,
        )),
        address.map(|a| (format!("address:{a}"), ADDRESS_FAILURES)),
    ]
}

impl SignInThrottle {
    /// `Err(wait)` while the account or the address is locked out.
    pub fn check(
        &self,
        email: &str,
        address: Option<IpAddr>,
        now: Instant,
    ) -> Result<(), Duration> {
        let Ok(map) = self.keys.lock() else {
            return Ok(());
        };
        let wait = keys(email, address)
            .into_iter()
            .flatten()
            .filter_map(|(key, _)| map.get(&key)?.locked_until)
            .filter(|until| *until > now)
            .map(|until| until - now)
            .max();
        wait.map_or(Ok(()), Err)
    }

    /// Counts a wrong password against the account and the address.
    pub fn failed(&self, email: &str, address: Option<IpAddr>, now: Instant) {
        let Ok(mut map) = self.keys.lock() else {
            return;
        };
        if map.len() > SWEEP_ABOVE {
            map.retain(|_, f| now.duration_since(f.first) < WINDOW);
        }
        for (key, limit) in keys(email, address).into_iter().flatten() {
            let entry = map.entry(key).or_insert(Failures {
                count: 0,
                first: now,
                locked_until: None,
            });
            if now.duration_since(entry.first) >= WINDOW {
                *entry = Failures {
                    count: 0,
                    first: now,
                    locked_until: None,
                };
            }
            entry.count += 1;
            if entry.count >= limit {
                entry.locked_until = Some(now + LOCKOUT);
                entry.count = 0;
                entry.first = now;
            }
        }
    }

    /// A correct password: the account's failures are forgotten (the address's are not).
    pub fn succeeded(&self, email: &str) {
        if let Ok(mut map) = self.keys.lock() {
            map.remove(&format!("account:{}", email.trim().to_lowercase()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOME: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1)));

    #[test]
    fn five_wrong_passwords_lock_the_account_for_a_minute_only() {
        let throttle = SignInThrottle::default();
        let start = Instant::now();
        for _ in 0..4 {
            throttle.failed("Al@Acme.test", HOME, start);
        }
        assert!(throttle.check("al@acme.test", None, start).is_ok());
        throttle.failed("al@acme.test", HOME, start);
        assert!(throttle.check("al@acme.test", None, start).is_err());
        assert!(throttle.check("bo@acme.test", None, start).is_ok());
        assert!(
            throttle
                .check("al@acme.test", None, start + LOCKOUT)
                .is_ok()
        );
    }

    #[test]
    fn many_accounts_from_one_address_lock_the_address() {
        let throttle = SignInThrottle::default();
        let now = Instant::now();
        for n in 0..ADDRESS_FAILURES {
            throttle.failed(&format!("user{n}@acme.test"), HOME, now);
        }
        assert!(throttle.check("new@acme.test", HOME, now).is_err());
        assert!(throttle.check("new@acme.test", None, now).is_ok());
    }

    #[test]
    fn a_success_forgets_the_accounts_failures() {
        let throttle = SignInThrottle::default();
        let now = Instant::now();
        for _ in 0..4 {
            throttle.failed("al@acme.test", None, now);
        }
        throttle.succeeded("al@acme.test");
        throttle.failed("al@acme.test", None, now);
        assert!(throttle.check("al@acme.test", None, now).is_ok());
    }
}
