//! The connection lease: one holder at a time, renewed by its holder, taken over once it runs
//! out, given up on shutdown. On SQLite always, on PostgreSQL with `TEST_DATABASE_URL`.

use ringhook::domain::{SourceKind, TenantId};
use ringhook::storage::{NewSource, NewTenant, PbxSocket, Storage};
use secrecy::SecretString;

async fn socket_source(store: &dyn Storage) -> ringhook::domain::SourceId {
    let tenant = store
        .create_tenant(&NewTenant {
            name: "Acme".into(),
            default_country: Default::default(),
        })
        .await
        .unwrap();
    let source = store
        .create_source(&NewSource {
            tenant_id: tenant.id.clone(),
            kind: SourceKind::Asterisk,
            secret: SecretString::from("s3cret".to_owned()),
            account_id: None,
            api: None,
            zoom: None,
        })
        .await
        .unwrap();
    store
        .save_pbx_socket(&PbxSocket {
            source_id: source.id.clone(),
            url: "tcp://127.0.0.1:5038".into(),
            username: Some("ringhook".into()),
            originate_context: None,
            recording_url_template: None,
        })
        .await
        .unwrap();
    let _: &TenantId = &tenant.id;
    source.id
}

async fn one_holder_until_the_lease_runs_out(store: &dyn Storage) {
    let id = socket_source(store).await;
    assert!(store.take_pbx_lease(&id, "a", 1_000, 11_000).await.unwrap());
    assert!(!store.take_pbx_lease(&id, "b", 5_000, 15_000).await.unwrap());
    // The holder renews; the other still waits.
    assert!(
        store
            .take_pbx_lease(&id, "a", 10_000, 20_000)
            .await
            .unwrap()
    );
    assert!(
        !store
            .take_pbx_lease(&id, "b", 15_000, 25_000)
            .await
            .unwrap()
    );
    // Not renewed in time: taken over.
    assert!(
        store
            .take_pbx_lease(&id, "b", 20_001, 30_000)
            .await
            .unwrap()
    );
    assert!(
        !store
            .take_pbx_lease(&id, "a", 21_000, 31_000)
            .await
            .unwrap()
    );
}

async fn a_released_lease_is_free_at_once(store: &dyn Storage) {
    let id = socket_source(store).await;
    assert!(store.take_pbx_lease(&id, "a", 1_000, 11_000).await.unwrap());
    store.release_pbx_lease(&id, "b").await.unwrap();
    assert!(!store.take_pbx_lease(&id, "b", 2_000, 12_000).await.unwrap());
    store.release_pbx_lease(&id, "a").await.unwrap();
    assert!(store.take_pbx_lease(&id, "b", 2_000, 12_000).await.unwrap());
    let sockets = store.pbx_sockets().await.unwrap();
    assert_eq!(sockets.len(), 1);
    assert_eq!(sockets[0].0.kind, SourceKind::Asterisk);
}

for_each_backend!(
    store:
    one_holder_until_the_lease_runs_out,
    a_released_lease_is_free_at_once
);
