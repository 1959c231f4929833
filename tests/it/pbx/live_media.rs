//! Voicemail and `MixMonitor()` recordings against the real Asterisk: the triggers, what AMI
//! tells of the message and the file, and the recording fetched through `/v1/media`.

use super::asterisk::{Setup, call_events, connected, connected_with, wait_connected};
use crate::support::asterisk::{AMI_SECRET, Asterisk};
use crate::support::token::bearer;
use std::path::PathBuf;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[tokio::test]
async fn an_unanswered_call_that_leaves_a_message_is_missed_then_voicemail() {
    let asterisk = Asterisk::start().await;
    asterisk.set_global("PHONE_1001", "ring").await;
    let (app, acme, source) = connected(&asterisk, AMI_SECRET).await;
    wait_connected(&app, &source).await;
    // Alice's phone rings 3 s, then VoiceMail(1001@default,u) plays its greeting and
    // records until it hears nothing (the caller sends no audio) and saves the message.
    asterisk
        .call_in("+16285550110", "+14155550123", "ACME SUPPLY", 20_000)
        .await;
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
            ("call.missed", alice),
            ("call.voicemail", alice),
            ("call.ended", alice)
        ],
        "{}",
        asterisk.console()
    );
    let message = events[2].voicemail.as_ref().unwrap();
    assert_eq!(message.box_id.as_deref(), Some("1001@default"));
    // The file app_voicemail saved, as `VM_MESSAGEFILE` names it.
    assert_eq!(message.message_id.as_deref(), Some("INBOX/msg0000"));
    let saved = asterisk
        .spool_dir()
        .join("voicemail/default/1001/INBOX/msg0000.txt");
    assert!(saved.exists(), "{}", asterisk.console());
    // AMI tells no length and offers no way to the audio.
    assert_eq!(message.duration_seconds, None);
    assert!(message.media.is_none());
    let ended = events.last().unwrap();
    assert_eq!(
        ended.call.disposition.map(|d| d.as_str()),
        Some("voicemail")
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_recorded_call_tells_its_recording_and_the_file_streams_from_the_template_url() {
    let asterisk = Asterisk::start().await;
    let files = FileServer::start(asterisk.spool_dir().join("monitor")).await;
    let setup = Setup {
        recording_urls: Some(format!("{}/recordings/{{file}}", files.base)),
        ..Setup::default()
    };
    let (app, acme, source) = connected_with(&asterisk, AMI_SECRET, setup).await.unwrap();
    wait_connected(&app, &source).await;
    asterisk.set_global("TALK_1001", "3").await;
    asterisk
        .call_in("+16285550114", "+14155550123", "ACME SUPPLY", 10_000)
        .await;
    let mut events = call_events(&app, &acme).await;
    // The file is complete when the recorded channel hangs up, around the call's end.
    events.sort_by_key(|e| e.event_type.as_str() == "call.recording_ready");
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
            ("call.ended", alice),
            ("call.recording_ready", alice)
        ],
        "{}",
        asterisk.console()
    );
    let recording = events[3].recording.as_ref().unwrap();
    assert!(
        recording.id.starts_with("call-") && recording.id.ends_with(".wav"),
        "{}",
        recording.id
    );
    // From MixMonitorStart to the hang-up: a second of ringing and three of talk.
    let seconds = recording.duration_seconds.unwrap();
    assert!((3..=6).contains(&seconds), "{seconds} s");
    assert_eq!(recording.media.content_type, "audio/wav");
    assert!(recording.media.url.contains("/v1/media/med_"));

    let path = recording
        .media
        .url
        .split_once("/v1/")
        .map(|(_, p)| format!("/v1/{p}"))
        .unwrap();
    let token = bearer(&app, &acme.tenant_id, &acme.alice, "calls:read").await;
    let got = app
        .client
        .get(app.url(&path))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    let body = got.bytes().await.unwrap();
    let on_disk = std::fs::read(asterisk.spool_dir().join("monitor").join(&recording.id)).unwrap();
    assert_eq!(body.as_ref(), on_disk.as_slice());
    assert!(body.starts_with(b"RIFF"));
    assert_eq!(
        files.requested().await,
        [format!("/recordings/{}", recording.id)]
    );
    app.stop().await.unwrap();
}

/// A plain web server offering one folder, as an operator would serve Asterisk's
/// `monitor/` folder to ringhook.
struct FileServer {
    base: String,
    paths: std::sync::Arc<tokio::sync::Mutex<Vec<String>>>,
}

impl FileServer {
    async fn start(folder: PathBuf) -> FileServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let paths = std::sync::Arc::new(tokio::sync::Mutex::new(Vec::new()));
        let seen = paths.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut request = vec![0u8; 4096];
                let n = socket.read(&mut request).await.unwrap_or(0);
                let text = String::from_utf8_lossy(&request[..n]).into_owned();
                let path = text.split(' ').nth(1).unwrap_or("/").to_owned();
                seen.lock().await.push(path.clone());
                let name = path.rsplit('/').next().unwrap_or_default();
                let head = match std::fs::read(folder.join(name)) {
                    Ok(body) => {
                        let head = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: audio/wav\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                            body.len()
                        );
                        [head.into_bytes(), body].concat()
                    }
                    Err(_) => {
                        b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                            .to_vec()
                    }
                };
                let _ = socket.write_all(&head).await;
                let _ = socket.shutdown().await;
            }
        });
        FileServer { base, paths }
    }

    async fn requested(&self) -> Vec<String> {
        tokio::time::sleep(Duration::from_millis(10)).await;
        self.paths.lock().await.clone()
    }
}
