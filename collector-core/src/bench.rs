//! Hooks for the benchmarks in `benches/`: internal stages the public API does not expose
//! on their own. Not a stable API; hidden from the docs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::collector::Builder;
use crate::config::Config;
use crate::memory::Budget;
use crate::otlp::Payload;
use crate::pipeline::build::Shared;
use crate::pipeline::exporter::Exporter;
use crate::pipeline::health::Health;
use crate::pipeline::{Consumer, Processor, Refusal, Tally};
use crate::telemetry::Registry;
use crate::{Error, ErrorKind, Signal};

/// Counts and drops what reaches it (an exporter queue that is never full).
struct Null(Arc<AtomicU64>);

impl Consumer for Null {
    fn consume(&self, p: Payload) -> Result<(), Refusal> {
        self.0.fetch_add(p.items(), Ordering::Relaxed);
        Ok(())
    }
}

/// The processors of one pipeline of a configuration, built as the collector builds them,
/// in front of a sink that counts and drops (an exporter queue that is never full).
pub struct Chain {
    chain: Arc<dyn Consumer>,
    processors: Vec<Arc<dyn Processor>>,
    delivered: Arc<AtomicU64>,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain").finish_non_exhaustive()
    }
}

impl Chain {
    /// Builds and starts the processors of `pipeline` (`traces`, `logs/x`...) of `config`;
    /// must run inside a tokio runtime. The memory budget is unbounded except for what the
    /// configuration's memory limiters set.
    ///
    /// # Errors
    ///
    /// When the pipeline does not exist or a processor cannot be built.
    pub fn new(config: &Config, pipeline: &str) -> Result<Self, Error> {
        let p = config
            .service
            .pipelines
            .get(pipeline)
            .ok_or_else(|| Error::new(ErrorKind::Config, format!("no pipeline {pipeline}")))?;
        let signal = crate::collector::pipeline_signal(pipeline);
        let registry = Registry::default();
        let budget = Budget::new(usize::MAX);
        let tally = Arc::new(Tally::default());
        let builder = Builder {
            registry: &registry,
            budget: &budget,
            tally: &tally,
            health: &Health::default(),
            listeners: false,
            ingest: &parking_lot::Mutex::default(),
            shared: &Shared::default(),
            extensions: &[],
            service: &config.service,
        };
        let delivered = Arc::new(AtomicU64::new(0));
        let (chain, processors) = builder.chain(
            config,
            signal,
            &p.processors,
            Arc::new(Null(delivered.clone())),
        )?;
        for p in &processors {
            p.start();
        }
        Ok(Chain {
            chain,
            processors,
            delivered,
        })
    }

    /// Resolves once every processor is ready (resource detection has finished).
    pub async fn ready(&self) {
        for p in &self.processors {
            p.ready().await;
        }
    }

    /// Offers a payload; false when refused.
    pub fn consume(&self, p: Payload) -> bool {
        self.chain.consume(p).is_ok()
    }

    /// Items that came out of the last processor.
    pub fn delivered(&self) -> u64 {
        self.delivered.load(Ordering::Relaxed)
    }

    /// Flushes and stops the processors.
    pub async fn shutdown(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        for p in &self.processors {
            p.shutdown(deadline).await;
        }
    }
}

/// One `otlp` or `otlphttp` exporter, for timing single export attempts.
pub struct OtlpExport {
    exporter: Arc<dyn Exporter>,
}

impl std::fmt::Debug for OtlpExport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtlpExport").finish_non_exhaustive()
    }
}

impl OtlpExport {
    /// An `otlp` (gRPC, plaintext) exporter of traces to `endpoint` (`host:port`).
    ///
    /// # Errors
    ///
    /// When the configuration is invalid.
    pub fn grpc(endpoint: &str, compression: &str) -> Result<Self, Error> {
        let mut cfg = crate::components::exporters::otlp::OtlpGrpcExporterConfig {
            endpoint: endpoint.to_owned(),
            compression: compression.to_owned(),
            ..Default::default()
        };
        cfg.tls.insecure = true;
        let e = crate::components::exporters::otlp::GrpcExporter::new(
            "otlp",
            Signal::Traces,
            &cfg,
            &Registry::default(),
        )?;
        Ok(OtlpExport {
            exporter: Arc::new(e),
        })
    }

    /// An `otlphttp` exporter of traces to `endpoint` (`http://host:port`).
    ///
    /// # Errors
    ///
    /// When the configuration is invalid.
    pub fn http(endpoint: &str, compression: &str) -> Result<Self, Error> {
        let cfg = crate::components::exporters::otlphttp::OtlpHttpExporterConfig {
            endpoint: endpoint.to_owned(),
            compression: compression.to_owned(),
            ..Default::default()
        };
        let e = crate::components::exporters::otlphttp::HttpExporter::new(
            "otlphttp",
            Signal::Traces,
            &cfg,
            &Registry::default(),
        )?;
        Ok(OtlpExport {
            exporter: Arc::new(e),
        })
    }

    /// One attempt.
    ///
    /// # Errors
    ///
    /// The exporter's failure, as text.
    pub async fn export(&self, p: &Payload) -> Result<(), String> {
        self.exporter.export(p).await.map_err(|e| format!("{e:?}"))
    }
}

/// Compresses a payload's chunks as an exporter would (`gzip`, `zstd`, `snappy`), alone;
/// returns the compressed size.
pub fn compress(encoding: &str, p: &Payload) -> Option<usize> {
    let enc = crate::compression::Encoding::parse(encoding)?;
    crate::compression::compress(enc, &p.chunks())
        .ok()
        .map(|v| v.len())
}
