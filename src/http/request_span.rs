//! The span every request is logged in. It is `tracing-actix-web`'s root span without the
//! query string: Kazoo sources authenticate with `?token=<secret>` in the ingest URL, and
//! secrets are never logged. Query parameter names are kept, their values are not.

use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage, body::MessageBody};
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder};

pub struct RedactedRootSpan;

impl RootSpanBuilder for RedactedRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let route = request
            .match_pattern()
            .unwrap_or_else(|| "unmatched".into());
        let user_agent = request
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(ToString::to_string)
            .unwrap_or_default();
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %route,
            http.target = %redacted_target(request.path(), request.query_string()),
            http.client_ip = %request.connection_info().realip_remote_addr().unwrap_or(""),
            http.user_agent = %user_agent,
            http.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            request_id = %request_id,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// `path?name=…&other=…`: the path and the parameter names, never their values.
fn redacted_target(path: &str, query: &str) -> String {
    if query.is_empty() {
        return path.to_owned();
    }
    let names: Vec<&str> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split('=').next().unwrap_or(""))
        .collect();
    format!("{path}?{}", names.join("=…&") + "=…")
}

#[cfg(test)]
mod tests {
    use super::redacted_target;

    #[test]
    fn query_values_are_dropped_and_names_kept() {
        assert_eq!(
            redacted_target("/ingest/src_1", "token=s3cret"),
            "/ingest/src_1?token=…"
        );
        assert_eq!(
            redacted_target(
                "/oauth/authorize",
                "client_id=cli_1&state=xyz&code_challenge=abc"
            ),
            "/oauth/authorize?client_id=…&state=…&code_challenge=…"
        );
        assert_eq!(redacted_target("/v1/hooks", ""), "/v1/hooks");
    }
}
