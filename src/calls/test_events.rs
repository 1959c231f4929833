//! Call events to feed the pure stages' unit tests.

use crate::domain::{TenantId, UserId};
use crate::normalizer::model::EventType;
use crate::normalizer::{CallEvent, EmittedEvent};
use crate::storage::call_writes::EventWrite;
use chrono::Utc;
use std::collections::BTreeSet;

pub fn tenant(n: u8) -> TenantId {
    TenantId::parse(&format!("ten_{:026}", n)).unwrap()
}

pub fn user(n: u8) -> UserId {
    UserId::parse(&format!("usr_{:026}", n)).unwrap()
}

/// An event of `event_type` of tenant 1's call `call_1` (PBX call id `c1`).
pub fn event(event_type: EventType) -> CallEvent {
    let mut event: CallEvent = serde_json::from_value(serde_json::json!({
        "id": "evt_1", "type": "call.ringing", "occurred_at": "2024-06-03T14:00:00Z",
        "tenant_id": tenant(1).as_str(), "summary": "",
        "call": {
            "id": "call_1", "source": "kazoo", "source_call_id": "c1", "direction": "inbound",
            "from": {"kind": "unknown"}, "to": {"kind": "unknown"}, "user": {"kind": "unknown"},
            "started_at": "2024-06-03T14:00:00Z", "answered_at": null, "ended_at": null,
            "ring_seconds": null, "talk_seconds": null, "duration_seconds": null,
            "disposition": null, "hangup_cause": null
        }
    }))
    .unwrap();
    event.event_type = event_type;
    event
}

pub fn taking_part(users: &[u8]) -> BTreeSet<UserId> {
    users.iter().map(|&n| user(n)).collect()
}

/// `event` as the pipeline hands it to the stages: with its participants, from `src_1`.
pub fn written(event: CallEvent, users: &[u8]) -> EventWrite {
    EventWrite {
        origin: 0,
        call_id: "call_1".into(),
        source_id: "src_1".into(),
        emitted: EmittedEvent {
            event,
            participants: taking_part(users),
        },
        now: Utc::now(),
    }
}
