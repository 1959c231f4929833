//! Sources (admins only): each source with its ingest URL, and rotating its secret (the new
//! secret is shown once; the old one keeps working for the grace period).

use super::overview::{SourceLine, source_lines};
use super::viewer::{self, Nav, Refused, respond};
use crate::admin::AdminError;
use crate::admin::operator::Operator;
use crate::admin::source_ops;
use crate::domain::SourceId;
use crate::http::AppState;
use crate::oauth::params::Params;
use crate::storage::StoreError;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;

#[derive(Template)]
#[template(path = "console/sources.html")]
struct SourcesPage<'a> {
    nav: Nav<'a>,
    sources: Vec<SourceLine>,
    /// `(source, new secret, ingest URL)` right after a rotation.
    rotated: Option<(String, String, String)>,
    error: Option<String>,
}

#[get("/console/sources")]
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    respond(
        async {
            let viewer = viewer::admin(&state, &req).await?;
            let sources = source_lines(&state, &viewer).await?;
            Ok(viewer.page(&SourcesPage {
                nav: viewer.nav(&state, "sources"),
                sources,
                rotated: None,
                error: None,
            }))
        }
        .await,
    )
}

#[post("/console/sources/{id}/rotate-secret")]
pub async fn rotate(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    respond(
        async {
            let form = Params::from_form(&body);
            let viewer = viewer::admin_poster(&state, &req, &form).await?;
            let id = SourceId::parse(&path).ok_or(Refused::NotFound)?;
            let op = Operator::new(
                state.storage.as_ref(),
                viewer.user.id.to_string(),
                &state.settings,
            );
            let (rotated, error) =
                match source_ops::rotate_secret(&op, &viewer.user.tenant_id, &id, None).await {
                    Ok(view) => {
                        let text = |key: &str| view[key].as_str().unwrap_or_default().to_owned();
                        (
                            Some((id.to_string(), text("secret"), text("ingest_url"))),
                            None,
                        )
                    }
                    Err(AdminError::Invalid(why)) => (None, Some(why)),
                    Err(AdminError::Store(StoreError::NotFound(_))) => {
                        return Err(Refused::NotFound);
                    }
                    Err(other) => {
                        tracing::error!(error = %other, "console: cannot rotate a source secret");
                        return Err(Refused::Unavailable);
                    }
                };
            let sources = source_lines(&state, &viewer).await?;
            Ok(viewer.page(&SourcesPage {
                nav: viewer.nav(&state, "sources"),
                sources,
                rotated,
                error,
            }))
        }
        .await,
    )
}
