//! Zoom Phone's call history: `GET /phone/call_history` (`from`/`to` at most a month apart,
//! `page_size` up to 300, `time_type=end_time`, `next_page_token` from the previous page, valid
//! for 15 minutes), then `GET /phone/call_history/{call_history_uuid}` for each call's path
//! (`call_elements[]`: who rang, who answered, whose voicemail took it). Requests carry the
//! bearer token of the source's Server-to-Server OAuth app (`crate::source_api::zoom`). The
//! older `/phone/call_logs` is deprecated and not used.
//!
//! A window longer than a month is read a month at a time. A page token that expired before it
//! was used (Zoom answers 400) restarts the month from its first page: records applied twice
//! change nothing, since a call already ended is left alone.
//!
//! The history names a call's recordings by id only, so for a call it marks as recorded
//! (`recording_status: "recorded"`, or a path element with a `recording_id`) the reader also
//! asks `GET /phone/recordings` around the call's times (`from`/`to` as date-times, the account's
//! recordings with their `call_id`, `duration` and `download_url`) and keeps that call's own. A
//! voicemail is named by its message id, without audio.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::Arc;

use super::http::{HistoryError, get_json};
use super::record::{HistoryRecord, HistoryVoicemail, Rung};
use crate::ingest::json::{int, rfc3339, text};
use crate::ingest::raw::keys;
use crate::ingest::{EndReason, RawMedia, RawParty, RawRecording, RawVoicemail};
use crate::source_api::SourceApi;
use crate::storage::Source;

/// Calls asked for per page: the most Zoom serves.
pub const PAGE_SIZE: u32 = 300;
/// The longest span one listing may cover (Zoom: one month).
const MAX_SPAN_DAYS: i64 = 30;
/// Restarts of one month after expired page tokens before the read fails.
const MAX_RESTARTS: u32 = 3;
/// How far around a call's start and end its recordings are looked for: a recording's
/// `date_time` is when it started, within the call, and clocks may differ by a little.
const RECORDING_MARGIN: TimeDelta = TimeDelta::minutes(1);
/// Pages of the recordings listing read for one call before giving up on finding more.
const MAX_RECORDING_PAGES: usize = 10;

/// A stretch of time one listing covers, `[from, to)`.
type Span = (DateTime<Utc>, DateTime<Utc>);

/// Reads one window of a Zoom source's call history, page by page.
pub struct ZoomHistory {
    api: Arc<SourceApi>,
    source: Source,
    /// The month-long spans of the window still to read, oldest first.
    spans: VecDeque<Span>,
    /// The span being read and the token of its next page (`None`: its first page).
    current: Option<(Span, Option<String>)>,
    restarts: u32,
}

impl ZoomHistory {
    pub fn new(
        api: Arc<SourceApi>,
        source: &Source,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<ZoomHistory, HistoryError> {
        if source.zoom.is_none() {
            return Err(HistoryError::Misconfigured(
                "the source has no Zoom Server-to-Server OAuth app".into(),
            ));
        }
        Ok(ZoomHistory {
            api,
            source: source.clone(),
            spans: spans(from, to),
            current: None,
            restarts: 0,
        })
    }

    /// The records of the next page; `None` once the window is read.
    pub async fn next_page(&mut self) -> Result<Option<Vec<HistoryRecord>>, HistoryError> {
        loop {
            let (span, token) = match self.current.take() {
                Some(current) => current,
                None => match self.spans.pop_front() {
                    Some(span) => (span, None),
                    None => return Ok(None),
                },
            };
            let query = page_query(span, token.as_deref());
            let page = get_json(|| {
                self.api
                    .zoom_list(&self.source, "phone/call_history", &query)
            })
            .await;
            let body = match page {
                Err(HistoryError::Refused { status: 400, .. })
                    if token.is_some() && self.restarts < MAX_RESTARTS =>
                {
                    self.restarts += 1;
                    tracing::info!(source = %self.source.id, "Zoom page token expired; reading the month again from its first page");
                    self.current = Some((span, None));
                    continue;
                }
                other => other?,
            };
            let calls = body
                .get("call_history")
                .and_then(Value::as_array)
                .ok_or_else(|| HistoryError::Malformed("no `call_history` array".into()))?;
            if let Some(next) = text(&body, "next_page_token").filter(|t| !t.is_empty()) {
                self.current = Some((span, Some(next)));
            }
            let mut records = Vec::with_capacity(calls.len());
            for call in calls {
                let elements = self.call_elements(call).await?;
                let Some(mut found) = record(call, &elements) else {
                    continue;
                };
                if was_recorded(call, &elements) {
                    found.recordings = self.recordings(call).await?;
                }
                records.push(found);
            }
            return Ok(Some(records));
        }
    }

    /// The call's path, from `GET /phone/call_history/{call_history_uuid}`.
    async fn call_elements(&self, call: &Value) -> Result<Vec<Value>, HistoryError> {
        let Some(uuid) = text(call, "call_history_uuid").or_else(|| text(call, "id")) else {
            return Ok(Vec::new());
        };
        let path = format!("phone/call_history/{uuid}");
        let detail = get_json(|| self.api.zoom_list(&self.source, &path, &[])).await?;
        Ok(detail
            .get("call_elements")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default())
    }

    /// The call's recordings, from `GET /phone/recordings` over the call's own minutes.
    async fn recordings(&self, call: &Value) -> Result<Vec<RawRecording>, HistoryError> {
        let (Some(call_id), Some(start), Some(end)) = (
            text(call, "call_id"),
            rfc3339(call, "start_time"),
            rfc3339(call, "end_time"),
        ) else {
            return Ok(Vec::new());
        };
        let mut found = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_RECORDING_PAGES {
            let mut query = vec![
                ("from", zoom_time(start - RECORDING_MARGIN)),
                ("to", zoom_time(end + RECORDING_MARGIN)),
                ("page_size", PAGE_SIZE.to_string()),
            ];
            if let Some(token) = &token {
                query.push(("next_page_token", token.clone()));
            }
            let body =
                get_json(|| self.api.zoom_list(&self.source, "phone/recordings", &query)).await?;
            let entries = body
                .get("recordings")
                .and_then(Value::as_array)
                .ok_or_else(|| HistoryError::Malformed("no `recordings` array".into()))?;
            found.extend(
                entries
                    .iter()
                    .filter(|r| text(r, "call_id").as_deref() == Some(call_id.as_str()))
                    .filter_map(recording),
            );
            token = text(&body, "next_page_token").filter(|t| !t.is_empty());
            if token.is_none() {
                break;
            }
        }
        Ok(found)
    }
}

/// Whether the history says the call was recorded.
fn was_recorded(call: &Value, elements: &[Value]) -> bool {
    text(call, "recording_status").as_deref() == Some("recorded")
        || elements.iter().any(|e| text(e, "recording_id").is_some())
}

/// One `recordings[]` entry of `GET /phone/recordings`, fetched later from its `download_url`
/// with the app's token (as the live `phone.recording_completed` webhook's are).
fn recording(entry: &Value) -> Option<RawRecording> {
    Some(RawRecording {
        id: text(entry, "id")?,
        duration_seconds: int(entry, "duration"),
        media: RawMedia {
            location: text(entry, "download_url")?,
            content_type: "audio/mpeg".into(),
        },
    })
}

fn zoom_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `[from, to)` cut into spans Zoom accepts in one listing.
fn spans(from: DateTime<Utc>, to: DateTime<Utc>) -> VecDeque<Span> {
    let step = TimeDelta::days(MAX_SPAN_DAYS);
    let mut out = VecDeque::new();
    let mut start = from;
    while start < to {
        let end = (start + step).min(to);
        out.push_back((start, end));
        start = end;
    }
    out
}

fn page_query((from, to): Span, token: Option<&str>) -> Vec<(&'static str, String)> {
    let mut query = vec![
        ("from", zoom_time(from)),
        ("to", zoom_time(to)),
        ("time_type", "end_time".to_owned()),
        ("page_size", PAGE_SIZE.to_string()),
    ];
    if let Some(token) = token {
        query.push(("next_page_token", token.to_owned()));
    }
    query
}

/// One side of a history entry or call element (`caller_*` or `callee_*`).
fn party(v: &Value, side: &str) -> RawParty {
    let field = |name: &str| text(v, &format!("{side}_{name}"));
    let is_user = field("ext_type").as_deref() == Some("user");
    RawParty {
        name: field("name"),
        number: field("did_number").or_else(|| field("number")),
        extension: field("ext_number"),
        external_user_id: is_user.then(|| field("ext_id")).flatten(),
    }
}

fn is_outside(v: &Value, side: &str) -> bool {
    text(v, &format!("{side}_number_type")).is_some_and(|t| t.starts_with("external"))
}

/// The tenant's number: the one an outside caller dialled, or the one shown to the outside
/// party a user called.
fn line(call: &Value) -> Option<RawParty> {
    let own = match (is_outside(call, "caller"), is_outside(call, "callee")) {
        (true, false) => "callee",
        (false, true) => "caller",
        _ => return None,
    };
    Some(RawParty {
        number: Some(text(call, &format!("{own}_did_number"))?),
        ..Default::default()
    })
}

/// Zoom's `call_result` / element `result` in source-neutral words.
fn end_reason(result: Option<&str>) -> EndReason {
    match result.map(str::to_ascii_lowercase).as_deref() {
        Some("answered" | "connected" | "call_connected") => EndReason::Normal,
        Some("voicemail") => EndReason::Voicemail,
        Some("busy") => EndReason::Busy,
        Some("rejected" | "declined") => EndReason::Rejected,
        Some("no_answer" | "ring_timeout" | "timeout") => EndReason::NoAnswer,
        Some("canceled" | "cancelled" | "hang_up" | "abandoned") => EndReason::CallerCancelled,
        _ => EndReason::Failed,
    }
}

/// Call path events that are a phone ringing for a user.
fn rings_a_user(element: &Value) -> bool {
    let to_user = text(element, "callee_ext_type").as_deref() == Some("user");
    let event = text(element, "event").unwrap_or_default();
    to_user
        && matches!(
            event.as_str(),
            "incoming"
                | "ring_to_member"
                | "forward"
                | "transfer"
                | "warm_transfer"
                | "call_transfer"
                | "overflow"
                | "park_pick_up"
        )
}

/// One history entry and its call path as a source-neutral record.
pub fn record(call: &Value, elements: &[Value]) -> Option<HistoryRecord> {
    let call_id = text(call, "call_id")?;
    let started_at = rfc3339(call, "start_time")?;
    let ended_at = rfc3339(call, "end_time")?;
    let result = text(call, "call_result").or_else(|| text(call, "result"));
    let answered_at = rfc3339(call, "answer_time")
        .filter(|_| end_reason(result.as_deref()) == EndReason::Normal || result.is_none());
    let mut rung: Vec<Rung> = elements
        .iter()
        .filter(|e| rings_a_user(e))
        .map(|e| {
            let reason = end_reason(text(e, "result").as_deref());
            let answered = reason == EndReason::Normal && rfc3339(e, "answer_time").is_some();
            Rung {
                user: party(e, "callee"),
                rang_at: rfc3339(e, "start_time"),
                until: rfc3339(e, "end_time"),
                answered,
                missed_reason: (!answered).then_some(reason),
            }
        })
        .collect();
    let to = party(call, "callee");
    if elements.is_empty() && to.external_user_id.is_some() {
        // No path to read: the entry's own callee is the user whose phone rang.
        let answered = answered_at.is_some();
        rung.push(Rung {
            user: to.clone(),
            rang_at: Some(started_at),
            until: Some(ended_at),
            answered,
            missed_reason: (!answered).then(|| end_reason(result.as_deref())),
        });
    }
    let voicemail = elements
        .iter()
        .find(|e| {
            text(e, "event").as_deref() == Some("voicemail") || text(e, "voicemail_id").is_some()
        })
        .map(|e| HistoryVoicemail {
            owner: party(e, "callee"),
            message: text(e, "voicemail_id").map(|id| RawVoicemail {
                box_id: text(e, "callee_ext_id"),
                message_id: Some(id),
                duration_seconds: None,
                transcription: None,
                media: None,
            }),
        });
    let end_reason = match (answered_at, &voicemail) {
        (Some(_), _) => EndReason::Normal,
        (None, Some(_)) => EndReason::Voicemail,
        (None, None) => end_reason(result.as_deref()),
    };
    Some(HistoryRecord {
        call_key: keys::call(&call_id),
        other_keys: Vec::new(),
        started_at,
        answered_at,
        ended_at,
        from: party(call, "caller"),
        to,
        line: line(call),
        rung,
        voicemail,
        recordings: Vec::new(),
        end_reason,
        hangup_cause_raw: result,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_long_window_is_read_a_month_at_a_time() {
        let got = spans(t("2026-01-01T00:00:00Z"), t("2026-03-01T00:00:00Z"));
        assert_eq!(
            got.into_iter().collect::<Vec<_>>(),
            [
                (t("2026-01-01T00:00:00Z"), t("2026-01-31T00:00:00Z")),
                (t("2026-01-31T00:00:00Z"), t("2026-03-01T00:00:00Z")),
            ]
        );
    }

    #[test]
    fn a_missed_call_to_voicemail_names_the_rung_user_and_the_message() {
        let call = json!({
            "call_history_uuid": "20240603-aa", "call_id": "7376152011122233344",
            "direction": "inbound", "caller_did_number": "+13125550188",
            "caller_number_type": "external_pstn", "callee_did_number": "+16285550100",
            "callee_ext_id": "e5Hj2kL8Mn3Pq7Rs1Tv9Wx", "callee_ext_number": "1001",
            "callee_ext_type": "user", "callee_number_type": "zoom_pstn",
            "start_time": "2024-06-03T14:10:01Z", "end_time": "2024-06-03T14:10:52Z",
            "call_result": "voicemail",
        });
        let ring = json!({
            "call_element_id": "e1", "event": "incoming", "result": "no_answer",
            "callee_ext_id": "e5Hj2kL8Mn3Pq7Rs1Tv9Wx", "callee_ext_number": "1001",
            "callee_ext_type": "user", "start_time": "2024-06-03T14:10:01Z",
            "end_time": "2024-06-03T14:10:21Z",
        });
        let vm = json!({
            "call_element_id": "e2", "event": "voicemail", "result": "voicemail",
            "callee_ext_id": "e5Hj2kL8Mn3Pq7Rs1Tv9Wx", "callee_ext_number": "1001",
            "callee_ext_type": "user", "voicemail_id": "8b1f0c3e9d2a4b7c",
            "start_time": "2024-06-03T14:10:21Z", "end_time": "2024-06-03T14:10:52Z",
        });
        let r = record(&call, &[ring, vm]).unwrap();
        assert_eq!(r.call_key, keys::call("7376152011122233344"));
        assert_eq!(r.answered_at, None);
        assert_eq!(r.end_reason, EndReason::Voicemail);
        assert_eq!(
            r.rung.len(),
            1,
            "the voicemail element is not a phone ringing"
        );
        assert_eq!(r.rung[0].user.extension.as_deref(), Some("1001"));
        assert_eq!(r.rung[0].until, Some(t("2024-06-03T14:10:21Z")));
        assert!(!r.rung[0].answered);
        let vm = r.voicemail.unwrap();
        assert_eq!(
            vm.message.unwrap().message_id.as_deref(),
            Some("8b1f0c3e9d2a4b7c")
        );
        assert_eq!(r.line.unwrap().number.as_deref(), Some("+16285550100"));
    }

    #[test]
    fn without_a_path_the_entrys_callee_is_the_user_rung() {
        let call = json!({
            "call_id": "1", "caller_did_number": "+14155550123",
            "caller_number_type": "external_pstn", "callee_ext_id": "ext-a",
            "callee_ext_type": "user", "callee_ext_number": "1001",
            "start_time": "2024-06-03T14:00:01Z", "answer_time": "2024-06-03T14:00:07Z",
            "end_time": "2024-06-03T14:00:49Z", "call_result": "answered",
        });
        let r = record(&call, &[]).unwrap();
        assert_eq!(r.answered_at, Some(t("2024-06-03T14:00:07Z")));
        assert_eq!(r.rung.len(), 1);
        assert!(r.rung[0].answered);
        assert_eq!(r.end_reason, EndReason::Normal);
    }
}
