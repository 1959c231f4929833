//! Value types parsed at the edge: once a value has one of these types it is known to be valid.

mod email;
mod hook_filter;
mod ids;
mod phone;
mod source_kind;
mod web_url;

pub use email::EmailAddress;
pub use hook_filter::HookEventFilter;
pub use ids::{
    CallRequestId, ClientId, DeliveryId, GrantId, HookId, SourceId, TenantId, UserId, new_token,
};
pub use phone::{CountryCode, E164Number, PhoneError};
pub use source_kind::SourceKind;
pub use web_url::{RedirectUri, WebUrl};
