//! Who is looking at the console and what every page shares: the signed-in user (the consent
//! page's session cookie), the admin check, the CSRF token of the page's forms, the navigation,
//! and the headers every console response carries.

use crate::http::AppState;
use crate::oauth::session;
use crate::storage::{AuditEntry, User};
use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::http::header::{
    CACHE_CONTROL, CONTENT_TYPE, LOCATION, REFERRER_POLICY, X_FRAME_OPTIONS,
};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use chrono::Utc;

/// Scripts and styles come only from the console's own embedded assets; nothing may frame it.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'";

/// The signed-in user of a console request, with the CSRF token its forms carry.
pub struct Viewer {
    pub user: User,
    pub csrf_token: String,
    /// Set when this browser had no CSRF cookie yet.
    csrf_cookie: Option<Cookie<'static>>,
}

/// What the navigation bar needs.
pub struct Nav<'a> {
    pub product_name: &'a str,
    pub user_name: &'a str,
    pub is_admin: bool,
    pub csrf_token: &'a str,
    /// The page's own link, marked current.
    pub current: &'static str,
}

impl Viewer {
    pub fn nav<'a>(&'a self, state: &'a AppState, current: &'static str) -> Nav<'a> {
        Nav {
            product_name: &state.settings.product_name,
            user_name: &self.user.name,
            is_admin: self.user.is_admin,
            csrf_token: &self.csrf_token,
            current,
        }
    }

    /// The audit entry of an action this user takes now in their tenant.
    pub fn audit(&self, action: &str, target: &str, details: serde_json::Value) -> AuditEntry {
        AuditEntry {
            tenant_id: Some(self.user.tenant_id.clone()),
            actor: self.user.id.to_string(),
            action: action.to_owned(),
            target: target.to_owned(),
            details,
            at: Utc::now(),
        }
    }

    /// The page rendered with the console's headers (and the CSRF cookie when new).
    pub fn page(&self, page: &impl Template) -> HttpResponse {
        html(
            StatusCode::OK,
            page,
            self.csrf_cookie.clone().into_iter().collect(),
        )
    }
}

/// Why a console request is not served.
pub enum Refused {
    /// Nobody is signed in: go to the sign-in page.
    SignIn,
    /// Signed in, but this is not theirs to see or do (403).
    Forbidden,
    /// No such record of this tenant (or not the viewer's): 404, as if it did not exist.
    NotFound,
    /// A form without this browser's CSRF token.
    BadForm,
    /// The store could not be read or written.
    Unavailable,
}

impl From<crate::storage::StoreError> for Refused {
    fn from(error: crate::storage::StoreError) -> Self {
        tracing::error!(error = %error, "console: store failed");
        Refused::Unavailable
    }
}

impl Refused {
    pub fn response(self) -> HttpResponse {
        let (status, message) = match self {
            Refused::SignIn => return redirect("/console/sign-in"),
            Refused::Forbidden => (
                StatusCode::FORBIDDEN,
                "This page is for the admins of your organisation.",
            ),
            Refused::NotFound => (StatusCode::NOT_FOUND, "There is nothing here."),
            Refused::BadForm => (
                StatusCode::FORBIDDEN,
                "The form expired or did not come from this console. Go back, reload and try again.",
            ),
            Refused::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "The console cannot reach its database right now. Try again shortly.",
            ),
        };
        html(status, &MessagePage { message }, Vec::new())
    }
}

#[derive(Template)]
#[template(path = "console/message.html")]
struct MessagePage<'a> {
    message: &'a str,
}

/// The signed-in user, who must still exist and not be disabled.
pub async fn viewer(state: &AppState, req: &HttpRequest) -> Result<Viewer, Refused> {
    let keys = &state.oauth.keys;
    let session = session::read_session(keys, req, Utc::now()).ok_or(Refused::SignIn)?;
    let user = state
        .storage
        .user(&session.tenant_id, &session.user_id)
        .await?
        .filter(|u| u.disabled_at.is_none())
        .ok_or(Refused::SignIn)?;
    let (nonce, csrf_cookie) = session::csrf_nonce(req, state.oauth.secure_cookies);
    Ok(Viewer {
        user,
        csrf_token: session::csrf_token(keys, &nonce),
        csrf_cookie,
    })
}

/// A tenant admin, for the admin pages.
pub async fn admin(state: &AppState, req: &HttpRequest) -> Result<Viewer, Refused> {
    let viewer = viewer(state, req).await?;
    if viewer.user.is_admin {
        Ok(viewer)
    } else {
        Err(Refused::Forbidden)
    }
}

/// A form post's viewer: signed in and carrying this browser's CSRF token.
pub async fn poster(
    state: &AppState,
    req: &HttpRequest,
    form: &crate::oauth::params::Params,
) -> Result<Viewer, Refused> {
    if !session::csrf_matches(&state.oauth.keys, req, form.get("csrf_token")) {
        return Err(Refused::BadForm);
    }
    match viewer(state, req).await {
        Err(Refused::SignIn) => Err(Refused::Forbidden),
        other => other,
    }
}

/// A form post only an admin may make.
pub async fn admin_poster(
    state: &AppState,
    req: &HttpRequest,
    form: &crate::oauth::params::Params,
) -> Result<Viewer, Refused> {
    let viewer = poster(state, req, form).await?;
    if viewer.user.is_admin {
        Ok(viewer)
    } else {
        Err(Refused::Forbidden)
    }
}

/// Back to a page after a form (303, so reloading does not post again).
pub fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, to.to_owned()))
        .insert_header((CACHE_CONTROL, "no-store"))
        .finish()
}

/// An HTML response that may not be framed nor cached, under the console's CSP.
pub fn html(
    status: StatusCode,
    page: &impl Template,
    cookies: Vec<Cookie<'static>>,
) -> HttpResponse {
    let body = match page.render() {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(error = %error, "cannot render console page");
            return HttpResponse::InternalServerError().finish();
        }
    };
    let mut response = HttpResponse::build(status);
    response
        .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((X_FRAME_OPTIONS, "DENY"))
        .insert_header(("content-security-policy", CONTENT_SECURITY_POLICY))
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header((REFERRER_POLICY, "same-origin"))
        .insert_header(("x-content-type-options", "nosniff"));
    for cookie in cookies {
        response.cookie(cookie);
    }
    response.body(body)
}

/// `Ok` page or the refusal's page.
pub fn respond(result: Result<HttpResponse, Refused>) -> HttpResponse {
    result.unwrap_or_else(Refused::response)
}
