//! Click-to-call progress from call events: a call's ringing, answer and end move the request
//! that placed it (named by `call.correlation.request_id`, or by the PBX call id the dial
//! answer gave). Pure; the store applies each move only from a status that may take it.

use crate::storage::RequestStatus;
use crate::storage::call_writes::{EventWrite, RequestMove};

/// The move an event makes, if its type moves requests at all.
pub fn request_move(write: &EventWrite) -> Option<RequestMove> {
    let event = &write.emitted.event;
    let status = RequestStatus::after_event(event.event_type.as_str())?;
    Some(RequestMove {
        tenant_id: event.tenant_id.clone(),
        status,
        request_id: event
            .call
            .correlation
            .as_ref()
            .map(|c| c.request_id.clone()),
        source_id: write.source_id.clone(),
        pbx_call_id: event.call.source_call_id.clone(),
        now: write.now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calls::test_events::{event, written};
    use crate::normalizer::model::{Correlation, EventType};

    #[test]
    fn ringing_answer_and_end_move_the_request_the_call_names() {
        let mut answered = event(EventType::Answered);
        answered.call.correlation = Some(Correlation {
            request_id: "c2c_1".into(),
        });
        let step = request_move(&written(answered, &[])).unwrap();
        assert_eq!(step.status, RequestStatus::Answered);
        assert_eq!(step.request_id.as_deref(), Some("c2c_1"));
        assert_eq!(
            (step.source_id.as_str(), step.pbx_call_id.as_str()),
            ("src_1", "c1")
        );
    }

    #[test]
    fn a_call_without_correlation_is_still_found_by_its_pbx_call_id() {
        let step = request_move(&written(event(EventType::Ended), &[])).unwrap();
        assert_eq!(step.status, RequestStatus::Ended);
        assert_eq!(step.request_id, None);
        assert_eq!(step.pbx_call_id, "c1");
    }

    #[test]
    fn other_events_move_nothing() {
        for event_type in [EventType::Held, EventType::Missed, EventType::Parked] {
            assert!(request_move(&written(event(event_type), &[])).is_none());
        }
    }
}
