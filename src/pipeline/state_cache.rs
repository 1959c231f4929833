//! Decoded call states kept between ingest batches. Decoding a call's stored JSON was the
//! largest single cost of applying a raw event; the next event of a live call usually comes
//! in a later batch and finds the row exactly as the previous batch wrote it. Each entry keeps
//! the text it stands for, and is used only when the stored text is byte for byte the same, so
//! a row changed by anyone else (a settle sweep, another instance, a rolled-back batch) is
//! simply decoded again: the cache can make a batch faster, never different.

use crate::normalizer::CallState;
use crate::storage::call_writes::CallWrite;
use lru::LruCache;
use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::{Mutex, PoisonError};

/// Calls kept by default: well above the calls in progress at once on a busy PBX, and small
/// enough (a few KiB each) to stay a few MiB.
pub const DEFAULT_CALLS: usize = 1024;

/// The decoded states of recently written calls that have not ended, least recently written
/// dropped first.
pub struct StateCache {
    entries: Mutex<LruCache<String, Kept>>,
}

/// A state with the stored text it was encoded to.
struct Kept {
    encoded: String,
    state: CallState,
}

impl Default for StateCache {
    fn default() -> StateCache {
        StateCache::new(DEFAULT_CALLS)
    }
}

impl StateCache {
    /// Keeps up to `calls` states (at least one).
    pub fn new(calls: usize) -> StateCache {
        StateCache {
            entries: Mutex::new(LruCache::new(
                NonZeroUsize::new(calls).unwrap_or(NonZeroUsize::MIN),
            )),
        }
    }

    /// The states of `stored` (call id → stored JSON). A kept state whose text matches is
    /// handed out instead of decoded (and leaves the cache: the batch will write its successor).
    pub fn decode(
        &self,
        stored: HashMap<String, String>,
    ) -> Result<HashMap<String, CallState>, serde_json::Error> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        stored
            .into_iter()
            .map(|(call_id, text)| {
                let state = match entries.pop(&call_id) {
                    Some(kept) if kept.encoded == text => kept.state,
                    _ => serde_json::from_str(&text)?,
                };
                Ok((call_id, state))
            })
            .collect()
    }

    /// Keeps the states a batch committed; an ended call is not expected back and is dropped.
    pub fn keep(&self, written: Vec<CallWrite>) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        for call in written {
            if call.state.is_ended() {
                entries.pop(&call.id);
                continue;
            }
            entries.put(
                call.id,
                Kept {
                    encoded: call.encoded,
                    state: call.state,
                },
            );
        }
    }

    /// How many states are kept (for tests).
    pub fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Decodes stored states (call id → JSON) without a cache: reads outside the ingest writer.
pub fn decode_all(
    stored: HashMap<String, String>,
) -> Result<HashMap<String, CallState>, serde_json::Error> {
    stored
        .into_iter()
        .map(|(call_id, text)| Ok((call_id, serde_json::from_str(&text)?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{SourceId, SourceKind, TenantId};
    use chrono::Utc;

    fn state(key: &str) -> CallState {
        CallState::new(
            TenantId::generate(),
            SourceId::generate(),
            SourceKind::Kazoo,
            key,
        )
    }

    fn written(id: &str, state: CallState) -> CallWrite {
        CallWrite {
            id: id.to_owned(),
            encoded: serde_json::to_string(&state).unwrap(),
            state,
            due_at: None,
            now: Utc::now(),
        }
    }

    fn stored(id: &str, text: &str) -> HashMap<String, String> {
        HashMap::from([(id.to_owned(), text.to_owned())])
    }

    #[test]
    fn a_row_stored_as_kept_is_handed_out_without_decoding() {
        let cache = StateCache::new(8);
        let mut write = written("call_a", state("leg-1"));
        let text = write.encoded.clone();
        // Marks the kept copy, so that the test tells it from a decoded one.
        write.state.key = "kept".into();
        cache.keep(vec![write]);

        let states = cache.decode(stored("call_a", &text)).unwrap();

        assert_eq!(states["call_a"].key, "kept");
        assert!(cache.is_empty(), "handed out, no longer kept");
    }

    #[test]
    fn a_row_changed_since_is_decoded_from_the_stored_text() {
        let cache = StateCache::new(8);
        cache.keep(vec![written("call_a", state("leg-1"))]);
        let changed = serde_json::to_string(&state("leg-2")).unwrap();

        let states = cache.decode(stored("call_a", &changed)).unwrap();

        assert_eq!(states["call_a"].key, "leg-2");
    }

    #[test]
    fn a_row_that_does_not_decode_is_an_error_even_with_a_kept_state() {
        let cache = StateCache::new(8);
        cache.keep(vec![written("call_a", state("leg-1"))]);

        assert!(cache.decode(stored("call_a", "{not json")).is_err());
    }

    #[test]
    fn an_ended_call_is_not_kept() {
        let cache = StateCache::new(8);
        cache.keep(vec![written("call_a", state("leg-1"))]);
        let mut ended = state("leg-1");
        ended.ended = true;

        cache.keep(vec![written("call_a", ended)]);

        assert!(cache.is_empty());
    }

    #[test]
    fn the_least_recently_written_call_goes_first_when_full() {
        let cache = StateCache::new(2);
        let mut first = written("call_a", state("a"));
        let first_text = first.encoded.clone();
        first.state.key = "kept".into();
        cache.keep(vec![first]);
        cache.keep(vec![written("call_b", state("b"))]);
        cache.keep(vec![written("call_c", state("c"))]);

        assert_eq!(cache.len(), 2);
        // call_a was dropped: its row is decoded, not taken from the cache.
        let states = cache.decode(stored("call_a", &first_text)).unwrap();
        assert_eq!(states["call_a"].key, "a");
    }
}
