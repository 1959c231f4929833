//! `GET /.well-known/oauth-authorization-server` (RFC 8414) and the JWKS it points to, so
//! clients and resource servers can discover the endpoints and verify access tokens.

use super::scope::Scope;
use crate::http::AppState;
use crate::openapi::bodies::{Jwks, ServerMetadata};
use actix_web::http::header::CACHE_CONTROL;
use actix_web::{HttpResponse, web};
use serde_json::json;

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
        .json(json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/oauth/authorize"),
            "token_endpoint": format!("{issuer}/oauth/token"),
            "revocation_endpoint": format!("{issuer}/oauth/revoke"),
            "introspection_endpoint": format!("{issuer}/oauth/introspect"),
            "jwks_uri": format!("{issuer}/oauth/jwks"),
            "scopes_supported": scopes,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }))
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
