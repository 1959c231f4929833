//! The admin API: the tenant-level day-two operations of the command line over HTTP, for a
//! tenant admin's token (`tenant:admin`). Every route acts on the token's own tenant only: a
//! record of another tenant answers 404 as if it did not exist. Each change is recorded in the
//! audit log with the acting user as its actor.

use super::api_wire::{
    LinkBody, PasswordBody, RotateBody, SourcePatchBody, TenantPatchBody, problem,
};
use super::operator::Operator;
use super::user_ops::{UserPatch, parse_user_id};
use super::{error::source_id, source_ops, tenant_ops, user_ops};
use crate::domain::{SourceId, UserId};
use crate::error::{ApiError, Problem};
use crate::http::AppState;
use crate::oauth::{Authenticated, Scope};
use actix_web::{HttpResponse, delete, get, patch, post, put, web};
use secrecy::SecretString;
use serde::Deserialize;

/// Every admin route: the scope checked, the acting user as the audit log's actor.
pub(super) fn operator<'a>(
    auth: &Authenticated,
    state: &'a AppState,
) -> Result<Operator<'a>, ApiError> {
    auth.require(Scope::TenantAdmin)?;
    Ok(Operator::new(
        state.storage.as_ref(),
        auth.user().id.to_string(),
        &state.settings,
    ))
}

fn user_path(raw: &str) -> Result<UserId, ApiError> {
    parse_user_id(raw).map_err(|_| ApiError::not_found("no such user"))
}

fn source_path(raw: &str) -> Result<SourceId, ApiError> {
    source_id(raw).map_err(|_| ApiError::not_found("no such source"))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// How many entries, newest first (1 to 1000, default 50).
    limit: Option<u32>,
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(show_tenant)
        .service(update_tenant)
        .service(list_users)
        .service(show_user)
        .service(update_user)
        .service(delete_user)
        .service(set_password)
        .service(link_user)
        .service(unlink_user)
        .service(disable_user)
        .service(enable_user)
        .service(list_sources)
        .service(show_source)
        .service(update_source)
        .service(rotate_source_secret)
        .service(disable_source)
        .service(enable_source)
        .service(delete_source)
        .service(list_audit)
        .configure(super::api_queues_hooks::routes);
}

/// The token's tenant with its users and sources
#[utoipa::path(
    operation_id = "adminShowTenant",
    tag = "admin",
    responses(
        (status = 200, description = "The token's tenant with its users and sources", body = Object),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `tenant:admin`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("oauth2" = ["tenant:admin"])),
)]
#[get("/v1/admin/tenant")]
pub async fn show_tenant(
    auth: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let op = operator(&auth, &state)?;
    let tenant = &auth.user().tenant_id;
    let answer = tenant_ops::show_tenant(&op, tenant)
        .await
        .map_err(problem)?;
    Ok(HttpResponse::Ok().json(answer))
}

/// Rename the tenant or change its default country
#[utoipa::path(
    operation_id = "adminUpdateTenant",
    tag = "admin",
    request_body = TenantPatchBody,
    responses(
        (status = 200, description = "Rename the tenant or change its default country", body = Object),
        (status = 400, description = "The body is not JSON of this shape", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `tenant:admin`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A value does not parse or is not allowed (`invalid_input`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("oauth2" = ["tenant:admin"])),
)]
#[patch("/v1/admin/tenant")]
pub async fn update_tenant(
    auth: Authenticated,
    state: web::Data<AppState>,
    body: web::Json<TenantPatchBody>,
) -> Result<HttpResponse, ApiError> {
    let op = operator(&auth, &state)?;
    let tenant = &auth.user().tenant_id;
    let answer = tenant_ops::update_tenant(
        &op,
        tenant,
        body.name.as_deref(),
        body.default_country.as_deref(),
    )
    .await
    .map_err(problem)?;
    Ok(HttpResponse::Ok().json(answer))
}

/// The tenant's users with their links
#[utoipa::path(
    operation_id = "adminListUsers",
    tag = "admin",
    responses(
        (status = 200, description = "The tenant's users with their links", body = Object),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `tenant:admin`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("oauth2" = ["tenant:admin"])),
)]
#[get("/v1/admin/users")]
pub async fn list_users(
    auth: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let op = operator(&auth, &state)?;
    let tenant = &auth.user().tenant_id;
    let answer = user_ops::list_users(&op, tenant).await.map_err(problem)?;
    Ok(HttpResponse::Ok().json(answer))
}

/// One user with their links
#[utoipa::path(
    operation_id = "adminShowUser",
    tag = "admin",
    params(("id" = String, Path, description = "The user (`usr_…`)")),
    responses(
        (status = 200, description = "One user with their links", body = Object),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `tenant:admin`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record in the token's tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("oauth2" = ["tenant:admin"])),
)]
#[get("/v1/admin/users/{id}")]
pub async fn show_user(
    auth: Authenticated,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let op = operator(&auth, &state)?;
    let tenant = &auth.user().tenant_id;
    let answer = user_ops::show_user(&op, tenant, &user_path(&path)?)
        .await
        .map_err(problem)?;
    Ok(HttpResponse::Ok().json(answer))
}

/// Change a user's email, name, extension, number or admin flag
#[utoipa::path(
    operation_id = "adminUpdateUser",
    tag = "admin",
    params(("id" = String, Path, description = "The user (`usr_…`)")),
    request_body = UserPatch,
    responses(
        (status = 200, description = "Change a user's email, name, extension, number or admin flag", body = Object),
        (status = 400, description = "The body is not JSON of this shape", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `tenant:admin`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record in the token's tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Collides with another record (`conflict`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A value does not parse or is not allowed (`invalid_input`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("oauth2" = ["tenant:admin"])),
)]
#[patch("/v1/admin/users/{id}")]
pub async fn update_user(
    auth: Authenticated,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<UserPatch>,
) -> Result<HttpResponse, ApiError> {
    let op = operator(&auth, &state)?;
    let tenant = &auth.user().tenant_id;
    let answer = user_ops::update_user(&op, tenant, &user_path(&path)?, &body)
        .await
        .map_err(problem)?;
    Ok(HttpResponse::Ok().json(answer))
}

/// Delete a user with their links, hooks and grants; answers what went
#[utoipa::path(
    operation_id = "adminDeleteUser",
    tag = "admin",
    params(("id" = String, Path, description = "The user (`usr_…`)")),
    responses(
        (status = 200, description = "Delete a user with their links, hooks and grants; answers what went", body = Object),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `tenant:admin`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record in the token's tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("oauth2" = ["tenant:admin"])),
)]
#[delete("/v1/admin/users/{id}")]
pub async fn delete_user(
    auth: Authenticated,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let op = operator(&auth, &state)?;
    let tenant = &auth.user().tenant_id;
    let answer = user_ops::delete_user(&op, tenant, &user_path(&path)?, true)
        .await
        .map_err(problem)?;
    Ok(HttpResponse::Ok().json(answer))
}

/// Set a user's password
#[utoipa::path(
    operation_id = "adminSetPassword",
    tag = "admin",
    params(("id" = String, Path, description = "The user (`usr_…`)")),
    request_body = PasswordBody,
    responses(
        (status = 200, description = "Set a user's password", body = Object),
        (status = 400, description = "The body is not JSON of this shape", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `tenant:admin`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record in the token's tenant", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A value does not parse or is not allowed (`invalid_input`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("oauth2" = ["tenant:admin"])),
)]
#[put("/v1/admin/users/{id}/password")]
pub async fn set_password(
    auth: Authenticated,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<PasswordBody>,
) -> Result<HttpResponse, ApiError> {
    let op = operator(&auth, &state)?;
    let tenant = &auth.user().tenant_id;
    let answer = user_ops::set_password(
        &op,
        tenant,
        &user_path(&path)?,
        &SecretString::from(body.into_inner().password),
    )
    .await
    .map_err(problem)?;
    Ok(HttpResponse::Ok().json(answer))
}

/// Add how a source names the user
#[utoipa::path(
    operation_id = "adminLinkUser",
    tag = "admin",
    params(("id" = String, Path, description = "The user (`usr_…`)")),
    request_body = LinkBody,
    responses(
        (status = 200, description = "Add how a source names the user", body = Object),
        (status = 400, description = "The body is not JSON of this shape", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `tenant:admin`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record in the token's tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Collides with another record (`conflict`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A value does not parse or is not allowed (`invalid_input`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("oauth2" = ["tenant:admin"])),
)]
#[post("/v1/admin/users/{id}/links")]
pub async fn link_user(
    auth: Authenticated,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<LinkBody>,
) -> Result<HttpResponse, ApiError> {
    let op = operator(&auth, &state)?;
    let tenant = &auth.user().tenant_id;
    let answer = user_ops::change_link(
        &op,
        tenant,
        &user_path(&path)?,
        &format!("{}:{}", body.source_id, body.external_id),
        true,
    )
    .await
    .map_err(problem)?;
    Ok(HttpResponse::Ok().json(answer))
}

/// Remove how a source names the user
#[utoipa::path(
    operation_id = "adminUnlinkUser",
    tag = "admin",
    params(("id" = String, Path, description = "The user (`usr_…`)")),
    request_body = LinkBody,
    responses(
        (status = 200, description = "Remove how a source names the user", body = Object),
        (status = 400, description = "The body is not JSON of this shape", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `tenant:admin`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record in the token's tenant", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A value does not parse or is not allowed (`invalid_input`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("oauth2" = ["tenant:admin"])),
)]
#[post("/v1/admin/users/{id}/links/remove")]
pub async fn unlink_user(
    auth: Authenticated,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<LinkBody>,
) -> Result<HttpResponse, ApiError> {
    let op = operator(&auth, &state)?;
    let tenant = &auth.user().tenant_id;
    let answer = user_ops::change_link(
        &op,
        tenant,
        &user_path(&path)?,
        &format!("{}:{}", body.source_id, body.external_id),
        false,
    )
    .await
    .map_err(problem)?;
    Ok(HttpResponse::Ok().json(answer))
}

/// Stop a user signing in and revoke their grants
#[utoipa::path(
    operation_id = "adminDisableUser",
    tag = "admin",
    params(("id" = String, Path, description = "The user (`usr_…`)")),
    responses(
        (status = 200, description = "Stop a user signing in and revoke their grants", body = Object),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `tenant:admin`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record in the token's tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("oauth2" = ["tenant:admin"])),
)]
#[post("/v1/admin/users/{id}/disable")]
pub async fn disable_user(
    auth: Authenticated,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let op = operator(&auth, &state)?;
    let tenant = &auth.user().tenant_id;
    let answer = user_ops::set_disabled(&op, tenant, &user_path(&path)?, true)
        .await
        .map_err(problem)?;
    Ok(HttpResponse::Ok().json(answer))
}

/// Let a disabled user sign in again
#[utoipa::path(
    operation_id = "adminEnableUser",
    tag = "admin",
    params(("id" = String, Path, description = "The user (`usr_…`)")),
    responses(
        (status = 200, description = "Let a disabled user sign in again", body = Object),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `tenant:admin`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record in the token's tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("oauth2" = ["tenant:admin"])),
)]
#[post("/v1/admin/users/{id}/enable")]
pub async fn enable_user(
    auth: Authenticated,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let op = operator(&auth, &state)?;
    let tenant = &auth.user().tenant_id;
    let answer = user_ops::set_disabled(&op, tenant, &user_path(&path)?, false)
        .await
        .map_err(problem)?;
    Ok(HttpResponse::Ok().json(answer))
}

/// The tenant's sources with their ingest URLs (no secrets)
#[utoipa::path(
    operation_id = "adminListSources",
    tag = "admin",
    responses(
        (status = 200, description = "The tenant's sources with their ingest URLs (no secrets)", body = Object),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `tenant:admin`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("oauth2" = ["tenant:admin"])),
)]
#[get("/v1/admin/sources")]
pub async fn list_sources(
    auth: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let op = operator(&auth, &state)?;
    let tenant = &auth.user().tenant_id;
    let answer = source_ops::list_sources(&op, tenant)
        .await
        .map_err(problem)?;
    Ok(HttpResponse::Ok().json(answer))
}

/// One source with its ingest URL (no secret)
#[utoipa::path(
    operation_id = "adminShowSource",
    tag = "admin",
    params(("id" = String, Path, description = "The source (`src_…`)")),
    responses(
        (status = 200, description = "One source with its ingest URL (no secret)", body = Object),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `tenant:admin`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record in the token's tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("oauth2" = ["tenant:admin"])),
)]
#[get("/v1/admin/sources/{id}")]
pub async fn show_source(
    auth: Authenticated,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let op = operator(&auth, &state)?;
    let tenant = &auth.user().tenant_id;
    let answer = source_ops::show_source(&op, tenant, &source_path(&path)?)
        .await
        .map_err(problem)?;
    Ok(HttpResponse::Ok().json(answer))
}

/// Change a source's PBX account id or API settings
#[utoipa::path(
    operation_id = "adminUpdateSource",
    tag = "admin",
    params(("id" = String, Path, description = "The source (`src_…`)")),
    request_body = SourcePatchBody,
    responses(
        (status = 200, description = "Change a source's PBX account id or API settings", body = Object),
        (status = 400, description = "The body is not JSON of this shape", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `tenant:admin`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record in the token's tenant", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A value does not parse or is not allowed (`invalid_input`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("oauth2" = ["tenant:admin"])),
)]
#[patch("/v1/admin/sources/{id}")]
pub async fn update_source(
    auth: Authenticated,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<SourcePatchBody>,
) -> Result<HttpResponse, ApiError> {
    let op = operator(&auth, &state)?;
    let tenant = &auth.user().tenant_id;
    let answer = source_ops::update_source(
        &op,
        tenant,
        &source_path(&path)?,
        &source_patch(body.into_inner())?,
    )
    .await
    .map_err(problem)?;
    Ok(HttpResponse::Ok().json(answer))
}

/// Issue a new secret (shown in this answer only); the old one verifies for the grace period
#[utoipa::path(
    operation_id = "adminRotateSourceSecret",
    tag = "admin",
    params(("id" = String, Path, description = "The source (`src_…`)")),
    request_body = Option<RotateBody>,
    responses(
        (status = 200, description = "Issue a new secret (shown in this answer only); the old one verifies for the grace period", body = Object),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `tenant:admin`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record in the token's tenant", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A value does not parse or is not allowed (`invalid_input`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("oauth2" = ["tenant:admin"])),
)]
#[post("/v1/admin/sources/{id}/rotate-secret")]
pub async fn rotate_source_secret(
    auth: Authenticated,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: Option<web::Json<RotateBody>>,
) -> Result<HttpResponse, ApiError> {
    let op = operator(&auth, &state)?;
    let tenant = &auth.user().tenant_id;
    let answer = source_ops::rotate_secret(
        &op,
        tenant,
        &source_path(&path)?,
        body.as_ref().and_then(|b| b.secret.as_deref()),
    )
    .await
    .map_err(problem)?;
    Ok(HttpResponse::Ok().json(answer))
}

/// Refuse the source's events
#[utoipa::path(
    operation_id = "adminDisableSource",
    tag = "admin",
    params(("id" = String, Path, description = "The source (`src_…`)")),
    responses(
        (status = 200, description = "Refuse the source's events", body = Object),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `tenant:admin`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record in the token's tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("oauth2" = ["tenant:admin"])),
)]
#[post("/v1/admin/sources/{id}/disable")]
pub async fn disable_source(
    auth: Authenticated,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let op = operator(&auth, &state)?;
    let tenant = &auth.user().tenant_id;
    let answer = source_ops::set_disabled(&op, tenant, &source_path(&path)?, true)
        .await
        .map_err(problem)?;
    Ok(HttpResponse::Ok().json(answer))
}

/// Accept the source's events again
#[utoipa::path(
    operation_id = "adminEnableSource",
    tag = "admin",
    params(("id" = String, Path, description = "The source (`src_…`)")),
    responses(
        (status = 200, description = "Accept the source's events again", body = Object),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `tenant:admin`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record in the token's tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("oauth2" = ["tenant:admin"])),
)]
#[post("/v1/admin/sources/{id}/enable")]
pub async fn enable_source(
    auth: Authenticated,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let op = operator(&auth, &state)?;
    let tenant = &auth.user().tenant_id;
    let answer = source_ops::set_disabled(&op, tenant, &source_path(&path)?, false)
        .await
        .map_err(problem)?;
    Ok(HttpResponse::Ok().json(answer))
}

/// Delete a source with its links, queue names and calls in progress; answers what went
#[utoipa::path(
    operation_id = "adminDeleteSource",
    tag = "admin",
    params(("id" = String, Path, description = "The source (`src_…`)")),
    responses(
        (status = 200, description = "Delete a source with its links, queue names and calls in progress; answers what went", body = Object),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `tenant:admin`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record in the token's tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("oauth2" = ["tenant:admin"])),
)]
#[delete("/v1/admin/sources/{id}")]
pub async fn delete_source(
    auth: Authenticated,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let op = operator(&auth, &state)?;
    let tenant = &auth.user().tenant_id;
    let answer = source_ops::delete_source(&op, tenant, &source_path(&path)?, true)
        .await
        .map_err(problem)?;
    Ok(HttpResponse::Ok().json(answer))
}

/// The tenant's audit log, newest first.
#[utoipa::path(
    operation_id = "adminListAudit",
    tag = "admin",
    params(AuditQuery),
    responses(
        (status = 200, description = "The tenant's audit entries, newest first", body = Object),
        (status = 400, description = "A query parameter is not of its type", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `tenant:admin`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`limit` is out of range (`invalid_input`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("oauth2" = ["tenant:admin"])),
)]
#[get("/v1/admin/audit")]
pub async fn list_audit(
    auth: Authenticated,
    state: web::Data<AppState>,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let op = operator(&auth, &state)?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(problem(super::error::invalid("limit must be 1 to 1000")));
    }
    let entries = op
        .store
        .audit_log(Some(&auth.user().tenant_id), limit)
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "entries": entries })))
}

/// The body as the operation takes it: an API URL needs its key, and `null` clears both.
fn source_patch(body: SourcePatchBody) -> Result<source_ops::SourcePatch, ApiError> {
    let api = match (body.api_url, body.api_key) {
        (Some(Some(url)), Some(key)) => Some(Some((url, key))),
        (Some(None), None) => Some(None),
        (None, None) => None,
        _ => {
            return Err(problem(super::error::invalid(
                "api_url and api_key go together (api_url null clears both)",
            )));
        }
    };
    Ok(source_ops::SourcePatch {
        account_id: body.account_id,
        api,
    })
}
