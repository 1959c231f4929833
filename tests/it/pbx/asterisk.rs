//! The Asterisk connector inside the real server against a real Asterisk 22 (chroot prepared
//! by `tests/asterisk/prepare.sh`) making real calls between Local channels: the exact
//! triggers of each story.

use crate::support::TestApp;
use crate::support::asterisk::{AMI_SECRET, AMI_USER, Asterisk};
use crate::support::spawn_app_with;
use crate::support::tenant::{AcmeTenant, acme};
use ringhook::config::Backend;
use ringhook::domain::{SourceId, SourceKind};
use ringhook::normalizer::CallEvent;
use ringhook::pbx::SessionError;
use ringhook::pbx::ami_session::AmiSession;
use ringhook::pbx::socket_url::SocketUrl;
use ringhook::storage::{NewSource, PbxSocket};
use secrecy::SecretString;
use std::time::{Duration, Instant};

const ALICE: Option<&str> = Some("Alice Nguyen");
const ALICE_DID: &str = "+16285550100";

/// The app, the Acme tenant and an Asterisk source whose connector is logged in.
pub(super) async fn connected(
    asterisk: &Asterisk,
    secret: &str,
) -> (TestApp, AcmeTenant, SourceId) {
    connected_settling(asterisk, secret, 0).await
}

/// As [`connected`] on `backend`; `None` when that database is not available.
pub(super) async fn connected_on(
    asterisk: &Asterisk,
    backend: Backend,
) -> Option<(TestApp, AcmeTenant, SourceId)> {
    let setup = Setup {
        backend,
        ..Setup::default()
    };
    connected_with(asterisk, AMI_SECRET, setup).await
}

/// As [`connected`], with calls settling `settle` seconds after they look finished.
pub(super) async fn connected_settling(
    asterisk: &Asterisk,
    secret: &str,
    settle: u64,
) -> (TestApp, AcmeTenant, SourceId) {
    let setup = Setup {
        settle,
        ..Setup::default()
    };
    connected_with(asterisk, secret, setup).await.unwrap()
}

/// How a live scenario's app and source are set up.
pub(super) struct Setup {
    pub backend: Backend,
    /// `call_settle_seconds`.
    pub settle: u64,
    /// The source's `recording_url_template`; media may then be fetched from loopback.
    pub recording_urls: Option<String>,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            backend: Backend::Sqlite,
            settle: 0,
            recording_urls: None,
        }
    }
}

/// As [`connected`] with `setup`; `None` when its database is not available (PostgreSQL
/// without `TEST_DATABASE_URL`).
pub(super) async fn connected_with(
    asterisk: &Asterisk,
    secret: &str,
    setup: Setup,
) -> Option<(TestApp, AcmeTenant, SourceId)> {
    let fetch_from_loopback = setup.recording_urls.is_some();
    let app = spawn_app_with(setup.backend, |s| {
        s.call_settle_seconds = setup.settle;
        if fetch_from_loopback {
            s.allow_http_targets = true;
            s.allow_private_targets = true;
        }
    })
    .await?;
    let acme = acme(app.db.store.as_ref()).await;
    let store = app.db.store.as_ref();
    let source = store
        .create_source(&NewSource {
            tenant_id: acme.tenant_id.clone(),
            kind: SourceKind::Asterisk,
            secret: SecretString::from(secret.to_owned()),
            account_id: None,
            api: None,
            zoom: None,
        })
        .await
        .unwrap();
    store
        .save_pbx_socket(&PbxSocket {
            source_id: source.id.clone(),
            url: asterisk.ami_url(),
            username: Some(AMI_USER.into()),
            originate_context: None,
            recording_url_template: setup.recording_urls,
        })
        .await
        .unwrap();
    Some((app, acme, source.id))
}

pub(super) async fn wait_connected(app: &TestApp, source: &SourceId) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let ready: serde_json::Value = app.get("/readyz").await.json().await.unwrap();
        if ready["pbx"][source.as_str()]["connected"] == true {
            return;
        }
        assert!(Instant::now() < deadline, "never connected: {ready}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits for `call.ended`, then a little longer for a wrong extra trigger to show up.
pub(super) async fn call_events(app: &TestApp, acme: &AcmeTenant) -> Vec<CallEvent> {
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let events = app.events(&acme.tenant_id).await;
        if events.iter().any(|e| e.event_type.as_str() == "call.ended") {
            break;
        }
        assert!(Instant::now() < deadline, "no call.ended: {events:#?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut events = app.events(&acme.tenant_id).await;
    events.reverse();
    events
}

fn triggers(events: &[CallEvent]) -> Vec<(&str, Option<&str>)> {
    events
        .iter()
        .map(|e| (e.event_type.as_str(), e.call.user.name.as_deref()))
        .collect()
}

fn ended(events: &[CallEvent]) -> &CallEvent {
    events
        .iter()
        .find(|e| e.event_type.as_str() == "call.ended")
        .unwrap()
}

#[tokio::test]
async fn ami_login_succeeds_with_the_secret_and_is_refused_without_it() {
    let asterisk = Asterisk::start().await;
    let url = SocketUrl::parse(&asterisk.ami_url(), 5038).unwrap();
    let wait = Duration::from_secs(5);
    assert!(
        AmiSession::login(&url, AMI_USER, AMI_SECRET, wait)
            .await
            .is_ok()
    );
    match AmiSession::login(&url, AMI_USER, "wrong", wait).await {
        Err(SessionError::Refused(message)) => assert!(message.contains("Authentication")),
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("a wrong secret logged in"),
    }
}

async fn an_answered_inbound_call_rings_answers_and_ends_for_the_user(backend: Backend) {
    let asterisk = Asterisk::start().await;
    let Some((app, acme, source)) = connected_on(&asterisk, backend).await else {
        return;
    };
    wait_connected(&app, &source).await;
    asterisk
        .call_in(ALICE_DID, "+14155550123", "ACME SUPPLY", 10_000)
        .await;
    let events = call_events(&app, &acme).await;
    assert_eq!(
        triggers(&events),
        [
            ("call.ringing", ALICE),
            ("call.answered", ALICE),
            ("call.ended", ALICE)
        ],
        "{}",
        asterisk.console()
    );
    let end = ended(&events);
    assert_eq!(end.call.disposition.map(|d| d.as_str()), Some("answered"));
    assert_eq!(
        end.call.direction,
        ringhook::normalizer::model::Direction::Inbound
    );
    assert_eq!(
        end.call.from.number.as_ref().map(|n| n.as_str()),
        Some("+14155550123")
    );
    assert!(end.call.talk_seconds.is_some_and(|t| (1..=4).contains(&t)));
    assert!(events.iter().all(|e| e.call.id == events[0].call.id));
    // The AMI events the call was made of are kept as Asterisk sent them, for the console.
    let raw = app
        .db
        .store
        .raw_events_of_call(&acme.tenant_id, &events[0].call.id, 500)
        .await
        .unwrap();
    assert!(!raw.is_empty());
    assert!(raw.iter().all(|r| r.content_type == "text/plain"));
    assert!(
        raw.iter()
            .all(|r| r.body.starts_with("Event: ") && r.body.contains("\nUniqueid: ")),
        "{raw:?}"
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn an_unanswered_call_is_missed_when_the_dial_times_out() {
    let asterisk = Asterisk::start().await;
    asterisk.set_global("PHONE_1001", "ring").await;
    let (app, acme, source) = connected(&asterisk, AMI_SECRET).await;
    wait_connected(&app, &source).await;
    asterisk
        .call_in(ALICE_DID, "+14155550123", "ACME SUPPLY", 20_000)
        .await;
    let events = call_events(&app, &acme).await;
    assert_eq!(
        triggers(&events),
        [
            ("call.ringing", ALICE),
            ("call.missed", ALICE),
            ("call.ended", ALICE)
        ]
    );
    assert_eq!(
        ended(&events).call.disposition.map(|d| d.as_str()),
        Some("missed")
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_busy_phone_is_a_missed_call_ending_busy() {
    let asterisk = Asterisk::start().await;
    asterisk.set_global("PHONE_1001", "busy").await;
    let (app, acme, source) = connected(&asterisk, AMI_SECRET).await;
    wait_connected(&app, &source).await;
    asterisk
        .call_in(ALICE_DID, "+14155550123", "ACME SUPPLY", 10_000)
        .await;
    let events = call_events(&app, &acme).await;
    assert_eq!(
        triggers(&events),
        [
            ("call.ringing", ALICE),
            ("call.missed", ALICE),
            ("call.ended", ALICE)
        ]
    );
    assert_eq!(
        ended(&events).call.disposition.map(|d| d.as_str()),
        Some("busy")
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_caller_hanging_up_while_it_rings_is_a_cancelled_call() {
    let asterisk = Asterisk::start().await;
    asterisk.set_global("PHONE_1001", "ring").await;
    let (app, acme, source) = connected(&asterisk, AMI_SECRET).await;
    wait_connected(&app, &source).await;
    // The caller gives up after 2 s, before the 5 s dial timeout.
    asterisk
        .call_in(ALICE_DID, "+14155550123", "ACME SUPPLY", 2_000)
        .await;
    let events = call_events(&app, &acme).await;
    assert_eq!(
        triggers(&events),
        [
            ("call.ringing", ALICE),
            ("call.missed", ALICE),
            ("call.ended", ALICE)
        ]
    );
    assert_eq!(
        ended(&events).call.disposition.map(|d| d.as_str()),
        Some("cancelled")
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_wrong_ami_secret_shows_in_readyz_and_is_retried_with_backoff() {
    let asterisk = Asterisk::start().await;
    let (app, _acme, source) = connected(&asterisk, "not-the-secret").await;
    let deadline = Instant::now() + Duration::from_secs(15);
    let health = loop {
        let ready: serde_json::Value = app.get("/readyz").await.json().await.unwrap();
        let health = ready["pbx"][source.as_str()].clone();
        if health["error"].is_string() {
            break health;
        }
        assert!(Instant::now() < deadline, "no error reported: {ready}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(health["connected"], false);
    let error = health["error"].as_str().unwrap();
    assert!(error.contains("Authentication failed"), "{error}");
    assert!(!error.contains("not-the-secret"), "{error}");
    // Retried, but backing off (1 s, 2 s, 4 s, ... ±20 %) rather than hammering the PBX: a
    // few more attempts in the next 8 s (a loop without backoff would make hundreds).
    let refusals = || {
        asterisk
            .console()
            .matches("failed to authenticate as 'ringhook'")
            .count()
    };
    let first = refusals();
    tokio::time::sleep(Duration::from_secs(8)).await;
    let retries = refusals() - first;
    assert!((2..=5).contains(&retries), "{retries} retries in 8 s");
    app.stop().await.unwrap();
}

async fn a_queue_call_is_queued_rung_and_answered_by_the_agent(backend: Backend) {
    let asterisk = Asterisk::start().await;
    let Some((app, acme, source)) = connected_on(&asterisk, backend).await else {
        return;
    };
    wait_connected(&app, &source).await;
    asterisk
        .call_in("+16285550111", "+13105550142", "JORDAN LEE", 10_000)
        .await;
    let events = call_events(&app, &acme).await;
    let bob = Some("Bob Martin");
    assert_eq!(
        triggers(&events),
        [
            ("call.queued", Some("support")),
            ("call.ringing", bob),
            ("call.answered", bob),
            ("call.queue_answered", bob),
            ("call.ended", bob)
        ],
        "{}",
        asterisk.console()
    );
    let answered = &events[3];
    assert_eq!(
        answered.queue.as_ref().and_then(|q| q.id.as_deref()),
        Some("support")
    );
    assert_eq!(
        ended(&events).call.disposition.map(|d| d.as_str()),
        Some("answered")
    );
    app.stop().await.unwrap();
}

// A representative set also runs on PostgreSQL (each is a real call of about 15 s).
for_each_backend!(
    an_answered_inbound_call_rings_answers_and_ends_for_the_user,
    a_queue_call_is_queued_rung_and_answered_by_the_agent
);
