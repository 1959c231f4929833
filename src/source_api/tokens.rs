//! Short-lived access tokens that a source's API hands out for its long-lived credentials
//! (a Kazoo auth token for the account API key, a Zoom bearer token for the app's client
//! secret), kept per source until shortly before they expire.

use crate::domain::SourceId;
use secrecy::SecretString;
use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// A token is given up this long before its stated expiry, so a request never carries one that
/// expires on the way.
const EXPIRY_MARGIN: Duration = Duration::from_secs(60);

/// One token and the instant after which it is no longer used.
#[derive(Clone, Debug)]
pub struct Token {
    pub value: SecretString,
    /// How long the issuer says the token lives.
    pub lifetime: Duration,
}

#[derive(Debug)]
struct Cached {
    value: SecretString,
    usable_until: Instant,
}

/// Tokens by source. Fetching holds the lock, so concurrent requests for a source whose token
/// ran out ask the issuer once rather than each on its own.
#[derive(Debug, Default)]
pub struct TokenCache {
    by_source: Mutex<HashMap<SourceId, Cached>>,
}

impl TokenCache {
    /// The cached token of `source` if still usable at `now`, else one from `fetch` (cached).
    pub async fn get<F, Fut, E>(
        &self,
        source: &SourceId,
        now: Instant,
        fetch: F,
    ) -> Result<SecretString, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Token, E>>,
    {
        let mut tokens = self.by_source.lock().await;
        if let Some(cached) = tokens.get(source).filter(|c| now < c.usable_until) {
            return Ok(cached.value.clone());
        }
        let token = fetch().await?;
        let usable_for = token.lifetime.saturating_sub(EXPIRY_MARGIN);
        tokens.insert(
            source.clone(),
            Cached {
                value: token.value.clone(),
                usable_until: now + usable_for,
            },
        );
        Ok(token.value)
    }

    /// Drops the token of `source` (the API answered 401 to it).
    pub async fn forget(&self, source: &SourceId) {
        self.by_source.lock().await.remove(source);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::sync::atomic::{AtomicU32, Ordering};

    async fn fetch_counting(
        cache: &TokenCache,
        source: &SourceId,
        now: Instant,
        calls: &AtomicU32,
    ) -> String {
        let got = cache
            .get(source, now, || async {
                let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
                Ok::<_, ()>(Token {
                    value: SecretString::from(format!("token-{n}")),
                    lifetime: Duration::from_secs(3600),
                })
            })
            .await
            .unwrap();
        got.expose_secret().to_owned()
    }

    #[tokio::test]
    async fn a_token_is_reused_until_shortly_before_it_expires() {
        let cache = TokenCache::default();
        let source = SourceId::generate();
        let calls = AtomicU32::new(0);
        let t0 = Instant::now();
        assert_eq!(fetch_counting(&cache, &source, t0, &calls).await, "token-1");
        let later = t0 + Duration::from_secs(3600 - 61);
        assert_eq!(
            fetch_counting(&cache, &source, later, &calls).await,
            "token-1"
        );
        let expiring = t0 + Duration::from_secs(3600 - 60);
        assert_eq!(
            fetch_counting(&cache, &source, expiring, &calls).await,
            "token-2"
        );
    }

    #[tokio::test]
    async fn a_forgotten_token_is_fetched_again() {
        let cache = TokenCache::default();
        let source = SourceId::generate();
        let calls = AtomicU32::new(0);
        let now = Instant::now();
        fetch_counting(&cache, &source, now, &calls).await;
        cache.forget(&source).await;
        assert_eq!(
            fetch_counting(&cache, &source, now, &calls).await,
            "token-2"
        );
    }

    #[tokio::test]
    async fn each_source_has_its_own_token() {
        let cache = TokenCache::default();
        let calls = AtomicU32::new(0);
        let now = Instant::now();
        let (a, b) = (SourceId::generate(), SourceId::generate());
        assert_eq!(fetch_counting(&cache, &a, now, &calls).await, "token-1");
        assert_eq!(fetch_counting(&cache, &b, now, &calls).await, "token-2");
    }
}
