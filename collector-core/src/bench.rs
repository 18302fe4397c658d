//! Hooks for the benchmarks in `benches/`: internal stages the public API does not expose
//! on their own. Not a stable API; hidden from the docs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::exporters::Tally;
use crate::memory::Budget;
use crate::otlp::Payload;
use crate::pipeline::{Consumer, Processor, Refusal};
use crate::processors::batch::{BatchConfig, BatchProcessor};
use crate::processors::memory_limiter::{LimiterState, MemoryLimiter, MemoryLimiterConfig};
use crate::telemetry::Registry;
use crate::{Error, Signal};

/// Counts and drops what reaches it (an exporter queue that is never full).
struct Null(Arc<AtomicU64>);

impl Consumer for Null {
    fn consume(&self, p: Payload) -> Result<(), Refusal> {
        self.0.fetch_add(p.items(), Ordering::Relaxed);
        Ok(())
    }
}

/// `memory_limiter -> batch -> (null)`, as a pipeline builds them.
pub struct LimiterBatch {
    chain: Arc<dyn Consumer>,
    processors: Vec<Arc<dyn Processor>>,
    delivered: Arc<AtomicU64>,
}

impl std::fmt::Debug for LimiterBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LimiterBatch").finish_non_exhaustive()
    }
}

impl LimiterBatch {
    /// Builds and starts the two processors; must run inside a tokio runtime.
    ///
    /// # Errors
    ///
    /// When the limiter's configuration is invalid.
    pub fn new(signal: Signal, limit_mib: u32, batch: &BatchConfig) -> Result<Self, Error> {
        let registry = Registry::default();
        let budget = Budget::new(usize::MAX);
        let delivered = Arc::new(AtomicU64::new(0));
        let batch: Arc<dyn Processor> = Arc::new(BatchProcessor::new(
            "batch",
            signal,
            batch,
            Arc::new(Null(delivered.clone())),
            budget.clone(),
            Arc::new(Tally::default()),
            &registry,
        ));
        let cfg = MemoryLimiterConfig {
            check_interval: crate::config::Duration::from_secs(1),
            limit_mib,
            ..MemoryLimiterConfig::default()
        };
        let state = LimiterState::new(&cfg, budget)?;
        let limiter: Arc<dyn Processor> = Arc::new(MemoryLimiter::new(
            "memory_limiter",
            signal,
            state,
            batch.clone(),
            &registry,
        ));
        for p in [&limiter, &batch] {
            p.start();
        }
        Ok(LimiterBatch {
            chain: limiter.clone(),
            processors: vec![limiter, batch],
            delivered,
        })
    }

    /// Offers a payload; false when refused.
    pub fn consume(&self, p: Payload) -> bool {
        self.chain.consume(p).is_ok()
    }

    /// Items that came out of the batch processor.
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
    exporter: Arc<dyn crate::exporters::Exporter>,
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
        let mut cfg = crate::exporters::otlp::OtlpGrpcExporterConfig {
            endpoint: endpoint.to_owned(),
            compression: compression.to_owned(),
            ..Default::default()
        };
        cfg.tls.insecure = true;
        let e = crate::exporters::otlp::grpc::GrpcExporter::new(
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
        let cfg = crate::exporters::otlp::OtlpHttpExporterConfig {
            endpoint: endpoint.to_owned(),
            compression: compression.to_owned(),
            ..Default::default()
        };
        let e = crate::exporters::otlp::http::HttpExporter::new(
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
