//! The consent page as an end user sees it: the operator's product and logo, where the
//! decision sends them, only the scopes they can grant, and "not you?" to switch account.

use super::fixture::*;
use ringhook::config::Backend;

const EVERYONE: &str = "See the calls of everyone in your organisation";

fn admin_pairs(f: &Fixture) -> Vec<(String, String)> {
    let (_, challenge) = pkce_pair();
    f.authorize_pairs(&challenge, &[("scope", "calls:read tenant:admin")])
}

async fn page(f: &Fixture, browser: &mut Browser, pairs: &[(String, String)]) -> String {
    f.get_authorize(browser, pairs).await.text().await.unwrap()
}

#[tokio::test]
async fn the_page_names_the_product_its_logo_and_the_redirect_host() {
    let f = fixture_on(Backend::Sqlite, |s| {
        s.product_name = "Acme Voice Hooks".into();
        s.product_logo_url = Some("https://cdn.acme.example/logo.png".parse().unwrap());
    })
    .await
    .unwrap();
    let html = page(&f, &mut Browser::default(), &admin_pairs(&f)).await;
    assert!(html.contains("to Acme Voice Hooks</h1>"), "{html}");
    assert!(
        html.contains("src=\"https://cdn.acme.example/logo.png\""),
        "{html}"
    );
    assert!(
        html.contains("sent to <strong>zapier.com</strong>"),
        "{html}"
    );
    assert!(html.contains("class=\"allow\"") && html.contains("class=\"deny\""));
}

#[tokio::test]
async fn only_the_scopes_the_signed_in_user_can_grant_are_listed() {
    let f = fixture().await;
    let pairs = admin_pairs(&f);
    let before = page(&f, &mut Browser::default(), &pairs).await;
    assert!(before.contains("only if you are an admin"), "{before}");

    let mut bob = Browser::default();
    f.consent(
        &mut bob,
        &pairs,
        Some(("bob@acme.example", PASSWORD)),
        "allow",
    )
    .await;
    let as_bob = page(&f, &mut bob, &pairs).await;
    assert!(as_bob.contains("Signed in as bob@acme.example"), "{as_bob}");
    assert!(!as_bob.contains(EVERYONE), "{as_bob}");

    let mut alice = Browser::default();
    f.consent(
        &mut alice,
        &pairs,
        Some(("alice@acme.example", PASSWORD)),
        "allow",
    )
    .await;
    let as_alice = page(&f, &mut alice, &pairs).await;
    assert!(as_alice.contains(EVERYONE), "{as_alice}");
}

#[tokio::test]
async fn not_you_forgets_the_session_and_asks_who_is_there() {
    let f = fixture().await;
    let pairs = admin_pairs(&f);
    let mut browser = Browser::default();
    f.consent(
        &mut browser,
        &pairs,
        Some(("bob@acme.example", PASSWORD)),
        "allow",
    )
    .await;
    assert!(page(&f, &mut browser, &pairs).await.contains("not you?"));

    let switched = f.consent(&mut browser, &pairs, None, "switch").await;
    assert_eq!(switched.status(), 200);
    let html = switched.text().await.unwrap();
    assert!(html.contains("name=\"password\""), "{html}");
    let again = page(&f, &mut browser, &pairs).await;
    assert!(again.contains("name=\"password\"") && !again.contains("Signed in as"));
}

#[tokio::test]
async fn wrong_passwords_lock_the_account_briefly_with_a_clear_message() {
    let f = fixture().await;
    let pairs = admin_pairs(&f);
    for _ in 0..5 {
        let wrong = f
            .consent(
                &mut Browser::default(),
                &pairs,
                Some(("alice@acme.example", "wrong guess 1")),
                "allow",
            )
            .await;
        assert_eq!(wrong.status(), 200);
    }
    let locked = f
        .consent(
            &mut Browser::default(),
            &pairs,
            Some(("alice@acme.example", PASSWORD)),
            "allow",
        )
        .await;
    assert_eq!(locked.status(), 429);
    let html = locked.text().await.unwrap();
    assert!(
        html.contains("Too many wrong passwords. Wait a minute"),
        "{html}"
    );

    let other = f
        .consent(
            &mut Browser::default(),
            &pairs,
            Some(("bob@acme.example", PASSWORD)),
            "allow",
        )
        .await;
    assert_eq!(
        other.status(),
        303,
        "another account from the same address still signs in"
    );
}
