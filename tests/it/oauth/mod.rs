//! The OAuth2 authorization server against the real app: an independent client library drives
//! the happy path; every row of the spec checklist has a negative test.

mod authorize;
mod codes;
mod consent_page;
pub mod fixture;
mod flow;
mod guard;
mod keys;
mod refresh;
