//! The operator's command line: `ringhook serve`, `migrate` and the admin commands that create
//! tenants, users, OAuth clients and sources. Admin commands print one JSON object on stdout.
//! `cli` is the grammar, `dispatch` runs one parsed command, `commands` holds the admin
//! commands themselves.

pub mod api;
pub mod api_queues_hooks;
mod api_wire;
pub mod cli;
pub mod commands;
mod database_guard;
mod dispatch;
mod error;
pub mod hook_ops;
pub mod lifecycle_cli;
mod lifecycle_dispatch;
pub mod operator;
pub mod queue_ops;
pub mod reconcile;
pub mod simulate;
pub mod socket_source;
pub mod source_ops;
pub mod tenant_ops;
pub mod user_ops;
pub mod zoom_source;

pub use cli::{Cli, Command};
pub use dispatch::run;
pub use error::AdminError;
