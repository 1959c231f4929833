//! The admin API through the real server on both backends: a tenant admin's token sees and
//! changes its own tenant only; another tenant's records answer 404 and stay untouched; a
//! non-admin's token is refused; bad input changes nothing; every change is audited.

use crate::support::tenant::{AcmeTenant, acme};
use crate::support::token::bearer;
use crate::support::{TestApp, spawn_app_with};
use reqwest::Method;
use ringhook::config::Backend;
use serde_json::{Value, json};

struct Admin {
    app: TestApp,
    acme: AcmeTenant,
    /// Alice: tenant admin, `calls:read tenant:admin`.
    alice: String,
}

async fn admin(backend: Backend) -> Option<Admin> {
    let app = spawn_app_with(backend, |_| {}).await?;
    let acme = acme(app.db.store.as_ref()).await;
    let alice = bearer(
        &app,
        &acme.tenant_id,
        &acme.alice,
        "calls:read tenant:admin",
    )
    .await;
    Some(Admin { app, acme, alice })
}

impl Admin {
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .app
            .client
            .request(method, self.app.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn as_alice(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.call(method, path, &self.alice, body).await
    }
}

async fn an_admin_manages_the_users_of_their_tenant(backend: Backend) {
    let Some(api) = admin(backend).await else {
        return;
    };
    let bob = api.acme.bob.to_string();
    let (status, users) = api.as_alice(Method::GET, "/v1/admin/users", None).await;
    assert_eq!(status, 200);
    assert_eq!(users["users"].as_array().unwrap().len(), 2);

    let path = format!("/v1/admin/users/{bob}");
    let (status, updated) = api
        .as_alice(
            Method::PATCH,
            &path,
            Some(json!({"name": "Robert Martin", "number": null})),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["name"], "Robert Martin");

    let link = json!({"source_id": api.acme.zorio.id, "external_id": "1002"});
    let (status, linked) = api
        .as_alice(Method::POST, &format!("{path}/links"), Some(link.clone()))
        .await;
    assert_eq!(status, 200, "{linked}");
    assert_eq!(linked["links"].as_array().unwrap().len(), 2);
    let (status, _) = api
        .as_alice(Method::POST, &format!("{path}/links/remove"), Some(link))
        .await;
    assert_eq!(status, 200);

    let (status, _) = api
        .as_alice(
            Method::PUT,
            &format!("{path}/password"),
            Some(json!({"password": "correct horse"})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, disabled) = api
        .as_alice(Method::POST, &format!("{path}/disable"), None)
        .await;
    assert_eq!((status, disabled["disabled"].clone()), (200, json!(true)));

    let (status, deleted) = api.as_alice(Method::DELETE, &path, None).await;
    assert_eq!(status, 200, "{deleted}");
    assert_eq!(deleted["with"]["links"], 1);
    assert_eq!(api.as_alice(Method::GET, &path, None).await.0, 404);

    let (_, log) = api.as_alice(Method::GET, "/v1/admin/audit", None).await;
    let actions: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "user.delete",
            "user.disable",
            "user.set_password",
            "user.unlink",
            "user.link",
            "user.update"
        ]
    );
    assert_eq!(log["entries"][0]["actor"], api.acme.alice.as_str());
}

async fn bad_input_and_collisions_change_nothing(backend: Backend) {
    let Some(api) = admin(backend).await else {
        return;
    };
    let path = format!("/v1/admin/users/{}", api.acme.bob);
    let (status, problem) = api
        .as_alice(
            Method::PATCH,
            &path,
            Some(json!({"name": "Bobby", "email": "not-an-email"})),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["code"], "invalid_input");
    let (status, problem) = api
        .as_alice(
            Method::PATCH,
            &path,
            Some(json!({"name": "Bobby", "extension": "1001"})),
        )
        .await;
    assert_eq!(status, 409, "{problem}");
    let (_, bob) = api.as_alice(Method::GET, &path, None).await;
    assert_eq!(bob["name"], "Bob Martin");
    assert_eq!(bob["extension"], "1002");
    let (_, log) = api.as_alice(Method::GET, "/v1/admin/audit", None).await;
    assert_eq!(log["entries"], json!([]));
}

async fn another_tenants_records_answer_404_and_stay_untouched(backend: Backend) {
    let Some(api) = admin(backend).await else {
        return;
    };
    let other = acme(api.app.db.store.as_ref()).await;
    let user = format!("/v1/admin/users/{}", other.bob);
    let source = format!("/v1/admin/sources/{}", other.kazoo.id);
    let attempts = [
        (Method::GET, user.clone(), None),
        (
            Method::PATCH,
            user.clone(),
            Some(json!({"name": "Mallory"})),
        ),
        (Method::POST, format!("{user}/disable"), None),
        (
            Method::PUT,
            format!("{user}/password"),
            Some(json!({"password": "correct horse"})),
        ),
        (Method::DELETE, user.clone(), None),
        (Method::GET, source.clone(), None),
        (Method::POST, format!("{source}/rotate-secret"), None),
        (Method::DELETE, source.clone(), None),
    ];
    for (method, path, body) in attempts {
        let (status, _) = api.as_alice(method.clone(), &path, body).await;
        assert_eq!(status, 404, "{method} {path}");
    }
    let store = api.app.db.store.as_ref();
    let bob = store
        .user(&other.tenant_id, &other.bob)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((bob.name.as_str(), bob.disabled_at), ("Bob Martin", None));
    assert!(
        store
            .source(&other.kazoo.id)
            .await
            .unwrap()
            .unwrap()
            .previous_secret
            .is_none()
    );
    let (_, users) = api.as_alice(Method::GET, "/v1/admin/users", None).await;
    assert!(!users.to_string().contains(other.bob.as_str()));
}

async fn tokens_without_tenant_admin_are_refused(backend: Backend) {
    let Some(api) = admin(backend).await else {
        return;
    };
    let bob = bearer(
        &api.app,
        &api.acme.tenant_id,
        &api.acme.bob,
        "calls:read tenant:admin",
    )
    .await;
    let alice_reader = bearer(&api.app, &api.acme.tenant_id, &api.acme.alice, "calls:read").await;
    for token in [&bob, &alice_reader] {
        let (status, _) = api.call(Method::GET, "/v1/admin/users", token, None).await;
        assert_eq!(status, 403);
        let path = format!("/v1/admin/users/{}", api.acme.alice);
        let (status, _) = api.call(Method::DELETE, &path, token, None).await;
        assert_eq!(status, 403);
    }
    assert_eq!(
        api.call(Method::GET, "/v1/admin/tenant", "not-a-token", None)
            .await
            .0,
        401
    );
    let alice = api
        .app
        .db
        .store
        .user(&api.acme.tenant_id, &api.acme.alice)
        .await
        .unwrap();
    assert!(alice.is_some());
}

async fn a_source_is_rotated_shown_without_secret_and_deleted(backend: Backend) {
    let Some(api) = admin(backend).await else {
        return;
    };
    let path = format!("/v1/admin/sources/{}", api.acme.zorio.id);
    let (status, rotated) = api
        .as_alice(Method::POST, &format!("{path}/rotate-secret"), None)
        .await;
    assert_eq!(status, 200, "{rotated}");
    let secret = rotated["secret"].as_str().unwrap();
    assert!(rotated["previous_secret_valid_until"].is_string());
    let (_, shown) = api.as_alice(Method::GET, &path, None).await;
    assert!(!shown.to_string().contains(secret));
    let (_, listed) = api.as_alice(Method::GET, "/v1/admin/sources", None).await;
    assert_eq!(listed["sources"].as_array().unwrap().len(), 3);
    assert!(!listed.to_string().contains(secret));

    let (status, patched) = api
        .as_alice(
            Method::PATCH,
            &path,
            Some(json!({"api_url": "https://pbx.example/api"})),
        )
        .await;
    assert_eq!(status, 422, "{patched}");
    let (status, deleted) = api.as_alice(Method::DELETE, &path, None).await;
    assert_eq!(status, 200);
    assert_eq!(deleted["deleted"], true);
    assert_eq!(api.as_alice(Method::GET, &path, None).await.0, 404);
}

for_each_backend!(
    an_admin_manages_the_users_of_their_tenant,
    bad_input_and_collisions_change_nothing,
    another_tenants_records_answer_404_and_stay_untouched,
    tokens_without_tenant_admin_are_refused,
    a_source_is_rotated_shown_without_secret_and_deleted,
);
