//! Reconciliation: calls whose webhooks were lost are recovered from the PBX's call history.
//!
//! Each history reader (`kazoo`, `zoom`) turns its vendor's pages into source-neutral
//! [`record::HistoryRecord`]s; the rules (`rules`, pure) decide what each record changes; the
//! pipeline (`crate::pipeline::history`) writes that through the same store and hook fan-out
//! as live events. The sweeper (`sweeper`) reads each source's window on a schedule, and
//! `ringhook reconcile` (`run`) reads a window by hand.

pub mod cdr;
pub mod http;
pub mod kazoo;
pub mod record;
pub mod rules;
#[cfg(test)]
mod rules_tests;
pub mod run;
pub mod status;
pub mod sweeper;
pub mod zoom;
