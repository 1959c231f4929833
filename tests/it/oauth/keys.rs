//! Signing keys live in the store: instances sharing a database agree on them.

use crate::support::TestDatabase;
use ringhook::oauth::keys::KeyRing;

async fn two_instances_load_the_same_keys(db: TestDatabase) {
    let now = chrono::Utc::now();
    let (a, b) = tokio::join!(
        KeyRing::load_or_create(db.store.as_ref(), now),
        KeyRing::load_or_create(db.store.as_ref(), now)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.jwks(), b.jwks());
    assert_eq!(a.refresh_successor("t"), b.refresh_successor("t"));
    let again = KeyRing::load_or_create(db.store.as_ref(), now)
        .await
        .unwrap();
    assert_eq!(again.current().kid, a.current().kid);
}

#[tokio::test]
async fn instances_sharing_sqlite_agree_on_the_keys() {
    two_instances_load_the_same_keys(TestDatabase::sqlite().await).await;
}

#[tokio::test]
async fn instances_sharing_postgres_agree_on_the_keys() {
    let Some(db) = TestDatabase::postgres().await else {
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return;
    };
    two_instances_load_the_same_keys(db).await;
}
