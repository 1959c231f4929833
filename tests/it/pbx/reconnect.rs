//! The connectors across a lost link: after logging in again they ask the PBX for its live
//! channels (AMI `CoreShowChannels` of a restarted real Asterisk, ESL `show channels` of a
//! scripted event socket), and a call that died meanwhile (no hang-up was ever read) is
//! closed, once and without a lost or repeated trigger.

use super::asterisk::{call_events, connected, wait_connected};
use super::freeswitch::{FILES, fixture, freeswitch_source, handshake};
use crate::support::asterisk::{AMI_SECRET, Asterisk};
use crate::support::spawn_app_with;
use crate::support::tenant::acme;
use ringhook::config::Backend;
use ringhook::pbx::reconcile::GONE_CAUSE;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

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

#[tokio::test]
async fn a_freeswitch_call_missing_from_show_channels_after_a_reconnect_is_closed() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = spawn_app_with(Backend::Sqlite, |s| s.call_settle_seconds = 0)
        .await
        .unwrap();
    let acme = acme(app.db.store.as_ref()).await;
    freeswitch_source(app.db.store.as_ref(), &acme.tenant_id, port).await;

    // First connection: the call rings and is answered, then the link drops.
    let (socket, _) = listener.accept().await.unwrap();
    let mut first = BufReader::new(socket);
    assert!(handshake(&mut first).await.1);
    let answered = [fixture(FILES[0]), fixture(FILES[1]), fixture(FILES[2])].concat();
    first.get_mut().write_all(&answered).await.unwrap();
    app.wait_for_event(&acme.tenant_id, "call.answered").await;
    drop(first);

    // Second connection: FreeSWITCH lists no channel; the call ended while we were away.
    let (socket, _) = tokio::time::timeout(Duration::from_secs(10), listener.accept())
        .await
        .expect("the connector reconnects")
        .unwrap();
    let mut second = BufReader::new(socket);
    assert!(handshake(&mut second).await.1);
    let mut line = String::new();
    while line.trim().is_empty() {
        line.clear();
        second.read_line(&mut line).await.unwrap();
    }
    assert_eq!(line.trim(), "api show channels as json");
    let body = r#"{"row_count": 0}"#;
    let reply = format!(
        "Content-Type: api/response\nContent-Length: {}\n\n{body}",
        body.len()
    );
    second.get_mut().write_all(reply.as_bytes()).await.unwrap();

    app.wait_for_event(&acme.tenant_id, "call.ended").await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let events = app.events(&acme.tenant_id).await;
    let mut got: Vec<_> = events.iter().map(|e| e.event_type.as_str()).collect();
    got.sort();
    assert_eq!(got, ["call.answered", "call.ended", "call.ringing"]);
    let ended = events
        .iter()
        .find(|e| e.event_type.as_str() == "call.ended")
        .unwrap();
    assert_eq!(ended.call.hangup_cause_raw.as_deref(), Some(GONE_CAUSE));
    app.stop().await.unwrap();
}
