//! Signing in to the console and out of it, with the consent page's account check
//! ([`crate::oauth::sign_in::authenticate`]), its throttle and its session cookie: signing in
//! here also signs the browser in to the consent page, and the other way round.

use super::viewer::{self, Refused, redirect};
use crate::http::AppState;
use crate::oauth::params::Params;
use crate::oauth::session::{self, BrowserSession};
use crate::oauth::sign_in::authenticate;
use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use chrono::Utc;
use std::time::Instant;

#[derive(Template)]
#[template(path = "console/sign_in.html")]
struct SignInPage<'a> {
    product_name: &'a str,
    csrf_token: &'a str,
    email: &'a str,
    error: Option<&'a str>,
}

fn page(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    email: &str,
    error: Option<&str>,
) -> HttpResponse {
    let (nonce, cookie) = session::csrf_nonce(req, state.oauth.secure_cookies);
    let token = session::csrf_token(&state.oauth.keys, &nonce);
    let page = SignInPage {
        product_name: &state.settings.product_name,
        csrf_token: &token,
        email,
        error,
    };
    viewer::html(status, &page, cookie.into_iter().collect())
}

#[get("/console/sign-in")]
pub async fn show(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    if viewer::viewer(&state, &req).await.is_ok() {
        return redirect("/console");
    }
    page(&state, &req, StatusCode::OK, "", None)
}

#[post("/console/sign-in")]
pub async fn submit(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    let form = Params::from_form(&body);
    let oauth = &state.oauth;
    if !session::csrf_matches(&oauth.keys, &req, form.get("csrf_token")) {
        return Refused::BadForm.response();
    }
    let email = form.get("email").unwrap_or_default();
    let password = form.get("password").unwrap_or_default();
    let address = req.peer_addr().map(|a| a.ip());
    let throttle = &oauth.sign_in_throttle;
    if throttle.check(email, address, Instant::now()).is_err() {
        let message = "Too many wrong passwords. Wait a minute, then try again.";
        return page(
            &state,
            &req,
            StatusCode::TOO_MANY_REQUESTS,
            email,
            Some(message),
        );
    }
    match authenticate(state.storage.as_ref(), email, password).await {
        Ok(Some(user)) => {
            throttle.succeeded(email);
            let session = BrowserSession {
                user_id: user.id,
                tenant_id: user.tenant_id,
            };
            let cookie =
                session::session_cookie(&oauth.keys, &session, Utc::now(), oauth.secure_cookies);
            let mut response = redirect(if user.is_admin {
                "/console"
            } else {
                "/console/hooks"
            });
            if let Err(e) = response.add_cookie(&cookie) {
                tracing::warn!(error = %e, "cannot set session cookie");
            }
            response
        }
        Ok(None) => {
            throttle.failed(email, address, Instant::now());
            page(
                &state,
                &req,
                StatusCode::OK,
                email,
                Some("The email or password is not right."),
            )
        }
        Err(()) => Refused::Unavailable.response(),
    }
}

/// Ends the session for the console and the consent page alike.
#[post("/console/sign-out")]
pub async fn sign_out(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    let form = Params::from_form(&body);
    if !session::csrf_matches(&state.oauth.keys, &req, form.get("csrf_token")) {
        return Refused::BadForm.response();
    }
    let mut response = redirect("/console/sign-in");
    let mut ended = Cookie::new(session::SESSION_COOKIE, "");
    ended.set_path(session::COOKIE_PATH);
    response.add_removal_cookie(&ended).ok();
    response
}
