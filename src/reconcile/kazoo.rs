//! Kazoo's call history: Crossbar `GET /v2/accounts/{account}/cdrs?created_from=&created_to=`
//! (Gregorian seconds), `page_size`, and `start_key` taken from the previous page's
//! `next_start_key` (absent on the last page), with the auth token the source's API key buys
//! (`crate::source_api::kazoo`) in `X-Auth-Token`.
//!
//! Kazoo writes one CDR per leg; the legs of one call share `interaction_id`. A call's legs
//! may straddle a page boundary, so the legs of the interaction a page ends on wait for the
//! next page before they become a record. Kazoo's CDRs do not say a caller reached voicemail
//! (the voicemail webhook does), so records from Kazoo never carry one.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;
use std::sync::Arc;

use super::http::{HistoryError, get_json};
use super::record::{HistoryRecord, Rung};
use crate::ingest::json::{GREGORIAN_UNIX_OFFSET, gregorian, int, text};
use crate::ingest::kazoo::end_reason;
use crate::ingest::raw::keys;
use crate::ingest::{EndReason, RawMedia, RawParty, RawRecording};
use crate::source_api::SourceApi;
use crate::storage::Source;

/// Legs asked for per page.
pub const PAGE_SIZE: u32 = 500;

/// Reads one window of a Kazoo source's CDRs, page by page.
pub struct KazooHistory {
    api: Arc<SourceApi>,
    source: Source,
    account: String,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    next: Option<Option<String>>,
    carried: Vec<Value>,
}

impl KazooHistory {
    pub fn new(
        api: Arc<SourceApi>,
        source: &Source,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<KazooHistory, HistoryError> {
        let missing = |what: &str| HistoryError::Misconfigured(format!("the source has no {what}"));
        source.api.as_ref().ok_or_else(|| missing("API settings"))?;
        let account = source
            .account_id
            .clone()
            .filter(|a| !a.is_empty())
            .ok_or_else(|| missing("Kazoo account id"))?;
        Ok(KazooHistory {
            api,
            source: source.clone(),
            account,
            from,
            to,
            next: Some(None),
            carried: Vec::new(),
        })
    }

    /// The records of the next page; `None` once the window is read.
    pub async fn next_page(&mut self) -> Result<Option<Vec<HistoryRecord>>, HistoryError> {
        let Some(start_key) = self.next.take() else {
            return Ok(None);
        };
        let path = format!("accounts/{}/cdrs", self.account);
        let query = self.page_query(start_key.as_deref());
        let body = get_json(|| self.api.kazoo_list(&self.source, &path, &query)).await?;
        let legs = body
            .get("data")
            .and_then(Value::as_array)
            .ok_or_else(|| HistoryError::Malformed("no `data` array".into()))?;
        self.next = text(&body, "next_start_key").map(Some);
        let mut legs: Vec<Value> = std::mem::take(&mut self.carried)
            .into_iter()
            .chain(legs.iter().cloned())
            .collect();
        if self.next.is_some()
            && let Some(last) = legs.last().map(interaction)
        {
            let (wait, ready): (Vec<Value>, Vec<Value>) =
                legs.into_iter().partition(|l| interaction(l) == last);
            self.carried = wait;
            legs = ready;
        }
        Ok(Some(records(&legs, &self.account)))
    }

    fn page_query(&self, start_key: Option<&str>) -> Vec<(&'static str, String)> {
        let mut query = vec![
            ("created_from", gregorian_seconds(self.from).to_string()),
            ("created_to", gregorian_seconds(self.to).to_string()),
            ("page_size", PAGE_SIZE.to_string()),
        ];
        if let Some(key) = start_key {
            query.push(("start_key", key.to_owned()));
        }
        query
    }
}

/// Seconds since year 0, Kazoo's clock.
pub fn gregorian_seconds(t: DateTime<Utc>) -> i64 {
    t.timestamp() + GREGORIAN_UNIX_OFFSET
}

/// The interaction a leg belongs to (its own call id when it names none).
fn interaction(leg: &Value) -> String {
    text(leg, "interaction_id")
        .or_else(|| text(leg, "call_id"))
        .unwrap_or_default()
}

/// One record per interaction, in the order their first legs appear.
pub fn records(legs: &[Value], account: &str) -> Vec<HistoryRecord> {
    let mut order: Vec<String> = Vec::new();
    let mut groups: std::collections::HashMap<String, Vec<&Value>> = Default::default();
    for leg in legs {
        let id = interaction(leg);
        if id.is_empty() {
            continue;
        }
        groups
            .entry(id.clone())
            .or_insert_with(|| {
                order.push(id.clone());
                Vec::new()
            })
            .push(leg);
    }
    order
        .iter()
        .filter_map(|id| record(id, groups.get(id)?, account))
        .collect()
}

/// One leg's CDR: when it started, was answered and ended.
struct LegTimes {
    start: DateTime<Utc>,
    answered: Option<DateTime<Utc>>,
    end: DateTime<Utc>,
}

fn times(leg: &Value) -> Option<LegTimes> {
    let end = gregorian(leg, "timestamp").ok().flatten()?;
    let before = |s: i64| TimeDelta::try_seconds(s.max(0)).and_then(|d| end.checked_sub_signed(d));
    let start = before(int(leg, "duration_seconds").unwrap_or(0))?;
    let billed = int(leg, "billing_seconds").unwrap_or(0);
    let answered = if billed > 0 { before(billed) } else { None };
    Some(LegTimes {
        start,
        answered,
        end,
    })
}

fn is_caller_leg(leg: &Value) -> bool {
    text(leg, "call_direction").as_deref() == Some("inbound")
}

fn record(interaction: &str, legs: &[&Value], account: &str) -> Option<HistoryRecord> {
    let a_leg = legs
        .iter()
        .find(|l| is_caller_leg(l))
        .or_else(|| legs.first())?;
    let all: Vec<LegTimes> = legs.iter().filter_map(|l| times(l)).collect();
    let started_at = all.iter().map(|t| t.start).min()?;
    let ended_at = all.iter().map(|t| t.end).max()?;
    let from = RawParty {
        name: text(a_leg, "caller_id_name"),
        number: text(a_leg, "caller_id_number"),
        external_user_id: text(a_leg, "owner_id"),
        ..Default::default()
    };
    let to = RawParty {
        name: text(a_leg, "callee_id_name"),
        number: text(a_leg, "callee_id_number").or_else(|| sip_user(a_leg, "request")),
        ..Default::default()
    };
    let mut rung = Vec::new();
    let mut answered_at: Option<DateTime<Utc>> = None;
    for leg in legs.iter().filter(|l| !is_caller_leg(l)) {
        let Some(t) = times(leg) else { continue };
        if let Some(a) = t.answered {
            answered_at = Some(answered_at.map_or(a, |b| b.min(a)));
        }
        let Some(owner) = text(leg, "owner_id") else {
            continue;
        };
        let cause = text(leg, "hangup_cause");
        rung.push(Rung {
            user: RawParty {
                name: text(leg, "callee_id_name"),
                number: text(leg, "callee_id_number"),
                external_user_id: Some(owner),
                ..Default::default()
            },
            rang_at: Some(t.start),
            until: Some(t.end),
            answered: t.answered.is_some(),
            missed_reason: Some(end_reason(cause.as_deref(), None)),
        });
    }
    let a_cause = text(a_leg, "hangup_cause");
    let recordings = legs
        .iter()
        .flat_map(|l| {
            l.get("media_recordings")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .filter_map(Value::as_str)
        .map(|id| RawRecording {
            id: id.to_owned(),
            duration_seconds: None,
            media: RawMedia {
                location: format!("accounts/{account}/recordings/{id}"),
                content_type: "audio/mpeg".into(),
            },
        })
        .collect();
    Some(HistoryRecord {
        call_key: keys::interaction(interaction),
        other_keys: legs
            .iter()
            .filter_map(|l| text(l, "call_id"))
            .map(|c| keys::leg(&c))
            .collect(),
        started_at,
        answered_at,
        ended_at,
        from,
        to,
        line: None,
        rung,
        voicemail: None,
        recordings,
        end_reason: match answered_at {
            Some(_) => EndReason::Normal,
            None => end_reason(a_cause.as_deref(), None),
        },
        hangup_cause_raw: a_cause,
    })
}

/// The user part of a SIP URI field (`1001@realm` → `1001`).
fn sip_user(v: &Value, key: &str) -> Option<String> {
    let raw = text(v, key)?;
    let user = raw.split('@').next()?.trim_start_matches("sip:");
    (!user.is_empty()).then(|| user.to_owned())
}
