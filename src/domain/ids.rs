//! Prefixed, sortable identifiers (`ten_…`, `usr_…`): the prefix tells a reader what an id names,
//! the ULID body sorts by creation time.

use rand::RngExt;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

/// Declares an id type with a fixed prefix and a private body. The first doc line doubles as
/// the id's description in the OpenAPI document.
macro_rules! prefixed_id {
    (#[doc = $summary:literal] $(#[$doc:meta])* $name:ident, $prefix:literal) => {
        #[doc = $summary]
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A fresh id.
            pub fn generate() -> Self {
                Self(format!("{}_{}", $prefix, ulid::Ulid::generate().to_string().to_lowercase()))
            }

            /// Accepts only strings that carry this id's prefix and a non-empty body.
            pub fn parse(raw: &str) -> Option<Self> {
                let body = raw.strip_prefix(concat!($prefix, "_"))?;
                let well_formed = !body.is_empty()
                    && body.len() <= 64
                    && body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
                well_formed.then(|| Self(raw.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        /// The prefix, `_`, then 1 to 64 of `[A-Za-z0-9_-]`: what `parse` accepts.
        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some($summary.trim()))
                    .pattern(Some(concat!("^", $prefix, "_[A-Za-z0-9_-]{1,64}$")))
                    .examples([serde_json::Value::from(concat!(
                        $prefix,
                        "_01jd8kq2m3n4p5q6r7s8t9v0wx"
                    ))])
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

prefixed_id!(
    /// A tenant: one customer account of the VoIP provider.
    TenantId, "ten"
);
prefixed_id!(
    /// A user of a tenant.
    UserId, "usr"
);
prefixed_id!(
    /// A phone system (PBX or Zoom account) that pushes events for one tenant.
    SourceId, "src"
);
prefixed_id!(
    /// A registered OAuth client (Zapier or another integration).
    ClientId, "cli"
);
prefixed_id!(
    /// A REST Hook subscription.
    HookId, "hook"
);
prefixed_id!(
    /// One event on its way to one hook; stable across retries (the `webhook-id` header).
    DeliveryId, "dlv"
);

prefixed_id!(
    /// A click-to-call request; the triggers of the call carry it as `call.correlation.request_id`.
    ///
    /// Created by `POST /v1/calls` and sent to the PBX, which hands it back in the call's events.
    CallRequestId, "c2c"
);

prefixed_id!(
    /// A user's consent to one OAuth client; every token issued under it names it.
    GrantId, "gnt"
);

/// A random, URL-safe token of `bytes` bytes of entropy, for secrets and one-time codes.
pub fn new_token(bytes: usize) -> String {
    use base64::Engine;
    let mut buf = vec![0u8; bytes];
    rand::rng().fill(&mut buf[..]);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_carry_their_prefix_and_parse_back() {
        let id = TenantId::generate();
        assert!(id.as_str().starts_with("ten_"));
        assert_eq!(TenantId::parse(id.as_str()), Some(id));
    }

    #[test]
    fn ids_with_another_prefix_or_odd_characters_are_refused() {
        assert_eq!(TenantId::parse("usr_01abc"), None);
        assert_eq!(TenantId::parse("ten_"), None);
        assert_eq!(TenantId::parse("ten_a b"), None);
        assert_eq!(TenantId::parse("ten_x'; drop"), None);
    }

    /// The pattern the OpenAPI document gives for an id, without its anchors.
    fn schema_pattern<T: utoipa::PartialSchema>() -> String {
        match T::schema() {
            RefOr::T(Schema::Object(object)) => {
                let pattern = object.pattern.unwrap();
                pattern
                    .strip_prefix('^')
                    .and_then(|p| p.strip_suffix('$'))
                    .unwrap()
                    .to_owned()
            }
            _ => panic!("an id schema is a string schema"),
        }
    }

    proptest::proptest! {
        #[test]
        fn every_id_the_documented_pattern_describes_parses(
            raw in proptest::string::string_regex(&schema_pattern::<HookId>()).unwrap()
        ) {
            proptest::prop_assert!(HookId::parse(&raw).is_some(), "{raw:?}");
        }
    }

    #[test]
    fn the_documented_pattern_carries_the_prefix_and_the_length_limit() {
        assert_eq!(schema_pattern::<DeliveryId>(), "dlv_[A-Za-z0-9_-]{1,64}",);
        assert!(DeliveryId::parse(&format!("dlv_{}", "a".repeat(64))).is_some());
        assert!(DeliveryId::parse(&format!("dlv_{}", "a".repeat(65))).is_none());
    }

    #[test]
    fn tokens_have_the_requested_entropy_and_differ() {
        let a = new_token(32);
        assert_eq!(a.len(), 43);
        assert_ne!(a, new_token(32));
    }
}
