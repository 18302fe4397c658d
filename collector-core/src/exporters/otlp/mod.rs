//! The `otlp` exporter (alias `otlp_grpc`): OTLP over gRPC, on hyper's HTTP/2.
//!
//! It sends a payload's chunks as they are (a vectored body of the received slices), or one
//! compressed buffer; nothing is decoded or re-encoded on the way out. What it shares with
//! `otlphttp` (the client, the chunked body) is in `pipeline/exporter/client.rs`.

mod config;
mod grpc;

use std::sync::Arc;

pub(crate) use config::OtlpGrpcExporterConfig;
#[cfg(feature = "bench")]
pub(crate) use grpc::GrpcExporter;

use crate::config::Kind;
use crate::config::component::{ComponentConfig, ConfigFactory, decode};
use crate::pipeline::build::{Build, Context, Factory};
use crate::pipeline::exporter::ExporterRuntime;
use crate::{Error, Signal};

/// The `otlp` exporter type.
pub(crate) static FACTORY: Factory = Factory {
    config: ConfigFactory {
        kind: Kind::Exporter,
        name: "otlp",
        aliases: &["otlp_grpc"],
        signals: &Signal::ALL,
        decode: decode::<OtlpGrpcExporterConfig>,
    },
    build: Build::Exporter(build),
};

fn build(ctx: &Context<'_>, cfg: &dyn ComponentConfig) -> Result<Arc<ExporterRuntime>, Error> {
    let cfg = cfg.get::<OtlpGrpcExporterConfig>()?;
    let exporter = grpc::GrpcExporter::new(ctx.id, ctx.signal, cfg, ctx.registry)?;
    Ok(ctx.exporter(
        Arc::new(exporter),
        &cfg.sending_queue,
        &cfg.retry_on_failure,
    ))
}
