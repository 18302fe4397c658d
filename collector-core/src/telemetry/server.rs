//! The `/metrics` endpoint.

use bytes::Bytes;
use http::{Method, Response, StatusCode, header};
use http_body_util::Full;

use super::Registry;
use crate::server::{self, ServeOptions, ServerHandle};

/// Serves the registry at `/metrics` on `endpoint`.
pub(crate) fn start(endpoint: &str, registry: Registry) -> std::io::Result<ServerHandle> {
    let listeners = server::bind(endpoint)?;
    server::serve(listeners, ServeOptions::default(), move |req| {
        let registry = registry.clone();
        async move {
            let resp = if req.uri().path() != "/metrics" {
                (
                    StatusCode::NOT_FOUND,
                    "404 page not found\n".to_owned(),
                    "text/plain; charset=utf-8",
                )
            } else if req.method() != Method::GET && req.method() != Method::HEAD {
                (
                    StatusCode::METHOD_NOT_ALLOWED,
                    "405 method not allowed\n".to_owned(),
                    "text/plain; charset=utf-8",
                )
            } else {
                (
                    StatusCode::OK,
                    registry.render(),
                    "text/plain; version=0.0.4; charset=utf-8",
                )
            };
            Response::builder()
                .status(resp.0)
                .header(header::CONTENT_TYPE, resp.2)
                .body(Full::new(Bytes::from(resp.1)))
                .unwrap_or_default()
        }
    })
}
