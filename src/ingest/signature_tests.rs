//! Request verification against the recorded fixtures' exact bytes and headers.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use std::collections::HashMap;
use std::path::PathBuf;

use super::*;

const ZOOM_SECRET: &str = "zm_test_secret_token_0123456789";
const ZORIO_SECRET: &str = "Zr7Kq2Lm9Xw4Tb6Vn1Pc8Hs3Dy5Fg0Ja";

fn read(path: &str) -> Vec<u8> {
    let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures");
    std::fs::read(base.join(path)).unwrap()
}

fn headers(path: &str) -> Headers {
    let map: HashMap<String, serde_json::Value> = serde_json::from_slice(&read(path)).unwrap();
    Headers::new(
        map.into_iter()
            .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_owned())),
    )
}

fn at(epoch: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(epoch, 0).unwrap()
}

fn zoom(headers_file: &str, body_file: &str, now: DateTime<Utc>) -> Result<Parsed, IngestError> {
    let h = headers(&format!("zoom/signature_check/{headers_file}"));
    let body = read(&format!("zoom/signature_check/{body_file}"));
    let req = IngestRequest {
        headers: &h,
        query_token: None,
        body: &body,
    };
    verify_and_parse(SourceKind::Zoom, ZOOM_SECRET, &req, now)
}

#[test]
fn a_zoom_request_signed_with_the_secret_is_accepted() {
    let parsed = zoom(
        "phone.callee_answered.headers.json",
        "phone.callee_answered.body.json",
        at(1717423208),
    );
    assert!(matches!(parsed, Ok(Parsed::Events(ref e)) if e.len() == 1));
}

#[test]
fn a_zoom_request_signed_with_another_secret_is_unauthorized() {
    let parsed = zoom(
        "tampered.headers.json",
        "phone.callee_answered.body.json",
        at(1717423208),
    );
    assert!(matches!(parsed, Err(IngestError::Unauthorized(_))));
}

#[test]
fn a_zoom_request_older_than_five_minutes_is_unauthorized() {
    let late = at(1717423208) + TimeDelta::minutes(6);
    let parsed = zoom(
        "phone.callee_answered.headers.json",
        "phone.callee_answered.body.json",
        late,
    );
    assert!(matches!(parsed, Err(IngestError::Unauthorized(_))));
}

#[test]
fn zoom_url_validation_is_answered_with_the_expected_tokens() {
    let parsed = zoom(
        "endpoint.url_validation.headers.json",
        "endpoint.url_validation.body.json",
        at(1717419600),
    );
    let Ok(Parsed::UrlValidation(answer)) = parsed else {
        panic!("{parsed:?}")
    };
    let expected: serde_json::Value = serde_json::from_slice(&read(
        "zoom/signature_check/endpoint.url_validation.expected_response.json",
    ))
    .unwrap();
    assert_eq!(serde_json::to_value(answer).unwrap(), expected);
}

fn zorio(n: &str, secret: &str, now_offset: i64) -> Result<Parsed, IngestError> {
    let h = headers(&format!("zorio/inbound_answered/{n}.headers.json"));
    let body = read(&format!("zorio/inbound_answered/{n}.body.json"));
    let ts: i64 = h.get("x-zorio-timestamp").unwrap().parse().unwrap();
    let req = IngestRequest {
        headers: &h,
        query_token: None,
        body: &body,
    };
    verify_and_parse(SourceKind::Zorio, secret, &req, at(ts + now_offset))
}

#[test]
fn every_zorio_fixture_verifies_and_dedupes_on_its_delivery_id() {
    for n in [
        "01_pbx.call.ringing",
        "02_pbx.call.answered",
        "03_pbx.call.hangup",
        "04_pbx.cdr.created",
    ] {
        let Ok(Parsed::Events(events)) = zorio(n, ZORIO_SECRET, 0) else {
            panic!("{n}")
        };
        assert!(events[0].dedupe_key.starts_with("zorio:"), "{n}");
    }
}

#[test]
fn a_zorio_request_with_a_wrong_secret_or_stale_timestamp_is_unauthorized() {
    assert!(matches!(
        zorio("01_pbx.call.ringing", "other", 0),
        Err(IngestError::Unauthorized(_))
    ));
    assert!(matches!(
        zorio("01_pbx.call.ringing", ZORIO_SECRET, 301),
        Err(IngestError::Unauthorized(_))
    ));
}

#[test]
fn kazoo_accepts_only_the_right_token() {
    let body = read("kazoo/inbound_answered/02_channel_create_b_leg.json");
    let h = Headers::default();
    let now = at(1717423201);
    let with = |token| IngestRequest {
        headers: &h,
        query_token: token,
        body: &body,
    };
    assert!(verify_and_parse(SourceKind::Kazoo, "s3cret", &with(Some("s3cret")), now).is_ok());
    let wrong = verify_and_parse(SourceKind::Kazoo, "s3cret", &with(Some("nope")), now);
    assert!(matches!(wrong, Err(IngestError::Unauthorized(_))));
    let missing = verify_and_parse(SourceKind::Kazoo, "s3cret", &with(None), now);
    assert!(matches!(missing, Err(IngestError::Unauthorized(_))));
}

#[test]
fn a_kazoo_form_body_parses_like_its_json_twin() {
    let form = b"hook_event=channel_create&call_id=abc&call_direction=outbound&owner_id=o1\
&custom_channel_vars%5BCall-Interaction-ID%5D=63884642400-3f2a1b9c&timestamp=63884642401";
    let h = Headers::new([("content-type", "application/x-www-form-urlencoded")]);
    let Ok(Parsed::Events(events)) = kazoo::parse(&h, form, at(0)) else {
        panic!()
    };
    assert_eq!(events[0].call_keys[0], "cid:63884642400-3f2a1b9c");
    assert_eq!(events[0].callee.external_user_id.as_deref(), Some("o1"));
    assert_eq!(events[0].occurred_at, Some(at(1717423201)));
}

#[test]
fn unknown_event_types_are_ignored_not_refused() {
    let h = Headers::default();
    let parsed = kazoo::parse(&h, br#"{"event_name":"object_created","id":"x"}"#, at(0));
    assert!(matches!(parsed, Ok(Parsed::Ignored { .. })));
    let parsed = zoom::parse(ZOOM_SECRET, br#"{"event":"phone.sms_sent","payload":{}}"#);
    assert!(matches!(parsed, Ok(Parsed::Ignored { .. })));
}

#[test]
fn a_body_that_is_not_json_is_malformed() {
    assert!(matches!(
        zoom::parse(ZOOM_SECRET, b"{nope"),
        Err(IngestError::Malformed(_))
    ));
}
