//! The sources' API clients against a fake PBX (a real HTTP server): the credentials stored on
//! a source are read back from the database and turned into the tokens each vendor documents.

use crate::support::tenant::{SourceApis, acme_with};
use crate::support::{Receiver, Reply, spawn_app_with};
use base64::Engine;
use reqwest::Method;
use reqwest::header::HeaderMap;
use ringhook::config::Backend;
use ringhook::domain::WebUrl;
use ringhook::storage::{PbxApi, ZoomApp};
use secrecy::SecretString;

fn zoom_app(pbx: &Receiver) -> ZoomApp {
    ZoomApp {
        account_id: "zoomAcct42".into(),
        client_id: "zoomClient7".into(),
        client_secret: SecretString::from("zoom-client-secret-9".to_owned()),
        oauth_url: WebUrl::parse(&pbx.address).unwrap(),
    }
}

fn token_reply(token: &str) -> Reply {
    Reply::status(200)
        .with_header("content-type", "application/json")
        .with_body(&format!(
            r#"{{"access_token":"{token}","token_type":"bearer","expires_in":3599}}"#
        ))
}

async fn a_zoom_token_is_fetched_once_with_basic_credentials_and_reused(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| {
        s.allow_private_targets = true;
        s.allow_http_targets = true;
    })
    .await
    else {
        return;
    };
    let pbx = Receiver::start().await;
    let apis = SourceApis {
        zoom: Some(zoom_app(&pbx)),
        ..SourceApis::default()
    };
    let acme = acme_with(app.db.store.as_ref(), &apis).await;
    // The source as the app reads it back from the database.
    let source = app.db.store.source(&acme.zoom.id).await.unwrap().unwrap();
    pbx.reply_with([
        token_reply("tok-1"),
        Reply::status(200).with_body("one"),
        Reply::status(200).with_body("two"),
    ]);
    let api = &app.state.source_api;
    for want in ["one", "two"] {
        let got = api
            .zoom(&source, Method::GET, &pbx.url("/rec/1"), HeaderMap::new())
            .await
            .unwrap();
        assert_eq!(got.text().await.unwrap(), want);
    }
    let seen = pbx.requests();
    assert_eq!(seen.len(), 3, "one token request, then two downloads");
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].path, "/oauth/token");
    assert_eq!(
        seen[0].query,
        "grant_type=account_credentials&account_id=zoomAcct42"
    );
    let basic =
        base64::engine::general_purpose::STANDARD.encode("zoomClient7:zoom-client-secret-9");
    assert_eq!(
        seen[0].header("authorization"),
        Some(format!("Basic {basic}").as_str())
    );
    for download in &seen[1..] {
        assert_eq!(download.header("authorization"), Some("Bearer tok-1"));
    }
}

async fn a_refused_zoom_token_is_replaced_once(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| {
        s.allow_private_targets = true;
        s.allow_http_targets = true;
    })
    .await
    else {
        return;
    };
    let pbx = Receiver::start().await;
    let apis = SourceApis {
        zoom: Some(zoom_app(&pbx)),
        ..SourceApis::default()
    };
    let acme = acme_with(app.db.store.as_ref(), &apis).await;
    let source = app.db.store.source(&acme.zoom.id).await.unwrap().unwrap();
    pbx.reply_with([
        token_reply("stale"),
        Reply::status(401),
        token_reply("fresh"),
        Reply::status(200).with_body("audio"),
    ]);
    let got = app
        .state
        .source_api
        .zoom(&source, Method::GET, &pbx.url("/rec/2"), HeaderMap::new())
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    let auth: Vec<Option<String>> = pbx
        .requests()
        .iter()
        .map(|r| r.header("authorization").map(str::to_owned))
        .collect();
    assert_eq!(auth.len(), 4);
    assert_eq!(auth[1].as_deref(), Some("Bearer stale"));
    assert_eq!(auth[3].as_deref(), Some("Bearer fresh"));
}

async fn a_kazoo_api_key_is_traded_for_an_auth_token(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let pbx = Receiver::start().await;
    let apis = SourceApis {
        kazoo: Some(PbxApi {
            url: WebUrl::parse(&pbx.url("/v2")).unwrap(),
            key: SecretString::from("kazoo-account-api-key".to_owned()),
        }),
        ..SourceApis::default()
    };
    let acme = acme_with(app.db.store.as_ref(), &apis).await;
    let source = app.db.store.source(&acme.kazoo.id).await.unwrap().unwrap();
    pbx.reply_with([
        Reply::status(201)
            .with_header("content-type", "application/json")
            .with_body(
                r#"{"auth_token":"kz-token","data":{"account_id":"a1"},"status":"success"}"#,
            ),
        Reply::status(200).with_body("mp3"),
    ]);
    // The Kazoo API URL is the operator's own: it may be private without opening private
    // targets for payload URLs.
    let got = app
        .state
        .source_api
        .kazoo(
            &source,
            Method::GET,
            "accounts/a1/vmboxes/b1/messages/m1/raw",
            HeaderMap::new(),
        )
        .await
        .unwrap();
    assert_eq!(got.text().await.unwrap(), "mp3");
    let seen = pbx.requests();
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("PUT", "/v2/api_auth")
    );
    assert_eq!(seen[0].json()["data"]["api_key"], "kazoo-account-api-key");
    assert_eq!(seen[1].path, "/v2/accounts/a1/vmboxes/b1/messages/m1/raw");
    assert_eq!(seen[1].header("x-auth-token"), Some("kz-token"));
}

async fn a_zoom_token_is_never_sent_to_another_host(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| {
        s.allow_private_targets = true;
        s.allow_http_targets = true;
    })
    .await
    else {
        return;
    };
    let pbx = Receiver::start().await;
    let apis = SourceApis {
        zoom: Some(zoom_app(&pbx)),
        ..SourceApis::default()
    };
    let acme = acme_with(app.db.store.as_ref(), &apis).await;
    let source = app.db.store.source(&acme.zoom.id).await.unwrap().unwrap();
    let port = pbx.address.rsplit(':').next().unwrap();
    let elsewhere = format!("http://localhost:{port}/steal");
    let refused = app
        .state
        .source_api
        .zoom(&source, Method::GET, &elsewhere, HeaderMap::new())
        .await;
    assert!(refused.is_err());
    assert!(
        pbx.requests().is_empty(),
        "nothing was sent, not even a token request"
    );
}

for_each_backend!(
    a_zoom_token_is_fetched_once_with_basic_credentials_and_reused,
    a_refused_zoom_token_is_replaced_once,
    a_kazoo_api_key_is_traded_for_an_auth_token,
    a_zoom_token_is_never_sent_to_another_host,
);
