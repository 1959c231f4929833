//! HTTP plumbing shared by every route: state, middleware, error rewriting, operations endpoints.

pub mod middleware;
pub mod ops;
pub mod panic_guard;
pub mod request_span;
pub mod state;
pub mod unmatched;

pub use state::AppState;
