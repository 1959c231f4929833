//! Requests no route takes: `405 Method Not Allowed` with an `Allow` header when the path
//! exists under other methods (RFC 9110 §15.5.6), `404` otherwise. The known paths and their
//! methods come from the OpenAPI document, which a test keeps identical to the routes served.

use crate::error::{ApiError, ProblemCode};
use actix_web::dev::ResourceDef;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use utoipa::openapi::{OpenApi, PathItem};

/// Every documented path, with the methods it serves.
pub struct KnownPaths {
    paths: Vec<(ResourceDef, String)>,
}

impl KnownPaths {
    pub fn from_document(document: &OpenApi) -> Self {
        let paths = document
            .paths
            .paths
            .iter()
            .map(|(path, item)| (ResourceDef::new(path.as_str()), methods(item).join(", ")))
            .collect();
        KnownPaths { paths }
    }

    /// The `Allow` value for `path`, if it is a known path.
    pub fn allowed(&self, path: &str) -> Option<&str> {
        self.paths
            .iter()
            .find(|(pattern, _)| pattern.is_match(path))
            .map(|(_, allow)| allow.as_str())
    }
}

fn methods(item: &PathItem) -> Vec<&'static str> {
    [
        ("GET", &item.get),
        ("POST", &item.post),
        ("PUT", &item.put),
        ("PATCH", &item.patch),
        ("DELETE", &item.delete),
    ]
    .into_iter()
    .filter(|(_, operation)| operation.is_some())
    .map(|(method, _)| method)
    .collect()
}

/// The app's default service.
pub async fn unmatched(req: HttpRequest, known: web::Data<KnownPaths>) -> HttpResponse {
    let Some(allow) = known.allowed(req.path()) else {
        return ApiError::not_found("no such route").error_response();
    };
    let mut response = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        ProblemCode::MethodNotAllowed,
        format!(
            "{} {} is not served; allowed: {allow}",
            req.method(),
            req.path()
        ),
    )
    .error_response();
    if let Ok(value) = allow.parse() {
        response
            .headers_mut()
            .insert(actix_web::http::header::ALLOW, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> KnownPaths {
        KnownPaths::from_document(&crate::openapi::document())
    }

    #[test]
    fn a_path_with_a_parameter_lists_its_methods() {
        assert_eq!(known().allowed("/v1/hooks/hook_123"), Some("GET, DELETE"));
        assert_eq!(known().allowed("/v1/hooks"), Some("GET, POST"));
        assert_eq!(known().allowed("/oauth/token"), Some("POST"));
    }

    #[test]
    fn an_unknown_path_is_not_known() {
        assert_eq!(known().allowed("/v1/nothing"), None);
        assert_eq!(known().allowed("/v1/hooks/h/deliveries/x"), None);
    }
}
