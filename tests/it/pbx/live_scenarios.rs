//! More stories against the real Asterisk, each asserting the exact triggers.

use super::asterisk::{call_events, connected, connected_on, connected_settling, wait_connected};
use crate::support::asterisk::{AMI_SECRET, Asterisk};
use ringhook::config::Backend;
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

/// Alice answers, parks the caller in 701; Bob picks it up there, or nobody does.
async fn parked_by_alice(asterisk: &Asterisk) {
    asterisk.set_global("TALK_1001", "20").await;
    asterisk
        .call_in("+16285550100", "+14155550123", "ACME SUPPLY", 10_000)
        .await;
    // Alice answers after a second; the caller's inner half is then bridged with her phone.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let caller = asterisk
        .channel("Local/+16285550100@from-pstn-", ";2")
        .await;
    let alice = asterisk.channel("Local/1001@phones-", ";1").await;
    asterisk.park(&caller, &alice).await;
}

async fn a_call_parked_by_one_phone_and_picked_up_by_another_names_both(backend: Backend) {
    let asterisk = Asterisk::start().await;
    let Some((app, acme, source)) = connected_on(&asterisk, backend).await else {
        return;
    };
    wait_connected(&app, &source).await;
    parked_by_alice(&asterisk).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    asterisk.retrieve("1002", "701").await;
    let events = call_events(&app, &acme).await;
    let got: Vec<_> = events
        .iter()
        .map(|e| (e.event_type.as_str(), e.call.user.name.as_deref()))
        .collect();
    let (alice, bob) = (Some("Alice Nguyen"), Some("Bob Martin"));
    assert_eq!(
        got,
        [
            ("call.ringing", alice),
            ("call.answered", alice),
            ("call.parked", alice),
            ("call.unparked", bob),
            // The retriever's bridge is no second answer; the call stays Alice's, who
            // answered it, and Bob is named as the one who took it from the lot.
            ("call.ended", alice)
        ],
        "{}",
        asterisk.console()
    );
    let unparked = &events[3];
    let park = unparked.park.as_ref().unwrap();
    assert_eq!(park.slot, "701");
    assert_eq!(
        park.retrieved_by.as_ref().and_then(|p| p.name.as_deref()),
        bob
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_parked_call_nobody_picks_up_times_out_as_park_abandoned() {
    let asterisk = Asterisk::start().await;
    let (app, acme, source) = connected(&asterisk, AMI_SECRET).await;
    wait_connected(&app, &source).await;
    // The parking lot gives up after 4 s and hangs the caller up.
    parked_by_alice(&asterisk).await;
    let events = call_events(&app, &acme).await;
    let got: Vec<_> = events
        .iter()
        .map(|e| (e.event_type.as_str(), e.call.user.name.as_deref()))
        .collect();
    let alice = Some("Alice Nguyen");
    assert_eq!(
        got,
        [
            ("call.ringing", alice),
            ("call.answered", alice),
            ("call.parked", alice),
            ("call.park_abandoned", alice),
            ("call.ended", alice)
        ],
        "{}",
        asterisk.console()
    );
    app.stop().await.unwrap();
}

async fn a_blind_transfer_from_one_phone_to_another_is_told_and_the_second_answers(
    backend: Backend,
) {
    let asterisk = Asterisk::start().await;
    let Some((app, acme, source)) = connected_on(&asterisk, backend).await else {
        return;
    };
    wait_connected(&app, &source).await;
    asterisk.set_global("TALK_1001", "20").await;
    asterisk
        .call_in("+16285550100", "+14155550123", "ACME SUPPLY", 10_000)
        .await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let alice = asterisk.channel("Local/1001@phones-", ";1").await;
    asterisk.blind_transfer(&alice, "1002").await;
    let events = call_events(&app, &acme).await;
    let got: Vec<_> = events
        .iter()
        .map(|e| (e.event_type.as_str(), e.call.user.name.as_deref()))
        .collect();
    let (alice, bob) = (Some("Alice Nguyen"), Some("Bob Martin"));
    // Asterisk sends `BlindTransfer` once the transfer is done, which may be after Bob's
    // phone started ringing: those two triggers come in either order.
    let mut got = got;
    if got.get(2) == Some(&("call.ringing", bob)) {
        got.swap(2, 3);
    }
    assert_eq!(
        got,
        [
            ("call.ringing", alice),
            ("call.answered", alice),
            ("call.transferred", alice),
            ("call.ringing", bob),
            ("call.answered", bob),
            // The call is the user's who answered it first.
            ("call.ended", alice)
        ],
        "{}",
        asterisk.console()
    );
    // Found by type: the events themselves are in Asterisk's order (see above).
    let transferred = events
        .iter()
        .find(|e| e.event_type.as_str() == "call.transferred")
        .unwrap();
    let transfer = transferred.transfer.as_ref().unwrap();
    assert_eq!(transfer.to.name.as_deref(), bob);
    assert_eq!(
        serde_json::to_value(transfer.kind).unwrap(),
        serde_json::json!("blind")
    );
    app.stop().await.unwrap();
}

/// Alice answers, presses her attended-transfer key and dials Bob (a second channel in the
/// same call), Bob answers, Alice hangs up: the transfer completes.
#[tokio::test]
async fn an_attended_transfer_names_the_phone_the_consultation_reached() {
    let asterisk = Asterisk::start().await;
    let (app, acme, source) = connected(&asterisk, AMI_SECRET).await;
    wait_connected(&app, &source).await;
    asterisk.set_global("TALK_1001", "30").await;
    asterisk.set_global("TALK_1002", "10").await;
    asterisk
        .call_in("+16285550112", "+14155550123", "ACME SUPPLY", 10_000)
        .await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let alice = asterisk.channel("Local/1001@phones-", ";1").await;
    asterisk.attended_transfer(&alice, "2").await;
    // The transfer prompt plays, Bob's phone rings for a second and answers; Alice talks to
    // him, then hangs up while Bob is still there (hanging up while Bob still rang would be
    // a transfer of a ringing call).
    tokio::time::sleep(Duration::from_secs(6)).await;
    asterisk
        .hang_up(&format!("^{}$", regex_escape(&alice)))
        .await;
    let events = call_events(&app, &acme).await;
    let got: Vec<_> = events
        .iter()
        .map(|e| (e.event_type.as_str(), e.call.user.name.as_deref()))
        .collect();
    let (alice, bob) = (Some("Alice Nguyen"), Some("Bob Martin"));
    assert_eq!(
        got,
        [
            ("call.ringing", alice),
            ("call.answered", alice),
            // The transfer key holds the caller (Asterisk's `Hold` on Alice's channel); she
            // leaves before any `Unhold`, so no resume follows.
            ("call.held", alice),
            // The consultation rings Bob inside the same call: no second call, no miss.
            ("call.ringing", bob),
            ("call.answered", bob),
            ("call.transferred", alice),
            // The call is the user's who answered it first.
            ("call.ended", alice)
        ],
        "{}",
        asterisk.console()
    );
    assert!(events.iter().all(|e| e.call.id == events[0].call.id));
    let transferred = &events[5];
    assert_eq!(transferred.event_type.as_str(), "call.transferred");
    let transfer = transferred.transfer.as_ref().unwrap();
    assert_eq!(
        serde_json::to_value(transfer.kind).unwrap(),
        serde_json::json!("attended")
    );
    assert_eq!(transfer.to.name.as_deref(), bob);
    app.stop().await.unwrap();
}

/// A channel name as a literal in AMI `Hangup`'s `/regex/`.
fn regex_escape(name: &str) -> String {
    name.chars()
        .flat_map(|c| match c {
            '+' | '.' | '$' | '^' | '*' | '?' | '(' | ')' | '[' | ']' | '|' | '\\' => {
                vec!['\\', c]
            }
            c => vec![c],
        })
        .collect()
}

// A representative set also runs on PostgreSQL (each is a real call of about 15 s).
for_each_backend!(
    a_call_parked_by_one_phone_and_picked_up_by_another_names_both,
    a_blind_transfer_from_one_phone_to_another_is_told_and_the_second_answers
);
