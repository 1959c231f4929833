//! `GET /v1/media/{id}` and `HEAD`: the audio of a voicemail or a call recording, streamed from
//! the source with the source's own credentials, so subscribers (Zapier's file hydration) get
//! the file without ever seeing the PBX's URL or keys.
//!
//! `fetch` opens the file at its source, `relay` passes it back without buffering it.

mod fetch;
mod relay;

use crate::error::ApiError;
use crate::http::AppState;
use crate::http::middleware::AskedHead;
use crate::oauth::{Authenticated, Scope};
use actix_web::http::Method;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};

/// The guard sits on the resource, as the route macros place it, so another method falls
/// through to the unmatched handler and its `405` with `Allow`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/v1/media/{id}")
            .guard(actix_web::guard::Get())
            .to(media),
    );
}

/// A media id as events print it: `med_` and 26 lowercase hex digits.
fn is_media_id(raw: &str) -> bool {
    raw.strip_prefix("med_").is_some_and(|hex| {
        hex.len() == 26
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// The audio file of a voicemail or recording. `Range` is passed to the source and its partial
/// answer (206, `Content-Range`) passed back; `HEAD` answers the headers alone.
#[utoipa::path(
    get,
    path = "/v1/media/{id}",
    operation_id = "getMedia",
    tag = "events",
    params(
        ("id" = String, Path, description = "The media id from an event's `media.url`", example = "med_3f9a0c2b7d4e81f6a5c09b2e7d"),
        ("Range" = Option<String>, Header, description = "A byte range (RFC 9110 §14.2), passed to the source"),
    ),
    security(("bearer" = []), ("oauth2" = ["calls:read"])),
    responses(
        (status = 200, description = "The whole file; `Content-Type` and `Content-Length` as the source gives them", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 206, description = "The requested range (`Content-Range`)", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 401, description = "No access token, or one that is invalid, expired or revoked (`WWW-Authenticate: Bearer`)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks a scope this request needs (`insufficient_scope`)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such file, or one of a call the caller may not see (`not_found`)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "The file is larger than `media_max_bytes` (`payload_too_large`)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 416, description = "The source cannot serve that range"),
        (status = 502, description = "The source refused, failed or is not set up to serve the file (`pbx_error`, `pbx_unreachable`, `pbx_misconfigured`)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 504, description = "The source did not answer in time (`pbx_timeout`)", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn media(
    auth: Authenticated,
    request: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Scope::CallsRead)?;
    let not_found = || ApiError::not_found("no such media file");
    if !is_media_id(&id) {
        return Err(not_found());
    }
    // The events rule: a user sees the calls they take part in; a tenant admin sees all.
    let viewer = if auth.scopes.contains(Scope::TenantAdmin) {
        None
    } else {
        Some(&auth.user_id)
    };
    let file = state
        .storage
        .media_file(&auth.tenant_id, &id, viewer)
        .await?
        .ok_or_else(not_found)?;
    let source = state
        .storage
        .source(&file.source_id)
        .await?
        .filter(|s| s.tenant_id == auth.tenant_id)
        .ok_or_else(not_found)?;
    // `HEAD` reaches handlers as `GET` (see `head_as_get`), marked.
    let method = if request.extensions().get::<AskedHead>().is_some() {
        Method::HEAD
    } else {
        Method::GET
    };
    let upstream = fetch::open(&state, &source, &file.media, &method, request.headers()).await?;
    relay::relay(
        upstream,
        &file.media,
        state.settings.media_max_bytes,
        &method,
    )
}

#[cfg(test)]
mod tests {
    use super::is_media_id;

    #[test]
    fn only_well_formed_media_ids_are_looked_up() {
        assert!(is_media_id("med_3f9a0c2b7d4e81f6a5c09b2e7d"));
        for bad in [
            "med_3f9a0c2b7d4e81f6a5c09b2e7",
            "med_3F9A0C2B7D4E81F6A5C09B2E7D",
            "med_%%9a0c2b7d4e81f6a5c09b2e7d",
            "evt_3f9a0c2b7d4e81f6a5c09b2e7d",
        ] {
            assert!(!is_media_id(bad), "{bad}");
        }
    }
}
