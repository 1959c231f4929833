//! Property tests: no input, however malformed, makes an adapter panic. Every request a source
//! can send is answered with a verdict (events, ignored, unauthorized or malformed).

use super::{Headers, IngestRequest, kazoo, verify_and_parse, zoom, zorio};
use crate::domain::SourceKind;
use chrono::{TimeZone, Utc};
use proptest::prelude::*;

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 6, 3, 14, 0, 0)
        .single()
        .unwrap_or_default()
}

/// JSON-ish bodies: structure that gets past `serde_json` more often than random bytes.
fn json_like() -> impl Strategy<Value = Vec<u8>> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        "[a-zA-Z0-9_.:+ -]{0,20}".prop_map(serde_json::Value::from),
    ];
    let keys = prop_oneof![
        Just("event".to_owned()),
        Just("payload".to_owned()),
        Just("object".to_owned()),
        Just("call_id".to_owned()),
        Just("hook_event".to_owned()),
        Just("call_direction".to_owned()),
        Just("timestamp".to_owned()),
        Just("other_leg_call_id".to_owned()),
        "[a-z_]{1,12}",
    ];
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map(keys.clone(), inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
    .prop_map(|v| serde_json::to_vec(&v).unwrap_or_default())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn parsers_never_panic_on_arbitrary_bytes(body in prop::collection::vec(any::<u8>(), 0..512)) {
        let headers = Headers::new([("content-type", "application/x-www-form-urlencoded")]);
        let _ = kazoo::parse(&headers, &body, now());
        let _ = zoom::parse("secret", &body);
        let _ = zorio::parse(&Headers::default(), &body);
    }

    #[test]
    fn parsers_never_panic_on_json_shaped_bodies(body in json_like()) {
        let json = Headers::new([("content-type", "application/json"), ("x-zorio-event", "pbx.call.hangup")]);
        let _ = kazoo::parse(&json, &body, now());
        let _ = zoom::parse("secret", &body);
        let _ = zorio::parse(&json, &body);
    }

    #[test]
    fn verification_never_panics_on_arbitrary_headers(
        name in "[a-zA-Z-]{1,24}",
        value in "\\PC{0,80}",
        body in prop::collection::vec(any::<u8>(), 0..128),
        token in proptest::option::of("\\PC{0,40}"),
    ) {
        let headers = Headers::new([
            (name.clone(), value.clone()),
            ("x-zm-signature".to_owned(), value.clone()),
            ("x-zm-request-timestamp".to_owned(), value.clone()),
            ("x-zorio-signature".to_owned(), value.clone()),
            ("x-zorio-timestamp".to_owned(), value),
        ]);
        let request = IngestRequest { headers: &headers, query_token: token.as_deref(), body: &body };
        for kind in [SourceKind::Kazoo, SourceKind::Zoom, SourceKind::Zorio] {
            let _ = verify_and_parse(kind, "a-source-secret", &request, now());
        }
    }
}

/// Every time or duration field a source sends, by source and event.
const NUMERIC_FIELDS: [(SourceKind, &str, &str); 16] = [
    (
        SourceKind::Kazoo,
        r#"{"hook_event":"channel_destroy","call_id":"l1"}"#,
        "timestamp",
    ),
    (
        SourceKind::Kazoo,
        r#"{"hook_event":"channel_destroy","call_id":"l1","timestamp":63884642449}"#,
        "duration_seconds",
    ),
    (
        SourceKind::Kazoo,
        r#"{"hook_event":"channel_destroy","call_id":"l1","timestamp":63884642449}"#,
        "billing_seconds",
    ),
    (
        SourceKind::Kazoo,
        r#"{"hook_event":"channel_destroy","call_id":"l1"}"#,
        "ringing_seconds",
    ),
    (
        SourceKind::Kazoo,
        r#"{"event_name":"voicemail_new","call_id":"l1"}"#,
        "voicemail_timestamp",
    ),
    (
        SourceKind::Kazoo,
        r#"{"event_name":"voicemail_new","call_id":"l1"}"#,
        "voicemail_length",
    ),
    (
        SourceKind::Kazoo,
        r#"{"Event-Category":"acdc_call_stat","Event-Name":"waiting","Call-ID":"l1"}"#,
        "Entered-Timestamp",
    ),
    (
        SourceKind::Kazoo,
        r#"{"call_state":"pickup","member_call_id":"l1"}"#,
        "now",
    ),
    (
        SourceKind::Zoom,
        r#"{"event":"phone.callee_ringing","payload":{"object":{"call_id":"1"}}}"#,
        "event_ts",
    ),
    (
        SourceKind::Zoom,
        r#"{"event":"phone.voicemail_received","payload":{"object":{"call_id":"1"}}}"#,
        "payload.object.duration",
    ),
    (
        SourceKind::Zoom,
        r#"{"event":"phone.callee_call_history_completed","payload":{"object":{"call_logs":[{"call_id":"1"}]}}}"#,
        "payload.object.call_logs.0.talk_time",
    ),
    (
        SourceKind::Zoom,
        r#"{"event":"phone.callee_ended","payload":{"object":{"call_id":"1"}}}"#,
        "payload.object.call_end_time",
    ),
    (
        SourceKind::Zorio,
        r#"{"event":"pbx.call.hangup","data":{"call_uuid":"u1"}}"#,
        "data.duration",
    ),
    (
        SourceKind::Zorio,
        r#"{"event":"pbx.cdr.created","data":{"uuid":"u1"}}"#,
        "data.billsec",
    ),
    (
        SourceKind::Zorio,
        r#"{"event":"pbx.call.hangup","data":{"call_uuid":"u1"}}"#,
        "data.ended_at",
    ),
    (
        SourceKind::Zorio,
        r#"{"event":"pbx.call.ringing","data":{"call_uuid":"u1"}}"#,
        "timestamp",
    ),
];

/// Sets the field at dotted `path` (array indices as numbers) in `body`.
fn with_field(body: &str, path: &str, value: serde_json::Value) -> Vec<u8> {
    let mut root: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let mut at = &mut root;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        let next = match part.parse::<usize>() {
            Ok(i) => at.get_mut(i),
            Err(_) if parts.peek().is_none() => {
                at[part] = value.clone();
                None
            }
            Err(_) => at.get_mut(part),
        };
        match next {
            Some(inner) => at = inner,
            None => break,
        }
    }
    serde_json::to_vec(&root).unwrap_or_default()
}

fn extreme_value() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        prop_oneof![
            Just(i64::MAX),
            Just(i64::MIN),
            Just(1_000_000_000_000_000),
            Just(-1_000_000_000_000_000),
            Just(8_210_298_326_400),
            Just(0),
        ]
        .prop_map(serde_json::Value::from),
        "-?[0-9]{15,25}".prop_map(serde_json::Value::from),
        Just(serde_json::Value::from("+262143-12-31T23:59:59Z")),
        Just(serde_json::Value::from("0000-01-01T00:00:00Z")),
        Just(serde_json::Value::from("9999-12-31T23:59:59-23:59")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn extreme_times_and_durations_are_refused_or_in_bounds_never_a_panic(
        field in prop::sample::select(NUMERIC_FIELDS.to_vec()),
        value in extreme_value(),
    ) {
        let (kind, body, path) = field;
        let body = with_field(body, path, value);
        let headers = Headers::new([("content-type", "application/json")]);
        if let Ok(super::Parsed::Events(events)) =
            super::parse_verified(kind, "secret", &headers, &body, now())
        {
            for event in &events {
                prop_assert_eq!(super::bounds::check(event), Ok(()));
            }
        }
    }
}

#[test]
fn a_kazoo_duration_of_a_million_billion_seconds_is_malformed_not_a_panic() {
    let headers = Headers::new([("content-type", "application/json")]);
    for duration in ["1e15", "-1e15", "1000000000000000", "-1000000000000000"] {
        for field in ["duration_seconds", "billing_seconds", "ringing_seconds"] {
            let body = format!(
                r#"{{"hook_event":"channel_destroy","call_id":"l1","timestamp":63884642449,"{field}":{duration}}}"#
            );
            let parsed =
                super::parse_verified(SourceKind::Kazoo, "t", &headers, body.as_bytes(), now());
            assert!(
                matches!(parsed, Err(super::IngestError::Malformed(_))),
                "{field} = {duration}: {parsed:?}"
            );
        }
    }
}
