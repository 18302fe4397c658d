//! Listening: binding endpoints the way the Go collector names them, and serving HTTP/1.1
//! and HTTP/2 (cleartext) with hyper, with graceful shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener as StdListener, ToSocketAddrs};
use std::time::Duration;

use http::{Request, Response};
use hyper::body::{Body, Incoming};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// HTTP/2 flow-control windows and frame size the servers advertise.
const H2_STREAM_WINDOW: u32 = 1 << 20;
const H2_CONNECTION_WINDOW: u32 = 2 << 20;
const H2_MAX_FRAME: u32 = 256 << 10;

/// The addresses an endpoint binds. `localhost` binds 127.0.0.1 and, where available,
/// ::1 (never only ::1); an empty host binds every interface.
pub(crate) fn addresses(endpoint: &str) -> io::Result<Vec<SocketAddr>> {
    let bad = || {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("invalid endpoint {endpoint:?}: expected host:port"),
        )
    };
    let (host, port) = endpoint.rsplit_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Ok(match host {
        "localhost" => vec![
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port),
        ],
        "" => vec![SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port)],
        h => match h.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => (h, port).to_socket_addrs()?.take(1).collect(),
        },
    })
}

/// Binds an endpoint now (so the port is open when start returns). For `localhost` the
/// IPv6 loopback is best effort.
pub(crate) fn bind(endpoint: &str) -> io::Result<Vec<StdListener>> {
    let addrs = addresses(endpoint)?;
    let mut out = Vec::new();
    for (i, addr) in addrs.iter().enumerate() {
        match StdListener::bind(addr) {
            Ok(l) => {
                l.set_nonblocking(true)?;
                out.push(l);
            }
            // `localhost`'s second address (::1) may not exist here.
            Err(_) if i > 0 => {}
            Err(e) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("cannot listen on {endpoint} ({addr}): {e}"),
                ));
            }
        }
    }
    Ok(out)
}

/// HTTP serving options.
#[derive(Clone, Debug, Default)]
pub(crate) struct ServeOptions {
    /// Serve HTTP/2 only (gRPC).
    pub(crate) http2_only: bool,
    /// HTTP/1 header read timeout, which hyper also applies to idle keep-alive
    /// connections waiting for their next request.
    pub(crate) header_read_timeout: Option<Duration>,
    /// HTTP/2 concurrent streams per connection.
    pub(crate) max_concurrent_streams: Option<u32>,
    /// HTTP/2 keepalive ping interval and timeout.
    pub(crate) keepalive: Option<(Duration, Duration)>,
    /// TLS, when configured.
    pub(crate) tls: Option<std::sync::Arc<rustls::ServerConfig>>,
}

/// How long a client may take to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A running server: stop it with [`ServerHandle::shutdown`].
#[derive(Debug)]
pub(crate) struct ServerHandle {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    /// The bound addresses (the real port when `:0` was asked for).
    pub(crate) local_addrs: Vec<SocketAddr>,
}

impl ServerHandle {
    /// Stops accepting, lets in-flight requests finish (up to `grace`), then closes.
    pub(crate) async fn shutdown(self, grace: Duration) {
        let _ = self.stop.send(true);
        let all = futures_join(self.tasks);
        let _ = tokio::time::timeout(grace, all).await;
    }
}

async fn futures_join(tasks: Vec<JoinHandle<()>>) {
    for t in tasks {
        let _ = t.await;
    }
}

/// Serves `service` on `listeners` until shut down. Must be called in a tokio runtime.
pub(crate) fn serve<S, F, B>(
    listeners: Vec<StdListener>,
    opts: ServeOptions,
    service: S,
) -> io::Result<ServerHandle>
where
    S: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<B>> + Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (stop, stopped) = watch::channel(false);
    let mut tasks = Vec::new();
    let mut local_addrs = Vec::new();
    for l in listeners {
        local_addrs.push(l.local_addr()?);
        let listener = TcpListener::from_std(l)?;
        let service = service.clone();
        let opts = opts.clone();
        let mut stopped = stopped.clone();
        tasks.push(tokio::spawn(async move {
            let mut builder = auto::Builder::new(TokioExecutor::new());
            if opts.http2_only {
                builder = builder.http2_only();
            }
            {
                let mut h1 = builder.http1();
                h1.timer(TokioTimer::new());
                h1.header_read_timeout(opts.header_read_timeout);
            }
            {
                let mut h2 = builder.http2();
                h2.timer(TokioTimer::new());
                h2.max_concurrent_streams(opts.max_concurrent_streams);
                // Windows of 1 MiB per stream and 2 MiB per connection let a typical
                // request arrive without a WINDOW_UPDATE round trip every 64 KiB (the
                // default), and larger frames cut per-frame work. These bytes sit in h2's
                // buffers before admission, so they bound what a connection holds
                // unaccounted (docs/runtime.md).
                h2.initial_stream_window_size(H2_STREAM_WINDOW)
                    .initial_connection_window_size(H2_CONNECTION_WINDOW)
                    .max_frame_size(H2_MAX_FRAME);
                if let Some((interval, timeout)) = opts.keepalive {
                    h2.keep_alive_interval(interval).keep_alive_timeout(timeout);
                }
            }
            let builder = std::sync::Arc::new(builder);
            let tls = opts.tls.clone().map(tokio_rustls::TlsAcceptor::from);
            let graceful = hyper_util::server::graceful::GracefulShutdown::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((stream, _peer)) = accepted else {
                            // Out of file descriptors or similar: back off briefly.
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        };
                        let _ = stream.set_nodelay(true);
                        let svc = service.clone();
                        let hyper_svc = hyper::service::service_fn(move |req| {
                            let fut = svc(req);
                            async move { Ok::<_, Infallible>(fut.await) }
                        });
                        let watcher = graceful.watcher();
                        let builder = builder.clone();
                        let tls = tls.clone();
                        tokio::spawn(async move {
                            match tls {
                                None => {
                                    let conn = builder
                                        .serve_connection(TokioIo::new(stream), hyper_svc)
                                        .into_owned();
                                    let _ = watcher.watch(conn).await;
                                }
                                Some(acceptor) => {
                                    let Ok(Ok(tls_stream)) = tokio::time::timeout(
                                        HANDSHAKE_TIMEOUT,
                                        acceptor.accept(stream),
                                    )
                                    .await
                                    else {
                                        return;
                                    };
                                    let conn = builder
                                        .serve_connection(TokioIo::new(tls_stream), hyper_svc)
                                        .into_owned();
                                    let _ = watcher.watch(conn).await;
                                }
                            }
                        });
                    }
                    _ = stopped.changed() => break,
                }
            }
            drop(listener);
            graceful.shutdown().await;
        }));
    }
    Ok(ServerHandle {
        stop,
        tasks,
        local_addrs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn localhost_binds_ipv4_loopback_first() {
        let a = addresses("localhost:4317").unwrap();
        assert_eq!(a[0], "127.0.0.1:4317".parse().unwrap());
        assert_eq!(a[1], "[::1]:4317".parse().unwrap());
        assert_eq!(addresses(":80").unwrap()[0], "0.0.0.0:80".parse().unwrap());
        assert_eq!(addresses("[::1]:9").unwrap()[0], "[::1]:9".parse().unwrap());
        assert!(addresses("nope").is_err());
        assert!(addresses("host:port").is_err());
    }

    #[test]
    fn bind_port_zero_and_conflicts() {
        let a = bind("127.0.0.1:0").unwrap();
        let port = a[0].local_addr().unwrap().port();
        let err = bind(&format!("127.0.0.1:{port}")).unwrap_err();
        assert!(err.to_string().contains("cannot listen on"), "{err}");
    }
}
