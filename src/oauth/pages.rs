//! The HTML the authorization endpoint shows: the login + consent page and the error page
//! for requests that must not be redirected (RFC 6749 §4.1.2.1). Askama escapes every value.

use actix_web::HttpResponse;
use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE, REFERRER_POLICY, X_FRAME_OPTIONS};
use askama::Template;

/// The one form of DESIGN.md: hidden request fields and CSRF token, `email`/`password` when
/// nobody is signed in, and `decision` buttons.
#[derive(Template)]
#[template(
    ext = "html",
    source = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Connect {{ client_name }} to {{ product_name }}</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#222}
label{display:block;margin:.6rem 0}input[type=email],input[type=password]{width:100%;padding:.4rem}
.logo{max-height:3rem;max-width:12rem}.error{color:#b00020}.small{font-size:.9rem;color:#555}
button{padding:.6rem 1.2rem;margin:.3rem .5rem .3rem 0;border-radius:.3rem;font-size:1rem;cursor:pointer}
.allow{background:#1558d6;color:#fff;border:1px solid #1558d6}.deny{background:#fff;color:#222;border:1px solid #888}
.link{background:none;border:none;color:#1558d6;text-decoration:underline;padding:0;font-size:inherit}</style></head>
<body>
<header>{% if let Some(logo) = logo_url %}<img class="logo" src="{{ logo }}" alt="{{ product_name }}">{% else %}<p><strong>{{ product_name }}</strong></p>{% endif %}</header>
<main>
<h1>Connect {{ client_name }} to {{ product_name }}</h1>
<p><strong>{{ client_name }}</strong> asks to:</p>
<ul>{% for (name, words) in scopes %}<li>{{ words }} <small>({{ name }})</small></li>{% endfor %}
{% if let Some(words) = admin_scope_if_admin %}<li>{{ words }} <small>(tenant:admin, only if you are an admin of your organisation)</small></li>{% endif %}</ul>
<p class="small">After you decide you will be sent to <strong>{{ redirect_host }}</strong>.</p>
{% if let Some(message) = error %}<p class="error" role="alert">{{ message }}</p>{% endif %}
<form method="post">
{% for (name, value) in hidden %}<input type="hidden" name="{{ name }}" value="{{ value }}">
{% endfor %}<input type="hidden" name="csrf_token" value="{{ csrf_token }}">
{% if let Some(who) = signed_in_as %}<p>Signed in as {{ who }}
(<button class="link" type="submit" name="decision" value="switch" formnovalidate>not you?</button>)</p>
{% else %}<label>Email <input type="email" name="email" value="{{ email }}" autocomplete="username" required></label>
<label>Password <input type="password" name="password" autocomplete="current-password" required></label>
{% endif %}<p><button class="allow" type="submit" name="decision" value="allow">Allow</button>
<button class="deny" type="submit" name="decision" value="deny" formnovalidate>Deny</button></p>
</form>
</main>
</body></html>"#
)]
pub struct AuthorizePage<'a> {
    /// The operator's product (setting `product_name`) and logo (`product_logo_url`, https).
    pub product_name: &'a str,
    pub logo_url: Option<&'a str>,
    pub client_name: &'a str,
    /// Where the decision sends the user: the redirect URI's host.
    pub redirect_host: String,
    /// `(scope, words)` pairs.
    pub scopes: Vec<(&'static str, &'static str)>,
    /// Before sign-in: the words of `tenant:admin` when asked, granted to admins only.
    pub admin_scope_if_admin: Option<&'static str>,
    pub hidden: Vec<(&'a str, &'a str)>,
    pub csrf_token: &'a str,
    pub signed_in_as: Option<&'a str>,
    pub email: &'a str,
    pub error: Option<&'a str>,
}

#[derive(Template)]
#[template(
    ext = "html",
    source = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Cannot connect</title></head>
<body style="font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto">
<h1>This connection request cannot be completed</h1>
<p>{{ message }}</p>
<p>Go back to the app you came from and start the connection again.</p>
</body></html>"#
)]
pub struct ErrorPage<'a> {
    pub message: &'a str,
}

/// An HTML response that may not be framed (RFC 9700 §4.16) nor cached.
pub fn html(
    status: StatusCode,
    page: &impl Template,
    cookies: Vec<Cookie<'static>>,
) -> HttpResponse {
    let body = match page.render() {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(error = %error, "cannot render page");
            return HttpResponse::InternalServerError().finish();
        }
    };
    let mut response = HttpResponse::build(status);
    response
        .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((X_FRAME_OPTIONS, "DENY"))
        .insert_header((
            "content-security-policy",
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
        ))
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header((REFERRER_POLICY, "no-referrer"));
    for cookie in cookies {
        response.cookie(cookie);
    }
    response.body(body)
}

/// The error page for a request that cannot be trusted with a redirect.
pub fn error_page(message: &str) -> HttpResponse {
    html(StatusCode::BAD_REQUEST, &ErrorPage { message }, Vec::new())
}
