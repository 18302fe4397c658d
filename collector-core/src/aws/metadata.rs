//! A small plain-HTTP client for metadata endpoints (ECS task metadata, EC2 IMDS): every
//! request bounded by the detection deadline, bodies capped.

use bytes::Bytes;
use http::{Method, Request};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use tokio::time::Instant;

use crate::{Error, ErrorKind};

/// Metadata documents are a few KiB; anything larger is not a metadata service.
const MAX_BODY: usize = 1 << 20;

/// One client per detection run; connections are not kept beyond it.
#[derive(Clone, Debug)]
pub(crate) struct MetadataClient {
    client: Client<HttpConnector, Full<Bytes>>,
}

/// A response: status and body.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: http::StatusCode,
    pub(crate) body: Bytes,
}

impl MetadataClient {
    pub(crate) fn new() -> MetadataClient {
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        let mut b = Client::builder(hyper_util::rt::TokioExecutor::new());
        b.timer(hyper_util::rt::TokioTimer::new());
        b.pool_timer(hyper_util::rt::TokioTimer::new());
        // Metadata services answer once or twice per start: no pool worth keeping.
        b.pool_max_idle_per_host(0);
        MetadataClient {
            client: b.build(http),
        }
    }

    /// Sends one request and reads the answer, all before `deadline`. Transport failures
    /// and the deadline are `ErrorKind::Io` / `ErrorKind::Timeout`; the status is the
    /// caller's to judge.
    pub(crate) async fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        deadline: Instant,
    ) -> Result<Answer, Error> {
        let mut b = Request::builder().method(method.clone()).uri(url);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let req = b
            .body(Full::new(Bytes::new()))
            .map_err(|e| Error::new(ErrorKind::Config, format!("invalid URL {url:?}: {e}")))?;
        let work = async {
            let resp =
                self.client.request(req).await.map_err(|e| {
                    Error::new(ErrorKind::Io, format!("{method} {url}: {}", chain(&e)))
                })?;
            let status = resp.status();
            let body = Limited::new(resp.into_body(), MAX_BODY)
                .collect()
                .await
                .map_err(|e| {
                    Error::new(
                        ErrorKind::Io,
                        format!("{method} {url}: reading the response: {e}"),
                    )
                })?
                .to_bytes();
            Ok(Answer { status, body })
        };
        match tokio::time::timeout_at(deadline, work).await {
            Ok(r) => r,
            Err(_) => Err(Error::new(
                ErrorKind::Timeout,
                format!("{method} {url}: context deadline exceeded"),
            )),
        }
    }
}

/// The error and its causes, as one line (hyper's top-level message alone says little).
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}
