//! `GET /v1/media/{id}` end to end: fixture scenarios ingested over HTTP, then the file fetched
//! through ringhook from a fake PBX (a real HTTP server) that records what ringhook sent.

use crate::support::tenant::{AcmeTenant, SourceApis, ZORIO_SECRET, acme_with};
use crate::support::token::bearer;
use crate::support::{Receiver, Reply, TestApp, spawn_app_with};
use ringhook::admin::simulate::signed_request;
use ringhook::config::{Backend, Settings};
use ringhook::domain::WebUrl;
use ringhook::storage::PbxApi;
use secrecy::SecretString;
use serde_json::Value;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ZORIO_RECORDING: &str =
    "https://files.zorio.example/rec/5b2f8e1c-3d4a-4b6c-9e7f-0a1b2c3d4e5f.mp3";

async fn app(backend: Backend, configure: impl FnOnce(&mut Settings)) -> Option<TestApp> {
    spawn_app_with(backend, |s| {
        s.allow_http_targets = true;
        configure(s);
    })
    .await
}

async fn acme(app: &TestApp, pbx: &Receiver) -> AcmeTenant {
    let apis = SourceApis {
        kazoo: Some(PbxApi {
            url: WebUrl::parse(&pbx.url("/v2")).unwrap(),
            key: SecretString::from("kazoo-account-api-key".to_owned()),
        }),
        zoom: None,
    };
    acme_with(app.db.store.as_ref(), &apis).await
}

/// The `media.url` of the first event of `event_type` (`pointer` to its media object).
async fn media_url(app: &TestApp, acme: &AcmeTenant, event_type: &str, pointer: &str) -> String {
    let events = app.wait_for_event(&acme.tenant_id, event_type).await;
    let events = serde_json::to_value(events).unwrap();
    let event = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == event_type)
        .unwrap()
        .clone();
    let url = event.pointer(pointer).and_then(Value::as_str).unwrap();
    url.to_owned()
}

/// Replays the Zorio answered call, its CDR's `recording_url` replaced by `url`.
async fn zorio_recording_at(app: &TestApp, acme: &AcmeTenant, url: &str) {
    for request in crate::support::scenario::requests(&acme.zorio, "zorio/inbound_answered") {
        let body = String::from_utf8(request.body.clone())
            .unwrap()
            .replace(ZORIO_RECORDING, url);
        let signed = signed_request(
            ringhook::domain::SourceKind::Zorio,
            ZORIO_SECRET,
            body.into_bytes(),
            chrono::Utc::now(),
        );
        let answer = app.post_ingest(&acme.zorio, &signed).await;
        assert_eq!(answer.status(), 200, "{}", request.file);
    }
}

fn kazoo_audio() -> [Reply; 2] {
    [
        Reply::status(201)
            .with_header("content-type", "application/json")
            .with_body(r#"{"auth_token":"kz-token","status":"success"}"#),
        Reply::status(200)
            .with_header("content-type", "audio/mpeg")
            .with_body("ID3-voicemail-audio"),
    ]
}

async fn a_kazoo_voicemail_streams_with_the_account_token(backend: Backend) {
    let Some(app) = app(backend, |_| {}).await else {
        return;
    };
    let pbx = Receiver::start().await;
    let acme = acme(&app, &pbx).await;
    app.replay(&acme.kazoo, "kazoo/inbound_voicemail").await;
    let url = media_url(&app, &acme, "call.voicemail", "/voicemail/media/url").await;
    assert!(url.contains("/v1/media/med_"), "{url}");
    let path = url
        .split_once("/v1/")
        .map(|(_, p)| format!("/v1/{p}"))
        .unwrap();
    let token = bearer(&app, &acme.tenant_id, &acme.alice, "calls:read").await;
    pbx.reply_with(kazoo_audio());
    let got = app
        .client
        .get(app.url(&path))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.headers()["content-type"], "audio/mpeg");
    assert_eq!(got.headers()["content-length"], "19");
    assert_eq!(got.text().await.unwrap(), "ID3-voicemail-audio");
    let seen = pbx.requests();
    assert_eq!(seen[0].path, "/v2/api_auth");
    assert_eq!(seen[0].json()["data"]["api_key"], "kazoo-account-api-key");
    assert_eq!(
        seen[1].path,
        "/v2/accounts/4c122831efef10ac68b5223dccd6f614/vmboxes/220ad06ea76be98c9259cdbfee6bae11/messages/202406-09b2183cf6f76347435902822b5a4e80/raw"
    );
    assert_eq!(seen[1].header("x-auth-token"), Some("kz-token"));

    // A range goes to the source; its partial answer comes back as it was.
    pbx.reply_with([Reply::status(206)
        .with_header("content-type", "audio/mpeg")
        .with_header("content-range", "bytes 0-2/19")
        .with_body("ID3")]);
    let part = app
        .client
        .get(app.url(&path))
        .bearer_auth(&token)
        .header("range", "bytes=0-2")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.headers()["content-range"], "bytes 0-2/19");
    assert_eq!(part.text().await.unwrap(), "ID3");
    assert_eq!(pbx.requests()[2].header("range"), Some("bytes=0-2"));
    assert_eq!(pbx.requests()[2].header("x-auth-token"), Some("kz-token"));

    // HEAD: the headers alone, asked of the source as HEAD.
    pbx.reply_with([Reply::status(200)
        .with_header("content-type", "audio/mpeg")
        .with_body("ID3-voicemail-audio")]);
    let head = app
        .client
        .head(app.url(&path))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["content-length"], "19");
    assert_eq!(head.headers()["content-type"], "audio/mpeg");
    let methods: Vec<String> = pbx.requests().iter().map(|r| r.method.clone()).collect();
    assert_eq!(methods, ["PUT", "GET", "GET", "HEAD"]);
}

async fn a_user_who_cannot_see_the_call_gets_404(backend: Backend) {
    let Some(app) = app(backend, |_| {}).await else {
        return;
    };
    let pbx = Receiver::start().await;
    let acme = acme(&app, &pbx).await;
    app.replay(&acme.kazoo, "kazoo/inbound_voicemail").await;
    let url = media_url(&app, &acme, "call.voicemail", "/voicemail/media/url").await;
    let path = url
        .split_once("/v1/")
        .map(|(_, p)| format!("/v1/{p}"))
        .unwrap();
    let bob = bearer(&app, &acme.tenant_id, &acme.bob, "calls:read").await;
    let refused = app
        .client
        .get(app.url(&path))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 404);
    let unknown = app
        .client
        .get(app.url("/v1/media/med_00000000000000000000000000"))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    assert!(pbx.requests().is_empty(), "nothing was fetched for them");
    // Without a token there is no answer at all.
    let anonymous = app.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
}

async fn a_payload_url_to_a_private_address_is_refused(backend: Backend) {
    let Some(app) = app(backend, |s| s.allow_private_targets = false).await else {
        return;
    };
    let pbx = Receiver::start().await;
    let acme = acme(&app, &pbx).await;
    zorio_recording_at(&app, &acme, &pbx.url("/rec/internal.mp3")).await;
    let url = media_url(&app, &acme, "call.recording_ready", "/recording/media/url").await;
    let path = url
        .split_once("/v1/")
        .map(|(_, p)| format!("/v1/{p}"))
        .unwrap();
    let token = bearer(
        &app,
        &acme.tenant_id,
        &acme.alice,
        "calls:read tenant:admin",
    )
    .await;
    let refused = app
        .client
        .get(app.url(&path))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 502);
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["code"], "pbx_error");
    assert!(
        !problem.to_string().contains("127.0.0.1"),
        "the raw URL is not shown: {problem}"
    );
    assert!(pbx.requests().is_empty(), "ringhook never connected");
}

/// A fake file server that writes `size` bytes in 64 KiB pieces, never holding the file.
async fn serve_large_file(size: u64) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = [0u8; 4096];
                let _ = socket.read(&mut head).await;
                let start = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: audio/wav\r\ncontent-length: {size}\r\n\r\n"
                );
                socket.write_all(start.as_bytes()).await.unwrap();
                let piece = vec![7u8; 64 * 1024];
                let mut left = size;
                while left > 0 {
                    let n = left.min(piece.len() as u64) as usize;
                    if socket.write_all(&piece[..n]).await.is_err() {
                        return;
                    }
                    left -= n as u64;
                }
            });
        }
    });
    address
}

/// Resident memory of this process (app, fake PBX and client all live here), in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

async fn a_50_mb_file_streams_with_flat_memory(backend: Backend) {
    const SIZE: u64 = 50 * 1024 * 1024;
    let Some(app) = app(backend, |s| s.allow_private_targets = true).await else {
        return;
    };
    let pbx = Receiver::start().await;
    let acme = acme(&app, &pbx).await;
    let files = serve_large_file(SIZE).await;
    zorio_recording_at(&app, &acme, &format!("{files}/big.wav")).await;
    let url = media_url(&app, &acme, "call.recording_ready", "/recording/media/url").await;
    let path = url
        .split_once("/v1/")
        .map(|(_, p)| format!("/v1/{p}"))
        .unwrap();
    let token = bearer(
        &app,
        &acme.tenant_id,
        &acme.alice,
        "calls:read tenant:admin",
    )
    .await;
    let before = rss_kib();
    let mut got = app
        .client
        .get(app.url(&path))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.headers()["content-length"], SIZE.to_string().as_str());
    let (mut received, mut peak) = (0u64, before);
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(30), got.chunk())
        .await
        .unwrap()
        .unwrap()
    {
        assert!(chunk.iter().all(|b| *b == 7));
        received += chunk.len() as u64;
        peak = peak.max(rss_kib());
    }
    assert_eq!(received, SIZE);
    let growth_mib = peak.saturating_sub(before) / 1024;
    eprintln!("media streaming: 50 MiB through ringhook, RSS growth {growth_mib} MiB");
    assert!(
        growth_mib < 16,
        "RSS grew by {growth_mib} MiB while streaming 50 MiB"
    );
}

async fn a_file_over_the_size_cap_is_refused(backend: Backend) {
    let Some(app) = app(backend, |s| {
        s.allow_private_targets = true;
        s.media_max_bytes = 1024 * 1024;
    })
    .await
    else {
        return;
    };
    let pbx = Receiver::start().await;
    let acme = acme(&app, &pbx).await;
    let files = serve_large_file(2 * 1024 * 1024).await;
    zorio_recording_at(&app, &acme, &format!("{files}/big.wav")).await;
    let url = media_url(&app, &acme, "call.recording_ready", "/recording/media/url").await;
    let path = url
        .split_once("/v1/")
        .map(|(_, p)| format!("/v1/{p}"))
        .unwrap();
    let token = bearer(
        &app,
        &acme.tenant_id,
        &acme.alice,
        "calls:read tenant:admin",
    )
    .await;
    let refused = app
        .client
        .get(app.url(&path))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 413);
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["code"], "payload_too_large");
}

for_each_backend!(
    a_kazoo_voicemail_streams_with_the_account_token,
    a_user_who_cannot_see_the_call_gets_404,
    a_payload_url_to_a_private_address_is_refused,
    a_50_mb_file_streams_with_flat_memory,
    a_file_over_the_size_cap_is_refused,
);
