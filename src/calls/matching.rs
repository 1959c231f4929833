//! Which hooks receive which event: the REST Hooks fan-out rule, pure so it is tested here.
//!
//! A hook receives an event when it is active, belongs to the event's tenant, its filter
//! admits the event's type, and it is a tenant hook or its owner takes part in the call.

use crate::domain::DeliveryId;
use crate::normalizer::{CallEvent, EmittedEvent};
use crate::storage::HookScope;
use crate::storage::HookStatus;
use crate::storage::call_writes::{EventWrite, NewDelivery, Subscription};
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;

/// Whether `hook` receives `event`, whose call `participants` take part in.
pub fn receives(
    hook: &Subscription,
    event: &CallEvent,
    participants: &BTreeSet<crate::domain::UserId>,
) -> bool {
    hook.status == HookStatus::Active
        && hook.tenant_id == event.tenant_id
        && hook.event.admits(event.event_type)
        && match hook.scope {
            HookScope::Tenant => true,
            HookScope::User => participants.contains(&hook.user_id),
        }
}

/// One delivery per hook that receives each event, in event order then hook order, and how
/// many each event got.
pub fn deliveries(events: &[EventWrite], hooks: &[Subscription]) -> (Vec<NewDelivery>, Vec<u64>) {
    let mut queued = Vec::new();
    let mut counts = vec![0; events.len()];
    for (count, write) in counts.iter_mut().zip(events) {
        for hook in hooks {
            if receives(hook, &write.emitted.event, &write.emitted.participants) {
                queued.push(delivery(hook, &write.emitted, write.now));
                *count += 1;
            }
        }
    }
    (queued, counts)
}

fn delivery(hook: &Subscription, emitted: &EmittedEvent, now: DateTime<Utc>) -> NewDelivery {
    NewDelivery {
        id: DeliveryId::generate(),
        tenant_id: emitted.event.tenant_id.clone(),
        hook_id: hook.id.clone(),
        event_id: emitted.event.id.clone(),
        now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calls::test_events::{event, taking_part, tenant, user, written};
    use crate::domain::{HookEventFilter, HookId};
    use crate::normalizer::model::EventType;

    fn hook(scope: HookScope, owner: u8, event: &str) -> Subscription {
        Subscription {
            id: HookId::generate(),
            tenant_id: tenant(1),
            user_id: user(owner),
            scope,
            event: HookEventFilter::parse(event).unwrap(),
            status: HookStatus::Active,
        }
    }

    #[test]
    fn a_user_hook_receives_the_calls_its_owner_takes_part_in() {
        let hook = hook(HookScope::User, 7, "*");
        let ringing = event(EventType::Ringing);
        assert!(receives(&hook, &ringing, &taking_part(&[3, 7])));
        assert!(!receives(&hook, &ringing, &taking_part(&[3])));
    }

    #[test]
    fn a_tenant_hook_receives_every_call_of_its_tenant_only() {
        let hook = hook(HookScope::Tenant, 7, "*");
        let mut ringing = event(EventType::Ringing);
        assert!(receives(&hook, &ringing, &taking_part(&[])));
        ringing.tenant_id = tenant(2);
        assert!(!receives(&hook, &ringing, &taking_part(&[7])));
    }

    #[test]
    fn a_hook_receives_only_the_type_it_subscribed_to() {
        let hook = hook(HookScope::User, 7, "call.missed");
        assert!(receives(
            &hook,
            &event(EventType::Missed),
            &taking_part(&[7])
        ));
        assert!(!receives(
            &hook,
            &event(EventType::Answered),
            &taking_part(&[7])
        ));
    }

    #[test]
    fn a_disabled_hook_receives_nothing() {
        let mut hook = hook(HookScope::Tenant, 7, "*");
        hook.status = HookStatus::Disabled;
        assert!(!receives(
            &hook,
            &event(EventType::Ringing),
            &taking_part(&[7])
        ));
    }

    #[test]
    fn each_event_gets_one_delivery_per_receiving_hook_and_counts_them() {
        let hooks = [
            hook(HookScope::Tenant, 1, "*"),
            hook(HookScope::User, 7, "call.ringing"),
            hook(HookScope::User, 8, "*"),
        ];
        let events = [
            written(event(EventType::Ringing), &[7]),
            written(event(EventType::Answered), &[7, 8]),
        ];
        let (queued, counts) = deliveries(&events, &hooks);
        assert_eq!(counts, vec![2, 2]);
        let hook_ids: Vec<&HookId> = queued.iter().map(|d| &d.hook_id).collect();
        assert_eq!(
            hook_ids,
            vec![&hooks[0].id, &hooks[1].id, &hooks[0].id, &hooks[2].id]
        );
    }
}
