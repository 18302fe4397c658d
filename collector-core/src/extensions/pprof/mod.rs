//! The `pprof` extension (contrib `extension/pprofextension`, v0.138 keys): CPU profiles in
//! the pprof protobuf format that `go tool pprof` and other pprof readers open, and a heap
//! summary.
//!
//! - `/debug/pprof/profile?seconds=N` (default 30, as Go's `net/http/pprof`): samples every
//!   thread at 100 Hz for N seconds with pprof-rs (which installs a SIGPROF handler for as
//!   long as a profile runs; that is why only the `collector` binary has this extension, not
//!   the library embedders load), then answers the encoded `perftools.profiles.Profile`.
//!   One profile at a time, as in Go.
//! - `/debug/pprof/heap`: ours, not Go's: the allocator's statistics (glibc `mallinfo2`) and
//!   the collector's memory budget, as text.
//! - `save_to_file`: profiles the whole run and writes the profile there at shutdown.
//! - `block_profile_fraction` and `mutex_profile_fraction` set Go runtime rates; accepted,
//!   without effect here.

use std::time::Duration;

use bytes::Bytes;
use http::{Response, StatusCode, header};
use http_body_util::Full;
use serde::{Deserialize, Serialize};

use crate::config::Kind;
use crate::config::component::{ComponentConfig, ComponentType, ConfigFactory, decode};
use crate::config::validate::{Problems, Validate};
use crate::memory::Budget;
use crate::pipeline::BoxFuture;
use crate::pipeline::build::{Build, Context, Endpoint, Extension, Factory};
use crate::{Error, ErrorKind, Signal};

/// The `pprof` extension type.
pub(crate) static FACTORY: Factory = Factory {
    config: ConfigFactory {
        kind: Kind::Extension,
        name: "pprof",
        aliases: &[],
        signals: &Signal::ALL,
        decode: decode::<PprofConfig>,
    },
    build: Build::Extension(build),
};

/// Samples per second, as Go's CPU profiler takes them.
const FREQUENCY: i32 = 100;
/// Frames from these libraries are skipped: unwinding through them from a signal handler
/// can deadlock (pprof-rs' advice).
const BLOCKLIST: &[&str] = &["libc", "libgcc", "pthread", "vdso"];
/// Go's `net/http/pprof` default and limit.
const DEFAULT_SECONDS: u64 = 30;

/// `pprof` configuration.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct PprofConfig {
    /// `host:port` (Go's `confignet.TCPAddrConfig`).
    pub endpoint: String,
    /// Go runtime rate (accepted, no effect).
    pub block_profile_fraction: i64,
    /// Go runtime rate (accepted, no effect).
    pub mutex_profile_fraction: i64,
    /// Write a CPU profile of the whole run here at shutdown.
    pub save_to_file: String,
}

impl Default for PprofConfig {
    fn default() -> Self {
        PprofConfig {
            endpoint: "localhost:1777".to_owned(),
            block_profile_fraction: 0,
            mutex_profile_fraction: 0,
            save_to_file: String::new(),
        }
    }
}

impl ComponentType for PprofConfig {
    fn listeners(&self) -> Vec<(String, String)> {
        vec![(self.endpoint.clone(), "endpoint".to_owned())]
    }
}

impl Validate for PprofConfig {
    fn validate(&self, p: &mut Problems) {
        if self.endpoint.is_empty() {
            p.key(
                "endpoint",
                "\"endpoint\" is required when using the \"pprof\" extension",
            );
        }
        if self.block_profile_fraction < 0 {
            p.key(
                "block_profile_fraction",
                "block_profile_fraction must be >= 0",
            );
        }
        if self.mutex_profile_fraction < 0 {
            p.key(
                "mutex_profile_fraction",
                "mutex_profile_fraction must be >= 0",
            );
        }
    }
}

/// The endpoint, and the whole-run profile for `save_to_file`.
struct Pprof {
    endpoint: Endpoint,
    whole_run: parking_lot::Mutex<Option<(pprof::ProfilerGuard<'static>, String)>>,
}

impl Extension for Pprof {
    fn local_addrs(&self) -> Vec<std::net::SocketAddr> {
        self.endpoint.local_addrs()
    }

    fn shutdown(&self, grace: Duration) -> BoxFuture<'_, ()> {
        if let Some((guard, path)) = self.whole_run.lock().take() {
            match encode(&guard).and_then(|b| {
                std::fs::write(&path, b).map_err(|e| format!("cannot write {path}: {e}"))
            }) {
                Ok(()) => tracing::info!(file = %path, "CPU profile written"),
                Err(e) => tracing::warn!("pprof: {e}"),
            }
        }
        self.endpoint.shutdown(grace)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

fn build(ctx: &Context<'_>, cfg: &dyn ComponentConfig) -> Result<Box<dyn Extension>, Error> {
    let cfg = cfg.get::<PprofConfig>()?;
    let whole_run = if cfg.save_to_file.is_empty() {
        None
    } else {
        let guard = profiler()
            .map_err(|e| Error::new(ErrorKind::Internal, format!("extension {}: {e}", ctx.id)))?;
        Some((guard, cfg.save_to_file.clone()))
    };
    let budget = ctx.budget.clone();
    let endpoint = Endpoint::serve(ctx, &cfg.endpoint, None, 0, move |req| {
        let budget = budget.clone();
        async move { answer(req.uri().path(), req.uri().query(), &budget).await }
    })?;
    Ok(Box::new(Pprof {
        endpoint,
        whole_run: parking_lot::Mutex::new(whole_run),
    }))
}

fn profiler() -> Result<pprof::ProfilerGuard<'static>, String> {
    pprof::ProfilerGuardBuilder::default()
        .frequency(FREQUENCY)
        .blocklist(BLOCKLIST)
        .build()
        .map_err(|e| format!("Could not enable CPU profiling: {e}"))
}

fn encode(guard: &pprof::ProfilerGuard<'_>) -> Result<Vec<u8>, String> {
    use pprof::protos::Message;
    let report = guard.report().build().map_err(|e| e.to_string())?;
    let profile = report.pprof().map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    profile.encode(&mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

fn text(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

async fn answer(path: &str, query: Option<&str>, budget: &Budget) -> Response<Full<Bytes>> {
    match path {
        "/debug/pprof/profile" => {
            let seconds = query
                .into_iter()
                .flat_map(|q| q.split('&'))
                .find_map(|kv| kv.strip_prefix("seconds="))
                .map(str::parse::<u64>);
            let seconds = match seconds {
                None => DEFAULT_SECONDS,
                Some(Ok(s)) if s > 0 => s,
                Some(_) => {
                    return text(StatusCode::BAD_REQUEST, "invalid value for \"seconds\"\n".into());
                }
            };
            let guard = match profiler() {
                Ok(g) => g,
                Err(e) => return text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
            };
            tokio::time::sleep(Duration::from_secs(seconds)).await;
            match tokio::task::spawn_blocking(move || encode(&guard)).await {
                Ok(Ok(body)) => {
                    let mut r = Response::new(Full::new(Bytes::from(body)));
                    let h = r.headers_mut();
                    h.insert(
                        header::CONTENT_TYPE,
                        http::HeaderValue::from_static("application/octet-stream"),
                    );
                    h.insert(
                        header::CONTENT_DISPOSITION,
                        http::HeaderValue::from_static("attachment; filename=\"profile\""),
                    );
                    r
                }
                Ok(Err(e)) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
                Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
            }
        }
        "/debug/pprof/heap" => text(StatusCode::OK, heap(budget)),
        "/debug/pprof/" | "/debug/pprof" => text(
            StatusCode::OK,
            "/debug/pprof/profile?seconds=N  CPU profile (pprof protobuf)\n\
             /debug/pprof/heap               allocator statistics (text; this collector's, not Go's)\n"
                .into(),
        ),
        _ => text(StatusCode::NOT_FOUND, "404 page not found\n".into()),
    }
}

/// The allocator's view of the heap, and the budget's of the payloads.
fn heap(budget: &Budget) -> String {
    format!(
        "# heap summary (glibc mallinfo2) and the collector's memory budget\n\
         heap_in_use_bytes {}\nbudget_used_bytes {}\nbudget_limit_bytes {}\n",
        crate::cgroup::heap_in_use(),
        budget.used(),
        budget.limit()
    )
}
