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
