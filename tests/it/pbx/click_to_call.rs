//! Click-to-call on socket sources through the real API: the dial is handed to the connector
//! that holds the socket, sent as AMI `Originate` to a real Asterisk or as ESL
//! `bgapi originate` to a scripted event socket, and the PBX's answer decides the request.

use super::asterisk::{call_events, connected, connected_on, wait_connected};
use super::freeswitch::{freeswitch_source, handshake};
use crate::support::TestApp;
use crate::support::asterisk::{AMI_SECRET, Asterisk};
use crate::support::spawn_app_with;
use crate::support::tenant::acme;
use crate::support::token::bearer;
use ringhook::config::Backend;
use ringhook::domain::{EmailAddress, SourceId, TenantId, UserId};
use ringhook::storage::{NewUser, NewUserLink};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// Carol, whose phone is `endpoint` on the socket source `source`.
async fn carol(app: &TestApp, tenant: &TenantId, source: &SourceId, endpoint: &str) -> UserId {
    app.db
        .store
        .create_user(&NewUser {
            tenant_id: tenant.clone(),
            email: EmailAddress::parse("carol@acme.example").unwrap(),
            name: "Carol Reyes".into(),
            extension: Some("1003".into()),
            number: None,
            is_admin: false,
            password_hash: None,
            links: vec![NewUserLink {
                source_id: source.clone(),
                external_id: endpoint.into(),
            }],
        })
        .await
        .unwrap()
        .id
}

async fn place(app: &TestApp, token: &str, to: &str) -> (u16, Value) {
    let response = app
        .client
        .post(app.url("/v1/calls"))
        .bearer_auth(token)
        .json(&json!({"to": to, "caller_id": "+16285550100"}))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn wait_for_status(app: &TestApp, token: &str, id: &str, status: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let call: Value = app
            .client
            .get(app.url(&format!("/v1/calls/{id}")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if call["status"] == status {
            return call;
        }
        assert!(Instant::now() < deadline, "never {status}: {call}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn an_asterisk_click_to_call_rings_the_user_then_the_target_and_its_triggers_name_the_request(
    backend: Backend,
) {
    let asterisk = Asterisk::start().await;
    asterisk.set_global("TALK_1003", "6").await;
    let Some((app, acme, source)) = connected_on(&asterisk, backend).await else {
        return;
    };
    let carol = carol(&app, &acme.tenant_id, &source, "Local/1003@phones").await;
    wait_connected(&app, &source).await;
    let token = bearer(&app, &acme.tenant_id, &carol, "calls:read calls:write").await;

    let (status, call) = place(&app, &token, "(212) 555-0199").await;
    assert_eq!(status, 201, "{call}\n{}", asterisk.console());
    assert_eq!(call["source"], "asterisk");
    let id = call["id"].as_str().unwrap().to_owned();

    let events = call_events(&app, &acme).await;
    let carol_name = Some("Carol Reyes");
    let got: Vec<_> = events
        .iter()
        .map(|e| (e.event_type.as_str(), e.call.user.name.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            ("call.ringing", carol_name),
            ("call.answered", carol_name),
            ("call.ended", carol_name)
        ],
        "{}",
        asterisk.console()
    );
    for event in &events {
        let request = event
            .call
            .correlation
            .as_ref()
            .map(|c| c.request_id.as_str());
        assert_eq!(request, Some(id.as_str()), "{}", event.event_type.as_str());
    }
    let ended = events.last().unwrap();
    assert_eq!(
        ended.call.to.number.as_ref().map(|n| n.as_str()),
        Some("+12125550199"),
        "{}",
        serde_json::to_string_pretty(&ended.call).unwrap()
    );
    assert_eq!(
        ended.call.direction,
        ringhook::normalizer::model::Direction::Outbound
    );
    wait_for_status(&app, &token, &id, "ended").await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn an_asterisk_click_to_call_to_a_phone_asterisk_cannot_ring_fails_with_the_reason() {
    let asterisk = Asterisk::start().await;
    let (app, acme, source) = connected(&asterisk, AMI_SECRET).await;
    let carol = carol(&app, &acme.tenant_id, &source, "Nowhere/1003").await;
    wait_connected(&app, &source).await;
    let token = bearer(&app, &acme.tenant_id, &carol, "calls:read calls:write").await;

    let (status, call) = place(&app, &token, "+12125550199").await;
    // Asterisk queues an asynchronous Originate at once; the failure follows.
    assert_eq!(status, 201, "{call}");
    let id = call["id"].as_str().unwrap();
    let failed = wait_for_status(&app, &token, id, "failed").await;
    assert_eq!(
        failed["reason"], "the PBX could not ring the user's phone",
        "{failed}"
    );
    assert!(app.events(&acme.tenant_id).await.is_empty());
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_click_to_call_on_a_socket_source_no_process_is_connected_to_fails_unsent() {
    // A port nothing listens on: the connector never logs in.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.click_to_call_connect_timeout_seconds = 1;
    })
    .await
    .unwrap();
    let acme = acme(app.db.store.as_ref()).await;
    let source = freeswitch_source(app.db.store.as_ref(), &acme.tenant_id, port).await;
    let carol = carol(&app, &acme.tenant_id, &source, "user/1003").await;
    let token = bearer(&app, &acme.tenant_id, &carol, "calls:read calls:write").await;

    let started = Instant::now();
    let (status, problem) = place(&app, &token, "+12125550199").await;
    assert_eq!(status, 502, "{problem}");
    assert_eq!(problem["code"], "pbx_unreachable", "{problem}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let id = problem["call_id"].as_str().unwrap();
    let stored = wait_for_status(&app, &token, id, "failed").await;
    assert!(
        stored["reason"]
            .as_str()
            .unwrap()
            .contains("no ringhook process is connected"),
        "{stored}"
    );
    app.stop().await.unwrap();
}

/// The scripted event socket for one click-to-call: handshake, read the `bgapi` command,
/// answer it with `reply`, then send a `BACKGROUND_JOB` with `job_body` if given.
async fn script_one_dial(listener: TcpListener, reply: &str, job_body: Option<&str>) -> String {
    let (socket, _) = listener.accept().await.unwrap();
    let mut stream = BufReader::new(socket);
    assert!(handshake(&mut stream).await.1);
    let mut command = String::new();
    loop {
        command.clear();
        stream.read_line(&mut command).await.unwrap();
        if command.starts_with("bgapi ") {
            break;
        }
    }
    let text = format!("Content-Type: command/reply\nReply-Text: {reply}\nJob-UUID: job-1\n\n");
    stream.get_mut().write_all(text.as_bytes()).await.unwrap();
    if let Some(body) = job_body {
        let event = json!({
            "Event-Name": "BACKGROUND_JOB",
            "Job-UUID": "job-1",
            "Job-Command": "originate",
            "_body": body,
        })
        .to_string();
        let frame = format!(
            "Content-Length: {}\nContent-Type: text/event-json\n\n{event}",
            event.len()
        );
        stream.get_mut().write_all(frame.as_bytes()).await.unwrap();
    }
    // Keep the connection open while the test reads the outcome.
    tokio::spawn(async move {
        let mut line = String::new();
        while stream.read_line(&mut line).await.unwrap_or(0) > 0 {
            line.clear();
        }
    });
    command.trim().to_owned()
}

async fn freeswitch_office(listener: &TcpListener) -> (TestApp, String) {
    let port = listener.local_addr().unwrap().port();
    let app = spawn_app_with(Backend::Sqlite, |_| {}).await.unwrap();
    let acme = acme(app.db.store.as_ref()).await;
    let source = freeswitch_source(app.db.store.as_ref(), &acme.tenant_id, port).await;
    let carol = carol(&app, &acme.tenant_id, &source, "user/1003").await;
    let token = bearer(&app, &acme.tenant_id, &carol, "calls:read calls:write").await;
    (app, token)
}

#[tokio::test]
async fn a_freeswitch_click_to_call_is_a_bgapi_originate_and_its_job_failure_fails_the_request() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (app, token) = freeswitch_office(&listener).await;
    let script = tokio::spawn(script_one_dial(
        listener,
        "+OK Job-UUID: job-1",
        Some("-ERR USER_BUSY\n"),
    ));

    let (status, call) = place(&app, &token, "+12125550199").await;
    assert_eq!(status, 201, "{call}");
    let id = call["id"].as_str().unwrap().to_owned();
    assert_eq!(
        script.await.unwrap(),
        format!(
            "bgapi originate {{origination_caller_id_name='Acme Dental',\
             origination_caller_id_number=+16285550100,originate_timeout=20,\
             ringhook_request_id={id}}}user/1003 +12125550199 XML default"
        )
    );
    let failed = wait_for_status(&app, &token, &id, "failed").await;
    assert_eq!(
        failed["reason"],
        "FreeSWITCH could not ring the user's phone: USER_BUSY"
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_freeswitch_refusal_of_the_originate_answers_pbx_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (app, token) = freeswitch_office(&listener).await;
    let script = tokio::spawn(script_one_dial(listener, "-ERR invalid command", None));

    let (status, problem) = place(&app, &token, "+12125550199").await;
    assert_eq!(status, 502, "{problem}");
    assert_eq!(problem["code"], "pbx_error");
    assert_eq!(
        problem["reason"],
        "FreeSWITCH refused the originate: -ERR invalid command"
    );
    script.await.unwrap();
    let id = problem["call_id"].as_str().unwrap();
    let stored = wait_for_status(&app, &token, id, "failed").await;
    assert_eq!(stored["reason"], problem["reason"]);
    app.stop().await.unwrap();
}

// A representative set also runs on PostgreSQL (each is a real call of about 15 s).
for_each_backend!(
    an_asterisk_click_to_call_rings_the_user_then_the_target_and_its_triggers_name_the_request
);
