//! What applying one raw event needs besides the call's state: the directory, the timing
//! rules, the clocks, and the event's two parties already resolved.

use chrono::{DateTime, Utc};

use crate::ingest::RawCallEvent;

use super::config::NormalizerConfig;
use super::directory::{Directory, resolve_or_unknown};
use super::model::Party;

/// What one event application needs besides the state.
pub(crate) struct Ctx<'a> {
    pub dir: &'a dyn Directory,
    pub config: &'a NormalizerConfig,
    /// Receive time: deadlines (settle, pending retrieval) count from it.
    pub now: DateTime<Utc>,
    /// Source time of the event, or `now` when the source gives none.
    pub at: DateTime<Utc>,
    pub caller: Party,
    pub callee: Party,
}

impl<'a> Ctx<'a> {
    /// Resolves the event's caller and callee once, for every rule that looks at them.
    pub fn new(
        event: &RawCallEvent,
        dir: &'a dyn Directory,
        config: &'a NormalizerConfig,
        now: DateTime<Utc>,
    ) -> Self {
        Ctx {
            dir,
            config,
            now,
            at: event.occurred_at.unwrap_or(now),
            caller: resolve_or_unknown(Some(&event.caller), dir),
            callee: resolve_or_unknown(Some(&event.callee), dir),
        }
    }
}
