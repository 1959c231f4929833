//! The whole flow driven by an independent client (the `oauth2` crate), with both client
//! authentication methods, both body formats, and on both backends.

use super::fixture::*;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
    RedirectUrl, RefreshToken, Scope, TokenResponse, TokenUrl,
};
use ringhook::config::Backend;
use serde_json::{Value, json};

/// oauth2's HTTP hook, served by the test's reqwest client (redirects off).
async fn send(
    client: &reqwest::Client,
    request: oauth2::HttpRequest,
) -> Result<oauth2::HttpResponse, reqwest::Error> {
    let (parts, body) = request.into_parts();
    let response = client
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await?;
    let mut builder = http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        builder = builder.header(name, value);
    }
    Ok(builder
        .body(response.bytes().await?.to_vec())
        .expect("a response"))
}

async fn full_flow(f: &Fixture, auth_type: AuthType) {
    let client = BasicClient::new(ClientId::new(f.client_id.clone()))
        .set_client_secret(ClientSecret::new(f.client_secret.clone()))
        .set_auth_uri(AuthUrl::new(f.app.url("/oauth/authorize")).unwrap())
        .set_token_uri(TokenUrl::new(f.app.url("/oauth/token")).unwrap())
        .set_redirect_uri(RedirectUrl::new(REDIRECT_URI.into()).unwrap())
        .set_auth_type(auth_type);
    let http = |request| send(&f.app.client, request);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf) = client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("calls:read".into()))
        .add_scope(Scope::new("calls:write".into()))
        .set_pkce_challenge(challenge)
        .url();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut browser = Browser::default();
    let response = f
        .consent(
            &mut browser,
            &pairs,
            Some(("alice@acme.example", PASSWORD)),
            "allow",
        )
        .await;
    assert_eq!(response.status(), 303);
    let back = location_params(&response);
    assert_eq!(param(&back, "state"), Some(csrf.secret().as_str()));
    let code = param(&back, "code").unwrap().to_owned();

    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("the code exchanges for tokens");
    assert_eq!(token.expires_in().map(|d| d.as_secs()), Some(3600));
    let scopes: Vec<String> = token
        .scopes()
        .unwrap()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(scopes, ["calls:read", "calls:write"]);
    let me = f.me(token.access_token().secret()).await;
    assert_eq!(me.status(), 200);

    let refresh = token.refresh_token().expect("a refresh token").clone();
    let refreshed = client
        .exchange_refresh_token(&refresh)
        .request_async(&http)
        .await
        .expect("the refresh token refreshes");
    let rotated = refreshed.refresh_token().expect("a rotated refresh token");
    assert_ne!(rotated.secret(), refresh.secret());
    assert_eq!(f.me(refreshed.access_token().secret()).await.status(), 200);

    let revoked = f
        .basic_post(
            "/oauth/revoke",
            &[
                ("token", rotated.secret()),
                ("token_type_hint", "refresh_token"),
            ],
        )
        .await;
    assert_eq!(revoked.status(), 200);
    let after = f.me(refreshed.access_token().secret()).await;
    assert_eq!(after.status(), 401);
    let challenge = after.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    let again = client
        .exchange_refresh_token(&RefreshToken::new(rotated.secret().clone()))
        .request_async(&http)
        .await;
    assert!(again.is_err(), "a revoked grant's refresh token is dead");
}

/// Both ways of sending the client's credentials (RFC 6749 section 2.3.1), one after the
/// other on one server.
async fn the_oauth2_crate_completes_the_flow_with_credentials_in_the_body_or_http_basic(
    backend: Backend,
) {
    let Some(f) = fixture_on(backend, |_| {}).await else {
        return;
    };
    full_flow(&f, AuthType::RequestBody).await;
    full_flow(&f, AuthType::BasicAuth).await;
}

for_each_backend!(the_oauth2_crate_completes_the_flow_with_credentials_in_the_body_or_http_basic);

#[tokio::test]
async fn json_bodies_are_accepted_for_both_grants() {
    let f = fixture().await;
    let (code, verifier) = f.code_for("alice@acme.example", "calls:read").await;
    let post = |body: Value| {
        f.app
            .client
            .post(f.app.url("/oauth/token"))
            .json(&body)
            .send()
    };
    let response = post(json!({
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier, "client_id": f.client_id, "client_secret": f.client_secret,
    }))
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let tokens: Value = response.json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], "calls:read");
    let refreshed = post(json!({
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
        "client_id": f.client_id, "client_secret": f.client_secret,
    }))
    .await
    .unwrap();
    assert_eq!(refreshed.status(), 200);
    let refreshed: Value = refreshed.json().await.unwrap();
    assert_eq!(
        f.me(refreshed["access_token"].as_str().unwrap())
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn the_token_response_is_flat_and_not_cached() {
    let f = fixture().await;
    let (code, verifier) = f
        .code_for("alice@acme.example", "calls:read calls:write")
        .await;
    let response = f.exchange(&code, &verifier).await;
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    let mut keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "access_token",
            "expires_in",
            "refresh_token",
            "scope",
            "token_type"
        ]
    );
    assert_eq!(body["expires_in"], 3600);
}

#[tokio::test]
async fn me_describes_the_user_and_tenant_of_the_token() {
    let f = fixture().await;
    let tokens = f.tokens_for("alice@acme.example", "calls:read").await;
    let me: Value = f
        .me(tokens["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        me,
        json!({
            "id": f.alice.id, "email": "alice@acme.example", "name": "Alice Nguyen",
            "extension": "1001", "tenant": {"id": f.tenant.id, "name": "Acme Dental"},
            "scopes": ["calls:read"],
        })
    );
}

#[tokio::test]
async fn metadata_names_the_issuer_endpoints_and_s256_only() {
    let f = fixture().await;
    let doc: Value = f
        .app
        .get("/.well-known/oauth-authorization-server")
        .await
        .json()
        .await
        .unwrap();
    let issuer = f.app.state.settings.public_base();
    assert_eq!(doc["issuer"], issuer.as_str());
    assert_eq!(doc["token_endpoint"], format!("{issuer}/oauth/token"));
    assert_eq!(
        doc["authorization_endpoint"],
        format!("{issuer}/oauth/authorize")
    );
    assert_eq!(doc["revocation_endpoint"], format!("{issuer}/oauth/revoke"));
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(doc["response_types_supported"], json!(["code"]));
}

#[tokio::test]
async fn access_tokens_verify_against_the_published_jwks() {
    let f = fixture().await;
    let tokens = f.tokens_for("alice@acme.example", "calls:read").await;
    let jwks: jsonwebtoken::jwk::JwkSet = f.app.get("/oauth/jwks").await.json().await.unwrap();
    let token = tokens["access_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    let jwk = jwks
        .find(header.kid.as_deref().unwrap())
        .expect("the signing key is published");
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    let issuer = f.app.state.settings.public_base();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.set_issuer(&[&issuer]);
    validation.set_audience(&[format!("{issuer}/v1")]);
    let claims = jsonwebtoken::decode::<Value>(token, &key, &validation)
        .unwrap()
        .claims;
    assert_eq!(claims["sub"], f.alice.id.as_str());
    assert_eq!(claims["client_id"], f.client_id.as_str());
    assert_eq!(claims["scope"], "calls:read");
    for claim in ["exp", "iat", "jti", "tid", "gid"] {
        assert!(claims.get(claim).is_some(), "{claim} is missing");
    }
}
