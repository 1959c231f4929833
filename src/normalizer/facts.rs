//! How facts merge, so that the order in which a call's events arrive does not matter: the
//! earliest start or answer wins, the latest end wins, and the most informative version of a
//! party is kept.

use chrono::{DateTime, Utc};

use super::model::{Party, PartyKind};

/// The earlier of two times, either of which may be unknown.
pub(crate) fn earliest(
    a: Option<DateTime<Utc>>,
    b: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The later of two times, either of which may be unknown.
pub(crate) fn latest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// How much a party tells: a user beats a queue beats an outside number beats nobody, and a
/// name adds a little.
fn richness(p: &Party) -> u8 {
    let kind = match p.kind {
        PartyKind::User => 6,
        PartyKind::Queue => 4,
        PartyKind::External => 2,
        PartyKind::Unknown => 0,
    };
    kind + u8::from(p.name.is_some())
}

/// Stores `new` in `slot` if it tells more than what is there; an empty party never does.
pub(crate) fn keep_richer(slot: &mut Option<Party>, new: &Party) {
    if new.kind == PartyKind::Unknown && new.raw_number.is_none() && new.name.is_none() {
        return;
    }
    if slot
        .as_ref()
        .is_none_or(|old| richness(new) > richness(old))
    {
        *slot = Some(new.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(secs: i64) -> Option<DateTime<Utc>> {
        Utc.timestamp_opt(secs, 0).single()
    }

    #[test]
    fn earliest_and_latest_ignore_an_unknown_time() {
        assert_eq!(earliest(t(5), None), t(5));
        assert_eq!(earliest(t(5), t(3)), t(3));
        assert_eq!(latest(None, t(5)), t(5));
        assert_eq!(latest(t(5), t(3)), t(5));
    }

    #[test]
    fn a_richer_party_replaces_a_poorer_one_but_not_the_other_way_round() {
        let outside = Party {
            kind: PartyKind::External,
            raw_number: Some("+14155550123".into()),
            ..Party::unknown()
        };
        let named = Party {
            name: Some("ACME".into()),
            ..outside.clone()
        };
        let mut slot = None;
        keep_richer(&mut slot, &Party::unknown());
        assert_eq!(slot, None);
        keep_richer(&mut slot, &outside);
        keep_richer(&mut slot, &named);
        keep_richer(&mut slot, &outside);
        assert_eq!(slot, Some(named));
    }
}
