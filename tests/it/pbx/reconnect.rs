//! The Asterisk connector across a PBX restart: the link drops, the connector logs in again,
//! and the call that died with the old Asterisk (no `Hangup` was ever sent) is closed from
//! the new Asterisk's live channel list, once and without a lost or repeated trigger.

use super::asterisk::{call_events, connected, wait_connected};
use crate::support::asterisk::{AMI_SECRET, Asterisk};
use ringhook::pbx::reconcile::GONE_CAUSE;
use std::time::{Duration, Instant};

#[tokio::test]
async fn a_call_lost_in_an_asterisk_restart_is_closed_after_the_reconnect() {
    let mut asterisk = Asterisk::start().await;
    asterisk.set_global("TALK_1001", "60").await;
    let (app, acme, source) = connected(&asterisk, AMI_SECRET).await;
    wait_connected(&app, &source).await;
    asterisk
        .call_in("+16285550100", "+14155550123", "ACME SUPPLY", 10_000)
        .await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while !app
        .events(&acme.tenant_id)
        .await
        .iter()
        .any(|e| e.event_type.as_str() == "call.answered")
    {
        assert!(Instant::now() < deadline, "{}", asterisk.console());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    asterisk.restart().await;
    let events = call_events(&app, &acme).await;
    let alice = Some("Alice Nguyen");
    let got: Vec<_> = events
        .iter()
        .map(|e| (e.event_type.as_str(), e.call.user.name.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            ("call.ringing", alice),
            ("call.answered", alice),
            ("call.ended", alice)
        ]
    );
    let ended = events.last().unwrap();
    assert_eq!(ended.call.hangup_cause_raw.as_deref(), Some(GONE_CAUSE));
    assert_eq!(ended.call.disposition.map(|d| d.as_str()), Some("answered"));
    let ready: serde_json::Value = app.get("/readyz").await.json().await.unwrap();
    assert_eq!(ready["pbx"][source.as_str()]["connected"], true, "{ready}");
    app.stop().await.unwrap();
}
