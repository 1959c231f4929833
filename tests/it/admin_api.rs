//! The admin API through the real server on both backends: a tenant admin's token sees and
//! changes its own tenant only; another tenant's records answer 404 and stay untouched; a
//! non-admin's token is refused; bad input changes nothing; every change is audited. Queue
//! names and hooks too: a hook whose app's grant was revoked is never re-enabled.

use crate::support::tenant::{AcmeTenant, acme};
use crate::support::token::bearer;
use crate::support::{TestApp, spawn_app_with};
use chrono::{TimeDelta, Utc};
use reqwest::Method;
use ringhook::config::Backend;
use ringhook::delivery::{TargetPolicy, TargetUrl};
use ringhook::domain::{DeliveryId, HookEventFilter, HookId, TenantId, UserId};
use ringhook::storage::delivery_queue::{DeliveryResult, NextStep};
use ringhook::storage::hooks::NewHook;
use ringhook::storage::{AuditEntry, HookScope, HookStatus, Storage};
use secrecy::SecretString;
use serde_json::{Value, json};

struct Admin {
    app: TestApp,
    acme: AcmeTenant,
    /// Alice: tenant admin, `calls:read tenant:admin`.
    alice: String,
}

async fn admin(backend: Backend) -> Option<Admin> {
    let app = spawn_app_with(backend, |s| {
        s.allow_private_targets = true;
        s.allow_http_targets = true;
    })
    .await?;
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
    let hook = failing_hook(api.app.db.store.as_ref(), &other.tenant_id, &other.bob).await;
    let queue = format!("{source}/queues/q1");
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
        (Method::GET, format!("{source}/queues"), None),
        (Method::PUT, queue.clone(), Some(json!({"name": "Mallory"}))),
        (Method::DELETE, queue, None),
        (Method::POST, format!("/v1/admin/hooks/{hook}/enable"), None),
        (Method::DELETE, format!("/v1/admin/hooks/{hook}"), None),
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
    assert_eq!(store.tenant_queues(&other.tenant_id).await.unwrap(), []);
    let theirs = store.hook(&other.tenant_id, &hook).await.unwrap().unwrap();
    assert_eq!(theirs.status, HookStatus::Disabled);
    let (_, hooks) = api.as_alice(Method::GET, "/v1/admin/hooks", None).await;
    assert_eq!(hooks["hooks"], json!([]));
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
    let hook = failing_hook(
        api.app.db.store.as_ref(),
        &api.acme.tenant_id,
        &api.acme.bob,
    )
    .await;
    let queues = format!("/v1/admin/sources/{}/queues", api.acme.zorio.id);
    for token in [&bob, &alice_reader] {
        let (status, _) = api.call(Method::GET, "/v1/admin/users", token, None).await;
        assert_eq!(status, 403);
        let refused = [
            (Method::GET, queues.clone(), None),
            (
                Method::PUT,
                format!("{queues}/q1"),
                Some(json!({"name": "Front desk"})),
            ),
            (Method::DELETE, format!("{queues}/q1"), None),
            (Method::GET, "/v1/admin/hooks".to_owned(), None),
            (Method::POST, format!("/v1/admin/hooks/{hook}/enable"), None),
            (Method::DELETE, format!("/v1/admin/hooks/{hook}"), None),
        ];
        for (method, path, body) in refused {
            let (status, _) = api.call(method.clone(), &path, token, body).await;
            assert_eq!(status, 403, "{method} {path}");
        }
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
    let store = api.app.db.store.as_ref();
    assert_eq!(store.tenant_queues(&api.acme.tenant_id).await.unwrap(), []);
    let hook = store
        .hook(&api.acme.tenant_id, &hook)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(hook.status, HookStatus::Disabled);
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

/// The audit log's `(action, actor)` pairs, newest first, as the API lists them.
async fn audited(api: &Admin) -> Vec<(String, String)> {
    let (_, log) = api.as_alice(Method::GET, "/v1/admin/audit", None).await;
    log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let field = |name: &str| e[name].as_str().unwrap().to_owned();
            (field("action"), field("actor"))
        })
        .collect()
}

async fn queue_names_are_added_renamed_listed_and_deleted(backend: Backend) {
    let Some(api) = admin(backend).await else {
        return;
    };
    let queues = format!("/v1/admin/sources/{}/queues", api.acme.zorio.id);
    let q1 = format!("{queues}/q1");
    let (status, added) = api
        .as_alice(Method::PUT, &q1, Some(json!({"name": "Front desk"})))
        .await;
    assert_eq!(status, 201, "{added}");
    assert_eq!(added, json!({"external_id": "q1", "name": "Front desk"}));
    let (status, renamed) = api
        .as_alice(Method::PUT, &q1, Some(json!({"name": "Reception"})))
        .await;
    assert_eq!(status, 200, "{renamed}");
    assert_eq!(renamed["name"], "Reception");

    // Bad input changes nothing.
    let (status, problem) = api
        .as_alice(Method::PUT, &q1, Some(json!({"name": "   "})))
        .await;
    assert_eq!(
        (status, problem["code"].clone()),
        (422, json!("invalid_input"))
    );
    let (status, _) = api
        .as_alice(
            Method::PUT,
            &q1,
            Some(json!({"name": "X", "colour": "red"})),
        )
        .await;
    assert_eq!(status, 400);
    let (status, listed) = api.as_alice(Method::GET, &queues, None).await;
    assert_eq!(status, 200);
    assert_eq!(
        listed,
        json!({"queues": [{"external_id": "q1", "name": "Reception"}]})
    );
    let (_, kazoo) = api
        .as_alice(
            Method::GET,
            &format!("/v1/admin/sources/{}/queues", api.acme.kazoo.id),
            None,
        )
        .await;
    assert_eq!(kazoo, json!({"queues": []}), "queues are per source");

    assert_eq!(api.as_alice(Method::DELETE, &q1, None).await.0, 204);
    assert_eq!(api.as_alice(Method::DELETE, &q1, None).await.0, 404);
    let (_, listed) = api.as_alice(Method::GET, &queues, None).await;
    assert_eq!(listed, json!({"queues": []}));
    let missing = "/v1/admin/sources/src_01jd8kq2m3n4p5q6r7s8t9v0wx/queues";
    assert_eq!(api.as_alice(Method::GET, missing, None).await.0, 404);
    assert_eq!(
        api.as_alice(Method::GET, "/v1/admin/sources/nope/queues", None)
            .await
            .0,
        404
    );

    let alice = api.acme.alice.to_string();
    let expected: Vec<(String, String)> = ["queue.delete", "queue.set", "queue.set"]
        .iter()
        .map(|a| ((*a).to_owned(), alice.clone()))
        .collect();
    assert_eq!(audited(&api).await, expected);
}

const HOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// A hook of `user`'s with no grant, disabled the way the delivery worker disables one that
/// fails for longer than the disable time.
async fn failing_hook(store: &dyn Storage, tenant: &TenantId, user: &UserId) -> HookId {
    let policy = TargetPolicy {
        allow_private: true,
        allow_http: true,
        allow_list: Vec::new(),
    };
    let hook = store
        .create_hook(&NewHook {
            tenant_id: tenant.clone(),
            user_id: user.clone(),
            grant_id: None,
            scope: HookScope::User,
            event: HookEventFilter::Any,
            target_url: TargetUrl::parse("https://hooks.example.com/h", &policy).unwrap(),
            secret: SecretString::from(HOOK_SECRET.to_owned()),
        })
        .await
        .unwrap();
    let failed = || DeliveryResult {
        id: DeliveryId::generate(),
        lease_token: "lease".into(),
        hook_id: hook.id.clone(),
        attempt: None,
        next: NextStep::Failed,
    };
    let start = Utc::now() - TimeDelta::hours(200);
    for at in [start, start + TimeDelta::hours(130)] {
        store
            .record_results(&[failed()], at, TimeDelta::hours(120))
            .await
            .unwrap();
    }
    let stored = store.hook(tenant, &hook.id).await.unwrap().unwrap();
    assert_eq!(stored.status, HookStatus::Disabled);
    hook.id
}

/// A hook Alice subscribed through an app (`/v1/hooks`), whose grant is then revoked.
async fn revoked_hook(api: &Admin) -> HookId {
    let token = bearer(&api.app, &api.acme.tenant_id, &api.acme.alice, "calls:read").await;
    let (status, created) = api
        .call(
            Method::POST,
            "/v1/hooks",
            &token,
            Some(json!({"target_url": "http://127.0.0.1:9/hook", "event": "call.missed"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = HookId::parse(created["id"].as_str().unwrap()).unwrap();
    let store = api.app.db.store.as_ref();
    let hook = store.hook(&api.acme.tenant_id, &id).await.unwrap().unwrap();
    let entry = AuditEntry {
        tenant_id: Some(api.acme.tenant_id.clone()),
        actor: "test".into(),
        action: "grant.revoke".into(),
        target: "grant".into(),
        details: json!({}),
        at: Utc::now(),
    };
    let revoked = store
        .revoke_grant_audited(&hook.grant_id.unwrap(), Utc::now(), &entry)
        .await
        .unwrap();
    assert!(revoked);
    id
}

async fn hooks_are_listed_re_enabled_and_deleted_but_a_revoked_one_stays_off(backend: Backend) {
    let Some(api) = admin(backend).await else {
        return;
    };
    let failing = failing_hook(
        api.app.db.store.as_ref(),
        &api.acme.tenant_id,
        &api.acme.bob,
    )
    .await;
    let revoked = revoked_hook(&api).await;

    let (status, listed) = api.as_alice(Method::GET, "/v1/admin/hooks", None).await;
    assert_eq!(status, 200, "{listed}");
    assert!(!listed.to_string().contains(HOOK_SECRET), "{listed}");
    let hooks = listed["hooks"].as_array().unwrap();
    assert_eq!(hooks.len(), 2, "{listed}");
    let find = |id: &HookId| {
        hooks
            .iter()
            .find(|h| h["id"] == id.as_str())
            .unwrap()
            .clone()
    };
    let (f, r) = (find(&failing), find(&revoked));
    assert_eq!(f["user_id"], api.acme.bob.as_str());
    assert_eq!(f["status"], "disabled");
    assert_eq!(f["grant_revoked"], false);
    assert_eq!(f["app"], "(no app)");
    assert!(f["failing_since"].is_string(), "{f}");
    assert_eq!(f["target_url"], "https://hooks.example.com/h");
    assert!(f.get("secret").is_none());
    assert_eq!(r["user_id"], api.acme.alice.as_str());
    assert_eq!(r["grant_revoked"], true);
    assert_eq!(r["app"], "Zapier");
    assert!(r["client_id"].as_str().unwrap().starts_with("cli_"), "{r}");
    assert_eq!(
        (r["event"].clone(), r["scope"].clone()),
        (json!("call.missed"), json!("user"))
    );

    // The revoked one is refused, with why, and stays disabled.
    let enable_revoked = format!("/v1/admin/hooks/{revoked}/enable");
    let (status, problem) = api.as_alice(Method::POST, &enable_revoked, None).await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(problem["code"], "conflict");
    assert!(
        problem["detail"].as_str().unwrap().contains("revoked"),
        "{problem}"
    );
    let store = api.app.db.store.as_ref();
    let still = store
        .hook(&api.acme.tenant_id, &revoked)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still.status, HookStatus::Disabled);

    let enable_failing = format!("/v1/admin/hooks/{failing}/enable");
    let (status, enabled) = api.as_alice(Method::POST, &enable_failing, None).await;
    assert_eq!(status, 200, "{enabled}");
    assert_eq!(enabled["status"], "active");
    assert_eq!(enabled["failing_since"], Value::Null);
    assert_eq!(enabled["failing_streak"], 0);
    let hook = store
        .hook(&api.acme.tenant_id, &failing)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (hook.status, hook.disabled_reason),
        (HookStatus::Active, None)
    );
    let (status, problem) = api.as_alice(Method::POST, &enable_failing, None).await;
    assert_eq!(status, 409, "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("active"),
        "{problem}"
    );

    let path = format!("/v1/admin/hooks/{revoked}");
    assert_eq!(api.as_alice(Method::DELETE, &path, None).await.0, 204);
    assert_eq!(api.as_alice(Method::DELETE, &path, None).await.0, 404);
    assert!(
        store
            .hook(&api.acme.tenant_id, &revoked)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        api.as_alice(Method::DELETE, "/v1/admin/hooks/nope", None)
            .await
            .0,
        404
    );
    let (_, listed) = api.as_alice(Method::GET, "/v1/admin/hooks", None).await;
    assert_eq!(listed["hooks"].as_array().unwrap().len(), 1);

    let alice = api.acme.alice.to_string();
    let log = audited(&api).await;
    assert_eq!(
        log[..2],
        [
            ("hook.delete".to_owned(), alice.clone()),
            ("hook.enable".to_owned(), alice.clone()),
        ]
    );
    assert_eq!(
        log.iter().filter(|(a, _)| a == "hook.enable").count(),
        1,
        "refusals are not audited: {log:?}"
    );
}

for_each_backend!(
    an_admin_manages_the_users_of_their_tenant,
    bad_input_and_collisions_change_nothing,
    another_tenants_records_answer_404_and_stay_untouched,
    tokens_without_tenant_admin_are_refused,
    a_source_is_rotated_shown_without_secret_and_deleted,
    queue_names_are_added_renamed_listed_and_deleted,
    hooks_are_listed_re_enabled_and_deleted_but_a_revoked_one_stays_off,
);
