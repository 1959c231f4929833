//! Queue names (admins only): the readable names queue triggers carry, per source. Adding,
//! renaming and deleting go through the same operations as `ringhook queue …`
//! (`admin::queue_ops`), so they are validated alike and written to the audit log.

use super::viewer::{self, Nav, Refused, Viewer, redirect, respond};
use crate::admin::AdminError;
use crate::admin::operator::Operator;
use crate::admin::queue_ops::{self, Naming};
use crate::http::AppState;
use crate::oauth::params::Params;
use crate::storage::StoreError;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;

struct QueueLine {
    source_id: String,
    external_id: String,
    name: String,
}

#[derive(Template)]
#[template(path = "console/queues.html")]
struct QueuesPage<'a> {
    nav: Nav<'a>,
    /// Sources that may name queues (their ids, for the add form).
    sources: Vec<String>,
    queues: Vec<QueueLine>,
    error: Option<String>,
}

async fn queues_page(
    state: &AppState,
    viewer: &Viewer,
    error: Option<String>,
) -> Result<HttpResponse, Refused> {
    let op = operator(state, viewer);
    let tenant = &viewer.user.tenant_id;
    let queues = queue_ops::list_queues(&op, tenant, None)
        .await
        .map_err(unavailable)?
        .into_iter()
        .map(|q| QueueLine {
            source_id: q.source_id.to_string(),
            external_id: q.external_id,
            name: q.name,
        })
        .collect();
    let sources = state
        .storage
        .sources(tenant)
        .await?
        .into_iter()
        .map(|s| s.id.to_string())
        .collect();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let mut response = viewer.page(&QueuesPage {
        nav: viewer.nav(state, "queues"),
        sources,
        queues,
        error,
    });
    *response.status_mut() = status;
    Ok(response)
}

fn operator<'a>(state: &'a AppState, viewer: &Viewer) -> Operator<'a> {
    Operator::new(
        state.storage.as_ref(),
        viewer.user.id.to_string(),
        &state.settings,
    )
}

fn unavailable(error: AdminError) -> Refused {
    tracing::error!(error = %error, "console: cannot read queue names");
    Refused::Unavailable
}

#[get("/console/queues")]
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    respond(
        async {
            let viewer = viewer::admin(&state, &req).await?;
            queues_page(&state, &viewer, None).await
        }
        .await,
    )
}

/// The add, rename and delete forms post here with their `action`.
#[post("/console/queues/{action}")]
pub async fn act(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    respond(
        async {
            let form = Params::from_form(&body);
            let viewer = viewer::admin_poster(&state, &req, &form).await?;
            let op = operator(&state, &viewer);
            let tenant = &viewer.user.tenant_id;
            let source = form.get("source").unwrap_or_default();
            let queue_id = form.get("queue_id").unwrap_or_default();
            let name = form.get("name").unwrap_or_default();
            let outcome = match path.as_str() {
                "add" => {
                    queue_ops::name_queue(&op, tenant, source, queue_id, name, Naming::Set).await
                }
                "rename" => {
                    queue_ops::name_queue(&op, tenant, source, queue_id, name, Naming::Rename).await
                }
                "delete" => queue_ops::delete_queue(&op, tenant, source, queue_id).await,
                _ => return Err(Refused::NotFound),
            };
            match outcome {
                Ok(_) => {
                    // Ingest reads queue names with the directory: the next call uses the new one.
                    let sources = state.storage.sources(tenant).await?;
                    state
                        .directories
                        .forget_directories(sources.iter().map(|s| &s.id));
                    Ok(redirect("/console/queues"))
                }
                Err(AdminError::Invalid(why))
                | Err(AdminError::Store(StoreError::NotFound(why) | StoreError::Conflict(why))) => {
                    queues_page(&state, &viewer, Some(why)).await
                }
                Err(other) => Err(unavailable(other)),
            }
        }
        .await,
    )
}
