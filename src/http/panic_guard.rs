//! Last line of defence: a panic in a handler (a bug, not a bad request) is answered `500`
//! problem+json and counted in `ringhook_handler_panics_total`, instead of dropping the
//! connection without an answer. The panic hook still prints where it happened.

use crate::error::{ApiError, ProblemCode};
use actix_web::Error;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::StatusCode;
use futures_util::FutureExt;
use futures_util::future::{LocalBoxFuture, Ready, ready};
use prometheus::{IntCounter, Registry};
use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::rc::Rc;

/// The middleware factory; cheap to clone into every worker's `App`.
#[derive(Clone)]
pub struct CatchPanics {
    panics: IntCounter,
}

impl CatchPanics {
    /// Registers the panic counter in `registry` (once per application).
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let panics = IntCounter::new(
            "handler_panics_total",
            "Requests whose handler panicked (answered 500)",
        )?;
        registry.register(Box::new(panics.clone()))?;
        Ok(CatchPanics { panics })
    }
}

impl<S, B> Transform<S, ServiceRequest> for CatchPanics
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Transform = CatchPanicsService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(CatchPanicsService {
            service: Rc::new(service),
            panics: self.panics.clone(),
        }))
    }
}

pub struct CatchPanicsService<S> {
    service: Rc<S>,
    panics: IntCounter,
}

impl<S, B> Service<ServiceRequest> for CatchPanicsService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    /// The request itself cannot be kept for the answer (routing needs it unshared), so a panic
    /// becomes an error, which actix answers with the error's problem+json response.
    fn call(&self, req: ServiceRequest) -> Self::Future {
        let path = req.path().to_owned();
        let service = Rc::clone(&self.service);
        let panics = self.panics.clone();
        Box::pin(async move {
            // Both the call (which may run extractors) and the future it returns may panic.
            let outcome = match std::panic::catch_unwind(AssertUnwindSafe(|| service.call(req))) {
                Ok(future) => AssertUnwindSafe(future).catch_unwind().await,
                Err(payload) => Err(payload),
            };
            outcome.unwrap_or_else(|payload| {
                panics.inc();
                tracing::error!(
                    panic = panic_message(payload.as_ref()),
                    path,
                    "a request handler panicked"
                );
                Err(ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ProblemCode::Internal,
                    "an unexpected error occurred; it has been logged",
                )
                .into())
            })
        })
    }
}

/// The text a `panic!` carried, when it is text.
fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(not a string)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::{App, HttpResponse, HttpServer, web};
    use prometheus::Encoder;

    /// A real server on a loopback port whose `/boom` panics and `/fine` answers `fine`.
    fn serve(registry: &Registry) -> (String, actix_web::dev::ServerHandle) {
        let guard = CatchPanics::register(registry).unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let server = HttpServer::new(move || {
            App::new()
                .wrap(guard.clone())
                .route(
                    "/boom",
                    web::get().to(|| async {
                        if std::hint::black_box(true) {
                            panic!("boom");
                        }
                        HttpResponse::Ok().finish()
                    }),
                )
                .route("/fine", web::get().to(|| async { "fine" }))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        (address, handle)
    }

    /// The counter's value as `/metrics` renders it.
    fn panics_counted(registry: &Registry) -> u64 {
        let mut text = Vec::new();
        prometheus::TextEncoder::new()
            .encode(&registry.gather(), &mut text)
            .unwrap();
        String::from_utf8(text)
            .unwrap()
            .lines()
            .find_map(|line| line.strip_prefix("handler_panics_total "))
            .map_or(0, |value| value.trim().parse().unwrap())
    }

    #[actix_web::test]
    async fn a_panicking_handler_is_answered_500_problem_json_and_counted() {
        let registry = Registry::new();
        let (address, server) = serve(&registry);
        let response = reqwest::get(format!("{address}/boom")).await.unwrap();
        assert_eq!(response.status(), 500);
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["code"], "internal");
        assert_eq!(panics_counted(&registry), 1);
        server.stop(false).await;
    }

    #[actix_web::test]
    async fn requests_that_do_not_panic_pass_through_untouched_and_uncounted() {
        let registry = Registry::new();
        let (address, server) = serve(&registry);
        for _ in 0..3 {
            let boom = reqwest::get(format!("{address}/boom")).await.unwrap();
            assert_eq!(boom.status(), 500);
        }
        let fine = reqwest::get(format!("{address}/fine")).await.unwrap();
        assert_eq!(fine.status(), 200);
        assert_eq!(fine.text().await.unwrap(), "fine");
        assert_eq!(panics_counted(&registry), 3);
        server.stop(false).await;
    }
}
