//! More stories against the real Asterisk, each asserting the exact triggers.

use super::asterisk::{call_events, connected, connected_settling, wait_connected};
use crate::support::asterisk::{AMI_SECRET, Asterisk};
use std::time::Duration;

#[tokio::test]
async fn a_ring_group_answered_by_one_phone_rings_both_and_misses_neither() {
    let asterisk = Asterisk::start().await;
    asterisk.set_global("PHONE_1002", "ring").await;
    let (app, acme, source) = connected(&asterisk, AMI_SECRET).await;
    wait_connected(&app, &source).await;
    asterisk
        .call_in("+16285550109", "+14155550123", "ACME SUPPLY", 10_000)
        .await;
    let events = call_events(&app, &acme).await;
    let mut got: Vec<_> = events
        .iter()
        .map(|e| (e.event_type.as_str(), e.call.user.name.as_deref()))
        .collect();
    // The two phones ring in either order.
    got[..2].sort();
    let (alice, bob) = (Some("Alice Nguyen"), Some("Bob Martin"));
    assert_eq!(
        got,
        [
            ("call.ringing", alice),
            ("call.ringing", bob),
            ("call.answered", alice),
            ("call.ended", alice)
        ],
        "{}",
        asterisk.console()
    );
    let ended = events.last().unwrap();
    assert_eq!(ended.call.disposition.map(|d| d.as_str()), Some("answered"));
    app.stop().await.unwrap();
}

/// Real Asterisk sends the caller's `Hangup` before `QueueCallerAbandon` here (the queue runs
/// on the Local channel's inner half): the abandon still comes before the end, once.
#[tokio::test]
async fn a_caller_leaving_the_queue_before_an_agent_answers_abandons_it() {
    let asterisk = Asterisk::start().await;
    asterisk.set_global("PHONE_1002", "ring").await;
    // As in production, calls settle a moment after they look finished.
    let (app, acme, source) = connected_settling(&asterisk, AMI_SECRET, 2).await;
    wait_connected(&app, &source).await;
    asterisk
        .call_in("+16285550111", "+13105550142", "JORDAN LEE", 10_000)
        .await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    asterisk
        .hang_up(r"^Local/\+16285550111@from-pstn-.*;1$")
        .await;
    let events = call_events(&app, &acme).await;
    let got: Vec<_> = events
        .iter()
        .map(|e| (e.event_type.as_str(), e.call.user.name.as_deref()))
        .collect();
    let bob = Some("Bob Martin");
    let support = Some("support");
    assert_eq!(
        got,
        [
            ("call.queued", support),
            ("call.ringing", bob),
            ("call.queue_abandoned", support),
            // As for a recorded abandon: the call's user is the agent it rang.
            ("call.ended", bob)
        ],
        "{}",
        asterisk.console()
    );
    let ended = events.last().unwrap();
    assert_eq!(
        ended.call.disposition.map(|d| d.as_str()),
        Some("abandoned")
    );
    app.stop().await.unwrap();
}
