//! Asterisk `Cdr` manager events as the source's history (issue 13), through the real
//! connector against a scripted manager interface on a loopback port: a call ringhook never
//! saw is recovered from its record (Bob's miss, `origin: "reconciled"`, the record's times),
//! and a call whose hang-up was lost is closed at the record's end. On both databases.

use crate::support::spawn_app_with;
use crate::support::tenant::acme;
use chrono::{DateTime, Utc};
use ringhook::config::Backend;
use ringhook::domain::SourceKind;
use ringhook::normalizer::{CallEvent, Origin};
use ringhook::storage::{NewSource, PbxSocket};
use secrecy::SecretString;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// Alice's call from the outside, seen ringing and answered; its hang-ups are lost. The
/// server's clock runs at UTC+2, as the record's local times show (14:00 UTC is 16:00).
const OPEN_CALL: &str = "\
Event: Newchannel\r\nTimestamp: 1717423200.000000\r\nChannel: PJSIP/trunk-00000001\r\n\
ChannelStateDesc: Ring\r\nCallerIDNum: +14155550123\r\nCallerIDName: ACME SUPPLY\r\n\
Exten: 1001\r\nUniqueid: 1717423200.1\r\nLinkedid: 1717423200.1\r\n\r\n\
Event: DialBegin\r\nTimestamp: 1717423201.000000\r\nChannel: PJSIP/trunk-00000001\r\n\
CallerIDNum: +14155550123\r\nCallerIDName: ACME SUPPLY\r\nUniqueid: 1717423200.1\r\n\
Linkedid: 1717423200.1\r\nDestChannel: PJSIP/1001-00000002\r\nDestCallerIDNum: 1001\r\n\
DestUniqueid: 1717423200.2\r\nDestLinkedid: 1717423200.1\r\nDialString: 1001\r\n\r\n\
Event: DialEnd\r\nTimestamp: 1717423207.000000\r\nChannel: PJSIP/trunk-00000001\r\n\
CallerIDNum: +14155550123\r\nCallerIDName: ACME SUPPLY\r\nUniqueid: 1717423200.1\r\n\
Linkedid: 1717423200.1\r\nDestChannel: PJSIP/1001-00000002\r\nDestCallerIDNum: 1001\r\n\
DestUniqueid: 1717423200.2\r\nDestLinkedid: 1717423200.1\r\nDialStatus: ANSWER\r\n\r\n\
Event: Cdr\r\nTimestamp: 1717423249.500000\r\nAccountCode: \r\nSource: +14155550123\r\n\
Destination: 1001\r\nDestinationContext: from-trunk\r\n\
CallerID: \"ACME SUPPLY\" <+14155550123>\r\nChannel: PJSIP/trunk-00000001\r\n\
DestinationChannel: PJSIP/1001-00000002\r\nLastApplication: Dial\r\nLastData: PJSIP/1001,20\r\n\
StartTime: 2024-06-03 16:00:00\r\nAnswerTime: 2024-06-03 16:00:07\r\n\
EndTime: 2024-06-03 16:00:49\r\nDuration: 49\r\nBillableSeconds: 42\r\n\
Disposition: ANSWERED\r\nAMAFlags: DOCUMENTATION\r\nUniqueID: 1717423200.1\r\n\
UserField: \r\nLinkedID: 1717423200.1\r\n\r\n";

/// Bob's phone rang 25 s for a caller who gave up; only the record reached ringhook.
const NEVER_SEEN: &str = "\
Event: Cdr\r\nTimestamp: 1717423825.100000\r\nAccountCode: \r\nSource: +14155550199\r\n\
Destination: 1002\r\nDestinationContext: from-trunk\r\nCallerID: \"\" <+14155550199>\r\n\
Channel: PJSIP/trunk-00000003\r\nDestinationChannel: PJSIP/1002-00000004\r\n\
LastApplication: Dial\r\nLastData: PJSIP/1002,25\r\nStartTime: 2024-06-03 16:10:00\r\n\
AnswerTime: \r\nEndTime: 2024-06-03 16:10:25\r\nDuration: 25\r\nBillableSeconds: 0\r\n\
Disposition: NO ANSWER\r\nAMAFlags: DOCUMENTATION\r\nUniqueID: 1717423800.3\r\n\
UserField: \r\nLinkedID: 1717423800.3\r\n\r\n";

/// Reads one AMI action (lines up to a blank one); returns its `ActionID`.
async fn read_action(stream: &mut BufReader<tokio::net::TcpStream>) -> String {
    let mut id = String::new();
    loop {
        let mut line = String::new();
        if stream.read_line(&mut line).await.unwrap() == 0 {
            return id;
        }
        let line = line.trim_end();
        if line.is_empty() {
            return id;
        }
        if let Some(value) = line.strip_prefix("ActionID: ") {
            id = value.to_owned();
        }
    }
}

/// The manager interface: banner, login, an empty channel list, then `script`; then it
/// answers whatever is asked (keep-alive pings) until the connector leaves.
async fn scripted_ami(listener: TcpListener, script: String) {
    let (socket, _) = listener.accept().await.unwrap();
    let mut stream = BufReader::new(socket);
    let write = |s: String| s.into_bytes();
    stream
        .get_mut()
        .write_all(b"Asterisk Call Manager/9.0.0\r\n")
        .await
        .unwrap();
    let login = read_action(&mut stream).await;
    let reply = format!(
        "Response: Success\r\nActionID: {login}\r\nMessage: Authentication accepted\r\n\r\n"
    );
    stream.get_mut().write_all(&write(reply)).await.unwrap();
    let list = read_action(&mut stream).await;
    let reply = format!(
        "Response: Success\r\nActionID: {list}\r\nEventList: start\r\n\r\n\
         Event: CoreShowChannelsComplete\r\nActionID: {list}\r\nEventList: Complete\r\n\
         ListItems: 0\r\n\r\n{script}"
    );
    stream.get_mut().write_all(&write(reply)).await.unwrap();
    loop {
        let id = read_action(&mut stream).await;
        if id.is_empty() {
            return;
        }
        let pong = format!("Response: Success\r\nActionID: {id}\r\nPing: Pong\r\n\r\n");
        if stream.get_mut().write_all(&write(pong)).await.is_err() {
            return;
        }
    }
}

fn at(text: &str) -> Option<DateTime<Utc>> {
    text.parse().ok()
}

async fn asterisk_records_recover_a_call_never_seen_and_close_one_whose_hang_up_was_lost(
    backend: Backend,
) {
    let Some(app) = spawn_app_with(backend, |s| s.call_settle_seconds = 0).await else {
        return;
    };
    let acme = acme(app.db.store.as_ref()).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let ami = tokio::spawn(scripted_ami(listener, format!("{OPEN_CALL}{NEVER_SEEN}")));
    let store = app.db.store.as_ref();
    let source = store
        .create_source(&NewSource {
            tenant_id: acme.tenant_id.clone(),
            kind: SourceKind::Asterisk,
            secret: SecretString::from("ami-secret".to_owned()),
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
            username: Some("ringhook".into()),
            originate_context: None,
        })
        .await
        .unwrap();

    let deadline = Instant::now() + Duration::from_secs(30);
    let events: Vec<CallEvent> = loop {
        let events = app.events(&acme.tenant_id).await;
        let ended = events
            .iter()
            .filter(|e| e.event_type.as_str() == "call.ended");
        if ended.count() == 2 {
            break events;
        }
        assert!(Instant::now() < deadline, "not both ended: {events:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // A wrong extra trigger would show up meanwhile.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(app.events(&acme.tenant_id).await.len(), events.len());

    let of_call = |key: &str| -> Vec<&CallEvent> {
        let mut found: Vec<&CallEvent> = events
            .iter()
            .filter(|e| e.call.source_call_id == key)
            .collect();
        found.sort_by_key(|e| (e.occurred_at, e.event_type));
        found
    };
    let open = of_call("1717423200.1");
    let kinds: Vec<&str> = open.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(kinds, ["call.ringing", "call.answered", "call.ended"]);
    let ended = open[2];
    assert_eq!(ended.call.ended_at, at("2024-06-03T14:00:49Z"));
    assert_eq!(ended.call.answered_at, at("2024-06-03T14:00:07Z"));
    assert_eq!(ended.call.talk_seconds, Some(42));
    assert_eq!(ended.call.user.user_id.as_ref(), Some(&acme.alice));

    let recovered = of_call("1717423800.3");
    let mut kinds: Vec<&str> = recovered.iter().map(|e| e.event_type.as_str()).collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["call.ended", "call.missed"]);
    assert!(recovered.iter().all(|e| e.origin == Origin::Reconciled));
    let missed = recovered
        .iter()
        .find(|e| e.event_type.as_str() == "call.missed")
        .unwrap();
    assert_eq!(missed.call.user.user_id.as_ref(), Some(&acme.bob));
    assert_eq!(missed.call.started_at, at("2024-06-03T14:10:00Z"));
    assert_eq!(missed.occurred_at, at("2024-06-03T14:10:25Z").unwrap());
    assert_eq!(missed.missed.as_ref().unwrap().ring_seconds, Some(25));
    app.stop().await.unwrap();
    ami.abort();
}

for_each_backend!(asterisk_records_recover_a_call_never_seen_and_close_one_whose_hang_up_was_lost);
