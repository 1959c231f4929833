//! The committed API description (`openapi/openapi.json`) is the one the code generates, and
//! it covers the public contract of DESIGN.md.

use serde_json::Value;

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");

#[test]
fn the_committed_openapi_file_is_what_the_code_generates() {
    let committed = std::fs::read_to_string(COMMITTED).unwrap_or_default();
    let generated = ringhook::openapi::to_json();
    assert!(
        committed == generated,
        "openapi/openapi.json is out of date with the code; regenerate it with\n\n    \
         cargo run --quiet -- openapi > openapi/openapi.json\n\nand commit the result"
    );
}

fn document() -> Value {
    serde_json::from_str(&ringhook::openapi::to_json()).unwrap()
}

#[test]
fn every_public_endpoint_is_described() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    let expected = [
        ("post", "/ingest/{source_id}"),
        ("get", "/oauth/authorize"),
        ("post", "/oauth/authorize"),
        ("post", "/oauth/token"),
        ("post", "/oauth/revoke"),
        ("post", "/oauth/introspect"),
        ("get", "/oauth/jwks"),
        ("get", "/.well-known/oauth-authorization-server"),
        ("get", "/v1/me"),
        ("post", "/v1/hooks"),
        ("get", "/v1/hooks"),
        ("get", "/v1/hooks/{id}"),
        ("delete", "/v1/hooks/{id}"),
        ("get", "/v1/hooks/{id}/deliveries"),
        ("post", "/v1/deliveries/{id}/retry"),
        ("get", "/v1/events"),
        ("get", "/v1/users"),
        ("get", "/v1/media/{id}"),
        ("post", "/v1/calls"),
        ("get", "/v1/calls/{id}"),
        ("get", "/v1/admin/tenant"),
        ("patch", "/v1/admin/tenant"),
        ("get", "/v1/admin/users"),
        ("get", "/v1/admin/users/{id}"),
        ("patch", "/v1/admin/users/{id}"),
        ("delete", "/v1/admin/users/{id}"),
        ("put", "/v1/admin/users/{id}/password"),
        ("post", "/v1/admin/users/{id}/links"),
        ("post", "/v1/admin/users/{id}/links/remove"),
        ("post", "/v1/admin/users/{id}/disable"),
        ("post", "/v1/admin/users/{id}/enable"),
        ("get", "/v1/admin/sources"),
        ("get", "/v1/admin/sources/{id}"),
        ("patch", "/v1/admin/sources/{id}"),
        ("delete", "/v1/admin/sources/{id}"),
        ("post", "/v1/admin/sources/{id}/rotate-secret"),
        ("post", "/v1/admin/sources/{id}/disable"),
        ("post", "/v1/admin/sources/{id}/enable"),
        ("get", "/v1/admin/audit"),
        ("get", "/v1/admin/sources/{id}/queues"),
        ("put", "/v1/admin/sources/{id}/queues/{external_id}"),
        ("delete", "/v1/admin/sources/{id}/queues/{external_id}"),
        ("get", "/v1/admin/hooks"),
        ("post", "/v1/admin/hooks/{id}/enable"),
        ("delete", "/v1/admin/hooks/{id}"),
        ("get", "/healthz"),
        ("get", "/readyz"),
        ("get", "/metrics"),
    ];
    for (method, path) in expected {
        assert!(
            doc["paths"][path][method].is_object(),
            "{} {path} is not described",
            method.to_uppercase()
        );
    }
    let described: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    assert_eq!(
        described,
        expected.len(),
        "an undocumented route was described"
    );
}

#[test]
fn every_operation_under_v1_needs_a_bearer_token() {
    let doc = document();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/v1/") {
            continue;
        }
        for (method, operation) in item.as_object().unwrap() {
            let schemes: Vec<&str> = operation["security"]
                .as_array()
                .unwrap_or_else(|| panic!("{method} {path} has no security"))
                .iter()
                .flat_map(|requirement| requirement.as_object().unwrap().keys())
                .map(String::as_str)
                .collect();
            assert!(schemes.contains(&"bearer"), "{method} {path}: {schemes:?}");
            assert!(
                operation["responses"]["401"].is_object(),
                "{method} {path} does not describe its 401"
            );
        }
    }
}

#[test]
fn the_delivery_webhook_carries_the_standard_webhooks_headers_and_a_call_event() {
    let doc = document();
    let delivery = &doc["webhooks"]["call.event"]["post"];
    let headers: Vec<&str> = delivery["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["in"] == "header")
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        assert!(headers.contains(&name), "{name} missing: {headers:?}");
    }
    assert_eq!(
        delivery["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/CallEvent"
    );
}

#[test]
fn the_oauth2_scheme_lists_every_scope() {
    let doc = document();
    let flow = &doc["components"]["securitySchemes"]["oauth2"]["flows"]["authorizationCode"];
    assert_eq!(flow["authorizationUrl"], "/oauth/authorize");
    assert_eq!(flow["tokenUrl"], "/oauth/token");
    for scope in ["calls:read", "calls:write", "tenant:admin"] {
        assert!(flow["scopes"][scope].is_string(), "{scope} missing");
    }
}

#[test]
fn the_event_types_are_the_fourteen_call_triggers() {
    let doc = document();
    let types = doc["components"]["schemas"]["EventType"]["enum"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(types, ringhook::normalizer::model::EventType::ALL.len());
}
