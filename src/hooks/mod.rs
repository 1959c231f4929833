//! The REST Hooks API (`/v1/hooks`, `/v1/events`, `/v1/users`, deliveries): what Zapier's
//! performSubscribe / performUnsubscribe / performList and dropdowns call. Every route needs a
//! bearer token; every query is scoped to the token's tenant.

pub(crate) mod deliveries;
pub(crate) mod events;
pub(crate) mod subscriptions;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(subscriptions::create)
        .service(subscriptions::list)
        .service(subscriptions::get)
        .service(subscriptions::delete)
        .service(events::list_events)
        .service(events::list_users)
        .service(deliveries::of_hook)
        .service(deliveries::retry);
}
