//! The signed-in user's own account: change the password (the current one is asked again,
//! and counts against the sign-in throttle when wrong).

use super::viewer::{self, Nav, Refused, respond};
use crate::admin::operator::Operator;
use crate::admin::user_ops;
use crate::http::AppState;
use crate::oauth::params::Params;
use crate::oauth::sign_in::authenticate;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use secrecy::SecretString;
use std::time::Instant;

#[derive(Template)]
#[template(path = "console/account.html")]
struct AccountPage<'a> {
    nav: Nav<'a>,
    email: String,
    notice: Option<&'a str>,
    error: Option<&'a str>,
}

fn page(
    state: &AppState,
    viewer: &viewer::Viewer,
    notice: Option<&str>,
    error: Option<&str>,
) -> HttpResponse {
    let mut response = viewer.page(&AccountPage {
        nav: viewer.nav(state, "account"),
        email: viewer.user.email.to_string(),
        notice,
        error,
    });
    if error.is_some() {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    response
}

#[get("/console/account")]
pub async fn show(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    respond(
        async {
            let viewer = viewer::viewer(&state, &req).await?;
            Ok(page(&state, &viewer, None, None))
        }
        .await,
    )
}

#[post("/console/account/password")]
pub async fn change_password(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    respond(
        async {
            let form = Params::from_form(&body);
            let viewer = viewer::poster(&state, &req, &form).await?;
            let email = viewer.user.email.to_string();
            let address = req.peer_addr().map(|a| a.ip());
            let throttle = &state.oauth.sign_in_throttle;
            if throttle.check(&email, address, Instant::now()).is_err() {
                return Ok(page(
                    &state,
                    &viewer,
                    None,
                    Some("Too many wrong passwords. Wait a minute, then try again."),
                ));
            }
            let current = form.get("current").unwrap_or_default();
            let matched = authenticate(state.storage.as_ref(), &email, current)
                .await
                .map_err(|()| Refused::Unavailable)?
                .is_some_and(|u| u.id == viewer.user.id);
            if !matched {
                throttle.failed(&email, address, Instant::now());
                return Ok(page(
                    &state,
                    &viewer,
                    None,
                    Some("The current password is not right."),
                ));
            }
            let new = form.get("new").unwrap_or_default();
            if new != form.get("repeat").unwrap_or_default() {
                return Ok(page(
                    &state,
                    &viewer,
                    None,
                    Some("The two new passwords differ."),
                ));
            }
            let op = Operator::new(
                state.storage.as_ref(),
                viewer.user.id.to_string(),
                &state.settings,
            );
            let secret = SecretString::from(new.to_owned());
            match user_ops::set_password(&op, &viewer.user.tenant_id, &viewer.user.id, &secret)
                .await
            {
                Ok(_) => Ok(page(
                    &state,
                    &viewer,
                    Some("Your password is changed."),
                    None,
                )),
                Err(crate::admin::AdminError::Invalid(why)) => {
                    Ok(page(&state, &viewer, None, Some(&why)))
                }
                Err(crate::admin::AdminError::Credential(e)) => {
                    Ok(page(&state, &viewer, None, Some(&e.to_string())))
                }
                Err(other) => {
                    tracing::error!(error = %other, "console: cannot set a password");
                    Err(Refused::Unavailable)
                }
            }
        }
        .await,
    )
}
