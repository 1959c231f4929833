//! `GET /.well-known/oauth-authorization-server` (RFC 8414) and the JWKS it points to, so
//! clients and resource servers can discover the endpoints and verify access tokens.

use super::scope::Scope;
use crate::http::AppState;
use actix_web::http::header::CACHE_CONTROL;
use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

/// RFC 8414 authorization server metadata.
#[derive(Serialize, ToSchema)]
pub struct ServerMetadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    revocation_endpoint: String,
    introspection_endpoint: String,
    jwks_uri: String,
    scopes_supported: Vec<&'static str>,
    response_types_supported: Vec<&'static str>,
    response_modes_supported: Vec<&'static str>,
    grant_types_supported: Vec<&'static str>,
    code_challenge_methods_supported: Vec<&'static str>,
    token_endpoint_auth_methods_supported: Vec<&'static str>,
    revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    introspection_endpoint_auth_methods_supported: Vec<&'static str>,
}

/// The client authentication methods of the token, revocation and introspection endpoints
/// (RFC 6749 §2.3.1: HTTP Basic or the body).
const CLIENT_AUTH_METHODS: [&str; 2] = ["client_secret_basic", "client_secret_post"];

/// The public keys that verify access tokens (RFC 7517).
#[derive(Debug, PartialEq, Serialize, ToSchema)]
pub struct Jwks {
    pub(super) keys: Vec<PublicJwk>,
}

/// An Ed25519 public key (RFC 8037).
#[derive(Debug, PartialEq, Serialize, ToSchema)]
#[schema(as = Jwk)]
pub struct PublicJwk {
    kty: &'static str,
    crv: &'static str,
    /// The public key, base64url.
    x: String,
    kid: String,
    alg: &'static str,
    #[serde(rename = "use")]
    usage: &'static str,
}

impl PublicJwk {
    /// A signature-verifying EdDSA key.
    pub(super) fn ed25519(kid: &str, x: &str) -> PublicJwk {
        PublicJwk {
            kty: "OKP",
            crv: "Ed25519",
            x: x.to_owned(),
            kid: kid.to_owned(),
            alg: "EdDSA",
            usage: "sig",
        }
    }
}

/// Authorization server metadata (RFC 8414).
///
/// The issuer is the bare public URL (no path), so the well-known URL needs no path insertion
/// (RFC 8414 §3.1).
#[utoipa::path(
    get,
    path = "/.well-known/oauth-authorization-server",
    operation_id = "authorizationServerMetadata",
    tag = "oauth",
    responses((status = 200, description = "The server's endpoints and capabilities", body = ServerMetadata)),
)]
pub async fn metadata(state: web::Data<AppState>) -> HttpResponse {
    let issuer = state.settings.public_base();
    let scopes: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
    HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "public, max-age=3600"))
        .json(ServerMetadata {
            authorization_endpoint: format!("{issuer}/oauth/authorize"),
            token_endpoint: format!("{issuer}/oauth/token"),
            revocation_endpoint: format!("{issuer}/oauth/revoke"),
            introspection_endpoint: format!("{issuer}/oauth/introspect"),
            jwks_uri: format!("{issuer}/oauth/jwks"),
            issuer,
            scopes_supported: scopes,
            response_types_supported: vec!["code"],
            response_modes_supported: vec!["query"],
            grant_types_supported: vec!["authorization_code", "refresh_token"],
            code_challenge_methods_supported: vec!["S256"],
            token_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS.to_vec(),
            revocation_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS.to_vec(),
            introspection_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS.to_vec(),
        })
}

/// The public keys that verify access tokens (RFC 7517).
#[utoipa::path(
    get,
    path = "/oauth/jwks",
    operation_id = "jwks",
    tag = "oauth",
    responses((status = 200, description = "The JSON Web Key Set", body = Jwks)),
)]
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "public, max-age=300"))
        .json(state.oauth.keys.jwks())
}
