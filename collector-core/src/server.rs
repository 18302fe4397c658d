//! Listening: binding endpoints the way the Go collector names them, and serving HTTP/1.1
//! and HTTP/2 (cleartext) with hyper, with graceful shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener as StdListener, ToSocketAddrs};
use std::sync::Arc;
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
        match listen(*addr) {
            Ok(l) => out.push(l),
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

/// The accept queue asked for: what Go's `net.Listen` asks (the kernel's `somaxconn`, to
/// which larger values are clamped). std's 128 makes a burst of connections wait for SYN
/// retransmissions, a second or more each.
const BACKLOG: u32 = 4096;

/// A non-blocking listener on `addr` with [`BACKLOG`].
fn listen(addr: SocketAddr) -> io::Result<StdListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    // As std and Go do on Unix: a restarted collector can bind while connections of its
    // predecessor linger in TIME_WAIT.
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG as i32)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// HTTP serving options.
#[derive(Clone, Debug)]
pub(crate) struct ServeOptions {
    /// Serve HTTP/2 only (gRPC).
    pub(crate) http2_only: bool,
    /// HTTP/1 header read timeout, which hyper also applies to idle keep-alive
    /// connections waiting for their next request.
    pub(crate) header_read_timeout: Option<Duration>,
    /// HTTP/2 concurrent streams per connection.
    pub(crate) max_concurrent_streams: u32,
    /// HTTP/2 keepalive ping interval and timeout.
    pub(crate) keepalive: Option<(Duration, Duration)>,
    /// TLS, when configured.
    pub(crate) tls: Option<std::sync::Arc<rustls::ServerConfig>>,
    /// Connections open at once on this server (all its listeners); past it, a new
    /// connection is accepted and closed at once.
    pub(crate) max_connections: usize,
    /// A connection must send its first request (for HTTP/2, the preface and a request)
    /// within this, or it is closed.
    pub(crate) first_request_timeout: Duration,
    /// A connection with no request in flight for this long is closed (HTTP/2 with a
    /// GOAWAY; HTTP/1 keep-alive waits are bounded by `header_read_timeout`).
    pub(crate) idle_timeout: Option<Duration>,
    /// Where each connection's cost is reserved (receivers' servers; none for the health
    /// and metrics endpoints, which hold no telemetry). The reservation is made whatever
    /// the limit: a full budget refuses requests with a retryable answer the client
    /// understands, not connections; `max_connections` bounds what connections take.
    pub(crate) budget: Option<crate::memory::Budget>,
    /// Counters for connections refused and closed early.
    pub(crate) metrics: ConnMetrics,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            http2_only: false,
            header_read_timeout: Some(Duration::from_secs(60)),
            max_concurrent_streams: HTTP_MAX_STREAMS,
            keepalive: None,
            tls: None,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            first_request_timeout: Duration::from_secs(60),
            idle_timeout: Some(Duration::from_secs(60)),
            budget: None,
            metrics: ConnMetrics::default(),
        }
    }
}

/// The connection limit of each listener when `max_connections` is not set (ours).
pub(crate) const DEFAULT_MAX_CONNECTIONS: usize = 1000;

/// HTTP/2 streams per connection on HTTP servers, as Go's net/http (`http2` package's
/// `defaultMaxStreams`).
pub(crate) const HTTP_MAX_STREAMS: u32 = 250;

/// What a connection is charged on the budget while it has not sent anything: its socket
/// and a small task, no buffers (they are built when the first byte arrives). Measured at
/// 2.2 KiB of RSS per connection over 2,000 idle ones; charged at the bound we promise.
pub(crate) const CONN_IDLE_COST: usize = 4 << 10;

/// What a connection is charged more once it is served: hyper's buffers and, for HTTP/2,
/// the header tables and stream state. Measured at 17 KiB (HTTP/2) and 22 KiB (HTTP/1.1
/// after a request) of RSS per connection; request bodies are reserved on their own.
pub(crate) const CONN_SERVED_COST: usize = 24 << 10;

/// Connection counters of one server (ours; labels chosen by the caller).
#[derive(Clone, Debug, Default)]
pub(crate) struct ConnMetrics {
    /// Accepted and closed at once: over `max_connections`.
    pub(crate) over_limit: crate::telemetry::Counter,
    /// Closed for sending no request in time.
    pub(crate) timed_out: crate::telemetry::Counter,
    /// Closed for being idle.
    pub(crate) idle_closed: crate::telemetry::Counter,
    /// Open now.
    pub(crate) open: crate::telemetry::Gauge,
}

impl ConnMetrics {
    /// The counters of a server, labelled with `labels`.
    pub(crate) fn new(registry: &crate::telemetry::Registry, labels: &[(&str, &str)]) -> Self {
        let refused = |reason: &str| {
            let mut l = labels.to_vec();
            l.push(("reason", reason));
            registry.counter(
                "otelcol_receiver_connections_refused",
                "Connections accepted and closed at once, by reason (ours): over max_connections.",
                &l,
            )
        };
        let closed = |reason: &str| {
            let mut l = labels.to_vec();
            l.push(("reason", reason));
            registry.counter(
                "otelcol_receiver_connections_closed",
                "Connections the receiver closed: no request in time, or idle (ours).",
                &l,
            )
        };
        ConnMetrics {
            over_limit: refused("max_connections"),
            timed_out: closed("no_request"),
            idle_closed: closed("idle"),
            open: registry.gauge(
                "otelcol_receiver_connections_open",
                "Connections open now (ours).",
                labels,
            ),
        }
    }
}

/// How long a client may take to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A server's state as its tasks see it.
const RUNNING: u8 = 0;
/// Stop accepting; connections finish their requests and close.
const STOPPING: u8 = 1;
/// Close every connection now.
const KILLED: u8 = 2;

/// A running server: stop it with [`ServerHandle::shutdown`].
#[derive(Debug)]
pub(crate) struct ServerHandle {
    stop: watch::Sender<u8>,
    tasks: Vec<JoinHandle<()>>,
    /// The bound addresses (the real port when `:0` was asked for).
    pub(crate) local_addrs: Vec<SocketAddr>,
}

impl ServerHandle {
    /// Stops at once: no drain (a start that failed half way).
    pub(crate) fn abort(self) {
        let _ = self.stop.send(KILLED);
        for t in &self.tasks {
            t.abort();
        }
    }

    /// Stops accepting, lets in-flight requests finish (up to `grace`), then closes.
    pub(crate) async fn shutdown(self, grace: Duration) {
        let _ = self.stop.send(STOPPING);
        let mut tasks = self.tasks;
        let all = crate::pipeline::join_in_order(&mut tasks);
        if tokio::time::timeout(grace, all).await.is_err() {
            // Past the grace: connections still open are closed now.
            let _ = self.stop.send(KILLED);
            let all = crate::pipeline::join_in_order(&mut tasks);
            if tokio::time::timeout(Duration::from_millis(100), all)
                .await
                .is_err()
            {
                for t in &tasks {
                    t.abort();
                }
            }
        }
    }
}

/// Requests in flight on one connection, and when it last had none.
struct Activity {
    state: parking_lot::Mutex<(usize, tokio::time::Instant)>,
    served: std::sync::atomic::AtomicBool,
    changed: tokio::sync::Notify,
}

impl Activity {
    fn new() -> Arc<Activity> {
        Arc::new(Activity {
            state: parking_lot::Mutex::new((0, tokio::time::Instant::now())),
            served: std::sync::atomic::AtomicBool::new(false),
            changed: tokio::sync::Notify::new(),
        })
    }

    fn enter(self: &Arc<Self>) -> ActiveRequest {
        self.state.lock().0 += 1;
        self.served
            .store(true, std::sync::atomic::Ordering::Release);
        self.changed.notify_waiters();
        ActiveRequest(self.clone())
    }

    /// `None` while requests are in flight, else when the connection became idle.
    fn idle_since(&self) -> Option<tokio::time::Instant> {
        let s = self.state.lock();
        (s.0 == 0).then_some(s.1)
    }
}

/// A request in flight: leaving it (drop) may make the connection idle.
struct ActiveRequest(Arc<Activity>);

impl Drop for ActiveRequest {
    fn drop(&mut self) {
        let mut s = self.0.state.lock();
        s.0 = s.0.saturating_sub(1);
        if s.0 == 0 {
            s.1 = tokio::time::Instant::now();
        }
        drop(s);
        self.0.changed.notify_waiters();
    }
}

/// What every connection of one server shares.
struct Shared<S> {
    builder: auto::Builder<TokioExecutor>,
    service: S,
    opts: ServeOptions,
    tls: Option<tokio_rustls::TlsAcceptor>,
    open: std::sync::atomic::AtomicUsize,
    /// Woken when a connection closes (shutdown waits for the last).
    closed: tokio::sync::Notify,
}

/// A slot among `max_connections`, with the connection's reservation: both released when
/// the connection's task ends, however it ends.
struct Slot<S> {
    shared: Arc<Shared<S>>,
    reservation: Option<crate::memory::Reservation>,
}

impl<S> Drop for Slot<S> {
    fn drop(&mut self) {
        let left = self
            .shared
            .open
            .fetch_sub(1, std::sync::atomic::Ordering::AcqRel)
            - 1;
        self.shared.opts.metrics.open.set(left as i64);
        self.shared.closed.notify_waiters();
    }
}

/// Serves `service` on `listeners` until shut down. Must be called in a tokio runtime.
///
/// Each connection costs a small task and its socket until its first bytes arrive; only
/// then are hyper's buffers built. A connection that sends no request within
/// `first_request_timeout`, or stays idle past `idle_timeout`, is closed; past
/// `max_connections` (or without budget for it) a new connection is closed at once.
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
    let (stop, stopped) = watch::channel(RUNNING);
    let mut tasks = Vec::new();
    let mut local_addrs = Vec::new();
    let shared = Arc::new(Shared {
        builder: builder(&opts),
        service,
        tls: opts.tls.clone().map(tokio_rustls::TlsAcceptor::from),
        opts,
        open: std::sync::atomic::AtomicUsize::new(0),
        closed: tokio::sync::Notify::new(),
    });
    for l in listeners {
        local_addrs.push(l.local_addr()?);
        let listener = TcpListener::from_std(l)?;
        let shared = shared.clone();
        let mut stopped = stopped.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((stream, _peer)) = accepted else {
                            // Out of file descriptors or similar: back off briefly.
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        };
                        let Some(slot) = admit(&shared) else {
                            // Dropping the stream closes it.
                            continue;
                        };
                        let _ = stream.set_nodelay(true);
                        tokio::spawn(connection(stream, slot, stopped.clone()));
                    }
                    _ = stopped.changed() => break,
                }
            }
            drop(listener);
            // The connections saw the stop too and are finishing their requests (or are
            // closing at once, when killed).
            loop {
                let closed = shared.closed.notified();
                tokio::pin!(closed);
                closed.as_mut().enable();
                if shared.open.load(std::sync::atomic::Ordering::Acquire) == 0 {
                    break;
                }
                tokio::select! {
                    _ = closed => {}
                    _ = stopped.wait_for(|s| *s == KILLED) => break,
                }
            }
        }));
    }
    Ok(ServerHandle {
        stop,
        tasks,
        local_addrs,
    })
}

fn builder(opts: &ServeOptions) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    if opts.http2_only {
        builder = builder.http2_only();
    }
    {
        let mut h1 = builder.http1();
        h1.timer(TokioTimer::new());
        h1.header_read_timeout(opts.header_read_timeout);
        // Headers past 64 KiB are refused rather than buffered (hyper's default
        // allows ~400 KiB per connection).
        h1.max_buf_size(64 << 10);
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
            .max_frame_size(H2_MAX_FRAME)
            .max_header_list_size(64 << 10);
        if let Some((interval, timeout)) = opts.keepalive {
            h2.keep_alive_interval(interval).keep_alive_timeout(timeout);
        }
    }
    builder
}

/// A slot for a new connection, or `None` (counted) when the server is full.
fn admit<S>(shared: &Arc<Shared<S>>) -> Option<Slot<S>> {
    let opts = &shared.opts;
    let open = shared
        .open
        .fetch_add(1, std::sync::atomic::Ordering::AcqRel)
        + 1;
    // The slot is built first so that every way out gives the count back.
    let mut slot = Slot {
        shared: shared.clone(),
        reservation: None,
    };
    if open > opts.max_connections {
        opts.metrics.over_limit.add(1);
        return None;
    }
    slot.reservation = opts
        .budget
        .as_ref()
        .map(|b| b.force_reserve(CONN_IDLE_COST));
    opts.metrics.open.set(open as i64);
    Some(slot)
}

/// One connection, from its first byte to its close.
async fn connection<S, F, B>(
    stream: tokio::net::TcpStream,
    mut slot: Slot<S>,
    mut stopped: watch::Receiver<u8>,
) where
    S: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<B>> + Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let shared = slot.shared.clone();
    let opts = &shared.opts;
    let started = tokio::time::Instant::now();
    let first_deadline = started + opts.first_request_timeout;
    // Nothing is built for a connection until it sends something: an idle flood costs
    // sockets and small tasks, not buffers. (`readable()` alone is not enough: a new
    // socket reports readiness at once; peeking waits for a byte, or the close.)
    let mut first = [0u8; 1];
    tokio::select! {
        r = tokio::time::timeout_at(first_deadline, stream.peek(&mut first)) => {
            match r {
                Ok(Ok(n)) if n > 0 => {}
                // Closed before a byte: nothing to count.
                Ok(Ok(_)) | Ok(Err(_)) => return,
                Err(_) => {
                    opts.metrics.timed_out.add(1);
                    return;
                }
            }
        }
        _ = stopped.changed() => return,
    }
    if let (Some(r), Some(budget)) = (&mut slot.reservation, &opts.budget) {
        let more = budget.force_reserve(CONN_SERVED_COST);
        r.absorb(more);
    }
    let activity = Activity::new();
    let svc = {
        let service = shared.service.clone();
        let activity = activity.clone();
        hyper::service::service_fn(move |req| {
            let active = activity.enter();
            let fut = service(req);
            async move {
                let resp = fut.await;
                drop(active);
                Ok::<_, Infallible>(resp)
            }
        })
    };
    match &shared.tls {
        None => {
            let conn = shared
                .builder
                .serve_connection(TokioIo::new(stream), svc)
                .into_owned();
            drive(Box::pin(conn), &activity, opts, first_deadline, stopped).await;
        }
        Some(acceptor) => {
            let Ok(Ok(tls_stream)) =
                tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
            else {
                return;
            };
            let conn = shared
                .builder
                .serve_connection(TokioIo::new(tls_stream), svc)
                .into_owned();
            drive(Box::pin(conn), &activity, opts, first_deadline, stopped).await;
        }
    }
}

/// Runs a hyper connection to its end: closes it when no request came by
/// `first_deadline`, asks it to finish (GOAWAY / `Connection: close`) when it has been idle
/// for `idle_timeout` or the server stops.
async fn drive<C>(
    mut conn: std::pin::Pin<Box<C>>,
    activity: &Activity,
    opts: &ServeOptions,
    first_deadline: tokio::time::Instant,
    mut stopped: watch::Receiver<u8>,
) where
    C: Future + GracefulConnection,
{
    let mut finishing = *stopped.borrow() != RUNNING;
    if *stopped.borrow() == KILLED {
        return;
    }
    if finishing {
        conn.as_mut().graceful();
    }
    loop {
        // Registered before the state is read, so a change in between wakes this loop.
        let changed = activity.changed.notified();
        tokio::pin!(changed);
        changed.as_mut().enable();
        let served = activity.served.load(std::sync::atomic::Ordering::Acquire);
        let idle_at = match (opts.idle_timeout, activity.idle_since()) {
            (Some(t), Some(since)) if served && !finishing => Some(since + t),
            _ => None,
        };
        tokio::select! {
            _ = conn.as_mut() => return,
            changed = stopped.changed() => {
                // A dropped handle stops the server as a kill does.
                if changed.is_err() || *stopped.borrow() == KILLED {
                    return;
                }
                if !finishing {
                    finishing = true;
                    conn.as_mut().graceful();
                }
            }
            _ = tokio::time::sleep_until(first_deadline), if !served => {
                // Not one request: close without ceremony.
                opts.metrics.timed_out.add(1);
                return;
            }
            _ = tokio::time::sleep_until(idle_at.unwrap_or(first_deadline)), if idle_at.is_some() => {
                opts.metrics.idle_closed.add(1);
                finishing = true;
                conn.as_mut().graceful();
            }
            _ = changed => {}
        }
    }
}

/// A hyper connection that can be asked to finish.
trait GracefulConnection {
    fn graceful(self: std::pin::Pin<&mut Self>);
}

impl<I, S, E> GracefulConnection for auto::Connection<'static, I, S, E>
where
    S: hyper::service::HttpService<Incoming>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    S::ResBody: Body + Send + 'static,
    <S::ResBody as Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    E: hyper::rt::bounds::Http2ServerConnExec<S::Future, S::ResBody>,
{
    fn graceful(self: std::pin::Pin<&mut Self>) {
        self.graceful_shutdown();
    }
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
