//! The `debug` exporter: every payload rendered as text (Go's `basic`, `normal` and
//! `detailed` byte for byte, and our `tree`), to stdout or the collector's log.
//!
//! `basic`, `normal` and `detailed` reproduce the Go collector's debug exporter (v0.138)
//! byte for byte where the views carry the data, so that output, tutorials and habits
//! carry over from the Go collector. `tree` is ours: it draws each trace of a batch with
//! durations, which is what people reach for the debug exporter to see.
//!
//! One module per verbosity; `pdata` holds pdata's text for ids, times and enums, and
//! values are rendered by [`crate::otlp::text`]. Rendering is a pure function of the
//! payload: the exporter decides where the text goes and how often.

/// Appends one line; writing to a `String` cannot fail, so the result is dropped.
///
/// Defined before the modules below so that they see it (`macro_rules!` scoping is textual).
macro_rules! ln {
    ($out:expr, $($arg:tt)*) => {{
        let _ = writeln!($out, $($arg)*);
    }};
}

mod basic;
mod detailed;
#[cfg(test)]
mod fixtures;
mod normal;
mod pdata;
mod tree;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::config::Kind;
use crate::config::component::{ComponentConfig, ComponentType, ConfigFactory, decode};
use crate::config::validate::{Problems, Validate};
use crate::pipeline::build::{Build, Context, Factory};
use crate::pipeline::exporter::queue::QueueConfig;
use crate::pipeline::exporter::retry::RetryConfig;
use crate::pipeline::exporter::{BoxFuture, ExportError, Exporter, ExporterRuntime};
use crate::{Error, Signal};

/// One payload rendered for the debug exporter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rendered {
    /// The one-line count Go logs for every batch (the whole `basic` output).
    pub(crate) summary: String,
    /// The multi-line body for `normal`, `detailed` and `tree`; every line ends in `\n`.
    pub(crate) detail: Option<String>,
}

/// One payload rendered for the debug exporter: Go logs the summary for every batch and
/// the detail, when the verbosity asks for one, after it.
pub(crate) fn render(payload: &crate::otlp::Payload, verbosity: Verbosity) -> Rendered {
    let detail = match verbosity {
        Verbosity::Basic => None,
        Verbosity::Normal => Some(normal::normal(payload)),
        Verbosity::Detailed => Some(detailed::detailed(payload)),
        // A tree needs parent links, which only spans have.
        Verbosity::Tree => Some(match payload.signal() {
            Signal::Traces => tree::tree(payload),
            Signal::Logs | Signal::Metrics => normal::normal(payload),
        }),
    };
    Rendered {
        summary: basic::summary(payload),
        detail,
    }
}

/// The `debug` exporter type.
pub(crate) static FACTORY: Factory = Factory {
    config: ConfigFactory {
        kind: Kind::Exporter,
        name: "debug",
        aliases: &[],
        signals: &Signal::ALL,
        decode: decode::<DebugConfig>,
    },
    build: Build::Exporter(build),
};

fn build(ctx: &Context<'_>, cfg: &dyn ComponentConfig) -> Result<Arc<ExporterRuntime>, Error> {
    let cfg = cfg.get::<DebugConfig>()?;
    // Printing does not fail: nothing to retry.
    let no_retry = RetryConfig {
        enabled: false,
        ..RetryConfig::default()
    };
    Ok(ctx.exporter(
        Arc::new(DebugExporter::new(ctx.id, cfg)),
        &cfg.sending_queue,
        &no_retry,
    ))
}

impl ComponentType for DebugConfig {}

/// How much the debug exporter prints. Go's `configtelemetry.Level.UnmarshalText`
/// lower-cases the value, so `Detailed` and `DETAILED` are read too (the spellings
/// configs use; the aliases keep the key path in errors, which a hand-written
/// case-folding reader would lose).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Verbosity {
    /// One summary line per batch.
    #[default]
    #[serde(alias = "Basic", alias = "BASIC")]
    Basic,
    /// One line per item.
    #[serde(alias = "Normal", alias = "NORMAL")]
    Normal,
    /// Every field of every item.
    #[serde(alias = "Detailed", alias = "DETAILED")]
    Detailed,
    /// Each batch's spans drawn as trees with durations (our addition).
    #[serde(alias = "Tree", alias = "TREE")]
    Tree,
}

/// `debug` exporter configuration (Go `exporter/debugexporter`, v0.138).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct DebugConfig {
    /// `basic`, `normal`, `detailed` or `tree`.
    pub verbosity: Verbosity,
    /// Batches printed per second before sampling starts.
    pub sampling_initial: i64,
    /// After that, print every n-th batch in the second.
    pub sampling_thereafter: i64,
    /// Print through the collector's logger (stderr) rather than to stdout.
    pub use_internal_logger: bool,
    /// The exporter's own queue (a slow terminal never blocks other exporters).
    pub sending_queue: QueueConfig,
}

impl Default for DebugConfig {
    fn default() -> Self {
        DebugConfig {
            verbosity: Verbosity::Basic,
            sampling_initial: 2,
            sampling_thereafter: 1,
            use_internal_logger: true,
            sending_queue: QueueConfig {
                queue_size: 1,
                ..QueueConfig::default()
            },
        }
    }
}

impl Validate for DebugConfig {
    fn validate(&self, p: &mut Problems) {
        if self.sampling_initial < 0 {
            p.key("sampling_initial", "sampling_initial must not be negative");
        }
        if self.sampling_thereafter < 0 {
            p.key(
                "sampling_thereafter",
                "sampling_thereafter must not be negative",
            );
        }
        let mut q = Problems::default();
        self.sending_queue.validate(&mut q);
        p.nested("sending_queue", q);
    }
}

/// The debug exporter at run time: renders each payload and writes it to the collector's
/// log (stderr) or to stdout, sampled per second as Go's zap sampler does.
pub(crate) struct DebugExporter {
    id: String,
    verbosity: Verbosity,
    use_internal_logger: bool,
    initial: u64,
    thereafter: u64,
    window: parking_lot::Mutex<(std::time::Instant, u64)>,
}

impl DebugExporter {
    pub(crate) fn new(id: &str, cfg: &DebugConfig) -> DebugExporter {
        DebugExporter {
            id: id.to_owned(),
            verbosity: cfg.verbosity,
            use_internal_logger: cfg.use_internal_logger,
            initial: cfg.sampling_initial.max(0) as u64,
            thereafter: cfg.sampling_thereafter.max(0) as u64,
            window: parking_lot::Mutex::new((std::time::Instant::now(), 0)),
        }
    }

    /// The first `initial` batches of each second are printed, then every `thereafter`-th.
    fn sampled(&self) -> bool {
        let mut w = self.window.lock();
        let now = std::time::Instant::now();
        if now.duration_since(w.0) >= std::time::Duration::from_secs(1) {
            *w = (now, 0);
        }
        w.1 += 1;
        let n = w.1;
        n <= self.initial
            || (self.thereafter > 0 && (n - self.initial).is_multiple_of(self.thereafter))
    }
}

impl Exporter for DebugExporter {
    fn export<'a>(
        &'a self,
        payload: &'a crate::otlp::Payload,
    ) -> BoxFuture<'a, Result<(), ExportError>> {
        if self.sampled() {
            let r = render(payload, self.verbosity);
            if self.use_internal_logger {
                tracing::info!(exporter = %self.id, "{}", r.summary);
                if let Some(d) = r.detail {
                    tracing::info!(exporter = %self.id, "{}", d.trim_end());
                }
            } else {
                use std::io::Write as _;
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{}", r.summary);
                if let Some(d) = r.detail {
                    let _ = write!(out, "{d}");
                }
            }
        }
        Box::pin(async { Ok(()) })
    }
}
