//! `GET /v1/me`: who the access token acts for (Zapier's connection test and label).

use super::guard::Authenticated;
use super::scope::ScopeSet;
use crate::domain::{EmailAddress, TenantId, UserId};
use crate::error::Problem;
use actix_web::HttpResponse;
use serde::Serialize;
use utoipa::ToSchema;

/// `GET /v1/me`: who the access token acts for.
#[derive(Serialize, ToSchema)]
pub struct Me {
    id: UserId,
    email: EmailAddress,
    name: String,
    extension: Option<String>,
    tenant: MeTenant,
    scopes: ScopeSet,
}

#[derive(Serialize, ToSchema)]
pub struct MeTenant {
    id: TenantId,
    name: String,
}

#[utoipa::path(
    get,
    path = "/v1/me",
    operation_id = "me",
    tag = "oauth",
    security(("bearer" = []), ("oauth2" = [])),
    responses(
        (status = 200, description = "The token's user, tenant and scopes", body = Me),
        (status = 401, description = "No access token, or one that is invalid, expired or revoked (`WWW-Authenticate: Bearer`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The access token cannot be checked right now; retry shortly", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn me(auth: Authenticated) -> HttpResponse {
    let user = auth.user();
    HttpResponse::Ok().json(Me {
        id: user.id.clone(),
        email: user.email.clone(),
        name: user.name.clone(),
        extension: user.extension.clone(),
        tenant: MeTenant {
            id: auth.tenant_id.clone(),
            name: auth.tenant_name().to_owned(),
        },
        scopes: auth.scopes,
    })
}
