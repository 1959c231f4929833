//! Delivery primitives: how a call event reaches a subscriber's target URL. Each file is one
//! separately tested stage the delivery worker is built from:
//! [`signing`] (Standard Webhooks headers), [`retry`] (what to do after an attempt),
//! [`target_guard`] (SSRF: which URLs and addresses may be called), [`client`] (the HTTP call and
//! its recorded outcome) and [`rate_limit`] (at most 25 requests/s per target by default) and [`target_slots`] (at most
//! 4 attempts in flight per target by default).

pub mod client;
pub mod rate_limit;
pub mod retry;
pub mod signing;
pub mod target_guard;
pub mod target_slots;
pub mod wakeup;
pub mod worker;

pub use client::{ClientSettings, DeliveryClient, Outcome};
pub use rate_limit::RateLimiter;
pub use retry::{AttemptResult, Decision, RetryPolicy, should_disable_hook};
pub use signing::{HookSecret, SigningError, delivery_headers, sign};
pub use target_guard::{GuardedResolver, TargetError, TargetPolicy, TargetUrl, check_resolves};
