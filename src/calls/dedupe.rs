//! Which raw events a source sent before: sources deliver twice (retries, replays), and a
//! repeated event must change nothing. Pure: the store only tells which receipts it holds.

use std::collections::HashSet;

/// The receipts of one batch: those stored before it, and those its earlier events took.
pub struct Receipts {
    stored: HashSet<(String, String)>,
    taken: HashSet<(String, String)>,
}

impl Receipts {
    /// Starts from the `(source id, dedupe key)` receipts the store holds for the batch.
    pub fn new(stored: HashSet<(String, String)>) -> Receipts {
        Receipts {
            stored,
            taken: HashSet::new(),
        }
    }

    /// True the first time a source's dedupe key is seen (stored before the batch, or taken
    /// by an earlier event of it, makes a repeat). An empty key gives nothing to dedupe on:
    /// always first.
    pub fn first_time(&mut self, source_id: &str, dedupe_key: &str) -> bool {
        if dedupe_key.is_empty() {
            return true;
        }
        let id = (source_id.to_owned(), dedupe_key.to_owned());
        !self.stored.contains(&id) && self.taken.insert(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(pairs: &[(&str, &str)]) -> HashSet<(String, String)> {
        pairs
            .iter()
            .map(|(s, k)| (s.to_string(), k.to_string()))
            .collect()
    }

    #[test]
    fn a_key_stored_before_the_batch_is_a_repeat() {
        let mut receipts = Receipts::new(stored(&[("src_a", "k1")]));
        assert!(!receipts.first_time("src_a", "k1"));
        assert!(receipts.first_time("src_a", "k2"));
    }

    #[test]
    fn a_key_seen_earlier_in_the_batch_is_a_repeat() {
        let mut receipts = Receipts::new(stored(&[]));
        assert!(receipts.first_time("src_a", "k1"));
        assert!(!receipts.first_time("src_a", "k1"));
    }

    #[test]
    fn keys_are_per_source() {
        let mut receipts = Receipts::new(stored(&[("src_a", "k1")]));
        assert!(receipts.first_time("src_b", "k1"));
    }

    #[test]
    fn an_event_without_a_key_is_never_a_repeat() {
        let mut receipts = Receipts::new(stored(&[("src_a", "")]));
        assert!(receipts.first_time("src_a", ""));
        assert!(receipts.first_time("src_a", ""));
    }
}
