//! Runs recorded scenarios through the normalizer without a database, for the scenario tests
//! of the webhook sources (`scenarios_tests.rs`) and of the socket sources
//! (`ingest/socket_scenarios_tests.rs`): one stand-in for storage, one way to compare triggers.

use chrono::{DateTime, TimeDelta, Utc};
use std::collections::HashMap;

use super::model::{CallEvent, EventType};
use super::{
    CallState, DirectoryEntry, DirectoryUser, NormalizerConfig, StaticDirectory, apply, settle,
};
use crate::domain::{CountryCode, E164Number, SourceId, SourceKind, TenantId, UserId};
use crate::ingest::RawCallEvent;

pub(crate) const ALICE: Option<&str> = Some("Alice Nguyen");
pub(crate) const BOB: Option<&str> = Some("Bob Martin");
/// The queue party, named by the directory.
pub(crate) const SUPPORT: Option<&str> = Some("Support");

/// A directory user known to the source by `links`.
pub(crate) fn user(
    id: &str,
    name: &str,
    ext: &str,
    number: Option<&str>,
    links: &[&str],
) -> DirectoryEntry {
    DirectoryEntry {
        user: DirectoryUser {
            user_id: UserId::parse(id).unwrap(),
            name: name.into(),
            extension: Some(ext.into()),
            number: number.map(|n| E164Number::parse(n, CountryCode::default()).unwrap()),
        },
        external_ids: links.iter().map(|s| s.to_string()).collect(),
    }
}

/// A stand-in for storage: maps each raw event to its call by alias, applies the events in
/// the order given as of `now`, then settles every call ten seconds later.
pub(crate) fn run<'a>(
    kind: SourceKind,
    raws: impl IntoIterator<Item = &'a RawCallEvent>,
    directory: &StaticDirectory,
    now: DateTime<Utc>,
) -> Vec<CallEvent> {
    let config = NormalizerConfig::default();
    let mut calls: Vec<CallState> = Vec::new();
    let mut aliases: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::new();
    for raw in raws {
        let keys = raw.lookup_keys();
        let index = match keys.iter().find_map(|k| aliases.get(k).copied()) {
            Some(i) => i,
            None => {
                let tenant = TenantId::parse("ten_acme").unwrap();
                let source = SourceId::parse("src_pbx").unwrap();
                calls.push(CallState::new(tenant, source, kind, &keys[0]));
                calls.len() - 1
            }
        };
        let applied = apply(calls[index].clone(), raw, directory, &config, now);
        for alias in applied.state.aliases() {
            aliases.insert(alias, index);
        }
        calls[index] = applied.state;
        out.extend(applied.events.into_iter().map(|e| e.event));
    }
    for call in &mut calls {
        let settled = settle(call.clone(), &config, now + TimeDelta::seconds(10));
        *call = settled.state;
        out.extend(settled.events.into_iter().map(|e| e.event));
    }
    out
}

/// `(type, user name, occurred_at)` of one expected trigger; a `None` time is not compared.
pub(crate) type Expected = (&'static str, Option<&'static str>, Option<&'static str>);

/// The triggers are exactly `expected`: in that order when `ordered`, else in any order.
pub(crate) fn check(events: &[CallEvent], expected: &[Expected], ordered: bool) {
    let got: Vec<_> = events
        .iter()
        .map(|e| {
            (
                e.event_type.as_str(),
                e.call.user.name.clone(),
                e.occurred_at,
            )
        })
        .collect();
    assert_eq!(events.len(), expected.len(), "got {got:#?}");
    let mut remaining: Vec<_> = events.iter().collect();
    for (i, (kind, name, at)) in expected.iter().enumerate() {
        let matches = |e: &&CallEvent| {
            e.event_type.as_str() == *kind
                && e.call.user.name.as_deref() == *name
                && at.is_none_or(|t| e.occurred_at == t.parse::<DateTime<Utc>>().unwrap())
        };
        if ordered {
            assert!(
                matches(&&events[i]),
                "trigger {i} is not {kind} {name:?} {at:?}: {got:#?}"
            );
        } else {
            let pos = remaining.iter().position(matches);
            let pos = pos.unwrap_or_else(|| panic!("no {kind} {name:?} {at:?} in {got:#?}"));
            remaining.remove(pos);
        }
    }
}

/// The scenario's `call.ended`.
pub(crate) fn ended(events: &[CallEvent]) -> &CallEvent {
    events
        .iter()
        .find(|e| e.event_type == EventType::Ended)
        .unwrap()
}
