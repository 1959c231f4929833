//! ringhook: turns phone-system call events into REST Hook triggers.

pub mod actions;
pub mod admin;
pub mod cache;
pub mod config;
pub mod console;
pub mod credentials;
pub mod delivery;
pub mod domain;
pub mod error;
pub mod hooks;
pub mod http;
pub mod ingest;
pub mod maintenance;
pub mod media;
pub mod metrics;
pub mod normalizer;
pub mod oauth;
pub mod openapi;
pub mod pbx;
pub mod pipeline;
pub mod reconcile;
pub mod source_api;
pub mod startup;
pub mod storage;
pub mod telemetry;
