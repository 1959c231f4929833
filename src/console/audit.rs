//! The audit log of the tenant's admin actions, newest first (admins only).

use super::viewer::{self, Nav, respond};
use crate::http::AppState;
use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;

struct EntryLine {
    at: String,
    actor: String,
    action: String,
    target: String,
    details: String,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage<'a> {
    nav: Nav<'a>,
    entries: Vec<EntryLine>,
}

#[get("/console/audit")]
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    respond(
        async {
            let viewer = viewer::admin(&state, &req).await?;
            let users = state.storage.users(&viewer.user.tenant_id).await?;
            let entries = state
                .storage
                .audit_log(Some(&viewer.user.tenant_id), 200)
                .await?
                .into_iter()
                .map(|r| EntryLine {
                    at: r.created_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                    actor: users
                        .iter()
                        .find(|u| u.id.as_str() == r.actor)
                        .map_or(r.actor.clone(), |u| format!("{} ({})", u.name, r.actor)),
                    action: r.action,
                    target: r.target,
                    details: r.details.to_string(),
                })
                .collect();
            Ok(viewer.page(&AuditPage {
                nav: viewer.nav(&state, "audit"),
                entries,
            }))
        }
        .await,
    )
}
