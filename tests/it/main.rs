//! Integration tests, built as one binary: the real server on a loopback port, real databases,
//! the real `ringhook` binary for the CLI.

// Test and bench code states its expectations with unwrap/expect.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod support;

mod admin_api;
mod call_facts;
mod cli;
mod click_to_call;
mod console;
mod console_calls;
mod console_rest;
mod delivery;
mod disk_full;
mod durability;
mod events_number;
mod hardening;
mod hooks_api;
mod ingest;
mod ingest_batch;
mod media;
mod oauth;
mod openapi;
mod ops;
mod outage;
mod pbx;
mod receiver;
mod reconcile;
mod reconcile_backfill;
mod reconcile_cdr;
mod reconcile_zoom;
mod scenarios;
mod slow_receivers;
mod source_api;
mod sqlite_log;
mod storage_contract;
mod users_find;
