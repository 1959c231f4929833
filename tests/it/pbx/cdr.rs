//! Asterisk `Cdr` manager events as the source's history (issue 13), through the real
//! connector against a scripted manager interface on a loopback port: a call ringhook never
//! saw is recovered from its record (Bob's miss, `origin: "reconciled"`, the record's times),
//! and the record of a call seen live changes nothing. On both databases.

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

/// Alice's call from the outside, seen ringing and answered; its hang-ups are lost, and its
/// record comes. The server's clock runs at UTC+2, as the records' local times show (14:00
/// UTC is 16:00).
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
UserField: \r\n\r\n";

/// Bob's phone rang 25 s for a caller who gave up; only the record reached ringhook.
const NEVER_SEEN: &str = "\
Event: Cdr\r\nTimestamp: 1717423825.100000\r\nAccountCode: \r\nSource: +14155550199\r\n\
Destination: 1002\r\nDestinationContext: from-trunk\r\nCallerID: \"\" <+14155550199>\r\n\
Channel: PJSIP/trunk-00000003\r\nDestinationChannel: PJSIP/1002-00000004\r\n\
LastApplication: Dial\r\nLastData: PJSIP/1002,25\r\nStartTime: 2024-06-03 16:10:00\r\n\
AnswerTime: \r\nEndTime: 2024-06-03 16:10:25\r\nDuration: 25\r\nBillableSeconds: 0\r\n\
Disposition: NO ANSWER\r\nAMAFlags: DOCUMENTATION\r\nUniqueID: 1717423800.3\r\n\
UserField: \r\n\r\n";

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

async fn an_asterisk_record_recovers_a_call_never_seen_and_leaves_a_seen_call_alone(
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
            recording_url_template: None,
        })
        .await
        .unwrap();

    let deadline = Instant::now() + Duration::from_secs(30);
    let events: Vec<CallEvent> = loop {
        let events = app.events(&acme.tenant_id).await;
        let ended = events
            .iter()
            .filter(|e| e.event_type.as_str() == "call.ended");
        if ended.count() == 1 {
            break events;
        }
        assert!(Instant::now() < deadline, "nothing recovered: {events:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // A wrong extra trigger would show up meanwhile (calls settle at once here).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(app.events(&acme.tenant_id).await.len(), events.len());

    let of_call = |key: &str| -> Vec<&CallEvent> {
        let mut found: Vec<&CallEvent> = events
            .iter()
            .filter(|e| e.call.source_call_id == key)
            .collect();
        found.sort_by_key(|e| (e.occurred_at, e.event_type));
        found
    };
    // Seen live: its record neither closes it nor changes what the live events said; its
    // lost hang-up waits for the channel list of a reconnect or the stale timeout.
    let open = of_call("1717423200.1");
    let kinds: Vec<&str> = open.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(kinds, ["call.ringing", "call.answered"]);
    assert!(open.iter().all(|e| e.origin == Origin::Live));

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

for_each_backend!(an_asterisk_record_recovers_a_call_never_seen_and_leaves_a_seen_call_alone);

/// Real Asterisk 22 (cdr_manager enabled in `tests/asterisk/etc`): its `Cdr` event of an
/// answered inbound call is read with its exact field names, under the key the call's live
/// events use (its party A is a Local channel of the call, not the first), in UTC.
#[tokio::test]
async fn a_real_asterisk_cdr_event_is_read_as_the_calls_record() {
    use crate::support::asterisk::Asterisk;
    use ringhook::ingest::RawEventKind;
    use ringhook::ingest::asterisk::AmiTranslator;
    let asterisk = Asterisk::start().await;
    // A session opened while Asterisk still boots may hear no events: a moment first.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut ami = asterisk.session().await;
    let started = Utc::now() - chrono::TimeDelta::seconds(1);
    let mut translator = AmiTranslator::new();
    let mut call_key = None;
    let mut record = None;
    // A call placed before the dialplan is loaded never starts: placed again then.
    for _attempt in 0..4 {
        asterisk
            .call_in("+16285550100", "+14155550123", "ACME SUPPLY", 10_000)
            .await;
        let mut deadline = Instant::now() + Duration::from_secs(5);
        while let Ok(Ok(Some(message))) = tokio::time::timeout(
            deadline.saturating_duration_since(Instant::now()),
            ami.next(),
        )
        .await
        {
            let events = translator.translate(&message);
            if call_key.is_none()
                && let Some(first) = events.iter().find(|e| e.kind == RawEventKind::LegCreated)
            {
                call_key = first.call_keys.first().cloned();
                deadline = Instant::now() + Duration::from_secs(30);
            }
            if message.event() == Some("Cdr")
                && let Some(cdr) = events.into_iter().next()
                && cdr.callee.extension.as_deref() == Some("1001")
            {
                record = Some((message, cdr));
                break;
            }
        }
        if call_key.is_some() {
            break;
        }
    }
    let (message, record) =
        record.unwrap_or_else(|| panic!("no Cdr event: {}", asterisk.console()));
    for field in [
        "AccountCode",
        "Source",
        "Destination",
        "DestinationContext",
        "CallerID",
        "Channel",
        "DestinationChannel",
        "LastApplication",
        "StartTime",
        "AnswerTime",
        "EndTime",
        "Duration",
        "BillableSeconds",
        "Disposition",
        "UniqueID",
    ] {
        assert!(
            message.get(field).is_some(),
            "no {field}: {}",
            message.to_json()
        );
    }
    assert_eq!(record.kind, RawEventKind::CallRecord);
    assert_eq!(record.call_keys.first(), call_key.as_ref());
    let t = &record.timing;
    let (start, end) = (t.started_at.unwrap(), t.ended_at.unwrap());
    assert!(
        started <= start && start <= end && end <= Utc::now(),
        "{t:?}"
    );
    assert!(t.answered_at.is_some(), "{}", message.to_json());
    assert_eq!(record.caller.number.as_deref(), Some("+14155550123"));
}
