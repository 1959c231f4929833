//! The OpenAPI 3.1 description of the HTTP API, assembled from the handlers' `#[utoipa::path]`
//! attributes and the `ToSchema` types each handler reads and answers (defined beside it).
//! This module only assembles: nothing under it is a wire type, and only start-up, the CLI and
//! the unmatched-route handler use it. `ringhook openapi` prints the document; the committed
//! copy is `openapi/openapi.json`, and a test fails when the two differ.

mod webhooks;

use crate::normalizer::model::CallEvent;
use crate::oauth::Scope;
use utoipa::openapi::path::{HttpMethod, PathItem, PathsBuilder};
use utoipa::openapi::security::{
    AuthorizationCode, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes, SecurityScheme,
};
use utoipa::{Modify, OpenApi, Path};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ringhook",
        description = "Turns phone-system call events into REST Hook triggers (Zapier first), \
            delivers them signed and durably, and places calls. Errors are \
            `application/problem+json` with a stable `code`, except on the OAuth endpoints, \
            which answer RFC 6749 error bodies.",
    ),
    paths(
        crate::ingest::endpoint::ingest,
        crate::oauth::authorize::show,
        crate::oauth::authorize::decide,
        crate::oauth::token::token,
        crate::oauth::revoke::revoke,
        crate::oauth::introspect::introspect,
        crate::oauth::metadata::metadata,
        crate::oauth::metadata::jwks,
        crate::oauth::me::me,
        crate::hooks::subscriptions::create,
        crate::hooks::subscriptions::list,
        crate::hooks::subscriptions::get,
        crate::hooks::subscriptions::delete,
        crate::hooks::deliveries::of_hook,
        crate::hooks::deliveries::retry,
        crate::hooks::events::list_events,
        crate::media::media,
        crate::hooks::events::list_users,
        crate::admin::api::show_tenant,
        crate::admin::api::update_tenant,
        crate::admin::api::list_users,
        crate::admin::api::show_user,
        crate::admin::api::update_user,
        crate::admin::api::delete_user,
        crate::admin::api::set_password,
        crate::admin::api::link_user,
        crate::admin::api::unlink_user,
        crate::admin::api::disable_user,
        crate::admin::api::enable_user,
        crate::admin::api::list_sources,
        crate::admin::api::show_source,
        crate::admin::api::update_source,
        crate::admin::api::rotate_source_secret,
        crate::admin::api::disable_source,
        crate::admin::api::enable_source,
        crate::admin::api::delete_source,
        crate::admin::api::list_audit,
        crate::admin::api_queues_hooks::list_queues,
        crate::admin::api_queues_hooks::name_queue,
        crate::admin::api_queues_hooks::delete_queue,
        crate::admin::api_queues_hooks::list_hooks,
        crate::admin::api_queues_hooks::enable_hook,
        crate::admin::api_queues_hooks::delete_hook,
        crate::actions::api::place,
        crate::actions::api::get,
        crate::http::ops::healthz,
        crate::http::ops::readyz,
        crate::http::ops::metrics,
    ),
    components(schemas(CallEvent)),
    modifiers(&Security, &Webhooks),
    tags(
        (name = "ingest", description = "Phone systems push raw call events"),
        (name = "oauth", description = "The OAuth2 authorization server (RFC 6749, 7636, 7009, 7662, 8414)"),
        (name = "hooks", description = "REST Hook subscriptions and their deliveries"),
        (name = "events", description = "Recent call events and the tenant's users"),
        (name = "calls", description = "Click-to-call"),
        (name = "admin", description = "A tenant admin's day-two operations on their own tenant (`tenant:admin`)"),
        (name = "operations", description = "Health, readiness and metrics"),
    ),
)]
pub struct ApiDoc;

/// The security schemes: bearer access tokens obtained with the authorization code flow, and
/// HTTP Basic client authentication at the token, revocation and introspection endpoints.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An access token from `/oauth/token`, in the Authorization header only",
                    ))
                    .build(),
            ),
        );
        let scopes = Scopes::from_iter(Scope::ALL.into_iter().map(|s| (s.as_str(), s.describe())));
        components.add_security_scheme(
            "oauth2",
            SecurityScheme::OAuth2(OAuth2::with_description(
                [Flow::AuthorizationCode(
                    AuthorizationCode::with_refresh_url(
                        "/oauth/authorize",
                        "/oauth/token",
                        scopes,
                        "/oauth/token",
                    ),
                )],
                "Authorization code grant with PKCE (S256 only). `tenant:admin` is granted to \
                 tenant admins only.",
            )),
        );
        components.add_security_scheme(
            "client_basic",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some(
                        "Client id and secret (RFC 6749 §2.3.1); or `client_id` and \
                         `client_secret` in the body",
                    ))
                    .build(),
            ),
        );
    }
}

/// The webhook deliveries hooks receive (OpenAPI 3.1 `webhooks`).
struct Webhooks;

impl Modify for Webhooks {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        type Delivery = webhooks::__path_call_event;
        let item = PathItem::new(HttpMethod::Post, Delivery::operation());
        openapi.webhooks = Some(PathsBuilder::new().path(Delivery::path(), item).build());
    }
}

/// The document as the code describes it.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc
}

/// The document as committed in `openapi/openapi.json`: pretty JSON with a final newline.
pub fn to_json() -> String {
    let mut json = document()
        .to_pretty_json()
        .unwrap_or_else(|e| unreachable!("the OpenAPI document always serializes: {e}"));
    json.push('\n');
    json
}
