//! Calls: the tenant's latest calls, a page at a time (older pages by a keyset cursor),
//! refreshed live by the page's script, filtered by user, number and trigger type; one call's
//! page lists the raw events it was made of as they were received, the triggers it emitted and,
//! for each, the hooks it was delivered to and how that went. Admins only.

use super::viewer::{self, Nav, Refused, Viewer, respond};
use crate::domain::{E164Number, UserId};
use crate::http::AppState;
use crate::normalizer::CallEvent;
use crate::normalizer::model::{EventType, Party, PartyKind};
use crate::storage::{CallPageQuery, CallSummary, EventQuery, StoredRawEvent};
use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;

/// How many recent triggers the users page reads for extensions nobody has, and how many
/// triggers and raw events a call's page shows.
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

impl CallLine {
    fn new(summary: &CallSummary) -> CallLine {
        let event = &summary.latest;
        CallLine {
            id: event.call.id.clone(),
            at: event.occurred_at.format("%Y-%m-%d %H:%M:%S").to_string(),
            last_type: event.event_type.as_str(),
            from: party(&event.call.from),
            to: party(&event.call.to),
            user: party(&event.call.user),
            summary: event.summary.clone(),
            ended: summary.ended,
        }
    }
}

/// How many calls one page of the list shows.
pub const CALLS_PER_PAGE: u32 = 50;

/// What the calls list is narrowed to.
#[derive(Default)]
pub struct Narrowed {
    pub participant: Option<UserId>,
    pub event_type: Option<EventType>,
    pub number: Option<E164Number>,
}

/// One page of the tenant's calls, newest first, starting below `before`; with the cursor
/// of the next page when there may be one.
pub async fn call_page(
    state: &AppState,
    viewer: &Viewer,
    narrowed: Narrowed,
    before: Option<i64>,
) -> Result<(Vec<CallLine>, Option<i64>), Refused> {
    let query = CallPageQuery {
        events: EventQuery {
            tenant_id: viewer.user.tenant_id.clone(),
            participant: narrowed.participant,
            event_type: narrowed.event_type,
            number: narrowed.number,
            limit: CALLS_PER_PAGE,
        },
        before,
    };
    let page = state.storage.call_page(&query).await?;
    let next = match page.last() {
        Some(last) if page.len() == CALLS_PER_PAGE as usize => Some(last.seq),
        _ => None,
    };
    Ok((page.iter().map(CallLine::new).collect(), next))
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
    /// The previous page's last line (`seq`): show older calls.
    before: Option<i64>,
}

impl CallFilter {
    /// The link to the page after this one, with the same filters.
    fn older(&self, before: i64) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in [
            ("user", &self.user),
            ("number", &self.number),
            ("type", &self.event_type),
        ] {
            if let Some(value) = blank_to_none(value) {
                query.append_pair(key, value);
            }
        }
        query.append_pair("before", &before.to_string());
        format!("/console/calls?{}", query.finish())
    }
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
    /// The link to older calls, when there may be more.
    older: Option<String>,
    /// Whether this is a later page (the live refresh still shows this page).
    paged: bool,
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
            let (calls, next) = if error.is_some() {
                (Vec::new(), None)
            } else {
                let narrowed = Narrowed {
                    participant: user.clone(),
                    event_type,
                    number,
                };
                call_page(&state, &viewer, narrowed, filter.before).await?
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
                older: next.map(|before| filter.older(before)),
                paged: filter.before.is_some(),
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

/// A raw event as it was received.
struct RawLine {
    at: String,
    source_id: String,
    source_event: String,
    content_type: String,
    /// Pretty-printed when it is JSON; escaped by the template either way.
    body: String,
}

impl RawLine {
    fn new(raw: StoredRawEvent) -> RawLine {
        let body = serde_json::from_str::<serde_json::Value>(&raw.body)
            .ok()
            .filter(|v| v.is_object() || v.is_array())
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .unwrap_or(raw.body);
        RawLine {
            at: raw.received_at.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
            source_id: raw.source_id,
            source_event: raw.source_event,
            content_type: raw.content_type,
            body,
        }
    }
}

#[derive(Template)]
#[template(path = "console/call.html")]
struct CallPage<'a> {
    nav: Nav<'a>,
    call_id: String,
    source: String,
    source_call_id: String,
    raw_events: Vec<RawLine>,
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
            let call_id = path.into_inner();
            let events = state
                .storage
                .events_of_call(tenant, &call_id, RECENT_EVENTS)
                .await?;
            let raw_events: Vec<RawLine> = state
                .storage
                .raw_events_of_call(tenant, &call_id, RECENT_EVENTS)
                .await?
                .into_iter()
                .map(RawLine::new)
                .collect();
            let (source, source_call_id) = match (events.first(), raw_events.first()) {
                (Some(first), _) => (
                    first.call.source.to_string(),
                    first.call.source_call_id.clone(),
                ),
                (None, Some(raw)) => (raw.source_id.clone(), String::new()),
                (None, None) => return Err(Refused::NotFound),
            };
            let deliveries = state.storage.deliveries_of_call(tenant, &call_id).await?;
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
                            hook_id: d.hook_id.clone(),
                            status: d.status.clone(),
                            attempts: d.attempts,
                        })
                        .collect(),
                })
                .collect();
            Ok(viewer.page(&CallPage {
                nav: viewer.nav(&state, "calls"),
                call_id,
                source,
                source_call_id,
                raw_events,
                triggers,
            }))
        }
        .await,
    )
}
