//! A fake Zoom Phone API on a loopback port, from Zoom's documented shapes: the
//! Server-to-Server OAuth token endpoint (`POST /oauth/token?grant_type=account_credentials`,
//! HTTP Basic client id and secret), `GET /v2/phone/call_history` (`from`, `to`, `time_type`,
//! `page_size`, `next_page_token` → `{call_history: [...], next_page_token}`) and
//! `GET /v2/phone/call_history/{call_history_uuid}` (`{call_elements: [...]}`) and
//! `GET /v2/phone/recordings` (`from`, `to` → `{recordings: [...]}` whose `date_time` falls
//! in the window), all checking the bearer token. Faults can be queued for the next listing requests: a 429 with
//! `Retry-After`, a 500, or the next page token answered as expired (400, code 300).

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

pub const ACCOUNT_ID: &str = "Xq3vR8kLTbq2mN5pW7yZ0a";
pub const CLIENT_ID: &str = "zoom-s2s-client-id";
pub const CLIENT_SECRET: &str = "zoom-s2s-client-secret-0123456789";
pub const ACCESS_TOKEN: &str = "zoom-access-token-abcdef";
/// Alice's Zoom Phone extension id (`callee_ext_id`).
pub const ALICE_EXT: &str = "e5Hj2kL8Mn3Pq7Rs1Tv9Wx";

pub enum Fault {
    TooMany {
        retry_after: u64,
    },
    ServerError,
    /// The next request that carries a page token is told it expired.
    TokenExpired,
}

/// One call: its `call_history` entry and its path.
struct Call {
    entry: Value,
    elements: Vec<Value>,
}

#[derive(Default)]
struct Shared {
    calls: Mutex<Vec<Call>>,
    recordings: Mutex<Vec<Value>>,
    recording_queries: Mutex<Vec<HashMap<String, String>>>,
    faults: Mutex<VecDeque<Fault>>,
    expire_next_token: Mutex<bool>,
    queries: Mutex<Vec<HashMap<String, String>>>,
    tokens_issued: Mutex<u32>,
    details_read: Mutex<u32>,
    max_page: Mutex<Option<usize>>,
    /// Page tokens handed out: each names the offset of the page it opens.
    page_tokens: Mutex<HashMap<String, usize>>,
}

pub struct ZoomHistory {
    pub address: String,
    shared: Arc<Shared>,
    _handle: ServerHandle,
}

impl ZoomHistory {
    pub async fn start() -> ZoomHistory {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = format!("http://{}", listener.local_addr().expect("address"));
        let shared = Arc::new(Shared::default());
        let data = web::Data::from(shared.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/oauth/token", web::post().to(token))
                .route("/v2/phone/call_history", web::get().to(list))
                .route("/v2/phone/call_history/{uuid}", web::get().to(detail))
                .route("/v2/phone/recordings", web::get().to(recordings))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .expect("listen")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        ZoomHistory {
            address,
            shared,
            _handle: handle,
        }
    }

    /// Adds a call (entry and path), kept ordered by `end_time` as Zoom lists them.
    pub fn add(&self, (entry, elements): (Value, Vec<Value>)) {
        let mut calls = self.shared.calls.lock().unwrap();
        calls.push(Call { entry, elements });
        calls.sort_by_key(|c| end_time(&c.entry));
    }

    /// Adds an entry of the account's recordings listing.
    pub fn add_recording(&self, recording: Value) {
        self.shared.recordings.lock().unwrap().push(recording);
    }

    /// The query strings of the recordings listing requests.
    pub fn recording_queries(&self) -> Vec<HashMap<String, String>> {
        self.shared.recording_queries.lock().unwrap().clone()
    }

    pub fn fail_next(&self, faults: impl IntoIterator<Item = Fault>) {
        self.shared.faults.lock().unwrap().extend(faults);
    }

    /// Pages hold at most `n` calls whatever the client asks.
    pub fn cap_pages(&self, n: usize) {
        *self.shared.max_page.lock().unwrap() = Some(n);
    }

    /// The query strings of the listing requests that got a page.
    pub fn queries(&self) -> Vec<HashMap<String, String>> {
        self.shared.queries.lock().unwrap().clone()
    }

    /// How many access tokens the OAuth endpoint gave out.
    pub fn tokens_issued(&self) -> u32 {
        *self.shared.tokens_issued.lock().unwrap()
    }

    /// How many call paths were read.
    pub fn details_read(&self) -> u32 {
        *self.shared.details_read.lock().unwrap()
    }
}

fn end_time(entry: &Value) -> Option<DateTime<Utc>> {
    entry["end_time"].as_str()?.parse().ok()
}

fn bearer_ok(req: &HttpRequest) -> bool {
    req.headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {ACCESS_TOKEN}"))
}

fn unauthorized() -> HttpResponse {
    HttpResponse::Unauthorized().json(json!({"code": 124, "message": "Invalid access token."}))
}

async fn token(
    req: HttpRequest,
    query: web::Query<HashMap<String, String>>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
    let authorized = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        == Some(&format!("Basic {basic}"));
    let grant_ok = query.get("grant_type").map(String::as_str) == Some("account_credentials")
        && query.get("account_id").map(String::as_str) == Some(ACCOUNT_ID);
    if !authorized || !grant_ok {
        return HttpResponse::BadRequest().json(
            json!({"reason": "Invalid client_id or client_secret", "error": "invalid_client"}),
        );
    }
    *shared.tokens_issued.lock().unwrap() += 1;
    HttpResponse::Ok().json(json!({
        "access_token": ACCESS_TOKEN, "token_type": "bearer", "expires_in": 3599,
        "scope": "phone:read:list_call_logs:admin phone:read:call_log:admin",
        "api_url": "https://api.zoom.us",
    }))
}

async fn list(
    req: HttpRequest,
    query: web::Query<HashMap<String, String>>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    if !bearer_ok(&req) {
        return unauthorized();
    }
    if let Some(fault) = shared.faults.lock().unwrap().pop_front() {
        match fault {
            Fault::TooMany { retry_after } => {
                return HttpResponse::TooManyRequests()
                    .insert_header(("Retry-After", retry_after.to_string()))
                    .json(json!({"code": 429, "message": "You have reached the maximum per-second rate limit for this API."}));
            }
            Fault::ServerError => {
                return HttpResponse::InternalServerError()
                    .json(json!({"code": 500, "message": "Internal error."}));
            }
            Fault::TokenExpired => *shared.expire_next_token.lock().unwrap() = true,
        }
    }
    let time = |k: &str| query.get(k).and_then(|v| v.parse::<DateTime<Utc>>().ok());
    let (Some(from), Some(to)) = (time("from"), time("to")) else {
        return HttpResponse::BadRequest()
            .json(json!({"code": 300, "message": "Invalid from/to."}));
    };
    if (to - from).num_days() > 31 || query.get("time_type").map(String::as_str) != Some("end_time")
    {
        return HttpResponse::BadRequest()
            .json(json!({"code": 300, "message": "The window must be within one month."}));
    }
    let start = match query.get("next_page_token").filter(|t| !t.is_empty()) {
        None => 0,
        Some(token) => {
            let mut expire = shared.expire_next_token.lock().unwrap();
            let known = shared.page_tokens.lock().unwrap().get(token).copied();
            match known {
                Some(offset) if !*expire => offset,
                _ => {
                    *expire = false;
                    shared.page_tokens.lock().unwrap().clear();
                    return HttpResponse::BadRequest().json(
                        json!({"code": 300, "message": "The next page token is invalid or expired."}),
                    );
                }
            }
        }
    };
    shared.queries.lock().unwrap().push(query.0.clone());
    let asked = query
        .get("page_size")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(30)
        .min(300);
    let size = shared
        .max_page
        .lock()
        .unwrap()
        .map_or(asked, |cap| cap.min(asked));
    let calls = shared.calls.lock().unwrap();
    let in_window: Vec<&Value> = calls
        .iter()
        .map(|c| &c.entry)
        .filter(|e| end_time(e).is_some_and(|t| t >= from && t <= to))
        .collect();
    let page: Vec<&Value> = in_window.iter().skip(start).take(size).copied().collect();
    let mut body = json!({
        "call_history": page,
        "from": query.get("from"),
        "to": query.get("to"),
        "page_size": size,
        "total_records": in_window.len(),
        "next_page_token": "",
    });
    if start + size < in_window.len() {
        let token = format!("npt-{}", ulid_like(start + size));
        shared
            .page_tokens
            .lock()
            .unwrap()
            .insert(token.clone(), start + size);
        body["next_page_token"] = json!(token);
    }
    HttpResponse::Ok().json(body)
}

/// `GET /v2/phone/recordings`: the recordings that started within `from`..`to`, one page.
async fn recordings(
    req: HttpRequest,
    query: web::Query<HashMap<String, String>>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    if !bearer_ok(&req) {
        return unauthorized();
    }
    let time = |k: &str| query.get(k).and_then(|v| v.parse::<DateTime<Utc>>().ok());
    let (Some(from), Some(to)) = (time("from"), time("to")) else {
        return HttpResponse::BadRequest()
            .json(json!({"code": 300, "message": "Invalid from/to."}));
    };
    shared
        .recording_queries
        .lock()
        .unwrap()
        .push(query.0.clone());
    let started = |r: &Value| r["date_time"].as_str()?.parse::<DateTime<Utc>>().ok();
    let page: Vec<Value> = shared
        .recordings
        .lock()
        .unwrap()
        .iter()
        .filter(|r| started(r).is_some_and(|t| t >= from && t <= to))
        .cloned()
        .collect();
    HttpResponse::Ok().json(json!({
        "recordings": page, "page_size": 300, "total_records": page.len(), "next_page_token": "",
    }))
}

/// An opaque-looking token for an offset.
fn ulid_like(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("offset:{offset}"))
}

async fn detail(
    req: HttpRequest,
    uuid: web::Path<String>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    if !bearer_ok(&req) {
        return unauthorized();
    }
    let calls = shared.calls.lock().unwrap();
    let Some(call) = calls
        .iter()
        .find(|c| c.entry["call_history_uuid"] == uuid.as_str())
    else {
        return HttpResponse::NotFound()
            .json(json!({"code": 404, "message": "Call log does not exist."}));
    };
    *shared.details_read.lock().unwrap() += 1;
    let mut body = call.entry.clone();
    body["call_elements"] = json!(call.elements);
    HttpResponse::Ok().json(body)
}

/// Alice as a `callee_*` side of an entry or element.
fn alice_callee(v: &mut Value) {
    v["callee_ext_id"] = json!(ALICE_EXT);
    v["callee_name"] = json!("Alice Nguyen");
    v["callee_did_number"] = json!("+16285550100");
    v["callee_ext_number"] = json!("1001");
    v["callee_ext_type"] = json!("user");
    v["callee_number_type"] = json!("zoom_pstn");
}

/// The `zoom/inbound_answered` fixture call as Zoom's history tells it: ACME SUPPLY calls
/// Alice's number at `start`, she answers 6 s later and they talk 42 s.
pub fn answered_call(call_id: &str, start: DateTime<Utc>) -> (Value, Vec<Value>) {
    let at = |s: i64| {
        (start + chrono::TimeDelta::seconds(s)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let uuid = format!("20240603-{call_id}");
    let mut entry = json!({
        "id": uuid, "call_history_uuid": uuid, "call_id": call_id,
        "connect_type": "external", "call_type": "general", "direction": "inbound",
        "caller_name": "ACME SUPPLY", "caller_did_number": "+14155550123",
        "caller_number_type": "external_pstn",
        "start_time": at(0), "answer_time": at(6), "end_time": at(48),
        "duration": 42, "call_result": "answered", "recording_status": "non_recorded",
    });
    alice_callee(&mut entry);
    let mut ring = json!({
        "call_element_id": format!("{uuid}-1"), "call_history_uuid": uuid, "call_id": call_id,
        "event": "incoming", "result": "answered", "direction": "inbound",
        "caller_name": "ACME SUPPLY", "caller_did_number": "+14155550123",
        "caller_number_type": "external_pstn",
        "start_time": at(0), "answer_time": at(6), "end_time": at(48), "talk_time": 42,
    });
    alice_callee(&mut ring);
    (entry, vec![ring])
}

/// The `zoom/inbound_missed_voicemail` fixture call: DR PATEL OFFICE rings Alice for 20 s,
/// nobody answers, and the caller leaves a 31 s message in her voicemail.
pub fn missed_to_voicemail(call_id: &str, start: DateTime<Utc>) -> (Value, Vec<Value>) {
    let at = |s: i64| {
        (start + chrono::TimeDelta::seconds(s)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let uuid = format!("20240603-{call_id}");
    let caller = |v: &mut Value| {
        v["caller_name"] = json!("DR PATEL OFFICE");
        v["caller_did_number"] = json!("+13125550188");
        v["caller_number_type"] = json!("external_pstn");
    };
    let mut entry = json!({
        "id": uuid, "call_history_uuid": uuid, "call_id": call_id,
        "connect_type": "external", "call_type": "general", "direction": "inbound",
        "start_time": at(0), "end_time": at(51), "duration": 0,
        "call_result": "voicemail", "recording_status": "non_recorded",
    });
    caller(&mut entry);
    alice_callee(&mut entry);
    let mut ring = json!({
        "call_element_id": format!("{uuid}-1"), "call_history_uuid": uuid, "call_id": call_id,
        "event": "incoming", "result": "no_answer",
        "start_time": at(0), "end_time": at(20),
    });
    caller(&mut ring);
    alice_callee(&mut ring);
    let mut vm = json!({
        "call_element_id": format!("{uuid}-2"), "call_history_uuid": uuid, "call_id": call_id,
        "event": "voicemail", "result": "voicemail", "voicemail_id": "8b1f0c3e9d2a4b7c",
        "start_time": at(20), "end_time": at(51),
    });
    caller(&mut vm);
    alice_callee(&mut vm);
    (entry, vec![ring, vm])
}
