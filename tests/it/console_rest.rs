//! The console's second day over HTTP on both backends: refused ingest requests counted per
//! source on the overview, a call's raw events as received, re-enabling a hook (never one
//! whose grant was revoked), the queue names page, audit entries for what the console changes,
//! and the calls list paging through many calls.

use crate::console::{get, post, signed_in, signed_in_with};
use crate::oauth::fixture::*;
use crate::support::scenario::requests;
use chrono::{TimeDelta, Utc};
use ringhook::config::Backend;
use ringhook::delivery::{TargetPolicy, TargetUrl};
use ringhook::domain::{HookEventFilter, SourceKind};
use ringhook::storage::delivery_queue::{DeliveryResult, NextStep};
use ringhook::storage::hooks::NewHook;
use ringhook::storage::{AuditRecord, HookScope, HookStatus, NewSource, Source};
use secrecy::SecretString;
use serde_json::{Value, json};

const SECRET: &str = "kazoo-secret-0123456789";

async fn kazoo_source(f: &Fixture) -> Source {
    f.app
        .db
        .store
        .create_source(&NewSource {
            tenant_id: f.tenant.id.clone(),
            kind: SourceKind::Kazoo,
            secret: SecretString::from(SECRET.to_owned()),
            account_id: None,
            api: None,
            zoom: None,
        })
        .await
        .unwrap()
}

/// The tenant's audit entries, newest first.
async fn audit(f: &Fixture) -> Vec<AuditRecord> {
    f.app
        .db
        .store
        .audit_log(Some(&f.tenant.id), 100)
        .await
        .unwrap()
}

fn has_entry(entries: &[AuditRecord], action: &str, target: &str, actor: &str) -> bool {
    entries
        .iter()
        .any(|e| e.action == action && e.target == target && e.actor == actor)
}

async fn private_targets(backend: Backend) -> Option<Fixture> {
    fixture_on(backend, |s| {
        s.allow_private_targets = true;
        s.allow_http_targets = true;
    })
    .await
}

async fn a_forged_ingest_request_is_counted_on_the_overview(backend: Backend) {
    let Some(f) = fixture_on(backend, |_| {}).await else {
        return;
    };
    let source = kazoo_source(&f).await;
    let body = json!({"hook_event": "channel_create", "call_id": "forged"});
    for token in ["not-the-secret", ""] {
        let forged = f
            .app
            .client
            .post(f.app.url(&format!("/ingest/{}?token={token}", source.id)))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), 401);
    }

    let (alice, _) = signed_in(&f, "alice@acme.example").await;
    let page = get(&f, &alice, "/console").await.text().await.unwrap();
    let row = page
        .split("<tr>")
        .find(|r| r.contains(source.id.as_str()))
        .unwrap();
    assert!(row.contains(r#"<span class="bad">2</span>"#), "{row}");
    assert!(row.contains("last "), "{row}");
    assert!(
        !page.contains("not-the-secret"),
        "the secret tried is never kept"
    );
    let counted = f
        .app
        .db
        .store
        .refusals_since(&f.tenant.id, Utc::now() - TimeDelta::hours(24))
        .await
        .unwrap();
    assert_eq!(counted.len(), 1);
    assert_eq!(counted[0].refused, 2);
    // Another tenant sees none of it.
    let other = f
        .app
        .db
        .store
        .refusals_since(&f.other.tenant_id, Utc::now() - TimeDelta::hours(24))
        .await
        .unwrap();
    assert!(other.is_empty());
}

/// Posts the Kazoo scenario with a caller name that is HTML; the call's id.
async fn post_call_with_html_name(f: &Fixture, source: &Source) -> String {
    for mut request in requests(source, "kazoo/inbound_answered") {
        let body = String::from_utf8(request.body.clone()).unwrap();
        request.body = body
            .replace("ACME SUPPLY", "<b>ACME</b> SUPPLY")
            .into_bytes();
        let answer = f.app.post_ingest(source, &request).await;
        assert_eq!(answer.status(), 200, "{}", request.file);
    }
    let events = f.app.events(&f.tenant.id).await;
    events[0].call.id.clone()
}

async fn a_call_page_shows_its_raw_events_as_received_to_its_tenant_only(backend: Backend) {
    let Some(f) = private_targets(backend).await else {
        return;
    };
    let source = kazoo_source(&f).await;
    // A tenant hook on a closed port: its deliveries wait for a retry, and can be resent.
    let tokens = f
        .tokens_for("alice@acme.example", "calls:read tenant:admin")
        .await;
    let hook: Value = f
        .app
        .client
        .post(f.app.url("/v1/hooks"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .json(&json!({"target_url": "http://127.0.0.1:9/hook", "event": "*", "scope": "tenant"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let hook = hook["id"].as_str().unwrap().to_owned();
    let call = post_call_with_html_name(&f, &source).await;

    let (alice, alice_token) = signed_in(&f, "alice@acme.example").await;
    let page = get(&f, &alice, &format!("/console/calls/{call}")).await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("Raw events, as received"), "{page}");
    let files = std::fs::read_dir(crate::support::scenario::fixtures("kazoo/inbound_answered"))
        .unwrap()
        .count();
    let raw = page.split("<ol class=\"raw\">").nth(1).unwrap();
    let raw = raw.split("</ol>").next().unwrap();
    assert_eq!(raw.matches("<li>").count(), files, "{raw}");
    // In the order received, pretty JSON, escaped.
    let create = raw.find("channel_create").unwrap();
    let destroy = raw.find("channel_destroy").unwrap();
    assert!(create < destroy);
    assert!(
        raw.contains("&#34;hook_event&#34;: &#34;channel_create&#34;"),
        "{raw}"
    );
    assert!(raw.contains("&#60;b&#62;ACME&#60;/b&#62; SUPPLY"), "{raw}");
    assert!(!raw.contains("<b>ACME"), "{raw}");
    assert!(raw.contains(source.id.as_str()) && raw.contains("application/json"));
    assert!(
        page.contains(&hook),
        "the triggers name the hook they went to"
    );

    // Another tenant's admin does not see it, nor does a non-admin.
    let (other, _) = signed_in_with(&f, "alice@acme.example", "another password").await;
    let elsewhere = get(&f, &other, &format!("/console/calls/{call}")).await;
    assert_eq!(elsewhere.status(), 404);
    let (bob, _) = signed_in(&f, "bob@acme.example").await;
    assert_eq!(
        get(&f, &bob, &format!("/console/calls/{call}"))
            .await
            .status(),
        403
    );

    // Resending one of its deliveries is in the audit log, with Alice as the actor.
    let store = &f.app.db.store;
    let hook_id = ringhook::domain::HookId::parse(&hook).unwrap();
    let delivery = store
        .deliveries_of_hook(&f.tenant.id, &hook_id, 10)
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.status == "pending")
        .expect("a delivery waiting for its retry");
    let path = format!("/console/hooks/{hook}/deliveries/{}/resend", delivery.id);
    assert_eq!(post(&f, &alice, &path, &[]).await.status(), 403, "no CSRF");
    let resent = post(&f, &alice, &path, &[("csrf_token", &alice_token)]).await;
    assert_eq!(resent.status(), 303);
    let entries = audit(&f).await;
    assert!(
        has_entry(
            &entries,
            "delivery.resend",
            delivery.id.as_str(),
            f.alice.id.as_str()
        ),
        "{entries:?}"
    );
    let shown = get(&f, &alice, "/console/audit")
        .await
        .text()
        .await
        .unwrap();
    assert!(shown.contains("delivery.resend"), "{shown}");
}

/// A hook of Alice's with no grant, disabled the way the delivery worker disables one that
/// fails for longer than the disable time.
async fn disabled_for_failing(f: &Fixture) -> ringhook::domain::HookId {
    let store = f.app.db.store.as_ref();
    let hook = store
        .create_hook(&NewHook {
            tenant_id: f.tenant.id.clone(),
            user_id: f.alice.id.clone(),
            grant_id: None,
            scope: HookScope::User,
            event: HookEventFilter::Any,
            target_url: TargetUrl::parse(
                "https://hooks.example.com/h",
                &TargetPolicy {
                    allow_private: true,
                    allow_http: true,
                    allow_list: Vec::new(),
                },
            )
            .unwrap(),
            secret: SecretString::from("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned()),
        })
        .await
        .unwrap();
    let failed = || DeliveryResult {
        id: ringhook::domain::DeliveryId::generate(),
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
    let stored = store.hook(&f.tenant.id, &hook.id).await.unwrap().unwrap();
    assert_eq!(stored.status, HookStatus::Disabled);
    hook.id
}

async fn a_hook_disabled_for_failing_is_re_enabled_but_not_one_whose_grant_was_revoked(
    backend: Backend,
) {
    let Some(f) = private_targets(backend).await else {
        return;
    };
    let store = f.app.db.store.clone();
    let failing = disabled_for_failing(&f).await;
    let enable = format!("/console/hooks/{failing}/enable");

    let (bob, bob_token) = signed_in(&f, "bob@acme.example").await;
    let forged = post(&f, &bob, &enable, &[("csrf_token", &bob_token)]).await;
    assert_eq!(forged.status(), 404, "not Bob's hook");
    let (alice, alice_token) = signed_in(&f, "alice@acme.example").await;
    let page = get(&f, &alice, &format!("/console/hooks/{failing}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Re-enable hook"), "{page}");
    assert_eq!(
        post(&f, &alice, &enable, &[]).await.status(),
        403,
        "no CSRF"
    );
    let enabled = post(&f, &alice, &enable, &[("csrf_token", &alice_token)]).await;
    assert_eq!(enabled.status(), 303);
    assert!(
        enabled.headers()["location"]
            .to_str()
            .unwrap()
            .ends_with("done=enabled")
    );
    let hook = store.hook(&f.tenant.id, &failing).await.unwrap().unwrap();
    assert_eq!(hook.status, HookStatus::Active);
    assert_eq!(hook.disabled_reason, None);
    assert!(hook.reenabled_at.is_some());
    // Its failing clock starts again: one more failure now does not disable it at once.
    let now = Utc::now();
    let again = DeliveryResult {
        id: ringhook::domain::DeliveryId::generate(),
        lease_token: "lease".into(),
        hook_id: failing.clone(),
        attempt: None,
        next: NextStep::Failed,
    };
    store
        .record_results(&[again], now, TimeDelta::hours(120))
        .await
        .unwrap();
    let hook = store.hook(&f.tenant.id, &failing).await.unwrap().unwrap();
    assert_eq!(hook.status, HookStatus::Active);
    assert!(has_entry(
        &audit(&f).await,
        "hook.enable",
        failing.as_str(),
        f.alice.id.as_str()
    ));

    // A hook made through an app whose grant the console revokes stays disabled.
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
    let revoked = ringhook::domain::HookId::parse(created["id"].as_str().unwrap()).unwrap();
    let grant = store
        .hook(&f.tenant.id, &revoked)
        .await
        .unwrap()
        .unwrap()
        .grant_id
        .unwrap();
    let revoke = post(
        &f,
        &alice,
        &format!("/console/apps/{grant}/revoke"),
        &[("csrf_token", &alice_token)],
    )
    .await;
    assert_eq!(revoke.status(), 303);
    let page = get(&f, &alice, &format!("/console/hooks/{revoked}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains("Re-enable hook"), "{page}");
    let refused = post(
        &f,
        &alice,
        &format!("/console/hooks/{revoked}/enable"),
        &[("csrf_token", &alice_token)],
    )
    .await;
    assert!(
        refused.headers()["location"]
            .to_str()
            .unwrap()
            .ends_with("done=not-enabled")
    );
    let hook = store.hook(&f.tenant.id, &revoked).await.unwrap().unwrap();
    assert_eq!(hook.status, HookStatus::Disabled);
    // The store itself refuses, whoever asks.
    let entry = ringhook::storage::AuditEntry {
        tenant_id: Some(f.tenant.id.clone()),
        actor: "test".into(),
        action: "hook.enable".into(),
        target: revoked.to_string(),
        details: json!({}),
        at: Utc::now(),
    };
    assert!(
        !store
            .reenable_hook(&f.tenant.id, &revoked, Utc::now(), &entry)
            .await
            .unwrap()
    );
    let entries = audit(&f).await;
    assert!(has_entry(
        &entries,
        "grant.revoke",
        grant.as_str(),
        f.alice.id.as_str()
    ));
    assert!(!has_entry(
        &entries,
        "hook.enable",
        revoked.as_str(),
        "test"
    ));

    // Deleting a hook is recorded too.
    let deleted = post(
        &f,
        &alice,
        &format!("/console/hooks/{revoked}/delete"),
        &[("csrf_token", &alice_token)],
    )
    .await;
    assert_eq!(deleted.status(), 303);
    let entries = audit(&f).await;
    assert!(has_entry(
        &entries,
        "hook.delete",
        revoked.as_str(),
        f.alice.id.as_str()
    ));
    let shown = get(&f, &alice, "/console/audit")
        .await
        .text()
        .await
        .unwrap();
    for action in ["hook.delete", "grant.revoke", "hook.enable"] {
        assert!(shown.contains(action), "{action}: {shown}");
    }
}

async fn queue_names_are_added_renamed_and_deleted_by_admins_only(backend: Backend) {
    let Some(f) = fixture_on(backend, |_| {}).await else {
        return;
    };
    let source = kazoo_source(&f).await;
    let id = source.id.to_string();
    let queue = [("source", id.as_str()), ("queue_id", "a9d1cbf7")];

    let (bob, bob_token) = signed_in(&f, "bob@acme.example").await;
    assert_eq!(get(&f, &bob, "/console/queues").await.status(), 403);
    let forged = post(
        &f,
        &bob,
        "/console/queues/add",
        &[&queue[..], &[("csrf_token", &bob_token), ("name", "Sales")]].concat(),
    )
    .await;
    assert_eq!(forged.status(), 403);

    let (alice, token) = signed_in(&f, "alice@acme.example").await;
    let tokenless = post(
        &f,
        &alice,
        "/console/queues/add",
        &[&queue[..], &[("name", "Sales")]].concat(),
    )
    .await;
    assert_eq!(tokenless.status(), 403);
    let store = &f.app.db.store;
    assert!(store.queues(&source.id).await.unwrap().is_empty());

    let add = post(
        &f,
        &alice,
        "/console/queues/add",
        &[&queue[..], &[("csrf_token", &token), ("name", "Sales")]].concat(),
    )
    .await;
    assert_eq!(add.status(), 303);
    let page = get(&f, &alice, "/console/queues")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("value=\"Sales\"") && page.contains("a9d1cbf7"),
        "{page}"
    );

    let rename = post(
        &f,
        &alice,
        "/console/queues/rename",
        &[&queue[..], &[("csrf_token", &token), ("name", "Support")]].concat(),
    )
    .await;
    assert_eq!(rename.status(), 303);
    assert_eq!(store.queues(&source.id).await.unwrap()[0].name, "Support");
    // Renaming a queue with no name adds nothing.
    let unnamed = post(
        &f,
        &alice,
        "/console/queues/rename",
        &[
            ("source", id.as_str()),
            ("queue_id", "nope"),
            ("csrf_token", &token),
            ("name", "X"),
        ],
    )
    .await;
    assert_eq!(unnamed.status(), 422);
    // Another tenant's source is no source of this tenant.
    let theirs = ringhook::storage::NewSource {
        tenant_id: f.other.tenant_id.clone(),
        kind: SourceKind::Kazoo,
        secret: SecretString::from(SECRET.to_owned()),
        account_id: None,
        api: None,
        zoom: None,
    };
    let theirs = store.create_source(&theirs).await.unwrap();
    let across = post(
        &f,
        &alice,
        "/console/queues/add",
        &[
            ("source", theirs.id.as_str()),
            ("queue_id", "q1"),
            ("csrf_token", &token),
            ("name", "Theirs"),
        ],
    )
    .await;
    assert_eq!(across.status(), 422);
    assert!(across.text().await.unwrap().contains("has no source"));
    assert!(store.queues(&theirs.id).await.unwrap().is_empty());

    let delete = post(
        &f,
        &alice,
        "/console/queues/delete",
        &[&queue[..], &[("csrf_token", &token)]].concat(),
    )
    .await;
    assert_eq!(delete.status(), 303);
    assert!(store.queues(&source.id).await.unwrap().is_empty());
    let entries = audit(&f).await;
    let target = format!("{id}:a9d1cbf7");
    for action in ["queue.set", "queue.rename", "queue.delete"] {
        assert!(
            has_entry(&entries, action, &target, f.alice.id.as_str()),
            "{action}: {entries:?}"
        );
    }
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.action.starts_with("queue."))
            .count(),
        3
    );
}

for_each_backend!(
    a_forged_ingest_request_is_counted_on_the_overview,
    a_call_page_shows_its_raw_events_as_received_to_its_tenant_only,
    a_hook_disabled_for_failing_is_re_enabled_but_not_one_whose_grant_was_revoked,
    queue_names_are_added_renamed_and_deleted_by_admins_only,
);
