//! The bearer guard for `/v1/*` (RFC 6750): an extractor that yields who is calling and with
//! which scopes, or answers 401/403 with `WWW-Authenticate`.
//!
//! Access tokens are JWTs, so on their own they could not be revoked. After the signature and
//! expiry, the guard checks the token's grant (not revoked, user still there and still admin
//! for `tenant:admin`) and the grant's access-token denylist, through a small in-process cache.
//! Revocation on this instance clears the cache entry at once, so it takes effect on the next
//! request; another instance sharing the database sees it within `oauth_status_cache_seconds`.
//!
//! Usage in a handler:
//! ```ignore
//! async fn list(auth: Authenticated, ..) -> Result<HttpResponse, ApiError> {
//!     auth.require(Scope::CallsRead)?;
//!     // auth.user_id, auth.tenant_id, auth.is_admin …
//! }
//! ```

use super::scope::{Scope, ScopeSet};
use crate::domain::{ClientId, GrantId, TenantId, UserId};
use crate::error::{ApiError, ProblemCode};
use crate::http::AppState;
use crate::storage::{GrantStatus, Storage, StoreError, User};
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};
use chrono::{DateTime, Utc};
use dashmap::DashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A caller whose bearer token is valid right now.
#[derive(Clone, Debug)]
pub struct Authenticated {
    pub user_id: UserId,
    pub tenant_id: TenantId,
    pub client_id: ClientId,
    pub grant_id: GrantId,
    /// The token's scopes, less `tenant:admin` when the user is no longer an admin.
    pub scopes: ScopeSet,
    pub is_admin: bool,
    status: Arc<GrantStatus>,
}

impl Authenticated {
    /// 403 `insufficient_scope` (RFC 6750 §3.1) unless the token carries `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.scopes.contains(scope) {
            return Ok(());
        }
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ProblemCode::InsufficientScope,
            format!("this request needs the {scope} scope"),
        )
        .with_challenge(format!(
            "Bearer realm=\"ringhook\", error=\"insufficient_scope\", scope=\"{scope}\""
        )))
    }

    /// The user as loaded for this check (at most `oauth_status_cache_seconds` old).
    pub fn user(&self) -> &User {
        &self.status.user
    }

    pub fn tenant_name(&self) -> &str {
        &self.status.tenant_name
    }
}

fn missing_token() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        ProblemCode::Unauthorized,
        "send an access token in the Authorization header: Bearer <token>",
    )
    .with_challenge("Bearer realm=\"ringhook\"")
}

/// 401 with `error="invalid_token"`: Zapier refreshes only on a 401.
fn invalid_token(why: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, ProblemCode::InvalidToken, why).with_challenge(format!(
        "Bearer realm=\"ringhook\", error=\"invalid_token\", error_description=\"{why}\""
    ))
}

/// The bearer token from the header only (RFC 6750 §2.1; query tokens leak into logs).
fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

async fn authenticate(req: HttpRequest) -> Result<Authenticated, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("AppState is not registered")))?;
    let token = bearer(&req).ok_or_else(missing_token)?;
    let now = Utc::now();
    let oauth = &state.oauth;
    let verified = oauth
        .tokens
        .verify(&oauth.keys, token, now)
        .map_err(|e| invalid_token(&e.to_string()))?;
    let status = oauth
        .cache
        .get(state.storage.as_ref(), &verified.grant_id, now)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "cannot check grant status");
            ApiError::unavailable("cannot check the access token right now; retry shortly")
        })?
        .ok_or_else(|| invalid_token("the access token has been revoked"))?;
    let grant = &status.grant;
    let intact = grant.revoked_at.is_none()
        && grant.user_id == verified.user_id
        && grant.tenant_id == verified.tenant_id
        && grant.client_id == verified.client_id
        && !status.revoked_jtis.contains(&verified.jti);
    if !intact {
        return Err(invalid_token("the access token has been revoked"));
    }
    let is_admin = status.user.is_admin;
    Ok(Authenticated {
        user_id: verified.user_id,
        tenant_id: verified.tenant_id,
        client_id: verified.client_id,
        grant_id: verified.grant_id,
        scopes: verified.scope.allowed_for(is_admin),
        is_admin,
        status,
    })
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(authenticate(req.clone()))
    }
}

/// Recently loaded grant statuses, by grant. `None` entries remember grants that are gone.
pub struct StatusCache {
    entries: DashMap<GrantId, Entry>,
    ttl: Duration,
    /// Bumped by every invalidation: a load that raced one is not cached.
    epoch: AtomicU64,
}

struct Entry {
    status: Option<Arc<GrantStatus>>,
    loaded: Instant,
}

impl StatusCache {
    pub fn new(ttl: Duration) -> StatusCache {
        StatusCache {
            entries: DashMap::new(),
            ttl,
            epoch: AtomicU64::new(0),
        }
    }

    /// The grant's status, from the cache when fresh, else from the store.
    pub async fn get(
        &self,
        store: &dyn Storage,
        grant: &GrantId,
        now: DateTime<Utc>,
    ) -> Result<Option<Arc<GrantStatus>>, StoreError> {
        if let Some(entry) = self.entries.get(grant)
            && entry.loaded.elapsed() < self.ttl
        {
            return Ok(entry.status.clone());
        }
        let epoch = self.epoch.load(Ordering::Acquire);
        let status = store.grant_status(grant, now).await?.map(Arc::new);
        if !self.ttl.is_zero() && self.epoch.load(Ordering::Acquire) == epoch {
            self.entries.insert(
                grant.clone(),
                Entry {
                    status: status.clone(),
                    loaded: Instant::now(),
                },
            );
        }
        Ok(status)
    }

    /// Forgets a grant so that the next request re-reads it (after a revocation).
    pub fn invalidate(&self, grant: &GrantId) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.entries.remove(grant);
    }

    /// Drops entries past their time (called by the maintenance worker).
    pub fn evict_stale(&self) {
        self.entries.retain(|_, e| e.loaded.elapsed() < self.ttl);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
