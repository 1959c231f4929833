//! The call state machine: raw call events in, subscriber [`CallEvent`]s out. Pure: no I/O,
//! the clock and the user directory are passed in.
//!
//! How the ingest pipeline (`src/pipeline/apply.rs`) drives it, for each raw event of a batch
//! (one transaction per batch of concurrent requests; each event sees what the earlier ones of
//! the batch did):
//! 1. Skip the event if its `dedupe_key` was seen for this source.
//! 2. Find the call: the first of [`RawCallEvent::lookup_keys`] mapped to a call of this
//!    source, else [`CallState::new`] under the first key.
//! 3. [`apply`]; save the returned state; map every [`CallState::aliases`] key to the call
//!    (replacing older mappings); store the events and fan them out to hooks of the tenant and
//!    of each user in [`EmittedEvent::participants`].
//! 4. A sweeper calls [`settle`] on calls whose [`CallState::due_at`] has passed: that is where
//!    `call.ended` (and a held-back `call.unparked`) comes from.
//!
//! Inside, dependencies run one way: `machine` dispatches each event kind to one file per
//! topic (`legs`, `park`, `queue`, `transfer`, `hold`, `ending`), which build on the call's
//! `state`, the merge rules in `facts` and the trigger type in `emit`.

mod config;
mod context;
mod directory;
mod emit;
mod ending;
mod facts;
mod hold;
mod legs;
mod machine;
mod media;
pub mod model;
mod outcome;
mod park;
mod queue;
mod state;
mod summary;
mod transfer;

#[cfg(test)]
mod media_tests;
#[cfg(test)]
mod same_story_tests;
#[cfg(test)]
mod scenarios_tests;
#[cfg(test)]
pub(crate) mod test_scenarios;

use chrono::{DateTime, Utc};

use crate::ingest::RawCallEvent;

use context::Ctx;

pub use config::NormalizerConfig;
pub use directory::{Directory, DirectoryEntry, DirectoryUser, StaticDirectory, resolve};
pub use emit::EmittedEvent;
pub use model::{CallEvent, EventType};
pub use state::CallState;

/// A call's next state and the events to deliver.
#[derive(Clone, Debug, PartialEq)]
pub struct Applied {
    pub state: CallState,
    pub events: Vec<EmittedEvent>,
}

/// The `call_…` id of a call: stable for the call's whole life, derived from its first key.
pub fn call_id(state: &CallState) -> String {
    emit::call_id(state)
}

/// Applies one raw event received at `now`. A replayed event (same dedupe key) changes
/// nothing and emits nothing; after `call.ended` only a voicemail message or a recording
/// still emits its trigger.
pub fn apply(
    mut state: CallState,
    event: &RawCallEvent,
    directory: &dyn Directory,
    config: &NormalizerConfig,
    now: DateTime<Utc>,
) -> Applied {
    let fresh = event.dedupe_key.is_empty() || state.seen.insert(event.dedupe_key.clone());
    if !fresh {
        return Applied {
            state,
            events: Vec::new(),
        };
    }
    if state.ended {
        let cx = Ctx::new(event, directory, config, now);
        let triggers = machine::apply_late(&mut state, event, &cx);
        let events = triggers
            .into_iter()
            .filter_map(|t| emit::emit(&mut state, t))
            .collect();
        return Applied { state, events };
    }
    state.last_activity = facts::latest(state.last_activity, Some(now));
    let cx = Ctx::new(event, directory, config, now);
    let triggers = machine::apply_event(&mut state, event, &cx);
    ending::rearm(&mut state, config, now);
    let events = triggers
        .into_iter()
        .filter_map(|t| emit::emit(&mut state, t))
        .collect();
    Applied { state, events }
}

/// Emits what is due at `now`: a held-back `call.unparked`, then `call.ended`.
pub fn settle(mut state: CallState, config: &NormalizerConfig, now: DateTime<Utc>) -> Applied {
    let triggers = ending::due(&mut state, config, now);
    let events = triggers
        .into_iter()
        .filter_map(|t| emit::emit(&mut state, t))
        .collect();
    Applied { state, events }
}
