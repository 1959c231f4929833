//! The ingest pipeline around the pure normalizer: loads what it needs (the tenant's
//! directory), and runs each batch of raw events as one unit of work (`apply`): dedupe
//! (`dedupe`), normalizer, hook matching (`matching`) and click-to-call moves
//! (`request_moves`), folded in memory (`unit_of_work`) and written in one transaction per
//! batch of concurrent requests (group commit, `writer`). Also settles calls whose
//! `call.ended` is due (`settle`), and applies records from a source's call history
//! (`history`).

mod apply;
mod dedupe;
mod directory;
pub mod history;
pub mod matching;
mod request_moves;
pub mod settle;
pub mod state_cache;
#[cfg(test)]
mod test_events;
mod unit_of_work;
pub mod writer;

pub use apply::{IngestJob, IngestSummary, Received, apply_batch};
pub use directory::DirectoryCache;
pub use state_cache::StateCache;
pub use writer::{IngestWriter, WriteError};
