//! The delivery a hook's `target_url` receives, described as an OpenAPI 3.1 webhook
//! (DESIGN.md "Delivery"; signing in `delivery::signing`).

use crate::normalizer::model::CallEvent;

/// A call event, POSTed to each subscribed hook's `target_url` and signed as Standard Webhooks
/// specify: the signed content is `{webhook-id}.{webhook-timestamp}.{body}`, the key the
/// base64-decoded part of the hook's `whsec_…` secret. Retries keep the `webhook-id`.
///
/// Any 2xx means delivered. `410 Gone` deletes the subscription and stops retrying. Anything
/// else (timeouts, 5xx, 429, other 4xx, connection errors) is retried with exponential backoff
/// and jitter for about two days, honouring `Retry-After`; redirects are not followed.
#[utoipa::path(
    post,
    path = "call.event",
    operation_id = "callEvent",
    tag = "hooks",
    params(
        ("webhook-id" = String, Header, description = "The delivery (`dlv_…`), stable across retries: deduplicate on it", example = "dlv_01jd8kq2m3n4p5q6r7s8t9v0wx"),
        ("webhook-timestamp" = String, Header, description = "Unix seconds when this attempt was signed", example = "1732363200"),
        ("webhook-signature" = String, Header, description = "`v1,` + base64 HMAC-SHA256(key, `{webhook-id}.{webhook-timestamp}.{body}`); space-separated when several", example = "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="),
        ("user-agent" = String, Header, description = "`ringhook/<version>`"),
    ),
    request_body(content = CallEvent, content_type = "application/json"),
    responses(
        (status = "2XX", description = "Delivered"),
        (status = 410, description = "The subscription is dead: ringhook deletes the hook and stops retrying"),
        (status = "default", description = "Not delivered: retried with backoff"),
    ),
)]
#[allow(dead_code)]
fn call_event() {}
