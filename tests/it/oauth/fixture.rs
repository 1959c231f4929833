//! A running app with one tenant (an admin and a non-admin user), a second tenant, and one
//! registered client; plus a browser-like walk through the consent page.

use crate::support::{TestApp, spawn_app_with};
use base64::Engine;
use ringhook::config::{Backend, Settings};
use ringhook::credentials;
use ringhook::domain::{CountryCode, EmailAddress, RedirectUri, new_token};
use ringhook::storage::{NewOAuthClient, NewTenant, NewUser, Tenant, User};
use secrecy::SecretString;
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const PASSWORD: &str = "correct horse battery";
pub const REDIRECT_URI: &str = "https://zapier.com/dashboard/auth/oauth/return/App123CLIAPI/";

pub struct Fixture {
    pub app: TestApp,
    pub client_id: String,
    pub client_secret: String,
    pub tenant: Tenant,
    /// Tenant admin.
    pub alice: User,
    /// Not an admin.
    pub bob: User,
    /// Another tenant's user, with the same email as alice.
    pub other: User,
}

pub async fn fixture() -> Fixture {
    fixture_on(Backend::Sqlite, |_| {}).await.expect("sqlite")
}

/// `None` when the backend is not configured (PostgreSQL without `TEST_DATABASE_URL`).
pub async fn fixture_on(
    backend: Backend,
    configure: impl FnOnce(&mut Settings),
) -> Option<Fixture> {
    let app = spawn_app_with(backend, configure).await?;
    let store = app.db.store.clone();
    let tenant = store
        .create_tenant(&NewTenant {
            name: "Acme Dental".into(),
            default_country: CountryCode::parse("US").unwrap(),
        })
        .await
        .unwrap();
    let elsewhere = store
        .create_tenant(&NewTenant {
            name: "Other Corp".into(),
            default_country: CountryCode::parse("US").unwrap(),
        })
        .await
        .unwrap();
    let hash = credentials::hash_password(&SecretString::from(PASSWORD)).unwrap();
    let user = |tenant: &Tenant, email: &str, name: &str, ext: &str, admin: bool| NewUser {
        tenant_id: tenant.id.clone(),
        email: EmailAddress::parse(email).unwrap(),
        name: name.into(),
        extension: Some(ext.into()),
        number: None,
        is_admin: admin,
        password_hash: Some(hash.clone()),
        links: vec![],
    };
    let alice = store
        .create_user(&user(
            &tenant,
            "alice@acme.example",
            "Alice Nguyen",
            "1001",
            true,
        ))
        .await
        .unwrap();
    let bob = store
        .create_user(&user(
            &tenant,
            "bob@acme.example",
            "Bob Stone",
            "1002",
            false,
        ))
        .await
        .unwrap();
    let other_hash = credentials::hash_password(&SecretString::from("another password")).unwrap();
    let other = store
        .create_user(&NewUser {
            password_hash: Some(other_hash),
            ..user(
                &elsewhere,
                "alice@acme.example",
                "Alice Other",
                "2001",
                true,
            )
        })
        .await
        .unwrap();
    let client_secret = new_token(32);
    let client = store
        .create_client(&NewOAuthClient {
            name: "Zapier".into(),
            secret_hash: credentials::hash_secret(&client_secret),
            redirect_uris: vec![RedirectUri::parse(REDIRECT_URI).unwrap()],
        })
        .await
        .unwrap();
    Some(Fixture {
        app,
        client_id: client.id.to_string(),
        client_secret,
        tenant,
        alice,
        bob,
        other,
    })
}

/// A PKCE verifier and its S256 challenge.
pub fn pkce_pair() -> (String, String) {
    let verifier = new_token(48);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// The value of a `Set-Cookie` named `name`, if the response sets it.
pub fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            v.split(';')
                .next()?
                .strip_prefix(&format!("{name}="))
                .map(str::to_owned)
        })
}

/// The value of the hidden input `name` in a page.
pub fn hidden_input(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(
        html[start..start + end]
            .replace("&#43;", "+")
            .replace("&#x2b;", "+"),
    )
}

/// Query parameters of a redirect `Location`.
pub fn location_params(response: &reqwest::Response) -> Vec<(String, String)> {
    let location = response
        .headers()
        .get("location")
        .expect("a Location header")
        .to_str()
        .unwrap();
    let url = url::Url::parse(location).unwrap();
    url.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// What a browser carries between the consent page and its form post.
#[derive(Default, Clone)]
pub struct Browser {
    pub cookies: Vec<(String, String)>,
}

impl Browser {
    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn remember(&mut self, response: &reqwest::Response) {
        for name in ["ringhook_csrf", "ringhook_session"] {
            if let Some(value) = set_cookie(response, name) {
                self.cookies.retain(|(k, _)| k != name);
                self.cookies.push((name.to_owned(), value));
            }
        }
    }
}

impl Fixture {
    /// The authorization request Zapier would send, with `extra` replacing or adding pairs
    /// (a pair with an empty value removes the parameter).
    pub fn authorize_pairs(
        &self,
        challenge: &str,
        extra: &[(&str, &str)],
    ) -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = [
            ("response_type", "code"),
            ("client_id", self.client_id.as_str()),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "calls:read calls:write"),
            ("state", "st-\u{e9}+/=&x"),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        for (name, value) in extra {
            pairs.retain(|(k, _)| k != name);
            if !value.is_empty() {
                pairs.push((name.to_string(), value.to_string()));
            }
        }
        pairs
    }

    pub async fn get_authorize(
        &self,
        browser: &mut Browser,
        pairs: &[(String, String)],
    ) -> reqwest::Response {
        let url = url::Url::parse_with_params(&self.app.url("/oauth/authorize"), pairs).unwrap();
        let response = self
            .app
            .client
            .get(url)
            .header("cookie", browser.cookie_header())
            .send()
            .await
            .unwrap();
        browser.remember(&response);
        response
    }

    /// Loads the page, then posts its form with the given login and decision.
    pub async fn consent(
        &self,
        browser: &mut Browser,
        pairs: &[(String, String)],
        login: Option<(&str, &str)>,
        decision: &str,
    ) -> reqwest::Response {
        let page = self.get_authorize(browser, pairs).await;
        assert_eq!(page.status(), 200, "the consent page shows");
        let html = page.text().await.unwrap();
        let mut form: Vec<(String, String)> = pairs.to_vec();
        form.push((
            "csrf_token".into(),
            hidden_input(&html, "csrf_token").expect("a CSRF token"),
        ));
        if let Some((email, password)) = login {
            form.push(("email".into(), email.into()));
            form.push(("password".into(), password.into()));
        }
        form.push(("decision".into(), decision.into()));
        let response = self
            .app
            .client
            .post(self.app.url("/oauth/authorize"))
            .header("cookie", browser.cookie_header())
            .form(&form)
            .send()
            .await
            .unwrap();
        browser.remember(&response);
        response
    }

    /// Signs `email` in, allows, and returns the code and its verifier.
    pub async fn code_for(&self, email: &str, scope: &str) -> (String, String) {
        let (verifier, challenge) = pkce_pair();
        let pairs = self.authorize_pairs(&challenge, &[("scope", scope)]);
        let response = self
            .consent(
                &mut Browser::default(),
                &pairs,
                Some((email, PASSWORD)),
                "allow",
            )
            .await;
        assert_eq!(
            response.status(),
            303,
            "{}",
            response.text().await.unwrap_or_default()
        );
        let params = location_params(&response);
        (param(&params, "code").expect("a code").to_owned(), verifier)
    }

    /// Posts to the token endpoint with client_secret_post.
    pub async fn token_form(&self, pairs: &[(&str, &str)]) -> reqwest::Response {
        let mut form: Vec<(&str, &str)> = pairs.to_vec();
        form.push(("client_id", &self.client_id));
        form.push(("client_secret", &self.client_secret));
        self.app
            .client
            .post(self.app.url("/oauth/token"))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    pub async fn exchange(&self, code: &str, verifier: &str) -> reqwest::Response {
        self.token_form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", verifier),
        ])
        .await
    }

    /// A full token response for `email` with `scope`.
    pub async fn tokens_for(&self, email: &str, scope: &str) -> Value {
        let (code, verifier) = self.code_for(email, scope).await;
        let response = self.exchange(&code, &verifier).await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    pub async fn refresh(&self, refresh_token: &str) -> reqwest::Response {
        self.token_form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .await
    }

    pub async fn me(&self, access_token: &str) -> reqwest::Response {
        self.app
            .client
            .get(self.app.url("/v1/me"))
            .bearer_auth(access_token)
            .send()
            .await
            .unwrap()
    }

    /// Posts `token` to revoke or introspect with client_secret_basic.
    pub async fn basic_post(&self, path: &str, pairs: &[(&str, &str)]) -> reqwest::Response {
        self.app
            .client
            .post(self.app.url(path))
            .basic_auth(&self.client_id, Some(&self.client_secret))
            .form(pairs)
            .send()
            .await
            .unwrap()
    }
}

pub async fn oauth_error(response: reqwest::Response) -> String {
    let body: Value = response.json().await.unwrap();
    body["error"].as_str().unwrap_or_default().to_owned()
}
