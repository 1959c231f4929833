//! How many attempts may be in flight to one target URL. A target starts on a small cap
//! (`cautious`, the `delivery_target_concurrency` setting); once its attempts are seen to
//! answer quickly it may use up to half of the worker's slots (`trusted`), and it falls back to
//! the small cap as soon as an attempt to it has been in flight longer than [`QUICK_ANSWER`].
//! A receiver that answers slowly or never thus holds at most `cautious` slots, while a fast
//! receiver with a backlog is not throttled to a handful of requests at a time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Attempts that answer within this are "quick"; one in flight longer marks its target slow.
pub const QUICK_ANSWER: Duration = Duration::from_millis(500);

/// Weight of the newest attempt in a target's running mean answer time.
const NEWEST_WEIGHT: f64 = 0.3;

/// Past this many known targets, those with nothing in flight are forgotten (they start
/// cautious again), so that the map stays as small as the set of targets in use.
const MAX_KNOWN_TARGETS: usize = 4096;

/// The in-flight attempts of each target, shared by the worker's attempts.
#[derive(Clone, Debug)]
pub struct TargetSlots {
    cautious: usize,
    trusted: usize,
    targets: Arc<Mutex<HashMap<String, TargetLoad>>>,
}

/// What is known of one target: when its attempts in flight started and how fast it answered.
#[derive(Debug, Default)]
struct TargetLoad {
    started: Vec<(u64, Instant)>,
    next_serial: u64,
    /// Running mean of recent answer times; `None` until one attempt finished.
    mean_answer: Option<Duration>,
}

impl TargetLoad {
    fn answers_quickly(&self, now: Instant) -> bool {
        let finished_quickly = self.mean_answer.is_some_and(|mean| mean < QUICK_ANSWER);
        let none_overdue = self
            .started
            .iter()
            .all(|(_, started)| now.saturating_duration_since(*started) < QUICK_ANSWER);
        finished_quickly && none_overdue
    }

    fn looks_slow(&self, now: Instant) -> bool {
        let finished_slowly = self.mean_answer.is_some_and(|mean| mean >= QUICK_ANSWER);
        let overdue = self
            .started
            .iter()
            .any(|(_, started)| now.saturating_duration_since(*started) >= QUICK_ANSWER);
        finished_slowly || overdue
    }

    /// Frees the slot `serial`; `answered_at` says when its target answered, if it did.
    fn release(&mut self, serial: u64, answered_at: Option<Instant>) {
        let Some(index) = self.started.iter().position(|(s, _)| *s == serial) else {
            return;
        };
        let (_, started) = self.started.swap_remove(index);
        let Some(answered_at) = answered_at else {
            return;
        };
        let took = answered_at.saturating_duration_since(started);
        self.mean_answer = Some(match self.mean_answer {
            None => took,
            Some(mean) => mean.mul_f64(1.0 - NEWEST_WEIGHT) + took.mul_f64(NEWEST_WEIGHT),
        });
    }
}

/// One attempt's slot. [`TargetSlot::answered`] frees it and records how long the target took;
/// dropping it (the attempt never reached the target) frees it without a measurement.
#[derive(Debug)]
pub struct TargetSlot {
    target: String,
    serial: u64,
    targets: Arc<Mutex<HashMap<String, TargetLoad>>>,
}

/// The target has as many attempts in flight as it may have now.
#[derive(Debug, PartialEq, Eq)]
pub enum Busy {
    /// Its attempts are slow or overdue: try again after a while.
    Slow,
    /// It answers quickly and is only at its cap: a slot frees soon.
    AtCap,
}

impl TargetSlots {
    /// `cautious` attempts per target until it has shown it answers quickly, then up to half
    /// of the worker's `concurrency` (never fewer than `cautious`).
    pub fn new(cautious: usize, concurrency: usize) -> TargetSlots {
        let cautious = cautious.max(1);
        TargetSlots {
            cautious,
            trusted: (concurrency / 2).max(cautious),
            targets: Arc::default(),
        }
    }

    /// A slot for one attempt to `target`, or why there is none.
    pub fn try_take(&self, target: &str) -> Result<TargetSlot, Busy> {
        self.try_take_at(target, Instant::now())
    }

    fn try_take_at(&self, target: &str, now: Instant) -> Result<TargetSlot, Busy> {
        let mut targets = self.targets.lock().unwrap_or_else(PoisonError::into_inner);
        if targets.len() >= MAX_KNOWN_TARGETS {
            targets.retain(|_, load| !load.started.is_empty());
        }
        let load = targets.entry(target.to_owned()).or_default();
        let cap = if load.answers_quickly(now) {
            self.trusted
        } else {
            self.cautious
        };
        if load.started.len() >= cap {
            return Err(if load.looks_slow(now) {
                Busy::Slow
            } else {
                Busy::AtCap
            });
        }
        let serial = load.next_serial;
        load.next_serial += 1;
        load.started.push((serial, now));
        Ok(TargetSlot {
            target: target.to_owned(),
            serial,
            targets: self.targets.clone(),
        })
    }

    /// Attempts in flight to `target` now.
    pub fn in_flight(&self, target: &str) -> usize {
        let targets = self.targets.lock().unwrap_or_else(PoisonError::into_inner);
        targets.get(target).map_or(0, |load| load.started.len())
    }

    #[cfg(test)]
    fn known_targets(&self) -> usize {
        let targets = self.targets.lock().unwrap_or_else(PoisonError::into_inner);
        targets.len()
    }
}

impl TargetSlot {
    /// The target answered (or failed to) just now.
    pub fn answered(self) {
        self.release(Some(Instant::now()));
    }

    fn release(&self, answered_at: Option<Instant>) {
        let mut targets = self.targets.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(load) = targets.get_mut(&self.target) {
            load.release(self.serial, answered_at);
        }
    }
}

impl Drop for TargetSlot {
    fn drop(&mut self) {
        self.release(None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "https://a.example/";

    fn finish_quickly(slots: &TargetSlots, target: &str, at: Instant) {
        let slot = slots.try_take_at(target, at).unwrap();
        slot.release(Some(at + Duration::from_millis(10)));
    }

    #[test]
    fn an_unknown_target_gets_no_more_than_the_cautious_cap() {
        let slots = TargetSlots::new(2, 64);
        let first = slots.try_take(A);
        let second = slots.try_take(A);
        assert!(first.is_ok() && second.is_ok());
        assert_eq!(slots.try_take(A).unwrap_err(), Busy::AtCap);
        assert_eq!(slots.in_flight(A), 2);
    }

    #[test]
    fn a_target_that_answers_quickly_may_use_half_the_workers_slots() {
        let slots = TargetSlots::new(2, 64);
        let now = Instant::now();
        finish_quickly(&slots, A, now);
        let held: Vec<_> = (0..32)
            .map(|_| slots.try_take_at(A, now).unwrap())
            .collect();
        assert_eq!(slots.try_take_at(A, now).unwrap_err(), Busy::AtCap);
        assert_eq!(held.len(), 32);
    }

    #[test]
    fn an_overdue_attempt_puts_a_quick_target_back_on_the_cautious_cap() {
        let slots = TargetSlots::new(2, 64);
        let now = Instant::now();
        finish_quickly(&slots, A, now);
        let _held: Vec<_> = (0..3).map(|_| slots.try_take_at(A, now).unwrap()).collect();
        let later = now + QUICK_ANSWER;
        assert_eq!(slots.try_take_at(A, later).unwrap_err(), Busy::Slow);
    }

    #[test]
    fn a_target_whose_answers_were_slow_stays_cautious() {
        let slots = TargetSlots::new(1, 64);
        let now = Instant::now();
        let slot = slots.try_take_at(A, now).unwrap();
        slot.release(Some(now + Duration::from_secs(3)));
        let _held = slots.try_take_at(A, now).unwrap();
        assert_eq!(slots.try_take_at(A, now).unwrap_err(), Busy::Slow);
    }

    #[test]
    fn an_attempt_that_never_reached_the_target_says_nothing_of_its_speed() {
        let slots = TargetSlots::new(1, 64);
        drop(slots.try_take(A));
        let _held = slots.try_take(A).unwrap();
        assert_eq!(slots.try_take(A).unwrap_err(), Busy::AtCap);
    }

    #[test]
    fn a_busy_target_leaves_other_targets_their_slots() {
        let slots = TargetSlots::new(1, 64);
        let _held = slots.try_take("https://slow.example/");
        assert!(slots.try_take("https://fast.example/").is_ok());
    }

    #[test]
    fn a_finished_attempt_frees_its_slot() {
        let slots = TargetSlots::new(1, 64);
        drop(slots.try_take(A));
        assert_eq!(slots.in_flight(A), 0);
        assert!(slots.try_take(A).is_ok());
    }

    #[test]
    fn idle_targets_are_forgotten_when_many_are_known() {
        let slots = TargetSlots::new(1, 64);
        let _held = slots.try_take(A).unwrap();
        for n in 0..MAX_KNOWN_TARGETS + 10 {
            drop(slots.try_take(&format!("https://{n}.example/")));
        }
        assert!(slots.known_targets() <= MAX_KNOWN_TARGETS);
        assert_eq!(slots.in_flight(A), 1);
    }
}
