//! Passes the source's answer back as it arrives: status (200, 206, 416), the headers a player
//! or a file hydrator needs, and the body as a stream, so memory stays flat whatever the size.
//! The size cap is checked on `Content-Length` up front and counted while streaming.

use crate::error::{ApiError, ProblemCode};
use crate::ingest::RawMedia;
use actix_web::HttpResponse;
use actix_web::http::header::{self, HeaderName};
use actix_web::http::{Method, StatusCode};
use bytes::Bytes;
use futures_util::stream;
use std::io;

/// Response headers passed back from the source.
const PASSED_BACK: [HeaderName; 5] = [
    header::CONTENT_RANGE,
    header::ACCEPT_RANGES,
    header::ETAG,
    header::LAST_MODIFIED,
    header::CONTENT_DISPOSITION,
];

/// The client's answer for the source's `upstream` answer.
pub fn relay(
    upstream: reqwest::Response,
    media: &RawMedia,
    max_bytes: u64,
    method: &Method,
) -> Result<HttpResponse, ApiError> {
    let status = upstream.status().as_u16();
    let status = match status {
        200 | 206 | 416 => StatusCode::from_u16(status).map_err(ApiError::internal)?,
        404 | 410 => return Err(ApiError::not_found("the source no longer has this file")),
        401 | 403 => {
            return Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                ProblemCode::PbxMisconfigured,
                format!("the source refused ringhook's credentials (HTTP {status})"),
            ));
        }
        _ => {
            return Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                ProblemCode::PbxError,
                format!("the source answered HTTP {status}"),
            ));
        }
    };
    // Read from the header: for a HEAD answer the body (hence reqwest's length) is empty.
    let length = upstream
        .headers()
        .get(reqwest::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if length.is_some_and(|len| len > max_bytes) {
        return Err(too_large(max_bytes));
    }
    let mut response = HttpResponse::build(status);
    let content_type = upstream
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .unwrap_or(media.content_type.as_str())
        .to_owned();
    response.insert_header((header::CONTENT_TYPE, content_type));
    response.insert_header((header::CACHE_CONTROL, "private, no-store"));
    for name in PASSED_BACK {
        if let Some(value) = upstream.headers().get(name.as_str())
            && let Ok(value) = header::HeaderValue::from_bytes(value.as_bytes())
        {
            response.insert_header((name, value));
        }
    }
    if *method == Method::HEAD {
        return Ok(match length {
            Some(len) => response
                .no_chunking(len)
                .streaming(stream::empty::<Result<Bytes, io::Error>>()),
            None => response.finish(),
        });
    }
    let body = capped(upstream, max_bytes);
    Ok(match length {
        Some(len) => response.no_chunking(len).streaming(body),
        None => response.streaming(body),
    })
}

fn too_large(max_bytes: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        ProblemCode::PayloadTooLarge,
        format!("the file is larger than media_max_bytes ({max_bytes} bytes)"),
    )
}

/// The upstream body, piece by piece, failing (which cuts the connection) once more than
/// `max_bytes` went by or the source breaks off.
fn capped(
    upstream: reqwest::Response,
    max_bytes: u64,
) -> impl futures_util::Stream<Item = Result<Bytes, io::Error>> {
    stream::try_unfold((upstream, 0u64), move |(mut upstream, sent)| async move {
        let chunk = upstream.chunk().await.map_err(|e| {
            tracing::warn!(error = %e.without_url(), "the source broke off a media file");
            io::Error::other("the source broke off the file")
        })?;
        let Some(chunk) = chunk else {
            return Ok(None);
        };
        let sent = sent + chunk.len() as u64;
        if sent > max_bytes {
            tracing::warn!(max_bytes, "a media file ran past media_max_bytes; cut");
            return Err(io::Error::other("the file is larger than media_max_bytes"));
        }
        Ok(Some((chunk, (upstream, sent))))
    })
}
