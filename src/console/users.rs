//! Users (admins only): the tenant's users with their links, creating one, editing one
//! (name, email, extension, number, admin flag), setting a password, linking source ids,
//! disabling; and the extensions seen in recent calls that no user has, each linked to a user
//! in one step. Every change goes through the admin operations of the CLI and the admin API
//! (`admin::user_ops`), so it is validated the same way and written to the audit log.

use super::calls::{recent_events, unlinked_extensions};
use super::viewer::{self, Nav, Refused, Viewer, redirect, respond};
use crate::admin::AdminError;
use crate::admin::cli::UserCreate;
use crate::admin::commands::create_user;
use crate::admin::operator::Operator;
use crate::admin::user_ops::{self, UserPatch};
use crate::domain::UserId;
use crate::http::AppState;
use crate::oauth::params::Params;
use crate::storage::{StoreError, User};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use secrecy::SecretString;

struct UserLine {
    id: String,
    name: String,
    email: String,
    extension: String,
    number: String,
    admin: bool,
    disabled: bool,
    links: Vec<String>,
}

async fn user_lines(state: &AppState, viewer: &Viewer) -> Result<Vec<UserLine>, Refused> {
    let tenant = &viewer.user.tenant_id;
    let links = state.storage.user_links(tenant).await?;
    Ok(state
        .storage
        .users(tenant)
        .await?
        .into_iter()
        .map(|u: User| UserLine {
            links: links
                .iter()
                .filter(|l| l.user_id == u.id)
                .map(|l| format!("{}:{}", l.source_id, l.external_id))
                .collect(),
            id: u.id.to_string(),
            name: u.name,
            email: u.email.to_string(),
            extension: u.extension.unwrap_or_default(),
            number: u.number.map(|n| n.as_str().to_owned()).unwrap_or_default(),
            admin: u.is_admin,
            disabled: u.disabled_at.is_some(),
        })
        .collect())
}

#[derive(Template)]
#[template(path = "console/users.html")]
struct UsersPage<'a> {
    nav: Nav<'a>,
    users: Vec<UserLine>,
    unlinked: Vec<String>,
    error: Option<String>,
}

async fn users_page(
    state: &AppState,
    viewer: &Viewer,
    error: Option<String>,
) -> Result<HttpResponse, Refused> {
    let users = user_lines(state, viewer).await?;
    let events = recent_events(state, viewer, None, None, None).await?;
    let known: Vec<&str> = users.iter().map(|u| u.extension.as_str()).collect();
    let unlinked = unlinked_extensions(&events)
        .into_iter()
        .filter(|ext| !known.contains(&ext.as_str()))
        .collect();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = UsersPage {
        nav: viewer.nav(state, "users"),
        users,
        unlinked,
        error,
    };
    let mut response = viewer.page(&page);
    *response.status_mut() = status;
    Ok(response)
}

#[get("/console/users")]
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    respond(
        async {
            let viewer = viewer::admin(&state, &req).await?;
            users_page(&state, &viewer, None).await
        }
        .await,
    )
}

/// An operation's failure: the user's mistake is shown on the page, the store's is not.
fn mistake(error: AdminError) -> Result<String, Refused> {
    match error {
        AdminError::Invalid(why) | AdminError::NeedsConfirmation(why) => Ok(why),
        AdminError::Store(StoreError::Conflict(why) | StoreError::NotFound(why)) => Ok(why),
        AdminError::Credential(e) => Ok(e.to_string()),
        AdminError::Store(e) => Err(e.into()),
    }
}

fn optional(form: &Params, name: &str) -> Option<String> {
    form.get(name)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// `Ok(None)` when done, `Ok(Some(message))` when the input was refused.
async fn apply(
    state: &AppState,
    viewer: &Viewer,
    action: &str,
    form: &Params,
) -> Result<Option<String>, Refused> {
    let op = Operator::new(
        state.storage.as_ref(),
        viewer.user.id.to_string(),
        &state.settings,
    );
    let tenant = &viewer.user.tenant_id;
    let user = form.get("user").and_then(UserId::parse);
    let outcome = match (action, user) {
        ("create", _) => {
            let args = UserCreate {
                tenant: tenant.to_string(),
                email: form.get("email").unwrap_or_default().to_owned(),
                name: form.get("name").unwrap_or_default().to_owned(),
                extension: optional(form, "extension"),
                number: optional(form, "number"),
                admin: form.get("admin") == Some("on"),
                links: Vec::new(),
                password_stdin: false,
            };
            let password = optional(form, "password").map(SecretString::from);
            create_user(state.storage.as_ref(), &args, password)
                .await
                .map(drop)
        }
        ("update", Some(id)) => {
            let patch = UserPatch {
                email: optional(form, "email"),
                name: optional(form, "name"),
                extension: Some(optional(form, "extension")),
                number: Some(optional(form, "number")),
                admin: Some(form.get("admin") == Some("on")),
            };
            if id == viewer.user.id && patch.admin == Some(false) {
                return Ok(Some(
                    "You cannot take away your own admin flag here.".to_owned(),
                ));
            }
            user_ops::update_user(&op, tenant, &id, &patch)
                .await
                .map(drop)
        }
        ("link-extension", Some(id)) => {
            let patch = UserPatch {
                extension: Some(optional(form, "extension")),
                ..UserPatch::default()
            };
            user_ops::update_user(&op, tenant, &id, &patch)
                .await
                .map(drop)
        }
        ("password", Some(id)) => {
            let password = SecretString::from(form.get("password").unwrap_or_default().to_owned());
            user_ops::set_password(&op, tenant, &id, &password)
                .await
                .map(drop)
        }
        ("link", Some(id)) => {
            let link = form.get("link").unwrap_or_default();
            user_ops::change_link(&op, tenant, &id, link, true)
                .await
                .map(drop)
        }
        ("unlink", Some(id)) => {
            let link = form.get("link").unwrap_or_default();
            user_ops::change_link(&op, tenant, &id, link, false)
                .await
                .map(drop)
        }
        ("disable" | "enable", Some(id)) => {
            if id == viewer.user.id {
                return Ok(Some("You cannot disable yourself.".to_owned()));
            }
            user_ops::set_disabled(&op, tenant, &id, action == "disable")
                .await
                .map(drop)
        }
        _ => return Err(Refused::NotFound),
    };
    match outcome {
        Ok(()) => {
            let sources = state.storage.sources(tenant).await?;
            state
                .directories
                .forget_directories(sources.iter().map(|s| &s.id));
            Ok(None)
        }
        Err(error) => mistake(error).map(Some),
    }
}

/// Every user form posts here with its `action`.
#[post("/console/users/{action}")]
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
            match apply(&state, &viewer, &path, &form).await? {
                None => Ok(redirect("/console/users")),
                Some(message) => users_page(&state, &viewer, Some(message)).await,
            }
        }
        .await,
    )
}
