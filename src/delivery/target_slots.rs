//! At most N attempts in flight per target URL. A receiver that answers slowly or never then
//! holds at most N of the worker's slots, and the deliveries of healthy targets keep flowing;
//! the rest of the slow target's deliveries wait their turn without using up attempts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// The in-flight count of each target, shared by the worker's attempts.
#[derive(Clone, Debug)]
pub struct TargetSlots {
    per_target: usize,
    counts: Arc<Mutex<HashMap<String, usize>>>,
}

/// One attempt's slot; dropping it frees the slot.
#[derive(Debug)]
pub struct TargetSlot {
    target: String,
    counts: Arc<Mutex<HashMap<String, usize>>>,
}

impl TargetSlots {
    pub fn new(per_target: usize) -> TargetSlots {
        TargetSlots {
            per_target: per_target.max(1),
            counts: Arc::default(),
        }
    }

    /// A slot for one attempt to `target`, or `None` when it has `per_target` in flight.
    pub fn try_take(&self, target: &str) -> Option<TargetSlot> {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let count = counts.entry(target.to_owned()).or_insert(0);
        if *count >= self.per_target {
            return None;
        }
        *count += 1;
        Some(TargetSlot {
            target: target.to_owned(),
            counts: self.counts.clone(),
        })
    }

    /// Attempts in flight to `target` now.
    pub fn in_flight(&self, target: &str) -> usize {
        let counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        counts.get(target).copied().unwrap_or(0)
    }
}

impl Drop for TargetSlot {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = counts.get_mut(&self.target) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&self.target);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_gets_no_more_slots_than_its_cap() {
        let slots = TargetSlots::new(2);
        let first = slots.try_take("https://a.example/");
        let second = slots.try_take("https://a.example/");
        assert!(first.is_some() && second.is_some());
        assert!(slots.try_take("https://a.example/").is_none());
        assert_eq!(slots.in_flight("https://a.example/"), 2);
    }

    #[test]
    fn a_busy_target_leaves_other_targets_their_slots() {
        let slots = TargetSlots::new(1);
        let _held = slots.try_take("https://slow.example/");
        assert!(slots.try_take("https://fast.example/").is_some());
    }

    #[test]
    fn a_finished_attempt_frees_its_slot() {
        let slots = TargetSlots::new(1);
        drop(slots.try_take("https://a.example/"));
        assert_eq!(slots.in_flight("https://a.example/"), 0);
        assert!(slots.try_take("https://a.example/").is_some());
    }
}
