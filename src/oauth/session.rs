//! The browser state of the consent page and the web console, in signed cookies only (nothing
//! in the database): one session cookie, valid for both (path `/`), so a signed-in user is not
//! asked for a password on every authorization nor again in the console,
//! and a signed double-submit CSRF cookie (RFC 6749 §10.12; RFC 9700 §4.16's clickjacking
//! defence is on the page itself).

use super::keys::KeyRing;
use crate::domain::{TenantId, UserId, new_token};
use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time};
use chrono::{DateTime, Utc};
use subtle::ConstantTimeEq;

pub const SESSION_COOKIE: &str = "ringhook_session";
pub const CSRF_COOKIE: &str = "ringhook_csrf";
/// Both cookies are sent to the consent page and to the console.
pub const COOKIE_PATH: &str = "/";
/// How long a browser stays signed in to the consent page.
pub const SESSION_HOURS: i64 = 12;

/// Who is signed in on this browser.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrowserSession {
    pub user_id: UserId,
    pub tenant_id: TenantId,
}

fn equal(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// `user.tenant.expiry.mac`: the ids are not secret; the MAC stops forgery.
pub fn session_cookie(
    keys: &KeyRing,
    session: &BrowserSession,
    now: DateTime<Utc>,
    secure: bool,
) -> Cookie<'static> {
    let expires = (now + chrono::Duration::hours(SESSION_HOURS)).timestamp();
    let payload = format!("{}.{}.{expires}", session.user_id, session.tenant_id);
    let mac = keys.session_mac(&format!("session:{payload}"));
    Cookie::build(SESSION_COOKIE, format!("{payload}.{mac}"))
        .path(COOKIE_PATH)
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(time::Duration::hours(SESSION_HOURS))
        .finish()
}

/// The signed-in user, when the cookie is present, intact and not expired.
pub fn read_session(
    keys: &KeyRing,
    req: &HttpRequest,
    now: DateTime<Utc>,
) -> Option<BrowserSession> {
    let cookie = req.cookie(SESSION_COOKIE)?;
    let (payload, mac) = cookie.value().rsplit_once('.')?;
    if !equal(&keys.session_mac(&format!("session:{payload}")), mac) {
        return None;
    }
    let mut parts = payload.split('.');
    let user_id = UserId::parse(parts.next()?)?;
    let tenant_id = TenantId::parse(parts.next()?)?;
    let expires: i64 = parts.next()?.parse().ok()?;
    (expires > now.timestamp() && parts.next().is_none())
        .then_some(BrowserSession { user_id, tenant_id })
}

/// The CSRF cookie's nonce, or a new one with the cookie to set.
pub fn csrf_nonce(req: &HttpRequest, secure: bool) -> (String, Option<Cookie<'static>>) {
    if let Some(existing) = req.cookie(CSRF_COOKIE)
        && existing.value().len() == 43
    {
        return (existing.value().to_owned(), None);
    }
    let nonce = new_token(32);
    let cookie = Cookie::build(CSRF_COOKIE, nonce.clone())
        .path(COOKIE_PATH)
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .finish();
    (nonce, Some(cookie))
}

/// The form's hidden token: a MAC of the cookie's nonce, so a forged form cannot carry a
/// matching pair without reading the victim's cookie.
pub fn csrf_token(keys: &KeyRing, nonce: &str) -> String {
    keys.session_mac(&format!("csrf:{nonce}"))
}

/// True when the posted token belongs to this browser's CSRF cookie.
pub fn csrf_matches(keys: &KeyRing, req: &HttpRequest, presented: Option<&str>) -> bool {
    match (req.cookie(CSRF_COOKIE), presented) {
        (Some(cookie), Some(token)) => equal(&csrf_token(keys, cookie.value()), token),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn keys() -> KeyRing {
        KeyRing::from_seeds([1; 32], [2; 32], [3; 32]).unwrap()
    }

    fn session() -> BrowserSession {
        BrowserSession {
            user_id: UserId::generate(),
            tenant_id: TenantId::generate(),
        }
    }

    #[test]
    fn a_session_cookie_reads_back_until_it_expires() {
        let (keys, s, now) = (keys(), session(), Utc::now());
        let cookie = session_cookie(&keys, &s, now, true);
        assert!(cookie.http_only().unwrap_or(false) && cookie.secure().unwrap_or(false));
        let req = TestRequest::default().cookie(cookie).to_http_request();
        assert_eq!(read_session(&keys, &req, now), Some(s));
        let later = now + chrono::Duration::hours(SESSION_HOURS + 1);
        assert_eq!(read_session(&keys, &req, later), None);
    }

    #[test]
    fn a_forged_session_cookie_is_ignored() {
        let (keys, s, now) = (keys(), session(), Utc::now());
        let value = session_cookie(&keys, &s, now, false).value().to_owned();
        let other = session();
        let forged = value.replacen(s.user_id.as_str(), other.user_id.as_str(), 1);
        let req = TestRequest::default()
            .cookie(Cookie::new(SESSION_COOKIE, forged))
            .to_http_request();
        assert_eq!(read_session(&keys, &req, now), None);
    }

    #[test]
    fn the_csrf_token_must_match_the_cookie() {
        let keys = keys();
        let (nonce, cookie) = csrf_nonce(&TestRequest::default().to_http_request(), false);
        let req = TestRequest::default()
            .cookie(cookie.unwrap())
            .to_http_request();
        assert!(csrf_matches(&keys, &req, Some(&csrf_token(&keys, &nonce))));
        assert!(!csrf_matches(
            &keys,
            &req,
            Some(&csrf_token(&keys, "other"))
        ));
        assert!(!csrf_matches(&keys, &req, None));
        let bare = TestRequest::default().to_http_request();
        assert!(!csrf_matches(
            &keys,
            &bare,
            Some(&csrf_token(&keys, &nonce))
        ));
    }
}
