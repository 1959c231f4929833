//! The REST Hooks API (`/v1/hooks`, `/v1/events`, `/v1/users`, deliveries): what Zapier's
//! performSubscribe / performUnsubscribe / performList and dropdowns call. Every route needs a
//! bearer token; every query is scoped to the token's tenant.

pub(crate) mod deliveries;
pub(crate) mod events;
pub(crate) mod subscriptions;

use crate::normalizer::model::EventType;
use actix_web::web;
use std::borrow::Cow;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

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

/// What a hook subscribes to, and what `GET /v1/events` filters on: one call event type, or
/// `*` for all of them. Only a schema: the handlers read it as a string and check it with
/// [`EventType::parse`].
pub struct HookEvent;

impl utoipa::PartialSchema for HookEvent {
    fn schema() -> RefOr<Schema> {
        let mut names: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
        names.push("*");
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(names))
            .description(Some("A call event type, or `*` for all of them."))
            .into()
    }
}

impl utoipa::ToSchema for HookEvent {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("HookEvent")
    }
}
