//! An OpenTelemetry collector as a library.
//!
//! `collector-core` holds every piece of collector logic; the `collector` binary and the C
//! ABI are thin layers over it. Payloads stay the bytes they arrived as: an OTLP export
//! request is validated once, in one pass, and then carried as reference-counted slices
//! ([`otlp::Payload`]) through batching, resource edits and export.
//!
//! # Stability
//!
//! Before 1.0 every public item may change. The wire layer in [`otlp`] is public so that
//! benchmarks, fuzz targets and embedders can use it; it is documented but unstable.
//!
//! # Features
//!
//! - `bench` (off by default): hooks for the benchmarks in `benches/` (internal stages on
//!   their own). Not an API.
//! - `test-cgroup-root` (off by default; a test hook, not for production builds): the
//!   cgroup limits are read under the directory named by `OTELCOL_CGROUP_ROOT` instead of
//!   `/sys/fs/cgroup`. Without the feature the variable is ignored.

#![deny(missing_docs)]
#![warn(unreachable_pub)]

// Lets test code shared with the fuzz targets name this crate as they do.
#[cfg(test)]
extern crate self as collector_core;

mod aws;
#[cfg(feature = "bench")]
#[doc(hidden)]
pub mod bench;
mod cgroup;
mod collector;
mod components;
mod compression;
pub mod config;
mod embed;
mod error;
mod memory;
pub mod otlp;
pub(crate) mod pipeline;
pub(crate) mod server;
mod storage;
pub(crate) mod telemetry;
pub(crate) mod tls;

pub use cgroup::worker_threads;
pub use collector::{Collector, CollectorHandle, ShutdownReport};
pub use components::{ComponentInfo, components};
pub use config::Config;
pub use embed::EmbeddedCollector;
pub use error::{Error, ErrorKind};

/// Hands one of the collector's own log records to the collectors that ship their logs
/// over OTLP (`service::telemetry::logs::processors`). The library installs no logger:
/// whatever formats the log lines calls this for each record it writes (the `collector`
/// binary's logger does). Costs one atomic load when no collector ships its logs.
pub fn own_log(level: tracing::Level, message: &str, attributes: &[(&str, String)]) {
    telemetry::logs::record(level, message, attributes);
}

/// The three OTLP signals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Signal {
    /// Spans (`ExportTraceServiceRequest`).
    Traces,
    /// Metric data points (`ExportMetricsServiceRequest`).
    Metrics,
    /// Log records (`ExportLogsServiceRequest`).
    Logs,
}

impl Signal {
    /// All signals, in the order the Go collector lists them.
    pub const ALL: [Signal; 3] = [Signal::Traces, Signal::Metrics, Signal::Logs];

    /// The position in [`Signal::ALL`], for per-signal arrays.
    pub(crate) fn index(self) -> usize {
        match self {
            Signal::Traces => 0,
            Signal::Metrics => 1,
            Signal::Logs => 2,
        }
    }

    /// The name used in configuration (`traces`, `metrics`, `logs`).
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::Traces => "traces",
            Signal::Metrics => "metrics",
            Signal::Logs => "logs",
        }
    }

    /// The item word used in metric names and logs (`spans`, `metric_points`, `log_records`).
    pub fn item_name(self) -> &'static str {
        match self {
            Signal::Traces => "spans",
            Signal::Metrics => "metric_points",
            Signal::Logs => "log_records",
        }
    }
}

impl std::fmt::Display for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Signal {
    type Err = Error;
    fn from_str(s: &str) -> Result<Signal, Error> {
        match s {
            "traces" => Ok(Signal::Traces),
            "metrics" => Ok(Signal::Metrics),
            "logs" => Ok(Signal::Logs),
            other => Err(Error::new(
                ErrorKind::InvalidData,
                format!("unknown signal {other:?} (expected traces, metrics or logs)"),
            )),
        }
    }
}
