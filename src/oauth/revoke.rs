//! `POST /oauth/revoke` (RFC 7009). The client authenticates; the answer is 200 whether or not
//! the token was known (§2.2), and a token of another client is left alone without saying so.
//! Revoking a refresh token ends its grant: every access token of the grant stops working and
//! the grant's REST hooks are disabled (see the store's `grant_revoked`). Revoking an access
//! token denylists that token only.

use super::errors::{OAuthError, OAuthErrorBody};
use super::token::{body_params, client};
use crate::credentials;
use crate::http::AppState;
use actix_web::http::header::CACHE_CONTROL;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use utoipa::ToSchema;

/// `POST /oauth/revoke` (RFC 7009 §2.1) and `POST /oauth/introspect` (RFC 7662 §2.1)
/// parameters. The client authenticates as at the token endpoint.
// The handlers read them by name from `Params` (which also refuses repeated ones): this type
// only describes them, so its fields are public to the document rather than read here.
#[derive(ToSchema)]
pub struct TokenQuery {
    pub token: String,
    /// Only orders the lookups; both kinds of token are tried.
    pub token_type_hint: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

/// Revokes a token of the calling client (RFC 7009). A refresh token ends its whole grant.
#[utoipa::path(
    post,
    path = "/oauth/revoke",
    operation_id = "revoke",
    tag = "oauth",
    security((), ("client_basic" = [])),
    request_body(
        content(
            (TokenQuery = "application/x-www-form-urlencoded"),
            (TokenQuery = "application/json"),
        ),
    ),
    responses(
        (status = 200, description = "Revoked, or there was nothing of this client's to revoke"),
        (status = 400, description = "A parameter is missing, repeated or malformed (`invalid_request`)", body = OAuthErrorBody),
        (status = 401, description = "Client authentication failed (`invalid_client`; `WWW-Authenticate: Basic` when Basic was used)", body = OAuthErrorBody),
        (status = 503, description = "A transient fault (`temporarily_unavailable`, `Retry-After`)", body = OAuthErrorBody),
    ),
)]
#[tracing::instrument(name = "oauth revoke", skip_all)]
pub async fn revoke(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    let params = body_params(&req, &body)?;
    let client = client(&state, &req, &params).await?;
    let token = params
        .get("token")
        .ok_or_else(|| OAuthError::invalid_request("token is missing"))?;
    let now = Utc::now();
    let oauth = &state.oauth;
    // The hint only orders the lookups (§2.1); both kinds are tried.
    if let Ok(access) = oauth.tokens.verify(&oauth.keys, token, now) {
        if access.client_id == client.id {
            state
                .storage
                .revoke_access_token(&access.jti, &access.grant_id, access.expires_at)
                .await?;
            oauth.cache.invalidate(&access.grant_id);
        }
    } else if let Some(record) = state
        .storage
        .refresh_token(&credentials::hash_secret(token))
        .await?
        && record.grant.client_id == client.id
    {
        state.storage.revoke_grant(&record.grant.id, now).await?;
        oauth.cache.invalidate(&record.grant.id);
    }
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .finish())
}
