//! The in-memory side of one ingest batch (or settle sweep): the calls, keys and events that
//! its raw events produce, chained so that each event sees what the earlier ones did, then
//! written once. Pure (no I/O), so its rules are unit-tested here; the pipeline loads it from
//! and writes it through a `CallTx`.
//!
//! Written alone, one after the other, each event would read the call's keys and state, then
//! rewrite them. Here every call is read once, every event is applied to the latest state in
//! memory, and the net effect on each row is written at the end.

use crate::normalizer::{self, Applied, CallState};
use crate::storage::KeyId;
use crate::storage::call_writes::{CallWrite, EventWrite, KeyWrite};
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};

/// The normalizer's answer for one call: its next state and events, and when it next needs
/// a settle step (`None` once ended).
pub struct NextState {
    pub applied: Applied,
    pub due_at: Option<DateTime<Utc>>,
}

/// A key's pending write once `call_id` takes it: the last call to take a key keeps it.
fn key_taken(_: Option<KeyWrite>, call_id: &str) -> KeyWrite {
    KeyWrite::Upsert(call_id.to_owned())
}

/// A key's pending write once `call_id` leaves it.
fn key_left(before: Option<KeyWrite>, call_id: &str) -> KeyWrite {
    match before {
        None => KeyWrite::DeleteIf(vec![call_id.to_owned()]),
        Some(KeyWrite::Upsert(c)) if c == call_id => KeyWrite::Delete,
        Some(KeyWrite::DeleteIf(mut calls)) => {
            calls.push(call_id.to_owned());
            KeyWrite::DeleteIf(calls)
        }
        Some(other) => other,
    }
}

/// The calls, keys and events of one batch.
#[derive(Default)]
pub struct UnitOfWork {
    /// Where looked-up keys point now: loaded from the store for every lookup key of the
    /// batch (`None` when unmapped), then moved by the calls the batch saves.
    current: HashMap<KeyId, Option<String>>,
    /// Call states as stored before the batch.
    loaded: HashMap<String, CallState>,
    /// Calls the batch changed, in the order first touched; `touched` indexes them.
    calls: Vec<CallWrite>,
    touched: HashMap<String, usize>,
    keys: HashMap<KeyId, KeyWrite>,
    /// Keys in the order first changed, so writes are deterministic.
    key_order: Vec<KeyId>,
    events: Vec<EventWrite>,
    event_ids: HashSet<String>,
}

impl UnitOfWork {
    /// Starts from what the store holds for the batch's lookup keys: every key asked for, and
    /// the `(key, call id, state)` of those mapped to a call.
    pub fn new(
        asked: impl IntoIterator<Item = KeyId>,
        found: Vec<(KeyId, String, CallState)>,
    ) -> UnitOfWork {
        let mut work = UnitOfWork::default();
        for key in asked {
            work.current.insert(key, None);
        }
        for (key, call_id, state) in found {
            work.current.insert(key, Some(call_id.clone()));
            work.loaded.insert(call_id, state);
        }
        work
    }

    /// The latest state of the call known under the first of `keys` that maps to one.
    pub fn find(&self, source_id: &str, keys: &[String]) -> Option<CallState> {
        let call_id = keys.iter().find_map(|key| {
            self.current
                .get(&(source_id.to_owned(), key.clone()))
                .and_then(Option::as_ref)
        })?;
        match self.touched.get(call_id) {
            Some(&at) => self.calls.get(at).map(|c| c.state.clone()),
            None => self.loaded.get(call_id).cloned(),
        }
    }

    /// Records what the normalizer made of the `origin`-th raw event: the call's new state and
    /// its key changes against `known_keys` (the keys of the state it was given), and its new
    /// events (an event id seen earlier in the batch is dropped, as the store would drop it).
    pub fn record(
        &mut self,
        origin: usize,
        known_keys: &[String],
        next: NextState,
        now: DateTime<Utc>,
    ) {
        let state = next.applied.state;
        let call_id = normalizer::call_id(&state);
        let source_id = state.source_id.as_str().to_owned();
        let keys = state.aliases();
        for gone in known_keys.iter().filter(|k| !keys.contains(k)) {
            let id = (source_id.clone(), gone.clone());
            if let Some(current) = self.current.get_mut(&id)
                && current.as_deref() == Some(call_id.as_str())
            {
                *current = None;
            }
            self.change_key(id, &call_id, key_left);
        }
        for key in keys.iter().filter(|k| !known_keys.contains(k)) {
            let id = (source_id.clone(), key.clone());
            self.current.insert(id.clone(), Some(call_id.clone()));
            self.change_key(id, &call_id, key_taken);
        }
        for emitted in next.applied.events {
            if self.event_ids.insert(emitted.event.id.clone()) {
                self.events.push(EventWrite {
                    origin,
                    call_id: call_id.clone(),
                    source_id: source_id.clone(),
                    emitted,
                    now,
                });
            }
        }
        let write = CallWrite {
            id: call_id.clone(),
            state,
            due_at: next.due_at,
            now,
        };
        match self.touched.get(&call_id) {
            Some(&at) => self.calls[at] = write,
            None => {
                self.touched.insert(call_id, self.calls.len());
                self.calls.push(write);
            }
        }
    }

    fn change_key(
        &mut self,
        id: KeyId,
        call_id: &str,
        change: fn(Option<KeyWrite>, &str) -> KeyWrite,
    ) {
        let before = self.keys.remove(&id);
        if before.is_none() {
            self.key_order.push(id.clone());
        }
        self.keys.insert(id, change(before, call_id));
    }

    /// What to write: calls, key changes and events, each in a deterministic order.
    pub fn into_writes(mut self) -> (Vec<CallWrite>, Vec<(KeyId, KeyWrite)>, Vec<EventWrite>) {
        let keys = self
            .key_order
            .into_iter()
            .filter_map(|id| self.keys.remove(&id).map(|w| (id, w)))
            .collect();
        (self.calls, keys, self.events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_set_then_left_by_the_same_call_is_deleted() {
        let set = key_taken(None, "call_a");
        assert_eq!(key_left(Some(set), "call_a"), KeyWrite::Delete);
    }

    #[test]
    fn a_key_left_by_another_call_than_the_one_that_took_it_stays_mapped() {
        let set = key_taken(None, "call_b");
        assert_eq!(
            key_left(Some(set), "call_a"),
            KeyWrite::Upsert("call_b".into())
        );
    }

    #[test]
    fn keys_only_left_are_deleted_only_where_they_still_name_a_leaver() {
        let once = key_left(None, "call_a");
        assert_eq!(
            key_left(Some(once), "call_b"),
            KeyWrite::DeleteIf(vec!["call_a".into(), "call_b".into()])
        );
    }

    #[test]
    fn the_last_call_to_take_a_key_keeps_it() {
        let left = key_left(None, "call_a");
        assert_eq!(
            key_taken(Some(left), "call_b"),
            KeyWrite::Upsert("call_b".into())
        );
    }

    #[test]
    fn a_key_asked_for_and_not_found_finds_nothing() {
        let work = UnitOfWork::new([("src_1".to_owned(), "k".to_owned())], vec![]);
        assert!(work.find("src_1", &["k".to_owned()]).is_none());
    }
}
