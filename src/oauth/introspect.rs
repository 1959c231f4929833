//! `POST /oauth/introspect` (RFC 7662), for clients that want to ask about their own tokens.
//! The client authenticates; a token that is invalid, expired, revoked or another client's is
//! reported only as `{"active": false}` (§2.2).

use super::errors::{OAuthError, OAuthErrorBody};
use super::revoke::TokenQuery;
use super::token::{body_params, client};
use crate::credentials;
use crate::domain::{ClientId, TenantId, UserId};
use crate::http::AppState;
use actix_web::http::header::CACHE_CONTROL;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use serde::Serialize;
use utoipa::ToSchema;

/// RFC 7662 §2.2: an invalid, expired, revoked or another client's token is only
/// `{"active": false}`.
#[derive(Default, Serialize, ToSchema)]
pub struct Introspection {
    active: bool,
    /// `Bearer` for access tokens, `refresh_token` for refresh tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    client_id: Option<ClientId>,
    /// The user.
    #[serde(skip_serializing_if = "Option::is_none")]
    sub: Option<UserId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jti: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tenant_id: Option<TenantId>,
}

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
    let mut answer = Introspection::default();
    if let Ok(access) = oauth.tokens.verify(&oauth.keys, token, now) {
        let status = oauth
            .cache
            .get(state.storage.as_ref(), &access.grant_id, now)
            .await?;
        let active = status
            .is_some_and(|s| s.grant.revoked_at.is_none() && !s.revoked_jtis.contains(&access.jti))
            && access.client_id == client.id;
        if active {
            answer = Introspection {
                active: true,
                token_type: Some("Bearer"),
                scope: Some(access.scope.to_string()),
                client_id: Some(access.client_id),
                sub: Some(access.user_id),
                exp: Some(access.expires_at.timestamp()),
                iat: Some(access.issued_at.timestamp()),
                iss: Some(state.settings.public_base()),
                jti: Some(access.jti),
                tenant_id: Some(access.tenant_id),
            };
        }
    } else if let Some(record) = state
        .storage
        .refresh_token(&credentials::hash_secret(token))
        .await?
    {
        let grant = &record.grant;
        if grant.client_id == client.id && grant.revoked_at.is_none() && record.retired_at.is_none()
        {
            answer = Introspection {
                active: true,
                token_type: Some("refresh_token"),
                scope: Some(grant.scope.to_string()),
                client_id: Some(grant.client_id.clone()),
                sub: Some(grant.user_id.clone()),
                iat: Some(grant.created_at.timestamp()),
                tenant_id: Some(grant.tenant_id.clone()),
                ..Introspection::default()
            };
        }
    }
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .json(answer))
}
