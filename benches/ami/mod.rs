//! A scripted Asterisk Manager Interface for the ingest bench: it accepts ringhook's login,
//! answers its `CoreShowChannels` with no channels, then pushes a recorded call stream, each
//! copy under its own Uniqueids and Linkedid, as fast as ringhook reads the socket.

use serde_json::Value;
use std::path::Path;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The recorded AMI events of a folder of `tests/data/asterisk`, in file order.
pub fn recording(folder: &Path) -> Vec<Vec<(String, String)>> {
    let mut files: Vec<_> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| {
            let json: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
            json.as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .collect()
}

/// `copies` copies of `events` on the wire, copy `n`'s channel ids rewritten (`1717.101`
/// → `1717n000042.101`) so that each is a call of its own.
pub fn stream(events: &[Vec<(String, String)>], copies: usize) -> (Vec<u8>, usize) {
    let mut wire = Vec::new();
    let mut count = 0;
    for n in 0..copies {
        for event in events {
            for (key, value) in event {
                let value = if key.ends_with("Uniqueid") || key.ends_with("Linkedid") {
                    match value.split_once('.') {
                        Some((secs, rest)) => format!("{secs}n{n:06}.{rest}"),
                        None => format!("{value}n{n:06}"),
                    }
                } else {
                    value.clone()
                };
                wire.extend_from_slice(format!("{key}: {value}\r\n").as_bytes());
            }
            wire.extend_from_slice(b"\r\n");
            count += 1;
        }
    }
    (wire, count)
}

/// Listens on a free loopback port; the first connection gets the stream once logged in.
/// The receiver fires when the stream starts to flow.
pub async fn serve(wire: Vec<u8>) -> (u16, oneshot::Receiver<std::time::Instant>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (started, on_start) = oneshot::channel();
    tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let (mut read, mut write) = socket.into_split();
        write
            .write_all(b"Asterisk Call Manager/11.0.0\r\n")
            .await
            .unwrap();
        let mut pending = String::new();
        let mut buffer = vec![0u8; 4096];
        // Login, then CoreShowChannels.
        for _ in 0..2 {
            let action = loop {
                if let Some(end) = pending.find("\r\n\r\n") {
                    let action: String = pending.drain(..end + 4).collect();
                    break action;
                }
                let n = read.read(&mut buffer).await.unwrap();
                assert!(n > 0, "ringhook closed the AMI connection");
                pending.push_str(&String::from_utf8_lossy(&buffer[..n]));
            };
            let field = |name: &str| {
                action
                    .lines()
                    .find_map(|l| l.strip_prefix(&format!("{name}: ")))
                    .unwrap_or_default()
                    .to_owned()
            };
            let id = field("ActionID");
            let reply = if field("Action") == "Login" {
                format!(
                    "Response: Success\r\nActionID: {id}\r\nMessage: Authentication accepted\r\n\r\n"
                )
            } else {
                format!(
                    "Response: Success\r\nActionID: {id}\r\nEventList: start\r\n\r\n\
                     Event: CoreShowChannelsComplete\r\nActionID: {id}\r\nEventList: Complete\r\nListItems: 0\r\n\r\n"
                )
            };
            write.write_all(reply.as_bytes()).await.unwrap();
        }
        // Later actions (Ping) are read and left unanswered: the bench is over long before
        // ringhook would miss a Pong.
        tokio::spawn(async move { while read.read(&mut buffer).await.is_ok_and(|n| n > 0) {} });
        let _ = started.send(std::time::Instant::now());
        write.write_all(&wire).await.unwrap();
        // Hold the connection open until the bench ends.
        std::future::pending::<()>().await;
    });
    (port, on_start)
}
