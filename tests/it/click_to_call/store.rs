//! The call-requests store on both backends: dial results never move a request backwards.

use crate::support::TestDatabase;
use ringhook::config::Backend;
use ringhook::domain::{
    CallRequestId, CountryCode, E164Number, EmailAddress, SourceKind, TenantId,
};
use ringhook::storage::{
    CallRequest, DialRecord, NewCallRequest, NewSource, NewTenant, NewUser, RequestStatus, Storage,
};
use secrecy::SecretString;

async fn stored_request(store: &dyn Storage) -> CallRequest {
    let us = CountryCode::parse("US").unwrap();
    let tenant = store
        .create_tenant(&NewTenant {
            name: "Acme".into(),
            default_country: us,
        })
        .await
        .unwrap()
        .id;
    let source = store
        .create_source(&NewSource {
            tenant_id: tenant.clone(),
            kind: SourceKind::Zorio,
            secret: SecretString::from("s".to_owned()),
            account_id: None,
            api: None,
        })
        .await
        .unwrap()
        .id;
    let user = store
        .create_user(&NewUser {
            tenant_id: tenant.clone(),
            email: EmailAddress::parse("a@acme.example").unwrap(),
            name: "A".into(),
            extension: None,
            number: None,
            is_admin: false,
            password_hash: None,
            links: vec![],
        })
        .await
        .unwrap()
        .id;
    store
        .create_call_request(
            &NewCallRequest {
                id: CallRequestId::generate(),
                tenant_id: tenant,
                user_id: user,
                source_id: source,
                to: E164Number::parse("+12125550199", us).unwrap(),
                caller_id: None,
            },
            chrono::Utc::now(),
        )
        .await
        .unwrap()
}

async fn dial_results_move_requests_forward_only(backend: Backend) {
    let Some(db) = TestDatabase::of(backend).await else {
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return;
    };
    let store = db.store.as_ref();
    let request = stored_request(store).await;
    assert_eq!(request.status, RequestStatus::Requested);
    let (tenant, id, now) = (&request.tenant_id, &request.id, chrono::Utc::now());

    let ringing = DialRecord::Placed {
        status: RequestStatus::Ringing,
        pbx_call_id: Some("uuid-1".into()),
    };
    let after = store
        .record_dial(tenant, id, &ringing, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.status, RequestStatus::Ringing);
    assert_eq!(after.pbx_call_id.as_deref(), Some("uuid-1"));

    // A later, lesser answer changes neither the status nor the reason.
    let requested = DialRecord::Placed {
        status: RequestStatus::Requested,
        pbx_call_id: None,
    };
    let failed = DialRecord::Failed {
        reason: "late".into(),
    };
    for record in [requested, failed] {
        let after = store
            .record_dial(tenant, id, &record, now)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(after.status, RequestStatus::Ringing);
        assert_eq!(after.reason, None);
        assert_eq!(after.pbx_call_id.as_deref(), Some("uuid-1"));
    }

    let stranger = TenantId::generate();
    assert!(store.call_request(&stranger, id).await.unwrap().is_none());
    let failed = DialRecord::Failed { reason: "x".into() };
    assert!(
        store
            .record_dial(&stranger, id, &failed, now)
            .await
            .unwrap()
            .is_none()
    );
}

for_each_backend!(dial_results_move_requests_forward_only);
