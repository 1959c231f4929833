//! `POST /oauth/introspect` (RFC 7662), for clients that want to ask about their own tokens.
//! The client authenticates; a token that is invalid, expired, revoked or another client's is
//! reported only as `{"active": false}` (§2.2).

use super::errors::OAuthError;
use super::token::{body_params, client};
use crate::credentials;
use crate::http::AppState;
use crate::openapi::bodies::{Introspection, OAuthErrorBody, TokenQuery};
use actix_web::http::header::CACHE_CONTROL;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use serde_json::json;

/// Tells the calling client whether one of its tokens is active (RFC 7662).
#[utoipa::path(
    post,
    path = "/oauth/introspect",
    operation_id = "introspect",
    tag = "oauth",
    security((), ("client_basic" = [])),
    request_body(
        content(
            (TokenQuery = "application/x-www-form-urlencoded"),
            (TokenQuery = "application/json"),
        ),
    ),
    responses(
        (status = 200, description = "The token's state", body = Introspection),
        (status = 400, description = "A parameter is missing, repeated or malformed (`invalid_request`)", body = OAuthErrorBody),
        (status = 401, description = "Client authentication failed (`invalid_client`; `WWW-Authenticate: Basic` when Basic was used)", body = OAuthErrorBody),
        (status = 503, description = "A transient fault (`temporarily_unavailable`, `Retry-After`)", body = OAuthErrorBody),
    ),
)]
#[tracing::instrument(name = "oauth introspect", skip_all)]
pub async fn introspect(
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
    let mut answer = json!({"active": false});
    if let Ok(access) = oauth.tokens.verify(&oauth.keys, token, now) {
        let status = oauth
            .cache
            .get(state.storage.as_ref(), &access.grant_id, now)
            .await?;
        let active = status
            .is_some_and(|s| s.grant.revoked_at.is_none() && !s.revoked_jtis.contains(&access.jti))
            && access.client_id == client.id;
        if active {
            answer = json!({
                "active": true,
                "token_type": "Bearer",
                "scope": access.scope.to_string(),
                "client_id": access.client_id,
                "sub": access.user_id,
                "exp": access.expires_at.timestamp(),
                "iat": access.issued_at.timestamp(),
                "iss": state.settings.public_base(),
                "jti": access.jti,
                "tenant_id": access.tenant_id,
            });
        }
    } else if let Some(record) = state
        .storage
        .refresh_token(&credentials::hash_secret(token))
        .await?
    {
        let grant = &record.grant;
        if grant.client_id == client.id && grant.revoked_at.is_none() && record.retired_at.is_none()
        {
            answer = json!({
                "active": true,
                "token_type": "refresh_token",
                "scope": grant.scope.to_string(),
                "client_id": grant.client_id,
                "sub": grant.user_id,
                "iat": grant.created_at.timestamp(),
                "tenant_id": grant.tenant_id,
            });
        }
    }
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .json(answer))
}
