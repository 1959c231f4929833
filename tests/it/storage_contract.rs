//! One contract for every storage backend: each test below runs on SQLite always and on
//! PostgreSQL when `TEST_DATABASE_URL` is set, each in its own fresh database.

use chrono::{DateTime, TimeDelta, Utc};
use ringhook::domain::HookEventFilter;
use ringhook::domain::{
    CountryCode, E164Number, EmailAddress, RedirectUri, SourceId, SourceKind, TenantId, WebUrl,
};
use ringhook::domain::{DeliveryId, HookId};
use ringhook::storage::HookStatus;
use ringhook::storage::delivery_queue::{DeliveryResult, NextStep};
use ringhook::storage::hooks::NewHook;
use ringhook::storage::{HookScope, NamedQueue};
use ringhook::storage::{
    NewOAuthClient, NewSource, NewTenant, NewUser, NewUserLink, PbxApi, Storage, StoreError, Tenant,
};
use secrecy::{ExposeSecret, SecretString};

for_each_backend!(
    store:
    a_created_tenant_reads_back_with_its_country,
    an_unknown_tenant_reads_as_none,
    migrations_can_run_again_without_effect,
    a_user_with_links_reads_back_with_them,
    a_duplicate_email_in_one_tenant_is_a_conflict_whatever_its_case,
    the_same_email_may_exist_in_two_tenants,
    a_duplicate_extension_in_one_tenant_is_a_conflict,
    a_user_for_an_unknown_tenant_is_refused,
    a_link_to_another_tenants_source_is_refused_and_writes_nothing,
    an_external_id_already_linked_is_refused_and_writes_nothing,
    users_of_one_tenant_are_invisible_to_another,
    a_source_keeps_its_secret_and_api_settings,
    a_source_for_an_unknown_tenant_is_refused,
    a_client_keeps_its_redirect_uris_verbatim,
    the_password_hash_is_only_returned_for_login,
    a_hook_failing_for_the_disable_time_is_disabled,
    one_delivered_attempt_ends_a_failing_streak,
    a_gone_hook_is_deleted_and_other_hooks_are_untouched,
    a_queue_name_is_kept_per_source_replaced_and_forgotten,
    a_claim_behind_an_open_write_runs_as_soon_as_that_write_commits,
);

fn us() -> CountryCode {
    CountryCode::parse("US").unwrap()
}

async fn tenant(store: &dyn Storage, name: &str) -> Tenant {
    store
        .create_tenant(&NewTenant {
            name: name.into(),
            default_country: us(),
        })
        .await
        .unwrap()
}

fn new_user(tenant: &TenantId, email: &str) -> NewUser {
    NewUser {
        tenant_id: tenant.clone(),
        email: EmailAddress::parse(email).unwrap(),
        name: "Alice Nguyen".into(),
        extension: None,
        number: None,
        is_admin: false,
        password_hash: None,
        links: vec![],
    }
}

async fn source(store: &dyn Storage, tenant: &TenantId, kind: SourceKind) -> SourceId {
    store
        .create_source(&NewSource {
            tenant_id: tenant.clone(),
            kind,
            secret: SecretString::from("a-source-secret-0123456789".to_owned()),
            account_id: None,
            api: None,
            zoom: None,
        })
        .await
        .unwrap()
        .id
}

fn link(source: &SourceId, external: &str) -> NewUserLink {
    NewUserLink {
        source_id: source.clone(),
        external_id: external.into(),
    }
}

async fn a_created_tenant_reads_back_with_its_country(store: &dyn Storage) {
    let created = store
        .create_tenant(&NewTenant {
            name: "Acme Dental".into(),
            default_country: CountryCode::parse("GB").unwrap(),
        })
        .await
        .unwrap();
    let read = store.tenant(&created.id).await.unwrap().unwrap();
    assert_eq!(read.name, "Acme Dental");
    assert_eq!(read.default_country.as_str(), "GB");
    assert_eq!(read.id, created.id);
}

async fn an_unknown_tenant_reads_as_none(store: &dyn Storage) {
    assert!(store.tenant(&TenantId::generate()).await.unwrap().is_none());
}

async fn migrations_can_run_again_without_effect(store: &dyn Storage) {
    let t = tenant(store, "Acme").await;
    store.migrate().await.unwrap();
    assert!(store.tenant(&t.id).await.unwrap().is_some());
    store.ping().await.unwrap();
}

async fn a_user_with_links_reads_back_with_them(store: &dyn Storage) {
    let t = tenant(store, "Acme").await;
    let kazoo = source(store, &t.id, SourceKind::Kazoo).await;
    let zoom = source(store, &t.id, SourceKind::Zoom).await;
    let mut new = new_user(&t.id, "alice@acme.example");
    new.extension = Some("1001".into());
    new.number = Some(E164Number::parse("+16285550100", us()).unwrap());
    new.is_admin = true;
    new.links = vec![
        link(&kazoo, "6384e2b2184bcbf58eccf10ca7a6563c"),
        link(&zoom, "u8Kd3fQ9R2eX1tLm6ZpW4A"),
    ];
    let user = store.create_user(&new).await.unwrap();

    let read = store.user(&t.id, &user.id).await.unwrap().unwrap();
    assert_eq!(read.email.as_str(), "alice@acme.example");
    assert_eq!(read.extension.as_deref(), Some("1001"));
    assert_eq!(read.number.as_ref().unwrap().as_str(), "+16285550100");
    assert!(read.is_admin);
    let links = store.user_links(&t.id).await.unwrap();
    assert_eq!(links.len(), 2);
    assert!(links.iter().all(|l| l.user_id == user.id));
    assert!(
        links
            .iter()
            .any(|l| l.source_id == zoom && l.external_id == "u8Kd3fQ9R2eX1tLm6ZpW4A")
    );
}

async fn a_duplicate_email_in_one_tenant_is_a_conflict_whatever_its_case(store: &dyn Storage) {
    let t = tenant(store, "Acme").await;
    store
        .create_user(&new_user(&t.id, "alice@acme.example"))
        .await
        .unwrap();
    let again = store
        .create_user(&new_user(&t.id, "ALICE@acme.example"))
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert_eq!(store.users(&t.id).await.unwrap().len(), 1);
}

async fn the_same_email_may_exist_in_two_tenants(store: &dyn Storage) {
    let a = tenant(store, "A").await;
    let b = tenant(store, "B").await;
    store
        .create_user(&new_user(&a.id, "sam@example.com"))
        .await
        .unwrap();
    store
        .create_user(&new_user(&b.id, "sam@example.com"))
        .await
        .unwrap();
    let found = store
        .users_by_email(&EmailAddress::parse("sam@example.com").unwrap())
        .await
        .unwrap();
    assert_eq!(found.len(), 2);
}

async fn a_duplicate_extension_in_one_tenant_is_a_conflict(store: &dyn Storage) {
    let t = tenant(store, "Acme").await;
    let mut first = new_user(&t.id, "a@acme.example");
    first.extension = Some("1001".into());
    store.create_user(&first).await.unwrap();
    let mut second = new_user(&t.id, "b@acme.example");
    second.extension = Some("1001".into());
    let result = store.create_user(&second).await;
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
}

async fn a_user_for_an_unknown_tenant_is_refused(store: &dyn Storage) {
    let result = store
        .create_user(&new_user(&TenantId::generate(), "a@acme.example"))
        .await;
    assert!(matches!(result, Err(StoreError::NotFound(_))), "{result:?}");
}

async fn a_link_to_another_tenants_source_is_refused_and_writes_nothing(store: &dyn Storage) {
    let mine = tenant(store, "Mine").await;
    let theirs = tenant(store, "Theirs").await;
    let their_source = source(store, &theirs.id, SourceKind::Kazoo).await;
    let mut new = new_user(&mine.id, "a@mine.example");
    new.links = vec![link(&their_source, "owner-1")];
    let result = store.create_user(&new).await;
    assert!(matches!(result, Err(StoreError::NotFound(_))), "{result:?}");
    assert!(store.users(&mine.id).await.unwrap().is_empty());
    assert!(store.user_links(&theirs.id).await.unwrap().is_empty());
}

async fn an_external_id_already_linked_is_refused_and_writes_nothing(store: &dyn Storage) {
    let t = tenant(store, "Acme").await;
    let kazoo = source(store, &t.id, SourceKind::Kazoo).await;
    let mut first = new_user(&t.id, "a@acme.example");
    first.links = vec![link(&kazoo, "owner-1")];
    store.create_user(&first).await.unwrap();
    let mut second = new_user(&t.id, "b@acme.example");
    second.links = vec![link(&kazoo, "owner-2"), link(&kazoo, "owner-1")];
    let result = store.create_user(&second).await;
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
    assert_eq!(store.users(&t.id).await.unwrap().len(), 1);
    assert_eq!(store.user_links(&t.id).await.unwrap().len(), 1);
}

async fn users_of_one_tenant_are_invisible_to_another(store: &dyn Storage) {
    let a = tenant(store, "A").await;
    let b = tenant(store, "B").await;
    let alice = store
        .create_user(&new_user(&a.id, "alice@a.example"))
        .await
        .unwrap();
    assert!(store.user(&b.id, &alice.id).await.unwrap().is_none());
    assert!(store.users(&b.id).await.unwrap().is_empty());
    assert_eq!(store.users(&a.id).await.unwrap().len(), 1);
}

async fn a_source_keeps_its_secret_and_api_settings(store: &dyn Storage) {
    let t = tenant(store, "Acme").await;
    let created = store
        .create_source(&NewSource {
            tenant_id: t.id.clone(),
            kind: SourceKind::Kazoo,
            secret: SecretString::from("kazoo-token-0123456789".to_owned()),
            account_id: Some("4c122831efef10ac68b5223dccd6f614".into()),
            api: Some(PbxApi {
                url: WebUrl::parse("https://pbx.example.net:8443/v2").unwrap(),
                key: SecretString::from("api-key-xyz".to_owned()),
            }),
            zoom: None,
        })
        .await
        .unwrap();
    let read = store.source(&created.id).await.unwrap().unwrap();
    assert_eq!(read.tenant_id, t.id);
    assert_eq!(read.kind, SourceKind::Kazoo);
    assert_eq!(read.secret.expose_secret(), "kazoo-token-0123456789");
    let api = read.api.unwrap();
    assert_eq!(api.url.as_str(), "https://pbx.example.net:8443/v2");
    assert_eq!(api.key.expose_secret(), "api-key-xyz");
    assert!(!format!("{:?}", store.source(&created.id).await.unwrap()).contains("api-key-xyz"));
    assert_eq!(store.sources(&t.id).await.unwrap().len(), 1);
}

async fn a_source_for_an_unknown_tenant_is_refused(store: &dyn Storage) {
    let result = store
        .create_source(&NewSource {
            tenant_id: TenantId::generate(),
            kind: SourceKind::Zorio,
            secret: SecretString::from("zorio-secret-0123456789".to_owned()),
            account_id: None,
            api: None,
            zoom: None,
        })
        .await;
    assert!(matches!(result, Err(StoreError::NotFound(_))), "{result:?}");
}

async fn a_client_keeps_its_redirect_uris_verbatim(store: &dyn Storage) {
    let uris = [
        "https://zapier.com/dashboard/auth/oauth/return/App123CLIAPI/",
        "http://localhost:3000/callback?x=1",
    ];
    let created = store
        .create_client(&NewOAuthClient {
            name: "Zapier".into(),
            secret_hash: "ab".repeat(32),
            redirect_uris: uris
                .iter()
                .map(|u| RedirectUri::parse(u).unwrap())
                .collect(),
        })
        .await
        .unwrap();
    let read = store.client(&created.id).await.unwrap().unwrap();
    let read_uris: Vec<&str> = read.redirect_uris.iter().map(|u| u.as_str()).collect();
    assert_eq!(read_uris, uris);
    assert_eq!(read.secret_hash, "ab".repeat(32));
}

async fn the_password_hash_is_only_returned_for_login(store: &dyn Storage) {
    let t = tenant(store, "Acme").await;
    let mut new = new_user(&t.id, "alice@acme.example");
    new.password_hash = Some(SecretString::from("$argon2id$v=19$stub".to_owned()));
    store.create_user(&new).await.unwrap();
    let found = store
        .users_by_email(&EmailAddress::parse("alice@acme.example").unwrap())
        .await
        .unwrap();
    assert_eq!(
        found[0].password_hash.as_ref().unwrap().expose_secret(),
        "$argon2id$v=19$stub"
    );
    let listed = format!("{:?}", store.users(&t.id).await.unwrap());
    assert!(!listed.contains("argon2"));
}

/// A hook of Alice's, in a fresh tenant.
async fn alice_hook(store: &dyn Storage) -> (TenantId, HookId) {
    let tenant = tenant(store, "Acme").await.id;
    let alice = store
        .create_user(&new_user(&tenant, "alice@acme.test"))
        .await
        .unwrap();
    let hook = store
        .create_hook(&NewHook {
            tenant_id: tenant.clone(),
            user_id: alice.id,
            grant_id: None,
            scope: HookScope::User,
            event: HookEventFilter::Any,
            target_url: ringhook::delivery::TargetUrl::parse(
                "https://hooks.example.com/h",
                &ringhook::delivery::TargetPolicy {
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
    (tenant, hook.id)
}

/// One round's result for a delivery of `hook` (the delivery row itself does not matter here:
/// hook health and 410 handling are decided per hook).
fn result(hook: &HookId, next: NextStep) -> DeliveryResult {
    DeliveryResult {
        id: DeliveryId::generate(),
        lease_token: "lease".into(),
        hook_id: hook.clone(),
        attempt: None,
        next,
    }
}

async fn record(store: &dyn Storage, results: &[DeliveryResult], at: DateTime<Utc>) {
    store
        .record_results(results, at, TimeDelta::hours(DISABLE_AFTER_HOURS))
        .await
        .unwrap();
}

const DISABLE_AFTER_HOURS: i64 = 120;

async fn a_hook_failing_for_the_disable_time_is_disabled(store: &dyn Storage) {
    let (tenant, hook) = alice_hook(store).await;
    let start = Utc::now();
    record(store, &[result(&hook, NextStep::Failed)], start).await;
    let almost = start + TimeDelta::hours(DISABLE_AFTER_HOURS) - TimeDelta::seconds(1);
    record(store, &[result(&hook, NextStep::RetryAt(almost))], almost).await;
    let stored = store.hook(&tenant, &hook).await.unwrap().unwrap();
    assert_eq!(
        stored.status,
        HookStatus::Active,
        "not failing long enough yet"
    );

    let past = start + TimeDelta::hours(DISABLE_AFTER_HOURS) + TimeDelta::seconds(1);
    record(store, &[result(&hook, NextStep::Failed)], past).await;
    let stored = store.hook(&tenant, &hook).await.unwrap().unwrap();
    assert_eq!(stored.status, HookStatus::Disabled);
    assert!(
        stored
            .disabled_reason
            .unwrap()
            .starts_with("failing continuously since"),
    );
}

async fn one_delivered_attempt_ends_a_failing_streak(store: &dyn Storage) {
    let (tenant, hook) = alice_hook(store).await;
    let start = Utc::now();
    record(store, &[result(&hook, NextStep::Failed)], start).await;
    // Concurrent attempts of one round: a single success is enough.
    let mixed = start + TimeDelta::hours(1);
    record(
        store,
        &[
            result(&hook, NextStep::Failed),
            result(&hook, NextStep::Delivered),
            result(&hook, NextStep::Failed),
        ],
        mixed,
    )
    .await;
    let later = start + TimeDelta::hours(DISABLE_AFTER_HOURS) + TimeDelta::hours(1);
    record(store, &[result(&hook, NextStep::Failed)], later).await;
    let stored = store.hook(&tenant, &hook).await.unwrap().unwrap();
    assert_eq!(
        stored.status,
        HookStatus::Active,
        "the streak restarted at the last failure"
    );
}

/// That its queued deliveries go with it is asserted where real deliveries are queued
/// (`delivery::a_410_gone_deletes_the_hook_and_nothing_more_is_sent`, on both backends).
async fn a_gone_hook_is_deleted_and_other_hooks_are_untouched(store: &dyn Storage) {
    let (tenant, hook) = alice_hook(store).await;
    let (other_tenant, other) = alice_hook(store).await;
    record(
        store,
        &[
            result(&hook, NextStep::Delivered),
            result(&hook, NextStep::HookGone),
        ],
        Utc::now(),
    )
    .await;
    assert!(store.hook(&tenant, &hook).await.unwrap().is_none());
    assert!(
        store.hook(&other_tenant, &other).await.unwrap().is_some(),
        "other hooks are untouched"
    );
}

async fn a_queue_name_is_kept_per_source_replaced_and_forgotten(store: &dyn Storage) {
    let acme = tenant(store, "Acme").await.id;
    let kazoo = source(store, &acme, SourceKind::Kazoo).await;
    let other = source(store, &acme, SourceKind::Zoom).await;
    let named = |source: &SourceId, name: &str| NamedQueue {
        source_id: source.clone(),
        external_id: "a9d1".into(),
        name: name.into(),
    };
    store.name_queue(&named(&kazoo, "Sales")).await.unwrap();
    store.name_queue(&named(&kazoo, "Support")).await.unwrap();
    assert_eq!(
        store.queues(&kazoo).await.unwrap(),
        [named(&kazoo, "Support")]
    );
    assert!(
        store.queues(&other).await.unwrap().is_empty(),
        "names are per source"
    );

    let unknown = SourceId::generate();
    assert!(matches!(
        store.name_queue(&named(&unknown, "Support")).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(store.queues(&unknown).await.unwrap().is_empty());

    assert!(store.forget_queue(&kazoo, "a9d1").await.unwrap());
    assert!(!store.forget_queue(&kazoo, "a9d1").await.unwrap());
    assert!(store.queues(&kazoo).await.unwrap().is_empty());
}

/// A delivery claim is a write: on SQLite it queues behind an ingest transaction and runs the
/// moment that one commits, instead of sleeping in SQLite's busy handler and retrying on its
/// schedule (1, 2, 5, 10, ... 100 ms apart), which made a raw event's first attempt late by up
/// to 100 ms. On PostgreSQL the claim does not wait for the calls' locks at all.
async fn a_claim_behind_an_open_write_runs_as_soon_as_that_write_commits(store: &dyn Storage) {
    alice_hook(store).await;
    let tx = store.begin_calls(&["src_any"]).await.unwrap();
    let holding = async {
        tokio::time::sleep(std::time::Duration::from_millis(240)).await;
        tx.commit().await.unwrap();
        std::time::Instant::now()
    };
    let claiming = async {
        store
            .claim_due(Utc::now(), TimeDelta::minutes(5), 10)
            .await
            .unwrap();
        std::time::Instant::now()
    };
    let (committed, claimed) = tokio::join!(holding, claiming);
    let late = claimed.saturating_duration_since(committed);
    assert!(
        late < std::time::Duration::from_millis(40),
        "the claim ran {late:?} after the write it waited for had committed"
    );
}
