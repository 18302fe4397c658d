//! What the OTLP exporters send with: an HTTP client (HTTP/2 only for gRPC) over rustls or
//! cleartext, a request body made of a payload's chunks as they are, and the reading of a
//! `partial_success` answer.

use crate::Signal;
use crate::config::Duration;
use crate::config::net::{KeepaliveClientConfig, TlsClientConfig};
use crate::telemetry::{Counter, Registry};

/// The per-attempt timeout of a `timeout` setting: 0 means none (an hour stands for it).
pub(crate) fn attempt_timeout(timeout: Duration) -> std::time::Duration {
    if timeout.as_nanos() > 0 {
        timeout.to_std()
    } else {
        std::time::Duration::from_secs(3600)
    }
}

/// The counter of items a backend rejected in a `partial_success` answer (ours).
pub(crate) fn rejected_counter(registry: &Registry, id: &str, signal: Signal) -> Counter {
    registry.counter(
        &format!(
            "otelcol_exporter_partial_success_rejected_{}",
            signal.item_name()
        ),
        "Items a backend rejected in a partial success answer (not retried).",
        &[("exporter", id), ("data_type", signal.as_str())],
    )
}

/// A request body made of the payload's chunks, sent as they are.
pub(crate) struct ChunksBody {
    chunks: std::collections::VecDeque<bytes::Bytes>,
    len: u64,
}

impl ChunksBody {
    pub(crate) fn new(chunks: Vec<bytes::Bytes>) -> ChunksBody {
        let len = chunks.iter().map(|c| c.len() as u64).sum();
        ChunksBody {
            chunks: chunks.into(),
            len,
        }
    }
}

impl http_body::Body for ChunksBody {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<bytes::Bytes>, Self::Error>>> {
        let next = self.chunks.pop_front();
        if let Some(c) = &next {
            self.len -= c.len() as u64;
        }
        std::task::Poll::Ready(next.map(|c| Ok(http_body::Frame::data(c))))
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.len)
    }
}

/// An HTTP client over TLS or cleartext for one exporter.
pub(crate) type Client = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    ChunksBody,
>;

/// Builds the exporter's client for `uri`: TLS from `tls` (used for `https` URIs), HTTP/2
/// only for gRPC, keepalive pings when asked.
pub(crate) fn client(
    uri: &http::Uri,
    tls: &TlsClientConfig,
    http2_only: bool,
    keepalive: Option<&KeepaliveClientConfig>,
) -> Result<Client, crate::Error> {
    // The connector sets ALPN from the enabled HTTP versions (and panics if it is preset).
    let secure = uri.scheme_str() != Some("http");
    let tls_config = crate::tls::client_config(tls, secure)?;
    let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    let mut builder = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls_config)
        .https_or_http();
    if !tls.server_name_override.is_empty() {
        let name = rustls::pki_types::ServerName::try_from(tls.server_name_override.clone())
            .map_err(|e| {
                crate::Error::new(
                    crate::ErrorKind::Config,
                    format!(
                        "invalid server_name_override {:?}: {e}",
                        tls.server_name_override
                    ),
                )
            })?;
        builder =
            builder.with_server_name_resolver(hyper_rustls::FixedServerNameResolver::new(name));
    }
    let connector = if http2_only {
        builder.enable_http2().wrap_connector(http)
    } else {
        builder.enable_http1().enable_http2().wrap_connector(http)
    };
    let mut b = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new());
    b.timer(hyper_util::rt::TokioTimer::new());
    b.pool_timer(hyper_util::rt::TokioTimer::new());
    if http2_only {
        b.http2_only(true);
    }
    if let Some(k) = keepalive {
        if k.time.as_nanos() > 0 {
            b.http2_keep_alive_interval(k.time.to_std());
        }
        if k.timeout.as_nanos() > 0 {
            b.http2_keep_alive_timeout(k.timeout.to_std());
        }
        b.http2_keep_alive_while_idle(k.permit_without_stream);
    }
    Ok(b.build(connector))
}

/// Reads `partial_success` (field 1: rejected count = 1, error_message = 2) from an
/// encoded `Export*ServiceResponse`.
pub(crate) fn partial_success(response: &[u8]) -> Option<(i64, String)> {
    use crate::otlp::wire::{Fields, Value};
    let mut rejected = 0i64;
    let mut message = String::new();
    let mut found = false;
    for (f, v) in Fields::new(response) {
        if let (1, Value::Len(ps)) = (f, v) {
            found = true;
            for (f2, v2) in Fields::new(ps) {
                match (f2, v2) {
                    (1, Value::Varint(n)) => rejected = n as i64,
                    (2, Value::Len(m)) => message = String::from_utf8_lossy(m).into_owned(),
                    _ => {}
                }
            }
        }
    }
    (found && (rejected != 0 || !message.is_empty())).then_some((rejected, message))
}
