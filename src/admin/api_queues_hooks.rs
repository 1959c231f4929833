//! The admin API's queue names and hooks: the operations of `ringhook queue …` and of the
//! console's hooks page over HTTP, for a tenant admin's token, on the token's own tenant only
//! (another tenant's source or hook answers 404). Each change is audited with the acting user
//! as its actor, through the same operations (`queue_ops`, `hook_ops`).

use super::api::operator;
use super::api_wire::problem;
use super::hook_ops::{self, AdminHookList, AdminHookView};
use super::queue_ops::{self, Naming};
use crate::domain::{HookId, SourceId};
use crate::error::{ApiError, Problem};
use crate::http::AppState;
use crate::oauth::Authenticated;
use actix_web::{HttpResponse, delete, get, post, put, web};
use serde::{Deserialize, Serialize};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_queues)
        .service(name_queue)
        .service(delete_queue)
        .service(list_hooks)
        .service(enable_hook)
        .service(delete_hook);
}

/// `PUT /v1/admin/sources/{id}/queues/{external_id}`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueueNameBody {
    /// The readable name queue triggers carry (1 to 200 characters, not only blanks).
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
}

/// A queue's readable name, keyed by the id its source uses for it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct QueueView {
    /// The id the source uses for the queue (an ACDc queue id, a Zoom call queue id, …).
    pub external_id: String,
    pub name: String,
}

/// `GET /v1/admin/sources/{id}/queues`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct QueueList {
    pub queues: Vec<QueueView>,
}

/// The source in the path; one that does not parse is no source of the tenant's.
fn source_path(raw: &str) -> Result<SourceId, ApiError> {
    SourceId::parse(raw).ok_or_else(|| ApiError::not_found("no such source"))
}

fn hook_path(raw: &str) -> Result<HookId, ApiError> {
    HookId::parse(raw).ok_or_else(|| ApiError::not_found("no such hook"))
}

/// The source's named queues
#[utoipa::path(
    operation_id = "adminListQueues",
    tag = "admin",
    params(("id" = String, Path, description = "The source (`src_…`)")),
    responses(
        (status = 200, description = "The source's named queues", body = QueueList),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `tenant:admin`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record in the token's tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("oauth2" = ["tenant:admin"])),
)]
#[get("/v1/admin/sources/{id}/queues")]
pub async fn list_queues(
    auth: Authenticated,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let op = operator(&auth, &state)?;
    let source = source_path(&path)?;
    let queues = queue_ops::list_queues(&op, &auth.user().tenant_id, Some(source.as_str()))
        .await
        .map_err(problem)?;
    Ok(HttpResponse::Ok().json(QueueList {
        queues: queues
            .into_iter()
            .map(|q| QueueView {
                external_id: q.external_id,
                name: q.name,
            })
            .collect(),
    }))
}

/// Name a queue, or rename it
#[utoipa::path(
    operation_id = "adminNameQueue",
    tag = "admin",
    params(
        ("id" = String, Path, description = "The source (`src_…`)"),
        ("external_id" = String, Path, description = "The id the source uses for the queue"),
    ),
    request_body = QueueNameBody,
    responses(
        (status = 200, description = "The queue had a name; it now has this one", body = QueueView),
        (status = 201, description = "The queue had no name; it now has this one", body = QueueView),
        (status = 400, description = "The body is not JSON of this shape", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `tenant:admin`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record in the token's tenant", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A value does not parse or is not allowed (`invalid_input`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("oauth2" = ["tenant:admin"])),
)]
#[put("/v1/admin/sources/{id}/queues/{external_id}")]
pub async fn name_queue(
    auth: Authenticated,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Json<QueueNameBody>,
) -> Result<HttpResponse, ApiError> {
    let op = operator(&auth, &state)?;
    let (source, external_id) = path.into_inner();
    let source = source_path(&source)?;
    let named = queue_ops::name_queue(
        &op,
        &auth.user().tenant_id,
        source.as_str(),
        &external_id,
        &body.name,
        Naming::Set,
    )
    .await
    .map_err(problem)?;
    let view = QueueView {
        external_id: named["external_id"].as_str().unwrap_or_default().to_owned(),
        name: named["name"].as_str().unwrap_or_default().to_owned(),
    };
    Ok(if named["renamed"] == true {
        HttpResponse::Ok().json(view)
    } else {
        HttpResponse::Created().json(view)
    })
}

/// Forget a queue's name
#[utoipa::path(
    operation_id = "adminDeleteQueue",
    tag = "admin",
    params(
        ("id" = String, Path, description = "The source (`src_…`)"),
        ("external_id" = String, Path, description = "The id the source uses for the queue"),
    ),
    responses(
        (status = 204, description = "The queue's name is forgotten"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `tenant:admin`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such named queue in the token's tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("oauth2" = ["tenant:admin"])),
)]
#[delete("/v1/admin/sources/{id}/queues/{external_id}")]
pub async fn delete_queue(
    auth: Authenticated,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let op = operator(&auth, &state)?;
    let (source, external_id) = path.into_inner();
    let source = source_path(&source)?;
    let deleted =
        queue_ops::delete_queue(&op, &auth.user().tenant_id, source.as_str(), &external_id)
            .await
            .map_err(problem)?;
    if deleted["deleted"] == true {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::not_found("no such named queue"))
    }
}

/// Every hook of the tenant, newest first (never a secret)
#[utoipa::path(
    operation_id = "adminListHooks",
    tag = "admin",
    responses(
        (status = 200, description = "Every hook of the tenant, newest first", body = AdminHookList),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `tenant:admin`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("oauth2" = ["tenant:admin"])),
)]
#[get("/v1/admin/hooks")]
pub async fn list_hooks(
    auth: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let op = operator(&auth, &state)?;
    let hooks = hook_ops::list_hooks(&op, &auth.user().tenant_id)
        .await
        .map_err(problem)?;
    Ok(HttpResponse::Ok().json(hooks))
}

/// Re-enable a hook disabled for failing
#[utoipa::path(
    operation_id = "adminEnableHook",
    tag = "admin",
    params(("id" = String, Path, description = "The hook (`hook_…`)")),
    responses(
        (status = 200, description = "The hook is active again, its failing streak starts anew", body = AdminHookView),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `tenant:admin`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record in the token's tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The hook is not disabled, or its app's grant was revoked (`conflict`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("oauth2" = ["tenant:admin"])),
)]
#[post("/v1/admin/hooks/{id}/enable")]
pub async fn enable_hook(
    auth: Authenticated,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let op = operator(&auth, &state)?;
    let hook = hook_ops::enable_hook(&op, &auth.user().tenant_id, &hook_path(&path)?)
        .await
        .map_err(problem)?;
    Ok(HttpResponse::Ok().json(hook))
}

/// Delete a hook with its deliveries
#[utoipa::path(
    operation_id = "adminDeleteHook",
    tag = "admin",
    params(("id" = String, Path, description = "The hook (`hook_…`)")),
    responses(
        (status = 204, description = "The hook and its deliveries are deleted"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `tenant:admin`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record in the token's tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("oauth2" = ["tenant:admin"])),
)]
#[delete("/v1/admin/hooks/{id}")]
pub async fn delete_hook(
    auth: Authenticated,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let op = operator(&auth, &state)?;
    hook_ops::delete_hook(&op, &auth.user().tenant_id, &hook_path(&path)?)
        .await
        .map_err(problem)?;
    Ok(HttpResponse::NoContent().finish())
}
