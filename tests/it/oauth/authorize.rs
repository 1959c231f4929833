//! The authorization endpoint: what is an error page, what is redirected, and the page itself.

use super::fixture::*;
use serde_json::Value;

fn no_location(response: &reqwest::Response) {
    assert!(
        response.headers().get("location").is_none(),
        "must not redirect"
    );
}

#[tokio::test]
async fn an_unknown_client_gets_an_error_page_and_no_redirect() {
    let f = fixture().await;
    let (_, challenge) = pkce_pair();
    for client in ["cli_01unknown", "nonsense", ""] {
        let pairs = f.authorize_pairs(&challenge, &[("client_id", client)]);
        let response = f.get_authorize(&mut Browser::default(), &pairs).await;
        assert_eq!(response.status(), 400, "client {client:?}");
        no_location(&response);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
    }
}

#[tokio::test]
async fn a_redirect_uri_that_is_not_registered_byte_for_byte_gets_an_error_page() {
    let f = fixture().await;
    let (_, challenge) = pkce_pair();
    let attempts = [
        "https://zapier.com/dashboard/auth/oauth/return/App123CLIAPI",
        "https://zapier.com/dashboard/auth/oauth/return/App123CLIAPI/x",
        "https://zapier.com/dashboard/auth/oauth/return/App123CLIAPI/?next=https://evil.example",
        "http://zapier.com/dashboard/auth/oauth/return/App123CLIAPI/",
        "https://ZAPIER.com/dashboard/auth/oauth/return/App123CLIAPI/",
        "https://zapier.com.evil.example/dashboard/auth/oauth/return/App123CLIAPI/",
        "https://evil.example/",
        "//evil.example/",
    ];
    for uri in attempts {
        let pairs = f.authorize_pairs(
            &challenge,
            &[("redirect_uri", uri), ("response_type", "token")],
        );
        let response = f.get_authorize(&mut Browser::default(), &pairs).await;
        assert_eq!(response.status(), 400, "{uri}");
        no_location(&response);
    }
}

#[tokio::test]
async fn a_post_with_a_foreign_redirect_uri_is_not_redirected_either() {
    let f = fixture().await;
    let (_, challenge) = pkce_pair();
    let pairs = f.authorize_pairs(&challenge, &[("redirect_uri", "https://evil.example/")]);
    let response = f
        .app
        .client
        .post(f.app.url("/oauth/authorize"))
        .form(&pairs)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    no_location(&response);
}

#[tokio::test]
async fn response_types_other_than_code_are_redirected_as_unsupported_with_the_state() {
    let f = fixture().await;
    let (_, challenge) = pkce_pair();
    let pairs = f.authorize_pairs(&challenge, &[("response_type", "token")]);
    let response = f.get_authorize(&mut Browser::default(), &pairs).await;
    assert_eq!(response.status(), 303);
    let back = location_params(&response);
    assert_eq!(param(&back, "error"), Some("unsupported_response_type"));
    assert_eq!(param(&back, "state"), Some("st-\u{e9}+/=&x"));
    let location = response.headers()["location"].to_str().unwrap();
    assert!(location.starts_with(REDIRECT_URI), "{location}");
}

#[tokio::test]
async fn pkce_is_required_and_plain_is_refused() {
    let f = fixture().await;
    let (verifier, challenge) = pkce_pair();
    let cases: [&[(&str, &str)]; 4] = [
        &[("code_challenge", "")],
        &[("code_challenge_method", "")],
        &[
            ("code_challenge", &verifier),
            ("code_challenge_method", "plain"),
        ],
        &[("code_challenge", "too-short")],
    ];
    for extra in cases {
        let pairs = f.authorize_pairs(&challenge, extra);
        let response = f.get_authorize(&mut Browser::default(), &pairs).await;
        assert_eq!(response.status(), 303, "{extra:?}");
        let back = location_params(&response);
        assert_eq!(param(&back, "error"), Some("invalid_request"), "{extra:?}");
        assert_eq!(param(&back, "state"), Some("st-\u{e9}+/=&x"));
    }
}

#[tokio::test]
async fn an_unknown_scope_is_redirected_as_invalid_scope() {
    let f = fixture().await;
    let (_, challenge) = pkce_pair();
    let pairs = f.authorize_pairs(&challenge, &[("scope", "calls:read everything")]);
    let response = f.get_authorize(&mut Browser::default(), &pairs).await;
    let back = location_params(&response);
    assert_eq!(param(&back, "error"), Some("invalid_scope"));
}

#[tokio::test]
async fn a_repeated_parameter_is_an_invalid_request() {
    let f = fixture().await;
    let (_, challenge) = pkce_pair();
    let mut pairs = f.authorize_pairs(&challenge, &[]);
    pairs.push(("scope".into(), "tenant:admin".into()));
    let response = f.get_authorize(&mut Browser::default(), &pairs).await;
    assert_eq!(
        param(&location_params(&response), "error"),
        Some("invalid_request")
    );
}

#[tokio::test]
async fn the_page_cannot_be_framed_and_names_the_client_and_scopes() {
    let f = fixture().await;
    let (_, challenge) = pkce_pair();
    let response = f
        .get_authorize(&mut Browser::default(), &f.authorize_pairs(&challenge, &[]))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-frame-options"], "DENY");
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let html = response.text().await.unwrap();
    assert!(html.contains("<form method=\"post\">"));
    assert!(html.contains("Zapier"));
    assert!(html.contains("Place calls from your phone"));
    assert!(html.contains("name=\"email\"") && html.contains("name=\"password\""));
    assert!(html.contains("name=\"decision\" value=\"allow\""));
    assert!(html.contains("name=\"decision\" value=\"deny\""));
    assert!(hidden_input(&html, "code_challenge").is_some());
}

#[tokio::test]
async fn the_state_comes_back_unchanged_with_the_code() {
    let f = fixture().await;
    let (_, challenge) = pkce_pair();
    let pairs = f.authorize_pairs(&challenge, &[]);
    let response = f
        .consent(
            &mut Browser::default(),
            &pairs,
            Some(("alice@acme.example", PASSWORD)),
            "allow",
        )
        .await;
    assert_eq!(response.status(), 303);
    let back = location_params(&response);
    assert_eq!(param(&back, "state"), Some("st-\u{e9}+/=&x"));
    assert_eq!(param(&back, "code").map(str::len), Some(43));
}

#[tokio::test]
async fn denying_redirects_access_denied_with_the_state() {
    let f = fixture().await;
    let (_, challenge) = pkce_pair();
    let pairs = f.authorize_pairs(&challenge, &[]);
    let response = f
        .consent(&mut Browser::default(), &pairs, None, "deny")
        .await;
    assert_eq!(response.status(), 303);
    let back = location_params(&response);
    assert_eq!(param(&back, "error"), Some("access_denied"));
    assert_eq!(param(&back, "state"), Some("st-\u{e9}+/=&x"));
    assert_eq!(param(&back, "code"), None);
}

#[tokio::test]
async fn a_wrong_password_shows_the_page_again_without_redirecting() {
    let f = fixture().await;
    let (_, challenge) = pkce_pair();
    let pairs = f.authorize_pairs(&challenge, &[]);
    let response = f
        .consent(
            &mut Browser::default(),
            &pairs,
            Some(("alice@acme.example", "wrong password")),
            "allow",
        )
        .await;
    assert_eq!(response.status(), 200);
    no_location(&response);
    assert!(response.text().await.unwrap().contains("not right"));
}

#[tokio::test]
async fn a_post_without_the_csrf_token_is_refused() {
    let f = fixture().await;
    let (_, challenge) = pkce_pair();
    let mut browser = Browser::default();
    f.get_authorize(&mut browser, &f.authorize_pairs(&challenge, &[]))
        .await;
    let mut form = f.authorize_pairs(&challenge, &[]);
    form.push(("email".into(), "alice@acme.example".into()));
    form.push(("password".into(), PASSWORD.into()));
    form.push(("decision".into(), "allow".into()));
    form.push(("csrf_token".into(), "forged".into()));
    let response = f
        .app
        .client
        .post(f.app.url("/oauth/authorize"))
        .header("cookie", browser.cookie_header())
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    no_location(&response);
}

#[tokio::test]
async fn a_signed_in_browser_is_not_asked_for_the_password_again() {
    let f = fixture().await;
    let (_, challenge) = pkce_pair();
    let pairs = f.authorize_pairs(&challenge, &[]);
    let mut browser = Browser::default();
    let first = f
        .consent(
            &mut browser,
            &pairs,
            Some(("alice@acme.example", PASSWORD)),
            "allow",
        )
        .await;
    let session = first
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("ringhook_session="))
        .expect("a session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax"),
        "{session}"
    );
    let page = f
        .get_authorize(&mut browser, &pairs)
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains("name=\"password\""));
    assert!(page.contains("Signed in as alice@acme.example"));
    let second = f.consent(&mut browser, &pairs, None, "allow").await;
    assert_eq!(second.status(), 303);
    assert!(param(&location_params(&second), "code").is_some());
}

#[tokio::test]
async fn a_non_admin_asking_for_tenant_admin_gets_the_narrowed_scope() {
    let f = fixture().await;
    let tokens = f
        .tokens_for("bob@acme.example", "calls:read tenant:admin")
        .await;
    assert_eq!(tokens["scope"], "calls:read");
    let me: Value = f
        .me(tokens["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["scopes"], serde_json::json!(["calls:read"]));
    assert_eq!(me["id"], f.bob.id.as_str());
    let admin = f
        .tokens_for("alice@acme.example", "calls:read tenant:admin")
        .await;
    assert_eq!(admin["scope"], "calls:read tenant:admin");
}

#[tokio::test]
async fn a_non_admin_asking_only_for_tenant_admin_is_refused() {
    let f = fixture().await;
    let (_, challenge) = pkce_pair();
    let pairs = f.authorize_pairs(&challenge, &[("scope", "tenant:admin")]);
    let response = f
        .consent(
            &mut Browser::default(),
            &pairs,
            Some(("bob@acme.example", PASSWORD)),
            "allow",
        )
        .await;
    assert_eq!(
        param(&location_params(&response), "error"),
        Some("invalid_scope")
    );
}

#[tokio::test]
async fn without_redirect_uri_the_only_registered_one_is_used() {
    let f = fixture().await;
    let (verifier, challenge) = pkce_pair();
    let pairs = f.authorize_pairs(&challenge, &[("redirect_uri", "")]);
    let response = f
        .consent(
            &mut Browser::default(),
            &pairs,
            Some(("alice@acme.example", PASSWORD)),
            "allow",
        )
        .await;
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(REDIRECT_URI));
    let code = param(&location_params(&response), "code")
        .unwrap()
        .to_owned();
    let tokens = f
        .token_form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("code_verifier", &verifier),
        ])
        .await;
    assert_eq!(tokens.status(), 200);
}

#[tokio::test]
async fn the_password_picks_the_tenant_when_an_email_exists_in_two() {
    let f = fixture().await;
    let (code, verifier) = {
        let (verifier, challenge) = pkce_pair();
        let pairs = f.authorize_pairs(&challenge, &[]);
        let response = f
            .consent(
                &mut Browser::default(),
                &pairs,
                Some(("alice@acme.example", "another password")),
                "allow",
            )
            .await;
        (
            param(&location_params(&response), "code")
                .unwrap()
                .to_owned(),
            verifier,
        )
    };
    let tokens: Value = f.exchange(&code, &verifier).await.json().await.unwrap();
    let me: Value = f
        .me(tokens["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["id"], f.other.id.as_str());
    assert_eq!(me["tenant"]["name"], "Other Corp");
}
