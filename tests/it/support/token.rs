//! Bearer tokens for `/v1/*` tests, issued by the server's own token issuer under a real
//! grant (client, code and grant stored as the authorization flow stores them), without the
//! browser steps. Swap for the OAuth flow helpers once those exist.

use super::TestApp;
use ringhook::domain::{RedirectUri, TenantId, UserId, new_token};
use ringhook::oauth::ScopeSet;
use ringhook::storage::{CodeExchange, NewAuthCode, NewOAuthClient};

const REDIRECT: &str = "https://zapier.com/dashboard/auth/oauth/return/RinghookCLIAPI/";

/// An access token of `user` for `scope` (space-separated, e.g. `"calls:read calls:write"`).
pub async fn bearer(app: &TestApp, tenant: &TenantId, user: &UserId, scope: &str) -> String {
    let store = app.db.store.as_ref();
    let now = chrono::Utc::now();
    let client = store
        .create_client(&NewOAuthClient {
            name: "Zapier".into(),
            secret_hash: "unused".into(),
            redirect_uris: vec![RedirectUri::parse(REDIRECT).unwrap()],
        })
        .await
        .unwrap();
    let scope = ScopeSet::parse(scope).unwrap();
    let code_hash = new_token(32);
    store
        .create_code(&NewAuthCode {
            code_hash: code_hash.clone(),
            client_id: client.id,
            user_id: user.clone(),
            tenant_id: tenant.clone(),
            redirect_uri: REDIRECT.into(),
            redirect_uri_given: true,
            scope,
            code_challenge: None,
            expires_at: now + chrono::TimeDelta::minutes(1),
        })
        .await
        .unwrap();
    let CodeExchange::Issued(grant) = store
        .exchange_code(&code_hash, &new_token(32), now, &|_| Ok(()))
        .await
        .unwrap()
    else {
        panic!("a fresh code yields a grant");
    };
    let oauth = &app.state.oauth;
    oauth.tokens.issue(&oauth.keys, &grant, scope, now).unwrap()
}
