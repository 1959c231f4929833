//! The ingest pipeline around the pure normalizer: loads what it needs (the tenant's
//! directory), and runs each batch of raw events as one unit of work (`pipeline`): dedupe
//! (`dedupe`), normalizer, hook matching (`matching`) and click-to-call moves
//! (`request_moves`), folded in memory (`unit_of_work`) and written in one transaction per
//! batch of concurrent requests (group commit, `writer`). Also settles calls whose
//! `call.ended` is due (`settle`).

mod dedupe;
mod directory;
pub mod matching;
mod pipeline;
mod request_moves;
pub mod settle;
#[cfg(test)]
mod test_events;
mod unit_of_work;
pub mod writer;

pub use directory::DirectoryCache;
pub use pipeline::{IngestJob, IngestSummary, apply_batch};
pub use writer::{IngestWriter, WriteError};
