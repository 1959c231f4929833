//! `GET /v1/users?email=&extension=`: the tenant's user with that email or extension (Zapier's
//! "Find User"), never a user of another tenant.

use crate::support::spawn_app_with;
use crate::support::tenant::acme;
use crate::support::token::bearer;
use ringhook::config::Backend;
use serde_json::Value;

async fn a_user_is_found_by_email_or_extension_within_the_tenant(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let acme = acme(app.db.store.as_ref()).await;
    let other = acme_other(&app).await;
    // Bob's token: finding users needs `calls:read` only, not `tenant:admin`.
    let token = bearer(&app, &acme.tenant_id, &acme.bob, "calls:read").await;
    let find = |pairs: &[(&str, &str)]| {
        let mut url = url::Url::parse(&app.url("/v1/users")).unwrap();
        for (key, value) in pairs {
            url.query_pairs_mut().append_pair(key, value);
        }
        let request = app.client.get(url).bearer_auth(&token);
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200);
            let users: Vec<Value> = response.json().await.unwrap();
            users
                .iter()
                .map(|u| u["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    let (alice, bob) = (acme.alice.as_str().to_owned(), acme.bob.as_str().to_owned());

    assert_eq!(
        find(&[("email", "alice@acme.example")]).await,
        [alice.as_str()]
    );
    assert_eq!(
        find(&[("email", " Alice@ACME.example ")]).await,
        [alice.as_str()],
        "case and blanks around the address do not matter"
    );
    assert_eq!(find(&[("extension", "1002")]).await, [bob.as_str()]);
    assert_eq!(
        find(&[("email", "alice@acme.example"), ("extension", "1001")]).await,
        [alice.as_str()]
    );
    assert!(
        find(&[("email", "alice@acme.example"), ("extension", "1002")])
            .await
            .is_empty(),
        "both filters must match"
    );
    assert!(find(&[("extension", "1003")]).await.is_empty());
    assert!(find(&[("email", "nobody@acme.example")]).await.is_empty());
    // The other tenant has an Alice with the same address and extension: never listed here.
    assert_ne!(other, alice);
    assert_eq!(
        find(&[("email", "alice@acme.example")]).await,
        [alice.as_str()]
    );
    assert_eq!(find(&[("extension", "1001")]).await, [alice.as_str()]);
    // Blank filters are no filters: the dropdown's whole list.
    let mut all = find(&[("email", ""), ("extension", " ")]).await;
    all.sort();
    let mut both = vec![alice, bob];
    both.sort();
    assert_eq!(all, both);
}

/// A second tenant with the same emails and extensions as Acme; its Alice's id.
async fn acme_other(app: &crate::support::TestApp) -> String {
    acme(app.db.store.as_ref()).await.alice.as_str().to_owned()
}

for_each_backend!(a_user_is_found_by_email_or_extension_within_the_tenant);
