//! What the fuzz targets share: a stand-in for storage that feeds raw events to the normalizer
//! the way the ingest writer does (find the call by its keys, apply, remember its aliases, then
//! settle), and the invariants every run must keep.

use chrono::{DateTime, TimeDelta, Utc};
use ringhook::domain::{CountryCode, E164Number, SourceId, SourceKind, TenantId, UserId};
use ringhook::ingest::{Headers, Parsed, RawCallEvent, bounds, parse_verified};
use ringhook::normalizer::{
    CallState, DirectoryEntry, DirectoryUser, NormalizerConfig, StaticDirectory, apply, settle,
};
use std::collections::{HashMap, HashSet};

/// The fixtures' clock: 2024-06-03T14:00:00Z.
pub fn base_time() -> DateTime<Utc> {
    DateTime::from_timestamp(1_717_423_200, 0).unwrap_or_default()
}

/// Ids the fixtures (and the normalizer target's pools) use for Alice and Bob.
pub const ALICE_IDS: [&str; 2] = ["6384e2b2184bcbf58eccf10ca7a6563c", "u8Kd3fQ9R2eX1tLm6ZpW4A"];
pub const BOB_IDS: [&str; 1] = ["9f9d51bc70ef21ca5c14f307980a29d8"];

fn user(id: &str, name: &str, extension: &str, number: Option<&str>, links: &[&str]) -> Option<DirectoryEntry> {
    Some(DirectoryEntry {
        user: DirectoryUser {
            user_id: UserId::parse(id)?,
            name: name.to_owned(),
            extension: Some(extension.to_owned()),
            number: number.and_then(|n| E164Number::parse(n, CountryCode::default()).ok()),
        },
        external_ids: links.iter().map(|s| (*s).to_owned()).collect(),
    })
}

/// Acme Dental as the fixtures know it.
pub fn directory() -> StaticDirectory {
    StaticDirectory {
        default_country: CountryCode::default(),
        entries: [
            user("usr_alice", "Alice Nguyen", "1001", Some("+16285550100"), &ALICE_IDS),
            user("usr_bob", "Bob Martin", "1002", None, &BOB_IDS),
        ]
        .into_iter()
        .flatten()
        .collect(),
        queues: [("a9d1cbf71942327e98b40cf5ef38a960".to_owned(), "Support".to_owned())].into(),
    }
}

/// Calls by alias, as storage keeps them.
pub struct Calls {
    kind: SourceKind,
    states: Vec<CallState>,
    aliases: HashMap<String, usize>,
    directory: StaticDirectory,
    config: NormalizerConfig,
    /// `(call, event id)` of every trigger emitted.
    event_ids: HashSet<(usize, String)>,
}

impl Calls {
    pub fn new(kind: SourceKind) -> Self {
        Calls {
            kind,
            states: Vec::new(),
            aliases: HashMap::new(),
            directory: directory(),
            config: NormalizerConfig::default(),
            event_ids: HashSet::new(),
        }
    }

    /// Applies one event received at `now`. Events outside [`bounds`] never reach the
    /// normalizer (ingest refuses them), so they are skipped here too.
    pub fn apply(&mut self, event: &RawCallEvent, now: DateTime<Utc>) {
        if bounds::check(event).is_err() {
            return;
        }
        let keys = event.lookup_keys();
        let Some(first) = keys.first() else {
            return;
        };
        let index = match keys.iter().find_map(|k| self.aliases.get(k).copied()) {
            Some(index) => index,
            None => {
                let (Some(tenant), Some(source)) =
                    (TenantId::parse("ten_acme"), SourceId::parse("src_pbx"))
                else {
                    return;
                };
                self.states.push(CallState::new(tenant, source, self.kind, first));
                self.states.len() - 1
            }
        };
        let applied = apply(self.states[index].clone(), event, &self.directory, &self.config, now);
        for alias in applied.state.aliases() {
            self.aliases.insert(alias, index);
        }
        self.states[index] = applied.state;
        self.record(index, applied.events.into_iter().map(|e| e.event.id));
    }

    /// Settles every call at `now`.
    pub fn settle_all(&mut self, now: DateTime<Utc>) {
        for index in 0..self.states.len() {
            let settled = settle(self.states[index].clone(), &self.config, now);
            self.states[index] = settled.state;
            self.record(index, settled.events.into_iter().map(|e| e.event.id));
        }
    }

    /// Each trigger of a call goes out at most once: its event ids never repeat.
    fn record(&mut self, call: usize, ids: impl Iterator<Item = String>) {
        for id in ids {
            assert!(
                self.event_ids.insert((call, id.clone())),
                "trigger {id} emitted twice"
            );
        }
    }
}

/// Parses `body` as a verified request of `kind` and, when it yields events, feeds them to the
/// normalizer and settles. Panics only on a broken invariant.
pub fn parse_and_normalize(kind: SourceKind, headers: &Headers, body: &[u8]) {
    let now = base_time() + TimeDelta::hours(4);
    let Ok(Parsed::Events(events)) = parse_verified(kind, "fuzz-secret", headers, body, now) else {
        return;
    };
    let mut calls = Calls::new(kind);
    for event in &events {
        assert_eq!(bounds::check(event), Ok(()), "parse_verified let {event:?} through");
        calls.apply(event, now);
    }
    calls.settle_all(now + TimeDelta::days(1));
}
