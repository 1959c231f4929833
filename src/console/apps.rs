//! Connected apps: the OAuth grants a user gave (Zapier and the like), with revoke. Admins see
//! every user's, everyone else their own; revoking checks the grant is the viewer's (or the
//! viewer is an admin of its tenant), so another user's grant answers 404.

use super::viewer::{self, Nav, Refused, Viewer, redirect, respond};
use crate::domain::GrantId;
use crate::http::AppState;
use crate::oauth::params::Params;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;

struct GrantLine {
    id: String,
    app: String,
    user: String,
    scope: String,
    created: String,
}

#[derive(Template)]
#[template(path = "console/apps.html")]
struct AppsPage<'a> {
    nav: Nav<'a>,
    grants: Vec<GrantLine>,
}

async fn grant_lines(state: &AppState, viewer: &Viewer) -> Result<Vec<GrantLine>, Refused> {
    let users = if viewer.user.is_admin {
        state.storage.users(&viewer.user.tenant_id).await?
    } else {
        vec![viewer.user.clone()]
    };
    let mut lines = Vec::new();
    for user in users {
        for grant in state.storage.grants_of_user(&user.id).await? {
            if grant.revoked_at.is_some() || grant.tenant_id != viewer.user.tenant_id {
                continue;
            }
            let app = state
                .storage
                .client(&grant.client_id)
                .await?
                .map_or_else(|| grant.client_id.to_string(), |c| c.name);
            lines.push(GrantLine {
                id: grant.id.to_string(),
                app,
                user: user.name.clone(),
                scope: grant
                    .scope
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
                created: grant.created_at.format("%Y-%m-%d %H:%M").to_string(),
            });
        }
    }
    Ok(lines)
}

#[get("/console/apps")]
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    respond(
        async {
            let viewer = viewer::viewer(&state, &req).await?;
            let grants = grant_lines(&state, &viewer).await?;
            Ok(viewer.page(&AppsPage {
                nav: viewer.nav(&state, "apps"),
                grants,
            }))
        }
        .await,
    )
}

/// Ends the grant: its tokens are refused from the next request on this instance.
#[post("/console/apps/{grant}/revoke")]
pub async fn revoke(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    respond(
        async {
            let form = Params::from_form(&body);
            let viewer = viewer::poster(&state, &req, &form).await?;
            let id = GrantId::parse(&path).ok_or(Refused::NotFound)?;
            let grant = state
                .storage
                .grant(&id)
                .await?
                .filter(|g| g.tenant_id == viewer.user.tenant_id)
                .filter(|g| viewer.user.is_admin || g.user_id == viewer.user.id)
                .ok_or(Refused::NotFound)?;
            let audit = viewer.audit(
                "grant.revoke",
                grant.id.as_str(),
                serde_json::json!({"user_id": grant.user_id, "client_id": grant.client_id}),
            );
            state
                .storage
                .revoke_grant_audited(&grant.id, chrono::Utc::now(), &audit)
                .await?;
            state.oauth.cache.invalidate(&grant.id);
            Ok(redirect("/console/apps"))
        }
        .await,
    )
}
