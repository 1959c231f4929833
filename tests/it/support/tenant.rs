//! A tenant shaped like the fixtures' "Acme Dental": Alice and Bob, linked to the ids the
//! Kazoo and Zoom fixtures use, and one source per kind with the fixtures' secrets.

use ringhook::domain::{
    CountryCode, E164Number, EmailAddress, SourceId, SourceKind, TenantId, UserId,
};
use ringhook::storage::{
    NewSource, NewTenant, NewUser, NewUserLink, PbxApi, Source, Storage, ZoomApp,
};
use secrecy::SecretString;

pub const ZOOM_SECRET: &str = "zm_test_secret_token_0123456789";
pub const ZORIO_SECRET: &str = "Zr7Kq2Lm9Xw4Tb6Vn1Pc8Hs3Dy5Fg0Ja";
pub const KAZOO_TOKEN: &str = "kazoo-hook-token-0123456789abcdef";

pub struct AcmeTenant {
    pub tenant_id: TenantId,
    pub alice: UserId,
    pub bob: UserId,
    pub kazoo: Source,
    pub zoom: Source,
    pub zorio: Source,
}

impl AcmeTenant {
    pub fn source(&self, kind: SourceKind) -> &Source {
        match kind {
            SourceKind::Kazoo => &self.kazoo,
            SourceKind::Zoom => &self.zoom,
            SourceKind::Zorio => &self.zorio,
            SourceKind::Asterisk | SourceKind::Freeswitch => {
                panic!("the Acme tenant has no socket source")
            }
        }
    }
}

/// The API credentials the Acme sources carry (none by default).
#[derive(Clone, Debug, Default)]
pub struct SourceApis {
    pub kazoo: Option<PbxApi>,
    pub zoom: Option<ZoomApp>,
}

async fn source(
    store: &dyn Storage,
    tenant: &TenantId,
    kind: SourceKind,
    secret: &str,
    apis: &SourceApis,
) -> Source {
    store
        .create_source(&NewSource {
            tenant_id: tenant.clone(),
            kind,
            secret: SecretString::from(secret.to_owned()),
            account_id: Some("4c122831efef10ac68b5223dccd6f614".into()),
            api: (kind == SourceKind::Kazoo)
                .then(|| apis.kazoo.clone())
                .flatten(),
            zoom: (kind == SourceKind::Zoom)
                .then(|| apis.zoom.clone())
                .flatten(),
        })
        .await
        .unwrap()
}

fn link(source: &SourceId, id: &str) -> NewUserLink {
    NewUserLink {
        source_id: source.clone(),
        external_id: id.into(),
    }
}

pub async fn acme(store: &dyn Storage) -> AcmeTenant {
    acme_with(store, &SourceApis::default()).await
}

/// The Acme tenant whose Kazoo and Zoom sources carry `apis`.
pub async fn acme_with(store: &dyn Storage, apis: &SourceApis) -> AcmeTenant {
    let us = CountryCode::parse("US").unwrap();
    let tenant_id = store
        .create_tenant(&NewTenant {
            name: "Acme Dental".into(),
            default_country: us,
        })
        .await
        .unwrap()
        .id;
    let kazoo = source(store, &tenant_id, SourceKind::Kazoo, KAZOO_TOKEN, apis).await;
    let zoom = source(store, &tenant_id, SourceKind::Zoom, ZOOM_SECRET, apis).await;
    let zorio = source(store, &tenant_id, SourceKind::Zorio, ZORIO_SECRET, apis).await;
    let user = |email: &str, name: &str, ext: &str, links: Vec<NewUserLink>, admin: bool| NewUser {
        tenant_id: tenant_id.clone(),
        email: EmailAddress::parse(email).unwrap(),
        name: name.into(),
        extension: Some(ext.into()),
        number: (ext == "1001").then(|| E164Number::parse("+16285550100", us).unwrap()),
        is_admin: admin,
        password_hash: None,
        links,
    };
    let alice = store
        .create_user(&user(
            "alice@acme.example",
            "Alice Nguyen",
            "1001",
            vec![
                link(&kazoo.id, "6384e2b2184bcbf58eccf10ca7a6563c"),
                link(&zoom.id, "u8Kd3fQ9R2eX1tLm6ZpW4A"),
            ],
            true,
        ))
        .await
        .unwrap()
        .id;
    let bob = store
        .create_user(&user(
            "bob@acme.example",
            "Bob Martin",
            "1002",
            vec![link(&kazoo.id, "9f9d51bc70ef21ca5c14f307980a29d8")],
            false,
        ))
        .await
        .unwrap()
        .id;
    AcmeTenant {
        tenant_id,
        alice,
        bob,
        kazoo,
        zoom,
        zorio,
    }
}
