//! The in-memory side of one ingest batch (or settle sweep): the calls, keys and events that
//! its raw events produce, chained so that each event sees what the earlier ones did, then
//! written once. Pure (no I/O), so its rules are unit-tested here; the pipeline loads it from
//! and writes it through a `CallTx`.
//!
//! Written alone, one after the other, each event would read the call's keys and state, then
//! rewrite them. Here every call is read once, every event is applied to the latest state in
//! memory, and the net effect on each row is written at the end (each changed state encoded
//! once, however many of the batch's events it took).

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
    /// The latest state of each call the batch knows: as stored, then as the batch left it.
    states: HashMap<String, CallState>,
    /// Calls the batch changed, in the order first touched, with their pending row fields.
    touched: Vec<Touched>,
    touched_at: HashMap<String, usize>,
    keys: HashMap<KeyId, KeyWrite>,
    /// Keys in the order first changed, so writes are deterministic.
    key_order: Vec<KeyId>,
    events: Vec<EventWrite>,
    event_ids: HashSet<String>,
}

/// What a batch writes: calls, key changes and events.
pub type Writes = (Vec<CallWrite>, Vec<(KeyId, KeyWrite)>, Vec<EventWrite>);

/// A changed call's row fields besides its state.
struct Touched {
    id: String,
    due_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
}

impl UnitOfWork {
    /// Starts from what the store holds for the batch's lookup keys: every key asked for,
    /// the `(key, call id)` of those mapped to a call, and those calls' states by id.
    pub fn new(
        asked: impl IntoIterator<Item = KeyId>,
        found: Vec<(KeyId, String)>,
        states: HashMap<String, CallState>,
    ) -> UnitOfWork {
        let mut work = UnitOfWork {
            states,
            ..UnitOfWork::default()
        };
        for key in asked {
            work.current.insert(key, None);
        }
        for (key, call_id) in found {
            work.current.insert(key, Some(call_id));
        }
        work
    }

    /// The id of the call known under the first of `keys` that maps to one.
    fn call_under(&self, source_id: &str, keys: &[String]) -> Option<&String> {
        keys.iter().find_map(|key| {
            self.current
                .get(&(source_id.to_owned(), key.clone()))
                .and_then(Option::as_ref)
        })
    }

    /// Whether a call is known under any of `keys`.
    pub fn knows(&self, source_id: &str, keys: &[String]) -> bool {
        self.call_under(source_id, keys)
            .is_some_and(|call_id| self.states.contains_key(call_id))
    }

    /// A copy of the latest state of the call known under the first of `keys` that maps to
    /// one; the batch keeps its own.
    pub fn find(&self, source_id: &str, keys: &[String]) -> Option<CallState> {
        let call_id = self.call_under(source_id, keys)?;
        self.states.get(call_id).cloned()
    }

    /// The latest state of that call, handed over rather than copied: the caller must give
    /// the call's next state back through [`UnitOfWork::record`], or the batch forgets it.
    pub fn take(&mut self, source_id: &str, keys: &[String]) -> Option<CallState> {
        let call_id = self.call_under(source_id, keys)?.clone();
        self.states.remove(&call_id)
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
        let touched = Touched {
            id: call_id.clone(),
            due_at: next.due_at,
            now,
        };
        match self.touched_at.get(&call_id) {
            Some(&at) => self.touched[at] = touched,
            None => {
                self.touched_at.insert(call_id.clone(), self.touched.len());
                self.touched.push(touched);
            }
        }
        self.states.insert(call_id, state);
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

    /// What to write: calls (each state encoded as stored), key changes and events, each in
    /// a deterministic order.
    pub fn into_writes(mut self) -> Result<Writes, serde_json::Error> {
        let keys = self
            .key_order
            .into_iter()
            .filter_map(|id| self.keys.remove(&id).map(|w| (id, w)))
            .collect();
        let mut calls = Vec::with_capacity(self.touched.len());
        for touched in self.touched {
            // Every touched call's state is here unless a caller took it and never gave it
            // back through `record`, which the pipeline does not do.
            let Some(state) = self.states.remove(&touched.id) else {
                continue;
            };
            calls.push(CallWrite {
                encoded: serde_json::to_string(&state)?,
                id: touched.id,
                state,
                due_at: touched.due_at,
                now: touched.now,
            });
        }
        Ok((calls, keys, self.events))
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
        let work = UnitOfWork::new(
            [("src_1".to_owned(), "k".to_owned())],
            vec![],
            HashMap::new(),
        );
        assert!(work.find("src_1", &["k".to_owned()]).is_none());
    }
}
