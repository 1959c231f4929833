//! `POST /oauth/token` (RFC 6749 §4.1.3 and §6): the `authorization_code` and `refresh_token`
//! grants, from a form or a JSON body, answered with a flat JSON object and
//! `Cache-Control: no-store` (§5.1).

use super::client_auth;
use super::errors::{OAuthError, OAuthErrorBody};
use super::params::Params;
use super::scope::ScopeSet;
use super::{OAuthServer, pkce};
use crate::credentials;
use crate::domain::new_token;
use crate::http::AppState;
use crate::storage::{
    AuthCode, CodeExchange, CodeRefusal, Grant, OAuthClient, RefreshOutcome, RefreshRequest,
};
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE, PRAGMA};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// `POST /oauth/token` parameters (RFC 6749 §4.1.3, §6), as a form or a flat JSON object. The
/// client authenticates with HTTP Basic or with `client_id` and `client_secret` here.
// The handler reads them by name from `Params` (which also refuses repeated ones): this type
// only describes them.
#[derive(utoipa::ToSchema)]
pub struct TokenRequest {
    pub grant_type: GrantType,
    /// `authorization_code`: the code from the redirect.
    pub code: Option<String>,
    /// `authorization_code`: the PKCE verifier (RFC 7636) whose S256 digest was the challenge.
    pub code_verifier: Option<String>,
    /// `authorization_code`: required when the authorization request named one.
    pub redirect_uri: Option<String>,
    /// `refresh_token`: the refresh token.
    pub refresh_token: Option<String>,
    /// `refresh_token`: a narrower space-delimited scope.
    pub scope: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

// The grants the token endpoint serves.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
}

/// RFC 6749 §5.1, flat (Zapier stores every top-level key).
#[derive(Serialize, utoipa::ToSchema)]
struct TokenResponse {
    access_token: String,
    /// Always `Bearer`.
    #[schema(value_type = String, examples("Bearer"))]
    token_type: &'static str,
    /// Seconds until the access token expires.
    expires_in: i64,
    /// Rotated on every refresh; the previous one keeps working for a short grace window.
    refresh_token: String,
    /// The granted scopes, space-delimited (`tenant:admin` only for tenant admins).
    scope: String,
}

/// Reads the body as JSON when it says so, as a form otherwise.
pub(super) fn body_params(req: &HttpRequest, body: &[u8]) -> Result<Params, OAuthError> {
    let is_json = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    let params = if is_json {
        Params::from_json(body).map_err(OAuthError::invalid_request)?
    } else {
        Params::from_form(body)
    };
    if let Some(name) = params.first_repeated() {
        return Err(OAuthError::invalid_request(format!(
            "parameter {name} is repeated"
        )));
    }
    Ok(params)
}

/// Authenticates the client from the header or the body (RFC 6749 §2.3.1).
pub(super) async fn client(
    state: &AppState,
    req: &HttpRequest,
    params: &Params,
) -> Result<OAuthClient, OAuthError> {
    let presented = client_auth::presented(
        req.headers(),
        params.get("client_id"),
        params.get("client_secret"),
    )?;
    client_auth::authenticate(state.storage.as_ref(), &presented).await
}

/// The token endpoint: exchanges an authorization code (with its PKCE verifier) or a refresh
/// token for an access token (a JWT, RFC 9068) and a new refresh token.
#[utoipa::path(
    post,
    path = "/oauth/token",
    operation_id = "token",
    tag = "oauth",
    security((), ("client_basic" = [])),
    request_body(
        content(
            (TokenRequest = "application/x-www-form-urlencoded"),
            (TokenRequest = "application/json"),
        ),
    ),
    responses(
        (status = 200, description = "Tokens issued (`Cache-Control: no-store`)", body = TokenResponse),
        (status = 400, description = "A parameter is missing, repeated or malformed (`invalid_request`), the code or refresh token is not valid (`invalid_grant`), a refresh widens the scope (`invalid_scope`), or the grant type is not supported (`unsupported_grant_type`)", body = OAuthErrorBody),
        (status = 401, description = "Client authentication failed (`invalid_client`; `WWW-Authenticate: Basic` when Basic was used)", body = OAuthErrorBody),
        (status = 503, description = "A transient fault (`temporarily_unavailable`, `Retry-After`)", body = OAuthErrorBody),
    ),
)]
#[tracing::instrument(name = "oauth token", skip_all, fields(grant_type))]
pub async fn token(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    let params = body_params(&req, &body)?;
    let grant_type = params
        .get("grant_type")
        .ok_or_else(|| OAuthError::invalid_request("grant_type is missing"))?;
    tracing::Span::current().record("grant_type", grant_type);
    let client = client(&state, &req, &params).await?;
    let now = Utc::now();
    let response = match grant_type {
        "authorization_code" => authorization_code(&state, &client, &params, now).await?,
        "refresh_token" => refresh_token(&state, &client, &params, now).await?,
        other => return Err(OAuthError::unsupported_grant_type(other)),
    };
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header((PRAGMA, "no-cache"))
        .json(response))
}

fn respond(
    oauth: &OAuthServer,
    grant: &Grant,
    scope: ScopeSet,
    refresh_token: String,
    now: DateTime<Utc>,
) -> Result<TokenResponse, OAuthError> {
    let access_token = oauth
        .tokens
        .issue(&oauth.keys, grant, scope, now)
        .map_err(|e| {
            tracing::error!(error = %e, "cannot sign access token");
            OAuthError::temporarily_unavailable()
        })?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: oauth.tokens.lifetime().num_seconds(),
        refresh_token,
        scope: scope.to_string(),
    })
}

/// RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.5–4.6) and the RFC 9700 §4.8.2 downgrade check.
async fn authorization_code(
    state: &AppState,
    client: &OAuthClient,
    params: &Params,
    now: DateTime<Utc>,
) -> Result<TokenResponse, OAuthError> {
    let code = params
        .get("code")
        .ok_or_else(|| OAuthError::invalid_request("code is missing"))?;
    let verifier = params.get("code_verifier").ok_or_else(|| {
        OAuthError::invalid_request("code_verifier is missing (PKCE is required)")
    })?;
    let redirect_uri = params.get("redirect_uri");
    let refusal = |description: &str| CodeRefusal {
        error: "invalid_grant",
        description: description.to_owned(),
    };
    let check = |code: &AuthCode| -> Result<(), CodeRefusal> {
        if code.client_id != client.id {
            return Err(refusal("the code was issued to another client"));
        }
        if code.expires_at <= now {
            return Err(refusal("the code has expired"));
        }
        match (code.redirect_uri_given, redirect_uri) {
            (true, None) => {
                return Err(refusal(
                    "redirect_uri is required: the authorization request named it",
                ));
            }
            (_, Some(given)) if given != code.redirect_uri => {
                return Err(refusal(
                    "redirect_uri differs from the authorization request's",
                ));
            }
            _ => {}
        }
        match &code.code_challenge {
            None => Err(refusal(
                "the code was issued without PKCE; a code_verifier is not expected",
            )),
            Some(challenge) if pkce::verifies(verifier, challenge) => Ok(()),
            Some(_) => Err(refusal("code_verifier does not match the code_challenge")),
        }
    };
    let refresh = new_token(32);
    let outcome = state
        .storage
        .exchange_code(
            &credentials::hash_secret(code),
            &credentials::hash_secret(&refresh),
            now,
            &check,
        )
        .await?;
    match outcome {
        CodeExchange::Issued(grant) => respond(&state.oauth, &grant, grant.scope, refresh, now),
        CodeExchange::Refused(refusal) => Err(OAuthError::invalid_grant(refusal.description)),
        CodeExchange::Replayed { revoked } => {
            if let Some(grant_id) = revoked {
                tracing::warn!(grant = %grant_id, "authorization code replayed: grant revoked");
                state.oauth.cache.invalidate(&grant_id);
            }
            Err(OAuthError::invalid_grant(
                "the code was already used; tokens issued from it are revoked",
            ))
        }
        CodeExchange::Unknown => Err(OAuthError::invalid_grant("the code is not valid")),
    }
}

/// RFC 6749 §6 with rotation and a grace window (RFC 9700 §4.14.2): see `RefreshOutcome`.
async fn refresh_token(
    state: &AppState,
    client: &OAuthClient,
    params: &Params,
    now: DateTime<Utc>,
) -> Result<TokenResponse, OAuthError> {
    let presented = params
        .get("refresh_token")
        .ok_or_else(|| OAuthError::invalid_request("refresh_token is missing"))?;
    let scope = params
        .get("scope")
        .map(ScopeSet::parse)
        .transpose()
        .map_err(|e| OAuthError::invalid_scope(e.to_string()))?;
    let oauth = &state.oauth;
    let successor = oauth.keys.refresh_successor(presented);
    let request = RefreshRequest {
        token_hash: &credentials::hash_secret(presented),
        successor_hash: &credentials::hash_secret(&successor),
        client_id: &client.id,
        now,
        grace: oauth.refresh_grace,
        scope,
    };
    match state.storage.refresh(&request).await? {
        RefreshOutcome::Rotated {
            grant,
            user_is_admin,
        } => {
            let scope = scope.unwrap_or(grant.scope).allowed_for(user_is_admin);
            respond(oauth, &grant, scope, successor, now)
        }
        RefreshOutcome::Reused { revoked } => {
            tracing::warn!(grant = %revoked, "retired refresh token reused: grant revoked");
            oauth.cache.invalidate(&revoked);
            Err(OAuthError::invalid_grant(
                "the refresh token is no longer valid",
            ))
        }
        RefreshOutcome::ScopeNotGranted => Err(OAuthError::invalid_scope(
            "a refresh may only narrow the granted scope",
        )),
        RefreshOutcome::Invalid => Err(OAuthError::invalid_grant("the refresh token is not valid")),
    }
}
