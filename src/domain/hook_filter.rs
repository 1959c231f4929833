//! Which call events a hook subscribes to: one type, or `*` for all of them.

use crate::normalizer::model::EventType;
use std::fmt;

/// A hook's `event`: one call event type, or every type (`*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HookEventFilter {
    /// `*`: every call event.
    Any,
    Only(EventType),
}

impl HookEventFilter {
    /// `*` or a call event type's wire name (`call.answered`); anything else is `None`.
    pub fn parse(raw: &str) -> Option<HookEventFilter> {
        match raw {
            "*" => Some(HookEventFilter::Any),
            _ => EventType::parse(raw).map(HookEventFilter::Only),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            HookEventFilter::Any => "*",
            HookEventFilter::Only(event_type) => event_type.as_str(),
        }
    }

    /// Whether an event of this type passes the filter.
    pub fn admits(self, event_type: EventType) -> bool {
        match self {
            HookEventFilter::Any => true,
            HookEventFilter::Only(wanted) => wanted == event_type,
        }
    }
}

impl fmt::Display for HookEventFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_star_admits_every_type_and_a_type_only_itself() {
        let answered = HookEventFilter::parse("call.answered");
        assert_eq!(answered, Some(HookEventFilter::Only(EventType::Answered)));
        for event_type in EventType::ALL {
            assert!(HookEventFilter::Any.admits(event_type));
            assert_eq!(
                HookEventFilter::Only(EventType::Answered).admits(event_type),
                event_type == EventType::Answered
            );
        }
    }

    #[test]
    fn filters_round_trip_through_their_names_and_refuse_others() {
        for raw in ["*", "call.missed", "call.queue_abandoned"] {
            assert_eq!(HookEventFilter::parse(raw).map(|f| f.as_str()), Some(raw));
        }
        assert_eq!(HookEventFilter::parse("call.*"), None);
        assert_eq!(HookEventFilter::parse(""), None);
    }
}
