//! Operations endpoints, error shapes and shutdown, through the real server.

use crate::support::{spawn_app, spawn_app_with};
use ringhook::config::Backend;

#[tokio::test]
async fn healthz_answers_200_while_the_process_runs() {
    let app = spawn_app().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);
}

async fn readyz_answers_200_when_the_database_is_reachable(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["database"], "ok");
}

#[tokio::test]
async fn readyz_answers_503_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.state.storage.close().await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "unavailable");
}

for_each_backend!(readyz_answers_200_when_the_database_is_reachable);

#[tokio::test]
async fn unknown_routes_answer_problem_json_404() {
    let app = spawn_app().await;
    let response = app.get("/no/such/route").await;
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "not_found");
    assert_eq!(body["status"], 404);
}

#[tokio::test]
async fn a_method_a_path_does_not_serve_answers_405_with_allow() {
    let app = spawn_app().await;
    for (method, path, allow) in [
        (reqwest::Method::DELETE, "/v1/hooks", "GET, POST"),
        (reqwest::Method::PUT, "/v1/hooks/hook_01jabc", "GET, DELETE"),
        (reqwest::Method::GET, "/oauth/token", "POST"),
        (reqwest::Method::GET, "/ingest/src_anything", "POST"),
    ] {
        let response = app
            .client
            .request(method.clone(), app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405, "{method} {path}");
        assert_eq!(response.headers()["allow"], allow, "{method} {path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["code"], "method_not_allowed");
    }
}

#[tokio::test]
async fn head_is_served_like_get_without_a_body() {
    let app = spawn_app().await;
    let head = |path: &str| app.client.head(app.url(path)).send();
    let health = head("/healthz").await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.headers()["content-type"], "application/json");
    assert!(health.bytes().await.unwrap().is_empty());
    let token = head("/oauth/token").await.unwrap();
    assert_eq!(token.status(), 405);
    assert_eq!(token.headers()["allow"], "POST");
}

#[tokio::test]
async fn bodies_over_the_configured_limit_answer_413() {
    let app = spawn_app_with(Backend::Sqlite, |s| s.max_body_bytes = 2048)
        .await
        .unwrap();
    let response = app
        .client
        .post(app.url("/ingest/src_anything"))
        .body(vec![b'a'; 4096])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "payload_too_large");
    assert!(body["detail"].as_str().unwrap().contains("2048"));
}

#[tokio::test]
async fn bodies_within_the_limit_are_not_refused_for_size() {
    let app = spawn_app_with(Backend::Sqlite, |s| s.max_body_bytes = 2048)
        .await
        .unwrap();
    let response = app
        .client
        .post(app.url("/ingest/src_anything"))
        .body(vec![b'a'; 1024])
        .send()
        .await
        .unwrap();
    assert_ne!(response.status(), 413);
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status_and_show_the_pool() {
    let app = spawn_app().await;
    app.get("/healthz").await;
    app.get("/healthz").await;
    app.get("/missing").await;
    let text = app.get("/metrics").await.text().await.unwrap();
    assert!(
        text.contains(
            r#"ringhook_http_requests_total{method="GET",route="/healthz",status="200"} 2"#
        ),
        "{text}"
    );
    assert!(
        text.contains(
            r#"ringhook_http_requests_total{method="GET",route="unmatched",status="404"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"ringhook_db_pool_connections{state="max"} 5"#),
        "{text}"
    );
    assert!(
        text.contains(r#"ringhook_db_pool_connections{state="open"}"#),
        "{text}"
    );
}

#[tokio::test]
async fn shutdown_drains_and_stops_serving() {
    let app = spawn_app().await;
    let address = app.url("/healthz");
    let client = app.client.clone();
    app.stop().await.expect("clean shutdown");
    assert!(client.get(address).send().await.is_err());
}
