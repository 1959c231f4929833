//! `GET/POST /oauth/authorize` (RFC 6749 §4.1.1–4.1.2): the login + consent page and the code
//! it issues. The client and redirect URI are checked first and, when wrong, answered with an
//! error page, never a redirect (§4.1.2.1; RFC 9700 §4.11: no open redirector). Every other
//! error is redirected to the client with `state` echoed.

use super::pages::{self, AuthorizePage};
use super::params::Params;
use super::scope::{Scope, ScopeSet};
use super::session::{self, BrowserSession};
use super::{pkce, sign_in};
use crate::credentials;
use crate::domain::{ClientId, new_token};
use crate::http::AppState;
use crate::storage::{NewAuthCode, OAuthClient, Storage, User};
use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, LOCATION};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use std::time::Instant;

/// `GET /oauth/authorize` parameters (RFC 6749 §4.1.1 with PKCE, RFC 7636 §4.3). The
/// handlers read them by name from [`Params`] (the consent form carries them on as hidden
/// inputs, [`REQUEST_FIELDS`]); this type describes them.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuthorizeParams {
    /// Must be `code`.
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    /// One of the client's registered URIs, compared exactly; optional when it has only one.
    pub redirect_uri: Option<String>,
    /// Space-delimited; `calls:read` when absent.
    pub scope: Option<String>,
    /// Echoed to the redirect URI.
    pub state: Option<String>,
    /// base64url SHA-256 of the client's code verifier.
    pub code_challenge: Option<String>,
    /// Must be `S256`.
    pub code_challenge_method: Option<String>,
}

/// The consent form `GET /oauth/authorize` shows: the request's parameters as hidden inputs,
/// a CSRF token that must match the `ringhook_csrf` cookie, the credentials of a user who is
/// not signed in, and the user's decision.
#[derive(utoipa::ToSchema)]
pub struct ConsentForm {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub csrf_token: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
    /// `allow` issues a code; anything else denies.
    pub decision: Option<String>,
}

/// A request that passed every check: safe to show the page for, or to issue a code for.
struct Checked {
    client: OAuthClient,
    redirect_uri: String,
    redirect_uri_given: bool,
    state: Option<String>,
    scope: ScopeSet,
    code_challenge: String,
}

/// Why a request is refused, and whether the client may be told by redirect.
enum Refusal {
    /// The client or redirect URI cannot be trusted: show an error page.
    Page(String),
    /// Tell the client at its redirect URI (RFC 6749 §4.1.2.1).
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: &'static str,
        description: String,
    },
    /// The store failed; nothing was decided.
    Unavailable,
}

/// The request fields the form carries back, in order.
const REQUEST_FIELDS: [&str; 7] = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
];

async fn check(store: &dyn Storage, params: &Params) -> Result<Checked, Refusal> {
    let page = |m: &str| Refusal::Page(m.to_owned());
    if params.is_repeated("client_id") || params.is_repeated("redirect_uri") {
        return Err(page("The request repeats client_id or redirect_uri."));
    }
    let client_id = params
        .get("client_id")
        .ok_or_else(|| page("The request does not name a client (client_id)."))?;
    let client = match ClientId::parse(client_id) {
        Some(id) => store
            .client(&id)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "cannot load client");
                Refusal::Unavailable
            })?
            .ok_or_else(|| page("The app asking for access is not registered with ringhook."))?,
        None => {
            return Err(page(
                "The app asking for access is not registered with ringhook.",
            ));
        }
    };
    let (redirect_uri, redirect_uri_given) = match params.get("redirect_uri") {
        // Exact string comparison (RFC 9700 §2.1): no normalisation, no prefix matching.
        Some(given) if client.redirect_uris.iter().any(|u| u.as_str() == given) => {
            (given.to_owned(), true)
        }
        Some(_) => {
            return Err(page(
                "The redirect URI in the request is not registered for this app.",
            ));
        }
        None if client.redirect_uris.len() == 1 => {
            (client.redirect_uris[0].as_str().to_owned(), false)
        }
        None => {
            return Err(page(
                "The request must name one of the app's redirect URIs.",
            ));
        }
    };
    let state = params.get("state").map(str::to_owned);
    let redirect = |error, description: &str| Refusal::Redirect {
        redirect_uri: redirect_uri.clone(),
        state: state.clone(),
        error,
        description: description.to_owned(),
    };
    if let Some(name) = params.first_repeated() {
        return Err(redirect(
            "invalid_request",
            &format!("parameter {name} is repeated"),
        ));
    }
    match params.get("response_type") {
        Some("code") => {}
        Some(_) => {
            return Err(redirect(
                "unsupported_response_type",
                "only response_type=code is supported",
            ));
        }
        None => return Err(redirect("invalid_request", "response_type is missing")),
    }
    let code_challenge = match (
        params.get("code_challenge"),
        params.get("code_challenge_method"),
    ) {
        (None, _) => {
            return Err(redirect(
                "invalid_request",
                "PKCE is required: send code_challenge with code_challenge_method=S256",
            ));
        }
        (Some(_), Some("S256")) => params.get("code_challenge").unwrap_or_default(),
        (Some(_), _) => {
            return Err(redirect(
                "invalid_request",
                "code_challenge_method must be S256; plain is not accepted",
            ));
        }
    };
    if !pkce::is_valid_challenge(code_challenge) {
        return Err(redirect(
            "invalid_request",
            "code_challenge is not a base64url SHA-256 digest",
        ));
    }
    let scope = match params.get("scope") {
        None => ScopeSet::default_request(),
        Some(raw) => ScopeSet::parse(raw).map_err(|e| redirect("invalid_scope", &e.to_string()))?,
    };
    if scope.is_empty() {
        return Err(redirect("invalid_scope", "no scope requested"));
    }
    Ok(Checked {
        client,
        redirect_uri,
        redirect_uri_given,
        state,
        scope,
        code_challenge: code_challenge.to_owned(),
    })
}

/// `redirect_uri` with the response parameters appended to its query (§4.1.2), by string so
/// the registered URI is kept exactly.
fn redirect_to(redirect_uri: &str, pairs: &[(&str, &str)]) -> HttpResponse {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        query.append_pair(name, value);
    }
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    let location = format!("{redirect_uri}{separator}{}", query.finish());
    // 303 after a POST (RFC 9700 §4.12: never 307, which would re-post the password).
    HttpResponse::SeeOther()
        .insert_header((LOCATION, location))
        .insert_header((CACHE_CONTROL, "no-store"))
        .finish()
}

fn refusal_response(refusal: Refusal) -> HttpResponse {
    match refusal {
        Refusal::Page(message) => pages::error_page(&message),
        Refusal::Redirect {
            redirect_uri,
            state,
            error,
            description,
        } => {
            let mut pairs = vec![
                ("error", error),
                ("error_description", description.as_str()),
            ];
            if let Some(state) = state.as_deref() {
                pairs.push(("state", state));
            }
            redirect_to(&redirect_uri, &pairs)
        }
        Refusal::Unavailable => HttpResponse::ServiceUnavailable()
            .insert_header(("retry-after", "5"))
            .body("ringhook is temporarily unavailable; try again shortly"),
    }
}

/// Shows the consent page for a valid request: an HTML form whose hidden inputs carry the
/// request and a CSRF token (set with the `ringhook_csrf` cookie), with `email` and
/// `password` inputs when the browser is not signed in, and `decision` buttons.
#[utoipa::path(
    get,
    path = "/oauth/authorize",
    operation_id = "authorizePage",
    tag = "oauth",
    params(AuthorizeParams),
    responses(
        (status = 200, description = "The sign-in and consent page", body = String, content_type = "text/html"),
        (status = 303, description = "The request is invalid: redirected to the client with `error`, `error_description` and `state`", headers(("location" = String, description = "The redirect URI with the response parameters"))),
        (status = 400, description = "The client or redirect URI cannot be trusted (unknown client, unregistered redirect URI), or the form's CSRF token does not match: an error page, never a redirect", body = String, content_type = "text/html"),
        (status = 503, description = "ringhook is temporarily unavailable", body = String, content_type = "text/plain"),
    ),
)]
#[tracing::instrument(name = "oauth authorize page", skip_all)]
pub async fn show(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let params = Params::from_form(req.query_string().as_bytes());
    let checked = match check(state.storage.as_ref(), &params).await {
        Ok(checked) => checked,
        Err(refusal) => return refusal_response(refusal),
    };
    let signed_in = signed_in_user(&state, &req, Utc::now()).await;
    render(
        &state,
        &req,
        &params,
        &checked,
        signed_in.as_ref(),
        "",
        None,
        StatusCode::OK,
    )
}

#[allow(clippy::too_many_arguments)]
fn render(
    state: &AppState,
    req: &HttpRequest,
    params: &Params,
    checked: &Checked,
    signed_in: Option<&User>,
    email: &str,
    error: Option<&str>,
    status: StatusCode,
) -> HttpResponse {
    let oauth = &state.oauth;
    let (nonce, csrf_cookie) = session::csrf_nonce(req, oauth.secure_cookies);
    let csrf_token = session::csrf_token(&oauth.keys, &nonce);
    let hidden: Vec<(&str, &str)> = REQUEST_FIELDS
        .iter()
        .filter_map(|name| params.get(name).map(|value| (*name, value)))
        .collect();
    // Only what this user can grant: a non-admin is never offered tenant:admin. Before sign-in
    // the page says that part depends on the account.
    let offered = match signed_in {
        Some(user) => checked.scope.allowed_for(user.is_admin),
        None => checked.scope.allowed_for(false),
    };
    let admins_only = signed_in.is_none() && checked.scope.contains(Scope::TenantAdmin);
    let logo = state.settings.product_logo_url.as_ref().map(|u| u.as_str());
    let page = AuthorizePage {
        product_name: &state.settings.product_name,
        logo_url: logo.filter(|u| u.starts_with("https://")),
        client_name: &checked.client.name,
        redirect_host: redirect_host(&checked.redirect_uri),
        scopes: offered.iter().map(|s| (s.as_str(), s.describe())).collect(),
        admin_scope_if_admin: admins_only.then(|| Scope::TenantAdmin.describe()),
        hidden,
        csrf_token: &csrf_token,
        signed_in_as: signed_in.map(|u| u.email.as_str()),
        email,
        error,
    };
    pages::html(status, &page, csrf_cookie.into_iter().collect())
}

/// Where the user will be sent after deciding, as the page names it.
fn redirect_host(redirect_uri: &str) -> String {
    url::Url::parse(redirect_uri)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| redirect_uri.to_owned())
}

/// The user of a valid browser session who still exists.
async fn signed_in_user(state: &AppState, req: &HttpRequest, now: DateTime<Utc>) -> Option<User> {
    let session = session::read_session(&state.oauth.keys, req, now)?;
    state
        .storage
        .user(&session.tenant_id, &session.user_id)
        .await
        .ok()
        .flatten()
}

/// The user whose password matches ([`sign_in::authenticate`]).
async fn sign_in(
    store: &dyn Storage,
    email: &str,
    password: &str,
) -> Result<Option<User>, Refusal> {
    sign_in::authenticate(store, email, password)
        .await
        .map_err(|()| Refusal::Unavailable)
}

/// Handles the form: CSRF check, sign-in when needed, then the user's decision.
#[utoipa::path(
    post,
    path = "/oauth/authorize",
    operation_id = "authorizeDecision",
    tag = "oauth",
    request_body(content = ConsentForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The page again: the email or password is not right", body = String, content_type = "text/html"),
        (status = 429, description = "The page again: too many wrong passwords for this account or from this address; wait a minute", body = String, content_type = "text/html"),
        (status = 303, description = "The decision: redirected to the client with `code` and `state`, or with `error` (`access_denied`, `invalid_request`, `invalid_scope`, ...)", headers(("location" = String, description = "The redirect URI with the response parameters"))),
        (status = 400, description = "The client or redirect URI cannot be trusted (unknown client, unregistered redirect URI), or the form's CSRF token does not match: an error page, never a redirect", body = String, content_type = "text/html"),
        (status = 503, description = "ringhook is temporarily unavailable", body = String, content_type = "text/plain"),
    ),
)]
#[tracing::instrument(name = "oauth authorize decision", skip_all)]
pub async fn decide(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    let params = Params::from_form(&body);
    let checked = match check(state.storage.as_ref(), &params).await {
        Ok(checked) => checked,
        Err(refusal) => return refusal_response(refusal),
    };
    let oauth = &state.oauth;
    if !session::csrf_matches(&oauth.keys, &req, params.get("csrf_token")) {
        return pages::error_page("The form expired or did not come from this page.");
    }
    let now = Utc::now();
    let deny = |error, description: &str| {
        let mut pairs = vec![("error", error), ("error_description", description)];
        if let Some(s) = checked.state.as_deref() {
            pairs.push(("state", s));
        }
        redirect_to(&checked.redirect_uri, &pairs)
    };
    if params.get("decision") == Some("switch") {
        // "Not you?": forget the session and ask who is there.
        let mut response = render(
            &state,
            &req,
            &params,
            &checked,
            None,
            "",
            None,
            StatusCode::OK,
        );
        let mut ended = Cookie::new(session::SESSION_COOKIE, "");
        ended.set_path(session::COOKIE_PATH);
        response.add_removal_cookie(&ended).ok();
        return response;
    }
    if params.get("decision") != Some("allow") {
        return deny("access_denied", "the user denied the request");
    }
    let mut cookies: Vec<Cookie<'static>> = Vec::new();
    let user = match signed_in_user(&state, &req, now).await {
        Some(user) => user,
        None => {
            let email = params.get("email").unwrap_or_default();
            let password = params.get("password").unwrap_or_default();
            let address = req.peer_addr().map(|a| a.ip());
            let throttle = &oauth.sign_in_throttle;
            if throttle.check(email, address, Instant::now()).is_err() {
                return render(
                    &state,
                    &req,
                    &params,
                    &checked,
                    None,
                    email,
                    Some("Too many wrong passwords. Wait a minute, then try again."),
                    StatusCode::TOO_MANY_REQUESTS,
                );
            }
            match sign_in(state.storage.as_ref(), email, password).await {
                Ok(Some(user)) => {
                    throttle.succeeded(email);
                    let session = BrowserSession {
                        user_id: user.id.clone(),
                        tenant_id: user.tenant_id.clone(),
                    };
                    cookies.push(session::session_cookie(
                        &oauth.keys,
                        &session,
                        now,
                        oauth.secure_cookies,
                    ));
                    user
                }
                Ok(None) => {
                    throttle.failed(email, address, Instant::now());
                    return render(
                        &state,
                        &req,
                        &params,
                        &checked,
                        None,
                        email,
                        Some("The email or password is not right."),
                        StatusCode::OK,
                    );
                }
                Err(refusal) => return refusal_response(refusal),
            }
        }
    };
    // A non-admin is never granted tenant:admin; the token response's scope shows the narrowing.
    let scope = checked.scope.allowed_for(user.is_admin);
    if scope.is_empty() {
        return deny(
            "invalid_scope",
            "tenant:admin is granted to tenant admins only",
        );
    }
    let code = new_token(32);
    let new = NewAuthCode {
        code_hash: credentials::hash_secret(&code),
        client_id: checked.client.id.clone(),
        user_id: user.id.clone(),
        tenant_id: user.tenant_id.clone(),
        redirect_uri: checked.redirect_uri.clone(),
        redirect_uri_given: checked.redirect_uri_given,
        scope,
        code_challenge: Some(checked.code_challenge.clone()),
        expires_at: now + oauth.code_lifetime,
    };
    if let Err(e) = state.storage.create_code(&new).await {
        tracing::error!(error = %e, "cannot store authorization code");
        return refusal_response(Refusal::Unavailable);
    }
    let mut pairs = vec![("code", code.as_str())];
    if let Some(s) = checked.state.as_deref() {
        pairs.push(("state", s));
    }
    let mut response = redirect_to(&checked.redirect_uri, &pairs);
    for cookie in cookies {
        if let Err(e) = response.add_cookie(&cookie) {
            tracing::warn!(error = %e, "cannot set session cookie");
        }
    }
    response
}
