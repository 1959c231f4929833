//! Calls: the tenant's latest calls, refreshed live by the page's script, filtered by user,
//! number and trigger type; one call's page lists the triggers it emitted and, for each, the
//! hooks it was delivered to and how that went. Admins only.

use super::viewer::{self, Nav, Refused, Viewer, respond};
use crate::domain::{E164Number, UserId};
use crate::http::AppState;
use crate::normalizer::CallEvent;
use crate::normalizer::model::{EventType, Party, PartyKind};
use crate::storage::EventQuery;
use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;

/// How many recent triggers the calls list and the overview read.
pub const RECENT_EVENTS: u32 = 500;

/// A party in one short phrase; a phone no user is linked to says so.
pub fn party(p: &Party) -> String {
    let number = p
        .number
        .as_ref()
        .map(|n| n.as_str().to_owned())
        .or_else(|| p.raw_number.clone());
    let words = match (&p.name, &p.extension, number) {
        (Some(name), Some(ext), _) => format!("{name} (ext {ext})"),
        (Some(name), None, Some(number)) => format!("{name} ({number})"),
        (Some(name), None, None) => name.clone(),
        (None, Some(ext), _) => format!("ext {ext}"),
        (None, None, Some(number)) => number,
        (None, None, None) if p.kind == PartyKind::Queue => "a queue".to_owned(),
        (None, None, None) => "unknown".to_owned(),
    };
    if p.kind == PartyKind::Unknown && p.extension.is_some() {
        format!("{words} · not linked")
    } else {
        words
    }
}

/// One call, from its newest trigger.
pub struct CallLine {
    pub id: String,
    pub at: String,
    pub last_type: &'static str,
    pub from: String,
    pub to: String,
    /// Who the event concerns.
    pub user: String,
    pub summary: String,
    pub ended: bool,
}

/// The calls of `events` (newest first), one line each.
pub fn call_lines(events: &[CallEvent]) -> Vec<CallLine> {
    let mut lines: Vec<CallLine> = Vec::new();
    for event in events {
        if let Some(line) = lines.iter_mut().find(|l| l.id == event.call.id) {
            line.ended |= event.event_type == EventType::Ended;
            continue;
        }
        lines.push(CallLine {
            id: event.call.id.clone(),
            at: event.occurred_at.format("%Y-%m-%d %H:%M:%S").to_string(),
            last_type: event.event_type.as_str(),
            from: party(&event.call.from),
            to: party(&event.call.to),
            user: party(&event.call.user),
            summary: event.summary.clone(),
            ended: event.event_type == EventType::Ended,
        });
    }
    lines
}

/// Extensions of parties in recent calls that no user is linked to.
pub fn unlinked_extensions(events: &[CallEvent]) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for event in events {
        for p in [&event.call.from, &event.call.to, &event.call.user] {
            if p.kind != PartyKind::Unknown {
                continue;
            }
            if let Some(ext) = &p.extension
                && !seen.contains(ext)
            {
                seen.push(ext.clone());
            }
        }
    }
    seen
}

/// The tenant's recent triggers, newest first.
pub async fn recent_events(
    state: &AppState,
    viewer: &Viewer,
    participant: Option<UserId>,
    event_type: Option<EventType>,
    number: Option<E164Number>,
) -> Result<Vec<CallEvent>, Refused> {
    let query = EventQuery {
        tenant_id: viewer.user.tenant_id.clone(),
        participant,
        event_type,
        number,
        limit: RECENT_EVENTS,
    };
    Ok(state.storage.call_events(&query).await?)
}

#[derive(serde::Deserialize)]
pub struct CallFilter {
    user: Option<String>,
    number: Option<String>,
    #[serde(rename = "type")]
    event_type: Option<String>,
}

struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "console/calls.html")]
struct CallsPage<'a> {
    nav: Nav<'a>,
    calls: Vec<CallLine>,
    users: Vec<Choice>,
    types: Vec<Choice>,
    number: String,
    error: Option<String>,
}

fn blank_to_none(raw: &Option<String>) -> Option<&str> {
    raw.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

#[get("/console/calls")]
pub async fn list(
    req: HttpRequest,
    filter: web::Query<CallFilter>,
    state: web::Data<AppState>,
) -> HttpResponse {
    respond(
        async {
            let viewer = viewer::admin(&state, &req).await?;
            let tenant = &viewer.user.tenant_id;
            let mut error = None;
            let user = blank_to_none(&filter.user).and_then(UserId::parse);
            let event_type = blank_to_none(&filter.event_type).and_then(EventType::parse);
            let number = match blank_to_none(&filter.number) {
                None => None,
                Some(raw) => {
                    let country = state
                        .storage
                        .tenant(tenant)
                        .await?
                        .map(|t| t.default_country)
                        .unwrap_or_default();
                    match E164Number::parse(raw, country) {
                        Ok(n) => Some(n),
                        Err(e) => {
                            error = Some(format!("The number {raw:?} cannot be read: {e}"));
                            None
                        }
                    }
                }
            };
            let calls = if error.is_some() {
                Vec::new()
            } else {
                call_lines(&recent_events(&state, &viewer, user.clone(), event_type, number).await?)
            };
            let users = state
                .storage
                .users(tenant)
                .await?
                .into_iter()
                .map(|u| Choice {
                    selected: user.as_ref() == Some(&u.id),
                    value: u.id.to_string(),
                    label: u.name,
                })
                .collect();
            let types = EventType::ALL
                .into_iter()
                .map(|t| Choice {
                    value: t.as_str().to_owned(),
                    label: t.as_str().to_owned(),
                    selected: event_type == Some(t),
                })
                .collect();
            Ok(viewer.page(&CallsPage {
                nav: viewer.nav(&state, "calls"),
                calls,
                users,
                types,
                number: blank_to_none(&filter.number).unwrap_or_default().to_owned(),
                error,
            }))
        }
        .await,
    )
}

/// Where one trigger went.
struct Sent {
    hook_id: String,
    status: String,
    attempts: i64,
}

struct TriggerLine {
    id: String,
    at: String,
    event_type: &'static str,
    summary: String,
    body: String,
    sent: Vec<Sent>,
}

#[derive(Template)]
#[template(path = "console/call.html")]
struct CallPage<'a> {
    nav: Nav<'a>,
    call_id: String,
    source: String,
    source_call_id: String,
    triggers: Vec<TriggerLine>,
}

#[get("/console/calls/{id}")]
pub async fn show(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> HttpResponse {
    respond(
        async {
            let viewer = viewer::admin(&state, &req).await?;
            let tenant = &viewer.user.tenant_id;
            let mut events: Vec<CallEvent> = recent_events(&state, &viewer, None, None, None)
                .await?
                .into_iter()
                .filter(|e| e.call.id == *path)
                .collect();
            events.reverse();
            let first = events.first().ok_or(Refused::NotFound)?;
            let (source, source_call_id) = (
                first.call.source.to_string(),
                first.call.source_call_id.clone(),
            );
            // Which hooks got each trigger: the deliveries of every hook of the tenant.
            let mut deliveries = Vec::new();
            for user in state.storage.users(tenant).await? {
                for hook in state.storage.hooks_of_user(tenant, &user.id).await? {
                    deliveries.extend(
                        state
                            .storage
                            .deliveries_of_hook(tenant, &hook.id, RECENT_EVENTS)
                            .await?,
                    );
                }
            }
            let triggers = events
                .iter()
                .map(|e| TriggerLine {
                    id: e.id.clone(),
                    at: e.occurred_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                    event_type: e.event_type.as_str(),
                    summary: e.summary.clone(),
                    body: serde_json::to_string_pretty(e).unwrap_or_default(),
                    sent: deliveries
                        .iter()
                        .filter(|d| d.event_id == e.id)
                        .map(|d| Sent {
                            hook_id: d.hook_id.to_string(),
                            status: d.status.clone(),
                            attempts: d.attempts,
                        })
                        .collect(),
                })
                .collect();
            Ok(viewer.page(&CallPage {
                nav: viewer.nav(&state, "calls"),
                call_id: path.into_inner(),
                source,
                source_call_id,
                triggers,
            }))
        }
        .await,
    )
}
