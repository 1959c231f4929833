//! The admin's first page: each source with its ingest URL, the hooks that fail or are
//! disabled, and the calls in progress. Admins only; everyone else starts on their hooks.

use super::calls::{CallLine, Narrowed, call_page};
use super::hooks::{HookLine, hook_lines};
use super::viewer::{self, Nav, Refused, redirect, respond};
use crate::admin::operator::Operator;
use crate::admin::source_ops;
use crate::http::AppState;
use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;
use serde_json::Value;

/// A source as the overview and the sources page show it.
pub struct SourceLine {
    pub id: String,
    pub kind: String,
    pub ingest_url: String,
    pub token_in_url: bool,
    pub disabled: bool,
    pub grace_until: String,
    /// When its last raw event arrived (empty: none kept).
    pub last_event: String,
    /// Raw events received in the last 24 hours.
    pub events_24h: i64,
    /// Requests refused for a bad signature, token or timestamp in the last 24 hours
    /// (counted by the hour).
    pub refused_24h: i64,
    /// When the last of those came, and which check it failed (empty: none).
    pub last_refused: String,
    pub last_refused_reason: String,
}

/// How the overview writes times.
const TIME: &str = "%Y-%m-%d %H:%M:%S UTC";

fn text(value: &Value, key: &str) -> String {
    match &value[key] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The tenant's sources, through the admin operations the CLI and the admin API use.
pub async fn source_lines(
    state: &AppState,
    viewer: &viewer::Viewer,
) -> Result<Vec<SourceLine>, Refused> {
    let op = Operator::new(
        state.storage.as_ref(),
        viewer.user.id.to_string(),
        &state.settings,
    );
    let listed = source_ops::list_sources(&op, &viewer.user.tenant_id)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "console: cannot list sources");
            Refused::Unavailable
        })?;
    Ok(listed["sources"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|s| SourceLine {
            id: text(s, "id"),
            kind: text(s, "kind"),
            ingest_url: text(s, "ingest_url"),
            token_in_url: s["token_in_url"].as_bool().unwrap_or(false),
            disabled: s["disabled"].as_bool().unwrap_or(false),
            grace_until: text(s, "previous_secret_valid_until"),
            last_event: String::new(),
            events_24h: 0,
            refused_24h: 0,
            last_refused: String::new(),
            last_refused_reason: String::new(),
        })
        .collect::<Vec<_>>())
}

#[derive(Template)]
#[template(path = "console/overview.html")]
struct OverviewPage<'a> {
    nav: Nav<'a>,
    sources: Vec<SourceLine>,
    failing: Vec<HookLine>,
    in_progress: Vec<CallLine>,
}

#[get("/console")]
pub async fn overview(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    respond(
        async {
            let viewer = match viewer::admin(&state, &req).await {
                Err(Refused::Forbidden) => return Ok(redirect("/console/hooks")),
                other => other?,
            };
            let mut sources = source_lines(&state, &viewer).await?;
            let since = chrono::Utc::now() - chrono::Duration::hours(24);
            let activity = state
                .storage
                .source_activity(&viewer.user.tenant_id, since)
                .await?;
            let refusals = state
                .storage
                .refusals_since(&viewer.user.tenant_id, since)
                .await?;
            for line in &mut sources {
                if let Some(a) = activity.iter().find(|a| a.source_id == line.id) {
                    line.events_24h = a.received_since;
                    line.last_event = a
                        .last_received_at
                        .map(|t| t.format(TIME).to_string())
                        .unwrap_or_default();
                }
                if let Some(r) = refusals.iter().find(|r| r.source_id == line.id) {
                    line.refused_24h = r.refused;
                    line.last_refused = r.last_refused_at.format(TIME).to_string();
                    line.last_refused_reason = r.last_reason.clone();
                }
            }
            let failing = hook_lines(&state, &viewer)
                .await?
                .into_iter()
                .filter(HookLine::failing)
                .collect();
            let in_progress = call_page(&state, &viewer, Narrowed::default(), None)
                .await?
                .0
                .into_iter()
                .filter(|c| !c.ended)
                .collect();
            Ok(viewer.page(&OverviewPage {
                nav: viewer.nav(&state, "overview"),
                sources,
                failing,
                in_progress,
            }))
        }
        .await,
    )
}
