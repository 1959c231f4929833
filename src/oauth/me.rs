//! `GET /v1/me`: who the access token acts for (Zapier's connection test and label).

use super::guard::Authenticated;
use crate::openapi::bodies::{Me, Problem};
use actix_web::HttpResponse;
use serde_json::json;

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
    HttpResponse::Ok().json(json!({
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "extension": user.extension,
        "tenant": {"id": auth.tenant_id, "name": auth.tenant_name()},
        "scopes": auth.scopes,
    }))
}
