//! `ringhook simulate`: replays a folder of raw fixtures (as in `shared/fixtures/`) against a
//! running server, signed now as the source itself would sign them, so a new operator sees
//! triggers flow without a real PBX.

use crate::domain::SourceKind;
use crate::ingest::signature::hmac_sha256_hex;
use crate::ingest::{Headers, IngestError, IngestRequest, Parsed, verify_and_parse};
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};

/// One request to send, in scenario order.
#[derive(Clone, Debug)]
pub struct SimulatedRequest {
    pub file: String,
    pub headers: Vec<(String, String)>,
    /// Kazoo's `?token=`.
    pub query_token: Option<String>,
    pub body: Vec<u8>,
}

impl SimulatedRequest {
    /// Verifies and parses the request as `POST /ingest` would for a source of `kind`.
    pub fn verify_and_parse(
        &self,
        kind: SourceKind,
        secret: &str,
        now: DateTime<Utc>,
    ) -> Result<Parsed, IngestError> {
        let headers = Headers::new(self.headers.clone());
        let request = IngestRequest {
            headers: &headers,
            query_token: self.query_token.as_deref(),
            body: &self.body,
        };
        verify_and_parse(kind, secret, &request, now)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0} holds no event files")]
    Empty(PathBuf),
    #[error("{0} is not a JSON object of header names to values")]
    BadHeaders(PathBuf),
    #[error("--url {base:?} is not a base URL: {reason}")]
    BadUrl { base: String, reason: String },
    /// Says why without the request URL: a Kazoo source's carries its secret in `?token=`.
    #[error("cannot reach {base}: {reason}")]
    Unreachable { base: String, reason: String },
}

/// What the server answered one replayed request.
#[derive(Debug)]
pub struct Answer {
    pub status: reqwest::StatusCode,
    /// The answer's JSON body, or `null`.
    pub body: serde_json::Value,
}

/// Posts `request` to `{base}/ingest/{source_id}` as the source would. Errors never contain
/// the request URL, which for Kazoo holds the source secret.
pub async fn post(
    client: &reqwest::Client,
    base: &str,
    source_id: &str,
    request: SimulatedRequest,
) -> Result<Answer, SimulateError> {
    let mut url = url::Url::parse(&format!("{base}/ingest/{source_id}")).map_err(|e| {
        SimulateError::BadUrl {
            base: base.to_owned(),
            reason: e.to_string(),
        }
    })?;
    if let Some(token) = &request.query_token {
        url.query_pairs_mut().append_pair("token", token);
    }
    let mut call = client.post(url).body(request.body);
    for (name, value) in &request.headers {
        call = call.header(name, value);
    }
    let response = call.send().await.map_err(|e| SimulateError::Unreachable {
        base: base.to_owned(),
        reason: error_chain(&e.without_url()),
    })?;
    let status = response.status();
    let body = response.json().await.unwrap_or(serde_json::Value::Null);
    Ok(Answer { status, body })
}

/// `error: cause: cause…`, for errors whose own text is too terse to act on.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The scenario's requests in file-name order. `00_*` files are requests ringhook itself sends
/// (click-to-call) and `*.headers.json` belong to their `*.body.json`: neither is replayed.
/// Bodies are sent byte for byte; signatures and timestamps are made fresh with `secret`.
pub fn load_scenario(
    dir: &Path,
    kind: SourceKind,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<Vec<SimulatedRequest>, SimulateError> {
    let read_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SimulateError::Read { path, source }
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(read_err(dir))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            name.ends_with(".json") && !name.ends_with(".headers.json") && !name.starts_with("00_")
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(SimulateError::Empty(dir.to_path_buf()));
    }
    files
        .iter()
        .map(|path| {
            let body = std::fs::read(path).map_err(read_err(path))?;
            let recorded = recorded_headers(path)?;
            let file = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            Ok(sign(kind, secret, file, recorded, body, now))
        })
        .collect()
}

/// Headers recorded beside a `*.body.json`, without the ones that are made fresh.
fn recorded_headers(body_path: &Path) -> Result<Vec<(String, String)>, SimulateError> {
    let name = body_path.to_string_lossy();
    if !name.ends_with(".body.json") {
        return Ok(Vec::new());
    }
    let path = PathBuf::from(name.replace(".body.json", ".headers.json"));
    let Ok(raw) = std::fs::read(&path) else {
        return Ok(Vec::new());
    };
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&raw).map_err(|_| SimulateError::BadHeaders(path.clone()))?;
    Ok(map
        .into_iter()
        .filter(|(k, _)| !is_signing_header(k))
        .filter_map(|(k, v)| v.as_str().map(|v| (k, v.to_owned())))
        .collect())
}

/// Headers `sign` makes fresh for every send.
fn is_signing_header(name: &str) -> bool {
    name.ends_with("-signature") || name.ends_with("-timestamp")
}

/// A scenario loaded by [`load_scenario`], ready to be replayed as many distinct calls (load
/// tests, benches): copy `n` is the same calls under new ids. Every id the source's adapter
/// correlates on (call and leg ids, and the delivery id a re-sent request is recognised by) is
/// rewritten wherever it appears, then the request is signed again. Ids of six characters or
/// fewer (park slots, extensions) are kept. Copy 0 is the scenario itself.
pub struct ScenarioCopies {
    template: Vec<SimulatedRequest>,
    kind: SourceKind,
    secret: String,
    now: DateTime<Utc>,
    /// Found once, by parsing the template as the ingest endpoint would.
    ids: Vec<String>,
}

impl ScenarioCopies {
    pub fn new(
        template: Vec<SimulatedRequest>,
        kind: SourceKind,
        secret: &str,
        now: DateTime<Utc>,
    ) -> Self {
        let ids = correlation_ids(&template, kind, secret, now);
        ScenarioCopies {
            template,
            kind,
            secret: secret.to_owned(),
            now,
            ids,
        }
    }

    /// The requests of copy `n`, signed.
    pub fn copy(&self, n: usize) -> Vec<SimulatedRequest> {
        let renamed: Vec<(&str, String)> = self
            .ids
            .iter()
            .map(|id| (id.as_str(), id_of_copy(id, n)))
            .collect();
        let rewrite = |text: &str| {
            renamed
                .iter()
                .fold(text.to_owned(), |text, (id, new)| text.replace(id, new))
        };
        self.template
            .iter()
            .map(|request| {
                let body = match std::str::from_utf8(&request.body) {
                    Ok(body) => rewrite(body).into_bytes(),
                    Err(_) => request.body.clone(),
                };
                let headers = request
                    .headers
                    .iter()
                    .filter(|(name, _)| !is_signing_header(name))
                    .map(|(name, value)| (name.clone(), rewrite(value)))
                    .collect();
                let file = request.file.clone();
                sign(self.kind, &self.secret, file, headers, body, self.now)
            })
            .collect()
    }
}

/// The ids the adapter finds in the scenario's requests, longest first (so an id that holds
/// another is rewritten whole).
fn correlation_ids(
    requests: &[SimulatedRequest],
    kind: SourceKind,
    secret: &str,
    now: DateTime<Utc>,
) -> Vec<String> {
    let mut ids = std::collections::BTreeSet::new();
    for request in requests {
        let Ok(Parsed::Events(events)) = request.verify_and_parse(kind, secret, now) else {
            continue;
        };
        for event in &events {
            let keys = event.call_keys.iter().chain(&event.related_keys);
            let raw = keys.map(|key| key.split_once(':').map_or(key.as_str(), |(_, id)| id));
            ids.extend(raw.chain([event.dedupe_key.as_str()]).map(str::to_owned));
        }
    }
    let mut ids: Vec<String> = ids.into_iter().filter(|id| id.len() > 6).collect();
    ids.sort_by_key(|id| std::cmp::Reverse(id.len()));
    ids
}

/// What [`ScenarioCopies::copy`] makes of `id` in copy `n` (copy 0 keeps it). All-digit ids stay all digits
/// (Zoom's numeric call ids).
pub fn id_of_copy(id: &str, n: usize) -> String {
    if n == 0 {
        return id.to_owned();
    }
    let renumbered = id
        .parse::<u128>()
        .ok()
        .filter(|_| id.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|number| number.checked_add(n as u128));
    match renumbered {
        Some(number) => format!("{number:0width$}", width = id.len()),
        None => format!("{id}-{n}"),
    }
}

/// `body` as the source of `kind` would send it now: signed, or with Kazoo's token.
pub fn signed_request(
    kind: SourceKind,
    secret: &str,
    body: Vec<u8>,
    now: DateTime<Utc>,
) -> SimulatedRequest {
    sign(kind, secret, "inline".into(), Vec::new(), body, now)
}

fn sign(
    kind: SourceKind,
    secret: &str,
    file: String,
    mut headers: Vec<(String, String)>,
    body: Vec<u8>,
    now: DateTime<Utc>,
) -> SimulatedRequest {
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        headers.push(("content-type".into(), "application/json".into()));
    }
    let timestamp = now.timestamp().to_string();
    let mut query_token = None;
    match kind {
        SourceKind::Kazoo => query_token = Some(secret.to_owned()),
        SourceKind::Zoom => {
            let message = [b"v0:", timestamp.as_bytes(), b":", &body].concat();
            let signature = hmac_sha256_hex(secret.as_bytes(), &message).unwrap_or_default();
            headers.push(("x-zm-request-timestamp".into(), timestamp));
            headers.push(("x-zm-signature".into(), format!("v0={signature}")));
        }
        SourceKind::Zorio => {
            let signature = hmac_sha256_hex(secret.as_bytes(), &body).unwrap_or_default();
            headers.push(("x-zorio-timestamp".into(), timestamp));
            headers.push(("x-zorio-signature".into(), format!("sha256={signature}")));
        }
        // Socket sources take no webhooks: the request goes out unsigned and is refused.
        SourceKind::Asterisk | SourceKind::Freeswitch => {}
    }
    SimulatedRequest {
        file,
        headers,
        query_token,
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    fn fixtures(path: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/fixtures")
            .join(path)
    }

    fn verifies(kind: SourceKind, secret: &str, dir: &str) {
        let now = Utc::now();
        let requests = load_scenario(&fixtures(dir), kind, secret, now).unwrap();
        assert!(!requests.is_empty());
        for r in requests {
            let parsed = r.verify_and_parse(kind, secret, now);
            assert!(
                matches!(parsed, Ok(Parsed::Events(_)) | Ok(Parsed::Ignored { .. })),
                "{}: {parsed:?}",
                r.file
            );
        }
    }

    #[test]
    fn replayed_zorio_requests_are_signed_fresh_and_verify() {
        verifies(
            SourceKind::Zorio,
            "another-zorio-secret-123",
            "zorio/inbound_answered",
        );
    }

    #[test]
    fn replayed_zoom_requests_are_signed_fresh_and_verify() {
        verifies(
            SourceKind::Zoom,
            "another-zoom-secret-1234",
            "zoom/inbound_answered",
        );
    }

    #[test]
    fn replayed_kazoo_requests_carry_the_token() {
        verifies(
            SourceKind::Kazoo,
            "kazoo-token-abcdefghijk",
            "kazoo/inbound_answered",
        );
    }

    #[test]
    fn requests_ringhook_sends_itself_are_not_replayed() {
        let requests = load_scenario(
            &fixtures("kazoo/quickcall_click_to_call"),
            SourceKind::Kazoo,
            "t",
            Utc::now(),
        )
        .unwrap();
        assert!(requests.iter().all(|r| !r.file.starts_with("00_")));
        assert_eq!(requests.len(), 7);
    }

    #[tokio::test]
    async fn an_unreachable_server_is_reported_without_the_kazoo_token() {
        let secret = "kazoo-token-never-printed-0123";
        let now = Utc::now();
        let dir = fixtures("kazoo/inbound_answered");
        let request = load_scenario(&dir, SourceKind::Kazoo, secret, now)
            .unwrap()
            .remove(0);
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", closed.local_addr().unwrap());
        drop(closed);
        let client = reqwest::Client::new();
        let error = post(&client, &base, "src_01simulated", request)
            .await
            .unwrap_err()
            .to_string();
        assert!(error.contains("cannot reach"), "{error}");
        assert!(!error.contains(secret), "{error}");
        assert!(!error.contains("token="), "{error}");
    }

    #[test]
    fn an_empty_folder_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            load_scenario(dir.path(), SourceKind::Zorio, "s", Utc::now()),
            Err(SimulateError::Empty(_))
        ));
    }
}
