//! Client authentication at the token, revocation and introspection endpoints (RFC 6749 §2.3.1):
//! `client_secret_basic` or `client_secret_post` (Zapier's default), never both at once.

use super::errors::OAuthError;
use crate::credentials;
use crate::domain::ClientId;
use crate::storage::{OAuthClient, Storage};
use actix_web::http::header::{AUTHORIZATION, HeaderMap};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::fmt;

/// Where the client put its credentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Basic,
    Body,
}

/// A client id and secret as presented; the secret never prints.
#[derive(PartialEq, Eq)]
pub struct Presented {
    pub method: Method,
    pub client_id: String,
    secret: String,
}

impl fmt::Debug for Presented {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Presented")
            .field("method", &self.method)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// Reads the credentials from the `Authorization` header or the body parameters. Basic and a
/// body secret together are two methods (`invalid_request`, §2.3); a body `client_id` beside
/// Basic is tolerated when it names the same client. An `Authorization` header of another
/// scheme is not client authentication and is ignored: Zapier's usual middleware adds the
/// user's `Bearer` token to every request, refreshes included, and a 4xx on a refresh would
/// mark the user's connection stale.
pub fn presented(
    headers: &HeaderMap,
    body_id: Option<&str>,
    body_secret: Option<&str>,
) -> Result<Presented, OAuthError> {
    let basic = headers
        .get(AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or_default())
        .filter(|v| {
            v.split_once(' ')
                .is_none_or(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        })
        .map(parse_basic)
        .transpose()?;
    match (basic, body_secret) {
        (Some(_), Some(_)) => Err(OAuthError::invalid_request(
            "use one client authentication method: HTTP Basic or client_secret in the body, not both",
        )),
        (Some(basic), None) => match body_id {
            Some(id) if id != basic.client_id => Err(OAuthError::invalid_request(
                "client_id in the body differs from the HTTP Basic client",
            )),
            _ => Ok(basic),
        },
        (None, Some(secret)) => match body_id {
            Some(id) => Ok(Presented {
                method: Method::Body,
                client_id: id.to_owned(),
                secret: secret.to_owned(),
            }),
            None => Err(OAuthError::invalid_request("client_id is missing")),
        },
        (None, None) => Err(OAuthError::invalid_client(false)),
    }
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 §2.3.1 form-encodes both);
/// the caller has checked the scheme.
fn parse_basic(header: &str) -> Result<Presented, OAuthError> {
    let bad = || OAuthError::invalid_client(true);
    let (_basic, encoded) = header.split_once(' ').ok_or_else(bad)?;
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    Ok(Presented {
        method: Method::Basic,
        client_id: form_decode(id),
        secret: form_decode(secret),
    })
}

fn form_decode(raw: &str) -> String {
    url::form_urlencoded::parse(format!("x={raw}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Looks the client up and checks its secret in constant time. Unknown client and wrong
/// secret answer alike (401 `invalid_client`).
pub async fn authenticate(
    store: &dyn Storage,
    presented: &Presented,
) -> Result<OAuthClient, OAuthError> {
    let failed = || OAuthError::invalid_client(presented.method == Method::Basic);
    let id = ClientId::parse(&presented.client_id).ok_or_else(failed)?;
    let client = store.client(&id).await?.ok_or_else(failed)?;
    if credentials::secret_matches(&presented.secret, &client.secret_hash) {
        Ok(client)
    } else {
        Err(failed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    fn basic(raw: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let value = format!("Basic {}", STANDARD.encode(raw));
        headers.insert(AUTHORIZATION, HeaderValue::from_str(&value).unwrap());
        headers
    }

    #[test]
    fn a_bearer_header_beside_body_credentials_is_not_client_authentication() {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer eyJhbGciOi"));
        let p = presented(&headers, Some("cli_1"), Some("s3cret")).unwrap();
        assert_eq!(p.method, Method::Body);
        assert_eq!(p.client_id, "cli_1");
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let p = presented(&basic("cli_1:a%2Bb+c%3Ad"), None, None).unwrap();
        assert_eq!(p.method, Method::Basic);
        assert_eq!(p.client_id, "cli_1");
        assert_eq!(p.secret, "a+b c:d");
    }

    #[test]
    fn body_credentials_need_a_client_id() {
        let p = presented(&HeaderMap::new(), Some("cli_1"), Some("s")).unwrap();
        assert_eq!(p.method, Method::Body);
        let err = presented(&HeaderMap::new(), None, Some("s")).unwrap_err();
        assert_eq!(err.error(), "invalid_request");
    }

    #[test]
    fn basic_and_a_body_secret_together_are_refused() {
        let err = presented(&basic("cli_1:s"), Some("cli_1"), Some("s")).unwrap_err();
        assert_eq!(err.error(), "invalid_request");
    }

    #[test]
    fn a_body_client_id_beside_basic_must_name_the_same_client() {
        assert!(presented(&basic("cli_1:s"), Some("cli_1"), None).is_ok());
        let err = presented(&basic("cli_1:s"), Some("cli_2"), None).unwrap_err();
        assert_eq!(err.error(), "invalid_request");
    }

    #[test]
    fn no_credentials_at_all_is_an_invalid_client() {
        let err = presented(&HeaderMap::new(), Some("cli_1"), None).unwrap_err();
        assert_eq!(err.error(), "invalid_client");
    }

    #[test]
    fn malformed_basic_is_an_invalid_client() {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Basic !!!"));
        assert_eq!(
            presented(&headers, None, None).unwrap_err().error(),
            "invalid_client"
        );
    }

    #[test]
    fn the_secret_never_prints() {
        let p = presented(&basic("cli_1:hunter2"), None, None).unwrap();
        assert!(!format!("{p:?}").contains("hunter2"));
    }
}
