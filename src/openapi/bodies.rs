//! Request and response bodies that the handlers read or build without a Rust type of their
//! own (`json!` answers, OAuth parameters read by name). These types exist only to describe
//! them; `openapi/check.sh` holds the live server to them.
#![allow(dead_code)]

use crate::domain::{EmailAddress, TenantId, UserId};
use crate::ingest::UrlValidationResponse;
use crate::oauth::ScopeSet;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// An RFC 9457 problem: every error outside the OAuth endpoints.
#[derive(Serialize, ToSchema)]
#[schema(examples(json!({
    "type": "https://ringhook.dev/problems/not_found",
    "title": "Not Found",
    "status": 404,
    "code": "not_found",
    "detail": "no such hook"
})))]
pub struct Problem {
    /// `https://ringhook.dev/problems/{code}`.
    #[serde(rename = "type")]
    #[schema(format = "uri")]
    kind: String,
    /// The status's reason phrase.
    title: String,
    status: u16,
    /// Stable, machine-readable: `not_found`, `invalid_token`, `insufficient_scope`,
    /// `invalid_event`, `invalid_target`, `rate_limited`, ...
    code: String,
    /// What went wrong, for a human.
    detail: String,
}

/// An RFC 6749 §5.2 error body (token, revocation and introspection endpoints).
#[derive(Serialize, ToSchema)]
pub struct OAuthErrorBody {
    error: OAuthErrorCode,
    error_description: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OAuthErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    InvalidScope,
    UnsupportedGrantType,
    TemporarilyUnavailable,
}

/// `GET /healthz`.
#[derive(Serialize, ToSchema)]
pub struct Health {
    status: HealthStatus,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Ok,
}

/// `GET /readyz`.
#[derive(Serialize, ToSchema)]
pub struct Readiness {
    status: ReadyStatus,
    database: HealthStatus,
    /// The socket sources (Asterisk AMI, FreeSWITCH ESL) this process holds the connection
    /// of, by source id; absent when it holds none.
    #[schema(value_type = Option<std::collections::BTreeMap<String, crate::pbx::status::SourceHealth>>)]
    pbx: Option<std::collections::BTreeMap<String, crate::pbx::status::SourceHealth>>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReadyStatus {
    Ready,
}

/// `GET /v1/me`: who the access token acts for.
#[derive(Serialize, ToSchema)]
pub struct Me {
    id: UserId,
    email: EmailAddress,
    name: String,
    extension: Option<String>,
    tenant: MeTenant,
    scopes: ScopeSet,
}

#[derive(Serialize, ToSchema)]
pub struct MeTenant {
    id: TenantId,
    name: String,
}

/// What an ingest request is answered: the events were applied, or the event type is not
/// one ringhook uses, or (Zoom) the endpoint check's answer.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum IngestAnswer {
    Accepted(IngestAccepted),
    Ignored(IngestIgnored),
    UrlValidation(UrlValidationResponse),
}

/// The events were committed (or were duplicates of committed ones).
#[derive(Serialize, ToSchema)]
pub struct IngestAccepted {
    status: AcceptedStatus,
    /// Raw events applied to the call state machine.
    applied: u64,
    /// Raw events already seen (a source's retry).
    duplicates: u64,
    /// The call event types this request produced.
    triggers: Vec<crate::normalizer::model::EventType>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AcceptedStatus {
    Accepted,
}

/// A well-formed event of a type ringhook has no use for; nothing was stored.
#[derive(Serialize, ToSchema)]
pub struct IngestIgnored {
    status: IgnoredStatus,
    /// The source's event name.
    event: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum IgnoredStatus {
    Ignored,
}

/// `POST /oauth/token` parameters (RFC 6749 §4.1.3, §6), as a form or a flat JSON object. The
/// client authenticates with HTTP Basic or with `client_id` and `client_secret` here.
#[derive(Serialize, ToSchema)]
pub struct TokenRequest {
    grant_type: GrantType,
    /// `authorization_code`: the code from the redirect.
    code: Option<String>,
    /// `authorization_code`: the PKCE verifier (RFC 7636) whose S256 digest was the challenge.
    code_verifier: Option<String>,
    /// `authorization_code`: required when the authorization request named one.
    redirect_uri: Option<String>,
    /// `refresh_token`: the refresh token.
    refresh_token: Option<String>,
    /// `refresh_token`: a narrower space-delimited scope.
    scope: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
}

/// `POST /oauth/revoke` (RFC 7009 §2.1) and `POST /oauth/introspect` (RFC 7662 §2.1)
/// parameters. The client authenticates as at the token endpoint.
#[derive(Serialize, ToSchema)]
pub struct TokenQuery {
    token: String,
    /// Only orders the lookups; both kinds of token are tried.
    token_type_hint: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// RFC 7662 §2.2: an invalid, expired, revoked or another client's token is only
/// `{"active": false}`.
#[derive(Serialize, ToSchema)]
pub struct Introspection {
    active: bool,
    /// `Bearer` for access tokens, `refresh_token` for refresh tokens.
    token_type: Option<String>,
    scope: Option<String>,
    client_id: Option<String>,
    /// The user.
    sub: Option<UserId>,
    exp: Option<i64>,
    iat: Option<i64>,
    iss: Option<String>,
    jti: Option<String>,
    tenant_id: Option<TenantId>,
}

/// RFC 8414 authorization server metadata.
#[derive(Serialize, ToSchema)]
pub struct ServerMetadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    revocation_endpoint: String,
    introspection_endpoint: String,
    jwks_uri: String,
    scopes_supported: Vec<String>,
    response_types_supported: Vec<String>,
    response_modes_supported: Vec<String>,
    grant_types_supported: Vec<String>,
    code_challenge_methods_supported: Vec<String>,
    token_endpoint_auth_methods_supported: Vec<String>,
    revocation_endpoint_auth_methods_supported: Vec<String>,
    introspection_endpoint_auth_methods_supported: Vec<String>,
}

/// The public keys that verify access tokens (RFC 7517).
#[derive(Serialize, ToSchema)]
pub struct Jwks {
    keys: Vec<Jwk>,
}

/// An Ed25519 public key (RFC 8037).
#[derive(Serialize, ToSchema)]
pub struct Jwk {
    kty: String,
    crv: String,
    /// The public key, base64url.
    x: String,
    kid: String,
    alg: String,
    #[serde(rename = "use")]
    usage: String,
}

/// `GET /oauth/authorize` (RFC 6749 §4.1.1 with PKCE, RFC 7636 §4.3).
#[derive(Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuthorizeParams {
    /// Must be `code`.
    response_type: Option<String>,
    client_id: Option<String>,
    /// One of the client's registered URIs, compared exactly; optional when it has only one.
    redirect_uri: Option<String>,
    /// Space-delimited; `calls:read` when absent.
    scope: Option<String>,
    /// Echoed to the redirect URI.
    state: Option<String>,
    /// base64url SHA-256 of the client's code verifier.
    code_challenge: Option<String>,
    /// Must be `S256`.
    code_challenge_method: Option<String>,
}

/// The consent form `GET /oauth/authorize` shows: the request's parameters as hidden inputs,
/// a CSRF token that must match the `ringhook_csrf` cookie, the credentials of a user who is
/// not signed in, and the user's decision.
#[derive(Serialize, ToSchema)]
pub struct ConsentForm {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    csrf_token: Option<String>,
    email: Option<String>,
    password: Option<String>,
    /// `allow` issues a code; anything else denies.
    decision: Option<String>,
}
