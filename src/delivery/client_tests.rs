//! The delivery client against real HTTP servers on 127.0.0.1.

use super::*;
use std::net::SocketAddr;
use std::sync::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A one-answer HTTP/1.1 server that records the requests it receives.
struct Receiver {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Receiver {
    /// Answers every request with `response` (raw HTTP) after `delay`.
    async fn start(response: String, delay: Duration) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&requests);
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let recorded = Arc::clone(&recorded);
                let response = response.clone();
                tokio::spawn(async move {
                    let request = read_request(&mut stream).await;
                    recorded.lock().unwrap().push(request);
                    tokio::time::sleep(delay).await;
                    let _ = stream.write_all(response.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        Receiver { addr, requests }
    }

    async fn answering(status_line: &str, headers: &str, body: &str) -> Receiver {
        let response = format!(
            "HTTP/1.1 {status_line}\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        Receiver::start(response, Duration::ZERO).await
    }

    fn url(&self) -> TargetUrl {
        TargetUrl::parse(&format!("http://{}/hook", self.addr), &open_policy()).unwrap()
    }

    fn hits(&self) -> usize {
        self.requests.lock().unwrap().len()
    }
}

/// Reads one request: the head, then `content-length` bytes of body.
async fn read_request(stream: &mut tokio::net::TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).into_owned();
        if let Some(head_end) = text.find("\r\n\r\n") {
            let length = text[..head_end]
                .lines()
                .find_map(|line| {
                    line.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if buf.len() >= head_end + 4 + length {
                return text;
            }
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

fn open_policy() -> TargetPolicy {
    TargetPolicy {
        allow_private: true,
        allow_http: true,
        allow_list: Vec::new(),
    }
}

fn client() -> DeliveryClient {
    DeliveryClient::new(open_policy(), &ClientSettings::default()).unwrap()
}

fn json_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", "application/json".parse().unwrap());
    headers.insert("webhook-id", "dlv_1".parse().unwrap());
    headers
}

#[tokio::test]
async fn a_2xx_answer_is_a_success_with_its_body() {
    let receiver = Receiver::answering("200 OK", "", "thanks").await;
    let outcome = client().post(&receiver.url(), json_headers(), "{}").await;
    assert!(outcome.is_success());
    assert_eq!(outcome.status(), Some(200));
    assert_eq!(outcome.body, "thanks");
    assert_eq!(outcome.error, None);
}

#[tokio::test]
async fn the_request_carries_the_headers_body_and_user_agent() {
    let receiver = Receiver::answering("204 No Content", "", "").await;
    client()
        .post(&receiver.url(), json_headers(), r#"{"id":"evt_1"}"#)
        .await;
    let request = receiver.requests.lock().unwrap()[0].to_ascii_lowercase();
    assert!(request.starts_with("post /hook http/1.1"));
    assert!(request.contains("webhook-id: dlv_1"));
    assert!(request.contains(&format!("user-agent: {DELIVERY_USER_AGENT}")));
    assert!(request.ends_with(r#"{"id":"evt_1"}"#));
}

#[tokio::test]
async fn a_500_answer_is_recorded_as_a_failure() {
    let receiver = Receiver::answering("500 Internal Server Error", "", "boom").await;
    let outcome = client().post(&receiver.url(), json_headers(), "{}").await;
    assert!(!outcome.is_success());
    assert_eq!(outcome.result, AttemptResult::Status(500));
    assert_eq!(outcome.body, "boom");
}

#[tokio::test]
async fn a_410_answer_is_recorded_as_gone() {
    let receiver = Receiver::answering("410 Gone", "", "").await;
    let outcome = client().post(&receiver.url(), json_headers(), "{}").await;
    assert_eq!(outcome.result, AttemptResult::Status(410));
}

#[tokio::test]
async fn a_429_answer_carries_its_retry_after() {
    let receiver = Receiver::answering("429 Too Many Requests", "retry-after: 120\r\n", "").await;
    let outcome = client().post(&receiver.url(), json_headers(), "{}").await;
    assert_eq!(outcome.result, AttemptResult::Status(429));
    assert_eq!(outcome.retry_after, Some(Duration::from_secs(120)));
}

#[tokio::test]
async fn a_redirect_is_not_followed_and_counts_as_a_failure() {
    let elsewhere = Receiver::answering("200 OK", "", "").await;
    let location = format!("location: http://{}/stolen\r\n", elsewhere.addr);
    let receiver = Receiver::answering("302 Found", &location, "").await;
    let outcome = client().post(&receiver.url(), json_headers(), "{}").await;
    assert!(!outcome.is_success());
    assert_eq!(outcome.result, AttemptResult::Status(302));
    assert_eq!(elsewhere.hits(), 0);
}

#[tokio::test]
async fn a_slow_receiver_times_out() {
    let response = "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n".to_owned();
    let receiver = Receiver::start(response, Duration::from_secs(5)).await;
    let settings = ClientSettings {
        timeout: Duration::from_millis(300),
        ..ClientSettings::default()
    };
    let client = DeliveryClient::new(open_policy(), &settings).unwrap();
    let outcome = client.post(&receiver.url(), json_headers(), "{}").await;
    assert_eq!(outcome.result, AttemptResult::Timeout);
    assert!(outcome.duration < Duration::from_secs(2));
    assert!(outcome.error.is_some());
}

#[tokio::test]
async fn a_large_body_is_cut_at_4_kib() {
    let big = "x".repeat(100 * 1024);
    let receiver = Receiver::answering("400 Bad Request", "", &big).await;
    let outcome = client().post(&receiver.url(), json_headers(), "{}").await;
    assert_eq!(outcome.body.len(), MAX_RECORDED_BODY);
    assert!(outcome.body_truncated);
}

#[tokio::test]
async fn a_body_of_exactly_4_kib_is_kept_whole() {
    let exact = "y".repeat(MAX_RECORDED_BODY);
    let receiver = Receiver::answering("200 OK", "", &exact).await;
    let outcome = client().post(&receiver.url(), json_headers(), "{}").await;
    assert_eq!(outcome.body, exact);
    assert!(!outcome.body_truncated);
}

#[tokio::test]
async fn loopback_literals_are_refused_without_private_targets() {
    let receiver = Receiver::answering("200 OK", "", "").await;
    let strict = DeliveryClient::new(TargetPolicy::default(), &ClientSettings::default()).unwrap();
    let outcome = strict.post(&receiver.url(), json_headers(), "{}").await;
    assert_eq!(outcome.result, AttemptResult::ConnectionFailed);
    assert_eq!(receiver.hits(), 0);
}

#[tokio::test]
async fn names_resolving_to_loopback_are_refused_without_private_targets() {
    let receiver = Receiver::answering("200 OK", "", "").await;
    let raw = format!("http://localhost:{}/hook", receiver.addr.port());
    let url = TargetUrl::parse(&raw, &open_policy()).unwrap();
    let strict = DeliveryClient::new(TargetPolicy::default(), &ClientSettings::default()).unwrap();
    let outcome = strict.post(&url, json_headers(), "{}").await;
    assert_eq!(outcome.result, AttemptResult::ConnectionFailed);
    assert!(outcome.error.unwrap().contains("not public"));
    assert_eq!(receiver.hits(), 0);
}

#[tokio::test]
async fn an_allow_listed_loopback_name_is_reached_through_the_guarded_resolver() {
    let receiver = Receiver::answering("200 OK", "", "").await;
    let raw = format!("http://localhost:{}/hook", receiver.addr.port());
    let url = TargetUrl::parse(&raw, &open_policy()).unwrap();
    let policy = TargetPolicy {
        allow_private: false,
        allow_http: true,
        allow_list: vec!["127.0.0.0/8".parse().unwrap()],
    };
    let client = DeliveryClient::new(policy, &ClientSettings::default()).unwrap();
    let outcome = client.post(&url, json_headers(), "{}").await;
    assert!(outcome.is_success(), "{outcome:?}");
}

#[tokio::test]
async fn a_refused_connection_is_a_connection_failure() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let url = TargetUrl::parse(&format!("http://{addr}/"), &open_policy()).unwrap();
    let outcome = client().post(&url, json_headers(), "{}").await;
    assert_eq!(outcome.result, AttemptResult::ConnectionFailed);
}
