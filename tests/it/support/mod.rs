//! Shared test fixtures: databases, a running app, a recording HTTP receiver.
// Helpers for every test module; not each module uses every helper.
#![allow(dead_code, unused_imports)]

pub mod app;
pub mod asterisk;
pub mod database;
pub mod receiver;

pub use app::{TestApp, spawn_app, spawn_app_with};
pub use database::TestDatabase;
pub use receiver::{Receiver, Reply};
pub mod process;
pub mod scenario;
pub mod tenant;
pub mod token;
