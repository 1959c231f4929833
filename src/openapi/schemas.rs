//! Schemas for what has no derivable Rust type of its own: the domain's string newtypes (their
//! serde form is a plain string with a known shape), and bodies the handlers build with
//! `json!` (their shape is checked against the live server by `openapi/check.sh`).

use crate::normalizer::model::EventType;
use crate::oauth::{Scope, ScopeSet};
use std::borrow::Cow;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::{KnownFormat, RefOr};
use utoipa::{PartialSchema, ToSchema};

/// A string schema with a description, a pattern and an example.
fn string(description: &str, pattern: Option<&str>, example: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .pattern(pattern)
        .examples([serde_json::Value::from(example)])
        .into()
}

/// Implements the schema of a prefixed id (`crate::domain::ids`): the prefix, `_`, then 1 to
/// 64 of `[A-Za-z0-9_-]`, as `parse` accepts.
macro_rules! id_schema {
    ($name:ident, $prefix:literal, $description:literal) => {
        impl PartialSchema for crate::domain::$name {
            fn schema() -> RefOr<Schema> {
                string(
                    $description,
                    Some(concat!("^", $prefix, "_[A-Za-z0-9_-]{1,64}$")),
                    concat!($prefix, "_01jd8kq2m3n4p5q6r7s8t9v0wx"),
                )
            }
        }

        impl ToSchema for crate::domain::$name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

id_schema!(
    TenantId,
    "ten",
    "A tenant: one customer account of the VoIP provider."
);
id_schema!(UserId, "usr", "A user of a tenant.");
id_schema!(HookId, "hook", "A REST Hook subscription.");
id_schema!(
    DeliveryId,
    "dlv",
    "One event on its way to one hook; stable across retries (the `webhook-id` header)."
);
id_schema!(
    CallRequestId,
    "c2c",
    "A click-to-call request; the triggers of the call carry it as `call.correlation.request_id`."
);

impl PartialSchema for crate::domain::E164Number {
    fn schema() -> RefOr<Schema> {
        string(
            "A phone number in E.164 form.",
            Some(r"^\+[1-9][0-9]{1,14}$"),
            "+14155550123",
        )
    }
}

impl ToSchema for crate::domain::E164Number {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("E164Number")
    }
}

impl PartialSchema for crate::domain::EmailAddress {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
            .examples([serde_json::Value::from("alice@acme.example")])
            .into()
    }
}

impl ToSchema for crate::domain::EmailAddress {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("EmailAddress")
    }
}

/// The OAuth scopes, from [`Scope::ALL`] so that the list cannot drift from the code.
pub fn scope_names() -> impl Iterator<Item = (&'static str, &'static str)> {
    Scope::ALL.into_iter().map(|s| (s.as_str(), s.describe()))
}

impl PartialSchema for ScopeSet {
    fn schema() -> RefOr<Schema> {
        let names: Vec<&str> = scope_names().map(|(name, _)| name).collect();
        ArrayBuilder::new()
            .items(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(names)),
            )
            .unique_items(true)
            .description(Some("The scopes the access token carries."))
            .into()
    }
}

impl ToSchema for ScopeSet {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Scopes")
    }
}

/// What a hook subscribes to: one call event type, or `*` for all of them.
pub struct HookEvent;

impl PartialSchema for HookEvent {
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

impl ToSchema for HookEvent {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("HookEvent")
    }
}
