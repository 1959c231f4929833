//! Resolving the parties a source names to tenant users, and numbers to E.164.
//!
//! The normalizer does no I/O: storage loads the users an event mentions
//! ([`RawCallEvent::user_refs`](crate::ingest::RawCallEvent::user_refs)) and passes a
//! [`Directory`]. [`StaticDirectory`] is the plain in-memory one.

use crate::domain::{CountryCode, E164Number, UserId};
use crate::ingest::RawParty;
use std::collections::HashMap;

use super::model::{Party, PartyKind};

/// A tenant user as triggers show them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryUser {
    pub user_id: UserId,
    pub name: String,
    pub extension: Option<String>,
    pub number: Option<E164Number>,
}

/// The tenant's users as seen by one source.
pub trait Directory {
    /// Country used to read national numbers.
    fn default_country(&self) -> CountryCode;
    /// The user linked to a source-side id (Kazoo owner_id, Zoom user_id).
    fn by_external_id(&self, id: &str) -> Option<DirectoryUser>;
    fn by_extension(&self, extension: &str) -> Option<DirectoryUser>;
    fn by_number(&self, number: &E164Number) -> Option<DirectoryUser>;
    /// The readable name an admin gave the queue the source calls `id`.
    fn queue_name(&self, id: &str) -> Option<String>;
}

/// One user and the source-side ids linked to them.
#[derive(Clone, Debug)]
pub struct DirectoryEntry {
    pub user: DirectoryUser,
    pub external_ids: Vec<String>,
}

/// An in-memory directory: what storage loads for one event, or a test's fixture users.
#[derive(Clone, Debug, Default)]
pub struct StaticDirectory {
    pub default_country: CountryCode,
    pub entries: Vec<DirectoryEntry>,
    /// Queue names by the source's queue id.
    pub queues: HashMap<String, String>,
}

impl Directory for StaticDirectory {
    fn default_country(&self) -> CountryCode {
        self.default_country
    }

    fn by_external_id(&self, id: &str) -> Option<DirectoryUser> {
        self.entries
            .iter()
            .find(|e| e.external_ids.iter().any(|x| x == id))
            .map(|e| e.user.clone())
    }

    fn by_extension(&self, extension: &str) -> Option<DirectoryUser> {
        self.entries
            .iter()
            .find(|e| e.user.extension.as_deref() == Some(extension))
            .map(|e| e.user.clone())
    }

    fn by_number(&self, number: &E164Number) -> Option<DirectoryUser> {
        self.entries
            .iter()
            .find(|e| e.user.number.as_ref() == Some(number))
            .map(|e| e.user.clone())
    }

    fn queue_name(&self, id: &str) -> Option<String> {
        self.queues.get(id).cloned()
    }
}

/// Short all-digit numbers are extensions, not phone numbers.
fn looks_like_extension(raw: &str) -> bool {
    raw.len() <= 6 && !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit())
}

/// Resolves a raw party: linked id, then extension, then number; otherwise an external party
/// when the number is a valid E.164 number, else unknown. The raw number is always kept.
pub fn resolve(raw: &RawParty, dir: &dyn Directory) -> Party {
    let number = raw
        .number
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    let e164 = number
        .filter(|n| !looks_like_extension(n))
        .and_then(|n| E164Number::parse(n, dir.default_country()).ok());
    let user = raw
        .external_user_id
        .as_deref()
        .and_then(|id| dir.by_external_id(id))
        .or_else(|| raw.extension.as_deref().and_then(|x| dir.by_extension(x)))
        .or_else(|| {
            number
                .filter(|n| looks_like_extension(n))
                .and_then(|x| dir.by_extension(x))
        })
        .or_else(|| e164.as_ref().and_then(|n| dir.by_number(n)));
    if let Some(user) = user {
        return Party {
            kind: PartyKind::User,
            user_id: Some(user.user_id),
            name: Some(user.name),
            extension: user.extension,
            number: user.number,
            raw_number: number.map(str::to_owned),
        };
    }
    let extension = raw.extension.clone().or_else(|| {
        number
            .filter(|n| looks_like_extension(n))
            .map(str::to_owned)
    });
    Party {
        kind: if e164.is_some() {
            PartyKind::External
        } else {
            PartyKind::Unknown
        },
        user_id: None,
        name: raw.name.clone(),
        extension,
        number: e164,
        raw_number: number.map(str::to_owned),
    }
}

/// Resolves a raw party, or gives an unknown party when the source named none.
pub(crate) fn resolve_or_unknown(raw: Option<&RawParty>, dir: &dyn Directory) -> Party {
    raw.filter(|p| !p.is_empty())
        .map_or_else(Party::unknown, |p| resolve(p, dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> StaticDirectory {
        StaticDirectory {
            default_country: CountryCode::default(),
            entries: vec![DirectoryEntry {
                user: DirectoryUser {
                    user_id: UserId::parse("usr_alice").unwrap(),
                    name: "Alice Nguyen".into(),
                    extension: Some("1001".into()),
                    number: E164Number::parse("+16285550100", CountryCode::default()).ok(),
                },
                external_ids: vec!["owner-a".into()],
            }],
            queues: HashMap::new(),
        }
    }

    #[test]
    fn a_linked_id_resolves_to_the_user_with_the_raw_number_kept() {
        let raw = RawParty {
            external_user_id: Some("owner-a".into()),
            number: Some("1001".into()),
            ..Default::default()
        };
        let p = resolve(&raw, &dir());
        assert_eq!(p.kind, PartyKind::User);
        assert_eq!(p.name.as_deref(), Some("Alice Nguyen"));
        assert_eq!(p.raw_number.as_deref(), Some("1001"));
    }

    #[test]
    fn a_short_number_is_looked_up_as_an_extension() {
        let raw = RawParty {
            number: Some("1001".into()),
            ..Default::default()
        };
        assert_eq!(resolve(&raw, &dir()).kind, PartyKind::User);
    }

    #[test]
    fn outside_numbers_become_external_parties_in_e164() {
        let raw = RawParty {
            name: Some("ACME SUPPLY".into()),
            number: Some("(415) 555-0123".into()),
            ..Default::default()
        };
        let p = resolve(&raw, &dir());
        assert_eq!(p.kind, PartyKind::External);
        assert_eq!(p.number.unwrap().as_str(), "+14155550123");
        assert_eq!(p.raw_number.as_deref(), Some("(415) 555-0123"));
    }

    #[test]
    fn unknown_extensions_and_feature_codes_are_unknown_parties() {
        let raw = RawParty {
            number: Some("*4101".into()),
            ..Default::default()
        };
        assert_eq!(resolve(&raw, &dir()).kind, PartyKind::Unknown);
    }
}
