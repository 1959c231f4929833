//! The I/O side of call normalization: loads what the pure normalizer needs (the tenant's
//! directory), runs it inside the store's transactions (one per batch of concurrent requests,
//! see `writer`), and settles calls whose `call.ended` is due.

mod directory;
mod pipeline;
pub mod settle;
pub mod writer;

pub use directory::DirectoryCache;
pub use pipeline::{IngestJob, IngestSummary, apply_batch};
pub use writer::{IngestWriter, WriteError};
