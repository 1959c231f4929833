//! Request bodies of the admin API (`/v1/admin/…`), and how an admin operation's error
//! becomes a problem answer.

use super::error::AdminError;
use crate::error::{ApiError, ProblemCode};
use crate::storage::StoreError;
use actix_web::http::StatusCode;
use serde::Deserialize;

/// `PATCH /v1/admin/tenant`: fields left out keep their value.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantPatchBody {
    pub name: Option<String>,
    /// ISO 3166 country whose numbering plan reads national numbers.
    pub default_country: Option<String>,
}

/// `PUT /v1/admin/users/{id}/password`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    /// 8 to 1024 characters; only its argon2 hash is stored.
    pub password: String,
}

/// `POST /v1/admin/users/{id}/links` and the link to remove.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkBody {
    /// One of the tenant's sources (`src_…`).
    pub source_id: String,
    /// How that source names the user (Kazoo `owner_id`, Zoom `user_id`, an extension).
    pub external_id: String,
}

/// `PATCH /v1/admin/sources/{id}`: fields left out keep their value, `null` clears.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SourcePatchBody {
    #[serde(default, deserialize_with = "super::user_ops::clearable")]
    #[schema(value_type = Option<String>)]
    pub account_id: Option<Option<String>>,
    /// Base URL of the PBX's API (with `api_key`); `null` forgets both.
    #[serde(default, deserialize_with = "super::user_ops::clearable")]
    #[schema(value_type = Option<String>)]
    pub api_url: Option<Option<String>>,
    pub api_key: Option<String>,
}

/// `POST /v1/admin/sources/{id}/rotate-secret`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateBody {
    /// The new secret; required for Zoom (the app's new Secret Token), generated otherwise.
    pub secret: Option<String>,
}

/// Refusals keep their message; store faults are logged and answered opaquely.
pub fn problem(error: AdminError) -> ApiError {
    match error {
        AdminError::Invalid(why) | AdminError::NeedsConfirmation(why) => {
            ApiError::unprocessable(ProblemCode::InvalidInput, why)
        }
        AdminError::Credential(why) => {
            ApiError::unprocessable(ProblemCode::InvalidInput, why.to_string())
        }
        AdminError::Store(StoreError::NotFound(why)) => ApiError::not_found(why),
        AdminError::Store(StoreError::Conflict(why)) => {
            ApiError::new(StatusCode::CONFLICT, ProblemCode::Conflict, why)
        }
        AdminError::Store(StoreError::Invalid(why)) => {
            ApiError::unprocessable(ProblemCode::InvalidInput, why)
        }
        AdminError::Store(other) => ApiError::from(other),
    }
}
