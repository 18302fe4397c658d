//! object_store's HTTP transport on the collector's own hyper and rustls stack.
//!
//! object_store's built-in transport is reqwest with aws-lc-rs; the collector already ships
//! hyper, hyper-rustls and rustls with ring, so object_store runs with its `ring` signer and
//! this connector instead: one TLS stack, one root store, no C crypto library to build.

use std::cell::Cell;
use std::time::Duration;

use async_trait::async_trait;
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector as TcpConnector;
use object_store::ClientOptions;
use object_store::client::{
    HttpClient, HttpConnector, HttpError, HttpErrorKind, HttpRequest, HttpRequestBody,
    HttpResponse, HttpResponseBody, HttpService,
};

use crate::Error;
use crate::config::net::TlsClientConfig;

tokio::task_local! {
    /// The status of the last HTTP response in this task's upload: object_store does not
    /// expose the status of a failed request, and the exporter needs it to tell a
    /// throttled or failing S3 (retry) from a refused request (drop).
    pub(crate) static LAST_STATUS: Cell<u16>;
}

/// How long a TCP connection may take to open (the AWS SDK for Go also uses a few
/// seconds); the whole upload is bounded by the exporter's `timeout` on top.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A hyper client serving object_store's requests (S3 and credential endpoints).
#[derive(Clone)]
pub(crate) struct HyperTransport {
    client: Client<hyper_rustls::HttpsConnector<TcpConnector>, HttpRequestBody>,
}

impl std::fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HyperTransport").finish_non_exhaustive()
    }
}

impl HyperTransport {
    /// A client verifying servers against the system roots (HTTP/1.1, as S3 speaks it).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`] when the TLS configuration cannot be built.
    pub(crate) fn new() -> Result<HyperTransport, Error> {
        let tls = crate::tls::client_config(&TlsClientConfig::default(), true)?;
        let mut tcp = TcpConnector::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        tcp.set_connect_timeout(Some(CONNECT_TIMEOUT));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        let mut b = Client::builder(hyper_util::rt::TokioExecutor::new());
        b.timer(hyper_util::rt::TokioTimer::new());
        b.pool_timer(hyper_util::rt::TokioTimer::new());
        b.pool_idle_timeout(Duration::from_secs(30));
        Ok(HyperTransport {
            client: b.build(https),
        })
    }

    /// Sends one request, recording the response status for the upload in progress.
    pub(crate) async fn send(&self, req: HttpRequest) -> Result<HttpResponse, HttpError> {
        let resp = self.client.request(req).await.map_err(|e| {
            let kind = if e.is_connect() {
                HttpErrorKind::Connect
            } else {
                HttpErrorKind::Request
            };
            HttpError::new(kind, e)
        })?;
        let status = resp.status().as_u16();
        let _ = LAST_STATUS.try_with(|s| s.set(status));
        let (parts, body) = resp.into_parts();
        let body = body.map_err(|e| HttpError::new(HttpErrorKind::Interrupted, e));
        Ok(HttpResponse::from_parts(parts, HttpResponseBody::new(body)))
    }
}

impl HttpConnector for HyperTransport {
    // `ClientOptions` mostly configure reqwest: default headers (the ACL) are added and
    // signed by object_store before a request gets here, and plain HTTP is allowed or not by
    // the endpoint the exporter configures, so nothing else needs carrying over.
    fn connect(&self, _options: &ClientOptions) -> object_store::Result<HttpClient> {
        Ok(HttpClient::new(self.clone()))
    }
}

#[async_trait]
impl HttpService for HyperTransport {
    async fn call(&self, req: HttpRequest) -> Result<HttpResponse, HttpError> {
        self.send(req).await
    }
}
