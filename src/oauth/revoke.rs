//! `POST /oauth/revoke` (RFC 7009). The client authenticates; the answer is 200 whether or not
//! the token was known (§2.2), and a token of another client is left alone without saying so.
//! Revoking a refresh token ends its grant: every access token of the grant stops working and
//! the grant's REST hooks are disabled (see the store's `grant_revoked`). Revoking an access
//! token denylists that token only.

use super::errors::OAuthError;
use super::token::{body_params, client};
use crate::credentials;
use crate::http::AppState;
use crate::openapi::bodies::{OAuthErrorBody, TokenQuery};
use actix_web::http::header::CACHE_CONTROL;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;

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
