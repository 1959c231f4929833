//! A small time-bounded cache for rarely changing rows read on every request (sources, a
//! tenant's directory). Entries expire after a TTL, so changes made by another process (the
//! admin CLI, another instance) show up within it.

use dashmap::DashMap;
use std::hash::Hash;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct TtlCache<K, V> {
    ttl: Duration,
    entries: DashMap<K, (Instant, Arc<V>)>,
}

impl<K: Eq + Hash + Clone, V> TtlCache<K, V> {
    pub fn new(ttl: Duration) -> Self {
        TtlCache {
            ttl,
            entries: DashMap::new(),
        }
    }

    /// The fresh cached value, if any.
    pub fn get(&self, key: &K) -> Option<Arc<V>> {
        self.entries
            .get(key)
            .filter(|entry| entry.0.elapsed() < self.ttl)
            .map(|entry| entry.1.clone())
    }

    /// Drops the entry, so the next read loads it again (a change made by this process).
    pub fn remove(&self, key: &K) {
        self.entries.remove(key);
    }

    pub fn insert(&self, key: K, value: V) -> Arc<V> {
        let value = Arc::new(value);
        self.entries.insert(key, (Instant::now(), value.clone()));
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_served_until_its_ttl_passes() {
        let cache = TtlCache::new(Duration::from_millis(30));
        cache.insert("a", 1);
        assert_eq!(cache.get(&"a").as_deref(), Some(&1));
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(cache.get(&"a"), None);
    }

    #[test]
    fn a_removed_entry_is_gone_before_its_ttl() {
        let cache = TtlCache::new(Duration::from_secs(60));
        cache.insert("a", 1);
        cache.insert("b", 2);
        cache.remove(&"a");
        assert_eq!(cache.get(&"a"), None);
        assert_eq!(cache.get(&"b").as_deref(), Some(&2));
    }
}
