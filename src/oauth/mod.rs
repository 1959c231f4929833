//! ringhook's OAuth2 authorization server (RFC 6749 with PKCE, RFC 7636; revocation, RFC 7009;
//! introspection, RFC 7662; metadata, RFC 8414; JWT access tokens, RFC 9068; following the
//! security BCP, RFC 9700) and the bearer guard that protects `/v1/*`.

pub mod authorize;
pub mod client_auth;
pub mod errors;
pub mod guard;
pub mod introspect;
pub mod keys;
pub mod maintenance;
pub mod me;
pub mod metadata;
pub mod pages;
pub mod params;
pub mod pkce;
pub mod revoke;
pub mod scope;
pub mod session;
pub mod sign_in;
pub mod throttle;
pub mod token;
pub mod tokens;

pub use guard::Authenticated;
pub use scope::{Scope, ScopeSet};

use crate::config::Settings;
use crate::storage::Storage;
use actix_web::web;
use chrono::{Duration, Utc};

/// What the OAuth endpoints and the guard share: keys, token settings and the status cache.
pub struct OAuthServer {
    pub keys: keys::KeyRing,
    pub tokens: tokens::AccessTokens,
    pub cache: guard::StatusCache,
    pub code_lifetime: Duration,
    pub refresh_grace: Duration,
    /// Cookies get `Secure` when the public URL is https.
    pub secure_cookies: bool,
    /// Wrong passwords per account and per address.
    pub sign_in_throttle: throttle::SignInThrottle,
}

impl OAuthServer {
    /// Loads (or on first start creates) the keys from the store.
    pub async fn start(
        settings: &Settings,
        store: &dyn Storage,
    ) -> Result<OAuthServer, keys::KeyError> {
        let seconds = |s: u64| Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX));
        let issuer = settings.public_base();
        Ok(OAuthServer {
            keys: keys::KeyRing::load_or_create(store, Utc::now()).await?,
            tokens: tokens::AccessTokens::new(
                &issuer,
                seconds(settings.oauth_access_token_seconds),
            ),
            cache: guard::StatusCache::new(std::time::Duration::from_secs(
                settings.oauth_status_cache_seconds,
            )),
            code_lifetime: seconds(settings.oauth_code_seconds),
            refresh_grace: seconds(settings.oauth_refresh_grace_seconds),
            secure_cookies: issuer.starts_with("https://"),
            sign_in_throttle: throttle::SignInThrottle::default(),
        })
    }
}

/// The OAuth endpoints and `/v1/me`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/oauth/authorize", web::get().to(authorize::show))
        .route("/oauth/authorize", web::post().to(authorize::decide))
        .route("/oauth/token", web::post().to(token::token))
        .route("/oauth/revoke", web::post().to(revoke::revoke))
        .route("/oauth/introspect", web::post().to(introspect::introspect))
        .route("/oauth/jwks", web::get().to(metadata::jwks))
        .route(
            "/.well-known/oauth-authorization-server",
            web::get().to(metadata::metadata),
        )
        .route("/v1/me", web::get().to(me::me));
}
