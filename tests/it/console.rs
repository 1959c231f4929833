//! The web console over HTTP on both backends (its browser tests are tests/console): signing in
//! shares the consent page's session, every page carries frame protection and a CSP, forms
//! need this browser's CSRF token, non-admins get 403 on admin pages and 404 on another
//! user's hook, by direct URL and by a forged post alike.

use crate::oauth::fixture::*;
use ringhook::config::Backend;
use serde_json::{Value, json};

/// A request from `browser`, without following redirects.
pub(crate) async fn send(
    f: &Fixture,
    browser: &Browser,
    method: reqwest::Method,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut request = client
        .request(method.clone(), f.app.url(path))
        .header("cookie", browser.cookie_header());
    if method == reqwest::Method::POST {
        request = request.form(form);
    }
    request.send().await.unwrap()
}

pub(crate) async fn get(f: &Fixture, browser: &Browser, path: &str) -> reqwest::Response {
    send(f, browser, reqwest::Method::GET, path, &[]).await
}

pub(crate) async fn post(
    f: &Fixture,
    browser: &Browser,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    send(f, browser, reqwest::Method::POST, path, form).await
}

pub(crate) fn keep_cookies(browser: &mut Browser, response: &reqwest::Response) {
    for name in ["ringhook_csrf", "ringhook_session"] {
        if let Some(value) = set_cookie(response, name) {
            browser.cookies.retain(|(k, _)| k != name);
            browser.cookies.push((name.to_owned(), value));
        }
    }
}

/// Signs `email` in through the console's form; the browser and its CSRF token.
pub(crate) async fn signed_in(f: &Fixture, email: &str) -> (Browser, String) {
    signed_in_with(f, email, PASSWORD).await
}

/// Signs `email` in with `password`.
pub(crate) async fn signed_in_with(f: &Fixture, email: &str, password: &str) -> (Browser, String) {
    let mut browser = Browser::default();
    let page = get(f, &browser, "/console/sign-in").await;
    keep_cookies(&mut browser, &page);
    let token = hidden_input(&page.text().await.unwrap(), "csrf_token").unwrap();
    let answer = post(
        f,
        &browser,
        "/console/sign-in",
        &[
            ("csrf_token", &token),
            ("email", email),
            ("password", password),
        ],
    )
    .await;
    assert_eq!(answer.status(), 303);
    keep_cookies(&mut browser, &answer);
    (browser, token)
}

async fn signing_in_shares_the_consent_session_and_pages_are_protected(backend: Backend) {
    let Some(f) = fixture_on(backend, |_| {}).await else {
        return;
    };
    let nobody = Browser::default();
    let away = get(&f, &nobody, "/console").await;
    assert_eq!(away.status(), 303);
    assert_eq!(away.headers()["location"], "/console/sign-in");

    // Without this browser's CSRF token the sign-in form is refused before the password.
    let forged = post(
        &f,
        &nobody,
        "/console/sign-in",
        &[("email", "alice@acme.example"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(forged.status(), 403);

    let mut browser = Browser::default();
    let page = get(&f, &browser, "/console/sign-in").await;
    keep_cookies(&mut browser, &page);
    let token = hidden_input(&page.text().await.unwrap(), "csrf_token").unwrap();
    let answer = post(
        &f,
        &browser,
        "/console/sign-in",
        &[
            ("csrf_token", &token),
            ("email", "alice@acme.example"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(answer.status(), 303);
    let cookie = answer
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("ringhook_session="))
        .unwrap();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/;"] {
        assert!(format!("{cookie};").contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "http public URL: {cookie}");
    keep_cookies(&mut browser, &answer);

    let overview = get(&f, &browser, "/console").await;
    assert_eq!(overview.status(), 200);
    assert_eq!(overview.headers()["x-frame-options"], "DENY");
    let csp = overview.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert!(overview.text().await.unwrap().contains("Overview"));

    // The same session signs the consent page in.
    let (_, challenge) = pkce_pair();
    let consent = f
        .get_authorize(&mut browser, &f.authorize_pairs(&challenge, &[]))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        consent.contains("Signed in as alice@acme.example"),
        "{consent}"
    );

    // Signing out ends it for both.
    let out = post(&f, &browser, "/console/sign-out", &[("csrf_token", &token)]).await;
    assert_eq!(out.status(), 303);
    keep_cookies(&mut browser, &out);
    assert_eq!(get(&f, &browser, "/console/hooks").await.status(), 303);
}

async fn a_non_admin_cannot_reach_admin_pages_nor_another_users_hook(backend: Backend) {
    let Some(f) = fixture_on(backend, |s| {
        s.allow_private_targets = true;
        s.allow_http_targets = true;
    })
    .await
    else {
        return;
    };
    let tokens = f.tokens_for("alice@acme.example", "calls:read").await;
    let created: Value = f
        .app
        .client
        .post(f.app.url("/v1/hooks"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .json(&json!({"target_url": "http://127.0.0.1:9/hook", "event": "call.missed"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let hook = created["id"].as_str().unwrap().to_owned();

    let (bob, bob_token) = signed_in(&f, "bob@acme.example").await;
    for page in [
        "/console/users",
        "/console/calls",
        "/console/sources",
        "/console/audit",
    ] {
        assert_eq!(get(&f, &bob, page).await.status(), 403, "{page}");
    }
    let own = get(&f, &bob, "/console/hooks").await.text().await.unwrap();
    assert!(!own.contains(&hook), "{own}");
    assert_eq!(
        get(&f, &bob, &format!("/console/hooks/{hook}"))
            .await
            .status(),
        404
    );
    // Forged posts carrying Bob's own valid CSRF token.
    let delete = post(
        &f,
        &bob,
        &format!("/console/hooks/{hook}/delete"),
        &[("csrf_token", &bob_token)],
    )
    .await;
    assert_eq!(delete.status(), 404);
    let promote = post(
        &f,
        &bob,
        "/console/users/update",
        &[
            ("csrf_token", &bob_token),
            ("user", f.bob.id.as_str()),
            ("name", "Bob"),
            ("email", "bob@acme.example"),
            ("admin", "on"),
        ],
    )
    .await;
    assert_eq!(promote.status(), 403);
    let store = &f.app.db.store;
    assert!(
        !store
            .user(&f.tenant.id, &f.bob.id)
            .await
            .unwrap()
            .unwrap()
            .is_admin
    );

    // Alice may, with her token; without it (a cross-site form) she may not.
    let (alice, alice_token) = signed_in(&f, "alice@acme.example").await;
    assert_eq!(
        get(&f, &alice, &format!("/console/hooks/{hook}"))
            .await
            .status(),
        200
    );
    let tokenless = post(&f, &alice, &format!("/console/hooks/{hook}/delete"), &[]).await;
    assert_eq!(tokenless.status(), 403);
    let done = post(
        &f,
        &alice,
        &format!("/console/hooks/{hook}/delete"),
        &[("csrf_token", &alice_token)],
    )
    .await;
    assert_eq!(done.status(), 303);
    assert_eq!(
        get(&f, &alice, &format!("/console/hooks/{hook}"))
            .await
            .status(),
        404
    );
}

/// The overview's per-source figures: the last raw event and the count since a time, for the
/// tenant's sources only.
async fn source_activity_counts_each_sources_raw_events(backend: Backend) {
    use ringhook::domain::SourceKind;
    let Some(played) =
        crate::support::scenario::play(backend, SourceKind::Kazoo, "kazoo/inbound_answered").await
    else {
        return;
    };
    let store = played.app.db.store.as_ref();
    let tenant = &played.acme.tenant_id;
    let kazoo = played.acme.kazoo.id.to_string();
    let day_ago = chrono::Utc::now() - chrono::Duration::hours(24);
    let activity = store.source_activity(tenant, day_ago).await.unwrap();
    assert_eq!(activity.len(), 1, "{activity:?}");
    assert_eq!(activity[0].source_id, kazoo);
    let files = std::fs::read_dir(crate::support::scenario::fixtures("kazoo/inbound_answered"))
        .unwrap()
        .count();
    assert_eq!(activity[0].received_since, i64::try_from(files).unwrap());
    let last = activity[0].last_received_at.unwrap();
    assert!(last > day_ago && last <= chrono::Utc::now(), "{last}");
    let later = store
        .source_activity(tenant, chrono::Utc::now() + chrono::Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!(later[0].received_since, 0);
    assert_eq!(later[0].last_received_at, Some(last));
    let elsewhere = ringhook::domain::TenantId::generate();
    assert!(
        store
            .source_activity(&elsewhere, day_ago)
            .await
            .unwrap()
            .is_empty()
    );
}

for_each_backend!(
    signing_in_shares_the_consent_session_and_pages_are_protected,
    a_non_admin_cannot_reach_admin_pages_nor_another_users_hook,
    source_activity_counts_each_sources_raw_events,
);
