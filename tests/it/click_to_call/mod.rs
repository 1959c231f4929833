//! Click-to-call (`POST /v1/calls`, `GET /v1/calls/{id}`) against fake Kazoo and Zorio APIs
//! (real local HTTP servers that record each request), then the fixtures' call events replayed
//! with our request id so the request's status follows the call.

mod flow;
mod refusals;
mod store;

use crate::support::tenant::{KAZOO_TOKEN, ZOOM_SECRET, ZORIO_SECRET};
use crate::support::token::bearer;
use crate::support::{Receiver, TestApp, spawn_stepped_app};
use ringhook::config::{Backend, Settings};
use ringhook::domain::{
    CountryCode, E164Number, EmailAddress, SourceId, SourceKind, TenantId, UserId, WebUrl,
};
use ringhook::storage::{NewSource, NewTenant, NewUser, NewUserLink, PbxApi, Source, Storage};
use secrecy::SecretString;
use serde_json::{Value, json};

pub const KAZOO_ACCOUNT: &str = "4c122831efef10ac68b5223dccd6f614";
pub const KAZOO_API_KEY: &str = "kazoo-api-key-5f0c2e";
pub const ZORIO_API_KEY: &str = "zorio-api-key-91ab7d";
pub const ALICE_OWNER_ID: &str = "6384e2b2184bcbf58eccf10ca7a6563c";
pub const BOB_OWNER_ID: &str = "9f9d51bc70ef21ca5c14f307980a29d8";

/// "Acme Dental" with sources that can dial: Kazoo and Zorio pointing at fake APIs, and Zoom.
/// Alice (admin) is on Kazoo and Zoom, Bob on Kazoo, Carol on Zorio (extension 1001 there),
/// Zed only on Zoom, Uma on nothing.
pub struct Office {
    pub app: TestApp,
    pub kazoo_api: Receiver,
    pub zorio_api: Receiver,
    pub tenant: TenantId,
    pub kazoo: Source,
    pub zorio: Source,
    pub alice: UserId,
    pub bob: UserId,
    pub carol: UserId,
    pub zed: UserId,
    pub uma: UserId,
}

impl Office {
    pub async fn open(backend: Backend, configure: impl FnOnce(&mut Settings)) -> Option<Office> {
        Self::open_with_kazoo_at(backend, None, configure).await
    }

    /// As `open`, with the Kazoo source's API at `kazoo_url` instead of the fake.
    pub async fn open_with_kazoo_at(
        backend: Backend,
        kazoo_url: Option<&str>,
        configure: impl FnOnce(&mut Settings),
    ) -> Option<Office> {
        // Stepped workers: the flow tests settle calls themselves (`settle_all`).
        let app = spawn_stepped_app(backend, |s| {
            s.call_settle_seconds = 0;
            configure(s);
        })
        .await?;
        let (kazoo_api, zorio_api) = (Receiver::start().await, Receiver::start().await);
        let store = app.db.store.as_ref();
        let us = CountryCode::parse("US").unwrap();
        let tenant = store
            .create_tenant(&NewTenant {
                name: "Acme Dental".into(),
                default_country: us,
            })
            .await
            .unwrap()
            .id;
        let kazoo_url = kazoo_url.map(str::to_owned).unwrap_or(kazoo_api.url(""));
        let kazoo = source(
            store,
            &tenant,
            SourceKind::Kazoo,
            KAZOO_TOKEN,
            Some((&kazoo_url, KAZOO_API_KEY)),
        )
        .await;
        let zorio = source(
            store,
            &tenant,
            SourceKind::Zorio,
            ZORIO_SECRET,
            Some((&zorio_api.url(""), ZORIO_API_KEY)),
        )
        .await;
        let zoom = source(store, &tenant, SourceKind::Zoom, ZOOM_SECRET, None).await;
        let user = |email: &str, ext: &str, admin: bool, links: Vec<(&SourceId, &str)>| NewUser {
            tenant_id: tenant.clone(),
            email: EmailAddress::parse(email).unwrap(),
            name: email.split('@').next().unwrap_or_default().into(),
            extension: Some(ext.into()),
            number: (ext == "1001").then(|| E164Number::parse("+16285550100", us).unwrap()),
            is_admin: admin,
            password_hash: None,
            links: links
                .into_iter()
                .map(|(source, id)| NewUserLink {
                    source_id: source.clone(),
                    external_id: id.into(),
                })
                .collect(),
        };
        let create = |new: NewUser| async move { store.create_user(&new).await.unwrap().id };
        let alice = create(user(
            "alice@acme.example",
            "1001",
            true,
            vec![
                (&kazoo.id, ALICE_OWNER_ID),
                (&zoom.id, "u8Kd3fQ9R2eX1tLm6ZpW4A"),
            ],
        ))
        .await;
        let bob = create(user(
            "bob@acme.example",
            "1002",
            false,
            vec![(&kazoo.id, BOB_OWNER_ID)],
        ))
        .await;
        let carol = create(user(
            "carol@acme.example",
            "1003",
            false,
            vec![(&zorio.id, "1001")],
        ))
        .await;
        let zed = create(user(
            "zed@acme.example",
            "1004",
            false,
            vec![(&zoom.id, "z9Zoom0nly")],
        ))
        .await;
        let uma = create(user("uma@acme.example", "1005", false, vec![])).await;
        Some(Office {
            app,
            kazoo_api,
            zorio_api,
            tenant,
            kazoo,
            zorio,
            alice,
            bob,
            carol,
            zed,
            uma,
        })
    }

    pub async fn token(&self, user: &UserId, scope: &str) -> String {
        bearer(&self.app, &self.tenant, user, scope).await
    }

    pub async fn place(
        &self,
        token: &str,
        body: Value,
    ) -> (u16, Value, reqwest::header::HeaderMap) {
        let response = self
            .app
            .client
            .post(self.app.url("/v1/calls"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (
            status,
            response.json().await.unwrap_or(Value::Null),
            headers,
        )
    }

    pub async fn show(&self, token: &str, id: &str) -> (u16, Value) {
        let response = self
            .app
            .client
            .get(self.app.url(&format!("/v1/calls/{id}")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

async fn source(
    store: &dyn Storage,
    tenant: &TenantId,
    kind: SourceKind,
    secret: &str,
    api: Option<(&str, &str)>,
) -> Source {
    store
        .create_source(&NewSource {
            tenant_id: tenant.clone(),
            kind,
            secret: SecretString::from(secret.to_owned()),
            account_id: (kind == SourceKind::Kazoo).then(|| KAZOO_ACCOUNT.into()),
            api: api.map(|(url, key)| PbxApi {
                url: WebUrl::parse(url).unwrap(),
                key: SecretString::from(key.to_owned()),
            }),
        })
        .await
        .unwrap()
}

/// Kazoo's answer when the user's device rings.
pub fn kazoo_ringing() -> crate::support::Reply {
    crate::support::Reply::status(202)
        .with_header("content-type", "application/json")
        .with_body(&json!({"status": "success", "data": {}}).to_string())
}
