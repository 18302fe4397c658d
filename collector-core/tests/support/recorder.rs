//! A recording HTTP endpoint on 127.0.0.1: answers every request by a route function, after
//! an optional delay, and keeps what it saw. While its gate is closed it records requests
//! and holds their answers. The tests' stand-ins for metadata services (ECS, IMDS), AWS
//! credential endpoints and S3.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use parking_lot::Mutex;
use tokio::net::TcpListener;

/// One request the endpoint saw.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Seen {
    /// A header's value, if present and text.
    pub fn header(&self, k: &str) -> Option<&str> {
        self.headers.get(k).and_then(|v| v.to_str().ok())
    }
}

/// How the endpoint answers: status and body.
pub type Route = fn(&Seen) -> (u16, String);

/// A running endpoint.
pub struct Recorder {
    /// Where it listens.
    pub addr: std::net::SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    gate: tokio::sync::watch::Sender<bool>,
}

impl Recorder {
    /// Listens on 127.0.0.1:`port` (0: any free port), answering by `route` at once.
    pub async fn start(port: u16, route: Route) -> Recorder {
        Recorder::start_with_delay(port, Duration::ZERO, route).await
    }

    /// Listens on 127.0.0.1:`port`, answering by `route` after `delay`.
    pub async fn start_with_delay(port: u16, delay: Duration, route: Route) -> Recorder {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let gate = tokio::sync::watch::channel(true).0;
        let gate_rx = gate.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let log = log.clone();
                let gate_rx = gate_rx.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                        let log = log.clone();
                        let mut gate = gate_rx.subscribe();
                        async move {
                            let (parts, body) = req.into_parts();
                            // Read the body so that a client sees its upload finish.
                            let body = body.collect().await.map(|c| c.to_bytes());
                            let s = Seen {
                                method: parts.method.to_string(),
                                path: parts.uri.path().to_owned(),
                                headers: parts.headers,
                                body: body.unwrap_or_default(),
                            };
                            log.lock().push(s.clone());
                            let _ = gate.wait_for(|open| *open).await;
                            tokio::time::sleep(delay).await;
                            let (status, body) = route(&s);
                            Ok::<_, Infallible>(
                                Response::builder()
                                    .status(status)
                                    .header("etag", "\"0123\"")
                                    .body(Full::new(Bytes::from(body)))
                                    .unwrap(),
                            )
                        }
                    });
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Recorder { addr, seen, gate }
    }

    /// Every request seen so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().clone()
    }

    /// Holds every answer until [`open`](Self::open).
    pub fn close(&self) {
        self.gate.send_replace(false);
    }

    /// Answers again (and the held ones).
    pub fn open(&self) {
        self.gate.send_replace(true);
    }
}
