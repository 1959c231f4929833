//! A fake Kazoo Crossbar CDR API on a loopback port: `GET /v2/accounts/{account}/cdrs` with
//! `created_from`/`created_to` (Gregorian seconds), `page_size` and `start_key` →
//! `next_start_key`, in Crossbar's envelope, checking `X-Auth-Token` against the token
//! `PUT /v2/api_auth` gave for the API key. Faults can be queued
//! (a 429 with `Retry-After`, a 500) for the next requests. Recordings the CDRs name are served
//! at `GET /v2/accounts/{account}/recordings/{id}`.
//!
//! For backfills of many calls, [`KazooHistory::serve_day`] makes the server generate a day of
//! calls as pages are asked for: each leg is computed from its position, so a page costs the
//! same whatever the day holds and nothing is kept between requests.

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

pub const API_KEY: &str = "kazoo-api-key-0123456789";
/// The auth token `PUT /v2/api_auth` trades the API key for.
pub const AUTH_TOKEN: &str = "kazoo-auth-token-abcdef";
/// Seconds between year 0 and 1970, Kazoo's clock offset.
pub const GREGORIAN: i64 = 62_167_219_200;

pub enum Fault {
    TooMany { retry_after: u64 },
    ServerError,
}

#[derive(Default)]
struct Shared {
    legs: Mutex<Vec<Value>>,
    faults: Mutex<VecDeque<Fault>>,
    queries: Mutex<Vec<HashMap<String, String>>>,
    max_page: Mutex<Option<usize>>,
    day: Mutex<Option<SyntheticDay>>,
}

/// A day of `calls` calls, generated leg by leg: call `c` ends at `start + c * 86400 / calls`
/// (Gregorian seconds); even calls are answered by Alice, odd ones missed by Bob. Both legs of
/// a call end within a second of each other and before the next call's, so the legs are in
/// timestamp order and a call's legs are adjacent, as Crossbar lists them.
#[derive(Clone, Copy)]
struct SyntheticDay {
    start: i64,
    calls: usize,
}

impl SyntheticDay {
    fn len(&self) -> usize {
        self.calls * 2
    }

    fn end_of_call(&self, call: usize) -> i64 {
        self.start + (call as i64 * 86_400) / self.calls as i64
    }

    /// The leg at `index` in timestamp order.
    fn leg(&self, index: usize) -> Value {
        let call = index / 2;
        let interaction = format!("{}-{call:08x}", self.end_of_call(call));
        let end = self.end_of_call(call);
        let mut legs = if call.is_multiple_of(2) {
            let a_leg = format!("a-{interaction}");
            let b_leg = format!("b-{interaction}");
            answered_call(&interaction, &a_leg, &b_leg, end - 49)
        } else {
            missed_call(&interaction, end - 21)
        };
        legs.sort_by_key(|l| l["timestamp"].as_i64().unwrap_or(0));
        legs.swap_remove(index % 2)
    }

    fn timestamp(&self, index: usize) -> i64 {
        self.leg(index)["timestamp"].as_i64().unwrap_or(0)
    }
}

pub struct KazooHistory {
    pub address: String,
    shared: Arc<Shared>,
    _handle: ServerHandle,
}

impl KazooHistory {
    pub async fn start() -> KazooHistory {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = format!("http://{}", listener.local_addr().expect("address"));
        let shared = Arc::new(Shared::default());
        let data = web::Data::from(shared.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/v2/api_auth", web::put().to(api_auth))
                .route("/v2/accounts/{account}/cdrs", web::get().to(cdrs))
                .route(
                    "/v2/accounts/{account}/recordings/{id}",
                    web::get().to(recording),
                )
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .expect("listen")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        KazooHistory {
            address,
            shared,
            _handle: handle,
        }
    }

    /// Adds CDR legs (kept ordered by `timestamp`, as Kazoo lists them).
    pub fn add(&self, legs: impl IntoIterator<Item = Value>) {
        let mut all = self.shared.legs.lock().unwrap();
        all.extend(legs);
        all.sort_by_key(|l| l["timestamp"].as_i64().unwrap_or(0));
    }

    pub fn fail_next(&self, faults: impl IntoIterator<Item = Fault>) {
        self.shared.faults.lock().unwrap().extend(faults);
    }

    /// Serves a generated day of `calls` calls starting at `start` (Gregorian seconds) instead
    /// of the legs added: see [`SyntheticDay`].
    pub fn serve_day(&self, start: i64, calls: usize) {
        *self.shared.day.lock().unwrap() = Some(SyntheticDay { start, calls });
    }

    /// Pages hold at most `n` legs whatever the client asks.
    pub fn cap_pages(&self, n: usize) {
        *self.shared.max_page.lock().unwrap() = Some(n);
    }

    /// The query strings of the requests that got a page.
    pub fn queries(&self) -> Vec<HashMap<String, String>> {
        self.shared.queries.lock().unwrap().clone()
    }
}

async fn api_auth(body: web::Json<Value>) -> HttpResponse {
    if body["data"]["api_key"] != API_KEY {
        return HttpResponse::Unauthorized().json(json!({"status": "error"}));
    }
    HttpResponse::Created().json(json!({"auth_token": AUTH_TOKEN, "status": "success"}))
}

/// A recording's audio when asked for with `Accept: audio/mpeg` (its JSON document otherwise,
/// as Crossbar does), with the auth token only.
async fn recording(req: HttpRequest, path: web::Path<(String, String)>) -> HttpResponse {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    if header("x-auth-token") != Some(AUTH_TOKEN) {
        return HttpResponse::Unauthorized().json(json!({"status": "error"}));
    }
    let (_, id) = path.into_inner();
    if header("accept") != Some("audio/mpeg") {
        return HttpResponse::Ok().json(json!({"data": {"id": id}, "status": "success"}));
    }
    HttpResponse::Ok()
        .content_type("audio/mpeg")
        .body(format!("ID3-kazoo-recording-{id}"))
}

async fn cdrs(
    req: HttpRequest,
    query: web::Query<HashMap<String, String>>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    if req
        .headers()
        .get("x-auth-token")
        .and_then(|v| v.to_str().ok())
        != Some(AUTH_TOKEN)
    {
        return HttpResponse::Unauthorized().json(json!({"status": "error", "error": "401"}));
    }
    if let Some(fault) = shared.faults.lock().unwrap().pop_front() {
        return match fault {
            Fault::TooMany { retry_after } => HttpResponse::TooManyRequests()
                .insert_header(("Retry-After", retry_after.to_string()))
                .json(json!({"status": "error", "error": "429"})),
            Fault::ServerError => {
                HttpResponse::InternalServerError().json(json!({"status": "error"}))
            }
        };
    }
    let number = |k: &str| query.get(k).and_then(|v| v.parse::<i64>().ok());
    let (Some(from), Some(to)) = (number("created_from"), number("created_to")) else {
        return HttpResponse::BadRequest().json(json!({"status": "error"}));
    };
    shared.queries.lock().unwrap().push(query.0.clone());
    let asked = number("page_size").unwrap_or(50) as usize;
    let size = shared
        .max_page
        .lock()
        .unwrap()
        .map_or(asked, |cap| cap.min(asked));
    let start = number("start_key").unwrap_or(0) as usize;
    let day = *shared.day.lock().unwrap();
    if let Some(day) = day {
        return day_page(&day, (from, to), start, size);
    }
    let legs = shared.legs.lock().unwrap();
    let in_window: Vec<&Value> = legs
        .iter()
        .filter(|l| (from..=to).contains(&l["timestamp"].as_i64().unwrap_or(0)))
        .collect();
    let page: Vec<&Value> = in_window.iter().skip(start).take(size).copied().collect();
    let mut body = json!({
        "data": page,
        "page_size": page.len(),
        "status": "success",
        "request_id": "req-1",
        "auth_token": "",
    });
    if start + size < in_window.len() {
        body["next_start_key"] = json!((start + size).to_string());
    }
    HttpResponse::Ok().json(body)
}

/// A page of a generated day: the legs of `[from, to]` are found by bisection (timestamps
/// grow with the index), then the page's legs are generated.
fn day_page(day: &SyntheticDay, (from, to): (i64, i64), start: usize, size: usize) -> HttpResponse {
    let first = partition_point(day.len(), |i| day.timestamp(i) < from);
    let end = partition_point(day.len(), |i| day.timestamp(i) <= to);
    let begin = (first + start).min(end);
    let stop = (begin + size).min(end);
    let page: Vec<Value> = (begin..stop).map(|i| day.leg(i)).collect();
    let mut body = json!({
        "data": page,
        "page_size": page.len(),
        "status": "success",
        "request_id": "req-1",
        "auth_token": "",
    });
    if stop < end {
        body["next_start_key"] = json!((start + size).to_string());
    }
    HttpResponse::Ok().json(body)
}

/// The first index in `0..len` for which `before` is false (`before` is true then false).
fn partition_point(len: usize, before: impl Fn(usize) -> bool) -> usize {
    let (mut low, mut high) = (0, len);
    while low < high {
        let mid = (low + high) / 2;
        if before(mid) {
            low = mid + 1;
        } else {
            high = mid;
        }
    }
    low
}

/// The two CDR legs Kazoo writes for the `kazoo/inbound_answered` fixture call: an outside
/// caller rings Alice at 2024-06-03T14:00:00Z, she answers at :07, both hang up at :49.
pub fn answered_call(interaction: &str, a_leg: &str, b_leg: &str, start: i64) -> Vec<Value> {
    vec![
        json!({
            "id": format!("cdr-{a_leg}"), "call_id": a_leg, "interaction_id": interaction,
            "call_direction": "inbound", "caller_id_number": "+14155550123",
            "caller_id_name": "ACME SUPPLY", "callee_id_number": "1001",
            "timestamp": start + 49, "duration_seconds": 49, "billing_seconds": 42,
            "ringing_seconds": 7, "hangup_cause": "NORMAL_CLEARING", "other_leg_call_id": b_leg,
            "request": "1001@acme.sip.example",
        }),
        json!({
            "id": format!("cdr-{b_leg}"), "call_id": b_leg, "interaction_id": interaction,
            "call_direction": "outbound", "caller_id_number": "+14155550123",
            "callee_id_number": "1001", "callee_id_name": "Alice Nguyen",
            "owner_id": "6384e2b2184bcbf58eccf10ca7a6563c",
            "timestamp": start + 49, "duration_seconds": 48, "billing_seconds": 42,
            "hangup_cause": "NORMAL_CLEARING", "other_leg_call_id": a_leg,
        }),
    ]
}

/// An outside caller rings Bob, who does not answer; the caller gives up after 20 s.
pub fn missed_call(interaction: &str, start: i64) -> Vec<Value> {
    vec![
        json!({
            "id": format!("cdr-a-{interaction}"), "call_id": format!("a-{interaction}"),
            "interaction_id": interaction, "call_direction": "inbound",
            "caller_id_number": "+14155550199", "callee_id_number": "1002",
            "timestamp": start + 21, "duration_seconds": 21, "billing_seconds": 0,
            "hangup_cause": "ORIGINATOR_CANCEL",
        }),
        json!({
            "id": format!("cdr-b-{interaction}"), "call_id": format!("b-{interaction}"),
            "interaction_id": interaction, "call_direction": "outbound",
            "caller_id_number": "+14155550199", "callee_id_number": "1002",
            "owner_id": "9f9d51bc70ef21ca5c14f307980a29d8",
            "timestamp": start + 20, "duration_seconds": 20, "billing_seconds": 0,
            "hangup_cause": "NO_ANSWER",
        }),
    ]
}
