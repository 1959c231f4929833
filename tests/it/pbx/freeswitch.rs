//! The FreeSWITCH connector inside the real server, against a scripted event socket server
//! that speaks the documented wire protocol (`auth/request`, `command/reply`,
//! `text/event-json` with `Content-Length`) and replays the recorded call.

use crate::support::spawn_app_with;
use crate::support::tenant::acme;
use ringhook::config::Backend;
use ringhook::domain::{SourceId, SourceKind, TenantId};
use ringhook::storage::{NewSource, PbxSocket, Storage};
use secrecy::SecretString;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const PASSWORD: &str = "ClueCon-test";

pub(super) fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/freeswitch/esl_inbound_answered")
        .join(name);
    let value: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let body = value.to_string();
    format!(
        "Content-Length: {}\nContent-Type: text/event-json\n\n{body}",
        body.len()
    )
    .into_bytes()
}

pub(super) const FILES: [&str; 7] = [
    "01_CHANNEL_CREATE_a_leg.json",
    "02_CHANNEL_CREATE_b_leg.json",
    "03_CHANNEL_ANSWER_b_leg.json",
    "04_CHANNEL_ANSWER_a_leg.json",
    "05_CHANNEL_BRIDGE_a_leg.json",
    "06_CHANNEL_HANGUP_COMPLETE_b_leg.json",
    "07_CHANNEL_HANGUP_COMPLETE_a_leg.json",
];

/// One connection's handshake: `auth/request`, then the client's `auth` and `event json`
/// commands, each answered. Returns the commands read and whether the password was right.
pub(super) async fn handshake(stream: &mut BufReader<TcpStream>) -> (Vec<String>, bool) {
    stream
        .get_mut()
        .write_all(b"Content-Type: auth/request\n\n")
        .await
        .unwrap();
    let mut commands = Vec::new();
    loop {
        let mut line = String::new();
        if stream.read_line(&mut line).await.unwrap() == 0 {
            return (commands, false);
        }
        let command = line.trim().to_owned();
        if command.is_empty() {
            continue;
        }
        let authed = command == format!("auth {PASSWORD}");
        let reply = if command.starts_with("auth ") && !authed {
            "-ERR invalid"
        } else {
            "+OK accepted"
        };
        let text = format!("Content-Type: command/reply\nReply-Text: {reply}\n\n");
        stream.get_mut().write_all(text.as_bytes()).await.unwrap();
        let done = command.starts_with("event json") || reply.starts_with("-ERR");
        commands.push(command);
        if done {
            return (commands, !reply.starts_with("-ERR"));
        }
    }
}

pub(super) async fn freeswitch_source(
    store: &dyn Storage,
    tenant: &TenantId,
    port: u16,
) -> SourceId {
    let source = store
        .create_source(&NewSource {
            tenant_id: tenant.clone(),
            kind: SourceKind::Freeswitch,
            secret: SecretString::from(PASSWORD.to_owned()),
            account_id: None,
            api: None,
            zoom: None,
        })
        .await
        .unwrap();
    store
        .save_pbx_socket(&PbxSocket {
            source_id: source.id.clone(),
            url: format!("tcp://127.0.0.1:{port}"),
            username: None,
            originate_context: None,
            recording_url_template: None,
        })
        .await
        .unwrap();
    source.id
}

#[tokio::test]
async fn a_call_replayed_over_the_event_socket_with_a_dropped_connection_yields_its_triggers_once()
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = spawn_app_with(Backend::Sqlite, |s| s.call_settle_seconds = 0)
        .await
        .unwrap();
    let acme = acme(app.db.store.as_ref()).await;
    freeswitch_source(app.db.store.as_ref(), &acme.tenant_id, port).await;

    // First connection: an event split across writes, two in one write, then a drop in the
    // middle of the fifth event.
    let (socket, _) = listener.accept().await.unwrap();
    let mut first = BufReader::new(socket);
    let (commands, authed) = handshake(&mut first).await;
    assert!(authed, "{commands:?}");
    assert!(
        commands[1].starts_with("event json CHANNEL_CREATE"),
        "{commands:?}"
    );
    assert!(
        commands[1].contains("callcenter::info") && commands[1].contains("valet_parking::info")
    );
    let one = fixture(FILES[0]);
    let (head, tail) = one.split_at(40);
    first.get_mut().write_all(head).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    first.get_mut().write_all(tail).await.unwrap();
    let together = [fixture(FILES[1]), fixture(FILES[2]), fixture(FILES[3])].concat();
    first.get_mut().write_all(&together).await.unwrap();
    let fifth = fixture(FILES[4]);
    first
        .get_mut()
        .write_all(&fifth[..fifth.len() / 2])
        .await
        .unwrap();
    drop(first);

    // The connector reconnects; this time the rest of the call, with the answer repeated.
    let (socket, _) = tokio::time::timeout(Duration::from_secs(10), listener.accept())
        .await
        .expect("the connector reconnects")
        .unwrap();
    let mut second = BufReader::new(socket);
    assert!(handshake(&mut second).await.1);
    let rest = [
        fixture(FILES[3]),
        fixture(FILES[4]),
        fixture(FILES[5]),
        fixture(FILES[6]),
    ]
    .concat();
    second.get_mut().write_all(&rest).await.unwrap();

    app.wait_for_event(&acme.tenant_id, "call.ended").await;
    // Settling runs every 500 ms: give a wrong extra trigger the time to show up.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let events = app.events(&acme.tenant_id).await;
    let mut got: Vec<_> = events
        .iter()
        .map(|e| (e.event_type.as_str(), e.call.user.name.as_deref()))
        .collect();
    got.sort();
    let alice = Some("Alice Nguyen");
    assert_eq!(
        got,
        [
            ("call.answered", alice),
            ("call.ended", alice),
            ("call.ringing", alice),
        ]
    );
    let ended = events
        .iter()
        .find(|e| e.event_type.as_str() == "call.ended")
        .unwrap();
    assert_eq!(
        ended.call.source_call_id,
        "3f1c9b6e-5a2d-4e8f-9b7a-1c2d3e4f5a6b"
    );
    assert_eq!(ended.call.talk_seconds, Some(42));
    // The ESL events are kept as JSON, each applied one once (the repeated answer is not).
    let raw = app
        .db
        .store
        .raw_events_of_call(&acme.tenant_id, &ended.call.id, 500)
        .await
        .unwrap();
    assert!(raw.iter().all(|r| r.content_type == "application/json"));
    assert!(
        raw.iter()
            .any(|r| r.body.contains("3f1c9b6e-5a2d-4e8f-9b7a-1c2d3e4f5a6b")),
        "{raw:?}"
    );

    let ready: serde_json::Value = app.get("/readyz").await.json().await.unwrap();
    let health = ready["pbx"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap()
        .clone();
    assert_eq!(health["connected"], true, "{ready}");
    assert_eq!(health["kind"], "freeswitch");
    assert!(health["last_event_at"].is_string(), "{ready}");
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("ringhook_pbx_connected{source="),
        "{metrics}"
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_wrong_password_is_reported_in_readyz_and_retried_with_backoff() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = spawn_app_with(Backend::Sqlite, |_| {}).await.unwrap();
    let acme = acme(app.db.store.as_ref()).await;
    let source = app
        .db
        .store
        .create_source(&NewSource {
            tenant_id: acme.tenant_id.clone(),
            kind: SourceKind::Freeswitch,
            secret: SecretString::from("not-the-password".to_owned()),
            account_id: None,
            api: None,
            zoom: None,
        })
        .await
        .unwrap();
    app.db
        .store
        .save_pbx_socket(&PbxSocket {
            source_id: source.id.clone(),
            url: format!("tcp://127.0.0.1:{port}"),
            username: None,
            originate_context: None,
            recording_url_template: None,
        })
        .await
        .unwrap();

    let mut attempts = Vec::new();
    for _ in 0..2 {
        let (socket, _) = tokio::time::timeout(Duration::from_secs(10), listener.accept())
            .await
            .expect("the connector tries again")
            .unwrap();
        let mut stream = BufReader::new(socket);
        let (commands, authed) = handshake(&mut stream).await;
        assert!(!authed);
        assert!(!commands.iter().any(|c| c.starts_with("event json")));
        attempts.push(Instant::now());
    }
    assert!(
        attempts[1] - attempts[0] >= Duration::from_millis(700),
        "backoff"
    );

    let ready: serde_json::Value = app.get("/readyz").await.json().await.unwrap();
    let health = &ready["pbx"][source.id.as_str()];
    assert_eq!(health["connected"], false, "{ready}");
    let error = health["error"].as_str().unwrap();
    assert!(
        error.contains("refused") && error.contains("-ERR invalid"),
        "{error}"
    );
    assert!(!ready.to_string().contains("not-the-password"));
    app.stop().await.unwrap();
}
